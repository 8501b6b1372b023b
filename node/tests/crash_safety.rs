//! Acknowledged writes survive `SIGKILL`.
//!
//! The test re-executes its own binary as a child (selected by an environment variable) that
//! writes records from several threads through [`SledStore`] and prints one line per write
//! the store acknowledged. The parent kills the child with `SIGKILL` while it is still
//! writing, reopens the store and checks that every acknowledged record is present and
//! intact: outbox entries, evidence entries, sessions with their status index (written in
//! transactions), and multi-chunk documents. It does this several times on the same directory, so recovery after recovery is
//! covered too.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use std::io::Read;

use signet_node::store::{
    DocumentReader, OutboxKey, SessionRecord, SledStore, Store, put_document,
};
use signet_protocol::Digest;
use signet_protocol::party::PartyId;
use signet_protocol::session::SessionId;

const CHILD_ENV: &str = "SIGNET_CRASH_CHILD_DIR";
const ROUND_ENV: &str = "SIGNET_CRASH_ROUND";
const THREADS: u8 = 4;

fn party(thread: u8) -> PartyId {
    PartyId::from_digest(Digest::of(&[thread]))
}

/// The bytes record (round, thread, i) must hold: distinct and long enough to tear.
fn payload(round: u64, thread: u8, i: u64) -> Vec<u8> {
    let mut seed = Vec::new();
    seed.extend_from_slice(&round.to_be_bytes());
    seed.push(thread);
    seed.extend_from_slice(&i.to_be_bytes());
    let block = Digest::of(&seed);
    block.as_bytes().repeat(64)
}

fn seq(round: u64, i: u64) -> u64 {
    round << 32 | i
}

fn session_id(round: u64, thread: u8, i: u64) -> SessionId {
    let mut seed = b"session".to_vec();
    seed.extend_from_slice(&payload(round, thread, i)[..32]);
    SessionId::from_bytes(*Digest::of(&seed).as_bytes())
}

/// The session record (round, thread, i) must hold; its status alternates.
fn session_record(round: u64, thread: u8, i: u64) -> SessionRecord {
    SessionRecord {
        status: if i.is_multiple_of(2) {
            "open"
        } else {
            "completed"
        }
        .into(),
        state: payload(round, thread, i)[..100].to_vec(),
    }
}

/// A three-chunk document made from (round, i).
fn document(round: u64, i: u64) -> Vec<u8> {
    payload(round, 255, i).repeat(300)
}

/// The child: writes until killed, printing an `ack` line after each acknowledged write.
#[test]
fn crash_child() {
    let Ok(dir) = std::env::var(CHILD_ENV) else {
        return; // Not the child: nothing to do.
    };
    let round: u64 = std::env::var(ROUND_ENV).unwrap().parse().unwrap();
    let store = std::sync::Arc::new(SledStore::open(&dir).unwrap());
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let store = store.clone();
            std::thread::spawn(move || {
                let out = std::io::stdout();
                for i in 0.. {
                    let bytes = payload(round, t, i);
                    let key = OutboxKey {
                        recipient: party(t),
                        seq: seq(round, i),
                    };
                    store.put_outbox(&key, &bytes).unwrap();
                    let index = store.append_evidence(&bytes).unwrap();
                    // A session written twice: the second write moves it in the status index.
                    let id = session_id(round, t, i);
                    let mut first = session_record(round, t, i);
                    first.status = "draft".into();
                    store.put_session(&id, &first).unwrap();
                    store
                        .put_session(&id, &session_record(round, t, i))
                        .unwrap();
                    let mut line = format!("ack {t} {i} {index}\n");
                    if t == 0 && i.is_multiple_of(8) {
                        let doc = document(round, i);
                        let (digest, _) = put_document(&*store, &mut &doc[..]).unwrap();
                        assert_eq!(digest, Digest::of(&doc));
                        line = format!("ack {t} {i} {index} doc\n");
                    }
                    // One write(2) per line, so lines from threads do not interleave.
                    std::io::Write::write_all(&mut out.lock(), line.as_bytes()).unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}

#[test]
fn acknowledged_writes_survive_sigkill() {
    if std::env::var(CHILD_ENV).is_ok() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    let mut acked: Vec<(u64, u8, u64, u64)> = Vec::new();
    let mut documents: Vec<(u64, u64)> = Vec::new();
    for (round, kill_after) in [(1u64, 150usize), (2, 40), (3, 400)] {
        let mut child = Command::new(&exe)
            .args(["--exact", "crash_child", "--nocapture", "--test-threads=1"])
            .env(CHILD_ENV, dir.path())
            .env(ROUND_ENV, round.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let started = Instant::now();
        let mut seen = 0;
        for line in BufReader::new(stdout).lines() {
            let line = line.unwrap();
            let mut words = line.split_whitespace();
            if words.next() != Some("ack") {
                continue;
            }
            let words: Vec<&str> = words.collect();
            let nums: Vec<u64> = words[..3].iter().map(|w| w.parse().unwrap()).collect();
            acked.push((round, nums[0] as u8, nums[1], nums[2]));
            if words.get(3) == Some(&"doc") {
                documents.push((round, nums[1]));
            }
            seen += 1;
            if seen == kill_after {
                // SIGKILL while the other threads are mid-write.
                child.kill().unwrap();
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "child too slow"
            );
        }
        child.wait().unwrap();
        assert_eq!(seen, kill_after, "the child stopped early");

        let store = SledStore::open(dir.path()).unwrap();
        let outbox: std::collections::BTreeMap<OutboxKey, Vec<u8>> =
            store.outbox_entries().unwrap().into_iter().collect();
        for &(r, t, i, index) in &acked {
            let expected = payload(r, t, i);
            let key = OutboxKey {
                recipient: party(t),
                seq: seq(r, i),
            };
            assert_eq!(
                outbox.get(&key),
                Some(&expected),
                "outbox record {r}/{t}/{i} lost or damaged"
            );
            assert_eq!(
                store.evidence(index).unwrap().as_ref(),
                Some(&expected),
                "evidence entry {index} lost or damaged"
            );
        }
        let open = store.sessions_with_status("open").unwrap();
        let completed = store.sessions_with_status("completed").unwrap();
        for &(r, t, i, _) in &acked {
            let id = session_id(r, t, i);
            let expected = session_record(r, t, i);
            assert_eq!(store.session(&id).unwrap().as_ref(), Some(&expected));
            let index = if expected.status == "open" {
                &open
            } else {
                &completed
            };
            assert!(index.contains(&id), "status index lost session {r}/{t}/{i}");
        }
        // The index never disagrees with the records (transactions were atomic).
        for (status, ids) in [("open", &open), ("completed", &completed)] {
            for id in ids {
                assert_eq!(store.session(id).unwrap().unwrap().status, status);
            }
        }
        for &(r, i) in &documents {
            let doc = document(r, i);
            let mut back = Vec::new();
            DocumentReader::open(&store, &Digest::of(&doc))
                .unwrap()
                .expect("an acknowledged document is stored")
                .read_to_end(&mut back)
                .unwrap();
            assert!(back == doc, "document {r}/{i} damaged");
        }
        // The evidence log has no holes: every index below its length is readable.
        let len = store.evidence_len().unwrap();
        for index in 0..len {
            assert!(store.evidence(index).unwrap().is_some(), "hole at {index}");
        }
    }
}
