//! PDF seals: a party's signature on a contract PDF, as PAdES (ETSI EN 319 142-1).
//!
//! A sealed contract leaves Signet as an ordinary PDF that any reader (Acrobat, poppler's
//! `pdfsig`, pyHanko) can check without Signet. Each signer adds one incremental update
//! (ISO 32000-1, 7.5.6) holding a signature field, its visible seal and a detached CAdES
//! signature over every byte of the file up to that update; earlier signers' bytes are never
//! rewritten.
//!
//! The layers, bottom up:
//!
//! - [`x509`] (in the protocol crate, spec §6.10): the certificates behind a seal (a CA, seal certificates naming the
//!   enterprise by its unified social credit code, a time-stamping authority, CRLs),
//!   ECDSA P-256 with SHA-256 throughout.
//! - [`tsa`]: the server side of RFC 3161, so that a Signet witness can time-stamp
//!   signatures.
//! - [`appearance`]: the visible seal — a red round seal drawn as PDF vector operators
//!   (Latin names in Helvetica, Chinese names from a font's glyph outlines), or a registered
//!   PNG/JPEG image.
//! - [`sign`]: one signer's incremental update (PAdES B-B, or B-T with a time-stamp); with an
//!   SM2 key, a detached PKCS #7 signature with SM2/SM3 and a GB/T 38540 seal signature
//!   ([`national`]).
//! - [`verify`]: the facts about each signature in a file (no trust verdict).
//! - [`ltv`]: long-term validation: the Document Security Store (B-LT) and document
//!   time-stamps (B-LTA), appended after the seals.
//!
//! # Where I/O stops
//!
//! Nothing here reads a file, a clock or the network, nor draws randomness: bytes, times,
//! serial numbers and keys are arguments, and the time-stamp authority is reached through the
//! [`sign::TimeStamper`] trait, which the node implements over its network.
//! ECDSA signatures are deterministic (RFC 6979).

pub mod appearance;
mod asn1;
pub mod assess;
mod cades;
pub mod changes;
mod error;
pub mod ltv;
pub mod national;
pub mod sample;
pub mod sign;
pub mod tsa;
pub mod verify;

/// Certificates for PDF keys: in the protocol crate, whose PDF certificate attestations
/// (spec §6.10) carry them.
pub use signet_protocol::x509;

pub use error::{Asn1Error, PdfError};
pub use signet_protocol::x509::asn1::{
    ATTESTATION_EXTENSION_OID, SIGNET_PRIVATE_ARC, TSA_POLICY_OID,
};
