//! Protocol in the loop (`signet-sim protocol SCENARIO`): every firm that adopts runs the
//! real `signet-protocol` state machines, exchanging real message bytes over a simulated
//! network in virtual time. MODEL.md §9 describes the mode and every difference from the
//! abstract model; this module is its implementation.
//!
//! - [`scheduler`]: the discrete-event queue, ordered by (virtual time, sequence number).
//! - [`link`]: latency, bandwidth, loss, nodes down, partitions.
//! - [`params`]: the scenario's `[protocol]` table.
//! - `world`: one run of one deployment model: firms, verifiers, witnesses, sessions.
//! - [`report`]: the measures.
//!
//! Runs (run index × deployment model) execute in parallel and are collected in order.
//! Within a run, the protocol work of events of unrelated nodes runs in parallel in batches
//! whose results are applied in a fixed order (MODEL.md §9.3), so a run is a pure function
//! of the scenario and reports do not depend on the thread count.

pub mod link;
pub mod params;
pub mod report;
pub mod scheduler;
mod world;

use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::Serialize;

use crate::adoption::{AdoptionRun, Deployment, Firms};
use crate::error::{OutputError, RunError, ScenarioError};
use crate::experiment::build_network;
use crate::network::Network;
use crate::rng::{derive_rng, derive_seed};
use crate::scenario::{Experiment, ModelSpec, Scenario};

pub use params::{Adoption, ProtocolParams};
pub use report::{Measures, Timing};

/// A scenario file read for protocol mode: its first grid point and its `[protocol]` table.
#[derive(Debug, Clone)]
pub struct ProtocolScenario {
    /// The scenario (first grid point of any sweep).
    pub scenario: Scenario,
    /// The `[protocol]` table (defaults if absent).
    pub params: ProtocolParams,
    /// Folder relative paths resolve against.
    pub base_dir: PathBuf,
}

/// Protocol mode failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProtocolError {
    /// The scenario is not usable.
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    /// The network could not be built.
    #[error(transparent)]
    Network(#[from] RunError),
    /// A run needed more pending events than allowed.
    #[error("run {run}, {deployment}: {source}")]
    QueueFull {
        /// Run index.
        run: u32,
        /// Deployment model.
        deployment: &'static str,
        /// The bound hit.
        source: scheduler::QueueFull,
    },
}

impl ProtocolScenario {
    /// Parses scenario text; `[protocol]` is taken out before the rest is read as usual.
    pub fn parse(text: &str, base_dir: PathBuf) -> Result<Self, ScenarioError> {
        let parse_error = |message: String| ScenarioError::Parse {
            path: PathBuf::from("<scenario>"),
            message,
        };
        let mut table: toml::Table = text
            .parse()
            .map_err(|e: toml::de::Error| parse_error(e.to_string()))?;
        let params: ProtocolParams = match table.remove("protocol") {
            None => ProtocolParams::default(),
            Some(v) => v
                .try_into()
                .map_err(|e: toml::de::Error| parse_error(format!("[protocol]: {e}")))?,
        };
        let rest = toml::to_string(&table).map_err(|e| parse_error(e.to_string()))?;
        let exp = Experiment::parse(&rest, base_dir.clone())?;
        let Some(point) = exp.points.into_iter().next() else {
            return Err(parse_error("the scenario has no grid points".into()));
        };
        if !matches!(point.scenario.model, ModelSpec::Adoption(_)) {
            return Err(ScenarioError::Invalid {
                name: "model.kind".into(),
                reason: "protocol mode needs the adoption model".into(),
            });
        }
        if point.scenario.network.is_none() {
            return Err(ScenarioError::Invalid {
                name: "network".into(),
                reason: "protocol mode needs a [network]".into(),
            });
        }
        Ok(Self {
            scenario: point.scenario,
            params,
            base_dir,
        })
    }

    /// Reads a scenario file.
    pub fn load(path: &Path) -> Result<Self, ScenarioError> {
        let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Io {
            path: path.to_owned(),
            source,
        })?;
        let base_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Self::parse(&text, base_dir).map_err(|e| match e {
            ScenarioError::Parse { message, .. } => ScenarioError::Parse {
                path: path.to_owned(),
                message,
            },
            other => other,
        })
    }

    /// The deployment models to run.
    pub fn deployments(&self) -> Vec<Deployment> {
        match (&self.params.deployments, &self.scenario.model) {
            (Some(d), _) => d.clone(),
            (None, ModelSpec::Adoption(p)) => p.deployments.clone(),
            (None, _) => vec![Deployment::Federated],
        }
    }

    /// Steps simulated.
    pub fn steps(&self) -> u32 {
        self.params.steps.unwrap_or(self.scenario.steps)
    }
}

/// One run of one deployment model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunReport {
    /// Run index.
    pub run: u32,
    /// Deployment model.
    pub deployment: &'static str,
    /// Measures.
    pub measures: Measures,
    /// Totals over tiers.
    pub total: report::TierMeasures,
}

/// Everything `signet-sim protocol` produces. `runs` is deterministic; `timing` is not.
#[derive(Debug, Clone)]
pub struct ProtocolResult {
    /// Firms in the network.
    pub firms: usize,
    /// Relationships in the network.
    pub relationships: usize,
    /// One report per run × deployment model, in that order.
    pub runs: Vec<RunReport>,
    /// Wall-clock timings, per run × deployment model.
    pub timing: Vec<Timing>,
}

/// Runs every run × deployment model of `ps`.
pub fn run(ps: &ProtocolScenario) -> Result<ProtocolResult, ProtocolError> {
    let s = &ps.scenario;
    let Some(spec) = &s.network else {
        return Err(ScenarioError::Invalid {
            name: "network".into(),
            reason: "protocol mode needs a [network]".into(),
        }
        .into());
    };
    let ModelSpec::Adoption(adoption) = &s.model else {
        return Err(ScenarioError::Invalid {
            name: "model.kind".into(),
            reason: "protocol mode needs the adoption model".into(),
        }
        .into());
    };
    if adoption.certificate_share.iter().any(|&x| x > 0.0) {
        // The virtual world's verifiers always verify in person (`verification_hours`); an
        // identity resting on a CA certificate is not modelled there, so the run would not be
        // the model it claims to follow.
        return Err(ScenarioError::Invalid {
            name: "model.certificate_share".into(),
            reason: "protocol mode does not model identities resting on CA certificates: set it to [0, 0, 0]".into(),
        }
        .into());
    }
    let net = build_network(spec, s.seed, 0, &ps.base_dir)?;
    ps.params.check(net.len())?;
    let deployments = ps.deployments();
    let tasks: Vec<(u32, Deployment)> = (0..ps.params.runs)
        .flat_map(|r| deployments.iter().map(move |&d| (r, d)))
        .collect();
    let out: Vec<Result<(RunReport, Timing), ProtocolError>> = tasks
        .par_iter()
        .map(|&(r, d)| run_one(ps, &net, adoption, r, d))
        .collect();
    let mut runs = Vec::new();
    let mut timing = Vec::new();
    for o in out {
        let (report, t) = o?;
        runs.push(report);
        timing.push(t);
    }
    Ok(ProtocolResult {
        firms: net.len(),
        relationships: net.edge_count(),
        runs,
        timing,
    })
}

fn run_one(
    ps: &ProtocolScenario,
    net: &Network,
    adoption: &crate::adoption::AdoptionParams,
    r: u32,
    d: Deployment,
) -> Result<(RunReport, Timing), ProtocolError> {
    let s = &ps.scenario;
    let ri = u64::from(r);
    let firms = Firms::draw(net, adoption, s.seed, &[ri]);
    let model = match ps.params.adoption {
        Adoption::Model => Some(AdoptionRun::new(
            net,
            adoption,
            &firms,
            d,
            derive_rng(s.seed, "dynamics", &[ri]),
        )),
        Adoption::All => None,
    };
    let label = format!("{} seed {} run {r}", s.name, s.seed);
    let rng = derive_rng(s.seed, "protocol", &[ri, d as u64]);
    let signing_seed = derive_seed(s.seed, "protocol-signing", &[ri, d as u64]);
    let mut world = world::World::new(
        net,
        &ps.params,
        world::Setup {
            deployment: d,
            adoption: model,
            steps: ps.steps(),
            steps_per_year: adoption.steps_per_year,
            label,
            rng,
            signing_seed,
        },
    );
    world.run().map_err(|source| ProtocolError::QueueFull {
        run: r,
        deployment: d.name(),
        source,
    })?;
    let mut measures = world.m;
    measures.close();
    let total = measures.total();
    Ok((
        RunReport {
            run: r,
            deployment: d.name(),
            measures,
            total,
        },
        world.timing,
    ))
}

/// The report as JSON (deterministic: no timings).
pub fn report_json(
    ps: &ProtocolScenario,
    result: &ProtocolResult,
) -> Result<String, serde_json::Error> {
    #[derive(Serialize)]
    struct Out<'a> {
        scenario: &'a str,
        seed: u64,
        steps: u32,
        firms: usize,
        relationships: usize,
        protocol: &'a ProtocolParams,
        runs: &'a [RunReport],
    }
    serde_json::to_string_pretty(&Out {
        scenario: &ps.scenario.name,
        seed: ps.scenario.seed,
        steps: ps.steps(),
        firms: result.firms,
        relationships: result.relationships,
        protocol: &ps.params,
        runs: &result.runs,
    })
}

/// One CSV row per run × deployment model × tier (and an `all` row).
pub fn tiers_csv(result: &ProtocolResult) -> String {
    use std::fmt::Write as _;
    let mut out = String::from(
        "run,deployment,tier,contracts,paper,started,electronic,failed,refused,in_flight,waiting_at_end,\
         messages_per_contract,bytes_per_contract,completion_p50_h,completion_p95_h,\
         completion_p99_h,verifications_performed,verifications_avoided,verifications_first_use\n",
    );
    for r in &result.runs {
        let rows = r
            .measures
            .tiers
            .iter()
            .enumerate()
            .map(|(k, t)| (k.to_string(), t))
            .chain(std::iter::once(("all".to_string(), &r.total)));
        for (tier, t) in rows {
            let per = |x: u64| {
                if t.started == 0 {
                    String::new()
                } else {
                    format!("{:.2}", x as f64 / t.started as f64)
                }
            };
            let q = |i: usize| {
                t.completion_hours
                    .map_or(String::new(), |q| format!("{:.3}", q[i]))
            };
            let _ = writeln!(
                out,
                "{},{},{tier},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
                r.run,
                r.deployment,
                t.contracts,
                t.paper,
                t.started,
                t.electronic,
                t.failed,
                t.refused,
                t.in_flight,
                t.waiting_at_end,
                per(t.session_messages),
                per(t.session_bytes),
                q(0),
                q(1),
                q(2),
                t.verifications_performed,
                t.verifications_avoided,
                t.verifications_first_use
            );
        }
    }
    out
}

/// Writes `protocol.json`, `protocol-tiers.csv` and `protocol-timing.json` into `dir`.
pub fn write(
    dir: &Path,
    ps: &ProtocolScenario,
    result: &ProtocolResult,
) -> Result<Vec<PathBuf>, OutputError> {
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| OutputError::Io { path, source }
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let encode = |name: &str| {
        let path = dir.join(name);
        move |e: serde_json::Error| OutputError::Encode {
            path,
            message: e.to_string(),
        }
    };
    let json = report_json(ps, result).map_err(encode("protocol.json"))?;
    let timing =
        serde_json::to_string_pretty(&result.timing).map_err(encode("protocol-timing.json"))?;
    let files = [
        (dir.join("protocol.json"), json + "\n"),
        (dir.join("protocol-tiers.csv"), tiers_csv(result)),
        (dir.join("protocol-timing.json"), timing + "\n"),
    ];
    let mut written = Vec::new();
    for (path, text) in files {
        std::fs::write(&path, text).map_err(io(&path))?;
        written.push(path);
    }
    Ok(written)
}
