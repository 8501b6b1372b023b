//! Real nodes (sled stores, libp2p on loopback) driven through the service: a two-party
//! signing with a document fetched privately, a decline, and an offline counterparty that
//! receives everything when it comes back.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use signet_node::keyfile;
use signet_node::service::{DocumentSource, NewDocument, NewParticipant, NewSession};
use signet_protocol::bundle::{Outcome, verify_bundle};
use signet_protocol::session::{Role, SessionId};
use signet_protocol::trust::{TrustAnchor, TrustPolicy};
use support::{create, federate, start, until};

fn contract(dir: &std::path::Path, bytes: &[u8]) -> NewDocument {
    let path = dir.join("agreement.pdf");
    std::fs::write(&path, bytes).unwrap();
    NewDocument {
        name: "agreement.pdf".into(),
        media_type: "application/pdf".into(),
        source: DocumentSource::Path(path),
        pdf_seals: None,
    }
}

fn session_to(parties: &[(signet_protocol::party::PartyId, u32)], doc: NewDocument) -> NewSession {
    NewSession {
        title: "Supply agreement".into(),
        purpose: "procurement".into(),
        participants: parties
            .iter()
            .map(|(p, order)| NewParticipant {
                party: *p,
                role: Role::Signer,
                order: *order,
            })
            .collect(),
        documents: vec![doc],
        deadline_days: 30,
        algorithms: None,
        witnesses: vec![],
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_sign_decline_and_export_a_bundle_that_verifies() {
    let root = tempfile::tempdir().unwrap();
    let (ca_dir, ca_key) = create(root.path(), "Verifier CA", &[]);
    let ca = start("Verifier CA", &ca_dir, &ca_key).await;
    let anchors = [(ca.party(), "Verifier CA")];
    let (b_dir, b_key) = create(root.path(), "Brand", &anchors);
    let (s_dir, s_key) = create(root.path(), "Supplier", &anchors);
    let (w_dir, w_key) = support::create_witness(root.path(), "Witness", &anchors);
    let brand = start("Brand", &b_dir, &b_key).await;
    let supplier = start("Supplier", &s_dir, &s_key).await;
    let witness = start("Witness", &w_dir, &w_key).await;
    federate(&ca, &[&brand, &supplier, &witness]).await;

    let document = vec![7u8; 700_000]; // three chunks
    let mut new = session_to(&[(supplier.party(), 0)], contract(root.path(), &document));
    new.witnesses = vec![witness.party()];
    let id = brand.service.create_session(new).unwrap();
    until(
        "the supplier receives the proposal and its document",
        || {
            supplier.service.session(id).is_ok()
                && signet_node::person::sign_as(
                    &supplier.service,
                    id,
                    &keyfile::read(&supplier.delegate_key).unwrap(),
                )
                .is_ok()
        },
    )
    .await;
    until("the brand sees the session completed", || {
        brand.service.session(id).unwrap().status == "completed"
    })
    .await;
    until("the supplier sees it completed", || {
        supplier.service.session(id).unwrap().status == "completed"
    })
    .await;
    assert!(brand.service.evidence_len().unwrap() >= 3);
    // Each party's evidence, under a checkpoint the witness cosigned over the network.
    supplier
        .service
        .share_witnessed_evidence(id, witness.party())
        .await
        .unwrap();
    brand
        .service
        .share_witnessed_evidence(id, witness.party())
        .await
        .unwrap();
    // A second round: the witness checks consistency with what it cosigned before.
    brand
        .service
        .cosigned_checkpoint(witness.party())
        .await
        .unwrap();
    until("the brand holds the supplier's evidence", || {
        brand.service.metrics().refusals().is_empty()
            && brand
                .service
                .export_bundle(id)
                .is_ok_and(|b| b.len() > 2000)
    })
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;

    let bundle = brand.service.export_bundle(id).unwrap();
    let policy = TrustPolicy {
        revocation_freshness: None,
        ..TrustPolicy::with_anchors(vec![TrustAnchor {
            party: ca.party(),
            name: "Verifier CA".into(),
        }])
    };
    let report = verify_bundle(&bundle, &[&document], &policy, signet_node::service::now());
    assert_eq!(report.outcome, Outcome::Valid, "{report:?}");

    // A decline ends the session on both sides, with the reason.
    let second = brand
        .service
        .create_session(session_to(
            &[(supplier.party(), 0)],
            contract(root.path(), b"v2"),
        ))
        .unwrap();
    until("the supplier declines", || {
        supplier.service.session(second).is_ok()
            && supplier.service.decline(second, "price too high").is_ok()
    })
    .await;
    until("the brand sees the decline", || {
        brand.service.session(second).unwrap().status == "declined"
    })
    .await;
    let unknown = SessionId::from_bytes([9; 32]);
    assert!(brand.service.session(unknown).is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_seal_with_sm2_and_the_bundle_verifies() {
    use signet_protocol::cose::Algorithm;
    use signet_protocol::keylog::LogKey;
    let root = tempfile::tempdir().unwrap();
    let (ca_dir, ca_key) = create(root.path(), "Verifier CA", &[]);
    let ca = start("Verifier CA", &ca_dir, &ca_key).await;
    let anchors = [(ca.party(), "Verifier CA")];
    let (b_dir, b_key) = support::create_sm2(root.path(), "Brand", &anchors);
    let (s_dir, s_key) = support::create_sm2(root.path(), "Supplier", &anchors);
    let (w_dir, w_key) = support::create_witness(root.path(), "Witness", &anchors);
    let brand = start("Brand", &b_dir, &b_key).await;
    let supplier = start("Supplier", &s_dir, &s_key).await;
    let witness = start("Witness", &w_dir, &w_key).await;
    federate(&ca, &[&brand, &supplier, &witness]).await;
    // Both parties' seals are SM2, as declared in their key logs.
    for node in [&brand, &supplier] {
        let seals = node.service.seals().unwrap();
        assert_eq!(seals.len(), 2);
        for seal in seals {
            assert!(seal.key.starts_with("sm2:"), "{}", seal.key);
            assert!(matches!(LogKey::from_text(&seal.key), Ok(LogKey::Sm2(_))));
        }
    }

    let document = b"SM2-sealed supply agreement".to_vec();
    let mut new = session_to(
        &[(supplier.party(), 0), (brand.party(), 1)],
        contract(root.path(), &document),
    );
    new.witnesses = vec![witness.party()];
    let id = brand.service.create_session(new).unwrap();
    for node in [&supplier, &brand] {
        until("the party signs with its SM2 seal", || {
            node.service.session(id).is_ok()
                && signet_node::person::sign_as(
                    &node.service,
                    id,
                    &keyfile::read(&node.delegate_key).unwrap(),
                )
                .is_ok()
        })
        .await;
    }
    for node in [&brand, &supplier] {
        until("the session is completed", || {
            node.service.session(id).unwrap().status == "completed"
        })
        .await;
    }
    for node in [&supplier, &brand] {
        node.service
            .share_witnessed_evidence(id, witness.party())
            .await
            .unwrap();
    }
    let policy = TrustPolicy {
        revocation_freshness: None,
        ..TrustPolicy::with_anchors(vec![TrustAnchor {
            party: ca.party(),
            name: "Verifier CA".into(),
        }])
    };
    let valid = |bundle: &[u8]| {
        verify_bundle(bundle, &[&document], &policy, signet_node::service::now()).outcome
            == Outcome::Valid
    };
    until("the brand's bundle verifies", || {
        brand.service.export_bundle(id).is_ok_and(|b| valid(&b))
    })
    .await;
    // The completion in the bundle carries both signatures, each an SM2 COSE_Sign1.
    let records = support::signature_records(&brand.service.export_bundle(id).unwrap());
    assert_eq!(records.len(), 2);
    for record in records {
        assert_eq!(record.seal_signature.algorithm(), Algorithm::Sm2Sm3);
        assert!(matches!(record.seal_signature.signer(), LogKey::Sm2(_)));
    }
    // A rotation keeps the seal's algorithm: the fresh contract seal is SM2 too, its key file
    // reads back as SM2 after a restart, and the mandate names it.
    let (_, fresh) = supplier
        .service
        .rotate_key(signet_node::service::keys::KeyKind::ContractSeal)
        .unwrap();
    assert!(matches!(fresh, LogKey::Sm2(_)));
    let file = keyfile::read_log_key(&s_dir.join("keys/seal-contract.key")).unwrap();
    assert_eq!(file.public_key(), fresh);
    let covered = supplier.service.mandates().unwrap().into_iter().any(|m| {
        m.state == "active"
            && matches!(&m.attestation.payload().claims,
                signet_protocol::attestation::Claims::Delegation(d) if d.seals.contains(&fresh))
    });
    assert!(covered, "the re-issued mandate names the fresh SM2 seal");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_offline_counterparty_gets_everything_when_it_returns_and_sessions_survive_restarts() {
    let root = tempfile::tempdir().unwrap();
    let (ca_dir, ca_key) = create(root.path(), "Verifier CA", &[]);
    let ca = start("Verifier CA", &ca_dir, &ca_key).await;
    let anchors = [(ca.party(), "Verifier CA")];
    let (b_dir, b_key) = create(root.path(), "Brand", &anchors);
    let (s_dir, s_key) = create(root.path(), "Supplier", &anchors);
    let brand = start("Brand", &b_dir, &b_key).await;
    let supplier = start("Supplier", &s_dir, &s_key).await;
    federate(&ca, &[&brand, &supplier]).await;
    let supplier_party = supplier.party();

    // The supplier goes offline; the brand proposes anyway.
    let (s_dir, s_key) = supplier.stop().await;
    let id = brand
        .service
        .create_session(session_to(
            &[(supplier_party, 0)],
            contract(root.path(), b"offline"),
        ))
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(
        brand.service.outbox_len().unwrap(),
        1,
        "held while the supplier is away"
    );

    // It comes back (at a new address); the retry delivers the proposal.
    let supplier = start("Supplier", &s_dir, &s_key).await;
    brand.service.add_peer(&supplier.address).await.unwrap();
    supplier.service.add_peer(&brand.address).await.unwrap();
    until("the returning supplier receives the proposal", || {
        supplier.service.session(id).is_ok()
    })
    .await;
    until("the brand's outbox drains", || {
        brand.service.outbox_len().unwrap() == 0
    })
    .await;

    // It restarts again: the session is rebuilt from its journal, and can be signed.
    let evidence_before = supplier.service.evidence_len().unwrap();
    let (s_dir, s_key) = supplier.stop().await;
    let supplier = start("Supplier", &s_dir, &s_key).await;
    brand.service.add_peer(&supplier.address).await.unwrap();
    supplier.service.add_peer(&brand.address).await.unwrap();
    assert_eq!(supplier.service.session(id).unwrap().status, "open");
    assert_eq!(supplier.service.evidence_len().unwrap(), evidence_before);
    let delegate = keyfile::read(&supplier.delegate_key).unwrap();
    until("the supplier signs (once its document is here)", || {
        signet_node::person::sign_as(&supplier.service, id, &delegate).is_ok()
    })
    .await;
    until("both see it completed", || {
        brand.service.session(id).unwrap().status == "completed"
            && supplier.service.session(id).unwrap().status == "completed"
    })
    .await;
}

/// Every party has a PDF key (ECDSA P-256) in `keys/pdf.key`, declared in its key log: a new
/// party at inception; a party whose log has no current one (made before PDF keys, or whose
/// key was retired) at its next start. A key file holding a retired key is never declared
/// again: the node says so and serves without one.
#[test]
fn every_party_declares_a_pdf_key_and_never_reuses_a_retired_one() {
    use signet_node::service::Service;
    use signet_node::service::keys::{PDF_KEY_FILE, PartyKeys};
    use signet_node::service::now;
    use signet_protocol::keylog::{EcdsaP256Key, KeyLog, KeyPurpose};
    use std::os::unix::fs::PermissionsExt;

    let root = tempfile::tempdir().unwrap();
    let (dir, _) = create(root.path(), "Brand", &[]);
    let key_file = dir.join("keys").join(PDF_KEY_FILE);
    let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
    assert_eq!(mode & 0o077, 0, "the PDF key file is owner-only");
    let pdf_of = |service: &Service| -> Vec<EcdsaP256Key> {
        let log = KeyLog::replay(service.own_key_log().unwrap()).unwrap();
        log.keys_at(KeyPurpose::Pdf, now())
            .filter_map(|r| r.key.ecdsa_p256().copied())
            .collect()
    };
    let service = Service::open(&dir).unwrap();
    let first = keyfile::read_p256(&key_file).unwrap();
    let declared = pdf_of(&service);
    assert_eq!(
        declared,
        vec![EcdsaP256Key::from_verifying_key(first.verifying_key())]
    );
    assert_eq!(
        KeyLog::replay(service.own_key_log().unwrap())
            .unwrap()
            .len(),
        1,
        "declared at inception"
    );
    // The party retires its PDF key (as its root key holder would, on any device).
    let keys = PartyKeys::load(&dir.join("keys")).unwrap();
    let mut log = KeyLog::replay(service.own_key_log().unwrap()).unwrap();
    log.retire_key(&keys.root, declared[0], now()).unwrap();
    let events: Vec<Vec<u8>> = log.event_bytes().map(<[u8]>::to_vec).collect();
    service.import_key_log(&events).unwrap();
    drop(service);
    // The key file still holds the retired key: not declared again, and the node serves.
    let service = Service::open(&dir).unwrap();
    assert!(pdf_of(&service).is_empty());
    drop(service);
    // With the file moved away, the next start declares a fresh key.
    std::fs::rename(&key_file, dir.join("pdf.key.retired")).unwrap();
    let service = Service::open(&dir).unwrap();
    let fresh = keyfile::read_p256(&key_file).unwrap();
    assert_ne!(fresh.verifying_key(), first.verifying_key());
    assert_eq!(
        pdf_of(&service),
        vec![EcdsaP256Key::from_verifying_key(fresh.verifying_key())]
    );
}
