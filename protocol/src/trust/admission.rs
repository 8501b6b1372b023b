//! Which attestations a node takes from the network, before it spends disk on them
//! (spec §7.6).
//!
//! A node holds attestations only to evaluate trust, and evaluation only ever uses a few
//! kinds from a few issuers: identity attestations and seal certifications by anchors and
//! accredited verifiers, accreditations by those allowed to accredit, endorsements by the
//! endorsers its policy names, and what a party says about itself (its seal mandates, its
//! revocations, its revocation list). Anything else could never change a verdict, so it is
//! not taken from peers. What is taken is bounded per subject and per issuer, so no peer
//! can grow a node's store without limit by minting attestations.

use super::{Evaluation, Moment, TrustPolicy, TrustStore};
use crate::Timestamp;
use crate::attestation::SignedAttestation;
use crate::attestation::{AttestationKind, Claims};
use crate::party::PartyId;
use std::collections::BTreeMap;

/// Most attestations of one kind about one subject held from issuers other than the subject
/// (identity attestations, seal certifications, accreditations, endorsements).
pub const MAX_ABOUT_SUBJECT: usize = 64;
/// Most seal mandates one party's issued attestations may hold.
pub const MAX_MANDATES_PER_ISSUER: usize = 1024;
/// Most `ca-identity` attestations one party's issued attestations may hold.
pub const MAX_CA_IDENTITIES_PER_ISSUER: usize = 16;
/// Most single revocations one issuer's may hold (a revocation list replaces them all).
pub const MAX_REVOCATIONS_PER_ISSUER: usize = 4096;

/// Why an attestation from the network is not taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Inadmissible {
    /// Its issuer is not one whose attestations of this kind the policy could ever use.
    #[error("a {kind} attestation by {issuer}, whose word on this the policy never uses")]
    IrrelevantIssuer {
        /// The kind.
        kind: AttestationKind,
        /// The issuer.
        issuer: PartyId,
    },
    /// The bound for its subject or issuer is reached.
    #[error("already {held} {kind} attestations about {party}, the most a node holds")]
    Full {
        /// The kind.
        kind: AttestationKind,
        /// The subject (or, for what a party says about itself, the issuer).
        party: PartyId,
        /// How many are held.
        held: usize,
    },
}

/// Whether a node whose policy is `policy` takes `signed` from the network now. A node's
/// operator may still import anything by hand; this is for what peers send.
pub fn admit(
    policy: &TrustPolicy,
    store: &TrustStore,
    signed: &SignedAttestation,
    now: Timestamp,
) -> Result<(), Inadmissible> {
    let a = signed.payload();
    let kind = a.claims.kind();
    let irrelevant = Inadmissible::IrrelevantIssuer {
        kind,
        issuer: a.issuer,
    };
    let (party, max) = match &a.claims {
        Claims::Identity(_) | Claims::SealCertification(_) | Claims::PdfCertificate(_) => {
            if !verifies_identities(policy, store, &a.issuer, &a.subject, false, now) {
                return Err(irrelevant);
            }
            (a.subject, MAX_ABOUT_SUBJECT)
        }
        Claims::Accreditation(_) => {
            if !verifies_identities(policy, store, &a.issuer, &a.subject, true, now) {
                return Err(irrelevant);
            }
            (a.subject, MAX_ABOUT_SUBJECT)
        }
        Claims::Endorsement(_) => {
            let named = policy
                .endorsements
                .as_ref()
                .is_some_and(|rule| rule.endorsers.contains(&a.issuer));
            if !named {
                return Err(irrelevant);
            }
            (a.subject, MAX_ABOUT_SUBJECT)
        }
        Claims::Delegation(_) => (a.issuer, MAX_MANDATES_PER_ISSUER),
        // A party's own certificate-backed identity matters only to a policy with CA roots.
        Claims::CaIdentity(_) if policy.ca_roots.is_empty() => return Err(irrelevant),
        Claims::CaIdentity(_) => (a.issuer, MAX_CA_IDENTITIES_PER_ISSUER),
        Claims::Revocation(_) => (a.issuer, MAX_REVOCATIONS_PER_ISSUER),
        // One list per issuer is ever held: a newer one replaces it.
        Claims::RevocationList(_) => return Ok(()),
    };
    let held = store.count_about(&party, kind);
    if held >= max {
        return Err(Inadmissible::Full { kind, party, held });
    }
    Ok(())
}

/// Whether `issuer` is an anchor, or a verifier an anchor accredited (for accreditations:
/// allowed to accredit), within the policy's depth, as of `now`.
fn verifies_identities(
    policy: &TrustPolicy,
    store: &TrustStore,
    issuer: &PartyId,
    subject: &PartyId,
    accrediting: bool,
    now: Timestamp,
) -> bool {
    if policy.anchor(issuer).is_some() {
        return true;
    }
    let mut eval = Evaluation {
        policy,
        store,
        moment: Moment::live(now),
        missing: Vec::new(),
        findings: Vec::new(),
        chains: BTreeMap::new(),
    };
    // An identity attestation's issuer needs a chain one shorter than the policy's depth;
    // an accreditation's issuer, one shorter still (the accreditation adds a link).
    let depth = policy
        .max_chain_depth
        .saturating_sub(if accrediting { 2 } else { 1 });
    eval.verifier_chain(issuer, depth, accrediting, subject)
        .is_some()
}
