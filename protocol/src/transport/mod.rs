//! Byte layouts of the transport bindings (spec §9.3, §10.5.4, §12), without the transport.
//!
//! The node carries these bytes over libp2p; this module only says what they are. Each
//! layout has the one codec shape of the crate: `encode`, and `decode` that takes any bytes
//! from the network, refuses trailing bytes and never panics.
//!
//! - [`msg`]: `/signet/msg/1`: which requests are session messages and which are witness
//!   messages, and the one-byte-status responses (accepted, refused with a wire code).
//! - [`doc`]: `/signet/doc/1`: chunk requests and responses of document transfer.
//! - [`gossip`]: the `signet/keylogs/1` payload framing (the attestation topic carries a
//!   signed attestation as it is).
//! - [`witness`]: the witness protocol: cosign requests and the witness's answers, in
//!   deterministic CBOR, and [`witness::answer`], what a witness answers to a request.
//! - [`tsa`]: `/signet/tsa/1`: RFC 3161 time-stamp requests to a witness and its answers
//!   (DER, whose shape and caps this module checks).
//!
//! Sizes are protocol constants here; the node applies them when it reads a stream.

pub mod doc;
pub mod gossip;
pub mod msg;
pub mod tsa;
pub mod witness;

use crate::error::{ErrorCode, WireError};

/// Why bytes are not a valid frame of a transport layout (spec §9.3, §12). Every variant is
/// the sender's fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// No bytes at all.
    #[error("empty frame")]
    Empty,
    /// The first byte is not a status the layout defines.
    #[error("unknown status byte {0:#04x}")]
    UnknownStatus(u8),
    /// The frame's length is not the one its status requires.
    #[error("a frame of {len} bytes has the wrong length for its status")]
    Length {
        /// The frame's length.
        len: usize,
    },
    /// The bytes end inside a length prefix or a framed item.
    #[error("truncated at byte {offset}")]
    Truncated {
        /// Where the incomplete item starts.
        offset: usize,
    },
    /// A payload with no frame, where at least one is required.
    #[error("no frame")]
    NoFrame,
    /// Larger than the layout's cap.
    #[error("{len} bytes exceed the limit of {max}")]
    TooLarge {
        /// The length.
        len: usize,
        /// The cap.
        max: usize,
    },
}

impl WireError for FrameError {
    fn code(&self) -> ErrorCode {
        match self {
            Self::TooLarge { .. } => ErrorCode::TooLarge,
            _ => ErrorCode::Malformed,
        }
    }
}

/// Reads the u64 big-endian wire error code that follows a refusal status byte.
fn refusal_code(bytes: &[u8], len: usize) -> Result<ErrorCode, FrameError> {
    let code: [u8; 8] = bytes.try_into().map_err(|_| FrameError::Length { len })?;
    Ok(ErrorCode::from_code(u64::from_be_bytes(code)))
}

/// `status ‖ code` (u64 big-endian).
fn refusal_bytes(status: u8, code: ErrorCode) -> Vec<u8> {
    let mut out = Vec::with_capacity(9);
    out.push(status);
    out.extend_from_slice(&code.code().to_be_bytes());
    out
}
