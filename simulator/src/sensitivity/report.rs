//! Files of a sensitivity analysis: `sensitivity.json` (everything), CSV tables and SVG
//! charts (Morris μ*–σ plots, Sobol bar charts with intervals, ranking sweeps).
//!
//! Like the other outputs, the files are a function of the scenario only: no timings or
//! thread counts, shortest round-trip number formatting.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use plotters::prelude::*;

use super::study::{OutputMorris, OutputSobol, Report, Sweep};
use crate::error::OutputError;

const PALETTE: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
];

fn io(path: &Path) -> impl Fn(std::io::Error) -> OutputError + '_ {
    move |source| OutputError::Io {
        path: path.to_owned(),
        source,
    }
}

fn chart_err(path: &Path) -> impl Fn(String) -> OutputError + '_ {
    move |message| OutputError::Chart {
        path: path.to_owned(),
        message,
    }
}

fn write(path: PathBuf, text: &str, written: &mut Vec<PathBuf>) -> Result<(), OutputError> {
    std::fs::write(&path, text).map_err(io(&path))?;
    written.push(path);
    Ok(())
}

/// A file name for an output or factor name.
fn file_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// A factor path without the `model.` prefix, for chart labels.
fn short(path: &str) -> &str {
    path.strip_prefix("model.").unwrap_or(path)
}

/// An axis label: plain for moderate numbers, scientific for costs and tiny rates.
fn tick(v: f64) -> String {
    if v == 0.0 {
        "0".into()
    } else if v.abs() >= 1e4 || v.abs() < 1e-2 {
        format!("{v:.2e}")
    } else {
        format!("{v:.3}")
    }
}

fn opt(x: Option<f64>) -> String {
    x.map_or_else(String::new, |v| v.to_string())
}

/// Writes every file of `report` into `dir` (created if missing); returns the paths.
pub fn write_all(dir: &Path, report: &Report) -> Result<Vec<PathBuf>, OutputError> {
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let mut written = Vec::new();

    let path = dir.join("sensitivity.json");
    let mut json = serde_json::to_string_pretty(report).map_err(|e| OutputError::Encode {
        path: path.clone(),
        message: e.to_string(),
    })?;
    json.push('\n');
    write(path, &json, &mut written)?;

    let mut csv = String::from("output,factor,mu,mu_star,sigma\n");
    for m in &report.morris {
        for f in &m.factors {
            let _ = writeln!(
                csv,
                "{},{},{},{},{}",
                m.output, f.factor, f.index.mu, f.index.mu_star, f.index.sigma
            );
        }
    }
    write(dir.join("morris.csv"), &csv, &mut written)?;

    let mut csv = String::from(
        "output,factor,first,first_ci95_lo,first_ci95_hi,total,total_ci95_lo,total_ci95_hi\n",
    );
    for s in &report.sobol {
        match &s.factors {
            Some(fs) => {
                for f in fs {
                    let i = &f.index;
                    let _ = writeln!(
                        csv,
                        "{},{},{},{},{},{},{},{}",
                        s.output,
                        f.factor,
                        i.first,
                        i.first_ci95[0],
                        i.first_ci95[1],
                        i.total,
                        i.total_ci95[0],
                        i.total_ci95[1]
                    );
                }
            }
            None => {
                for t in &report.top_factors {
                    let _ = writeln!(csv, "{},{},,,,,,", s.output, t.factor);
                }
            }
        }
    }
    write(dir.join("sobol.csv"), &csv, &mut written)?;

    let r = &report.ranking;
    let mut csv = String::from("factor,value");
    for d in &r.deployments {
        let _ = write!(csv, ",total_cost_{d}");
    }
    csv.push_str(",ordering\n");
    let rows = std::iter::once(("baseline", &r.baseline)).chain(
        r.sweeps
            .iter()
            .flat_map(|s| s.points.iter().map(move |p| (s.factor.as_str(), p))),
    );
    for (factor, p) in rows {
        let _ = write!(csv, "{factor},{}", opt(p.value));
        for c in &p.costs {
            let _ = write!(csv, ",{c}");
        }
        let _ = writeln!(csv, ",{}", p.ordering);
    }
    write(dir.join("ranking-sweeps.csv"), &csv, &mut written)?;

    let mut csv = String::from("factor,from,to,at,bracket_lo,bracket_hi\n");
    for s in &r.sweeps {
        for f in &s.flips {
            let _ = writeln!(
                csv,
                "{},{},{},{},{},{}",
                s.factor, f.from, f.to, f.at, f.bracket[0], f.bracket[1]
            );
        }
    }
    write(dir.join("ranking-flips.csv"), &csv, &mut written)?;

    let mut csv = String::from("ordering,share\n");
    for s in &r.sobol_sample_shares {
        let _ = writeln!(csv, "{},{}", s.ordering, s.share);
    }
    write(dir.join("ranking-shares.csv"), &csv, &mut written)?;

    if !report.scenario.output.charts {
        return Ok(written);
    }
    let charts = dir.join("charts");
    std::fs::create_dir_all(&charts).map_err(io(&charts))?;
    for m in &report.morris {
        if m.factors.iter().any(|f| f.index.mu_star > 0.0) {
            let path = charts.join(format!("morris-{}.svg", file_name(&m.output)));
            morris_chart(&path, &report.scenario.name, m)?;
            written.push(path);
        }
    }
    for s in &report.sobol {
        if s.factors.is_some() {
            let path = charts.join(format!("sobol-{}.svg", file_name(&s.output)));
            sobol_chart(&path, &report.scenario.name, s)?;
            written.push(path);
        }
    }
    for s in &r.sweeps {
        let path = charts.join(format!("ranking-{}.svg", file_name(&s.factor)));
        ranking_chart(&path, &report.scenario.name, &r.deployments, s)?;
        written.push(path);
    }
    let path = charts.join("ranking-shares.svg");
    shares_chart(&path, report)?;
    written.push(path);
    Ok(written)
}

/// μ* (x) against σ (y), one labelled point per factor.
fn morris_chart(path: &Path, name: &str, m: &OutputMorris) -> Result<(), OutputError> {
    let err = chart_err(path);
    let x_max = m
        .factors
        .iter()
        .map(|f| f.index.mu_star)
        .fold(0.0, f64::max)
        * 1.15;
    let y_max = m.factors.iter().map(|f| f.index.sigma).fold(0.0, f64::max) * 1.15;
    let (x_max, y_max) = (
        if x_max > 0.0 { x_max } else { 1.0 },
        if y_max > 0.0 { y_max } else { 1.0 },
    );
    let root = SVGBackend::new(path, (900, 600)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(e.to_string()))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!("{name}: Morris screening of {}", m.output),
            ("sans-serif", 20),
        )
        .margin(20)
        .x_label_area_size(45)
        .y_label_area_size(80)
        .build_cartesian_2d(0f64..x_max, 0f64..y_max)
        .map_err(|e| err(e.to_string()))?;
    chart
        .configure_mesh()
        .x_desc("μ* (mean |elementary effect| per whole factor range)")
        .y_desc("σ (spread of elementary effects)")
        .x_label_formatter(&|v| tick(*v))
        .y_label_formatter(&|v| tick(*v))
        .draw()
        .map_err(|e| err(e.to_string()))?;
    // μ* = σ: above the line, a factor's effect depends strongly on the others.
    let d = x_max.min(y_max);
    chart
        .draw_series(LineSeries::new(
            [(0.0, 0.0), (d, d)],
            BLACK.mix(0.3).stroke_width(1),
        ))
        .map_err(|e| err(e.to_string()))?;
    let mut ranked: Vec<_> = m.factors.iter().collect();
    ranked.sort_by(|a, b| b.index.mu_star.total_cmp(&a.index.mu_star));
    for (rank, f) in ranked.iter().enumerate() {
        let color = if rank < 5 {
            PALETTE[3]
        } else {
            RGBColor(90, 90, 90)
        };
        let at = (f.index.mu_star, f.index.sigma);
        chart
            .draw_series(std::iter::once(Circle::new(at, 4, color.filled())))
            .map_err(|e| err(e.to_string()))?;
        // Label the eight largest only, so the unimportant cluster is not a pile of text.
        if rank < 8 && (f.index.mu_star > 0.0 || f.index.sigma > 0.0) {
            chart
                .draw_series(std::iter::once(Text::new(
                    short(&f.factor).to_owned(),
                    at,
                    ("sans-serif", 13).into_font().color(&color),
                )))
                .map_err(|e| err(e.to_string()))?;
        }
    }
    root.present().map_err(|e| err(e.to_string()))
}

/// First- and total-order indices of each top factor with their 95 % intervals.
fn sobol_chart(path: &Path, name: &str, s: &OutputSobol) -> Result<(), OutputError> {
    let err = chart_err(path);
    let Some(fs) = &s.factors else {
        return Ok(());
    };
    let lo = fs
        .iter()
        .flat_map(|f| [f.index.first_ci95[0], f.index.total_ci95[0]])
        .fold(0.0, f64::min)
        .max(-0.5);
    let hi = fs
        .iter()
        .flat_map(|f| [f.index.first_ci95[1], f.index.total_ci95[1]])
        .fold(1.0, f64::max)
        .min(1.5);
    let labels: Vec<String> = fs.iter().map(|f| short(&f.factor).to_owned()).collect();
    let root = SVGBackend::new(path, (900, 560)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(e.to_string()))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!("{name}: Sobol indices of {}", s.output),
            ("sans-serif", 20),
        )
        .margin(20)
        .x_label_area_size(45)
        .y_label_area_size(60)
        .build_cartesian_2d(-0.5f64..fs.len() as f64 - 0.5, lo..hi)
        .map_err(|e| err(e.to_string()))?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(fs.len().max(2) * 2 + 1)
        .x_label_formatter(&|x| {
            let i = x.round();
            if (x - i).abs() < 1e-6 && i >= 0.0 {
                labels.get(i as usize).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        })
        .y_desc("share of output variance")
        .draw()
        .map_err(|e| err(e.to_string()))?;
    for (series, (label, color, offset)) in [
        ("first order S_i", PALETTE[0], -0.18),
        ("total order ST_i", PALETTE[1], 0.18),
    ]
    .into_iter()
    .enumerate()
    {
        let bars = fs.iter().enumerate().map(|(i, f)| {
            let (v, _) = value_ci(series, f);
            let x = i as f64 + offset;
            Rectangle::new([(x - 0.16, 0.0), (x + 0.16, v)], color.filled())
        });
        chart
            .draw_series(bars)
            .map_err(|e| err(e.to_string()))?
            .label(label)
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], color.filled()));
        let whiskers = fs.iter().enumerate().flat_map(|(i, f)| {
            let (_, [a, b]) = value_ci(series, f);
            let x = i as f64 + offset;
            [
                PathElement::new(vec![(x, a), (x, b)], BLACK.stroke_width(1)),
                PathElement::new(vec![(x - 0.05, a), (x + 0.05, a)], BLACK.stroke_width(1)),
                PathElement::new(vec![(x - 0.05, b), (x + 0.05, b)], BLACK.stroke_width(1)),
            ]
        });
        chart
            .draw_series(whiskers)
            .map_err(|e| err(e.to_string()))?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .draw()
        .map_err(|e| err(e.to_string()))?;
    root.present().map_err(|e| err(e.to_string()))
}

fn value_ci(series: usize, f: &super::study::FactorSobol) -> (f64, [f64; 2]) {
    if series == 0 {
        (f.index.first, f.index.first_ci95)
    } else {
        (f.index.total, f.index.total_ci95)
    }
}

/// Total cost of each deployment model along one factor's range, with the ranking changes.
fn ranking_chart(
    path: &Path,
    name: &str,
    deployments: &[String],
    s: &Sweep,
) -> Result<(), OutputError> {
    let err = chart_err(path);
    let (Some(first), Some(last)) = (s.points.first(), s.points.last()) else {
        return Ok(());
    };
    let x0 = first.value.unwrap_or(0.0);
    let mut x1 = last.value.unwrap_or(1.0);
    if x1 <= x0 {
        x1 = x0 + 1.0;
    }
    let scale = 1e6;
    let costs = s
        .points
        .iter()
        .flat_map(|p| p.costs.iter().map(|c| c / scale));
    let (lo, hi) = costs.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), c| {
        (a.min(c), b.max(c))
    });
    // Room at the top for the legend.
    let span = (hi - lo).max(1e-9);
    let (lo, hi) = ((lo - 0.05 * span).max(0.0), hi + 0.35 * span);
    let root = SVGBackend::new(path, (900, 560)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(e.to_string()))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!("{name}: total cost along {}", short(&s.factor)),
            ("sans-serif", 20),
        )
        .margin(20)
        .x_label_area_size(45)
        .y_label_area_size(70)
        .build_cartesian_2d(x0..x1, lo..hi)
        .map_err(|e| err(e.to_string()))?;
    chart
        .configure_mesh()
        .x_desc(if s.flips.is_empty() {
            format!(
                "{} (others at baseline): no change of ranking",
                short(&s.factor)
            )
        } else {
            let flips: Vec<String> = s
                .flips
                .iter()
                .map(|f| format!("{} from {:.4}", f.to, f.at))
                .collect();
            format!(
                "{} (others at baseline; dashed: ranking flips to {})",
                short(&s.factor),
                flips.join("; ")
            )
        })
        .y_desc("mean total cost over the run (millions)")
        .draw()
        .map_err(|e| err(e.to_string()))?;
    for (k, d) in deployments.iter().enumerate() {
        let color = PALETTE[k % PALETTE.len()];
        let line = s
            .points
            .iter()
            .filter_map(|p| Some((p.value?, p.costs.get(k)? / scale)));
        chart
            .draw_series(LineSeries::new(line, color.stroke_width(2)))
            .map_err(|e| err(e.to_string()))?
            .label(d.clone())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
    }
    for f in &s.flips {
        chart
            .draw_series(DashedLineSeries::new(
                [(f.at, lo), (f.at, hi)],
                6,
                4,
                BLACK.stroke_width(1),
            ))
            .map_err(|e| err(e.to_string()))?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .draw()
        .map_err(|e| err(e.to_string()))?;
    root.present().map_err(|e| err(e.to_string()))
}

/// Share of the Sobol sample won by each ordering (horizontal bars).
fn shares_chart(path: &Path, report: &Report) -> Result<(), OutputError> {
    let err = chart_err(path);
    let shares = &report.ranking.sobol_sample_shares;
    let labels: Vec<String> = shares.iter().map(|s| s.ordering.clone()).collect();
    let n = shares.len().max(1);
    let root = SVGBackend::new(path, (900, 120 + 50 * n as u32)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(e.to_string()))?;
    let top: Vec<String> = report
        .top_factors
        .iter()
        .map(|t| short(&t.factor).to_owned())
        .collect();
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!(
                "{}: cheapest-first ordering of the deployment models",
                report.scenario.name
            ),
            ("sans-serif", 20),
        )
        .margin(20)
        .x_label_area_size(45)
        .y_label_area_size(260)
        .build_cartesian_2d(0f64..1f64, -0.5f64..n as f64 - 0.5)
        .map_err(|e| err(e.to_string()))?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(n * 2 + 1)
        .y_label_formatter(&|y| {
            let i = y.round();
            if (y - i).abs() < 1e-6 && i >= 0.0 {
                labels.get(i as usize).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        })
        .x_desc(format!(
            "share of the Sobol sample over {} (others at baseline)",
            top.join(", ")
        ))
        .draw()
        .map_err(|e| err(e.to_string()))?;
    chart
        .draw_series(shares.iter().enumerate().map(|(i, s)| {
            let y = i as f64;
            Rectangle::new([(0.0, y - 0.3), (s.share, y + 0.3)], PALETTE[0].filled())
        }))
        .map_err(|e| err(e.to_string()))?;
    root.present().map_err(|e| err(e.to_string()))
}
