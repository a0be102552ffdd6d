//! The C ABI of consentry: opaque handles, library-owned buffers and status codes, so that any
//! language with a C foreign-function interface can issue signed objects, decide on transfers
//! and keep the Merkle log. It is built on the public API of the `consentry` crate only, as
//! `libconsentry_ffi.so` (or `.dylib`, `.dll`) and `libconsentry_ffi.a`.
//!
//! The header `include/consentry.h` is generated from this crate by cbindgen; `docs/bindings.md`
//! is the guide. The rules, in short:
//!
//! - **Status.** Every function except the `_free` functions, [`consentry_version`] and
//!   [`consentry_status_name`] returns a [`ConsentryStatus`]; [`ConsentryStatus::Ok`] is 0. On
//!   any other status a per-thread message is kept, readable with [`consentry_last_error`].
//! - **Inputs** are borrowed for the duration of the call only: byte strings as a pointer and a
//!   length (`NULL` with length 0 is the empty string; `NULL` with a non-zero length is refused),
//!   text as UTF-8 (JSON documents) or a NUL-terminated string (party ids).
//! - **Outputs** are written through out-pointers, which must not be `NULL`. Every out-pointer is
//!   reset (to `NULL`, or an empty [`ConsentryBuf`]) before anything else is checked, so it is
//!   always safe to free after a failed call. Byte and text outputs are [`ConsentryBuf`]s the
//!   library allocated: the caller frees each exactly once with [`consentry_buf_free`]. Text is
//!   not NUL-terminated: use the length.
//! - **Handles** (directory, directory history, ceilings, signing key, verifier, decision,
//!   ledger, log, inbox) are created by a `_new`, `_from_*`, `_load`, `_open_*` or deciding function
//!   and released by the matching `_free`, which accepts `NULL`.
//! - **Threads.** Directory, ceilings, signing-key, verifier and decision handles are immutable
//!   once built (ceilings once their derivations are defined) and may be used from several
//!   threads at once. Ledger, log, directory-history and inbox handles lock internally and may
//!   also be shared between threads. A handle must not be freed
//!   while another thread uses it.
//! - **Panics** never cross the boundary: every body runs under `catch_unwind`, and a panic
//!   becomes [`ConsentryStatus::Panic`] (this needs the default `panic = "unwind"` profile).

// Unsafe code only where the ABI needs raw pointers (and `no_mangle`, which the lint also
// counts): the modules of exported functions, and the items of this file marked so.
#![deny(unsafe_code)]
#![warn(missing_docs)]
// Pedantic lints on the ABI's own code, not on its unit tests.
#![cfg_attr(not(test), warn(clippy::pedantic))]
#![allow(
    clippy::doc_markdown,
    reason = "cbindgen copies these comments into include/consentry.h, which CI checks is up to date: they change with the header"
)]

#[allow(unsafe_code)]
mod decide;
#[allow(unsafe_code)]
mod evidence;
#[allow(unsafe_code)]
mod handles;
#[allow(unsafe_code)]
mod issue;
#[allow(unsafe_code)]
mod log;
#[allow(unsafe_code)]
mod notify;
#[allow(unsafe_code)]
mod registry;
#[allow(unsafe_code)]
mod service;

pub use decide::{consentry_apply_statement, consentry_decide};
pub use evidence::{
    consentry_deletion_issue, consentry_ledger_log_deletion, consentry_ledger_log_entries,
    consentry_ledger_overdue_report, consentry_ledger_usage_report, consentry_log_append_deletion,
    consentry_log_entries, consentry_overdue_report, consentry_usage_report,
    consentry_usage_report_csv, consentry_usage_report_verify, consentry_verify_history_retention,
    consentry_verify_overdue,
};
pub use handles::{
    ConsentryCeilings, ConsentryDirectory, ConsentryLedger, ConsentrySigningKey,
    consentry_ceilings_define_derivations, consentry_ceilings_free, consentry_ceilings_from_json,
    consentry_crypto_providers, consentry_directory_free, consentry_directory_from_cbor,
    consentry_directory_from_json, consentry_directory_to_cbor, consentry_directory_to_json,
    consentry_ledger_free, consentry_ledger_new, consentry_ledger_open_sqlite,
    consentry_ledger_take_decisions, consentry_signing_key_free, consentry_signing_key_from_pkcs8,
    consentry_signing_key_from_pkcs8_with, consentry_signing_key_from_seed,
    consentry_signing_key_from_seed_with, consentry_signing_key_generate,
    consentry_signing_key_public_key,
};
pub use issue::{
    consentry_issue_grant, consentry_issue_habilitation, consentry_issue_request,
    consentry_issue_statement, consentry_object_inspect,
};
pub use log::{
    ConsentryLog, consentry_ledger_access_history, consentry_ledger_latest_head,
    consentry_ledger_log_consistency_proof, consentry_ledger_log_entry,
    consentry_ledger_log_inclusion_proof, consentry_ledger_log_root, consentry_ledger_log_size,
    consentry_ledger_sign_head, consentry_log_access_history, consentry_log_append,
    consentry_log_append_entry, consentry_log_consistency_proof, consentry_log_entry,
    consentry_log_entry_inspect, consentry_log_free, consentry_log_inclusion_proof,
    consentry_log_new, consentry_log_root, consentry_log_sign_head, consentry_log_size,
    consentry_log_verify_consistency, consentry_log_verify_inclusion, consentry_tree_head_verify,
    consentry_tree_head_verify_inclusion, consentry_verify_history,
};
pub use notify::{
    ConsentryInbox, consentry_inbox_free, consentry_inbox_last_seq, consentry_inbox_new,
    consentry_inbox_receive_statement, consentry_inbox_receive_update, consentry_inbox_resume,
    consentry_inbox_take_changed, consentry_ledger_outbox_acknowledge,
    consentry_ledger_outbox_enqueue_update, consentry_ledger_outbox_last_seq,
    consentry_ledger_outbox_pending, consentry_verifier_apply_statement_notifying,
};
pub use registry::{
    ConsentryDirectoryHistory, consentry_directory_history_apply, consentry_directory_history_at,
    consentry_directory_history_checkpoint, consentry_directory_history_current,
    consentry_directory_history_free, consentry_directory_history_load,
    consentry_directory_history_version,
};
pub use service::{
    ConsentryDecision, ConsentryVerifier, consentry_decision_denial_entry, consentry_decision_free,
    consentry_decision_receipt, consentry_decision_to_json, consentry_log_entry_grant_issued,
    consentry_log_entry_receipt, consentry_log_entry_statement, consentry_receipt_issue,
    consentry_verifier_apply_statement, consentry_verifier_decide, consentry_verifier_free,
    consentry_verifier_new,
};

use consentry::crypto::CryptoProvider;
use consentry::{Digest, VerifyingKey};
use std::cell::RefCell;
use std::ffi::{CStr, c_char};
use std::panic::{AssertUnwindSafe, catch_unwind};

/// The outcome of a call. `CONSENTRY_STATUS_OK` is 0; every other value comes with a message
/// readable with [`consentry_last_error`] on the same thread.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConsentryStatus {
    /// Success.
    Ok = 0,
    /// A required pointer argument was `NULL` (or a `NULL` byte string with a non-zero length).
    NullArgument = 1,
    /// A text argument is not valid UTF-8.
    InvalidUtf8 = 2,
    /// A JSON argument is not syntactically valid JSON.
    InvalidJson = 3,
    /// An argument is well formed but not acceptable: a JSON document of the wrong shape or with
    /// invalid values, a malformed directory, a key of the wrong length, an object that would not
    /// be well formed on the wire, an index out of range…
    InvalidInput = 4,
    /// The grant or habilitation goes beyond the purpose ceilings; nothing was signed.
    BeyondCeiling = 5,
    /// The transfer is denied. The decision JSON, with every reason, was written all the same
    /// and must be freed.
    Denied = 6,
    /// The lifecycle statement was not applied (the outcome JSON, with the reason, was written
    /// all the same and must be freed), or a directory update was not applied, a notification
    /// refused by an inbox, or a deletion statement refused by a log (the last error starts
    /// with the refusal's code, such as `update/already_applied`, `notification/fork`,
    /// `deletion/already_deleted`).
    Refused = 7,
    /// A log proof does not verify.
    ProofInvalid = 8,
    /// The operating system's random source failed.
    Internal = 9,
    /// A bug: the library panicked. The call had no effect that can be relied on.
    Panic = 10,
    /// A signature or a signed structure does not verify: a signed tree head, a signed
    /// directory or directory update not signed by the expected key, an access history with an
    /// entry that fails its check, a forged notification or deletion statement, an overdue or
    /// usage report the log's entries do not support. The last error starts with the refusal's
    /// code (`log/…`, `update/…`, `notification/forged`, `overdue/…`, `stats/…`); a history
    /// report, when one is written, must be freed all the same.
    VerifyFailed = 11,
    /// The store failed, or found its stored state corrupt (the SQLite file cannot be opened,
    /// a read or write failed). The last error starts with the refusal's code (`store/…`,
    /// `log/storage`…).
    Storage = 12,
    /// This build of the library lacks what the call needs: the SQLite store (the crate's
    /// `sqlite` feature), a crypto provider named but not built in (`aws-lc-rs`), or an
    /// operation the kind of ledger given does not have.
    Unsupported = 13,
}

impl ConsentryStatus {
    const ALL: [ConsentryStatus; 14] = [
        ConsentryStatus::Ok,
        ConsentryStatus::NullArgument,
        ConsentryStatus::InvalidUtf8,
        ConsentryStatus::InvalidJson,
        ConsentryStatus::InvalidInput,
        ConsentryStatus::BeyondCeiling,
        ConsentryStatus::Denied,
        ConsentryStatus::Refused,
        ConsentryStatus::ProofInvalid,
        ConsentryStatus::Internal,
        ConsentryStatus::Panic,
        ConsentryStatus::VerifyFailed,
        ConsentryStatus::Storage,
        ConsentryStatus::Unsupported,
    ];

    fn name(self) -> &'static CStr {
        match self {
            ConsentryStatus::Ok => c"OK",
            ConsentryStatus::NullArgument => c"NULL_ARGUMENT",
            ConsentryStatus::InvalidUtf8 => c"INVALID_UTF8",
            ConsentryStatus::InvalidJson => c"INVALID_JSON",
            ConsentryStatus::InvalidInput => c"INVALID_INPUT",
            ConsentryStatus::BeyondCeiling => c"BEYOND_CEILING",
            ConsentryStatus::Denied => c"DENIED",
            ConsentryStatus::Refused => c"REFUSED",
            ConsentryStatus::ProofInvalid => c"PROOF_INVALID",
            ConsentryStatus::Internal => c"INTERNAL",
            ConsentryStatus::Panic => c"PANIC",
            ConsentryStatus::VerifyFailed => c"VERIFY_FAILED",
            ConsentryStatus::Storage => c"STORAGE",
            ConsentryStatus::Unsupported => c"UNSUPPORTED",
        }
    }
}

/// A byte string allocated by the library and owned by the caller, who frees it exactly once
/// with [`consentry_buf_free`]. The empty buffer is `{NULL, 0}`; a non-empty one always has a
/// non-`NULL` pointer. Text (JSON, hexadecimal) is UTF-8 without a terminating NUL.
#[repr(C)]
#[derive(Debug)]
pub struct ConsentryBuf {
    /// First byte, or `NULL` when empty.
    pub ptr: *mut u8,
    /// Number of bytes.
    pub len: usize,
}

impl ConsentryBuf {
    const EMPTY: ConsentryBuf = ConsentryBuf {
        ptr: std::ptr::null_mut(),
        len: 0,
    };

    fn from_vec(bytes: Vec<u8>) -> ConsentryBuf {
        if bytes.is_empty() {
            return ConsentryBuf::EMPTY;
        }
        let boxed = bytes.into_boxed_slice();
        let len = boxed.len();
        ConsentryBuf {
            ptr: Box::into_raw(boxed).cast::<u8>(),
            len,
        }
    }
}

/// Why a call failed: a status and a message for [`consentry_last_error`].
#[derive(Debug)]
struct Failure {
    status: ConsentryStatus,
    message: String,
}

impl Failure {
    fn new(status: ConsentryStatus, message: impl Into<String>) -> Failure {
        Failure {
            status,
            message: message.into(),
        }
    }

    fn null(what: &str) -> Failure {
        Failure::new(ConsentryStatus::NullArgument, format!("{what} is NULL"))
    }

    fn invalid(message: impl Into<String>) -> Failure {
        Failure::new(ConsentryStatus::InvalidInput, message)
    }

    /// A JSON error: syntax and truncation are `INVALID_JSON`; a well-formed document of the
    /// wrong shape or with refused values is `INVALID_INPUT`.
    fn json(what: &str, e: &serde_json::Error) -> Failure {
        use serde_json::error::Category;
        let status = match e.classify() {
            Category::Data => ConsentryStatus::InvalidInput,
            Category::Syntax | Category::Eof | Category::Io => ConsentryStatus::InvalidJson,
        };
        Failure::new(status, format!("{what}: {e}"))
    }
}

/// Reads a JSON document. A shape error found before the end of a document that is not valid
/// JSON at all is reported as the syntax error it also is.
fn from_json<T: serde::de::DeserializeOwned>(json: &str, what: &str) -> FfiResult<T> {
    serde_json::from_str(json).map_err(|e| {
        match serde_json::from_str::<serde::de::IgnoredAny>(json) {
            Err(syntax) if e.classify() == serde_json::error::Category::Data => {
                Failure::json(what, &syntax)
            }
            _ => Failure::json(what, &e),
        }
    })
}

type FfiResult<T> = Result<T, Failure>;

thread_local! {
    static LAST_ERROR: RefCell<Option<String>> = const { RefCell::new(None) };
}

fn set_last_error(message: String) {
    LAST_ERROR.with(|e| *e.borrow_mut() = Some(message));
}

fn clear_last_error() {
    LAST_ERROR.with(|e| *e.borrow_mut() = None);
}

/// Runs a call's body: clears the last error, catches panics, records the failure message.
fn guard(body: impl FnOnce() -> FfiResult<ConsentryStatus>) -> ConsentryStatus {
    clear_last_error();
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(status)) => status,
        Ok(Err(failure)) => {
            set_last_error(failure.message);
            failure.status
        }
        Err(payload) => {
            let detail = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_owned());
            set_last_error(format!("internal error (panic): {detail}"));
            ConsentryStatus::Panic
        }
    }
}

/// Runs a `_free` body, swallowing a panic (there is no status to report it with).
fn guard_free(body: impl FnOnce()) {
    let _ = catch_unwind(AssertUnwindSafe(body));
}

/// Borrows `len` bytes at `ptr`; `(NULL, 0)` is the empty string.
///
/// # Safety
/// `ptr` is `NULL` or valid for reads of `len` bytes, unmodified while the borrow lives.
#[allow(unsafe_code)]
unsafe fn bytes<'a>(ptr: *const u8, len: usize, what: &str) -> FfiResult<&'a [u8]> {
    if ptr.is_null() {
        return if len == 0 {
            Ok(&[])
        } else {
            Err(Failure::null(what))
        };
    }
    if isize::try_from(len).is_err() {
        return Err(Failure::invalid(format!("{what}: length too large")));
    }
    // SAFETY: `ptr` is non-null, and the caller guarantees it is valid for reads of `len` bytes
    // that stay unmodified while borrowed; `len` fits in `isize` (checked above).
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// Borrows UTF-8 text given as a pointer and a length.
///
/// # Safety
/// As [`bytes`].
#[allow(unsafe_code)]
unsafe fn text<'a>(ptr: *const u8, len: usize, what: &str) -> FfiResult<&'a str> {
    // SAFETY: the caller's guarantee is passed on unchanged.
    let raw = unsafe { bytes(ptr, len, what) }?;
    std::str::from_utf8(raw).map_err(|e| {
        Failure::new(
            ConsentryStatus::InvalidUtf8,
            format!("{what} is not UTF-8: {e}"),
        )
    })
}

/// Borrows a NUL-terminated UTF-8 string.
///
/// # Safety
/// `ptr` is `NULL` or points to a NUL-terminated string, unmodified while borrowed.
#[allow(unsafe_code)]
unsafe fn c_text<'a>(ptr: *const c_char, what: &str) -> FfiResult<&'a str> {
    if ptr.is_null() {
        return Err(Failure::null(what));
    }
    // SAFETY: `ptr` is non-null and the caller guarantees it is NUL-terminated and unmodified
    // while borrowed.
    let raw = unsafe { CStr::from_ptr(ptr) };
    raw.to_str().map_err(|e| {
        Failure::new(
            ConsentryStatus::InvalidUtf8,
            format!("{what} is not UTF-8: {e}"),
        )
    })
}

/// Borrows a handle.
///
/// # Safety
/// `ptr` is `NULL` or a live handle of type `T` made by this library.
#[allow(unsafe_code)]
unsafe fn handle<'a, T>(ptr: *const T, what: &str) -> FfiResult<&'a T> {
    // SAFETY: the caller guarantees `ptr` is NULL or a live handle; `as_ref` maps NULL to None.
    unsafe { ptr.as_ref() }.ok_or_else(|| Failure::null(what))
}

/// An out-pointer checked for `NULL` and reset to `empty` at once.
struct Out<T>(*mut T);

#[allow(unsafe_code)]
impl<T> Out<T> {
    /// # Safety
    /// `ptr` is `NULL` or valid for writes of a `T` for the duration of the call.
    unsafe fn new(ptr: *mut T, what: &str, empty: T) -> FfiResult<Out<T>> {
        if ptr.is_null() {
            return Err(Failure::null(what));
        }
        // SAFETY: non-null, and valid for writes by the caller's guarantee; `write` does not
        // read or drop what was there (which may be uninitialised).
        unsafe { ptr.write(empty) };
        Ok(Out(ptr))
    }

    fn set(self, value: T) {
        // SAFETY: `self.0` was checked non-null and writable when this `Out` was made, within
        // the same call.
        unsafe { self.0.write(value) }
    }
}

/// An out-pointer for a buffer.
///
/// # Safety
/// As [`Out::new`].
#[allow(unsafe_code)]
unsafe fn out_buf(ptr: *mut ConsentryBuf, what: &str) -> FfiResult<Out<ConsentryBuf>> {
    // SAFETY: the caller's guarantee is passed on unchanged.
    unsafe { Out::new(ptr, what, ConsentryBuf::EMPTY) }
}

/// An out-pointer for a handle.
///
/// # Safety
/// As [`Out::new`].
#[allow(unsafe_code)]
unsafe fn out_handle<T>(ptr: *mut *mut T, what: &str) -> FfiResult<Out<*mut T>> {
    // SAFETY: the caller's guarantee is passed on unchanged.
    unsafe { Out::new(ptr, what, std::ptr::null_mut()) }
}

fn to_json<T: serde::Serialize>(value: &T) -> FfiResult<Vec<u8>> {
    serde_json::to_vec(value)
        .map_err(|e| Failure::new(ConsentryStatus::Internal, format!("JSON output: {e}")))
}

fn parse_party(text: &str, what: &str) -> FfiResult<consentry::directory::PartyId> {
    uuid::Uuid::parse_str(text)
        .map(consentry::directory::PartyId)
        .map_err(|e| Failure::invalid(format!("{what} is not a UUID: {e}")))
}

/// A party id given as a NUL-terminated UUID.
///
/// # Safety
/// As [`c_text`].
#[allow(unsafe_code)]
unsafe fn c_party(ptr: *const c_char, what: &str) -> FfiResult<consentry::directory::PartyId> {
    // SAFETY: the caller's guarantee, passed on unchanged.
    parse_party(unsafe { c_text(ptr, what) }?, what)
}

/// A 32-byte Ed25519 public key given as a pointer and a length.
///
/// # Safety
/// As [`bytes`].
#[allow(unsafe_code)]
unsafe fn public_key(ptr: *const u8, len: usize, what: &str) -> FfiResult<VerifyingKey> {
    // SAFETY: the caller's guarantee, passed on unchanged.
    let raw = unsafe { bytes(ptr, len, what) }?;
    let raw: [u8; 32] = raw
        .try_into()
        .map_err(|_| Failure::invalid(format!("{what}: a public key is 32 bytes, got {len}")))?;
    Ok(VerifyingKey::from_bytes(raw))
}

/// The crypto provider of this build named `name` (`NULL` for the default, `ring`). A provider
/// that exists but is not built in is `UNSUPPORTED`; any other name is `INVALID_INPUT`.
///
/// # Safety
/// As [`c_text`].
#[allow(unsafe_code)]
unsafe fn crypto_provider(ptr: *const c_char) -> FfiResult<&'static CryptoProvider> {
    if ptr.is_null() {
        return Ok(&consentry::crypto::RING);
    }
    // SAFETY: the caller's guarantee, passed on unchanged.
    let name = unsafe { c_text(ptr, "crypto") }?;
    consentry::crypto::by_name(name).ok_or_else(|| {
        let built: Vec<&str> = consentry::crypto::providers()
            .iter()
            .map(|p| p.name)
            .collect();
        let status = if KNOWN_PROVIDERS.contains(&name) {
            ConsentryStatus::Unsupported
        } else {
            ConsentryStatus::InvalidInput
        };
        Failure::new(
            status,
            format!(
                "crypto/unknown_provider: no crypto provider {name:?} in this build (it has: {})",
                built.join(", ")
            ),
        )
    })
}

/// Every provider name the library knows, built in or not.
const KNOWN_PROVIDERS: [&str; 2] = ["ring", "aws-lc-rs"];

/// Lower-case hexadecimal.
fn to_hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// Reads hexadecimal (either case).
fn from_hex(text: &str, what: &str) -> FfiResult<Vec<u8>> {
    let bad = || Failure::invalid(format!("{what} is not hexadecimal"));
    if text.len() % 2 != 0 {
        return Err(bad());
    }
    text.as_bytes()
        .chunks_exact(2)
        .map(|pair| {
            std::str::from_utf8(pair)
                .ok()
                .and_then(|p| u8::from_str_radix(p, 16).ok())
                .ok_or_else(bad)
        })
        .collect()
}

/// Draws a fresh random (version 4) UUID from the operating system's source.
fn random_uuid() -> FfiResult<uuid::Uuid> {
    consentry::rand::uuid(&consentry::rand::SystemRandom::new())
        .map_err(|e| Failure::new(ConsentryStatus::Internal, format!("{}: {e}", e.code())))
}

/// The library's version, a static NUL-terminated string (never freed).
#[allow(unsafe_code)]
#[unsafe(no_mangle)]
pub extern "C" fn consentry_version() -> *const c_char {
    const VERSION: &CStr =
        match CStr::from_bytes_with_nul(concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes()) {
            Ok(v) => v,
            Err(_) => c"unknown",
        };
    VERSION.as_ptr()
}

/// The name of a status (`"OK"`, `"DENIED"`…), a static NUL-terminated string (never freed);
/// `"UNKNOWN"` for a value that is not a status.
#[allow(unsafe_code)]
#[unsafe(no_mangle)]
pub extern "C" fn consentry_status_name(status: i32) -> *const c_char {
    ConsentryStatus::ALL
        .into_iter()
        .find(|s| *s as i32 == status)
        .map_or(c"UNKNOWN", ConsentryStatus::name)
        .as_ptr()
}

/// Copies the message of the last failed call on this thread into `*out` (empty if the last
/// call succeeded). Every call except this one, the `_free` functions, [`consentry_version`]
/// and [`consentry_status_name`] clears or replaces the message.
///
/// # Safety
/// `out` is `NULL` or valid for writing a [`ConsentryBuf`].
#[allow(unsafe_code)]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn consentry_last_error(out: *mut ConsentryBuf) -> ConsentryStatus {
    // Not through `guard`, which would clear the message being read.
    let result = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: the caller's guarantee on `out`.
        let out = unsafe { out_buf(out, "out") }?;
        let message = LAST_ERROR.with(|e| e.borrow().clone()).unwrap_or_default();
        out.set(ConsentryBuf::from_vec(message.into_bytes()));
        Ok::<_, Failure>(ConsentryStatus::Ok)
    }));
    match result {
        Ok(Ok(s)) => s,
        Ok(Err(f)) => f.status,
        Err(_) => ConsentryStatus::Panic,
    }
}

/// Frees a buffer the library returned and resets it to `{NULL, 0}`, so that freeing it again
/// does nothing. `NULL` and an empty buffer are accepted and left alone.
///
/// # Safety
/// `buf` is `NULL` or points to a [`ConsentryBuf`] that is empty or was filled by this library
/// and not modified since.
#[allow(unsafe_code)]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn consentry_buf_free(buf: *mut ConsentryBuf) {
    guard_free(|| {
        // SAFETY: `buf` is NULL or valid for reads and writes of a ConsentryBuf (caller).
        let Some(buf) = (unsafe { buf.as_mut() }) else {
            return;
        };
        if !buf.ptr.is_null() && buf.len != 0 {
            let slice = std::ptr::slice_from_raw_parts_mut(buf.ptr, buf.len);
            // SAFETY: a non-empty buffer was made by `ConsentryBuf::from_vec` from a boxed slice
            // of exactly `len` bytes, and has not been freed (it is reset below).
            drop(unsafe { Box::from_raw(slice) });
        }
        *buf = ConsentryBuf::EMPTY;
    });
}

/// SHA-256 of `len` bytes at `data`, as 64 lower-case hexadecimal digits in `*out`: the
/// `basis_digest` a request or statement names is this digest of the basis's exact bytes.
///
/// # Safety
/// `data` is `NULL` (with `len` 0) or valid for reads of `len` bytes; `out` is `NULL` or valid
/// for writing a [`ConsentryBuf`].
#[allow(unsafe_code)]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn consentry_digest_hex(
    data: *const u8,
    len: usize,
    out: *mut ConsentryBuf,
) -> ConsentryStatus {
    guard(|| {
        // SAFETY: the caller's guarantees on `out` and `data`.
        let out = unsafe { out_buf(out, "out") }?;
        // SAFETY: as above.
        let data = unsafe { bytes(data, len, "data") }?;
        out.set(ConsentryBuf::from_vec(
            Digest::of(data).to_hex().into_bytes(),
        ));
        Ok(ConsentryStatus::Ok)
    })
}

// Handles are shared between threads by C callers: they must be Send and Sync.
const _: () = {
    const fn shareable<T: Send + Sync>() {}
    shareable::<ConsentryDirectory>();
    shareable::<ConsentryCeilings>();
    shareable::<ConsentrySigningKey>();
    shareable::<ConsentryLedger>();
    shareable::<ConsentryLog>();
    shareable::<ConsentryDirectoryHistory>();
    shareable::<ConsentryVerifier>();
    shareable::<ConsentryDecision>();
    shareable::<ConsentryInbox>();
};

#[cfg(test)]
#[allow(unsafe_code)]
mod tests;
