//! `/signet/doc/1`: fetching a session's document from its holder, one chunk per request.
//!
//! Documents never travel through gossip or third parties: a participant fetches them
//! directly from the initiator's node, chunk by chunk, and checks the whole document against
//! the digest the signed proposal names. The holder serves a chunk only to a peer that is an
//! authenticated node of a party the node's access hook allows for that session and
//! document; everyone else gets "not found", which reveals nothing.
//!
//! Request (68 bytes): session id (32) ‖ document digest (32) ‖ chunk index (`u32`, big-endian).
//! Response: `0x00` ‖ document length (`u64`) ‖ chunk bytes (at most
//! [`crate::store::CHUNK_SIZE`]); or `0x01` ‖ error code (`u64`); or `0x02` (not found).

use std::io;

use futures::{AsyncRead, AsyncWrite, AsyncWriteExt};
use libp2p::StreamProtocol;
use signet_protocol::Digest;
use signet_protocol::error::ErrorCode;
use signet_protocol::party::PartyId;
use signet_protocol::session::SessionId;

use super::codec_util::{malformed, read_capped};
use crate::store::{CHUNK_SIZE, Store, read_chunk};

/// The protocol id.
pub const PROTOCOL: StreamProtocol = StreamProtocol::new("/signet/doc/1");
/// The size of a request, in bytes.
pub const REQUEST_LEN: usize = 32 + 32 + 4;
/// The largest response: a chunk and its header.
pub const MAX_RESPONSE: usize = CHUNK_SIZE + 9;

/// A request for one chunk of a session's document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request {
    /// The session the document belongs to.
    pub session: SessionId,
    /// The document's SHA-256.
    pub document: Digest,
    /// The chunk's index.
    pub index: u32,
}

impl Request {
    /// The wire form.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(REQUEST_LEN);
        out.extend_from_slice(self.session.as_bytes());
        out.extend_from_slice(self.document.as_bytes());
        out.extend_from_slice(&self.index.to_be_bytes());
        out
    }

    /// Parses the wire form, refusing anything else.
    pub fn decode(bytes: &[u8]) -> Option<Self> {
        if bytes.len() != REQUEST_LEN {
            return None;
        }
        Some(Self {
            session: SessionId::from_bytes(bytes[..32].try_into().ok()?),
            document: Digest::from_slice(&bytes[32..64]).ok()?,
            index: u32::from_be_bytes(bytes[64..].try_into().ok()?),
        })
    }
}

/// The holder's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response {
    /// The chunk, and the whole document's length (so the fetcher knows how many follow).
    Chunk {
        /// The document's length in bytes.
        document_len: u64,
        /// The chunk's bytes.
        bytes: Vec<u8>,
    },
    /// Refused, for this reason.
    Refused(ErrorCode),
    /// No such document or chunk, or not for this peer.
    NotFound,
}

impl Response {
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
            Self::Refused(code) => {
                let mut out = vec![1];
                out.extend_from_slice(&code.code().to_be_bytes());
                out
            }
            Self::NotFound => vec![2],
        }
    }

    /// Parses the wire form, refusing anything else.
    pub fn decode(bytes: &[u8]) -> Option<Self> {
        match bytes {
            [0, rest @ ..] if rest.len() >= 8 && rest.len() - 8 <= CHUNK_SIZE => {
                Some(Self::Chunk {
                    document_len: u64::from_be_bytes(rest[..8].try_into().ok()?),
                    bytes: rest[8..].to_vec(),
                })
            }
            [1, code @ ..] => Some(Self::Refused(ErrorCode::from_code(u64::from_be_bytes(
                code.try_into().ok()?,
            )))),
            [2] => Some(Self::NotFound),
            _ => None,
        }
    }
}

/// The request-response codec of `/signet/doc/1`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Codec;

impl libp2p::request_response::Codec for Codec {
    type Protocol = StreamProtocol;
    type Request = Request;
    type Response = Response;

    async fn read_request<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Request>
    where
        T: AsyncRead + Unpin + Send,
    {
        let bytes = read_capped(io, REQUEST_LEN).await?;
        Request::decode(&bytes).ok_or_else(|| malformed("chunk request"))
    }

    async fn read_response<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Response>
    where
        T: AsyncRead + Unpin + Send,
    {
        let bytes = read_capped(io, MAX_RESPONSE).await?;
        Response::decode(&bytes).ok_or_else(|| malformed("chunk response"))
    }

    async fn write_request<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        request: Request,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        io.write_all(&request.encode()).await
    }

    async fn write_response<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        response: Response,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        io.write_all(&response.encode()).await
    }
}

/// The behaviour of `/signet/doc/1`.
pub type Behaviour = libp2p::request_response::Behaviour<Codec>;

/// Decides which party may fetch which document; supplied by the node (typically: the party
/// is a participant of the session, and the document is that session's).
pub trait DocumentAccess: Send + Sync + 'static {
    /// Whether `party` may fetch `document` for `session`.
    fn may_fetch(&self, party: &PartyId, session: &SessionId, document: &Digest) -> bool;
}

impl<F> DocumentAccess for F
where
    F: Fn(&PartyId, &SessionId, &Digest) -> bool + Send + Sync + 'static,
{
    fn may_fetch(&self, party: &PartyId, session: &SessionId, document: &Digest) -> bool {
        self(party, session, document)
    }
}

/// Answers a chunk request from the store (blocking: run it off the network task).
pub(crate) fn serve(store: &dyn Store, request: &Request) -> Response {
    let manifest = match store.manifest(&request.document) {
        Ok(Some(m)) => m,
        Ok(None) => return Response::NotFound,
        Err(error) => {
            tracing::warn!(%error, "reading a manifest failed");
            return Response::NotFound;
        }
    };
    if manifest.is_empty() && request.index == 0 {
        return Response::Chunk {
            document_len: 0,
            bytes: Vec::new(),
        };
    }
    match read_chunk(store, &request.document, &manifest, request.index as usize) {
        Ok(Some(bytes)) => Response::Chunk {
            document_len: manifest.len(),
            bytes,
        },
        Ok(None) => Response::NotFound,
        Err(error) => {
            tracing::error!(%error, document = %request.document, "serving a chunk failed");
            Response::NotFound
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_and_responses_round_trip() {
        let r = Request {
            session: SessionId::from_bytes([1; 32]),
            document: Digest::of(b"d"),
            index: 7,
        };
        assert_eq!(Request::decode(&r.encode()), Some(r));
        assert_eq!(Request::decode(&r.encode()[1..]), None);
        for resp in [
            Response::Chunk {
                document_len: 10,
                bytes: vec![1, 2, 3],
            },
            Response::Refused(ErrorCode::UnauthenticatedPeer),
            Response::NotFound,
        ] {
            assert_eq!(Response::decode(&resp.encode()), Some(resp));
        }
        let mut too_big = vec![0u8; 9 + CHUNK_SIZE + 1];
        too_big[0] = 0;
        assert_eq!(Response::decode(&too_big), None);
        assert_eq!(Response::decode(&[3]), None);
    }
}
