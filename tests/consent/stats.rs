//! Public usage statistics: what each breakdown counts, suppression as the rules state it, and a
//! report that a reader holding the log's entries and a signed head recomputes (so a dropped
//! entry, another log or an altered figure is caught).
//!
//! The expected figures are restated here from what each test did, never from the report code.

use super::common::default_grant;
use consentry::Timestamp;
use consentry::decision::Decision;
use consentry::log::{LogEntry, SignedTreeHead};
use consentry::signed::SignedPayload;
use consentry::statement::Action;
use consentry::stats::{Breakdown, CONSENT, Dimension, Period, StatsError, UsageReport};
use consentry::testing::{LOG_OPERATOR, Scenario, canteen_purpose, key_for, party_for};

const DAY: u64 = 86_400;

/// The rows of a breakdown as (key, count) pairs, `None` for a suppressed count.
fn rows(b: &Breakdown) -> Vec<(String, Option<u64>)> {
    b.rows.iter().map(|r| (r.key.clone(), r.count)).collect()
}

/// The canteen's log with, on the clock's day: 12 transfers under the habilitation, 3 under
/// three grants of the parent, 11 replays of one request and 2 requests under the paused
/// habilitation (denials).
fn busy_log() -> (Scenario, Vec<u8>) {
    let mut s = Scenario::canteen();
    let habilitation = s.habilitation().sign(s.key(s.authority));
    let mut replayed = Vec::new();
    for _ in 0..12 {
        let request = s.sign_request(&s.request(&habilitation));
        assert!(s.decide_and_log(&request, &habilitation).is_allow());
        replayed = request;
    }
    for _ in 0..3 {
        let grant = default_grant(&s);
        let request = s.sign_request(&s.request(&grant));
        assert!(s.decide_and_log(&request, &grant).is_allow());
    }
    for _ in 0..11 {
        let decision = s.decide_and_log(&replayed, &habilitation);
        assert_eq!(codes(&decision), ["replayed_request"]);
    }
    let pause = s.statement(&habilitation, Action::Pause, s.authority);
    s.apply_and_log(&pause, &habilitation).expect("paused");
    for _ in 0..2 {
        let request = s.sign_request(&s.request(&habilitation));
        let decision = s.decide_and_log(&request, &habilitation);
        assert_eq!(codes(&decision), ["paused"]);
    }
    (s, habilitation)
}

fn codes(decision: &Decision) -> Vec<&'static str> {
    decision
        .reasons()
        .iter()
        .map(consentry::Reason::code)
        .collect()
}

fn the_day(s: &Scenario) -> Period {
    Period::new(s.now, s.now.plus_secs(DAY)).expect("a day")
}

#[test]
fn every_breakdown_counts_what_the_log_holds_and_hides_small_counts() {
    let (mut s, habilitation) = busy_log();
    let legal_reference =
        consentry::signed::Unverified::<consentry::Habilitation>::parse(&habilitation)
            .expect("parses")
            .claims()
            .legal_reference()
            .to_owned();
    let period = the_day(&s);
    s.advance_days(1);
    let report = s.usage_report(period, 10).expect("report");
    assert_eq!(report.threshold, 10);
    assert_eq!(report.head.tree_size, s.log.len());

    let (dgfip, mairie) = (s.dgfip.0.to_string(), s.mairie.0.to_string());
    let breakdown = |d| report.breakdown(d).expect("every dimension");
    // One provider, one consumer, one purpose: 15 transfers each, nothing small.
    assert_eq!(breakdown(Dimension::Provider).total, Some(15));
    assert_eq!(rows(breakdown(Dimension::Provider)), [(dgfip, Some(15))]);
    assert_eq!(rows(breakdown(Dimension::Consumer)), [(mairie, Some(15))]);
    assert_eq!(
        rows(breakdown(Dimension::Purpose)),
        [(canteen_purpose().to_string(), Some(15))]
    );
    // Consent 3 is below 10: suppressed, and the habilitation's 12 with it, or 15 − 12 would
    // give it back. The total of 15 stays: the two hidden cells add up to 15 ≥ 10.
    let legal = breakdown(Dimension::LegalBasis);
    let mut expected = vec![(CONSENT.to_owned(), None), (legal_reference, None)];
    expected.sort();
    assert_eq!((rows(legal), legal.total), (expected, Some(15)));
    // 11 replays and 2 pauses: "paused" hidden, "replayed_request" with it; 13 denials.
    let reasons = breakdown(Dimension::DenialReason);
    assert_eq!(
        (rows(reasons), reasons.total),
        (
            vec![
                ("paused".to_owned(), None),
                ("replayed_request".to_owned(), None)
            ],
            Some(13)
        )
    );

    // With a threshold of 1 nothing is hidden.
    let open = s.usage_report(period, 1).expect("report");
    let reasons = open.breakdown(Dimension::DenialReason).expect("reasons");
    assert_eq!(
        rows(reasons),
        [
            ("paused".to_owned(), Some(2)),
            ("replayed_request".to_owned(), Some(11))
        ]
    );
}

#[test]
fn the_period_is_half_open_and_must_end_before_the_head() {
    let (mut s, _) = busy_log();
    // Everything happened at the clock: a period ending there counts nothing, one starting
    // there counts everything.
    let before = Period::new(Timestamp::from_secs(0), s.now).expect("period");
    let report = s.usage_report(before, 1).expect("report");
    for b in &report.breakdowns {
        assert_eq!((b.total, b.rows.len()), (Some(0), 0), "{:?}", b.dimension);
    }
    // The head is signed at the clock: a period ending after it is refused.
    let error = s.usage_report(the_day(&s), 1).unwrap_err();
    assert_eq!(error.code(), "stats/period_after_head");
    // Two days later, the day before the clock is the day after everything happened: empty.
    s.advance_days(2);
    let next_day = Period::new(s.now.minus_secs(DAY), s.now).expect("a day");
    let report = s.usage_report(next_day, 1).expect("report");
    assert_eq!(
        report.breakdown(Dimension::Provider).unwrap().total,
        Some(0)
    );

    let error = Period::new(s.now, s.now).unwrap_err();
    assert_eq!(error, consentry::TermsError::EmptyRange);
}

/// The report of [`busy_log`]'s day with the entries and the verified head it came from.
fn published() -> (UsageReport, Vec<Vec<u8>>, SignedTreeHead, Scenario) {
    let (mut s, _) = busy_log();
    let period = the_day(&s);
    s.advance_days(1);
    let report = s.usage_report(period, 10).expect("report");
    let operator = s.log_operator;
    let head = SignedTreeHead::verify(&s.sign_head(), operator, &s.key(operator).verifying_key())
        .expect("head");
    (report, s.log.entries().to_vec(), head, s)
}

#[test]
fn a_reader_recomputes_the_report_from_the_entries_and_the_head() {
    let (report, entries, head, _) = published();
    report.verify(&entries, &head).expect("the same report");

    // An entry left out: not the head's entries.
    let fewer = &entries[..entries.len() - 1];
    let error = report.verify(fewer, &head).unwrap_err();
    assert_eq!(error.code(), "stats/size_mismatch");

    // A denial swapped for a receipt, to inflate the transfers: the root differs.
    let mut swapped = entries.clone();
    let receipt = swapped
        .iter()
        .position(|e| matches!(LogEntry::from_bytes(e), Ok(LogEntry::Receipt(_))))
        .expect("a receipt");
    let last = swapped.len() - 1;
    swapped[last] = swapped[receipt].clone();
    let error = report.verify(&swapped, &head).unwrap_err();
    assert!(
        matches!(error, StatsError::RootMismatch { .. }),
        "{error:?}"
    );

    // A published figure altered: the breakdown that differs is named.
    let mut altered = report.clone();
    altered.breakdowns[0].total = Some(16);
    let error = altered.verify(&entries, &head).unwrap_err();
    assert_eq!(
        (error.code(), error.to_string().contains("provider")),
        ("stats/report_mismatch", true)
    );

    // A hidden count revealed: caught the same way.
    let mut revealed = report.clone();
    revealed.breakdowns[4].rows[0].count = Some(2);
    let error = revealed.verify(&entries, &head).unwrap_err();
    assert_eq!(
        error,
        StatsError::Mismatch {
            what: "denial_reason"
        }
    );

    // The report of another head.
    let mut moved = report;
    moved.head.tree_size -= 1;
    let error = moved.verify(&entries, &head).unwrap_err();
    assert_eq!(error, StatsError::Mismatch { what: "head" });
}

#[test]
fn json_and_csv_carry_the_same_figures() {
    let (report, _, _, s) = published();
    let json = serde_json::to_value(&report).expect("json");
    assert_eq!(json["threshold"], 10);
    assert_eq!(json["head"]["tree_size"], s.log.len());
    assert_eq!(json["breakdowns"][0]["dimension"], "provider");
    assert_eq!(json["breakdowns"][0]["total"], 15);
    assert_eq!(
        json["breakdowns"][4]["rows"][0]["count"],
        serde_json::Value::Null
    );
    let back: UsageReport = serde_json::from_value(json.clone()).expect("reads back");
    assert_eq!(back, report);
    // A published report read back keeps the period's rule, and refuses unknown fields.
    let mut empty = json.clone();
    empty["period"]["until"] = empty["period"]["from"].clone();
    let error = serde_json::from_value::<UsageReport>(empty).unwrap_err();
    assert!(error.to_string().contains("empty"), "{error}");
    let mut extra = json;
    extra["breakdowns"][0]["note"] = serde_json::json!("?");
    assert!(serde_json::from_value::<UsageReport>(extra).is_err());

    let csv = report.to_csv();
    let lines: Vec<&str> = csv.split("\r\n").collect();
    assert_eq!(lines[0], "section,key,value");
    assert_eq!(lines[3], "report,threshold,10");
    assert!(lines.contains(&format!("provider,{},15", s.dgfip.0).as_str()));
    assert!(lines.contains(&"denial_reason,paused,suppressed"));
    assert!(lines.contains(&"denial_reason,total,13"));
    // Header, 7 report rows, a total and the rows of each breakdown, and the last line end.
    let cells: usize = report.breakdowns.iter().map(|b| 1 + b.rows.len()).sum();
    assert_eq!(lines.len(), 1 + 7 + cells + 1);
    assert_eq!(lines.last(), Some(&""));
}

proptest::proptest! {
    #![proptest_config(proptest::test_runner::Config::with_cases(64))]

    /// Entries a log keeper hands over are untrusted: whatever they hold, a report over them
    /// and a head committing to them is computed or refused with the first entry that does not
    /// decode, never a panic; and a report computed is the one a reader recomputes.
    #[test]
    fn any_entries_give_a_report_or_name_the_bad_one(
        picks in proptest::collection::vec((0usize..64, proptest::option::of((0usize..512, 0u8..=255))), 0..24),
    ) {
        use consentry::log::{MerkleTree, TreeHead};
        let genuine = busy_entries();
        let entries: Vec<Vec<u8>> = picks
            .iter()
            .map(|&(i, flip)| {
                let mut e = genuine[i % genuine.len()].clone();
                if let Some((at, bits)) = flip {
                    let at = at % e.len();
                    e[at] ^= bits.max(1);
                }
                e
            })
            .collect();
        let mut tree = MerkleTree::new();
        for e in &entries {
            tree.append(e);
        }
        let (operator, key) = (party_for(LOG_OPERATOR), key_for(LOG_OPERATOR));
        let end = Scenario::CLOCK.plus_secs(DAY);
        let signed = TreeHead {
            log_id: operator,
            tree_size: entries.len() as u64,
            root_hash: tree.root(),
            timestamp: end,
        }
        .sign(&key);
        let head = SignedTreeHead::verify(&signed, operator, &key.verifying_key()).expect("head");
        let period = Period::new(Timestamp::from_secs(0), end).expect("period");
        let first_bad = entries.iter().position(|e| LogEntry::from_bytes(e).is_err());
        match (UsageReport::compute(&entries, &head, period, 3), first_bad) {
            (Ok(report), None) => proptest::prop_assert!(report.verify(&entries, &head).is_ok()),
            (Err(StatsError::Entry { index, .. }), Some(bad)) => {
                proptest::prop_assert_eq!(index, bad as u64);
            }
            (other, bad) => proptest::prop_assert!(false, "{other:?} with first bad entry {bad:?}"),
        }
    }
}

/// The entries of [`busy_log`] (at the kit's clock), built once for the property above.
fn busy_entries() -> &'static [Vec<u8>] {
    static LOG: std::sync::OnceLock<Vec<Vec<u8>>> = std::sync::OnceLock::new();
    LOG.get_or_init(|| busy_log().0.log.entries().to_vec())
}
#[test]
fn a_published_report_is_read_back_before_it_is_verified() {
    let (report, entries, head, _) = published();
    let text = consentry::json::to_json(&report);
    let read: UsageReport = consentry::json::from_json(&text).expect("the JSON form");
    assert_eq!(read, report);
    read.verify(&entries, &head).expect("the same report");

    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let with = |edit: &dyn Fn(&mut serde_json::Value)| {
        let mut d = doc.clone();
        edit(&mut d);
        d.to_string()
    };
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "unknown field",
            with(&|d| d["signature"] = "x".into()),
            "json/shape",
        ),
        (
            "unknown dimension",
            with(&|d| d["breakdowns"][2]["dimension"] = "region".into()),
            "json/shape",
        ),
        (
            "breakdowns out of order",
            with(&|d| d["breakdowns"].as_array_mut().unwrap().swap(0, 1)),
            "json/shape",
        ),
        (
            "a breakdown left out",
            with(&|d| {
                d["breakdowns"].as_array_mut().unwrap().pop();
            }),
            "json/shape",
        ),
        (
            "count as text",
            with(&|d| d["breakdowns"][0]["rows"][0]["count"] = "15".into()),
            "json/shape",
        ),
        (
            "count left out",
            with(&|d| {
                d["breakdowns"][4]["rows"][0]
                    .as_object_mut()
                    .unwrap()
                    .remove("count");
            }),
            "json/shape",
        ),
        (
            "total left out",
            with(&|d| {
                d["breakdowns"][0].as_object_mut().unwrap().remove("total");
            }),
            "json/shape",
        ),
        (
            "root hash not hex",
            with(&|d| d["head"]["root_hash"] = "zz".repeat(32).into()),
            "json/shape",
        ),
        (
            "row unknown field",
            with(&|d| d["breakdowns"][0]["rows"][0]["share"] = 1.into()),
            "json/shape",
        ),
        (
            "empty period",
            with(&|d| d["period"]["until"] = d["period"]["from"].clone()),
            "terms/empty_range",
        ),
    ];
    for (what, text, code) in cases {
        let e = consentry::json::from_json::<UsageReport>(&text).expect_err(what);
        assert_eq!(e.code(), code, "{what}: {e}");
    }
}
