//! A 256 MiB document through the PostgreSQL store, in and out, never in memory whole: the
//! process's peak resident memory grows by far less than the document. A test binary of its
//! own, so that no other test's allocations count. Runs against a real server (see
//! `src/store/postgres_test_server.rs`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../src/store/postgres_test_server.rs"]
mod postgres_test_server;

use std::io::Read;

use sha2::Digest as _;
use signet_node::store::{DocumentReader, PostgresStore, put_document};
use signet_protocol::Digest;

const MIB: usize = 1024 * 1024;

/// Peak resident memory of this process so far, in MiB (Linux).
fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map(|kb| kb / 1024.0)
        .unwrap()
}

/// `len` pseudo-random (incompressible) bytes, produced as they are read.
struct Generated {
    left: usize,
    state: u64,
}

impl Read for Generated {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let n = out.len().min(self.left);
        for b in &mut out[..n] {
            self.state ^= self.state << 13;
            self.state ^= self.state >> 7;
            self.state ^= self.state << 17;
            *b = self.state as u8;
        }
        self.left -= n;
        Ok(n)
    }
}

#[test]
fn a_256_mib_document_goes_in_and_out_of_postgres_a_chunk_at_a_time() {
    let Some(db) = postgres_test_server::fresh_database("memory") else {
        return;
    };
    let store = PostgresStore::open(db.url(), 2).unwrap();
    let len = 256 * MIB;
    let before = peak_rss_mib();

    let mut expected = sha2::Sha256::new();
    let mut copy = Generated {
        left: len,
        state: 0x9e37_79b9_7f4a_7c15,
    };
    let mut buffer = vec![0u8; MIB];
    loop {
        let n = copy.read(&mut buffer).unwrap();
        if n == 0 {
            break;
        }
        expected.update(&buffer[..n]);
    }
    let expected = Digest::from_bytes(expected.finalize().into());

    let mut source = Generated {
        left: len,
        state: 0x9e37_79b9_7f4a_7c15,
    };
    let (digest, manifest) = put_document(&store, &mut source).unwrap();
    assert_eq!(digest, expected);
    assert_eq!(manifest.len(), len as u64);

    let mut reader = DocumentReader::open(&store, &digest).unwrap().unwrap();
    let mut read_back = sha2::Sha256::new();
    let mut total = 0usize;
    loop {
        let n = reader.read(&mut buffer).unwrap();
        if n == 0 {
            break;
        }
        read_back.update(&buffer[..n]);
        total += n;
    }
    assert_eq!(total, len);
    assert_eq!(Digest::from_bytes(read_back.finalize().into()), expected);

    let grown = peak_rss_mib() - before;
    eprintln!("peak resident memory grew by {grown:.1} MiB for a 256 MiB document");
    assert!(
        grown < 64.0,
        "peak resident memory grew by {grown:.1} MiB: the document was held in memory"
    );
}
