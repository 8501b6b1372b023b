//! A narrated contract signing down a supply chain, entirely in memory: a brand, its tier-1
//! supplier and a tier-2 supplier sign one contract in routing order, each party logs its
//! evidence, a witness cosigns every party's checkpoint, and the finished contract's bundle is
//! verified offline by someone who was not there. Then a tampered bundle is refused.
//!
//! Run with `cargo run -p signet-protocol --example signing`. The network, clocks and disks are
//! simulated: the protocol's state machines are the real ones (`signet_protocol::session`).

use signet_protocol::Timestamp;
use signet_protocol::bundle::{Outcome, assemble, verify_bundle};
use signet_protocol::party::PartyId;
use signet_protocol::session::{Role, Status};
use signet_protocol::testkit::{DAY, TestNetwork};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let t0 = Timestamp::from_unix(1_800_000_000);
    println!(
        "Signet signing walkthrough: one contract down the tiers (protocol core, in memory)\n"
    );
    let mut net = TestNetwork::new(
        &[
            "Brand A Phones",
            "Shenzhen Display Co",
            "Dongguan Glass Works",
        ],
        &["procurement"],
        t0,
    );
    let names: Vec<(PartyId, String)> = net
        .nodes
        .iter()
        .map(|n| (n.party.id(), n.party.label.clone()))
        .collect();
    let name = |p: &PartyId| {
        names
            .iter()
            .find(|(id, _)| id == p)
            .map(|(_, n)| n.clone())
            .unwrap_or_default()
    };
    let (brand, tier1, tier2) = (names[1].0, names[2].0, names[3].0);
    println!("1. A CA verified each party once; every node knows the key logs and trusts the CA.");
    println!(
        "   A witness ({}) will cosign evidence checkpoints.\n",
        net.witness.label
    );

    println!(
        "2. {} proposes a contract: it signs first, then tier 1, then tier 2.",
        name(&brand)
    );
    let proposal = net.proposal(
        &brand,
        &[
            (brand, Role::Signer, 0),
            (tier1, Role::Signer, 1),
            (tier2, Role::Signer, 2),
        ],
        "procurement",
        1,
    );
    println!(
        "   documents travel by digest only: {} ({} bytes, SHA-256 {})",
        proposal.documents[0].name, proposal.documents[0].size, proposal.documents[0].digest
    );
    let sid = net.propose(proposal)?;
    let delivered = net.deliver_all();
    println!("   session {sid}: {delivered} message(s) delivered\n");

    println!("3. Out of turn, tier 2 cannot sign yet:");
    match net.sign(&tier2, sid) {
        Err(e) => println!("   refused: {e}"),
        Ok(()) => println!("   (unexpectedly accepted)"),
    }
    println!(
        "\n4. Each signer's delegate confirms intent with their own key; the seal signs; everyone checks."
    );
    for party in [brand, tier1, tier2] {
        net.now = net.now.plus(600);
        net.sign(&party, sid)?;
        let delivered = net.deliver_all();
        println!(
            "   {:<22} signed; {delivered} message(s) relayed and verified by the others",
            name(&party)
        );
    }
    for node in &net.nodes[1..] {
        let status = node.sessions[&sid].status();
        println!(
            "   {:<22} sees the session {}",
            node.party.label,
            status.name()
        );
        if !matches!(status, Status::Completed { .. }) {
            return Err("the session did not complete".into());
        }
    }

    println!(
        "\n5. Each party logs its events, checkpoints its log, has the witness cosign, and shares its proofs."
    );
    net.now = net.now.plus(60);
    for party in [brand, tier1, tier2] {
        net.share_evidence(&party, sid)?;
        let node = net.node(&party);
        println!(
            "   {:<22} evidence log of {} entries, checkpoint cosigned",
            name(&party),
            node.log.len()
        );
    }
    net.deliver_all();

    println!(
        "\n6. {} exports the bundle; an auditor verifies it offline a year later.",
        name(&brand)
    );
    let node = net.node(&brand);
    let bundle = assemble(&node.sessions[&sid], &node.store, &node.policy)?.encode()?;
    println!(
        "   bundle: {} bytes (media type application/vnd.signet.bundle+cbor, file .signet)",
        bundle.len()
    );
    let document = vec![1u8; 1234];
    let later = net.now.plus(365 * DAY);
    let report = verify_bundle(&bundle, &[&document], &node.policy, later);
    println!(
        "   overall: {}  ({} checks)",
        report.outcome,
        report.checks.len()
    );
    let r = &report.reliability;
    for (condition, c) in [
        ("signing keys bound to the signer", &r.signer_binding),
        ("signer in control when signing", &r.signer_control),
        ("signature changes detectable", &r.signature_integrity),
        ("document changes detectable", &r.document_integrity),
    ] {
        println!("   Art. 13 {condition:<34} {}", c.outcome);
    }

    println!("\n7. One flipped byte in the bundle, and it no longer verifies:");
    let mut tampered = bundle.clone();
    let middle = tampered.len() / 2;
    tampered[middle] ^= 0x01;
    let report = verify_bundle(&tampered, &[&document], &node.policy, later);
    println!("   overall: {}", report.outcome);
    if let Some(first) = report.failures().next() {
        println!(
            "   first failing check: {} ({}): {}",
            first.name, first.subject, first.detail
        );
    }
    if report.outcome == Outcome::Valid {
        return Err("a tampered bundle verified".into());
    }
    println!("\nDone.");
    Ok(())
}
