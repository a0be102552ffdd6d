//! The transfer log itself: entries, their Merkle tree and a per-subject index.

use crate::Digest;
use crate::directory::PartyId;
use crate::keys::SigningKey;
use crate::signed::SignedPayload;
use crate::time::Timestamp;
use std::collections::BTreeMap;

use crate::deletion::{Deletion, DeletionError};
use crate::directory::Trust;
use crate::signed::Verified;

use super::deletion::DeletionIndex;
use super::entry::{LogEntry, LoggedObject};
use super::error::LogError;
use super::head::TreeHead;
use super::history::{AccessHistory, HistoryItem};
use super::merkle::MerkleTree;
use super::proof::{ConsistencyProof, InclusionProof};

/// An append-only log of [`LogEntry`]s, kept by the log operator.
///
/// It holds each entry's exact bytes, the RFC 9162 Merkle tree over them, and an index from
/// subject to entry indices, so that a person's history is found without a scan. It signs tree
/// heads and produces inclusion and consistency proofs for any past size; nobody needs to trust
/// it to check those (see [`SignedTreeHead`](super::SignedTreeHead) and
/// [`verify_history`](super::verify_history)).
///
/// ```
/// use consentry::log::{LogEntry, SignedTreeHead, TransferLog};
/// use consentry::testing::{Scenario, key_for, party_for};
/// use consentry::Timestamp;
///
/// let (key, operator) = (key_for("log-operator"), party_for("log-operator"));
/// let s = Scenario::canteen();
/// let grant = s.sign_grant(&s.grant().build(&s.ceilings).unwrap());
/// let mut log = TransferLog::new();
/// let entry = LogEntry::grant_issued(grant)?;
/// let index = log.append(&entry);
///
/// let signed = log.sign_head(&key, operator, Timestamp::from_secs(6));
/// let head = SignedTreeHead::verify(&signed, operator, &key.verifying_key())?;
/// let proof = log.inclusion_proof(index, head.tree_size())?;
/// head.verify_inclusion(&entry.to_bytes(), &proof)?;
/// assert_eq!(log.indices_about(&party_for("parent")), [index]);
///
/// // Anyone holding the entries can rebuild the log and find the same root.
/// let rebuilt = TransferLog::from_entries(log.entries().iter().cloned())?;
/// assert_eq!(rebuilt.root(), log.root());
/// # Ok::<(), consentry::log::LogError>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct TransferLog {
    entries: Vec<Vec<u8>>,
    tree: MerkleTree,
    by_subject: BTreeMap<PartyId, Vec<u64>>,
    deletions: DeletionIndex,
}

impl TransferLog {
    /// An empty log.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Rebuilds a log from its exported entry bytes, in order. Each entry is decoded strictly;
    /// the rebuilt log has the same roots and proofs as the original.
    ///
    /// # Errors
    ///
    /// The first error of [`LogEntry::from_bytes`] on an entry.
    pub fn from_entries<I: IntoIterator<Item = Vec<u8>>>(entries: I) -> Result<Self, LogError> {
        let mut log = Self::new();
        for bytes in entries {
            let entry = LogEntry::from_bytes(&bytes)?;
            log.push(bytes, &entry);
        }
        Ok(log)
    }

    /// Appends an entry and returns its index.
    ///
    /// This is the log's raw append: it checks nothing about the entry. A deletion statement is
    /// appended with [`TransferLog::append_deletion`], which checks it; a deletion entry
    /// appended here that would fail those checks (bar its signature) is logged but does not
    /// count as a deletion.
    pub fn append(&mut self, entry: &LogEntry) -> u64 {
        self.push(entry.to_bytes(), entry)
    }

    fn push(&mut self, bytes: Vec<u8>, entry: &LogEntry) -> u64 {
        let index = self.tree.append(&bytes);
        self.entries.push(bytes);
        if let Some(subject) = entry.subject() {
            self.by_subject.entry(subject).or_default().push(index);
        }
        // A deletion that fails its checks is kept as logged and not counted.
        let _ = self.deletions.observe(index, entry, None);
        index
    }

    /// Appends a consumer's deletion statement after checking it: its signature and key rule
    /// against `trust`, then every rule of [`DeletionIndex::check`] against the entries
    /// logged (the receipt it names is logged, the hash is its exact bytes', it is signed by
    /// the receipt's consumer, the ids and subject are the receipt's, it is not dated before
    /// the receipt, and no deletion of the receipt is logged yet). Returns the entry's index.
    ///
    /// ```
    /// use consentry::deletion::Deletion;
    /// use consentry::signed::SignedPayload;
    /// use consentry::testing::Scenario;
    ///
    /// let mut s = Scenario::canteen();
    /// let (receipt, _) = s.transfer_and_log();
    /// let bytes = Deletion::for_receipt(&receipt, s.now, s.now).sign(s.key(s.mairie));
    /// let index = s.log.append_deletion(bytes.clone(), &s.directory).unwrap();
    /// assert_eq!(index, 1);
    /// // The same deletion again is refused: the first one stands.
    /// let again = s.log.append_deletion(bytes, &s.directory).unwrap_err();
    /// assert_eq!(again.code(), "deletion/already_deleted");
    /// ```
    ///
    /// # Errors
    ///
    /// [`DeletionError::Object`] if the statement is malformed or its signature refused, the
    /// refusals of [`DeletionIndex::check`]; nothing is appended then.
    pub fn append_deletion(
        &mut self,
        bytes: Vec<u8>,
        trust: &dyn Trust,
    ) -> Result<u64, DeletionError> {
        let verified =
            Verified::<Deletion>::parse_and_verify(&bytes, trust).map_err(DeletionError::Object)?;
        self.deletions.check(verified.claims())?;
        let entry = LogEntry::Deletion(LoggedObject::from_parts(bytes, verified.claims().clone()));
        Ok(self.push(entry.to_bytes(), &entry))
    }

    /// The receipts and counted deletions of the log, as [`TransferLog::append_deletion`]
    /// checks a new deletion against them.
    #[must_use]
    pub fn deletions(&self) -> &DeletionIndex {
        &self.deletions
    }

    /// Number of entries.
    #[must_use]
    pub fn len(&self) -> u64 {
        self.tree.len()
    }

    /// Whether the log is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.tree.is_empty()
    }

    /// Every entry's exact bytes, in order: everything needed to rebuild the log.
    #[must_use]
    pub fn entries(&self) -> &[Vec<u8>] {
        &self.entries
    }

    /// The bytes of entry `index`.
    pub fn entry(&self, index: u64) -> Option<&[u8]> {
        let index = usize::try_from(index).ok()?;
        self.entries.get(index).map(Vec::as_slice)
    }

    /// The indices of the entries concerning `subject`, ascending.
    pub fn indices_about(&self, subject: &PartyId) -> &[u64] {
        self.by_subject.get(subject).map_or(&[], Vec::as_slice)
    }

    /// The current root hash.
    #[must_use]
    pub fn root(&self) -> Digest {
        self.tree.root()
    }

    /// The root hash at a past size.
    ///
    /// # Errors
    ///
    /// [`LogError::Proof`] if `size` is beyond the log's length (see
    /// [`MerkleTree::root_at`](super::MerkleTree::root_at)).
    pub fn root_at(&self, size: u64) -> Result<Digest, LogError> {
        Ok(self.tree.root_at(size)?)
    }

    /// The tree head of the log as it is now, not yet signed.
    #[must_use]
    pub fn tree_head(&self, operator: PartyId, at: Timestamp) -> TreeHead {
        TreeHead {
            log_id: operator,
            tree_size: self.len(),
            root_hash: self.root(),
            timestamp: at,
        }
    }

    /// Signs the current tree head with the operator's key, giving the COSE bytes.
    #[must_use]
    pub fn sign_head(&self, key: &SigningKey, operator: PartyId, at: Timestamp) -> Vec<u8> {
        self.tree_head(operator, at).sign(key)
    }

    /// The inclusion proof of entry `index` in the log as it was at `tree_size` entries.
    ///
    /// # Errors
    ///
    /// [`LogError::Proof`] if `tree_size` is beyond the log's length or `index` not below it (see
    /// [`MerkleTree::inclusion_proof`](super::MerkleTree::inclusion_proof)).
    pub fn inclusion_proof(&self, index: u64, tree_size: u64) -> Result<InclusionProof, LogError> {
        Ok(self.tree.inclusion_proof(index, tree_size)?)
    }

    /// The consistency proof between the log at `old_size` and at `new_size` entries.
    ///
    /// # Errors
    ///
    /// [`LogError::Proof`] if `new_size` is beyond the log's length or `old_size > new_size` (see
    /// [`MerkleTree::consistency_proof`](super::MerkleTree::consistency_proof)).
    pub fn consistency_proof(
        &self,
        old_size: u64,
        new_size: u64,
    ) -> Result<ConsistencyProof, LogError> {
        Ok(self.tree.consistency_proof(old_size, new_size)?)
    }

    /// Every entry concerning `subject` among the first `tree_size` entries, each with its
    /// inclusion proof at `tree_size` (the size of the signed head it will be checked against).
    ///
    /// # Errors
    ///
    /// [`LogError::Proof`] if `tree_size` is beyond the log's length, [`LogError::IndexTooLarge`]
    /// if an entry's index does not fit this platform's memory addressing.
    pub fn access_history(
        &self,
        subject: PartyId,
        tree_size: u64,
    ) -> Result<AccessHistory, LogError> {
        // Checks the size once, so an empty history for a too-large size is refused too.
        self.tree.root_at(tree_size)?;
        let mut items = Vec::new();
        for &index in self.indices_about(&subject) {
            if index >= tree_size {
                break;
            }
            let entry = self.entry(index).ok_or(LogError::IndexTooLarge(index))?;
            items.push(HistoryItem {
                entry: entry.to_vec(),
                proof: self.inclusion_proof(index, tree_size)?,
            });
        }
        Ok(AccessHistory { subject, items })
    }
}
