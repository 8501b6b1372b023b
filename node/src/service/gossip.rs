//! Gossip of public trust data: key event logs and attestations.
//!
//! A node publishes its own key event log on `signet/keylogs/1` and the attestations it
//! issued on `signet/attestations/1`, when they change and every [`REPUBLISH`] (so peers that
//! joined later, or that saw an attestation before its issuer's key log, catch up). The
//! network's validator checks each message on its own (a key log replays; an attestation's
//! COSE signature verifies) before it is forwarded; the node then imports it, which checks
//! it against what it knows (an attestation's issuer must be a known key log's attest key).
//!
//! A key log message is its events as length-prefixed frames (u32 big-endian length, then
//! the event's signed bytes; `signet_protocol::transport::gossip`, spec §12.7); an
//! attestation message is its signed bytes.

use std::time::Duration;

use signet_protocol::attestation::Attestation;
use signet_protocol::keylog::KeyLog;
use signet_protocol::transport::FrameError;
use signet_protocol::transport::gossip as payload;

use crate::net::{Topic, Validation};

/// How often a node republishes its public data even when unchanged.
pub const REPUBLISH: Duration = Duration::from_secs(5);

/// Encodes key log events as one gossip message; refused over the gossip cap.
pub fn encode_key_log(events: &[Vec<u8>]) -> Result<Vec<u8>, FrameError> {
    payload::encode_key_log(events)
}

/// Decodes a key log message into its events.
pub fn decode_key_log(data: &[u8]) -> Option<Vec<Vec<u8>>> {
    payload::decode_key_log(data)
        .ok()
        .map(|events| events.into_iter().map(<[u8]>::to_vec).collect())
}

/// The network's verdict on a gossip message: well-formed and self-consistent, or rejected.
pub fn validate(topic: Topic, data: &[u8]) -> Validation {
    let ok = match topic {
        Topic::Attestations => Attestation::decode(data).is_ok(),
        Topic::KeyLogs => decode_key_log(data)
            .is_some_and(|events| KeyLog::replay(events.iter().map(Vec::as_slice)).is_ok()),
    };
    if ok {
        Validation::Accept
    } else {
        tracing::warn!(topic = topic.name(), "invalid gossip message rejected");
        Validation::Reject
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_log_messages_round_trip_and_garbage_is_rejected() {
        let events = vec![vec![1, 2, 3], vec![4]];
        assert_eq!(
            decode_key_log(&encode_key_log(&events).unwrap()),
            Some(events)
        );
        assert_eq!(decode_key_log(&[0, 0, 0, 9, 1]), None);
        assert_eq!(validate(Topic::KeyLogs, b"junk"), Validation::Reject);
        assert_eq!(validate(Topic::Attestations, b"junk"), Validation::Reject);
    }
}
