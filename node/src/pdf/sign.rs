//! One signer's PAdES signature (ETSI EN 319 142-1, B-B or B-T) as an incremental update.
//!
//! The steps:
//!
//! 1. Parse the PDF (refusing encrypted files) and find the page and the AcroForm.
//! 2. Append, with lopdf's [`IncrementalDocument`], a signature dictionary
//!    (`/Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached /M`, a fixed-width
//!    `/ByteRange` placeholder and a zeroed `/Contents`), a merged signature field and
//!    widget with the seal's appearance stream, the page's extended `/Annots` and the
//!    AcroForm's extended `/Fields` with `/SigFlags 3`. Earlier bytes are copied unchanged.
//! 3. Patch `/ByteRange` in place (same length, space padded), hash the two ranges with
//!    SHA-256 and sign them as a detached CMS (see `pdf::cades`); for B-T, time-stamp
//!    the signature value through the [`TimeStamper`] and add the token as the
//!    signatureTimeStampToken unsigned attribute.
//! 4. Write the CMS as hex into `/Contents`.

use std::time::SystemTime;

use lopdf::{Dictionary, Document, IncrementalDocument, Object, ObjectId, Stream, StringFormat};
use x509_cert::Certificate;

use super::PdfError;
use super::appearance::{self, Appearance};
use super::asn1::{self, ATTR_SIGNATURE_TIME_STAMP};
use super::cades::{self, CmsSigner, Content};
use super::national::{ATTR_SES_SIGNATURE, SignatureSuite, Sm2CertifiedKey};
use super::tsa;
use super::x509::CertifiedKey;

/// The bytes reserved for the CMS signature by default (hex doubles it in the file): room
/// for a P-256 signer, a three-certificate chain and a time-stamp token.
pub const DEFAULT_RESERVED: usize = 16 * 1024;
/// The most bytes that may be reserved.
pub const MAX_RESERVED: usize = 256 * 1024;
/// The `/ByteRange` placeholder value: ten digits, so any real offset fits in its place.
pub(super) const BYTE_RANGE_PLACEHOLDER: i64 = 9_999_999_999;

/// Where a seal goes: a page and a rectangle in PDF points (default user space).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Placement {
    /// The 1-based page; `None` for the last page.
    pub page: Option<u32>,
    /// `[x1, y1, x2, y2]`, lower left and upper right corners.
    pub rect: [f32; 4],
}

/// The slot for signer `index` of `count` (0-based), side by side along the bottom of a
/// page of `page_size` (`[width, height]` in points): square seals of up to 120 pt with a
/// 36 pt margin.
pub fn default_slot(page_size: [f32; 2], index: u32, count: u32) -> [f32; 4] {
    let [width, _] = page_size;
    let margin = 36.0;
    let count = count.max(1) as f32;
    let slot = ((width - 2.0 * margin) / count).max(1.0);
    let size = (slot * 0.85).min(120.0);
    let x = margin + slot * index.min(u32::MAX - 1) as f32 + (slot - size) / 2.0;
    [x, margin, x + size, margin + size]
}

/// The size (`[width, height]` of the media box, in points) of a page, `None` for the last.
///
/// # Errors
///
/// [`PdfError::Parse`], [`PdfError::Encrypted`], [`PdfError::PageOutOfRange`],
/// [`PdfError::Malformed`] when the page has no usable media box.
pub fn page_size(pdf: &[u8], page: Option<u32>) -> Result<[f32; 2], PdfError> {
    let document = load(pdf)?;
    let page_id = page_id(&document, page)?;
    let media_box = inherited(&document, page_id, b"MediaBox")
        .and_then(|object| object.as_array().ok())
        .and_then(|array| array.iter().map(number).collect::<Option<Vec<f32>>>())
        .ok_or(PdfError::Malformed("the page has no media box"))?;
    match media_box.as_slice() {
        [x1, y1, x2, y2] => Ok([(x2 - x1).abs(), (y2 - y1).abs()]),
        _ => Err(PdfError::Malformed(
            "the page's media box is not four numbers",
        )),
    }
}

/// Why a time-stamp could not be obtained; the node's network errors fit in it.
pub type TimeStampError = Box<dyn std::error::Error + Send + Sync>;

/// Obtains an RFC 3161 `TimeStampToken` (DER) over a SHA-256 digest, e.g. from a Signet
/// witness's TSA over the network, or in-process from [`super::tsa`].
pub trait TimeStamper {
    /// A token whose message imprint is `digest` (SHA-256).
    ///
    /// # Errors
    ///
    /// Whatever prevented the time-stamp.
    fn time_stamp(&self, digest: &[u8; 32]) -> Result<Vec<u8>, TimeStampError>;
}

impl<F> TimeStamper for F
where
    F: Fn(&[u8; 32]) -> Result<Vec<u8>, TimeStampError>,
{
    fn time_stamp(&self, digest: &[u8; 32]) -> Result<Vec<u8>, TimeStampError> {
        self(digest)
    }
}

/// A signer: a key, its certificate and the certificates up to (and maybe including) the
/// root, all embedded in the signature; for an SM2 signer, maybe also a GB/T 38540 seal.
#[derive(Debug, Clone)]
pub struct PdfSigner<'a> {
    key: SignerKey<'a>,
    chain: Vec<Certificate>,
    /// An `SESeal` (DER) listing the signer's certificate: each signature then carries an
    /// `SES_Signature` over its byte range (spec §11.6).
    seal: Option<Vec<u8>>,
}

#[derive(Debug, Clone)]
enum SignerKey<'a> {
    P256(CertifiedKey<'a>),
    Sm2(Sm2CertifiedKey<'a>),
}

impl<'a> PdfSigner<'a> {
    /// Pairs the key with its certificate (checked to match) and chain.
    ///
    /// # Errors
    ///
    /// [`PdfError::X509`] when the certificate is not for `key` or does not parse;
    /// [`PdfError::Asn1`] when a chain certificate does not parse.
    pub fn new(
        key: &'a p256::ecdsa::SigningKey,
        certificate_der: &[u8],
        chain_ders: &[Vec<u8>],
    ) -> Result<Self, PdfError> {
        Ok(Self {
            key: SignerKey::P256(CertifiedKey::new(key, certificate_der)?),
            chain: cades::decode_certificates(chain_ders)?,
            seal: None,
        })
    }

    /// An SM2 signer (national algorithms, see [`super::national`]): the key with its SM2
    /// certificate (checked to match) and chain, from whichever CA issued them; with `seal`,
    /// an `SESeal` listing that certificate, each signature also carries an `SES_Signature`
    /// over the bytes it signs (spec §11.6). The seal is checked when a signature is made.
    ///
    /// # Errors
    ///
    /// [`PdfError::X509`] when the certificate is not an SM2 certificate of `key`;
    /// [`PdfError::Asn1`] when a chain certificate does not parse.
    pub fn sm2(
        key: &'a signet_protocol::sm2::Sm2SecretKey,
        certificate_der: &[u8],
        chain_ders: &[Vec<u8>],
        seal: Option<Vec<u8>>,
    ) -> Result<Self, PdfError> {
        Ok(Self {
            key: SignerKey::Sm2(Sm2CertifiedKey::new(key, certificate_der)?),
            chain: cades::decode_certificates(chain_ders)?,
            seal,
        })
    }

    /// The suite this signer signs with.
    pub fn suite(&self) -> SignatureSuite {
        self.cms_signer().suite()
    }

    fn cms_signer(&self) -> CmsSigner<'_> {
        match &self.key {
            SignerKey::P256(k) => CmsSigner::P256(k),
            SignerKey::Sm2(k) => CmsSigner::Sm2(k),
        }
    }

    /// The `SES_Signature` over `data` (the signed byte ranges), checked before it is used,
    /// and time-stamped over its signature value by `time_stamper` when given (GB/T 38540's
    /// `timeStamp`, spec 11.6): `None` without a seal.
    fn ses_signature(
        &self,
        data: &[u8],
        time: SystemTime,
        time_stamper: Option<&dyn TimeStamper>,
    ) -> Result<Option<Vec<u8>>, PdfError> {
        let (Some(seal), SignerKey::Sm2(key)) = (&self.seal, &self.key) else {
            return Ok(None);
        };
        let seconds = time
            .duration_since(std::time::UNIX_EPOCH)
            .map_err(|_| PdfError::Time)?
            .as_secs();
        let at = signet_protocol::Timestamp::from_unix(seconds);
        let signature = signet_protocol::ses::sign(
            seal,
            key.key(),
            key.certificate_der(),
            data,
            at,
            SES_PROPERTY_INFO,
        )?;
        // A seal that does not list this certificate, or is not valid now, is refused here
        // rather than written into a contract.
        let verified = signet_protocol::ses::verify_signature(&signature, data)?;
        let Some(stamper) = time_stamper else {
            return Ok(Some(signature));
        };
        let token = time_stamp_token(stamper, &verified.time_stamp_imprint())?;
        Ok(Some(signet_protocol::ses::with_time_stamp(
            &signature, &token,
        )?))
    }
}

/// The `propertyInfo` of the `SES_Signature` a PDF signature carries: what its data is.
pub const SES_PROPERTY_INFO: &str = "pdf-byte-range";

/// Everything one signature needs besides the PDF.
pub struct SealRequest<'a> {
    /// Where the seal goes.
    pub placement: Placement,
    /// What it shows.
    pub appearance: &'a Appearance,
    /// Who signs.
    pub signer: &'a PdfSigner<'a>,
    /// The claimed signing time, written as `/M` (the trusted time is the time-stamp's).
    pub signing_time: SystemTime,
    /// The signature field's name: printable ASCII, no period, unique in the document.
    pub field_name: &'a str,
    /// The time-stamp authority for PAdES B-T; `None` for B-B.
    pub time_stamper: Option<&'a dyn TimeStamper>,
    /// Bytes reserved for the CMS signature ([`DEFAULT_RESERVED`] suits most); clamped to
    /// 1 KiB ..= [`MAX_RESERVED`].
    pub reserved: usize,
}

impl std::fmt::Debug for SealRequest<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SealRequest")
            .field("placement", &self.placement)
            .field("field_name", &self.field_name)
            .field("signing_time", &self.signing_time)
            .field("time_stamped", &self.time_stamper.is_some())
            .field("reserved", &self.reserved)
            .finish_non_exhaustive()
    }
}

/// Signs `pdf` for one signer: returns `pdf`, byte for byte, followed by an incremental
/// update holding the signature.
///
/// # Errors
///
/// [`PdfError::Parse`] and [`PdfError::Malformed`] for a PDF that cannot be read,
/// [`PdfError::Encrypted`], [`PdfError::CertifiedNoChanges`], [`PdfError::PageOutOfRange`],
/// [`PdfError::Placement`], [`PdfError::InvalidFieldName`],
/// [`PdfError::DuplicateField`], [`PdfError::SignatureTooLarge`] when `reserved` is too small,
/// [`PdfError::TimeStamp`] when the time-stamper fails or returns a token for another digest.
pub fn sign(pdf: &[u8], request: &SealRequest<'_>) -> Result<Vec<u8>, PdfError> {
    check_field_name(request.field_name)?;
    check_rect(request.placement.rect)?;
    let reserved = request.reserved.clamp(1024, MAX_RESERVED);
    let document = load(pdf)?;
    if docmdp_permission(&document) == Some(1) {
        return Err(PdfError::CertifiedNoChanges);
    }
    let page_id = page_id(&document, request.placement.page)?;
    let mut update = IncrementalDocument::create_from(pdf.to_vec(), document);
    add_signature_field(&mut update, page_id, request, reserved)?;
    let mut out = Vec::with_capacity(pdf.len() + 2 * reserved + 8192);
    update
        .save_to(&mut out)
        .map_err(|error| PdfError::Write(error.to_string()))?;
    let hole = locate_placeholders(&out, pdf.len(), reserved)?;
    patch_byte_range(&mut out, &hole)?;
    let suite = request.signer.suite();
    let digest = digest_ranges(suite, &out, &hole);
    let ses = match request.signer.seal {
        Some(_) => {
            let mut data = out[..hole.contents_start].to_vec();
            data.extend_from_slice(&out[hole.contents_end..]);
            request
                .signer
                .ses_signature(&data, request.signing_time, request.time_stamper)?
        }
        None => None,
    };
    let cms = signature_cms(request, digest, ses)?;
    write_contents(&mut out, &hole, &cms, reserved)?;
    Ok(out)
}

/// Loads a PDF, refusing encrypted ones.
pub(crate) fn load(pdf: &[u8]) -> Result<Document, PdfError> {
    let document = Document::load_mem(pdf).map_err(|error| {
        if find(pdf, b"/Encrypt").is_some() {
            PdfError::Encrypted
        } else {
            PdfError::Parse(error.to_string())
        }
    })?;
    if document.was_encrypted() || document.is_encrypted() || document.trailer.has(b"Encrypt") {
        return Err(PdfError::Encrypted);
    }
    Ok(document)
}

/// The `/P` of a certification signature's DocMDP transform (ISO 32000-1, 12.8.2.2), if the
/// document is certified: 1 permits no change, 2 form filling and signing, 3 also annotations.
fn docmdp_permission(document: &Document) -> Option<i64> {
    let resolve = |object: &Object| document.dereference(object).ok().map(|(_, o)| o.clone());
    let catalog = document.catalog().ok()?;
    let perms = resolve(catalog.get(b"Perms").ok()?)?;
    let signature = resolve(perms.as_dict().ok()?.get(b"DocMDP").ok()?)?;
    let references = resolve(signature.as_dict().ok()?.get(b"Reference").ok()?)?;
    references.as_array().ok()?.iter().find_map(|reference| {
        let reference = resolve(reference)?;
        let reference = reference.as_dict().ok()?;
        if reference.get(b"TransformMethod").ok()?.as_name().ok()? != b"DocMDP" {
            return None;
        }
        let params = resolve(reference.get(b"TransformParams").ok()?)?;
        // P defaults to 2 when absent.
        Some(
            params
                .as_dict()
                .ok()?
                .get(b"P")
                .ok()
                .and_then(|p| p.as_i64().ok())
                .unwrap_or(2),
        )
    })
}

pub(super) fn page_id(document: &Document, page: Option<u32>) -> Result<ObjectId, PdfError> {
    let pages = document.get_pages();
    let count = u32::try_from(pages.len()).unwrap_or(u32::MAX);
    let number = page.unwrap_or(count);
    pages.get(&number).copied().ok_or(PdfError::PageOutOfRange {
        page: number,
        count,
    })
}

/// A page attribute, looked up through the page tree (ISO 32000-1, 7.7.3.4).
fn inherited<'a>(document: &'a Document, page_id: ObjectId, key: &[u8]) -> Option<&'a Object> {
    let mut node = document.get_dictionary(page_id).ok()?;
    for _ in 0..64 {
        if let Ok(value) = node.get(key) {
            return document.dereference(value).ok().map(|(_, object)| object);
        }
        let parent = node.get(b"Parent").and_then(Object::as_reference).ok()?;
        node = document.get_dictionary(parent).ok()?;
    }
    None
}

fn number(object: &Object) -> Option<f32> {
    match *object {
        Object::Integer(i) => Some(i as f32),
        Object::Real(r) => Some(r),
        _ => None,
    }
}

pub(super) fn check_field_name(name: &str) -> Result<(), PdfError> {
    let valid = !name.is_empty()
        && name.len() <= 127
        && name.chars().all(|c| (' '..='~').contains(&c) && c != '.');
    if valid {
        Ok(())
    } else {
        Err(PdfError::InvalidFieldName(name.to_owned()))
    }
}

/// ISO 32000-1, C.2: coordinates stay within ±14 400 units (the Acrobat limit).
fn check_rect([x1, y1, x2, y2]: [f32; 4]) -> Result<(), PdfError> {
    if ![x1, y1, x2, y2]
        .iter()
        .all(|v| v.is_finite() && v.abs() <= 14_400.0)
    {
        return Err(PdfError::Placement(
            "coordinates must be finite and within 14400 points",
        ));
    }
    if (x2 - x1).abs() < 1.0 || (y2 - y1).abs() < 1.0 {
        return Err(PdfError::Placement(
            "the rectangle must be at least one point wide and high",
        ));
    }
    Ok(())
}

fn add_signature_field(
    update: &mut IncrementalDocument,
    page_id: ObjectId,
    request: &SealRequest<'_>,
    reserved: usize,
) -> Result<(), PdfError> {
    let existing = field_names(update.get_prev_documents());
    if existing.iter().any(|name| name == request.field_name) {
        return Err(PdfError::DuplicateField(request.field_name.to_owned()));
    }
    let [x1, y1, x2, y2] = request.placement.rect;
    let (width, height) = ((x2 - x1).abs().max(1.0), (y2 - y1).abs().max(1.0));
    let appearance_id = add_appearance(update, request.appearance, width, height);
    let signature_id = update.new_document.add_object(signature_dictionary(
        request.signing_time,
        reserved,
        request.signer.suite(),
    )?);
    let mut field = Dictionary::new();
    field.set("FT", Object::Name(b"Sig".to_vec()));
    field.set(
        "T",
        Object::String(
            request.field_name.as_bytes().to_vec(),
            StringFormat::Literal,
        ),
    );
    field.set("V", Object::Reference(signature_id));
    field.set("Type", Object::Name(b"Annot".to_vec()));
    field.set("Subtype", Object::Name(b"Widget".to_vec()));
    field.set("F", Object::Integer(4));
    field.set("P", Object::Reference(page_id));
    field.set(
        "Rect",
        Object::Array(vec![
            Object::Real(x1.min(x2)),
            Object::Real(y1.min(y2)),
            Object::Real(x1.max(x2)),
            Object::Real(y1.max(y2)),
        ]),
    );
    let mut ap = Dictionary::new();
    ap.set("N", Object::Reference(appearance_id));
    field.set("AP", Object::Dictionary(ap));
    let field_id = update.new_document.add_object(field);
    append_to_page_annots(update, page_id, field_id)?;
    append_to_acroform(update, field_id)
}

fn add_appearance(
    update: &mut IncrementalDocument,
    appearance: &Appearance,
    width: f32,
    height: f32,
) -> ObjectId {
    let rendered = appearance.render(width, height);
    let mut resources = Dictionary::new();
    if rendered.helvetica {
        let mut fonts = Dictionary::new();
        fonts.set("F1", Object::Dictionary(appearance::helvetica()));
        resources.set("Font", Object::Dictionary(fonts));
    }
    if let Some(streams) = rendered.image {
        let mut image = streams.image;
        if let Some(soft_mask) = streams.soft_mask {
            let mask_id = update.new_document.add_object(soft_mask);
            image.dict.set("SMask", Object::Reference(mask_id));
        }
        let image_id = update.new_document.add_object(image);
        let mut xobjects = Dictionary::new();
        xobjects.set("Im1", Object::Reference(image_id));
        resources.set("XObject", Object::Dictionary(xobjects));
    }
    let mut dict = Dictionary::new();
    dict.set("Type", Object::Name(b"XObject".to_vec()));
    dict.set("Subtype", Object::Name(b"Form".to_vec()));
    dict.set(
        "BBox",
        Object::Array(vec![
            Object::Integer(0),
            Object::Integer(0),
            Object::Real(width),
            Object::Real(height),
        ]),
    );
    dict.set("Resources", Object::Dictionary(resources));
    let mut stream = Stream::new(dict, rendered.content);
    // Compression failure leaves the stream uncompressed, which is as valid.
    let _ = stream.compress();
    update.new_document.add_object(stream)
}

fn signature_dictionary(
    signing_time: SystemTime,
    reserved: usize,
    suite: SignatureSuite,
) -> Result<Dictionary, PdfError> {
    let mut sig = Dictionary::new();
    sig.set("Type", Object::Name(b"Sig".to_vec()));
    sig.set("Filter", Object::Name(b"Adobe.PPKLite".to_vec()));
    // PAdES names SHA-2 digests: an SM3 signature is a plain detached PKCS #7 signature, as
    // Chinese signing tools write it.
    let sub_filter: &[u8] = match suite {
        SignatureSuite::Sm2Sm3 => b"adbe.pkcs7.detached",
        _ => b"ETSI.CAdES.detached",
    };
    sig.set("SubFilter", Object::Name(sub_filter.to_vec()));
    sig.set(
        "M",
        Object::String(pdf_date(signing_time)?.into_bytes(), StringFormat::Literal),
    );
    sig.set(
        "ByteRange",
        Object::Array(vec![
            Object::Integer(0),
            Object::Integer(BYTE_RANGE_PLACEHOLDER),
            Object::Integer(BYTE_RANGE_PLACEHOLDER),
            Object::Integer(BYTE_RANGE_PLACEHOLDER),
        ]),
    );
    sig.set(
        "Contents",
        Object::String(vec![0; reserved], StringFormat::Hexadecimal),
    );
    Ok(sig)
}

/// `D:YYYYMMDDHHmmSS+00'00'` (ISO 32000-1, 7.9.4), in UTC.
fn pdf_date(time: SystemTime) -> Result<String, PdfError> {
    let t = der::DateTime::from_system_time(time).map_err(|_| PdfError::Time)?;
    Ok(format!(
        "D:{:04}{:02}{:02}{:02}{:02}{:02}+00'00'",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minutes(),
        t.seconds()
    ))
}

pub(super) fn append_to_page_annots(
    update: &mut IncrementalDocument,
    page_id: ObjectId,
    field_id: ObjectId,
) -> Result<(), PdfError> {
    let malformed = |_| PdfError::Malformed("the page is not a dictionary");
    update
        .opt_clone_object_to_new_document(page_id)
        .map_err(malformed)?;
    let page = update
        .new_document
        .get_dictionary(page_id)
        .map_err(malformed)?;
    if let Ok(&Object::Reference(annots_id)) = page.get(b"Annots") {
        update
            .opt_clone_object_to_new_document(annots_id)
            .map_err(|_| PdfError::Malformed("the page's annotations are missing"))?;
        return push_reference(
            update.new_document.get_object_mut(annots_id).ok(),
            field_id,
            "annots",
        );
    }
    let page = update
        .new_document
        .get_dictionary_mut(page_id)
        .map_err(malformed)?;
    if !page.has(b"Annots") {
        page.set("Annots", Object::Array(Vec::new()));
    }
    push_reference(page.get_mut(b"Annots").ok(), field_id, ANNOTS_NOT_ARRAY)
}

pub(super) fn append_to_acroform(
    update: &mut IncrementalDocument,
    field_id: ObjectId,
) -> Result<(), PdfError> {
    let no_catalog = |_| PdfError::Malformed("the pdf has no catalog");
    let root_id = update
        .get_prev_documents()
        .trailer
        .get(b"Root")
        .and_then(Object::as_reference)
        .map_err(no_catalog)?;
    let acroform = update
        .get_prev_documents()
        .get_dictionary(root_id)
        .map_err(no_catalog)?
        .get(b"AcroForm")
        .ok()
        .cloned();
    let form_id = match acroform {
        Some(Object::Reference(form_id)) => {
            update
                .opt_clone_object_to_new_document(form_id)
                .map_err(|_| PdfError::Malformed("the acroform is missing"))?;
            form_id
        }
        Some(Object::Dictionary(form)) => {
            // A direct AcroForm moves into its own object, referenced from the catalog.
            let form_id = update.new_document.add_object(form);
            set_catalog_acroform(update, root_id, form_id)?;
            form_id
        }
        _ => {
            let form_id = update.new_document.add_object(Dictionary::new());
            set_catalog_acroform(update, root_id, form_id)?;
            form_id
        }
    };
    let not_a_dictionary = |_| PdfError::Malformed("the acroform is not a dictionary");
    let fields_ref = {
        let form = update
            .new_document
            .get_dictionary_mut(form_id)
            .map_err(not_a_dictionary)?;
        form.set("SigFlags", Object::Integer(3));
        match form.get(b"Fields") {
            Ok(&Object::Reference(fields_id)) => Some(fields_id),
            _ => None,
        }
    };
    if let Some(fields_id) = fields_ref {
        update
            .opt_clone_object_to_new_document(fields_id)
            .map_err(|_| PdfError::Malformed("the acroform's fields are missing"))?;
        return push_reference(
            update.new_document.get_object_mut(fields_id).ok(),
            field_id,
            "fields",
        );
    }
    let form = update
        .new_document
        .get_dictionary_mut(form_id)
        .map_err(not_a_dictionary)?;
    if !form.has(b"Fields") {
        form.set("Fields", Object::Array(Vec::new()));
    }
    push_reference(form.get_mut(b"Fields").ok(), field_id, FIELDS_NOT_ARRAY)
}

fn set_catalog_acroform(
    update: &mut IncrementalDocument,
    root_id: ObjectId,
    form_id: ObjectId,
) -> Result<(), PdfError> {
    let no_catalog = |_| PdfError::Malformed("the pdf has no catalog");
    update
        .opt_clone_object_to_new_document(root_id)
        .map_err(no_catalog)?;
    let catalog = update
        .new_document
        .get_dictionary_mut(root_id)
        .map_err(no_catalog)?;
    catalog.set("AcroForm", Object::Reference(form_id));
    Ok(())
}

const ANNOTS_NOT_ARRAY: &str = "the page's /Annots is not an array";
const FIELDS_NOT_ARRAY: &str = "the acroform's /Fields is not an array";

fn push_reference(
    array: Option<&mut Object>,
    id: ObjectId,
    not_array: &'static str,
) -> Result<(), PdfError> {
    match array {
        Some(Object::Array(items)) => {
            items.push(Object::Reference(id));
            Ok(())
        }
        _ => Err(PdfError::Malformed(not_array)),
    }
}

/// The fully qualified names of the AcroForm's fields.
pub(crate) fn field_names(document: &Document) -> Vec<String> {
    form_fields(document)
        .into_iter()
        .map(|(name, _)| name)
        .collect()
}

/// The AcroForm's terminal fields with their fully qualified names. The walk is bounded
/// (depth 16, 10 000 nodes), so a hostile file with cyclic `/Kids` cannot make it loop.
pub(crate) fn form_fields(document: &Document) -> Vec<(String, &Dictionary)> {
    let Some(fields) = document
        .catalog()
        .ok()
        .and_then(|catalog| catalog.get(b"AcroForm").ok())
        .and_then(|form| document.dereference(form).ok())
        .and_then(|(_, form)| form.as_dict().ok())
        .and_then(|form| form.get(b"Fields").ok())
        .and_then(|fields| document.dereference(fields).ok())
        .and_then(|(_, fields)| fields.as_array().ok())
    else {
        return Vec::new();
    };
    let mut walk = FieldWalk {
        document,
        budget: 10_000,
        out: Vec::new(),
    };
    walk.collect(fields, "", 0);
    walk.out
}

struct FieldWalk<'a> {
    document: &'a Document,
    budget: usize,
    out: Vec<(String, &'a Dictionary)>,
}

impl<'a> FieldWalk<'a> {
    fn collect(&mut self, fields: &'a [Object], prefix: &str, depth: usize) {
        if depth > 16 {
            return;
        }
        for field in fields {
            if self.budget == 0 {
                return;
            }
            self.budget -= 1;
            let document = self.document;
            let Some(dict) = document
                .dereference(field)
                .ok()
                .and_then(|(_, f)| f.as_dict().ok())
            else {
                continue;
            };
            let partial = dict
                .get(b"T")
                .ok()
                .and_then(|t| t.as_str().ok())
                .map(decode_text);
            let name = match (&partial, prefix.is_empty()) {
                (Some(p), true) => p.clone(),
                (Some(p), false) => format!("{prefix}.{p}"),
                (None, _) => prefix.to_owned(),
            };
            let kids = dict
                .get(b"Kids")
                .ok()
                .and_then(|kids| document.dereference(kids).ok())
                .and_then(|(_, kids)| kids.as_array().ok());
            match kids {
                Some(kids) if partial.is_some() && kids.iter().any(|k| has_t(document, k)) => {
                    self.collect(kids, &name, depth + 1);
                }
                _ => self.out.push((name, dict)),
            }
        }
    }
}

fn has_t(document: &Document, object: &Object) -> bool {
    document
        .dereference(object)
        .ok()
        .and_then(|(_, o)| o.as_dict().ok())
        .is_some_and(|d| d.has(b"T"))
}

/// A PDF text string: UTF-16BE with a byte order mark, or else (approximately) PDFDocEncoding.
pub(crate) fn decode_text(bytes: &[u8]) -> String {
    match bytes {
        [0xFE, 0xFF, rest @ ..] => {
            let units: Vec<u16> = rest
                .chunks_exact(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]))
                .collect();
            String::from_utf16_lossy(&units)
        }
        _ => bytes.iter().map(|&b| char::from(b)).collect(),
    }
}

/// Where the placeholders landed in the written file.
#[derive(Debug)]
pub(super) struct Hole {
    /// The span inside `/ByteRange [ … ]`, brackets excluded.
    byte_range: std::ops::Range<usize>,
    /// Offset of `<` opening `/Contents`.
    contents_start: usize,
    /// Offset just after the `>` closing `/Contents`.
    contents_end: usize,
}

pub(super) fn locate_placeholders(
    out: &[u8],
    previous_len: usize,
    reserved: usize,
) -> Result<Hole, PdfError> {
    let lost = PdfError::Malformed("the signature placeholders were not written as expected");
    let appended = out
        .get(previous_len..)
        .ok_or(PdfError::Malformed("the update is shorter than the input"))?;
    let mut needle = Vec::with_capacity(2 * reserved + 2);
    needle.push(b'<');
    needle.resize(2 * reserved + 1, b'0');
    needle.push(b'>');
    let contents = find(appended, &needle).ok_or(lost)?;
    let after = contents + needle.len();
    if find(appended.get(after..).unwrap_or_default(), &needle).is_some() {
        return Err(PdfError::Malformed(
            "the signature placeholder is ambiguous",
        ));
    }
    let key = find(appended, b"/ByteRange").ok_or(PdfError::Malformed("no /ByteRange written"))?;
    let open =
        key + find(&appended[key..], b"[").ok_or(PdfError::Malformed("no /ByteRange array"))?;
    let close = open
        + find(&appended[open..], b"]").ok_or(PdfError::Malformed("no /ByteRange array end"))?;
    Ok(Hole {
        byte_range: previous_len + open + 1..previous_len + close,
        contents_start: previous_len + contents,
        contents_end: previous_len + after,
    })
}

pub(super) fn patch_byte_range(out: &mut [u8], hole: &Hole) -> Result<(), PdfError> {
    let ranges = format!(
        "0 {} {} {}",
        hole.contents_start,
        hole.contents_end,
        out.len() - hole.contents_end
    );
    let slot = out
        .get_mut(hole.byte_range.clone())
        .ok_or(PdfError::Malformed("byte range out of the file"))?;
    if ranges.len() > slot.len() {
        return Err(PdfError::Malformed(
            "the file is too large for the /ByteRange placeholder",
        ));
    }
    slot.fill(b' ');
    slot[..ranges.len()].copy_from_slice(ranges.as_bytes());
    Ok(())
}

pub(super) fn digest_ranges(suite: SignatureSuite, out: &[u8], hole: &Hole) -> [u8; 32] {
    suite.digest(&[&out[..hole.contents_start], &out[hole.contents_end..]])
}

fn signature_cms(
    request: &SealRequest<'_>,
    digest: [u8; 32],
    ses: Option<Vec<u8>>,
) -> Result<Vec<u8>, PdfError> {
    let signer = request.signer.cms_signer();
    let mut certificates = vec![signer.certificate().clone()];
    certificates.extend(request.signer.chain.iter().cloned());
    let ses_attribute = ses
        .map(|der_bytes| -> Result<_, PdfError> {
            let value = <der::Any as der::Decode>::from_der(&der_bytes)?;
            cades::attribute(ATTR_SES_SIGNATURE, &value)
        })
        .transpose()?;
    let stamp = |signature: &[u8]| -> Result<Vec<x509_cert::attr::Attribute>, PdfError> {
        let mut attributes: Vec<x509_cert::attr::Attribute> =
            ses_attribute.iter().cloned().collect();
        let Some(stamper) = request.time_stamper else {
            return Ok(attributes);
        };
        let token = time_stamp_token(stamper, &asn1::sha256(signature))?;
        let value = <der::Any as der::Decode>::from_der(&token)?;
        attributes.push(cades::attribute(ATTR_SIGNATURE_TIME_STAMP, &value)?);
        Ok(attributes)
    };
    let unsigned: cades::UnsignedAttributes<'_> = &stamp;
    let unsigned = (request.time_stamper.is_some() || ses_attribute.is_some()).then_some(unsigned);
    cades::signed_data(signer, &certificates, &Content::Detached(digest), unsigned)
}

/// A time-stamp token from `stamper` whose imprint is `imprint` (checked: a token for
/// another digest is refused).
fn time_stamp_token(stamper: &dyn TimeStamper, imprint: &[u8; 32]) -> Result<Vec<u8>, PdfError> {
    let token = stamper
        .time_stamp(imprint)
        .map_err(|error| PdfError::TimeStamp(error.to_string()))?;
    if tsa::read_token(&token)?.imprint != Some(*imprint) {
        return Err(PdfError::TimeStamp(
            "the token certifies another digest".into(),
        ));
    }
    Ok(token)
}

pub(super) fn write_contents(
    out: &mut [u8],
    hole: &Hole,
    cms: &[u8],
    reserved: usize,
) -> Result<(), PdfError> {
    if cms.len() > reserved {
        return Err(PdfError::SignatureTooLarge {
            needed: cms.len(),
            reserved,
        });
    }
    let hex = hex::encode_upper(cms);
    let start = hole.contents_start + 1;
    let slot = out
        .get_mut(start..start + hex.len())
        .ok_or(PdfError::Malformed("contents out of the file"))?;
    slot.copy_from_slice(hex.as_bytes());
    Ok(())
}

/// The first offset of `needle` in `haystack`.
pub(crate) fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn default_slots_do_not_overlap_and_stay_on_the_page() {
        for count in 1..=6 {
            let slots: Vec<[f32; 4]> = (0..count)
                .map(|i| default_slot([595.0, 842.0], i, count))
                .collect();
            for (i, slot) in slots.iter().enumerate() {
                assert!(
                    slot[0] >= 36.0 && slot[2] <= 559.0 && slot[2] - slot[0] <= 120.0,
                    "{slot:?}"
                );
                if let Some(next) = slots.get(i + 1) {
                    assert!(slot[2] <= next[0], "{slot:?} overlaps {next:?}");
                }
            }
        }
    }

    #[test]
    fn docmdp_no_changes_is_detected() {
        let mut document = Document::with_version("1.7");
        let mut params = Dictionary::new();
        params.set("P", Object::Integer(1));
        let mut reference = Dictionary::new();
        reference.set("TransformMethod", Object::Name(b"DocMDP".to_vec()));
        reference.set("TransformParams", Object::Dictionary(params));
        let mut signature = Dictionary::new();
        signature.set(
            "Reference",
            Object::Array(vec![Object::Dictionary(reference)]),
        );
        let signature_id = document.add_object(signature);
        let mut perms = Dictionary::new();
        perms.set("DocMDP", Object::Reference(signature_id));
        let mut catalog = Dictionary::new();
        catalog.set("Type", Object::Name(b"Catalog".to_vec()));
        catalog.set("Perms", Object::Dictionary(perms));
        let catalog_id = document.add_object(catalog);
        document.trailer.set("Root", Object::Reference(catalog_id));
        assert_eq!(docmdp_permission(&document), Some(1));
        let mut plain = Document::with_version("1.7");
        let catalog_id = plain.add_object(Dictionary::new());
        plain.trailer.set("Root", Object::Reference(catalog_id));
        assert_eq!(docmdp_permission(&plain), None);
    }

    #[test]
    fn dates_are_written_in_pdf_form() {
        let time = UNIX_EPOCH + Duration::from_secs(1_780_308_000);
        assert_eq!(pdf_date(time).unwrap(), "D:20260601100000+00'00'");
    }

    #[test]
    fn field_names_and_rectangles_are_checked() {
        assert!(check_field_name("Seal 1").is_ok());
        for bad in ["", "a.b", "é", &"x".repeat(128)] {
            assert!(check_field_name(bad).is_err(), "{bad:?}");
        }
        assert!(check_rect([0.0, 0.0, 10.0, 10.0]).is_ok());
        assert!(check_rect([0.0, 0.0, 0.5, 10.0]).is_err());
        assert!(check_rect([0.0, 0.0, f32::INFINITY, 10.0]).is_err());
        assert!(check_rect([0.0, 0.0, 20_000.0, 10.0]).is_err());
    }

    #[test]
    fn byte_range_is_patched_in_place() {
        let mut out =
            b"%PDF /ByteRange [0 9999999999 9999999999 9999999999] /Contents <0000> tail".to_vec();
        let len = out.len();
        let hole = locate_placeholders(&out, 0, 2).unwrap();
        patch_byte_range(&mut out, &hole).unwrap();
        assert_eq!(out.len(), len);
        let text = String::from_utf8(out).unwrap();
        let expected = format!(
            "[0 {} {} {}",
            hole.contents_start,
            hole.contents_end,
            len - hole.contents_end
        );
        assert!(text.contains(&expected), "{text}");
        assert!(text.contains("  ]"), "space padded: {text}");
    }

    #[test]
    fn text_strings_decode_utf16_and_pdfdoc() {
        assert_eq!(decode_text(b"Seal1"), "Seal1");
        assert_eq!(decode_text(&[0xFE, 0xFF, 0x53, 0x70]), "\u{5370}");
    }
}
