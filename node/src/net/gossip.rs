//! Gossipsub topics for public, self-verifying objects: attestations and key event logs.
//!
//! Nothing secret travels by gossip. Every message is validated by the node before it is
//! delivered or forwarded: gossipsub runs with `validate_messages()`, and the event loop
//! reports the [`Validation`] that the node's [`GossipValidator`] returns for each message
//! (accept: deliver and forward; reject: drop and penalise the sender; ignore: drop).

use libp2p::gossipsub::{IdentTopic, TopicHash};

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
