//! The directory's CBOR and JSON forms.

use super::{
    Directory, DirectoryError, LegalPerson, Party, PartyId, PartyKey, Representation,
    RepresentationKind, Role,
};
use crate::cbor::{DecodeError, Decoder, Encoder, Limits};
use crate::keys::VerifyingKey;
use crate::labels::{directory, legal_person, party, party_key, representation};
use crate::registry::{Siren, Siret};
use crate::time::Timestamp;
use crate::wire::{party_id, timestamp};
use serde::{Deserialize, Serialize};

/// Version of the directory format.
pub const DIRECTORY_VERSION: u64 = 2;

impl Directory {
    /// The CBOR form (see `docs/format.md`; keys in [`crate::labels::directory`]):
    /// `{0: 1, 1: [+ party], ? 2: [+ representation]}`.
    #[must_use]
    pub fn to_cbor(&self) -> Vec<u8> {
        let mut e = Encoder::new();
        let reps = self.representations();
        e.map(if reps.is_empty() { 2 } else { 3 });
        e.uint(directory::VERSION).uint(DIRECTORY_VERSION);
        e.uint(directory::PARTIES).array(self.parties().len());
        for p in self.parties() {
            encode_party(&mut e, p);
        }
        if !reps.is_empty() {
            e.uint(directory::REPRESENTATIONS).array(reps.len());
            for r in reps {
                encode_representation(&mut e, r);
            }
        }
        e.into_bytes()
    }

    /// Reads the CBOR form strictly (deterministic encoding, no unknown keys, limits of
    /// [`Limits::DIRECTORY`]), then checks it like [`Directory::add_party`].
    ///
    /// # Errors
    ///
    /// [`DirectoryError::Malformed`] if the bytes are not the strict CBOR form; otherwise the first
    /// error of [`Directory::add_party`] or [`Directory::add_representation`].
    pub fn from_cbor(bytes: &[u8]) -> Result<Directory, DirectoryError> {
        let parsed = decode(bytes).map_err(|e| DirectoryError::Malformed(e.to_string()))?;
        let (parties, reps) = parsed;
        let mut dir = Directory::new();
        for p in parties {
            dir.add_party(p)?;
        }
        for r in reps {
            dir.add_representation(r)?;
        }
        Ok(dir)
    }

    /// The JSON form (see [`DirectoryJson`]).
    #[must_use]
    pub fn to_json(&self) -> String {
        // Serialising plain strings and numbers into a String cannot fail.
        serde_json::to_string_pretty(&DirectoryJson::from(self)).unwrap_or_default()
    }

    /// Reads the JSON form, refusing unknown fields, then checks it like the CBOR form.
    ///
    /// # Errors
    ///
    /// [`DirectoryError::Malformed`] if the document is too large, is not the JSON form, has an
    /// unsupported version or a public key that is not 64 hex digits;
    /// [`DirectoryError::DuplicateRole`] if a party lists a role twice;
    /// [`DirectoryError::KidMismatch`] if a given key id is not its key's; otherwise the first
    /// error of [`Directory::add_party`] or [`Directory::add_representation`].
    pub fn from_json(json: &str) -> Result<Directory, DirectoryError> {
        if json.len() > Limits::DIRECTORY.max_size {
            return Err(DirectoryError::Malformed("document too large".into()));
        }
        let doc: DirectoryJson =
            serde_json::from_str(json).map_err(|e| DirectoryError::Malformed(e.to_string()))?;
        doc.try_into()
    }
}

/// Writes a party map (`docs/format.md` §6).
pub(super) fn encode_party(e: &mut Encoder, p: &Party) {
    e.map(4 + usize::from(p.legal_person.is_some()));
    e.uint(party::ID).bytes(p.id.as_bytes());
    e.uint(party::NAME).text(&p.name);
    e.uint(party::ROLES).array(p.roles.len());
    for r in &p.roles {
        e.uint(r.code());
    }
    e.uint(party::KEYS).array(p.keys.len());
    for k in &p.keys {
        encode_key(e, k);
    }
    if let Some(legal) = &p.legal_person {
        e.uint(party::LEGAL_PERSON)
            .map(1 + usize::from(!legal.sirets.is_empty()));
        e.uint(legal_person::SIREN).text(legal.siren.as_str());
        if !legal.sirets.is_empty() {
            e.uint(legal_person::SIRETS).array(legal.sirets.len());
            for s in &legal.sirets {
                e.text(s.as_str());
            }
        }
    }
}

/// Writes a party key map.
pub(super) fn encode_key(e: &mut Encoder, k: &PartyKey) {
    e.map(2 + usize::from(k.valid_until.is_some()) + usize::from(k.compromised_at.is_some()));
    e.uint(party_key::PUBLIC_KEY).bytes(&k.public.0);
    e.uint(party_key::VALID_FROM).uint(k.valid_from.0);
    if let Some(t) = k.valid_until {
        e.uint(party_key::VALID_UNTIL).uint(t.0);
    }
    if let Some(t) = k.compromised_at {
        e.uint(party_key::COMPROMISED_AT).uint(t.0);
    }
}

/// Writes a representation map.
pub(super) fn encode_representation(e: &mut Encoder, r: &Representation) {
    e.map(4 + usize::from(r.valid_until.is_some()));
    e.uint(representation::REPRESENTATIVE)
        .bytes(r.representative.as_bytes());
    e.uint(representation::SUBJECT).bytes(r.subject.as_bytes());
    e.uint(representation::KIND).uint(r.kind.code());
    e.uint(representation::VALID_FROM).uint(r.valid_from.0);
    if let Some(t) = r.valid_until {
        e.uint(representation::VALID_UNTIL).uint(t.0);
    }
}

type Parsed = (Vec<Party>, Vec<Representation>);

fn decode(bytes: &[u8]) -> Result<Parsed, DecodeError> {
    let mut d = Decoder::new(bytes, Limits::DIRECTORY)?;
    let mut m = d.map_reader("directory")?;
    m.version(directory::VERSION, DIRECTORY_VERSION)?;
    let parties = m.required(directory::PARTIES, "parties", |d| {
        d.array_of("parties", 0, decode_party)
    })?;
    let reps = m
        .optional(directory::REPRESENTATIONS, |d| {
            d.array_of("representations", 1, decode_representation)
        })?
        .unwrap_or_default();
    m.finish()?;
    d.finish()?;
    Ok((parties, reps))
}

pub(super) fn decode_party(d: &mut Decoder<'_>) -> Result<Party, DecodeError> {
    let mut m = d.map_reader("party")?;
    let id = m.required(party::ID, "id", party_id)?;
    let name = m.required(party::NAME, "name", Decoder::text)?.to_owned();
    let roles = m.required(party::ROLES, "roles", |d| {
        d.array_of("roles", 1, |d| {
            Role::from_code(d.uint()?).ok_or(DecodeError::InvalidValue {
                field: "role",
                reason: "unknown role code",
            })
        })
    })?;
    if roles.windows(2).any(|w| w[0] >= w[1]) {
        return Err(DecodeError::InvalidValue {
            field: "roles",
            reason: "roles must be sorted by code, without repetition",
        });
    }
    let keys = m.required(party::KEYS, "keys", |d| d.array_of("keys", 0, decode_key))?;
    let legal_person = m.optional(party::LEGAL_PERSON, decode_legal_person)?;
    m.finish()?;
    Ok(Party {
        id,
        name,
        roles,
        keys,
        legal_person,
    })
}

/// Reads a legal person map: a valid SIREN, and valid SIRETs sorted without repetition (that
/// they are of the SIREN is the directory's check, with a typed refusal).
fn decode_legal_person(d: &mut Decoder<'_>) -> Result<LegalPerson, DecodeError> {
    let registry = |reason| DecodeError::InvalidValue {
        field: "legal person",
        reason,
    };
    let mut m = d.map_reader("legal person")?;
    let siren = m.required(legal_person::SIREN, "siren", |d| {
        Siren::parse(d.text()?).map_err(|_| registry("not a valid SIREN (9 digits, check digit)"))
    })?;
    let sirets = m
        .optional(legal_person::SIRETS, |d| {
            d.array_of("sirets", 1, |d| {
                Siret::parse(d.text()?)
                    .map_err(|_| registry("not a valid SIRET (14 digits, check digits)"))
            })
        })?
        .unwrap_or_default();
    m.finish()?;
    if sirets.windows(2).any(|w| w[0] >= w[1]) {
        return Err(registry("SIRETs must be sorted, without repetition"));
    }
    Ok(LegalPerson { siren, sirets })
}

pub(super) fn decode_key(d: &mut Decoder<'_>) -> Result<PartyKey, DecodeError> {
    let mut m = d.map_reader("party key")?;
    let public = VerifyingKey(m.required(party_key::PUBLIC_KEY, "public key", |d| {
        d.fixed_bytes::<32>("public key")
    })?);
    let valid_from = m.required(party_key::VALID_FROM, "valid from", timestamp)?;
    let valid_until = m.optional(party_key::VALID_UNTIL, timestamp)?;
    let compromised_at = m.optional(party_key::COMPROMISED_AT, timestamp)?;
    m.finish()?;
    Ok(PartyKey {
        public,
        valid_from,
        valid_until,
        compromised_at,
        ..PartyKey::new(public, valid_from)
    })
}

pub(super) fn decode_representation(d: &mut Decoder<'_>) -> Result<Representation, DecodeError> {
    let mut m = d.map_reader("representation")?;
    let representative = m.required(representation::REPRESENTATIVE, "representative", party_id)?;
    let subject = m.required(representation::SUBJECT, "subject", party_id)?;
    let kind = m.required(representation::KIND, "kind", |d| {
        RepresentationKind::from_code(d.uint()?).ok_or(DecodeError::InvalidValue {
            field: "representation kind",
            reason: "unknown code",
        })
    })?;
    let valid_from = m.required(representation::VALID_FROM, "valid from", timestamp)?;
    let valid_until = m.optional(representation::VALID_UNTIL, timestamp)?;
    m.finish()?;
    Ok(Representation {
        representative,
        subject,
        kind,
        valid_from,
        valid_until,
    })
}

/// The directory's JSON form, field for field the CBOR form with names instead of keys.
///
/// ```json
/// {
///   "version": 2,
///   "parties": [{
///     "id": "4f1c…", "name": "Mairie de Lyon", "roles": ["consumer"],
///     "keys": [{"kid": "…", "public_key": "hex…", "valid_from": 1735689600,
///               "valid_until": null, "compromised_at": null}]
///   }],
///   "representations": []
/// }
/// ```
/// `kid` is optional on input; when present it must match the key.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DirectoryJson {
    /// Format version, 1.
    pub version: u64,
    /// The parties.
    pub parties: Vec<PartyJson>,
    /// Who may act for whom.
    #[serde(default)]
    pub representations: Vec<RepresentationJson>,
}

/// A party in JSON.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartyJson {
    /// UUID.
    pub id: PartyId,
    /// Display name.
    pub name: String,
    /// Roles.
    pub roles: Vec<Role>,
    /// Keys.
    pub keys: Vec<PartyKeyJson>,
    /// For a legal person, its registry numbers (omitted otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legal_person: Option<LegalPersonJson>,
}

/// A legal person's registry numbers in JSON: `{"siren": "552100554", "sirets": ["…"]}`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LegalPersonJson {
    /// The SIREN, 9 digits.
    pub siren: Siren,
    /// The establishments' SIRETs, 14 digits each (may be omitted when empty).
    #[serde(default)]
    pub sirets: Vec<Siret>,
}

/// A key in JSON; keys and ids in lower-case hexadecimal.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartyKeyJson {
    /// Key id (derived; checked when given).
    #[serde(default)]
    pub kid: Option<String>,
    /// 32-byte Ed25519 public key, hexadecimal.
    pub public_key: String,
    /// Start of validity.
    pub valid_from: Timestamp,
    /// End of validity.
    #[serde(default)]
    pub valid_until: Option<Timestamp>,
    /// Compromise time.
    #[serde(default)]
    pub compromised_at: Option<Timestamp>,
}

/// A representation in JSON.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RepresentationJson {
    /// Who acts.
    pub representative: PartyId,
    /// For whom.
    pub subject: PartyId,
    /// On what basis.
    pub kind: RepresentationKind,
    /// From when.
    pub valid_from: Timestamp,
    /// Until when.
    #[serde(default)]
    pub valid_until: Option<Timestamp>,
}

impl From<&Directory> for DirectoryJson {
    fn from(dir: &Directory) -> Self {
        DirectoryJson {
            version: DIRECTORY_VERSION,
            parties: dir.parties().iter().map(PartyJson::from).collect(),
            representations: dir
                .representations()
                .iter()
                .map(RepresentationJson::from)
                .collect(),
        }
    }
}

impl From<&Party> for PartyJson {
    fn from(p: &Party) -> Self {
        PartyJson {
            id: p.id,
            name: p.name.clone(),
            roles: p.roles.clone(),
            keys: p.keys.iter().map(PartyKeyJson::from).collect(),
            legal_person: p.legal_person.as_ref().map(|l| LegalPersonJson {
                siren: l.siren,
                sirets: l.sirets.clone(),
            }),
        }
    }
}

impl From<&PartyKey> for PartyKeyJson {
    fn from(k: &PartyKey) -> Self {
        PartyKeyJson {
            kid: Some(k.kid().to_hex()),
            public_key: k.public.to_hex(),
            valid_from: k.valid_from,
            valid_until: k.valid_until,
            compromised_at: k.compromised_at,
        }
    }
}

impl From<&Representation> for RepresentationJson {
    fn from(r: &Representation) -> Self {
        RepresentationJson {
            representative: r.representative,
            subject: r.subject,
            kind: r.kind,
            valid_from: r.valid_from,
            valid_until: r.valid_until,
        }
    }
}

impl TryFrom<PartyKeyJson> for PartyKey {
    type Error = DirectoryError;

    /// The key, its public key 64 hex digits ([`DirectoryError::Malformed`] otherwise) and its
    /// kid, when given, its key's ([`DirectoryError::KidMismatch`] otherwise).
    fn try_from(k: PartyKeyJson) -> Result<Self, DirectoryError> {
        let public = crate::hex::decode(&k.public_key)
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .map(VerifyingKey)
            .ok_or_else(|| DirectoryError::Malformed("public_key must be 64 hex digits".into()))?;
        if k.kid.is_some_and(|given| given != public.key_id().to_hex()) {
            return Err(DirectoryError::KidMismatch {
                expected: public.key_id(),
            });
        }
        Ok(PartyKey {
            public,
            valid_from: k.valid_from,
            valid_until: k.valid_until,
            compromised_at: k.compromised_at,
            ..PartyKey::new(public, k.valid_from)
        })
    }
}

impl TryFrom<PartyJson> for Party {
    type Error = DirectoryError;

    /// The party, its roles sorted ([`DirectoryError::DuplicateRole`] for a role listed twice)
    /// and its keys read; the rest of the directory's rules are [`Directory::add_party`]'s.
    fn try_from(p: PartyJson) -> Result<Self, DirectoryError> {
        let mut roles = p.roles;
        let listed = roles.len();
        roles.sort();
        roles.dedup();
        if roles.len() != listed {
            return Err(DirectoryError::DuplicateRole(p.id));
        }
        let keys = p
            .keys
            .into_iter()
            .map(PartyKey::try_from)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Party {
            id: p.id,
            name: p.name,
            roles,
            keys,
            legal_person: p.legal_person.map(|l| LegalPerson {
                siren: l.siren,
                sirets: l.sirets,
            }),
        })
    }
}

impl From<RepresentationJson> for Representation {
    fn from(r: RepresentationJson) -> Self {
        Representation {
            representative: r.representative,
            subject: r.subject,
            kind: r.kind,
            valid_from: r.valid_from,
            valid_until: r.valid_until,
        }
    }
}

impl TryFrom<DirectoryJson> for Directory {
    type Error = DirectoryError;

    fn try_from(doc: DirectoryJson) -> Result<Self, DirectoryError> {
        if doc.version != DIRECTORY_VERSION {
            return Err(DirectoryError::Malformed(format!(
                "unsupported version {}",
                doc.version
            )));
        }
        let mut dir = Directory::new();
        for p in doc.parties {
            dir.add_party(Party::try_from(p)?)?;
        }
        for r in doc.representations {
            dir.add_representation(r.into())?;
        }
        Ok(dir)
    }
}
