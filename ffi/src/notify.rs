//! Notifications: a statement applied with its notifications queued in the ledger's outbox,
//! the outbox drained, and a party's inbox receiving them.

use super::decide::{VerifierArgs, statement_outcome};
use super::handles::{ConsentryCeilings, ConsentryDirectory, ConsentryLedger, ConsentrySigningKey};
use super::registry::ConsentryDirectoryHistory;
use super::service::ConsentryVerifier;
use super::{
    ConsentryBuf, ConsentryStatus, Failure, Out, bytes, c_party, guard, guard_free, handle,
    out_buf, out_handle, to_hex, to_json,
};
use consentry::Timestamp;
use consentry::decision::{Receipts, StatementRefusal, Verifier};
use consentry::ledger::LedgerError;
use consentry::notify::{Inbox, NotificationError, Notifier, Queued, Received, StreamState};
use std::ffi::c_char;
use std::sync::{Mutex, MutexGuard, PoisonError};

/// A party's inbox of notifications (opaque): for each emitter, the last number applied and
/// the digests of the last notifications, to tell a redelivery (ignored) from a fork (refused).
/// In memory: a service keeps one per party for as long as it runs, saves the streams that
/// changed after each reception (`consentry_inbox_take_changed`) and gives them back to a new
/// inbox when it restarts (`consentry_inbox_resume`). Thread-safe: receptions are serialised by
/// an internal lock.
pub struct ConsentryInbox(Mutex<Inbox>);

impl ConsentryInbox {
    fn inbox(&self) -> MutexGuard<'_, Inbox> {
        // A reception changes the inbox only once every check passed and the change applied,
        // so a poisoned lock holds a consistent inbox.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A ledger failure of the outbox as `STORAGE`, its message starting with the code.
#[allow(
    clippy::needless_pass_by_value,
    reason = "a `map_err` adapter: it takes the error as `map_err` hands it over"
)]
fn ledger_failure(e: LedgerError) -> Failure {
    Failure::new(ConsentryStatus::Storage, format!("{}: {e}", e.code()))
}

/// A notification refused: `INVALID_INPUT` for a malformed one, `VERIFY_FAILED` for one not
/// signed by its emitter, `STORAGE` when the ledger failed, `REFUSED` for the rest; the message
/// starts with the `notification/…` code.
#[allow(
    clippy::needless_pass_by_value,
    reason = "a `map_err` adapter: it takes the error as `map_err` hands it over"
)]
pub(super) fn notification_failure(e: NotificationError) -> Failure {
    let status = match &e {
        NotificationError::Malformed(_) => ConsentryStatus::InvalidInput,
        NotificationError::Forged(_) => ConsentryStatus::VerifyFailed,
        NotificationError::Unavailable(_) => ConsentryStatus::Storage,
        _ => ConsentryStatus::Refused,
    };
    let detail = e.detail_code();
    let message = if detail == e.code() {
        format!("{}: {e}", e.code())
    } else {
        format!("{}: {detail}: {e}", e.code())
    };
    Failure::new(status, message)
}

fn queued_json(q: &[Queued]) -> serde_json::Value {
    q.iter()
        .map(|q| {
            serde_json::json!({
                "emitter": q.emitter,
                "recipient": q.recipient,
                "seq": q.seq,
                "bytes": to_hex(&q.bytes),
            })
        })
        .collect()
}

/// Applies a lifecycle statement as
/// [`consentry_verifier_apply_statement`](super::consentry_verifier_apply_statement) does and,
/// in the same ledger transaction, queues in the ledger's outbox one signed notification of it
/// for the basis's consumer and for every provider of its scope but this verifier's own, each
/// the next of its (emitter, recipient) stream, issued at `now`. The emitter is the verifier's
/// provider; the notifications are signed with `emitter_key`, or with the verifier's receipt
/// key when `emitter_key` is `NULL` (`INVALID_INPUT` if it has none).
///
/// Writes the outcome JSON into `*out` in both cases: `{"applied": true, "status",
/// "notifications": [{"emitter", "recipient", "seq", "bytes"}]}` (the signed notifications in
/// hexadecimal, as [`consentry_ledger_outbox_pending`] lists them), or the refusal as
/// `consentry_apply_statement` writes it (nothing is queued). Returns `OK` or `REFUSED`.
///
/// # Safety
/// `verifier`, `directory`, `ceilings` and `ledger` are `NULL` or live handles; `emitter_key`
/// is `NULL` or a live signing-key handle; `statement` and `basis` are `NULL` (with length 0) or
/// valid for reads of their lengths; `out` is `NULL` or valid for writing a [`ConsentryBuf`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn consentry_verifier_apply_statement_notifying(
    verifier: *const ConsentryVerifier,
    directory: *const ConsentryDirectory,
    ceilings: *const ConsentryCeilings,
    ledger: *const ConsentryLedger,
    statement: *const u8,
    statement_len: usize,
    basis: *const u8,
    basis_len: usize,
    now: u64,
    emitter_key: *const ConsentrySigningKey,
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
        // SAFETY: as above; `as_ref` maps NULL to None.
        let given = unsafe { emitter_key.as_ref() }.map(|k| &*k.0);
        let key = given.or(v.receipt_key()).ok_or_else(|| {
            Failure::invalid(
                "emitter_key is NULL and the verifier has no receipt key to sign notifications \
                 with",
            )
        })?;
        let notifier = Notifier {
            emitter: v.provider(),
            key,
        };
        let ids = uuid::Uuid::default;
        let mut verifier = Verifier::new(
            v.provider(),
            args.directory(),
            args.ceilings(),
            args.ledger().notifying(),
        )
        .with_provider(v.crypto());
        if let Some(key) = v.receipt_key() {
            verifier = verifier.with_receipts(Receipts { key, ids: &ids });
        }
        let outcome = verifier.apply_statement_notifying(
            statement,
            basis,
            Timestamp::from_secs(now),
            &notifier,
        );
        let (doc, status) = match outcome {
            Ok((st, queued)) => (
                serde_json::json!({
                    "applied": true,
                    "status": st,
                    "notifications": queued_json(&queued),
                }),
                ConsentryStatus::Ok,
            ),
            Err(refusal) => {
                statement_outcome(Err::<consentry::ledger::Status, StatementRefusal>(refusal))
            }
        };
        out.set(ConsentryBuf::from_vec(to_json(&doc)?));
        Ok(status)
    })
}

/// Writes up to `limit` notifications waiting in the ledger's outbox into `*out`, oldest first
/// (within a stream, in number order), as a JSON array of `{"emitter", "recipient", "seq",
/// "bytes"}` (`bytes`: the signed notification in hexadecimal, to deliver as is). Deliver them,
/// then acknowledge them with [`consentry_ledger_outbox_acknowledge`]; until then they stay
/// listed (a notification delivered twice is ignored by its recipient).
///
/// # Safety
/// `ledger` is `NULL` or a live ledger handle; `out` is `NULL` or valid for writing a
/// [`ConsentryBuf`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn consentry_ledger_outbox_pending(
    ledger: *const ConsentryLedger,
    limit: usize,
    out: *mut ConsentryBuf,
) -> ConsentryStatus {
    guard(|| {
        // SAFETY: the caller's guarantees on `out` and `ledger`.
        let out = unsafe { out_buf(out, "out") }?;
        // SAFETY: as above.
        let ledger = unsafe { handle(ledger, "ledger") }?;
        let pending = ledger.notifying().pending(limit).map_err(ledger_failure)?;
        out.set(ConsentryBuf::from_vec(to_json(&queued_json(&pending))?));
        Ok(ConsentryStatus::Ok)
    })
}

/// Removes from the ledger's outbox the notifications of the (`emitter`, `recipient`) stream
/// (NUL-terminated UUIDs) numbered up to `up_to`: delivered. Writes how many were removed into
/// `*out_removed`, which may be `NULL`. Numbers are never given again.
///
/// # Safety
/// `ledger` is `NULL` or a live ledger handle; `emitter` and `recipient` are `NULL` or
/// NUL-terminated strings; `out_removed` is `NULL` or valid for writing a `uint64_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn consentry_ledger_outbox_acknowledge(
    ledger: *const ConsentryLedger,
    emitter: *const c_char,
    recipient: *const c_char,
    up_to: u64,
    out_removed: *mut u64,
) -> ConsentryStatus {
    guard(|| {
        let out: Option<Out<u64>> = if out_removed.is_null() {
            None
        } else {
            // SAFETY: non-null, and valid for writes by the caller's guarantee.
            Some(unsafe { Out::new(out_removed, "out_removed", 0) }?)
        };
        // SAFETY: the caller's guarantees on the rest.
        let ledger = unsafe { handle(ledger, "ledger") }?;
        // SAFETY: as above.
        let emitter = unsafe { c_party(emitter, "emitter") }?;
        // SAFETY: as above.
        let recipient = unsafe { c_party(recipient, "recipient") }?;
        let removed = ledger
            .notifying()
            .acknowledge(emitter, recipient, up_to)
            .map_err(ledger_failure)?;
        if let Some(o) = out {
            o.set(removed as u64);
        }
        Ok(ConsentryStatus::Ok)
    })
}

/// Writes the last number the ledger's outbox gave in the (`emitter`, `recipient`) stream
/// (0 if none) into `*out_seq`.
///
/// # Safety
/// As [`consentry_ledger_outbox_acknowledge`], with `out_seq` not `NULL`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn consentry_ledger_outbox_last_seq(
    ledger: *const ConsentryLedger,
    emitter: *const c_char,
    recipient: *const c_char,
    out_seq: *mut u64,
) -> ConsentryStatus {
    guard(|| {
        // SAFETY: the caller's guarantee on `out_seq`.
        let out: Out<u64> = unsafe { Out::new(out_seq, "out_seq", 0) }?;
        // SAFETY: the caller's guarantees on the rest.
        let ledger = unsafe { handle(ledger, "ledger") }?;
        // SAFETY: as above.
        let emitter = unsafe { c_party(emitter, "emitter") }?;
        // SAFETY: as above.
        let recipient = unsafe { c_party(recipient, "recipient") }?;
        out.set(
            ledger
                .notifying()
                .last_seq(emitter, recipient)
                .map_err(ledger_failure)?,
        );
        Ok(ConsentryStatus::Ok)
    })
}

/// Creates the inbox of `party` (a NUL-terminated UUID: the party notifications must be
/// addressed to), with no stream yet, in `*out`.
///
/// # Safety
/// `party` is `NULL` or a NUL-terminated string; `out` is `NULL` or valid for writing a pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn consentry_inbox_new(
    party: *const c_char,
    out: *mut *mut ConsentryInbox,
) -> ConsentryStatus {
    guard(|| {
        // SAFETY: the caller's guarantees on `out` and `party`.
        let out = unsafe { out_handle(out, "out") }?;
        // SAFETY: as above.
        let party = unsafe { c_party(party, "party") }?;
        out.set(Box::into_raw(Box::new(ConsentryInbox(Mutex::new(
            Inbox::new(party),
        )))));
        Ok(ConsentryStatus::Ok)
    })
}

/// Frees an inbox handle. `NULL` is accepted and ignored.
///
/// # Safety
/// `inbox` is `NULL` or a live inbox handle, not used afterwards (by any thread).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn consentry_inbox_free(inbox: *mut ConsentryInbox) {
    guard_free(|| {
        if !inbox.is_null() {
            // SAFETY: a non-null `inbox` came from `Box::into_raw` in `consentry_inbox_new` and
            // is freed only once (the caller's guarantee).
            drop(unsafe { Box::from_raw(inbox) });
        }
    });
}

/// Writes the last number the inbox applied from `emitter` (a NUL-terminated UUID; 0 if none)
/// into `*out_seq`.
///
/// # Safety
/// `inbox` is `NULL` or a live inbox handle; `emitter` is `NULL` or a NUL-terminated string;
/// `out_seq` is `NULL` or valid for writing a `uint64_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn consentry_inbox_last_seq(
    inbox: *const ConsentryInbox,
    emitter: *const c_char,
    out_seq: *mut u64,
) -> ConsentryStatus {
    guard(|| {
        // SAFETY: the caller's guarantee on `out_seq`.
        let out: Out<u64> = unsafe { Out::new(out_seq, "out_seq", 0) }?;
        // SAFETY: the caller's guarantees on the rest.
        let inbox = unsafe { handle(inbox, "inbox") }?;
        // SAFETY: as above.
        let emitter = unsafe { c_party(emitter, "emitter") }?;
        out.set(inbox.inbox().last_seq(emitter));
        Ok(ConsentryStatus::Ok)
    })
}

/// Writes into `*out` the state of every stream that advanced since the last call (or since
/// the inbox was made), one after the other by emitter, and forgets that they did: what to save
/// after a reception. Each state is the emitter's 16 bytes, the last number applied (8 bytes,
/// big-endian) and then `min(last, 256)` digests of 32 bytes, so its length follows from its
/// first 24 bytes; a service keeps each under its emitter, replacing the one saved before. An
/// empty buffer: nothing changed.
///
/// # Safety
/// `inbox` is `NULL` or a live inbox handle; `out` is `NULL` or valid for writing a
/// [`ConsentryBuf`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn consentry_inbox_take_changed(
    inbox: *const ConsentryInbox,
    out: *mut ConsentryBuf,
) -> ConsentryStatus {
    guard(|| {
        // SAFETY: the caller's guarantees on `out` and `inbox`.
        let out = unsafe { out_buf(out, "out") }?;
        // SAFETY: as above.
        let inbox = unsafe { handle(inbox, "inbox") }?;
        let states = inbox.inbox().take_changed();
        out.set(ConsentryBuf::from_vec(
            states.iter().flat_map(StreamState::to_bytes).collect(),
        ));
        Ok(ConsentryStatus::Ok)
    })
}

/// Gives the inbox back one stream's state saved earlier (one state of those
/// `consentry_inbox_take_changed` writes), replacing what it holds of that emitter: after a
/// restart, before the first reception. `STORAGE`, with a message starting with
/// `ledger_corrupt`, for bytes that are not one state (the inbox is unchanged).
///
/// # Safety
/// `inbox` is `NULL` or a live inbox handle; `state` is `NULL` or valid for reading `len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn consentry_inbox_resume(
    inbox: *const ConsentryInbox,
    state: *const u8,
    len: usize,
) -> ConsentryStatus {
    guard(|| {
        // SAFETY: the caller's guarantees on `inbox` and `state`.
        let inbox = unsafe { handle(inbox, "inbox") }?;
        // SAFETY: as above.
        let state = unsafe { bytes(state, len, "state") }?;
        let state = StreamState::from_bytes(state).map_err(ledger_failure)?;
        inbox.inbox().resume(state);
        Ok(ConsentryStatus::Ok)
    })
}

fn refusal_json(code: &str, message: &str) -> serde_json::Value {
    serde_json::json!({ "code": code, "message": message })
}

fn received_json(received: &Received) -> serde_json::Value {
    match received {
        Received::Applied(status) => serde_json::json!({
            "outcome": "applied",
            "status": status,
        }),
        Received::StatementRefused(r) => serde_json::json!({
            "outcome": "statement_refused",
            "refusal": refusal_json(StatementRefusal::code(r), &r.to_string()),
        }),
        Received::DirectoryUpdated { seq } => serde_json::json!({
            "outcome": "directory_updated",
            "version": seq,
        }),
        Received::UpdateRefused(e) => serde_json::json!({
            "outcome": "update_refused",
            "refusal": refusal_json(e.code(), &e.to_string()),
        }),
        Received::AlreadyApplied => serde_json::json!({ "outcome": "already_applied" }),
        _ => serde_json::json!({ "outcome": "unknown" }),
    }
}

/// Receives a notification of a statement: checks it (well formed, signed by its emitter under
/// the directory's key rule, addressed to the inbox's party, carrying a statement, the next of
/// its stream or an exact redelivery, from the basis's consumer or one of its providers), then
/// applies the statement it carries with `verifier` on `ledger` at `now`, as
/// [`consentry_verifier_apply_statement`](super::consentry_verifier_apply_statement) would.
///
/// Returns `OK` when the notification is accepted (the stream advanced, or it was a
/// redelivery), with the outcome JSON in `*out`: `{"outcome": "applied", "status"}`,
/// `{"outcome": "statement_refused", "refusal": {"code", "message"}}` (checked as any statement
/// and not applied: a duplicate, a basis already revoked, a statement too old…) or
/// `{"outcome": "already_applied"}`. A refused notification leaves the stream as it was and
/// `*out` empty: `INVALID_INPUT` (`notification/malformed`), `VERIFY_FAILED`
/// (`notification/forged`), `REFUSED` (`notification/misaddressed`, `wrong_carried`,
/// `emitter_not_concerned`, `out_of_order`, `fork`, `stale`) or `STORAGE`
/// (`notification/ledger_unavailable`: deliver it again); the last error starts with the code.
///
/// # Safety
/// `inbox`, `verifier`, `directory`, `ceilings` and `ledger` are `NULL` or live handles;
/// `notification` is `NULL` (with length 0) or valid for reads of its length; `out` is `NULL`
/// or valid for writing a [`ConsentryBuf`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn consentry_inbox_receive_statement(
    inbox: *const ConsentryInbox,
    verifier: *const ConsentryVerifier,
    directory: *const ConsentryDirectory,
    ceilings: *const ConsentryCeilings,
    ledger: *const ConsentryLedger,
    notification: *const u8,
    notification_len: usize,
    now: u64,
    out: *mut ConsentryBuf,
) -> ConsentryStatus {
    guard(|| {
        // SAFETY: the caller's guarantee on `out`.
        let out = unsafe { out_buf(out, "out") }?;
        // SAFETY: the caller's guarantees on the handles.
        let inbox = unsafe { handle(inbox, "inbox") }?;
        // SAFETY: as above.
        let v = unsafe { handle(verifier, "verifier") }?;
        // SAFETY: as above.
        let args = unsafe { VerifierArgs::new(directory, ceilings, ledger) }?;
        // SAFETY: the caller's guarantee on `notification`.
        let notification = unsafe { bytes(notification, notification_len, "notification") }?;
        let ids = uuid::Uuid::default;
        let mut verifier = args.verifier(v.provider()).with_provider(v.crypto());
        if let Some(key) = v.receipt_key() {
            verifier = verifier.with_receipts(Receipts { key, ids: &ids });
        }
        let received = inbox
            .inbox()
            .receive_statement(notification, &verifier, Timestamp::from_secs(now))
            .map_err(notification_failure)?;
        out.set(ConsentryBuf::from_vec(to_json(&received_json(&received))?));
        Ok(ConsentryStatus::Ok)
    })
}

/// Receives a notification of a directory update: checks it as
/// [`consentry_inbox_receive_statement`] does (against the history's current directory), then
/// applies the update to `history` as
/// [`consentry_directory_history_apply`](super::consentry_directory_history_apply) would.
/// Returns `OK` with `{"outcome": "directory_updated", "version"}`, `{"outcome":
/// "update_refused", "refusal": {"code", "message"}}` or `{"outcome": "already_applied"}` in
/// `*out`, or the refusals of [`consentry_inbox_receive_statement`].
///
/// # Safety
/// `inbox` and `history` are `NULL` or live handles; `notification` is `NULL` (with length 0)
/// or valid for reads of its length; `out` is `NULL` or valid for writing a [`ConsentryBuf`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn consentry_inbox_receive_update(
    inbox: *const ConsentryInbox,
    history: *const ConsentryDirectoryHistory,
    notification: *const u8,
    notification_len: usize,
    out: *mut ConsentryBuf,
) -> ConsentryStatus {
    guard(|| {
        // SAFETY: the caller's guarantee on `out`.
        let out = unsafe { out_buf(out, "out") }?;
        // SAFETY: the caller's guarantees on the handles.
        let inbox = unsafe { handle(inbox, "inbox") }?;
        // SAFETY: as above.
        let history = unsafe { handle(history, "history") }?;
        // SAFETY: the caller's guarantee on `notification`.
        let notification = unsafe { bytes(notification, notification_len, "notification") }?;
        let received = inbox
            .inbox()
            .receive_update(notification, &mut history.history())
            .map_err(notification_failure)?;
        out.set(ConsentryBuf::from_vec(to_json(&received_json(&received))?));
        Ok(ConsentryStatus::Ok)
    })
}

/// Queues in the ledger's outbox the notifications of a directory update `emitter` (a
/// NUL-terminated UUID) applied to `history` (which must hold it already): if the update
/// reports a key compromise, one for every party holding the provider or consumer role at `at`
/// in the history's current directory but the emitter, signed with `key` and issued at `at`;
/// otherwise none. Writes the notifications queued into `*out` as
/// [`consentry_ledger_outbox_pending`] lists them. `INVALID_INPUT` if `update` is not a
/// well-formed directory update.
///
/// # Safety
/// `ledger`, `history` and `key` are `NULL` or live handles; `emitter` is `NULL` or a
/// NUL-terminated string; `update` is `NULL` (with length 0) or valid for reads of its length;
/// `out` is `NULL` or valid for writing a [`ConsentryBuf`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn consentry_ledger_outbox_enqueue_update(
    ledger: *const ConsentryLedger,
    history: *const ConsentryDirectoryHistory,
    update: *const u8,
    update_len: usize,
    emitter: *const c_char,
    key: *const ConsentrySigningKey,
    at: u64,
    out: *mut ConsentryBuf,
) -> ConsentryStatus {
    guard(|| {
        // SAFETY: the caller's guarantee on `out`.
        let out = unsafe { out_buf(out, "out") }?;
        // SAFETY: the caller's guarantees on the rest.
        let ledger = unsafe { handle(ledger, "ledger") }?;
        // SAFETY: as above.
        let history = unsafe { handle(history, "history") }?;
        // SAFETY: as above.
        let update = unsafe { bytes(update, update_len, "update") }?;
        // SAFETY: as above.
        let emitter = unsafe { c_party(emitter, "emitter") }?;
        // SAFETY: as above.
        let key = unsafe { handle(key, "key") }?;
        let envelope = consentry::cose::Envelope::parse_kind(
            update,
            consentry::cose::ObjectKind::DirectoryUpdate,
        )
        .map_err(|e| Failure::invalid(format!("update: {}: {e}", e.code())))?;
        let parsed = consentry::directory::DirectoryUpdate::from_payload_bytes(envelope.payload())
            .map_err(|e| Failure::invalid(format!("update: {}: {e}", e.code())))?;
        let notices = {
            let h = history.history();
            consentry::notify::Notices::for_directory_update(
                emitter,
                h.current(),
                &parsed,
                update,
                Timestamp::from_secs(at),
            )
        };
        let notifier = Notifier {
            emitter,
            key: &key.0,
        };
        let queued = ledger
            .notifying()
            .enqueue(&notifier, &notices)
            .map_err(ledger_failure)?;
        out.set(ConsentryBuf::from_vec(to_json(&queued_json(&queued))?));
        Ok(ConsentryStatus::Ok)
    })
}
