//! Signet protocol core.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod attestation;
pub mod codec;
mod codepoint;
pub mod cose;
pub mod crypto;
pub mod error;
pub mod keylog;
pub mod party;
pub mod registration;
pub mod seal;
#[cfg(any(test, feature = "testkit"))]
pub mod testkit;
pub mod time;
pub mod trust;

pub use crypto::{Digest, PublicKey, SecretKey, Signature};
pub use time::Timestamp;
