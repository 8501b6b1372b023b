//! Network statistics for `signet-sim stats`: tier sizes, degree distributions with fitted
//! power-law tails, clustering, suppliers shared between brands, and reach between tiers.

use serde::Serialize;

use crate::network::Network;

/// Discrete power-law tail fit by maximum likelihood (Clauset, Shalizi and Newman 2009,
/// eq. 3.7 approximation `α = 1 + n / Σ ln(x_i / (x_min − ½))`), with `x_min` chosen to
/// minimise the Kolmogorov–Smirnov distance between the tail and the fit.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TailFit {
    /// Density exponent α (P(k) ∝ k^−α for k ≥ x_min).
    pub alpha: f64,
    /// Start of the fitted tail.
    pub x_min: u64,
    /// Observations in the tail.
    pub n_tail: usize,
    /// KS distance of the fit on the tail.
    pub ks: f64,
}

/// Summary of one degree sequence.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DegreeSummary {
    /// Number of values.
    pub count: usize,
    /// Mean.
    pub mean: f64,
    /// Median.
    pub median: u64,
    /// 99th percentile.
    pub p99: u64,
    /// Maximum.
    pub max: u64,
    /// Counts in logarithmic bins `[1], [2,3], [4,7], …` (bin 0 holds zeros).
    pub log2_histogram: Vec<u64>,
    /// Tail fit (when at least 50 values are ≥ 1).
    pub tail: Option<TailFit>,
}

/// Smallest tail size a fit is attempted on.
pub const MIN_TAIL: usize = 50;

impl DegreeSummary {
    /// Summarises a sequence of non-negative integers.
    pub fn of(values: &[u64]) -> Self {
        let mut sorted = values.to_vec();
        sorted.sort_unstable();
        let n = sorted.len();
        let at = |q: f64| {
            if n == 0 {
                0
            } else {
                sorted[((q * n as f64).ceil() as usize).clamp(1, n) - 1]
            }
        };
        let mut log2_histogram = Vec::new();
        for &v in &sorted {
            let bin = if v == 0 {
                0
            } else {
                64 - v.leading_zeros() as usize
            };
            if log2_histogram.len() <= bin {
                log2_histogram.resize(bin + 1, 0);
            }
            log2_histogram[bin] += 1;
        }
        Self {
            count: n,
            mean: if n == 0 {
                0.0
            } else {
                sorted.iter().sum::<u64>() as f64 / n as f64
            },
            median: at(0.5),
            p99: at(0.99),
            max: sorted.last().copied().unwrap_or(0),
            log2_histogram,
            tail: fit_tail(&sorted),
        }
    }
}

/// Fits a power-law tail to ascending `sorted` values (see [`TailFit`]).
pub fn fit_tail(sorted: &[u64]) -> Option<TailFit> {
    let positive_start = sorted.partition_point(|&v| v == 0);
    let xs = &sorted[positive_start..];
    if xs.len() < MIN_TAIL {
        return None;
    }
    // Candidate x_min: distinct values leaving at least MIN_TAIL observations, at most 200 of
    // them spread over the range.
    let mut candidates: Vec<u64> = xs.to_vec();
    candidates.dedup();
    candidates.retain(|&c| xs.len() - xs.partition_point(|&v| v < c) >= MIN_TAIL);
    if candidates.len() > 200 {
        let step = candidates.len() as f64 / 200.0;
        candidates = (0..200)
            .map(|i| candidates[(i as f64 * step) as usize])
            .collect();
    }
    let mut best: Option<TailFit> = None;
    for &x_min in &candidates {
        let tail = &xs[xs.partition_point(|&v| v < x_min)..];
        let shift = x_min as f64 - 0.5;
        let log_sum: f64 = tail.iter().map(|&v| (v as f64 / shift).ln()).sum();
        if log_sum <= 0.0 {
            continue;
        }
        let alpha = 1.0 + tail.len() as f64 / log_sum;
        // KS over distinct values: empirical P(X >= x) against ((x − ½)/(x_min − ½))^(1−α).
        let mut ks: f64 = 0.0;
        let n = tail.len() as f64;
        let mut i = 0;
        while i < tail.len() {
            let x = tail[i];
            let empirical = (tail.len() - i) as f64 / n;
            let model = ((x as f64 - 0.5) / shift).powf(1.0 - alpha);
            ks = ks.max((empirical - model).abs());
            while i < tail.len() && tail[i] == x {
                i += 1;
            }
        }
        if best.as_ref().is_none_or(|b| ks < b.ks) {
            best = Some(TailFit {
                alpha,
                x_min,
                n_tail: tail.len(),
                ks,
            });
        }
    }
    best
}

/// Statistics of one tier.
#[derive(Debug, Clone, Serialize)]
pub struct TierStats {
    /// Tier number.
    pub tier: usize,
    /// Firms in the tier.
    pub firms: usize,
    /// Customers per firm.
    pub customers: DegreeSummary,
    /// Suppliers per firm.
    pub suppliers: DegreeSummary,
    /// Share of the tier's firms reachable from a tier-0 firm along buyer → supplier edges.
    pub reached_from_tier0: f64,
    /// Mean number of tier-0 firms whose supply chain contains the firm (tier-increasing paths;
    /// `null` when there are more than 1024 tier-0 firms).
    pub mean_brands_upstream: Option<f64>,
}

/// Suppliers shared between competing brands (tier-0 firms).
#[derive(Debug, Clone, Serialize)]
pub struct SharedSuppliers {
    /// Tier-0 firms.
    pub brands: usize,
    /// Mean number of tier-1 suppliers a pair of brands has in common.
    pub mean_shared_per_pair: f64,
    /// Largest number of tier-1 suppliers any pair of brands shares.
    pub max_shared_per_pair: u64,
    /// Share of tier-1 suppliers serving two or more brands.
    pub tier1_shared_share: f64,
    /// Mean number of brands a tier-1 supplier serves.
    pub mean_brands_per_tier1: f64,
}

/// Clustering of the undirected graph, computed exactly.
#[derive(Debug, Clone, Serialize)]
pub struct Clustering {
    /// Triangles.
    pub triangles: u64,
    /// Global clustering (transitivity): 3 × triangles / connected triples.
    pub transitivity: f64,
    /// Mean local clustering coefficient over firms with degree ≥ 2.
    pub average_local: f64,
}

/// Everything `signet-sim stats` reports.
#[derive(Debug, Clone, Serialize)]
pub struct NetworkStats {
    /// Firms.
    pub firms: usize,
    /// Edges.
    pub edges: usize,
    /// Mean degree 2m/n.
    pub mean_degree: f64,
    /// Total degree of every firm.
    pub degree: DegreeSummary,
    /// Per tier (supply networks).
    pub tiers: Vec<TierStats>,
    /// Clustering.
    pub clustering: Clustering,
    /// Brands and shared suppliers (supply networks with at least two tiers).
    pub shared_suppliers: Option<SharedSuppliers>,
    /// Share of edges whose two firms are in the same community.
    pub within_community_edge_share: f64,
    /// Yearly contracts per relationship.
    pub contracts_per_edge: DegreeSummary,
}

/// Computes all statistics of `net`.
pub fn compute(net: &Network) -> NetworkStats {
    let n = net.len();
    let degree: Vec<u64> = (0..n).map(|i| net.degree(i) as u64).collect();
    let tiers = net.tier_count();
    let reached = reach_from_tier0(net);
    let upstream = brands_upstream(net);
    let tier_stats = (0..tiers)
        .map(|k| {
            let members: Vec<usize> = (0..n).filter(|&i| net.tiers()[i] as usize == k).collect();
            let customers: Vec<u64> = members
                .iter()
                .map(|&i| net.customer_degree(i) as u64)
                .collect();
            let suppliers: Vec<u64> = members
                .iter()
                .map(|&i| net.supplier_degree(i) as u64)
                .collect();
            let firms = members.len();
            let share = |count: usize| {
                if firms == 0 {
                    0.0
                } else {
                    count as f64 / firms as f64
                }
            };
            TierStats {
                tier: k,
                firms,
                customers: DegreeSummary::of(&customers),
                suppliers: DegreeSummary::of(&suppliers),
                reached_from_tier0: share(members.iter().filter(|&&i| reached[i]).count()),
                mean_brands_upstream: upstream.as_ref().map(|u| {
                    members.iter().map(|&i| f64::from(u[i])).sum::<f64>() / firms.max(1) as f64
                }),
            }
        })
        .collect();
    let within = net
        .edges()
        .iter()
        .filter(|e| net.communities()[e.buyer as usize] == net.communities()[e.supplier as usize])
        .count();
    let volumes: Vec<u64> = net.edges().iter().map(|e| u64::from(e.volume)).collect();
    NetworkStats {
        firms: n,
        edges: net.edge_count(),
        mean_degree: net.mean_degree(),
        degree: DegreeSummary::of(&degree),
        tiers: tier_stats,
        clustering: clustering(net),
        shared_suppliers: shared_suppliers(net),
        within_community_edge_share: if net.edge_count() == 0 {
            0.0
        } else {
            within as f64 / net.edge_count() as f64
        },
        contracts_per_edge: DegreeSummary::of(&volumes),
    }
}

fn reach_from_tier0(net: &Network) -> Vec<bool> {
    let mut seen = vec![false; net.len()];
    let mut stack: Vec<u32> = (0..net.len() as u32)
        .filter(|&i| net.tiers()[i as usize] == 0)
        .collect();
    for &i in &stack {
        seen[i as usize] = true;
    }
    while let Some(b) = stack.pop() {
        for &s in net.suppliers(b as usize) {
            if !seen[s as usize] {
                seen[s as usize] = true;
                stack.push(s);
            }
        }
    }
    seen
}

/// Number of tier-0 firms upstream of each firm, by bitset propagation over tier-increasing
/// edges in tier order.
fn brands_upstream(net: &Network) -> Option<Vec<u32>> {
    let brands: Vec<usize> = (0..net.len()).filter(|&i| net.tiers()[i] == 0).collect();
    if brands.is_empty() || brands.len() > 1024 {
        return None;
    }
    let words = brands.len().div_ceil(64);
    let mut bits = vec![0u64; net.len() * words];
    for (b, &i) in brands.iter().enumerate() {
        bits[i * words + b / 64] |= 1 << (b % 64);
    }
    let mut order: Vec<usize> = (0..net.len()).collect();
    order.sort_by_key(|&i| net.tiers()[i]);
    for &b in &order {
        for &s in net.suppliers(b) {
            let s = s as usize;
            if net.tiers()[s] > net.tiers()[b] {
                for w in 0..words {
                    let v = bits[b * words + w];
                    bits[s * words + w] |= v;
                }
            }
        }
    }
    Some(
        (0..net.len())
            .map(|i| {
                bits[i * words..(i + 1) * words]
                    .iter()
                    .map(|w| w.count_ones())
                    .sum()
            })
            .collect(),
    )
}

fn shared_suppliers(net: &Network) -> Option<SharedSuppliers> {
    if net.tier_count() < 2 || !net.is_directed() {
        return None;
    }
    let brands: Vec<usize> = (0..net.len()).filter(|&i| net.tiers()[i] == 0).collect();
    let b = brands.len();
    let mut position = vec![u32::MAX; net.len()];
    for (k, &i) in brands.iter().enumerate() {
        position[i] = k as u32;
    }
    let matrix_ok = b <= 4_000;
    let mut pair = if matrix_ok {
        vec![0u32; b * b]
    } else {
        Vec::new()
    };
    let (mut tier1, mut shared, mut brand_links) = (0usize, 0usize, 0usize);
    let mut customers: Vec<u32> = Vec::new();
    for s in (0..net.len()).filter(|&i| net.tiers()[i] == 1) {
        tier1 += 1;
        customers.clear();
        customers.extend(
            net.customers(s)
                .iter()
                .filter(|&&c| position[c as usize] != u32::MAX)
                .map(|&c| position[c as usize]),
        );
        brand_links += customers.len();
        if customers.len() >= 2 {
            shared += 1;
        }
        if matrix_ok {
            for x in 0..customers.len() {
                for y in x + 1..customers.len() {
                    let (p, q) = (
                        customers[x].min(customers[y]),
                        customers[x].max(customers[y]),
                    );
                    pair[p as usize * b + q as usize] += 1;
                }
            }
        }
    }
    let pairs = b * b.saturating_sub(1) / 2;
    let (mut total, mut max) = (0u64, 0u64);
    if matrix_ok {
        for p in 0..b {
            for q in p + 1..b {
                let v = u64::from(pair[p * b + q]);
                total += v;
                max = max.max(v);
            }
        }
    }
    Some(SharedSuppliers {
        brands: b,
        mean_shared_per_pair: if pairs == 0 {
            0.0
        } else {
            total as f64 / pairs as f64
        },
        max_shared_per_pair: max,
        tier1_shared_share: if tier1 == 0 {
            0.0
        } else {
            shared as f64 / tier1 as f64
        },
        mean_brands_per_tier1: if tier1 == 0 {
            0.0
        } else {
            brand_links as f64 / tier1 as f64
        },
    })
}

/// Exact triangle count by degree ordering: each edge is oriented from the lower to the higher
/// (degree, index) end and each triangle is found once from its lowest vertex.
fn clustering(net: &Network) -> Clustering {
    let n = net.len();
    let rank = |i: usize| (net.degree(i), i);
    let mut out_offsets = vec![0usize; n + 1];
    for i in 0..n {
        out_offsets[i + 1] = out_offsets[i]
            + net
                .neighbours(i)
                .iter()
                .filter(|&&j| rank(j as usize) > rank(i))
                .count();
    }
    let mut out = vec![0u32; out_offsets[n]];
    for i in 0..n {
        let mut c = out_offsets[i];
        for &j in net.neighbours(i) {
            if rank(j as usize) > rank(i) {
                out[c] = j;
                c += 1;
            }
        }
    }
    let mut mark = vec![false; n];
    let mut local = vec![0u64; n];
    let mut triangles = 0u64;
    for u in 0..n {
        let ou = &out[out_offsets[u]..out_offsets[u + 1]];
        for &v in ou {
            mark[v as usize] = true;
        }
        for &v in ou {
            for &w in &out[out_offsets[v as usize]..out_offsets[v as usize + 1]] {
                if mark[w as usize] {
                    triangles += 1;
                    local[u] += 1;
                    local[v as usize] += 1;
                    local[w as usize] += 1;
                }
            }
        }
        for &v in ou {
            mark[v as usize] = false;
        }
    }
    let mut triples = 0u64;
    let (mut sum_local, mut counted) = (0.0, 0usize);
    for i in 0..n {
        let k = net.degree(i) as u64;
        if k >= 2 {
            let t = k * (k - 1) / 2;
            triples += t;
            sum_local += local[i] as f64 / t as f64;
            counted += 1;
        }
    }
    Clustering {
        triangles,
        transitivity: if triples == 0 {
            0.0
        } else {
            3.0 * triangles as f64 / triples as f64
        },
        average_local: if counted == 0 {
            0.0
        } else {
            sum_local / counted as f64
        },
    }
}

/// Human-readable report.
pub fn render(stats: &NetworkStats) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    let tail = |d: &DegreeSummary| match &d.tail {
        Some(t) => format!(
            "alpha={:.2} (x_min={}, n_tail={}, KS={:.3})",
            t.alpha, t.x_min, t.n_tail, t.ks
        ),
        None => "no tail fit (< 50 values)".to_owned(),
    };
    let _ = writeln!(
        s,
        "firms {}  edges {}  mean degree {:.3}",
        stats.firms, stats.edges, stats.mean_degree
    );
    let _ = writeln!(
        s,
        "degree: mean {:.2} median {} p99 {} max {}  tail {}",
        stats.degree.mean,
        stats.degree.median,
        stats.degree.p99,
        stats.degree.max,
        tail(&stats.degree)
    );
    let _ = writeln!(
        s,
        "clustering: transitivity {:.4}  average local {:.4}  triangles {}",
        stats.clustering.transitivity, stats.clustering.average_local, stats.clustering.triangles
    );
    let _ = writeln!(
        s,
        "contracts per relationship per year: mean {:.1} median {} max {}",
        stats.contracts_per_edge.mean,
        stats.contracts_per_edge.median,
        stats.contracts_per_edge.max
    );
    let _ = writeln!(
        s,
        "edges within a community: {:.3}",
        stats.within_community_edge_share
    );
    for t in &stats.tiers {
        let _ = writeln!(
            s,
            "tier {}: {} firms; customers mean {:.2} max {} tail {}; suppliers mean {:.2} max {} tail {}; reached from tier 0 {:.3}{}",
            t.tier,
            t.firms,
            t.customers.mean,
            t.customers.max,
            tail(&t.customers),
            t.suppliers.mean,
            t.suppliers.max,
            tail(&t.suppliers),
            t.reached_from_tier0,
            t.mean_brands_upstream
                .map_or(String::new(), |m| format!("; brands upstream {m:.2}")),
        );
    }
    if let Some(sh) = &stats.shared_suppliers {
        let _ = writeln!(
            s,
            "brands {}: tier-1 suppliers shared by >=2 brands {:.3}; brands per tier-1 supplier {:.2}; shared tier-1 suppliers per brand pair mean {:.2} max {}",
            sh.brands,
            sh.tier1_shared_share,
            sh.mean_brands_per_tier1,
            sh.mean_shared_per_pair,
            sh.max_shared_per_pair
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::{TieredParams, gnp, ring_lattice, tiered};
    use crate::rng::{derive_rng, pareto};

    #[test]
    fn tail_fit_recovers_exponent() {
        let mut rng = derive_rng(1, "t", &[]);
        let xs: Vec<u64> = (0..20_000)
            .map(|_| pareto(&mut rng, 5.0, 2.5).floor() as u64)
            .collect();
        let fit = DegreeSummary::of(&xs).tail.unwrap();
        assert!((fit.alpha - 2.5).abs() < 0.15, "{fit:?}");
    }

    #[test]
    fn clustering_of_known_graphs() {
        // Ring lattice with k = 2: each node has 3 triangles among 6 neighbour pairs → C = 0.5.
        let ring = ring_lattice(50, 2, 0.0, &mut derive_rng(1, "t", &[])).unwrap();
        let c = compute(&ring).clustering;
        assert_eq!(c.triangles, 50);
        assert!((c.average_local - 0.5).abs() < 1e-12 && (c.transitivity - 0.5).abs() < 1e-12);
        // G(n, p): clustering ≈ p.
        let net = gnp(2_000, 0.01, &mut derive_rng(2, "t", &[])).unwrap();
        let c = compute(&net).clustering;
        assert!((c.transitivity - 0.01).abs() < 0.003, "{c:?}");
    }

    #[test]
    fn tiered_stats_are_consistent() {
        let net = tiered(
            &TieredParams::with_tiers(vec![4, 40, 200]),
            &mut derive_rng(3, "n", &[0]),
        )
        .unwrap();
        let st = compute(&net);
        assert_eq!(
            st.tiers.iter().map(|t| t.firms).collect::<Vec<_>>(),
            vec![4, 40, 200]
        );
        assert!(
            st.tiers
                .iter()
                .all(|t| (t.reached_from_tier0 - 1.0).abs() < 1e-12)
        );
        let sh = st.shared_suppliers.unwrap();
        assert_eq!(sh.brands, 4);
        assert!(sh.tier1_shared_share > 0.2 && sh.mean_brands_per_tier1 > 1.0);
        // Edges only join adjacent tiers, so there are no triangles.
        assert_eq!(st.clustering.triangles, 0);
        assert!(st.tiers[2].mean_brands_upstream.unwrap() >= 1.0);
        assert!(render(&compute(&net)).contains("tier 2: 200 firms"));
    }
}
