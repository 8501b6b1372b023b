//! Evidence log, checkpoints and witness protocol (spec §10).
//!
//! Every party keeps an evidence log: an append-only record of what it did and saw in each
//! signing (proposals, document fetches, intents, signatures, completions). It is the first
//! evidence channel, kept on the party's premises. Witnesses are the second: third-party
//! nodes that cosign the log's checkpoints, so the party cannot later rewrite its history
//! unnoticed, and a counterparty or a court can check an entry years later. Witnesses see
//! checkpoints and hashes only, never events or documents.
//!
//! Everything follows existing transparency-log standards, so existing verifiers and
//! witnesses can take part:
//!
//! - [`merkle`]: RFC 9162 Merkle hashing, an append-only tree that answers for any past
//!   size, and inclusion and consistency proofs with their verification.
//! - [`event`]: the log's entries, [`EvidenceEvent`]s in deterministic CBOR.
//! - [`log`]: [`EvidenceLog`], the entries over the tree, and the [`InclusionProof`] a
//!   bundle carries.
//! - [`note`], [`checkpoint`]: C2SP signed notes and `tlog-checkpoint` checkpoints, signed
//!   with the party's `log` key under the origin `signet.evidence/<party id>`.
//! - [`cosignature`], [`witness`]: C2SP `tlog-cosignature` cosignatures, and the witness
//!   that issues them only for checkpoints that extend what it cosigned before, refusing
//!   otherwise with evidence of equivocation that anyone can check.
//!
//! As everywhere in this crate there is no I/O: the node stores entries and the witness's
//! checkpoints, passes the time in, and carries notes and proofs over the network.
//!
//! # Example: an entry proven to a counterparty, with a witness's timestamp
//!
//! ```
//! use signet_protocol::evidence::{
//!     evidence_origin, EvidenceEvent, EvidenceKind, EvidenceLog, SignedCheckpoint, Witness,
//! };
//! use signet_protocol::testkit::TestParty;
//! use signet_protocol::{Digest, SecretKey, Timestamp};
//!
//! let now = Timestamp::from_unix(1_800_000_000);
//! let supplier = TestParty::new("Example Supplier", now);
//! let mut witness = Witness::new("notary.example.org", SecretKey::from_seed(&[3; 32]))?;
//!
//! // The supplier logs its signature and has the checkpoint cosigned.
//! let mut log = EvidenceLog::new();
//! let mut event = EvidenceEvent::new(EvidenceKind::SignatureMade, now);
//! event.session = Some(Digest::of(b"session"));
//! event.objects = vec![Digest::of(b"the signature")];
//! let index = log.append(&event)?;
//! let mut checkpoint = log.checkpoint(&supplier.id(), &supplier.log_key);
//! let cosignature = witness.cosign(&checkpoint.to_bytes(), &supplier.log_key.public_key(), &[], now)?;
//! checkpoint.add_cosignature(&cosignature)?;
//!
//! // A bundle carries the entry, the proof and the cosigned checkpoint; anyone verifies them.
//! let entry = log.entry(index).ok_or("no such entry")?;
//! let proof = log.inclusion_proof(index, log.len())?;
//! let note = checkpoint.to_bytes();
//! let origin = evidence_origin(&supplier.id());
//! let checked = SignedCheckpoint::verify(&note, &origin, &supplier.log_key.public_key())?;
//! proof.verify(entry, checked.checkpoint())?;
//! let seen_by = checked.cosignature_by("notary.example.org", &witness.public_key())?;
//! assert_eq!(seen_by, now);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod checkpoint;
pub mod cosignature;
pub mod event;
pub mod log;
pub mod merkle;
pub mod note;
pub mod proven;
mod wire;
pub mod witness;

pub use checkpoint::{
    Checkpoint, CheckpointError, SignedCheckpoint, evidence_origin, evidence_party,
};
pub use cosignature::{Cosignature, CosignatureError, verify_cosignature};
pub use event::{EventError, EvidenceEvent, EvidenceKind};
pub use log::{ConsistencyProof, EvidenceLog, InclusionProof};
pub use merkle::{
    MerkleTree, ProofError, Subtrees, TreeError, verify_consistency, verify_inclusion,
};
pub use proven::{CheckedEvidence, PartyEvidence, PartyEvidenceError, ProvenEntry, witness_name};
pub use witness::{Equivocation, EquivocationError, Witness, WitnessError, verify_equivocation};
