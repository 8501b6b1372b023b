//! Retry delays: exponential backoff with jitter from a caller-supplied RNG.

use std::time::Duration;

use rand_core::Rng;

/// How long to wait before retrying a delivery.
///
/// After the `n`-th consecutive failure (n ≥ 1) the nominal delay is
/// `initial × 2^(n−1)`, capped at `max`; the actual delay is drawn uniformly from
/// `[(1 − jitter) × nominal, nominal]`, so that many senders retrying one recovered peer do
/// not arrive in lockstep.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    /// The nominal delay after the first failure.
    pub initial: Duration,
    /// The largest nominal delay.
    pub max: Duration,
    /// The fraction of the nominal delay that is randomised, in `[0, 1]`.
    pub jitter: f64,
}

impl Default for Backoff {
    /// 1 s doubling up to 15 minutes, half of it jittered.
    fn default() -> Self {
        Self {
            initial: Duration::from_secs(1),
            max: Duration::from_secs(15 * 60),
            jitter: 0.5,
        }
    }
}

impl Backoff {
    /// The nominal (unjittered) delay after `failures` consecutive failures.
    pub fn nominal(&self, failures: u32) -> Duration {
        let exponent = failures.saturating_sub(1).min(63);
        let factor = 1u64 << exponent;
        let initial = u64::try_from(self.initial.as_millis()).unwrap_or(u64::MAX);
        Duration::from_millis(initial.saturating_mul(factor)).min(self.max)
    }

    /// The delay after `failures` consecutive failures, jittered with `rng`.
    pub fn delay<R: Rng + ?Sized>(&self, failures: u32, rng: &mut R) -> Duration {
        let nominal = self.nominal(failures);
        let jitter = self.jitter.clamp(0.0, 1.0);
        // A uniform draw in [0, 1) from 53 random bits.
        let unit = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        nominal.mul_f64(1.0 - jitter * unit)
    }
}

#[cfg(test)]
mod tests {
    use rand_chacha::ChaCha8Rng;
    use rand_core::SeedableRng;

    use super::*;

    #[test]
    fn doubles_then_caps_and_jitter_stays_in_range() {
        let b = Backoff {
            initial: Duration::from_millis(500),
            max: Duration::from_secs(60),
            jitter: 0.5,
        };
        assert_eq!(b.nominal(1), Duration::from_millis(500));
        assert_eq!(b.nominal(2), Duration::from_secs(1));
        assert_eq!(b.nominal(5), Duration::from_secs(8));
        assert_eq!(b.nominal(8), Duration::from_secs(60));
        assert_eq!(b.nominal(u32::MAX), Duration::from_secs(60));
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let draws: Vec<Duration> = (0..1000).map(|_| b.delay(5, &mut rng)).collect();
        assert!(
            draws
                .iter()
                .all(|d| *d >= Duration::from_secs(4) && *d <= Duration::from_secs(8))
        );
        // Jitter actually spreads the delays.
        let distinct: std::collections::BTreeSet<_> = draws.iter().collect();
        assert!(distinct.len() > 900);
        // Same seed, same delays: the logic is reproducible.
        let mut again = ChaCha8Rng::seed_from_u64(7);
        assert_eq!(b.delay(5, &mut again), draws[0]);
    }
}
