//! The trust policy's CA roots and their CRLs over the API (spec §6.11; `signet policy`):
//! listed with each CRL's status, added in effect at once, and fetched on demand.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use serde_json::{Value, json};

use super::problem::Problem;
use super::{Admin, Api, JsonBody, Reader, b64, blocking};

/// `GET /v1/policy/ca-roots`: each root's name, subject and CRL status.
pub(super) async fn ca_roots(_: Reader, State(api): State<Api>) -> Result<Json<Value>, Problem> {
    let roots = blocking(&api, |s| Ok(s.ca_roots())).await?;
    Ok(Json(json!({ "roots": roots })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RootBody {
    /// A name for the CA.
    name: String,
    /// The root certificate file's bytes (PEM or DER), base64.
    certificate: String,
    /// Where the CA publishes its CRL (`http://`).
    #[serde(default)]
    crl_url: Option<String>,
}

/// `POST /v1/policy/ca-roots`: adds a CA root, in effect at once; its CRL is fetched next.
pub(super) async fn add_ca_root(
    _: Admin,
    State(api): State<Api>,
    body: JsonBody<RootBody>,
) -> Result<Json<Value>, Problem> {
    let Json(b) = body.map_err(Problem::from)?;
    let certificate = b64(&b.certificate)?;
    let name = b.name.clone();
    blocking(&api, move |s| {
        s.add_ca_root(&b.name, &certificate, b.crl_url.as_deref())
    })
    .await?;
    Ok(Json(json!({ "added": name.trim() })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct CrlBody {
    /// The CRL file's bytes (PEM or DER), base64.
    crl: String,
}

/// `POST /v1/policy/crls`: takes a CRL of a root of the policy, or of an intermediate CA on a
/// path to one, in effect at once.
pub(super) async fn add_crl(
    _: Admin,
    State(api): State<Api>,
    body: JsonBody<CrlBody>,
) -> Result<Json<Value>, Problem> {
    let Json(b) = body.map_err(Problem::from)?;
    let crl = b64(&b.crl)?;
    let taken = blocking(&api, move |s| Ok(s.take_crl(&crl, "api")?)).await?;
    Ok(Json(json!({
        "root": taken.root,
        "intermediate": taken.intermediate,
        "this_update": taken.info.this_update,
        "next_update": taken.info.next_update,
        "revoked": taken.info.revoked,
        "changed": taken.changed,
    })))
}

/// `POST /v1/policy/crls/fetch`: fetches every root's and intermediate CA's CRL now; answers
/// every root's status (the intermediates' under their root) and the refusals.
pub(super) async fn fetch_crls(_: Admin, State(api): State<Api>) -> Result<Json<Value>, Problem> {
    let refused = api
        .service
        .refresh_crls(true)
        .await
        .map_err(Problem::from)?;
    let roots = blocking(&api, |s| Ok(s.ca_roots())).await?;
    let refused: Vec<Value> = refused
        .iter()
        .map(|(root, error)| json!({ "root": root, "error": error.to_string() }))
        .collect();
    Ok(Json(json!({ "roots": roots, "refused": refused })))
}
