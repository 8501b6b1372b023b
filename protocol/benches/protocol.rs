//! Benchmarks of the protocol core (issue: protocol core II; figures in BENCHMARKS.md).
//!
//! `cargo bench -p signet-protocol --bench protocol`
#![allow(clippy::expect_used)] // benchmark set-up: a failure is a bug in the bench

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use signet_protocol::attestation::{AssuranceLevel, Attestation};
use signet_protocol::bundle::{Bundle, assemble, verify_bundle};
use signet_protocol::party::PartyId;
use signet_protocol::session::{Role, Session, SessionId};
use signet_protocol::testkit::{DAY, TestNetwork, TestParty};
use signet_protocol::trust::{TrustAnchor, TrustPolicy, TrustStore, evaluate};
use signet_protocol::{SecretKey, Timestamp};

const T0: Timestamp = Timestamp::from_unix(1_800_000_000);

fn ed25519(c: &mut Criterion) {
    let key = SecretKey::from_seed(&[1; 32]);
    let public = key.public_key();
    let message = [7u8; 300];
    let signature = key.sign(&message);
    c.bench_function("ed25519/sign", |b| b.iter(|| key.sign(black_box(&message))));
    c.bench_function("ed25519/verify_strict", |b| {
        b.iter(|| public.verify(black_box(&message), black_box(&signature)))
    });
}

fn attestations(c: &mut Criterion) {
    let mut ca = TestParty::new("CA", T0);
    let supplier = TestParty::new("Supplier", T0);
    let signed = ca.verify_identity(&supplier, AssuranceLevel::High, T0);
    let bytes = signed.bytes().to_vec();
    let mut store = TrustStore::new();
    store.add_key_log(ca.log.clone());
    c.bench_function("attestation/decode+verify+authority", |b| {
        b.iter(|| {
            let signed = Attestation::decode(black_box(&bytes)).expect("valid");
            assert!(store.has_authority(&signed));
        })
    });
}

/// Anchor → verifier A → verifier B → identity of the subject: a 3-deep chain.
fn trust_chain(c: &mut Criterion) {
    let mut anchor = TestParty::new("Anchor", T0);
    let mut a = TestParty::new("Verifier A", T0);
    let mut b = TestParty::new("Verifier B", T0);
    let subject = TestParty::new("Subject", T0);
    let mut store = TrustStore::new();
    for p in [&anchor, &a, &b, &subject] {
        store.add_key_log(p.log.clone());
    }
    store.add_attestation(anchor.accredit(a.id(), true, T0));
    store.add_attestation(a.accredit(b.id(), false, T0));
    store.add_attestation(b.verify_identity(&subject, AssuranceLevel::High, T0));
    for p in [&mut anchor, &mut a, &mut b] {
        store.add_attestation(p.revocation_list(vec![], T0));
    }
    let mut policy = TrustPolicy::with_anchors(vec![TrustAnchor {
        party: anchor.id(),
        name: "Anchor".into(),
    }]);
    policy.max_chain_depth = 3;
    let now = T0.plus(DAY);
    assert!(evaluate(&policy, &store, &subject.id(), now).is_trusted());
    c.bench_function("trust/evaluate 3-deep chain", |bench| {
        bench.iter(|| evaluate(black_box(&policy), &store, &subject.id(), now))
    });
}

/// One subject with `n` identity attestations, each by its own verifier that the anchor
/// accredited, and each verifier's revocation list: the shape that made evaluation quadratic
/// before its look-ups were indexed. Time per evaluation should grow linearly with `n`.
fn trust_many(c: &mut Criterion) {
    for n in [100usize, 400, 1600, 3200] {
        let mut anchor = TestParty::new("Anchor", T0);
        let subject = TestParty::new("Subject", T0);
        let mut store = TrustStore::new();
        store.add_key_log(anchor.log.clone());
        store.add_key_log(subject.log.clone());
        for i in 0..n {
            let mut verifier = TestParty::new(&format!("Verifier {i}"), T0);
            store.add_key_log(verifier.log.clone());
            store.add_attestation(anchor.accredit(verifier.id(), false, T0));
            // Assurance below the policy's minimum: every one is checked, none makes a path.
            store.add_attestation(verifier.verify_identity(&subject, AssuranceLevel::Low, T0));
            store.add_attestation(verifier.revocation_list(vec![], T0));
        }
        store.add_attestation(anchor.revocation_list(vec![], T0));
        let policy = TrustPolicy::with_anchors(vec![TrustAnchor {
            party: anchor.id(),
            name: "Anchor".into(),
        }]);
        let now = T0.plus(DAY);
        assert!(!evaluate(&policy, &store, &subject.id(), now).is_trusted());
        c.bench_function(
            &format!("trust/evaluate {n} attestations about one subject"),
            |bench| bench.iter(|| evaluate(black_box(&policy), &store, &subject.id(), now)),
        );
    }
}

/// A completed session with `signers` signers (each its own party), every party's evidence
/// shared; returns the network, the session and the initiator.
fn completed(signers: usize) -> (TestNetwork, SessionId, PartyId) {
    let labels: Vec<String> = (0..signers).map(|i| format!("Party {i}")).collect();
    let refs: Vec<&str> = labels.iter().map(String::as_str).collect();
    let mut net = TestNetwork::new(&refs, &["procurement"], T0);
    let ids: Vec<PartyId> = net.nodes[1..].iter().map(|n| n.party.id()).collect();
    let participants: Vec<(PartyId, Role, u32)> = ids
        .iter()
        .enumerate()
        .map(|(i, p)| (*p, Role::Signer, i as u32))
        .collect();
    let proposal = net.proposal(&ids[0], &participants, "procurement", 1);
    let sid = net.propose(proposal).expect("valid proposal");
    net.deliver_all();
    for party in &ids {
        net.now = net.now.plus(60);
        net.sign(party, sid).expect("in turn");
        net.deliver_all();
    }
    for party in &ids {
        net.share_evidence(party, sid).expect("completed");
    }
    net.deliver_all();
    (net, sid, ids[0])
}

/// A completed session with `signers` signers (each its own party), as a bundle.
fn bundle_of(signers: usize) -> (Vec<u8>, TrustPolicy, Timestamp, usize) {
    let (net, sid, initiator) = completed(signers);
    let node = net.node(&initiator);
    let bundle = assemble(&node.sessions[&sid], &node.store, &node.policy).expect("completed");
    // Signatures a verifier must check: every key event, attestation, the proposal, the
    // completion, per signer its sign message, seal signature, intent proof and mandate, and
    // per party its checkpoint and the witness's cosignature.
    let signatures = bundle
        .key_logs
        .iter()
        .map(|l| l.events.len())
        .sum::<usize>()
        + bundle.attestations.len()
        + 2
        + 4 * signers
        + 2 * bundle.evidence.len();
    (
        bundle.encode().expect("encodes"),
        node.policy.clone(),
        net.now.plus(DAY),
        signatures,
    )
}

fn bundles(c: &mut Criterion) {
    for parties in [2, 10] {
        let (bytes, policy, now, signatures) = bundle_of(parties);
        assert!(verify_bundle(&bytes, &[], &policy, now).is_valid());
        println!(
            "bundle of {parties} parties: {} bytes, {signatures} signatures to verify",
            bytes.len()
        );
        c.bench_function(&format!("bundle/verify {parties} parties"), |b| {
            b.iter(|| verify_bundle(black_box(&bytes), &[], &policy, now))
        });
        let _ = Bundle::decode(&bytes);
    }
}

/// What a node pays to keep a session: its snapshot's size, and the time to write it (every
/// step) and to restore it (an ended session read back for a view, list or export).
fn snapshots(c: &mut Criterion) {
    for parties in [2, 10] {
        let (net, sid, initiator) = completed(parties);
        let session = &net.node(&initiator).sessions[&sid];
        let bytes = session.snapshot().expect("encodes");
        println!(
            "completed session of {parties} parties with evidence: snapshot {} bytes",
            bytes.len()
        );
        c.bench_function(&format!("session/snapshot {parties} parties"), |b| {
            b.iter(|| black_box(session).snapshot())
        });
        c.bench_function(&format!("session/restore {parties} parties"), |b| {
            b.iter(|| Session::restore(black_box(&bytes)))
        });
    }
}

criterion_group!(
    benches,
    snapshots,
    ed25519,
    attestations,
    trust_chain,
    trust_many,
    bundles
);
criterion_main!(benches);
