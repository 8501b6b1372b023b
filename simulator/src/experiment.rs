//! Running an expanded scenario: networks, runs, deployment models, in parallel, with results
//! in a fixed order.
//!
//! Work is split into tasks (grid point × run, and × deployment model when the network is
//! shared). Tasks run on the current rayon pool and their results are collected by index, so
//! the output does not depend on the number of threads or on scheduling.
//!
//! Seeds (see [`crate::rng`]): the network of run `r` uses stream `"network"` with index `r`
//! when `resample_network` is set and index 0 otherwise; firm attributes use `"attributes"`
//! `[r]`; dynamics use `"dynamics"` `[r]`. The grid point is deliberately *not* part of the
//! seed: every grid point and every deployment model sees the same random numbers (common
//! random numbers), so differences between them are not sampling noise.

use std::path::Path;
use std::sync::Arc;

use rayon::prelude::*;

use crate::adoption::{AdoptionRun, Firms, RunTotals, TierStep, Trace};
use crate::contagion::{bass_agent_discrete, granovetter, watts_run};
use crate::edgelist;
use crate::error::RunError;
use crate::generate::{gnm, gnp, random_regular, ring_lattice, tiered};
use crate::network::Network;
use crate::rng::derive_rng;
use crate::scenario::{Experiment, ModelSpec, NetworkSpec, Scenario};

/// One run of one variant (deployment model or published model) at one grid point.
#[derive(Debug, Clone)]
pub struct RunRecord {
    /// Grid point index.
    pub point: usize,
    /// Run index within the point.
    pub run: u32,
    /// Variant name (`saas`, `on_premises`, `federated`, `watts`, `granovetter`, `bass`).
    pub variant: &'static str,
    /// Per-step, per-tier history.
    pub trace: Trace,
    /// Totals of the trace.
    pub totals: RunTotals,
    /// Whether contract, verification and cost columns are meaningful (adoption model only).
    pub has_contracts: bool,
    /// Number of edges of the network used.
    pub edges: u64,
    /// Firms refusing the deployment model (SaaS: data sovereignty).
    pub refusals: Option<u64>,
    /// Watts's cascade condition `Σ k(k−1)ρ_k p_k / z` on the graph of this run.
    pub watts_condition: Option<f64>,
    /// Watts's analytic probability of a global cascade on the graph of this run
    /// ([`crate::contagion::watts_cascade_probability`]).
    pub watts_cascade_probability: Option<f64>,
}

/// All runs of an experiment, ordered by (point, run, variant).
#[derive(Debug, Clone)]
pub struct ExperimentResult {
    /// The records.
    pub records: Vec<RunRecord>,
}

/// Builds the network described by `spec` for network index `index`.
pub fn build_network(
    spec: &NetworkSpec,
    seed: u64,
    index: u64,
    base_dir: &Path,
) -> Result<Network, RunError> {
    let mut rng = derive_rng(seed, "network", &[index]);
    Ok(match spec {
        NetworkSpec::Tiered(p) => tiered(p, &mut rng)?,
        NetworkSpec::Gnp { n, p, mean_degree } => {
            let p = match (p, mean_degree) {
                (Some(p), _) => *p,
                (None, Some(z)) => {
                    if *n < 2 {
                        0.0
                    } else {
                        (z / (*n as f64 - 1.0)).clamp(0.0, 1.0)
                    }
                }
                (None, None) => 0.0,
            };
            gnp(*n, p, &mut rng)?
        }
        NetworkSpec::Gnm { n, m } => gnm(*n, *m, &mut rng)?,
        NetworkSpec::Regular { n, degree } => random_regular(*n, *degree, &mut rng)?,
        NetworkSpec::Ring { n, k, rewire } => ring_lattice(*n, *k, *rewire, &mut rng)?,
        NetworkSpec::EdgeList { edges, nodes } => {
            let edges = base_dir.join(edges);
            let nodes = nodes.as_ref().map(|n| base_dir.join(n));
            edgelist::read(&edges, nodes.as_deref())?.network
        }
    })
}

/// Number of work units [`run`] will report through its progress callback (one per step of
/// every run of every variant).
pub fn task_count(exp: &Experiment) -> u64 {
    exp.points
        .iter()
        .map(|p| {
            u64::from(p.scenario.runs)
                * variants(&p.scenario).len() as u64
                * u64::from(p.scenario.steps.max(1))
        })
        .sum()
}

fn variants(s: &Scenario) -> Vec<&'static str> {
    match &s.model {
        ModelSpec::Adoption(p) => p.deployments.iter().map(|d| d.name()).collect(),
        other => vec![other.name()],
    }
}

/// The network spec of a scenario whose model uses one.
fn network_of(s: &Scenario) -> Option<&NetworkSpec> {
    match s.model {
        ModelSpec::Adoption(_) | ModelSpec::Watts(_) => s.network.as_ref(),
        ModelSpec::Granovetter(_) | ModelSpec::Bass(_) => None,
    }
}

/// Runs every point, run and variant of `exp` on the current rayon thread pool. `progress`
/// receives increments of finished work units ([`task_count`] in all), from worker threads.
pub fn run(
    exp: &Experiment,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<ExperimentResult, RunError> {
    // Shared networks, one per point unless an earlier point has the same spec and seed.
    let mut shared: Vec<Option<Arc<Network>>> = Vec::with_capacity(exp.points.len());
    for (i, point) in exp.points.iter().enumerate() {
        let s = &point.scenario;
        let Some(spec) = network_of(s) else {
            shared.push(None);
            continue;
        };
        if s.resample_network {
            shared.push(None);
            continue;
        }
        let reuse = exp.points[..i].iter().zip(&shared).find_map(|(q, net)| {
            (q.scenario.network == s.network && q.scenario.seed == s.seed)
                .then(|| net.clone())
                .flatten()
        });
        let net = match reuse {
            Some(net) => net,
            None => Arc::new(build_network(spec, s.seed, 0, &exp.base_dir)?),
        };
        shared.push(Some(net));
    }

    // Tasks: (point, run, variant index or all variants).
    let mut tasks: Vec<(usize, u32, Option<usize>)> = Vec::new();
    for (i, point) in exp.points.iter().enumerate() {
        let v = variants(&point.scenario).len();
        for r in 0..point.scenario.runs {
            if shared[i].is_some() {
                tasks.extend((0..v).map(|k| (i, r, Some(k))));
            } else {
                tasks.push((i, r, None));
            }
        }
    }
    let results: Vec<Result<Vec<RunRecord>, RunError>> = tasks
        .par_iter()
        .map(|&(point, run, variant)| {
            let s = &exp.points[point].scenario;
            let net = match (&shared[point], network_of(s)) {
                (Some(net), _) => Some(net.clone()),
                (None, Some(spec)) => Some(Arc::new(build_network(
                    spec,
                    s.seed,
                    u64::from(run),
                    &exp.base_dir,
                )?)),
                (None, None) => None,
            };
            let records = run_variants(s, point, run, net.as_deref(), variant, progress);
            Ok(records)
        })
        .collect();
    let mut records = Vec::new();
    for r in results {
        records.extend(r?);
    }
    Ok(ExperimentResult { records })
}

fn run_variants(
    s: &Scenario,
    point: usize,
    run: u32,
    net: Option<&Network>,
    only: Option<usize>,
    progress: &(dyn Fn(u64) + Sync),
) -> Vec<RunRecord> {
    let units = u64::from(s.steps.max(1));
    let r = u64::from(run);
    let mut out = Vec::new();
    match (&s.model, net) {
        (ModelSpec::Adoption(params), Some(net)) => {
            let firms = Firms::draw(net, params, s.seed, &[r]);
            for (k, &d) in params.deployments.iter().enumerate() {
                if only.is_some_and(|o| o != k) {
                    continue;
                }
                let mut sim =
                    AdoptionRun::new(net, params, &firms, d, derive_rng(s.seed, "dynamics", &[r]));
                for _ in 0..s.steps {
                    sim.advance();
                    progress(1);
                }
                if s.steps == 0 {
                    progress(1);
                }
                let refusals = sim.refusals();
                let trace = sim.into_trace();
                out.push(RunRecord {
                    point,
                    run,
                    variant: d.name(),
                    totals: RunTotals::of(&trace),
                    trace,
                    has_contracts: true,
                    edges: net.edge_count() as u64,
                    refusals: Some(refusals),
                    watts_condition: None,
                    watts_cascade_probability: None,
                });
            }
        }
        (ModelSpec::Watts(params), Some(net)) => {
            let mut rng = derive_rng(s.seed, "dynamics", &[r]);
            let outcome = watts_run(net, params, &mut rng);
            let cascade = &outcome.cascade;
            let tiers = net.tier_count().max(1);
            let mut trace = Trace {
                tier_sizes: net.tier_sizes().into_iter().map(|x| x as u64).collect(),
                steps: Vec::new(),
            };
            if trace.tier_sizes.is_empty() {
                trace.tier_sizes = vec![0];
            }
            // Cumulative adopters by tier after each round.
            let rounds = cascade.new_per_round.len();
            let mut per_round = vec![vec![0u64; tiers]; rounds];
            for (i, &rd) in cascade.round.iter().enumerate() {
                if rd != u32::MAX {
                    per_round[rd as usize][net.tiers()[i] as usize] += 1;
                }
            }
            let mut cumulative = vec![0u64; tiers];
            for row in per_round {
                for k in 0..tiers {
                    cumulative[k] += row[k];
                }
                trace.steps.push(adopters_only(&cumulative));
            }
            let mut record = contagion_record(point, run, "watts", trace, net.edge_count() as u64);
            record.watts_condition = Some(outcome.condition);
            record.watts_cascade_probability = Some(outcome.cascade_probability);
            out.push(record);
            progress(units);
        }
        (ModelSpec::Granovetter(thresholds), _) => {
            let mut rng = derive_rng(s.seed, "dynamics", &[r]);
            let th = thresholds.draw(&mut rng);
            let trajectory = granovetter(&th);
            let trace = Trace {
                tier_sizes: vec![th.len() as u64],
                steps: trajectory
                    .iter()
                    .map(|&a| adopters_only(&[u64::from(a)]))
                    .collect(),
            };
            out.push(contagion_record(point, run, "granovetter", trace, 0));
            progress(units);
        }
        (ModelSpec::Bass(params), _) => {
            let mut rng = derive_rng(s.seed, "dynamics", &[r]);
            let counts = bass_agent_discrete(params, s.steps, &mut rng);
            let trace = Trace {
                tier_sizes: vec![u64::from(params.population)],
                steps: counts
                    .iter()
                    .map(|&a| adopters_only(&[u64::from(a)]))
                    .collect(),
            };
            out.push(contagion_record(point, run, "bass", trace, 0));
            progress(units);
        }
        // uses_network() guarantees a network for the adoption and Watts models.
        (ModelSpec::Adoption(_) | ModelSpec::Watts(_), None) => {}
    }
    out
}

fn adopters_only(cumulative: &[u64]) -> Vec<TierStep> {
    cumulative
        .iter()
        .map(|&a| TierStep {
            adopters: a,
            ..TierStep::default()
        })
        .collect()
}

fn contagion_record(
    point: usize,
    run: u32,
    variant: &'static str,
    trace: Trace,
    edges: u64,
) -> RunRecord {
    RunRecord {
        point,
        run,
        variant,
        totals: RunTotals::of(&trace),
        trace,
        has_contracts: false,
        edges,
        refusals: None,
        watts_condition: None,
        watts_cascade_probability: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn run_text(text: &str) -> (Experiment, ExperimentResult) {
        let exp = Experiment::parse(text, PathBuf::new()).unwrap();
        let result = run(&exp, &|_| {}).unwrap();
        (exp, result)
    }

    #[test]
    fn granovetter_and_bass_need_no_network() {
        let (_, result) = run_text(
            "name = \"g\"\nseed = 1\n[model]\nkind = \"granovetter\"\ndistribution = \"uniform\"\npopulation = 100\n[sweep]\n\"model.bump\" = [500, 1]\n",
        );
        let finals: Vec<u64> = result
            .records
            .iter()
            .map(|r| r.totals.final_adopters)
            .collect();
        assert_eq!(finals, vec![100, 1]);
        let (_, result) = run_text(
            "name = \"b\"\nseed = 1\nruns = 2\nsteps = 40\n[model]\nkind = \"bass\"\npopulation = 2000\np = 0.03\nq = 0.38\ndt = 0.5\n",
        );
        assert_eq!(result.records.len(), 2);
        assert!(result.records.iter().all(|r| r.trace.steps.len() == 40));
        let missing = "name = \"a\"\nseed = 1\n[model]\nkind = \"adoption\"\n";
        assert!(Experiment::parse(missing, PathBuf::new()).is_err());
    }

    #[test]
    fn deployment_models_share_network_and_seeds() {
        let text = "name = \"a\"\nseed = 3\nruns = 2\nsteps = 12\n[network]\nkind = \"tiered\"\ntiers = [2, 20, 80]\n[model]\nkind = \"adoption\"\n";
        let (_, result) = run_text(text);
        assert_eq!(result.records.len(), 6);
        // Same network for every run and deployment model: same total contracts.
        let totals: Vec<u64> = result
            .records
            .iter()
            .map(|r| r.totals.contracts_electronic + r.totals.contracts_paper)
            .collect();
        assert!(totals.windows(2).all(|w| w[0] == w[1]));
        // Records come in (point, run, variant) order.
        let order: Vec<(u32, &str)> = result.records.iter().map(|r| (r.run, r.variant)).collect();
        assert_eq!(order[0], (0, "saas"));
        assert_eq!(order[5], (1, "federated"));
        // Re-running gives identical traces.
        let (_, again) = run_text(text);
        for (a, b) in result.records.iter().zip(&again.records) {
            assert_eq!(a.trace, b.trace);
        }
    }

    #[test]
    fn watts_resampled_networks_differ_per_run() {
        let text = "name = \"w\"\nseed = 3\nruns = 3\nresample_network = true\n[network]\nkind = \"gnp\"\nn = 500\nmean_degree = 3.0\n[model]\nkind = \"watts\"\nphi = 0.18\n";
        let (_, result) = run_text(text);
        let edges: Vec<u64> = result.records.iter().map(|r| r.edges).collect();
        assert!(edges[0] != edges[1] || edges[1] != edges[2]);
        assert!(result.records.iter().all(|r| r.watts_condition.is_some()));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        /// Whatever numbers a user writes, loading and running either fails with an error or
        /// produces consistent records; it never panics.
        #[test]
        fn arbitrary_parameters_never_panic(
            tiers in proptest::collection::vec(0u32..40, 1..4),
            overlap in -0.05f64..1.05,
            customer_exponent in 0.9f64..4.0,
            buyer_exponent in 0.9f64..4.0,
            volume_log_mean in -5.0f64..40.0,
            volume_log_sd in -0.1f64..4.0,
            communities in 0u32..4,
            steps in 0u32..20,
            review_rate in -0.05f64..1.05,
            spontaneous_rate in -0.01f64..1.01,
            paper_cost in -10.0f64..100.0,
        ) {
            let text = format!(
                "name = \"p\"\nseed = 1\nruns = 2\nsteps = {steps}\n[network]\nkind = \"tiered\"\n\
                 tiers = {tiers:?}\noverlap = {overlap:?}\ncustomer_exponent = {customer_exponent:?}\n\
                 buyer_exponent = {buyer_exponent:?}\nvolume_log_mean = {volume_log_mean:?}\n\
                 volume_log_sd = {volume_log_sd:?}\ncommunities = {communities}\n[model]\n\
                 kind = \"adoption\"\nreview_rate = {review_rate:?}\n\
                 spontaneous_rate = {spontaneous_rate:?}\npaper_cost = {paper_cost:?}\n"
            );
            let Ok(exp) = Experiment::parse(&text, PathBuf::new()) else { return Ok(()); };
            let Ok(result) = run(&exp, &|_| {}) else { return Ok(()); };
            proptest::prop_assert_eq!(result.records.len(), 6);
            for r in &result.records {
                proptest::prop_assert_eq!(r.trace.steps.len(), steps as usize);
                proptest::prop_assert!(r.totals.final_fraction <= 1.0);
                proptest::prop_assert!(r.totals.total_cost.is_finite());
            }
        }
    }
}
