//! Evidence drawn from the transfer log: consumers' deletion statements, where each transfer's
//! data stands in a subject's history, the auditor's overdue query, and public usage
//! statistics.

use super::handles::{ConsentryDirectory, ConsentryLedger, ConsentrySigningKey};
use super::log::{
    ConsentryLog, history_from_json, history_report_json, history_status, log_failure, one_hash,
};
use super::{
    ConsentryBuf, ConsentryStatus, Failure, FfiResult, Out, bytes, c_party, from_hex, from_json,
    guard, handle, out_buf, public_key, text, to_hex, to_json,
};
use consentry::deletion::{Deletion, DeletionError};
use consentry::directory::PartyId;
use consentry::log::{
    InclusionProof, LogEntry, LogStore, OverdueError, OverdueItem, OverdueReport, Retention,
    RetentionState, SignedTreeHead, log_deletion, verify_history, verify_overdue,
};
use consentry::signed::{ObjectError, SignedPayload};
use consentry::stats::{Period, StatsError, UsageReport};
use consentry::{Timestamp, VerifyingKey};
use std::ffi::c_char;

/// A deletion refused: `INVALID_INPUT` for a malformed statement, `VERIFY_FAILED` for one not
/// validly signed, `STORAGE` when the store failed, `REFUSED` for a rule of the log; the
/// message starts with the `deletion/…` code.
#[allow(
    clippy::needless_pass_by_value,
    reason = "a `map_err` adapter: it takes the error as `map_err` hands it over"
)]
fn deletion_failure(e: DeletionError) -> Failure {
    let status = match &e {
        DeletionError::Object(ObjectError::Parse(_)) => ConsentryStatus::InvalidInput,
        DeletionError::Object(_) => ConsentryStatus::VerifyFailed,
        DeletionError::Storage(_) => ConsentryStatus::Storage,
        _ => ConsentryStatus::Refused,
    };
    Failure::new(status, coded(e.code(), e.cause(), &e))
}

/// An overdue query refused: the message starts with the `overdue/…` code (and the `log/…`
/// code it wraps).
#[allow(
    clippy::needless_pass_by_value,
    reason = "a `map_err` adapter: it takes the error as `map_err` hands it over"
)]
fn overdue_failure(e: OverdueError) -> Failure {
    let status = match &e {
        OverdueError::Head(inner) => log_failure(inner.clone()).status,
        OverdueError::AfterHead { .. } | OverdueError::Entry { .. } => {
            ConsentryStatus::InvalidInput
        }
        _ => ConsentryStatus::VerifyFailed,
    };
    Failure::new(status, coded(e.code(), e.cause(), &e))
}

/// A refusal's message: its code, the code of the refusal it wraps if any, then its text.
fn coded(code: &str, cause: Option<&str>, e: &dyn std::fmt::Display) -> String {
    match cause {
        Some(cause) => format!("{code}: {cause}: {e}"),
        None => format!("{code}: {e}"),
    }
}

/// A statistics refusal: the message starts with the `stats/…` code.
#[allow(
    clippy::needless_pass_by_value,
    reason = "a `map_err` adapter: it takes the error as `map_err` hands it over"
)]
fn stats_failure(e: StatsError) -> Failure {
    let status = match &e {
        StatsError::PeriodAfterHead { .. } | StatsError::Entry { .. } => {
            ConsentryStatus::InvalidInput
        }
        _ => ConsentryStatus::VerifyFailed,
    };
    Failure::new(status, format!("{}: {e}", e.code()))
}

/// The operator's head, log id and key, as the overdue and statistics calls take them.
///
/// # Safety
/// As [`super::bytes`], [`super::c_text`] and [`super::bytes`] for the three.
unsafe fn head_args<'a>(
    head: *const u8,
    head_len: usize,
    log_id: *const c_char,
    operator_key: *const u8,
    operator_key_len: usize,
) -> FfiResult<(&'a [u8], PartyId, VerifyingKey)> {
    // SAFETY: the caller's guarantees.
    let head = unsafe { bytes(head, head_len, "head") }?;
    // SAFETY: as above.
    let log_id = unsafe { c_party(log_id, "log_id") }?;
    // SAFETY: as above.
    let key = unsafe { public_key(operator_key, operator_key_len, "operator_key") }?;
    Ok((head, log_id, key))
}

/// Reads a JSON array of entries in hexadecimal.
fn entries_from_json(json: &str) -> FfiResult<Vec<Vec<u8>>> {
    let list: Vec<String> = from_json(json, "entries")?;
    list.iter()
        .enumerate()
        .map(|(n, e)| from_hex(e, &format!("entry {n}")))
        .collect()
}

/// # Safety
/// As [`super::text`].
unsafe fn entries_arg(ptr: *const u8, len: usize) -> FfiResult<Vec<Vec<u8>>> {
    // SAFETY: the caller's guarantee.
    entries_from_json(unsafe { text(ptr, len, "entries") }?)
}

fn entries_to_json(entries: &[Vec<u8>]) -> FfiResult<Vec<u8>> {
    to_json(&entries.iter().map(|e| to_hex(e)).collect::<Vec<_>>())
}

/// The entries of a ledger's log up to `size`.
fn ledger_entries(ledger: &ConsentryLedger, size: u64) -> FfiResult<Vec<Vec<u8>>> {
    let log = ledger.log();
    log.log_root_at(size).map_err(log_failure)?;
    (0..size)
        .map(|i| log.log_entry(i).map_err(log_failure))
        .collect()
}

// ---- deletion statements ----

/// Issues the deletion statement of the data a transfer gave: reads the signed `receipt` (its
/// exact bytes, read strictly; the signature is not checked) and signs with `key` (the
/// consumer's, named in the receipt) a statement naming it by id and SHA-256 with its request,
/// subject and consumer, that the data was deleted at `deleted_at`, stated at `issued_at`. Log
/// it with [`consentry_ledger_log_deletion`] or [`consentry_log_append_deletion`].
///
/// Returns `INVALID_INPUT` if the receipt is not well formed (`log/malformed_object`) or
/// `deleted_at` is after `issued_at`.
///
/// # Safety
/// `receipt` is `NULL` (with length 0) or valid for reads of its length; `key` is `NULL` or a
/// live signing-key handle; `out` is `NULL` or valid for writing a [`ConsentryBuf`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn consentry_deletion_issue(
    receipt: *const u8,
    receipt_len: usize,
    key: *const ConsentrySigningKey,
    deleted_at: u64,
    issued_at: u64,
    out: *mut ConsentryBuf,
) -> ConsentryStatus {
    guard(|| {
        // SAFETY: the caller's guarantees on every argument.
        let out = unsafe { out_buf(out, "out") }?;
        // SAFETY: as above.
        let receipt = unsafe { bytes(receipt, receipt_len, "receipt") }?;
        // SAFETY: as above.
        let key = unsafe { handle(key, "key") }?;
        if deleted_at > issued_at {
            return Err(Failure::invalid(
                "a deletion is stated after it happened: deleted_at is after issued_at",
            ));
        }
        let LogEntry::Receipt(logged) = LogEntry::receipt(receipt.to_vec()).map_err(log_failure)?
        else {
            return Err(Failure::invalid("receipt: not a receipt"));
        };
        let deletion = Deletion::for_receipt(
            &logged,
            Timestamp::from_secs(deleted_at),
            Timestamp::from_secs(issued_at),
        );
        out.set(ConsentryBuf::from_vec(deletion.sign(&key.0)));
        Ok(ConsentryStatus::Ok)
    })
}

/// Logs a consumer's deletion statement in the ledger's transfer log, as a service receiving
/// one does: its signature and key rule are checked against `directory`, then, in one
/// transaction, that the receipt it names is logged, with the same bytes, consumer, request and
/// subject, that the data was not deleted before the receipt, and that no deletion of it is
/// logged yet. Returns `OK`; `INVALID_INPUT` for a malformed statement
/// (`deletion/invalid_object`), `VERIFY_FAILED` for one not validly signed, `REFUSED` for a
/// rule of the log (`deletion/unknown_receipt`, `deletion/receipt_hash_mismatch`,
/// `deletion/wrong_signer`, `deletion/receipt_mismatch`, `deletion/before_receipt`,
/// `deletion/already_deleted`), `STORAGE` if the store failed; nothing is logged then.
///
/// # Safety
/// `ledger` and `directory` are `NULL` or live handles; `deletion` is `NULL` (with length 0) or
/// valid for reads of its length.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn consentry_ledger_log_deletion(
    ledger: *const ConsentryLedger,
    directory: *const ConsentryDirectory,
    deletion: *const u8,
    deletion_len: usize,
) -> ConsentryStatus {
    guard(|| {
        // SAFETY: the caller's guarantees on every argument.
        let ledger = unsafe { handle(ledger, "ledger") }?;
        // SAFETY: as above.
        let directory = unsafe { handle(directory, "directory") }?;
        // SAFETY: as above.
        let deletion = unsafe { bytes(deletion, deletion_len, "deletion") }?;
        log_deletion(ledger.ledger(), deletion, &directory.0).map_err(deletion_failure)?;
        Ok(ConsentryStatus::Ok)
    })
}

/// Appends a consumer's deletion statement to a log kept apart, with the checks of
/// [`consentry_ledger_log_deletion`] against the entries appended with
/// [`consentry_log_append_entry`](super::consentry_log_append_entry), and writes its index into `*out_index` (which may be
/// `NULL`). The same statuses.
///
/// # Safety
/// `log` and `directory` are `NULL` or live handles; `deletion` is `NULL` (with length 0) or
/// valid for reads of its length; `out_index` is `NULL` or valid for writing a `uint64_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn consentry_log_append_deletion(
    log: *const ConsentryLog,
    directory: *const ConsentryDirectory,
    deletion: *const u8,
    deletion_len: usize,
    out_index: *mut u64,
) -> ConsentryStatus {
    guard(|| {
        let out: Option<Out<u64>> = if out_index.is_null() {
            None
        } else {
            // SAFETY: non-null, and valid for writes by the caller's guarantee.
            Some(unsafe { Out::new(out_index, "out_index", 0) }?)
        };
        // SAFETY: the caller's guarantees on the rest.
        let log = unsafe { handle(log, "log") }?;
        // SAFETY: as above.
        let directory = unsafe { handle(directory, "directory") }?;
        // SAFETY: as above.
        let deletion = unsafe { bytes(deletion, deletion_len, "deletion") }?;
        let index = log
            .tree()
            .append_deletion(deletion, &directory.0)
            .map_err(deletion_failure)?;
        if let Some(o) = out {
            o.set(index);
        }
        Ok(ConsentryStatus::Ok)
    })
}

// ---- retention in a history ----

fn retention_json(r: &Retention, now: Timestamp) -> serde_json::Value {
    let state = match r.state(now) {
        RetentionState::Deleted { late: false, .. } => "deleted",
        RetentionState::Deleted { late: true, .. } => "deleted_late",
        RetentionState::Overdue => "overdue",
        _ => "not_yet",
    };
    serde_json::json!({
        "receipt_index": r.receipt_index,
        "receipt": r.receipt,
        "received_on": r.received_on().secs(),
        "kept_until": r.kept_until().secs(),
        "deleted": r.deleted.map(|d| serde_json::json!({
            "index": d.index,
            "deleted_at": d.deleted_at.secs(),
        })),
        "state": state,
        "line": r.describe(now),
    })
}

/// Checks a subject's access history as [`consentry_verify_history`](super::consentry_verify_history)
/// does, and adds to the report where the data of each transfer stands at `now`: `"retention":
/// [{"receipt_index", "receipt", "received_on", "kept_until", "deleted": null | {"index",
/// "deleted_at"}, "state" ("deleted", "deleted_late", "not_yet", "overdue"), "line"}]`, one per
/// receipt of the verified entries whose provider's signature verifies against `directory`,
/// with the deletion of the history that counts for it (signed by the receipt's consumer as
/// `directory` shows, and passing every check of the log against the entries before it).
/// `line` is what a person reads: `received on …, kept until …, deleted on …`. The same
/// statuses as `consentry_verify_history`.
///
/// # Safety
/// As [`consentry_verify_history`](super::consentry_verify_history); `directory` is `NULL` or a
/// live directory handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn consentry_verify_history_retention(
    history: *const u8,
    history_len: usize,
    head: *const u8,
    head_len: usize,
    log_id: *const c_char,
    operator_key: *const u8,
    operator_key_len: usize,
    directory: *const ConsentryDirectory,
    now: u64,
    out: *mut ConsentryBuf,
) -> ConsentryStatus {
    guard(|| {
        // SAFETY: the caller's guarantee on `out`.
        let out = unsafe { out_buf(out, "out") }?;
        // SAFETY: the caller's guarantee on `history`.
        let history = history_from_json(unsafe { text(history, history_len, "history") }?)?;
        // SAFETY: the caller's guarantees on the rest.
        let (head, log_id, key) =
            unsafe { head_args(head, head_len, log_id, operator_key, operator_key_len) }?;
        // SAFETY: as above.
        let directory = unsafe { handle(directory, "directory") }?;
        let report = verify_history(&history, head, log_id, &key).map_err(log_failure)?;
        let now = Timestamp::from_secs(now);
        let mut doc = history_report_json(&report);
        let lines: Vec<serde_json::Value> = report
            .retention(&directory.0)
            .iter()
            .map(|r| retention_json(r, now))
            .collect();
        if let Some(map) = doc.as_object_mut() {
            map.insert("retention".into(), lines.into());
        }
        out.set(ConsentryBuf::from_vec(to_json(&doc)?));
        Ok(history_status(&report))
    })
}

// ---- the entries of a log ----

/// Writes the first `tree_size` entries of the ledger's transfer log into `*out`, as a JSON
/// array of their exact bytes in hexadecimal: what an auditor replays for the overdue query and
/// the usage statistics. `INVALID_INPUT` if `tree_size` is beyond the log.
///
/// # Safety
/// `ledger` is `NULL` or a live ledger handle; `out` is `NULL` or valid for writing a
/// [`ConsentryBuf`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn consentry_ledger_log_entries(
    ledger: *const ConsentryLedger,
    tree_size: u64,
    out: *mut ConsentryBuf,
) -> ConsentryStatus {
    guard(|| {
        // SAFETY: the caller's guarantees on `out` and `ledger`.
        let out = unsafe { out_buf(out, "out") }?;
        // SAFETY: as above.
        let ledger = unsafe { handle(ledger, "ledger") }?;
        let entries = ledger_entries(ledger, tree_size)?;
        out.set(ConsentryBuf::from_vec(entries_to_json(&entries)?));
        Ok(ConsentryStatus::Ok)
    })
}

/// As [`consentry_ledger_log_entries`], for a log kept apart.
///
/// # Safety
/// `log` is `NULL` or a live log handle; `out` is `NULL` or valid for writing a
/// [`ConsentryBuf`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn consentry_log_entries(
    log: *const ConsentryLog,
    tree_size: u64,
    out: *mut ConsentryBuf,
) -> ConsentryStatus {
    guard(|| {
        // SAFETY: the caller's guarantees on `out` and `log`.
        let out = unsafe { out_buf(out, "out") }?;
        // SAFETY: as above.
        let log = unsafe { handle(log, "log") }?;
        let entries = log.tree().entries_up_to(tree_size)?;
        out.set(ConsentryBuf::from_vec(entries_to_json(&entries)?));
        Ok(ConsentryStatus::Ok)
    })
}

// ---- the overdue query ----

#[derive(serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct OverdueJson {
    head: String,
    at: u64,
    items: Vec<OverdueItemJson>,
}

#[derive(serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct OverdueItemJson {
    index: u64,
    entry: String,
    path: Vec<String>,
}

fn overdue_to_json(report: &OverdueReport) -> FfiResult<Vec<u8>> {
    to_json(&OverdueJson {
        head: to_hex(&report.head),
        at: report.at.secs(),
        items: report
            .items
            .iter()
            .map(|i| OverdueItemJson {
                index: i.proof.leaf_index,
                entry: to_hex(&i.entry),
                path: i.proof.path.iter().map(consentry::Digest::to_hex).collect(),
            })
            .collect(),
    })
}

fn overdue_from_json(json: &str) -> FfiResult<OverdueReport> {
    let r: OverdueJson = from_json(json, "report")?;
    let head = from_hex(&r.head, "report head")?;
    // The proofs are for the head's size; the head itself is verified by the check. A head
    // that does not read gives size 0, and the check refuses it.
    let tree_size = consentry::signed::Unverified::<consentry::log::TreeHead>::parse(&head)
        .map_or(0, |h| h.claims().tree_size);
    let mut items = Vec::with_capacity(r.items.len().min(1024));
    for (n, item) in r.items.into_iter().enumerate() {
        let what = format!("report item {n}");
        if item.path.len() > consentry::log::MAX_INCLUSION_PROOF_LEN {
            return Err(Failure::invalid(format!(
                "{what}: a path of {} hashes is longer than any proof",
                item.path.len()
            )));
        }
        let path = item
            .path
            .iter()
            .map(|p| from_hex(p, &what).and_then(|raw| one_hash(&raw, &what)))
            .collect::<FfiResult<Vec<_>>>()?;
        items.push(OverdueItem {
            entry: from_hex(&item.entry, &what)?,
            proof: InclusionProof {
                leaf_index: item.index,
                tree_size,
                path,
            },
        });
    }
    Ok(OverdueReport {
        head,
        at: Timestamp::from_secs(r.at),
        items,
    })
}

/// Computes the auditor's overdue query over `entries` (a JSON array of every entry of the log
/// up to the signed `head`, in hexadecimal, as [`consentry_ledger_log_entries`] or
/// [`consentry_log_entries`] write them): the receipts whose provider's signature verifies
/// against `directory`, whose retention ended before `at`, and for which no deletion that
/// counts states a time at or before `at`. The head is verified with the operator's key first,
/// and the entries must be exactly the head's (their number and root).
///
/// Writes the report into `*out`: `{"head" (the signed head, hexadecimal), "at", "items":
/// [{"index", "entry", "path"}]}`, each overdue receipt entry with its inclusion proof, for
/// [`consentry_verify_overdue`]. Returns `VERIFY_FAILED` for a head that does not verify
/// (`overdue/head`) or entries that are not the head's (`overdue/entry_count`,
/// `overdue/root_mismatch`), `INVALID_INPUT` for `at` after the head (`overdue/after_head`) or
/// an entry that does not decode (`overdue/entry`).
///
/// # Safety
/// `entries`, `head` and `operator_key` are `NULL` (with length 0) or valid for reads of their
/// lengths; `log_id` is `NULL` or a NUL-terminated string; `directory` is `NULL` or a live
/// handle; `out` is `NULL` or valid for writing a [`ConsentryBuf`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn consentry_overdue_report(
    entries: *const u8,
    entries_len: usize,
    head: *const u8,
    head_len: usize,
    log_id: *const c_char,
    operator_key: *const u8,
    operator_key_len: usize,
    directory: *const ConsentryDirectory,
    at: u64,
    out: *mut ConsentryBuf,
) -> ConsentryStatus {
    guard(|| {
        // SAFETY: the caller's guarantee on `out`.
        let out = unsafe { out_buf(out, "out") }?;
        // SAFETY: the caller's guarantees on the rest.
        let entries = unsafe { entries_arg(entries, entries_len) }?;
        // SAFETY: as above.
        let (head, log_id, key) =
            unsafe { head_args(head, head_len, log_id, operator_key, operator_key_len) }?;
        // SAFETY: as above.
        let directory = unsafe { handle(directory, "directory") }?;
        let report = OverdueReport::compute(
            &entries,
            head,
            log_id,
            &key,
            Timestamp::from_secs(at),
            &directory.0,
        )
        .map_err(overdue_failure)?;
        out.set(ConsentryBuf::from_vec(overdue_to_json(&report)?));
        Ok(ConsentryStatus::Ok)
    })
}

/// As [`consentry_overdue_report`], over the ledger's own transfer log up to the head's size.
///
/// # Safety
/// `ledger` is `NULL` or a live ledger handle; the rest as [`consentry_overdue_report`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn consentry_ledger_overdue_report(
    ledger: *const ConsentryLedger,
    head: *const u8,
    head_len: usize,
    log_id: *const c_char,
    operator_key: *const u8,
    operator_key_len: usize,
    directory: *const ConsentryDirectory,
    at: u64,
    out: *mut ConsentryBuf,
) -> ConsentryStatus {
    guard(|| {
        // SAFETY: the caller's guarantee on `out`.
        let out = unsafe { out_buf(out, "out") }?;
        // SAFETY: the caller's guarantees on the rest.
        let ledger = unsafe { handle(ledger, "ledger") }?;
        // SAFETY: as above.
        let (head, log_id, key) =
            unsafe { head_args(head, head_len, log_id, operator_key, operator_key_len) }?;
        // SAFETY: as above.
        let directory = unsafe { handle(directory, "directory") }?;
        let log: &dyn LogStore = ledger.log();
        let report = OverdueReport::from_store(
            log,
            head,
            log_id,
            &key,
            Timestamp::from_secs(at),
            &directory.0,
        )
        .map_err(overdue_failure)?;
        out.set(ConsentryBuf::from_vec(overdue_to_json(&report)?));
        Ok(ConsentryStatus::Ok)
    })
}

/// Checks an overdue report (the JSON of [`consentry_overdue_report`]) with every entry up to
/// its head (`entries`, as for [`consentry_overdue_report`]), the operator's key and
/// `directory`: the head verifies, the entries are exactly the head's, the replay finds exactly
/// the receipts listed, and each is included under the head. Writes the receipts confirmed
/// overdue into `*out`: `[{"index", "receipt"}]` (the receipt's claims). Returns `OK`, or
/// `VERIFY_FAILED` with the last error starting with the refusal's code
/// (`overdue/result_mismatch` when the report hides or invents a receipt,
/// `overdue/root_mismatch` or `overdue/entry_count` when an entry was dropped, added or
/// changed, `overdue/item`, `overdue/head`); `INVALID_INPUT` for a malformed report.
///
/// # Safety
/// `report`, `entries` and `operator_key` are `NULL` (with length 0) or valid for reads of
/// their lengths; `log_id` is `NULL` or a NUL-terminated string; `directory` is `NULL` or a live
/// handle; `out` is `NULL` or valid for writing a [`ConsentryBuf`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn consentry_verify_overdue(
    report: *const u8,
    report_len: usize,
    entries: *const u8,
    entries_len: usize,
    log_id: *const c_char,
    operator_key: *const u8,
    operator_key_len: usize,
    directory: *const ConsentryDirectory,
    out: *mut ConsentryBuf,
) -> ConsentryStatus {
    guard(|| {
        // SAFETY: the caller's guarantee on `out`.
        let out = unsafe { out_buf(out, "out") }?;
        // SAFETY: the caller's guarantees on the rest.
        let report = overdue_from_json(unsafe { text(report, report_len, "report") }?)?;
        // SAFETY: as above.
        let entries = unsafe { entries_arg(entries, entries_len) }?;
        // SAFETY: as above.
        let log_id = unsafe { c_party(log_id, "log_id") }?;
        // SAFETY: as above.
        let key = unsafe { public_key(operator_key, operator_key_len, "operator_key") }?;
        // SAFETY: as above.
        let directory = unsafe { handle(directory, "directory") }?;
        let confirmed = verify_overdue(&report, &entries, log_id, &key, &directory.0)
            .map_err(overdue_failure)?;
        let doc: Vec<serde_json::Value> = confirmed
            .iter()
            .map(|c| serde_json::json!({ "index": c.index, "receipt": c.receipt.claims() }))
            .collect();
        out.set(ConsentryBuf::from_vec(to_json(&doc)?));
        Ok(ConsentryStatus::Ok)
    })
}

// ---- usage statistics ----

/// # Safety
/// As [`head_args`].
unsafe fn verified_head(
    head: *const u8,
    head_len: usize,
    log_id: *const c_char,
    operator_key: *const u8,
    operator_key_len: usize,
) -> FfiResult<SignedTreeHead> {
    // SAFETY: the caller's guarantees.
    let (head, log_id, key) =
        unsafe { head_args(head, head_len, log_id, operator_key, operator_key_len) }?;
    SignedTreeHead::verify(head, log_id, &key).map_err(log_failure)
}

fn usage_report(
    entries: &[Vec<u8>],
    head: &SignedTreeHead,
    from: u64,
    until: u64,
    threshold: u64,
) -> FfiResult<Vec<u8>> {
    let period = Period::new(Timestamp::from_secs(from), Timestamp::from_secs(until))
        .map_err(|e| Failure::new(ConsentryStatus::InvalidInput, format!("{}: {e}", e.code())))?;
    let report = UsageReport::compute(entries, head, period, threshold).map_err(stats_failure)?;
    to_json(&report)
}

/// Computes the public usage statistics of the period `[from, until)` over `entries` (a JSON
/// array of every entry of the log up to the signed `head`, in hexadecimal), suppressing counts
/// below `threshold` (10 is the usual starting point): per provider, consumer, purpose and
/// legal basis the transfers, per reason the denials, each a separate breakdown. The head is
/// verified with the operator's key first; the entries must be exactly the head's.
///
/// Writes the report into `*out`: `{"period": {"from", "until"}, "threshold", "head":
/// {"log_id", "tree_size", "root_hash", "timestamp"}, "breakdowns": [{"dimension", "total",
/// "rows": [{"key", "count"}]}]}` (a suppressed count is `null`); publish it, or its CSV form
/// ([`consentry_usage_report_csv`]). Returns `VERIFY_FAILED` for a head that does not verify
/// (`log/…`) or entries that are not the head's (`stats/size_mismatch`,
/// `stats/root_mismatch`); `INVALID_INPUT` for an empty period (`terms/empty_range`), one
/// ending after the head (`stats/period_after_head`) or an entry that does not decode
/// (`stats/malformed_entry`).
///
/// # Safety
/// `entries`, `head` and `operator_key` are `NULL` (with length 0) or valid for reads of their
/// lengths; `log_id` is `NULL` or a NUL-terminated string; `out` is `NULL` or valid for writing
/// a [`ConsentryBuf`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn consentry_usage_report(
    entries: *const u8,
    entries_len: usize,
    head: *const u8,
    head_len: usize,
    log_id: *const c_char,
    operator_key: *const u8,
    operator_key_len: usize,
    from: u64,
    until: u64,
    threshold: u64,
    out: *mut ConsentryBuf,
) -> ConsentryStatus {
    guard(|| {
        // SAFETY: the caller's guarantee on `out`.
        let out = unsafe { out_buf(out, "out") }?;
        // SAFETY: the caller's guarantees on the rest.
        let entries = unsafe { entries_arg(entries, entries_len) }?;
        // SAFETY: as above.
        let head =
            unsafe { verified_head(head, head_len, log_id, operator_key, operator_key_len) }?;
        out.set(ConsentryBuf::from_vec(usage_report(
            &entries, &head, from, until, threshold,
        )?));
        Ok(ConsentryStatus::Ok)
    })
}

/// As [`consentry_usage_report`], over the ledger's own transfer log up to the head's size.
///
/// # Safety
/// `ledger` is `NULL` or a live ledger handle; the rest as [`consentry_usage_report`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn consentry_ledger_usage_report(
    ledger: *const ConsentryLedger,
    head: *const u8,
    head_len: usize,
    log_id: *const c_char,
    operator_key: *const u8,
    operator_key_len: usize,
    from: u64,
    until: u64,
    threshold: u64,
    out: *mut ConsentryBuf,
) -> ConsentryStatus {
    guard(|| {
        // SAFETY: the caller's guarantee on `out`.
        let out = unsafe { out_buf(out, "out") }?;
        // SAFETY: the caller's guarantees on the rest.
        let ledger = unsafe { handle(ledger, "ledger") }?;
        // SAFETY: as above.
        let head =
            unsafe { verified_head(head, head_len, log_id, operator_key, operator_key_len) }?;
        let entries = ledger_entries(ledger, head.tree_size())?;
        out.set(ConsentryBuf::from_vec(usage_report(
            &entries, &head, from, until, threshold,
        )?));
        Ok(ConsentryStatus::Ok)
    })
}

/// Writes the CSV form of a usage report (the JSON of [`consentry_usage_report`]) into `*out`:
/// RFC 4180 with `\r\n` line ends and the header `section,key,value`; first the rows of section
/// `report` (`period_from`, `period_until`, `threshold`, `log_id`, `tree_size`, `root_hash`,
/// `head_timestamp`), then per breakdown a row `<dimension>,total,<n>` and one per key; a
/// suppressed count is written `suppressed`. `INVALID_INPUT` for a report of the wrong shape.
///
/// # Safety
/// `report` is `NULL` (with length 0) or valid for reads of its length; `out` is `NULL` or
/// valid for writing a [`ConsentryBuf`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn consentry_usage_report_csv(
    report: *const u8,
    report_len: usize,
    out: *mut ConsentryBuf,
) -> ConsentryStatus {
    guard(|| {
        // SAFETY: the caller's guarantees on `out` and `report`.
        let out = unsafe { out_buf(out, "out") }?;
        // SAFETY: as above.
        let report: UsageReport =
            from_json(unsafe { text(report, report_len, "report") }?, "report")?;
        out.set(ConsentryBuf::from_vec(report.to_csv().into_bytes()));
        Ok(ConsentryStatus::Ok)
    })
}

/// Checks a published usage report (the JSON of [`consentry_usage_report`]): the signed head
/// verifies with the operator's key, the report names it, and recomputing the report from
/// `entries` (every entry up to the head, as for [`consentry_usage_report`]) with its own
/// period and threshold gives exactly it. Returns `OK`, or `VERIFY_FAILED` with the last error
/// starting with the refusal's code (`stats/report_mismatch` for figures the log does not
/// support, `stats/size_mismatch` or `stats/root_mismatch` for entries that are not the
/// head's, `log/…` for the head); `INVALID_INPUT` for a malformed report or entries.
///
/// # Safety
/// `report`, `entries`, `head` and `operator_key` are `NULL` (with length 0) or valid for reads
/// of their lengths; `log_id` is `NULL` or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn consentry_usage_report_verify(
    report: *const u8,
    report_len: usize,
    entries: *const u8,
    entries_len: usize,
    head: *const u8,
    head_len: usize,
    log_id: *const c_char,
    operator_key: *const u8,
    operator_key_len: usize,
) -> ConsentryStatus {
    guard(|| {
        // SAFETY: the caller's guarantees.
        let report: UsageReport =
            from_json(unsafe { text(report, report_len, "report") }?, "report")?;
        // SAFETY: as above.
        let entries = unsafe { entries_arg(entries, entries_len) }?;
        // SAFETY: as above.
        let head =
            unsafe { verified_head(head, head_len, log_id, operator_key, operator_key_len) }?;
        report.verify(&entries, &head).map_err(stats_failure)?;
        Ok(ConsentryStatus::Ok)
    })
}
