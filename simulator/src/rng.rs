//! Seeds and random variates.
//!
//! Every random number in the simulator comes from a [`ChaCha20Rng`] whose 32-byte seed is
//! derived from the scenario's master seed by [`derive_rng`]:
//!
//! ```text
//! seed = SHA-256( "signet-sim/seed/v1" || master_seed (u64, little-endian)
//!                 || len(stream) (u64, little-endian) || stream (UTF-8)
//!                 || for each index: index (u64, little-endian) )
//! ```
//!
//! The scheme is version-stable: ChaCha20 (RFC 8439 block function, as implemented by
//! `rand_chacha`) and SHA-256 are fixed algorithms, and the variate transformations below are
//! written out here rather than borrowed from a library whose algorithms may change between
//! versions. A stream name says what the numbers are for (`"network"`, `"dynamics"`,
//! `"attributes"`), so adding a new consumer never shifts the numbers another one sees.

use rand_chacha::ChaCha20Rng;
use rand_core::{Rng, SeedableRng};
use sha2::{Digest, Sha256};

/// Domain-separation prefix of the seed derivation; bump the `v1` only with a changelog entry.
pub const SEED_SCHEME: &str = "signet-sim/seed/v1";

/// Derives the generator for one purpose (`stream`) and position (`indices`, e.g. the run).
///
/// ```
/// use rand_core::Rng;
/// let mut a = signet_sim::rng::derive_rng(7, "dynamics", &[0, 3]);
/// let mut b = signet_sim::rng::derive_rng(7, "dynamics", &[0, 3]);
/// assert_eq!(a.next_u64(), b.next_u64());
/// ```
pub fn derive_rng(master_seed: u64, stream: &str, indices: &[u64]) -> ChaCha20Rng {
    ChaCha20Rng::from_seed(derive_seed(master_seed, stream, indices))
}

/// The 32-byte seed behind [`derive_rng`].
pub fn derive_seed(master_seed: u64, stream: &str, indices: &[u64]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(SEED_SCHEME.as_bytes());
    hasher.update(master_seed.to_le_bytes());
    hasher.update((stream.len() as u64).to_le_bytes());
    hasher.update(stream.as_bytes());
    for index in indices {
        hasher.update(index.to_le_bytes());
    }
    hasher.finalize().into()
}

/// Uniform double in `[0, 1)` with 53 random bits.
pub fn uniform<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// Uniform double in `(0, 1]`, safe to take the logarithm of.
pub fn uniform_open0<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    1.0 - uniform(rng)
}

/// Uniform integer in `0..bound` (Lemire's multiply-and-reject, unbiased). `bound` must be > 0;
/// a zero bound returns 0.
pub fn below<R: Rng + ?Sized>(rng: &mut R, bound: u64) -> u64 {
    if bound == 0 {
        return 0;
    }
    let threshold = bound.wrapping_neg() % bound;
    loop {
        let product = u128::from(rng.next_u64()) * u128::from(bound);
        if (product as u64) >= threshold {
            return (product >> 64) as u64;
        }
    }
}

/// `true` with probability `p` (clamped to `[0, 1]`).
pub fn bernoulli<R: Rng + ?Sized>(rng: &mut R, p: f64) -> bool {
    if p >= 1.0 {
        return true;
    }
    p > 0.0 && uniform(rng) < p
}

/// Number of failures before the first success of a Bernoulli(`p`) sequence, by inversion.
/// Used to skip over the trials that fail (Batagelj and Brandes 2005). Returns `u64::MAX` when
/// `p <= 0`.
pub fn geometric_skip<R: Rng + ?Sized>(rng: &mut R, p: f64) -> u64 {
    if p >= 1.0 {
        return 0;
    }
    if p <= 0.0 {
        return u64::MAX;
    }
    let skip = (uniform_open0(rng).ln() / (-p).ln_1p()).floor();
    if skip >= u64::MAX as f64 {
        u64::MAX
    } else {
        skip as u64
    }
}

/// Exponential variate with the given rate, by inversion.
pub fn exponential<R: Rng + ?Sized>(rng: &mut R, rate: f64) -> f64 {
    -uniform_open0(rng).ln() / rate
}

/// Standard normal variate (Box–Muller, cosine branch only, two uniforms per call).
pub fn standard_normal<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    let u1 = uniform_open0(rng);
    let u2 = uniform(rng);
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// Pareto variate with scale `x_min` and density exponent `alpha` (density ∝ x^-alpha,
/// `alpha > 1`), by inversion: `x_min * U^(-1/(alpha-1))`.
pub fn pareto<R: Rng + ?Sized>(rng: &mut R, x_min: f64, alpha: f64) -> f64 {
    x_min * uniform_open0(rng).powf(-1.0 / (alpha - 1.0))
}

/// Fisher–Yates shuffle driven by [`below`].
pub fn shuffle<T, R: Rng + ?Sized>(rng: &mut R, items: &mut [T]) {
    for i in (1..items.len()).rev() {
        let j = below(rng, i as u64 + 1) as usize;
        items.swap(i, j);
    }
}

/// Walker–Vose alias table: draws index `i` with probability `weights[i] / sum(weights)` in O(1).
#[derive(Debug, Clone)]
pub struct AliasTable {
    probability: Vec<f64>,
    alias: Vec<u32>,
}

impl AliasTable {
    /// Builds the table; `None` if there are no weights or they do not sum to a positive number.
    pub fn new(weights: &[f64]) -> Option<Self> {
        let n = weights.len();
        let total: f64 = weights.iter().sum();
        if n == 0 || total.is_nan() || total <= 0.0 || !total.is_finite() {
            return None;
        }
        let mut scaled: Vec<f64> = weights.iter().map(|w| w * n as f64 / total).collect();
        let mut alias = vec![0u32; n];
        let mut probability = vec![1.0; n];
        let mut small: Vec<u32> = Vec::new();
        let mut large: Vec<u32> = Vec::new();
        for (i, &s) in scaled.iter().enumerate() {
            if s < 1.0 {
                small.push(i as u32);
            } else {
                large.push(i as u32);
            }
        }
        while let (Some(&s), Some(&l)) = (small.last(), large.last()) {
            small.pop();
            probability[s as usize] = scaled[s as usize];
            alias[s as usize] = l;
            scaled[l as usize] = (scaled[l as usize] + scaled[s as usize]) - 1.0;
            if scaled[l as usize] < 1.0 {
                large.pop();
                small.push(l);
            }
        }
        // Whatever is left has probability 1 up to rounding.
        Some(Self { probability, alias })
    }

    /// Draws one index.
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> usize {
        let i = below(rng, self.probability.len() as u64) as usize;
        if uniform(rng) < self.probability[i] {
            i
        } else {
            self.alias[i] as usize
        }
    }

    /// Number of outcomes.
    pub fn len(&self) -> usize {
        self.probability.len()
    }

    /// Whether there are no outcomes (never true for a built table).
    pub fn is_empty(&self) -> bool {
        self.probability.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derivation_is_stable_and_separates_streams() {
        // Golden value: changing this breaks every published seed.
        let seed = derive_seed(42, "network", &[0]);
        let hex: String = seed[..8].iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex.len(), 16);
        assert_eq!(derive_seed(42, "network", &[0]), seed);
        assert_ne!(derive_seed(42, "dynamics", &[0]), seed);
        assert_ne!(derive_seed(42, "network", &[1]), seed);
        assert_ne!(derive_seed(43, "network", &[0]), seed);
        // Length prefix: ("ab", [..]) must differ from ("a", ...) with shifted bytes.
        assert_ne!(derive_seed(1, "ab", &[]), derive_seed(1, "a", &[]));
    }

    #[test]
    fn golden_first_output() {
        let mut rng = derive_rng(1, "golden", &[2, 3]);
        let first = rng.next_u64();
        let mut again = derive_rng(1, "golden", &[2, 3]);
        assert_eq!(first, again.next_u64());
        assert_eq!(first, GOLDEN_FIRST);
    }

    const GOLDEN_FIRST: u64 = 14_172_133_041_190_722_844;

    #[test]
    fn below_is_in_range_and_roughly_uniform() {
        let mut rng = derive_rng(3, "t", &[]);
        let mut counts = [0u32; 7];
        for _ in 0..70_000 {
            counts[below(&mut rng, 7) as usize] += 1;
        }
        for c in counts {
            assert!((9_400..10_600).contains(&c), "{counts:?}");
        }
    }

    #[test]
    fn geometric_skip_mean_matches() {
        let mut rng = derive_rng(4, "t", &[]);
        let p = 0.1;
        let n = 50_000;
        let mean = (0..n)
            .map(|_| geometric_skip(&mut rng, p) as f64)
            .sum::<f64>()
            / n as f64;
        // Mean failures before success is (1-p)/p = 9.
        assert!((mean - 9.0).abs() < 0.25, "{mean}");
    }

    #[test]
    fn alias_table_matches_weights() {
        let mut rng = derive_rng(5, "t", &[]);
        let table = AliasTable::new(&[1.0, 2.0, 7.0]).unwrap();
        let mut counts = [0u32; 3];
        for _ in 0..100_000 {
            counts[table.sample(&mut rng)] += 1;
        }
        assert!((counts[0] as i64 - 10_000).abs() < 800, "{counts:?}");
        assert!((counts[2] as i64 - 70_000).abs() < 1_500, "{counts:?}");
        assert!(AliasTable::new(&[]).is_none());
        assert!(AliasTable::new(&[0.0, 0.0]).is_none());
    }

    #[test]
    fn normal_moments() {
        let mut rng = derive_rng(6, "t", &[]);
        let xs: Vec<f64> = (0..50_000).map(|_| standard_normal(&mut rng)).collect();
        let mean = xs.iter().sum::<f64>() / xs.len() as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / xs.len() as f64;
        assert!(
            mean.abs() < 0.02 && (var - 1.0).abs() < 0.03,
            "{mean} {var}"
        );
    }
}
