//! What a protocol-in-the-loop run measured, by tier and deployment model, and the abstract
//! model's counts for the same run beside them.

use std::collections::BTreeMap;
use std::time::Instant;

use serde::Serialize;
use signet_protocol::bundle::{Outcome, Report};

use crate::adoption::{RunTotals, Trace};

/// Messages and bytes of one kind of traffic (every transmission counted).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Traffic {
    /// Transmissions.
    pub messages: u64,
    /// Bytes over all transmissions.
    pub bytes: u64,
}

impl Traffic {
    pub(super) fn add(&mut self, bytes: u64) {
        self.messages += 1;
        self.bytes += bytes;
    }
}

/// Traffic that is not one contract's session.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Overhead {
    /// Verification requests and identity attestations.
    pub onboarding: Traffic,
    /// Introductions between counterparties (key logs, mandates, identity attestations).
    pub introduction: Traffic,
    /// Checkpoints to witnesses and their cosignatures.
    pub checkpoint: Traffic,
    /// Revocations gossiped by verifiers.
    pub revocation: Traffic,
    /// Key event log updates after rotations.
    pub rotation: Traffic,
    /// Attackers' messages.
    pub attack: Traffic,
}

/// Per tier (contracts by the buyer's tier, verifications by the verified firm's tier).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TierMeasures {
    /// Contracts due in the run.
    pub contracts: u64,
    /// Signed on paper: the relationship does not sign electronically (adoption model).
    pub paper: u64,
    /// Sessions proposed.
    pub started: u64,
    /// Sessions completed: signed electronically, every signature made and verified.
    pub electronic: u64,
    /// Sessions that failed after they were proposed (reasons in `failures`).
    pub failed: u64,
    /// Contracts never proposed because a side refused the other (at the introduction, or
    /// after a revocation).
    pub refused: u64,
    /// Sessions proposed but not completed when the run ended.
    pub in_flight: u64,
    /// Contracts still waiting for their two nodes to be ready when the run ended.
    pub waiting_at_end: u64,
    /// Session messages (transmissions).
    pub session_messages: u64,
    /// Session bytes (transmissions).
    pub session_bytes: u64,
    /// Identity attestations issued by verifiers about firms of this tier.
    pub verifications_performed: u64,
    /// Buyers that accepted a supplier of this tier on an identity attestation another
    /// buyer had relied on before: a verification avoided by reuse.
    pub verifications_avoided: u64,
    /// Buyers that were the first to rely on a supplier's identity attestation.
    pub verifications_first_use: u64,
    /// Arrival-to-completion times, microseconds (not serialised; see the quantiles).
    #[serde(skip)]
    pub completion_us: Vec<u64>,
    /// Completion time quantiles in hours: p50, p95, p99 (None without completions).
    pub completion_hours: Option<[f64; 3]>,
}

/// One witness's load.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct WitnessLoad {
    /// Checkpoints cosigned.
    pub cosignatures: u64,
    /// Checkpoints refused.
    pub refused: u64,
    /// Bytes received (notes and consistency proofs).
    pub bytes_received: u64,
}

/// Bundles assembled and verified offline: for every `bundle_every`-th completed contract,
/// each party assembles and verifies its own bundle once its session holds every party's
/// evidence, or when the run ends.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Bundles {
    /// Bundles assembled.
    pub assembled: u64,
    /// Mean size, bytes.
    pub mean_bytes: f64,
    /// Largest, bytes.
    pub max_bytes: u64,
    /// Reports by outcome: valid, indeterminate, invalid.
    pub valid: u64,
    /// Indeterminate reports.
    pub indeterminate: u64,
    /// Invalid reports.
    pub invalid: u64,
    /// Checks that did not pass, by name, over all sampled bundles.
    pub failed_checks: BTreeMap<String, u64>,
    /// Indeterminate reports by why: the evidence that was missing and why it was (known
    /// to the simulator, not to the verifier), or else the checks that did not pass.
    pub indeterminate_reasons: BTreeMap<String, u64>,
    /// Sampled contracts whose party had not completed the session when the run ended, so
    /// it had no bundle to assemble.
    pub not_completed: u64,
    #[serde(skip)]
    total_bytes: u64,
}

impl Bundles {
    /// Counts one verified bundle; `missing` says which evidence the session lacked and
    /// why, if any did.
    pub(super) fn add(&mut self, bytes: u64, report: &Report, missing: Option<&str>) {
        let outcome = report.outcome;
        let mut failed: Vec<&str> = Vec::new();
        for check in report.failures() {
            *self
                .failed_checks
                .entry(check.name.to_string())
                .or_insert(0) += 1;
            if !failed.contains(&check.name) {
                failed.push(check.name);
            }
        }
        self.assembled += 1;
        self.total_bytes += bytes;
        self.max_bytes = self.max_bytes.max(bytes);
        self.mean_bytes = self.total_bytes as f64 / self.assembled as f64;
        match outcome {
            Outcome::Valid => self.valid += 1,
            Outcome::Indeterminate => {
                self.indeterminate += 1;
                let reason = match missing {
                    Some(m) => m.to_string(),
                    None => format!("failed checks: {}", failed.join(", ")),
                };
                *self.indeterminate_reasons.entry(reason).or_insert(0) += 1;
            }
            Outcome::Invalid => self.invalid += 1,
        }
    }
}

/// Per-session evidence exchange (MODEL.md §9.1 step 5).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct EvidenceExchange {
    /// Cosigned checkpoints: a firm checked its witness's cosignature and added it.
    pub cosigned_checkpoints: u64,
    /// Evidence messages a party sent about a completed session (its entries proven
    /// against a cosigned checkpoint); counted in the session messages too.
    pub shared: u64,
    /// Evidence messages the other party's session accepted (refusals are failures).
    pub received: u64,
    /// Parties whose session came to hold every party's evidence.
    pub complete: u64,
    /// Parties with a completed session whose evidence they had not shared when the run
    /// ended (no cosigned checkpoint covered it yet).
    pub unshared_at_end: u64,
    /// Parties with a completed session still missing another party's evidence when the
    /// run ended.
    pub incomplete_at_end: u64,
}

/// One revocation: how fast the subject's counterparties stopped signing with it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RevocationReport {
    /// The firm revoked.
    pub subject: u32,
    /// When, microseconds of virtual time.
    pub issued: u64,
    /// Whether any verifier had attested it (otherwise nothing to revoke).
    pub attested: bool,
    /// Per counterparty it was introduced to: seconds until it refused the subject (None:
    /// it never learned within the run).
    #[serde(serialize_with = "seconds_map")]
    pub counterparties: BTreeMap<u32, Option<u64>>,
    /// Seconds until every counterparty had stopped (None if some never did).
    pub all_stopped_seconds: Option<f64>,
}

fn seconds_map<S: serde::Serializer>(
    map: &BTreeMap<u32, Option<u64>>,
    s: S,
) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let mut out = s.serialize_map(Some(map.len()))?;
    for (k, v) in map {
        out.serialize_entry(&k.to_string(), &v.map(|us| us as f64 / 1e6))?;
    }
    out.end()
}

impl RevocationReport {
    pub(super) fn new(subject: u32, issued: u64) -> Self {
        Self {
            subject,
            issued,
            attested: true,
            counterparties: BTreeMap::new(),
            all_stopped_seconds: None,
        }
    }

    pub(super) fn not_attested(subject: u32, issued: u64) -> Self {
        Self {
            attested: false,
            ..Self::new(subject, issued)
        }
    }
}

/// One key rotation: when each counterparty had the new key log and mandate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RotationReport {
    /// The firm that rotated.
    pub firm: u32,
    /// When, microseconds of virtual time.
    pub at: u64,
    /// Whether the firm ran a node then (otherwise nothing rotated).
    pub rotated: bool,
    /// Per counterparty it had been introduced to: seconds until it held the new log.
    #[serde(serialize_with = "seconds_map")]
    pub counterparties: BTreeMap<u32, Option<u64>>,
    /// Seconds until every counterparty held it (None if some never did).
    pub all_updated_seconds: Option<f64>,
}

/// What one attacker achieved.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AttackReport {
    /// "flood" or "squat".
    pub kind: String,
    /// The firm attacked.
    pub target: u32,
    /// Messages delivered to their recipients.
    pub delivered: u64,
    /// Refused by the recipient's protocol checks, by reason.
    pub refused: BTreeMap<String, u64>,
    /// Accepted: a session opened for a flood proposal, or a counterparty trusting the
    /// squatter. Zero is the protocol holding.
    pub accepted: u64,
    /// CPU time the recipients spent on the attacker's messages, microseconds.
    pub victim_cpu_us: u64,
}

/// The abstract model's counts over the same steps of the same run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AbstractCounts {
    /// Contracts signed electronically.
    pub contracts_electronic: u64,
    /// Verifications performed.
    pub verifications_performed: u64,
    /// Verifications avoided by reuse.
    pub verifications_avoided: u64,
}

/// Everything one run of one deployment model measured.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Measures {
    /// Firms whose node was installed.
    pub firms_onboarded: u64,
    /// Per tier.
    pub tiers: Vec<TierMeasures>,
    /// Non-session traffic.
    pub overhead: Overhead,
    /// Per witness.
    pub witnesses: Vec<WitnessLoad>,
    /// Checkpoints sent to witnesses.
    pub checkpoints: u64,
    /// Trust evaluations made (introductions, revocations).
    pub trust_evaluations: u64,
    /// Extra transmissions (loss, unreachable recipients).
    pub retransmissions: u64,
    /// Messages given up after `max_transmissions`.
    pub lost_messages: u64,
    /// Failures by reason.
    pub failures: BTreeMap<String, u64>,
    /// Per-session evidence exchange.
    pub evidence: EvidenceExchange,
    /// Bundles.
    pub bundles: Bundles,
    /// Revocations.
    pub revocations: Vec<RevocationReport>,
    /// Key rotations.
    pub rotations: Vec<RotationReport>,
    /// Attacks.
    pub attacks: Vec<AttackReport>,
    /// Contracts completed.
    pub completed: u64,
    /// Events processed by the scheduler.
    pub events: u64,
    /// Most events pending at once.
    pub peak_pending_events: u64,
    /// The abstract model's counts for the same run (adoption = "model").
    pub abstract_counts: Option<AbstractCounts>,
}

impl Measures {
    pub(super) fn new(tiers: usize, witnesses: usize) -> Self {
        Self {
            firms_onboarded: 0,
            tiers: vec![TierMeasures::default(); tiers],
            overhead: Overhead::default(),
            witnesses: vec![WitnessLoad::default(); witnesses],
            checkpoints: 0,
            trust_evaluations: 0,
            retransmissions: 0,
            lost_messages: 0,
            failures: BTreeMap::new(),
            evidence: EvidenceExchange::default(),
            bundles: Bundles::default(),
            revocations: Vec::new(),
            rotations: Vec::new(),
            attacks: Vec::new(),
            completed: 0,
            events: 0,
            peak_pending_events: 0,
            abstract_counts: None,
        }
    }

    pub(super) fn fail(&mut self, reason: &str) {
        self.fail_n(reason, 1);
    }

    pub(super) fn fail_n(&mut self, reason: &str, n: u64) {
        if n > 0 {
            *self.failures.entry(reason.to_string()).or_insert(0) += n;
        }
    }

    pub(super) fn set_abstract(&mut self, trace: &Trace) {
        let totals = RunTotals::of(trace);
        self.abstract_counts = Some(AbstractCounts {
            contracts_electronic: totals.contracts_electronic,
            verifications_performed: totals.verifications_performed,
            verifications_avoided: totals.verifications_avoided,
        });
    }

    /// Computes quantiles and revocation summaries; call once at the end.
    pub(super) fn close(&mut self) {
        for t in &mut self.tiers {
            t.completion_us.sort_unstable();
            t.completion_hours = quantiles(&t.completion_us);
        }
        self.close_rotations();
        for r in &mut self.revocations {
            if r.counterparties.is_empty() {
                continue;
            }
            r.all_stopped_seconds = r
                .counterparties
                .values()
                .try_fold(0u64, |acc, v| v.map(|x| acc.max(x)))
                .map(|us| us as f64 / 1e6);
        }
    }

    fn close_rotations(&mut self) {
        for r in &mut self.rotations {
            if r.counterparties.is_empty() {
                continue;
            }
            r.all_updated_seconds = r
                .counterparties
                .values()
                .try_fold(0u64, |acc, v| v.map(|x| acc.max(x)))
                .map(|us| us as f64 / 1e6);
        }
    }

    /// Totals over tiers.
    pub fn total(&self) -> TierMeasures {
        let mut all = TierMeasures::default();
        for t in &self.tiers {
            all.contracts += t.contracts;
            all.paper += t.paper;
            all.started += t.started;
            all.electronic += t.electronic;
            all.failed += t.failed;
            all.refused += t.refused;
            all.in_flight += t.in_flight;
            all.waiting_at_end += t.waiting_at_end;
            all.session_messages += t.session_messages;
            all.session_bytes += t.session_bytes;
            all.verifications_performed += t.verifications_performed;
            all.verifications_avoided += t.verifications_avoided;
            all.verifications_first_use += t.verifications_first_use;
            all.completion_us.extend_from_slice(&t.completion_us);
        }
        all.completion_us.sort_unstable();
        all.completion_hours = quantiles(&all.completion_us);
        all
    }
}

/// Nearest-rank p50, p95, p99 of sorted microseconds, in hours.
fn quantiles(sorted: &[u64]) -> Option<[f64; 3]> {
    if sorted.is_empty() {
        return None;
    }
    let q = |p: f64| {
        let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
        sorted[rank - 1] as f64 / 3.6e9
    };
    Some([q(0.50), q(0.95), q(0.99)])
}

/// Wall-clock costs measured during a run: not deterministic, kept apart from the report.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Timing {
    /// Seconds the run took.
    pub wall_seconds: f64,
    /// Per step kind: (count, total microseconds).
    pub steps: BTreeMap<&'static str, (u64, f64)>,
}

impl Timing {
    pub(super) fn add(&mut self, kind: &'static str, began: Instant) {
        self.add_micros(kind, began.elapsed().as_secs_f64() * 1e6);
    }

    pub(super) fn add_micros(&mut self, kind: &'static str, micros: f64) {
        self.add_n(kind, 1, micros);
    }

    /// Counts `n` steps of `kind` that took `micros` together.
    pub(super) fn add_n(&mut self, kind: &'static str, n: u64, micros: f64) {
        let e = self.steps.entry(kind).or_insert((0, 0.0));
        e.0 += n;
        e.1 += micros;
    }

    /// Mean microseconds per step kind.
    pub fn means(&self) -> BTreeMap<&'static str, f64> {
        self.steps
            .iter()
            .map(|(k, (n, us))| (*k, us / (*n).max(1) as f64))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_quantiles() {
        let hours: Vec<u64> = (1..=100).map(|h| h * 3_600_000_000).collect();
        assert_eq!(quantiles(&hours), Some([50.0, 95.0, 99.0]));
        assert_eq!(quantiles(&[]), None);
    }
}
