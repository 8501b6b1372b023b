//! Durable write rate of [`SledStore`] with group commit.
//!
//! `cargo run --release -p signet-node --example store_bench [DIR]`
//!
//! For 1, 4, 16 and 64 concurrent writers, each writing 256-byte outbox entries for two
//! seconds, prints acknowledged (durable) writes per second; then one writer committing
//! batches of 32. Every write returns only after
//! an fsync that covers it; concurrent writers share fsyncs. DIR defaults to a temporary
//! directory under the current one (so it measures the disk you run it on, not a tmpfs).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use signet_node::store::{OutboxKey, SledStore, Store};
use signet_protocol::Digest;
use signet_protocol::party::PartyId;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let base = std::env::args()
        .nth(1)
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::PathBuf::from("."));
    let dir = tempfile::tempdir_in(base)?;
    println!("store: {}", dir.path().display());
    for writers in [1u64, 4, 16, 64] {
        let store = Arc::new(SledStore::open(dir.path().join(writers.to_string()))?);
        let stop = Arc::new(AtomicBool::new(false));
        let done = Arc::new(AtomicU64::new(0));
        let started = Instant::now();
        let threads: Vec<_> = (0..writers)
            .map(|w| {
                let (store, stop, done) = (store.clone(), stop.clone(), done.clone());
                std::thread::spawn(move || -> Result<(), String> {
                    let recipient = PartyId::from_digest(Digest::of(&w.to_be_bytes()));
                    let value = [w as u8; 256];
                    let mut seq = 0;
                    while !stop.load(Ordering::Relaxed) {
                        store
                            .put_outbox(&OutboxKey { recipient, seq }, &value)
                            .map_err(|e| e.to_string())?;
                        seq += 1;
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(())
                })
            })
            .collect();
        std::thread::sleep(Duration::from_secs(2));
        stop.store(true, Ordering::Relaxed);
        for t in threads {
            t.join().map_err(|_| "writer panicked")??;
        }
        let secs = started.elapsed().as_secs_f64();
        let n = done.load(Ordering::Relaxed);
        println!(
            "{writers:>3} writers: {n:>7} durable writes in {secs:.2} s = {:>8.0} writes/s",
            n as f64 / secs
        );
    }
    // One writer, 32 entries per atomic batch (Outbox::enqueue_many's path).
    let store = SledStore::open(dir.path().join("batch"))?;
    let recipient = PartyId::from_digest(Digest::of(b"batch"));
    let started = Instant::now();
    let mut seq = 0;
    while started.elapsed() < Duration::from_secs(2) {
        let batch: Vec<(OutboxKey, Vec<u8>)> = (0..32)
            .map(|i| {
                (
                    OutboxKey {
                        recipient,
                        seq: seq + i,
                    },
                    vec![7u8; 256],
                )
            })
            .collect();
        store.put_outbox_batch(&batch)?;
        seq += 32;
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "  1 writer, batches of 32: {seq:>7} durable writes in {secs:.2} s = {:>8.0} writes/s",
        seq as f64 / secs
    );
    Ok(())
}
