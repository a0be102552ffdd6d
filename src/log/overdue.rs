//! The auditor's query of overdue retention: the receipts whose retention has passed with no
//! deletion, computed by replaying every entry up to a signed tree head, and re-checked the
//! same way.
//!
//! Absence cannot be shown by an inclusion proof: that no deletion of a receipt was logged is
//! shown only by every entry. So the report names the signed head it was computed against,
//! and its checker takes every entry up to that head, recomputes the root (which must be the
//! head's: no entry dropped, none added, none changed), replays them with the rules of
//! [`DeletionIndex`], and requires exactly the receipts the report lists, each with its
//! inclusion proof. A log keeper can neither hide a deletion (the overdue list would then be
//! longer than the replay's) nor invent an overdue receipt (it would not be in the replay's).

use crate::directory::{PartyId, Trust};
use crate::keys::VerifyingKey;
use crate::time::Timestamp;
use thiserror::Error;

use super::deletion::DeletionIndex;
use super::entry::{LogEntry, LoggedObject};
use super::error::LogError;
use super::head::SignedTreeHead;
use super::merkle::MerkleTree;
use super::proof::InclusionProof;
use super::receipt::Receipt;
use super::replay::{ReplayFault, replay};
use super::store::LogStore;

/// One overdue receipt as a report lists it: the receipt entry's exact bytes and its inclusion
/// proof against the report's head.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OverdueItem {
    /// The receipt entry's exact bytes.
    pub entry: Vec<u8>,
    /// Its inclusion proof at the head's tree size.
    pub proof: InclusionProof,
}

/// The answer to "which receipts were overdue at `at`?", computed against a signed tree head
/// ([`OverdueReport::compute`]) and checked with [`verify_overdue`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OverdueReport {
    /// The signed tree head the replay went up to (COSE bytes).
    pub head: Vec<u8>,
    /// The time asked about; not after the head's timestamp.
    pub at: Timestamp,
    /// The overdue receipts, by ascending index.
    pub items: Vec<OverdueItem>,
}

/// A receipt [`verify_overdue`] confirmed overdue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OverdueReceipt {
    /// The receipt entry's index.
    pub index: u64,
    /// The receipt, its provider's signature checked against the directory of the check.
    pub receipt: LoggedObject<Receipt>,
}

/// Why an overdue report could not be computed or was refused.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum OverdueError {
    /// The report's head was refused (cause: its `log/…` code).
    #[error("the report's tree head was refused: {0}")]
    Head(LogError),
    /// The time asked about is after the head: the replay cannot speak for it.
    #[error("the query is for {at}, after the head's time {head}")]
    AfterHead {
        /// The time asked about.
        at: Timestamp,
        /// The head's timestamp.
        head: Timestamp,
    },
    /// Not as many entries as the head's tree size were given.
    #[error("the head is of {head_size} entries, {entries} were given")]
    EntryCount {
        /// The head's tree size.
        head_size: u64,
        /// The entries given.
        entries: u64,
    },
    /// An entry does not decode (cause: its `log/…` code).
    #[error("entry {index} is refused: {error}")]
    Entry {
        /// The entry's index.
        index: u64,
        /// Why.
        error: LogError,
    },
    /// The entries given do not hash to the head's root: one was dropped, added or changed.
    #[error("the entries given do not lead to the head's root")]
    RootMismatch,
    /// A listed receipt's inclusion proof fails against the head, or it is not a receipt.
    #[error("the listed item {position} is refused: {error}")]
    Item {
        /// Its position in the report's list.
        position: usize,
        /// Why.
        error: LogError,
    },
    /// The report does not list exactly the receipts the replay finds overdue.
    #[error("the report lists receipts {listed:?}, the replay finds {expected:?} overdue")]
    ResultMismatch {
        /// The indices the replay finds.
        expected: Vec<u64>,
        /// The indices the report lists.
        listed: Vec<u64>,
    },
}

impl OverdueError {
    /// A stable code naming the refusal (`overdue/…`).
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            OverdueError::Head(_) => "overdue/head",
            OverdueError::AfterHead { .. } => "overdue/after_head",
            OverdueError::EntryCount { .. } => "overdue/entry_count",
            OverdueError::Entry { .. } => "overdue/entry",
            OverdueError::RootMismatch => "overdue/root_mismatch",
            OverdueError::Item { .. } => "overdue/item",
            OverdueError::ResultMismatch { .. } => "overdue/result_mismatch",
        }
    }

    /// The code of the log refusal this refusal wraps, if any.
    #[must_use]
    pub fn cause(&self) -> Option<&'static str> {
        match self {
            OverdueError::Head(e) | OverdueError::Entry { error: e, .. } => Some(e.code()),
            OverdueError::Item { error, .. } => Some(error.code()),
            _ => None,
        }
    }
}

/// Replays `entries` (every entry up to `head`): checks their number and root against the
/// head, and gives the tree and the indices overdue at `at`.
fn replay_overdue(
    entries: &[Vec<u8>],
    head: &SignedTreeHead,
    at: Timestamp,
    trust: &dyn Trust,
) -> Result<(MerkleTree, Vec<u64>), OverdueError> {
    if at > head.timestamp() {
        return Err(OverdueError::AfterHead {
            at,
            head: head.timestamp(),
        });
    }
    let mut index = DeletionIndex::new();
    // A deletion that does not count is not an error of the log: it is left out.
    let tree = replay(entries, head, |i, entry| {
        let _ = index.observe(i, entry, Some(trust));
    })
    .map_err(|fault| match fault {
        ReplayFault::Count { given, head } => OverdueError::EntryCount {
            head_size: head,
            entries: given,
        },
        ReplayFault::Entry { index, error } => OverdueError::Entry { index, error },
        ReplayFault::Root { .. } => OverdueError::RootMismatch,
    })?;
    Ok((tree, index.overdue_at(at)))
}

/// The indices of the receipts overdue at `at` among `entries` (a log's entries, in order,
/// from the first): receipts whose provider's signature verifies against `trust`, whose
/// `retain until` is before `at`, and for which no deletion counts that states a time at or
/// before `at` (see [`DeletionIndex`]).
///
/// # Errors
///
/// [`OverdueError::Entry`] if an entry does not decode.
pub fn overdue_receipts(
    entries: &[Vec<u8>],
    at: Timestamp,
    trust: &dyn Trust,
) -> Result<Vec<u64>, OverdueError> {
    let mut index = DeletionIndex::new();
    for (i, bytes) in (0u64..).zip(entries) {
        let entry =
            LogEntry::from_bytes(bytes).map_err(|error| OverdueError::Entry { index: i, error })?;
        let _ = index.observe(i, &entry, Some(trust));
    }
    Ok(index.overdue_at(at))
}

impl OverdueReport {
    /// The report a log keeper hands an auditor: the receipts overdue at `at`, computed by
    /// replaying `entries` (every entry up to the signed head `head`, of the log `log_id`
    /// whose operator's key is `operator_key`), each with its inclusion proof.
    ///
    /// # Errors
    ///
    /// [`OverdueError::Head`] if the head is refused, the refusals of the replay
    /// ([`OverdueError::AfterHead`], [`OverdueError::EntryCount`], [`OverdueError::Entry`],
    /// [`OverdueError::RootMismatch`]).
    pub fn compute(
        entries: &[Vec<u8>],
        head: &[u8],
        log_id: PartyId,
        operator_key: &VerifyingKey,
        at: Timestamp,
        trust: &dyn Trust,
    ) -> Result<Self, OverdueError> {
        let signed =
            SignedTreeHead::verify(head, log_id, operator_key).map_err(OverdueError::Head)?;
        let (tree, overdue) = replay_overdue(entries, &signed, at, trust)?;
        let mut items = Vec::with_capacity(overdue.len());
        for index in overdue {
            let proof = tree
                .inclusion_proof(index, signed.tree_size())
                .map_err(|e| OverdueError::Entry {
                    index,
                    error: e.into(),
                })?;
            let entry = usize::try_from(index)
                .ok()
                .and_then(|i| entries.get(i))
                .ok_or(OverdueError::Entry {
                    index,
                    error: LogError::IndexTooLarge(index),
                })?;
            items.push(OverdueItem {
                entry: entry.clone(),
                proof,
            });
        }
        Ok(OverdueReport {
            head: head.to_vec(),
            at,
            items,
        })
    }

    /// [`OverdueReport::compute`] over the entries of a store's log up to the head's size.
    ///
    /// # Errors
    ///
    /// As [`OverdueReport::compute`]; [`OverdueError::Entry`] if the store fails to give an
    /// entry.
    pub fn from_store(
        store: &dyn LogStore,
        head: &[u8],
        log_id: PartyId,
        operator_key: &VerifyingKey,
        at: Timestamp,
        trust: &dyn Trust,
    ) -> Result<Self, OverdueError> {
        let signed =
            SignedTreeHead::verify(head, log_id, operator_key).map_err(OverdueError::Head)?;
        let entries = (0..signed.tree_size())
            .map(|index| {
                store
                    .log_entry(index)
                    .map_err(|error| OverdueError::Entry { index, error })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Self::compute(&entries, head, log_id, operator_key, at, trust)
    }
}

/// Checks an overdue report with every entry up to its head, the log operator's key and a
/// directory: the head verifies, the entries are exactly the head's (their number and root),
/// the replay of [`overdue_receipts`] finds exactly the receipts listed, and each listed item
/// is included under the head. Returns the receipts confirmed overdue.
///
/// ```
/// use consentry::log::{OverdueReport, verify_overdue};
/// use consentry::testing::Scenario;
///
/// let mut s = Scenario::canteen();
/// let (receipt, index) = s.transfer_and_log();
/// let at = receipt.claims().retain_until().plus_secs(1);
/// s.now = at;
/// let (operator, key) = (s.log_operator, s.key(s.log_operator).verifying_key());
/// let head = s.sign_head();
/// let report = OverdueReport::compute(s.log.entries(), &head, operator, &key, at, &s.directory)?;
/// let confirmed = verify_overdue(&report, s.log.entries(), operator, &key, &s.directory)?;
/// assert_eq!(confirmed[0].index, index);
/// # Ok::<(), consentry::log::OverdueError>(())
/// ```
///
/// # Errors
///
/// [`OverdueError::Head`] if the head is refused; [`OverdueError::AfterHead`],
/// [`OverdueError::EntryCount`], [`OverdueError::Entry`] and [`OverdueError::RootMismatch`]
/// from the replay; [`OverdueError::ResultMismatch`] if the report lists other receipts than
/// the replay finds; [`OverdueError::Item`] if a listed item is not included under the head or
/// is not a receipt.
pub fn verify_overdue(
    report: &OverdueReport,
    entries: &[Vec<u8>],
    log_id: PartyId,
    operator_key: &VerifyingKey,
    trust: &dyn Trust,
) -> Result<Vec<OverdueReceipt>, OverdueError> {
    let head =
        SignedTreeHead::verify(&report.head, log_id, operator_key).map_err(OverdueError::Head)?;
    let (_, expected) = replay_overdue(entries, &head, report.at, trust)?;
    let listed: Vec<u64> = report.items.iter().map(|i| i.proof.leaf_index).collect();
    if listed != expected {
        return Err(OverdueError::ResultMismatch { expected, listed });
    }
    report
        .items
        .iter()
        .enumerate()
        .map(|(position, item)| {
            let refuse = |error| OverdueError::Item { position, error };
            head.verify_inclusion(&item.entry, &item.proof)
                .map_err(refuse)?;
            match LogEntry::from_bytes(&item.entry).map_err(refuse)? {
                LogEntry::Receipt(receipt) => Ok(OverdueReceipt {
                    index: item.proof.leaf_index,
                    receipt,
                }),
                _ => Err(refuse(LogError::MalformedEntry(
                    crate::cbor::DecodeError::InvalidValue {
                        field: "entry kind",
                        reason: "an overdue item is a receipt",
                    },
                ))),
            }
        })
        .collect()
}
