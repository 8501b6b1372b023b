//! Seals (印章): a party's signing keys of a given kind (spec §5.1).

use serde::{Deserialize, Serialize};

use crate::Digest;
use crate::codepoint::code_points;
use crate::keylog::LogKey;

code_points! {
    /// The kind of a seal (spec §13.5). A Chinese company acts through seals of these kinds.
    pub enum SealKind {
        /// The company seal (公章): the general seal of the legal entity.
        Company = 1 => "company",
        /// The contract seal (合同专用章).
        Contract = 2 => "contract",
        /// The finance seal (财务专用章).
        Finance = 3 => "finance",
        /// The legal representative's seal (法定代表人章).
        LegalRepresentative = 4 => "legal-representative",
        /// Any other seal, described by its display name.
        Custom = 5 => "custom",
    }
}

/// What a seal is, as declared in its party's key event log (the key is declared beside it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SealInfo {
    /// The seal's kind.
    pub kind: SealKind,
    /// Display name, e.g. "合同专用章 (Contract Seal)".
    pub name: String,
    /// SHA-256 of the seal's image, if the party publishes one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<Digest>,
}

/// A seal: its description and its own key. The key is the seal's identifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seal {
    /// The seal's signing key: Ed25519, or SM2 (spec §4.3.2).
    pub key: LogKey,
    /// Kind, name and image digest.
    pub info: SealInfo,
}
