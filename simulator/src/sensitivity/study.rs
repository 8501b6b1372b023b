//! The analysis of one scenario's adoption model: model evaluations at sample points,
//! Morris screening, Sobol indices of the top factors, and the one-at-a-time sweeps that
//! locate where the ranking of the deployment models changes.

use std::path::PathBuf;
use std::sync::Arc;

use rayon::prelude::*;
use serde::Serialize;

use super::morris::{self, MorrisIndex};
use super::sobol::{self, SobolIndex};
use super::spec::{Factor, Seeding, SensitivitySettings, apply, resolve_factors, to_scenario};
use crate::adoption::{AdoptionRun, Deployment, Firms, RunTotals};
use crate::error::{RunError, SensitivityError};
use crate::experiment::build_network;
use crate::network::Network;
use crate::rng::derive_rng;
use crate::scenario::{Experiment, ModelSpec, Scenario};

/// Progress of [`Study::run`], in model evaluations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// This many more evaluations are planned.
    Planned(u64),
    /// This many evaluations finished.
    Done(u64),
}

/// Sample ids of the phases, so that independent seeding never reuses a stream.
const PHASE: u64 = 1 << 40;

/// Most model evaluations one analysis may plan (their outputs are held in memory, a few
/// hundred bytes each).
pub const MAX_EVALUATIONS: u64 = 2_000_000;

/// One scenario prepared for analysis.
#[derive(Debug)]
pub struct Study {
    scenario: Scenario,
    base: toml::Table,
    base_dir: PathBuf,
    settings: SensitivitySettings,
    factors: Vec<Factor>,
    runs: u32,
    deployments: Vec<Deployment>,
    tiers: usize,
    /// Every order of the deployment models, cheapest first, as indices into `deployments`.
    orderings: Vec<Vec<usize>>,
    /// Networks shared by all evaluations (one per replicate with `resample_network`), or
    /// `None` when a factor changes the network, which is then built for each evaluation.
    networks: Option<Vec<Arc<Network>>>,
}

/// One model evaluation: the outputs, and the mean total cost per deployment model.
#[derive(Debug, Clone)]
struct Outcome {
    outputs: Vec<f64>,
    costs: Vec<f64>,
    ordering: usize,
}

/// Morris results of one output.
#[derive(Debug, Clone, Serialize)]
pub struct OutputMorris {
    /// Output name.
    pub output: String,
    /// One entry per factor, in factor order.
    pub factors: Vec<FactorMorris>,
}

/// Morris statistics of one factor.
#[derive(Debug, Clone, Serialize)]
pub struct FactorMorris {
    /// Factor path.
    pub factor: String,
    /// μ, μ*, σ (output units per whole factor range).
    #[serde(flatten)]
    pub index: MorrisIndex,
}

/// A factor carried into the Sobol analysis.
#[derive(Debug, Clone, Serialize)]
pub struct TopFactor {
    /// Factor path.
    pub factor: String,
    /// Mean over the chosen outputs (`rank_by`) that vary of μ* divided by that output's
    /// largest μ*.
    pub score: f64,
}

/// Sobol results of one output.
#[derive(Debug, Clone, Serialize)]
pub struct OutputSobol {
    /// Output name.
    pub output: String,
    /// Mean over the `A` and `B` samples.
    pub mean: f64,
    /// Variance over the `A` and `B` samples.
    pub variance: f64,
    /// Per top factor; `null` when the output does not vary over the sample.
    pub factors: Option<Vec<FactorSobol>>,
}

/// Sobol indices of one factor.
#[derive(Debug, Clone, Serialize)]
pub struct FactorSobol {
    /// Factor path.
    pub factor: String,
    /// First- and total-order indices with 95 % bootstrap intervals.
    #[serde(flatten)]
    pub index: SobolIndex,
}

/// Costs and ranking of the deployment models at one parameter point.
#[derive(Debug, Clone, Serialize)]
pub struct RankingPoint {
    /// Factor value (`null` at the baseline).
    pub value: Option<f64>,
    /// Mean total cost per deployment model, in `Ranking::deployments` order.
    pub costs: Vec<f64>,
    /// The ordering, cheapest first.
    pub ordering: String,
}

/// A change of ranking along a factor's range.
#[derive(Debug, Clone, Serialize)]
pub struct Flip {
    /// Ordering below the change.
    pub from: String,
    /// Ordering above the change.
    pub to: String,
    /// Where it changes (middle of `bracket`).
    pub at: f64,
    /// Interval known to contain the change after bisection.
    pub bracket: [f64; 2],
}

/// One-at-a-time sweep of one factor, the others at their baseline.
#[derive(Debug, Clone, Serialize)]
pub struct Sweep {
    /// Factor path.
    pub factor: String,
    /// Whether it is one of the top factors.
    pub top: bool,
    /// The sweep points.
    pub points: Vec<RankingPoint>,
    /// Changes of ranking, in increasing factor value.
    pub flips: Vec<Flip>,
}

/// Share of a sample in which an ordering wins.
#[derive(Debug, Clone, Serialize)]
pub struct OrderingShare {
    /// The ordering, cheapest first.
    pub ordering: String,
    /// Share of the Sobol `A` and `B` samples (2N points).
    pub share: f64,
}

/// The ranking of the deployment models by total cost.
#[derive(Debug, Clone, Serialize)]
pub struct Ranking {
    /// What is ranked.
    pub criterion: String,
    /// Deployment models, in the order of every `costs` list.
    pub deployments: Vec<String>,
    /// All orderings (the `ranking.order.*` outputs).
    pub orderings: Vec<String>,
    /// At the scenario's own parameters.
    pub baseline: RankingPoint,
    /// How often each ordering wins over the Sobol sample of the top factors.
    pub sobol_sample_shares: Vec<OrderingShare>,
    /// One sweep per factor.
    pub sweeps: Vec<Sweep>,
}

/// Everything `signet-sim sensitivity` reports.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Simulator name and version.
    pub simulator: String,
    /// The scenario analysed (every default resolved).
    pub scenario: Scenario,
    /// The settings used.
    pub settings: SensitivitySettings,
    /// Replicate runs per evaluation.
    pub runs: u32,
    /// The factors, with ranges and baselines.
    pub factors: Vec<Factor>,
    /// Output names, in the order of every per-output list.
    pub outputs: Vec<String>,
    /// Model evaluations performed (each `runs` × deployment models model runs).
    pub evaluations: u64,
    /// Morris screening, per output.
    pub morris: Vec<OutputMorris>,
    /// Factors carried into the Sobol analysis, by decreasing score.
    pub top_factors: Vec<TopFactor>,
    /// Sobol indices of the top factors, per output.
    pub sobol: Vec<OutputSobol>,
    /// The ranking of the deployment models.
    pub ranking: Ranking,
}

fn permutations(n: usize) -> Vec<Vec<usize>> {
    if n == 0 {
        return vec![Vec::new()];
    }
    let mut out = Vec::new();
    for rest in permutations(n - 1) {
        for pos in 0..=rest.len() {
            let mut p = rest.clone();
            p.insert(pos, n - 1);
            out.push(p);
        }
    }
    out.sort();
    out
}

impl Study {
    /// Prepares the analysis of an expanded scenario file (which must use the adoption
    /// model and have no `[sweep]`).
    pub fn new(exp: &Experiment) -> Result<Self, SensitivityError> {
        if !exp.axes.is_empty() || exp.points.len() != 1 {
            return Err(SensitivityError::Unsupported(
                "a scenario with a [sweep] cannot be analysed; remove the sweep".into(),
            ));
        }
        let scenario = exp.points[0].scenario.clone();
        let ModelSpec::Adoption(params) = &scenario.model else {
            return Err(SensitivityError::Unsupported(
                "only the adoption model (model.kind = \"adoption\") is analysed".into(),
            ));
        };
        let Some(spec) = &scenario.network else {
            return Err(SensitivityError::Unsupported("no [network]".into()));
        };
        let settings = exp.sensitivity.clone().unwrap_or_default();
        settings.check()?;
        let base = match toml::Value::try_from(&scenario) {
            Ok(toml::Value::Table(t)) => t,
            Ok(_) | Err(_) => {
                return Err(SensitivityError::Unsupported(
                    "the scenario cannot be written back as TOML".into(),
                ));
            }
        };
        let factors = resolve_factors(&settings, &base)?;
        let runs = settings.runs.unwrap_or(scenario.runs);
        let baseline_net = build_network(spec, scenario.seed, 0, &exp.base_dir)?;
        let tiers = baseline_net.tier_count().max(1);
        let networks = if factors.iter().any(|f| f.path.starts_with("network.")) {
            None
        } else if scenario.resample_network {
            let mut nets = Vec::with_capacity(runs as usize);
            for r in 0..runs {
                nets.push(Arc::new(build_network(
                    spec,
                    scenario.seed,
                    u64::from(r),
                    &exp.base_dir,
                )?));
            }
            Some(nets)
        } else {
            Some(vec![Arc::new(baseline_net)])
        };
        let deployments = params.deployments.clone();
        let study = Self {
            orderings: permutations(deployments.len()),
            deployments,
            tiers,
            scenario,
            base,
            base_dir: exp.base_dir.clone(),
            settings,
            factors,
            runs,
            networks,
        };
        // Every evaluation's outputs are kept until its phase is analysed: bound them.
        if study.planned_evaluations() > MAX_EVALUATIONS {
            return Err(SensitivityError::Setting {
                name: "samples",
                reason: format!(
                    "{} model evaluations planned; at most {MAX_EVALUATIONS} (fewer samples, \
                     trajectories, sweep points or factors)",
                    study.planned_evaluations()
                ),
            });
        }
        let names = study.outputs();
        for wanted in &study.settings.rank_by {
            if !names.iter().any(|n| n.starts_with(wanted.as_str())) {
                return Err(SensitivityError::Setting {
                    name: "rank_by",
                    reason: format!("{wanted:?} names no output (outputs: {})", names.join(", ")),
                });
            }
        }
        Ok(study)
    }

    /// The factors.
    pub fn factors(&self) -> &[Factor] {
        &self.factors
    }

    /// Replicate runs per evaluation.
    pub fn runs(&self) -> u32 {
        self.runs
    }

    /// Model evaluations [`Study::run`] plans before it knows how many ranking changes to
    /// locate (each found change adds `bisections`).
    pub fn planned_evaluations(&self) -> u64 {
        let s = &self.settings;
        let k = self.factors.len() as u64;
        let top = u64::from(s.top).min(k);
        1 + u64::from(s.trajectories) * (k + 1)
            + u64::from(s.samples) * (top + 2)
            + k * u64::from(s.sweep_points)
    }

    /// Output names: per deployment model, final adoption by tier and of all firms, months to
    /// 50 % adoption, total cost; then the ranking's margin and one indicator per ordering.
    pub fn outputs(&self) -> Vec<String> {
        let mut names = Vec::new();
        for d in &self.deployments {
            for k in 0..self.tiers {
                names.push(format!("final_adoption.{}.tier{k}", d.name()));
            }
            names.push(format!("final_adoption.{}.all", d.name()));
            names.push(format!("months_to_50.{}", d.name()));
            names.push(format!("total_cost.{}", d.name()));
        }
        names.push("ranking.margin".into());
        for o in 0..self.orderings.len() {
            names.push(format!("ranking.order.{}", self.ordering_name(o)));
        }
        names
    }

    fn ordering_name(&self, o: usize) -> String {
        self.orderings[o]
            .iter()
            .map(|&d| self.deployments[d].name())
            .collect::<Vec<_>>()
            .join("<")
    }

    /// Factor values for a point: `coords[j]` is the position in the range of factor
    /// `varied[j]`; the others stay at their baseline.
    fn values(&self, varied: &[usize], coords: &[f64]) -> Vec<f64> {
        let mut v: Vec<f64> = self.factors.iter().map(|f| f.baseline).collect();
        for (&i, &u) in varied.iter().zip(coords) {
            v[i] = self.factors[i].at(u);
        }
        v
    }

    /// Runs the model at factor values `values`; `sample` identifies the point for
    /// independent seeding.
    fn evaluate(&self, values: &[f64], sample: u64) -> Result<Outcome, SensitivityError> {
        let mut table = self.base.clone();
        for (f, &v) in self.factors.iter().zip(values) {
            apply(&mut table, f, v).map_err(RunError::from)?;
        }
        let s = to_scenario(table).map_err(RunError::from)?;
        let (ModelSpec::Adoption(params), Some(spec)) = (&s.model, &s.network) else {
            return Err(SensitivityError::Unsupported("model changed kind".into()));
        };
        let spy = f64::from(params.steps_per_year);
        let censored = f64::from(s.steps + 1) * 12.0 / spy;
        let per = self.tiers + 3;
        let d_count = self.deployments.len();
        let mut sums = vec![0.0; per * d_count];
        // A factor changes the network: build it for this point (once, unless resampled).
        let mut own: Option<(u32, Arc<Network>)> = None;
        for r in 0..self.runs {
            let indices = match self.settings.seeding {
                Seeding::Common => vec![u64::from(r)],
                Seeding::Independent => vec![sample, u64::from(r)],
            };
            let net_index = if s.resample_network { r } else { 0 };
            let net = match (&self.networks, &own) {
                (Some(nets), _) => nets[(net_index as usize).min(nets.len() - 1)].clone(),
                (None, Some((i, net))) if *i == net_index => net.clone(),
                (None, _) => {
                    let net = Arc::new(build_network(
                        spec,
                        s.seed,
                        u64::from(net_index),
                        &self.base_dir,
                    )?);
                    own = Some((net_index, net.clone()));
                    net
                }
            };
            let firms = Firms::draw(&net, params, s.seed, &indices);
            for (k, &d) in self.deployments.iter().enumerate() {
                let rng = derive_rng(s.seed, "dynamics", &indices);
                let mut sim = AdoptionRun::new(&net, params, &firms, d, rng);
                sim.run(s.steps);
                let trace = sim.into_trace();
                let totals = RunTotals::of(&trace);
                let out = &mut sums[k * per..(k + 1) * per];
                if let Some(last) = trace.steps.last() {
                    for (t, (step, &size)) in last.iter().zip(&trace.tier_sizes).enumerate() {
                        if t < self.tiers && size > 0 {
                            out[t] += step.adopters as f64 / size as f64;
                        }
                    }
                }
                out[self.tiers] += totals.final_fraction;
                out[self.tiers + 1] += totals
                    .time_to_50
                    .map_or(censored, |t| f64::from(t) * 12.0 / spy);
                out[self.tiers + 2] += totals.total_cost;
            }
        }
        let n = f64::from(self.runs);
        let mut outputs: Vec<f64> = sums.iter().map(|x| x / n).collect();
        let costs: Vec<f64> = (0..d_count)
            .map(|k| outputs[k * per + self.tiers + 2])
            .collect();
        let mut order: Vec<usize> = (0..d_count).collect();
        order.sort_by(|&a, &b| costs[a].total_cmp(&costs[b]).then(a.cmp(&b)));
        let ordering = self
            .orderings
            .iter()
            .position(|o| *o == order)
            .unwrap_or_default();
        let margin = match (order.first(), order.get(1)) {
            (Some(&a), Some(&b)) => costs[b] - costs[a],
            _ => 0.0,
        };
        outputs.push(margin);
        outputs.extend((0..self.orderings.len()).map(|o| f64::from(u8::from(o == ordering))));
        Ok(Outcome {
            outputs,
            costs,
            ordering,
        })
    }

    /// Evaluates the points in parallel; results come back in point order.
    fn evaluate_all(
        &self,
        points: &[Vec<f64>],
        first_id: u64,
        progress: &(dyn Fn(Progress) + Sync),
    ) -> Result<Vec<Outcome>, SensitivityError> {
        points
            .par_iter()
            .enumerate()
            .map(|(j, v)| {
                let r = self.evaluate(v, first_id + j as u64);
                progress(Progress::Done(1));
                r
            })
            .collect()
    }

    fn ranking_point(&self, value: Option<f64>, o: &Outcome) -> RankingPoint {
        RankingPoint {
            value,
            costs: o.costs.clone(),
            ordering: self.ordering_name(o.ordering),
        }
    }

    /// Runs the whole analysis. Deterministic for the scenario's seed, whatever the number of
    /// threads: every point's random numbers derive from its replicate (and, with independent
    /// seeding, its sample id), and results are collected in point order.
    pub fn run(&self, progress: &(dyn Fn(Progress) + Sync)) -> Result<Report, SensitivityError> {
        let seed = self.scenario.seed;
        let s = &self.settings;
        let k = self.factors.len();
        let names = self.outputs();
        progress(Progress::Planned(self.planned_evaluations()));
        let baseline_values: Vec<f64> = self.factors.iter().map(|f| f.baseline).collect();
        let baseline = self.evaluate(&baseline_values, 0)?;
        progress(Progress::Done(1));
        let mut evaluations = 1u64;

        // Morris screening over all factors.
        let all: Vec<usize> = (0..k).collect();
        let design = morris::trajectories(
            k,
            s.levels,
            s.trajectories as usize,
            &mut derive_rng(seed, "sensitivity/morris", &[]),
        )?;
        let points: Vec<Vec<f64>> = design
            .iter()
            .flat_map(|t| t.points.iter().map(|u| self.values(&all, u)))
            .collect();
        let outcomes = self.evaluate_all(&points, PHASE, progress)?;
        evaluations += points.len() as u64;
        let morris: Vec<OutputMorris> = names
            .iter()
            .enumerate()
            .map(|(o, name)| {
                let y: Vec<f64> = outcomes.iter().map(|x| x.outputs[o]).collect();
                OutputMorris {
                    output: name.clone(),
                    factors: morris::indices(&design, &y, k)
                        .into_iter()
                        .zip(&self.factors)
                        .map(|(index, f)| FactorMorris {
                            factor: f.path.clone(),
                            index,
                        })
                        .collect(),
                }
            })
            .collect();
        drop(outcomes);

        // Top factors: μ* relative to the output's largest, averaged over the chosen outputs
        // that vary (outputs have different units; the largest alone ties every factor that
        // dominates some one output).
        let mut scores = vec![0.0f64; k];
        let mut varying = 0usize;
        let chosen = |name: &str| {
            s.rank_by.is_empty() || s.rank_by.iter().any(|w| name.starts_with(w.as_str()))
        };
        for m in morris.iter().filter(|m| chosen(&m.output)) {
            let largest = m
                .factors
                .iter()
                .map(|f| f.index.mu_star)
                .fold(0.0, f64::max);
            if largest > 0.0 {
                varying += 1;
                for (i, f) in m.factors.iter().enumerate() {
                    scores[i] += f.index.mu_star / largest;
                }
            }
        }
        for x in &mut scores {
            *x /= varying.max(1) as f64;
        }
        let mut ranked: Vec<usize> = (0..k).collect();
        ranked.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
        let top: Vec<usize> = ranked.into_iter().take(s.top as usize).collect();
        let top_factors = top
            .iter()
            .map(|&i| TopFactor {
                factor: self.factors[i].path.clone(),
                score: scores[i],
            })
            .collect();

        // Sobol indices of the top factors (the others at their baseline).
        let n = s.samples as usize;
        let rows = sobol::saltelli_rows(
            n,
            top.len(),
            &mut derive_rng(seed, "sensitivity/saltelli", &[]),
        );
        let points: Vec<Vec<f64>> = rows.iter().map(|u| self.values(&top, u)).collect();
        let outcomes = self.evaluate_all(&points, 2 * PHASE, progress)?;
        evaluations += points.len() as u64;
        let sobol: Vec<OutputSobol> = names
            .iter()
            .enumerate()
            .map(|(o, name)| {
                let y: Vec<f64> = outcomes.iter().map(|x| x.outputs[o]).collect();
                let ab = &y[..2 * n];
                let mean = ab.iter().sum::<f64>() / ab.len() as f64;
                let variance = ab.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / ab.len() as f64;
                let mut rng = derive_rng(seed, "sensitivity/bootstrap", &[o as u64]);
                OutputSobol {
                    output: name.clone(),
                    mean,
                    variance,
                    factors: sobol::indices(&y, n, top.len(), s.bootstrap as usize, &mut rng).map(
                        |ix| {
                            ix.into_iter()
                                .zip(&top)
                                .map(|(index, &i)| FactorSobol {
                                    factor: self.factors[i].path.clone(),
                                    index,
                                })
                                .collect()
                        },
                    ),
                }
            })
            .collect();
        let mut wins = vec![0u64; self.orderings.len()];
        for o in &outcomes[..2 * n] {
            wins[o.ordering] += 1;
        }
        let sobol_sample_shares = wins
            .iter()
            .enumerate()
            .map(|(o, &w)| OrderingShare {
                ordering: self.ordering_name(o),
                share: w as f64 / (2 * n) as f64,
            })
            .collect();
        drop(outcomes);

        // One-at-a-time sweeps of every factor for the ranking.
        let p = s.sweep_points as usize;
        let grid: Vec<f64> = (0..p).map(|j| j as f64 / (p - 1) as f64).collect();
        let points: Vec<Vec<f64>> = (0..k)
            .flat_map(|i| grid.iter().map(move |&u| (i, u)))
            .map(|(i, u)| self.values(&[i], &[u]))
            .collect();
        let outcomes = self.evaluate_all(&points, 3 * PHASE, progress)?;
        evaluations += points.len() as u64;
        let mut brackets = Vec::new();
        for i in 0..k {
            for j in 1..p {
                let (a, b) = (&outcomes[i * p + j - 1], &outcomes[i * p + j]);
                if a.ordering != b.ordering {
                    brackets.push((i, grid[j - 1], grid[j], a.ordering, b.ordering));
                }
            }
        }
        progress(Progress::Planned(
            brackets.len() as u64 * u64::from(s.bisections),
        ));
        let located: Vec<Result<(usize, Flip), SensitivityError>> = brackets
            .par_iter()
            .enumerate()
            .map(|(b, &(i, lo, hi, from, to))| {
                self.bisect(
                    i,
                    [lo, hi],
                    [from, to],
                    4 * PHASE + (b as u64) * 64,
                    progress,
                )
                .map(|f| (i, f))
            })
            .collect();
        evaluations += brackets.len() as u64 * u64::from(s.bisections);
        let mut flips: Vec<Vec<Flip>> = vec![Vec::new(); k];
        for r in located {
            let (i, f) = r?;
            flips[i].push(f);
        }
        let sweeps = flips
            .into_iter()
            .enumerate()
            .map(|(i, flips)| Sweep {
                factor: self.factors[i].path.clone(),
                top: top.contains(&i),
                points: (0..p)
                    .map(|j| {
                        self.ranking_point(Some(self.factors[i].at(grid[j])), &outcomes[i * p + j])
                    })
                    .collect(),
                flips,
            })
            .collect();

        Ok(Report {
            simulator: format!("signet-sim {}", env!("CARGO_PKG_VERSION")),
            scenario: self.scenario.clone(),
            settings: s.clone(),
            runs: self.runs,
            factors: self.factors.clone(),
            outputs: names,
            evaluations,
            morris,
            top_factors,
            sobol,
            ranking: Ranking {
                criterion: "mean total cost over the run (all firms, both sides of every \
                            contract), lower is better"
                    .into(),
                deployments: self
                    .deployments
                    .iter()
                    .map(|d| d.name().to_owned())
                    .collect(),
                orderings: (0..self.orderings.len())
                    .map(|o| self.ordering_name(o))
                    .collect(),
                baseline: self.ranking_point(None, &baseline),
                sobol_sample_shares,
                sweeps,
            },
        })
    }

    /// Narrows a change of ordering of factor `i` from `orderings[0]` at range position
    /// `range[0]` to `orderings[1]` at `range[1]`.
    fn bisect(
        &self,
        i: usize,
        range: [f64; 2],
        orderings: [usize; 2],
        first_id: u64,
        progress: &(dyn Fn(Progress) + Sync),
    ) -> Result<Flip, SensitivityError> {
        let [mut lo, mut hi] = range;
        let [from, mut to] = orderings;
        for step in 0..self.settings.bisections {
            let mid = 0.5 * (lo + hi);
            let o = self.evaluate(&self.values(&[i], &[mid]), first_id + u64::from(step))?;
            progress(Progress::Done(1));
            if o.ordering == from {
                lo = mid;
            } else {
                hi = mid;
                to = o.ordering;
            }
        }
        let f = &self.factors[i];
        let bracket = [f.at(lo), f.at(hi)];
        Ok(Flip {
            from: self.ordering_name(from),
            to: self.ordering_name(to),
            at: 0.5 * (bracket[0] + bracket[1]),
            bracket,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCENARIO: &str = r#"
name = "sens"
seed = 9
runs = 2
steps = 36
[network]
kind = "tiered"
tiers = [3, 30, 120]
overlap = 0.7
[model]
kind = "adoption"
spontaneous_rate = 0.01
[sensitivity]
trajectories = 3
samples = 8
bootstrap = 20
sweep_points = 5
bisections = 6
top = 2
default_factors = false
[sensitivity.factors]
"model.paper_cost" = [20.0, 150.0]
"model.federated.setup" = [0.5, 2.0]
"model.review_rate" = [0.05, 0.4]
"model.medium_degree" = [5.0, 20.0]
"#;

    fn study(text: &str) -> Result<Study, SensitivityError> {
        let exp = Experiment::parse(text, PathBuf::new()).map_err(RunError::from)?;
        Study::new(&exp)
    }

    #[test]
    fn bad_factors_are_typed_errors() {
        let cases = [
            (
                "\"model.paper_cost\" = [20.0, 150.0]",
                "\"model.paper_cots\" = [20.0, 150.0]",
            ),
            ("[20.0, 150.0]", "[150.0, 20.0]"),
            (
                "\"model.review_rate\" = [0.05, 0.4]",
                "\"model.review_rate\" = [0.05, 1.4]",
            ),
            ("\"model.medium_degree\"", "\"model.deployments\""),
        ];
        let errors: Vec<SensitivityError> = cases
            .iter()
            .map(|(from, to)| {
                assert!(SCENARIO.contains(from));
                study(&SCENARIO.replace(from, to)).unwrap_err()
            })
            .collect();
        assert!(
            matches!(&errors[0], SensitivityError::UnknownParameter { path } if path == "model.paper_cots")
        );
        assert!(matches!(
            errors[1],
            SensitivityError::Range {
                min: 150.0,
                max: 20.0,
                ..
            }
        ));
        assert!(matches!(
            errors[2],
            SensitivityError::OutOfDomain { value: 1.4, .. }
        ));
        assert!(matches!(errors[3], SensitivityError::NotNumeric { .. }));
        let bad_setting = SCENARIO
            .replace("levels", "x")
            .replace("top = 2", "top = 2\nlevels = 3");
        assert!(matches!(
            study(&bad_setting).unwrap_err(),
            SensitivityError::Setting { name: "levels", .. }
        ));
        // Typos in the table itself fail when the scenario is read.
        let typo = SCENARIO.replace("trajectories", "trajectorys");
        assert!(Experiment::parse(&typo, PathBuf::new()).is_err());
        let no_output = SCENARIO.replace(
            "top = 2",
            "top = 2\nrank_by = [\"ranking.order\", \"adoption\"]",
        );
        assert!(matches!(
            study(&no_output).unwrap_err(),
            SensitivityError::Setting {
                name: "rank_by",
                ..
            }
        ));
        let huge = SCENARIO.replace("samples = 8", "samples = 1000000");
        assert!(matches!(
            study(&huge).unwrap_err(),
            SensitivityError::Setting {
                name: "samples",
                ..
            }
        ));
        let with_sweep = format!("{SCENARIO}\n[sweep]\n\"model.paper_cost\" = [40.0, 80.0]\n");
        assert!(matches!(
            study(&with_sweep).unwrap_err(),
            SensitivityError::Unsupported(_)
        ));
    }

    #[test]
    fn defaults_cover_the_cost_and_sovereignty_parameters() {
        let s = study(&SCENARIO.replace("default_factors = false", "")).unwrap();
        let paths: Vec<&str> = s.factors().iter().map(|f| f.path.as_str()).collect();
        for p in [
            "model.paper_cost",
            "model.sovereignty_share",
            "model.federated.setup",
        ] {
            assert!(paths.contains(&p), "{p} in {paths:?}");
        }
        let scale = s
            .factors()
            .iter()
            .find(|f| f.path == "model.soe_share")
            .unwrap();
        assert_eq!(
            (scale.kind, scale.baseline),
            (super::super::FactorKind::Scale, 1.0)
        );
        // The scenario's own range replaces the default one.
        let paper = s
            .factors()
            .iter()
            .find(|f| f.path == "model.paper_cost")
            .unwrap();
        assert_eq!((paper.min, paper.max, paper.baseline), (20.0, 150.0, 60.0));
    }

    #[test]
    fn top_factors_come_from_the_chosen_outputs() {
        // The federated model's costs cannot change a SaaS output: never a top factor for it.
        let text = SCENARIO
            .replace("top = 2", "top = 3\nrank_by = [\"final_adoption.saas\"]")
            .replace("samples = 8", "samples = 2");
        let report = study(&text).unwrap().run(&|_| {}).unwrap();
        let top: Vec<&str> = report
            .top_factors
            .iter()
            .map(|t| t.factor.as_str())
            .collect();
        assert_eq!(top.len(), 3);
        assert!(!top.contains(&"model.federated.setup"), "{top:?}");
        let saas = report
            .morris
            .iter()
            .find(|m| m.output == "final_adoption.saas.all")
            .unwrap();
        let federated_setup = saas
            .factors
            .iter()
            .find(|f| f.factor == "model.federated.setup");
        assert_eq!(federated_setup.unwrap().index.mu_star, 0.0);
    }

    #[test]
    fn analysis_is_deterministic_for_any_thread_count_and_flips_are_real() {
        let s = study(SCENARIO).unwrap();
        let run_with = |threads| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| s.run(&|_| {})).unwrap()
        };
        let one = run_with(1);
        let two = run_with(2);
        let json = |r: &Report| serde_json::to_string(r).unwrap();
        assert_eq!(json(&one), json(&two));
        assert_eq!(one.morris.len(), one.outputs.len());
        assert_eq!(one.top_factors.len(), 2);
        let shares: f64 = one
            .ranking
            .sobol_sample_shares
            .iter()
            .map(|s| s.share)
            .sum();
        assert!((shares - 1.0).abs() < 1e-12);
        // Paper cost decides whether signing electronically pays at all: it must matter.
        let paper = one
            .morris
            .iter()
            .find(|m| m.output == "total_cost.federated")
            .unwrap();
        assert!(paper.factors[3].index.mu_star > 0.0, "{paper:?}");
        // Every reported flip brackets a real change of ordering.
        let f = |path: &str| s.factors().iter().position(|f| f.path == path).unwrap();
        for sweep in &one.ranking.sweeps {
            let i = f(&sweep.factor);
            for flip in &sweep.flips {
                let u = |x: f64| (x - s.factors[i].min) / (s.factors[i].max - s.factors[i].min);
                let lo = s
                    .evaluate(&s.values(&[i], &[u(flip.bracket[0])]), 0)
                    .unwrap();
                let hi = s
                    .evaluate(&s.values(&[i], &[u(flip.bracket[1])]), 0)
                    .unwrap();
                assert_eq!(s.ordering_name(lo.ordering), flip.from);
                assert_eq!(s.ordering_name(hi.ordering), flip.to);
                assert!(
                    flip.bracket[1] - flip.bracket[0]
                        <= (s.factors[i].max - s.factors[i].min) / 4.0 / 32.0 + 1e-9
                );
            }
        }
        // Common seeding: the baseline is run r's random numbers, as in `signet-sim run`.
        let exp = Experiment::parse(SCENARIO, PathBuf::new()).unwrap();
        let result = crate::experiment::run(&exp, &|_| {}).unwrap();
        let fed: Vec<f64> = result
            .records
            .iter()
            .filter(|r| r.variant == "federated")
            .map(|r| r.totals.total_cost)
            .collect();
        let mean = fed.iter().sum::<f64>() / fed.len() as f64;
        assert_eq!(one.ranking.baseline.costs[2], mean);
    }
}
