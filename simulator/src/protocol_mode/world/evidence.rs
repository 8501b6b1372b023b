//! Evidence after a session completes (MODEL.md §9.1 steps 4–5): a firm checkpoints its
//! evidence log and asks its witness to cosign it over the witness protocol (spec §10.5.4);
//! when the cosignature comes back, the firm shares the evidence of every completed session
//! the checkpoint covers with the other party (spec §8.10), whose session checks it. A party
//! whose session holds every party's evidence lets the session go, after assembling and
//! verifying its bundle if the contract is sampled. What is left when the run ends is counted
//! there, and sampled bundles lacking evidence are verified then, with the reason recorded.

use signet_protocol::bundle::{assemble, verify_bundle};
use signet_protocol::transport::witness::{CosignRequest, WitnessMessage, answer};

use super::work::{Answer, Shared, Staged, Work};
use super::*;

/// Buyer (0) or supplier (1): a party's place in a track's per-party arrays.
const ROLES: [&str; 2] = ["buyer", "supplier"];

impl World<'_> {
    /// Firm `me` checkpoints its evidence log and asks its witness to cosign it, with a
    /// consistency proof from the size the witness last cosigned.
    pub(super) fn checkpoint(&mut self, me: u32) -> Result<(), QueueFull> {
        let at = self.reserve(me as usize, self.params.cpu_us.attest);
        let node = self.witness_node(self.witness_of(me));
        let firm = self.firm_mut(me);
        firm.checkpoint_due = false;
        let size = firm.log.len();
        if size == firm.witnessed_size {
            return Ok(());
        }
        let checkpoint = firm.log.checkpoint(&firm.party.id(), &firm.party.log_key);
        let Ok(proof) = firm.log.consistency_proof(firm.witnessed_size, size) else {
            self.m.fail("evidence log: no consistency proof");
            return Ok(());
        };
        let request = WitnessMessage::CosignRequest(CosignRequest::new(&checkpoint, proof));
        let Ok(bytes) = request.encode() else {
            self.m.fail("evidence log: cosign request not encodable");
            return Ok(());
        };
        // A request still unanswered is superseded: its answer, if it comes, is ignored.
        firm.pending = Some(PendingCheckpoint {
            checkpoint,
            asked_again: false,
        });
        self.m.checkpoints += 1;
        let msg = Msg::CosignRequest { firm: me, bytes };
        self.send(me as usize, node, msg, at, Traffic::Checkpoint)?;
        Ok(())
    }

    /// The witness at node `to` answers firm `firm`'s cosign request from the log keys it
    /// holds for the firm.
    pub(super) fn cosign_request(
        &mut self,
        to: usize,
        firm: u32,
        bytes: &[u8],
    ) -> Result<(), QueueFull> {
        let at = self.reserve(to, self.params.cpu_us.cosign);
        let requester = self.party_id(firm);
        let k = to - self.net.len() - self.verifiers.len();
        let w = &mut self.witnesses[k];
        w.bytes_in += bytes.len() as u64;
        let Ok(WitnessMessage::CosignRequest(request)) = WitnessMessage::decode(bytes) else {
            w.refused += 1;
            return Ok(());
        };
        let keys = w.log_keys.get(&requester).map_or(&[][..], Vec::as_slice);
        let began = Instant::now();
        let reply = answer(&mut w.state, &requester, keys, &request, ts(at));
        self.timing.add("cosign", began);
        match reply {
            WitnessMessage::Cosigned(_) => w.cosigned += 1,
            _ => w.refused += 1,
        }
        let Ok(bytes) = reply.encode() else {
            return Ok(());
        };
        let msg = Msg::WitnessAnswer { bytes };
        self.send(to, firm as usize, msg, at, Traffic::Checkpoint)?;
        Ok(())
    }

    /// Stages firm `me`'s handling of its witness's answer (its own work: `work.rs`).
    pub(super) fn stage_answer(&mut self, me: u32, bytes: Vec<u8>) -> Staged {
        let due = self.sched.now();
        let at = self.reserve(me as usize, self.params.cpu_us.witness_answer);
        let witness = self.witnesses[self.witness_of(me)].party.id();
        Staged::new(
            &mut self.firms,
            me,
            due,
            at,
            Work::Answer { witness, bytes },
        )
    }

    /// Applies what firm `me` did with its witness's answer.
    pub(super) fn answered(
        &mut self,
        me: u32,
        at: Micros,
        answer: Answer,
    ) -> Result<(), QueueFull> {
        match answer {
            Answer::Cosigned { shared, share_us } => {
                self.m.evidence.cosigned_checkpoints += 1;
                self.timing
                    .add_n("share_evidence", shared.len() as u64, share_us);
                if shared.is_empty() {
                    return Ok(());
                }
                // Proving and sharing each session's entries takes the node's CPU after the
                // answer's check.
                let cost = self.params.cpu_us.share_evidence * shared.len() as u64;
                let done = self.reserve(me as usize, cost);
                for Shared { sid, result } in shared {
                    self.shared(me, done, sid, result)?;
                }
            }
            Answer::AskAgain(bytes) => {
                let node = self.witness_node(self.witness_of(me));
                let msg = Msg::CosignRequest { firm: me, bytes };
                self.send(me as usize, node, msg, at, Traffic::Checkpoint)?;
            }
            Answer::Refused(code) => self.m.fail(&format!("witness refused: {code}")),
            Answer::Ignored(why) => self.m.fail(&format!("witness answer ignored: {why}")),
        }
        Ok(())
    }

    /// Sends one session's `evidence` message, made under a cosigned checkpoint.
    fn shared(
        &mut self,
        me: u32,
        at: Micros,
        sid: SessionId,
        result: Result<Step, String>,
    ) -> Result<(), QueueFull> {
        let Some(track) = self.tracks.get(&sid) else {
            return Ok(());
        };
        let e = self.net.edges()[track.edge as usize];
        let tier = self.tier(e.buyer) as u32;
        let side = usize::from(me != e.buyer);
        let step = match result {
            Ok(step) => step,
            Err(reason) => {
                self.m.fail(&format!("share evidence: {reason}"));
                return Ok(());
            }
        };
        let mut fate = EvidenceFate::Sent;
        for out in step.outbound {
            for to in out.to {
                let Some(&node) = self.party_index.get(&to) else {
                    self.m.fail("evidence to an unknown party");
                    continue;
                };
                let msg = Msg::Evidence {
                    session: sid,
                    bytes: out.message.bytes().to_vec(),
                };
                self.m.evidence.shared += 1;
                if !self.send(me as usize, node, msg, at, Traffic::Session(tier))? {
                    fate = EvidenceFate::Lost;
                }
            }
        }
        if let Some(track) = self.tracks.get_mut(&sid) {
            track.evidence[side] = fate;
        }
        self.settle(me, sid, at);
        Ok(())
    }

    /// Stages firm `me`'s check of another party's evidence (its own work: `work.rs`); None
    /// if the contract failed meanwhile.
    pub(super) fn stage_evidence(
        &mut self,
        me: u32,
        sid: SessionId,
        bytes: Vec<u8>,
    ) -> Option<Staged> {
        let due = self.sched.now();
        self.tracks.get(&sid)?;
        let at = self.reserve(me as usize, self.params.cpu_us.receive_evidence);
        let work = Work::Evidence { sid, bytes };
        Some(Staged::new(&mut self.firms, me, due, at, work))
    }

    /// Applies firm `me`'s check of another party's evidence.
    pub(super) fn evidence_received(
        &mut self,
        me: u32,
        at: Micros,
        sid: SessionId,
        result: Result<Step, String>,
    ) {
        let Some(track) = self.tracks.get_mut(&sid) else {
            return;
        };
        let e = self.net.edges()[track.edge as usize];
        let sender = usize::from(me == e.buyer);
        match result {
            Ok(_) => {
                track.evidence[sender] = EvidenceFate::Received;
                self.m.evidence.received += 1;
                self.settle(me, sid, at);
            }
            Err(reason) => {
                self.m.fail(&format!("receive evidence: {reason}"));
                track.evidence[sender] = EvidenceFate::Refused(reason);
            }
        }
    }

    /// Once `me`'s completed session holds every party's evidence: its bundle if sampled,
    /// then the session is let go.
    fn settle(&mut self, me: u32, sid: SessionId, at: Micros) {
        let Some(session) = self.firm(me).sessions.get(&sid) else {
            return;
        };
        if !matches!(session.status(), Status::Completed { .. }) || !holds_all_evidence(session) {
            return;
        }
        self.m.evidence.complete += 1;
        let Some(track) = self.tracks.get_mut(&sid) else {
            return;
        };
        let e = self.net.edges()[track.edge as usize];
        let side = usize::from(me != e.buyer);
        track.held[side] = false;
        let (sampled, done) = (track.sampled, track.held == [false, false]);
        if done {
            self.tracks.remove(&sid);
        }
        if sampled {
            self.bundle(me, sid, at, None);
        }
        // Shared already, so no longer among the firm's unshared sessions.
        let firm = firm_in(&mut self.firms, me);
        firm.sessions.remove(&sid);
        firm.entries.remove(&sid);
    }

    /// Firm `me` assembles the bundle of its session `sid` and verifies it offline at `at`;
    /// `missing` says which evidence it lacks and why, if any.
    fn bundle(&mut self, me: u32, sid: SessionId, at: Micros, missing: Option<&str>) {
        let firm = firm_in(&mut self.firms, me);
        let Some(session) = firm.sessions.get(&sid) else {
            return;
        };
        let began = Instant::now();
        let assembled = assemble(session, &firm.store, &firm.policy);
        self.timing.add("bundle_assemble", began);
        match assembled.map(|b| b.encode()) {
            Ok(Ok(bytes)) => {
                let doc = document(session_seq(session));
                let began = Instant::now();
                let report = verify_bundle(&bytes, &[&doc], &firm.policy, ts(at));
                self.timing.add("bundle_verify", began);
                self.m.bundles.add(bytes.len() as u64, &report, missing);
            }
            _ => self.m.fail("bundle could not be assembled"),
        }
    }

    /// At the end of the run: counts the sessions whose evidence was not exchanged, and
    /// verifies the sampled bundles still waiting for evidence, with the reason it lacks.
    pub(super) fn evidence_at_end(&mut self) {
        let sids: Vec<SessionId> = self.tracks.keys().copied().collect();
        for sid in sids {
            let Some(track) = self.tracks.get(&sid) else {
                continue;
            };
            let e = self.net.edges()[track.edge as usize];
            let (sampled, held) = (track.sampled, track.held);
            for (side, f) in [e.buyer, e.supplier].into_iter().enumerate() {
                if !held[side] {
                    continue;
                }
                let Some(session) = self.firms[f as usize]
                    .as_deref()
                    .and_then(|firm| firm.sessions.get(&sid))
                else {
                    continue;
                };
                if !matches!(session.status(), Status::Completed { .. }) {
                    if sampled {
                        self.m.bundles.not_completed += 1;
                    }
                    continue;
                }
                if self.firm(f).unshared.iter().any(|u| u.sid == sid) {
                    self.m.evidence.unshared_at_end += 1;
                }
                if holds_all_evidence(session) {
                    continue;
                }
                self.m.evidence.incomplete_at_end += 1;
                if sampled {
                    let missing = self.missing_evidence(sid, side);
                    self.bundle(f, sid, self.end, Some(&missing));
                }
            }
        }
    }

    /// Why the session of party `side` (0 buyer, 1 supplier) lacks evidence at the end of
    /// the run, as the simulator saw it: for each party whose evidence it lacks, the first
    /// of: that party was down, its session had not completed, no cosigned checkpoint had
    /// covered it, the message was lost, refused, or still on its way (its recipient down,
    /// or in transit).
    fn missing_evidence(&self, sid: SessionId, side: usize) -> String {
        let Some(track) = self.tracks.get(&sid) else {
            return "the contract is gone".into();
        };
        let e = self.net.edges()[track.edge as usize];
        let nodes = [e.buyer, e.supplier];
        let Some(session) = self.firm(nodes[side]).sessions.get(&sid) else {
            return "the session is gone".into();
        };
        let down = |f: u32| self.links.is_down(f as usize, self.end);
        let mut reasons: Vec<String> = Vec::new();
        for (q, &f) in nodes.iter().enumerate() {
            let party = self.party_id(f);
            if session.evidence().any(|ev| ev.party == party) {
                continue;
            }
            let role = ROLES[q];
            let completed = self.firms[f as usize]
                .as_deref()
                .and_then(|firm| firm.sessions.get(&sid))
                .is_some_and(|s| matches!(s.status(), Status::Completed { .. }));
            let reason = match &track.evidence[q] {
                EvidenceFate::NotShared if down(f) => format!("{role} offline when the run ended"),
                EvidenceFate::NotShared if !completed && q != side => {
                    format!("{role}'s session not completed when the run ended")
                }
                EvidenceFate::NotShared => {
                    format!("{role}'s evidence awaiting a cosigned checkpoint when the run ended")
                }
                EvidenceFate::Lost => format!("{role}'s evidence lost in transit"),
                EvidenceFate::Refused(why) => format!("{role}'s evidence refused: {why}"),
                EvidenceFate::Sent if down(nodes[side]) => {
                    format!("{} offline when the run ended", ROLES[side])
                }
                EvidenceFate::Sent => format!("{role}'s evidence in transit when the run ended"),
                EvidenceFate::Received => format!("{role}'s evidence accepted but not held"),
            };
            if !reasons.contains(&reason) {
                reasons.push(reason);
            }
        }
        reasons.join("; ")
    }
}

/// Whether a session holds the evidence of every party to it.
fn holds_all_evidence(session: &Session) -> bool {
    session
        .proposal()
        .payload()
        .parties()
        .iter()
        .all(|p| session.evidence().any(|e| e.party == *p))
}
