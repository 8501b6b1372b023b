//! The node service: one party's node, tying the protocol's sessions to storage, the outbox
//! and the network.
//!
//! A [`Service`] owns the party's keys (from `DIR/keys`), its configuration, its store, trust
//! store and policy, its sessions, its evidence log, its outbox and, once started, a network
//! [`Client`]. [`Service::start`] runs three tasks until the shutdown signal:
//!
//! - **inbound**: each session message from an authenticated peer is decoded and routed to
//!   its session (or starts one when it is a proposal), persisted, and only then acknowledged
//!   on the wire; a refusal is answered with the protocol's wire error code;
//! - **outbox**: due messages go to their recipients, with exponential backoff and jitter
//!   on failure (real clock); a counterparty offline for a while gets everything when it
//!   returns, and the sessions' duplicate detection makes the at-least-once delivery
//!   exactly-once in effect. A message the recipient refuses with `retry-later`,
//!   `indeterminate` or `unauthenticated-peer` (it lacks a key log or attestation yet) is
//!   retried with backoff; any other refusal drops it (logged): resending the same signed
//!   bytes cannot change that verdict;
//! - **documents**: a participant fetches a new session's documents from the initiator,
//!   chunk by chunk, each digest-checked; only a session's participants may fetch its
//!   documents from this node (the `/signet/doc/1` access hook reads the sessions).
//!
//! Sessions persist as snapshots of their state (every signed object as its exact bytes),
//! restored without signing anything; only open sessions are held in memory (see
//! [`journal`]). Every session event is appended to the evidence log.
//!
//! A node configured as a witness cosigns other parties' checkpoints: the witness protocol
//! of spec §10.5.4 over `/signet/msg/1`, answers delivered through the outbox (see
//! [`witness`]).
//!
//! Session events also go to the configured webhooks (see [`webhook`]).
//!
//! Key logs and attestations spread by gossip (see [`gossip`]).

pub mod authority;
pub mod config;
mod core;
pub mod crl;
mod evidence_log;
pub use self::core::Refusal;
pub mod gossip;
pub mod init;
pub mod journal;
pub mod keys;
pub mod metrics;
pub mod pdf;
pub mod tsa;
pub mod view;
pub mod webhook;
pub mod witness;

pub use self::view::{
    DocumentSummary, ParticipantSummary, PartyName, SessionSummary, TimelineEntry,
};

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use signet_protocol::attestation::SignedAttestation;
use signet_protocol::attestation::{
    AssuranceLevel, Attestation, Claims, IdentityClaims, Revocation, RevocationReason,
    RevocationTarget, VerificationMethod,
};
use signet_protocol::bundle::AssembleError;
use signet_protocol::error::ErrorCode;
use signet_protocol::error::WireError;
use signet_protocol::evidence::{SignedCheckpoint, witness_name};
use signet_protocol::party::AttestationId;
use signet_protocol::party::PartyId;
use signet_protocol::registration::Registration;
use signet_protocol::seal::SealKind;
use signet_protocol::session::{
    ActionError, Algorithms, DocumentRef, EvidenceRequirements, Participant, Proposal, Role,
    SessionError, SessionId, SessionNonce,
};
use signet_protocol::transport::msg::RequestKind;
use signet_protocol::transport::witness::{CosignRequest, WitnessMessage};
use signet_protocol::{Digest, SecretKey, Timestamp};
use tokio::sync::{Notify, mpsc, oneshot, watch};

use self::config::{ConfigError, NodeConfig};
use self::core::{Core, Inbound};
use self::journal::{CorruptJournal, Input};
use self::keys::PartyKeys;
use self::metrics::Metrics;
use crate::keyfile::KeyFileError;
use crate::net::{self, Client, Hooks, Multiaddr, NetError, NetEvent, PeerDirectory, msg};
use crate::outbox::OutboxError;
use crate::store::trust::TrustDataError;
use crate::store::{Store, StoreError, put_document};

/// Why a service operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServiceError {
    /// The store failed.
    #[error("storage: {0}")]
    Store(#[from] StoreError),
    /// The outbox refused.
    #[error("outbox: {0}")]
    Outbox(#[from] OutboxError),
    /// Stored key logs or attestations are invalid.
    #[error("trust data: {0}")]
    Trust(#[from] TrustDataError),
    /// A key file could not be read.
    #[error("{0}")]
    KeyFile(#[from] KeyFileError),
    /// The configuration is unusable.
    #[error("{0}")]
    Config(#[from] ConfigError),
    /// The protocol refused the action (the caller's request cannot be done).
    #[error("{0}")]
    Action(#[from] ActionError),
    /// A journalled message no longer replays.
    #[error("replay: {0}")]
    Replay(SessionError),
    /// A stored journal is corrupt.
    #[error("{0}")]
    Journal(#[from] CorruptJournal),
    /// A stored session snapshot does not restore.
    #[error("stored session: {0}")]
    Snapshot(signet_protocol::session::SnapshotError),
    /// Stored state is inconsistent.
    #[error("corrupt state: {0}")]
    Corrupt(&'static str),
    /// No such session.
    #[error("no session {0}")]
    UnknownSession(SessionId),
    /// The session has no document of that index.
    #[error("session {session} has no document {index}")]
    NoSuchDocument {
        /// The session.
        session: SessionId,
        /// The index asked for.
        index: usize,
    },
    /// A document of the session has not arrived yet.
    #[error("document {0} has not been fetched yet")]
    DocumentsMissing(Digest),
    /// No seal mandate of this party covers this use of the seal by the delegate (its key,
    /// the seal, the session's purpose, value and counterparties, now, unrevoked): the reason
    /// the newest candidate fails, or that there is none.
    #[error("no seal mandate covers this signature: {0}")]
    NoMandate(String),
    /// The bundle cannot be built.
    #[error("bundle: {0}")]
    Assemble(AssembleError),
    /// The network failed.
    #[error("network: {0}")]
    Net(#[from] NetError),
    /// The request is invalid.
    #[error("{0}")]
    Usage(String),
    /// This node has issued no PDF certificate, so it has no CA certificate or CRL.
    #[error("this node has certified no PDF key: it has no CA certificate or CRL")]
    NotACertificationAuthority,
    /// A witness did not time-stamp, or its token failed a check (see [`tsa`]).
    #[error("time-stamp: {0}")]
    TimeStamp(#[from] tsa::WitnessTimeStampError),
    /// A CRL was refused (see [`crl`]); nothing changed.
    #[error("crl refused: {0}")]
    Crl(#[from] crl::CrlRefused),
    /// The session requires national algorithms (spec §8.2.5) and this party cannot meet
    /// them (no SM2 PDF key and certificate, say), or its policy requires them and the
    /// request does not.
    #[error("national algorithms (SM2 seals, SM3 digests) are required: {0}")]
    NationalAlgorithms(String),
    /// The service is not running.
    #[error("the node is not started")]
    NotStarted,
    /// A background task failed.
    #[error("internal: {0}")]
    Internal(&'static str),
}

/// The current time from the system clock.
pub fn now() -> Timestamp {
    Timestamp::from_unix(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
    )
}

/// How often a node issues a new revocation list when nothing was revoked: a day, well
/// inside the default freshness of 7 days (`config::DEFAULT_REVOCATION_FRESHNESS_DAYS`).
pub const REVOCATION_LIST_REFRESH: Duration = Duration::from_secs(86_400);

/// The most inbound session messages applied together under one sync.
pub const INBOUND_BATCH: usize = 64;

/// The most messages the outbox loop has on the wire at once (over all recipients).
pub const MAX_SENDING: usize = 256;

/// How many recent refusals [`Service::refusals`] keeps.
pub const MAX_REFUSALS_KEPT: usize = 256;

/// How long [`Service::cosigned_checkpoint`] waits for a witness's answer to one request.
pub const WITNESS_ANSWER_TIMEOUT: Duration = Duration::from_secs(10);

/// Who may fetch which document: (session, participants, documents).
type Access = Arc<RwLock<BTreeMap<SessionId, (Vec<PartyId>, Vec<Digest>)>>>;

/// Which sessions [`Service::sessions`] lists.
#[derive(Debug, Clone, Default)]
pub struct SessionFilter {
    /// Only these statuses (all when empty).
    pub statuses: Vec<String>,
    /// Only sessions this party proposed (`initiator`) or was invited to (`participant`).
    pub side: Option<String>,
    /// Only sessions awaiting this party (id, hex).
    pub waiting: Option<String>,
    /// Only sessions where it is this party's turn.
    pub mine: bool,
    /// Sessions after this id (the previous page's cursor).
    pub after: Option<SessionId>,
    /// At most this many (at least one).
    pub limit: usize,
}

/// One page of [`Service::sessions`].
#[derive(Debug, Clone)]
pub struct SessionPage {
    /// The sessions, in id order.
    pub sessions: Vec<SessionSummary>,
    /// The cursor of the next page (the last id of this one), if more match.
    pub next: Option<String>,
}

/// A participant to add to a new session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewParticipant {
    /// The party.
    pub party: PartyId,
    /// Signer or approver.
    pub role: Role,
    /// Routing order: lower groups act first; equal orders act in parallel.
    pub order: u32,
}

/// Where a new document's bytes come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DocumentSource {
    /// A file, streamed in.
    Path(PathBuf),
    /// Bytes already in memory.
    Bytes(Vec<u8>),
    /// A document already in the store, by digest (see [`Service::upload_document`]).
    Stored(Digest),
}

/// A document to attach to a new session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDocument {
    /// File name.
    pub name: String,
    /// Media type.
    pub media_type: String,
    /// Its content.
    pub source: DocumentSource,
    /// `Some` to have every signer seal it as a PDF, with the seal placements the proposal
    /// gives (spec §8.2.4; signers not listed get the default place).
    pub pdf_seals: Option<Vec<signet_protocol::session::SealPlacement>>,
}

/// A new session's content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSession {
    /// Title.
    pub title: String,
    /// Purpose, matched against seal mandates.
    pub purpose: String,
    /// Participants.
    pub participants: Vec<NewParticipant>,
    /// Documents.
    pub documents: Vec<NewDocument>,
    /// Days until the deadline.
    pub deadline_days: u64,
    /// Witnesses whose cosignature every party's evidence must carry.
    pub witnesses: Vec<PartyId>,
    /// The algorithms the session requires (spec §8.2.5): `Some(National)` for SM2 seal
    /// signatures and SM3 document digests. A party whose policy requires national
    /// algorithms (`[policy] require_national_algorithms`) proposes with them whatever
    /// this says.
    pub algorithms: Option<Algorithms>,
}

/// One party's node. See the [module documentation](self).
#[derive(Debug)]
pub struct Service {
    dir: PathBuf,
    config: NodeConfig,
    me: PartyId,
    core: Mutex<Core>,
    store: Arc<dyn Store>,
    access: Access,
    client: OnceLock<Client>,
    /// A document to fetch was left out (the fetch queue was full, or its fetch gave up):
    /// the fetch loop looks again for everything missing (see [`Service::fetch_loop`]).
    fetches_left_out: AtomicBool,
    /// How many peer directories the node has built (see [`Service::directory`]).
    directories: std::sync::atomic::AtomicU64,
    /// Gossiped attestations whose issuer's key log had not arrived yet (at most
    /// [`MAX_EARLY_ATTESTATIONS`], oldest dropped first): taken when it does. Gossip drops a
    /// republished copy it has seen for a minute, so waiting for the next copy is not enough.
    early: Mutex<std::collections::VecDeque<(PartyId, Vec<u8>)>>,
    /// The CRL last made, with its time (see [`Service::pdf_crl`]).
    crl: Mutex<Option<(Timestamp, Vec<u8>)>>,
    /// The CRLs of the policy's CA roots, kept current (see [`crl`]).
    crls: crl::CrlState,
    wake: Notify,
    metrics: Metrics,
    /// Cosign requests awaiting the witness's answer, by witness and the note's digest.
    pending: Mutex<BTreeMap<(PartyId, Digest), oneshot::Sender<WitnessMessage>>>,
    /// The latest inbound refusals (at most [`MAX_REFUSALS_KEPT`]).
    refusals: Mutex<std::collections::VecDeque<Refusal>>,
    /// The size each witness last cosigned for this party's log, as far as this node knows.
    witnessed: Mutex<BTreeMap<PartyId, u64>>,
    /// The tasks [`Service::start`] spawned, joined by [`Service::join`].
    tasks: Mutex<tokio::task::JoinSet<()>>,
}

impl Service {
    /// Opens the party directory `dir` (see [`config`]): reads the configuration and keys,
    /// opens the store and rebuilds trust, sessions, evidence and outbox from it.
    pub fn open(dir: &Path) -> Result<Arc<Self>, ServiceError> {
        let config = NodeConfig::load(dir)?;
        let store = config.storage.open(dir)?;
        Self::with_store(dir, config, store)
    }

    /// Like [`Service::open`], with the store given.
    pub fn with_store(
        dir: &Path,
        config: NodeConfig,
        store: Arc<dyn Store>,
    ) -> Result<Arc<Self>, ServiceError> {
        let me = config.party_id()?;
        let own_log = signet_protocol::keylog::KeyLog::replay(store.key_events(&me)?)
            .map_err(|_| ServiceError::Corrupt("own key log"))?;
        keys::finish_rotations(&dir.join("keys"), &own_log)?;
        let keys = PartyKeys::load(&dir.join("keys"))?;
        let policy = config.trust_policy()?;
        let witness_file = config.witness.then(|| dir.join("witness-checkpoints"));
        let mut core = Core::open(me, keys, policy, store.clone(), witness_file)?;
        // A node key taken at this start (see `rotate_key`): the old one is retired, from
        // the next whole second (what it signed in this one, before a restart, stays valid).
        if core.keys.node.public_key() != own_log_node_key(&own_log)? {
            let start = now();
            while now() == start {
                std::thread::sleep(Duration::from_millis(20));
            }
            let retired = core.retire_old_node_keys(now())?;
            tracing::info!(retired, "took the new node key; the old one is retired");
        }
        match core.ensure_pdf_key(&dir.join("keys"), now()) {
            Ok(true) => {
                tracing::info!("declared a PDF key (ECDSA P-256) for the party's PAdES signatures");
            }
            Ok(false) => {}
            // Everything but PDF signatures works without one: say so, and serve.
            Err(error) => tracing::warn!(%error, "no PDF key declared"),
        }
        if let Some(key) = pdf::own_sm2_key(dir, &config.pdf, true)?
            && core.ensure_sm2_pdf_key(key.public_key(), now())?
        {
            tracing::info!("declared the SM2 PDF key for national-algorithm seals");
        }
        tsa::declare_at_start(&mut core, config.witness, dir);
        let crls = crate::certificate::load_crls(&dir.join(config::CRL_DIR), &mut core.trust);
        if crls > 0 || !config.policy.ca_roots.is_empty() {
            tracing::info!(
                roots = config.policy.ca_roots.len(),
                crls,
                "CA roots and CRLs for certificate-backed identities"
            );
        }
        core.webhooks = config.webhooks.iter().map(|w| w.url.clone()).collect();
        core.peer_limits = config.peer_limits.clone();
        core.require_national = config.policy.require_national_algorithms;
        let access: Access = Arc::default();
        {
            let mut map = access.write().map_err(|_| ServiceError::Internal("lock"))?;
            for (id, t) in &core.sessions {
                map.insert(*id, access_entry(&t.session));
            }
        }
        tracing::info!(party = %me, sessions = core.sessions.len(), evidence = core.evidence.len(), outbox = core.outbox.len(), "node opened");
        let crls = crl::CrlState::new(&config.policy.ca_roots);
        let service = Arc::new(Self {
            dir: dir.to_path_buf(),
            config,
            me,
            core: Mutex::new(core),
            store,
            access,
            client: OnceLock::new(),
            directories: std::sync::atomic::AtomicU64::new(0),
            early: Mutex::default(),
            crl: Mutex::default(),
            fetches_left_out: AtomicBool::new(false),
            crls,
            wake: Notify::new(),
            metrics: Metrics::default(),
            pending: Mutex::default(),
            refusals: Mutex::default(),
            witnessed: Mutex::default(),
            tasks: Mutex::default(),
        });
        service.note_held_crls()?;
        Ok(service)
    }

    /// This party's id.
    pub fn party(&self) -> PartyId {
        self.me
    }

    /// The configuration.
    pub fn config(&self) -> &NodeConfig {
        &self.config
    }

    /// The party directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn core(&self) -> Result<MutexGuard<'_, Core>, ServiceError> {
        // A poisoned lock means a panic mid-operation; refuse rather than use torn state.
        self.core
            .lock()
            .map_err(|_| ServiceError::Internal("state lock poisoned"))
    }

    /// Runs a session step of an API call on the core with its commit deferred, and makes it
    /// durable after the core's lock is released, returning only then (the caller's answer
    /// acknowledges the step). Concurrent callers thus share one flush (group commit)
    /// instead of flushing one after another under the lock; the step's messages, webhooks
    /// and checkpoints wait for that flush as those of inbound steps do.
    fn step_deferred<T>(
        &self,
        step: impl FnOnce(&mut Core) -> Result<T, ServiceError>,
    ) -> Result<T, ServiceError> {
        let result = {
            let mut core = self.core()?;
            core.defer_sync = true;
            let result = step(&mut core);
            core.defer_sync = false;
            result
        };
        self.store.sync()?;
        result
    }

    /// Keeps the document-access map in step with session `id`: open sessions are in it;
    /// an ended one leaves it (the hook reads ended sessions from the store).
    fn note_access(&self, id: SessionId) -> Result<(), ServiceError> {
        let core = self.core()?;
        let mut map = self
            .access
            .write()
            .map_err(|_| ServiceError::Internal("lock"))?;
        match core.sessions.get(&id) {
            Some(t) => map.insert(id, access_entry(&t.session)),
            None => map.remove(&id),
        };
        Ok(())
    }

    // ---- operations ----

    /// SM3 of a stored document, read chunk by chunk (spec §8.2.1).
    fn document_sm3(
        &self,
        digest: &Digest,
    ) -> Result<signet_protocol::sm2::Sm3Digest, ServiceError> {
        let mut reader = crate::store::DocumentReader::open(&*self.store, digest)?
            .ok_or(ServiceError::DocumentsMissing(*digest))?;
        let mut hasher = signet_protocol::sm2::Sm3Hasher::new();
        let mut buffer = vec![0u8; 64 * 1024];
        loop {
            let n = std::io::Read::read(&mut reader, &mut buffer)
                .map_err(|e| ServiceError::Usage(format!("document {digest}: {e}")))?;
            if n == 0 {
                break;
            }
            hasher.update(&buffer[..n]);
        }
        Ok(hasher.finish())
    }

    /// Creates a session: stores its documents (streamed, chunked) and proposes it to the
    /// participants. Returns its id.
    pub fn create_session(&self, new: NewSession) -> Result<SessionId, ServiceError> {
        let now = now();
        let algorithms = if self.config.policy.require_national_algorithms {
            Some(Algorithms::National)
        } else {
            new.algorithms
        };
        let mut documents = Vec::new();
        for d in &new.documents {
            let (digest, manifest) = match &d.source {
                DocumentSource::Path(path) => {
                    let mut file = std::fs::File::open(path).map_err(|e| {
                        ServiceError::Usage(format!("document {}: {e}", path.display()))
                    })?;
                    put_document(&*self.store, &mut file)?
                }
                DocumentSource::Bytes(bytes) => put_document(&*self.store, &mut &bytes[..])?,
                DocumentSource::Stored(digest) => {
                    let manifest = self.store.manifest(digest)?.ok_or_else(|| {
                        ServiceError::Usage(format!(
                            "document {digest} is not stored here (upload it first)"
                        ))
                    })?;
                    (*digest, manifest)
                }
            };
            documents.push(DocumentRef {
                name: d.name.clone(),
                media_type: d.media_type.clone(),
                size: manifest.len(),
                digest,
                // Only a session that requires algorithms names SM3 digests, so every other
                // proposal keeps the bytes it always had.
                sm3: match algorithms {
                    Some(_) => Some(self.document_sm3(&digest)?),
                    None => None,
                },
                pdf_seals: d.pdf_seals.clone(),
            });
        }
        let nonce = SessionNonce::from_bytes(random_bytes()?);
        let proposal = Proposal {
            session: SessionId::derive(&self.me, &nonce),
            nonce,
            revision: 0,
            initiator: self.me,
            title: new.title,
            documents,
            participants: new
                .participants
                .iter()
                .map(|p| Participant {
                    party: p.party,
                    role: p.role,
                    order: p.order,
                    seal_kind: (p.role == Role::Signer).then_some(SealKind::Contract),
                })
                .collect(),
            purpose: new.purpose,
            value: None,
            deadline: now.plus(new.deadline_days.max(1) * 86_400),
            evidence: EvidenceRequirements {
                min_cosignatures: new.witnesses.len().try_into().unwrap_or(u8::MAX).into(),
                witnesses: new.witnesses,
            },
            created_at: now,
            algorithms,
        };
        let id = self.step_deferred(|core| core.propose(proposal, now))?;
        self.note_access(id)?;
        self.wake.notify_one();
        Ok(id)
    }

    /// One page of sessions, in id order, as summaries: those matching `filter`, after its
    /// cursor, at most its limit, with the cursor of the next page if there is one. Reads
    /// the store's status index page by page, so the cost follows the page, not the number
    /// of sessions stored; open sessions come from memory, ended ones from their snapshots.
    pub fn sessions(&self, filter: &SessionFilter) -> Result<SessionPage, ServiceError> {
        /// Ids read from the status index at a time.
        const BATCH: usize = 256;
        let core = self.core()?;
        let mut namer = self.namer(&core);
        let statuses: Vec<&str> = if filter.statuses.is_empty() {
            self::core::STATUSES.to_vec()
        } else {
            filter.statuses.iter().map(String::as_str).collect()
        };
        let limit = filter.limit.max(1);
        let mut cursor = filter.after;
        let mut sessions = Vec::new();
        loop {
            let mut ids = Vec::new();
            for status in &statuses {
                ids.extend(core.store.sessions_page(status, cursor.as_ref(), BATCH)?);
            }
            ids.sort();
            ids.truncate(BATCH);
            if ids.is_empty() {
                return Ok(SessionPage {
                    sessions,
                    next: None,
                });
            }
            // Read a page's worth of listings at a time (a filter may skip some).
            for chunk in ids.chunks(limit.saturating_add(1).min(BATCH)) {
                let listings = core.listings(chunk)?;
                let present = view::documents_present(&core, listings.iter().flatten())?;
                for (id, listing) in chunk.iter().copied().zip(listings) {
                    cursor = Some(id);
                    let Some(listing) = listing else {
                        continue;
                    };
                    let s = view::summary_of(&core, &mut namer, &id, listing, &present)?;
                    let wanted = filter.side.as_deref().is_none_or(|x| s.side == x)
                        && filter
                            .waiting
                            .as_deref()
                            .is_none_or(|w| s.waiting_for.iter().any(|p| p == w))
                        && (!filter.mine || s.waiting_for_me);
                    if !wanted {
                        continue;
                    }
                    if sessions.len() == limit {
                        let next = sessions.last().map(|s: &SessionSummary| s.id.clone());
                        return Ok(SessionPage { sessions, next });
                    }
                    sessions.push(s);
                }
            }
        }
    }

    /// A session's current signed proposal (its exact COSE_Sign1 bytes).
    pub fn signed_proposal(&self, id: SessionId) -> Result<Vec<u8>, ServiceError> {
        let core = self.core()?;
        let t = core.known(&id)?;
        Ok(t.session.proposal().bytes().to_vec())
    }

    /// One session.
    pub fn session(&self, id: SessionId) -> Result<SessionSummary, ServiceError> {
        let core = self.core()?;
        let mut namer = self.namer(&core);
        view::summary(&core, &mut namer, &id)?.ok_or(ServiceError::UnknownSession(id))
    }

    fn namer<'a>(&'a self, core: &'a Core) -> view::Namer<'a> {
        view::Namer::new(core, &self.config.legal_name, &self.config.registration)
    }

    /// Every other party whose key log this node holds, named as trust evaluation
    /// establishes them now (verified first, then by name).
    pub fn known_parties(&self) -> Result<Vec<PartyName>, ServiceError> {
        let core = self.core()?;
        let parties: Vec<PartyId> = core
            .trust
            .key_logs()
            .map(|log| log.party())
            .filter(|p| *p != self.me)
            .collect();
        let mut namer = self.namer(&core);
        let mut names: Vec<PartyName> = parties.iter().map(|p| namer.name(p)).collect();
        names.sort_by(|a, b| {
            (!a.verified(), &a.legal_name, &a.party).cmp(&(!b.verified(), &b.legal_name, &b.party))
        });
        Ok(names)
    }

    /// Who each of `parties` is, as far as this node's trust evaluation establishes now.
    pub fn party_names(&self, parties: &[PartyId]) -> Result<Vec<PartyName>, ServiceError> {
        let core = self.core()?;
        let mut namer = self.namer(&core);
        Ok(parties.iter().map(|p| namer.name(p)).collect())
    }

    /// Document `index` of session `id`: what the proposal says of it and its manifest, once
    /// this node holds it (fetched and digest-checked).
    pub fn session_document(
        &self,
        id: SessionId,
        index: usize,
    ) -> Result<(DocumentSummary, crate::store::Manifest), ServiceError> {
        let summary = self.session(id)?;
        let doc = summary
            .document_list
            .into_iter()
            .nth(index)
            .ok_or(ServiceError::NoSuchDocument { session: id, index })?;
        let digest = Digest::from_hex(&doc.digest).map_err(|_| ServiceError::Corrupt("digest"))?;
        let manifest = self
            .store
            .manifest(&digest)?
            .ok_or(ServiceError::DocumentsMissing(digest))?;
        Ok((doc, manifest))
    }

    /// Chunk `index` of `document` (whose manifest is `manifest`), checked against its
    /// digest; `None` past the last chunk.
    pub fn document_chunk(
        &self,
        document: &Digest,
        manifest: &crate::store::Manifest,
        index: usize,
    ) -> Result<Option<Vec<u8>>, ServiceError> {
        Ok(crate::store::read_chunk(
            &*self.store,
            document,
            manifest,
            index,
        )?)
    }

    fn act(&self, id: SessionId, input: Input) -> Result<(), ServiceError> {
        self.core()?.act(id, input, now())?;
        self.wake.notify_one();
        Ok(())
    }

    /// Acknowledges receipt of a proposal.
    pub fn acknowledge(&self, id: SessionId) -> Result<(), ServiceError> {
        self.act(id, Input::Acknowledge)
    }

    /// Approves (as an approver).
    pub fn approve(&self, id: SessionId) -> Result<(), ServiceError> {
        self.act(id, Input::Approve)
    }

    /// Declines, with a reason.
    pub fn decline(&self, id: SessionId, reason: &str) -> Result<(), ServiceError> {
        self.act(id, Input::Decline(reason.to_string()))
    }

    /// Cancels (as the initiator), with a reason.
    pub fn cancel(&self, id: SessionId, reason: &str) -> Result<(), ServiceError> {
        self.act(id, Input::Cancel(reason.to_string()))
    }

    /// Reminds the awaited parties.
    pub fn remind(&self, id: SessionId, note: &str) -> Result<(), ServiceError> {
        self.act(id, Input::Remind(note.to_string()))
    }

    /// The intent challenge a person signs (on their own device) to sign session `id` for
    /// this party by `method`; offered only once every document is here, so the person can
    /// read what they sign first. It expires [`signet_protocol::session::MAX_INTENT_AGE`]
    /// seconds after it is issued.
    pub fn intent_challenge(
        &self,
        id: SessionId,
        method: signet_protocol::session::IntentMethod,
    ) -> Result<signet_protocol::session::IntentChallenge, ServiceError> {
        self.core()?.intent_offer(id, method, now())
    }

    /// Signs session `id` on a person's intent proof (a COSE_Sign1 by their key file, or a
    /// WebAuthn assertion by their passkey) over a challenge from
    /// [`Service::intent_challenge`]: the mandate that covers this use by that person is
    /// found, and this party's seal signs. No person's key reaches the node.
    ///
    /// When the proposal has documents sealed as PDFs, this party's seal is added to each
    /// first (see `Service::seal_session_pdfs`): it may wait for the witness's time-stamp,
    /// so call it off the async runtime.
    pub fn sign(&self, id: SessionId, intent: &[u8]) -> Result<(), ServiceError> {
        // The checks that need no PDF first (the documents here, a seal the session's
        // algorithms allow), so that a refused signature seals and stores nothing.
        drop(self.core()?.seal_to_apply(id)?);
        let pdf = self.seal_session_pdfs(id)?;
        self.step_deferred(|core| core.sign_with_intent(id, intent, pdf, now()))?;
        self.note_access(id)?;
        self.wake.notify_one();
        Ok(())
    }

    /// Shares this party's evidence about a completed session with the other parties,
    /// under a fresh checkpoint of the evidence log (not cosigned: see the module docs).
    pub fn share_evidence(&self, id: SessionId) -> Result<(), ServiceError> {
        let mut core = self.core()?;
        let checkpoint = core.checkpoint()?;
        core.share_evidence(id, &checkpoint, now())?;
        drop(core);
        self.wake.notify_one();
        Ok(())
    }

    /// A signed checkpoint of the evidence log (C2SP note text).
    pub fn checkpoint(&self) -> Result<String, ServiceError> {
        let core = self.core()?;
        String::from_utf8(core.checkpoint()?.to_bytes())
            .map_err(|_| ServiceError::Internal("checkpoint note is UTF-8"))
    }

    /// The bundle of a completed session (encoded).
    pub fn export_bundle(&self, id: SessionId) -> Result<Vec<u8>, ServiceError> {
        self.core()?.bundle(id)
    }

    /// Imports a party's key log (its events).
    pub fn import_key_log(&self, events: &[Vec<u8>]) -> Result<PartyId, ServiceError> {
        let party = self.core()?.import_key_log(events)?;
        self.refresh_directory();
        self.certify_pdf_keys_logged(party);
        Ok(party)
    }

    /// Imports an attestation.
    pub fn import_attestation(&self, bytes: &[u8]) -> Result<SignedAttestation, ServiceError> {
        let a = self
            .core()?
            .import_attestation(bytes, self::core::Source::Operator, now())?;
        self.note_attestation(&a);
        Ok(a)
    }

    /// Attests `subject`'s identity (real-name verification done by this party's staff),
    /// valid for `days`.
    pub fn attest_identity(
        &self,
        subject: PartyId,
        legal_name: &str,
        registration: &str,
        representative: &str,
        days: u64,
    ) -> Result<SignedAttestation, ServiceError> {
        let registration = Registration::uscc(registration)
            .map_err(|e| ServiceError::Usage(format!("registration number: {e}")))?;
        let claims = Claims::Identity(IdentityClaims {
            legal_name: legal_name.to_string(),
            registration,
            jurisdiction: "CN".into(),
            legal_representative: representative.to_string(),
            method: VerificationMethod::BankTransfer,
            assurance: AssuranceLevel::High,
        });
        let identity = self.core()?.issue(subject, claims, days, now())?;
        self.certify_pdf_keys_logged(subject);
        Ok(identity)
    }

    /// Attests `subject`'s identity from its CA-issued certificate `certificate` (DER, the
    /// first of its path), as a verifier: only when this node holds the subject's own
    /// `ca-identity` attestation for that certificate (its proof of holding the key) and
    /// trusts the subject on it under this node's policy now (the CA root listed, the path
    /// valid, a current CRL not listing it; spec §6.11). The identity attestation names the
    /// legal name and USCC the certificate names, method `ca-certificate`, so that parties
    /// who trust this verifier but not the CA trust the subject too.
    pub fn attest_identity_from_certificate(
        &self,
        subject: PartyId,
        certificate: &[u8],
        representative: &str,
        days: u64,
    ) -> Result<SignedAttestation, ServiceError> {
        let now = now();
        let (legal_name, registration) = {
            let core = self.core()?;
            let held = core
                .trust
                .about(&subject, signet_protocol::attestation::AttestationKind::CaIdentity)
                .find(|a| {
                    matches!(&a.payload().claims, Claims::CaIdentity(c)
                        if a.payload().issuer == subject && c.leaf() == Some(certificate))
                })
                .map(|a| a.payload().id)
                .ok_or_else(|| {
                    ServiceError::Usage(format!(
                        "no ca-identity attestation of {subject} for this certificate is held: the subject proves it holds the certified key with one (signet init --certificate), which reaches this node by gossip or `signet attest import`"
                    ))
                })?;
            match signet_protocol::trust::evaluate(&core.policy, &core.trust, &subject, now) {
                signet_protocol::trust::Verdict::Trusted {
                    identity,
                    path: signet_protocol::trust::TrustPath::Certificate(evidence),
                } if evidence.link.attestation == held => {
                    (identity.legal_name, evidence.uscc.clone())
                }
                other => {
                    return Err(ServiceError::Usage(format!(
                        "the subject's certificate does not establish its identity under this node's policy (add the CA root and a current CRL: signet policy ca add, signet policy crl add): {other}"
                    )));
                }
            }
        };
        let claims = Claims::Identity(IdentityClaims {
            legal_name,
            registration,
            jurisdiction: "CN".into(),
            legal_representative: representative.to_string(),
            method: VerificationMethod::CaCertificate,
            assurance: AssuranceLevel::High,
        });
        let identity = self.core()?.issue(subject, claims, days, now)?;
        self.certify_pdf_keys_logged(subject);
        Ok(identity)
    }

    /// The CA roots of the trust policy: each one's name and subject (RFC 4514), its CRL's
    /// status ([`crl::CrlStatus`]: thisUpdate, nextUpdate, where it came from, the last
    /// fetch and its error), and the intermediate CAs below it whose CRLs the node keeps
    /// ([`crl::IntermediateStatus`]).
    pub fn ca_roots(&self) -> Vec<serde_json::Value> {
        use der::Decode as _;
        let statuses = self.crl_statuses().unwrap_or_default();
        let intermediates = self.intermediate_crl_statuses().unwrap_or_default();
        let Ok(core) = self.core() else {
            return Vec::new();
        };
        core.policy
            .ca_roots
            .iter()
            .map(|r| {
                let subject = x509_cert::Certificate::from_der(&r.certificate)
                    .map(|c| c.tbs_certificate().subject().to_string())
                    .unwrap_or_default();
                let crl = statuses.get(&r.name).cloned().unwrap_or_default();
                let below: Vec<_> = intermediates.iter().filter(|i| i.root == r.name).collect();
                serde_json::json!({"name": r.name, "subject": subject, "crl": crl, "intermediates": below})
            })
            .collect()
    }

    /// Adds a CA root (PEM or DER, a CA certificate) to the trust policy under `name`: in
    /// effect at once, and written to the configuration (spec §6.11, `signet policy ca add`).
    /// Its CRL is fetched from `crl_url` (an `http://` URL) when given, else from the
    /// distribution points of the certificates it issued (see [`crl`]), from now on.
    pub fn add_ca_root(
        &self,
        name: &str,
        certificate: &[u8],
        crl_url: Option<&str>,
    ) -> Result<(), ServiceError> {
        use base64::Engine as _;
        use der::Decode as _;
        let usage = |m: &str| ServiceError::Usage(m.to_string());
        let der = match crate::certificate::pem_blocks(certificate, "CERTIFICATE").as_slice() {
            [der] => der.clone(),
            _ => return Err(usage("give one root certificate")),
        };
        let parsed = x509_cert::Certificate::from_der(&der)
            .map_err(|_| usage("not an x.509 certificate"))?;
        let is_ca = parsed
            .tbs_certificate()
            .get_extension::<x509_cert::ext::pkix::BasicConstraints>()
            .ok()
            .flatten()
            .is_some_and(|(_, bc)| bc.ca);
        let name = name.trim();
        if !is_ca {
            return Err(usage("not a CA certificate"));
        }
        let crl_url = crl_url.map(str::trim).filter(|u| !u.is_empty());
        if let Some(url) = crl_url {
            crl::check_crl_url(url)?;
        }
        let mut core = self.core()?;
        if name.is_empty()
            || core
                .policy
                .ca_roots
                .iter()
                .any(|r| r.name == name || r.certificate == der)
        {
            return Err(usage(
                "a CA root needs a new, non-empty name, and a certificate not listed yet",
            ));
        }
        let mut config = NodeConfig::load(&self.dir)?;
        config.policy.ca_roots.push(config::CaRootConfig {
            name: name.to_string(),
            certificate: base64::engine::general_purpose::STANDARD.encode(&der),
            crl_url: crl_url.map(str::to_string),
        });
        config.save(&self.dir)?;
        core.policy.ca_roots.push(signet_protocol::trust::CaRoot {
            name: name.to_string(),
            certificate: der,
        });
        drop(core);
        self.crl_state()?.insert(
            name.to_string(),
            crl::CrlStatus::of_url(crl_url.map(str::to_string)),
        );
        self.wake_crl_loop();
        Ok(())
    }

    /// [`Service::certify_pdf_keys`] for `party`, when a failure must not fail the caller.
    fn certify_pdf_keys_logged(&self, party: PartyId) {
        if let Err(error) = self.certify_pdf_keys(Some(party)) {
            tracing::warn!(%error, "could not certify PDF keys");
        }
    }

    /// Revokes one of this party's attestations, effective now.
    pub fn revoke(&self, id: AttestationId) -> Result<SignedAttestation, ServiceError> {
        let now = now();
        let claims = Claims::Revocation(Revocation {
            target: RevocationTarget::Attestation(id),
            effective: now,
            reason: RevocationReason::PrivilegeWithdrawn,
        });
        let me = self.me;
        let mut core = self.core()?;
        let revocation = core.issue(me, claims, 3650, now)?;
        // The CRL may list another certificate now.
        if let Ok(mut crl) = self.crl.lock() {
            *crl = None;
        }
        // Counterparties that ask for fresh revocation status learn it from the list.
        core.refresh_revocation_list(now, true)?;
        Ok(revocation)
    }

    /// Rotates the party's root key by pre-rotation: the committed next key, read from the
    /// file `next_root` (kept off the node), takes over, and a fresh next key is committed
    /// and written to `new_next_root` (which must not exist) for the operator to take off
    /// the node again. Both files must be outside the party directory. Returns the key log's
    /// new length. Counterparties need the new key log (`own_key_log`, or gossip) before they
    /// accept attestations signed after it.
    pub fn rotate_root(&self, next_root: &Path, new_next_root: &Path) -> Result<u64, ServiceError> {
        init::outside(&self.dir, next_root, "the next root key")?;
        init::outside(&self.dir, new_next_root, "the new next root key")?;
        self.core()?
            .rotate_root(&self.dir.join("keys"), next_root, new_next_root, now())
    }

    /// Rotates one of the party's keys (see [`keys::KeyKind`]): the root by pre-rotation,
    /// the attestation, log and seal keys by add-key and retire-key events (a seal's mandates
    /// are re-issued for the new seal). Returns the key log's new length and the new public
    /// key. Peers learn the new key log by gossip (or `own_key_log`).
    pub fn rotate_key(
        &self,
        kind: keys::KeyKind,
    ) -> Result<(u64, signet_protocol::keylog::LogKey), ServiceError> {
        self.rotate_key_to(kind, None)
    }

    /// Rotates one of the party's keys like [`Service::rotate_key`], the fresh key of
    /// `algorithm` when given: the attest key may change from Ed25519 to SM2 or back (spec
    /// §3.3 rule 2); any other kind given an algorithm is refused.
    pub fn rotate_key_to(
        &self,
        kind: keys::KeyKind,
        algorithm: Option<init::SealAlgorithm>,
    ) -> Result<(u64, signet_protocol::keylog::LogKey), ServiceError> {
        let mut core = self.core()?;
        // Keys are valid to the second, and a retirement takes effect at its event's time:
        // wait (holding the state, so nothing else signs) for the next second, so whatever
        // the old key signed before stays valid.
        let start = now();
        while now() == start {
            std::thread::sleep(Duration::from_millis(20));
        }
        core.rotate_key(&self.dir.join("keys"), kind, algorithm, now())
    }

    /// This party's current root key (public).
    pub fn root_key(&self) -> Result<signet_protocol::PublicKey, ServiceError> {
        Ok(self.core()?.keys.root.public_key())
    }

    /// This party's key log events (for others to import).
    pub fn own_key_log(&self) -> Result<Vec<Vec<u8>>, ServiceError> {
        let core = self.core()?;
        let log = core
            .trust
            .key_log(&self.me)
            .ok_or(ServiceError::Corrupt("own key log"))?;
        Ok(log.event_bytes().map(<[u8]>::to_vec).collect())
    }

    /// Every attestation known, as signed bytes.
    pub fn attestations(&self) -> Result<Vec<SignedAttestation>, ServiceError> {
        Ok(self.core()?.trust.attestations().cloned().collect())
    }

    /// The revocation information this node holds, as signed bytes: every revocation and
    /// the newest revocation list of every issuer. A verifier of a bundle brings these (as
    /// fresh as it can get them) to `verify_bundle_with`.
    pub fn revocation_information(&self) -> Result<Vec<Vec<u8>>, ServiceError> {
        Ok(self
            .core()?
            .trust
            .attestations()
            .filter(|a| {
                matches!(
                    a.payload().claims,
                    Claims::Revocation(_) | Claims::RevocationList(_)
                )
            })
            .map(|a| a.bytes().to_vec())
            .collect())
    }

    /// Messages queued for delivery.
    pub fn outbox_len(&self) -> Result<usize, ServiceError> {
        Ok(self.core()?.outbox.len())
    }

    /// Evidence-log size.
    pub fn evidence_len(&self) -> Result<u64, ServiceError> {
        Ok(self.core()?.evidence.len())
    }

    /// Expires the open sessions whose deadline has passed at `now` (the node does this
    /// itself with the system clock); returns how many.
    pub fn expire_due(&self, now: Timestamp) -> Result<usize, ServiceError> {
        self.core()?.expire(now)
    }

    /// The latest inbound messages refused, oldest first.
    pub fn refusals(&self) -> Vec<Refusal> {
        self.refusals
            .lock()
            .map(|r| r.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// The node's counters.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// How many times the store has flushed to disk since the node started, where the
    /// store counts them (sled does; on PostgreSQL every commit is the server's flush).
    pub fn store_flushes(&self) -> Option<u64> {
        self.store.flushes()
    }

    /// Session counts by status name.
    pub fn sessions_by_status(&self) -> Result<BTreeMap<String, u64>, ServiceError> {
        let core = self.core()?;
        Ok(core
            .counts
            .iter()
            .filter(|(_, n)| **n > 0)
            .map(|(status, n)| (status.to_string(), *n))
            .collect())
    }

    /// The network client, once started.
    pub fn client(&self) -> Result<&Client, ServiceError> {
        self.client.get().ok_or(ServiceError::NotStarted)
    }

    /// The peer directory of what the node knows now, numbered under the state lock, so
    /// that the network can tell a newer from an older whatever order they reach it in.
    fn directory(&self) -> Result<PeerDirectory, ServiceError> {
        let core = self.core()?;
        let generation = 1 + self
            .directories
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(PeerDirectory::from_trust_store(&core.trust, now()).at_generation(generation))
    }

    fn refresh_directory(&self) {
        let Some(client) = self.client.get() else {
            return;
        };
        let Ok(directory) = self.directory() else {
            return;
        };
        let client = client.clone();
        tokio::spawn(async move {
            if let Err(e) = client.set_directory(directory).await {
                tracing::warn!(error = %e, "could not update the peer directory");
            }
        });
    }

    // ---- running ----

    /// Starts the network and the service's tasks; they run until `shutdown` turns true.
    /// Returns the addresses listened on.
    pub async fn start(
        self: &Arc<Self>,
        shutdown: watch::Receiver<bool>,
    ) -> Result<Vec<Multiaddr>, ServiceError> {
        // Peers that ask for fresh revocation status need this party's list from the start.
        self.core()?.refresh_revocation_list(now(), false)?;
        let node_key = SecretKey::from_seed(&self.core()?.keys.node.to_seed());
        let access = self.access.clone();
        let store = self.store.clone();
        let hooks = Hooks {
            store: self.store.clone(),
            documents: Arc::new(
                move |party: &PartyId, session: &SessionId, digest: &Digest| {
                    let allowed = |(parties, docs): &(Vec<PartyId>, Vec<Digest>)| {
                        parties.contains(party) && docs.contains(digest)
                    };
                    if let Some(entry) = access.read().ok().and_then(|m| m.get(session).cloned()) {
                        return allowed(&entry);
                    }
                    // An ended session: from its stored snapshot.
                    stored_access(&*store, session).is_some_and(|entry| allowed(&entry))
                },
            ),
            gossip: Arc::new(gossip::validate),
        };
        let (client, events, event_loop) =
            net::new(&node_key, self.me, net::Config::default(), hooks)?;
        self.spawn(event_loop.with_time_stamps(tsa::authority(self)).run())?;
        client.set_directory(self.directory()?).await?;
        let mut listening = Vec::new();
        for a in &self.config.listen {
            let address: Multiaddr = a
                .parse()
                .map_err(|_| ServiceError::Usage(format!("listen address {a:?}")))?;
            listening.push(client.listen(address).await?);
        }
        for b in &self.config.bootstrap {
            self.add_peer_address(&client, b).await?;
        }
        self.client
            .set(client.clone())
            .map_err(|_| ServiceError::Usage("the node is started already".into()))?;
        let (fetch_tx, fetch_rx) = mpsc::channel(256);
        // Leftovers of fetches a crash interrupted.
        let _ = std::fs::remove_dir_all(self.dir.join(INCOMING_DIR));
        // Participant sessions whose documents are not all here yet.
        for missing in self.missing_documents()? {
            if fetch_tx.try_send(missing).is_err() {
                self.fetches_left_out.store(true, Ordering::SeqCst);
                break;
            }
        }
        self.spawn(self.clone().inbound(events, fetch_tx, shutdown.clone()))?;
        self.spawn(self.clone().outbox_loop(shutdown.clone()))?;
        self.spawn(self.clone().fetch_loop(fetch_rx, shutdown.clone()))?;
        self.spawn(self.clone().gossip_loop(shutdown.clone()))?;
        self.spawn(self.clone().address_loop(shutdown.clone()))?;
        self.spawn(self.clone().crl_loop(shutdown.clone()))?;
        if !self.config.webhooks.is_empty() {
            let targets = webhook::Targets::new(&self.config.webhooks, &self.dir)
                .map_err(|e| ServiceError::Usage(e.to_string()))?;
            self.spawn(self.clone().webhook_loop(targets, shutdown))?;
        }
        Ok(listening)
    }

    fn spawn(
        &self,
        task: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServiceError> {
        self.tasks
            .lock()
            .map_err(|_| ServiceError::Internal("lock"))?
            .spawn(task);
        Ok(())
    }

    /// Stops the network and waits until every task [`Service::start`] spawned has ended.
    /// Call it after turning `start`'s `shutdown` to true. When it returns, the tasks no
    /// longer hold the service: dropping the last `Arc<Service>` then closes the store (and
    /// releases its directory lock), so the node can be opened again in the same process.
    pub async fn join(&self) {
        if let Some(client) = self.client.get() {
            // Fails only if the network stopped already.
            let _ = client.shutdown().await;
        }
        let mut tasks = match self.tasks.lock() {
            Ok(mut t) => std::mem::take(&mut *t),
            Err(_) => return,
        };
        while let Some(result) = tasks.join_next().await {
            if let Err(e) = result
                && e.is_panic()
            {
                tracing::error!(error = %e, "a node task panicked");
            }
        }
    }

    /// Streams a document into the store, one chunk in memory at a time, and returns its
    /// digest and length; a session then names it with [`DocumentSource::Stored`]. At most
    /// [`crate::store::MAX_DOCUMENT_CHUNKS`] chunks (1 GiB).
    pub async fn upload_document<R>(&self, source: &mut R) -> Result<(Digest, u64), ServiceError>
    where
        R: tokio::io::AsyncRead + Unpin + ?Sized,
    {
        let (digest, manifest) = crate::store::put_document_async(&*self.store, source).await?;
        tracing::info!(document = %digest, bytes = manifest.len(), "document uploaded");
        Ok((digest, manifest.len()))
    }

    /// Adds a peer's address (a multiaddress ending in `/p2p/<peer id>`).
    pub async fn add_peer(&self, address: &str) -> Result<(), ServiceError> {
        let client = self.client()?.clone();
        self.add_peer_address(&client, address).await
    }

    async fn add_peer_address(&self, client: &Client, address: &str) -> Result<(), ServiceError> {
        let addr: Multiaddr = address
            .parse()
            .map_err(|_| ServiceError::Usage(format!("peer address {address:?}")))?;
        let peer = addr
            .iter()
            .find_map(|p| match p {
                libp2p::multiaddr::Protocol::P2p(peer) => Some(peer),
                _ => None,
            })
            .ok_or_else(|| {
                ServiceError::Usage(format!("peer address {address:?} lacks /p2p/<peer id>"))
            })?;
        client.add_address(peer, addr.clone()).await?;
        // Connect now, so gossip reaches the peer before any session message does.
        if let Err(e) = client.dial(addr).await {
            tracing::debug!(error = %e, "dial");
        }
        Ok(())
    }

    /// Handles a witness message (spec §10.5.4) from `party`'s node: a cosign request when
    /// this node is a witness, or a witness's answer to a request of ours.
    async fn witness_inbound(self: &Arc<Self>, party: PartyId, bytes: &[u8]) -> msg::Response {
        let message = match WitnessMessage::decode(bytes) {
            Ok(m) => m,
            Err(error) => {
                tracing::warn!(from = %party, %error, "malformed witness message refused");
                self.metrics.refused(error.code());
                return msg::Response::Refused(error.code());
            }
        };
        let checkpoint = match message {
            WitnessMessage::CosignRequest(request) => {
                if !self.config.witness {
                    self.metrics.refused(ErrorCode::Unsupported);
                    return msg::Response::Refused(ErrorCode::Unsupported);
                }
                let this = self.clone();
                let answer = tokio::task::spawn_blocking(move || {
                    this.core()?.witness_request(party, &request, now())
                })
                .await;
                return match answer {
                    Ok(Ok(Some(answer))) => {
                        match &answer {
                            WitnessMessage::Refused(r) => {
                                tracing::warn!(for_party = %party, code = r.code.name(), reason = ?r.reason, "cosign refused");
                            }
                            _ => tracing::info!(for_party = %party, "checkpoint cosigned"),
                        }
                        // The answer is in the outbox: deliver it now.
                        self.wake.notify_one();
                        msg::Response::Accepted
                    }
                    Ok(Ok(None)) => msg::Response::Refused(ErrorCode::Unsupported),
                    Ok(Err(error)) => {
                        tracing::error!(%error, "could not store a witness answer; the requester retries");
                        msg::Response::Refused(ErrorCode::RetryLater)
                    }
                    Err(_) => msg::Response::Refused(ErrorCode::RetryLater),
                };
            }
            WitnessMessage::Cosigned(ref c) => c.checkpoint,
            WitnessMessage::Refused(ref r) => r.checkpoint,
        };
        let waiting = self
            .pending
            .lock()
            .ok()
            .and_then(|mut p| p.remove(&(party, checkpoint)));
        match waiting {
            Some(tx) => {
                let _ = tx.send(message);
            }
            // Acknowledged all the same, so that the witness stops resending it.
            None => tracing::debug!(from = %party, "a witness answer no longer awaited"),
        }
        msg::Response::Accepted
    }

    /// A checkpoint of the evidence log now, cosigned by `witness` over the network (spec
    /// §10.5.4): one request, and a second with the proof from the size the witness says it
    /// holds if that differs from what this node believed.
    pub async fn cosigned_checkpoint(
        &self,
        witness: PartyId,
    ) -> Result<SignedCheckpoint, ServiceError> {
        let client = self.client()?.clone();
        let witness_keys = self.core()?.log_keys_of(&witness);
        let mut old = self
            .witnessed
            .lock()
            .map_err(|_| ServiceError::Internal("lock"))?
            .get(&witness)
            .copied()
            .unwrap_or(0);
        for _ in 0..2 {
            let (checkpoint, proof) = {
                let core = self.core()?;
                let checkpoint = core.checkpoint()?;
                let proof = core
                    .consistency_from(old.min(checkpoint.checkpoint().size()))
                    .ok_or(ServiceError::Internal("consistency proof"))?;
                (checkpoint, proof)
            };
            let request = CosignRequest::new(&checkpoint, proof);
            let key = (witness, request.checkpoint_digest());
            let (tx, rx) = oneshot::channel();
            self.pending
                .lock()
                .map_err(|_| ServiceError::Internal("lock"))?
                .insert(key, tx);
            let bytes = WitnessMessage::CosignRequest(request)
                .encode()
                .map_err(|_| ServiceError::Internal("encode"))?;
            let answer = match client.send_message(witness, bytes).await {
                Ok(()) => tokio::time::timeout(WITNESS_ANSWER_TIMEOUT, rx).await,
                Err(e) => {
                    self.forget_pending(&key);
                    return Err(e.into());
                }
            };
            let answer = match answer {
                Ok(Ok(answer)) => answer,
                _ => {
                    self.forget_pending(&key);
                    return Err(ServiceError::Usage(format!(
                        "the witness did not answer in {} s",
                        WITNESS_ANSWER_TIMEOUT.as_secs()
                    )));
                }
            };
            match answer {
                WitnessMessage::Cosigned(cosigned) => {
                    let with = cosigned
                        .add_to(&checkpoint, &witness_name(&witness), &witness_keys)
                        .map_err(|e| ServiceError::Usage(format!("cosignature: {e}")))?;
                    self.witnessed
                        .lock()
                        .map_err(|_| ServiceError::Internal("lock"))?
                        .insert(witness, checkpoint.checkpoint().size());
                    return Ok(with);
                }
                WitnessMessage::Refused(refused)
                    if refused.code == ErrorCode::BadProof
                        && refused.last_size.is_some_and(|s| s != old) =>
                {
                    let size = refused.last_size.unwrap_or_default();
                    tracing::info!(size, "the witness holds another size; asking again");
                    old = size;
                }
                WitnessMessage::Refused(refused) => {
                    return Err(ServiceError::Usage(format!(
                        "the witness refused ({}): {}",
                        refused.code,
                        refused.reason.unwrap_or_default()
                    )));
                }
                WitnessMessage::CosignRequest(_) => {
                    return Err(ServiceError::Internal("a request routed as an answer"));
                }
            }
        }
        Err(ServiceError::Usage("the witness refused twice".into()))
    }

    fn forget_pending(&self, key: &(PartyId, Digest)) {
        if let Ok(mut pending) = self.pending.lock() {
            pending.remove(key);
        }
    }

    /// Shares this party's evidence about a completed session with the other parties, under
    /// a checkpoint cosigned by `witness` (over the network).
    pub async fn share_witnessed_evidence(
        &self,
        id: SessionId,
        witness: PartyId,
    ) -> Result<(), ServiceError> {
        let checkpoint = self.cosigned_checkpoint(witness).await?;
        self.core()?.share_evidence(id, &checkpoint, now())?;
        self.wake.notify_one();
        Ok(())
    }

    /// Every document and PDF revision of every session that this node lacks.
    fn missing_documents(&self) -> Result<Vec<Fetch>, ServiceError> {
        let ids: Vec<SessionId> = self.core()?.sessions.keys().copied().collect();
        let mut out = Vec::new();
        for id in ids {
            out.extend(self.missing_for(id, true)?);
        }
        Ok(out)
    }

    /// What this node lacks of session `id`: a participant's documents, from the initiator,
    /// while the session is open (only when `documents`: they come with the proposal); and
    /// every PDF revision another signer sealed, from that signer (spec §8.4.2), whatever
    /// became of the session.
    fn missing_for(&self, id: SessionId, documents: bool) -> Result<Vec<Fetch>, ServiceError> {
        let core = self.core()?;
        let Some(t) = core.tracked(&id)? else {
            return Ok(Vec::new());
        };
        let p = t.session.proposal().payload();
        let mut wanted: Vec<Fetch> = Vec::new();
        if documents && p.initiator != self.me && !self::core::ended(&t.session) {
            wanted.extend(p.documents.iter().map(|d| Fetch {
                from: p.initiator,
                session: id,
                document: d.digest,
                size: d.size,
                sm3: d.sm3,
            }));
        }
        // A revision is the document and one increment per signer: a declared size beyond
        // that is not fetched (a signer cannot make this node download a gigabyte).
        let signers = u64::try_from(p.sealing_order().len()).unwrap_or(u64::MAX);
        for action in t.session.actions().iter().filter(|a| a.party != self.me) {
            let Some(record) = &action.record else {
                continue;
            };
            for r in &record.seal_signature.payload().pdf {
                let document = usize::try_from(r.document)
                    .ok()
                    .and_then(|i| p.documents.get(i));
                let most = document.map_or(0, |d| {
                    d.size
                        .saturating_add(signers.saturating_mul(MAX_SEAL_INCREMENT))
                });
                if r.size > most {
                    tracing::warn!(session = %id, revision = %r.sealed, size = r.size, "a PDF revision larger than its document and seals can be: not fetched");
                    continue;
                }
                wanted.push(Fetch {
                    from: action.party,
                    session: id,
                    document: r.sealed,
                    size: r.size,
                    sm3: None,
                });
            }
        }
        drop(core);
        let mut out = Vec::new();
        for f in wanted {
            if self.store.manifest(&f.document)?.is_none() {
                out.push(f);
            }
        }
        Ok(out)
    }

    async fn inbound(
        self: Arc<Self>,
        mut events: mpsc::Receiver<NetEvent>,
        fetch: mpsc::Sender<Fetch>,
        mut shutdown: watch::Receiver<bool>,
    ) {
        // Gossip imports in progress, joined before this task ends (see `join`).
        let mut imports = tokio::task::JoinSet::new();
        loop {
            while imports.try_join_next().is_some() {}
            let first = tokio::select! {
                biased;
                _ = shutdown.changed() => break,
                e = events.recv() => match e { Some(e) => e, None => break },
            };
            // Whatever else has arrived meanwhile is applied with it, under one sync.
            let mut arrived = vec![first];
            while arrived.len() < INBOUND_BATCH {
                match events.try_recv() {
                    Ok(e) => arrived.push(e),
                    Err(_) => break,
                }
            }
            let mut batch = Vec::new();
            for event in arrived {
                match event {
                    NetEvent::Message {
                        party,
                        bytes,
                        responder,
                        ..
                    } => {
                        if RequestKind::of(&bytes) == RequestKind::Witness {
                            // In arrival order: what came before it is answered first.
                            self.apply_inbound(std::mem::take(&mut batch), &fetch).await;
                            let response = self.witness_inbound(party, &bytes).await;
                            responder.respond(response);
                        } else {
                            batch.push((party, bytes, responder));
                        }
                    }
                    NetEvent::Gossip { topic, data, .. } => {
                        let this = self.clone();
                        // Imports write durably: off the async threads, and not awaited here.
                        imports.spawn_blocking(move || this.import_gossip(topic, &data));
                    }
                }
            }
            self.apply_inbound(batch, &fetch).await;
        }
        while imports.join_next().await.is_some() {}
    }

    /// Applies session messages that arrived together, in order, each in its own atomic
    /// commit but with one sync for all of them (group commit), and answers each once that
    /// sync has returned: nothing is acknowledged before it is durable. If the sync fails,
    /// every message is refused with `retry-later` (its sender sends it again; applied
    /// already, it is then a duplicate, acknowledged after a later sync).
    async fn apply_inbound(
        self: &Arc<Self>,
        batch: Vec<(PartyId, Vec<u8>, net::Responder)>,
        fetch: &mpsc::Sender<Fetch>,
    ) {
        if batch.is_empty() {
            return;
        }
        let (senders, responders): (Vec<(PartyId, Vec<u8>)>, Vec<net::Responder>) = batch
            .into_iter()
            .map(|(party, bytes, responder)| ((party, bytes), responder))
            .unzip();
        let this = self.clone();
        let applied = tokio::task::spawn_blocking(move || {
            let refused = |reason: String, code| Refusal {
                session: None,
                code,
                reason,
            };
            let mut outcomes: Vec<(PartyId, Result<Inbound, Refusal>)> = {
                let mut core = match this.core() {
                    Ok(core) => core,
                    Err(e) => {
                        return senders
                            .iter()
                            .map(|(party, _)| {
                                (
                                    *party,
                                    Err(refused(e.to_string(), ErrorCode::Indeterminate)),
                                )
                            })
                            .collect();
                    }
                };
                core.defer_sync = true;
                let outcomes = senders
                    .iter()
                    .map(|(party, bytes)| (*party, core.handle_inbound(*party, bytes, now())))
                    .collect();
                core.defer_sync = false;
                outcomes
            };
            if let Err(e) = this.store.sync() {
                tracing::error!(error = %e, "could not make inbound steps durable; refused");
                for (_, outcome) in &mut outcomes {
                    *outcome = Err(refused(format!("storage: {e}"), ErrorCode::RetryLater));
                }
            }
            outcomes
        })
        .await;
        // The task panicked: leave them unanswered, their senders retry.
        let Ok(outcomes) = applied else { return };
        for ((party, outcome), responder) in outcomes.into_iter().zip(responders) {
            let response = self.answer(party, outcome, fetch);
            responder.respond(response);
        }
        self.wake.notify_one();
    }

    /// What to answer a session message applied (or refused), after the side effects of
    /// its acceptance: document access, documents to fetch, counters, refusals kept.
    fn answer(
        &self,
        party: PartyId,
        outcome: Result<Inbound, Refusal>,
        fetch: &mpsc::Sender<Fetch>,
    ) -> msg::Response {
        match outcome {
            Ok(inbound) => {
                tracing::debug!(from = %party, ?inbound, "message accepted");
                if let Inbound::Started(id) | Inbound::Applied(id) = inbound {
                    let _ = self.note_access(id);
                    let started = matches!(inbound, Inbound::Started(_));
                    if let Ok(missing) = self.missing_for(id, started) {
                        for m in missing {
                            if fetch.try_send(m).is_err() {
                                tracing::info!(session = %id, "document fetch queue full; fetched when it has room");
                                self.fetches_left_out.store(true, Ordering::SeqCst);
                            }
                        }
                    }
                }
                Metrics::count(&self.metrics.messages_in);
                msg::Response::Accepted
            }
            Err(refusal) => {
                let code = refusal.code;
                tracing::warn!(from = %party, code = code.name(), reason = %refusal.reason, "message refused");
                self.metrics.refused(code);
                if let Ok(mut kept) = self.refusals.lock() {
                    if kept.len() >= MAX_REFUSALS_KEPT {
                        kept.pop_front();
                    }
                    kept.push_back(refusal);
                }
                msg::Response::Refused(code)
            }
        }
    }

    /// Sends what the outbox hands out, as it is due, up to [`MAX_SENDING`] messages at
    /// once (the outbox keeps each session's messages to one recipient in order, and caps
    /// each recipient's share); records each outcome as it comes back.
    async fn outbox_loop(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        let mut rng = Jitter::seeded();
        let mut lookups = Lookups::default();
        let mut sending: tokio::task::JoinSet<(crate::outbox::Attempt, Result<(), NetError>)> =
            tokio::task::JoinSet::new();
        loop {
            let next = self.core().ok().and_then(|c| c.outbox.next_due());
            let now_d = wall();
            let wait = next
                .map_or(Duration::from_secs(1), |due| due.saturating_sub(now_d))
                .min(Duration::from_secs(1));
            let mut results = Vec::new();
            tokio::select! {
                biased;
                _ = shutdown.changed() => break,
                Some(done) = sending.join_next(), if !sending.is_empty() => {
                    results.extend(done.ok());
                }
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(wait) => {}
            }
            while let Some(done) = sending.try_join_next() {
                results.extend(done.ok());
            }
            let Some(client) = self.client.get() else {
                continue;
            };
            if !results.is_empty() {
                // A recipient whose node could not be dialled (or is not known): look its
                // nodes up in the DHT, so that the retry can reach them.
                for (attempt, result) in &results {
                    if let Err(e) = result
                        && needs_lookup(e)
                    {
                        lookups.start(client, attempt.key.recipient);
                    }
                }
                // Recording the outcomes writes durably: off the async worker threads.
                let this = self.clone();
                let mut jitter = Jitter(rng.0);
                let recorded = tokio::task::spawn_blocking(move || {
                    let Ok(mut core) = this.core() else { return jitter };
                    for (attempt, result) in results {
                        let outcome = match result {
                            Ok(()) => {
                                Metrics::count(&this.metrics.messages_out);
                                core.outbox.acked(&attempt.key, wall()).map(|_| ())
                            }
                            Err(NetError::Refused(
                                code @ (ErrorCode::RetryLater
                                | ErrorCode::Indeterminate
                                | ErrorCode::UnauthenticatedPeer),
                            )) => {
                                // The recipient cannot judge it yet (an unknown key log, say):
                                // keep it and try again later.
                                Metrics::count(&this.metrics.delivery_failures);
                                tracing::info!(to = %attempt.key.recipient, code = code.name(), "recipient asks to retry later");
                                core.outbox
                                    .failed(&attempt.key, wall(), &mut jitter)
                                    .map(|_| ())
                            }
                            Err(NetError::Refused(code)) => {
                                tracing::warn!(to = %attempt.key.recipient, code = code.name(), "message refused by its recipient; dropped");
                                core.outbox.acked(&attempt.key, wall()).map(|_| ())
                            }
                            Err(e) => {
                                Metrics::count(&this.metrics.delivery_failures);
                                tracing::debug!(to = %attempt.key.recipient, error = %e, failures = attempt.failures, "delivery failed; will retry");
                                core.outbox
                                    .failed(&attempt.key, wall(), &mut jitter)
                                    .map(|_| ())
                            }
                        };
                        if let Err(e) = outcome {
                            tracing::error!(error = %e, "outbox");
                        }
                    }
                    jitter
                })
                .await;
                if let Ok(j) = recorded {
                    rng = j;
                }
            }
            let room = MAX_SENDING.saturating_sub(sending.len());
            if room == 0 {
                continue;
            }
            // Messages of deferred steps leave once those steps are durable.
            let due = match self
                .core()
                .and_then(|mut c| Ok(c.outbox.due(wall(), room)?))
                .and_then(|d| {
                    if !d.is_empty() {
                        self.store.sync()?;
                    }
                    Ok(d)
                }) {
                Ok(d) => d,
                Err(e) => {
                    tracing::error!(error = %e, "outbox");
                    continue;
                }
            };
            for attempt in due {
                let client = client.clone();
                sending.spawn(async move {
                    let r = client
                        .send_message(attempt.key.recipient, attempt.message.clone())
                        .await;
                    (attempt, r)
                });
            }
        }
    }

    /// Imports a gossiped key log or attestation, if it is news.
    fn import_gossip(&self, topic: net::Topic, data: &[u8]) {
        let result = match topic {
            net::Topic::KeyLogs => {
                // Replayed once, outside the state lock (it is the costly part).
                let Some(log) = gossip::decode_key_log(data).and_then(|events| {
                    signet_protocol::keylog::KeyLog::replay(events.iter().map(Vec::as_slice)).ok()
                }) else {
                    return;
                };
                let Ok(mut core) = self.core() else { return };
                let held = core.trust.key_log(&log.party()).map(|l| l.len());
                if held.is_some_and(|n| n >= log.len()) {
                    return;
                }
                if held.is_none() && core.trust.key_log_count() >= MAX_KEY_LOGS_FROM_NETWORK {
                    tracing::debug!(party = %log.party(), "a new party's key log from gossip not taken: the node holds the most it takes from the network");
                    return;
                }
                let party = core.take_key_log(log);
                drop(core);
                if let Ok(party) = &party {
                    self.refresh_directory();
                    self.take_early_attestations(party);
                    self.certify_pdf_keys_logged(*party);
                }
                party.map(|p| p.to_string())
            }
            net::Topic::Attestations => {
                let Ok(a) = Attestation::decode(data) else {
                    return;
                };
                let issuer = a.payload().issuer;
                let (known, issuer_known) = self.core().map_or((true, true), |c| {
                    (
                        c.trust.attestation(&issuer, &a.payload().id).is_some(),
                        c.trust.key_log(&issuer).is_some(),
                    )
                });
                if known {
                    return;
                }
                if !issuer_known {
                    self.keep_early(issuer, data);
                    return;
                }
                self.core()
                    .and_then(|mut c| {
                        c.import_attestation(data, self::core::Source::Network, now())
                    })
                    .map(|a| {
                        self.note_attestation(&a);
                        a.payload().id.to_string()
                    })
            }
        };
        match result {
            Ok(what) => tracing::info!(topic = topic.name(), %what, "imported from gossip"),
            Err(e) => {
                tracing::debug!(topic = topic.name(), error = %e, "gossip not imported (yet)")
            }
        }
    }

    /// Keeps a gossiped attestation whose issuer's key log is not known yet.
    fn keep_early(&self, issuer: PartyId, data: &[u8]) {
        let Ok(mut early) = self.early.lock() else {
            return;
        };
        if early.iter().any(|(_, bytes)| bytes == data) {
            return;
        }
        if early.len() >= MAX_EARLY_ATTESTATIONS {
            early.pop_front();
        }
        early.push_back((issuer, data.to_vec()));
    }

    /// Takes the attestations kept by [`Service::keep_early`] that `issuer` issued, now that
    /// its key log is known.
    fn take_early_attestations(&self, issuer: &PartyId) {
        let waiting: Vec<Vec<u8>> = match self.early.lock() {
            Ok(mut early) => {
                let (theirs, others): (Vec<_>, Vec<_>) =
                    early.drain(..).partition(|(i, _)| i == issuer);
                early.extend(others);
                theirs.into_iter().map(|(_, bytes)| bytes).collect()
            }
            Err(_) => return,
        };
        for bytes in waiting {
            let taken = self
                .core()
                .and_then(|mut c| c.import_attestation(&bytes, self::core::Source::Network, now()));
            match taken {
                Ok(a) => {
                    self.note_attestation(&a);
                    tracing::info!(id = %a.payload().id, "imported an attestation gossip brought before its issuer's key log")
                }
                Err(e) => tracing::debug!(error = %e, "an early attestation not taken"),
            }
        }
    }

    /// Publishes this party's key log and the attestations it issued, when they change and
    /// every [`gossip::REPUBLISH`]; on the same beat, expires sessions past their deadline.
    async fn gossip_loop(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        let mut last: Option<(usize, usize)> = None;
        let mut last_time = tokio::time::Instant::now();
        loop {
            tokio::select! {
                biased;
                _ = shutdown.changed() => break,
                _ = tokio::time::sleep(Duration::from_millis(500)) => {}
            }
            // Deadlines pass with the clock: expire what is due, and keep this party's
            // revocation list fresh (durable writes).
            let this = self.clone();
            let ticked = tokio::task::spawn_blocking(move || {
                let mut core = this.core()?;
                let expired = core.expire(now())?;
                let list = core.refresh_revocation_list(now(), false)?;
                Ok::<_, ServiceError>((expired, list.is_some()))
            })
            .await;
            match ticked {
                Ok(Ok((expired, listed))) => {
                    if expired > 0 {
                        tracing::info!(sessions = expired, "sessions expired at their deadline");
                    }
                    if listed {
                        tracing::info!("issued a fresh revocation list");
                    }
                }
                Ok(Err(error)) => tracing::error!(%error, "periodic upkeep failed"),
                Err(_) => {}
            }
            let Some(client) = self.client.get() else {
                continue;
            };
            let Ok(events) = self.own_key_log() else {
                continue;
            };
            let Ok(all) = self.attestations() else {
                continue;
            };
            let mine: Vec<Vec<u8>> = all
                .iter()
                .filter(|a| a.payload().issuer == self.me)
                .map(|a| a.bytes().to_vec())
                .collect();
            let now = (events.len(), mine.len());
            if last == Some(now) && last_time.elapsed() < gossip::REPUBLISH {
                continue;
            }
            let payload = match gossip::encode_key_log(&events) {
                Ok(p) => p,
                Err(error) => {
                    tracing::warn!(%error, "the key log is too large to gossip");
                    continue;
                }
            };
            let mut published = client.publish(net::Topic::KeyLogs, payload).await.is_ok();
            for a in mine {
                published &= client.publish(net::Topic::Attestations, a).await.is_ok();
            }
            // Without peers publishing fails; try again on the next tick.
            if published {
                last = Some(now);
                last_time = tokio::time::Instant::now();
            }
        }
    }

    /// Publishes this node's signed address record in the DHT (spec §12.8): every second
    /// until a peer stored it, then every [`ADDRESS_REPUBLISH`]. Between these, the network
    /// re-signs and republishes by itself when the node's addresses change.
    async fn address_loop(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        let mut wait = Duration::from_secs(1);
        loop {
            tokio::select! {
                biased;
                _ = shutdown.changed() => break,
                _ = tokio::time::sleep(wait) => {}
            }
            let Some(client) = self.client.get() else {
                continue;
            };
            wait = match client.publish_addresses().await {
                Ok(()) => ADDRESS_REPUBLISH,
                Err(NetError::Stopped) => break,
                Err(e) => {
                    tracing::debug!(error = %e, "address record not published yet");
                    Duration::from_secs(1)
                }
            };
        }
    }

    async fn webhook_loop(
        self: Arc<Self>,
        targets: webhook::Targets,
        mut shutdown: watch::Receiver<bool>,
    ) {
        loop {
            tokio::select! {
                biased;
                _ = shutdown.changed() => break,
                _ = tokio::time::sleep(Duration::from_millis(250)) => {}
            }
            // Deliveries of deferred steps go out once those steps are durable.
            if let Err(error) = self.store.sync() {
                tracing::error!(%error, "store sync before webhook deliveries");
                continue;
            }
            let now_ms = u64::try_from(wall().as_millis()).unwrap_or(u64::MAX);
            webhook::run_due(&*self.store, &targets, now_ms).await;
        }
    }

    /// The webhook delivery log, oldest first.
    pub fn webhook_deliveries(&self) -> Result<Vec<webhook::Delivery>, ServiceError> {
        Ok(webhook::deliveries(&*self.store)?)
    }

    /// Fetches the documents sessions lack, one at a time: those queued as proposals and
    /// seals arrive, and, whenever some were left out (the bounded queue was full, or a
    /// fetch gave up after its attempts), everything still missing once the queue has
    /// drained: at once for a full queue, after [`REFETCH_AFTER`] for a fetch that gave up.
    async fn fetch_loop(
        self: Arc<Self>,
        mut requests: mpsc::Receiver<Fetch>,
        mut shutdown: watch::Receiver<bool>,
    ) {
        let staging = self.dir.join(INCOMING_DIR);
        let attempts = self.config.peer_limits.max_fetch_attempts.max(1);
        // What a rescan found still missing, fetched after the queue.
        let mut rescanned: std::collections::VecDeque<Fetch> = Default::default();
        // A fetch gave up: look again after a while even if nothing else is left out.
        let mut retry_at: Option<tokio::time::Instant> = None;
        loop {
            let fetch = if let Ok(r) = requests.try_recv() {
                r
            } else if let Some(r) = rescanned.pop_front() {
                r
            } else if self.fetches_left_out.swap(false, Ordering::SeqCst) {
                let this = self.clone();
                match tokio::task::spawn_blocking(move || this.missing_documents()).await {
                    Ok(Ok(missing)) => rescanned.extend(missing),
                    _ => self.fetches_left_out.store(true, Ordering::SeqCst),
                }
                continue;
            } else {
                let retry = async {
                    match retry_at {
                        Some(at) => tokio::time::sleep_until(at).await,
                        None => std::future::pending().await,
                    }
                };
                tokio::select! {
                    biased;
                    _ = shutdown.changed() => break,
                    r = requests.recv() => match r { Some(r) => r, None => break },
                    () = retry => {
                        retry_at = None;
                        self.fetches_left_out.store(true, Ordering::SeqCst);
                        continue;
                    }
                }
            };
            // Queued twice (by a rescan as well), or fetched meanwhile.
            if self
                .store
                .manifest(&fetch.document)
                .ok()
                .flatten()
                .is_some()
            {
                continue;
            }
            let Fetch {
                from,
                session: id,
                document: digest,
                size,
                sm3,
            } = fetch;
            let Some(client) = self.client.get() else {
                continue;
            };
            let mut delay = Duration::from_millis(200);
            for attempt in 1..=attempts {
                match client
                    .fetch_document(from, id, digest, size, sm3, &*self.store, &staging)
                    .await
                {
                    Ok(_) => {
                        tracing::info!(session = %id, document = %digest, "document fetched and checked");
                        break;
                    }
                    Err(e) => {
                        if needs_lookup(&e) {
                            match client.lookup(from).await {
                                Ok(found) => {
                                    tracing::info!(party = %from, addresses = found.len(), "found the holder's nodes in the DHT")
                                }
                                Err(e) => {
                                    tracing::debug!(party = %from, error = %e, "DHT lookup failed")
                                }
                            }
                        }
                        if attempt == attempts {
                            tracing::warn!(session = %id, document = %digest, error = %e, attempts, "document fetch failed; tried again later");
                            retry_at
                                .get_or_insert_with(|| tokio::time::Instant::now() + REFETCH_AFTER);
                            break;
                        }
                        tracing::warn!(session = %id, error = %e, attempt, "document fetch failed; retrying");
                        tokio::select! {
                            biased;
                            _ = shutdown.changed() => return,
                            _ = tokio::time::sleep(delay) => {}
                        }
                        delay = (delay * 2).min(Duration::from_secs(10));
                    }
                }
            }
        }
    }
}

/// The node key the party's log declared first among its current ones (the one in use
/// before a rotation is taken).
fn own_log_node_key(
    log: &signet_protocol::keylog::KeyLog,
) -> Result<signet_protocol::PublicKey, ServiceError> {
    log.keys_at(signet_protocol::keylog::KeyPurpose::Node, now())
        .find_map(|r| r.key.ed25519().copied())
        .ok_or(ServiceError::Corrupt("the key log declares no node key"))
}

/// [`access_entry`] of a session read from the store: from its listing, or (a record
/// written before listings were stored) its restored snapshot; none if it is not stored or
/// does not read.
fn stored_access(store: &dyn Store, id: &SessionId) -> Option<(Vec<PartyId>, Vec<Digest>)> {
    let record = store.session(id).ok()??;
    if let Some(listing) = journal::stored_listing(&record.state).ok()? {
        return view::Listing::decode(listing).ok()?.access();
    }
    match journal::decode_stored(&record.state).ok()? {
        journal::Stored::Snapshot { snapshot, .. } => {
            let session = signet_protocol::session::Session::restore(&snapshot).ok()?;
            Some(access_entry(&session))
        }
        journal::Stored::Journal(_) => None,
    }
}

/// Who may fetch what of a session over `/signet/doc/1`: its parties; its documents and the
/// PDF revisions its signers sealed (spec §9, §8.4.2).
pub(crate) fn access_entry(
    session: &signet_protocol::session::Session,
) -> (Vec<PartyId>, Vec<Digest>) {
    let p = session.proposal().payload();
    let mut digests = p.document_digests();
    for action in session.actions() {
        if let Some(record) = &action.record {
            digests.extend(record.seal_signature.payload().pdf.iter().map(|r| r.sealed));
        }
    }
    (p.parties(), digests)
}

/// A document (or PDF revision) a party fetches from the session's initiator (or the
/// revision's sealer).
#[derive(Debug, Clone, Copy)]
struct Fetch {
    from: PartyId,
    session: SessionId,
    document: Digest,
    /// The size the signed proposal declares.
    size: u64,
    /// The SM3 digest the signed proposal declares, if any (spec §8.2.1).
    sm3: Option<signet_protocol::sm2::Sm3Digest>,
}

/// How long after a document fetch gave up the node looks again for missing documents.
const REFETCH_AFTER: Duration = Duration::from_secs(60);

/// Where documents being fetched are staged (in the party directory) until they are
/// complete and checked; emptied at every start.
const INCOMING_DIR: &str = "incoming";

/// The most bytes one signer's seal may add to a PDF: the reserved CMS space (at most
/// 256 KiB, written as hex) and the seal's appearance, with room to spare.
const MAX_SEAL_INCREMENT: u64 = 2 << 20;

/// The most parties' key logs a node takes from gossip (an operator's imports are not
/// counted against it): a bound on what peers can make it store by minting parties.
pub const MAX_KEY_LOGS_FROM_NETWORK: usize = 100_000;

/// The most gossiped attestations a node keeps while their issuers' key logs are unknown.
pub const MAX_EARLY_ATTESTATIONS: usize = 256;

/// How often a node republishes its address record once published (spec §12.8).
const ADDRESS_REPUBLISH: Duration = Duration::from_secs(600);

/// The least time between two DHT lookups of one party.
const LOOKUP_INTERVAL: Duration = Duration::from_secs(5);

/// Whether a delivery failure means the party's nodes must be found again: no address
/// known for them, or none that could be dialled.
pub(crate) fn needs_lookup(error: &NetError) -> bool {
    matches!(
        error,
        NetError::Unreachable { .. } | NetError::Delivery(net::DeliveryFailure::Dial)
    )
}

/// DHT lookups started by the outbox, at most one per party per [`LOOKUP_INTERVAL`].
#[derive(Default)]
struct Lookups {
    last: BTreeMap<PartyId, tokio::time::Instant>,
}

impl Lookups {
    fn start(&mut self, client: &Client, party: PartyId) {
        let now = tokio::time::Instant::now();
        if self
            .last
            .get(&party)
            .is_some_and(|t| now.duration_since(*t) < LOOKUP_INTERVAL)
        {
            return;
        }
        self.last
            .retain(|_, t| now.duration_since(*t) < LOOKUP_INTERVAL);
        self.last.insert(party, now);
        let client = client.clone();
        // Holds only the network client: it ends when the network stops.
        tokio::spawn(async move {
            match client.lookup(party).await {
                Ok(found) => {
                    tracing::info!(%party, addresses = found.len(), "found the party's nodes in the DHT");
                }
                Err(e) => tracing::debug!(%party, error = %e, "DHT lookup failed"),
            }
        });
    }
}

/// The wall clock as the outbox's clock.
fn wall() -> Duration {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
}

/// 32 random bytes from the operating system.
pub fn random_bytes() -> Result<[u8; 32], ServiceError> {
    let mut out = [0u8; 32];
    getrandom::fill(&mut out).map_err(|_| ServiceError::Internal("the system random source"))?;
    Ok(out)
}

/// Retry jitter (not secret): a xorshift generator seeded from the clock.
struct Jitter(u64);

impl Jitter {
    fn seeded() -> Self {
        Self(u64::try_from(wall().as_nanos() & u128::from(u64::MAX)).unwrap_or(1) | 1)
    }
}

impl rand_core::TryRng for Jitter {
    type Error = std::convert::Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        Ok((self.try_next_u64()? >> 32) as u32)
    }
    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        Ok(x)
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        for chunk in dst.chunks_mut(8) {
            let v = self.try_next_u64()?.to_be_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
        Ok(())
    }
}
