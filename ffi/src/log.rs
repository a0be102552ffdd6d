//! The RFC 9162 Merkle tree of the transfer log.

use super::{
    ConsentryBuf, ConsentryStatus, Failure, FfiResult, Out, bytes, guard, guard_free, handle,
    out_buf, out_handle,
};
use consentry::Digest;
use consentry::log::{MerkleTree, ProofError, leaf_hash, verify_consistency, verify_inclusion};
use std::sync::{Mutex, MutexGuard, PoisonError};

/// An append-only RFC 9162 Merkle tree (opaque). Thread-safe: appends and reads are serialised
/// by an internal lock.
pub struct ConsentryLog(Mutex<MerkleTree>);

impl ConsentryLog {
    fn tree(&self) -> MutexGuard<'_, MerkleTree> {
        // Every operation on the tree either completes or panics before changing it, so a
        // poisoned lock holds a consistent tree.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
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
    Failure::new(status, e.to_string())
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

fn one_hash(raw: &[u8], what: &str) -> FfiResult<Digest> {
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
            MerkleTree::new(),
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
/// `*out_index`, which may be `NULL` if the index is not wanted.
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
        let index = log.tree().append(entry);
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
