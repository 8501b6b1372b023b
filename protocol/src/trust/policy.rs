//! Trust policy: a node's rules for accepting an identity (spec §7.2).

use serde::{Deserialize, Serialize};

use crate::attestation::AssuranceLevel;
use crate::party::PartyId;

/// Three years and a day (1,096 days): the longest seal mandate accepted by default, after
/// the common industry limit of three years.
pub const DEFAULT_MAX_DELEGATION_VALIDITY: u64 = 1096 * 86_400;

/// A party whose identity attestations are accepted directly (a licensed CA, say).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustAnchor {
    /// The anchor's party id.
    pub party: PartyId,
    /// Its name, as the node operator knows it.
    pub name: String,
}

/// A certification authority whose certificates identify parties directly (spec §7.2): a
/// licensed CA's root certificate, as the verifier chose it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaRoot {
    /// Its name, as the node operator knows it.
    pub name: String,
    /// The root certificate, DER.
    #[serde(with = "crate::cbor_bytes")]
    pub certificate: Vec<u8>,
}

/// Accept a party on the word of enough known counterparties.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndorsementRule {
    /// Counterparties whose endorsements count (the n of k-of-n).
    pub endorsers: Vec<PartyId>,
    /// How many distinct endorsers must agree (the k).
    pub threshold: u16,
}

/// A node's trust policy. Durations are in seconds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustPolicy {
    /// Parties whose identity attestations are accepted directly.
    pub anchors: Vec<TrustAnchor>,
    /// Most attestations on a path from an anchor to the subject: 1 accepts only anchors'
    /// own identity attestations, 2 also those of verifiers an anchor accredited, and so on.
    pub max_chain_depth: u8,
    /// An alternative path through counterparty endorsements, if accepted at all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endorsements: Option<EndorsementRule>,
    /// Lowest assurance level accepted for identity attestations.
    pub min_assurance: AssuranceLevel,
    /// Oldest attestation accepted, counted from its issue time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_attestation_age: Option<u64>,
    /// If set, every issuer on a path must have published a revocation list at most this
    /// old; otherwise the verdict is Indeterminate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revocation_freshness: Option<u64>,
    /// Longest validity window accepted for a seal mandate.
    pub max_delegation_validity: u64,
    /// CA roots whose certificate paths identify a party that proves it holds the certified
    /// key (spec §6.11), with no verifier's attestation.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ca_roots: Vec<CaRoot>,
}

impl TrustPolicy {
    /// A policy that trusts `anchors` with sensible defaults: chain depth 2, substantial
    /// assurance, no endorsement path, attestations up to two years old, revocation lists
    /// at most seven days old, mandates up to [`DEFAULT_MAX_DELEGATION_VALIDITY`].
    pub fn with_anchors(anchors: Vec<TrustAnchor>) -> Self {
        Self {
            anchors,
            max_chain_depth: 2,
            endorsements: None,
            min_assurance: AssuranceLevel::Substantial,
            max_attestation_age: Some(2 * 366 * 86_400),
            revocation_freshness: Some(7 * 86_400),
            max_delegation_validity: DEFAULT_MAX_DELEGATION_VALIDITY,
            ca_roots: Vec::new(),
        }
    }

    /// The anchor entry for `party`, if it is one.
    pub fn anchor(&self, party: &PartyId) -> Option<&TrustAnchor> {
        self.anchors.iter().find(|a| a.party == *party)
    }

    /// Checks the policy is coherent.
    pub fn check(&self) -> Result<(), PolicyError> {
        if self.max_chain_depth == 0 {
            return Err(PolicyError::ZeroDepth);
        }
        if let Some(rule) = &self.endorsements
            && (rule.threshold == 0 || usize::from(rule.threshold) > rule.endorsers.len())
        {
            return Err(PolicyError::Threshold);
        }
        if !self.min_assurance.is_known() {
            return Err(PolicyError::Assurance);
        }
        for root in &self.ca_roots {
            if <x509_cert::Certificate as der::Decode>::from_der(&root.certificate).is_err() {
                return Err(PolicyError::CaRoot(root.name.clone()));
            }
        }
        Ok(())
    }
}

/// A trust policy is incoherent. The operator's mistake.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// `max_chain_depth` is zero: nothing could ever be trusted but anchors.
    #[error("max_chain_depth must be at least 1")]
    ZeroDepth,
    /// The endorsement threshold is zero or larger than the number of endorsers.
    #[error("endorsement threshold must be between 1 and the number of endorsers")]
    Threshold,
    /// The minimum assurance level is unknown.
    #[error("unknown minimum assurance level")]
    Assurance,
    /// A CA root is not a DER X.509 certificate.
    #[error("the ca root {0:?} is not a der x.509 certificate")]
    CaRoot(String),
}
