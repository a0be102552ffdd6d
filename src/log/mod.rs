//! The transfer log's Merkle tree, as specified by RFC 9162 (Certificate Transparency 2.0).
//!
//! [`MerkleTree`] is an append-only list of leaf hashes that can produce its root and inclusion
//! and consistency proofs for any past size. The verification functions, [`verify_inclusion`] and
//! [`verify_consistency`], need only the proof and the hashes, so a party that holds two signed
//! roots can check the log without holding the log.
//!
//! ```
//! use consentry::log::{leaf_hash, verify_consistency, verify_inclusion, MerkleTree};
//!
//! let mut tree = MerkleTree::new();
//! for entry in [&b"first"[..], b"second", b"third"] {
//!     tree.append(entry);
//! }
//! let old_root = tree.root();
//! let index = tree.append(b"fourth");
//! let new_root = tree.root();
//!
//! let inclusion = tree.inclusion_proof(index, tree.len())?;
//! verify_inclusion(&leaf_hash(b"fourth"), index, 4, &inclusion.path, &new_root)?;
//!
//! let consistency = tree.consistency_proof(3, 4)?;
//! verify_consistency(3, 4, &consistency.path, &old_root, &new_root)?;
//!
//! // A proof for another entry is refused.
//! assert!(inclusion.verify(&leaf_hash(b"forth"), &new_root).is_err());
//! # Ok::<(), consentry::log::ProofError>(())
//! ```

mod deletion;
mod entry;
mod error;
mod hash;
mod head;
mod history;
mod kind;
mod merkle;
mod overdue;
mod proof;
mod receipt;
mod replay;
mod store;
mod transfer_log;

pub use crate::ids::BasisKind;
pub(crate) use deletion::record_entry as deletion_record_entry;
pub use deletion::{CountedDeletion, DeletionIndex, log_deletion};
pub use entry::{
    Denial, LogEntry, LoggedObject, MAX_DENIAL_REASONS, MAX_ENTRY_SIZE, MAX_REASON_CODE_LEN,
    StatementEntry,
};
pub use error::LogError;
pub use hash::{empty_root, leaf_hash, node_hash};
pub use head::{HeadMonitor, SignedTreeHead, TreeHead, compare_heads};
pub use history::{
    AccessHistory, CheckedEntry, HistoryFailure, HistoryItem, HistoryReport, Retention,
    RetentionState, verify_history, verify_history_against,
};
pub use kind::EntryKind;
pub use merkle::MerkleTree;
pub use overdue::{
    OverdueError, OverdueItem, OverdueReceipt, OverdueReport, overdue_receipts, verify_overdue,
};
pub use proof::{
    ConsistencyProof, InclusionProof, MAX_CONSISTENCY_PROOF_LEN, MAX_INCLUSION_PROOF_LEN,
    ProofError, root_from_inclusion_proof, verify_consistency, verify_inclusion,
};
pub use receipt::Receipt;
pub(crate) use replay::{ReplayFault, replay};
pub use store::LogStore;
pub use transfer_log::TransferLog;

#[cfg(test)]
mod tests;
