//! Derivations: a category released not raw but as a declared function of it (the family
//! quotient as its pricing bracket, an income as "below a threshold", an age as "over 18").
//!
//! The **vocabulary** of derivations is data, published like categories and ceilings: each
//! [`Derivation`] has a code (`namespace:name`, the syntax of a category), the category it
//! applies to, its [kind](DerivationKind) and, for a bracket, the most bounds it may have. A
//! verifier knows it through its [`Ceilings`](crate::ceiling::Ceilings)
//! ([`Ceilings::define`](crate::ceiling::Ceilings::define)).
//!
//! A **grant** names, per category, the derivation it allows and fixes its parameters (a
//! [`DerivationTerm`]); a request cannot choose them, so successive requests cannot move a
//! threshold to reconstruct the raw value. A request naming a category the grant derives
//! receives the derived value only: the authorization and the receipt say which derivation,
//! with which parameters.
//!
//! Kinds and their parameters (always a sorted list of 1 to [`MAX_BOUNDS`] unsigned integers,
//! strictly increasing):
//!
//! | kind       | parameters              | derived value of `x`                          |
//! |------------|-------------------------|-----------------------------------------------|
//! | `bracket`  | bounds `b1 < … < bn`    | the bracket index: how many bounds are `<= x` |
//! | `below`    | one bound `b`           | whether `x < b`                               |
//! | `above`    | one bound `b`           | whether `x >= b`                              |
//! | `age_over` | one age `a` (1 to 150)  | whether the age in years `x >= a`             |
//!
//! ```
//! use consentry::derivation::{Derivation, DerivationCode, DerivationKind, DerivationTerm, DerivedValue};
//! use consentry::vocab::Category;
//! let qf = Category::new("cnaf:quotient_familial").unwrap();
//! let bracket = Derivation::new(
//!     DerivationCode::new("cnaf:tranche_qf").unwrap(),
//!     qf.clone(),
//!     DerivationKind::Bracket { max_bounds: 8 },
//! )
//! .unwrap();
//! // The grant fixes the bounds: 450, 700 and 1000 euros.
//! let term = DerivationTerm::new(qf, bracket.code().clone(), vec![450, 700, 1000]).unwrap();
//! assert!(bracket.check(&term).is_ok());
//! // A family quotient of 612 is in bracket 1 (from 450 to 700).
//! assert_eq!(bracket.apply(term.parameters(), 612), DerivedValue::Bracket(1));
//! ```

use crate::cbor::{DecodeError, Decoder, Encoder};
use crate::vocab::{Category, CodeError, check_code};
use crate::wire;
use serde::{Deserialize, Deserializer, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use thiserror::Error;

/// The most parameters a derivation takes (a bracket's bounds).
pub const MAX_BOUNDS: usize = 16;

/// The highest age an `age_over` derivation may test.
pub const MAX_AGE: u64 = 150;

/// Why a derivation, or a derivation term, was refused.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum DerivationError {
    /// The derivation code is not `namespace:name`.
    #[error("invalid derivation code: {0}")]
    BadCode(CodeError),
    /// No parameter, or more than [`MAX_BOUNDS`].
    #[error("a derivation takes 1 to {MAX_BOUNDS} parameters")]
    BadParameterCount,
    /// The parameters are not strictly increasing.
    #[error("a derivation's parameters must be strictly increasing")]
    UnsortedParameters,
    /// A bracket's most bounds is 0 or more than [`MAX_BOUNDS`], or a kind other than a bracket
    /// states one.
    #[error("a bracket allows 1 to {MAX_BOUNDS} bounds")]
    BadMaxBounds,
    /// The vocabulary does not define the derivation named.
    #[error("derivation {0} is not defined")]
    Unknown(DerivationCode),
    /// The derivation is defined for another category than the one it is applied to.
    #[error("derivation {code} applies to {defined_for}, not to {applied_to}")]
    WrongCategory {
        /// The derivation.
        code: DerivationCode,
        /// The category it is defined for.
        defined_for: Category,
        /// The category it was applied to.
        applied_to: Category,
    },
    /// The parameters do not have the shape the derivation's kind requires.
    #[error("derivation {code} takes {expected}")]
    BadParameters {
        /// The derivation.
        code: DerivationCode,
        /// The shape it takes, for people.
        expected: &'static str,
    },
    /// The vocabulary already defines the code otherwise.
    #[error("derivation {0} is already defined otherwise")]
    Redefined(DerivationCode),
}

impl DerivationError {
    /// A stable code naming the refusal, for matching, logs and bindings.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            DerivationError::BadCode(_) => "derivation/bad_code",
            DerivationError::BadParameterCount => "derivation/bad_parameter_count",
            DerivationError::UnsortedParameters => "derivation/unsorted_parameters",
            DerivationError::BadMaxBounds => "derivation/bad_max_bounds",
            DerivationError::Unknown(_) => "derivation/unknown",
            DerivationError::WrongCategory { .. } => "derivation/wrong_category",
            DerivationError::BadParameters { .. } => "derivation/bad_parameters",
            DerivationError::Redefined(_) => "derivation/redefined",
        }
    }
}

/// A derivation's code, such as `cnaf:tranche_qf` (the syntax of a category code).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct DerivationCode(String);

impl DerivationCode {
    /// Checks and wraps a code.
    ///
    /// # Errors
    ///
    /// [`DerivationError::BadCode`] if the code is not `namespace:name` (see
    /// [`Category::new`]).
    pub fn new(code: impl Into<String>) -> Result<Self, DerivationError> {
        let code = code.into();
        check_code(&code).map_err(DerivationError::BadCode)?;
        Ok(DerivationCode(code))
    }

    /// The code.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for DerivationCode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        DerivationCode::new(String::deserialize(d)?).map_err(|e| crate::json::refuse(e.code(), e))
    }
}

impl fmt::Debug for DerivationCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DerivationCode({})", self.0)
    }
}

impl fmt::Display for DerivationCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a derivation computes, and the shape of its parameters (see the
/// [module](crate::derivation) for the table).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DerivationKind {
    /// The bracket a value falls in, between 1 and `max_bounds` bounds fixed by the grant.
    Bracket {
        /// The most bounds a grant may fix (1 to [`MAX_BOUNDS`]).
        max_bounds: u8,
    },
    /// Whether a value is below one bound.
    Below,
    /// Whether a value is at or above one bound.
    Above,
    /// Whether an age in years is at least the one fixed (1 to [`MAX_AGE`]).
    AgeOver,
}

impl DerivationKind {
    /// The kind's name in the JSON form: `bracket`, `below`, `above`, `age_over`.
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            DerivationKind::Bracket { .. } => "bracket",
            DerivationKind::Below => "below",
            DerivationKind::Above => "above",
            DerivationKind::AgeOver => "age_over",
        }
    }
}

/// One derivation of the vocabulary.
///
/// JSON form: `{"code": "cnaf:tranche_qf", "category": "cnaf:quotient_familial",
/// "kind": "bracket", "max_bounds": 8}` (`max_bounds` only, and always, for a bracket).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(into = "DerivationJson")]
pub struct Derivation {
    code: DerivationCode,
    category: Category,
    kind: DerivationKind,
}

crate::json::checked_deserialize!(Derivation, DerivationJson);

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct DerivationJson {
    code: DerivationCode,
    category: Category,
    kind: KindName,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    max_bounds: Option<u8>,
}

#[derive(Clone, Copy, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum KindName {
    Bracket,
    Below,
    Above,
    AgeOver,
}

impl TryFrom<DerivationJson> for Derivation {
    type Error = DerivationError;
    fn try_from(j: DerivationJson) -> Result<Self, DerivationError> {
        let kind = match (j.kind, j.max_bounds) {
            (KindName::Bracket, Some(max_bounds)) => DerivationKind::Bracket { max_bounds },
            (KindName::Below, None) => DerivationKind::Below,
            (KindName::Above, None) => DerivationKind::Above,
            (KindName::AgeOver, None) => DerivationKind::AgeOver,
            _ => return Err(DerivationError::BadMaxBounds),
        };
        Derivation::new(j.code, j.category, kind)
    }
}

impl From<Derivation> for DerivationJson {
    fn from(d: Derivation) -> Self {
        let (kind, max_bounds) = match d.kind {
            DerivationKind::Bracket { max_bounds } => (KindName::Bracket, Some(max_bounds)),
            DerivationKind::Below => (KindName::Below, None),
            DerivationKind::Above => (KindName::Above, None),
            DerivationKind::AgeOver => (KindName::AgeOver, None),
        };
        DerivationJson {
            code: d.code,
            category: d.category,
            kind,
            max_bounds,
        }
    }
}

/// A derived value: what the provider sends instead of the raw one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DerivedValue {
    /// The bracket index, 0 (below the first bound) to the number of bounds (at or above the
    /// last).
    Bracket(usize),
    /// Whether the test (`below`, `above`, `age_over`) holds.
    Holds(bool),
}

impl Derivation {
    /// Checks and makes a derivation of the vocabulary.
    ///
    /// # Errors
    ///
    /// [`DerivationError::BadMaxBounds`] if a bracket allows no bound or more than
    /// [`MAX_BOUNDS`].
    pub fn new(
        code: DerivationCode,
        category: Category,
        kind: DerivationKind,
    ) -> Result<Self, DerivationError> {
        if let DerivationKind::Bracket { max_bounds } = kind {
            if max_bounds == 0 || usize::from(max_bounds) > MAX_BOUNDS {
                return Err(DerivationError::BadMaxBounds);
            }
        }
        Ok(Derivation {
            code,
            category,
            kind,
        })
    }
    /// The code.
    #[must_use]
    pub fn code(&self) -> &DerivationCode {
        &self.code
    }
    /// The category it applies to.
    #[must_use]
    pub fn category(&self) -> &Category {
        &self.category
    }
    /// Its kind.
    #[must_use]
    pub fn kind(&self) -> DerivationKind {
        self.kind
    }

    /// Whether `term` applies this derivation to its category with parameters of its shape.
    ///
    /// # Errors
    ///
    /// [`DerivationError::Unknown`] if `term` names another derivation,
    /// [`DerivationError::WrongCategory`] if it applies it to another category,
    /// [`DerivationError::BadParameters`] if its parameters are not of this kind's shape.
    pub fn check(&self, term: &DerivationTerm) -> Result<(), DerivationError> {
        if term.derivation != self.code {
            return Err(DerivationError::Unknown(term.derivation.clone()));
        }
        if term.category != self.category {
            return Err(DerivationError::WrongCategory {
                code: self.code.clone(),
                defined_for: self.category.clone(),
                applied_to: term.category.clone(),
            });
        }
        let p = &term.parameters;
        let (ok, expected) = match self.kind {
            DerivationKind::Bracket { max_bounds } => (
                p.len() <= usize::from(max_bounds),
                "no more bounds than its vocabulary allows",
            ),
            DerivationKind::Below | DerivationKind::Above => (p.len() == 1, "exactly one bound"),
            DerivationKind::AgeOver => (
                p.len() == 1 && (1..=MAX_AGE).contains(&p[0]),
                "exactly one age, 1 to 150",
            ),
        };
        if ok {
            Ok(())
        } else {
            Err(DerivationError::BadParameters {
                code: self.code.clone(),
                expected,
            })
        }
    }

    /// The derived value of `value` under `parameters` (which [`Derivation::check`] accepted).
    #[must_use]
    pub fn apply(&self, parameters: &[u64], value: u64) -> DerivedValue {
        let first = parameters.first().copied().unwrap_or(0);
        match self.kind {
            DerivationKind::Bracket { .. } => {
                DerivedValue::Bracket(parameters.iter().filter(|b| **b <= value).count())
            }
            DerivationKind::Below => DerivedValue::Holds(value < first),
            DerivationKind::Above | DerivationKind::AgeOver => DerivedValue::Holds(value >= first),
        }
    }
}

/// The vocabulary of derivations a verifier knows, by code.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Derivations {
    by_code: BTreeMap<DerivationCode, Derivation>,
}

impl Derivations {
    /// An empty vocabulary.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Defines a derivation; defining the same one again is harmless.
    ///
    /// # Errors
    ///
    /// [`DerivationError::Redefined`] if the code is already defined otherwise: a signed grant
    /// naming it would change meaning.
    pub fn define(&mut self, derivation: Derivation) -> Result<(), DerivationError> {
        match self.by_code.get(&derivation.code) {
            Some(known) if *known != derivation => {
                Err(DerivationError::Redefined(derivation.code.clone()))
            }
            Some(_) => Ok(()),
            None => {
                self.by_code.insert(derivation.code.clone(), derivation);
                Ok(())
            }
        }
    }

    /// The derivation of `code`.
    #[must_use]
    pub fn get(&self, code: &DerivationCode) -> Option<&Derivation> {
        self.by_code.get(code)
    }

    /// Every derivation, by code.
    pub fn iter(&self) -> impl Iterator<Item = &Derivation> {
        self.by_code.values()
    }

    /// Whether `term` names a derivation of this vocabulary, for its category, with parameters
    /// of its shape.
    ///
    /// # Errors
    ///
    /// [`DerivationError::Unknown`], or those of [`Derivation::check`].
    pub fn check(&self, term: &DerivationTerm) -> Result<&Derivation, DerivationError> {
        let d = self
            .get(&term.derivation)
            .ok_or_else(|| DerivationError::Unknown(term.derivation.clone()))?;
        d.check(term)?;
        Ok(d)
    }
}

/// A derivation applied to a category with fixed parameters: in a grant, what it allows; in an
/// authorization and a receipt, what may be, and was, sent.
///
/// JSON form: `{"category": "cnaf:quotient_familial", "derivation": "cnaf:tranche_qf",
/// "parameters": [450, 700, 1000]}`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct DerivationTerm {
    category: Category,
    derivation: DerivationCode,
    parameters: Vec<u64>,
}

crate::json::checked_deserialize!(DerivationTerm, DerivationTermJson);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DerivationTermJson {
    category: Category,
    derivation: DerivationCode,
    parameters: Vec<u64>,
}

impl TryFrom<DerivationTermJson> for DerivationTerm {
    type Error = DerivationError;
    fn try_from(j: DerivationTermJson) -> Result<Self, DerivationError> {
        DerivationTerm::new(j.category, j.derivation, j.parameters)
    }
}

impl DerivationTerm {
    /// Applies `derivation` to `category` with `parameters`, checking the shape every kind
    /// shares (the kind's own shape is checked against the vocabulary, by
    /// [`Derivations::check`]).
    ///
    /// # Errors
    ///
    /// [`DerivationError::BadParameterCount`] if there are no parameters or more than
    /// [`MAX_BOUNDS`], [`DerivationError::UnsortedParameters`] if they are not strictly
    /// increasing.
    pub fn new(
        category: Category,
        derivation: DerivationCode,
        parameters: Vec<u64>,
    ) -> Result<Self, DerivationError> {
        check_parameters(&parameters)?;
        Ok(DerivationTerm {
            category,
            derivation,
            parameters,
        })
    }
    /// The category released in derived form.
    #[must_use]
    pub fn category(&self) -> &Category {
        &self.category
    }
    /// The derivation applied.
    #[must_use]
    pub fn derivation(&self) -> &DerivationCode {
        &self.derivation
    }
    /// Its parameters, fixed by the grant.
    #[must_use]
    pub fn parameters(&self) -> &[u64] {
        &self.parameters
    }

    /// Writes `[category, derivation, [+ uint]]`.
    pub(crate) fn write(&self, e: &mut Encoder) {
        e.array(3)
            .text(self.category.as_str())
            .text(self.derivation.as_str());
        e.array(self.parameters.len());
        for p in &self.parameters {
            e.uint(*p);
        }
    }

    /// Reads `[category, derivation, [+ uint]]`.
    pub(crate) fn read(d: &mut Decoder<'_>) -> Result<Self, DecodeError> {
        d.nested(|d| {
            if d.array()? != 3 {
                return Err(DecodeError::InvalidValue {
                    field: "derivation",
                    reason: "must be [category, derivation, parameters]",
                });
            }
            let category = wire::category(d)?;
            let derivation =
                DerivationCode::new(d.text()?).map_err(|_| DecodeError::InvalidValue {
                    field: "derivation",
                    reason: "not a valid namespace:name code",
                })?;
            let parameters = d.nested(|d| {
                let n = d.array()?;
                if n == 0 || n > MAX_BOUNDS {
                    return Err(DecodeError::InvalidValue {
                        field: "derivation parameters",
                        reason: "1 to 16 parameters",
                    });
                }
                let mut out = Vec::with_capacity(n);
                for _ in 0..n {
                    out.push(d.uint()?);
                }
                Ok(out)
            })?;
            DerivationTerm::new(category, derivation, parameters).map_err(|_| {
                DecodeError::InvalidValue {
                    field: "derivation parameters",
                    reason: "must be strictly increasing",
                }
            })
        })
    }
}

fn check_parameters(parameters: &[u64]) -> Result<(), DerivationError> {
    if parameters.is_empty() || parameters.len() > MAX_BOUNDS {
        return Err(DerivationError::BadParameterCount);
    }
    if !parameters.windows(2).all(|w| w[0] < w[1]) {
        return Err(DerivationError::UnsortedParameters);
    }
    Ok(())
}

/// Whether a list of terms is a set by category: sorted by category, each category once, at
/// most `max` terms.
pub(crate) fn is_set_by_category(terms: &[DerivationTerm], max: usize) -> bool {
    terms.len() <= max && terms.windows(2).all(|w| w[0].category < w[1].category)
}

/// Reads a list of terms (a grant's key 15, a receipt's key 18): `[+ term]`, sorted by
/// category, each category once, at most `max`.
pub(crate) fn read_terms(
    d: &mut Decoder<'_>,
    max: usize,
) -> Result<Vec<DerivationTerm>, DecodeError> {
    let terms = d.array_of("derivations", 1, DerivationTerm::read)?;
    if !is_set_by_category(&terms, max) {
        return Err(DecodeError::InvalidValue {
            field: "derivations",
            reason: "must be sorted by category, each category once",
        });
    }
    Ok(terms)
}

/// Writes a list of terms.
pub(crate) fn write_terms(e: &mut Encoder, terms: &[DerivationTerm]) {
    e.array(terms.len());
    for t in terms {
        t.write(e);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn qf() -> Category {
        Category::new("cnaf:quotient_familial").unwrap()
    }
    fn code(c: &str) -> DerivationCode {
        DerivationCode::new(c).unwrap()
    }

    #[test]
    fn terms_refuse_malformed_parameters() {
        let t = |p: Vec<u64>| DerivationTerm::new(qf(), code("cnaf:tranche"), p).map(|_| ());
        assert_eq!(t(vec![]), Err(DerivationError::BadParameterCount));
        assert_eq!(
            t((0..=16).collect()),
            Err(DerivationError::BadParameterCount)
        );
        assert_eq!(t(vec![3, 3]), Err(DerivationError::UnsortedParameters));
        assert_eq!(t(vec![4, 3]), Err(DerivationError::UnsortedParameters));
        assert_eq!(t((0..16).collect()), Ok(()));
        assert_eq!(
            DerivationCode::new("tranche").unwrap_err().code(),
            "derivation/bad_code"
        );
    }

    #[test]
    fn the_vocabulary_checks_kind_category_and_shape() {
        let mut v = Derivations::new();
        let bracket = Derivation::new(
            code("cnaf:tranche"),
            qf(),
            DerivationKind::Bracket { max_bounds: 2 },
        )
        .unwrap();
        v.define(bracket.clone()).unwrap();
        v.define(bracket).unwrap();
        let other = Derivation::new(code("cnaf:tranche"), qf(), DerivationKind::Below).unwrap();
        assert_eq!(v.define(other).unwrap_err().code(), "derivation/redefined");
        let age = Category::new("insee:age").unwrap();
        v.define(
            Derivation::new(code("insee:majeur"), age.clone(), DerivationKind::AgeOver).unwrap(),
        )
        .unwrap();
        let term = |c: &Category, d: &str, p: Vec<u64>| {
            DerivationTerm::new(c.clone(), code(d), p).unwrap()
        };
        let err = |t: DerivationTerm| v.check(&t).map(|_| ()).unwrap_err().code();
        assert!(v.check(&term(&qf(), "cnaf:tranche", vec![1, 2])).is_ok());
        assert_eq!(
            err(term(&qf(), "cnaf:tranche", vec![1, 2, 3])),
            "derivation/bad_parameters"
        );
        assert_eq!(
            err(term(&qf(), "cnaf:autre", vec![1])),
            "derivation/unknown"
        );
        assert_eq!(
            err(term(&age, "cnaf:tranche", vec![1])),
            "derivation/wrong_category"
        );
        assert!(v.check(&term(&age, "insee:majeur", vec![18])).is_ok());
        assert_eq!(
            err(term(&age, "insee:majeur", vec![151])),
            "derivation/bad_parameters"
        );
        assert_eq!(
            err(term(&age, "insee:majeur", vec![16, 18])),
            "derivation/bad_parameters"
        );
        assert_eq!(
            Derivation::new(code("a:b"), qf(), DerivationKind::Bracket { max_bounds: 0 })
                .unwrap_err()
                .code(),
            "derivation/bad_max_bounds"
        );
        assert_eq!(
            Derivation::new(
                code("a:b"),
                qf(),
                DerivationKind::Bracket { max_bounds: 17 }
            )
            .unwrap_err()
            .code(),
            "derivation/bad_max_bounds"
        );
    }

    /// The derived values restate the table of the module documentation.
    #[test]
    fn derived_values() {
        let d = |kind| Derivation::new(code("a:b"), qf(), kind).unwrap();
        let bracket = d(DerivationKind::Bracket { max_bounds: 4 });
        let bounds = [450, 700, 1000];
        for (x, index) in [
            (0, 0),
            (449, 0),
            (450, 1),
            (699, 1),
            (700, 2),
            (1000, 3),
            (u64::MAX, 3),
        ] {
            assert_eq!(
                bracket.apply(&bounds, x),
                DerivedValue::Bracket(index),
                "{x}"
            );
        }
        assert_eq!(
            d(DerivationKind::Below).apply(&[20], 19),
            DerivedValue::Holds(true)
        );
        assert_eq!(
            d(DerivationKind::Below).apply(&[20], 20),
            DerivedValue::Holds(false)
        );
        assert_eq!(
            d(DerivationKind::Above).apply(&[20], 20),
            DerivedValue::Holds(true)
        );
        assert_eq!(
            d(DerivationKind::Above).apply(&[20], 19),
            DerivedValue::Holds(false)
        );
        assert_eq!(
            d(DerivationKind::AgeOver).apply(&[18], 18),
            DerivedValue::Holds(true)
        );
        assert_eq!(
            d(DerivationKind::AgeOver).apply(&[18], 17),
            DerivedValue::Holds(false)
        );
    }

    #[test]
    fn json_forms() {
        let d: Derivation = serde_json::from_str(
            r#"{"code":"cnaf:tranche","category":"cnaf:quotient_familial","kind":"bracket","max_bounds":4}"#,
        )
        .unwrap();
        assert_eq!(d.kind(), DerivationKind::Bracket { max_bounds: 4 });
        assert_eq!(
            serde_json::to_string(&d).unwrap(),
            r#"{"code":"cnaf:tranche","category":"cnaf:quotient_familial","kind":"bracket","max_bounds":4}"#
        );
        for bad in [
            r#"{"code":"cnaf:tranche","category":"cnaf:quotient_familial","kind":"bracket"}"#,
            r#"{"code":"cnaf:tranche","category":"cnaf:quotient_familial","kind":"below","max_bounds":1}"#,
        ] {
            let e = crate::json::from_json::<Derivation>(bad).unwrap_err();
            assert_eq!(e.code(), "derivation/bad_max_bounds", "{bad}");
        }
        let e = crate::json::from_json::<DerivationTerm>(
            r#"{"category":"cnaf:quotient_familial","derivation":"cnaf:tranche","parameters":[2,1]}"#,
        )
        .unwrap_err();
        assert_eq!(e.code(), "derivation/unsorted_parameters");
    }
}
