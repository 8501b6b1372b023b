//! Key logs and attestations spread by gossip: a node that only knows a peer's address
//! learns its key log and the attestation it issued, without any import by hand.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::time::Duration;

use signet_protocol::testkit::test_uscc;
use support::{create, start};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ca_attestation_reaches_a_peer_by_gossip() {
    let root = tempfile::tempdir().unwrap();
    let (ca_dir, ca_key) = create(root.path(), "Verifier CA", &[]);
    let ca = start("Verifier CA", &ca_dir, &ca_key).await;
    let anchors = [(ca.party(), "Verifier CA")];
    let (b_dir, b_key) = create(root.path(), "Brand", &anchors);
    let brand = start("Brand", &b_dir, &b_key).await;
    brand.service.add_peer(&ca.address).await.unwrap();
    ca.service.add_peer(&brand.address).await.unwrap();
    let attestation = ca
        .service
        .attest_identity(
            brand.party(),
            "Brand",
            test_uscc("Brand").number(),
            "rep",
            365,
        )
        .unwrap();
    let id = attestation.payload().id;
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let known = brand
            .service
            .attestations()
            .unwrap()
            .iter()
            .any(|a| a.payload().id == id);
        if known {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the attestation never arrived by gossip"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The brand learned the CA's key log too (the attestation could not be imported without it).
    assert!(
        brand
            .service
            .import_attestation(attestation.bytes())
            .is_ok()
    );
}
