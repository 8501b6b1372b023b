//! Attacks a counterparty makes over the wire against a real node: each is refused with the
//! precise wire error code, stores nothing, and the node keeps serving.

use signet_node::keyfile;
use signet_node::service::keys::KeyKind;
use signet_protocol::Timestamp;
use signet_protocol::attestation::{
    Amount, Claims, Delegate, Delegation, Revocation, RevocationReason, RevocationTarget,
};
use signet_protocol::cose::Signed;
use signet_protocol::error::ErrorCode;
use signet_protocol::keylog::LogSecretKey;
use signet_protocol::session::{MessageBody, PROPOSAL_CONTENT_TYPE, Proposal, SessionNonce};
use signet_protocol::{Digest, SecretKey};

use crate::support::until;
use crate::world::{Forge, World, refused, settle, snapshot};

/// A mandate for Mallory's delegate over her contract seal, with `tweak` applied.
fn mandate(
    world: &World,
    tweak: impl FnOnce(&mut Delegation),
) -> signet_protocol::attestation::SignedAttestation {
    let mut d = Delegation {
        delegate: Delegate::with_key("Mallory signatory", world.delegate.public_key()),
        seals: vec![world.keys.contract_seal.public_key()],
        purposes: vec!["procurement".into()],
        value_cap: None,
        counterparties: None,
    };
    tweak(&mut d);
    let now = signet_node::service::now();
    world.mallory_issues(Claims::Delegation(d), now, now.plus(30 * 86_400))
}

/// Mallory's signature on a session Brand proposed to her, built by `forge` from the
/// defaults, is refused by Brand with `code`; Brand stores nothing and keeps serving.
async fn brand_refuses(
    world: &World,
    title: &str,
    forge: impl FnOnce(&mut Forge<'_>),
    code: ErrorCode,
) {
    let (_, proposal) = world.brand_proposes(title, &[(&world.mallory, 0)]).await;
    let before = snapshot(&world.brand);
    let mut f = Forge::new(world, &proposal);
    forge(&mut f);
    let bytes = f.sign();
    assert_eq!(
        refused(world.mallory_sends(&world.brand, bytes).await),
        code
    );
    assert_eq!(
        snapshot(&world.brand),
        before,
        "a refused message stored something"
    );
    world.still_serving().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a02_forged_seal_signature() {
    let world = World::new().await;
    let stranger = LogSecretKey::Ed25519(SecretKey::from_seed(&[0xa2; 32]));
    // A seal key that is not in Mallory's key log.
    brand_refuses(
        &world,
        "a02",
        |f| f.seal = Box::leak(Box::new(stranger)),
        ErrorCode::KeyNotValid,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a03_forged_intent_proof() {
    let world = World::new().await;
    // The intent is signed by someone other than the mandated delegate.
    let impostor: &'static SecretKey = Box::leak(Box::new(SecretKey::from_seed(&[0xa3; 32])));
    brand_refuses(
        &world,
        "a03",
        |f| f.delegate = impostor,
        ErrorCode::OutsideMandate,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a04_retired_seal_key() {
    let world = World::new().await;
    // Mallory rotates her contract seal, then signs with the retired one.
    let LogSecretKey::Ed25519(seal) = &world.keys.contract_seal else {
        panic!("an Ed25519 seal");
    };
    let old = LogSecretKey::Ed25519(SecretKey::from_seed(&seal.to_seed()));
    world
        .mallory
        .service
        .rotate_key(KeyKind::ContractSeal)
        .unwrap();
    world
        .brand
        .service
        .import_key_log(&world.mallory.service.own_key_log().unwrap())
        .unwrap();
    let old: &'static LogSecretKey = Box::leak(Box::new(old));
    brand_refuses(&world, "a04", |f| f.seal = old, ErrorCode::KeyNotValid).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a06_signature_replayed_into_another_session() {
    let world = World::new().await;
    let (_, first) = world
        .brand_proposes("a06 first", &[(&world.mallory, 0)])
        .await;
    let record = Forge::new(&world, &first).record();
    let (_, second) = world
        .brand_proposes("a06 second", &[(&world.mallory, 0)])
        .await;
    let before = snapshot(&world.brand);
    // The first session's signature record, in a message about the second.
    let bytes = Forge::new(&world, &second).message(MessageBody::Sign(record));
    assert_eq!(
        refused(world.mallory_sends(&world.brand, bytes).await),
        ErrorCode::InvalidSignature
    );
    assert_eq!(snapshot(&world.brand), before);
    world.still_serving().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a08_signature_out_of_routing_order() {
    let world = World::new().await;
    // Supplier signs first (order 0); Mallory (order 1) does not wait.
    let (_, proposal) = world
        .brand_proposes("a08", &[(&world.supplier, 0), (&world.mallory, 1)])
        .await;
    let before = snapshot(&world.brand);
    let bytes = Forge::new(&world, &proposal).sign();
    assert_eq!(
        refused(world.mallory_sends(&world.brand, bytes).await),
        ErrorCode::RoutingOrder
    );
    assert_eq!(snapshot(&world.brand), before);
    world.still_serving().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a09_signer_not_a_participant() {
    let world = World::new().await;
    // A session between Brand and Supplier; Mallory signs it anyway.
    let (_, proposal) = world.brand_proposes("a09", &[(&world.supplier, 0)]).await;
    let before = snapshot(&world.brand);
    let bytes = Forge::new(&world, &proposal).sign();
    assert_eq!(
        refused(world.mallory_sends(&world.brand, bytes).await),
        ErrorCode::NotAllowed
    );
    assert_eq!(snapshot(&world.brand), before);
    world.still_serving().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a10_mandate_does_not_cover_the_seal() {
    let world = World::new().await;
    let m = mandate(&world, |d| {
        d.seals = vec![world.keys.company_seal.public_key()]
    });
    brand_refuses(&world, "a10", |f| f.mandate = m, ErrorCode::OutsideMandate).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a11_mandate_does_not_cover_the_purpose() {
    let world = World::new().await;
    let m = mandate(&world, |d| d.purposes = vec!["sales".into()]);
    brand_refuses(&world, "a11", |f| f.mandate = m, ErrorCode::OutsideMandate).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a12_mandate_caps_a_value_the_contract_does_not_state() {
    let world = World::new().await;
    let m = mandate(&world, |d| {
        d.value_cap = Some(Amount {
            currency: "CNY".into(),
            minor_units: 100,
        })
    });
    brand_refuses(&world, "a12", |f| f.mandate = m, ErrorCode::OutsideMandate).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a13_mandate_does_not_cover_the_counterparty() {
    let world = World::new().await;
    let supplier = world.supplier.party();
    let m = mandate(&world, |d| d.counterparties = Some(vec![supplier]));
    brand_refuses(&world, "a13", |f| f.mandate = m, ErrorCode::OutsideMandate).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a14_mandate_expired_at_signing_time() {
    let world = World::new().await;
    // A mandate valid for one second from Mallory's inception, used after it ended.
    let d = Delegation {
        delegate: Delegate::with_key("Mallory signatory", world.delegate.public_key()),
        seals: vec![world.keys.contract_seal.public_key()],
        purposes: vec!["procurement".into()],
        value_cap: None,
        counterparties: None,
    };
    let created = world.mallory_log().events()[0].payload().time;
    let m = world.mallory_issues(Claims::Delegation(d), created, created.plus(1));
    while signet_node::service::now() <= created.plus(1) {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    brand_refuses(&world, "a14", |f| f.mandate = m, ErrorCode::OutsideMandate).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a15_signer_whose_identity_attestation_is_revoked() {
    let world = World::new().await;
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
    for a in world.ca.service.attestations().unwrap() {
        if a.payload().issuer == world.ca.party() {
            world.brand.service.import_attestation(a.bytes()).unwrap();
        }
    }
    // Brand no longer proposes to an untrusted party, so Mallory replies to a session she
    // was offered before the revocation.
    let (_, proposal) = world.brand_proposes("a15", &[(&world.mallory, 0)]).await;
    let before = snapshot(&world.brand);
    let bytes = Forge::new(&world, &proposal).sign();
    assert_eq!(
        refused(world.mallory_sends(&world.brand, bytes).await),
        ErrorCode::Untrusted
    );
    assert_eq!(snapshot(&world.brand), before);
    world.still_serving().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a19_untrusted_initiator_proposes() {
    let world = World::new().await;
    // Eve: a party nobody verified, whose key log Supplier learns.
    let (eve_dir, eve_key) = crate::support::create(world.root.path(), "Eve", &[]);
    let eve = crate::support::start("Eve", &eve_dir, &eve_key).await;
    world
        .supplier
        .service
        .import_key_log(&eve.service.own_key_log().unwrap())
        .unwrap();
    eve.service
        .import_key_log(&world.supplier.service.own_key_log().unwrap())
        .unwrap();
    eve.service.add_peer(&world.supplier.address).await.unwrap();
    let before = snapshot(&world.supplier);
    let id = eve
        .service
        .create_session(crate::support::one_signer(
            "a19",
            world.supplier.party(),
            vec![1; 10],
        ))
        .unwrap();
    settle().await;
    settle().await;
    assert!(
        world.supplier.service.session(id).is_err(),
        "took part with an untrusted initiator"
    );
    assert_eq!(
        snapshot(&world.supplier),
        before,
        "stored something of an untrusted initiator's session"
    );
    let refusals = world.supplier.service.refusals();
    assert!(
        refusals.iter().any(|r| r.session == Some(id)
            && matches!(r.code, ErrorCode::Indeterminate | ErrorCode::Untrusted)),
        "{refusals:?}"
    );
    world.still_serving().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a22_session_id_squatting() {
    let world = World::new().await;
    // Brand proposes a session to Mallory; she learns its id.
    let (id, genuine) = world.brand_proposes("a22", &[(&world.mallory, 0)]).await;
    // She proposes her own session under that id to Supplier, which Brand may invite later:
    // the id is not derived from her as initiator, so it is refused, and nothing holds it.
    let mut squat: Proposal = genuine.payload().clone();
    squat.initiator = world.mallory.party();
    squat.nonce = SessionNonce::from_bytes([0x22; 32]);
    squat.participants[0].party = world.supplier.party();
    let signed = Signed::sign(squat, PROPOSAL_CONTENT_TYPE, &world.keys.node).unwrap();
    let mut f = Forge::new(&world, &genuine);
    f.envelope = Some((id, signed.digest()));
    let propose = f.message(MessageBody::Propose {
        proposal: signed.bytes().to_vec(),
    });
    let before = snapshot(&world.supplier);
    assert_eq!(
        refused(world.mallory_sends(&world.supplier, propose).await),
        ErrorCode::InvalidProposal
    );
    assert_eq!(snapshot(&world.supplier), before);
    assert!(world.supplier.service.session(id).is_err());
    world.still_serving().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a23_mandate_revoked_before_signing_is_not_used_by_the_node() {
    let world = World::new().await;
    // Supplier's own node: its only mandate is revoked; it must not sign under it.
    let mandate = world
        .supplier
        .service
        .attestations()
        .unwrap()
        .into_iter()
        .find(|a| {
            a.payload().issuer == world.supplier.party()
                && matches!(a.payload().claims, Claims::Delegation(_))
        })
        .unwrap();
    world.supplier.service.revoke(mandate.payload().id).unwrap();
    let (id, _) = world.brand_proposes("a23", &[(&world.supplier, 0)]).await;
    let delegate = keyfile::read(&world.supplier.delegate_key).unwrap();
    let before = snapshot(&world.supplier);
    let mut refusal = String::new();
    until(
        "the documents are here",
        || match signet_node::person::sign_as(&world.supplier.service, id, &delegate) {
            Err(signet_node::service::ServiceError::DocumentsMissing(_)) => false,
            Err(e) => {
                refusal = e.to_string();
                true
            }
            Ok(()) => panic!("signed under a revoked mandate"),
        },
    )
    .await;
    assert!(refusal.contains("revoked"), "{refusal}");
    assert_eq!(snapshot(&world.supplier), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a24_sole_signer_without_a_covering_mandate() {
    let world = World::new().await;
    // Brand signs alone, a purpose its mandate does not cover: refused, before and now.
    let mut new = crate::support::one_signer("a24", world.brand.party(), b"alone".to_vec());
    new.purpose = "equity transfer".into();
    let id = world.brand.service.create_session(new).unwrap();
    let delegate = keyfile::read(&world.brand.delegate_key).unwrap();
    let before = snapshot(&world.brand);
    let error = signet_node::person::sign_as(&world.brand.service, id, &delegate)
        .unwrap_err()
        .to_string();
    assert!(error.contains("purpose"), "{error}");
    assert_eq!(snapshot(&world.brand), before);
    world.still_serving().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a31_oversized_message() {
    let world = World::new().await;
    let before = snapshot(&world.brand);
    // An array of 70,000 items (the limit is 65,536), within the transport's byte cap.
    let mut big = vec![0x9a];
    big.extend_from_slice(&70_000u32.to_be_bytes());
    big.extend(std::iter::repeat_n(0u8, 70_000));
    assert_eq!(
        refused(world.mallory_sends(&world.brand, big).await),
        ErrorCode::TooLarge
    );
    // Over the transport's cap: the sender's own node refuses to send it at all.
    let huge = vec![0u8; signet_node::net::msg::MAX_REQUEST + 1];
    assert!(matches!(
        world.mallory_sends(&world.brand, huge).await,
        Err(signet_node::net::NetError::TooLarge { .. })
    ));
    assert_eq!(snapshot(&world.brand), before);
    world.still_serving().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a32_deeply_nested_cbor() {
    let world = World::new().await;
    let before = snapshot(&world.brand);
    // 100 nested one-element arrays (the limit is 16 levels).
    let mut nested = vec![0x81; 100];
    nested.push(0x00);
    assert_eq!(
        refused(world.mallory_sends(&world.brand, nested).await),
        ErrorCode::TooLarge
    );
    assert_eq!(snapshot(&world.brand), before);
    world.still_serving().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a33_unknown_message_kind() {
    let world = World::new().await;
    let (_, proposal) = world.brand_proposes("a33", &[(&world.mallory, 0)]).await;
    let before = snapshot(&world.brand);
    let f = Forge::new(&world, &proposal);
    // A well-signed session message whose kind is 99.
    let message = ciborium::Value::Map(vec![
        (
            ciborium::Value::Text("body".into()),
            ciborium::Value::Map(vec![]),
        ),
        (
            ciborium::Value::Text("from".into()),
            ciborium::Value::Bytes(world.mallory.party().digest().as_bytes().to_vec()),
        ),
        (
            ciborium::Value::Text("kind".into()),
            ciborium::Value::Integer(99.into()),
        ),
        (
            ciborium::Value::Text("time".into()),
            ciborium::Value::Integer(f.time.unix().into()),
        ),
        (
            ciborium::Value::Text("session".into()),
            ciborium::Value::Bytes(proposal.payload().session.as_bytes().to_vec()),
        ),
        (
            ciborium::Value::Text("proposal".into()),
            ciborium::Value::Bytes(proposal.digest().as_bytes().to_vec()),
        ),
    ]);
    let signed = Signed::sign(
        message,
        signet_protocol::session::SESSION_MESSAGE_CONTENT_TYPE,
        &world.keys.node,
    )
    .unwrap();
    assert_eq!(
        refused(
            world
                .mallory_sends(&world.brand, signed.bytes().to_vec())
                .await
        ),
        ErrorCode::Unsupported
    );
    assert_eq!(snapshot(&world.brand), before);
    world.still_serving().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a34_document_requested_by_a_non_participant() {
    let world = World::new().await;
    let (id, proposal) = world.brand_proposes("a34", &[(&world.supplier, 0)]).await;
    let document = proposal.payload().documents[0].clone();
    let staging = tempfile::tempdir().unwrap();
    let store = signet_node::store::MemoryStore::new();
    let got = world
        .mallory
        .service
        .client()
        .unwrap()
        .fetch_document(
            world.brand.party(),
            id,
            document.digest,
            document.size,
            document.sm3,
            &store,
            staging.path(),
        )
        .await;
    assert!(
        matches!(got, Err(signet_node::net::NetError::NotFound)),
        "{got:?}"
    );
    assert_eq!(std::fs::read_dir(staging.path()).unwrap().count(), 0);
    world.still_serving().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a35_message_flooding() {
    let world = World::new().await;
    let (_, proposal) = world.brand_proposes("a35", &[(&world.mallory, 0)]).await;
    let before = snapshot(&world.brand);
    // 2,000 well-signed, pointless messages (declines of another revision) as fast as the
    // transport takes them: each is refused or dropped; none is stored.
    let mut f = Forge::new(&world, &proposal);
    f.envelope = Some((proposal.payload().session, Digest::of(b"another revision")));
    let client = world.mallory.service.client().unwrap().clone();
    let brand = world.brand.party();
    let mut sends = Vec::new();
    for i in 0..2000u32 {
        let bytes = f.message(MessageBody::Decline {
            reason: format!("flood {i}"),
        });
        let client = client.clone();
        sends.push(tokio::spawn(async move {
            client.send_message(brand, bytes).await
        }));
    }
    let mut refusals = 0;
    for s in sends {
        if let Ok(Err(signet_node::net::NetError::Refused(code))) = s.await {
            assert_eq!(code, ErrorCode::WrongSession);
            refusals += 1;
        }
    }
    assert!(refusals > 0, "nothing reached the victim");
    assert_eq!(snapshot(&world.brand), before);
    world.still_serving().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a38_revocation_issued_by_someone_else_is_ignored() {
    let world = World::new().await;
    // Mallory "revokes" Supplier's identity attestation (issued by the CA): a revocation
    // counts only from the attestation's own issuer.
    let identity = world
        .brand
        .service
        .attestations()
        .unwrap()
        .into_iter()
        .find(|a| {
            a.payload().subject == world.supplier.party()
                && a.payload().issuer == world.ca.party()
                && matches!(a.payload().claims, Claims::Identity(_))
        })
        .unwrap();
    let now = signet_node::service::now();
    let fake = world.mallory_issues(
        Claims::Revocation(Revocation {
            target: RevocationTarget::Attestation(identity.payload().id),
            effective: Timestamp::from_unix(0),
            reason: RevocationReason::KeyCompromise,
        }),
        now,
        now.plus(86_400),
    );
    world
        .brand
        .service
        .import_attestation(fake.bytes())
        .unwrap();
    world.still_serving().await;
}
