//! `signet-sim validate`: the published models against their published or analytic results.
//!
//! Each [`Check`] carries the numbers it compared and whether it passed. [`Scale::Full`] is
//! what the command runs (about ten seconds in a release build on two cores); [`Scale::Quick`]
//! shrinks populations and run counts so unit tests can exercise every check in debug builds.

use rayon::prelude::*;

use crate::adoption::{AdoptionParams, AdoptionRun, Deployment, Firms};
use crate::contagion::{
    BassParams, WattsParams, bass_agent_continuous, bass_agent_discrete, bass_closed_form, cascade,
    cascade_sequential, granovetter, required_from_fractions, watts_run,
};
use crate::generate::{TieredParams, gnp, random_regular, tiered};
use crate::network::Network;
use crate::rng::{below, derive_rng, uniform};

/// Master seed of the validation runs (fixed so results are reproducible).
pub const VALIDATION_SEED: u64 = 1978;

/// How big the validation runs are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    /// The published sizes (n = 10,000 for Watts, N = 100,000 for Bass).
    Full,
    /// Small sizes for tests.
    Quick,
}

/// One validation check.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    /// Short name.
    pub name: String,
    /// What was compared, with numbers.
    pub detail: String,
    /// Whether it passed.
    pub passed: bool,
}

fn check(name: &str, passed: bool, detail: String) -> Check {
    Check {
        name: name.to_owned(),
        detail,
        passed,
    }
}

/// Runs every check.
pub fn run_all(scale: Scale) -> Vec<Check> {
    let mut checks = Vec::new();
    checks.extend(granovetter_checks());
    checks.extend(watts_window(scale));
    checks.extend(watts_regular());
    checks.extend(bass_checks(scale));
    checks.push(order_independence(scale));
    checks.push(adoption_conservation());
    checks
}

fn complete_graph(n: u32) -> Network {
    let pairs = (0..n)
        .flat_map(|a| (a + 1..n).map(move |b| (a, b)))
        .collect();
    // A complete graph on n ≤ 100 nodes is always a valid network.
    Network::undirected(n as usize, pairs).unwrap_or_else(|_| unreachable!("valid by construction"))
}

fn granovetter_checks() -> Vec<Check> {
    let riot: Vec<u32> = (0..100).collect();
    let mut perturbed = riot.clone();
    perturbed[1] = 2;
    let full = granovetter(&riot);
    let stopped = granovetter(&perturbed);
    let k100 = complete_graph(100);
    let engine_full = cascade(&k100, &riot, &[]).size;
    let engine_stopped = cascade(&k100, &perturbed, &[]).size;
    vec![
        check(
            "granovetter/riot",
            full.last() == Some(&100),
            format!(
                "thresholds 0..99: final {} of 100 after {} rounds (published: 100)",
                full.last().copied().unwrap_or(0),
                full.len()
            ),
        ),
        check(
            "granovetter/perturbed",
            stopped.last() == Some(&1),
            format!(
                "threshold 1 raised to 2: final {} (published: 1)",
                stopped.last().copied().unwrap_or(0)
            ),
        ),
        check(
            "granovetter/network-engine",
            engine_full == 100 && engine_stopped == 1,
            format!(
                "event-driven engine on K_100: {engine_full} and {engine_stopped} (expected 100 and 1)"
            ),
        ),
    ]
}

/// Poisson version of Watts's condition: `Σ_k k(k−1) ρ_k p_k / z` with `p_k` Poisson(z) and
/// `ρ_k = [k ≥ 1 and φ ≤ 1/k]`.
fn watts_condition_poisson(z: f64, phi: f64) -> f64 {
    let mut p = (-z).exp();
    let mut sum = 0.0;
    for k in 0..200u32 {
        if k > 0 {
            p *= z / f64::from(k);
        }
        let k = f64::from(k);
        if k >= 1.0 && phi <= 1.0 / k {
            sum += k * (k - 1.0) * p;
        }
    }
    sum / z
}

fn watts_window(scale: Scale) -> Vec<Check> {
    let (n, runs) = match scale {
        Scale::Full => (10_000usize, 400u64),
        Scale::Quick => (1_000, 40),
    };
    let phi = 0.18;
    let global = 0.1;
    let params = WattsParams { phi, phi_sd: 0.0 };
    let mut out = Vec::new();
    for (zi, &z) in [0.5f64, 1.5, 2.0, 3.0, 4.0, 5.0, 10.0].iter().enumerate() {
        let results: Vec<(usize, f64, f64)> = (0..runs)
            .into_par_iter()
            .map(|r| {
                let mut rng = derive_rng(VALIDATION_SEED, "watts", &[zi as u64, r]);
                // Degenerate parameters cannot occur here: p = z/(n−1) is in [0, 1].
                let net = gnp(n, z / (n as f64 - 1.0), &mut rng)
                    .unwrap_or_else(|_| unreachable!("valid probability"));
                let o = watts_run(&net, &params, &mut rng);
                (o.cascade.size, o.condition, o.cascade_probability)
            })
            .collect();
        let freq = results
            .iter()
            .filter(|(s, _, _)| *s as f64 >= global * n as f64)
            .count() as f64
            / runs as f64;
        let g = results.iter().map(|r| r.1).sum::<f64>() / runs as f64;
        let predicted = results.iter().map(|r| r.2).sum::<f64>() / runs as f64;
        let g_poisson = watts_condition_poisson(z, phi);
        let inside = g > 1.0;
        // Sampling error of the frequency (3 standard errors) plus 0.02 for finite size.
        let tolerance = 3.0
            * (predicted * (1.0 - predicted) / runs as f64)
                .sqrt()
                .max(1.0 / runs as f64)
            + 0.02;
        let window_ok = if inside { freq >= 0.2 } else { freq <= 0.05 };
        let ok = window_ok && inside == (g_poisson > 1.0) && (freq - predicted).abs() <= tolerance;
        out.push(check(
            &format!("watts/er-z{z}"),
            ok,
            format!(
                "n={n}, phi={phi}, {runs} runs: cascade condition Σk(k−1)ρ_k p_k/z = {g:.3} (Poisson {g_poisson:.3}) → {} the window; global cascades (≥{}% of nodes) in {freq:.3} of runs (needs {}), analytic extended-vulnerable-cluster probability {predicted:.3} (|diff| ≤ {tolerance:.3})",
                if inside { "inside" } else { "outside" },
                global * 100.0,
                if inside { "≥ 0.2" } else { "≤ 0.05" }
            ),
        ));
    }
    out
}

fn watts_regular() -> Vec<Check> {
    // On a 4-regular graph every node is vulnerable when φ ≤ 1/4, so one seed takes its whole
    // component; when φ > 1/4 nobody is and the cascade stops at the seed.
    let mut out = Vec::new();
    for (phi, expect_all) in [(0.2, true), (0.3, false)] {
        let results: Vec<(usize, usize)> = (0..20u64)
            .map(|r| {
                let mut rng = derive_rng(VALIDATION_SEED, "regular", &[r]);
                let Ok(net) = random_regular(2_000, 4, &mut rng) else {
                    return (0, usize::MAX);
                };
                let req = required_from_fractions(&net, &vec![phi; net.len()]);
                let seed = below(&mut rng, net.len() as u64) as u32;
                (
                    cascade(&net, &req, &[seed]).size,
                    component_size(&net, seed),
                )
            })
            .collect();
        let ok = results.iter().all(|&(size, component)| {
            if expect_all {
                size == component
            } else {
                size == 1
            }
        });
        let sizes = results.iter().map(|r| r.0);
        out.push(check(
            &format!("watts/regular-phi{phi}"),
            ok,
            format!(
                "4-regular, n=2000, phi={phi}: cascade sizes min {} max {} over 20 runs (expected {})",
                sizes.clone().min().unwrap_or(0),
                sizes.max().unwrap_or(0),
                if expect_all { "the seed's whole component" } else { "1, the seed only" }
            ),
        ));
    }
    out
}

fn component_size(net: &Network, start: u32) -> usize {
    let mut seen = vec![false; net.len()];
    let mut stack = vec![start];
    seen[start as usize] = true;
    let mut count = 0;
    while let Some(v) = stack.pop() {
        count += 1;
        for &w in net.neighbours(v as usize) {
            if !seen[w as usize] {
                seen[w as usize] = true;
                stack.push(w);
            }
        }
    }
    count
}

fn bass_checks(scale: Scale) -> Vec<Check> {
    let (population, runs, tolerance) = match scale {
        Scale::Full => (100_000u32, 20u64, 0.01),
        Scale::Quick => (5_000, 4, 0.04),
    };
    let (p, q) = (0.03, 0.38);
    let times: Vec<f64> = (1..=300).map(|k| f64::from(k) * 0.1).collect();
    let curves: Vec<Vec<u32>> = (0..runs)
        .into_par_iter()
        .map(|r| {
            bass_agent_continuous(
                population,
                p,
                q,
                &times,
                &mut derive_rng(VALIDATION_SEED, "bass", &[r]),
            )
        })
        .collect();
    let mean: Vec<f64> = (0..times.len())
        .map(|i| {
            curves.iter().map(|c| f64::from(c[i])).sum::<f64>()
                / (runs as f64 * f64::from(population))
        })
        .collect();
    let (worst_t, worst) = times
        .iter()
        .zip(&mean)
        .map(|(&t, &f)| (t, (f - bass_closed_form(p, q, t)).abs()))
        .fold((0.0, 0.0), |a, b| if b.1 > a.1 { b } else { a });
    // Peak of the adoption rate: analytic t* = ln(q/p)/(p+q).
    let peak_analytic = (q / p).ln() / (p + q);
    let rates: Vec<f64> = std::iter::once(mean[0])
        .chain(mean.windows(2).map(|w| w[1] - w[0]))
        .collect();
    let peak_index = rates
        .iter()
        .enumerate()
        .fold(0, |best, (i, &r)| if r > rates[best] { i } else { best });
    let peak_sim = times[peak_index] - 0.05;

    let dt = 0.05;
    let params = BassParams {
        population,
        p,
        q,
        dt,
    };
    let steps = 400u32;
    let discrete: Vec<Vec<u32>> = (0..runs)
        .into_par_iter()
        .map(|r| {
            bass_agent_discrete(
                &params,
                steps,
                &mut derive_rng(VALIDATION_SEED, "bass-discrete", &[r]),
            )
        })
        .collect();
    let mut worst_discrete: f64 = 0.0;
    for s in (19..steps as usize).step_by(20) {
        let f = discrete.iter().map(|c| f64::from(c[s])).sum::<f64>()
            / (runs as f64 * f64::from(population));
        let t = (s + 1) as f64 * dt;
        worst_discrete = worst_discrete.max((f - bass_closed_form(p, q, t)).abs());
    }
    vec![
        check(
            "bass/agent-continuous",
            worst <= tolerance,
            format!(
                "N={population}, p={p}, q={q}, {runs} runs, exact event-driven simulation: max |mean F_sim(t) − F(t)| over t∈(0,30] = {worst:.4} at t={worst_t:.1} (tolerance {tolerance})"
            ),
        ),
        check(
            "bass/peak-time",
            (peak_sim - peak_analytic).abs() <= 0.5,
            format!(
                "peak adoption rate at t={peak_sim:.2}, analytic ln(q/p)/(p+q) = {peak_analytic:.2} (tolerance 0.5)"
            ),
        ),
        check(
            "bass/agent-discrete",
            worst_discrete <= tolerance,
            format!(
                "per-agent Bernoulli steps of dt={dt}: max |mean F_sim − F(t)| at t=1..20 = {worst_discrete:.4} (tolerance {tolerance})"
            ),
        ),
    ]
}

fn order_independence(scale: Scale) -> Check {
    let graphs = match scale {
        Scale::Full => 200u64,
        Scale::Quick => 20,
    };
    let mismatches: u64 = (0..graphs)
        .into_par_iter()
        .map(|g| {
            let mut rng = derive_rng(VALIDATION_SEED, "order", &[g]);
            let n = 300;
            let net = gnp(n, 4.0 / n as f64, &mut rng).unwrap_or_else(|_| unreachable!());
            let phi: Vec<f64> = (0..n).map(|_| 0.4 * uniform(&mut rng)).collect();
            let req = required_from_fractions(&net, &phi);
            let seeds = [
                below(&mut rng, n as u64) as u32,
                below(&mut rng, n as u64) as u32,
            ];
            let sync = cascade(&net, &req, &seeds).adopted;
            (0..3u64)
                .filter(|&k| {
                    cascade_sequential(
                        &net,
                        &req,
                        &seeds,
                        &mut derive_rng(VALIDATION_SEED, "order-perm", &[g, k]),
                    ) != sync
                })
                .count() as u64
        })
        .sum();
    check(
        "threshold/update-order",
        mismatches == 0,
        format!(
            "{graphs} random graphs × 3 random sequential orders vs synchronous rounds: {mismatches} final adopter sets differ (expected 0)"
        ),
    )
}

fn adoption_conservation() -> Check {
    let net = match tiered(
        &TieredParams::with_tiers(vec![5, 50, 300, 1_000]),
        &mut derive_rng(VALIDATION_SEED, "network", &[0]),
    ) {
        Ok(net) => net,
        Err(e) => {
            return check(
                "adoption/conservation",
                false,
                format!("generator failed: {e}"),
            );
        }
    };
    let params = AdoptionParams {
        spontaneous_rate: 0.01,
        ..AdoptionParams::default()
    };
    let firms = Firms::draw(&net, &params, VALIDATION_SEED, &[0]);
    let yearly: u64 = net.edges().iter().map(|e| u64::from(e.volume)).sum();
    let mut details = Vec::new();
    let mut ok = true;
    for d in Deployment::ALL {
        let mut a = AdoptionRun::new(
            &net,
            &params,
            &firms,
            d,
            derive_rng(VALIDATION_SEED, "dynamics", &[0]),
        );
        let mut b = AdoptionRun::new(
            &net,
            &params,
            &firms,
            d,
            derive_rng(VALIDATION_SEED, "dynamics", &[0]),
        );
        a.run(60);
        b.run(60);
        let contracts: u64 = a
            .trace()
            .steps
            .iter()
            .flatten()
            .map(|t| t.contracts_electronic + t.contracts_paper)
            .sum();
        let same = a.trace() == b.trace();
        let conserved = contracts == 5 * yearly;
        ok &= same && conserved;
        details.push(format!(
            "{}: {contracts} contracts in 5 years vs 5 × {yearly} volume, rerun identical {same}",
            d.name()
        ));
    }
    check("adoption/conservation", ok, details.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contagion::watts_condition;

    #[test]
    fn quick_validation_passes() {
        let checks = run_all(Scale::Quick);
        assert!(checks.len() >= 12);
        for c in &checks {
            assert!(c.passed, "{}: {}", c.name, c.detail);
        }
    }

    #[test]
    fn poisson_condition_matches_hand_value() {
        // z = 4, φ = 0.18: 4 × P(Poisson(4) ≤ 3) = 4 × 0.43347 = 1.7339.
        assert!((watts_condition_poisson(4.0, 0.18) - 1.7339).abs() < 1e-3);
        // And the graph-based value agrees with it on a large G(n, p).
        let mut rng = derive_rng(1, "t", &[]);
        let net = gnp(20_000, 4.0 / 19_999.0, &mut rng).unwrap();
        let g = watts_condition(&net, &required_from_fractions(&net, &vec![0.18; 20_000]));
        assert!((g - 1.7339).abs() < 0.06, "{g}");
    }
}
