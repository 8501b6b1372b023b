//! Complete two-party signings through real nodes (sled stores, libp2p on loopback), as
//! many as fast as possible, then measure the brand's node holding them:
//!
//! ```sh
//! cargo run --release -p signet-node --example service_bench [N] [--keep DIR] [--open-sessions M]
//! cargo run --release -p signet-node --example service_bench --open DIR
//! ```
//!
//! The first form completes N signings, stops the brand's node and opens it again in the same
//! process; with `--keep DIR` it also copies the brand's node directory to `DIR`, and with
//! `--open-sessions M` it first proposes M more sessions that stay open (at most 1,000: a
//! supplier takes no more open sessions from one initiator), which a reopened node holds in
//! memory. The second
//! opens a kept directory in a fresh process, so the resident memory reported is the brand's
//! node alone. Either reports how long opening took, resident memory, and the latency of
//! reading one session (`Service::session`, at random, mostly not in the recently-ended
//! cache) and of listing pages of 50 (`Service::sessions`, walking the whole list).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../tests/support/mod.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use signet_node::service::{Service, SessionFilter};
use signet_protocol::session::SessionId;
use support::{brand_and_supplier, in_parallel};

/// The threads proposing and signing at once.
const GENERATORS: usize = 8;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flag = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .map(PathBuf::from)
    };
    if let Some(dir) = flag("--open") {
        measure_reopened(&dir);
        return;
    }
    let n: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(200);
    let keep = flag("--keep");
    let open_sessions: usize = flag("--open-sessions")
        .and_then(|m| m.to_str()?.parse().ok())
        .unwrap_or(0);
    // Beside the kept directory, so that keeping it is a rename: a million sessions' directory
    // is some 30 GB, and copying it would need that much again.
    let root = match keep.as_deref().and_then(Path::parent) {
        Some(parent) if !parent.as_os_str().is_empty() => tempfile::tempdir_in(parent).unwrap(),
        _ => tempfile::tempdir().unwrap(),
    };
    let (_ca, brand, supplier) = brand_and_supplier(root.path()).await;
    let delegate = signet_node::keyfile::read(&supplier.delegate_key).unwrap();

    // In waves: a supplier takes at most 1,000 open sessions from one initiator.
    const WAVE: usize = 500;
    let started = Instant::now();
    let mut proposed = Duration::ZERO;
    let mut ids = Vec::with_capacity(n);
    for wave in (0..n).collect::<Vec<_>>().chunks(WAVE) {
        let proposing = Instant::now();
        let wave_ids = in_parallel(GENERATORS, wave, |i| {
            propose(&brand.service, supplier.party(), i)
        });
        proposed += proposing.elapsed();
        let mut unsigned = wave_ids.clone();
        while !unsigned.is_empty() {
            let signed = in_parallel(
                GENERATORS,
                &unsigned,
                |id| match signet_node::person::sign_as(&supplier.service, id, &delegate) {
                    Ok(_) => true,
                    Err(e) => {
                        if std::env::var("DEBUG_SIGN").is_ok() {
                            eprintln!("{id}: {e}");
                        }
                        false
                    }
                },
            );
            unsigned = unsigned
                .into_iter()
                .zip(signed)
                .filter_map(|(id, signed)| (!signed).then_some(id))
                .collect();
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        ids.extend(wave_ids);
        loop {
            let done = brand
                .service
                .sessions_by_status()
                .unwrap()
                .get("completed")
                .map_or(0, |n| *n as usize);
            if done == ids.len() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    let total = started.elapsed();
    println!(
        "{n} two-party signings completed in {:.2} s ({:.0} per second; proposing took {:.2} s)",
        total.as_secs_f64(),
        n as f64 / total.as_secs_f64(),
        proposed.as_secs_f64()
    );
    // Sessions left open (proposed, never signed): the reopened node holds them in memory.
    for i in 0..open_sessions {
        propose(&brand.service, supplier.party(), n + i);
    }

    // The brand reopened with its N completed sessions.
    let (mut b_dir, _) = brand.stop().await;
    if let Some(keep) = keep {
        if std::fs::rename(&b_dir, &keep).is_err() {
            support::copy_dir(&b_dir, &keep);
        }
        println!("the brand's node directory is kept in {}", keep.display());
        b_dir = keep;
    }
    measure_reopened(&b_dir);
}

/// Proposes session number `i` from `brand` to `supplier`.
fn propose(brand: &Service, supplier: signet_protocol::party::PartyId, i: usize) -> SessionId {
    let order = format!("order {i}").into_bytes();
    brand
        .create_session(support::one_signer(&format!("Order {i}"), supplier, order))
        .unwrap()
}

/// Opens the node in `dir` and reads its sessions: the time to open, resident memory, and
/// the latency of gets and of list pages.
fn measure_reopened(dir: &Path) {
    let rss_before = rss_kib();
    let opening = Instant::now();
    let brand = Service::open(dir).unwrap();
    let opened = opening.elapsed();
    let counts = brand.sessions_by_status().unwrap();
    let n: u64 = counts.values().sum();
    println!(
        "opened holding {n} sessions ({counts:?}) in {:.1} ms; resident memory {} KiB -> {} KiB",
        opened.as_secs_f64() * 1000.0,
        rss_before,
        rss_kib()
    );
    // Walking the whole list, page by page, also collects the ids to get at random.
    let mut ids: Vec<SessionId> = Vec::with_capacity(n as usize);
    let mut pages = Vec::new();
    let mut after = None;
    loop {
        let t = Instant::now();
        let page = brand
            .sessions(&SessionFilter {
                after,
                limit: 50,
                ..Default::default()
            })
            .unwrap();
        pages.push(t.elapsed());
        ids.extend(
            page.sessions
                .iter()
                .map(|s| s.id.parse::<SessionId>().unwrap()),
        );
        match page.next {
            Some(next) => after = Some(next.parse().unwrap()),
            None => break,
        }
    }
    assert_eq!(ids.len() as u64, n, "the list holds every session");
    let mut gets = Vec::new();
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    for _ in 0..ids.len().min(2000) {
        // xorshift: a different session each time, in no particular order.
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let id = ids[(state % ids.len() as u64) as usize];
        let t = Instant::now();
        let status = brand.session(id).unwrap().status;
        assert!(status == "completed" || status == "open", "{status}");
        gets.push(t.elapsed());
    }
    for (what, mut times) in [("session get", gets), ("list page of 50", pages)] {
        times.sort();
        let at = |q: f64| times[((times.len() - 1) as f64 * q) as usize].as_secs_f64() * 1000.0;
        println!(
            "{what}: {} calls, p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            times.len(),
            at(0.5),
            at(0.99),
            at(1.0)
        );
    }
    println!(
        "resident memory after reading: {} KiB (peak {} KiB)",
        rss_kib(),
        status_kib("VmHWM:")
    );
    // The store alone (sled's own recovery, or connecting), after the node has let it go:
    // timed before the node, its closing would have delayed the node's opening (sled lets
    // go of its directory's lock a moment after the last handle is dropped).
    drop(brand);
    let storage = signet_node::service::config::NodeConfig::load(dir)
        .unwrap()
        .storage;
    let kind = match storage {
        signet_node::service::config::StorageConfig::Sled {} => "sled",
        signet_node::service::config::StorageConfig::Postgres { .. } => "PostgreSQL",
    };
    let opening = Instant::now();
    drop(storage.open(dir).unwrap());
    println!(
        "the {kind} store alone opens in {:.1} ms",
        opening.elapsed().as_secs_f64() * 1000.0
    );
}

/// This process's resident memory now (`VmRSS`), in KiB.
fn rss_kib() -> u64 {
    status_kib("VmRSS:")
}

/// A memory figure of this process from `/proc/self/status`, in KiB.
fn status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix(field))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}
