//! Applying pause, resume and revoke statements.

use super::verifier::{Basis, Held, Verifier, verified};
use super::{Reason, Subject};
use crate::directory::{PartyId, RepresentationKind, Role};
use crate::grant::Grant;
use crate::ledger::{
    CommitError, Ledger, LedgerError, LifecycleRefusal, Observation, StatementRecord, Status,
};
use crate::log::{LogEntry, LoggedObject};
use crate::notify::{Notices, Notifier, NotifyingLedger, Queued};
use crate::statement::Statement;
use crate::time::Timestamp;
use thiserror::Error;

/// Why a lifecycle statement was not applied.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum StatementRefusal {
    /// The statement or its basis is malformed, not validly signed, or (the basis) dated
    /// beyond the clock-skew tolerance.
    #[error("{0}")]
    Object(Reason),
    /// The statement names another basis.
    #[error("the statement is about another basis")]
    BasisMismatch,
    /// The statement's hash does not match the basis's exact bytes.
    #[error("the statement's hash does not match the basis's exact bytes")]
    BasisHashMismatch,
    /// The signer may not act for the subject (or is not the habilitation's authority), at the
    /// statement's issue time or now.
    #[error("{signer} may not issue statements about this basis")]
    NotEntitled {
        /// Who signed.
        signer: PartyId,
    },
    /// The statement claims an issue time beyond the clock-skew tolerance.
    #[error("the statement claims a future issue time ({issued_at})")]
    FromFuture {
        /// Its issue time.
        issued_at: Timestamp,
    },
    /// The statement is older than the freshness window: statements are applied when they
    /// arrive, and a stale one (a stolen key, a former representative) is refused.
    #[error("the statement, issued at {issued_at}, is too old")]
    TooOld {
        /// Its issue time.
        issued_at: Timestamp,
    },
    /// The ledger refused it (revoked already, duplicate, a resume older than the pause).
    #[error(transparent)]
    Ledger(#[from] LifecycleRefusal),
    /// The ledger could not be read or written: the statement was not applied.
    #[error(transparent)]
    LedgerUnavailable(LedgerError),
}

impl StatementRefusal {
    /// A stable `snake_case` code for logs, JSON and bindings (for a refused object, the code of
    /// its [`Reason`]).
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            StatementRefusal::Object(reason) => reason.code(),
            StatementRefusal::BasisMismatch => "basis_mismatch",
            StatementRefusal::BasisHashMismatch => "basis_hash_mismatch",
            StatementRefusal::NotEntitled { .. } => "signer_not_entitled",
            StatementRefusal::FromFuture { .. } => "statement_from_future",
            StatementRefusal::TooOld { .. } => "statement_too_old",
            StatementRefusal::Ledger(refusal) => refusal.code(),
            StatementRefusal::LedgerUnavailable(e) => e.code(),
        }
    }
}

impl From<CommitError<LifecycleRefusal>> for StatementRefusal {
    fn from(e: CommitError<LifecycleRefusal>) -> Self {
        match e {
            CommitError::Refused(r) => StatementRefusal::Ledger(r),
            CommitError::Storage(e) => StatementRefusal::LedgerUnavailable(e),
        }
    }
}

impl<L: Ledger + ?Sized> Verifier<'_, L> {
    /// Verifies a lifecycle statement about `basis` and applies it to the ledger at `now`.
    ///
    /// Entitled signers: for a grant, the subject (always: withdrawal is as easy as granting),
    /// or whoever represents the subject (a consent manager with its role and a mandate, a
    /// legal representative) both at the statement's issue time and now; for a habilitation,
    /// its authority. The statement must be fresh: issued within the freshness window and not
    /// beyond the clock-skew tolerance. Statements take effect in the order they are applied;
    /// a revocation is final, and a resume issued before the pause in force is refused.
    ///
    /// # Errors
    ///
    /// [`StatementRefusal::Object`] if the statement or its basis does not parse or verify, or the
    /// basis is dated beyond the skew tolerance; [`StatementRefusal::BasisMismatch`] or
    /// [`StatementRefusal::BasisHashMismatch`] if the statement names another basis or other bytes;
    /// [`StatementRefusal::FromFuture`] or [`StatementRefusal::TooOld`] if it is not fresh;
    /// [`StatementRefusal::NotEntitled`] if its signer may not make it;
    /// [`StatementRefusal::Ledger`] if the ledger refuses the transition;
    /// [`StatementRefusal::LedgerUnavailable`] if the ledger could not be read or written.
    pub fn apply_statement(
        &self,
        statement: &[u8],
        basis: Basis<'_>,
        now: Timestamp,
    ) -> Result<Status, StatementRefusal> {
        self.apply_with(statement, basis, now, |record, _| {
            self.ledger.record_statement(record)
        })
    }

    /// [`Verifier::apply_statement`]'s checks, then `commit` with the record to apply and the
    /// verified basis.
    fn apply_with<R>(
        &self,
        statement: &[u8],
        basis: Basis<'_>,
        now: Timestamp,
        commit: impl FnOnce(&StatementRecord<'_>, &Held<'_>) -> Result<R, CommitError<LifecycleRefusal>>,
    ) -> Result<R, StatementRefusal> {
        let held = self.hold(basis).map_err(StatementRefusal::Object)?;
        let view = held.view();
        // A statement that verified its basis is a sighting of the basis, like a decision.
        self.ledger
            .observe(&Observation {
                basis: view.key,
                basis_digest: view.digest,
                request: None,
                window_start: None,
                at: now,
            })
            .map_err(StatementRefusal::LedgerUnavailable)?;
        if let Some(reason) = self.basis_from_future(&view, now) {
            return Err(StatementRefusal::Object(reason));
        }
        let st = verified::<Statement>(statement, Subject::Statement, self.directory, self.crypto)
            .map_err(StatementRefusal::Object)?;
        let s = st.claims();
        if s.basis != view.id {
            return Err(StatementRefusal::BasisMismatch);
        }
        if s.basis_digest != view.digest {
            return Err(StatementRefusal::BasisHashMismatch);
        }
        if s.issued_at > now.plus_secs(self.policy.max_skew_secs) {
            return Err(StatementRefusal::FromFuture {
                issued_at: s.issued_at,
            });
        }
        if now > s.issued_at.plus_secs(self.policy.max_request_age_secs) {
            return Err(StatementRefusal::TooOld {
                issued_at: s.issued_at,
            });
        }
        if !self.may_state(&held, s.issued_by, s.issued_at)
            || !self.may_state(&held, s.issued_by, now)
        {
            return Err(StatementRefusal::NotEntitled {
                signer: s.issued_by,
            });
        }
        let entry = self.receipts.map(|_| {
            let subject = view.grant.map(Grant::subject);
            let logged = LoggedObject::from_parts(statement.to_vec(), s.clone());
            LogEntry::verified_statement(logged, subject).to_bytes()
        });
        Ok(commit(
            &StatementRecord {
                basis: view.key,
                action: s.action,
                statement: st.digest(),
                issued_at: s.issued_at,
                at: now,
                log_entry: entry.as_deref(),
            },
            &held,
        )?)
    }

    fn may_state(&self, held: &Held<'_>, signer: PartyId, at: Timestamp) -> bool {
        let has = |role| self.directory.has_role(signer, role, at);
        match held {
            Held::Habilitation(h) => signer == h.claims().authority() && has(Role::Authority),
            Held::Grant(g) => {
                let g = g.claims();
                let subject = g.subject();
                if signer == subject {
                    return has(Role::Subject);
                }
                let may_act =
                    |kind| kind != RepresentationKind::Mandate || has(Role::ConsentManager);
                if let Some(r) = self.directory.representation(signer, subject, at) {
                    return may_act(r.kind);
                }
                // A party of the grant's chain, through the links from its place to the
                // subject, each backed at `at` (a mandate only as the chain's first link).
                let Some(from) = g.chain().iter().position(|p| *p == signer) else {
                    return false;
                };
                g.links()
                    .enumerate()
                    .skip(from)
                    .all(|(i, (representative, represented))| {
                        self.directory
                            .link(representative, represented, at, i == 0)
                            .is_some_and(|r| may_act(r.kind))
                    })
            }
        }
    }
}

impl<L: NotifyingLedger + ?Sized> Verifier<'_, L> {
    /// As [`Verifier::apply_statement`] for the signed `basis`, and, in the same ledger
    /// transaction, queues a notification of it for the basis's consumer and every provider of
    /// its scope but `notifier`'s emitter (see [`Notices::for_statement`]), each numbered in
    /// its (emitter, recipient) stream, signed by `notifier` and issued at `now`. Returns the
    /// new status and the notifications queued; on any refusal nothing is queued.
    ///
    /// # Errors
    ///
    /// As [`Verifier::apply_statement`].
    pub fn apply_statement_notifying(
        &self,
        statement: &[u8],
        basis: &[u8],
        now: Timestamp,
        notifier: &Notifier<'_>,
    ) -> Result<(Status, Vec<Queued>), StatementRefusal> {
        self.apply_with(statement, Basis::Signed(basis), now, |record, held| {
            let (consumer, scope) = match held {
                Held::Grant(g) => (g.claims().consumer(), g.claims().scope()),
                Held::Habilitation(h) => (h.claims().consumer(), h.claims().scope()),
            };
            let notices =
                Notices::for_statement(notifier.emitter, consumer, scope, statement, basis, now);
            self.ledger
                .record_statement_notifying(record, notifier, &notices)
        })
    }
}
