use super::*;
use crate::SecretKey;
use crate::testkit::{DAY, TestParty};
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
            key: Some(ca.delegate.public_key()),
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
