//! `merkle_proofs`: Merkle proof verification against a fixed tree and a literal
//! transcription of RFC 9162.

use crate::digest::Digest;
use crate::log::{
    MerkleTree, ProofError, leaf_hash, node_hash, verify_consistency, verify_inclusion,
};

/// Leaves of the fixed tree [`merkle_proofs`] checks proofs against.
pub const MERKLE_LEAVES: u64 = 37;

struct MerkleFixture {
    tree: MerkleTree,
    /// Every hash that occurs in a genuine proof, and the roots, sorted, without repetition.
    pool: Vec<Digest>,
}

impl MerkleFixture {
    fn new() -> Self {
        let mut tree = MerkleTree::new();
        for i in 0..MERKLE_LEAVES {
            tree.append(format!("leaf {i}").as_bytes());
        }
        let mut pool = vec![Digest([0; 32])];
        for size in 0..=MERKLE_LEAVES {
            pool.extend(tree.root_at(size));
            for i in 0..size {
                pool.extend(
                    tree.inclusion_proof(i, size)
                        .map(|p| p.path)
                        .unwrap_or_default(),
                );
            }
            for old in 0..=size {
                pool.extend(
                    tree.consistency_proof(old, size)
                        .map(|p| p.path)
                        .unwrap_or_default(),
                );
            }
        }
        pool.extend(tree.leaf_hashes().iter().copied());
        pool.sort();
        pool.dedup();
        MerkleFixture { tree, pool }
    }

    fn root(&self, size: u64) -> Digest {
        self.tree.root_at(size).unwrap_or(Digest([0; 32]))
    }
}

thread_local! {
    static MERKLE: MerkleFixture = MerkleFixture::new();
}

/// Index into the hash pool of [`merkle_proofs`] of `hash`, for building inputs.
#[must_use]
pub fn merkle_pool_index(hash: &Digest) -> Option<u16> {
    MERKLE.with(|m| {
        m.pool
            .binary_search(hash)
            .ok()
            .and_then(|i| u16::try_from(i).ok())
    })
}

/// The genuine inclusion proof of `index` in the fixed tree at `size` leaves.
#[must_use]
pub fn merkle_inclusion(index: u64, size: u64) -> Vec<Digest> {
    MERKLE.with(|m| {
        m.tree
            .inclusion_proof(index, size)
            .map(|p| p.path)
            .unwrap_or_default()
    })
}

/// The genuine consistency proof between `old` and `new` leaves of the fixed tree.
#[must_use]
pub fn merkle_consistency(old: u64, new: u64) -> Vec<Digest> {
    MERKLE.with(|m| {
        m.tree
            .consistency_proof(old, new)
            .map(|p| p.path)
            .unwrap_or_default()
    })
}

fn u64_at(data: &[u8], at: usize) -> u64 {
    let mut b = [0u8; 8];
    if let Some(s) = data.get(at..at + 8) {
        b.copy_from_slice(s);
    }
    u64::from_be_bytes(b)
}

fn digest_at(data: &[u8], at: usize) -> Digest {
    let mut b = [0u8; 32];
    if let Some(s) = data.get(at..at + 32) {
        b.copy_from_slice(s);
    }
    Digest(b)
}

fn raw_path(data: &[u8]) -> Vec<Digest> {
    data.chunks_exact(32).map(|c| digest_at(c, 0)).collect()
}

/// Checks Merkle proof verification. The first byte selects a mode, `mode % 4`:
/// - `0`: inclusion in the fixed tree: size, index, then path hashes as big-endian `u16`
///   indices into a pool of genuine hashes; accepted exactly when the path is the genuine one;
/// - `1`: consistency in the fixed tree: both sizes, then the path as in mode 0; same oracle;
/// - `2`: raw inclusion: index, size (`u64`), leaf hash, root, path (32-byte hashes);
/// - `3`: raw consistency: both sizes (`u64`), both roots, path.
///
/// and how the rest is read, `(mode >> 2) % 4`: `0` literally, as above; otherwise *shaped*, so
/// that the input reaches the proof's hash chain instead of stopping at the argument checks: in
/// the fixed tree the size is taken in `1..=37`, the index below the size, the new size of a
/// consistency proof at or above the old one, and the path is the genuine proof with its first
/// hashes replaced by the input's; in the raw modes the index is taken below the size, the old
/// size at or below the new one, and the path is the input's hashes repeated or cut to the
/// length the sizes call for. The committed seeds use the literal reading.
///
/// In every mode the result must agree with a literal transcription of RFC 9162 §2.1.3.2 and
/// §2.1.4.2.
pub fn merkle_proofs(data: &[u8]) {
    merkle_check(data);
}

/// Whether `data`, given to [`merkle_proofs`], reaches the proof's hash chain: the verifier
/// accepts, or refuses only because the computed root differs (not for the index, the sizes or
/// the path's length).
#[allow(
    clippy::must_use_candidate,
    reason = "run for its assertions; the reach report is for the tests that want it"
)]
pub fn merkle_proofs_reach(data: &[u8]) -> bool {
    merkle_check(data)
}

/// Whether a verification result came from the hash chain (see [`merkle_proofs_reach`]).
fn chain_reached(result: &Result<(), ProofError>) -> bool {
    matches!(result, Ok(()) | Err(ProofError::RootMismatch))
}

/// The path length the verifier asks for, read from its refusal of an empty path (0 when it
/// refuses for another reason or accepts).
fn expected_len(result: &Result<(), ProofError>) -> usize {
    match result {
        Err(ProofError::WrongProofLength { expected, .. }) => *expected,
        _ => 0,
    }
}

/// `given` repeated or cut to `len` hashes (zero hashes if none is given).
fn fit(given: &[Digest], len: usize) -> Vec<Digest> {
    if given.is_empty() {
        return vec![Digest([0; 32]); len];
    }
    given.iter().copied().cycle().take(len).collect()
}

fn merkle_check(data: &[u8]) -> bool {
    let Some((&mode, rest)) = data.split_first() else {
        return false;
    };
    let shaped = (mode >> 2) % 4 != 0;
    MERKLE.with(|m| match mode % 4 {
        0 | 1 => {
            let (a, b) = (
                u64::from(rest.first().copied().unwrap_or(0)),
                u64::from(rest.get(1).copied().unwrap_or(0)),
            );
            let mut path: Vec<Digest> = rest
                .get(2..)
                .unwrap_or_default()
                .chunks_exact(2)
                .map(|c| m.pool[usize::from(u16::from_be_bytes([c[0], c[1]])) % m.pool.len()])
                .collect();
            let over_genuine = |given: Vec<Digest>, genuine: Vec<Digest>| {
                let mut path = genuine;
                for (p, g) in path.iter_mut().zip(given) {
                    *p = g;
                }
                path
            };
            if mode % 4 == 0 {
                let (size, index) = if shaped {
                    let size = 1 + a % MERKLE_LEAVES;
                    (size, b % size)
                } else {
                    (a % (MERKLE_LEAVES + 1), b)
                };
                if shaped {
                    path = over_genuine(path, merkle_inclusion(index, size));
                }
                let leaf = usize::try_from(index)
                    .ok()
                    .and_then(|i| m.tree.leaf_hashes().get(i))
                    .copied();
                let leaf = leaf.unwrap_or(Digest([0; 32]));
                let root = m.root(size);
                let result = verify_inclusion(&leaf, index, size, &path, &root);
                let ok = result.is_ok();
                assert_eq!(ok, reference_inclusion(&leaf, index, size, &path, &root));
                let genuine = m.tree.inclusion_proof(index, size).map(|p| p.path);
                assert_eq!(ok, genuine.as_ref() == Ok(&path), "inclusion oracle");
                chain_reached(&result)
            } else {
                let (old, new) = if shaped {
                    let old = a % (MERKLE_LEAVES + 1);
                    (old, old + b % (MERKLE_LEAVES + 1 - old))
                } else {
                    (a % (MERKLE_LEAVES + 1), b % (MERKLE_LEAVES + 1))
                };
                if shaped {
                    path = over_genuine(path, merkle_consistency(old, new));
                }
                let (r1, r2) = (m.root(old), m.root(new));
                let result = verify_consistency(old, new, &path, &r1, &r2);
                let ok = result.is_ok();
                assert_eq!(ok, reference_consistency(old, new, &path, &r1, &r2));
                let genuine = m.tree.consistency_proof(old, new).map(|p| p.path);
                assert_eq!(ok, genuine.as_ref() == Ok(&path), "consistency oracle");
                chain_reached(&result)
            }
        }
        2 => {
            let (mut index, mut size) = (u64_at(rest, 0), u64_at(rest, 8));
            let (leaf, root) = (digest_at(rest, 16), digest_at(rest, 48));
            let mut path = raw_path(rest.get(80..).unwrap_or_default());
            if shaped {
                size = size.max(1);
                index %= size;
                let len = expected_len(&verify_inclusion(&leaf, index, size, &[], &root));
                path = fit(&path, len);
            }
            let result = verify_inclusion(&leaf, index, size, &path, &root);
            assert_eq!(
                result.is_ok(),
                reference_inclusion(&leaf, index, size, &path, &root)
            );
            chain_reached(&result)
        }
        _ => {
            let (mut old, new) = (u64_at(rest, 0), u64_at(rest, 8));
            let (r1, r2) = (digest_at(rest, 16), digest_at(rest, 48));
            let mut path = raw_path(rest.get(80..).unwrap_or_default());
            if shaped {
                old %= new.saturating_add(1).max(1);
                let len = expected_len(&verify_consistency(old, new, &[], &r1, &r2));
                path = fit(&path, len);
            }
            let result = verify_consistency(old, new, &path, &r1, &r2);
            assert_eq!(
                result.is_ok(),
                reference_consistency(old, new, &path, &r1, &r2)
            );
            chain_reached(&result)
        }
    })
}

/// RFC 9162 §2.1.3.2, step by step.
fn reference_inclusion(
    leaf: &Digest,
    index: u64,
    size: u64,
    path: &[Digest],
    root: &Digest,
) -> bool {
    if index >= size {
        return false;
    }
    let (mut fn_, mut sn) = (index, size - 1);
    let mut r = *leaf;
    for p in path {
        if sn == 0 {
            return false;
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = node_hash(p, &r);
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    sn == 0 && r == *root
}

/// RFC 9162 §2.1.4.2, step by step, with the special cases of the library's documentation
/// (equal sizes or an empty old tree need an empty proof).
fn reference_consistency(
    size1: u64,
    size2: u64,
    path: &[Digest],
    root1: &Digest,
    root2: &Digest,
) -> bool {
    if size1 > size2 {
        return false;
    }
    if size1 == size2 || size1 == 0 {
        return path.is_empty() && (size1 == 0 || root1 == root2);
    }
    if path.is_empty() {
        return false;
    }
    let mut full = Vec::with_capacity(path.len() + 1);
    if size1.is_power_of_two() {
        full.push(*root1);
    }
    full.extend_from_slice(path);
    let (mut fn_, mut sn) = (size1 - 1, size2 - 1);
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    let (mut fr, mut sr) = (full[0], full[0]);
    for c in &full[1..] {
        if sn == 0 {
            return false;
        }
        if fn_ & 1 == 1 || fn_ == sn {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    fr == *root1 && sr == *root2 && sn == 0
}

/// Leaf hash of the fixed tree (for seeds).
#[must_use]
pub fn merkle_leaf(index: u64) -> Digest {
    leaf_hash(format!("leaf {index}").as_bytes())
}
