//! Morris (1991) elementary-effects screening, with the absolute mean μ* of Campolongo,
//! Cariboni & Saltelli (2007).
//!
//! Factors live in the unit cube `[0, 1]^k` on a grid of `p` levels `0, 1/(p−1), …, 1`. A
//! trajectory starts at a random grid point and moves one factor at a time, in random order,
//! by `Δ = p / (2(p−1))`; with `p` even every level has exactly one direction that stays in
//! the cube (levels below one half go up, the others down), so the steps are equiprobable
//! over the grid as Morris requires. The elementary effect of factor `i` on a trajectory is
//! `(y(after) − y(before)) / (±Δ)`: the change in output per whole factor range.

use rand_chacha::ChaCha20Rng;
use serde::Serialize;

use crate::error::SensitivityError;
use crate::rng::{below, shuffle};

/// One Morris trajectory: `k + 1` points in the unit cube; point `j + 1` differs from point `j`
/// in factor `moves[j].0` only, by `moves[j].1` (±Δ).
#[derive(Debug, Clone, PartialEq)]
pub struct Trajectory {
    /// The `k + 1` points, each with `k` coordinates in `[0, 1]`.
    pub points: Vec<Vec<f64>>,
    /// Per step: the factor moved and the signed change of its coordinate.
    pub moves: Vec<(usize, f64)>,
}

/// Draws `trajectories` Morris trajectories over `factors` factors on a `levels`-level grid.
pub fn trajectories(
    factors: usize,
    levels: u32,
    trajectories: usize,
    rng: &mut ChaCha20Rng,
) -> Result<Vec<Trajectory>, SensitivityError> {
    if levels < 2 || !levels.is_multiple_of(2) {
        return Err(SensitivityError::Setting {
            name: "levels",
            reason: format!("must be an even number >= 2, not {levels}"),
        });
    }
    if factors == 0 {
        return Err(SensitivityError::Setting {
            name: "factors",
            reason: "no factors to screen".into(),
        });
    }
    let top = f64::from(levels - 1);
    let jump = levels / 2;
    let delta = f64::from(jump) / top;
    let mut out = Vec::with_capacity(trajectories);
    for _ in 0..trajectories {
        let mut level: Vec<u32> = (0..factors)
            .map(|_| below(rng, u64::from(levels)) as u32)
            .collect();
        let mut order: Vec<usize> = (0..factors).collect();
        shuffle(rng, &mut order);
        let mut points = Vec::with_capacity(factors + 1);
        let mut moves = Vec::with_capacity(factors);
        points.push(level.iter().map(|&l| f64::from(l) / top).collect());
        for i in order {
            let step = if level[i] < jump {
                level[i] += jump;
                delta
            } else {
                level[i] -= jump;
                -delta
            };
            moves.push((i, step));
            points.push(level.iter().map(|&l| f64::from(l) / top).collect());
        }
        out.push(Trajectory { points, moves });
    }
    Ok(out)
}

/// Morris statistics of one factor for one output.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MorrisIndex {
    /// Mean elementary effect (signed; effects of opposite sign cancel).
    pub mu: f64,
    /// Mean absolute elementary effect: the screening measure of importance.
    pub mu_star: f64,
    /// Standard deviation of the elementary effects (n − 1 denominator): non-linearity or
    /// interaction with other factors.
    pub sigma: f64,
}

/// μ, μ* and σ per factor from outputs `y` evaluated at every point of every trajectory,
/// in order (trajectory by trajectory, `k + 1` values each).
pub fn indices(design: &[Trajectory], y: &[f64], factors: usize) -> Vec<MorrisIndex> {
    let mut effects: Vec<Vec<f64>> = vec![Vec::with_capacity(design.len()); factors];
    let mut offset = 0;
    for t in design {
        for (j, &(i, step)) in t.moves.iter().enumerate() {
            if let (Some(a), Some(b)) = (y.get(offset + j), y.get(offset + j + 1)) {
                effects[i].push((b - a) / step);
            }
        }
        offset += t.points.len();
    }
    effects
        .iter()
        .map(|e| {
            let n = e.len() as f64;
            if e.is_empty() {
                return MorrisIndex {
                    mu: 0.0,
                    mu_star: 0.0,
                    sigma: 0.0,
                };
            }
            let mu = e.iter().sum::<f64>() / n;
            let mu_star = e.iter().map(|x| x.abs()).sum::<f64>() / n;
            let sigma = if e.len() > 1 {
                (e.iter().map(|x| (x - mu).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
            } else {
                0.0
            };
            MorrisIndex { mu, mu_star, sigma }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::derive_rng;

    fn screen(f: impl Fn(&[f64]) -> f64, k: usize, r: usize) -> Vec<MorrisIndex> {
        let mut rng = derive_rng(11, "test/morris", &[]);
        let design = trajectories(k, 4, r, &mut rng).unwrap();
        let y: Vec<f64> = design
            .iter()
            .flat_map(|t| t.points.iter().map(|x| f(x)))
            .collect();
        indices(&design, &y, k)
    }

    #[test]
    fn trajectories_move_each_factor_once_inside_the_cube() {
        let mut rng = derive_rng(3, "test/morris", &[]);
        for t in trajectories(5, 6, 30, &mut rng).unwrap() {
            assert_eq!(t.points.len(), 6);
            let mut moved: Vec<usize> = t.moves.iter().map(|m| m.0).collect();
            moved.sort_unstable();
            assert_eq!(moved, vec![0, 1, 2, 3, 4]);
            for (j, &(i, step)) in t.moves.iter().enumerate() {
                assert!((step.abs() - 0.6).abs() < 1e-12, "Δ = 6 / (2 · 5)");
                for f in 0..5 {
                    let d = t.points[j + 1][f] - t.points[j][f];
                    assert!(if f == i {
                        (d - step).abs() < 1e-12
                    } else {
                        d == 0.0
                    });
                }
            }
            assert!(t.points.iter().flatten().all(|x| (0.0..=1.0).contains(x)));
        }
        assert!(trajectories(3, 5, 1, &mut rng).is_err(), "odd level count");
    }

    #[test]
    fn linear_function_gives_mu_star_equal_to_coefficients_and_no_sigma() {
        let c = [4.0, -2.0, 1.0, 0.0];
        let m = screen(
            |x| c.iter().zip(x).map(|(c, x)| c * x).sum::<f64>() + 7.0,
            4,
            20,
        );
        for (i, idx) in m.iter().enumerate() {
            assert!((idx.mu_star - c[i].abs()).abs() < 1e-9, "{i}: {idx:?}");
            assert!((idx.mu - c[i]).abs() < 1e-9, "{i}: {idx:?}");
            assert!(idx.sigma < 1e-9, "{i}: {idx:?}");
        }
        assert_eq!(m[3].mu_star, 0.0, "a factor with no effect");
    }

    #[test]
    fn interaction_shows_in_sigma_and_cancellation_in_mu() {
        // y = x0 · x1 + (x2 − 1/2)²: x0, x1 interact; x2's effects change sign.
        let m = screen(|x| x[0] * x[1] + (x[2] - 0.5).powi(2), 3, 40);
        assert!(m[0].sigma > 0.1 && m[1].sigma > 0.1, "{m:?}");
        // Every elementary effect of x2 on this grid is ±1/3.
        assert!((m[2].mu_star - 1.0 / 3.0).abs() < 1e-9, "{m:?}");
        assert!(m[2].mu.abs() < 0.2 && m[2].sigma > 0.3, "{m:?}");
    }
}
