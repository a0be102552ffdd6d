//! Applying pause, resume and revoke statements.

use super::verifier::{Basis, Held, Verifier, verified};
use super::{Reason, Subject};
use crate::directory::{PartyId, RepresentationKind, Role};
use crate::ledger::{Ledger, LifecycleRefusal, Status};
use crate::statement::Statement;
use crate::time::Timestamp;
use thiserror::Error;

/// Why a lifecycle statement was not applied.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum StatementRefusal {
    /// The statement or its basis is malformed, or not validly signed.
    #[error("{0}")]
    Object(Reason),
    /// The statement names another basis.
    #[error("the statement is about another basis")]
    BasisMismatch,
    /// The statement's hash does not match the basis's exact bytes.
    #[error("the statement's hash does not match the basis's exact bytes")]
    BasisHashMismatch,
    /// The signer may not act for the subject (or is not the habilitation's authority).
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
    /// The ledger refused it (revoked already, duplicate, out of order).
    #[error(transparent)]
    Ledger(#[from] LifecycleRefusal),
}

impl StatementRefusal {
    /// A stable snake_case code for logs, JSON and bindings (for a refused object, the code of
    /// its [`Reason`]).
    pub fn code(&self) -> &'static str {
        match self {
            StatementRefusal::Object(reason) => reason.code(),
            StatementRefusal::BasisMismatch => "basis_mismatch",
            StatementRefusal::BasisHashMismatch => "basis_hash_mismatch",
            StatementRefusal::NotEntitled { .. } => "signer_not_entitled",
            StatementRefusal::FromFuture { .. } => "statement_from_future",
            StatementRefusal::Ledger(LifecycleRefusal::AlreadyRevoked { .. }) => "already_revoked",
            StatementRefusal::Ledger(LifecycleRefusal::Duplicate) => "duplicate_statement",
            StatementRefusal::Ledger(LifecycleRefusal::OutOfOrder { .. }) => {
                "statement_out_of_order"
            }
        }
    }
}

impl<L: Ledger + ?Sized> Verifier<'_, L> {
    /// Verifies a lifecycle statement about `basis` and applies it to the ledger at `now`.
    ///
    /// Entitled signers: for a grant, the subject (always: withdrawal is as easy as granting),
    /// or whoever represents the subject at the statement's issue time (a consent manager with
    /// its role and a mandate, a legal representative); for a habilitation, its authority.
    pub fn apply_statement(
        &self,
        statement: &[u8],
        basis: Basis<'_>,
        now: Timestamp,
    ) -> Result<Status, StatementRefusal> {
        let held = self.hold(basis).map_err(StatementRefusal::Object)?;
        let st = verified::<Statement>(statement, Subject::Statement, self.directory)
            .map_err(StatementRefusal::Object)?;
        let s = st.claims();
        let view = held.view();
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
        if !self.may_state(&held, s.issued_by, s.issued_at) {
            return Err(StatementRefusal::NotEntitled {
                signer: s.issued_by,
            });
        }
        Ok(self
            .ledger
            .record_statement(view.id, s.action, st.digest(), s.issued_at, now)?)
    }

    fn may_state(&self, held: &Held<'_>, signer: PartyId, at: Timestamp) -> bool {
        let has = |role| {
            self.directory
                .party(&signer)
                .is_some_and(|p| p.has_role(role))
        };
        match held {
            Held::Habilitation(h) => signer == h.claims().authority() && has(Role::Authority),
            Held::Grant(g) => {
                let subject = g.claims().subject();
                if signer == subject {
                    return has(Role::Subject);
                }
                match self.directory.representation(signer, subject, at) {
                    Some(r) if r.kind == RepresentationKind::Mandate => has(Role::ConsentManager),
                    Some(_) => true,
                    None => false,
                }
            }
        }
    }
}
