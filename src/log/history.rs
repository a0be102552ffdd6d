//! A person's access history and its verification against a signed tree head.

use crate::directory::{PartyId, Trust};
use crate::keys::VerifyingKey;
use crate::time::Timestamp;

use super::deletion::{CountedDeletion, DeletionIndex};

use super::entry::LogEntry;
use super::error::LogError;
use super::head::SignedTreeHead;
use super::proof::InclusionProof;
use super::receipt::Receipt;

/// One entry of a history: the entry's exact bytes and its inclusion proof (which carries the
/// entry's index and the tree size it is proved against).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistoryItem {
    /// The entry's exact bytes, as logged.
    pub entry: Vec<u8>,
    /// Its inclusion proof against the tree size of the head the history is checked against.
    pub proof: InclusionProof,
}

impl HistoryItem {
    /// The entry's index in the log, as the proof states it.
    #[must_use]
    pub fn index(&self) -> u64 {
        self.proof.leaf_index
    }
}

/// Every entry of the log concerning one subject, in log order, each with its inclusion proof,
/// as the log keeper hands it to the subject (or to an auditor acting for them). It is checked
/// with [`verify_history`], without the log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccessHistory {
    /// The person the history is about.
    pub subject: PartyId,
    /// The entries, by ascending index.
    pub items: Vec<HistoryItem>,
}

/// An entry of a history that passed every check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckedEntry {
    /// Its index in the log.
    pub index: u64,
    /// The entry, decoded. Signed objects in it are authenticated by the log only as logged;
    /// check their signatures with [`LoggedObject::verify`](super::LoggedObject::verify).
    pub entry: LogEntry,
}

/// An entry of a history that failed a check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistoryFailure {
    /// Its position in the history's list.
    pub position: usize,
    /// The index its proof claims.
    pub index: u64,
    /// The first check it failed.
    pub error: LogError,
}

/// The outcome of [`verify_history`]: every entry checked on its own, those that passed and
/// those that failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistoryReport {
    /// The head the history was checked against.
    pub head: SignedTreeHead,
    /// The subject.
    pub subject: PartyId,
    /// The entries that passed, in the history's order.
    pub verified: Vec<CheckedEntry>,
    /// The entries that failed, in the history's order.
    pub failures: Vec<HistoryFailure>,
}

impl HistoryReport {
    /// Whether every entry passed.
    #[must_use]
    pub fn is_clean(&self) -> bool {
        self.failures.is_empty()
    }
}

/// Checks a subject's history against a signed tree head of the log `log_id`, with only the
/// log operator's public key.
///
/// The head's signature is checked first; if it fails, nothing else is, and the error is
/// returned. Then each entry is checked on its own, and every failure is reported:
/// its proof must be for the head's tree size, indices must ascend, the entry's bytes must be
/// included at that index under the head's root, the entry must decode strictly and it must
/// concern the subject. A changed byte in an entry or a proof is caught by the inclusion check.
///
/// What this does not show: that the history is complete. The log keeper could leave an entry
/// out of the list; see `docs/log.md` for how auditors holding all entries close that gap.
///
/// # Errors
///
/// The errors of [`SignedTreeHead::verify`] on `head_bytes`; a failing entry is reported in the
/// [`HistoryReport`], not as an error.
pub fn verify_history(
    history: &AccessHistory,
    head_bytes: &[u8],
    log_id: PartyId,
    operator_key: &VerifyingKey,
) -> Result<HistoryReport, LogError> {
    let head = SignedTreeHead::verify(head_bytes, log_id, operator_key)?;
    Ok(verify_history_against(history, head))
}

/// [`verify_history`] against a head already verified (for instance with
/// [`SignedTreeHead::verify_with_directory`], or the latest head of a
/// [`HeadMonitor`](super::HeadMonitor)).
#[must_use]
pub fn verify_history_against(history: &AccessHistory, head: SignedTreeHead) -> HistoryReport {
    let mut verified = Vec::new();
    let mut failures = Vec::new();
    let mut last: Option<u64> = None;
    for (position, item) in history.items.iter().enumerate() {
        let index = item.index();
        let ordered = last.is_none_or(|l| index > l);
        last = Some(last.map_or(index, |l| l.max(index)));
        let outcome = if ordered {
            check_item(history.subject, item, &head)
        } else {
            Err(LogError::HistoryOrder { index })
        };
        match outcome {
            Ok(entry) => verified.push(CheckedEntry { index, entry }),
            Err(error) => failures.push(HistoryFailure {
                position,
                index,
                error,
            }),
        }
    }
    HistoryReport {
        head,
        subject: history.subject,
        verified,
        failures,
    }
}

fn check_item(
    subject: PartyId,
    item: &HistoryItem,
    head: &SignedTreeHead,
) -> Result<LogEntry, LogError> {
    head.verify_inclusion(&item.entry, &item.proof)?;
    let entry = LogEntry::from_bytes(&item.entry)?;
    if entry.subject() != Some(subject) {
        return Err(LogError::NotAboutSubject {
            index: item.index(),
            subject,
        });
    }
    Ok(entry)
}

/// Where the data of one transfer in a subject's history stands: received on, kept until,
/// deleted on (see [`HistoryReport::retention`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Retention {
    /// The receipt's index in the log.
    pub receipt_index: u64,
    /// The receipt's claims (authenticated by the directory the retention was read with).
    pub receipt: Receipt,
    /// The deletion that counts for it, if one is in the history.
    pub deleted: Option<CountedDeletion>,
}

/// The state of one transfer's data at a time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RetentionState {
    /// The consumer stated it deleted the data at `at`; `late` if after the retention deadline.
    Deleted {
        /// When, as the consumer states it.
        at: Timestamp,
        /// Whether that was after `retain until`.
        late: bool,
    },
    /// Not deleted yet, and the consumer may still keep it.
    NotYet,
    /// Not deleted, and the retention deadline has passed.
    Overdue,
}

impl Retention {
    /// When the data was received: the receipt's issue time.
    #[must_use]
    pub fn received_on(&self) -> Timestamp {
        self.receipt.issued_at()
    }

    /// Until when the consumer may keep it: the receipt's `retain until`.
    #[must_use]
    pub fn kept_until(&self) -> Timestamp {
        self.receipt.retain_until()
    }

    /// The state at `now`: deleted (a deletion stated at or before `now`), else overdue once
    /// `retain until` has passed (`retain until` < `now`, as [`DeletionIndex::overdue_at`]
    /// judges), else not yet.
    #[must_use]
    pub fn state(&self, now: Timestamp) -> RetentionState {
        match self.deleted {
            Some(d) if d.deleted_at <= now => RetentionState::Deleted {
                at: d.deleted_at,
                late: d.deleted_at > self.kept_until(),
            },
            _ if self.kept_until() < now => RetentionState::Overdue,
            _ => RetentionState::NotYet,
        }
    }

    /// The line a person reads: `received on …, kept until …, deleted on …` (or `not deleted
    /// yet`, or `not deleted: overdue`), dates in UTC.
    #[must_use]
    pub fn describe(&self, now: Timestamp) -> String {
        let date = |t: Timestamp| {
            let (y, m, d) = t.date();
            format!("{y:04}-{m:02}-{d:02}")
        };
        let end = match self.state(now) {
            RetentionState::Deleted { at, late: false } => format!("deleted on {}", date(at)),
            RetentionState::Deleted { at, late: true } => {
                format!("deleted on {} (late)", date(at))
            }
            RetentionState::NotYet => "not deleted yet".to_owned(),
            RetentionState::Overdue => "not deleted: overdue".to_owned(),
        };
        format!(
            "received on {}, kept until {}, {end}",
            date(self.received_on()),
            date(self.kept_until())
        )
    }
}

impl HistoryReport {
    /// Per receipt in the verified entries, where its data stands: the receipts whose
    /// provider's signature verifies against `trust`, each with the deletion entry of the
    /// history that counts for it (signed by the receipt's consumer as `trust` shows, and
    /// passing every check of [`DeletionIndex::check`] against the entries before it), by
    /// ascending index.
    ///
    /// ```
    /// use consentry::deletion::Deletion;
    /// use consentry::log::RetentionState;
    /// use consentry::signed::SignedPayload;
    /// use consentry::testing::Scenario;
    ///
    /// let mut s = Scenario::canteen();
    /// let (receipt, _) = s.transfer_and_log();
    /// s.advance_days(3);
    /// let bytes = Deletion::for_receipt(&receipt, s.now, s.now).sign(s.key(s.mairie));
    /// s.log.append_deletion(bytes, &s.directory).unwrap();
    /// let report = s.proven_history(s.parent, &s.sign_head()).unwrap();
    /// let lines = report.retention(&s.directory);
    /// assert!(matches!(lines[0].state(s.now), RetentionState::Deleted { late: false, .. }));
    /// assert!(lines[0].describe(s.now).contains(", deleted on "));
    /// ```
    #[must_use]
    pub fn retention(&self, trust: &dyn Trust) -> Vec<Retention> {
        let mut index = DeletionIndex::new();
        for checked in &self.verified {
            // A deletion that does not count is left out; the history still lists its entry.
            let _ = index.observe(checked.index, &checked.entry, Some(trust));
        }
        index
            .receipts()
            .into_iter()
            .map(|(receipt_index, receipt, deleted)| Retention {
                receipt_index,
                receipt: receipt.clone(),
                deleted,
            })
            .collect()
    }
}
