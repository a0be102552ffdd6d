//! Heads over time: the monitor accepts extensions and refuses forks and rollbacks.

use super::operator;
use crate::Digest;
use crate::directory::PartyId;
use crate::log::{
    Denial, HeadMonitor, LogEntry, LogError, SignedTreeHead, TransferLog, compare_heads,
};
use crate::time::Timestamp;

fn denial(tag: &str) -> LogEntry {
    LogEntry::Denial(
        Denial::new(
            Digest::of(tag.as_bytes()),
            None,
            None,
            ["malformed"],
            Timestamp(1),
        )
        .expect("denial"),
    )
}

fn log_of(tags: &[&str]) -> TransferLog {
    let mut log = TransferLog::new();
    for tag in tags {
        log.append(&denial(tag));
    }
    log
}

fn head(log: &TransferLog, at: u64) -> SignedTreeHead {
    head_as(log, operator().1, at)
}

fn head_as(log: &TransferLog, log_id: PartyId, at: u64) -> SignedTreeHead {
    let (key, _) = operator();
    SignedTreeHead::verify(
        &log.sign_head(&key, log_id, Timestamp(at)),
        log_id,
        &key.verifying_key(),
    )
    .expect("valid head")
}

#[test]
fn extensions_are_accepted() {
    let mut log = TransferLog::new();
    let mut monitor = HeadMonitor::new();
    let mut previous = 0;
    assert!(log.is_empty());
    monitor.observe(head(&log, 0), None).expect("empty head");
    for (n, tag) in ["a", "b", "c", "d", "e"].iter().enumerate() {
        log.append(&denial(tag));
        assert!(!log.is_empty());
        let proof = log.consistency_proof(previous, log.len()).expect("proof");
        monitor
            .observe(head(&log, n as u64 + 1), Some(&proof))
            .expect("extension");
        previous = log.len();
    }
    assert_eq!(monitor.latest().map(SignedTreeHead::tree_size), Some(5));
    // The same head again, or the same tree signed later, is fine.
    monitor.observe(head(&log, 5), None).expect("same head");
    monitor
        .observe(head(&log, 9), None)
        .expect("same tree, later");
    assert_eq!(
        monitor.latest().map(SignedTreeHead::timestamp),
        Some(Timestamp(9))
    );
}

#[test]
fn the_latest_head_is_the_largest_then_the_latest_signed() {
    let small = log_of(&["a"]);
    let large = log_of(&["a", "b"]);
    let proof = large.consistency_proof(1, 2).expect("proof");
    let mut monitor = HeadMonitor::starting_at(head(&small, 7));
    let latest = |m: &HeadMonitor| m.latest().map(|h| (h.tree_size(), h.timestamp().0));

    // A larger tree signed at the same second replaces the latest head.
    monitor
        .observe(head(&large, 7), Some(&proof))
        .expect("extension");
    assert_eq!(latest(&monitor), Some((2, 7)));
    // The same tree signed later replaces it; signed earlier, it is accepted but kept aside.
    monitor
        .observe(head(&large, 9), None)
        .expect("same tree, later");
    assert_eq!(latest(&monitor), Some((2, 9)));
    monitor
        .observe(head(&large, 8), None)
        .expect("same tree, earlier");
    assert_eq!(latest(&monitor), Some((2, 9)));
}

#[test]
fn same_size_different_root_is_a_fork() {
    let (a, b) = (log_of(&["a", "b"]), log_of(&["a", "c"]));
    let mut monitor = HeadMonitor::starting_at(head(&a, 1));
    let err = monitor.observe(head(&b, 2), None).expect_err("fork");
    assert_eq!(
        err,
        LogError::Fork {
            old_size: 2,
            old_root: a.root(),
            new_size: 2,
            new_root: b.root(),
        }
    );
    assert_eq!(monitor.latest(), Some(&head(&a, 1)));
}

#[test]
fn diverging_larger_tree_is_a_fork() {
    let a = log_of(&["a", "b", "c"]);
    let b = log_of(&["a", "b", "x", "y", "z"]);
    let mut monitor = HeadMonitor::new();
    monitor.observe(head(&a, 1), None).expect("first");
    // The forked log's own proof from size 3 does not link a's root to b's.
    let proof = b.consistency_proof(3, 5).expect("proof");
    let err = monitor
        .observe(head(&b, 2), Some(&proof))
        .expect_err("fork");
    assert!(matches!(
        err,
        LogError::Fork {
            old_size: 3,
            new_size: 5,
            ..
        }
    ));
    // Nor does a's proof from a smaller size, for the wrong sizes.
    let wrong = b.consistency_proof(2, 5).expect("proof");
    assert!(matches!(
        monitor.observe(head(&b, 2), Some(&wrong)),
        Err(LogError::ConsistencyProofMismatch {
            expected_old: 3,
            found_old: 2,
            ..
        })
    ));
    // The shared prefix itself is consistent with both.
    let prefix = log_of(&["a", "b"]);
    compare_heads(
        &head(&prefix, 0),
        &head(&a, 1),
        Some(&a.consistency_proof(2, 3).expect("p")),
    )
    .expect("a extends the prefix");
    compare_heads(
        &head(&b, 2),
        &head(&prefix, 0),
        Some(&b.consistency_proof(2, 5).expect("p")),
    )
    .expect("b extends the prefix, heads in either order");
}

#[test]
fn smaller_head_is_a_rollback() {
    let log = log_of(&["a", "b", "c"]);
    let smaller = log_of(&["a", "b"]);
    let mut monitor = HeadMonitor::starting_at(head(&log, 5));
    assert_eq!(
        monitor.observe(head(&smaller, 6), None),
        Err(LogError::Rollback {
            seen_size: 3,
            offered_size: 2
        })
    );
}

#[test]
fn missing_proof_wrong_log_and_time_regression_are_refused() {
    let small = log_of(&["a"]);
    let big = log_of(&["a", "b"]);
    let mut monitor = HeadMonitor::starting_at(head(&small, 5));
    assert_eq!(
        monitor.observe(head(&big, 6), None),
        Err(LogError::ConsistencyProofRequired {
            old_size: 1,
            new_size: 2
        })
    );
    let proof = big.consistency_proof(1, 2).expect("proof");
    assert!(matches!(
        monitor.observe(head_as(&big, PartyId::from_bytes([7; 16]), 6), Some(&proof)),
        Err(LogError::WrongLog { .. })
    ));
    assert_eq!(
        monitor.observe(head(&big, 4), Some(&proof)),
        Err(LogError::TimeRegression {
            seen: Timestamp(5),
            offered: Timestamp(4)
        })
    );
    // A malformed proof is a proof error, not evidence of a fork.
    let mut long = proof.clone();
    long.path.push(Digest::of(b"extra"));
    assert!(matches!(
        monitor.observe(head(&big, 6), Some(&long)),
        Err(LogError::Proof(_))
    ));
    monitor.observe(head(&big, 6), Some(&proof)).expect("valid");
}

#[test]
fn errors_read_well() {
    let err = LogError::Rollback {
        seen_size: 3,
        offered_size: 2,
    };
    assert_eq!(
        err.to_string(),
        "rollback: the log already showed a head of 3 entries, it now shows 2"
    );
    let fork = LogError::Fork {
        old_size: 1,
        old_root: Digest([0; 32]),
        new_size: 2,
        new_root: Digest([1; 32]),
    };
    assert!(
        fork.to_string()
            .starts_with("fork: the head of 1 entries (root 0000")
    );
}

/// Two heads of one tree signed in the same second, by two keys the directory vouches for the
/// log, attest the same size, root and time: the monitor keeps the first; only a larger tree or
/// a later second replaces the latest head.
#[test]
fn of_two_heads_of_one_tree_and_one_second_the_first_is_kept() {
    use crate::testing::{Scenario, key_for};
    let s = Scenario::canteen_builder()
        .extra_key("dgfip", "dgfip-2", Scenario::EPOCH)
        .build()
        .expect("the canteen with a second key for DGFiP");
    let log = log_of(&["a", "b"]);
    let signed_by = |key: &crate::SigningKey| {
        SignedTreeHead::verify_with_directory(&log.sign_head(key, s.dgfip, s.now), &s.directory)
            .expect("vouched for by the directory")
    };
    let first = signed_by(&key_for("dgfip"));
    let second = signed_by(&key_for("dgfip-2"));
    assert_ne!(first.kid(), second.kid());
    let mut monitor = HeadMonitor::starting_at(first.clone());
    monitor
        .observe(second, None)
        .expect("the same tree, root and second");
    assert_eq!(monitor.latest(), Some(&first));
}
