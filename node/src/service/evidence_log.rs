//! The node's evidence log (spec §10.3) with its entries in the store and only the upper part
//! of its Merkle tree in memory.
//!
//! The leaves are grouped in blocks of [`BLOCK`] entries. The node keeps in memory the tree
//! whose leaves are the blocks' hashes (a [`MerkleTree`]: about one byte per entry) and the
//! leaf hashes of the newest [`RECENT_BLOCKS`] blocks and the incomplete last one, where
//! nearly every proof and checkpoint falls. A subtree inside an older block is computed from
//! that block's entries, read from the store and checked against the block's hash. Block
//! hashes are stored too ([`Store::put_evidence_block`]) so that starting reads only the
//! recent entries, not the whole log: a million sessions' log (about six entries each) costs
//! some 6 MB of memory instead of the entries themselves.
//!
//! Roots and proofs come from [`Subtrees`]' provided methods, so they are byte for byte what
//! an [`EvidenceLog`](signet_protocol::evidence::EvidenceLog) in memory gives for the same
//! entries (tested below).

use std::cell::RefCell;

use signet_protocol::Digest;
use signet_protocol::evidence::merkle::{self, MerkleTree, Subtrees, TreeError};
use signet_protocol::evidence::{EvidenceEvent, PartyEvidence, SignedCheckpoint};
use signet_protocol::party::PartyId;

use super::ServiceError;
use crate::store::Store;

/// Leaves per block, as a power of two.
const BLOCK_LEVEL: u32 = 6;
/// Leaves per block.
const BLOCK: u64 = 1 << BLOCK_LEVEL;
/// Complete blocks whose leaf hashes stay in memory beside the incomplete last one.
const RECENT_BLOCKS: u64 = 16;

/// The evidence log's tree as the node keeps it (see the module docs). Its entries are the
/// store's; appending is [`push`](Self::push) after the store has the entry.
#[derive(Debug, Clone, Default)]
pub(crate) struct StoredLog {
    /// The tree over the hashes of the complete blocks.
    blocks: MerkleTree,
    /// The leaf hashes from `recent_from` (a block boundary) to the end.
    recent: Vec<Digest>,
    recent_from: u64,
}

impl StoredLog {
    /// The log as `store` holds it: block hashes as stored (those missing, after a crash,
    /// computed again from the entries and stored), and the recent entries read, each checked
    /// to be an evidence event, and hashed; a recent block whose stored hash disagrees with
    /// its entries is refused as corrupt.
    pub(crate) fn open(store: &dyn Store) -> Result<Self, ServiceError> {
        let len = store.evidence_len()?;
        let complete = len / BLOCK;
        let mut stored = store.evidence_blocks()?;
        stored.truncate(usize::try_from(complete).unwrap_or(usize::MAX));
        let stored_len = stored.len() as u64;
        let read_from = stored_len.min(complete.saturating_sub(RECENT_BLOCKS)) * BLOCK;
        let leaves = read_leaves(store, read_from, len)?;
        let mut blocks = stored;
        for (block, hashes) in (read_from / BLOCK..).zip(leaves.chunks_exact(BLOCK as usize)) {
            let hash = block_hash(hashes);
            match blocks.get(block as usize) {
                Some(kept) if *kept != hash => {
                    return Err(ServiceError::Corrupt(
                        "evidence block hash disagrees with its entries",
                    ));
                }
                Some(_) => {}
                None => {
                    store.put_evidence_block(block, &hash)?;
                    blocks.push(hash);
                }
            }
        }
        let recent_from = complete.saturating_sub(RECENT_BLOCKS) * BLOCK;
        let skip = usize::try_from(recent_from - read_from).unwrap_or(usize::MAX);
        Ok(Self {
            blocks: MerkleTree::from_leaf_hashes(blocks),
            recent: leaves.get(skip..).unwrap_or_default().to_vec(),
            recent_from,
        })
    }

    /// The number of entries.
    pub(crate) fn len(&self) -> u64 {
        self.recent_from + self.recent.len() as u64
    }

    /// Takes in the entry the store has just appended at [`len`](Self::len); when it
    /// completes a block, the block's hash is stored (best effort: one lost is computed
    /// again at the next start).
    pub(crate) fn push(&mut self, store: &dyn Store, entry: &[u8]) {
        self.recent.push(merkle::leaf_hash(entry));
        if !self.len().is_multiple_of(BLOCK) {
            return;
        }
        let start = self.recent.len() - BLOCK as usize;
        let hash = block_hash(&self.recent[start..]);
        let index = self.blocks.push(hash);
        if let Err(e) = store.put_evidence_block(index, &hash) {
            tracing::warn!(block = index, error = %e, "evidence block hash not stored; computed again at start");
        }
        if self.recent.len() as u64 > (RECENT_BLOCKS + 1) * BLOCK {
            self.recent.drain(..BLOCK as usize);
            self.recent_from += BLOCK;
        }
    }

    /// The tree, reading older blocks' entries from `store` when a proof needs them.
    pub(crate) fn reader<'a>(&'a self, store: &'a dyn Store) -> Reader<'a> {
        Reader {
            log: self,
            store,
            block: RefCell::default(),
        }
    }

    /// The current root.
    pub(crate) fn root(&self, store: &dyn Store) -> Result<Digest, ServiceError> {
        self.reader(store).root_at(self.len())
    }

    /// The consistency proof from the log of `old` entries to now.
    pub(crate) fn consistency_proof(
        &self,
        store: &dyn Store,
        old: u64,
    ) -> Result<Vec<Digest>, ServiceError> {
        self.reader(store).consistency_proof(old, self.len())
    }

    /// `party`'s evidence about one session: the entries at `indices`, each with its proof
    /// against `checkpoint` (a checkpoint of this log).
    pub(crate) fn party_evidence(
        &self,
        store: &dyn Store,
        party: PartyId,
        indices: &[u64],
        checkpoint: &SignedCheckpoint,
    ) -> Result<PartyEvidence, ServiceError> {
        let entry = |index| {
            store
                .evidence(index)?
                .ok_or(ServiceError::Corrupt("evidence entry missing"))
        };
        PartyEvidence::from_tree(party, &self.reader(store), entry, indices, checkpoint)
    }
}

/// A [`StoredLog`] with the store it reads older blocks from.
pub(crate) struct Reader<'a> {
    log: &'a StoredLog,
    store: &'a dyn Store,
    /// The older block read last and its leaf hashes: a proof visits each level inside one
    /// block, and reads the block once.
    block: RefCell<Option<(u64, Vec<Digest>)>>,
}

impl Reader<'_> {
    /// The leaf hashes of complete block `block`, below the recent ones: read from the
    /// store and checked against the block's hash.
    fn old_block(&self, block: u64) -> Result<Vec<Digest>, ServiceError> {
        if let Some((b, leaves)) = &*self.block.borrow()
            && *b == block
        {
            return Ok(leaves.clone());
        }
        let leaves = read_leaves(self.store, block * BLOCK, (block + 1) * BLOCK)?;
        let kept = self.log.blocks.leaf_hash(block);
        if leaves.len() as u64 != BLOCK || kept != Some(&block_hash(&leaves)) {
            return Err(ServiceError::Corrupt(
                "evidence block hash disagrees with its entries",
            ));
        }
        *self.block.borrow_mut() = Some((block, leaves.clone()));
        Ok(leaves)
    }
}

impl Subtrees for Reader<'_> {
    type Error = ServiceError;

    fn len(&self) -> u64 {
        self.log.len()
    }

    fn subtree_hash(&self, level: u32, index: u64) -> Result<Digest, ServiceError> {
        if level >= BLOCK_LEVEL {
            return self
                .log
                .blocks
                .subtree(level - BLOCK_LEVEL, index)
                .copied()
                .ok_or(ServiceError::Corrupt("evidence subtree beyond the log"));
        }
        let first = index << level;
        let count = 1usize << level;
        let leaves = if first >= self.log.recent_from {
            let at = usize::try_from(first - self.log.recent_from).unwrap_or(usize::MAX);
            self.log
                .recent
                .get(at..at.saturating_add(count))
                .ok_or(ServiceError::Corrupt("evidence subtree beyond the log"))?
                .to_vec()
        } else {
            let block = first / BLOCK;
            let at = usize::try_from(first - block * BLOCK).unwrap_or(usize::MAX);
            self.old_block(block)?[at..at + count].to_vec()
        };
        Ok(MerkleTree::from_leaf_hashes(leaves).root())
    }
}

impl From<TreeError> for ServiceError {
    fn from(e: TreeError) -> Self {
        Self::Usage(format!("evidence log: {e}"))
    }
}

/// The Merkle hash of one block's leaves.
fn block_hash(leaves: &[Digest]) -> Digest {
    MerkleTree::from_leaf_hashes(leaves.to_vec()).root()
}

/// The leaf hashes of entries `from .. to`, each entry checked to be an evidence event.
fn read_leaves(store: &dyn Store, from: u64, to: u64) -> Result<Vec<Digest>, ServiceError> {
    /// Entries read from the store at a time.
    const BATCH: u64 = 4096;
    let mut leaves = Vec::with_capacity(usize::try_from(to - from).unwrap_or(0));
    let mut at = from;
    while at < to {
        let entries = store.evidence_range(at, to.min(at + BATCH))?;
        if entries.is_empty() {
            return Err(ServiceError::Corrupt("evidence gap"));
        }
        for entry in &entries {
            EvidenceEvent::decode(entry).map_err(|_| ServiceError::Corrupt("evidence log"))?;
            leaves.push(merkle::leaf_hash(entry));
        }
        at += entries.len() as u64;
    }
    Ok(leaves)
}

#[cfg(test)]
mod tests {
    use signet_protocol::Timestamp;
    use signet_protocol::evidence::{EvidenceKind, EvidenceLog};

    use super::*;
    use crate::store::MemoryStore;

    fn event(i: u64) -> EvidenceEvent {
        let mut e = EvidenceEvent::new(
            EvidenceKind::ProposalSent,
            Timestamp::from_unix(1_800_000_000 + i),
        );
        e.note = Some(format!("entry {i}"));
        e
    }

    /// Appends `n` events to both an in-memory log and a stored one.
    fn both(n: u64) -> (EvidenceLog, MemoryStore, StoredLog) {
        let mut memory = EvidenceLog::new();
        let store = MemoryStore::new();
        let mut stored = StoredLog::open(&store).unwrap();
        for i in 0..n {
            let index = memory.append(&event(i)).unwrap();
            let entry = memory.entry(index).unwrap();
            assert_eq!(store.append_evidence(entry).unwrap(), stored.len());
            stored.push(&store, entry);
        }
        (memory, store, stored)
    }

    /// Every size, and proofs at sizes inside old blocks, recent blocks and the tail, agree
    /// with the log kept whole in memory; so does the log opened again from the store.
    #[test]
    fn roots_and_proofs_match_the_log_in_memory() {
        let n = BLOCK * (RECENT_BLOCKS + 5) + 17;
        let (memory, store, stored) = both(n);
        let reopened = StoredLog::open(&store).unwrap();
        for log in [&stored, &reopened] {
            assert_eq!(log.len(), n);
            assert_eq!(log.root(&store).unwrap(), memory.root());
            let reader = log.reader(&store);
            for size in (1..=n).step_by(37).chain([BLOCK, BLOCK + 1, n - 1, n]) {
                assert_eq!(
                    reader.root_at(size).unwrap(),
                    memory.tree().root_at(size).unwrap()
                );
                for index in [0, size / 3, size / 2, size - 1] {
                    assert_eq!(
                        reader.inclusion_proof(index, size).unwrap(),
                        memory.inclusion_proof(index, size).unwrap().path,
                        "index {index}, size {size}"
                    );
                }
                assert_eq!(
                    reader.consistency_proof(size, n).unwrap(),
                    memory.consistency_proof(size, n).unwrap(),
                    "from {size}"
                );
            }
        }
    }

    /// Block hashes lost in a crash are computed again at start; a stored one that
    /// disagrees with its entries is refused.
    #[test]
    fn block_hashes_are_recomputed_or_refused() {
        let n = BLOCK * (RECENT_BLOCKS + 3);
        let (memory, _, _) = both(n);
        let fresh = MemoryStore::new();
        for entry in memory.entries() {
            fresh.append_evidence(entry).unwrap();
        }
        let opened = StoredLog::open(&fresh).unwrap();
        assert_eq!(opened.root(&fresh).unwrap(), memory.root());
        assert_eq!(fresh.evidence_blocks().unwrap().len() as u64, n / BLOCK);

        fresh
            .put_evidence_block(n / BLOCK - 1, &Digest::of(b"wrong"))
            .unwrap();
        assert!(matches!(
            StoredLog::open(&fresh),
            Err(ServiceError::Corrupt(_))
        ));

        // An old block (not re-read at start) that disagrees is refused when a proof needs it.
        fresh
            .put_evidence_block(
                n / BLOCK - 1,
                &opened.blocks.leaf_hash(n / BLOCK - 1).copied().unwrap(),
            )
            .unwrap();
        fresh.put_evidence_block(0, &Digest::of(b"wrong")).unwrap();
        let tampered = StoredLog::open(&fresh).unwrap();
        assert!(matches!(
            tampered.reader(&fresh).inclusion_proof(1, n),
            Err(ServiceError::Corrupt(_))
        ));
    }
}
