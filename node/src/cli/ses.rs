//! `signet verify` of a GB/T 38540 seal signature (`SES_Signature`, spec §11.6) exported
//! beside a sealed PDF: the signature over its data, its seal's maker against the CAs given,
//! and its signer's key against the key logs of the session's bundle.

use anyhow::Result;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use signet_protocol::bundle::{Bundle, Outcome};
use signet_protocol::keylog::{KeyLog, KeyPurpose, LogKey};
use signet_protocol::ses::{self, SesError, VerifiedSignature};

use super::{Exit, VerifyArgs, der_of, exit_code, read_file};

/// Whether `bytes` are a DER `SES_Signature` (what `signet verify` then checks as one).
pub(crate) fn is_ses_signature(bytes: &[u8]) -> bool {
    <ses::asn1::SesSignature as der::Decode>::from_der(bytes).is_ok()
}

/// The data a seal signature may be over, from a `--document`: for a PDF, what each of its
/// signatures' byte ranges covers (a PDF seal's `SES_Signature` is over those bytes); for any
/// other file, the file.
fn candidates(document: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    if document.starts_with(b"%PDF-")
        && let Ok(signatures) = signet_node::pdf::verify::signatures(document)
    {
        for range in signatures.iter().filter_map(|s| s.byte_range) {
            let [_, gap_start, gap_end, len] = range;
            let (Ok(a), Ok(b), Ok(l)) = (
                usize::try_from(gap_start),
                usize::try_from(gap_end),
                usize::try_from(len),
            ) else {
                continue;
            };
            if let (Some(head), Some(tail)) = (
                document.get(..a),
                b.checked_add(l).and_then(|end| document.get(b..end)),
            ) {
                out.push([head, tail].concat());
            }
        }
    }
    out.push(document.to_vec());
    out
}

/// `signet verify FILE.ses --document DATA [--ca CA] [--bundle BUNDLE]`.
pub(crate) fn verify_ses(bytes: &[u8], a: &VerifyArgs, as_json: bool) -> Result<u8> {
    if a.document.is_empty() {
        return Err(Exit(
            2,
            "a seal signature is verified over its data: give --document (the sealed PDF, or the data)"
                .into(),
        )
        .into());
    }
    let mut checks: Vec<(Outcome, String)> = Vec::new();
    let mut verified: Option<VerifiedSignature> = None;
    let mut refusal: Option<SesError> = None;
    for path in &a.document {
        for data in candidates(&read_file(path)?) {
            match ses::verify_signature(bytes, &data) {
                Ok(v) => {
                    verified = Some(v);
                    break;
                }
                // A digest mismatch only says this candidate is not the data; any other
                // refusal is about the signature itself.
                Err(SesError::DataHash) => {}
                Err(error) => refusal = Some(error),
            }
        }
        if verified.is_some() {
            break;
        }
    }
    let Some(v) = verified else {
        let why = refusal.unwrap_or(SesError::DataHash);
        checks.push((
            Outcome::Invalid,
            format!("the seal signature does not verify over the document: {why}"),
        ));
        return finish(&checks, None, as_json);
    };
    checks.push((
        Outcome::Valid,
        format!(
            "the seal signature verifies: the maker's and the signer's SM2 signatures, the \
             signer's certificate in the seal's list, the SM3 data hash, the seal's and the \
             certificate's validity at {}",
            v.signed_at
        ),
    ));
    let mut roots = Vec::new();
    for path in &a.ca {
        roots.push(der_of(&read_file(path)?));
    }
    let mut crls = Vec::new();
    for path in &a.crl {
        crls.push(read_file(path)?);
    }
    // The time-stamp's authority must chain to a given CA, as a PDF's does.
    let certificates: Vec<x509_cert::Certificate> = roots
        .iter()
        .filter_map(|der| <x509_cert::Certificate as der::Decode>::from_der(der).ok())
        .collect();
    signet_node::pdf::assess::ses_time_stamp_checks(
        &v,
        &certificates,
        &crls,
        signet_node::service::now(),
        &mut checks,
    );
    checks.push(if roots.contains(&v.seal.maker_certificate) {
        (Outcome::Valid, "the seal's maker is a given CA".into())
    } else if roots.is_empty() {
        (
            Outcome::Indeterminate,
            "no trust root given (--ca): the seal's maker is not shown trusted".into(),
        )
    } else {
        (
            Outcome::Indeterminate,
            "the seal's maker is not a given CA".into(),
        )
    });
    checks.push(signer_in_key_log(&v, a)?);
    finish(&checks, Some(&v), as_json)
}

/// Whether the signer's key was an SM2 `pdf` key of a party whose key log the bundle holds.
fn signer_in_key_log(v: &VerifiedSignature, a: &VerifyArgs) -> Result<(Outcome, String)> {
    let Some(path) = &a.with_bundle else {
        return Ok((
            Outcome::Indeterminate,
            "no bundle given (--bundle): the signer's key is not matched to a party's key log"
                .into(),
        ));
    };
    let bundle = Bundle::decode(&read_file(path)?)
        .map_err(|e| Exit(1, format!("{}: {e}", path.display())))?;
    let key = LogKey::Sm2(v.signer_key);
    for events in &bundle.key_logs {
        let Ok(log) = KeyLog::replay(&events.events) else {
            continue;
        };
        if log
            .check_log_key(&key, KeyPurpose::Pdf, v.signed_at)
            .is_ok()
        {
            return Ok((
                Outcome::Valid,
                format!(
                    "the signer's key was a pdf key of party {} at {} (its key log in the bundle)",
                    log.party(),
                    v.signed_at
                ),
            ));
        }
    }
    Ok((
        Outcome::Invalid,
        "the signer's key is no party's pdf key at the signing time in the bundle's key logs"
            .into(),
    ))
}

/// Whether the bundle's key log of `party` held `key` as a `pdf` key at `at`.
pub(crate) fn pdf_key_of(
    bundle: &[u8],
    party: &signet_protocol::party::PartyId,
    key: signet_protocol::sm2::Sm2PublicKey,
    at: signet_protocol::Timestamp,
) -> bool {
    let Ok(bundle) = Bundle::decode(bundle) else {
        return false;
    };
    bundle.key_logs.iter().any(|events| {
        KeyLog::replay(&events.events).is_ok_and(|log| {
            log.party() == *party
                && log
                    .check_log_key(&LogKey::Sm2(key), KeyPurpose::Pdf, at)
                    .is_ok()
        })
    })
}

fn finish(
    checks: &[(Outcome, String)],
    v: Option<&VerifiedSignature>,
    as_json: bool,
) -> Result<u8> {
    let outcome = if checks.iter().any(|(o, _)| *o == Outcome::Invalid) {
        Outcome::Invalid
    } else if checks.iter().any(|(o, _)| *o == Outcome::Indeterminate) {
        Outcome::Indeterminate
    } else {
        Outcome::Valid
    };
    if as_json {
        let value = serde_json::json!({
            "outcome": outcome.as_str(),
            "seal": v.map(|v| serde_json::json!({
                "name": v.seal.name,
                "es_id": v.seal.es_id,
                "maker_certificate": B64.encode(&v.seal.maker_certificate),
            })),
            "signer_certificate": v.map(|v| B64.encode(&v.signer_certificate)),
            "signed_at": v.map(|v| v.signed_at.to_string()),
            "checks": checks.iter().map(|(o, what)| serde_json::json!({"outcome": o.as_str(), "check": what})).collect::<Vec<_>>(),
        });
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        if let Some(v) = v {
            println!(
                "GB/T 38540 seal signature: seal {:?} ({}), applied at {}",
                v.seal.name, v.seal.es_id, v.signed_at
            );
        }
        for (o, what) in checks {
            println!("  {} {what}", o.as_str());
        }
        println!("outcome: {}", outcome.as_str());
    }
    Ok(exit_code(outcome))
}
