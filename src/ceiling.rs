//! Purpose ceilings: the most a provider (or an authority) lets any legal basis ask for a
//! purpose.
//!
//! A ceiling is published per (publisher, purpose). A grant or habilitation that covers a
//! provider must stay within that provider's ceiling for its purpose, in every dimension:
//! categories, validity, frequency, retention and data range. A provider that published no
//! ceiling for a purpose has not opened that purpose, and nothing is released for it.
//!
//! A ceiling may also release a category only in derived form ([`PurposeCeiling::derived_only`]):
//! a basis must then apply one of the derivations it accepts to that category, and a request for
//! the category under a basis that does not is refused (`raw_where_derived_only`). The
//! vocabulary of derivations is published with the ceilings ([`Ceilings::define`]).

use crate::derivation::{Derivation, DerivationCode, DerivationError, DerivationTerm, Derivations};
use crate::directory::PartyId;
use crate::table::Table;
use crate::terms::{AccessPattern, Scope};
use crate::vocab::{Category, Purpose};
use serde::{Deserialize, Serialize};

/// The most a publisher allows for one purpose.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PurposeCeiling {
    /// The provider (or authority) that publishes it.
    pub publisher: PartyId,
    /// The purpose it applies to.
    pub purpose: Purpose,
    /// Categories that may be released for this purpose.
    pub categories: Vec<Category>,
    /// Longest validity window (`expires_at - not_before`), in seconds.
    pub max_validity_secs: u64,
    /// Highest frequency.
    pub max_access: AccessPattern,
    /// Longest retention by the consumer, in seconds.
    pub max_retention_secs: u64,
    /// Widest data range, in seconds.
    pub max_data_range_secs: u64,
    /// Categories (among [`categories`](PurposeCeiling::categories)) released for this
    /// purpose only in derived form, each with the derivations accepted; empty (and absent
    /// from the JSON form) when every category may be released raw.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub derived_only: Vec<DerivedOnly>,
}

impl PurposeCeiling {
    /// The derivations accepted for `category` if this ceiling releases it only derived.
    #[must_use]
    pub fn derived_only(&self, category: &Category) -> Option<&[DerivationCode]> {
        self.derived_only
            .iter()
            .find(|d| d.category == *category)
            .map(|d| d.derivations.as_slice())
    }
}

/// A category a ceiling releases only in derived form, and the derivations it accepts (a basis
/// applying none of them to the category goes beyond the ceiling).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DerivedOnly {
    /// The category.
    pub category: Category,
    /// The derivations accepted for it (codes of the vocabulary).
    pub derivations: Vec<DerivationCode>,
}

/// One way a basis goes beyond a ceiling.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "excess")]
#[non_exhaustive]
pub enum CeilingExcess {
    /// The provider published no ceiling for the purpose.
    NoCeiling {
        /// The provider.
        provider: PartyId,
    },
    /// Categories beyond those allowed.
    Categories {
        /// The provider.
        provider: PartyId,
        /// The categories not allowed.
        categories: Vec<Category>,
    },
    /// Validity longer than allowed.
    Validity {
        /// The provider.
        provider: PartyId,
        /// The longest allowed.
        max_secs: u64,
    },
    /// More frequent than allowed.
    Frequency {
        /// The provider.
        provider: PartyId,
    },
    /// Retention longer than allowed.
    Retention {
        /// The provider.
        provider: PartyId,
        /// The longest allowed.
        max_secs: u64,
    },
    /// A wider data range than allowed.
    DataRange {
        /// The provider.
        provider: PartyId,
        /// The widest allowed.
        max_secs: u64,
    },
    /// Categories covered raw that the ceiling releases only in derived form.
    RawWhereDerivedOnly {
        /// The provider.
        provider: PartyId,
        /// The categories covered raw.
        categories: Vec<Category>,
    },
    /// Categories covered with a derivation the vocabulary does not define for them, with
    /// parameters not of its shape, or not among those the ceiling accepts.
    Derivation {
        /// The provider.
        provider: PartyId,
        /// The categories.
        categories: Vec<Category>,
    },
}

impl CeilingExcess {
    /// A stable code naming the refusal, for matching, logs and bindings.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            CeilingExcess::NoCeiling { .. } => "ceiling/no_ceiling",
            CeilingExcess::Categories { .. } => "ceiling/categories",
            CeilingExcess::Validity { .. } => "ceiling/validity",
            CeilingExcess::Frequency { .. } => "ceiling/frequency",
            CeilingExcess::Retention { .. } => "ceiling/retention",
            CeilingExcess::DataRange { .. } => "ceiling/data_range",
            CeilingExcess::RawWhereDerivedOnly { .. } => "ceiling/raw_where_derived_only",
            CeilingExcess::Derivation { .. } => "ceiling/derivation",
        }
    }
}

/// The terms of a basis that ceilings judge.
#[derive(Clone, Copy, Debug)]
pub struct CeilingTerms<'a> {
    /// Scope.
    pub scope: &'a Scope,
    /// Purpose.
    pub purpose: &'a Purpose,
    /// Validity window length in seconds.
    pub validity_secs: u64,
    /// Access pattern, if the basis has one.
    pub access: Option<&'a AccessPattern>,
    /// Retention in seconds.
    pub retention_secs: u64,
    /// Data range length in seconds, if the basis has one.
    pub data_range_secs: Option<u64>,
    /// The derivations the basis applies (sorted by category; empty for a habilitation).
    pub derivations: &'a [DerivationTerm],
}

/// The ceilings a verifier knows, by (publisher, purpose code).
///
/// ```
/// use consentry::ceiling::{Ceilings, PurposeCeiling};
/// use consentry::terms::AccessPattern;
/// use consentry::vocab::{Category, Purpose};
/// use consentry::directory::PartyId;
/// let mut c = Ceilings::new();
/// c.publish(PurposeCeiling {
///     publisher: PartyId::from_bytes([2; 16]),
///     purpose: Purpose::new("education:cantine").unwrap(),
///     categories: vec![Category::new("dgfip:rfr").unwrap()],
///     max_validity_secs: 366 * 86_400,
///     max_access: AccessPattern::MONTHLY,
///     max_retention_secs: 366 * 86_400,
///     max_data_range_secs: 366 * 86_400,
///     derived_only: Vec::new(),
/// });
/// assert!(c.get(&PartyId::from_bytes([2; 16]), "education:cantine").is_some());
/// ```
#[derive(Clone, Debug, Default)]
pub struct Ceilings {
    by_publisher: Table<PartyId, Table<String, PurposeCeiling>>,
    derivations: Derivations,
}

impl Ceilings {
    /// No ceilings (so no purpose is open anywhere).
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Publishes (or replaces) a ceiling.
    pub fn publish(&mut self, ceiling: PurposeCeiling) {
        self.by_publisher
            .entry(ceiling.publisher)
            .or_default()
            .insert(ceiling.purpose.code().to_owned(), ceiling);
    }

    /// The ceiling of `publisher` for the purpose `code`.
    #[must_use]
    pub fn get(&self, publisher: &PartyId, code: &str) -> Option<&PurposeCeiling> {
        self.by_publisher.get(publisher)?.get(code)
    }

    /// Every ceiling.
    pub fn iter(&self) -> impl Iterator<Item = &PurposeCeiling> {
        self.by_publisher.values().flat_map(Table::values)
    }

    /// Defines a derivation of the vocabulary the ceilings and the bases refer to.
    ///
    /// # Errors
    ///
    /// [`DerivationError::Redefined`] if its code is already defined otherwise.
    pub fn define(&mut self, derivation: Derivation) -> Result<(), DerivationError> {
        self.derivations.define(derivation)
    }

    /// The vocabulary of derivations.
    #[must_use]
    pub fn derivations(&self) -> &Derivations {
        &self.derivations
    }

    /// Every way `terms` go beyond the ceilings of the providers in their scope, in scope
    /// order then dimension order; empty if within.
    #[must_use]
    pub fn excesses(&self, terms: &CeilingTerms<'_>) -> Vec<CeilingExcess> {
        let mut out = Vec::new();
        for entry in terms.scope.entries() {
            self.excesses_at(terms, entry.provider, &mut out);
        }
        out
    }

    /// The excesses at one provider of the scope (nothing if the scope does not cover it),
    /// appended to `out` in dimension order.
    pub fn excesses_at(
        &self,
        terms: &CeilingTerms<'_>,
        provider: PartyId,
        out: &mut Vec<CeilingExcess>,
    ) {
        let categories = terms.scope.categories_at(&provider);
        if categories.is_empty() {
            return;
        }
        let Some(c) = self.get(&provider, terms.purpose.code()) else {
            out.push(CeilingExcess::NoCeiling { provider });
            return;
        };
        let extra: Vec<Category> = categories
            .iter()
            .filter(|cat| !c.categories.contains(cat))
            .cloned()
            .collect();
        if !extra.is_empty() {
            out.push(CeilingExcess::Categories {
                provider,
                categories: extra,
            });
        }
        let (mut raw, mut wrong) = (Vec::new(), Vec::new());
        for cat in categories {
            let term = terms
                .derivations
                .binary_search_by(|t| t.category().cmp(cat))
                .ok()
                .map(|i| &terms.derivations[i]);
            let accepted = c.derived_only(cat);
            match (term, accepted) {
                (None, None) => {}
                (None, Some(_)) => raw.push(cat.clone()),
                (Some(t), accepted) => {
                    let defined = self.derivations.check(t).is_ok();
                    if !defined || accepted.is_some_and(|a| !a.contains(t.derivation())) {
                        wrong.push(cat.clone());
                    }
                }
            }
        }
        if terms.validity_secs > c.max_validity_secs {
            out.push(CeilingExcess::Validity {
                provider,
                max_secs: c.max_validity_secs,
            });
        }
        if terms.access.is_some_and(|a| !a.within(&c.max_access)) {
            out.push(CeilingExcess::Frequency { provider });
        }
        if terms.retention_secs > c.max_retention_secs {
            out.push(CeilingExcess::Retention {
                provider,
                max_secs: c.max_retention_secs,
            });
        }
        if terms
            .data_range_secs
            .is_some_and(|r| r > c.max_data_range_secs)
        {
            out.push(CeilingExcess::DataRange {
                provider,
                max_secs: c.max_data_range_secs,
            });
        }
        if !raw.is_empty() {
            out.push(CeilingExcess::RawWhereDerivedOnly {
                provider,
                categories: raw,
            });
        }
        if !wrong.is_empty() {
            out.push(CeilingExcess::Derivation {
                provider,
                categories: wrong,
            });
        }
    }
}
