//! The state a verifier needs between decisions, behind a fallible trait.
//!
//! A ledger holds, per legal basis, its lifecycle (active, paused, revoked) and its usage in
//! the current period; the request ids seen within the freshness window (so replays are
//! caught and memory stays bounded); when it first saw each signed basis; and the decisions
//! made.
//!
//! # Contract for an implementation backed by a database
//!
//! - **Keys.** Basis state is keyed by [`BasisKey`] — (kind, accountable party, id) — and
//!   request ids by [`ReplayKey`] — (consumer, id) — never by a basis id or a request id
//!   alone: ids are chosen by signers and public, and a store keyed by id alone lets anyone who
//!   signs a basis with a victim's id pause, resume, revoke or use up the victim's basis. Only
//!   verified objects produce these keys; store them whole (`to_bytes`). First sightings are
//!   keyed by the basis's [`Digest`]: they are a fact about signed bytes, not about a state slot.
//! - **Fail closed.** Every operation may fail with a [`LedgerError`]. The verifier turns a
//!   failed read or commit into a *deny* (`ledger_unavailable`), and a failed statement into a
//!   statement not applied. An implementation must never report success for a write it did not
//!   make durable, nor guess a state it could not read.
//! - **One read, one commit.** A decision reads once ([`Ledger::observe`]: status, usage,
//!   replay, first sighting, recording the sighting if it is the first) and commits once
//!   ([`Ledger::record_use`]). The read may be slightly stale: it only shapes the reasons of a
//!   denial.
//! - **The commit point.** [`Ledger::record_use`] must check, **atomically with recording**,
//!   that the request's [`ReplayKey`] is unseen, the basis is neither paused nor revoked, and
//!   the period's quota is not exhausted — one transaction (or one conditional write), with
//!   serializable isolation or an equivalent compare-and-set on the usage counter. Two
//!   concurrent decisions on a one-time grant must not both succeed.
//! - **Request ids** are remembered at least until their record's `forget_after`; the verifier
//!   sets it to the request's issue time plus the freshness window **plus the clock-skew
//!   tolerance**, so that a verifier whose clock runs behind another's (within that tolerance)
//!   never finds an id forgotten that it would still judge fresh. Verifiers sharing one ledger
//!   must therefore share one [`Policy`](crate::decision::Policy).
//! - **Lifecycle statements** are applied in the order they arrive (their issue times only
//!   bound their freshness, checked by the verifier). A revocation is final. A statement
//!   already applied (same digest) is refused. A resume issued before the pause in force is
//!   refused: no statement issued before a pause can undo it.
//! - **Quotas count per provider**: each provider keeps its own ledger, so a one-time grant
//!   covering two providers allows one transfer at each.

mod memory;
mod state;

pub use memory::InMemoryLedger;
pub use state::{BASIS_STATE_LEN, BasisState};

use crate::digest::Digest;
use crate::directory::PartyId;
use crate::ids::{BasisId, BasisKey, ReplayKey, RequestId};
use crate::statement::Action;
use crate::time::Timestamp;
use serde::Serialize;
use thiserror::Error;

/// A basis's lifecycle state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "status")]
#[non_exhaustive]
pub enum Status {
    /// In force (subject to its validity window).
    Active,
    /// Suspended since `since`.
    Paused {
        /// When the pause took effect.
        since: Timestamp,
    },
    /// Ended for good at `at`.
    Revoked {
        /// When the revocation took effect.
        at: Timestamp,
    },
}

/// A period in which a basis may be used at most `max_uses` times.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UsageWindow {
    /// First second of the period (the period's identity).
    pub start: Timestamp,
    /// First second after the period.
    pub end: Timestamp,
    /// Most uses in the period.
    pub max_uses: u32,
}

/// The storage behind a ledger failed: nothing was read, or nothing was recorded.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum LedgerError {
    /// The store could not be reached or did not answer (a database down, a connection lost, a
    /// transaction that could not be serialized, a disk full or read-only).
    #[error("the ledger is unavailable: {0}")]
    Unavailable(String),
    /// The stored state failed its own integrity checks.
    #[error("the ledger's stored state is corrupt: {0}")]
    Corrupt(String),
}

impl LedgerError {
    /// A stable `snake_case` code.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            LedgerError::Unavailable(_) => "ledger_unavailable",
            LedgerError::Corrupt(_) => "ledger_corrupt",
        }
    }
}

/// A commit the ledger refused, or could not make.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum CommitError<R> {
    /// The ledger's rules refused it; nothing was recorded.
    #[error("refused: {0:?}")]
    Refused(R),
    /// The storage failed; nothing was recorded.
    #[error(transparent)]
    Storage(#[from] LedgerError),
}

/// What a decision (or a statement) reads from the ledger, in one call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Observation {
    /// The verified basis.
    pub basis: BasisKey,
    /// SHA-256 of its exact signed bytes: the first sighting is recorded under it.
    pub basis_digest: Digest,
    /// The verified request, if there is one (not for a statement).
    pub request: Option<ReplayKey>,
    /// The start of the usage period whose count is wanted, if the basis has a quota.
    pub window_start: Option<Timestamp>,
    /// The time of the decision; recorded as the first sighting if there is none yet.
    pub at: Timestamp,
}

/// The ledger's state for one decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Snapshot {
    /// The basis's lifecycle state.
    pub status: Status,
    /// Uses recorded in the period asked for (`u32::MAX` for a period older than the one the
    /// ledger keeps: it counts as used up).
    pub uses: u32,
    /// Whether the request id was already seen.
    pub replayed: bool,
    /// When the ledger first saw these exact basis bytes (the observation's time if never).
    pub first_seen: Timestamp,
}

/// A use about to be recorded by an *allow*.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UseRecord<'a> {
    /// The basis used.
    pub basis: BasisKey,
    /// The request.
    pub request: ReplayKey,
    /// Until when the request id must be remembered.
    pub forget_after: Timestamp,
    /// The quota that applies, if any (habilitations have none).
    pub window: Option<UsageWindow>,
    /// The decision time.
    pub at: Timestamp,
    /// The transfer log entry of the signed receipt, when the verifier keeps a log
    /// ([`Verifier::with_receipts`](crate::decision::Verifier::with_receipts)): appended in the
    /// same transaction as the use, so the log holds a receipt exactly when the use counts.
    pub log_entry: Option<&'a [u8]>,
}

/// A verified, entitled lifecycle statement about to be applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StatementRecord<'a> {
    /// The basis it is about.
    pub basis: BasisKey,
    /// What it does.
    pub action: Action,
    /// SHA-256 of the statement's exact signed bytes.
    pub statement: Digest,
    /// Its issue time (already checked fresh by the verifier).
    pub issued_at: Timestamp,
    /// When it is applied.
    pub at: Timestamp,
    /// The statement's transfer log entry, when the verifier keeps a log: appended in the
    /// same transaction as the new status, and only if the statement is applied.
    pub log_entry: Option<&'a [u8]>,
}

/// A deletion statement, verified against the directory, about to be checked against the log
/// and appended ([`Ledger::record_deletion`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeletionRecord<'a> {
    /// The statement's claims, authenticated.
    pub deletion: &'a crate::deletion::Deletion,
    /// Its log entry (kind 4).
    pub log_entry: &'a [u8],
}

/// Why [`Ledger::record_use`] refused to record a use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum UseRefusal {
    /// The request id was already seen.
    #[error("request id already used")]
    Replayed,
    /// The basis is paused.
    #[error("the basis is paused")]
    Paused {
        /// Since when.
        since: Timestamp,
    },
    /// The basis is revoked.
    #[error("the basis is revoked")]
    Revoked {
        /// Since when.
        at: Timestamp,
    },
    /// The period's quota is used up.
    #[error("the quota of the period is used up")]
    QuotaExhausted,
}

impl UseRefusal {
    /// A stable code naming the refusal, for matching, logs and bindings.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            UseRefusal::Replayed => "replayed_request",
            UseRefusal::Paused { .. } => "paused",
            UseRefusal::Revoked { .. } => "revoked",
            UseRefusal::QuotaExhausted => "quota_exhausted",
        }
    }
}

/// Why a lifecycle statement was not applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum LifecycleRefusal {
    /// The basis is revoked; revocation is final.
    #[error("the basis was revoked at {at}; revocation is final")]
    AlreadyRevoked {
        /// When.
        at: Timestamp,
    },
    /// This very statement was already applied.
    #[error("this statement was already applied")]
    Duplicate,
    /// A resume issued before the pause in force: it cannot undo a pause issued after it.
    #[error("the resume was issued before the pause in force (issued at {pause_issued_at})")]
    ResumePredatesPause {
        /// Issue time of the pause in force.
        pause_issued_at: Timestamp,
    },
}

impl LifecycleRefusal {
    /// A stable code naming the refusal, for matching, logs and bindings.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            LifecycleRefusal::AlreadyRevoked { .. } => "already_revoked",
            LifecycleRefusal::Duplicate => "duplicate_statement",
            LifecycleRefusal::ResumePredatesPause { .. } => "resume_predates_pause",
        }
    }
}

/// What was decided, as the ledger keeps it: enough to write the decision's log entry.
/// Only the verifier makes one, and every party and id in it comes from verified objects, as in
/// the decision's [`Refusal`](crate::decision::Refusal), from which the denial entry is made
/// ([`Denial::for_decision`](crate::log::Denial::for_decision)).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DecisionRecord {
    pub(crate) request_digest: Digest,
    pub(crate) request: Option<RequestId>,
    pub(crate) basis: Option<BasisId>,
    pub(crate) subject: Option<PartyId>,
    pub(crate) allowed: bool,
    pub(crate) reasons: Vec<&'static str>,
    pub(crate) at: Timestamp,
}

impl DecisionRecord {
    /// SHA-256 of the request bytes received.
    #[must_use]
    pub fn request_digest(&self) -> Digest {
        self.request_digest
    }
    /// The request id, if the request verified.
    #[must_use]
    pub fn request(&self) -> Option<RequestId> {
        self.request
    }
    /// The basis, if it verified.
    #[must_use]
    pub fn basis(&self) -> Option<BasisId> {
        self.basis
    }
    /// The person the decision concerns, only from verified data: the verified request's
    /// subject, else the verified grant's subject; `None` when neither verified.
    #[must_use]
    pub fn subject(&self) -> Option<PartyId> {
        self.subject
    }
    /// Whether it was allowed.
    #[must_use]
    pub fn allowed(&self) -> bool {
        self.allowed
    }
    /// The reason codes of a denial, in order.
    #[must_use]
    pub fn reasons(&self) -> &[&'static str] {
        &self.reasons
    }
    /// When.
    #[must_use]
    pub fn at(&self) -> Timestamp {
        self.at
    }
}

/// The verifier's state store. Implementations must be safe to share between threads, and
/// follow the module's contract.
pub trait Ledger: Send + Sync {
    /// The one read of a decision or statement: the basis's status, the uses in the period
    /// asked for, whether the request id was seen, and the basis bytes' first sighting —
    /// recording `observation.at` as that first sighting if there is none yet.
    ///
    /// # Errors
    ///
    /// [`LedgerError::Unavailable`] if the store could not be read or written,
    /// [`LedgerError::Corrupt`] if what it holds does not decode.
    fn observe(&self, observation: &Observation) -> Result<Snapshot, LedgerError>;
    /// The commit point of an *allow*: atomically checks and records a use, and appends its
    /// receipt's log entry if it has one. On any error nothing is recorded nor appended.
    ///
    /// # Errors
    ///
    /// [`CommitError::Refused`] with every [`UseRefusal`] of [`BasisState::check_use`];
    /// [`CommitError::Storage`] with the [`LedgerError`] if the store failed.
    fn record_use(&self, record: &UseRecord<'_>) -> Result<(), CommitError<Vec<UseRefusal>>>;
    /// Applies a verified, entitled lifecycle statement, appending its log entry if it has one;
    /// returns the new status. On any error nothing is recorded nor appended.
    ///
    /// # Errors
    ///
    /// [`CommitError::Refused`] with the [`LifecycleRefusal`] of [`BasisState::apply`];
    /// [`CommitError::Storage`] with the [`LedgerError`] if the store failed.
    fn record_statement(
        &self,
        record: &StatementRecord<'_>,
    ) -> Result<Status, CommitError<LifecycleRefusal>>;
    /// Records proof that the bytes with digest `basis_digest` of the basis `basis` existed at
    /// `at` (from a transfer log): their first sighting becomes the earlier of the one kept and
    /// `at`. Returns it.
    ///
    /// # Errors
    ///
    /// A [`LedgerError`] if the store failed, as for [`Ledger::observe`].
    fn record_existence(
        &self,
        basis: BasisKey,
        basis_digest: Digest,
        at: Timestamp,
    ) -> Result<Timestamp, LedgerError>;
    /// Keeps a decision for the audit trail, appending `log_entry` (a denial's entry, when the
    /// verifier keeps a log) in the same transaction.
    ///
    /// # Errors
    ///
    /// A [`LedgerError`] if the store failed, as for [`Ledger::observe`]; nothing is then kept.
    fn record_decision(
        &self,
        record: DecisionRecord,
        log_entry: Option<&[u8]>,
    ) -> Result<(), LedgerError>;
    /// Checks a verified deletion statement against the transfer log kept with the ledger
    /// ([`DeletionIndex::check`](crate::log::DeletionIndex::check): the receipt it names is
    /// logged, it is the receipt's consumer's, not dated before it, and no deletion of it is
    /// logged yet) and appends its entry, atomically with the check. On any error nothing is
    /// appended.
    ///
    /// The default refuses: a ledger that keeps no transfer log cannot check a deletion.
    ///
    /// # Errors
    ///
    /// The refusals of [`DeletionIndex::check`](crate::log::DeletionIndex::check);
    /// [`DeletionError::Storage`](crate::deletion::DeletionError::Storage) if the store failed
    /// or keeps no log.
    fn record_deletion(
        &self,
        record: &DeletionRecord<'_>,
    ) -> Result<(), crate::deletion::DeletionError> {
        let _ = record;
        Err(crate::deletion::DeletionError::Storage(
            LedgerError::Unavailable("this ledger keeps no transfer log".into()),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decision::Reason;
    use crate::ids::RequestId;

    /// A refusal at the commit point speaks the decision's vocabulary: the code a binding reads
    /// from the ledger is the code of the reason the verifier then gives (a quota refusal becomes
    /// `one_time_used` or `frequency_exhausted`, by the grant's pattern, so it has its own).
    #[test]
    fn commit_refusals_use_the_reason_codes() {
        let t = Timestamp(5);
        let id = RequestId::from_bytes([1; 16]);
        assert_eq!(
            UseRefusal::Replayed.code(),
            Reason::ReplayedRequest { id }.code()
        );
        assert_eq!(
            UseRefusal::Paused { since: t }.code(),
            Reason::Paused { since: t }.code()
        );
        assert_eq!(
            UseRefusal::Revoked { at: t }.code(),
            Reason::Revoked { at: t }.code()
        );
        assert_eq!(UseRefusal::QuotaExhausted.code(), "quota_exhausted");
        assert_eq!(
            LifecycleRefusal::Duplicate.code(),
            crate::decision::StatementRefusal::Ledger(LifecycleRefusal::Duplicate).code()
        );
    }
}
