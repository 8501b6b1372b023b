//! `/signet/tsa/1`: RFC 3161 time-stamping by a witness (spec §12.14).
//!
//! A request is one DER `TimeStampReq` (at most [`MAX_REQUEST`] bytes), a response one DER
//! `TimeStampResp` (at most [`MAX_RESPONSE`]); the stream ends where the DER ends. Any
//! authenticated node may ask. The node's [`TimeStampAuthority`] answers (off the network
//! task); a node without one, and any peer that is no authorised node, gets a `rejection`
//! (`unacceptedPolicy`), never silence. Inbound requests awaiting their answer are bounded
//! by [`super::Config::max_in_flight`], like document chunks; outbound ones count against the
//! same global and per-peer limits as every other request.

use std::io;

use futures::{AsyncRead, AsyncWrite, AsyncWriteExt};
use libp2p::StreamProtocol;
use signet_protocol::party::PartyId;
pub use signet_protocol::transport::tsa::{MAX_REQUEST, MAX_RESPONSE};
use signet_protocol::transport::tsa::{check_request, check_response};

use super::codec_util::{malformed, read_capped};
use crate::pdf::tsa::{Failure, rejection_response};

/// The protocol id.
pub const PROTOCOL: StreamProtocol =
    StreamProtocol::new(signet_protocol::transport::tsa::PROTOCOL_ID);

/// Answers time-stamp requests; supplied by the node (a witness signs with its TSA key).
pub trait TimeStampAuthority: Send + Sync + 'static {
    /// The DER `TimeStampResp` for `request` (a DER `TimeStampReq` of the right shape) from
    /// an authenticated node of `party`. Blocking: it runs off the network task.
    fn answer(&self, party: &PartyId, request: &[u8]) -> Vec<u8>;
}

impl<F> TimeStampAuthority for F
where
    F: Fn(&PartyId, &[u8]) -> Vec<u8> + Send + Sync + 'static,
{
    fn answer(&self, party: &PartyId, request: &[u8]) -> Vec<u8> {
        self(party, request)
    }
}

/// A rejection for a request this node will not time-stamp (`reason` says why); an empty
/// response if even that cannot be encoded (then the requester sees a malformed answer).
pub(crate) fn refusal(failure: Failure, reason: &str) -> Vec<u8> {
    rejection_response(failure, reason).unwrap_or_default()
}

/// The request-response codec of `/signet/tsa/1`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Codec;

impl libp2p::request_response::Codec for Codec {
    type Protocol = StreamProtocol;
    type Request = Vec<u8>;
    type Response = Vec<u8>;

    async fn read_request<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Vec<u8>>
    where
        T: AsyncRead + Unpin + Send,
    {
        let bytes = read_capped(io, MAX_REQUEST).await?;
        check_request(&bytes).map_err(|_| malformed("time-stamp request"))?;
        Ok(bytes)
    }

    async fn read_response<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Vec<u8>>
    where
        T: AsyncRead + Unpin + Send,
    {
        let bytes = read_capped(io, MAX_RESPONSE).await?;
        check_response(&bytes).map_err(|_| malformed("time-stamp response"))?;
        Ok(bytes)
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
        response: Vec<u8>,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        io.write_all(&response).await
    }
}

/// The behaviour of `/signet/tsa/1`.
pub type Behaviour = libp2p::request_response::Behaviour<Codec>;
