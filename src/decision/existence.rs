//! Evidence that a grant existed before the provider's ledger first saw it.
//!
//! A grant whose signing key was reported compromised, or whose representation ended, before
//! the ledger first saw it is refused by default: it may have been backdated with a stolen key
//! or by a former representative. An honest grant that simply was not used before can be
//! saved by proof that it existed earlier — its "grant issued" entry in a transfer log, with an
//! inclusion proof under a signed tree head older than the compromise or the end (the way
//! Certificate Transparency timestamps prove a certificate existed).

use super::Reason;
use super::verifier::{Basis, Held, Verifier};
use crate::directory::PartyId;
use crate::ledger::{Ledger, LedgerError};
use crate::log::{InclusionProof, LogEntry, LogError, SignedTreeHead};
use crate::time::Timestamp;
use thiserror::Error;

/// A grant's "grant issued" entry in a transfer log, with its inclusion proof under a signed
/// tree head.
#[derive(Clone, Copy, Debug)]
pub struct ExistenceEvidence<'a> {
    /// The log entry's exact bytes (a `GrantIssued` entry).
    pub entry: &'a [u8],
    /// Its inclusion proof, for the head's tree size.
    pub proof: &'a InclusionProof,
    /// The signed tree head, verified against the directory (the log operator's key at the
    /// head's time).
    pub head: &'a [u8],
}

/// Why evidence of earlier existence was not accepted.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ExistenceRefusal {
    /// The basis is malformed or not validly signed.
    #[error("{0}")]
    Object(Reason),
    /// Only grants are logged as issued; a habilitation must be re-issued.
    #[error("only a grant's existence can be proven from a transfer log")]
    NotAGrant,
    /// The head is from a log the verifier does not trust.
    #[error("the tree head is from log {0}, which is not trusted")]
    UntrustedLog(PartyId),
    /// The head, the entry or the inclusion proof did not verify.
    #[error(transparent)]
    Log(#[from] LogError),
    /// The entry is not the "grant issued" entry of these exact grant bytes.
    #[error("the log entry is not the issue of this grant")]
    OtherObject,
    /// The head claims a time beyond the clock-skew tolerance.
    #[error("the tree head claims a future time ({timestamp})")]
    HeadFromFuture {
        /// The head's time.
        timestamp: Timestamp,
    },
    /// The ledger could not be written.
    #[error(transparent)]
    LedgerUnavailable(LedgerError),
}

impl ExistenceRefusal {
    /// A stable `snake_case` code.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            ExistenceRefusal::Object(reason) => reason.code(),
            ExistenceRefusal::NotAGrant => "not_a_grant",
            ExistenceRefusal::UntrustedLog(_) => "untrusted_log",
            ExistenceRefusal::Log(_) => "log_proof_invalid",
            ExistenceRefusal::OtherObject => "other_object",
            ExistenceRefusal::HeadFromFuture { .. } => "head_from_future",
            ExistenceRefusal::LedgerUnavailable(e) => e.code(),
        }
    }
}

impl<L: Ledger + ?Sized> Verifier<'_, L> {
    /// Checks evidence that `basis` (a grant) existed by the time of a signed tree head of one
    /// of `trusted_logs`, and records that time as the grant's first sighting if it is earlier
    /// than the one kept. Returns the first sighting now kept.
    ///
    /// The head is verified against the directory (its log id must be a party whose key signed
    /// it at its time), the entry must be the `GrantIssued` entry of the grant's exact bytes,
    /// and its inclusion proof must lead to the head's root.
    ///
    /// # Errors
    ///
    /// [`ExistenceRefusal::Object`] if `basis` does not parse or verify,
    /// [`ExistenceRefusal::NotAGrant`] for a habilitation, [`ExistenceRefusal::Log`] if the head,
    /// the inclusion proof or the entry does not verify or parse,
    /// [`ExistenceRefusal::UntrustedLog`] if the head's log is not in `trusted_logs`,
    /// [`ExistenceRefusal::HeadFromFuture`] if its time is beyond the skew tolerance,
    /// [`ExistenceRefusal::OtherObject`] if the entry is not this grant's `GrantIssued` entry,
    /// [`ExistenceRefusal::LedgerUnavailable`] if the ledger could not be written.
    pub fn record_existence(
        &self,
        basis: Basis<'_>,
        evidence: &ExistenceEvidence<'_>,
        trusted_logs: &[PartyId],
        now: Timestamp,
    ) -> Result<Timestamp, ExistenceRefusal> {
        let held = self.hold(basis).map_err(ExistenceRefusal::Object)?;
        let (key, digest) = match &held {
            Held::Grant(g) => (g.ledger_key(), g.digest()),
            Held::Habilitation(_) => return Err(ExistenceRefusal::NotAGrant),
        };
        let head = SignedTreeHead::verify_with_directory(evidence.head, self.directory)?;
        if !trusted_logs.contains(&head.log_id()) {
            return Err(ExistenceRefusal::UntrustedLog(head.log_id()));
        }
        if head.timestamp() > now.plus_secs(self.policy.max_skew_secs) {
            return Err(ExistenceRefusal::HeadFromFuture {
                timestamp: head.timestamp(),
            });
        }
        head.verify_inclusion(evidence.entry, evidence.proof)?;
        match LogEntry::from_bytes(evidence.entry)? {
            LogEntry::GrantIssued(g) if g.digest() == digest => {}
            _ => return Err(ExistenceRefusal::OtherObject),
        }
        self.ledger
            .record_existence(key, digest, head.timestamp())
            .map_err(ExistenceRefusal::LedgerUnavailable)
    }
}
