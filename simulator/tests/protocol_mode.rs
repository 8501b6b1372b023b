//! Protocol in the loop: determinism across thread counts, the cross-check with the
//! abstract model, revocation, faults, and scenario errors.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use signet_sim::error::ScenarioError;
use signet_sim::protocol_mode::{self, ProtocolResult, ProtocolScenario};

fn scenario(extra: &str) -> ProtocolScenario {
    let text = format!(
        "name = \"protocol-test\"\nseed = 11\nsteps = 12\n\
         [network]\nkind = \"tiered\"\ntiers = [3, 24, 90]\noverlap = 0.7\n\
         [model]\nkind = \"adoption\"\nspontaneous_rate = 0.05\n\
         [protocol]\nbundle_every = 50\n{extra}"
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
        // Two-party signing: propose, sign, completion (no loss in this scenario).
        assert!(t.session_messages >= 3 * t.electronic, "{d}");
        assert!(t.session_messages <= 3 * t.started, "{d}");
        assert!(r.measures.bundles.assembled > 0, "{d}");
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

/// Sampled bundles verify offline: with no per-session witness cosignature required, every
/// check holds (signatures, key logs, mandates, identities, documents); with one required,
/// the only check that does not is the missing cosignature (MODEL.md §9.6).
#[test]
fn sampled_bundles_verify_offline() {
    let base = "adoption = \"all\"\ndeployments = [\"federated\"]\nsteps = 1\n";
    let without = run_with_threads(&scenario(&format!("{base}session_cosignatures = 0\n")), 1);
    let b = &without.runs[0].measures.bundles;
    assert!(b.assembled > 5);
    assert_eq!(b.valid, b.assembled, "{:?}", b.failed_checks);
    let with = run_with_threads(&scenario(base), 1);
    let b = &with.runs[0].measures.bundles;
    assert_eq!(b.indeterminate, b.assembled);
    assert_eq!(
        b.failed_checks.keys().collect::<Vec<_>>(),
        vec!["evidence.cosignature"]
    );
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
