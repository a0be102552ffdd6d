//! The signed directory history: the operator's first version (or a checkpoint), then its
//! signed updates, each verified with the operator's key and applied in order.

use super::handles::{ConsentryDirectory, ConsentrySigningKey};
use super::{
    ConsentryBuf, ConsentryStatus, Failure, Out, bytes, guard, guard_free, handle, out_buf,
    out_handle, public_key,
};
use consentry::Timestamp;
use consentry::directory::{DirectoryHistory, UpdateError};
use std::sync::{Mutex, MutexGuard, PoisonError};

/// The federation's directory as its operator publishes it (opaque): a signed version, then
/// signed updates (new parties, key rotations, retirements, compromises, representations, a
/// new operator key), every version kept so that the directory of any past time can be had.
/// Thread-safe: updates and reads are serialised by an internal lock.
pub struct ConsentryDirectoryHistory(Mutex<DirectoryHistory>);

impl ConsentryDirectoryHistory {
    pub(super) fn history(&self) -> MutexGuard<'_, DirectoryHistory> {
        // `apply` changes the history only once every check passed, so a poisoned lock holds a
        // consistent history.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[allow(
    clippy::needless_pass_by_value,
    reason = "a `map_err` adapter: it takes the error as `map_err` hands it over"
)]
fn update_failure(e: UpdateError) -> Failure {
    let status = match &e {
        UpdateError::NotOperatorKey { .. } | UpdateError::BadSignature => {
            ConsentryStatus::VerifyFailed
        }
        UpdateError::Parse(_) | UpdateError::Directory(_) | UpdateError::BeforeHistory { .. } => {
            ConsentryStatus::InvalidInput
        }
        _ => ConsentryStatus::Refused,
    };
    Failure::new(status, format!("{}: {e}", e.code()))
}

/// Loads a signed directory (a first version or a checkpoint, as the operator signs it) into a
/// new history handle in `*out`, checking that the operator whose 32-byte Ed25519 public key is
/// `anchor` (the service's trust anchor, configured out of band) signed it.
///
/// Returns `VERIFY_FAILED` if another key signed it (`update/not_operator_key`) or the
/// signature does not verify (`update/bad_signature`); `INVALID_INPUT` if the bytes are not a
/// well-formed signed directory or the directory breaks a rule.
///
/// # Safety
/// `signed` and `anchor` are `NULL` (with length 0) or valid for reads of their lengths; `out`
/// is `NULL` or valid for writing a pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn consentry_directory_history_load(
    signed: *const u8,
    signed_len: usize,
    anchor: *const u8,
    anchor_len: usize,
    out: *mut *mut ConsentryDirectoryHistory,
) -> ConsentryStatus {
    guard(|| {
        // SAFETY: the caller's guarantees on every argument.
        let out = unsafe { out_handle(out, "out") }?;
        // SAFETY: as above.
        let signed = unsafe { bytes(signed, signed_len, "signed") }?;
        // SAFETY: as above.
        let anchor = unsafe { public_key(anchor, anchor_len, "anchor") }?;
        let history = DirectoryHistory::load(signed, &anchor).map_err(update_failure)?;
        out.set(Box::into_raw(Box::new(ConsentryDirectoryHistory(
            Mutex::new(history),
        ))));
        Ok(ConsentryStatus::Ok)
    })
}

/// Verifies a signed directory update with the operator's current key and applies it, all its
/// changes or none, and writes the new version number into `*out_version` (which may be
/// `NULL`).
///
/// Returns `OK`; `REFUSED` when it is not applied, the last error starting with the code:
/// `update/already_applied` (these very bytes were applied already: a redelivery, to be
/// ignored), `update/fork` (the operator signed a different update with a number already
/// applied: evidence to report), `update/out_of_order`, `update/wrong_previous`,
/// `update/time_goes_back`, or the code of the change that breaks a rule (`directory/…`);
/// `VERIFY_FAILED` if the operator's current key did not sign it; `INVALID_INPUT` if the bytes
/// are not a well-formed update.
///
/// # Safety
/// `history` is `NULL` or a live history handle; `update` is `NULL` (with `len` 0) or valid
/// for reads of `len` bytes; `out_version` is `NULL` or valid for writing a `uint64_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn consentry_directory_history_apply(
    history: *const ConsentryDirectoryHistory,
    update: *const u8,
    len: usize,
    out_version: *mut u64,
) -> ConsentryStatus {
    guard(|| {
        // SAFETY: the caller's guarantee on `history`.
        let history = unsafe { handle(history, "history") }?;
        // SAFETY: the caller's guarantee on `update`.
        let update = unsafe { bytes(update, len, "update") }?;
        let mut h = history.history();
        h.apply(update).map_err(update_failure)?;
        if !out_version.is_null() {
            // SAFETY: non-null, and valid for writes by the caller's guarantee.
            unsafe { out_version.write(h.version()) };
        }
        Ok(ConsentryStatus::Ok)
    })
}

/// Writes the current version number into `*out_version`.
///
/// # Safety
/// `history` is `NULL` or a live history handle; `out_version` is `NULL` or valid for writing a
/// `uint64_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn consentry_directory_history_version(
    history: *const ConsentryDirectoryHistory,
    out_version: *mut u64,
) -> ConsentryStatus {
    guard(|| {
        // SAFETY: the caller's guarantee on `out_version`.
        let out: Out<u64> = unsafe { Out::new(out_version, "out_version", 0) }?;
        // SAFETY: the caller's guarantee on `history`.
        let history = unsafe { handle(history, "history") }?;
        out.set(history.history().version());
        Ok(ConsentryStatus::Ok)
    })
}

/// Writes into `*out` a new directory handle holding the directory that held at `at` (seconds
/// since the Unix epoch): the last version issued at or before `at`, for deciding on objects of
/// that time. The handle is independent of the history (free it with
/// `consentry_directory_free`). `INVALID_INPUT` (`update/before_history`) if `at` is before
/// the version loaded.
///
/// # Safety
/// `history` is `NULL` or a live history handle; `out` is `NULL` or valid for writing a
/// pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn consentry_directory_history_at(
    history: *const ConsentryDirectoryHistory,
    at: u64,
    out: *mut *mut ConsentryDirectory,
) -> ConsentryStatus {
    guard(|| {
        // SAFETY: the caller's guarantees on `out` and `history`.
        let out = unsafe { out_handle(out, "out") }?;
        // SAFETY: as above.
        let history = unsafe { handle(history, "history") }?;
        let dir = history
            .history()
            .at(Timestamp::from_secs(at))
            .map_err(update_failure)?
            .into_owned();
        out.set(Box::into_raw(Box::new(ConsentryDirectory(dir))));
        Ok(ConsentryStatus::Ok)
    })
}

/// Writes into `*out` a new directory handle holding the directory as it stands after the last
/// update applied.
///
/// # Safety
/// As [`consentry_directory_history_at`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn consentry_directory_history_current(
    history: *const ConsentryDirectoryHistory,
    out: *mut *mut ConsentryDirectory,
) -> ConsentryStatus {
    guard(|| {
        // SAFETY: the caller's guarantees on `out` and `history`.
        let out = unsafe { out_handle(out, "out") }?;
        // SAFETY: as above.
        let history = unsafe { handle(history, "history") }?;
        let dir = history.history().current().clone();
        out.set(Box::into_raw(Box::new(ConsentryDirectory(dir))));
        Ok(ConsentryStatus::Ok)
    })
}

/// Signs, with `operator_key`, a checkpoint of the current version issued at `at` (no earlier
/// than the current version), and writes it into `*out`: a service that loads it with
/// [`consentry_directory_history_load`] continues the history from this version, without the
/// updates before it. For the operator; the key must be the operator's current one, or the
/// checkpoint will not load.
///
/// # Safety
/// `history` and `operator_key` are `NULL` or live handles; `out` is `NULL` or valid for
/// writing a [`ConsentryBuf`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn consentry_directory_history_checkpoint(
    history: *const ConsentryDirectoryHistory,
    at: u64,
    operator_key: *const ConsentrySigningKey,
    out: *mut ConsentryBuf,
) -> ConsentryStatus {
    guard(|| {
        // SAFETY: the caller's guarantees on every argument.
        let out = unsafe { out_buf(out, "out") }?;
        // SAFETY: as above.
        let history = unsafe { handle(history, "history") }?;
        // SAFETY: as above.
        let key = unsafe { handle(operator_key, "operator_key") }?;
        let checkpoint = history.history().checkpoint(Timestamp::from_secs(at));
        out.set(ConsentryBuf::from_vec(checkpoint.sign(&key.0)));
        Ok(ConsentryStatus::Ok)
    })
}

/// Frees a directory-history handle. `NULL` is accepted and ignored.
///
/// # Safety
/// `history` is `NULL` or a live history handle, not used afterwards (by any thread).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn consentry_directory_history_free(history: *mut ConsentryDirectoryHistory) {
    guard_free(|| {
        if !history.is_null() {
            // SAFETY: a non-null `history` came from `Box::into_raw` in
            // `consentry_directory_history_load` and is freed only once (the caller's guarantee).
            drop(unsafe { Box::from_raw(history) });
        }
    });
}
