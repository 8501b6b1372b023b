//! Gossipsub topics for public, self-verifying objects: attestations and key event logs.
//!
//! Nothing secret travels by gossip. Every message is validated by the node before it is
//! delivered or forwarded: gossipsub runs with `validate_messages()`, and the event loop
//! reports the [`Validation`] that the node's [`GossipValidator`] returns for each message
//! (accept: deliver and forward; reject: drop and penalise the sender; ignore: drop).

use std::time::Duration;

use libp2p::gossipsub::{
    IdentTopic, PeerScoreParams, PeerScoreThresholds, TopicHash, TopicScoreParams,
};

/// The largest gossip message, in bytes.
pub const MAX_MESSAGE: usize = 256 * 1024;

/// A Signet gossip topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Topic {
    /// `signet/attestations/1`: signed attestations (identity, endorsements, revocations…).
    Attestations,
    /// `signet/keylogs/1`: key event log updates.
    KeyLogs,
}

impl Topic {
    /// Every topic.
    pub const ALL: [Topic; 2] = [Topic::Attestations, Topic::KeyLogs];

    /// The topic's name on the wire.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Attestations => "signet/attestations/1",
            Self::KeyLogs => "signet/keylogs/1",
        }
    }

    /// The gossipsub topic.
    pub fn ident(self) -> IdentTopic {
        IdentTopic::new(self.name())
    }

    /// The topic with this hash, if it is one of ours.
    pub fn from_hash(hash: &TopicHash) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.ident().hash() == *hash)
    }
}

/// The penalty for one rejected message, before squaring: a peer's invalid-message counter
/// `n` (per topic, decaying) costs `n² × INVALID_MESSAGE_WEIGHT`.
pub const INVALID_MESSAGE_WEIGHT: f64 = -10.0;

/// Below this score a peer's messages and control messages are all ignored.
pub const GRAYLIST_THRESHOLD: f64 = -80.0;

/// Gossipsub peer scoring (spec §12.7), tuned for low-traffic topics:
///
/// - per topic (weight 1): time in the mesh (+0.01 a second, up to +36), first deliveries
///   of valid messages (+1 each, halving every second, capped at 100), and invalid
///   messages ([`INVALID_MESSAGE_WEIGHT`] × the square of their decaying count: one costs
///   −10, three −90). The count decays by 0.9989 a second, about halving in ten minutes.
/// - Mesh delivery-rate penalties (P3, P3b) are off: Signet's topics carry a message every
///   few seconds at most, and a quiet honest peer must not look like a lazy one.
/// - IP colocation penalties are off: several nodes behind one address are ordinary in an
///   enterprise, and so are tests on loopback.
/// - Thresholds are libp2p's: no gossip to peers below −10, no publishing to them below
///   −50, and everything from a peer below [`GRAYLIST_THRESHOLD`] (−80) is ignored.
pub fn peer_score() -> (PeerScoreParams, PeerScoreThresholds) {
    let topic = TopicScoreParams {
        topic_weight: 1.0,
        time_in_mesh_weight: 0.01,
        time_in_mesh_quantum: Duration::from_secs(1),
        time_in_mesh_cap: 3600.0,
        first_message_deliveries_weight: 1.0,
        first_message_deliveries_decay: 0.5,
        first_message_deliveries_cap: 100.0,
        mesh_message_deliveries_weight: 0.0,
        mesh_failure_penalty_weight: 0.0,
        invalid_message_deliveries_weight: INVALID_MESSAGE_WEIGHT,
        invalid_message_deliveries_decay: 0.9989,
        ..TopicScoreParams::default()
    };
    let mut params = PeerScoreParams {
        ip_colocation_factor_weight: 0.0,
        ..PeerScoreParams::default()
    };
    for t in Topic::ALL {
        params.topics.insert(t.ident().hash(), topic.clone());
    }
    let thresholds = PeerScoreThresholds {
        graylist_threshold: GRAYLIST_THRESHOLD,
        ..PeerScoreThresholds::default()
    };
    (params, thresholds)
}

/// The node's verdict on a gossip message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Validation {
    /// Valid: deliver it to the node and forward it.
    Accept,
    /// Invalid: drop it and penalise the peer that sent it.
    Reject,
    /// Not wanted (for example already known, or undecidable now): drop it without penalty.
    Ignore,
}

/// Validates gossip payloads; supplied by the node. Called on the network task for each
/// message, so it must be quick (decode and verify signatures; no I/O).
pub trait GossipValidator: Send + Sync + 'static {
    /// The verdict on `data` received on `topic`.
    fn validate(&self, topic: Topic, data: &[u8]) -> Validation;
}

impl<F> GossipValidator for F
where
    F: Fn(Topic, &[u8]) -> Validation + Send + Sync + 'static,
{
    fn validate(&self, topic: Topic, data: &[u8]) -> Validation {
        self(topic, data)
    }
}
