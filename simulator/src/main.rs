//! `signet-sim`: command-line front end of the Signet adoption simulator.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use signet_sim::adoption::{DecisionRules, Deployment, Firms};
use signet_sim::scenario::{Experiment, ModelSpec};
use signet_sim::sensitivity::{Progress, Study};
use signet_sim::{edgelist, experiment, output, protocol_mode, sensitivity, stats, validate};

#[derive(Debug, Parser)]
#[command(
    name = "signet-sim",
    version,
    about = "Signet adoption simulator: supply networks, contagion models, deployment models"
)]
struct Cli {
    /// Worker threads (default: all cores). Outputs do not depend on it.
    #[arg(long, global = true)]
    threads: Option<usize>,
    /// No progress bar.
    #[arg(long, short, global = true)]
    quiet: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a scenario file (all grid points of its [sweep], if any).
    Run {
        /// Scenario TOML file.
        scenario: PathBuf,
        /// Output folder (default: out/<scenario name>).
        #[arg(long, short)]
        out: Option<PathBuf>,
        /// Override the number of runs per grid point.
        #[arg(long)]
        runs: Option<u32>,
        /// Override the master seed.
        #[arg(long)]
        seed: Option<u64>,
    },
    /// Run a scenario with extra sweep axes given on the command line.
    Sweep {
        /// Scenario TOML file.
        scenario: PathBuf,
        /// Axis as PATH=V1,V2,… (TOML values), e.g. model.paper_cost=30,60,90; repeatable.
        #[arg(long = "axis", short = 'a', value_name = "PATH=VALUES")]
        axes: Vec<String>,
        /// Output folder (default: out/<scenario name>).
        #[arg(long, short)]
        out: Option<PathBuf>,
        /// Override the number of runs per grid point.
        #[arg(long)]
        runs: Option<u32>,
    },
    /// Print statistics of a scenario's network or of an edge-list file.
    Stats {
        /// Scenario whose network to describe (run 0's network).
        scenario: Option<PathBuf>,
        /// Edge-list CSV instead of a scenario.
        #[arg(long, conflicts_with = "scenario")]
        edges: Option<PathBuf>,
        /// Node CSV (tiers, communities) to go with --edges.
        #[arg(long, requires = "edges")]
        nodes: Option<PathBuf>,
        /// Also write the statistics as JSON here.
        #[arg(long)]
        json: Option<PathBuf>,
    },
    /// Export a scenario's network as edge and node CSV files.
    Export {
        /// Scenario file.
        scenario: PathBuf,
        /// Edge CSV to write.
        #[arg(long)]
        edges: PathBuf,
        /// Node CSV to write.
        #[arg(long)]
        nodes: Option<PathBuf>,
        /// Network index (the run, for scenarios that resample networks).
        #[arg(long, default_value_t = 0)]
        index: u64,
        /// Also write per-firm attributes and decision rules of the adoption model (run
        /// `--index`) for this deployment model: saas, on_premises or federated.
        #[arg(long, value_name = "DEPLOYMENT", requires = "firms")]
        deployment: Option<String>,
        /// File for the per-firm attributes (with --deployment).
        #[arg(long, requires = "deployment")]
        firms: Option<PathBuf>,
    },
    /// Global sensitivity analysis of the adoption model: Morris screening, Sobol indices of
    /// the top factors, and where the ranking of the deployment models changes. Factors and
    /// settings come from the scenario's [sensitivity] table (defaults in MODEL.md §8).
    Sensitivity {
        /// Scenario TOML file (adoption model, no [sweep]).
        scenario: PathBuf,
        /// Output folder (default: out/<scenario name>-sensitivity).
        #[arg(long, short)]
        out: Option<PathBuf>,
        /// Override the replicate runs per model evaluation.
        #[arg(long)]
        runs: Option<u32>,
        /// Override the master seed.
        #[arg(long)]
        seed: Option<u64>,
    },
    /// Run the real protocol for every firm of a scenario's network in virtual time
    /// (MODEL.md §9): sessions, verifications, witnesses, faults.
    Protocol {
        /// Scenario TOML file (its `[protocol]` table, if any, configures this mode).
        scenario: PathBuf,
        /// Output folder (default: out/<scenario name>).
        #[arg(long, short)]
        out: Option<PathBuf>,
        /// Override the number of protocol runs.
        #[arg(long)]
        runs: Option<u32>,
        /// Override the number of steps simulated.
        #[arg(long)]
        steps: Option<u32>,
    },
    /// Check the published models against published or analytic results.
    Validate {
        /// Smaller populations (seconds in debug builds); the full set is the reference.
        #[arg(long)]
        quick: bool,
    },
}

fn main() -> ExitCode {
    match real_main() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn real_main() -> Result<ExitCode> {
    let cli = Cli::parse();
    let mut pool = rayon::ThreadPoolBuilder::new();
    if let Some(t) = cli.threads {
        if t == 0 {
            bail!("--threads must be at least 1");
        }
        pool = pool.num_threads(t);
    }
    let pool = pool.build().context("starting worker threads")?;
    pool.install(|| dispatch(&cli))
}

fn dispatch(cli: &Cli) -> Result<ExitCode> {
    match &cli.command {
        Command::Run {
            scenario,
            out,
            runs,
            seed,
        } => {
            let exp = load(scenario, &[], *runs, *seed)?;
            run(&exp, out.as_deref(), cli.quiet)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Sweep {
            scenario,
            axes,
            out,
            runs,
        } => {
            if axes.is_empty() {
                bail!("give at least one --axis PATH=V1,V2,…");
            }
            let exp = load(scenario, axes, *runs, None)?;
            run(&exp, out.as_deref(), cli.quiet)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Stats {
            scenario,
            edges,
            nodes,
            json,
        } => {
            let net = match (scenario, edges) {
                (Some(path), _) => {
                    let exp = Experiment::load(path)?;
                    let Some(point) = exp.points.first() else {
                        bail!("scenario has no grid points");
                    };
                    let Some(spec) = &point.scenario.network else {
                        bail!("the scenario has no [network]");
                    };
                    experiment::build_network(spec, point.scenario.seed, 0, &exp.base_dir)?
                }
                (None, Some(edges)) => edgelist::read(edges, nodes.as_deref())?.network,
                (None, None) => bail!("give a scenario file or --edges FILE"),
            };
            let st = stats::compute(&net);
            print!("{}", stats::render(&st));
            if let Some(path) = json {
                let text = serde_json::to_string_pretty(&st)?;
                std::fs::write(path, text + "\n")
                    .with_context(|| format!("writing {}", path.display()))?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Export {
            scenario,
            edges,
            nodes,
            index,
            deployment,
            firms,
        } => {
            let exp = Experiment::load(scenario)?;
            let Some(point) = exp.points.first() else {
                bail!("scenario has no grid points");
            };
            let Some(spec) = &point.scenario.network else {
                bail!("the scenario has no [network]");
            };
            let net = experiment::build_network(spec, point.scenario.seed, *index, &exp.base_dir)?;
            edgelist::write(&net, edges, nodes.as_deref())?;
            if let (Some(name), Some(path)) = (deployment, firms) {
                let ModelSpec::Adoption(params) = &point.scenario.model else {
                    bail!("--firms needs a scenario with the adoption model");
                };
                let Some(d) = Deployment::ALL.into_iter().find(|d| d.name() == name) else {
                    bail!("unknown deployment {name:?}: saas, on_premises or federated");
                };
                write_firms(path, &net, params, point.scenario.seed, *index, d)?;
            }
            eprintln!("wrote {} firms, {} edges", net.len(), net.edge_count());
            Ok(ExitCode::SUCCESS)
        }
        Command::Sensitivity {
            scenario,
            out,
            runs,
            seed,
        } => {
            let mut exp = load(scenario, &[], None, *seed)?;
            if let Some(r) = runs {
                exp.sensitivity.get_or_insert_with(Default::default).runs = Some(*r);
            }
            sensitivity(&exp, out.as_deref(), cli.quiet)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Protocol {
            scenario,
            out,
            runs,
            steps,
        } => {
            protocol(scenario, out.as_deref(), *runs, *steps, cli.quiet)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Validate { quick } => {
            let scale = if *quick {
                validate::Scale::Quick
            } else {
                validate::Scale::Full
            };
            let checks = validate::run_all(scale);
            let mut failed = 0;
            for c in &checks {
                println!(
                    "{}  {:<28} {}",
                    if c.passed { "PASS" } else { "FAIL" },
                    c.name,
                    c.detail
                );
                failed += usize::from(!c.passed);
            }
            println!("{} checks, {} failed", checks.len(), failed);
            Ok(if failed == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
    }
}

fn protocol(
    path: &Path,
    out: Option<&Path>,
    runs: Option<u32>,
    steps: Option<u32>,
    quiet: bool,
) -> Result<()> {
    let mut ps = protocol_mode::ProtocolScenario::load(path)?;
    if let Some(r) = runs {
        ps.params.runs = r;
    }
    if let Some(s) = steps {
        ps.params.steps = Some(s);
    }
    let out = out.map_or_else(
        || PathBuf::from("out").join(&ps.scenario.name),
        Path::to_path_buf,
    );
    let result = protocol_mode::run(&ps)?;
    let written = protocol_mode::write(&out, &ps, &result)?;
    if !quiet {
        for (r, t) in result.runs.iter().zip(&result.timing) {
            let all = &r.total;
            eprintln!(
                "run {} {:<11} contracts {} electronic {} failed {} refused {} in flight {} \
                 verifications {} avoided {} ({:.1} s)",
                r.run,
                r.deployment,
                all.contracts,
                all.electronic,
                all.failed,
                all.refused,
                all.in_flight + all.waiting_at_end,
                all.verifications_performed,
                all.verifications_avoided,
                t.wall_seconds
            );
        }
        eprintln!("wrote {} files to {}", written.len(), out.display());
    }
    Ok(())
}

/// Per-firm attributes and decision rules, for re-implementing the model elsewhere.
fn write_firms(
    path: &Path,
    net: &signet_sim::network::Network,
    params: &signet_sim::adoption::AdoptionParams,
    seed: u64,
    index: u64,
    deployment: Deployment,
) -> Result<()> {
    use std::fmt::Write as _;
    let firms = Firms::draw(net, params, seed, &[index]);
    let rules = DecisionRules::new(net, params, &firms, deployment);
    let mut out = String::from(
        "firm,tier,size,soe,sovereign,mandates,blocked,threshold,anticipated,certified\n",
    );
    for i in 0..net.len() {
        let _ = writeln!(
            out,
            "{i},{},{},{},{},{},{},{},{},{}",
            net.tiers()[i],
            firms.size[i] as u8,
            u8::from(firms.soe[i]),
            u8::from(firms.sovereign[i]),
            u8::from(firms.mandates[i]),
            u8::from(rules.blocked[i]),
            rules.threshold[i],
            rules.anticipated[i],
            u8::from(firms.certified[i])
        );
    }
    std::fs::write(path, out).with_context(|| format!("writing {}", path.display()))
}

fn load(path: &Path, axes: &[String], runs: Option<u32>, seed: Option<u64>) -> Result<Experiment> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut table: toml::Table = text
        .parse()
        .with_context(|| format!("parsing {}", path.display()))?;
    if !axes.is_empty() {
        let sweep = table
            .entry("sweep")
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        let Some(sweep) = sweep.as_table_mut() else {
            bail!("`sweep` in the scenario is not a table");
        };
        for axis in axes {
            let Some((name, values)) = axis.split_once('=') else {
                bail!("axis {axis:?}: expected PATH=V1,V2,…");
            };
            let parsed: toml::Table = format!("v = [{values}]")
                .parse()
                .with_context(|| format!("axis {name}: values must be TOML values"))?;
            let Some(v) = parsed.get("v") else {
                bail!("axis {name}: no values");
            };
            sweep.insert(name.trim().to_owned(), v.clone());
        }
    }
    if let Some(r) = runs {
        table.insert("runs".into(), toml::Value::Integer(i64::from(r)));
    }
    if let Some(s) = seed {
        let Ok(s) = i64::try_from(s) else {
            bail!("--seed must fit a TOML integer (< 2^63)");
        };
        table.insert("seed".into(), toml::Value::Integer(s));
    }
    let base_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    Experiment::parse(&toml::to_string(&table)?, base_dir)
        .with_context(|| format!("in {}", path.display()))
}

fn progress_bar(quiet: bool, length: u64, unit: &str) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(length), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template(&format!(
        "{{elapsed_precise}} [{{bar:40}}] {{pos}}/{{len}} {unit} ({{eta}} left)"
    )) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

fn sensitivity(exp: &Experiment, out: Option<&Path>, quiet: bool) -> Result<()> {
    let study = Study::new(exp)?;
    let Some(first) = exp.points.first() else {
        bail!("scenario has no grid points");
    };
    let out = out.map_or_else(
        || PathBuf::from("out").join(format!("{}-sensitivity", first.scenario.name)),
        Path::to_path_buf,
    );
    let bar = progress_bar(quiet, 0, "model evaluations");
    let report = study.run(&|p| match p {
        Progress::Planned(n) => bar.inc_length(n),
        Progress::Done(n) => bar.inc(n),
    })?;
    bar.finish_and_clear();
    let written = sensitivity::report::write_all(&out, &report)?;
    if !quiet {
        let top: Vec<&str> = report
            .top_factors
            .iter()
            .map(|t| t.factor.as_str())
            .collect();
        eprintln!(
            "{} factors, {} model evaluations of {} run(s) x {} deployment model(s); \
             top factors: {}; wrote {} files to {}",
            report.factors.len(),
            report.evaluations,
            report.runs,
            report.ranking.deployments.len(),
            top.join(", "),
            written.len(),
            out.display()
        );
    }
    Ok(())
}

fn run(exp: &Experiment, out: Option<&Path>, quiet: bool) -> Result<()> {
    let Some(first) = exp.points.first() else {
        bail!("scenario has no grid points");
    };
    let out = out.map_or_else(
        || PathBuf::from("out").join(&first.scenario.name),
        Path::to_path_buf,
    );
    let bar = progress_bar(quiet, experiment::task_count(exp), "run-steps");
    let result = experiment::run(exp, &|n| bar.inc(n))?;
    bar.finish_and_clear();
    let written = output::write_all(&out, exp, &result)?;
    if !quiet {
        eprintln!(
            "{} grid point(s), {} run record(s); wrote {} files to {}",
            exp.points.len(),
            result.records.len(),
            written.len(),
            out.display()
        );
    }
    Ok(())
}
