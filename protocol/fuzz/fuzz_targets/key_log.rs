//! Key event log replay over events split from the input at 0xFF 0xFE markers.
#![no_main]

use libfuzzer_sys::fuzz_target;
use signet_protocol::keylog::KeyLog;

fuzz_target!(|data: &[u8]| {
    let events: Vec<&[u8]> = data.split(|b| *b == 0xFE).collect();
    let _ = KeyLog::replay(events);
});
