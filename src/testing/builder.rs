//! The scenario builder: a cast of parties by name, with their keys, representations and
//! ceilings, for scenarios other than the canteen.

use super::{DAY, LOG_OPERATOR, Scenario, TWICE_A_MONTH, key_for, party_for};
use crate::ceiling::{Ceilings, PurposeCeiling};
use crate::derivation::{Derivation, DerivationError};
use crate::directory::{
    Directory, DirectoryError, Party, PartyId, PartyKey, Representation, RepresentationKind, Role,
};
use crate::ledger::InMemoryLedger;
use crate::log::TransferLog;
use crate::time::Timestamp;
use crate::vocab::{Category, Purpose};
use std::cell::Cell;
use std::collections::HashMap;
use thiserror::Error;

/// A ceiling with the kit's default limits (those of the canteen's ceilings): validity at most
/// 366 days, at most twice in 30 days ([`TWICE_A_MONTH`]), retention at most 400 days, a data
/// range at most 366 days. Change a field with struct update syntax to tighten one dimension.
///
/// ```
/// use consentry::ceiling::PurposeCeiling;
/// use consentry::testing::{canteen_purpose, kit_ceiling, party_for, rfr};
/// let ceiling = PurposeCeiling {
///     max_retention_secs: 30 * 86_400,
///     ..kit_ceiling(party_for("dgfip"), canteen_purpose(), [rfr()])
/// };
/// assert_eq!(ceiling.max_validity_secs, 366 * 86_400);
/// ```
#[must_use]
pub fn kit_ceiling(
    publisher: PartyId,
    purpose: Purpose,
    categories: impl IntoIterator<Item = Category>,
) -> PurposeCeiling {
    PurposeCeiling {
        publisher,
        purpose,
        categories: categories.into_iter().collect(),
        max_validity_secs: 366 * DAY,
        max_access: TWICE_A_MONTH,
        max_retention_secs: 400 * DAY,
        max_data_range_secs: 366 * DAY,
        derived_only: Vec::new(),
    }
}

/// Why [`ScenarioBuilder::build`] refused a cast: a mistake in the test.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ScenarioError {
    /// The directory refused a party, a key or a representation, as
    /// [`Directory::add_party`] and [`Directory::add_representation`] do; or a key, a
    /// representation, a ceiling or the deciding provider names a party not in the cast
    /// ([`DirectoryError::UnknownParty`]).
    #[error(transparent)]
    Directory(#[from] DirectoryError),
    /// No party of the cast is a provider, so nobody decides.
    #[error("no party of the cast is a provider")]
    NoProvider,
    /// The party chosen to decide ([`ScenarioBuilder::verifier`]) is not a provider.
    #[error("party {0} is not a provider and cannot decide")]
    NotAProvider(PartyId),
    /// A derivation given to [`ScenarioBuilder::derivation`] redefines a code otherwise.
    #[error(transparent)]
    Derivation(#[from] DerivationError),
}

impl ScenarioError {
    /// A stable code naming the refusal: the directory's own code (`directory/…`) for a
    /// refusal of the directory, `kit/…` otherwise.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            ScenarioError::Directory(e) => e.code(),
            ScenarioError::NoProvider => "kit/no_provider",
            ScenarioError::NotAProvider(_) => "kit/not_a_provider",
            ScenarioError::Derivation(e) => e.code(),
        }
    }
}

/// A party being cast: the directory's record, and the seed name of each of its keys, in the
/// order of the record's keys.
#[derive(Clone, Debug)]
struct Cast {
    name: String,
    party: Party,
    key_names: Vec<String>,
}

/// Builds a [`Scenario`] from parties named in the test: each party's id is
/// [`party_for`]`(name)` and its first key [`key_for`]`(name)`, valid from [`Scenario::EPOCH`];
/// the clock is at [`Scenario::CLOCK`] unless set. Nothing is checked until
/// [`ScenarioBuilder::build`], which reports the first mistake.
///
/// ```
/// use consentry::directory::{RepresentationKind, Role};
/// use consentry::testing::{Scenario, canteen_purpose, kit_ceiling, party_for, rfr};
///
/// let s = Scenario::builder()
///     .party("citizen", &[Role::Subject])
///     .party("tax-office", &[Role::Provider])
///     .party("school", &[Role::Consumer])
///     .party("wallet", &[Role::ConsentManager])
///     .representation("wallet", "citizen", RepresentationKind::Mandate)
///     .ceiling(kit_ceiling(party_for("tax-office"), canteen_purpose(), [rfr()]))
///     .build()?;
/// assert_eq!(s.verifier_provider, s.party("tax-office"));
/// assert_eq!(s.now, Scenario::CLOCK);
/// # Ok::<(), consentry::testing::ScenarioError>(())
/// ```
#[derive(Clone, Debug)]
#[must_use]
pub struct ScenarioBuilder {
    cast: Vec<Cast>,
    representations: Vec<Representation>,
    ceilings: Vec<PurposeCeiling>,
    derivations: Vec<Derivation>,
    now: Timestamp,
    verifier: Option<PartyId>,
    error: Option<ScenarioError>,
}

impl Default for ScenarioBuilder {
    fn default() -> Self {
        ScenarioBuilder {
            cast: Vec::new(),
            representations: Vec::new(),
            ceilings: Vec::new(),
            derivations: Vec::new(),
            now: Scenario::CLOCK,
            verifier: None,
            error: None,
        }
    }
}

impl ScenarioBuilder {
    /// No party, no representation, no ceiling; the clock at [`Scenario::CLOCK`].
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a party named `name` (also its display name) with `roles`.
    pub fn party(self, name: &str, roles: &[Role]) -> Self {
        self.party_named(name, name, roles)
    }

    /// Adds a party named `name` in the test, `display` in the directory, with `roles` (in
    /// the order given: the directory sorts them, and refuses none or one twice).
    pub fn party_named(mut self, name: &str, display: &str, roles: &[Role]) -> Self {
        let party = Party {
            id: party_for(name),
            name: display.to_owned(),
            roles: roles.to_vec(),
            keys: vec![PartyKey::new(
                key_for(name).verifying_key(),
                Scenario::EPOCH,
            )],
        };
        self.cast.push(Cast {
            name: name.to_owned(),
            party,
            key_names: vec![name.to_owned()],
        });
        self
    }

    /// Gives the party `party` another key, [`key_for`]`(key_name)`, valid from `valid_from`
    /// with no end; its other keys stay valid.
    pub fn extra_key(self, party: &str, key_name: &str, valid_from: Timestamp) -> Self {
        self.with_cast(party, |cast| {
            cast.party
                .keys
                .push(PartyKey::new(key_for(key_name).verifying_key(), valid_from));
            cast.key_names.push(key_name.to_owned());
        })
    }

    /// Rotates the party `party`'s keys at `at`: every key of the party with no end is valid
    /// until `at`, and [`key_for`]`(key_name)` from `at` on. [`Scenario::key`] picks the key by
    /// the clock.
    pub fn rotate_key(self, party: &str, key_name: &str, at: Timestamp) -> Self {
        self.with_cast(party, |cast| {
            for key in cast
                .party
                .keys
                .iter_mut()
                .filter(|k| k.valid_until.is_none())
            {
                key.valid_until = Some(at);
            }
            cast.party
                .keys
                .push(PartyKey::new(key_for(key_name).verifying_key(), at));
            cast.key_names.push(key_name.to_owned());
        })
    }

    fn with_cast(mut self, name: &str, edit: impl FnOnce(&mut Cast)) -> Self {
        if let Some(cast) = self.cast.iter_mut().find(|c| c.name == name) {
            edit(cast);
        } else {
            let error = DirectoryError::UnknownParty(party_for(name)).into();
            self.error.get_or_insert(error);
        }
        self
    }

    /// Records that `representative` may act for `subject` as `kind`, from [`Scenario::EPOCH`]
    /// with no end.
    pub fn representation(
        self,
        representative: &str,
        subject: &str,
        kind: RepresentationKind,
    ) -> Self {
        self.representation_during(representative, subject, kind, Scenario::EPOCH, None)
    }

    /// Records that `representative` may act for `subject` as `kind` from `valid_from` until
    /// `valid_until` (exclusive; `None`: no end).
    pub fn representation_during(
        mut self,
        representative: &str,
        subject: &str,
        kind: RepresentationKind,
        valid_from: Timestamp,
        valid_until: Option<Timestamp>,
    ) -> Self {
        self.representations.push(Representation {
            representative: party_for(representative),
            subject: party_for(subject),
            kind,
            valid_from,
            valid_until,
        });
        self
    }

    /// Publishes a purpose ceiling (see [`kit_ceiling`]); its publisher must be in the cast.
    pub fn ceiling(mut self, ceiling: PurposeCeiling) -> Self {
        self.ceilings.push(ceiling);
        self
    }

    /// Defines a derivation of the vocabulary the ceilings and grants refer to (see
    /// [`derivation`](crate::derivation)).
    ///
    /// ```
    /// use consentry::ceiling::{DerivedOnly, PurposeCeiling};
    /// use consentry::directory::Role;
    /// use consentry::testing::{self, Scenario, canteen_purpose, kit_ceiling, party_for, rfr};
    /// // The tax office releases the reference income for canteen pricing only as a bracket.
    /// let s = Scenario::builder()
    ///     .party("parent", &[Role::Subject])
    ///     .party("dgfip", &[Role::Provider])
    ///     .party("mairie", &[Role::Consumer])
    ///     .derivation(testing::rfr_bracket())
    ///     .ceiling(PurposeCeiling {
    ///         derived_only: vec![DerivedOnly {
    ///             category: rfr(),
    ///             derivations: vec![testing::rfr_bracket().code().clone()],
    ///         }],
    ///         ..kit_ceiling(party_for("dgfip"), canteen_purpose(), [rfr()])
    ///     })
    ///     .build()?;
    /// let raw = s.grant().build(&s.ceilings);
    /// assert_eq!(raw.unwrap_err().code(), "grant/beyond_ceiling");
    /// let bracket = testing::derived(rfr(), testing::RFR_BRACKET, &[15_000, 30_000]);
    /// assert!(s.grant().derive(bracket).build(&s.ceilings).is_ok());
    /// # Ok::<(), consentry::testing::ScenarioError>(())
    /// ```
    pub fn derivation(mut self, derivation: Derivation) -> Self {
        self.derivations.push(derivation);
        self
    }

    /// Sets the clock.
    pub fn clock(mut self, now: Timestamp) -> Self {
        self.now = now;
        self
    }

    /// Chooses the provider whose verifier [`Scenario::decide`] uses (by default, the first
    /// provider added).
    pub fn verifier(mut self, provider: &str) -> Self {
        self.verifier = Some(party_for(provider));
        self
    }

    /// The scenario, with an empty ledger and an empty transfer log.
    ///
    /// # Errors
    ///
    /// The first mistake, in this order: [`DirectoryError::UnknownParty`] for a key given to a
    /// party not added (first such call); the refusals of [`Directory::add_party`] for each
    /// party in the order added ([`DirectoryError::DuplicateParty`] for a name used twice,
    /// [`DirectoryError::NoRole`], [`DirectoryError::DuplicateRole`],
    /// [`DirectoryError::BadName`], [`DirectoryError::TooManyKeys`],
    /// [`DirectoryError::DuplicateKey`] for a key name used twice,
    /// [`DirectoryError::EmptyWindow`] for a rotation at or before a key's start);
    /// [`DirectoryError::UnknownParty`] for a representation, then a ceiling, naming a party not
    /// in the cast; [`ScenarioError::Derivation`] for a derivation redefining a code otherwise;
    /// for the deciding provider, [`DirectoryError::UnknownParty`],
    /// [`ScenarioError::NotAProvider`] or [`ScenarioError::NoProvider`].
    pub fn build(self) -> Result<Scenario, ScenarioError> {
        if let Some(error) = self.error {
            return Err(error);
        }
        let mut directory = Directory::new();
        let mut keys = HashMap::new();
        let mut names = HashMap::new();
        for cast in self.cast {
            let id = cast.party.id;
            let signing = cast
                .party
                .keys
                .iter()
                .zip(&cast.key_names)
                .map(|(key, name)| (key.valid_from, key_for(name)))
                .collect();
            directory.add_party(cast.party)?;
            keys.insert(id, signing);
            names.insert(cast.name, id);
        }
        for representation in self.representations {
            directory.add_representation(representation)?;
        }
        let mut ceilings = Ceilings::new();
        for derivation in self.derivations {
            ceilings.define(derivation)?;
        }
        for ceiling in self.ceilings {
            if directory.party(&ceiling.publisher).is_none() {
                return Err(DirectoryError::UnknownParty(ceiling.publisher).into());
            }
            ceilings.publish(ceiling);
        }
        let verifier_provider = deciding_provider(&directory, self.verifier)?;
        let log_operator = party_for(LOG_OPERATOR);
        keys.entry(log_operator)
            .or_insert_with(|| vec![(Scenario::EPOCH, key_for(LOG_OPERATOR))]);
        let id = |name: &str| party_for(name);
        Ok(Scenario {
            directory,
            ceilings,
            ledger: InMemoryLedger::new(),
            now: self.now,
            verifier_provider,
            parent: id("parent"),
            child: id("child"),
            dgfip: id("dgfip"),
            cnaf: id("cnaf"),
            mairie: id("mairie"),
            other_consumer: id("other"),
            franceconnect: id("franceconnect"),
            authority: id("authority"),
            log: TransferLog::new(),
            log_operator,
            keys,
            names,
            counter: Cell::new(0),
        })
    }
}

/// The party chosen to decide, or the first provider of the directory.
fn deciding_provider(
    directory: &Directory,
    chosen: Option<PartyId>,
) -> Result<PartyId, ScenarioError> {
    let Some(id) = chosen else {
        return directory
            .parties()
            .iter()
            .find(|p| p.has_role(Role::Provider))
            .map(|p| p.id)
            .ok_or(ScenarioError::NoProvider);
    };
    match directory.party(&id) {
        None => Err(DirectoryError::UnknownParty(id).into()),
        Some(p) if !p.has_role(Role::Provider) => Err(ScenarioError::NotAProvider(id)),
        Some(_) => Ok(id),
    }
}
