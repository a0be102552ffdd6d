//! The transfer log as a store keeps it, read back for heads, proofs and histories.

use crate::Digest;
use crate::directory::PartyId;
use crate::keys::SigningKey;
use crate::time::Timestamp;

use super::error::LogError;
use super::history::{AccessHistory, HistoryItem};
use super::proof::{ConsistencyProof, InclusionProof};

/// A transfer log kept by a ledger's store, next to the ledger state it attests: the verifier
/// appends receipts, denials and statements in the transactions that record them (see
/// [`Ledger`](crate::ledger::Ledger)), and the log operator reads it through this trait.
///
/// Every read may fail with [`LogError::Storage`]. An implementation checks an entry against
/// its stored leaf hash before returning it, and [`LogStore::sign_head`] refuses to sign a head
/// inconsistent with the last one it signed ([`LogError::InconsistentWithSignedHead`]): a log
/// truncated, edited or rolled back on disk is reported, never signed over.
pub trait LogStore {
    /// Number of entries.
    ///
    /// # Errors
    ///
    /// [`LogError::Storage`] if the store failed.
    fn log_size(&self) -> Result<u64, LogError>;
    /// The exact bytes of entry `index`.
    ///
    /// # Errors
    ///
    /// [`LogError::Proof`] ([`ProofError::IndexOutOfRange`](super::ProofError::IndexOutOfRange)) if
    /// there is no entry `index`, [`LogError::Storage`] if the store failed or the entry does not
    /// match its stored leaf hash.
    fn log_entry(&self, index: u64) -> Result<Vec<u8>, LogError>;
    /// The root hash of the log at `size` entries.
    ///
    /// # Errors
    ///
    /// [`LogError::Proof`] if `size` is beyond the log's size, [`LogError::Storage`] if the store
    /// failed.
    fn log_root_at(&self, size: u64) -> Result<Digest, LogError>;
    /// The inclusion proof of entry `index` in the log at `tree_size` entries.
    ///
    /// # Errors
    ///
    /// [`LogError::Proof`] if `tree_size` is beyond the log's size or `index` not below it (see
    /// [`MerkleTree::inclusion_proof`](super::MerkleTree::inclusion_proof)), [`LogError::Storage`]
    /// if the store failed.
    fn inclusion_proof(&self, index: u64, tree_size: u64) -> Result<InclusionProof, LogError>;
    /// The consistency proof from `old_size` to `new_size` entries.
    ///
    /// # Errors
    ///
    /// [`LogError::Proof`] if `new_size` is beyond the log's size or `old_size > new_size` (see
    /// [`MerkleTree::consistency_proof`](super::MerkleTree::consistency_proof)),
    /// [`LogError::Storage`] if the store failed.
    fn consistency_proof(&self, old_size: u64, new_size: u64)
    -> Result<ConsistencyProof, LogError>;
    /// The indices below `tree_size` of the entries concerning `subject`, ascending.
    ///
    /// # Errors
    ///
    /// [`LogError::Storage`] if the store failed.
    fn indices_about(&self, subject: &PartyId, tree_size: u64) -> Result<Vec<u64>, LogError>;
    /// Signs the head of the log as it is now with the operator's key, keeps it as the latest
    /// signed head, and returns its COSE bytes. Refused if the log is not consistent with the
    /// latest head kept.
    ///
    /// # Errors
    ///
    /// [`LogError::InconsistentWithSignedHead`] if the log is not consistent with the latest head
    /// kept, [`LogError::Storage`] if the store failed.
    fn sign_head(
        &self,
        key: &SigningKey,
        operator: PartyId,
        at: Timestamp,
    ) -> Result<Vec<u8>, LogError>;
    /// The latest signed head kept, if any.
    ///
    /// # Errors
    ///
    /// [`LogError::Storage`] if the store failed.
    fn latest_head(&self) -> Result<Option<Vec<u8>>, LogError>;

    /// Every entry concerning `subject` among the first `tree_size` entries, each with its
    /// inclusion proof at `tree_size`, for [`verify_history`](super::verify_history).
    ///
    /// # Errors
    ///
    /// [`LogError::Proof`] if `tree_size` is beyond the log's size; the errors of
    /// [`LogStore::log_entry`] and [`LogStore::inclusion_proof`] for each entry.
    fn access_history(&self, subject: PartyId, tree_size: u64) -> Result<AccessHistory, LogError> {
        // Checks the size once, so an empty history for a too-large size is refused too.
        self.log_root_at(tree_size)?;
        let items = self
            .indices_about(&subject, tree_size)?
            .into_iter()
            .map(|index| {
                Ok(HistoryItem {
                    entry: self.log_entry(index)?,
                    proof: self.inclusion_proof(index, tree_size)?,
                })
            })
            .collect::<Result<_, LogError>>()?;
        Ok(AccessHistory { subject, items })
    }
}
