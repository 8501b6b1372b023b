//! Endpoints for the party's own authority: seals, seal mandates (delegations), and the
//! attestations it issues about others besides identity (endorsements, accreditations).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use signet_protocol::PublicKey;
use signet_protocol::attestation::{Amount, Claims};

use super::{Admin, Api, JsonBody, Problem, Reader, attestation_json, blocking, party_id, year};
use crate::service::authority::{MandateView, NewMandate};

pub(super) async fn seals(_: Reader, State(api): State<Api>) -> Result<Json<Value>, Problem> {
    let seals = blocking(&api, |s| s.seals()).await?;
    Ok(Json(json!({ "seals": seals })))
}

fn mandate_json(m: &MandateView) -> Value {
    let mut v = attestation_json(&m.attestation);
    if let Claims::Delegation(d) = &m.attestation.payload().claims {
        v["state"] = json!(m.state);
        v["delegate"] = json!({ "name": d.delegate.name, "key": d.delegate.key.to_string() });
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
    /// The delegate's public key (hex); the person keeps the secret key.
    key: String,
    /// Seal keys (hex); empty or absent: every seal valid now.
    #[serde(default)]
    seals: Vec<String>,
    purposes: Vec<String>,
    value_cap: Option<AmountBody>,
    counterparties: Option<Vec<String>>,
    #[serde(default = "year")]
    days: u64,
}

fn public_key(text: &str) -> Result<PublicKey, Problem> {
    PublicKey::from_hex(text)
        .map_err(|_| Problem::new(StatusCode::BAD_REQUEST, "malformed public key").detail(text))
}

pub(super) async fn delegate(
    _: Admin,
    State(api): State<Api>,
    body: JsonBody<DelegationBody>,
) -> Result<(StatusCode, Json<Value>), Problem> {
    let Json(b) = body.map_err(Problem::from)?;
    let new = NewMandate {
        name: b.name,
        key: public_key(&b.key)?,
        seals: b
            .seals
            .iter()
            .map(|s| public_key(s))
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
