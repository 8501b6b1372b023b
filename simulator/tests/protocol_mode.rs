//! Protocol in the loop: determinism across thread counts, the cross-check with the
//! abstract model, revocation, faults, per-session evidence and bundles, and scenario errors.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use signet_sim::error::ScenarioError;
use signet_sim::protocol_mode::{self, ProtocolResult, ProtocolScenario};

fn scenario(extra: &str) -> ProtocolScenario {
    let sample = if extra.contains("bundle_every") {
        ""
    } else {
        "bundle_every = 50\n"
    };
    let text = format!(
        "name = \"protocol-test\"\nseed = 11\nsteps = 12\n\
         [network]\nkind = \"tiered\"\ntiers = [3, 24, 90]\noverlap = 0.7\n\
         [model]\nkind = \"adoption\"\nspontaneous_rate = 0.05\n\
         [protocol]\n{sample}{extra}"
    );
    ProtocolScenario::parse(&text, PathBuf::new()).unwrap()
}

fn run_with_threads(ps: &ProtocolScenario, threads: usize) -> ProtocolResult {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
        .install(|| protocol_mode::run(ps))
        .unwrap()
}

/// Within a run, the nodes' protocol work of a batch of events runs on every thread
/// (MODEL.md §9.3); the report must not depend on how many there are.
#[test]
fn same_seed_same_report_with_one_two_and_three_threads() {
    let ps =
        scenario("steps = 4\nloss = 0.01\noutages = [{ firm = 4, from_day = 40.0, days = 6.0 }]\n");
    let one = run_with_threads(&ps, 1);
    let two = run_with_threads(&ps, 2);
    let three = run_with_threads(&ps, 3);
    let a = protocol_mode::report_json(&ps, &one).unwrap();
    let b = protocol_mode::report_json(&ps, &two).unwrap();
    assert_eq!(a, b);
    assert_eq!(a, protocol_mode::report_json(&ps, &three).unwrap());
    assert_eq!(
        protocol_mode::tiers_csv(&one),
        protocol_mode::tiers_csv(&three)
    );
    assert_eq!(one.runs.len(), 3, "three deployment models");
    assert!(one.runs.iter().map(|r| r.total.electronic).sum::<u64>() > 100);
    assert!(one.runs.iter().any(|r| r.measures.retransmissions > 0));
    // The parties' evidence messages and witness answers are part of what must not depend
    // on the thread count.
    let received: u64 = one.runs.iter().map(|r| r.measures.evidence.received).sum();
    assert!(received > 50, "{received}");
    // A different seed gives a different run.
    let mut other = ps.clone();
    other.scenario.seed = 12;
    let c = protocol_mode::report_json(&other, &run_with_threads(&other, 1)).unwrap();
    assert_ne!(a, c);
}

/// The abstract model and the protocol agree on what the protocol can observe: contracts
/// signed electronically, verifications performed, verifications avoided by reuse. MODEL.md
/// §9.5 explains each difference; the tolerances below are the ones it states.
#[test]
fn protocol_counts_agree_with_the_abstract_model() {
    let ps = scenario("");
    let result = run_with_threads(&ps, 2);
    for r in &result.runs {
        let a = r.measures.abstract_counts.as_ref().unwrap();
        let t = &r.total;
        let d = r.deployment;
        assert!(a.contracts_electronic > 500, "{d}: enough to compare");
        // Every contract the abstract model signs electronically is proposed, and ends
        // signed, failed or still in flight at the end.
        assert_eq!(t.electronic + t.failed + t.in_flight, t.started, "{d}");
        assert_eq!(
            t.started + t.refused + t.waiting_at_end,
            a.contracts_electronic,
            "{d}"
        );
        let tolerance = (a.contracts_electronic as f64 * 0.01).ceil() as u64;
        assert!(
            a.contracts_electronic.abs_diff(t.electronic) <= tolerance,
            "{d}: abstract {} protocol {}",
            a.contracts_electronic,
            t.electronic
        );
        assert_eq!(t.failed, 0, "{d}: {:?}", r.measures.failures);
        assert_eq!(
            t.verifications_performed, a.verifications_performed,
            "{d}: verifications performed"
        );
        assert_eq!(
            t.verifications_avoided, a.verifications_avoided,
            "{d}: verifications avoided"
        );
        // Two-party signing: propose, sign, completion, then each party's evidence (no loss
        // in this scenario).
        let shared = r.measures.evidence.shared;
        assert!(shared > 0, "{d}");
        assert!(t.session_messages >= 3 * t.electronic + shared, "{d}");
        assert!(t.session_messages <= 3 * t.started + shared, "{d}");
        assert!(r.measures.bundles.assembled > 0, "{d}");
        assert_eq!(r.measures.bundles.invalid, 0, "{d}");
    }
}

/// Everyone runs a node from the start; a supplier's identity is revoked on day 20: every
/// counterparty it had been introduced to stops signing with it once the revocation reaches
/// it (a network latency later), and its contracts after that are refused.
#[test]
fn revocation_stops_every_counterparty() {
    // Firm 3 is the first tier-1 supplier.
    let ps = scenario(
        "adoption = \"all\"\ndeployments = [\"federated\"]\nsteps = 2\n\
         revocations = [{ firm = 3, day = 20.0 }]\n",
    );
    let result = run_with_threads(&ps, 1);
    let m = &result.runs[0].measures;
    let r = &m.revocations[0];
    assert!(r.attested);
    assert!(!r.counterparties.is_empty(), "firm 3 has customers");
    let stopped = r.all_stopped_seconds.expect("every counterparty stopped");
    // Remote latency is 40 ms; CPU queues add a little.
    assert!(stopped > 0.04 && stopped < 5.0, "{stopped}");
    let refused = m.failures.get("contract: counterparty refused").copied();
    assert!(refused.unwrap_or(0) > 0, "{:?}", m.failures);
}

/// A supplier offline for 10 days: its contracts wait and complete after it returns.
#[test]
fn an_offline_supplier_delays_its_contracts() {
    let base = "adoption = \"all\"\ndeployments = [\"federated\"]\nsteps = 1\n";
    let up = run_with_threads(&scenario(base), 1);
    let down = run_with_threads(
        &scenario(&format!(
            "{base}outages = [{{ firm = 3, from_day = 2.0, days = 10.0 }}]\n"
        )),
        1,
    );
    let (u, d) = (&up.runs[0], &down.runs[0]);
    assert_eq!(u.measures.retransmissions, 0);
    assert!(d.measures.retransmissions > 0);
    let p99 = |r: &protocol_mode::RunReport| r.total.completion_hours.unwrap()[2];
    assert!(p99(d) > p99(u), "{} vs {}", p99(d), p99(u));
    assert!(d.total.electronic <= u.total.electronic);
}

#[test]
fn bad_protocol_tables_are_typed_errors() {
    let text = |extra: &str| {
        format!(
            "name = \"x\"\nseed = 1\n[network]\nkind = \"tiered\"\ntiers = [2, 5]\n\
             [model]\nkind = \"adoption\"\n[protocol]\n{extra}"
        )
    };
    // A typo never falls back to a default.
    let e = ProtocolScenario::parse(&text("verifers = 2\n"), PathBuf::new()).unwrap_err();
    assert!(matches!(e, ScenarioError::Parse { .. }), "{e}");
    // A firm that does not exist.
    let ps = ProtocolScenario::parse(
        &text("revocations = [{ firm = 99, day = 1.0 }]\n"),
        PathBuf::new(),
    )
    .unwrap();
    let e = protocol_mode::run(&ps).unwrap_err();
    assert!(e.to_string().contains("protocol.revocations.firm"), "{e}");
    let ps = ProtocolScenario::parse(&text("loss = 1.5\n"), PathBuf::new()).unwrap();
    assert!(
        protocol_mode::run(&ps)
            .unwrap_err()
            .to_string()
            .contains("protocol.loss")
    );
    // Identities resting on CA certificates are an abstract-model parameter only.
    let certified = "name = \"c\"\nseed = 1\n[network]\nkind = \"tiered\"\ntiers = [2, 5]\n\
                     [model]\nkind = \"adoption\"\ncertificate_share = [0.5, 0.5, 0.5]\n";
    let ps = ProtocolScenario::parse(certified, PathBuf::new()).unwrap();
    let e = protocol_mode::run(&ps).unwrap_err();
    assert!(e.to_string().contains("model.certificate_share"), "{e}");
    // Protocol mode needs the adoption model.
    let watts = "name = \"w\"\nseed = 1\n[network]\nkind = \"gnp\"\nn = 10\np = 0.2\n\
                 [model]\nkind = \"watts\"\nphi = 0.2\n";
    assert!(ProtocolScenario::parse(watts, PathBuf::new()).is_err());
}

/// A supplier rotates its root key and its contract seal on day 10: every counterparty gets
/// the new key log and mandate a network latency later, and signing goes on with the new seal.
#[test]
fn key_rotation_reaches_counterparties_and_signing_goes_on() {
    let base = "adoption = \"all\"\ndeployments = [\"federated\"]\nsteps = 1\n";
    let before = run_with_threads(&scenario(base), 1);
    let after = run_with_threads(
        &scenario(&format!("{base}rotations = [{{ firm = 3, day = 10.0 }}]\n")),
        1,
    );
    let m = &after.runs[0].measures;
    let r = &m.rotations[0];
    assert!(r.rotated);
    assert!(!r.counterparties.is_empty());
    let updated = r.all_updated_seconds.expect("every counterparty updated");
    assert!(updated > 0.04 && updated < 5.0, "{updated}");
    assert!(m.overhead.rotation.messages >= r.counterparties.len() as u64);
    // Only sessions caught mid-rotation may fail; the rest sign with the new seal.
    let (b, a) = (&before.runs[0].total, &after.runs[0].total);
    assert!(a.failed <= 3, "{:?}", m.failures);
    assert!(
        a.electronic + 3 >= b.electronic,
        "{} vs {}",
        a.electronic,
        b.electronic
    );
}

/// A flooding peer and a squatter claiming a supplier's identity: the protocol refuses every
/// message (no session opens, no customer trusts the squatter), and the flood costs the
/// victim CPU time.
#[test]
fn flooding_and_squatting_peers_are_refused() {
    let ps = scenario(
        "adoption = \"all\"\ndeployments = [\"federated\", \"on_premises\"]\nsteps = 1\n\
         attacks = [{ kind = \"flood\", target = 3, from_day = 5.0, days = 0.01, per_second = 1.0 },\n\
                    { kind = \"squat\", target = 3, from_day = 6.0 }]\n",
    );
    let result = run_with_threads(&ps, 1);
    for r in &result.runs {
        let [flood, squat] = &r.measures.attacks[..] else {
            panic!("two attacks");
        };
        let d = r.deployment;
        assert!(flood.delivered >= 800, "{d}: {}", flood.delivered);
        assert_eq!(flood.accepted, 0, "{d}");
        assert_eq!(flood.refused.values().sum::<u64>(), flood.delivered, "{d}");
        assert!(flood.victim_cpu_us > 0);
        assert!(squat.delivered > 0, "{d}: firm 3 has customers");
        assert_eq!(squat.accepted, 0, "{d}: {:?}", squat.refused);
        assert!(r.measures.overhead.attack.messages >= flood.delivered + squat.delivered);
    }
}

/// Reasons a sampled bundle may lack evidence only because the run stopped (MODEL.md §9.1
/// step 5): a later run would have exchanged it.
fn cut_off_by_the_end(reason: &str) -> bool {
    reason
        .split("; ")
        .all(|r| r.ends_with("when the run ended"))
}

/// Checks that a run's bundle counts add up: every assembled bundle has one outcome, every
/// indeterminate one a reason; and returns the bundles counted under `reason`.
fn bundles_under(r: &protocol_mode::RunReport, reason: &str) -> u64 {
    let b = &r.measures.bundles;
    assert_eq!(b.valid + b.indeterminate + b.invalid, b.assembled);
    assert_eq!(
        b.indeterminate_reasons.values().sum::<u64>(),
        b.indeterminate
    );
    b.indeterminate_reasons.get(reason).copied().unwrap_or(0)
}

/// With the default parameters (one witness cosignature required of each party's evidence),
/// the parties exchange their evidence once a cosigned checkpoint covers the session, and
/// every sampled bundle whose evidence arrived verifies VALID offline, whichever party
/// assembled it; the rest were cut off by the end of the run, and say so.
#[test]
fn sampled_bundles_are_valid_once_the_evidence_is_exchanged() {
    let every = 5;
    let ps = scenario(&format!(
        "adoption = \"all\"\ndeployments = [\"federated\", \"on_premises\"]\nsteps = 2\n\
         bundle_every = {every}\n"
    ));
    assert_eq!(ps.params.session_cosignatures, 1, "the default");
    let result = run_with_threads(&ps, 2);
    for r in &result.runs {
        let (d, m) = (r.deployment, &r.measures);
        let b = &m.bundles;
        bundles_under(r, "");
        assert_eq!(b.invalid, 0, "{d}: {:?}", b.failed_checks);
        assert!(b.valid > 50, "{d}: {b:?}");
        for (reason, n) in &b.indeterminate_reasons {
            assert!(cut_off_by_the_end(reason), "{d}: {n} × {reason}");
            assert!(!reason.contains("offline"), "{d}: {n} × {reason}");
        }
        // Only the evidence requirement can be unmet, and only in bundles cut off.
        let cosignature = b.failed_checks.get("evidence.cosignature").copied();
        assert!(
            cosignature.unwrap_or(0) >= b.indeterminate,
            "{d}: {:?}",
            b.failed_checks
        );
        // The buyer of every sampled contract assembles its bundle, and so does the supplier
        // unless its session had not completed when the run ended.
        let sampled = m.completed.div_ceil(every);
        assert_eq!(b.assembled + b.not_completed, 2 * sampled, "{d}");
        // Each party shares once per completed session a cosigned checkpoint covered, and
        // the other party's session accepts it (no loss, no outage here).
        let ev = &m.evidence;
        assert_eq!(ev.received, ev.shared, "{d}: {:?}", m.failures);
        assert!(ev.complete > 0 && ev.cosigned_checkpoints > 0, "{d}");
        assert_eq!(m.witnesses.iter().map(|w| w.refused).sum::<u64>(), 0, "{d}");
    }
    // With no cosignature required, evidence not yet exchanged does not matter.
    let none = run_with_threads(
        &scenario(
            "adoption = \"all\"\ndeployments = [\"federated\"]\nsteps = 1\n\
             session_cosignatures = 0\n",
        ),
        1,
    );
    let b = &none.runs[0].measures.bundles;
    assert!(b.assembled > 5);
    assert_eq!(b.valid, b.assembled, "{:?}", b.failed_checks);
}

/// Firm 3 (a supplier to its customers, a buyer from its own suppliers) goes offline on day
/// 20 and stays down past the end: it never has its checkpoint cosigned, so its evidence
/// about the contracts it completed before is never shared, and the evidence its
/// counterparties send it never arrives. Those bundles are INDETERMINATE with that reason,
/// counted; without the outage no bundle gives it.
#[test]
fn a_party_offline_through_the_end_leaves_its_bundles_indeterminate() {
    let base = "adoption = \"all\"\ndeployments = [\"federated\"]\nsteps = 2\nbundle_every = 5\n";
    let up = run_with_threads(&scenario(base), 1);
    let down = run_with_threads(
        &scenario(&format!(
            "{base}outages = [{{ firm = 3, from_day = 20.0, days = 100.0 }}]\n"
        )),
        1,
    );
    let offline = |r: &protocol_mode::RunReport| {
        [
            "buyer offline when the run ended",
            "supplier offline when the run ended",
        ]
        .iter()
        .map(|reason| bundles_under(r, reason))
        .sum::<u64>()
    };
    let (u, d) = (&up.runs[0], &down.runs[0]);
    assert_eq!(
        offline(u),
        0,
        "{:?}",
        u.measures.bundles.indeterminate_reasons
    );
    assert!(
        offline(d) > 0,
        "{:?}",
        d.measures.bundles.indeterminate_reasons
    );
    let b = &d.measures.bundles;
    assert_eq!(b.invalid, 0, "{:?}", b.failed_checks);
    for (reason, count) in &b.indeterminate_reasons {
        assert!(cut_off_by_the_end(reason), "{count} × {reason}");
    }
    // Its evidence was never shared, and the evidence its counterparties sent it never
    // arrived.
    let ev = &d.measures.evidence;
    assert!(ev.unshared_at_end > 0 && ev.incomplete_at_end > 0, "{ev:?}");
    assert!(ev.received < ev.shared, "{ev:?}");
    assert_eq!(u.measures.evidence.received, u.measures.evidence.shared);
}

/// Two regions cut off from each other for five days: messages across the cut wait for it
/// to heal, so cross-region contracts take longer; nothing is lost.
#[test]
fn a_partition_delays_messages_across_it() {
    let text = |extra: &str| {
        format!(
            "name = \"partition\"\nseed = 3\nsteps = 1\n\
             [network]\nkind = \"tiered\"\ntiers = [3, 24, 90]\ncommunities = 2\n\
             community_mixing = 0.5\n\
             [model]\nkind = \"adoption\"\n\
             [protocol]\nadoption = \"all\"\ndeployments = [\"federated\"]\n{extra}"
        )
    };
    let whole = run_with_threads(
        &ProtocolScenario::parse(&text(""), PathBuf::new()).unwrap(),
        1,
    );
    let cut = run_with_threads(
        &ProtocolScenario::parse(
            &text("partitions = [{ communities = [0], from_day = 3.0, days = 5.0 }]\n"),
            PathBuf::new(),
        )
        .unwrap(),
        1,
    );
    let (w, c) = (&whole.runs[0], &cut.runs[0]);
    assert_eq!(w.measures.retransmissions, 0);
    assert!(c.measures.retransmissions > 0);
    assert_eq!(c.measures.lost_messages, 0);
    assert_eq!(c.total.failed, 0, "{:?}", c.measures.failures);
    let p99 = |r: &protocol_mode::RunReport| r.total.completion_hours.unwrap()[2];
    assert!(p99(c) > p99(w), "{} vs {}", p99(c), p99(w));
}

/// Messages lost for good (one transmission each, 20 % loss): when a witness's cosignature
/// never reaches its firm, the firm's next request proves consistency from a size the
/// witness has passed; the witness refuses it with `bad-proof` and the size it holds, and
/// the firm asks again from there (spec §10.5.4 step 5) and gets its cosignature.
#[test]
fn a_lost_witness_answer_is_recovered_by_asking_again() {
    let ps = scenario(
        "adoption = \"all\"\ndeployments = [\"federated\"]\nsteps = 3\n\
         loss = 0.2\nmax_transmissions = 1\n",
    );
    let result = run_with_threads(&ps, 1);
    let m = &result.runs[0].measures;
    let refused: u64 = m.witnesses.iter().map(|w| w.refused).sum();
    let cosigned: u64 = m.witnesses.iter().map(|w| w.cosignatures).sum();
    assert!(m.lost_messages > 0);
    assert!(refused > 0, "{:?}", m.witnesses);
    // Every refusal was answered by asking again, and none was left standing.
    assert!(
        !m.failures.keys().any(|k| k.starts_with("witness refused")),
        "{:?}",
        m.failures
    );
    assert!(cosigned > refused);
    assert!(m.evidence.cosigned_checkpoints > 0 && m.evidence.received > 0);
}
