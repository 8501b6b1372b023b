//! Endpoints for the party's own authority: seals, seal mandates (delegations), and the
//! attestations it issues about others besides identity (endorsements, accreditations).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use serde::Deserialize;
use serde_json::{Value, json};
use signet_protocol::attestation::{Amount, Claims};
use signet_protocol::keylog::LogKey;
use signet_protocol::person::{CredentialAlgorithm, PersonKey, WebAuthnCredential};

use super::{Admin, Api, JsonBody, Problem, Reader, attestation_json, blocking, party_id, year};
use crate::service::authority::{MandateView, NewMandate};

pub(super) async fn seals(_: Reader, State(api): State<Api>) -> Result<Json<Value>, Problem> {
    let seals = blocking(&api, |s| s.seals()).await?;
    Ok(Json(json!({ "seals": seals })))
}

pub(crate) fn mandate_json(m: &MandateView) -> Value {
    let mut v = attestation_json(&m.attestation);
    if let Claims::Delegation(d) = &m.attestation.payload().claims {
        v["state"] = json!(m.state);
        v["delegate"] = match (&d.delegate.key, &d.delegate.credential) {
            (Some(key), _) => json!({ "name": d.delegate.name, "key": key.to_string() }),
            (None, Some(c)) => json!({ "name": d.delegate.name, "credential": credential_json(c) }),
            (None, None) => json!({ "name": d.delegate.name }),
        };
        v["seals"] = json!(d.seals.iter().map(ToString::to_string).collect::<Vec<_>>());
        v["purposes"] = json!(d.purposes);
        v["value_cap"] = match &d.value_cap {
            Some(a) => json!({ "currency": a.currency, "minor_units": a.minor_units }),
            None => Value::Null,
        };
        v["counterparties"] = match &d.counterparties {
            Some(c) => json!(c.iter().map(ToString::to_string).collect::<Vec<_>>()),
            None => Value::Null,
        };
    }
    v
}

pub(super) async fn delegations(_: Reader, State(api): State<Api>) -> Result<Json<Value>, Problem> {
    let all = blocking(&api, |s| s.mandates()).await?;
    Ok(Json(
        json!({ "delegations": all.iter().map(mandate_json).collect::<Vec<_>>() }),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct AmountBody {
    currency: String,
    minor_units: u64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct DelegationBody {
    /// The delegate's name.
    name: String,
    /// The delegate's software public key (hex); the person keeps the secret key. Exactly one
    /// of `key` and `credential`.
    #[serde(default)]
    key: Option<String>,
    /// The delegate's passkey, as registered (see the console's registration).
    #[serde(default)]
    credential: Option<CredentialBody>,
    /// Seal keys (hex); empty or absent: every seal valid now.
    #[serde(default)]
    seals: Vec<String>,
    purposes: Vec<String>,
    value_cap: Option<AmountBody>,
    counterparties: Option<Vec<String>>,
    #[serde(default = "year")]
    days: u64,
}

/// A WebAuthn credential in JSON: id and public key base64url (no padding), the algorithm
/// by name (`ES256`, `EdDSA`), the relying party.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct CredentialBody {
    id: String,
    alg: String,
    public_key: String,
    rp_id: String,
}

pub(super) fn credential_json(c: &WebAuthnCredential) -> Value {
    json!({
        "id": B64URL.encode(&c.id),
        "alg": c.alg.name(),
        "public_key": B64URL.encode(&c.public_key),
        "rp_id": c.rp_id,
    })
}

fn credential(c: CredentialBody) -> Result<WebAuthnCredential, Problem> {
    let bytes = |what: &str, text: &str| {
        B64URL.decode(text.trim_end_matches('=')).map_err(|_| {
            Problem::new(StatusCode::BAD_REQUEST, "malformed credential")
                .detail(format!("{what} is not base64url"))
        })
    };
    let alg = CredentialAlgorithm::KNOWN
        .iter()
        .copied()
        .find(|a| a.name() == c.alg)
        .ok_or_else(|| {
            Problem::new(StatusCode::BAD_REQUEST, "unknown credential algorithm")
                .detail(c.alg.clone())
        })?;
    let credential = WebAuthnCredential {
        id: bytes("id", &c.id)?,
        alg,
        public_key: bytes("public_key", &c.public_key)?,
        rp_id: c.rp_id,
    };
    credential.check().map_err(|e| {
        Problem::new(StatusCode::BAD_REQUEST, "malformed credential").detail(e.to_string())
    })?;
    Ok(credential)
}

/// A person's software key as text: 64 hex digits for Ed25519, `sm2:` and the compressed
/// point in hex for SM2.
fn person_key(text: &str) -> Result<PersonKey, Problem> {
    let malformed = |detail: String| {
        Problem::new(StatusCode::BAD_REQUEST, "malformed public key").detail(detail)
    };
    match LogKey::from_text(text).map_err(malformed)? {
        LogKey::Ed25519(key) => Ok(PersonKey::Ed25519(key)),
        LogKey::Sm2(key) => Ok(PersonKey::Sm2(key)),
        _ => Err(malformed(format!(
            "{text}: a person's key is Ed25519 or SM2"
        ))),
    }
}

fn seal_key(text: &str) -> Result<LogKey, Problem> {
    LogKey::from_text(text)
        .map_err(|e| Problem::new(StatusCode::BAD_REQUEST, "malformed seal key").detail(e))
}

pub(super) async fn delegate(
    _: Admin,
    State(api): State<Api>,
    body: JsonBody<DelegationBody>,
) -> Result<(StatusCode, Json<Value>), Problem> {
    let Json(b) = body.map_err(Problem::from)?;
    let person = match (b.key, b.credential) {
        (Some(key), None) => person_key(&key)?,
        (None, Some(c)) => PersonKey::WebAuthn(credential(c)?),
        _ => {
            return Err(Problem::new(
                StatusCode::BAD_REQUEST,
                "a delegate needs exactly one of key and credential",
            ));
        }
    };
    let new = NewMandate {
        name: b.name,
        person,
        seals: b
            .seals
            .iter()
            .map(|s| seal_key(s))
            .collect::<Result<_, _>>()?,
        purposes: b.purposes,
        value_cap: b.value_cap.map(|a| Amount {
            currency: a.currency,
            minor_units: a.minor_units,
        }),
        counterparties: b
            .counterparties
            .map(|c| c.iter().map(|p| party_id(p)).collect::<Result<_, _>>())
            .transpose()?,
        days: b.days,
    };
    let a = blocking(&api, move |s| s.delegate(new)).await?;
    let view = MandateView {
        attestation: a,
        state: "active",
    };
    Ok((StatusCode::CREATED, Json(mandate_json(&view))))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct EndorsementBody {
    subject: String,
    legal_name: String,
    registration: String,
    relationship: String,
    #[serde(default = "year")]
    days: u64,
}

pub(super) async fn endorse(
    _: Admin,
    State(api): State<Api>,
    body: JsonBody<EndorsementBody>,
) -> Result<(StatusCode, Json<Value>), Problem> {
    let Json(b) = body.map_err(Problem::from)?;
    let subject = party_id(&b.subject)?;
    let a = blocking(&api, move |s| {
        s.endorse(
            subject,
            &b.legal_name,
            &b.registration,
            &b.relationship,
            b.days,
        )
    })
    .await?;
    Ok((StatusCode::CREATED, Json(attestation_json(&a))))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct AccreditationBody {
    subject: String,
    #[serde(default)]
    may_accredit: bool,
    #[serde(default = "year")]
    days: u64,
}

pub(super) async fn accredit(
    _: Admin,
    State(api): State<Api>,
    body: JsonBody<AccreditationBody>,
) -> Result<(StatusCode, Json<Value>), Problem> {
    let Json(b) = body.map_err(Problem::from)?;
    let subject = party_id(&b.subject)?;
    let a = blocking(&api, move |s| s.accredit(subject, b.may_accredit, b.days)).await?;
    Ok((StatusCode::CREATED, Json(attestation_json(&a))))
}
