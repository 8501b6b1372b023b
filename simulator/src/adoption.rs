//! The e-signature adoption model: firms weigh the cost and benefit of signing electronically
//! under one of three deployment models. `MODEL.md` describes it in the ODD structure; this
//! module is the normative implementation.
//!
//! One [`AdoptionRun`] is one run of one deployment model on one network. It is event-driven:
//! a step touches only firms that adopt, their neighbours, and the queue of firms whose
//! decision is made but not yet carried out; per-tier totals are kept incrementally, so a step
//! costs O(new adopters × degree + pending) rather than O(firms + edges).
//!
//! The step is split into phases (draw decisions → apply adoptions → account contracts and
//! costs) so that a later protocol-in-the-loop mode can replace "apply" and "account" with the
//! real per-firm protocol state machines without touching the decision rules.

use rand_chacha::ChaCha20Rng;
use serde::{Deserialize, Serialize};

use crate::error::ScenarioError;
use crate::network::Network;
use crate::rng::{bernoulli, derive_rng, geometric_skip};

/// How the signing service is deployed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Deployment {
    /// One public platform; firms that must keep data local refuse it.
    Saas,
    /// Each buyer runs its own isolated system; suppliers join each one separately.
    OnPremises,
    /// Signet: every firm runs its own node, all nodes interoperate, verification is reused.
    Federated,
}

impl Deployment {
    /// All three, in report order.
    pub const ALL: [Deployment; 3] = [Self::Saas, Self::OnPremises, Self::Federated];

    /// Name used in files and charts.
    pub fn name(self) -> &'static str {
        match self {
            Self::Saas => "saas",
            Self::OnPremises => "on_premises",
            Self::Federated => "federated",
        }
    }
}

/// Firm size class, derived from the network (see [`AdoptionParams::large_degree`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Size {
    /// Small firm.
    Small = 0,
    /// Medium firm.
    Medium = 1,
    /// Large firm (every brand/OEM in tier 0 is large).
    Large = 2,
}

/// One-off and running costs of a deployment model, by size class `[small, medium, large]`,
/// in currency units (per step for `operating`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeploymentCosts {
    /// One-off cost of adopting (subscription onboarding, installation, integration).
    pub setup: [f64; 3],
    /// Cost per step of keeping it running (subscription, operations).
    pub operating: [f64; 3],
}

/// Parameters of the adoption model. Defaults, units and sources are in `MODEL.md`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AdoptionParams {
    /// Deployment models to compare (each on the same network and seeds).
    pub deployments: Vec<Deployment>,
    /// Steps per year (12: one step is a month).
    pub steps_per_year: u32,
    /// Years over which a firm weighs benefits against costs.
    pub horizon_years: f64,
    /// Cost per contract per side on paper (printing, sealing, courier, archiving).
    pub paper_cost: f64,
    /// Cost per contract per side when signed electronically.
    pub electronic_cost: f64,
    /// Cost of one identity verification (real-name and seal verification, onboarding).
    pub verification_cost: f64,
    /// Share of firms, by size class, that already hold a licensed CA's certificate naming
    /// them (legal name and unified social credit code, issued after the CA's own real-name
    /// verification), which a verification can rest on instead of verifying again.
    pub certificate_share: [f64; 3],
    /// Cost of a verification that rests on such a certificate (checking its chain and
    /// revocation, binding it to the firm's account, node or system).
    pub certificate_verification_cost: f64,
    /// Deployment models whose verifications accept such a certificate.
    pub certificate_deployments: Vec<Deployment>,
    /// Cost per step of keeping one seal set and its accounts in one system.
    pub seal_system_cost: f64,
    /// Spontaneous adoption probability per step (Bass's p, per step).
    pub spontaneous_rate: f64,
    /// Probability per step that a firm that has decided (or been required) to adopt carries it
    /// out; the mean delay is `1 / review_rate` steps.
    pub review_rate: f64,
    /// Degree (customers + suppliers) from which a firm is medium-sized.
    pub medium_degree: u32,
    /// Degree from which a firm is large (tier-0 firms are always large).
    pub large_degree: u32,
    /// Share of state-owned enterprises by size class; SOEs always require local data.
    pub soe_share: [f64; 3],
    /// Share of other firms that require data to stay on premises, by size class.
    pub sovereignty_share: [f64; 3],
    /// A buyer has bargaining power over a supplier when it accounts for at least this share of
    /// the supplier's yearly contracts.
    pub dependency_share: f64,
    /// Share of buyers, by size class, that use their power to require suppliers to adopt.
    pub mandate_share: [f64; 3],
    /// Public SaaS costs.
    pub saas: DeploymentCosts,
    /// Isolated on-premises costs (per buyer system).
    pub on_premises: DeploymentCosts,
    /// Federated (Signet node) costs.
    pub federated: DeploymentCosts,
}

impl Default for AdoptionParams {
    fn default() -> Self {
        Self {
            deployments: Deployment::ALL.to_vec(),
            steps_per_year: 12,
            horizon_years: 3.0,
            paper_cost: 60.0,
            electronic_cost: 15.0,
            verification_cost: 600.0,
            certificate_share: [0.0; 3],
            certificate_verification_cost: 50.0,
            certificate_deployments: Deployment::ALL.to_vec(),
            seal_system_cost: 40.0,
            spontaneous_rate: 0.002,
            review_rate: 0.15,
            medium_degree: 10,
            large_degree: 50,
            soe_share: [0.02, 0.10, 0.35],
            sovereignty_share: [0.05, 0.30, 0.70],
            dependency_share: 0.3,
            mandate_share: [0.0, 0.2, 0.6],
            saas: DeploymentCosts {
                setup: [500.0, 2_000.0, 10_000.0],
                operating: [50.0, 300.0, 3_000.0],
            },
            on_premises: DeploymentCosts {
                setup: [20_000.0, 150_000.0, 800_000.0],
                operating: [500.0, 3_000.0, 15_000.0],
            },
            federated: DeploymentCosts {
                setup: [3_000.0, 20_000.0, 100_000.0],
                operating: [100.0, 800.0, 4_000.0],
            },
        }
    }
}

impl AdoptionParams {
    /// Checks ranges; the scenario loader calls it.
    pub fn check(&self) -> Result<(), ScenarioError> {
        let bad = |name: &str, reason: &str| {
            Err(ScenarioError::Invalid {
                name: format!("model.{name}"),
                reason: reason.to_owned(),
            })
        };
        let probability = |x: f64| (0.0..=1.0).contains(&x);
        if self.deployments.is_empty() {
            return bad("deployments", "list at least one deployment model");
        }
        if self.steps_per_year == 0 || self.steps_per_year > 10_000 {
            return bad("steps_per_year", "must be in 1..=10000");
        }
        if !(self.horizon_years.is_finite() && self.horizon_years > 0.0) {
            return bad("horizon_years", "must be > 0");
        }
        for (name, x) in [
            ("spontaneous_rate", self.spontaneous_rate),
            ("review_rate", self.review_rate),
            ("dependency_share", self.dependency_share),
        ] {
            if !probability(x) {
                return bad(name, "must be in [0, 1]");
            }
        }
        for (name, xs) in [
            ("soe_share", self.soe_share),
            ("sovereignty_share", self.sovereignty_share),
            ("mandate_share", self.mandate_share),
            ("certificate_share", self.certificate_share),
        ] {
            if !xs.iter().all(|&x| probability(x)) {
                return bad(name, "every entry must be in [0, 1]");
            }
        }
        let costs = [
            self.paper_cost,
            self.electronic_cost,
            self.verification_cost,
            self.certificate_verification_cost,
            self.seal_system_cost,
        ];
        let deployment_costs = [&self.saas, &self.on_premises, &self.federated]
            .into_iter()
            .flat_map(|c| c.setup.into_iter().chain(c.operating));
        if !costs
            .into_iter()
            .chain(deployment_costs)
            .all(|c| c.is_finite() && c >= 0.0)
        {
            return bad("costs", "every cost must be finite and >= 0");
        }
        Ok(())
    }

    fn costs(&self, deployment: Deployment) -> &DeploymentCosts {
        match deployment {
            Deployment::Saas => &self.saas,
            Deployment::OnPremises => &self.on_premises,
            Deployment::Federated => &self.federated,
        }
    }

    /// Cost of verifying a firm (holding a CA certificate or not) under `deployment`.
    fn verification_cost_of(&self, certified: bool, deployment: Deployment) -> f64 {
        if self.rests_on_certificate(certified, deployment) {
            self.certificate_verification_cost
        } else {
            self.verification_cost
        }
    }

    /// Whether verifying a firm (holding a CA certificate or not) under `deployment` rests on
    /// its certificate.
    fn rests_on_certificate(&self, certified: bool, deployment: Deployment) -> bool {
        certified && self.certificate_deployments.contains(&deployment)
    }

    fn horizon_steps(&self) -> f64 {
        self.horizon_years * f64::from(self.steps_per_year)
    }

    /// Smallest yearly contract volume with electronic-capable counterparties whose saving
    /// over the horizon covers `cost`; `u64::MAX` if saving per contract is not positive.
    fn volume_threshold(&self, cost: f64) -> u64 {
        let saving = self.paper_cost - self.electronic_cost;
        if saving <= 0.0 {
            return u64::MAX;
        }
        let per_year_value = saving * self.horizon_years;
        let v = (cost / per_year_value).ceil();
        if v >= u64::MAX as f64 {
            u64::MAX
        } else {
            v.max(0.0) as u64
        }
    }
}

/// Static attributes of the firms in one run (drawn once per run, shared by all deployment
/// models so they are compared on the same firms).
#[derive(Debug, Clone)]
pub struct Firms {
    /// Size class.
    pub size: Vec<Size>,
    /// State-owned.
    pub soe: Vec<bool>,
    /// Requires contracts, certificates and seals to stay on premises.
    pub sovereign: Vec<bool>,
    /// Uses its bargaining power to require suppliers to adopt.
    pub mandates: Vec<bool>,
    /// Per edge: the buyer has bargaining power over the supplier.
    pub power: Vec<bool>,
    /// Holds a licensed CA's certificate naming it (`certificate_share`).
    pub certified: Vec<bool>,
}

impl Firms {
    /// Draws firm attributes for one run from the `"attributes"` stream.
    pub fn draw(net: &Network, params: &AdoptionParams, master_seed: u64, indices: &[u64]) -> Self {
        let mut rng = derive_rng(master_seed, "attributes", indices);
        let n = net.len();
        let tiers = net.tiers();
        let mut size = Vec::with_capacity(n);
        let mut soe = Vec::with_capacity(n);
        let mut sovereign = Vec::with_capacity(n);
        let mut mandates = Vec::with_capacity(n);
        for (i, &tier) in tiers.iter().enumerate() {
            let d = net.degree(i) as u64;
            let s = if tier == 0 || d >= u64::from(params.large_degree) {
                Size::Large
            } else if d >= u64::from(params.medium_degree) {
                Size::Medium
            } else {
                Size::Small
            };
            let is_soe = bernoulli(&mut rng, params.soe_share[s as usize]);
            let local = bernoulli(&mut rng, params.sovereignty_share[s as usize]);
            let mandate = bernoulli(&mut rng, params.mandate_share[s as usize]);
            size.push(s);
            soe.push(is_soe);
            sovereign.push(is_soe || local);
            mandates.push(mandate);
        }
        // Power: the buyer's share of the supplier's yearly contracts.
        let mut sales = vec![0u64; n];
        for e in net.edges() {
            sales[e.supplier as usize] += u64::from(e.volume);
        }
        let power = net
            .edges()
            .iter()
            .map(|e| {
                let total = sales[e.supplier as usize] as f64;
                total > 0.0 && f64::from(e.volume) >= params.dependency_share * total
            })
            .collect();
        // A stream of its own, so that scenarios without certificates draw exactly what they
        // drew before this attribute existed.
        let mut rng = derive_rng(master_seed, "certificates", indices);
        let certified = size
            .iter()
            .map(|&s| bernoulli(&mut rng, params.certificate_share[s as usize]))
            .collect();
        Self {
            size,
            soe,
            sovereign,
            mandates,
            power,
            certified,
        }
    }
}

/// The static part of every firm's decision under one deployment model (MODEL.md §7.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecisionRules {
    /// Yearly contract volume with electronic-capable counterparties at which adopting pays.
    pub threshold: Vec<u64>,
    /// Volume a buyer counts on without waiting for anyone: suppliers it will require to adopt
    /// (SaaS, federated) or that will join its system (on-premises).
    pub anticipated: Vec<u64>,
    /// On-premises, per edge: the supplier joins once the buyer runs a system (empty otherwise).
    pub would_join: Vec<bool>,
    /// Firms that refuse the deployment model (SaaS: data-sovereign firms).
    pub blocked: Vec<bool>,
}

impl DecisionRules {
    /// Computes the rules for `deployment`.
    pub fn new(
        net: &Network,
        params: &AdoptionParams,
        firms: &Firms,
        deployment: Deployment,
    ) -> Self {
        let n = net.len();
        let h = params.horizon_steps();
        let costs = params.costs(deployment);
        let blocked: Vec<bool> = match deployment {
            Deployment::Saas => firms.sovereign.clone(),
            _ => vec![false; n],
        };
        // A supplier joining one buyer's system: verified by that buyer, one seal set more.
        let join_threshold = |supplier: usize| {
            let verification = params.verification_cost_of(firms.certified[supplier], deployment);
            params.volume_threshold(verification + params.seal_system_cost * h)
        };
        let would_join: Vec<bool> = match deployment {
            Deployment::OnPremises => net
                .edges()
                .iter()
                .enumerate()
                .map(|(e, edge)| {
                    (firms.power[e] && firms.mandates[edge.buyer as usize])
                        || u64::from(edge.volume) >= join_threshold(edge.supplier as usize)
                })
                .collect(),
            _ => Vec::new(),
        };
        let mut threshold = Vec::with_capacity(n);
        let mut anticipated = vec![0u64; n];
        for i in 0..n {
            let s = firms.size[i] as usize;
            let cost = match deployment {
                Deployment::OnPremises => {
                    costs.setup[s] + (costs.operating[s] + params.seal_system_cost) * h
                }
                _ => {
                    costs.setup[s]
                        + params.verification_cost_of(firms.certified[i], deployment)
                        + (costs.operating[s] + params.seal_system_cost) * h
                }
            };
            threshold.push(params.volume_threshold(cost));
            for &e in net.supplier_edges(i) {
                let e = e as usize;
                let edge = net.edges()[e];
                let counts = match deployment {
                    Deployment::OnPremises => would_join[e],
                    _ => firms.power[e] && firms.mandates[i] && !blocked[edge.supplier as usize],
                };
                if counts {
                    anticipated[i] += u64::from(edge.volume);
                }
            }
        }
        Self {
            threshold,
            anticipated,
            would_join,
            blocked,
        }
    }
}

/// Counters for one tier in one step. Contracts are attributed to the buyer's tier;
/// verifications and seal systems to the verified or holding firm's tier; costs to the firm
/// that bears them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct TierStep {
    /// Firms that have adopted (SaaS, federated: joined or run a node; on-premises: run a
    /// system or joined at least one buyer's system).
    pub adopters: u64,
    /// Contracts signed electronically in this step.
    pub contracts_electronic: u64,
    /// Contracts signed on paper in this step.
    pub contracts_paper: u64,
    /// Identity verifications performed in this step.
    pub verifications_performed: u64,
    /// Verifications a per-counterparty scheme would have performed in this step but reuse
    /// made unnecessary.
    pub verifications_avoided: u64,
    /// Of the verifications performed, those that rested on a CA certificate the firm held.
    pub verifications_by_certificate: u64,
    /// Seal systems held at the end of the step (one seal set per system a firm is in).
    pub seal_systems: u64,
    /// Total cost borne in this step (adoption, verification, operation, seal upkeep, and
    /// contract handling on both sides).
    pub cost: f64,
}

/// Per-step, per-tier history of one run. `steps[t][k]` is step `t + 1`, tier `k`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Trace {
    /// Firms per tier.
    pub tier_sizes: Vec<u64>,
    /// One entry per step, each with one [`TierStep`] per tier.
    pub steps: Vec<Vec<TierStep>>,
}

impl Trace {
    /// Network-wide adopters after each step.
    pub fn total_adopters(&self) -> Vec<u64> {
        self.steps
            .iter()
            .map(|s| s.iter().map(|t| t.adopters).sum())
            .collect()
    }

    /// First step (1-based) at which at least `fraction` of firms (of `tier`, or of all firms
    /// when `tier` is `None`) have adopted.
    pub fn time_to(&self, fraction: f64, tier: Option<usize>) -> Option<u32> {
        let total: u64 = match tier {
            Some(k) => self.tier_sizes.get(k).copied().unwrap_or(0),
            None => self.tier_sizes.iter().sum(),
        };
        if total == 0 {
            return None;
        }
        self.steps
            .iter()
            .position(|s| {
                let a: u64 = match tier {
                    Some(k) => s.get(k).map_or(0, |t| t.adopters),
                    None => s.iter().map(|t| t.adopters).sum(),
                };
                a as f64 >= fraction * total as f64
            })
            .map(|p| p as u32 + 1)
    }
}

/// Contracts on a set of edges in one step, kept as `Σ floor(v/S)` plus a count of edges per
/// remainder `v mod S`, so adding an edge is O(1) and a step's total is O(S).
#[derive(Debug, Clone)]
struct VolumeSum {
    base: u64,
    by_remainder: Vec<u64>,
}

impl VolumeSum {
    fn new(steps_per_year: u32) -> Self {
        Self {
            base: 0,
            by_remainder: vec![0; steps_per_year as usize],
        }
    }

    fn add(&mut self, volume: u32, steps_per_year: u32) {
        self.base += u64::from(volume / steps_per_year);
        self.by_remainder[(volume % steps_per_year) as usize] += 1;
    }

    /// Contracts in step `t` (0-based): an edge with yearly volume `v` signs
    /// `floor((t'+1) v / S) − floor(t' v / S)` contracts, `t' = t mod S`, so each year's
    /// contracts are exactly `v`.
    fn in_step(&self, t: u32, steps_per_year: u32) -> u64 {
        let s = u64::from(steps_per_year);
        let phase = u64::from(t % steps_per_year);
        let mut total = self.base;
        for (r, &count) in self.by_remainder.iter().enumerate() {
            if count > 0 {
                let r = r as u64;
                total += count * (((phase + 1) * r) / s - (phase * r) / s);
            }
        }
        total
    }
}

/// One run of the adoption model under one deployment model.
#[derive(Debug)]
pub struct AdoptionRun<'a> {
    net: &'a Network,
    params: &'a AdoptionParams,
    firms: &'a Firms,
    deployment: Deployment,
    rng: ChaCha20Rng,
    step: u32,
    /// SaaS/federated: joined. On-premises: runs its own system.
    adopted: Vec<bool>,
    /// Counted as an adopter (on-premises: also joined at least one system).
    counted: Vec<bool>,
    blocked: Vec<bool>,
    pending: Vec<bool>,
    pending_list: Vec<u32>,
    gain: Vec<u64>,
    threshold: Vec<u64>,
    anticipated: Vec<u64>,
    electronic: Vec<bool>,
    would_join: Vec<bool>,
    join_pending: Vec<u32>,
    systems: Vec<u32>,
    supplier_electronic: Vec<u32>,
    tier_sizes: Vec<u64>,
    adopters: Vec<u64>,
    operating_firms: Vec<[u64; 3]>,
    seal_systems: Vec<u64>,
    all_by_buyer: Vec<VolumeSum>,
    all_by_supplier: Vec<VolumeSum>,
    e_by_buyer: Vec<VolumeSum>,
    e_by_supplier: Vec<VolumeSum>,
    step_one_off: Vec<f64>,
    step_performed: Vec<u64>,
    step_avoided: Vec<u64>,
    step_by_certificate: Vec<u64>,
    trace: Trace,
    refusals: u64,
}

impl<'a> AdoptionRun<'a> {
    /// Sets up a run. `rng` drives spontaneous adoption and review delays; pass the same
    /// generator state to every deployment model to compare them on common random numbers.
    pub fn new(
        net: &'a Network,
        params: &'a AdoptionParams,
        firms: &'a Firms,
        deployment: Deployment,
        rng: ChaCha20Rng,
    ) -> Self {
        let n = net.len();
        let tiers = net.tier_count().max(1);
        let spy = params.steps_per_year;
        let mut tier_sizes = vec![0u64; tiers];
        for &t in net.tiers() {
            tier_sizes[t as usize] += 1;
        }
        let mut all_by_buyer = vec![VolumeSum::new(spy); tiers];
        let mut all_by_supplier = vec![VolumeSum::new(spy); tiers];
        for e in net.edges() {
            all_by_buyer[net.tiers()[e.buyer as usize] as usize].add(e.volume, spy);
            all_by_supplier[net.tiers()[e.supplier as usize] as usize].add(e.volume, spy);
        }
        let DecisionRules {
            threshold,
            anticipated,
            would_join,
            blocked,
        } = DecisionRules::new(net, params, firms, deployment);
        let refusals = blocked.iter().filter(|&&b| b).count() as u64;
        let mut run = Self {
            net,
            params,
            firms,
            deployment,
            rng,
            step: 0,
            adopted: vec![false; n],
            counted: vec![false; n],
            blocked,
            pending: vec![false; n],
            pending_list: Vec::new(),
            gain: vec![0; n],
            threshold,
            anticipated,
            electronic: vec![false; net.edge_count()],
            would_join,
            join_pending: Vec::new(),
            systems: vec![0; n],
            supplier_electronic: vec![0; n],
            tier_sizes: tier_sizes.clone(),
            adopters: vec![0; tiers],
            operating_firms: vec![[0; 3]; tiers],
            seal_systems: vec![0; tiers],
            all_by_buyer,
            all_by_supplier,
            e_by_buyer: vec![VolumeSum::new(spy); tiers],
            e_by_supplier: vec![VolumeSum::new(spy); tiers],
            step_one_off: vec![0.0; tiers],
            step_performed: vec![0; tiers],
            step_avoided: vec![0; tiers],
            step_by_certificate: vec![0; tiers],
            trace: Trace {
                tier_sizes,
                steps: Vec::new(),
            },
            refusals,
        };
        for i in 0..n {
            run.consider(i);
        }
        run
    }

    /// The deployment model of this run.
    pub fn deployment(&self) -> Deployment {
        self.deployment
    }

    /// Firms that refuse this deployment model outright (SaaS: data-sovereignty).
    pub fn refusals(&self) -> u64 {
        self.refusals
    }

    /// Whether edge `e` signs electronically now.
    pub fn edge_is_electronic(&self, e: usize) -> bool {
        self.electronic[e]
    }

    /// Whether firm `i` counts as an adopter now.
    pub fn is_adopter(&self, i: usize) -> bool {
        self.counted[i]
    }

    /// Number of seal systems firm `i` holds now.
    pub fn seal_systems_of(&self, i: usize) -> u32 {
        match self.deployment {
            Deployment::OnPremises => self.systems[i] + u32::from(self.adopted[i]),
            _ => u32::from(self.adopted[i]),
        }
    }

    /// The history so far.
    pub fn trace(&self) -> &Trace {
        &self.trace
    }

    /// Ends the run and returns its history.
    pub fn into_trace(self) -> Trace {
        self.trace
    }

    /// Queues firm `i` if its decision rule now says adopt.
    fn consider(&mut self, i: usize) {
        if self.adopted[i] || self.pending[i] || self.blocked[i] {
            return;
        }
        if self.gain[i].saturating_add(self.anticipated[i]) >= self.threshold[i] {
            self.pending[i] = true;
            self.pending_list.push(i as u32);
        }
    }

    /// Runs `steps` steps.
    pub fn run(&mut self, steps: u32) {
        for _ in 0..steps {
            self.advance();
        }
    }

    /// Advances one step: decisions drawn on the state at the start of the step, then applied,
    /// then contracts and costs accounted with the new state.
    pub fn advance(&mut self) {
        let tiers = self.tier_sizes.len();
        self.step_one_off.iter_mut().for_each(|x| *x = 0.0);
        self.step_performed.iter_mut().for_each(|x| *x = 0);
        self.step_avoided.iter_mut().for_each(|x| *x = 0);
        self.step_by_certificate.iter_mut().for_each(|x| *x = 0);

        // Phase 1: draws. On-premises joins queued in earlier steps first.
        let mut joins: Vec<u32> = Vec::new();
        if self.deployment == Deployment::OnPremises {
            let rate = self.params.review_rate;
            let rng = &mut self.rng;
            self.join_pending.retain(|&e| {
                if bernoulli(rng, rate) {
                    joins.push(e);
                    false
                } else {
                    true
                }
            });
        }
        let mut adopting: Vec<u32> = Vec::new();
        let rate = self.params.review_rate;
        {
            let rng = &mut self.rng;
            let pending = &mut self.pending;
            self.pending_list.retain(|&i| {
                if bernoulli(rng, rate) {
                    adopting.push(i);
                    pending[i as usize] = false;
                    false
                } else {
                    true
                }
            });
        }
        // Spontaneous adoption: one Bernoulli(p) trial per firm, visited by geometric skipping;
        // trials of firms that have adopted, are queued or refuse are ignored.
        let n = self.net.len() as u64;
        let mut i = 0u64;
        loop {
            let skip = geometric_skip(&mut self.rng, self.params.spontaneous_rate);
            i = i.saturating_add(skip);
            if i >= n {
                break;
            }
            let f = i as usize;
            // On-premises, adopting means running a system for one's own suppliers; a firm
            // without suppliers has nothing to run one for (it can only join its customers').
            let pointless =
                self.deployment == Deployment::OnPremises && self.net.supplier_degree(f) == 0;
            if !self.adopted[f] && !self.pending[f] && !self.blocked[f] && !pointless {
                self.pending[f] = true; // marks "chosen this step"; cleared when applied
                adopting.push(f as u32);
            }
            i += 1;
        }

        // Phase 2: apply.
        for &e in &joins {
            self.join(e as usize);
        }
        for &f in &adopting {
            self.pending[f as usize] = false;
            self.adopt(f as usize);
        }

        // Phase 3: account.
        let spy = self.params.steps_per_year;
        let t = self.step;
        let costs = self.params.costs(self.deployment);
        let mut row = Vec::with_capacity(tiers);
        for k in 0..tiers {
            let all_b = self.all_by_buyer[k].in_step(t, spy);
            let e_b = self.e_by_buyer[k].in_step(t, spy);
            let all_s = self.all_by_supplier[k].in_step(t, spy);
            let e_s = self.e_by_supplier[k].in_step(t, spy);
            let paper_sides = (all_b - e_b) + (all_s - e_s);
            let electronic_sides = e_b + e_s;
            let operating: f64 = (0..3)
                .map(|s| self.operating_firms[k][s] as f64 * costs.operating[s])
                .sum();
            let cost = self.step_one_off[k]
                + operating
                + self.seal_systems[k] as f64 * self.params.seal_system_cost
                + paper_sides as f64 * self.params.paper_cost
                + electronic_sides as f64 * self.params.electronic_cost;
            row.push(TierStep {
                adopters: self.adopters[k],
                contracts_electronic: e_b,
                contracts_paper: all_b - e_b,
                verifications_performed: self.step_performed[k],
                verifications_avoided: self.step_avoided[k],
                verifications_by_certificate: self.step_by_certificate[k],
                seal_systems: self.seal_systems[k],
                cost,
            });
        }
        self.trace.steps.push(row);
        self.step += 1;
    }

    fn count_adopter(&mut self, i: usize) {
        if !self.counted[i] {
            self.counted[i] = true;
            self.adopters[self.net.tiers()[i] as usize] += 1;
        }
    }

    fn make_electronic(&mut self, e: usize) {
        if self.electronic[e] {
            return;
        }
        self.electronic[e] = true;
        let edge = self.net.edges()[e];
        let spy = self.params.steps_per_year;
        let tb = self.net.tiers()[edge.buyer as usize] as usize;
        let ts = self.net.tiers()[edge.supplier as usize] as usize;
        self.e_by_buyer[tb].add(edge.volume, spy);
        self.e_by_supplier[ts].add(edge.volume, spy);
        let s = edge.supplier as usize;
        self.supplier_electronic[s] += 1;
        if self.deployment != Deployment::OnPremises && self.supplier_electronic[s] > 1 {
            // Under per-counterparty verification this relationship would have needed its own
            // verification of the supplier; reuse made it unnecessary.
            self.step_avoided[ts] += 1;
        }
    }

    fn adopt(&mut self, i: usize) {
        if self.adopted[i] || self.blocked[i] {
            return;
        }
        let params = self.params;
        let costs = params.costs(self.deployment);
        let tier = self.net.tiers()[i] as usize;
        let size = self.firms.size[i] as usize;
        self.adopted[i] = true;
        self.count_adopter(i);
        self.operating_firms[tier][size] += 1;
        self.seal_systems[tier] += 1;
        self.step_one_off[tier] += costs.setup[size];
        let net = self.net;
        match self.deployment {
            Deployment::Saas | Deployment::Federated => {
                self.verify(i);
                for (&j, &e) in net.neighbours(i).iter().zip(net.incident_edges(i)) {
                    let (j, e) = (j as usize, e as usize);
                    self.gain[j] += u64::from(net.edges()[e].volume);
                    if self.adopted[j] {
                        self.make_electronic(e);
                    } else {
                        self.consider(j);
                    }
                }
                if self.firms.mandates[i] {
                    for (&s, &e) in net.suppliers(i).iter().zip(net.supplier_edges(i)) {
                        let s = s as usize;
                        if self.firms.power[e as usize]
                            && !self.adopted[s]
                            && !self.pending[s]
                            && !self.blocked[s]
                        {
                            self.pending[s] = true;
                            self.pending_list.push(s as u32);
                        }
                    }
                }
            }
            Deployment::OnPremises => {
                for &e in net.supplier_edges(i) {
                    if self.would_join[e as usize] {
                        self.join_pending.push(e);
                    }
                }
            }
        }
    }

    /// One identity verification of firm `i`, resting on its CA certificate where it holds
    /// one that this deployment model accepts; counted and paid in its tier.
    fn verify(&mut self, i: usize) {
        let tier = self.net.tiers()[i] as usize;
        let (params, certified) = (self.params, self.firms.certified[i]);
        self.step_performed[tier] += 1;
        self.step_by_certificate[tier] +=
            u64::from(params.rests_on_certificate(certified, self.deployment));
        self.step_one_off[tier] += params.verification_cost_of(certified, self.deployment);
    }

    /// On-premises: the supplier of edge `e` joins the buyer's system.
    fn join(&mut self, e: usize) {
        let edge = self.net.edges()[e];
        let s = edge.supplier as usize;
        let ts = self.net.tiers()[s] as usize;
        self.systems[s] += 1;
        self.seal_systems[ts] += 1;
        self.verify(s);
        self.count_adopter(s);
        self.make_electronic(e);
    }
}

/// Summary numbers of one finished run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunTotals {
    /// Firms that adopted by the end.
    pub final_adopters: u64,
    /// The same as a fraction of all firms.
    pub final_fraction: f64,
    /// First step with at least 50 % adopters.
    pub time_to_50: Option<u32>,
    /// First step with at least 90 % adopters.
    pub time_to_90: Option<u32>,
    /// Contracts signed electronically over the run.
    pub contracts_electronic: u64,
    /// Contracts signed on paper over the run.
    pub contracts_paper: u64,
    /// Verifications performed over the run.
    pub verifications_performed: u64,
    /// Verifications avoided over the run.
    pub verifications_avoided: u64,
    /// Of the verifications performed, those that rested on a CA certificate.
    pub verifications_by_certificate: u64,
    /// Seal systems held at the end.
    pub seal_systems: u64,
    /// Total cost over the run (summed step by step, tier by tier, in that order).
    pub total_cost: f64,
}

impl RunTotals {
    /// Computes the totals of a trace.
    pub fn of(trace: &Trace) -> Self {
        let firms: u64 = trace.tier_sizes.iter().sum();
        let last = trace.steps.last();
        let final_adopters = last.map_or(0, |s| s.iter().map(|t| t.adopters).sum());
        let mut totals = Self {
            final_adopters,
            final_fraction: if firms == 0 {
                0.0
            } else {
                final_adopters as f64 / firms as f64
            },
            time_to_50: trace.time_to(0.5, None),
            time_to_90: trace.time_to(0.9, None),
            contracts_electronic: 0,
            contracts_paper: 0,
            verifications_performed: 0,
            verifications_avoided: 0,
            verifications_by_certificate: 0,
            seal_systems: last.map_or(0, |s| s.iter().map(|t| t.seal_systems).sum()),
            total_cost: 0.0,
        };
        for step in &trace.steps {
            for t in step {
                totals.contracts_electronic += t.contracts_electronic;
                totals.contracts_paper += t.contracts_paper;
                totals.verifications_performed += t.verifications_performed;
                totals.verifications_avoided += t.verifications_avoided;
                totals.verifications_by_certificate += t.verifications_by_certificate;
                totals.total_cost += t.cost;
            }
        }
        totals
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::{TieredParams, tiered};

    fn network(seed: u64) -> Network {
        let mut p = TieredParams::with_tiers(vec![4, 40, 200, 600]);
        p.communities = 2;
        tiered(&p, &mut derive_rng(seed, "network", &[0])).unwrap()
    }

    fn brute_contracts(
        net: &Network,
        t: u32,
        spy: u32,
        filter: impl Fn(usize) -> bool,
    ) -> Vec<u64> {
        let mut out = vec![0u64; net.tier_count()];
        let phase = u64::from(t % spy);
        for (e, edge) in net.edges().iter().enumerate() {
            if filter(e) {
                let v = u64::from(edge.volume);
                let s = u64::from(spy);
                out[net.tiers()[edge.buyer as usize] as usize] +=
                    ((phase + 1) * v) / s - (phase * v) / s;
            }
        }
        out
    }

    #[test]
    fn every_contract_counted_once_each_step() {
        let net = network(1);
        let params = AdoptionParams {
            spontaneous_rate: 0.02,
            ..AdoptionParams::default()
        };
        let firms = Firms::draw(&net, &params, 1, &[0]);
        for d in Deployment::ALL {
            let mut run =
                AdoptionRun::new(&net, &params, &firms, d, derive_rng(1, "dynamics", &[0]));
            for t in 0..30 {
                run.advance();
                let row = &run.trace().steps[t as usize];
                let all = brute_contracts(&net, t, 12, |_| true);
                let electronic = brute_contracts(&net, t, 12, |e| run.edge_is_electronic(e));
                for k in 0..net.tier_count() {
                    assert_eq!(row[k].contracts_electronic + row[k].contracts_paper, all[k]);
                    assert_eq!(
                        row[k].contracts_electronic, electronic[k],
                        "{d:?} t={t} k={k}"
                    );
                }
                // Electronic only when both sides can.
                for (e, edge) in net.edges().iter().enumerate() {
                    if run.edge_is_electronic(e) {
                        assert!(run.is_adopter(edge.buyer as usize) || d == Deployment::OnPremises);
                        assert!(run.is_adopter(edge.supplier as usize));
                    }
                }
                // Adopter and seal counts agree with the firm-level state.
                for k in 0..net.tier_count() {
                    let adopters = (0..net.len())
                        .filter(|&i| net.tiers()[i] as usize == k && run.is_adopter(i))
                        .count() as u64;
                    assert_eq!(row[k].adopters, adopters);
                    let seals: u64 = (0..net.len())
                        .filter(|&i| net.tiers()[i] as usize == k)
                        .map(|i| u64::from(run.seal_systems_of(i)))
                        .sum();
                    assert_eq!(row[k].seal_systems, seals);
                }
            }
        }
    }

    #[test]
    fn yearly_contracts_equal_volume() {
        let net = network(2);
        let params = AdoptionParams::default();
        let firms = Firms::draw(&net, &params, 2, &[0]);
        let mut run = AdoptionRun::new(
            &net,
            &params,
            &firms,
            Deployment::Federated,
            derive_rng(2, "d", &[]),
        );
        run.run(24);
        let totals = RunTotals::of(run.trace());
        let volume: u64 = net.edges().iter().map(|e| u64::from(e.volume)).sum();
        assert_eq!(
            totals.contracts_electronic + totals.contracts_paper,
            2 * volume
        );
    }

    #[test]
    fn saas_refusers_never_adopt_and_federated_beats_isolated() {
        let net = network(3);
        let params = AdoptionParams::default();
        let firms = Firms::draw(&net, &params, 3, &[0]);
        let mut finals = Vec::new();
        for d in Deployment::ALL {
            let mut run = AdoptionRun::new(&net, &params, &firms, d, derive_rng(3, "d", &[]));
            run.run(120);
            if d == Deployment::Saas {
                for i in 0..net.len() {
                    if firms.sovereign[i] {
                        assert!(!run.is_adopter(i));
                    }
                }
            }
            finals.push(RunTotals::of(run.trace()));
        }
        // Reuse: on-premises performs one verification per relationship, never avoids any.
        assert_eq!(finals[1].verifications_avoided, 0);
        assert!(finals[2].verifications_avoided > 0);
        assert!(finals[2].contracts_electronic > finals[1].contracts_electronic);
    }

    #[test]
    fn verifications_rest_on_ca_certificates_where_firms_hold_them_and_the_model_accepts_them() {
        let net = network(5);
        let plain = AdoptionParams::default();
        let all_certified = AdoptionParams {
            certificate_share: [1.0; 3],
            certificate_deployments: vec![Deployment::Federated],
            ..AdoptionParams::default()
        };
        let firms = Firms::draw(&net, &plain, 5, &[0]);
        assert!(firms.certified.iter().all(|&c| !c));
        let certified = Firms::draw(&net, &all_certified, 5, &[0]);
        assert!(certified.certified.iter().all(|&c| c));
        // Certificates are drawn from a stream of their own: every other attribute is the same.
        assert_eq!(certified.size, firms.size);
        assert_eq!(certified.sovereign, firms.sovereign);
        assert_eq!(certified.mandates, firms.mandates);
        assert_eq!(certified.power, firms.power);
        let half = AdoptionParams {
            certificate_share: [0.5; 3],
            ..AdoptionParams::default()
        };
        let some = Firms::draw(&net, &half, 5, &[0]).certified;
        let held = some.iter().filter(|&&c| c).count();
        assert!(held > net.len() / 3 && held < 2 * net.len() / 3, "{held}");

        for d in Deployment::ALL {
            let totals = |params: &AdoptionParams, firms: &Firms| {
                let mut run = AdoptionRun::new(&net, params, firms, d, derive_rng(5, "d", &[]));
                run.run(120);
                RunTotals::of(run.trace())
            };
            let before = totals(&plain, &firms);
            let after = totals(&all_certified, &certified);
            assert_eq!(before.verifications_by_certificate, 0, "{d:?}");
            if d == Deployment::Federated {
                // Every verification rests on a certificate, and adopting costs less, so no
                // firm's threshold is higher than without certificates.
                assert!(after.verifications_performed > 0);
                assert_eq!(
                    after.verifications_by_certificate, after.verifications_performed,
                    "{d:?}"
                );
                let rules = |p: &AdoptionParams, f: &Firms| DecisionRules::new(&net, p, f, d);
                let (old, new) = (rules(&plain, &firms), rules(&all_certified, &certified));
                assert!(
                    old.threshold
                        .iter()
                        .zip(&new.threshold)
                        .all(|(o, n)| n <= o)
                );
                assert!(old.threshold.iter().zip(&new.threshold).any(|(o, n)| n < o));
            } else {
                // A model that does not accept the certificates verifies as before: same
                // decisions, same run.
                assert_eq!(after, before, "{d:?}");
            }
        }
    }

    #[test]
    fn no_saving_means_only_spontaneous_and_mandated_adoption() {
        let net = network(4);
        let params = AdoptionParams {
            paper_cost: 10.0,
            electronic_cost: 10.0,
            spontaneous_rate: 0.0,
            mandate_share: [0.0; 3],
            ..AdoptionParams::default()
        };
        let firms = Firms::draw(&net, &params, 4, &[0]);
        for d in Deployment::ALL {
            let mut run = AdoptionRun::new(&net, &params, &firms, d, derive_rng(4, "d", &[]));
            run.run(50);
            assert_eq!(RunTotals::of(run.trace()).final_adopters, 0, "{d:?}");
        }
    }

    #[test]
    fn volume_sum_matches_direct_split() {
        let mut sum = VolumeSum::new(12);
        let volumes = [1u32, 5, 12, 13, 25, 100, 7];
        for v in volumes {
            sum.add(v, 12);
        }
        let mut year = 0;
        for t in 0..12 {
            year += sum.in_step(t, 12);
        }
        assert_eq!(year, volumes.iter().map(|&v| u64::from(v)).sum::<u64>());
    }
}
