//! A verdict on each signature of a sealed PDF, against trust roots the verifier chose: the
//! facts of [`super::verify`], the signer's certificate chained to a given CA certificate and
//! valid at the time of signing, and its revocation status from a given CRL.
//!
//! VALID means every check held. What cannot be shown — no trust root given, no CRL given
//! (or one out of date), a time of signing shown by no time-stamp — makes a signature
//! INDETERMINATE, never VALID: the claimed signing time `/M` is the signer's word and is
//! reported, not relied on.
//!
//! Each seal's PAdES level (ETSI EN 319 142-1, 6) is reported beside its verdict, from what
//! the file holds: a signature time-stamp (B-T), the certificates and CRLs of its paths in
//! the DSS (B-LT), a VALID document time-stamp over that DSS (B-LTA). The level does not
//! change the verdict. CRLs in the DSS count as revocation information like those given.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use der::{Decode, Encode};
use signet_protocol::Timestamp;
use signet_protocol::bundle::Outcome;
use signet_protocol::x509::asn1::{p256_key_of, verify_der};
use x509_cert::Certificate;
use x509_cert::crl::CertificateList;

use super::PdfError;
use super::ltv::{self, DocumentSecurityStore};
use super::national;
use super::tsa;
use super::verify::{self, DocumentTimeStampInfo, SesInfo, SignatureInfo};

/// One signature's verdict.
#[derive(Debug, Clone)]
pub struct Assessment {
    /// The facts read from the file.
    pub info: SignatureInfo,
    /// VALID, INVALID or INDETERMINATE.
    pub outcome: Outcome,
    /// Each check, in words, with its outcome.
    pub checks: Vec<(Outcome, String)>,
    /// What the file holds for the seal's long-term validation.
    pub levels: PadesLevels,
}

impl Assessment {
    /// The PAdES level the seal holds, `None` for a seal that is not PAdES at all (an SM2/SM3
    /// signature, spec 8.2.4.1: PAdES names SHA-2 digests only) or whose algorithms are not
    /// known. [`Assessment::levels`] lists what the file holds either way.
    pub fn pades_level(&self) -> Option<PadesLevel> {
        (self.info.suite == Some(super::national::SignatureSuite::EcdsaP256Sha256))
            .then(|| self.levels.level())
    }
}

/// A document time-stamp's verdict.
#[derive(Debug, Clone)]
pub struct TimeStampAssessment {
    /// The facts read from the file.
    pub info: DocumentTimeStampInfo,
    /// VALID, INVALID or INDETERMINATE.
    pub outcome: Outcome,
    /// Each check, in words, with its outcome.
    pub checks: Vec<(Outcome, String)>,
}

/// The PAdES baseline levels (ETSI EN 319 142-1, 6), each building on the one before.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[non_exhaustive]
pub enum PadesLevel {
    /// B-B: a CAdES signature in the PDF.
    BaselineB,
    /// B-T: with a signature time-stamp.
    BaselineT,
    /// B-LT: with the validation data in the DSS.
    BaselineLt,
    /// B-LTA: with a document time-stamp over that validation data.
    BaselineLta,
}

impl std::fmt::Display for PadesLevel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::BaselineB => "B-B",
            Self::BaselineT => "B-T",
            Self::BaselineLt => "B-LT",
            Self::BaselineLta => "B-LTA",
        })
    }
}

/// What the file holds for one seal, level by level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PadesLevels {
    /// The seal carries a signature time-stamp whose imprint and signature check out.
    pub signature_time_stamp: bool,
    /// The DSS (with the seal's own CMS) holds every certificate on the signer's and the
    /// time-stamp authority's paths up to a self-signed root, and for each certificate below
    /// the root a CRL signed by its issuer.
    pub validation_data: bool,
    /// A document time-stamp judged VALID covers the seal and a DSS that already held its
    /// validation data.
    pub document_time_stamp: bool,
}

impl PadesLevels {
    /// The highest level whose requirements, and those of every level below, are met.
    pub fn level(&self) -> PadesLevel {
        match (
            self.signature_time_stamp,
            self.validation_data,
            self.document_time_stamp,
        ) {
            (true, true, true) => PadesLevel::BaselineLta,
            (true, true, false) => PadesLevel::BaselineLt,
            (true, false, _) => PadesLevel::BaselineT,
            (false, _, _) => PadesLevel::BaselineB,
        }
    }
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
    let roots = parse_roots(roots);
    let dss = ltv::document_security_store(pdf)?;
    let crls = with_dss_crls(crls, &dss);
    let stamps = judge_time_stamps(pdf, &roots, &crls, now)?;
    // The DSS each VALID document time-stamp covers: the file as of its revision.
    let stamped: Vec<(u64, DocumentSecurityStore)> = stamps
        .iter()
        .filter(|stamp| stamp.outcome == Outcome::Valid)
        .filter_map(|stamp| {
            let end = covered_end(stamp.info.byte_range)?;
            let covered = pdf.get(..usize::try_from(end).ok()?)?;
            Some((end, ltv::document_security_store(covered).ok()?))
        })
        .collect();
    Ok(verify::signatures(pdf)?
        .into_iter()
        .map(|info| {
            let mut assessment = assess_one(info, &roots, &crls, now);
            assessment.levels = levels(&assessment.info, &dss, &stamped);
            assessment
        })
        .collect())
}

/// The verdict on every document time-stamp of `pdf`: intact, over a whole revision, by a
/// time-stamp authority whose certificate one of `roots` issued, valid at the time it
/// certified and not revoked by a current CRL (of `crls` or the DSS).
///
/// # Errors
///
/// [`PdfError::Parse`] or [`PdfError::Encrypted`] when the file cannot be read.
pub fn assess_document_time_stamps(
    pdf: &[u8],
    roots: &[Vec<u8>],
    crls: &[Vec<u8>],
    now: Timestamp,
) -> Result<Vec<TimeStampAssessment>, PdfError> {
    let dss = ltv::document_security_store(pdf)?;
    judge_time_stamps(pdf, &parse_roots(roots), &with_dss_crls(crls, &dss), now)
}

fn parse_roots(roots: &[Vec<u8>]) -> Vec<Certificate> {
    roots
        .iter()
        .filter_map(|der_bytes| Certificate::from_der(der_bytes).ok())
        .collect()
}

fn with_dss_crls(crls: &[Vec<u8>], dss: &DocumentSecurityStore) -> Vec<Vec<u8>> {
    crls.iter().chain(&dss.crls).cloned().collect()
}

/// Where the signed bytes end.
fn covered_end(byte_range: Option<[u64; 4]>) -> Option<u64> {
    byte_range.and_then(|[_, _, start, len]| start.checked_add(len))
}

fn judge_time_stamps(
    pdf: &[u8],
    roots: &[Certificate],
    crls: &[Vec<u8>],
    now: Timestamp,
) -> Result<Vec<TimeStampAssessment>, PdfError> {
    Ok(verify::document_time_stamps(pdf)?
        .into_iter()
        .map(|info| assess_time_stamp(info, roots, crls, now))
        .collect())
}

fn assess_time_stamp(
    info: DocumentTimeStampInfo,
    roots: &[Certificate],
    crls: &[Vec<u8>],
    now: Timestamp,
) -> TimeStampAssessment {
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
        "the time-stamp token is readable",
        format!(
            "the time-stamp token: {}",
            info.problem.as_deref().unwrap_or("")
        ),
    );
    check(
        info.covers_revision,
        "the time-stamped byte ranges cover the file up to the end of a revision",
        "the time-stamped byte ranges do not cover a whole revision".into(),
    );
    check(
        info.imprint_matches,
        "the time-stamped bytes are unchanged (message imprint)",
        "the time-stamped bytes were changed".into(),
    );
    check(
        info.signature_valid,
        "the token's signature verifies with the TSA certificate",
        "the token's signature does not verify".into(),
    );
    let certificate = info
        .tsa_certificate
        .as_deref()
        .and_then(|der_bytes| Certificate::from_der(der_bytes).ok());
    match (certificate, info.gen_time) {
        (Some(certificate), Some(_)) if !is_tsa_certificate(&certificate) => checks.push((
            Outcome::Invalid,
            "the time-stamp's certificate is not a TSA certificate (id-kp-timeStamping)".into(),
        )),
        // The token's own time does not show when its certificate was revoked: a
        // revocation at any time leaves it not VALID (no later time-stamp vouches for it).
        (Some(certificate), Some(time)) => chain(
            &certificate,
            "the TSA certificate",
            roots,
            crls,
            (time, false),
            now,
            &mut checks,
        ),
        _ => checks.push((
            Outcome::Invalid,
            "the TSA certificate or the time is not in the token".into(),
        )),
    }
    TimeStampAssessment {
        info,
        outcome: verdict(&checks),
        checks,
    }
}

fn levels(
    info: &SignatureInfo,
    dss: &DocumentSecurityStore,
    stamped: &[(u64, DocumentSecurityStore)],
) -> PadesLevels {
    let end = covered_end(info.byte_range);
    PadesLevels {
        signature_time_stamp: info
            .timestamp
            .as_ref()
            .is_some_and(|t| t.imprint_matches && t.signature_valid),
        validation_data: holds_validation_data(info, dss),
        document_time_stamp: stamped.iter().any(|(stamp_end, covered)| {
            end.is_some_and(|end| end <= *stamp_end) && holds_validation_data(info, covered)
        }),
    }
}

/// Whether the file holds the seal's validation data (see [`PadesLevels::validation_data`]).
fn holds_validation_data(info: &SignatureInfo, dss: &DocumentSecurityStore) -> bool {
    if dss.crls.is_empty() {
        // Revocation data is what B-LT adds: without any, nothing is B-LT, not even a
        // self-signed signer.
        return false;
    }
    let parse = |ders: &[Vec<u8>]| -> Vec<Certificate> {
        ders.iter()
            .filter_map(|der_bytes| Certificate::from_der(der_bytes).ok())
            .collect()
    };
    let mut pool = parse(&info.certificates);
    pool.extend(parse(&dss.certificates));
    let crls: Vec<CertificateList> = dss
        .crls
        .iter()
        .filter_map(|der_bytes| CertificateList::from_der(der_bytes).ok())
        .collect();
    let tsa = info
        .timestamp
        .as_ref()
        .map(|t| t.tsa_certificate.as_deref());
    let starts: Vec<Option<&[u8]>> = std::iter::once(info.signer_certificate.as_deref())
        .chain(tsa)
        .collect();
    starts.iter().all(|start| {
        start
            .and_then(|der_bytes| Certificate::from_der(der_bytes).ok())
            .is_some_and(|certificate| path_is_embedded(certificate, &pool, &crls))
    })
}

/// Whether `pool` holds a path from `certificate` to a self-signed root, with a CRL of
/// each issuer for the certificates below the root.
fn path_is_embedded(
    mut certificate: Certificate,
    pool: &[Certificate],
    crls: &[CertificateList],
) -> bool {
    for _ in 0..ltv::MAX_PATH {
        if issued_by(&certificate, &certificate) {
            return true;
        }
        let Some(issuer) = pool.iter().find(|c| issued_by(&certificate, c)) else {
            return false;
        };
        if !crls.iter().any(|crl| crl_signed_by(crl, issuer)) {
            return false;
        }
        certificate = issuer.clone();
    }
    false
}

fn verdict(checks: &[(Outcome, String)]) -> Outcome {
    if checks.iter().any(|(o, _)| *o == Outcome::Invalid) {
        Outcome::Invalid
    } else if checks.iter().any(|(o, _)| *o == Outcome::Indeterminate) {
        Outcome::Indeterminate
    } else {
        Outcome::Valid
    }
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
        info.signs_data,
        "the signature signs the document's bytes as data (content type)",
        "the signature's content type is not data, or its contentType attribute differs".into(),
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
    if let Some(ses) = &info.ses {
        ses_checks(ses, roots, crls, now, &mut checks);
    }
    let (time, time_shown) = signing_time(&info, roots, crls, &mut checks, now);
    match info
        .signer_certificate
        .as_deref()
        .and_then(|der_bytes| Certificate::from_der(der_bytes).ok())
    {
        Some(certificate) => chain(
            &certificate,
            "the signer's certificate",
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
    Assessment {
        info,
        outcome: verdict(&checks),
        checks,
        levels: PadesLevels::default(),
    }
}

/// The checks of a seal signature's time-stamp (GB/T 38540 `timeStamp`, spec §11.6), if it
/// has one: a readable token whose own signature verifies, over the SHA-256 of this
/// signature's value, no earlier than the time the signer states, by a TSA certificate
/// (id-kp-timeStamping) that one of `roots` issued, valid then and not revoked by a current
/// CRL of `crls`. Without one the signing time is the signer's claim, and the check says so.
pub fn ses_time_stamp_checks(
    verified: &signet_protocol::ses::VerifiedSignature,
    roots: &[Certificate],
    crls: &[Vec<u8>],
    now: Timestamp,
    checks: &mut Vec<(Outcome, String)>,
) {
    let Some(token) = &verified.time_stamp else {
        checks.push((
            Outcome::Valid,
            "the seal signature has no time-stamp: its signing time is the signer's claim".into(),
        ));
        return;
    };
    let facts = match tsa::read_token(token) {
        Ok(facts) => facts,
        Err(error) => {
            checks.push((
                Outcome::Invalid,
                format!("the seal signature's time-stamp: {error}"),
            ));
            return;
        }
    };
    let mut check = |ok: bool, yes: &str, no: &str| {
        checks.push(if ok {
            (Outcome::Valid, yes.to_string())
        } else {
            (Outcome::Invalid, no.to_string())
        });
    };
    check(
        facts.imprint == Some(verified.time_stamp_imprint()),
        "the seal signature's time-stamp is over its signature value",
        "the seal signature's time-stamp is not over its signature value",
    );
    check(
        facts.signature_valid,
        "the seal signature's time-stamp token verifies with its TSA certificate",
        "the seal signature's time-stamp token does not verify",
    );
    check(
        facts.gen_time >= at(verified.signed_at),
        "the seal signature's stated signing time is not after its time-stamp",
        "the seal signature states a signing time after its time-stamp",
    );
    match tsa::token_certificate(token) {
        Some(certificate) if !is_tsa_certificate(&certificate) => checks.push((
            Outcome::Invalid,
            "the seal signature's time-stamp certificate is not a TSA certificate (id-kp-timeStamping)"
                .into(),
        )),
        Some(certificate) => chain(
            &certificate,
            "the seal signature's TSA certificate",
            roots,
            crls,
            (facts.gen_time, false),
            now,
            checks,
        ),
        None => checks.push((
            Outcome::Invalid,
            "the seal signature's time-stamp does not carry its TSA certificate".into(),
        )),
    }
}

/// The checks of a GB/T 38540 seal signature carried by a PDF signature (spec §11.6): it
/// verifies over the same bytes, its signer is the PDF signature's, and its seal's maker is
/// one of `roots` (or was issued by one).
fn ses_checks(
    ses: &SesInfo,
    roots: &[Certificate],
    crls: &[Vec<u8>],
    now: Timestamp,
    checks: &mut Vec<(Outcome, String)>,
) {
    let verified = match &ses.verified {
        Ok(verified) => verified,
        Err(error) => {
            checks.push((
                Outcome::Invalid,
                format!("the GB/T 38540 seal signature does not verify: {error}"),
            ));
            return;
        }
    };
    checks.push((
        Outcome::Valid,
        format!(
            "the GB/T 38540 seal signature verifies over the signed bytes (seal {:?} by its \
             maker, the signer listed in the seal, SM3 data hash, validity at {})",
            verified.seal.name, verified.signed_at
        ),
    ));
    checks.push(if ses.same_signer {
        (
            Outcome::Valid,
            "the seal signature's signer certificate is the PDF signature's".into(),
        )
    } else {
        (
            Outcome::Invalid,
            "the seal signature's signer certificate is not the PDF signature's".into(),
        )
    });
    let maker = Certificate::from_der(&verified.seal.maker_certificate).ok();
    let by_root = maker.as_ref().is_some_and(|maker| {
        roots.iter().any(|root| {
            root.to_der()
                .is_ok_and(|r| r == verified.seal.maker_certificate)
                || issued_by(maker, root)
        })
    });
    checks.push(if by_root {
        (
            Outcome::Valid,
            "the seal's maker is a given CA (or certified by one)".into(),
        )
    } else {
        (
            Outcome::Indeterminate,
            if roots.is_empty() {
                "no trust root given (--ca): the seal's maker is not shown trusted".into()
            } else {
                "the seal's maker is not a given CA".into()
            },
        )
    });
    ses_time_stamp_checks(verified, roots, crls, now, checks);
}

/// The time the certificate must have been valid at, and whether a time-stamp shows it: the
/// time-stamp's, when it verifies and its TSA certificate is a TSA certificate (RFC 3161,
/// 2.3: id-kp-timeStamping) chaining to one of `roots`, valid then and not revoked; else the
/// verification time (the signer's claimed `/M` is not evidence, nor is a time-stamp whose
/// authority is not shown trusted).
fn signing_time(
    info: &SignatureInfo,
    roots: &[Certificate],
    crls: &[Vec<u8>],
    checks: &mut Vec<(Outcome, String)>,
    now: Timestamp,
) -> (SystemTime, bool) {
    match &info.timestamp {
        Some(t) if t.imprint_matches && t.signature_valid => {
            let name = t.tsa_name.as_deref().unwrap_or("an unnamed authority");
            let mut tsa_checks = Vec::new();
            match t
                .tsa_certificate
                .as_deref()
                .and_then(|der_bytes| Certificate::from_der(der_bytes).ok())
            {
                Some(tsa) if is_tsa_certificate(&tsa) => chain(
                    &tsa,
                    "the TSA certificate",
                    roots,
                    crls,
                    (t.gen_time, false),
                    now,
                    &mut tsa_checks,
                ),
                Some(_) => tsa_checks.push((
                    Outcome::Invalid,
                    "the time-stamp's certificate is not a TSA certificate (id-kp-timeStamping)"
                        .into(),
                )),
                None => tsa_checks.push((
                    Outcome::Indeterminate,
                    "the time-stamp does not carry its TSA certificate".into(),
                )),
            }
            if verdict(&tsa_checks) == Outcome::Valid {
                checks.push((
                    Outcome::Valid,
                    format!(
                        "time-stamped by {name}, whose TSA certificate chains to the given CA, was valid then and is not revoked"
                    ),
                ));
                return (t.gen_time, true);
            }
            let why: Vec<&str> = tsa_checks
                .iter()
                .filter(|(o, _)| *o != Outcome::Valid)
                .map(|(_, what)| what.as_str())
                .collect();
            checks.push((
                Outcome::Indeterminate,
                format!(
                    "time-stamped by {name}, but its authority is not shown trusted ({}): the time of signing is not shown",
                    why.join("; ")
                ),
            ));
            (at(now), false)
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

/// Whether `certificate` is a time-stamping authority's (its extendedKeyUsage names
/// id-kp-timeStamping).
fn is_tsa_certificate(certificate: &Certificate) -> bool {
    certificate
        .tbs_certificate()
        .get_extension::<x509_cert::ext::pkix::ExtendedKeyUsage>()
        .ok()
        .flatten()
        .is_some_and(|(_, eku)| {
            eku.0
                .contains(&signet_protocol::x509::asn1::KP_TIME_STAMPING)
        })
}

fn at(time: Timestamp) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(time.unix())
}

/// `certificate` (`whose`, in the checks' words) issued by one of `roots`, valid at `time`,
/// and not revoked by a current CRL of that root.
fn chain(
    certificate: &Certificate,
    whose: &str,
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
                format!("no trust root given (--ca): {whose} cannot be chained")
            } else {
                format!("{whose} was not issued by a given CA")
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

/// Whether `signature` (DER) over the DER `tbs` verifies with `root`'s key: ECDSA with a
/// P-256 key, SM2 (default identifier) with an SM2 key.
fn signed_by(tbs: der::Result<Vec<u8>>, signature: Option<&[u8]>, root: &Certificate) -> bool {
    let (Ok(tbs), Some(signature)) = (tbs, signature) else {
        return false;
    };
    if let Some(key) = p256_key_of(root.tbs_certificate().subject_public_key_info()) {
        return verify_der(&key, &tbs, signature);
    }
    national::sm2_verifies(root, &tbs, signature)
}
