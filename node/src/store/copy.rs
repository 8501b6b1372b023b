//! Copies everything one store holds into another, empty one, and checks that the copy
//! holds the same: how `signet migrate` moves a party from sled to PostgreSQL, and how
//! `signet backup` and `signet restore` copy a party's store.
//!
//! The copy goes through the [`Store`] trait only, so any store copies into any other. It
//! refuses a target that holds anything. After copying, [`compare`] reads both stores back
//! and compares every table, and the evidence logs' Merkle roots (computed from the entries,
//! not taken from the stored block hashes), so a copy that lost or changed a byte is
//! reported, never used.

use signet_protocol::Digest;
use signet_protocol::evidence::merkle::{self, MerkleTree};

use super::{Store, StoreError};

/// What a copy moved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyReport {
    /// Parties whose key logs were copied.
    pub key_logs: usize,
    /// Attestations.
    pub attestations: usize,
    /// Sessions (every status).
    pub sessions: usize,
    /// Documents (with their chunks).
    pub documents: usize,
    /// Evidence-log entries.
    pub evidence: u64,
    /// Outbox entries (messages not yet delivered).
    pub outbox: usize,
    /// Webhook deliveries not yet made.
    pub webhooks: usize,
    /// The evidence log's Merkle root, the same in both stores.
    pub evidence_root: Digest,
}

/// Why a copy did not happen or does not match.
#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    /// Reading or writing a store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The target already holds data.
    #[error("the target store is not empty: it holds {0}")]
    NotEmpty(&'static str),
    /// The copy differs from the original.
    #[error("the copy differs from the original: {0}")]
    Differs(String),
}

/// Session statuses the stores index.
const STATUSES: [&str; 5] = ["open", "completed", "declined", "cancelled", "expired"];

/// Evidence entries copied per batch.
const EVIDENCE_BATCH: u64 = 4096;

/// Copies everything in `from` into `to` (which must be empty), then [`compare`]s them.
pub fn copy_store(from: &dyn Store, to: &dyn Store) -> Result<CopyReport, CopyError> {
    refuse_unless_empty(to)?;
    for party in from.key_log_parties()? {
        for (index, event) in (0..).zip(from.key_events(&party)?) {
            to.append_key_event(&party, index, &event)?;
        }
    }
    for bytes in from.attestations()? {
        to.put_attestation(&Digest::of(&bytes), &bytes)?;
    }
    for status in STATUSES {
        for id in from.sessions_with_status(status)? {
            if let Some(record) = from.session(&id)? {
                to.put_session(&id, &record)?;
            }
        }
    }
    for document in from.documents()? {
        let Some(manifest) = from.manifest(&document)? else {
            continue;
        };
        for chunk in manifest.chunks() {
            let bytes = from.chunk(chunk)?.ok_or(CopyError::Differs(format!(
                "chunk {chunk} of a stored document"
            )))?;
            to.put_chunk(chunk, &bytes)?;
        }
        to.put_manifest(&document, &manifest)?;
    }
    let len = from.evidence_len()?;
    let mut at = 0;
    while at < len {
        let entries = from.evidence_range(at, len.min(at + EVIDENCE_BATCH))?;
        if entries.is_empty() {
            return Err(CopyError::Differs(format!("evidence entry {at} missing")));
        }
        to.append_evidence_batch(at, &entries)?;
        at += entries.len() as u64;
    }
    for (index, hash) in (0..).zip(from.evidence_blocks()?) {
        to.put_evidence_block(index, &hash)?;
    }
    to.put_outbox_batch(&from.outbox_entries()?)?;
    for (id, record) in from.webhook_deliveries()? {
        to.put_webhook_delivery(&id, &record)?;
    }
    for name in from.meta_names()? {
        if let Some(value) = from.meta(&name)? {
            to.put_meta(&name, &value)?;
        }
    }
    to.sync()?;
    compare(from, to)
}

fn refuse_unless_empty(to: &dyn Store) -> Result<(), CopyError> {
    if !to.key_log_parties()?.is_empty() {
        return Err(CopyError::NotEmpty("key logs"));
    }
    if to.evidence_len()? != 0 {
        return Err(CopyError::NotEmpty("evidence"));
    }
    for status in STATUSES {
        if to.count_sessions(status)? != 0 {
            return Err(CopyError::NotEmpty("sessions"));
        }
    }
    if !to.attestations()?.is_empty() {
        return Err(CopyError::NotEmpty("attestations"));
    }
    Ok(())
}

/// Reads `a` and `b` back and compares every table; the report describes them (equal).
pub fn compare(a: &dyn Store, b: &dyn Store) -> Result<CopyReport, CopyError> {
    let differs = |what: &str| Err(CopyError::Differs(what.to_string()));
    let parties = a.key_log_parties()?;
    if parties != b.key_log_parties()? {
        return differs("key log parties");
    }
    for party in &parties {
        if a.key_events(party)? != b.key_events(party)? {
            return differs(&format!("key log of {party}"));
        }
    }
    let mut attestations = a.attestations()?;
    let mut other = b.attestations()?;
    attestations.sort();
    other.sort();
    if attestations != other {
        return differs("attestations");
    }
    let mut sessions = 0;
    for status in STATUSES {
        let ids = a.sessions_with_status(status)?;
        if ids != b.sessions_with_status(status)? {
            return differs(&format!("{status} sessions"));
        }
        for id in &ids {
            if a.session(id)? != b.session(id)? {
                return differs(&format!("session {id}"));
            }
        }
        sessions += ids.len();
    }
    let documents = a.documents()?;
    if documents != b.documents()? {
        return differs("documents");
    }
    for document in &documents {
        let manifest = a.manifest(document)?;
        if manifest != b.manifest(document)? {
            return differs(&format!("manifest of document {document}"));
        }
        for chunk in manifest.iter().flat_map(|m| m.chunks()) {
            if a.chunk(chunk)? != b.chunk(chunk)? {
                return differs(&format!("chunk {chunk}"));
            }
        }
    }
    let evidence = a.evidence_len()?;
    if evidence != b.evidence_len()? {
        return differs("evidence length");
    }
    let root = evidence_root(a, evidence)?;
    if root != evidence_root(b, evidence)? {
        return differs("evidence log root");
    }
    let outbox = a.outbox_entries()?;
    if outbox != b.outbox_entries()? {
        return differs("outbox");
    }
    let webhooks = a.webhook_deliveries()?;
    if webhooks != b.webhook_deliveries()? {
        return differs("webhook deliveries");
    }
    let names = a.meta_names()?;
    if names != b.meta_names()? {
        return differs("meta names");
    }
    for name in names {
        if a.meta(&name)? != b.meta(&name)? {
            return differs(&format!("meta {name}"));
        }
    }
    Ok(CopyReport {
        key_logs: parties.len(),
        attestations: attestations.len(),
        sessions,
        documents: documents.len(),
        evidence,
        outbox: outbox.len(),
        webhooks: webhooks.len(),
        evidence_root: root,
    })
}

/// The Merkle root of the first `len` entries of `store`'s evidence log, from the entries.
fn evidence_root(store: &dyn Store, len: u64) -> Result<Digest, CopyError> {
    let mut tree = MerkleTree::new();
    let mut at = 0;
    while at < len {
        let entries = store.evidence_range(at, len.min(at + EVIDENCE_BATCH))?;
        if entries.is_empty() {
            return Err(CopyError::Differs(format!("evidence entry {at} missing")));
        }
        for entry in &entries {
            tree.push(merkle::leaf_hash(entry));
        }
        at += entries.len() as u64;
    }
    Ok(tree.root())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{MemoryStore, SessionRecord, SledStore};

    fn party(n: u8) -> signet_protocol::party::PartyId {
        signet_protocol::party::PartyId::from_digest(Digest::of(&[n]))
    }

    /// A little of everything the node stores.
    fn filled() -> MemoryStore {
        let store = MemoryStore::new();
        store.append_key_event(&party(1), 0, b"inception").unwrap();
        store.append_key_event(&party(1), 1, b"rotation").unwrap();
        store.append_key_event(&party(2), 0, b"other").unwrap();
        store.put_attestation(&Digest::of(b"att"), b"att").unwrap();
        for (n, status) in [(1u8, "open"), (2, "completed"), (3, "declined")] {
            let id = signet_protocol::session::SessionId::from_bytes([n; 32]);
            let record = SessionRecord {
                status: status.into(),
                state: vec![n; 100],
            };
            store.put_session(&id, &record).unwrap();
        }
        let bytes = vec![7u8; crate::store::CHUNK_SIZE + 10];
        crate::store::put_document(&store, &mut &bytes[..]).unwrap();
        for i in 0..200u64 {
            store.append_evidence(&i.to_be_bytes()).unwrap();
        }
        store.put_evidence_block(0, &Digest::of(b"block")).unwrap();
        let key = crate::store::OutboxKey {
            recipient: party(2),
            seq: 5,
        };
        store.put_outbox(&key, b"message").unwrap();
        store
            .put_webhook_delivery(&crate::store::WebhookDeliveryId([3; 16]), b"hook")
            .unwrap();
        store.put_meta("session-layout", b"snapshot").unwrap();
        store
    }

    #[test]
    fn everything_is_copied_and_compared() {
        let from = filled();
        let dir = tempfile::tempdir().unwrap();
        let to = SledStore::open(dir.path()).unwrap();
        let report = copy_store(&from, &to).unwrap();
        assert_eq!(report.key_logs, 2);
        assert_eq!(report.attestations, 1);
        assert_eq!(report.sessions, 3);
        assert_eq!(report.documents, 1);
        assert_eq!(report.evidence, 200);
        assert_eq!(report.outbox, 1);
        assert_eq!(report.webhooks, 1);
        assert_eq!(to.evidence_blocks().unwrap(), vec![Digest::of(b"block")]);

        // Copying into it again is refused; a difference is found.
        assert!(matches!(
            copy_store(&from, &to),
            Err(CopyError::NotEmpty(_))
        ));
        to.append_evidence(b"one more").unwrap();
        assert!(matches!(compare(&from, &to), Err(CopyError::Differs(_))));
    }
}
