//! A bundle's validation report (spec §11.3) as JSON, for `signet verify --json` and the
//! console's verification page alike.

use serde_json::{Value, json};
use signet_protocol::bundle::{Condition, Report};

/// The report as JSON: outcome, title, parties (who they are and who signed, as verified),
/// every check, and the four reliability conditions.
pub fn report_json(report: &Report) -> Value {
    let checks: Vec<_> = report
        .checks
        .iter()
        .map(|c| {
            json!({
                "name": c.name,
                "subject": c.subject,
                "outcome": c.outcome.as_str(),
                "detail": c.detail,
            })
        })
        .collect();
    let parties: Vec<_> = report
        .parties
        .iter()
        .map(|p| {
            json!({
                "party": p.party.to_string(),
                "label": p.label(),
                "role": p.role,
                "legal_name": p.identity.as_ref().map(|i| i.legal_name.clone()),
                "registration": p
                    .identity
                    .as_ref()
                    .and_then(|i| i.registration.as_ref())
                    .map(signet_protocol::registration::Registration::for_people),
                "identity": p.established.as_str(),
                "basis": p.basis,
                "signed": p.signed.as_ref().map(|s| json!({
                    "person": s.person,
                    "method": s.method.to_string(),
                    "time": s.time.to_string(),
                })),
            })
        })
        .collect();
    let r = &report.reliability;
    let cond = |c: &Condition| json!({"outcome": c.outcome.as_str(), "basis": c.basis});
    json!({
        "outcome": report.outcome.as_str(),
        "title": report.title,
        "parties": parties,
        "checks": checks,
        "reliability": {
            "signer_binding": cond(&r.signer_binding),
            "signer_control": cond(&r.signer_control),
            "signature_integrity": cond(&r.signature_integrity),
            "document_integrity": cond(&r.document_integrity),
        },
    })
}
