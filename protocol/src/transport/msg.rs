//! `/signet/msg/1` (spec §12.5): requests and the response to each.
//!
//! A request is one of two things, told apart by its first byte: a signed session message (a
//! COSE_Sign1, CBOR tag 18, first byte `0xd2`; section 8.3) or a witness message (a
//! deterministic CBOR map, first byte `0xa0` to `0xbf`; section 10.5.4). Anything else is
//! handled as a session message, whose decoding then refuses it.
//!
//! The response is one status byte: `0x00` accepted, or `0x01` followed by a wire error
//! code as a u64 big-endian (refused).
//!
//! ```
//! use signet_protocol::error::ErrorCode;
//! use signet_protocol::transport::msg::Response;
//!
//! let refused = Response::Refused(ErrorCode::RetryLater);
//! assert_eq!(refused.encode(), [1, 0, 0, 0, 0, 0, 0, 0x02, 0x5e]);
//! assert_eq!(Response::decode(&[0])?, Response::Accepted);
//! assert!(Response::decode(&[0, 0]).is_err());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use super::{FrameError, refusal_bytes, refusal_code};
use crate::error::ErrorCode;

/// The protocol id.
pub const PROTOCOL_ID: &str = "/signet/msg/1";
/// The largest request, in bytes (a signed session message or a witness message).
pub const MAX_REQUEST: usize = 1024 * 1024;
/// The length of the longest valid response (a refusal).
pub const MAX_RESPONSE_LEN: usize = 9;

/// What a request on `/signet/msg/1` carries (spec §12.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestKind {
    /// A signed session message (section 8.3), or bytes that are to be refused as one.
    Session,
    /// A witness message (section 10.5.4).
    Witness,
}

impl RequestKind {
    /// The kind of the request `bytes`, from its first byte: a CBOR map head (major type 5)
    /// is a witness message; anything else goes to the session layer.
    pub fn of(bytes: &[u8]) -> Self {
        match bytes.first() {
            Some(0xa0..=0xbf) => Self::Witness,
            _ => Self::Session,
        }
    }
}

/// The receiver's answer to a request (spec §12.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Response {
    /// `0x00`: the receiver took the request and stored what it changed (a duplicate is
    /// accepted too).
    Accepted,
    /// `0x01` ‖ code: the receiver refused the request, for this reason.
    Refused(ErrorCode),
}

impl Response {
    /// The wire form: 1 or 9 bytes.
    pub fn encode(&self) -> Vec<u8> {
        match self {
            Self::Accepted => vec![0],
            Self::Refused(code) => refusal_bytes(1, *code),
        }
    }

    /// Parses a response; any other bytes are no answer (spec §12.4).
    pub fn decode(bytes: &[u8]) -> Result<Self, FrameError> {
        match bytes {
            [] => Err(FrameError::Empty),
            [0] => Ok(Self::Accepted),
            [0, ..] => Err(FrameError::Length { len: bytes.len() }),
            [1, code @ ..] => Ok(Self::Refused(refusal_code(code, bytes.len())?)),
            [status, ..] => Err(FrameError::UnknownStatus(*status)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn responses_round_trip_and_junk_is_refused() {
        for r in [
            Response::Accepted,
            Response::Refused(ErrorCode::BadSignature),
            Response::Refused(ErrorCode::Unknown(9999)),
        ] {
            assert_eq!(Response::decode(&r.encode()), Ok(r));
        }
        assert_eq!(Response::decode(&[]), Err(FrameError::Empty));
        assert_eq!(
            Response::decode(&[0, 0]),
            Err(FrameError::Length { len: 2 })
        );
        assert_eq!(
            Response::decode(&[1, 0, 0]),
            Err(FrameError::Length { len: 3 })
        );
        assert_eq!(Response::decode(&[2]), Err(FrameError::UnknownStatus(2)));
    }

    #[test]
    fn requests_are_told_apart_by_their_first_byte() {
        assert_eq!(RequestKind::of(&[0xd2, 0x84]), RequestKind::Session);
        assert_eq!(RequestKind::of(&[0xa3]), RequestKind::Witness);
        assert_eq!(RequestKind::of(&[0xbf]), RequestKind::Witness);
        assert_eq!(RequestKind::of(&[]), RequestKind::Session);
        assert_eq!(RequestKind::of(b"hello"), RequestKind::Session);
    }

    proptest! {
        #[test]
        fn decoding_is_total_and_canonical(bytes in proptest::collection::vec(any::<u8>(), 0..20)) {
            if let Ok(r) = Response::decode(&bytes) {
                prop_assert_eq!(r.encode(), bytes);
            }
        }

        #[test]
        fn every_code_round_trips(code in any::<u64>()) {
            let r = Response::Refused(ErrorCode::from_code(code));
            prop_assert_eq!(Response::decode(&r.encode()), Ok(r));
        }
    }
}
