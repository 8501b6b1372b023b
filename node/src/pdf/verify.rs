//! The facts about each signature in a PDF: what it covers, whether its digest and CMS
//! signature check out, who the certificate names and when it was time-stamped.
//!
//! Document time-stamps (PAdES B-LTA, see [`super::ltv`]) are listed apart from the seals,
//! by [`document_time_stamps`].
//!
//! No trust verdict is given here: chain building, revocation and the rules for which
//! changes after a signature are allowed belong to the caller.

use std::time::SystemTime;

use der::Encode;
use lopdf::{Dictionary, Document, Object};

use super::PdfError;
use super::asn1::{
    self, ATTR_SIGNATURE_TIME_STAMP, ATTR_SIGNING_CERTIFICATE_V2, SigningCertificateV2,
};
use super::cades::ParsedSignedData;
use super::national::{ATTR_SES_SIGNATURE, SignatureSuite};
use super::sign::{self, find, form_fields};
use super::tsa;
use super::{ltv, x509};

/// One signature field's signature, as found in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureInfo {
    /// The field's fully qualified name.
    pub field_name: String,
    /// `/ByteRange`, when it is four non-negative integers.
    pub byte_range: Option<[u64; 4]>,
    /// The ranges start at 0, leave out exactly the `/Contents` hex string, and end at the
    /// end of a revision (just after a `%%EOF` marker and its end-of-line).
    pub covers_revision: bool,
    /// The ranges end at the end of the file: nothing was appended after this signature.
    pub covers_whole_file: bool,
    /// The algorithms the signer names, when they are a suite Signet checks (ECDSA P-256
    /// with SHA-256, or SM2 with SM3).
    pub suite: Option<SignatureSuite>,
    /// The CMS signs detached data: its content type is `id-data` (or GM/T 0010's), and
    /// the contentType signed attribute names it.
    pub signs_data: bool,
    /// The CMS messageDigest equals the digest (of the suite: SHA-256 or SM3) of the two
    /// ranges.
    pub digest_matches: bool,
    /// The CMS signature over the signed attributes verifies with the embedded certificate
    /// named by the signer identifier (ECDSA P-256 / SHA-256, or SM2 / SM3 with the default
    /// identifier).
    pub signature_valid: bool,
    /// The signingCertificateV2 attribute holds the digest (SHA-256 or SM3, as it names) of
    /// that certificate.
    pub certificate_bound: bool,
    /// The signer certificate's legal name (`O`, or else `CN`).
    pub signer_legal_name: Option<String>,
    /// The signer certificate's USCC (`organizationIdentifier` without `NTRCN-`, or
    /// `serialNumber`).
    pub signer_uscc: Option<String>,
    /// The signer certificate, DER.
    pub signer_certificate: Option<Vec<u8>>,
    /// The claimed signing time `/M`, as written.
    pub claimed_time: Option<String>,
    /// The signature time-stamp, if any.
    pub timestamp: Option<TimestampInfo>,
    /// Every certificate embedded in the CMS object and in its time-stamp token, DER.
    pub certificates: Vec<Vec<u8>>,
    /// The GB/T 38540 seal signature the CMS carries (unsigned attribute
    /// [`super::national::SES_SIGNATURE_ATTRIBUTE_OID`]), if any.
    pub ses: Option<SesInfo>,
    /// Why the CMS object could not be read, if it could not.
    pub problem: Option<String>,
}

/// A GB/T 38540 `SES_Signature` carried by a PDF signature (spec §11.6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SesInfo {
    /// The `SES_Signature`, DER, as carried.
    pub der: Vec<u8>,
    /// Its verification over the bytes the PDF signature's ranges cover (every check of
    /// `signet_protocol::ses::verify_signature`), or the first that failed.
    pub verified: Result<signet_protocol::ses::VerifiedSignature, signet_protocol::ses::SesError>,
    /// Its signer certificate is the CMS signer's certificate, byte for byte.
    pub same_signer: bool,
}

/// A signature time-stamp token's facts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimestampInfo {
    /// The time the TSA certified.
    pub gen_time: SystemTime,
    /// The token's imprint is the SHA-256 of the signature value.
    pub imprint_matches: bool,
    /// The token's own CMS signature verifies with its embedded TSA certificate.
    pub signature_valid: bool,
    /// The TSA certificate's legal name, if embedded.
    pub tsa_name: Option<String>,
    /// The TSA certificate (the token's signer), DER, if embedded.
    pub tsa_certificate: Option<Vec<u8>>,
}

/// A document time-stamp (ISO 32000-2, 12.8.5: `/Type /DocTimeStamp`, `/SubFilter
/// /ETSI.RFC3161`), as found in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentTimeStampInfo {
    /// The field's fully qualified name.
    pub field_name: String,
    /// `/ByteRange`, when it is four non-negative integers.
    pub byte_range: Option<[u64; 4]>,
    /// As [`SignatureInfo::covers_revision`].
    pub covers_revision: bool,
    /// As [`SignatureInfo::covers_whole_file`].
    pub covers_whole_file: bool,
    /// The token's imprint is the SHA-256 of the two ranges.
    pub imprint_matches: bool,
    /// The token's CMS signature verifies with its embedded TSA certificate.
    pub signature_valid: bool,
    /// The time the TSA certified.
    pub gen_time: Option<SystemTime>,
    /// The TSA certificate's legal name, if embedded.
    pub tsa_name: Option<String>,
    /// The TSA certificate, DER, if embedded.
    pub tsa_certificate: Option<Vec<u8>>,
    /// Why the token could not be read, if it could not.
    pub problem: Option<String>,
}

/// Lists the signatures of `pdf` (document time-stamps left out), in the order of the
/// AcroForm's fields.
///
/// # Errors
///
/// [`PdfError::Parse`] or [`PdfError::Encrypted`] when the file cannot be read.
pub fn signatures(pdf: &[u8]) -> Result<Vec<SignatureInfo>, PdfError> {
    let document = sign::load(pdf)?;
    let revision_ends = revision_ends(pdf);
    Ok(form_fields(&document)
        .into_iter()
        .filter_map(|(name, field)| {
            let value = signature_value(&document, field)?;
            let seal = !is_document_time_stamp(value);
            seal.then(|| inspect(pdf, &revision_ends, name, value))
        })
        .collect())
}

/// Lists the document time-stamps of `pdf`, in the order of the AcroForm's fields.
///
/// # Errors
///
/// [`PdfError::Parse`] or [`PdfError::Encrypted`] when the file cannot be read.
pub fn document_time_stamps(pdf: &[u8]) -> Result<Vec<DocumentTimeStampInfo>, PdfError> {
    let document = sign::load(pdf)?;
    let revision_ends = revision_ends(pdf);
    Ok(form_fields(&document)
        .into_iter()
        .filter_map(|(name, field)| {
            let value = signature_value(&document, field)?;
            is_document_time_stamp(value)
                .then(|| inspect_time_stamp(pdf, &revision_ends, name, value))
        })
        .collect())
}

fn is_document_time_stamp(value: &Dictionary) -> bool {
    let name = |key: &[u8]| value.get(key).ok().and_then(|v| v.as_name().ok());
    name(b"Type") == Some(b"DocTimeStamp".as_slice())
        || name(b"SubFilter") == Some(b"ETSI.RFC3161".as_slice())
}

fn inspect_time_stamp(
    pdf: &[u8],
    revision_ends: &[usize],
    field_name: String,
    value: &Dictionary,
) -> DocumentTimeStampInfo {
    let byte_range = byte_range(value);
    let mut info = DocumentTimeStampInfo {
        field_name,
        byte_range,
        covers_revision: false,
        covers_whole_file: false,
        imprint_matches: false,
        signature_valid: false,
        gen_time: None,
        tsa_name: None,
        tsa_certificate: None,
        problem: None,
    };
    let Some(ranges) = byte_range.and_then(|br| signed_ranges(pdf, br)) else {
        info.problem = Some("the byte range is malformed or outside the file".into());
        return info;
    };
    info.covers_revision = revision_ends.contains(&ranges.end);
    info.covers_whole_file = ranges.end == pdf.len();
    let Ok(contents) = value.get(b"Contents").and_then(Object::as_str) else {
        info.problem = Some("no /Contents".into());
        return info;
    };
    let Some(token) = ltv::unpadded(contents) else {
        info.problem = Some("the time-stamp token is not der".into());
        return info;
    };
    match tsa::read_token(token) {
        Ok(facts) => {
            info.imprint_matches =
                facts.imprint == Some(ranges_digest(SignatureSuite::EcdsaP256Sha256, pdf, &ranges));
            info.signature_valid = facts.signature_valid;
            info.gen_time = Some(facts.gen_time);
        }
        Err(error) => info.problem = Some(error.to_string()),
    }
    let certificate = tsa::token_certificate(token);
    info.tsa_name = certificate
        .as_ref()
        .and_then(|cert| x509::subject_facts(cert).legal_name);
    info.tsa_certificate = certificate.and_then(|cert| cert.to_der().ok());
    info
}

/// The document as it may have been before the first signature: the file up to the last
/// `%%EOF` that precedes every signature's `/Contents`, with and without the end-of-line
/// after it (a signer appends one when the original ends without it, so the bytes alone
/// cannot say which was the original's). Empty without a signature.
///
/// # Errors
///
/// As [`signatures`].
pub fn original_revisions(pdf: &[u8]) -> Result<Vec<&[u8]>, PdfError> {
    let first_contents = signatures(pdf)?
        .iter()
        .filter_map(|s| s.byte_range.map(|br| br[1]))
        .min();
    let Some(first) = first_contents.and_then(|f| usize::try_from(f).ok()) else {
        return Ok(Vec::new());
    };
    let ends: Vec<usize> = revision_ends(pdf)
        .into_iter()
        .filter(|end| *end <= first)
        .collect();
    // `revision_ends` lists each `%%EOF` end, then the end after its end-of-line.
    let last_marker = ends
        .iter()
        .copied()
        .filter(|end| pdf.get(end - 5..*end) == Some(b"%%EOF".as_slice()))
        .max();
    let Some(marker) = last_marker else {
        return Ok(Vec::new());
    };
    let mut candidates: Vec<&[u8]> = ends
        .into_iter()
        .filter(|end| *end >= marker)
        .filter_map(|end| pdf.get(..end))
        .collect();
    candidates.dedup();
    Ok(candidates)
}

fn signature_value<'a>(document: &'a Document, field: &'a Dictionary) -> Option<&'a Dictionary> {
    let is_signature =
        field.get(b"FT").ok().and_then(|ft| ft.as_name().ok()) == Some(b"Sig".as_slice());
    if !is_signature {
        return None;
    }
    let value = field.get(b"V").ok()?;
    document.dereference(value).ok()?.1.as_dict().ok()
}

fn inspect(
    pdf: &[u8],
    revision_ends: &[usize],
    field_name: String,
    value: &Dictionary,
) -> SignatureInfo {
    let byte_range = byte_range(value);
    let claimed_time = value
        .get(b"M")
        .ok()
        .and_then(|m| m.as_str().ok())
        .map(sign::decode_text);
    let mut info = SignatureInfo {
        field_name,
        byte_range,
        covers_revision: false,
        covers_whole_file: false,
        suite: None,
        signs_data: false,
        digest_matches: false,
        signature_valid: false,
        certificate_bound: false,
        signer_legal_name: None,
        signer_uscc: None,
        signer_certificate: None,
        claimed_time,
        timestamp: None,
        certificates: Vec::new(),
        ses: None,
        problem: None,
    };
    let Some(ranges) = byte_range.and_then(|br| signed_ranges(pdf, br)) else {
        info.problem = Some("the byte range is malformed or outside the file".into());
        return info;
    };
    info.covers_revision = revision_ends.contains(&ranges.end);
    info.covers_whole_file = ranges.end == pdf.len();
    let contents = match value.get(b"Contents").and_then(Object::as_str) {
        Ok(contents) => contents,
        Err(_) => {
            info.problem = Some("no /Contents".into());
            return info;
        }
    };
    match ParsedSignedData::decode(contents) {
        Ok(parsed) => check_cms(&mut info, pdf, &ranges, &parsed),
        Err(error) => info.problem = Some(error.to_string()),
    }
    info.certificates = ltv::embedded_certificates(contents)
        .iter()
        .filter_map(|certificate| certificate.to_der().ok())
        .collect();
    info
}

/// The two signed ranges: `[0, gap_start)` and `[gap_end, end)`.
struct Ranges {
    gap_start: usize,
    gap_end: usize,
    end: usize,
}

fn byte_range(value: &Dictionary) -> Option<[u64; 4]> {
    let array = value.get(b"ByteRange").ok()?.as_array().ok()?;
    let numbers: Vec<u64> = array
        .iter()
        .map(|o| o.as_i64().ok().and_then(|n| u64::try_from(n).ok()))
        .collect::<Option<_>>()?;
    numbers.try_into().ok()
}

fn signed_ranges(pdf: &[u8], [start, len1, start2, len2]: [u64; 4]) -> Option<Ranges> {
    let gap_start = usize::try_from(len1).ok()?;
    let gap_end = usize::try_from(start2).ok()?;
    let end = gap_end.checked_add(usize::try_from(len2).ok()?)?;
    let shaped = start == 0 && gap_start < gap_end && end <= pdf.len();
    // The gap must be exactly the /Contents hex string.
    let gap_is_contents = shaped
        && pdf.get(gap_start) == Some(&b'<')
        && pdf.get(gap_end - 1) == Some(&b'>')
        && pdf
            .get(gap_start + 1..gap_end - 1)
            .is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit));
    gap_is_contents.then_some(Ranges {
        gap_start,
        gap_end,
        end,
    })
}

/// The digest of the two signed ranges (which [`signed_ranges`] checked lie in `pdf`).
fn ranges_digest(suite: SignatureSuite, pdf: &[u8], ranges: &Ranges) -> [u8; 32] {
    suite.digest(&[&pdf[..ranges.gap_start], &pdf[ranges.gap_end..ranges.end]])
}

fn check_cms(info: &mut SignatureInfo, pdf: &[u8], ranges: &Ranges, parsed: &ParsedSignedData) {
    info.suite = parsed.suite();
    info.signs_data = parsed.signs_data();
    info.digest_matches = info.suite.is_some_and(|suite| {
        let digest = ranges_digest(suite, pdf, ranges);
        parsed.message_digest().is_some_and(|d| d == digest)
    });
    info.ses = ses(pdf, ranges, parsed);
    if let Some(certificate) = parsed.signer_certificate() {
        info.signature_valid = parsed.signature_verifies(certificate);
        let der = certificate.to_der().ok();
        info.certificate_bound = der
            .as_deref()
            .is_some_and(|der| certificate_bound(parsed, der));
        let facts = x509::subject_facts(certificate);
        info.signer_legal_name = facts.legal_name;
        info.signer_uscc = facts.uscc;
        info.signer_certificate = der;
    } else {
        info.problem = Some("the signer certificate is not embedded".into());
    }
    info.timestamp = timestamp(parsed);
}

/// The seal signature the CMS carries, verified over the signed ranges.
fn ses(pdf: &[u8], ranges: &Ranges, parsed: &ParsedSignedData) -> Option<SesInfo> {
    let der = parsed
        .unsigned_attribute(ATTR_SES_SIGNATURE)?
        .to_der()
        .ok()?;
    let mut data = pdf[..ranges.gap_start].to_vec();
    data.extend_from_slice(&pdf[ranges.gap_end..ranges.end]);
    let verified = signet_protocol::ses::verify_signature(&der, &data);
    let same_signer = match (&verified, parsed.signer_certificate()) {
        (Ok(v), Some(certificate)) => certificate
            .to_der()
            .is_ok_and(|c| c == v.signer_certificate),
        _ => false,
    };
    Some(SesInfo {
        der,
        verified,
        same_signer,
    })
}

fn certificate_bound(parsed: &ParsedSignedData, certificate_der: &[u8]) -> bool {
    let Some(value) = parsed.signed_attribute(ATTR_SIGNING_CERTIFICATE_V2) else {
        return false;
    };
    let Ok(attribute) = value.decode_as::<SigningCertificateV2>() else {
        return false;
    };
    attribute.certs.first().is_some_and(|id| {
        let hash = match id.hash_algorithm.as_ref().map(|alg| alg.oid) {
            None => Some(SignatureSuite::EcdsaP256Sha256),
            Some(oid) if oid == asn1::SHA256 => Some(SignatureSuite::EcdsaP256Sha256),
            Some(oid) if oid == signet_protocol::x509::sm2::SM3 => Some(SignatureSuite::Sm2Sm3),
            Some(_) => None,
        };
        hash.is_some_and(|suite| id.cert_hash.as_bytes() == suite.digest(&[certificate_der]))
    })
}

fn timestamp(parsed: &ParsedSignedData) -> Option<TimestampInfo> {
    let token = parsed
        .unsigned_attribute(ATTR_SIGNATURE_TIME_STAMP)?
        .to_der()
        .ok()?;
    let facts = tsa::read_token(&token).ok()?;
    let imprint = asn1::sha256(parsed.signer.signature.as_bytes());
    let certificate = tsa::token_certificate(&token);
    Some(TimestampInfo {
        gen_time: facts.gen_time,
        imprint_matches: facts.imprint == Some(imprint),
        signature_valid: facts.signature_valid,
        tsa_name: certificate
            .as_ref()
            .and_then(|cert| x509::subject_facts(cert).legal_name),
        tsa_certificate: certificate.and_then(|cert| cert.to_der().ok()),
    })
}

/// The offsets just after each `%%EOF` marker and its end-of-line: where revisions end.
fn revision_ends(pdf: &[u8]) -> Vec<usize> {
    let mut ends = Vec::new();
    let mut at = 0;
    while let Some(found) = pdf.get(at..).and_then(|rest| find(rest, b"%%EOF")) {
        let mut end = at + found + 5;
        ends.push(end);
        if pdf.get(end) == Some(&b'\r') {
            end += 1;
        }
        if pdf.get(end) == Some(&b'\n') {
            end += 1;
        }
        ends.push(end);
        at = end;
    }
    ends
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revisions_end_after_eof_markers() {
        let pdf = b"%PDF-1.7\n...%%EOF\nmore%%EOF\r\n";
        assert_eq!(revision_ends(pdf), vec![17, 18, 27, 29]);
    }

    #[test]
    fn the_gap_must_be_exactly_the_contents_string() {
        let pdf = b"head<0A0B>tail";
        assert!(signed_ranges(pdf, [0, 4, 10, 4]).is_some());
        assert!(
            signed_ranges(pdf, [0, 5, 10, 4]).is_none(),
            "gap does not start at <"
        );
        assert!(signed_ranges(pdf, [0, 4, 10, 5]).is_none(), "past the end");
        assert!(
            signed_ranges(pdf, [1, 4, 10, 4]).is_none(),
            "does not start at 0"
        );
        assert!(
            signed_ranges(b"head<0X0B>tail", [0, 4, 10, 4]).is_none(),
            "not hex"
        );
    }

    #[test]
    fn garbage_is_refused_not_panicked_on() {
        assert!(signatures(b"not a pdf").is_err());
        assert!(signatures(b"").is_err());
    }
}
