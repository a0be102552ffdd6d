//! The append-only Merkle tree of RFC 9162, with proof generation.

use crate::Digest;

use super::hash::{empty_root, leaf_hash, node_hash};
use super::proof::{ConsistencyProof, InclusionProof, ProofError};

/// The largest power of two strictly below `n`; requires `n >= 2`.
fn split_point(n: u64) -> u64 {
    1 << (u64::BITS - 1 - (n - 1).leading_zeros())
}

/// An append-only RFC 9162 Merkle tree that can prove inclusion and consistency for any past size.
///
/// Every complete subtree is stored, level by level: level 0 holds the leaf hashes and entry `i`
/// of level `k` is the hash of the `2^k` leaves starting at `i * 2^k`. That is about two hashes
/// per leaf; appending costs amortized one node hash, and roots and proofs for any size take
/// O(log n) node hashes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MerkleTree {
    /// Invariant: `levels[k].len() == len >> k` for every `k`, and no level is empty except that
    /// the empty tree has no levels at all.
    levels: Vec<Vec<Digest>>,
}

impl MerkleTree {
    /// An empty tree.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Rebuilds a tree from its leaf hashes in order, as exported by [`leaf_hashes`]; the rebuilt
    /// tree has the same roots and proofs.
    ///
    /// [`leaf_hashes`]: MerkleTree::leaf_hashes
    pub fn from_leaf_hashes<I: IntoIterator<Item = Digest>>(leaf_hashes: I) -> Self {
        let mut tree = Self::new();
        for hash in leaf_hashes {
            tree.append_leaf_hash(hash);
        }
        tree
    }

    /// The leaf hashes, in order: everything needed to rebuild the tree.
    pub fn leaf_hashes(&self) -> &[Digest] {
        self.levels.first().map_or(&[], Vec::as_slice)
    }

    /// Number of leaves.
    #[must_use]
    pub fn len(&self) -> u64 {
        // Lossless: `usize` is at most 64 bits wide on every supported target.
        self.leaf_hashes().len() as u64
    }

    /// Whether the tree has no leaves.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.leaf_hashes().is_empty()
    }

    /// Appends an entry, hashed with [`leaf_hash`], and returns its leaf index.
    pub fn append(&mut self, entry: &[u8]) -> u64 {
        self.append_leaf_hash(leaf_hash(entry))
    }

    /// Appends an already computed leaf hash and returns its leaf index.
    pub fn append_leaf_hash(&mut self, hash: Digest) -> u64 {
        let index = self.len();
        let mut node = hash;
        let mut level = 0;
        loop {
            let Some(row) = self.levels.get_mut(level) else {
                self.levels.push(vec![node]);
                break;
            };
            row.push(node);
            // An even row length means the new node completed a pair: hash it one level up.
            match row.as_slice() {
                [.., left, right] if row.len() % 2 == 0 => node = node_hash(left, right),
                _ => break,
            }
            level += 1;
        }
        index
    }

    /// The current root hash.
    pub fn root(&self) -> Digest {
        self.subtree_root(0, self.len()).unwrap_or_else(empty_root)
    }

    /// The root hash the tree had when it held `size` leaves.
    ///
    /// # Errors
    ///
    /// [`ProofError::SizeOutOfRange`] if `size` is beyond the tree's length.
    pub fn root_at(&self, size: u64) -> Result<Digest, ProofError> {
        self.check_size(size)?;
        if size == 0 {
            return Ok(empty_root());
        }
        self.subtree_root(0, size)
            .ok_or(ProofError::SizeOutOfRange {
                size,
                len: self.len(),
            })
    }

    /// The inclusion proof of leaf `index` in the tree as it was at `tree_size` leaves
    /// (RFC 9162 §2.1.3.1).
    ///
    /// # Errors
    ///
    /// [`ProofError::SizeOutOfRange`] if `tree_size` is beyond the tree's length,
    /// [`ProofError::IndexOutOfRange`] if `index` is not below `tree_size`.
    pub fn inclusion_proof(
        &self,
        index: u64,
        tree_size: u64,
    ) -> Result<InclusionProof, ProofError> {
        self.check_size(tree_size)?;
        if index >= tree_size {
            return Err(ProofError::IndexOutOfRange {
                index,
                size: tree_size,
            });
        }
        // Walk down from the root; the sibling of each subtree containing the leaf joins the path.
        let mut path = Vec::new();
        let (mut lo, mut hi) = (0, tree_size);
        while hi - lo > 1 {
            let mid = lo + split_point(hi - lo);
            if index < mid {
                path.push(self.node_or_err(mid, hi, tree_size)?);
                hi = mid;
            } else {
                path.push(self.node_or_err(lo, mid, tree_size)?);
                lo = mid;
            }
        }
        path.reverse();
        Ok(InclusionProof {
            leaf_index: index,
            tree_size,
            path,
        })
    }

    /// The consistency proof between the tree as it was at `old_size` leaves and at `new_size`
    /// leaves (RFC 9162 §2.1.4.1). The proof is empty when the sizes are equal or `old_size` is 0.
    ///
    /// # Errors
    ///
    /// [`ProofError::SizeOutOfRange`] if `new_size` is beyond the tree's length,
    /// [`ProofError::InvalidSizes`] if `old_size > new_size`.
    pub fn consistency_proof(
        &self,
        old_size: u64,
        new_size: u64,
    ) -> Result<ConsistencyProof, ProofError> {
        self.check_size(new_size)?;
        if old_size > new_size {
            return Err(ProofError::InvalidSizes {
                old: old_size,
                new: new_size,
            });
        }
        let mut path = Vec::new();
        if old_size != 0 && old_size != new_size {
            // SUBPROOF(m, D[lo:hi], complete), unrolled; `m` counts leaves from `lo`.
            let (mut lo, mut hi, mut m, mut complete) = (0, new_size, old_size, true);
            while m < hi - lo {
                let k = split_point(hi - lo);
                if m <= k {
                    path.push(self.node_or_err(lo + k, hi, new_size)?);
                    hi = lo + k;
                } else {
                    path.push(self.node_or_err(lo, lo + k, new_size)?);
                    lo += k;
                    m -= k;
                    complete = false;
                }
            }
            if !complete {
                path.push(self.node_or_err(lo, hi, new_size)?);
            }
            path.reverse();
        }
        Ok(ConsistencyProof {
            old_size,
            new_size,
            path,
        })
    }

    fn check_size(&self, size: u64) -> Result<(), ProofError> {
        if size > self.len() {
            return Err(ProofError::SizeOutOfRange {
                size,
                len: self.len(),
            });
        }
        Ok(())
    }

    /// A stored complete-subtree hash, if the tree holds it.
    fn node(&self, level: u32, index: u64) -> Option<Digest> {
        let row = self.levels.get(usize::try_from(level).ok()?)?;
        row.get(usize::try_from(index).ok()?).copied()
    }

    /// The hash of the RFC 9162 subtree of leaves `lo..hi`, where `lo < hi` and `lo` is a
    /// multiple of the smallest power of two not below `hi - lo` (true of every subtree the RFC
    /// recursion produces). It is folded from the complete subtrees the range decomposes into,
    /// right to left: O(log n) hashes at most, none for a complete subtree. `None` if the range is
    /// empty or beyond the stored leaves.
    fn subtree_root(&self, lo: u64, hi: u64) -> Option<Digest> {
        let len = hi.checked_sub(lo)?;
        let mut end = hi;
        let mut acc: Option<Digest> = None;
        for level in 0..u64::BITS {
            if (len >> level) & 1 == 1 {
                let start = end - (1 << level);
                let node = self.node(level, start >> level)?;
                acc = Some(match acc {
                    None => node,
                    Some(right) => node_hash(&node, &right),
                });
                end = start;
            }
        }
        acc
    }

    fn node_or_err(&self, lo: u64, hi: u64, size: u64) -> Result<Digest, ProofError> {
        self.subtree_root(lo, hi).ok_or(ProofError::SizeOutOfRange {
            size,
            len: self.len(),
        })
    }
}

#[cfg(test)]
mod tests;
