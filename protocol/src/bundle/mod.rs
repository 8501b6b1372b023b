//! Evidence bundles: one file holding everything needed to verify a finished contract
//! offline (spec §11).
//!
//! A bundle carries the signed proposal, the initiator's signed completion (which holds
//! every signature and approval, each with its intent proof and mandate), the key event logs
//! and attestations the signatures rely on, and each party's evidence-log proofs: its session
//! entries with inclusion proofs against a checkpoint it signed, cosigned by witnesses whose
//! timestamps are the trusted time of the evidence. It is not
//! signed itself: every part is. [`verify_bundle`] checks all of it with no network and no
//! clock but the time it is given, and returns a [`Report`].
//!
//! Media type [`BUNDLE_MEDIA_TYPE`], file extension `.signet` ([`BUNDLE_EXTENSION`]).

mod assemble;
mod report;
mod verify;

pub use assemble::{AssembleError, assemble};
pub use report::{Check, Condition, Outcome, PartyReport, Reliability, Report, SignedBy};
pub use verify::{verify_bundle, verify_bundle_with};

use serde::{Deserialize, Serialize};

use crate::codec::{self, DecodeError, EncodeError, Limits};
use crate::evidence::PartyEvidence;

/// Media type of a bundle (spec §11.1).
pub const BUNDLE_MEDIA_TYPE: &str = "application/vnd.signet.bundle+cbor";
/// File extension of a bundle, without the dot.
pub const BUNDLE_EXTENSION: &str = "signet";
/// The bundle format version this implementation writes and reads.
pub const BUNDLE_VERSION: u32 = 1;
/// Limits for decoding a bundle: larger than a single message's.
pub const BUNDLE_LIMITS: Limits = Limits {
    max_bytes: 16 << 20,
    max_depth: 16,
    max_items: 1 << 20,
};

/// A bundle (spec §11.2). All objects are carried as the exact signed bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bundle {
    /// Format version, [`BUNDLE_VERSION`].
    pub version: u32,
    /// The signed proposal (COSE_Sign1).
    #[serde(with = "crate::cbor_bytes")]
    pub proposal: Vec<u8>,
    /// The initiator's signed complete message (COSE_Sign1), holding every action.
    #[serde(with = "crate::cbor_bytes")]
    pub completion: Vec<u8>,
    /// Key event logs: for each party, its signed events in order.
    pub key_logs: Vec<KeyLogBytes>,
    /// Attestations relied on (identity, accreditation, revocation lists, revocations).
    #[serde(with = "crate::cbor_bytes::list")]
    pub attestations: Vec<Vec<u8>>,
    /// Each party's evidence-log proofs for the session, with witness cosignatures.
    pub evidence: Vec<PartyEvidence>,
}

/// One party's key event log as signed events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyLogBytes {
    /// The signed events, in order.
    #[serde(with = "crate::cbor_bytes::list")]
    pub events: Vec<Vec<u8>>,
}

impl Bundle {
    /// The bundle's file bytes.
    pub fn encode(&self) -> Result<Vec<u8>, EncodeError> {
        codec::encode(self)
    }

    /// Parses a bundle file (structure only; [`verify_bundle`] checks the contents).
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        codec::decode(bytes, &BUNDLE_LIMITS)
    }
}

#[cfg(test)]
mod tests;
