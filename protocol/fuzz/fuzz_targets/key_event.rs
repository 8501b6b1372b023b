//! Signed key events.
#![no_main]

use libfuzzer_sys::fuzz_target;
use signet_protocol::codec::Limits;
use signet_protocol::cose::Signed;
use signet_protocol::keylog::{KEY_EVENT_CONTENT_TYPE, KeyEvent};

fuzz_target!(|data: &[u8]| {
    let _ = Signed::<KeyEvent>::decode(data, KEY_EVENT_CONTENT_TYPE, &Limits::DEFAULT);
});
