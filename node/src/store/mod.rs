//! Persistent storage behind one narrow trait.
//!
//! Everything the node must not lose lives behind [`Store`]: key event logs, attestations,
//! session state, documents, the evidence log, the outbox and webhook-delivery records. Own
//! secret keys do not: they are files with owner-only permissions (see [`crate::keyfile`]).
//!
//! The trait speaks in the protocol's identifiers ([`PartyId`], [`AttestationId`](signet_protocol::party::AttestationId),
//! [`SessionId`], [`Digest`]) and in opaque bytes: the layers above decide what a session's
//! state or an outbox entry looks like; this layer only promises to keep it.
//!
//! # Durability contract
//!
//! When a mutating method returns `Ok`, the change is on disk: a crash (power loss, `SIGKILL`)
//! afterwards does not lose it. The one exception is [`Store::put_chunk`], which stages a
//! document chunk; the [`Store::put_manifest`] that follows makes the chunks durable with it.
//! [`SledStore`] meets this with sled transactions and batches for atomicity, and one
//! flush-and-sync per acknowledged write, shared between concurrent writers by group commit
//! (see [`SledStore`]: sled's own `flush` is not enough on Linux, and the store makes up for
//! it). [`PostgresStore`] meets it with one PostgreSQL transaction per
//! mutating call, committed with `synchronous_commit = on` (see [`PostgresStore`]).
//! [`MemoryStore`] is for tests and keeps nothing across processes.
//!
//! A PostgreSQL database may have several processes of its party, one active: the holder of
//! the party's [`PartyLease`], whose store ([`PostgresStore::open_fenced`]) commits nothing
//! once another process took the lease. Sled lets one process open a store at all.
//!
//! # Documents
//!
//! Documents are content-addressed by their SHA-256 and stored as chunks of at most
//! [`CHUNK_SIZE`] bytes, each itself addressed by its SHA-256, plus a [`Manifest`] listing
//! them. [`DocumentWriter`] streams a document in (from any [`std::io::Read`] with
//! [`put_document`], from a Tokio `AsyncRead` with [`put_document_async`], or pushed piece by
//! piece) and [`DocumentReader`]
//! streams it out, so a 100 MB document is never in memory whole. Every chunk is checked
//! against its digest when read. Chunks are shared between documents with equal content.
//! A document whose writing stopped before its manifest (a crash, a failed fetch) leaves its
//! staged chunks behind unreferenced; reclaiming them (a garbage collection) is not built yet.
//!
//! The store is synchronous: from async code call it inside `tokio::task::spawn_blocking`
//! (a durable write waits for an fsync, or a database's commit).
//!
//! Which store a node uses is its configuration's `[storage]` choice
//! (`crate::service::config::StorageConfig`): sled in the party directory by default, or a
//! PostgreSQL database. The behaviour suite in `tests.rs` runs on all three.
//!
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use std::io::Read;
//! use signet_node::store::{put_document, DocumentReader, SledStore, Store};
//!
//! let dir = tempfile::tempdir()?;
//! let store = SledStore::open(dir.path())?;
//! let contract = vec![42u8; 600_000]; // three chunks
//! let (digest, manifest) = put_document(&store, &mut &contract[..])?;
//! assert_eq!(manifest.chunks().len(), 3);
//!
//! let mut back = Vec::new();
//! DocumentReader::open(&store, &digest)?.ok_or("stored")?.read_to_end(&mut back)?;
//! assert_eq!(back, contract);
//! # Ok(()) }
//! ```

mod chunk_files;
pub mod copy;
mod document;
mod error;
mod memory;
mod postgres_lease;
mod postgres_store;
#[cfg(test)]
pub(crate) mod postgres_test_server;
mod sled_store;
#[cfg(test)]
mod tests;
pub mod trust;

pub(crate) use document::read_chunk;
pub use document::{
    CHUNK_SIZE, DocumentReader, DocumentWriter, MAX_DOCUMENT_CHUNKS, Manifest, put_document,
    put_document_async,
};
pub use error::{BackendError, StoreError};
pub use memory::MemoryStore;
pub use postgres_lease::{
    CHECK_EVERY, Fence, KEEPALIVE_IDLE, KEEPALIVE_INTERVAL, KEEPALIVE_RETRIES, PartyLease,
    RETAKE_FOR, VANISHED_AFTER, lease_key,
};
pub use postgres_store::{DEFAULT_CONNECTIONS, MAX_CONNECTIONS, PostgresStore};
pub use sled_store::{CACHE_BYTES, LOCK_WAIT, SEGMENT_BYTES, SledStore};

use signet_protocol::Digest;
use signet_protocol::party::PartyId;
use signet_protocol::session::SessionId;

/// The longest session status name the store accepts, in bytes.
pub const MAX_STATUS_LEN: usize = 64;

/// A stored session: its status name (indexed) and its opaque serialized state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    /// The status name (for example `open`, `completed`), at most [`MAX_STATUS_LEN`] bytes.
    pub status: String,
    /// The serialized session state, as the session layer wrote it.
    pub state: Vec<u8>,
}

/// Where an outbox entry sits: its recipient and its position in that recipient's queue.
/// Keys order by recipient, then sequence number, so a scan yields per-recipient FIFO order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OutboxKey {
    /// The party the message is for.
    pub recipient: PartyId,
    /// The enqueue order, unique across the outbox.
    pub seq: u64,
}

/// The identifier of a webhook delivery record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WebhookDeliveryId(pub [u8; 16]);

/// One step of a session as stored by [`Store::commit_session_step`]: the evidence entries
/// its events produced, the session's new record, and the webhook deliveries it queued.
#[derive(Debug, Clone, Copy)]
pub struct SessionStep<'a> {
    /// The session.
    pub session: &'a SessionId,
    /// Its record after the step.
    pub record: &'a SessionRecord,
    /// The evidence log's length before the step: the entries go at this index onward.
    pub evidence_from: u64,
    /// The evidence entries, in order.
    pub evidence: &'a [Vec<u8>],
    /// Webhook-delivery records to store.
    pub webhooks: &'a [(WebhookDeliveryId, Vec<u8>)],
    /// Outbox entries to store: the messages the step sends (see `Outbox::plan`).
    pub outbox: &'a [(OutboxKey, Vec<u8>)],
}

/// Everything the node keeps on disk, behind one narrow interface.
///
/// Implementations are safe to share between threads (`Arc<dyn Store>`). Every mutating
/// method is durable when it returns `Ok` (see the [module documentation](self)), except
/// [`Store::put_chunk`] and [`Store::remove_outbox`].
pub trait Store: Send + Sync + std::fmt::Debug {
    // --- key event logs ---

    /// Appends a party's key event (its signed bytes) at position `index`, which must be the
    /// log's current length. Validate the event with `KeyLog::append` first: the store keeps
    /// bytes, it does not judge them.
    fn append_key_event(&self, party: &PartyId, index: u64, event: &[u8])
    -> Result<(), StoreError>;

    /// A party's key events in order; empty if the party is unknown.
    fn key_events(&self, party: &PartyId) -> Result<Vec<Vec<u8>>, StoreError>;

    /// Every party with a stored key log, in order.
    fn key_log_parties(&self) -> Result<Vec<PartyId>, StoreError>;

    // --- attestations ---

    /// Stores a signed attestation's bytes under their digest (SHA-256 of `bytes`), which
    /// no issuer can make collide with another object. Storing the same bytes again changes
    /// nothing. Which attestations to keep (one per issuer and id, the newest revocation
    /// list of each issuer) is the trust store's decision, made before this is called.
    fn put_attestation(&self, digest: &Digest, bytes: &[u8]) -> Result<(), StoreError>;

    /// Removes the attestation with this digest (a superseded revocation list); removing
    /// one not stored changes nothing.
    fn remove_attestation(&self, digest: &Digest) -> Result<(), StoreError>;

    /// Every stored attestation, ordered by digest (for loading a trust store at start-up).
    fn attestations(&self) -> Result<Vec<Vec<u8>>, StoreError>;

    // --- sessions ---

    /// Stores (or replaces) a session's record, keeping the status index in step atomically.
    fn put_session(&self, id: &SessionId, record: &SessionRecord) -> Result<(), StoreError>;

    /// A session's record.
    fn session(&self, id: &SessionId) -> Result<Option<SessionRecord>, StoreError>;

    /// The records of sessions `ids`, in the same order (`None` where one is not stored): a
    /// page of a list in one read where the store can.
    fn sessions_of(&self, ids: &[SessionId]) -> Result<Vec<Option<SessionRecord>>, StoreError> {
        ids.iter().map(|id| self.session(id)).collect()
    }

    /// The ids of the sessions whose status is `status`, ordered by id.
    fn sessions_with_status(&self, status: &str) -> Result<Vec<SessionId>, StoreError>;

    /// One page of [`Store::sessions_with_status`]: at most `limit` ids after `after` (all
    /// from the first when `None`), ordered by id. Reads no more than the page.
    fn sessions_page(
        &self,
        status: &str,
        after: Option<&SessionId>,
        limit: usize,
    ) -> Result<Vec<SessionId>, StoreError>;

    /// How many sessions have status `status` (reads the status index, not the records).
    fn count_sessions(&self, status: &str) -> Result<u64, StoreError>;

    // --- the node's own bookkeeping ---

    /// A value the node keeps about its store (for example, which layout its records
    /// have), by name.
    fn meta(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError>;

    /// Stores (or replaces) a bookkeeping value, durably.
    fn put_meta(&self, name: &str, value: &[u8]) -> Result<(), StoreError>;

    /// The names of every bookkeeping value, in order.
    fn meta_names(&self) -> Result<Vec<String>, StoreError>;

    // --- documents ---

    /// Stages one document chunk under its digest (the SHA-256 of `bytes`). Not durable on
    /// its own: a later [`Store::put_manifest`] makes it so. Use [`DocumentWriter`].
    fn put_chunk(&self, digest: &Digest, bytes: &[u8]) -> Result<(), StoreError>;

    /// A chunk's bytes, as stored (callers check the digest; [`DocumentReader`] does).
    fn chunk(&self, digest: &Digest) -> Result<Option<Vec<u8>>, StoreError>;

    /// Stores a document's manifest under the document's digest, durably, together with
    /// every chunk staged before it.
    fn put_manifest(&self, document: &Digest, manifest: &Manifest) -> Result<(), StoreError>;

    /// A document's manifest, if the whole document is stored.
    fn manifest(&self, document: &Digest) -> Result<Option<Manifest>, StoreError>;

    /// Which of `documents` are stored whole (have a manifest), in one read where the store
    /// can.
    fn documents_present(&self, documents: &[Digest]) -> Result<Vec<bool>, StoreError> {
        documents
            .iter()
            .map(|d| Ok(self.manifest(d)?.is_some()))
            .collect()
    }

    /// The digests of every document stored whole (with its manifest), in digest order.
    fn documents(&self) -> Result<Vec<Digest>, StoreError>;

    // --- evidence log ---

    /// Appends an evidence-log entry and returns its index (0 for the first).
    fn append_evidence(&self, entry: &[u8]) -> Result<u64, StoreError>;

    /// Appends `entries` at index `from`, which must be the log's length, durably, in one
    /// commit where the store can ([`StoreError::OutOfOrder`] otherwise, and nothing
    /// appended). For copying a whole log ([`copy::copy_store`]).
    fn append_evidence_batch(&self, from: u64, entries: &[Vec<u8>]) -> Result<(), StoreError> {
        let len = self.evidence_len()?;
        if len != from {
            return Err(StoreError::OutOfOrder {
                table: "evidence",
                expected: len,
                got: from,
            });
        }
        for entry in entries {
            self.append_evidence(entry)?;
        }
        Ok(())
    }

    /// The entry at `index`.
    fn evidence(&self, index: u64) -> Result<Option<Vec<u8>>, StoreError>;

    /// The number of entries in the evidence log.
    fn evidence_len(&self) -> Result<u64, StoreError>;

    /// The entries at indices `from .. to` (fewer if the log ends before `to`), in order.
    fn evidence_range(&self, from: u64, to: u64) -> Result<Vec<Vec<u8>>, StoreError> {
        let mut entries = Vec::new();
        for index in from..to {
            match self.evidence(index)? {
                Some(entry) => entries.push(entry),
                None => break,
            }
        }
        Ok(entries)
    }

    /// Keeps the Merkle hash of block `index` of the evidence log (the complete subtree of
    /// its entries `index * 2^k .. (index + 1) * 2^k`, `k` chosen by the caller), so that a
    /// node need not read every entry when it starts. Derived from the entries, so it is
    /// durable only with the next [`sync`](Self::sync) or durable commit: a block lost in a
    /// crash is computed again from its entries.
    fn put_evidence_block(&self, index: u64, hash: &Digest) -> Result<(), StoreError>;

    /// The block hashes kept, from block 0 up to the first one missing.
    fn evidence_blocks(&self) -> Result<Vec<Digest>, StoreError>;

    // --- a session step, atomically ---

    /// Stores a session step in one atomic, durable commit: its evidence entries appended at
    /// `step.evidence_from` (which must be the log's length, else [`StoreError::OutOfOrder`]),
    /// the session's record with its status index, its webhook deliveries and the outbox
    /// entries of the messages it sends. A crash leaves all of it or none: an evidence entry
    /// is never stored without the journal that accounts for it, so applying the input again
    /// after a crash cannot log it twice; and no message is sent for a step the node has not
    /// recorded (which, signed again after a crash with another time, would differ).
    fn commit_session_step(&self, step: &SessionStep<'_>) -> Result<(), StoreError>;

    /// [`Store::commit_session_step`], as atomic, but not necessarily durable when it
    /// returns: a later [`Store::sync`] makes it (and every deferred step before it) durable,
    /// so that one sync serves many steps (group commit). Nothing may act on a deferred step
    /// before that sync returns: not answer the message that caused it, not send its
    /// messages, not deliver its webhooks, not sign a checkpoint over its evidence. A store
    /// without a cheaper path commits durably at once (the default).
    fn commit_session_step_deferred(&self, step: &SessionStep<'_>) -> Result<(), StoreError> {
        self.commit_session_step(step)
    }

    /// Makes every deferred step so far durable, and returns only once it is, including
    /// when another caller's flush is what covers them; cheap when there is none.
    fn sync(&self) -> Result<(), StoreError> {
        Ok(())
    }

    /// How many times this store has flushed to disk since it was opened, where it counts
    /// them (for `/metrics`: with group commit, one flush serves many durable writes).
    fn flushes(&self) -> Option<u64> {
        None
    }

    // --- outbox ---

    /// Stores (or replaces) an outbox entry.
    fn put_outbox(&self, key: &OutboxKey, entry: &[u8]) -> Result<(), StoreError>;

    /// Stores (or replaces) several outbox entries atomically, with one durable commit.
    fn put_outbox_batch(&self, entries: &[(OutboxKey, Vec<u8>)]) -> Result<(), StoreError>;

    /// Removes an outbox entry; removing an absent one is not an error. Not durable on its
    /// own (the next durable write makes it so): a removal lost in a crash only makes the
    /// message be sent again, and receivers recognise a message they already handled
    /// (spec 12.6). This saves a sync for every acknowledged message.
    fn remove_outbox(&self, key: &OutboxKey) -> Result<(), StoreError>;

    /// One outbox entry.
    fn outbox_entry(&self, key: &OutboxKey) -> Result<Option<Vec<u8>>, StoreError>;

    /// Every outbox entry, ordered by key (recipient, then sequence number).
    fn outbox_entries(&self) -> Result<Vec<(OutboxKey, Vec<u8>)>, StoreError>;

    // --- webhook deliveries ---

    /// Stores (or replaces) a webhook-delivery record.
    fn put_webhook_delivery(&self, id: &WebhookDeliveryId, record: &[u8])
    -> Result<(), StoreError>;

    /// Removes a webhook-delivery record; removing an absent one is not an error.
    fn remove_webhook_delivery(&self, id: &WebhookDeliveryId) -> Result<(), StoreError>;

    /// Every webhook-delivery record, ordered by id.
    fn webhook_deliveries(&self) -> Result<Vec<(WebhookDeliveryId, Vec<u8>)>, StoreError>;
}

/// Checks a session status name against [`MAX_STATUS_LEN`] and the index's separator.
pub(crate) fn check_status(status: &str) -> Result<(), StoreError> {
    if status.len() > MAX_STATUS_LEN || status.as_bytes().contains(&0) {
        return Err(StoreError::InvalidStatus {
            status: status.chars().take(MAX_STATUS_LEN).collect(),
        });
    }
    Ok(())
}
