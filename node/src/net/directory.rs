//! Who is behind a peer id: the map from libp2p peers to Signet parties.
//!
//! A node's libp2p identity is an Ed25519 key that its party authorised in its key event
//! log with purpose `node` (spec: key event logs). A remote peer is *authenticated* as party
//! P when its peer id (proved by the Noise or TLS handshake) is derived from a node key valid
//! now in P's key log, as known to this node. The node builds a [`PeerDirectory`] from its
//! `TrustStore` ([`PeerDirectory::from_trust_store`]) and hands it to the network with
//! [`super::Client::set_directory`] whenever its knowledge changes.

use std::collections::BTreeMap;

use libp2p::PeerId;
use signet_protocol::keylog::KeyPurpose;
use signet_protocol::party::PartyId;
use signet_protocol::trust::TrustStore;
use signet_protocol::{PublicKey, Timestamp};

/// The libp2p peer id of the node whose key is `key` (`None` only if libp2p refuses a key
/// the protocol accepted, which both define as a valid Ed25519 point).
pub fn peer_id_of(key: &PublicKey) -> Option<PeerId> {
    libp2p::identity::ed25519::PublicKey::try_from_bytes(key.as_bytes())
        .ok()
        .map(|key| libp2p::identity::PublicKey::from(key).to_peer_id())
}

/// Which party each authenticated peer belongs to, and the reverse.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PeerDirectory {
    by_peer: BTreeMap<PeerId, PartyId>,
    by_party: BTreeMap<PartyId, Vec<PeerId>>,
    keys: BTreeMap<PeerId, PublicKey>,
    /// Which of the node's successive directories this is: the network keeps the newest it
    /// was handed, whatever order the hand-overs arrive in.
    generation: u64,
}

impl PeerDirectory {
    /// An empty directory: every peer is unauthenticated.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every node key valid at `now` in every key log `store` holds, except keys that the
    /// logs of two or more parties declare: such a key speaks for nobody, whichever log came
    /// first (see `TrustStore::key_conflicts`).
    pub fn from_trust_store(store: &TrustStore, now: Timestamp) -> Self {
        let mut directory = Self::new();
        for log in store.key_logs() {
            for record in log.keys_at(KeyPurpose::Node, now) {
                // A node key is Ed25519 (spec §4.3.2): the log refuses any other.
                let Some(key) = record.key.ed25519() else {
                    continue;
                };
                if store.key_in_conflict(key) {
                    continue;
                }
                directory.insert(log.party(), key);
            }
        }
        directory
    }

    /// This directory, marked as the `generation`th the node built.
    pub fn at_generation(mut self, generation: u64) -> Self {
        self.generation = generation;
        self
    }

    /// See [`PeerDirectory::at_generation`].
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Records that the node key `key` speaks for `party`; returns its peer id. Use
    /// [`PeerDirectory::from_trust_store`] in the node: this is for keys checked elsewhere.
    pub fn insert(&mut self, party: PartyId, key: &PublicKey) -> Option<PeerId> {
        let peer = peer_id_of(key)?;
        if let Some(previous) = self.by_peer.insert(peer, party)
            && let Some(peers) = self.by_party.get_mut(&previous)
        {
            peers.retain(|p| *p != peer);
        }
        self.keys.insert(peer, *key);
        let peers = self.by_party.entry(party).or_default();
        if !peers.contains(&peer) {
            peers.push(peer);
        }
        Some(peer)
    }

    /// The party `peer` is an authorised node of, if any.
    pub fn party_of(&self, peer: &PeerId) -> Option<PartyId> {
        self.by_peer.get(peer).copied()
    }

    /// The authorised nodes of `party`.
    pub fn peers_of(&self, party: &PartyId) -> &[PeerId] {
        self.by_party.get(party).map_or(&[], Vec::as_slice)
    }

    /// The node keys of the authorised nodes of `party`, in the order of
    /// [`PeerDirectory::peers_of`].
    pub fn keys_of(&self, party: &PartyId) -> Vec<PublicKey> {
        self.peers_of(party)
            .iter()
            .filter_map(|p| self.keys.get(p).copied())
            .collect()
    }

    /// The node key behind an authorised peer.
    pub fn key_of(&self, peer: &PeerId) -> Option<PublicKey> {
        self.keys.get(peer).copied()
    }

    /// The number of authorised peers.
    pub fn len(&self) -> usize {
        self.by_peer.len()
    }

    /// Whether no peer is authorised.
    pub fn is_empty(&self) -> bool {
        self.by_peer.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use signet_protocol::testkit::TestParty;

    use super::*;

    #[test]
    fn node_keys_from_key_logs_authenticate_their_party_only() {
        let now = Timestamp::from_unix(1_800_000_000);
        let (a, b) = (TestParty::new("A", now), TestParty::new("B", now));
        let mut store = TrustStore::new();
        store.add_key_log(a.log.clone());
        store.add_key_log(b.log.clone());
        let dir = PeerDirectory::from_trust_store(&store, now);
        let peer_a = peer_id_of(&a.node.public_key()).unwrap();
        assert_eq!(dir.party_of(&peer_a), Some(a.id()));
        assert_eq!(
            dir.peers_of(&b.id()),
            &[peer_id_of(&b.node.public_key()).unwrap()]
        );
        // A seal key is not a node key.
        let seal = a
            .log
            .keys_at(KeyPurpose::Seal, now)
            .next()
            .unwrap()
            .key
            .clone();
        assert_eq!(
            dir.party_of(&peer_id_of(seal.ed25519().unwrap()).unwrap()),
            None
        );
        // Before the party existed, nobody is authenticated.
        let before = PeerDirectory::from_trust_store(&store, Timestamp::from_unix(1));
        assert!(before.is_empty());
        // A node key that two parties' logs declare authenticates neither, in either order.
        let mut shared = TestParty::new("Shared", now);
        let mut twin = TestParty::new("Twin", now);
        let node = signet_protocol::SecretKey::from_seed(&[42; 32]);
        for p in [&mut shared, &mut twin] {
            let root = signet_protocol::SecretKey::from_seed(&p.root.to_seed());
            p.log
                .add_key(
                    &root,
                    signet_protocol::keylog::KeyDecl::node(&node, &root.public_key()),
                    now.plus(1),
                )
                .unwrap();
        }
        let peer = peer_id_of(&node.public_key()).unwrap();
        for order in [[&shared, &twin], [&twin, &shared]] {
            let mut store = TrustStore::new();
            for p in order {
                store.add_key_log(p.log.clone());
            }
            let dir = PeerDirectory::from_trust_store(&store, now.plus(2));
            assert_eq!(dir.party_of(&peer), None);
            // Their own node keys still speak for them.
            assert_eq!(
                dir.party_of(&peer_id_of(&shared.node.public_key()).unwrap()),
                Some(shared.id())
            );
        }
        // The libp2p identity made from the node key's seed has the same peer id.
        let mut seed = *a.node.to_seed();
        let keypair = libp2p::identity::Keypair::ed25519_from_bytes(&mut seed).unwrap();
        assert_eq!(keypair.public().to_peer_id(), peer_a);
    }
}
