//! Long-term validation of sealed PDFs: PAdES B-LT and B-LTA (ETSI EN 319 142-1, 5.4 and
//! 6).
//!
//! - [`add_validation_data`] appends the Document Security Store (ISO 32000-2, 12.8.4.3):
//!   the certificates and CRLs that check the seals, so that they can be validated from the
//!   file alone once the CA no longer publishes them (B-LT).
//! - [`add_document_time_stamp`] appends a document time-stamp (ISO 32000-2, 12.8.5) over the
//!   whole file, the DSS included, showing the validation data existed while it was current
//!   (B-LTA). Adding fresh validation data and another time-stamp before the last one's
//!   certificate expires extends the proof.
//! - [`certificates_needing_revocation`] says which certificates the CRLs must cover.
//!
//! Both updates are incremental: every earlier byte, so every signature, stays intact.
//!
//! # Where I/O stops
//!
//! The caller fetches the CRLs (the certificates' distribution points say where) and reaches
//! the time-stamp authority through [`TimeStamper`].
//!
//! ```
//! # use std::time::{Duration, UNIX_EPOCH};
//! # use p256::ecdsa::SigningKey;
//! # use signet_node::pdf::sign::TimeStampError;
//! # use signet_node::pdf::{ltv, sample, tsa, verify, x509};
//! # use signet_protocol::Timestamp;
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let validity = x509::Issuance {
//! #     serial: 1,
//! #     not_before: Timestamp::from_unix(1_790_000_000),
//! #     not_after: Timestamp::from_unix(1_890_000_000),
//! # };
//! # let ca_key = SigningKey::from_slice(&[1; 32])?;
//! # let ca_der = x509::ca_certificate("Test CA", None, &ca_key, &validity)?;
//! # let ca = x509::CertifiedKey::new(&ca_key, &ca_der)?;
//! # let tsa_key = SigningKey::from_slice(&[2; 32])?;
//! # let tsa_der = x509::tsa_certificate(&ca, "Witness TSA", tsa_key.verifying_key(), &validity)?;
//! // A contract, sealed by each party in turn (see `sign`).
//! let sealed = sample::contract("Supply Contract", &["Brand A Co., Ltd."], 1)?;
//! // The CRLs to obtain are those covering these certificates.
//! let needed = ltv::certificates_needing_revocation(&sealed)?;
//! assert!(needed.is_empty(), "no seal yet");
//! let crl = x509::crl(&ca, 1, &[], Timestamp::from_unix(1_800_000_000), Timestamp::from_unix(1_890_000_000))?;
//! let data = ltv::ValidationData {
//!     certificates: vec![ca_der, tsa_der.clone()],
//!     crls: vec![crl],
//! };
//! let with_dss = ltv::add_validation_data(&sealed, &data)?;
//! let stamper = |digest: &[u8; 32]| -> Result<Vec<u8>, TimeStampError> {
//!     let authority = x509::CertifiedKey::new(&tsa_key, &tsa_der)?;
//!     let request = tsa::TimeStampRequest::for_digest(*digest);
//!     let now = UNIX_EPOCH + Duration::from_secs(1_800_000_100);
//!     Ok(tsa::time_stamp_token(&authority, &request, 7, now)?)
//! };
//! let archived = ltv::add_document_time_stamp(&with_dss, &stamper, "DocTimeStamp1")?;
//! assert!(verify::document_time_stamps(&archived)?[0].imprint_matches);
//! # Ok(()) }
//! ```

use der::{Decode, Encode};
use lopdf::{Dictionary, Document, IncrementalDocument, Object, ObjectId, Stream, StringFormat};
use x509_cert::Certificate;
use x509_cert::crl::CertificateList;
use x509_cert::ext::pkix::CrlDistributionPoints;
use x509_cert::ext::pkix::name::{DistributionPointName, GeneralName};

use super::PdfError;
use super::asn1::ATTR_SIGNATURE_TIME_STAMP;
use super::cades::ParsedSignedData;
use super::sign::{self, TimeStamper};
use super::tsa;

/// Bytes reserved for a document time-stamp token (a P-256 TSA's token with its certificate
/// takes under 2 KiB).
pub const DOCUMENT_TIME_STAMP_RESERVED: usize = 8 * 1024;
/// The most bytes read from one DSS stream (a certificate, CRL or OCSP response).
const MAX_STREAM: usize = 4 * 1024 * 1024;
/// The most entries read from one DSS array.
const MAX_ENTRIES: usize = 10_000;
/// The longest certification path followed.
pub(crate) const MAX_PATH: usize = 8;
/// Widget flags of an invisible signature field: Print and Locked (ISO 32000-1, 12.5.3).
const INVISIBLE_WIDGET_FLAGS: i64 = 4 | 128;

/// Validation data to embed in the DSS: DER certificates (RFC 5280, 4) and DER CRLs
/// (RFC 5280, 5).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ValidationData {
    /// Certificates: the CA's, the seal certificates, the time-stamp authorities'.
    pub certificates: Vec<Vec<u8>>,
    /// CRLs covering every certificate below a root.
    pub crls: Vec<Vec<u8>>,
}

/// The Document Security Store of a PDF, as read back.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DocumentSecurityStore {
    /// The DER certificates of `/Certs`.
    pub certificates: Vec<Vec<u8>>,
    /// The DER CRLs of `/CRLs`.
    pub crls: Vec<Vec<u8>>,
    /// The DER OCSP responses of `/OCSPs`.
    pub ocsps: Vec<Vec<u8>>,
    /// The `/VRI` keys (see [`vri_key`]), in file order.
    pub vri_keys: Vec<String>,
}

/// A certificate embedded in a signature or time-stamp token whose revocation status a
/// verifier needs, with where its issuer says CRLs are published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevocationTarget {
    /// The certificate, DER.
    pub certificate: Vec<u8>,
    /// The URIs of its cRLDistributionPoints extension; empty without one.
    pub crl_urls: Vec<String>,
}

/// Appends an incremental update adding `data` to the catalog's `/DSS` (created if absent):
/// each certificate and CRL not yet there as a stream in `/Certs` or `/CRLs`, and a `/VRI`
/// entry for each signature without one, listing the streams of its certification paths.
/// Existing DSS entries, VRI entries included, are kept unchanged.
///
/// # Errors
///
/// [`PdfError::Parse`], [`PdfError::Encrypted`], [`PdfError::Malformed`] for a PDF that
/// cannot be read; [`PdfError::Asn1`] when a certificate or CRL of `data` is not DER;
/// [`PdfError::Write`].
pub fn add_validation_data(pdf: &[u8], data: &ValidationData) -> Result<Vec<u8>, PdfError> {
    for certificate in &data.certificates {
        Certificate::from_der(certificate)?;
    }
    for crl in &data.crls {
        <CertificateList>::from_der(crl)?;
    }
    let document = sign::load(pdf)?;
    let signatures = signature_contents(&document);
    let mut store = read_store(&document).unwrap_or_default();
    let mut update = IncrementalDocument::create_from(pdf.to_vec(), document);
    let new = &mut update.new_document;
    append_streams(&mut store.certs, &data.certificates, new);
    append_streams(&mut store.crls, &data.crls, new);
    add_vri_entries(&mut store, &signatures, new);
    let id = store.id;
    put_dss(&mut update, id, store.into_dictionary())?;
    save(update, pdf.len())
}

/// Appends an incremental update with a document time-stamp (PAdES B-LTA): an invisible
/// signature field `field_name` whose value is a `/DocTimeStamp` (`/SubFilter
/// /ETSI.RFC3161`) holding an RFC 3161 token over the SHA-256 of every byte but the token.
///
/// # Errors
///
/// As [`sign::sign`] for the file and the field name; [`PdfError::TimeStamp`] when the
/// time-stamper fails or certifies another digest; [`PdfError::SignatureTooLarge`] for a
/// token over [`DOCUMENT_TIME_STAMP_RESERVED`] bytes.
pub fn add_document_time_stamp(
    pdf: &[u8],
    stamper: &dyn TimeStamper,
    field_name: &str,
) -> Result<Vec<u8>, PdfError> {
    sign::check_field_name(field_name)?;
    let document = sign::load(pdf)?;
    if sign::field_names(&document).iter().any(|n| n == field_name) {
        return Err(PdfError::DuplicateField(field_name.to_owned()));
    }
    let page_id = sign::page_id(&document, None)?;
    let mut update = IncrementalDocument::create_from(pdf.to_vec(), document);
    add_time_stamp_field(&mut update, page_id, field_name)?;
    let mut out = save(update, pdf.len() + 2 * DOCUMENT_TIME_STAMP_RESERVED)?;
    let reserved = DOCUMENT_TIME_STAMP_RESERVED;
    let hole = sign::locate_placeholders(&out, pdf.len(), reserved)?;
    sign::patch_byte_range(&mut out, &hole)?;
    let digest = sign::digest_ranges(
        super::national::SignatureSuite::EcdsaP256Sha256,
        &out,
        &hole,
    );
    let token = stamper
        .time_stamp(&digest)
        .map_err(|error| PdfError::TimeStamp(error.to_string()))?;
    if tsa::read_token(&token)?.imprint != Some(digest) {
        return Err(PdfError::TimeStamp(
            "the token certifies another digest".into(),
        ));
    }
    sign::write_contents(&mut out, &hole, &token, reserved)?;
    Ok(out)
}

/// Every certificate embedded in the signatures of `pdf`, in their signature time-stamp
/// tokens and in document time-stamp tokens, once each, roots (self-issued certificates)
/// left out: the certificates whose CRLs [`add_validation_data`] should be given.
///
/// # Errors
///
/// [`PdfError::Parse`] or [`PdfError::Encrypted`] when the file cannot be read.
pub fn certificates_needing_revocation(pdf: &[u8]) -> Result<Vec<RevocationTarget>, PdfError> {
    let document = sign::load(pdf)?;
    let mut targets: Vec<RevocationTarget> = Vec::new();
    for contents in signature_contents(&document) {
        for certificate in embedded_certificates(&contents) {
            let tbs = certificate.tbs_certificate();
            let Ok(der_bytes) = certificate.to_der() else {
                continue;
            };
            if tbs.issuer() == tbs.subject() || targets.iter().any(|t| t.certificate == der_bytes) {
                continue;
            }
            targets.push(RevocationTarget {
                crl_urls: crl_urls(&certificate),
                certificate: der_bytes,
            });
        }
    }
    Ok(targets)
}

/// The DSS of `pdf` as of its last revision; empty when there is none.
///
/// # Errors
///
/// [`PdfError::Parse`] or [`PdfError::Encrypted`] when the file cannot be read.
pub fn document_security_store(pdf: &[u8]) -> Result<DocumentSecurityStore, PdfError> {
    let document = sign::load(pdf)?;
    Ok(read_store(&document)
        .map(|store| store.contents())
        .unwrap_or_default())
}

/// The `/VRI` key of a signature (ISO 32000-2, 12.8.4.3; ETSI EN 319 142-1, 5.4): the
/// upper-case hex SHA-1 of its CMS object, DER, without the zeros that pad `/Contents`
/// (given padded or not).
///
/// pyHanko's `ltvfix` hashes the lower-case hex of the padded `/Contents` instead, and its
/// validation does not look signatures up by this key (it uses the DSS's streams whole).
pub fn vri_key(contents: &[u8]) -> String {
    hex::encode_upper(sha1(unpadded(contents).unwrap_or(contents)))
}

/// The certificates a CMS signature embeds, followed by those of its signature time-stamp
/// token; empty when it does not parse.
pub(crate) fn embedded_certificates(contents: &[u8]) -> Vec<Certificate> {
    let Ok(parsed) = ParsedSignedData::decode(contents) else {
        return Vec::new();
    };
    let mut certificates = certificates_of(&parsed);
    let token = parsed
        .unsigned_attribute(ATTR_SIGNATURE_TIME_STAMP)
        .and_then(|token| token.to_der().ok())
        .and_then(|token| ParsedSignedData::decode(&token).ok());
    if let Some(token) = token {
        certificates.extend(certificates_of(&token));
    }
    certificates
}

fn certificates_of(parsed: &ParsedSignedData) -> Vec<Certificate> {
    use cms::cert::CertificateChoices;
    parsed
        .signed_data
        .certificates
        .iter()
        .flat_map(|set| set.0.iter())
        .filter_map(|choice| match choice {
            CertificateChoices::Certificate(certificate) => Some(certificate.clone()),
            CertificateChoices::Other(_) => None,
        })
        .collect()
}

/// The URIs of `certificate`'s CRL distribution points (every scheme).
pub(crate) fn crl_urls(certificate: &Certificate) -> Vec<String> {
    let Ok(Some((_, points))) = certificate
        .tbs_certificate()
        .get_extension::<CrlDistributionPoints>()
    else {
        return Vec::new();
    };
    points
        .0
        .iter()
        .filter_map(|point| match &point.distribution_point {
            Some(DistributionPointName::FullName(names)) => Some(names),
            _ => None,
        })
        .flatten()
        .filter_map(|name| match name {
            GeneralName::UniformResourceIdentifier(uri) => Some(uri.to_string()),
            _ => None,
        })
        .collect()
}

/// `start` and, transitively, each certificate of `pool` whose subject names the issuer of
/// one already taken: the certificates of their certification paths, matched by name only.
pub(crate) fn path_certificates(start: &[Certificate], pool: &[Certificate]) -> Vec<Certificate> {
    let mut taken = start.to_vec();
    let mut frontier = start.to_vec();
    for _ in 0..MAX_PATH {
        let issuers: Vec<Certificate> = pool
            .iter()
            .filter(|candidate| !taken.contains(candidate))
            .filter(|candidate| {
                let subject = candidate.tbs_certificate().subject();
                frontier
                    .iter()
                    .any(|c| c.tbs_certificate().issuer() == subject)
            })
            .cloned()
            .collect();
        if issuers.is_empty() {
            break;
        }
        taken.extend(issuers.iter().cloned());
        frontier = issuers;
    }
    taken
}

/// The CMS object at the front of a `/Contents` value: its DER length, padding excluded.
pub(crate) fn unpadded(contents: &[u8]) -> Option<&[u8]> {
    let reader = der::SliceReader::new(contents).ok()?;
    let header = der::Header::peek(&reader).ok()?;
    let length = (header.encoded_len().ok()? + header.length()).ok()?;
    contents.get(..usize::try_from(length).ok()?)
}

/// The `/Contents` of every signature value (seals and document time-stamps), unpadded.
fn signature_contents(document: &Document) -> Vec<Vec<u8>> {
    sign::form_fields(document)
        .into_iter()
        .filter(|(_, field)| {
            field.get(b"FT").and_then(Object::as_name).ok() == Some(b"Sig".as_slice())
        })
        .filter_map(|(_, field)| {
            let value = document.dereference(field.get(b"V").ok()?).ok()?.1;
            let contents = value.as_dict().ok()?.get(b"Contents").ok()?.as_str().ok()?;
            unpadded(contents).map(<[u8]>::to_vec)
        })
        .collect()
}

/// One entry of a DSS array: the array item (a stream reference) and its bytes, if readable.
#[derive(Debug, Clone)]
struct Entry {
    item: Object,
    bytes: Option<Vec<u8>>,
}

/// A DSS being read or extended.
#[derive(Debug, Default)]
struct Store {
    /// The DSS object, when the catalog refers to one.
    id: Option<ObjectId>,
    certs: Vec<Entry>,
    crls: Vec<Entry>,
    ocsps: Vec<Entry>,
    vri: Dictionary,
}

impl Store {
    fn contents(&self) -> DocumentSecurityStore {
        let bytes = |entries: &[Entry]| entries.iter().filter_map(|e| e.bytes.clone()).collect();
        DocumentSecurityStore {
            certificates: bytes(&self.certs),
            crls: bytes(&self.crls),
            ocsps: bytes(&self.ocsps),
            vri_keys: self
                .vri
                .iter()
                .map(|(key, _)| String::from_utf8_lossy(key).into_owned())
                .collect(),
        }
    }

    fn into_dictionary(self) -> Dictionary {
        let array =
            |entries: Vec<Entry>| Object::Array(entries.into_iter().map(|e| e.item).collect());
        let mut dss = Dictionary::new();
        dss.set("Type", Object::Name(b"DSS".to_vec()));
        dss.set("Certs", array(self.certs));
        if !self.crls.is_empty() {
            dss.set("CRLs", array(self.crls));
        }
        if !self.ocsps.is_empty() {
            dss.set("OCSPs", array(self.ocsps));
        }
        if !self.vri.is_empty() {
            dss.set("VRI", Object::Dictionary(self.vri));
        }
        dss
    }
}

fn read_store(document: &Document) -> Option<Store> {
    let entry = document.catalog().ok()?.get(b"DSS").ok()?;
    let dss = document.dereference(entry).ok()?.1.as_dict().ok()?;
    let resolve = |key: &[u8]| {
        dss.get(key)
            .ok()
            .and_then(|value| document.dereference(value).ok())
            .map(|(_, value)| value)
    };
    let entries = |key: &[u8]| -> Vec<Entry> {
        resolve(key)
            .and_then(|array| array.as_array().ok())
            .into_iter()
            .flatten()
            .take(MAX_ENTRIES)
            .map(|item| Entry {
                item: item.clone(),
                bytes: stream_bytes(document, item),
            })
            .collect()
    };
    Some(Store {
        id: entry.as_reference().ok(),
        certs: entries(b"Certs"),
        crls: entries(b"CRLs"),
        ocsps: entries(b"OCSPs"),
        vri: resolve(b"VRI")
            .and_then(|vri| vri.as_dict().ok())
            .cloned()
            .unwrap_or_default(),
    })
}

fn stream_bytes(document: &Document, item: &Object) -> Option<Vec<u8>> {
    let (_, object) = document.dereference(item).ok()?;
    object
        .as_stream()
        .ok()?
        .get_plain_content_with_limit(MAX_STREAM)
        .ok()
}

/// Adds a stream for each of `values` not already among `entries` (by bytes).
fn append_streams(entries: &mut Vec<Entry>, values: &[Vec<u8>], document: &mut Document) {
    for value in values {
        if entries.iter().any(|e| e.bytes.as_ref() == Some(value)) {
            continue;
        }
        let mut stream = Stream::new(Dictionary::new(), value.clone());
        // Compression failure leaves the stream uncompressed, which is as valid.
        let _ = stream.compress();
        entries.push(Entry {
            item: Object::Reference(document.add_object(stream)),
            bytes: Some(value.clone()),
        });
    }
}

/// A `/VRI` entry for each signature without one: the streams of the certificates on its
/// certification paths (the signer's and its time-stamp authority's) and of the CRLs of
/// their issuers. Existing entries stay as they are (ISO 32000-2 does not let them change).
fn add_vri_entries(store: &mut Store, signatures: &[Vec<u8>], document: &mut Document) {
    let certificates: Vec<(Certificate, Object)> =
        parsed(&store.certs, |b| Certificate::from_der(b));
    let crls: Vec<(CertificateList, Object)> =
        parsed(&store.crls, |b| <CertificateList>::from_der(b));
    let pool: Vec<Certificate> = certificates.iter().map(|(c, _)| c.clone()).collect();
    for contents in signatures {
        let key = vri_key(contents);
        if store.vri.has(key.as_bytes()) {
            continue;
        }
        let path = path_certificates(&embedded_certificates(contents), &pool);
        let certs: Vec<Object> = certificates
            .iter()
            .filter(|(c, _)| path.contains(c))
            .map(|(_, item)| item.clone())
            .collect();
        let crls: Vec<Object> = crls
            .iter()
            .filter(|(crl, _)| {
                path.iter().any(|c| {
                    let tbs = c.tbs_certificate();
                    tbs.issuer() != tbs.subject() && *tbs.issuer() == crl.tbs_cert_list.issuer
                })
            })
            .map(|(_, item)| item.clone())
            .collect();
        let mut entry = Dictionary::new();
        entry.set("Type", Object::Name(b"VRI".to_vec()));
        entry.set("Cert", Object::Array(certs));
        if !crls.is_empty() {
            entry.set("CRL", Object::Array(crls));
        }
        let id = document.add_object(entry);
        store.vri.set(key.into_bytes(), Object::Reference(id));
    }
}

fn parsed<T>(entries: &[Entry], parse: impl Fn(&[u8]) -> der::Result<T>) -> Vec<(T, Object)> {
    entries
        .iter()
        .filter_map(|e| Some((parse(e.bytes.as_deref()?).ok()?, e.item.clone())))
        .collect()
}

/// Writes the DSS: over the DSS object it replaces, or as a new object the catalog points to.
fn put_dss(
    update: &mut IncrementalDocument,
    existing: Option<ObjectId>,
    dss: Dictionary,
) -> Result<(), PdfError> {
    if let Some(id) = existing {
        update.new_document.set_object(id, dss);
        return Ok(());
    }
    let no_catalog = |_| PdfError::Malformed("the pdf has no catalog");
    let id = update.new_document.add_object(dss);
    let root_id = update
        .get_prev_documents()
        .trailer
        .get(b"Root")
        .and_then(Object::as_reference)
        .map_err(no_catalog)?;
    update
        .opt_clone_object_to_new_document(root_id)
        .map_err(no_catalog)?;
    update
        .new_document
        .get_dictionary_mut(root_id)
        .map_err(no_catalog)?
        .set("DSS", Object::Reference(id));
    Ok(())
}

/// The invisible field and widget of a document time-stamp, on the last page.
fn add_time_stamp_field(
    update: &mut IncrementalDocument,
    page_id: ObjectId,
    field_name: &str,
) -> Result<(), PdfError> {
    let value_id = update.new_document.add_object(time_stamp_dictionary());
    let mut field = Dictionary::new();
    field.set("FT", Object::Name(b"Sig".to_vec()));
    field.set(
        "T",
        Object::String(field_name.as_bytes().to_vec(), StringFormat::Literal),
    );
    field.set("V", Object::Reference(value_id));
    field.set("Type", Object::Name(b"Annot".to_vec()));
    field.set("Subtype", Object::Name(b"Widget".to_vec()));
    field.set("F", Object::Integer(INVISIBLE_WIDGET_FLAGS));
    field.set("P", Object::Reference(page_id));
    field.set("Rect", Object::Array(vec![Object::Integer(0); 4]));
    let field_id = update.new_document.add_object(field);
    sign::append_to_page_annots(update, page_id, field_id)?;
    sign::append_to_acroform(update, field_id)
}

fn time_stamp_dictionary() -> Dictionary {
    let placeholder = Object::Integer(sign::BYTE_RANGE_PLACEHOLDER);
    let mut value = Dictionary::new();
    value.set("Type", Object::Name(b"DocTimeStamp".to_vec()));
    value.set("Filter", Object::Name(b"Adobe.PPKLite".to_vec()));
    value.set("SubFilter", Object::Name(b"ETSI.RFC3161".to_vec()));
    value.set(
        "ByteRange",
        Object::Array(vec![
            Object::Integer(0),
            placeholder.clone(),
            placeholder.clone(),
            placeholder,
        ]),
    );
    value.set(
        "Contents",
        Object::String(
            vec![0; DOCUMENT_TIME_STAMP_RESERVED],
            StringFormat::Hexadecimal,
        ),
    );
    value
}

fn save(mut update: IncrementalDocument, previous_len: usize) -> Result<Vec<u8>, PdfError> {
    let mut out = Vec::with_capacity(previous_len + 3 * DOCUMENT_TIME_STAMP_RESERVED);
    update
        .save_to(&mut out)
        .map_err(|error| PdfError::Write(error.to_string()))?;
    Ok(out)
}

/// SHA-1 (RustCrypto's `sha1`), for `/VRI` keys only: ISO 32000-2 fixes that hash there,
/// and nothing here relies on its collision resistance.
fn sha1(message: &[u8]) -> [u8; 20] {
    use sha1::Digest as _;
    sha1::Sha1::digest(message).into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pdf::x509::{self, CertifiedKey, Issuance};
    use p256::ecdsa::SigningKey;
    use signet_protocol::Timestamp;

    fn issuance(serial: u128) -> Issuance {
        Issuance {
            serial,
            not_before: Timestamp::from_unix(1_735_689_600),
            not_after: Timestamp::from_unix(2_366_841_600),
        }
    }

    /// A CA certificate, a TSA certificate it issued and its CRL.
    fn material() -> (Vec<u8>, Vec<u8>, Vec<u8>) {
        let ca_key = SigningKey::from_slice(&[21; 32]).unwrap();
        let ca_der = x509::ca_certificate("Test CA", None, &ca_key, &issuance(1)).unwrap();
        let ca = CertifiedKey::new(&ca_key, &ca_der).unwrap();
        let tsa_key = SigningKey::from_slice(&[22; 32]).unwrap();
        let tsa_der =
            x509::tsa_certificate(&ca, "TSA", tsa_key.verifying_key(), &issuance(2)).unwrap();
        let at = Timestamp::from_unix(1_780_308_000);
        let crl = x509::crl(&ca, 1, &[], at, Timestamp::from_unix(1_790_000_000)).unwrap();
        (ca_der, tsa_der, crl)
    }

    #[test]
    fn sha1_matches_fips_180_examples() {
        assert_eq!(
            hex::encode(sha1(b"abc")),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        assert_eq!(
            hex::encode(sha1(b"")),
            "da39a3ee5e6b4b0d3255bfef95601890afd80709"
        );
        assert_eq!(
            hex::encode(sha1(
                b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
            )),
            "84983e441c3bd26ebaae4aa1f95129e5e54670f1"
        );
        // 55 and 56 bytes: the padding boundary.
        assert_eq!(
            hex::encode(sha1(&[b'a'; 56])),
            "c2db330f6083854c99d4b5bfb6e8f29f201be699"
        );
    }

    #[test]
    fn vri_keys_hash_the_cms_without_its_padding() {
        let (ca_der, _, _) = material();
        let mut padded = ca_der.clone();
        padded.resize(ca_der.len() + 300, 0);
        let key = vri_key(&padded);
        assert_eq!(key, hex::encode_upper(sha1(&ca_der)));
        assert_eq!(key, vri_key(&ca_der));
        assert_eq!(key.len(), 40);
        assert!(
            key.chars()
                .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
        );
    }

    #[test]
    fn validation_data_is_added_once() {
        let (ca_der, tsa_der, crl) = material();
        let pdf = super::super::sample::contract("Contract", &["A", "B"], 1).unwrap();
        let data = ValidationData {
            certificates: vec![ca_der.clone(), tsa_der.clone(), ca_der.clone()],
            crls: vec![crl.clone()],
        };
        let once = add_validation_data(&pdf, &data).unwrap();
        assert_eq!(&once[..pdf.len()], &pdf[..], "earlier bytes are kept");
        let dss = document_security_store(&once).unwrap();
        assert_eq!(dss.certificates, vec![ca_der.clone(), tsa_der.clone()]);
        assert_eq!(dss.crls, vec![crl.clone()]);
        let twice = add_validation_data(&once, &data).unwrap();
        assert_eq!(document_security_store(&twice).unwrap(), dss);
        let other = material_with_seed(23);
        let thrice = add_validation_data(
            &twice,
            &ValidationData {
                certificates: vec![tsa_der.clone(), other.clone()],
                crls: vec![crl.clone()],
            },
        )
        .unwrap();
        let dss = document_security_store(&thrice).unwrap();
        assert_eq!(dss.certificates, vec![ca_der, tsa_der, other]);
        assert_eq!(dss.crls, vec![crl]);
    }

    fn material_with_seed(seed: u8) -> Vec<u8> {
        let key = SigningKey::from_slice(&[seed; 32]).unwrap();
        x509::ca_certificate("Other CA", None, &key, &issuance(9)).unwrap()
    }

    #[test]
    fn garbage_validation_data_is_refused() {
        let pdf = super::super::sample::contract("Contract", &["A"], 1).unwrap();
        let data = ValidationData {
            certificates: vec![b"not a certificate".to_vec()],
            crls: Vec::new(),
        };
        assert!(matches!(
            add_validation_data(&pdf, &data),
            Err(PdfError::Asn1(_))
        ));
        assert!(document_security_store(b"not a pdf").is_err());
        assert_eq!(
            document_security_store(&pdf).unwrap(),
            DocumentSecurityStore::default(),
            "no DSS yet"
        );
    }

    #[test]
    fn paths_follow_issuer_names() {
        let (ca_der, tsa_der, _) = material();
        let ca = Certificate::from_der(&ca_der).unwrap();
        let tsa = Certificate::from_der(&tsa_der).unwrap();
        let other = Certificate::from_der(&material_with_seed(24)).unwrap();
        let path = path_certificates(
            std::slice::from_ref(&tsa),
            &[other, ca.clone(), tsa.clone()],
        );
        assert_eq!(path, vec![tsa, ca]);
    }
}
