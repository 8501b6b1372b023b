//! Complete two-party signings through real nodes (sled stores, libp2p on loopback), as
//! many as fast as possible: `cargo run --release -p signet-node --example service_bench [N]`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use signet_node::service::{DocumentSource, NewDocument, NewParticipant, NewSession};
use signet_protocol::session::Role;
use support::{create, federate, start};

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(200);
    let root = tempfile::tempdir().unwrap();
    let (ca_dir, ca_key) = create(root.path(), "Verifier CA", &[]);
    let ca = start("Verifier CA", &ca_dir, &ca_key).await;
    let anchors = [(ca.party(), "Verifier CA")];
    let (b_dir, b_key) = create(root.path(), "Brand", &anchors);
    let (s_dir, s_key) = create(root.path(), "Supplier", &anchors);
    let brand = start("Brand", &b_dir, &b_key).await;
    let supplier = start("Supplier", &s_dir, &s_key).await;
    federate(&ca, &[&brand, &supplier]).await;
    let delegate = signet_node::keyfile::read(&supplier.delegate_key).unwrap();

    let started = Instant::now();
    let mut ids = Vec::with_capacity(n);
    for i in 0..n {
        let id = brand
            .service
            .create_session(NewSession {
                title: format!("Order {i}"),
                purpose: "procurement".into(),
                participants: vec![NewParticipant {
                    party: supplier.party(),
                    role: Role::Signer,
                    order: 0,
                }],
                documents: vec![NewDocument {
                    name: "order.pdf".into(),
                    media_type: "application/pdf".into(),
                    source: DocumentSource::Bytes(format!("order {i}").into_bytes()),
                    pdf_seals: None,
                }],
                deadline_days: 30,
                witnesses: vec![],
            })
            .unwrap();
        ids.push(id);
    }
    let proposed = started.elapsed();
    let mut signed = vec![false; n];
    let mut left = n;
    while left > 0 {
        for (i, id) in ids.iter().enumerate() {
            if !signed[i] && signet_node::person::sign_as(&supplier.service, *id, &delegate).is_ok()
            {
                signed[i] = true;
                left -= 1;
            }
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    loop {
        let done = brand
            .service
            .sessions_by_status()
            .unwrap()
            .get("completed")
            .map_or(0, |n| *n as usize);
        if done == n {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let total = started.elapsed();
    println!(
        "{n} two-party signings completed in {:.2} s ({:.0} per second; proposing took {:.2} s)",
        total.as_secs_f64(),
        n as f64 / total.as_secs_f64(),
        proposed.as_secs_f64()
    );
}
