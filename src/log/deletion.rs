//! Deletion entries: which logged receipts a deletion statement may be about, and which
//! deletions count.

use crate::Digest;
use crate::deletion::{Deletion, DeletionError};
use crate::directory::Trust;
use crate::ledger::{DeletionRecord, Ledger};
use crate::signed::Verified;
use crate::time::Timestamp;
use std::collections::HashMap;
use uuid::Uuid;

use super::entry::{LogEntry, LoggedObject};
use super::receipt::Receipt;

/// A deletion that counts: the entry that logged it and the time it states.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CountedDeletion {
    /// The deletion entry's index.
    pub index: u64,
    /// When the data was deleted, as the consumer states it.
    pub deleted_at: Timestamp,
}

/// The receipts and the deletions of a log read in order, as a log writer checks a new
/// deletion against them and an auditor replays them.
///
/// A deletion counts only if, against the entries before it, it passes every check of
/// [`DeletionIndex::check`] (and, when the index is kept with a directory, its signature and
/// key rule); a deletion entry that fails is not counted, and [`DeletionIndex::observe`] says
/// why. A receipt counts as a transfer when it is logged (and, with a directory, when its
/// provider's signature verifies).
#[derive(Clone, Debug, Default)]
pub struct DeletionIndex {
    receipts: HashMap<Digest, (u64, Receipt)>,
    /// The hash of the first receipt logged under each id.
    ids: HashMap<Uuid, Digest>,
    deleted: HashMap<Digest, CountedDeletion>,
}

impl DeletionIndex {
    /// An index of an empty log.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes the entry at `index` into account, after every entry before it. A receipt is
    /// recorded (with `trust`, only if its signature verifies); a deletion is checked
    /// ([`DeletionIndex::check`], with `trust` its signature first) and recorded if it passes.
    ///
    /// # Errors
    ///
    /// For a deletion entry that does not count, the refusal it would have met from a log
    /// writer; nothing is recorded then. Other entries are never refused.
    pub fn observe(
        &mut self,
        index: u64,
        entry: &LogEntry,
        trust: Option<&dyn Trust>,
    ) -> Result<(), DeletionError> {
        match entry {
            LogEntry::Receipt(r) => {
                if trust.is_none_or(|t| r.verify(t).is_ok()) {
                    self.record_receipt(index, r);
                }
                Ok(())
            }
            LogEntry::Deletion(d) => {
                if let Some(trust) = trust {
                    d.verify(trust).map_err(DeletionError::Object).map(drop)?;
                }
                self.check(d.claims())?;
                self.record_deletion(index, d.claims());
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn record_receipt(&mut self, index: u64, receipt: &LoggedObject<Receipt>) {
        let digest = receipt.digest();
        self.ids.entry(receipt.claims().id()).or_insert(digest);
        self.receipts
            .entry(digest)
            .or_insert_with(|| (index, receipt.claims().clone()));
    }

    /// Records a deletion already checked.
    pub(crate) fn record_deletion(&mut self, index: u64, deletion: &Deletion) {
        self.deleted.insert(
            deletion.receipt_digest,
            CountedDeletion {
                index,
                deleted_at: deletion.deleted_at,
            },
        );
    }

    /// Checks a deletion statement (its signature checked elsewhere) against the entries
    /// observed: the receipt it names is logged, and the statement passes
    /// [`Deletion::check_receipt`] against it, and no deletion of it counts yet. Returns the
    /// receipt's index.
    ///
    /// # Errors
    ///
    /// [`DeletionError::UnknownReceipt`] if no receipt logged has the hash or the id named,
    /// [`DeletionError::ReceiptHashMismatch`] if a receipt has the id but not the hash, the
    /// refusals of [`Deletion::check_receipt`], [`DeletionError::AlreadyDeleted`] if a
    /// deletion of the receipt already counts.
    pub fn check(&self, deletion: &Deletion) -> Result<u64, DeletionError> {
        let digest = deletion.receipt_digest;
        let Some((index, receipt)) = self.receipts.get(&digest) else {
            return Err(match self.ids.get(&deletion.receipt) {
                Some(&logged) => DeletionError::ReceiptHashMismatch {
                    named: digest,
                    logged,
                },
                None => DeletionError::UnknownReceipt {
                    receipt: deletion.receipt,
                    receipt_digest: digest,
                },
            });
        };
        deletion.check_receipt(receipt, digest)?;
        if let Some(counted) = self.deleted.get(&digest) {
            return Err(DeletionError::AlreadyDeleted {
                index: counted.index,
            });
        }
        Ok(*index)
    }

    /// The receipts observed, by ascending index, each with the deletion that counts for it.
    #[must_use]
    pub fn receipts(&self) -> Vec<(u64, &Receipt, Option<CountedDeletion>)> {
        let mut out: Vec<_> = self
            .receipts
            .iter()
            .map(|(digest, (index, r))| (*index, r, self.deleted.get(digest).copied()))
            .collect();
        out.sort_unstable_by_key(|(index, ..)| *index);
        out
    }

    /// The indices of the receipts overdue at `at`: their retention has passed
    /// (`retain until` < `at`) and no deletion counts that states a time at or before `at`.
    #[must_use]
    pub fn overdue_at(&self, at: Timestamp) -> Vec<u64> {
        self.receipts()
            .into_iter()
            .filter(|(_, r, deleted)| {
                r.retain_until() < at && deleted.is_none_or(|d| d.deleted_at > at)
            })
            .map(|(index, ..)| index)
            .collect()
    }
}

/// Logs a consumer's deletion statement through a ledger's store, as a service receiving one
/// does: the statement's signature and key rule are checked against `trust`, then the store
/// checks it against the log and appends it in one transaction
/// ([`Ledger::record_deletion`]), refusing it unless the receipt it names is logged, with every
/// rule of [`DeletionIndex::check`].
///
/// # Errors
///
/// [`DeletionError::Object`] if the statement is malformed or its signature refused; the
/// refusals of [`Ledger::record_deletion`].
pub fn log_deletion(
    ledger: &dyn Ledger,
    bytes: &[u8],
    trust: &dyn Trust,
) -> Result<(), DeletionError> {
    let verified =
        Verified::<Deletion>::parse_and_verify(bytes, trust).map_err(DeletionError::Object)?;
    let entry = LogEntry::Deletion(LoggedObject::from_parts(
        bytes.to_vec(),
        verified.claims().clone(),
    ));
    ledger.record_deletion(&DeletionRecord {
        deletion: verified.claims(),
        log_entry: &entry.to_bytes(),
    })
}

/// The entry of a deletion record, checked to carry the record's deletion: a store appends
/// only what it checked.
pub(crate) fn record_entry(record: &DeletionRecord<'_>) -> Result<LogEntry, DeletionError> {
    let refuse = |why: String| {
        DeletionError::Storage(crate::ledger::LedgerError::Corrupt(format!(
            "deletion entry refused: {why}"
        )))
    };
    match LogEntry::from_bytes(record.log_entry).map_err(|e| refuse(e.to_string()))? {
        LogEntry::Deletion(d) if d.claims() == record.deletion => Ok(LogEntry::Deletion(d)),
        _ => Err(refuse("it does not carry the deletion checked".into())),
    }
}
