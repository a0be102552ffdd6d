//! Handles: directory, ceilings, signing keys, ledger.

use super::{
    ConsentryBuf, ConsentryStatus, Failure, FfiResult, bytes, c_text, crypto_provider, from_json,
    guard, guard_free, handle, out_buf, out_handle, text, to_json,
};
use consentry::ceiling::{Ceilings, PurposeCeiling};
use consentry::directory::{Directory, DirectoryError};
use consentry::ledger::{InMemoryLedger, Ledger};
use consentry::log::LogStore;
use consentry::{KeyError, SigningKey};
use std::ffi::c_char;
use std::sync::Arc;

/// A party directory (opaque). Immutable: may be read from several threads at once.
pub struct ConsentryDirectory(pub(super) Directory);

/// A set of purpose ceilings (opaque). Immutable: may be read from several threads at once.
pub struct ConsentryCeilings(pub(super) Ceilings);

/// An Ed25519 signing key (opaque), held by the crypto provider it was loaded with. May sign
/// from several threads at once.
pub struct ConsentrySigningKey(pub(super) Arc<SigningKey>);

/// A verifier's ledger (opaque): lifecycle states, usage counts, request ids seen, and the
/// transfer log a verifier with receipts keeps in it — in memory ([`consentry_ledger_new`]),
/// or durable in a SQLite file ([`consentry_ledger_open_sqlite`]). Thread-safe: every
/// decision's check-and-record is atomic, so several threads may decide with the same ledger
/// at once.
pub struct ConsentryLedger(pub(super) LedgerKind);

/// The stores a ledger handle may hold.
pub(super) enum LedgerKind {
    Memory(InMemoryLedger),
    #[cfg(feature = "sqlite")]
    Sqlite(consentry::store::sqlite::SqliteStore),
}

impl ConsentryLedger {
    /// The ledger, whatever its store.
    pub(super) fn ledger(&self) -> &(dyn Ledger + 'static) {
        match &self.0 {
            LedgerKind::Memory(l) => l,
            #[cfg(feature = "sqlite")]
            LedgerKind::Sqlite(l) => l,
        }
    }

    /// The ledger with its outbox, whatever its store.
    pub(super) fn notifying(&self) -> &(dyn consentry::notify::NotifyingLedger + 'static) {
        match &self.0 {
            LedgerKind::Memory(l) => l,
            #[cfg(feature = "sqlite")]
            LedgerKind::Sqlite(l) => l,
        }
    }

    /// The ledger, if it is in memory.
    #[cfg_attr(
        not(feature = "sqlite"),
        allow(
            clippy::unnecessary_wraps,
            reason = "every ledger is in memory without the `sqlite` feature"
        )
    )]
    fn memory(&self) -> Option<&InMemoryLedger> {
        match &self.0 {
            LedgerKind::Memory(l) => Some(l),
            #[cfg(feature = "sqlite")]
            LedgerKind::Sqlite(_) => None,
        }
    }

    /// The transfer log it keeps.
    pub(super) fn log(&self) -> &dyn LogStore {
        match &self.0 {
            LedgerKind::Memory(l) => l,
            #[cfg(feature = "sqlite")]
            LedgerKind::Sqlite(l) => l,
        }
    }
}

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

/// Defines derivations in the vocabulary of a ceilings handle, from a JSON array of
/// `Derivation` objects (`{"code", "category", "kind": "bracket" | "below" | "above" |
/// "age_over", "max_bounds"}`, `max_bounds` only, and always, for a bracket): the derivations
/// grants may name for a category (a grant applying one the ceilings do not define goes beyond
/// them), and that a ceiling's `derived_only` accepts. All or none: on any error the handle is
/// left as it was. Defining a code again identically is accepted; otherwise `INVALID_INPUT`
/// with the last error starting with the code (`derivation/redefined`,
/// `derivation/bad_max_bounds`…).
///
/// A ceilings handle is otherwise immutable: call this before sharing it between threads (it
/// must not run while another thread uses the handle).
///
/// # Safety
/// `ceilings` is `NULL` or a live ceilings handle no other thread uses during the call; `json`
/// is `NULL` (with `len` 0) or valid for reads of `len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn consentry_ceilings_define_derivations(
    ceilings: *mut ConsentryCeilings,
    json: *const u8,
    len: usize,
) -> ConsentryStatus {
    guard(|| {
        // SAFETY: the caller's guarantee on `json`.
        let json = unsafe { text(json, len, "json") }?;
        // SAFETY: the caller's guarantee on `ceilings`: NULL or live, used by no other thread;
        // `as_mut` maps NULL to None.
        let ceilings = unsafe { ceilings.as_mut() }.ok_or_else(|| Failure::null("ceilings"))?;
        let list: Vec<consentry::derivation::Derivation> = from_json(json, "derivations")?;
        let mut updated = ceilings.0.clone();
        for d in list {
            updated
                .define(d)
                .map_err(|e| Failure::invalid(format!("{}: {e}", e.code())))?;
        }
        ceilings.0 = updated;
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
        out.set(Box::into_raw(Box::new(ConsentrySigningKey(Arc::new(key)))));
        Ok(ConsentryStatus::Ok)
    })
}

/// As [`consentry_signing_key_from_pkcs8`], with the key held by the crypto provider named
/// `crypto` (`"ring"`, or `"aws-lc-rs"` in a build with that feature; `NULL` for the default,
/// ring): every signature it makes is made by that provider. A provider not built in is
/// `UNSUPPORTED`, an unknown name `INVALID_INPUT`. Ed25519 is deterministic: every provider
/// makes the same signatures.
///
/// # Safety
/// `crypto` is `NULL` or a NUL-terminated string; the rest as
/// [`consentry_signing_key_from_pkcs8`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn consentry_signing_key_from_pkcs8_with(
    crypto: *const c_char,
    pkcs8: *const u8,
    len: usize,
    out: *mut *mut ConsentrySigningKey,
) -> ConsentryStatus {
    guard(|| {
        // SAFETY: the caller's guarantees on `out`, `crypto` and `pkcs8`.
        let out = unsafe { out_handle(out, "out") }?;
        // SAFETY: as above.
        let provider = unsafe { crypto_provider(crypto) }?;
        // SAFETY: as above.
        let doc = unsafe { bytes(pkcs8, len, "pkcs8") }?;
        let key = SigningKey::from_pkcs8_with(provider, doc)
            .map_err(|e| Failure::invalid(e.to_string()))?;
        out.set(Box::into_raw(Box::new(ConsentrySigningKey(Arc::new(key)))));
        Ok(ConsentryStatus::Ok)
    })
}

/// As [`consentry_signing_key_from_seed`], with the key held by the crypto provider named
/// `crypto` (see [`consentry_signing_key_from_pkcs8_with`]).
///
/// # Safety
/// `crypto` is `NULL` or a NUL-terminated string; the rest as
/// [`consentry_signing_key_from_seed`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn consentry_signing_key_from_seed_with(
    crypto: *const c_char,
    seed: *const u8,
    len: usize,
    out: *mut *mut ConsentrySigningKey,
) -> ConsentryStatus {
    guard(|| {
        // SAFETY: the caller's guarantees on `out`, `crypto` and `seed`.
        let out = unsafe { out_handle(out, "out") }?;
        // SAFETY: as above.
        let provider = unsafe { crypto_provider(crypto) }?;
        // SAFETY: as above.
        let seed = unsafe { bytes(seed, len, "seed") }?;
        let seed: &[u8; 32] = seed
            .try_into()
            .map_err(|_| Failure::invalid(format!("a seed is 32 bytes, got {len}")))?;
        let key = SigningKey::from_seed_with(provider, seed)
            .map_err(|e| Failure::invalid(e.to_string()))?;
        out.set(Box::into_raw(Box::new(ConsentrySigningKey(Arc::new(key)))));
        Ok(ConsentryStatus::Ok)
    })
}

/// Writes the names of the crypto providers of this build into `*out`, as a JSON array of
/// strings, the default first (`["ring"]`, or `["ring","aws-lc-rs"]` in a build with the
/// `aws-lc-rs` feature): the names `crypto` arguments accept.
///
/// # Safety
/// `out` is `NULL` or valid for writing a [`ConsentryBuf`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn consentry_crypto_providers(out: *mut ConsentryBuf) -> ConsentryStatus {
    guard(|| {
        // SAFETY: the caller's guarantee on `out`.
        let out = unsafe { out_buf(out, "out") }?;
        let names: Vec<&str> = consentry::crypto::providers()
            .iter()
            .map(|p| p.name)
            .collect();
        out.set(ConsentryBuf::from_vec(to_json(&names)?));
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
        out.set(Box::into_raw(Box::new(ConsentrySigningKey(Arc::new(
            SigningKey::from_seed(seed),
        )))));
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
            LedgerKind::Memory(InMemoryLedger::new()),
        ))));
        Ok(ConsentryStatus::Ok)
    })
}

/// Opens (creating it if needed) the durable ledger and transfer log in the SQLite file at
/// `path` (a NUL-terminated UTF-8 path) into a new handle in `*out`: one file per gateway node,
/// in WAL mode with full synchronisation. Opened again later, it holds the same state: lifecycle
/// statements, usage counts, request ids seen, and the log with its latest signed head. On
/// opening, the stored log is checked against its leaf hashes and its latest signed head.
///
/// Returns `STORAGE` if the file cannot be opened or holds a store that fails a check (the
/// last error starts with `store/ledger`, `store/log` or `store/schema_too_new`), and
/// `UNSUPPORTED` in a build without the `sqlite` feature.
///
/// # Safety
/// `path` is `NULL` or a NUL-terminated string; `out` is `NULL` or valid for writing a
/// pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn consentry_ledger_open_sqlite(
    path: *const c_char,
    out: *mut *mut ConsentryLedger,
) -> ConsentryStatus {
    guard(|| {
        // SAFETY: the caller's guarantees on `out` and `path`.
        let out = unsafe { out_handle(out, "out") }?;
        // SAFETY: as above.
        let path = unsafe { c_text(path, "path") }?;
        let ledger = open_sqlite(path)?;
        out.set(Box::into_raw(Box::new(ledger)));
        Ok(ConsentryStatus::Ok)
    })
}

#[cfg(feature = "sqlite")]
fn open_sqlite(path: &str) -> FfiResult<ConsentryLedger> {
    if path.is_empty() {
        return Err(Failure::invalid("path is empty"));
    }
    consentry::store::sqlite::SqliteStore::open(path)
        .map(|s| ConsentryLedger(LedgerKind::Sqlite(s)))
        .map_err(|e| Failure::new(ConsentryStatus::Storage, format!("{}: {e}", e.code())))
}

#[cfg(not(feature = "sqlite"))]
fn open_sqlite(_path: &str) -> FfiResult<ConsentryLedger> {
    Err(Failure::new(
        ConsentryStatus::Unsupported,
        "this build has no SQLite store: build consentry-ffi with the `sqlite` feature",
    ))
}

/// Removes the decisions the ledger kept since the last call and writes them into `*out` as a
/// JSON array of `{"request_digest", "request", "basis", "subject", "allowed", "reasons", "at"}`
/// (for the transfer log; ids and subject `null` unless they come from verified objects; the
/// schema is `docs/schemas/decision-history.schema.json`). `UNSUPPORTED` for a SQLite ledger,
/// which keeps no such list.
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
        let Some(memory) = ledger.memory() else {
            return Err(Failure::new(
                ConsentryStatus::Unsupported,
                "only an in-memory ledger keeps a list of decisions: a SQLite ledger logs them \
                 (with a verifier that has receipts), read its log",
            ));
        };
        let json: FfiResult<Vec<u8>> = to_json(&memory.take_decisions());
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
