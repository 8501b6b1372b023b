//! A load generator for two-party signings, with the ceiling measured in the same run:
//!
//! ```text
//! cargo run --release -p signet-node --example load -- [SECONDS] [CONCURRENCY]
//! ```
//!
//! 1. **The ceiling**: the same sessions through the protocol crate in memory, no I/O (every
//!    signature made and verified, every message encoded and decoded), for `SECONDS`.
//! 2. **The node**: a brand and a supplier node (each its own sled store, libp2p on
//!    loopback, in this process) and a CA; `CONCURRENCY` workers each propose a session from
//!    the brand, have the supplier's delegate sign it on the supplier's node as soon as it
//!    is there (a person's intent proof, made here with their key), and wait until the brand
//!    sees it completed; for `SECONDS`.
//!
//! It prints sessions completed per second (and as a fraction of the ceiling), the time
//! from proposal to completion at the brand (p50, p95, p99), CPU time per session (this
//! process: both nodes and the workers), and the protocol bytes per session (the session
//! messages, without transport framing). Not yet: nodes as separate processes, fan-out to
//! many suppliers (issue #13).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../tests/support/mod.rs"]
mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use signet_node::service::{DocumentSource, NewDocument, NewParticipant, NewSession, Service};
use signet_protocol::party::PartyId;
use signet_protocol::session::{Role, Status};
use signet_protocol::testkit::TestNetwork;

fn main() {
    let mut args = std::env::args().skip(1);
    let seconds: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(10);
    let concurrency: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(32);
    let (ceiling, bytes) = ceiling(Duration::from_secs(seconds));
    println!(
        "ceiling (protocol crate in memory, one thread): {ceiling:.0} two-party signings per second; {bytes} protocol bytes per signing"
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let node = runtime.block_on(nodes(Duration::from_secs(seconds), concurrency));
    let rate = node.completed as f64 / node.elapsed.as_secs_f64();
    println!(
        "nodes (2 nodes + CA in this process, sled, libp2p on loopback; {concurrency} concurrent sessions): {} signings in {:.1} s = {rate:.0} per second = {:.1} % of the ceiling",
        node.completed,
        node.elapsed.as_secs_f64(),
        100.0 * rate / ceiling
    );
    let p = |q: f64| node.latencies[((node.latencies.len() as f64 - 1.0) * q) as usize];
    if !node.latencies.is_empty() {
        println!(
            "time to completion at the brand: p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms",
            p(0.50).as_secs_f64() * 1e3,
            p(0.95).as_secs_f64() * 1e3,
            p(0.99).as_secs_f64() * 1e3
        );
        println!(
            "CPU time per signing (this process, both nodes and the workers): {:.2} ms",
            node.cpu.as_secs_f64() * 1e3 / node.completed.max(1) as f64
        );
    }
}

/// Two-party signings (the brand proposes, the supplier signs) through the protocol crate in
/// memory for `duration`: signings per second, and the bytes of the session messages one
/// signing sends.
fn ceiling(duration: Duration) -> (f64, usize) {
    let mut net = TestNetwork::new(&["Brand", "Supplier"], &["procurement"], now());
    let brand = net.nodes[1].party.id();
    let supplier = net.nodes[2].party.id();
    let started = Instant::now();
    let mut done = 0u32;
    let mut bytes = 0usize;
    while started.elapsed() < duration {
        let tag = u8::try_from(done % 251).unwrap_or(0);
        let mut proposal = net.proposal(&brand, &[(supplier, Role::Signer, 0)], "procurement", tag);
        // A fresh session each time: the nonce and title carry the count.
        proposal.title = format!("Order {done}");
        proposal.nonce = signet_protocol::session::SessionNonce::from_bytes(
            *signet_protocol::Digest::of(&done.to_be_bytes()).as_bytes(),
        );
        proposal.session = signet_protocol::session::SessionId::derive(&brand, &proposal.nonce);
        let sid = net.propose(proposal).unwrap();
        bytes += deliver(&mut net);
        net.sign(&supplier, sid).unwrap();
        bytes += deliver(&mut net);
        assert!(matches!(
            net.node(&brand).sessions[&sid].status(),
            Status::Completed { .. }
        ));
        // Keep memory flat: a finished session is not needed again.
        for i in [1, 2] {
            net.nodes[i].sessions.remove(&sid);
            net.nodes[i].events.clear();
        }
        done += 1;
    }
    (
        f64::from(done) / started.elapsed().as_secs_f64(),
        bytes / usize::try_from(done.max(1)).unwrap_or(1),
    )
}

/// Delivers every queued message; returns their bytes.
fn deliver(net: &mut TestNetwork) -> usize {
    let mut bytes = 0;
    while let Some((to, message)) = net.queue.pop_front() {
        bytes += message.len();
        net.deliver(&to, &message);
    }
    bytes
}

fn now() -> signet_protocol::Timestamp {
    signet_node::service::now()
}

struct NodeRun {
    completed: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
    cpu: Duration,
}

async fn nodes(duration: Duration, concurrency: usize) -> NodeRun {
    let root = tempfile::tempdir().unwrap();
    let (_ca, brand, supplier) = support::brand_and_supplier(root.path()).await;
    let delegate = Arc::new(signet_node::keyfile::read(&supplier.delegate_key).unwrap());
    let stop = Arc::new(AtomicBool::new(false));
    let cpu_before = cpu_time();
    let started = Instant::now();
    let mut workers = tokio::task::JoinSet::new();
    for worker in 0..concurrency {
        let (b, s, d, stop) = (
            brand.service.clone(),
            supplier.service.clone(),
            delegate.clone(),
            stop.clone(),
        );
        let party = supplier.party();
        workers.spawn(async move {
            let mut latencies = Vec::new();
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let began = Instant::now();
                one_signing(&b, &s, party, &d, worker, n).await;
                latencies.push(began.elapsed());
                n += 1;
            }
            latencies
        });
    }
    tokio::time::sleep(duration).await;
    stop.store(true, Ordering::Relaxed);
    let mut latencies = Vec::new();
    while let Some(done) = workers.join_next().await {
        latencies.extend(done.unwrap());
    }
    let elapsed = started.elapsed();
    let cpu = cpu_time().saturating_sub(cpu_before);
    latencies.sort();
    NodeRun {
        completed: latencies.len(),
        elapsed,
        latencies,
        cpu,
    }
}

/// One signing: proposed at the brand, signed at the supplier once it is there, completed
/// at the brand.
async fn one_signing(
    brand: &Arc<Service>,
    supplier: &Arc<Service>,
    party: PartyId,
    delegate: &Arc<signet_protocol::SecretKey>,
    worker: usize,
    n: u64,
) {
    let b = brand.clone();
    let id = tokio::task::spawn_blocking(move || {
        b.create_session(NewSession {
            title: format!("Order {worker}-{n}"),
            purpose: "procurement".into(),
            participants: vec![NewParticipant {
                party,
                role: Role::Signer,
                order: 0,
            }],
            documents: vec![NewDocument {
                name: "order.pdf".into(),
                media_type: "application/pdf".into(),
                source: DocumentSource::Bytes(format!("order {worker}-{n}").into_bytes()),
                pdf_seals: None,
            }],
            deadline_days: 30,
            witnesses: vec![],
        })
    })
    .await
    .unwrap()
    .unwrap();
    loop {
        let (s, key) = (supplier.clone(), delegate.clone());
        let signed =
            tokio::task::spawn_blocking(move || signet_node::person::sign_as(&s, id, &key).is_ok())
                .await
                .unwrap();
        if signed {
            break;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    while !brand.session(id).is_ok_and(|s| s.status == "completed") {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// User and system CPU time of this process so far (`/proc/self/stat`, in clock ticks of
/// 10 ms).
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // After the command name (in parentheses): state, ppid, pgrp, session, tty_nr, tpgid,
    // flags, minflt, cminflt, majflt, cmajflt, utime, stime.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or("", |(_, rest)| rest)
        .split_whitespace()
        .collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    Duration::from_millis((ticks(11) + ticks(12)) * 10)
}
