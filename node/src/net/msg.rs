//! `/signet/msg/1`: one request per stream, acknowledged or refused.
//!
//! A request is exactly the bytes of a `Signed<SessionMessage>` or of a witness message (no
//! further framing: the stream ends where the request ends), at most [`MAX_REQUEST`] bytes;
//! `signet_protocol::transport::msg::RequestKind` tells them apart. The response is one byte
//! `0x00` (accepted), or `0x01` followed by a wire error code as a big-endian `u64`
//! (refused): [`Response`], whose bytes the protocol crate defines. Anything longer than
//! [`MAX_RESPONSE`] is refused while reading.

use std::io;

use futures::{AsyncRead, AsyncWrite, AsyncWriteExt};
use libp2p::StreamProtocol;
pub use signet_protocol::transport::msg::Response;

use super::codec_util::{malformed, read_capped};

/// The protocol id.
pub const PROTOCOL: StreamProtocol =
    StreamProtocol::new(signet_protocol::transport::msg::PROTOCOL_ID);
/// The largest request (a signed session message or a witness message), in bytes.
pub const MAX_REQUEST: usize = signet_protocol::transport::msg::MAX_REQUEST;
/// The most response bytes read (a valid one has at most 9; more is read and refused).
pub const MAX_RESPONSE: usize = 1024 * 1024;

/// The request-response codec of `/signet/msg/1`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Codec;

impl libp2p::request_response::Codec for Codec {
    type Protocol = StreamProtocol;
    type Request = Vec<u8>;
    type Response = Response;

    async fn read_request<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Vec<u8>>
    where
        T: AsyncRead + Unpin + Send,
    {
        read_capped(io, MAX_REQUEST).await
    }

    async fn read_response<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Response>
    where
        T: AsyncRead + Unpin + Send,
    {
        let bytes = read_capped(io, MAX_RESPONSE).await?;
        Response::decode(&bytes).map_err(|_| malformed("message response"))
    }

    async fn write_request<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        request: Vec<u8>,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        io.write_all(&request).await
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

/// The behaviour of `/signet/msg/1`.
pub type Behaviour = libp2p::request_response::Behaviour<Codec>;
