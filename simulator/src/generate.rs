//! Network generators: the tiered supply-chain generator and the standard random graphs used
//! to validate the contagion engine.
//!
//! Every generator takes its own random generator (see [`crate::rng`]) so the same seed always
//! gives the same network.

use rand_core::Rng;
use serde::{Deserialize, Serialize};

use crate::error::GenerateError;
use crate::network::{Edge, Network};
use crate::rng::{AliasTable, below, bernoulli, geometric_skip, pareto, shuffle, standard_normal};

/// Parameters of the tiered supply-chain generator. Defaults are documented in `MODEL.md`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TieredParams {
    /// Firms per tier: `tiers[0]` brands/OEMs, `tiers[k]` tier-k suppliers.
    pub tiers: Vec<u32>,
    /// Number of sector or regional communities firms are spread over (uniformly).
    #[serde(default = "one")]
    pub communities: u32,
    /// Probability that a customer is chosen from the whole tier rather than the supplier's
    /// own community.
    #[serde(default = "default_mixing")]
    pub community_mixing: f64,
    /// Fraction of suppliers that serve more than one customer (shared between competing
    /// buyers); the rest serve exactly one.
    #[serde(default = "default_overlap")]
    pub overlap: f64,
    /// Density exponent of the number of customers of a shared supplier (Pareto, minimum 2).
    #[serde(default = "default_customer_exponent")]
    pub customer_exponent: f64,
    /// Largest number of customers one supplier may have.
    #[serde(default = "default_max_customers")]
    pub max_customers: u32,
    /// Density exponent of buyers' attractiveness (Pareto, minimum 1); a buyer's expected
    /// number of suppliers is proportional to it, so the number of suppliers is heavy-tailed.
    #[serde(default = "default_buyer_exponent")]
    pub buyer_exponent: f64,
    /// Mean of the logarithm of yearly contracts per relationship (log-normal).
    #[serde(default = "default_volume_log_mean")]
    pub volume_log_mean: f64,
    /// Standard deviation of the logarithm of yearly contracts per relationship.
    #[serde(default = "default_volume_log_sd")]
    pub volume_log_sd: f64,
}

fn one() -> u32 {
    1
}
fn default_mixing() -> f64 {
    0.1
}
fn default_overlap() -> f64 {
    0.6
}
fn default_customer_exponent() -> f64 {
    2.5
}
fn default_max_customers() -> u32 {
    1_000
}
fn default_buyer_exponent() -> f64 {
    2.1
}
fn default_volume_log_mean() -> f64 {
    // Median of 24 contracts (orders, framework agreements, amendments) a year.
    24f64.ln()
}
fn default_volume_log_sd() -> f64 {
    1.0
}

impl TieredParams {
    /// Parameters with the given tier sizes and every other field at its default.
    pub fn with_tiers(tiers: Vec<u32>) -> Self {
        Self {
            tiers,
            communities: one(),
            community_mixing: default_mixing(),
            overlap: default_overlap(),
            customer_exponent: default_customer_exponent(),
            max_customers: default_max_customers(),
            buyer_exponent: default_buyer_exponent(),
            volume_log_mean: default_volume_log_mean(),
            volume_log_sd: default_volume_log_sd(),
        }
    }

    fn check(&self) -> Result<(), GenerateError> {
        let bad = |name, reason: &str| {
            Err(GenerateError::InvalidParameter {
                name,
                reason: reason.to_owned(),
            })
        };
        if self.tiers.is_empty() || self.tiers.len() > 255 {
            return bad("tiers", "need between 1 and 255 tiers");
        }
        if self.tiers.contains(&0) {
            return bad("tiers", "every tier needs at least one firm");
        }
        if self.tiers.iter().map(|&t| u64::from(t)).sum::<u64>() >= u64::from(u32::MAX) {
            return bad("tiers", "too many firms for 32-bit indices");
        }
        if self.communities == 0 {
            return bad("communities", "must be at least 1");
        }
        if !(0.0..=1.0).contains(&self.community_mixing) {
            return bad("community_mixing", "must be in [0, 1]");
        }
        if !(0.0..=1.0).contains(&self.overlap) {
            return bad("overlap", "must be in [0, 1]");
        }
        if self.customer_exponent.is_nan() || self.customer_exponent <= 1.0 {
            return bad("customer_exponent", "must be > 1");
        }
        if self.buyer_exponent.is_nan() || self.buyer_exponent <= 1.0 {
            return bad("buyer_exponent", "must be > 1");
        }
        if self.max_customers < 1 {
            return bad("max_customers", "must be at least 1");
        }
        if !self.volume_log_mean.is_finite()
            || !self.volume_log_sd.is_finite()
            || self.volume_log_sd < 0.0
        {
            return bad("volume_log_sd", "must be finite and >= 0");
        }
        Ok(())
    }
}

/// Generates a tiered supply network.
///
/// Firms are numbered tier by tier. Each firm gets a community uniformly at random. Each firm in
/// tier `k >= 1` draws its number of customers in tier `k - 1`: one with probability
/// `1 - overlap`, otherwise `floor(Pareto(2, customer_exponent))` capped at `max_customers` and
/// at the size of tier `k - 1`. Each customer is drawn without replacement with probability
/// proportional to the buyer's attractiveness `Pareto(1, buyer_exponent)`, from the supplier's
/// own community with probability `1 - community_mixing` (if it has buyers there) and from the
/// whole tier otherwise. Each relationship gets `max(1, round(exp(N(volume_log_mean,
/// volume_log_sd))))` contracts a year.
pub fn tiered<R: Rng + ?Sized>(
    params: &TieredParams,
    rng: &mut R,
) -> Result<Network, GenerateError> {
    params.check()?;
    let n: usize = params.tiers.iter().map(|&t| t as usize).sum();
    let communities = params.communities as usize;
    let mut tier = Vec::with_capacity(n);
    for (t, &count) in params.tiers.iter().enumerate() {
        tier.extend(std::iter::repeat_n(t as u8, count as usize));
    }
    let community: Vec<u32> = (0..n)
        .map(|_| below(rng, communities as u64) as u32)
        .collect();
    let weight: Vec<f64> = (0..n)
        .map(|_| pareto(rng, 1.0, params.buyer_exponent))
        .collect();

    let mut first = 0usize;
    let mut starts = Vec::with_capacity(params.tiers.len());
    for &count in &params.tiers {
        starts.push(first);
        first += count as usize;
    }

    let mut edges: Vec<Edge> = Vec::new();
    let mut chosen: Vec<u32> = Vec::new();
    for k in 1..params.tiers.len() {
        let buyers = starts[k - 1]..starts[k - 1] + params.tiers[k - 1] as usize;
        // Alias tables over the buyer tier: one for the whole tier, one per community.
        let whole = AliasTable::new(&weight[buyers.clone()]);
        let mut members: Vec<Vec<u32>> = vec![Vec::new(); communities];
        for b in buyers.clone() {
            members[community[b] as usize].push(b as u32);
        }
        let per_community: Vec<Option<AliasTable>> = members
            .iter()
            .map(|m| {
                let w: Vec<f64> = m.iter().map(|&b| weight[b as usize]).collect();
                AliasTable::new(&w)
            })
            .collect();
        let tier_size = params.tiers[k - 1] as usize;
        #[allow(clippy::needless_range_loop)] // `s` is also the firm id pushed into edges
        for s in starts[k]..starts[k] + params.tiers[k] as usize {
            let wanted = if bernoulli(rng, params.overlap) {
                pareto(rng, 2.0, params.customer_exponent).floor() as usize
            } else {
                1
            };
            let wanted = wanted
                .min(params.max_customers as usize)
                .min(tier_size)
                .max(1);
            chosen.clear();
            let c = community[s] as usize;
            let mut attempts = 0usize;
            while chosen.len() < wanted && attempts < 20 * wanted + 20 {
                attempts += 1;
                let local = &per_community[c];
                let buyer = match local {
                    Some(table) if !bernoulli(rng, params.community_mixing) => {
                        members[c][table.sample(rng)]
                    }
                    _ => match &whole {
                        Some(table) => (buyers.start + table.sample(rng)) as u32,
                        None => break,
                    },
                };
                if !chosen.contains(&buyer) {
                    chosen.push(buyer);
                }
            }
            for &buyer in &chosen {
                let volume = (params.volume_log_mean + params.volume_log_sd * standard_normal(rng))
                    .exp()
                    .round()
                    .clamp(1.0, f64::from(u32::MAX));
                edges.push(Edge {
                    buyer,
                    supplier: s as u32,
                    volume: volume as u32,
                });
            }
        }
    }
    Ok(Network::from_edges(tier, community, edges, true)?)
}

/// Erdős–Rényi G(n, p): every pair independently with probability `p`, generated by geometric
/// skipping over the pairs in O(n + m) time (Batagelj and Brandes 2005).
pub fn gnp<R: Rng + ?Sized>(n: usize, p: f64, rng: &mut R) -> Result<Network, GenerateError> {
    if !(0.0..=1.0).contains(&p) {
        return Err(GenerateError::InvalidParameter {
            name: "p",
            reason: "must be in [0, 1]".into(),
        });
    }
    let mut pairs = Vec::new();
    if n >= 2 && p > 0.0 {
        // Pairs (v, w) with w < v, enumerated row by row.
        let mut v: u64 = 1;
        let mut w: i64 = -1;
        let n = n as u64;
        while v < n {
            let skip = geometric_skip(rng, p);
            if skip == u64::MAX {
                break;
            }
            w = w
                .saturating_add(1)
                .saturating_add(skip.min(i64::MAX as u64 / 2) as i64);
            while v < n && w >= v as i64 {
                w -= v as i64;
                v += 1;
            }
            if v < n {
                pairs.push((w as u32, v as u32));
            }
        }
    }
    Ok(Network::undirected(n, pairs)?)
}

/// Erdős–Rényi G(n, m): `m` distinct pairs drawn uniformly at random.
pub fn gnm<R: Rng + ?Sized>(n: usize, m: usize, rng: &mut R) -> Result<Network, GenerateError> {
    let possible = (n as u128) * (n.saturating_sub(1) as u128) / 2;
    if m as u128 > possible {
        return Err(GenerateError::InvalidParameter {
            name: "m",
            reason: format!("at most n(n-1)/2 = {possible} edges"),
        });
    }
    let mut pairs: Vec<(u32, u32)> = Vec::with_capacity(m);
    if m as u128 * 2 > possible {
        // Dense: shuffle all pairs and keep the first m.
        for b in 1..n as u32 {
            for a in 0..b {
                pairs.push((a, b));
            }
        }
        shuffle(rng, &mut pairs);
        pairs.truncate(m);
    } else {
        // Sparse: draw, sort, deduplicate, repeat for the missing ones. Keeps the order of
        // draws out of the result, so the set is a uniform m-subset.
        while pairs.len() < m {
            let missing = m - pairs.len();
            for _ in 0..missing {
                let a = below(rng, n as u64) as u32;
                let mut b = below(rng, n as u64 - 1) as u32;
                if b >= a {
                    b += 1;
                }
                pairs.push((a.min(b), a.max(b)));
            }
            pairs.sort_unstable();
            pairs.dedup();
        }
    }
    Ok(Network::undirected(n, pairs)?)
}

/// Random `degree`-regular graph by random pairing of stubs with rejection of loops and
/// multi-edges on the fly and full restarts when stuck (close to uniform for small degree;
/// Steger and Wormald 1999).
pub fn random_regular<R: Rng + ?Sized>(
    n: usize,
    degree: usize,
    rng: &mut R,
) -> Result<Network, GenerateError> {
    if degree >= n.max(1) || (n * degree) % 2 == 1 {
        return Err(GenerateError::InvalidParameter {
            name: "degree",
            reason: "need degree < n and n * degree even".into(),
        });
    }
    const ATTEMPTS: usize = 100;
    'attempt: for _ in 0..ATTEMPTS {
        let mut stubs: Vec<u32> = (0..n as u32)
            .flat_map(|v| std::iter::repeat_n(v, degree))
            .collect();
        let mut adjacency: Vec<Vec<u32>> = vec![Vec::with_capacity(degree); n];
        let mut pairs = Vec::with_capacity(n * degree / 2);
        while !stubs.is_empty() {
            let mut tries = 0;
            loop {
                tries += 1;
                if tries > 200 {
                    continue 'attempt;
                }
                let i = below(rng, stubs.len() as u64) as usize;
                let j = below(rng, stubs.len() as u64) as usize;
                let (a, b) = (stubs[i], stubs[j]);
                if i == j || a == b || adjacency[a as usize].contains(&b) {
                    continue;
                }
                adjacency[a as usize].push(b);
                adjacency[b as usize].push(a);
                pairs.push((a, b));
                let (hi, lo) = (i.max(j), i.min(j));
                stubs.swap_remove(hi);
                stubs.swap_remove(lo);
                break;
            }
        }
        return Ok(Network::undirected(n, pairs)?);
    }
    Err(GenerateError::RegularFailed {
        n,
        degree,
        attempts: ATTEMPTS,
    })
}

/// Ring lattice: each node joined to its `k` nearest neighbours on each side (degree `2k`),
/// optionally with each edge's far end rewired with probability `rewire` (Watts and Strogatz
/// 1998; rewirings that would create a loop or duplicate keep the original edge).
pub fn ring_lattice<R: Rng + ?Sized>(
    n: usize,
    k: usize,
    rewire: f64,
    rng: &mut R,
) -> Result<Network, GenerateError> {
    if 2 * k >= n.max(1) {
        return Err(GenerateError::InvalidParameter {
            name: "k",
            reason: "need 2k < n".into(),
        });
    }
    let mut adjacency: Vec<Vec<u32>> = vec![Vec::new(); n];
    let mut pairs = Vec::with_capacity(n * k);
    for offset in 1..=k {
        for a in 0..n {
            let b = (a + offset) % n;
            let mut target = b as u32;
            if rewire > 0.0 && bernoulli(rng, rewire) {
                let candidate = below(rng, n as u64) as u32;
                if candidate as usize != a
                    && !adjacency[a].contains(&candidate)
                    && (candidate as usize) != b
                    && !is_lattice_edge(a, candidate as usize, n, k, offset)
                {
                    target = candidate;
                }
            }
            adjacency[a].push(target);
            adjacency[target as usize].push(a as u32);
            pairs.push((a as u32, target));
        }
    }
    Ok(Network::undirected(n, pairs)?)
}

/// Whether (a, c) is a lattice edge of the current or a later offset, so taking it
/// now would duplicate it later.
fn is_lattice_edge(a: usize, c: usize, n: usize, k: usize, current: usize) -> bool {
    let d = (c + n - a) % n;
    let d = d.min(n - d);
    d >= 1 && d <= k && d >= current
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::derive_rng;

    fn small_tiered() -> TieredParams {
        let mut p = TieredParams::with_tiers(vec![5, 50, 300, 1_000]);
        p.communities = 3;
        p
    }

    #[test]
    fn tiered_sizes_and_structure() {
        let p = small_tiered();
        let net = tiered(&p, &mut derive_rng(1, "network", &[0])).unwrap();
        assert_eq!(net.len(), 1_355);
        assert_eq!(net.tier_sizes(), vec![5, 50, 300, 1_000]);
        let tiers = net.tiers();
        for e in net.edges() {
            assert_eq!(tiers[e.buyer as usize] + 1, tiers[e.supplier as usize]);
            assert!(e.volume >= 1);
        }
        // Every supplier has at least one customer; brands have none.
        for (i, &t) in tiers.iter().enumerate() {
            if t == 0 {
                assert_eq!(net.customer_degree(i), 0);
            } else {
                assert!(net.customer_degree(i) >= 1);
            }
        }
        // Overlap: about 60 % of tier-1 suppliers are shared between brands.
        let shared = (5..55).filter(|&i| net.customer_degree(i) >= 2).count();
        assert!((20..=45).contains(&shared), "{shared}");
    }

    #[test]
    fn tiered_degree_tails_follow_parameters() {
        // Customers of shared suppliers: Pareto(2, 2.5) floored; the fitted tail exponent of the
        // customer counts must come back near 2.5.
        let mut p = TieredParams::with_tiers(vec![2_000, 30_000]);
        p.overlap = 1.0;
        let net = tiered(&p, &mut derive_rng(8, "network", &[0])).unwrap();
        let customers: Vec<u64> = (2_000..32_000)
            .map(|i| net.customer_degree(i) as u64)
            .collect();
        let fit = crate::stats::DegreeSummary::of(&customers).tail.unwrap();
        assert!((fit.alpha - 2.5).abs() < 0.25, "{fit:?}");
        assert!(customers.iter().all(|&c| c >= 2));
    }

    #[test]
    fn tiered_is_deterministic() {
        let p = small_tiered();
        let a = tiered(&p, &mut derive_rng(9, "network", &[0])).unwrap();
        let b = tiered(&p, &mut derive_rng(9, "network", &[0])).unwrap();
        let c = tiered(&p, &mut derive_rng(10, "network", &[0])).unwrap();
        assert_eq!(a.edges(), b.edges());
        assert_eq!(a.communities(), b.communities());
        assert_ne!(a.edges(), c.edges());
    }

    #[test]
    fn tiered_overlap_zero_gives_trees() {
        let mut p = small_tiered();
        p.overlap = 0.0;
        let net = tiered(&p, &mut derive_rng(2, "network", &[0])).unwrap();
        assert_eq!(net.edge_count(), 1_350);
    }

    #[test]
    fn gnp_edge_count_matches_expectation() {
        let n = 2_000;
        let p = 0.004;
        let net = gnp(n, p, &mut derive_rng(3, "network", &[0])).unwrap();
        let expected = p * (n * (n - 1) / 2) as f64;
        let sd = expected.sqrt();
        assert!(
            ((net.edge_count() as f64) - expected).abs() < 4.0 * sd,
            "{}",
            net.edge_count()
        );
        assert_eq!(
            gnp(10, 1.0, &mut derive_rng(3, "n", &[]))
                .unwrap()
                .edge_count(),
            45
        );
        assert_eq!(
            gnp(10, 0.0, &mut derive_rng(3, "n", &[]))
                .unwrap()
                .edge_count(),
            0
        );
    }

    #[test]
    fn gnm_exact_count() {
        for m in [0, 10, 40, 45] {
            let net = gnm(10, m, &mut derive_rng(4, "n", &[])).unwrap();
            assert_eq!(net.edge_count(), m);
        }
        assert!(gnm(10, 46, &mut derive_rng(4, "n", &[])).is_err());
    }

    #[test]
    fn regular_and_ring_degrees() {
        let net = random_regular(500, 4, &mut derive_rng(5, "n", &[])).unwrap();
        assert!((0..500).all(|i| net.degree(i) == 4));
        let ring = ring_lattice(100, 3, 0.0, &mut derive_rng(6, "n", &[])).unwrap();
        assert!((0..100).all(|i| ring.degree(i) == 6));
        assert!(ring.neighbours(0).contains(&99) && ring.neighbours(0).contains(&3));
        let ws = ring_lattice(1_000, 3, 0.2, &mut derive_rng(6, "n", &[])).unwrap();
        assert_eq!(ws.edge_count(), 3_000);
    }

    proptest::proptest! {
        #[test]
        fn gnm_and_regular_sizes(n in 5usize..60, seed in 0u64..1000) {
            let m = n;
            let net = gnm(n, m, &mut derive_rng(seed, "p", &[])).unwrap();
            proptest::prop_assert_eq!(net.edge_count(), m);
            let d = 2;
            let reg = random_regular(n, d, &mut derive_rng(seed, "p", &[])).unwrap();
            proptest::prop_assert!((0..n).all(|i| reg.degree(i) == d));
        }
    }
}
