//! Habilitations: the statutory basis (article L114-8 of the French CRPA) on which an authority
//! lets a consumer obtain categories from providers without a per-subject grant.

use crate::cbor::{DecodeError, Decoder, Encoder};
use crate::ceiling::CeilingTerms;
use crate::cose::ObjectKind;
use crate::directory::PartyId;
use crate::ids::BasisId;
use crate::signed::SignedPayload;
use crate::terms::Scope;
use crate::time::Timestamp;
use crate::vocab::Purpose;
use crate::wire::{self, FORMAT_VERSION};
use serde::{Deserialize, Serialize};

/// A habilitation's terms, signed by an authority.
///
/// ```
/// use consentry::habilitation::Habilitation;
/// use consentry::ids::BasisId;
/// use consentry::terms::Scope;
/// use consentry::vocab::{Category, Purpose};
/// use consentry::directory::PartyId;
/// use consentry::Timestamp;
/// let mut scope = Scope::new();
/// scope.add(PartyId::from_bytes([3; 16]), [Category::new("cnaf:quotient_familial").unwrap()]);
/// let h = Habilitation::new(
///     BasisId::from_bytes([7; 16]),
///     PartyId::from_bytes([5; 16]),
///     PartyId::from_bytes([2; 16]),
///     scope,
///     Purpose::new("education:cantine").unwrap(),
///     "CRPA art. L114-8; arrêté du 1er janvier 2025",
///     Timestamp::from_secs(100),
///     (Timestamp::from_secs(100), Timestamp::from_secs(1_000_000)),
///     31_536_000,
/// )
/// .unwrap();
/// assert_eq!(h.authority(), PartyId::from_bytes([5; 16]));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "HabilitationJson")]
pub struct Habilitation {
    id: BasisId,
    authority: PartyId,
    consumer: PartyId,
    scope: Scope,
    purpose: Purpose,
    legal_reference: String,
    issued_at: Timestamp,
    not_before: Timestamp,
    expires_at: Timestamp,
    retention_secs: u64,
}

/// The unchecked JSON shape of a [`Habilitation`].
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HabilitationJson {
    id: BasisId,
    authority: PartyId,
    consumer: PartyId,
    scope: Scope,
    purpose: Purpose,
    legal_reference: String,
    issued_at: Timestamp,
    not_before: Timestamp,
    expires_at: Timestamp,
    retention_secs: u64,
}

impl TryFrom<HabilitationJson> for Habilitation {
    type Error = &'static str;
    fn try_from(j: HabilitationJson) -> Result<Self, &'static str> {
        Habilitation::new(
            j.id,
            j.authority,
            j.consumer,
            j.scope,
            j.purpose,
            j.legal_reference,
            j.issued_at,
            (j.not_before, j.expires_at),
            j.retention_secs,
        )
        .ok_or("invalid habilitation: empty window or legal reference empty or over 512 bytes")
    }
}

/// Longest legal reference text, in bytes.
pub const MAX_LEGAL_REFERENCE: usize = 512;

impl Habilitation {
    /// A habilitation; `None` if the scope is malformed, the window empty, or the legal
    /// reference empty or longer than [`MAX_LEGAL_REFERENCE`].
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        id: BasisId,
        authority: PartyId,
        consumer: PartyId,
        scope: Scope,
        purpose: Purpose,
        legal_reference: impl Into<String>,
        issued_at: Timestamp,
        (not_before, expires_at): (Timestamp, Timestamp),
        retention_secs: u64,
    ) -> Option<Self> {
        let legal_reference = legal_reference.into();
        let ok = scope.is_well_formed()
            && expires_at > not_before
            && !legal_reference.is_empty()
            && legal_reference.len() <= MAX_LEGAL_REFERENCE;
        ok.then_some(Habilitation {
            id,
            authority,
            consumer,
            scope,
            purpose,
            legal_reference,
            issued_at,
            not_before,
            expires_at,
            retention_secs,
        })
    }

    /// Its id.
    #[must_use]
    pub fn id(&self) -> BasisId {
        self.id
    }
    /// The authority that signed it.
    #[must_use]
    pub fn authority(&self) -> PartyId {
        self.authority
    }
    /// The consumer it empowers.
    #[must_use]
    pub fn consumer(&self) -> PartyId {
        self.consumer
    }
    /// Which categories from which providers.
    #[must_use]
    pub fn scope(&self) -> &Scope {
        &self.scope
    }
    /// For what purpose.
    #[must_use]
    pub fn purpose(&self) -> &Purpose {
        &self.purpose
    }
    /// The legal text it rests on.
    #[must_use]
    pub fn legal_reference(&self) -> &str {
        &self.legal_reference
    }
    /// When it was signed.
    #[must_use]
    pub fn issued_at(&self) -> Timestamp {
        self.issued_at
    }
    /// First second of validity.
    #[must_use]
    pub fn not_before(&self) -> Timestamp {
        self.not_before
    }
    /// First second after validity.
    #[must_use]
    pub fn expires_at(&self) -> Timestamp {
        self.expires_at
    }
    /// How long the consumer may keep the data, in seconds.
    #[must_use]
    pub fn retention_secs(&self) -> u64 {
        self.retention_secs
    }

    /// The terms ceilings judge.
    #[must_use]
    pub fn ceiling_terms(&self) -> CeilingTerms<'_> {
        CeilingTerms {
            scope: &self.scope,
            purpose: &self.purpose,
            validity_secs: self.expires_at.0 - self.not_before.0,
            access: None,
            retention_secs: self.retention_secs,
            data_range_secs: None,
        }
    }
}

impl SignedPayload for Habilitation {
    const KIND: ObjectKind = ObjectKind::Habilitation;

    fn encode(&self, e: &mut Encoder) {
        e.map(11 + usize::from(self.purpose.text().is_some()));
        e.uint(0).uint(FORMAT_VERSION);
        e.uint(1).bytes(self.id.0.as_bytes());
        e.uint(2).bytes(self.authority.as_bytes());
        e.uint(3).bytes(self.consumer.as_bytes());
        e.uint(4);
        self.scope.write(e);
        wire::write_purpose(e, &self.purpose, 5);
        e.uint(7).text(&self.legal_reference);
        e.uint(8).uint(self.issued_at.0);
        e.uint(9).uint(self.not_before.0);
        e.uint(10).uint(self.expires_at.0);
        e.uint(11).uint(self.retention_secs);
    }

    fn decode(d: &mut Decoder<'_>) -> Result<Self, DecodeError> {
        let mut m = d.map_reader("habilitation")?;
        m.version(FORMAT_VERSION)?;
        let id = BasisId(m.required(1, "id", wire::uuid)?);
        let authority = m.required(2, "authority", wire::party_id)?;
        let consumer = m.required(3, "consumer", wire::party_id)?;
        let scope = m.required(4, "scope", Scope::read)?;
        let purpose = wire::purpose(&mut m, 5)?;
        let legal = m.required(7, "legal reference", |d| {
            wire::text(d, "legal reference", MAX_LEGAL_REFERENCE)
        })?;
        let issued_at = m.required(8, "issued at", wire::timestamp)?;
        let not_before = m.required(9, "not before", wire::timestamp)?;
        let expires_at = m.required(10, "expires at", wire::timestamp)?;
        let retention = m.required(11, "retention", Decoder::uint)?;
        m.finish()?;
        Habilitation::new(
            id,
            authority,
            consumer,
            scope,
            purpose,
            legal,
            issued_at,
            (not_before, expires_at),
            retention,
        )
        .ok_or(DecodeError::InvalidValue {
            field: "validity",
            reason: "expires_at must be after not_before",
        })
    }

    fn signer(&self) -> PartyId {
        self.authority
    }

    fn issued_at(&self) -> Timestamp {
        self.issued_at
    }
}
