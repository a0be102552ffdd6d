//! Known-answer tests against the RFC 9162 / Certificate Transparency reference tree, and property
//! tests against a naive recursive implementation of the RFC's definitions.

use proptest::prelude::*;

use crate::Digest;
use crate::log::{
    ConsistencyProof, MerkleTree, ProofError, empty_root, leaf_hash, node_hash,
    root_from_inclusion_proof, verify_consistency, verify_inclusion,
};

fn hex(text: &str) -> Digest {
    crate::hex::decode(text)
        .and_then(|bytes| Digest::from_slice(&bytes))
        .expect("test hash literal")
}

fn hexes(texts: &[&str]) -> Vec<Digest> {
    texts.iter().map(|t| hex(t)).collect()
}

/// The leaves of the reference tree used by the transparency-dev and CT test data.
const REFERENCE_LEAVES: [&[u8]; 8] = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    b"\x50\x51\x52\x53\x54\x55\x56\x57",
    b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
];

/// Roots of the reference tree at sizes 1 to 8 (transparency-dev `merkle/testonly`).
const REFERENCE_ROOTS: [&str; 8] = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

fn reference_tree() -> MerkleTree {
    let mut tree = MerkleTree::new();
    for (i, leaf) in REFERENCE_LEAVES.iter().enumerate() {
        assert_eq!(tree.append(leaf), i as u64);
    }
    tree
}

#[test]
fn hashing_is_rfc_9162() {
    assert_eq!(
        empty_root(),
        hex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    );
    assert_eq!(leaf_hash(b""), hex(REFERENCE_ROOTS[0]));
    assert_eq!(leaf_hash(b"abc"), Digest::of(b"\x00abc"));
    let (l, r) = (Digest([1; 32]), Digest([2; 32]));
    let mut bytes = vec![1u8];
    bytes.extend_from_slice(&l.0);
    bytes.extend_from_slice(&r.0);
    assert_eq!(node_hash(&l, &r), Digest::of(&bytes));
}

#[test]
fn reference_roots_at_every_size() {
    let empty = MerkleTree::new();
    assert!(empty.is_empty());
    assert_eq!(empty.root(), empty_root());
    assert_eq!(empty.root_at(0), Ok(empty_root()));

    let mut tree = MerkleTree::new();
    for (size, leaf) in REFERENCE_LEAVES.iter().enumerate() {
        tree.append(leaf);
        assert_eq!(
            tree.root(),
            hex(REFERENCE_ROOTS[size]),
            "root of size {}",
            size + 1
        );
    }
    for (size, root) in REFERENCE_ROOTS.iter().enumerate() {
        assert_eq!(tree.root_at(size as u64 + 1), Ok(hex(root)));
    }
    assert_eq!(tree.root_at(0), Ok(empty_root()));
    assert_eq!(
        tree.root_at(9),
        Err(ProofError::SizeOutOfRange { size: 9, len: 8 })
    );
}

#[test]
fn reference_inclusion_proofs() {
    let tree = reference_tree();
    let cases: [(u64, u64, &[&str]); 4] = [
        (
            0,
            8,
            &[
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ],
        ),
        (
            5,
            8,
            &[
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ],
        ),
        (
            2,
            3,
            &["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"],
        ),
        (
            1,
            5,
            &[
                "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            ],
        ),
    ];
    for (index, size, path) in cases {
        let proof = tree.inclusion_proof(index, size).unwrap();
        assert_eq!(proof.path, hexes(path), "inclusion of {index} in {size}");
        let leaf = tree.leaf_hashes()[index as usize];
        let root = tree.root_at(size).unwrap();
        assert_eq!(proof.verify(&leaf, &root), Ok(()));
        assert_eq!(proof.root_from(&leaf), Ok(root));
    }
    let single = tree.inclusion_proof(0, 1).unwrap();
    assert!(single.path.is_empty());
    assert_eq!(
        tree.inclusion_proof(8, 8),
        Err(ProofError::IndexOutOfRange { index: 8, size: 8 })
    );
    assert_eq!(
        tree.inclusion_proof(0, 9),
        Err(ProofError::SizeOutOfRange { size: 9, len: 8 })
    );
}

#[test]
fn reference_consistency_proofs() {
    let tree = reference_tree();
    let cases: [(u64, u64, &[&str]); 4] = [
        (
            1,
            8,
            &[
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ],
        ),
        (
            6,
            8,
            &[
                "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ],
        ),
        (
            2,
            5,
            &[
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            ],
        ),
        (
            6,
            7,
            &[
                "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ],
        ),
    ];
    for (old, new, path) in cases {
        let proof = tree.consistency_proof(old, new).unwrap();
        assert_eq!(proof.path, hexes(path), "consistency of {old} with {new}");
        let (r1, r2) = (tree.root_at(old).unwrap(), tree.root_at(new).unwrap());
        assert_eq!(proof.verify(&r1, &r2), Ok(()));
    }
    for (old, new) in [(0, 0), (0, 5), (3, 3), (8, 8)] {
        let proof = tree.consistency_proof(old, new).unwrap();
        assert!(proof.path.is_empty());
        let (r1, r2) = (tree.root_at(old).unwrap(), tree.root_at(new).unwrap());
        assert_eq!(proof.verify(&r1, &r2), Ok(()));
    }
    assert_eq!(
        tree.consistency_proof(5, 4),
        Err(ProofError::InvalidSizes { old: 5, new: 4 })
    );
    assert_eq!(
        tree.consistency_proof(4, 9),
        Err(ProofError::SizeOutOfRange { size: 9, len: 8 })
    );
}

#[test]
fn consistency_special_cases() {
    let (a, b) = (Digest([0xaa; 32]), Digest([0xbb; 32]));
    assert_eq!(verify_consistency(0, 0, &[], &a, &b), Ok(()));
    assert_eq!(verify_consistency(0, 7, &[], &a, &b), Ok(()));
    assert_eq!(
        verify_consistency(0, 7, &[a], &a, &b),
        Err(ProofError::EmptyProofRequired { got: 1 })
    );
    assert_eq!(verify_consistency(3, 3, &[], &a, &a), Ok(()));
    assert_eq!(
        verify_consistency(3, 3, &[], &a, &b),
        Err(ProofError::RootMismatch)
    );
    assert_eq!(
        verify_consistency(3, 3, &[a], &a, &a),
        Err(ProofError::EmptyProofRequired { got: 1 })
    );
    assert_eq!(
        verify_consistency(4, 3, &[], &a, &a),
        Err(ProofError::InvalidSizes { old: 4, new: 3 })
    );
    assert_eq!(
        verify_consistency(3, 5, &[], &a, &b),
        Err(ProofError::WrongProofLength {
            expected: 4,
            got: 0
        })
    );
}

/// An empty proof where the old size is not a power of two (the proof must then carry the old
/// root) is refused with the length the sizes call for, which is the length of the naive RFC
/// proof, for every pair of sizes up to 70.
#[test]
fn an_empty_proof_is_refused_with_the_length_the_sizes_call_for() {
    let leaves: Vec<Digest> = (0u8..70).map(|i| leaf_hash(&[i])).collect();
    let (a, b) = (Digest([0xaa; 32]), Digest([0xbb; 32]));
    for new in 2..=leaves.len() {
        for old in (1..new).filter(|m| !m.is_power_of_two()) {
            assert_eq!(
                verify_consistency(old as u64, new as u64, &[], &a, &b),
                Err(ProofError::WrongProofLength {
                    expected: naive_consistency(old, &leaves[..new]).len(),
                    got: 0
                }),
                "{old} -> {new}"
            );
        }
    }
}

#[test]
fn extreme_sizes_do_not_panic() {
    let h = Digest([7; 32]);
    let path64 = vec![h; 64];
    let path65 = vec![h; 65];
    let max = u64::MAX;
    // The longest possible proofs get past the length checks and fail only on the hashes.
    assert_eq!(
        verify_inclusion(&h, max - 1, max, &path64, &h),
        Err(ProofError::WrongProofLength {
            expected: 63,
            got: 64
        })
    );
    assert_eq!(
        verify_inclusion(&h, 1 << 63, max, &path64[..63], &h),
        Err(ProofError::WrongProofLength {
            expected: 64,
            got: 63
        })
    );
    assert_eq!(
        verify_inclusion(&h, 0, max, &path64, &h),
        Err(ProofError::RootMismatch)
    );
    assert_eq!(
        verify_consistency(max - 2, max, &path65, &h, &h),
        Err(ProofError::RootMismatch)
    );
    assert_eq!(
        verify_inclusion(&h, 0, max, &path65, &h),
        Err(ProofError::ProofTooLong { got: 65, max: 64 })
    );
    let path66 = vec![h; 66];
    assert_eq!(
        verify_consistency(1, max, &path66, &h, &h),
        Err(ProofError::ProofTooLong { got: 66, max: 65 })
    );
    assert_eq!(
        verify_inclusion(&h, max, max, &[], &h),
        Err(ProofError::IndexOutOfRange {
            index: max,
            size: max
        })
    );
    assert_eq!(
        root_from_inclusion_proof(&h, 0, 0, &[]),
        Err(ProofError::IndexOutOfRange { index: 0, size: 0 })
    );
    let tree = reference_tree();
    assert!(tree.inclusion_proof(max, max).is_err());
    assert!(tree.consistency_proof(max, max).is_err());
    assert!(tree.root_at(max).is_err());
}

#[test]
fn errors_read_well() {
    assert_eq!(
        ProofError::WrongProofLength {
            expected: 3,
            got: 2
        }
        .to_string(),
        "wrong proof length: expected 3 hashes, got 2"
    );
    assert_eq!(
        ProofError::IndexOutOfRange { index: 8, size: 8 }.to_string(),
        "leaf index 8 is out of range for a tree of 8 leaves"
    );
}

// ---- Naive reference: the RFC 9162 §2.1 definitions, recursively, straight from the text. ----

fn largest_power_of_two_below(n: usize) -> usize {
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

/// MTH(D[n]).
fn naive_root(leaves: &[Digest]) -> Digest {
    match leaves {
        [] => empty_root(),
        [leaf] => *leaf,
        _ => {
            let k = largest_power_of_two_below(leaves.len());
            node_hash(&naive_root(&leaves[..k]), &naive_root(&leaves[k..]))
        }
    }
}

/// PATH(m, D[n]).
fn naive_path(m: usize, leaves: &[Digest]) -> Vec<Digest> {
    if leaves.len() <= 1 {
        return Vec::new();
    }
    let k = largest_power_of_two_below(leaves.len());
    let (mut path, sibling) = if m < k {
        (naive_path(m, &leaves[..k]), naive_root(&leaves[k..]))
    } else {
        (naive_path(m - k, &leaves[k..]), naive_root(&leaves[..k]))
    };
    path.push(sibling);
    path
}

/// SUBPROOF(m, D[n], b).
fn naive_subproof(m: usize, leaves: &[Digest], complete: bool) -> Vec<Digest> {
    if m == leaves.len() {
        return if complete {
            Vec::new()
        } else {
            vec![naive_root(leaves)]
        };
    }
    let k = largest_power_of_two_below(leaves.len());
    let (mut proof, sibling) = if m <= k {
        (
            naive_subproof(m, &leaves[..k], complete),
            naive_root(&leaves[k..]),
        )
    } else {
        (
            naive_subproof(m - k, &leaves[k..], false),
            naive_root(&leaves[..k]),
        )
    };
    proof.push(sibling);
    proof
}

/// PROOF(m, D[n]), empty for m = 0 and m = n.
fn naive_consistency(m: usize, leaves: &[Digest]) -> Vec<Digest> {
    if m == 0 || m == leaves.len() {
        Vec::new()
    } else {
        naive_subproof(m, leaves, true)
    }
}

/// The shape of the RFC 9162 §2.1.3.2 verification loop for `(index, size)`: for each path hash,
/// whether it is hashed in on the left. Two claims with the same shape do the same computation.
fn inclusion_shape(index: u64, size: u64) -> Vec<bool> {
    let (mut fn_, mut sn) = (index, size - 1);
    let mut shape = Vec::new();
    while sn > 0 {
        let left = fn_ & 1 == 1 || fn_ == sn;
        shape.push(left);
        while left && fn_ != 0 && fn_ & 1 == 0 {
            fn_ >>= 1;
            sn >>= 1;
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    shape
}

/// The shape of the RFC 9162 §2.1.4.2 verification loop for `0 < old < new`: whether the old
/// root seeds it, then for each further hash whether it feeds both roots or only the new one.
fn consistency_shape(old: u64, new: u64) -> (bool, Vec<bool>) {
    let shift = old.trailing_zeros();
    let (mut fn_, mut sn) = ((old - 1) >> shift, (new - 1) >> shift);
    let mut shape = Vec::new();
    while sn > 0 {
        let both = fn_ & 1 == 1 || fn_ == sn;
        shape.push(both);
        while both && fn_ != 0 && fn_ & 1 == 0 {
            fn_ >>= 1;
            sn >>= 1;
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    (old.is_power_of_two(), shape)
}

fn flip(digest: &Digest, bit: usize) -> Digest {
    let mut bytes = digest.0;
    bytes[bit / 8] ^= 1 << (bit % 8);
    Digest(bytes)
}

fn entries() -> impl Strategy<Value = Vec<Vec<u8>>> {
    prop::collection::vec(prop::collection::vec(any::<u8>(), 0..12), 1..300)
}

fn build(entries: &[Vec<u8>]) -> MerkleTree {
    let mut tree = MerkleTree::new();
    for (i, entry) in entries.iter().enumerate() {
        assert_eq!(tree.append(entry), i as u64);
    }
    tree
}

/// Picks `(index, size)` with `index < size <= len` from two random numbers.
fn pick_leaf(len: u64, a: u64, b: u64) -> (u64, u64) {
    let size = 1 + a % len;
    (b % size, size)
}

/// Picks `(old, new)` with `0 < old < new <= len`; requires `len >= 2`.
fn pick_sizes(len: u64, a: u64, b: u64) -> (u64, u64) {
    let new = 2 + a % (len - 1);
    (1 + b % (new - 1), new)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn every_inclusion_proof_verifies_against_every_later_root(entries in entries()) {
        let tree = build(&entries);
        let roots: Vec<Digest> = (0..=tree.len()).map(|s| tree.root_at(s).unwrap()).collect();
        prop_assert_eq!(roots[entries.len()], tree.root());
        for (index, entry) in entries.iter().enumerate() {
            let leaf = leaf_hash(entry);
            for (size, root) in roots.iter().enumerate().skip(index + 1) {
                let proof = tree.inclusion_proof(index as u64, size as u64).unwrap();
                prop_assert_eq!(proof.verify(&leaf, root), Ok(()));
            }
        }
    }

    #[test]
    fn consistency_verifies_between_any_two_sizes(entries in entries()) {
        let tree = build(&entries);
        let roots: Vec<Digest> = (0..=tree.len()).map(|s| tree.root_at(s).unwrap()).collect();
        for new in 0..=entries.len() {
            for old in 0..=new {
                let proof = tree.consistency_proof(old as u64, new as u64).unwrap();
                prop_assert_eq!(proof.verify(&roots[old], &roots[new]), Ok(()));
            }
        }
    }

    #[test]
    fn proofs_match_the_naive_rfc_definitions(
        entries in entries(),
        picks in prop::collection::vec((any::<u64>(), any::<u64>()), 16),
    ) {
        let tree = build(&entries);
        let leaves: Vec<Digest> = entries.iter().map(|e| leaf_hash(e)).collect();
        prop_assert_eq!(tree.leaf_hashes(), &leaves[..]);
        prop_assert_eq!(tree.root(), naive_root(&leaves));
        let len = tree.len();
        for (a, b) in picks {
            let (index, size) = pick_leaf(len, a, b);
            let prefix = &leaves[..size as usize];
            prop_assert_eq!(tree.root_at(size).unwrap(), naive_root(prefix));
            prop_assert_eq!(
                tree.inclusion_proof(index, size).unwrap().path,
                naive_path(index as usize, prefix)
            );
            let (old, new) = (b % (size + 1), size);
            prop_assert_eq!(
                tree.consistency_proof(old, new).unwrap().path,
                naive_consistency(old as usize, prefix)
            );
        }
    }

    #[test]
    fn rebuilt_tree_is_identical(entries in entries()) {
        let tree = build(&entries);
        let rebuilt = MerkleTree::from_leaf_hashes(tree.leaf_hashes().iter().copied());
        prop_assert_eq!(rebuilt.root(), tree.root());
        prop_assert_eq!(rebuilt.len(), tree.len());
        prop_assert_eq!(&rebuilt, &tree);
    }

    #[test]
    fn tampered_inclusion_proofs_are_refused(
        entries in entries(),
        a in any::<u64>(),
        b in any::<u64>(),
        other in any::<u64>(),
    ) {
        let tree = build(&entries);
        let (index, size) = pick_leaf(tree.len(), a, b);
        let leaf = tree.leaf_hashes()[index as usize];
        let root = tree.root_at(size).unwrap();
        let proof = tree.inclusion_proof(index, size).unwrap();
        prop_assert_eq!(proof.verify(&leaf, &root), Ok(()));
        for bit in 0..256 {
            prop_assert!(verify_inclusion(&flip(&leaf, bit), index, size, &proof.path, &root).is_err());
            prop_assert!(verify_inclusion(&leaf, index, size, &proof.path, &flip(&root, bit)).is_err());
            for i in 0..proof.path.len() {
                let mut path = proof.path.clone();
                path[i] = flip(&path[i], bit);
                prop_assert!(verify_inclusion(&leaf, index, size, &path, &root).is_err());
            }
        }
        // Another index in the same tree is always refused.
        let other_index = other % size;
        if other_index != index {
            prop_assert!(verify_inclusion(&leaf, other_index, size, &proof.path, &root).is_err());
        }
        // Another size is refused unless it gives the proof the very same shape (e.g. leaf 0 of
        // 3 or of 4 leaves): the proof cannot tell those apart, which is why the size must come
        // with the root from the signed tree head.
        let other_size = index + 1 + other % 1000;
        let moved = verify_inclusion(&leaf, index, other_size, &proof.path, &root);
        if inclusion_shape(index, other_size) == inclusion_shape(index, size) {
            prop_assert_eq!(moved, Ok(()));
        } else {
            prop_assert!(moved.is_err());
        }
        // A missing or an extra hash.
        if let Some((_, shorter)) = proof.path.split_last() {
            prop_assert!(verify_inclusion(&leaf, index, size, shorter, &root).is_err());
        }
        let mut longer = proof.path.clone();
        longer.push(root);
        prop_assert!(verify_inclusion(&leaf, index, size, &longer, &root).is_err());
    }

    #[test]
    fn tampered_consistency_proofs_are_refused(
        entries in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..12), 2..300),
        a in any::<u64>(),
        b in any::<u64>(),
        other in any::<u64>(),
    ) {
        let tree = build(&entries);
        let (old, new) = pick_sizes(tree.len(), a, b);
        let (r1, r2) = (tree.root_at(old).unwrap(), tree.root_at(new).unwrap());
        let proof = tree.consistency_proof(old, new).unwrap();
        prop_assert_eq!(proof.verify(&r1, &r2), Ok(()));
        for bit in 0..256 {
            prop_assert!(verify_consistency(old, new, &proof.path, &flip(&r1, bit), &r2).is_err());
            prop_assert!(verify_consistency(old, new, &proof.path, &r1, &flip(&r2, bit)).is_err());
            for i in 0..proof.path.len() {
                let mut path = proof.path.clone();
                path[i] = flip(&path[i], bit);
                prop_assert!(verify_consistency(old, new, &path, &r1, &r2).is_err());
            }
        }
        // Other sizes are refused unless they give the proof the very same shape (see
        // `tampered_inclusion_proofs_are_refused`).
        let shape = consistency_shape(old, new);
        let other_old = 1 + other % (new - 1);
        let moved = ConsistencyProof { old_size: other_old, ..proof.clone() }.verify(&r1, &r2);
        if consistency_shape(other_old, new) == shape {
            prop_assert_eq!(moved, Ok(()));
        } else {
            prop_assert!(moved.is_err());
        }
        let other_new = old + 1 + other % 1000;
        let moved = ConsistencyProof { new_size: other_new, ..proof.clone() }.verify(&r1, &r2);
        if consistency_shape(old, other_new) == shape {
            prop_assert_eq!(moved, Ok(()));
        } else {
            prop_assert!(moved.is_err());
        }
        prop_assert!(verify_consistency(old, new, &proof.path, &r2, &r1).is_err());
        if let Some((_, shorter)) = proof.path.split_last() {
            prop_assert!(verify_consistency(old, new, shorter, &r1, &r2).is_err());
        }
        let mut longer = proof.path.clone();
        longer.push(r1);
        prop_assert!(verify_consistency(old, new, &longer, &r1, &r2).is_err());
    }

    /// Any index, size and path length, over the whole `u64` range (trees beyond 2^63 leaves
    /// included): the verifiers never panic, and an inclusion path is accepted exactly when the
    /// index is in the tree and the path has the length the RFC 9162 algorithm consumes,
    /// restated here step by step. Half the cases draw that length, so both sides are reached.
    #[test]
    fn verifiers_never_panic(
        index in any::<u64>(),
        size in any::<u64>(),
        len in 0usize..70,
        right_length in any::<bool>(),
        seed in any::<u8>(),
    ) {
        let (index, size) = if right_length && index >= size {
            (size.min(index) / 2, size.max(index))
        } else {
            (index, size)
        };
        let expected = reference_inclusion_len(index, size);
        let len = match expected {
            Some(n) if right_length => n,
            _ => len,
        };
        let path = vec![Digest([seed; 32]); len];
        let h = Digest([seed.wrapping_add(1); 32]);
        match root_from_inclusion_proof(&h, index, size, &path) {
            Ok(root) => {
                prop_assert_eq!(Some(len), expected);
                prop_assert_eq!(verify_inclusion(&h, index, size, &path, &root), Ok(()));
            }
            Err(_) => prop_assert_ne!(Some(len), expected),
        }
        let _ = verify_consistency(index, size, &path, &h, &h);
        let _ = verify_consistency(index.min(size), index.max(size), &path, &h, &h);
        let tree = reference_tree();
        let _ = tree.inclusion_proof(index % 10, size % 10);
        let _ = tree.consistency_proof(index % 10, size % 10);
        let _ = tree.root_at(size % 10);
    }
}

/// The number of path hashes the RFC 9162 §2.1.3.2 verification consumes for leaf `index` of a
/// tree of `size` leaves, by running its loop on the indices alone; `None` if the index is not
/// in the tree.
fn reference_inclusion_len(index: u64, size: u64) -> Option<usize> {
    if index >= size {
        return None;
    }
    let (mut fn_, mut sn, mut n) = (index, size - 1, 0);
    while sn > 0 {
        if (fn_ & 1 == 1 || fn_ == sn) && fn_ & 1 == 0 {
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        }
        n += 1;
        fn_ >>= 1;
        sn >>= 1;
    }
    Some(n)
}

/// Trees beyond 2^63 leaves: a leaf in the left half of such a tree has a path of 64 hashes, all
/// of them on its way down (none on the right border), and a 65th is refused.
#[test]
fn paths_in_trees_beyond_two_to_the_63_leaves() {
    let h = Digest([1; 32]);
    let size = (1u64 << 63) + 1;
    for index in [0, 1, (1 << 62) + 5, (1 << 63) - 1] {
        assert_eq!(reference_inclusion_len(index, size), Some(64));
        let path = vec![Digest([2; 32]); 64];
        let root = root_from_inclusion_proof(&h, index, size, &path).expect("64 hashes");
        assert_eq!(verify_inclusion(&h, index, size, &path, &root), Ok(()));
        let longer = vec![Digest([2; 32]); 65];
        assert!(root_from_inclusion_proof(&h, index, size, &longer).is_err());
    }
    // The last leaf of that tree sits alone on the right border: one hash.
    assert_eq!(reference_inclusion_len(1 << 63, size), Some(1));
    let path = [Digest([2; 32])];
    assert!(root_from_inclusion_proof(&h, 1 << 63, size, &path).is_ok());
}
