//! A load generator for two-party signings, with the ceiling measured in the same run:
//!
//! ```text
//! cargo run --release -p signet-node --example load -- [SECONDS] [CONCURRENCY] [SUPPLIERS]
//! cargo build --release -p signet-node --bin signet --example load
//! target/release/examples/load [SECONDS] [CONCURRENCY] [SUPPLIERS] --processes [--brand-postgres URL]
//! ```
//!
//! 1. **The ceiling**: the same sessions through the protocol crate in memory, no I/O (every
//!    signature made and verified, every message encoded and decoded), for `SECONDS`.
//! 2. **The node**: a brand and `SUPPLIERS` supplier nodes (default 1; each its own sled
//!    store, libp2p on loopback) and a CA; `CONCURRENCY` workers each propose a session from
//!    the brand to a supplier (worker `w` to supplier `w mod SUPPLIERS`: with as many
//!    workers as suppliers, the brand signs with all of them at once), have the supplier's
//!    delegate sign it on the supplier's node as soon as it is there (a person's intent
//!    proof, made here with their key), and wait until the brand sees it completed; for
//!    `SECONDS`, after one unmeasured signing with every supplier.
//!
//! By default every node runs in this process and the workers call the nodes' `Service`
//! directly. With `--processes` the nodes are set up here, then each is run as its own
//! process by the real `signet run` binary (next to this example, in the same target
//! directory), the brand and the suppliers are told each other's new addresses over the HTTP
//! API, and the workers drive them only through the HTTP API as an integration would:
//! `POST /v1/sessions` at the brand, `GET …/intent` and `POST …/sign` at the supplier, and
//! `GET /v1/sessions/{id}` at the brand until it reads `completed`. With `--brand-postgres
//! URL` the brand's store is moved into that empty PostgreSQL database before it starts.
//!
//! It prints sessions completed per second (and as a fraction of the ceiling), the time
//! from proposal to completion at the brand (p50, p95, p99), CPU time per session (in
//! process mode the node processes' own, from `/proc/PID/stat`, and the generator's apart;
//! otherwise this one process's), and the protocol bytes per session (the session
//! messages, without transport framing). In process mode it also prints, per signing and per
//! node, the session messages in and out and the store's flushes (from the node's
//! `/metrics`), the context switches of the node's threads (`/proc/PID/task/*/status`), and
//! the HTTP requests the workers made: the hand-offs a signing costs, which a CPU profile
//! shows as wake-ups.
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
    let processes = std::env::args().any(|a| a == "--processes");
    // `--brand-postgres URL`: the brand's store moved into that (empty) database first.
    let brand_postgres = std::env::args()
        .skip_while(|a| a != "--brand-postgres")
        .nth(1);
    let mut args = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--") && Some(a) != brand_postgres.as_ref());
    let seconds: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(10);
    let concurrency: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(32);
    let suppliers: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(1).max(1);
    let (ceiling, bytes) = ceiling(Duration::from_secs(seconds));
    println!(
        "ceiling (protocol crate in memory, one thread): {ceiling:.0} two-party signings per second; {bytes} protocol bytes per signing"
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let duration = Duration::from_secs(seconds);
    let (node, setup) = if processes {
        (
            runtime.block_on(processes::run(
                duration,
                concurrency,
                suppliers,
                brand_postgres.as_deref(),
            )),
            "a brand and {suppliers} supplier node(s), each its own `signet run` process, driven over HTTP",
        )
    } else {
        (
            runtime.block_on(nodes(duration, concurrency, suppliers)),
            "a brand, {suppliers} supplier node(s) and a CA in this process",
        )
    };
    let rate = node.completed as f64 / node.elapsed.as_secs_f64();
    println!(
        "nodes ({}, {}, libp2p on loopback; {concurrency} concurrent sessions): {} signings in {:.1} s = {rate:.0} per second = {:.1} % of the ceiling",
        setup.replace("{suppliers}", &suppliers.to_string()),
        if brand_postgres.is_some() {
            "the brand on PostgreSQL (its server's CPU not counted below), the suppliers on sled"
        } else {
            "sled"
        },
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
        let per = |cpu: Duration| cpu.as_secs_f64() * 1e3 / node.completed.max(1) as f64;
        match node.node_cpu {
            Some(nodes) => println!(
                "CPU time per signing: {:.2} ms in the node processes (brand {:.2} ms), {:.2} ms in this load generator",
                per(nodes.iter().sum()),
                per(nodes[0]),
                per(node.cpu)
            ),
            None => println!(
                "CPU time per signing (this process, both nodes and the workers): {:.2} ms",
                per(node.cpu)
            ),
        }
    }
    if let Some((work, requests)) = &node.work {
        let per = |n: u64| n as f64 / node.completed.max(1) as f64;
        let each = |f: fn(&processes::Work) -> u64| {
            work.iter()
                .map(|w| format!("{:.1}", per(f(w))))
                .collect::<Vec<_>>()
                .join(" / ")
        };
        println!(
            "per signing, brand / supplier(s): {} session messages in, {} out, {} store flushes, {} context switches; {:.1} HTTP requests from the generator",
            each(|w| w.messages_in),
            each(|w| w.messages_out),
            each(|w| w.flushes),
            each(|w| w.switches),
            per(*requests)
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
    /// This process's CPU time during the run.
    cpu: Duration,
    /// In process mode, each node process's CPU time during the run (the brand first).
    node_cpu: Option<Vec<Duration>>,
    /// In process mode, what each node process did during the run (the brand first), and
    /// how many HTTP requests the workers made.
    work: Option<(Vec<processes::Work>, u64)>,
}

async fn nodes(duration: Duration, concurrency: usize, suppliers: usize) -> NodeRun {
    let root = tempfile::tempdir().unwrap();
    let (ca, brand, supplier_nodes) = fan_out(root.path(), suppliers).await;
    let parties: Vec<_> = supplier_nodes
        .iter()
        .map(|s| {
            let delegate = signet_node::keyfile::read(&s.delegate_key).unwrap();
            Arc::new((s.service.clone(), s.party(), Arc::new(delegate)))
        })
        .collect();
    let b = brand.service.clone();
    let run = drive(duration, concurrency, suppliers, move |worker, n| {
        let (b, s) = (b.clone(), parties[worker % parties.len()].clone());
        async move { one_signing(&b, &s.0, s.1, &s.2, worker, n).await }
    })
    .await;
    drop((ca, brand, supplier_nodes));
    run
}

/// Runs `concurrency` workers for `duration`, worker `w` doing signing `signing(w, n)` for
/// its `n`-th; first, not measured, the first `warm` workers each do one at once
/// (connections dialled, key logs and attestations cached). Returns every completed
/// signing's time, sorted, and this process's CPU time during the run.
async fn drive<F, Fut>(duration: Duration, concurrency: usize, warm: usize, signing: F) -> NodeRun
where
    F: Fn(usize, u64) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let signing = Arc::new(signing);
    let mut warming = tokio::task::JoinSet::new();
    for worker in 0..warm {
        warming.spawn(signing(worker, u64::MAX));
    }
    while warming.join_next().await.is_some() {}
    let stop = Arc::new(AtomicBool::new(false));
    let cpu_before = cpu_time();
    let started = Instant::now();
    let mut workers = tokio::task::JoinSet::new();
    for worker in 0..concurrency {
        let (signing, stop) = (signing.clone(), stop.clone());
        workers.spawn(async move {
            let mut latencies = Vec::new();
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let began = Instant::now();
                signing(worker, n).await;
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
        node_cpu: None,
        work: None,
    }
}

/// A CA, a brand and `suppliers` supplier nodes under `root`: the CA attests every firm; the
/// brand knows every supplier's key log, address and attestations, and each supplier the
/// brand's and the CA's (what gossip and the DHT would bring, without the all-pairs
/// introductions a hundred nodes would make).
async fn fan_out(
    root: &std::path::Path,
    suppliers: usize,
) -> (support::Node, support::Node, Vec<support::Node>) {
    if suppliers == 1 {
        let (ca, brand, supplier) = support::brand_and_supplier(root).await;
        return (ca, brand, vec![supplier]);
    }
    let (ca_dir, ca_key) = support::create(root, "Verifier CA", &[]);
    let ca = support::start("Verifier CA", &ca_dir, &ca_key).await;
    let anchors = [(ca.party(), "Verifier CA")];
    let (b_dir, b_key) = support::create(root, "Brand", &anchors);
    let brand = support::start("Brand", &b_dir, &b_key).await;
    let mut nodes = Vec::with_capacity(suppliers);
    for i in 0..suppliers {
        let name = format!("Supplier {i}");
        let (dir, key) = support::create(root, &name, &anchors);
        nodes.push(support::start(&name, &dir, &key).await);
    }
    let publish = |from: &support::Node, to: &[&support::Node]| {
        let log = from.service.own_key_log().unwrap();
        for n in to {
            n.service.import_key_log(&log).unwrap();
        }
    };
    let hub = [&brand, &ca];
    for n in &nodes {
        publish(n, &hub);
        publish(&brand, &[n]);
        publish(&ca, &[n]);
    }
    publish(&brand, &[&ca]);
    publish(&ca, &[&brand]);
    for n in nodes.iter().chain([&brand]) {
        let a = ca
            .service
            .attest_identity(
                n.party(),
                &n.name,
                signet_protocol::testkit::test_uscc(&n.name).number(),
                &format!("{} representative", n.name),
                365,
            )
            .unwrap();
        for m in nodes.iter().chain([&brand]) {
            m.service.import_attestation(a.bytes()).unwrap();
        }
    }
    // Each party's own attestations (mandates, revocation lists, the CA's certificates).
    for from in nodes.iter().chain(hub) {
        for a in from.service.attestations().unwrap() {
            if a.payload().issuer != from.party() {
                continue;
            }
            let to: Vec<&support::Node> =
                if from.party() == brand.party() || from.party() == ca.party() {
                    nodes
                        .iter()
                        .chain(hub)
                        .filter(|m| m.party() != from.party())
                        .collect()
                } else {
                    hub.to_vec()
                };
            for m in to {
                let _ = m.service.import_attestation(a.bytes());
            }
        }
    }
    for n in &nodes {
        brand.service.add_peer(&n.address).await.unwrap();
        n.service.add_peer(&brand.address).await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    (ca, brand, nodes)
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
            algorithms: None,
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

/// User and system CPU time of this process so far.
fn cpu_time() -> Duration {
    cpu_time_of("self")
}

/// User and system CPU time of process `pid` (or `self`) so far (`/proc/PID/stat`, in clock
/// ticks of 10 ms).
fn cpu_time_of(pid: &str) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
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

/// The nodes as separate `signet run` processes, driven over the HTTP API.
mod processes {
    use std::collections::BTreeMap;
    use std::io::{BufRead, BufReader};
    use std::path::{Path, PathBuf};
    use std::process::{Child, Command, Stdio};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::time::{Duration, Instant};

    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD as B64;
    use http_body_util::{BodyExt as _, Full};
    use hyper::body::Bytes;
    use serde_json::{Value, json};
    use signet_protocol::SecretKey;
    use signet_protocol::session::IntentChallenge;

    use super::{NodeRun, cpu_time_of, drive, fan_out, support};

    /// A node running as its own process.
    struct Process {
        child: Child,
        /// Its API (`host:port`).
        api: String,
        /// Its libp2p address with its peer id.
        address: String,
        party: String,
    }

    impl Process {
        /// Starts `signet run --dir DIR` and waits until it prints its addresses.
        fn start(signet: &Path, dir: &Path, party: String) -> Self {
            let mut child = Command::new(signet)
                .args(["run", "--dir"])
                .arg(dir)
                .env("RUST_LOG", "warn")
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| panic!("starting {}: {e}", signet.display()));
            let stdout = child.stdout.take().unwrap();
            let mut lines = BufReader::new(stdout).lines();
            let (mut api, mut address) = (None, None);
            while api.is_none() || address.is_none() {
                let line = lines
                    .next()
                    .unwrap_or_else(|| panic!("{} ended before it listened", dir.display()))
                    .unwrap();
                let line = line.trim();
                if let Some(a) = line.strip_prefix("API") {
                    api = Some(a.trim().trim_start_matches("http://").to_string());
                } else if let Some(a) = line.strip_prefix("listening") {
                    address.get_or_insert_with(|| a.trim().to_string());
                }
            }
            // Keep reading what it prints, so that it never blocks on a full pipe.
            std::thread::spawn(move || for _ in lines {});
            Self {
                child,
                api: api.unwrap(),
                address: address.unwrap(),
                party,
            }
        }

        fn cpu(&self) -> Duration {
            cpu_time_of(&self.child.id().to_string())
        }
    }

    impl Drop for Process {
        fn drop(&mut self) {
            // SIGINT: `signet run` stops cleanly (its store closed). Without a `kill`
            // command, or if it has not stopped within 10 s, SIGKILL.
            let interrupted = Command::new("kill")
                .args(["-INT", &self.child.id().to_string()])
                .status()
                .is_ok_and(|s| s.success());
            let deadline = Instant::now() + Duration::from_secs(10);
            while interrupted && Instant::now() < deadline {
                if let Ok(Some(_)) = self.child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }

    /// What a node process did: counters read before and after the run.
    #[derive(Clone, Copy, Default)]
    pub(super) struct Work {
        pub(super) messages_in: u64,
        pub(super) messages_out: u64,
        pub(super) flushes: u64,
        /// Voluntary and involuntary context switches of its threads (`/proc/PID/task/*/
        /// status`; a thread that ended during the run takes its count with it, so this is
        /// a lower bound).
        pub(super) switches: u64,
    }

    impl Work {
        async fn of(node: &Process) -> Self {
            let (_, metrics) = POOL
                .send(&node.api, "GET", "/metrics", "read-token", String::new())
                .await;
            let counter = |name: &str| {
                metrics
                    .lines()
                    .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
                    .unwrap_or(0)
            };
            let mut switches = 0;
            let tasks = format!("/proc/{}/task", node.child.id());
            for task in std::fs::read_dir(tasks).into_iter().flatten().flatten() {
                let status =
                    std::fs::read_to_string(task.path().join("status")).unwrap_or_default();
                switches += status
                    .lines()
                    .filter(|l| l.contains("ctxt_switches:"))
                    .filter_map(|l| l.split(':').nth(1)?.trim().parse::<u64>().ok())
                    .sum::<u64>();
            }
            Self {
                messages_in: counter("signet_messages_in_total"),
                messages_out: counter("signet_messages_out_total"),
                flushes: counter("signet_store_flushes_total"),
                switches,
            }
        }

        fn since(self, before: Self) -> Self {
            Self {
                messages_in: self.messages_in.saturating_sub(before.messages_in),
                messages_out: self.messages_out.saturating_sub(before.messages_out),
                flushes: self.flushes.saturating_sub(before.flushes),
                switches: self.switches.saturating_sub(before.switches),
            }
        }
    }

    /// The `signet` binary beside this example (`target/<profile>/signet`).
    fn signet_binary() -> PathBuf {
        let exe = std::env::current_exe().unwrap();
        let binary = exe
            .parent()
            .and_then(Path::parent)
            .map(|d| d.join("signet"))
            .unwrap();
        assert!(
            binary.exists(),
            "{} is not built: cargo build --release -p signet-node --bin signet --example load",
            binary.display()
        );
        binary
    }

    /// One HTTP call; panics unless the status is `expect`.
    async fn call(api: &str, method: &str, path: &str, body: &Value, expect: u16) -> Value {
        let token = if method == "GET" {
            "read-token"
        } else {
            "admin-token"
        };
        let (status, text) = POOL.send(api, method, path, token, body.to_string()).await;
        assert_eq!(status, expect, "{method} {path}: {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    /// The generator's HTTP/1.1 connections, kept alive between requests as an integrator's
    /// client keeps them: a request takes an idle connection to its node or dials one, and
    /// gives it back after the response. (Dialling per request cost the nodes an accept, a
    /// connection task and a shutdown per request.)
    static POOL: std::sync::LazyLock<Pool> = std::sync::LazyLock::new(Pool::default);

    type Sender = hyper::client::conn::http1::SendRequest<Full<Bytes>>;

    #[derive(Default)]
    struct Pool {
        idle: std::sync::Mutex<BTreeMap<String, Vec<Sender>>>,
        /// Requests sent so far.
        requests: AtomicU64,
    }

    impl Pool {
        /// Sends one request; returns the status and the body as text.
        async fn send(
            &self,
            api: &str,
            method: &str,
            path: &str,
            token: &str,
            body: String,
        ) -> (u16, String) {
            let request = || {
                hyper::Request::builder()
                    .method(method)
                    .uri(path)
                    .header(hyper::header::HOST, api)
                    .header(hyper::header::AUTHORIZATION, format!("Bearer {token}"))
                    .header(hyper::header::CONTENT_TYPE, "application/json")
                    .body(Full::new(Bytes::from(body.clone())))
                    .unwrap()
            };
            self.requests.fetch_add(1, Ordering::Relaxed);
            // An idle connection the node has closed meanwhile fails at once: dial then.
            let reused = match self.idle(api) {
                Some(mut sender) => match sender.send_request(request()).await {
                    Ok(response) => Some((sender, response)),
                    Err(_) => None,
                },
                None => None,
            };
            let (mut sender, response) = match reused {
                Some(reused) => reused,
                None => {
                    let mut sender = dial(api).await;
                    let response = sender.send_request(request()).await.unwrap();
                    (sender, response)
                }
            };
            let status = response.status().as_u16();
            let body = response.into_body().collect().await.unwrap().to_bytes();
            if sender.ready().await.is_ok() {
                self.idle
                    .lock()
                    .unwrap()
                    .entry(api.to_string())
                    .or_default()
                    .push(sender);
            }
            (status, String::from_utf8_lossy(&body).into_owned())
        }

        fn idle(&self, api: &str) -> Option<Sender> {
            let mut idle = self.idle.lock().unwrap();
            let senders = idle.get_mut(api)?;
            while let Some(sender) = senders.pop() {
                if !sender.is_closed() {
                    return Some(sender);
                }
            }
            None
        }
    }

    async fn dial(api: &str) -> Sender {
        let stream = tokio::net::TcpStream::connect(api).await.unwrap();
        stream.set_nodelay(true).unwrap();
        let (sender, connection) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
                .await
                .unwrap();
        tokio::spawn(connection);
        sender
    }

    pub(super) async fn run(
        duration: Duration,
        concurrency: usize,
        suppliers: usize,
        brand_postgres: Option<&str>,
    ) -> NodeRun {
        let signet = signet_binary();
        let root = tempfile::tempdir().unwrap();
        // Set up (key logs, the CA's attestations, mandates) with the nodes in this process,
        // then stop them and run each as its own process.
        let (ca, brand, supplier_nodes) = fan_out(root.path(), suppliers).await;
        let mut setups = vec![(brand.party(), brand.stop().await)];
        for n in supplier_nodes {
            setups.push((n.party(), n.stop().await));
        }
        drop(ca.stop().await);
        let mut nodes = Vec::new();
        let mut delegates = Vec::new();
        if let Some(url) = brand_postgres {
            move_to_postgres(&setups[0].1.0, url);
        }
        for (party, (dir, key)) in &setups {
            support::test_tokens(dir);
            // An integration signing in bulk turns the per-token rate limit off.
            let mut config = signet_node::service::config::NodeConfig::load(dir).unwrap();
            config.api_limits.requests_per_second = 0;
            config.save(dir).unwrap();
            nodes.push(Process::start(&signet, dir, party.to_string()));
            delegates.push(Arc::new(signet_node::keyfile::read(key).unwrap()));
        }
        let (brand, suppliers) = nodes.split_first().unwrap();
        for s in suppliers {
            let peer = |address: &str| json!({ "address": address });
            call(&brand.api, "POST", "/v1/peers", &peer(&s.address), 200).await;
            call(&s.api, "POST", "/v1/peers", &peer(&brand.address), 200).await;
        }
        let brand = Arc::new((brand.api.clone(), brand.party.clone()));
        let suppliers: Vec<_> = suppliers
            .iter()
            .zip(&delegates[1..])
            .map(|(s, key)| Arc::new((s.api.clone(), s.party.clone(), key.clone())))
            .collect();
        let nodes_before: Vec<Duration> = nodes.iter().map(Process::cpu).collect();
        let mut work_before = Vec::new();
        for n in &nodes {
            work_before.push(Work::of(n).await);
        }
        let requests_before = POOL.requests.load(Ordering::Relaxed);
        let mut run = drive(duration, concurrency, suppliers.len(), move |worker, n| {
            let (b, s) = (brand.clone(), suppliers[worker % suppliers.len()].clone());
            async move { one_signing(&b, &s, worker, n).await }
        })
        .await;
        run.node_cpu = Some(
            nodes
                .iter()
                .zip(nodes_before)
                .map(|(n, before)| n.cpu().saturating_sub(before))
                .collect(),
        );
        let requests = POOL.requests.load(Ordering::Relaxed) - requests_before;
        let mut work = Vec::new();
        for (n, before) in nodes.iter().zip(work_before) {
            work.push(Work::of(n).await.since(before));
        }
        run.work = Some((work, requests));
        drop(nodes);
        run
    }

    /// Moves the (stopped) node in `dir` from its sled store into the PostgreSQL database
    /// `url`, as `signet migrate` does.
    fn move_to_postgres(dir: &Path, url: &str) {
        use signet_node::service::config::{NodeConfig, StorageConfig};
        let mut config = NodeConfig::load(dir).unwrap();
        let storage = StorageConfig::Postgres {
            url: url.to_string(),
            connections: signet_node::store::DEFAULT_CONNECTIONS,
        };
        {
            let from = config.storage.open(dir).unwrap();
            let to = storage.open(dir).unwrap();
            signet_node::store::copy::copy_store(&*from, &*to).unwrap();
        }
        config.storage = storage;
        config.save(dir).unwrap();
    }

    /// One signing over HTTP: proposed at the brand, signed at the supplier by its delegate
    /// (the intent proof made here, with the delegate's key) once the proposal is there,
    /// completed at the brand.
    async fn one_signing(
        brand: &(String, String),
        supplier: &(String, String, Arc<SecretKey>),
        worker: usize,
        n: u64,
    ) {
        let (api, party, delegate) = supplier;
        let order = format!("order {worker}-{n}");
        let created = call(
            &brand.0,
            "POST",
            "/v1/sessions",
            &json!({
                "title": format!("Order {worker}-{n}"),
                "purpose": "procurement",
                "participants": [{ "party": party }],
                "documents": [{ "name": "order.pdf", "content": B64.encode(order) }],
            }),
            201,
        )
        .await;
        let id = created["id"].as_str().unwrap().to_string();
        // Polls wait 2 ms, then twice as long each time up to 16 ms: a worker's polls are
        // requests the nodes serve, and at 2 ms each they were a load of their own.
        let mut wait = Backoff::default();
        let challenge = loop {
            let path = format!("/v1/sessions/{id}/intent");
            let (status, text) = POOL
                .send(api, "GET", &path, "admin-token", String::new())
                .await;
            if status == 200 {
                let v: Value = serde_json::from_str(&text).unwrap();
                break B64.decode(v["challenge"].as_str().unwrap()).unwrap();
            }
            wait.sleep().await;
        };
        let mut wait = Backoff::default();
        let challenge: IntentChallenge =
            signet_protocol::codec::decode(&challenge, &signet_protocol::codec::Limits::DEFAULT)
                .unwrap();
        let proof = signet_node::person::prove_intent(&challenge, delegate).unwrap();
        call(
            api,
            "POST",
            &format!("/v1/sessions/{id}/sign"),
            &json!({ "intent": B64.encode(proof) }),
            200,
        )
        .await;
        loop {
            let v = call(
                &brand.0,
                "GET",
                &format!("/v1/sessions/{id}"),
                &Value::Null,
                200,
            )
            .await;
            if v["status"] == "completed" {
                break;
            }
            wait.sleep().await;
        }
    }

    /// A poll's wait: 2 ms, doubling up to 16 ms.
    #[derive(Default)]
    struct Backoff(u32);

    impl Backoff {
        async fn sleep(&mut self) {
            tokio::time::sleep(Duration::from_millis(2 << self.0.min(3))).await;
            self.0 += 1;
        }
    }
}
