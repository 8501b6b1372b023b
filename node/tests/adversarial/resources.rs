//! Attacks on a node's resources and identity bookkeeping: flooding, oversized asks,
//! squatting on keys and ids. Bounded, refused before anything is stored, and the node keeps
//! serving.

use std::sync::Arc;
use std::time::Duration;

use signet_node::net::{self, Hooks, Topic, Validation};
use signet_node::service::config::NodeConfig;
use signet_node::store::MemoryStore;
use signet_protocol::attestation::{AssuranceLevel, AttestationKind, Claims};
use signet_protocol::cose::Signed;
use signet_protocol::error::ErrorCode;
use signet_protocol::keylog::{KEY_EVENT_CONTENT_TYPE, KeyChange, KeyEvent, KeyPurpose};
use signet_protocol::party::PartyId;
use signet_protocol::session::SessionId;
use signet_protocol::testkit::TestParty;
use signet_protocol::{Digest, SecretKey};

use crate::support::{create, federate, one_signer, start, until};
use crate::world::{World, settle, snapshot};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a01_node_key_squatting() {
    let world = World::new().await;
    // Mallory appends to her key log a declaration of Brand's node key, copied from Brand's
    // log with Brand's proof of possession.
    let brand_log =
        signet_protocol::keylog::KeyLog::replay(world.brand.service.own_key_log().unwrap())
            .unwrap();
    let copied = match &brand_log.events()[0].payload().change {
        KeyChange::Inception { keys, .. } => keys
            .iter()
            .find(|k| k.purpose == KeyPurpose::Node)
            .unwrap()
            .clone(),
        _ => unreachable!(),
    };
    let mallory_log = world.mallory_log();
    let event = KeyEvent {
        party: Some(mallory_log.party()),
        seq: mallory_log.len() as u64,
        prev: Some(mallory_log.head()),
        time: signet_node::service::now(),
        change: KeyChange::AddKey(copied),
    };
    let signed = Signed::sign(event, KEY_EVENT_CONTENT_TYPE, &world.keys.root).unwrap();
    let mut events = world.mallory.service.own_key_log().unwrap();
    events.push(signed.bytes().to_vec());
    let before = snapshot(&world.supplier);
    let error = world.supplier.service.import_key_log(&events).unwrap_err();
    assert!(error.to_string().contains("proof of possession"), "{error}");
    // Gossiped, it is rejected before it is forwarded.
    let payload = signet_node::service::gossip::encode_key_log(&events).unwrap();
    assert_eq!(
        signet_node::service::gossip::validate(Topic::KeyLogs, &payload),
        Validation::Reject
    );
    assert_eq!(snapshot(&world.supplier), before);
    // Brand's node still speaks for Brand: a session between them completes.
    world.still_serving().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a25_a_key_declared_by_two_parties_speaks_for_neither() {
    // The holder of one node key declares it in the logs of two parties it controls: a
    // conflict no order of arrival resolves.
    let now = signet_node::service::now();
    let node = SecretKey::from_seed(&[0x25; 32]);
    let mut logs = Vec::new();
    for label in ["Twin A", "Twin B"] {
        let mut p = TestParty::new(label, now);
        let root = SecretKey::from_seed(&p.root.to_seed());
        p.log
            .add_key(
                &root,
                signet_protocol::keylog::KeyDecl::node(&node, &root.public_key()),
                now.plus(1),
            )
            .unwrap();
        logs.push(p.log.clone());
    }
    for order in [[0, 1], [1, 0]] {
        let mut store = signet_protocol::trust::TrustStore::new();
        for i in order {
            store.add_key_log(logs[i].clone());
        }
        let directory = signet_node::net::PeerDirectory::from_trust_store(&store, now.plus(2));
        let peer = signet_node::net::peer_id_of(&node.public_key()).unwrap();
        assert_eq!(directory.party_of(&peer), None);
        assert_eq!(store.key_conflicts().count(), 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a26_attestation_id_collision_survives_a_restart() {
    let world = World::new().await;
    // The CA revokes Mallory's identity; Mallory then issues an attestation of her own under
    // the revocation's id, hoping it replaces the revocation on disk.
    let identity = world
        .brand
        .service
        .attestations()
        .unwrap()
        .into_iter()
        .find(|a| {
            a.payload().subject == world.mallory.party()
                && a.payload().issuer == world.ca.party()
                && matches!(a.payload().claims, Claims::Identity(_))
        })
        .unwrap();
    let revocation = world.ca.service.revoke(identity.payload().id).unwrap();
    world
        .brand
        .service
        .import_attestation(revocation.bytes())
        .unwrap();
    let now = signet_node::service::now();
    let squat = signet_protocol::attestation::Attestation {
        id: revocation.payload().id,
        issuer: world.mallory.party(),
        subject: world.mallory.party(),
        issued_at: now,
        valid_from: now,
        valid_until: now.plus(86_400),
        claims: signet_protocol::attestation::Claims::Revocation(
            signet_protocol::attestation::Revocation {
                target: signet_protocol::attestation::RevocationTarget::Attestation(
                    signet_protocol::party::AttestationId::from_bytes([0; 16]),
                ),
                effective: now,
                reason: signet_protocol::attestation::RevocationReason::Unspecified,
            },
        ),
    }
    .issue(&world.keys.attest, &world.mallory_log())
    .unwrap();
    world
        .brand
        .service
        .import_attestation(squat.bytes())
        .unwrap();
    // The CA itself issuing a second, different attestation under that id is refused
    // outright: the first keeps its place.
    let ca_keys = signet_node::service::keys::PartyKeys::load(&world.ca.dir.join("keys")).unwrap();
    let ca_log =
        signet_protocol::keylog::KeyLog::replay(world.ca.service.own_key_log().unwrap()).unwrap();
    let mut reuse = revocation.payload().clone();
    reuse.valid_until = reuse.valid_until.plus(1);
    let reuse = reuse.issue(&ca_keys.attest, &ca_log).unwrap();
    let error = world
        .brand
        .service
        .import_attestation(reuse.bytes())
        .unwrap_err();
    assert!(error.to_string().contains("under id"), "{error}");
    let World { brand, .. } = world;
    let (dir, key) = brand.stop().await;
    let brand = start("Brand", &dir, &key).await;
    let held = brand.service.attestations().unwrap();
    assert!(
        held.iter().any(|a| a.bytes() == revocation.bytes()),
        "the CA's revocation was replaced"
    );
    assert!(
        held.iter().any(|a| a.bytes() == squat.bytes()),
        "Mallory's own object is kept as hers"
    );
    assert!(!held.iter().any(|a| a.bytes() == reuse.bytes()));
}

/// A CA, Brand and Supplier federated, Supplier's peer limits set by `limits` first.
async fn with_supplier_limits(
    root: &std::path::Path,
    limits: impl FnOnce(&mut signet_node::service::config::PeerLimits),
) -> (
    crate::support::Node,
    crate::support::Node,
    crate::support::Node,
) {
    let (ca_dir, ca_key) = create(root, "Verifier CA", &[]);
    let ca = start("Verifier CA", &ca_dir, &ca_key).await;
    let anchors = [(ca.party(), "Verifier CA")];
    let (b_dir, b_key) = create(root, "Brand", &anchors);
    let (s_dir, s_key) = create(root, "Supplier", &anchors);
    let mut config = NodeConfig::load(&s_dir).unwrap();
    limits(&mut config.peer_limits);
    config.save(&s_dir).unwrap();
    let brand = start("Brand", &b_dir, &b_key).await;
    let supplier = start("Supplier", &s_dir, &s_key).await;
    federate(&ca, &[&brand, &supplier]).await;
    (ca, brand, supplier)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a27_proposal_asking_for_too_many_document_bytes() {
    let root = tempfile::tempdir().unwrap();
    // Supplier takes at most 1 KiB of documents per session; Brand offers 4 KiB.
    let (_ca, brand, supplier) =
        with_supplier_limits(root.path(), |l| l.max_session_document_bytes = 1024).await;
    let before = snapshot(&supplier);
    let id = brand
        .service
        .create_session(one_signer("a27 big", supplier.party(), vec![7; 4096]))
        .unwrap();
    until("the supplier refuses the proposal", || {
        supplier
            .service
            .refusals()
            .iter()
            .any(|r| r.session == Some(id) && r.code == ErrorCode::TooLarge)
    })
    .await;
    assert_eq!(snapshot(&supplier), before);
    // Within the limit, it takes part.
    let small = brand
        .service
        .create_session(one_signer("a27 small", supplier.party(), vec![7; 100]))
        .unwrap();
    until("the supplier takes the small one", || {
        supplier.service.session(small).is_ok()
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a28_too_many_open_sessions_from_one_initiator() {
    let root = tempfile::tempdir().unwrap();
    let (_ca, brand, supplier) =
        with_supplier_limits(root.path(), |l| l.max_open_sessions_per_initiator = 2).await;
    let mut ids = Vec::new();
    for i in 0..2u8 {
        let id = brand
            .service
            .create_session(one_signer("open", supplier.party(), vec![i; 10]))
            .unwrap();
        until("taken", || supplier.service.session(id).is_ok()).await;
        ids.push(id);
    }
    let before = snapshot(&supplier);
    let third = brand
        .service
        .create_session(one_signer("third", supplier.party(), vec![9; 10]))
        .unwrap();
    until("the supplier refuses the third", || {
        supplier
            .service
            .refusals()
            .iter()
            .any(|r| r.session == Some(third) && r.code == ErrorCode::NotAllowed)
    })
    .await;
    assert_eq!(snapshot(&supplier), before);
    // The refusal is final (a retried proposal would hold up the initiator's later messages
    // to this party); once a session ends, a new proposal is taken.
    brand.service.cancel(ids[0], "make room").unwrap();
    until("the cancel arrives", || {
        supplier.service.session(ids[0]).unwrap().status == "cancelled"
    })
    .await;
    let fourth = brand
        .service
        .create_session(one_signer("fourth", supplier.party(), vec![4; 10]))
        .unwrap();
    until("the fourth arrives", || {
        supplier.service.session(fourth).is_ok()
    })
    .await;
    assert!(supplier.service.session(third).is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a36_gossip_flooding_with_attestations_nobody_uses() {
    let world = World::new().await;
    // Mallory's bare network node floods Brand with well-signed attestations by a party the
    // CA never accredited (her): each verifies, none can ever change a verdict.
    let hooks = Hooks {
        store: Arc::new(MemoryStore::new()),
        documents: Arc::new(|_: &PartyId, _: &SessionId, _: &Digest| false),
        gossip: Arc::new(|_: Topic, _: &[u8]| Validation::Accept),
    };
    let (flooder, _events, event_loop) = net::new(
        &SecretKey::from_seed(&[0x36; 32]),
        world.mallory.party(),
        net::Config::default(),
        hooks,
    )
    .unwrap();
    tokio::spawn(event_loop.run());
    flooder
        .dial(world.brand.address.parse().unwrap())
        .await
        .unwrap();
    let before = snapshot(&world.brand);
    let held_before = world.brand.service.attestations().unwrap().len();
    let mut mallory = TestParty::new("Mallory's sock puppet", signet_node::service::now());
    world
        .brand
        .service
        .import_key_log(
            &mallory
                .log
                .event_bytes()
                .map(<[u8]>::to_vec)
                .collect::<Vec<_>>(),
        )
        .unwrap();
    let victim = TestParty::new("Victim", signet_node::service::now());
    let mut published = 0;
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while published < 1500 && std::time::Instant::now() < deadline {
        let a = mallory.verify_identity(&victim, AssuranceLevel::High, signet_node::service::now());
        if flooder
            .publish(Topic::Attestations, a.bytes().to_vec())
            .await
            .is_ok()
        {
            published += 1;
        } else {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    settle().await;
    assert!(published > 0);
    assert_eq!(snapshot(&world.brand), before);
    assert_eq!(
        world.brand.service.attestations().unwrap().len(),
        held_before,
        "an attestation nobody can use was stored"
    );
    let about = world
        .brand
        .service
        .attestations()
        .unwrap()
        .iter()
        .filter(|a| {
            a.payload().claims.kind() == AttestationKind::Identity
                && a.payload().subject == victim.id()
        })
        .count();
    assert_eq!(about, 0);
    world.still_serving().await;
}
