//! The node's local HTTP API (JSON over HTTP/1.1, bound to loopback by default).
//!
//! Every request but `GET /openapi.json` needs `Authorization: Bearer <token>`. Tokens are
//! kept only as SHA-256 hashes in the configuration, each with a scope: `read` (list and
//! fetch) or `sign` (everything, including acting in sessions). Every error is an RFC 9457
//! problem document (`application/problem+json`). The document at `/openapi.json` lists the
//! endpoints; `/metrics` is Prometheus text.
//!
//! Callers are rate-limited (`api/limits.rs`): each token has a request budget, and each
//! client address a budget of failed authentications; over either, the answer is
//! `429 Too Many Requests` with `Retry-After`. Request bodies are capped: documents may come
//! only with `POST /v1/sessions` and PDFs to seal with `POST /v1/pdf/seal`
//! (`max_upload_bytes`); every other route takes at most `max_body_bytes` (both in
//! `[api_limits]`, see [`ApiLimits`]).

pub(crate) mod authority;
pub(crate) mod documents;
pub(crate) mod limits;
mod pdf;
mod policy;
mod problem;
#[cfg(test)]
mod tests;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, DefaultBodyLimit, FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::Deserialize;
use serde_json::{Value, json};
use signet_protocol::Digest;
use signet_protocol::party::{AttestationId, PartyId};
use signet_protocol::session::{
    Algorithms, IntentChallenge, IntentMethod, Role, SealPlacement, SessionId,
};

pub use documents::media_type_of;
pub use problem::Problem;

use self::limits::{Limiter, retry_after_secs};
use crate::console::Console;
use crate::service::config::ApiLimits;
use crate::service::init::{SealAlgorithm, token_hash};
use crate::service::keys::KeyKind;
use crate::service::metrics::Metrics;
use crate::service::{
    DocumentSource, NewDocument, NewParticipant, NewSession, Service, ServiceError,
};

/// What a token may do. Each scope includes the ones before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Scope {
    /// List and fetch.
    Read,
    /// Run sessions: send, sign, approve, decline, cancel, remind, upload documents, share
    /// evidence. A signing clerk's token: it cannot give mandates or attest anything.
    Sign,
    /// Administer the party's authority too: seal mandates, attestations of others,
    /// revocations, key rotation, imports of key logs and attestations, peers.
    Admin,
}

impl Scope {
    /// The scope named `name` in the configuration (`read`, `sign` or `admin`).
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "read" => Some(Self::Read),
            "sign" => Some(Self::Sign),
            "admin" => Some(Self::Admin),
            _ => None,
        }
    }

    /// Its name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Sign => "sign",
            Self::Admin => "admin",
        }
    }
}

#[derive(Debug, Clone)]
struct Api {
    service: Arc<Service>,
    /// (SHA-256 hex, scope).
    tokens: Arc<Vec<(String, Scope)>>,
    limiter: Arc<Limiter>,
    /// The console, when it is served (for invitations).
    console: Option<Arc<Console>>,
}

/// The router for `service`'s API, without the console.
pub fn router(service: Arc<Service>) -> Router {
    app(service, None)
}

/// The router for `service`'s API and, when given, its console under `/console/`.
pub fn app(service: Arc<Service>, console: Option<Arc<Console>>) -> Router {
    let tokens = service
        .config()
        .tokens
        .iter()
        // An unknown scope name gets the least: read (the configuration check names it).
        .map(|t| {
            (
                t.sha256.to_ascii_lowercase(),
                Scope::parse(&t.scope).unwrap_or(Scope::Read),
            )
        })
        .collect();
    let limits: ApiLimits = service.config().api_limits;
    let state = Api {
        limiter: Arc::new(Limiter::new(&limits)),
        service,
        tokens: Arc::new(tokens),
        console: console.clone(),
    };
    let api = Router::new()
        .route("/openapi.json", get(openapi))
        .route("/metrics", get(metrics))
        .route("/v1/node", get(node))
        .route(
            "/v1/sessions",
            get(list_sessions)
                .post(create_session)
                .layer(DefaultBodyLimit::max(limits.max_upload_bytes)),
        )
        .route("/v1/inbox", get(inbox))
        .route(
            "/v1/pdf/seal",
            post(pdf::seal).layer(DefaultBodyLimit::max(limits.max_upload_bytes)),
        )
        .route("/v1/pdf/ca-certificate", get(pdf::ca_certificate))
        .route("/v1/pdf/crl", get(pdf::crl))
        .route(
            "/v1/policy/ca-roots",
            get(policy::ca_roots).post(policy::add_ca_root),
        )
        .route("/v1/policy/crls", post(policy::add_crl))
        .route("/v1/policy/crls/fetch", post(policy::fetch_crls))
        .route("/v1/documents", post(documents::upload))
        .route("/v1/sessions/{id}", get(get_session))
        .route("/v1/sessions/{id}/documents", get(documents::list))
        .route(
            "/v1/sessions/{id}/documents/{index}",
            get(documents::content),
        )
        .route("/v1/sessions/{id}/acknowledge", post(acknowledge))
        .route("/v1/sessions/{id}/intent", get(intent))
        .route("/v1/sessions/{id}/sign", post(sign))
        .route("/v1/sessions/{id}/approve", post(approve))
        .route("/v1/sessions/{id}/decline", post(decline))
        .route("/v1/sessions/{id}/cancel", post(cancel))
        .route("/v1/sessions/{id}/remind", post(remind))
        .route("/v1/sessions/{id}/evidence", post(share_evidence))
        .route("/v1/sessions/{id}/bundle", get(bundle))
        .route("/v1/sessions/{id}/pdf", get(sealed_pdf))
        .route("/v1/sessions/{id}/ses", get(seal_signatures))
        .route("/v1/attestations", get(list_attestations))
        .route("/v1/attestations/identity", post(attest_identity))
        .route("/v1/attestations/import", post(import_attestation))
        .route("/v1/attestations/endorsement", post(authority::endorse))
        .route("/v1/attestations/accreditation", post(authority::accredit))
        .route("/v1/seals", get(authority::seals))
        .route(
            "/v1/delegations",
            get(authority::delegations).post(authority::delegate),
        )
        .route("/v1/attestations/{id}/revoke", post(revoke))
        .route("/v1/keylog", get(own_key_log))
        .route("/v1/revocations", get(revocations))
        .route("/v1/keylog/rotate", post(rotate))
        .route("/v1/keylogs/import", post(import_key_log))
        .route("/v1/peers", get(peers).post(add_peer))
        .route("/v1/checkpoint", get(checkpoint))
        .route("/v1/webhooks/deliveries", get(webhook_deliveries))
        .route("/v1/console/invitations", post(invite))
        .fallback(|| async { Problem::new(StatusCode::NOT_FOUND, "no such endpoint") })
        .layer(DefaultBodyLimit::max(limits.max_body_bytes))
        .with_state(state);
    match console {
        Some(c) => api.merge(crate::console::router(c)),
        None => api,
    }
}

/// The origin the console is reached at for `service` on a listener at `local`: the
/// configured one, else `http(s)://localhost:<port>` on loopback; `None` when the console
/// is off or bound beyond loopback without a configured origin.
pub fn console_origin(service: &Service, local: SocketAddr) -> Option<String> {
    let c = &service.config().console;
    if !c.enabled {
        return None;
    }
    c.origin
        .clone()
        .or_else(|| crate::console::default_origin(local, service.config().api_tls.is_some()))
}

fn in_dir(dir: &std::path::Path, path: &std::path::Path) -> PathBuf {
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        dir.join(path)
    }
}

/// Serves the API and the console on `listener` until `shutdown` resolves: over TLS when
/// `[api_tls]` is configured, which is required when the listener is not on loopback (the
/// console's cookies and the API's tokens must not cross a network in clear).
pub async fn serve(
    service: Arc<Service>,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use axum::serve::ListenerExt as _;
    let local = listener.local_addr()?;
    let tls = match &service.config().api_tls {
        Some(t) => Some(
            crate::tls::acceptor(
                &in_dir(service.dir(), &t.cert),
                &in_dir(service.dir(), &t.key),
            )
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e.to_string()))?,
        ),
        None if !local.ip().is_loopback() => {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!(
                    "the API is bound to {local}, beyond loopback, without TLS: set [api_tls] cert and key in signet.toml (or bind to 127.0.0.1)"
                ),
            ));
        }
        None => None,
    };
    let console = match console_origin(&service, local) {
        Some(origin) => match Console::new(service.clone(), &origin) {
            Ok(c) => Some(c),
            Err(e) => {
                tracing::error!(error = %e, "the console is not served");
                None
            }
        },
        None => {
            if service.config().console.enabled {
                tracing::warn!(
                    "the console is not served: set [console] origin to the https:// address persons reach it at"
                );
            }
            None
        }
    };
    // The client's address is what failed authentications are counted by.
    let app = app(service, console).into_make_service_with_connect_info::<SocketAddr>();
    match tls {
        None => {
            axum::serve(listener, app)
                .with_graceful_shutdown(shutdown)
                .await
        }
        Some(acceptor) => {
            let listener = crate::tls::TlsListener::new(listener, acceptor)?.tap_io(|_| {});
            axum::serve(listener, app)
                .with_graceful_shutdown(shutdown)
                .await
        }
    }
}

/// A caller authenticated with at least read scope.
struct Reader;
/// A caller authenticated with sign scope.
struct Signer;
/// A caller authenticated with admin scope.
struct Admin;

/// The client's address (unspecified when the router runs without connection info).
fn client_ip(parts: &Parts) -> IpAddr {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip())
}

/// A failed authentication: logged and counted against the client's address; `refusal` is
/// the answer unless the address is now over its budget (then 429).
fn failed_auth(api: &Api, parts: &Parts, client: IpAddr, refusal: Problem) -> Problem {
    tracing::warn!(%client, path = %parts.uri.path(), reason = %refusal.title, "API authentication failed");
    match api.limiter.failed(client) {
        Some(wait) => {
            tracing::warn!(%client, retry_after_s = retry_after_secs(wait), "repeated failed API authentication: client throttled");
            Problem::too_many(
                "too many failed authentications from this address",
                retry_after_secs(wait),
            )
        }
        None => refusal,
    }
}

fn authenticate(parts: &Parts, api: &Api, need: Scope) -> Result<(), Problem> {
    let client = client_ip(parts);
    if let Some(wait) = api.limiter.blocked(client) {
        return Err(Problem::too_many(
            "too many failed authentications from this address",
            retry_after_secs(wait),
        ));
    }
    let Some(value) = parts.headers.get(header::AUTHORIZATION) else {
        let p = Problem::new(StatusCode::UNAUTHORIZED, "a bearer token is required");
        return Err(failed_auth(api, parts, client, p));
    };
    let Some(token) = value.to_str().ok().and_then(|v| v.strip_prefix("Bearer ")) else {
        let p = Problem::new(StatusCode::UNAUTHORIZED, "malformed Authorization header");
        return Err(failed_auth(api, parts, client, p));
    };
    let hash = token_hash(token.trim());
    let Some((hash, scope)) = api.tokens.iter().find(|(h, _)| *h == hash) else {
        let p = Problem::new(StatusCode::UNAUTHORIZED, "unknown token");
        return Err(failed_auth(api, parts, client, p));
    };
    if let Err(wait) = api.limiter.request(hash) {
        tracing::debug!(%client, path = %parts.uri.path(), "API token over its rate limit");
        return Err(Problem::too_many(
            "too many requests with this token",
            retry_after_secs(wait),
        ));
    }
    if *scope < need {
        let title = format!(
            "this token has {} scope; the call needs {} scope",
            scope.name(),
            need.name()
        );
        return Err(Problem::new(StatusCode::FORBIDDEN, &title));
    }
    Ok(())
}

impl FromRequestParts<Api> for Reader {
    type Rejection = Problem;
    async fn from_request_parts(parts: &mut Parts, api: &Api) -> Result<Self, Problem> {
        authenticate(parts, api, Scope::Read).map(|()| Reader)
    }
}

impl FromRequestParts<Api> for Signer {
    type Rejection = Problem;
    async fn from_request_parts(parts: &mut Parts, api: &Api) -> Result<Self, Problem> {
        authenticate(parts, api, Scope::Sign).map(|()| Signer)
    }
}

impl FromRequestParts<Api> for Admin {
    type Rejection = Problem;
    async fn from_request_parts(parts: &mut Parts, api: &Api) -> Result<Self, Problem> {
        authenticate(parts, api, Scope::Admin).map(|()| Admin)
    }
}

/// Runs a blocking service call off the async threads.
async fn blocking<T: Send + 'static>(
    api: &Api,
    f: impl FnOnce(&Service) -> Result<T, ServiceError> + Send + 'static,
) -> Result<T, Problem> {
    let service = api.service.clone();
    tokio::task::spawn_blocking(move || f(&service))
        .await
        .map_err(|_| Problem::new(StatusCode::INTERNAL_SERVER_ERROR, "internal task failed"))?
        .map_err(Problem::from)
}

fn session_id(text: &str) -> Result<SessionId, Problem> {
    text.parse()
        .map_err(|_| Problem::new(StatusCode::BAD_REQUEST, "malformed session id").detail(text))
}

fn party_id(text: &str) -> Result<PartyId, Problem> {
    text.parse()
        .map_err(|_| Problem::new(StatusCode::BAD_REQUEST, "malformed party id").detail(text))
}

fn b64(text: &str) -> Result<Vec<u8>, Problem> {
    B64.decode(text)
        .map_err(|_| Problem::new(StatusCode::BAD_REQUEST, "malformed base64"))
}

async fn openapi() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        include_str!("openapi.json"),
    )
}

async fn metrics(_: Reader, State(api): State<Api>) -> Result<Response, Problem> {
    let by_status = blocking(&api, |s| s.sessions_by_status()).await?;
    let outbox = blocking(&api, |s| s.outbox_len()).await?;
    let peers = match api.service.client() {
        Ok(c) => c.connected_peers().await.map(|p| p.len()).unwrap_or(0),
        Err(_) => 0,
    };
    let m = api.service.metrics();
    let mut out = String::new();
    out.push_str("# HELP signet_sessions Sessions by status.\n# TYPE signet_sessions gauge\n");
    for status in STATUSES {
        let n = by_status.get(status).copied().unwrap_or(0);
        out.push_str(&format!("signet_sessions{{status=\"{status}\"}} {n}\n"));
    }
    out.push_str("# HELP signet_messages_in_total Session messages accepted from peers.\n# TYPE signet_messages_in_total counter\n");
    out.push_str(&format!(
        "signet_messages_in_total {}\n",
        Metrics::get(&m.messages_in)
    ));
    out.push_str("# HELP signet_messages_out_total Session messages delivered to peers.\n# TYPE signet_messages_out_total counter\n");
    out.push_str(&format!(
        "signet_messages_out_total {}\n",
        Metrics::get(&m.messages_out)
    ));
    out.push_str("# HELP signet_delivery_failures_total Deliveries that failed and were rescheduled.\n# TYPE signet_delivery_failures_total counter\n");
    out.push_str(&format!(
        "signet_delivery_failures_total {}\n",
        Metrics::get(&m.delivery_failures)
    ));
    out.push_str("# HELP signet_refusals_total Inbound messages refused, by wire error code.\n# TYPE signet_refusals_total counter\n");
    for (code, n) in m.refusals() {
        out.push_str(&format!("signet_refusals_total{{code=\"{code}\"}} {n}\n"));
    }
    if let Some(n) = api.service.store_flushes() {
        out.push_str("# HELP signet_store_flushes_total Flushes of the store to disk (one serves every durable write waiting for it).\n# TYPE signet_store_flushes_total counter\n");
        out.push_str(&format!("signet_store_flushes_total {n}\n"));
    }
    out.push_str("# HELP signet_outbox_depth Messages waiting for delivery.\n# TYPE signet_outbox_depth gauge\n");
    out.push_str(&format!("signet_outbox_depth {outbox}\n"));
    out.push_str("# HELP signet_peers Connected peers.\n# TYPE signet_peers gauge\n");
    out.push_str(&format!("signet_peers {peers}\n"));
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out).into_response())
}

async fn node(_: Reader, State(api): State<Api>) -> Result<Json<Value>, Problem> {
    let outbox = blocking(&api, |s| s.outbox_len()).await?;
    let evidence = blocking(&api, |s| s.evidence_len()).await?;
    let c = api.service.config();
    Ok(Json(json!({
        "party": api.service.party().to_string(),
        "legal_name": c.legal_name,
        "registration": c.registration,
        "peer_id": api.service.client().ok().map(|c| c.peer_id().to_string()),
        "witness": c.witness,
        "outbox": outbox,
        "evidence_log_size": evidence,
    })))
}

/// Session status names, as sessions report them and lists filter by them.
const STATUSES: [&str; 5] = ["open", "completed", "declined", "cancelled", "expired"];

/// The most sessions one page lists, and the default.
const MAX_PAGE: usize = 500;

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct SessionQuery {
    /// Only sessions with this status (`open`, `completed`, `declined`, `cancelled`,
    /// `expired`).
    status: Option<String>,
    /// Only sessions this party proposed (`initiator`) or was invited to (`participant`).
    side: Option<String>,
    /// Only sessions awaiting this party (`waiting=party id`).
    waiting: Option<String>,
    /// Page size (at most [`MAX_PAGE`]).
    limit: Option<usize>,
    /// The last id of the previous page: sessions after it, in id order.
    after: Option<String>,
}

/// The service's filter for query `q`, after checking it.
fn filter(q: &SessionQuery) -> Result<crate::service::SessionFilter, Problem> {
    if let Some(side) = q.side.as_deref()
        && side != "initiator"
        && side != "participant"
    {
        return Err(Problem::new(StatusCode::BAD_REQUEST, "unknown side")
            .detail("side is initiator or participant"));
    }
    if let Some(status) = q.status.as_deref()
        && !STATUSES.contains(&status)
    {
        return Err(Problem::new(StatusCode::BAD_REQUEST, "unknown status")
            .detail(format!("status is one of {}", STATUSES.join(", "))));
    }
    let after = q.after.as_deref().map(session_id).transpose()?;
    let limit = q.limit.unwrap_or(MAX_PAGE);
    if limit == 0 || limit > MAX_PAGE {
        return Err(Problem::new(StatusCode::BAD_REQUEST, "limit out of range")
            .detail(format!("limit is 1 to {MAX_PAGE}")));
    }
    Ok(crate::service::SessionFilter {
        statuses: q.status.iter().cloned().collect(),
        side: q.side.clone(),
        waiting: q.waiting.clone(),
        mine: false,
        after,
        limit,
    })
}

async fn list_sessions(
    _: Reader,
    State(api): State<Api>,
    query: Result<Query<SessionQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, Problem> {
    let Query(q) = query.map_err(|e| {
        Problem::new(StatusCode::BAD_REQUEST, "invalid query").detail(e.body_text())
    })?;
    let f = filter(&q)?;
    let page = blocking(&api, move |s| s.sessions(&f)).await?;
    Ok(Json(
        json!({ "sessions": page.sessions, "next": page.next }),
    ))
}

/// Open sessions awaiting this party's action now (it is in the routing group whose turn it
/// is; a session where it acts later shows once the earlier groups have acted).
async fn inbox(_: Reader, State(api): State<Api>) -> Result<Json<Value>, Problem> {
    let f = crate::service::SessionFilter {
        statuses: vec!["open".into()],
        mine: true,
        limit: MAX_PAGE,
        ..Default::default()
    };
    let page = blocking(&api, move |s| s.sessions(&f)).await?;
    Ok(Json(
        json!({ "sessions": page.sessions, "next": page.next }),
    ))
}

async fn get_session(
    _: Reader,
    State(api): State<Api>,
    Path(id): Path<String>,
) -> Result<Json<Value>, Problem> {
    let id = session_id(&id)?;
    let s = blocking(&api, move |s| s.session(id)).await?;
    Ok(Json(json!(s)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ParticipantBody {
    party: String,
    #[serde(default = "signer")]
    role: String,
    #[serde(default)]
    order: u32,
}

fn signer() -> String {
    "signer".into()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DocumentBody {
    name: String,
    #[serde(default = "pdf")]
    media_type: String,
    /// The content, base64 (small documents); or
    content: Option<String>,
    /// the digest (hex) of a document uploaded with `POST /v1/documents`.
    digest: Option<String>,
    /// Present to have every signer seal this PDF (spec §8.2.4): where each signer's seal
    /// goes (`[]`: every signer in its default place).
    pdf_seals: Option<Vec<PlacementBody>>,
}

/// Where one signer's seal goes, in PDF points (spec §8.2.4).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PlacementBody {
    signer: String,
    page: Option<u32>,
    x: u32,
    y: u32,
    width: u32,
    height: u32,
}

fn pdf() -> String {
    "application/pdf".into()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateBody {
    title: String,
    purpose: String,
    participants: Vec<ParticipantBody>,
    documents: Vec<DocumentBody>,
    #[serde(default = "thirty")]
    deadline_days: u64,
    /// Witness party ids whose cosignature the evidence must carry.
    #[serde(default)]
    witnesses: Vec<String>,
    /// The algorithms the session requires (spec §8.2.5): `national` for SM2 seals and SM3
    /// digests. Absent: none (unless this party's policy requires national algorithms).
    #[serde(default)]
    algorithms: Option<String>,
}

fn thirty() -> u64 {
    30
}

async fn create_session(
    _: Signer,
    State(api): State<Api>,
    body: Result<Json<CreateBody>, axum::extract::rejection::JsonRejection>,
) -> Result<(StatusCode, Json<Value>), Problem> {
    let Json(body) = body.map_err(Problem::from)?;
    let mut participants = Vec::new();
    for p in &body.participants {
        let role = match p.role.as_str() {
            "signer" => Role::Signer,
            "approver" => Role::Approver,
            "copy" => Role::Copy,
            other => {
                return Err(Problem::new(StatusCode::BAD_REQUEST, "unknown role").detail(other));
            }
        };
        participants.push(NewParticipant {
            party: party_id(&p.party)?,
            role,
            order: p.order,
        });
    }
    let mut documents = Vec::new();
    for d in &body.documents {
        let pdf_seals = match &d.pdf_seals {
            None => None,
            Some(list) => Some(
                list.iter()
                    .map(|p| {
                        Ok(SealPlacement {
                            signer: party_id(&p.signer)?,
                            page: p.page,
                            x: p.x,
                            y: p.y,
                            width: p.width,
                            height: p.height,
                        })
                    })
                    .collect::<Result<Vec<_>, Problem>>()?,
            ),
        };
        documents.push(NewDocument {
            pdf_seals,
            name: d.name.clone(),
            media_type: d.media_type.clone(),
            source: match (&d.content, &d.digest) {
                (Some(content), None) => DocumentSource::Bytes(b64(content)?),
                (None, Some(digest)) => {
                    DocumentSource::Stored(Digest::from_hex(digest).map_err(|_| {
                        Problem::new(StatusCode::BAD_REQUEST, "malformed document digest")
                            .detail(digest.clone())
                    })?)
                }
                _ => {
                    return Err(Problem::new(
                        StatusCode::BAD_REQUEST,
                        "a document needs exactly one of content and digest",
                    )
                    .detail(d.name.clone()));
                }
            },
        });
    }
    let witnesses = body
        .witnesses
        .iter()
        .map(|w| party_id(w))
        .collect::<Result<Vec<_>, _>>()?;
    let algorithms = match body.algorithms.as_deref() {
        None => None,
        Some(name) => Some(Algorithms::from_name(name).ok_or_else(|| {
            Problem::new(StatusCode::BAD_REQUEST, "unknown algorithms").detail(format!(
                "{name}: the registered requirement is \"national\" (spec 13.20)"
            ))
        })?),
    };
    let new = NewSession {
        witnesses,
        title: body.title,
        purpose: body.purpose,
        participants,
        documents,
        deadline_days: body.deadline_days,
        algorithms,
    };
    let id = blocking(&api, move |s| s.create_session(new)).await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": id.to_string() }))))
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ReasonBody {
    #[serde(default)]
    reason: String,
}

type JsonBody<T> = Result<Json<T>, axum::extract::rejection::JsonRejection>;

fn done(id: SessionId, what: &str) -> Json<Value> {
    Json(json!({ "id": id.to_string(), "done": what }))
}

async fn acknowledge(
    _: Signer,
    State(api): State<Api>,
    Path(id): Path<String>,
) -> Result<Json<Value>, Problem> {
    let id = session_id(&id)?;
    blocking(&api, move |s| s.acknowledge(id)).await?;
    Ok(done(id, "acknowledged"))
}

async fn approve(
    _: Signer,
    State(api): State<Api>,
    Path(id): Path<String>,
) -> Result<Json<Value>, Problem> {
    let id = session_id(&id)?;
    blocking(&api, move |s| s.approve(id)).await?;
    Ok(done(id, "approved"))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EvidenceBody {
    /// A witness to cosign the checkpoint first.
    witness: Option<String>,
}

async fn share_evidence(
    _: Signer,
    State(api): State<Api>,
    Path(id): Path<String>,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Json<Value>, Problem> {
    let id = session_id(&id)?;
    let body =
        body.map_err(|e| Problem::new(e.status(), "invalid request body").detail(e.body_text()))?;
    let witness = if body.is_empty() {
        None
    } else {
        let b: EvidenceBody = serde_json::from_slice(&body).map_err(|e| {
            Problem::new(StatusCode::BAD_REQUEST, "invalid request body").detail(e.to_string())
        })?;
        b.witness.as_deref().map(party_id).transpose()?
    };
    match witness {
        Some(w) => api
            .service
            .share_witnessed_evidence(id, w)
            .await
            .map_err(Problem::from)?,
        None => blocking(&api, move |s| s.share_evidence(id)).await?,
    }
    Ok(done(id, "evidence shared"))
}

/// A session action that takes a reason (or note), answered with `done`.
async fn with_reason(
    api: Api,
    id: String,
    body: JsonBody<ReasonBody>,
    act: fn(&Service, SessionId, &str) -> Result<(), ServiceError>,
    done_what: &'static str,
) -> Result<Json<Value>, Problem> {
    let id = session_id(&id)?;
    let Json(b) = body.map_err(Problem::from)?;
    blocking(&api, move |s| act(s, id, &b.reason)).await?;
    Ok(done(id, done_what))
}

async fn decline(
    _: Signer,
    State(api): State<Api>,
    Path(id): Path<String>,
    body: JsonBody<ReasonBody>,
) -> Result<Json<Value>, Problem> {
    with_reason(api, id, body, Service::decline, "declined").await
}

async fn cancel(
    _: Signer,
    State(api): State<Api>,
    Path(id): Path<String>,
    body: JsonBody<ReasonBody>,
) -> Result<Json<Value>, Problem> {
    with_reason(api, id, body, Service::cancel, "cancelled").await
}

async fn remind(
    _: Signer,
    State(api): State<Api>,
    Path(id): Path<String>,
    body: JsonBody<ReasonBody>,
) -> Result<Json<Value>, Problem> {
    with_reason(api, id, body, Service::remind, "reminded").await
}

#[derive(Debug, Deserialize)]
struct IntentQuery {
    /// `software-key` (the default: a key file signs a COSE proof), `passkey` or
    /// `hardware-token` (a WebAuthn authenticator signs).
    #[serde(default)]
    method: Option<String>,
}

/// The intent challenge of this party's signature, for the person's device to sign: its
/// exact bytes (base64) and, for a passkey, the WebAuthn challenge (base64url of their
/// SHA-256). Offered only once every document is here.
async fn intent(
    _: Signer,
    State(api): State<Api>,
    Path(id): Path<String>,
    Query(q): Query<IntentQuery>,
) -> Result<Json<Value>, Problem> {
    let id = session_id(&id)?;
    let name = q.method.unwrap_or_else(|| "software-key".into());
    let method = IntentMethod::KNOWN
        .iter()
        .copied()
        .find(|m| m.name() == name)
        .ok_or_else(|| {
            Problem::new(StatusCode::BAD_REQUEST, "unknown intent method").detail(name.clone())
        })?;
    let challenge = blocking(&api, move |s| s.intent_challenge(id, method)).await?;
    let bytes = challenge.encode().map_err(|e| {
        Problem::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error").detail(e.to_string())
    })?;
    Ok(Json(json!({
        "session": id.to_string(),
        "method": method.name(),
        "seal": challenge.seal.to_string(),
        "documents": challenge.documents.iter().map(Digest::to_hex).collect::<Vec<_>>(),
        "time": challenge.time.to_string(),
        "expires": challenge.time.plus(signet_protocol::session::MAX_INTENT_AGE).to_string(),
        "challenge": B64.encode(&bytes),
        "webauthn_challenge": base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(IntentChallenge::webauthn_challenge(&bytes).as_bytes()),
    })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SignBody {
    /// The intent proof the person's device made over the challenge (base64): a COSE_Sign1
    /// by their key file, or a WebAuthn assertion. Never a key.
    intent: String,
}

async fn sign(
    _: Signer,
    State(api): State<Api>,
    Path(id): Path<String>,
    body: JsonBody<SignBody>,
) -> Result<Json<Value>, Problem> {
    let id = session_id(&id)?;
    let Json(b) = body.map_err(Problem::from)?;
    let proof = B64
        .decode(&b.intent)
        .map_err(|_| Problem::new(StatusCode::BAD_REQUEST, "the intent proof is not base64"))?;
    blocking(&api, move |s| s.sign(id, &proof)).await?;
    Ok(done(id, "signed"))
}

async fn bundle(
    _: Reader,
    State(api): State<Api>,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let id = session_id(&id)?;
    let bytes = blocking(&api, move |s| s.export_bundle(id)).await?;
    Ok((
        [(header::CONTENT_TYPE, "application/cbor")],
        Bytes::from(bytes),
    )
        .into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PdfQuery {
    /// The document's index in the proposal (default 0).
    #[serde(default)]
    document: usize,
}

/// The signed PDF of a session's sealed document: the last signer's revision, with the
/// validation data this node could gather appended (see [`Service::export_pdf`]).
async fn sealed_pdf(
    _: Reader,
    State(api): State<Api>,
    Path(id): Path<String>,
    query: Result<Query<PdfQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, Problem> {
    let id = session_id(&id)?;
    let Query(q) = query.map_err(|e| {
        Problem::new(StatusCode::BAD_REQUEST, "malformed query").detail(e.body_text())
    })?;
    let bytes = api.service.clone().export_pdf(id, q.document).await?;
    Ok((
        [(header::CONTENT_TYPE, "application/pdf")],
        Bytes::from(bytes),
    )
        .into_response())
}

/// The GB/T 38540 seal signatures (spec §11.6) the seals of a session's sealed PDF carry:
/// one per seal made with an SM2 key and a seal, each over the bytes its PDF signature covers.
async fn seal_signatures(
    _: Reader,
    State(api): State<Api>,
    Path(id): Path<String>,
    query: Result<Query<PdfQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, Problem> {
    let id = session_id(&id)?;
    let Query(q) = query.map_err(|e| {
        Problem::new(StatusCode::BAD_REQUEST, "malformed query").detail(e.body_text())
    })?;
    let service = api.service.clone();
    let pdf = tokio::task::spawn_blocking(move || service.session_pdf(id, q.document))
        .await
        .map_err(|_| Problem::new(StatusCode::INTERNAL_SERVER_ERROR, "PDF task failed"))??;
    let found = crate::pdf::national::ses_signatures(&pdf).map_err(|e| {
        Problem::new(StatusCode::INTERNAL_SERVER_ERROR, "unreadable PDF").detail(e.to_string())
    })?;
    let signatures: Vec<Value> = found
        .iter()
        .map(|(field, der)| json!({"field": field, "ses_signature": B64.encode(der)}))
        .collect();
    Ok(Json(
        json!({"session": id.to_string(), "document": q.document, "signatures": signatures}),
    ))
}

pub(crate) fn attestation_json(a: &signet_protocol::attestation::SignedAttestation) -> Value {
    let p = a.payload();
    json!({
        "id": p.id.to_string(),
        "kind": format!("{:?}", p.claims.kind()),
        "issuer": p.issuer.to_string(),
        "subject": p.subject.to_string(),
        "valid_from": p.valid_from.to_string(),
        "valid_until": p.valid_until.to_string(),
        "bytes": B64.encode(a.bytes()),
    })
}

async fn list_attestations(_: Reader, State(api): State<Api>) -> Result<Json<Value>, Problem> {
    let all = blocking(&api, |s| s.attestations()).await?;
    Ok(Json(
        json!({ "attestations": all.iter().map(attestation_json).collect::<Vec<_>>() }),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct IdentityBody {
    subject: String,
    /// Absent with `certificate`: the certificate's.
    #[serde(default)]
    legal_name: Option<String>,
    /// Absent with `certificate`: the certificate's.
    #[serde(default)]
    registration: Option<String>,
    legal_representative: String,
    #[serde(default = "year")]
    days: u64,
    /// The subject's CA-issued certificate, base64 DER (spec §6.11): attest from it.
    #[serde(default)]
    certificate: Option<String>,
}

fn year() -> u64 {
    365
}

async fn attest_identity(
    _: Admin,
    State(api): State<Api>,
    body: JsonBody<IdentityBody>,
) -> Result<(StatusCode, Json<Value>), Problem> {
    let Json(b) = body.map_err(Problem::from)?;
    let subject = party_id(&b.subject)?;
    let certificate = b.certificate.as_deref().map(b64).transpose()?;
    let a = blocking(&api, move |s| {
        match (certificate, b.legal_name, b.registration) {
            (Some(certificate), None, None) => s.attest_identity_from_certificate(
                subject,
                &certificate,
                &b.legal_representative,
                b.days,
            ),
            (None, Some(legal_name), Some(registration)) => s.attest_identity(
                subject,
                &legal_name,
                &registration,
                &b.legal_representative,
                b.days,
            ),
            _ => Err(crate::service::ServiceError::Usage(
                "give either certificate, or legal_name and registration".into(),
            )),
        }
    })
    .await?;
    Ok((StatusCode::CREATED, Json(attestation_json(&a))))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BytesBody {
    bytes: String,
}

async fn import_attestation(
    _: Admin,
    State(api): State<Api>,
    body: JsonBody<BytesBody>,
) -> Result<Json<Value>, Problem> {
    let Json(b) = body.map_err(Problem::from)?;
    let bytes = b64(&b.bytes)?;
    let a = blocking(&api, move |s| s.import_attestation(&bytes)).await?;
    Ok(Json(attestation_json(&a)))
}

async fn revoke(
    _: Admin,
    State(api): State<Api>,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<Value>), Problem> {
    let id: AttestationId = id
        .parse()
        .map_err(|_| Problem::new(StatusCode::BAD_REQUEST, "malformed attestation id"))?;
    let a = blocking(&api, move |s| s.revoke(id)).await?;
    Ok((StatusCode::CREATED, Json(attestation_json(&a))))
}

async fn own_key_log(_: Reader, State(api): State<Api>) -> Result<Json<Value>, Problem> {
    let events = blocking(&api, |s| s.own_key_log()).await?;
    Ok(Json(json!({
        "party": api.service.party().to_string(),
        "events": events.iter().map(|e| B64.encode(e)).collect::<Vec<_>>(),
    })))
}

async fn revocations(_: Reader, State(api): State<Api>) -> Result<Json<Value>, Problem> {
    let all = blocking(&api, |s| s.revocation_information()).await?;
    Ok(Json(json!({
        "revocations": all.iter().map(|b| B64.encode(b)).collect::<Vec<_>>(),
    })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RotateBody {
    /// `root` (the default), `node`, `attest`, `log`, `seal-contract` or `seal-company`.
    #[serde(default = "root")]
    key: String,
    /// For `root`: the file (on the node's machine, outside its directory) holding the
    /// committed next root key. A path, never the key: the node reads it itself.
    #[serde(default)]
    next_root_key: Option<PathBuf>,
    /// For `root`: where to write the fresh next root key (must not exist; outside the
    /// node's directory).
    #[serde(default)]
    new_next_root_key: Option<PathBuf>,
    /// For `attest`: the fresh key's algorithm, `ed25519` or `sm2` (default: the old key's).
    #[serde(default)]
    algorithm: Option<String>,
}

fn root() -> String {
    "root".into()
}

async fn rotate(
    _: Admin,
    State(api): State<Api>,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Json<Value>, Problem> {
    let body =
        body.map_err(|e| Problem::new(e.status(), "invalid request body").detail(e.body_text()))?;
    let request = if body.is_empty() {
        RotateBody {
            key: root(),
            next_root_key: None,
            new_next_root_key: None,
            algorithm: None,
        }
    } else {
        serde_json::from_slice::<RotateBody>(&body).map_err(|e| {
            Problem::new(StatusCode::BAD_REQUEST, "invalid request body").detail(e.to_string())
        })?
    };
    let key = request.key;
    let kind = KeyKind::parse(&key).ok_or_else(|| {
        Problem::new(StatusCode::BAD_REQUEST, "unknown key").detail(format!(
            "{key}: one of {}",
            KeyKind::ALL.map(|(_, n)| n).join(", ")
        ))
    })?;
    let algorithm = match request.algorithm.as_deref() {
        None => None,
        Some("ed25519") => Some(SealAlgorithm::Ed25519),
        Some("sm2") => Some(SealAlgorithm::Sm2),
        Some(other) => {
            return Err(Problem::new(StatusCode::BAD_REQUEST, "unknown algorithm")
                .detail(format!("{other}: one of ed25519, sm2")));
        }
    };
    if algorithm.is_some() && kind != KeyKind::Attest {
        return Err(Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "only the attest key takes an algorithm when rotated",
        )
        .detail(format!("the {key} key keeps its algorithm")));
    }
    let (len, public) = match (kind, request.next_root_key, request.new_next_root_key) {
        (KeyKind::Root, Some(next), Some(new_next)) => {
            blocking(&api, move |s| {
                let len = s.rotate_root(&next, &new_next)?;
                Ok((len, s.root_key()?.into()))
            })
            .await?
        }
        (KeyKind::Root, _, _) => {
            return Err(Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "the root key rotates by pre-rotation",
            )
            .detail(
                "give next_root_key (the file holding the committed next root key) and \
                 new_next_root_key (where to write the fresh one), both outside the node's \
                 directory",
            ));
        }
        _ => blocking(&api, move |s| s.rotate_key_to(kind, algorithm)).await?,
    };
    Ok(Json(json!({
        "party": api.service.party().to_string(),
        "key": kind.name(),
        // Hex for Ed25519, `sm2:` and hex for an SM2 seal or attest key.
        "public_key": public.to_string(),
        "key_log_length": len,
        // The node key is declared now and taken at the next start (the running network
        // keeps its libp2p identity until then).
        "restart_required": kind == KeyKind::Node,
    })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyLogBody {
    events: Vec<String>,
}

async fn import_key_log(
    _: Admin,
    State(api): State<Api>,
    body: JsonBody<KeyLogBody>,
) -> Result<Json<Value>, Problem> {
    let Json(b) = body.map_err(Problem::from)?;
    let events = b
        .events
        .iter()
        .map(|e| b64(e))
        .collect::<Result<Vec<_>, _>>()?;
    let party = blocking(&api, move |s| s.import_key_log(&events)).await?;
    Ok(Json(json!({ "party": party.to_string() })))
}

async fn peers(_: Reader, State(api): State<Api>) -> Result<Json<Value>, Problem> {
    let client = api.service.client().map_err(Problem::from)?;
    let peers = client
        .connected_peers()
        .await
        .map_err(|e| Problem::from(ServiceError::Net(e)))?;
    Ok(Json(json!({
        "peer_id": client.peer_id().to_string(),
        "connected": peers.iter().map(ToString::to_string).collect::<Vec<_>>(),
    })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PeerBody {
    address: String,
}

async fn add_peer(
    _: Admin,
    State(api): State<Api>,
    body: JsonBody<PeerBody>,
) -> Result<Json<Value>, Problem> {
    let Json(b) = body.map_err(Problem::from)?;
    api.service
        .add_peer(&b.address)
        .await
        .map_err(Problem::from)?;
    Ok(Json(json!({ "added": b.address })))
}

async fn checkpoint(_: Reader, State(api): State<Api>) -> Result<Json<Value>, Problem> {
    let note = blocking(&api, |s| s.checkpoint()).await?;
    Ok(Json(json!({ "checkpoint": note })))
}

async fn webhook_deliveries(_: Reader, State(api): State<Api>) -> Result<Json<Value>, Problem> {
    let log = blocking(&api, |s| s.webhook_deliveries()).await?;
    Ok(Json(json!({ "deliveries": log })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct InviteBody {
    name: String,
    #[serde(default = "signer")]
    role: String,
}

/// `POST /v1/console/invitations`: a one-time link for a person to register a passkey with
/// the console (admin scope).
async fn invite(
    _: Admin,
    State(api): State<Api>,
    body: JsonBody<InviteBody>,
) -> Result<(StatusCode, Json<Value>), Problem> {
    let Json(b) = body.map_err(Problem::from)?;
    let console = api.console.as_ref().ok_or_else(|| {
        Problem::new(
            StatusCode::CONFLICT,
            "the console is not served by this node",
        )
        .detail("enable it with [console] in signet.toml")
    })?;
    let role = crate::console::Role::parse(&b.role).ok_or_else(|| {
        Problem::new(StatusCode::BAD_REQUEST, "unknown role").detail("reader, signer or admin")
    })?;
    let link = console.invite(&b.name, role).map_err(|e| {
        Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid request").detail(e.to_string())
    })?;
    Ok((
        StatusCode::CREATED,
        Json(
            json!({ "name": b.name.trim(), "role": role.name(), "link": link, "expires_in_seconds": crate::console::people::INVITATION_LIFETIME }),
        ),
    ))
}
