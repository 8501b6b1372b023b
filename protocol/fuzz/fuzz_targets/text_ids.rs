//! Text forms: party ids, attestation ids, registration numbers.
#![no_main]

use libfuzzer_sys::fuzz_target;
use signet_protocol::party::{AttestationId, PartyId};
use signet_protocol::registration::Registration;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(id) = text.parse::<PartyId>() {
            assert_eq!(id.to_string().parse::<PartyId>().ok(), Some(id));
        }
        let _ = text.parse::<AttestationId>();
        let _ = Registration::uscc(text);
    }
});
