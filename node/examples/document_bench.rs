//! A large document through two real nodes: uploaded as a stream to the initiator's API,
//! proposed by digest, fetched chunk by chunk by the counterparty (libp2p on loopback,
//! digest-checked, stored in sled), then signed. Prints the time of each part and the
//! process's peak memory, which stays far below the document's size if nothing holds the
//! document whole: `cargo run --release -p signet-node --example document_bench [MIB]`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../tests/support/mod.rs"]
mod support;

use std::io::Write;
use std::time::{Duration, Instant};

use sha2::Digest as _;
use signet_node::service::{DocumentSource, NewDocument, NewParticipant, NewSession};
use signet_protocol::Digest;
use signet_protocol::session::Role;
use support::{brand_and_supplier, serve_api};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Peak resident memory of this process so far, in MiB (Linux).
fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let mib: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(256);
    let root = tempfile::tempdir().unwrap();
    let (_ca, brand, supplier) = brand_and_supplier(root.path()).await;
    let api = serve_api(&brand).await;

    // The document, written to disk piece by piece (pseudo-random, incompressible).
    let path = root.path().join("drawings.bin");
    let mut file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut piece = vec![0u8; 1024 * 1024];
    let mut hasher = sha2::Sha256::new();
    for _ in 0..mib {
        for b in piece.iter_mut() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            *b = state as u8;
        }
        hasher.update(&piece);
        file.write_all(&piece).unwrap();
    }
    file.flush().unwrap();
    drop(file);
    let digest = Digest::from_bytes(hasher.finalize().into());
    let before = peak_rss_mib();

    // Upload: the raw file as the request body, 256 KiB at a time.
    let started = Instant::now();
    let mut s = tokio::net::TcpStream::connect(&api).await.unwrap();
    let len = mib * 1024 * 1024;
    let head = format!(
        "POST /v1/documents HTTP/1.1\r\nHost: {api}\r\nConnection: close\r\nAuthorization: Bearer sign-token\r\nContent-Type: application/octet-stream\r\nContent-Length: {len}\r\n\r\n"
    );
    s.write_all(head.as_bytes()).await.unwrap();
    let mut source = std::fs::File::open(&path).unwrap();
    let mut buffer = vec![0u8; 256 * 1024];
    loop {
        let n = std::io::Read::read(&mut source, &mut buffer).unwrap();
        if n == 0 {
            break;
        }
        s.write_all(&buffer[..n]).await.unwrap();
    }
    let mut answer = String::new();
    s.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");
    assert!(answer.contains(&digest.to_string()), "{answer}");
    let uploaded = started.elapsed();

    // Proposed by digest; the supplier fetches it, then signs.
    let started = Instant::now();
    let id = brand
        .service
        .create_session(NewSession {
            title: "Tooling drawings".into(),
            purpose: "procurement".into(),
            participants: vec![NewParticipant {
                party: supplier.party(),
                role: Role::Signer,
                order: 0,
            }],
            documents: vec![NewDocument {
                name: "drawings.bin".into(),
                media_type: "application/octet-stream".into(),
                source: DocumentSource::Stored(digest),
                pdf_seals: None,
            }],
            deadline_days: 30,
            algorithms: None,
            witnesses: vec![],
        })
        .unwrap();
    let delegate = signet_node::keyfile::read(&supplier.delegate_key).unwrap();
    while signet_node::person::sign_as(&supplier.service, id, &delegate).is_err() {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let fetched = started.elapsed();
    while brand.service.session(id).unwrap().status != "completed" {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let signed = started.elapsed();
    println!("document        {mib} MiB ({digest})");
    println!(
        "upload (API)    {:.2} s, {:.0} MiB/s",
        uploaded.as_secs_f64(),
        mib as f64 / uploaded.as_secs_f64()
    );
    println!(
        "fetch (libp2p)  {:.2} s, {:.0} MiB/s (proposal, chunk by chunk, digest-checked, stored)",
        fetched.as_secs_f64(),
        mib as f64 / fetched.as_secs_f64()
    );
    println!(
        "signed          {:.2} s after proposing",
        signed.as_secs_f64()
    );
    println!(
        "peak RSS        {:.0} MiB before the upload, {:.0} MiB after (three nodes in this process)",
        before,
        peak_rss_mib()
    );
}
