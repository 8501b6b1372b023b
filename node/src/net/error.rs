//! Network errors.

use std::fmt;

use signet_protocol::error::ErrorCode;
use signet_protocol::party::PartyId;

use crate::store::StoreError;

/// A network operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NetError {
    /// The event loop has stopped.
    #[error("the network has stopped")]
    Stopped,
    /// Too many requests are in flight; try again later.
    #[error("too many requests in flight")]
    Busy,
    /// No authorised node of the party is known (caller: update the directory or look its
    /// addresses up).
    #[error("no authorised node of {party} is known")]
    Unreachable {
        /// The party.
        party: PartyId,
    },
    /// The message exceeds the protocol's size cap (caller error).
    #[error("message of {len} bytes exceeds the cap of {max}")]
    TooLarge {
        /// Its length.
        len: usize,
        /// The cap.
        max: usize,
    },
    /// The peer refused the request, for this reason.
    #[error("the peer refused: {0}")]
    Refused(ErrorCode),
    /// The request did not get a response.
    #[error("delivery failed: {0}")]
    Delivery(DeliveryFailure),
    /// The peer has no such document or chunk for us, or no record was found.
    #[error("not found")]
    NotFound,
    /// The peer sent something inconsistent (a chunk of the wrong size, a changing length).
    #[error("the peer sent an inconsistent response: {0}")]
    PeerMisbehaved(&'static str),
    /// A gossip message could not be published.
    #[error("cannot publish: {0}")]
    Publish(&'static str),
    /// The transport failed (listening, dialling, building the swarm).
    #[error("transport: {0}")]
    Transport(#[from] TransportError),
    /// Storing a fetched document failed (including a digest mismatch).
    #[error("storing the fetched document failed: {0}")]
    Store(#[from] StoreError),
}

/// Why a request got no response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DeliveryFailure {
    /// The peer could not be dialled.
    Dial,
    /// No response within the request timeout.
    Timeout,
    /// The connection closed before the response.
    ConnectionClosed,
    /// The peer does not speak the protocol.
    Unsupported,
    /// The stream failed (including a peer that refused an oversized request by resetting).
    Stream,
}

impl fmt::Display for DeliveryFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Dial => "cannot dial the peer",
            Self::Timeout => "timed out",
            Self::ConnectionClosed => "connection closed",
            Self::Unsupported => "the peer does not support the protocol",
            Self::Stream => "stream failed",
        })
    }
}

impl From<&libp2p::request_response::OutboundFailure> for DeliveryFailure {
    fn from(failure: &libp2p::request_response::OutboundFailure) -> Self {
        use libp2p::request_response::OutboundFailure as F;
        match failure {
            F::DialFailure => Self::Dial,
            F::Timeout => Self::Timeout,
            F::ConnectionClosed => Self::ConnectionClosed,
            F::UnsupportedProtocols => Self::Unsupported,
            F::Io(_) => Self::Stream,
        }
    }
}

/// An error from libp2p, kept opaque so that libp2p's version does not leak into this API.
pub struct TransportError(Box<dyn std::error::Error + Send + Sync + 'static>);

impl TransportError {
    pub(crate) fn new(error: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self(Box::new(error))
    }
}

impl fmt::Debug for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl std::error::Error for TransportError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}
