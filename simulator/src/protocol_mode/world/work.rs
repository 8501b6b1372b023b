//! A node's own protocol work for one event: proposing, handling a session message, signing,
//! checking an introduction, adding its witness's cosignature and sharing the evidence it
//! covers, checking another party's evidence, and recording a session step's events in the
//! node's evidence log (and where they went, for the session's evidence).
//! It reads and changes nothing but that node (its keys, trust store, policy, sessions and
//! evidence log) and the event's input, so the same work gives the same result
//! on any thread; the run applies each result in the order of its events (`batch.rs`).

use std::time::Instant;

use signet_protocol::error::ErrorCode;
use signet_protocol::evidence::PartyEvidence;
use signet_protocol::transport::witness::WitnessMessage;

use super::*;

/// An event's work, staged: the node taken out of the run, what it works on, and the result
/// once done.
pub(super) struct Staged {
    /// The node doing the work.
    pub(super) me: u32,
    firm: Option<Box<Firm>>,
    /// When the event was due.
    pub(super) due: Micros,
    /// When the node's CPU is done with it (its time stamp).
    pub(super) at: Micros,
    pub(super) work: Work,
    pub(super) outcome: Option<Outcome>,
    /// Evidence events of the step that the node's evidence log refused.
    pub(super) refused_evidence: u64,
    /// Wall-clock microseconds the work took (for `protocol-timing.json` only).
    pub(super) spent_us: f64,
}

/// What a node works on, with what the run needs to apply the result.
pub(super) enum Work {
    /// The buyer proposes a contract's session.
    Propose {
        edge: u32,
        arrived: Micros,
        tier: usize,
        sid: SessionId,
        proposal: Option<Box<Proposal>>,
    },
    /// A session message arrives: a new proposal (`known` false) or a step of a session the
    /// node holds.
    Message {
        sid: SessionId,
        tier: u32,
        known: bool,
        bytes: Vec<u8>,
    },
    /// The supplier's delegate signs.
    Sign { sid: SessionId, tier: u32 },
    /// A counterparty's introduction arrives: replay its key log, check its attestations,
    /// evaluate it under the node's policy.
    Introduction {
        from: u32,
        edge: u32,
        subject: PartyId,
        events: Vec<Vec<u8>>,
        attestations: Vec<Vec<u8>>,
    },
    /// The node's witness answers its cosign request: add the cosignature to the pending
    /// checkpoint and share the evidence of every completed session it covers.
    Answer { witness: PartyId, bytes: Vec<u8> },
    /// Another party's evidence about a completed session arrives.
    Evidence { sid: SessionId, bytes: Vec<u8> },
}

/// The result of a node's work.
pub(super) enum Outcome {
    /// A session step, or the protocol error's variant name.
    Step(Result<Step, String>),
    /// Whether the key log replayed, and the trust verdict.
    Introduction { replayed: bool, verdict: Verdict },
    /// What the witness's answer led to.
    Answer(Answer),
}

/// What a node did with its witness's answer (spec §10.5.4, requester's steps 4–6).
pub(super) enum Answer {
    /// Cosigned: the cosignature verified and was added; the evidence of each completed
    /// session the checkpoint covers was shared (or the reason it could not be).
    Cosigned {
        shared: Vec<Shared>,
        /// Wall-clock microseconds the sharing took (for `protocol-timing.json` only).
        share_us: f64,
    },
    /// Refused with `bad-proof` and another size than the node believed: the request
    /// again, with the proof from that size.
    AskAgain(Vec<u8>),
    /// Refused otherwise (the wire error code's name), or refused again.
    Refused(String),
    /// Not an answer to the pending request (none pending, another checkpoint, not
    /// decodable): ignored.
    Ignored(&'static str),
}

/// One session's evidence shared under a cosigned checkpoint.
pub(super) struct Shared {
    pub(super) sid: SessionId,
    /// The `evidence` message to the other parties, or why it could not be made.
    pub(super) result: Result<Step, String>,
}

impl Work {
    /// The session the work is part of.
    fn session(&self) -> Option<SessionId> {
        match self {
            Self::Propose { sid, .. }
            | Self::Message { sid, .. }
            | Self::Sign { sid, .. }
            | Self::Evidence { sid, .. } => Some(*sid),
            Self::Introduction { .. } | Self::Answer { .. } => None,
        }
    }
}

impl Staged {
    /// Takes node `me` out of `firms` for the work; [`Staged::give_back`] returns it.
    #[expect(
        clippy::expect_used,
        reason = "invariant: events name only firms whose node was installed, and a batch \
                  stages at most one event per node"
    )]
    pub(super) fn new(
        firms: &mut [Option<Box<Firm>>],
        me: u32,
        due: Micros,
        at: Micros,
        work: Work,
    ) -> Self {
        let firm = firms[me as usize]
            .take()
            .expect("an onboarded firm, not staged twice");
        Self {
            me,
            firm: Some(firm),
            due,
            at,
            work,
            outcome: None,
            refused_evidence: 0,
            spent_us: 0.0,
        }
    }

    /// Puts the node back into `firms`.
    pub(super) fn give_back(&mut self, firms: &mut [Option<Box<Firm>>]) {
        if let Some(firm) = self.firm.take() {
            firms[self.me as usize] = Some(firm);
        }
    }

    /// The timing key of the work.
    pub(super) fn kind(&self) -> &'static str {
        match &self.work {
            Work::Propose { .. } => "propose",
            Work::Message { known: true, .. } => "handle",
            Work::Message { known: false, .. } => "receive",
            Work::Sign { .. } => "sign",
            Work::Introduction { .. } => "introduction",
            Work::Answer { .. } => "witness_answer",
            Work::Evidence { .. } => "receive_evidence",
        }
    }

    /// Does the work.
    pub(super) fn run(&mut self) {
        let Some(firm) = self.firm.as_deref_mut() else {
            return;
        };
        let began = Instant::now();
        let now = ts(self.at);
        let outcome = match &mut self.work {
            Work::Propose { sid, proposal, .. } => {
                Outcome::Step(propose(firm, *sid, proposal.take(), now))
            }
            Work::Message { sid, bytes, .. } => Outcome::Step(message(firm, *sid, bytes, now)),
            Work::Sign { sid, .. } => Outcome::Step(sign(firm, *sid, now)),
            Work::Introduction {
                subject,
                events,
                attestations,
                ..
            } => introduction(firm, subject, events, attestations, now),
            Work::Answer { witness, bytes } => Outcome::Answer(answer(firm, witness, bytes, now)),
            Work::Evidence { sid, bytes } => Outcome::Step(evidence(firm, *sid, bytes, now)),
        };
        self.spent_us = began.elapsed().as_secs_f64() * 1e6;
        // Every session event of the step goes into the node's own evidence log; the
        // session's evidence will prove these entries.
        if let (Outcome::Step(Ok(step)), Some(sid)) = (&outcome, self.work.session()) {
            for ev in &step.events {
                for evidence in ev.evidence(sid, now) {
                    match firm.log.append(&evidence) {
                        Ok(index) => firm.entries.entry(sid).or_default().push(index),
                        Err(_) => self.refused_evidence += 1,
                    }
                }
            }
        }
        self.outcome = Some(outcome);
    }
}

fn propose(
    firm: &mut Firm,
    sid: SessionId,
    proposal: Option<Box<Proposal>>,
    now: Timestamp,
) -> Result<Step, String> {
    let proposal = *proposal.ok_or_else(|| "NoProposal".to_string())?;
    let ctx = Context {
        store: &firm.store,
        policy: &firm.policy,
        now,
        node_key: &firm.party.node,
    };
    let (session, step) = Session::propose(proposal, &ctx).map_err(|e| variant(&e))?;
    firm.sessions.insert(sid, session);
    Ok(step)
}

fn message(firm: &mut Firm, sid: SessionId, bytes: &[u8], now: Timestamp) -> Result<Step, String> {
    let ctx = Context {
        store: &firm.store,
        policy: &firm.policy,
        now,
        node_key: &firm.party.node,
    };
    match firm.sessions.get_mut(&sid) {
        Some(s) => s.handle(bytes, &ctx).map_err(|e| variant(&e)),
        None => {
            let (session, step) =
                Session::receive(bytes, firm.party.id(), &ctx).map_err(|e| variant(&e))?;
            firm.sessions.insert(sid, session);
            Ok(step)
        }
    }
}

fn sign(firm: &mut Firm, sid: SessionId, now: Timestamp) -> Result<Step, String> {
    let ctx = Context {
        store: &firm.store,
        policy: &firm.policy,
        now,
        node_key: &firm.party.node,
    };
    let Some(session) = firm.sessions.get_mut(&sid) else {
        return Err("NoSession".into());
    };
    let party = &firm.party;
    let result = (|| {
        let challenge = session.intent_challenge(
            party.contract_seal.public_key().into(),
            IntentMethod::SoftwareKey,
            now,
        )?;
        let intent = IntentProof::Signed(
            Signed::sign(challenge, INTENT_CONTENT_TYPE, &party.delegate)?.into_key(),
        );
        // The protocol never sees PDF bytes; a sealed revision is named by its digest.
        let pdf = session
            .pdf_bases()?
            .into_iter()
            .map(|(document, base)| PdfRevision {
                document,
                base,
                sealed: Digest::of_parts(&[base.as_bytes(), party.id().digest().as_bytes()]),
                size: DOCUMENT_BYTES as u64,
            })
            .collect();
        session.sign(
            intent,
            firm.mandate.clone(),
            &party.contract_seal,
            pdf,
            &ctx,
        )
    })();
    result.map_err(|e| variant(&e))
}

fn introduction(
    firm: &mut Firm,
    subject: &PartyId,
    events: &[Vec<u8>],
    attestations: &[Vec<u8>],
    now: Timestamp,
) -> Outcome {
    let replayed = match KeyLog::replay(events) {
        Ok(log) => {
            firm.store.add_key_log(log);
            true
        }
        Err(_) => false,
    };
    for bytes in attestations {
        if let Ok(a) = Attestation::decode(bytes) {
            firm.store.add_attestation(a);
        }
    }
    let verdict = evaluate(&firm.policy, &firm.store, subject, now);
    Outcome::Introduction { replayed, verdict }
}

/// The requester's side of the witness protocol (spec §10.5.4 steps 4–6), then sharing.
fn answer(firm: &mut Firm, witness: &PartyId, bytes: &[u8], now: Timestamp) -> Answer {
    let Some(pending) = firm.pending.as_mut() else {
        return Answer::Ignored("no request pending");
    };
    let Ok(message) = WitnessMessage::decode(bytes) else {
        return Answer::Ignored("undecodable");
    };
    match message {
        WitnessMessage::Cosigned(cosigned) => {
            let keys = firm
                .store
                .key_log(witness)
                .map(log_keys)
                .unwrap_or_default();
            let Ok(checkpoint) =
                cosigned.add_to(&pending.checkpoint, &witness_name(witness), &keys)
            else {
                // For an earlier checkpoint, or a line that does not verify: not this one.
                return Answer::Ignored("not a cosignature of the pending checkpoint");
            };
            firm.pending = None;
            firm.witnessed_size = checkpoint.checkpoint().size();
            let began = Instant::now();
            let shared = share(firm, &checkpoint, now);
            Answer::Cosigned {
                shared,
                share_us: began.elapsed().as_secs_f64() * 1e6,
            }
        }
        WitnessMessage::Refused(refused)
            if refused.code == ErrorCode::BadProof
                && !pending.asked_again
                && refused.last_size.is_some_and(|s| s != firm.witnessed_size) =>
        {
            let size = pending.checkpoint.checkpoint().size();
            let old = refused.last_size.unwrap_or_default();
            let Ok(proof) = firm.log.consistency_proof(old, size) else {
                firm.pending = None;
                return Answer::Refused("BadProof".into());
            };
            let request = WitnessMessage::CosignRequest(
                signet_protocol::transport::witness::CosignRequest::new(&pending.checkpoint, proof),
            );
            let Ok(bytes) = request.encode() else {
                firm.pending = None;
                return Answer::Refused("BadProof".into());
            };
            pending.asked_again = true;
            firm.witnessed_size = old;
            Answer::AskAgain(bytes)
        }
        WitnessMessage::Refused(refused) => {
            firm.pending = None;
            Answer::Refused(variant(&refused.code))
        }
        WitnessMessage::CosignRequest(_) => Answer::Ignored("a request, not an answer"),
    }
}

/// Shares the evidence of every completed session `checkpoint` covers (spec §8.10): its
/// entries with inclusion proofs against the cosigned checkpoint.
fn share(firm: &mut Firm, checkpoint: &SignedCheckpoint, now: Timestamp) -> Vec<Shared> {
    let size = checkpoint.checkpoint().size();
    let (ready, waiting): (Vec<Unshared>, Vec<Unshared>) = std::mem::take(&mut firm.unshared)
        .into_iter()
        .partition(|u| u.end <= size);
    firm.unshared = waiting;
    let me = firm.party.id();
    let ctx = Context {
        store: &firm.store,
        policy: &firm.policy,
        now,
        node_key: &firm.party.node,
    };
    ready
        .into_iter()
        .map(|u| {
            let indices = firm.entries.get(&u.sid).map_or(&[][..], Vec::as_slice);
            let result = match firm.sessions.get_mut(&u.sid) {
                None => Err("NoSession".to_string()),
                Some(session) => PartyEvidence::from_log(me, &firm.log, indices, checkpoint)
                    .map_err(|e| variant(&e))
                    .and_then(|evidence| {
                        session
                            .share_evidence(evidence, &ctx)
                            .map_err(|e| variant(&e))
                    }),
            };
            Shared { sid: u.sid, result }
        })
        .collect()
}

/// Another party's evidence about a completed session the node holds.
fn evidence(firm: &mut Firm, sid: SessionId, bytes: &[u8], now: Timestamp) -> Result<Step, String> {
    let ctx = Context {
        store: &firm.store,
        policy: &firm.policy,
        now,
        node_key: &firm.party.node,
    };
    let session = firm
        .sessions
        .get_mut(&sid)
        .ok_or_else(|| "NoSession".to_string())?;
    session.handle(bytes, &ctx).map_err(|e| variant(&e))
}
