//! Real swarms on loopback: TCP and QUIC, messages, documents, refusals, gossip, Kademlia.

use std::io::{Cursor, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use signet_protocol::error::ErrorCode;
use signet_protocol::party::PartyId;
use signet_protocol::session::SessionId;
use signet_protocol::{Digest, SecretKey};
use tokio::sync::mpsc;
use tokio::time::{sleep, timeout};

use super::*;
use crate::store::{CHUNK_SIZE, DocumentReader, MemoryStore, put_document};

const LIMIT: Duration = Duration::from_secs(60);

struct Node {
    client: Client,
    events: Option<mpsc::Receiver<NetEvent>>,
    party: PartyId,
    key: SecretKey,
    store: Arc<MemoryStore>,
}

fn node(label: &str, documents: impl DocumentAccess) -> Node {
    node_with(label, documents, |_: Topic, _: &[u8]| Validation::Accept)
}

fn node_with(label: &str, documents: impl DocumentAccess, gossip: impl GossipValidator) -> Node {
    let key = SecretKey::from_seed(Digest::of(label.as_bytes()).as_bytes());
    let party = PartyId::from_digest(Digest::of(format!("party {label}").as_bytes()));
    let store = Arc::new(MemoryStore::new());
    let hooks = Hooks {
        store: store.clone(),
        documents: Arc::new(documents),
        gossip: Arc::new(gossip),
    };
    let config = Config {
        gossip_heartbeat: Duration::from_millis(100),
        request_timeout: Duration::from_secs(5),
        ..Config::default()
    };
    let (client, events, event_loop) = new(&key, party, config, hooks).unwrap();
    tokio::spawn(event_loop.run());
    Node {
        client,
        events: Some(events),
        party,
        key,
        store,
    }
}

fn directory(nodes: &[&Node]) -> PeerDirectory {
    let mut d = PeerDirectory::new();
    for n in nodes {
        d.insert(n.party, &n.key.public_key()).unwrap();
    }
    d
}

fn deny_all() -> impl DocumentAccess {
    |_: &PartyId, _: &SessionId, _: &Digest| false
}

/// Answers every inbound message: refuses those starting with `bad`, accepts the rest, and
/// reports what it accepted.
fn answer_messages(node: &mut Node) -> mpsc::Receiver<(PartyId, Vec<u8>)> {
    let mut events = node.events.take().unwrap();
    let (tx, rx) = mpsc::channel(256);
    tokio::spawn(async move {
        while let Some(event) = events.recv().await {
            if let NetEvent::Message {
                party,
                bytes,
                responder,
                ..
            } = event
            {
                if bytes.starts_with(b"bad") {
                    responder.respond(msg::Response::Refused(ErrorCode::BadSignature));
                } else {
                    responder.respond(msg::Response::Accepted);
                    tx.send((party, bytes)).await.unwrap();
                }
            }
        }
    });
    rx
}

fn doc_bytes(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 + i / 251) as u8).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_and_documents_flow_over_tcp_and_quic() {
    timeout(LIMIT, async {
        let session = SessionId::from_bytes([7; 32]);
        let b_party = PartyId::from_digest(Digest::of(b"party B"));
        let mut a = node("A", move |p: &PartyId, s: &SessionId, _: &Digest| {
            *p == b_party && *s == session
        });
        let b = node("B", deny_all());
        let c = node("C", deny_all());
        assert_eq!(b.party, b_party);
        let dir = directory(&[&a, &b, &c]);
        for n in [&a, &b, &c] {
            n.client.set_directory(dir.clone()).await.unwrap();
        }
        let tcp = a
            .client
            .listen("/ip4/127.0.0.1/tcp/0".parse().unwrap())
            .await
            .unwrap();
        let quic = a
            .client
            .listen("/ip4/127.0.0.1/udp/0/quic-v1".parse().unwrap())
            .await
            .unwrap();
        assert!(quic.to_string().contains("quic-v1"));
        // B only knows A's TCP address, C only its QUIC address.
        b.client.add_address(a.client.peer_id(), tcp).await.unwrap();
        c.client
            .add_address(a.client.peer_id(), quic)
            .await
            .unwrap();
        let mut inbox = answer_messages(&mut a);

        b.client
            .send_message(a.party, b"hello over tcp".to_vec())
            .await
            .unwrap();
        assert_eq!(
            inbox.recv().await.unwrap(),
            (b.party, b"hello over tcp".to_vec())
        );
        c.client
            .send_message(a.party, b"hello over quic".to_vec())
            .await
            .unwrap();
        assert_eq!(
            inbox.recv().await.unwrap(),
            (c.party, b"hello over quic".to_vec())
        );
        let refused = c
            .client
            .send_message(a.party, b"bad signature".to_vec())
            .await;
        assert!(matches!(
            refused,
            Err(NetError::Refused(ErrorCode::BadSignature))
        ));
        // 64 messages in flight at once (below the 100 concurrent streams per connection) all arrive.
        let sends: Vec<_> = (0..64u32)
            .map(|i| {
                let client = b.client.clone();
                let party = a.party;
                tokio::spawn(
                    async move { client.send_message(party, i.to_be_bytes().to_vec()).await },
                )
            })
            .collect();
        for s in sends {
            s.await.unwrap().unwrap();
        }
        let mut got = std::collections::BTreeSet::new();
        for _ in 0..64 {
            got.insert(inbox.recv().await.unwrap().1);
        }
        assert_eq!(got.len(), 64);
        // 150 at once: beyond the per-peer limit the sender says Busy instead of letting the
        // receiver reset streams; nothing else fails.
        let sends: Vec<_> = (0..150u32)
            .map(|i| {
                let client = b.client.clone();
                let party = a.party;
                tokio::spawn(async move {
                    client
                        .send_message(party, (1000 + i).to_be_bytes().to_vec())
                        .await
                })
            })
            .collect();
        let (mut ok, mut busy) = (0, 0);
        for s in sends {
            match s.await.unwrap() {
                Ok(()) => ok += 1,
                Err(NetError::Busy) => busy += 1,
                Err(e) => panic!("unexpected {e}"),
            }
        }
        assert_eq!(ok + busy, 150);
        assert!(ok >= 64, "{ok} delivered");
        for _ in 0..ok {
            inbox.recv().await.unwrap();
        }

        // A multi-chunk document, fetched by the participant B only.
        let bytes = doc_bytes(3 * CHUNK_SIZE + 100);
        let (digest, _) = put_document(&*a.store, &mut Cursor::new(&bytes)).unwrap();
        let staging = tempfile::tempdir().unwrap();
        let len = bytes.len() as u64;
        // A proposal that declares another length: the holder's document is refused, and
        // nothing is left behind.
        assert!(matches!(
            b.client
                .fetch_document(
                    a.party,
                    session,
                    digest,
                    len + 1,
                    None,
                    &*b.store,
                    staging.path()
                )
                .await,
            Err(NetError::PeerMisbehaved(_))
        ));
        assert!(b.store.manifest(&digest).unwrap().is_none());
        assert_eq!(std::fs::read_dir(staging.path()).unwrap().count(), 0);
        // A proposal that names another SM3 digest (spec §9.4): the document's SHA-256
        // digest and length are right, and still it is refused and nothing is kept.
        assert!(matches!(
            b.client
                .fetch_document(
                    a.party,
                    session,
                    digest,
                    len,
                    Some(signet_protocol::sm2::Sm3Digest::of(b"other bytes")),
                    &*b.store,
                    staging.path()
                )
                .await,
            Err(NetError::PeerMisbehaved(_))
        ));
        assert!(b.store.manifest(&digest).unwrap().is_none());
        assert_eq!(std::fs::read_dir(staging.path()).unwrap().count(), 0);
        // With the document's own SM3 digest (a national session's reference), it is kept.
        let manifest = b
            .client
            .fetch_document(
                a.party,
                session,
                digest,
                len,
                Some(signet_protocol::sm2::Sm3Digest::of(&bytes)),
                &*b.store,
                staging.path(),
            )
            .await
            .unwrap();
        assert_eq!(manifest.chunks().len(), 4);
        let mut back = Vec::new();
        DocumentReader::open(&*b.store, &digest)
            .unwrap()
            .unwrap()
            .read_to_end(&mut back)
            .unwrap();
        assert!(back == bytes);
        // C is authenticated but not a participant; B asks under another session.
        let other = SessionId::from_bytes([8; 32]);
        assert!(matches!(
            c.client
                .fetch_document(
                    a.party,
                    session,
                    digest,
                    len,
                    None,
                    &*c.store,
                    staging.path()
                )
                .await,
            Err(NetError::NotFound)
        ));
        assert!(matches!(
            b.client
                .fetch_document(a.party, other, digest, len, None, &*b.store, staging.path())
                .await,
            Err(NetError::NotFound)
        ));
        // A document A does not hold.
        assert!(matches!(
            b.client
                .fetch_document(
                    a.party,
                    session,
                    Digest::of(b"none"),
                    len,
                    None,
                    &*b.store,
                    staging.path()
                )
                .await,
            Err(NetError::NotFound)
        ));
        // A party with no known node.
        let nobody = PartyId::from_digest(Digest::of(b"nobody"));
        assert!(matches!(
            b.client.send_message(nobody, b"x".to_vec()).await,
            Err(NetError::Unreachable { .. })
        ));
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_that_is_no_authorised_node_is_refused() {
    timeout(LIMIT, async {
        let mut a = node("A", |_: &PartyId, _: &SessionId, _: &Digest| true);
        let d = node("D", deny_all());
        // A knows only itself; D believes A is A.
        a.client.set_directory(directory(&[&a])).await.unwrap();
        d.client.set_directory(directory(&[&a, &d])).await.unwrap();
        let tcp = a
            .client
            .listen("/ip4/127.0.0.1/tcp/0".parse().unwrap())
            .await
            .unwrap();
        d.client.add_address(a.client.peer_id(), tcp).await.unwrap();
        let mut inbox = answer_messages(&mut a);
        let bytes = doc_bytes(10);
        let (digest, _) = put_document(&*a.store, &mut Cursor::new(&bytes)).unwrap();

        let refused = d.client.send_message(a.party, b"let me in".to_vec()).await;
        assert!(
            matches!(
                refused,
                Err(NetError::Refused(ErrorCode::UnauthenticatedPeer))
            ),
            "{refused:?}"
        );
        let request = doc::Request {
            session: SessionId::from_bytes([1; 32]),
            document: digest,
            index: 0,
        };
        assert_eq!(
            d.client.fetch_chunk(a.party, request).await.unwrap(),
            doc::Response::Refused(ErrorCode::UnauthenticatedPeer)
        );
        // Nothing reached A's node.
        sleep(Duration::from_millis(200)).await;
        assert!(inbox.try_recv().is_err());
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_requests_are_refused() {
    timeout(LIMIT, async {
        let mut a = node("A", deny_all());
        let b = node("B", deny_all());
        let dir = directory(&[&a, &b]);
        a.client.set_directory(dir.clone()).await.unwrap();
        b.client.set_directory(dir).await.unwrap();
        let tcp = a
            .client
            .listen("/ip4/127.0.0.1/tcp/0".parse().unwrap())
            .await
            .unwrap();
        b.client.add_address(a.client.peer_id(), tcp).await.unwrap();
        let mut inbox = answer_messages(&mut a);

        // The sender's own check.
        let too_big = vec![b'x'; msg::MAX_REQUEST + 1];
        assert!(matches!(
            b.client.send_message(a.party, too_big.clone()).await,
            Err(NetError::TooLarge { len, max: msg::MAX_REQUEST }) if len == msg::MAX_REQUEST + 1
        ));
        // A sender that skips the check: the receiver stops reading at the cap and resets.
        let result = b.client.send_unchecked(a.client.peer_id(), too_big).await;
        assert!(matches!(result, Err(NetError::Delivery(_))), "{result:?}");
        // Exactly at the cap is fine, and A is still serving.
        let at_cap = vec![b'y'; msg::MAX_REQUEST];
        b.client
            .send_message(a.party, at_cap.clone())
            .await
            .unwrap();
        let (_, got) = inbox.recv().await.unwrap();
        assert_eq!(got.len(), msg::MAX_REQUEST);
        assert!(
            inbox.try_recv().is_err(),
            "the oversized request was never delivered"
        );
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gossip_validation_rejects_invalid_payloads() {
    timeout(LIMIT, async {
        let validate = |_: Topic, data: &[u8]| {
            if data.starts_with(b"ok") {
                Validation::Accept
            } else {
                Validation::Reject
            }
        };
        let rejected_at_b = Arc::new(AtomicUsize::new(0));
        let counter = rejected_at_b.clone();
        let a = node_with("A", deny_all(), validate);
        let mut b = node_with("B", deny_all(), move |t: Topic, data: &[u8]| {
            let v = validate(t, data);
            if v == Validation::Reject {
                counter.fetch_add(1, Ordering::SeqCst);
            }
            v
        });
        let mut c = node_with("C", deny_all(), validate);
        // A line: A — B — C.
        let b_addr = b
            .client
            .listen("/ip4/127.0.0.1/tcp/0".parse().unwrap())
            .await
            .unwrap();
        let b_addr = b_addr.with(libp2p::multiaddr::Protocol::P2p(b.client.peer_id()));
        a.client.dial(b_addr.clone()).await.unwrap();
        c.client.dial(b_addr).await.unwrap();
        let mut c_events = c.events.take().unwrap();
        let mut b_events = b.events.take().unwrap();

        // Wait for the mesh: publish until C hears something through B.
        let mut i = 0u32;
        loop {
            i += 1;
            let _ = a
                .client
                .publish(Topic::Attestations, format!("ok warm-up {i}").into_bytes())
                .await;
            if let Ok(Some(NetEvent::Gossip { .. })) =
                timeout(Duration::from_millis(300), c_events.recv()).await
            {
                break;
            }
        }
        a.client
            .publish(Topic::KeyLogs, b"forged key log".to_vec())
            .await
            .unwrap();
        a.client
            .publish(Topic::KeyLogs, b"ok key log".to_vec())
            .await
            .unwrap();
        loop {
            match c_events.recv().await.unwrap() {
                NetEvent::Gossip { topic, data, .. } => {
                    assert!(
                        data.starts_with(b"ok"),
                        "C received {:?}",
                        String::from_utf8_lossy(&data)
                    );
                    if data == b"ok key log" {
                        assert_eq!(topic, Topic::KeyLogs);
                        break;
                    }
                }
                other => panic!("unexpected {other:?}"),
            }
        }
        sleep(Duration::from_millis(300)).await;
        while let Ok(event) = c_events.try_recv() {
            if let NetEvent::Gossip { data, .. } = event {
                assert!(data.starts_with(b"ok"));
            }
        }
        assert!(
            rejected_at_b.load(Ordering::SeqCst) >= 1,
            "B saw and rejected the forgery"
        );
        while let Ok(event) = b_events.try_recv() {
            if let NetEvent::Gossip { data, .. } = event {
                assert!(data.starts_with(b"ok"), "B delivered a rejected message");
            }
        }
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn party_addresses_resolve_through_kademlia() {
    timeout(LIMIT, async {
        let mut a = node("A", deny_all());
        let b = node("B", deny_all());
        let c = node("C", deny_all());
        let dir = directory(&[&a, &b, &c]);
        for n in [&a, &b, &c] {
            n.client.set_directory(dir.clone()).await.unwrap();
        }
        a.client
            .listen("/ip4/127.0.0.1/tcp/0".parse().unwrap())
            .await
            .unwrap();
        let b_addr = b
            .client
            .listen("/ip4/127.0.0.1/tcp/0".parse().unwrap())
            .await
            .unwrap();
        let b_addr = b_addr.with(libp2p::multiaddr::Protocol::P2p(b.client.peer_id()));
        a.client.dial(b_addr.clone()).await.unwrap();
        let mut inbox = answer_messages(&mut a);
        // A publishes its addresses once B is in its routing table.
        while a.client.publish_addresses().await.is_err() {
            sleep(Duration::from_millis(100)).await;
        }
        // C knows only B, finds A through the DHT, and reaches it.
        c.client.dial(b_addr).await.unwrap();
        let found = loop {
            match c.client.lookup(a.party).await {
                Ok(found) => break found,
                Err(_) => sleep(Duration::from_millis(100)).await,
            }
        };
        assert!(
            found
                .iter()
                .all(|addr| addr.to_string().ends_with(&a.client.peer_id().to_string()))
        );
        c.client
            .send_message(a.party, b"found you".to_vec())
            .await
            .unwrap();
        assert_eq!(
            inbox.recv().await.unwrap(),
            (c.party, b"found you".to_vec())
        );
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_shutdown_every_call_says_stopped() {
    timeout(LIMIT, async {
        let a = node("A", deny_all());
        a.client.shutdown().await.unwrap();
        assert!(matches!(
            a.client
                .listen("/ip4/127.0.0.1/tcp/0".parse().unwrap())
                .await,
            Err(NetError::Stopped)
        ));
        assert!(matches!(
            a.client.send_message(a.party, b"x".to_vec()).await,
            Err(NetError::Stopped)
        ));
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_address_record_is_ignored() {
    timeout(LIMIT, async {
        // A's real node never runs; D claims to be party A and publishes its own address.
        let a = node("A", deny_all());
        a.client.shutdown().await.unwrap();
        let b = node("B", deny_all());
        let c = node("C", deny_all());
        let forger = {
            let mut d = node("D", deny_all());
            d.client.shutdown().await.unwrap();
            let key = SecretKey::from_seed(Digest::of(b"D").as_bytes());
            let hooks = Hooks {
                store: Arc::new(MemoryStore::new()),
                documents: Arc::new(deny_all()),
                gossip: Arc::new(|_: Topic, _: &[u8]| Validation::Accept),
            };
            let (client, _events, event_loop) =
                new(&key, a.party, Config::default(), hooks).unwrap();
            tokio::spawn(event_loop.run());
            d.client = client;
            d
        };
        let dir = directory(&[&a, &b, &c]);
        for n in [&b, &c, &forger] {
            n.client.set_directory(dir.clone()).await.unwrap();
        }
        let b_addr = b
            .client
            .listen("/ip4/127.0.0.1/tcp/0".parse().unwrap())
            .await
            .unwrap();
        let b_addr = b_addr.with(libp2p::multiaddr::Protocol::P2p(b.client.peer_id()));
        forger
            .client
            .listen("/ip4/127.0.0.1/tcp/0".parse().unwrap())
            .await
            .unwrap();
        forger.client.dial(b_addr.clone()).await.unwrap();
        c.client.dial(b_addr).await.unwrap();
        while forger.client.publish_addresses().await.is_err() {
            sleep(Duration::from_millis(100)).await;
        }
        while b.client.publish_addresses().await.is_err() {
            sleep(Duration::from_millis(100)).await;
        }
        // Lookups work (C finds B) …
        while c.client.lookup(b.party).await.is_err() {
            sleep(Duration::from_millis(100)).await;
        }
        // … but the record under A's name names no node authorised for A.
        for _ in 0..5 {
            assert!(matches!(
                c.client.lookup(a.party).await,
                Err(NetError::NotFound)
            ));
        }
        assert!(matches!(
            c.client.send_message(a.party, b"x".to_vec()).await,
            Err(NetError::Delivery(_))
        ));
    })
    .await
    .unwrap();
}

/// A signed address record of `node` for `party` at `addresses`, with sequence `seq`.
fn signed_record(
    node: &Node,
    party: PartyId,
    seq: u64,
    addresses: &[Multiaddr],
) -> signet_protocol::cose::Signed<signet_protocol::address::AddressRecord> {
    signet_protocol::address::AddressRecord {
        party,
        node: node.key.public_key(),
        seq,
        issued_at: signet_protocol::Timestamp::from_unix(1_800_000_000),
        addresses: addresses.iter().map(|a| a.to_vec()).collect(),
    }
    .sign(&node.key)
    .unwrap()
}

fn dht_key(node: &Node) -> Vec<u8> {
    signet_protocol::address::dht_key(&node.key.public_key())
}

async fn listen_addr(node: &Node) -> Multiaddr {
    node.client
        .listen("/ip4/127.0.0.1/tcp/0".parse().unwrap())
        .await
        .unwrap()
        .with(libp2p::multiaddr::Protocol::P2p(node.client.peer_id()))
}

/// Puts a raw record from `from` until `at` answered (its store may still refuse it), and
/// gives the storing peer a moment to decide.
/// What `node` stores under `key`.
async fn stored(node: &Node, key: &[u8]) -> Option<Vec<u8>> {
    node.client.stored_record(key.to_vec()).await.unwrap()
}

async fn put_at(from: &Node, key: Vec<u8>, value: Vec<u8>) {
    while from
        .client
        .put_raw_record(key.clone(), value.clone())
        .await
        .is_err()
    {
        sleep(Duration::from_millis(100)).await;
    }
    sleep(Duration::from_millis(100)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn storing_peers_keep_only_valid_newer_address_records() {
    timeout(LIMIT, async {
        let a = node("A", deny_all());
        let s = node("S", deny_all());
        let other = node("O", deny_all());
        let s_addr = listen_addr(&s).await;
        let a_addr = listen_addr(&a).await;
        a.client.dial(s_addr).await.unwrap();
        let key = dht_key(&a);
        let good = signed_record(&a, a.party, 5, std::slice::from_ref(&a_addr));

        // Tampered: one byte of the signature flipped.
        let mut tampered = good.bytes().to_vec();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        put_at(&a, key.clone(), tampered).await;
        assert_eq!(stored(&s, &key).await, None);
        // Forged: signed by another node but stored under A's key.
        let forged = signed_record(&other, a.party, 9, &[]);
        put_at(&a, key.clone(), forged.bytes().to_vec()).await;
        assert_eq!(stored(&s, &key).await, None);
        // Not an address record at all.
        put_at(&a, key.clone(), b"junk".to_vec()).await;
        assert_eq!(stored(&s, &key).await, None);

        // The genuine record is stored; an older one does not replace it; a newer one does.
        put_at(&a, key.clone(), good.bytes().to_vec()).await;
        assert_eq!(stored(&s, &key).await.as_deref(), Some(good.bytes()));
        let older = signed_record(&a, a.party, 4, &[]);
        put_at(&a, key.clone(), older.bytes().to_vec()).await;
        let same_seq = signed_record(&a, a.party, 5, &[]);
        put_at(&a, key.clone(), same_seq.bytes().to_vec()).await;
        assert_eq!(stored(&s, &key).await.as_deref(), Some(good.bytes()));
        let newer = signed_record(&a, a.party, 6, &[]);
        put_at(&a, key.clone(), newer.bytes().to_vec()).await;
        assert_eq!(stored(&s, &key).await.as_deref(), Some(newer.bytes()));
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lookers_refuse_records_a_malicious_storer_serves() {
    timeout(LIMIT, async {
        let mut a = node("A", deny_all());
        let m = node("M", deny_all());
        let c = node("C", deny_all());
        let dir = directory(&[&a, &m, &c]);
        for n in [&a, &m, &c] {
            n.client.set_directory(dir.clone()).await.unwrap();
        }
        let m_addr = listen_addr(&m).await;
        let a_addr = listen_addr(&a).await;
        let key = dht_key(&a);
        // M holds, in its own store, records under A's key that no honest storer would keep
        // (a node stores its own puts unchecked; the put itself fails, M has no peers yet):
        // A's genuine record with A's address swapped for M's, so its signature fails …
        let genuine = signed_record(&a, a.party, 5, std::slice::from_ref(&a_addr));
        let (from, to) = (a_addr.to_vec(), m_addr.to_vec());
        assert_eq!(
            from.len(),
            to.len(),
            "both are /ip4/127.0.0.1/tcp/<port>/p2p/<id>"
        );
        let mut swapped = genuine.bytes().to_vec();
        let at = swapped
            .windows(from.len())
            .position(|w| w == from.as_slice())
            .unwrap();
        swapped[at..at + to.len()].copy_from_slice(&to);
        let _ = m.client.put_raw_record(key.clone(), swapped.clone()).await;
        assert_eq!(
            m.client.stored_record(key.clone()).await.unwrap(),
            Some(swapped)
        );
        c.client.dial(m_addr.clone()).await.unwrap();
        sleep(Duration::from_millis(300)).await;
        assert!(matches!(
            c.client.lookup(a.party).await,
            Err(NetError::NotFound)
        ));
        // … and a record A's key really signed, but naming another party.
        let wrong_party = signed_record(&a, c.party, 7, std::slice::from_ref(&a_addr));
        let _ = m
            .client
            .put_raw_record(key.clone(), wrong_party.bytes().to_vec())
            .await;
        assert!(matches!(
            c.client.lookup(a.party).await,
            Err(NetError::NotFound)
        ));
        // A publishes for real (M stores it over its junk): C finds A and reaches it.
        let mut inbox = answer_messages(&mut a);
        a.client.dial(m_addr).await.unwrap();
        while a.client.publish_addresses().await.is_err() {
            sleep(Duration::from_millis(100)).await;
        }
        let found = loop {
            match c.client.lookup(a.party).await {
                Ok(found) => break found,
                Err(_) => sleep(Duration::from_millis(100)).await,
            }
        };
        assert!(found.contains(&a_addr), "{found:?}");
        c.client
            .send_message(a.party, b"found you".to_vec())
            .await
            .unwrap();
        assert_eq!(
            inbox.recv().await.unwrap(),
            (c.party, b"found you".to_vec())
        );
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn peers_that_send_invalid_gossip_lose_score_and_are_ignored() {
    timeout(LIMIT, async {
        let validate = |_: Topic, data: &[u8]| {
            if data.starts_with(b"ok") {
                Validation::Accept
            } else {
                Validation::Reject
            }
        };
        let bad = node_with("Mallory", deny_all(), validate);
        let honest = node_with("Honest", deny_all(), validate);
        let mut r = node_with("R", deny_all(), validate);
        let r_addr = listen_addr(&r).await;
        bad.client.dial(r_addr.clone()).await.unwrap();
        honest.client.dial(r_addr).await.unwrap();
        let mut events = r.events.take().unwrap();
        // Wait for the mesh: R hears both.
        let (mut from_bad, mut from_honest) = (false, false);
        let mut i = 0u32;
        while !(from_bad && from_honest) {
            i += 1;
            let _ = bad
                .client
                .publish(Topic::Attestations, format!("ok bad {i}").into_bytes())
                .await;
            let _ = honest
                .client
                .publish(Topic::Attestations, format!("ok honest {i}").into_bytes())
                .await;
            while let Ok(Some(NetEvent::Gossip { propagated_by, .. })) =
                timeout(Duration::from_millis(200), events.recv()).await
            {
                from_bad |= propagated_by == bad.client.peer_id();
                from_honest |= propagated_by == honest.client.peer_id();
            }
        }
        // Mallory sends invalid attestations and key logs.
        for i in 0..4 {
            bad.client
                .publish(
                    Topic::Attestations,
                    format!("forged attestation {i}").into_bytes(),
                )
                .await
                .unwrap();
            bad.client
                .publish(Topic::KeyLogs, format!("forged key log {i}").into_bytes())
                .await
                .unwrap();
        }
        let score = loop {
            let s = r.client.peer_score(bad.client.peer_id()).await.unwrap();
            if s.is_some_and(|s| s < gossip::GRAYLIST_THRESHOLD) {
                break s.unwrap();
            }
            sleep(Duration::from_millis(100)).await;
        };
        assert!(score < 0.0);
        // Its valid messages are no longer delivered; the honest peer's are.
        let _ = bad
            .client
            .publish(Topic::Attestations, b"ok late from Mallory".to_vec())
            .await;
        honest
            .client
            .publish(Topic::Attestations, b"ok late from Honest".to_vec())
            .await
            .unwrap();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
        let mut honest_arrived = false;
        while let Ok(Some(event)) = tokio::time::timeout_at(deadline, events.recv()).await {
            if let NetEvent::Gossip { data, .. } = event {
                assert_ne!(data, b"ok late from Mallory", "a graylisted peer was heard");
                honest_arrived |= data == b"ok late from Honest";
            }
        }
        assert!(honest_arrived);
        let honest_score = r
            .client
            .peer_score(honest.client.peer_id())
            .await
            .unwrap()
            .unwrap();
        assert!(honest_score >= 0.0, "honest peer scored {honest_score}");
    })
    .await
    .unwrap();
}

/// A node whose `/signet/tsa/1` requests `authority` answers (when given).
fn stamping_node(label: &str, authority: Option<Arc<dyn TimeStampAuthority>>) -> Node {
    let key = SecretKey::from_seed(Digest::of(label.as_bytes()).as_bytes());
    let party = PartyId::from_digest(Digest::of(format!("party {label}").as_bytes()));
    let store = Arc::new(MemoryStore::new());
    let hooks = Hooks {
        store: store.clone(),
        documents: Arc::new(deny_all()),
        gossip: Arc::new(|_: Topic, _: &[u8]| Validation::Accept),
    };
    let (client, events, event_loop) = new(&key, party, Config::default(), hooks).unwrap();
    let event_loop = match authority {
        Some(authority) => event_loop.with_time_stamps(authority),
        None => event_loop,
    };
    tokio::spawn(event_loop.run());
    Node {
        client,
        events: Some(events),
        party,
        key,
        store,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn time_stamp_requests_are_always_answered() {
    use crate::pdf::tsa::{ResponseOutcome, read_response};
    timeout(LIMIT, async {
        // The authority answers with a fixed (well-formed) response naming the asking party.
        let authority: Arc<dyn TimeStampAuthority> = Arc::new(|party: &PartyId, request: &[u8]| {
            assert!(request.starts_with(&[0x30]));
            tsa::refusal(crate::pdf::tsa::Failure::SystemFailure, &party.to_string())
        });
        let witness = stamping_node("TSA witness", Some(authority));
        let plain = stamping_node("TSA plain", None);
        let asker = stamping_node("TSA asker", None);
        let stranger = stamping_node("TSA stranger", None);
        let known = directory(&[&witness, &plain, &asker]);
        for n in [&witness, &plain, &asker] {
            n.client.set_directory(known.clone()).await.unwrap();
        }
        // The stranger knows the witness, but the witness does not know the stranger.
        stranger
            .client
            .set_directory(directory(&[&witness, &stranger]))
            .await
            .unwrap();
        for target in [&witness, &plain] {
            let address = target
                .client
                .listen("/ip4/127.0.0.1/tcp/0".parse().unwrap())
                .await
                .unwrap();
            for n in [&asker, &stranger] {
                n.client
                    .add_address(target.client.peer_id(), address.clone())
                    .await
                    .unwrap();
            }
        }
        let request = crate::pdf::tsa::TimeStampRequest::for_digest([1; 32])
            .encode()
            .unwrap();
        let refused = |response: Vec<u8>| match read_response(&response).unwrap() {
            ResponseOutcome::Refused {
                failures, reason, ..
            } => (failures, reason),
            ResponseOutcome::Granted(_) => panic!("granted"),
        };
        // The authority answers an authenticated node.
        let answer = asker
            .client
            .time_stamp(witness.party, request.clone())
            .await
            .unwrap();
        assert_eq!(refused(answer), (vec![25], asker.party.to_string()));
        // A node without an authority answers with a rejection, not silence.
        let answer = asker
            .client
            .time_stamp(plain.party, request.clone())
            .await
            .unwrap();
        assert_eq!(
            refused(answer),
            (vec![15], "this node is not a time-stamping witness".into())
        );
        // So does the witness to a peer that is no authorised node.
        let answer = stranger
            .client
            .time_stamp(witness.party, request.clone())
            .await
            .unwrap();
        assert_eq!(refused(answer), (vec![15], "unauthenticated peer".into()));
        // Oversized requests are refused before they leave.
        assert!(matches!(
            asker
                .client
                .time_stamp(witness.party, vec![0x30; tsa::MAX_REQUEST + 1])
                .await,
            Err(NetError::TooLarge { .. })
        ));
    })
    .await
    .unwrap();
}
