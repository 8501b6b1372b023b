//! A verdict on each signature of a sealed PDF, against trust roots the verifier chose: the
//! facts of [`super::verify`], the signer's certificate chained to a given CA certificate and
//! valid at the time of signing, and its revocation status from a given CRL.
//!
//! VALID means every check held. What cannot be shown — no trust root given, no CRL given
//! (or one out of date), a time of signing shown by no time-stamp — makes a signature
//! INDETERMINATE, never VALID: the claimed signing time `/M` is the signer's word and is
//! reported, not relied on.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use der::{Decode, Encode};
use signet_protocol::Timestamp;
use signet_protocol::bundle::Outcome;
use signet_protocol::x509::asn1::{p256_key_of, verify_der};
use x509_cert::Certificate;
use x509_cert::crl::CertificateList;

use super::PdfError;
use super::verify::{self, SignatureInfo};

/// One signature's verdict.
#[derive(Debug, Clone)]
pub struct Assessment {
    /// The facts read from the file.
    pub info: SignatureInfo,
    /// VALID, INVALID or INDETERMINATE.
    pub outcome: Outcome,
    /// Each check, in words, with its outcome.
    pub checks: Vec<(Outcome, String)>,
}

/// The verdict on every signature of `pdf`, with `roots` (DER CA certificates) as the trust
/// roots and `crls` (DER) as revocation information, at the time `now`.
///
/// # Errors
///
/// [`PdfError::Parse`] or [`PdfError::Encrypted`] when the file cannot be read.
pub fn assess(
    pdf: &[u8],
    roots: &[Vec<u8>],
    crls: &[Vec<u8>],
    now: Timestamp,
) -> Result<Vec<Assessment>, PdfError> {
    let roots: Vec<Certificate> = roots
        .iter()
        .filter_map(|der_bytes| Certificate::from_der(der_bytes).ok())
        .collect();
    Ok(verify::signatures(pdf)?
        .into_iter()
        .map(|info| assess_one(info, &roots, crls, now))
        .collect())
}

fn assess_one(
    info: SignatureInfo,
    roots: &[Certificate],
    crls: &[Vec<u8>],
    now: Timestamp,
) -> Assessment {
    let mut checks = Vec::new();
    let mut check = |ok: bool, yes: &str, no: String| {
        checks.push(if ok {
            (Outcome::Valid, yes.to_string())
        } else {
            (Outcome::Invalid, no)
        });
    };
    check(
        info.problem.is_none(),
        "the signature object is readable",
        format!(
            "the signature object: {}",
            info.problem.as_deref().unwrap_or("")
        ),
    );
    check(
        info.covers_revision,
        "the signed byte ranges cover the file up to the end of a revision, all but the signature",
        "the signed byte ranges do not cover a whole revision".into(),
    );
    check(
        info.digest_matches,
        "the signed bytes are unchanged (message digest)",
        "the signed bytes were changed".into(),
    );
    check(
        info.signature_valid,
        "the CMS signature verifies with the signer's certificate",
        "the CMS signature does not verify".into(),
    );
    check(
        info.certificate_bound,
        "the signature names its certificate (signing-certificate-v2)",
        "the signature does not bind its certificate".into(),
    );
    let (time, time_shown) = signing_time(&info, &mut checks, now);
    match info
        .signer_certificate
        .as_deref()
        .and_then(|der_bytes| Certificate::from_der(der_bytes).ok())
    {
        Some(certificate) => chain(
            &certificate,
            roots,
            crls,
            (time, time_shown),
            now,
            &mut checks,
        ),
        None => checks.push((
            Outcome::Invalid,
            "the signer's certificate is not in the signature".into(),
        )),
    }
    let outcome = if checks.iter().any(|(o, _)| *o == Outcome::Invalid) {
        Outcome::Invalid
    } else if checks.iter().any(|(o, _)| *o == Outcome::Indeterminate) {
        Outcome::Indeterminate
    } else {
        Outcome::Valid
    };
    Assessment {
        info,
        outcome,
        checks,
    }
}

/// The time the certificate must have been valid at, and whether a time-stamp shows it: the
/// time-stamp's, when it holds; else the verification time (the signer's claimed `/M` is not
/// evidence).
fn signing_time(
    info: &SignatureInfo,
    checks: &mut Vec<(Outcome, String)>,
    now: Timestamp,
) -> (SystemTime, bool) {
    match &info.timestamp {
        Some(t) if t.imprint_matches && t.signature_valid => {
            checks.push((
                Outcome::Valid,
                format!(
                    "time-stamped by {} (the time-stamp's own chain is not checked here)",
                    t.tsa_name.as_deref().unwrap_or("an unnamed authority")
                ),
            ));
            (t.gen_time, true)
        }
        Some(_) => {
            checks.push((
                Outcome::Invalid,
                "the signature time-stamp does not verify or is not over this signature".into(),
            ));
            (at(now), false)
        }
        None => {
            checks.push((
                Outcome::Valid,
                "no time-stamp: the certificate is checked at the verification time, and the \
                 time of signing is not shown (the claimed time is the signer's word)"
                    .into(),
            ));
            (at(now), false)
        }
    }
}

fn at(time: Timestamp) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(time.unix())
}

/// The signer's certificate issued by one of `roots`, valid at `time`, and not revoked by a
/// current CRL of that root.
fn chain(
    certificate: &Certificate,
    roots: &[Certificate],
    crls: &[Vec<u8>],
    (time, time_shown): (SystemTime, bool),
    now: Timestamp,
    checks: &mut Vec<(Outcome, String)>,
) {
    let tbs = certificate.tbs_certificate();
    let Some(root) = roots.iter().find(|root| issued_by(certificate, root)) else {
        checks.push((
            Outcome::Indeterminate,
            if roots.is_empty() {
                "no trust root given (--ca): the signer's certificate cannot be chained".into()
            } else {
                "the signer's certificate was not issued by a given CA".into()
            },
        ));
        return;
    };
    let validity = tbs.validity();
    let within =
        validity.not_before.to_system_time() <= time && time <= validity.not_after.to_system_time();
    checks.push(if within {
        (
            Outcome::Valid,
            "the certificate was issued by the given CA and was valid then".into(),
        )
    } else {
        (
            Outcome::Invalid,
            "the certificate was not valid at that time".into(),
        )
    });
    let serial = tbs.serial_number().as_bytes().to_vec();
    let current: Vec<CertificateList> = crls
        .iter()
        .filter_map(|der_bytes| CertificateList::from_der(der_bytes).ok())
        .filter(|crl| crl_signed_by(crl, root))
        .filter(|crl| {
            let this = crl.tbs_cert_list.this_update.to_system_time();
            let next = crl.tbs_cert_list.next_update.map(|t| t.to_system_time());
            this <= at(now) && next.is_none_or(|n| at(now) < n)
        })
        .collect();
    if current.is_empty() {
        checks.push((
            Outcome::Indeterminate,
            "revocation status not shown: no current CRL of the CA given (--crl)".into(),
        ));
        return;
    }
    let revoked_at = current
        .iter()
        .flat_map(|crl| crl.tbs_cert_list.revoked_certificates.iter().flatten())
        .filter(|r| r.serial_number.as_bytes() == serial.as_slice())
        .map(|r| r.revocation_date.to_system_time())
        .min();
    checks.push(match revoked_at {
        None => (
            Outcome::Valid,
            "the certificate is not revoked (the CA's current CRL)".into(),
        ),
        // A time-stamp before the revocation shows the seal was made while it held.
        Some(revoked) if time_shown && time < revoked => (
            Outcome::Valid,
            "the certificate was revoked after the time-stamp: the seal predates it".into(),
        ),
        Some(_) if time_shown => (
            Outcome::Invalid,
            "the certificate was revoked before the time-stamped time of signing".into(),
        ),
        Some(_) => (
            Outcome::Indeterminate,
            "the certificate is revoked, and no time-stamp shows the seal predates the \
             revocation"
                .into(),
        ),
    });
}

/// Whether `root` issued `certificate`: issuer name and signature.
fn issued_by(certificate: &Certificate, root: &Certificate) -> bool {
    certificate.tbs_certificate().issuer() == root.tbs_certificate().subject()
        && signed_by(
            certificate.tbs_certificate().to_der(),
            certificate.signature().as_bytes(),
            root,
        )
}

fn crl_signed_by(crl: &CertificateList, root: &Certificate) -> bool {
    crl.tbs_cert_list.issuer == *root.tbs_certificate().subject()
        && signed_by(crl.tbs_cert_list.to_der(), crl.signature.as_bytes(), root)
}

/// Whether `signature` (DER ECDSA) over the DER `tbs` verifies with `root`'s P-256 key.
fn signed_by(tbs: der::Result<Vec<u8>>, signature: Option<&[u8]>, root: &Certificate) -> bool {
    let Some(key) = p256_key_of(root.tbs_certificate().subject_public_key_info()) else {
        return false;
    };
    match (tbs, signature) {
        (Ok(tbs), Some(signature)) => verify_der(&key, &tbs, signature),
        _ => false,
    }
}
