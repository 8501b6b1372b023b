//! One run of one deployment model with the real protocol in the loop: every firm that
//! adopts is a protocol party with its own keys, key event log, trust store and policy; it is
//! verified by a verifier that signs a real identity attestation; it introduces itself to its
//! counterparties with its key log and attestations as bytes, which they replay and check;
//! every contract is a real signing session (proposal, intent proof, seal signature,
//! completion) whose messages travel as bytes over the simulated network in virtual time;
//! every session event goes into the firm's evidence log, which a witness cosigns, and once
//! a cosigned checkpoint covers a completed session the parties exchange their evidence about
//! it (`evidence`). Events from outside the normal flow (revocations, key rotations,
//! attackers) are in `events`.

mod batch;
mod events;
mod evidence;
mod work;

use std::collections::BTreeMap;
use std::time::Instant;

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use signet_protocol::attestation::SignedAttestation;
use signet_protocol::attestation::{
    AssuranceLevel, Attestation, AttestationKind, Claims, IdentityClaims, VerificationMethod,
};
use signet_protocol::cose::Signed;
use signet_protocol::evidence::{EvidenceLog, SignedCheckpoint, Witness, witness_name};
use signet_protocol::keylog::{KeyDecl, KeyLog, KeyPurpose};
use signet_protocol::party::{AttestationId, PartyId};
use signet_protocol::seal::SealInfo;
use signet_protocol::seal::SealKind;
use signet_protocol::session::{
    Context, DocumentRef, EvidenceRequirements, INTENT_CONTENT_TYPE, IntentMethod, IntentProof,
    Participant, PdfRevision, Proposal, Role, Session, SessionId, SessionNonce, Side, Status, Step,
};
use signet_protocol::testkit::{TestParty, test_key, test_uscc};
use signet_protocol::trust::{
    DEFAULT_MAX_DELEGATION_VALIDITY, LogUpdate, TrustAnchor, TrustPath, TrustPolicy, TrustStore,
    Verdict, evaluate,
};
use signet_protocol::{Digest, PublicKey, Timestamp};

use self::work::{Staged, Work};
use super::link::{Delivery, Links, Place};
use super::params::{AttackKind, ProtocolParams};
use super::scheduler::{DAY, Micros, QueueFull, SECOND, Scheduler};
use crate::adoption::{AdoptionRun, Deployment};
use crate::network::Network;
use crate::protocol_mode::report::{Measures, Timing};
use crate::rng::{exponential, uniform};

/// Virtual time zero, as a protocol timestamp (2027-01-15).
const EPOCH: u64 = 1_800_000_000;
/// The purpose every firm's seal mandate covers and every proposal names.
const PURPOSE: &str = "procurement";
/// Size of each contract's document (its digest is what the protocol signs).
const DOCUMENT_BYTES: usize = 1_234;

fn ts(t: Micros) -> Timestamp {
    Timestamp::from_unix(EPOCH + t / SECOND)
}

/// How far a firm has come.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FirmStage {
    Absent,
    /// Its node runs; not yet attested by a verifier (federated, SaaS).
    Created,
    /// Attested by its verifier (federated, SaaS), or running (on-premises).
    Ready,
}

/// Where a relationship stands in the protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EdgeStage {
    /// The adoption model says it signs on paper.
    Paper,
    /// It may sign electronically; the two nodes are not yet ready.
    Waiting,
    /// Introductions are on their way.
    Introducing {
        buyer_trusts: bool,
        supplier_trusts: bool,
    },
    /// Each side trusts the other: contracts start at once.
    Ready,
    /// A side refused the other (with a reason counted in failures).
    Refused,
}

struct Firm {
    party: TestParty,
    store: TrustStore,
    policy: TrustPolicy,
    mandate: SignedAttestation,
    /// Identity attestations about this firm it holds (its verifier's, or each buyer's).
    identities: Vec<SignedAttestation>,
    sessions: BTreeMap<SessionId, Session>,
    log: EvidenceLog,
    /// Where each held session's entries sit in `log`.
    entries: BTreeMap<SessionId, Vec<u64>>,
    /// Completed sessions whose evidence waits for a cosigned checkpoint that covers them,
    /// in the order they completed.
    unshared: Vec<Unshared>,
    checkpoint_due: bool,
    /// The checkpoint sent to the witness whose answer has not come yet.
    pending: Option<PendingCheckpoint>,
    /// The size of the last checkpoint the witness cosigned, as far as this firm knows
    /// (consistency proofs start there).
    witnessed_size: u64,
}

/// A completed session whose evidence is not shared yet.
struct Unshared {
    sid: SessionId,
    /// The other party.
    with: u32,
    /// One past its last entry in the log: a checkpoint of at least this size covers it.
    end: u64,
}

/// A checkpoint awaiting the witness's answer.
struct PendingCheckpoint {
    checkpoint: SignedCheckpoint,
    /// The request was already repeated once with the proof from the size the witness said
    /// it holds (spec §10.5.4 step 5: at most two requests).
    asked_again: bool,
}

struct Infra {
    party: TestParty,
}

struct WitnessNode {
    party: TestParty,
    state: Witness,
    /// The `log` keys of the firms whose logs it witnesses (configured when a firm's node
    /// is installed, as a transparency-log witness is configured with the logs it serves).
    log_keys: BTreeMap<PartyId, Vec<PublicKey>>,
    cosigned: u64,
    refused: u64,
    bytes_in: u64,
}

#[derive(Debug, Clone)]
enum Msg {
    VerifyRequest {
        firm: u32,
        events: Vec<Vec<u8>>,
        buyer: Option<u32>,
    },
    VerifyResponse {
        attestation: Vec<u8>,
        buyer: Option<u32>,
    },
    Introduce {
        from: u32,
        edge: u32,
        events: Vec<Vec<u8>>,
        attestations: Vec<Vec<u8>>,
    },
    /// A session message. `from` and `session` route it to the receiver's session (the
    /// bytes name both; the receiving session decodes and checks everything again).
    Session {
        from: u32,
        session: SessionId,
        bytes: Vec<u8>,
    },
    /// A witness message (spec §10.5.4): a firm's cosign request to its witness.
    CosignRequest { firm: u32, bytes: Vec<u8> },
    /// A witness message: the witness's answer (cosigned or refused) to the firm.
    WitnessAnswer { bytes: Vec<u8> },
    /// A session's `evidence` message (spec §8.10), after the session completed: the
    /// receiving session checks it; nothing goes back, so only the receiver is touched.
    Evidence { session: SessionId, bytes: Vec<u8> },
    Revocation {
        bytes: Vec<u8>,
        subject: u32,
        issued: Micros,
    },
    KeyUpdate {
        from: u32,
        events: Vec<Vec<u8>>,
        mandate: Vec<u8>,
        rotation: usize,
    },
    /// An attacker's message: a flood proposal, or a squatter's introduction.
    Attack {
        attack: usize,
        bytes: Vec<u8>,
        events: Vec<Vec<u8>>,
    },
}

impl Msg {
    fn size(&self) -> usize {
        match self {
            Self::VerifyRequest { events, .. } | Self::Introduce { events, .. } => {
                let a = match self {
                    Self::Introduce { attestations, .. } => {
                        attestations.iter().map(Vec::len).sum::<usize>()
                    }
                    _ => 0,
                };
                events.iter().map(Vec::len).sum::<usize>() + a
            }
            Self::VerifyResponse { attestation, .. } => attestation.len(),
            Self::Session { bytes, .. }
            | Self::Evidence { bytes, .. }
            | Self::Revocation { bytes, .. }
            | Self::CosignRequest { bytes, .. }
            | Self::WitnessAnswer { bytes } => bytes.len(),
            Self::KeyUpdate {
                events, mandate, ..
            } => events.iter().map(Vec::len).sum::<usize>() + mandate.len(),
            Self::Attack { bytes, events, .. } => {
                bytes.len() + events.iter().map(Vec::len).sum::<usize>()
            }
        }
    }
}

#[derive(Debug)]
enum Event {
    Step(u32),
    Onboard(u32),
    Attest {
        verifier: usize,
        firm: u32,
        log: Box<KeyLog>,
        buyer: Option<u32>,
    },
    Arrive {
        to: usize,
        msg: Box<Msg>,
    },
    Contract {
        edge: u32,
    },
    /// Both sides of `edge` trust each other: the contracts that waited for it start.
    Start {
        edge: u32,
    },
    Sign {
        firm: u32,
        sid: SessionId,
    },
    Checkpoint(u32),
    Revoke(usize),
    Rotate(usize),
    /// Attacker `attack` sends its `n`-th message.
    Attack {
        attack: usize,
        n: u64,
    },
}

/// Which kind of traffic a message is, for the measures.
#[derive(Debug, Clone, Copy)]
enum Traffic {
    Onboarding,
    Introduction,
    Session(u32),
    Checkpoint,
    Revocation,
    Rotation,
    Attack,
}

struct Track {
    edge: u32,
    arrived: Micros,
    /// The initiator completed it (counted as signed); the track stays until both parties
    /// have let the session go (their evidence exchanged, or the run ended).
    completed: bool,
    /// Both parties assemble and verify its bundle (`bundle_every`).
    sampled: bool,
    /// Per party (buyer, supplier): what became of its evidence.
    evidence: [EvidenceFate; 2],
    /// Per party: it still holds the session.
    held: [bool; 2],
}

/// What became of one party's evidence about a session, as the simulator saw it (to say why
/// a bundle lacks it).
#[derive(Debug, Clone, PartialEq, Eq)]
enum EvidenceFate {
    /// Not shared: no cosigned checkpoint covered the session yet.
    NotShared,
    /// Sent to the other party.
    Sent,
    /// The other party's session accepted it.
    Received,
    /// The other party's session refused it (the protocol error's variant).
    Refused(String),
    /// Lost after every retransmission.
    Lost,
}

/// One run of one deployment model.
pub(super) struct World<'a> {
    net: &'a Network,
    params: &'a ProtocolParams,
    deployment: Deployment,
    label: String,
    steps: u32,
    step_len: Micros,
    end: Micros,
    sched: Scheduler<Event>,
    links: Links,
    rng: ChaCha20Rng,
    /// Seed of the signing delays: one draw per contract, from its relationship and arrival
    /// time, so that a delay does not depend on the order events are applied in.
    signing_seed: [u8; 32],
    adoption: Option<AdoptionRun<'a>>,
    stage: Vec<FirmStage>,
    firms: Vec<Option<Box<Firm>>>,
    verifiers: Vec<Infra>,
    witnesses: Vec<WitnessNode>,
    installed_logs: Vec<KeyLog>,
    installed_attestations: Vec<SignedAttestation>,
    busy: Vec<Micros>,
    party_index: BTreeMap<PartyId, usize>,
    /// Each firm's party id once its node is installed (read without touching the node).
    party_ids: Vec<Option<PartyId>>,
    edges: Vec<EdgeStage>,
    waiting: BTreeMap<u32, Vec<Micros>>,
    tracks: BTreeMap<SessionId, Track>,
    relied: BTreeMap<(PartyId, AttestationId), u32>,
    /// Identity attestations issued about each firm: (issuer node, id).
    attested: BTreeMap<u32, Vec<(usize, AttestationId)>>,
    contract_seq: u64,
    validity_days: u64,
    /// The measures, filled as the run goes.
    pub m: Measures,
    /// Wall-clock timings (not part of the deterministic report).
    pub timing: Timing,
}

/// What one run is: its deployment model, who decides adoption, how long, its name (every
/// party's keys derive from it) and its random numbers.
pub(super) struct Setup<'a> {
    pub deployment: Deployment,
    /// None: every firm adopts at once.
    pub adoption: Option<AdoptionRun<'a>>,
    pub steps: u32,
    pub steps_per_year: u32,
    pub label: String,
    pub rng: ChaCha20Rng,
    pub signing_seed: [u8; 32],
}

impl<'a> World<'a> {
    /// Sets up a run.
    pub(super) fn new(net: &'a Network, params: &'a ProtocolParams, setup: Setup<'a>) -> Self {
        let Setup {
            deployment,
            adoption,
            steps,
            steps_per_year,
            label,
            rng,
            signing_seed,
        } = setup;
        let n = net.len();
        let verifier_count = match deployment {
            Deployment::Saas => 1,
            Deployment::Federated => params.verifiers as usize,
            Deployment::OnPremises => 0,
        };
        let witness_count = params.witnesses as usize;
        let step_len = 365 * DAY / u64::from(steps_per_year.max(1));
        let end = u64::from(steps) * step_len;
        let validity_days = end / DAY + 400;
        let mut places: Vec<Place> = (0..n)
            .map(|i| Place::Community(net.communities()[i]))
            .collect();
        let attackers = params.attacks.len();
        places.extend(std::iter::repeat_n(
            Place::Infrastructure,
            verifier_count + witness_count + attackers,
        ));
        let t0 = ts(0);
        let mut verifiers: Vec<Infra> = (0..verifier_count)
            .map(|k| Infra {
                party: TestParty::new(&format!("{label} verifier {k}"), t0),
            })
            .collect();
        let witnesses: Vec<WitnessNode> = (0..witness_count)
            .map(|k| {
                let wl = format!("{label} witness {k}");
                let party = TestParty::new(&wl, t0);
                let state = witness_state(&party, &wl);
                WitnessNode {
                    party,
                    state,
                    log_keys: BTreeMap::new(),
                    cosigned: 0,
                    refused: 0,
                    bytes_in: 0,
                }
            })
            .collect();
        let mut installed_logs: Vec<KeyLog> =
            verifiers.iter().map(|v| v.party.log.clone()).collect();
        installed_logs.extend(witnesses.iter().map(|w| w.party.log.clone()));
        // Witnesses are attested by the first verifier, so that bundles can establish them
        // (on-premises, each firm attests them itself: `ensure_created`).
        let mut installed_attestations = Vec::new();
        if let Some(v) = verifiers.first_mut() {
            for w in &witnesses {
                installed_attestations.push(v.party.attest(
                    w.party.id(),
                    identity_claims(&w.party.label),
                    t0,
                    validity_days,
                ));
            }
        }
        let mut party_index = BTreeMap::new();
        for (k, v) in verifiers.iter().enumerate() {
            party_index.insert(v.party.id(), n + k);
        }
        for (k, w) in witnesses.iter().enumerate() {
            party_index.insert(w.party.id(), n + verifier_count + k);
        }
        Self {
            net,
            params,
            deployment,
            label,
            steps,
            step_len,
            end,
            sched: Scheduler::new(params.max_pending_events),
            links: Links::new(places, params),
            rng,
            signing_seed,
            adoption,
            stage: vec![FirmStage::Absent; n],
            firms: (0..n).map(|_| None).collect(),
            verifiers,
            witnesses,
            installed_logs,
            installed_attestations,
            busy: vec![0; n + verifier_count + witness_count + attackers],
            party_index,
            party_ids: vec![None; n],
            edges: vec![EdgeStage::Paper; net.edge_count()],
            waiting: BTreeMap::new(),
            tracks: BTreeMap::new(),
            relied: BTreeMap::new(),
            attested: BTreeMap::new(),

            contract_seq: 0,
            validity_days,
            m: Measures::new(net.tier_count().max(1), witness_count),
            timing: Timing::default(),
        }
    }

    fn tier(&self, firm: u32) -> usize {
        usize::from(self.net.tiers()[firm as usize])
    }

    fn verifier_node(&self, firm: u32) -> usize {
        let k = self.verifiers.len().max(1);
        self.net.len() + (self.net.communities()[firm as usize] as usize % k)
    }

    fn witness_of(&self, firm: u32) -> usize {
        firm as usize % self.witnesses.len()
    }

    fn witness_node(&self, k: usize) -> usize {
        self.net.len() + self.verifiers.len() + k
    }

    /// Runs to the end; returns the error that stopped it early, if any.
    pub(super) fn run(&mut self) -> Result<(), QueueFull> {
        let started = Instant::now();
        self.sched.at(0, Event::Step(0))?;
        for i in 0..self.params.revocations.len() {
            let at = (self.params.revocations[i].day * DAY as f64).round() as Micros;
            self.sched.at(at, Event::Revoke(i))?;
        }
        for (i, a) in self.params.attacks.iter().enumerate() {
            let at = (a.from_day * DAY as f64).round() as Micros;
            self.m
                .attacks
                .push(crate::protocol_mode::report::AttackReport {
                    kind: match a.kind {
                        AttackKind::Flood => "flood".into(),
                        AttackKind::Squat => "squat".into(),
                    },
                    target: a.target,
                    ..Default::default()
                });
            self.sched.at(at, Event::Attack { attack: i, n: 0 })?;
        }
        for i in 0..self.params.rotations.len() {
            let at = (self.params.rotations[i].day * DAY as f64).round() as Micros;
            self.sched.at(at, Event::Rotate(i))?;
        }
        self.handle_due()?;
        self.m.peak_pending_events = self.sched.peak() as u64;
        self.finish();
        self.timing.wall_seconds = started.elapsed().as_secs_f64();
        Ok(())
    }

    fn finish(&mut self) {
        self.evidence_at_end();
        for (_, track) in std::mem::take(&mut self.tracks) {
            if !track.completed {
                let tier = self.tier(self.net.edges()[track.edge as usize].buyer);
                self.m.tiers[tier].in_flight += 1;
            }
        }
        for (edge, list) in std::mem::take(&mut self.waiting) {
            let tier = self.tier(self.net.edges()[edge as usize].buyer);
            self.m.tiers[tier].waiting_at_end += list.len() as u64;
        }
        if let Some(run) = &self.adoption {
            self.m.set_abstract(run.trace());
        }
        for (k, w) in self.witnesses.iter().enumerate() {
            self.m.witnesses[k].cosignatures = w.cosigned;
            self.m.witnesses[k].refused = w.refused;
            self.m.witnesses[k].bytes_received = w.bytes_in;
        }
    }

    fn handle(&mut self, event: Event) -> Result<(), QueueFull> {
        match event {
            Event::Step(t) => self.step(t),
            Event::Onboard(i) => self.onboard(i),
            Event::Attest {
                verifier,
                firm,
                log,
                buyer,
            } => self.attest(verifier, firm, *log, buyer),
            Event::Arrive { to, msg } => self.arrive(to, *msg),
            Event::Contract { edge } => self.contract(edge),
            Event::Start { edge } => {
                for arrived in self.waiting.remove(&edge).unwrap_or_default() {
                    self.start_contract(edge, arrived)?;
                }
                Ok(())
            }
            Event::Sign { firm, sid } => self.sign(firm, sid),
            Event::Checkpoint(i) => self.checkpoint(i),
            Event::Revoke(i) => self.revoke(i),
            Event::Rotate(i) => self.rotate(i),
            Event::Attack { attack, n } => self.attack(attack, n),
        }
    }

    /// Reserves `cost` µs of `node`'s CPU from now (after its earlier work, and once it is
    /// up); returns when the work is done.
    fn reserve(&mut self, node: usize, cost: u64) -> Micros {
        let start = self
            .links
            .up_at(node, self.sched.now().max(self.busy[node]));
        self.busy[node] = start + cost;
        self.busy[node]
    }

    fn send(
        &mut self,
        from: usize,
        to: usize,
        msg: Msg,
        at: Micros,
        traffic: Traffic,
    ) -> Result<bool, QueueFull> {
        let bytes = msg.size();
        let delivery = self.links.send(from, to, bytes, at, &mut self.rng);
        let transmissions = match delivery {
            Delivery::Arrives { transmissions, .. } | Delivery::Lost { transmissions } => {
                transmissions
            }
        };
        let sent_bytes = bytes as u64 * u64::from(transmissions);
        self.m.retransmissions += u64::from(transmissions - 1);
        let o = &mut self.m.overhead;
        match traffic {
            Traffic::Onboarding => o.onboarding.add(sent_bytes),
            Traffic::Introduction => o.introduction.add(sent_bytes),
            Traffic::Checkpoint => o.checkpoint.add(sent_bytes),
            Traffic::Revocation => o.revocation.add(sent_bytes),
            Traffic::Rotation => o.rotation.add(sent_bytes),
            Traffic::Attack => o.attack.add(sent_bytes),
            Traffic::Session(tier) => {
                let t = &mut self.m.tiers[tier as usize];
                t.session_messages += 1;
                t.session_bytes += sent_bytes;
            }
        }
        match delivery {
            Delivery::Arrives { at, .. } => {
                self.sched.at(
                    at,
                    Event::Arrive {
                        to,
                        msg: Box::new(msg),
                    },
                )?;
                Ok(true)
            }
            Delivery::Lost { .. } => {
                self.m.lost_messages += 1;
                Ok(false)
            }
        }
    }

    // ---- adoption and onboarding ----

    fn step(&mut self, t: u32) -> Result<(), QueueFull> {
        let now = self.sched.now();
        let n = self.net.len();
        // Who runs the protocol after this step, and which relationships may sign
        // electronically, as the adoption model decides (or everyone).
        let mut newly_adopted = Vec::new();
        let mut newly_electronic = Vec::new();
        match self.adoption.as_mut() {
            Some(run) => {
                run.advance();
                for i in 0..n {
                    if self.stage[i] == FirmStage::Absent && run.is_adopter(i) {
                        newly_adopted.push(i as u32);
                    }
                }
                for e in 0..self.edges.len() {
                    if self.edges[e] == EdgeStage::Paper && run.edge_is_electronic(e) {
                        newly_electronic.push(e as u32);
                    }
                }
            }
            None if t == 0 => {
                newly_adopted.extend(0..n as u32);
                newly_electronic.extend(0..self.edges.len() as u32);
            }
            None => {}
        }
        for i in newly_adopted {
            // Installations are spread over the first day of the month.
            let at = now + (uniform(&mut self.rng) * DAY as f64) as Micros;
            self.sched.at(at, Event::Onboard(i))?;
        }
        for e in newly_electronic {
            self.edges[e as usize] = EdgeStage::Waiting;
            let edge = self.net.edges()[e as usize];
            if self.deployment == Deployment::OnPremises {
                // The supplier joins the buyer's system: the buyer verifies it itself.
                self.ensure_created(edge.buyer);
                self.ensure_created(edge.supplier);
                let events = self
                    .firm(edge.supplier)
                    .party
                    .log
                    .event_bytes()
                    .map(<[u8]>::to_vec)
                    .collect();
                let at = self.reserve(edge.supplier as usize, self.params.cpu_us.introduction);
                self.send(
                    edge.supplier as usize,
                    edge.buyer as usize,
                    Msg::VerifyRequest {
                        firm: edge.supplier,
                        events,
                        buyer: Some(edge.buyer),
                    },
                    at,
                    Traffic::Onboarding,
                )?;
            }
        }
        // Contracts of this step: the same split of each relationship's yearly volume as the
        // abstract model (MODEL.md §7.6), arriving at random times within the step.
        let spy = u64::from(self.step_len_per_year());
        let phase = u64::from(t) % spy;
        for e in 0..self.edges.len() {
            let edge = self.net.edges()[e];
            let v = u64::from(edge.volume);
            let c = ((phase + 1) * v) / spy - (phase * v) / spy;
            if c == 0 {
                continue;
            }
            let tier = self.tier(edge.buyer);
            self.m.tiers[tier].contracts += c;
            if self.edges[e] == EdgeStage::Paper {
                self.m.tiers[tier].paper += c;
                continue;
            }
            for k in 0..c {
                let offset = ((k as f64 + uniform(&mut self.rng)) / c as f64 * self.step_len as f64)
                    as Micros;
                self.sched
                    .at(now + offset, Event::Contract { edge: e as u32 })?;
            }
        }
        if t + 1 < self.steps {
            self.sched.at(now + self.step_len, Event::Step(t + 1))?;
        }
        Ok(())
    }

    fn step_len_per_year(&self) -> u32 {
        (365 * DAY / self.step_len) as u32
    }

    #[expect(
        clippy::expect_used,
        reason = "invariant: events name only firms whose node was installed"
    )]
    fn party_id(&self, i: u32) -> PartyId {
        self.party_ids[i as usize].expect("an onboarded firm")
    }

    #[expect(
        clippy::expect_used,
        reason = "invariant: events name only firms whose node was installed"
    )]
    fn firm(&self, i: u32) -> &Firm {
        self.firms[i as usize]
            .as_deref()
            .expect("an onboarded firm")
    }

    #[expect(
        clippy::expect_used,
        reason = "invariant: events name only firms whose node was installed"
    )]
    fn firm_mut(&mut self, i: u32) -> &mut Firm {
        self.firms[i as usize]
            .as_deref_mut()
            .expect("an onboarded firm")
    }

    /// Installs firm `i`'s node: keys, key event log, seal mandate, policy, and the key logs
    /// of the verifiers and witnesses it is configured with.
    fn ensure_created(&mut self, i: u32) {
        if self.stage[i as usize] != FirmStage::Absent {
            return;
        }
        let now = ts(self.sched.now());
        let mut party = TestParty::new(&format!("{} firm {i}", self.label), now);
        let mandate = party.delegate_contract_seal(&[PURPOSE], None, None, now, self.validity_days);
        let anchors = match self.deployment {
            Deployment::OnPremises => vec![TrustAnchor {
                party: party.id(),
                name: party.label.clone(),
            }],
            _ => self
                .verifiers
                .iter()
                .map(|v| TrustAnchor {
                    party: v.party.id(),
                    name: v.party.label.clone(),
                })
                .collect(),
        };
        let policy = TrustPolicy {
            max_attestation_age: None,
            revocation_freshness: None,
            max_delegation_validity: DEFAULT_MAX_DELEGATION_VALIDITY
                .max((self.validity_days + 1) * 86_400),
            ..TrustPolicy::with_anchors(anchors)
        };
        let mut store = TrustStore::new();
        for log in &self.installed_logs {
            store.add_key_log(log.clone());
        }
        for a in &self.installed_attestations {
            store.add_attestation(a.clone());
        }
        store.add_key_log(party.log.clone());
        store.add_attestation(mandate.clone());
        if self.deployment == Deployment::OnPremises {
            // No verifier vouches for the witnesses: the firm's operator checks them and
            // attests them itself (once the store holds its key log, to check them against),
            // so that its policy trusts their cosignatures.
            for w in &self.witnesses {
                let a = party.attest(
                    w.party.id(),
                    identity_claims(&w.party.label),
                    now,
                    self.validity_days,
                );
                store.add_attestation(a);
            }
        }
        let k = self.witness_of(i);
        self.witnesses[k]
            .log_keys
            .insert(party.id(), log_keys(&party.log));
        self.party_index.insert(party.id(), i as usize);
        self.party_ids[i as usize] = Some(party.id());
        self.firms[i as usize] = Some(Box::new(Firm {
            party,
            store,
            policy,
            mandate,
            identities: Vec::new(),
            sessions: BTreeMap::new(),
            log: EvidenceLog::new(),
            entries: BTreeMap::new(),
            unshared: Vec::new(),
            checkpoint_due: false,
            pending: None,
            witnessed_size: 0,
        }));
        self.m.firms_onboarded += 1;
        self.stage[i as usize] = match self.deployment {
            Deployment::OnPremises => FirmStage::Ready,
            _ => FirmStage::Created,
        };
    }

    fn onboard(&mut self, i: u32) -> Result<(), QueueFull> {
        if self.stage[i as usize] != FirmStage::Absent {
            return Ok(());
        }
        self.ensure_created(i);
        if self.deployment == Deployment::OnPremises {
            return Ok(());
        }
        let events = self
            .firm(i)
            .party
            .log
            .event_bytes()
            .map(<[u8]>::to_vec)
            .collect();
        let at = self.reserve(i as usize, self.params.cpu_us.introduction);
        let to = self.verifier_node(i);
        self.send(
            i as usize,
            to,
            Msg::VerifyRequest {
                firm: i,
                events,
                buyer: None,
            },
            at,
            Traffic::Onboarding,
        )?;
        Ok(())
    }

    fn attest(
        &mut self,
        verifier: usize,
        firm: u32,
        log: KeyLog,
        buyer: Option<u32>,
    ) -> Result<(), QueueFull> {
        let at = self.reserve(verifier, self.params.cpu_us.attest);
        let claims = identity_claims(&format!("{} firm {firm}", self.label));
        let days = self.validity_days;
        let issuer = match buyer {
            Some(b) => &mut self.firm_mut(b).party,
            None => &mut self.verifiers[verifier - self.net.len()].party,
        };
        let signed = issuer.attest(log.party(), claims, ts(at), days);
        let id = signed.payload().id;
        if let Some(b) = buyer {
            // The buyer's system keeps its own verification of its supplier.
            self.firm_mut(b).store.add_attestation(signed.clone());
        }
        let tier = self.tier(firm);
        self.m.tiers[tier].verifications_performed += 1;
        self.attested.entry(firm).or_default().push((verifier, id));
        let msg = Msg::VerifyResponse {
            attestation: signed.bytes().to_vec(),
            buyer,
        };
        self.send(verifier, firm as usize, msg, at, Traffic::Onboarding)?;
        Ok(())
    }

    // ---- messages ----

    fn arrive(&mut self, to: usize, msg: Msg) -> Result<(), QueueFull> {
        match msg {
            Msg::VerifyRequest {
                firm,
                events,
                buyer,
            } => {
                let at = self.reserve(to, self.params.cpu_us.introduction);
                match KeyLog::replay(&events) {
                    Ok(log) => {
                        // A person checks the firm's registration and bank account.
                        let done = at
                            + (self.params.verification_hours * 3_600.0 * SECOND as f64) as Micros;
                        self.sched.at(
                            done,
                            Event::Attest {
                                verifier: to,
                                firm,
                                log: Box::new(log),
                                buyer,
                            },
                        )?;
                    }
                    Err(_) => self.m.fail("verification request: key log refused"),
                }
            }
            Msg::VerifyResponse { attestation, buyer } => {
                let firm = to as u32;
                self.reserve(to, self.params.cpu_us.introduction);
                let Ok(signed) = Attestation::decode(&attestation) else {
                    self.m.fail("identity attestation refused");
                    return Ok(());
                };
                let me = self.firm_mut(firm);
                me.store.add_attestation(signed.clone());
                me.identities.push(signed);
                match buyer {
                    Some(b) => {
                        // Joining the buyer's system: the supplier trusts its operator.
                        let anchor = TrustAnchor {
                            party: self.firm(b).party.id(),
                            name: self.firm(b).party.label.clone(),
                        };
                        self.firm_mut(firm).policy.anchors.push(anchor);
                        for &e in self.net.customer_edges(firm as usize) {
                            if self.net.edges()[e as usize].buyer == b {
                                self.try_introduce(e)?;
                            }
                        }
                    }
                    None => {
                        self.stage[to] = FirmStage::Ready;
                        let incident: Vec<u32> = self.net.incident_edges(to).to_vec();
                        for e in incident {
                            self.try_introduce(e)?;
                        }
                    }
                }
            }
            Msg::Introduce {
                from,
                edge,
                events,
                attestations,
            } => {
                let staged = self.stage_introduction(to as u32, from, edge, events, attestations);
                self.run_now(staged)?;
            }
            Msg::Session { session, bytes, .. } => {
                self.session_message(to as u32, session, bytes)?;
            }
            Msg::CosignRequest { firm, bytes } => self.cosign_request(to, firm, &bytes)?,
            Msg::WitnessAnswer { bytes } => {
                let staged = self.stage_answer(to as u32, bytes);
                self.run_now(staged)?;
            }
            Msg::Evidence { session, bytes, .. } => {
                if let Some(staged) = self.stage_evidence(to as u32, session, bytes) {
                    self.run_now(staged)?;
                }
            }
            Msg::Revocation {
                bytes,
                subject,
                issued,
            } => self.revocation_received(to as u32, &bytes, subject, issued)?,
            Msg::KeyUpdate {
                from,
                events,
                mandate,
                rotation,
            } => self.key_update(to as u32, from, &events, &mandate, rotation),
            Msg::Attack {
                attack,
                bytes,
                events,
            } => self.attacked(to as u32, attack, &bytes, &events),
        }
        Ok(())
    }

    /// Whether `firm` can introduce itself on `edge`.
    fn ready_on(&self, firm: u32, edge: u32) -> bool {
        match self.deployment {
            Deployment::OnPremises => {
                let e = self.net.edges()[edge as usize];
                if firm == e.buyer {
                    self.stage[firm as usize] == FirmStage::Ready
                } else {
                    let buyer = self.firms[e.buyer as usize]
                        .as_deref()
                        .map(|b| b.party.id());
                    self.firms[firm as usize].as_deref().is_some_and(|f| {
                        f.identities
                            .iter()
                            .any(|a| Some(a.payload().issuer) == buyer)
                    })
                }
            }
            _ => self.stage[firm as usize] == FirmStage::Ready,
        }
    }

    fn try_introduce(&mut self, edge: u32) -> Result<(), QueueFull> {
        if self.edges[edge as usize] != EdgeStage::Waiting {
            return Ok(());
        }
        let e = self.net.edges()[edge as usize];
        if !self.ready_on(e.buyer, edge) || !self.ready_on(e.supplier, edge) {
            return Ok(());
        }
        self.edges[edge as usize] = EdgeStage::Introducing {
            buyer_trusts: false,
            supplier_trusts: false,
        };
        for (from, to) in [(e.buyer, e.supplier), (e.supplier, e.buyer)] {
            let f = self.firm(from);
            let events = f.party.log.event_bytes().map(<[u8]>::to_vec).collect();
            let mut attestations = vec![f.mandate.bytes().to_vec()];
            // The identity attestation the other side's policy can use (on-premises, the
            // buyer already holds its own).
            if self.deployment != Deployment::OnPremises {
                attestations.extend(f.identities.iter().map(|a| a.bytes().to_vec()));
            }
            let at = self.reserve(from as usize, self.params.cpu_us.introduction);
            self.send(
                from as usize,
                to as usize,
                Msg::Introduce {
                    from,
                    edge,
                    events,
                    attestations,
                },
                at,
                Traffic::Introduction,
            )?;
        }
        Ok(())
    }

    /// Stages `me`'s check of `from`'s introduction on `edge` (its own work: `work.rs`).
    fn stage_introduction(
        &mut self,
        me: u32,
        from: u32,
        edge: u32,
        events: Vec<Vec<u8>>,
        attestations: Vec<Vec<u8>>,
    ) -> Staged {
        let due = self.sched.now();
        let at = self.reserve(me as usize, self.params.cpu_us.introduction);
        let subject = self.party_id(from);
        let work = Work::Introduction {
            from,
            edge,
            subject,
            events,
            attestations,
        };
        Staged::new(&mut self.firms, me, due, at, work)
    }

    /// Applies `me`'s verdict on `from`'s introduction.
    fn introduced(
        &mut self,
        me: u32,
        from: u32,
        edge: u32,
        ok: bool,
        verdict: Verdict,
    ) -> Result<(), QueueFull> {
        let subject = self.party_id(from);
        self.m.trust_evaluations += 1;
        let e = self.net.edges()[edge as usize];
        let Verdict::Trusted { path, .. } = verdict else {
            self.edges[edge as usize] = EdgeStage::Refused;
            self.m.fail(if ok {
                "introduction: counterparty not trusted"
            } else {
                "introduction: key log refused"
            });
            self.fail_waiting(edge);
            return Ok(());
        };
        if me == e.buyer {
            // Did the buyer accept its supplier on a verification someone else relied on
            // first? That is a verification avoided by reuse (MODEL.md §9.3).
            if let TrustPath::Chain(links) = &path
                && let Some(link) = links
                    .iter()
                    .find(|l| l.subject == subject && l.kind == AttestationKind::Identity)
            {
                let tier = self.tier(from);
                let count = self
                    .relied
                    .entry((link.issuer, link.attestation))
                    .or_insert(0);
                if *count > 0 {
                    self.m.tiers[tier].verifications_avoided += 1;
                } else {
                    self.m.tiers[tier].verifications_first_use += 1;
                }
                *count += 1;
            }
        }
        if let EdgeStage::Introducing {
            buyer_trusts,
            supplier_trusts,
        } = self.edges[edge as usize]
        {
            let (b, s) = if me == e.buyer {
                (true, supplier_trusts)
            } else {
                (buyer_trusts, true)
            };
            self.edges[edge as usize] = if b && s {
                EdgeStage::Ready
            } else {
                EdgeStage::Introducing {
                    buyer_trusts: b,
                    supplier_trusts: s,
                }
            };
            if b && s && self.waiting.contains_key(&edge) {
                // An event of its own: the contracts' buyer may be the other firm.
                let now = self.sched.now();
                self.sched.at(now, Event::Start { edge })?;
            }
        }
        Ok(())
    }

    fn fail_waiting(&mut self, edge: u32) {
        let tier = self.tier(self.net.edges()[edge as usize].buyer);
        let n = self.waiting.remove(&edge).map_or(0, |l| l.len() as u64);
        self.m.tiers[tier].refused += n;
        self.m.fail_n("contract: counterparty refused", n);
    }

    // ---- contracts and sessions ----

    fn contract(&mut self, edge: u32) -> Result<(), QueueFull> {
        let now = self.sched.now();
        match self.edges[edge as usize] {
            EdgeStage::Ready => self.start_contract(edge, now)?,
            EdgeStage::Waiting | EdgeStage::Introducing { .. } => {
                self.waiting.entry(edge).or_default().push(now)
            }
            EdgeStage::Refused => {
                let tier = self.tier(self.net.edges()[edge as usize].buyer);
                self.m.tiers[tier].refused += 1;
                self.m.fail("contract: counterparty refused");
            }
            EdgeStage::Paper => {}
        }
        Ok(())
    }

    /// Starts a contract on a ready relationship at once.
    fn start_contract(&mut self, edge: u32, arrived: Micros) -> Result<(), QueueFull> {
        let staged = self.stage_proposal(edge, arrived);
        self.run_now(staged)
    }

    /// Stages the buyer's proposal of a contract on `edge` (its own work: `work.rs`).
    fn stage_proposal(&mut self, edge: u32, arrived: Micros) -> Staged {
        let due = self.sched.now();
        let e = self.net.edges()[edge as usize];
        let tier = self.tier(e.buyer);
        self.m.tiers[tier].started += 1;
        let at = self.reserve(e.buyer as usize, self.params.cpu_us.propose);
        let seq = self.contract_seq;
        self.contract_seq += 1;
        // Each party's log is cosigned by its own witness; the proposal names both.
        let mut witnesses = vec![self.witnesses[self.witness_of(e.buyer)].party.id()];
        let theirs = self.witnesses[self.witness_of(e.supplier)].party.id();
        if !witnesses.contains(&theirs) {
            witnesses.push(theirs);
        }
        let supplier = self.firm(e.supplier).party.id();
        let buyer = self.firm(e.buyer).party.id();
        let nonce = SessionNonce::from_bytes(
            *Digest::of_parts(&[self.label.as_bytes(), &seq.to_be_bytes()]).as_bytes(),
        );
        let sid = SessionId::derive(&buyer, &nonce);
        let now = ts(at);
        let proposal = Proposal {
            session: sid,
            nonce,
            revision: 0,
            initiator: buyer,
            title: format!("Order {seq}"),
            documents: vec![DocumentRef {
                name: "order.pdf".into(),
                media_type: "application/pdf".into(),
                size: DOCUMENT_BYTES as u64,
                digest: Digest::of(&document(seq)),
                sm3: None,
                pdf_seals: None,
            }],
            participants: vec![Participant {
                party: supplier,
                role: Role::Signer,
                order: 0,
                seal_kind: Some(SealKind::Contract),
            }],
            purpose: PURPOSE.into(),
            value: None,
            deadline: now.plus(60 * 86_400),
            evidence: EvidenceRequirements {
                witnesses,
                min_cosignatures: self.params.session_cosignatures,
            },
            created_at: now,
            algorithms: None,
        };
        let work = Work::Propose {
            edge,
            arrived,
            tier,
            sid,
            proposal: Some(Box::new(proposal)),
        };
        Staged::new(&mut self.firms, e.buyer, due, at, work)
    }

    /// Applies the buyer's proposal.
    #[expect(
        clippy::too_many_arguments,
        reason = "the staged proposal's fields, applied in one place"
    )]
    fn proposed(
        &mut self,
        me: u32,
        at: Micros,
        edge: u32,
        arrived: Micros,
        tier: usize,
        sid: SessionId,
        result: Result<Step, String>,
    ) -> Result<(), QueueFull> {
        match result {
            Ok(step) => {
                self.tracks.insert(
                    sid,
                    Track {
                        edge,
                        arrived,
                        completed: false,
                        sampled: false,
                        evidence: [EvidenceFate::NotShared, EvidenceFate::NotShared],
                        held: [true, true],
                    },
                );
                self.apply(me, sid, step, at, tier as u32)?;
            }
            Err(reason) => {
                self.m.tiers[tier].failed += 1;
                self.m.fail(&format!("propose: {reason}"));
            }
        }
        Ok(())
    }

    /// Sends a step's messages and schedules the checkpoint of the evidence log its events
    /// went into (`work.rs` recorded them with the node's work).
    fn apply(
        &mut self,
        me: u32,
        sid: SessionId,
        step: Step,
        at: Micros,
        tier: u32,
    ) -> Result<(), QueueFull> {
        let due = !step.events.is_empty() && !self.firm(me).checkpoint_due;
        if due {
            self.firm_mut(me).checkpoint_due = true;
            let when = at + (self.params.checkpoint_days * DAY as f64) as Micros;
            self.sched.at(when, Event::Checkpoint(me))?;
        }
        for out in step.outbound {
            for to in out.to {
                let Some(&node) = self.party_index.get(&to) else {
                    self.m.fail("session message to an unknown party");
                    continue;
                };
                let msg = Msg::Session {
                    from: me,
                    session: out.message.payload().session,
                    bytes: out.message.bytes().to_vec(),
                };
                if !self.send(me as usize, node, msg, at, Traffic::Session(tier))? {
                    self.fail_session(sid, "message lost after every retransmission");
                }
            }
        }
        Ok(())
    }

    fn fail_session(&mut self, sid: SessionId, reason: &str) {
        if let Some(track) = self.tracks.remove(&sid) {
            let e = self.net.edges()[track.edge as usize];
            let tier = self.tier(e.buyer);
            if track.completed {
                // Signed already; only the participant's view of the end went wrong.
                self.m.fail(&format!("after completion: {reason}"));
            } else {
                self.m.tiers[tier].failed += 1;
                self.m.fail(reason);
            }
            for f in [e.buyer, e.supplier] {
                if let Some(firm) = self.firms[f as usize].as_deref_mut() {
                    firm.forget(sid);
                }
            }
        }
    }

    fn session_message(
        &mut self,
        me: u32,
        sid: SessionId,
        bytes: Vec<u8>,
    ) -> Result<(), QueueFull> {
        match self.stage_message(me, sid, bytes) {
            Some(staged) => self.run_now(staged),
            None => Ok(()),
        }
    }

    /// Stages `me`'s handling of a session message (its own work: `work.rs`); None if there
    /// is nothing to do.
    fn stage_message(&mut self, me: u32, sid: SessionId, bytes: Vec<u8>) -> Option<Staged> {
        let due = self.sched.now();
        let Some(track) = self.tracks.get(&sid) else {
            // The contract already failed; a late message for it changes nothing.
            if let Some(firm) = self.firms[me as usize].as_deref_mut() {
                firm.forget(sid);
            }
            return None;
        };
        let edge = track.edge;
        let tier = self.tier(self.net.edges()[edge as usize].buyer) as u32;
        let known = self.firm(me).sessions.contains_key(&sid);
        let cost = if known {
            self.params.cpu_us.handle_message
        } else {
            self.params.cpu_us.receive_proposal
        };
        let at = self.reserve(me as usize, cost);
        let work = Work::Message {
            sid,
            tier,
            known,
            bytes,
        };
        Some(Staged::new(&mut self.firms, me, due, at, work))
    }

    /// Applies `me`'s handling of a session message.
    fn handled(
        &mut self,
        me: u32,
        at: Micros,
        sid: SessionId,
        tier: u32,
        known: bool,
        result: Result<Step, String>,
    ) -> Result<(), QueueFull> {
        match result {
            Ok(step) => {
                self.apply(me, sid, step, at, tier)?;
                if !known && let Some(track) = self.tracks.get(&sid) {
                    let mut rng = ChaCha20Rng::from_seed(
                        *Digest::of_parts(&[
                            &self.signing_seed,
                            &track.edge.to_le_bytes(),
                            &track.arrived.to_le_bytes(),
                        ])
                        .as_bytes(),
                    );
                    let hours = exponential(&mut rng, 1.0 / self.params.signing_hours.max(1e-9));
                    let when = at + (hours * 3_600.0 * SECOND as f64) as Micros;
                    self.sched.at(when, Event::Sign { firm: me, sid })?;
                }
                self.after_progress(me, sid, at);
            }
            Err(reason) => {
                let reason = format!("{}: {reason}", if known { "handle" } else { "receive" });
                self.fail_session(sid, &reason);
            }
        }
        Ok(())
    }

    /// After a step: once `me`'s session is completed, its evidence waits for a cosigned
    /// checkpoint (`evidence.rs`); the initiator's completion counts the contract as signed.
    fn after_progress(&mut self, me: u32, sid: SessionId, at: Micros) {
        let Some(session) = self.firm(me).sessions.get(&sid) else {
            return;
        };
        if !matches!(session.status(), Status::Completed { .. }) {
            return;
        }
        let initiator = session.side() == Side::Initiator;
        let Some(track) = self.tracks.get_mut(&sid) else {
            return;
        };
        let e = self.net.edges()[track.edge as usize];
        let with = if me == e.buyer { e.supplier } else { e.buyer };
        if initiator {
            if track.completed {
                return;
            }
            track.completed = true;
            let every = self.params.bundle_every;
            self.m.completed += 1;
            track.sampled = every > 0 && (self.m.completed - 1).is_multiple_of(every);
            let (edge, arrived) = (track.edge, track.arrived);
            let tier = self.tier(self.net.edges()[edge as usize].buyer);
            let t = &mut self.m.tiers[tier];
            t.electronic += 1;
            t.completion_us.push(at - arrived);
        }
        let firm = firm_in(&mut self.firms, me);
        if firm.unshared.iter().any(|u| u.sid == sid) {
            return;
        }
        let end = firm
            .entries
            .get(&sid)
            .and_then(|list| list.iter().max())
            .map_or(0, |&i| i + 1);
        firm.unshared.push(Unshared { sid, with, end });
    }

    fn sign(&mut self, me: u32, sid: SessionId) -> Result<(), QueueFull> {
        match self.stage_sign(me, sid) {
            Some(staged) => self.run_now(staged),
            None => Ok(()),
        }
    }

    /// Stages the delegate's signature (the supplier's own work: `work.rs`); None if the
    /// session is gone.
    fn stage_sign(&mut self, me: u32, sid: SessionId) -> Option<Staged> {
        let due = self.sched.now();
        let track = self.tracks.get(&sid)?;
        if !self.firm(me).sessions.contains_key(&sid) {
            return None;
        }
        let tier = self.tier(self.net.edges()[track.edge as usize].buyer) as u32;
        let at = self.reserve(me as usize, self.params.cpu_us.sign);
        let work = Work::Sign { sid, tier };
        Some(Staged::new(&mut self.firms, me, due, at, work))
    }

    /// Applies the delegate's signature.
    fn signed(
        &mut self,
        me: u32,
        at: Micros,
        sid: SessionId,
        tier: u32,
        result: Result<Step, String>,
    ) -> Result<(), QueueFull> {
        match result {
            Ok(step) => {
                self.apply(me, sid, step, at, tier)?;
                self.after_progress(me, sid, at);
            }
            Err(reason) => self.fail_session(sid, &format!("sign: {reason}")),
        }
        Ok(())
    }
}

/// The document of contract `seq` (deterministic bytes; only its digest travels).
fn document(seq: u64) -> Vec<u8> {
    let mut doc = Vec::with_capacity(DOCUMENT_BYTES);
    while doc.len() < DOCUMENT_BYTES {
        doc.extend_from_slice(&seq.to_le_bytes());
    }
    doc.truncate(DOCUMENT_BYTES);
    doc
}

/// The contract number a session's title carries.
fn session_seq(session: &Session) -> u64 {
    session
        .proposal()
        .payload()
        .title
        .strip_prefix("Order ")
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// The identity claims a verifier signs about the party `label` after its real-name check.
fn identity_claims(label: &str) -> Claims {
    Claims::Identity(IdentityClaims {
        legal_name: label.to_string(),
        registration: test_uscc(label),
        jurisdiction: "CN".into(),
        legal_representative: format!("{label} representative"),
        method: VerificationMethod::BankTransfer,
        assurance: AssuranceLevel::High,
    })
}

/// Every `log` key `log` ever declared (a retired key still verifies what it signed before).
fn log_keys(log: &KeyLog) -> Vec<PublicKey> {
    log.records()
        .iter()
        .filter(|r| r.purpose == KeyPurpose::Log)
        .filter_map(|r| r.key.ed25519().copied())
        .collect()
}

impl Firm {
    /// Drops everything held about session `sid`.
    fn forget(&mut self, sid: SessionId) {
        self.sessions.remove(&sid);
        self.entries.remove(&sid);
        self.unshared.retain(|u| u.sid != sid);
    }
}

/// The error's variant name, as a failure reason.
fn variant(err: &impl std::fmt::Debug) -> String {
    let text = format!("{err:?}");
    text.split(|c: char| !c.is_alphanumeric())
        .next()
        .unwrap_or("error")
        .to_string()
}

/// Firm `i`'s node, borrowing only the firm table (so the measures stay free to update).
#[expect(
    clippy::expect_used,
    reason = "invariant: events name only firms whose node was installed"
)]
fn firm_in(firms: &mut [Option<Box<Firm>>], i: u32) -> &mut Firm {
    firms[i as usize].as_deref_mut().expect("an onboarded firm")
}

#[expect(
    clippy::expect_used,
    reason = "invariant: a witness name made from a party id is a valid note name"
)]
fn witness_state(party: &TestParty, label: &str) -> Witness {
    Witness::new(&witness_name(&party.id()), test_key(label, "log"))
        .expect("a witness name made from a party id is valid")
}
