//! The terms a legal basis sets: scope, data range, access pattern.

use crate::cbor::{DecodeError, Decoder, Encoder};
use crate::directory::PartyId;
use crate::time::Timestamp;
use crate::vocab::Category;
use crate::wire;
use serde::{Deserialize, Serialize};
use thiserror::Error;

pub use crate::wire::MAX_SCOPE;

/// Why a term could not be made: each case is a value every decoder refuses, so the library
/// never builds (and never signs) it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum TermsError {
    /// A data range whose `until` is not after its `from`.
    #[error("a data range's until must be after its from")]
    EmptyRange,
    /// A calendar year outside what a [`Timestamp`] can hold (before 1970).
    #[error("the year is outside the supported calendar (1970 onwards)")]
    YearOutOfRange,
    /// A periodic access pattern allowing no use at all.
    #[error("a periodic access pattern must allow at least one use per period")]
    NoUses,
    /// A periodic access pattern with an empty period.
    #[error("a periodic access pattern's period must be at least one second")]
    EmptyPeriod,
    /// A scope that is empty, too long, not in provider order, or with a provider's categories
    /// empty, too many, unsorted or repeated (its JSON form).
    #[error(
        "a scope is a non-empty list of at most 64 providers in id order, each with 1 to 64 categories, sorted, without repetition"
    )]
    BadScope,
}

impl TermsError {
    /// A stable code for matching and logs.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            TermsError::EmptyRange => "terms/empty_range",
            TermsError::YearOutOfRange => "terms/year_out_of_range",
            TermsError::NoUses => "terms/no_uses",
            TermsError::EmptyPeriod => "terms/empty_period",
            TermsError::BadScope => "terms/bad_scope",
        }
    }
}

/// A half-open range of time `[from, until)` that the data may cover (e.g. tax year 2025 is
/// `2025-01-01 .. 2026-01-01`). Never empty: `until` is after `from`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct DataRange {
    from: Timestamp,
    until: Timestamp,
}

crate::json::checked_deserialize!(DataRange, DataRangeJson);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DataRangeJson {
    from: Timestamp,
    until: Timestamp,
}

impl TryFrom<DataRangeJson> for DataRange {
    type Error = TermsError;
    fn try_from(j: DataRangeJson) -> Result<Self, TermsError> {
        DataRange::new(j.from, j.until)
    }
}

impl DataRange {
    /// The range `[from, until)`, refused if empty (`until <= from`).
    ///
    /// ```
    /// use consentry::{DataRange, TermsError, Timestamp};
    /// let t = Timestamp::from_secs(1000);
    /// assert_eq!(DataRange::new(t, t).unwrap_err(), TermsError::EmptyRange);
    /// assert_eq!(DataRange::new(t, t.plus_secs(1)).unwrap().len_secs(), 1);
    /// ```
    ///
    /// # Errors
    ///
    /// [`TermsError::EmptyRange`] if `until` is not after `from`.
    pub fn new(from: Timestamp, until: Timestamp) -> Result<Self, TermsError> {
        if from < until {
            Ok(DataRange { from, until })
        } else {
            Err(TermsError::EmptyRange)
        }
    }

    /// First instant covered.
    #[must_use]
    pub fn from(&self) -> Timestamp {
        self.from
    }

    /// First instant no longer covered.
    #[must_use]
    pub fn until(&self) -> Timestamp {
        self.until
    }

    /// The calendar year `year` (UTC).
    ///
    /// ```
    /// use consentry::DataRange;
    /// let y = DataRange::year(2025).unwrap();
    /// assert!(y.contains(&DataRange::year(2025).unwrap()));
    /// assert!(!y.contains(&DataRange::year(2024).unwrap()));
    /// assert!(DataRange::year(1969).is_err());
    /// ```
    ///
    /// # Errors
    ///
    /// [`TermsError::YearOutOfRange`] if `year` is before 1970 or is `u32::MAX` (whose next year
    /// has no number).
    pub fn year(year: u32) -> Result<Self, TermsError> {
        let start = |y: u32| Timestamp::from_date(y, 1, 1).ok_or(TermsError::YearOutOfRange);
        DataRange::new(
            start(year)?,
            start(year.checked_add(1).ok_or(TermsError::YearOutOfRange)?)?,
        )
    }

    /// Whether `other` lies entirely inside this range.
    #[must_use]
    pub fn contains(&self, other: &DataRange) -> bool {
        self.from <= other.from && other.until <= self.until
    }

    /// Length in seconds.
    #[must_use]
    pub fn len_secs(&self) -> u64 {
        self.until.0.saturating_sub(self.from.0)
    }

    pub(crate) fn write(&self, e: &mut Encoder) {
        e.array(2).uint(self.from.0).uint(self.until.0);
    }

    pub(crate) fn read(d: &mut Decoder<'_>) -> Result<Self, DecodeError> {
        d.nested(|d| {
            if d.array()? != 2 {
                return Err(DecodeError::InvalidValue {
                    field: "data range",
                    reason: "must be [from, until]",
                });
            }
            let (from, until) = (wire::timestamp(d)?, wire::timestamp(d)?);
            DataRange::new(from, until).map_err(|_| DecodeError::InvalidValue {
                field: "data range",
                reason: "empty range",
            })
        })
    }
}

/// How often data may be fetched under a grant: once, or at most `max_uses` transfers in each
/// period of `period_secs` seconds. Made only by [`AccessPattern::one_time`] and the checked
/// [`AccessPattern::periodic`], so a periodic pattern always allows at least one use in a
/// non-empty period; match on it through [`AccessPattern::view`].
///
/// ```
/// use consentry::{AccessPattern, AccessView, TermsError};
/// let weekly = AccessPattern::periodic(2, 7 * 86_400).unwrap();
/// assert!(matches!(weekly.view(), AccessView::Periodic { max_uses: 2, .. }));
/// assert!(weekly.within(&AccessPattern::periodic(3, 7 * 86_400).unwrap()));
/// assert_eq!(AccessPattern::periodic(0, 86_400).unwrap_err(), TermsError::NoUses);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(into = "AccessView")]
pub struct AccessPattern(AccessView);

crate::json::checked_deserialize!(AccessPattern, AccessView);

/// What an [`AccessPattern`] allows, to match on. Also its JSON form (`"one_time"` or
/// `{"periodic": {"max_uses": …, "period_secs": …}}`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
pub enum AccessView {
    /// One transfer at each provider covered (each provider keeps its own ledger).
    OneTime,
    /// At most `max_uses` transfers in each period of `period_secs` seconds, periods counted
    /// from the grant's `not_before`.
    Periodic {
        /// Most transfers per period (at least 1).
        max_uses: u32,
        /// Length of a period in seconds (at least 1).
        period_secs: u64,
    },
}

impl From<AccessPattern> for AccessView {
    fn from(access: AccessPattern) -> Self {
        access.0
    }
}

impl TryFrom<AccessView> for AccessPattern {
    type Error = TermsError;
    fn try_from(view: AccessView) -> Result<Self, TermsError> {
        match view {
            AccessView::OneTime => Ok(AccessPattern::one_time()),
            AccessView::Periodic {
                max_uses,
                period_secs,
            } => AccessPattern::periodic(max_uses, period_secs),
        }
    }
}

impl AccessPattern {
    /// At most once every 30 days.
    pub const MONTHLY: AccessPattern = AccessPattern(AccessView::Periodic {
        max_uses: 1,
        period_secs: 30 * 86_400,
    });

    /// One transfer at each provider covered.
    #[must_use]
    pub const fn one_time() -> Self {
        AccessPattern(AccessView::OneTime)
    }

    /// At most `max_uses` transfers in each period of `period_secs` seconds; refused if either
    /// is zero.
    ///
    /// # Errors
    ///
    /// [`TermsError::NoUses`] if `max_uses` is zero, [`TermsError::EmptyPeriod`] if `period_secs`
    /// is.
    pub const fn periodic(max_uses: u32, period_secs: u64) -> Result<Self, TermsError> {
        if max_uses == 0 {
            Err(TermsError::NoUses)
        } else if period_secs == 0 {
            Err(TermsError::EmptyPeriod)
        } else {
            Ok(AccessPattern(AccessView::Periodic {
                max_uses,
                period_secs,
            }))
        }
    }

    /// What the pattern allows.
    #[must_use]
    pub fn view(&self) -> AccessView {
        self.0
    }

    pub(crate) fn write(&self, e: &mut Encoder) {
        match self.0 {
            AccessView::OneTime => {
                e.array(1).uint(0);
            }
            AccessView::Periodic {
                max_uses,
                period_secs,
            } => {
                e.array(3)
                    .uint(1)
                    .uint(u64::from(max_uses))
                    .uint(period_secs);
            }
        }
    }

    pub(crate) fn read(d: &mut Decoder<'_>) -> Result<Self, DecodeError> {
        const BAD: DecodeError = DecodeError::InvalidValue {
            field: "access pattern",
            reason: "must be [0] or [1, max uses >= 1, period >= 1]",
        };
        d.nested(|d| match (d.array()?, d.uint()?) {
            (1, 0) => Ok(AccessPattern::one_time()),
            (3, 1) => {
                let max_uses = u32::try_from(d.uint()?).map_err(|_| BAD)?;
                AccessPattern::periodic(max_uses, d.uint()?).map_err(|_| BAD)
            }
            _ => Err(BAD),
        })
    }

    /// Whether this pattern allows no more transfers per second than `ceiling` (a one-time
    /// pattern is within every pattern).
    #[must_use]
    pub fn within(&self, ceiling: &AccessPattern) -> bool {
        match (self.0, ceiling.0) {
            (AccessView::OneTime, _) => true,
            (AccessView::Periodic { .. }, AccessView::OneTime) => false,
            (
                AccessView::Periodic {
                    max_uses: n,
                    period_secs: p,
                },
                AccessView::Periodic {
                    max_uses: cn,
                    period_secs: cp,
                },
            ) => {
                // n/p <= cn/cp, and the grant's period must not be longer than the ceiling's
                // (otherwise a burst of n uses could exceed cn within one ceiling period).
                u128::from(n) * u128::from(cp) <= u128::from(cn) * u128::from(p) && n <= cn
            }
        }
    }
}

/// Which categories may be fetched from which provider: entries sorted by provider id, each
/// with a sorted, non-empty set of categories.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize)]
#[serde(into = "Vec<ScopeEntry>")]
pub struct Scope(Vec<ScopeEntry>);

crate::json::checked_deserialize!(Scope, Vec<ScopeEntry>);

impl From<Scope> for Vec<ScopeEntry> {
    fn from(scope: Scope) -> Self {
        scope.0
    }
}

impl TryFrom<Vec<ScopeEntry>> for Scope {
    type Error = TermsError;
    fn try_from(entries: Vec<ScopeEntry>) -> Result<Self, TermsError> {
        let scope = Scope(entries);
        if scope.is_well_formed() {
            Ok(scope)
        } else {
            Err(TermsError::BadScope)
        }
    }
}

/// One provider and the categories covered there.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScopeEntry {
    /// The provider.
    pub provider: PartyId,
    /// The categories, sorted, without repetition.
    pub categories: Vec<Category>,
}

impl Scope {
    /// An empty scope.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds categories at a provider, keeping entries and categories sorted and unique.
    pub fn add(&mut self, provider: PartyId, categories: impl IntoIterator<Item = Category>) {
        let at = match self.0.binary_search_by(|e| e.provider.cmp(&provider)) {
            Ok(at) => at,
            Err(at) => {
                self.0.insert(
                    at,
                    ScopeEntry {
                        provider,
                        categories: Vec::new(),
                    },
                );
                at
            }
        };
        let cats = &mut self.0[at].categories;
        cats.extend(categories);
        cats.sort();
        cats.dedup();
    }

    /// The entries.
    #[must_use]
    pub fn entries(&self) -> &[ScopeEntry] {
        &self.0
    }

    /// The categories covered at `provider` (empty if none).
    #[must_use]
    pub fn categories_at(&self, provider: &PartyId) -> &[Category] {
        self.0
            .binary_search_by(|e| e.provider.cmp(provider))
            .map(|i| self.0[i].categories.as_slice())
            .unwrap_or_default()
    }

    /// Whether the scope is well formed: non-empty, no empty entry, within [`MAX_SCOPE`],
    /// sorted, unique.
    #[must_use]
    pub fn is_well_formed(&self) -> bool {
        !self.0.is_empty()
            && self.0.len() <= MAX_SCOPE
            && self.0.windows(2).all(|w| w[0].provider < w[1].provider)
            && self.0.iter().all(|e| {
                !e.categories.is_empty()
                    && e.categories.len() <= MAX_SCOPE
                    && e.categories.windows(2).all(|w| w[0] < w[1])
            })
    }

    pub(crate) fn write(&self, e: &mut Encoder) {
        e.array(self.0.len());
        for entry in &self.0 {
            e.array(2).bytes(entry.provider.as_bytes());
            wire::write_categories(e, &entry.categories);
        }
    }

    pub(crate) fn read(d: &mut Decoder<'_>) -> Result<Self, DecodeError> {
        let entries = d.array_of("scope", 1, |d| {
            d.nested(|d| {
                if d.array()? != 2 {
                    return Err(DecodeError::InvalidValue {
                        field: "scope entry",
                        reason: "must be [provider, categories]",
                    });
                }
                Ok(ScopeEntry {
                    provider: wire::party_id(d)?,
                    categories: wire::categories(d)?,
                })
            })
        })?;
        let scope = Scope(entries);
        if !scope.is_well_formed() {
            return Err(DecodeError::InvalidValue {
                field: "scope",
                reason: "providers must be sorted and unique, at most 64",
            });
        }
        Ok(scope)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A periodic pattern allowing nothing, or over an empty period, cannot be made, in code or
    /// in JSON: the grant builder used to sign one that every verifier then refused.
    #[test]
    fn an_empty_access_pattern_cannot_be_made() {
        assert_eq!(AccessPattern::periodic(0, 0), Err(TermsError::NoUses));
        assert_eq!(AccessPattern::periodic(1, 0), Err(TermsError::EmptyPeriod));
        assert_eq!(TermsError::NoUses.code(), "terms/no_uses");
        for json in [
            r#"{"periodic":{"max_uses":0,"period_secs":10}}"#,
            r#"{"periodic":{"max_uses":1,"period_secs":0}}"#,
        ] {
            let error = serde_json::from_str::<AccessPattern>(json).expect_err(json);
            assert!(
                error.to_string().contains("periodic access pattern"),
                "{error}"
            );
        }
        let weekly = AccessPattern::periodic(1, 7 * 86_400).expect("valid");
        let json = serde_json::to_string(&weekly).expect("json");
        assert_eq!(json, r#"{"periodic":{"max_uses":1,"period_secs":604800}}"#);
        assert_eq!(
            serde_json::from_str::<AccessPattern>(&json).ok(),
            Some(weekly)
        );
    }

    /// An inverted or empty data range cannot be made, so a grant's terms never measure a
    /// negative length (this used to underflow in `ceiling_terms`).
    #[test]
    fn an_inverted_data_range_cannot_be_made() {
        let (t, later) = (Timestamp(100), Timestamp(200));
        assert_eq!(DataRange::new(later, t), Err(TermsError::EmptyRange));
        assert_eq!(DataRange::new(t, t), Err(TermsError::EmptyRange));
        assert_eq!(DataRange::year(1969), Err(TermsError::YearOutOfRange));
        let error =
            serde_json::from_str::<DataRange>(r#"{"from":200,"until":100}"#).expect_err("inverted");
        assert!(error.to_string().contains("until must be after"), "{error}");
        assert_eq!(DataRange::new(t, later).map(|r| r.len_secs()), Ok(100));
    }

    /// The JSON form of a scope is checked like the CBOR form: providers in id order, each with
    /// a non-empty, sorted set of categories.
    #[test]
    fn a_json_scope_must_be_sorted_and_non_empty() {
        let scope = |providers: &[(u8, &[&str])]| {
            let entries: Vec<String> = providers
                .iter()
                .map(|(p, cats)| {
                    format!(
                        r#"{{"provider":"{}","categories":{}}}"#,
                        PartyId::from_bytes([*p; 16]),
                        serde_json::to_string(cats).expect("json")
                    )
                })
                .collect();
            serde_json::from_str::<Scope>(&format!("[{}]", entries.join(",")))
        };
        let ok = scope(&[(1, &["a:x", "b:x"]), (2, &["a:x"])]).expect("well formed");
        assert_eq!(ok.categories_at(&PartyId::from_bytes([1; 16])).len(), 2);
        for refused in [
            scope(&[]),
            scope(&[(1, &[])]),
            scope(&[(1, &["b:x", "a:x"])]),
            scope(&[(1, &["a:x", "a:x"])]),
            scope(&[(2, &["a:x"]), (1, &["a:x"])]),
            scope(&[(1, &["a:x"]), (1, &["b:x"])]),
        ] {
            let error = refused.expect_err("refused").to_string();
            assert!(error.contains("a scope is a non-empty list"), "{error}");
        }
    }
}
