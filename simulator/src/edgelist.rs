//! Import and export of networks as CSV edge lists.
//!
//! Edge file: a header row naming the columns `buyer`, `supplier` and optionally
//! `contracts_per_year` (in any order; other columns are ignored), then one row per
//! relationship. Firm identifiers are arbitrary strings, numbered in order of first appearance.
//! Repeated rows for the same pair are merged by adding their contract counts; a missing count
//! means [`DEFAULT_VOLUME`].
//!
//! Node file (optional): header `firm,tier[,community]`; firms listed there without any
//! relationship are kept as isolated firms. Without it, tiers are inferred: firms
//! with no customers are tier 0 and every other firm's tier is its shortest distance from a
//! tier-0 firm along buyer → supplier edges (firms reachable from no tier-0 firm, which only
//! happens inside supply cycles, are put in tier 0).

use std::collections::BTreeMap;
use std::path::Path;

use crate::error::EdgeListError;
use crate::network::{Edge, Network};

/// Contracts per year assumed when the edge file has no count column (one a month).
pub const DEFAULT_VOLUME: u32 = 12;

/// An imported network with the original firm identifiers.
#[derive(Debug, Clone)]
pub struct Imported {
    /// The network.
    pub network: Network,
    /// Original identifier of each firm, by index.
    pub names: Vec<String>,
}

fn io_error(path: &Path, source: std::io::Error) -> EdgeListError {
    EdgeListError::Io {
        path: path.to_owned(),
        source,
    }
}

fn malformed(path: &Path, line: u64, reason: impl Into<String>) -> EdgeListError {
    EdgeListError::Malformed {
        path: path.to_owned(),
        line,
        reason: reason.into(),
    }
}

fn open(path: &Path) -> Result<csv::Reader<std::fs::File>, EdgeListError> {
    let file = std::fs::File::open(path).map_err(|e| io_error(path, e))?;
    Ok(csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(true)
        .from_reader(file))
}

fn column(headers: &csv::StringRecord, names: &[&str]) -> Option<usize> {
    headers
        .iter()
        .position(|h| names.iter().any(|n| h.eq_ignore_ascii_case(n)))
}

/// Reads an edge file and an optional node file.
pub fn read(edges_path: &Path, nodes_path: Option<&Path>) -> Result<Imported, EdgeListError> {
    let mut reader = open(edges_path)?;
    let headers = reader
        .headers()
        .map_err(|e| malformed(edges_path, 1, e.to_string()))?
        .clone();
    let buyer_col = column(&headers, &["buyer"])
        .ok_or_else(|| malformed(edges_path, 1, "header needs a `buyer` column"))?;
    let supplier_col = column(&headers, &["supplier"])
        .ok_or_else(|| malformed(edges_path, 1, "header needs a `supplier` column"))?;
    let volume_col = column(&headers, &["contracts_per_year", "contracts", "volume"]);

    let mut index: BTreeMap<String, u32> = BTreeMap::new();
    let mut names: Vec<String> = Vec::new();
    let mut id = |name: &str, names: &mut Vec<String>| -> u32 {
        if let Some(&i) = index.get(name) {
            return i;
        }
        let i = names.len() as u32;
        index.insert(name.to_owned(), i);
        names.push(name.to_owned());
        i
    };
    let mut volumes: BTreeMap<(u32, u32), u64> = BTreeMap::new();
    for (row, record) in reader.records().enumerate() {
        let line = row as u64 + 2;
        let record = record.map_err(|e| malformed(edges_path, line, e.to_string()))?;
        let field = |c: usize| record.get(c).unwrap_or("");
        let (b, s) = (field(buyer_col), field(supplier_col));
        if b.is_empty() || s.is_empty() {
            return Err(malformed(edges_path, line, "empty buyer or supplier"));
        }
        if b == s {
            return Err(malformed(
                edges_path,
                line,
                format!("firm {b} supplies itself"),
            ));
        }
        let volume = match volume_col.map(field) {
            None | Some("") => u64::from(DEFAULT_VOLUME),
            Some(v) => match v.parse::<u64>() {
                Ok(x) if x >= 1 => x,
                _ => {
                    return Err(malformed(
                        edges_path,
                        line,
                        format!("contracts_per_year must be an integer >= 1, got {v:?}"),
                    ));
                }
            },
        };
        let (bi, si) = (id(b, &mut names), id(s, &mut names));
        if volumes.contains_key(&(si, bi)) {
            return Err(malformed(
                edges_path,
                line,
                format!("{b} and {s} each supply the other; a supply network cannot hold both"),
            ));
        }
        *volumes.entry((bi, si)).or_insert(0) += volume;
    }
    let edges: Vec<Edge> = volumes
        .into_iter()
        .map(|((buyer, supplier), v)| Edge {
            buyer,
            supplier,
            volume: v.min(u64::from(u32::MAX)) as u32,
        })
        .collect();

    let (tier, community) = match nodes_path {
        Some(path) => read_nodes(path, &mut index, &mut names)?,
        None => (infer_tiers(names.len(), &edges), vec![0; names.len()]),
    };
    let network = Network::from_edges(tier, community, edges, true)?;
    Ok(Imported { network, names })
}

/// Reads tiers and communities; firms listed here without relationships are added as isolated
/// firms (after all firms of the edge file, in node-file order).
fn read_nodes(
    path: &Path,
    index: &mut BTreeMap<String, u32>,
    names: &mut Vec<String>,
) -> Result<(Vec<u8>, Vec<u32>), EdgeListError> {
    let mut reader = open(path)?;
    let headers = reader
        .headers()
        .map_err(|e| malformed(path, 1, e.to_string()))?
        .clone();
    let firm_col = column(&headers, &["firm", "id"])
        .ok_or_else(|| malformed(path, 1, "header needs a `firm` column"))?;
    let tier_col = column(&headers, &["tier"])
        .ok_or_else(|| malformed(path, 1, "header needs a `tier` column"))?;
    let community_col = column(&headers, &["community"]);
    let mut tier: Vec<Option<u8>> = vec![None; names.len()];
    let mut community = vec![0u32; names.len()];
    for (row, record) in reader.records().enumerate() {
        let line = row as u64 + 2;
        let record = record.map_err(|e| malformed(path, line, e.to_string()))?;
        let field = |c: usize| record.get(c).unwrap_or("");
        let name = field(firm_col);
        if name.is_empty() {
            return Err(malformed(path, line, "empty firm identifier"));
        }
        let i = match index.get(name) {
            Some(&i) => i,
            None => {
                let i = names.len() as u32;
                index.insert(name.to_owned(), i);
                names.push(name.to_owned());
                tier.push(None);
                community.push(0);
                i
            }
        };
        let t: u8 = field(tier_col)
            .parse()
            .map_err(|_| malformed(path, line, "tier must be an integer in 0..=254"))?;
        tier[i as usize] = Some(t.min(254));
        if let Some(c) = community_col {
            community[i as usize] = field(c)
                .parse()
                .map_err(|_| malformed(path, line, "community must be a non-negative integer"))?;
        }
    }
    let mut out = Vec::with_capacity(tier.len());
    for (i, t) in tier.into_iter().enumerate() {
        out.push(
            t.ok_or_else(|| malformed(path, 0, format!("no tier given for firm {}", names[i])))?,
        );
    }
    Ok((out, community))
}

/// Tier = shortest buyer → supplier distance from a firm with no customers.
fn infer_tiers(n: usize, edges: &[Edge]) -> Vec<u8> {
    let mut has_customer = vec![false; n];
    let mut offsets = vec![0usize; n + 1];
    for e in edges {
        has_customer[e.supplier as usize] = true;
        offsets[e.buyer as usize + 1] += 1;
    }
    for i in 0..n {
        offsets[i + 1] += offsets[i];
    }
    let mut suppliers = vec![0u32; edges.len()];
    let mut cursor = offsets.clone();
    for e in edges {
        suppliers[cursor[e.buyer as usize]] = e.supplier;
        cursor[e.buyer as usize] += 1;
    }
    let mut tier = vec![u8::MAX; n];
    let mut frontier: Vec<u32> = (0..n as u32)
        .filter(|&i| !has_customer[i as usize])
        .collect();
    for &i in &frontier {
        tier[i as usize] = 0;
    }
    let mut depth = 0u8;
    while !frontier.is_empty() && depth < 254 {
        depth += 1;
        let mut next = Vec::new();
        for &b in &frontier {
            for &s in &suppliers[offsets[b as usize]..offsets[b as usize + 1]] {
                if tier[s as usize] == u8::MAX {
                    tier[s as usize] = depth;
                    next.push(s);
                }
            }
        }
        frontier = next;
    }
    tier.iter_mut()
        .filter(|t| **t == u8::MAX)
        .for_each(|t| *t = 0);
    tier
}

/// Writes `net` as an edge file (firm identifiers are indices) and, if `nodes_path` is given,
/// a node file with tiers and communities; both can be read back with [`read`].
pub fn write(
    net: &Network,
    edges_path: &Path,
    nodes_path: Option<&Path>,
) -> Result<(), EdgeListError> {
    let mut w = csv::Writer::from_path(edges_path)
        .map_err(|e| io_error(edges_path, std::io::Error::other(e.to_string())))?;
    let csv_err = |e: csv::Error| io_error(edges_path, std::io::Error::other(e.to_string()));
    w.write_record(["buyer", "supplier", "contracts_per_year"])
        .map_err(csv_err)?;
    for e in net.edges() {
        w.write_record([
            e.buyer.to_string(),
            e.supplier.to_string(),
            e.volume.to_string(),
        ])
        .map_err(csv_err)?;
    }
    w.flush().map_err(|e| io_error(edges_path, e))?;
    if let Some(path) = nodes_path {
        let mut w = csv::Writer::from_path(path)
            .map_err(|e| io_error(path, std::io::Error::other(e.to_string())))?;
        let csv_err = |e: csv::Error| io_error(path, std::io::Error::other(e.to_string()));
        w.write_record(["firm", "tier", "community"])
            .map_err(csv_err)?;
        for i in 0..net.len() {
            w.write_record([
                i.to_string(),
                net.tiers()[i].to_string(),
                net.communities()[i].to_string(),
            ])
            .map_err(csv_err)?;
        }
        w.flush().map_err(|e| io_error(path, e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::{TieredParams, tiered};
    use crate::rng::derive_rng;

    #[test]
    fn round_trip_preserves_network() {
        let dir = tempfile::tempdir().unwrap();
        let mut p = TieredParams::with_tiers(vec![3, 20, 60]);
        p.communities = 2;
        let net = tiered(&p, &mut derive_rng(1, "network", &[0])).unwrap();
        let (e, n) = (dir.path().join("e.csv"), dir.path().join("n.csv"));
        write(&net, &e, Some(&n)).unwrap();
        let back = read(&e, Some(&n)).unwrap();
        // Identifiers are renumbered by first appearance; compare through the names.
        let to_orig = |i: u32| back.names[i as usize].parse::<u32>().unwrap();
        let mut edges: Vec<Edge> = back
            .network
            .edges()
            .iter()
            .map(|e| Edge {
                buyer: to_orig(e.buyer),
                supplier: to_orig(e.supplier),
                volume: e.volume,
            })
            .collect();
        edges.sort_unstable();
        assert_eq!(edges, net.edges());
        for i in 0..back.network.len() {
            let o = to_orig(i as u32) as usize;
            assert_eq!(back.network.tiers()[i], net.tiers()[o]);
            assert_eq!(back.network.communities()[i], net.communities()[o]);
        }
        // Firms listed only in the node file are kept as isolated firms.
        let mut nodes_text = std::fs::read_to_string(&n).unwrap();
        nodes_text.push_str("lonely,2,1\n");
        std::fs::write(&n, nodes_text).unwrap();
        let with_isolated = read(&e, Some(&n)).unwrap();
        assert_eq!(with_isolated.network.len(), net.len() + 1);
        assert_eq!(with_isolated.network.degree(net.len()), 0);
        // Without the node file, tiers are inferred from the edges and match.
        let inferred = read(&e, None).unwrap();
        for i in 0..inferred.network.len() {
            assert_eq!(
                inferred.network.tiers()[i],
                net.tiers()[to_orig(i as u32) as usize]
            );
        }
    }

    #[test]
    fn merges_repeats_and_rejects_bad_rows() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("e.csv");
        std::fs::write(
            &path,
            "supplier,buyer,contracts_per_year\nB,A,5\nB,A,7\nC,B,\n",
        )
        .unwrap();
        let got = read(&path, None).unwrap();
        assert_eq!(got.names, vec!["A", "B", "C"]);
        assert_eq!(got.network.edges()[0].volume, 12);
        assert_eq!(got.network.edges()[1].volume, DEFAULT_VOLUME);
        assert_eq!(got.network.tiers(), &[0, 1, 2]);
        for bad in [
            "buyer,supplier\nA,A\n",
            "buyer,supplier,contracts\nA,B,0\n",
            "x,y\n1,2\n",
            "buyer,supplier\nA,B\nB,A\n",
        ] {
            std::fs::write(&path, bad).unwrap();
            assert!(read(&path, None).is_err(), "{bad}");
        }
    }
}
