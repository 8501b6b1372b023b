//! Loopback throughput of the network layer.
//!
//! `cargo run --release -p signet-node --example net_bench`
//!
//! Two nodes on 127.0.0.1. For TCP and for QUIC: sequential session-message round trips,
//! then 64 in flight (below the default 100 concurrent streams per connection), then a
//! 32 MiB document fetched chunk by chunk into an in-memory store. Messages are 1 KiB.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use signet_node::net::{self, Client, Config, Hooks, NetEvent, PeerDirectory, Topic, Validation};
use signet_node::store::{MemoryStore, put_document};
use signet_protocol::party::PartyId;
use signet_protocol::session::SessionId;
use signet_protocol::{Digest, SecretKey};

struct Node {
    client: Client,
    party: PartyId,
    key: SecretKey,
    store: Arc<MemoryStore>,
}

fn start(label: &str) -> Result<Node, Box<dyn std::error::Error>> {
    let key = SecretKey::from_seed(Digest::of(label.as_bytes()).as_bytes());
    let party = PartyId::from_digest(Digest::of(format!("party {label}").as_bytes()));
    let store = Arc::new(MemoryStore::new());
    let hooks = Hooks {
        store: store.clone(),
        documents: Arc::new(|_: &PartyId, _: &SessionId, _: &Digest| true),
        gossip: Arc::new(|_: Topic, _: &[u8]| Validation::Ignore),
    };
    let (client, mut events, event_loop) = net::new(&key, party, Config::default(), hooks)?;
    tokio::spawn(event_loop.run());
    tokio::spawn(async move {
        while let Some(event) = events.recv().await {
            if let NetEvent::Message { responder, .. } = event {
                responder.respond(net::msg::Response::Accepted);
            }
        }
    });
    Ok(Node {
        client,
        party,
        key,
        store,
    })
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    for transport in ["/ip4/127.0.0.1/tcp/0", "/ip4/127.0.0.1/udp/0/quic-v1"] {
        let (a, b) = (start("A")?, start(&format!("B {transport}"))?);
        let mut directory = PeerDirectory::new();
        directory.insert(a.party, &a.key.public_key());
        directory.insert(b.party, &b.key.public_key());
        a.client.set_directory(directory.clone()).await?;
        b.client.set_directory(directory).await?;
        let address = a.client.listen(transport.parse()?).await?;
        b.client.add_address(a.client.peer_id(), address).await?;
        let name = if transport.contains("quic") {
            "QUIC"
        } else {
            "TCP"
        };
        let message = vec![7u8; 1024];

        b.client.send_message(a.party, message.clone()).await?; // connect
        let n = 2_000;
        let started = Instant::now();
        for _ in 0..n {
            b.client.send_message(a.party, message.clone()).await?;
        }
        let elapsed = started.elapsed();
        println!(
            "{name:>4}: sequential   {n:>6} messages: {:>6.0} µs per round trip, {:>7.0}/s",
            elapsed.as_micros() as f64 / n as f64,
            n as f64 / elapsed.as_secs_f64()
        );

        let n = 20_000;
        let started = Instant::now();
        let mut in_flight = FuturesUnordered::new();
        let mut sent = 0;
        while sent < n || !in_flight.is_empty() {
            while sent < n && in_flight.len() < 64 {
                let (client, party, m) = (b.client.clone(), a.party, message.clone());
                in_flight.push(async move { client.send_message(party, m).await });
                sent += 1;
            }
            if let Some(result) = in_flight.next().await {
                result?;
            }
        }
        let elapsed = started.elapsed();
        println!(
            "{name:>4}: 64 in flight {n:>6} messages: {:>7.0}/s",
            n as f64 / elapsed.as_secs_f64()
        );

        let document = (0..32 * 1024 * 1024u32)
            .map(|i| (i % 251) as u8)
            .collect::<Vec<_>>();
        let (digest, _) = put_document(&*a.store, &mut &document[..])?;
        let started = Instant::now();
        let session = SessionId::from_bytes([1; 32]);
        let staging = tempfile::tempdir()?;
        b.client
            .fetch_document(
                a.party,
                session,
                digest,
                document.len() as u64,
                None,
                &*b.store,
                staging.path(),
            )
            .await?;
        let elapsed = started.elapsed();
        println!(
            "{name:>4}: document 32 MiB in 256 KiB chunks: {:.2} s, {:.0} MiB/s",
            elapsed.as_secs_f64(),
            32.0 / elapsed.as_secs_f64()
        );
        a.client.shutdown().await?;
        b.client.shutdown().await?;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(())
}
