//! RFC 9162 Merkle trees: hashing, an append-only tree, and proof verification (spec §10.2).
//!
//! Hashing is RFC 9162 §2.1.1: a leaf hashes as SHA-256(0x00 ‖ data), an interior node as
//! SHA-256(0x01 ‖ left ‖ right), and the empty tree as SHA-256 of nothing. A tree of `n`
//! leaves splits at the largest power of two below `n`, so every root, inclusion proof and
//! consistency proof here is byte-for-byte what Certificate Transparency, Go's `tlog` and
//! other RFC 9162 implementations produce for the same leaves.
//!
//! [`MerkleTree`] keeps the hash of every complete subtree, level by level, which makes
//! appending amortised one node hash, and lets it answer for any past size: the root at size
//! `n`, or a proof against it, is assembled from the complete subtrees that cover `n` leaves.
//! Those algorithms are the provided methods of [`Subtrees`], so a tree kept elsewhere (a
//! node's log with its leaves on disk) answers with the same bytes.

use crate::Digest;

/// The root of the empty tree: SHA-256 of the empty string (RFC 9162 §2.1.1).
pub fn empty_root() -> Digest {
    Digest::of(b"")
}

/// The hash of a leaf whose data is `data`: SHA-256(0x00 ‖ data) (RFC 9162 §2.1.1).
pub fn leaf_hash(data: &[u8]) -> Digest {
    Digest::of_parts(&[&[0x00], data])
}

/// The hash of an interior node: SHA-256(0x01 ‖ left ‖ right) (RFC 9162 §2.1.1).
pub fn node_hash(left: &Digest, right: &Digest) -> Digest {
    // The input is always 65 bytes, so it is padded by hand into two blocks and given to
    // the SHA-256 compression function directly: no streaming buffer, and it stays fast in
    // debug builds, where the tests hash millions of nodes.
    const IV: [u32; 8] = [
        0x6a09_e667,
        0xbb67_ae85,
        0x3c6e_f372,
        0xa54f_f53a,
        0x510e_527f,
        0x9b05_688c,
        0x1f83_d9ab,
        0x5be0_cd19,
    ];
    let mut message = [0u8; 128];
    message[0] = 0x01;
    message[1..33].copy_from_slice(left.as_bytes());
    message[33..65].copy_from_slice(right.as_bytes());
    message[65] = 0x80;
    message[120..].copy_from_slice(&(65u64 * 8).to_be_bytes());
    let mut state = IV;
    sha2::block_api::compress256(&mut state, message.as_chunks::<64>().0);
    // Written out word by word: iterator adaptors cost more than the compression itself
    // in an unoptimised build.
    macro_rules! big_endian {
        ($($i:literal)*) => {
            [$(
                (state[$i] >> 24) as u8,
                (state[$i] >> 16) as u8,
                (state[$i] >> 8) as u8,
                state[$i] as u8,
            )*]
        };
    }
    let out: [u8; 32] = big_endian!(0 1 2 3 4 5 6 7);
    Digest::from_bytes(out)
}

/// The caller asked a tree for a size or leaf it does not have (spec §10.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TreeError {
    /// The size asked for is larger than the tree.
    #[error("tree has {len} leaves, size {size} asked for")]
    SizeBeyondTree {
        /// The size asked for.
        size: u64,
        /// The number of leaves in the tree.
        len: u64,
    },
    /// The leaf index is not below the tree size.
    #[error("leaf index {index} is not below tree size {size}")]
    IndexOutOfRange {
        /// The leaf index asked for.
        index: u64,
        /// The tree size asked for.
        size: u64,
    },
    /// A consistency proof was asked for from a larger size to a smaller one.
    #[error("consistency asked from size {old} to the smaller size {new}")]
    SizesOutOfOrder {
        /// The earlier size.
        old: u64,
        /// The later size.
        new: u64,
    },
}

/// Why an inclusion or consistency proof does not verify (spec §10.2). Every variant is the
/// fault of whoever supplied the proof or the values it is checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProofError {
    /// The leaf index is not below the tree size.
    #[error("leaf index {index} is not below tree size {size}")]
    IndexOutOfRange {
        /// The leaf index claimed.
        index: u64,
        /// The tree size claimed.
        size: u64,
    },
    /// The earlier size is larger than the later one.
    #[error("consistency claimed from size {old} to the smaller size {new}")]
    SizesOutOfOrder {
        /// The earlier size.
        old: u64,
        /// The later size.
        new: u64,
    },
    /// The proof does not have the one length that the sizes (and index) determine.
    #[error("proof has {found} hashes, the sizes require {expected}")]
    WrongLength {
        /// Length required.
        expected: usize,
        /// Length given.
        found: usize,
    },
    /// The inclusion proof leads to another root: the leaf is not in that tree.
    #[error("inclusion proof leads to another root")]
    RootMismatch,
    /// The consistency proof does not lead to the earlier root.
    #[error("consistency proof does not lead to the earlier root")]
    OldRootMismatch,
    /// The consistency proof does not lead to the later root.
    #[error("consistency proof does not lead to the later root")]
    NewRootMismatch,
    /// The proof is for another tree size than the checkpoint it is checked against.
    #[error("proof is for tree size {proof}, the checkpoint for size {checkpoint}")]
    SizeMismatch {
        /// The size in the proof.
        proof: u64,
        /// The size in the checkpoint.
        checkpoint: u64,
    },
}

/// The number of hashes in the inclusion proof of leaf `index` in a tree of `size` leaves,
/// or `None` if `index` is not below `size` (RFC 9162 §2.1.3.1).
pub fn inclusion_proof_len(index: u64, size: u64) -> Option<usize> {
    if index >= size {
        return None;
    }
    // The path climbs the levels where the index and the last leaf's index differ ("inner"),
    // then one hash for each left sibling on the right border of the tree.
    let inner = u64::BITS - (index ^ (size - 1)).leading_zeros();
    let border = index.checked_shr(inner).unwrap_or(0).count_ones();
    Some((inner + border) as usize)
}

/// The number of hashes in the consistency proof from size `old` to size `new`, or `None`
/// if `old > new` (RFC 9162 §2.1.4.1; empty when `old` is 0 or equals `new`).
pub fn consistency_proof_len(old: u64, new: u64) -> Option<usize> {
    if old > new {
        return None;
    }
    if old == 0 || old == new {
        return Some(0);
    }
    // Below the lowest set bit of `old`, both trees share complete subtrees; the proof is the
    // inclusion path of the old tree's last such subtree in the new tree, plus that subtree's
    // own hash unless it is the whole old tree (`old` a power of two).
    let level = old.trailing_zeros();
    let index = (old - 1) >> level;
    let size = ((new - 1) >> level) + 1;
    let path = inclusion_proof_len(index, size)?;
    Some(path + usize::from(!old.is_power_of_two()))
}

/// Verifies that `leaf_hash` is leaf `index` of the tree of `size` leaves whose root is
/// `root`, given the inclusion proof `proof` (RFC 9162 §2.1.3.2).
pub fn verify_inclusion(
    leaf_hash: &Digest,
    index: u64,
    size: u64,
    proof: &[Digest],
    root: &Digest,
) -> Result<(), ProofError> {
    if inclusion_root(leaf_hash, index, size, proof)? == *root {
        Ok(())
    } else {
        Err(ProofError::RootMismatch)
    }
}

/// The root that an inclusion proof leads to from `leaf_hash` (RFC 9162 §2.1.3.2, steps 1–4).
fn inclusion_root(
    leaf_hash: &Digest,
    index: u64,
    size: u64,
    proof: &[Digest],
) -> Result<Digest, ProofError> {
    let expected =
        inclusion_proof_len(index, size).ok_or(ProofError::IndexOutOfRange { index, size })?;
    if proof.len() != expected {
        return Err(ProofError::WrongLength {
            expected,
            found: proof.len(),
        });
    }
    let (mut f_n, mut s_n) = (index, size - 1);
    let mut r = *leaf_hash;
    for p in proof {
        if s_n == 0 {
            // Unreachable once the length is right; kept as the RFC states it.
            return Err(ProofError::WrongLength {
                expected,
                found: proof.len(),
            });
        }
        if f_n & 1 == 1 || f_n == s_n {
            r = node_hash(p, &r);
            if f_n & 1 == 0 {
                while f_n & 1 == 0 && f_n != 0 {
                    f_n >>= 1;
                    s_n >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        f_n >>= 1;
        s_n >>= 1;
    }
    if s_n != 0 {
        return Err(ProofError::WrongLength {
            expected,
            found: proof.len(),
        });
    }
    Ok(r)
}

/// Verifies that the tree of `new_size` leaves with root `new_root` extends the tree of
/// `old_size` leaves with root `old_root`, given the consistency proof `proof`
/// (RFC 9162 §2.1.4.2).
///
/// Equal sizes need an empty proof and equal roots; an old size of zero needs an empty proof
/// and the empty tree's root as `old_root` (and as `new_root` too if the new size is zero).
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    old_root: &Digest,
    new_root: &Digest,
    proof: &[Digest],
) -> Result<(), ProofError> {
    let expected =
        consistency_proof_len(old_size, new_size).ok_or(ProofError::SizesOutOfOrder {
            old: old_size,
            new: new_size,
        })?;
    if proof.len() != expected {
        return Err(ProofError::WrongLength {
            expected,
            found: proof.len(),
        });
    }
    if old_size == 0 {
        // Every tree extends the empty one; two empty trees have the one empty root.
        if *old_root != empty_root() {
            return Err(ProofError::OldRootMismatch);
        }
        if new_size == 0 && *new_root != empty_root() {
            return Err(ProofError::NewRootMismatch);
        }
        return Ok(());
    }
    if old_size == new_size {
        return if old_root == new_root {
            Ok(())
        } else {
            Err(ProofError::NewRootMismatch)
        };
    }
    let (computed_old, computed_new) = if old_size.is_power_of_two() {
        // RFC 9162 §2.1.4.2 step 2: the old tree is a complete subtree of the new one, so its
        // root is the starting point and the proof leaves it out.
        consistency_roots(old_size, new_size, old_root, proof)?
    } else {
        let (seed, rest) = proof
            .split_first()
            .ok_or(ProofError::WrongLength { expected, found: 0 })?;
        consistency_roots(old_size, new_size, seed, rest)?
    };
    if computed_old != *old_root {
        return Err(ProofError::OldRootMismatch);
    }
    if computed_new != *new_root {
        return Err(ProofError::NewRootMismatch);
    }
    Ok(())
}

/// The root of the first `old_size` leaves of the tree of `new_size` leaves with root
/// `new_root`, as a consistency path reveals it, or `None` if the path does not lead to
/// `new_root` (spec §10.5: evidence of equivocation).
///
/// `path` is the RFC 9162 consistency proof with, when `old_size` is a power of two, the
/// old root placed in front (the RFC leaves it out because its verifier already knows it).
/// Because the path hashes up to `new_root`, every hash in it is a node of that tree (short
/// of a SHA-256 collision), so the old root it yields is the one `new_root` commits to.
pub fn implied_old_root(
    old_size: u64,
    new_size: u64,
    new_root: &Digest,
    path: &[Digest],
) -> Option<Digest> {
    if old_size == 0 || old_size >= new_size {
        return None;
    }
    let expected =
        consistency_proof_len(old_size, new_size)? + usize::from(old_size.is_power_of_two());
    if path.len() != expected {
        return None;
    }
    let (seed, rest) = path.split_first()?;
    let (old_root, computed_new) = consistency_roots(old_size, new_size, seed, rest).ok()?;
    (computed_new == *new_root).then_some(old_root)
}

/// RFC 9162 §2.1.4.2 steps 3–7: the old and new roots a consistency path leads to, starting
/// from `seed` (the first hash of the path, or the old root when it is a power of two).
fn consistency_roots(
    old_size: u64,
    new_size: u64,
    seed: &Digest,
    rest: &[Digest],
) -> Result<(Digest, Digest), ProofError> {
    let wrong_length = ProofError::WrongLength {
        expected: consistency_proof_len(old_size, new_size).unwrap_or(0),
        found: rest.len() + usize::from(!old_size.is_power_of_two()),
    };
    let (mut f_n, mut s_n) = (old_size - 1, new_size - 1);
    while f_n & 1 == 1 {
        f_n >>= 1;
        s_n >>= 1;
    }
    let (mut f_r, mut s_r) = (*seed, *seed);
    for c in rest {
        if s_n == 0 {
            return Err(wrong_length);
        }
        if f_n & 1 == 1 || f_n == s_n {
            f_r = node_hash(c, &f_r);
            s_r = node_hash(c, &s_r);
            if f_n & 1 == 0 {
                while f_n & 1 == 0 && f_n != 0 {
                    f_n >>= 1;
                    s_n >>= 1;
                }
            }
        } else {
            s_r = node_hash(&s_r, c);
        }
        f_n >>= 1;
        s_n >>= 1;
    }
    if s_n != 0 {
        return Err(wrong_length);
    }
    Ok((f_r, s_r))
}

/// An append-only RFC 9162 Merkle tree held in memory (spec §10.2).
///
/// It stores the hash of every complete subtree: level 0 holds the leaf hashes, level `k`
/// the hashes of the aligned subtrees of 2^k leaves, about two digests per leaf in all.
/// Roots and proofs for any size up to [`len`](Self::len) come from those hashes without
/// rehashing leaves. To persist the tree, store [`leaf_hashes`](Self::leaf_hashes) and
/// rebuild with [`from_leaf_hashes`](Self::from_leaf_hashes).
///
/// ```
/// use signet_protocol::evidence::merkle::{leaf_hash, verify_consistency, verify_inclusion, MerkleTree};
///
/// let mut tree = MerkleTree::new();
/// for entry in [&b"first"[..], b"second", b"third"] {
///     tree.push(leaf_hash(entry));
/// }
/// let old_root = tree.root_at(2)?;
/// let proof = tree.inclusion_proof(1, 3)?;
/// assert!(verify_inclusion(&leaf_hash(b"second"), 1, 3, &proof, &tree.root()).is_ok());
/// let proof = tree.consistency_proof(2, 3)?;
/// assert!(verify_consistency(2, 3, &old_root, &tree.root(), &proof).is_ok());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct MerkleTree {
    /// `levels[k][i]` is the hash of leaves `i * 2^k .. (i + 1) * 2^k`; `levels[k]` holds
    /// `len >> k` hashes. Level 0 is present from the start.
    levels: Vec<Vec<Digest>>,
}

impl MerkleTree {
    /// An empty tree.
    pub fn new() -> Self {
        Self {
            levels: vec![Vec::new()],
        }
    }

    /// The tree whose leaves have these hashes, in order (to rebuild a stored tree).
    pub fn from_leaf_hashes(leaves: Vec<Digest>) -> Self {
        let mut levels = vec![leaves];
        loop {
            let next: Vec<Digest> = match levels.last() {
                Some(level) if level.len() >= 2 => level
                    .chunks_exact(2)
                    .map(|pair| node_hash(&pair[0], &pair[1]))
                    .collect(),
                _ => break,
            };
            levels.push(next);
        }
        Self { levels }
    }

    /// Appends a leaf hash and returns its index.
    pub fn push(&mut self, leaf_hash: Digest) -> u64 {
        let index = self.len();
        self.levels[0].push(leaf_hash);
        let mut level = 0;
        // Each time a level gets an even number of hashes, its last two complete a subtree
        // one level up.
        while self.levels[level].len().is_multiple_of(2) {
            let hashes = &self.levels[level];
            let parent = node_hash(&hashes[hashes.len() - 2], &hashes[hashes.len() - 1]);
            if self.levels.len() == level + 1 {
                self.levels.push(Vec::new());
            }
            self.levels[level + 1].push(parent);
            level += 1;
        }
        index
    }

    /// The number of leaves.
    pub fn len(&self) -> u64 {
        self.levels[0].len() as u64
    }

    /// Whether the tree has no leaves.
    pub fn is_empty(&self) -> bool {
        self.levels[0].is_empty()
    }

    /// The hash of leaf `index`, if the tree has it.
    pub fn leaf_hash(&self, index: u64) -> Option<&Digest> {
        usize::try_from(index)
            .ok()
            .and_then(|index| self.levels[0].get(index))
    }

    /// Every leaf hash in order: what a node stores to rebuild the tree.
    pub fn leaf_hashes(&self) -> &[Digest] {
        &self.levels[0]
    }

    /// The root of the whole tree (the empty tree's root when there are no leaves).
    pub fn root(&self) -> Digest {
        match Subtrees::root_at(self, self.len()) {
            Ok(root) => root,
            Err(e) => unreachable!("a tree holds every complete subtree of its leaves: {e}"),
        }
    }

    /// The root of the tree of the first `size` leaves.
    pub fn root_at(&self, size: u64) -> Result<Digest, TreeError> {
        Subtrees::root_at(self, size)
    }

    /// The inclusion proof of leaf `index` in the tree of the first `size` leaves: RFC 9162
    /// §2.1.3.1 `PATH(index, D[size])`, the sibling hashes from the leaf up.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Digest>, TreeError> {
        Subtrees::inclusion_proof(self, index, size)
    }

    /// The consistency proof from the tree of the first `old_size` leaves to the tree of the
    /// first `new_size`: RFC 9162 §2.1.4.1 `PROOF(old_size, D[new_size])`; empty when
    /// `old_size` is 0 or equals `new_size`.
    pub fn consistency_proof(
        &self,
        old_size: u64,
        new_size: u64,
    ) -> Result<Vec<Digest>, TreeError> {
        Subtrees::consistency_proof(self, old_size, new_size)
    }

    /// The hash of the complete subtree of `2^level` leaves starting at leaf
    /// `index * 2^level`, if the tree has all of them.
    pub fn subtree(&self, level: u32, index: u64) -> Option<&Digest> {
        let level = usize::try_from(level).ok()?;
        let index = usize::try_from(index).ok()?;
        self.levels.get(level)?.get(index)
    }
}

/// A Merkle tree seen through the hashes of its complete subtrees, from which every RFC 9162
/// root and proof is assembled: a [`MerkleTree`] keeps them all in memory; a node with a
/// long log may keep its leaves on disk and only the upper levels in memory.
///
/// The provided methods compute roots and proofs for any size up to [`len`](Self::len),
/// reading [`subtree_hash`](Self::subtree_hash) only for complete subtrees within that size.
pub trait Subtrees {
    /// Why a subtree's hash cannot be had (a tree in memory always has it; a stored one may
    /// fail to read).
    type Error: From<TreeError>;

    /// The number of leaves.
    fn len(&self) -> u64;

    /// Whether the tree has no leaves.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The hash of the complete subtree of `2^level` leaves starting at leaf
    /// `index * 2^level`. Called only for subtrees within [`len`](Self::len).
    fn subtree_hash(&self, level: u32, index: u64) -> Result<Digest, Self::Error>;

    /// The root of the tree of the first `size` leaves.
    fn root_at(&self, size: u64) -> Result<Digest, Self::Error> {
        self.check_size(size)?;
        self.range_hash(0, size)
    }

    /// The inclusion proof of leaf `index` in the tree of the first `size` leaves: RFC 9162
    /// §2.1.3.1 `PATH(index, D[size])`, the sibling hashes from the leaf up.
    fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Digest>, Self::Error> {
        self.check_size(size)?;
        if index >= size {
            return Err(TreeError::IndexOutOfRange { index, size }.into());
        }
        let mut path = Vec::with_capacity(inclusion_proof_len(index, size).unwrap_or(0));
        let (mut lo, mut hi) = (0, size);
        while hi - lo > 1 {
            let k = split(hi - lo);
            if index < lo + k {
                path.push(self.range_hash(lo + k, hi)?);
                hi = lo + k;
            } else {
                path.push(self.range_hash(lo, lo + k)?);
                lo += k;
            }
        }
        path.reverse();
        Ok(path)
    }

    /// The consistency proof from the tree of the first `old_size` leaves to the tree of the
    /// first `new_size`: RFC 9162 §2.1.4.1 `PROOF(old_size, D[new_size])`; empty when
    /// `old_size` is 0 or equals `new_size`.
    fn consistency_proof(&self, old_size: u64, new_size: u64) -> Result<Vec<Digest>, Self::Error> {
        self.check_size(new_size)?;
        if old_size > new_size {
            return Err(TreeError::SizesOutOfOrder {
                old: old_size,
                new: new_size,
            }
            .into());
        }
        if old_size == 0 || old_size == new_size {
            return Ok(Vec::new());
        }
        let mut path = Vec::with_capacity(consistency_proof_len(old_size, new_size).unwrap_or(0));
        // SUBPROOF(m, D[lo:hi], b), unrolled: the old tree ends at `old_size` inside [lo, hi).
        let (mut lo, mut hi, mut whole_old_tree) = (0, new_size, true);
        loop {
            if old_size == hi {
                if !whole_old_tree {
                    path.push(self.range_hash(lo, hi)?);
                }
                break;
            }
            let k = split(hi - lo);
            if old_size <= lo + k {
                path.push(self.range_hash(lo + k, hi)?);
                hi = lo + k;
            } else {
                path.push(self.range_hash(lo, lo + k)?);
                lo += k;
                whole_old_tree = false;
            }
        }
        path.reverse();
        Ok(path)
    }

    /// Refuses a size beyond the tree.
    fn check_size(&self, size: u64) -> Result<(), TreeError> {
        if size > self.len() {
            return Err(TreeError::SizeBeyondTree {
                size,
                len: self.len(),
            });
        }
        Ok(())
    }

    /// MTH of leaves `lo..hi`, where `lo` is a multiple of a power of two at least `hi - lo`
    /// and `hi <= len`: the complete subtrees from `lo` in decreasing size, folded from the
    /// right (RFC 9162 §2.1.1).
    ///
    /// Every range the RFC algorithms visit has that alignment: each split at `lo + k` (`k`
    /// the largest power of two below `hi - lo`) leaves a left part of exactly `k` and a right
    /// part of at most `k`, both starting at a multiple of `k`.
    fn range_hash(&self, lo: u64, hi: u64) -> Result<Digest, Self::Error> {
        let count = hi - lo;
        let mut acc: Option<Digest> = None;
        let mut bits = count;
        while bits != 0 {
            let level = bits.trailing_zeros();
            bits &= bits - 1;
            // The subtree of 2^level leaves for this bit starts after the larger ones, which
            // cover the bits of `count` above `level` (those still in `bits`). `start` is a
            // multiple of 2^level and `start + 2^level <= hi <= len`: the subtree is complete.
            let start = lo + bits;
            let node = self.subtree_hash(level, start >> level)?;
            acc = Some(match acc {
                None => node,
                Some(right) => node_hash(&node, &right),
            });
        }
        Ok(acc.unwrap_or_else(empty_root))
    }
}

impl Subtrees for MerkleTree {
    type Error = TreeError;

    fn len(&self) -> u64 {
        self.levels[0].len() as u64
    }

    fn subtree_hash(&self, level: u32, index: u64) -> Result<Digest, TreeError> {
        self.subtree(level, index)
            .copied()
            .ok_or(TreeError::SizeBeyondTree {
                size: (index + 1) << level,
                len: Subtrees::len(self),
            })
    }
}

impl Default for MerkleTree {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for MerkleTree {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MerkleTree")
            .field("len", &self.len())
            .field("root", &self.root())
            .finish()
    }
}

/// The largest power of two strictly below `n`, for `n >= 2` (RFC 9162 §2.1.1's `k`).
fn split(n: u64) -> u64 {
    1 << (u64::BITS - 1 - (n - 1).leading_zeros())
}

#[cfg(test)]
mod tests {
    use super::*;

    // ---- A naive reference, written straight from the RFC 9162 §2.1 definitions. ----

    fn reference_k(n: usize) -> usize {
        let mut k = 1;
        while k * 2 < n {
            k *= 2;
        }
        k
    }

    fn reference_mth(leaves: &[Digest]) -> Digest {
        match leaves.len() {
            0 => Digest::of(b""),
            1 => leaves[0],
            n => {
                let k = reference_k(n);
                let l = reference_mth(&leaves[..k]);
                let r = reference_mth(&leaves[k..]);
                Digest::of_parts(&[&[1], l.as_bytes(), r.as_bytes()])
            }
        }
    }

    fn reference_path(m: usize, leaves: &[Digest]) -> Vec<Digest> {
        let n = leaves.len();
        if n == 1 {
            return vec![];
        }
        let k = reference_k(n);
        if m < k {
            let mut p = reference_path(m, &leaves[..k]);
            p.push(reference_mth(&leaves[k..]));
            p
        } else {
            let mut p = reference_path(m - k, &leaves[k..]);
            p.push(reference_mth(&leaves[..k]));
            p
        }
    }

    fn reference_subproof(m: usize, leaves: &[Digest], b: bool) -> Vec<Digest> {
        let n = leaves.len();
        if m == n {
            return if b {
                vec![]
            } else {
                vec![reference_mth(leaves)]
            };
        }
        let k = reference_k(n);
        if m <= k {
            let mut p = reference_subproof(m, &leaves[..k], b);
            p.push(reference_mth(&leaves[k..]));
            p
        } else {
            let mut p = reference_subproof(m - k, &leaves[k..], false);
            p.push(reference_mth(&leaves[..k]));
            p
        }
    }

    fn leaves(n: usize) -> Vec<Digest> {
        (0..n as u32).map(|i| leaf_hash(&i.to_be_bytes())).collect()
    }

    fn tree_of(leaves: &[Digest]) -> MerkleTree {
        let mut tree = MerkleTree::new();
        for leaf in leaves {
            tree.push(*leaf);
        }
        tree
    }

    fn h(hex: &str) -> Digest {
        Digest::from_hex(hex).unwrap()
    }

    /// The RFC 6962 reference leaves of Certificate Transparency's test suite.
    fn ct_leaves() -> Vec<Digest> {
        [
            "",
            "00",
            "10",
            "2021",
            "3031",
            "40414243",
            "5051525354555657",
            "606162636465666768696a6b6c6d6e6f",
        ]
        .iter()
        .map(|d| leaf_hash(&hex::decode(d).unwrap()))
        .collect()
    }

    const CT_ROOTS: [&str; 9] = [
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ];

    #[test]
    fn node_hash_is_sha256_of_the_prefixed_pair() {
        let mut x = leaf_hash(b"seed");
        for i in 0..100u32 {
            let y = leaf_hash(&i.to_le_bytes());
            let expected = Digest::of_parts(&[&[0x01], x.as_bytes(), y.as_bytes()]);
            assert_eq!(node_hash(&x, &y), expected);
            x = expected;
        }
    }

    #[test]
    fn known_answer_roots_rfc6962() {
        assert_eq!(empty_root(), h(CT_ROOTS[0]));
        assert_eq!(MerkleTree::new().root(), h(CT_ROOTS[0]));
        let tree = tree_of(&ct_leaves());
        for (size, root) in CT_ROOTS.iter().enumerate() {
            assert_eq!(tree.root_at(size as u64).unwrap(), h(root), "size {size}");
            assert_eq!(tree_of(&ct_leaves()[..size]).root(), h(root), "size {size}");
        }
    }

    #[test]
    fn known_answer_proofs_rfc6962() {
        let tree = tree_of(&ct_leaves());
        let hs = |v: &[&str]| v.iter().map(|x| h(x)).collect::<Vec<_>>();
        let inclusion = [
            (
                0,
                8,
                hs(&[
                    "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
                ]),
            ),
            (
                5,
                8,
                hs(&[
                    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
                ]),
            ),
            (
                2,
                3,
                hs(&["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
            ),
            (
                1,
                5,
                hs(&[
                    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                ]),
            ),
        ];
        for (index, size, proof) in inclusion {
            assert_eq!(tree.inclusion_proof(index, size).unwrap(), proof);
            let leaf = tree.leaf_hash(index).unwrap();
            let root = h(CT_ROOTS[size as usize]);
            verify_inclusion(leaf, index, size, &proof, &root).unwrap();
        }
        let consistency = [
            (1, 1, vec![]),
            (
                1,
                8,
                hs(&[
                    "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
                ]),
            ),
            (
                6,
                8,
                hs(&[
                    "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
                ]),
            ),
            (
                2,
                5,
                hs(&[
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                ]),
            ),
        ];
        for (old, new, proof) in consistency {
            assert_eq!(tree.consistency_proof(old, new).unwrap(), proof);
            let (r1, r2) = (h(CT_ROOTS[old as usize]), h(CT_ROOTS[new as usize]));
            verify_consistency(old, new, &r1, &r2, &proof).unwrap();
        }
    }

    #[test]
    fn roots_match_the_reference_and_rebuild() {
        let all = leaves(300);
        let tree = tree_of(&all);
        for size in 0..=300 {
            assert_eq!(
                tree.root_at(size as u64).unwrap(),
                reference_mth(&all[..size]),
                "size {size}"
            );
        }
        let rebuilt = MerkleTree::from_leaf_hashes(tree.leaf_hashes().to_vec());
        assert_eq!(rebuilt, tree);
        assert_eq!(MerkleTree::from_leaf_hashes(vec![]), MerkleTree::new());
        // The default tree is a usable empty tree (regression: it once had no level 0).
        let mut tree = MerkleTree::default();
        assert_eq!(tree.root(), empty_root());
        assert_eq!(tree.push(all[0]), 0);
        assert_eq!(tree.root(), all[0]);
    }

    /// Every inclusion proof of every leaf for tree sizes in `sizes` (at most 1000).
    fn check_every_inclusion_proof(sizes: std::ops::RangeInclusive<u64>) {
        let all = leaves(1000);
        let tree = tree_of(&all);
        for size in sizes {
            let root = tree.root_at(size).unwrap();
            for index in 0..size {
                let proof = tree.inclusion_proof(index, size).unwrap();
                assert_eq!(Some(proof.len()), inclusion_proof_len(index, size));
                // The naive reference is quadratic: compare where it is cheap.
                if size <= 64 || (size % 97 == 0 && index % 13 == 0) {
                    assert_eq!(
                        proof,
                        reference_path(index as usize, &all[..size as usize]),
                        "index {index} size {size}"
                    );
                }
                verify_inclusion(&all[index as usize], index, size, &proof, &root)
                    .unwrap_or_else(|e| panic!("index {index} size {size}: {e}"));
            }
        }
    }

    // Two halves of equal work, so the test harness runs them on two threads.
    #[test]
    fn every_inclusion_proof_of_sizes_up_to_700_verifies() {
        check_every_inclusion_proof(1..=700);
    }

    #[test]
    fn every_inclusion_proof_of_sizes_701_to_1000_verifies() {
        check_every_inclusion_proof(701..=1000);
    }

    #[test]
    fn every_consistency_proof_up_to_200_verifies() {
        let all = leaves(200);
        let tree = tree_of(&all);
        let roots: Vec<Digest> = (0..=200).map(|s| tree.root_at(s).unwrap()).collect();
        for new in 1..=200u64 {
            for old in 0..=new {
                let proof = tree.consistency_proof(old, new).unwrap();
                assert_eq!(Some(proof.len()), consistency_proof_len(old, new));
                if old > 0 && (new <= 40 || (new + old) % 17 == 0) {
                    assert_eq!(
                        proof,
                        reference_subproof(old as usize, &all[..new as usize], true),
                        "{old} -> {new}"
                    );
                }
                let (r1, r2) = (roots[old as usize], roots[new as usize]);
                verify_consistency(old, new, &r1, &r2, &proof)
                    .unwrap_or_else(|e| panic!("{old} -> {new}: {e}"));
                if old > 0 && old < new {
                    let mut full = proof.clone();
                    if old.is_power_of_two() {
                        full.insert(0, r1);
                    }
                    assert_eq!(implied_old_root(old, new, &r2, &full), Some(r1));
                }
            }
        }
    }

    #[test]
    fn inclusion_negative_cases() {
        let all = leaves(37);
        let tree = tree_of(&all);
        let root = tree.root();
        let proof = tree.inclusion_proof(12, 37).unwrap();
        let leaf = &all[12];
        assert_eq!(
            verify_inclusion(leaf, 13, 37, &proof, &root),
            Err(ProofError::RootMismatch)
        );
        assert_eq!(
            verify_inclusion(&all[13], 12, 37, &proof, &root),
            Err(ProofError::RootMismatch)
        );
        assert_eq!(
            verify_inclusion(leaf, 12, 37, &proof, &tree.root_at(36).unwrap()),
            Err(ProofError::RootMismatch)
        );
        assert!(matches!(
            verify_inclusion(leaf, 12, 37, &proof[..proof.len() - 1], &root),
            Err(ProofError::WrongLength { .. })
        ));
        let mut longer = proof.clone();
        longer.push(root);
        assert!(matches!(
            verify_inclusion(leaf, 12, 37, &longer, &root),
            Err(ProofError::WrongLength { .. })
        ));
        assert_eq!(
            verify_inclusion(leaf, 37, 37, &proof, &root),
            Err(ProofError::IndexOutOfRange {
                index: 37,
                size: 37
            })
        );
        for i in 0..proof.len() {
            let mut bad = proof.clone();
            bad[i] = leaf_hash(b"x");
            assert_eq!(
                verify_inclusion(leaf, 12, 37, &bad, &root),
                Err(ProofError::RootMismatch)
            );
        }
        // A leaf hash is never accepted as the interior node it would collide with.
        assert_ne!(leaf_hash(b""), node_hash(&all[0], &all[1]));
        assert_eq!(
            tree.inclusion_proof(37, 37),
            Err(TreeError::IndexOutOfRange {
                index: 37,
                size: 37
            })
        );
        assert_eq!(
            tree.inclusion_proof(0, 38),
            Err(TreeError::SizeBeyondTree { size: 38, len: 37 })
        );
    }

    #[test]
    fn consistency_negative_cases() {
        let all = leaves(40);
        let tree = tree_of(&all);
        let (r6, r8, r30) = (
            tree.root_at(6).unwrap(),
            tree.root_at(8).unwrap(),
            tree.root_at(30).unwrap(),
        );
        let proof = tree.consistency_proof(6, 30).unwrap();
        verify_consistency(6, 30, &r6, &r30, &proof).unwrap();
        assert_eq!(
            verify_consistency(6, 30, &r8, &r30, &proof),
            Err(ProofError::OldRootMismatch)
        );
        assert!(verify_consistency(6, 30, &r6, &r8, &proof).is_err());
        assert!(verify_consistency(7, 30, &r6, &r30, &proof).is_err());
        assert!(matches!(
            verify_consistency(6, 30, &r6, &r30, &proof[1..]),
            Err(ProofError::WrongLength { .. })
        ));
        let mut longer = proof.clone();
        longer.push(r6);
        assert!(matches!(
            verify_consistency(6, 30, &r6, &r30, &longer),
            Err(ProofError::WrongLength { .. })
        ));
        for i in 0..proof.len() {
            let mut bad = proof.clone();
            bad[i] = leaf_hash(b"x");
            assert!(verify_consistency(6, 30, &r6, &r30, &bad).is_err(), "{i}");
        }
        // Power-of-two old sizes: the old root is not in the proof, so a wrong one fails.
        let proof = tree.consistency_proof(8, 30).unwrap();
        verify_consistency(8, 30, &r8, &r30, &proof).unwrap();
        assert!(verify_consistency(8, 30, &r6, &r30, &proof).is_err());
        // Equal sizes and the empty tree.
        verify_consistency(30, 30, &r30, &r30, &[]).unwrap();
        assert_eq!(
            verify_consistency(30, 30, &r30, &r8, &[]),
            Err(ProofError::NewRootMismatch)
        );
        assert!(verify_consistency(30, 30, &r30, &r30, &[r30]).is_err());
        verify_consistency(0, 30, &empty_root(), &r30, &[]).unwrap();
        verify_consistency(0, 0, &empty_root(), &empty_root(), &[]).unwrap();
        assert_eq!(
            verify_consistency(0, 0, &empty_root(), &r30, &[]),
            Err(ProofError::NewRootMismatch)
        );
        assert_eq!(
            verify_consistency(0, 30, &r6, &r30, &[]),
            Err(ProofError::OldRootMismatch)
        );
        assert_eq!(
            verify_consistency(31, 30, &r30, &r30, &[]),
            Err(ProofError::SizesOutOfOrder { old: 31, new: 30 })
        );
        assert_eq!(
            tree.consistency_proof(31, 30),
            Err(TreeError::SizesOutOfOrder { old: 31, new: 30 })
        );
        // A path that does not lead to the new root implies nothing.
        let proof = tree.consistency_proof(6, 30).unwrap();
        assert_eq!(implied_old_root(6, 30, &r8, &proof), None);
    }

    #[test]
    fn proof_lengths_at_the_extremes() {
        assert_eq!(inclusion_proof_len(0, 1), Some(0));
        assert_eq!(inclusion_proof_len(u64::MAX - 1, u64::MAX), Some(63));
        assert_eq!(inclusion_proof_len(0, u64::MAX), Some(64));
        assert_eq!(inclusion_proof_len(5, 5), None);
        assert!(consistency_proof_len(u64::MAX - 1, u64::MAX).unwrap() <= 65);
        assert_eq!(consistency_proof_len(5, 4), None);
        // Verification of absurd claims fails cleanly, without overflow.
        let d = leaf_hash(b"");
        assert!(verify_inclusion(&d, u64::MAX - 1, u64::MAX, &[d; 64], &d).is_err());
        assert!(verify_consistency(u64::MAX - 1, u64::MAX, &d, &d, &[d; 3]).is_err());
    }
}
