//! The JSON forms of the directory's signed objects: a [`DirectoryUpdate`] (with its
//! [`Change`]s) and a [`DirectorySnapshot`], read with [`crate::json::from_json`].
//!
//! They are the CBOR forms of `docs/format.md` §6.3–6.4 with names instead of keys, and the
//! directory's own JSON form (§6.1) for a party, a key, a representation and the directory. The
//! reader refuses shapes, and the values the directory's JSON reader refuses (a kid that is not
//! its key's, a role listed twice, a registry number failing its check; a whole directory is
//! checked as [`Directory::from_json`] checks it); everything else is the rules of applying an
//! update ([`DirectoryHistory::apply`](super::DirectoryHistory::apply)), which a JSON-read
//! update meets once signed, as any other.

use super::update::{Change, DirectorySnapshot, DirectoryUpdate};
use super::wire::{DirectoryJson, PartyJson, PartyKeyJson, RepresentationJson};
use super::{Directory, DirectoryError, Party, PartyId, PartyKey, Representation};
use crate::digest::Digest;
use crate::keys::{KeyId, VerifyingKey};
use crate::time::Timestamp;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A change in JSON: an object with one member named after the change.
#[derive(Serialize)]
#[serde(rename_all = "snake_case")]
enum ChangeJson {
    AddParty(PartyJson),
    AddKey(AddKeyJson),
    RetireKey(KidAtJson),
    ReportCompromise(KidAtJson),
    AddRepresentation(RepresentationJson),
    EndRepresentation(EndRepresentationJson),
    OperatorKey(#[serde(with = "public_key_hex")] VerifyingKey),
}

/// The change names, as [`ChangeJson`]'s members.
#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum Tag {
    AddParty,
    AddKey,
    RetireKey,
    ReportCompromise,
    AddRepresentation,
    EndRepresentation,
    OperatorKey,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct AddKeyJson {
    party: PartyId,
    key: PartyKeyJson,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KidAtJson {
    #[serde(with = "kid_hex")]
    kid: KeyId,
    at: Timestamp,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct EndRepresentationJson {
    representative: PartyId,
    subject: PartyId,
    at: Timestamp,
}

#[derive(Deserialize)]
#[serde(transparent)]
struct OperatorKeyJson(#[serde(with = "public_key_hex")] VerifyingKey);

impl<'de> Deserialize<'de> for ChangeJson {
    /// Reads an object of exactly one member, the change's name (serde's externally tagged
    /// enums leave a second member to the parser, which reports it as a syntax error).
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = ChangeJson;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a change: an object with one member, named after the change")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut m: A,
            ) -> Result<ChangeJson, A::Error> {
                let tag: Tag = m
                    .next_key()?
                    .ok_or_else(|| A::Error::custom("a change names its kind"))?;
                let change = match tag {
                    Tag::AddParty => ChangeJson::AddParty(m.next_value()?),
                    Tag::AddKey => ChangeJson::AddKey(m.next_value()?),
                    Tag::RetireKey => ChangeJson::RetireKey(m.next_value()?),
                    Tag::ReportCompromise => ChangeJson::ReportCompromise(m.next_value()?),
                    Tag::AddRepresentation => ChangeJson::AddRepresentation(m.next_value()?),
                    Tag::EndRepresentation => ChangeJson::EndRepresentation(m.next_value()?),
                    Tag::OperatorKey => {
                        ChangeJson::OperatorKey(m.next_value::<OperatorKeyJson>()?.0)
                    }
                };
                if m.next_key::<serde::de::IgnoredAny>()?.is_some() {
                    return Err(A::Error::custom("a change is an object of one member"));
                }
                Ok(change)
            }
        }
        d.deserialize_map(Visit)
    }
}

/// A directory error met while reading a JSON form, as a serde error: a malformed value is a
/// shape error (`json/shape`), any other carries its rule's code.
fn refusal<E: serde::de::Error>(e: &DirectoryError) -> E {
    match e {
        DirectoryError::Malformed(what) => E::custom(what),
        other => crate::json::refuse(other.code(), other),
    }
}

impl From<&Change> for ChangeJson {
    fn from(c: &Change) -> Self {
        match c {
            Change::AddParty(p) => ChangeJson::AddParty(p.into()),
            Change::AddKey { party, key } => ChangeJson::AddKey(AddKeyJson {
                party: *party,
                key: key.into(),
            }),
            Change::RetireKey { kid, at } => {
                ChangeJson::RetireKey(KidAtJson { kid: *kid, at: *at })
            }
            Change::ReportCompromise { kid, at } => {
                ChangeJson::ReportCompromise(KidAtJson { kid: *kid, at: *at })
            }
            Change::AddRepresentation(r) => ChangeJson::AddRepresentation(r.into()),
            Change::EndRepresentation {
                representative,
                subject,
                at,
            } => ChangeJson::EndRepresentation(EndRepresentationJson {
                representative: *representative,
                subject: *subject,
                at: *at,
            }),
            Change::OperatorKey(k) => ChangeJson::OperatorKey(*k),
        }
    }
}

impl TryFrom<ChangeJson> for Change {
    type Error = DirectoryError;

    fn try_from(c: ChangeJson) -> Result<Self, DirectoryError> {
        Ok(match c {
            ChangeJson::AddParty(p) => {
                let mut party = Party::try_from(p)?;
                // The CBOR form lists a legal person's SIRETs sorted, none twice, as the
                // directory stores them.
                if let Some(legal) = &mut party.legal_person {
                    legal.sirets.sort_unstable();
                    if let Some(w) = legal.sirets.windows(2).find(|w| w[0] == w[1]) {
                        return Err(DirectoryError::DuplicateSiret(w[0]));
                    }
                }
                Change::AddParty(party)
            }
            ChangeJson::AddKey(AddKeyJson { party, key }) => Change::AddKey {
                party,
                key: PartyKey::try_from(key)?,
            },
            ChangeJson::RetireKey(KidAtJson { kid, at }) => Change::RetireKey { kid, at },
            ChangeJson::ReportCompromise(KidAtJson { kid, at }) => {
                Change::ReportCompromise { kid, at }
            }
            ChangeJson::AddRepresentation(r) => Change::AddRepresentation(Representation::from(r)),
            ChangeJson::EndRepresentation(EndRepresentationJson {
                representative,
                subject,
                at,
            }) => Change::EndRepresentation {
                representative,
                subject,
                at,
            },
            ChangeJson::OperatorKey(k) => Change::OperatorKey(k),
        })
    }
}

/// The JSON form of a change: `{"add_party": party}`, `{"add_key": {"party": id, "key": key}}`,
/// `{"retire_key": {"kid": hex, "at": t}}`, `{"report_compromise": {"kid": hex, "at": t}}`,
/// `{"add_representation": representation}`, `{"end_representation": {"representative": id,
/// "subject": id, "at": t}}`, `{"operator_key": hex}` — a party, key and representation as in
/// the directory's JSON form.
impl Serialize for Change {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        ChangeJson::from(self).serialize(s)
    }
}

impl<'de> Deserialize<'de> for Change {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Change::try_from(ChangeJson::deserialize(d)?).map_err(|e| refusal(&e))
    }
}

/// An update in JSON.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct UpdateJson {
    seq: u64,
    previous: Digest,
    issued_at: Timestamp,
    changes: Vec<Change>,
}

/// The JSON form of an update: `{"seq": n, "previous": hex, "issued_at": t, "changes":
/// [change…]}`, each change as [`Change`]'s JSON form.
impl Serialize for DirectoryUpdate {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        UpdateJson {
            seq: self.seq,
            previous: self.previous,
            issued_at: self.issued_at,
            changes: self.changes.clone(),
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for DirectoryUpdate {
    /// Refuses, as the CBOR reader does, a `seq` of 0 and a list of changes that is empty or
    /// longer than [`DirectoryUpdate::MAX_CHANGES`].
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let u = UpdateJson::deserialize(d)?;
        if u.seq == 0 {
            return Err(D::Error::custom("an update's seq starts at 1"));
        }
        if u.changes.is_empty() || u.changes.len() > DirectoryUpdate::MAX_CHANGES {
            return Err(D::Error::custom(format_args!(
                "an update has 1 to {} changes",
                DirectoryUpdate::MAX_CHANGES
            )));
        }
        Ok(DirectoryUpdate {
            seq: u.seq,
            previous: u.previous,
            issued_at: u.issued_at,
            changes: u.changes,
        })
    }
}

/// A signed directory in JSON.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SnapshotJson {
    seq: u64,
    #[serde(default)]
    head: Option<Digest>,
    issued_at: Timestamp,
    directory: DirectoryJson,
}

/// The JSON form of a signed directory's payload: `{"seq": n, "head": hex or null,
/// "issued_at": t, "directory": directory}`, the directory in its own JSON form
/// ([`Directory::to_json`]).
impl Serialize for DirectorySnapshot {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        SnapshotJson {
            seq: self.seq,
            head: self.head,
            issued_at: self.issued_at,
            directory: DirectoryJson::from(&self.directory),
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for DirectorySnapshot {
    /// Refuses, as the CBOR reader does, a version other than 0 without a head; checks the
    /// directory as [`Directory::from_json`] does.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let j = SnapshotJson::deserialize(d)?;
        if j.seq > 0 && j.head.is_none() {
            return Err(D::Error::custom(
                "a signed directory whose seq is not 0 has a head",
            ));
        }
        let directory = Directory::try_from(j.directory).map_err(|e| refusal(&e))?;
        Ok(DirectorySnapshot {
            seq: j.seq,
            head: j.head,
            issued_at: j.issued_at,
            directory,
        })
    }
}

/// A key id as 32 hexadecimal digits.
mod kid_hex {
    use crate::keys::KeyId;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(kid: &KeyId, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&kid.to_hex())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<KeyId, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        crate::hex::decode(&text)
            .and_then(|b| <[u8; 16]>::try_from(b).ok())
            .map(KeyId)
            .ok_or_else(|| serde::de::Error::custom("a kid is 32 hexadecimal digits"))
    }
}

/// A public key as 64 hexadecimal digits.
mod public_key_hex {
    use crate::keys::VerifyingKey;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(key: &VerifyingKey, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&key.to_hex())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<VerifyingKey, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        crate::hex::decode(&text)
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .map(VerifyingKey)
            .ok_or_else(|| serde::de::Error::custom("a public key is 64 hexadecimal digits"))
    }
}
