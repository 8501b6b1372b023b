//! The handle other tasks use to talk to the swarm.

use std::io::Write;

use libp2p::{Multiaddr, PeerId};
use sha2::{Digest as _, Sha256};
use signet_protocol::Digest;
use signet_protocol::party::PartyId;
use signet_protocol::session::SessionId;
use tokio::sync::{mpsc, oneshot};

use super::event_loop::Command;
use super::{NetError, PeerDirectory, Topic, doc, msg, tsa};
use crate::store::{
    BackendError, CHUNK_SIZE, DocumentWriter, MAX_DOCUMENT_CHUNKS, Manifest, Store, StoreError,
};

/// A cloneable handle to the network task. Every call is a command over a bounded channel
/// with a reply; calls wait while the channel is full.
#[derive(Debug, Clone)]
pub struct Client {
    commands: mpsc::Sender<Command>,
    peer_id: PeerId,
}

impl Client {
    pub(crate) fn new(commands: mpsc::Sender<Command>, peer_id: PeerId) -> Self {
        Self { commands, peer_id }
    }

    /// This node's peer id.
    pub fn peer_id(&self) -> PeerId {
        self.peer_id
    }

    async fn call<T>(
        &self,
        command: impl FnOnce(oneshot::Sender<T>) -> Command,
    ) -> Result<T, NetError> {
        let (reply, response) = oneshot::channel();
        self.commands
            .send(command(reply))
            .await
            .map_err(|_| NetError::Stopped)?;
        response.await.map_err(|_| NetError::Stopped)
    }

    /// Listens on `address` (for example `/ip4/0.0.0.0/tcp/4001` or
    /// `/ip4/0.0.0.0/udp/4001/quic-v1`); returns the first address actually listened on
    /// (with the port chosen if it was 0).
    pub async fn listen(&self, address: Multiaddr) -> Result<Multiaddr, NetError> {
        self.call(|reply| Command::Listen { address, reply })
            .await?
    }

    /// Starts dialling `address` (which should end in `/p2p/<peer id>`).
    pub async fn dial(&self, address: Multiaddr) -> Result<(), NetError> {
        self.call(|reply| Command::Dial { address, reply }).await?
    }

    /// Tells the swarm an address of `peer`, used when it must be dialled.
    pub async fn add_address(&self, peer: PeerId, address: Multiaddr) -> Result<(), NetError> {
        self.call(|reply| Command::AddAddress {
            peer,
            address,
            reply,
        })
        .await
    }

    /// Replaces the directory of authenticated peers (see [`PeerDirectory`]).
    pub async fn set_directory(&self, directory: PeerDirectory) -> Result<(), NetError> {
        self.call(|reply| Command::SetDirectory { directory, reply })
            .await
    }

    /// Sends a session message (the exact bytes of a `Signed<SessionMessage>`) to a node of
    /// `party` and waits for its answer: `Ok` once it accepted the message,
    /// [`NetError::Refused`] with its reason otherwise.
    pub async fn send_message(&self, party: PartyId, message: Vec<u8>) -> Result<(), NetError> {
        if message.len() > msg::MAX_REQUEST {
            return Err(NetError::TooLarge {
                len: message.len(),
                max: msg::MAX_REQUEST,
            });
        }
        self.call(|reply| Command::SendMessage {
            party,
            message,
            reply,
        })
        .await?
    }

    /// Sends raw bytes to `peer` on `/signet/msg/1` without the size check, to test that the
    /// receiver enforces its cap.
    #[cfg(test)]
    pub(crate) async fn send_unchecked(
        &self,
        peer: PeerId,
        message: Vec<u8>,
    ) -> Result<(), NetError> {
        self.call(|reply| Command::SendUnchecked {
            peer,
            message,
            reply,
        })
        .await?
    }

    /// Fetches one chunk of a document from a node of `party`.
    pub async fn fetch_chunk(
        &self,
        party: PartyId,
        request: doc::Request,
    ) -> Result<doc::Response, NetError> {
        self.call(|reply| Command::FetchChunk {
            party,
            request,
            reply,
        })
        .await?
    }

    /// Sends one DER RFC 3161 `TimeStampReq` to a node of `party` on `/signet/tsa/1` and
    /// returns its DER `TimeStampResp` as received (shape and size checked, nothing else:
    /// whether the token is good is the caller's to check).
    pub async fn time_stamp(&self, party: PartyId, request: Vec<u8>) -> Result<Vec<u8>, NetError> {
        if request.len() > tsa::MAX_REQUEST {
            return Err(NetError::TooLarge {
                len: request.len(),
                max: tsa::MAX_REQUEST,
            });
        }
        self.call(|reply| Command::TimeStamp {
            party,
            request,
            reply,
        })
        .await?
    }

    /// Fetches document `document` of `session` from `party`'s node, chunk by chunk, into a
    /// file in `staging` (a directory on the node's own disk), checking every chunk's size
    /// against `expected_len` (the size the signed proposal declares, not what the holder
    /// says) and the whole file against the digest; only a complete, checked document enters
    /// the store. Whatever fails leaves nothing behind: the staging file is removed. When
    /// the proposal names the document's SM3 digest (`sm3`, spec §8.2.1, §9.4) the whole
    /// file is checked against it too.
    #[allow(clippy::too_many_arguments)]
    pub async fn fetch_document<S: Store + ?Sized>(
        &self,
        party: PartyId,
        session: SessionId,
        document: Digest,
        expected_len: u64,
        sm3: Option<signet_protocol::sm2::Sm3Digest>,
        store: &S,
        staging: &std::path::Path,
    ) -> Result<Manifest, NetError> {
        let chunks = expected_len.div_ceil(CHUNK_SIZE as u64);
        if chunks > MAX_DOCUMENT_CHUNKS as u64 {
            return Err(NetError::Store(StoreError::DocumentTooLarge {
                max_chunks: MAX_DOCUMENT_CHUNKS,
            }));
        }
        let local = |e: std::io::Error| NetError::Store(StoreError::Backend(BackendError::new(e)));
        std::fs::create_dir_all(staging).map_err(local)?;
        let mut file = tempfile::NamedTempFile::new_in(staging).map_err(local)?;
        let mut hasher = Sha256::new();
        let mut sm3_hasher = sm3.map(|_| signet_protocol::sm2::Sm3Hasher::new());
        let mut index = 0u32;
        loop {
            let request = doc::Request {
                session,
                document,
                index,
            };
            let (document_len, bytes) = match self.fetch_chunk(party, request).await? {
                doc::Response::Chunk {
                    document_len,
                    bytes,
                } => (document_len, bytes),
                doc::Response::Refused(code) => return Err(NetError::Refused(code)),
                doc::Response::NotFound => return Err(NetError::NotFound),
            };
            if document_len != expected_len {
                return Err(NetError::PeerMisbehaved(
                    "the document's length is not the one the proposal declares",
                ));
            }
            let start = u64::from(index) * CHUNK_SIZE as u64;
            let want = expected_len.saturating_sub(start).min(CHUNK_SIZE as u64);
            if bytes.len() as u64 != want {
                return Err(NetError::PeerMisbehaved("a chunk has the wrong size"));
            }
            hasher.update(&bytes);
            if let Some(h) = sm3_hasher.as_mut() {
                h.update(&bytes);
            }
            file.write_all(&bytes).map_err(local)?;
            index += 1;
            if u64::from(index) >= chunks {
                break;
            }
        }
        if Digest::from_bytes(hasher.finalize().into()) != document {
            return Err(NetError::PeerMisbehaved(
                "the document does not have the digest the proposal names",
            ));
        }
        if sm3_hasher.map(signet_protocol::sm2::Sm3Hasher::finish) != sm3 {
            return Err(NetError::PeerMisbehaved(
                "the document does not have the sm3 digest the proposal names",
            ));
        }
        file.flush().map_err(local)?;
        let mut reader = file.reopen().map_err(local)?;
        let mut writer = DocumentWriter::new(store);
        std::io::copy(&mut reader, &mut writer).map_err(|e| match e.downcast::<StoreError>() {
            Ok(store_error) => NetError::Store(store_error),
            Err(e) => local(e),
        })?;
        Ok(writer.finish_expecting(&document)?)
    }

    /// Publishes `data` on a gossip topic. Publishing a payload gossip still holds (message
    /// ids are payload digests, spec §12.7) succeeds without sending it again.
    pub async fn publish(&self, topic: Topic, data: Vec<u8>) -> Result<(), NetError> {
        self.call(|reply| Command::Publish { topic, data, reply })
            .await?
    }

    /// Signs this node's addresses (external, then listen addresses) as its address record
    /// and stores it in the DHT (spec §12.8). From the first call on, the node also re-signs
    /// and republishes the record by itself whenever its addresses change. Fails while no
    /// peer stored it (call again later).
    pub async fn publish_addresses(&self) -> Result<(), NetError> {
        self.call(|reply| Command::PublishAddresses { reply })
            .await?
    }

    /// Looks a party's nodes up in the DHT: the address record of every node key the
    /// directory holds for the party. Returns the addresses of the records that verify
    /// (signed by that key, naming the party) and tells the swarm about them, so that
    /// [`Client::send_message`] can reach the party. [`NetError::NotFound`] if none does.
    pub async fn lookup(&self, party: PartyId) -> Result<Vec<Multiaddr>, NetError> {
        self.call(|reply| Command::Lookup { party, reply }).await?
    }

    /// This node's gossipsub score of `peer` (spec §12.7): negative after it forwarded
    /// rejected messages; `None` if the peer is unknown to gossipsub's scoring.
    pub async fn peer_score(&self, peer: PeerId) -> Result<Option<f64>, NetError> {
        self.call(|reply| Command::PeerScore { peer, reply }).await
    }

    /// Stores a raw DHT record (no check on this side), to test what storing peers accept.
    #[cfg(test)]
    pub(crate) async fn put_raw_record(
        &self,
        key: Vec<u8>,
        value: Vec<u8>,
    ) -> Result<(), NetError> {
        self.call(|reply| Command::PutRawRecord { key, value, reply })
            .await?
    }

    /// The value this node's own record store holds under `key`.
    #[cfg(test)]
    pub(crate) async fn stored_record(&self, key: Vec<u8>) -> Result<Option<Vec<u8>>, NetError> {
        self.call(|reply| Command::StoredRecord { key, reply })
            .await
    }

    /// The peers connected now.
    pub async fn connected_peers(&self) -> Result<Vec<PeerId>, NetError> {
        self.call(|reply| Command::ConnectedPeers { reply }).await
    }

    /// Stops the event loop (pending requests fail with [`NetError::Stopped`]).
    pub async fn shutdown(&self) -> Result<(), NetError> {
        self.call(|reply| Command::Shutdown { reply }).await
    }
}
