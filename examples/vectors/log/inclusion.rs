//! Inclusion proofs: every entry under the latest head and the first ones under head-8, then
//! refused proofs.

use consentry::log::{InclusionProof, LogEntry};

use super::Tree;
use super::codes::{flip, flip_hash};
use super::collect::LogGen;

/// Every entry under the latest head, and the first five under head-8.
pub fn valid(g: &mut LogGen<'_>, t: &Tree) {
    let size = t.size;
    let Tree {
        log, latest_name, ..
    } = t;
    let proofs: Vec<InclusionProof> = (0..size)
        .map(|i| {
            log.inclusion_proof(i, size)
                .unwrap_or_else(|e| panic!("{e}"))
        })
        .collect();
    for (i, proof) in proofs.iter().enumerate() {
        let file = g.entry_files[i].clone();
        g.inclusion(
            &format!("inclusion-{i:02}"),
            "entry included at its index under the latest head",
            &file,
            latest_name,
            proof,
            None,
        );
    }
    // And of the first entries against an older head.
    for i in 0..5 {
        let file = g.entry_files[i].clone();
        let proof = log
            .inclusion_proof(i as u64, 8)
            .unwrap_or_else(|e| panic!("{e}"));
        g.inclusion(
            &format!("inclusion-{i:02}-at-8"),
            "entry included at its index under head-8",
            &file,
            "head-8",
            &proof,
            None,
        );
    }
}

/// A tampered entry, altered proofs, wrong indices and sizes, the fork's entry; returns the
/// tampered entry.
pub fn refusals(g: &mut LogGen<'_>, t: &Tree) -> Vec<u8> {
    let size = t.size;
    let Tree {
        log,
        latest_name,
        fork,
        ..
    } = t;
    let target = 4;
    let entry_file = g.entry_files[target].clone();
    let entry = g.files[&entry_file].clone();
    let tampered = flip(&entry, entry.len() - 1);
    assert!(LogEntry::from_bytes(&tampered).is_ok(), "still decodes");
    let tampered_file = g.file(
        "log/invalid/tampered-entry.cbor".to_owned(),
        tampered.clone(),
    );
    let proof = log
        .inclusion_proof(target as u64, size)
        .unwrap_or_else(|e| panic!("{e}"));
    g.inclusion(
        "tampered-entry",
        "entry 4 with one bit of its receipt's signature changed (it still decodes), with entry 4's proof",
        &tampered_file,
        latest_name,
        &proof,
        Some("log/root_mismatch"),
    );
    for (at, what) in [(0, "first"), (proof.path.len() - 1, "last")] {
        let mut p = proof.clone();
        p.path[at] = flip_hash(p.path[at]);
        g.inclusion(
            &format!("modified-proof-hash-{what}"),
            "entry 4's proof with one bit of one hash changed",
            &entry_file,
            latest_name,
            &p,
            Some("log/root_mismatch"),
        );
    }
    let mut p = proof.clone();
    p.leaf_index = 5;
    g.inclusion(
        "wrong-index",
        "entry 4 with its proof, claimed at index 5 (a proof of the same length)",
        &entry_file,
        latest_name,
        &p,
        Some("log/root_mismatch"),
    );
    let mut p = proof.clone();
    p.leaf_index = 12;
    g.inclusion(
        "wrong-index-other-shape",
        "entry 4 with its proof, claimed at index 12 (whose proof has another length)",
        &entry_file,
        latest_name,
        &p,
        Some("log/proof_length"),
    );
    let mut p = proof.clone();
    p.leaf_index = size;
    g.inclusion(
        "index-out-of-range",
        "entry 4's proof claimed at index 13, beyond the tree",
        &entry_file,
        latest_name,
        &p,
        Some("log/index_out_of_range"),
    );
    g.inclusion(
        "wrong-tree-size",
        "entry 4's proof for the latest size, checked against head-8",
        &entry_file,
        "head-8",
        &proof,
        Some("log/inclusion_proof_mismatch"),
    );
    let mut p = proof.clone();
    p.tree_size = 12;
    g.inclusion(
        "wrong-tree-size-claimed",
        "entry 4's proof claiming a tree of 12 entries, checked against the latest head",
        &entry_file,
        latest_name,
        &p,
        Some("log/inclusion_proof_mismatch"),
    );
    let mut p = proof.clone();
    p.path.pop();
    g.inclusion(
        "truncated-proof",
        "entry 4's proof without its last hash",
        &entry_file,
        latest_name,
        &p,
        Some("log/proof_length"),
    );
    let mut p = proof.clone();
    p.path.push(log.root());
    g.inclusion(
        "extended-proof",
        "entry 4's proof with one hash too many",
        &entry_file,
        latest_name,
        &p,
        Some("log/proof_length"),
    );
    let mut p = proof.clone();
    p.path = vec![log.root(); 65];
    g.inclusion(
        "proof-too-long",
        "a proof of 65 hashes, longer than any tree of u64 size needs",
        &entry_file,
        latest_name,
        &p,
        Some("log/proof_too_long"),
    );
    let fork_entry = fork.entry(size - 1).unwrap_or_default().to_vec();
    let fork_file = g.file("log/invalid/fork-entry.cbor".to_owned(), fork_entry);
    let p = fork
        .inclusion_proof(size - 1, size)
        .unwrap_or_else(|e| panic!("{e}"));
    g.inclusion(
        "entry-of-the-fork",
        "the fork's last entry with its proof in the fork, checked against the latest head",
        &fork_file,
        latest_name,
        &p,
        Some("log/root_mismatch"),
    );
    tampered
}
