//! The directory's signed forms: the directory at one version, and the updates that take it from
//! one version to the next, each signed by the federation's operator (`docs/format.md` §6.3–6.4).

use super::wire::{
    decode_key, decode_party, decode_representation, encode_key, encode_party,
    encode_representation,
};
use super::{Directory, Party, PartyId, PartyKey, Representation};
use crate::FORMAT_VERSION;
use crate::cbor::{DecodeError, Decoder, Encoder, Limits};
use crate::cose::{self, ObjectKind};
use crate::digest::Digest;
use crate::keys::{KeyId, SigningKey, VerifyingKey};
use crate::labels::{directory_update, signed_directory};
use crate::time::Timestamp;
use crate::wire::{digest, party_id, timestamp};

/// One change an operator makes to the directory. An update applies its changes in order, all
/// or none.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Change {
    /// A new party, with its roles and keys (for a legal person, its registry numbers and no
    /// key). Its keys' windows may not start before the update's issue time.
    AddParty(Party),
    /// A new key for a listed party. Its window may not start before the update's issue time,
    /// and its kid may never have been used.
    AddKey {
        /// The party.
        party: PartyId,
        /// The key and its window.
        key: PartyKey,
    },
    /// Ends a key's window at `at`, no earlier than the update's issue time: it signs nothing
    /// issued from then on, and what it signed before keeps counting. A rotation is an
    /// [`AddKey`](Change::AddKey) and a `RetireKey` in one update.
    RetireKey {
        /// The key.
        kid: KeyId,
        /// The end of its window.
        at: Timestamp,
    },
    /// Records that a key was compromised at `at`, which may be before the update (that is the
    /// point) but not after it: nothing the key signed from `at` on counts.
    ReportCompromise {
        /// The key.
        kid: KeyId,
        /// When it was compromised.
        at: Timestamp,
    },
    /// A new representation; it may not start before the update's issue time, and its kind
    /// must suit its subject (a legal representative only for a legal person).
    AddRepresentation(Representation),
    /// Ends, at `at` (no earlier than the update's issue time), the representation of
    /// `representative` for `subject`.
    EndRepresentation {
        /// Who acted.
        representative: PartyId,
        /// For whom.
        subject: PartyId,
        /// When it ends.
        at: Timestamp,
    },
    /// The operator's new key: every later update, and every later signed directory, must be
    /// signed with it. Signed, like the rest of the update, with the key it replaces.
    OperatorKey(VerifyingKey),
}

impl Change {
    /// The change's tag on the wire.
    fn tag(&self) -> u64 {
        match self {
            Change::AddParty(_) => 0,
            Change::AddKey { .. } => 1,
            Change::RetireKey { .. } => 2,
            Change::ReportCompromise { .. } => 3,
            Change::AddRepresentation(_) => 4,
            Change::EndRepresentation { .. } => 5,
            Change::OperatorKey(_) => 6,
        }
    }

    fn encode(&self, e: &mut Encoder) {
        let arity = match self {
            Change::AddParty(_) | Change::AddRepresentation(_) | Change::OperatorKey(_) => 2,
            Change::AddKey { .. } | Change::RetireKey { .. } | Change::ReportCompromise { .. } => 3,
            Change::EndRepresentation { .. } => 4,
        };
        e.array(arity).uint(self.tag());
        match self {
            Change::AddParty(p) => encode_party(e, p),
            Change::AddKey { party, key } => {
                e.bytes(party.as_bytes());
                encode_key(e, key);
            }
            Change::RetireKey { kid, at } | Change::ReportCompromise { kid, at } => {
                e.bytes(kid.as_bytes()).uint(at.0);
            }
            Change::AddRepresentation(r) => encode_representation(e, r),
            Change::EndRepresentation {
                representative,
                subject,
                at,
            } => {
                e.bytes(representative.as_bytes())
                    .bytes(subject.as_bytes())
                    .uint(at.0);
            }
            Change::OperatorKey(key) => {
                e.bytes(key.as_bytes());
            }
        }
    }

    fn decode(d: &mut Decoder<'_>) -> Result<Change, DecodeError> {
        d.nested(|d| {
            let arity = d.array()?;
            let tag = d.uint()?;
            let expected = match tag {
                0 | 4 | 6 => 2,
                1..=3 => 3,
                5 => 4,
                _ => {
                    return Err(DecodeError::InvalidValue {
                        field: "change",
                        reason: "unknown change tag",
                    });
                }
            };
            if arity != expected {
                return Err(DecodeError::InvalidValue {
                    field: "change",
                    reason: "wrong number of items for its tag",
                });
            }
            let kid = |d: &mut Decoder<'_>| d.fixed_bytes::<16>("kid").map(KeyId);
            Ok(match tag {
                0 => Change::AddParty(decode_party(d)?),
                1 => Change::AddKey {
                    party: party_id(d)?,
                    key: decode_key(d)?,
                },
                2 => Change::RetireKey {
                    kid: kid(d)?,
                    at: timestamp(d)?,
                },
                3 => Change::ReportCompromise {
                    kid: kid(d)?,
                    at: timestamp(d)?,
                },
                4 => Change::AddRepresentation(decode_representation(d)?),
                5 => Change::EndRepresentation {
                    representative: party_id(d)?,
                    subject: party_id(d)?,
                    at: timestamp(d)?,
                },
                _ => Change::OperatorKey(VerifyingKey(d.fixed_bytes::<32>("operator key")?)),
            })
        })
    }
}

/// A signed change to the directory: the changes that take it from version `seq - 1` to `seq`.
///
/// Made by [`DirectoryHistory::next_update`](super::DirectoryHistory::next_update), which fills
/// in the version number and the previous version's digest; applied by
/// [`DirectoryHistory::apply`](super::DirectoryHistory::apply).
///
/// ```
/// use consentry::directory::{Directory, DirectoryHistory, DirectorySnapshot, Party, PartyId, PartyKey, Role};
/// use consentry::{SigningKey, Timestamp};
///
/// let operator = SigningKey::from_seed(&[1; 32]);
/// let genesis = DirectorySnapshot::genesis(Directory::new(), Timestamp::from_secs(1_000));
/// let mut history = DirectoryHistory::load(&genesis.sign(&operator), &operator.verifying_key())?;
///
/// let mairie = SigningKey::from_seed(&[2; 32]);
/// let update = history
///     .next_update(Timestamp::from_secs(2_000))
///     .add_party(
///         Party::new(PartyId::from_bytes([7; 16]), "Mairie", Role::Consumer)
///             .with_key(PartyKey::new(mairie.verifying_key(), Timestamp::from_secs(2_000))),
///     )
///     .sign(&operator);
/// history.apply(&update)?;
/// assert_eq!(history.version(), 1);
/// assert!(history.current().key(&mairie.key_id()).is_some());
/// # Ok::<(), consentry::directory::UpdateError>(())
/// ```
///
/// Its JSON form (`docs/format.md` §6.4, `docs/schemas/directory-update.schema.json`) lets an
/// operator's tooling prepare an update for the library to sign; once signed, it is applied
/// with every rule, as any other:
///
/// ```
/// use consentry::directory::{Directory, DirectoryHistory, DirectorySnapshot, DirectoryUpdate};
/// use consentry::{json, SigningKey, Timestamp};
///
/// let operator = SigningKey::from_seed(&[1; 32]);
/// let genesis = DirectorySnapshot::genesis(Directory::new(), Timestamp::from_secs(1_000));
/// let mut history = DirectoryHistory::load(&genesis.sign(&operator), &operator.verifying_key())?;
/// let text = format!(
///     r#"{{"seq": 1, "previous": "{}", "issued_at": 2000, "changes": [
///         {{"add_party": {{"id": "07070707-0707-0707-0707-070707070707", "name": "Mairie",
///           "roles": ["consumer"], "keys": []}}}}]}}"#,
///     history.versions()[0].digest.to_hex(),
/// );
/// let update: DirectoryUpdate = json::from_json(&text)?;
/// history.apply(&update.sign(&operator))?;
/// assert_eq!(history.current().parties()[0].name, "Mairie");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[must_use]
pub struct DirectoryUpdate {
    pub(super) seq: u64,
    pub(super) previous: Digest,
    pub(super) issued_at: Timestamp,
    pub(super) changes: Vec<Change>,
}

impl DirectoryUpdate {
    /// At most this many changes in one update (the object limits' item count).
    pub const MAX_CHANGES: usize = 256;

    /// An update with no change yet, giving the directory version `seq`, after the version whose
    /// signed bytes hash to `previous`. [`DirectoryHistory::next_update`](super::DirectoryHistory::next_update)
    /// fills both in.
    pub fn new(seq: u64, previous: Digest, issued_at: Timestamp) -> Self {
        DirectoryUpdate {
            seq,
            previous,
            issued_at,
            changes: Vec::new(),
        }
    }

    /// Adds a change.
    pub fn change(mut self, change: Change) -> Self {
        self.changes.push(change);
        self
    }

    /// Adds a party.
    pub fn add_party(self, party: Party) -> Self {
        self.change(Change::AddParty(party))
    }

    /// Adds a key to a party.
    pub fn add_key(self, party: PartyId, key: PartyKey) -> Self {
        self.change(Change::AddKey { party, key })
    }

    /// Rotates a party's key: adds `new` and ends the window of `old` when `new`'s opens.
    pub fn rotate_key(self, party: PartyId, old: KeyId, new: PartyKey) -> Self {
        let at = new.valid_from;
        self.add_key(party, new)
            .change(Change::RetireKey { kid: old, at })
    }

    /// Ends a key's window at `at`.
    pub fn retire_key(self, kid: KeyId, at: Timestamp) -> Self {
        self.change(Change::RetireKey { kid, at })
    }

    /// Records a key's compromise at `at`.
    pub fn report_compromise(self, kid: KeyId, at: Timestamp) -> Self {
        self.change(Change::ReportCompromise { kid, at })
    }

    /// Adds a representation.
    pub fn add_representation(self, representation: Representation) -> Self {
        self.change(Change::AddRepresentation(representation))
    }

    /// Ends a representation at `at`.
    pub fn end_representation(
        self,
        representative: PartyId,
        subject: PartyId,
        at: Timestamp,
    ) -> Self {
        self.change(Change::EndRepresentation {
            representative,
            subject,
            at,
        })
    }

    /// Hands the operator's role to a new key.
    pub fn operator_key(self, key: VerifyingKey) -> Self {
        self.change(Change::OperatorKey(key))
    }

    /// The version number the update gives the directory.
    #[must_use]
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// The digest of the previous version's signed bytes.
    #[must_use]
    pub fn previous(&self) -> Digest {
        self.previous
    }

    /// When the operator signed it.
    #[must_use]
    pub fn issued_at(&self) -> Timestamp {
        self.issued_at
    }

    /// The changes, in the order they apply.
    #[must_use]
    pub fn changes(&self) -> &[Change] {
        &self.changes
    }

    /// The payload's deterministic encoding.
    #[must_use]
    pub fn to_payload_bytes(&self) -> Vec<u8> {
        let mut e = Encoder::new();
        e.map(5);
        e.uint(directory_update::VERSION).uint(FORMAT_VERSION);
        e.uint(directory_update::SEQ).uint(self.seq);
        e.uint(directory_update::PREVIOUS)
            .bytes(self.previous.as_bytes());
        e.uint(directory_update::ISSUED_AT).uint(self.issued_at.0);
        e.uint(directory_update::CHANGES).array(self.changes.len());
        for c in &self.changes {
            c.encode(&mut e);
        }
        e.into_bytes()
    }

    /// Decodes payload bytes strictly (one item, no trailing bytes, object limits; at least one
    /// change).
    ///
    /// # Errors
    ///
    /// A [`DecodeError`] naming the first fault.
    pub fn from_payload_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut d = Decoder::new(bytes, Limits::OBJECT)?;
        let mut m = d.map_reader("directory update")?;
        m.version(directory_update::VERSION, FORMAT_VERSION)?;
        let seq = m.required(directory_update::SEQ, "seq", Decoder::uint)?;
        let previous = m.required(directory_update::PREVIOUS, "previous", digest)?;
        let issued_at = m.required(directory_update::ISSUED_AT, "issued at", timestamp)?;
        let changes = m.required(directory_update::CHANGES, "changes", |d| {
            d.array_of("changes", 1, Change::decode)
        })?;
        m.finish()?;
        d.finish()?;
        if seq == 0 {
            return Err(DecodeError::InvalidValue {
                field: "seq",
                reason: "an update's version number starts at 1",
            });
        }
        Ok(DirectoryUpdate {
            seq,
            previous,
            issued_at,
            changes,
        })
    }

    /// Signs the update with the operator's key, giving the tagged `COSE_Sign1` bytes.
    #[must_use]
    pub fn sign(&self, operator: &SigningKey) -> Vec<u8> {
        cose::sign(
            ObjectKind::DirectoryUpdate,
            operator,
            &self.to_payload_bytes(),
        )
    }
}

/// A signed directory's fields: version number, head, issue time, directory bytes.
pub(super) type SnapshotFields<'a> = (u64, Option<Digest>, Timestamp, &'a [u8]);

/// The directory at one version, as its operator signs it: the first one a service loads
/// (version 0, no head), or a checkpoint (a version, and the digest that the next update names
/// as its previous: see [`DirectoryHistory::checkpoint`](super::DirectoryHistory::checkpoint)).
///
/// Its JSON form (`docs/format.md` §6.3, `docs/schemas/signed-directory.schema.json`) is
/// `{"seq", "head", "issued_at", "directory"}`, the directory in its own JSON form; read with
/// [`json::from_json`](crate::json::from_json), signed with [`sign`](Self::sign).
#[derive(Clone, Debug)]
#[must_use]
pub struct DirectorySnapshot {
    pub(super) seq: u64,
    pub(super) head: Option<Digest>,
    pub(super) issued_at: Timestamp,
    pub(super) directory: Directory,
}

impl DirectorySnapshot {
    /// The first version of a directory: version 0, signed at `issued_at`.
    pub fn genesis(directory: Directory, issued_at: Timestamp) -> Self {
        DirectorySnapshot {
            seq: 0,
            head: None,
            issued_at,
            directory,
        }
    }

    /// The version number.
    #[must_use]
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// The digest of the last update applied; `None` at version 0.
    #[must_use]
    pub fn head(&self) -> Option<Digest> {
        self.head
    }

    /// When the operator signed it.
    #[must_use]
    pub fn issued_at(&self) -> Timestamp {
        self.issued_at
    }

    /// The directory.
    #[must_use]
    pub fn directory(&self) -> &Directory {
        &self.directory
    }

    /// The payload's deterministic encoding.
    #[must_use]
    pub fn to_payload_bytes(&self) -> Vec<u8> {
        let dir = self.directory.to_cbor();
        let mut e = Encoder::with_capacity(dir.len() + 64);
        e.map(4 + usize::from(self.head.is_some()));
        e.uint(signed_directory::VERSION).uint(FORMAT_VERSION);
        e.uint(signed_directory::SEQ).uint(self.seq);
        if let Some(head) = &self.head {
            e.uint(signed_directory::HEAD).bytes(head.as_bytes());
        }
        e.uint(signed_directory::ISSUED_AT).uint(self.issued_at.0);
        e.uint(signed_directory::DIRECTORY).bytes(&dir);
        e.into_bytes()
    }

    /// Decodes payload bytes strictly (directory limits), leaving the embedded directory's bytes
    /// to [`Directory::from_cbor`]. A head is present whenever the version is not 0.
    pub(super) fn decode_payload(bytes: &[u8]) -> Result<SnapshotFields<'_>, DecodeError> {
        let mut d = Decoder::new(bytes, Limits::DIRECTORY)?;
        let mut m = d.map_reader("signed directory")?;
        m.version(signed_directory::VERSION, FORMAT_VERSION)?;
        let seq = m.required(signed_directory::SEQ, "seq", Decoder::uint)?;
        let head = m.optional(signed_directory::HEAD, digest)?;
        let issued_at = m.required(signed_directory::ISSUED_AT, "issued at", timestamp)?;
        let dir = m.required(signed_directory::DIRECTORY, "directory", Decoder::bytes)?;
        m.finish()?;
        d.finish()?;
        if seq > 0 && head.is_none() {
            return Err(DecodeError::InvalidValue {
                field: "head",
                reason: "required when the version is not 0",
            });
        }
        Ok((seq, head, issued_at, dir))
    }

    /// Signs the snapshot with the operator's key, giving the tagged `COSE_Sign1` bytes.
    #[must_use]
    pub fn sign(&self, operator: &SigningKey) -> Vec<u8> {
        cose::sign(ObjectKind::Directory, operator, &self.to_payload_bytes())
    }
}
