//! A real two-party signing, carried by the node's layers: the protocol's session state
//! machines (from the test harness) produce signed messages; each node queues them in its
//! durable outbox; the outbox's due messages go over libp2p (TCP for one direction, QUIC for
//! the other) to the counterparty, authenticated by node keys from the key event logs; the
//! receiver hands the exact bytes to its session and accepts or refuses them.
//!
//! One acknowledgement is "lost" on purpose, so a message arrives twice: the session treats
//! the duplicate as harmless, which is what makes the outbox's at-least-once delivery
//! exactly-once in effect.

// Test helpers outside `#[test]` functions: failing loudly is their job.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use signet_node::net::{self, Client, Config, Hooks, NetEvent, PeerDirectory, Validation, msg};
use signet_node::outbox::{Outbox, OutboxConfig};
use signet_node::store::MemoryStore;
use signet_protocol::error::WireError;
use signet_protocol::party::PartyId;
use signet_protocol::session::{Role, SessionId, Status};
use signet_protocol::testkit::TestNetwork;
use signet_protocol::{Digest, SecretKey, Timestamp};
use tokio::time::timeout;

const T0: Timestamp = Timestamp::from_unix(1_800_000_000);

struct Node {
    party: PartyId,
    client: Client,
    outbox: Outbox<MemoryStore>,
}

/// Moves what the protocol queued into the sender's outbox with one durable commit (every
/// message queued since the last call was produced by `from`).
fn queue_outbound(protocol: &Mutex<TestNetwork>, from: &mut Node, now: Duration) {
    let queued: Vec<(PartyId, Vec<u8>)> = protocol.lock().unwrap().queue.drain(..).collect();
    let batch: Vec<(PartyId, Digest, &[u8])> = queued
        .iter()
        .map(|(to, bytes)| (*to, Digest::of(bytes), &bytes[..]))
        .collect();
    from.outbox.enqueue_many(&batch, now).unwrap();
}

/// Sends everything due from `node`'s outbox; returns how many were delivered.
async fn pump(node: &mut Node, now: Duration, lose_first_ack: &mut bool) -> usize {
    let mut delivered = 0;
    for attempt in node.outbox.due(now, 16).unwrap() {
        match node
            .client
            .send_message(attempt.key.recipient, attempt.message.clone())
            .await
        {
            Ok(()) if *lose_first_ack => {
                // Pretend the node crashed before recording the ack: it stays queued.
                *lose_first_ack = false;
                node.outbox.failed(&attempt.key, now, &mut Zero).unwrap();
            }
            Ok(()) => {
                node.outbox.acked(&attempt.key, now).unwrap();
                delivered += 1;
            }
            Err(e) => panic!("delivery from {} failed: {e}", node.party),
        }
    }
    delivered
}

/// An RNG that always draws zero: the retry comes after exactly half the nominal delay.
struct Zero;
impl rand_core::TryRng for Zero {
    type Error = std::convert::Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        Ok(0)
    }
    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        Ok(0)
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        dst.fill(0);
        Ok(())
    }
}

/// Starts a node's network; its inbound messages go to its session in `protocol`.
async fn start(protocol: &Arc<Mutex<TestNetwork>>, index: usize) -> Node {
    let (party, key, directory) = {
        let net = protocol.lock().unwrap();
        let node = &net.nodes[index];
        (
            node.party.id(),
            SecretKey::from_seed(&node.party.node.to_seed()),
            // Authentication straight from the key event logs this node knows.
            PeerDirectory::from_trust_store(&node.store, net.now),
        )
    };
    let hooks = Hooks {
        store: Arc::new(MemoryStore::new()),
        documents: Arc::new(|_: &PartyId, _: &SessionId, _: &Digest| false),
        gossip: Arc::new(|_: net::Topic, _: &[u8]| Validation::Ignore),
    };
    let (client, mut events, event_loop) = net::new(&key, party, Config::default(), hooks).unwrap();
    tokio::spawn(event_loop.run());
    client.set_directory(directory).await.unwrap();
    let protocol = protocol.clone();
    tokio::spawn(async move {
        while let Some(event) = events.recv().await {
            if let NetEvent::Message {
                party: from,
                bytes,
                responder,
                ..
            } = event
            {
                let refused = {
                    let mut net = protocol.lock().unwrap();
                    let before = net.nodes[index].refused.len();
                    net.deliver(&party, &bytes);
                    net.nodes[index].refused.get(before).map(WireError::code)
                };
                assert_ne!(from, party);
                responder.respond(match refused {
                    Some(code) => msg::Response::Refused(code),
                    None => msg::Response::Accepted,
                });
            }
        }
    });
    let outbox = Outbox::open(Arc::new(MemoryStore::new()), OutboxConfig::default()).unwrap();
    Node {
        party,
        client,
        outbox,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_parties_sign_over_libp2p_through_their_outboxes() {
    timeout(Duration::from_secs(60), async {
        let protocol = Arc::new(Mutex::new(TestNetwork::new(
            &["Brand", "Supplier"],
            &["procurement"],
            T0,
        )));
        let mut brand = start(&protocol, 1).await;
        let mut supplier = start(&protocol, 2).await;
        let brand_tcp = brand
            .client
            .listen("/ip4/127.0.0.1/tcp/0".parse().unwrap())
            .await
            .unwrap();
        let supplier_quic = supplier
            .client
            .listen("/ip4/127.0.0.1/udp/0/quic-v1".parse().unwrap())
            .await
            .unwrap();
        supplier
            .client
            .add_address(brand.client.peer_id(), brand_tcp)
            .await
            .unwrap();
        brand
            .client
            .add_address(supplier.client.peer_id(), supplier_quic)
            .await
            .unwrap();

        let mut now = Duration::from_secs(T0.unix());
        let sid = {
            let mut net = protocol.lock().unwrap();
            let p = net.proposal(
                &brand.party,
                &[(supplier.party, Role::Signer, 0)],
                "procurement",
                1,
            );
            net.propose(p).unwrap()
        };
        queue_outbound(&protocol, &mut brand, now);
        assert_eq!(brand.outbox.len(), 1);
        let mut lose_ack = true;
        // The first delivery's ack is lost; the retry delivers the same bytes again.
        assert_eq!(pump(&mut brand, now, &mut lose_ack).await, 0);
        now += Duration::from_secs(1);
        assert_eq!(pump(&mut brand, now, &mut lose_ack).await, 1);
        assert!(brand.outbox.is_empty());

        protocol.lock().unwrap().sign(&supplier.party, sid).unwrap();
        queue_outbound(&protocol, &mut supplier, now);
        assert!(pump(&mut supplier, now, &mut lose_ack).await >= 1);
        // The brand's completion goes back to the supplier.
        queue_outbound(&protocol, &mut brand, now);
        while !brand.outbox.is_empty() {
            pump(&mut brand, now, &mut lose_ack).await;
        }

        let net = protocol.lock().unwrap();
        for (index, party) in [(1, brand.party), (2, supplier.party)] {
            let node = &net.nodes[index];
            assert!(
                matches!(node.sessions[&sid].status(), Status::Completed { .. }),
                "{party}: {:?}, refused {:?}",
                node.sessions[&sid].status(),
                node.refused
            );
            assert!(node.refused.is_empty(), "the duplicate was harmless");
        }
    })
    .await
    .unwrap();
}
