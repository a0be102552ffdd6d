//! The terms a legal basis sets: scope, data range, access pattern.

use crate::cbor::{DecodeError, Decoder, Encoder};
use crate::directory::PartyId;
use crate::time::Timestamp;
use crate::vocab::Category;
use crate::wire;
use serde::{Deserialize, Serialize};

pub use crate::wire::MAX_SCOPE;

/// A half-open range of time `[from, until)` that the data may cover (e.g. tax year 2025 is
/// `2025-01-01 .. 2026-01-01`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields, try_from = "DataRangeJson")]
pub struct DataRange {
    /// First instant covered.
    pub from: Timestamp,
    /// First instant no longer covered.
    pub until: Timestamp,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DataRangeJson {
    from: Timestamp,
    until: Timestamp,
}

impl TryFrom<DataRangeJson> for DataRange {
    type Error = &'static str;
    fn try_from(j: DataRangeJson) -> Result<Self, &'static str> {
        DataRange::new(j.from, j.until).ok_or("a data range's until must be after its from")
    }
}

impl DataRange {
    /// A range; `None` if empty (`until <= from`).
    pub fn new(from: Timestamp, until: Timestamp) -> Option<Self> {
        (from < until).then_some(DataRange { from, until })
    }

    /// The calendar year `year` (UTC).
    ///
    /// ```
    /// use consentry::terms::DataRange;
    /// let y = DataRange::year(2025).unwrap();
    /// assert!(y.contains(&DataRange::year(2025).unwrap()));
    /// assert!(!y.contains(&DataRange::year(2024).unwrap()));
    /// ```
    pub fn year(year: u32) -> Option<Self> {
        let from = Timestamp::from_date(year, 1, 1)?;
        let until = Timestamp::from_date(year.checked_add(1)?, 1, 1)?;
        DataRange::new(from, until)
    }

    /// Whether `other` lies entirely inside this range.
    pub fn contains(&self, other: &DataRange) -> bool {
        self.from <= other.from && other.until <= self.until
    }

    /// Length in seconds.
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
            DataRange::new(from, until).ok_or(DecodeError::InvalidValue {
                field: "data range",
                reason: "empty range",
            })
        })
    }
}

/// How often data may be fetched under a grant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(
    rename_all = "snake_case",
    deny_unknown_fields,
    try_from = "AccessJson"
)]
pub enum AccessPattern {
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

/// The unchecked JSON shape of an [`AccessPattern`].
#[derive(Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum AccessJson {
    OneTime,
    Periodic { max_uses: u32, period_secs: u64 },
}

impl TryFrom<AccessJson> for AccessPattern {
    type Error = &'static str;
    fn try_from(j: AccessJson) -> Result<Self, &'static str> {
        match j {
            AccessJson::OneTime => Ok(AccessPattern::OneTime),
            AccessJson::Periodic {
                max_uses,
                period_secs,
            } if max_uses >= 1 && period_secs >= 1 => Ok(AccessPattern::Periodic {
                max_uses,
                period_secs,
            }),
            AccessJson::Periodic { .. } => Err("max_uses and period_secs must be at least 1"),
        }
    }
}

impl AccessPattern {
    /// At most once every 30 days.
    pub const MONTHLY: AccessPattern = AccessPattern::Periodic {
        max_uses: 1,
        period_secs: 30 * 86_400,
    };

    pub(crate) fn write(&self, e: &mut Encoder) {
        match self {
            AccessPattern::OneTime => {
                e.array(1).uint(0);
            }
            AccessPattern::Periodic {
                max_uses,
                period_secs,
            } => {
                e.array(3)
                    .uint(1)
                    .uint(u64::from(*max_uses))
                    .uint(*period_secs);
            }
        }
    }

    pub(crate) fn read(d: &mut Decoder<'_>) -> Result<Self, DecodeError> {
        const BAD: DecodeError = DecodeError::InvalidValue {
            field: "access pattern",
            reason: "must be [0] or [1, max uses >= 1, period >= 1]",
        };
        d.nested(|d| match (d.array()?, d.uint()?) {
            (1, 0) => Ok(AccessPattern::OneTime),
            (3, 1) => {
                let max_uses = u32::try_from(d.uint()?).map_err(|_| BAD)?;
                let period_secs = d.uint()?;
                if max_uses == 0 || period_secs == 0 {
                    return Err(BAD);
                }
                Ok(AccessPattern::Periodic {
                    max_uses,
                    period_secs,
                })
            }
            _ => Err(BAD),
        })
    }

    /// Whether this pattern allows no more transfers per second than `ceiling` (a one-time
    /// pattern is within every pattern).
    pub fn within(&self, ceiling: &AccessPattern) -> bool {
        match (self, ceiling) {
            (AccessPattern::OneTime, _) => true,
            (AccessPattern::Periodic { .. }, AccessPattern::OneTime) => false,
            (
                AccessPattern::Periodic {
                    max_uses: n,
                    period_secs: p,
                },
                AccessPattern::Periodic {
                    max_uses: cn,
                    period_secs: cp,
                },
            ) => {
                // n/p <= cn/cp, and the grant's period must not be longer than the ceiling's
                // (otherwise a burst of n uses could exceed cn within one ceiling period).
                u128::from(*n) * u128::from(*cp) <= u128::from(*cn) * u128::from(*p) && n <= cn
            }
        }
    }
}

/// Which categories may be fetched from which provider: entries sorted by provider id, each
/// with a sorted, non-empty set of categories.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(into = "Vec<ScopeEntry>", try_from = "Vec<ScopeEntry>")]
pub struct Scope(Vec<ScopeEntry>);

impl From<Scope> for Vec<ScopeEntry> {
    fn from(scope: Scope) -> Self {
        scope.0
    }
}

impl TryFrom<Vec<ScopeEntry>> for Scope {
    type Error = &'static str;
    fn try_from(entries: Vec<ScopeEntry>) -> Result<Self, &'static str> {
        let scope = Scope(entries);
        if scope.is_well_formed() {
            Ok(scope)
        } else {
            Err("a scope is a non-empty list of providers in id order, each with sorted categories")
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
    pub fn entries(&self) -> &[ScopeEntry] {
        &self.0
    }

    /// The categories covered at `provider` (empty if none).
    pub fn categories_at(&self, provider: &PartyId) -> &[Category] {
        self.0
            .binary_search_by(|e| e.provider.cmp(provider))
            .map(|i| self.0[i].categories.as_slice())
            .unwrap_or_default()
    }

    /// Whether the scope is well formed: non-empty, no empty entry, within [`MAX_SCOPE`],
    /// sorted, unique.
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
