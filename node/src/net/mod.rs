//! libp2p networking: transports, Signet's wire protocols, and the task that owns the swarm.
//!
//! # Shape
//!
//! [`new`] builds a swarm (TCP + Noise + Yamux, and QUIC v1) and returns three things, the
//! pattern of rust-libp2p's `file-sharing` example:
//!
//! - a [`Client`]: cheap to clone, used by any task; each call sends a command over a bounded
//!   channel and awaits a `oneshot` reply;
//! - a bounded receiver of [`NetEvent`]s: inbound session messages (each with a
//!   [`Responder`] to accept or refuse it) and accepted gossip;
//! - the [`EventLoop`], which owns the swarm; spawn [`EventLoop::run`] on the runtime. It
//!   stops when every [`Client`] is dropped or on [`Client::shutdown`].
//!
//! # Protocols (one module each, with its codec and size caps)
//!
//! - [`msg`] `/signet/msg/1`: session messages (the exact signed bytes), acknowledged or
//!   refused with a wire error code. 1 MiB cap each way.
//! - [`doc`] `/signet/doc/1`: document chunks, fetched directly from the holder.
//! - [`tsa`] `/signet/tsa/1`: RFC 3161 time-stamps from a witness (one DER request, one DER
//!   response; 4 KiB and 32 KiB caps), answered by the node's [`TimeStampAuthority`] set
//!   with [`EventLoop::with_time_stamps`], or refused with a `rejection` status.
//! - [`gossip`]: gossipsub topics `signet/attestations/1` and `signet/keylogs/1`, every
//!   message validated by the node's [`GossipValidator`] before it is delivered or forwarded.
//!   Gossipsub peer scoring ([`gossip::peer_score`]) penalises every rejected message, and
//!   a peer below the graylist threshold is ignored ([`Client::peer_score`] reads a score).
//! - Kademlia (`/signet/kad/1`, server mode, in-memory record store with caps): each node
//!   publishes an address record signed by its node key under `/signet/addr/2/` ‖ that key
//!   ([`signet_protocol::address`], [`Client::publish_addresses`]), re-signed when its
//!   addresses change. Inbound records are filtered: the event loop stores only records that
//!   verify under their key and are newer than the one held. [`Client::lookup`] asks for the
//!   record of every node key the directory holds for a party and keeps those that verify
//!   for that party.
//! - identify (`/signet/id/1`), feeding Kademlia with peers' listen addresses; and
//!   connection limits.
//!
//! # Authentication
//!
//! The transport handshake proves a peer's id. The [`PeerDirectory`] says which party, if
//! any, that id is an authorised node of (from key event logs). Session messages and document
//! chunks are served only to authenticated peers: anyone else gets
//! [`ErrorCode::UnauthenticatedPeer`](signet_protocol::error::ErrorCode::UnauthenticatedPeer) (messages) or
//! "not found" (documents). Identify, Kademlia and gossip are public: what they carry is
//! either public or self-verifying. Address records cannot be forged (each is signed by the
//! node key named in its DHT key), and even a valid one names only addresses ending in that
//! node's peer id, which the handshake proves.

mod behaviour;
mod client;
mod codec_util;
mod dht;
pub mod directory;
pub mod doc;
mod error;
mod event_loop;
pub mod gossip;
pub mod msg;
#[cfg(test)]
mod tests;
pub mod tsa;

use std::sync::Arc;
use std::time::Duration;

pub use client::Client;
pub use directory::{PeerDirectory, peer_id_of};
pub use doc::DocumentAccess;
pub use error::{DeliveryFailure, NetError, TransportError};
pub use event_loop::EventLoop;
pub use gossip::{GossipValidator, Topic, Validation};
pub use libp2p::{Multiaddr, PeerId};
pub use tsa::TimeStampAuthority;

use libp2p::identity::Keypair;
use signet_protocol::SecretKey;
use signet_protocol::party::PartyId;
use tokio::sync::{mpsc, oneshot};
use zeroize::Zeroizing;

use crate::store::Store;

/// Limits and timings of the network layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// How long a request may wait for its response.
    pub request_timeout: Duration,
    /// Concurrent inbound or outbound streams per connection, per request protocol.
    pub max_concurrent_streams: usize,
    /// How long an unused connection stays open.
    pub idle_connection_timeout: Duration,
    /// Established connections in all.
    pub max_established: u32,
    /// Established connections per peer.
    pub max_established_per_peer: u32,
    /// Incoming connections still in their handshake.
    pub max_pending_incoming: u32,
    /// Capacity of the command channel (clients wait when it is full).
    pub command_capacity: usize,
    /// Capacity of the event channel. When the node does not keep up, inbound requests are
    /// left unanswered (the sender retries later) rather than queued without bound.
    pub event_capacity: usize,
    /// Outbound requests awaiting a response, and inbound requests awaiting the node's
    /// answer (each); beyond this, new ones are refused with [`NetError::Busy`] or dropped.
    pub max_in_flight: usize,
    /// Outbound requests to one peer awaiting a response. Keep it below the peers'
    /// `max_concurrent_streams` (100 by default), which would otherwise reset the excess;
    /// beyond it, new requests are refused with [`NetError::Busy`].
    pub max_in_flight_per_peer: usize,
    /// Gossipsub heartbeat.
    pub gossip_heartbeat: Duration,
    /// Gossip messages per second each peer may forward to this node (and the burst above
    /// it); beyond the budget a message is ignored (neither delivered nor forwarded) before
    /// it is validated, so a flooding peer costs a counter, not a verification.
    pub gossip_per_peer_per_second: u32,
    /// See [`Config::gossip_per_peer_per_second`].
    pub gossip_per_peer_burst: u32,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            request_timeout: Duration::from_secs(10),
            max_concurrent_streams: 100,
            idle_connection_timeout: Duration::from_secs(60),
            max_established: 512,
            max_established_per_peer: 4,
            max_pending_incoming: 128,
            command_capacity: 256,
            event_capacity: 256,
            max_in_flight: 1024,
            max_in_flight_per_peer: 64,
            gossip_heartbeat: Duration::from_secs(1),
            gossip_per_peer_per_second: 50,
            gossip_per_peer_burst: 1000,
        }
    }
}

/// What the node supplies to the network layer.
#[derive(Clone)]
pub struct Hooks {
    /// Where documents are served from.
    pub store: Arc<dyn Store>,
    /// Which party may fetch which document.
    pub documents: Arc<dyn DocumentAccess>,
    /// The verdict on each gossip message.
    pub gossip: Arc<dyn GossipValidator>,
}

impl std::fmt::Debug for Hooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hooks")
            .field("store", &self.store)
            .finish_non_exhaustive()
    }
}

/// Something the network received for the node.
#[derive(Debug)]
#[non_exhaustive]
pub enum NetEvent {
    /// A session message from an authenticated peer. Answer it with the responder; dropping
    /// the responder leaves the request unanswered, and the sender will retry.
    Message {
        /// The party the sending node is authorised for.
        party: PartyId,
        /// The sending node.
        peer: PeerId,
        /// The exact bytes received (a `Signed<SessionMessage>`, not yet checked).
        bytes: Vec<u8>,
        /// Where the answer goes.
        responder: Responder,
    },
    /// A gossip message the node's validator accepted.
    Gossip {
        /// The topic.
        topic: Topic,
        /// The payload.
        data: Vec<u8>,
        /// The peer that forwarded it.
        propagated_by: PeerId,
    },
}

/// The way to answer one inbound session message.
#[derive(Debug)]
pub struct Responder(oneshot::Sender<msg::Response>);

impl Responder {
    /// Sends the answer (if the network is still waiting for it).
    pub fn respond(self, response: msg::Response) {
        // The request may have timed out meanwhile; then there is nobody to tell.
        let _ = self.0.send(response);
    }
}

/// Builds the network for a node whose libp2p identity is `node_key` (a key its party
/// authorised with purpose `node`) and whose party is `party`.
///
/// Returns the client, the stream of inbound events and the event loop to spawn. Must be
/// called within a Tokio runtime.
pub fn new(
    node_key: &SecretKey,
    party: PartyId,
    config: Config,
    hooks: Hooks,
) -> Result<(Client, mpsc::Receiver<NetEvent>, EventLoop), NetError> {
    let mut seed = Zeroizing::new(*node_key.to_seed());
    let keypair = Keypair::ed25519_from_bytes(&mut seed[..]).map_err(TransportError::new)?;
    let peer_id = keypair.public().to_peer_id();
    let behaviour_config = config.clone();
    let swarm = libp2p::SwarmBuilder::with_existing_identity(keypair)
        .with_tokio()
        .with_tcp(
            libp2p::tcp::Config::default().nodelay(true),
            libp2p::noise::Config::new,
            libp2p::yamux::Config::default,
        )
        .map_err(TransportError::new)?
        .with_quic()
        .with_behaviour(|key| behaviour::Behaviour::new(key, &behaviour_config))
        .map_err(TransportError::new)?
        .with_swarm_config(|c| c.with_idle_connection_timeout(config.idle_connection_timeout))
        .build();
    let (command_tx, command_rx) = mpsc::channel(config.command_capacity.max(1));
    let (event_tx, event_rx) = mpsc::channel(config.event_capacity.max(1));
    let event_loop = EventLoop::new(
        swarm,
        party,
        SecretKey::from_seed(&node_key.to_seed()),
        command_rx,
        event_tx,
        hooks,
        config,
    );
    Ok((Client::new(command_tx, peer_id), event_rx, event_loop))
}
