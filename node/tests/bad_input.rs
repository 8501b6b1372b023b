//! Bad input from authenticated peers: refused with the protocol's wire error code, nothing
//! stored, and the node keeps serving. Documents go only to a session's participants.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use signet_node::net::NetError;
use signet_node::service::{DocumentSource, NewDocument, NewParticipant, NewSession};
use signet_protocol::Digest;
use signet_protocol::cose::Signed;
use signet_protocol::error::ErrorCode;
use signet_protocol::session::{
    MessageBody, Role, SESSION_MESSAGE_CONTENT_TYPE, SessionId, SessionMessage,
};
use signet_protocol::transport::witness::{CosignRequest, WitnessMessage};
use support::{create, federate, one_signer, start, until};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_is_refused_documents_stay_private_and_rotation_survives_restart() {
    let root = tempfile::tempdir().unwrap();
    let (ca_dir, ca_key) = create(root.path(), "Verifier CA", &[]);
    let ca = start("Verifier CA", &ca_dir, &ca_key).await;
    let anchors = [(ca.party(), "Verifier CA")];
    let (b_dir, b_key) = create(root.path(), "Brand", &anchors);
    let (s_dir, s_key) = create(root.path(), "Supplier", &anchors);
    let (o_dir, o_key) = create(root.path(), "Outsider", &anchors);
    let brand = start("Brand", &b_dir, &b_key).await;
    let supplier = start("Supplier", &s_dir, &s_key).await;
    let outsider = start("Outsider", &o_dir, &o_key).await;
    federate(&ca, &[&brand, &supplier, &outsider]).await;

    let document = vec![3u8; 100_000];
    let id = brand
        .service
        .create_session(one_signer("Private", supplier.party(), document.clone()))
        .unwrap();
    until("the supplier has the proposal", || {
        supplier.service.session(id).is_ok()
    })
    .await;
    let evidence = brand.service.evidence_len().unwrap();
    let sessions = brand
        .service
        .sessions_by_status()
        .unwrap()
        .values()
        .sum::<u64>() as usize;

    let client = supplier.service.client().unwrap();
    let refused = |r: Result<(), NetError>| match r {
        Err(NetError::Refused(code)) => code,
        other => panic!("expected a refusal, got {other:?}"),
    };
    // Not CBOR at all; truncated COSE; a malformed witness message.
    assert_eq!(
        refused(client.send_message(brand.party(), b"hello".to_vec()).await),
        ErrorCode::Malformed
    );
    assert_eq!(
        refused(
            client
                .send_message(brand.party(), vec![0xD2, 0x84, 0x40])
                .await
        ),
        ErrorCode::Malformed
    );
    // A witness message (a CBOR map) that does not decode, and one of an unknown kind.
    assert_eq!(
        refused(client.send_message(brand.party(), vec![0xa1, 0x64]).await),
        ErrorCode::Malformed
    );
    assert_eq!(
        refused(
            client
                .send_message(brand.party(), vec![0xa1, 0x64, b'k', b'i', b'n', b'd', 9])
                .await
        ),
        ErrorCode::Unsupported
    );
    // A cosign request to a node that is not a witness.
    let request = WitnessMessage::CosignRequest(CosignRequest {
        note: "x".into(),
        proof: vec![],
    });
    assert_eq!(
        refused(
            client
                .send_message(brand.party(), request.encode().unwrap())
                .await
        ),
        ErrorCode::Unsupported
    );
    // A well-signed message about a session the receiver does not hold (spec 12.5):
    // not-allowed, final for the sender.
    let keys = signet_node::service::keys::PartyKeys::load(&supplier.dir.join("keys")).unwrap();
    let stray = Signed::sign(
        SessionMessage {
            session: SessionId::from_bytes([9; 32]),
            proposal: Digest::of(b"no such proposal"),
            from: supplier.party(),
            time: signet_node::service::now(),
            body: MessageBody::Acknowledge,
        },
        SESSION_MESSAGE_CONTENT_TYPE,
        &keys.node,
    )
    .unwrap();
    assert_eq!(
        refused(
            client
                .send_message(brand.party(), stray.bytes().to_vec())
                .await
        ),
        ErrorCode::NotAllowed
    );
    // The same supplier-signed message relayed by another party's node: a node sends only
    // its own party's messages (spec 12.3), so the transport's party must be the `from`.
    assert_eq!(
        refused(
            outsider
                .service
                .client()
                .unwrap()
                .send_message(brand.party(), stray.bytes().to_vec())
                .await
        ),
        ErrorCode::SenderMismatch
    );
    // Nothing stored; the refusals are counted by code and kept with their reasons.
    assert_eq!(brand.service.evidence_len().unwrap(), evidence);
    assert_eq!(
        brand
            .service
            .sessions_by_status()
            .unwrap()
            .values()
            .sum::<u64>() as usize,
        sessions
    );
    assert!(brand.service.metrics().refusals()["malformed"] >= 3);
    assert!(!brand.service.refusals().is_empty());

    // Documents: the participant fetched it; an outsider gets nothing.
    let digest = Digest::of(&document);
    let outsider_store = signet_node::store::MemoryStore::new();
    let stolen = outsider
        .service
        .client()
        .unwrap()
        .fetch_document(
            brand.party(),
            id,
            digest,
            document.len() as u64,
            None,
            &outsider_store,
            &outsider.dir.join("incoming"),
        )
        .await;
    assert!(stolen.is_err(), "a non-participant fetched a document");
    until("the supplier signs", || {
        signet_node::person::sign_as(
            &supplier.service,
            id,
            &signet_node::keyfile::read(&supplier.delegate_key).unwrap(),
        )
        .is_ok()
    })
    .await;
    // The node kept serving: the session completes.
    until("completed", || {
        brand.service.session(id).unwrap().status == "completed"
    })
    .await;

    // A session past its deadline expires, and stays expired across a restart (replayed).
    let late = brand
        .service
        .create_session(NewSession {
            title: "Late".into(),
            purpose: "procurement".into(),
            participants: vec![NewParticipant {
                party: supplier.party(),
                role: Role::Signer,
                order: 0,
            }],
            documents: vec![NewDocument {
                name: "l.pdf".into(),
                media_type: "application/pdf".into(),
                source: DocumentSource::Bytes(b"late".to_vec()),
                pdf_seals: None,
            }],
            deadline_days: 1,
            algorithms: None,
            witnesses: vec![],
        })
        .unwrap();
    let later = signet_node::service::now().plus(2 * 86_400);
    assert_eq!(brand.service.expire_due(later).unwrap(), 1);
    assert_eq!(brand.service.session(late).unwrap().status, "expired");
    assert_eq!(brand.service.session(id).unwrap().status, "completed");

    // Root-key rotation: twice in a row (each takes the committed key from outside the
    // node and writes the next one outside it), and the node opens again after it (key
    // files and key log agree). A key that is not the committed one, a path inside the
    // node's directory, and an existing output file are refused, changing nothing.
    let next = support::next_root_key(root.path(), "Brand");
    let (second, third) = (
        root.path().join("next-2.key"),
        root.path().join("next-3.key"),
    );
    let refused = brand.service.rotate_root(&b_key, &second);
    assert!(
        refused
            .unwrap_err()
            .to_string()
            .contains("not the next root key"),
        "the delegate's key is not the committed next root key"
    );
    assert!(
        brand
            .service
            .rotate_root(&next, &b_dir.join("keys/x.key"))
            .is_err()
    );
    assert!(brand.service.rotate_root(&next, &b_key).is_err());
    assert_eq!(brand.service.own_key_log().unwrap().len(), 1);
    assert!(!b_dir.join("keys/next-root.key").exists());
    assert_eq!(brand.service.rotate_root(&next, &second).unwrap(), 2);
    assert!(
        brand.service.rotate_root(&next, &third).is_err(),
        "used once"
    );
    assert_eq!(brand.service.rotate_root(&second, &third).unwrap(), 3);
    let events = brand.service.own_key_log().unwrap();
    supplier.service.import_key_log(&events).unwrap();
    let party = brand.party();
    brand.stop().await;
    let brand = start("Brand", &b_dir, &b_key).await;
    assert_eq!(brand.party(), party, "the party id survives rotation");
    assert_eq!(brand.service.session(id).unwrap().status, "completed");
    assert_eq!(brand.service.session(late).unwrap().status, "expired");
    assert_eq!(brand.service.own_key_log().unwrap().len(), 3);
}
