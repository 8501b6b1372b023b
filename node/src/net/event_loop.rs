//! The task that owns the swarm.

use std::collections::BTreeMap;

use futures::StreamExt;
use futures::future::BoxFuture;
use futures::stream::FuturesUnordered;
use libp2p::core::transport::ListenerId;
use libp2p::multiaddr::Protocol;
use libp2p::request_response::{self, OutboundRequestId, ResponseChannel};
use libp2p::swarm::SwarmEvent;
use std::num::NonZeroU32;
use std::sync::Arc;

use libp2p::{Multiaddr, PeerId, Swarm, gossipsub, identify, kad};
use signet_protocol::address::{self, AddressRecord};

use super::dht::{record_key, unix_millis, verify_record};
use signet_protocol::cose::Signed;
use signet_protocol::error::ErrorCode;
use signet_protocol::party::PartyId;
use signet_protocol::{PublicKey, SecretKey, Timestamp};
use tokio::sync::{mpsc, oneshot};
use tracing::{debug, info, warn};

use super::behaviour::{Behaviour, BehaviourEvent};
use super::{
    Config, Hooks, NetError, NetEvent, PeerDirectory, Responder, TimeStampAuthority, Topic,
    TransportError, Validation, doc, msg, tsa,
};
use crate::pdf::tsa::Failure;

/// The most node keys of one party looked up at once.
const MAX_LOOKUP_KEYS: usize = 8;

type Reply<T> = oneshot::Sender<T>;

/// A request from a [`super::Client`].
#[derive(Debug)]
pub(crate) enum Command {
    Listen {
        address: Multiaddr,
        reply: Reply<Result<Multiaddr, NetError>>,
    },
    Dial {
        address: Multiaddr,
        reply: Reply<Result<(), NetError>>,
    },
    AddAddress {
        peer: PeerId,
        address: Multiaddr,
        reply: Reply<()>,
    },
    SetDirectory {
        directory: PeerDirectory,
        reply: Reply<()>,
    },
    SendMessage {
        party: PartyId,
        message: Vec<u8>,
        reply: Reply<Result<(), NetError>>,
    },
    #[cfg(test)]
    SendUnchecked {
        peer: PeerId,
        message: Vec<u8>,
        reply: Reply<Result<(), NetError>>,
    },
    FetchChunk {
        party: PartyId,
        request: doc::Request,
        reply: Reply<Result<doc::Response, NetError>>,
    },
    TimeStamp {
        party: PartyId,
        request: Vec<u8>,
        reply: Reply<Result<Vec<u8>, NetError>>,
    },
    Publish {
        topic: Topic,
        data: Vec<u8>,
        reply: Reply<Result<(), NetError>>,
    },
    PublishAddresses {
        reply: Reply<Result<(), NetError>>,
    },
    Lookup {
        party: PartyId,
        reply: Reply<Result<Vec<Multiaddr>, NetError>>,
    },
    PeerScore {
        peer: PeerId,
        reply: Reply<Option<f64>>,
    },
    #[cfg(test)]
    PutRawRecord {
        key: Vec<u8>,
        value: Vec<u8>,
        reply: Reply<Result<(), NetError>>,
    },
    #[cfg(test)]
    StoredRecord {
        key: Vec<u8>,
        reply: Reply<Option<Vec<u8>>>,
    },
    ConnectedPeers {
        reply: Reply<Vec<PeerId>>,
    },
    Shutdown {
        reply: Reply<()>,
    },
}

enum QueryReply {
    Put(Reply<Result<(), NetError>>),
    /// A republication nobody waits for.
    Republish,
    /// The record of one node key, for the lookup with this number.
    Get {
        lookup: u64,
        key: PublicKey,
    },
}

/// A lookup of a party: one DHT query per node key of the party.
struct Lookup {
    party: PartyId,
    pending: usize,
    found: Vec<Multiaddr>,
    reply: Reply<Result<Vec<Multiaddr>, NetError>>,
}

type MsgReply = (
    ResponseChannel<msg::Response>,
    Result<msg::Response, oneshot::error::RecvError>,
);
type DocReply = (ResponseChannel<doc::Response>, Option<doc::Response>);
type TsaReply = (ResponseChannel<Vec<u8>>, Option<Vec<u8>>);
type StampReply = Reply<Result<Vec<u8>, NetError>>;

/// Owns the swarm and serves [`super::Client`] commands; see [`super::new`].
pub struct EventLoop {
    swarm: Swarm<Behaviour>,
    party: PartyId,
    commands: mpsc::Receiver<Command>,
    events: mpsc::Sender<NetEvent>,
    directory: PeerDirectory,
    hooks: Hooks,
    config: Config,
    listens: Vec<(ListenerId, Reply<Result<Multiaddr, NetError>>)>,
    sends: BTreeMap<OutboundRequestId, (PeerId, Reply<Result<(), NetError>>)>,
    fetches: BTreeMap<OutboundRequestId, (PeerId, Reply<Result<doc::Response, NetError>>)>,
    stamps: BTreeMap<OutboundRequestId, (PeerId, StampReply)>,
    /// Outbound requests in flight per peer (messages and chunks together).
    per_peer: BTreeMap<PeerId, usize>,
    queries: Vec<(kad::QueryId, QueryReply)>,
    lookups: BTreeMap<u64, Lookup>,
    next_lookup: u64,
    /// This node's key, which signs its address records.
    node_key: SecretKey,
    /// The last address record this node signed, and whether it is published (then address
    /// changes are republished without being asked).
    record: Option<Signed<AddressRecord>>,
    publishing: bool,
    message_replies: FuturesUnordered<BoxFuture<'static, MsgReply>>,
    chunk_reads: FuturesUnordered<BoxFuture<'static, DocReply>>,
    /// Answers of this node's time-stamping authority being made, off the network task.
    stamp_answers: FuturesUnordered<BoxFuture<'static, TsaReply>>,
    /// Who answers `/signet/tsa/1` requests; `None`: every request gets a rejection.
    time_stamps: Option<Arc<dyn TimeStampAuthority>>,
    /// Each forwarding peer's gossip budget.
    gossip_budget: governor::DefaultKeyedRateLimiter<PeerId>,
    /// Gossip messages ignored for being over their sender's budget.
    gossip_over_budget: u64,
}

/// Peers tracked by the gossip budget before idle ones are forgotten (a bound on memory).
const MAX_GOSSIP_PEERS_TRACKED: usize = 4096;

impl std::fmt::Debug for EventLoop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventLoop")
            .field("peer_id", self.swarm.local_peer_id())
            .field("party", &self.party)
            .finish_non_exhaustive()
    }
}

pub(super) fn peer_of(address: &Multiaddr) -> Option<PeerId> {
    address.iter().find_map(|p| match p {
        Protocol::P2p(peer) => Some(peer),
        _ => None,
    })
}

impl EventLoop {
    pub(crate) fn new(
        swarm: Swarm<Behaviour>,
        party: PartyId,
        node_key: SecretKey,
        commands: mpsc::Receiver<Command>,
        events: mpsc::Sender<NetEvent>,
        hooks: Hooks,
        config: Config,
    ) -> Self {
        let at_least_one = |n: u32| NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN);
        let gossip_budget = governor::DefaultKeyedRateLimiter::keyed(
            governor::Quota::per_second(at_least_one(config.gossip_per_peer_per_second))
                .allow_burst(at_least_one(config.gossip_per_peer_burst)),
        );
        Self {
            gossip_budget,
            gossip_over_budget: 0,
            swarm,
            party,
            commands,
            events,
            directory: PeerDirectory::new(),
            hooks,
            config,
            listens: Vec::new(),
            sends: BTreeMap::new(),
            fetches: BTreeMap::new(),
            stamps: BTreeMap::new(),
            per_peer: BTreeMap::new(),
            queries: Vec::new(),
            lookups: BTreeMap::new(),
            next_lookup: 0,
            node_key,
            record: None,
            publishing: false,
            message_replies: FuturesUnordered::new(),
            chunk_reads: FuturesUnordered::new(),
            stamp_answers: FuturesUnordered::new(),
            time_stamps: None,
        }
    }

    /// Answers `/signet/tsa/1` requests with `authority` (a witness's TSA); without one,
    /// every request is answered with a rejection.
    pub fn with_time_stamps(mut self, authority: Arc<dyn TimeStampAuthority>) -> Self {
        self.time_stamps = Some(authority);
        self
    }

    /// Runs until every client is dropped or one asks to shut down.
    pub async fn run(mut self) {
        info!(peer = %self.swarm.local_peer_id(), party = %self.party, "network started");
        loop {
            tokio::select! {
                biased;
                command = self.commands.recv() => match command {
                    None => break,
                    Some(Command::Shutdown { reply }) => {
                        let _ = reply.send(());
                        break;
                    }
                    Some(command) => self.on_command(command),
                },
                Some((channel, answer)) = self.message_replies.next(),
                    if !self.message_replies.is_empty() =>
                {
                    match answer {
                        Ok(response) => {
                            let msg = &mut self.swarm.behaviour_mut().msg;
                            if msg.send_response(channel, response).is_err() {
                                debug!("the requester left before the answer");
                            }
                        }
                        // The node dropped the responder: leave the request unanswered.
                        Err(_) => drop(channel),
                    }
                }
                Some((channel, response)) = self.chunk_reads.next(),
                    if !self.chunk_reads.is_empty() =>
                {
                    if let Some(response) = response {
                        let _ = self.swarm.behaviour_mut().doc.send_response(channel, response);
                    }
                }
                Some((channel, response)) = self.stamp_answers.next(),
                    if !self.stamp_answers.is_empty() =>
                {
                    let response = response.unwrap_or_else(|| {
                        tsa::refusal(Failure::SystemFailure, "the time-stamping authority failed")
                    });
                    let _ = self.swarm.behaviour_mut().tsa.send_response(channel, response);
                }
                event = self.swarm.select_next_some() => self.on_swarm_event(event),
            }
        }
        info!(peer = %self.swarm.local_peer_id(), "network stopped");
    }

    fn in_flight(&self) -> usize {
        self.sends.len() + self.fetches.len() + self.stamps.len() + self.queries.len()
    }

    /// Whether another request to `peer` stays within the per-peer limit.
    fn peer_has_room(&self, peer: &PeerId) -> bool {
        self.per_peer.get(peer).copied().unwrap_or(0) < self.config.max_in_flight_per_peer
    }

    /// The peer to send a request for `party` to, if the global and per-peer limits allow
    /// one more request in flight.
    fn admit(&self, party: PartyId) -> Result<PeerId, NetError> {
        if self.in_flight() >= self.config.max_in_flight {
            return Err(NetError::Busy);
        }
        let peer = self
            .peer_for(&party)
            .ok_or(NetError::Unreachable { party })?;
        if !self.peer_has_room(&peer) {
            return Err(NetError::Busy);
        }
        Ok(peer)
    }

    fn started(&mut self, peer: PeerId) {
        *self.per_peer.entry(peer).or_default() += 1;
    }

    /// Answers an outbound request that ended (`pending`, if it was still awaited) with
    /// `result`, and counts it finished for its peer.
    fn settle<T>(
        &mut self,
        pending: Option<(PeerId, Reply<Result<T, NetError>>)>,
        result: Result<T, NetError>,
    ) {
        if let Some((peer, reply)) = pending {
            self.finished(&peer);
            let _ = reply.send(result);
        }
    }

    fn finished(&mut self, peer: &PeerId) {
        if let Some(n) = self.per_peer.get_mut(peer) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.per_peer.remove(peer);
            }
        }
    }

    /// An authorised node of `party`: a connected one if any.
    fn peer_for(&self, party: &PartyId) -> Option<PeerId> {
        let peers = self.directory.peers_of(party);
        peers
            .iter()
            .find(|p| self.swarm.is_connected(p))
            .or(peers.first())
            .copied()
    }

    fn on_command(&mut self, command: Command) {
        match command {
            Command::Listen { address, reply } => match self.swarm.listen_on(address) {
                Ok(id) => self.listens.push((id, reply)),
                Err(e) => {
                    let _ = reply.send(Err(TransportError::new(e).into()));
                }
            },
            Command::Dial { address, reply } => {
                let result = self
                    .swarm
                    .dial(address)
                    .map_err(|e| TransportError::new(e).into());
                let _ = reply.send(result);
            }
            Command::AddAddress {
                peer,
                address,
                reply,
            } => {
                self.swarm.add_peer_address(peer, address);
                let _ = reply.send(());
            }
            Command::SetDirectory { directory, reply } => {
                // Hand-overs race one another; an older directory never replaces a newer.
                if directory.generation() >= self.directory.generation() {
                    debug!(peers = directory.len(), "directory updated");
                    self.directory = directory;
                }
                let _ = reply.send(());
            }
            Command::SendMessage {
                party,
                message,
                reply,
            } => {
                let peer = match self.admit(party) {
                    Ok(peer) => peer,
                    Err(e) => {
                        let _ = reply.send(Err(e));
                        return;
                    }
                };
                let id = self.swarm.behaviour_mut().msg.send_request(&peer, message);
                self.started(peer);
                self.sends.insert(id, (peer, reply));
            }
            #[cfg(test)]
            Command::SendUnchecked {
                peer,
                message,
                reply,
            } => {
                let id = self.swarm.behaviour_mut().msg.send_request(&peer, message);
                self.started(peer);
                self.sends.insert(id, (peer, reply));
            }
            Command::FetchChunk {
                party,
                request,
                reply,
            } => {
                let peer = match self.admit(party) {
                    Ok(peer) => peer,
                    Err(e) => {
                        let _ = reply.send(Err(e));
                        return;
                    }
                };
                let id = self.swarm.behaviour_mut().doc.send_request(&peer, request);
                self.started(peer);
                self.fetches.insert(id, (peer, reply));
            }
            Command::TimeStamp {
                party,
                request,
                reply,
            } => {
                let peer = match self.admit(party) {
                    Ok(peer) => peer,
                    Err(e) => {
                        let _ = reply.send(Err(e));
                        return;
                    }
                };
                let id = self.swarm.behaviour_mut().tsa.send_request(&peer, request);
                self.started(peer);
                self.stamps.insert(id, (peer, reply));
            }
            Command::Publish { topic, data, reply } => {
                let result = self
                    .swarm
                    .behaviour_mut()
                    .gossip
                    .publish(topic.ident(), data)
                    .map(drop)
                    .or_else(|e| match e {
                        // The same payload is still in gossip (ids are payload digests).
                        gossipsub::PublishError::Duplicate => Ok(()),
                        e => Err(e),
                    })
                    .map_err(|e| {
                        NetError::Publish(match e {
                            gossipsub::PublishError::NoPeersSubscribedToTopic => {
                                "no peer subscribed to the topic"
                            }
                            gossipsub::PublishError::MessageTooLarge => "message too large",
                            gossipsub::PublishError::AllQueuesFull(_) => "all peer queues full",
                            _ => "publishing failed",
                        })
                    });
                let _ = reply.send(result);
            }
            Command::PublishAddresses { reply } => {
                if self.in_flight() >= self.config.max_in_flight {
                    let _ = reply.send(Err(NetError::Busy));
                    return;
                }
                self.publishing = true;
                self.publish_record(QueryReply::Put(reply));
            }
            Command::Lookup { party, reply } => self.lookup(party, reply),
            Command::PeerScore { peer, reply } => {
                let _ = reply.send(self.swarm.behaviour().gossip.peer_score(&peer));
            }
            #[cfg(test)]
            Command::PutRawRecord { key, value, reply } => {
                let record = kad::Record::new(kad::RecordKey::new(&key), value);
                match self
                    .swarm
                    .behaviour_mut()
                    .kad
                    .put_record(record, kad::Quorum::One)
                {
                    Ok(id) => self.queries.push((id, QueryReply::Put(reply))),
                    Err(_) => {
                        let _ = reply.send(Err(NetError::Publish("the local store refused")));
                    }
                }
            }
            #[cfg(test)]
            Command::StoredRecord { key, reply } => {
                use libp2p::kad::store::RecordStore;
                let key = kad::RecordKey::new(&key);
                let value = self
                    .swarm
                    .behaviour_mut()
                    .kad
                    .store_mut()
                    .get(&key)
                    .map(|r| r.value.clone());
                let _ = reply.send(value);
            }
            Command::ConnectedPeers { reply } => {
                let _ = reply.send(self.swarm.connected_peers().copied().collect());
            }
            Command::Shutdown { reply } => {
                // Handled in `run`; answered here only if it ever arrives by another path.
                let _ = reply.send(());
            }
        }
    }

    fn on_swarm_event(&mut self, event: SwarmEvent<BehaviourEvent>) {
        match event {
            SwarmEvent::Behaviour(BehaviourEvent::Msg(event)) => self.on_msg(event),
            SwarmEvent::Behaviour(BehaviourEvent::Doc(event)) => self.on_doc(event),
            SwarmEvent::Behaviour(BehaviourEvent::Tsa(event)) => self.on_tsa(event),
            SwarmEvent::Behaviour(BehaviourEvent::Gossip(event)) => self.on_gossip(event),
            SwarmEvent::Behaviour(BehaviourEvent::Kad(event)) => self.on_kad(event),
            SwarmEvent::Behaviour(BehaviourEvent::Identify(identify::Event::Received {
                peer_id,
                info,
                ..
            })) => {
                for address in info.listen_addrs {
                    self.swarm
                        .behaviour_mut()
                        .kad
                        .add_address(&peer_id, address);
                }
            }
            SwarmEvent::NewListenAddr {
                listener_id,
                address,
            } => {
                info!(%address, "listening");
                if let Some(i) = self.listens.iter().position(|(id, _)| *id == listener_id) {
                    let (_, reply) = self.listens.swap_remove(i);
                    let _ = reply.send(Ok(address));
                }
                self.addresses_changed();
            }
            SwarmEvent::ExpiredListenAddr { .. }
            | SwarmEvent::ExternalAddrConfirmed { .. }
            | SwarmEvent::ExternalAddrExpired { .. } => self.addresses_changed(),
            SwarmEvent::ListenerClosed {
                listener_id,
                reason,
                ..
            } => {
                if let Some(i) = self.listens.iter().position(|(id, _)| *id == listener_id) {
                    let (_, reply) = self.listens.swap_remove(i);
                    let error = match reason {
                        Err(e) => TransportError::new(e),
                        Ok(()) => TransportError::new(std::io::Error::other("listener closed")),
                    };
                    let _ = reply.send(Err(error.into()));
                }
            }
            SwarmEvent::ConnectionEstablished {
                peer_id, endpoint, ..
            } => {
                debug!(peer = %peer_id, party = ?self.directory.party_of(&peer_id),
                    address = %endpoint.get_remote_address(), "connected");
            }
            SwarmEvent::OutgoingConnectionError { peer_id, error, .. } => {
                debug!(peer = ?peer_id, %error, "dial failed");
            }
            _ => {}
        }
    }

    fn on_msg(&mut self, event: request_response::Event<Vec<u8>, msg::Response>) {
        match event {
            request_response::Event::Message {
                peer,
                message:
                    request_response::Message::Request {
                        request, channel, ..
                    },
                ..
            } => {
                let Some(party) = self.directory.party_of(&peer) else {
                    warn!(%peer, "refused a message from a peer that is no authorised node");
                    let refusal = msg::Response::Refused(ErrorCode::UnauthenticatedPeer);
                    let _ = self
                        .swarm
                        .behaviour_mut()
                        .msg
                        .send_response(channel, refusal);
                    return;
                };
                if self.message_replies.len() >= self.config.max_in_flight {
                    warn!(%peer, "too many unanswered messages; leaving one unanswered");
                    return;
                }
                let (tx, rx) = oneshot::channel();
                let event = NetEvent::Message {
                    party,
                    peer,
                    bytes: request,
                    responder: Responder(tx),
                };
                if self.events.try_send(event).is_err() {
                    // The node is not keeping up (or gone): the sender will retry later.
                    warn!(%peer, "event queue full; leaving a message unanswered");
                    return;
                }
                self.message_replies
                    .push(Box::pin(async move { (channel, rx.await) }));
            }
            request_response::Event::Message {
                message:
                    request_response::Message::Response {
                        request_id,
                        response,
                    },
                ..
            } => {
                if let Some((peer, reply)) = self.sends.remove(&request_id) {
                    self.finished(&peer);
                    let _ = reply.send(match response {
                        msg::Response::Accepted => Ok(()),
                        msg::Response::Refused(code) => Err(NetError::Refused(code)),
                    });
                }
            }
            request_response::Event::OutboundFailure {
                request_id, error, ..
            } => {
                if let Some((peer, reply)) = self.sends.remove(&request_id) {
                    self.finished(&peer);
                    let _ = reply.send(Err(NetError::Delivery((&error).into())));
                }
            }
            request_response::Event::InboundFailure { peer, error, .. } => {
                debug!(%peer, %error, "inbound message failed");
            }
            request_response::Event::ResponseSent { .. } => {}
        }
    }

    fn on_doc(&mut self, event: request_response::Event<doc::Request, doc::Response>) {
        match event {
            request_response::Event::Message {
                peer,
                message:
                    request_response::Message::Request {
                        request, channel, ..
                    },
                ..
            } => {
                let Some(party) = self.directory.party_of(&peer) else {
                    let refusal = doc::Response::Refused(ErrorCode::UnauthenticatedPeer);
                    let _ = self
                        .swarm
                        .behaviour_mut()
                        .doc
                        .send_response(channel, refusal);
                    return;
                };
                if !self
                    .hooks
                    .documents
                    .may_fetch(&party, &request.session, &request.document)
                {
                    // Not found, rather than forbidden: reveal nothing about the document.
                    debug!(%party, document = %request.document, "chunk request not allowed");
                    let _ = self
                        .swarm
                        .behaviour_mut()
                        .doc
                        .send_response(channel, doc::Response::NotFound);
                    return;
                }
                if self.chunk_reads.len() >= self.config.max_in_flight {
                    warn!(%peer, "too many chunk reads in flight; leaving one unanswered");
                    return;
                }
                let store = self.hooks.store.clone();
                self.chunk_reads.push(Box::pin(async move {
                    let read = tokio::task::spawn_blocking(move || doc::serve(&*store, &request));
                    (channel, read.await.ok())
                }));
            }
            request_response::Event::Message {
                message:
                    request_response::Message::Response {
                        request_id,
                        response,
                    },
                ..
            } => {
                let pending = self.fetches.remove(&request_id);
                self.settle(pending, Ok(response));
            }
            request_response::Event::OutboundFailure {
                request_id, error, ..
            } => {
                let pending = self.fetches.remove(&request_id);
                self.settle(pending, Err(NetError::Delivery((&error).into())));
            }
            request_response::Event::InboundFailure { peer, error, .. } => {
                debug!(%peer, %error, "inbound chunk request failed");
            }
            request_response::Event::ResponseSent { .. } => {}
        }
    }

    fn refuse_stamp(&mut self, channel: ResponseChannel<Vec<u8>>, failure: Failure, reason: &str) {
        let response = tsa::refusal(failure, reason);
        let _ = self
            .swarm
            .behaviour_mut()
            .tsa
            .send_response(channel, response);
    }

    fn on_tsa(&mut self, event: request_response::Event<Vec<u8>, Vec<u8>>) {
        match event {
            request_response::Event::Message {
                peer,
                message:
                    request_response::Message::Request {
                        request, channel, ..
                    },
                ..
            } => {
                let Some(party) = self.directory.party_of(&peer) else {
                    debug!(%peer, "time-stamp request from a peer that is no authorised node");
                    return self.refuse_stamp(
                        channel,
                        Failure::UnacceptedPolicy,
                        "unauthenticated peer",
                    );
                };
                let Some(authority) = self.time_stamps.clone() else {
                    return self.refuse_stamp(
                        channel,
                        Failure::UnacceptedPolicy,
                        "this node is not a time-stamping witness",
                    );
                };
                if self.stamp_answers.len() >= self.config.max_in_flight {
                    warn!(%peer, "too many time-stamp requests in flight; refusing one");
                    return self.refuse_stamp(
                        channel,
                        Failure::SystemFailure,
                        "busy: try again later",
                    );
                }
                self.stamp_answers.push(Box::pin(async move {
                    let answer =
                        tokio::task::spawn_blocking(move || authority.answer(&party, &request));
                    (channel, answer.await.ok())
                }));
            }
            request_response::Event::Message {
                message:
                    request_response::Message::Response {
                        request_id,
                        response,
                    },
                ..
            } => {
                let pending = self.stamps.remove(&request_id);
                self.settle(pending, Ok(response));
            }
            request_response::Event::OutboundFailure {
                request_id, error, ..
            } => {
                let pending = self.stamps.remove(&request_id);
                self.settle(pending, Err(NetError::Delivery((&error).into())));
            }
            request_response::Event::InboundFailure { peer, error, .. } => {
                debug!(%peer, %error, "inbound time-stamp request failed");
            }
            request_response::Event::ResponseSent { .. } => {}
        }
    }

    fn on_gossip(&mut self, event: gossipsub::Event) {
        let gossipsub::Event::Message {
            propagation_source,
            message_id,
            message,
        } = event
        else {
            return;
        };
        let topic = Topic::from_hash(&message.topic);
        if self.gossip_budget.len() > MAX_GOSSIP_PEERS_TRACKED {
            self.gossip_budget.retain_recent();
        }
        let verdict = if self.gossip_budget.check_key(&propagation_source).is_err() {
            self.gossip_over_budget += 1;
            if self.gossip_over_budget.is_power_of_two() {
                warn!(peer = %propagation_source, ignored = self.gossip_over_budget, "gossip over its sender's budget ignored");
            }
            Validation::Ignore
        } else {
            match topic {
                Some(topic) => self.hooks.gossip.validate(topic, &message.data),
                None => Validation::Reject,
            }
        };
        let acceptance = match verdict {
            Validation::Accept => gossipsub::MessageAcceptance::Accept,
            Validation::Reject => gossipsub::MessageAcceptance::Reject,
            Validation::Ignore => gossipsub::MessageAcceptance::Ignore,
        };
        self.swarm
            .behaviour_mut()
            .gossip
            .report_message_validation_result(&message_id, &propagation_source, acceptance);
        match (verdict, topic) {
            (Validation::Accept, Some(topic)) => {
                let event = NetEvent::Gossip {
                    topic,
                    data: message.data,
                    propagated_by: propagation_source,
                };
                if self.events.try_send(event).is_err() {
                    warn!(
                        ?topic,
                        "event queue full; an accepted gossip message was not delivered"
                    );
                }
            }
            (Validation::Reject, _) => {
                debug!(peer = %propagation_source, ?topic, "rejected a gossip message");
            }
            _ => {}
        }
    }

    /// The addresses this node publishes: confirmed external addresses, then listen
    /// addresses, each with its `/p2p/` suffix; at most [`address::MAX_ADDRESSES`].
    fn own_addresses(&self) -> Vec<Multiaddr> {
        let me = *self.swarm.local_peer_id();
        let mut out: Vec<Multiaddr> = Vec::new();
        for a in self
            .swarm
            .external_addresses()
            .chain(self.swarm.listeners())
        {
            let a = a.clone().with(Protocol::P2p(me));
            if a.len() <= address::MAX_ADDRESS_LEN && !out.contains(&a) {
                out.push(a);
            }
        }
        out.truncate(address::MAX_ADDRESSES);
        out
    }

    /// Signs a new address record if the addresses changed since the last one, and stores
    /// it in the DHT.
    fn publish_record(&mut self, reply: QueryReply) {
        let addresses = self.own_addresses();
        let bytes: Vec<Vec<u8>> = addresses.iter().map(|a| a.to_vec()).collect();
        let current = self
            .record
            .as_ref()
            .filter(|r| r.payload().addresses == bytes)
            .cloned();
        let signed = match current {
            Some(signed) => signed,
            None => {
                let seq = unix_millis().max(
                    self.record
                        .as_ref()
                        .map_or(0, |r| r.payload().seq.saturating_add(1)),
                );
                let record = AddressRecord {
                    party: self.party,
                    node: self.node_key.public_key(),
                    seq,
                    issued_at: Timestamp::from_unix(seq / 1000),
                    addresses: bytes,
                };
                match record.sign(&self.node_key) {
                    Ok(signed) => signed,
                    Err(e) => {
                        warn!(error = %e, "cannot sign the address record");
                        if let QueryReply::Put(reply) = reply {
                            let _ = reply.send(Err(NetError::Publish(
                                "the address record cannot be signed",
                            )));
                        }
                        return;
                    }
                }
            }
        };
        let record = kad::Record::new(record_key(&signed.payload().node), signed.bytes().to_vec());
        self.record = Some(signed);
        match self
            .swarm
            .behaviour_mut()
            .kad
            .put_record(record, kad::Quorum::One)
        {
            Ok(id) => self.queries.push((id, reply)),
            Err(_) => {
                if let QueryReply::Put(reply) = reply {
                    let _ = reply.send(Err(NetError::Publish("the local record store is full")));
                }
            }
        }
    }

    /// After an address change: re-sign and republish, if this node publishes at all.
    fn addresses_changed(&mut self) {
        if self.publishing && self.in_flight() < self.config.max_in_flight {
            self.publish_record(QueryReply::Republish);
        }
    }

    /// Starts one DHT query per node key of `party` the directory holds.
    fn lookup(&mut self, party: PartyId, reply: Reply<Result<Vec<Multiaddr>, NetError>>) {
        let mut keys = self.directory.keys_of(&party);
        keys.truncate(MAX_LOOKUP_KEYS);
        if keys.is_empty() {
            let _ = reply.send(Err(NetError::NotFound));
            return;
        }
        if self.in_flight() + keys.len() > self.config.max_in_flight {
            let _ = reply.send(Err(NetError::Busy));
            return;
        }
        let lookup = self.next_lookup;
        self.next_lookup += 1;
        self.lookups.insert(
            lookup,
            Lookup {
                party,
                pending: keys.len(),
                found: Vec::new(),
                reply,
            },
        );
        for key in keys {
            let id = self.swarm.behaviour_mut().kad.get_record(record_key(&key));
            self.queries.push((id, QueryReply::Get { lookup, key }));
        }
    }

    /// One query of a lookup ended, with these addresses (maybe none).
    fn lookup_step_done(&mut self, lookup: u64, addresses: Vec<Multiaddr>) {
        let Some(state) = self.lookups.get_mut(&lookup) else {
            return;
        };
        state.found.extend(addresses);
        state.pending = state.pending.saturating_sub(1);
        if state.pending == 0
            && let Some(state) = self.lookups.remove(&lookup)
        {
            let _ = state.reply.send(if state.found.is_empty() {
                Err(NetError::NotFound)
            } else {
                Ok(state.found)
            });
        }
    }

    /// A peer asks this node to store a record: only a valid address record, not older
    /// than the one held for the same node key, is stored.
    fn on_put_request(&mut self, source: PeerId, record: kad::Record) {
        use libp2p::kad::store::RecordStore;
        let (signed, _) = match verify_record(record.key.as_ref(), &record.value) {
            Ok(checked) => checked,
            Err(reason) => {
                debug!(peer = %source, %reason, "refused to store an invalid address record");
                return;
            }
        };
        let store = self.swarm.behaviour_mut().kad.store_mut();
        if let Some(held) = store.get(&record.key)
            && let Ok((held, _)) = verify_record(record.key.as_ref(), &held.value)
        {
            let (new_seq, held_seq) = (signed.payload().seq, held.payload().seq);
            if new_seq < held_seq || (new_seq == held_seq && held.bytes() != signed.bytes()) {
                debug!(peer = %source, "refused an address record not newer than the one held");
                return;
            }
        }
        if let Err(e) = store.put(record) {
            debug!(peer = %source, error = %e, "address record not stored");
        }
    }

    fn on_kad(&mut self, event: kad::Event) {
        let (id, result, step) = match event {
            kad::Event::InboundRequest {
                request:
                    kad::InboundRequest::PutRecord {
                        source,
                        record: Some(record),
                        ..
                    },
            } => return self.on_put_request(source, record),
            kad::Event::OutboundQueryProgressed {
                id, result, step, ..
            } => (id, result, step),
            _ => return,
        };
        let Some(i) = self.queries.iter().position(|(q, _)| *q == id) else {
            return;
        };
        match (result, &self.queries[i].1) {
            (kad::QueryResult::PutRecord(result), QueryReply::Put(_)) => {
                let (_, QueryReply::Put(reply)) = self.queries.swap_remove(i) else {
                    return;
                };
                let _ = reply.send(
                    result
                        .map(drop)
                        .map_err(|_| NetError::Publish("no peer stored the address record")),
                );
            }
            (kad::QueryResult::PutRecord(result), QueryReply::Republish) => {
                self.queries.swap_remove(i);
                if let Err(e) = result {
                    debug!(error = %e, "republishing the address record failed");
                }
            }
            (
                kad::QueryResult::GetRecord(Ok(kad::GetRecordOk::FoundRecord(found))),
                &QueryReply::Get { lookup, key },
            ) => {
                let Some(party) = self.lookups.get(&lookup).map(|l| l.party) else {
                    self.queries.swap_remove(i);
                    return;
                };
                // Signed by the node key looked up (the DHT key names it), for the party,
                // and that key still a node key of the party in the directory.
                let checked = verify_record(found.record.key.as_ref(), &found.record.value)
                    .and_then(|(signed, addresses)| {
                        let record = signed.payload();
                        let authorised = super::peer_id_of(&record.node)
                            .and_then(|peer| self.directory.party_of(&peer));
                        if record.node != key || record.party != party || authorised != Some(party)
                        {
                            return Err("a record of another party or an unauthorised key".into());
                        }
                        Ok(addresses)
                    });
                let addresses = match checked {
                    Ok(addresses) => addresses,
                    Err(reason) => {
                        debug!(from = ?found.peer, %reason, "ignored an invalid address record");
                        if step.last {
                            self.queries.swap_remove(i);
                            self.lookup_step_done(lookup, Vec::new());
                        }
                        return;
                    }
                };
                // A valid record of this key: stop asking; its addresses go to the swarm.
                if let Some(mut query) = self.swarm.behaviour_mut().kad.query_mut(&id) {
                    query.finish();
                }
                self.queries.swap_remove(i);
                for address in &addresses {
                    if let Some(peer) = peer_of(address) {
                        self.swarm.add_peer_address(peer, address.clone());
                    }
                }
                self.lookup_step_done(lookup, addresses);
            }
            (kad::QueryResult::GetRecord(_), &QueryReply::Get { lookup, .. }) if step.last => {
                self.queries.swap_remove(i);
                self.lookup_step_done(lookup, Vec::new());
            }
            _ => {}
        }
    }
}
