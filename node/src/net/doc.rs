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
//! The bytes are `signet_protocol::transport::doc`'s; this module carries them.

use std::io;

use futures::{AsyncRead, AsyncWrite, AsyncWriteExt};
use libp2p::StreamProtocol;
use signet_protocol::Digest;
use signet_protocol::party::PartyId;
use signet_protocol::session::SessionId;
pub use signet_protocol::transport::doc::{
    ChunkRequest as Request, ChunkResponse as Response, MAX_RESPONSE, REQUEST_LEN,
};

use super::codec_util::{malformed, read_capped};
use crate::store::{Store, read_chunk};

/// The protocol id.
pub const PROTOCOL: StreamProtocol =
    StreamProtocol::new(signet_protocol::transport::doc::PROTOCOL_ID);

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
        Request::decode(&bytes).map_err(|_| malformed("chunk request"))
    }

    async fn read_response<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Response>
    where
        T: AsyncRead + Unpin + Send,
    {
        let bytes = read_capped(io, MAX_RESPONSE).await?;
        Response::decode(&bytes).map_err(|_| malformed("chunk response"))
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
