//! The receiving side: checking a notification and applying what it carries.

use super::{Carried, Notification};
use crate::cose::{Envelope, ObjectKind};
use crate::decision::{Basis, StatementRefusal, Verifier};
use crate::digest::Digest;
use crate::directory::{DirectoryHistory, PartyId, Trust, UpdateError};
use crate::grant::Grant;
use crate::habilitation::Habilitation;
use crate::ledger::{Ledger, LedgerError, Status};
use crate::signed::{ParseError, Unverified, Verified, VerifyError};
use crate::time::Timestamp;
use std::collections::{BTreeMap, VecDeque};
use thiserror::Error;

/// Why a notification was refused. Nothing was applied, and the stream did not advance.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum NotificationError {
    /// Not a well-formed notification.
    #[error("malformed notification: {0}")]
    Malformed(ParseError),
    /// Not validly signed by the emitter it names (an unknown key, a bad signature, or a key that
    /// may not sign for the emitter at the notification's issue time).
    #[error("the notification is not signed by its emitter: {0}")]
    Forged(VerifyError),
    /// Addressed to another party.
    #[error("the notification is for {recipient}, not for this party")]
    Misaddressed {
        /// The recipient it names.
        recipient: PartyId,
    },
    /// It carries a statement where a directory update was expected, or the reverse.
    #[error("the notification carries a {found}, not a {expected}")]
    WrongCarried {
        /// What the receiving call applies.
        expected: ObjectKind,
        /// What it carries.
        found: ObjectKind,
    },
    /// The emitter of a statement's notification is neither the consumer nor a provider of the
    /// basis the statement names (or the basis is not a grant or habilitation).
    #[error("{emitter} is neither the consumer nor a provider of the basis")]
    EmitterNotConcerned {
        /// The emitter.
        emitter: PartyId,
    },
    /// Not the next of its stream: a notification is missing in between.
    #[error("expected notification {expected} of this emitter, got {found}")]
    OutOfOrder {
        /// The next number of the stream.
        expected: u64,
        /// The notification's.
        found: u64,
    },
    /// The emitter signed two different notifications with one number: evidence to report.
    #[error("the emitter signed a second, different notification {seq}")]
    Fork {
        /// The number signed twice.
        seq: u64,
    },
    /// A number applied so long ago that its bytes are no longer kept to compare: neither
    /// applied again nor judged.
    #[error("notification {seq} is older than the last {} kept", Inbox::KEPT)]
    Stale {
        /// Its number.
        seq: u64,
    },
    /// The ledger could not be read or written: nothing was applied; deliver it again.
    #[error(transparent)]
    Unavailable(LedgerError),
}

impl NotificationError {
    /// A stable code naming the refusal (`notification/…`).
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            NotificationError::Malformed(_) => "notification/malformed",
            NotificationError::Forged(_) => "notification/forged",
            NotificationError::Misaddressed { .. } => "notification/misaddressed",
            NotificationError::WrongCarried { .. } => "notification/wrong_carried",
            NotificationError::EmitterNotConcerned { .. } => "notification/emitter_not_concerned",
            NotificationError::OutOfOrder { .. } => "notification/out_of_order",
            NotificationError::Fork { .. } => "notification/fork",
            NotificationError::Stale { .. } => "notification/stale",
            NotificationError::Unavailable(_) => "notification/ledger_unavailable",
        }
    }

    /// The code of the underlying refusal, for a malformed or forged notification (`envelope/…`,
    /// `cbor/…`, `value/…`, `payload/…`, `signature/…`, `key/…`), else [`NotificationError::code`].
    #[must_use]
    pub fn detail_code(&self) -> &'static str {
        match self {
            NotificationError::Malformed(e) => e.code(),
            NotificationError::Forged(e) => e.code(),
            NotificationError::Unavailable(e) => e.code(),
            other => other.code(),
        }
    }
}

/// What an accepted notification did. In every case the stream advanced: the notification
/// counts as delivered, even when what it carries was not applied (already known, or refused by
/// the rules that judge it as if received directly).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Received {
    /// The carried statement was applied; the basis's new status.
    Applied(Status),
    /// The carried statement was checked as any statement is and not applied (a duplicate of
    /// one received directly, a basis already revoked, a stale statement…).
    StatementRefused(StatementRefusal),
    /// The carried directory update was applied; the directory's new version.
    DirectoryUpdated {
        /// The version number it gave the directory.
        seq: u64,
    },
    /// The carried directory update was not applied (already applied, out of order…).
    UpdateRefused(UpdateError),
    /// This very notification was received already: nothing was done.
    AlreadyApplied,
}

/// The receiving end of one party's notification streams: the last number applied of each
/// emitter, and the digests of the last [`Inbox::KEPT`] notifications of each, to tell a
/// redelivery (ignored) from a fork (refused).
///
/// Each notification is checked in this order (first failure wins): it is well formed
/// (`notification/malformed`); it is signed by its emitter, under the directory's key rule at its
/// issue time (`notification/forged`); it is for this party (`notification/misaddressed`); it
/// carries what the call applies (`notification/wrong_carried`); its number is not one applied
/// already — the same bytes are a redelivery ([`Received::AlreadyApplied`]), other bytes a fork
/// (`notification/fork`), a number too old to compare `notification/stale` — and is the next
/// of its stream (`notification/out_of_order`); for a statement, the emitter is the basis's
/// consumer or one of its providers (`notification/emitter_not_concerned`). Then what it
/// carries is applied with the checks it would have had if received directly.
#[derive(Clone, Debug)]
pub struct Inbox {
    me: PartyId,
    streams: BTreeMap<PartyId, Stream>,
}

#[derive(Clone, Debug, Default)]
struct Stream {
    last: u64,
    /// (seq, digest) of the last notifications applied, oldest first.
    recent: VecDeque<(u64, Digest)>,
}

impl Inbox {
    /// How many notifications of each emitter are kept by digest, to recognise a redelivery.
    pub const KEPT: usize = 256;

    /// The inbox of party `me`, with no stream yet.
    #[must_use]
    pub fn new(me: PartyId) -> Self {
        Inbox {
            me,
            streams: BTreeMap::new(),
        }
    }

    /// The party it receives for.
    #[must_use]
    pub fn party(&self) -> PartyId {
        self.me
    }

    /// The last number applied from `emitter` (0 if none).
    #[must_use]
    pub fn last_seq(&self, emitter: PartyId) -> u64 {
        self.streams.get(&emitter).map_or(0, |s| s.last)
    }

    /// Checks a notification of a statement (see [`Inbox`]) and applies the statement with
    /// `verifier` at `now`, as [`Verifier::apply_statement`] would (the verifier's directory
    /// judges the notification too).
    ///
    /// The statement is judged at `now`, freshness included: an outbox is to be drained within
    /// the verifier's freshness window, and a statement delivered later is refused by the
    /// ledger's rules (`statement_too_old`, in [`Received::StatementRefused`]).
    ///
    /// # Errors
    ///
    /// A [`NotificationError`]: see [`Inbox`]; [`NotificationError::Unavailable`] if the ledger
    /// could not be read or written.
    pub fn receive_statement<L: Ledger + ?Sized>(
        &mut self,
        bytes: &[u8],
        verifier: &Verifier<'_, L>,
        now: Timestamp,
    ) -> Result<Received, NotificationError> {
        let Some(n) = self.check(bytes, verifier.directory, ObjectKind::Statement)? else {
            return Ok(Received::AlreadyApplied);
        };
        let Carried::Statement { statement, basis } = &n.claims().carried else {
            unreachable!("checked by `check`")
        };
        let emitter = n.claims().emitter;
        if !concerns(basis, emitter) {
            return Err(NotificationError::EmitterNotConcerned { emitter });
        }
        let outcome = match verifier.apply_statement(statement, Basis::Signed(basis), now) {
            Ok(status) => Received::Applied(status),
            Err(StatementRefusal::LedgerUnavailable(e)) => {
                return Err(NotificationError::Unavailable(e));
            }
            Err(refusal) => Received::StatementRefused(refusal),
        };
        self.advance(&n);
        Ok(outcome)
    }

    /// Checks a notification of a directory update (see [`Inbox`]) against `history`'s current
    /// directory, then applies the update to `history` with its own checks
    /// ([`DirectoryHistory::apply`]).
    ///
    /// # Errors
    ///
    /// A [`NotificationError`]: see [`Inbox`].
    pub fn receive_update(
        &mut self,
        bytes: &[u8],
        history: &mut DirectoryHistory,
    ) -> Result<Received, NotificationError> {
        let Some(n) = self.check(bytes, history.current(), ObjectKind::DirectoryUpdate)? else {
            return Ok(Received::AlreadyApplied);
        };
        let Carried::DirectoryUpdate(update) = &n.claims().carried else {
            unreachable!("checked by `check`")
        };
        let outcome = match history.apply(update) {
            Ok(applied) => Received::DirectoryUpdated { seq: applied.seq() },
            Err(e) => Received::UpdateRefused(e),
        };
        self.advance(&n);
        Ok(outcome)
    }

    /// The checks every notification goes through; `None` for an exact redelivery.
    fn check(
        &self,
        bytes: &[u8],
        trust: &dyn Trust,
        expected: ObjectKind,
    ) -> Result<Option<Verified<Notification>>, NotificationError> {
        let n = Unverified::<Notification>::parse(bytes)
            .map_err(NotificationError::Malformed)?
            .verify(trust)
            .map_err(NotificationError::Forged)?;
        let claims = n.claims();
        if claims.recipient != self.me {
            return Err(NotificationError::Misaddressed {
                recipient: claims.recipient,
            });
        }
        let found = claims.carried.kind();
        if found != expected {
            return Err(NotificationError::WrongCarried { expected, found });
        }
        let stream = self.streams.get(&claims.emitter);
        let last = stream.map_or(0, |s| s.last);
        if claims.seq <= last {
            let kept = stream.and_then(|s| s.recent.iter().find(|(seq, _)| *seq == claims.seq));
            return match kept {
                Some((_, digest)) if *digest == n.digest() => Ok(None),
                Some(_) => Err(NotificationError::Fork { seq: claims.seq }),
                None => Err(NotificationError::Stale { seq: claims.seq }),
            };
        }
        if claims.seq != last + 1 {
            return Err(NotificationError::OutOfOrder {
                expected: last + 1,
                found: claims.seq,
            });
        }
        Ok(Some(n))
    }

    fn advance(&mut self, n: &Verified<Notification>) {
        let stream = self.streams.entry(n.claims().emitter).or_default();
        stream.last = n.claims().seq;
        stream.recent.push_back((n.claims().seq, n.digest()));
        if stream.recent.len() > Self::KEPT {
            stream.recent.pop_front();
        }
    }
}

/// Whether `emitter` is the consumer or a provider of the basis in `basis` (read, not verified:
/// the statement's application verifies it).
fn concerns(basis: &[u8], emitter: PartyId) -> bool {
    let kind = Envelope::parse(basis).map(|e| e.kind());
    match kind {
        Ok(ObjectKind::Grant) => Unverified::<Grant>::parse(basis).is_ok_and(|g| {
            let g = g.claims();
            g.consumer() == emitter || g.scope().entries().iter().any(|e| e.provider == emitter)
        }),
        Ok(ObjectKind::Habilitation) => Unverified::<Habilitation>::parse(basis).is_ok_and(|h| {
            let h = h.claims();
            h.consumer() == emitter || h.scope().entries().iter().any(|e| e.provider == emitter)
        }),
        _ => false,
    }
}
