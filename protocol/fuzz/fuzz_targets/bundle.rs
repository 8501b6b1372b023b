//! Whole bundles through the offline verifier: any input yields a report, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use signet_protocol::Timestamp;
use signet_protocol::bundle::verify_bundle;
use signet_protocol::trust::TrustPolicy;

fuzz_target!(|data: &[u8]| {
    let policy = TrustPolicy::with_anchors(vec![]);
    let report = verify_bundle(data, &[], &policy, Timestamp::from_unix(1_800_000_000));
    assert!(!report.is_valid() || !report.checks.is_empty());
});
