//! A provider's verifier as a service runs it: a crypto provider chosen by name, receipts
//! signed and logged, the decision kept as a handle to issue its receipt or its denial entry.

use super::decide::{VerifierArgs, statement_outcome};
use super::handles::{ConsentryCeilings, ConsentryDirectory, ConsentryLedger, ConsentrySigningKey};
use super::{
    ConsentryBuf, ConsentryStatus, Failure, FfiResult, Out, bytes, c_party, c_text,
    crypto_provider, guard, guard_free, handle, out_buf, out_handle, random_uuid, set_last_error,
    to_json,
};
use consentry::crypto::CryptoProvider;
use consentry::decision::{Basis, Decision, Receipts};
use consentry::directory::PartyId;
use consentry::log::{Denial, LogEntry, Receipt};
use consentry::signed::SignedPayload;
use consentry::{SigningKey, Timestamp};
use std::ffi::c_char;
use std::sync::Arc;

/// A provider's verifier settings (opaque): whose verifier it is, the crypto provider that
/// checks signatures, and the key that signs receipts, if any. Immutable: may be used from
/// several threads at once.
pub struct ConsentryVerifier {
    provider: PartyId,
    crypto: &'static CryptoProvider,
    receipt_key: Option<Arc<SigningKey>>,
}

impl ConsentryVerifier {
    /// Whose verifier it is.
    pub(super) fn provider(&self) -> PartyId {
        self.provider
    }

    /// The crypto provider that checks signatures.
    pub(super) fn crypto(&self) -> &'static CryptoProvider {
        self.crypto
    }

    /// The key that signs receipts, if any.
    pub(super) fn receipt_key(&self) -> Option<&SigningKey> {
        self.receipt_key.as_deref()
    }
}

/// A decision (opaque), as [`consentry_verifier_decide`] made it: an *allow* with its
/// authorization, or a *deny* with its reasons. Immutable: may be read from several threads.
pub struct ConsentryDecision(Decision);

/// Creates the verifier of `provider` (a party id, the UUID as a NUL-terminated string) into
/// `*out`, checking signatures with the crypto provider named `crypto` (`NULL` for the
/// default, `"ring"`; see [`consentry_crypto_providers`](super::consentry_crypto_providers)).
///
/// With a `receipt_key` (the provider's own key, listed under it in the directory), every
/// *allow* gets a receipt signed with it and a fresh random id, and the ledger's transfer log
/// receives the receipt, every denial and every applied statement, each in the transaction that
/// records it: the log a subject's history is later drawn from. With `NULL`, nothing is logged
/// (as [`consentry_decide`](super::consentry_decide)). The key is shared, not copied: it may be
/// freed before the verifier.
///
/// Returns `UNSUPPORTED` for a crypto provider not built in, `INVALID_INPUT` for an unknown
/// name or a provider that is not a UUID.
///
/// # Safety
/// `provider` is `NULL` or a NUL-terminated string; `crypto` is `NULL` or a NUL-terminated
/// string; `receipt_key` is `NULL` or a live signing-key handle; `out` is `NULL` or valid for
/// writing a pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn consentry_verifier_new(
    provider: *const c_char,
    crypto: *const c_char,
    receipt_key: *const ConsentrySigningKey,
    out: *mut *mut ConsentryVerifier,
) -> ConsentryStatus {
    guard(|| {
        // SAFETY: the caller's guarantees on every argument.
        let out = unsafe { out_handle(out, "out") }?;
        // SAFETY: as above.
        let provider = unsafe { c_party(provider, "provider") }?;
        // SAFETY: as above.
        let crypto = unsafe { crypto_provider(crypto) }?;
        // SAFETY: as above; `as_ref` maps NULL to None.
        let receipt_key = unsafe { receipt_key.as_ref() }.map(|k| Arc::clone(&k.0));
        out.set(Box::into_raw(Box::new(ConsentryVerifier {
            provider,
            crypto,
            receipt_key,
        })));
        Ok(ConsentryStatus::Ok)
    })
}

/// Frees a verifier handle. `NULL` is accepted and ignored.
///
/// # Safety
/// `verifier` is `NULL` or a live verifier handle, not used afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn consentry_verifier_free(verifier: *mut ConsentryVerifier) {
    // SAFETY: the caller's guarantee.
    unsafe { free(verifier) }
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

/// Decides as [`consentry_decide`](super::consentry_decide) does, with this verifier's crypto
/// provider and receipts, on `ledger` (in memory or SQLite). Writes the decision JSON into
/// `*out` in both cases (an allow with receipts also has `"receipt"`: the signed receipt in
/// hexadecimal) and, if `out_decision` is not `NULL`, a new decision handle into
/// `*out_decision` (freed with [`consentry_decision_free`]), from which the receipt or the
/// denial's log entry can be had. Returns `OK` (allowed) or `DENIED`; `INTERNAL` if the
/// operating system's random source failed to give a receipt id (nothing was recorded).
///
/// # Safety
/// `verifier`, `directory`, `ceilings` and `ledger` are `NULL` or live handles; `request` and
/// `basis` are `NULL` (with length 0) or valid for reads of their lengths; `out` is `NULL` or
/// valid for writing a [`ConsentryBuf`]; `out_decision` is `NULL` or valid for writing a
/// pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn consentry_verifier_decide(
    verifier: *const ConsentryVerifier,
    directory: *const ConsentryDirectory,
    ceilings: *const ConsentryCeilings,
    ledger: *const ConsentryLedger,
    request: *const u8,
    request_len: usize,
    basis: *const u8,
    basis_len: usize,
    now: u64,
    out: *mut ConsentryBuf,
    out_decision: *mut *mut ConsentryDecision,
) -> ConsentryStatus {
    guard(|| {
        // SAFETY: the caller's guarantee on `out`.
        let out = unsafe { out_buf(out, "out") }?;
        let out_decision: Option<Out<*mut ConsentryDecision>> = if out_decision.is_null() {
            None
        } else {
            // SAFETY: non-null, and valid for writing a pointer (the caller's guarantee).
            Some(unsafe { out_handle(out_decision, "out_decision") }?)
        };
        // SAFETY: the caller's guarantees on the handles.
        let v = unsafe { handle(verifier, "verifier") }?;
        // SAFETY: as above.
        let args = unsafe { VerifierArgs::new(directory, ceilings, ledger) }?;
        // SAFETY: the caller's guarantee on `request`.
        let request = unsafe { bytes(request, request_len, "request") }?;
        // SAFETY: the caller's guarantee on `basis`.
        let basis = unsafe { bytes(basis, basis_len, "basis") }?;
        // The verifier draws at most one receipt id per decision: drawn here, so that a failing
        // random source stops the call before anything is recorded.
        let id = match v.receipt_key {
            Some(_) => Some(random_uuid()?),
            None => None,
        };
        let ids = move || id.unwrap_or_default();
        let mut verifier = args.verifier(v.provider).with_provider(v.crypto);
        if let Some(key) = &v.receipt_key {
            verifier = verifier.with_receipts(Receipts {
                key: key.as_ref(),
                ids: &ids,
            });
        }
        let decision = verifier.decide(request, Basis::Signed(basis), Timestamp::from_secs(now));
        let mut doc = serde_json::to_value(&decision)
            .map_err(|e| Failure::new(ConsentryStatus::Internal, format!("JSON output: {e}")))?;
        if let (Some(receipt), Some(map)) = (
            decision.allowed().and_then(|a| a.receipt()),
            doc.as_object_mut(),
        ) {
            map.insert("receipt".into(), super::to_hex(receipt).into());
        }
        out.set(ConsentryBuf::from_vec(to_json(&doc)?));
        let status = if decision.is_allow() {
            ConsentryStatus::Ok
        } else {
            set_last_error(format!("denied: {}", decision.codes().join(", ")));
            ConsentryStatus::Denied
        };
        if let Some(o) = out_decision {
            o.set(Box::into_raw(Box::new(ConsentryDecision(decision))));
        }
        Ok(status)
    })
}

/// Applies a lifecycle statement as [`consentry_apply_statement`](super::consentry_apply_statement)
/// does, with this verifier's crypto provider; with receipts, the applied statement is logged
/// in the ledger's transfer log. Returns `OK` or `REFUSED`, the outcome JSON written in both
/// cases.
///
/// # Safety
/// As [`consentry_verifier_decide`], with `statement` in place of `request` and no
/// `out_decision`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn consentry_verifier_apply_statement(
    verifier: *const ConsentryVerifier,
    directory: *const ConsentryDirectory,
    ceilings: *const ConsentryCeilings,
    ledger: *const ConsentryLedger,
    statement: *const u8,
    statement_len: usize,
    basis: *const u8,
    basis_len: usize,
    now: u64,
    out: *mut ConsentryBuf,
) -> ConsentryStatus {
    guard(|| {
        // SAFETY: the caller's guarantee on `out`.
        let out = unsafe { out_buf(out, "out") }?;
        // SAFETY: the caller's guarantees on the handles.
        let v = unsafe { handle(verifier, "verifier") }?;
        // SAFETY: as above.
        let args = unsafe { VerifierArgs::new(directory, ceilings, ledger) }?;
        // SAFETY: the caller's guarantee on `statement`.
        let statement = unsafe { bytes(statement, statement_len, "statement") }?;
        // SAFETY: the caller's guarantee on `basis`.
        let basis = unsafe { bytes(basis, basis_len, "basis") }?;
        // Statements draw no receipt id.
        let ids = uuid::Uuid::default;
        let mut verifier = args.verifier(v.provider).with_provider(v.crypto);
        if let Some(key) = &v.receipt_key {
            verifier = verifier.with_receipts(Receipts {
                key: key.as_ref(),
                ids: &ids,
            });
        }
        let outcome =
            verifier.apply_statement(statement, Basis::Signed(basis), Timestamp::from_secs(now));
        let (doc, status) = statement_outcome(outcome);
        out.set(ConsentryBuf::from_vec(to_json(&doc)?));
        Ok(status)
    })
}

/// Writes the decision's JSON (as [`consentry_verifier_decide`] wrote it, without `"receipt"`)
/// into `*out`.
///
/// # Safety
/// `decision` is `NULL` or a live decision handle; `out` is `NULL` or valid for writing a
/// [`ConsentryBuf`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn consentry_decision_to_json(
    decision: *const ConsentryDecision,
    out: *mut ConsentryBuf,
) -> ConsentryStatus {
    guard(|| {
        // SAFETY: the caller's guarantees on `out` and `decision`.
        let out = unsafe { out_buf(out, "out") }?;
        // SAFETY: as above.
        let d = unsafe { handle(decision, "decision") }?;
        out.set(ConsentryBuf::from_vec(to_json(&d.0)?));
        Ok(ConsentryStatus::Ok)
    })
}

/// Writes the receipt the verifier signed and logged for this *allow* (COSE_Sign1 bytes) into
/// `*out`: what the provider hands the consumer with the data. `INVALID_INPUT` for a *deny*, or
/// an allow by a verifier without receipts (issue one with [`consentry_receipt_issue`]).
///
/// # Safety
/// As [`consentry_decision_to_json`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn consentry_decision_receipt(
    decision: *const ConsentryDecision,
    out: *mut ConsentryBuf,
) -> ConsentryStatus {
    guard(|| {
        // SAFETY: the caller's guarantees on `out` and `decision`.
        let out = unsafe { out_buf(out, "out") }?;
        // SAFETY: as above.
        let d = unsafe { handle(decision, "decision") }?;
        let auth = allowed(&d.0)?;
        let receipt = auth.receipt().ok_or_else(|| {
            Failure::invalid(
                "this allow carries no receipt: its verifier had no receipt key (issue one with \
                 consentry_receipt_issue)",
            )
        })?;
        out.set(ConsentryBuf::from_vec(receipt.to_vec()));
        Ok(ConsentryStatus::Ok)
    })
}

fn allowed(d: &Decision) -> FfiResult<&consentry::Authorization> {
    d.allowed()
        .ok_or_else(|| Failure::invalid("the decision is a deny: there is no receipt for it"))
}

/// Issues the receipt of the transfer an *allow* permits, signed with `key` (the provider's),
/// with the id `receipt_id` (a NUL-terminated UUID; `NULL` for a fresh random one) and issue
/// time `at`, and writes its COSE_Sign1 bytes into `*out`. Everything in it is copied from the
/// authorization: it states exactly what the verifier allowed. For a service that keeps its
/// log itself; a verifier with a receipt key issues and logs receipts on its own.
///
/// Returns `INVALID_INPUT` for a *deny* or a receipt id that is not a UUID, `INTERNAL` if the
/// random source failed.
///
/// # Safety
/// `decision` and `key` are `NULL` or live handles; `receipt_id` is `NULL` or a NUL-terminated
/// string; `out` is `NULL` or valid for writing a [`ConsentryBuf`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn consentry_receipt_issue(
    decision: *const ConsentryDecision,
    key: *const ConsentrySigningKey,
    receipt_id: *const c_char,
    at: u64,
    out: *mut ConsentryBuf,
) -> ConsentryStatus {
    guard(|| {
        // SAFETY: the caller's guarantees on every argument.
        let out = unsafe { out_buf(out, "out") }?;
        // SAFETY: as above.
        let d = unsafe { handle(decision, "decision") }?;
        // SAFETY: as above.
        let key = unsafe { handle(key, "key") }?;
        let id = if receipt_id.is_null() {
            random_uuid()?
        } else {
            // SAFETY: as above.
            let text = unsafe { c_text(receipt_id, "receipt_id") }?;
            uuid::Uuid::parse_str(text)
                .map_err(|e| Failure::invalid(format!("receipt_id is not a UUID: {e}")))?
        };
        let auth = allowed(&d.0)?;
        let receipt = Receipt::for_authorization(auth, id, Timestamp::from_secs(at));
        out.set(ConsentryBuf::from_vec(receipt.sign(&key.0)));
        Ok(ConsentryStatus::Ok)
    })
}

/// Writes the transfer log's entry for a *deny* into `*out`: the request's hash and ids, the
/// subject the verifier took from verified objects (never from an unauthenticated request), the
/// distinct reason codes and the time, as `Denial::for_decision` makes it. Append it with
/// [`consentry_log_append_entry`](super::consentry_log_append_entry). `INVALID_INPUT` for an
/// *allow* (its entry is its receipt's: [`consentry_log_entry_receipt`]).
///
/// # Safety
/// As [`consentry_decision_to_json`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn consentry_decision_denial_entry(
    decision: *const ConsentryDecision,
    out: *mut ConsentryBuf,
) -> ConsentryStatus {
    guard(|| {
        // SAFETY: the caller's guarantees on `out` and `decision`.
        let out = unsafe { out_buf(out, "out") }?;
        // SAFETY: as above.
        let d = unsafe { handle(decision, "decision") }?;
        let denial = Denial::for_decision(&d.0).ok_or_else(|| {
            Failure::invalid("the decision is an allow: its log entry is its receipt's")
        })?;
        out.set(ConsentryBuf::from_vec(LogEntry::Denial(denial).to_bytes()));
        Ok(ConsentryStatus::Ok)
    })
}

/// Frees a decision handle. `NULL` is accepted and ignored.
///
/// # Safety
/// `decision` is `NULL` or a live decision handle, not used afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn consentry_decision_free(decision: *mut ConsentryDecision) {
    // SAFETY: the caller's guarantee.
    unsafe { free(decision) }
}

/// Writes the log entry of a signed receipt (its exact bytes, read strictly; the signature is
/// not checked) into `*out`. `INVALID_INPUT` (`log/malformed_object`) if the bytes are not a
/// well-formed receipt.
///
/// # Safety
/// `receipt` is `NULL` (with `len` 0) or valid for reads of `len` bytes; `out` is `NULL` or
/// valid for writing a [`ConsentryBuf`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn consentry_log_entry_receipt(
    receipt: *const u8,
    len: usize,
    out: *mut ConsentryBuf,
) -> ConsentryStatus {
    guard(|| {
        // SAFETY: the caller's guarantees on `out` and `receipt`.
        let out = unsafe { out_buf(out, "out") }?;
        // SAFETY: as above.
        let receipt = unsafe { bytes(receipt, len, "receipt") }?;
        let entry = LogEntry::receipt(receipt.to_vec()).map_err(super::log::log_failure)?;
        out.set(ConsentryBuf::from_vec(entry.to_bytes()));
        Ok(ConsentryStatus::Ok)
    })
}

/// Writes the "grant issued" log entry of a signed grant into `*out` (the consent manager
/// logs each grant it issues). `INVALID_INPUT` if the bytes are not a well-formed grant.
///
/// # Safety
/// As [`consentry_log_entry_receipt`], with `grant` in place of `receipt`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn consentry_log_entry_grant_issued(
    grant: *const u8,
    len: usize,
    out: *mut ConsentryBuf,
) -> ConsentryStatus {
    guard(|| {
        // SAFETY: the caller's guarantees on `out` and `grant`.
        let out = unsafe { out_buf(out, "out") }?;
        // SAFETY: as above.
        let grant = unsafe { bytes(grant, len, "grant") }?;
        let entry = LogEntry::grant_issued(grant.to_vec()).map_err(super::log::log_failure)?;
        out.set(ConsentryBuf::from_vec(entry.to_bytes()));
        Ok(ConsentryStatus::Ok)
    })
}

/// Writes the log entry of a lifecycle statement about `basis` (a signed grant, whose subject
/// the entry is attributed to, or a habilitation, attributed to nobody) into `*out`.
/// `INVALID_INPUT` if either is malformed or the statement names other bytes than `basis`
/// (`log/statement_not_about_basis`).
///
/// # Safety
/// `statement` and `basis` are `NULL` (with length 0) or valid for reads of their lengths;
/// `out` is `NULL` or valid for writing a [`ConsentryBuf`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn consentry_log_entry_statement(
    statement: *const u8,
    statement_len: usize,
    basis: *const u8,
    basis_len: usize,
    out: *mut ConsentryBuf,
) -> ConsentryStatus {
    guard(|| {
        // SAFETY: the caller's guarantees on every argument.
        let out = unsafe { out_buf(out, "out") }?;
        // SAFETY: as above.
        let statement = unsafe { bytes(statement, statement_len, "statement") }?;
        // SAFETY: as above.
        let basis = unsafe { bytes(basis, basis_len, "basis") }?;
        let kind = consentry::cose::Envelope::parse(basis)
            .map_err(|e| Failure::invalid(format!("basis: {}: {e}", e.code())))?
            .kind();
        let entry = if kind == consentry::habilitation::Habilitation::KIND {
            LogEntry::statement_about_habilitation(statement.to_vec(), basis)
        } else {
            LogEntry::statement_about_grant(statement.to_vec(), basis)
        }
        .map_err(super::log::log_failure)?;
        out.set(ConsentryBuf::from_vec(entry.to_bytes()));
        Ok(ConsentryStatus::Ok)
    })
}
