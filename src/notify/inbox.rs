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
use std::collections::{BTreeMap, BTreeSet, VecDeque};
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
///
/// The inbox lives in memory. A service saves what it holds of each stream ([`StreamState`],
/// from [`Inbox::take_changed`]) after each reception, and gives the states back to a new inbox
/// with [`Inbox::resume`] when it restarts: without them, a restarted inbox would expect
/// notification 1 of every stream and refuse the next one as `notification/out_of_order`.
#[derive(Clone, Debug)]
pub struct Inbox {
    me: PartyId,
    streams: BTreeMap<PartyId, Stream>,
    /// The emitters whose stream advanced since the last [`Inbox::take_changed`].
    changed: BTreeSet<PartyId>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Stream {
    last: u64,
    /// The digests of notifications `last - recent.len() + 1 ..= last`, oldest first.
    recent: VecDeque<Digest>,
}

impl Stream {
    /// The digest kept of notification `seq`, if it is still kept (and not past `last`).
    fn digest_of(&self, seq: u64) -> Option<&Digest> {
        // The last notification is at the back: 0 steps back.
        let back = usize::try_from(self.last.checked_sub(seq)?).ok()?;
        let i = self.recent.len().checked_sub(back)?.checked_sub(1)?;
        self.recent.get(i)
    }
}

/// What an inbox keeps of one emitter's stream, to save between runs: the last number applied
/// and the digests of the last [`Inbox::KEPT`] notifications (all of them, if fewer).
///
/// Its bytes ([`StreamState::to_bytes`]) are the emitter's 16 bytes, the last number (8 bytes,
/// big-endian), then the digests (32 bytes each), oldest first: exactly `min(last,` [`Inbox::KEPT`]`)`
/// of them, so that a state's length follows from its first 24 bytes. They are local state, not
/// exchanged and not signed: a service keeps them where it keeps its ledger, keyed by its own
/// party and the emitter.
///
/// ```
/// use consentry::directory::PartyId;
/// use consentry::ledger::LedgerError;
/// use consentry::notify::StreamState;
///
/// // The state of a stream of one notification: 24 bytes of header, one digest.
/// let mut bytes = vec![7u8; 16];
/// bytes.extend(1u64.to_be_bytes());
/// bytes.extend([9u8; 32]);
/// let state = StreamState::from_bytes(&bytes)?;
/// assert_eq!((state.emitter(), state.last()), (PartyId::from_bytes([7; 16]), 1));
/// assert_eq!(state.to_bytes(), bytes);
/// // A digest missing, or one too many, is refused.
/// assert!(StreamState::from_bytes(&bytes[..bytes.len() - 1]).is_err());
/// # Ok::<(), LedgerError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamState {
    emitter: PartyId,
    stream: Stream,
}

impl StreamState {
    /// The bytes before the digests: the emitter and the last number.
    const HEADER: usize = 16 + 8;

    /// The party that emits the stream.
    #[must_use]
    pub fn emitter(&self) -> PartyId {
        self.emitter
    }

    /// The last number applied of the stream (at least 1).
    #[must_use]
    pub fn last(&self) -> u64 {
        self.stream.last
    }

    /// The state's bytes (see [`StreamState`]).
    #[must_use]
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(Self::HEADER + 32 * self.stream.recent.len());
        out.extend_from_slice(self.emitter.as_bytes());
        out.extend_from_slice(&self.stream.last.to_be_bytes());
        for d in &self.stream.recent {
            out.extend_from_slice(d.as_bytes());
        }
        out
    }

    /// Reads [`StreamState::to_bytes`] back, refusing any other bytes.
    ///
    /// # Errors
    ///
    /// [`LedgerError::Corrupt`] for bytes that [`StreamState::to_bytes`] does not write: fewer
    /// than 24, a last number of 0, or not exactly `min(last,` [`Inbox::KEPT`]`)` digests after
    /// the header.
    pub fn from_bytes(bytes: &[u8]) -> Result<StreamState, LedgerError> {
        let corrupt = |what: String| LedgerError::Corrupt(format!("inbox stream state: {what}"));
        let (header, digests) = bytes
            .split_at_checked(Self::HEADER)
            .ok_or_else(|| corrupt(format!("{} bytes, fewer than 24", bytes.len())))?;
        let (mut emitter, mut last) = ([0; 16], [0; 8]);
        emitter.copy_from_slice(&header[..16]);
        last.copy_from_slice(&header[16..]);
        let (emitter, last) = (PartyId::from_bytes(emitter), u64::from_be_bytes(last));
        if last == 0 {
            return Err(corrupt("a stream with no notification".into()));
        }
        let kept = last.min(Inbox::KEPT as u64);
        if digests.len() as u64 != 32 * kept {
            return Err(corrupt(format!(
                "{} bytes of digests, not {} ({kept} kept)",
                digests.len(),
                32 * kept
            )));
        }
        let recent = digests
            .chunks_exact(32)
            .filter_map(Digest::from_slice)
            .collect();
        Ok(StreamState {
            emitter,
            stream: Stream { last, recent },
        })
    }
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
            changed: BTreeSet::new(),
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

    /// The state of every stream that advanced since the last call (or since the inbox was made
    /// or resumed), by emitter, and forgets that they did: what to save after a reception. A
    /// reception that changed nothing (refused, or an exact redelivery) adds nothing.
    ///
    /// Save the states after the reception that changed them returned, not before: if the
    /// service stops in between, the notification is delivered again to an inbox resumed one
    /// step behind, and what it carries is refused as already applied (a duplicate statement,
    /// an update already in the history) while the stream advances.
    pub fn take_changed(&mut self) -> Vec<StreamState> {
        std::mem::take(&mut self.changed)
            .into_iter()
            .filter_map(|emitter| self.stream(emitter))
            .collect()
    }

    /// The state of `emitter`'s stream, if anything was received from it.
    #[must_use]
    pub fn stream(&self, emitter: PartyId) -> Option<StreamState> {
        self.streams.get(&emitter).map(|stream| StreamState {
            emitter,
            stream: stream.clone(),
        })
    }

    /// Takes back a stream's state saved earlier (after a restart), replacing what the inbox
    /// holds of its emitter.
    pub fn resume(&mut self, state: StreamState) {
        self.changed.remove(&state.emitter);
        self.streams.insert(state.emitter, state.stream);
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
            let kept = stream.and_then(|s| s.digest_of(claims.seq));
            return match kept {
                Some(digest) if *digest == n.digest() => Ok(None),
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
        let emitter = n.claims().emitter;
        let stream = self.streams.entry(emitter).or_default();
        stream.last = n.claims().seq;
        stream.recent.push_back(n.digest());
        if stream.recent.len() > Self::KEPT {
            stream.recent.pop_front();
        }
        self.changed.insert(emitter);
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A state as an inbox makes it: `min(last, KEPT)` digests.
    fn state() -> impl Strategy<Value = StreamState> {
        (
            any::<[u8; 16]>(),
            prop_oneof![
                1u64..=300,
                Just(u64::MAX),
                any::<u64>().prop_map(|n| n.max(1))
            ],
            any::<[u8; 32]>(),
        )
            .prop_map(|(emitter, last, seed)| {
                let kept = last.min(Inbox::KEPT as u64);
                StreamState {
                    emitter: PartyId::from_bytes(emitter),
                    stream: Stream {
                        last,
                        recent: (0..kept)
                            .map(|i| Digest::of_parts(&[&seed, &i.to_be_bytes()]))
                            .collect(),
                    },
                }
            })
    }

    fn corrupt(bytes: &[u8]) -> String {
        match StreamState::from_bytes(bytes) {
            Err(LedgerError::Corrupt(m)) => m,
            other => panic!("expected corrupt, got {other:?}"),
        }
    }

    proptest! {
        /// Every state round-trips through its bytes, whose length follows from the header.
        #[test]
        fn bytes_round_trip(s in state()) {
            let bytes = s.to_bytes();
            prop_assert_eq!(bytes.len() as u64, 24 + 32 * s.last().min(Inbox::KEPT as u64));
            prop_assert_eq!(StreamState::from_bytes(&bytes), Ok(s));
        }

        /// Any one byte changed, cut or added is refused as corrupt or read as another state
        /// that writes the same bytes: never a silent misreading.
        #[test]
        fn changed_bytes_never_misread(s in state(), at in any::<prop::sample::Index>(), x in 1u8.., cut in any::<bool>()) {
            let mut bytes = s.to_bytes();
            let i = at.index(bytes.len());
            if cut {
                bytes.truncate(i);
            } else {
                bytes[i] ^= x;
            }
            match StreamState::from_bytes(&bytes) {
                Ok(read) => prop_assert_eq!(read.to_bytes(), bytes),
                Err(e) => prop_assert_eq!(e.code(), "ledger_corrupt"),
            }
        }

        /// A header and some digests' worth of bytes are read exactly when the rule holds (a
        /// last number of at least 1, `min(last, KEPT)` whole digests), and then written back
        /// the same; any length is refused or read without a panic.
        #[test]
        fn bytes_are_read_exactly_when_shaped(
            last in prop_oneof![0u64..=300, any::<u64>()],
            delta in prop::sample::select(vec![-33i64, -32, -1, 0, 0, 0, 1, 32]),
            fill in any::<u8>(),
        ) {
            let want = 32 * i64::try_from(last.min(256)).unwrap_or(256);
            let len = usize::try_from(want + delta).unwrap_or(0);
            let mut bytes = vec![fill; 16];
            bytes.extend(last.to_be_bytes());
            bytes.extend(vec![fill; len]);
            let shaped = last >= 1 && delta == 0;
            match StreamState::from_bytes(&bytes) {
                Ok(read) => {
                    prop_assert!(shaped);
                    prop_assert_eq!(read.to_bytes(), bytes);
                }
                Err(e) => {
                    prop_assert!(!shaped);
                    prop_assert_eq!(e.code(), "ledger_corrupt");
                }
            }
        }
    }

    #[test]
    fn what_to_bytes_does_not_write_is_corrupt() {
        let header = |last: u64| {
            let mut b = vec![1u8; 16];
            b.extend(last.to_be_bytes());
            b
        };
        assert_eq!(
            corrupt(&[0; 23]),
            "inbox stream state: 23 bytes, fewer than 24"
        );
        assert_eq!(
            corrupt(&header(0)),
            "inbox stream state: a stream with no notification"
        );
        assert_eq!(
            corrupt(&header(1)),
            "inbox stream state: 0 bytes of digests, not 32 (1 kept)"
        );
        let mut two = header(2);
        two.extend([0; 32 * 2 + 1]);
        assert_eq!(
            corrupt(&two),
            "inbox stream state: 65 bytes of digests, not 64 (2 kept)"
        );
        let mut long = header(1000);
        long.extend(vec![0; 32 * 257]);
        assert_eq!(
            corrupt(&long),
            "inbox stream state: 8224 bytes of digests, not 8192 (256 kept)"
        );
        long.truncate(24 + 32 * 256);
        assert_eq!(StreamState::from_bytes(&long).map(|s| s.last()), Ok(1000));
    }

    #[test]
    fn a_digest_is_found_at_its_place_and_never_past_the_last() {
        let stream = Stream {
            last: 10,
            recent: (8..=10u64).map(|i| Digest::of(&i.to_be_bytes())).collect(),
        };
        for seq in 8..=10u64 {
            assert_eq!(stream.digest_of(seq), Some(&Digest::of(&seq.to_be_bytes())));
        }
        assert_eq!(stream.digest_of(7), None);
        assert_eq!(stream.digest_of(0), None);
        assert_eq!(stream.digest_of(11), None);
        assert_eq!(Stream::default().digest_of(0), None);
    }
}
