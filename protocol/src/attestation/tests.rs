use super::*;
use crate::SecretKey;
use crate::testkit::{DAY, TestParty, test_key};
use proptest::prelude::*;

const T0: Timestamp = Timestamp::from_unix(1_800_000_000);

/// One signed attestation of every kind.
fn one_of_each() -> Vec<SignedAttestation> {
    let mut ca = TestParty::new("CA", T0);
    let mut supplier = TestParty::new("Supplier", T0);
    let brand = TestParty::new("Brand", T0);
    let identity = ca.verify_identity(&supplier, AssuranceLevel::High, T0);
    let seal = ca.attest(
        supplier.id(),
        Claims::SealCertification(SealCertification {
            seal: supplier.contract_seal.public_key().into(),
            kind: SealKind::Contract,
            name: "合同专用章".into(),
            image: Some(Digest::of(b"seal image")),
        }),
        T0,
        365,
    );
    let delegation = supplier.delegate_contract_seal(
        &["procurement"],
        Some(10_000),
        Some(vec![brand.id()]),
        T0,
        365,
    );
    let endorsement = ca.endorse(&supplier, T0);
    let revocation = ca.revoke(identity.payload().id, T0.plus(DAY), T0);
    let accreditation = ca.accredit(brand.id(), true, T0);
    let list = ca.revocation_list(
        vec![RevokedEntry {
            id: identity.payload().id,
            effective: T0,
            reason: RevocationReason::Superseded,
        }],
        T0,
    );
    let key_revocation = supplier.revoke_key(supplier.node.public_key(), T0, T0);
    ca.declare_pdf_key(T0);
    supplier.declare_pdf_key(T0);
    let pdf_certificate = ca.certify_pdf_key(&supplier, &identity, T0, 365);
    let cfca = crate::testkit::TestCertificateAuthority::new("Test SM2 CA", true, T0);
    let (leaf, holder) = cfca.certify(
        &mut supplier,
        "91350100M000100Y43",
        77,
        true,
        crate::x509::sm2::Sm2KeyForm::EcPublicKey,
        T0,
    );
    let ca_identity = supplier.ca_identity(vec![leaf], &holder, T0, 365);
    vec![
        pdf_certificate,
        identity,
        seal,
        delegation,
        endorsement,
        revocation,
        accreditation,
        list,
        key_revocation,
        ca_identity,
    ]
}

#[test]
fn every_kind_round_trips_through_bytes() {
    let all = one_of_each();
    let kinds: Vec<AttestationKind> = all.iter().map(|s| s.payload().claims.kind()).collect();
    for kind in AttestationKind::KNOWN {
        assert!(kinds.contains(kind), "{kind} missing from the fixture");
    }
    for signed in all {
        let back = Attestation::decode(signed.bytes()).unwrap();
        assert_eq!(back, signed);
        assert_eq!(
            codec::encode(back.payload()).unwrap(),
            codec::encode(signed.payload()).unwrap()
        );
    }
}

#[test]
fn every_byte_change_fails_verification() {
    for signed in one_of_each().into_iter().take(3) {
        let bytes = signed.bytes();
        for i in 0..bytes.len() {
            let mut tampered = bytes.to_vec();
            tampered[i] ^= 0x20;
            assert!(Attestation::decode(&tampered).is_err(), "byte {i}");
        }
    }
}

fn resign(a: &Attestation, key: &SecretKey) -> Vec<u8> {
    // Build the wire form by hand so that invalid content can be signed.
    let wire = AttestationWire::from(a.clone());
    let payload = codec::encode(&wire).unwrap();
    let value: ciborium::Value = codec::decode(&payload, &Limits::DEFAULT).unwrap();
    Signed::sign(value, ATTESTATION_CONTENT_TYPE, key)
        .unwrap()
        .bytes()
        .to_vec()
}

#[test]
fn invalid_content_is_refused_on_decode() {
    let mut ca = TestParty::new("CA", T0);
    let supplier = TestParty::new("Supplier", T0);
    let good = ca
        .verify_identity(&supplier, AssuranceLevel::High, T0)
        .payload()
        .clone();

    let mut empty_window = good.clone();
    empty_window.valid_until = empty_window.valid_from;
    let mut other_party_delegation = good.clone();
    other_party_delegation.claims = Claims::Delegation(Delegation {
        delegate: Delegate {
            name: "x".into(),
            key: Some(ca.delegate.public_key().into()),
            credential: None,
        },
        seals: vec![ca.contract_seal.public_key().into()],
        purposes: vec!["any".into()],
        value_cap: None,
        counterparties: None,
    });
    let mut blank_name = good.clone();
    if let Claims::Identity(c) = &mut blank_name.claims {
        c.legal_name.clear();
    }
    for (bad, what) in [
        (empty_window, "empty window"),
        (other_party_delegation, "delegation about another party"),
        (blank_name, "blank legal name"),
    ] {
        let bytes = resign(&bad, &ca.attest);
        assert!(
            matches!(
                Attestation::decode(&bytes),
                Err(CoseError::Payload(DecodeError::Schema { .. }))
            ),
            "{what}"
        );
    }
}

#[test]
fn unknown_kind_decodes_to_a_precise_refusal() {
    let mut ca = TestParty::new("CA", T0);
    let supplier = TestParty::new("Supplier", T0);
    let good = ca.verify_identity(&supplier, AssuranceLevel::High, T0);
    let mut wire = AttestationWire::from(good.payload().clone());
    wire.kind = AttestationKind::Unknown(99);
    let value: ciborium::Value =
        codec::decode(&codec::encode(&wire).unwrap(), &Limits::DEFAULT).unwrap();
    let bytes = Signed::sign(value, ATTESTATION_CONTENT_TYPE, &ca.attest)
        .unwrap()
        .bytes()
        .to_vec();
    let err = Attestation::decode(&bytes).unwrap_err();
    assert!(err.to_string().contains("attestation kind 99"), "{err}");
    // Decoded and refused on purpose: `unsupported`, not a schema mismatch.
    assert_eq!(
        crate::error::WireError::code(&err),
        crate::error::ErrorCode::Unsupported
    );
}

#[test]
fn issuing_with_a_key_that_is_not_an_attest_key_is_a_usage_error() {
    let ca = TestParty::new("CA", T0);
    let supplier = TestParty::new("Supplier", T0);
    let mut a = TestParty::new("CA", T0)
        .verify_identity(&supplier, AssuranceLevel::High, T0)
        .payload()
        .clone();
    a.issuer = ca.id();
    assert!(matches!(
        a.issue(&ca.node, &ca.log),
        Err(UsageError::Attestation(_))
    ));
}

#[test]
fn assurance_levels_order() {
    assert!(AssuranceLevel::High.meets(AssuranceLevel::Substantial));
    assert!(!AssuranceLevel::Low.meets(AssuranceLevel::Substantial));
    assert!(!AssuranceLevel::Unknown(9).meets(AssuranceLevel::Low));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]
    #[test]
    fn identity_claims_round_trip(name in "\\PC{1,40}", rep in "\\PC{1,20}", days in 1u64..4000, level in 1u64..=3) {
        let mut ca = TestParty::new("CA", T0);
        let supplier = TestParty::new("Supplier", T0);
        let claims = Claims::Identity(IdentityClaims {
            legal_name: name,
            registration: supplier.registration.clone(),
            jurisdiction: "CN".into(),
            legal_representative: rep,
            method: VerificationMethod::InPerson,
            assurance: AssuranceLevel::from_code(level),
        });
        let signed = ca.attest(supplier.id(), claims, T0, days);
        prop_assert_eq!(Attestation::decode(signed.bytes()).unwrap(), signed);
    }
}

#[test]
fn a_delegate_names_an_sm2_key_with_its_alg_and_an_ed25519_key_without() {
    let ed = test_key("Signer", "delegate").public_key();
    let sm2 = crate::sm2::Sm2SecretKey::from_bytes(&[0x31; 32])
        .unwrap()
        .public_key();
    // An Ed25519 delegate keeps its bytes: {name, key}, no alg.
    let bytes = codec::encode(&Delegate::with_key("Li", ed)).unwrap();
    let value: ciborium::Value = codec::decode(&bytes, &Limits::DEFAULT).unwrap();
    let ciborium::Value::Map(entries) = value else {
        panic!("a map")
    };
    let keys: Vec<_> = entries.iter().filter_map(|(k, _)| k.as_text()).collect();
    assert_eq!(keys, ["key", "name"]);
    // An SM2 delegate carries alg -98454 and the compressed point.
    let d = Delegate::with_key("Wang", sm2);
    let bytes = codec::encode(&d).unwrap();
    let value: ciborium::Value = codec::decode(&bytes, &Limits::DEFAULT).unwrap();
    let ciborium::Value::Map(entries) = value else {
        panic!("a map")
    };
    let alg = entries
        .iter()
        .find(|(k, _)| k.as_text() == Some("alg"))
        .map(|(_, v)| v.clone());
    assert_eq!(alg, Some(crate::keylog::ALG_SM2_SM3.into()));
    let back: Delegate = codec::decode(&bytes, &Limits::DEFAULT).unwrap();
    assert_eq!(back, d);
    assert_eq!(back.person_key(), Some(PersonKey::Sm2(sm2)));
}

#[test]
fn a_delegate_key_of_another_algorithm_is_refused() {
    let sm2 = crate::sm2::Sm2SecretKey::from_bytes(&[0x31; 32])
        .unwrap()
        .public_key();
    let wire = |key: Vec<u8>, alg: Option<i64>| {
        // Keys in deterministic order: alg, key, name.
        let mut entries = vec![];
        if let Some(alg) = alg {
            entries.push((ciborium::Value::Text("alg".into()), alg.into()));
        }
        entries.push((
            ciborium::Value::Text("key".into()),
            ciborium::Value::Bytes(key),
        ));
        entries.push((
            ciborium::Value::Text("name".into()),
            ciborium::Value::Text("x".into()),
        ));
        let mut bytes = Vec::new();
        ciborium::into_writer(&ciborium::Value::Map(entries), &mut bytes).unwrap();
        bytes
    };
    // Ed25519 is never written as alg, an SM2 point under no alg is no Ed25519 key, and an
    // uncompressed point is no SM2 key: malformed.
    let ed = test_key("Signer", "delegate").public_key();
    let d: Delegate = codec::decode(&wire(ed.as_bytes().to_vec(), None), &Limits::DEFAULT).unwrap();
    assert_eq!(d.person_key(), Some(PersonKey::Ed25519(ed)));
    for (key, alg) in [
        (ed.as_bytes().to_vec(), Some(-19)),
        (sm2.as_bytes().to_vec(), None),
        (
            sm2.to_uncompressed().to_vec(),
            Some(crate::keylog::ALG_SM2_SM3),
        ),
    ] {
        assert!(codec::decode::<Delegate>(&wire(key, alg), &Limits::DEFAULT).is_err());
    }
    // A key of an algorithm a person's key may not have decodes and names no person.
    let esp256 = p256::ecdsa::SigningKey::from_slice(&[5; 32]).unwrap();
    let esp256 = crate::keylog::EcdsaP256Key::from_verifying_key(esp256.verifying_key());
    for (key, alg) in [(esp256.as_bytes().to_vec(), -9), (vec![1, 2, 3], -50)] {
        let d: Delegate = codec::decode(&wire(key, Some(alg)), &Limits::DEFAULT).unwrap();
        assert_eq!(d.person_key(), None);
    }
}

#[test]
fn a_mandate_of_an_sm2_person_covers_that_person_only() {
    let mut supplier = TestParty::new("Supplier", T0);
    let sm2 = crate::sm2::Sm2SecretKey::from_bytes(&[0x32; 32])
        .unwrap()
        .public_key();
    let delegation = Delegation {
        delegate: Delegate::with_key("Wang", sm2),
        seals: vec![supplier.contract_seal.public_key().into()],
        purposes: vec!["procurement".into()],
        value_cap: None,
        counterparties: None,
    };
    let mandate = supplier.attest(supplier.id(), Claims::Delegation(delegation), T0, 30);
    let decoded = Attestation::decode(mandate.bytes()).unwrap();
    let seal: LogKey = supplier.contract_seal.public_key().into();
    let use_ = |delegate: PersonKey| MandateUse {
        party: supplier.id(),
        delegate,
        seal: seal.clone(),
        purpose: "procurement",
        value: None,
        counterparties: &[],
        time: T0.plus(60),
    };
    assert!(
        decoded
            .payload()
            .check_mandate_terms(&use_(PersonKey::Sm2(sm2)), 365 * DAY)
            .is_ok()
    );
    // The same person's Ed25519 key, or another SM2 key, is another person.
    let other = crate::sm2::Sm2SecretKey::from_bytes(&[0x33; 32])
        .unwrap()
        .public_key();
    for delegate in [
        PersonKey::Sm2(other),
        PersonKey::Ed25519(supplier.delegate.public_key()),
    ] {
        assert!(matches!(
            decoded
                .payload()
                .check_mandate_terms(&use_(delegate), 365 * DAY),
            Err(MandateError::DelegateMismatch)
        ));
    }
}
