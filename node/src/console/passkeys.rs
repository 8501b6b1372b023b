//! Passkey ceremonies: registering with an invitation, signing in, and signing a session.
//!
//! Registration and sign-in are webauthn-rs's (it checks the attestation and the assertions).
//! Signing a session is the protocol's own WebAuthn intent proof (spec §8.4.1): the browser
//! asks the passkey to sign the SHA-256 of the intent challenge the node offers, and the
//! assertion goes into the seal signature's record as it came from the authenticator, to be
//! checked by anyone offline.

use std::sync::Arc;

use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use signet_protocol::session::{IntentChallenge, IntentMethod, SessionId, WebAuthnAssertion};
use webauthn_rs::prelude::{PublicKeyCredential, RegisterPublicKeyCredential, Uuid};

use super::auth::{
    Ceremony, Refusal, Viewer, check_csrf, check_origin, lang_of, login_cookie, logout_cookie,
};
use super::people::{Role, StoredPasskey, b64url};
use super::{Console, Lang};
use crate::service::{ServiceError, now, random_bytes};

pub(super) fn routes() -> Router<Arc<Console>> {
    Router::new()
        .route("/console/login", get(login_page))
        .route("/console/login/start", post(login_start))
        .route("/console/login/finish", post(login_finish))
        .route("/console/logout", post(logout))
        .route("/console/register", get(register_page))
        .route("/console/register/start", post(register_start))
        .route("/console/register/finish", post(register_finish))
        .route("/console/sessions/{id}/sign/start", post(sign_start))
        .route("/console/sessions/{id}/sign/finish", post(sign_finish))
}

/// A ceremony's failure, as the page's script shows it.
fn failed(status: StatusCode, text: impl Into<String>) -> Response {
    (status, Json(json!({ "error": text.into() }))).into_response()
}

fn word(lang: Lang, key: &str) -> String {
    lang.words().get(key).copied().unwrap_or(key).to_string()
}

async fn login_page(State(c): State<Arc<Console>>, headers: HeaderMap) -> Response {
    let lang = lang_of(&headers);
    c.render("login.html", lang, json!({ "origin": c.origin }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginStart {
    name: String,
}

/// Counts a failed sign-in against the client's address; `Some` when it is over its budget.
fn throttled(c: &Console, client: std::net::IpAddr, failure: bool) -> Option<Response> {
    let over = if failure {
        c.limiter.failed(client)
    } else {
        c.limiter.blocked(client)
    };
    over.map(|wait| {
        let mut r = failed(
            StatusCode::TOO_MANY_REQUESTS,
            "too many failed sign-ins from this address: wait a while",
        );
        if let Ok(v) = header::HeaderValue::from_str(&wait.as_secs().max(1).to_string()) {
            r.headers_mut().insert(header::RETRY_AFTER, v);
        }
        r
    })
}

/// What refuses a ceremony before it starts: a request from another origin, or from an
/// address with too many failed sign-ins.
fn refuse_start(c: &Console, headers: &HeaderMap, client: std::net::IpAddr) -> Option<Response> {
    if check_origin(headers, c).is_err() {
        return Some(failed(StatusCode::FORBIDDEN, "wrong origin"));
    }
    throttled(c, client, false)
}

async fn login_start(
    State(c): State<Arc<Console>>,
    ConnectInfo(client): ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    Json(body): Json<LoginStart>,
) -> Response {
    if let Some(r) = refuse_start(&c, &headers, client.ip()) {
        return r;
    }
    let Some(person) = c.people.by_name(&body.name) else {
        if let Some(r) = throttled(&c, client.ip(), true) {
            return r;
        }
        return failed(
            StatusCode::UNAUTHORIZED,
            "no person of that name has a passkey here",
        );
    };
    let keys: Vec<_> = person.passkeys.iter().map(|k| k.passkey.clone()).collect();
    match c.webauthn.start_passkey_authentication(&keys) {
        Ok((options, state)) => {
            let ceremony = lock(&c.ceremonies).start(Ceremony::SignIn {
                person: person.id,
                state,
            });
            Json(json!({ "ceremony": ceremony, "options": options })).into_response()
        }
        Err(e) => failed(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginFinish {
    ceremony: String,
    credential: PublicKeyCredential,
}

async fn login_finish(
    State(c): State<Arc<Console>>,
    ConnectInfo(client): ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    Json(body): Json<LoginFinish>,
) -> Response {
    if check_origin(&headers, &c).is_err() {
        return failed(StatusCode::FORBIDDEN, "wrong origin");
    }
    let Some(Ceremony::SignIn { person, state }) = lock(&c.ceremonies).take(&body.ceremony) else {
        return failed(StatusCode::BAD_REQUEST, "the sign-in expired: start again");
    };
    let result = match c
        .webauthn
        .finish_passkey_authentication(&body.credential, &state)
    {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(%client, error = %e, "console sign-in refused");
            if let Some(r) = throttled(&c, client.ip(), true) {
                return r;
            }
            return failed(
                StatusCode::UNAUTHORIZED,
                format!("the passkey's answer was refused: {e}"),
            );
        }
    };
    if let Err(e) = c.people.update_passkey(&person, &result) {
        return failed(StatusCode::INTERNAL_SERVER_ERROR, e.to_string());
    }
    let Some(cookie) = lock(&c.logins).start(person) else {
        return failed(StatusCode::INTERNAL_SERVER_ERROR, "no randomness");
    };
    let mut r = Json(json!({ "next": "/console/" })).into_response();
    if let Ok(v) = header::HeaderValue::from_str(&login_cookie(&c, &cookie)) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r
}

#[derive(Debug, Deserialize)]
struct CsrfForm {
    csrf: String,
}

async fn logout(
    State(c): State<Arc<Console>>,
    viewer: Viewer,
    axum::Form(form): axum::Form<CsrfForm>,
) -> Result<Response, Refusal> {
    check_csrf(&viewer, Some(&form.csrf))?;
    lock(&c.logins).end(&viewer.cookie);
    let mut r = axum::response::Redirect::to("/console/login").into_response();
    if let Ok(v) = header::HeaderValue::from_str(&logout_cookie(&c)) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(r)
}

#[derive(Debug, Deserialize)]
struct InviteQuery {
    #[serde(default)]
    invite: String,
}

async fn register_page(
    State(c): State<Arc<Console>>,
    headers: HeaderMap,
    Query(q): Query<InviteQuery>,
) -> Response {
    let lang = lang_of(&headers);
    let invitation = c.people.invitation(&q.invite, now());
    c.render(
        "register.html",
        lang,
        json!({
            "invite": q.invite,
            "valid": invitation.is_some(),
            "name": invitation.as_ref().map(|(n, _)| n.clone()),
            "role": invitation.as_ref().map(|(_, r)| r.name()),
        }),
    )
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RegisterStart {
    invite: String,
    #[serde(default)]
    label: String,
}

async fn register_start(
    State(c): State<Arc<Console>>,
    ConnectInfo(client): ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    Json(body): Json<RegisterStart>,
) -> Response {
    if let Some(r) = refuse_start(&c, &headers, client.ip()) {
        return r;
    }
    let Some((name, _)) = c.people.invitation(&body.invite, now()) else {
        if let Some(r) = throttled(&c, client.ip(), true) {
            return r;
        }
        return failed(
            StatusCode::FORBIDDEN,
            word(lang_of(&headers), "invitation_invalid"),
        );
    };
    let Ok(bytes) = random_bytes() else {
        return failed(StatusCode::INTERNAL_SERVER_ERROR, "no randomness");
    };
    let mut id_bytes = [0u8; 16];
    id_bytes.copy_from_slice(&bytes[..16]);
    let id = Uuid::from_bytes(id_bytes);
    match c
        .webauthn
        .start_passkey_registration(id, &name, &name, None)
    {
        Ok((mut options, state)) => {
            // Intent proofs are ES256 (or EdDSA, which webauthn-rs does not offer): ask for
            // nothing else.
            options
                .public_key
                .pub_key_cred_params
                .retain(|p| p.alg == -7);
            let label = body.label.trim();
            let label = if label.is_empty() {
                "passkey".to_string()
            } else {
                label.chars().take(60).collect()
            };
            let ceremony = lock(&c.ceremonies).start(Ceremony::Register {
                invite: body.invite,
                id,
                label,
                state,
            });
            Json(json!({ "ceremony": ceremony, "options": options })).into_response()
        }
        Err(e) => failed(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RegisterFinish {
    ceremony: String,
    credential: RegisterPublicKeyCredential,
}

async fn register_finish(
    State(c): State<Arc<Console>>,
    headers: HeaderMap,
    Json(body): Json<RegisterFinish>,
) -> Response {
    if check_origin(&headers, &c).is_err() {
        return failed(StatusCode::FORBIDDEN, "wrong origin");
    }
    let Some(Ceremony::Register {
        invite,
        id,
        label,
        state,
    }) = lock(&c.ceremonies).take(&body.ceremony)
    else {
        return failed(
            StatusCode::BAD_REQUEST,
            "the registration expired: start again",
        );
    };
    let passkey = match c
        .webauthn
        .finish_passkey_registration(&body.credential, &state)
    {
        Ok(p) => p,
        Err(e) => {
            return failed(
                StatusCode::BAD_REQUEST,
                format!("the authenticator's answer was refused: {e}"),
            );
        }
    };
    let stored = StoredPasskey {
        backup_eligible: backup_eligible(&passkey),
        passkey,
        label,
        added_at: now(),
    };
    if let Err(why) = stored.credential(&c.rp_id) {
        return failed(StatusCode::BAD_REQUEST, why);
    }
    let person = match c.people.register(&invite, id, stored, now()) {
        Ok(p) => p,
        Err(e) => return failed(StatusCode::CONFLICT, e.to_string()),
    };
    tracing::info!(person = %person.name, role = person.role.name(), "console person registered a passkey");
    let Some(cookie) = lock(&c.logins).start(person.id) else {
        return failed(StatusCode::INTERNAL_SERVER_ERROR, "no randomness");
    };
    let mut r = Json(json!({ "next": "/console/" })).into_response();
    if let Ok(v) = header::HeaderValue::from_str(&login_cookie(&c, &cookie)) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r
}

/// Whether a new passkey may be synced off its authenticator, as webauthn-rs recorded the
/// registration's flags. Unknown counts as yes: the console then claims only `passkey`.
fn backup_eligible(passkey: &webauthn_rs::prelude::Passkey) -> bool {
    serde_json::to_value(passkey)
        .ok()
        .and_then(|v| v["cred"]["backup_eligible"].as_bool())
        .unwrap_or(true)
}

fn session_id(text: &str) -> Result<SessionId, Response> {
    text.parse()
        .map_err(|_| failed(StatusCode::BAD_REQUEST, "malformed session id"))
}

fn csrf_header(headers: &HeaderMap) -> Option<&str> {
    headers.get("x-csrf-token").and_then(|v| v.to_str().ok())
}

/// Starts the signature of session `id` by the signed-in person: the node's intent challenge,
/// as options for `navigator.credentials.get`.
async fn sign_start(
    State(c): State<Arc<Console>>,
    viewer: Viewer,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, Refusal> {
    check_csrf(&viewer, csrf_header(&headers))?;
    if !viewer.can(Role::Signer) {
        return Err(Refusal::Forbidden(viewer.lang, "no_passkey_role"));
    }
    let id = match session_id(&id) {
        Ok(id) => id,
        Err(r) => return Ok(r),
    };
    let keys = &viewer.person.passkeys;
    // `hardware-token` is claimed only when every passkey of the person was reported as
    // device-bound; the proof's own flags are checked again when the seal is applied.
    let method = if !keys.is_empty() && keys.iter().all(|k| !k.backup_eligible) {
        IntentMethod::HardwareToken
    } else {
        IntentMethod::Passkey
    };
    let service = c.service.clone();
    let challenge = tokio::task::spawn_blocking(move || service.intent_challenge(id, method))
        .await
        .map_err(|_| Refusal::Forbidden(viewer.lang, "error"))?;
    let challenge = match challenge.and_then(|ch| {
        ch.encode()
            .map_err(|_| ServiceError::Internal("encoding the challenge"))
    }) {
        Ok(bytes) => bytes,
        Err(e) => return Ok(service_failure(viewer.lang, &e)),
    };
    let digest = IntentChallenge::webauthn_challenge(&challenge);
    let allow: Vec<Value> = keys
        .iter()
        .map(|k| json!({ "type": "public-key", "id": k.id_b64() }))
        .collect();
    let ceremony = lock(&c.ceremonies).start(Ceremony::Sign {
        person: viewer.person.id,
        session: id,
        challenge,
    });
    Ok(Json(json!({
        "ceremony": ceremony,
        "method": method.to_string(),
        "options": {
            "publicKey": {
                "challenge": b64url(digest.as_bytes()),
                "rpId": c.rp_id,
                "allowCredentials": allow,
                // The node checks the flags itself: a proof without user verification is
                // refused, and the person told why.
                "userVerification": "preferred",
                "timeout": 120_000,
            }
        }
    }))
    .into_response())
}

/// A service refusal, as the signing script shows it.
fn service_failure(lang: Lang, e: &ServiceError) -> Response {
    let status = match e {
        ServiceError::NoMandate(_) => StatusCode::FORBIDDEN,
        ServiceError::UnknownSession(_) => StatusCode::NOT_FOUND,
        ServiceError::Internal(_) | ServiceError::Store(_) | ServiceError::Corrupt(_) => {
            tracing::error!(error = %e, "console signature failed");
            StatusCode::INTERNAL_SERVER_ERROR
        }
        _ => StatusCode::CONFLICT,
    };
    failed(status, format!("{}: {e}", word(lang, "error")))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SignFinish {
    ceremony: String,
    /// The credential id (base64url).
    id: String,
    authenticator_data: String,
    client_data_json: String,
    signature: String,
}

fn unb64url(text: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text.trim_end_matches('='))
        .ok()
}

/// Finishes the signature: the assertion becomes the intent proof the node seals on.
async fn sign_finish(
    State(c): State<Arc<Console>>,
    viewer: Viewer,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(body): Json<SignFinish>,
) -> Result<Response, Refusal> {
    check_csrf(&viewer, csrf_header(&headers))?;
    if !viewer.can(Role::Signer) {
        return Err(Refusal::Forbidden(viewer.lang, "no_passkey_role"));
    }
    let id = match session_id(&id) {
        Ok(id) => id,
        Err(r) => return Ok(r),
    };
    let Some(Ceremony::Sign {
        person,
        session,
        challenge,
    }) = lock(&c.ceremonies).take(&body.ceremony)
    else {
        return Ok(failed(
            StatusCode::BAD_REQUEST,
            "the signature request expired: start again",
        ));
    };
    if person != viewer.person.id || session != id {
        return Ok(failed(StatusCode::BAD_REQUEST, "not this person's request"));
    }
    let decoded = (
        unb64url(&body.id),
        unb64url(&body.authenticator_data),
        unb64url(&body.client_data_json),
        unb64url(&body.signature),
    );
    let (Some(cred_id), Some(authenticator_data), Some(client_data_json), Some(signature)) =
        decoded
    else {
        return Ok(failed(StatusCode::BAD_REQUEST, "malformed assertion"));
    };
    let Some(key) = viewer
        .person
        .passkeys
        .iter()
        .find(|k| k.passkey.cred_id().as_slice() == cred_id.as_slice())
    else {
        return Ok(failed(
            StatusCode::FORBIDDEN,
            "that passkey is not one of yours",
        ));
    };
    let credential = match key.credential(&c.rp_id) {
        Ok(cr) => cr,
        Err(why) => return Ok(failed(StatusCode::BAD_REQUEST, why)),
    };
    let assertion = WebAuthnAssertion {
        challenge,
        credential,
        authenticator_data,
        client_data_json,
        signature,
    };
    let Ok(proof) = signet_protocol::codec::encode(&assertion) else {
        return Ok(failed(
            StatusCode::INTERNAL_SERVER_ERROR,
            "encoding the proof",
        ));
    };
    let service = c.service.clone();
    let result = tokio::task::spawn_blocking(move || service.sign(id, &proof))
        .await
        .map_err(|_| Refusal::Forbidden(viewer.lang, "error"))?;
    Ok(match result {
        Ok(()) => {
            tracing::info!(session = %id, person = %viewer.person.name, "signed with a passkey");
            super::auth::flash(&c, &viewer, "ok", word(viewer.lang, "signed_ok"));
            Json(json!({ "next": format!("/console/sessions/{id}") })).into_response()
        }
        Err(e) => service_failure(viewer.lang, &e),
    })
}
