//! The session state machine, for the initiator and for each participant (spec §8.5).
//!
//! One [`Session`] is one party's view of one contract's signing. It takes decoded time,
//! knowledge ([`Context`]) and received bytes, and returns what to send and what happened
//! ([`Step`]); it never does I/O. The transitions, per role and per status, are the tables
//! of spec §8.5; [`Session::handle`] matches them exhaustively.
//!
//! Properties the tests check: duplicates are harmless (same bytes → nothing happens);
//! messages about another session or revision are refused; actions out of routing order are
//! refused with who is still awaited; nothing is accepted after completion, decline,
//! cancellation or the deadline; every participant re-verifies every action itself and
//! never takes the initiator's word for completion.

use std::collections::BTreeSet;

use crate::attestation::SignedAttestation;
use crate::codec::Limits;
use crate::cose::{CoseError, CoseSigner, Signed};
use crate::error::UsageError;
use crate::evidence::event::MAX_NOTE_BYTES;
use crate::evidence::{EvidenceEvent, EvidenceKind, PartyEvidence, PartyEvidenceError};
use crate::keylog::{KeyPurpose, KeyUseError, LogKey};
use crate::party::PartyId;
use crate::trust::{TrustPath, TrustPolicy, TrustStore, Verdict, evaluate};
use crate::{Digest, SecretKey, Timestamp};

use super::intent::{IntentChallenge, IntentMethod, IntentProof};
use super::message::{MessageBody, MessageKind, SESSION_MESSAGE_CONTENT_TYPE, SessionMessage};
use super::proposal::{
    Algorithms, PROPOSAL_CONTENT_TYPE, Proposal, ProposalError, Role, SessionId,
};
use super::record::{
    Judged, PdfBases, PdfRevision, RecordCheck, RecordError, SEAL_SIGNATURE_CONTENT_TYPE,
    SealSignature, SignatureRecord, pdf_bases,
};

/// How far a sender's clock may run ahead of ours, in seconds.
pub const MAX_CLOCK_SKEW: u64 = 300;

/// What a session step knows and holds: knowledge, the time, and the key it signs with.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// Key logs and attestations known to this party.
    pub store: &'a TrustStore,
    /// This party's trust policy.
    pub policy: &'a TrustPolicy,
    /// The current time.
    pub now: Timestamp,
    /// This party's node key: signs every message this party sends.
    pub node_key: &'a SecretKey,
}

/// Which side of the session this party is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// It proposed the session.
    Initiator,
    /// It was asked to take part.
    Participant,
}

/// Where a session stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// Waiting for actions.
    Open,
    /// Every signer signed and every approver approved, in routing order.
    Completed {
        /// When the initiator completed it.
        at: Timestamp,
    },
    /// A participant declined.
    Declined {
        /// Who.
        by: PartyId,
        /// Why.
        reason: String,
    },
    /// The initiator cancelled.
    Cancelled {
        /// Why.
        reason: String,
    },
    /// The deadline passed.
    Expired {
        /// The deadline.
        at: Timestamp,
    },
}

impl Status {
    /// The status's name.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Completed { .. } => "completed",
            Self::Declined { .. } => "declined",
            Self::Cancelled { .. } => "cancelled",
            Self::Expired { .. } => "expired",
        }
    }
}

/// A participant's accepted action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Action {
    /// Who acted.
    pub party: PartyId,
    /// The signed sign or approve message.
    pub message: Signed<SessionMessage>,
    /// For signatures, the verified record.
    pub record: Option<SignatureRecord>,
}

impl Action {
    /// Digest of the action's message: what later signatures commit to.
    pub fn digest(&self) -> Digest {
        self.message.digest()
    }
}

/// A message to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outbound {
    /// The recipients.
    pub to: Vec<PartyId>,
    /// The signed message.
    pub message: Signed<SessionMessage>,
}

/// Something that happened, for the evidence log and for the operator.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SessionEvent {
    /// This party proposed (or revised) the session.
    ProposalSent {
        /// Digest of the signed proposal.
        proposal: Digest,
    },
    /// This party received a proposal (or revision).
    ProposalReceived {
        /// Digest of the signed proposal.
        proposal: Digest,
    },
    /// A participant acknowledged.
    Acknowledged {
        /// Who.
        by: PartyId,
    },
    /// This party's delegate gave an intent proof and its seal signed.
    SignatureMade {
        /// Digest of the intent proof.
        intent: Digest,
        /// Digest of the sign message.
        message: Digest,
    },
    /// Another party's signature was verified and accepted.
    SignatureReceived {
        /// Who signed.
        by: PartyId,
        /// Digest of the sign message.
        message: Digest,
    },
    /// A participant approved.
    Approved {
        /// Who.
        by: PartyId,
        /// Digest of the approve message.
        message: Digest,
    },
    /// A participant declined.
    Declined {
        /// Who.
        by: PartyId,
        /// Why.
        reason: String,
    },
    /// The initiator cancelled.
    Cancelled {
        /// Why.
        reason: String,
    },
    /// The initiator reminded.
    Reminded,
    /// The deadline passed.
    Expired,
    /// The session completed; every action was verified by this party.
    Completed {
        /// Digest of the complete message.
        message: Digest,
    },
    /// A party's evidence (checkpoint and inclusion proofs) was received and checked.
    EvidenceReceived {
        /// Whose.
        from: PartyId,
    },
}

impl SessionEvent {
    /// The evidence-log events this session event is recorded as (spec §8.9): none for
    /// acknowledgements and reminders, two for a signature made (intent given, signature
    /// made), one otherwise.
    pub fn evidence(&self, session: SessionId, time: Timestamp) -> Vec<EvidenceEvent> {
        let event = |kind, objects: Vec<Digest>, note: Option<String>| EvidenceEvent {
            kind,
            time,
            session: Some(session.as_digest()),
            objects,
            note,
        };
        match self {
            Self::ProposalSent { proposal } => {
                vec![event(EvidenceKind::ProposalSent, vec![*proposal], None)]
            }
            Self::ProposalReceived { proposal } => {
                vec![event(EvidenceKind::ProposalReceived, vec![*proposal], None)]
            }
            Self::Acknowledged { .. } | Self::Reminded | Self::EvidenceReceived { .. } => {
                Vec::new()
            }
            Self::SignatureMade { intent, message } => vec![
                event(EvidenceKind::IntentGiven, vec![*intent], None),
                event(EvidenceKind::SignatureMade, vec![*message], None),
            ],
            Self::SignatureReceived { message, .. } => {
                vec![event(EvidenceKind::SignatureReceived, vec![*message], None)]
            }
            Self::Approved { message, .. } => {
                vec![event(EvidenceKind::Approved, vec![*message], None)]
            }
            Self::Declined { reason, .. } => vec![event(
                EvidenceKind::Declined,
                Vec::new(),
                Some(truncate(reason)),
            )],
            Self::Cancelled { reason } => vec![event(
                EvidenceKind::Cancelled,
                Vec::new(),
                Some(truncate(reason)),
            )],
            Self::Expired => vec![event(EvidenceKind::Expired, Vec::new(), None)],
            Self::Completed { message } => {
                vec![event(EvidenceKind::Completed, vec![*message], None)]
            }
        }
    }
}

/// A reason as an evidence note: at most [`MAX_NOTE_BYTES`] bytes, cut at a character.
fn truncate(text: &str) -> String {
    let mut end = text.len().min(MAX_NOTE_BYTES);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_string()
}

/// What a step produced.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Step {
    /// Messages to send.
    pub outbound: Vec<Outbound>,
    /// What happened.
    pub events: Vec<SessionEvent>,
    /// The input was a message already handled; nothing changed.
    pub duplicate: bool,
}

/// Why a received message was refused. Always the sender's fault (or a relayer's);
/// nothing changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// Not a valid signed session message.
    #[error("message: {0}")]
    Message(CoseError),
    /// Not a valid signed proposal.
    #[error("proposal: {0}")]
    ProposalObject(CoseError),
    /// The proposal's content is invalid.
    #[error("proposal: {0}")]
    Proposal(ProposalError),
    /// The message belongs to another session (a replay).
    #[error("message for session {found}, not {expected}")]
    WrongSession {
        /// This session.
        expected: SessionId,
        /// The message's.
        found: SessionId,
    },
    /// The message is about another revision of the proposal.
    #[error("message about another revision of the proposal")]
    WrongRevision,
    /// A revision arrived after someone acted, or conflicts with the one held.
    #[error("the proposal cannot change: {0}")]
    ProposalFrozen(&'static str),
    /// The sender takes no part in the session, or may not send this message.
    #[error("{party} may not send a {kind} message in this session")]
    NotAllowed {
        /// The sender.
        party: PartyId,
        /// The message kind.
        kind: MessageKind,
    },
    /// The sender's key log is unknown: the message cannot be checked yet (retry later).
    #[error("the key event log of {0} is not known yet")]
    UnknownKeyLog(PartyId),
    /// The message was not signed by a node key of its sender at its time.
    #[error("sender key: {0}")]
    SenderKey(KeyUseError),
    /// The message is dated too far in the future, or before the proposal.
    #[error("message time {0} is implausible")]
    Time(Timestamp),
    /// The session has ended.
    #[error("the session is {0}")]
    Ended(&'static str),
    /// The deadline has passed.
    #[error("the deadline {0} has passed")]
    Expired(Timestamp),
    /// The participant acted already, differently.
    #[error("{0} has already acted in this session")]
    AlreadyActed(PartyId),
    /// The action comes before earlier routing groups finished.
    #[error(
        "{party} acted out of routing order; still waiting for {}",
        list(waiting_for)
    )]
    RoutingOrder {
        /// Who acted.
        party: PartyId,
        /// Who must act first.
        waiting_for: Vec<PartyId>,
    },
    /// The signature record is invalid.
    #[error("signature of {party}: {error}")]
    Record {
        /// The signer.
        party: PartyId,
        /// What is wrong.
        error: RecordError,
    },
    /// A completion lacks actions, or holds wrong ones.
    #[error("completion: {0}")]
    Completion(&'static str),
    /// A party's evidence does not verify.
    #[error("evidence: {0}")]
    Evidence(PartyEvidenceError),
    /// A party's evidence holds an entry about another session.
    #[error("evidence holds an entry about another session")]
    EvidenceScope,
    /// The initiator of a proposal is not trusted under this party's policy: a party takes
    /// part (and spends storage and bandwidth on documents) only in sessions of initiators
    /// it trusts.
    #[error("the initiator {party} is not trusted: {verdict}")]
    Untrusted {
        /// The initiator.
        party: PartyId,
        /// The verdict.
        verdict: Box<Verdict>,
    },
}

/// Why this party cannot do what its operator asked. The caller's fault; nothing changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ActionError {
    /// The proposal is invalid.
    #[error("invalid proposal: {0}")]
    Proposal(ProposalError),
    /// This party is not the initiator, or not a participant with the right role.
    #[error("this party may not {0} in this session")]
    NotAllowed(&'static str),
    /// The session has ended.
    #[error("the session is {0}")]
    Ended(&'static str),
    /// It is not this party's turn yet.
    #[error("not this party's turn: waiting for {}", list(.0))]
    NotYourTurn(Vec<PartyId>),
    /// This party has acted already.
    #[error("this party has already acted")]
    AlreadyActed,
    /// Someone has acted, so the proposal cannot change.
    #[error("the proposal cannot change once someone has acted")]
    ProposalFrozen,
    /// The signature this party would make is invalid (e.g. its mandate does not cover it).
    #[error("the signature would be invalid: {0}")]
    Record(RecordError),
    /// A counterparty is not trusted under this party's policy: it will not sign with it.
    #[error("counterparty {party} is not trusted: {verdict}")]
    Untrusted {
        /// The counterparty.
        party: PartyId,
        /// The verdict.
        verdict: Box<Verdict>,
    },
    /// This party's own evidence does not verify.
    #[error("evidence: {0}")]
    Evidence(PartyEvidenceError),
    /// The intent proof does not match this session.
    #[error("the intent proof is for another session, revision, signer or seal")]
    IntentMismatch,
    /// The session requires national algorithms (spec §8.2.5) and this seal is not an SM2
    /// key: a signer whose seal is Ed25519 cannot satisfy it.
    #[error("the session requires {0} algorithms: seal with an sm2 seal key")]
    SealAlgorithm(Algorithms),
    /// A value could not be encoded.
    #[error("{0}")]
    Usage(#[from] UsageError),
}

impl From<crate::codec::EncodeError> for ActionError {
    fn from(e: crate::codec::EncodeError) -> Self {
        Self::Usage(UsageError::Encode(e))
    }
}

/// Party ids as text, comma-separated, for error messages.
fn list(parties: &[PartyId]) -> String {
    parties
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// One party's view of one signing session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub(super) side: Side,
    pub(super) me: PartyId,
    pub(super) proposal: Signed<Proposal>,
    pub(super) status: Status,
    pub(super) acknowledged: Vec<PartyId>,
    pub(super) actions: Vec<Action>,
    pub(super) completion: Option<Signed<SessionMessage>>,
    pub(super) seen: BTreeSet<Digest>,
    /// Each party's evidence received or shared, with its checkpoint size.
    pub(super) evidence: Vec<(PartyEvidence, u64)>,
}

impl Session {
    /// Proposes a session as its initiator: signs the proposal and addresses it to every
    /// participant.
    pub fn propose(proposal: Proposal, ctx: &Context<'_>) -> Result<(Self, Step), ActionError> {
        proposal.check().map_err(ActionError::Proposal)?;
        let me = proposal.initiator;
        let signed = Signed::sign(proposal, PROPOSAL_CONTENT_TYPE, ctx.node_key)?;
        let mut session = Self {
            side: Side::Initiator,
            me,
            proposal: signed,
            status: Status::Open,
            acknowledged: Vec::new(),
            actions: Vec::new(),
            completion: None,
            seen: BTreeSet::new(),
            evidence: Vec::new(),
        };
        let step = session.send_proposal(ctx)?;
        Ok((session, step))
    }

    fn send_proposal(&mut self, ctx: &Context<'_>) -> Result<Step, ActionError> {
        let body = MessageBody::Propose {
            proposal: self.proposal.bytes().to_vec(),
        };
        let message = self.message(body, ctx)?;
        Ok(Step {
            outbound: vec![Outbound {
                to: self.others(),
                message,
            }],
            events: vec![SessionEvent::ProposalSent {
                proposal: self.proposal.digest(),
            }],
            duplicate: false,
        })
    }

    /// Starts a participant's view from a received propose message.
    pub fn receive(
        bytes: &[u8],
        me: PartyId,
        ctx: &Context<'_>,
    ) -> Result<(Self, Step), SessionError> {
        let message = decode_message(bytes)?;
        let m = message.payload();
        let MessageBody::Propose { proposal } = &m.body else {
            return Err(SessionError::NotAllowed {
                party: m.from,
                kind: m.body.kind(),
            });
        };
        let proposal = decode_proposal(proposal, ctx)?;
        let p = proposal.payload();
        if m.session != p.session {
            return Err(SessionError::WrongSession {
                expected: p.session,
                found: m.session,
            });
        }
        if m.proposal != proposal.digest() {
            return Err(SessionError::WrongRevision);
        }
        if m.from != p.initiator || p.participant(&me).is_none() || me == p.initiator {
            return Err(SessionError::NotAllowed {
                party: m.from,
                kind: MessageKind::Propose,
            });
        }
        check_envelope(&proposal, &message, ctx.store, ctx.now)?;
        match evaluate(ctx.policy, ctx.store, &p.initiator, ctx.now) {
            Verdict::Trusted { .. } => {}
            verdict => {
                return Err(SessionError::Untrusted {
                    party: p.initiator,
                    verdict: Box::new(verdict),
                });
            }
        }
        let digest = proposal.digest();
        let session = Self {
            side: Side::Participant,
            me,
            proposal,
            status: Status::Open,
            acknowledged: Vec::new(),
            actions: Vec::new(),
            completion: None,
            seen: BTreeSet::from([message.digest()]),
            evidence: Vec::new(),
        };
        Ok((
            session,
            Step {
                events: vec![SessionEvent::ProposalReceived { proposal: digest }],
                ..Step::default()
            },
        ))
    }

    /// Handles a received message.
    pub fn handle(&mut self, bytes: &[u8], ctx: &Context<'_>) -> Result<Step, SessionError> {
        let message = decode_message(bytes)?;
        if self.seen.contains(&message.digest()) {
            return Ok(Step {
                duplicate: true,
                ..Step::default()
            });
        }
        let step = match (&message.payload().body, self.side) {
            (MessageBody::Evidence(_), _) => self.receive_evidence(&message, ctx)?,
            (_, Side::Initiator) => self.handle_as_initiator(message.clone(), ctx)?,
            (_, Side::Participant) => self.handle_as_participant(message.clone(), ctx)?,
        };
        // A duplicate changes nothing, not even the set of messages seen: otherwise every
        // repeated acknowledgement or relay of a known action would grow the session.
        if !step.duplicate {
            self.seen.insert(message.digest());
        }
        Ok(step)
    }

    fn handle_as_initiator(
        &mut self,
        message: Signed<SessionMessage>,
        ctx: &Context<'_>,
    ) -> Result<Step, SessionError> {
        self.check_envelope(&message, ctx)?;
        let m = message.payload();
        let from = m.from;
        let kind = m.body.kind();
        let not_allowed = SessionError::NotAllowed { party: from, kind };
        if from == self.me {
            return Err(not_allowed);
        }
        match (&self.status, &m.body) {
            (Status::Open, MessageBody::Acknowledge) => {
                // Another acknowledgement by a party that acknowledged already changes
                // nothing: a duplicate, so that repeating it costs the receiver nothing.
                if self.acknowledged.contains(&from) {
                    return Ok(Step {
                        duplicate: true,
                        ..Step::default()
                    });
                }
                self.acknowledged.push(from);
                Ok(Step {
                    events: vec![SessionEvent::Acknowledged { by: from }],
                    ..Step::default()
                })
            }
            (
                Status::Open,
                MessageBody::Sign(_) | MessageBody::Approve | MessageBody::Decline { .. },
            ) => {
                let mut step = self.accept_action(message.clone(), ctx)?;
                let others: Vec<PartyId> =
                    self.others().into_iter().filter(|p| *p != from).collect();
                if !others.is_empty() {
                    let relay = self.message(
                        MessageBody::Relay {
                            message: message.bytes().to_vec(),
                        },
                        ctx,
                    );
                    // Signing with our own node key cannot fail for a well-formed body; if it
                    // did, the participants would learn of the action at completion instead.
                    if let Ok(relay) = relay {
                        step.outbound.push(Outbound {
                            to: others,
                            message: relay,
                        });
                    }
                }
                if self.all_acted()
                    && self.status == Status::Open
                    && let Ok(completion) = self.complete(ctx)
                {
                    step.outbound.extend(completion.outbound);
                    step.events.extend(completion.events);
                }
                Ok(step)
            }
            (Status::Open, _) => Err(not_allowed),
            (status, _) => Err(SessionError::Ended(status.name())),
        }
    }

    fn handle_as_participant(
        &mut self,
        message: Signed<SessionMessage>,
        ctx: &Context<'_>,
    ) -> Result<Step, SessionError> {
        let m = message.payload();
        let p = self.proposal.payload();
        if m.session != p.session {
            return Err(SessionError::WrongSession {
                expected: p.session,
                found: m.session,
            });
        }
        let kind = m.body.kind();
        if m.from != p.initiator {
            return Err(SessionError::NotAllowed {
                party: m.from,
                kind,
            });
        }
        if let MessageBody::Propose { proposal } = &m.body {
            return self.revise_from(&message, proposal, ctx);
        }
        self.check_envelope(&message, ctx)?;
        match (&self.status, &m.body) {
            (Status::Open, MessageBody::Relay { message: inner }) => {
                let inner = decode_message(inner)?;
                if self.seen.contains(&inner.digest())
                    || self.actions.iter().any(|a| a.message == inner)
                {
                    return Ok(Step {
                        duplicate: true,
                        ..Step::default()
                    });
                }
                self.check_envelope(&inner, ctx)?;
                let step = self.accept_action(inner.clone(), ctx)?;
                self.seen.insert(inner.digest());
                Ok(step)
            }
            (Status::Open, MessageBody::Cancel { reason }) => {
                self.status = Status::Cancelled {
                    reason: reason.clone(),
                };
                Ok(Step {
                    events: vec![SessionEvent::Cancelled {
                        reason: reason.clone(),
                    }],
                    ..Step::default()
                })
            }
            (Status::Open, MessageBody::Remind { .. }) => Ok(Step {
                events: vec![SessionEvent::Reminded],
                ..Step::default()
            }),
            (Status::Open, MessageBody::Complete { actions }) => {
                self.verify_completion(&message, actions, ctx)
            }
            (Status::Open, _) => Err(SessionError::NotAllowed {
                party: m.from,
                kind,
            }),
            (status, _) => Err(SessionError::Ended(status.name())),
        }
    }

    /// Another party's evidence about this completed session.
    fn receive_evidence(
        &mut self,
        message: &Signed<SessionMessage>,
        ctx: &Context<'_>,
    ) -> Result<Step, SessionError> {
        let m = message.payload();
        let MessageBody::Evidence(evidence) = &m.body else {
            return Err(SessionError::NotAllowed {
                party: m.from,
                kind: m.body.kind(),
            });
        };
        if !matches!(self.status, Status::Completed { .. })
            || m.from == self.me
            || evidence.party != m.from
        {
            return Err(SessionError::NotAllowed {
                party: m.from,
                kind: MessageKind::Evidence,
            });
        }
        self.check_envelope(message, ctx)?;
        let log = ctx
            .store
            .key_log(&m.from)
            .ok_or(SessionError::UnknownKeyLog(m.from))?;
        let checked = evidence.verify(log).map_err(SessionError::Evidence)?;
        let session = self.proposal.payload().session.as_digest();
        if checked
            .events
            .iter()
            .any(|(_, e)| e.session != Some(session))
        {
            return Err(SessionError::EvidenceScope);
        }
        self.keep_evidence(evidence.clone(), checked.checkpoint.checkpoint().size());
        Ok(Step {
            events: vec![SessionEvent::EvidenceReceived { from: m.from }],
            ..Step::default()
        })
    }

    /// Keeps a party's evidence, replacing what it held only by evidence at a larger size.
    fn keep_evidence(&mut self, evidence: PartyEvidence, size: u64) {
        let held = self
            .evidence
            .iter()
            .position(|(e, _)| e.party == evidence.party);
        match held {
            Some(i) if self.evidence[i].1 <= size => self.evidence[i] = (evidence, size),
            Some(_) => {}
            None => self.evidence.push((evidence, size)),
        }
    }

    /// Shares this party's evidence about the completed session with every other party.
    /// `evidence` comes from this party's evidence log (see [`PartyEvidence::from_log`]).
    pub fn share_evidence(
        &mut self,
        evidence: PartyEvidence,
        ctx: &Context<'_>,
    ) -> Result<Step, ActionError> {
        if !matches!(self.status, Status::Completed { .. }) {
            return Err(ActionError::Ended(self.status.name()));
        }
        if evidence.party != self.me {
            return Err(ActionError::NotAllowed("share another party's evidence"));
        }
        let log = ctx.store.key_log(&self.me).ok_or(ActionError::NotAllowed(
            "share evidence without its own key log",
        ))?;
        let checked = evidence.verify(log).map_err(ActionError::Evidence)?;
        let size = checked.checkpoint.checkpoint().size();
        let message = self.message(MessageBody::Evidence(evidence.clone()), ctx)?;
        self.keep_evidence(evidence, size);
        self.seen.insert(message.digest());
        Ok(Step {
            outbound: vec![Outbound {
                to: self.others(),
                message,
            }],
            events: Vec::new(),
            duplicate: false,
        })
    }

    /// A participant receives a new revision of the proposal.
    fn revise_from(
        &mut self,
        message: &Signed<SessionMessage>,
        bytes: &[u8],
        ctx: &Context<'_>,
    ) -> Result<Step, SessionError> {
        if self.status != Status::Open {
            return Err(SessionError::Ended(self.status.name()));
        }
        let proposal = decode_proposal(bytes, ctx)?;
        let (old, new) = (self.proposal.payload(), proposal.payload());
        if message.payload().proposal != proposal.digest() {
            return Err(SessionError::WrongRevision);
        }
        if new.session != old.session
            || new.initiator != old.initiator
            || new.participant(&self.me).is_none()
        {
            return Err(SessionError::ProposalFrozen(
                "a revision must keep the session, initiator and this participant",
            ));
        }
        if new.revision <= old.revision {
            return Err(SessionError::ProposalFrozen(
                "revision is not newer than the one held",
            ));
        }
        if !self.actions.is_empty() {
            return Err(SessionError::ProposalFrozen("someone has already acted"));
        }
        let previous = std::mem::replace(&mut self.proposal, proposal);
        if let Err(e) = self.check_envelope(message, ctx) {
            self.proposal = previous;
            return Err(e);
        }
        self.acknowledged.clear();
        Ok(Step {
            events: vec![SessionEvent::ProposalReceived {
                proposal: self.proposal.digest(),
            }],
            ..Step::default()
        })
    }

    /// Checks what every message must satisfy: session, revision, sender, time and key.
    fn check_envelope(
        &self,
        message: &Signed<SessionMessage>,
        ctx: &Context<'_>,
    ) -> Result<(), SessionError> {
        check_envelope(&self.proposal, message, ctx.store, ctx.now)
    }

    /// Accepts a sign, approve or decline message from a participant (checked envelope).
    fn accept_action(
        &mut self,
        message: Signed<SessionMessage>,
        ctx: &Context<'_>,
    ) -> Result<Step, SessionError> {
        let m = message.payload();
        let from = m.from;
        let kind = m.body.kind();
        let not_allowed = SessionError::NotAllowed { party: from, kind };
        let participant = self
            .proposal
            .payload()
            .participant(&from)
            .ok_or(not_allowed.clone())?
            .clone();
        if let Some(held) = self.actions.iter().find(|a| a.party == from) {
            if held.message == message {
                return Ok(Step {
                    duplicate: true,
                    ..Step::default()
                });
            }
            return Err(SessionError::AlreadyActed(from));
        }
        match (&m.body, participant.role) {
            (MessageBody::Decline { reason }, Role::Signer | Role::Approver) => {
                self.status = Status::Declined {
                    by: from,
                    reason: reason.clone(),
                };
                Ok(Step {
                    events: vec![SessionEvent::Declined {
                        by: from,
                        reason: reason.clone(),
                    }],
                    ..Step::default()
                })
            }
            (MessageBody::Approve, Role::Approver) => {
                self.check_turn(&from)?;
                let digest = message.digest();
                self.actions.push(Action {
                    party: from,
                    message,
                    record: None,
                });
                Ok(Step {
                    events: vec![SessionEvent::Approved {
                        by: from,
                        message: digest,
                    }],
                    ..Step::default()
                })
            }
            (MessageBody::Sign(bytes), Role::Signer) => {
                self.check_turn(&from)?;
                let record = SignatureRecord::from_bytes(bytes)
                    .map_err(|error| SessionError::Record { party: from, error })?;
                let prior = self.prior_for(&from);
                let bases = self.pdf_bases_for(&from);
                let check = RecordCheck {
                    proposal: &self.proposal,
                    participant: &participant,
                    prior: &prior,
                    pdf_bases: bases.as_deref(),
                    store: ctx.store,
                    policy: ctx.policy,
                    viewer: Some(self.me),
                    judged: Judged::Live { now: ctx.now },
                };
                record
                    .verify(&check)
                    .map_err(|error| SessionError::Record { party: from, error })?;
                let digest = message.digest();
                let event = if from == self.me {
                    SessionEvent::SignatureMade {
                        intent: record.intent.digest(),
                        message: digest,
                    }
                } else {
                    SessionEvent::SignatureReceived {
                        by: from,
                        message: digest,
                    }
                };
                self.actions.push(Action {
                    party: from,
                    message,
                    record: Some(record),
                });
                Ok(Step {
                    events: vec![event],
                    ..Step::default()
                })
            }
            _ => Err(not_allowed),
        }
    }

    /// Routing: every actor of an earlier group must have acted.
    fn check_turn(&self, party: &PartyId) -> Result<(), SessionError> {
        let waiting_for = self.waiting_before(party);
        if waiting_for.is_empty() {
            Ok(())
        } else {
            Err(SessionError::RoutingOrder {
                party: *party,
                waiting_for,
            })
        }
    }

    /// The actors `party` waits for: every actor of an earlier routing group and, when the
    /// proposal seals PDFs and `party` is a signer, the signers before it in sealing order
    /// (spec §8.2.4), that have not acted.
    fn waiting_before(&self, party: &PartyId) -> Vec<PartyId> {
        let p = self.proposal.payload();
        let Some(order) = p.participant(party).map(|x| x.order) else {
            return Vec::new();
        };
        let sealing = p.sealing_order();
        let sealed_before: &[PartyId] = match sealing.iter().position(|s| s == party) {
            Some(i) => &sealing[..i],
            None => &[],
        };
        p.actors()
            .filter(|a| a.order < order || sealed_before.contains(&a.party))
            .filter(|a| !self.has_acted(&a.party))
            .map(|a| a.party)
            .collect()
    }

    /// The PDF revisions `party` must seal over (spec §8.4.2), from the records of the
    /// signers before it in sealing order; `None` while one of them has not signed.
    fn pdf_bases_for(&self, party: &PartyId) -> Option<PdfBases> {
        pdf_bases(self.proposal.payload(), party, |earlier| {
            self.actions
                .iter()
                .find(|a| a.party == *earlier)
                .and_then(|a| a.record.as_ref())
        })
    }

    /// The PDF revisions this party must seal over before it signs (spec §8.4.2): for each
    /// document the proposal has sealed, its index and the digest of the revision to seal
    /// (the document itself, or the previous signer's sealed revision). Empty when no
    /// document is sealed; an error while it is not this party's turn.
    pub fn pdf_bases(&self) -> Result<PdfBases, ActionError> {
        self.require_role(Role::Signer, "sign")?;
        let waiting = self.waiting_before(&self.me);
        if !waiting.is_empty() {
            return Err(ActionError::NotYourTurn(waiting));
        }
        self.pdf_bases_for(&self.me)
            .ok_or(ActionError::NotAllowed("sign before the previous sealer"))
    }

    /// Sorted digests of the actions of every group before `party`'s.
    fn prior_for(&self, party: &PartyId) -> Vec<Digest> {
        let p = self.proposal.payload();
        let order = p.participant(party).map(|x| x.order).unwrap_or(0);
        let mut prior: Vec<Digest> = self
            .actions
            .iter()
            .filter(|a| p.participant(&a.party).is_some_and(|x| x.order < order))
            .map(Action::digest)
            .collect();
        prior.sort();
        prior
    }

    fn has_acted(&self, party: &PartyId) -> bool {
        self.actions.iter().any(|a| a.party == *party)
    }

    fn all_acted(&self) -> bool {
        self.proposal
            .payload()
            .actors()
            .all(|a| self.has_acted(&a.party))
    }

    /// A participant checks a completion: every action, re-verified in routing order.
    fn verify_completion(
        &mut self,
        message: &Signed<SessionMessage>,
        actions: &[Vec<u8>],
        ctx: &Context<'_>,
    ) -> Result<Step, SessionError> {
        let mut scratch = Self {
            actions: Vec::new(),
            status: Status::Open,
            ..self.clone()
        };
        for bytes in actions {
            let action = decode_message(bytes)?;
            scratch.check_envelope_at(&action, ctx)?;
            if !matches!(
                action.payload().body,
                MessageBody::Sign(_) | MessageBody::Approve
            ) {
                return Err(SessionError::Completion(
                    "holds a message that is not a signature or approval",
                ));
            }
            // Each signature is judged as of the completion, when the initiator had accepted
            // all of them, not as of whenever the completion reaches this participant.
            let at_completion = Context {
                now: message.payload().time.min(ctx.now),
                ..*ctx
            };
            scratch.accept_action(action, &at_completion)?;
        }
        if !scratch.all_acted() {
            return Err(SessionError::Completion("lacks an action"));
        }
        let mut events: Vec<SessionEvent> = Vec::new();
        for action in &scratch.actions {
            if !self.has_acted(&action.party) {
                events.push(match action.record {
                    Some(_) => SessionEvent::SignatureReceived {
                        by: action.party,
                        message: action.digest(),
                    },
                    None => SessionEvent::Approved {
                        by: action.party,
                        message: action.digest(),
                    },
                });
            }
        }
        self.actions = scratch.actions;
        self.status = Status::Completed {
            at: message.payload().time,
        };
        self.completion = Some(message.clone());
        events.push(SessionEvent::Completed {
            message: message.digest(),
        });
        Ok(Step {
            events,
            ..Step::default()
        })
    }

    /// The envelope check for a message inside a completion: its own time must have been
    /// before the deadline, not ours now.
    fn check_envelope_at(
        &self,
        message: &Signed<SessionMessage>,
        ctx: &Context<'_>,
    ) -> Result<(), SessionError> {
        let at = Context {
            now: message
                .payload()
                .time
                .max(self.proposal.payload().created_at),
            ..*ctx
        };
        self.check_envelope(message, &at)
    }

    // ----- local actions -----

    /// The initiator completes the session once every actor has acted. Called automatically
    /// when the last action arrives; public so a node can retry after a failure.
    pub fn complete(&mut self, ctx: &Context<'_>) -> Result<Step, ActionError> {
        self.require(Side::Initiator, "complete")?;
        self.require_open()?;
        let waiting = self.waiting_for();
        if !waiting.is_empty() {
            return Err(ActionError::NotYourTurn(waiting));
        }
        let mut ordered: Vec<&Action> = self.actions.iter().collect();
        let p = self.proposal.payload();
        ordered.sort_by_key(|a| p.participant(&a.party).map(|x| x.order).unwrap_or(0));
        let actions = ordered.iter().map(|a| a.message.bytes().to_vec()).collect();
        let message = self.message(MessageBody::Complete { actions }, ctx)?;
        self.status = Status::Completed {
            at: message.payload().time,
        };
        self.completion = Some(message.clone());
        let digest = message.digest();
        Ok(Step {
            outbound: vec![Outbound {
                to: self.others(),
                message,
            }],
            events: vec![SessionEvent::Completed { message: digest }],
            duplicate: false,
        })
    }

    /// The initiator replaces the proposal with a new revision, while nobody has acted.
    pub fn revise(
        &mut self,
        mut proposal: Proposal,
        ctx: &Context<'_>,
    ) -> Result<Step, ActionError> {
        self.require(Side::Initiator, "revise the proposal")?;
        self.require_open()?;
        if !self.actions.is_empty() {
            return Err(ActionError::ProposalFrozen);
        }
        let old = self.proposal.payload();
        if proposal.session != old.session || proposal.initiator != old.initiator {
            return Err(ActionError::NotAllowed(
                "change the session or initiator of",
            ));
        }
        proposal.revision = old.revision + 1;
        proposal.check().map_err(ActionError::Proposal)?;
        self.proposal = Signed::sign(proposal, PROPOSAL_CONTENT_TYPE, ctx.node_key)?;
        self.acknowledged.clear();
        self.send_proposal(ctx)
    }

    /// The initiator cancels the session.
    pub fn cancel(&mut self, reason: &str, ctx: &Context<'_>) -> Result<Step, ActionError> {
        self.require(Side::Initiator, "cancel")?;
        self.require_open()?;
        let message = self.message(
            MessageBody::Cancel {
                reason: reason.to_string(),
            },
            ctx,
        )?;
        self.status = Status::Cancelled {
            reason: reason.to_string(),
        };
        Ok(Step {
            outbound: vec![Outbound {
                to: self.others(),
                message,
            }],
            events: vec![SessionEvent::Cancelled {
                reason: reason.to_string(),
            }],
            duplicate: false,
        })
    }

    /// The initiator reminds the participants who have not acted yet.
    pub fn remind(&mut self, note: &str, ctx: &Context<'_>) -> Result<Step, ActionError> {
        self.require(Side::Initiator, "remind")?;
        self.require_open()?;
        let mut waiting = self.waiting_for();
        waiting.retain(|p| *p != self.me);
        let message = self.message(
            MessageBody::Remind {
                note: note.to_string(),
            },
            ctx,
        )?;
        Ok(Step {
            outbound: vec![Outbound {
                to: waiting,
                message,
            }],
            events: vec![SessionEvent::Reminded],
            duplicate: false,
        })
    }

    /// A participant acknowledges the proposal.
    pub fn acknowledge(&mut self, ctx: &Context<'_>) -> Result<Step, ActionError> {
        self.require(Side::Participant, "acknowledge")?;
        self.require_open()?;
        let message = self.message(MessageBody::Acknowledge, ctx)?;
        Ok(Step {
            outbound: vec![Outbound {
                to: vec![self.proposal.payload().initiator],
                message,
            }],
            events: vec![SessionEvent::Acknowledged { by: self.me }],
            duplicate: false,
        })
    }

    /// The challenge this party's delegate must sign to express intent (意愿认证).
    pub fn intent_challenge(
        &self,
        seal: LogKey,
        method: IntentMethod,
        now: Timestamp,
    ) -> Result<IntentChallenge, ActionError> {
        self.require_role(Role::Signer, "sign")?;
        self.require_open()?;
        if self.has_acted(&self.me) {
            return Err(ActionError::AlreadyActed);
        }
        let waiting = self.waiting_before(&self.me);
        if !waiting.is_empty() {
            return Err(ActionError::NotYourTurn(waiting));
        }
        let p = self.proposal.payload();
        if p.requires_national() && !matches!(seal, LogKey::Sm2(_)) {
            return Err(ActionError::SealAlgorithm(Algorithms::National));
        }
        Ok(IntentChallenge {
            session: p.session,
            proposal: self.proposal.digest(),
            documents: p.document_digests(),
            signer: self.me,
            seal,
            method,
            time: now,
        })
    }

    /// Signs as this party: the delegate's signed intent proof, the mandate that covers it
    /// and the seal key produce a signature record, checked as any receiver will check it.
    ///
    /// The initiator and every other actor must be trusted under this party's policy now;
    /// the attestations that establish them are recorded in the signature (`relied`).
    ///
    /// `pdf` names the PDF revisions the signer sealed, one per document the proposal has
    /// sealed, over the bases [`Session::pdf_bases`] gives (empty when none is).
    pub fn sign<S>(
        &mut self,
        intent: IntentProof,
        delegation: SignedAttestation,
        seal_key: &S,
        pdf: Vec<PdfRevision>,
        ctx: &Context<'_>,
    ) -> Result<Step, ActionError>
    where
        S: CoseSigner,
        S::Public: Into<LogKey>,
    {
        let expected = self.intent_challenge(
            seal_key.public().0.into(),
            intent.challenge().method,
            intent.challenge().time,
        )?;
        if *intent.challenge() != expected {
            return Err(ActionError::IntentMismatch);
        }
        let relied = self.relied_on(ctx)?;
        let p = self.proposal.payload();
        let seal_signature = SealSignature {
            session: p.session,
            proposal: self.proposal.digest(),
            documents: p.document_digests(),
            signer: self.me,
            time: ctx.now,
            intent: intent.digest(),
            delegation: delegation.digest(),
            relied,
            prior: self.prior_for(&self.me),
            pdf,
        };
        let record = SignatureRecord {
            seal_signature: Signed::sign(seal_signature, SEAL_SIGNATURE_CONTENT_TYPE, seal_key)?
                .into_log_key(),
            intent,
            delegation,
        };
        let participant = p
            .participant(&self.me)
            .cloned()
            .ok_or(ActionError::NotAllowed("sign"))?;
        let prior = self.prior_for(&self.me);
        let bases = self.pdf_bases_for(&self.me);
        record
            .verify(&RecordCheck {
                proposal: &self.proposal,
                participant: &participant,
                prior: &prior,
                pdf_bases: bases.as_deref(),
                store: ctx.store,
                policy: ctx.policy,
                viewer: Some(self.me),
                judged: Judged::Live { now: ctx.now },
            })
            .map_err(ActionError::Record)?;
        self.act(MessageBody::Sign(record.to_bytes()), Some(record), ctx)
    }

    /// Digests of the attestations that establish every counterparty that acts (and the
    /// initiator) under this party's policy now; refuses if one is not trusted.
    fn relied_on(&self, ctx: &Context<'_>) -> Result<Vec<Digest>, ActionError> {
        let p = self.proposal.payload();
        let mut relied = Vec::new();
        let counterparties = std::iter::once(p.initiator)
            .chain(p.actors().map(|a| a.party))
            .filter(|party| *party != self.me);
        for party in counterparties {
            match evaluate(ctx.policy, ctx.store, &party, ctx.now) {
                Verdict::Trusted { path, .. } => {
                    let links = match path {
                        TrustPath::Anchor => Vec::new(),
                        TrustPath::Chain(links) | TrustPath::Endorsements(links) => links,
                        TrustPath::Certificate(evidence) => vec![evidence.link],
                    };
                    for link in links {
                        relied.extend(
                            ctx.store
                                .attestation(&link.issuer, &link.attestation)
                                .map(Signed::digest),
                        );
                    }
                }
                verdict => {
                    return Err(ActionError::Untrusted {
                        party,
                        verdict: Box::new(verdict),
                    });
                }
            }
        }
        relied.sort();
        relied.dedup();
        Ok(relied)
    }

    /// Approves as this party.
    pub fn approve(&mut self, ctx: &Context<'_>) -> Result<Step, ActionError> {
        self.require_role(Role::Approver, "approve")?;
        self.require_open()?;
        if self.has_acted(&self.me) {
            return Err(ActionError::AlreadyActed);
        }
        let waiting = self.waiting_before(&self.me);
        if !waiting.is_empty() {
            return Err(ActionError::NotYourTurn(waiting));
        }
        self.act(MessageBody::Approve, None, ctx)
    }

    /// Declines as this party, ending the session.
    pub fn decline(&mut self, reason: &str, ctx: &Context<'_>) -> Result<Step, ActionError> {
        let role = self
            .proposal
            .payload()
            .participant(&self.me)
            .map(|p| p.role);
        if !matches!(role, Some(Role::Signer | Role::Approver)) {
            return Err(ActionError::NotAllowed("decline"));
        }
        self.require_open()?;
        if self.has_acted(&self.me) {
            return Err(ActionError::AlreadyActed);
        }
        let message = self.message(
            MessageBody::Decline {
                reason: reason.to_string(),
            },
            ctx,
        )?;
        self.status = Status::Declined {
            by: self.me,
            reason: reason.to_string(),
        };
        self.seen.insert(message.digest());
        // A participant tells the initiator, which relays it; an initiator that is itself an
        // actor relays its own decline, since participants take actions only from relays.
        let outbound = match self.side {
            Side::Participant => Outbound {
                to: vec![self.proposal.payload().initiator],
                message,
            },
            Side::Initiator => Outbound {
                to: self.others(),
                message: self.message(
                    MessageBody::Relay {
                        message: message.bytes().to_vec(),
                    },
                    ctx,
                )?,
            },
        };
        Ok(Step {
            outbound: vec![outbound],
            events: vec![SessionEvent::Declined {
                by: self.me,
                reason: reason.to_string(),
            }],
            duplicate: false,
        })
    }

    fn act(
        &mut self,
        body: MessageBody,
        record: Option<SignatureRecord>,
        ctx: &Context<'_>,
    ) -> Result<Step, ActionError> {
        let message = self.message(body, ctx)?;
        let digest = message.digest();
        let event = match &record {
            Some(r) => SessionEvent::SignatureMade {
                intent: r.intent.digest(),
                message: digest,
            },
            None => SessionEvent::Approved {
                by: self.me,
                message: digest,
            },
        };
        self.seen.insert(digest);
        self.actions.push(Action {
            party: self.me,
            message: message.clone(),
            record,
        });
        let mut step = Step {
            outbound: Vec::new(),
            events: vec![event],
            duplicate: false,
        };
        match self.side {
            Side::Participant => step.outbound.push(Outbound {
                to: vec![self.proposal.payload().initiator],
                message,
            }),
            Side::Initiator => {
                let relay = self.message(
                    MessageBody::Relay {
                        message: message.bytes().to_vec(),
                    },
                    ctx,
                )?;
                step.outbound.push(Outbound {
                    to: self.others(),
                    message: relay,
                });
                if self.all_acted() {
                    let completion = self.complete(ctx)?;
                    step.outbound.extend(completion.outbound);
                    step.events.extend(completion.events);
                }
            }
        }
        Ok(step)
    }

    /// Expires the session if its deadline has passed.
    pub fn tick(&mut self, now: Timestamp) -> Step {
        let deadline = self.proposal.payload().deadline;
        if self.status == Status::Open && now >= deadline {
            self.status = Status::Expired { at: deadline };
            return Step {
                events: vec![SessionEvent::Expired],
                ..Step::default()
            };
        }
        Step::default()
    }

    fn message(
        &self,
        body: MessageBody,
        ctx: &Context<'_>,
    ) -> Result<Signed<SessionMessage>, ActionError> {
        let m = SessionMessage {
            session: self.proposal.payload().session,
            proposal: self.proposal.digest(),
            from: self.me,
            time: ctx.now,
            body,
        };
        Ok(Signed::sign(m, SESSION_MESSAGE_CONTENT_TYPE, ctx.node_key)?)
    }

    fn require(&self, side: Side, what: &'static str) -> Result<(), ActionError> {
        if self.side == side {
            Ok(())
        } else {
            Err(ActionError::NotAllowed(what))
        }
    }

    fn require_role(&self, role: Role, what: &'static str) -> Result<(), ActionError> {
        match self.proposal.payload().participant(&self.me) {
            Some(p) if p.role == role => Ok(()),
            _ => Err(ActionError::NotAllowed(what)),
        }
    }

    fn require_open(&self) -> Result<(), ActionError> {
        if self.status == Status::Open {
            Ok(())
        } else {
            Err(ActionError::Ended(self.status.name()))
        }
    }

    /// Every other party in the session.
    fn others(&self) -> Vec<PartyId> {
        self.proposal
            .payload()
            .parties()
            .into_iter()
            .filter(|p| *p != self.me)
            .collect()
    }

    // ----- accessors -----

    /// This party.
    pub fn me(&self) -> PartyId {
        self.me
    }

    /// Which side this party is on.
    pub fn side(&self) -> Side {
        self.side
    }

    /// The signed proposal (current revision).
    pub fn proposal(&self) -> &Signed<Proposal> {
        &self.proposal
    }

    /// Where the session stands.
    pub fn status(&self) -> &Status {
        &self.status
    }

    /// Accepted actions, in the order accepted.
    pub fn actions(&self) -> &[Action] {
        &self.actions
    }

    /// Participants who acknowledged (initiator's view).
    pub fn acknowledged(&self) -> &[PartyId] {
        &self.acknowledged
    }

    /// Every party's evidence held (received, or shared by this party).
    pub fn evidence(&self) -> impl Iterator<Item = &PartyEvidence> {
        self.evidence.iter().map(|(e, _)| e)
    }

    /// The completion message, once complete.
    pub fn completion(&self) -> Option<&Signed<SessionMessage>> {
        self.completion.as_ref()
    }

    /// Actors who have not acted yet.
    pub fn waiting_for(&self) -> Vec<PartyId> {
        self.proposal
            .payload()
            .actors()
            .filter(|a| !self.has_acted(&a.party))
            .map(|a| a.party)
            .collect()
    }
}

pub(crate) fn decode_message(bytes: &[u8]) -> Result<Signed<SessionMessage>, SessionError> {
    Signed::decode(bytes, SESSION_MESSAGE_CONTENT_TYPE, &Limits::DEFAULT)
        .map_err(SessionError::Message)
}

/// Decodes a signed proposal and checks its content and its signer's node key.
pub(crate) fn decode_proposal(
    bytes: &[u8],
    ctx: &Context<'_>,
) -> Result<Signed<Proposal>, SessionError> {
    decode_proposal_with(bytes, ctx.store)
}

/// [`decode_proposal`] with only a store.
pub(crate) fn decode_proposal_with(
    bytes: &[u8],
    store: &TrustStore,
) -> Result<Signed<Proposal>, SessionError> {
    let proposal: Signed<Proposal> = Signed::decode(bytes, PROPOSAL_CONTENT_TYPE, &Limits::DEFAULT)
        .map_err(SessionError::ProposalObject)?;
    let p = proposal.payload();
    p.check().map_err(SessionError::Proposal)?;
    let log = store
        .key_log(&p.initiator)
        .ok_or(SessionError::UnknownKeyLog(p.initiator))?;
    log.check_key(proposal.signer(), KeyPurpose::Node, p.created_at)
        .map_err(SessionError::SenderKey)?;
    Ok(proposal)
}

/// Checks what every session message must satisfy (spec §8.3.1): it is about this session
/// and revision, from a party of the session, dated after the proposal and not after `now`
/// (plus [`MAX_CLOCK_SKEW`]), received before the deadline, and signed by a node key of its
/// sender at its time.
pub(crate) fn check_envelope(
    proposal: &Signed<Proposal>,
    message: &Signed<SessionMessage>,
    store: &TrustStore,
    now: Timestamp,
) -> Result<(), SessionError> {
    // Evidence is shared after completion, possibly after the deadline.
    let deadline_applies = !matches!(message.payload().body, MessageBody::Evidence(_));
    let m = message.payload();
    let p = proposal.payload();
    if m.session != p.session {
        return Err(SessionError::WrongSession {
            expected: p.session,
            found: m.session,
        });
    }
    if m.proposal != proposal.digest() {
        return Err(SessionError::WrongRevision);
    }
    if m.from != p.initiator && p.participant(&m.from).is_none() {
        return Err(SessionError::NotAllowed {
            party: m.from,
            kind: m.body.kind(),
        });
    }
    if m.time < p.created_at || m.time > now.plus(MAX_CLOCK_SKEW) {
        return Err(SessionError::Time(m.time));
    }
    if deadline_applies && now >= p.deadline {
        return Err(SessionError::Expired(p.deadline));
    }
    let log = store
        .key_log(&m.from)
        .ok_or(SessionError::UnknownKeyLog(m.from))?;
    log.check_key(message.signer(), KeyPurpose::Node, m.time)
        .map_err(SessionError::SenderKey)?;
    Ok(())
}
