//! Signature records: the intent proof, the seal signature and the mandate behind it
//! (spec §8.4).

use serde::{Deserialize, Serialize};

use crate::attestation::SignedAttestation;
use crate::attestation::{Attestation, MandateError, MandateUse};
use crate::codec::Limits;
use crate::cose::{CoseError, Signed};
use crate::keylog::{KeyPurpose, KeyUseError, LogKey};
use crate::party::PartyId;
use crate::seal::SealKind;
use crate::trust::{Moment, TrustPolicy, TrustStore, Verdict, evaluate_at};
use crate::{Digest, Timestamp};

use super::intent::{IntentError, IntentMethod, IntentProof, MAX_INTENT_AGE};
use super::proposal::{Algorithms, Participant, Proposal, SessionId};

/// Media type of a seal signature (spec §13.1).
pub const SEAL_SIGNATURE_CONTENT_TYPE: &str = "application/vnd.signet.seal-signature+cbor";

/// The seal's signature over the contract (spec §8.4.2): the payload of a signed object of
/// type [`SEAL_SIGNATURE_CONTENT_TYPE`], signed by the seal key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SealSignature {
    /// The session.
    pub session: SessionId,
    /// Digest of the signed proposal.
    pub proposal: Digest,
    /// Digests of every document, in proposal order.
    pub documents: Vec<Digest>,
    /// The signing party.
    pub signer: PartyId,
    /// Signing time.
    pub time: Timestamp,
    /// Digest of the intent proof's signed bytes.
    pub intent: Digest,
    /// Digest of the delegation attestation's signed bytes.
    pub delegation: Digest,
    /// Digests of the attestations the signer relied on about the other parties.
    pub relied: Vec<Digest>,
    /// Digests of the actions of every earlier routing group, sorted: routing order made
    /// verifiable.
    pub prior: Vec<Digest>,
    /// The PDF revisions this signer sealed, one per document the proposal has sealed, in
    /// document order (spec §8.4.2); absent when none is.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pdf: Vec<PdfRevision>,
}

/// One PDF revision a signer sealed (spec §8.4.2): the revision it received and the one its
/// seal made, an incremental update appended to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PdfRevision {
    /// The document's index in the proposal.
    pub document: u32,
    /// SHA-256 of the revision sealed over: the document itself for the first signer in
    /// sealing order, else the revision the previous signer's record names as `sealed`.
    pub base: Digest,
    /// SHA-256 of the revision with this signer's seal appended.
    pub sealed: Digest,
    /// Its size in bytes.
    pub size: u64,
}

/// What a signer's PDF revisions must start from (spec §8.4.2): for each sealed document,
/// its index and the digest of the revision the signer receives.
pub type PdfBases = Vec<(u32, Digest)>;

/// The bases `signer` must seal over in `proposal`, given the records of the signers before
/// it in sealing order (looked up by party): `None` when one of them has not signed, or its
/// record lacks a revision (then no record can match).
pub fn pdf_bases<'r>(
    proposal: &Proposal,
    signer: &PartyId,
    record_of: impl Fn(&PartyId) -> Option<&'r SignatureRecord>,
) -> Option<PdfBases> {
    if proposal.pdf_sealed().next().is_none() {
        return Some(Vec::new());
    }
    let order = proposal.sealing_order();
    let position = order.iter().position(|p| p == signer)?;
    let previous = position.checked_sub(1).map(|i| order[i]);
    let previous_record = match previous {
        Some(party) => Some(record_of(&party)?),
        None => None,
    };
    proposal
        .pdf_sealed()
        .map(|i| {
            let index = u32::try_from(i).ok()?;
            let base = match previous_record {
                None => proposal.documents[i].digest,
                Some(record) => {
                    record
                        .seal_signature
                        .payload()
                        .pdf
                        .iter()
                        .find(|r| r.document == index)?
                        .sealed
                }
            };
            Some((index, base))
        })
        .collect()
}

/// A complete signature: seal signature, intent proof and mandate, as signed objects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureRecord {
    /// The seal's signature.
    pub seal_signature: Signed<SealSignature, LogKey>,
    /// The delegate's intent proof.
    pub intent: IntentProof,
    /// The delegation that lets the delegate apply the seal.
    pub delegation: SignedAttestation,
}

/// The wire form of a [`SignatureRecord`]: the three signed objects' bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignatureRecordBytes {
    /// The seal signature (COSE_Sign1).
    #[serde(with = "crate::cbor_bytes")]
    pub seal_signature: Vec<u8>,
    /// The intent proof (a COSE_Sign1, or a WebAuthn assertion).
    #[serde(with = "crate::cbor_bytes")]
    pub intent: Vec<u8>,
    /// The delegation attestation (COSE_Sign1).
    #[serde(with = "crate::cbor_bytes")]
    pub delegation: Vec<u8>,
}

impl SignatureRecord {
    /// The wire form.
    pub fn to_bytes(&self) -> SignatureRecordBytes {
        SignatureRecordBytes {
            seal_signature: self.seal_signature.bytes().to_vec(),
            intent: self.intent.bytes().to_vec(),
            delegation: self.delegation.bytes().to_vec(),
        }
    }

    /// Parses the three objects and checks their signatures (not their authority).
    pub fn from_bytes(bytes: &SignatureRecordBytes) -> Result<Self, RecordError> {
        Ok(Self {
            seal_signature: Signed::decode(
                &bytes.seal_signature,
                SEAL_SIGNATURE_CONTENT_TYPE,
                &Limits::DEFAULT,
            )
            .map_err(RecordError::SealSignatureObject)?,
            intent: IntentProof::decode(&bytes.intent).map_err(RecordError::IntentObject)?,
            delegation: Attestation::decode(&bytes.delegation)
                .map_err(RecordError::DelegationObject)?,
        })
    }

    /// Digest of the seal signature's bytes: how other records refer to this one.
    pub fn digest(&self) -> Digest {
        self.seal_signature.digest()
    }
}

/// Why a signature record is invalid. The signer's (or relayer's) fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RecordError {
    /// The seal signature object is invalid.
    #[error("seal signature: {0}")]
    SealSignatureObject(CoseError),
    /// The intent proof object is invalid.
    #[error("intent proof: {0}")]
    IntentObject(IntentError),
    /// The delegation object is invalid.
    #[error("delegation: {0}")]
    DelegationObject(CoseError),
    /// The record is about another session, revision, document set or signer.
    #[error("the {0} does not match the proposal and participant")]
    Binding(&'static str),
    /// The signer's key event log is unknown.
    #[error("the key event log of {0} is not known")]
    UnknownKeyLog(PartyId),
    /// The seal key was not a valid seal of the signer at signing time.
    #[error("seal key: {0}")]
    SealKey(KeyUseError),
    /// The seal key had been revoked by signing time.
    #[error("seal key revoked from {0}")]
    SealRevoked(Timestamp),
    /// The seal is of another kind than the proposal requires.
    #[error("a {required} seal is required, the {found} seal was applied")]
    SealKind {
        /// What the proposal requires.
        required: SealKind,
        /// The seal applied.
        found: SealKind,
    },
    /// The session requires national algorithms and the seal signature is not SM2 with
    /// SM3 (spec §8.2.5).
    #[error("the session requires {0} algorithms: the seal signature is not sm2")]
    SealAlgorithm(Algorithms),
    /// The intent proof is older than [`MAX_INTENT_AGE`] at signing time, or later than it.
    #[error(
        "the intent proof of {intent} does not precede the signature of {signed} closely enough"
    )]
    IntentTime {
        /// Intent time.
        intent: Timestamp,
        /// Signature time.
        signed: Timestamp,
    },
    /// The method the intent challenge claims is not one the proof shows (or is unknown).
    #[error("the intent proof does not show the method {0}")]
    IntentMethod(IntentMethod),
    /// The mandate does not cover this signature.
    #[error("mandate: {0}")]
    Mandate(MandateError),
    /// The seal key was retired after the signing time but before the time the signature is
    /// proven to exist by: nothing shows the signature was made while the key was valid.
    #[error("seal key retired at {retired}, before the signature is proven to exist ({proven_by})")]
    NoProofBeforeRetirement {
        /// When the key was retired.
        retired: Timestamp,
        /// The earliest time the signature is proven to exist by.
        proven_by: Timestamp,
    },
    /// The seal key or the mandate was revoked after the signing time but before the time
    /// the signature is proven to exist by.
    #[error("revoked at {revoked}, before the signature is proven to exist ({proven_by})")]
    NoProofBeforeRevocation {
        /// When the revocation took effect.
        revoked: Timestamp,
        /// The earliest time the signature is proven to exist by.
        proven_by: Timestamp,
    },
    /// The policy asks for fresh revocation information, and the signer's own revocation
    /// list (which covers its seal keys and mandates) is missing or too old.
    #[error("no revocation list of {party} fresh enough (newest: {newest:?})")]
    StaleRevocationStatus {
        /// The signer.
        party: PartyId,
        /// Issue time of the newest list held, if any.
        newest: Option<Timestamp>,
    },
    /// The signer's identity is not trusted at signing time.
    #[error("the signer {signer} is not trusted: {verdict}")]
    Untrusted {
        /// The signer.
        signer: PartyId,
        /// The verdict.
        verdict: Box<Verdict>,
    },
    /// The signature does not commit to exactly the earlier groups' actions.
    #[error("the signature's routing commitments do not match the earlier groups' actions")]
    Prior,
}

/// What a signature record must match, and with what knowledge it is judged.
#[derive(Debug, Clone, Copy)]
pub struct RecordCheck<'a> {
    /// The signed proposal.
    pub proposal: &'a Signed<Proposal>,
    /// The signer's participant entry.
    pub participant: &'a Participant,
    /// Sorted digests of the earlier groups' actions.
    pub prior: &'a [Digest],
    /// The PDF revisions the signer must have sealed over ([`pdf_bases`]); `None` when they
    /// cannot be known (an earlier signer in sealing order has not signed), which no record
    /// matches. Empty when the proposal seals no document.
    pub pdf_bases: Option<&'a [(u32, Digest)]>,
    /// Key logs and attestations known.
    pub store: &'a TrustStore,
    /// The policy the signer's identity is judged by.
    pub policy: &'a TrustPolicy,
    /// Whose view this is: a party does not evaluate trust in itself. None for a third
    /// party (a bundle verifier), which evaluates every signer.
    pub viewer: Option<PartyId>,
    /// How and when the record is judged.
    pub judged: Judged,
}

/// How a signature record is judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Judged {
    /// By a party receiving the signature live: the signer's identity is judged now (a
    /// signing time in the past cannot dodge a revocation already in force), the seal key and
    /// the mandate at the signing time.
    Live {
        /// The time of receipt.
        now: Timestamp,
    },
    /// By an offline verifier at `now`, as of the signing time: the seal key, mandate and
    /// identity at the signing time, with every revocation effective up to `proven_by` (the
    /// earliest trusted time the signature is proven to exist by: a witness's cosignature,
    /// or the signing time itself when nothing proves more) and revocation information
    /// fresh at `now`.
    Offline {
        /// The earliest trusted time the signature is proven to exist by.
        proven_by: Timestamp,
        /// The time of the verification.
        now: Timestamp,
    },
}

impl Judged {
    /// The time the revocation information is judged fresh at.
    fn now(self) -> Timestamp {
        match self {
            Self::Live { now } | Self::Offline { now, .. } => now,
        }
    }

    /// The latest time revocations are looked for, given the signing time.
    fn proven_by(self, signed: Timestamp) -> Timestamp {
        match self {
            Self::Live { .. } => signed,
            Self::Offline { proven_by, .. } => proven_by.max(signed),
        }
    }
}

/// The separate checks of a signature record, in the order they are made (spec §8.4.3; reported as in §11.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum RecordCheckKind {
    /// The seal signature, intent proof and delegation are about this session, revision,
    /// document set and signer.
    Binding,
    /// The intent proof: method known, made shortly before the signature.
    Intent,
    /// The seal key was a valid, unrevoked seal of the signer, of the kind required.
    SealKey,
    /// The seal signature uses the algorithms the session requires (spec §8.2.5): SM2 when
    /// it requires national algorithms; nothing to check otherwise.
    Algorithms,
    /// The delegation covers this seal, purpose, value, counterparties and time.
    Mandate,
    /// The signer's identity is trusted under the policy at signing time.
    Identity,
    /// The signature commits to exactly the earlier routing groups' actions.
    Routing,
}

impl RecordCheckKind {
    /// Every check, in order.
    pub const ALL: [Self; 7] = [
        Self::Binding,
        Self::Intent,
        Self::SealKey,
        Self::Algorithms,
        Self::Mandate,
        Self::Identity,
        Self::Routing,
    ];
}

/// Whether `revisions` seal exactly the documents of `bases`, in order, each over its base
/// (and into a revision that is not the base itself and is not empty).
fn pdf_revisions_match(revisions: &[PdfRevision], bases: Option<&[(u32, Digest)]>) -> bool {
    let Some(bases) = bases else {
        return false;
    };
    revisions.len() == bases.len()
        && revisions.iter().zip(bases).all(|(r, (document, base))| {
            r.document == *document && r.base == *base && r.sealed != r.base && r.size > 0
        })
}

impl SignatureRecord {
    /// Verifies everything about the record: bindings, seal key at signing time, seal kind,
    /// intent proof, mandate, the signer's identity under the policy, routing commitments.
    /// Returns the first failure.
    pub fn verify(&self, check: &RecordCheck<'_>) -> Result<(), RecordError> {
        for kind in RecordCheckKind::ALL {
            self.check(kind, check)?;
        }
        Ok(())
    }

    /// Runs one of the checks. The binding check should pass before the others mean much.
    pub fn check(&self, kind: RecordCheckKind, check: &RecordCheck<'_>) -> Result<(), RecordError> {
        let proposal = check.proposal.payload();
        let ss = self.seal_signature.payload();
        let intent = self.intent.challenge();
        let signer = check.participant.party;
        let seal = self.seal_signature.signer();
        match kind {
            RecordCheckKind::Binding => {
                let documents = proposal.document_digests();
                if ss.session != proposal.session
                    || ss.proposal != check.proposal.digest()
                    || ss.documents != documents
                    || ss.signer != signer
                {
                    return Err(RecordError::Binding("seal signature"));
                }
                if intent.session != ss.session
                    || intent.proposal != ss.proposal
                    || intent.documents != documents
                    || intent.signer != signer
                    || intent.seal != *seal
                    || ss.intent != self.intent.digest()
                {
                    return Err(RecordError::Binding("intent proof"));
                }
                if ss.delegation != self.delegation.digest() {
                    return Err(RecordError::Binding("delegation"));
                }
                if !pdf_revisions_match(&ss.pdf, check.pdf_bases) {
                    return Err(RecordError::Binding("PDF revision chain"));
                }
                if ss.time < proposal.created_at || ss.time >= proposal.deadline {
                    return Err(RecordError::Binding(
                        "signing time outside the session's window",
                    ));
                }
            }
            RecordCheckKind::Intent => {
                if !self.intent.check_method() {
                    return Err(RecordError::IntentMethod(intent.method));
                }
                if intent.time > ss.time || ss.time.seconds_since(intent.time) > MAX_INTENT_AGE {
                    return Err(RecordError::IntentTime {
                        intent: intent.time,
                        signed: ss.time,
                    });
                }
            }
            RecordCheckKind::SealKey => {
                let log = check
                    .store
                    .key_log(&signer)
                    .ok_or(RecordError::UnknownKeyLog(signer))?;
                let record = log
                    .check_log_key(seal, KeyPurpose::Seal, ss.time)
                    .map_err(RecordError::SealKey)?;
                let proven_by = check.judged.proven_by(ss.time);
                if let Some(retired) = record.retired_at.filter(|r| *r <= proven_by) {
                    return Err(RecordError::NoProofBeforeRetirement { retired, proven_by });
                }
                match check.store.key_revoked(&signer, seal, proven_by) {
                    Some(r) if r.effective <= ss.time => {
                        return Err(RecordError::SealRevoked(r.effective));
                    }
                    Some(r) => {
                        return Err(RecordError::NoProofBeforeRevocation {
                            revoked: r.effective,
                            proven_by,
                        });
                    }
                    None => {}
                }
                if let Some(max) = check.policy.revocation_freshness {
                    let newest = check.store.newest_revocation_list(&signer);
                    if newest.is_none_or(|t| check.judged.now().seconds_since(t) > max) {
                        return Err(RecordError::StaleRevocationStatus {
                            party: signer,
                            newest,
                        });
                    }
                }
                let found = record
                    .seal
                    .as_ref()
                    .map(|s| s.kind)
                    .unwrap_or(SealKind::Unknown(0));
                if let Some(required) = check.participant.seal_kind.filter(|k| *k != found) {
                    return Err(RecordError::SealKind { required, found });
                }
            }
            RecordCheckKind::Algorithms => {
                if proposal.requires_national() && !matches!(seal, LogKey::Sm2(_)) {
                    return Err(RecordError::SealAlgorithm(Algorithms::National));
                }
            }
            RecordCheckKind::Mandate => {
                // Checked once for the whole use, whatever the number of parties: a party
                // signing alone needs a mandate as much as one signing with others.
                let counterparties: Vec<PartyId> = proposal
                    .parties()
                    .into_iter()
                    .filter(|p| *p != signer)
                    .collect();
                let use_ = MandateUse {
                    party: signer,
                    delegate: self.intent.person(),
                    seal: seal.clone(),
                    purpose: &proposal.purpose,
                    value: proposal.value.as_ref(),
                    counterparties: &counterparties,
                    time: ss.time,
                };
                check
                    .store
                    .check_mandate(
                        &self.delegation,
                        &use_,
                        check.policy.max_delegation_validity,
                    )
                    .map_err(RecordError::Mandate)?;
                let proven_by = check.judged.proven_by(ss.time);
                if proven_by > ss.time {
                    let a = self.delegation.payload();
                    if let Some(r) = check.store.attestation_revoked(&a.issuer, &a.id, proven_by) {
                        return Err(RecordError::NoProofBeforeRevocation {
                            revoked: r.effective,
                            proven_by,
                        });
                    }
                }
            }
            RecordCheckKind::Identity => {
                if Some(signer) != check.viewer {
                    let moment = match check.judged {
                        Judged::Live { now } => Moment::live(now),
                        Judged::Offline { proven_by, now } => Moment {
                            at: ss.time,
                            proven_by: proven_by.max(ss.time),
                            now,
                        },
                    };
                    let verdict = evaluate_at(check.policy, check.store, &signer, moment);
                    if !verdict.is_trusted() {
                        return Err(RecordError::Untrusted {
                            signer,
                            verdict: Box::new(verdict),
                        });
                    }
                }
            }
            RecordCheckKind::Routing => {
                let mut prior = ss.prior.clone();
                prior.sort();
                if prior != check.prior {
                    return Err(RecordError::Prior);
                }
            }
        }
        Ok(())
    }
}
