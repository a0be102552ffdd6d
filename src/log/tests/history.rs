//! A subject's access history: exactly their entries, each checked on its own.

use super::{operator, pool, sample_entries, scenario};
use crate::log::{
    AccessHistory, LogEntry, LogError, ProofError, SignedTreeHead, TransferLog, verify_history,
    verify_history_against,
};
use crate::time::Timestamp;

fn sample_log() -> TransferLog {
    let mut log = TransferLog::new();
    for entry in sample_entries() {
        log.append(&entry);
    }
    for receipt in &pool().receipts[1..] {
        log.append(&LogEntry::receipt(receipt.clone()).expect("receipt"));
    }
    log
}

#[test]
fn history_lists_exactly_the_subjects_entries() {
    let s = scenario();
    let (key, operator) = operator();
    let log = sample_log();
    let head = log.sign_head(&key, operator, s.now);
    for subject in [s.parent, s.child, s.mairie] {
        let history = log.access_history(subject, log.len()).expect("history");
        let expected: Vec<u64> = (0..log.len())
            .filter(|&i| {
                LogEntry::from_bytes(log.entry(i).expect("entry"))
                    .expect("decodes")
                    .subject()
                    == Some(subject)
            })
            .collect();
        assert_eq!(log.indices_about(&subject), expected.as_slice());
        let report = verify_history(&history, &head, operator, &key.verifying_key()).expect("head");
        assert!(report.is_clean(), "{:?}", report.failures);
        let listed: Vec<u64> = report.verified.iter().map(|c| c.index).collect();
        assert_eq!(listed, expected);
        assert!(
            report
                .verified
                .iter()
                .all(|c| c.entry.subject() == Some(subject))
        );
    }
    assert_eq!(log.indices_about(&s.parent), [0, 1, 2, 3, 6, 7]);
    assert_eq!(log.indices_about(&s.child), [4, 5]);
    assert!(log.indices_about(&s.mairie).is_empty());
}

#[test]
fn history_at_an_older_head() {
    let s = scenario();
    let (key, operator) = operator();
    let log = sample_log();
    let old = TransferLog::from_entries(log.entries()[..4].iter().cloned()).expect("prefix");
    let old_head = old.sign_head(&key, operator, s.now);
    let history = log.access_history(s.parent, 4).expect("history");
    assert_eq!(history.items.len(), 4);
    let report = verify_history(&history, &old_head, operator, &key.verifying_key()).expect("head");
    assert!(report.is_clean());
    // Against the newer head, proofs for size 4 are refused (they are for another size).
    let new_head = log.sign_head(&key, operator, s.now);
    let report = verify_history(&history, &new_head, operator, &key.verifying_key()).expect("head");
    assert_eq!(report.failures.len(), 4);
    assert!(report.failures.iter().all(|f| matches!(
        f.error,
        LogError::InclusionProofMismatch {
            expected_size: 8,
            found_size: 4,
            ..
        }
    )));
    assert!(matches!(
        log.access_history(s.parent, 9),
        Err(LogError::Proof(ProofError::SizeOutOfRange { .. }))
    ));
}

#[test]
fn tampered_entries_are_reported_one_by_one() {
    let s = scenario();
    let (key, operator) = operator();
    let log = sample_log();
    let head = log.sign_head(&key, operator, s.now);
    let clean = log.access_history(s.parent, log.len()).expect("history");

    let mut history = clean.clone();
    // Position 1: one flipped bit inside the receipt's signed bytes.
    let last = history.items[1].entry.len() - 10;
    history.items[1].entry[last] ^= 0x01;
    // Position 3: a proof hash changed.
    history.items[3].proof.path[0].0[0] ^= 0x80;
    // Position 4: the child's grant presented as the parent's (a real, included entry, but
    // not theirs).
    let child = log
        .access_history(s.child, log.len())
        .expect("child history");
    history.items[4] = child.items[0].clone();
    let report = verify_history(&history, &head, operator, &key.verifying_key()).expect("head");
    let failed: Vec<(usize, &LogError)> = report
        .failures
        .iter()
        .map(|f| (f.position, &f.error))
        .collect();
    assert_eq!(failed.len(), 3, "{failed:?}");
    assert_eq!(failed[0], (1, &LogError::Proof(ProofError::RootMismatch)));
    assert_eq!(failed[1], (3, &LogError::Proof(ProofError::RootMismatch)));
    assert_eq!(
        failed[2],
        (
            4,
            &LogError::NotAboutSubject {
                index: 4,
                subject: s.parent
            }
        )
    );
    assert_eq!(report.verified.len(), clean.items.len() - 3);

    // A repeated or out-of-order entry is reported.
    let mut repeated = AccessHistory {
        subject: s.parent,
        items: vec![
            clean.items[1].clone(),
            clean.items[1].clone(),
            clean.items[0].clone(),
        ],
    };
    let report = verify_history(&repeated, &head, operator, &key.verifying_key()).expect("head");
    let failed: Vec<_> = report
        .failures
        .iter()
        .map(|f| (f.position, &f.error))
        .collect();
    assert_eq!(
        failed,
        [
            (1, &LogError::HistoryOrder { index: 1 }),
            (2, &LogError::HistoryOrder { index: 0 })
        ]
    );
    repeated.items.truncate(1);
    assert!(
        verify_history(&repeated, &head, operator, &key.verifying_key())
            .expect("head")
            .is_clean()
    );
}

#[test]
fn history_needs_a_valid_head() {
    let s = scenario();
    let (key, operator) = operator();
    let log = sample_log();
    let history = log.access_history(s.parent, log.len()).expect("history");
    let mut head = log.sign_head(&key, operator, s.now);
    let n = head.len();
    head[n - 1] ^= 1;
    assert_eq!(
        verify_history(&history, &head, operator, &key.verifying_key()),
        Err(LogError::BadSignature)
    );
    // With a head verified against the directory.
    let head = log.sign_head(&key, operator, Timestamp(s.now.0 + 1));
    let verified = SignedTreeHead::verify_with_directory(&head, &s.directory).expect("valid");
    assert!(verify_history_against(&history, verified).is_clean());
}
