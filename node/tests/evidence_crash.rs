//! A crash at the session-state write never leaves an evidence entry behind that a retry
//! logs again: the evidence entries and the session's state are one atomic store commit.
//!
//! The store below stands for the disk: when armed, it fails the write that carries the
//! session's journal (as a power cut at that point would), and the node is "restarted" by
//! opening a new service over the same store. Then the same action is retried and the
//! evidence log is checked: every entry is accounted for by exactly one session's state.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use signet_node::service::config::NodeConfig;
use signet_node::service::journal;
use signet_node::service::{Service, ServiceError};
use signet_node::store::{
    BackendError, Manifest, OutboxKey, SessionRecord, SessionStep, SledStore, Store, StoreError,
    WebhookDeliveryId,
};
use signet_protocol::Digest;
use signet_protocol::party::PartyId;
use signet_protocol::session::SessionId;
use support::{create, one_signer};

/// A store that fails the journal write while `crash` is set.
#[derive(Debug)]
struct CrashAtJournal {
    inner: SledStore,
    crash: AtomicBool,
}

impl CrashAtJournal {
    fn crashed(&self) -> Result<(), StoreError> {
        if self.crash.load(Ordering::SeqCst) {
            return Err(StoreError::Backend(BackendError::new(
                std::io::Error::other("power cut at the journal write"),
            )));
        }
        Ok(())
    }
}

impl Store for CrashAtJournal {
    fn append_key_event(&self, p: &PartyId, i: u64, e: &[u8]) -> Result<(), StoreError> {
        self.inner.append_key_event(p, i, e)
    }
    fn key_events(&self, p: &PartyId) -> Result<Vec<Vec<u8>>, StoreError> {
        self.inner.key_events(p)
    }
    fn key_log_parties(&self) -> Result<Vec<PartyId>, StoreError> {
        self.inner.key_log_parties()
    }
    fn put_attestation(&self, d: &Digest, b: &[u8]) -> Result<(), StoreError> {
        self.inner.put_attestation(d, b)
    }
    fn remove_attestation(&self, d: &Digest) -> Result<(), StoreError> {
        self.inner.remove_attestation(d)
    }
    fn attestations(&self) -> Result<Vec<Vec<u8>>, StoreError> {
        self.inner.attestations()
    }
    fn put_session(&self, id: &SessionId, r: &SessionRecord) -> Result<(), StoreError> {
        self.crashed()?;
        self.inner.put_session(id, r)
    }
    fn session(&self, id: &SessionId) -> Result<Option<SessionRecord>, StoreError> {
        self.inner.session(id)
    }
    fn sessions_with_status(&self, s: &str) -> Result<Vec<SessionId>, StoreError> {
        self.inner.sessions_with_status(s)
    }
    fn sessions_page(
        &self,
        s: &str,
        after: Option<&SessionId>,
        limit: usize,
    ) -> Result<Vec<SessionId>, StoreError> {
        self.inner.sessions_page(s, after, limit)
    }
    fn count_sessions(&self, s: &str) -> Result<u64, StoreError> {
        self.inner.count_sessions(s)
    }
    fn meta(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner.meta(name)
    }
    fn put_meta(&self, name: &str, value: &[u8]) -> Result<(), StoreError> {
        self.inner.put_meta(name, value)
    }
    fn put_chunk(&self, d: &Digest, b: &[u8]) -> Result<(), StoreError> {
        self.inner.put_chunk(d, b)
    }
    fn chunk(&self, d: &Digest) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner.chunk(d)
    }
    fn put_manifest(&self, d: &Digest, m: &Manifest) -> Result<(), StoreError> {
        self.inner.put_manifest(d, m)
    }
    fn manifest(&self, d: &Digest) -> Result<Option<Manifest>, StoreError> {
        self.inner.manifest(d)
    }
    fn documents(&self) -> Result<Vec<Digest>, StoreError> {
        self.inner.documents()
    }
    fn meta_names(&self) -> Result<Vec<String>, StoreError> {
        self.inner.meta_names()
    }
    fn append_evidence(&self, e: &[u8]) -> Result<u64, StoreError> {
        self.inner.append_evidence(e)
    }
    fn evidence(&self, i: u64) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner.evidence(i)
    }
    fn evidence_len(&self) -> Result<u64, StoreError> {
        self.inner.evidence_len()
    }
    fn put_evidence_block(&self, i: u64, h: &Digest) -> Result<(), StoreError> {
        self.inner.put_evidence_block(i, h)
    }
    fn evidence_blocks(&self) -> Result<Vec<Digest>, StoreError> {
        self.inner.evidence_blocks()
    }
    fn commit_session_step(&self, step: &SessionStep<'_>) -> Result<(), StoreError> {
        self.crashed()?;
        self.inner.commit_session_step(step)
    }
    fn put_outbox(&self, k: &OutboxKey, e: &[u8]) -> Result<(), StoreError> {
        self.inner.put_outbox(k, e)
    }
    fn put_outbox_batch(&self, e: &[(OutboxKey, Vec<u8>)]) -> Result<(), StoreError> {
        self.inner.put_outbox_batch(e)
    }
    fn remove_outbox(&self, k: &OutboxKey) -> Result<(), StoreError> {
        self.inner.remove_outbox(k)
    }
    fn outbox_entry(&self, k: &OutboxKey) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner.outbox_entry(k)
    }
    fn outbox_entries(&self) -> Result<Vec<(OutboxKey, Vec<u8>)>, StoreError> {
        self.inner.outbox_entries()
    }
    fn put_webhook_delivery(&self, i: &WebhookDeliveryId, r: &[u8]) -> Result<(), StoreError> {
        self.inner.put_webhook_delivery(i, r)
    }
    fn remove_webhook_delivery(&self, i: &WebhookDeliveryId) -> Result<(), StoreError> {
        self.inner.remove_webhook_delivery(i)
    }
    fn webhook_deliveries(&self) -> Result<Vec<(WebhookDeliveryId, Vec<u8>)>, StoreError> {
        self.inner.webhook_deliveries()
    }
}

/// Every evidence index the sessions' stored states account for, in order.
fn journalled_evidence(store: &dyn Store) -> Vec<u64> {
    let mut all = Vec::new();
    for status in ["open", "completed", "declined", "cancelled", "expired"] {
        for id in store.sessions_with_status(status).unwrap() {
            let record = store.session(&id).unwrap().unwrap();
            match journal::decode_stored(&record.state).unwrap() {
                journal::Stored::Snapshot { evidence, .. } => all.extend(evidence),
                journal::Stored::Journal(_) => panic!("this version writes snapshots"),
            }
        }
    }
    all.sort_unstable();
    all
}

#[test]
fn a_crash_at_the_journal_write_does_not_duplicate_evidence_on_retry() {
    let root = tempfile::tempdir().unwrap();
    let (dir, _) = create(root.path(), "Brand", &[]);
    let (other, _) = create(root.path(), "Supplier", &[]);
    let store = Arc::new(CrashAtJournal {
        inner: SledStore::open(dir.join("store")).unwrap(),
        crash: AtomicBool::new(false),
    });
    let open =
        || Service::with_store(&dir, NodeConfig::load(&dir).unwrap(), store.clone()).unwrap();
    let supplier = {
        let s = Service::open(&other).unwrap();
        let party = s.party();
        let log = s.own_key_log().unwrap();
        drop(s);
        open().import_key_log(&log).unwrap();
        party
    };
    let brand = open();
    let id = brand
        .create_session(one_signer(
            "Crash at the journal",
            supplier,
            b"%PDF".to_vec(),
        ))
        .unwrap();
    let before = brand.evidence_len().unwrap();
    assert!(before > 0);
    assert_eq!(
        journalled_evidence(&*store),
        (0..before).collect::<Vec<_>>()
    );

    // The power goes at the journal write of a cancellation.
    store.crash.store(true, Ordering::SeqCst);
    assert!(matches!(
        brand.cancel(id, "wrong price"),
        Err(ServiceError::Store(_))
    ));
    drop(brand);
    store.crash.store(false, Ordering::SeqCst);
    assert_eq!(
        store.evidence_len().unwrap(),
        before,
        "nothing of the step is on disk"
    );

    // Restarted, the node still has the session open; the operator cancels again.
    let brand = open();
    assert_eq!(brand.session(id).unwrap().status, "open");
    assert_eq!(brand.evidence_len().unwrap(), before);
    brand.cancel(id, "wrong price").unwrap();
    let after = brand.evidence_len().unwrap();
    assert!(after > before, "the cancellation is logged");
    assert_eq!(
        journalled_evidence(&*store),
        (0..after).collect::<Vec<_>>(),
        "every evidence entry belongs to exactly one journal entry: none orphaned, none twice"
    );
    // And after another restart the log and the session agree.
    drop(brand);
    let brand = open();
    assert_eq!(brand.session(id).unwrap().status, "cancelled");
    assert_eq!(brand.evidence_len().unwrap(), after);
}
