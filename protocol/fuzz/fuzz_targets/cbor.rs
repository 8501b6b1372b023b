//! The deterministic-CBOR checker and decoder: never panic; what is accepted re-encodes
//! to the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use signet_protocol::codec::{self, Limits};

fuzz_target!(|data: &[u8]| {
    if let Ok(value) = codec::decode::<ciborium::Value>(data, &Limits::DEFAULT) {
        let again = codec::encode(&value).expect("a decoded value re-encodes");
        assert_eq!(
            again, data,
            "accepted bytes must be the only encoding of their value"
        );
    }
});
