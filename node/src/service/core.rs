//! The node's state and its synchronous operations: sessions, trust, evidence, outbox.
//!
//! Every operation that changes state persists before it returns, in one atomic store commit
//! per protocol step ([`Store::commit_session_step`]): the step's evidence entries, the
//! session's state, its webhook deliveries and the outbox entries of the messages it sends.
//! A crash leaves all of the step or none of it. None: the input comes again (an
//! unacknowledged inbound message is resent by its sender; a local action was never
//! confirmed) and is applied then. All: nothing is lost. So evidence is never stored without
//! the session state that accounts for it (applying an input again never logs its events
//! twice), and no message leaves for a step the node has not recorded: a step applied again
//! after a crash signs its messages again, at another time, and those would differ from
//! messages already sent.
//!
//! Only open sessions are held in memory. A session that ended (completed, declined,
//! cancelled, expired) stays in the store and is restored from its snapshot when asked for
//! (a peer's late evidence, an export, a view): a node with a million finished contracts
//! starts as fast, and holds as little, as one with none.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use signet_protocol::attestation::SignedAttestation;
use signet_protocol::attestation::{
    Attestation, AttestationKind, Claims, MandateUse, RevocationList, RevocationTarget,
    RevokedEntry, RevokedKey,
};
use signet_protocol::bundle::{AssembleError, assemble};
use signet_protocol::codec::{self, Limits};
use signet_protocol::cose::{Signed, Unverified};
use signet_protocol::error::{ErrorCode, WireError};
use signet_protocol::evidence::{
    Checkpoint, PartyEvidence, SignedCheckpoint, Witness, evidence_party, witness_name,
};
use signet_protocol::keylog::{EcdsaP256Key, KeyDecl, KeyLog, KeyPurpose, LogKey, LogSecretKey};
use signet_protocol::party::{AttestationId, PartyId};
use signet_protocol::person::PersonKey;
use signet_protocol::seal::SealKind;
use signet_protocol::session::{
    ActionError, Context, IntentChallenge, IntentMethod, IntentProof, MAX_CLOCK_SKEW,
    MAX_INTENT_AGE, PROPOSAL_CONTENT_TYPE, PdfRevision, Proposal, SESSION_MESSAGE_CONTENT_TYPE,
    Session, SessionError, SessionId, SessionMessage, Side, Status, Step,
};
use signet_protocol::transport::witness::{self, CosignRequest, WitnessMessage};
use signet_protocol::trust::{AttestationUpdate, TrustPolicy, TrustStore, admit};
use signet_protocol::{Digest, PublicKey, SecretKey, Timestamp};

use super::ServiceError;
use super::config::PeerLimits;
use super::evidence_log::StoredLog;
use super::init::SealAlgorithm;
use super::journal::{self, Entry, Input, Stored};
use super::keys::{self, KeyKind, PartyKeys};
use super::view::Listing;
use crate::outbox::{Outbox, OutboxConfig};
use crate::store::trust::{load_trust_store, save_attestation, save_key_log};
use crate::store::{SessionRecord, SessionStep, Store};

/// One session with the evidence-log positions of its events.
#[derive(Debug, Clone)]
pub(crate) struct Tracked {
    pub(crate) session: Session,
    pub(crate) evidence: Vec<u64>,
}

/// What a step needs of its session as it was before: its evidence positions (the step's
/// own are appended to them) and its status (for the counts by status).
struct Prior {
    evidence: Vec<u64>,
    status: &'static str,
}

impl Prior {
    fn of(t: &Tracked) -> Self {
        Self {
            evidence: t.evidence.clone(),
            status: t.session.status().name(),
        }
    }
}

/// The store's bookkeeping name for the layout of session records, and the value meaning
/// "every record is a snapshot" (see [`journal`]).
const SESSION_LAYOUT: (&str, &[u8]) = ("session-layout", b"snapshot");

/// How many ended sessions [`Core`] keeps restored, most recently used first: a session
/// that just ended is read again soon (its last messages' answers, its documents, the
/// person who watched it finish), and restoring checks every signature again.
const RECENTLY_ENDED: usize = 1024;

/// Ended sessions kept restored, at most [`RECENTLY_ENDED`], the least recently used
/// dropped first.
#[derive(Debug, Default)]
pub(crate) struct RecentlyEnded {
    sessions: BTreeMap<SessionId, Tracked>,
    order: std::collections::VecDeque<SessionId>,
}

impl RecentlyEnded {
    fn get(&mut self, id: &SessionId) -> Option<Tracked> {
        let t = self.sessions.get(id)?.clone();
        self.touch(id);
        Some(t)
    }

    fn touch(&mut self, id: &SessionId) {
        if let Some(at) = self.order.iter().position(|x| x == id) {
            self.order.remove(at);
        }
        self.order.push_back(*id);
    }

    fn put(&mut self, id: SessionId, t: Tracked) {
        self.sessions.insert(id, t);
        self.touch(&id);
        while self.order.len() > RECENTLY_ENDED {
            if let Some(old) = self.order.pop_front() {
                self.sessions.remove(&old);
            }
        }
    }
}

/// Every session status name, as the store indexes them.
pub(crate) const STATUSES: [&str; 5] = ["open", "completed", "declined", "cancelled", "expired"];

/// What the node holds in memory, rebuilt from the store at start.
#[derive(Debug)]
pub(crate) struct Core {
    pub(crate) me: PartyId,
    pub(crate) keys: PartyKeys,
    pub(crate) policy: TrustPolicy,
    pub(crate) trust: TrustStore,
    pub(crate) store: Arc<dyn Store>,
    /// The open sessions (ended ones are restored from the store when asked for).
    pub(crate) sessions: BTreeMap<SessionId, Tracked>,
    /// Ended sessions restored lately (see [`RECENTLY_ENDED`]).
    recent: std::sync::Mutex<RecentlyEnded>,
    /// How many sessions the store holds, by status.
    pub(crate) counts: BTreeMap<&'static str, u64>,
    pub(crate) evidence: StoredLog,
    pub(crate) outbox: Outbox<dyn Store>,
    /// The witness state, when this node is a witness, and the file it is kept in.
    pub(crate) witness: Option<(Witness, PathBuf)>,
    /// Webhook URLs every session event goes to.
    pub(crate) webhooks: Vec<String>,
    /// What counterparties may ask of this node.
    pub(crate) peer_limits: PeerLimits,
    /// This party's policy requires national algorithms (spec §8.2.5): it refuses a
    /// proposal that does not require them.
    pub(crate) require_national: bool,
    /// Commit steps without waiting for durability ([`Store::commit_session_step_deferred`]):
    /// set while a batch of inbound messages is applied, whose answers wait for one
    /// [`Store::sync`] after the batch.
    pub(crate) defer_sync: bool,
}

fn step_of(result: Result<Step, ActionError>) -> Result<Step, ServiceError> {
    result.map_err(ServiceError::Action)
}

impl Core {
    /// Loads everything from `store`: the open sessions are restored from their snapshots
    /// (an older version's journals are first replayed once and stored as snapshots).
    pub(crate) fn open(
        me: PartyId,
        keys: PartyKeys,
        policy: TrustPolicy,
        store: Arc<dyn Store>,
        witness_file: Option<PathBuf>,
    ) -> Result<Self, ServiceError> {
        let trust = load_trust_store(&*store)?;
        let evidence = StoredLog::open(&*store)?;
        let outbox = Outbox::open(store.clone(), OutboxConfig::default())?;
        let witness = match witness_file {
            Some(path) => Some((restore_witness(me, &keys, &trust, &path)?, path)),
            None => None,
        };
        let mut core = Self {
            me,
            keys,
            policy,
            trust,
            store,
            sessions: BTreeMap::new(),
            recent: std::sync::Mutex::default(),
            counts: BTreeMap::new(),
            evidence,
            outbox,
            witness,
            webhooks: Vec::new(),
            peer_limits: PeerLimits::default(),
            require_national: false,
            defer_sync: false,
        };
        core.migrate_journals()?;
        for status in STATUSES {
            core.counts
                .insert(status, core.store.count_sessions(status)?);
        }
        for id in core.store.sessions_with_status("open")? {
            match core.load(&id) {
                Ok(Some(t)) => {
                    core.sessions.insert(id, t);
                }
                Ok(None) => {}
                Err(e) => {
                    tracing::error!(session = %id, error = %e, "a session does not load; left out")
                }
            }
        }
        Ok(core)
    }

    /// Replays, once, every journal an older version stored, and stores the session it
    /// rebuilds as a snapshot (same status, same evidence positions). Replaying signs the
    /// messages again with the keys that signed them first, and deterministic signatures
    /// make the same bytes, so this must run before any of those keys is rotated: it runs at
    /// every start until it has completed once (recorded in the store), and key rotation
    /// came with snapshots. A journal that no longer replays is left as it is, with an error
    /// in the log.
    fn migrate_journals(&mut self) -> Result<(), ServiceError> {
        if self.store.meta(SESSION_LAYOUT.0)?.as_deref() == Some(SESSION_LAYOUT.1) {
            return Ok(());
        }
        let mut migrated = 0usize;
        for status in STATUSES {
            for id in self.store.sessions_with_status(status)? {
                let Some(record) = self.store.session(&id)? else {
                    continue;
                };
                let Stored::Journal(entries) = journal::decode_stored(&record.state)? else {
                    continue;
                };
                match self.replay(&entries) {
                    Ok(session) => {
                        let evidence = entries
                            .iter()
                            .flat_map(|e| e.evidence.iter().copied())
                            .collect::<Vec<_>>();
                        let record = snapshot_record(&session, &evidence)?;
                        self.store.put_session(&id, &record)?;
                        migrated += 1;
                    }
                    Err(e) => {
                        tracing::error!(session = %id, error = %e, "a journal does not replay; left as it is")
                    }
                }
            }
        }
        self.store.put_meta(SESSION_LAYOUT.0, SESSION_LAYOUT.1)?;
        if migrated > 0 {
            tracing::info!(sessions = migrated, "session journals stored as snapshots");
        }
        Ok(())
    }

    /// Restores session `id` from the store (signing nothing); `None` if it is not stored.
    fn load(&self, id: &SessionId) -> Result<Option<Tracked>, ServiceError> {
        let Some(record) = self.store.session(id)? else {
            return Ok(None);
        };
        match journal::decode_stored(&record.state)? {
            Stored::Snapshot {
                snapshot, evidence, ..
            } => {
                let session = Session::restore(&snapshot).map_err(ServiceError::Snapshot)?;
                Ok(Some(Tracked { session, evidence }))
            }
            // Only before the migration has run (see `migrate_journals`).
            Stored::Journal(entries) => {
                let session = self.replay(&entries)?;
                let evidence = entries.iter().flat_map(|e| e.evidence.clone()).collect();
                Ok(Some(Tracked { session, evidence }))
            }
        }
    }

    /// Session `id`: the open one held in memory, or an ended one restored from the store
    /// (or kept from a recent restore).
    pub(crate) fn tracked(&self, id: &SessionId) -> Result<Option<Cow<'_, Tracked>>, ServiceError> {
        if let Some(t) = self.sessions.get(id) {
            return Ok(Some(Cow::Borrowed(t)));
        }
        // The counters of the cache stay consistent under a panic: a poisoned lock is usable.
        let mut recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(t) = recent.get(id) {
            return Ok(Some(Cow::Owned(t)));
        }
        let Some(t) = self.load(id)? else {
            return Ok(None);
        };
        recent.put(*id, t.clone());
        Ok(Some(Cow::Owned(t)))
    }

    /// What a summary of session `id` shows that the session alone decides: from the
    /// session itself when it is in memory, else from its stored listing, without restoring
    /// it (a record written before listings were stored is restored).
    pub(crate) fn listing(&self, id: &SessionId) -> Result<Option<Listing>, ServiceError> {
        Ok(self.listings(&[*id])?.pop().flatten())
    }

    /// [`Core::listing`] of each of `ids`, in order, reading the stored ones in one go.
    pub(crate) fn listings(&self, ids: &[SessionId]) -> Result<Vec<Option<Listing>>, ServiceError> {
        let mut out: Vec<Option<Listing>> = Vec::with_capacity(ids.len());
        let mut stored = Vec::new();
        {
            let recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
            for id in ids {
                let held = self.sessions.get(id).or_else(|| recent.sessions.get(id));
                if held.is_none() {
                    stored.push((out.len(), *id));
                }
                out.push(held.map(|t| Listing::of(&t.session)));
            }
        }
        let wanted: Vec<SessionId> = stored.iter().map(|(_, id)| *id).collect();
        for ((at, id), record) in stored.into_iter().zip(self.store.sessions_of(&wanted)?) {
            let Some(record) = record else { continue };
            out[at] = match journal::stored_listing(&record.state)? {
                Some(listing) => Some(Listing::decode(listing)?),
                None => self.tracked(&id)?.map(|t| Listing::of(&t.session)),
            };
        }
        Ok(out)
    }

    /// [`Core::tracked`], or [`ServiceError::UnknownSession`].
    pub(crate) fn known(&self, id: &SessionId) -> Result<Cow<'_, Tracked>, ServiceError> {
        self.tracked(id)?.ok_or(ServiceError::UnknownSession(*id))
    }

    fn ctx_at(&self, now: Timestamp) -> Context<'_> {
        Context {
            store: &self.trust,
            policy: &self.policy,
            now,
            node_key: &self.keys.node,
        }
    }

    /// Rebuilds a session from an older version's journal.
    fn replay(&self, journal: &[Entry]) -> Result<Session, ServiceError> {
        let mut session: Option<Session> = None;
        for e in journal {
            let ctx = self.ctx_at(e.time);
            match (&e.input, session.as_mut()) {
                (Input::Propose(bytes), None) => {
                    let p =
                        Signed::<Proposal>::decode(bytes, PROPOSAL_CONTENT_TYPE, &Limits::DEFAULT)
                            .map_err(|_| ServiceError::Corrupt("journalled proposal"))?;
                    session = Some(Session::propose(p.payload().clone(), &ctx)?.0);
                }
                (Input::Receive(bytes), None) => {
                    session = Some(
                        Session::receive(bytes, self.me, &ctx)
                            .map_err(ServiceError::Replay)?
                            .0,
                    );
                }
                (Input::Handle(bytes), Some(s)) => {
                    s.handle(bytes, &ctx).map_err(ServiceError::Replay)?;
                }
                (Input::Acknowledge, Some(s)) => {
                    s.acknowledge(&ctx)?;
                }
                (
                    Input::Sign {
                        intent,
                        mandate,
                        seal,
                        pdf,
                    },
                    Some(s),
                ) => {
                    let pdf: Vec<PdfRevision> = if pdf.is_empty() {
                        Vec::new()
                    } else {
                        codec::decode(pdf, &Limits::DEFAULT)
                            .map_err(|_| ServiceError::Corrupt("journalled PDF revisions"))?
                    };
                    let intent = IntentProof::decode(intent)
                        .map_err(|_| ServiceError::Corrupt("journalled intent"))?;
                    let mandate = Attestation::decode(mandate)
                        .map_err(|_| ServiceError::Corrupt("journalled mandate"))?;
                    // Journals predate SM2 seals: a journalled seal is an Ed25519 key.
                    let seal = PublicKey::from_slice(seal)
                        .map(LogKey::from)
                        .map_err(|_| ServiceError::Corrupt("journalled seal"))?;
                    let key = self
                        .seal_key(&seal)
                        .ok_or(ServiceError::Corrupt("seal key missing"))?;
                    s.sign(intent, mandate, key, pdf, &ctx)?;
                }
                (Input::Approve, Some(s)) => {
                    s.approve(&ctx)?;
                }
                (Input::Decline(r), Some(s)) => {
                    s.decline(r, &ctx)?;
                }
                (Input::Cancel(r), Some(s)) => {
                    s.cancel(r, &ctx)?;
                }
                (Input::Remind(r), Some(s)) => {
                    s.remind(r, &ctx)?;
                }
                (Input::Tick, Some(s)) => {
                    s.tick(e.time);
                }
                (Input::ShareEvidence(bytes), Some(s)) => {
                    let evidence: PartyEvidence = codec::decode(bytes, &Limits::DEFAULT)
                        .map_err(|_| ServiceError::Corrupt("journalled evidence"))?;
                    s.share_evidence(evidence, &ctx)?;
                }
                _ => return Err(ServiceError::Corrupt("journal order")),
            }
        }
        session.ok_or(ServiceError::Corrupt("empty journal"))
    }

    fn seal_key(&self, public: &LogKey) -> Option<&LogSecretKey> {
        // Retired seals too: old journals replay the signatures made before a seal rotation.
        [&self.keys.contract_seal, &self.keys.company_seal]
            .into_iter()
            .chain(&self.keys.retired_seals)
            .find(|k| k.public_key() == *public)
    }

    /// Records a step: its evidence entries, the session's new state, its webhook deliveries
    /// and its outbound messages in one atomic store commit (see the module docs).
    /// `before`: the session's evidence positions and status before the step (none for a
    /// new session). Returns the recipients messages were queued for.
    fn commit(
        &mut self,
        id: SessionId,
        before: Option<&Prior>,
        session: Session,
        step: Step,
        now: Timestamp,
    ) -> Result<Vec<PartyId>, ServiceError> {
        self.commit_step(id, before, session, &step, now)
    }

    fn commit_step(
        &mut self,
        id: SessionId,
        before: Option<&Prior>,
        session: Session,
        step: &Step,
        now: Timestamp,
    ) -> Result<Vec<PartyId>, ServiceError> {
        let evidence_from = self.evidence.len();
        let mut entries = Vec::new();
        for event in &step.events {
            for ev in event.evidence(id, now) {
                if !ev.kind.is_known() {
                    return Err(ServiceError::Corrupt("session event as evidence"));
                }
                entries.push(
                    ev.encode()
                        .map_err(|_| ServiceError::Corrupt("session event as evidence"))?,
                );
            }
            tracing::info!(session = %id, event = ?event, "session event");
        }
        let mut recipients = Vec::new();
        let queued: Vec<(PartyId, Digest, Vec<u8>)> = step
            .outbound
            .iter()
            .flat_map(|o| {
                o.to.iter()
                    .map(|to| (*to, o.message.digest(), o.message.bytes().to_vec()))
            })
            .collect();
        // The messages are stored with the step, in its one commit, and scheduled after it,
        // in the session's lane: a recipient gets one session's messages in order, and
        // several sessions' side by side.
        let lane = *id.as_bytes();
        let batch: Vec<(PartyId, Digest, crate::outbox::Lane, &[u8])> = queued
            .iter()
            .map(|(p, d, b)| (*p, *d, lane, &b[..]))
            .collect();
        let planned = self.outbox.plan_in_lanes(&batch, unix(now))?;
        recipients.extend(queued.iter().map(|(p, _, _)| *p));
        // The session in memory changes only once its state is on disk: a failed write
        // leaves the old state, so the input can come again and be applied then.
        let mut evidence = before.map(|p| p.evidence.clone()).unwrap_or_default();
        evidence.extend(evidence_from..evidence_from + entries.len() as u64);
        let record = snapshot_record(&session, &evidence)?;
        let mut webhooks = Vec::new();
        if !self.webhooks.is_empty() {
            let now_ms = now.unix().saturating_mul(1000);
            for event in &step.events {
                let debug = format!("{event:?}");
                let name = debug
                    .split(|c: char| !c.is_alphanumeric())
                    .next()
                    .unwrap_or_default();
                let body = serde_json::json!({
                    "type": "session.event",
                    "session": id.to_string(),
                    "event": name,
                    "status": record.status,
                    "time": now.to_string(),
                })
                .to_string();
                for url in &self.webhooks {
                    webhooks.push(super::webhook::delivery_record(url, body.clone(), now_ms));
                }
            }
        }
        let step = SessionStep {
            session: &id,
            record: &record,
            evidence_from,
            evidence: &entries,
            webhooks: &webhooks,
            outbox: &planned.entries,
        };
        if self.defer_sync {
            self.store.commit_session_step_deferred(&step)?;
        } else {
            self.store.commit_session_step(&step)?;
        }
        // The log in memory takes the entries only once the store has them.
        for entry in &entries {
            self.evidence.push(&*self.store, entry);
        }
        self.outbox.apply(planned);
        let status = session.status().name();
        let old_status = before.map(|p| p.status);
        if old_status != Some(status) {
            if let Some(old) = old_status.and_then(|s| self.counts.get_mut(s)) {
                *old = old.saturating_sub(1);
            }
            *self.counts.entry(status).or_default() += 1;
        }
        let tracked = Tracked { session, evidence };
        if matches!(tracked.session.status(), Status::Open) {
            self.sessions.insert(id, tracked);
        } else {
            self.sessions.remove(&id);
            self.recent
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .put(id, tracked);
        }
        Ok(recipients)
    }

    /// Handles a session message that the transport received from a node authenticated as
    /// party `peer`. The message must be `peer`'s own (spec 12.3): a node does not forward
    /// other parties' messages.
    pub(crate) fn handle_inbound(
        &mut self,
        peer: PartyId,
        bytes: &[u8],
        now: Timestamp,
    ) -> Result<Inbound, Refusal> {
        let unverified = Unverified::<SessionMessage>::decode(
            bytes,
            SESSION_MESSAGE_CONTENT_TYPE,
            &Limits::DEFAULT,
        )
        .map_err(|e| Refusal {
            session: None,
            code: e.code(),
            reason: format!("undecodable message: {e}"),
        })?;
        let id = unverified.payload().session;
        if unverified.payload().from != peer {
            return Err(Refusal {
                session: Some(id),
                code: ErrorCode::SenderMismatch,
                reason: format!(
                    "message from {} sent by a node of {peer}",
                    unverified.payload().from
                ),
            });
        }
        let ctx = Context {
            store: &self.trust,
            policy: &self.policy,
            now,
            node_key: &self.keys.node,
        };
        let known = self.tracked(&id).map_err(|e| Refusal {
            session: Some(id),
            code: ErrorCode::RetryLater,
            reason: format!("storage: {e}"),
        })?;
        let (before, session, step, started) = match known {
            Some(t) => {
                let t = t.into_owned();
                let prior = Prior::of(&t);
                let mut session = t.session;
                let step = session.handle(bytes, &ctx).map_err(|e| refuse(id, &e))?;
                // A revision must not drop a requirement this party's policy makes.
                self.admit_algorithms(session.proposal().payload())
                    .map_err(|(code, reason)| Refusal {
                        session: Some(id),
                        code,
                        reason,
                    })?;
                (Some(prior), session, step, false)
            }
            None => {
                let (s, step) =
                    Session::receive(bytes, self.me, &ctx).map_err(|e| refuse(id, &e))?;
                self.admit_session(&s).map_err(|(code, reason)| Refusal {
                    session: Some(id),
                    code,
                    reason,
                })?;
                (None, s, step, true)
            }
        };
        if step.duplicate {
            return Ok(Inbound::Duplicate);
        }
        self.commit(id, before.as_ref(), session, step, now)
            .map_err(|e| {
                tracing::error!(error = %e, "could not persist an inbound message; refused");
                Refusal {
                    session: Some(id),
                    code: ErrorCode::RetryLater,
                    reason: format!("storage: {e}"),
                }
            })?;
        Ok(if started {
            Inbound::Started(id)
        } else {
            Inbound::Applied(id)
        })
    }

    /// Whether this node takes part in a new session a counterparty proposed (already
    /// checked and from a trusted initiator): within the documents it may be asked to fetch,
    /// and the sessions one initiator may hold open with it ([`PeerLimits`]).
    /// Refuses a proposal (or revision) that does not require national algorithms when this
    /// party's policy requires them (spec §8.2.5). Final: the initiator must propose again
    /// with the requirement.
    fn admit_algorithms(&self, p: &Proposal) -> Result<(), (ErrorCode, String)> {
        if self.require_national && !p.requires_national() {
            return Err((
                ErrorCode::InvalidProposal,
                "this party's policy requires national algorithms (SM2 seals, SM3 digests); the proposal does not require them".into(),
            ));
        }
        Ok(())
    }

    fn admit_session(&self, session: &Session) -> Result<(), (ErrorCode, String)> {
        let p = session.proposal().payload();
        self.admit_algorithms(p)?;
        let limits = &self.peer_limits;
        let max_document =
            crate::store::MAX_DOCUMENT_CHUNKS as u64 * crate::store::CHUNK_SIZE as u64;
        if let Some(d) = p.documents.iter().find(|d| d.size > max_document) {
            return Err((
                ErrorCode::TooLarge,
                format!(
                    "document {} declares {} bytes; at most {max_document}",
                    d.name, d.size
                ),
            ));
        }
        let total = p
            .documents
            .iter()
            .fold(0u64, |t, d| t.saturating_add(d.size));
        if total > limits.max_session_document_bytes {
            return Err((
                ErrorCode::TooLarge,
                format!(
                    "the documents declare {total} bytes; this node takes at most {} per session",
                    limits.max_session_document_bytes
                ),
            ));
        }
        let open = self
            .sessions
            .values()
            .filter(|t| {
                matches!(t.session.status(), Status::Open)
                    && t.session.proposal().payload().initiator == p.initiator
            })
            .count();
        if open >= limits.max_open_sessions_per_initiator {
            // Final, not retry-later: a retried proposal would hold up, in the initiator's
            // per-recipient queue, the very messages (a cancel) that could make room.
            return Err((
                ErrorCode::NotAllowed,
                format!(
                    "{} has {open} open sessions with this node already, the most it takes",
                    p.initiator
                ),
            ));
        }
        Ok(())
    }

    /// Proposes a session.
    pub(crate) fn propose(
        &mut self,
        proposal: Proposal,
        now: Timestamp,
    ) -> Result<SessionId, ServiceError> {
        let id = proposal.session;
        if self.sessions.contains_key(&id) || self.store.session(&id)?.is_some() {
            return Err(ServiceError::Usage("a session with this id exists".into()));
        }
        let ctx = self.ctx_at(now);
        let (session, step) = Session::propose(proposal, &ctx)?;
        self.commit(id, None, session, step, now)?;
        Ok(id)
    }

    /// Runs a local action on a session and commits it.
    pub(crate) fn act(
        &mut self,
        id: SessionId,
        input: Input,
        now: Timestamp,
    ) -> Result<(), ServiceError> {
        let ctx = Context {
            store: &self.trust,
            policy: &self.policy,
            now,
            node_key: &self.keys.node,
        };
        let t = self.known(&id)?.into_owned();
        let before = Prior::of(&t);
        let mut session = t.session;
        let step = match &input {
            Input::Acknowledge => step_of(session.acknowledge(&ctx))?,
            Input::Approve => step_of(session.approve(&ctx))?,
            Input::Decline(r) => step_of(session.decline(r, &ctx))?,
            Input::Cancel(r) => step_of(session.cancel(r, &ctx))?,
            Input::Remind(r) => step_of(session.remind(r, &ctx))?,
            Input::Tick => session.tick(now),
            _ => return Err(ServiceError::Usage("not a simple action".into())),
        };
        self.commit(id, Some(&before), session, step, now)?;
        Ok(())
    }

    /// Expires the open sessions whose deadline has passed; returns how many.
    pub(crate) fn expire(&mut self, now: Timestamp) -> Result<usize, ServiceError> {
        let due: Vec<SessionId> = self
            .sessions
            .iter()
            .filter(|(_, t)| {
                matches!(t.session.status(), Status::Open)
                    && now >= t.session.proposal().payload().deadline
            })
            .map(|(id, _)| *id)
            .collect();
        for id in &due {
            self.act(*id, Input::Tick, now)?;
        }
        Ok(due.len())
    }

    /// The seal mandate of this party that covers `delegate` applying `seal` to `proposal`
    /// now, exactly as every verifier will check it (terms, authority, seal key, revocation,
    /// the policy's longest window); the newest such. Otherwise the reason the newest
    /// candidate for this delegate and seal fails.
    fn mandate_for(
        &self,
        proposal: &Proposal,
        delegate: &PersonKey,
        seal: &LogKey,
        now: Timestamp,
    ) -> Result<SignedAttestation, ServiceError> {
        let counterparties: Vec<PartyId> = proposal
            .parties()
            .into_iter()
            .filter(|p| *p != self.me)
            .collect();
        let use_ = MandateUse {
            party: self.me,
            delegate: delegate.clone(),
            seal: seal.clone(),
            purpose: &proposal.purpose,
            value: proposal.value.as_ref(),
            counterparties: &counterparties,
            time: now,
        };
        let mut candidates: Vec<&SignedAttestation> = self
            .trust
            .about(&self.me, AttestationKind::Delegation)
            .filter(|a| {
                let p = a.payload();
                p.issuer == self.me
                    && matches!(&p.claims, Claims::Delegation(d)
                        if d.delegate.person_key().as_ref() == Some(delegate))
            })
            .collect();
        candidates.sort_by_key(|a| std::cmp::Reverse(a.payload().issued_at));
        let mut reason = "no mandate names this person's key".to_string();
        for (i, candidate) in candidates.into_iter().enumerate() {
            match self
                .trust
                .check_mandate(candidate, &use_, self.policy.max_delegation_validity)
            {
                Ok(_) => return Ok(candidate.clone()),
                Err(e) if i == 0 => reason = e.to_string(),
                Err(_) => {}
            }
        }
        Err(ServiceError::NoMandate(reason))
    }

    /// The seal the proposal asks of this party in session `id`, once every document is
    /// here (stored whole and digest-checked): no intent is asked for before the person can
    /// read what they sign.
    pub(crate) fn seal_to_apply(
        &self,
        id: SessionId,
    ) -> Result<(Tracked, &LogSecretKey), ServiceError> {
        let t = self.known(&id)?.into_owned();
        let p = t.session.proposal().payload();
        let kind = p
            .participant(&self.me)
            .and_then(|p| p.seal_kind)
            .ok_or(ServiceError::Action(ActionError::NotAllowed("sign")))?;
        for d in p.document_digests() {
            if self.store.manifest(&d)?.is_none() {
                return Err(ServiceError::DocumentsMissing(d));
            }
        }
        // The PDF revisions this party is to seal, once it is its turn (spec §8.4.2).
        for (_, base) in t.session.pdf_bases().unwrap_or_default() {
            if self.store.manifest(&base)?.is_none() {
                return Err(ServiceError::DocumentsMissing(base));
            }
        }
        let seal = match kind {
            SealKind::Company => &self.keys.company_seal,
            _ => &self.keys.contract_seal,
        };
        // Refused here, before any PDF is sealed or anything stored (spec §8.2.5).
        if p.requires_national() && !matches!(seal.public_key(), LogKey::Sm2(_)) {
            return Err(ServiceError::Action(ActionError::SealAlgorithm(
                signet_protocol::session::Algorithms::National,
            )));
        }
        Ok((t, seal))
    }

    /// The intent challenge for this party's signature of session `id` by `method`, issued
    /// now, for the person's device to sign.
    pub(crate) fn intent_offer(
        &self,
        id: SessionId,
        method: IntentMethod,
        now: Timestamp,
    ) -> Result<IntentChallenge, ServiceError> {
        let (t, seal) = self.seal_to_apply(id)?;
        Ok(t.session.intent_challenge(seal.public_key(), method, now)?)
    }

    /// Signs session `id` with the seal the proposal asks of this party, on the person's
    /// intent proof (made on their device over a challenge this node offered): the proof is
    /// checked, the mandate that covers this use by that person is found, and the seal
    /// signs. The node never sees the person's key.
    ///
    /// `pdf`: the PDF revisions this party sealed for the session (spec §8.4.2).
    pub(crate) fn sign_with_intent(
        &mut self,
        id: SessionId,
        intent: &[u8],
        pdf: Vec<PdfRevision>,
        now: Timestamp,
    ) -> Result<(), ServiceError> {
        let proof = IntentProof::decode(intent)
            .map_err(|e| ServiceError::Usage(format!("intent proof: {e}")))?;
        let (before, seal) = self.seal_to_apply(id)?;
        let seal_public = seal.public_key();
        let offered = proof.challenge().time;
        if offered > now.plus(MAX_CLOCK_SKEW) || now.seconds_since(offered) > MAX_INTENT_AGE {
            return Err(ServiceError::Usage(format!(
                "the intent challenge of {offered} has expired (a person signs within {MAX_INTENT_AGE} s): ask for a new one"
            )));
        }
        let proposal = before.session.proposal().payload().clone();
        let mandate = self.mandate_for(&proposal, &proof.person(), &seal_public, now)?;
        let ctx = self.ctx_at(now);
        let seal_key = self
            .seal_key(&seal_public)
            .ok_or(ServiceError::Corrupt("seal key"))?;
        let prior = Prior::of(&before);
        let mut session = before.session;
        let step = session.sign(proof, mandate, seal_key, pdf, &ctx)?;
        self.commit(id, Some(&prior), session, step, now)?;
        Ok(())
    }

    /// A signed checkpoint of the evidence log now, once every entry in it is durable (a
    /// checkpoint commits to its entries: none may be lost after it is signed).
    pub(crate) fn checkpoint(&self) -> Result<SignedCheckpoint, ServiceError> {
        self.store.sync()?;
        let root = self.evidence.root(&*self.store)?;
        Ok(Checkpoint::for_party(&self.me, self.evidence.len(), root).sign(&self.keys.log))
    }

    /// Shares this party's evidence about a completed session, with `checkpoint` (cosigned).
    pub(crate) fn share_evidence(
        &mut self,
        id: SessionId,
        checkpoint: &SignedCheckpoint,
        now: Timestamp,
    ) -> Result<(), ServiceError> {
        let t = self.known(&id)?.into_owned();
        let before = Prior::of(&t);
        let evidence =
            self.evidence
                .party_evidence(&*self.store, self.me, &t.evidence, checkpoint)?;
        let ctx = self.ctx_at(now);
        let mut session = t.session;
        let step = session.share_evidence(evidence, &ctx)?;
        self.commit(id, Some(&before), session, step, now)?;
        Ok(())
    }

    /// The bundle of a completed session.
    pub(crate) fn bundle(&self, id: SessionId) -> Result<Vec<u8>, ServiceError> {
        let t = self.known(&id)?;
        let bundle =
            assemble(&t.session, &self.trust, &self.policy).map_err(ServiceError::Assemble)?;
        bundle
            .encode()
            .map_err(|e| ServiceError::Usage(e.to_string()))
    }

    /// Imports a key log (its events' bytes) after checking it.
    pub(crate) fn import_key_log(&mut self, events: &[Vec<u8>]) -> Result<PartyId, ServiceError> {
        let log = KeyLog::replay(events.iter().map(Vec::as_slice))
            .map_err(|e| ServiceError::Usage(format!("key log: {e}")))?;
        self.take_key_log(log)
    }

    /// Stores and holds a replayed key log (or its new events), reporting keys it declares
    /// that another party's log declares too.
    pub(crate) fn take_key_log(&mut self, log: KeyLog) -> Result<PartyId, ServiceError> {
        save_key_log(&*self.store, &log)?;
        let party = log.party();
        let keys: Vec<LogKey> = log.records().iter().map(|r| r.key.clone()).collect();
        self.trust.add_key_log(log);
        for key in keys.iter().filter(|k| self.trust.key_in_conflict(*k)) {
            let owners: Vec<String> = self
                .trust
                .key_owners(key)
                .map(ToString::to_string)
                .collect();
            tracing::warn!(%key, parties = ?owners, "a key is declared by the key logs of several parties: it speaks for none of them");
        }
        Ok(party)
    }

    /// Takes an attestation after checking its signature and its issuer's authority, and,
    /// for one a peer sent, that this node's policy could ever use it and its bounds are not
    /// reached (see `signet_protocol::trust::admit`). Stored and held in step.
    pub(crate) fn import_attestation(
        &mut self,
        bytes: &[u8],
        source: Source,
        now: Timestamp,
    ) -> Result<SignedAttestation, ServiceError> {
        let a = Attestation::decode(bytes)
            .map_err(|e| ServiceError::Usage(format!("attestation: {e}")))?;
        if source == Source::Network {
            admit(&self.policy, &self.trust, &a, now)
                .map_err(|e| ServiceError::Usage(format!("attestation not taken: {e}")))?;
        }
        self.keep_attestation(&a)?;
        Ok(a)
    }

    /// Stores and holds an attestation, or says why the trust store refuses it.
    fn keep_attestation(&mut self, a: &SignedAttestation) -> Result<(), ServiceError> {
        let p = a.payload();
        match save_attestation(&*self.store, &mut self.trust, a)? {
            AttestationUpdate::Added { .. }
            | AttestationUpdate::Duplicate
            | AttestationUpdate::Stale { .. } => Ok(()),
            AttestationUpdate::Conflict { held } => Err(ServiceError::Usage(format!(
                "attestation: {} already issued another attestation ({held}) under id {}; refused",
                p.issuer, p.id
            ))),
            AttestationUpdate::UnknownIssuer(issuer) => Err(ServiceError::Usage(format!(
                "attestation: the key log of its issuer {issuer} is not known yet"
            ))),
            AttestationUpdate::Unauthorised(e) => Err(ServiceError::Usage(format!(
                "attestation: not signed by an attest key of its issuer at issue time: {e}"
            ))),
        }
    }
}

/// Where an attestation comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    /// The node's operator (the API or the CLI): taken if it verifies.
    Operator,
    /// A peer (gossip): taken only if the policy could use it, within bounds.
    Network,
}

impl Core {
    /// Issues an attestation about `subject` with this party's attest key, stores it and
    /// adds it to the trust store.
    pub(crate) fn issue(
        &mut self,
        subject: PartyId,
        claims: Claims,
        days: u64,
        now: Timestamp,
    ) -> Result<SignedAttestation, ServiceError> {
        let id = super::init::new_attestation_id()?;
        let until = now.plus(days.max(1) * 86_400);
        self.issue_as(id, subject, claims, (now, until), now)
    }

    /// Issues an attestation with the given id and validity window (`valid_from`,
    /// `valid_until`), stores it and adds it to the trust store.
    pub(crate) fn issue_as(
        &mut self,
        id: AttestationId,
        subject: PartyId,
        claims: Claims,
        (valid_from, valid_until): (Timestamp, Timestamp),
        now: Timestamp,
    ) -> Result<SignedAttestation, ServiceError> {
        let log = self
            .trust
            .key_log(&self.me)
            .ok_or(ServiceError::Corrupt("own key log"))?;
        let signed = Attestation {
            id,
            issuer: self.me,
            subject,
            issued_at: now,
            valid_from,
            valid_until,
            claims,
        }
        .issue(&self.keys.attest, log)
        .map_err(|e| ServiceError::Usage(format!("attestation: {e}")))?;
        self.keep_attestation(&signed)?;
        Ok(signed)
    }
}

impl Core {
    /// Issues this party's revocation list (section 6.8 of the spec: every attestation and
    /// own key it revoked) when it has none, when its newest is older than
    /// [`super::REVOCATION_LIST_REFRESH`], or when `force`d (after a revocation). Returns the
    /// list issued, if one was. Its issue time is at least a second after the previous
    /// list's, so that it supersedes it everywhere.
    pub(crate) fn refresh_revocation_list(
        &mut self,
        now: Timestamp,
        force: bool,
    ) -> Result<Option<SignedAttestation>, ServiceError> {
        let previous = self
            .trust
            .revocation_list(&self.me)
            .map(|l| l.payload().issued_at);
        let fresh = previous
            .is_some_and(|t| now.seconds_since(t) < super::REVOCATION_LIST_REFRESH.as_secs());
        if fresh && !force {
            return Ok(None);
        }
        let mut entries = Vec::new();
        let mut keys = Vec::new();
        for signed in self.trust.about(&self.me, AttestationKind::Revocation) {
            let a = signed.payload();
            let Claims::Revocation(r) = &a.claims else {
                continue;
            };
            if a.issuer != self.me {
                continue;
            }
            match &r.target {
                RevocationTarget::Attestation(id) => entries.push(RevokedEntry {
                    id: *id,
                    effective: r.effective,
                    reason: r.reason,
                }),
                RevocationTarget::Key(key) => keys.push(RevokedKey {
                    key: key.clone(),
                    effective: r.effective,
                    reason: r.reason,
                }),
            }
        }
        let at = previous.map_or(now, |t| now.max(t.plus(1)));
        let list = self.issue(
            self.me,
            Claims::RevocationList(RevocationList { entries, keys }),
            REVOCATION_LIST_DAYS,
            at,
        )?;
        Ok(Some(list))
    }
}

/// How long a revocation list is valid (its freshness is judged by its issue time).
const REVOCATION_LIST_DAYS: u64 = 30;

impl Core {
    /// A copy of this party's key log to append events to, once the root key file is
    /// checked against it.
    fn own_log_to_change(&self) -> Result<KeyLog, ServiceError> {
        let log = self
            .trust
            .key_log(&self.me)
            .cloned()
            .ok_or(ServiceError::Corrupt("own key log"))?;
        if log.current_root() != self.keys.root.public_key() {
            return Err(ServiceError::Corrupt(
                "the root key file does not match the key log (an interrupted rotation?)",
            ));
        }
        Ok(log)
    }

    /// Rotates the root key: the pre-committed next root key, read from `next_root` (kept off
    /// the node until now), becomes the root and commits to a fresh next root, written to
    /// `new_next_root` (also off the node: the caller checks both paths). The fresh key is
    /// written first (never over an existing file), then the revealed key as the pending
    /// root, then the rotation is stored, then the pending root is installed: a crash before
    /// the store leaves the old root in force (rotate again, to another `new_next_root`); a
    /// crash after it is completed at the next start ([`super::keys::finish_rotations`]).
    pub(crate) fn rotate_root(
        &mut self,
        keys_dir: &Path,
        next_root: &Path,
        new_next_root: &Path,
        now: Timestamp,
    ) -> Result<u64, ServiceError> {
        let revealed = crate::keyfile::read(next_root)?;
        let mut log = self.own_log_to_change()?;
        if revealed.public_key().commitment() != log.next_root_commitment() {
            return Err(ServiceError::Usage(format!(
                "{} is not the next root key this party committed to",
                next_root.display()
            )));
        }
        let fresh = SecretKey::from_seed(&super::random_bytes()?);
        log.rotate(&revealed, &fresh.public_key(), now)
            .map_err(|e| ServiceError::Usage(format!("rotation: {e}")))?;
        crate::keyfile::write(new_next_root, &fresh, crate::keyfile::Replace::No)?;
        crate::keyfile::write(
            &keys::pending_path(keys_dir, KeyKind::Root),
            &revealed,
            crate::keyfile::Replace::Yes,
        )?;
        save_key_log(&*self.store, &log)?;
        keys::install_pending(
            keys_dir,
            KeyKind::Root,
            &keys::retired_name(KeyKind::Root, &self.keys.root.public_key().into()),
        )?;
        self.keys.root = revealed;
        let len = log.len() as u64;
        self.trust.add_key_log(log);
        Ok(len)
    }
}

impl Core {
    /// Rotates a non-root key of `kind`: a fresh key is declared (add-key) and the old one
    /// retired (retire-key), both signed by the root key, at `now`. Signatures the old key
    /// made before `now` stay valid. The fresh key is written to a pending file first, the
    /// events are stored, then the files are swapped (see [`super::keys`]). A seal rotation
    /// re-issues this party's seal mandates that named the old seal, with the new one, until
    /// the same end. The fresh key has the old one's algorithm unless `algorithm` names
    /// another, which only the attest key may take. Returns the key log's new length and the
    /// new public key.
    pub(crate) fn rotate_key(
        &mut self,
        keys_dir: &Path,
        kind: KeyKind,
        algorithm: Option<SealAlgorithm>,
        now: Timestamp,
    ) -> Result<(u64, LogKey), ServiceError> {
        if algorithm.is_some() && kind != KeyKind::Attest {
            return Err(ServiceError::Usage(format!(
                "only the attest key takes an algorithm when rotated, not the {} key",
                kind.name()
            )));
        }
        match kind {
            KeyKind::Root => {
                return Err(ServiceError::Usage(
                    "the root key rotates by pre-rotation: give the next root key's file \
                     (see `rotate_root`)"
                        .into(),
                ));
            }
            KeyKind::Node => {
                return self
                    .declare_next_node_key(keys_dir, now)
                    .map(|(len, key)| (len, key.into()));
            }
            _ => {}
        }
        let mut log = self.own_log_to_change()?;
        let old = self.keys.public(kind);
        let record = log
            .records()
            .iter()
            .find(|r| r.key == old && r.purpose == kind.purpose() && r.retired_at.is_none())
            .cloned()
            .ok_or(ServiceError::Corrupt(
                "the key file is not a current key of the key log",
            ))?;
        // A fresh key of the same algorithm unless another is asked: an SM2 seal stays SM2.
        let fresh = match (algorithm, &old) {
            (Some(algorithm), _) => super::init::new_key(algorithm)?,
            (None, LogKey::Sm2(_)) => LogSecretKey::Sm2(keys::new_sm2_key()?),
            (None, _) => LogSecretKey::Ed25519(SecretKey::from_seed(&super::random_bytes()?)),
        };
        let fresh_public = fresh.public_key();
        let decl = match (kind, &fresh_public) {
            // An attest key is Ed25519 or SM2 (spec §3.3 rule 2).
            (KeyKind::Attest, key) => KeyDecl::attest(key.clone()),
            (KeyKind::Log, LogKey::Ed25519(key)) => KeyDecl::log(*key),
            (KeyKind::Log, _) => {
                return Err(ServiceError::Corrupt("a log key that is not Ed25519"));
            }
            _ => {
                let info = record
                    .seal
                    .clone()
                    .ok_or(ServiceError::Corrupt("a seal key without its seal"))?;
                KeyDecl::seal(fresh_public.clone(), info)
            }
        };
        let pending = keys::pending_path(keys_dir, kind);
        crate::keyfile::write_log_key(&pending, &fresh, crate::keyfile::Replace::Yes)?;
        let root = &self.keys.root;
        log.add_key(root, decl, now)
            .map_err(|e| ServiceError::Usage(format!("rotation: {e}")))?;
        log.retire_key(root, old.clone(), now)
            .map_err(|e| ServiceError::Usage(format!("rotation: {e}")))?;
        save_key_log(&*self.store, &log)?;
        let retired = keys::retired_name(kind, &old);
        keys::install_pending(keys_dir, kind, &retired)?;
        self.keys.replace(kind, fresh);
        let len = log.len() as u64;
        self.trust.add_key_log(log);
        match kind {
            KeyKind::ContractSeal | KeyKind::CompanySeal => {
                self.reissue_mandates(&old, &fresh_public, now)?;
            }
            KeyKind::Log => {
                // A witness cosigns with the log key: take the new one.
                if let Some((_, path)) = self.witness.take() {
                    let w = restore_witness(self.me, &self.keys, &self.trust, &path)?;
                    self.witness = Some((w, path));
                }
            }
            _ => {}
        }
        Ok((len, fresh_public))
    }

    /// The first half of a node-key rotation: a fresh node key is written to its pending
    /// file and declared (add-key, with its proof of possession, signed by the root key)
    /// beside the current one, so peers accept both while the news spreads. The running
    /// network keeps its libp2p identity; at the next start the node takes the fresh key
    /// ([`super::keys::finish_rotations`]) and retires the old one
    /// ([`Core::retire_old_node_keys`]). A second rotation before that restart is refused.
    fn declare_next_node_key(
        &mut self,
        keys_dir: &Path,
        now: Timestamp,
    ) -> Result<(u64, PublicKey), ServiceError> {
        let pending = keys::pending_path(keys_dir, KeyKind::Node);
        if pending.exists() {
            return Err(ServiceError::Usage(
                "a new node key is declared already: restart the node to take it".into(),
            ));
        }
        let mut log = self.own_log_to_change()?;
        let fresh = SecretKey::from_seed(&super::random_bytes()?);
        crate::keyfile::write(&pending, &fresh, crate::keyfile::Replace::No)?;
        let root = &self.keys.root;
        let declared = log
            .add_key(root, KeyDecl::node(&fresh, &root.public_key()), now)
            .map_err(|e| ServiceError::Usage(format!("rotation: {e}")));
        if let Err(e) = declared {
            let _ = std::fs::remove_file(&pending);
            return Err(e);
        }
        save_key_log(&*self.store, &log)?;
        let len = log.len() as u64;
        self.trust.add_key_log(log);
        Ok((len, fresh.public_key()))
    }

    /// The second half of a node-key rotation, at start: every current node key of this
    /// party's log other than the node's own key file is retired (signed by the root key),
    /// effective `now`. What the old key signed before stays valid. Returns how many.
    pub(crate) fn retire_old_node_keys(&mut self, now: Timestamp) -> Result<usize, ServiceError> {
        let mut log = self.own_log_to_change()?;
        let ours = self.keys.node.public_key();
        let old: Vec<PublicKey> = log
            .keys_at(KeyPurpose::Node, now)
            .filter_map(|r| r.key.ed25519().copied())
            .filter(|k| *k != ours)
            .collect();
        if old.is_empty() {
            return Ok(0);
        }
        if !log
            .keys_at(KeyPurpose::Node, now)
            .any(|r| r.key.ed25519() == Some(&ours))
        {
            return Err(ServiceError::Corrupt(
                "the node key file is not a current node key of the key log",
            ));
        }
        for key in &old {
            log.retire_key(&self.keys.root, *key, now)
                .map_err(|e| ServiceError::Usage(format!("retiring the old node key: {e}")))?;
        }
        save_key_log(&*self.store, &log)?;
        self.trust.add_key_log(log);
        Ok(old.len())
    }

    /// Declares a PDF key (key purpose `pdf`, ECDSA P-256) if the party's key log has no
    /// current one: the key held in `keys_dir` if a crash came between writing it and
    /// declaring it, else a fresh one, written (owner-only, never over a file) before the
    /// declaration is stored. Parties made before PDF keys existed get theirs this way at
    /// the next start. Returns whether the log changed.
    pub(crate) fn ensure_pdf_key(
        &mut self,
        keys_dir: &Path,
        now: Timestamp,
    ) -> Result<bool, ServiceError> {
        self.ensure_p256_key(KeyPurpose::Pdf, keys_dir, now)
    }

    /// Declares a witness's time-stamping key (key purpose `tsa`, ECDSA P-256) if the
    /// party's key log has no current one, as [`Core::ensure_pdf_key`] does for the PDF key
    /// ([`keys::TSA_KEY_FILE`]). Returns whether the log changed.
    pub(crate) fn ensure_tsa_key(
        &mut self,
        keys_dir: &Path,
        now: Timestamp,
    ) -> Result<bool, ServiceError> {
        self.ensure_p256_key(KeyPurpose::Tsa, keys_dir, now)
    }

    /// [`Core::ensure_pdf_key`] for `purpose`, `pdf` or `tsa`.
    fn ensure_p256_key(
        &mut self,
        purpose: KeyPurpose,
        keys_dir: &Path,
        now: Timestamp,
    ) -> Result<bool, ServiceError> {
        let (file, what, held) = match purpose {
            KeyPurpose::Pdf => (keys::PDF_KEY_FILE, "PDF key", &self.keys.pdf),
            KeyPurpose::Tsa => (keys::TSA_KEY_FILE, "time-stamping key", &self.keys.tsa),
            _ => return Err(ServiceError::Internal("not an ECDSA P-256 key purpose")),
        };
        let mut log = self.own_log_to_change()?;
        if log.retired_at().is_some() || log.keys_at(purpose, now).next().is_some() {
            return Ok(false);
        }
        let key = match held {
            Some(key) => key.clone(),
            None => {
                let fresh = keys::new_pdf_key()?;
                crate::keyfile::write_p256(
                    &keys_dir.join(file),
                    &fresh,
                    crate::keyfile::Replace::No,
                )?;
                fresh
            }
        };
        let public = EcdsaP256Key::from_verifying_key(key.verifying_key());
        if log
            .records()
            .iter()
            .any(|r| r.key == LogKey::EcdsaP256(public))
        {
            // The key file holds a key the log retired: it is not to be declared again.
            return Err(ServiceError::Usage(format!(
                "{} holds a retired {what}: move it away and restart to declare a fresh one",
                keys_dir.join(file).display()
            )));
        }
        let decl = match purpose {
            KeyPurpose::Pdf => KeyDecl::pdf(public),
            _ => KeyDecl::tsa(public),
        };
        log.add_key(&self.keys.root, decl, now)
            .map_err(|e| ServiceError::Usage(format!("declaring the {what}: {e}")))?;
        save_key_log(&*self.store, &log)?;
        self.trust.add_key_log(log);
        match purpose {
            KeyPurpose::Pdf => self.keys.pdf = Some(key),
            _ => self.keys.tsa = Some(key),
        }
        Ok(true)
    }

    /// Declares the SM2 key `key` as a `pdf` key of this party (national-algorithm PDF
    /// seals, `[pdf.sm2]`) unless the key log already holds it. Returns whether the log
    /// changed; a key the log retired is refused.
    pub(crate) fn ensure_sm2_pdf_key(
        &mut self,
        key: signet_protocol::sm2::Sm2PublicKey,
        now: Timestamp,
    ) -> Result<bool, ServiceError> {
        let mut log = self.own_log_to_change()?;
        if log.retired_at().is_some() {
            return Ok(false);
        }
        let current = log
            .keys_at(KeyPurpose::Pdf, now)
            .any(|r| r.key == LogKey::Sm2(key));
        if current {
            return Ok(false);
        }
        if log.records().iter().any(|r| r.key == LogKey::Sm2(key)) {
            return Err(ServiceError::Usage(
                "the [pdf.sm2] key is one the key log retired: configure a fresh one".into(),
            ));
        }
        log.add_key(&self.keys.root, KeyDecl::sm2_pdf(key), now)
            .map_err(|e| ServiceError::Usage(format!("declaring the SM2 PDF key: {e}")))?;
        save_key_log(&*self.store, &log)?;
        self.trust.add_key_log(log);
        Ok(true)
    }

    /// Re-issues this party's seal mandates valid at `now` that name `old`, naming `new`
    /// instead, valid until the same end.
    fn reissue_mandates(
        &mut self,
        old: &LogKey,
        new: &LogKey,
        now: Timestamp,
    ) -> Result<(), ServiceError> {
        let mandates: Vec<(PartyId, Timestamp, Claims)> = self
            .trust
            .about(&self.me, AttestationKind::Delegation)
            .filter_map(|a| {
                let p = a.payload();
                let Claims::Delegation(d) = &p.claims else {
                    return None;
                };
                if p.issuer != self.me || now >= p.valid_until || !d.seals.contains(old) {
                    return None;
                }
                let mut d = d.clone();
                for s in &mut d.seals {
                    if s == old {
                        *s = new.clone();
                    }
                }
                Some((p.subject, p.valid_until, Claims::Delegation(d)))
            })
            .collect();
        let log = self
            .trust
            .key_log(&self.me)
            .ok_or(ServiceError::Corrupt("own key log"))?
            .clone();
        for (subject, valid_until, claims) in mandates {
            let signed = Attestation {
                id: super::init::new_attestation_id()?,
                issuer: self.me,
                subject,
                issued_at: now,
                valid_from: now,
                valid_until,
                claims,
            }
            .issue(&self.keys.attest, &log)
            .map_err(|e| ServiceError::Usage(format!("mandate: {e}")))?;
            self.keep_attestation(&signed)?;
        }
        Ok(())
    }
}

/// The log keys a party ever declared.
fn log_keys(trust: &TrustStore, party: &PartyId) -> Vec<PublicKey> {
    trust.key_log(party).map_or_else(Vec::new, |log| {
        log.records()
            .iter()
            .filter(|r| r.purpose == KeyPurpose::Log)
            .filter_map(|r| r.key.ed25519().copied())
            .collect()
    })
}

fn restore_witness(
    me: PartyId,
    keys: &PartyKeys,
    trust: &TrustStore,
    path: &Path,
) -> Result<Witness, ServiceError> {
    let notes = super::witness::load_cosigned(path)
        .map_err(|_| ServiceError::Corrupt("witness checkpoints file"))?;
    let mut checkpoints = Vec::new();
    for note in notes {
        let Ok(c) = Checkpoint::from_note_unverified(&note) else {
            continue;
        };
        let origin = c.origin().to_string();
        let Some(party) = evidence_party(&origin) else {
            continue;
        };
        if let Some(cp) = log_keys(trust, &party)
            .iter()
            .find_map(|k| SignedCheckpoint::verify(&note, &origin, k).ok())
        {
            checkpoints.push(cp);
        }
    }
    Witness::restore(
        &witness_name(&me),
        SecretKey::from_seed(&keys.log.to_seed()),
        checkpoints,
    )
    .map_err(|_| ServiceError::Corrupt("witness name"))
}

impl Core {
    /// As a witness, answers a cosign request from the node of party `from` (spec
    /// §10.5.4). A checkpoint it cosigned is on disk, and the answer is in the outbox for
    /// `from`, before this returns. `Ok(None)` if this node is not a witness.
    pub(crate) fn witness_request(
        &mut self,
        from: PartyId,
        request: &CosignRequest,
        now: Timestamp,
    ) -> Result<Option<WitnessMessage>, ServiceError> {
        let keys = log_keys(&self.trust, &from);
        let Some((witness, path)) = self.witness.as_mut() else {
            return Ok(None);
        };
        let answer = witness::answer(witness, &from, &keys, request, now);
        if let WitnessMessage::Cosigned(_) = answer {
            super::witness::append_cosigned(path, request.note.as_bytes())
                .map_err(|_| ServiceError::Internal("witness storage"))?;
        }
        let bytes = answer
            .encode()
            .map_err(|_| ServiceError::Internal("encode"))?;
        self.outbox
            .enqueue(from, Digest::of(&bytes), &bytes, unix(now))?;
        Ok(Some(answer))
    }

    /// Every `log` key `party` ever declared in its key log as this node holds it.
    pub(crate) fn log_keys_of(&self, party: &PartyId) -> Vec<PublicKey> {
        log_keys(&self.trust, party)
    }

    /// The consistency proof of the log from `old` entries to now, and the log's size.
    pub(crate) fn consistency_from(&self, old: u64) -> Option<Vec<Digest>> {
        self.evidence.consistency_proof(&*self.store, old).ok()
    }
}

/// What an inbound message did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Inbound {
    /// It started a session (a proposal received).
    Started(SessionId),
    /// It was applied to a session.
    Applied(SessionId),
    /// It had been applied before.
    Duplicate,
}

/// Why an inbound message was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The session it named, if it decoded.
    pub session: Option<SessionId>,
    /// The wire error code sent back.
    pub code: ErrorCode,
    /// The reason, for the operator.
    pub reason: String,
}

fn refuse(id: SessionId, e: &SessionError) -> Refusal {
    Refusal {
        session: Some(id),
        code: e.code(),
        reason: e.to_string(),
    }
}

/// Seconds since the epoch as the outbox's clock.
pub(crate) fn unix(t: Timestamp) -> Duration {
    Duration::from_secs(t.unix())
}

/// Whether the party is the initiator.
pub(crate) fn side_name(s: &Session) -> &'static str {
    match s.side() {
        Side::Initiator => "initiator",
        Side::Participant => "participant",
    }
}

/// Whether the session has ended.
/// The store record of a session: its status, and its snapshot with its evidence positions
/// and its listing.
fn snapshot_record(session: &Session, evidence: &[u64]) -> Result<SessionRecord, ServiceError> {
    let snapshot = session
        .snapshot()
        .map_err(|_| ServiceError::Internal("encoding a session snapshot"))?;
    let listing = Listing::of(session).encode();
    Ok(SessionRecord {
        status: session.status().name().to_string(),
        state: journal::encode_snapshot(&snapshot, evidence, &listing),
    })
}

pub(crate) fn ended(s: &Session) -> bool {
    !matches!(s.status(), Status::Open)
}

impl From<AssembleError> for ServiceError {
    fn from(e: AssembleError) -> Self {
        Self::Assemble(e)
    }
}
