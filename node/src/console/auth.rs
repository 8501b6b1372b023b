//! Who is using the console: sign-in sessions (cookies), the passkey ceremonies in progress,
//! and the checks every request passes (signed in, role, CSRF token, origin).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::json;
use signet_protocol::session::SessionId;
use webauthn_rs::prelude::{PasskeyAuthentication, PasskeyRegistration, Uuid};

use super::people::{Person, Role, b64url};
use super::{Console, Lang};
use crate::service::random_bytes;

/// The cookie that carries a sign-in.
pub(super) const COOKIE: &str = "signet_console";
/// A sign-in ends after this long without a request.
const IDLE: Duration = Duration::from_secs(30 * 60);
/// And after this long in any case.
const ABSOLUTE: Duration = Duration::from_secs(12 * 3600);
/// The most sign-ins held; the oldest is dropped beyond.
const MAX_LOGINS: usize = 10_000;
/// A ceremony (registration, sign-in, signature) must finish within this.
pub(super) const CEREMONY_TTL: Duration = Duration::from_secs(5 * 60);
/// The most ceremonies in progress; the oldest is dropped beyond.
const MAX_CEREMONIES: usize = 1000;

/// One sign-in.
#[derive(Debug, Clone)]
pub(super) struct Login {
    pub(super) person: Uuid,
    pub(super) csrf: String,
    started: Instant,
    seen: Instant,
    /// A message for the next page (kind, text).
    pub(super) flash: Option<(&'static str, String)>,
}

/// Sign-ins by the SHA-256 of their cookie value.
#[derive(Debug, Default)]
pub(super) struct Logins(BTreeMap<String, Login>);

fn hash(token: &str) -> String {
    signet_protocol::Digest::of(token.as_bytes()).to_hex()
}

/// A fresh random token (32 bytes, base64url).
pub(super) fn token() -> String {
    // The system's randomness failing leaves nothing safe to hand out; the zero fallback is
    // never a usable login: `start` refuses it.
    random_bytes().map(|b| b64url(&b)).unwrap_or_default()
}

impl Logins {
    /// Starts a sign-in for `person`; returns the cookie value.
    pub(super) fn start(&mut self, person: Uuid) -> Option<String> {
        let cookie = token();
        if cookie.is_empty() {
            return None;
        }
        let now = Instant::now();
        self.0
            .retain(|_, l| now - l.seen < IDLE && now - l.started < ABSOLUTE);
        if self.0.len() >= MAX_LOGINS
            && let Some(oldest) = self
                .0
                .iter()
                .min_by_key(|(_, l)| l.seen)
                .map(|(k, _)| k.clone())
        {
            self.0.remove(&oldest);
        }
        self.0.insert(
            hash(&cookie),
            Login {
                person,
                csrf: token(),
                started: now,
                seen: now,
                flash: None,
            },
        );
        Some(cookie)
    }

    /// The live sign-in of `cookie`, marked as seen now.
    pub(super) fn touch(&mut self, cookie: &str) -> Option<&mut Login> {
        let key = hash(cookie);
        let now = Instant::now();
        let live = self
            .0
            .get(&key)
            .is_some_and(|l| now - l.seen < IDLE && now - l.started < ABSOLUTE);
        if !live {
            self.0.remove(&key);
            return None;
        }
        let login = self.0.get_mut(&key)?;
        login.seen = now;
        Some(login)
    }

    /// Ends the sign-in of `cookie`.
    pub(super) fn end(&mut self, cookie: &str) {
        self.0.remove(&hash(cookie));
    }

    /// Ends every sign-in of `person` (removed, or their role changed).
    pub(super) fn end_person(&mut self, person: &Uuid) {
        self.0.retain(|_, l| l.person != *person);
    }
}

/// A passkey ceremony in progress.
#[derive(Debug)]
pub(super) enum Ceremony {
    /// A new person registering with an invitation.
    Register {
        invite: String,
        id: Uuid,
        label: String,
        state: PasskeyRegistration,
    },
    /// A person signing in.
    SignIn {
        person: Uuid,
        state: PasskeyAuthentication,
    },
    /// A person signing a session: the challenge the node offered.
    Sign {
        person: Uuid,
        session: SessionId,
        challenge: Vec<u8>,
    },
}

/// Ceremonies by their random id.
#[derive(Debug, Default)]
pub(super) struct Ceremonies(BTreeMap<String, (Instant, Ceremony)>);

impl Ceremonies {
    /// Holds `ceremony`; returns its id.
    pub(super) fn start(&mut self, ceremony: Ceremony) -> String {
        let now = Instant::now();
        self.0.retain(|_, (t, _)| now - *t < CEREMONY_TTL);
        if self.0.len() >= MAX_CEREMONIES
            && let Some(oldest) = self
                .0
                .iter()
                .min_by_key(|(_, (t, _))| *t)
                .map(|(k, _)| k.clone())
        {
            self.0.remove(&oldest);
        }
        let id = token();
        self.0.insert(id.clone(), (now, ceremony));
        id
    }

    /// Takes ceremony `id` if it is still live (each is finished at most once).
    pub(super) fn take(&mut self, id: &str) -> Option<Ceremony> {
        let (started, c) = self.0.remove(id)?;
        (started.elapsed() < CEREMONY_TTL).then_some(c)
    }
}

/// The value of cookie `name` in `headers`.
pub(super) fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The language of a request.
pub(super) fn lang_of(headers: &HeaderMap) -> Lang {
    Lang::pick(
        cookie(headers, "lang"),
        headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    )
}

/// The `Set-Cookie` value for a sign-in.
pub(super) fn login_cookie(console: &Console, value: &str) -> String {
    format!(
        "{COOKIE}={value}; Path=/console; HttpOnly; SameSite=Strict; Max-Age={}{}",
        ABSOLUTE.as_secs(),
        if console.secure { "; Secure" } else { "" }
    )
}

/// The `Set-Cookie` value that ends a sign-in.
pub(super) fn logout_cookie(console: &Console) -> String {
    format!(
        "{COOKIE}=; Path=/console; HttpOnly; SameSite=Strict; Max-Age=0{}",
        if console.secure { "; Secure" } else { "" }
    )
}

/// A signed-in person, for a page or an action.
#[derive(Debug, Clone)]
pub(super) struct Viewer {
    pub(super) person: Person,
    pub(super) csrf: String,
    pub(super) lang: Lang,
    /// The message the previous action left, if any.
    pub(super) flash: Option<(&'static str, String)>,
    /// The cookie value (to end the sign-in).
    pub(super) cookie: String,
}

impl Viewer {
    /// Whether the person has at least `role`.
    pub(super) fn can(&self, role: Role) -> bool {
        self.person.role >= role
    }

    /// The fields every page shows of the viewer.
    pub(super) fn context(&self) -> serde_json::Value {
        json!({
            "me": {
                "name": self.person.name,
                "role": self.person.role.name(),
                "admin": self.can(Role::Admin),
                "signer": self.can(Role::Signer),
            },
            "csrf": self.csrf,
            "flash": self.flash.as_ref().map(|(kind, text)| json!({"kind": kind, "text": text})),
        })
    }
}

/// Why a request is refused before its handler runs.
#[derive(Debug)]
pub(super) enum Refusal {
    /// Not signed in: to the sign-in page (pages) or 401 (scripts).
    SignIn { json: bool },
    /// Signed in without the role, or a failed CSRF or origin check.
    Forbidden(Lang, &'static str),
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Self::SignIn { json: true } => (
                StatusCode::UNAUTHORIZED,
                axum::Json(json!({"error": "sign in again"})),
            )
                .into_response(),
            Self::SignIn { json: false } => Redirect::to("/console/login").into_response(),
            Self::Forbidden(lang, why) => {
                let words = lang.words();
                let text = words.get(why).copied().unwrap_or(why);
                (StatusCode::FORBIDDEN, text.to_string()).into_response()
            }
        }
    }
}

fn wants_json(parts: &Parts) -> bool {
    parts
        .headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json"))
}

impl FromRequestParts<Arc<Console>> for Viewer {
    type Rejection = Refusal;

    async fn from_request_parts(
        parts: &mut Parts,
        console: &Arc<Console>,
    ) -> Result<Self, Refusal> {
        let lang = lang_of(&parts.headers);
        let json = wants_json(parts);
        let cookie = cookie(&parts.headers, COOKIE)
            .ok_or(Refusal::SignIn { json })?
            .to_string();
        let (person, csrf, flash) = {
            let mut logins = console
                .logins
                .lock()
                .map_err(|_| Refusal::SignIn { json })?;
            let login = logins.touch(&cookie).ok_or(Refusal::SignIn { json })?;
            (login.person, login.csrf.clone(), login.flash.take())
        };
        let person = console
            .people
            .get(&person)
            .ok_or(Refusal::SignIn { json })?;
        if parts.method != axum::http::Method::GET && parts.method != axum::http::Method::HEAD {
            check_origin(&parts.headers, console).map_err(|w| Refusal::Forbidden(lang, w))?;
        }
        Ok(Self {
            person,
            csrf,
            lang,
            flash,
            cookie,
        })
    }
}

/// A change must come from the console's own pages: when the browser names the origin it
/// must be ours.
pub(super) fn check_origin(headers: &HeaderMap, console: &Console) -> Result<(), &'static str> {
    match headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        Some(origin) if origin != console.origin => Err("forbidden"),
        _ => Ok(()),
    }
}

/// Checks the CSRF token a form or script sent.
pub(super) fn check_csrf(viewer: &Viewer, sent: Option<&str>) -> Result<(), Refusal> {
    match sent {
        Some(t) if constant_time_eq(t.as_bytes(), viewer.csrf.as_bytes()) => Ok(()),
        _ => Err(Refusal::Forbidden(viewer.lang, "forbidden")),
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Sets the message the next page shows.
pub(super) fn flash(console: &Console, viewer: &Viewer, kind: &'static str, text: String) {
    if let Ok(mut logins) = console.logins.lock()
        && let Some(login) = logins.touch(&viewer.cookie)
    {
        login.flash = Some((kind, text));
    }
}
