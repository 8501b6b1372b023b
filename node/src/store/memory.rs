//! An in-memory [`Store`] for tests and simulations.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use signet_protocol::Digest;
use signet_protocol::party::PartyId;
use signet_protocol::session::SessionId;

use super::{
    Manifest, OutboxKey, SessionRecord, SessionStep, Store, StoreError, WebhookDeliveryId,
    check_status,
};

/// A [`Store`] that keeps everything in memory, under one lock. Behaves like
/// [`super::SledStore`] in every way a caller can observe, except that nothing survives the
/// process.
#[derive(Debug, Default)]
pub struct MemoryStore {
    inner: Mutex<Tables>,
}

#[derive(Debug, Default)]
struct Tables {
    key_logs: BTreeMap<PartyId, Vec<Vec<u8>>>,
    attestations: BTreeMap<Digest, Vec<u8>>,
    sessions: BTreeMap<SessionId, SessionRecord>,
    chunks: BTreeMap<Digest, Vec<u8>>,
    manifests: BTreeMap<Digest, Manifest>,
    evidence: Vec<Vec<u8>>,
    evidence_blocks: BTreeMap<u64, Digest>,
    outbox: BTreeMap<OutboxKey, Vec<u8>>,
    webhooks: BTreeMap<WebhookDeliveryId, Vec<u8>>,
    meta: BTreeMap<String, Vec<u8>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn tables(&self) -> MutexGuard<'_, Tables> {
        // Every operation leaves the tables consistent before it can panic, so a poisoned
        // lock still guards consistent data.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
impl MemoryStore {
    /// Replaces a chunk's bytes, bypassing content addressing (to simulate corruption).
    pub(crate) fn overwrite_chunk(&self, digest: &Digest, bytes: &[u8]) {
        self.tables().chunks.insert(*digest, bytes.to_vec());
    }
}

impl Store for MemoryStore {
    fn append_key_event(
        &self,
        party: &PartyId,
        index: u64,
        event: &[u8],
    ) -> Result<(), StoreError> {
        let mut t = self.tables();
        let log = t.key_logs.entry(*party).or_default();
        if index != log.len() as u64 {
            return Err(StoreError::OutOfOrder {
                table: "key_logs",
                expected: log.len() as u64,
                got: index,
            });
        }
        log.push(event.to_vec());
        Ok(())
    }

    fn key_events(&self, party: &PartyId) -> Result<Vec<Vec<u8>>, StoreError> {
        Ok(self
            .tables()
            .key_logs
            .get(party)
            .cloned()
            .unwrap_or_default())
    }

    fn key_log_parties(&self) -> Result<Vec<PartyId>, StoreError> {
        Ok(self.tables().key_logs.keys().copied().collect())
    }

    fn put_attestation(&self, digest: &Digest, bytes: &[u8]) -> Result<(), StoreError> {
        self.tables().attestations.insert(*digest, bytes.to_vec());
        Ok(())
    }

    fn remove_attestation(&self, digest: &Digest) -> Result<(), StoreError> {
        self.tables().attestations.remove(digest);
        Ok(())
    }

    fn attestations(&self) -> Result<Vec<Vec<u8>>, StoreError> {
        Ok(self.tables().attestations.values().cloned().collect())
    }

    fn put_session(&self, id: &SessionId, record: &SessionRecord) -> Result<(), StoreError> {
        check_status(&record.status)?;
        self.tables().sessions.insert(*id, record.clone());
        Ok(())
    }

    fn session(&self, id: &SessionId) -> Result<Option<SessionRecord>, StoreError> {
        Ok(self.tables().sessions.get(id).cloned())
    }

    fn sessions_with_status(&self, status: &str) -> Result<Vec<SessionId>, StoreError> {
        Ok(self
            .tables()
            .sessions
            .iter()
            .filter(|(_, r)| r.status == status)
            .map(|(id, _)| *id)
            .collect())
    }

    fn sessions_page(
        &self,
        status: &str,
        after: Option<&SessionId>,
        limit: usize,
    ) -> Result<Vec<SessionId>, StoreError> {
        Ok(self
            .tables()
            .sessions
            .iter()
            .filter(|(id, r)| r.status == status && after.is_none_or(|a| *id > a))
            .map(|(id, _)| *id)
            .take(limit)
            .collect())
    }

    fn count_sessions(&self, status: &str) -> Result<u64, StoreError> {
        let tables = self.tables();
        let n = tables
            .sessions
            .values()
            .filter(|r| r.status == status)
            .count();
        Ok(n as u64)
    }

    fn meta(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.tables().meta.get(name).cloned())
    }

    fn meta_names(&self) -> Result<Vec<String>, StoreError> {
        Ok(self.tables().meta.keys().cloned().collect())
    }

    fn put_meta(&self, name: &str, value: &[u8]) -> Result<(), StoreError> {
        self.tables().meta.insert(name.to_string(), value.to_vec());
        Ok(())
    }

    fn put_chunk(&self, digest: &Digest, bytes: &[u8]) -> Result<(), StoreError> {
        // Content-addressed: an existing chunk already holds these bytes.
        self.tables()
            .chunks
            .entry(*digest)
            .or_insert_with(|| bytes.to_vec());
        Ok(())
    }

    fn chunk(&self, digest: &Digest) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.tables().chunks.get(digest).cloned())
    }

    fn put_manifest(&self, document: &Digest, manifest: &Manifest) -> Result<(), StoreError> {
        self.tables().manifests.insert(*document, manifest.clone());
        Ok(())
    }

    fn manifest(&self, document: &Digest) -> Result<Option<Manifest>, StoreError> {
        Ok(self.tables().manifests.get(document).cloned())
    }

    fn documents(&self) -> Result<Vec<Digest>, StoreError> {
        Ok(self.tables().manifests.keys().copied().collect())
    }

    fn commit_session_step(&self, step: &SessionStep<'_>) -> Result<(), StoreError> {
        check_status(&step.record.status)?;
        let mut t = self.tables();
        let next = t.evidence.len() as u64;
        if step.evidence_from != next {
            return Err(StoreError::OutOfOrder {
                table: "evidence",
                expected: next,
                got: step.evidence_from,
            });
        }
        t.evidence.extend(step.evidence.iter().cloned());
        t.sessions.insert(*step.session, step.record.clone());
        for (id, record) in step.webhooks {
            t.webhooks.insert(*id, record.clone());
        }
        for (key, entry) in step.outbox {
            t.outbox.insert(*key, entry.clone());
        }
        Ok(())
    }

    fn append_evidence(&self, entry: &[u8]) -> Result<u64, StoreError> {
        let mut t = self.tables();
        t.evidence.push(entry.to_vec());
        Ok(t.evidence.len() as u64 - 1)
    }

    fn evidence(&self, index: u64) -> Result<Option<Vec<u8>>, StoreError> {
        let t = self.tables();
        Ok(usize::try_from(index)
            .ok()
            .and_then(|i| t.evidence.get(i))
            .cloned())
    }

    fn evidence_len(&self) -> Result<u64, StoreError> {
        Ok(self.tables().evidence.len() as u64)
    }

    fn put_evidence_block(&self, index: u64, hash: &Digest) -> Result<(), StoreError> {
        self.tables().evidence_blocks.insert(index, *hash);
        Ok(())
    }

    fn evidence_blocks(&self) -> Result<Vec<Digest>, StoreError> {
        let t = self.tables();
        Ok((0..)
            .map_while(|i| t.evidence_blocks.get(&i).copied())
            .collect())
    }

    fn put_outbox(&self, key: &OutboxKey, entry: &[u8]) -> Result<(), StoreError> {
        self.tables().outbox.insert(*key, entry.to_vec());
        Ok(())
    }

    fn put_outbox_batch(&self, entries: &[(OutboxKey, Vec<u8>)]) -> Result<(), StoreError> {
        let mut t = self.tables();
        for (key, entry) in entries {
            t.outbox.insert(*key, entry.clone());
        }
        Ok(())
    }

    fn remove_outbox(&self, key: &OutboxKey) -> Result<(), StoreError> {
        self.tables().outbox.remove(key);
        Ok(())
    }

    fn outbox_entry(&self, key: &OutboxKey) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.tables().outbox.get(key).cloned())
    }

    fn outbox_entries(&self) -> Result<Vec<(OutboxKey, Vec<u8>)>, StoreError> {
        Ok(self
            .tables()
            .outbox
            .iter()
            .map(|(k, v)| (*k, v.clone()))
            .collect())
    }

    fn put_webhook_delivery(
        &self,
        id: &WebhookDeliveryId,
        record: &[u8],
    ) -> Result<(), StoreError> {
        self.tables().webhooks.insert(*id, record.to_vec());
        Ok(())
    }

    fn remove_webhook_delivery(&self, id: &WebhookDeliveryId) -> Result<(), StoreError> {
        self.tables().webhooks.remove(id);
        Ok(())
    }

    fn webhook_deliveries(&self) -> Result<Vec<(WebhookDeliveryId, Vec<u8>)>, StoreError> {
        Ok(self
            .tables()
            .webhooks
            .iter()
            .map(|(k, v)| (*k, v.clone()))
            .collect())
    }
}
