//! A party's evidence about one session: log entries with inclusion proofs against one
//! signed, possibly cosigned, checkpoint (spec §10.6). This is what parties exchange after a
//! session completes and what a bundle carries for each party.

use serde::{Deserialize, Serialize};

use super::checkpoint::{CheckpointError, SignedCheckpoint, evidence_origin};
use super::cosignature::CosignatureError;
use super::event::{EventError, EvidenceEvent};
use super::log::{EvidenceLog, InclusionProof};
use super::merkle::{ProofError, Subtrees, TreeError};
use crate::keylog::{KeyLog, KeyPurpose};
use crate::party::PartyId;
use crate::{PublicKey, Timestamp};

/// The key name under which the witness `witness` cosigns (C2SP signed-note key name).
pub fn witness_name(witness: &PartyId) -> String {
    format!("signet.witness/{witness}")
}

/// One log entry and its inclusion proof.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProvenEntry {
    /// The entry: an encoded [`EvidenceEvent`].
    #[serde(with = "crate::cbor_bytes")]
    pub entry: Vec<u8>,
    /// Its inclusion proof against the checkpoint.
    pub proof: InclusionProof,
}

/// A party's evidence about one session (spec §10.6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartyEvidence {
    /// Whose log.
    pub party: PartyId,
    /// The signed checkpoint note (UTF-8), with any witness cosignature lines.
    #[serde(with = "crate::cbor_bytes")]
    pub checkpoint: Vec<u8>,
    /// The entries about the session, each with its proof.
    pub entries: Vec<ProvenEntry>,
}

/// Most entries one party's evidence may carry about one session.
pub const MAX_PROVEN_ENTRIES: usize = 256;

/// Why a party's evidence is invalid. The party's (or relayer's) fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PartyEvidenceError {
    /// The checkpoint's log key (or the party) was retired at or before the newest entry it
    /// covers was logged.
    #[error(
        "the checkpoint's log key was retired at {retired}, not after the newest entry ({latest})"
    )]
    LogKeyRetired {
        /// When the key (or the party) was retired.
        retired: Timestamp,
        /// The newest entry's time.
        latest: Timestamp,
    },
    /// The evidence is about another party than the key log given.
    #[error("evidence of {found} checked against the key log of {expected}")]
    WrongParty {
        /// The key log's party.
        expected: PartyId,
        /// The evidence's party.
        found: PartyId,
    },
    /// The checkpoint is not signed by any log key of the party.
    #[error("checkpoint: {0}")]
    Checkpoint(CheckpointError),
    /// An entry's proof does not lead to the checkpoint's root.
    #[error("entry {index}: {error}")]
    Inclusion {
        /// The entry's position in the log.
        index: u64,
        /// Why.
        error: ProofError,
    },
    /// An entry is not a valid evidence event.
    #[error("entry {index}: {error}")]
    Entry {
        /// The entry's position in the log.
        index: u64,
        /// Why.
        error: EventError,
    },
    /// No entries, or too many.
    #[error("evidence must hold 1 to {MAX_PROVEN_ENTRIES} entries")]
    Entries,
}

/// Evidence whose checkpoint signature and inclusion proofs verified.
#[derive(Debug, Clone)]
pub struct CheckedEvidence {
    /// The party.
    pub party: PartyId,
    /// The verified checkpoint (with its cosignature lines, not yet checked).
    pub checkpoint: SignedCheckpoint,
    /// The log key that signed it.
    pub log_key: PublicKey,
    /// The entries, decoded, with their positions.
    pub events: Vec<(u64, EvidenceEvent)>,
}

impl PartyEvidence {
    /// Builds a party's evidence from its log: the entries at `indices`, proven against
    /// `checkpoint` (which must be of this log, at a size covering every index).
    pub fn from_log(
        party: PartyId,
        log: &EvidenceLog,
        indices: &[u64],
        checkpoint: &SignedCheckpoint,
    ) -> Result<Self, TreeError> {
        Self::from_tree(
            party,
            log.tree(),
            |index| {
                log.entry(index)
                    .map(<[u8]>::to_vec)
                    .ok_or(TreeError::IndexOutOfRange {
                        index,
                        size: log.len(),
                    })
            },
            indices,
            checkpoint,
        )
    }

    /// The same, from a log kept elsewhere: `tree` its Merkle tree, `entry` reads an entry's
    /// bytes by index (a node whose log lives in its store).
    pub fn from_tree<T: Subtrees>(
        party: PartyId,
        tree: &T,
        mut entry: impl FnMut(u64) -> Result<Vec<u8>, T::Error>,
        indices: &[u64],
        checkpoint: &SignedCheckpoint,
    ) -> Result<Self, T::Error> {
        let size = checkpoint.checkpoint().size();
        let mut entries = Vec::with_capacity(indices.len());
        for &index in indices {
            let proof = InclusionProof {
                index,
                size,
                path: tree.inclusion_proof(index, size)?,
            };
            entries.push(ProvenEntry {
                entry: entry(index)?,
                proof,
            });
        }
        Ok(Self {
            party,
            checkpoint: checkpoint.to_bytes(),
            entries,
        })
    }

    /// Checks the checkpoint's signature by one of the party's log keys, every entry's
    /// inclusion proof, and that the log key was not retired (nor the party) before the
    /// newest entry was logged: a checkpoint covering an entry is made after it, so a key
    /// retired earlier cannot have signed it honestly. (Whether the key was valid when a
    /// witness cosigned is the witness time's question: see [`CheckedEvidence::cosigned_by`]
    /// and the bundle's checks.)
    pub fn verify(&self, key_log: &KeyLog) -> Result<CheckedEvidence, PartyEvidenceError> {
        if key_log.party() != self.party {
            return Err(PartyEvidenceError::WrongParty {
                expected: key_log.party(),
                found: self.party,
            });
        }
        if self.entries.is_empty() || self.entries.len() > MAX_PROVEN_ENTRIES {
            return Err(PartyEvidenceError::Entries);
        }
        let origin = evidence_origin(&self.party);
        let mut last_error = CheckpointError::WrongOrigin {
            expected: origin.clone(),
            found: String::new(),
        };
        let mut verified = None;
        for record in key_log
            .records()
            .iter()
            .filter(|r| r.purpose == KeyPurpose::Log)
            .filter_map(|r| r.key.ed25519())
        {
            match SignedCheckpoint::verify(&self.checkpoint, &origin, record) {
                Ok(checkpoint) => {
                    verified = Some((checkpoint, *record));
                    break;
                }
                Err(e) => last_error = e,
            }
        }
        let (checkpoint, log_key) = verified.ok_or(PartyEvidenceError::Checkpoint(last_error))?;
        let mut events = Vec::with_capacity(self.entries.len());
        for proven in &self.entries {
            let index = proven.proof.index;
            proven
                .proof
                .verify(&proven.entry, checkpoint.checkpoint())
                .map_err(|error| PartyEvidenceError::Inclusion { index, error })?;
            let event = EvidenceEvent::decode(&proven.entry)
                .map_err(|error| PartyEvidenceError::Entry { index, error })?;
            events.push((index, event));
        }
        if let Some(latest) = events.iter().map(|(_, e)| e.time).max() {
            let retired = key_log
                .records()
                .iter()
                .find(|r| r.key == log_key)
                .and_then(|r| r.retired_at)
                .into_iter()
                .chain(key_log.retired_at())
                .min();
            if let Some(retired) = retired.filter(|r| *r <= latest) {
                return Err(PartyEvidenceError::LogKeyRetired { retired, latest });
            }
        }
        Ok(CheckedEvidence {
            party: self.party,
            checkpoint,
            log_key,
            events,
        })
    }
}

impl CheckedEvidence {
    /// The time the witness `witness` attests for this checkpoint, if one of its log keys
    /// (valid at that time) cosigned it.
    pub fn cosigned_by(&self, witness_log: &KeyLog) -> Result<Timestamp, CosignatureError> {
        let name = witness_name(&witness_log.party());
        let mut last = CosignatureError::Missing;
        for record in witness_log
            .records()
            .iter()
            .filter(|r| r.purpose == KeyPurpose::Log)
            .filter_map(|r| r.key.ed25519())
        {
            match self.checkpoint.cosignature_by(&name, record) {
                Ok(time) if witness_log.check_key(record, KeyPurpose::Log, time).is_ok() => {
                    return Ok(time);
                }
                Ok(_) => last = CosignatureError::Missing,
                Err(e) => last = e,
            }
        }
        Err(last)
    }
}
