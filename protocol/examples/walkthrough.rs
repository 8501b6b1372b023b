//! A narrated walk through Signet's identity layer: parties are created with key event logs,
//! a certificate authority verifies a supplier once, and two brands both accept that supplier
//! on the strength of that one verification. Then a key rotation, a seal mandate checked
//! against its scope, and a revocation that changes the verdict.
//!
//! Run with `cargo run -p signet-protocol --example walkthrough`.

use signet_protocol::attestation::{Amount, AssuranceLevel, MandateUse};
use signet_protocol::keylog::KeyLog;
use signet_protocol::testkit::{DAY, TestParty};
use signet_protocol::trust::{TrustAnchor, TrustPolicy, TrustStore, Verdict, evaluate};
use signet_protocol::{SecretKey, Timestamp};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let t0 = Timestamp::from_unix(1_800_000_000);
    let day = |n: u64| t0.plus(n * DAY);

    println!(
        "Signet walkthrough: identities, attestations and trust (protocol core, no network)\n"
    );

    println!(
        "1. Each party creates its key event log; its id is the digest of its inception event."
    );
    let mut ca = TestParty::new("China Trust CA", t0);
    let brand_a = TestParty::new("Brand A Phones", t0);
    let brand_b = TestParty::new("Brand B Mobile", t0);
    let mut supplier = TestParty::new("Shenzhen Display Co", t0);
    for p in [&ca, &brand_a, &brand_b, &supplier] {
        println!(
            "   {:<22} {}  (key events: {}, seals: {})",
            p.label,
            p.id(),
            p.log.len(),
            p.log.seals_at(t0).len()
        );
    }

    println!(
        "\n2. The CA verifies the supplier once (real-name verification) and signs an identity attestation."
    );
    let identity = ca.verify_identity(&supplier, AssuranceLevel::High, day(1));
    let identity_id = identity.payload().id;
    println!(
        "   attestation {identity_id}: {} bytes of COSE_Sign1",
        identity.bytes().len()
    );
    let verifications_done = 1;

    // Every node gathers public data (key logs, attestations) into its trust store.
    let mut store = TrustStore::new();
    for p in [&ca, &brand_a, &brand_b, &supplier] {
        store.add_key_log(KeyLog::replay(p.log.event_bytes())?);
    }
    store.add_attestation(identity);
    let revocations = ca.revocation_list(vec![], day(2));
    store.add_attestation(revocations);

    println!(
        "\n3. Both brands trust the CA as an anchor; each evaluates the supplier under its own policy."
    );
    let policy = TrustPolicy::with_anchors(vec![TrustAnchor {
        party: ca.id(),
        name: "China Trust CA".into(),
    }]);
    let mut brands_trusting = 0;
    for brand in [&brand_a, &brand_b] {
        let verdict = evaluate(&policy, &store, &supplier.id(), day(3));
        match &verdict {
            Verdict::Trusted { identity, path } => {
                println!(
                    "   {:<16} TRUSTED  {} ({}) via {} attestation(s), no new verification",
                    brand.label,
                    identity.legal_name,
                    identity
                        .registration
                        .as_ref()
                        .map(ToString::to_string)
                        .unwrap_or_default(),
                    path.len()
                );
                brands_trusting += 1;
            }
            other => println!("   {:<16} {other:?}", brand.label),
        }
    }
    // Without reuse, every brand would have verified the supplier itself.
    println!(
        "   verifications done: {verifications_done}, avoided by reuse: {}",
        brands_trusting - verifications_done
    );

    println!("\n4. The supplier rotates its root key (pre-rotation): its id does not change.");
    let old_id = supplier.id();
    let next_next = SecretKey::from_seed(&[42; 32]);
    supplier
        .log
        .rotate(&supplier.next_root, &next_next.public_key(), day(10))?;
    store.add_key_log(KeyLog::replay(supplier.log.event_bytes())?);
    println!(
        "   id before {old_id}\n   id after  {}  (same: {})",
        supplier.id(),
        old_id == supplier.id()
    );

    println!(
        "\n5. The supplier mandates a delegate to apply its contract seal for procurement up to CNY 1,000,000 with Brand A."
    );
    let mandate = supplier.delegate_contract_seal(
        &["procurement"],
        Some(1_000_000),
        Some(vec![brand_a.id()]),
        day(11),
        365,
    );
    let value = Amount {
        currency: "CNY".into(),
        minor_units: 80_000_000,
    };
    let use_ = MandateUse {
        party: supplier.id(),
        delegate: signet_protocol::person::PersonKey::Ed25519(supplier.delegate.public_key()),
        seal: supplier.contract_seal.public_key().into(),
        purpose: "procurement",
        value: Some(&value),
        counterparties: &[brand_a.id()],
        time: day(12),
    };
    let max = policy.max_delegation_validity;
    println!(
        "   CNY 800,000 with Brand A:   {}",
        outcome(store.check_mandate(&mandate, &use_, max).map(|_| ()))
    );
    let with_b = MandateUse {
        counterparties: &[brand_b.id()],
        ..use_.clone()
    };
    println!(
        "   CNY 800,000 with Brand B:   {}",
        outcome(store.check_mandate(&mandate, &with_b, max).map(|_| ()))
    );
    let big = Amount {
        currency: "CNY".into(),
        minor_units: 200_000_000,
    };
    let too_big = MandateUse {
        value: Some(&big),
        ..use_.clone()
    };
    println!(
        "   CNY 2,000,000 with Brand A: {}",
        outcome(store.check_mandate(&mandate, &too_big, max).map(|_| ()))
    );

    println!(
        "\n6. The CA publishes a revocation list weekly; on day 19 it revokes the attestation from day 20."
    );
    let weekly = ca.revocation_list(vec![], day(14));
    store.add_attestation(weekly);
    let revocation = ca.revoke(identity_id, day(20), day(19));
    store.add_attestation(revocation);
    for when in [15, 21] {
        let verdict = evaluate(&policy, &store, &supplier.id(), day(when));
        println!("   day {when}: {}", summary(&verdict));
    }
    println!("\nDone: one verification served {brands_trusting} brands.");
    Ok(())
}

fn outcome(result: Result<(), impl std::fmt::Display>) -> String {
    match result {
        Ok(()) => "covered".to_string(),
        Err(e) => format!("refused: {e}"),
    }
}

fn summary(verdict: &Verdict) -> String {
    match verdict {
        Verdict::Trusted { identity, .. } => format!("TRUSTED ({})", identity.legal_name),
        Verdict::Untrusted { reasons } => format!(
            "UNTRUSTED: {}",
            reasons
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ")
        ),
        Verdict::Indeterminate { missing, .. } => format!(
            "INDETERMINATE: missing {}",
            missing
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ")
        ),
    }
}
