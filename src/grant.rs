//! Consent grants: what a subject (or someone acting for them) agreed to.

use crate::cbor::{DecodeError, Decoder, Encoder};
use crate::ceiling::{CeilingExcess, CeilingTerms, Ceilings};
use crate::cose::ObjectKind;
use crate::derivation::{self, DerivationTerm};
use crate::directory::PartyId;
use crate::ids::BasisId;
use crate::labels::grant;
use crate::signed::SignedPayload;
use crate::terms::{AccessPattern, DataRange, Scope};
use crate::time::Timestamp;
use crate::vocab::{Category, Purpose};
use crate::wire::{self, FORMAT_VERSION};
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// A consent grant's terms. Signed by [`Grant::expressed_by`]: the subject, or the first party
/// of its [chain of representation](Grant::chain) acting for the subject (a parent, a guardian,
/// a consent manager under a mandate; see `docs/model.md`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Grant {
    id: BasisId,
    subject: PartyId,
    #[serde(default)]
    chain: Vec<PartyId>,
    consumer: PartyId,
    scope: Scope,
    purpose: Purpose,
    issued_at: Timestamp,
    not_before: Timestamp,
    expires_at: Timestamp,
    access: AccessPattern,
    data_range: DataRange,
    retention_secs: u64,
    #[serde(default)]
    onward_transfer: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    derivations: Vec<DerivationTerm>,
}

crate::json::checked_deserialize!(Grant, GrantJson);

/// The JSON form, checked into a [`Grant`] like the builder's output.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GrantJson {
    id: BasisId,
    subject: PartyId,
    #[serde(default)]
    chain: Vec<PartyId>,
    consumer: PartyId,
    scope: Scope,
    purpose: Purpose,
    issued_at: Timestamp,
    not_before: Timestamp,
    expires_at: Timestamp,
    access: AccessPattern,
    data_range: DataRange,
    retention_secs: u64,
    #[serde(default)]
    onward_transfer: bool,
    #[serde(default)]
    derivations: Vec<DerivationTerm>,
}

impl TryFrom<GrantJson> for Grant {
    type Error = GrantError;
    fn try_from(j: GrantJson) -> Result<Self, GrantError> {
        let grant = Grant {
            id: j.id,
            subject: j.subject,
            chain: j.chain,
            consumer: j.consumer,
            scope: j.scope,
            purpose: j.purpose,
            issued_at: j.issued_at,
            not_before: j.not_before,
            expires_at: j.expires_at,
            access: j.access,
            data_range: j.data_range,
            retention_secs: j.retention_secs,
            onward_transfer: j.onward_transfer,
            derivations: j.derivations,
        };
        grant.check()?;
        Ok(grant)
    }
}

/// Why a grant could not be built.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum GrantError {
    /// A required term was not set.
    #[error("the grant's {0} is not set")]
    Missing(&'static str),
    /// The scope is empty or malformed.
    #[error("the grant covers no (provider, category) pair, or too many")]
    BadScope,
    /// `expires_at` is not after `not_before`.
    #[error("the grant's validity window is empty")]
    EmptyWindow,
    /// The grant goes beyond the purpose ceilings.
    #[error("the grant goes beyond the purpose ceilings: {0:?}")]
    BeyondCeiling(Vec<CeilingExcess>),
    /// The chain of representation has more than [`Grant::MAX_LINKS`] links.
    #[error(
        "the chain of representation has {links} links; a grant may name at most {} links",
        Grant::MAX_LINKS
    )]
    ChainTooLong {
        /// How many links the chain has.
        links: usize,
    },
    /// A party appears twice in the chain of representation, or the chain names the subject.
    #[error("party {0} appears twice in the chain from the signer to the subject")]
    ChainRepeatsParty(PartyId),
    /// A derivation applies to a category the scope does not cover, or two to the same
    /// category.
    #[error("each derivation must apply to a category the grant covers, at most one per category")]
    BadDerivations,
}

impl GrantError {
    /// A stable code naming the refusal, for matching, logs and bindings.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            GrantError::Missing(_) => "grant/missing_term",
            GrantError::BadScope => "grant/bad_scope",
            GrantError::EmptyWindow => "grant/empty_window",
            GrantError::BeyondCeiling(_) => "grant/beyond_ceiling",
            GrantError::ChainTooLong { .. } => "grant/chain_too_long",
            GrantError::ChainRepeatsParty(_) => "grant/chain_repeats_party",
            GrantError::BadDerivations => "grant/bad_derivations",
        }
    }
}

impl Grant {
    /// The most links a chain of representation may have: a consent manager under a mandate
    /// from a guardian of a minor parent, for the parent's child, is three.
    pub const MAX_LINKS: usize = 3;

    /// Starts a grant by `subject` to `consumer` for `purpose`.
    pub fn builder(
        id: BasisId,
        subject: PartyId,
        consumer: PartyId,
        purpose: Purpose,
    ) -> GrantBuilder {
        GrantBuilder {
            id,
            subject,
            chain: Vec::new(),
            consumer,
            purpose,
            scope: Scope::new(),
            issued_at: None,
            window: None,
            access: None,
            data_range: None,
            retention_secs: None,
            onward_transfer: false,
            derivations: Vec::new(),
        }
    }

    /// The grant's id.
    #[must_use]
    pub fn id(&self) -> BasisId {
        self.id
    }
    /// The person the data is about.
    #[must_use]
    pub fn subject(&self) -> PartyId {
        self.subject
    }
    /// Who expressed the consent (and signed): the head of the [chain](Grant::chain), or the
    /// subject when the chain is empty.
    #[must_use]
    pub fn expressed_by(&self) -> PartyId {
        self.chain.first().copied().unwrap_or(self.subject)
    }
    /// The chain of representation: the parties from the signer towards the subject, the
    /// subject excluded; empty when the subject consented themself. At most
    /// [`Grant::MAX_LINKS`] parties, none twice, never the subject.
    ///
    /// ```
    /// # use consentry::testing::Scenario;
    /// let s = Scenario::canteen();
    /// // FranceConnect, under the parent's mandate, for the parent's child.
    /// let grant = s.grant_for(s.child).chain([s.franceconnect, s.parent]).build(&s.ceilings)?;
    /// assert_eq!(grant.expressed_by(), s.franceconnect);
    /// let links: Vec<_> = grant.links().collect();
    /// assert_eq!(links, [(s.franceconnect, s.parent), (s.parent, s.child)]);
    /// # Ok::<(), consentry::grant::GrantError>(())
    /// ```
    #[must_use]
    pub fn chain(&self) -> &[PartyId] {
        &self.chain
    }
    /// The links of the chain, signer first: each (representative, represented) pair that a
    /// representation in the directory must back, the last one ending at the subject. None
    /// when the subject consented themself.
    pub fn links(&self) -> impl Iterator<Item = (PartyId, PartyId)> + '_ {
        let represented = self
            .chain
            .iter()
            .skip(1)
            .copied()
            .chain(std::iter::once(self.subject));
        self.chain.iter().copied().zip(represented)
    }
    /// Who may ask for the data.
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
    /// How often data may be fetched.
    #[must_use]
    pub fn access(&self) -> AccessPattern {
        self.access
    }
    /// The period the data may cover.
    #[must_use]
    pub fn data_range(&self) -> DataRange {
        self.data_range
    }
    /// How long the consumer may keep the data, in seconds from the transfer.
    #[must_use]
    pub fn retention_secs(&self) -> u64 {
        self.retention_secs
    }
    /// Whether the consumer may pass the data on (never unless stated).
    #[must_use]
    pub fn onward_transfer(&self) -> bool {
        self.onward_transfer
    }
    /// The derivations the grant allows, sorted by category: a category named here is released
    /// only in that derived form, with these parameters (see the [derivation module](crate::derivation)).
    #[must_use]
    pub fn derivations(&self) -> &[DerivationTerm] {
        &self.derivations
    }
    /// The derivation the grant applies to `category`, if any.
    #[must_use]
    pub fn derivation(&self, category: &Category) -> Option<&DerivationTerm> {
        derivation_of(&self.derivations, category)
    }

    /// The invariants every grant holds, however it was made.
    fn check(&self) -> Result<(), GrantError> {
        if self.expires_at <= self.not_before {
            return Err(GrantError::EmptyWindow);
        }
        if !self.scope.is_well_formed() {
            return Err(GrantError::BadScope);
        }
        check_chain(&self.chain, self.subject)?;
        let covered = |c: &Category| {
            self.scope
                .entries()
                .iter()
                .any(|e| e.categories.binary_search(c).is_ok())
        };
        if !derivation::is_set_by_category(&self.derivations, crate::terms::MAX_SCOPE)
            || !self.derivations.iter().all(|t| covered(t.category()))
        {
            return Err(GrantError::BadDerivations);
        }
        Ok(())
    }

    /// The terms ceilings judge.
    #[must_use]
    pub fn ceiling_terms(&self) -> CeilingTerms<'_> {
        CeilingTerms {
            scope: &self.scope,
            purpose: &self.purpose,
            validity_secs: self.expires_at.0 - self.not_before.0,
            access: Some(&self.access),
            retention_secs: self.retention_secs,
            data_range_secs: Some(self.data_range.len_secs()),
            derivations: &self.derivations,
        }
    }
}

/// The term of `terms` (sorted by category) for `category`.
pub(crate) fn derivation_of<'t>(
    terms: &'t [DerivationTerm],
    category: &Category,
) -> Option<&'t DerivationTerm> {
    terms
        .binary_search_by(|t| t.category().cmp(category))
        .ok()
        .map(|i| &terms[i])
}

/// Builds a [`Grant`], refusing one beyond the purpose ceilings.
///
/// ```
/// use consentry::danger::UncheckedGrant; // only to skip the ceilings in this example
/// use consentry::grant::Grant;
/// use consentry::ids::BasisId;
/// use consentry::terms::{AccessPattern, DataRange};
/// use consentry::vocab::{Category, Purpose};
/// use consentry::directory::PartyId;
/// use consentry::Timestamp;
/// let (parent, mairie, dgfip) = (PartyId::from_bytes([1; 16]), PartyId::from_bytes([2; 16]), PartyId::from_bytes([3; 16]));
/// let grant = Grant::builder(BasisId::from_bytes([9; 16]), parent, mairie, Purpose::new("education:cantine").unwrap())
///     .cover(dgfip, [Category::new("dgfip:rfr").unwrap()])
///     .issued_at(Timestamp::from_secs(1000))
///     .valid(Timestamp::from_secs(1000), Timestamp::from_secs(2000))
///     .access(AccessPattern::MONTHLY)
///     .data_range(DataRange::year(2025).unwrap())
///     .retention_secs(86_400)
///     .build_without_ceiling_check()
///     .unwrap();
/// assert_eq!(grant.subject(), parent);
/// ```
#[derive(Clone, Debug)]
#[must_use]
pub struct GrantBuilder {
    id: BasisId,
    subject: PartyId,
    chain: Vec<PartyId>,
    consumer: PartyId,
    purpose: Purpose,
    scope: Scope,
    issued_at: Option<Timestamp>,
    window: Option<(Timestamp, Timestamp)>,
    access: Option<AccessPattern>,
    data_range: Option<DataRange>,
    retention_secs: Option<u64>,
    onward_transfer: bool,
    derivations: Vec<DerivationTerm>,
}

impl GrantBuilder {
    /// Consent expressed (and signed) by a direct representative of the subject: the chain
    /// `[representative]`, or no chain if `representative` is the subject.
    pub fn expressed_by(mut self, representative: PartyId) -> Self {
        self.chain = if representative == self.subject {
            Vec::new()
        } else {
            vec![representative]
        };
        self
    }
    /// Consent expressed through a chain of representation: the parties from the signer
    /// towards the subject, the subject excluded (an empty chain: the subject consents). The
    /// first party signs. Checked when building: at most [`Grant::MAX_LINKS`] parties, none
    /// twice, not the subject.
    pub fn chain(mut self, parties: impl IntoIterator<Item = PartyId>) -> Self {
        self.chain = parties.into_iter().collect();
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
    /// Access pattern.
    pub fn access(mut self, access: AccessPattern) -> Self {
        self.access = Some(access);
        self
    }
    /// Data range.
    pub fn data_range(mut self, range: DataRange) -> Self {
        self.data_range = Some(range);
        self
    }
    /// Retention in seconds.
    pub fn retention_secs(mut self, secs: u64) -> Self {
        self.retention_secs = Some(secs);
        self
    }
    /// Allows onward transfer (forbidden by default).
    pub fn allow_onward_transfer(mut self) -> Self {
        self.onward_transfer = true;
        self
    }
    /// Releases the term's category only in its derived form, with the term's fixed
    /// parameters (replacing any derivation set before for that category). Checked when
    /// building: the category must be covered; [`build`](GrantBuilder::build) also checks the
    /// derivation against the vocabulary and the ceilings.
    ///
    /// ```
    /// use consentry::derivation::{DerivationCode, DerivationTerm};
    /// use consentry::testing::{self, Scenario};
    /// let s = Scenario::canteen();
    /// let bracket = DerivationTerm::new(
    ///     testing::rfr(),
    ///     DerivationCode::new(testing::RFR_BRACKET).unwrap(),
    ///     vec![15_000, 30_000, 45_000],
    /// )
    /// .unwrap();
    /// let grant = s.grant().derive(bracket.clone()).build(&s.ceilings).unwrap();
    /// assert_eq!(grant.derivation(&testing::rfr()), Some(&bracket));
    /// ```
    pub fn derive(mut self, term: DerivationTerm) -> Self {
        match self
            .derivations
            .binary_search_by(|t| t.category().cmp(term.category()))
        {
            Ok(i) => self.derivations[i] = term,
            Err(i) => self.derivations.insert(i, term),
        }
        self
    }

    /// Builds the grant, refusing it if it goes beyond `ceilings`.
    ///
    /// # Errors
    ///
    /// [`GrantError::Missing`] if the validity window, issue time, access pattern, data range or
    /// retention was not set; [`GrantError::EmptyWindow`] if the window ends at or before its
    /// start; [`GrantError::BadScope`] if the scope is empty or malformed;
    /// [`GrantError::BeyondCeiling`] (with every excess) if the grant goes beyond `ceilings`;
    /// [`GrantError::ChainTooLong`] or [`GrantError::ChainRepeatsParty`] if the chain of
    /// representation has more than [`Grant::MAX_LINKS`] parties, names one twice or names the
    /// subject; [`GrantError::BadDerivations`] if a derivation applies to a category not covered.
    pub fn build(self, ceilings: &Ceilings) -> Result<Grant, GrantError> {
        let grant = self.build_unchecked()?;
        let excess = ceilings.excesses(&grant.ceiling_terms());
        if excess.is_empty() {
            Ok(grant)
        } else {
            Err(GrantError::BeyondCeiling(excess))
        }
    }

    /// Builds the grant without judging it against ceilings (`danger::UncheckedGrant`).
    pub(crate) fn build_unchecked(self) -> Result<Grant, GrantError> {
        let (not_before, expires_at) = self.window.ok_or(GrantError::Missing("validity window"))?;
        let grant = Grant {
            id: self.id,
            subject: self.subject,
            chain: self.chain,
            consumer: self.consumer,
            scope: self.scope,
            purpose: self.purpose,
            issued_at: self.issued_at.ok_or(GrantError::Missing("issue time"))?,
            not_before,
            expires_at,
            access: self.access.ok_or(GrantError::Missing("access pattern"))?,
            data_range: self.data_range.ok_or(GrantError::Missing("data range"))?,
            retention_secs: self
                .retention_secs
                .ok_or(GrantError::Missing("retention"))?,
            onward_transfer: self.onward_transfer,
            derivations: self.derivations,
        };
        grant.check()?;
        Ok(grant)
    }
}

impl SignedPayload for Grant {
    const KIND: ObjectKind = ObjectKind::Grant;

    fn encode(&self, e: &mut Encoder) {
        let n = 12
            + usize::from(!self.chain.is_empty())
            + usize::from(self.purpose.text().is_some())
            + usize::from(self.onward_transfer)
            + usize::from(!self.derivations.is_empty());
        e.map(n);
        e.uint(grant::VERSION).uint(FORMAT_VERSION);
        e.uint(grant::ID).bytes(self.id.0.as_bytes());
        e.uint(grant::SUBJECT).bytes(self.subject.as_bytes());
        if !self.chain.is_empty() {
            e.uint(grant::CHAIN).array(self.chain.len());
            for party in &self.chain {
                e.bytes(party.as_bytes());
            }
        }
        e.uint(grant::CONSUMER).bytes(self.consumer.as_bytes());
        e.uint(grant::SCOPE);
        self.scope.write(e);
        wire::write_purpose(e, &self.purpose, grant::PURPOSE, grant::PURPOSE_TEXT);
        e.uint(grant::ISSUED_AT).uint(self.issued_at.0);
        e.uint(grant::NOT_BEFORE).uint(self.not_before.0);
        e.uint(grant::EXPIRES_AT).uint(self.expires_at.0);
        e.uint(grant::ACCESS);
        self.access.write(e);
        e.uint(grant::DATA_RANGE);
        self.data_range.write(e);
        e.uint(grant::RETENTION).uint(self.retention_secs);
        if self.onward_transfer {
            e.uint(grant::ONWARD_TRANSFER).bool(true);
        }
        if !self.derivations.is_empty() {
            e.uint(grant::DERIVATIONS);
            derivation::write_terms(e, &self.derivations);
        }
    }

    fn decode(d: &mut Decoder<'_>) -> Result<Self, DecodeError> {
        let mut m = d.map_reader("grant")?;
        m.version(grant::VERSION, FORMAT_VERSION)?;
        let id = BasisId(m.required(grant::ID, "id", wire::uuid)?);
        let subject = m.required(grant::SUBJECT, "subject", wire::party_id)?;
        let chain = m.optional(grant::CHAIN, read_chain)?.unwrap_or_default();
        let consumer = m.required(grant::CONSUMER, "consumer", wire::party_id)?;
        let scope = m.required(grant::SCOPE, "scope", Scope::read)?;
        let purpose = wire::purpose(&mut m, grant::PURPOSE, grant::PURPOSE_TEXT)?;
        let issued_at = m.required(grant::ISSUED_AT, "issued at", wire::timestamp)?;
        let not_before = m.required(grant::NOT_BEFORE, "not before", wire::timestamp)?;
        let expires_at = m.required(grant::EXPIRES_AT, "expires at", wire::timestamp)?;
        let access = m.required(grant::ACCESS, "access", AccessPattern::read)?;
        let data_range = m.required(grant::DATA_RANGE, "data range", DataRange::read)?;
        let retention_secs = m.required(grant::RETENTION, "retention", Decoder::uint)?;
        let onward_transfer = m
            .optional(grant::ONWARD_TRANSFER, wire::true_flag)?
            .is_some();
        let derivations = m
            .optional(grant::DERIVATIONS, |d| {
                derivation::read_terms(d, crate::terms::MAX_SCOPE)
            })?
            .unwrap_or_default();
        m.finish()?;
        let grant = Grant {
            id,
            subject,
            chain,
            consumer,
            scope,
            purpose,
            issued_at,
            not_before,
            expires_at,
            access,
            data_range,
            retention_secs,
            onward_transfer,
            derivations,
        };
        grant.check().map_err(|e| match e {
            GrantError::ChainTooLong { links } => DecodeError::ChainTooLong {
                links,
                limit: Grant::MAX_LINKS,
            },
            GrantError::ChainRepeatsParty(party) => DecodeError::ChainRepeatsParty { party },
            GrantError::BadScope => DecodeError::InvalidValue {
                field: "grant",
                reason: "the scope is empty or malformed",
            },
            GrantError::BadDerivations => DecodeError::InvalidValue {
                field: "derivations",
                reason: "a derivation applies to a category the grant does not cover",
            },
            _ => DecodeError::InvalidValue {
                field: "grant",
                reason: "expires_at must be after not_before",
            },
        })?;
        Ok(grant)
    }

    fn signer(&self) -> PartyId {
        self.expressed_by()
    }

    fn issued_at(&self) -> Timestamp {
        self.issued_at
    }
}

/// The chain's own rules: at most [`Grant::MAX_LINKS`] parties, none twice, not the subject.
fn check_chain(chain: &[PartyId], subject: PartyId) -> Result<(), GrantError> {
    if chain.len() > Grant::MAX_LINKS {
        return Err(GrantError::ChainTooLong { links: chain.len() });
    }
    for (i, party) in chain.iter().enumerate() {
        if *party == subject || chain[..i].contains(party) {
            return Err(GrantError::ChainRepeatsParty(*party));
        }
    }
    Ok(())
}

/// Reads the header of a chain's array (a grant's key 3, a receipt's key 15): between 1 and
/// [`Grant::MAX_LINKS`] links, judged before any link is read.
pub(crate) fn chain_length(d: &mut Decoder<'_>) -> Result<usize, DecodeError> {
    let links = d.array()?;
    if links == 0 {
        return Err(DecodeError::InvalidValue {
            field: "chain",
            reason: "written only when not empty",
        });
    }
    if links > Grant::MAX_LINKS {
        return Err(DecodeError::ChainTooLong {
            links,
            limit: Grant::MAX_LINKS,
        });
    }
    Ok(links)
}

/// Reads a grant's chain (key 3): `[1*3 party-id]`, written only when not empty. The length is
/// judged before any party is read; a party named twice is refused here, the subject named in
/// it by [`Grant::check`].
pub(crate) fn read_chain(d: &mut Decoder<'_>) -> Result<Vec<PartyId>, DecodeError> {
    d.nested(|d| {
        let links = chain_length(d)?;
        let mut chain = Vec::with_capacity(links);
        for _ in 0..links {
            let party = wire::party_id(d)?;
            if chain.contains(&party) {
                return Err(DecodeError::ChainRepeatsParty { party });
            }
            chain.push(party);
        }
        Ok(chain)
    })
}

#[cfg(test)]
mod tests {
    use crate::signed::{SignedPayload, Unverified};
    use crate::testing::Scenario;
    use crate::vocab::Purpose;

    /// Whatever the builder accepts, the decoder must accept back: a grant the library can
    /// sign but every verifier refuses would be a trap for its signer.
    #[test]
    fn purpose_text_round_trips_or_is_refused_at_construction() {
        let s = Scenario::canteen();
        for text in ["", "x", &"y".repeat(Purpose::MAX_TEXT)] {
            let Ok(purpose) = Purpose::new("education:cantine").and_then(|p| p.with_text(text))
            else {
                continue;
            };
            let grant = crate::grant::Grant::builder(
                crate::ids::BasisId::from_bytes([1; 16]),
                s.parent,
                s.mairie,
                purpose,
            )
            .cover(s.dgfip, [crate::testing::rfr()])
            .issued_at(s.now)
            .valid(s.now, s.now.plus_secs(10))
            .access(crate::terms::AccessPattern::one_time())
            .data_range(crate::terms::DataRange::year(2025).unwrap())
            .retention_secs(10)
            .build_unchecked()
            .unwrap();
            let bytes = grant.sign(s.key(s.parent));
            assert!(
                Unverified::<crate::grant::Grant>::parse(&bytes).is_ok(),
                "purpose text {text:?} is accepted when building but refused when reading"
            );
        }
    }
}
