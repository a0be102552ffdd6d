use crate::crypto::{CryptoProvider, KeyCache};
use crate::keys::{KeyId, SignatureError, VerifyingKey};
use crate::registry::{Siren, Siret};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

pub use crate::party_id::PartyId;

/// What a party may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Role {
    /// A person the data is about; signs grants and lifecycle statements for themself.
    Subject,
    /// A body that holds data and decides on transfers.
    Provider,
    /// A body that asks for data.
    Consumer,
    /// Acts for subjects who gave it a mandate (an identity provider, a wallet operator).
    ConsentManager,
    /// Issues statutory habilitations.
    Authority,
}

impl Role {
    /// Every role, in code order.
    pub const ALL: [Role; 5] = [
        Role::Subject,
        Role::Provider,
        Role::Consumer,
        Role::ConsentManager,
        Role::Authority,
    ];

    /// The role's code on the wire.
    #[must_use]
    pub fn code(self) -> u64 {
        match self {
            Role::Subject => 0,
            Role::Provider => 1,
            Role::Consumer => 2,
            Role::ConsentManager => 3,
            Role::Authority => 4,
        }
    }

    /// The role with this code.
    #[must_use]
    pub fn from_code(code: u64) -> Option<Role> {
        Self::ALL.into_iter().find(|r| r.code() == code)
    }
}

/// One verification key of a party, with the window in which it may sign.
///
/// It also keeps the key as decoded by the first crypto provider that verifies with it and
/// has a decoded form (aws-lc-rs does, ring does not), so that a directory entry is decoded
/// once, not once per verification. That cache is invisible: it plays no part in equality,
/// and a record whose `public` is changed afterwards is never verified with the old key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartyKey {
    /// The public key.
    pub public: VerifyingKey,
    /// First second at which the key may sign.
    pub valid_from: Timestamp,
    /// First second at which the key may no longer sign (`None`: no planned end).
    pub valid_until: Option<Timestamp>,
    /// When the key was reported compromised: nothing it signs from then on counts.
    pub compromised_at: Option<Timestamp>,
    /// `public` as decoded by a provider, on its first verification.
    pub(super) decoded: KeyCache,
}

impl PartyKey {
    /// A key valid from `valid_from` with no planned end.
    #[must_use]
    pub fn new(public: VerifyingKey, valid_from: Timestamp) -> Self {
        PartyKey {
            public,
            valid_from,
            valid_until: None,
            compromised_at: None,
            decoded: KeyCache::default(),
        }
    }

    /// The same key with an end of validity.
    #[must_use]
    pub fn until(mut self, valid_until: Timestamp) -> Self {
        self.valid_until = Some(valid_until);
        self
    }

    /// The key's id (derived from the public key).
    #[must_use]
    pub fn kid(&self) -> KeyId {
        self.public.key_id()
    }

    /// Verifies an Ed25519 signature of `message` by this key with `provider`, through the
    /// key as that provider decoded it on a previous call when it can keep one. Only the
    /// signature: the window and compromise are the key rule's
    /// ([`Trust::check_key`](super::Trust#method.check_key)).
    ///
    /// ```
    /// use consentry::{crypto, PartyKey, SigningKey, Timestamp};
    /// let key = SigningKey::from_seed(&[5; 32]);
    /// let record = PartyKey::new(key.verifying_key(), Timestamp::from_secs(0));
    /// let signature = consentry::danger::sign_raw(&key, b"m");
    /// for provider in crypto::providers() {
    ///     assert!(record.verify_with(provider, b"m", &signature).is_ok());
    ///     assert!(record.verify_with(provider, b"n", &signature).is_err());
    /// }
    /// ```
    ///
    /// # Errors
    ///
    /// [`SignatureError`] if `signature` is not a valid signature of `message` by this key.
    pub fn verify_with(
        &self,
        provider: &CryptoProvider,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), SignatureError> {
        self.decoded
            .verify(provider, self.public.as_bytes(), message, signature)
    }

    /// The name of the provider whose decoded form of the key this record keeps, if any.
    #[must_use]
    pub fn decoded_by(&self) -> Option<&'static str> {
        self.decoded.provider()
    }
}

/// What makes a party a legal person (a company, an association): its number in the SIRENE
/// register, and the numbers of those of its establishments the directory lists.
///
/// A legal person holds no key: it acts, and consents, through its legal representatives
/// ([`RepresentationKind::LegalRepresentative`]), the natural persons the directory records as
/// acting for it.
///
/// ```
/// use consentry::directory::LegalPerson;
/// use consentry::registry::{Siren, Siret};
/// let company = LegalPerson::new(Siren::parse("552100554")?)
///     .with_siret(Siret::parse("55210055400013")?);
/// assert_eq!(company.sirets.len(), 1);
/// # Ok::<(), consentry::registry::RegistryError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LegalPerson {
    /// Its SIREN.
    pub siren: Siren,
    /// Establishments' SIRETs, each starting with [`siren`](LegalPerson::siren); sorted,
    /// without repetition, at most [`LegalPerson::MAX_SIRETS`] (the directory sorts them).
    pub sirets: Vec<Siret>,
}

impl LegalPerson {
    /// Most SIRETs a directory lists for one legal person.
    pub const MAX_SIRETS: usize = 64;

    /// A legal person with no establishment listed.
    #[must_use]
    pub fn new(siren: Siren) -> Self {
        LegalPerson {
            siren,
            sirets: Vec::new(),
        }
    }

    /// Lists an establishment.
    #[must_use]
    pub fn with_siret(mut self, siret: Siret) -> Self {
        if let Err(at) = self.sirets.binary_search(&siret) {
            self.sirets.insert(at, siret);
        }
        self
    }
}

/// A party: its id, name, roles and keys, and for a legal person its registry numbers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Party {
    /// The party's id.
    pub id: PartyId,
    /// A display name for people (at most [`Party::MAX_NAME`] bytes).
    pub name: String,
    /// Its roles, sorted, without repetition.
    pub roles: Vec<Role>,
    /// Its verification keys (none for a legal person).
    pub keys: Vec<PartyKey>,
    /// Present when the party is a legal person: its SIREN and establishments.
    pub legal_person: Option<LegalPerson>,
}

impl Party {
    /// Longest display name, in bytes of UTF-8.
    pub const MAX_NAME: usize = 256;
    /// Most keys per party.
    pub const MAX_KEYS: usize = 64;

    /// A party with one role and no key yet.
    pub fn new(id: PartyId, name: impl Into<String>, role: Role) -> Self {
        Party {
            id,
            name: name.into(),
            roles: vec![role],
            keys: Vec::new(),
            legal_person: None,
        }
    }

    /// A legal person as a subject: role [`Role::Subject`], no key (it consents through its
    /// legal representatives).
    ///
    /// ```
    /// use consentry::directory::{Directory, LegalPerson, Party, PartyId};
    /// use consentry::registry::Siren;
    /// let company = Party::legal_person(
    ///     PartyId::from_bytes([4; 16]),
    ///     "Boulangerie Martin SARL",
    ///     LegalPerson::new(Siren::parse("552100554")?),
    /// );
    /// let mut dir = Directory::new();
    /// dir.add_party(company).unwrap();
    /// # Ok::<(), consentry::registry::RegistryError>(())
    /// ```
    pub fn legal_person(id: PartyId, name: impl Into<String>, legal_person: LegalPerson) -> Self {
        Party {
            legal_person: Some(legal_person),
            ..Party::new(id, name, Role::Subject)
        }
    }

    /// Whether the party is a legal person.
    #[must_use]
    pub fn is_legal_person(&self) -> bool {
        self.legal_person.is_some()
    }

    /// Adds a role.
    #[must_use]
    pub fn with_role(mut self, role: Role) -> Self {
        if let Err(at) = self.roles.binary_search(&role) {
            self.roles.insert(at, role);
        }
        self
    }

    /// Adds a key.
    #[must_use]
    pub fn with_key(mut self, key: PartyKey) -> Self {
        self.keys.push(key);
        self
    }

    /// Whether the party has `role`.
    #[must_use]
    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }
}

/// How a representative may act for a subject.
///
/// A grant may be expressed through a chain of representations (see
/// [`Grant::chain`](crate::grant::Grant::chain)): a consent manager under a mandate from a
/// parent, who represents a child. A [`Mandate`](RepresentationKind::Mandate) may only be the
/// chain's first link; parents, guardians and legal representatives may follow one another.
///
/// ```
/// use consentry::directory::RepresentationKind;
/// assert_eq!(RepresentationKind::Guardian.code(), 1);
/// assert_eq!(RepresentationKind::from_code(2), Some(RepresentationKind::Mandate));
/// assert_eq!(
///     RepresentationKind::from_code(3),
///     Some(RepresentationKind::LegalRepresentative)
/// );
/// assert_eq!(RepresentationKind::from_code(4), None);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RepresentationKind {
    /// A parent acting for their minor child (parental authority).
    Parent,
    /// A guardian appointed to act for a person (a minor without a parent able to act, or a
    /// protected adult).
    Guardian,
    /// A consent manager the subject gave a mandate to.
    Mandate,
    /// A legal representative of a legal person (a company's manager, an association's
    /// president): only for a subject that is a [legal person](Party::legal_person). Parents and
    /// guardians, conversely, act only for natural persons.
    LegalRepresentative,
}

impl RepresentationKind {
    /// Every kind, in code order.
    pub const ALL: [RepresentationKind; 4] = [
        RepresentationKind::Parent,
        RepresentationKind::Guardian,
        RepresentationKind::Mandate,
        RepresentationKind::LegalRepresentative,
    ];

    /// The kind's code on the wire: 0 parent, 1 guardian, 2 mandate, 3 legal representative.
    #[must_use]
    pub fn code(self) -> u64 {
        match self {
            RepresentationKind::Parent => 0,
            RepresentationKind::Guardian => 1,
            RepresentationKind::Mandate => 2,
            RepresentationKind::LegalRepresentative => 3,
        }
    }

    /// The kind with this code.
    #[must_use]
    pub fn from_code(code: u64) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.code() == code)
    }

    /// Whether this is a legal representation (a parent, a guardian or a legal person's legal
    /// representative), which may stand anywhere in a chain, rather than a mandate, which may
    /// only be its first link.
    #[must_use]
    pub fn is_legal(self) -> bool {
        matches!(
            self,
            RepresentationKind::Parent
                | RepresentationKind::Guardian
                | RepresentationKind::LegalRepresentative
        )
    }

    /// Whether the kind may represent a subject that is (`true`) or is not (`false`) a legal
    /// person: a legal representative only a legal person, a parent or a guardian only a natural
    /// person, a mandate either.
    #[must_use]
    pub fn may_represent(self, legal_person: bool) -> bool {
        match self {
            RepresentationKind::Parent | RepresentationKind::Guardian => !legal_person,
            RepresentationKind::LegalRepresentative => legal_person,
            RepresentationKind::Mandate => true,
        }
    }
}

/// A record that `representative` may act for `subject` from `valid_from` until `valid_until`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Representation {
    /// Who acts.
    pub representative: PartyId,
    /// For whom.
    pub subject: PartyId,
    /// On what basis.
    pub kind: RepresentationKind,
    /// From when.
    pub valid_from: Timestamp,
    /// Until when (exclusive; `None`: until further notice).
    pub valid_until: Option<Timestamp>,
}

impl Representation {
    /// Whether the representation holds at `at`.
    #[must_use]
    pub fn holds_at(&self, at: Timestamp) -> bool {
        self.valid_from <= at && self.valid_until.is_none_or(|end| at < end)
    }
}
