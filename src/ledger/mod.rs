//! The state a verifier needs between decisions, behind a trait.
//!
//! A ledger holds, per legal basis, its lifecycle (active, paused, revoked) and its usage in
//! the current period; the request ids seen within the freshness window (so replays are
//! caught and memory stays bounded); and the decisions made.
//!
//! # Contract for an implementation backed by a database
//!
//! - [`Ledger::record_use`] is the commit point of an *allow*: it must check, **atomically with
//!   recording**, that the request id is unseen, the basis is neither paused nor revoked, and
//!   the period's quota is not exhausted — one transaction (or one conditional write), with
//!   serializable isolation or an equivalent compare-and-set on the usage counter. The verifier
//!   returns *allow* only after it succeeded; two concurrent decisions on a one-time grant must
//!   not both succeed.
//! - A request id must be remembered at least until its `forget_after` time; it may be
//!   forgotten after.
//! - Lifecycle statements are applied in the order received; a revocation is final: no later
//!   statement changes a revoked basis. A statement already applied (same digest) or issued
//!   before the latest applied one is refused.
//! - Reads ([`Ledger::status`], [`Ledger::usage`], [`Ledger::seen`]) may be slightly stale:
//!   they only shape the reasons of a denial; the atomic [`Ledger::record_use`] decides.

mod memory;

pub use memory::InMemoryLedger;

use crate::digest::Digest;
use crate::ids::{BasisId, RequestId};
use crate::statement::Action;
use crate::time::Timestamp;
use serde::Serialize;
use thiserror::Error;

/// A basis's lifecycle state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "status")]
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

/// A use about to be recorded by an *allow*.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UseRecord {
    /// The basis used.
    pub basis: BasisId,
    /// The request.
    pub request: RequestId,
    /// Until when the request id must be remembered.
    pub forget_after: Timestamp,
    /// The quota that applies, if any (habilitations have none).
    pub window: Option<UsageWindow>,
    /// The decision time.
    pub at: Timestamp,
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
    /// The statement was issued before the latest one applied to this basis.
    #[error("the statement is older than the latest one applied ({latest})")]
    OutOfOrder {
        /// Issue time of the latest statement applied.
        latest: Timestamp,
    },
}

/// What was decided, as the ledger keeps it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DecisionRecord {
    /// The request (if it could be read).
    pub request: Option<RequestId>,
    /// The basis (if it could be read).
    pub basis: Option<BasisId>,
    /// Whether it was allowed.
    pub allowed: bool,
    /// The reason codes of a denial, in order.
    pub reasons: Vec<&'static str>,
    /// When.
    pub at: Timestamp,
}

/// The verifier's state store. Implementations must be safe to share between threads.
pub trait Ledger: Send + Sync {
    /// The basis's lifecycle state now.
    fn status(&self, basis: &BasisId) -> Status;
    /// How many uses were recorded in the period starting at `window_start`.
    fn usage(&self, basis: &BasisId, window_start: Timestamp) -> u32;
    /// Whether the request id was seen (and not yet forgotten).
    fn seen(&self, request: &RequestId) -> bool;
    /// Atomically checks and records a use (see the module's contract).
    fn record_use(&self, record: &UseRecord) -> Result<(), Vec<UseRefusal>>;
    /// Applies a verified, entitled lifecycle statement; returns the new status.
    fn record_statement(
        &self,
        basis: BasisId,
        action: Action,
        statement: Digest,
        issued_at: Timestamp,
        at: Timestamp,
    ) -> Result<Status, LifecycleRefusal>;
    /// Keeps a decision for the audit trail.
    fn record_decision(&self, record: DecisionRecord);
}
