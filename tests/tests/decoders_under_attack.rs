//! Every decoder of outside input refuses garbage and mutations with an error, never a panic
//! (the same inputs as the fuzz targets in `protocol/fuzz`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use proptest::prelude::*;
use signet_protocol::Timestamp;
use signet_protocol::attestation::{AssuranceLevel, Attestation};
use signet_protocol::bundle::verify_bundle;
use signet_protocol::codec::{self, Limits};
use signet_protocol::cose::Signed;
use signet_protocol::keylog::KeyLog;
use signet_protocol::party::PartyId;
use signet_protocol::session::{SESSION_MESSAGE_CONTENT_TYPE, SessionMessage};
use signet_protocol::testkit::TestParty;
use signet_protocol::trust::TrustPolicy;

fn valid_objects() -> Vec<Vec<u8>> {
    let t0 = Timestamp::from_unix(1_800_000_000);
    let mut ca = TestParty::new("CA", t0);
    let supplier = TestParty::new("Supplier", t0);
    let mut objects: Vec<Vec<u8>> = supplier.log.event_bytes().map(<[u8]>::to_vec).collect();
    objects.push(
        ca.verify_identity(&supplier, AssuranceLevel::High, t0)
            .bytes()
            .to_vec(),
    );
    objects.push(ca.revocation_list(vec![], t0).bytes().to_vec());
    objects
}

fn feed(bytes: &[u8]) {
    let _ = Signed::<SessionMessage>::decode(bytes, SESSION_MESSAGE_CONTENT_TYPE, &Limits::DEFAULT);
    let report = verify_bundle(
        bytes,
        &[],
        &TrustPolicy::with_anchors(vec![]),
        Timestamp::from_unix(1_800_000_000),
    );
    assert!(!report.is_valid());
    let _ = codec::decode::<ciborium_free::Any>(bytes, &Limits::DEFAULT);
    let _ = Attestation::decode(bytes);
    let _ = KeyLog::replay([bytes]);
    if let Ok(text) = std::str::from_utf8(bytes) {
        let _ = text.parse::<PartyId>();
    }
}

/// A serde type that accepts any CBOR item, without naming the CBOR crate.
mod ciborium_free {
    #[derive(Debug)]
    pub(crate) struct Any;
    impl<'de> serde::Deserialize<'de> for Any {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            serde::de::IgnoredAny::deserialize(d).map(|_| Any)
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_bytes_are_refused_without_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        feed(&bytes);
    }

    #[test]
    fn mutated_objects_are_refused(which in 0usize..3, edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4)) {
        let objects = valid_objects();
        let mut bytes = objects[which % objects.len()].clone();
        for (pos, value) in &edits {
            let i = pos.index(bytes.len());
            bytes[i] = *value;
        }
        prop_assume!(bytes != objects[which % objects.len()]);
        feed(&bytes);
        prop_assert!(Attestation::decode(&bytes).is_err());
        prop_assert!(KeyLog::replay([&bytes]).is_err());
    }

    #[test]
    fn truncations_are_refused(which in 0usize..3, cut in any::<prop::sample::Index>()) {
        let objects = valid_objects();
        let full = &objects[which % objects.len()];
        let bytes = &full[..cut.index(full.len())];
        prop_assert!(Attestation::decode(bytes).is_err());
        prop_assert!(KeyLog::replay([bytes]).is_err());
    }
}
