//! The auditor's kit: fixed keys, a fixed clock and a ready cast, so that a consent scenario
//! reads in a few lines.
//!
//! ```
//! use consentry::testing::Scenario;
//! let mut s = Scenario::canteen();
//! let grant = s.sign_grant(&s.grant().build(&s.ceilings).unwrap());
//! // Given the parent's grant, when the city hall asks for the reference tax income…
//! let req = s.sign_request(&s.request(&grant));
//! // …then it is allowed.
//! assert!(s.decide(&req, &grant).is_allow());
//! // When it asks again in the same month, it is denied by frequency.
//! let again = s.sign_request(&s.request(&grant));
//! assert_eq!(s.decide(&again, &grant).codes(), ["frequency_exhausted"]);
//! ```
//!
//! An audit of the log reads as short: decisions logged as the provider logs them, a head
//! signed by the log operator, and a subject's history proved against it.
//!
//! ```
//! use consentry::testing::Scenario;
//! let mut s = Scenario::canteen();
//! let grant = s.sign_grant(&s.grant().build(&s.ceilings).unwrap());
//! let req = s.sign_request(&s.request(&grant));
//! assert!(s.decide_and_log(&req, &grant).is_allow()); // entry 0, a receipt
//! assert!(!s.decide_and_log(&req, &grant).is_allow()); // entry 1, a denial (a replay)
//! let head = s.sign_head();
//! let history = s.proven_history(s.parent, &head)?;
//! assert!(history.is_clean());
//! assert_eq!(history.verified.iter().map(|e| e.index).collect::<Vec<_>>(), [0, 1]);
//! assert!(s.proven_history(s.child, &head)?.verified.is_empty());
//! # Ok::<(), consentry::log::LogError>(())
//! ```
//!
//! [`Scenario::builder`] makes a cast other than the canteen, with the same fixed keys and
//! clock.
//!
//! Everything here is deterministic: keys come from fixed seeds, ids from a counter, time from
//! [`Scenario::now`]. Never use these keys outside tests.

#![allow(
    clippy::doc_markdown,
    reason = "the cast's names (DGFiP, FranceConnect) are names of bodies, not code"
)]

use crate::ceiling::Ceilings;
use crate::decision::{Basis, Decision, StatementRefusal, Verifier};
use crate::derivation::{Derivation, DerivationCode, DerivationKind, DerivationTerm};
use crate::digest::Digest;
use crate::directory::{Directory, PartyId, RepresentationKind, Role};
use crate::grant::{Grant, GrantBuilder};
use crate::habilitation::{Habilitation, HabilitationBuilder};
use crate::ids::{BasisId, RequestId};
use crate::keys::SigningKey;
use crate::ledger::{InMemoryLedger, Status};
use crate::log::TransferLog;
use crate::request::Request;
use crate::signed::{SignedPayload, Unverified};
use crate::statement::{Action, Statement};
use crate::terms::{AccessPattern, DataRange};
use crate::time::Timestamp;
use crate::vocab::{Category, Purpose};
use std::cell::Cell;
use std::collections::HashMap;

mod audit;
mod builder;
#[cfg(test)]
mod tests;

pub use builder::{ScenarioBuilder, ScenarioError, kit_ceiling};

/// A key derived from a name: SHA-256 of `consentry-testing:` followed by the name.
#[must_use]
pub fn key_for(name: &str) -> SigningKey {
    SigningKey::from_seed(&Digest::of_parts(&[b"consentry-testing:", name.as_bytes()]).0)
}

/// A party id derived from a name (the first 16 bytes of SHA-256 of `party:` and the name,
/// stamped as a version-8 UUID).
#[must_use]
pub fn party_for(name: &str) -> PartyId {
    let d = Digest::of_parts(&[b"party:", name.as_bytes()]);
    let mut b = [0u8; 16];
    b.copy_from_slice(&d.0[..16]);
    PartyId(uuid::Builder::from_custom_bytes(b).into_uuid())
}

/// The reference tax income category.
#[must_use]
pub fn rfr() -> Category {
    Category::new("dgfip:revenu_fiscal_reference").unwrap_or_else(|_| unreachable!())
}

/// The family quotient category.
#[must_use]
pub fn quotient_familial() -> Category {
    Category::new("cnaf:quotient_familial").unwrap_or_else(|_| unreachable!())
}

/// The tax household composition category.
#[must_use]
pub fn household() -> Category {
    Category::new("dgfip:composition_foyer").unwrap_or_else(|_| unreachable!())
}

/// The code of the kit's bracket of the reference tax income ([`rfr_bracket`]).
pub const RFR_BRACKET: &str = "dgfip:tranche_rfr";

/// The code of the kit's bracket of the family quotient ([`qf_bracket`]).
pub const QF_BRACKET: &str = "cnaf:tranche_qf";

/// The bracket of the reference tax income (up to 8 bounds), defined in the canteen's
/// vocabulary.
#[must_use]
pub fn rfr_bracket() -> Derivation {
    DerivationCode::new(RFR_BRACKET)
        .and_then(|code| Derivation::new(code, rfr(), DerivationKind::Bracket { max_bounds: 8 }))
        .unwrap_or_else(|_| unreachable!("a valid derivation"))
}

/// The bracket of the family quotient (up to 8 bounds), defined in the canteen's vocabulary.
#[must_use]
pub fn qf_bracket() -> Derivation {
    DerivationCode::new(QF_BRACKET)
        .and_then(|code| {
            Derivation::new(
                code,
                quotient_familial(),
                DerivationKind::Bracket { max_bounds: 8 },
            )
        })
        .unwrap_or_else(|_| unreachable!("a valid derivation"))
}

/// A derivation term, for a grant's [`derive`](crate::grant::GrantBuilder::derive): `category`
/// released as the derivation `code` with `parameters`.
///
/// # Panics
/// If the code is not `namespace:name` or the parameters are not 1 to 16 strictly increasing
/// values (a mistake in the test).
#[must_use]
pub fn derived(category: Category, code: &str, parameters: &[u64]) -> DerivationTerm {
    DerivationCode::new(code)
        .and_then(|code| DerivationTerm::new(category, code, parameters.to_vec()))
        .unwrap_or_else(|e| panic!("not a valid derivation term: {e}"))
}

/// The canteen pricing purpose.
#[must_use]
pub fn canteen_purpose() -> Purpose {
    Purpose::new("education:tarification_cantine")
        .and_then(|p| p.with_text("Tarification de la cantine scolaire"))
        .unwrap_or_else(|_| unreachable!())
}

const DAY: u64 = 86_400;

/// The canteen ceiling's access pattern: at most twice in 30 days.
pub const TWICE_A_MONTH: AccessPattern = match AccessPattern::periodic(2, 30 * DAY) {
    Ok(pattern) => pattern,
    Err(_) => panic!("two uses in 30 days is a valid pattern"),
};

/// Tax year 2025, the data range of the kit's grants.
fn tax_year_2025() -> DataRange {
    DataRange::year(2025).unwrap_or_else(|_| unreachable!("2025 is in the calendar"))
}

/// The name of the log operator: its party id is [`party_for`]`(LOG_OPERATOR)` and it signs
/// tree heads with [`key_for`]`(LOG_OPERATOR)`.
pub const LOG_OPERATOR: &str = "log-operator";

/// A scenario: a cast in a directory, ceilings, the deciding provider's ledger, a transfer log
/// and a clock. [`Scenario::canteen`] is the ready cast; [`Scenario::builder`] makes others.
///
/// The canteen cast: a parent, a child, the tax administration (DGFiP), the family allowance
/// fund (CNAF), a city hall, FranceConnect as consent manager, and a ministry as authority;
/// every key valid from 2025-01-01; the clock at 2025-09-01 (the start of the school year).
/// The fields naming these parties hold the same ids in any scenario (`party_for("parent")`,
/// …), whether or not its cast has them.
pub struct Scenario {
    /// The directory.
    pub directory: Directory,
    /// Purpose ceilings (for the canteen, of DGFiP and CNAF for canteen pricing).
    pub ceilings: Ceilings,
    /// The ledger of the provider whose verifier [`Scenario::decide`] uses.
    pub ledger: InMemoryLedger,
    /// The current time.
    pub now: Timestamp,
    /// Whose verifier decides (DGFiP in the canteen).
    pub verifier_provider: PartyId,
    /// The parent (a subject).
    pub parent: PartyId,
    /// The child (a subject, a minor represented by the parent).
    pub child: PartyId,
    /// The tax administration (a provider).
    pub dgfip: PartyId,
    /// The family allowance fund (a provider).
    pub cnaf: PartyId,
    /// The city hall (a consumer).
    pub mairie: PartyId,
    /// Another consumer.
    pub other_consumer: PartyId,
    /// FranceConnect (a consent manager with the parent's mandate).
    pub franceconnect: PartyId,
    /// The ministry that issues habilitations (an authority).
    pub authority: PartyId,
    /// The transfer log the log helpers ([`Scenario::log_decision`], …) append to, empty at
    /// first.
    pub log: TransferLog,
    /// The log operator ([`LOG_OPERATOR`]), whose id names the log and whose key signs its
    /// heads. It is in the directory only if the cast adds it.
    pub log_operator: PartyId,
    /// Each party's keys with the start of their windows, in the order given.
    keys: HashMap<PartyId, Vec<(Timestamp, SigningKey)>>,
    /// Each party's id by its name in the test.
    names: HashMap<String, PartyId>,
    counter: Cell<u64>,
}

impl Scenario {
    /// 2025-01-01: where every key of the kit starts, unless rotated in later.
    pub const EPOCH: Timestamp = Timestamp::from_secs(1_735_689_600);

    /// 2025-09-01 (the start of the school year): the clock of a new scenario.
    pub const CLOCK: Timestamp = Timestamp::from_secs(1_756_684_800);

    /// A builder starting from no party: see [`ScenarioBuilder`].
    pub fn builder() -> ScenarioBuilder {
        ScenarioBuilder::new()
    }

    /// The canteen builder: the canteen's parties, representations and ceilings, to which a
    /// test may add (a rotated key, another party, another ceiling).
    pub fn canteen_builder() -> ScenarioBuilder {
        let cast: [(&str, &str, Role); 8] = [
            ("parent", "Camille Martin", Role::Subject),
            ("child", "Léa Martin", Role::Subject),
            (
                "dgfip",
                "Direction générale des Finances publiques",
                Role::Provider,
            ),
            (
                "cnaf",
                "Caisse nationale des allocations familiales",
                Role::Provider,
            ),
            ("mairie", "Mairie de Lyon", Role::Consumer),
            ("other", "Mairie de Villeurbanne", Role::Consumer),
            ("franceconnect", "FranceConnect", Role::ConsentManager),
            (
                "authority",
                "Ministère de l'Éducation nationale",
                Role::Authority,
            ),
        ];
        let mut builder = Scenario::builder();
        for (name, display, role) in cast {
            builder = builder.party_named(name, display, &[role]);
        }
        builder
            .representation("franceconnect", "parent", RepresentationKind::Mandate)
            .representation("parent", "child", RepresentationKind::Parent)
            .derivation(rfr_bracket())
            .derivation(qf_bracket())
            .ceiling(kit_ceiling(
                party_for("dgfip"),
                canteen_purpose(),
                [rfr(), household()],
            ))
            .ceiling(kit_ceiling(
                party_for("cnaf"),
                canteen_purpose(),
                [quotient_familial()],
            ))
            .verifier("dgfip")
    }

    /// The canteen scenario.
    #[must_use]
    pub fn canteen() -> Self {
        Scenario::canteen_builder()
            .build()
            .unwrap_or_else(|e| unreachable!("the canteen cast is valid: {e}"))
    }

    /// The signing key of a party of the cast (or of the log operator): of its keys whose
    /// window has started at the clock, the one that started last (the last given, among
    /// several that started together); the first if none has.
    ///
    /// # Panics
    /// If `party` is not in the cast (a mistake in the test).
    pub fn key(&self, party: PartyId) -> &SigningKey {
        let keys = self
            .keys
            .get(&party)
            .unwrap_or_else(|| panic!("party {party} is not in the cast"));
        let (_, key) = keys
            .iter()
            .filter(|(from, _)| *from <= self.now)
            .max_by_key(|(from, _)| *from)
            .or_else(|| keys.first())
            .unwrap_or_else(|| unreachable!("every party of the cast has a key"));
        key
    }

    /// The id of the party named `name` in the cast.
    ///
    /// # Panics
    /// If the cast has no party by that name (a mistake in the test).
    #[must_use]
    pub fn party(&self, name: &str) -> PartyId {
        *self
            .names
            .get(name)
            .unwrap_or_else(|| panic!("no party named {name} in the cast"))
    }

    /// A fresh deterministic UUID.
    pub fn next_uuid(&self) -> uuid::Uuid {
        let n = self.counter.get() + 1;
        self.counter.set(n);
        let mut b = [0u8; 16];
        b[8..].copy_from_slice(&n.to_be_bytes());
        uuid::Builder::from_custom_bytes(b).into_uuid()
    }

    /// Moves the clock forward.
    pub fn advance_days(&mut self, days: u64) {
        self.now = self.now.plus_secs(days * DAY);
    }

    /// The parent's canteen grant, as the brief describes it: for the school year from now,
    /// at most once a month, the reference tax income for tax year 2025, kept one year.
    pub fn grant(&self) -> GrantBuilder {
        self.grant_for(self.parent)
    }

    /// The terms of [`Scenario::grant`] about another subject (the child, for one expressed
    /// by the parent or through a chain of representation).
    pub fn grant_for(&self, subject: PartyId) -> GrantBuilder {
        Grant::builder(
            BasisId(self.next_uuid()),
            subject,
            self.mairie,
            canteen_purpose(),
        )
        .cover(self.dgfip, [rfr()])
        .issued_at(self.now)
        .valid(self.now, self.now.plus_secs(365 * DAY))
        .access(AccessPattern::MONTHLY)
        .data_range(tax_year_2025())
        .retention_secs(365 * DAY)
    }

    /// Signs a grant with the key of whoever expressed it.
    pub fn sign_grant(&self, grant: &Grant) -> Vec<u8> {
        grant.sign(self.key(grant.expressed_by()))
    }

    /// A habilitation from the authority for the city hall: the family quotient at CNAF and
    /// the reference tax income at DGFiP, for canteen pricing, one year.
    pub fn habilitation(&self) -> Habilitation {
        self.habilitation_builder()
            .build(&self.ceilings)
            .unwrap_or_else(|e| unreachable!("the kit's habilitation is within its ceilings: {e}"))
    }

    /// The builder of [`Scenario::habilitation`], to change a term before building.
    pub fn habilitation_builder(&self) -> HabilitationBuilder {
        Habilitation::builder(
            BasisId(self.next_uuid()),
            self.authority,
            self.mairie,
            canteen_purpose(),
        )
        .legal_reference("CRPA art. L114-8 ; décret n° 2025-0000")
        .cover(self.cnaf, [quotient_familial()])
        .cover(self.dgfip, [rfr()])
        .issued_at(self.now)
        .valid(self.now, self.now.plus_secs(365 * DAY))
        .retention_secs(365 * DAY)
    }

    /// A request from the basis's consumer to the verifier's provider, for every category the
    /// basis covers there, its purpose, its data range (tax year 2025 for a habilitation),
    /// issued now, about the grant's subject (the parent for a habilitation).
    ///
    /// # Panics
    /// If `basis` is neither a grant nor a habilitation, or covers nothing at the verifier's
    /// provider (a mistake in the test: build that request with [`Request::builder`]).
    pub fn request(&self, basis: &[u8]) -> Request {
        let digest = Digest::of(basis);
        let provider = self.verifier_provider;
        let (id, consumer, subject, categories, purpose, data_range) =
            if let Ok(g) = Unverified::<Grant>::parse(basis) {
                let g = g.claims();
                (
                    g.id(),
                    g.consumer(),
                    g.subject(),
                    g.scope().categories_at(&provider).to_vec(),
                    g.purpose().clone(),
                    g.data_range(),
                )
            } else {
                let h = Unverified::<Habilitation>::parse(basis)
                    .unwrap_or_else(|e| panic!("not a grant nor a habilitation: {e}"));
                let h = h.claims();
                (
                    h.id(),
                    h.consumer(),
                    self.parent,
                    h.scope().categories_at(&provider).to_vec(),
                    h.purpose().clone(),
                    tax_year_2025(),
                )
            };
        Request::builder(RequestId(self.next_uuid()), consumer, provider, subject)
            .basis_id(id)
            .basis_digest(digest)
            .categories(categories)
            .purpose(purpose)
            .data_range(data_range)
            .issued_at(self.now)
            .build()
            .unwrap_or_else(|e| panic!("the basis covers nothing at the verifier's provider: {e}"))
    }

    /// Signs a request with the consumer's key.
    pub fn sign_request(&self, request: &Request) -> Vec<u8> {
        request.sign(self.key(request.consumer()))
    }

    /// A signed lifecycle statement about `basis` by `by`, issued now.
    pub fn statement(&self, basis: &[u8], action: Action, by: PartyId) -> Vec<u8> {
        let id = Unverified::<Grant>::parse(basis)
            .map(|g| g.claims().id())
            .or_else(|_| Unverified::<Habilitation>::parse(basis).map(|h| h.claims().id()))
            .unwrap_or(BasisId(uuid::Uuid::nil()));
        Statement {
            basis: id,
            basis_digest: Digest::of(basis),
            action,
            issued_by: by,
            issued_at: self.now,
        }
        .sign(self.key(by))
    }

    /// The verifier of [`Scenario::verifier_provider`].
    pub fn verifier(&self) -> Verifier<'_, InMemoryLedger> {
        Verifier::new(
            self.verifier_provider,
            &self.directory,
            &self.ceilings,
            &self.ledger,
        )
    }

    /// Decides on a request with its basis bytes, now.
    pub fn decide(&self, request: &[u8], basis: &[u8]) -> Decision {
        self.verifier()
            .decide(request, Basis::Signed(basis), self.now)
    }

    /// Applies a lifecycle statement, now.
    ///
    /// # Errors
    ///
    /// The refusals of [`Verifier::apply_statement`].
    pub fn apply(&self, statement: &[u8], basis: &[u8]) -> Result<Status, StatementRefusal> {
        self.verifier()
            .apply_statement(statement, Basis::Signed(basis), self.now)
    }
}
