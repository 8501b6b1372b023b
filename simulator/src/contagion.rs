//! The published contagion models, implemented as published, used to validate the engine.
//!
//! * Watts (2002), "A simple model of global cascades on random networks", PNAS 99:5766.
//!   A node adopts once at least a fraction φ of its neighbours have adopted; a cascade starts
//!   from a single random seed; the cascade condition (his eq. 4) is
//!   `Σ_k k(k−1) ρ_k p_k > z`, with `ρ_k` the share of degree-k nodes that are *vulnerable*
//!   (adopt after one neighbour does, φ ≤ 1/k).
//! * Granovetter (1978), "Threshold models of collective behavior", AJS 83:1420. Each person
//!   joins once the number of others who have joined reaches their threshold; the riot example
//!   (thresholds 0, 1, …, 99) and its one-threshold perturbation.
//! * Bass (1969), "A new product growth for model consumer durables", Management Science
//!   15:215. Each non-adopter adopts at hazard `p + q F(t)`; closed form
//!   `F(t) = (1 − e^{−(p+q)t}) / (1 + (q/p) e^{−(p+q)t})`.
//!
//! Threshold cascades are monotone (nobody un-adopts and neighbour counts only grow), so the
//! final adopter set is the smallest fixed point containing the seeds and does not depend on
//! the order in which nodes are updated; [`cascade`] computes it round by round (synchronous
//! rounds), [`cascade_sequential`] in a random sequential order, and tests check they agree.

use rand_core::Rng;
use serde::{Deserialize, Serialize};

use crate::network::Network;
use crate::rng::{below, exponential, geometric_skip, shuffle};

/// Marker for "never adopts through neighbours" in a required-count vector.
pub const NEVER: u32 = u32::MAX;

/// Outcome of a threshold cascade.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cascade {
    /// Whether each node adopted.
    pub adopted: Vec<bool>,
    /// Round in which each node adopted (`u32::MAX` if never; seeds adopt in round 0).
    pub round: Vec<u32>,
    /// Number of new adopters in each round, round 0 first.
    pub new_per_round: Vec<u32>,
    /// Final number of adopters.
    pub size: usize,
}

/// Converts fractional thresholds into the number of adopted neighbours each node needs:
/// the least `a` with `a / k >= φ` (Watts's rule, evaluated exactly as the fraction), or
/// [`NEVER`] for isolated nodes, which have no fraction to reach.
pub fn required_from_fractions(net: &Network, phi: &[f64]) -> Vec<u32> {
    (0..net.len())
        .map(|i| {
            let k = net.degree(i);
            if k == 0 {
                return NEVER;
            }
            let reaches = |a: usize| (a as f64) / (k as f64) >= phi[i];
            let mut a = ((phi[i] * k as f64).ceil().max(0.0) as usize).min(k + 1);
            while a > 0 && reaches(a - 1) {
                a -= 1;
            }
            while a <= k && !reaches(a) {
                a += 1;
            }
            if a > k { NEVER } else { a as u32 }
        })
        .collect()
}

/// Runs a monotone threshold cascade from `seeds` (plus every node whose requirement is 0) in
/// synchronous rounds: a node adopts in round `r + 1` once the adopters of rounds `0..=r`
/// among its neighbours reach its requirement. Event-driven: only neighbours of new adopters
/// are touched, so the cost is O(n + m).
pub fn cascade(net: &Network, required: &[u32], seeds: &[u32]) -> Cascade {
    let n = net.len();
    let mut adopted = vec![false; n];
    let mut round = vec![u32::MAX; n];
    let mut count = vec![0u32; n];
    let mut frontier: Vec<u32> = Vec::new();
    for &s in seeds {
        if !adopted[s as usize] {
            adopted[s as usize] = true;
            round[s as usize] = 0;
            frontier.push(s);
        }
    }
    for i in 0..n {
        if required[i] == 0 && !adopted[i] {
            adopted[i] = true;
            round[i] = 0;
            frontier.push(i as u32);
        }
    }
    let mut new_per_round = vec![frontier.len() as u32];
    let mut size = frontier.len();
    let mut next: Vec<u32> = Vec::new();
    let mut r = 0u32;
    while !frontier.is_empty() {
        r += 1;
        for &v in &frontier {
            for &w in net.neighbours(v as usize) {
                let w = w as usize;
                count[w] += 1;
                if !adopted[w] && count[w] == required[w] {
                    adopted[w] = true;
                    round[w] = r;
                    next.push(w as u32);
                }
            }
        }
        if next.is_empty() {
            break;
        }
        size += next.len();
        new_per_round.push(next.len() as u32);
        std::mem::swap(&mut frontier, &mut next);
        next.clear();
    }
    Cascade {
        adopted,
        round,
        new_per_round,
        size,
    }
}

/// Reference implementation with a different update order: repeated sweeps over the nodes in
/// a random order, each node adopting as soon as its currently adopted neighbours reach its
/// requirement (asynchronous updating). Quadratic in the worst case; for tests only.
pub fn cascade_sequential<R: Rng + ?Sized>(
    net: &Network,
    required: &[u32],
    seeds: &[u32],
    rng: &mut R,
) -> Vec<bool> {
    let n = net.len();
    let mut adopted = vec![false; n];
    for &s in seeds {
        adopted[s as usize] = true;
    }
    let mut order: Vec<usize> = (0..n).collect();
    loop {
        shuffle(rng, &mut order);
        let mut changed = false;
        for &i in &order {
            if adopted[i] {
                continue;
            }
            let have = net
                .neighbours(i)
                .iter()
                .filter(|&&j| adopted[j as usize])
                .count() as u64;
            if u64::from(required[i]) <= have {
                adopted[i] = true;
                changed = true;
            }
        }
        if !changed {
            return adopted;
        }
    }
}

/// Watts's cascade condition evaluated on a given graph and requirement vector: returns
/// `Σ_k k(k−1) ρ_k p_k / z`, computed node by node as `Σ_i k_i(k_i−1)[i vulnerable] / Σ_i k_i`,
/// where node `i` is vulnerable when one adopted neighbour suffices (`required ≤ 1`). Global
/// cascades are possible when the value exceeds 1.
pub fn watts_condition(net: &Network, required: &[u32]) -> f64 {
    let mut numerator = 0u128;
    let mut z = 0u128;
    for (i, &need) in required.iter().enumerate().take(net.len()) {
        let k = net.degree(i) as u128;
        z += k;
        if k >= 1 && need <= 1 {
            numerator += k * (k - 1);
        }
    }
    if z == 0 {
        0.0
    } else {
        numerator as f64 / z as f64
    }
}

/// Watts's analytic probability that a single random seed triggers a global cascade: the
/// share of nodes in the *extended vulnerable cluster* (the giant cluster of vulnerable nodes
/// plus its neighbours), from generating functions on the graph's degree distribution
/// (configuration-model approximation; Watts 2002, after Newman, Strogatz and Watts 2001).
///
/// With `p_k` the share of nodes of degree k, `ρ_k` the share of those that are vulnerable,
/// `z` the mean degree and `q_k = (k+1) p_{k+1} / z`, the probability `u` that an edge does
/// not lead into the giant vulnerable cluster is the smallest root in [0, 1] of
/// `u = Σ_k q_k (1 − ρ_{k+1} + ρ_{k+1} u^k)`, and the cascade probability is
/// `1 − Σ_k p_k u^k`.
pub fn watts_cascade_probability(net: &Network, required: &[u32]) -> f64 {
    let n = net.len();
    if n == 0 {
        return 0.0;
    }
    let max_degree = (0..n).map(|i| net.degree(i)).max().unwrap_or(0);
    let mut count = vec![0f64; max_degree + 2];
    let mut vulnerable = vec![0f64; max_degree + 2];
    for i in 0..n {
        let k = net.degree(i);
        count[k] += 1.0;
        if k >= 1 && required[i] <= 1 {
            vulnerable[k] += 1.0;
        }
    }
    let p: Vec<f64> = count.iter().map(|c| c / n as f64).collect();
    let rho: Vec<f64> = count
        .iter()
        .zip(&vulnerable)
        .map(|(c, v)| if *c > 0.0 { v / c } else { 0.0 })
        .collect();
    let z: f64 = p.iter().enumerate().map(|(k, pk)| k as f64 * pk).sum();
    if z <= 0.0 {
        return 0.0;
    }
    let q: Vec<f64> = (0..=max_degree)
        .map(|k| (k + 1) as f64 * p[k + 1] / z)
        .collect();
    // Fixed-point iteration from 0 increases monotonically to the smallest root.
    let mut u = 0.0f64;
    for _ in 0..100_000 {
        let mut next = 0.0;
        let mut power = 1.0; // u^k
        for k in 0..=max_degree {
            next += q[k] * (1.0 - rho[k + 1] + rho[k + 1] * power);
            power *= u;
        }
        let done = (next - u).abs() < 1e-13;
        u = next;
        if done {
            break;
        }
    }
    let mut generating = 0.0;
    let mut power = 1.0;
    for pk in p.iter().take(max_degree + 1) {
        generating += pk * power;
        power *= u;
    }
    (1.0 - generating).clamp(0.0, 1.0)
}

/// Parameters of Watts's model as they appear in a scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WattsParams {
    /// Mean threshold φ.
    pub phi: f64,
    /// Standard deviation of thresholds across nodes (0: all equal, as in Watts's Fig. 1).
    #[serde(default)]
    pub phi_sd: f64,
}

/// Draws per-node thresholds `φ_i ~ N(phi, phi_sd)` truncated to [0, 1].
pub fn watts_thresholds<R: Rng + ?Sized>(n: usize, params: &WattsParams, rng: &mut R) -> Vec<f64> {
    (0..n)
        .map(|_| {
            if params.phi_sd > 0.0 {
                (params.phi + params.phi_sd * crate::rng::standard_normal(rng)).clamp(0.0, 1.0)
            } else {
                params.phi
            }
        })
        .collect()
}

/// One Watts run on `net` from one uniformly random seed, with the analytic quantities of the
/// same graph and thresholds.
#[derive(Debug, Clone)]
pub struct WattsOutcome {
    /// The cascade.
    pub cascade: Cascade,
    /// [`watts_condition`] of this graph.
    pub condition: f64,
    /// [`watts_cascade_probability`] of this graph.
    pub cascade_probability: f64,
}

/// One Watts cascade on `net` from one uniformly random seed.
pub fn watts_run<R: Rng + ?Sized>(
    net: &Network,
    params: &WattsParams,
    rng: &mut R,
) -> WattsOutcome {
    let phi = watts_thresholds(net.len(), params, rng);
    let required = required_from_fractions(net, &phi);
    let condition = watts_condition(net, &required);
    let cascade_probability = watts_cascade_probability(net, &required);
    // An empty graph has no node to seed.
    let seeds: Vec<u32> = if net.is_empty() {
        Vec::new()
    } else {
        vec![below(rng, net.len() as u64) as u32]
    };
    WattsOutcome {
        cascade: cascade(net, &required, &seeds),
        condition,
        cascade_probability,
    }
}

/// Granovetter's model in its original, fully mixed form: `thresholds[i]` is the number of
/// *others* who must have joined before person `i` joins. Returns the cumulative number of
/// participants after each round, starting with round 0 (those with threshold 0), until the
/// equilibrium `r = #{i : θ_i ≤ r}` is reached.
pub fn granovetter(thresholds: &[u32]) -> Vec<u32> {
    let mut histogram = vec![0u32; thresholds.len() + 1];
    for &t in thresholds {
        histogram[(t as usize).min(thresholds.len())] += 1;
    }
    // cumulative[r] = number of people with threshold <= r
    let mut cumulative = Vec::with_capacity(histogram.len());
    let mut acc = 0u32;
    for h in &histogram {
        acc += h;
        cumulative.push(acc);
    }
    let mut trajectory = vec![cumulative[0]];
    loop {
        let current = *trajectory.last().unwrap_or(&0) as usize;
        let next = cumulative[current.min(thresholds.len())];
        if next as usize == current {
            return trajectory;
        }
        trajectory.push(next);
    }
}

/// Threshold distribution for Granovetter runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "distribution", rename_all = "snake_case", deny_unknown_fields)]
pub enum GranovetterThresholds {
    /// Granovetter's riot: thresholds 0, 1, …, n−1, optionally with `bump` people's thresholds
    /// raised by one (the person with threshold 1 moved to 2 stops the riot at 1).
    Uniform {
        /// Number of people.
        population: u32,
        /// Person whose threshold is raised by one (`None`: nobody).
        #[serde(default)]
        bump: Option<u32>,
    },
    /// Normally distributed thresholds (rounded, negative values set to 0), as in
    /// Granovetter's second example (mean 25, varying standard deviation, 100 people).
    Normal {
        /// Number of people.
        population: u32,
        /// Mean threshold (people).
        mean: f64,
        /// Standard deviation (people).
        sd: f64,
    },
}

impl GranovetterThresholds {
    /// Draws (or lists) the thresholds.
    pub fn draw<R: Rng + ?Sized>(&self, rng: &mut R) -> Vec<u32> {
        match self {
            Self::Uniform { population, bump } => (0..*population)
                .map(|i| if Some(i) == *bump { i + 1 } else { i })
                .collect(),
            Self::Normal {
                population,
                mean,
                sd,
            } => (0..*population)
                .map(|_| {
                    (mean + sd * crate::rng::standard_normal(rng))
                        .round()
                        .clamp(0.0, f64::from(u32::MAX - 1)) as u32
                })
                .collect(),
        }
    }
}

/// Bass model parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BassParams {
    /// Population size (agents, fully mixed).
    pub population: u32,
    /// Coefficient of innovation p (per unit time).
    pub p: f64,
    /// Coefficient of imitation q (per unit time).
    pub q: f64,
    /// Length of one step in model time units (outputs are reported at the end of each step).
    #[serde(default = "one_f64")]
    pub dt: f64,
}

fn one_f64() -> f64 {
    1.0
}

/// Closed-form Bass adoption fraction `F(t) = (1 − e^{−(p+q)t}) / (1 + (q/p) e^{−(p+q)t})`.
pub fn bass_closed_form(p: f64, q: f64, t: f64) -> f64 {
    let e = (-(p + q) * t).exp();
    (1.0 - e) / (1.0 + (q / p) * e)
}

/// Agent-based Bass model in continuous time, simulated exactly (Gillespie): every
/// non-adopter adopts at hazard `p + q A/N`, so the next adoption comes after an exponential
/// time with rate `(N − A)(p + q A/N)` and is a uniformly chosen non-adopter. Returns the
/// number of adopters at each time in `times` (ascending).
pub fn bass_agent_continuous<R: Rng + ?Sized>(
    population: u32,
    p: f64,
    q: f64,
    times: &[f64],
    rng: &mut R,
) -> Vec<u32> {
    let n = f64::from(population);
    let mut non_adopters: Vec<u32> = (0..population).collect();
    let mut adopters = 0u32;
    let mut t = 0.0;
    let mut out = Vec::with_capacity(times.len());
    let mut next_time = 0;
    while next_time < times.len() {
        let remaining = population - adopters;
        let rate = f64::from(remaining) * (p + q * f64::from(adopters) / n);
        let wait = if remaining == 0 || rate <= 0.0 {
            f64::INFINITY
        } else {
            exponential(rng, rate)
        };
        while next_time < times.len() && times[next_time] < t + wait {
            out.push(adopters);
            next_time += 1;
        }
        if wait.is_infinite() {
            break;
        }
        t += wait;
        // Which agent adopts does not change the counts, but the draw keeps the model
        // agent-based (and consumes randomness the same way a per-agent trace would).
        let pick = below(rng, non_adopters.len() as u64) as usize;
        non_adopters.swap_remove(pick);
        adopters += 1;
    }
    while out.len() < times.len() {
        out.push(adopters);
    }
    out
}

/// Agent-based Bass model in discrete time: in each step of length `dt`, every non-adopter
/// independently adopts with probability `1 − exp(−(p + q A/N) dt)`, `A` the adopters at the
/// start of the step. Trials are visited by geometric skipping, so a step costs O(new
/// adopters). Returns the number of adopters after each of `steps` steps.
pub fn bass_agent_discrete<R: Rng + ?Sized>(
    params: &BassParams,
    steps: u32,
    rng: &mut R,
) -> Vec<u32> {
    let n = params.population;
    let mut non_adopters: Vec<u32> = (0..n).collect();
    let mut adopters = 0u32;
    let mut out = Vec::with_capacity(steps as usize);
    let mut chosen: Vec<usize> = Vec::new();
    for _ in 0..steps {
        let hazard = params.p + params.q * f64::from(adopters) / f64::from(n.max(1));
        let prob = 1.0 - (-hazard * params.dt).exp();
        chosen.clear();
        let mut i = 0u64;
        loop {
            let skip = geometric_skip(rng, prob);
            i = i.saturating_add(skip);
            if i >= non_adopters.len() as u64 {
                break;
            }
            chosen.push(i as usize);
            i += 1;
        }
        // Remove from the back so indices stay valid.
        for &c in chosen.iter().rev() {
            non_adopters.swap_remove(c);
        }
        adopters += chosen.len() as u32;
        out.push(adopters);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::{gnp, ring_lattice};
    use crate::rng::derive_rng;

    #[test]
    fn granovetter_riot_and_perturbation() {
        let riot: Vec<u32> = (0..100).collect();
        assert_eq!(*granovetter(&riot).last().unwrap(), 100);
        let mut stopped = riot.clone();
        stopped[1] = 2;
        assert_eq!(granovetter(&stopped), vec![1]);
    }

    #[test]
    fn granovetter_on_complete_graph_matches_mean_field() {
        // The network engine with absolute thresholds on K_n is Granovetter's model.
        let n = 60u32;
        let pairs = (0..n)
            .flat_map(|a| (a + 1..n).map(move |b| (a, b)))
            .collect();
        let net = Network::undirected(n as usize, pairs).unwrap();
        for seed in 0..20 {
            let mut rng = derive_rng(seed, "t", &[]);
            let thresholds = GranovetterThresholds::Normal {
                population: n,
                mean: 12.0,
                sd: 8.0,
            }
            .draw(&mut rng);
            let engine = cascade(&net, &thresholds, &[]);
            assert_eq!(
                engine.size as u32,
                *granovetter(&thresholds).last().unwrap()
            );
        }
    }

    #[test]
    fn watts_rule_is_fraction_at_least_phi() {
        let net = ring_lattice(50, 5, 0.0, &mut derive_rng(1, "t", &[])).unwrap();
        // k = 10: φ = 0.18 needs 2 (1/10 < 0.18 <= 2/10); φ = 0.2 needs exactly 2, not 3.
        assert!(
            required_from_fractions(&net, &vec![0.18; 50])
                .iter()
                .all(|&r| r == 2)
        );
        assert!(
            required_from_fractions(&net, &vec![0.2; 50])
                .iter()
                .all(|&r| r == 2)
        );
        assert!(
            required_from_fractions(&net, &vec![0.1; 50])
                .iter()
                .all(|&r| r == 1)
        );
        assert!(
            required_from_fractions(&net, &vec![0.0; 50])
                .iter()
                .all(|&r| r == 0)
        );
    }

    #[test]
    fn ring_cascade_spreads_with_low_threshold_only() {
        let net = ring_lattice(100, 2, 0.0, &mut derive_rng(1, "t", &[])).unwrap();
        let low = required_from_fractions(&net, &[0.25; 100]);
        assert_eq!(cascade(&net, &low, &[0]).size, 100);
        let high = required_from_fractions(&net, &[0.5; 100]);
        // One seed gives each neighbour 1 of 4 adopted neighbours: not enough for φ = 0.5.
        assert_eq!(cascade(&net, &high, &[0]).size, 1);
        assert_eq!(cascade(&net, &high, &[0, 1]).size, 100);
    }

    #[test]
    fn watts_condition_on_poisson_graph() {
        // z = 4, φ = 0.18: vulnerable degrees 1..=5. Analytic Poisson value:
        // Σ_{k≤5} k(k−1) p_k / z = z Σ_{j=0}^{3} Pr(Poisson(z)=j) = 4 * 0.4335 ≈ 1.734.
        let n = 20_000;
        let net = gnp(n, 4.0 / (n as f64 - 1.0), &mut derive_rng(2, "t", &[])).unwrap();
        let req = required_from_fractions(&net, &vec![0.18; n]);
        let g = watts_condition(&net, &req);
        assert!((g - 1.734).abs() < 0.06, "{g}");
    }

    #[test]
    fn cascade_probability_matches_poisson_values() {
        // Values of the generating-function solution for Poisson degrees, φ = 0.18 (computed
        // independently): z = 2 → 0.754, z = 3 → 0.873, z = 0.5 and 10 → 0.
        let n = 40_000;
        for (z, expected) in [(0.5, 0.0), (2.0, 0.754), (3.0, 0.873), (10.0, 0.0)] {
            let net = gnp(n, z / (n as f64 - 1.0), &mut derive_rng(7, "t", &[])).unwrap();
            let req = required_from_fractions(&net, &vec![0.18; n]);
            let p = watts_cascade_probability(&net, &req);
            assert!((p - expected).abs() < 0.02, "z={z}: {p}");
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        #[test]
        fn final_set_independent_of_update_order(
            n in 10usize..80,
            z in 1.0f64..6.0,
            phi in 0.0f64..0.6,
            seed in 0u64..10_000,
        ) {
            let mut rng = derive_rng(seed, "prop", &[]);
            let net = gnp(n, z / n as f64, &mut rng).unwrap();
            let thresholds: Vec<f64> =
                (0..n).map(|_| phi * crate::rng::uniform(&mut rng) * 2.0).collect();
            let req = required_from_fractions(&net, &thresholds);
            let seeds = [below(&mut rng, n as u64) as u32];
            let sync = cascade(&net, &req, &seeds);
            for k in 0..3 {
                let seq = cascade_sequential(&net, &req, &seeds, &mut derive_rng(seed, "order", &[k]));
                proptest::prop_assert_eq!(&seq, &sync.adopted);
            }
            proptest::prop_assert_eq!(sync.size, sync.adopted.iter().filter(|&&a| a).count());
            proptest::prop_assert_eq!(sync.size as u32, sync.new_per_round.iter().sum::<u32>());
        }
    }

    #[test]
    fn bass_closed_form_limits() {
        assert!(bass_closed_form(0.03, 0.38, 0.0).abs() < 1e-12);
        assert!((bass_closed_form(0.03, 0.38, 200.0) - 1.0).abs() < 1e-9);
    }

    #[test]
    fn bass_agent_models_follow_closed_form() {
        let (p, q) = (0.03, 0.38);
        let times: Vec<f64> = (1..=20).map(f64::from).collect();
        let n = 20_000;
        let counts = bass_agent_continuous(n, p, q, &times, &mut derive_rng(1, "t", &[]));
        for (t, c) in times.iter().zip(&counts) {
            let f = f64::from(*c) / f64::from(n);
            assert!((f - bass_closed_form(p, q, *t)).abs() < 0.03, "t={t} f={f}");
        }
        let params = BassParams {
            population: n,
            p,
            q,
            dt: 0.05,
        };
        let discrete = bass_agent_discrete(&params, 400, &mut derive_rng(2, "t", &[]));
        let f = f64::from(discrete[199]) / f64::from(n);
        assert!((f - bass_closed_form(p, q, 10.0)).abs() < 0.03, "{f}");
    }
}
