//! `/signet/doc/1` (spec §9.3): one chunk of a session's document per request.
//!
//! Request: exactly 68 bytes, session id (32) ‖ document digest (32) ‖ chunk index (u32
//! big-endian). Response: `0x00` ‖ document length (u64 big-endian) ‖ the chunk's bytes (at
//! most [`CHUNK_SIZE`]); `0x01` ‖ wire error code (u64 big-endian); or `0x02` (not found).
//!
//! ```
//! use signet_protocol::Digest;
//! use signet_protocol::session::SessionId;
//! use signet_protocol::transport::doc::{ChunkRequest, ChunkResponse};
//!
//! let request = ChunkRequest {
//!     session: SessionId::from_bytes([1; 32]),
//!     document: Digest::of(b"contract"),
//!     index: 2,
//! };
//! let bytes = request.encode();
//! assert_eq!(bytes.len(), 68);
//! assert_eq!(ChunkRequest::decode(&bytes)?, request);
//! assert_eq!(ChunkResponse::decode(&[2])?, ChunkResponse::NotFound);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use super::{FrameError, refusal_bytes, refusal_code};
use crate::Digest;
use crate::error::ErrorCode;
use crate::session::SessionId;

/// The protocol id.
pub const PROTOCOL_ID: &str = "/signet/doc/1";
/// The size of every chunk but a document's last (256 KiB).
pub const CHUNK_SIZE: usize = 256 * 1024;
/// The size of a request, in bytes.
pub const REQUEST_LEN: usize = 32 + 32 + 4;
/// The largest response: a full chunk and its 9-byte header.
pub const MAX_RESPONSE: usize = CHUNK_SIZE + 9;

/// A request for one chunk of a session's document (spec §9.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkRequest {
    /// The session the document belongs to.
    pub session: SessionId,
    /// The document's SHA-256.
    pub document: Digest,
    /// The chunk's index, from 0.
    pub index: u32,
}

impl ChunkRequest {
    /// The wire form: 68 bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(REQUEST_LEN);
        out.extend_from_slice(self.session.as_bytes());
        out.extend_from_slice(self.document.as_bytes());
        out.extend_from_slice(&self.index.to_be_bytes());
        out
    }

    /// Parses exactly [`REQUEST_LEN`] bytes.
    pub fn decode(bytes: &[u8]) -> Result<Self, FrameError> {
        let bytes: &[u8; REQUEST_LEN] = bytes
            .try_into()
            .map_err(|_| FrameError::Length { len: bytes.len() })?;
        let (session, rest) = bytes.split_at(32);
        let (document, index) = rest.split_at(32);
        let mut s = [0u8; 32];
        s.copy_from_slice(session);
        let mut d = [0u8; 32];
        d.copy_from_slice(document);
        let mut i = [0u8; 4];
        i.copy_from_slice(index);
        Ok(Self {
            session: SessionId::from_bytes(s),
            document: Digest::from_bytes(d),
            index: u32::from_be_bytes(i),
        })
    }
}

/// The holder's answer to a chunk request (spec §9.3.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChunkResponse {
    /// `0x00`: the chunk, and the whole document's length (so the fetcher knows how many
    /// chunks follow).
    Chunk {
        /// The document's length in bytes.
        document_len: u64,
        /// The chunk's bytes, at most [`CHUNK_SIZE`].
        bytes: Vec<u8>,
    },
    /// `0x01`: refused, for this reason.
    Refused(ErrorCode),
    /// `0x02`: no such document or chunk, or not for this peer.
    NotFound,
}

impl ChunkResponse {
    /// The wire form.
    pub fn encode(&self) -> Vec<u8> {
        match self {
            Self::Chunk {
                document_len,
                bytes,
            } => {
                let mut out = Vec::with_capacity(9 + bytes.len());
                out.push(0);
                out.extend_from_slice(&document_len.to_be_bytes());
                out.extend_from_slice(bytes);
                out
            }
            Self::Refused(code) => refusal_bytes(1, *code),
            Self::NotFound => vec![2],
        }
    }

    /// Parses a response; any other bytes are no answer (spec §12.4). Whether a chunk has
    /// the length its index and the document's length imply is the fetcher's check.
    pub fn decode(bytes: &[u8]) -> Result<Self, FrameError> {
        if bytes.len() > MAX_RESPONSE {
            return Err(FrameError::TooLarge {
                len: bytes.len(),
                max: MAX_RESPONSE,
            });
        }
        match bytes {
            [] => Err(FrameError::Empty),
            [0, rest @ ..] => {
                let (len, chunk) = rest
                    .split_first_chunk::<8>()
                    .ok_or(FrameError::Length { len: bytes.len() })?;
                Ok(Self::Chunk {
                    document_len: u64::from_be_bytes(*len),
                    bytes: chunk.to_vec(),
                })
            }
            [1, code @ ..] => Ok(Self::Refused(refusal_code(code, bytes.len())?)),
            [2] => Ok(Self::NotFound),
            [2, ..] => Err(FrameError::Length { len: bytes.len() }),
            [status, ..] => Err(FrameError::UnknownStatus(*status)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn requests_and_responses_round_trip() {
        let r = ChunkRequest {
            session: SessionId::from_bytes([1; 32]),
            document: Digest::of(b"d"),
            index: 7,
        };
        assert_eq!(ChunkRequest::decode(&r.encode()), Ok(r));
        assert_eq!(
            ChunkRequest::decode(&r.encode()[1..]),
            Err(FrameError::Length { len: 67 })
        );
        for resp in [
            ChunkResponse::Chunk {
                document_len: 10,
                bytes: vec![1, 2, 3],
            },
            ChunkResponse::Chunk {
                document_len: 0,
                bytes: vec![],
            },
            ChunkResponse::Refused(ErrorCode::UnauthenticatedPeer),
            ChunkResponse::NotFound,
        ] {
            assert_eq!(ChunkResponse::decode(&resp.encode()), Ok(resp));
        }
        let too_big = vec![0u8; MAX_RESPONSE + 1];
        assert!(matches!(
            ChunkResponse::decode(&too_big),
            Err(FrameError::TooLarge { .. })
        ));
        assert_eq!(
            ChunkResponse::decode(&[3]),
            Err(FrameError::UnknownStatus(3))
        );
        assert_eq!(
            ChunkResponse::decode(&[0, 1]),
            Err(FrameError::Length { len: 2 })
        );
        assert_eq!(
            ChunkResponse::decode(&[2, 0]),
            Err(FrameError::Length { len: 2 })
        );
    }

    proptest! {
        #[test]
        fn decoding_is_total_and_canonical(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            if let Ok(r) = ChunkRequest::decode(&bytes) {
                prop_assert_eq!(r.encode(), bytes.clone());
            }
            if let Ok(r) = ChunkResponse::decode(&bytes) {
                prop_assert_eq!(r.encode(), bytes);
            }
        }

        #[test]
        fn values_round_trip(
            session in any::<[u8; 32]>(),
            document in any::<[u8; 32]>(),
            index in any::<u32>(),
            len in any::<u64>(),
            chunk in proptest::collection::vec(any::<u8>(), 0..512),
        ) {
            let q = ChunkRequest {
                session: SessionId::from_bytes(session),
                document: Digest::from_bytes(document),
                index,
            };
            prop_assert_eq!(ChunkRequest::decode(&q.encode()), Ok(q));
            let c = ChunkResponse::Chunk { document_len: len, bytes: chunk };
            prop_assert_eq!(ChunkResponse::decode(&c.encode()), Ok(c));
        }
    }
}
