//! The web console: the node's pages for the people of the party — a manager reading and
//! signing a contract on a phone, a seal custodian giving mandates, a legal officer checking
//! evidence.
//!
//! Served by the node under `/console/` on the API's listener (loopback by default; TLS when
//! bound elsewhere, see [`crate::api::serve`]). Pages are rendered on the server
//! ([`minijinja`] templates compiled into the binary, auto-escaped) with one stylesheet and
//! one script, both vendored here: nothing is loaded from elsewhere, and the pages work
//! without JavaScript except for passkey ceremonies and upload progress.
//!
//! **Persons sign in with passkeys** (WebAuthn, through `webauthn-rs`): an administrator
//! invites a person (`signet console invite`, or the People page), the person opens the link
//! and creates a passkey; only its public key reaches the node. **Signing is the person's
//! act on their device**: the node offers the intent challenge (spec §8.4.1), the browser
//! asks the passkey to sign it (with user verification), and the node receives only the
//! assertion, which it checks, matches to a seal mandate naming that passkey, and seals on.
//! The intent method recorded is what the assertion's flags show: `hardware-token` only for
//! a credential the authenticator reported as not backup-eligible, `passkey` otherwise.
//!
//! Roles: readers read; signers also act in sessions; administrators also manage mandates,
//! attestations, peers and people. Sessions are cookies (`HttpOnly`, `SameSite=Strict`,
//! `Secure` over TLS) with a CSRF token on every change, and the `Origin` of every change is
//! checked. Pages are in Chinese or English, by the browser's language.

mod auth;
mod i18n;
mod pages;
mod passkeys;
pub mod people;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde_json::Value;
use webauthn_rs::prelude::{Url, Webauthn, WebauthnBuilder};

use self::auth::{Ceremonies, Logins};
pub use self::i18n::Lang;
pub use self::people::{People, PeopleError, Role};
use crate::api::limits::Limiter;
use crate::service::Service;

/// Why the console cannot be served.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConsoleError {
    /// The origin is not a URL a browser can use for passkeys.
    #[error("console origin {0:?}: {1}")]
    Origin(String, String),
    /// The people file is unusable.
    #[error(transparent)]
    People(#[from] PeopleError),
}

/// The console's state.
pub struct Console {
    service: Arc<Service>,
    people: People,
    webauthn: Webauthn,
    /// The relying-party id passkeys are scoped to (the origin's host).
    rp_id: String,
    /// The origin persons reach the console at (`https://sign.example.com`).
    origin: String,
    /// Whether cookies carry `Secure` (the console is served over TLS).
    secure: bool,
    logins: Mutex<Logins>,
    ceremonies: Mutex<Ceremonies>,
    templates: minijinja::Environment<'static>,
    limiter: Limiter,
}

impl std::fmt::Debug for Console {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Console")
            .field("origin", &self.origin)
            .field("rp_id", &self.rp_id)
            .finish_non_exhaustive()
    }
}

/// The origin the console is reached at, when the configuration does not name one: the
/// listener's port on `localhost` (browsers accept passkeys there without TLS; an IP address
/// cannot be a relying party). `None` when bound beyond loopback: a domain must be named.
pub fn default_origin(local: SocketAddr, tls: bool) -> Option<String> {
    local.ip().is_loopback().then(|| {
        format!(
            "{}://localhost:{}",
            if tls { "https" } else { "http" },
            local.port()
        )
    })
}

impl Console {
    /// The console of `service`, reached at `origin`.
    pub fn new(service: Arc<Service>, origin: &str) -> Result<Arc<Self>, ConsoleError> {
        let bad = |why: &str| ConsoleError::Origin(origin.to_string(), why.to_string());
        let url = Url::parse(origin).map_err(|e| bad(&e.to_string()))?;
        let host = url
            .host_str()
            .ok_or_else(|| bad("no host"))?
            .to_ascii_lowercase();
        if host.parse::<std::net::IpAddr>().is_ok() || host.starts_with('[') {
            return Err(bad(
                "an IP address cannot hold passkeys: use localhost or a domain name",
            ));
        }
        let secure = match url.scheme() {
            "https" => true,
            "http" if host == "localhost" => false,
            _ => return Err(bad("https:// (or http://localhost)")),
        };
        if url.path() != "/" || url.query().is_some() {
            return Err(bad("an origin has no path"));
        }
        let name = service.config().legal_name.clone();
        let webauthn = WebauthnBuilder::new(&host, &url)
            .map_err(|e| bad(&e.to_string()))?
            .rp_name(&name)
            .build()
            .map_err(|e| bad(&e.to_string()))?;
        let people = People::open(service.dir())?;
        let limiter = Limiter::new(&service.config().api_limits);
        Ok(Arc::new(Self {
            service,
            people,
            webauthn,
            rp_id: host,
            origin: origin.trim_end_matches('/').to_string(),
            secure,
            logins: Mutex::default(),
            ceremonies: Mutex::default(),
            templates: templates(),
            limiter,
        }))
    }

    /// The origin persons reach the console at.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The console's people.
    pub fn people(&self) -> &People {
        &self.people
    }

    /// A link that lets `name` register a passkey as `role` (valid three days, once).
    pub fn invite(&self, name: &str, role: Role) -> Result<String, PeopleError> {
        let token = self.people.invite(name, role, crate::service::now())?;
        Ok(format!("{}/console/register?invite={token}", self.origin))
    }

    /// Renders template `name` with `context`, the words of `lang` and the common fields.
    fn render(&self, name: &str, lang: Lang, mut context: Value) -> Response {
        if let Some(map) = context.as_object_mut() {
            map.insert(
                "t".into(),
                serde_json::to_value(lang.words()).unwrap_or_default(),
            );
            map.insert("lang".into(), lang.tag().into());
            map.insert(
                "other_lang".into(),
                match lang {
                    Lang::En => "zh",
                    Lang::Zh => "en",
                }
                .into(),
            );
            map.insert(
                "party_name".into(),
                self.service.config().legal_name.clone().into(),
            );
            map.entry("page").or_insert_with(|| "".into());
        }
        let rendered = self
            .templates
            .get_template(name)
            .and_then(|t| t.render(&context));
        match rendered {
            Ok(html) => Html(html).into_response(),
            Err(e) => {
                tracing::error!(template = name, error = %e, "console template failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "the page could not be rendered",
                )
                    .into_response()
            }
        }
    }
}

/// The templates, compiled into the binary.
fn templates() -> minijinja::Environment<'static> {
    let mut env = minijinja::Environment::new();
    // Printing something the context lacks is an error (a test catches it), not a blank.
    env.set_undefined_behavior(minijinja::UndefinedBehavior::SemiStrict);
    for (name, source) in TEMPLATES {
        if let Err(e) = env.add_template(name, source) {
            // A broken template is a build defect; the test of every template catches it.
            tracing::error!(template = name, error = %e, "console template does not parse");
        }
    }
    env
}

/// Every template, by name.
const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("templates/base.html")),
    ("macros.html", include_str!("templates/macros.html")),
    ("login.html", include_str!("templates/login.html")),
    ("register.html", include_str!("templates/register.html")),
    ("sessions.html", include_str!("templates/sessions.html")),
    ("session.html", include_str!("templates/session.html")),
    ("send.html", include_str!("templates/send.html")),
    ("seals.html", include_str!("templates/seals.html")),
    (
        "attestations.html",
        include_str!("templates/attestations.html"),
    ),
    ("peers.html", include_str!("templates/peers.html")),
    ("evidence.html", include_str!("templates/evidence.html")),
    ("verify.html", include_str!("templates/verify.html")),
    ("people.html", include_str!("templates/people.html")),
    ("message.html", include_str!("templates/message.html")),
];

/// Security headers on every console response: only this origin's own script, style and
/// frames; no framing by others; no referrer beyond this origin.
async fn headers(response: Response) -> Response {
    let mut response = response;
    let h = response.headers_mut();
    let set = |h: &mut axum::http::HeaderMap, name: header::HeaderName, value: &'static str| {
        if !h.contains_key(&name) {
            h.insert(name, HeaderValue::from_static(value));
        }
    };
    set(
        h,
        header::CONTENT_SECURITY_POLICY,
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-src 'self'; object-src 'none'; frame-ancestors 'self'; form-action 'self'; base-uri 'none'",
    );
    set(h, header::X_FRAME_OPTIONS, "SAMEORIGIN");
    set(h, header::REFERRER_POLICY, "same-origin");
    set(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(h, header::CACHE_CONTROL, "no-store");
    response
}

/// The console's routes, under `/console/`.
pub fn router(console: Arc<Console>) -> Router {
    pages::routes()
        .merge(passkeys::routes())
        .layer(axum::middleware::map_response(headers))
        .with_state(console)
}

/// Static files: the stylesheet and the script.
const STYLE: &str = include_str!("static/console.css");
const SCRIPT: &str = include_str!("static/console.js");

/// Where the people file lives, for the command line's messages.
pub fn people_file(dir: &Path) -> std::path::PathBuf {
    dir.join("console").join("people.json")
}

#[cfg(test)]
mod tests;
