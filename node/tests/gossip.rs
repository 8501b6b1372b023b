//! Key logs and attestations spread by gossip: a node that only knows a peer's address
//! learns its key log and the attestation it issued, without any import by hand; a peer that
//! gossips forged ones loses its score.
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_gossiping_forged_attestations_and_key_logs_is_penalised() {
    use std::sync::Arc;

    use signet_node::net::{self, Hooks, Topic, Validation};
    use signet_node::service::gossip::encode_key_log;
    use signet_node::store::MemoryStore;
    use signet_protocol::party::PartyId;
    use signet_protocol::session::SessionId;
    use signet_protocol::{Digest, SecretKey};

    let root = tempfile::tempdir().unwrap();
    let (ca_dir, ca_key) = create(root.path(), "Verifier CA", &[]);
    let ca = start("Verifier CA", &ca_dir, &ca_key).await;
    let anchors = [(ca.party(), "Verifier CA")];
    let (b_dir, b_key) = create(root.path(), "Brand", &anchors);
    let brand = start("Brand", &b_dir, &b_key).await;
    brand.service.add_peer(&ca.address).await.unwrap();
    ca.service.add_peer(&brand.address).await.unwrap();
    // Mallory: a bare network node that publishes whatever it likes.
    let hooks = Hooks {
        store: Arc::new(MemoryStore::new()),
        documents: Arc::new(|_: &PartyId, _: &SessionId, _: &Digest| false),
        gossip: Arc::new(|_: Topic, _: &[u8]| Validation::Accept),
    };
    let (mallory, _events, event_loop) = net::new(
        &SecretKey::from_seed(&[42; 32]),
        PartyId::from_digest(Digest::of(b"Mallory")),
        net::Config::default(),
        hooks,
    )
    .unwrap();
    tokio::spawn(event_loop.run());
    mallory.dial(brand.address.parse().unwrap()).await.unwrap();

    // Genuine objects with one byte changed: the signatures fail.
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
    let log = ca.service.own_key_log().unwrap();
    let mut forged = Vec::new();
    for i in 1..=3 {
        let mut a = attestation.bytes().to_vec();
        let n = a.len();
        a[n - i] ^= 1;
        forged.push((Topic::Attestations, a));
        let mut events = log.clone();
        let n = events[0].len();
        events[0][n - i] ^= 1;
        forged.push((Topic::KeyLogs, encode_key_log(&events).unwrap()));
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let client = brand.service.client().unwrap().clone();
    let mut queue = forged.into_iter();
    let mut next = queue.next();
    let score = loop {
        // Publishing fails until Mallory knows the brand subscribes.
        if let Some((topic, data)) = next.clone()
            && mallory.publish(topic, data).await.is_ok()
        {
            next = queue.next();
        }
        let score = client.peer_score(mallory.peer_id()).await.unwrap();
        if score.is_some_and(|s| s < signet_node::net::gossip::GRAYLIST_THRESHOLD) {
            break score.unwrap();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "Mallory's score stayed at {score:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(score < 0.0);
    let ca_peer = ca.service.client().unwrap().peer_id();
    let ca_score = client.peer_score(ca_peer).await.unwrap().unwrap_or(0.0);
    assert!(ca_score >= 0.0, "the honest CA scored {ca_score}");
}
