//! The console's pages and the actions their forms post.
//!
//! Every page needs a signed-in person ([`Viewer`]); every change also a CSRF token and the
//! role it needs. Changes answer with a redirect to the page to show next (post, redirect,
//! get), carrying a one-time message.

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use futures::TryStreamExt as _;
use serde::Deserialize;
use serde_json::{Value, json};
use signet_protocol::attestation::Amount;
use signet_protocol::party::{AttestationId, PartyId};
use signet_protocol::person::PersonKey;
use signet_protocol::session::{Algorithms, Role as SessionRole, SessionId};
use webauthn_rs::prelude::Uuid;

use super::auth::{Refusal, Viewer, check_csrf, flash};
use super::people::Role;
use super::{Console, SCRIPT, STYLE};
use crate::api::authority::mandate_json;
use crate::api::{attestation_json, documents};
use crate::service::authority::NewMandate;
use crate::service::{
    DocumentSource, NewDocument, NewParticipant, NewSession, Service, ServiceError, now,
};

pub(super) fn routes() -> Router<Arc<Console>> {
    let upload = DefaultBodyLimit::disable();
    Router::new()
        .route("/console", get(|| async { Redirect::to("/console/") }))
        .route("/console/", get(inbox))
        .route("/console/static/console.css", get(style))
        .route("/console/static/console.js", get(script))
        .route("/console/lang/{code}", get(set_lang))
        .route("/console/sessions", get(sessions))
        .route("/console/sessions/{id}", get(session))
        .route("/console/sessions/{id}/documents/{index}", get(document))
        .route("/console/sessions/{id}/bundle", get(bundle))
        .route("/console/sessions/{id}/pdf/{index}", get(sealed_pdf))
        .route("/console/sessions/{id}/act", post(act))
        .route("/console/send", get(send_page).post(send).layer(upload))
        .route("/console/seals", get(seals))
        .route("/console/mandates", post(give_mandate))
        .route("/console/attestations", get(attestations))
        .route("/console/attestations/{id}/revoke", post(revoke))
        .route("/console/ca-roots", post(add_ca_root))
        .route(
            "/console/attestations/identity",
            post(attest_from_certificate),
        )
        .route("/console/peers", get(peers).post(add_peer))
        .route("/console/evidence", get(evidence))
        .route(
            "/console/verify",
            get(verify_page)
                .post(verify)
                .layer(DefaultBodyLimit::disable()),
        )
        .route("/console/people", get(people))
        .route("/console/people/invite", post(invite))
        .route("/console/people/{id}", post(change_person))
}

async fn style() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], STYLE).into_response()
}

async fn script() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        SCRIPT,
    )
        .into_response()
}

/// Sets the language cookie and returns to the page the person was on (the `Referer`,
/// when it is a console page of this origin).
async fn set_lang(
    State(c): State<Arc<Console>>,
    Path(code): Path<String>,
    headers: axum::http::HeaderMap,
) -> Response {
    let code = if code == "zh" { "zh" } else { "en" };
    let back = headers
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| r.strip_prefix(c.origin()))
        .filter(|path| path.starts_with("/console/") && !path.starts_with("/console/lang/"))
        .unwrap_or("/console/")
        .to_string();
    let mut r = Redirect::to(&back).into_response();
    if let Ok(v) = header::HeaderValue::from_str(&format!(
        "lang={code}; Path=/console; SameSite=Strict; Max-Age=31536000"
    )) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r
}

/// Runs a blocking service call off the async threads.
async fn call<T: Send + 'static>(
    c: &Console,
    f: impl FnOnce(&Service) -> Result<T, ServiceError> + Send + 'static,
) -> Result<T, ServiceError> {
    let service = c.service.clone();
    tokio::task::spawn_blocking(move || f(&service))
        .await
        .map_err(|_| ServiceError::Internal("console task failed"))?
}

/// A page that shows `text` (an error, or that something is not there).
fn message(c: &Console, viewer: &Viewer, status: StatusCode, title: &str, text: &str) -> Response {
    let mut ctx = viewer.context();
    ctx["title"] = json!(title);
    ctx["text"] = json!(text);
    let mut r = c.render("message.html", viewer.lang, ctx);
    *r.status_mut() = status;
    r
}

fn failure(c: &Console, viewer: &Viewer, e: &ServiceError) -> Response {
    let words = viewer.lang.words();
    let (status, title) = match e {
        ServiceError::UnknownSession(_) | ServiceError::NoSuchDocument { .. } => {
            (StatusCode::NOT_FOUND, words["not_found"])
        }
        ServiceError::Internal(_) | ServiceError::Store(_) | ServiceError::Corrupt(_) => {
            tracing::error!(error = %e, "console page failed");
            (StatusCode::INTERNAL_SERVER_ERROR, words["error"])
        }
        _ => (StatusCode::CONFLICT, words["error"]),
    };
    message(c, viewer, status, title, &e.to_string())
}

fn forbidden(c: &Console, viewer: &Viewer) -> Response {
    let words = viewer.lang.words();
    message(
        c,
        viewer,
        StatusCode::FORBIDDEN,
        words["error"],
        words["forbidden"],
    )
}

/// Redirects to `to` with a message for the next page.
fn after(c: &Console, viewer: &Viewer, to: &str, result: Result<String, String>) -> Response {
    match result {
        Ok(text) => flash(c, viewer, "ok", text),
        Err(text) => flash(c, viewer, "error", text),
    }
    Redirect::to(to).into_response()
}

// ---- sessions ----

/// The most sessions one list page shows.
const LISTED: usize = 500;

/// Which sessions a list page shows: `filter` is `waiting` (this party's turn), `open`,
/// `completed`, `ended` or anything else for all.
fn list_filter(filter: &str) -> crate::service::SessionFilter {
    let statuses: &[&str] = match filter {
        "waiting" | "open" => &["open"],
        "completed" => &["completed"],
        "ended" => &["declined", "cancelled", "expired"],
        _ => &[],
    };
    crate::service::SessionFilter {
        statuses: statuses.iter().map(ToString::to_string).collect(),
        mine: filter == "waiting",
        limit: LISTED,
        ..Default::default()
    }
}

/// A page's sessions, newest first.
fn listed(page: crate::service::SessionPage) -> Vec<Value> {
    let mut list = page.sessions;
    list.sort_by(|a, b| b.created_at.cmp(&a.created_at));
    list.into_iter().map(|s| json!(s)).collect()
}

async fn inbox(State(c): State<Arc<Console>>, viewer: Viewer) -> Response {
    match call(&c, |s| s.sessions(&list_filter("waiting"))).await {
        Ok(page) => {
            let mut ctx = viewer.context();
            ctx["sessions"] = json!(listed(page));
            ctx["filter"] = json!("waiting");
            ctx["page"] = json!("inbox");
            c.render("sessions.html", viewer.lang, ctx)
        }
        Err(e) => failure(&c, &viewer, &e),
    }
}

#[derive(Debug, Deserialize)]
struct Filter {
    #[serde(default)]
    filter: String,
}

async fn sessions(
    State(c): State<Arc<Console>>,
    viewer: Viewer,
    Query(f): Query<Filter>,
) -> Response {
    let wanted = list_filter(&f.filter);
    match call(&c, move |s| s.sessions(&wanted)).await {
        Ok(page) => {
            let mut ctx = viewer.context();
            ctx["sessions"] = json!(listed(page));
            ctx["filter"] = json!(if f.filter.is_empty() {
                "all"
            } else {
                &f.filter
            });
            ctx["page"] = json!("sessions");
            c.render("sessions.html", viewer.lang, ctx)
        }
        Err(e) => failure(&c, &viewer, &e),
    }
}

fn parse_session(c: &Console, viewer: &Viewer, id: &str) -> Result<SessionId, Response> {
    id.parse().map_err(|_| {
        let words = viewer.lang.words();
        message(c, viewer, StatusCode::NOT_FOUND, words["not_found"], id)
    })
}

/// What each participant has done or awaits, for the parties table.
fn participant_states(s: &crate::service::SessionSummary) -> Vec<Value> {
    s.participants
        .iter()
        .map(|p| {
            let done = s
                .timeline
                .iter()
                .find(|e| e.party == p.party && (e.event == "signed" || e.event == "approved"));
            let state = match (done, s.turn.contains(&p.party), p.role.as_str()) {
                (Some(e), _, _) => e.event.as_str(),
                (None, true, _) => "waiting",
                (None, false, "copy") => "none",
                (None, false, _) if s.status == "open" => "later",
                _ => "none",
            };
            json!({
                "party": p.party,
                "role": p.role,
                "order": p.order,
                "state": state,
                "person": done.and_then(|e| e.person.clone()),
                "method": done.and_then(|e| e.method.clone()),
            })
        })
        .collect()
}

async fn session(
    State(c): State<Arc<Console>>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Response {
    let id = match parse_session(&c, &viewer, &id) {
        Ok(id) => id,
        Err(r) => return r,
    };
    let s = match call(&c, move |s| s.session(id)).await {
        Ok(s) => s,
        Err(e) => return failure(&c, &viewer, &e),
    };
    let me = c.service.party().to_string();
    let my_role = s
        .participants
        .iter()
        .find(|p| p.party == me)
        .map(|p| p.role.clone());
    let open = s.status == "open";
    let all_present = s.document_list.iter().all(|d| d.present);
    let person_acts = viewer.can(Role::Signer);
    let mut ctx = viewer.context();
    ctx["s"] = json!(s);
    ctx["participants"] = json!(participant_states(&s));
    ctx["my_role"] = json!(my_role);
    ctx["is_initiator"] = json!(s.initiator == me);
    ctx["open"] = json!(open);
    ctx["all_present"] = json!(all_present);
    ctx["can_sign"] = json!(
        person_acts
            && open
            && s.waiting_for_me
            && my_role.as_deref() == Some("signer")
            && all_present
    );
    ctx["can_approve"] =
        json!(person_acts && open && s.waiting_for_me && my_role.as_deref() == Some("approver"));
    ctx["can_decline"] = json!(person_acts && open && s.waiting_for_me);
    ctx["can_manage"] = json!(person_acts && open && s.initiator == me);
    ctx["can_share"] = json!(person_acts && s.status == "completed");
    ctx["page"] = json!("sessions");
    c.render("session.html", viewer.lang, ctx)
}

#[derive(Debug, Deserialize)]
struct DocQuery {
    #[serde(default)]
    download: bool,
}

async fn document(
    State(c): State<Arc<Console>>,
    viewer: Viewer,
    Path((id, index)): Path<(String, usize)>,
    Query(q): Query<DocQuery>,
) -> Response {
    let id = match parse_session(&c, &viewer, &id) {
        Ok(id) => id,
        Err(r) => return r,
    };
    match documents::respond(c.service.clone(), id, index, q.download).await {
        Ok(r) => r,
        Err(p) => message(
            &c,
            &viewer,
            StatusCode::from_u16(p.status).unwrap_or(StatusCode::NOT_FOUND),
            &p.title,
            p.detail.as_deref().unwrap_or(""),
        ),
    }
}

async fn bundle(State(c): State<Arc<Console>>, viewer: Viewer, Path(id): Path<String>) -> Response {
    let id = match parse_session(&c, &viewer, &id) {
        Ok(id) => id,
        Err(r) => return r,
    };
    match call(&c, move |s| s.export_bundle(id)).await {
        Ok(bytes) => (
            [
                (
                    header::CONTENT_TYPE,
                    "application/vnd.signet.bundle+cbor".to_string(),
                ),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"session-{id}.signet\""),
                ),
            ],
            bytes,
        )
            .into_response(),
        Err(e) => failure(&c, &viewer, &e),
    }
}

/// The signed PDF of a sealed document: every signer's seal, as the relying party keeps it.
async fn sealed_pdf(
    State(c): State<Arc<Console>>,
    viewer: Viewer,
    Path((id, index)): Path<(String, usize)>,
) -> Response {
    let id = match parse_session(&c, &viewer, &id) {
        Ok(id) => id,
        Err(r) => return r,
    };
    match c.service.clone().export_pdf(id, index).await {
        Ok(bytes) => (
            [
                (header::CONTENT_TYPE, "application/pdf".to_string()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"session-{id}-{index}-signed.pdf\""),
                ),
            ],
            bytes,
        )
            .into_response(),
        Err(e) => failure(&c, &viewer, &e),
    }
}

#[derive(Debug, Deserialize)]
struct ActForm {
    csrf: String,
    action: String,
    #[serde(default)]
    reason: String,
}

/// A session action from its page: approve, decline, remind, cancel, acknowledge, share
/// evidence.
async fn act(
    State(c): State<Arc<Console>>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Form<ActForm>,
) -> Result<Response, Refusal> {
    check_csrf(&viewer, Some(&form.csrf))?;
    if !viewer.can(Role::Signer) {
        return Ok(forbidden(&c, &viewer));
    }
    let id = match parse_session(&c, &viewer, &id) {
        Ok(id) => id,
        Err(r) => return Ok(r),
    };
    let reason = form.reason.trim().chars().take(1000).collect::<String>();
    let words = viewer.lang.words();
    if form.action == "decline" && reason.is_empty() {
        return Ok(after(
            &c,
            &viewer,
            &format!("/console/sessions/{id}"),
            Err(format!("{}: {}", words["decline"], words["reason"])),
        ));
    }
    let action = form.action.clone();
    let result = call(&c, move |s| match action.as_str() {
        "approve" => s.approve(id),
        "decline" => s.decline(id, &reason),
        "remind" => s.remind(id, &reason),
        "cancel" => s.cancel(id, &reason),
        "acknowledge" => s.acknowledge(id),
        "evidence" => s.share_evidence(id),
        other => Err(ServiceError::Usage(format!("unknown action {other:?}"))),
    })
    .await;
    tracing::info!(session = %id, person = %viewer.person.name, action = %form.action, ok = result.is_ok(), "console action");
    Ok(after(
        &c,
        &viewer,
        &format!("/console/sessions/{id}"),
        result
            .map(|()| words["done"].to_string())
            .map_err(|e| e.to_string()),
    ))
}

// ---- sending ----

async fn send_page(State(c): State<Arc<Console>>, viewer: Viewer) -> Response {
    if !viewer.can(Role::Signer) {
        return forbidden(&c, &viewer);
    }
    let known = call(&c, |s| s.known_parties()).await.unwrap_or_default();
    let mut ctx = viewer.context();
    ctx["known"] = json!(known);
    // Such a party proposes every session with national algorithms (Service::create_session),
    // so the form shows the box ticked and fixed.
    ctx["national_required"] = json!(c.service.config().policy.require_national_algorithms);
    ctx["page"] = json!("send");
    c.render("send.html", viewer.lang, ctx)
}

/// The most documents one contract carries from the console.
const MAX_DOCUMENTS: usize = 20;
/// The most participants one contract names from the console.
const MAX_PARTICIPANTS: usize = 50;

/// Sends a contract: the form's documents are streamed into the store as they arrive, then
/// the session is proposed.
async fn send(
    State(c): State<Arc<Console>>,
    viewer: Viewer,
    mut form: Multipart,
) -> Result<Response, Refusal> {
    if !viewer.can(Role::Signer) {
        return Ok(forbidden(&c, &viewer));
    }
    let back = "/console/send";
    let mut csrf = None;
    let mut fields: Vec<(String, String)> = Vec::new();
    let mut documents = Vec::new();
    let limit = c.service.config().api_limits.max_upload_bytes as u64;
    let mut total = 0u64;
    loop {
        let field = match form.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => return Ok(after(&c, &viewer, back, Err(e.body_text()))),
        };
        let name = field.name().unwrap_or("").to_string();
        if name == "documents" {
            // The CSRF token comes first in the form: nothing is stored without it.
            check_csrf(&viewer, csrf.as_deref())?;
            let file_name = field.file_name().unwrap_or("").trim().to_string();
            if file_name.is_empty() {
                continue;
            }
            if documents.len() >= MAX_DOCUMENTS {
                return Ok(after(
                    &c,
                    &viewer,
                    back,
                    Err(format!("at most {MAX_DOCUMENTS} documents")),
                ));
            }
            let declared = field.content_type().unwrap_or("").to_ascii_lowercase();
            let media_type = if declared.is_empty() || declared == "application/octet-stream" {
                documents::media_type_of(&file_name).to_string()
            } else {
                declared
            };
            let stream = field.map_err(std::io::Error::other);
            let mut reader = tokio_util::io::StreamReader::new(stream);
            match c.service.upload_document(&mut reader).await {
                Ok((digest, size)) => {
                    total += size;
                    if total > limit {
                        return Ok(after(
                            &c,
                            &viewer,
                            back,
                            Err(format!("the documents exceed {limit} bytes")),
                        ));
                    }
                    documents.push(NewDocument {
                        name: file_name,
                        media_type,
                        source: DocumentSource::Stored(digest),
                        pdf_seals: None,
                    });
                }
                Err(e) => return Ok(after(&c, &viewer, back, Err(e.to_string()))),
            }
        } else {
            let text = match field.text().await {
                Ok(t) => t,
                Err(e) => return Ok(after(&c, &viewer, back, Err(e.body_text()))),
            };
            if name == "csrf" {
                csrf = Some(text);
            } else if fields.len() < 4 * MAX_PARTICIPANTS + 16 && text.len() <= 10_000 {
                fields.push((name, text));
            }
        }
    }
    check_csrf(&viewer, csrf.as_deref())?;
    let new = match new_session(&fields, documents) {
        Ok(n) => n,
        Err(why) => return Ok(after(&c, &viewer, back, Err(why))),
    };
    match call(&c, move |s| s.create_session(new)).await {
        Ok(id) => {
            tracing::info!(session = %id, person = %viewer.person.name, "console sent a contract");
            let words = viewer.lang.words();
            Ok(after(
                &c,
                &viewer,
                &format!("/console/sessions/{id}"),
                Ok(words["done"].to_string()),
            ))
        }
        Err(e) => Ok(after(&c, &viewer, back, Err(e.to_string()))),
    }
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
    fields
        .iter()
        .find(|(n, _)| n == name)
        .map_or("", |(_, v)| v.trim())
}

/// The new session a send form describes: rows `party_N`, `role_N`, `order_N`.
fn new_session(
    fields: &[(String, String)],
    documents: Vec<NewDocument>,
) -> Result<NewSession, String> {
    let title = field(fields, "title");
    if title.is_empty() {
        return Err("a contract needs a title".into());
    }
    if documents.is_empty() {
        return Err("a contract needs at least one document".into());
    }
    let mut participants = Vec::new();
    for i in 0..MAX_PARTICIPANTS {
        let party = field(fields, &format!("party_{i}"));
        if party.is_empty() {
            continue;
        }
        let party: PartyId = party
            .parse()
            .map_err(|_| format!("{party}: not a party id"))?;
        let role = match field(fields, &format!("role_{i}")) {
            "" | "signer" => SessionRole::Signer,
            "approver" => SessionRole::Approver,
            "copy" => SessionRole::Copy,
            other => return Err(format!("unknown role {other}")),
        };
        let order = match field(fields, &format!("order_{i}")) {
            "" => 0,
            o => o
                .parse::<u32>()
                .map_err(|_| format!("order {o}: a number"))?,
        };
        participants.push(NewParticipant { party, role, order });
    }
    if participants.is_empty() {
        return Err("a contract needs at least one participant".into());
    }
    let witnesses = field(fields, "witnesses")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|w| {
            w.parse::<PartyId>()
                .map_err(|_| format!("{w}: not a party id"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let deadline_days = match field(fields, "deadline_days") {
        "" => 30,
        d => d
            .parse::<u64>()
            .ok()
            .filter(|d| (1..=3650).contains(d))
            .ok_or_else(|| format!("deadline {d}: 1 to 3650 days"))?,
    };
    let purpose = match field(fields, "purpose") {
        "" => "procurement",
        p => p,
    };
    let algorithms = match field(fields, "algorithms") {
        "" => None,
        "national" => Some(Algorithms::National),
        other => return Err(format!("unknown algorithms {other}")),
    };
    Ok(NewSession {
        title: title.to_string(),
        purpose: purpose.to_string(),
        participants,
        documents,
        deadline_days,
        algorithms,
        witnesses,
    })
}

// ---- seals and mandates ----

async fn seals(State(c): State<Arc<Console>>, viewer: Viewer) -> Response {
    if !viewer.can(Role::Admin) {
        return forbidden(&c, &viewer);
    }
    let result = call(&c, |s| Ok((s.seals()?, s.mandates()?))).await;
    let (seals, mandates) = match result {
        Ok(x) => x,
        Err(e) => return failure(&c, &viewer, &e),
    };
    let mandates: Vec<Value> = mandates.iter().map(mandate_json).collect();
    let people: Vec<Value> = c
        .people
        .all()
        .iter()
        .flat_map(|p| {
            p.passkeys.iter().map(move |k| {
                json!({
                    "value": format!("{}:{}", p.id, k.id_b64()),
                    "label": format!("{} — {}", p.name, k.label),
                })
            })
        })
        .collect();
    let mut ctx = viewer.context();
    ctx["seals"] = json!(seals);
    ctx["mandates"] = json!(mandates);
    ctx["passkeys"] = json!(people);
    ctx["page"] = json!("seals");
    c.render("seals.html", viewer.lang, ctx)
}

#[derive(Debug)]
struct MandateForm {
    csrf: String,
    passkey: String,
    purposes: String,
    value_cap: String,
    counterparties: String,
    days: u64,
    seal: Vec<String>,
}

/// Gives a seal mandate to a person's passkey. The form's repeated `seal` checkboxes arrive
/// as `seal=…&seal=…`, hence the pairs.
async fn give_mandate(
    State(c): State<Arc<Console>>,
    viewer: Viewer,
    Form(all): Form<Vec<(String, String)>>,
) -> Result<Response, Refusal> {
    let mut seal = Vec::new();
    let mut pairs: Vec<(String, String)> = Vec::new();
    for (k, v) in all {
        if k == "seal" {
            seal.push(v);
        } else {
            pairs.push((k, v));
        }
    }
    let get = |k: &str| {
        pairs
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let form = MandateForm {
        csrf: get("csrf"),
        passkey: get("passkey"),
        purposes: get("purposes"),
        value_cap: get("value_cap"),
        counterparties: get("counterparties"),
        days: get("days").trim().parse().unwrap_or(0),
        seal,
    };
    check_csrf(&viewer, Some(&form.csrf))?;
    if !viewer.can(Role::Admin) {
        return Ok(forbidden(&c, &viewer));
    }
    let new = match mandate_from(&c, &form) {
        Ok(n) => n,
        Err(why) => return Ok(after(&c, &viewer, "/console/seals", Err(why))),
    };
    let name = new.name.clone();
    let result = call(&c, move |s| s.delegate(new)).await;
    tracing::info!(delegate = %name, by = %viewer.person.name, ok = result.is_ok(), "console gave a seal mandate");
    Ok(after(
        &c,
        &viewer,
        "/console/seals",
        result
            .map(|a| format!("{} {}", viewer.lang.words()["done"], a.payload().id))
            .map_err(|e| e.to_string()),
    ))
}

fn mandate_from(c: &Console, form: &MandateForm) -> Result<NewMandate, String> {
    let (person, key) = form
        .passkey
        .split_once(':')
        .ok_or("choose a person's passkey")?;
    let person = Uuid::parse_str(person)
        .ok()
        .and_then(|id| c.people.get(&id))
        .ok_or("no such person")?;
    let stored = person
        .passkeys
        .iter()
        .find(|k| k.id_b64() == key)
        .ok_or("no such passkey")?;
    let credential = stored.credential(&c.rp_id)?;
    let purposes: Vec<String> = form
        .purposes
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect();
    if purposes.is_empty() {
        return Err("a mandate names at least one purpose".into());
    }
    let value_cap = match form.value_cap.trim() {
        "" => None,
        text => {
            let (currency, units) = text
                .split_once(':')
                .ok_or_else(|| format!("{text}: CURRENCY:MINOR_UNITS"))?;
            Some(Amount {
                currency: currency.trim().to_string(),
                minor_units: units
                    .trim()
                    .parse()
                    .map_err(|_| format!("{text}: CURRENCY:MINOR_UNITS"))?,
            })
        }
    };
    let counterparties: Vec<PartyId> = form
        .counterparties
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|p| p.parse().map_err(|_| format!("{p}: not a party id")))
        .collect::<Result<_, _>>()?;
    let seals = form
        .seal
        .iter()
        .map(|s| {
            signet_protocol::keylog::LogKey::from_text(s)
                .map_err(|_| format!("{s}: not a seal key"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if form.days == 0 {
        return Err("a mandate is valid for at least one day".into());
    }
    Ok(NewMandate {
        name: person.name.clone(),
        person: PersonKey::WebAuthn(credential),
        seals,
        purposes,
        value_cap,
        counterparties: (!counterparties.is_empty()).then_some(counterparties),
        days: form.days,
    })
}

#[derive(Debug, Deserialize)]
struct CsrfOnly {
    csrf: String,
}

async fn revoke(
    State(c): State<Arc<Console>>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Form<CsrfOnly>,
) -> Result<Response, Refusal> {
    check_csrf(&viewer, Some(&form.csrf))?;
    if !viewer.can(Role::Admin) {
        return Ok(forbidden(&c, &viewer));
    }
    let Ok(id) = id.parse::<AttestationId>() else {
        return Ok(after(
            &c,
            &viewer,
            "/console/seals",
            Err(format!("{id}: not an attestation id")),
        ));
    };
    let result = call(&c, move |s| s.revoke(id)).await;
    tracing::info!(attestation = %id, by = %viewer.person.name, ok = result.is_ok(), "console revoked an attestation");
    Ok(after(
        &c,
        &viewer,
        "/console/seals",
        result
            .map(|_| viewer.lang.words()["done"].to_string())
            .map_err(|e| e.to_string()),
    ))
}

// ---- attestations, peers, evidence ----

async fn attestations(State(c): State<Arc<Console>>, viewer: Viewer) -> Response {
    let result = call(&c, |s| {
        let all = s.attestations()?;
        let mut parties: Vec<PartyId> = all
            .iter()
            .flat_map(|a| [a.payload().issuer, a.payload().subject])
            .collect();
        parties.sort();
        parties.dedup();
        Ok((all, s.party_names(&parties)?))
    })
    .await;
    let (all, names) = match result {
        Ok(x) => x,
        Err(e) => return failure(&c, &viewer, &e),
    };
    let names: serde_json::Map<String, Value> = names
        .into_iter()
        .map(|n| (n.party.clone(), json!(n)))
        .collect();
    let mut list: Vec<Value> = all.iter().map(attestation_json).collect();
    for a in &mut list {
        if let Some(o) = a.as_object_mut() {
            o.remove("bytes");
        }
    }
    let mut ctx = viewer.context();
    ctx["attestations"] = json!(list);
    ctx["names"] = Value::Object(names);
    ctx["me_party"] = json!(c.service.party().to_string());
    ctx["ca_roots"] = json!(ca_roots_shown(&c.service));
    ctx["page"] = json!("attestations");
    c.render("attestations.html", viewer.lang, ctx)
}

async fn peers(State(c): State<Arc<Console>>, viewer: Viewer) -> Response {
    let connected = match c.service.client() {
        Ok(client) => client
            .connected_peers()
            .await
            .map(|p| p.iter().map(ToString::to_string).collect::<Vec<_>>())
            .unwrap_or_default(),
        Err(_) => Vec::new(),
    };
    let mut ctx = viewer.context();
    ctx["connected"] = json!(connected);
    ctx["peer_id"] = json!(c.service.client().ok().map(|c| c.peer_id().to_string()));
    ctx["page"] = json!("peers");
    c.render("peers.html", viewer.lang, ctx)
}

#[derive(Debug, Deserialize)]
struct PeerForm {
    csrf: String,
    address: String,
}

#[derive(Debug, Deserialize)]
struct CaRootForm {
    csrf: String,
    name: String,
    pem: String,
}

async fn add_ca_root(
    State(c): State<Arc<Console>>,
    viewer: Viewer,
    Form(form): Form<CaRootForm>,
) -> Result<Response, Refusal> {
    check_csrf(&viewer, Some(&form.csrf))?;
    if !viewer.can(Role::Admin) {
        return Ok(forbidden(&c, &viewer));
    }
    let result = call(&c, move |s| {
        s.add_ca_root(&form.name, form.pem.as_bytes(), None)
    })
    .await;
    Ok(after(
        &c,
        &viewer,
        "/console/attestations",
        result
            .map(|()| viewer.lang.words()["done"].to_string())
            .map_err(|e| e.to_string()),
    ))
}

#[derive(Debug, Deserialize)]
struct CertificateIdentityForm {
    csrf: String,
    subject: String,
    pem: String,
    representative: String,
    days: u64,
}

/// An identity attestation from the subject's CA certificate (as `signet attest identity
/// --certificate`): the service checks that the subject proved it holds the key and that
/// its path is trusted now, and takes the name and USCC from the certificate.
async fn attest_from_certificate(
    State(c): State<Arc<Console>>,
    viewer: Viewer,
    Form(form): Form<CertificateIdentityForm>,
) -> Result<Response, Refusal> {
    check_csrf(&viewer, Some(&form.csrf))?;
    if !viewer.can(Role::Admin) {
        return Ok(forbidden(&c, &viewer));
    }
    let result = call(&c, move |s| {
        let usage = |m: String| crate::service::ServiceError::Usage(m);
        let subject: PartyId = form
            .subject
            .trim()
            .parse()
            .map_err(|e| usage(format!("party id: {e}")))?;
        let leaf = crate::certificate::pem_blocks(form.pem.as_bytes(), "CERTIFICATE")
            .into_iter()
            .next()
            .ok_or_else(|| usage("give the party's certificate (PEM)".into()))?;
        if !(1..=3650).contains(&form.days) {
            return Err(usage("days: 1 to 3650".into()));
        }
        s.attest_identity_from_certificate(subject, &leaf, form.representative.trim(), form.days)
    })
    .await;
    Ok(after(
        &c,
        &viewer,
        "/console/attestations",
        result
            .map(|_| viewer.lang.words()["done"].to_string())
            .map_err(|e| e.to_string()),
    ))
}

async fn add_peer(
    State(c): State<Arc<Console>>,
    viewer: Viewer,
    Form(form): Form<PeerForm>,
) -> Result<Response, Refusal> {
    check_csrf(&viewer, Some(&form.csrf))?;
    if !viewer.can(Role::Admin) {
        return Ok(forbidden(&c, &viewer));
    }
    let result = c.service.add_peer(form.address.trim()).await;
    Ok(after(
        &c,
        &viewer,
        "/console/peers",
        result
            .map(|()| viewer.lang.words()["done"].to_string())
            .map_err(|e| e.to_string()),
    ))
}

async fn evidence(State(c): State<Arc<Console>>, viewer: Viewer) -> Response {
    let result = call(&c, |s| Ok((s.evidence_len()?, s.checkpoint()?))).await;
    match result {
        Ok((size, checkpoint)) => {
            let mut ctx = viewer.context();
            ctx["size"] = json!(size);
            ctx["checkpoint"] = json!(checkpoint);
            ctx["page"] = json!("evidence");
            c.render("evidence.html", viewer.lang, ctx)
        }
        Err(e) => failure(&c, &viewer, &e),
    }
}

// ---- verification ----

async fn verify_page(State(c): State<Arc<Console>>, viewer: Viewer) -> Response {
    let mut ctx = viewer.context();
    ctx["page"] = json!("verify");
    c.render("verify.html", viewer.lang, ctx)
}

/// The largest bundle the verification page takes.
const MAX_BUNDLE: usize = 64 * 1024 * 1024;

/// Verifies an uploaded bundle (and documents) under this node's trust policy and its
/// revocation information, now.
async fn verify(
    State(c): State<Arc<Console>>,
    viewer: Viewer,
    mut form: Multipart,
) -> Result<Response, Refusal> {
    let mut csrf = None;
    let mut bundle = None;
    let mut docs: Vec<Vec<u8>> = Vec::new();
    let limit = c.service.config().api_limits.max_upload_bytes;
    let mut total = 0usize;
    loop {
        let mut field = match form.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => return Ok(after(&c, &viewer, "/console/verify", Err(e.body_text()))),
        };
        let name = field.name().unwrap_or("").to_string();
        if name == "csrf" {
            csrf = field.text().await.ok();
            continue;
        }
        check_csrf(&viewer, csrf.as_deref())?;
        if field.file_name().is_none_or(str::is_empty) {
            continue;
        }
        let cap = if name == "bundle" { MAX_BUNDLE } else { limit };
        let mut bytes = Vec::new();
        loop {
            match field.chunk().await {
                Ok(Some(chunk)) => {
                    total += chunk.len();
                    if bytes.len() + chunk.len() > cap || total > limit.max(MAX_BUNDLE) {
                        return Ok(after(
                            &c,
                            &viewer,
                            "/console/verify",
                            Err(
                                "the files are too large to verify here; use `signet verify`"
                                    .into(),
                            ),
                        ));
                    }
                    bytes.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) => return Ok(after(&c, &viewer, "/console/verify", Err(e.body_text()))),
            }
        }
        if name == "bundle" {
            bundle = Some(bytes);
        } else if docs.len() < MAX_DOCUMENTS {
            docs.push(bytes);
        }
    }
    check_csrf(&viewer, csrf.as_deref())?;
    let Some(bundle) = bundle else {
        return Ok(after(
            &c,
            &viewer,
            "/console/verify",
            Err("choose a bundle file".into()),
        ));
    };
    let result = call(&c, move |s| {
        let policy = s.config().trust_policy()?;
        let revocations = s.revocation_information()?;
        let docs: Vec<&[u8]> = docs.iter().map(Vec::as_slice).collect();
        let revs: Vec<&[u8]> = revocations.iter().map(Vec::as_slice).collect();
        Ok(signet_protocol::bundle::verify_bundle_with(
            &bundle,
            &docs,
            &revs,
            &policy,
            now(),
        ))
    })
    .await;
    match result {
        Ok(report) => {
            let mut ctx = viewer.context();
            ctx["report"] = crate::report::report_json(&report);
            ctx["page"] = json!("verify");
            Ok(c.render("verify.html", viewer.lang, ctx))
        }
        Err(e) => Ok(failure(&c, &viewer, &e)),
    }
}

// ---- people ----

async fn people(State(c): State<Arc<Console>>, viewer: Viewer) -> Response {
    if !viewer.can(Role::Admin) {
        return forbidden(&c, &viewer);
    }
    let people: Vec<Value> = c
        .people
        .all()
        .iter()
        .map(|p| {
            json!({
                "id": p.id.to_string(),
                "name": p.name,
                "role": p.role.name(),
                "created_at": p.created_at.to_string(),
                "passkeys": p.passkeys.iter().map(|k| json!({
                    "label": k.label,
                    "device_bound": !k.backup_eligible,
                    "added_at": k.added_at.to_string(),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    let mut ctx = viewer.context();
    ctx["people"] = json!(people);
    ctx["page"] = json!("people");
    c.render("people.html", viewer.lang, ctx)
}

#[derive(Debug, Deserialize)]
struct InviteForm {
    csrf: String,
    name: String,
    role: String,
}

async fn invite(
    State(c): State<Arc<Console>>,
    viewer: Viewer,
    Form(form): Form<InviteForm>,
) -> Result<Response, Refusal> {
    check_csrf(&viewer, Some(&form.csrf))?;
    if !viewer.can(Role::Admin) {
        return Ok(forbidden(&c, &viewer));
    }
    let Some(role) = Role::parse(&form.role) else {
        return Ok(after(
            &c,
            &viewer,
            "/console/people",
            Err(format!("unknown role {}", form.role)),
        ));
    };
    let result = c.invite(&form.name, role);
    if let Ok(link) = &result {
        flash(&c, &viewer, "invite", link.clone());
        return Ok(Redirect::to("/console/people").into_response());
    }
    Ok(after(
        &c,
        &viewer,
        "/console/people",
        result.map_err(|e| e.to_string()),
    ))
}

#[derive(Debug, Deserialize)]
struct PersonForm {
    csrf: String,
    /// `remove`, or a role name.
    change: String,
}

async fn change_person(
    State(c): State<Arc<Console>>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Form<PersonForm>,
) -> Result<Response, Refusal> {
    check_csrf(&viewer, Some(&form.csrf))?;
    if !viewer.can(Role::Admin) {
        return Ok(forbidden(&c, &viewer));
    }
    let Ok(id) = Uuid::parse_str(&id) else {
        return Ok(after(
            &c,
            &viewer,
            "/console/people",
            Err("no such person".into()),
        ));
    };
    let result = match (form.change.as_str(), Role::parse(&form.change)) {
        ("remove", _) => c.people.remove(&id).map(|_| ()),
        (_, Some(role)) => c.people.set_role(&id, role),
        _ => {
            return Ok(after(
                &c,
                &viewer,
                "/console/people",
                Err("unknown change".into()),
            ));
        }
    };
    if result.is_ok() {
        // Their sign-ins end: the next page they open asks them to sign in again.
        if let Ok(mut logins) = c.logins.lock() {
            logins.end_person(&id);
        }
    }
    Ok(after(
        &c,
        &viewer,
        "/console/people",
        result
            .map(|()| viewer.lang.words()["done"].to_string())
            .map_err(|e| e.to_string()),
    ))
}

/// The CA roots as the attestations page shows them: each with its CRL's nextUpdate as
/// text (`crl_until`, when a current CRL is held) beside the refresh state.
fn ca_roots_shown(service: &Service) -> Vec<Value> {
    service
        .ca_roots()
        .into_iter()
        .map(|mut root| {
            with_crl_until(&mut root);
            for below in root["intermediates"].as_array_mut().into_iter().flatten() {
                with_crl_until(below);
            }
            root
        })
        .collect()
}

/// Adds `crl_until`, the held CRL's nextUpdate as text, to a root's or intermediate CA's
/// entry that has one.
fn with_crl_until(ca: &mut Value) {
    let until = ca["crl"]["next_update"]
        .as_u64()
        .map(|t| signet_protocol::Timestamp::from_unix(t).to_string());
    if let (Some(until), Some(o)) = (until, ca.as_object_mut()) {
        o.insert("crl_until".into(), json!(until));
    }
}
