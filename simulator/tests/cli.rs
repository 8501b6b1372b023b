//! Runs the built `signet-sim` binary on small scenarios and checks its outputs.
// Test helpers outside #[test] functions: failing loudly is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::Command;

const SCENARIO: &str = r#"
name = "cli-test"
seed = 42
runs = 3
steps = 24

[network]
kind = "tiered"
tiers = [3, 30, 150, 400]
communities = 2
overlap = 0.7

[model]
kind = "adoption"
spontaneous_rate = 0.01

[sweep]
"model.paper_cost" = [40.0, 90.0]
"#;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_signet-sim"))
}

fn run_ok(args: &[&str]) -> String {
    let out = bin().args(args).output().expect("binary runs");
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

fn read(dir: &Path, name: &str) -> Vec<u8> {
    std::fs::read(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn run_writes_sane_outputs_identical_for_any_thread_count() {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = tmp.path().join("s.toml");
    std::fs::write(&scenario, SCENARIO).unwrap();
    let s = scenario.to_str().unwrap();
    let one = tmp.path().join("one");
    let two = tmp.path().join("two");
    run_ok(&[
        "run",
        s,
        "--quiet",
        "--threads",
        "1",
        "--out",
        one.to_str().unwrap(),
    ]);
    run_ok(&[
        "run",
        s,
        "--quiet",
        "--threads",
        "2",
        "--out",
        two.to_str().unwrap(),
    ]);
    for name in [
        "summary.json",
        "runs.csv",
        "timeseries.csv",
        "charts/adoption-p0.svg",
        "charts/adoption-p1-federated-by-tier.svg",
    ] {
        assert_eq!(
            read(&one, name),
            read(&two, name),
            "{name} differs between 1 and 2 threads"
        );
    }
    let svg = String::from_utf8(read(&one, "charts/adoption-p0.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("federated") && svg.contains("on_premises"));
    assert!(
        svg.contains("months"),
        "a step of the adoption model is a month"
    );

    // Bands by tier: the chart's numbers are in a CSV beside it, and its means are the
    // summary's mean adoption curves.
    assert_eq!(
        read(&one, "charts/adoption-p1-bands.svg"),
        read(&two, "charts/adoption-p1-bands.svg")
    );
    let summary: serde_json::Value = serde_json::from_slice(&read(&one, "summary.json")).unwrap();
    let mut reader = csv::Reader::from_path(one.join("charts/adoption-p0-bands.csv")).unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(
        rows.len(),
        3 * 5 * 24,
        "3 models x (4 tiers + all) x 24 months"
    );
    for row in &rows {
        let v: Vec<f64> = (5..10).map(|i| row[i].parse().unwrap()).collect();
        assert!(v[3] <= v[0] + 1e-12 && v[0] <= v[4] + 1e-12, "{row:?}");
        assert!(v[1] <= v[0] && v[0] <= v[2], "{row:?}");
        let variant = ["saas", "on_premises", "federated"]
            .iter()
            .position(|d| *d == &row[0])
            .unwrap();
        let step: usize = row[2].parse().unwrap();
        let s = &summary["points"][0]["variants"][variant];
        let expected = match &row[1] {
            "all" => s["mean_adoption"][step - 1].as_f64().unwrap(),
            k => s["mean_adoption_by_tier"][k.parse::<usize>().unwrap()][step - 1]
                .as_f64()
                .unwrap(),
        };
        assert!((v[0] - expected).abs() < 1e-12, "{row:?} vs {expected}");
    }

    // Total yearly contract volume of the network, from the exported edge list.
    let edges = tmp.path().join("edges.csv");
    let firms = tmp.path().join("firms.csv");
    run_ok(&[
        "export",
        s,
        "--edges",
        edges.to_str().unwrap(),
        "--deployment",
        "saas",
        "--firms",
        firms.to_str().unwrap(),
    ]);
    let firms_text = std::fs::read_to_string(&firms).unwrap();
    assert!(firms_text.starts_with("firm,tier,size,soe,sovereign,mandates,blocked,threshold"));
    assert_eq!(firms_text.lines().count(), 1 + 583);
    // SaaS: exactly the data-sovereign firms refuse.
    for line in firms_text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        assert_eq!(f[4], f[6], "{line}");
    }
    let mut reader = csv::Reader::from_path(&edges).unwrap();
    let volume: u64 = reader
        .records()
        .map(|r| r.unwrap()[2].parse::<u64>().unwrap())
        .sum();
    assert!(volume > 0);

    // runs.csv: 2 points × 3 runs × 3 deployment models; every contract counted once.
    let mut reader = csv::Reader::from_path(one.join("runs.csv")).unwrap();
    let headers = reader.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 18);
    for row in &rows {
        let e: u64 = row[col("contracts_electronic")].parse().unwrap();
        let p: u64 = row[col("contracts_paper")].parse().unwrap();
        assert_eq!(e + p, 2 * volume, "24 steps = 2 years of contracts");
        let f: f64 = row[col("final_fraction")].parse().unwrap();
        assert!((0.0..=1.0).contains(&f));
        let performed: u64 = row[col("verifications_performed")].parse().unwrap();
        let avoided: u64 = row[col("verifications_avoided")].parse().unwrap();
        match &row[col("variant")] {
            "on_premises" => assert_eq!(avoided, 0),
            "federated" | "saas" => {
                assert!(performed <= row[col("final_adopters")].parse().unwrap())
            }
            other => panic!("unexpected variant {other}"),
        }
    }
    // A higher paper cost never lowers federated adoption on the same network and seeds.
    let federated = |point: &str, run: &str| -> f64 {
        rows.iter()
            .find(|r| &r[0] == point && &r[col("run")] == run && &r[col("variant")] == "federated")
            .unwrap()[col("final_fraction")]
        .parse()
        .unwrap()
    };
    for run in ["0", "1", "2"] {
        assert!(federated("1", run) >= federated("0", run));
    }

    // timeseries.csv: tier rows add up to the "all" row; adopters never decrease.
    let mut reader = csv::Reader::from_path(one.join("timeseries.csv")).unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 18 * 24 * 5);
    for chunk in rows.chunks(5) {
        let sum = |c: usize| -> u64 {
            chunk[..4]
                .iter()
                .map(|r| r[c].parse::<u64>().unwrap())
                .sum()
        };
        assert_eq!(&chunk[4][4], "all");
        for c in [6, 8, 9, 10, 11, 12, 13] {
            assert_eq!(sum(c), chunk[4][c].parse::<u64>().unwrap());
        }
    }

    let summary: serde_json::Value = serde_json::from_slice(&read(&one, "summary.json")).unwrap();
    let points = summary["points"].as_array().unwrap();
    assert_eq!(points.len(), 2);
    assert_eq!(points[1]["parameters"]["model.paper_cost"], 90.0);
    let variants = points[0]["variants"].as_array().unwrap();
    assert_eq!(variants.len(), 3);
    assert_eq!(
        variants[0]["mean_adoption_by_tier"]
            .as_array()
            .unwrap()
            .len(),
        4
    );
}

#[test]
fn stats_validate_and_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = tmp.path().join("s.toml");
    std::fs::write(&scenario, SCENARIO).unwrap();
    let stats = run_ok(&["stats", scenario.to_str().unwrap()]);
    assert!(stats.contains("tier 3: 400 firms"), "{stats}");
    assert!(stats.contains("brands 3"), "{stats}");

    let report = run_ok(&["validate", "--quick"]);
    assert!(report.contains("0 failed"), "{report}");
    assert!(report.contains("PASS  granovetter/riot"));

    std::fs::write(
        &scenario,
        SCENARIO.replace("spontaneous_rate", "spontaneus_rate"),
    )
    .unwrap();
    let out = bin()
        .args(["run", scenario.to_str().unwrap(), "--quiet", "--out"])
        .arg(tmp.path().join("x"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("spontaneus_rate"));
}

#[test]
fn sweep_axis_from_command_line() {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = tmp.path().join("s.toml");
    std::fs::write(
        &scenario,
        SCENARIO.replace("[sweep]\n\"model.paper_cost\" = [40.0, 90.0]\n", ""),
    )
    .unwrap();
    let out = tmp.path().join("o");
    run_ok(&[
        "sweep",
        scenario.to_str().unwrap(),
        "--quiet",
        "--runs",
        "1",
        "--axis",
        "network.overlap=0.2,0.8",
        "--out",
        out.to_str().unwrap(),
    ]);
    let runs = String::from_utf8(read(&out, "runs.csv")).unwrap();
    assert!(runs.starts_with("point,network.overlap,run,variant"));
    assert_eq!(runs.lines().count(), 1 + 2 * 3);
}

#[test]
fn sensitivity_writes_identical_outputs_for_any_thread_count_and_rejects_bad_ranges() {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = tmp.path().join("s.toml");
    let text = SCENARIO.replace("[sweep]\n\"model.paper_cost\" = [40.0, 90.0]\n", "")
        + "[sensitivity]\ntrajectories = 2\nsamples = 8\nbootstrap = 20\nsweep_points = 3\n\
           bisections = 3\ntop = 2\ndefault_factors = false\n[sensitivity.factors]\n\
           \"model.paper_cost\" = [30.0, 120.0]\n\"network.overlap\" = [0.3, 0.9]\n\
           \"model.federated.operating\" = [0.5, 2.0]\n";
    std::fs::write(&scenario, &text).unwrap();
    let s = scenario.to_str().unwrap();
    let one = tmp.path().join("one");
    let two = tmp.path().join("two");
    for (threads, out) in [("1", &one), ("2", &two)] {
        run_ok(&[
            "sensitivity",
            s,
            "--quiet",
            "--runs",
            "1",
            "--threads",
            threads,
            "--out",
            out.to_str().unwrap(),
        ]);
    }
    for name in [
        "sensitivity.json",
        "morris.csv",
        "sobol.csv",
        "ranking-sweeps.csv",
        "ranking-flips.csv",
        "ranking-shares.csv",
        "charts/ranking-shares.svg",
        "charts/morris-total_cost.federated.svg",
        "charts/sobol-total_cost.federated.svg",
        "charts/ranking-network.overlap.svg",
    ] {
        assert_eq!(read(&one, name), read(&two, name), "{name}");
    }
    let json: serde_json::Value = serde_json::from_slice(&read(&one, "sensitivity.json")).unwrap();
    assert_eq!(json["runs"], 1);
    assert_eq!(json["factors"].as_array().unwrap().len(), 3);
    // A plain run of the same file ignores the [sensitivity] table.
    run_ok(&[
        "run",
        s,
        "--quiet",
        "--out",
        tmp.path().join("r").to_str().unwrap(),
    ]);

    std::fs::write(&scenario, text.replace("[0.3, 0.9]", "[0.9, 0.3]")).unwrap();
    let out = bin()
        .args(["sensitivity", s, "--quiet", "--out"])
        .arg(tmp.path().join("x"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("network.overlap") && stderr.contains("min <= max"),
        "{stderr}"
    );
}

#[test]
fn protocol_command_writes_reports_identical_for_any_thread_count() {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = tmp.path().join("p.toml");
    std::fs::write(
        &scenario,
        "name = \"cli-protocol\"\nseed = 5\nsteps = 6\n\
         [network]\nkind = \"tiered\"\ntiers = [2, 10, 30]\n\
         [model]\nkind = \"adoption\"\nspontaneous_rate = 0.05\n\
         [protocol]\nloss = 0.01\n",
    )
    .unwrap();
    let s = scenario.to_str().unwrap();
    let (one, two) = (tmp.path().join("one"), tmp.path().join("two"));
    for (threads, dir) in [("1", &one), ("2", &two)] {
        run_ok(&[
            "protocol",
            s,
            "--quiet",
            "--threads",
            threads,
            "--out",
            dir.to_str().unwrap(),
        ]);
    }
    for name in ["protocol.json", "protocol-tiers.csv"] {
        assert_eq!(read(&one, name), read(&two, name), "{name}");
    }
    let csv = String::from_utf8(read(&one, "protocol-tiers.csv")).unwrap();
    // Header plus (3 tiers + all) rows for each of the three deployment models.
    assert_eq!(csv.lines().count(), 1 + 3 * 4, "{csv}");
    let json: serde_json::Value = serde_json::from_slice(&read(&one, "protocol.json")).unwrap();
    assert_eq!(json["runs"].as_array().unwrap().len(), 3);
    // The scenario's other commands accept (and ignore) the [protocol] table.
    run_ok(&["stats", s]);
}

/// The shipped CA-certificate scenario: array values in a sweep, and verifications resting on
/// certificates only where firms hold them and the deployment model accepts them.
#[test]
fn ca_certificate_scenario_counts_verifications_by_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/ca-certificates.toml");
    let out = dir.path().join("out");
    run_ok(&[
        "run",
        scenario.to_str().unwrap(),
        "--runs",
        "1",
        "--out",
        out.to_str().unwrap(),
    ]);
    let mut reader = csv::Reader::from_path(out.join("runs.csv")).unwrap();
    let headers = reader.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(
        rows.len(),
        6 * 3,
        "3 shares x 2 acceptance lists, 3 models each"
    );
    for row in &rows {
        let share = &row[col("model.certificate_share")];
        let accepted = &row[col("model.certificate_deployments")];
        let variant = &row[col("variant")];
        let performed: u64 = row[col("verifications_performed")].parse().unwrap();
        let by_certificate: u64 = row[col("verifications_by_certificate")].parse().unwrap();
        assert!(by_certificate <= performed, "{row:?}");
        let accepts = accepted.contains(&format!("\"{variant}\""));
        if share.starts_with("[0.0") || !accepts {
            assert_eq!(by_certificate, 0, "{row:?}");
        } else {
            assert!(by_certificate > 0, "{row:?}");
        }
        if share.starts_with("[0.9") && accepts {
            // Nine in ten firms hold one: most verifications rest on it.
            assert!(by_certificate * 10 > performed * 7, "{row:?}");
        }
    }
}
