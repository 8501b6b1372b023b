//! Variance-based (Sobol') sensitivity indices: Saltelli's sampling scheme with the
//! first-order estimator of Saltelli et al. (2010, Table 2 (b)) and Jansen's (1999)
//! total-order estimator, with percentile bootstrap confidence intervals.
//!
//! Two independent `N × k` sample matrices `A` and `B` are drawn uniformly from the unit
//! cube; `AB_i` is `A` with column `i` taken from `B`. The model is evaluated on the
//! `N (k + 2)` rows `A, B, AB_1, …, AB_k` (in that order). With `V` the variance of the
//! `2N` outputs of `A` and `B`:
//!
//! ```text
//! S_i  = (1/N)  Σ_j f(B)_j (f(AB_i)_j − f(A)_j) / V
//! ST_i = (1/2N) Σ_j (f(A)_j − f(AB_i)_j)² / V
//! ```
//!
//! with `f(B)` centred on the mean of the `2N` outputs in the first-order sum (as SALib
//! does by standardising outputs), which keeps the estimator unbiased and its variance
//! independent of the output's mean.
//!
//! The samples are pseudo-random (ChaCha20), not a low-discrepancy sequence: the estimators
//! are unbiased either way, and the bootstrap intervals say how precise they are.

use rand_chacha::ChaCha20Rng;
use serde::Serialize;

use crate::rng::{below, uniform};

/// The rows to evaluate: `A`, `B`, then `AB_1 … AB_k`, `n` rows each, `k` coordinates per row.
pub fn saltelli_rows(n: usize, k: usize, rng: &mut ChaCha20Rng) -> Vec<Vec<f64>> {
    let a: Vec<Vec<f64>> = (0..n)
        .map(|_| (0..k).map(|_| uniform(rng)).collect())
        .collect();
    let b: Vec<Vec<f64>> = (0..n)
        .map(|_| (0..k).map(|_| uniform(rng)).collect())
        .collect();
    let mut rows = Vec::with_capacity(n * (k + 2));
    rows.extend(a.iter().cloned());
    rows.extend(b.iter().cloned());
    for i in 0..k {
        for j in 0..n {
            let mut row = a[j].clone();
            row[i] = b[j][i];
            rows.push(row);
        }
    }
    rows
}

/// First- and total-order index of one factor for one output, with 95 % bootstrap intervals.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SobolIndex {
    /// First-order index S_i: the share of output variance due to factor i alone.
    pub first: f64,
    /// 95 % percentile bootstrap interval of `first`.
    pub first_ci95: [f64; 2],
    /// Total-order index ST_i: the share due to factor i including all its interactions.
    pub total: f64,
    /// 95 % percentile bootstrap interval of `total`.
    pub total_ci95: [f64; 2],
}

/// Point estimates on the rows `sample` (indices into `0..n`, repeats allowed).
fn estimate(y: &[f64], n: usize, k: usize, sample: &[usize]) -> Option<Vec<(f64, f64)>> {
    let m = sample.len() as f64;
    let (fa, fb) = (&y[..n], &y[n..2 * n]);
    let mean = sample.iter().map(|&j| fa[j] + fb[j]).sum::<f64>() / (2.0 * m);
    let variance = sample
        .iter()
        .map(|&j| (fa[j] - mean).powi(2) + (fb[j] - mean).powi(2))
        .sum::<f64>()
        / (2.0 * m);
    // A constant output (to rounding) has no variance to apportion.
    let negligible = variance.is_nan() || variance <= 1e-12 * mean.abs().max(1.0).powi(2);
    if negligible {
        return None;
    }
    Some(
        (0..k)
            .map(|i| {
                let fab = &y[(2 + i) * n..(3 + i) * n];
                // Centring f(B) leaves the expectation unchanged (E f(AB_i) = E f(A)) and
                // removes the variance that a large mean adds to the product.
                let first = sample
                    .iter()
                    .map(|&j| (fb[j] - mean) * (fab[j] - fa[j]))
                    .sum::<f64>()
                    / m;
                let total = sample
                    .iter()
                    .map(|&j| (fa[j] - fab[j]).powi(2))
                    .sum::<f64>()
                    / m;
                (first / variance, total / (2.0 * variance))
            })
            .collect(),
    )
}

/// Sobol' indices of the `k` factors from outputs `y` on [`saltelli_rows`]`(n, k)`, with
/// `bootstrap` resamples for the intervals. `None` if the output does not vary (or `y` has
/// the wrong length).
pub fn indices(
    y: &[f64],
    n: usize,
    k: usize,
    bootstrap: usize,
    rng: &mut ChaCha20Rng,
) -> Option<Vec<SobolIndex>> {
    if n == 0 || y.len() != n * (k + 2) {
        return None;
    }
    let all: Vec<usize> = (0..n).collect();
    let point = estimate(y, n, k, &all)?;
    let mut draws: Vec<Vec<(f64, f64)>> = vec![Vec::with_capacity(bootstrap); k];
    let mut sample = vec![0usize; n];
    for _ in 0..bootstrap {
        for s in sample.iter_mut() {
            *s = below(rng, n as u64) as usize;
        }
        // A resample can be constant when the output rarely varies; it then adds no draw.
        if let Some(e) = estimate(y, n, k, &sample) {
            for (i, d) in e.into_iter().enumerate() {
                draws[i].push(d);
            }
        }
    }
    Some(
        point
            .into_iter()
            .zip(draws)
            .map(|((first, total), d)| {
                let firsts: Vec<f64> = d.iter().map(|x| x.0).collect();
                let totals: Vec<f64> = d.iter().map(|x| x.1).collect();
                SobolIndex {
                    first,
                    first_ci95: percentile_interval(firsts, first),
                    total,
                    total_ci95: percentile_interval(totals, total),
                }
            })
            .collect(),
    )
}

/// 2.5 % and 97.5 % percentiles (nearest rank); the point estimate if there are no draws.
fn percentile_interval(mut draws: Vec<f64>, point: f64) -> [f64; 2] {
    if draws.is_empty() {
        return [point, point];
    }
    draws.sort_by(f64::total_cmp);
    let n = draws.len() as f64;
    let rank = |q: f64| draws[((q * n).ceil() as usize).clamp(1, draws.len()) - 1];
    [rank(0.025), rank(0.975)]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::derive_rng;
    use std::f64::consts::PI;

    fn analyse(f: impl Fn(&[f64]) -> f64, n: usize, k: usize) -> Vec<SobolIndex> {
        let mut rng = derive_rng(5, "test/sobol", &[]);
        let rows = saltelli_rows(n, k, &mut rng);
        let y: Vec<f64> = rows.iter().map(|x| f(x)).collect();
        indices(&y, n, k, 200, &mut rng).unwrap()
    }

    fn ishigami(u: &[f64]) -> f64 {
        let x: Vec<f64> = u.iter().map(|u| -PI + 2.0 * PI * u).collect();
        let (a, b) = (7.0, 0.1);
        x[0].sin() + a * x[1].sin().powi(2) + b * x[2].powi(4) * x[0].sin()
    }

    #[test]
    fn ishigami_indices_match_the_analytic_values() {
        // Analytic (a = 7, b = 0.1): S = 0.3139, 0.4424, 0; ST = 0.5576, 0.4424, 0.2437.
        let s = analyse(ishigami, 16_384, 3);
        let expected = [(0.3139, 0.5576), (0.4424, 0.4424), (0.0, 0.2437)];
        for (i, (idx, (first, total))) in s.iter().zip(expected).enumerate() {
            assert!((idx.first - first).abs() < 0.03, "S{}: {idx:?}", i + 1);
            assert!((idx.total - total).abs() < 0.03, "ST{}: {idx:?}", i + 1);
            assert!(idx.first_ci95[0] <= idx.first && idx.first <= idx.first_ci95[1]);
            assert!(idx.first_ci95[1] - idx.first_ci95[0] < 0.1, "{idx:?}");
            assert!(idx.total_ci95[1] - idx.total_ci95[0] < 0.1, "{idx:?}");
        }
    }

    #[test]
    fn additive_function_apportions_variance_by_squared_coefficients() {
        // Uniform x: Var(c x) = c²/12, so S_i = ST_i = c_i² / Σ c².
        let c = [3.0, 1.0, 0.0];
        let s = analyse(|x| c.iter().zip(x).map(|(c, x)| c * x).sum(), 8_192, 3);
        for (i, idx) in s.iter().enumerate() {
            let expected = c[i] * c[i] / 10.0;
            assert!((idx.first - expected).abs() < 0.03, "{i}: {idx:?}");
            assert!((idx.total - expected).abs() < 0.03, "{i}: {idx:?}");
        }
        assert_eq!(s[2].total, 0.0, "a factor with no effect");
    }

    #[test]
    fn constant_output_has_no_indices() {
        let mut rng = derive_rng(5, "test/sobol", &[]);
        assert!(indices(&[2.0; 40], 10, 2, 10, &mut rng).is_none());
        assert!(indices(&[2.0; 39], 10, 2, 10, &mut rng).is_none());
    }
}
