//! Habilitations: the statutory basis (article L114-8 of the French CRPA) on which an authority
//! lets a consumer obtain categories from providers without a per-subject grant.

use crate::cbor::{DecodeError, Decoder, Encoder};
use crate::ceiling::{CeilingExcess, CeilingTerms, Ceilings};
use crate::cose::ObjectKind;
use crate::directory::PartyId;
use crate::ids::BasisId;
use crate::labels::habilitation;
use crate::signed::SignedPayload;
use crate::terms::Scope;
use crate::time::Timestamp;
use crate::vocab::{Category, Purpose};
use crate::wire::{self, FORMAT_VERSION};
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// A habilitation's terms, signed by an authority. Made with [`Habilitation::builder`].
///
/// ```
/// use consentry::{BasisId, Category, Ceilings, Habilitation, PartyId, Purpose, PurposeCeiling, Timestamp};
/// let (authority, mairie, cnaf) =
///     (PartyId::from_bytes([5; 16]), PartyId::from_bytes([2; 16]), PartyId::from_bytes([3; 16]));
/// let quotient = Category::new("cnaf:quotient_familial").unwrap();
/// let canteen = Purpose::new("education:cantine").unwrap();
/// // CNAF's published ceiling for this purpose.
/// let mut ceilings = Ceilings::new();
/// ceilings.publish(PurposeCeiling {
///     publisher: cnaf,
///     purpose: canteen.clone(),
///     categories: vec![quotient.clone()],
///     max_validity_secs: 31_536_000,
///     max_access: consentry::AccessPattern::MONTHLY,
///     max_retention_secs: 31_536_000,
///     max_data_range_secs: 31_536_000,
///     derived_only: Vec::new(),
/// });
/// let h = Habilitation::builder(BasisId::from_bytes([7; 16]), authority, mairie, canteen)
///     .legal_reference("CRPA art. L114-8; arrêté du 1er janvier 2025")
///     .cover(cnaf, [quotient])
///     .issued_at(Timestamp::from_secs(100))
///     .valid(Timestamp::from_secs(100), Timestamp::from_secs(1_000_000))
///     .retention_secs(31_536_000)
///     .build(&ceilings)
///     .unwrap();
/// assert_eq!(h.authority(), authority);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
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

crate::json::checked_deserialize!(Habilitation, HabilitationJson);

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
    type Error = HabilitationError;
    fn try_from(j: HabilitationJson) -> Result<Self, HabilitationError> {
        let h = Habilitation {
            id: j.id,
            authority: j.authority,
            consumer: j.consumer,
            scope: j.scope,
            purpose: j.purpose,
            legal_reference: j.legal_reference,
            issued_at: j.issued_at,
            not_before: j.not_before,
            expires_at: j.expires_at,
            retention_secs: j.retention_secs,
        };
        h.check()?;
        Ok(h)
    }
}

/// Longest legal reference text, in bytes.
pub const MAX_LEGAL_REFERENCE: usize = 512;

/// Why a habilitation could not be built or read.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum HabilitationError {
    /// A required term was not set.
    #[error("the habilitation's {0} is not set")]
    Missing(&'static str),
    /// The scope is empty or malformed.
    #[error("the habilitation covers no (provider, category) pair, or too many")]
    BadScope,
    /// `expires_at` is not after `not_before`.
    #[error("the habilitation's validity window is empty")]
    EmptyWindow,
    /// The legal reference is empty or longer than [`MAX_LEGAL_REFERENCE`] bytes.
    #[error("the legal reference must be 1 to 512 bytes")]
    BadLegalReference,
    /// The habilitation goes beyond the purpose ceilings.
    #[error("the habilitation goes beyond the purpose ceilings: {0:?}")]
    BeyondCeiling(Vec<CeilingExcess>),
}

impl HabilitationError {
    /// A stable code naming the refusal, for matching, logs and bindings.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            HabilitationError::Missing(_) => "habilitation/missing_term",
            HabilitationError::BadScope => "habilitation/bad_scope",
            HabilitationError::EmptyWindow => "habilitation/empty_window",
            HabilitationError::BadLegalReference => "habilitation/bad_legal_reference",
            HabilitationError::BeyondCeiling(_) => "habilitation/beyond_ceiling",
        }
    }
}

/// Builds a [`Habilitation`], refusing one beyond the purpose ceilings (see
/// [`Habilitation`] for an example).
#[derive(Clone, Debug)]
#[must_use]
pub struct HabilitationBuilder {
    id: BasisId,
    authority: PartyId,
    consumer: PartyId,
    purpose: Purpose,
    scope: Scope,
    legal_reference: Option<String>,
    issued_at: Option<Timestamp>,
    window: Option<(Timestamp, Timestamp)>,
    retention_secs: Option<u64>,
}

impl HabilitationBuilder {
    /// The legal text the habilitation rests on (1 to [`MAX_LEGAL_REFERENCE`] bytes).
    pub fn legal_reference(mut self, text: impl Into<String>) -> Self {
        self.legal_reference = Some(text.into());
        self
    }
    /// Covers `categories` at `provider`.
    pub fn cover(
        mut self,
        provider: PartyId,
        categories: impl IntoIterator<Item = Category>,
    ) -> Self {
        self.scope.add(provider, categories);
        self
    }
    /// Signing time.
    pub fn issued_at(mut self, t: Timestamp) -> Self {
        self.issued_at = Some(t);
        self
    }
    /// Validity window `[not_before, expires_at)`.
    pub fn valid(mut self, not_before: Timestamp, expires_at: Timestamp) -> Self {
        self.window = Some((not_before, expires_at));
        self
    }
    /// Retention in seconds.
    pub fn retention_secs(mut self, secs: u64) -> Self {
        self.retention_secs = Some(secs);
        self
    }

    /// Builds the habilitation, refusing it if it goes beyond `ceilings`.
    ///
    /// # Errors
    ///
    /// [`HabilitationError::Missing`] if the legal reference, issue time, validity window or
    /// retention was not set; [`HabilitationError::EmptyWindow`],
    /// [`HabilitationError::BadScope`] or [`HabilitationError::BadLegalReference`] if the window
    /// is empty, the scope empty or malformed, or the legal reference empty or too long;
    /// [`HabilitationError::BeyondCeiling`] (with every excess) if it goes beyond `ceilings`.
    pub fn build(self, ceilings: &Ceilings) -> Result<Habilitation, HabilitationError> {
        let h = self.build_unchecked()?;
        let excess = ceilings.excesses(&h.ceiling_terms());
        if excess.is_empty() {
            Ok(h)
        } else {
            Err(HabilitationError::BeyondCeiling(excess))
        }
    }

    /// Builds the habilitation without judging it against ceilings
    /// (`danger::UncheckedHabilitation`).
    pub(crate) fn build_unchecked(self) -> Result<Habilitation, HabilitationError> {
        use HabilitationError::Missing;
        let (not_before, expires_at) = self.window.ok_or(Missing("validity window"))?;
        let h = Habilitation {
            id: self.id,
            authority: self.authority,
            consumer: self.consumer,
            scope: self.scope,
            purpose: self.purpose,
            legal_reference: self.legal_reference.ok_or(Missing("legal reference"))?,
            issued_at: self.issued_at.ok_or(Missing("issue time"))?,
            not_before,
            expires_at,
            retention_secs: self.retention_secs.ok_or(Missing("retention"))?,
        };
        h.check()?;
        Ok(h)
    }
}

impl Habilitation {
    /// Starts a habilitation by `authority` for `consumer`, for `purpose`.
    pub fn builder(
        id: BasisId,
        authority: PartyId,
        consumer: PartyId,
        purpose: Purpose,
    ) -> HabilitationBuilder {
        HabilitationBuilder {
            id,
            authority,
            consumer,
            purpose,
            scope: Scope::new(),
            legal_reference: None,
            issued_at: None,
            window: None,
            retention_secs: None,
        }
    }

    /// The invariants every habilitation holds, however it was made: its builder, its JSON
    /// and its CBOR decoder use this one check.
    fn check(&self) -> Result<(), HabilitationError> {
        if self.expires_at <= self.not_before {
            return Err(HabilitationError::EmptyWindow);
        }
        if !self.scope.is_well_formed() {
            return Err(HabilitationError::BadScope);
        }
        if self.legal_reference.is_empty() || self.legal_reference.len() > MAX_LEGAL_REFERENCE {
            return Err(HabilitationError::BadLegalReference);
        }
        Ok(())
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
            // A habilitation applies no derivation: the law it rests on names the data it
            // opens, so a category a ceiling releases only derived is beyond it.
            derivations: &[],
        }
    }
}

impl SignedPayload for Habilitation {
    const KIND: ObjectKind = ObjectKind::Habilitation;

    fn encode(&self, e: &mut Encoder) {
        e.map(11 + usize::from(self.purpose.text().is_some()));
        e.uint(habilitation::VERSION).uint(FORMAT_VERSION);
        e.uint(habilitation::ID).bytes(self.id.0.as_bytes());
        e.uint(habilitation::AUTHORITY)
            .bytes(self.authority.as_bytes());
        e.uint(habilitation::CONSUMER)
            .bytes(self.consumer.as_bytes());
        e.uint(habilitation::SCOPE);
        self.scope.write(e);
        wire::write_purpose(
            e,
            &self.purpose,
            habilitation::PURPOSE,
            habilitation::PURPOSE_TEXT,
        );
        e.uint(habilitation::LEGAL_REFERENCE)
            .text(&self.legal_reference);
        e.uint(habilitation::ISSUED_AT).uint(self.issued_at.0);
        e.uint(habilitation::NOT_BEFORE).uint(self.not_before.0);
        e.uint(habilitation::EXPIRES_AT).uint(self.expires_at.0);
        e.uint(habilitation::RETENTION).uint(self.retention_secs);
    }

    fn decode(d: &mut Decoder<'_>) -> Result<Self, DecodeError> {
        let mut m = d.map_reader("habilitation")?;
        m.version(habilitation::VERSION, FORMAT_VERSION)?;
        let id = BasisId(m.required(habilitation::ID, "id", wire::uuid)?);
        let authority = m.required(habilitation::AUTHORITY, "authority", wire::party_id)?;
        let consumer = m.required(habilitation::CONSUMER, "consumer", wire::party_id)?;
        let scope = m.required(habilitation::SCOPE, "scope", Scope::read)?;
        let purpose = wire::purpose(&mut m, habilitation::PURPOSE, habilitation::PURPOSE_TEXT)?;
        let legal = m.required(habilitation::LEGAL_REFERENCE, "legal reference", |d| {
            wire::text(d, "legal reference", MAX_LEGAL_REFERENCE)
        })?;
        let issued_at = m.required(habilitation::ISSUED_AT, "issued at", wire::timestamp)?;
        let not_before = m.required(habilitation::NOT_BEFORE, "not before", wire::timestamp)?;
        let expires_at = m.required(habilitation::EXPIRES_AT, "expires at", wire::timestamp)?;
        let retention = m.required(habilitation::RETENTION, "retention", Decoder::uint)?;
        m.finish()?;
        let h = Habilitation {
            id,
            authority,
            consumer,
            scope,
            purpose,
            legal_reference: legal,
            issued_at,
            not_before,
            expires_at,
            retention_secs: retention,
        };
        h.check().map_err(|e| DecodeError::InvalidValue {
            field: "habilitation",
            reason: match e {
                HabilitationError::EmptyWindow => "expires_at must be after not_before",
                HabilitationError::BadScope => "the scope is empty or malformed",
                _ => "the legal reference must be 1 to 512 bytes",
            },
        })?;
        Ok(h)
    }

    fn signer(&self) -> PartyId {
        self.authority
    }

    fn issued_at(&self) -> Timestamp {
        self.issued_at
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::danger::UncheckedHabilitation;
    use crate::danger::cbor::Value;
    use crate::testing::{Scenario, rfr};

    fn builder(s: &Scenario) -> HabilitationBuilder {
        s.habilitation_builder()
    }

    #[test]
    fn each_refusal_is_its_own_error() {
        let s = Scenario::canteen();
        let unset = Habilitation::builder(
            BasisId::from_bytes([1; 16]),
            s.authority,
            s.mairie,
            crate::testing::canteen_purpose(),
        );
        assert_eq!(
            unset.build(&s.ceilings),
            Err(HabilitationError::Missing("validity window"))
        );
        assert_eq!(
            builder(&s).valid(s.now, s.now).build(&s.ceilings),
            Err(HabilitationError::EmptyWindow)
        );
        assert_eq!(
            builder(&s).legal_reference("").build(&s.ceilings),
            Err(HabilitationError::BadLegalReference)
        );
        assert_eq!(
            builder(&s)
                .legal_reference("x".repeat(MAX_LEGAL_REFERENCE + 1))
                .build(&s.ceilings),
            Err(HabilitationError::BadLegalReference)
        );
        // A provider without a ceiling for the purpose.
        let beyond = builder(&s).cover(s.mairie, [rfr()]).build(&s.ceilings);
        assert!(matches!(beyond, Err(HabilitationError::BeyondCeiling(ref e)) if !e.is_empty()));
        assert!(
            builder(&s)
                .cover(s.mairie, [rfr()])
                .build_without_ceiling_check()
                .is_ok()
        );
        assert!(builder(&s).build(&s.ceilings).is_ok());
    }

    #[test]
    fn the_decoder_names_what_is_wrong() {
        let s = Scenario::canteen();
        let h = builder(&s).build(&s.ceilings).unwrap();
        let payload = Value::decode(&h.to_payload_bytes(), crate::Limits::OBJECT).unwrap();
        let with = |key: u64, value: Value| {
            let Value::Map(mut entries) = payload.clone() else {
                unreachable!()
            };
            for (k, v) in &mut entries {
                if *k == Value::Unsigned(key) {
                    *v = value.clone();
                }
            }
            Habilitation::from_payload_bytes(&Value::Map(entries).encode())
        };
        let refusal = |r| match r {
            Err(DecodeError::InvalidValue { field, reason }) => (field, reason),
            other => panic!("expected an invalid value, got {other:?}"),
        };
        assert_eq!(
            refusal(with(10, Value::Unsigned(h.not_before().secs()))),
            ("habilitation", "expires_at must be after not_before")
        );
        assert_eq!(
            refusal(with(7, Value::Text(String::new()))).0,
            "legal reference"
        );
    }
}
