//! Errors of the PDF seal module.

use std::fmt;

/// An ASN.1 (DER) encoding or decoding failure. Opaque, so that the version of the `der`
/// crate does not leak into the node's API.
#[derive(Debug)]
pub struct Asn1Error(der::Error);

impl fmt::Display for Asn1Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for Asn1Error {}

impl From<der::Error> for Asn1Error {
    fn from(error: der::Error) -> Self {
        Self(error)
    }
}

/// Why a certificate, time-stamp or PDF seal could not be made or read.
///
/// Variants about the input file ([`PdfError::Parse`], [`PdfError::Encrypted`]) are kept
/// apart from the caller's misuse ([`PdfError::PageOutOfRange`], [`PdfError::X509`]…).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PdfError {
    /// The PDF could not be parsed.
    #[error("the pdf could not be parsed: {0}")]
    Parse(String),
    /// The PDF is encrypted; Signet seals only unencrypted contracts.
    #[error("the pdf is encrypted")]
    Encrypted,
    /// The PDF's structure lacks something a seal needs (a catalog, a page tree…).
    #[error("the pdf is malformed: {0}")]
    Malformed(&'static str),
    /// The document was certified (DocMDP) with no changes permitted, so a further
    /// signature would break the certification.
    #[error("the pdf is certified with no changes permitted")]
    CertifiedNoChanges,
    /// The requested page does not exist.
    #[error("page {page} is out of range: the pdf has {count} pages")]
    PageOutOfRange {
        /// The 1-based page asked for.
        page: u32,
        /// How many pages the document has.
        count: u32,
    },
    /// A signature field of that name already exists.
    #[error("a field named {0:?} already exists")]
    DuplicateField(String),
    /// The field name is empty or contains a period (which PDF reserves for field paths).
    #[error("invalid field name {0:?}")]
    InvalidFieldName(String),
    /// The CMS signature is larger than the space reserved in `/Contents`.
    #[error("the signature needs {needed} bytes but only {reserved} are reserved")]
    SignatureTooLarge {
        /// The DER size of the CMS signature.
        needed: usize,
        /// The bytes reserved in `/Contents`.
        reserved: usize,
    },
    /// The seal's rectangle is not four finite numbers enclosing an area within the page
    /// coordinate limits.
    #[error("invalid placement: {0}")]
    Placement(&'static str),
    /// The incremental update could not be written.
    #[error("the update could not be written: {0}")]
    Write(String),
    /// A CMS object is not a signed-data with a signer.
    #[error("malformed cms signature: {0}")]
    Cms(&'static str),
    /// A certificate could not be made, read or paired with its key (see
    /// [`signet_protocol::x509::X509Error`]).
    #[error(transparent)]
    X509(#[from] signet_protocol::x509::X509Error),
    /// A time cannot be written in a certificate, CRL or time-stamp.
    #[error("time out of range for asn.1")]
    Time,
    /// A serial number is zero (serials must be positive).
    #[error("serial numbers must be positive")]
    Serial,
    /// The seal's text cannot be drawn with the fonts available.
    #[error("the seal text cannot be drawn: {0}")]
    SealText(String),
    /// A seal image is not a supported PNG or JPEG.
    #[error("unsupported seal image: {0}")]
    Image(&'static str),
    /// The time-stamp request was refused as malformed or unsupported.
    #[error("bad time-stamp request: {0}")]
    TimeStampRequest(&'static str),
    /// The time-stamp provider failed.
    #[error("time-stamping failed: {0}")]
    TimeStamp(String),
    /// DER encoding or decoding failed.
    #[error("asn.1: {0}")]
    Asn1(#[from] Asn1Error),
    /// A GB/T 38540 seal signature could not be made, or would not verify (the seal does not
    /// list the signer's certificate, or is not valid at the signing time).
    #[error("electronic seal signature: {0}")]
    Ses(#[from] signet_protocol::ses::SesError),
}

impl From<der::Error> for PdfError {
    fn from(error: der::Error) -> Self {
        Self::Asn1(Asn1Error(error))
    }
}
