//! The `[sensitivity]` table of a scenario: method settings and the factors with their ranges.
//!
//! ```toml
//! [sensitivity]
//! trajectories = 20          # Morris r
//! levels = 4                 # Morris p (even)
//! top = 4                    # factors carried from Morris into Sobol
//! samples = 256              # Sobol base sample N: N (top + 2) model evaluations
//! [sensitivity.factors]      # added to (or replacing) the defaults of DEFAULT_FACTORS
//! "model.paper_cost" = [30.0, 120.0]
//! "network.overlap" = [0.3, 0.9]
//! "model.federated.setup" = [0.5, 2.0]   # a list parameter: a multiplier of the whole list
//! ```

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::SensitivityError;
use crate::scenario::{Scenario, get_path, set_path};

/// How replicate runs at different sample points share random numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Seeding {
    /// Replicate `r` of every sample point uses the streams of run `r` of `signet-sim run`
    /// (common random numbers): the model becomes a deterministic function of the factors,
    /// so differences between points are not sampling noise.
    Common,
    /// Replicate `r` of sample point `s` uses its own streams, indexed by `(s, r)`: the
    /// indices then include the run-to-run noise.
    Independent,
}

/// Settings of `signet-sim sensitivity` (the `[sensitivity]` table); defaults in
/// [`Default`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SensitivitySettings {
    /// Morris trajectories r (each costs `factors + 1` model evaluations).
    pub trajectories: u32,
    /// Morris grid levels p (even).
    pub levels: u32,
    /// Factors with the largest Morris effects carried into the Sobol analysis.
    pub top: u32,
    /// Sobol base sample size N (`N (top + 2)` model evaluations).
    pub samples: u32,
    /// Bootstrap resamples for the Sobol confidence intervals.
    pub bootstrap: u32,
    /// Replicate runs averaged in each model evaluation (default: the scenario's `runs`).
    pub runs: Option<u32>,
    /// Points of each one-at-a-time sweep for the ranking of the deployment models.
    pub sweep_points: u32,
    /// Bisection steps that locate each change of ranking between two sweep points.
    pub bisections: u32,
    /// Random numbers across sample points.
    pub seeding: Seeding,
    /// Outputs whose Morris effects choose the top factors, by name or name prefix (e.g.
    /// `"ranking."`); empty: all outputs.
    pub rank_by: Vec<String>,
    /// Include [`DEFAULT_FACTORS`] (entries of `factors` override their ranges).
    pub default_factors: bool,
    /// Factors: dotted parameter path → `[min, max]`. For a list parameter (costs by size
    /// class, shares by size class) the range is a multiplier of the scenario's whole list.
    pub factors: BTreeMap<String, [f64; 2]>,
}

impl Default for SensitivitySettings {
    fn default() -> Self {
        Self {
            trajectories: 20,
            levels: 4,
            top: 4,
            samples: 256,
            bootstrap: 500,
            runs: None,
            sweep_points: 21,
            bisections: 10,
            seeding: Seeding::Common,
            rank_by: Vec::new(),
            default_factors: true,
            factors: BTreeMap::new(),
        }
    }
}

/// Default factors of the adoption model and their ranges: every cost, share and rate
/// parameter, which MODEL.md §7.7 marks as illustrative assumptions. Scalars are absolute
/// ranges around the defaults; lists are multipliers of the scenario's list.
pub const DEFAULT_FACTORS: [(&str, [f64; 2]); 17] = [
    ("model.paper_cost", [30.0, 120.0]),
    ("model.electronic_cost", [5.0, 30.0]),
    ("model.verification_cost", [200.0, 1500.0]),
    ("model.seal_system_cost", [10.0, 100.0]),
    ("model.horizon_years", [1.0, 5.0]),
    ("model.spontaneous_rate", [0.0005, 0.005]),
    ("model.review_rate", [0.05, 0.4]),
    ("model.dependency_share", [0.1, 0.5]),
    ("model.soe_share", [0.5, 2.0]),
    ("model.sovereignty_share", [0.5, 1.4]),
    ("model.mandate_share", [0.5, 1.6]),
    ("model.saas.setup", [0.5, 2.0]),
    ("model.saas.operating", [0.5, 2.0]),
    ("model.on_premises.setup", [0.5, 2.0]),
    ("model.on_premises.operating", [0.5, 2.0]),
    ("model.federated.setup", [0.5, 2.0]),
    ("model.federated.operating", [0.5, 2.0]),
];

/// How a factor's value enters the scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FactorKind {
    /// A floating-point parameter set to the value.
    Value,
    /// An integer parameter set to the value rounded to the nearest integer.
    Integer,
    /// A list of numbers, each multiplied by the value (integers rounded).
    Scale,
}

/// One factor of the analysis.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Factor {
    /// Dotted parameter path.
    pub path: String,
    /// How the value is applied.
    pub kind: FactorKind,
    /// Lower end of the range.
    pub min: f64,
    /// Upper end of the range.
    pub max: f64,
    /// The scenario's own value (1 for a multiplier).
    pub baseline: f64,
}

impl Factor {
    /// The value at position `u ∈ [0, 1]` of the range.
    pub fn at(&self, u: f64) -> f64 {
        self.min + u * (self.max - self.min)
    }

    /// Name for tables and charts: the path, with `×` for a multiplier.
    pub fn label(&self) -> String {
        match self.kind {
            FactorKind::Scale => format!("{} (×)", self.path),
            _ => self.path.clone(),
        }
    }
}

impl SensitivitySettings {
    /// Checks the settings' ranges (factor paths are checked by [`resolve_factors`]).
    pub fn check(&self) -> Result<(), SensitivityError> {
        let bad = |name: &'static str, reason: &str| {
            Err(SensitivityError::Setting {
                name,
                reason: reason.to_owned(),
            })
        };
        if !(1..=10_000).contains(&self.trajectories) {
            return bad("trajectories", "must be in 1..=10000");
        }
        if self.levels < 2 || self.levels > 100 || !self.levels.is_multiple_of(2) {
            return bad("levels", "must be an even number in 2..=100");
        }
        if self.top == 0 {
            return bad("top", "must be at least 1");
        }
        if !(2..=1 << 20).contains(&self.samples) {
            return bad("samples", "must be in 2..=1048576");
        }
        if self.bootstrap > 100_000 {
            return bad("bootstrap", "at most 100000");
        }
        if self.runs == Some(0) {
            return bad("runs", "must be at least 1");
        }
        if !(2..=10_000).contains(&self.sweep_points) {
            return bad("sweep_points", "must be in 2..=10000");
        }
        if self.bisections > 60 {
            return bad("bisections", "at most 60");
        }
        if !self.default_factors && self.factors.is_empty() {
            return bad("factors", "no factors: give some or keep default_factors");
        }
        Ok(())
    }
}

/// Resolves the factors of `settings` against `base`, a scenario written back as TOML with
/// every default filled in, checking that each path exists, is numeric, has a finite ordered
/// range, and gives a valid scenario at both ends of its range.
pub fn resolve_factors(
    settings: &SensitivitySettings,
    base: &toml::Table,
) -> Result<Vec<Factor>, SensitivityError> {
    let mut ranges: BTreeMap<String, [f64; 2]> = BTreeMap::new();
    if settings.default_factors {
        for (path, range) in DEFAULT_FACTORS {
            ranges.insert(path.to_owned(), range);
        }
    }
    ranges.extend(settings.factors.iter().map(|(p, r)| (p.clone(), *r)));
    let mut factors = Vec::with_capacity(ranges.len());
    for (path, [min, max]) in ranges {
        if !(min.is_finite() && max.is_finite() && min <= max) {
            return Err(SensitivityError::Range { path, min, max });
        }
        let top = path.split('.').next().unwrap_or_default();
        if matches!(top, "sensitivity" | "sweep" | "seed" | "runs" | "name") {
            return Err(SensitivityError::UnknownParameter { path });
        }
        let (kind, baseline) = match get_path(base, &path) {
            None => return Err(SensitivityError::UnknownParameter { path }),
            Some(toml::Value::Float(x)) => (FactorKind::Value, *x),
            Some(toml::Value::Integer(i)) => (FactorKind::Integer, *i as f64),
            Some(toml::Value::Array(xs))
                if !xs.is_empty()
                    && xs
                        .iter()
                        .all(|x| matches!(x, toml::Value::Float(_) | toml::Value::Integer(_))) =>
            {
                (FactorKind::Scale, 1.0)
            }
            Some(_) => return Err(SensitivityError::NotNumeric { path }),
        };
        factors.push(Factor {
            path,
            kind,
            min,
            max,
            baseline,
        });
    }
    for f in &factors {
        for value in [f.min, f.max] {
            let mut table = base.clone();
            apply(&mut table, f, value).map_err(|source| SensitivityError::OutOfDomain {
                path: f.path.clone(),
                value,
                source,
            })?;
            to_scenario(table).map_err(|source| SensitivityError::OutOfDomain {
                path: f.path.clone(),
                value,
                source,
            })?;
        }
    }
    Ok(factors)
}

/// Sets factor `f` to `value` in a resolved scenario table.
pub(crate) fn apply(
    table: &mut toml::Table,
    f: &Factor,
    value: f64,
) -> Result<(), crate::error::ScenarioError> {
    let new = match (f.kind, get_path(table, &f.path)) {
        (FactorKind::Value, _) => toml::Value::Float(value),
        (FactorKind::Integer, _) => toml::Value::Integer(value.round() as i64),
        (FactorKind::Scale, Some(toml::Value::Array(xs))) => toml::Value::Array(
            xs.iter()
                .map(|x| match x {
                    toml::Value::Integer(i) => {
                        toml::Value::Integer((*i as f64 * value).round() as i64)
                    }
                    toml::Value::Float(x) => toml::Value::Float(x * value),
                    other => other.clone(),
                })
                .collect(),
        ),
        (FactorKind::Scale, _) => {
            return Err(crate::error::ScenarioError::Sweep {
                path: f.path.clone(),
                reason: "not a list".into(),
            });
        }
    };
    set_path(table, &f.path, new)
}

/// Deserialises and checks a resolved scenario table.
pub(crate) fn to_scenario(table: toml::Table) -> Result<Scenario, crate::error::ScenarioError> {
    let s: Scenario = toml::Value::Table(table)
        .try_into()
        .map_err(|e: toml::de::Error| crate::error::ScenarioError::Parse {
            path: "<sensitivity>".into(),
            message: e.to_string(),
        })?;
    s.check()?;
    Ok(s)
}
