//! The transfer decision and lifecycle statements.

use super::handles::{ConsentryCeilings, ConsentryDirectory, ConsentryLedger};
use super::{
    ConsentryBuf, ConsentryStatus, FfiResult, bytes, c_text, guard, handle, out_buf, parse_party,
    set_last_error, to_json,
};
use consentry::Timestamp;
use consentry::decision::{Basis, StatementRefusal, Verifier};
use consentry::ledger::Ledger;
use std::ffi::c_char;

/// The borrowed inputs every verifier call needs.
pub(super) struct VerifierArgs<'a> {
    directory: &'a ConsentryDirectory,
    ceilings: &'a ConsentryCeilings,
    ledger: &'a ConsentryLedger,
}

impl<'a> VerifierArgs<'a> {
    /// # Safety
    /// Each pointer is `NULL` or a live handle of its type.
    pub(super) unsafe fn new(
        directory: *const ConsentryDirectory,
        ceilings: *const ConsentryCeilings,
        ledger: *const ConsentryLedger,
    ) -> FfiResult<Self> {
        Ok(VerifierArgs {
            // SAFETY: the caller's guarantees on the three handles.
            directory: unsafe { handle(directory, "directory") }?,
            // SAFETY: as above.
            ceilings: unsafe { handle(ceilings, "ceilings") }?,
            // SAFETY: as above.
            ledger: unsafe { handle(ledger, "ledger") }?,
        })
    }

    pub(super) fn directory(&self) -> &'a consentry::directory::Directory {
        &self.directory.0
    }

    pub(super) fn ceilings(&self) -> &'a consentry::ceiling::Ceilings {
        &self.ceilings.0
    }

    pub(super) fn ledger(&self) -> &'a ConsentryLedger {
        self.ledger
    }

    pub(super) fn verifier(
        &self,
        provider: consentry::directory::PartyId,
    ) -> Verifier<'a, dyn Ledger> {
        Verifier::new(
            provider,
            &self.directory.0,
            &self.ceilings.0,
            ConsentryLedger::ledger(self.ledger),
        )
    }
}

/// Decides, as the verifier of `provider` (a party id, the UUID as a NUL-terminated string), on
/// a signed transfer request and the signed grant or habilitation it relies on, at `now`
/// (seconds since the Unix epoch); records the decision, and an allowed use, in `ledger`.
///
/// Writes the decision JSON into `*out` in both cases and returns:
/// - `OK` when allowed: `{"decision":"allow", "request", "basis", "basis_kind", "subject",
///   "consumer", "provider", "categories", "data_range", "retain_until", "consent",
///   "legal_reference", "onward_transfer", "decided_at", …}`: exactly what may be sent;
/// - `DENIED` when denied: `{"decision":"deny","reasons":[{"code","message"}, …],
///   "request_digest", "request", "basis", "subject", "decided_at"}` with every rule that
///   failed, and what a denial log entry holds (ids and subject `null` when not verified). The
///   buffer must be freed all the same.
///
/// Malformed or badly signed objects are a denial with reasons, not an error; errors are only
/// for unusable arguments (`NULL` handles, a provider that is not a UUID…).
///
/// # Safety
/// `directory`, `ceilings` and `ledger` are `NULL` or live handles; `provider` is `NULL` or a
/// NUL-terminated string; `request` and `basis` are `NULL` (with length 0) or valid for reads of
/// their lengths; `out` is `NULL` or valid for writing a [`ConsentryBuf`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn consentry_decide(
    directory: *const ConsentryDirectory,
    ceilings: *const ConsentryCeilings,
    ledger: *const ConsentryLedger,
    provider: *const c_char,
    request: *const u8,
    request_len: usize,
    basis: *const u8,
    basis_len: usize,
    now: u64,
    out: *mut ConsentryBuf,
) -> ConsentryStatus {
    guard(|| {
        // SAFETY: the caller's guarantee on `out`.
        let out = unsafe { out_buf(out, "out") }?;
        // SAFETY: the caller's guarantees on the handles.
        let args = unsafe { VerifierArgs::new(directory, ceilings, ledger) }?;
        // SAFETY: the caller's guarantee on `provider`.
        let provider = parse_party(unsafe { c_text(provider, "provider") }?, "provider")?;
        // SAFETY: the caller's guarantee on `request`.
        let request = unsafe { bytes(request, request_len, "request") }?;
        // SAFETY: the caller's guarantee on `basis`.
        let basis = unsafe { bytes(basis, basis_len, "basis") }?;
        let decision = args.verifier(provider).decide(
            request,
            Basis::Signed(basis),
            Timestamp::from_secs(now),
        );
        out.set(ConsentryBuf::from_vec(to_json(&decision)?));
        if decision.is_allow() {
            Ok(ConsentryStatus::Ok)
        } else {
            set_last_error(format!("denied: {}", decision.codes().join(", ")));
            Ok(ConsentryStatus::Denied)
        }
    })
}

/// Verifies a signed lifecycle statement (pause, resume, revoke) about a signed grant or
/// habilitation and applies it to `ledger` at `now`, as the verifier of `provider`.
///
/// Writes the outcome JSON into `*out` in both cases and returns:
/// - `OK` when applied: `{"applied":true,"status":{"status":"active"|"paused"|"revoked", …}}`;
/// - `REFUSED` when not: `{"applied":false,"refusal":{"code","message"}}`. The buffer must be
///   freed all the same.
///
/// # Safety
/// As [`consentry_decide`], with `statement` in place of `request`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn consentry_apply_statement(
    directory: *const ConsentryDirectory,
    ceilings: *const ConsentryCeilings,
    ledger: *const ConsentryLedger,
    provider: *const c_char,
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
        let args = unsafe { VerifierArgs::new(directory, ceilings, ledger) }?;
        // SAFETY: the caller's guarantee on `provider`.
        let provider = parse_party(unsafe { c_text(provider, "provider") }?, "provider")?;
        // SAFETY: the caller's guarantee on `statement`.
        let statement = unsafe { bytes(statement, statement_len, "statement") }?;
        // SAFETY: the caller's guarantee on `basis`.
        let basis = unsafe { bytes(basis, basis_len, "basis") }?;
        let outcome = args.verifier(provider).apply_statement(
            statement,
            Basis::Signed(basis),
            Timestamp::from_secs(now),
        );
        let (doc, status) = statement_outcome(outcome);
        out.set(ConsentryBuf::from_vec(to_json(&doc)?));
        Ok(status)
    })
}

/// The outcome JSON of a statement and its status, the refusal kept as the last error.
pub(super) fn statement_outcome(
    outcome: Result<consentry::ledger::Status, StatementRefusal>,
) -> (serde_json::Value, ConsentryStatus) {
    match outcome {
        Ok(st) => (
            serde_json::json!({ "applied": true, "status": st }),
            ConsentryStatus::Ok,
        ),
        Err(refusal) => {
            let (code, message) = (StatementRefusal::code(&refusal), refusal.to_string());
            set_last_error(format!("refused: {code}: {message}"));
            (
                serde_json::json!({
                    "applied": false,
                    "refusal": { "code": code, "message": message },
                }),
                ConsentryStatus::Refused,
            )
        }
    }
}
