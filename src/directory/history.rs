//! The directory's history: a signed first version, then signed updates applied in order, each
//! version kept so that a decision, and later a check of an old log entry, use the state that
//! held at the time in question.

use super::update::{Change, DirectorySnapshot, DirectoryUpdate};
use super::{Directory, DirectoryError};
use crate::cbor::Limits;
use crate::cose::{Envelope, ObjectKind};
use crate::digest::Digest;
use crate::keys::{KeyId, VerifyingKey};
use crate::signed::ParseError;
use crate::time::Timestamp;
use std::borrow::Cow;
use thiserror::Error;

/// Why a signed directory or an update was refused, or a past state cannot be given.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum UpdateError {
    /// Not a well-formed signed directory or update.
    #[error(transparent)]
    Parse(#[from] ParseError),
    /// Signed with another key than the operator's current one.
    #[error("signed with key {found}, not the operator's key {expected}")]
    NotOperatorKey {
        /// The key id the envelope names.
        found: KeyId,
        /// The operator's current key id.
        expected: KeyId,
    },
    /// The signature does not verify with the operator's key.
    #[error("the operator's signature does not verify")]
    BadSignature,
    /// This very update was applied already: nothing to do (a redelivery).
    #[error("update {seq} was applied already")]
    AlreadyApplied {
        /// Its version number.
        seq: u64,
    },
    /// The operator signed two different updates with the same version number: evidence that
    /// it shows different directories to different services.
    #[error("the operator signed a second, different update {seq}")]
    Fork {
        /// The version number signed twice.
        seq: u64,
    },
    /// Not the next version: an update is missing in between, or it precedes the history held.
    #[error("expected update {expected}, got update {found}")]
    OutOfOrder {
        /// The next version number.
        expected: u64,
        /// The update's.
        found: u64,
    },
    /// The update does not follow the current version (its `previous` digest differs).
    #[error("the update does not follow version {seq}")]
    WrongPrevious {
        /// The current version number.
        seq: u64,
    },
    /// The update was issued before the current version.
    #[error("issued at {issued_at}, before the current version's {current}")]
    TimeGoesBack {
        /// The current version's issue time.
        current: Timestamp,
        /// The update's.
        issued_at: Timestamp,
    },
    /// One of the update's changes breaks a rule; nothing of the update was applied.
    #[error("change {index}: {fault}")]
    Change {
        /// Its position in the update, from 0.
        index: usize,
        /// What is wrong with it.
        fault: ChangeFault,
    },
    /// The signed directory's content is not a valid directory.
    #[error(transparent)]
    Directory(DirectoryError),
    /// The history held does not reach back to the time asked for.
    #[error("the history held starts at {earliest}, after {at}")]
    BeforeHistory {
        /// The time asked for.
        at: Timestamp,
        /// The earliest time the history answers for.
        earliest: Timestamp,
    },
}

/// Why one change of an update was refused.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ChangeFault {
    /// A key or representation would take effect before the update that adds it was issued.
    #[error("it would take effect at {starts}, before the update's issue time {issued_at}")]
    Backdated {
        /// When it would take effect.
        starts: Timestamp,
        /// The update's issue time.
        issued_at: Timestamp,
    },
    /// A key's window or a representation would end before the update that ends it was issued
    /// (a compromise is reported with [`Change::ReportCompromise`] instead).
    #[error("it would end at {at}, before the update's issue time {issued_at}")]
    RetroactiveEnd {
        /// The end asked for.
        at: Timestamp,
        /// The update's issue time.
        issued_at: Timestamp,
    },
    /// A compromise dated after the update that reports it.
    #[error("a compromise at {at} reported by an update issued at {issued_at}")]
    CompromiseAfterIssue {
        /// The compromise time.
        at: Timestamp,
        /// The update's issue time.
        issued_at: Timestamp,
    },
    /// Two new operator keys in one update.
    #[error("two operator keys in one update")]
    OperatorKeyTwice,
    /// The directory's own rules (unknown party, kid reused, …).
    #[error(transparent)]
    Directory(#[from] DirectoryError),
}

impl UpdateError {
    /// A stable code naming the refusal (`update/…`, or the code of the envelope, payload or
    /// directory refusal).
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            UpdateError::Parse(e) => e.code(),
            UpdateError::NotOperatorKey { .. } => "update/not_operator_key",
            UpdateError::BadSignature => "update/bad_signature",
            UpdateError::AlreadyApplied { .. } => "update/already_applied",
            UpdateError::Fork { .. } => "update/fork",
            UpdateError::OutOfOrder { .. } => "update/out_of_order",
            UpdateError::WrongPrevious { .. } => "update/wrong_previous",
            UpdateError::TimeGoesBack { .. } => "update/time_goes_back",
            UpdateError::Change { fault, .. } => fault.code(),
            UpdateError::Directory(e) => e.code(),
            UpdateError::BeforeHistory { .. } => "update/before_history",
        }
    }
}

impl ChangeFault {
    /// A stable code naming the fault.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            ChangeFault::Backdated { .. } => "update/backdated",
            ChangeFault::RetroactiveEnd { .. } => "update/retroactive_end",
            ChangeFault::CompromiseAfterIssue { .. } => "update/compromise_after_issue",
            ChangeFault::OperatorKeyTwice => "update/operator_key_twice",
            ChangeFault::Directory(e) => e.code(),
        }
    }
}

/// One version of the directory: its number, the digest that the next update names as its
/// `previous`, and when it took effect.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Version {
    /// The version number.
    pub seq: u64,
    /// The digest of its signed bytes (for a checkpoint, of the update it stands for).
    pub digest: Digest,
    /// When the operator signed it.
    pub issued_at: Timestamp,
}

/// The federation's directory as its operator publishes it: a signed first version (or a
/// signed checkpoint), then signed updates, each verified with the operator's key — the
/// service's trust anchor — and applied in order. Every version is kept:
/// [`at`](Self::at) gives the directory that held at a time, which is a
/// [`Trust`](super::Trust) like any directory.
///
/// An update that hands the operator's role to a new key ([`Change::OperatorKey`]) is signed
/// with the old key; every later one must be signed with the new key.
///
/// Memory: the first version and every update are kept; a past state is rebuilt on demand by
/// replaying the updates up to it, and the current one is held ready.
///
/// ```
/// use consentry::directory::{Directory, DirectoryHistory, DirectorySnapshot, Party, PartyId, PartyKey, Role};
/// use consentry::{SigningKey, Timestamp};
///
/// let operator = SigningKey::from_seed(&[1; 32]);
/// let old = SigningKey::from_seed(&[2; 32]);
/// let new = SigningKey::from_seed(&[3; 32]);
/// let mairie = PartyId::from_bytes([7; 16]);
/// let mut dir = Directory::new();
/// dir.add_party(Party::new(mairie, "Mairie", Role::Consumer)
///     .with_key(PartyKey::new(old.verifying_key(), Timestamp::from_secs(1_000))))?;
/// let genesis = DirectorySnapshot::genesis(dir, Timestamp::from_secs(1_000)).sign(&operator);
/// let mut history = DirectoryHistory::load(&genesis, &operator.verifying_key())?;
///
/// // The consumer rotates its key at 5 000.
/// let rotation = history
///     .next_update(Timestamp::from_secs(5_000))
///     .rotate_key(mairie, old.key_id(), PartyKey::new(new.verifying_key(), Timestamp::from_secs(5_000)))
///     .sign(&operator);
/// history.apply(&rotation)?;
///
/// // Before the rotation the new key was unknown; after it, the old one signs nothing new.
/// let before = history.at(Timestamp::from_secs(4_000))?;
/// assert!(before.key(&new.key_id()).is_none());
/// let now = history.at(Timestamp::from_secs(6_000))?;
/// assert!(now.check_key(&old.key_id(), mairie, Timestamp::from_secs(6_000)).is_err());
/// assert!(now.check_key(&new.key_id(), mairie, Timestamp::from_secs(6_000)).is_ok());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct DirectoryHistory {
    /// The state of the version loaded, and its version.
    base: Directory,
    /// Every version held, the loaded one first.
    versions: Vec<Version>,
    /// The updates applied since, in order: `updates[i]` made `versions[i + 1]`.
    updates: Vec<DirectoryUpdate>,
    current: Directory,
    operator: VerifyingKey,
}

impl DirectoryHistory {
    /// Loads a signed directory (a first version, or a checkpoint), checking that the operator
    /// whose key is `anchor` signed it.
    ///
    /// # Errors
    ///
    /// [`UpdateError::Parse`] if the bytes are not a well-formed signed directory (envelope,
    /// payload; directory limits), [`UpdateError::NotOperatorKey`] or
    /// [`UpdateError::BadSignature`] if `anchor` did not sign it, [`UpdateError::Directory`] if
    /// the directory it holds breaks the directory's rules.
    pub fn load(signed: &[u8], anchor: &VerifyingKey) -> Result<Self, UpdateError> {
        let envelope =
            Envelope::parse_kind_within(signed, ObjectKind::Directory, Limits::DIRECTORY)
                .map_err(|e| UpdateError::Parse(e.into()))?;
        let (seq, head, issued_at, dir) = DirectorySnapshot::decode_payload(envelope.payload())
            .map_err(|e| UpdateError::Parse(e.into()))?;
        check_operator(&envelope, anchor)?;
        let base = Directory::from_cbor(dir).map_err(UpdateError::Directory)?;
        let version = Version {
            seq,
            digest: head.unwrap_or_else(|| Digest::of(signed)),
            issued_at,
        };
        Ok(DirectoryHistory {
            current: base.clone(),
            base,
            versions: vec![version],
            updates: Vec::new(),
            operator: *anchor,
        })
    }

    /// An empty update that would follow the current version, issued at `issued_at`: add its
    /// changes, then sign it with the operator's key.
    pub fn next_update(&self, issued_at: Timestamp) -> DirectoryUpdate {
        let last = self.last();
        DirectoryUpdate::new(last.seq + 1, last.digest, issued_at)
    }

    /// Verifies a signed update with the operator's current key and applies it, all its changes
    /// or none. Returns the update applied.
    ///
    /// # Errors
    ///
    /// [`UpdateError::Parse`] if the bytes are not a well-formed update;
    /// [`UpdateError::AlreadyApplied`] if these very bytes were applied already (a redelivery,
    /// to be ignored); [`UpdateError::NotOperatorKey`] or [`UpdateError::BadSignature`] if the
    /// operator's current key did not sign it; [`UpdateError::Fork`] if the operator signed a
    /// different update with a number already applied; [`UpdateError::OutOfOrder`] if it is not
    /// the next version; [`UpdateError::WrongPrevious`] if it does not name the current version
    /// as its previous; [`UpdateError::TimeGoesBack`] if it was issued before the current
    /// version; [`UpdateError::Change`] if one of its changes breaks a rule (see
    /// [`ChangeFault`]).
    pub fn apply(&mut self, signed: &[u8]) -> Result<&DirectoryUpdate, UpdateError> {
        let envelope = Envelope::parse_kind(signed, ObjectKind::DirectoryUpdate)
            .map_err(|e| UpdateError::Parse(e.into()))?;
        let update = DirectoryUpdate::from_payload_bytes(envelope.payload())
            .map_err(|e| UpdateError::Parse(e.into()))?;
        let digest = Digest::of(signed);
        let held = self.versions.iter().find(|v| v.seq == update.seq);
        if held.is_some_and(|v| v.digest == digest) {
            return Err(UpdateError::AlreadyApplied { seq: update.seq });
        }
        check_operator(&envelope, &self.operator)?;
        let last = *self.last();
        if held.is_some() {
            return Err(UpdateError::Fork { seq: update.seq });
        }
        if update.seq != last.seq + 1 {
            return Err(UpdateError::OutOfOrder {
                expected: last.seq + 1,
                found: update.seq,
            });
        }
        if update.previous != last.digest {
            return Err(UpdateError::WrongPrevious { seq: last.seq });
        }
        if update.issued_at < last.issued_at {
            return Err(UpdateError::TimeGoesBack {
                current: last.issued_at,
                issued_at: update.issued_at,
            });
        }
        let mut next = self.current.clone();
        let operator = apply_changes(&mut next, &update)
            .map_err(|(index, fault)| UpdateError::Change { index, fault })?;
        self.current = next;
        if let Some(key) = operator {
            self.operator = key;
        }
        self.versions.push(Version {
            seq: update.seq,
            digest,
            issued_at: update.issued_at,
        });
        self.updates.push(update);
        Ok(&self.updates[self.updates.len() - 1])
    }

    /// The directory as it stands after the last update.
    #[must_use]
    pub fn current(&self) -> &Directory {
        &self.current
    }

    /// The directory that held at `at`: the last version issued at or before `at`. Borrowed
    /// when that is the current one, rebuilt otherwise.
    ///
    /// # Errors
    ///
    /// [`UpdateError::BeforeHistory`] if `at` is before the version loaded.
    pub fn at(&self, at: Timestamp) -> Result<Cow<'_, Directory>, UpdateError> {
        let earliest = self.versions[0].issued_at;
        if at < earliest {
            return Err(UpdateError::BeforeHistory { at, earliest });
        }
        let applied = self.updates.partition_point(|u| u.issued_at <= at);
        if applied == self.updates.len() {
            return Ok(Cow::Borrowed(&self.current));
        }
        let mut dir = self.base.clone();
        for update in &self.updates[..applied] {
            // Each update applied to this very state once already; it applies again.
            apply_changes(&mut dir, update)
                .map_err(|(index, fault)| UpdateError::Change { index, fault })?;
        }
        Ok(Cow::Owned(dir))
    }

    /// The current version number.
    #[must_use]
    pub fn version(&self) -> u64 {
        self.last().seq
    }

    /// Every version held, the loaded one first.
    #[must_use]
    pub fn versions(&self) -> &[Version] {
        &self.versions
    }

    /// The updates applied since the version loaded, in order.
    pub fn updates(&self) -> &[DirectoryUpdate] {
        &self.updates
    }

    /// The operator's current key: the one the next update must be signed with.
    #[must_use]
    pub fn operator(&self) -> &VerifyingKey {
        &self.operator
    }

    /// A checkpoint of the current version, to be signed by the operator at `issued_at` (no
    /// earlier than the current version): a service that loads it continues the history from
    /// here, and answers for no earlier time than `issued_at`.
    pub fn checkpoint(&self, issued_at: Timestamp) -> DirectorySnapshot {
        let last = self.last();
        DirectorySnapshot {
            seq: last.seq,
            head: Some(last.digest),
            issued_at: issued_at.max(last.issued_at),
            directory: self.current.clone(),
        }
    }

    fn last(&self) -> &Version {
        // `versions` is never empty: `load` puts the loaded version in.
        &self.versions[self.versions.len() - 1]
    }
}

/// The envelope names the operator's key and its signature verifies with it.
fn check_operator(envelope: &Envelope<'_>, operator: &VerifyingKey) -> Result<(), UpdateError> {
    let expected = operator.key_id();
    if envelope.kid() != expected {
        return Err(UpdateError::NotOperatorKey {
            found: envelope.kid(),
            expected,
        });
    }
    envelope
        .verify(operator)
        .map_err(|_| UpdateError::BadSignature)?;
    Ok(())
}

/// Applies an update's changes in order; returns the new operator key if it names one.
fn apply_changes(
    dir: &mut Directory,
    update: &DirectoryUpdate,
) -> Result<Option<VerifyingKey>, (usize, ChangeFault)> {
    let issued_at = update.issued_at;
    let not_before = |starts: Timestamp| {
        if starts < issued_at {
            Err(ChangeFault::Backdated { starts, issued_at })
        } else {
            Ok(())
        }
    };
    let not_retroactive = |at: Timestamp| {
        if at < issued_at {
            Err(ChangeFault::RetroactiveEnd { at, issued_at })
        } else {
            Ok(())
        }
    };
    let mut operator = None;
    for (index, change) in update.changes.iter().enumerate() {
        let applied = match change {
            Change::AddParty(party) => party
                .keys
                .iter()
                .try_for_each(|k| not_before(k.valid_from))
                .and_then(|()| Ok(dir.add_party(party.clone())?)),
            Change::AddKey { party, key } => {
                not_before(key.valid_from).and_then(|()| Ok(dir.add_key(*party, key.clone())?))
            }
            Change::RetireKey { kid, at } => {
                not_retroactive(*at).and_then(|()| Ok(dir.retire_key(kid, *at)?))
            }
            Change::ReportCompromise { kid, at } => {
                if *at > issued_at {
                    Err(ChangeFault::CompromiseAfterIssue { at: *at, issued_at })
                } else {
                    dir.report_compromise(kid, *at).map_err(ChangeFault::from)
                }
            }
            Change::AddRepresentation(r) => {
                not_before(r.valid_from).and_then(|()| Ok(dir.add_representation(r.clone())?))
            }
            Change::EndRepresentation {
                representative,
                subject,
                at,
            } => not_retroactive(*at)
                .and_then(|()| Ok(dir.end_representation(*representative, *subject, *at)?)),
            Change::OperatorKey(key) => {
                if operator.replace(*key).is_some() {
                    Err(ChangeFault::OperatorKeyTwice)
                } else {
                    Ok(())
                }
            }
        };
        applied.map_err(|fault| (index, fault))?;
    }
    Ok(operator)
}
