use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;
use signet_protocol::Digest;
use signet_protocol::party::PartyId;

use super::*;
use crate::store::{MemoryStore, SledStore};

fn party(n: u8) -> PartyId {
    PartyId::from_digest(Digest::of(&[n]))
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn msg(n: u32) -> (Digest, Vec<u8>) {
    let bytes = format!("message {n}").into_bytes();
    (Digest::of(&bytes), bytes)
}

fn outbox() -> Outbox<MemoryStore> {
    Outbox::open(Arc::new(MemoryStore::new()), OutboxConfig::default()).unwrap()
}

#[test]
fn enqueue_due_ack_removes_durably() {
    let store = Arc::new(MemoryStore::new());
    let mut o = Outbox::open(store.clone(), OutboxConfig::default()).unwrap();
    let (id, m) = msg(1);
    let key = o.enqueue(party(1), id, &m, secs(100)).unwrap().unwrap();
    assert!(o.due(secs(99), 10).unwrap().is_empty());
    let due = o.due(secs(100), 10).unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!((due[0].key, due[0].id, &due[0].message), (key, id, &m));
    assert!(o.acked(&key, secs(101)).unwrap());
    assert!(!o.acked(&key, secs(101)).unwrap());
    assert!(o.is_empty());
    assert!(store.outbox_entries().unwrap().is_empty());
    assert_eq!(o.next_due(), None);
}

#[test]
fn duplicate_enqueue_is_stored_once() {
    let mut o = outbox();
    let (id, m) = msg(1);
    assert!(o.enqueue(party(1), id, &m, secs(0)).unwrap().is_some());
    assert!(o.enqueue(party(1), id, &m, secs(0)).unwrap().is_none());
    // The same message to another recipient is another delivery.
    assert!(o.enqueue(party(2), id, &m, secs(0)).unwrap().is_some());
    assert_eq!(o.len(), 2);
}

#[test]
fn a_batch_is_stored_whole_or_not_at_all() {
    let config = OutboxConfig {
        max_per_recipient: 2,
        ..OutboxConfig::default()
    };
    let store = Arc::new(MemoryStore::new());
    let mut o = Outbox::open(store.clone(), config).unwrap();
    let (m1, m2, m3) = (msg(1), msg(2), msg(3));
    let keys = o
        .enqueue_many(
            &[
                (party(1), m1.0, &m1.1[..]),
                (party(2), m1.0, &m1.1[..]),
                (party(1), m1.0, &m1.1[..]), // repeated in the batch
                (party(1), m2.0, &m2.1[..]),
            ],
            secs(0),
        )
        .unwrap();
    assert_eq!(keys.iter().filter(|k| k.is_some()).count(), 3);
    assert!(keys[2].is_none());
    assert_eq!(store.outbox_entries().unwrap().len(), 3);
    // One message too many for party 1: nothing of the batch is stored.
    let err = o
        .enqueue_many(
            &[(party(3), m3.0, &m3.1[..]), (party(1), m3.0, &m3.1[..])],
            secs(0),
        )
        .unwrap_err();
    assert!(matches!(
        err,
        OutboxError::Full {
            limit: "max_per_recipient"
        }
    ));
    assert_eq!(store.outbox_entries().unwrap().len(), 3);
    assert_eq!(o.queued_for(&party(3)), 0);
    // FIFO holds across the batch.
    let due = o.due(secs(0), 10).unwrap();
    let for_1: Vec<_> = due.iter().filter(|a| a.key.recipient == party(1)).collect();
    assert_eq!(for_1.len(), 1);
    assert_eq!(for_1[0].id, m1.0);
}

#[test]
fn per_recipient_fifo_and_recipients_are_independent() {
    let mut o = outbox();
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let keys: Vec<_> = (0..3)
        .map(|n| {
            let (id, m) = msg(n);
            o.enqueue(party(1), id, &m, secs(0)).unwrap().unwrap()
        })
        .collect();
    let (id, m) = msg(9);
    let other = o.enqueue(party(2), id, &m, secs(0)).unwrap().unwrap();
    let due = o.due(secs(0), 10).unwrap();
    let mut got: Vec<_> = due.iter().map(|a| a.key).collect();
    got.sort();
    let mut want = vec![keys[0], other];
    want.sort();
    assert_eq!(got, want, "only each recipient's head is due");
    // Party 1 fails: party 2 is unaffected; party 1's later messages wait behind its head.
    o.failed(&keys[0], secs(0), &mut rng).unwrap().unwrap();
    assert!(o.acked(&other, secs(0)).unwrap());
    assert!(o.due(secs(0), 10).unwrap().is_empty());
    let due = o.due(secs(10), 10).unwrap();
    assert_eq!(due.iter().map(|a| a.key).collect::<Vec<_>>(), vec![keys[0]]);
    assert_eq!(due[0].failures, 1);
    o.acked(&keys[0], secs(10)).unwrap();
    let due = o.due(secs(10), 10).unwrap();
    assert_eq!(due.iter().map(|a| a.key).collect::<Vec<_>>(), vec![keys[1]]);
    assert_eq!(due[0].failures, 0);
}

#[test]
fn failures_back_off_exponentially_up_to_the_cap() {
    let config = OutboxConfig {
        backoff: Backoff {
            initial: secs(1),
            max: secs(300),
            jitter: 0.5,
        },
        ..OutboxConfig::default()
    };
    let mut o = Outbox::open(Arc::new(MemoryStore::new()), config).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let (id, m) = msg(1);
    let key = o.enqueue(party(1), id, &m, secs(0)).unwrap().unwrap();
    let mut now = secs(0);
    for failures in 1..=20u32 {
        assert_eq!(o.due(now, 10).unwrap().len(), 1);
        let next = o.failed(&key, now, &mut rng).unwrap().unwrap();
        let nominal = secs(1 << (failures - 1).min(20)).min(secs(300));
        let delay = next - now;
        assert!(
            delay <= nominal && delay >= nominal / 2,
            "failure {failures}: {delay:?}"
        );
        assert!(
            o.due(next - Duration::from_millis(1), 10)
                .unwrap()
                .is_empty()
        );
        now = next;
    }
}

#[test]
fn an_unreported_attempt_is_due_again_after_its_lease() {
    let mut o = outbox();
    let (id, m) = msg(1);
    o.enqueue(party(1), id, &m, secs(0)).unwrap();
    assert_eq!(o.due(secs(0), 10).unwrap().len(), 1);
    assert!(o.due(secs(59), 10).unwrap().is_empty());
    assert_eq!(o.due(secs(60), 10).unwrap().len(), 1);
}

#[test]
fn limits_are_enforced() {
    let config = OutboxConfig {
        max_entries: 3,
        max_per_recipient: 2,
        max_message_len: 16,
        max_total_bytes: 40,
        ..OutboxConfig::default()
    };
    let mut o = Outbox::open(Arc::new(MemoryStore::new()), config).unwrap();
    let big = [0u8; 17];
    assert!(matches!(
        o.enqueue(party(1), Digest::of(&big), &big, secs(0)),
        Err(OutboxError::TooLarge { len: 17, max: 16 })
    ));
    let m = |n: u8| [n; 15];
    o.enqueue(party(1), Digest::of(&m(1)), &m(1), secs(0))
        .unwrap();
    o.enqueue(party(1), Digest::of(&m(2)), &m(2), secs(0))
        .unwrap();
    assert!(matches!(
        o.enqueue(party(1), Digest::of(&m(3)), &m(3), secs(0)),
        Err(OutboxError::Full {
            limit: "max_per_recipient"
        })
    ));
    assert!(matches!(
        o.enqueue(party(2), Digest::of(&m(4)), &m(4), secs(0)),
        Err(OutboxError::Full {
            limit: "max_total_bytes"
        })
    ));
    o.enqueue(party(2), Digest::of(&[1]), &[1], secs(0))
        .unwrap();
    assert!(matches!(
        o.enqueue(party(3), Digest::of(&[2]), &[2], secs(0)),
        Err(OutboxError::Full {
            limit: "max_entries"
        })
    ));
}

#[test]
fn state_survives_reopen_on_sled() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let next = {
        let store = Arc::new(SledStore::open(dir.path()).unwrap());
        let mut o = Outbox::open(store, OutboxConfig::default()).unwrap();
        for n in 0..3 {
            let (id, m) = msg(n);
            o.enqueue(party(1), id, &m, secs(0)).unwrap();
        }
        let head = o.due(secs(0), 1).unwrap().remove(0);
        o.failed(&head.key, secs(0), &mut rng).unwrap().unwrap()
    };
    let store = Arc::new(SledStore::open(dir.path()).unwrap());
    let mut o = Outbox::open(store, OutboxConfig::default()).unwrap();
    assert_eq!(o.len(), 3);
    assert_eq!(o.next_due(), Some(next));
    // The retry time and failure count survived; FIFO order too.
    assert!(
        o.due(next - Duration::from_millis(1), 10)
            .unwrap()
            .is_empty()
    );
    let head = o.due(next, 10).unwrap().remove(0);
    assert_eq!((head.message, head.failures), (msg(0).1, 1));
    // New entries continue the sequence after the old ones.
    let (id, m) = msg(7);
    let key = o.enqueue(party(1), id, &m, next).unwrap().unwrap();
    assert!(key.seq >= 3);
}

/// A counterparty is offline for six hours while the sender keeps queuing, crashes twice
/// (once after a delivery whose acknowledgement it never recorded), and restarts. When the
/// counterparty returns, everything arrives, in order, and the receiver sees each message
/// once after deduplicating by digest.
#[test]
fn counterparty_offline_for_hours_then_everything_arrives_once() {
    let config = OutboxConfig {
        backoff: Backoff {
            initial: secs(1),
            max: secs(600),
            jitter: 0.5,
        },
        ..OutboxConfig::default()
    };
    let store = Arc::new(MemoryStore::new());
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let mut o = Outbox::open(store.clone(), config.clone()).unwrap();
    let (alice, bob) = (party(1), party(2));
    let offline = secs(1_000)..secs(1_000 + 6 * 3600);

    let mut received: BTreeMap<PartyId, Vec<Digest>> = BTreeMap::new();
    let mut seen: BTreeSet<(PartyId, Digest)> = BTreeSet::new();
    let mut raw_deliveries = 0u32;
    let mut attempts_while_offline = 0u32;
    let mut sent = 0u32;
    let mut now = secs(0);
    let mut crashed_after_delivery = false;
    let end = secs(1_000 + 6 * 3600 + 3600);
    while now < end {
        // Alice's node queues a message to Bob every 10 minutes.
        if now.as_secs().is_multiple_of(600) && now.subsec_millis() == 0 {
            let (id, m) = msg(sent);
            o.enqueue(bob, id, &m, now).unwrap();
            sent += 1;
        }
        for attempt in o.due(now, 16).unwrap() {
            assert_eq!(attempt.key.recipient, bob);
            if offline.contains(&now) {
                attempts_while_offline += 1;
                o.failed(&attempt.key, now, &mut rng).unwrap();
                continue;
            }
            raw_deliveries += 1;
            if seen.insert((bob, attempt.id)) {
                received.entry(bob).or_default().push(attempt.id);
            }
            if !crashed_after_delivery && now > offline.end {
                // Crash before recording the ack: the message stays queued.
                crashed_after_delivery = true;
                o = Outbox::open(store.clone(), config.clone()).unwrap();
                continue;
            }
            o.acked(&attempt.key, now).unwrap();
        }
        if now == secs(5_000) {
            // A plain crash while Bob is offline.
            o = Outbox::open(store.clone(), config.clone()).unwrap();
        }
        now += Duration::from_millis(500);
    }
    assert!(o.is_empty(), "{} messages left", o.len());
    let expected: Vec<Digest> = (0..sent).map(|n| msg(n).0).collect();
    assert_eq!(received.get(&bob), Some(&expected), "all, in order, once");
    assert!(
        raw_deliveries > sent,
        "the crash after delivery re-sent one message"
    );
    // Backoff keeps retries sparse: a 6-hour outage costs tens of attempts, not thousands.
    assert!(
        attempts_while_offline < 120,
        "{attempts_while_offline} attempts while offline"
    );
    assert!(!received.contains_key(&alice));
}

mod properties {
    use proptest::prelude::*;

    use super::super::{DEFAULT_LANE, Entry, decode_entry, encode_entry};
    use signet_protocol::Digest;
    use std::time::Duration;

    proptest! {
        #[test]
        fn stored_entries_round_trip_and_decoding_is_total(
            id in any::<[u8; 32]>(),
            failures in any::<u32>(),
            next_ms in any::<u64>(),
            lane in any::<[u8; 32]>(),
            message in proptest::collection::vec(any::<u8>(), 0..256),
            junk in proptest::collection::vec(any::<u8>(), 0..80),
        ) {
            let id = Digest::from_bytes(id);
            let next = Duration::from_millis(next_ms);
            let bytes = encode_entry(&id, failures, next, &lane, &message);
            let entry = Entry { id, failures, next_attempt: next, lane, message: &message[..] };
            prop_assert_eq!(decode_entry(&bytes), Some(entry));
            // An entry stored before lanes (version 1) is in the default lane.
            let mut v1 = vec![1u8];
            v1.extend_from_slice(&bytes[1..45]);
            v1.extend_from_slice(&message);
            let entry = Entry { id, failures, next_attempt: next, lane: DEFAULT_LANE, message: &message[..] };
            prop_assert_eq!(decode_entry(&v1), Some(entry));
            let _ = decode_entry(&junk);
        }
    }
}

#[test]
fn a_planned_batch_is_scheduled_only_once_applied_and_reloads_once_stored() {
    let store = Arc::new(MemoryStore::new());
    let mut o = Outbox::open(store.clone(), OutboxConfig::default()).unwrap();
    let (a, ma) = msg(1);
    let (b, mb) = msg(2);
    let planned = o
        .plan(&[(party(1), a, &ma), (party(2), b, &mb)], secs(10))
        .unwrap();
    assert_eq!(planned.entries.len(), 2);
    // Planning changes nothing: not queued, not due, not stored.
    assert!(o.is_empty());
    assert!(o.due(secs(10), 10).unwrap().is_empty());
    assert!(store.outbox_entries().unwrap().is_empty());
    // The caller stores the entries in its own commit, then applies.
    store.put_outbox_batch(&planned.entries).unwrap();
    let keys = o.apply(planned);
    assert_eq!(keys.iter().flatten().count(), 2);
    assert_eq!(o.len(), 2);
    assert_eq!(o.due(secs(10), 10).unwrap().len(), 2);
    // What was stored is what a restarted outbox finds.
    let reopened = Outbox::open(store, OutboxConfig::default()).unwrap();
    assert_eq!(reopened.len(), 2);
    // A message already queued is planned as nothing.
    let again = o.plan(&[(party(1), a, &ma)], secs(11)).unwrap();
    assert!(again.entries.is_empty());
}

fn lane(n: u8) -> Lane {
    [n; 32]
}

#[test]
fn lanes_of_one_recipient_go_side_by_side_each_in_order_up_to_the_limit() {
    let store = Arc::new(MemoryStore::new());
    let config = OutboxConfig {
        max_in_flight_per_recipient: 2,
        ..OutboxConfig::default()
    };
    let mut o = Outbox::open(store.clone(), config.clone()).unwrap();
    let m: Vec<(Digest, Vec<u8>)> = (0..5).map(msg).collect();
    // Lane 1: messages 0 and 1; lane 2: message 2; lane 3: message 3; another recipient: 4.
    let planned = o
        .plan_in_lanes(
            &[
                (party(1), m[0].0, lane(1), &m[0].1),
                (party(1), m[1].0, lane(1), &m[1].1),
                (party(1), m[2].0, lane(2), &m[2].1),
                (party(1), m[3].0, lane(3), &m[3].1),
                (party(2), m[4].0, lane(1), &m[4].1),
            ],
            secs(10),
        )
        .unwrap();
    store.put_outbox_batch(&planned.entries).unwrap();
    o.apply(planned);
    assert_eq!(o.queued_for(&party(1)), 4);
    // Two lanes of party 1 at once (lane 1's head, lane 2), and party 2's.
    let due = o.due(secs(10), 10).unwrap();
    let ids: Vec<Digest> = due.iter().map(|a| a.id).collect();
    assert_eq!(due.len(), 3, "{ids:?}");
    assert!(ids.contains(&m[0].0) && ids.contains(&m[4].0));
    assert!(
        !ids.contains(&m[1].0),
        "a lane's second message waits for its first"
    );
    // Nothing more until one is acknowledged: the limit holds, lane order holds.
    assert!(o.due(secs(11), 10).unwrap().is_empty());
    assert_eq!(
        o.next_due(),
        Some(secs(10 + 60)),
        "only the leases' expiry is ahead"
    );
    let first = due.iter().find(|a| a.id == m[0].0).unwrap();
    o.acked(&first.key, secs(12)).unwrap();
    let next: Vec<Digest> = o.due(secs(12), 10).unwrap().iter().map(|a| a.id).collect();
    assert_eq!(next.len(), 1);
    assert!(next[0] == m[1].0 || next[0] == m[3].0, "{next:?}");
    // A restart keeps each message in its lane.
    let mut again = Outbox::open(store, config).unwrap();
    assert_eq!(again.queued_for(&party(1)), 3);
    let after: Vec<Digest> = again
        .due(secs(13), 10)
        .unwrap()
        .iter()
        .map(|a| a.id)
        .collect();
    assert!(!after.contains(&m[1].0) || !after.contains(&m[0].0));
    assert_eq!(
        after.len(),
        3,
        "two lanes of party 1 and party 2: {after:?}"
    );
}

#[test]
fn a_failing_recipient_is_probed_by_one_lane_at_a_time_until_it_answers() {
    let mut o = Outbox::open(
        Arc::new(MemoryStore::new()),
        OutboxConfig {
            max_in_flight_per_recipient: 8,
            ..OutboxConfig::default()
        },
    )
    .unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let m: Vec<(Digest, Vec<u8>)> = (0..3).map(msg).collect();
    let batch: Vec<(PartyId, Digest, Lane, &[u8])> = m
        .iter()
        .enumerate()
        .map(|(i, (id, bytes))| (party(1), *id, lane(i as u8), &bytes[..]))
        .collect();
    let planned = o.plan_in_lanes(&batch, secs(0)).unwrap();
    o.store.put_outbox_batch(&planned.entries).unwrap();
    o.apply(planned);
    let due = o.due(secs(0), 10).unwrap();
    assert_eq!(due.len(), 3);
    // The first fails: the other lanes' attempts still report back, but nothing new goes
    // out before the retry time, and then only one probe.
    let retry = o.failed(&due[0].key, secs(1), &mut rng).unwrap().unwrap();
    o.failed(&due[1].key, secs(1), &mut rng).unwrap();
    o.failed(&due[2].key, secs(1), &mut rng).unwrap();
    let latest = o.failing[&party(1)];
    assert!(latest >= retry);
    assert!(
        o.due(latest - Duration::from_millis(1), 10)
            .unwrap()
            .is_empty()
    );
    let probe = o.due(latest + secs(600), 10).unwrap();
    assert_eq!(probe.len(), 1, "one probe while failing");
    // It answers: every lane goes again.
    o.acked(&probe[0].key, latest + secs(600)).unwrap();
    assert_eq!(o.due(latest + secs(600), 10).unwrap().len(), 2);
}
