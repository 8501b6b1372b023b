//! The task that owns the swarm.

use std::collections::BTreeMap;

use futures::StreamExt;
use futures::future::BoxFuture;
use futures::stream::FuturesUnordered;
use libp2p::core::transport::ListenerId;
use libp2p::multiaddr::Protocol;
use libp2p::request_response::{self, OutboundRequestId, ResponseChannel};
use libp2p::swarm::SwarmEvent;
use libp2p::{Multiaddr, PeerId, Swarm, gossipsub, identify, kad};
use signet_protocol::error::ErrorCode;
use signet_protocol::party::PartyId;
use tokio::sync::{mpsc, oneshot};
use tracing::{debug, info, warn};

use super::behaviour::{Behaviour, BehaviourEvent};
use super::{
    Config, Hooks, NetError, NetEvent, PeerDirectory, Responder, Topic, TransportError, Validation,
    doc, msg,
};

/// The most addresses in a party's DHT record.
const MAX_RECORD_ADDRESSES: usize = 16;

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
    ConnectedPeers {
        reply: Reply<Vec<PeerId>>,
    },
    Shutdown {
        reply: Reply<()>,
    },
}

enum QueryReply {
    Put(Reply<Result<(), NetError>>),
    Get(PartyId, Reply<Result<Vec<Multiaddr>, NetError>>),
}

type MsgReply = (
    ResponseChannel<msg::Response>,
    Result<msg::Response, oneshot::error::RecvError>,
);
type DocReply = (ResponseChannel<doc::Response>, Option<doc::Response>);

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
    /// Outbound requests in flight per peer (messages and chunks together).
    per_peer: BTreeMap<PeerId, usize>,
    queries: Vec<(kad::QueryId, QueryReply)>,
    message_replies: FuturesUnordered<BoxFuture<'static, MsgReply>>,
    chunk_reads: FuturesUnordered<BoxFuture<'static, DocReply>>,
}

impl std::fmt::Debug for EventLoop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventLoop")
            .field("peer_id", self.swarm.local_peer_id())
            .field("party", &self.party)
            .finish_non_exhaustive()
    }
}

fn record_key(party: &PartyId) -> kad::RecordKey {
    let mut key = b"/signet/addr/1/".to_vec();
    key.extend_from_slice(party.digest().as_bytes());
    kad::RecordKey::new(&key)
}

/// Address record value: a sequence of (u16 length ‖ multiaddr bytes).
fn encode_addresses(addresses: &[Multiaddr]) -> Vec<u8> {
    let mut out = Vec::new();
    for a in addresses.iter().take(MAX_RECORD_ADDRESSES) {
        let bytes = a.to_vec();
        if let Ok(len) = u16::try_from(bytes.len()) {
            out.extend_from_slice(&len.to_be_bytes());
            out.extend_from_slice(&bytes);
        }
    }
    out
}

fn decode_addresses(mut bytes: &[u8]) -> Option<Vec<Multiaddr>> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        if out.len() == MAX_RECORD_ADDRESSES || bytes.len() < 2 {
            return None;
        }
        let len = u16::from_be_bytes([bytes[0], bytes[1]]) as usize;
        let item = bytes.get(2..2 + len)?;
        out.push(Multiaddr::try_from(item.to_vec()).ok()?);
        bytes = &bytes[2 + len..];
    }
    Some(out)
}

fn peer_of(address: &Multiaddr) -> Option<PeerId> {
    address.iter().find_map(|p| match p {
        Protocol::P2p(peer) => Some(peer),
        _ => None,
    })
}

impl EventLoop {
    pub(crate) fn new(
        swarm: Swarm<Behaviour>,
        party: PartyId,
        commands: mpsc::Receiver<Command>,
        events: mpsc::Sender<NetEvent>,
        hooks: Hooks,
        config: Config,
    ) -> Self {
        Self {
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
            per_peer: BTreeMap::new(),
            queries: Vec::new(),
            message_replies: FuturesUnordered::new(),
            chunk_reads: FuturesUnordered::new(),
        }
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
                event = self.swarm.select_next_some() => self.on_swarm_event(event),
            }
        }
        info!(peer = %self.swarm.local_peer_id(), "network stopped");
    }

    fn in_flight(&self) -> usize {
        self.sends.len() + self.fetches.len() + self.queries.len()
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
                debug!(peers = directory.len(), "directory updated");
                self.directory = directory;
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
            Command::Publish { topic, data, reply } => {
                let result = self
                    .swarm
                    .behaviour_mut()
                    .gossip
                    .publish(topic.ident(), data)
                    .map(drop)
                    .map_err(|e| {
                        NetError::Publish(match e {
                            gossipsub::PublishError::Duplicate => "already published",
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
                let me = *self.swarm.local_peer_id();
                let addresses: Vec<Multiaddr> = self
                    .swarm
                    .external_addresses()
                    .chain(self.swarm.listeners())
                    .map(|a| a.clone().with(Protocol::P2p(me)))
                    .collect();
                let record =
                    kad::Record::new(record_key(&self.party), encode_addresses(&addresses));
                match self
                    .swarm
                    .behaviour_mut()
                    .kad
                    .put_record(record, kad::Quorum::One)
                {
                    Ok(id) => self.queries.push((id, QueryReply::Put(reply))),
                    Err(_) => {
                        let _ =
                            reply.send(Err(NetError::Publish("the local record store is full")));
                    }
                }
            }
            Command::Lookup { party, reply } => {
                if self.in_flight() >= self.config.max_in_flight {
                    let _ = reply.send(Err(NetError::Busy));
                    return;
                }
                let id = self
                    .swarm
                    .behaviour_mut()
                    .kad
                    .get_record(record_key(&party));
                self.queries.push((id, QueryReply::Get(party, reply)));
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
            }
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
                if let Some((peer, reply)) = self.fetches.remove(&request_id) {
                    self.finished(&peer);
                    let _ = reply.send(Ok(response));
                }
            }
            request_response::Event::OutboundFailure {
                request_id, error, ..
            } => {
                if let Some((peer, reply)) = self.fetches.remove(&request_id) {
                    self.finished(&peer);
                    let _ = reply.send(Err(NetError::Delivery((&error).into())));
                }
            }
            request_response::Event::InboundFailure { peer, error, .. } => {
                debug!(%peer, %error, "inbound chunk request failed");
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
        let verdict = match topic {
            Some(topic) => self.hooks.gossip.validate(topic, &message.data),
            None => Validation::Reject,
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

    fn on_kad(&mut self, event: kad::Event) {
        let kad::Event::OutboundQueryProgressed {
            id, result, step, ..
        } = event
        else {
            return;
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
            (
                kad::QueryResult::GetRecord(Ok(kad::GetRecordOk::FoundRecord(found))),
                QueryReply::Get(party, _),
            ) => {
                // Records are unsigned: keep only addresses of nodes the directory
                // authorises for the party. A record without any (forged, or stale) does not
                // end the query; another peer may hold a good one.
                let authorised = self.directory.peers_of(party).to_vec();
                let addresses: Vec<Multiaddr> = decode_addresses(&found.record.value)
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|a| peer_of(a).is_some_and(|p| authorised.contains(&p)))
                    .collect();
                if addresses.is_empty() {
                    if step.last
                        && let (_, QueryReply::Get(_, reply)) = self.queries.swap_remove(i)
                    {
                        let _ = reply.send(Err(NetError::NotFound));
                    }
                    return;
                }
                if let Some(mut query) = self.swarm.behaviour_mut().kad.query_mut(&id) {
                    query.finish();
                }
                for address in &addresses {
                    if let Some(peer) = peer_of(address) {
                        self.swarm.add_peer_address(peer, address.clone());
                    }
                }
                if let (_, QueryReply::Get(_, reply)) = self.queries.swap_remove(i) {
                    let _ = reply.send(Ok(addresses));
                }
            }
            (kad::QueryResult::GetRecord(_), QueryReply::Get(..)) if step.last => {
                if let (_, QueryReply::Get(_, reply)) = self.queries.swap_remove(i) {
                    let _ = reply.send(Err(NetError::NotFound));
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_records_round_trip_and_junk_is_refused() {
        let peer = PeerId::random();
        let addresses: Vec<Multiaddr> = vec![
            format!("/ip4/127.0.0.1/tcp/4001/p2p/{peer}")
                .parse()
                .unwrap(),
            format!("/ip4/127.0.0.1/udp/4001/quic-v1/p2p/{peer}")
                .parse()
                .unwrap(),
        ];
        let bytes = encode_addresses(&addresses);
        assert_eq!(decode_addresses(&bytes), Some(addresses.clone()));
        assert_eq!(peer_of(&addresses[1]), Some(peer));
        assert_eq!(decode_addresses(&bytes[..bytes.len() - 1]), None);
        assert_eq!(decode_addresses(&[0, 3, 1, 2, 3]), None);
        assert_eq!(decode_addresses(&[]), Some(vec![]));
    }
}
