//! Proof types, their errors, and tree-free verification (RFC 9162 §2.1.3.2 and §2.1.4.2).

use crate::Digest;

use super::hash::node_hash;

/// The longest inclusion proof any tree addressable with `u64` sizes can need: one sibling per
/// level of a tree of at most 2^64 leaves. Longer proofs are refused before any hashing.
pub const MAX_INCLUSION_PROOF_LEN: usize = 64;

/// The longest consistency proof any pair of `u64` sizes can need: the seed subtree hash plus
/// at most 64 siblings. Longer proofs are refused before any hashing.
pub const MAX_CONSISTENCY_PROOF_LEN: usize = 65;

/// Why a proof could not be produced or did not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProofError {
    /// The leaf index is not below the tree size.
    #[error("leaf index {index} is out of range for a tree of {size} leaves")]
    IndexOutOfRange {
        /// The requested leaf index.
        index: u64,
        /// The tree size the index was checked against.
        size: u64,
    },
    /// A tree size beyond what this tree holds was requested.
    #[error("tree size {size} is out of range: the tree holds {len} leaves")]
    SizeOutOfRange {
        /// The requested tree size.
        size: u64,
        /// The number of leaves the tree holds.
        len: u64,
    },
    /// A consistency check between an older size larger than the newer one.
    #[error("invalid sizes for a consistency proof: old size {old} is larger than new size {new}")]
    InvalidSizes {
        /// The older (first) tree size.
        old: u64,
        /// The newer (second) tree size.
        new: u64,
    },
    /// The proof does not have the number of hashes its sizes call for.
    #[error("wrong proof length: expected {expected} hashes, got {got}")]
    WrongProofLength {
        /// The number of hashes the sizes call for.
        expected: usize,
        /// The number of hashes supplied.
        got: usize,
    },
    /// The proof is longer than any proof for `u64` tree sizes can be; refused unread.
    #[error("proof too long: {got} hashes, at most {max} are possible")]
    ProofTooLong {
        /// The number of hashes supplied.
        got: usize,
        /// The most any proof of this kind can need.
        max: usize,
    },
    /// The sizes call for an empty proof (equal sizes, or an empty old tree) but hashes were given.
    #[error("the proof must be empty for these sizes, got {got} hashes")]
    EmptyProofRequired {
        /// The number of hashes supplied.
        got: usize,
    },
    /// The root computed from the proof is not the expected root.
    #[error("the proof does not lead to the expected root hash")]
    RootMismatch,
}

impl ProofError {
    /// A stable code naming the refusal (`log/…`), as the vectors name it.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            ProofError::RootMismatch => "log/root_mismatch",
            ProofError::WrongProofLength { .. } => "log/proof_length",
            ProofError::ProofTooLong { .. } => "log/proof_too_long",
            ProofError::IndexOutOfRange { .. } => "log/index_out_of_range",
            ProofError::SizeOutOfRange { .. } => "log/size_out_of_range",
            ProofError::InvalidSizes { .. } => "log/invalid_sizes",
            ProofError::EmptyProofRequired { .. } => "log/empty_proof_required",
        }
    }
}

/// Proof that a leaf is included in a tree of a given size (RFC 9162 §2.1.3).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct InclusionProof {
    /// Index of the leaf the proof is for (0-based).
    pub leaf_index: u64,
    /// Size of the tree the proof is against.
    pub tree_size: u64,
    /// Sibling hashes from the leaf up to the root.
    pub path: Vec<Digest>,
}

impl InclusionProof {
    /// The root this proof leads to from `leaf_hash`; see [`root_from_inclusion_proof`].
    ///
    /// # Errors
    ///
    /// As [`root_from_inclusion_proof`].
    pub fn root_from(&self, leaf_hash: &Digest) -> Result<Digest, ProofError> {
        root_from_inclusion_proof(leaf_hash, self.leaf_index, self.tree_size, &self.path)
    }

    /// Checks that `leaf_hash` is at this proof's index in the tree with root `root`; see
    /// [`verify_inclusion`].
    ///
    /// # Errors
    ///
    /// As [`verify_inclusion`].
    pub fn verify(&self, leaf_hash: &Digest, root: &Digest) -> Result<(), ProofError> {
        verify_inclusion(leaf_hash, self.leaf_index, self.tree_size, &self.path, root)
    }
}

/// Proof that a tree of `old_size` leaves is a prefix of a tree of `new_size` leaves
/// (RFC 9162 §2.1.4).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ConsistencyProof {
    /// Size of the older tree.
    pub old_size: u64,
    /// Size of the newer tree.
    pub new_size: u64,
    /// The proof hashes, in RFC 9162 order.
    pub path: Vec<Digest>,
}

impl ConsistencyProof {
    /// Checks that the tree with root `old_root` is a prefix of the tree with root `new_root`;
    /// see [`verify_consistency`].
    ///
    /// # Errors
    ///
    /// As [`verify_consistency`].
    pub fn verify(&self, old_root: &Digest, new_root: &Digest) -> Result<(), ProofError> {
        verify_consistency(self.old_size, self.new_size, &self.path, old_root, new_root)
    }
}

/// Number of hashes in the inclusion proof for leaf `index` in a tree of `size` leaves, split
/// into the part below the point where the leaf's path leaves the tree's right border (`inner`)
/// and the left siblings on the border above it (`border`). Requires `index < size`.
fn decompose_inclusion(index: u64, size: u64) -> (u32, u32) {
    let inner = u64::BITS - (index ^ (size - 1)).leading_zeros();
    let border = index.checked_shr(inner).unwrap_or(0).count_ones();
    (inner, border)
}

fn to_usize(n: u32) -> usize {
    // Lossless: `n` is at most 65 here.
    n as usize
}

/// Right-shifts `fn_` and `sn` together while `fn_` is even and not zero (RFC 9162 step ii).
fn shift_to_set_lsb(fn_: &mut u64, sn: &mut u64) {
    while *fn_ != 0 && *fn_ & 1 == 0 {
        *fn_ >>= 1;
        *sn >>= 1;
    }
}

/// Recomputes the root of a tree of `tree_size` leaves from leaf `index`'s hash and its inclusion
/// path, following RFC 9162 §2.1.3.2.
///
/// # Errors
///
/// [`ProofError::IndexOutOfRange`] if `index` is not below `tree_size`,
/// [`ProofError::ProofTooLong`] or [`ProofError::WrongProofLength`] if the path does not have the
/// length the index and size call for.
pub fn root_from_inclusion_proof(
    leaf_hash: &Digest,
    index: u64,
    tree_size: u64,
    path: &[Digest],
) -> Result<Digest, ProofError> {
    if index >= tree_size {
        return Err(ProofError::IndexOutOfRange {
            index,
            size: tree_size,
        });
    }
    if path.len() > MAX_INCLUSION_PROOF_LEN {
        return Err(ProofError::ProofTooLong {
            got: path.len(),
            max: MAX_INCLUSION_PROOF_LEN,
        });
    }
    let (inner, border) = decompose_inclusion(index, tree_size);
    let expected = to_usize(inner + border);
    let wrong_length = ProofError::WrongProofLength {
        expected,
        got: path.len(),
    };
    if path.len() != expected {
        return Err(wrong_length);
    }
    let mut fn_ = index;
    let mut sn = tree_size - 1;
    let mut r = *leaf_hash;
    for p in path {
        if sn == 0 {
            return Err(wrong_length);
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = node_hash(p, &r);
            shift_to_set_lsb(&mut fn_, &mut sn);
        } else {
            r = node_hash(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn != 0 {
        return Err(wrong_length);
    }
    Ok(r)
}

/// Verifies that `leaf_hash` is the hash of leaf `index` in the tree of `tree_size` leaves whose
/// root is `root`, given the inclusion `path` (RFC 9162 §2.1.3.2).
///
/// Needs only the proof and the hashes, not the tree. Take `tree_size` from the same trusted
/// source as `root` (the signed tree head): the path's shape depends only on the index and the
/// size, and some sizes share a shape (leaf 0 of 3 or of 4 leaves), so a proof does not by itself
/// pin the size down.
///
/// # Errors
///
/// The errors of [`root_from_inclusion_proof`], and [`ProofError::RootMismatch`] if the path leads
/// to another root than `root`.
pub fn verify_inclusion(
    leaf_hash: &Digest,
    index: u64,
    tree_size: u64,
    path: &[Digest],
    root: &Digest,
) -> Result<(), ProofError> {
    let computed = root_from_inclusion_proof(leaf_hash, index, tree_size, path)?;
    if computed == *root {
        Ok(())
    } else {
        Err(ProofError::RootMismatch)
    }
}

/// Verifies that the tree of `size1` leaves with root `root1` is a prefix of the tree of `size2`
/// leaves with root `root2`, given the consistency `path` (RFC 9162 §2.1.4.2).
///
/// Special cases, as in the transparency-dev reference implementation: equal sizes need an empty
/// proof and equal roots; an empty old tree (`size1 == 0`) is consistent with every tree and needs
/// an empty proof. As with [`verify_inclusion`], take the sizes from the same trusted source as
/// the roots.
///
/// # Errors
///
/// [`ProofError::InvalidSizes`] if `size1 > size2`; [`ProofError::EmptyProofRequired`] if the sizes
/// are equal or `size1` is 0 and `path` is not empty; [`ProofError::ProofTooLong`] or
/// [`ProofError::WrongProofLength`] if the path does not have the length the sizes call for;
/// [`ProofError::RootMismatch`] if it does not lead to both roots (or, for equal sizes, the roots
/// differ).
pub fn verify_consistency(
    size1: u64,
    size2: u64,
    path: &[Digest],
    root1: &Digest,
    root2: &Digest,
) -> Result<(), ProofError> {
    if size1 > size2 {
        return Err(ProofError::InvalidSizes {
            old: size1,
            new: size2,
        });
    }
    if size1 == size2 || size1 == 0 {
        if !path.is_empty() {
            return Err(ProofError::EmptyProofRequired { got: path.len() });
        }
        return if size1 == 0 || root1 == root2 {
            Ok(())
        } else {
            Err(ProofError::RootMismatch)
        };
    }
    if path.len() > MAX_CONSISTENCY_PROOF_LEN {
        return Err(ProofError::ProofTooLong {
            got: path.len(),
            max: MAX_CONSISTENCY_PROOF_LEN,
        });
    }
    // Here 0 < size1 < size2. The proof is a suffix of the inclusion proof of leaf size1 - 1,
    // starting at the level of the largest complete subtree ending at size1 (2^shift leaves).
    let (inner, border) = decompose_inclusion(size1 - 1, size2);
    let shift = size1.trailing_zeros(); // shift < inner because size1 < size2.
    let inner = inner.saturating_sub(shift);
    // RFC step 2: if size1 is a power of two its root is the seed; otherwise the proof carries it.
    let (seed, rest) = if size1.is_power_of_two() {
        (root1, path)
    } else {
        match path.split_first() {
            Some((first, rest)) => (first, rest),
            None => {
                return Err(ProofError::WrongProofLength {
                    expected: to_usize(1 + inner + border),
                    got: 0,
                });
            }
        }
    };
    let start = path.len() - rest.len();
    let expected = start + to_usize(inner + border);
    let wrong_length = ProofError::WrongProofLength {
        expected,
        got: path.len(),
    };
    if path.len() != expected {
        return Err(wrong_length);
    }
    // RFC steps 3 to 7; step 4 (shifting out the trailing ones of fn) is the `shift` above.
    let mut fn_ = (size1 - 1) >> shift;
    let mut sn = (size2 - 1) >> shift;
    let mut fr = *seed;
    let mut sr = *seed;
    for c in rest {
        if sn == 0 {
            return Err(wrong_length);
        }
        if fn_ & 1 == 1 || fn_ == sn {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            shift_to_set_lsb(&mut fn_, &mut sn);
        } else {
            sr = node_hash(&sr, c);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn != 0 {
        return Err(wrong_length);
    }
    if fr == *root1 && sr == *root2 {
        Ok(())
    } else {
        Err(ProofError::RootMismatch)
    }
}
