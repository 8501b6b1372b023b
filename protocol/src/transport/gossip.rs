//! Gossip payloads (spec §12.7).
//!
//! `signet/attestations/1` carries the bytes of one signed attestation as they are.
//! `signet/keylogs/1` carries a party's whole key event log as a sequence of frames, one per
//! event in log order: a u32 big-endian length, then that many bytes (the event's signed
//! bytes). A payload with no frame, a truncated frame or bytes after the last frame is
//! malformed.
//!
//! ```
//! use signet_protocol::transport::gossip::{decode_key_log, encode_key_log};
//!
//! let payload = encode_key_log(&[b"first".to_vec(), b"second".to_vec()])?;
//! assert_eq!(&payload[..4], &[0, 0, 0, 5]);
//! assert_eq!(decode_key_log(&payload)?, vec![&b"first"[..], &b"second"[..]]);
//! assert!(decode_key_log(&payload[..payload.len() - 1]).is_err());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use super::FrameError;

/// The topic of attestations.
pub const ATTESTATIONS_TOPIC: &str = "signet/attestations/1";
/// The topic of key event logs.
pub const KEY_LOGS_TOPIC: &str = "signet/keylogs/1";
/// The largest gossip payload, in bytes (256 KiB).
pub const MAX_PAYLOAD: usize = 256 * 1024;

/// The `signet/keylogs/1` payload of a log's events (their signed bytes, in order). Refuses
/// a payload over [`MAX_PAYLOAD`], and an empty log.
pub fn encode_key_log<E: AsRef<[u8]>>(events: &[E]) -> Result<Vec<u8>, FrameError> {
    if events.is_empty() {
        return Err(FrameError::NoFrame);
    }
    let len: usize = events.iter().map(|e| 4 + e.as_ref().len()).sum();
    if len > MAX_PAYLOAD {
        return Err(FrameError::TooLarge {
            len,
            max: MAX_PAYLOAD,
        });
    }
    let mut out = Vec::with_capacity(len);
    for event in events {
        let event = event.as_ref();
        // Below MAX_PAYLOAD, checked above, so it fits a u32.
        let frame_len = u32::try_from(event.len()).map_err(|_| FrameError::TooLarge {
            len,
            max: MAX_PAYLOAD,
        })?;
        out.extend_from_slice(&frame_len.to_be_bytes());
        out.extend_from_slice(event);
    }
    Ok(out)
}

/// The events of a `signet/keylogs/1` payload, each as its framed bytes (not yet checked:
/// replay the log, section 4.4).
pub fn decode_key_log(payload: &[u8]) -> Result<Vec<&[u8]>, FrameError> {
    if payload.len() > MAX_PAYLOAD {
        return Err(FrameError::TooLarge {
            len: payload.len(),
            max: MAX_PAYLOAD,
        });
    }
    let mut events = Vec::new();
    let mut offset = 0;
    while offset < payload.len() {
        let truncated = FrameError::Truncated { offset };
        let header = payload.get(offset..offset + 4).ok_or(truncated.clone())?;
        let len = u32::from_be_bytes([header[0], header[1], header[2], header[3]]) as usize;
        let start = offset + 4;
        let event = payload
            .get(start..start.saturating_add(len))
            .ok_or(truncated)?;
        events.push(event);
        offset = start + len;
    }
    if events.is_empty() {
        return Err(FrameError::NoFrame);
    }
    Ok(events)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn key_log_payloads_round_trip_and_garbage_is_refused() {
        let events = vec![vec![1, 2, 3], vec![4], vec![]];
        let payload = encode_key_log(&events).unwrap();
        assert_eq!(
            decode_key_log(&payload).unwrap(),
            events.iter().map(Vec::as_slice).collect::<Vec<_>>()
        );
        assert_eq!(decode_key_log(&[]), Err(FrameError::NoFrame));
        assert_eq!(
            decode_key_log(&[0, 0, 0, 9, 1]),
            Err(FrameError::Truncated { offset: 0 })
        );
        let mut trailing = payload.clone();
        trailing.extend_from_slice(&[0, 0]);
        assert_eq!(
            decode_key_log(&trailing),
            Err(FrameError::Truncated {
                offset: payload.len()
            })
        );
        assert_eq!(encode_key_log::<Vec<u8>>(&[]), Err(FrameError::NoFrame));
        assert!(matches!(
            encode_key_log(&[vec![0u8; MAX_PAYLOAD]]),
            Err(FrameError::TooLarge { .. })
        ));
        // A length near u32::MAX does not overflow.
        assert!(decode_key_log(&[0xff, 0xff, 0xff, 0xff, 1]).is_err());
    }

    proptest! {
        #[test]
        fn decoding_is_total_and_canonical(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            if let Ok(events) = decode_key_log(&bytes) {
                prop_assert_eq!(encode_key_log(&events).unwrap(), bytes);
            }
        }
    }
}
