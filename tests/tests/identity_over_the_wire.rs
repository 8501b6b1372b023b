//! Identity reuse along a supply chain, with every object passed as bytes between parties,
//! as nodes would exchange them: nothing is shared in memory between "nodes".
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use signet_protocol::attestation::{AssuranceLevel, Attestation};
use signet_protocol::keylog::KeyLog;
use signet_protocol::testkit::{DAY, TestParty};
use signet_protocol::trust::{TrustAnchor, TrustPath, TrustPolicy, TrustStore, Verdict, evaluate};
use signet_protocol::{SecretKey, Timestamp};

const T0: Timestamp = Timestamp::from_unix(1_800_000_000);

/// What one node would receive: key logs and attestations as bytes.
#[derive(Default)]
struct Inbox {
    logs: Vec<Vec<Vec<u8>>>,
    attestations: Vec<Vec<u8>>,
}

impl Inbox {
    fn log(&mut self, p: &TestParty) {
        self.logs
            .push(p.log.event_bytes().map(<[u8]>::to_vec).collect());
    }

    /// Builds a trust store the way a node does: replaying and decoding everything.
    fn store(&self) -> TrustStore {
        let mut store = TrustStore::new();
        for events in &self.logs {
            store.add_key_log(KeyLog::replay(events).expect("valid log"));
        }
        for bytes in &self.attestations {
            store.add_attestation(Attestation::decode(bytes).expect("valid attestation"));
        }
        store
    }
}

#[test]
fn a_tier_two_supplier_is_trusted_by_two_brands_through_an_accredited_verifier() {
    let mut ca = TestParty::new("National CA", T0);
    let mut regional = TestParty::new("Regional Verifier", T0);
    let tier1 = TestParty::new("Tier-1 Assembler", T0);
    let mut tier2 = TestParty::new("Tier-2 Components", T0);
    let brands = [
        TestParty::new("Brand One", T0),
        TestParty::new("Brand Two", T0),
    ];

    let mut inbox = Inbox::default();
    for p in [&ca, &regional, &tier1, &tier2, &brands[0], &brands[1]] {
        inbox.log(p);
    }
    inbox
        .attestations
        .push(ca.accredit(regional.id(), false, T0).bytes().to_vec());
    inbox.attestations.push(
        regional
            .verify_identity(&tier2, AssuranceLevel::Substantial, T0.plus(DAY))
            .bytes()
            .to_vec(),
    );
    inbox
        .attestations
        .push(ca.revocation_list(vec![], T0.plus(DAY)).bytes().to_vec());
    inbox.attestations.push(
        regional
            .revocation_list(vec![], T0.plus(DAY))
            .bytes()
            .to_vec(),
    );

    // The supplier rotates its root key after being verified: the attestation still holds.
    let next = SecretKey::from_seed(&[77; 32]);
    tier2
        .log
        .rotate(&tier2.next_root, &next.public_key(), T0.plus(2 * DAY))
        .unwrap();
    inbox
        .logs
        .retain(|events| events[0] != tier2.log.event_bytes().next().unwrap());
    inbox.log(&tier2);

    for brand in &brands {
        let policy = TrustPolicy::with_anchors(vec![TrustAnchor {
            party: ca.id(),
            name: format!("{}'s CA", brand.label),
        }]);
        let verdict = evaluate(&policy, &inbox.store(), &tier2.id(), T0.plus(3 * DAY));
        let Verdict::Trusted {
            identity,
            path: TrustPath::Chain(links),
        } = verdict
        else {
            panic!("{} does not trust tier 2: {verdict:?}", brand.label);
        };
        assert_eq!(links.len(), 2);
        assert_eq!(links[0].issuer, ca.id());
        assert_eq!(links[1].issuer, regional.id());
        assert_eq!(identity.registration.as_ref(), Some(&tier2.registration));
    }
}

#[test]
fn a_tampered_attestation_never_reaches_the_store() {
    let mut ca = TestParty::new("National CA", T0);
    let supplier = TestParty::new("Supplier", T0);
    let good = ca
        .verify_identity(&supplier, AssuranceLevel::High, T0)
        .bytes()
        .to_vec();
    // Change the legal name's first byte: the signature no longer verifies.
    let name = supplier.label.as_bytes();
    let at = good.windows(name.len()).position(|w| w == name).unwrap();
    let mut bad = good.clone();
    bad[at] ^= 0x01;
    assert!(Attestation::decode(&bad).is_err());
    assert!(Attestation::decode(&good).is_ok());
}
