//! Signed session messages (every kind, with their nested objects' bytes).
#![no_main]

use libfuzzer_sys::fuzz_target;
use signet_protocol::codec::Limits;
use signet_protocol::cose::Signed;
use signet_protocol::session::{SESSION_MESSAGE_CONTENT_TYPE, SessionMessage};

fuzz_target!(|data: &[u8]| {
    let _ = Signed::<SessionMessage>::decode(data, SESSION_MESSAGE_CONTENT_TYPE, &Limits::DEFAULT);
});
