//! The composed libp2p behaviour.

use libp2p::identity::Keypair;
use libp2p::request_response::{self, ProtocolSupport};
use libp2p::swarm::NetworkBehaviour;
use libp2p::{StreamProtocol, connection_limits, gossipsub, identify, kad};
use signet_protocol::Digest;

use super::{Config, doc, gossip, msg, tsa};

/// Kademlia's protocol id for Signet's DHT (separate from the public IPFS DHT).
pub(crate) const KAD_PROTOCOL: StreamProtocol = StreamProtocol::new("/signet/kad/1");
/// Identify's protocol version string.
pub(crate) const IDENTIFY_PROTOCOL: &str = "/signet/id/1";
/// The most Kademlia records kept, and the largest record value.
const KAD_MAX_RECORDS: usize = 4096;
const KAD_MAX_VALUE: usize = 4096;

#[derive(NetworkBehaviour)]
pub(crate) struct Behaviour {
    pub(crate) limits: connection_limits::Behaviour,
    pub(crate) identify: identify::Behaviour,
    pub(crate) kad: kad::Behaviour<kad::store::MemoryStore>,
    pub(crate) gossip: gossipsub::Behaviour,
    pub(crate) msg: msg::Behaviour,
    pub(crate) doc: doc::Behaviour,
    pub(crate) tsa: tsa::Behaviour,
}

impl Behaviour {
    pub(crate) fn new(
        key: &Keypair,
        config: &Config,
    ) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        let peer_id = key.public().to_peer_id();
        let limits = connection_limits::Behaviour::new(
            connection_limits::ConnectionLimits::default()
                .with_max_established(Some(config.max_established))
                .with_max_established_per_peer(Some(config.max_established_per_peer))
                .with_max_pending_incoming(Some(config.max_pending_incoming)),
        );
        let identify = identify::Behaviour::new(
            identify::Config::new(IDENTIFY_PROTOCOL.into(), key.public())
                .with_agent_version(format!("signet/{}", env!("CARGO_PKG_VERSION"))),
        );
        let store = kad::store::MemoryStore::with_config(
            peer_id,
            kad::store::MemoryStoreConfig {
                max_records: KAD_MAX_RECORDS,
                max_value_bytes: KAD_MAX_VALUE,
                ..Default::default()
            },
        );
        let mut kad_config = kad::Config::new(KAD_PROTOCOL);
        // Inbound records are stored only once the event loop verified them (spec §12.8).
        kad_config.set_record_filtering(kad::StoreInserts::FilterBoth);
        let mut kad = kad::Behaviour::with_config(peer_id, store, kad_config);
        kad.set_mode(Some(kad::Mode::Server));

        let gossip_config = gossipsub::ConfigBuilder::default()
            .validate_messages()
            .validation_mode(gossipsub::ValidationMode::Strict)
            .max_transmit_size(gossip::MAX_MESSAGE)
            .heartbeat_interval(config.gossip_heartbeat)
            // Content-addressed ids: the same object published twice is one message.
            .message_id_fn(|m| gossipsub::MessageId::from(Digest::of(&m.data).as_bytes().to_vec()))
            .build()?;
        let mut gossip = gossipsub::Behaviour::new(
            gossipsub::MessageAuthenticity::Signed(key.clone()),
            gossip_config,
        )?;
        let (score, thresholds) = gossip::peer_score();
        gossip.with_peer_score(score, thresholds)?;
        for topic in gossip::Topic::ALL {
            gossip.subscribe(&topic.ident())?;
        }

        let rr_config = request_response::Config::default()
            .with_request_timeout(config.request_timeout)
            .with_max_concurrent_streams(config.max_concurrent_streams);
        let msg = msg::Behaviour::new([(msg::PROTOCOL, ProtocolSupport::Full)], rr_config.clone());
        let doc = doc::Behaviour::new([(doc::PROTOCOL, ProtocolSupport::Full)], rr_config.clone());
        let tsa = tsa::Behaviour::new([(tsa::PROTOCOL, ProtocolSupport::Full)], rr_config);
        Ok(Self {
            limits,
            identify,
            kad,
            gossip,
            msg,
            doc,
            tsa,
        })
    }
}
