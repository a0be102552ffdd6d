//! Handles: directory, ceilings, signing keys, ledger.

use super::{
    ConsentryBuf, ConsentryStatus, Failure, FfiResult, bytes, from_json, guard, guard_free, handle,
    out_buf, out_handle, text, to_json,
};
use consentry::ceiling::{Ceilings, PurposeCeiling};
use consentry::directory::{Directory, DirectoryError};
use consentry::ledger::InMemoryLedger;
use consentry::{KeyError, SigningKey};

/// A party directory (opaque). Immutable: may be read from several threads at once.
pub struct ConsentryDirectory(pub(super) Directory);

/// A set of purpose ceilings (opaque). Immutable: may be read from several threads at once.
pub struct ConsentryCeilings(pub(super) Ceilings);

/// An Ed25519 signing key (opaque). May sign from several threads at once.
pub struct ConsentrySigningKey(pub(super) SigningKey);

/// A verifier's ledger in memory (opaque): lifecycle states, usage counts, request ids seen and
/// decisions made. Thread-safe: one internal lock makes every decision's check-and-record
/// atomic, so several threads may decide with the same ledger at once.
pub struct ConsentryLedger(pub(super) InMemoryLedger);

/// Frees a handle made by `Box::into_raw`.
///
/// # Safety
/// `ptr` is `NULL` or a live handle of type `T` made by this library, not used afterwards.
unsafe fn free<T>(ptr: *mut T) {
    guard_free(|| {
        if !ptr.is_null() {
            // SAFETY: a non-null `ptr` came from `Box::into_raw` in this module and is freed
            // only once (the caller's guarantee).
            drop(unsafe { Box::from_raw(ptr) });
        }
    });
}

#[allow(
    clippy::needless_pass_by_value,
    reason = "a `map_err` adapter: it takes the error as `map_err` hands it over"
)]
fn directory_failure(e: DirectoryError) -> Failure {
    Failure::invalid(format!("directory: {e}"))
}

/// Reads a directory from its JSON form (`DirectoryJson`: version, parties with roles and keys,
/// representations) into a new handle in `*out`.
///
/// # Safety
/// `json` is `NULL` (with `len` 0) or valid for reads of `len` bytes; `out` is `NULL` or valid
/// for writing a pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn consentry_directory_from_json(
    json: *const u8,
    len: usize,
    out: *mut *mut ConsentryDirectory,
) -> ConsentryStatus {
    guard(|| {
        // SAFETY: the caller's guarantees on `out` and `json`.
        let out = unsafe { out_handle(out, "out") }?;
        // SAFETY: as above.
        let json = unsafe { text(json, len, "json") }?;
        let dir = Directory::from_json(json).map_err(|e| {
            // Tell syntax errors from content errors, as the other JSON inputs do.
            match serde_json::from_str::<serde::de::IgnoredAny>(json) {
                Err(syntax) if matches!(e, DirectoryError::Malformed(_)) => {
                    Failure::json("directory", &syntax)
                }
                _ => directory_failure(e),
            }
        })?;
        out.set(Box::into_raw(Box::new(ConsentryDirectory(dir))));
        Ok(ConsentryStatus::Ok)
    })
}

/// Reads a directory from its strict deterministic CBOR form into a new handle in `*out`.
///
/// # Safety
/// `cbor` is `NULL` (with `len` 0) or valid for reads of `len` bytes; `out` is `NULL` or valid
/// for writing a pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn consentry_directory_from_cbor(
    cbor: *const u8,
    len: usize,
    out: *mut *mut ConsentryDirectory,
) -> ConsentryStatus {
    guard(|| {
        // SAFETY: the caller's guarantees on `out` and `cbor`.
        let out = unsafe { out_handle(out, "out") }?;
        // SAFETY: as above.
        let cbor = unsafe { bytes(cbor, len, "cbor") }?;
        let dir = Directory::from_cbor(cbor).map_err(directory_failure)?;
        out.set(Box::into_raw(Box::new(ConsentryDirectory(dir))));
        Ok(ConsentryStatus::Ok)
    })
}

/// Writes the directory's JSON form into `*out`.
///
/// # Safety
/// `directory` is `NULL` or a live directory handle; `out` is `NULL` or valid for writing a
/// [`ConsentryBuf`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn consentry_directory_to_json(
    directory: *const ConsentryDirectory,
    out: *mut ConsentryBuf,
) -> ConsentryStatus {
    guard(|| {
        // SAFETY: the caller's guarantees on `out` and `directory`.
        let out = unsafe { out_buf(out, "out") }?;
        // SAFETY: as above.
        let dir = unsafe { handle(directory, "directory") }?;
        out.set(ConsentryBuf::from_vec(dir.0.to_json().into_bytes()));
        Ok(ConsentryStatus::Ok)
    })
}

/// Writes the directory's CBOR form into `*out`.
///
/// # Safety
/// `directory` is `NULL` or a live directory handle; `out` is `NULL` or valid for writing a
/// [`ConsentryBuf`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn consentry_directory_to_cbor(
    directory: *const ConsentryDirectory,
    out: *mut ConsentryBuf,
) -> ConsentryStatus {
    guard(|| {
        // SAFETY: the caller's guarantees on `out` and `directory`.
        let out = unsafe { out_buf(out, "out") }?;
        // SAFETY: as above.
        let dir = unsafe { handle(directory, "directory") }?;
        out.set(ConsentryBuf::from_vec(dir.0.to_cbor()));
        Ok(ConsentryStatus::Ok)
    })
}

/// Frees a directory handle. `NULL` is accepted and ignored.
///
/// # Safety
/// `directory` is `NULL` or a live directory handle, not used afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn consentry_directory_free(directory: *mut ConsentryDirectory) {
    // SAFETY: the caller's guarantee.
    unsafe { free(directory) }
}

/// Reads purpose ceilings from a JSON array of `PurposeCeiling` objects (publisher, purpose,
/// categories, max_validity_secs, max_access, max_retention_secs, max_data_range_secs) into a
/// new handle in `*out`. Two ceilings for the same publisher and purpose are refused.
///
/// # Safety
/// `json` is `NULL` (with `len` 0) or valid for reads of `len` bytes; `out` is `NULL` or valid
/// for writing a pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn consentry_ceilings_from_json(
    json: *const u8,
    len: usize,
    out: *mut *mut ConsentryCeilings,
) -> ConsentryStatus {
    guard(|| {
        // SAFETY: the caller's guarantees on `out` and `json`.
        let out = unsafe { out_handle(out, "out") }?;
        // SAFETY: as above.
        let json = unsafe { text(json, len, "json") }?;
        let list: Vec<PurposeCeiling> = from_json(json, "ceilings")?;
        let mut ceilings = Ceilings::new();
        for c in list {
            if ceilings.get(&c.publisher, c.purpose.code()).is_some() {
                return Err(Failure::invalid(format!(
                    "ceilings: two ceilings of {} for purpose {}",
                    c.publisher,
                    c.purpose.code()
                )));
            }
            ceilings.publish(c);
        }
        out.set(Box::into_raw(Box::new(ConsentryCeilings(ceilings))));
        Ok(ConsentryStatus::Ok)
    })
}

/// Frees a ceilings handle. `NULL` is accepted and ignored.
///
/// # Safety
/// `ceilings` is `NULL` or a live ceilings handle, not used afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn consentry_ceilings_free(ceilings: *mut ConsentryCeilings) {
    // SAFETY: the caller's guarantee.
    unsafe { free(ceilings) }
}

/// Loads an Ed25519 signing key from a PKCS#8 (v1 or v2) document into a new handle in `*out`.
///
/// # Safety
/// `pkcs8` is `NULL` (with `len` 0) or valid for reads of `len` bytes; `out` is `NULL` or valid
/// for writing a pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn consentry_signing_key_from_pkcs8(
    pkcs8: *const u8,
    len: usize,
    out: *mut *mut ConsentrySigningKey,
) -> ConsentryStatus {
    guard(|| {
        // SAFETY: the caller's guarantees on `out` and `pkcs8`.
        let out = unsafe { out_handle(out, "out") }?;
        // SAFETY: as above.
        let doc = unsafe { bytes(pkcs8, len, "pkcs8") }?;
        let key = SigningKey::from_pkcs8(doc).map_err(|e| Failure::invalid(e.to_string()))?;
        out.set(Box::into_raw(Box::new(ConsentrySigningKey(key))));
        Ok(ConsentryStatus::Ok)
    })
}

/// Derives an Ed25519 signing key from a 32-byte seed (the RFC 8032 private key) into a new
/// handle in `*out`. For tests and published vectors; services load PKCS#8 keys.
///
/// # Safety
/// `seed` is `NULL` (with `len` 0) or valid for reads of `len` bytes; `out` is `NULL` or valid
/// for writing a pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn consentry_signing_key_from_seed(
    seed: *const u8,
    len: usize,
    out: *mut *mut ConsentrySigningKey,
) -> ConsentryStatus {
    guard(|| {
        // SAFETY: the caller's guarantees on `out` and `seed`.
        let out = unsafe { out_handle(out, "out") }?;
        // SAFETY: as above.
        let seed = unsafe { bytes(seed, len, "seed") }?;
        let seed: &[u8; 32] = seed
            .try_into()
            .map_err(|_| Failure::invalid(format!("a seed is 32 bytes, got {len}")))?;
        out.set(Box::into_raw(Box::new(ConsentrySigningKey(
            SigningKey::from_seed(seed),
        ))));
        Ok(ConsentryStatus::Ok)
    })
}

/// Generates a new signing key with the operating system's random source and writes its
/// PKCS#8 v2 document (secret: store it as such) into `*out`.
///
/// # Safety
/// `out` is `NULL` or valid for writing a [`ConsentryBuf`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn consentry_signing_key_generate(out: *mut ConsentryBuf) -> ConsentryStatus {
    guard(|| {
        // SAFETY: the caller's guarantee on `out`.
        let out = unsafe { out_buf(out, "out") }?;
        let doc = SigningKey::generate(&ring::rand::SystemRandom::new()).map_err(|e| match e {
            KeyError::Randomness => Failure::new(ConsentryStatus::Internal, e.to_string()),
            _ => Failure::invalid(e.to_string()),
        })?;
        out.set(ConsentryBuf::from_vec(doc));
        Ok(ConsentryStatus::Ok)
    })
}

/// Writes the key's 32-byte Ed25519 public key into `*out` (to list in a directory, or to
/// verify with another COSE library).
///
/// # Safety
/// `key` is `NULL` or a live signing-key handle; `out` is `NULL` or valid for writing a
/// [`ConsentryBuf`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn consentry_signing_key_public_key(
    key: *const ConsentrySigningKey,
    out: *mut ConsentryBuf,
) -> ConsentryStatus {
    guard(|| {
        // SAFETY: the caller's guarantees on `out` and `key`.
        let out = unsafe { out_buf(out, "out") }?;
        // SAFETY: as above.
        let key = unsafe { handle(key, "key") }?;
        out.set(ConsentryBuf::from_vec(
            key.0.verifying_key().as_bytes().to_vec(),
        ));
        Ok(ConsentryStatus::Ok)
    })
}

/// Frees a signing-key handle. `NULL` is accepted and ignored.
///
/// # Safety
/// `key` is `NULL` or a live signing-key handle, not used afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn consentry_signing_key_free(key: *mut ConsentrySigningKey) {
    // SAFETY: the caller's guarantee.
    unsafe { free(key) }
}

/// Creates an empty in-memory ledger in `*out`. The ledger is thread-safe.
///
/// # Safety
/// `out` is `NULL` or valid for writing a pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn consentry_ledger_new(out: *mut *mut ConsentryLedger) -> ConsentryStatus {
    guard(|| {
        // SAFETY: the caller's guarantee on `out`.
        let out = unsafe { out_handle(out, "out") }?;
        out.set(Box::into_raw(Box::new(ConsentryLedger(
            InMemoryLedger::new(),
        ))));
        Ok(ConsentryStatus::Ok)
    })
}

/// Removes the decisions the ledger kept since the last call and writes them into `*out` as a
/// JSON array of `{"request_digest", "request", "basis", "subject", "allowed", "reasons", "at"}`
/// (for the transfer log; ids and subject `null` unless they come from verified objects; the
/// schema is `docs/schemas/decision-history.schema.json`).
///
/// # Safety
/// `ledger` is `NULL` or a live ledger handle; `out` is `NULL` or valid for writing a
/// [`ConsentryBuf`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn consentry_ledger_take_decisions(
    ledger: *const ConsentryLedger,
    out: *mut ConsentryBuf,
) -> ConsentryStatus {
    guard(|| {
        // SAFETY: the caller's guarantees on `out` and `ledger`.
        let out = unsafe { out_buf(out, "out") }?;
        // SAFETY: as above.
        let ledger = unsafe { handle(ledger, "ledger") }?;
        let json: FfiResult<Vec<u8>> = to_json(&ledger.0.take_decisions());
        out.set(ConsentryBuf::from_vec(json?));
        Ok(ConsentryStatus::Ok)
    })
}

/// Frees a ledger handle. `NULL` is accepted and ignored.
///
/// # Safety
/// `ledger` is `NULL` or a live ledger handle, not used afterwards (by any thread).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn consentry_ledger_free(ledger: *mut ConsentryLedger) {
    // SAFETY: the caller's guarantee.
    unsafe { free(ledger) }
}
