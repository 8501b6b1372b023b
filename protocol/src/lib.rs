//! Signet protocol core.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
