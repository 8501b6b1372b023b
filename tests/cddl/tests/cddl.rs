//! The CDDL in `spec/cddl/signet.cddl` matches the bytes the code produces, and the registry
//! tables in `spec/13-registries.md` match the code's code points.
//!
//! Every instance here is real output of `signet-protocol`: key events of every kind,
//! attestations of every kind and trust policies. Each COSE_Sign1 is checked three ways
//! (the whole array, its protected header, its payload) against the rule the spec names for
//! it; mutated instances (a renamed field, a wrong type, an extra field, a wrong algorithm)
//! must be refused by the CDDL and by the code alike, so the schema cannot be vacuous.
// Test helpers fail the test by panicking, as test code does.
#![allow(clippy::expect_used, clippy::panic)]

use std::cell::RefCell;
use std::collections::BTreeMap;

use cddl::validator::{Validator, cbor::CBORValidator};

use ciborium::Value;
use signet_protocol::attestation::{
    ATTESTATION_CONTENT_TYPE, AssuranceLevel, Attestation, AttestationKind, Claims,
    RevocationReason, RevokedEntry, SealCertification, SignedAttestation, VerificationMethod,
};
use signet_protocol::bundle::{BUNDLE_EXTENSION, BUNDLE_MEDIA_TYPE};
use signet_protocol::codec::{self, Limits};
use signet_protocol::cose::Signed;
use signet_protocol::error::ErrorCode;
use signet_protocol::evidence::EvidenceKind;
use signet_protocol::keylog::{
    KEY_EVENT_CONTENT_TYPE, KeyDecl, KeyEvent, KeyEventKind, KeyLog, KeyPurpose,
};
use signet_protocol::seal::{SealInfo, SealKind};
use signet_protocol::session::{
    INTENT_CONTENT_TYPE, IntentMethod, MessageKind, PROPOSAL_CONTENT_TYPE, Role,
    SEAL_SIGNATURE_CONTENT_TYPE, SESSION_MESSAGE_CONTENT_TYPE,
};
use signet_protocol::testkit::{DAY, TestParty, test_key};
use signet_protocol::transport::witness::WitnessMessageKind;
use signet_protocol::trust::{EndorsementRule, TrustAnchor, TrustPolicy};
use signet_protocol::{Digest, Signature, Timestamp};

const CDDL: &str = include_str!("../../../spec/cddl/signet.cddl");
const REGISTRIES: &str = include_str!("../../../spec/13-registries.md");

const T0: Timestamp = Timestamp::from_unix(1_800_000_000);

/// Validates `bytes` against the CDDL rule named `rule`.
fn validate(rule: &str, bytes: &[u8]) -> Result<(), String> {
    let schema = schema_for(rule);
    let value: Value = ciborium::from_reader(bytes).map_err(|e| e.to_string())?;
    let mut validator = CBORValidator::new(schema, value.into(), None);
    validator.validate().map_err(|e| e.to_string())
}

thread_local! {
    static SCHEMAS: RefCell<BTreeMap<String, &'static cddl::ast::CDDL<'static>>> =
        const { RefCell::new(BTreeMap::new()) };
}

/// The spec's CDDL, parsed once: parsing dominates the test's time in debug builds.
fn parsed_spec() -> &'static cddl::ast::CDDL<'static> {
    static PARSED: std::sync::OnceLock<cddl::ast::CDDL<'static>> = std::sync::OnceLock::new();
    PARSED.get_or_init(|| {
        cddl::cddl_from_str(CDDL, true)
            .unwrap_or_else(|e| panic!("spec/cddl/signet.cddl does not parse: {e}"))
    })
}

/// The spec's CDDL with the rule `rule` moved to the front (the validator checks the first
/// rule), built once per thread and rule.
fn schema_for(rule: &str) -> &'static cddl::ast::CDDL<'static> {
    SCHEMAS.with(|schemas| {
        *schemas
            .borrow_mut()
            .entry(rule.to_string())
            .or_insert_with(|| {
                let mut schema = parsed_spec().clone();
                let index = schema
                    .rules
                    .iter()
                    .position(|r| r.name() == rule)
                    .unwrap_or_else(|| panic!("signet.cddl has no rule {rule}"));
                let entry = schema.rules.remove(index);
                schema.rules.insert(0, entry);
                Box::leak(Box::new(schema))
            })
    })
}

#[track_caller]
fn assert_valid(rule: &str, bytes: &[u8]) {
    if let Err(e) = validate(rule, bytes) {
        panic!("{rule} refuses real output {}:\n{e}", hex::encode(bytes));
    }
}

#[track_caller]
fn assert_invalid(rule: &str, bytes: &[u8]) {
    assert!(
        validate(rule, bytes).is_err(),
        "{rule} accepts a mutated instance {}",
        hex::encode(bytes)
    );
}

/// The parts of a COSE_Sign1: (protected header bytes, payload bytes).
fn cose_parts(bytes: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let value: Value = ciborium::from_reader(bytes).expect("a COSE_Sign1 is CBOR");
    let Value::Array(items) = value else {
        panic!("a COSE_Sign1 is an array");
    };
    let (Some(Value::Bytes(protected)), Some(Value::Bytes(payload))) =
        (items.first(), items.get(2))
    else {
        panic!("protected header and payload are byte strings");
    };
    (protected.clone(), payload.clone())
}

/// The signature of a COSE_Sign1.
fn cose_signature(bytes: &[u8]) -> Signature {
    let value: Value = ciborium::from_reader(bytes).expect("a COSE_Sign1 is CBOR");
    let Value::Array(items) = value else {
        panic!("a COSE_Sign1 is an array");
    };
    let Some(Value::Bytes(signature)) = items.get(3) else {
        panic!("the signature is a byte string");
    };
    Signature::from_slice(signature).expect("64 bytes")
}

/// Re-assembles a COSE_Sign1 with another protected header or payload (the signature then
/// no longer verifies, but the CDDL must refuse the structure on its own).
fn cose_with(bytes: &[u8], protected: Option<Vec<u8>>, payload: Option<Vec<u8>>) -> Vec<u8> {
    let value: Value = ciborium::from_reader(bytes).expect("a COSE_Sign1 is CBOR");
    let Value::Array(mut items) = value else {
        panic!("a COSE_Sign1 is an array");
    };
    if let Some(p) = protected {
        items[0] = Value::Bytes(p);
    }
    if let Some(p) = payload {
        items[2] = Value::Bytes(p);
    }
    encode_value(&Value::Array(items))
}

fn encode_value(value: &Value) -> Vec<u8> {
    codec::encode(value).expect("test values encode")
}

fn decode_value(bytes: &[u8]) -> Value {
    codec::decode(bytes, &Limits::DEFAULT).expect("real output decodes")
}

/// The entries of a CBOR map.
type Entries = Vec<(Value, Value)>;

/// Applies `f` to the map at the top of `bytes` (a payload) and re-encodes it.
fn mutate_map(bytes: &[u8], f: impl FnOnce(&mut Vec<(Value, Value)>)) -> Vec<u8> {
    let Value::Map(mut entries) = decode_value(bytes) else {
        panic!("payload is a map");
    };
    f(&mut entries);
    encode_value(&Value::Map(entries))
}

fn rename_key(entries: &mut [(Value, Value)], from: &str, to: &str) {
    let entry = entries
        .iter_mut()
        .find(|(k, _)| k.as_text() == Some(from))
        .unwrap_or_else(|| panic!("field {from} present"));
    entry.0 = Value::Text(to.into());
}

fn set_value(entries: &mut [(Value, Value)], key: &str, value: Value) {
    let entry = entries
        .iter_mut()
        .find(|(k, _)| k.as_text() == Some(key))
        .unwrap_or_else(|| panic!("field {key} present"));
    entry.1 = value;
}

/// A key event log with one event of every kind, including a seal with an image.
fn key_log_of_every_kind() -> KeyLog {
    let k = |role: &str| test_key("example", role);
    let mut log = KeyLog::incept(
        &k("root-0"),
        &k("root-1").public_key(),
        vec![
            KeyDecl::node(&k("node"), &k("root-0").public_key()),
            KeyDecl::attest(k("attest").public_key()),
            KeyDecl::log(k("log").public_key()),
            KeyDecl::seal(
                k("seal-contract").public_key(),
                SealInfo {
                    kind: SealKind::Contract,
                    name: "合同专用章".into(),
                    image: None,
                },
            ),
        ],
        T0,
    )
    .expect("valid inception");
    log.add_key(
        &k("root-0"),
        KeyDecl::seal(
            k("seal-finance").public_key(),
            SealInfo {
                kind: SealKind::Finance,
                name: "财务专用章".into(),
                image: Some(Digest::of(b"seal image")),
            },
        ),
        T0.plus(60),
    )
    .expect("valid add-key");
    log.rotate(&k("root-1"), &k("root-2").public_key(), T0.plus(120))
        .expect("valid rotation");
    log.retire_key(&k("root-1"), k("node").public_key(), T0.plus(180))
        .expect("valid retire-key");
    log.add_key(
        &k("root-1"),
        KeyDecl::node(&k("node-2"), &k("root-1").public_key()),
        T0.plus(240),
    )
    .expect("valid add-key");
    log.retire_party(&k("root-1"), T0.plus(300))
        .expect("valid retire-party");
    log
}

/// The CDDL rule for each key event kind.
fn key_event_rule(kind: KeyEventKind) -> &'static str {
    match kind {
        KeyEventKind::Inception => "inception-event",
        KeyEventKind::Rotation => "rotation-event",
        KeyEventKind::AddKey => "add-key-event",
        KeyEventKind::RetireKey => "retire-key-event",
        KeyEventKind::RetireParty => "retire-party-event",
        other => panic!("no rule for {other}"),
    }
}

/// One signed attestation of every kind, with optional fields both present and absent.
fn attestations_of_every_kind() -> Vec<SignedAttestation> {
    let mut ca = TestParty::new("CA", T0);
    let mut supplier = TestParty::new("Supplier", T0);
    let brand = TestParty::new("Brand", T0);
    let identity = ca.verify_identity(&supplier, AssuranceLevel::High, T0);
    let identity_id = identity.payload().id;
    let seal_with_image = ca.attest(
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
    let seal_without_image = ca.attest(
        supplier.id(),
        Claims::SealCertification(SealCertification {
            seal: supplier.company_seal.public_key().into(),
            kind: SealKind::Company,
            name: "公章".into(),
            image: None,
        }),
        T0,
        365,
    );
    let full_mandate = supplier.delegate_contract_seal(
        &["procurement", "logistics"],
        Some(10_000),
        Some(vec![brand.id()]),
        T0,
        365,
    );
    let open_mandate = supplier.delegate_contract_seal(&["procurement"], None, None, T0, 30);
    let endorsement = brand_endorsement(&supplier);
    let revocation = ca.revoke(identity_id, T0.plus(DAY), T0);
    let key_revocation = supplier.revoke_key(supplier.node.public_key(), T0, T0);
    let accreditation = ca.accredit(brand.id(), true, T0);
    let list = ca.revocation_list(
        vec![RevokedEntry {
            id: identity_id,
            effective: T0,
            reason: RevocationReason::Superseded,
        }],
        T0,
    );
    let empty_list = supplier.revocation_list(vec![], T0);
    ca.declare_pdf_key(T0);
    supplier.declare_pdf_key(T0);
    let pdf_certificate = ca.certify_pdf_key(&supplier, &identity, T0, 365);
    let cfca = signet_protocol::testkit::TestCertificateAuthority::new("CFCA", true, T0);
    let (leaf, holder) = cfca.certify(
        &mut supplier,
        "91350100M000100Y43",
        77,
        true,
        signet_protocol::x509::sm2::Sm2KeyForm::EcPublicKey,
        T0,
    );
    let ca_identity = supplier.ca_identity(vec![leaf, cfca.root().to_vec()], &holder, T0, 365);
    vec![
        identity,
        seal_with_image,
        seal_without_image,
        full_mandate,
        open_mandate,
        endorsement,
        revocation,
        key_revocation,
        accreditation,
        list,
        empty_list,
        pdf_certificate,
        ca_identity,
    ]
}

fn brand_endorsement(supplier: &TestParty) -> SignedAttestation {
    let mut brand = TestParty::new("Brand", T0);
    brand.endorse(supplier, T0)
}

fn attestation_rule(kind: AttestationKind) -> &'static str {
    match kind {
        AttestationKind::Identity => "identity-attestation",
        AttestationKind::SealCertification => "seal-certification-attestation",
        AttestationKind::Delegation => "delegation-attestation",
        AttestationKind::Endorsement => "endorsement-attestation",
        AttestationKind::Revocation => "revocation-attestation",
        AttestationKind::Accreditation => "accreditation-attestation",
        AttestationKind::RevocationList => "revocation-list-attestation",
        AttestationKind::PdfCertificate => "pdf-certificate-attestation",
        AttestationKind::CaIdentity => "ca-identity-attestation",
        other => panic!("no rule for {other}"),
    }
}

fn policies() -> Vec<TrustPolicy> {
    let ca = TestParty::new("CA", T0);
    let brand = TestParty::new("Brand", T0);
    let anchors = vec![TrustAnchor {
        party: ca.id(),
        name: "Test CA".into(),
    }];
    let with_endorsements = TrustPolicy {
        endorsements: Some(EndorsementRule {
            endorsers: vec![ca.id(), brand.id()],
            threshold: 2,
        }),
        ..TrustPolicy::with_anchors(anchors.clone())
    };
    let bare = TrustPolicy {
        max_attestation_age: None,
        revocation_freshness: None,
        ..TrustPolicy::with_anchors(anchors)
    };
    let cfca = signet_protocol::testkit::TestCertificateAuthority::new("CFCA", false, T0);
    let with_ca_roots = TrustPolicy {
        ca_roots: vec![signet_protocol::trust::CaRoot {
            name: "CFCA".into(),
            certificate: cfca.root().to_vec(),
        }],
        ..bare.clone()
    };
    vec![with_endorsements, bare, with_ca_roots]
}

#[test]
fn every_key_event_kind_matches_its_rule() {
    let log = key_log_of_every_kind();
    let mut kinds = Vec::new();
    for event in log.events() {
        let kind = event.payload().change.kind();
        kinds.push(kind);
        let (protected, payload) = cose_parts(event.bytes());
        assert_valid(key_event_rule(kind), &payload);
        assert_valid("key-event", &payload);
        assert_valid("key-event-protected-header", &protected);
        assert_valid("signed-key-event", event.bytes());
        assert_valid("signet-sign1", event.bytes());
        assert_valid("protected-header", &protected);
        assert_valid("signet-item", event.bytes());
        // The other kinds' rules must not accept it.
        for other in KeyEventKind::KNOWN.iter().filter(|k| **k != kind) {
            assert_invalid(key_event_rule(*other), &payload);
        }
        // Nor the attestation's content type.
        assert_invalid("attestation-protected-header", &protected);
    }
    for kind in KeyEventKind::KNOWN {
        assert!(kinds.contains(kind), "{kind} missing from the fixture");
    }
}

#[test]
fn an_sm2_pdf_key_matches_its_rule() {
    let k = |role: &str| test_key("example", role);
    let sm2 = signet_protocol::sm2::Sm2SecretKey::from_bytes(&k("sm2").to_seed())
        .expect("a valid scalar")
        .public_key();
    let mut log = KeyLog::incept(&k("root-0"), &k("root-1").public_key(), vec![], T0)
        .expect("valid inception");
    log.add_key(&k("root-0"), KeyDecl::sm2_pdf(sm2), T0.plus(60))
        .expect("an SM2 pdf key is accepted");
    log.retire_key(&k("root-0"), sm2, T0.plus(120))
        .expect("valid retire-key");
    for event in &log.events()[1..] {
        let (_, payload) = cose_parts(event.bytes());
        assert_valid(key_event_rule(event.payload().change.kind()), &payload);
        assert_valid("key-event", &payload);
    }
    let (_, payload) = cose_parts(log.events()[1].bytes());
    let Value::Map(entries) = decode_value(&payload) else {
        panic!("payload is a map");
    };
    let body = entries
        .iter()
        .find(|(k, _)| k.as_text() == Some("body"))
        .map(|(_, v)| encode_value(v))
        .expect("an add-key has a body");
    assert_valid("sm2-pdf-key-decl", &body);
    assert_invalid("pdf-key-decl", &body);
    // A 65-byte (uncompressed) point is not an sm2-pdf-key-decl.
    let long = mutate_map(&body, |entries| {
        set_value(entries, "key", Value::Bytes(sm2.to_uncompressed().to_vec()));
    });
    assert_invalid("sm2-pdf-key-decl", &long);
}

#[test]
fn an_sm2_attest_key_and_its_attestations_match_their_rules() {
    let mut ca = TestParty::new("CA", T0);
    let supplier = TestParty::new("Supplier", T0);
    let sm2 = signet_protocol::sm2::Sm2SecretKey::from_bytes(&test_key("example", "sm2").to_seed())
        .expect("a valid scalar");
    ca.log
        .add_key(&ca.root, KeyDecl::attest(sm2.public_key()), T0.plus(60))
        .expect("an SM2 attest key is accepted");
    let (_, payload) = cose_parts(ca.log.events()[1].bytes());
    let Value::Map(entries) = decode_value(&payload) else {
        panic!("payload is a map");
    };
    let body = entries
        .iter()
        .find(|(k, _)| k.as_text() == Some("body"))
        .map(|(_, v)| encode_value(v))
        .expect("an add-key has a body");
    assert_valid("plain-key-decl", &body);
    assert_valid("key-decl", &body);
    let signed = ca
        .verify_identity(&supplier, AssuranceLevel::High, T0.plus(120))
        .payload()
        .clone()
        .issue(&sm2, &ca.log)
        .expect("the SM2 attest key signs");
    let (protected, payload) = cose_parts(signed.bytes());
    assert_valid("attestation-protected-header", &protected);
    assert_valid("attestation", &payload);
    assert_valid("signed-attestation", signed.bytes());
    assert_valid("signet-item", signed.bytes());
    // The key-event header never names SM2.
    assert_invalid("key-event-protected-header", &protected);
}

#[test]
fn an_sm2_person_key_and_its_intent_proof_match_their_rules() {
    let sm2 = signet_protocol::sm2::Sm2SecretKey::from_bytes(
        &test_key("example", "sm2-person").to_seed(),
    )
    .expect("a valid scalar");
    let ed = test_key("example", "delegate").public_key();
    let delegate = codec::encode(&signet_protocol::attestation::Delegate::with_key(
        "王五",
        sm2.public_key(),
    ))
    .expect("encodes");
    assert_valid("delegate", &delegate);
    // The SM2 form needs its alg: the same key without it is no delegate.
    let without_alg = mutate_map(&delegate, |entries| {
        entries.retain(|(k, _)| k.as_text() != Some("alg"));
    });
    assert_invalid("delegate", &without_alg);
    let ed25519 = codec::encode(&signet_protocol::attestation::Delegate::with_key(
        "李四", ed,
    ))
    .expect("encodes");
    assert_valid("delegate", &ed25519);
    let supplier = TestParty::new("Supplier", T0);
    let challenge = signet_protocol::session::IntentChallenge {
        session: signet_protocol::session::SessionId::from_bytes([0x84; 32]),
        proposal: Digest::of(b"the proposal"),
        documents: vec![Digest::of(b"the contract")],
        signer: supplier.id(),
        seal: supplier.contract_seal.public_key().into(),
        method: IntentMethod::SoftwareKey,
        time: T0,
    };
    let proof = Signed::sign(challenge, INTENT_CONTENT_TYPE, &sm2).expect("signs");
    let (protected, _) = cose_parts(proof.bytes());
    assert_valid("intent-protected-header", &protected);
    assert_valid("signed-intent", proof.bytes());
    assert_invalid("proposal-protected-header", &protected);
}

#[test]
fn every_attestation_kind_matches_its_rule() {
    let all = attestations_of_every_kind();
    let mut kinds = Vec::new();
    for signed in &all {
        let kind = signed.payload().claims.kind();
        kinds.push(kind);
        let (protected, payload) = cose_parts(signed.bytes());
        assert_valid(attestation_rule(kind), &payload);
        assert_valid("attestation", &payload);
        assert_valid("attestation-protected-header", &protected);
        assert_valid("signed-attestation", signed.bytes());
        assert_valid("signet-sign1", signed.bytes());
        assert_valid("protected-header", &protected);
        assert_valid("signet-item", signed.bytes());
        for other in AttestationKind::KNOWN.iter().filter(|k| **k != kind) {
            assert_invalid(attestation_rule(*other), &payload);
        }
        assert_invalid("signed-key-event", signed.bytes());
    }
    for kind in AttestationKind::KNOWN {
        assert!(kinds.contains(kind), "{kind} missing from the fixture");
    }
}

#[test]
fn address_records_match_their_rule() {
    use signet_protocol::address::{AddressRecord, MAX_ADDRESSES, p2p_suffix};
    let party = TestParty::new("Address Holder", Timestamp::from_unix(1_800_000_000));
    let node = party.node.public_key();
    let mut address = vec![0x04, 127, 0, 0, 1, 0x06, 0x0f, 0xa1];
    address.extend_from_slice(&p2p_suffix(&node));
    for addresses in [
        vec![],
        vec![address.clone()],
        vec![address.clone(); MAX_ADDRESSES],
    ] {
        let signed = AddressRecord {
            party: party.id(),
            node,
            seq: 1_800_000_000_123,
            issued_at: Timestamp::from_unix(1_800_000_000),
            addresses,
        }
        .sign(&party.node)
        .unwrap();
        let (protected, payload) = cose_parts(signed.bytes());
        assert_valid("address-record", &payload);
        assert_valid("address-record-protected-header", &protected);
        assert_valid("signed-address-record", signed.bytes());
        assert_valid("signet-sign1", signed.bytes());
        assert_valid("signet-item", signed.bytes());
        assert_invalid("signed-attestation", signed.bytes());
        // Seventeen addresses, or a missing field, break the rule as they break the code.
        let too_many = mutate_map(&payload, |entries| {
            set_value(
                entries,
                "addresses",
                Value::Array(vec![Value::Bytes(address.clone()); MAX_ADDRESSES + 1]),
            )
        });
        assert_invalid("address-record", &too_many);
        let no_party = mutate_map(&payload, |entries| {
            entries.retain(|(k, _)| k != &Value::Text("party".into()))
        });
        assert_invalid("address-record", &no_party);
    }
}

#[test]
fn trust_policies_match_their_rule() {
    for policy in policies() {
        policy.check().expect("coherent policy");
        let bytes = codec::encode(&policy).expect("policy encodes");
        assert_valid("trust-policy", &bytes);
        let renamed = mutate_map(&bytes, |m| rename_key(m, "anchors", "trust_anchors"));
        assert_invalid("trust-policy", &renamed);
        assert!(codec::decode::<TrustPolicy>(&renamed, &Limits::DEFAULT).is_err());
    }
}

#[test]
fn mutated_key_events_are_refused_by_cddl_and_code() {
    let log = key_log_of_every_kind();
    let event = &log.events()[1];
    let (_, payload) = cose_parts(event.bytes());
    let decodes = |bytes: &[u8]| codec::decode::<KeyEvent>(bytes, &Limits::DEFAULT).is_ok();
    assert!(decodes(&payload));

    let mutations: Vec<(&str, Vec<u8>)> = vec![
        (
            "renamed field",
            mutate_map(&payload, |m| rename_key(m, "seq", "sequence")),
        ),
        (
            "text where a timestamp belongs",
            mutate_map(&payload, |m| {
                set_value(m, "time", Value::Text("now".into()))
            }),
        ),
        (
            "unknown extra field",
            mutate_map(&payload, |m| {
                m.push((Value::Text("extra".into()), Value::Integer(1.into())))
            }),
        ),
        (
            "31-byte digest",
            mutate_map(&payload, |m| {
                set_value(m, "prev", Value::Bytes(vec![0; 31]))
            }),
        ),
        (
            "body of another kind",
            mutate_map(&payload, |m| set_value(m, "kind", Value::Integer(4.into()))),
        ),
    ];
    for (what, bytes) in &mutations {
        assert_invalid("key-event", bytes);
        assert!(!decodes(bytes), "the code accepts a key event with {what}");
        // Inside a COSE_Sign1, `.cbor` must look into the payload.
        assert_invalid(
            "signed-key-event",
            &cose_with(event.bytes(), None, Some(bytes.clone())),
        );
    }
}

#[test]
fn mutated_protected_headers_are_refused() {
    let log = key_log_of_every_kind();
    let event = &log.events()[0];
    let (protected, _) = cose_parts(event.bytes());
    let Value::Map(entries) = decode_value(&protected) else {
        panic!("protected header is a map");
    };
    let with = |f: &dyn Fn(&mut Entries)| {
        let mut e = entries.clone();
        f(&mut e);
        encode_value(&Value::Map(e))
    };
    let label = |n: i64| Value::Integer(n.into());
    let es256 = with(&|e| {
        for entry in e.iter_mut() {
            if entry.0 == label(1) {
                entry.1 = label(-7);
            }
        }
    });
    let eddsa = with(&|e| {
        for entry in e.iter_mut() {
            if entry.0 == label(1) {
                entry.1 = label(-8);
            }
        }
    });
    let extra = with(&|e| e.push((label(5), Value::Bytes(vec![0; 12]))));
    let no_kid = with(&|e| e.retain(|(k, _)| *k != label(4)));
    assert_valid("key-event-protected-header", &eddsa);
    for bad in [&es256, &extra, &no_kid] {
        assert_invalid("key-event-protected-header", bad);
        assert_invalid(
            "signed-key-event",
            &cose_with(event.bytes(), Some(bad.clone()), None),
        );
        // The code refuses them too (before or at the signature check).
        assert!(
            Signed::<KeyEvent>::decode(
                &cose_with(event.bytes(), Some(bad.clone()), None),
                KEY_EVENT_CONTENT_TYPE,
                &Limits::DEFAULT
            )
            .is_err()
        );
    }
}

#[test]
fn mutated_attestations_are_refused_by_cddl_and_code() {
    let all = attestations_of_every_kind();
    let decodes = |bytes: &[u8]| codec::decode::<Attestation>(bytes, &Limits::DEFAULT).is_ok();
    for signed in &all {
        let (_, payload) = cose_parts(signed.bytes());
        assert!(decodes(&payload));
        let mutations = [
            mutate_map(&payload, |m| rename_key(m, "valid_until", "validUntil")),
            mutate_map(&payload, |m| {
                set_value(m, "issuer", Value::Text("ca".into()))
            }),
            mutate_map(&payload, |m| set_value(m, "id", Value::Bytes(vec![1; 32]))),
            mutate_map(&payload, |m| {
                m.push((Value::Text("extra".into()), Value::Bool(true)))
            }),
        ];
        for bytes in &mutations {
            assert_invalid("attestation", bytes);
            assert!(!decodes(bytes));
        }
    }
    // Claims of one kind under another kind's number.
    let (_, identity) = cose_parts(all[0].bytes());
    let as_endorsement = mutate_map(&identity, |m| {
        set_value(
            m,
            "kind",
            Value::Integer(AttestationKind::Endorsement.code().into()),
        )
    });
    assert_invalid("attestation", &as_endorsement);
    assert!(!decodes(&as_endorsement));
    // An empty text field breaks a content rule the CDDL states with `.size`.
    let empty_name = mutate_map(&identity, |m| {
        let claims = m
            .iter_mut()
            .find(|(k, _)| k.as_text() == Some("claims"))
            .expect("claims present");
        let Value::Map(c) = &mut claims.1 else {
            panic!("claims are a map");
        };
        set_value(c, "legal_name", Value::Text(String::new()));
    });
    assert_invalid("attestation", &empty_name);
    assert!(!decodes(&empty_name));
}

// ---------------------------------------------------------------------------------------
// Worked examples: every hex block in the spec marked `<!-- example: name -->` is real output.

/// The spec's Markdown files that carry worked examples.
const SPEC_TEXTS: &[(&str, &str)] = &[
    (
        "02-identifiers.md",
        include_str!("../../../spec/02-identifiers.md"),
    ),
    (
        "03-encoding.md",
        include_str!("../../../spec/03-encoding.md"),
    ),
    (
        "04-key-event-log.md",
        include_str!("../../../spec/04-key-event-log.md"),
    ),
    (
        "06-attestations.md",
        include_str!("../../../spec/06-attestations.md"),
    ),
    (
        "07-trust-evaluation.md",
        include_str!("../../../spec/07-trust-evaluation.md"),
    ),
    (
        "08-sessions.md",
        include_str!("../../../spec/08-sessions.md"),
    ),
    (
        "10-evidence-log.md",
        include_str!("../../../spec/10-evidence-log.md"),
    ),
    ("11-bundles.md", include_str!("../../../spec/11-bundles.md")),
];

/// The examples, by name: (name, text of the block: hex for bytes).
fn examples() -> Vec<(&'static str, String)> {
    let k = |role: &str| test_key("example", role);
    let t = Timestamp::from_unix(1_800_000_000);
    let mut log = KeyLog::incept(
        &k("root-0"),
        &k("root-1").public_key(),
        vec![KeyDecl::node(&k("node"), &k("root-0").public_key())],
        t,
    )
    .expect("valid inception");
    log.rotate(&k("root-1"), &k("root-2").public_key(), t.plus(3600))
        .expect("valid rotation");
    let inception = log.events()[0].bytes();
    let (protected, inception_payload) = cose_parts(inception);
    let (_, rotation_payload) = cose_parts(log.events()[1].bytes());
    // Sig_structure (RFC 9052 section 4.4) with empty external AAD: what Ed25519 signs.
    let to_be_signed = encode_value(&Value::Array(vec![
        Value::Text("Signature1".into()),
        Value::Bytes(protected.clone()),
        Value::Bytes(Vec::new()),
        Value::Bytes(inception_payload.clone()),
    ]));
    let signature = cose_signature(inception);
    k("root-0")
        .public_key()
        .verify(&to_be_signed, &signature)
        .expect("the signature covers the Sig_structure as the spec states");

    let mut ca = TestParty::new("CA", t);
    let supplier = TestParty::new("Supplier", t);
    let identity = ca.verify_identity(&supplier, AssuranceLevel::Substantial, t);
    let (_, identity_payload) = cose_parts(identity.bytes());
    let policy = TrustPolicy::with_anchors(vec![TrustAnchor {
        party: ca.id(),
        name: "Test CA".into(),
    }]);
    let event = signet_protocol::evidence::EvidenceEvent {
        kind: EvidenceKind::SignatureReceived,
        time: t,
        session: Some(Digest::from_bytes([0x11; 32])),
        objects: vec![Digest::from_bytes([0x22; 32])],
        note: Some("ok".into()),
    };
    vec![
        (
            "evidence-event",
            hex::encode(event.encode().expect("event encodes")),
        ),
        ("party-id-text", log.party().to_string()),
        ("party-id-hex", log.party().digest().to_hex()),
        ("inception-sign1", hex::encode(inception)),
        ("inception-protected", hex::encode(protected)),
        ("inception-payload", hex::encode(inception_payload)),
        ("inception-to-be-signed", hex::encode(to_be_signed)),
        ("rotation-payload", hex::encode(rotation_payload)),
        ("identity-payload", hex::encode(identity_payload)),
        (
            "trust-policy",
            hex::encode(codec::encode(&policy).expect("policy encodes")),
        ),
    ]
}

/// The first fenced block after `<!-- example: name -->` in the spec, without whitespace.
fn spec_example(name: &str) -> Option<String> {
    let marker = format!("<!-- example: {name} -->");
    SPEC_TEXTS.iter().find_map(|(_, text)| {
        let after = &text[text.find(&marker)? + marker.len()..];
        let open = after.find("```")?;
        let body = &after[open..];
        let body = &body[body.find('\n')? + 1..];
        let close = body.find("```")?;
        Some(body[..close].split_whitespace().collect())
    })
}

#[test]
fn examples_in_the_spec_are_real_output() {
    // SIGNET_PRINT_EXAMPLES=1 prints the examples, to write them into the spec.
    let print = std::env::var_os("SIGNET_PRINT_EXAMPLES").is_some();
    for (name, text) in examples() {
        if print {
            println!("{name}\n{text}\n");
            continue;
        }
        let found = spec_example(name)
            .unwrap_or_else(|| panic!("no block marked <!-- example: {name} --> in spec/"));
        assert_eq!(
            found, text,
            "example {name} in spec/ is not the code's output"
        );
    }
    // Every marked example is one the test knows (none goes unchecked).
    let known: Vec<&str> = examples().iter().map(|(n, _)| *n).collect();
    for (file, text) in SPEC_TEXTS {
        for piece in text.split("<!-- example: ").skip(1) {
            let name = piece.split(" -->").next().unwrap_or_default();
            assert!(known.contains(&name), "{file}: unknown example {name}");
        }
    }
}

// ---------------------------------------------------------------------------------------
// Registries: spec/13-registries.md and the CDDL enumerations agree with the code.

/// The (value, name) rows of the table that follows the line "Registry: `name`".
fn registry_table(name: &str) -> Vec<(String, String)> {
    let marker = format!("Registry: `{name}`");
    let start = REGISTRIES
        .find(&marker)
        .unwrap_or_else(|| panic!("spec/13-registries.md has no {marker}"));
    let mut rows = Vec::new();
    let mut in_table = false;
    for line in REGISTRIES[start + marker.len()..].lines().skip(1) {
        let line = line.trim();
        if !line.starts_with('|') {
            if in_table {
                break;
            }
            continue;
        }
        in_table = true;
        let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
        if cells.len() < 2 || cells[0].starts_with("---") || cells[0] == "value" {
            continue;
        }
        let strip = |s: &str| s.trim_matches('`').to_string();
        rows.push((strip(cells[0]), strip(cells[1])));
    }
    assert!(!rows.is_empty(), "registry {name} has an empty table");
    rows
}

/// The (value, name) pairs of the CDDL enumeration `name = &( a: 1, ... )`.
fn cddl_enumeration(name: &str) -> Vec<(String, String)> {
    let marker = format!("\n{name} = &(");
    let start = CDDL
        .find(&marker)
        .unwrap_or_else(|| panic!("signet.cddl has no enumeration {name}"));
    let body = &CDDL[start + marker.len()..];
    let end = body.find(')').expect("enumeration closes");
    body[..end]
        .lines()
        .map(|l| l.split(';').next().unwrap_or_default().trim())
        .filter(|l| !l.is_empty())
        .map(|l| {
            let (n, v) = l
                .trim_end_matches(',')
                .split_once(':')
                .expect("name: value");
            (v.trim().to_string(), n.trim().to_string())
        })
        .collect()
}

fn code_rows(known: impl IntoIterator<Item = (u64, &'static str)>) -> Vec<(String, String)> {
    known
        .into_iter()
        .map(|(code, name)| (code.to_string(), name.to_string()))
        .collect()
}

#[test]
fn registries_match_the_code() {
    let registries: BTreeMap<&str, Vec<(String, String)>> = BTreeMap::from([
        (
            "key-event-kind",
            code_rows(KeyEventKind::KNOWN.iter().map(|k| (k.code(), k.name()))),
        ),
        (
            "key-purpose",
            code_rows(KeyPurpose::KNOWN.iter().map(|k| (k.code(), k.name()))),
        ),
        (
            "seal-kind",
            code_rows(SealKind::KNOWN.iter().map(|k| (k.code(), k.name()))),
        ),
        (
            "attestation-kind",
            code_rows(AttestationKind::KNOWN.iter().map(|k| (k.code(), k.name()))),
        ),
        (
            "assurance-level",
            code_rows(AssuranceLevel::KNOWN.iter().map(|k| (k.code(), k.name()))),
        ),
        (
            "verification-method",
            code_rows(
                VerificationMethod::KNOWN
                    .iter()
                    .map(|k| (k.code(), k.name())),
            ),
        ),
        (
            "revocation-reason",
            code_rows(RevocationReason::KNOWN.iter().map(|k| (k.code(), k.name()))),
        ),
        (
            "error-code",
            code_rows(ErrorCode::KNOWN.iter().map(|k| (k.code(), k.name()))),
        ),
        (
            "role",
            code_rows(Role::KNOWN.iter().map(|k| (k.code(), k.name()))),
        ),
        (
            "algorithms",
            code_rows(
                signet_protocol::session::Algorithms::KNOWN
                    .iter()
                    .map(|k| (k.code(), k.name())),
            ),
        ),
        (
            "intent-method",
            code_rows(IntentMethod::KNOWN.iter().map(|k| (k.code(), k.name()))),
        ),
        (
            "message-kind",
            code_rows(MessageKind::KNOWN.iter().map(|k| (k.code(), k.name()))),
        ),
        (
            "evidence-kind",
            code_rows(EvidenceKind::KNOWN.iter().map(|k| (k.code(), k.name()))),
        ),
        (
            "witness-message-kind",
            code_rows(
                WitnessMessageKind::KNOWN
                    .iter()
                    .map(|k| (k.code(), k.name())),
            ),
        ),
    ]);
    for (name, code) in &registries {
        assert_eq!(&registry_table(name), code, "spec/13-registries.md, {name}");
        assert_eq!(&cddl_enumeration(name), code, "signet.cddl, {name}");
    }

    let content_types = registry_table("content-type");
    let listed: Vec<&str> = content_types.iter().map(|(v, _)| v.as_str()).collect();
    assert_eq!(
        listed,
        [
            KEY_EVENT_CONTENT_TYPE,
            ATTESTATION_CONTENT_TYPE,
            PROPOSAL_CONTENT_TYPE,
            SESSION_MESSAGE_CONTENT_TYPE,
            INTENT_CONTENT_TYPE,
            SEAL_SIGNATURE_CONTENT_TYPE,
            signet_protocol::address::ADDRESS_RECORD_CONTENT_TYPE,
        ]
    );
    // Every content type has its CDDL rule.
    for ct in listed {
        assert!(
            CDDL.contains(&format!("\"{ct}\"")),
            "signet.cddl lacks {ct}"
        );
    }
    assert!(REGISTRIES.contains(&format!(
        "`{BUNDLE_MEDIA_TYPE}` (extension `.{BUNDLE_EXTENSION}`)"
    )));

    // The algorithm Signet writes is the first row; real output carries it.
    let algorithms = registry_table("algorithm");
    let log = key_log_of_every_kind();
    let alg = alg_of(log.events()[0].bytes());
    assert_eq!(algorithms[0].0, alg.to_string());
    assert_eq!(
        algorithms
            .iter()
            .map(|(v, _)| v.as_str())
            .collect::<Vec<_>>(),
        ["-19", "-8", "-98454"]
    );
    // The third is what an SM2 seal writes.
    let sm2 = signet_protocol::sm2::Sm2SecretKey::from_bytes(&[3; 32]).unwrap();
    let signed = signet_protocol::cose::Signed::sign(1u8, "application/x-test", &sm2).unwrap();
    let sm2_alg = alg_of(signed.bytes());
    assert_eq!(algorithms[2].0, sm2_alg.to_string());
    assert_eq!(sm2_alg, i128::from(signet_protocol::keylog::ALG_SM2_SM3));
}

/// The `alg` of a COSE_Sign1's protected header.
fn alg_of(sign1: &[u8]) -> i128 {
    let (protected, _) = cose_parts(sign1);
    let Value::Map(header) = decode_value(&protected) else {
        panic!("protected header is a map");
    };
    header
        .iter()
        .find(|(k, _)| *k == Value::Integer(1.into()))
        .and_then(|(_, v)| v.as_integer())
        .map(i128::from)
        .expect("alg present")
}

// ---------------------------------------------------------------------------------------
// Sessions, evidence and bundles (sections 8, 10, 11): instances from a complete
// three-party session driven through `testkit::TestNetwork`.

mod sessions {
    use super::*;
    use signet_protocol::bundle::Bundle;
    use signet_protocol::evidence::{
        ConsistencyProof, EvidenceEvent, EvidenceLog, PartyEvidence, Witness, WitnessError,
    };
    use signet_protocol::session::{
        INTENT_CONTENT_TYPE, IntentChallenge, MessageBody, MessageKind, PROPOSAL_CONTENT_TYPE,
        Proposal, SEAL_SIGNATURE_CONTENT_TYPE, SESSION_MESSAGE_CONTENT_TYPE, SealSignature,
        SessionMessage, Status,
    };
    use signet_tests::transcript::{Transcript, three_party_session};
    use std::sync::OnceLock;

    fn transcript() -> &'static Transcript {
        static TRANSCRIPT: OnceLock<Transcript> = OnceLock::new();
        TRANSCRIPT.get_or_init(|| three_party_session().expect("the session runs"))
    }

    fn message(bytes: &[u8]) -> SessionMessage {
        Signed::<SessionMessage>::decode(bytes, SESSION_MESSAGE_CONTENT_TYPE, &Limits::DEFAULT)
            .expect("a signed session message")
            .payload()
            .clone()
    }

    fn message_rule(kind: MessageKind) -> &'static str {
        match kind {
            MessageKind::Propose => "propose-message",
            MessageKind::Acknowledge => "acknowledge-message",
            MessageKind::Sign => "sign-message",
            MessageKind::Approve => "approve-message",
            MessageKind::Decline => "decline-message",
            MessageKind::Cancel => "cancel-message",
            MessageKind::Remind => "remind-message",
            MessageKind::Relay => "relay-message",
            MessageKind::Complete => "complete-message",
            MessageKind::Evidence => "evidence-message",
            other => panic!("no rule for {other}"),
        }
    }

    #[test]
    fn the_session_ran_without_refusals() {
        // A participant's decline goes to the initiator, which relays it (spec section 8.7):
        // nobody refuses anything in the transcript.
        let t = transcript();
        for node in &t.net.nodes {
            assert!(node.refused.is_empty(), "{:?}", node.refused);
        }
        let auditor = t.net.node(&t.auditor);
        assert!(matches!(
            auditor.sessions[&t.declined].status(),
            Status::Declined { by, .. } if *by == t.supplier
        ));
        assert!(matches!(
            auditor.sessions[&t.cancelled].status(),
            Status::Cancelled { .. }
        ));
        assert!(matches!(
            auditor.sessions[&t.completed].status(),
            Status::Completed { .. }
        ));
    }

    #[test]
    fn every_session_message_kind_matches_its_rule() {
        let t = transcript();
        let mut kinds = Vec::new();
        for delivery in &t.deliveries {
            let bytes = &delivery.bytes;
            let m = message(bytes);
            let kind = m.body.kind();
            if !kinds.contains(&kind) {
                kinds.push(kind);
            }
            let (protected, payload) = cose_parts(bytes);
            assert_valid("signed-session-message", bytes);
            assert_valid("session-message-protected-header", &protected);
            assert_valid("session-message", &payload);
            assert_valid(message_rule(kind), &payload);
            assert_valid("signet-item", bytes);
            for other in MessageKind::KNOWN.iter().filter(|k| **k != kind) {
                assert_invalid(message_rule(*other), &payload);
            }
            match &m.body {
                MessageBody::Propose { proposal } => {
                    let (protected, payload) = cose_parts(proposal);
                    assert_valid("signed-proposal", proposal);
                    assert_valid("proposal-protected-header", &protected);
                    assert_valid("proposal", &payload);
                }
                MessageBody::Sign(record) => {
                    let record_bytes = codec::encode(record).expect("encodes");
                    assert_valid("signature-record-bytes", &record_bytes);
                    assert_valid("signed-seal-signature", &record.seal_signature);
                    assert_valid("signed-intent", &record.intent);
                    assert_valid("signed-attestation", &record.delegation);
                    let (_, ss) = cose_parts(&record.seal_signature);
                    assert_valid("seal-signature", &ss);
                    let (_, intent) = cose_parts(&record.intent);
                    assert_valid("intent-challenge", &intent);
                    assert_invalid("seal-signature", &intent);
                    assert_invalid("signed-intent", &record.seal_signature);
                }
                MessageBody::Evidence(evidence) => {
                    let bytes = codec::encode(evidence).expect("encodes");
                    assert_valid("party-evidence", &bytes);
                    for proven in &evidence.entries {
                        assert_valid("evidence-event", &proven.entry);
                        assert_valid("proven-entry", &codec::encode(proven).expect("encodes"));
                        assert_valid("inclusion-proof", &proven.proof.encode().expect("encodes"));
                    }
                }
                _ => {}
            }
        }
        for kind in MessageKind::KNOWN {
            assert!(kinds.contains(kind), "{kind} missing from the transcript");
        }
    }

    #[test]
    fn every_evidence_entry_matches_its_rule() {
        let t = transcript();
        let mut kinds = Vec::new();
        for node in &t.net.nodes {
            for entry in node.log.entries() {
                assert_valid("evidence-event", entry);
                let event = EvidenceEvent::decode(entry).expect("an event");
                kinds.push(event.kind);
            }
        }
        assert!(kinds.len() > 20, "only {} entries", kinds.len());
    }

    #[test]
    fn bundles_proofs_and_equivocations_match_their_rules() {
        let t = transcript();
        assert_valid("bundle", &t.bundle);
        assert_valid("signet-item", &t.bundle);
        let bundle = Bundle::decode(&t.bundle).expect("a bundle");
        assert!(!bundle.evidence.is_empty());
        for log in &bundle.key_logs {
            assert_valid("key-log-bytes", &codec::encode(log).expect("encodes"));
        }
        let (_, completion) = cose_parts(&bundle.completion);
        assert_valid("complete-message", &completion);

        let brand = t.net.node(&t.brand);
        let proof = brand
            .log
            .consistency_proof_object(2, brand.log.len())
            .expect("sizes in range");
        assert!(!proof.path.is_empty());
        let bytes = proof.encode().expect("encodes");
        assert_valid("consistency-proof", &bytes);
        assert_eq!(ConsistencyProof::decode(&bytes).expect("decodes"), proof);

        let equivocation = equivocation();
        assert_valid("equivocation", &equivocation);
        assert_valid("signet-item", &equivocation);
    }

    /// Evidence that a log signed two checkpoints of one size with different roots.
    pub(super) fn equivocation() -> Vec<u8> {
        let party = TestParty::new("Equivocating Co", T0);
        let mut witness =
            Witness::new("witness.example.org", test_key("witness", "log")).expect("a name");
        let log_of = |note: &str| {
            let mut log = EvidenceLog::new();
            let mut event =
                EvidenceEvent::new(signet_protocol::evidence::EvidenceKind::Completed, T0);
            event.note = Some(note.into());
            log.append(&event).expect("appends");
            log
        };
        let key = party.log_key.public_key();
        let honest = log_of("honest").checkpoint(&party.id(), &party.log_key);
        witness
            .cosign(&honest.to_bytes(), &key, &[], T0)
            .expect("first checkpoint");
        let forked = log_of("rewritten").checkpoint(&party.id(), &party.log_key);
        match witness.cosign(&forked.to_bytes(), &key, &[], T0.plus(1)) {
            Err(WitnessError::Equivocation(evidence)) => evidence.encode().expect("encodes"),
            other => panic!("expected an equivocation, got {other:?}"),
        }
    }

    #[test]
    fn mutated_session_objects_are_refused_by_cddl_and_code() {
        let t = transcript();
        let sign = t
            .deliveries
            .iter()
            .find(|d| matches!(message(&d.bytes).body, MessageBody::Sign(_)))
            .expect("a sign message");
        let (_, payload) = cose_parts(&sign.bytes);
        let decodes = |bytes: &[u8]| codec::decode::<SessionMessage>(bytes, &Limits::DEFAULT);
        assert!(decodes(&payload).is_ok());
        let mutations = [
            (
                "renamed field",
                mutate_map(&payload, |m| rename_key(m, "from", "sender")),
            ),
            (
                "a sign body under the approve kind",
                mutate_map(&payload, |m| {
                    set_value(
                        m,
                        "kind",
                        Value::Integer(MessageKind::Approve.code().into()),
                    )
                }),
            ),
            (
                "an unknown kind",
                mutate_map(&payload, |m| {
                    set_value(m, "kind", Value::Integer(99.into()))
                }),
            ),
            (
                "extra field",
                mutate_map(&payload, |m| {
                    m.push((Value::Text("extra".into()), Value::Integer(0.into())))
                }),
            ),
            (
                "short session id",
                mutate_map(&payload, |m| {
                    set_value(m, "session", Value::Bytes(vec![0; 31]))
                }),
            ),
        ];
        for (what, bytes) in &mutations {
            assert_invalid("session-message", bytes);
            assert!(decodes(bytes).is_err(), "the code accepts {what}");
            assert_invalid(
                "signed-session-message",
                &cose_with(&sign.bytes, None, Some(bytes.clone())),
            );
        }
        // A reason longer than 1,024 bytes.
        let decline = t
            .deliveries
            .iter()
            .find(|d| matches!(message(&d.bytes).body, MessageBody::Decline { .. }))
            .expect("a decline");
        let (_, payload) = cose_parts(&decline.bytes);
        let long = mutate_map(&payload, |m| {
            set_value(
                m,
                "body",
                Value::Map(vec![(
                    Value::Text("reason".into()),
                    Value::Text("x".repeat(1025)),
                )]),
            )
        });
        assert_invalid("decline-message", &long);
        assert!(decodes(&long).is_err());

        // The proposal: a signer without a seal kind is refused by both.
        let propose = t
            .deliveries
            .iter()
            .find_map(|d| match message(&d.bytes).body {
                MessageBody::Propose { proposal } => Some(proposal),
                _ => None,
            })
            .expect("a proposal");
        let (_, payload) = cose_parts(&propose);
        let no_seal_kind = mutate_map(&payload, |m| {
            let participants = m
                .iter_mut()
                .find(|(k, _)| k.as_text() == Some("participants"))
                .expect("participants");
            let Value::Array(list) = &mut participants.1 else {
                panic!("an array");
            };
            let Value::Map(first) = &mut list[0] else {
                panic!("a map");
            };
            first.retain(|(k, _)| k.as_text() != Some("seal_kind"));
        });
        assert_invalid("proposal", &no_seal_kind);
        let decoded: Proposal = codec::decode(&no_seal_kind, &Limits::DEFAULT).expect("decodes");
        assert!(decoded.check().is_err());
        let renamed = mutate_map(&payload, |m| rename_key(m, "created_at", "created"));
        assert_invalid("proposal", &renamed);
        assert!(codec::decode::<Proposal>(&renamed, &Limits::DEFAULT).is_err());
        // Content types are not interchangeable.
        assert!(
            Signed::<Proposal>::decode(&sign.bytes, PROPOSAL_CONTENT_TYPE, &Limits::DEFAULT)
                .is_err()
        );
        assert_invalid("signed-proposal", &sign.bytes);
    }

    #[test]
    fn mutated_evidence_and_bundles_are_refused_by_cddl_and_code() {
        let t = transcript();
        let entry = t
            .net
            .node(&t.brand)
            .log
            .entry(0)
            .expect("an entry")
            .to_vec();
        let with_null = mutate_map(&entry, |m| {
            m.push((Value::Text("note".into()), Value::Null));
        });
        let renamed = mutate_map(&entry, |m| rename_key(m, "objects", "digests"));
        for bytes in [&with_null, &renamed] {
            assert_invalid("evidence-event", bytes);
            assert!(EvidenceEvent::decode(bytes).is_err());
        }
        let bundle = mutate_map(&t.bundle, |m| {
            m.push((Value::Text("signature".into()), Value::Bytes(vec![0; 64])))
        });
        assert_invalid("bundle", &bundle);
        assert!(Bundle::decode(&bundle).is_err());
        let version = mutate_map(&t.bundle, |m| {
            set_value(m, "version", Value::Integer(2.into()))
        });
        assert_invalid("bundle", &version);
        let evidence: PartyEvidence =
            Bundle::decode(&t.bundle).expect("a bundle").evidence[0].clone();
        let bytes = codec::encode(&evidence).expect("encodes");
        let no_entries = mutate_map(&bytes, |m| set_value(m, "entries", Value::Array(vec![])));
        assert_invalid("party-evidence", &no_entries);
        let text_checkpoint = mutate_map(&bytes, |m| {
            set_value(m, "checkpoint", Value::Text("a note".into()))
        });
        assert_invalid("party-evidence", &text_checkpoint);
        assert!(codec::decode::<PartyEvidence>(&text_checkpoint, &Limits::DEFAULT).is_err());
        // Intent challenges and seal signatures decode only under their own content type.
        let sign = t
            .deliveries
            .iter()
            .find_map(|d| match message(&d.bytes).body {
                MessageBody::Sign(record) => Some(record),
                _ => None,
            })
            .expect("a sign message");
        assert!(
            Signed::<IntentChallenge>::decode(&sign.intent, INTENT_CONTENT_TYPE, &Limits::DEFAULT)
                .is_ok()
        );
        assert!(
            Signed::<SealSignature>::decode(
                &sign.intent,
                SEAL_SIGNATURE_CONTENT_TYPE,
                &Limits::DEFAULT
            )
            .is_err()
        );
    }
}

/// Every field of every CDDL map is described in the prose: a reader of spec/ alone finds it.
/// (The other direction, every field the code writes is in the CDDL, follows from the CDDL
/// maps being closed and the real instances above validating against them.)
#[test]
fn every_cddl_field_is_in_the_prose() {
    let prose: String = [
        include_str!("../../../spec/01-overview.md"),
        include_str!("../../../spec/02-identifiers.md"),
        include_str!("../../../spec/03-encoding.md"),
        include_str!("../../../spec/04-key-event-log.md"),
        include_str!("../../../spec/05-seals-and-delegations.md"),
        include_str!("../../../spec/06-attestations.md"),
        include_str!("../../../spec/07-trust-evaluation.md"),
        include_str!("../../../spec/08-sessions.md"),
        include_str!("../../../spec/10-evidence-log.md"),
        include_str!("../../../spec/11-bundles.md"),
        include_str!("../../../spec/12-transport.md"),
    ]
    .concat();
    // Map keys are written `"name":` in the CDDL.
    let mut fields = std::collections::BTreeSet::new();
    for (at, _) in CDDL.match_indices("\":") {
        let start = CDDL[..at].rfind('"').map_or(at, |q| q + 1);
        fields.insert(&CDDL[start..at]);
    }
    let mut checked = 0;
    for field in fields {
        let is_key = field.chars().all(|c| c.is_ascii_lowercase() || c == '_');
        if is_key {
            checked += 1;
            assert!(
                prose.contains(&format!("`{field}`")),
                "the CDDL field {field} is not described in the prose"
            );
        }
    }
    assert!(checked > 90, "only {checked} fields found");
}

/// Every valid vector's CBOR input in spec/vectors/ matches the CDDL rule of its type, so the
/// vectors, the schema and the code agree three ways.
#[test]
fn valid_vectors_match_the_cddl() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../spec/vectors");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).expect("spec/vectors exists") {
        let path = entry.expect("a directory entry").path();
        if path.extension().is_none_or(|x| x != "json") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("readable");
        let doc: serde_json::Value = serde_json::from_str(&text).expect("JSON");
        for v in doc["vectors"].as_array().expect("vectors") {
            if v["expected"]["result"] != "valid" {
                continue;
            }
            let inputs = &v["inputs"];
            let rule = match v["op"].as_str().unwrap_or_default() {
                "verify-signed" => match inputs["content_type"].as_str().unwrap_or_default() {
                    KEY_EVENT_CONTENT_TYPE => "signed-key-event",
                    ATTESTATION_CONTENT_TYPE => "signed-attestation",
                    PROPOSAL_CONTENT_TYPE => "signed-proposal",
                    SESSION_MESSAGE_CONTENT_TYPE => "signed-session-message",
                    INTENT_CONTENT_TYPE => "signed-intent",
                    SEAL_SIGNATURE_CONTENT_TYPE => "signed-seal-signature",
                    other => panic!("{}: content type {other}", v["id"]),
                },
                "verify-attestation" => "signed-attestation",
                "decode-evidence-event" => "evidence-event",
                "verify-equivocation" => "equivocation",
                "verify-party-evidence" => "party-evidence",
                "verify-bundle" => "bundle",
                "decode-witness-message" => "witness-message",
                _ => continue,
            };
            // An unknown evidence kind decodes but is not in the CDDL's enumeration.
            if v["description"]
                .as_str()
                .is_some_and(|d| d.contains("unknown kind"))
            {
                continue;
            }
            let bytes = hex::decode(inputs["hex"].as_str().expect("hex")).expect("hex");
            if let Err(e) = validate(rule, &bytes) {
                panic!("vector {} does not match {rule}: {e}", v["id"]);
            }
            checked += 1;
        }
    }
    assert!(checked > 60, "only {checked} vectors checked");
}

/// Witness messages (section 10.5.4): the witness's real answers match their rules, and
/// mutated ones are refused by the CDDL and by the code alike.
#[test]
fn witness_messages_match_their_rules_and_mutations_are_refused() {
    use signet_protocol::SecretKey;
    use signet_protocol::evidence::{EvidenceEvent, EvidenceLog, Witness, witness_name};
    use signet_protocol::transport::witness::{CosignRequest, WitnessMessage, answer};

    let party = TestParty::new("CDDL Witnessed", T0);
    let wparty = TestParty::new("CDDL Witness", T0);
    let mut log = EvidenceLog::new();
    for i in 0..4 {
        log.append(&EvidenceEvent::new(EvidenceKind::SignatureMade, T0.plus(i)))
            .expect("append");
    }
    let mut witness = Witness::new(
        &witness_name(&wparty.id()),
        SecretKey::from_seed(&wparty.log_key.to_seed()),
    )
    .expect("witness");
    let keys = [party.log_key.public_key()];
    let request = |n: u64, from: u64| {
        let checkpoint = log
            .checkpoint_at(n, &party.id(), &party.log_key)
            .expect("checkpoint");
        CosignRequest::new(&checkpoint, log.consistency_proof(from, n).expect("proof"))
    };
    let first = request(2, 0);
    let mut messages = vec![WitnessMessage::CosignRequest(first.clone())];
    messages.push(answer(&mut witness, &party.id(), &keys, &first, T0));
    messages.push(answer(&mut witness, &party.id(), &keys, &request(4, 1), T0));
    assert!(matches!(messages[1], WitnessMessage::Cosigned(_)));
    assert!(matches!(messages[2], WitnessMessage::Refused(_)));
    let rules = ["cosign-request", "cosigned", "witness-refused"];
    for (message, rule) in messages.iter().zip(rules) {
        let bytes = message.encode().expect("encode");
        assert_valid(rule, &bytes);
        assert_valid("witness-message", &bytes);
        // Mutations: an unknown field, a field renamed, the kind of another message.
        for mutated in [
            mutate_map(&bytes, |m| {
                m.push((Value::Text("zz".into()), Value::Integer(1.into())))
            }),
            mutate_map(&bytes, |m| rename_key(m, "kind", "kinds")),
            mutate_map(&bytes, |m| {
                let other = if message.kind() == WitnessMessageKind::Cosigned {
                    3
                } else {
                    2
                };
                set_value(m, "kind", Value::Integer(other.into()));
            }),
        ] {
            assert_invalid("witness-message", &mutated);
            assert!(
                WitnessMessage::decode(&mutated).is_err(),
                "the code accepted a mutated {rule}"
            );
        }
    }
}
