//! Public usage statistics computed from the transfer log, with small counts suppressed.
//!
//! A [`UsageReport`] counts, over a period, the transfers (receipt entries) per provider, per
//! consumer, per purpose and per legal basis, and the denials per reason: each a separate
//! breakdown, never crossed, so a reader sees marginals only. It is computed from every entry of
//! the log up to a signed tree head, after checking that those entries are exactly the ones the
//! head commits to: anyone who holds the entries and the head recomputes the same report with
//! [`UsageReport::verify`], so a log keeper cannot publish figures its log does not support.
//!
//! Counts below the report's threshold are suppressed (primary suppression), and further cells
//! are suppressed until the suppressed cells of a breakdown are at least two and add up to at
//! least the threshold (complementary suppression): a published total minus the published cells
//! then never gives back a small count. A total from 1 to below the threshold is suppressed too
//! (zero is published). The rules are stated in `docs/model.md`, "Public usage statistics".
//!
//! ```
//! use consentry::log::{LogEntry, SignedTreeHead, TransferLog};
//! use consentry::stats::{Dimension, Period, UsageReport};
//! use consentry::testing::{key_for, party_for};
//! use consentry::{Digest, Timestamp};
//! # use consentry::log::Denial;
//!
//! let mut log = TransferLog::new();
//! for i in 0..12u8 {
//!     let denial = Denial::new(Digest::of(&[i]), None, None, ["expired"], Timestamp::from_secs(100))?;
//!     log.append(&LogEntry::Denial(denial));
//! }
//! let (key, operator) = (key_for("log-operator"), party_for("log-operator"));
//! let signed = log.sign_head(&key, operator, Timestamp::from_secs(200));
//! let head = SignedTreeHead::verify(&signed, operator, &key.verifying_key())?;
//!
//! let period = Period::new(Timestamp::from_secs(0), Timestamp::from_secs(200))?;
//! let report = UsageReport::compute(log.entries(), &head, period, 10)?;
//! let reasons = report.breakdown(Dimension::DenialReason).unwrap();
//! assert_eq!(reasons.total, Some(12));
//! assert_eq!(reasons.rows[0].key, "expired");
//! report.verify(log.entries(), &head)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::directory::PartyId;
use crate::ids::BasisKind;
use crate::log::{LogEntry, LogError, ReplayFault, SignedTreeHead, replay};
use crate::terms::DataRange;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use thiserror::Error;

/// The threshold a publisher should start from: counts from 1 to 9 are suppressed.
///
/// Ten is the smallest count the French health-data platform (SNDS) and many national
/// statistical offices publish about people; a publisher may choose a higher one.
pub const DEFAULT_THRESHOLD: u64 = 10;

/// The key of the legal-basis breakdown for transfers under a consent grant.
pub const CONSENT: &str = "consent";

/// The period a report counts: a half-open range `[from, until)` of the entries' own times (a
/// receipt's issue time, a denial's time), with the rules of any [`DataRange`] (not empty:
/// `terms/empty_range`).
pub type Period = DataRange;

/// Whether `t` falls in `period`.
fn within(period: Period, t: Timestamp) -> bool {
    period.from() <= t && t < period.until()
}

/// What a breakdown counts by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dimension {
    /// Transfers per provider (its party id).
    Provider,
    /// Transfers per consumer (its party id).
    Consumer,
    /// Transfers per purpose code.
    Purpose,
    /// Transfers per legal basis: [`CONSENT`] for a grant, the habilitation's legal reference
    /// otherwise.
    LegalBasis,
    /// Denials per reason code; a denial with several reasons counts once under each.
    DenialReason,
}

impl Dimension {
    /// Every dimension, in report order.
    pub const ALL: [Dimension; 5] = [
        Dimension::Provider,
        Dimension::Consumer,
        Dimension::Purpose,
        Dimension::LegalBasis,
        Dimension::DenialReason,
    ];

    /// Its name in JSON and CSV.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Dimension::Provider => "provider",
            Dimension::Consumer => "consumer",
            Dimension::Purpose => "purpose",
            Dimension::LegalBasis => "legal_basis",
            Dimension::DenialReason => "denial_reason",
        }
    }
}

/// One cell of a breakdown. `count` is `None` (JSON `null`) when suppressed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Row {
    /// What is counted: a party id, a purpose code, a legal basis or a reason code.
    pub key: String,
    /// The count, or `None` if suppressed (`null`, never left out).
    #[serde(deserialize_with = "Option::deserialize")]
    pub count: Option<u64>,
}

/// The counts of one dimension, by key in ascending order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Breakdown {
    /// What it counts by.
    pub dimension: Dimension,
    /// The number of transfers (or, for [`Dimension::DenialReason`], of denials) of the period,
    /// or `None` if suppressed (`null`, never left out).
    #[serde(deserialize_with = "Option::deserialize")]
    pub total: Option<u64>,
    /// The cells, one per key seen in the period, sorted by key.
    pub rows: Vec<Row>,
}

/// The signed tree head a report was computed against.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportHead {
    /// The log, named by its operator's party id.
    pub log_id: PartyId,
    /// The number of entries the head covers, all of which were read.
    pub tree_size: u64,
    /// The head's root hash, in lower-case hexadecimal (read: 64 hexadecimal digits).
    #[serde(deserialize_with = "root_hash")]
    pub root_hash: String,
    /// When the head was signed.
    pub timestamp: Timestamp,
}

impl ReportHead {
    fn of(head: &SignedTreeHead) -> Self {
        ReportHead {
            log_id: head.log_id(),
            tree_size: head.tree_size(),
            root_hash: head.root_hash().to_hex(),
            timestamp: head.timestamp(),
        }
    }
}

/// A root hash as read: 64 hexadecimal digits.
fn root_hash<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let text = String::deserialize(d)?;
    if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(text)
    } else {
        Err(serde::de::Error::custom(
            "a root hash is 64 hexadecimal digits",
        ))
    }
}

/// Aggregate usage statistics over a period, from every entry of the log up to a signed head.
///
/// Its JSON form (`docs/schemas/usage-report.schema.json`) is what a publisher writes and a
/// reader reads back with [`json::from_json`](crate::json::from_json) before
/// [`verify`](UsageReport::verify): unknown fields, a breakdown list other than one per
/// [`Dimension`] in the order of [`Dimension::ALL`], and an empty period are refused; a
/// suppressed count is `null`.
///
/// ```
/// use consentry::json;
/// use consentry::stats::UsageReport;
/// let refused = json::from_json::<UsageReport>(r#"{"period": {"from": 5, "until": 5}}"#);
/// assert_eq!(refused.unwrap_err().code(), "terms/empty_range");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct UsageReport {
    /// The period counted.
    pub period: Period,
    /// Counts below it are suppressed.
    pub threshold: u64,
    /// The head whose entries were read.
    pub head: ReportHead,
    /// One breakdown per [`Dimension`], in the order of [`Dimension::ALL`].
    pub breakdowns: Vec<Breakdown>,
}

impl<'de> Deserialize<'de> for UsageReport {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct ReportJson {
            period: Period,
            threshold: u64,
            head: ReportHead,
            breakdowns: Vec<Breakdown>,
        }
        let r = ReportJson::deserialize(d)?;
        if !r.breakdowns.iter().map(|b| b.dimension).eq(Dimension::ALL) {
            return Err(serde::de::Error::custom(
                "a report has one breakdown per dimension, in the order provider, consumer, purpose, legal_basis, denial_reason",
            ));
        }
        Ok(UsageReport {
            period: r.period,
            threshold: r.threshold,
            head: r.head,
            breakdowns: r.breakdowns,
        })
    }
}

/// Why a report could not be computed or does not match the log.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum StatsError {
    /// The period ends after the head was signed, so entries of its end may be missing.
    #[error(
        "the period ends at {until}, after the tree head was signed ({head}): take a later head or an earlier end"
    )]
    PeriodAfterHead {
        /// The period's end.
        until: Timestamp,
        /// The head's timestamp.
        head: Timestamp,
    },
    /// Not as many entries as the head covers were given.
    #[error("{given} entries were given, the tree head covers {head}")]
    SizeMismatch {
        /// How many entries were given.
        given: u64,
        /// The head's tree size.
        head: u64,
    },
    /// The entries given are not those the head commits to.
    #[error(
        "the entries' root is {computed}, the tree head's is {head}: these are not the head's entries"
    )]
    RootMismatch {
        /// The root computed from the entries, hexadecimal.
        computed: String,
        /// The head's root, hexadecimal.
        head: String,
    },
    /// An entry the head commits to does not decode.
    #[error("log entry {index} does not decode: {error}")]
    Entry {
        /// Its index.
        index: u64,
        /// Why.
        error: LogError,
    },
    /// The report is not the one the head's entries give.
    #[error("the report's {what} differs from the one recomputed from the log")]
    Mismatch {
        /// What differs: `head`, `threshold`, or a dimension's name.
        what: &'static str,
    },
}

impl StatsError {
    /// A stable code for the refusal.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            StatsError::PeriodAfterHead { .. } => "stats/period_after_head",
            StatsError::SizeMismatch { .. } => "stats/size_mismatch",
            StatsError::RootMismatch { .. } => "stats/root_mismatch",
            StatsError::Entry { .. } => "stats/malformed_entry",
            StatsError::Mismatch { .. } => "stats/report_mismatch",
        }
    }
}

/// Raw counts of one dimension.
#[derive(Default)]
struct Tally {
    total: u64,
    by_key: BTreeMap<String, u64>,
}

impl Tally {
    fn add(&mut self, key: String) {
        *self.by_key.entry(key).or_insert(0) += 1;
    }
}

impl UsageReport {
    /// Counts the transfers and denials of `period` in `entries`, which must be exactly the
    /// entries `head` commits to (all of them, in log order), suppressing counts below
    /// `threshold` (see the module's documentation; [`DEFAULT_THRESHOLD`] is a starting point).
    ///
    /// The head's signature is the caller's to check first (it is a [`SignedTreeHead`]). The
    /// signatures of the receipts are not checked here: the report counts what the log holds,
    /// and the log's audit checks what it holds (`docs/log.md`).
    ///
    /// # Errors
    ///
    /// [`StatsError::PeriodAfterHead`] if the period ends after the head's timestamp;
    /// [`StatsError::SizeMismatch`] or [`StatsError::RootMismatch`] if the entries are not the
    /// head's; [`StatsError::Entry`] if one of them does not decode.
    pub fn compute<E: AsRef<[u8]>>(
        entries: &[E],
        head: &SignedTreeHead,
        period: Period,
        threshold: u64,
    ) -> Result<Self, StatsError> {
        if period.until() > head.timestamp() {
            return Err(StatsError::PeriodAfterHead {
                until: period.until(),
                head: head.timestamp(),
            });
        }
        let mut tallies: [Tally; 5] = Default::default();
        replay(entries, head, |_, entry| count(entry, period, &mut tallies)).map_err(|fault| {
            match fault {
                ReplayFault::Count { given, head } => StatsError::SizeMismatch { given, head },
                ReplayFault::Entry { index, error } => StatsError::Entry { index, error },
                ReplayFault::Root { computed } => StatsError::RootMismatch {
                    computed: computed.to_hex(),
                    head: head.root_hash().to_hex(),
                },
            }
        })?;
        let breakdowns = Dimension::ALL
            .iter()
            .zip(tallies)
            .map(|(&dimension, tally)| suppress(dimension, tally, threshold))
            .collect();
        Ok(UsageReport {
            period,
            threshold,
            head: ReportHead::of(head),
            breakdowns,
        })
    }

    /// Recomputes the report from `entries` and `head`, with its own period and threshold, and
    /// checks that it is this one: what a reader of a published report does.
    ///
    /// # Errors
    ///
    /// The errors of [`UsageReport::compute`]; [`StatsError::Mismatch`] naming the first part
    /// that differs.
    pub fn verify<E: AsRef<[u8]>>(
        &self,
        entries: &[E],
        head: &SignedTreeHead,
    ) -> Result<(), StatsError> {
        if self.head != ReportHead::of(head) {
            return Err(StatsError::Mismatch { what: "head" });
        }
        let recomputed = UsageReport::compute(entries, head, self.period, self.threshold)?;
        if self.breakdowns.len() != recomputed.breakdowns.len() {
            return Err(StatsError::Mismatch {
                what: "list of breakdowns",
            });
        }
        for (published, computed) in self.breakdowns.iter().zip(&recomputed.breakdowns) {
            if published != computed {
                return Err(StatsError::Mismatch {
                    what: computed.dimension.name(),
                });
            }
        }
        Ok(())
    }

    /// The breakdown by `dimension`.
    #[must_use]
    pub fn breakdown(&self, dimension: Dimension) -> Option<&Breakdown> {
        self.breakdowns.iter().find(|b| b.dimension == dimension)
    }

    /// The report as CSV (RFC 4180, `\r\n` line ends), with the header `section,key,value`:
    /// first the rows of section `report` (`period_from`, `period_until`, `threshold`,
    /// `log_id`, `tree_size`, `root_hash`, `head_timestamp`), then for each breakdown a row
    /// `<dimension>,total,<n>` and one row per key. A suppressed count is written `suppressed`.
    #[must_use]
    pub fn to_csv(&self) -> String {
        let mut out = String::from("section,key,value\r\n");
        let mut row = |section: &str, key: &str, value: &str| {
            let _ = write!(out, "{},{},{}\r\n", csv(section), csv(key), csv(value));
        };
        let head = &self.head;
        row(
            "report",
            "period_from",
            &self.period.from().secs().to_string(),
        );
        row(
            "report",
            "period_until",
            &self.period.until().secs().to_string(),
        );
        row("report", "threshold", &self.threshold.to_string());
        row("report", "log_id", &head.log_id.0.to_string());
        row("report", "tree_size", &head.tree_size.to_string());
        row("report", "root_hash", &head.root_hash);
        row(
            "report",
            "head_timestamp",
            &head.timestamp.secs().to_string(),
        );
        let cell =
            |count: Option<u64>| count.map_or_else(|| "suppressed".to_owned(), |n| n.to_string());
        for breakdown in &self.breakdowns {
            let name = breakdown.dimension.name();
            row(name, "total", &cell(breakdown.total));
            for r in &breakdown.rows {
                row(name, &r.key, &cell(r.count));
            }
        }
        out
    }
}

/// A CSV field, quoted when it holds a comma, a quote or a line end (RFC 4180).
fn csv(field: &str) -> String {
    if field.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_owned()
    }
}

fn count(entry: &LogEntry, period: Period, tallies: &mut [Tally; 5]) {
    match entry {
        LogEntry::Receipt(receipt) => {
            let receipt = receipt.claims();
            if !within(period, receipt.issued_at()) {
                return;
            }
            let legal_basis = match receipt.basis_kind() {
                BasisKind::Grant => CONSENT.to_owned(),
                BasisKind::Habilitation => receipt.legal_reference().unwrap_or_default().to_owned(),
            };
            let keys = [
                receipt.provider().0.to_string(),
                receipt.consumer().0.to_string(),
                receipt.purpose().to_string(),
                legal_basis,
            ];
            for (tally, key) in tallies.iter_mut().zip(keys) {
                tally.total += 1;
                tally.add(key);
            }
        }
        LogEntry::Denial(denial) if within(period, denial.at()) => {
            let tally = &mut tallies[4];
            tally.total += 1;
            for reason in denial.reasons() {
                tally.add(reason.clone());
            }
        }
        _ => {}
    }
}

/// Primary and complementary suppression of one breakdown (the rules of the module's
/// documentation).
fn suppress(dimension: Dimension, tally: Tally, threshold: u64) -> Breakdown {
    let mut rows: Vec<(String, u64, bool)> = tally
        .by_key
        .into_iter()
        .map(|(key, n)| {
            let hidden = n < threshold;
            (key, n, hidden)
        })
        .collect();
    let safe = |rows: &[(String, u64, bool)]| {
        let hidden: Vec<u64> = rows.iter().filter(|r| r.2).map(|r| r.1).collect();
        hidden.is_empty() || (hidden.len() >= 2 && hidden.iter().sum::<u64>() >= threshold)
    };
    while !safe(&rows) {
        // The smallest published cell, the first key on a tie.
        let next = rows
            .iter_mut()
            .filter(|r| !r.2)
            .min_by(|a, b| a.1.cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
        match next {
            Some(r) => r.2 = true,
            None => break,
        }
    }
    let small = tally.total > 0 && tally.total < threshold;
    let total = (!small && safe(&rows)).then_some(tally.total);
    Breakdown {
        dimension,
        total,
        rows: rows
            .into_iter()
            .map(|(key, n, hidden)| Row {
                key,
                count: (!hidden).then_some(n),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tally(counts: &[(&str, u64)], total: u64) -> Tally {
        Tally {
            total,
            by_key: counts.iter().map(|&(k, n)| (k.to_owned(), n)).collect(),
        }
    }

    fn cells(b: &Breakdown) -> Vec<Option<u64>> {
        b.rows.iter().map(|r| r.count).collect()
    }

    #[test]
    fn a_lone_small_cell_takes_the_next_smallest_with_it() {
        let b = suppress(
            Dimension::Provider,
            tally(&[("a", 3), ("b", 40), ("c", 25), ("d", 25)], 93),
            10,
        );
        // c and d tie at 25: the first key goes.
        assert_eq!(cells(&b), [None, Some(40), None, Some(25)]);
        assert_eq!(b.total, Some(93));
    }

    #[test]
    fn suppressed_cells_add_up_to_the_threshold() {
        // 2 + 3 < 10: one more cell is suppressed.
        let b = suppress(
            Dimension::Consumer,
            tally(&[("a", 2), ("b", 3), ("c", 12), ("d", 50)], 67),
            10,
        );
        assert_eq!(cells(&b), [None, None, None, Some(50)]);
        assert_eq!(b.total, Some(67));
    }

    #[test]
    fn a_single_small_row_hides_the_total() {
        let b = suppress(Dimension::Purpose, tally(&[("a", 4)], 4), 10);
        assert_eq!((cells(&b), b.total), (vec![None], None));
        let b = suppress(Dimension::Purpose, tally(&[("a", 4), ("b", 40)], 44), 10);
        // Both hidden, their sum 44 ≥ 10: the total can stay.
        assert_eq!((cells(&b), b.total), (vec![None, None], Some(44)));
    }

    #[test]
    fn a_small_total_is_hidden_even_when_its_cells_add_up() {
        // Denials: 3 denials with 4 reasons each make 4 cells of 3 (hidden, adding up to 12);
        // the total, 3, is still below the threshold and stays hidden.
        let counts = [("a", 3), ("b", 3), ("c", 3), ("d", 3)];
        let b = suppress(Dimension::DenialReason, tally(&counts, 3), 10);
        assert_eq!((cells(&b), b.total), (vec![None; 4], None));
        // 10 denials with the same 2 reasons: nothing is small, the total of 10 is published.
        let b = suppress(
            Dimension::DenialReason,
            tally(&[("a", 10), ("b", 10)], 10),
            10,
        );
        assert_eq!((cells(&b), b.total), (vec![Some(10), Some(10)], Some(10)));
    }

    #[test]
    fn nothing_small_nothing_hidden() {
        let b = suppress(
            Dimension::LegalBasis,
            tally(&[("a", 10), ("b", 11)], 21),
            10,
        );
        assert_eq!((cells(&b), b.total), (vec![Some(10), Some(11)], Some(21)));
        let b = suppress(Dimension::DenialReason, tally(&[], 0), 10);
        // No transfer reveals nobody: a zero total is published.
        assert_eq!((cells(&b), b.total), (vec![], Some(0)));
    }

    proptest::proptest! {
        /// What a reader can infer from a breakdown never pins a small count: each published
        /// cell is at least the threshold, and what the published total leaves to the hidden
        /// cells (total minus the published ones) is shared by two cells or more and is at least
        /// the threshold.
        #[test]
        fn no_small_count_can_be_inferred(
            counts in proptest::collection::vec(1u64..40, 0..8),
            threshold in 1u64..20,
        ) {
            let total: u64 = counts.iter().sum();
            let keys: Vec<String> = (0..counts.len()).map(|i| format!("k{i}")).collect();
            let pairs: Vec<(&str, u64)> = keys.iter().map(String::as_str).zip(counts.iter().copied()).collect();
            let b = suppress(Dimension::Provider, tally(&pairs, total), threshold);
            proptest::prop_assert_eq!(b.rows.len(), counts.len());
            let published: u64 = b.rows.iter().filter_map(|r| r.count).sum();
            let hidden = b.rows.iter().filter(|r| r.count.is_none()).count();
            for (row, &n) in b.rows.iter().zip(&counts) {
                if let Some(c) = row.count {
                    proptest::prop_assert_eq!(c, n);
                    proptest::prop_assert!(c >= threshold);
                }
            }
            match b.total {
                Some(t) => {
                    proptest::prop_assert_eq!(t, total);
                    proptest::prop_assert!(t == 0 || t >= threshold);
                    let left = t - published;
                    proptest::prop_assert!(hidden == 0 || (hidden >= 2 && left >= threshold));
                }
                // A hidden total is hidden for a reason: it is small, or the cells alone
                // could not be protected.
                None => {
                    let left = total - published;
                    proptest::prop_assert!(
                        (total > 0 && total < threshold) || hidden < 2 || left < threshold
                    );
                }
            }
        }
    }

    #[test]
    fn csv_quotes_what_needs_it() {
        assert_eq!(csv("L114-8, CRPA"), "\"L114-8, CRPA\"");
        assert_eq!(csv("a \"b\""), "\"a \"\"b\"\"\"");
        assert_eq!(csv("plain"), "plain");
    }
}
