//! Deletion statements in the log: the writer's refusals, the history's retention lines and
//! the overdue query with its replayed check.

use crate::Digest;
use crate::deletion::Deletion;
use crate::log::{
    LogEntry, LoggedObject, OverdueError, OverdueReport, Receipt, RetentionState, TransferLog,
    verify_overdue,
};
use crate::signed::SignedPayload;
use crate::testing::Scenario;
use crate::time::Timestamp;

const DAY: u64 = 86_400;

fn deletion_by(s: &Scenario, receipt: &LoggedObject<Receipt>) -> Deletion {
    Deletion::for_receipt(receipt, s.now, s.now)
}

fn code(
    s: &mut Scenario,
    deletion: &Deletion,
    signer: fn(&Scenario) -> crate::PartyId,
) -> &'static str {
    let signer = signer(s);
    let before = s.log.len();
    let bytes = deletion.sign(s.key(signer));
    let code = s
        .log
        .append_deletion(bytes, &s.directory)
        .expect_err("refused")
        .code();
    assert_eq!(s.log.len(), before, "a refused deletion is not appended");
    code
}

#[test]
fn the_consumers_deletion_is_logged_about_the_subject() {
    let mut s = Scenario::canteen();
    let (receipt, r) = s.transfer_and_log();
    s.advance_days(2);
    let index = s.delete_and_log(&receipt).expect("logged");
    assert_eq!(index, r + 1);
    let entry = LogEntry::from_bytes(s.log.entry(index).expect("entry")).expect("decodes");
    assert_eq!(entry.kind().code(), 4);
    assert_eq!(entry.subject(), Some(s.parent));
    assert_eq!(s.log.indices_about(&s.parent), [r, index]);
    let counted = s.log.deletions().receipts();
    assert_eq!(counted.len(), 1);
    assert_eq!(
        counted[0].2.map(|d| (d.index, d.deleted_at)),
        Some((index, s.now))
    );
}

#[test]
fn a_deletion_by_another_consumer_is_refused() {
    let mut s = Scenario::canteen();
    let (receipt, _) = s.transfer_and_log();
    // Signed by the other consumer as itself: a valid signature, but not the receipt's consumer.
    let deletion = Deletion {
        consumer: s.other_consumer,
        ..deletion_by(&s, &receipt)
    };
    assert_eq!(
        code(&mut s, &deletion, |s| s.other_consumer),
        "deletion/wrong_signer"
    );
}

#[test]
fn a_deletion_naming_the_consumer_signed_by_another_key_is_refused() {
    let mut s = Scenario::canteen();
    let (receipt, _) = s.transfer_and_log();
    let deletion = deletion_by(&s, &receipt);
    let bytes = deletion.sign(s.key(s.other_consumer));
    let refused = s
        .log
        .append_deletion(bytes, &s.directory)
        .expect_err("refused");
    assert_eq!(refused.code(), "deletion/invalid_object");
    assert!(refused.cause().is_some_and(|c| c.starts_with("signature/")));
}

#[test]
fn a_deletion_of_a_receipt_never_logged_is_refused() {
    let mut s = Scenario::canteen();
    let (receipt, _) = s.transfer_and_log();
    // The same scenario elsewhere: its second transfer was never logged here.
    let mut other = Scenario::canteen();
    other.transfer_and_log();
    let (unlogged, _) = other.transfer_and_log();
    assert_ne!(unlogged.digest(), receipt.digest());
    let deletion = Deletion {
        receipt: uuid::Uuid::from_u128(0xdead),
        ..deletion_by(&s, &unlogged)
    };
    assert_eq!(
        code(&mut s, &deletion, |s| s.mairie),
        "deletion/unknown_receipt"
    );
}

#[test]
fn a_deletion_naming_other_bytes_under_a_logged_id_is_refused() {
    let mut s = Scenario::canteen();
    let (receipt, _) = s.transfer_and_log();
    let deletion = Deletion {
        receipt_digest: Digest::of(b"other bytes"),
        ..deletion_by(&s, &receipt)
    };
    assert_eq!(
        code(&mut s, &deletion, |s| s.mairie),
        "deletion/receipt_hash_mismatch"
    );
}

#[test]
fn a_deletion_about_another_subject_or_request_is_refused() {
    let mut s = Scenario::canteen();
    let (receipt, _) = s.transfer_and_log();
    let about_child = Deletion {
        subject: s.child,
        ..deletion_by(&s, &receipt)
    };
    assert_eq!(
        code(&mut s, &about_child, |s| s.mairie),
        "deletion/receipt_mismatch"
    );
    let other_request = Deletion {
        request: crate::RequestId(uuid::Uuid::from_u128(5)),
        ..deletion_by(&s, &receipt)
    };
    assert_eq!(
        code(&mut s, &other_request, |s| s.mairie),
        "deletion/receipt_mismatch"
    );
}

#[test]
fn a_deletion_before_the_receipt_is_refused() {
    let mut s = Scenario::canteen();
    let (receipt, _) = s.transfer_and_log();
    let deletion = Deletion {
        deleted_at: receipt.claims().issued_at().minus_secs(1),
        ..deletion_by(&s, &receipt)
    };
    assert_eq!(
        code(&mut s, &deletion, |s| s.mairie),
        "deletion/before_receipt"
    );
}

#[test]
fn a_second_deletion_of_a_receipt_is_refused() {
    let mut s = Scenario::canteen();
    let (receipt, _) = s.transfer_and_log();
    let first = s.delete_and_log(&receipt).expect("first");
    s.advance_days(1);
    let later = deletion_by(&s, &receipt);
    let refused = s
        .log
        .append_deletion(later.sign(s.key(s.mairie)), &s.directory)
        .expect_err("second");
    assert_eq!(
        refused,
        crate::DeletionError::AlreadyDeleted { index: first }
    );
    assert_eq!(refused.code(), "deletion/already_deleted");
}

#[test]
fn a_deletion_stated_before_it_happened_is_malformed() {
    let mut s = Scenario::canteen();
    let (receipt, _) = s.transfer_and_log();
    let deletion = Deletion {
        deleted_at: s.now.plus_secs(1),
        ..deletion_by(&s, &receipt)
    };
    let refused = s
        .log
        .append_deletion(deletion.sign(s.key(s.mairie)), &s.directory)
        .expect_err("refused");
    assert_eq!(refused.code(), "deletion/invalid_object");
    assert_eq!(refused.cause(), Some("value/invalid"));
}

#[test]
fn a_receipt_in_a_deletion_entry_is_malformed() {
    let mut s = Scenario::canteen();
    let (receipt, _) = s.transfer_and_log();
    let mut e = crate::cbor::Encoder::new();
    e.array(2).uint(4).bytes(receipt.bytes());
    let refused = LogEntry::from_bytes(&e.into_bytes()).expect_err("refused");
    assert_eq!(refused.code(), "log/malformed_object");
    assert_eq!(refused.cause(), Some("envelope/wrong_kind"));
}

#[test]
fn a_deletion_entry_round_trips() {
    let mut s = Scenario::canteen();
    let (receipt, _) = s.transfer_and_log();
    let index = s.delete_and_log(&receipt).expect("logged");
    let bytes = s.log.entry(index).expect("entry").to_vec();
    let entry = LogEntry::from_bytes(&bytes).expect("decodes");
    assert_eq!(entry.to_bytes(), bytes);
    assert_eq!(entry.time(), s.now);
    // Rebuilt from its entries, the log counts the same deletion.
    let rebuilt = TransferLog::from_entries(s.log.entries().iter().cloned()).expect("rebuilt");
    assert_eq!(
        rebuilt.deletions().receipts()[0].2,
        s.log.deletions().receipts()[0].2
    );
}

#[test]
fn the_history_shows_received_kept_until_and_deleted_on() {
    let mut s = Scenario::canteen();
    let (kept, _) = s.transfer_and_log();
    let (deleted, _) = s.transfer_and_log();
    s.advance_days(10);
    s.delete_and_log(&deleted).expect("logged");
    let head = s.sign_head();
    let report = s.proven_history(s.parent, &head).expect("history");
    let lines = report.retention(&s.directory);
    assert_eq!(lines.len(), 2);
    let line_of = |r: &LoggedObject<Receipt>| {
        lines
            .iter()
            .find(|l| l.receipt == *r.claims())
            .expect("a line")
    };
    let (k, d) = (line_of(&kept), line_of(&deleted));
    assert_eq!(k.received_on(), kept.claims().issued_at());
    assert_eq!(k.kept_until(), kept.claims().retain_until());
    assert_eq!(k.state(s.now), RetentionState::NotYet);
    assert_eq!(
        d.state(s.now),
        RetentionState::Deleted {
            at: s.now,
            late: false
        }
    );
    let after = kept.claims().retain_until().plus_secs(1);
    assert_eq!(k.state(after), RetentionState::Overdue);
    // At the deadline itself the data may still be kept.
    assert_eq!(
        k.state(kept.claims().retain_until()),
        RetentionState::NotYet
    );
    let (y, m, day) = s.now.date();
    assert!(
        d.describe(s.now)
            .ends_with(&format!("deleted on {y:04}-{m:02}-{day:02}")),
        "{}",
        d.describe(s.now)
    );
    assert!(k.describe(after).ends_with("not deleted: overdue"));
    assert!(k.describe(s.now).starts_with("received on "));
}

#[test]
fn a_deletion_the_writer_did_not_check_is_not_shown_nor_counted() {
    let mut s = Scenario::canteen();
    let (receipt, _) = s.transfer_and_log();
    // A log keeper appends, unchecked, a deletion signed by another consumer as itself.
    let forged = Deletion {
        consumer: s.other_consumer,
        ..deletion_by(&s, &receipt)
    }
    .sign(s.key(s.other_consumer));
    s.log
        .append(&LogEntry::deletion(forged).expect("well formed"));
    let at = receipt.claims().retain_until().plus_secs(1);
    s.now = at;
    let report = s.proven_history(s.parent, &s.sign_head()).expect("history");
    assert_eq!(report.verified.len(), 2, "the entry is in the history");
    let lines = report.retention(&s.directory);
    assert_eq!(lines[0].deleted, None);
    assert_eq!(lines[0].state(at), RetentionState::Overdue);
    let overdue = s.overdue_audit(at).expect("audit");
    assert_eq!(overdue.len(), 1);
    // The consumer's own deletion is still accepted.
    s.delete_and_log(&receipt).expect("the real deletion");
}

/// Three transfers a day apart: the first deleted in time, the second deleted after the
/// query's time, the third never; queried after every retention, and before any.
#[test]
fn the_overdue_query_lists_exactly_the_receipts_past_retention_without_deletion() {
    let mut s = Scenario::canteen();
    let mut receipts = Vec::new();
    for _ in 0..3 {
        receipts.push(s.transfer_and_log());
        s.advance_days(1);
    }
    s.delete_and_log(&receipts[0].0).expect("deleted");
    let last_deadline = receipts
        .iter()
        .map(|(r, _)| r.claims().retain_until())
        .max()
        .expect("three");
    s.now = last_deadline.plus_secs(DAY);
    s.delete_and_log(&receipts[1].0).expect("deleted late");
    let at = last_deadline.plus_secs(1);
    // The rule, restated: retention passed before `at`, and no deletion stated at or before it.
    let expected: Vec<u64> = vec![receipts[1].1, receipts[2].1];
    let found: Vec<u64> = s
        .overdue_audit(at)
        .expect("audit")
        .iter()
        .map(|o| o.index)
        .collect();
    assert_eq!(found, expected);
    let later: Vec<u64> = s
        .overdue_audit(s.now)
        .expect("audit")
        .iter()
        .map(|o| o.index)
        .collect();
    assert_eq!(later, [receipts[2].1]);
    let first_deadline = receipts[0].0.claims().retain_until();
    assert_eq!(s.overdue_audit(first_deadline).expect("audit"), []);
}

struct Audit {
    s: Scenario,
    report: OverdueReport,
    entries: Vec<Vec<u8>>,
    deletion_index: u64,
}

/// Two transfers past retention, one of them deleted; the report computed at the clock.
fn audit() -> Audit {
    let mut s = Scenario::canteen();
    let (deleted, _) = s.transfer_and_log();
    let (kept, kept_index) = s.transfer_and_log();
    let deletion_index = s.delete_and_log(&deleted).expect("deleted");
    s.now = kept.claims().retain_until().plus_secs(DAY);
    let head = s.sign_head();
    let op = s.log_operator;
    let key = s.key(op).verifying_key();
    let entries = s.log.entries().to_vec();
    let report =
        OverdueReport::compute(&entries, &head, op, &key, s.now, &s.directory).expect("report");
    assert_eq!(report.items.len(), 1);
    assert_eq!(report.items[0].proof.leaf_index, kept_index);
    Audit {
        s,
        report,
        entries,
        deletion_index,
    }
}

fn check(a: &Audit, report: &OverdueReport, entries: &[Vec<u8>]) -> Result<usize, OverdueError> {
    let op = a.s.log_operator;
    verify_overdue(
        report,
        entries,
        op,
        &a.s.key(op).verifying_key(),
        &a.s.directory,
    )
    .map(|v| v.len())
}

#[test]
fn an_honest_overdue_report_checks() {
    let a = audit();
    assert_eq!(check(&a, &a.report, &a.entries), Ok(1));
}

#[test]
fn an_overdue_report_without_one_of_the_entries_is_refused() {
    let a = audit();
    for dropped in 0..a.entries.len() {
        let mut entries = a.entries.clone();
        entries.remove(dropped);
        let refused = check(&a, &a.report, &entries).expect_err("refused");
        assert_eq!(refused.code(), "overdue/entry_count");
    }
}

#[test]
fn a_hidden_deletion_is_caught() {
    let a = audit();
    // Swapping the deletion for another entry keeps the count but not the root.
    let mut entries = a.entries.clone();
    let i = usize::try_from(a.deletion_index).expect("small");
    entries[i] = entries[0].clone();
    assert_eq!(
        check(&a, &a.report, &entries).map_err(|e| e.code()),
        Err("overdue/root_mismatch")
    );
    // Listing the deleted receipt as overdue is refused by the replay.
    let mut report = a.report.clone();
    let op = a.s.log_operator;
    let mut tree = crate::log::MerkleTree::new();
    for e in &a.entries {
        tree.append(e);
    }
    report.items.insert(
        0,
        crate::log::OverdueItem {
            entry: a.entries[0].clone(),
            proof: tree.inclusion_proof(0, tree.len()).expect("proof"),
        },
    );
    let refused = check(&a, &report, &a.entries).expect_err("refused");
    assert_eq!(refused.code(), "overdue/result_mismatch");
    let _ = op;
}

#[test]
fn an_overdue_receipt_left_out_or_invented_is_caught() {
    let a = audit();
    let mut left_out = a.report.clone();
    left_out.items.clear();
    assert_eq!(
        check(&a, &left_out, &a.entries).map_err(|e| e.code()),
        Err("overdue/result_mismatch")
    );
    let mut wrong_time = a.report.clone();
    wrong_time.at = Timestamp(0);
    assert_eq!(
        check(&a, &wrong_time, &a.entries).map_err(|e| e.code()),
        Err("overdue/result_mismatch")
    );
    let mut bad_proof = a.report.clone();
    bad_proof.items[0].proof.path[0] = Digest::of(b"x");
    let refused = check(&a, &bad_proof, &a.entries).expect_err("refused");
    assert_eq!(refused.code(), "overdue/item");
    assert_eq!(refused.cause(), Some("log/root_mismatch"));
}

#[test]
fn an_overdue_query_after_the_head_is_refused() {
    let a = audit();
    let mut late = a.report.clone();
    late.at = a.s.now.plus_secs(1);
    assert_eq!(
        check(&a, &late, &a.entries).map_err(|e| e.code()),
        Err("overdue/after_head")
    );
    let mut forged_head = a.report.clone();
    forged_head.head[20] ^= 1;
    assert_eq!(
        check(&a, &forged_head, &a.entries).map_err(|e| e.code()),
        Err("overdue/head")
    );
}
