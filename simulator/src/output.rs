//! Output files: `summary.json`, `timeseries.csv`, `runs.csv` and SVG charts.
//!
//! Everything written is a function of the scenario and the run records only (no timings,
//! thread counts or dates), and numbers are formatted with Rust's shortest round-trip
//! formatting, so the same scenario and seed give byte-identical files.

use std::io::Write;
use std::path::{Path, PathBuf};

use plotters::prelude::*;
use serde::Serialize;

use crate::adoption::Trace;
use crate::contagion::bass_closed_form;
use crate::error::OutputError;
use crate::experiment::{ExperimentResult, RunRecord};
use crate::rng::SEED_SCHEME;
use crate::scenario::{Experiment, ModelSpec, ParamValue, Point, Scenario};

/// Bins of the cascade-size histogram in `summary.json`.
pub const HISTOGRAM_BINS: usize = 20;

/// Most grid points that get charts (a sweep can have thousands).
pub const MAX_CHARTED_POINTS: usize = 50;

/// Distribution summary of one quantity across runs.
#[derive(Debug, Clone, Serialize)]
pub struct Distribution {
    /// Mean.
    pub mean: f64,
    /// Sample standard deviation (0 for one run).
    pub sd: f64,
    /// Minimum.
    pub min: f64,
    /// 5th percentile (nearest rank).
    pub p05: f64,
    /// Median (nearest rank).
    pub median: f64,
    /// 95th percentile (nearest rank).
    pub p95: f64,
    /// Maximum.
    pub max: f64,
}

impl Distribution {
    /// Summarises `xs` (in the given order for the sums; sorted copy for the ranks).
    pub fn of(xs: &[f64]) -> Self {
        if xs.is_empty() {
            return Self {
                mean: 0.0,
                sd: 0.0,
                min: 0.0,
                p05: 0.0,
                median: 0.0,
                p95: 0.0,
                max: 0.0,
            };
        }
        let n = xs.len() as f64;
        let mean = xs.iter().sum::<f64>() / n;
        let sd = if xs.len() > 1 {
            (xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
        } else {
            0.0
        };
        let mut sorted = xs.to_vec();
        sorted.sort_by(f64::total_cmp);
        let rank = |q: f64| sorted[((q * n).ceil() as usize).clamp(1, sorted.len()) - 1];
        Self {
            mean,
            sd,
            min: sorted[0],
            p05: rank(0.05),
            median: rank(0.5),
            p95: rank(0.95),
            max: sorted[sorted.len() - 1],
        }
    }
}

/// Time to reach an adoption level, across runs.
#[derive(Debug, Clone, Serialize)]
pub struct TimeTo {
    /// Share of runs that reached it.
    pub reached: f64,
    /// Mean step among runs that reached it (`null` if none did).
    pub mean_step: Option<f64>,
}

impl TimeTo {
    fn of(times: impl Iterator<Item = Option<u32>>) -> Self {
        let (mut runs, mut hit, mut sum) = (0u64, 0u64, 0u64);
        for t in times {
            runs += 1;
            if let Some(t) = t {
                hit += 1;
                sum += u64::from(t);
            }
        }
        Self {
            reached: if runs == 0 {
                0.0
            } else {
                hit as f64 / runs as f64
            },
            mean_step: (hit > 0).then(|| sum as f64 / hit as f64),
        }
    }
}

/// Summary of one variant at one grid point.
#[derive(Debug, Clone, Serialize)]
pub struct VariantSummary {
    /// Variant name.
    pub variant: String,
    /// Runs summarised.
    pub runs: usize,
    /// Final adopter fraction across runs (the cascade size distribution).
    pub final_fraction: Distribution,
    /// Share of runs whose final fraction reached `global_fraction`.
    pub p_global_cascade: f64,
    /// 95 % Wilson score interval of `p_global_cascade`.
    pub p_global_cascade_ci95: [f64; 2],
    /// Counts of runs by final fraction in [`HISTOGRAM_BINS`] equal bins over [0, 1].
    pub cascade_size_histogram: Vec<u64>,
    /// Time to 50 % adoption of all firms.
    pub time_to_50: TimeTo,
    /// Time to 90 % adoption of all firms.
    pub time_to_90: TimeTo,
    /// Time to 50 % adoption, per tier.
    pub time_to_50_by_tier: Vec<TimeTo>,
    /// Time to 90 % adoption, per tier.
    pub time_to_90_by_tier: Vec<TimeTo>,
    /// Mean adopter fraction per tier (outer) and step (inner).
    pub mean_adoption_by_tier: Vec<Vec<f64>>,
    /// Mean adopter fraction of all firms per step.
    pub mean_adoption: Vec<f64>,
    /// Mean totals (adoption model only).
    pub mean_totals: Option<MeanTotals>,
    /// Mean of Watts's cascade condition over runs (Watts model only); > 1 means inside the
    /// cascade window.
    pub watts_condition: Option<f64>,
    /// Mean over runs of Watts's analytic probability of a global cascade from one seed (the
    /// extended vulnerable cluster), to compare with `p_global_cascade` (Watts model only).
    pub watts_cascade_probability: Option<f64>,
    /// Closed-form Bass `F(t)` at the end of each step (Bass model only).
    pub bass_closed_form: Option<Vec<f64>>,
    /// Largest |mean simulated fraction − F(t)| over the steps (Bass model only).
    pub bass_max_abs_deviation: Option<f64>,
}

/// Means over runs of the adoption model's totals.
#[derive(Debug, Clone, Serialize)]
pub struct MeanTotals {
    /// Contracts signed electronically.
    pub contracts_electronic: f64,
    /// Contracts signed on paper.
    pub contracts_paper: f64,
    /// Share of contracts signed electronically.
    pub electronic_share: f64,
    /// Identity verifications performed.
    pub verifications_performed: f64,
    /// Identity verifications avoided through reuse.
    pub verifications_avoided: f64,
    /// Identity verifications that rested on a CA certificate the firm held.
    pub verifications_by_certificate: f64,
    /// Seal systems held at the end.
    pub seal_systems: f64,
    /// Seal systems per adopting supplier (tiers ≥ 1) at the end.
    pub seal_systems_per_supplier: f64,
    /// Total cost.
    pub total_cost: f64,
    /// Firms refusing the deployment model.
    pub refusals: f64,
}

/// Summary of one grid point.
#[derive(Debug, Clone, Serialize)]
pub struct PointSummary {
    /// Grid index.
    pub index: usize,
    /// Sweep assignments (path → value).
    pub parameters: std::collections::BTreeMap<String, ParamValue>,
    /// The full scenario of this point.
    pub scenario: Scenario,
    /// One entry per variant.
    pub variants: Vec<VariantSummary>,
}

/// The whole `summary.json`.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// Simulator name and version.
    pub simulator: String,
    /// Seed derivation scheme.
    pub seed_scheme: String,
    /// Sweep axes.
    pub axes: Vec<String>,
    /// Per grid point.
    pub points: Vec<PointSummary>,
}

fn variant_names(records: &[&RunRecord]) -> Vec<&'static str> {
    let mut names: Vec<&'static str> = Vec::new();
    for r in records {
        if !names.contains(&r.variant) {
            names.push(r.variant);
        }
    }
    names
}

fn mean_series(traces: &[&Trace], tier: Option<usize>) -> Vec<f64> {
    let steps = traces.iter().map(|t| t.steps.len()).max().unwrap_or(0);
    (0..steps)
        .map(|s| {
            let mut sum = 0.0;
            for t in traces {
                // Runs that ended earlier (finished cascades) keep their final value.
                let row = t.steps.get(s).or_else(|| t.steps.last());
                let (a, n) = match (row, tier) {
                    (Some(row), Some(k)) => (
                        row.get(k).map_or(0, |x| x.adopters),
                        t.tier_sizes.get(k).copied().unwrap_or(0),
                    ),
                    (Some(row), None) => (
                        row.iter().map(|x| x.adopters).sum(),
                        t.tier_sizes.iter().sum(),
                    ),
                    (None, _) => (0, 0),
                };
                sum += if n == 0 { 0.0 } else { a as f64 / n as f64 };
            }
            sum / traces.len().max(1) as f64
        })
        .collect()
}

/// Builds the summary of an experiment.
pub fn summarise(exp: &Experiment, result: &ExperimentResult) -> Summary {
    let mut points = Vec::with_capacity(exp.points.len());
    for point in &exp.points {
        let records: Vec<&RunRecord> = result
            .records
            .iter()
            .filter(|r| r.point == point.index)
            .collect();
        let mut variants = Vec::new();
        for name in variant_names(&records) {
            let runs: Vec<&RunRecord> = records
                .iter()
                .copied()
                .filter(|r| r.variant == name)
                .collect();
            variants.push(summarise_variant(&point.scenario, name, &runs));
        }
        points.push(PointSummary {
            index: point.index,
            parameters: point.assignments.iter().cloned().collect(),
            scenario: point.scenario.clone(),
            variants,
        });
    }
    Summary {
        simulator: format!("signet-sim {}", env!("CARGO_PKG_VERSION")),
        seed_scheme: format!(
            "ChaCha20 seeded by SHA-256(\"{SEED_SCHEME}\" || seed || stream || indices)"
        ),
        axes: exp.axes.clone(),
        points,
    }
}

fn summarise_variant(s: &Scenario, name: &str, runs: &[&RunRecord]) -> VariantSummary {
    let fractions: Vec<f64> = runs.iter().map(|r| r.totals.final_fraction).collect();
    let mut histogram = vec![0u64; HISTOGRAM_BINS];
    for &f in &fractions {
        histogram[((f * HISTOGRAM_BINS as f64) as usize).min(HISTOGRAM_BINS - 1)] += 1;
    }
    let global = fractions
        .iter()
        .filter(|&&f| f >= s.global_fraction)
        .count();
    let traces: Vec<&Trace> = runs.iter().map(|r| &r.trace).collect();
    let tiers = traces.iter().map(|t| t.tier_sizes.len()).max().unwrap_or(0);
    let n = runs.len().max(1) as f64;
    let mean = |f: &dyn Fn(&RunRecord) -> f64| runs.iter().map(|r| f(r)).sum::<f64>() / n;
    let mean_totals = runs.first().filter(|r| r.has_contracts).map(|_| {
        let electronic = mean(&|r| r.totals.contracts_electronic as f64);
        let paper = mean(&|r| r.totals.contracts_paper as f64);
        MeanTotals {
            contracts_electronic: electronic,
            contracts_paper: paper,
            electronic_share: if electronic + paper > 0.0 {
                electronic / (electronic + paper)
            } else {
                0.0
            },
            verifications_performed: mean(&|r| r.totals.verifications_performed as f64),
            verifications_avoided: mean(&|r| r.totals.verifications_avoided as f64),
            verifications_by_certificate: mean(&|r| r.totals.verifications_by_certificate as f64),
            seal_systems: mean(&|r| r.totals.seal_systems as f64),
            seal_systems_per_supplier: mean(&|r| {
                let last = r.trace.steps.last();
                let (seals, adopters) = last.map_or((0, 0), |row| {
                    row.iter()
                        .skip(1)
                        .fold((0, 0), |(s, a), t| (s + t.seal_systems, a + t.adopters))
                });
                if adopters == 0 {
                    0.0
                } else {
                    seals as f64 / adopters as f64
                }
            }),
            total_cost: mean(&|r| r.totals.total_cost),
            refusals: mean(&|r| r.refusals.unwrap_or(0) as f64),
        }
    });
    let mean_adoption = mean_series(&traces, None);
    let (bass_closed_form_values, bass_dev) = match &s.model {
        ModelSpec::Bass(b) => {
            let f: Vec<f64> = (1..=mean_adoption.len())
                .map(|k| bass_closed_form(b.p, b.q, k as f64 * b.dt))
                .collect();
            let dev = f
                .iter()
                .zip(&mean_adoption)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f64::max);
            (Some(f), Some(dev))
        }
        _ => (None, None),
    };
    VariantSummary {
        variant: name.to_owned(),
        runs: runs.len(),
        final_fraction: Distribution::of(&fractions),
        p_global_cascade: global as f64 / n,
        p_global_cascade_ci95: wilson_interval(global as f64, runs.len() as f64),
        cascade_size_histogram: histogram,
        time_to_50: TimeTo::of(runs.iter().map(|r| r.totals.time_to_50)),
        time_to_90: TimeTo::of(runs.iter().map(|r| r.totals.time_to_90)),
        time_to_50_by_tier: (0..tiers)
            .map(|k| TimeTo::of(runs.iter().map(|r| r.trace.time_to(0.5, Some(k)))))
            .collect(),
        time_to_90_by_tier: (0..tiers)
            .map(|k| TimeTo::of(runs.iter().map(|r| r.trace.time_to(0.9, Some(k)))))
            .collect(),
        mean_adoption_by_tier: (0..tiers).map(|k| mean_series(&traces, Some(k))).collect(),
        mean_adoption,
        mean_totals,
        watts_condition: runs
            .first()
            .and_then(|r| r.watts_condition)
            .map(|_| mean(&|r| r.watts_condition.unwrap_or(0.0))),
        watts_cascade_probability: runs
            .first()
            .and_then(|r| r.watts_cascade_probability)
            .map(|_| mean(&|r| r.watts_cascade_probability.unwrap_or(0.0))),
        bass_closed_form: bass_closed_form_values,
        bass_max_abs_deviation: bass_dev,
    }
}

/// 95 % Wilson score interval for `successes` out of `trials`.
pub fn wilson_interval(successes: f64, trials: f64) -> [f64; 2] {
    if trials <= 0.0 {
        return [0.0, 1.0];
    }
    let z = 1.959_963_984_540_054;
    let p = successes / trials;
    let denominator = 1.0 + z * z / trials;
    let centre = (p + z * z / (2.0 * trials)) / denominator;
    let half = z * (p * (1.0 - p) / trials + z * z / (4.0 * trials * trials)).sqrt() / denominator;
    [(centre - half).max(0.0), (centre + half).min(1.0)]
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> OutputError + '_ {
    move |source| OutputError::Io {
        path: path.to_owned(),
        source,
    }
}

fn write_file(path: &Path, text: &str) -> Result<(), OutputError> {
    std::fs::write(path, text).map_err(io(path))
}

/// Writes a file through a buffer, so large CSV files are never held in memory whole.
fn write_streamed(
    path: &Path,
    body: impl FnOnce(&mut std::io::BufWriter<std::fs::File>) -> std::io::Result<()>,
) -> Result<(), OutputError> {
    let file = std::fs::File::create(path).map_err(io(path))?;
    let mut writer = std::io::BufWriter::with_capacity(1 << 20, file);
    body(&mut writer).map_err(io(path))?;
    writer.flush().map_err(io(path))
}

/// Writes every output of an experiment into `dir` (created if missing). Returns the paths.
pub fn write_all(
    dir: &Path,
    exp: &Experiment,
    result: &ExperimentResult,
) -> Result<Vec<PathBuf>, OutputError> {
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let mut written = Vec::new();
    let summary = summarise(exp, result);

    let path = dir.join("summary.json");
    let mut json = serde_json::to_string_pretty(&summary).map_err(|e| OutputError::Encode {
        path: path.clone(),
        message: e.to_string(),
    })?;
    json.push('\n');
    write_file(&path, &json)?;
    written.push(path);

    let path = dir.join("runs.csv");
    write_streamed(&path, |w| write_runs_csv(w, exp, result))?;
    written.push(path);

    let path = dir.join("timeseries.csv");
    write_streamed(&path, |w| write_timeseries_csv(w, exp, result, &summary))?;
    written.push(path);

    for (point, ps) in exp
        .points
        .iter()
        .zip(&summary.points)
        .take(MAX_CHARTED_POINTS)
    {
        if !point.scenario.output.charts {
            continue;
        }
        let charts = dir.join("charts");
        std::fs::create_dir_all(&charts).map_err(io(&charts))?;
        written.extend(charts_for_point(&charts, point, ps)?);
        if let ModelSpec::Adoption(params) = &point.scenario.model {
            let records: Vec<&RunRecord> = result
                .records
                .iter()
                .filter(|r| r.point == point.index)
                .collect();
            let months_per_step = 12.0 / f64::from(params.steps_per_year);
            written.extend(tier_band_chart(&charts, point, &records, months_per_step)?);
        }
    }
    Ok(written)
}

/// Adoption of one tier (or all firms) across the runs of one variant, step by step.
#[derive(Debug, Clone, PartialEq)]
pub struct Band {
    /// Variant name.
    pub variant: &'static str,
    /// Tier label: the tier number, or `all`.
    pub tier: String,
    /// Runs summarised.
    pub runs: usize,
    /// Per step (1-based step `s` is `steps[s - 1]`): mean, 95 % confidence interval of the
    /// mean (normal approximation), and 2.5 % / 97.5 % percentiles of the runs (linear
    /// interpolation between order statistics).
    pub steps: Vec<BandStep>,
}

/// One step of a [`Band`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BandStep {
    /// Mean adopter share over runs.
    pub mean: f64,
    /// Lower end of the mean's 95 % confidence interval.
    pub mean_ci95_lo: f64,
    /// Upper end of the mean's 95 % confidence interval.
    pub mean_ci95_hi: f64,
    /// 2.5th percentile of the runs.
    pub runs_p025: f64,
    /// 97.5th percentile of the runs.
    pub runs_p975: f64,
}

/// Percentile `q` of sorted values, interpolating linearly between order statistics.
fn percentile(sorted: &[f64], q: f64) -> f64 {
    match sorted.len() {
        0 => 0.0,
        1 => sorted[0],
        n => {
            let h = q * (n - 1) as f64;
            let lo = h.floor() as usize;
            let hi = (lo + 1).min(n - 1);
            sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
        }
    }
}

/// Adoption bands of every variant for every tier and for all firms.
pub fn adoption_bands(records: &[&RunRecord]) -> Vec<Band> {
    let mut bands = Vec::new();
    for variant in variant_names(records) {
        let runs: Vec<&RunRecord> = records
            .iter()
            .copied()
            .filter(|r| r.variant == variant)
            .collect();
        let tiers = runs
            .iter()
            .map(|r| r.trace.tier_sizes.len())
            .max()
            .unwrap_or(0);
        let steps = runs.iter().map(|r| r.trace.steps.len()).max().unwrap_or(0);
        let labels = (0..tiers).map(Some).chain((tiers > 1).then_some(None));
        for tier in labels {
            let mut band = Band {
                variant,
                tier: tier.map_or_else(|| "all".to_owned(), |k| k.to_string()),
                runs: runs.len(),
                steps: Vec::with_capacity(steps),
            };
            for s in 0..steps {
                let mut xs: Vec<f64> = runs
                    .iter()
                    .map(|r| {
                        let row = r.trace.steps.get(s).or_else(|| r.trace.steps.last());
                        let (a, n) = match (row, tier) {
                            (Some(row), Some(k)) => (
                                row.get(k).map_or(0, |x| x.adopters),
                                r.trace.tier_sizes.get(k).copied().unwrap_or(0),
                            ),
                            (Some(row), None) => (
                                row.iter().map(|x| x.adopters).sum(),
                                r.trace.tier_sizes.iter().sum(),
                            ),
                            (None, _) => (0, 0),
                        };
                        if n == 0 { 0.0 } else { a as f64 / n as f64 }
                    })
                    .collect();
                let d = Distribution::of(&xs);
                let half = 1.959_963_984_540_054 * d.sd / (xs.len().max(1) as f64).sqrt();
                xs.sort_by(f64::total_cmp);
                band.steps.push(BandStep {
                    mean: d.mean,
                    mean_ci95_lo: d.mean - half,
                    mean_ci95_hi: d.mean + half,
                    runs_p025: percentile(&xs, 0.025),
                    runs_p975: percentile(&xs, 0.975),
                });
            }
            bands.push(band);
        }
    }
    bands
}

/// `adoption-pN-bands.svg`: one panel per tier and one for all firms, each with every
/// deployment model's mean adoption and the central 95 % of its runs, against months; and
/// `adoption-pN-bands.csv` with the same numbers.
fn tier_band_chart(
    dir: &Path,
    point: &Point,
    records: &[&RunRecord],
    months_per_step: f64,
) -> Result<Vec<PathBuf>, OutputError> {
    let bands = adoption_bands(records);
    let csv_path = dir.join(format!("adoption-p{}-bands.csv", point.index));
    write_streamed(&csv_path, |w| {
        w.write_all(
            b"variant,tier,step,month,runs,mean,mean_ci95_lo,mean_ci95_hi,runs_p025,runs_p975\n",
        )?;
        for b in &bands {
            for (s, x) in b.steps.iter().enumerate() {
                writeln!(
                    w,
                    "{},{},{},{},{},{},{},{},{},{}",
                    b.variant,
                    b.tier,
                    s + 1,
                    (s + 1) as f64 * months_per_step,
                    b.runs,
                    x.mean,
                    x.mean_ci95_lo,
                    x.mean_ci95_hi,
                    x.runs_p025,
                    x.runs_p975
                )?;
            }
        }
        Ok(())
    })?;
    let svg_path = dir.join(format!("adoption-p{}-bands.svg", point.index));
    draw_bands(&svg_path, point, records, &bands, months_per_step)?;
    Ok(vec![svg_path, csv_path])
}

fn draw_bands(
    svg_path: &Path,
    point: &Point,
    records: &[&RunRecord],
    bands: &[Band],
    months_per_step: f64,
) -> Result<(), OutputError> {
    let chart_err = |e: String| OutputError::Chart {
        path: svg_path.to_owned(),
        message: e,
    };
    let mut panels: Vec<String> = Vec::new();
    for b in bands {
        if !panels.contains(&b.tier) {
            panels.push(b.tier.clone());
        }
    }
    let variants = variant_names(records);
    let cols = if panels.len() > 1 { 2 } else { 1 };
    let rows = panels.len().div_ceil(cols).max(1);
    let steps = bands
        .iter()
        .map(|b| b.steps.len())
        .max()
        .unwrap_or(0)
        .max(1);
    let x_max = steps as f64 * months_per_step;
    let runs = bands.first().map_or(0, |b| b.runs);
    let root = SVGBackend::new(svg_path, (1200, 60 + 360 * rows as u32)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| chart_err(e.to_string()))?;
    let root = root
        .titled(
            &format!(
                "{}: adoption by tier, mean and central 95 % of {runs} runs",
                point.scenario.name
            ),
            ("sans-serif", 24),
        )
        .map_err(|e| chart_err(e.to_string()))?;
    let areas = root.split_evenly((rows, cols));
    for (panel, area) in panels.iter().zip(&areas) {
        let title = match panel.as_str() {
            "all" => "all firms".to_owned(),
            "0" => "tier 0 (brands / OEMs)".to_owned(),
            k => format!("tier {k} suppliers"),
        };
        let mut chart = ChartBuilder::on(area)
            .caption(title, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(55)
            .build_cartesian_2d(0f64..x_max, 0f64..1.0f64)
            .map_err(|e| chart_err(e.to_string()))?;
        chart
            .configure_mesh()
            .x_desc("months")
            .y_desc("share of firms adopted")
            .x_label_formatter(&|x| format!("{x:.0}"))
            .label_style(("sans-serif", 13))
            .axis_desc_style(("sans-serif", 14))
            .draw()
            .map_err(|e| chart_err(e.to_string()))?;
        for (i, variant) in variants.iter().enumerate() {
            let Some(b) = bands
                .iter()
                .find(|b| b.variant == *variant && b.tier == *panel)
            else {
                continue;
            };
            let color = PALETTE[i % PALETTE.len()];
            let month = |s: usize| (s + 1) as f64 * months_per_step;
            let outline: Vec<(f64, f64)> = b
                .steps
                .iter()
                .enumerate()
                .map(|(s, x)| (month(s), x.runs_p975))
                .chain(
                    b.steps
                        .iter()
                        .enumerate()
                        .rev()
                        .map(|(s, x)| (month(s), x.runs_p025)),
                )
                .collect();
            chart
                .draw_series(std::iter::once(Polygon::new(
                    outline,
                    color.mix(0.18).filled(),
                )))
                .map_err(|e| chart_err(e.to_string()))?;
            chart
                .draw_series(LineSeries::new(
                    b.steps.iter().enumerate().map(|(s, x)| (month(s), x.mean)),
                    color.stroke_width(2),
                ))
                .map_err(|e| chart_err(e.to_string()))?
                .label(format!("{variant} (mean; band: 95 % of runs)"))
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 6), (x + 20, y + 6)], color.mix(0.35).filled())
                });
        }
        // One legend, in the last panel (all firms), whose curves leave the corner free.
        if Some(panel) != panels.last() {
            continue;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .label_font(("sans-serif", 13))
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()
            .map_err(|e| chart_err(e.to_string()))?;
    }
    root.present().map_err(|e| chart_err(e.to_string()))
}

fn opt<T: std::fmt::Display>(x: Option<T>) -> String {
    x.map_or_else(String::new, |v| v.to_string())
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// `runs.csv`: one row per point, run and variant.
pub fn write_runs_csv<W: Write>(
    out: &mut W,
    exp: &Experiment,
    result: &ExperimentResult,
) -> std::io::Result<()> {
    write!(out, "point")?;
    for axis in &exp.axes {
        write!(out, ",{}", csv_field(axis))?;
    }
    out.write_all(b",run,variant,firms,edges,final_adopters,final_fraction,global_cascade,time_to_50,time_to_90,contracts_electronic,contracts_paper,verifications_performed,verifications_avoided,verifications_by_certificate,seal_systems,total_cost,refusals,watts_condition,watts_cascade_probability\n")?;
    for r in &result.records {
        let point = &exp.points[r.point];
        let t = &r.totals;
        let firms: u64 = r.trace.tier_sizes.iter().sum();
        write!(out, "{}", r.point)?;
        for (_, v) in &point.assignments {
            write!(out, ",{}", csv_field(&v.to_string()))?;
        }
        let global = t.final_fraction >= point.scenario.global_fraction;
        write!(
            out,
            ",{},{},{},{},{},{},{},{},{},",
            r.run,
            r.variant,
            firms,
            r.edges,
            t.final_adopters,
            t.final_fraction,
            u8::from(global),
            opt(t.time_to_50),
            opt(t.time_to_90),
        )?;
        if r.has_contracts {
            write!(
                out,
                "{},{},{},{},{},{},{}",
                t.contracts_electronic,
                t.contracts_paper,
                t.verifications_performed,
                t.verifications_avoided,
                t.verifications_by_certificate,
                t.seal_systems,
                t.total_cost
            )?;
        } else {
            out.write_all(b",,,,,,")?;
        }
        writeln!(
            out,
            ",{},{},{}",
            opt(r.refusals),
            opt(r.watts_condition),
            opt(r.watts_cascade_probability)
        )?;
    }
    Ok(())
}

/// `timeseries.csv`: per point, run (or `mean`), variant, step and tier (and `all`).
pub fn write_timeseries_csv<W: Write>(
    out: &mut W,
    exp: &Experiment,
    result: &ExperimentResult,
    summary: &Summary,
) -> std::io::Result<()> {
    out.write_all(
        b"point,run,variant,step,tier,firms,adopters,adoption_fraction,contracts_electronic,contracts_paper,verifications_performed,verifications_avoided,verifications_by_certificate,seal_systems,cost\n",
    )?;
    for r in &result.records {
        if !exp.points[r.point].scenario.output.per_run_timeseries {
            continue;
        }
        let tiers = r.trace.tier_sizes.len();
        for (s, row) in r.trace.steps.iter().enumerate() {
            let mut all = crate::adoption::TierStep::default();
            for (k, t) in row.iter().enumerate() {
                write_ts_row(out, r, s, &k.to_string(), r.trace.tier_sizes[k], t)?;
                all.adopters += t.adopters;
                all.contracts_electronic += t.contracts_electronic;
                all.contracts_paper += t.contracts_paper;
                all.verifications_performed += t.verifications_performed;
                all.verifications_avoided += t.verifications_avoided;
                all.verifications_by_certificate += t.verifications_by_certificate;
                all.seal_systems += t.seal_systems;
                all.cost += t.cost;
            }
            if tiers > 1 {
                write_ts_row(out, r, s, "all", r.trace.tier_sizes.iter().sum(), &all)?;
            }
        }
    }
    for (point, ps) in exp.points.iter().zip(&summary.points) {
        if point.scenario.output.per_run_timeseries {
            continue;
        }
        for v in &ps.variants {
            let tiers = v.mean_adoption_by_tier.len();
            let labelled = v
                .mean_adoption_by_tier
                .iter()
                .enumerate()
                .map(|(k, series)| (k.to_string(), series))
                .chain((tiers > 1).then(|| ("all".to_owned(), &v.mean_adoption)));
            for (tier, series) in labelled {
                for (s, f) in series.iter().enumerate() {
                    writeln!(
                        out,
                        "{},mean,{},{},{},,,{},,,,,,",
                        point.index,
                        v.variant,
                        s + 1,
                        tier,
                        f
                    )?;
                }
            }
        }
    }
    Ok(())
}

fn write_ts_row<W: Write>(
    out: &mut W,
    r: &RunRecord,
    step: usize,
    tier: &str,
    firms: u64,
    t: &crate::adoption::TierStep,
) -> std::io::Result<()> {
    let fraction = if firms == 0 {
        0.0
    } else {
        t.adopters as f64 / firms as f64
    };
    write!(
        out,
        "{},{},{},{},{},{},{},{}",
        r.point,
        r.run,
        r.variant,
        step + 1,
        tier,
        firms,
        t.adopters,
        fraction
    )?;
    if r.has_contracts {
        writeln!(
            out,
            ",{},{},{},{},{},{},{}",
            t.contracts_electronic,
            t.contracts_paper,
            t.verifications_performed,
            t.verifications_avoided,
            t.verifications_by_certificate,
            t.seal_systems,
            t.cost
        )?;
    } else {
        out.write_all(b",,,,,,,\n")?;
    }
    Ok(())
}

const PALETTE: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
];

/// The x axis of a time chart: its name and how many of its units one step is.
#[derive(Debug, Clone, Copy)]
struct TimeAxis {
    name: &'static str,
    per_step: f64,
}

impl TimeAxis {
    fn of(scenario: &Scenario) -> Self {
        match &scenario.model {
            ModelSpec::Adoption(p) => Self {
                name: "month",
                per_step: 12.0 / f64::from(p.steps_per_year),
            },
            _ => Self {
                name: "step",
                per_step: 1.0,
            },
        }
    }
}

/// Draws `path` (SVG) and writes the plotted numbers to the same name with `.csv`.
fn line_chart(
    path: &Path,
    title: &str,
    series: &[(String, &[f64])],
    axis: TimeAxis,
) -> Result<Vec<PathBuf>, OutputError> {
    let chart_err = |e: String| OutputError::Chart {
        path: path.to_owned(),
        message: e,
    };
    let steps = series
        .iter()
        .map(|(_, s)| s.len())
        .max()
        .unwrap_or(0)
        .max(1);
    let csv_path = path.with_extension("csv");
    write_streamed(&csv_path, |w| {
        write!(w, "step,{}", axis.name)?;
        for (label, _) in series {
            write!(w, ",{}", csv_field(label))?;
        }
        writeln!(w)?;
        for s in 0..steps {
            write!(w, "{},{}", s + 1, (s + 1) as f64 * axis.per_step)?;
            for (_, values) in series {
                write!(w, ",{}", opt(values.get(s)))?;
            }
            writeln!(w)?;
        }
        Ok(())
    })?;
    let root = SVGBackend::new(path, (800, 500)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| chart_err(e.to_string()))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 20))
        .margin(15)
        .x_label_area_size(40)
        .y_label_area_size(55)
        .build_cartesian_2d(0f64..steps as f64 * axis.per_step, 0f64..1.0f64)
        .map_err(|e| chart_err(e.to_string()))?;
    chart
        .configure_mesh()
        .x_desc(if axis.name == "month" {
            "months"
        } else {
            "step"
        })
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_desc("share of firms adopted")
        .draw()
        .map_err(|e| chart_err(e.to_string()))?;
    for (i, (label, values)) in series.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        chart
            .draw_series(LineSeries::new(
                values
                    .iter()
                    .enumerate()
                    .map(|(s, &v)| ((s + 1) as f64 * axis.per_step, v)),
                color.stroke_width(2),
            ))
            .map_err(|e| chart_err(e.to_string()))?
            .label(label.clone())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(|e| chart_err(e.to_string()))?;
    root.present().map_err(|e| chart_err(e.to_string()))?;
    Ok(vec![path.to_owned(), csv_path])
}

fn charts_for_point(
    dir: &Path,
    point: &Point,
    ps: &PointSummary,
) -> Result<Vec<PathBuf>, OutputError> {
    let mut written = Vec::new();
    let label = if point.assignments.is_empty() {
        String::new()
    } else {
        let parts: Vec<String> = point
            .assignments
            .iter()
            .map(|(p, v)| format!("{p}={v}"))
            .collect();
        format!(" ({})", parts.join(", "))
    };
    let path = dir.join(format!("adoption-p{}.svg", point.index));
    let series: Vec<(String, &[f64])> = ps
        .variants
        .iter()
        .map(|v| (v.variant.clone(), v.mean_adoption.as_slice()))
        .collect();
    let title = match point.scenario.model {
        ModelSpec::Adoption(_) => format!(
            "{}: adoption by deployment model{label}",
            point.scenario.name
        ),
        _ => format!("{}: adoption{label}", point.scenario.name),
    };
    let axis = TimeAxis::of(&point.scenario);
    written.extend(line_chart(&path, &title, &series, axis)?);
    for v in &ps.variants {
        if v.mean_adoption_by_tier.len() < 2 {
            continue;
        }
        let path = dir.join(format!(
            "adoption-p{}-{}-by-tier.svg",
            point.index, v.variant
        ));
        let series: Vec<(String, &[f64])> = v
            .mean_adoption_by_tier
            .iter()
            .enumerate()
            .map(|(k, s)| (format!("tier {k}"), s.as_slice()))
            .collect();
        written.extend(line_chart(
            &path,
            &format!(
                "{}: {} adoption by tier{label}",
                point.scenario.name, v.variant
            ),
            &series,
            axis,
        )?);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distribution_ranks() {
        let d = Distribution::of(&[5.0, 1.0, 3.0, 2.0, 4.0]);
        assert_eq!((d.min, d.median, d.max, d.mean), (1.0, 3.0, 5.0, 3.0));
        assert!((d.sd - 2.5f64.sqrt()).abs() < 1e-12);
    }

    #[test]
    fn wilson_interval_known_value() {
        // 84 of 100: Wilson 95 % interval ≈ [0.7564, 0.8988].
        let [lo, hi] = wilson_interval(84.0, 100.0);
        assert!(
            (lo - 0.7564).abs() < 1e-3 && (hi - 0.8988).abs() < 1e-3,
            "{lo} {hi}"
        );
        assert_eq!(wilson_interval(0.0, 0.0), [0.0, 1.0]);
    }

    #[test]
    fn percentiles_interpolate_between_order_statistics() {
        let xs = [1.0, 2.0, 3.0, 4.0, 5.0];
        assert_eq!(percentile(&xs, 0.0), 1.0);
        assert_eq!(percentile(&xs, 0.5), 3.0);
        assert!((percentile(&xs, 0.025) - 1.1).abs() < 1e-12);
        assert!((percentile(&xs, 0.975) - 4.9).abs() < 1e-12);
        assert_eq!(percentile(&[7.0], 0.975), 7.0);
    }

    #[test]
    fn csv_quoting() {
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("ab"), "ab");
    }
}
