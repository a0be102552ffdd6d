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
    fn log_size(&self) -> Result<u64, LogError>;
    /// The exact bytes of entry `index`.
    fn log_entry(&self, index: u64) -> Result<Vec<u8>, LogError>;
    /// The root hash of the log at `size` entries.
    fn log_root_at(&self, size: u64) -> Result<Digest, LogError>;
    /// The inclusion proof of entry `index` in the log at `tree_size` entries.
    fn inclusion_proof(&self, index: u64, tree_size: u64) -> Result<InclusionProof, LogError>;
    /// The consistency proof from `old_size` to `new_size` entries.
    fn consistency_proof(&self, old_size: u64, new_size: u64)
    -> Result<ConsistencyProof, LogError>;
    /// The indices below `tree_size` of the entries concerning `subject`, ascending.
    fn indices_about(&self, subject: &PartyId, tree_size: u64) -> Result<Vec<u64>, LogError>;
    /// Signs the head of the log as it is now with the operator's key, keeps it as the latest
    /// signed head, and returns its COSE bytes. Refused if the log is not consistent with the
    /// latest head kept.
    fn sign_head(
        &self,
        key: &SigningKey,
        operator: PartyId,
        at: Timestamp,
    ) -> Result<Vec<u8>, LogError>;
    /// The latest signed head kept, if any.
    fn latest_head(&self) -> Result<Option<Vec<u8>>, LogError>;

    /// Every entry concerning `subject` among the first `tree_size` entries, each with its
    /// inclusion proof at `tree_size`, for [`verify_history`](super::verify_history).
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
