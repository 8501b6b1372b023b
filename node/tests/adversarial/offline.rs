//! Attacks on what a verifier is given, and on the protocol's state, in memory: a bundle's
//! presenter choosing what it carries, forged objects inside it, a witness lied to, trust
//! paths an attacker builds. Each is refused (INVALID or, where the truth cannot be shown,
//! INDETERMINATE, never VALID), and the state under attack is unchanged.

use signet_protocol::attestation::{AssuranceLevel, Attestation, AttestationKind};
use signet_protocol::bundle::{
    Bundle, Outcome, Report, assemble, verify_bundle, verify_bundle_with,
};
use signet_protocol::cose::Signed;
use signet_protocol::error::{ErrorCode, WireError};
use signet_protocol::evidence::{EvidenceEvent, EvidenceKind, EvidenceLog, Witness, witness_name};
use signet_protocol::keylog::{
    KEY_EVENT_CONTENT_TYPE, KeyChange, KeyDecl, KeyEvent, KeyLog, KeyLogError,
};
use signet_protocol::party::PartyId;
use signet_protocol::session::{ProposalError, Role, SessionError, SessionId};
use signet_protocol::testkit::{DAY, TestNetwork, TestParty};
use signet_protocol::transport::witness::{CosignRequest, WitnessMessage, answer};
use signet_protocol::trust::{
    EndorsementRule, Finding, Inadmissible, MAX_ABOUT_SUBJECT, Problem, TrustAnchor, TrustPolicy,
    TrustStore, Verdict, admit, evaluate,
};
use signet_protocol::{Digest, SecretKey, Timestamp};

const T0: Timestamp = Timestamp::from_unix(1_800_000_000);

/// A completed two-signer session (Supplier, then Brand) of a fresh network, witnessed.
fn completed() -> (TestNetwork, SessionId, PartyId, PartyId) {
    let mut net = TestNetwork::new(&["Brand", "Supplier"], &["procurement"], T0);
    let brand = net.nodes[1].party.id();
    let supplier = net.nodes[2].party.id();
    let p = net.proposal(
        &brand,
        &[(supplier, Role::Signer, 0), (brand, Role::Signer, 1)],
        "procurement",
        1,
    );
    let sid = net.propose(p).unwrap();
    net.deliver_all();
    for party in [supplier, brand] {
        net.now = net.now.plus(60);
        net.sign(&party, sid).unwrap();
        net.deliver_all();
    }
    net.now = net.now.plus(60);
    for party in [brand, supplier] {
        net.share_evidence(&party, sid).unwrap();
    }
    net.deliver_all();
    (net, sid, brand, supplier)
}

fn bundle_of(net: &TestNetwork, sid: SessionId, party: &PartyId) -> Bundle {
    let node = net.node(party);
    assemble(&node.sessions[&sid], &node.store, &node.policy).unwrap()
}

fn failed<'a>(report: &'a Report, name: &str) -> Vec<&'a signet_protocol::bundle::Check> {
    report
        .checks
        .iter()
        .filter(|c| c.name == name && c.outcome != Outcome::Valid)
        .collect()
}

/// The brand's policy, asking for revocation status at most seven days old.
fn fresh_policy(net: &TestNetwork) -> TrustPolicy {
    TrustPolicy {
        revocation_freshness: Some(7 * DAY),
        ..net.nodes[1].policy.clone()
    }
}

#[test]
fn b01_tampered_document() {
    let (net, sid, brand, _) = completed();
    let bytes = bundle_of(&net, sid, &brand).encode().unwrap();
    let mut document = vec![1u8; 1234];
    let genuine = verify_bundle(&bytes, &[&document], &net.nodes[1].policy, net.now);
    assert_eq!(
        genuine.outcome,
        Outcome::Valid,
        "{:#?}",
        genuine.failures().collect::<Vec<_>>()
    );
    document[600] ^= 1;
    let report = verify_bundle(&bytes, &[&document], &net.nodes[1].policy, net.now);
    assert_eq!(report.outcome, Outcome::Invalid);
    assert_eq!(failed(&report, "document.digest").len(), 1);
}

#[test]
fn b02_fork_inside_a_bundle() {
    let (net, sid, brand, supplier) = completed();
    let mut bundle = bundle_of(&net, sid, &brand);
    // The supplier's root key signs two different next events: both branches in one bundle.
    let node = net.node(&supplier);
    let mut a = node.party.log.clone();
    let mut b = node.party.log.clone();
    let later = net.now.plus(10);
    a.add_key(
        &node.party.root,
        KeyDecl::attest(SecretKey::from_seed(&[0xb2; 32]).public_key()),
        later,
    )
    .unwrap();
    b.add_key(
        &node.party.root,
        KeyDecl::attest(SecretKey::from_seed(&[0xb3; 32]).public_key()),
        later,
    )
    .unwrap();
    for log in [a, b] {
        bundle.key_logs.push(signet_protocol::bundle::KeyLogBytes {
            events: log.event_bytes().map(<[u8]>::to_vec).collect(),
        });
    }
    let report = verify_bundle(
        &bundle.encode().unwrap(),
        &[],
        &net.nodes[1].policy,
        net.now,
    );
    assert_eq!(report.outcome, Outcome::Invalid);
    assert!(
        failed(&report, "key-log")
            .iter()
            .any(|c| c.detail.contains("fork"))
    );
}

#[test]
fn b03_a_revocation_the_presenter_leaves_out() {
    let (mut net, sid, brand, supplier) = completed();
    let bytes = bundle_of(&net, sid, &brand).encode().unwrap();
    let policy = fresh_policy(&net);
    // Weeks later the supplier learns its seal leaked before it signed, and revokes it
    // with that effect; the bundle (made before) does not show it.
    net.now = net.now.plus(20 * DAY);
    let seal = net.node(&supplier).party.contract_seal.public_key();
    let i = net
        .nodes
        .iter()
        .position(|n| n.party.id() == supplier)
        .unwrap();
    let revocation = net.nodes[i].party.revoke_key(seal, T0, net.now);
    let list = net.nodes[i].party.revocation_list(vec![], net.now);
    let ca_list = net.nodes[0].party.revocation_list(vec![], net.now);
    // Alone, the bundle cannot show fresh revocation status: never VALID.
    let report = verify_bundle(&bytes, &[], &policy, net.now);
    assert_eq!(
        report.outcome,
        Outcome::Indeterminate,
        "{:#?}",
        report.failures().collect::<Vec<_>>()
    );
    // With today's lists, in which the supplier names its revoked seal, the retroactive
    // revocation applies.
    let supplier_list = net.nodes[i].party.attest(
        supplier,
        signet_protocol::attestation::Claims::RevocationList(
            signet_protocol::attestation::RevocationList {
                entries: vec![],
                keys: vec![signet_protocol::attestation::RevokedKey {
                    key: seal.into(),
                    effective: T0,
                    reason: signet_protocol::attestation::RevocationReason::KeyCompromise,
                }],
            },
        ),
        net.now.plus(1),
        30,
    );
    let brand_list = net.nodes[1].party.revocation_list(vec![], net.now);
    let revocations = [
        revocation.bytes(),
        list.bytes(),
        supplier_list.bytes(),
        ca_list.bytes(),
        brand_list.bytes(),
    ];
    let report = verify_bundle_with(&bytes, &[], &revocations, &policy, net.now);
    assert_eq!(report.outcome, Outcome::Invalid);
    assert!(!failed(&report, "signature.seal-key").is_empty());
}

#[test]
fn b04_an_untrusted_witness_vouches_for_nothing() {
    let (net, sid, brand, _) = completed();
    let mut bundle = bundle_of(&net, sid, &brand);
    // The witness's identity attestation is removed: a verifier cannot trust its time.
    let witness = net.witness.id();
    bundle.attestations.retain(|bytes| {
        Attestation::decode(bytes)
            .map(|a| a.payload().subject != witness)
            .unwrap_or(true)
    });
    let report = verify_bundle(
        &bundle.encode().unwrap(),
        &[],
        &net.nodes[1].policy,
        net.now,
    );
    assert_eq!(report.outcome, Outcome::Indeterminate);
    assert!(!failed(&report, "evidence.witness").is_empty());
    assert!(!failed(&report, "evidence.cosignature").is_empty());
}

#[test]
fn b05_witness_named_twice_or_a_party_as_witness() {
    let net = TestNetwork::new(&["Brand", "Supplier"], &["procurement"], T0);
    let brand = net.nodes[1].party.id();
    let supplier = net.nodes[2].party.id();
    let mut twice = net.proposal(&brand, &[(supplier, Role::Signer, 0)], "procurement", 5);
    twice.evidence.witnesses = vec![net.witness.id(), net.witness.id()];
    twice.evidence.min_cosignatures = 2;
    assert!(matches!(
        twice.check(),
        Err(ProposalError::DuplicateWitness(_))
    ));
    let mut own = net.proposal(&brand, &[(supplier, Role::Signer, 0)], "procurement", 6);
    own.evidence.witnesses = vec![brand];
    assert!(matches!(own.check(), Err(ProposalError::WitnessIsParty(p)) if p == brand));
}

#[test]
fn b06_backdated_signature_with_a_retired_seal() {
    // The supplier retires its seal; later, someone holding the old seal key dates a
    // signature before the retirement. The witness saw it only after: INDETERMINATE.
    let mut net = TestNetwork::new(&["Brand", "Supplier"], &["procurement"], T0);
    let brand = net.nodes[1].party.id();
    let supplier = net.nodes[2].party.id();
    let p = net.proposal(&brand, &[(supplier, Role::Signer, 0)], "procurement", 7);
    let sid = net.propose(p).unwrap();
    net.deliver_all();
    net.now = net.now.plus(60);
    net.sign(&supplier, sid).unwrap();
    // The seal is retired (and everyone learns the new key log) before the evidence is
    // witnessed an hour later.
    let i = net
        .nodes
        .iter()
        .position(|n| n.party.id() == supplier)
        .unwrap();
    let root = SecretKey::from_seed(&net.nodes[i].party.root.to_seed());
    let seal = net.nodes[i].party.contract_seal.public_key();
    net.nodes[i]
        .party
        .log
        .retire_key(&root, seal, net.now.plus(30))
        .unwrap();
    let log = net.nodes[i].party.log.clone();
    for n in &mut net.nodes {
        n.store.add_key_log(log.clone());
    }
    net.deliver_all();
    net.now = net.now.plus(3600);
    for party in [brand, supplier] {
        net.share_evidence(&party, sid).unwrap();
    }
    net.deliver_all();
    let bytes = bundle_of(&net, sid, &brand).encode().unwrap();
    let report = verify_bundle(&bytes, &[], &net.nodes[1].policy, net.now);
    assert_eq!(
        report.outcome,
        Outcome::Indeterminate,
        "{:#?}",
        report.failures().collect::<Vec<_>>()
    );
    assert!(
        failed(&report, "signature.seal-key")
            .iter()
            .any(|c| c.detail.contains("retired")),
        "{:#?}",
        report.failures().collect::<Vec<_>>()
    );
}

#[test]
fn b07_a_small_order_component_in_a_signature() {
    let (net, sid, brand, _) = completed();
    let mut bundle = bundle_of(&net, sid, &brand);
    // The completion re-signed by the brand's own node key with a point of order 2 added to
    // R: a randomised batch check passes it about half the time; strict verification never.
    let node_seed = net.node(&brand).party.node.to_seed();
    bundle.completion = crate::torsion::resign_with_torsion(&bundle.completion, &node_seed);
    let report = verify_bundle(
        &bundle.encode().unwrap(),
        &[],
        &net.nodes[1].policy,
        net.now,
    );
    assert_eq!(report.outcome, Outcome::Invalid);
    assert!(!failed(&report, "completion.signature").is_empty());
}

#[test]
fn b08_rotation_not_matching_the_pre_rotation_commitment() {
    let party = TestParty::new("Holder", T0);
    // A thief with the current root key reveals its own key in a rotation.
    let thief = SecretKey::from_seed(&[0xb8; 32]);
    let event = KeyEvent {
        party: Some(party.id()),
        seq: 1,
        prev: Some(party.log.head()),
        time: T0.plus(1),
        change: KeyChange::Rotation {
            root: thief.public_key(),
            next_root: thief.public_key().commitment(),
        },
    };
    let signed = Signed::sign(event, KEY_EVENT_CONTENT_TYPE, &thief).unwrap();
    let mut events: Vec<Vec<u8>> = party.log.event_bytes().map(<[u8]>::to_vec).collect();
    events.push(signed.bytes().to_vec());
    let error = KeyLog::replay(&events).unwrap_err();
    assert!(matches!(error, KeyLogError::PreRotationMismatch { seq: 1 }));
    assert_eq!(error.code(), ErrorCode::InvalidKeyLog);
    let mut store = TrustStore::new();
    store.add_key_log(party.log.clone());
    assert_eq!(store.key_log(&party.id()), Some(&party.log));
}

#[test]
fn b09_node_key_squatting_in_a_key_log() {
    let victim = TestParty::new("Victim", T0);
    let mut attacker = TestParty::new("Attacker", T0);
    // The victim's node key declaration, proof included, copied into the attacker's log.
    let copied = match &victim.log.events()[0].payload().change {
        KeyChange::Inception { keys, .. } => keys
            .iter()
            .find(|k| k.purpose == signet_protocol::keylog::KeyPurpose::Node)
            .unwrap()
            .clone(),
        _ => unreachable!(),
    };
    let root = SecretKey::from_seed(&attacker.root.to_seed());
    let error = attacker.log.add_key(&root, copied, T0.plus(1)).unwrap_err();
    assert!(error.to_string().contains("proof of possession"), "{error}");
    // Held logs are untouched, and the victim's node key speaks for the victim alone.
    let mut store = TrustStore::new();
    store.add_key_log(victim.log.clone());
    store.add_key_log(attacker.log.clone());
    assert!(!store.key_in_conflict(victim.node.public_key()));
    assert_eq!(
        store
            .key_owners(victim.node.public_key())
            .collect::<Vec<_>>(),
        vec![&victim.id()]
    );
}

#[test]
fn b10_accreditation_chain_too_deep() {
    let mut ca = TestParty::new("CA", T0);
    let mut v1 = TestParty::new("V1", T0);
    let mut v2 = TestParty::new("V2", T0);
    let subject = TestParty::new("Subject", T0);
    let policy = TrustPolicy {
        revocation_freshness: None,
        ..TrustPolicy::with_anchors(vec![TrustAnchor {
            party: ca.id(),
            name: "CA".into(),
        }])
    };
    let mut store = TrustStore::new();
    for p in [&ca, &v1, &v2, &subject] {
        store.add_key_log(p.log.clone());
    }
    // CA → V1 (may accredit) → V2 → identity of the subject: three links, the policy allows two.
    store.add_attestation(ca.accredit(v1.id(), true, T0));
    store.add_attestation(v1.accredit(v2.id(), false, T0));
    store.add_attestation(v2.verify_identity(&subject, AssuranceLevel::High, T0));
    let verdict = evaluate(&policy, &store, &subject.id(), T0.plus(1));
    assert!(
        matches!(&verdict, Verdict::Untrusted { reasons } if reasons.iter().any(|r| matches!(r, Finding::NotAccredited { .. }))),
        "{verdict}"
    );
}

#[test]
fn b11_endorsements_below_the_threshold() {
    let mut a = TestParty::new("Endorser A", T0);
    let b = TestParty::new("Endorser B", T0);
    let subject = TestParty::new("Subject", T0);
    let policy = TrustPolicy {
        revocation_freshness: None,
        endorsements: Some(EndorsementRule {
            endorsers: vec![a.id(), b.id()],
            threshold: 2,
        }),
        ..TrustPolicy::with_anchors(vec![])
    };
    let mut store = TrustStore::new();
    for p in [&a, &b, &subject] {
        store.add_key_log(p.log.clone());
    }
    store.add_attestation(a.endorse(&subject, T0));
    let verdict = evaluate(&policy, &store, &subject.id(), T0.plus(1));
    assert!(
        matches!(&verdict, Verdict::Untrusted { reasons } if reasons.contains(&Finding::EndorsementQuorum { have: 1, need: 2 })),
        "{verdict}"
    );
}

#[test]
fn b12_expired_identity_attestation() {
    let mut ca = TestParty::new("CA", T0);
    let subject = TestParty::new("Subject", T0);
    let policy = TrustPolicy {
        revocation_freshness: None,
        ..TrustPolicy::with_anchors(vec![TrustAnchor {
            party: ca.id(),
            name: "CA".into(),
        }])
    };
    let mut store = TrustStore::new();
    store.add_key_log(ca.log.clone());
    store.add_key_log(subject.log.clone());
    let claims = ca
        .verify_identity(&subject, AssuranceLevel::High, T0)
        .payload()
        .claims
        .clone();
    store.add_attestation(ca.attest(subject.id(), claims, T0, 30));
    let verdict = evaluate(&policy, &store, &subject.id(), T0.plus(31 * DAY));
    assert!(
        matches!(&verdict, Verdict::Untrusted { reasons } if reasons.iter().any(|r| matches!(r, Finding::Attestation { problem: Problem::Expired(_), .. }))),
        "{verdict}"
    );
}

#[test]
fn b13_identity_attestations_by_an_untrusted_issuer_are_not_taken() {
    let mut stranger = TestParty::new("Stranger", T0);
    let ca = TestParty::new("CA", T0);
    let subject = TestParty::new("Subject", T0);
    let policy = TrustPolicy::with_anchors(vec![TrustAnchor {
        party: ca.id(),
        name: "CA".into(),
    }]);
    let mut store = TrustStore::new();
    for p in [&ca, &stranger, &subject] {
        store.add_key_log(p.log.clone());
    }
    let a = stranger.verify_identity(&subject, AssuranceLevel::High, T0);
    assert!(matches!(
        admit(&policy, &store, &a, T0),
        Err(Inadmissible::IrrelevantIssuer { .. })
    ));
    // Taken by hand all the same, it makes nobody trusted.
    store.add_attestation(a);
    assert!(!evaluate(&policy, &store, &subject.id(), T0.plus(1)).is_trusted());
}

#[test]
fn b14_attestations_flooding_one_subject_are_bounded() {
    // A verifier the CA accredited floods one subject with identity attestations: a node
    // holds at most MAX_ABOUT_SUBJECT of them, and evaluates in time linear in what it holds.
    let mut ca = TestParty::new("CA", T0);
    let mut verifier = TestParty::new("Verifier", T0);
    let subject = TestParty::new("Subject", T0);
    let policy = TrustPolicy {
        revocation_freshness: None,
        ..TrustPolicy::with_anchors(vec![TrustAnchor {
            party: ca.id(),
            name: "CA".into(),
        }])
    };
    let mut store = TrustStore::new();
    for p in [&ca, &verifier, &subject] {
        store.add_key_log(p.log.clone());
    }
    store.add_attestation(ca.accredit(verifier.id(), false, T0));
    let mut refused = 0;
    for i in 0..(MAX_ABOUT_SUBJECT as u64 + 100) {
        let a = verifier.verify_identity(&subject, AssuranceLevel::High, T0.plus(i));
        match admit(&policy, &store, &a, T0.plus(i)) {
            Ok(()) => assert!(store.add_attestation(a).is_held()),
            Err(Inadmissible::Full { .. }) => refused += 1,
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(refused, 100);
    assert_eq!(
        store.count_about(&subject.id(), AttestationKind::Identity),
        MAX_ABOUT_SUBJECT
    );
    assert!(evaluate(&policy, &store, &subject.id(), T0.plus(200)).is_trusted());
}

/// A witness, a party's evidence log of five entries, and a checkpoint request helper.
fn witnessed() -> (TestParty, EvidenceLog, Witness) {
    let party = TestParty::new("Witnessed Co", T0);
    let mut log = EvidenceLog::new();
    for i in 0..5 {
        log.append(&EvidenceEvent::new(EvidenceKind::SignatureMade, T0.plus(i)))
            .unwrap();
    }
    let witness = Witness::new(
        &witness_name(&PartyId::from_digest(Digest::of(b"w"))),
        SecretKey::from_seed(&[7; 32]),
    )
    .unwrap();
    (party, log, witness)
}

fn request(party: &TestParty, log: &EvidenceLog, size: u64, from: u64) -> CosignRequest {
    let checkpoint = log
        .checkpoint_at(size, &party.id(), &party.log_key)
        .unwrap();
    CosignRequest::new(&checkpoint, log.consistency_proof(from, size).unwrap())
}

fn refusal(message: WitnessMessage) -> ErrorCode {
    match message {
        WitnessMessage::Refused(r) => r.code,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn b15_witness_equivocation() {
    let (party, log, mut witness) = witnessed();
    let keys = [party.log_key.public_key()];
    assert!(matches!(
        answer(
            &mut witness,
            &party.id(),
            &keys,
            &request(&party, &log, 5, 0),
            T0.plus(10)
        ),
        WitnessMessage::Cosigned(_)
    ));
    // Another log of the same size, signed by the same key: two histories.
    let mut other = EvidenceLog::new();
    for i in 0..5 {
        other
            .append(&EvidenceEvent::new(EvidenceKind::Declined, T0.plus(i)))
            .unwrap();
    }
    let held = witness
        .latest(&signet_protocol::evidence::evidence_origin(&party.id()))
        .cloned();
    let code = refusal(answer(
        &mut witness,
        &party.id(),
        &keys,
        &request(&party, &other, 5, 5),
        T0.plus(11),
    ));
    assert_eq!(code, ErrorCode::Equivocation);
    assert_eq!(
        witness
            .latest(&signet_protocol::evidence::evidence_origin(&party.id()))
            .cloned(),
        held
    );
}

#[test]
fn b16_checkpoint_rollback() {
    let (party, log, mut witness) = witnessed();
    let keys = [party.log_key.public_key()];
    assert!(matches!(
        answer(
            &mut witness,
            &party.id(),
            &keys,
            &request(&party, &log, 5, 0),
            T0.plus(10)
        ),
        WitnessMessage::Cosigned(_)
    ));
    let code = refusal(answer(
        &mut witness,
        &party.id(),
        &keys,
        &request(&party, &log, 3, 0),
        T0.plus(11),
    ));
    assert_eq!(code, ErrorCode::StaleCheckpoint);
    assert_eq!(
        witness
            .latest(&signet_protocol::evidence::evidence_origin(&party.id()))
            .unwrap()
            .checkpoint()
            .size(),
        5
    );
}

#[test]
fn b17_consistency_proof_of_another_log() {
    let (party, log, mut witness) = witnessed();
    let keys = [party.log_key.public_key()];
    assert!(matches!(
        answer(
            &mut witness,
            &party.id(),
            &keys,
            &request(&party, &log, 3, 0),
            T0.plus(10)
        ),
        WitnessMessage::Cosigned(_)
    ));
    // A checkpoint of this log at size 5, with the proof from another log's size 3.
    let mut other = EvidenceLog::new();
    for i in 0..5 {
        other
            .append(&EvidenceEvent::new(EvidenceKind::Approved, T0.plus(i)))
            .unwrap();
    }
    let checkpoint = log.checkpoint_at(5, &party.id(), &party.log_key).unwrap();
    let forged = CosignRequest::new(&checkpoint, other.consistency_proof(3, 5).unwrap());
    assert_eq!(
        refusal(answer(
            &mut witness,
            &party.id(),
            &keys,
            &forged,
            T0.plus(11)
        )),
        ErrorCode::BadProof
    );
    // And a checkpoint of another party's log is not this requester's to submit.
    let stranger = TestParty::new("Stranger", T0);
    let theirs = CosignRequest::new(
        &log.checkpoint_at(5, &stranger.id(), &stranger.log_key)
            .unwrap(),
        vec![],
    );
    assert_eq!(
        refusal(answer(
            &mut witness,
            &party.id(),
            &keys,
            &theirs,
            T0.plus(12)
        )),
        ErrorCode::SenderMismatch
    );
}

#[test]
fn b18_a_repeated_acknowledgement_changes_nothing() {
    let mut net = TestNetwork::new(&["Brand", "Supplier"], &["procurement"], T0);
    let brand = net.nodes[1].party.id();
    let supplier = net.nodes[2].party.id();
    let p = net.proposal(&brand, &[(supplier, Role::Signer, 0)], "procurement", 9);
    let sid = net.propose(p).unwrap();
    net.deliver_all();
    net.act(&supplier, sid, |s, ctx, _, _| s.acknowledge(ctx))
        .unwrap();
    net.deliver_all();
    let events = net.node(&brand).events.len();
    // Again, at another time (other bytes): a duplicate for the initiator.
    net.now = net.now.plus(5);
    net.act(&supplier, sid, |s, ctx, _, _| s.acknowledge(ctx))
        .unwrap();
    net.deliver_all();
    assert_eq!(net.node(&brand).events.len(), events);
    assert!(net.node(&brand).refused.is_empty());
}

#[test]
fn b19_an_initiator_the_participant_does_not_trust() {
    let mut net = TestNetwork::new(&["Brand", "Supplier"], &["procurement"], T0);
    let brand = net.nodes[1].party.id();
    let supplier = net.nodes[2].party.id();
    // The supplier stops trusting the CA: the brand is no longer established.
    let i = net
        .nodes
        .iter()
        .position(|n| n.party.id() == supplier)
        .unwrap();
    net.nodes[i].policy.anchors.clear();
    let p = net.proposal(&brand, &[(supplier, Role::Signer, 0)], "procurement", 10);
    let sid = net.propose(p).unwrap();
    net.deliver_all();
    assert!(!net.node(&supplier).sessions.contains_key(&sid));
    assert!(
        matches!(net.node(&supplier).refused.last(), Some(SessionError::Untrusted { party, .. }) if *party == brand)
    );
}
