//! Signed attestations.
#![no_main]

use libfuzzer_sys::fuzz_target;
use signet_protocol::attestation::Attestation;

fuzz_target!(|data: &[u8]| {
    let _ = Attestation::decode(data);
});
