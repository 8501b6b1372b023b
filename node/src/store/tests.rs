//! The same behaviour checked on every [`Store`] implementation.

use std::io::{Cursor, Read};

use signet_protocol::Digest;
use signet_protocol::party::PartyId;
use signet_protocol::session::SessionId;

use super::postgres_test_server::fresh_database;
use super::*;

fn party(n: u8) -> PartyId {
    PartyId::from_digest(Digest::of(&[n]))
}

fn key_logs(store: &dyn Store) {
    let (a, b) = (party(1), party(2));
    assert!(store.key_events(&a).unwrap().is_empty());
    store.append_key_event(&a, 0, b"a0").unwrap();
    store.append_key_event(&a, 1, b"a1").unwrap();
    store.append_key_event(&b, 0, b"b0").unwrap();
    let err = store.append_key_event(&a, 3, b"a3").unwrap_err();
    assert!(matches!(
        err,
        StoreError::OutOfOrder {
            expected: 2,
            got: 3,
            ..
        }
    ));
    assert!(store.append_key_event(&a, 1, b"again").is_err());
    assert_eq!(
        store.key_events(&a).unwrap(),
        vec![b"a0".to_vec(), b"a1".to_vec()]
    );
    assert_eq!(store.key_events(&b).unwrap(), vec![b"b0".to_vec()]);
    let mut parties = vec![a, b];
    parties.sort();
    assert_eq!(store.key_log_parties().unwrap(), parties);
}

fn attestations(store: &dyn Store) {
    let (one, two, three) = (b"one".as_slice(), b"two".as_slice(), b"three".as_slice());
    for bytes in [two, one, three, one] {
        store.put_attestation(&Digest::of(bytes), bytes).unwrap();
    }
    // By digest, each once.
    let mut expected = vec![one, two, three];
    expected.sort_by_key(|b| Digest::of(b));
    assert_eq!(store.attestations().unwrap(), expected);
    store.remove_attestation(&Digest::of(two)).unwrap();
    store
        .remove_attestation(&Digest::of(b"never stored"))
        .unwrap();
    expected.retain(|b| *b != two);
    assert_eq!(store.attestations().unwrap(), expected);
}

fn sessions(store: &dyn Store) {
    let (x, y) = (
        SessionId::from_bytes([1; 32]),
        SessionId::from_bytes([2; 32]),
    );
    let record = |status: &str, state: &[u8]| SessionRecord {
        status: status.into(),
        state: state.to_vec(),
    };
    store.put_session(&x, &record("open", b"x1")).unwrap();
    store.put_session(&y, &record("open", b"y1")).unwrap();
    assert_eq!(store.sessions_with_status("open").unwrap(), vec![x, y]);
    store.put_session(&x, &record("completed", b"x2")).unwrap();
    assert_eq!(store.session(&x).unwrap(), Some(record("completed", b"x2")));
    assert_eq!(store.sessions_with_status("open").unwrap(), vec![y]);
    assert_eq!(store.sessions_with_status("completed").unwrap(), vec![x]);
    assert!(store.sessions_with_status("op").unwrap().is_empty());
    // Pages by id, after a cursor; counts from the index.
    let z = SessionId::from_bytes([4; 32]);
    store.put_session(&z, &record("open", b"z1")).unwrap();
    assert_eq!(store.sessions_page("open", None, 1).unwrap(), vec![y]);
    assert_eq!(store.sessions_page("open", Some(&y), 5).unwrap(), vec![z]);
    assert_eq!(
        store.sessions_page("open", Some(&x), 5).unwrap(),
        vec![y, z]
    );
    assert!(store.sessions_page("open", Some(&z), 5).unwrap().is_empty());
    assert!(store.sessions_page("ope", None, 5).unwrap().is_empty());
    assert_eq!(store.count_sessions("open").unwrap(), 2);
    assert_eq!(store.count_sessions("completed").unwrap(), 1);
    assert_eq!(store.count_sessions("expired").unwrap(), 0);
    assert_eq!(store.meta("layout").unwrap(), None);
    let z_id = SessionId::from_bytes([0xee; 32]);
    assert_eq!(
        store.sessions_of(&[x, z_id, x]).unwrap(),
        vec![store.session(&x).unwrap(), None, store.session(&x).unwrap()],
        "in the order asked, None where absent"
    );
    assert!(store.meta_names().unwrap().is_empty());
    store.put_meta("layout", b"2").unwrap();
    store.put_meta("a-first", b"").unwrap();
    assert_eq!(store.meta("layout").unwrap(), Some(b"2".to_vec()));
    assert_eq!(store.meta_names().unwrap(), vec!["a-first", "layout"]);
    assert_eq!(
        store.session(&SessionId::from_bytes([3; 32])).unwrap(),
        None
    );
    let long = "x".repeat(MAX_STATUS_LEN + 1);
    assert!(matches!(
        store.put_session(&x, &record(&long, b"")),
        Err(StoreError::InvalidStatus { .. })
    ));
    assert!(store.put_session(&x, &record("a\0b", b"")).is_err());
}

/// Deterministic pseudo-random bytes, so a document has distinct chunks.
fn document_bytes(len: usize) -> Vec<u8> {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

fn documents(store: &dyn Store) {
    assert!(store.documents().unwrap().is_empty());
    let mut stored = Vec::new();
    for len in [0, 1, CHUNK_SIZE, CHUNK_SIZE + 1, 3 * CHUNK_SIZE + 17] {
        let bytes = document_bytes(len);
        let (digest, manifest) = put_document(store, &mut Cursor::new(&bytes)).unwrap();
        assert_eq!(digest, Digest::of(&bytes));
        assert_eq!(manifest.len(), len as u64);
        assert_eq!(manifest.chunks().len(), len.div_ceil(CHUNK_SIZE));
        let mut reader = DocumentReader::open(store, &digest).unwrap().unwrap();
        let mut back = Vec::new();
        reader.read_to_end(&mut back).unwrap();
        assert!(back == bytes, "document of {len} bytes round-trips");
        // Storing it again is harmless.
        put_document(store, &mut Cursor::new(&bytes)).unwrap();
        stored.push(digest);
    }
    stored.sort();
    assert_eq!(
        store.documents().unwrap(),
        stored,
        "every whole document, in digest order"
    );
    let absent = Digest::of(b"not stored");
    assert_eq!(
        store
            .documents_present(&[stored[1], absent, stored[0]])
            .unwrap(),
        vec![true, false, true]
    );
    assert!(
        DocumentReader::open(store, &Digest::of(b"absent"))
            .unwrap()
            .is_none()
    );
}

#[test]
fn a_document_over_the_chunk_limit_is_refused_and_nothing_of_it_is_kept() {
    let store = MemoryStore::new();
    let bytes = document_bytes(3 * CHUNK_SIZE + 1);
    let mut writer = DocumentWriter::with_max_chunks(&store, 3);
    let written = std::io::Write::write_all(&mut writer, &bytes)
        .map_err(|e| e.downcast::<StoreError>().map(|s| s.to_string()));
    let refused = match written {
        Err(e) => e.unwrap(),
        Ok(()) => writer.finish().unwrap_err().to_string(),
    };
    assert!(refused.contains('3'), "{refused}");
    assert!(store.manifest(&Digest::of(&bytes)).unwrap().is_none());
    // At the limit it is taken.
    let bytes = document_bytes(3 * CHUNK_SIZE);
    let mut writer = DocumentWriter::with_max_chunks(&store, 3);
    std::io::Write::write_all(&mut writer, &bytes).unwrap();
    assert_eq!(writer.finish().unwrap().0, Digest::of(&bytes));
}

#[test]
fn sled_keeps_document_chunks_in_files_and_syncs_them_with_the_manifest() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = document_bytes(2 * CHUNK_SIZE + 9);
    let digest = {
        let store = SledStore::open(dir.path()).unwrap();
        let (digest, manifest) = put_document(&store, &mut Cursor::new(&bytes)).unwrap();
        for chunk in manifest.chunks() {
            let hex = chunk.to_hex();
            let file = dir.path().join("chunks").join(&hex[..2]).join(&hex);
            assert!(file.is_file(), "chunk file {}", file.display());
        }
        // A chunk staged for a document never finished is not kept under `tmp/`.
        std::fs::write(dir.path().join("chunks/tmp/leftover"), b"x").unwrap();
        // A manifest naming a chunk that is not there is refused.
        let missing = Manifest::new(1, vec![Digest::of(b"absent")]).unwrap();
        assert!(store.put_manifest(&Digest::of(b"doc"), &missing).is_err());
        assert!(store.manifest(&Digest::of(b"doc")).unwrap().is_none());
        digest
    };
    let store = SledStore::open(dir.path()).unwrap();
    assert_eq!(
        std::fs::read_dir(dir.path().join("chunks/tmp"))
            .unwrap()
            .count(),
        0
    );
    let mut back = Vec::new();
    DocumentReader::open(&store, &digest)
        .unwrap()
        .unwrap()
        .read_to_end(&mut back)
        .unwrap();
    assert!(back == bytes);
}

fn corrupt_chunk_is_detected(store: &dyn Store, overwrite: &dyn Fn(&Digest, &[u8])) {
    let bytes = document_bytes(CHUNK_SIZE + 5);
    let (digest, manifest) = put_document(store, &mut Cursor::new(&bytes)).unwrap();
    // Storing a chunk again keeps the first copy (content addressing).
    store.put_chunk(&manifest.chunks()[1], b"wrong").unwrap();
    let reader = DocumentReader::open(store, &digest).unwrap().unwrap();
    assert_eq!(reader.chunk(1).unwrap().unwrap(), bytes[CHUNK_SIZE..]);
    // Damage the stored bytes behind the store's back: the reader notices.
    overwrite(&manifest.chunks()[1], b"wrong");
    assert!(reader.chunk(0).unwrap().is_some());
    assert!(matches!(
        reader.chunk(1),
        Err(StoreError::BadChunk { index: 1, .. })
    ));
    assert_eq!(reader.chunk(2).unwrap(), None);
    let mut sink = Vec::new();
    let mut reader = DocumentReader::open(store, &digest).unwrap().unwrap();
    assert!(reader.read_to_end(&mut sink).is_err());
}

#[test]
fn memory_store_detects_a_corrupt_chunk() {
    let store = MemoryStore::new();
    corrupt_chunk_is_detected(&store, &|d, b| store.overwrite_chunk(d, b));
}

#[test]
fn sled_store_detects_a_corrupt_chunk() {
    let dir = tempfile::tempdir().unwrap();
    let store = SledStore::open(dir.path()).unwrap();
    corrupt_chunk_is_detected(&store, &|d, b| store.overwrite_chunk(d, b));
}

#[test]
fn postgres_store_detects_a_corrupt_chunk() {
    let Some(db) = fresh_database("corrupt_chunk") else {
        return;
    };
    let store = PostgresStore::open(db.url(), 2).unwrap();
    corrupt_chunk_is_detected(&store, &|d, b| store.overwrite_chunk(d, b));
}

#[test]
fn postgres_refuses_a_manifest_whose_chunks_are_not_stored() {
    let Some(db) = fresh_database("manifest_without_chunks") else {
        return;
    };
    let store = PostgresStore::open(db.url(), 2).unwrap();
    let missing = Manifest::new(1, vec![Digest::of(b"absent")]).unwrap();
    assert!(matches!(
        store.put_manifest(&Digest::of(b"doc"), &missing),
        Err(StoreError::Corrupt {
            table: "chunks",
            ..
        })
    ));
    assert!(store.manifest(&Digest::of(b"doc")).unwrap().is_none());
}

fn evidence(store: &dyn Store) {
    assert_eq!(store.evidence_len().unwrap(), 0);
    for i in 0..300u64 {
        assert_eq!(store.append_evidence(&i.to_be_bytes()).unwrap(), i);
    }
    assert_eq!(store.evidence_len().unwrap(), 300);
    assert_eq!(
        store.evidence(256).unwrap(),
        Some(256u64.to_be_bytes().to_vec())
    );
    assert_eq!(store.evidence(300).unwrap(), None);
    let range = store.evidence_range(254, 302).unwrap();
    let expected: Vec<Vec<u8>> = (254..300u64).map(|i| i.to_be_bytes().to_vec()).collect();
    assert_eq!(range, expected, "a range stops where the log ends");
    assert!(store.evidence_range(300, 400).unwrap().is_empty());
    // A batch lands at the log's length, in one piece, or not at all.
    let batch: Vec<Vec<u8>> = (300..310u64).map(|i| i.to_be_bytes().to_vec()).collect();
    assert!(matches!(
        store.append_evidence_batch(299, &batch),
        Err(StoreError::OutOfOrder { .. })
    ));
    assert_eq!(store.evidence_len().unwrap(), 300);
    store.append_evidence_batch(300, &batch).unwrap();
    assert_eq!(store.evidence_range(300, 310).unwrap(), batch);

    // Block hashes: kept by index, read back up to the first one missing, replaceable.
    assert!(store.evidence_blocks().unwrap().is_empty());
    let hash = |n: u8| Digest::of(&[n]);
    store.put_evidence_block(0, &hash(0)).unwrap();
    store.put_evidence_block(1, &hash(1)).unwrap();
    store.put_evidence_block(3, &hash(3)).unwrap();
    assert_eq!(store.evidence_blocks().unwrap(), vec![hash(0), hash(1)]);
    store.put_evidence_block(1, &hash(9)).unwrap();
    store.put_evidence_block(2, &hash(2)).unwrap();
    assert_eq!(
        store.evidence_blocks().unwrap(),
        vec![hash(0), hash(9), hash(2), hash(3)]
    );
}

fn outbox(store: &dyn Store) {
    let (a, b) = (party(1), party(2));
    let key = |recipient, seq| OutboxKey { recipient, seq };
    store.put_outbox(&key(b, 1), b"b1").unwrap();
    store.put_outbox(&key(a, 2), b"a2").unwrap();
    store.put_outbox(&key(a, 300), b"a300").unwrap();
    store.put_outbox(&key(a, 3), b"a3").unwrap();
    store.remove_outbox(&key(a, 2)).unwrap();
    store.remove_outbox(&key(a, 2)).unwrap();
    assert_eq!(
        store.outbox_entry(&key(a, 3)).unwrap().as_deref(),
        Some(&b"a3"[..])
    );
    assert_eq!(store.outbox_entry(&key(a, 2)).unwrap(), None);
    store
        .put_outbox_batch(&[(key(b, 7), b"b7".to_vec()), (key(a, 8), b"a8".to_vec())])
        .unwrap();
    assert_eq!(
        store.outbox_entry(&key(b, 7)).unwrap().as_deref(),
        Some(&b"b7"[..])
    );
    store.remove_outbox(&key(b, 7)).unwrap();
    store.remove_outbox(&key(a, 8)).unwrap();
    let entries = store.outbox_entries().unwrap();
    let mut expected = vec![
        (key(a, 3), b"a3".to_vec()),
        (key(a, 300), b"a300".to_vec()),
        (key(b, 1), b"b1".to_vec()),
    ];
    expected.sort();
    assert_eq!(entries, expected);
}

fn webhooks(store: &dyn Store) {
    let (x, y) = (WebhookDeliveryId([2; 16]), WebhookDeliveryId([1; 16]));
    store.put_webhook_delivery(&x, b"x").unwrap();
    store.put_webhook_delivery(&y, b"y").unwrap();
    store.put_webhook_delivery(&x, b"x2").unwrap();
    assert_eq!(
        store.webhook_deliveries().unwrap(),
        vec![(y, b"y".to_vec()), (x, b"x2".to_vec())]
    );
    store.remove_webhook_delivery(&y).unwrap();
    assert_eq!(
        store.webhook_deliveries().unwrap(),
        vec![(x, b"x2".to_vec())]
    );
}

fn session_steps(store: &dyn Store) {
    let id = SessionId::from_bytes([7; 32]);
    store.append_evidence(b"e0").unwrap();
    let open = SessionRecord {
        status: "open".into(),
        state: b"journal 1".to_vec(),
    };
    let hook = (WebhookDeliveryId([1; 16]), b"delivery".to_vec());
    let queued = OutboxKey {
        recipient: party(3),
        seq: 77,
    };
    store
        .commit_session_step(&SessionStep {
            session: &id,
            record: &open,
            evidence_from: 1,
            evidence: &[b"e1".to_vec(), b"e2".to_vec()],
            webhooks: std::slice::from_ref(&hook),
            outbox: &[(queued, b"message".to_vec())],
        })
        .unwrap();
    assert_eq!(store.evidence_len().unwrap(), 3);
    assert_eq!(
        store.outbox_entry(&queued).unwrap().as_deref(),
        Some(&b"message"[..])
    );
    assert_eq!(store.evidence(2).unwrap(), Some(b"e2".to_vec()));
    assert_eq!(store.session(&id).unwrap(), Some(open));
    assert_eq!(store.sessions_with_status("open").unwrap(), vec![id]);
    assert_eq!(store.webhook_deliveries().unwrap(), vec![hook]);
    // A step that names the wrong evidence position is refused whole.
    let done = SessionRecord {
        status: "completed".into(),
        state: b"journal 2".to_vec(),
    };
    let stale = SessionStep {
        session: &id,
        record: &done,
        evidence_from: 2,
        evidence: &[b"e3".to_vec()],
        webhooks: &[],
        outbox: &[],
    };
    assert!(matches!(
        store.commit_session_step(&stale),
        Err(StoreError::OutOfOrder {
            expected: 3,
            got: 2,
            ..
        })
    ));
    assert_eq!(store.evidence_len().unwrap(), 3);
    assert_eq!(store.sessions_with_status("completed").unwrap(), vec![]);
    // A step without evidence moves the status index with the record.
    store
        .commit_session_step(&SessionStep {
            evidence_from: 3,
            evidence: &[],
            ..stale
        })
        .unwrap();
    assert_eq!(store.sessions_with_status("open").unwrap(), vec![]);
    assert_eq!(store.sessions_with_status("completed").unwrap(), vec![id]);
    assert_eq!(store.evidence_len().unwrap(), 3);
}

macro_rules! on_every_store {
    ($($name:ident),* $(,)?) => {
        mod memory {
            $( #[test] fn $name() { super::$name(&super::MemoryStore::new()); } )*
        }
        mod sled {
            $( #[test] fn $name() {
                let dir = tempfile::tempdir().unwrap();
                super::$name(&super::SledStore::open(dir.path()).unwrap());
            } )*
        }
        mod postgres {
            $( #[test] fn $name() {
                let Some(db) = super::fresh_database(stringify!($name)) else { return };
                super::$name(&super::PostgresStore::open(db.url(), 2).unwrap());
            } )*
        }
    };
}

on_every_store!(
    key_logs,
    attestations,
    sessions,
    documents,
    evidence,
    outbox,
    webhooks,
    session_steps,
);

#[tokio::test]
async fn documents_stream_in_from_an_async_reader() {
    let store = MemoryStore::new();
    let bytes = document_bytes(2 * CHUNK_SIZE + 9);
    let (digest, manifest) = put_document_async(&store, &mut &bytes[..]).await.unwrap();
    assert_eq!(digest, Digest::of(&bytes));
    assert_eq!(manifest.chunks().len(), 3);
    let mut back = Vec::new();
    DocumentReader::open(&store, &digest)
        .unwrap()
        .unwrap()
        .read_to_end(&mut back)
        .unwrap();
    assert!(back == bytes);
}

/// Writes a key event, an evidence entry, an open session and a three-chunk document, for
/// a store opened again to find ([`finds_what_was_written`]); returns the document's digest.
fn write_a_little_of_everything(store: &dyn Store, doc: &[u8]) -> Digest {
    store.append_key_event(&party(1), 0, b"e0").unwrap();
    store.append_evidence(b"ev").unwrap();
    store
        .put_session(
            &SessionId::from_bytes([5; 32]),
            &SessionRecord {
                status: "open".into(),
                state: b"s".to_vec(),
            },
        )
        .unwrap();
    put_document(store, &mut Cursor::new(doc)).unwrap().0
}

/// Checks what [`write_a_little_of_everything`] wrote, appending a second evidence entry.
fn finds_what_was_written(store: &dyn Store, digest: &Digest, doc: &[u8]) {
    assert_eq!(store.key_events(&party(1)).unwrap(), vec![b"e0".to_vec()]);
    assert_eq!(store.append_evidence(b"ev2").unwrap(), 1);
    assert_eq!(
        store.sessions_with_status("open").unwrap(),
        vec![SessionId::from_bytes([5; 32])]
    );
    let mut back = Vec::new();
    DocumentReader::open(store, digest)
        .unwrap()
        .unwrap()
        .read_to_end(&mut back)
        .unwrap();
    assert!(back == doc);
}

#[test]
fn sled_store_keeps_everything_across_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let doc = document_bytes(2 * CHUNK_SIZE + 3);
    let digest = write_a_little_of_everything(&SledStore::open(dir.path()).unwrap(), &doc);
    finds_what_was_written(&SledStore::open(dir.path()).unwrap(), &digest, &doc);
}

#[test]
fn postgres_store_keeps_everything_across_reopen_and_a_second_open_migrates_nothing() {
    let Some(db) = fresh_database("reopen") else {
        return;
    };
    let doc = document_bytes(2 * CHUNK_SIZE + 3);
    let digest = write_a_little_of_everything(&PostgresStore::open(db.url(), 1).unwrap(), &doc);
    // Two stores at once on one database (as two nodes would be during a failover):
    // opening runs the migrations under a lock, and finds nothing left to do.
    let store = PostgresStore::open(db.url(), 2).unwrap();
    let other = PostgresStore::open(db.url(), 1).unwrap();
    finds_what_was_written(&store, &digest, &doc);
    assert_eq!(other.evidence(1).unwrap(), Some(b"ev2".to_vec()));
}

/// Session steps racing for the same evidence index, from many threads and two stores
/// (two processes' worth of connections): each index is taken exactly once, a loser gets
/// `OutOfOrder` and stores nothing, and retrying at the new length lands every step.
#[test]
fn postgres_session_steps_race_for_evidence_indices_and_none_is_lost() {
    let Some(db) = fresh_database("racing_steps") else {
        return;
    };
    let stores = [
        std::sync::Arc::new(PostgresStore::open(db.url(), 3).unwrap()),
        std::sync::Arc::new(PostgresStore::open(db.url(), 3).unwrap()),
    ];
    const THREADS: u8 = 6;
    const STEPS: u8 = 10;
    let refused = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let store = stores[usize::from(t) % 2].clone();
            let refused = refused.clone();
            std::thread::spawn(move || {
                for s in 0..STEPS {
                    let id = SessionId::from_bytes([t * STEPS + s + 1; 32]);
                    let record = SessionRecord {
                        status: "open".into(),
                        state: vec![t, s],
                    };
                    let evidence = [vec![t, s, 0], vec![t, s, 1]];
                    let outbox = [(
                        OutboxKey {
                            recipient: party(t),
                            seq: u64::from(s),
                        },
                        vec![t, s],
                    )];
                    loop {
                        let from = store.evidence_len().unwrap();
                        match store.commit_session_step(&SessionStep {
                            session: &id,
                            record: &record,
                            evidence_from: from,
                            evidence: &evidence,
                            webhooks: &[],
                            outbox: &outbox,
                        }) {
                            Ok(()) => break,
                            Err(StoreError::OutOfOrder { got, .. }) => {
                                assert_eq!(got, from);
                                refused.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                                assert_eq!(store.session(&id).unwrap(), None);
                            }
                            Err(e) => panic!("{e}"),
                        }
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let store = &stores[0];
    let steps = u64::from(THREADS) * u64::from(STEPS);
    assert_eq!(store.evidence_len().unwrap(), 2 * steps);
    assert_eq!(store.count_sessions("open").unwrap(), steps);
    assert_eq!(store.outbox_entries().unwrap().len() as u64, steps);
    // Every step's two entries are stored, next to each other, each exactly once.
    let mut seen = std::collections::BTreeSet::new();
    for i in (0..2 * steps).step_by(2) {
        let first = store.evidence(i).unwrap().unwrap();
        let second = store.evidence(i + 1).unwrap().unwrap();
        assert_eq!(
            (first[..2].to_vec(), first[2], second[2]),
            (second[..2].to_vec(), 0, 1)
        );
        assert!(
            seen.insert(first[..2].to_vec()),
            "step {:?} logged twice",
            &first[..2]
        );
    }
    assert_eq!(seen.len() as u64, steps);
    eprintln!(
        "{} steps refused as out of order and retried",
        refused.load(std::sync::atomic::Ordering::Relaxed)
    );
}

/// What the store acknowledged is there after the server crashes (every server process
/// ended at once, no checkpoint, the WAL replayed at the next start); while the server is
/// down calls fail with a backend error, and the same store reconnects once it is back.
#[test]
fn postgres_acknowledged_writes_survive_a_server_crash_and_the_store_reconnects() {
    let Some(cluster) = super::postgres_test_server::private_cluster() else {
        return;
    };
    let store = PostgresStore::open(&cluster.url("postgres"), 2).unwrap();
    let id = SessionId::from_bytes([9; 32]);
    let record = SessionRecord {
        status: "open".into(),
        state: b"snapshot".to_vec(),
    };
    let queued = OutboxKey {
        recipient: party(4),
        seq: 1,
    };
    store.append_key_event(&party(4), 0, b"k0").unwrap();
    store
        .commit_session_step(&SessionStep {
            session: &id,
            record: &record,
            evidence_from: 0,
            evidence: &[b"e0".to_vec(), b"e1".to_vec()],
            webhooks: &[(WebhookDeliveryId([3; 16]), b"hook".to_vec())],
            outbox: &[(queued, b"proposal".to_vec())],
        })
        .unwrap();
    let doc = document_bytes(CHUNK_SIZE + 100);
    let (digest, _) = put_document(&store, &mut Cursor::new(&doc)).unwrap();
    store.put_meta("layout", b"snapshots").unwrap();

    cluster.crash().unwrap();
    assert!(matches!(store.evidence_len(), Err(StoreError::Backend(_))));
    cluster.restart().unwrap();

    // Every connection of the store was broken; each opens again on its next call.
    for _ in 0..4 {
        assert_eq!(store.evidence_len().unwrap(), 2);
    }
    assert_eq!(store.key_events(&party(4)).unwrap(), vec![b"k0".to_vec()]);
    assert_eq!(store.evidence(1).unwrap(), Some(b"e1".to_vec()));
    assert_eq!(store.session(&id).unwrap(), Some(record));
    assert_eq!(store.sessions_with_status("open").unwrap(), vec![id]);
    assert_eq!(
        store.outbox_entry(&queued).unwrap().as_deref(),
        Some(&b"proposal"[..])
    );
    assert_eq!(store.webhook_deliveries().unwrap().len(), 1);
    assert_eq!(store.meta("layout").unwrap(), Some(b"snapshots".to_vec()));
    let mut back = Vec::new();
    DocumentReader::open(&store, &digest)
        .unwrap()
        .unwrap()
        .read_to_end(&mut back)
        .unwrap();
    assert!(back == doc);
    // And it takes writes again, at the right place.
    assert_eq!(store.append_evidence(b"e2").unwrap(), 2);
}

#[test]
fn concurrent_writers_share_flushes_and_all_land() {
    let dir = tempfile::tempdir().unwrap();
    let store = std::sync::Arc::new(SledStore::open(dir.path()).unwrap());
    let threads: Vec<_> = (0..8u8)
        .map(|t| {
            let store = store.clone();
            std::thread::spawn(move || {
                for i in 0..50u64 {
                    store
                        .put_outbox(
                            &OutboxKey {
                                recipient: party(t),
                                seq: i,
                            },
                            &[t],
                        )
                        .unwrap();
                    store.append_evidence(&[t]).unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(store.outbox_entries().unwrap().len(), 400);
    assert_eq!(store.evidence_len().unwrap(), 400);
    // 800 acknowledged writes, fewer syncs: concurrent writers shared them.
    let rounds = store.flushes().unwrap();
    assert!(rounds < 600, "{rounds} sync rounds for 800 writes");
}

#[test]
fn sled_store_open_waits_for_the_previous_handle_to_let_go() {
    let dir = tempfile::tempdir().unwrap();
    let first = SledStore::open(dir.path()).unwrap();
    first.append_evidence(b"one").unwrap();
    let closer = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(300));
        drop(first);
    });
    // The directory is locked for ~300 ms; open waits instead of failing.
    let second = SledStore::open(dir.path()).unwrap();
    closer.join().unwrap();
    assert_eq!(second.evidence(0).unwrap().as_deref(), Some(&b"one"[..]));
}

#[test]
fn sled_blob_files_are_synced_too() {
    let dir = tempfile::tempdir().unwrap();
    let store = SledStore::open(dir.path()).unwrap();
    // Values over a quarter of a segment exceed sled's inline limit: they become blob files.
    for i in 0..3u8 {
        store
            .append_evidence(&document_bytes(
                crate::store::SEGMENT_BYTES / 4 + usize::from(i),
            ))
            .unwrap();
    }
    let blobs = std::fs::read_dir(dir.path().join("blobs")).unwrap().count();
    assert!(blobs >= 3, "{blobs} blob files");
    assert!(store.synced_blob_count() >= 3);
}

#[test]
fn a_new_sled_store_takes_the_larger_segments_and_an_old_one_keeps_its_own() {
    let segment = |dir: &std::path::Path| {
        let conf = std::fs::read(dir.join("conf")).unwrap();
        String::from_utf8_lossy(&conf)
            .lines()
            .find_map(|l| {
                l.strip_prefix("segment_size: ")?
                    .trim()
                    .parse::<usize>()
                    .ok()
            })
            .unwrap()
    };
    let new = tempfile::tempdir().unwrap();
    drop(SledStore::open(new.path()).unwrap());
    assert_eq!(segment(new.path()), crate::store::SEGMENT_BYTES);
    let reopened = SledStore::open(new.path()).unwrap();
    reopened.put_meta("k", b"v").unwrap();

    // A store created with sled's default segments (as every store was before) opens as it is.
    let old = tempfile::tempdir().unwrap();
    {
        let db = ::sled::Config::new().path(old.path()).open().unwrap();
        db.insert(b"x", b"y").unwrap();
        db.flush().unwrap();
    }
    let default = segment(old.path());
    assert_ne!(default, crate::store::SEGMENT_BYTES);
    let store = SledStore::open(old.path()).unwrap();
    store.put_meta("k", b"v").unwrap();
    assert_eq!(store.meta("k").unwrap().as_deref(), Some(&b"v"[..]));
    drop(store);
    assert_eq!(segment(old.path()), default);
}
