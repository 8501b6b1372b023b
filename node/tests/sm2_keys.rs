//! SM2 attest keys and SM2 person keys between real nodes (spec §4.3.2, §6.4, §8.4.1): an
//! anchor whose `attest` key is SM2 attests a brand and a supplier, and each node, given only
//! the anchor's key log and the SM2-signed attestations, names the other as verified; the
//! supplier's delegate holds an SM2 person key (`signet init --delegate-algorithm sm2`) and
//! signs the session with it on "their own device" (`person::sign_as`), the node receiving the
//! proof only; the bundle verifies VALID with the supplier's intent proof SM2. Then the same
//! with nodes whose own attest key is SM2 (`signet init --attest-algorithm sm2`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use signet_node::keyfile;
use signet_node::service::authority::NewMandate;
use signet_node::service::config::NodeConfig;
use signet_node::service::init::SealAlgorithm;
use signet_node::service::keys::KeyKind;
use signet_node::service::{DocumentSource, NewDocument, NewParticipant, NewSession, now};
use signet_protocol::attestation::{
    AssuranceLevel, Attestation, Claims, IdentityClaims, SignedAttestation, VerificationMethod,
};
use signet_protocol::bundle::{Outcome, verify_bundle};
use signet_protocol::cose::Algorithm;
use signet_protocol::keylog::{
    ALG_ED25519, ALG_SM2_SM3, KeyDecl, KeyLog, KeyPurpose, LogKey, LogSecretKey,
};
use signet_protocol::party::AttestationId;
use signet_protocol::person::PersonKey;
use signet_protocol::session::Role;
use signet_protocol::sm2::Sm2SecretKey;
use signet_protocol::testkit::{TestParty, test_uscc};
use support::{Algorithms, Node, create, create_using, federate, one_signer, start, until};

/// The anchor's SM2-signed identity attestation of `node`.
fn sm2_identity(ca: &TestParty, key: &Sm2SecretKey, node: &Node, id: u8) -> Vec<u8> {
    let at = now();
    Attestation {
        id: AttestationId::from_bytes([id; 16]),
        issuer: ca.id(),
        subject: node.party(),
        issued_at: at,
        valid_from: at,
        valid_until: at.plus(365 * 86_400),
        claims: Claims::Identity(IdentityClaims {
            legal_name: node.name.clone(),
            registration: test_uscc(&node.name),
            jurisdiction: "CN".into(),
            legal_representative: format!("{} representative", node.name),
            method: VerificationMethod::BankTransfer,
            assurance: AssuranceLevel::High,
        }),
    }
    .issue(key, &ca.log)
    .unwrap()
    .bytes()
    .to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_sm2_attested_party_is_trusted_and_an_sm2_person_signs_for_it() {
    let root = tempfile::tempdir().unwrap();
    // The anchor: a party whose attest key is SM2 (not running a node here; what it signs
    // travels as bytes, as `signet attest import` carries it).
    let mut ca = TestParty::new("SM2 Anchor", now());
    let ca_attest = Sm2SecretKey::from_bytes(&[0x5e; 32]).unwrap();
    ca.log
        .add_key(&ca.root, KeyDecl::attest(ca_attest.public_key()), now())
        .unwrap();
    let anchors = [(ca.id(), "SM2 Anchor")];
    let (b_dir, b_key) = create(root.path(), "Brand", &anchors);
    let (s_dir, s_key) = create_using(
        root.path(),
        "Supplier",
        &anchors,
        Algorithms {
            delegate: SealAlgorithm::Sm2,
            ..Algorithms::default()
        },
    );
    // The supplier's delegate key file is SM2, and the node's first mandate names it.
    let LogSecretKey::Sm2(person) = keyfile::read_log_key(&s_key).unwrap() else {
        panic!("an SM2 person key file")
    };
    let brand = start("Brand", &b_dir, &b_key).await;
    let supplier = start("Supplier", &s_dir, &s_key).await;
    let ca_log: Vec<Vec<u8>> = ca.log.event_bytes().map(<[u8]>::to_vec).collect();
    // The anchor's revocation list, signed with the SM2 attest key too.
    let list = ca
        .revocation_list(vec![], now())
        .payload()
        .clone()
        .issue(&ca_attest, &ca.log)
        .unwrap();
    let identities = [
        sm2_identity(&ca, &ca_attest, &brand, 1),
        sm2_identity(&ca, &ca_attest, &supplier, 2),
        list.bytes().to_vec(),
    ];
    for (me, other) in [(&brand, &supplier), (&supplier, &brand)] {
        me.service.import_key_log(&ca_log).unwrap();
        me.service
            .import_key_log(&other.service.own_key_log().unwrap())
            .unwrap();
        for identity in &identities {
            let taken = me.service.import_attestation(identity).unwrap();
            assert_eq!(taken.algorithm(), Algorithm::Sm2Sm3);
        }
        for a in other.service.attestations().unwrap() {
            if a.payload().issuer == other.party() {
                me.service.import_attestation(a.bytes()).unwrap();
            }
        }
        me.service.add_peer(&other.address).await.unwrap();
    }
    let mandate = supplier
        .service
        .attestations()
        .unwrap()
        .into_iter()
        .find(|a| {
            a.payload().issuer == supplier.party()
                && matches!(a.payload().claims, Claims::Delegation(_))
        })
        .unwrap();
    let Claims::Delegation(d) = &mandate.payload().claims else {
        unreachable!()
    };
    assert_eq!(
        d.delegate.person_key(),
        Some(PersonKey::Sm2(person.public_key()))
    );

    let contract = b"Supply agreement: SM2 anchor, SM2 signatory".to_vec();
    let id = brand
        .service
        .create_session(NewSession {
            title: "Supply agreement".into(),
            purpose: "procurement".into(),
            participants: vec![
                NewParticipant {
                    party: supplier.party(),
                    role: Role::Signer,
                    order: 0,
                },
                NewParticipant {
                    party: brand.party(),
                    role: Role::Signer,
                    order: 1,
                },
            ],
            documents: vec![NewDocument {
                name: "supply.txt".into(),
                media_type: "text/plain".into(),
                source: DocumentSource::Bytes(contract.clone()),
                pdf_seals: None,
            }],
            deadline_days: 30,
            algorithms: None,
            witnesses: vec![],
        })
        .unwrap();
    // Each names the other as verified, through the SM2 anchor's attestation.
    let view = brand.service.session(id).unwrap();
    let named = &view.parties[&supplier.party().to_string()];
    assert_eq!(named.basis, "verified", "{:?}", named.unverified_because);
    until("the proposal to reach the supplier", || {
        supplier
            .service
            .session(id)
            .is_ok_and(|s| s.document_list[0].present)
    })
    .await;
    let named = &supplier.service.session(id).unwrap().parties[&brand.party().to_string()];
    assert_eq!(named.basis, "verified", "{:?}", named.unverified_because);
    // The Ed25519 key of another person does not sign for the SM2 delegate.
    let stranger = signet_protocol::SecretKey::from_seed(&[0x77; 32]);
    assert!(signet_node::person::sign_as(&supplier.service, id, &stranger).is_err());
    until("the supplier's SM2 delegate to sign", || {
        signet_node::person::sign_as(&supplier.service, id, &person).is_ok()
    })
    .await;
    let brand_person = keyfile::read(&brand.delegate_key).unwrap();
    until("the brand to sign", || {
        signet_node::person::sign_as(&brand.service, id, &brand_person).is_ok()
    })
    .await;
    until("the session to complete at both", || {
        [&brand, &supplier]
            .iter()
            .all(|n| n.service.session(id).is_ok_and(|s| s.status == "completed"))
    })
    .await;
    let bundle = brand.service.export_bundle(id).unwrap();
    let policy = NodeConfig::load(&b_dir).unwrap().trust_policy().unwrap();
    let report = verify_bundle(&bundle, &[&contract], &policy, now());
    assert_eq!(report.outcome, Outcome::Valid, "{report:?}");
    let records = support::signature_records(&bundle);
    let by_supplier = records
        .iter()
        .find(|r| r.seal_signature.payload().signer == supplier.party())
        .unwrap();
    assert_eq!(
        by_supplier.intent.person(),
        PersonKey::Sm2(person.public_key())
    );
}

/// A party made with `signet init --attest-algorithm sm2` declares an SM2 attest key and signs
/// every attestation its node issues with it: the verifier CA's identity attestations and the
/// supplier's mandates are SM2, the node's own trust evaluation takes them as it issues them,
/// and the brand, given them, names the supplier verified and takes a session the supplier's
/// SM2-mandated person signs as VALID. After a restart the node still attests with the same
/// SM2 key; a rotation keeps it SM2, or changes its algorithm when asked.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_party_whose_attest_key_is_sm2_issues_attestations_its_counterparty_trusts() {
    let root = tempfile::tempdir().unwrap();
    let (ca_dir, ca_key) = create_using(root.path(), "SM2 Verifier", &[], sm2_attest());
    let ca = start("SM2 Verifier", &ca_dir, &ca_key).await;
    let anchors = [(ca.party(), "SM2 Verifier")];
    let (b_dir, b_key) = create(root.path(), "Brand", &anchors);
    let (s_dir, s_key) = create_using(root.path(), "Supplier", &anchors, sm2_attest());
    let brand = start("Brand", &b_dir, &b_key).await;
    let supplier = start("Supplier", &s_dir, &s_key).await;
    // Each key log declares one attest key, SM2 (alg -98454).
    let attest_key = |node: &Node| {
        let log = KeyLog::replay(node.service.own_key_log().unwrap()).unwrap();
        let keys: Vec<LogKey> = log
            .keys_at(KeyPurpose::Attest, now())
            .map(|r| r.key.clone())
            .collect();
        assert_eq!(keys.len(), 1, "{}", node.name);
        keys[0].clone()
    };
    for node in [&ca, &supplier] {
        assert_eq!(attest_key(node).alg(), ALG_SM2_SM3, "{}", node.name);
    }
    assert_eq!(attest_key(&brand).alg(), ALG_ED25519);
    // The CA attests both identities (SM2); each party's own attestations travel.
    federate(&ca, &[&brand, &supplier]).await;
    let issued_by = |node: &Node| -> Vec<SignedAttestation> {
        let all = node.service.attestations().unwrap();
        all.into_iter()
            .filter(|a| a.payload().issuer == node.party())
            .collect()
    };
    for node in [&ca, &supplier] {
        let own = issued_by(node);
        assert!(!own.is_empty(), "{}", node.name);
        for a in own {
            assert_eq!(a.algorithm(), Algorithm::Sm2Sm3, "{}", node.name);
            assert_eq!(a.signer(), &attest_key(node));
        }
    }
    let identities = issued_by(&ca)
        .into_iter()
        .filter(|a| matches!(a.payload().claims, Claims::Identity(_)))
        .count();
    assert_eq!(identities, 2);

    // The supplier gives an SM2 person a mandate: signed with SM2, taken by the brand.
    let person = Sm2SecretKey::from_bytes(&[0x42; 32]).unwrap();
    let mandate = supplier
        .service
        .delegate(NewMandate {
            name: "SM2 signatory".into(),
            person: PersonKey::Sm2(person.public_key()),
            seals: vec![],
            purposes: vec!["procurement".into()],
            value_cap: None,
            counterparties: None,
            days: 30,
        })
        .unwrap();
    assert_eq!(mandate.algorithm(), Algorithm::Sm2Sm3);
    brand.service.import_attestation(mandate.bytes()).unwrap();

    let contract = b"Supply agreement: SM2 attestations".to_vec();
    let id = brand
        .service
        .create_session(one_signer(
            "Supply agreement",
            supplier.party(),
            contract.clone(),
        ))
        .unwrap();
    let view = brand.service.session(id).unwrap();
    let named = &view.parties[&supplier.party().to_string()];
    assert_eq!(named.basis, "verified", "{:?}", named.unverified_because);
    until("the supplier's SM2-mandated person to sign", || {
        signet_node::person::sign_as(&supplier.service, id, &person).is_ok()
    })
    .await;
    until("the session to complete at the brand", || {
        brand
            .service
            .session(id)
            .is_ok_and(|s| s.status == "completed")
    })
    .await;
    let bundle = brand.service.export_bundle(id).unwrap();
    let policy = NodeConfig::load(&b_dir).unwrap().trust_policy().unwrap();
    let report = verify_bundle(&bundle, &[&contract], &policy, now());
    assert_eq!(report.outcome, Outcome::Valid, "{report:?}");

    // A restart loads the SM2 attest key from its file: a mandate issued after it is SM2,
    // by the same key.
    let before = attest_key(&supplier);
    let (s_dir, s_key) = supplier.stop().await;
    let supplier = start("Supplier", &s_dir, &s_key).await;
    let again = supplier
        .service
        .delegate(NewMandate {
            name: "SM2 signatory".into(),
            person: PersonKey::Sm2(person.public_key()),
            seals: vec![],
            purposes: vec!["sales".into()],
            value_cap: None,
            counterparties: None,
            days: 30,
        })
        .unwrap();
    assert_eq!(again.algorithm(), Algorithm::Sm2Sm3);
    assert_eq!(again.signer(), &before);
    brand.service.import_attestation(again.bytes()).unwrap();

    // A rotation keeps the attest key SM2 unless asked otherwise; only the attest key takes
    // an algorithm. The brand, given the new key log, takes what the new key signs.
    let (_, rotated) = supplier.service.rotate_key(KeyKind::Attest).unwrap();
    assert_eq!(rotated.alg(), ALG_SM2_SM3);
    assert_ne!(rotated, before);
    assert_eq!(attest_key(&supplier), rotated);
    assert!(
        supplier
            .service
            .rotate_key_to(KeyKind::Log, Some(SealAlgorithm::Sm2))
            .is_err()
    );
    let (_, back) = supplier
        .service
        .rotate_key_to(KeyKind::Attest, Some(SealAlgorithm::Ed25519))
        .unwrap();
    assert_eq!(back.alg(), ALG_ED25519);
    let (_, sm2_again) = supplier
        .service
        .rotate_key_to(KeyKind::Attest, Some(SealAlgorithm::Sm2))
        .unwrap();
    assert_eq!(sm2_again.alg(), ALG_SM2_SM3);
    brand
        .service
        .import_key_log(&supplier.service.own_key_log().unwrap())
        .unwrap();
    let (s_dir, s_key) = supplier.stop().await;
    let supplier = start("Supplier", &s_dir, &s_key).await;
    let third = supplier
        .service
        .delegate(NewMandate {
            name: "SM2 signatory".into(),
            person: PersonKey::Sm2(person.public_key()),
            seals: vec![],
            purposes: vec!["services".into()],
            value_cap: None,
            counterparties: None,
            days: 30,
        })
        .unwrap();
    assert_eq!(third.signer(), &sm2_again);
    brand.service.import_attestation(third.bytes()).unwrap();
}

/// Keys whose attest key is SM2 (`signet init --attest-algorithm sm2`); seals and the
/// delegate's key Ed25519.
fn sm2_attest() -> Algorithms {
    Algorithms {
        attest: SealAlgorithm::Sm2,
        ..Algorithms::default()
    }
}
