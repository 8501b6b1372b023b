//! Signet protocol core.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod codec;
mod codepoint;
pub mod cose;
pub mod crypto;
pub mod error;
pub mod keylog;
pub mod party;
pub mod registration;
pub mod seal;
pub mod time;

pub use crypto::{Digest, PublicKey, SecretKey, Signature};
pub use time::Timestamp;
