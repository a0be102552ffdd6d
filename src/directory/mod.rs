//! Parties, their roles and keys, and who may act for whom.
//!
//! The directory answers the question every signature raises: which party and key does this
//! key id name, and may that key sign for that party at that time? The rule: a signature counts
//! only if the key belongs to the claimed signer, the object's issue time falls inside the key's
//! validity window (`valid_from <= issued_at < valid_until`), and the key had not been reported
//! compromised at that time (`issued_at < compromised_at`). See `docs/model.md`.

mod history;
mod party;
mod trust;
mod update;
mod update_json;
mod wire;

pub use history::{ChangeFault, DirectoryHistory, UpdateError, Version};
pub use party::{LegalPerson, Party, PartyId, PartyKey, Representation, RepresentationKind, Role};
pub use trust::Trust;
pub(crate) use trust::key_rule;
pub use update::{Change, DirectorySnapshot, DirectoryUpdate};
pub use wire::DirectoryJson;

use crate::keys::{KeyId, VerifyingKey};
use crate::registry::{Siren, Siret};
use crate::table::Table;
use crate::time::Timestamp;
use thiserror::Error;

/// Why a directory could not be built or changed.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum DirectoryError {
    /// Two parties share an id.
    #[error("party {0} is listed twice")]
    DuplicateParty(PartyId),
    /// Two keys share a key id.
    #[error("key {0} is listed twice")]
    DuplicateKey(KeyId),
    /// A party has no role.
    #[error("party {0} has no role")]
    NoRole(PartyId),
    /// A display name is empty or longer than [`Party::MAX_NAME`].
    #[error("party {0} has an empty or over-long name")]
    BadName(PartyId),
    /// A party has more than [`Party::MAX_KEYS`] keys.
    #[error("party {0} has too many keys")]
    TooManyKeys(PartyId),
    /// A key's window ends before it starts.
    #[error("key {0} has an empty validity window")]
    EmptyWindow(KeyId),
    /// A representation names a party the directory does not hold.
    #[error("a representation names unknown party {0}")]
    UnknownParty(PartyId),
    /// A key id given in a JSON document does not match its public key.
    #[error("a key id does not match its public key (expected {expected})")]
    KidMismatch {
        /// The id derived from the key.
        expected: KeyId,
    },
    /// A party lists a role twice.
    #[error("party {0} lists a role twice")]
    DuplicateRole(PartyId),
    /// The JSON or CBOR form is malformed.
    #[error("malformed directory: {0}")]
    Malformed(String),
    /// No key with this id.
    #[error("no key {0} in the directory")]
    NoSuchKey(KeyId),
    /// A window to end already ends at or before the requested end.
    #[error("already ended at {end}")]
    AlreadyEnded {
        /// The existing end.
        end: Timestamp,
    },
    /// No representation of the pair holds at or after the requested end.
    #[error("no representation of {subject} by {representative} to end")]
    NoSuchRepresentation {
        /// Who would act.
        representative: PartyId,
        /// For whom.
        subject: PartyId,
    },
    /// A legal person is given a key: it acts only through its legal representatives.
    #[error(
        "party {0} is a legal person: it holds no key and acts through its legal representatives"
    )]
    LegalPersonKey(PartyId),
    /// A legal person lists more than [`LegalPerson::MAX_SIRETS`] establishments.
    #[error("legal person {0} lists too many establishments")]
    TooManySirets(PartyId),
    /// A legal person lists an establishment of another SIREN.
    #[error("legal person {party} lists establishment {siret}, which is not of its SIREN")]
    ForeignSiret {
        /// The legal person.
        party: PartyId,
        /// The establishment's SIRET.
        siret: Siret,
    },
    /// A legal person lists an establishment twice.
    #[error("establishment {0} is listed twice")]
    DuplicateSiret(Siret),
    /// Two parties carry the same SIREN: one legal person, one party.
    #[error("SIREN {0} is carried by two parties")]
    DuplicateSiren(Siren),
    /// A legal representative is recorded for a subject that is not a legal person.
    #[error("party {subject} is not a legal person: it has no legal representative")]
    NotALegalPerson {
        /// The subject of the representation.
        subject: PartyId,
    },
    /// A parent or a guardian is recorded for a legal person.
    #[error(
        "party {subject} is a legal person: it has legal representatives, not a parent or a guardian"
    )]
    NotANaturalPerson {
        /// The subject of the representation.
        subject: PartyId,
    },
}

impl DirectoryError {
    /// A stable code naming the refusal, for matching, logs and bindings.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            DirectoryError::DuplicateParty(..) => "directory/duplicate_party",
            DirectoryError::DuplicateKey(..) => "directory/duplicate_key",
            DirectoryError::NoRole(..) => "directory/no_role",
            DirectoryError::BadName(..) => "directory/bad_name",
            DirectoryError::TooManyKeys(..) => "directory/too_many_keys",
            DirectoryError::EmptyWindow(..) => "directory/empty_window",
            DirectoryError::UnknownParty(..) => "directory/unknown_party",
            DirectoryError::KidMismatch { .. } => "directory/kid_mismatch",
            DirectoryError::DuplicateRole(..) => "directory/duplicate_role",
            DirectoryError::Malformed(..) => "directory/malformed",
            DirectoryError::NoSuchKey(..) => "directory/no_such_key",
            DirectoryError::AlreadyEnded { .. } => "directory/already_ended",
            DirectoryError::NoSuchRepresentation { .. } => "directory/no_such_representation",
            DirectoryError::LegalPersonKey(..) => "directory/legal_person_key",
            DirectoryError::TooManySirets(..) => "directory/too_many_sirets",
            DirectoryError::ForeignSiret { .. } => "directory/foreign_siret",
            DirectoryError::DuplicateSiret(..) => "directory/duplicate_siret",
            DirectoryError::DuplicateSiren(..) => "directory/duplicate_siren",
            DirectoryError::NotALegalPerson { .. } => "directory/not_a_legal_person",
            DirectoryError::NotANaturalPerson { .. } => "directory/not_a_natural_person",
        }
    }
}

/// Why a key may not sign for a party at a time. Each case is a distinct refusal reason of the
/// transfer decision.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum KeyRefusal {
    /// No party holds a key with this id.
    #[error("unknown key {kid}")]
    UnknownKey {
        /// The key id named by the object.
        kid: KeyId,
    },
    /// The key belongs to another party than the one the object names as its signer.
    #[error("key {kid} belongs to {owner}, not to the claimed signer {claimed}")]
    NotSignersKey {
        /// The key id.
        kid: KeyId,
        /// Its owner.
        owner: PartyId,
        /// The signer the object names.
        claimed: PartyId,
    },
    /// The object was issued before the key's window opened.
    #[error("key {kid} was not yet valid at {issued_at} (valid from {valid_from})")]
    NotYetValid {
        /// The key id.
        kid: KeyId,
        /// Start of the key's window.
        valid_from: Timestamp,
        /// The object's issue time.
        issued_at: Timestamp,
    },
    /// The object was issued after the key's window closed.
    #[error("key {kid} was no longer valid at {issued_at} (valid until {valid_until})")]
    Expired {
        /// The key id.
        kid: KeyId,
        /// End of the key's window.
        valid_until: Timestamp,
        /// The object's issue time.
        issued_at: Timestamp,
    },
    /// The object was issued at or after the key was reported compromised.
    #[error(
        "key {kid} was compromised at {compromised_at}, before the object's issue time {issued_at}"
    )]
    Compromised {
        /// The key id.
        kid: KeyId,
        /// When it was reported compromised.
        compromised_at: Timestamp,
        /// The object's issue time.
        issued_at: Timestamp,
    },
}

impl KeyRefusal {
    /// A stable code naming the refusal (`signature/…`), as the vectors name it.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            KeyRefusal::UnknownKey { .. } => "signature/unknown_key",
            KeyRefusal::NotSignersKey { .. } => "signature/not_signers_key",
            KeyRefusal::NotYetValid { .. } => "signature/key_not_yet_valid",
            KeyRefusal::Expired { .. } => "signature/key_expired",
            KeyRefusal::Compromised { .. } => "signature/key_compromised",
        }
    }
}

/// Parties, keys and representations, indexed for the lookups a verifier makes.
///
/// ```
/// use consentry::{SigningKey, Timestamp};
/// use consentry::directory::{Directory, KeyRefusal, Party, PartyId, PartyKey, Role};
/// let key = SigningKey::from_seed(&[9; 32]);
/// let id = PartyId::from_bytes([1; 16]);
/// let mut dir = Directory::new();
/// dir.add_party(
///     Party::new(id, "Mairie", Role::Consumer)
///         .with_key(PartyKey::new(key.verifying_key(), Timestamp::from_secs(100))),
/// )
/// .unwrap();
/// assert!(dir.check_key(&key.key_id(), id, Timestamp::from_secs(150)).is_ok());
/// assert!(matches!(
///     dir.check_key(&key.key_id(), id, Timestamp::from_secs(50)),
///     Err(KeyRefusal::NotYetValid { .. })
/// ));
/// ```
#[derive(Clone, Debug, Default)]
pub struct Directory {
    parties: Vec<Party>,
    by_id: Table<PartyId, usize>,
    by_kid: Table<KeyId, (usize, usize)>,
    by_siren: Table<Siren, usize>,
    representations: Vec<Representation>,
    // The same records grouped by pair, for the verifier's lookups.
    reps_by_pair: Table<(PartyId, PartyId), Vec<Representation>>,
}

impl Directory {
    /// An empty directory.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a party after checking it (unique id and key ids, a role, no role twice, a name,
    /// sane windows; for a legal person, no key, a SIREN no other party carries, and its own
    /// establishments only). Its roles, and a legal person's SIRETs, are stored sorted, as the
    /// CBOR form requires.
    ///
    /// # Errors
    ///
    /// [`DirectoryError::DuplicateParty`] if the id is already present, [`DirectoryError::NoRole`],
    /// [`DirectoryError::DuplicateRole`], [`DirectoryError::BadName`] or
    /// [`DirectoryError::TooManyKeys`] for a party without a role, with a role twice, without a
    /// name or with one too long, or with too many keys; [`DirectoryError::DuplicateKey`] if a key
    /// id is already present, [`DirectoryError::EmptyWindow`] if a key's window ends before it
    /// starts. For a legal person: [`DirectoryError::LegalPersonKey`] if it has a key,
    /// [`DirectoryError::DuplicateSiren`] if another party carries its SIREN,
    /// [`DirectoryError::TooManySirets`], [`DirectoryError::ForeignSiret`] or
    /// [`DirectoryError::DuplicateSiret`] if it lists more than
    /// [`LegalPerson::MAX_SIRETS`] establishments, one of another SIREN, or one twice.
    pub fn add_party(&mut self, mut party: Party) -> Result<(), DirectoryError> {
        if self.by_id.contains_key(&party.id) {
            return Err(DirectoryError::DuplicateParty(party.id));
        }
        if party.roles.is_empty() {
            return Err(DirectoryError::NoRole(party.id));
        }
        party.roles.sort();
        if party.roles.windows(2).any(|w| w[0] == w[1]) {
            return Err(DirectoryError::DuplicateRole(party.id));
        }
        if party.name.is_empty() || party.name.len() > Party::MAX_NAME {
            return Err(DirectoryError::BadName(party.id));
        }
        if party.keys.len() > Party::MAX_KEYS {
            return Err(DirectoryError::TooManyKeys(party.id));
        }
        if let Some(legal) = &mut party.legal_person {
            check_legal_person(party.id, legal, &party.keys)?;
            if self.by_siren.contains_key(&legal.siren) {
                return Err(DirectoryError::DuplicateSiren(legal.siren));
            }
        }
        let mut kids = Vec::with_capacity(party.keys.len());
        for key in &party.keys {
            let kid = key.kid();
            if self.by_kid.contains_key(&kid) || kids.contains(&kid) {
                return Err(DirectoryError::DuplicateKey(kid));
            }
            if key.valid_until.is_some_and(|end| end <= key.valid_from) {
                return Err(DirectoryError::EmptyWindow(kid));
            }
            kids.push(kid);
        }
        let index = self.parties.len();
        for (k, kid) in kids.into_iter().enumerate() {
            self.by_kid.insert(kid, (index, k));
        }
        self.by_id.insert(party.id, index);
        if let Some(legal) = &party.legal_person {
            self.by_siren.insert(legal.siren, index);
        }
        self.parties.push(party);
        Ok(())
    }

    /// Records that `representative` may act for `subject` (both must be in the directory).
    ///
    /// # Errors
    ///
    /// [`DirectoryError::UnknownParty`] if the representative or the subject is not in the
    /// directory; [`DirectoryError::NotALegalPerson`] for a legal representative of a subject
    /// that is not a legal person, [`DirectoryError::NotANaturalPerson`] for a parent or a
    /// guardian of one that is (see [`RepresentationKind::may_represent`]).
    pub fn add_representation(&mut self, rep: Representation) -> Result<(), DirectoryError> {
        for id in [rep.representative, rep.subject] {
            if !self.by_id.contains_key(&id) {
                return Err(DirectoryError::UnknownParty(id));
            }
        }
        let legal_person = self.party(&rep.subject).is_some_and(Party::is_legal_person);
        if !rep.kind.may_represent(legal_person) {
            let subject = rep.subject;
            return Err(if legal_person {
                DirectoryError::NotANaturalPerson { subject }
            } else {
                DirectoryError::NotALegalPerson { subject }
            });
        }
        self.reps_by_pair
            .entry((rep.representative, rep.subject))
            .or_default()
            .push(rep.clone());
        self.representations.push(rep);
        Ok(())
    }

    /// Adds `key` to the keys of `party`.
    ///
    /// # Errors
    ///
    /// [`DirectoryError::UnknownParty`] if no party has the id `party`,
    /// [`DirectoryError::DuplicateKey`] if a party already holds a key with the same id (a
    /// retired key's id included: a kid is never reused), [`DirectoryError::EmptyWindow`] if the
    /// key's window ends before it starts, [`DirectoryError::TooManyKeys`] if the party already
    /// holds [`Party::MAX_KEYS`] keys, [`DirectoryError::LegalPersonKey`] if the party is a
    /// legal person.
    pub fn add_key(&mut self, party: PartyId, key: PartyKey) -> Result<(), DirectoryError> {
        let index = *self
            .by_id
            .get(&party)
            .ok_or(DirectoryError::UnknownParty(party))?;
        if self.parties[index].is_legal_person() {
            return Err(DirectoryError::LegalPersonKey(party));
        }
        let kid = key.kid();
        if self.by_kid.contains_key(&kid) {
            return Err(DirectoryError::DuplicateKey(kid));
        }
        if key.valid_until.is_some_and(|end| end <= key.valid_from) {
            return Err(DirectoryError::EmptyWindow(kid));
        }
        let keys = &mut self.parties[index].keys;
        if keys.len() >= Party::MAX_KEYS {
            return Err(DirectoryError::TooManyKeys(party));
        }
        self.by_kid.insert(kid, (index, keys.len()));
        keys.push(key);
        Ok(())
    }

    /// Ends the window of the key `kid` at `at`: it signs nothing issued at or after `at`.
    /// Objects it signed before keep counting.
    ///
    /// # Errors
    ///
    /// [`DirectoryError::NoSuchKey`] if no party holds the key, [`DirectoryError::EmptyWindow`]
    /// if `at` is not after the key's `valid from`, [`DirectoryError::AlreadyEnded`] if the key's
    /// window already ends at or before `at` (a window is shortened, never lengthened).
    pub fn retire_key(&mut self, kid: &KeyId, at: Timestamp) -> Result<(), DirectoryError> {
        let (p, k) = *self
            .by_kid
            .get(kid)
            .ok_or(DirectoryError::NoSuchKey(*kid))?;
        let key = &mut self.parties[p].keys[k];
        if at <= key.valid_from {
            return Err(DirectoryError::EmptyWindow(*kid));
        }
        if let Some(end) = key.valid_until.filter(|end| *end <= at) {
            return Err(DirectoryError::AlreadyEnded { end });
        }
        key.valid_until = Some(at);
        Ok(())
    }

    /// Ends at `at` every representation of `representative` for `subject` that holds at `at`
    /// or starts later (a later one then holds for no time at all, and is ended at its start).
    ///
    /// # Errors
    ///
    /// [`DirectoryError::NoSuchRepresentation`] if no record of the pair holds at `at` or starts
    /// after it.
    pub fn end_representation(
        &mut self,
        representative: PartyId,
        subject: PartyId,
        at: Timestamp,
    ) -> Result<(), DirectoryError> {
        let open = |r: &Representation| {
            r.representative == representative
                && r.subject == subject
                && r.valid_until.is_none_or(|end| at < end)
        };
        if !self.representations.iter().any(open) {
            return Err(DirectoryError::NoSuchRepresentation {
                representative,
                subject,
            });
        }
        let end = |r: &mut Representation| {
            if open(r) {
                r.valid_until = Some(at.max(r.valid_from));
            }
        };
        self.representations.iter_mut().for_each(end);
        if let Some(pair) = self.reps_by_pair.get_mut(&(representative, subject)) {
            pair.iter_mut().for_each(end);
        }
        Ok(())
    }

    /// Records that the key `kid` was compromised at `at`: nothing it signs from then on counts.
    /// An earlier report stands if there is one.
    ///
    /// # Errors
    ///
    /// [`DirectoryError::NoSuchKey`] if no party holds the key `kid`.
    pub fn report_compromise(&mut self, kid: &KeyId, at: Timestamp) -> Result<(), DirectoryError> {
        let (p, k) = *self
            .by_kid
            .get(kid)
            .ok_or(DirectoryError::NoSuchKey(*kid))?;
        let key = &mut self.parties[p].keys[k];
        key.compromised_at = Some(key.compromised_at.map_or(at, |t| t.min(at)));
        Ok(())
    }

    /// The party with this id.
    #[must_use]
    pub fn party(&self, id: &PartyId) -> Option<&Party> {
        self.by_id.get(id).map(|&i| &self.parties[i])
    }

    /// Every party, in the order added.
    #[must_use]
    pub fn parties(&self) -> &[Party] {
        &self.parties
    }

    /// Every representation record.
    #[must_use]
    pub fn representations(&self) -> &[Representation] {
        &self.representations
    }

    /// The legal person carrying this SIREN.
    #[must_use]
    pub fn legal_person(&self, siren: &Siren) -> Option<&Party> {
        self.by_siren.get(siren).map(|&i| &self.parties[i])
    }

    /// The party and key this key id names.
    #[must_use]
    pub fn key(&self, kid: &KeyId) -> Option<(&Party, &PartyKey)> {
        self.by_kid.get(kid).map(|&(p, k)| {
            let party = &self.parties[p];
            (party, &party.keys[k])
        })
    }

    /// Applies the signature rule: see [`Trust::check_key`](trait.Trust.html#method.check_key).
    ///
    /// # Errors
    ///
    /// As [`Trust::check_key`](trait.Trust.html#method.check_key).
    pub fn check_key(
        &self,
        kid: &KeyId,
        signer: PartyId,
        issued_at: Timestamp,
    ) -> Result<&VerifyingKey, KeyRefusal> {
        <dyn Trust>::check_key(self, kid, signer, issued_at)
    }

    /// The representation under which `representative` may act for `subject` at `at`, if any:
    /// see [`Trust::representation`](trait.Trust.html#method.representation).
    #[must_use]
    pub fn representation(
        &self,
        representative: PartyId,
        subject: PartyId,
        at: Timestamp,
    ) -> Option<&Representation> {
        <dyn Trust>::representation(self, representative, subject, at)
    }
}

/// A legal person's own rules: no key, its establishments of its SIREN, at most
/// [`LegalPerson::MAX_SIRETS`], none twice (they are sorted here).
fn check_legal_person(
    id: PartyId,
    legal: &mut LegalPerson,
    keys: &[PartyKey],
) -> Result<(), DirectoryError> {
    if !keys.is_empty() {
        return Err(DirectoryError::LegalPersonKey(id));
    }
    if legal.sirets.len() > LegalPerson::MAX_SIRETS {
        return Err(DirectoryError::TooManySirets(id));
    }
    if let Some(siret) = legal.sirets.iter().find(|s| s.siren() != legal.siren) {
        return Err(DirectoryError::ForeignSiret {
            party: id,
            siret: *siret,
        });
    }
    legal.sirets.sort_unstable();
    if let Some(w) = legal.sirets.windows(2).find(|w| w[0] == w[1]) {
        return Err(DirectoryError::DuplicateSiret(w[0]));
    }
    Ok(())
}

impl Trust for Directory {
    fn find_key(&self, kid: &KeyId) -> Option<(PartyId, &PartyKey)> {
        self.key(kid).map(|(party, key)| (party.id, key))
    }

    /// Roles carry no window in this directory: a party holds its roles for as long as it is
    /// listed.
    fn has_role(&self, party: PartyId, role: Role, _at: Timestamp) -> bool {
        self.party(&party).is_some_and(|p| p.has_role(role))
    }

    fn representations_between(
        &self,
        representative: PartyId,
        subject: PartyId,
    ) -> &[Representation] {
        self.reps_by_pair
            .get(&(representative, subject))
            .map_or(&[], Vec::as_slice)
    }
}

#[cfg(test)]
mod tests;
