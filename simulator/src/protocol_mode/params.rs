//! The `[protocol]` table of a scenario: who verifies and witnesses, the network between the
//! nodes, people's delays, the CPU cost of each step, faults and events. Defaults and their
//! sources are in MODEL.md §9.

use serde::{Deserialize, Serialize};

use crate::adoption::Deployment;
use crate::error::ScenarioError;

/// Which firms take part.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Adoption {
    /// Firms adopt as the abstract adoption model decides (its decision rules and random
    /// draws); relationships sign electronically once both sides run the protocol.
    Model,
    /// Every firm runs a node from the start (a load test of the protocol).
    All,
}

/// A node offline for a while (maintenance, an outage).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Outage {
    /// The firm (index in the network).
    pub firm: u32,
    /// Day it goes down, counted from the start of the run.
    pub from_day: f64,
    /// How long it stays down, in days.
    pub days: f64,
}

/// A network partition: for a while, firms in `communities` cannot reach the others.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Partition {
    /// Communities on one side.
    pub communities: Vec<u32>,
    /// Day the partition starts.
    pub from_day: f64,
    /// How long it lasts, in days.
    pub days: f64,
}

/// A firm's identity attestation revoked by its verifier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevocationEvent {
    /// The firm whose identity is revoked.
    pub firm: u32,
    /// Day of the revocation.
    pub day: f64,
}

/// A firm rotates its keys: its root key (to the pre-committed next one) and its contract
/// seal (a new key, the old one retired), with a new seal mandate for its delegate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RotationEvent {
    /// The firm.
    pub firm: u32,
    /// Day of the rotation.
    pub day: f64,
}

/// What an attacker does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttackKind {
    /// Sends the target proposals from an unverified party, `per_second` of them.
    Flood,
    /// Claims the target's legal name and registration with its own key log and a
    /// self-issued identity attestation, and introduces itself to the target's customers.
    Squat,
}

/// An attacking peer (a node of its own, reached at the remote latency).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Attack {
    /// Flood or squat.
    pub kind: AttackKind,
    /// The firm attacked.
    pub target: u32,
    /// Day the attack starts.
    pub from_day: f64,
    /// How long a flood lasts, days.
    #[serde(default)]
    pub days: f64,
    /// Flood rate, messages per second.
    #[serde(default)]
    pub per_second: f64,
}

/// CPU time a node spends on each step, in microseconds (MODEL.md §9.4 says how measured).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CpuCosts {
    /// Initiator: build and sign a proposal.
    pub propose: u64,
    /// Participant: check a received proposal (signatures, key logs, trust).
    pub receive_proposal: u64,
    /// Participant: intent proof and seal signature.
    pub sign: u64,
    /// Any party: handle another session message (a signature, the completion).
    pub handle_message: u64,
    /// Replay a key event log and check an attestation received in an introduction.
    pub introduction: u64,
    /// A verifier signs an identity attestation (the person-time is `verification_hours`).
    pub attest: u64,
    /// A witness checks a checkpoint and its consistency proof and cosigns it.
    pub cosign: u64,
    /// A firm checks its witness's answer and adds the cosignature to its checkpoint.
    pub witness_answer: u64,
    /// A firm proves one completed session's entries against its cosigned checkpoint and
    /// sends them to the other party (per session).
    pub share_evidence: u64,
    /// A firm checks another party's evidence about a session.
    pub receive_evidence: u64,
}

impl Default for CpuCosts {
    /// Measured on the development machine (2 cores, release build) in the benchmark run
    /// of BENCHMARKS.md §4: mean wall-clock time of each step in `protocol-timing.json`,
    /// scaled by the run's CPU-to-wall ratio (the machine was shared). The evidence steps and
    /// `cosign` (now the witness protocol's whole answer) were measured the same way in a
    /// single-threaded run of its first three months (§4, "evidence exchange"). `attest` is
    /// one Ed25519 signature and an encoding (brief §8: ~20 µs per signature), not measured.
    fn default() -> Self {
        Self {
            propose: 86,
            receive_proposal: 105,
            sign: 108,
            handle_message: 272,
            introduction: 331,
            attest: 40,
            cosign: 111,
            witness_answer: 45,
            share_evidence: 111,
            receive_evidence: 129,
        }
    }
}

/// The `[protocol]` table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProtocolParams {
    /// Who takes part: as the adoption model decides, or everyone.
    pub adoption: Adoption,
    /// Deployment models to run (default: the model's). The protocol is the same; what
    /// differs is who verifies whom and whom each firm trusts (MODEL.md §9.2).
    pub deployments: Option<Vec<Deployment>>,
    /// Steps (months) to simulate (default: the scenario's `steps`).
    pub steps: Option<u32>,
    /// Runs (default 1; each run uses the adoption model's run of the same index).
    pub runs: u32,
    /// Verifier (CA) nodes in the federated model; firms go to the verifier of their
    /// community (community mod verifiers).
    pub verifiers: u32,
    /// Witness nodes; each firm's evidence log is cosigned by witness (firm mod witnesses).
    pub witnesses: u32,
    /// Person-time of one real-name verification, hours (the verifier's answer waits this
    /// long after the request arrives).
    pub verification_hours: f64,
    /// Mean time a participant's delegate takes to sign after the proposal arrives, hours
    /// (exponentially distributed).
    pub signing_hours: f64,
    /// One-way latency between firms in the same community, milliseconds.
    pub local_latency_ms: f64,
    /// One-way latency between communities (and to verifiers and witnesses), milliseconds.
    pub remote_latency_ms: f64,
    /// Each node's uplink, megabits per second: a message occupies the sender's link for
    /// size / bandwidth.
    pub bandwidth_mbps: f64,
    /// Probability that one transmission is lost.
    pub loss: f64,
    /// The sender retransmits a lost message after this many milliseconds.
    pub retransmit_ms: f64,
    /// Give up on a message after this many transmissions.
    pub max_transmissions: u32,
    /// A firm checkpoints its evidence log and has it cosigned at most this often, days.
    pub checkpoint_days: f64,
    /// Assemble and verify offline the bundle of every this many-th completed contract
    /// (0: never).
    pub bundle_every: u64,
    /// Witness cosignatures each proposal requires of each party's evidence (the witnesses
    /// of both parties are named; each party's log is cosigned by its own, so 0 or 1).
    /// Parties exchange their evidence once a cosigned checkpoint covers the session
    /// (MODEL.md §9.1 step 5).
    pub session_cosignatures: u16,
    /// Bound on events pending at once; a run that needs more stops with an error.
    pub max_pending_events: usize,
    /// CPU time per step.
    pub cpu_us: CpuCosts,
    /// Nodes offline for a while.
    pub outages: Vec<Outage>,
    /// Network partitions.
    pub partitions: Vec<Partition>,
    /// Identity revocations.
    pub revocations: Vec<RevocationEvent>,
    /// Key rotations.
    pub rotations: Vec<RotationEvent>,
    /// Attackers.
    pub attacks: Vec<Attack>,
}

impl Default for ProtocolParams {
    fn default() -> Self {
        Self {
            adoption: Adoption::Model,
            deployments: None,
            steps: None,
            runs: 1,
            verifiers: 2,
            witnesses: 2,
            verification_hours: 24.0,
            signing_hours: 4.0,
            local_latency_ms: 10.0,
            remote_latency_ms: 40.0,
            bandwidth_mbps: 10.0,
            loss: 0.0,
            retransmit_ms: 2_000.0,
            max_transmissions: 20,
            checkpoint_days: 30.0,
            bundle_every: 1_000,
            session_cosignatures: 1,
            max_pending_events: 20_000_000,
            cpu_us: CpuCosts::default(),
            outages: Vec::new(),
            partitions: Vec::new(),
            revocations: Vec::new(),
            rotations: Vec::new(),
            attacks: Vec::new(),
        }
    }
}

impl ProtocolParams {
    /// Checks ranges against a network of `firms` firms.
    pub fn check(&self, firms: usize) -> Result<(), ScenarioError> {
        let bad = |name: &str, reason: &str| {
            Err(ScenarioError::Invalid {
                name: format!("protocol.{name}"),
                reason: reason.to_owned(),
            })
        };
        let finite_nonneg = |x: f64| x.is_finite() && x >= 0.0;
        if self.runs == 0 {
            return bad("runs", "must be at least 1");
        }
        if self.verifiers == 0 || self.verifiers > 1_000 {
            return bad("verifiers", "must be in 1..=1000");
        }
        if self.witnesses == 0 || self.witnesses > 1_000 {
            return bad("witnesses", "must be in 1..=1000");
        }
        if self.deployments.as_ref().is_some_and(Vec::is_empty) {
            return bad("deployments", "list at least one deployment model");
        }
        for (name, x) in [
            ("verification_hours", self.verification_hours),
            ("signing_hours", self.signing_hours),
            ("local_latency_ms", self.local_latency_ms),
            ("remote_latency_ms", self.remote_latency_ms),
            ("retransmit_ms", self.retransmit_ms),
            ("checkpoint_days", self.checkpoint_days),
        ] {
            if !finite_nonneg(x) {
                return bad(name, "must be finite and >= 0");
            }
        }
        if !(self.bandwidth_mbps.is_finite() && self.bandwidth_mbps > 0.0) {
            return bad("bandwidth_mbps", "must be > 0");
        }
        if !(0.0..1.0).contains(&self.loss) {
            return bad("loss", "must be in [0, 1)");
        }
        if self.session_cosignatures > 1 {
            return bad(
                "session_cosignatures",
                "each party's log is cosigned by one witness: 0 or 1",
            );
        }
        if self.max_transmissions == 0 {
            return bad("max_transmissions", "must be at least 1");
        }
        if self.max_pending_events < 1_000 {
            return bad("max_pending_events", "must be at least 1000");
        }
        let firm_ok = |f: u32| (f as usize) < firms;
        for o in &self.outages {
            if !firm_ok(o.firm) {
                return bad("outages.firm", "no such firm in the network");
            }
            if !finite_nonneg(o.from_day) || !finite_nonneg(o.days) {
                return bad("outages", "days must be finite and >= 0");
            }
        }
        for p in &self.partitions {
            if p.communities.is_empty() {
                return bad("partitions.communities", "list at least one community");
            }
            if !finite_nonneg(p.from_day) || !finite_nonneg(p.days) {
                return bad("partitions", "days must be finite and >= 0");
            }
        }
        for r in &self.revocations {
            if !firm_ok(r.firm) {
                return bad("revocations.firm", "no such firm in the network");
            }
            if !finite_nonneg(r.day) {
                return bad("revocations.day", "must be finite and >= 0");
            }
        }
        for a in &self.attacks {
            if !firm_ok(a.target) {
                return bad("attacks.target", "no such firm in the network");
            }
            if !finite_nonneg(a.from_day) || !finite_nonneg(a.days) {
                return bad("attacks", "days must be finite and >= 0");
            }
            if a.kind == AttackKind::Flood
                && !(a.per_second.is_finite() && a.per_second > 0.0 && a.per_second <= 10_000.0)
            {
                return bad("attacks.per_second", "a flood needs a rate in (0, 10000]");
            }
        }
        for r in &self.rotations {
            if !firm_ok(r.firm) {
                return bad("rotations.firm", "no such firm in the network");
            }
            if !finite_nonneg(r.day) {
                return bad("rotations.day", "must be finite and >= 0");
            }
        }
        Ok(())
    }
}
