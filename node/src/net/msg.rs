//! `/signet/msg/1`: one Signet session message per request, acknowledged or refused.
//!
//! A request is exactly the bytes of a `Signed<SessionMessage>` (no further framing: the
//! stream ends where the message ends), at most [`MAX_REQUEST`] bytes. The response is one
//! byte `0x00` (accepted), or `0x01` followed by a wire error code as a big-endian `u64`
//! (refused: `signet_protocol::error::ErrorCode`). Anything longer than [`MAX_RESPONSE`] is
//! refused while reading.

use std::io;

use futures::{AsyncRead, AsyncWrite, AsyncWriteExt};
use libp2p::StreamProtocol;
use signet_protocol::error::ErrorCode;

use super::codec_util::{malformed, read_capped};

/// The protocol id.
pub const PROTOCOL: StreamProtocol = StreamProtocol::new("/signet/msg/1");
/// The largest request (a signed session message), in bytes.
pub const MAX_REQUEST: usize = 1024 * 1024;
/// The largest response, in bytes.
pub const MAX_RESPONSE: usize = 1024 * 1024;

/// The receiver's answer to a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Response {
    /// The receiver took the message (it is stored; a duplicate is accepted too).
    Accepted,
    /// The receiver refused the message, for this reason.
    Refused(ErrorCode),
}

impl Response {
    /// The wire form.
    pub fn encode(&self) -> Vec<u8> {
        match self {
            Self::Accepted => vec![0],
            Self::Refused(code) => {
                let mut out = vec![1];
                out.extend_from_slice(&code.code().to_be_bytes());
                out
            }
        }
    }

    /// Parses the wire form, refusing anything else.
    pub fn decode(bytes: &[u8]) -> Option<Self> {
        match bytes {
            [0] => Some(Self::Accepted),
            [1, code @ ..] => Some(Self::Refused(ErrorCode::from_code(u64::from_be_bytes(
                code.try_into().ok()?,
            )))),
            _ => None,
        }
    }
}

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
        Response::decode(&bytes).ok_or_else(|| malformed("message response"))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn responses_round_trip_and_junk_is_refused() {
        for r in [
            Response::Accepted,
            Response::Refused(ErrorCode::BadSignature),
            Response::Refused(ErrorCode::Unknown(9999)),
        ] {
            assert_eq!(Response::decode(&r.encode()), Some(r));
        }
        assert_eq!(Response::decode(&[]), None);
        assert_eq!(Response::decode(&[0, 0]), None);
        assert_eq!(Response::decode(&[1, 0, 0]), None);
        assert_eq!(Response::decode(&[2]), None);
    }
}
