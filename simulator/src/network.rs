//! The network: firms, their tiers and communities, and buyer–supplier edges in compact
//! sparse-row (CSR) form with `u32` indices.
//!
//! Every edge has a buyer, a supplier and a yearly contract volume. Standard random graphs
//! (which have no direction) are stored the same way with the lower index as "buyer", every
//! firm in tier 0 and volume 1; models that ignore direction only look at neighbours.

use crate::error::NetworkError;

/// One buyer–supplier relationship.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Edge {
    /// The firm that buys (lower tier number).
    pub buyer: u32,
    /// The firm that supplies.
    pub supplier: u32,
    /// Contracts signed on this relationship per year (at least 1).
    pub volume: u32,
}

/// An immutable network with CSR adjacency.
///
/// For firm `i`, `neighbours(i)` lists its suppliers first and then its customers; the
/// matching `incident_edges(i)` gives the index of each edge in [`Network::edges`].
#[derive(Debug, Clone)]
pub struct Network {
    tier: Vec<u8>,
    community: Vec<u32>,
    edges: Vec<Edge>,
    offsets: Vec<usize>,
    supplier_count: Vec<u32>,
    neighbour: Vec<u32>,
    incident: Vec<u32>,
    directed: bool,
}

impl Network {
    /// Builds a network from per-firm tiers and communities and a list of edges.
    ///
    /// Rejects self-loops, out-of-range firms, duplicate edges (in either direction) and zero
    /// volumes. `directed` records whether buyer/supplier roles mean anything.
    pub fn from_edges(
        tier: Vec<u8>,
        community: Vec<u32>,
        mut edges: Vec<Edge>,
        directed: bool,
    ) -> Result<Self, NetworkError> {
        let n = tier.len();
        if community.len() != n {
            return Err(NetworkError::AttributeLength {
                firms: n,
                communities: community.len(),
            });
        }
        if n > u32::MAX as usize - 1 || edges.len() > u32::MAX as usize / 2 {
            return Err(NetworkError::TooLarge);
        }
        for e in &edges {
            if e.buyer as usize >= n || e.supplier as usize >= n {
                return Err(NetworkError::FirmOutOfRange {
                    firm: e.buyer.max(e.supplier),
                    firms: n,
                });
            }
            if e.buyer == e.supplier {
                return Err(NetworkError::SelfLoop { firm: e.buyer });
            }
            if e.volume == 0 {
                return Err(NetworkError::ZeroVolume {
                    buyer: e.buyer,
                    supplier: e.supplier,
                });
            }
        }
        edges.sort_unstable();
        let mut keys: Vec<(u32, u32)> = edges
            .iter()
            .map(|e| (e.buyer.min(e.supplier), e.buyer.max(e.supplier)))
            .collect();
        keys.sort_unstable();
        if let Some(w) = keys.windows(2).find(|w| w[0] == w[1]) {
            return Err(NetworkError::DuplicateEdge {
                a: w[0].0,
                b: w[0].1,
            });
        }
        drop(keys);

        let mut supplier_count = vec![0u32; n];
        let mut degree = vec![0usize; n];
        for e in &edges {
            supplier_count[e.buyer as usize] += 1;
            degree[e.buyer as usize] += 1;
            degree[e.supplier as usize] += 1;
        }
        let mut offsets = Vec::with_capacity(n + 1);
        let mut acc = 0usize;
        offsets.push(0);
        for d in &degree {
            acc += d;
            offsets.push(acc);
        }
        drop(degree);
        let mut supplier_cursor: Vec<usize> = offsets[..n].to_vec();
        let mut customer_cursor: Vec<usize> = (0..n)
            .map(|i| offsets[i] + supplier_count[i] as usize)
            .collect();
        let mut neighbour = vec![0u32; acc];
        let mut incident = vec![0u32; acc];
        for (index, e) in edges.iter().enumerate() {
            let b = e.buyer as usize;
            let s = e.supplier as usize;
            neighbour[supplier_cursor[b]] = e.supplier;
            incident[supplier_cursor[b]] = index as u32;
            supplier_cursor[b] += 1;
            neighbour[customer_cursor[s]] = e.buyer;
            incident[customer_cursor[s]] = index as u32;
            customer_cursor[s] += 1;
        }
        Ok(Self {
            tier,
            community,
            edges,
            offsets,
            supplier_count,
            neighbour,
            incident,
            directed,
        })
    }

    /// Builds an undirected network (all firms in tier 0 and community 0, volume 1).
    pub fn undirected(n: usize, pairs: Vec<(u32, u32)>) -> Result<Self, NetworkError> {
        let edges = pairs
            .into_iter()
            .map(|(a, b)| Edge {
                buyer: a.min(b),
                supplier: a.max(b),
                volume: 1,
            })
            .collect();
        Self::from_edges(vec![0; n], vec![0; n], edges, false)
    }

    /// Number of firms.
    pub fn len(&self) -> usize {
        self.tier.len()
    }

    /// Whether there are no firms.
    pub fn is_empty(&self) -> bool {
        self.tier.is_empty()
    }

    /// Number of edges.
    pub fn edge_count(&self) -> usize {
        self.edges.len()
    }

    /// Whether buyer and supplier roles are meaningful (supply networks) or not (standard graphs).
    pub fn is_directed(&self) -> bool {
        self.directed
    }

    /// All edges, sorted by (buyer, supplier).
    pub fn edges(&self) -> &[Edge] {
        &self.edges
    }

    /// Tier of every firm.
    pub fn tiers(&self) -> &[u8] {
        &self.tier
    }

    /// Community (sector or region) of every firm.
    pub fn communities(&self) -> &[u32] {
        &self.community
    }

    /// Number of tiers (highest tier + 1; 0 for an empty network).
    pub fn tier_count(&self) -> usize {
        self.tier
            .iter()
            .copied()
            .max()
            .map_or(0, |t| t as usize + 1)
    }

    /// Number of neighbours of firm `i` (suppliers plus customers).
    pub fn degree(&self, i: usize) -> usize {
        self.offsets[i + 1] - self.offsets[i]
    }

    /// Number of suppliers of firm `i`.
    pub fn supplier_degree(&self, i: usize) -> usize {
        self.supplier_count[i] as usize
    }

    /// Number of customers of firm `i`.
    pub fn customer_degree(&self, i: usize) -> usize {
        self.degree(i) - self.supplier_degree(i)
    }

    /// Neighbours of firm `i`: suppliers first, then customers.
    pub fn neighbours(&self, i: usize) -> &[u32] {
        &self.neighbour[self.offsets[i]..self.offsets[i + 1]]
    }

    /// Edge indices matching [`Network::neighbours`].
    pub fn incident_edges(&self, i: usize) -> &[u32] {
        &self.incident[self.offsets[i]..self.offsets[i + 1]]
    }

    /// Suppliers of firm `i`.
    pub fn suppliers(&self, i: usize) -> &[u32] {
        let start = self.offsets[i];
        &self.neighbour[start..start + self.supplier_count[i] as usize]
    }

    /// Edge indices of firm `i`'s supplier relationships.
    pub fn supplier_edges(&self, i: usize) -> &[u32] {
        let start = self.offsets[i];
        &self.incident[start..start + self.supplier_count[i] as usize]
    }

    /// Edge indices of firm `i`'s customer relationships.
    pub fn customer_edges(&self, i: usize) -> &[u32] {
        let start = self.offsets[i] + self.supplier_count[i] as usize;
        &self.incident[start..self.offsets[i + 1]]
    }

    /// Customers of firm `i`.
    pub fn customers(&self, i: usize) -> &[u32] {
        let start = self.offsets[i] + self.supplier_count[i] as usize;
        &self.neighbour[start..self.offsets[i + 1]]
    }

    /// Mean degree `z = 2m / n`.
    pub fn mean_degree(&self) -> f64 {
        if self.is_empty() {
            0.0
        } else {
            2.0 * self.edges.len() as f64 / self.len() as f64
        }
    }

    /// Number of firms per tier.
    pub fn tier_sizes(&self) -> Vec<usize> {
        let mut sizes = vec![0usize; self.tier_count()];
        for &t in &self.tier {
            sizes[t as usize] += 1;
        }
        sizes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edge(buyer: u32, supplier: u32) -> Edge {
        Edge {
            buyer,
            supplier,
            volume: 3,
        }
    }

    #[test]
    fn csr_lists_suppliers_then_customers() {
        let net = Network::from_edges(
            vec![0, 1, 1, 2],
            vec![0; 4],
            vec![edge(0, 1), edge(0, 2), edge(1, 3), edge(2, 3)],
            true,
        )
        .unwrap();
        assert_eq!(net.suppliers(0), &[1, 2]);
        assert_eq!(net.customers(3), &[1, 2]);
        assert_eq!(net.neighbours(1), &[3, 0]);
        assert_eq!(net.supplier_degree(1), 1);
        assert_eq!(net.customer_degree(1), 1);
        for i in 0..4 {
            for (&j, &e) in net.neighbours(i).iter().zip(net.incident_edges(i)) {
                let e = net.edges()[e as usize];
                assert!(e.buyer as usize == i || e.supplier as usize == i);
                assert!(e.buyer == j || e.supplier == j);
            }
        }
        assert_eq!(net.tier_sizes(), vec![1, 2, 1]);
    }

    #[test]
    fn rejects_bad_edges() {
        let t = || vec![0u8; 3];
        let c = || vec![0u32; 3];
        assert!(matches!(
            Network::from_edges(t(), c(), vec![edge(1, 1)], true),
            Err(NetworkError::SelfLoop { .. })
        ));
        assert!(matches!(
            Network::from_edges(t(), c(), vec![edge(0, 1), edge(1, 0)], true),
            Err(NetworkError::DuplicateEdge { .. })
        ));
        assert!(matches!(
            Network::from_edges(t(), c(), vec![edge(0, 5)], true),
            Err(NetworkError::FirmOutOfRange { .. })
        ));
    }
}
