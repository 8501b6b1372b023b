//! Scenario files (TOML) and parameter sweeps.
//!
//! A scenario holds every parameter and a master seed. An optional `[sweep]` table maps dotted
//! parameter paths to lists of values; the experiment runs the full grid (axes in sorted path
//! order, the first axis varying slowest), `runs` runs per grid point.
//!
//! ```toml
//! name = "example"
//! seed = 1
//! runs = 4
//! steps = 60
//! [network]
//! kind = "tiered"
//! tiers = [3, 30, 200]
//! [model]
//! kind = "adoption"
//! [sweep]
//! "model.paper_cost" = [40.0, 80.0]
//! ```

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::adoption::AdoptionParams;
use crate::contagion::{BassParams, GranovetterThresholds, WattsParams};
use crate::error::ScenarioError;
use crate::generate::TieredParams;
use crate::sensitivity::SensitivitySettings;

/// How to obtain the network.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum NetworkSpec {
    /// Tiered supply chain ([`crate::generate::tiered`]).
    Tiered(TieredParams),
    /// Erdős–Rényi G(n, p); give `p` or `mean_degree` (then `p = mean_degree / (n − 1)`).
    Gnp {
        /// Nodes.
        n: usize,
        /// Edge probability.
        #[serde(default)]
        p: Option<f64>,
        /// Mean degree z.
        #[serde(default)]
        mean_degree: Option<f64>,
    },
    /// Erdős–Rényi G(n, m).
    Gnm {
        /// Nodes.
        n: usize,
        /// Edges.
        m: usize,
    },
    /// Random regular graph.
    Regular {
        /// Nodes.
        n: usize,
        /// Degree.
        degree: usize,
    },
    /// Ring lattice with optional Watts–Strogatz rewiring.
    Ring {
        /// Nodes.
        n: usize,
        /// Neighbours on each side.
        k: usize,
        /// Rewiring probability.
        #[serde(default)]
        rewire: f64,
    },
    /// A real network from an edge-list CSV (see [`crate::edgelist`]); paths are relative to
    /// the scenario file.
    EdgeList {
        /// `buyer,supplier[,contracts_per_year]` file.
        edges: PathBuf,
        /// Optional `firm,tier[,community]` file.
        #[serde(default)]
        nodes: Option<PathBuf>,
    },
}

/// Which model to run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
// Scenarios are built once per grid point; the size difference does not matter.
#[allow(clippy::large_enum_variant)]
pub enum ModelSpec {
    /// The e-signature adoption model under the listed deployment models.
    Adoption(AdoptionParams),
    /// Watts (2002) threshold cascades from one random seed per run.
    Watts(WattsParams),
    /// Granovetter (1978) fully mixed threshold model (the network is not used).
    Granovetter(GranovetterThresholds),
    /// Bass (1969) agent-based diffusion, fully mixed (the network is not used).
    Bass(BassParams),
}

impl ModelSpec {
    /// Short name used in outputs.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Adoption(_) => "adoption",
            Self::Watts(_) => "watts",
            Self::Granovetter(_) => "granovetter",
            Self::Bass(_) => "bass",
        }
    }
}

/// What to write besides the summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OutputOptions {
    /// Write one time-series row per run (otherwise only the mean over runs).
    pub per_run_timeseries: bool,
    /// Draw SVG charts.
    pub charts: bool,
}

impl Default for OutputOptions {
    fn default() -> Self {
        Self {
            per_run_timeseries: true,
            charts: true,
        }
    }
}

/// One fully specified scenario (one grid point of a sweep).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Name, used in output titles.
    pub name: String,
    /// Free text.
    #[serde(default)]
    pub description: String,
    /// Master seed; every random number derives from it ([`crate::rng`]).
    pub seed: u64,
    /// Runs per grid point.
    #[serde(default = "default_runs")]
    pub runs: u32,
    /// Steps per run (adoption and Bass; threshold cascades run to completion).
    #[serde(default = "default_steps")]
    pub steps: u32,
    /// Final adopter fraction from which a run counts as a global cascade.
    #[serde(default = "default_global_fraction")]
    pub global_fraction: f64,
    /// Draw a new network for every run (otherwise one network per grid point, shared by all
    /// runs and deployment models).
    #[serde(default)]
    pub resample_network: bool,
    /// The network (required by the adoption and Watts models; the fully mixed Granovetter and
    /// Bass models have none).
    #[serde(default)]
    pub network: Option<NetworkSpec>,
    /// The model.
    pub model: ModelSpec,
    /// Output options.
    #[serde(default)]
    pub output: OutputOptions,
}

fn default_runs() -> u32 {
    1
}
fn default_steps() -> u32 {
    100
}
fn default_global_fraction() -> f64 {
    0.5
}

impl Scenario {
    /// Checks value ranges that the types cannot express.
    pub fn check(&self) -> Result<(), ScenarioError> {
        let bad = |name: &str, reason: &str| {
            Err(ScenarioError::Invalid {
                name: name.to_owned(),
                reason: reason.to_owned(),
            })
        };
        if self.runs == 0 {
            return bad("runs", "must be at least 1");
        }
        if self.steps > 1_000_000 {
            return bad("steps", "at most 1000000");
        }
        if !(0.0..=1.0).contains(&self.global_fraction) {
            return bad("global_fraction", "must be in [0, 1]");
        }
        match &self.model {
            ModelSpec::Adoption(p) => p.check()?,
            ModelSpec::Watts(w) => {
                if !(0.0..=1.0).contains(&w.phi) || w.phi_sd.is_nan() || w.phi_sd < 0.0 {
                    return bad("model.phi", "phi in [0, 1], phi_sd >= 0");
                }
            }
            ModelSpec::Bass(b) => {
                if !(b.p > 0.0 && b.q >= 0.0 && b.dt > 0.0 && b.p.is_finite() && b.q.is_finite()) {
                    return bad("model.p", "need p > 0, q >= 0, dt > 0");
                }
                if b.population == 0 {
                    return bad("model.population", "must be at least 1");
                }
            }
            ModelSpec::Granovetter(_) => {}
        }
        if let Some(NetworkSpec::Gnp { p, mean_degree, .. }) = &self.network
            && p.is_some() == mean_degree.is_some()
        {
            return bad("network", "gnp needs exactly one of p and mean_degree");
        }
        let needs_network = matches!(self.model, ModelSpec::Adoption(_) | ModelSpec::Watts(_));
        if needs_network && self.network.is_none() {
            return bad(
                "network",
                "the adoption and Watts models need a [network] table",
            );
        }
        Ok(())
    }
}

/// A value a sweep assigns to a parameter.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum ParamValue {
    /// Integer.
    Integer(i64),
    /// Floating-point number.
    Float(f64),
    /// Boolean.
    Bool(bool),
    /// Anything else, as TOML text.
    Text(String),
}

impl std::fmt::Display for ParamValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Integer(i) => write!(f, "{i}"),
            Self::Float(x) => write!(f, "{x}"),
            Self::Bool(b) => write!(f, "{b}"),
            Self::Text(s) => write!(f, "{s}"),
        }
    }
}

fn param_value(v: &toml::Value) -> ParamValue {
    match v {
        toml::Value::Integer(i) => ParamValue::Integer(*i),
        toml::Value::Float(x) => ParamValue::Float(*x),
        toml::Value::Boolean(b) => ParamValue::Bool(*b),
        toml::Value::String(s) => ParamValue::Text(s.clone()),
        other => ParamValue::Text(other.to_string()),
    }
}

/// One grid point: its parameter assignments and the resulting scenario.
#[derive(Debug, Clone)]
pub struct Point {
    /// Position in the grid (row-major, first axis slowest).
    pub index: usize,
    /// `(path, value)` for each sweep axis.
    pub assignments: Vec<(String, ParamValue)>,
    /// The scenario with the assignments applied.
    pub scenario: Scenario,
}

/// A scenario file with its sweep expanded.
#[derive(Debug, Clone)]
pub struct Experiment {
    /// Folder of the scenario file (relative paths resolve against it).
    pub base_dir: PathBuf,
    /// Sweep axes (dotted paths), sorted.
    pub axes: Vec<String>,
    /// Grid points; a scenario without a sweep has one.
    pub points: Vec<Point>,
    /// The `[sensitivity]` table, if any (used by `signet-sim sensitivity` only).
    pub sensitivity: Option<SensitivitySettings>,
}

impl Experiment {
    /// Reads and expands a scenario file.
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

    /// Parses scenario text; `base_dir` resolves relative paths.
    pub fn parse(text: &str, base_dir: PathBuf) -> Result<Self, ScenarioError> {
        let parse_error = |message: String| ScenarioError::Parse {
            path: PathBuf::from("<scenario>"),
            message,
        };
        let mut table: toml::Table = text
            .parse()
            .map_err(|e: toml::de::Error| parse_error(e.to_string()))?;
        // `[protocol]` configures `signet-sim protocol` (`protocol_mode`), which checks it.
        table.remove("protocol");
        let sweep = match table.remove("sweep") {
            None => toml::Table::new(),
            Some(toml::Value::Table(t)) => t,
            Some(_) => return Err(parse_error("`sweep` must be a table".into())),
        };
        let sensitivity = match table.remove("sensitivity") {
            None => None,
            Some(v @ toml::Value::Table(_)) => {
                let settings: SensitivitySettings = v
                    .try_into()
                    .map_err(|e: toml::de::Error| parse_error(format!("[sensitivity]: {e}")))?;
                Some(settings)
            }
            Some(_) => return Err(parse_error("`sensitivity` must be a table".into())),
        };
        let mut axes = Vec::new();
        for (path, values) in &sweep {
            match values {
                toml::Value::Array(vs) if !vs.is_empty() => axes.push((path.clone(), vs.clone())),
                _ => {
                    return Err(ScenarioError::Sweep {
                        path: path.clone(),
                        reason: "must be a non-empty array of values".into(),
                    });
                }
            }
        }
        let total: usize = axes.iter().map(|(_, v)| v.len()).product();
        if total > 100_000 {
            return Err(ScenarioError::Sweep {
                path: String::new(),
                reason: format!("grid has {total} points; at most 100000"),
            });
        }
        let mut points = Vec::with_capacity(total);
        for index in 0..total {
            let mut remainder = index;
            let mut choice = vec![0usize; axes.len()];
            for (a, (_, values)) in axes.iter().enumerate().rev() {
                choice[a] = remainder % values.len();
                remainder /= values.len();
            }
            let mut point_table = table.clone();
            let mut assignments = Vec::with_capacity(axes.len());
            for (a, (path, values)) in axes.iter().enumerate() {
                let value = values[choice[a]].clone();
                set_path(&mut point_table, path, value.clone())?;
                assignments.push((path.clone(), param_value(&value)));
            }
            let scenario: Scenario = toml::Value::Table(point_table)
                .try_into()
                .map_err(|e: toml::de::Error| parse_error(e.to_string()))?;
            scenario.check()?;
            points.push(Point {
                index,
                assignments,
                scenario,
            });
        }
        Ok(Self {
            base_dir,
            axes: axes.into_iter().map(|(p, _)| p).collect(),
            points,
            sensitivity,
        })
    }
}

/// The value at a dotted path of a TOML table, if there is one.
pub(crate) fn get_path<'t>(table: &'t toml::Table, path: &str) -> Option<&'t toml::Value> {
    let mut parts = path.split('.');
    let mut value = table.get(parts.next()?)?;
    for part in parts {
        value = value.as_table()?.get(part)?;
    }
    Some(value)
}

/// Sets the value at a dotted path, creating tables on the way.
pub(crate) fn set_path(
    table: &mut toml::Table,
    path: &str,
    value: toml::Value,
) -> Result<(), ScenarioError> {
    let sweep_error = |reason: &str| ScenarioError::Sweep {
        path: path.to_owned(),
        reason: reason.to_owned(),
    };
    let parts: Vec<&str> = path.split('.').collect();
    if parts.iter().any(|p| p.is_empty()) {
        return Err(sweep_error("empty path component"));
    }
    if parts[0] == "sweep" {
        return Err(sweep_error("cannot sweep the sweep"));
    }
    let mut current = table;
    for part in &parts[..parts.len() - 1] {
        let entry = current
            .entry((*part).to_owned())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        current = match entry {
            toml::Value::Table(t) => t,
            _ => return Err(sweep_error("path goes through a value that is not a table")),
        };
    }
    let last = parts[parts.len() - 1];
    current.insert(last.to_owned(), value);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = r#"
name = "t"
seed = 5
runs = 2
[network]
kind = "tiered"
tiers = [2, 10, 30]
[model]
kind = "adoption"
paper_cost = 50.0
"#;

    #[test]
    fn parses_defaults() {
        let exp = Experiment::parse(BASE, PathBuf::new()).unwrap();
        assert_eq!(exp.points.len(), 1);
        let s = &exp.points[0].scenario;
        assert_eq!(s.steps, 100);
        match &s.model {
            ModelSpec::Adoption(p) => {
                assert_eq!(p.paper_cost, 50.0);
                assert_eq!(p.steps_per_year, 12);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn rejects_unknown_fields() {
        let typo = BASE.replace("paper_cost", "paper_cots");
        assert!(Experiment::parse(&typo, PathBuf::new()).is_err());
        let typo = BASE.replace("tiers =", "tires =");
        assert!(Experiment::parse(&typo, PathBuf::new()).is_err());
        let top = format!("{BASE}\nstesp = 4\n");
        assert!(
            Experiment::parse(
                &top.replace("[model]", "stesp = 4\n[model]"),
                PathBuf::new()
            )
            .is_err()
        );
    }

    #[test]
    fn expands_grid_first_axis_slowest() {
        let text = format!(
            "{BASE}\n[sweep]\n\"model.paper_cost\" = [40.0, 80.0]\n\"network.overlap\" = [0.1, 0.5, 0.9]\n"
        );
        let exp = Experiment::parse(&text, PathBuf::new()).unwrap();
        assert_eq!(exp.axes, vec!["model.paper_cost", "network.overlap"]);
        assert_eq!(exp.points.len(), 6);
        let p = &exp.points[4];
        assert_eq!(p.assignments[0].1, ParamValue::Float(80.0));
        assert_eq!(p.assignments[1].1, ParamValue::Float(0.5));
        match &p.scenario.network {
            Some(NetworkSpec::Tiered(t)) => assert_eq!(t.overlap, 0.5),
            other => panic!("{other:?}"),
        }
        let bad = format!("{BASE}\n[sweep]\n\"model.no_such\" = [1]\n");
        assert!(Experiment::parse(&bad, PathBuf::new()).is_err());
    }
}
