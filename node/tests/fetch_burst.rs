//! A burst of proposals larger than the supplier's document-fetch queue: every document is
//! still fetched, without a restart. (Before, a fetch that found the bounded queue full was
//! dropped "until the next start", and its session could not be signed.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::time::{Duration, Instant};

use signet_node::service::Service;
use signet_protocol::party::PartyId;
use signet_protocol::session::SessionId;
use support::{brand_and_supplier, in_parallel, one_signer};

/// More than the fetch queue holds (256).
const BURST: usize = 600;
/// Proposing threads: concurrent proposals arrive at the supplier together.
const THREADS: usize = 8;

fn propose(brand: &Service, supplier: PartyId, i: usize) -> SessionId {
    let order = format!("order {i}").into_bytes();
    brand
        .create_session(one_signer(&format!("Order {i}"), supplier, order))
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_proposals_larger_than_the_fetch_queue_is_fetched_whole() {
    let root = tempfile::tempdir().unwrap();
    let (_ca, brand, supplier) = brand_and_supplier(root.path()).await;
    let delegate = signet_node::keyfile::read(&supplier.delegate_key).unwrap();

    let (service, party) = (brand.service.clone(), supplier.party());
    let ids = tokio::task::spawn_blocking(move || {
        let orders: Vec<usize> = (0..BURST).collect();
        in_parallel(THREADS, &orders, |i| propose(&service, party, i))
    })
    .await
    .unwrap();
    assert_eq!(ids.len(), BURST);

    // Every session becomes signable: its document reached the supplier.
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut unsigned = ids;
    while !unsigned.is_empty() {
        assert!(
            Instant::now() < deadline,
            "{} of {BURST} sessions still cannot be signed; the first: {}",
            unsigned.len(),
            signet_node::person::sign_as(&supplier.service, unsigned[0], &delegate).unwrap_err()
        );
        unsigned
            .retain(|id| signet_node::person::sign_as(&supplier.service, *id, &delegate).is_err());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
