//! A party's evidence log: events in a Merkle tree, with proofs and checkpoints (spec §10.3).

use serde::{Deserialize, Serialize};

use crate::codec::{self, DecodeError, EncodeError, Limits};
use crate::evidence::checkpoint::{Checkpoint, SignedCheckpoint};
use crate::evidence::event::{EventError, EvidenceEvent};
use crate::evidence::merkle::{self, MerkleTree, ProofError, TreeError};
use crate::party::PartyId;
use crate::{Digest, SecretKey};

/// An append-only log of encoded [`EvidenceEvent`]s over an RFC 9162 Merkle tree
/// (spec §10.3).
///
/// The entries are kept in one buffer, the tree as hashes of complete subtrees. A node
/// persists [`entries`](Self::entries) and rebuilds with [`from_entries`](Self::from_entries).
///
/// ```
/// use signet_protocol::evidence::checkpoint::SignedCheckpoint;
/// use signet_protocol::evidence::event::{EvidenceEvent, EvidenceKind};
/// use signet_protocol::evidence::log::EvidenceLog;
/// use signet_protocol::testkit::TestParty;
/// use signet_protocol::Timestamp;
///
/// let now = Timestamp::from_unix(1_800_000_000);
/// let party = TestParty::new("Example Buyer", now);
/// let mut log = EvidenceLog::new();
/// let index = log.append(&EvidenceEvent::new(EvidenceKind::ProposalSent, now))?;
/// log.append(&EvidenceEvent::new(EvidenceKind::Completed, now.plus(60)))?;
///
/// // A checkpoint, and a proof that the first entry is in the log it describes.
/// let checkpoint = log.checkpoint(&party.id(), &party.log_key);
/// let proof = log.inclusion_proof(index, log.len())?;
/// let entry = log.entry(index).expect("appended above");
/// proof.verify(entry, checkpoint.checkpoint())?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct EvidenceLog {
    tree: MerkleTree,
    /// Every entry's bytes, one after the other.
    data: Vec<u8>,
    /// `ends[i]` is where entry `i` ends in `data`.
    ends: Vec<usize>,
}

/// An entry of a stored log does not decode: which one, and why (spec §10.3).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("entry {index}: {error}")]
pub struct RebuildError {
    /// The entry's position.
    pub index: u64,
    /// What is wrong with it.
    pub error: EventError,
}

impl EvidenceLog {
    /// An empty log.
    pub fn new() -> Self {
        Self::default()
    }

    /// Rebuilds a log from its stored entries, in order, checking that each is an event in
    /// its one encoding.
    pub fn from_entries<I, B>(entries: I) -> Result<Self, RebuildError>
    where
        I: IntoIterator<Item = B>,
        B: AsRef<[u8]>,
    {
        let mut log = Self::new();
        for (index, entry) in entries.into_iter().enumerate() {
            let entry = entry.as_ref();
            EvidenceEvent::decode(entry).map_err(|error| RebuildError {
                index: index as u64,
                error,
            })?;
            log.push_entry(entry);
        }
        Ok(log)
    }

    /// Appends an event (of a known kind, within the bounds) and returns its index.
    pub fn append(&mut self, event: &EvidenceEvent) -> Result<u64, EventError> {
        if !event.kind.is_known() {
            return Err(EventError::UnknownKind(event.kind.code()));
        }
        let entry = event.encode()?;
        Ok(self.push_entry(&entry))
    }

    fn push_entry(&mut self, entry: &[u8]) -> u64 {
        self.data.extend_from_slice(entry);
        self.ends.push(self.data.len());
        self.tree.push(merkle::leaf_hash(entry))
    }

    /// The number of entries.
    pub fn len(&self) -> u64 {
        self.tree.len()
    }

    /// Whether the log has no entries.
    pub fn is_empty(&self) -> bool {
        self.tree.is_empty()
    }

    /// The encoded entry at `index`: the leaf data.
    pub fn entry(&self, index: u64) -> Option<&[u8]> {
        let index = usize::try_from(index).ok()?;
        let end = *self.ends.get(index)?;
        let start = match index.checked_sub(1) {
            Some(previous) => *self.ends.get(previous)?,
            None => 0,
        };
        self.data.get(start..end)
    }

    /// Every entry, in order: what a node stores.
    pub fn entries(&self) -> impl Iterator<Item = &[u8]> {
        let starts = std::iter::once(0).chain(self.ends.iter().copied());
        starts
            .zip(self.ends.iter().copied())
            .filter_map(|(start, end)| self.data.get(start..end))
    }

    /// The Merkle tree over the entries.
    pub fn tree(&self) -> &MerkleTree {
        &self.tree
    }

    /// The current root.
    pub fn root(&self) -> Digest {
        self.tree.root()
    }

    /// The proof that entry `index` is in the log of the first `size` entries.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<InclusionProof, TreeError> {
        Ok(InclusionProof {
            index,
            size,
            path: self.tree.inclusion_proof(index, size)?,
        })
    }

    /// The consistency proof from the log of `old_size` entries to that of `new_size`.
    pub fn consistency_proof(
        &self,
        old_size: u64,
        new_size: u64,
    ) -> Result<Vec<Digest>, TreeError> {
        self.tree.consistency_proof(old_size, new_size)
    }

    /// The same proof as an object to send (to a witness, say).
    pub fn consistency_proof_object(
        &self,
        old_size: u64,
        new_size: u64,
    ) -> Result<ConsistencyProof, TreeError> {
        Ok(ConsistencyProof {
            old_size,
            new_size,
            path: self.tree.consistency_proof(old_size, new_size)?,
        })
    }

    /// The signed checkpoint of the whole log, for `party`'s evidence log, signed with the
    /// party's `log` key.
    pub fn checkpoint(&self, party: &PartyId, log_key: &SecretKey) -> SignedCheckpoint {
        Checkpoint::for_party(party, self.len(), self.root()).sign(log_key)
    }

    /// The signed checkpoint of the first `size` entries.
    pub fn checkpoint_at(
        &self,
        size: u64,
        party: &PartyId,
        log_key: &SecretKey,
    ) -> Result<SignedCheckpoint, TreeError> {
        Ok(Checkpoint::for_party(party, size, self.tree.root_at(size)?).sign(log_key))
    }
}

impl std::fmt::Debug for EvidenceLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EvidenceLog")
            .field("len", &self.len())
            .field("bytes", &self.data.len())
            .field("root", &self.root())
            .finish()
    }
}

/// The most hashes in an inclusion proof: a tree of at most 2^64 - 1 leaves is 64 deep.
pub const MAX_INCLUSION_PATH: usize = 64;

/// Decoding limits for an encoded [`InclusionProof`].
pub const INCLUSION_PROOF_LIMITS: Limits = Limits {
    max_bytes: 64 + MAX_INCLUSION_PATH * 34,
    max_depth: 3,
    max_items: MAX_INCLUSION_PATH + 8,
};

/// Proof that an entry is in a log of a given size (spec §10.3), for a bundle to carry
/// beside the entry and the signed checkpoint of that size.
///
/// Encoded as a deterministic CBOR map with text keys `index`, `size` and `path` (the RFC
/// 9162 §2.1.3.1 audit path, from the leaf up).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InclusionProof {
    /// The entry's position, from 0.
    pub index: u64,
    /// The size of the log the proof is against.
    pub size: u64,
    /// Sibling hashes from the leaf up to the root.
    pub path: Vec<Digest>,
}

impl InclusionProof {
    /// The deterministic encoding.
    pub fn encode(&self) -> Result<Vec<u8>, EncodeError> {
        codec::encode(self)
    }

    /// Decodes a proof within [`INCLUSION_PROOF_LIMITS`].
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let proof: Self = codec::decode(bytes, &INCLUSION_PROOF_LIMITS)?;
        if proof.path.len() > MAX_INCLUSION_PATH {
            return Err(DecodeError::Schema {
                reason: format!("inclusion path of {} hashes", proof.path.len()),
            });
        }
        Ok(proof)
    }

    /// Verifies that `entry` (the leaf data) is in the log of the checkpoint, whose size
    /// must be the proof's.
    pub fn verify(&self, entry: &[u8], checkpoint: &Checkpoint) -> Result<(), ProofError> {
        if checkpoint.size() != self.size {
            return Err(ProofError::SizeMismatch {
                proof: self.size,
                checkpoint: checkpoint.size(),
            });
        }
        self.verify_leaf_hash(&merkle::leaf_hash(entry), checkpoint.root())
    }

    /// Verifies that `leaf_hash` is in the tree of the proof's size whose root is `root`.
    pub fn verify_leaf_hash(&self, leaf_hash: &Digest, root: &Digest) -> Result<(), ProofError> {
        merkle::verify_inclusion(leaf_hash, self.index, self.size, &self.path, root)
    }
}

/// The most hashes in a consistency proof between sizes below 2^64.
pub const MAX_CONSISTENCY_PATH: usize = 65;

/// Decoding limits for an encoded [`ConsistencyProof`].
pub const CONSISTENCY_PROOF_LIMITS: Limits = Limits {
    max_bytes: 64 + MAX_CONSISTENCY_PATH * 34,
    max_depth: 3,
    max_items: MAX_CONSISTENCY_PATH + 8,
};

/// Proof that a log of `new_size` entries extends the log of its first `old_size` entries
/// (spec §10.3), as a log sends it to a witness with a new checkpoint.
///
/// Encoded as a deterministic CBOR map with text keys `old_size`, `new_size` and `path`
/// (the RFC 9162 §2.1.4.1 consistency proof).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsistencyProof {
    /// The earlier size.
    pub old_size: u64,
    /// The later size.
    pub new_size: u64,
    /// The proof's hashes.
    pub path: Vec<Digest>,
}

impl ConsistencyProof {
    /// The deterministic encoding.
    pub fn encode(&self) -> Result<Vec<u8>, EncodeError> {
        codec::encode(self)
    }

    /// Decodes a proof within [`CONSISTENCY_PROOF_LIMITS`].
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let proof: Self = codec::decode(bytes, &CONSISTENCY_PROOF_LIMITS)?;
        if proof.path.len() > MAX_CONSISTENCY_PATH {
            return Err(DecodeError::Schema {
                reason: format!("consistency path of {} hashes", proof.path.len()),
            });
        }
        Ok(proof)
    }

    /// Verifies that the log of checkpoint `new` extends that of checkpoint `old`, whose
    /// sizes must be the proof's.
    pub fn verify(&self, old: &Checkpoint, new: &Checkpoint) -> Result<(), ProofError> {
        for (proof, checkpoint) in [(self.old_size, old.size()), (self.new_size, new.size())] {
            if proof != checkpoint {
                return Err(ProofError::SizeMismatch { proof, checkpoint });
            }
        }
        merkle::verify_consistency(
            self.old_size,
            self.new_size,
            old.root(),
            new.root(),
            &self.path,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Timestamp;
    use crate::evidence::checkpoint::{SignedCheckpoint, evidence_origin};
    use crate::evidence::event::EvidenceKind;
    use crate::evidence::merkle::verify_consistency;
    use crate::testkit::TestParty;

    fn event(i: u64) -> EvidenceEvent {
        EvidenceEvent {
            kind: EvidenceKind::KNOWN[(i % 13) as usize],
            time: Timestamp::from_unix(1_800_000_000 + i),
            session: Some(Digest::of(&(i / 4).to_be_bytes())),
            objects: vec![Digest::of(&i.to_be_bytes())],
            note: i.is_multiple_of(5).then(|| format!("event {i}")),
        }
    }

    fn log_of(n: u64) -> EvidenceLog {
        let mut log = EvidenceLog::new();
        for i in 0..n {
            assert_eq!(log.append(&event(i)).unwrap(), i);
        }
        log
    }

    #[test]
    fn entries_are_the_encoded_events_and_rebuild() {
        let log = log_of(50);
        assert_eq!(log.len(), 50);
        for i in 0..50 {
            let entry = log.entry(i).unwrap();
            assert_eq!(EvidenceEvent::decode(entry).unwrap(), event(i));
            assert_eq!(log.tree().leaf_hash(i), Some(&merkle::leaf_hash(entry)));
        }
        assert_eq!(log.entry(50), None);
        assert_eq!(log.entries().count(), 50);
        let rebuilt = EvidenceLog::from_entries(log.entries()).unwrap();
        assert_eq!(rebuilt, log);
        // A damaged stored entry is named.
        let mut stored: Vec<Vec<u8>> = log.entries().map(<[u8]>::to_vec).collect();
        stored[7].push(0);
        assert_eq!(EvidenceLog::from_entries(&stored).unwrap_err().index, 7);
    }

    #[test]
    fn unknown_kinds_are_not_appended() {
        let mut log = EvidenceLog::new();
        let mut e = event(0);
        e.kind = EvidenceKind::Unknown(77);
        assert_eq!(log.append(&e), Err(EventError::UnknownKind(77)));
        assert!(log.is_empty());
    }

    #[test]
    fn inclusion_proofs_verify_against_signed_checkpoints() {
        let p = TestParty::new("Evidence Co", Timestamp::from_unix(1_800_000_000));
        let log = log_of(21);
        let origin = evidence_origin(&p.id());
        let key = p.log_key.public_key();
        for size in [1, 8, 13, 21] {
            let note = log
                .checkpoint_at(size, &p.id(), &p.log_key)
                .unwrap()
                .to_bytes();
            let checkpoint = SignedCheckpoint::verify(&note, &origin, &key).unwrap();
            for index in 0..size {
                let proof = log.inclusion_proof(index, size).unwrap();
                let proof = InclusionProof::decode(&proof.encode().unwrap()).unwrap();
                proof
                    .verify(log.entry(index).unwrap(), checkpoint.checkpoint())
                    .unwrap();
                // Another entry is not at that index.
                let other = log.entry((index + 1) % 21).unwrap();
                assert_eq!(
                    proof.verify(other, checkpoint.checkpoint()),
                    Err(ProofError::RootMismatch)
                );
            }
        }
        let small = log.checkpoint_at(8, &p.id(), &p.log_key).unwrap();
        let proof = log.inclusion_proof(3, 21).unwrap();
        assert_eq!(
            proof.verify(log.entry(3).unwrap(), small.checkpoint()),
            Err(ProofError::SizeMismatch {
                proof: 21,
                checkpoint: 8
            })
        );
        let whole = log.checkpoint(&p.id(), &p.log_key);
        let proof = log.consistency_proof(8, 21).unwrap();
        verify_consistency(
            8,
            21,
            small.checkpoint().root(),
            whole.checkpoint().root(),
            &proof,
        )
        .unwrap();
        assert!(log.checkpoint_at(22, &p.id(), &p.log_key).is_err());
    }

    #[test]
    fn consistency_proof_objects_verify_against_checkpoints() {
        let p = TestParty::new("Evidence Co", Timestamp::from_unix(1_800_000_000));
        let log = log_of(21);
        let small = log.checkpoint_at(8, &p.id(), &p.log_key).unwrap();
        let medium = log.checkpoint_at(13, &p.id(), &p.log_key).unwrap();
        let whole = log.checkpoint(&p.id(), &p.log_key);
        let proof = log.consistency_proof_object(13, 21).unwrap();
        let proof = ConsistencyProof::decode(&proof.encode().unwrap()).unwrap();
        proof
            .verify(medium.checkpoint(), whole.checkpoint())
            .unwrap();
        assert_eq!(
            proof.verify(small.checkpoint(), whole.checkpoint()),
            Err(ProofError::SizeMismatch {
                proof: 13,
                checkpoint: 8
            })
        );
        let long = ConsistencyProof {
            old_size: 1,
            new_size: 2,
            path: vec![Digest::from_bytes([0; 32]); MAX_CONSISTENCY_PATH + 1],
        };
        assert!(ConsistencyProof::decode(&long.encode().unwrap()).is_err());
    }

    #[test]
    fn inclusion_proofs_decode_within_bounds() {
        let long = InclusionProof {
            index: 0,
            size: 1,
            path: vec![Digest::from_bytes([0; 32]); MAX_INCLUSION_PATH + 1],
        };
        assert!(InclusionProof::decode(&long.encode().unwrap()).is_err());
        let golden = InclusionProof {
            index: 1,
            size: 2,
            path: vec![Digest::from_bytes([0xab; 32])],
        };
        assert_eq!(
            hex::encode(golden.encode().unwrap()),
            concat!(
                "a3",
                "6470617468",
                "81",
                "5820",
                "abababababababababababababababababababababababababababababababab",
                "6473697a65",
                "02",
                "65696e646578",
                "01"
            )
        );
    }
}
