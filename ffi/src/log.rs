//! The transfer log: the RFC 9162 Merkle tree, log entries, signed tree heads, a subject's
//! access history and its check, and the log a ledger keeps.

use super::handles::{ConsentryLedger, ConsentrySigningKey};
use super::{
    ConsentryBuf, ConsentryStatus, Failure, FfiResult, Out, bytes, c_party, from_hex, from_json,
    guard, guard_free, handle, out_buf, out_handle, public_key, set_last_error, text, to_hex,
    to_json,
};
use consentry::directory::PartyId;
use consentry::log::{
    AccessHistory, DeletionIndex, HistoryItem, InclusionProof, LogEntry, LogError, MerkleTree,
    ProofError, SignedTreeHead, TreeHead, leaf_hash, verify_consistency, verify_history,
    verify_inclusion,
};
use consentry::signed::SignedPayload;
use consentry::{Digest, Timestamp};
use std::collections::BTreeMap;
use std::ffi::c_char;
use std::sync::{Mutex, MutexGuard, PoisonError};

/// An append-only transfer log (opaque): the entries' exact bytes, their RFC 9162 Merkle tree,
/// and an index from subject to the entries about them. Thread-safe: appends and reads are
/// serialised by an internal lock.
pub struct ConsentryLog(Mutex<Kept>);

/// What a log handle holds.
#[derive(Default)]
pub(super) struct Kept {
    tree: MerkleTree,
    entries: Vec<Vec<u8>>,
    by_subject: BTreeMap<PartyId, Vec<u64>>,
    /// The receipts and counted deletions of the entries appended as entries.
    deletions: DeletionIndex,
}

impl Kept {
    fn append(&mut self, entry: &[u8], subject: Option<PartyId>) -> u64 {
        let index = self.tree.append(entry);
        self.entries.push(entry.to_vec());
        if let Some(subject) = subject {
            self.by_subject.entry(subject).or_default().push(index);
        }
        index
    }

    /// Appends a decoded entry, taking it into account for deletions.
    fn append_decoded(&mut self, bytes: &[u8], entry: &LogEntry) -> u64 {
        let index = self.append(bytes, entry.subject());
        // A deletion that does not count is still logged (as any bytes may be): it is left
        // out of the index, as an auditor's replay leaves it out.
        let _ = self.deletions.observe(index, entry, None);
        index
    }

    /// Appends a deletion statement after checking it as `TransferLog::append_deletion` does.
    pub(super) fn append_deletion(
        &mut self,
        bytes: &[u8],
        trust: &dyn consentry::directory::Trust,
    ) -> Result<u64, consentry::deletion::DeletionError> {
        use consentry::deletion::{Deletion, DeletionError};
        let verified = consentry::signed::Verified::<Deletion>::parse_and_verify(bytes, trust)
            .map_err(DeletionError::Object)?;
        self.deletions.check(verified.claims())?;
        let entry = LogEntry::deletion(bytes.to_vec()).map_err(|e| {
            DeletionError::Storage(consentry::ledger::LedgerError::Corrupt(e.to_string()))
        })?;
        Ok(self.append_decoded(&entry.to_bytes(), &entry))
    }

    /// The exact bytes of the first `size` entries.
    pub(super) fn entries_up_to(&self, size: u64) -> FfiResult<Vec<Vec<u8>>> {
        self.root_at(size).map_err(proof_failure)?;
        Ok(self
            .entries
            .iter()
            .take(usize::try_from(size).unwrap_or(usize::MAX))
            .cloned()
            .collect())
    }

    fn root_at(&self, size: u64) -> Result<Digest, ProofError> {
        self.tree.root_at(size)
    }

    fn inclusion_proof(&self, index: u64, size: u64) -> Result<InclusionProof, ProofError> {
        self.tree.inclusion_proof(index, size)
    }

    fn consistency_proof(
        &self,
        old: u64,
        new: u64,
    ) -> Result<consentry::log::ConsistencyProof, ProofError> {
        self.tree.consistency_proof(old, new)
    }

    fn len(&self) -> u64 {
        self.tree.len()
    }

    fn entry(&self, index: u64) -> FfiResult<&[u8]> {
        usize::try_from(index)
            .ok()
            .and_then(|i| self.entries.get(i))
            .map(Vec::as_slice)
            .ok_or_else(|| {
                Failure::invalid(format!(
                    "log/index_out_of_range: there is no entry {index} in a log of {} entries",
                    self.len()
                ))
            })
    }

    fn access_history(&self, subject: PartyId, tree_size: u64) -> FfiResult<AccessHistory> {
        self.root_at(tree_size).map_err(proof_failure)?;
        let mut items = Vec::new();
        for &index in self.by_subject.get(&subject).map_or(&[][..], Vec::as_slice) {
            if index >= tree_size {
                break;
            }
            items.push(HistoryItem {
                entry: self.entry(index)?.to_vec(),
                proof: self
                    .inclusion_proof(index, tree_size)
                    .map_err(proof_failure)?,
            });
        }
        Ok(AccessHistory { subject, items })
    }
}

impl ConsentryLog {
    pub(super) fn tree(&self) -> MutexGuard<'_, Kept> {
        // Every operation on the tree either completes or panics before changing it, so a
        // poisoned lock holds a consistent tree.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// `OK` for a history whose every entry passed; otherwise `VERIFY_FAILED`, the failing entries'
/// codes kept as the last error.
pub(super) fn history_status(report: &consentry::log::HistoryReport) -> ConsentryStatus {
    if report.is_clean() {
        return ConsentryStatus::Ok;
    }
    let codes: Vec<&str> = report.failures.iter().map(|f| f.error.code()).collect();
    set_last_error(format!(
        "the history has {} failing entries: {}",
        codes.len(),
        codes.join(", ")
    ));
    ConsentryStatus::VerifyFailed
}

/// A log refusal as a status and a message starting with its code.
#[allow(
    clippy::needless_pass_by_value,
    reason = "a `map_err` adapter: it takes the error as `map_err` hands it over"
)]
pub(super) fn log_failure(e: LogError) -> Failure {
    let status = match &e {
        LogError::Proof(p) => return proof_failure(p.clone()),
        LogError::WrongKey { .. }
        | LogError::BadSignature
        | LogError::HeadKey(_)
        | LogError::WrongLog { .. }
        | LogError::Rollback { .. }
        | LogError::Fork { .. }
        | LogError::TimeRegression { .. }
        | LogError::NotAboutSubject { .. }
        | LogError::HistoryOrder { .. }
        | LogError::InclusionProofMismatch { .. }
        | LogError::ConsistencyProofMismatch { .. }
        | LogError::ConsistencyProofRequired { .. } => ConsentryStatus::VerifyFailed,
        LogError::Storage(_) | LogError::InconsistentWithSignedHead { .. } => {
            ConsentryStatus::Storage
        }
        _ => ConsentryStatus::InvalidInput,
    };
    Failure::new(status, format!("{}: {e}", e.code()))
}

#[allow(
    clippy::needless_pass_by_value,
    reason = "a `map_err` adapter: it takes the error as `map_err` hands it over"
)]
fn proof_failure(e: ProofError) -> Failure {
    let status = match e {
        ProofError::RootMismatch
        | ProofError::WrongProofLength { .. }
        | ProofError::ProofTooLong { .. }
        | ProofError::EmptyProofRequired { .. } => ConsentryStatus::ProofInvalid,
        _ => ConsentryStatus::InvalidInput,
    };
    Failure::new(status, format!("{}: {e}", e.code()))
}

fn hashes(raw: &[u8], what: &str) -> FfiResult<Vec<Digest>> {
    if raw.len() % Digest::LEN != 0 {
        return Err(Failure::invalid(format!(
            "{what}: {} bytes is not a whole number of 32-byte hashes",
            raw.len()
        )));
    }
    Ok(raw
        .chunks_exact(Digest::LEN)
        .filter_map(Digest::from_slice)
        .collect())
}

pub(super) fn one_hash(raw: &[u8], what: &str) -> FfiResult<Digest> {
    Digest::from_slice(raw)
        .ok_or_else(|| Failure::invalid(format!("{what}: a hash is 32 bytes, got {}", raw.len())))
}

fn concat(path: &[Digest]) -> Vec<u8> {
    path.iter().flat_map(|d| *d.as_bytes()).collect()
}

/// Creates an empty log in `*out`.
///
/// # Safety
/// `out` is `NULL` or valid for writing a pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn consentry_log_new(out: *mut *mut ConsentryLog) -> ConsentryStatus {
    guard(|| {
        // SAFETY: the caller's guarantee on `out`.
        let out = unsafe { out_handle(out, "out") }?;
        out.set(Box::into_raw(Box::new(ConsentryLog(Mutex::new(
            Kept::default(),
        )))));
        Ok(ConsentryStatus::Ok)
    })
}

/// Frees a log handle. `NULL` is accepted and ignored.
///
/// # Safety
/// `log` is `NULL` or a live log handle, not used afterwards (by any thread).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn consentry_log_free(log: *mut ConsentryLog) {
    guard_free(|| {
        if !log.is_null() {
            // SAFETY: a non-null `log` came from `Box::into_raw` in `consentry_log_new` and is
            // freed only once (the caller's guarantee).
            drop(unsafe { Box::from_raw(log) });
        }
    });
}

/// Appends an entry (its leaf hash is SHA-256(0x00 ‖ entry)) and writes its 0-based index into
/// `*out_index`, which may be `NULL` if the index is not wanted. Any bytes are accepted, and
/// attributed to no subject: to log a transfer-log entry that a subject's history finds, use
/// [`consentry_log_append_entry`].
///
/// # Safety
/// `log` is `NULL` or a live log handle; `entry` is `NULL` (with `len` 0) or valid for reads of
/// `len` bytes; `out_index` is `NULL` or valid for writing a `uint64_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn consentry_log_append(
    log: *const ConsentryLog,
    entry: *const u8,
    len: usize,
    out_index: *mut u64,
) -> ConsentryStatus {
    guard(|| {
        // SAFETY: the caller's guarantee on `log`.
        let log = unsafe { handle(log, "log") }?;
        // SAFETY: the caller's guarantee on `entry`.
        let entry = unsafe { bytes(entry, len, "entry") }?;
        let index = log.tree().append(entry, None);
        if !out_index.is_null() {
            // SAFETY: non-null, and valid for writes by the caller's guarantee.
            unsafe { out_index.write(index) };
        }
        Ok(ConsentryStatus::Ok)
    })
}

/// Writes the number of entries into `*out_size`.
///
/// # Safety
/// `log` is `NULL` or a live log handle; `out_size` is `NULL` or valid for writing a
/// `uint64_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn consentry_log_size(
    log: *const ConsentryLog,
    out_size: *mut u64,
) -> ConsentryStatus {
    guard(|| {
        // SAFETY: the caller's guarantee on `out_size`.
        let out: Out<u64> = unsafe { Out::new(out_size, "out_size", 0) }?;
        // SAFETY: the caller's guarantee on `log`.
        let log = unsafe { handle(log, "log") }?;
        out.set(log.tree().len());
        Ok(ConsentryStatus::Ok)
    })
}

/// Writes the 32-byte root hash of the log as it was at `tree_size` entries into `*out`
/// (`tree_size` 0 gives SHA-256 of the empty string).
///
/// # Safety
/// `log` is `NULL` or a live log handle; `out` is `NULL` or valid for writing a
/// [`ConsentryBuf`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn consentry_log_root(
    log: *const ConsentryLog,
    tree_size: u64,
    out: *mut ConsentryBuf,
) -> ConsentryStatus {
    guard(|| {
        // SAFETY: the caller's guarantee on `out`.
        let out = unsafe { out_buf(out, "out") }?;
        // SAFETY: the caller's guarantee on `log`.
        let log = unsafe { handle(log, "log") }?;
        let root = log.tree().root_at(tree_size).map_err(proof_failure)?;
        out.set(ConsentryBuf::from_vec(root.as_bytes().to_vec()));
        Ok(ConsentryStatus::Ok)
    })
}

/// Writes the inclusion proof of entry `index` in the log as it was at `tree_size` entries into
/// `*out`: the RFC 9162 path, 32-byte hashes concatenated from the leaf up (possibly empty).
///
/// # Safety
/// As [`consentry_log_root`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn consentry_log_inclusion_proof(
    log: *const ConsentryLog,
    index: u64,
    tree_size: u64,
    out: *mut ConsentryBuf,
) -> ConsentryStatus {
    guard(|| {
        // SAFETY: the caller's guarantee on `out`.
        let out = unsafe { out_buf(out, "out") }?;
        // SAFETY: the caller's guarantee on `log`.
        let log = unsafe { handle(log, "log") }?;
        let proof = log
            .tree()
            .inclusion_proof(index, tree_size)
            .map_err(proof_failure)?;
        out.set(ConsentryBuf::from_vec(concat(&proof.path)));
        Ok(ConsentryStatus::Ok)
    })
}

/// Writes the consistency proof between the log at `old_size` and at `new_size` entries into
/// `*out`: the RFC 9162 proof, 32-byte hashes concatenated (possibly empty).
///
/// # Safety
/// As [`consentry_log_root`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn consentry_log_consistency_proof(
    log: *const ConsentryLog,
    old_size: u64,
    new_size: u64,
    out: *mut ConsentryBuf,
) -> ConsentryStatus {
    guard(|| {
        // SAFETY: the caller's guarantee on `out`.
        let out = unsafe { out_buf(out, "out") }?;
        // SAFETY: the caller's guarantee on `log`.
        let log = unsafe { handle(log, "log") }?;
        let proof = log
            .tree()
            .consistency_proof(old_size, new_size)
            .map_err(proof_failure)?;
        out.set(ConsentryBuf::from_vec(concat(&proof.path)));
        Ok(ConsentryStatus::Ok)
    })
}

/// Checks, without any log, that `entry` is entry `index` of the log of `tree_size` entries
/// whose root is `root` (32 bytes), given the inclusion `proof` (concatenated 32-byte hashes).
/// Returns `OK` if so, `PROOF_INVALID` if not, `INVALID_INPUT` for an index out of range or
/// lengths that are not whole hashes. Take `tree_size` from the same trusted source as `root`.
///
/// # Safety
/// `entry`, `proof` and `root` are `NULL` (with length 0) or valid for reads of their lengths.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn consentry_log_verify_inclusion(
    entry: *const u8,
    entry_len: usize,
    index: u64,
    tree_size: u64,
    proof: *const u8,
    proof_len: usize,
    root: *const u8,
    root_len: usize,
) -> ConsentryStatus {
    guard(|| {
        // SAFETY: the caller's guarantee on `entry`.
        let entry = unsafe { bytes(entry, entry_len, "entry") }?;
        // SAFETY: the caller's guarantee on `proof`.
        let path = hashes(unsafe { bytes(proof, proof_len, "proof") }?, "proof")?;
        // SAFETY: the caller's guarantee on `root`.
        let root = one_hash(unsafe { bytes(root, root_len, "root") }?, "root")?;
        verify_inclusion(&leaf_hash(entry), index, tree_size, &path, &root)
            .map_err(proof_failure)?;
        Ok(ConsentryStatus::Ok)
    })
}

/// Checks, without any log, that the log of `old_size` entries with root `old_root` is a prefix
/// of the log of `new_size` entries with root `new_root`, given the consistency `proof`.
/// Returns `OK`, `PROOF_INVALID` or `INVALID_INPUT` as [`consentry_log_verify_inclusion`].
///
/// # Safety
/// `proof`, `old_root` and `new_root` are `NULL` (with length 0) or valid for reads of their
/// lengths.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn consentry_log_verify_consistency(
    old_size: u64,
    new_size: u64,
    proof: *const u8,
    proof_len: usize,
    old_root: *const u8,
    old_root_len: usize,
    new_root: *const u8,
    new_root_len: usize,
) -> ConsentryStatus {
    guard(|| {
        // SAFETY: the caller's guarantee on `proof`.
        let path = hashes(unsafe { bytes(proof, proof_len, "proof") }?, "proof")?;
        // SAFETY: the caller's guarantee on `old_root`.
        let old = one_hash(
            unsafe { bytes(old_root, old_root_len, "old_root") }?,
            "old_root",
        )?;
        // SAFETY: the caller's guarantee on `new_root`.
        let new = one_hash(
            unsafe { bytes(new_root, new_root_len, "new_root") }?,
            "new_root",
        )?;
        verify_consistency(old_size, new_size, &path, &old, &new).map_err(proof_failure)?;
        Ok(ConsentryStatus::Ok)
    })
}

/// Appends a transfer-log entry (a receipt's, a grant's, a statement's or a denial's, as the
/// `consentry_log_entry_*` and [`consentry_decision_denial_entry`](super::consentry_decision_denial_entry)
/// functions make them), after reading it strictly, and writes its index into `*out_index`
/// (which may be `NULL`). The entry is found in its subject's history. `INVALID_INPUT` (the last
/// error starting with `log/…`) if the bytes are not a well-formed entry; nothing is appended.
///
/// # Safety
/// As [`consentry_log_append`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn consentry_log_append_entry(
    log: *const ConsentryLog,
    entry: *const u8,
    len: usize,
    out_index: *mut u64,
) -> ConsentryStatus {
    guard(|| {
        // SAFETY: the caller's guarantee on `log`.
        let log = unsafe { handle(log, "log") }?;
        // SAFETY: the caller's guarantee on `entry`.
        let entry = unsafe { bytes(entry, len, "entry") }?;
        let decoded = LogEntry::from_bytes(entry).map_err(log_failure)?;
        let index = log.tree().append_decoded(entry, &decoded);
        if !out_index.is_null() {
            // SAFETY: non-null, and valid for writes by the caller's guarantee.
            unsafe { out_index.write(index) };
        }
        Ok(ConsentryStatus::Ok)
    })
}

/// Writes the exact bytes of entry `index` into `*out`. `INVALID_INPUT` if there is none.
///
/// # Safety
/// As [`consentry_log_root`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn consentry_log_entry(
    log: *const ConsentryLog,
    index: u64,
    out: *mut ConsentryBuf,
) -> ConsentryStatus {
    guard(|| {
        // SAFETY: the caller's guarantee on `out`.
        let out = unsafe { out_buf(out, "out") }?;
        // SAFETY: the caller's guarantee on `log`.
        let log = unsafe { handle(log, "log") }?;
        out.set(ConsentryBuf::from_vec(log.tree().entry(index)?.to_vec()));
        Ok(ConsentryStatus::Ok)
    })
}

/// Signs the head of the log as it is now — its size, root hash, the log's id `operator` (the
/// operator's party id, a NUL-terminated UUID) and the time `at` — with `key` (the operator's),
/// and writes the signed tree head (COSE_Sign1 bytes) into `*out`: the commitment that
/// histories and proofs are checked against.
///
/// # Safety
/// `log` and `key` are `NULL` or live handles; `operator` is `NULL` or a NUL-terminated string;
/// `out` is `NULL` or valid for writing a [`ConsentryBuf`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn consentry_log_sign_head(
    log: *const ConsentryLog,
    key: *const ConsentrySigningKey,
    operator: *const c_char,
    at: u64,
    out: *mut ConsentryBuf,
) -> ConsentryStatus {
    guard(|| {
        // SAFETY: the caller's guarantees on every argument.
        let out = unsafe { out_buf(out, "out") }?;
        // SAFETY: as above.
        let log = unsafe { handle(log, "log") }?;
        // SAFETY: as above.
        let key = unsafe { handle(key, "key") }?;
        // SAFETY: as above.
        let operator = unsafe { c_party(operator, "operator") }?;
        let head = {
            let tree = log.tree();
            TreeHead {
                log_id: operator,
                tree_size: tree.len(),
                root_hash: tree.root_at(tree.len()).map_err(proof_failure)?,
                timestamp: Timestamp::from_secs(at),
            }
        };
        out.set(ConsentryBuf::from_vec(head.sign(&key.0)));
        Ok(ConsentryStatus::Ok)
    })
}

/// The JSON form of an access history, as the log keeper hands it to a subject.
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct HistoryJson {
    subject: PartyId,
    tree_size: u64,
    items: Vec<ItemJson>,
}

#[derive(serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ItemJson {
    index: u64,
    entry: String,
    path: Vec<String>,
}

fn history_to_json(history: &AccessHistory, tree_size: u64) -> FfiResult<Vec<u8>> {
    to_json(&HistoryJson {
        subject: history.subject,
        tree_size,
        items: history
            .items
            .iter()
            .map(|i| ItemJson {
                index: i.proof.leaf_index,
                entry: to_hex(&i.entry),
                path: i.proof.path.iter().map(Digest::to_hex).collect(),
            })
            .collect(),
    })
}

pub(super) fn history_from_json(json: &str) -> FfiResult<AccessHistory> {
    let h: HistoryJson = from_json(json, "history")?;
    let mut items = Vec::with_capacity(h.items.len().min(1024));
    for (n, item) in h.items.into_iter().enumerate() {
        let entry = from_hex(&item.entry, &format!("history item {n}: entry"))?;
        if item.path.len() > consentry::log::MAX_INCLUSION_PROOF_LEN {
            return Err(Failure::invalid(format!(
                "history item {n}: a path of {} hashes is longer than any proof",
                item.path.len()
            )));
        }
        let path = item
            .path
            .iter()
            .map(|p| {
                from_hex(p, &format!("history item {n}: path"))
                    .and_then(|raw| one_hash(&raw, &format!("history item {n}: path")))
            })
            .collect::<FfiResult<Vec<Digest>>>()?;
        items.push(HistoryItem {
            entry,
            proof: InclusionProof {
                leaf_index: item.index,
                tree_size: h.tree_size,
                path,
            },
        });
    }
    Ok(AccessHistory {
        subject: h.subject,
        items,
    })
}

/// Writes into `*out` the access history of `subject` (a NUL-terminated UUID) in the log as it
/// was at `tree_size` entries (the size of the signed head it will be checked against): a JSON
/// object `{"subject", "tree_size", "items": [{"index", "entry", "path"}]}`, each entry's bytes
/// in hexadecimal with its inclusion proof (`path`, hexadecimal hashes). Only entries appended
/// with [`consentry_log_append_entry`] are attributed to a subject. `INVALID_INPUT` if
/// `tree_size` is beyond the log.
///
/// # Safety
/// `log` is `NULL` or a live log handle; `subject` is `NULL` or a NUL-terminated string; `out`
/// is `NULL` or valid for writing a [`ConsentryBuf`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn consentry_log_access_history(
    log: *const ConsentryLog,
    subject: *const c_char,
    tree_size: u64,
    out: *mut ConsentryBuf,
) -> ConsentryStatus {
    guard(|| {
        // SAFETY: the caller's guarantees on every argument.
        let out = unsafe { out_buf(out, "out") }?;
        // SAFETY: as above.
        let log = unsafe { handle(log, "log") }?;
        // SAFETY: as above.
        let subject = unsafe { c_party(subject, "subject") }?;
        let history = log.tree().access_history(subject, tree_size)?;
        out.set(ConsentryBuf::from_vec(history_to_json(
            &history, tree_size,
        )?));
        Ok(ConsentryStatus::Ok)
    })
}

/// The JSON form of a history report, as [`consentry_verify_history`] writes it.
pub(super) fn history_report_json(report: &consentry::log::HistoryReport) -> serde_json::Value {
    serde_json::json!({
        "clean": report.is_clean(),
        "subject": report.subject,
        "head": head_json(&report.head),
        "verified": report.verified.iter().map(|c| serde_json::json!({
            "index": c.index,
            "entry": entry_json(&c.entry),
        })).collect::<Vec<_>>(),
        "failures": report.failures.iter().map(|f| serde_json::json!({
            "position": f.position,
            "index": f.index,
            "code": f.error.code(),
            "message": f.error.to_string(),
        })).collect::<Vec<_>>(),
    })
}

/// A log entry as JSON: its kind, subject, time, leaf hash and what it says.
pub(super) fn entry_json(entry: &LogEntry) -> serde_json::Value {
    let about = match entry {
        LogEntry::Receipt(r) => serde_json::to_value(r.claims()).unwrap_or_default(),
        LogEntry::GrantIssued(g) => serde_json::json!({
            "id": g.claims().id(),
            "digest": g.digest().to_hex(),
        }),
        LogEntry::Statement(s) => serde_json::to_value(s.statement().claims()).unwrap_or_default(),
        LogEntry::Denial(d) => serde_json::json!({
            "request_digest": d.request_digest().to_hex(),
            "request": d.request(),
            "basis": d.basis(),
            "reasons": d.reasons(),
        }),
        LogEntry::Deletion(d) => serde_json::to_value(d.claims()).unwrap_or_default(),
        _ => serde_json::Value::Null,
    };
    serde_json::json!({
        "kind": entry.kind().to_string(),
        "subject": entry.subject(),
        "time": entry.time().secs(),
        "leaf_hash": entry.leaf_hash().to_hex(),
        "about": about,
    })
}

/// Reads a transfer-log entry strictly and writes into `*out` a JSON object `{"kind"
/// ("receipt", "grant", "statement", "denial"), "subject", "time", "leaf_hash", "about"}`, where
/// `about` is the receipt's or statement's claims, the grant's id and digest, or the denial's
/// request digest, ids and reason codes. Signed objects in it are not verified.
/// `INVALID_INPUT` (`log/malformed_entry`, `log/malformed_object`…) if the bytes are not a
/// well-formed entry.
///
/// # Safety
/// `entry` is `NULL` (with `len` 0) or valid for reads of `len` bytes; `out` is `NULL` or valid
/// for writing a [`ConsentryBuf`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn consentry_log_entry_inspect(
    entry: *const u8,
    len: usize,
    out: *mut ConsentryBuf,
) -> ConsentryStatus {
    guard(|| {
        // SAFETY: the caller's guarantees on `out` and `entry`.
        let out = unsafe { out_buf(out, "out") }?;
        // SAFETY: as above.
        let entry = unsafe { bytes(entry, len, "entry") }?;
        let entry = LogEntry::from_bytes(entry).map_err(log_failure)?;
        out.set(ConsentryBuf::from_vec(to_json(&entry_json(&entry))?));
        Ok(ConsentryStatus::Ok)
    })
}

/// Verifies a signed tree head of the log `log_id` (a NUL-terminated UUID) with the operator's
/// 32-byte public key, needing neither the log nor a directory.
///
/// # Safety
/// `head`, `operator_key` are `NULL` (with length 0) or valid for reads of their lengths;
/// `log_id` is `NULL` or a NUL-terminated string.
unsafe fn verified_head(
    head: *const u8,
    head_len: usize,
    log_id: *const c_char,
    operator_key: *const u8,
    operator_key_len: usize,
) -> FfiResult<SignedTreeHead> {
    // SAFETY: the caller's guarantees.
    let head = unsafe { bytes(head, head_len, "head") }?;
    // SAFETY: as above.
    let log_id = unsafe { c_party(log_id, "log_id") }?;
    // SAFETY: as above.
    let key = unsafe { public_key(operator_key, operator_key_len, "operator_key") }?;
    SignedTreeHead::verify(head, log_id, &key).map_err(log_failure)
}

pub(super) fn head_json(head: &SignedTreeHead) -> serde_json::Value {
    serde_json::json!({
        "log_id": head.log_id(),
        "tree_size": head.tree_size(),
        "root_hash": head.root_hash().to_hex(),
        "timestamp": head.timestamp().secs(),
        "kid": head.kid().to_hex(),
    })
}

/// Verifies a signed tree head of the log `log_id` (the operator's party id, a NUL-terminated
/// UUID) with the operator's 32-byte Ed25519 public key and writes its claims into `*out`:
/// `{"log_id", "tree_size", "root_hash", "timestamp", "kid"}`. Returns `VERIFY_FAILED` if the
/// head is of another log (`log/wrong_log`), names another key (`log/wrong_key`) or its
/// signature does not verify (`log/bad_signature`); `INVALID_INPUT` if it is not a well-formed
/// head (`log/malformed_head`) or the key is not 32 bytes.
///
/// # Safety
/// `head` and `operator_key` are `NULL` (with length 0) or valid for reads of their lengths;
/// `log_id` is `NULL` or a NUL-terminated string; `out` is `NULL` or valid for writing a
/// [`ConsentryBuf`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn consentry_tree_head_verify(
    head: *const u8,
    head_len: usize,
    log_id: *const c_char,
    operator_key: *const u8,
    operator_key_len: usize,
    out: *mut ConsentryBuf,
) -> ConsentryStatus {
    guard(|| {
        // SAFETY: the caller's guarantee on `out`.
        let out = unsafe { out_buf(out, "out") }?;
        // SAFETY: the caller's guarantees on the rest.
        let head =
            unsafe { verified_head(head, head_len, log_id, operator_key, operator_key_len) }?;
        out.set(ConsentryBuf::from_vec(to_json(&head_json(&head))?));
        Ok(ConsentryStatus::Ok)
    })
}

/// Checks that `entry` is entry `index` of the log under a signed tree head, given its
/// inclusion proof at the head's size (concatenated 32-byte hashes, as
/// [`consentry_log_inclusion_proof`] or [`consentry_ledger_log_inclusion_proof`] give it): the
/// head is verified first as [`consentry_tree_head_verify`] does. Returns `OK`,
/// `VERIFY_FAILED` for a head that does not verify, `PROOF_INVALID` for an entry not included
/// so, `INVALID_INPUT` for an index beyond the head's size or lengths that are not whole hashes.
///
/// # Safety
/// `head`, `operator_key`, `entry` and `proof` are `NULL` (with length 0) or valid for reads of
/// their lengths; `log_id` is `NULL` or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn consentry_tree_head_verify_inclusion(
    head: *const u8,
    head_len: usize,
    log_id: *const c_char,
    operator_key: *const u8,
    operator_key_len: usize,
    entry: *const u8,
    entry_len: usize,
    index: u64,
    proof: *const u8,
    proof_len: usize,
) -> ConsentryStatus {
    guard(|| {
        // SAFETY: the caller's guarantees.
        let head =
            unsafe { verified_head(head, head_len, log_id, operator_key, operator_key_len) }?;
        // SAFETY: the caller's guarantee on `entry`.
        let entry = unsafe { bytes(entry, entry_len, "entry") }?;
        // SAFETY: the caller's guarantee on `proof`.
        let path = hashes(unsafe { bytes(proof, proof_len, "proof") }?, "proof")?;
        let proof = InclusionProof {
            leaf_index: index,
            tree_size: head.tree_size(),
            path,
        };
        head.verify_inclusion(entry, &proof).map_err(log_failure)?;
        Ok(ConsentryStatus::Ok)
    })
}

/// Checks a subject's access history (the JSON of [`consentry_log_access_history`] or
/// [`consentry_ledger_access_history`]) against a signed tree head of the log `log_id`, with
/// only the operator's 32-byte public key: the head first, then each entry on its own (its
/// proof is for the head's size, indices ascend, its bytes are included under the head's root,
/// it decodes strictly, it concerns the subject).
///
/// When the head verifies, writes the report into `*out`: `{"clean", "subject", "head":
/// {…as consentry_tree_head_verify…}, "verified": [{"index", "entry": {…as
/// consentry_log_entry_inspect…}}], "failures": [{"position", "index", "code", "message"}]}`,
/// and returns `OK` if every entry passed, `VERIFY_FAILED` if one failed (the report must be
/// freed all the same). A head that does not verify is `VERIFY_FAILED` with no report, a
/// malformed one `INVALID_INPUT`. What this cannot show is that the history is complete: the
/// log keeper could leave an entry out.
///
/// # Safety
/// `history`, `head` and `operator_key` are `NULL` (with length 0) or valid for reads of their
/// lengths; `log_id` is `NULL` or a NUL-terminated string; `out` is `NULL` or valid for writing
/// a [`ConsentryBuf`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn consentry_verify_history(
    history: *const u8,
    history_len: usize,
    head: *const u8,
    head_len: usize,
    log_id: *const c_char,
    operator_key: *const u8,
    operator_key_len: usize,
    out: *mut ConsentryBuf,
) -> ConsentryStatus {
    guard(|| {
        // SAFETY: the caller's guarantee on `out`.
        let out = unsafe { out_buf(out, "out") }?;
        // SAFETY: the caller's guarantee on `history`.
        let history = history_from_json(unsafe { text(history, history_len, "history") }?)?;
        // SAFETY: the caller's guarantees.
        let head_bytes = unsafe { bytes(head, head_len, "head") }?;
        // SAFETY: as above.
        let log_id = unsafe { c_party(log_id, "log_id") }?;
        // SAFETY: as above.
        let key = unsafe { public_key(operator_key, operator_key_len, "operator_key") }?;
        let report = verify_history(&history, head_bytes, log_id, &key).map_err(log_failure)?;
        let doc = history_report_json(&report);
        out.set(ConsentryBuf::from_vec(to_json(&doc)?));
        Ok(history_status(&report))
    })
}

// ---- the log a ledger keeps ----

/// Writes the number of entries of the ledger's transfer log into `*out_size`.
///
/// # Safety
/// `ledger` is `NULL` or a live ledger handle; `out_size` is `NULL` or valid for writing a
/// `uint64_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn consentry_ledger_log_size(
    ledger: *const ConsentryLedger,
    out_size: *mut u64,
) -> ConsentryStatus {
    guard(|| {
        // SAFETY: the caller's guarantee on `out_size`.
        let out: Out<u64> = unsafe { Out::new(out_size, "out_size", 0) }?;
        // SAFETY: the caller's guarantee on `ledger`.
        let ledger = unsafe { handle(ledger, "ledger") }?;
        out.set(ledger.log().log_size().map_err(log_failure)?);
        Ok(ConsentryStatus::Ok)
    })
}

/// Writes the exact bytes of entry `index` of the ledger's transfer log into `*out` (checked
/// against its leaf hash). `INVALID_INPUT` if there is none, `STORAGE` if the store failed.
///
/// # Safety
/// `ledger` is `NULL` or a live ledger handle; `out` is `NULL` or valid for writing a
/// [`ConsentryBuf`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn consentry_ledger_log_entry(
    ledger: *const ConsentryLedger,
    index: u64,
    out: *mut ConsentryBuf,
) -> ConsentryStatus {
    guard(|| {
        // SAFETY: the caller's guarantee on `out`.
        let out = unsafe { out_buf(out, "out") }?;
        // SAFETY: the caller's guarantee on `ledger`.
        let ledger = unsafe { handle(ledger, "ledger") }?;
        let entry = ledger.log().log_entry(index).map_err(log_failure)?;
        out.set(ConsentryBuf::from_vec(entry));
        Ok(ConsentryStatus::Ok)
    })
}

/// Writes the 32-byte root hash of the ledger's transfer log at `tree_size` entries into
/// `*out`.
///
/// # Safety
/// As [`consentry_ledger_log_entry`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn consentry_ledger_log_root(
    ledger: *const ConsentryLedger,
    tree_size: u64,
    out: *mut ConsentryBuf,
) -> ConsentryStatus {
    guard(|| {
        // SAFETY: the caller's guarantee on `out`.
        let out = unsafe { out_buf(out, "out") }?;
        // SAFETY: the caller's guarantee on `ledger`.
        let ledger = unsafe { handle(ledger, "ledger") }?;
        let root = ledger.log().log_root_at(tree_size).map_err(log_failure)?;
        out.set(ConsentryBuf::from_vec(root.as_bytes().to_vec()));
        Ok(ConsentryStatus::Ok)
    })
}

/// Writes the inclusion proof of entry `index` of the ledger's transfer log at `tree_size`
/// entries into `*out` (concatenated 32-byte hashes, as [`consentry_log_inclusion_proof`]).
///
/// # Safety
/// As [`consentry_ledger_log_entry`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn consentry_ledger_log_inclusion_proof(
    ledger: *const ConsentryLedger,
    index: u64,
    tree_size: u64,
    out: *mut ConsentryBuf,
) -> ConsentryStatus {
    guard(|| {
        // SAFETY: the caller's guarantee on `out`.
        let out = unsafe { out_buf(out, "out") }?;
        // SAFETY: the caller's guarantee on `ledger`.
        let ledger = unsafe { handle(ledger, "ledger") }?;
        let proof = ledger
            .log()
            .inclusion_proof(index, tree_size)
            .map_err(log_failure)?;
        out.set(ConsentryBuf::from_vec(concat(&proof.path)));
        Ok(ConsentryStatus::Ok)
    })
}

/// Writes the consistency proof of the ledger's transfer log from `old_size` to `new_size`
/// entries into `*out` (concatenated 32-byte hashes).
///
/// # Safety
/// As [`consentry_ledger_log_entry`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn consentry_ledger_log_consistency_proof(
    ledger: *const ConsentryLedger,
    old_size: u64,
    new_size: u64,
    out: *mut ConsentryBuf,
) -> ConsentryStatus {
    guard(|| {
        // SAFETY: the caller's guarantee on `out`.
        let out = unsafe { out_buf(out, "out") }?;
        // SAFETY: the caller's guarantee on `ledger`.
        let ledger = unsafe { handle(ledger, "ledger") }?;
        let proof = ledger
            .log()
            .consistency_proof(old_size, new_size)
            .map_err(log_failure)?;
        out.set(ConsentryBuf::from_vec(concat(&proof.path)));
        Ok(ConsentryStatus::Ok)
    })
}

/// Signs the head of the ledger's transfer log as it is now with `key` (the operator's: the
/// provider's own), as the log `operator` (a NUL-terminated UUID) at `at`, keeps it as the
/// latest signed head (in the SQLite file for a SQLite ledger) and writes it into `*out`.
/// Returns `STORAGE` if the log is not consistent with the latest head it signed
/// (`log/inconsistent_with_signed_head`: it was changed or truncated) or the store failed.
///
/// # Safety
/// `ledger` and `key` are `NULL` or live handles; `operator` is `NULL` or a NUL-terminated
/// string; `out` is `NULL` or valid for writing a [`ConsentryBuf`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn consentry_ledger_sign_head(
    ledger: *const ConsentryLedger,
    key: *const ConsentrySigningKey,
    operator: *const c_char,
    at: u64,
    out: *mut ConsentryBuf,
) -> ConsentryStatus {
    guard(|| {
        // SAFETY: the caller's guarantees on every argument.
        let out = unsafe { out_buf(out, "out") }?;
        // SAFETY: as above.
        let ledger = unsafe { handle(ledger, "ledger") }?;
        // SAFETY: as above.
        let key = unsafe { handle(key, "key") }?;
        // SAFETY: as above.
        let operator = unsafe { c_party(operator, "operator") }?;
        let head = ledger
            .log()
            .sign_head(&key.0, operator, Timestamp::from_secs(at))
            .map_err(log_failure)?;
        out.set(ConsentryBuf::from_vec(head));
        Ok(ConsentryStatus::Ok)
    })
}

/// Writes the latest head the ledger's log signed into `*out`, or leaves it empty if it has
/// signed none.
///
/// # Safety
/// `ledger` is `NULL` or a live ledger handle; `out` is `NULL` or valid for writing a
/// [`ConsentryBuf`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn consentry_ledger_latest_head(
    ledger: *const ConsentryLedger,
    out: *mut ConsentryBuf,
) -> ConsentryStatus {
    guard(|| {
        // SAFETY: the caller's guarantee on `out`.
        let out = unsafe { out_buf(out, "out") }?;
        // SAFETY: the caller's guarantee on `ledger`.
        let ledger = unsafe { handle(ledger, "ledger") }?;
        let head = ledger.log().latest_head().map_err(log_failure)?;
        out.set(ConsentryBuf::from_vec(head.unwrap_or_default()));
        Ok(ConsentryStatus::Ok)
    })
}

/// Writes the access history of `subject` in the ledger's transfer log at `tree_size` entries
/// into `*out`, in the JSON form of [`consentry_log_access_history`], for
/// [`consentry_verify_history`].
///
/// # Safety
/// `ledger` is `NULL` or a live ledger handle; `subject` is `NULL` or a NUL-terminated string;
/// `out` is `NULL` or valid for writing a [`ConsentryBuf`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn consentry_ledger_access_history(
    ledger: *const ConsentryLedger,
    subject: *const c_char,
    tree_size: u64,
    out: *mut ConsentryBuf,
) -> ConsentryStatus {
    guard(|| {
        // SAFETY: the caller's guarantees on every argument.
        let out = unsafe { out_buf(out, "out") }?;
        // SAFETY: as above.
        let ledger = unsafe { handle(ledger, "ledger") }?;
        // SAFETY: as above.
        let subject = unsafe { c_party(subject, "subject") }?;
        let history = ledger
            .log()
            .access_history(subject, tree_size)
            .map_err(log_failure)?;
        out.set(ConsentryBuf::from_vec(history_to_json(
            &history, tree_size,
        )?));
        Ok(ConsentryStatus::Ok)
    })
}
