use super::*;
use crate::Timestamp;
use crate::party::PartyId;
use crate::session::{Role, SessionId};
use crate::testkit::{DAY, TestNetwork};
use crate::trust::TrustPolicy;

const T0: Timestamp = Timestamp::from_unix(1_800_000_000);

/// A completed session between `n` parties of a fresh network (brand initiates and signs
/// last), its bundle, and the brand's policy.
fn completed(n: usize) -> (TestNetwork, SessionId, Vec<u8>, TrustPolicy) {
    let labels = [
        "Brand", "Tier-1", "Tier-2", "Tier-3", "Tier-4", "Tier-5", "Tier-6", "Tier-7", "Tier-8",
        "Tier-9",
    ];
    let mut net = TestNetwork::new(&labels[..n], &["procurement"], T0);
    let ids: Vec<PartyId> = net.nodes[1..].iter().map(|n| n.party.id()).collect();
    let brand = ids[0];
    let mut participants: Vec<(PartyId, Role, u32)> = ids[1..]
        .iter()
        .enumerate()
        .map(|(i, p)| (*p, Role::Signer, i as u32))
        .collect();
    participants.push((brand, Role::Signer, n as u32));
    let p = net.proposal(&brand, &participants, "procurement", 1);
    let sid = net.propose(p).unwrap();
    net.deliver_all();
    for party in ids[1..].iter().chain([&brand]) {
        net.now = net.now.plus(60);
        net.sign(party, sid).unwrap();
        net.deliver_all();
    }
    net.now = net.now.plus(60);
    for party in &ids {
        net.share_evidence(party, sid).unwrap();
    }
    net.deliver_all();
    let node = net.node(&brand);
    let bundle = assemble(&node.sessions[&sid], &node.store, &node.policy).unwrap();
    let policy = node.policy.clone();
    (net, sid, bundle.encode().unwrap(), policy)
}

fn document(tag: u8) -> Vec<u8> {
    vec![tag; 1234]
}

#[test]
fn a_completed_session_verifies_offline() {
    let (net, _, bytes, policy) = completed(3);
    let doc = document(1);
    let report = verify_bundle(&bytes, &[&doc], &policy, net.now.plus(DAY));
    assert!(
        report.is_valid(),
        "{:#?}",
        report.failures().collect::<Vec<_>>()
    );
    assert_eq!(
        report.reliability.document_integrity.outcome,
        Outcome::Valid
    );
    assert_eq!(report.reliability.signer_control.outcome, Outcome::Valid);
    // Three signatures, six checks each.
    assert_eq!(
        report
            .checks
            .iter()
            .filter(|c| c.name.starts_with("signature."))
            .count(),
        18
    );
    assert_eq!(report.title.as_deref(), Some("Supply agreement 1"));
}

#[test]
fn without_documents_the_document_condition_is_indeterminate_but_signatures_hold() {
    let (net, _, bytes, policy) = completed(2);
    let report = verify_bundle(&bytes, &[], &policy, net.now);
    assert!(report.is_valid());
    assert_eq!(
        report.reliability.document_integrity.outcome,
        Outcome::Indeterminate
    );
}

#[test]
fn a_wrong_document_is_invalid() {
    let (net, _, bytes, policy) = completed(2);
    let mut doc = document(1);
    doc[100] ^= 1;
    let report = verify_bundle(&bytes, &[&doc], &policy, net.now);
    assert_eq!(report.outcome, Outcome::Invalid);
    assert!(report.failures().any(|c| c.name == "document.digest"));
}

#[test]
fn a_verifier_that_does_not_trust_the_ca_does_not_accept_the_signers() {
    let (net, _, bytes, _) = completed(2);
    let stranger_policy = TrustPolicy {
        revocation_freshness: None,
        ..TrustPolicy::with_anchors(vec![])
    };
    let report = verify_bundle(&bytes, &[], &stranger_policy, net.now);
    assert_ne!(report.outcome, Outcome::Valid);
    // Neither the signers nor the witness are trusted, so no cosignature counts either.
    assert!(
        report.failures().all(|c| matches!(
            c.name,
            "signature.identity" | "evidence.witness" | "evidence.cosignature"
        )),
        "{:#?}",
        report.failures().collect::<Vec<_>>()
    );
}

#[test]
fn a_revocation_after_signing_does_not_invalidate_the_contract() {
    let (mut net, _, _, _) = completed(2);
    let brand = net.nodes[1].party.id();
    let tier1 = net.nodes[2].party.id();
    let identity = net.nodes[0]
        .store
        .about(&tier1, crate::attestation::AttestationKind::Identity)
        .next()
        .unwrap()
        .payload()
        .id;
    net.now = net.now.plus(DAY);
    let now = net.now;
    let revocation = net.nodes[0].party.revoke(identity, now, now);
    net.publish(&revocation);
    let node = net.node(&brand);
    let sid = *node.sessions.keys().next().unwrap();
    let bundle = assemble(&node.sessions[&sid], &node.store, &node.policy)
        .unwrap()
        .encode()
        .unwrap();
    let report = verify_bundle(&bundle, &[], &node.policy, now.plus(DAY));
    assert!(
        report.is_valid(),
        "{:#?}",
        report.failures().collect::<Vec<_>>()
    );
}

#[test]
fn every_single_byte_change_makes_verification_fail() {
    let (net, _, bytes, policy) = completed(2);
    let doc = document(1);
    let now = net.now.plus(DAY);
    assert!(verify_bundle(&bytes, &[&doc], &policy, now).is_valid());
    for i in 0..bytes.len() {
        let mut tampered = bytes.clone();
        tampered[i] ^= 0x01;
        let report = verify_bundle(&tampered, &[&doc], &policy, now);
        assert!(
            !report.is_valid(),
            "flipping bit 0 of byte {i} of {} still verifies",
            bytes.len()
        );
    }
}

#[test]
fn a_bundle_missing_a_key_log_is_indeterminate_not_valid() {
    let (net, _, bytes, policy) = completed(2);
    let mut bundle = Bundle::decode(&bytes).unwrap();
    bundle.key_logs.remove(0);
    let report = verify_bundle(&bundle.encode().unwrap(), &[], &policy, net.now);
    assert_ne!(report.outcome, Outcome::Valid);
}

#[test]
fn a_completion_altered_by_anyone_but_the_initiator_is_invalid() {
    let (net, _, bytes, policy) = completed(3);
    let mut bundle = Bundle::decode(&bytes).unwrap();
    // Dropping an action means re-signing the completion, which only the initiator can do:
    // an attacker cannot, so the only change possible breaks the completion's signature.
    let last = bundle.completion.len() - 1;
    bundle.completion[last] ^= 0xff;
    let report = verify_bundle(&bundle.encode().unwrap(), &[], &policy, net.now);
    assert_eq!(report.outcome, Outcome::Invalid);
}

#[test]
fn every_party_evidence_is_checked_and_cosigned() {
    let (net, _, bytes, policy) = completed(3);
    let report = verify_bundle(&bytes, &[], &policy, net.now);
    let cosigned = report
        .checks
        .iter()
        .filter(|c| c.name == "evidence.cosignature" && c.outcome == Outcome::Valid)
        .count();
    let covered = report
        .checks
        .iter()
        .filter(|c| c.name == "evidence.coverage" && c.outcome == Outcome::Valid)
        .count();
    assert_eq!((cosigned, covered), (3, 3), "{:#?}", report.checks);
}

#[test]
fn evidence_without_the_required_cosignature_is_indeterminate() {
    let (net, _, bytes, policy) = completed(2);
    let mut bundle = Bundle::decode(&bytes).unwrap();
    // Drop the witness's line: the log's own signature still holds.
    let note = String::from_utf8(bundle.evidence[0].checkpoint.clone()).unwrap();
    let kept: Vec<&str> = note
        .lines()
        .filter(|l| !l.contains("signet.witness/"))
        .collect();
    bundle.evidence[0].checkpoint = (kept.join("\n") + "\n").into_bytes();
    let report = verify_bundle(&bundle.encode().unwrap(), &[], &policy, net.now);
    assert_eq!(
        report.outcome,
        Outcome::Indeterminate,
        "{:#?}",
        report.failures().collect::<Vec<_>>()
    );
    assert!(report.failures().all(|c| c.name == "evidence.cosignature"));
}

#[test]
fn a_bundle_without_evidence_is_indeterminate_when_evidence_is_required() {
    let (net, _, bytes, policy) = completed(2);
    let mut bundle = Bundle::decode(&bytes).unwrap();
    bundle.evidence.clear();
    let report = verify_bundle(&bundle.encode().unwrap(), &[], &policy, net.now);
    assert_eq!(report.outcome, Outcome::Indeterminate);
}

#[test]
fn evidence_of_one_party_cannot_be_passed_off_as_anothers() {
    let (net, _, bytes, policy) = completed(2);
    let mut bundle = Bundle::decode(&bytes).unwrap();
    let other = bundle.evidence[1].party;
    bundle.evidence[0].party = other;
    let report = verify_bundle(&bundle.encode().unwrap(), &[], &policy, net.now);
    assert_eq!(report.outcome, Outcome::Invalid);
}

/// A completed session that requires national algorithms: tier 1 and the brand seal with
/// SM2, the proposal's SM3 digest that of `sm3_of` (the document's own bytes when right).
fn national(sm3_of: &[u8]) -> (TestNetwork, Vec<u8>, TrustPolicy) {
    let mut net = TestNetwork::new(&["Brand", "Tier-1"], &["procurement"], T0);
    let (brand, tier1) = (net.nodes[1].party.id(), net.nodes[2].party.id());
    for (party, scalar) in [(brand, 0x41u8), (tier1, 0x42)] {
        let key = crate::sm2::Sm2SecretKey::from_bytes(&[scalar; 32]).unwrap();
        net.use_sm2_contract_seal(&party, key, &["procurement"]);
    }
    let p = net.proposal(
        &brand,
        &[(tier1, Role::Signer, 0), (brand, Role::Signer, 1)],
        "procurement",
        1,
    );
    let p = crate::testkit::require_national(p, &[sm3_of]);
    let sid = net.propose(p).unwrap();
    net.deliver_all();
    for party in [tier1, brand] {
        net.now = net.now.plus(60);
        net.sign(&party, sid).unwrap();
        net.deliver_all();
    }
    net.now = net.now.plus(60);
    for party in [brand, tier1] {
        net.share_evidence(&party, sid).unwrap();
    }
    net.deliver_all();
    let node = net.node(&brand);
    let bundle = assemble(&node.sessions[&sid], &node.store, &node.policy).unwrap();
    let policy = node.policy.clone();
    (net, bundle.encode().unwrap(), policy)
}

#[test]
fn a_national_session_bundle_checks_algorithms_and_sm3() {
    let (net, bytes, policy) = national(&document(1));
    let report = verify_bundle(&bytes, &[&document(1)], &policy, net.now.plus(DAY));
    assert!(
        report.is_valid(),
        "{:#?}",
        report.failures().collect::<Vec<_>>()
    );
    // One algorithms check per signature, and the document matched by SM3 as well.
    assert_eq!(
        report
            .checks
            .iter()
            .filter(|c| c.name == "signature.algorithms" && c.outcome == Outcome::Valid)
            .count(),
        2
    );
    assert!(
        report
            .checks
            .iter()
            .any(|c| c.name == "document.digest" && c.detail.contains("SM3"))
    );
}

#[test]
fn a_document_whose_sm3_digest_is_not_the_proposals_is_invalid() {
    // The initiator stated the SM3 digest of other bytes: the parties signed it (they never
    // compared), but the document given does not match it.
    let (net, bytes, policy) = national(&document(2));
    let report = verify_bundle(&bytes, &[&document(1)], &policy, net.now.plus(DAY));
    assert_eq!(report.outcome, Outcome::Invalid);
    let failures: Vec<_> = report.failures().collect();
    assert_eq!(failures.len(), 1, "{failures:#?}");
    assert_eq!(failures[0].name, "document.digest");
    assert!(failures[0].detail.contains("SM3"));
}

#[test]
fn an_ordinary_bundle_has_no_algorithms_entries() {
    let (net, _, bytes, policy) = completed(2);
    let report = verify_bundle(&bytes, &[&document(1)], &policy, net.now.plus(DAY));
    assert!(report.is_valid());
    assert!(
        !report
            .checks
            .iter()
            .any(|c| c.name == "signature.algorithms")
    );
}
