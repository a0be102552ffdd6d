use super::*;

fn last_error() -> String {
    let mut buf = ConsentryBuf::EMPTY;
    // SAFETY: `buf` is a valid ConsentryBuf.
    assert_eq!(
        unsafe { consentry_last_error(&mut buf) },
        ConsentryStatus::Ok
    );
    let text = if buf.ptr.is_null() {
        String::new()
    } else {
        // SAFETY: a non-empty buffer from the library holds `len` readable bytes.
        String::from_utf8(unsafe { std::slice::from_raw_parts(buf.ptr, buf.len) }.to_vec()).unwrap()
    };
    // SAFETY: `buf` came from the library.
    unsafe { consentry_buf_free(&mut buf) };
    text
}

#[test]
fn a_panic_becomes_a_status_and_a_message() {
    let status = guard(|| panic!("boom"));
    assert_eq!(status, ConsentryStatus::Panic);
    assert_eq!(last_error(), "internal error (panic): boom");
    // The next call clears it.
    assert_eq!(guard(|| Ok(ConsentryStatus::Ok)), ConsentryStatus::Ok);
    assert_eq!(last_error(), "");
}

#[test]
fn buffers_round_trip_and_reset() {
    let mut buf = ConsentryBuf::from_vec(b"hello".to_vec());
    assert_eq!(buf.len, 5);
    // SAFETY: `buf` came from the library; freeing resets it, so the second free is a no-op.
    unsafe {
        consentry_buf_free(&mut buf);
        consentry_buf_free(&mut buf);
        consentry_buf_free(std::ptr::null_mut());
    }
    assert!(buf.ptr.is_null() && buf.len == 0);
    assert!(ConsentryBuf::from_vec(Vec::new()).ptr.is_null());
}

#[test]
fn status_names_are_distinct_and_match_the_values() {
    let mut names = std::collections::HashSet::new();
    for (i, s) in ConsentryStatus::ALL.into_iter().enumerate() {
        assert_eq!(s as i32, i32::try_from(i).unwrap());
        // SAFETY: the function returns a static NUL-terminated string.
        let name = unsafe { CStr::from_ptr(consentry_status_name(s as i32)) };
        assert!(names.insert(name.to_owned()));
    }
    // SAFETY: as above.
    let unknown = unsafe { CStr::from_ptr(consentry_status_name(-3)) };
    assert_eq!(unknown, c"UNKNOWN");
    // SAFETY: as above.
    let version = unsafe { CStr::from_ptr(consentry_version()) };
    assert_eq!(version.to_str().unwrap(), env!("CARGO_PKG_VERSION"));
}

#[test]
fn json_errors_are_told_apart() {
    let syntax = from_json::<Vec<u32>>("{", "x").unwrap_err();
    assert_eq!(syntax.status, ConsentryStatus::InvalidJson);
    let shape = from_json::<Vec<u32>>("{}", "x").unwrap_err();
    assert_eq!(shape.status, ConsentryStatus::InvalidInput);
}

/// What `consentry_object_inspect` writes about every valid object of the test vectors is
/// exactly the committed JSON vector of its form (`tests/vectors/json/object-info/valid/`),
/// which `.ci/schemas.sh` checks against `docs/schemas/object-info.schema.json`.
#[test]
fn inspect_writes_the_committed_object_info_vectors() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors");
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(root.join("json/index.json")).unwrap()).unwrap();
    let form = index["forms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["form"] == "object-info")
        .unwrap();
    let mut checked = 0;
    for file in form["valid"].as_array().unwrap() {
        let file = file.as_str().unwrap();
        let name = file.rsplit('/').next().unwrap().trim_end_matches(".json");
        let path = if let Some(rest) = name.strip_prefix("log-") {
            format!("log/objects/{rest}.cbor")
        } else if let Some(rest) = name.strip_prefix("notifications-") {
            format!("notifications/{rest}.cbor")
        } else {
            format!("objects/{name}.cbor")
        };
        let object = std::fs::read(root.join(path)).unwrap();
        let want: serde_json::Value =
            serde_json::from_slice(&std::fs::read(root.join(file)).unwrap()).unwrap();
        let mut out = ConsentryBuf::EMPTY;
        // SAFETY: `object` is readable for its length; `out` is a valid ConsentryBuf.
        let status = unsafe { consentry_object_inspect(object.as_ptr(), object.len(), &mut out) };
        assert_eq!(status, ConsentryStatus::Ok, "{name}");
        // SAFETY: a non-empty buffer from the library holds `len` readable bytes.
        let got: serde_json::Value =
            serde_json::from_slice(unsafe { std::slice::from_raw_parts(out.ptr, out.len) })
                .unwrap();
        // SAFETY: `out` came from the library.
        unsafe { consentry_buf_free(&mut out) };
        assert_eq!(got, want, "{name}");
        checked += 1;
    }
    assert!(checked >= 10, "{checked} objects");
}

/// What `consentry_log_entry_inspect` writes about every entry of the log vectors is exactly
/// the committed JSON vector of its form (`tests/vectors/json/log-entry-info/valid/`), which
/// `.ci/schemas.sh` checks against `docs/schemas/log-entry-info.schema.json`.
#[test]
fn entry_inspect_writes_the_committed_log_entry_info_vectors() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors");
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(root.join("json/index.json")).unwrap()).unwrap();
    let form = index["forms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["form"] == "log-entry-info")
        .unwrap();
    let mut kinds = std::collections::BTreeSet::new();
    for file in form["valid"].as_array().unwrap() {
        let file = file.as_str().unwrap();
        let name = file.rsplit('/').next().unwrap().trim_end_matches(".json");
        let rest = name.strip_prefix("log-").unwrap();
        let entry = std::fs::read(root.join(format!("log/entries/{rest}.cbor"))).unwrap();
        let want: serde_json::Value =
            serde_json::from_slice(&std::fs::read(root.join(file)).unwrap()).unwrap();
        let mut out = ConsentryBuf::EMPTY;
        // SAFETY: `entry` is readable for its length; `out` is a valid ConsentryBuf.
        let status = unsafe { consentry_log_entry_inspect(entry.as_ptr(), entry.len(), &mut out) };
        assert_eq!(status, ConsentryStatus::Ok, "{name}");
        // SAFETY: a non-empty buffer from the library holds `len` readable bytes.
        let got: serde_json::Value =
            serde_json::from_slice(unsafe { std::slice::from_raw_parts(out.ptr, out.len) })
                .unwrap();
        // SAFETY: `out` came from the library.
        unsafe { consentry_buf_free(&mut out) };
        assert_eq!(got, want, "{name}");
        kinds.insert(want["kind"].as_str().unwrap().to_owned());
    }
    assert_eq!(
        kinds.into_iter().collect::<Vec<_>>(),
        ["deletion", "denial", "grant", "receipt", "statement"],
        "every kind of entry"
    );
}

// ---- the service functions: every refusal with its exact status ----

use consentry::directory::{DirectoryHistory, DirectorySnapshot, PartyKey};
use consentry::signed::SignedPayload;
use consentry::testing::{Scenario, key_for};
use std::ffi::CString;
use std::ptr::{null, null_mut};

/// A buffer's bytes, then frees it.
fn take(mut buf: ConsentryBuf) -> Vec<u8> {
    let bytes = if buf.ptr.is_null() {
        Vec::new()
    } else {
        // SAFETY: a non-empty buffer from the library holds `len` readable bytes.
        unsafe { std::slice::from_raw_parts(buf.ptr, buf.len) }.to_vec()
    };
    // SAFETY: `buf` came from the library.
    unsafe { consentry_buf_free(&mut buf) };
    bytes
}

/// Calls `f` with a fresh out buffer: the status and the bytes written.
fn with_buf(f: impl FnOnce(*mut ConsentryBuf) -> ConsentryStatus) -> (ConsentryStatus, Vec<u8>) {
    let mut buf = ConsentryBuf::EMPTY;
    let status = f(&mut buf);
    (status, take(buf))
}

fn json_of(bytes: &[u8]) -> serde_json::Value {
    serde_json::from_slice(bytes).unwrap()
}

fn cstr(text: impl ToString) -> CString {
    CString::new(text.to_string()).unwrap()
}

/// The ABI's handle of a key.
fn key_handle(name: &str) -> *mut ConsentrySigningKey {
    Box::into_raw(Box::new(ConsentrySigningKey(std::sync::Arc::new(key_for(
        name,
    )))))
}

fn free_key(key: *mut ConsentrySigningKey) {
    // SAFETY: a live handle made by `key_handle`.
    unsafe { consentry_signing_key_free(key) }
}

/// A call writing a buffer, for tables of probes.
type BufCall<'a> = Box<dyn Fn(*mut ConsentryBuf) -> ConsentryStatus + 'a>;

const GARBAGE: &[u8] = &[0xd2, 0x84, 0xff, 0x00, 0x13, 0x37];

#[test]
fn new_functions_refuse_null_pointers_and_reset_their_outputs() {
    let provider = cstr(Scenario::canteen().dgfip);
    let mut handle_out: *mut ConsentryVerifier = std::ptr::dangling_mut();
    // SAFETY: every pointer is NULL, a valid out-pointer or a NUL-terminated string.
    unsafe {
        assert_eq!(
            consentry_verifier_new(null(), null(), null(), &mut handle_out),
            ConsentryStatus::NullArgument
        );
        assert!(handle_out.is_null());
        assert_eq!(last_error(), "provider is NULL");
        assert_eq!(
            consentry_verifier_new(provider.as_ptr(), null(), null(), null_mut()),
            ConsentryStatus::NullArgument
        );
        let mut history: *mut ConsentryDirectoryHistory = std::ptr::dangling_mut();
        assert_eq!(
            consentry_directory_history_load(null(), 3, null(), 0, &mut history),
            ConsentryStatus::NullArgument
        );
        assert!(history.is_null());
        let mut n = 7;
        assert_eq!(
            consentry_directory_history_version(null(), &mut n),
            ConsentryStatus::NullArgument
        );
        assert_eq!(n, 0);
        assert_eq!(
            consentry_directory_history_apply(null(), GARBAGE.as_ptr(), GARBAGE.len(), null_mut()),
            ConsentryStatus::NullArgument
        );
        let mut ledger: *mut ConsentryLedger = std::ptr::dangling_mut();
        assert_eq!(
            consentry_ledger_open_sqlite(null(), &mut ledger),
            ConsentryStatus::NullArgument
        );
        assert!(ledger.is_null());
        assert_eq!(
            consentry_ledger_log_size(null(), &mut n),
            ConsentryStatus::NullArgument
        );
        assert_eq!(
            consentry_log_append_entry(null(), GARBAGE.as_ptr(), 1, null_mut()),
            ConsentryStatus::NullArgument
        );
    }
    let nulls: [(&str, BufCall<'_>); 14] = [
        // SAFETY (all): NULL handles and inputs, a valid out buffer.
        (
            "decision_to_json",
            Box::new(|o| unsafe { consentry_decision_to_json(null(), o) }),
        ),
        (
            "decision_receipt",
            Box::new(|o| unsafe { consentry_decision_receipt(null(), o) }),
        ),
        (
            "denial_entry",
            Box::new(|o| unsafe { consentry_decision_denial_entry(null(), o) }),
        ),
        (
            "receipt_issue",
            Box::new(|o| unsafe { consentry_receipt_issue(null(), null(), null(), 0, o) }),
        ),
        (
            "entry_receipt",
            Box::new(|o| unsafe { consentry_log_entry_receipt(null(), 1, o) }),
        ),
        (
            "entry_grant",
            Box::new(|o| unsafe { consentry_log_entry_grant_issued(null(), 1, o) }),
        ),
        (
            "entry_statement",
            Box::new(|o| unsafe { consentry_log_entry_statement(null(), 1, null(), 0, o) }),
        ),
        (
            "entry_inspect",
            Box::new(|o| unsafe { consentry_log_entry_inspect(null(), 1, o) }),
        ),
        (
            "head_verify",
            Box::new(|o| unsafe { consentry_tree_head_verify(null(), 1, null(), null(), 0, o) }),
        ),
        (
            "verify_history",
            Box::new(|o| unsafe {
                consentry_verify_history(null(), 1, null(), 0, null(), null(), 0, o)
            }),
        ),
        (
            "ledger_sign_head",
            Box::new(|o| unsafe { consentry_ledger_sign_head(null(), null(), null(), 0, o) }),
        ),
        (
            "ledger_history",
            Box::new(|o| unsafe { consentry_ledger_access_history(null(), null(), 0, o) }),
        ),
        (
            "log_history",
            Box::new(|o| unsafe { consentry_log_access_history(null(), null(), 0, o) }),
        ),
        (
            "checkpoint",
            Box::new(|o| unsafe { consentry_directory_history_checkpoint(null(), 0, null(), o) }),
        ),
    ];
    for (name, call) in nulls {
        let mut buf = ConsentryBuf {
            ptr: std::ptr::dangling_mut(),
            len: 3,
        };
        assert_eq!(call(&mut buf), ConsentryStatus::NullArgument, "{name}");
        assert!(
            buf.ptr.is_null() && buf.len == 0,
            "{name}: the out buffer is reset"
        );
        assert!(last_error().ends_with("is NULL"), "{name}");
        // The out-pointer itself NULL is refused too.
        assert_eq!(call(null_mut()), ConsentryStatus::NullArgument, "{name}");
    }
}

#[test]
fn bad_bytes_give_the_exact_status_and_code() {
    let key = [0u8; 32];
    let provider = cstr(Scenario::canteen().dgfip);
    // SAFETY: every pointer is valid for its length, or a NUL-terminated string.
    let parent = Scenario::canteen().parent;
    let shape = format!(r#"{{"subject":"{parent}","tree_size":0,"items":[],"extra":1}}"#);
    let hex = format!(
        r#"{{"subject":"{parent}","tree_size":1,"items":[{{"index":0,"entry":"abc","path":[]}}]}}"#
    );
    let cases: [(&str, ConsentryStatus, &str, BufCall<'_>); 7] = unsafe {
        [
            (
                "entry",
                ConsentryStatus::InvalidInput,
                "log/malformed_entry",
                Box::new(|o| consentry_log_entry_inspect(GARBAGE.as_ptr(), GARBAGE.len(), o)),
            ),
            (
                "receipt",
                ConsentryStatus::InvalidInput,
                "log/malformed_object",
                Box::new(|o| consentry_log_entry_receipt(GARBAGE.as_ptr(), GARBAGE.len(), o)),
            ),
            (
                "head",
                ConsentryStatus::InvalidInput,
                "log/malformed_head",
                Box::new(|o| {
                    consentry_tree_head_verify(
                        GARBAGE.as_ptr(),
                        GARBAGE.len(),
                        provider.as_ptr(),
                        key.as_ptr(),
                        32,
                        o,
                    )
                }),
            ),
            (
                "short key",
                ConsentryStatus::InvalidInput,
                "operator_key: a public key is 32 bytes",
                Box::new(|o| {
                    consentry_tree_head_verify(
                        GARBAGE.as_ptr(),
                        GARBAGE.len(),
                        provider.as_ptr(),
                        key.as_ptr(),
                        31,
                        o,
                    )
                }),
            ),
            (
                "history syntax",
                ConsentryStatus::InvalidJson,
                "history:",
                Box::new(|o| {
                    consentry_verify_history(
                        b"{".as_ptr(),
                        1,
                        GARBAGE.as_ptr(),
                        GARBAGE.len(),
                        provider.as_ptr(),
                        key.as_ptr(),
                        32,
                        o,
                    )
                }),
            ),
            (
                "history shape",
                ConsentryStatus::InvalidInput,
                "unknown field",
                Box::new(|o| {
                    consentry_verify_history(
                        shape.as_ptr(),
                        shape.len(),
                        GARBAGE.as_ptr(),
                        GARBAGE.len(),
                        provider.as_ptr(),
                        key.as_ptr(),
                        32,
                        o,
                    )
                }),
            ),
            (
                "history hex",
                ConsentryStatus::InvalidInput,
                "history item 0: entry is not hexadecimal",
                Box::new(|o| {
                    consentry_verify_history(
                        hex.as_ptr(),
                        hex.len(),
                        GARBAGE.as_ptr(),
                        GARBAGE.len(),
                        provider.as_ptr(),
                        key.as_ptr(),
                        32,
                        o,
                    )
                }),
            ),
        ]
    };
    for (name, want, message, call) in cases {
        let (got, out) = with_buf(call);
        assert_eq!(got, want, "{name}");
        assert!(out.is_empty(), "{name}: nothing written");
        let error = last_error();
        assert!(error.contains(message), "{name}: {error}");
    }
    // The messages, one call at a time (the last error is replaced by each call).
    // SAFETY: as above.
    unsafe {
        let (_, _) = with_buf(|o| consentry_log_entry_inspect(GARBAGE.as_ptr(), GARBAGE.len(), o));
        assert!(last_error().starts_with("log/malformed_entry: "));
        let mut h: *mut ConsentryDirectoryHistory = null_mut();
        assert_eq!(
            consentry_directory_history_load(
                GARBAGE.as_ptr(),
                GARBAGE.len(),
                key.as_ptr(),
                32,
                &mut h
            ),
            ConsentryStatus::InvalidInput
        );
        assert_eq!(
            consentry_directory_history_load(
                GARBAGE.as_ptr(),
                GARBAGE.len(),
                key.as_ptr(),
                33,
                &mut h
            ),
            ConsentryStatus::InvalidInput
        );
        assert!(last_error().contains("a public key is 32 bytes, got 33"));
        let mut v: *mut ConsentryVerifier = null_mut();
        assert_eq!(
            consentry_verifier_new(c"not-a-uuid".as_ptr(), null(), null(), &mut v),
            ConsentryStatus::InvalidInput
        );
        assert_eq!(
            consentry_verifier_new(provider.as_ptr(), c"rot13".as_ptr(), null(), &mut v),
            ConsentryStatus::InvalidInput
        );
        assert!(last_error().starts_with("crypto/unknown_provider: "));
        let aws = consentry_verifier_new(provider.as_ptr(), c"aws-lc-rs".as_ptr(), null(), &mut v);
        if cfg!(feature = "aws-lc-rs") {
            assert_eq!(aws, ConsentryStatus::Ok);
        } else {
            assert_eq!(aws, ConsentryStatus::Unsupported);
        }
        consentry_verifier_free(v);
        let mut k: *mut ConsentrySigningKey = null_mut();
        assert_eq!(
            consentry_signing_key_from_seed_with(c"ring".as_ptr(), key.as_ptr(), 31, &mut k),
            ConsentryStatus::InvalidInput
        );
        assert!(k.is_null());
    }
    assert_eq!(
        from_hex("0g", "x").unwrap_err().status,
        ConsentryStatus::InvalidInput
    );
    assert_eq!(
        from_hex("abc", "x").unwrap_err().status,
        ConsentryStatus::InvalidInput
    );
    assert_eq!(from_hex("00fF", "x").unwrap(), [0, 255]);
    assert_eq!(to_hex(&[0, 255, 16]), "00ff10");
}

#[test]
fn directory_updates_refused_by_kind() {
    let s = Scenario::canteen();
    let operator = key_for("operator");
    let genesis = DirectorySnapshot::genesis(s.directory.clone(), s.now).sign(&operator);
    let history = DirectoryHistory::load(&genesis, &operator.verifying_key()).unwrap();
    let rotation = history.next_update(s.now.plus_secs(60)).rotate_key(
        s.mairie,
        s.key(s.mairie).key_id(),
        PartyKey::new(key_for("mairie-2").verifying_key(), s.now.plus_secs(60)),
    );
    let by_operator = rotation.sign(&operator);
    let by_someone = rotation.sign(&key_for("someone"));
    let anchor = *operator.verifying_key().as_bytes();
    let mut h: *mut ConsentryDirectoryHistory = null_mut();
    // SAFETY: every pointer is valid for its length; `h` is a live handle once loaded.
    unsafe {
        assert_eq!(
            consentry_directory_history_load(
                genesis.as_ptr(),
                genesis.len(),
                anchor.as_ptr(),
                32,
                &mut h
            ),
            ConsentryStatus::Ok
        );
        assert_eq!(
            consentry_directory_history_apply(h, by_someone.as_ptr(), by_someone.len(), null_mut()),
            ConsentryStatus::VerifyFailed
        );
        assert!(last_error().starts_with("update/not_operator_key: "));
        let mut version = 9;
        assert_eq!(
            consentry_directory_history_apply(
                h,
                by_operator.as_ptr(),
                by_operator.len(),
                &mut version
            ),
            ConsentryStatus::Ok
        );
        assert_eq!(version, 1);
        assert_eq!(
            consentry_directory_history_apply(
                h,
                by_operator.as_ptr(),
                by_operator.len(),
                null_mut()
            ),
            ConsentryStatus::Refused
        );
        assert!(last_error().starts_with("update/already_applied: "));
        let mut d: *mut ConsentryDirectory = null_mut();
        assert_eq!(
            consentry_directory_history_at(h, s.now.secs() - 1, &mut d),
            ConsentryStatus::InvalidInput
        );
        assert!(last_error().starts_with("update/before_history: "));
        // Before the rotation the new key is unknown; after it, listed.
        let new_kid = key_for("mairie-2").key_id();
        assert_eq!(
            consentry_directory_history_at(h, s.now.secs(), &mut d),
            ConsentryStatus::Ok
        );
        assert!((*d).0.key(&new_kid).is_none());
        consentry_directory_free(d);
        assert_eq!(
            consentry_directory_history_current(h, &mut d),
            ConsentryStatus::Ok
        );
        assert!((*d).0.key(&new_kid).is_some());
        consentry_directory_free(d);
        consentry_directory_history_free(h);
    }
}

#[test]
fn decisions_receipts_denials_and_the_ledger_log() {
    let s = Scenario::canteen();
    let grant = s.sign_grant(&s.grant().build(&s.ceilings).unwrap());
    let request = s.sign_request(&s.request(&grant));
    let provider = cstr(s.dgfip);
    let parent = cstr(s.parent);
    let dgfip = key_handle("dgfip");
    let directory = Box::into_raw(Box::new(ConsentryDirectory(s.directory.clone())));
    let ceilings = Box::into_raw(Box::new(ConsentryCeilings(s.ceilings.clone())));
    let mut ledger: *mut ConsentryLedger = null_mut();
    let mut verifier: *mut ConsentryVerifier = null_mut();
    // SAFETY: every handle is live until freed at the end; every buffer valid for its length.
    unsafe {
        assert_eq!(consentry_ledger_new(&mut ledger), ConsentryStatus::Ok);
        assert_eq!(
            consentry_verifier_new(provider.as_ptr(), c"ring".as_ptr(), dgfip, &mut verifier),
            ConsentryStatus::Ok
        );
        let decide = |req: &[u8], keep: bool| {
            let mut d: *mut ConsentryDecision = null_mut();
            let (st, out) = with_buf(|o| {
                consentry_verifier_decide(
                    verifier,
                    directory,
                    ceilings,
                    ledger,
                    req.as_ptr(),
                    req.len(),
                    grant.as_ptr(),
                    grant.len(),
                    s.now.secs(),
                    o,
                    if keep { &mut d } else { null_mut() },
                )
            });
            (st, json_of(&out), d)
        };
        let (st, allow, d) = decide(&request, true);
        assert_eq!(st, ConsentryStatus::Ok, "{allow}");
        let (st, receipt) = with_buf(|o| consentry_decision_receipt(d, o));
        assert_eq!(st, ConsentryStatus::Ok);
        assert_eq!(allow["receipt"], to_hex(&receipt));
        assert_eq!(
            with_buf(|o| consentry_decision_denial_entry(d, o)).0,
            ConsentryStatus::InvalidInput
        );
        assert_eq!(
            with_buf(|o| consentry_receipt_issue(d, dgfip, c"x".as_ptr(), 0, o)).0,
            ConsentryStatus::InvalidInput
        );
        assert!(last_error().starts_with("receipt_id is not a UUID"));
        let (st, issued) = with_buf(|o| consentry_receipt_issue(d, dgfip, null(), s.now.secs(), o));
        assert_eq!(st, ConsentryStatus::Ok);
        // Two receipts of one allow differ by their ids only: both read as receipts.
        assert_ne!(issued, receipt);
        consentry_decision_free(d);
        // The replay: a deny, whose denial entry reads back with its code and subject.
        let (st, _, d) = decide(&request, true);
        assert_eq!(st, ConsentryStatus::Denied);
        assert_eq!(
            with_buf(|o| consentry_decision_receipt(d, o)).0,
            ConsentryStatus::InvalidInput
        );
        let (st, entry) = with_buf(|o| consentry_decision_denial_entry(d, o));
        assert_eq!(st, ConsentryStatus::Ok);
        let info =
            json_of(&with_buf(|o| consentry_log_entry_inspect(entry.as_ptr(), entry.len(), o)).1);
        assert_eq!(info["kind"], "denial");
        assert_eq!(info["subject"], s.parent.to_string());
        assert_eq!(info["about"]["reasons"][0], "replayed_request");
        consentry_decision_free(d);
        // The ledger's log holds the receipt and the denial; its head verifies, and a head
        // with one byte changed does not.
        let mut size = 0;
        assert_eq!(
            consentry_ledger_log_size(ledger, &mut size),
            ConsentryStatus::Ok
        );
        assert_eq!(size, 2);
        let (st, head) = with_buf(|o| {
            consentry_ledger_sign_head(ledger, dgfip, provider.as_ptr(), s.now.secs(), o)
        });
        assert_eq!(st, ConsentryStatus::Ok);
        let public = key_for("dgfip").verifying_key();
        let mut bad = head.clone();
        *bad.last_mut().unwrap() ^= 1;
        assert_eq!(
            with_buf(|o| consentry_tree_head_verify(
                bad.as_ptr(),
                bad.len(),
                provider.as_ptr(),
                public.as_bytes().as_ptr(),
                32,
                o
            ))
            .0,
            ConsentryStatus::VerifyFailed
        );
        assert!(last_error().starts_with("log/bad_signature: "));
        assert_eq!(
            with_buf(|o| consentry_ledger_log_entry(ledger, 2, o)).0,
            ConsentryStatus::InvalidInput
        );
        assert_eq!(
            with_buf(|o| consentry_ledger_log_root(ledger, 3, o)).0,
            ConsentryStatus::InvalidInput
        );
        assert_eq!(
            with_buf(|o| consentry_ledger_log_consistency_proof(ledger, 1, 2, o)).0,
            ConsentryStatus::Ok
        );
        // The parent's history verifies; the same history under another subject does not.
        let (st, history) =
            with_buf(|o| consentry_ledger_access_history(ledger, parent.as_ptr(), 2, o));
        assert_eq!(st, ConsentryStatus::Ok);
        let key = public.as_bytes();
        let (st, report) = with_buf(|o| {
            consentry_verify_history(
                history.as_ptr(),
                history.len(),
                head.as_ptr(),
                head.len(),
                provider.as_ptr(),
                key.as_ptr(),
                32,
                o,
            )
        });
        assert_eq!(st, ConsentryStatus::Ok);
        assert_eq!(json_of(&report)["clean"], true);
        let mut other = json_of(&history);
        other["subject"] = s.mairie.to_string().into();
        let other = other.to_string();
        let (st, report) = with_buf(|o| {
            consentry_verify_history(
                other.as_ptr(),
                other.len(),
                head.as_ptr(),
                head.len(),
                provider.as_ptr(),
                key.as_ptr(),
                32,
                o,
            )
        });
        assert_eq!(st, ConsentryStatus::VerifyFailed);
        let report = json_of(&report);
        assert_eq!(report["failures"][0]["code"], "log/not_about_subject");
        assert_eq!(report["failures"].as_array().unwrap().len(), 2);
        // A head that does not verify leaves no report.
        let (st, report) = with_buf(|o| {
            consentry_verify_history(
                history.as_ptr(),
                history.len(),
                bad.as_ptr(),
                bad.len(),
                provider.as_ptr(),
                key.as_ptr(),
                32,
                o,
            )
        });
        assert_eq!((st, report.len()), (ConsentryStatus::VerifyFailed, 0));
        // The in-memory ledger keeps its decisions; a statement entry about other bytes is refused.
        assert_eq!(
            with_buf(|o| consentry_ledger_take_decisions(ledger, o)).0,
            ConsentryStatus::Ok
        );
        let pause = s.statement(&grant, consentry::Action::Pause, s.parent);
        assert_eq!(
            with_buf(|o| consentry_log_entry_statement(
                pause.as_ptr(),
                pause.len(),
                request.as_ptr(),
                request.len(),
                o
            ))
            .0,
            ConsentryStatus::InvalidInput
        );
        let other_grant =
            s.sign_grant(&s.grant().retention_secs(86_400).build(&s.ceilings).unwrap());
        assert_eq!(
            with_buf(|o| consentry_log_entry_statement(
                pause.as_ptr(),
                pause.len(),
                other_grant.as_ptr(),
                other_grant.len(),
                o
            ))
            .0,
            ConsentryStatus::InvalidInput
        );
        assert!(last_error().starts_with("log/statement_not_about_basis: "));
        consentry_verifier_free(verifier);
        consentry_ledger_free(ledger);
        consentry_directory_free(directory);
        consentry_ceilings_free(ceilings);
    }
    free_key(dgfip);
}

#[test]
fn a_log_kept_apart_indexes_entries_not_raw_bytes() {
    let s = Scenario::canteen();
    let grant = s.sign_grant(&s.grant().build(&s.ceilings).unwrap());
    let parent = cstr(s.parent);
    let mut log: *mut ConsentryLog = null_mut();
    // SAFETY: `log` is live until freed; every buffer is valid for its length.
    unsafe {
        assert_eq!(consentry_log_new(&mut log), ConsentryStatus::Ok);
        let (st, entry) =
            with_buf(|o| consentry_log_entry_grant_issued(grant.as_ptr(), grant.len(), o));
        assert_eq!(st, ConsentryStatus::Ok);
        assert_eq!(
            consentry_log_append(log, entry.as_ptr(), entry.len(), null_mut()),
            ConsentryStatus::Ok
        );
        let mut index = 9;
        assert_eq!(
            consentry_log_append_entry(log, entry.as_ptr(), entry.len(), &mut index),
            ConsentryStatus::Ok
        );
        assert_eq!(index, 1);
        assert_eq!(
            consentry_log_append_entry(log, GARBAGE.as_ptr(), GARBAGE.len(), null_mut()),
            ConsentryStatus::InvalidInput
        );
        let history =
            json_of(&with_buf(|o| consentry_log_access_history(log, parent.as_ptr(), 2, o)).1);
        // The raw append (index 0) is nobody's; the entry appended as one is the parent's.
        assert_eq!(history["items"].as_array().unwrap().len(), 1);
        assert_eq!(history["items"][0]["index"], 1);
        assert_eq!(with_buf(|o| consentry_log_entry(log, 1, o)).1, entry);
        assert_eq!(
            with_buf(|o| consentry_log_entry(log, 2, o)).0,
            ConsentryStatus::InvalidInput
        );
        consentry_log_free(log);
    }
    // The signed head of such a log is one `SignedTreeHead::verify` accepts.
    let key = key_handle("log-operator");
    let operator = cstr(s.dgfip);
    let mut log: *mut ConsentryLog = null_mut();
    // SAFETY: as above.
    unsafe {
        assert_eq!(consentry_log_new(&mut log), ConsentryStatus::Ok);
        let (st, head) = with_buf(|o| consentry_log_sign_head(log, key, operator.as_ptr(), 5, o));
        assert_eq!(st, ConsentryStatus::Ok);
        let head = consentry::log::SignedTreeHead::verify(
            &head,
            s.dgfip,
            &key_for("log-operator").verifying_key(),
        )
        .unwrap();
        assert_eq!((head.tree_size(), head.timestamp().secs()), (0, 5));
        assert_eq!(head.root_hash(), consentry::log::empty_root());
        consentry_log_free(log);
    }
    free_key(key);
    let _ = consentry::log::TreeHead::KIND;
}

#[cfg(feature = "sqlite")]
#[test]
fn a_sqlite_ledger_that_cannot_be_opened_is_a_storage_failure() {
    let dir = std::env::temp_dir();
    let path = cstr(dir.display());
    let mut ledger: *mut ConsentryLedger = std::ptr::dangling_mut();
    // SAFETY: valid strings and out-pointer.
    unsafe {
        assert_eq!(
            consentry_ledger_open_sqlite(path.as_ptr(), &mut ledger),
            ConsentryStatus::Storage
        );
        assert!(ledger.is_null());
        assert!(last_error().starts_with("store/ledger: "));
        assert_eq!(
            consentry_ledger_open_sqlite(c"".as_ptr(), &mut ledger),
            ConsentryStatus::InvalidInput
        );
    }
}

#[cfg(not(feature = "sqlite"))]
#[test]
fn without_the_sqlite_feature_opening_is_unsupported() {
    let mut ledger: *mut ConsentryLedger = std::ptr::dangling_mut();
    // SAFETY: valid string and out-pointer.
    unsafe {
        assert_eq!(
            consentry_ledger_open_sqlite(c"x.db".as_ptr(), &mut ledger),
            ConsentryStatus::Unsupported
        );
    }
    assert!(ledger.is_null());
}

// ---- notifications, deletion evidence, statistics, derivations ----

use consentry::notify::{Carried, Notifier};
use consentry::statement::Action;

/// A call with no buffer out, for tables of probes.
type StatusCall<'a> = Box<dyn Fn() -> ConsentryStatus + 'a>;

#[test]
fn round_functions_refuse_null_pointers_and_reset_their_outputs() {
    let s = Scenario::canteen();
    let party = cstr(s.dgfip);
    let key = [0u8; 32];
    let nulls: [(&str, BufCall<'_>); 17] = [
        // SAFETY (all): NULL handles and inputs, or valid ones, and a valid out buffer.
        (
            "apply_notifying",
            Box::new(|o| unsafe {
                consentry_verifier_apply_statement_notifying(
                    null(),
                    null(),
                    null(),
                    null(),
                    null(),
                    0,
                    null(),
                    0,
                    0,
                    null(),
                    o,
                )
            }),
        ),
        (
            "outbox_pending",
            Box::new(|o| unsafe { consentry_ledger_outbox_pending(null(), 1, o) }),
        ),
        (
            "outbox_enqueue_update",
            Box::new(|o| unsafe {
                consentry_ledger_outbox_enqueue_update(
                    null(),
                    null(),
                    null(),
                    0,
                    party.as_ptr(),
                    null(),
                    0,
                    o,
                )
            }),
        ),
        (
            "receive_statement",
            Box::new(|o| unsafe {
                consentry_inbox_receive_statement(
                    null(),
                    null(),
                    null(),
                    null(),
                    null(),
                    null(),
                    0,
                    0,
                    o,
                )
            }),
        ),
        (
            "receive_update",
            Box::new(|o| unsafe { consentry_inbox_receive_update(null(), null(), null(), 0, o) }),
        ),
        (
            "take_changed",
            Box::new(|o| unsafe { consentry_inbox_take_changed(null(), o) }),
        ),
        (
            "deletion_issue",
            Box::new(|o| unsafe { consentry_deletion_issue(null(), 1, null(), 0, 0, o) }),
        ),
        (
            "verify_history_retention",
            Box::new(|o| unsafe {
                consentry_verify_history_retention(
                    null(),
                    1,
                    null(),
                    0,
                    null(),
                    null(),
                    0,
                    null(),
                    0,
                    o,
                )
            }),
        ),
        (
            "ledger_log_entries",
            Box::new(|o| unsafe { consentry_ledger_log_entries(null(), 0, o) }),
        ),
        (
            "log_entries",
            Box::new(|o| unsafe { consentry_log_entries(null(), 0, o) }),
        ),
        (
            "overdue_report",
            Box::new(|o| unsafe {
                consentry_overdue_report(null(), 1, null(), 0, null(), null(), 0, null(), 0, o)
            }),
        ),
        (
            "ledger_overdue_report",
            Box::new(|o| unsafe {
                consentry_ledger_overdue_report(null(), null(), 0, null(), null(), 0, null(), 0, o)
            }),
        ),
        (
            "verify_overdue",
            Box::new(|o| unsafe {
                consentry_verify_overdue(null(), 1, null(), 0, null(), null(), 0, null(), o)
            }),
        ),
        (
            "usage_report",
            Box::new(|o| unsafe {
                consentry_usage_report(null(), 1, null(), 0, null(), null(), 0, 0, 1, 1, o)
            }),
        ),
        (
            "ledger_usage_report",
            Box::new(|o| unsafe {
                consentry_ledger_usage_report(
                    null(),
                    null(),
                    0,
                    party.as_ptr(),
                    key.as_ptr(),
                    32,
                    0,
                    1,
                    1,
                    o,
                )
            }),
        ),
        (
            "usage_report_csv",
            Box::new(|o| unsafe { consentry_usage_report_csv(null(), 1, o) }),
        ),
        (
            "retention_directory",
            Box::new(|o| unsafe {
                let history = format!(r#"{{"subject":"{}","tree_size":0,"items":[]}}"#, s.parent);
                consentry_verify_history_retention(
                    history.as_ptr(),
                    history.len(),
                    GARBAGE.as_ptr(),
                    GARBAGE.len(),
                    party.as_ptr(),
                    key.as_ptr(),
                    32,
                    null(),
                    0,
                    o,
                )
            }),
        ),
    ];
    for (name, call) in nulls {
        let mut buf = ConsentryBuf {
            ptr: std::ptr::dangling_mut(),
            len: 3,
        };
        assert_eq!(call(&mut buf), ConsentryStatus::NullArgument, "{name}");
        assert!(
            buf.ptr.is_null() && buf.len == 0,
            "{name}: the out buffer is reset"
        );
        assert!(last_error().ends_with("is NULL"), "{name}");
        assert_eq!(call(null_mut()), ConsentryStatus::NullArgument, "{name}");
    }
    let statuses: [(&str, StatusCall<'_>); 10] = [
        // SAFETY (all): NULL handles and inputs, or valid ones.
        (
            "acknowledge",
            Box::new(|| unsafe {
                consentry_ledger_outbox_acknowledge(
                    null(),
                    party.as_ptr(),
                    party.as_ptr(),
                    1,
                    null_mut(),
                )
            }),
        ),
        (
            "last_seq",
            Box::new(|| unsafe {
                consentry_ledger_outbox_last_seq(null(), party.as_ptr(), party.as_ptr(), &mut 0)
            }),
        ),
        (
            "inbox_new",
            Box::new(|| unsafe { consentry_inbox_new(null(), &mut null_mut()) }),
        ),
        (
            "inbox_last_seq",
            Box::new(|| unsafe { consentry_inbox_last_seq(null(), party.as_ptr(), &mut 0) }),
        ),
        (
            "inbox_resume",
            Box::new(|| unsafe { consentry_inbox_resume(null(), key.as_ptr(), 32) }),
        ),
        (
            "log_deletion",
            Box::new(|| unsafe { consentry_ledger_log_deletion(null(), null(), null(), 0) }),
        ),
        (
            "append_deletion",
            Box::new(|| unsafe {
                consentry_log_append_deletion(null(), null(), null(), 0, null_mut())
            }),
        ),
        (
            "usage_verify",
            Box::new(|| unsafe {
                consentry_usage_report_verify(null(), 1, null(), 0, null(), 0, null(), null(), 0)
            }),
        ),
        (
            "define_derivations",
            Box::new(|| unsafe { consentry_ceilings_define_derivations(null_mut(), null(), 0) }),
        ),
        (
            "define_derivations_json",
            Box::new(|| unsafe {
                let mut c = ConsentryCeilings(consentry::Ceilings::new());
                consentry_ceilings_define_derivations(&mut c, null(), 2)
            }),
        ),
    ];
    for (name, call) in statuses {
        assert_eq!(call(), ConsentryStatus::NullArgument, "{name}");
        assert!(last_error().ends_with("is NULL"), "{name}");
    }
    // An inbox out-pointer is reset before anything is checked.
    let mut inbox: *mut ConsentryInbox = std::ptr::dangling_mut();
    // SAFETY: a valid out-pointer.
    assert_eq!(
        unsafe { consentry_inbox_new(null(), &mut inbox) },
        ConsentryStatus::NullArgument
    );
    assert!(inbox.is_null());
    // SAFETY: NULL is accepted by the free functions.
    unsafe { consentry_inbox_free(null_mut()) };
}

#[test]
fn round_functions_refuse_bad_bytes_with_their_code() {
    let s = Scenario::canteen();
    let party = cstr(s.dgfip);
    let key = [0u8; 32];
    let directory = ConsentryDirectory(s.directory.clone());
    let ledger = ConsentryLedger(handles::LedgerKind::Memory(
        consentry::ledger::InMemoryLedger::new(),
    ));
    let mairie = key_handle("mairie");
    let log = {
        let mut out = null_mut();
        // SAFETY: a valid out-pointer.
        assert_eq!(unsafe { consentry_log_new(&mut out) }, ConsentryStatus::Ok);
        out
    };
    let history = format!(r#"{{"subject":"{}","tree_size":0,"items":[]}}"#, s.parent);
    let cases: [(&str, ConsentryStatus, &str, BufCall<'_>); 13] = [
        // SAFETY (all): every pointer is valid for its length, a live handle, or a
        // NUL-terminated string; the out buffer is valid.
        (
            "deletion of garbage",
            ConsentryStatus::InvalidInput,
            "log/malformed_object",
            Box::new(|o| unsafe {
                consentry_deletion_issue(GARBAGE.as_ptr(), GARBAGE.len(), mairie, 0, 0, o)
            }),
        ),
        (
            "deleted after stated",
            ConsentryStatus::InvalidInput,
            "a deletion is stated after it happened",
            Box::new(|o| unsafe {
                consentry_deletion_issue(GARBAGE.as_ptr(), GARBAGE.len(), mairie, 2, 1, o)
            }),
        ),
        (
            "history not JSON",
            ConsentryStatus::InvalidJson,
            "history",
            Box::new(|o| unsafe {
                consentry_verify_history_retention(
                    b"{".as_ptr(),
                    1,
                    null(),
                    0,
                    party.as_ptr(),
                    key.as_ptr(),
                    32,
                    &directory,
                    0,
                    o,
                )
            }),
        ),
        (
            "retention with a garbage head",
            ConsentryStatus::InvalidInput,
            "log/malformed_head",
            Box::new(|o| unsafe {
                consentry_verify_history_retention(
                    history.as_ptr(),
                    history.len(),
                    GARBAGE.as_ptr(),
                    GARBAGE.len(),
                    party.as_ptr(),
                    key.as_ptr(),
                    32,
                    &directory,
                    0,
                    o,
                )
            }),
        ),
        (
            "entries beyond the log",
            ConsentryStatus::InvalidInput,
            "log/",
            Box::new(|o| unsafe { consentry_ledger_log_entries(&ledger, 1, o) }),
        ),
        (
            "kept-apart entries beyond the log",
            ConsentryStatus::InvalidInput,
            "log/",
            Box::new(|o| unsafe { consentry_log_entries(log, 1, o) }),
        ),
        (
            "entries not hexadecimal",
            ConsentryStatus::InvalidInput,
            "entry 0 is not hexadecimal",
            Box::new(|o| unsafe {
                consentry_overdue_report(
                    br#"["xyz"]"#.as_ptr(),
                    7,
                    GARBAGE.as_ptr(),
                    GARBAGE.len(),
                    party.as_ptr(),
                    key.as_ptr(),
                    32,
                    &directory,
                    0,
                    o,
                )
            }),
        ),
        (
            "overdue with a garbage head",
            ConsentryStatus::InvalidInput,
            "overdue/head: log/malformed_head",
            Box::new(|o| unsafe {
                consentry_ledger_overdue_report(
                    &ledger,
                    GARBAGE.as_ptr(),
                    GARBAGE.len(),
                    party.as_ptr(),
                    key.as_ptr(),
                    32,
                    &directory,
                    0,
                    o,
                )
            }),
        ),
        (
            "overdue report of the wrong shape",
            ConsentryStatus::InvalidInput,
            "report",
            Box::new(|o| unsafe {
                consentry_verify_overdue(
                    b"{}".as_ptr(),
                    2,
                    b"[]".as_ptr(),
                    2,
                    party.as_ptr(),
                    key.as_ptr(),
                    32,
                    &directory,
                    o,
                )
            }),
        ),
        (
            "overdue report with an over-long path",
            ConsentryStatus::InvalidInput,
            "longer than any proof",
            Box::new(|o| unsafe {
                let path = vec![format!("{:064}", 0); 65];
                let report = serde_json::json!({
                    "head": "00", "at": 0,
                    "items": [{"index": 0, "entry": "00", "path": path}],
                })
                .to_string();
                consentry_verify_overdue(
                    report.as_ptr(),
                    report.len(),
                    b"[]".as_ptr(),
                    2,
                    party.as_ptr(),
                    key.as_ptr(),
                    32,
                    &directory,
                    o,
                )
            }),
        ),
        (
            "statistics with a key of 31 bytes",
            ConsentryStatus::InvalidInput,
            "operator_key",
            Box::new(|o| unsafe {
                consentry_ledger_usage_report(
                    &ledger,
                    GARBAGE.as_ptr(),
                    GARBAGE.len(),
                    party.as_ptr(),
                    key.as_ptr(),
                    31,
                    0,
                    1,
                    1,
                    o,
                )
            }),
        ),
        (
            "a usage report of the wrong shape",
            ConsentryStatus::InvalidInput,
            "report",
            Box::new(|o| unsafe { consentry_usage_report_csv(b"[]".as_ptr(), 2, o) }),
        ),
        (
            "outbox of a party that is not a UUID",
            ConsentryStatus::InvalidInput,
            "is not a UUID",
            Box::new(|o| unsafe {
                consentry_ledger_outbox_enqueue_update(
                    &ledger,
                    std::ptr::dangling(),
                    null(),
                    0,
                    c"nope".as_ptr(),
                    mairie,
                    0,
                    o,
                )
            }),
        ),
    ];
    for (name, want, code, call) in cases {
        let mut buf = ConsentryBuf {
            ptr: std::ptr::dangling_mut(),
            len: 3,
        };
        assert_eq!(call(&mut buf), want, "{name}: {}", last_error());
        assert!(buf.ptr.is_null() && buf.len == 0, "{name}: nothing written");
        let message = last_error();
        assert!(message.contains(code), "{name}: {message}");
    }
    // SAFETY: live handles, valid inputs.
    unsafe {
        assert_eq!(
            consentry_ledger_log_deletion(&ledger, &directory, GARBAGE.as_ptr(), GARBAGE.len()),
            ConsentryStatus::InvalidInput
        );
        assert!(last_error().starts_with("deletion/invalid_object: cbor/wrong_type: "));
        let mut index = 9;
        assert_eq!(
            consentry_log_append_deletion(
                log,
                &directory,
                GARBAGE.as_ptr(),
                GARBAGE.len(),
                &mut index
            ),
            ConsentryStatus::InvalidInput
        );
        assert_eq!(index, 0);
        assert_eq!(
            consentry_usage_report_verify(
                b"{".as_ptr(),
                1,
                b"[]".as_ptr(),
                2,
                null(),
                0,
                party.as_ptr(),
                key.as_ptr(),
                32
            ),
            ConsentryStatus::InvalidJson
        );
        let mut ceilings = ConsentryCeilings(consentry::Ceilings::new());
        let bad = br#"[{"code":"dgfip:x","category":"dgfip:y","kind":"bracket"}]"#;
        assert_eq!(
            consentry_ceilings_define_derivations(&mut ceilings, bad.as_ptr(), bad.len()),
            ConsentryStatus::InvalidInput
        );
        assert!(
            last_error().contains("derivation/bad_max_bounds"),
            "{}",
            last_error()
        );
        let good = br#"[{"code":"dgfip:ok","category":"dgfip:y","kind":"below"}]"#;
        assert_eq!(
            consentry_ceilings_define_derivations(&mut ceilings, good.as_ptr(), good.len()),
            ConsentryStatus::Ok
        );
        assert_eq!(ceilings.0.derivations().iter().count(), 1);
        // All or none: a new derivation before a refused one is not defined either.
        let mixed = br#"[{"code":"dgfip:new","category":"dgfip:y","kind":"above"},{"code":"dgfip:ok","category":"dgfip:y","kind":"above"}]"#;
        assert_eq!(
            consentry_ceilings_define_derivations(&mut ceilings, mixed.as_ptr(), mixed.len()),
            ConsentryStatus::InvalidInput
        );
        assert!(
            last_error().starts_with("derivation/redefined: "),
            "{}",
            last_error()
        );
        assert_eq!(ceilings.0.derivations().iter().count(), 1);
        // The same definition again is accepted.
        assert_eq!(
            consentry_ceilings_define_derivations(&mut ceilings, good.as_ptr(), good.len()),
            ConsentryStatus::Ok
        );
        consentry_log_free(log);
    }
    free_key(mairie);
}

/// The inbox through the ABI: every refusal with its status and code, a redelivery, a fork, a
/// gap, and a statement already known reported as refused but the notification accepted.
#[test]
fn notifications_through_the_abi() {
    let s = Scenario::canteen();
    let grant = {
        let g = s
            .grant()
            .cover(s.cnaf, [consentry::testing::quotient_familial()])
            .build(&s.ceilings)
            .unwrap();
        s.sign_grant(&g)
    };
    let directory = ConsentryDirectory(s.directory.clone());
    let ceilings = ConsentryCeilings(s.ceilings.clone());
    let new_ledger = || {
        ConsentryLedger(handles::LedgerKind::Memory(
            consentry::ledger::InMemoryLedger::new(),
        ))
    };
    let (l_dgfip, l_cnaf) = (new_ledger(), new_ledger());
    let verifier = |party, key| {
        let mut out = null_mut();
        // SAFETY: a NUL-terminated string, a live key handle, a valid out-pointer.
        let st = unsafe { consentry_verifier_new(cstr(party).as_ptr(), null(), key, &mut out) };
        assert_eq!(st, ConsentryStatus::Ok);
        out
    };
    let (k_dgfip, k_cnaf) = (key_handle("dgfip"), key_handle("cnaf"));
    let (v_dgfip, v_cnaf) = (verifier(s.dgfip, k_dgfip), verifier(s.cnaf, k_cnaf));
    let pause = s.statement(&grant, Action::Pause, s.parent);
    // SAFETY (every call below): live handles, inputs valid for their lengths.
    let (st, out) = with_buf(|o| unsafe {
        consentry_verifier_apply_statement_notifying(
            v_dgfip,
            &directory,
            &ceilings,
            &l_dgfip,
            pause.as_ptr(),
            pause.len(),
            grant.as_ptr(),
            grant.len(),
            s.now.secs(),
            null(),
            o,
        )
    });
    assert_eq!(st, ConsentryStatus::Ok, "{}", last_error());
    let doc = json_of(&out);
    let mut recipients: Vec<String> = doc["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["recipient"].as_str().unwrap().to_owned())
        .collect();
    recipients.sort();
    let mut want = vec![s.cnaf.to_string(), s.mairie.to_string()];
    want.sort();
    assert_eq!(recipients, want);
    let (_, pending) = with_buf(|o| unsafe { consentry_ledger_outbox_pending(&l_dgfip, 10, o) });
    assert_eq!(json_of(&pending), doc["notifications"]);
    let to_cnaf = doc["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["recipient"] == s.cnaf.to_string())
        .map(|n| from_hex(n["bytes"].as_str().unwrap(), "bytes").unwrap())
        .unwrap();

    let mut inbox = null_mut();
    let cnaf = cstr(s.cnaf);
    assert_eq!(
        unsafe { consentry_inbox_new(cnaf.as_ptr(), &mut inbox) },
        ConsentryStatus::Ok
    );
    let receive = |bytes: &[u8]| {
        with_buf(|o| unsafe {
            consentry_inbox_receive_statement(
                inbox,
                v_cnaf,
                &directory,
                &ceilings,
                &l_cnaf,
                bytes.as_ptr(),
                bytes.len(),
                s.now.secs(),
                o,
            )
        })
    };
    // Signed by DGFiP for CNAF, numbered 2 while 1 was never applied: a gap.
    let notifier = Notifier {
        emitter: s.dgfip,
        key: s.key(s.dgfip),
    };
    let carried = Carried::Statement {
        statement: pause.clone(),
        basis: grant.clone(),
    };
    let second = notifier.sign(s.cnaf, 2, s.now, &carried);
    assert_eq!(receive(&second), (ConsentryStatus::Refused, Vec::new()));
    assert!(last_error().starts_with("notification/out_of_order: "));
    // Signed by CNAF's own key for DGFiP as emitter: forged.
    let forged = Notifier {
        emitter: s.dgfip,
        key: s.key(s.cnaf),
    }
    .sign(s.cnaf, 1, s.now, &carried);
    assert_eq!(receive(&forged).0, ConsentryStatus::VerifyFailed);
    assert!(last_error().starts_with("notification/forged: "));
    // A directory update where a statement is expected.
    let update = notifier.sign(s.cnaf, 1, s.now, &Carried::DirectoryUpdate(vec![0xd2]));
    assert_eq!(receive(&update).0, ConsentryStatus::Refused);
    assert!(last_error().starts_with("notification/wrong_carried: "));
    assert_eq!(receive(GARBAGE).0, ConsentryStatus::InvalidInput);
    assert!(last_error().starts_with("notification/malformed: "));
    // CNAF learnt of the pause directly first: the notification is accepted, the statement
    // reported refused as a second application of it would be.
    let (st, direct) = with_buf(|o| unsafe {
        consentry_verifier_apply_statement(
            v_cnaf,
            &directory,
            &ceilings,
            &l_cnaf,
            pause.as_ptr(),
            pause.len(),
            grant.as_ptr(),
            grant.len(),
            s.now.secs(),
            o,
        )
    });
    assert_eq!(st, ConsentryStatus::Ok);
    assert_eq!(json_of(&direct)["status"]["status"], "paused");
    let (st, again) = with_buf(|o| unsafe {
        consentry_verifier_apply_statement(
            v_cnaf,
            &directory,
            &ceilings,
            &l_cnaf,
            pause.as_ptr(),
            pause.len(),
            grant.as_ptr(),
            grant.len(),
            s.now.secs(),
            o,
        )
    });
    assert_eq!(st, ConsentryStatus::Refused);
    let (st, out) = receive(&to_cnaf);
    assert_eq!(st, ConsentryStatus::Ok, "{}", last_error());
    let out = json_of(&out);
    assert_eq!(out["outcome"], "statement_refused");
    assert_eq!(out["refusal"]["code"], json_of(&again)["refusal"]["code"]);
    // A redelivery is ignored; another notification under number 1 is a fork.
    assert_eq!(
        json_of(&receive(&to_cnaf).1),
        serde_json::json!({"outcome": "already_applied"})
    );
    let other = notifier.sign(s.cnaf, 1, s.now.plus_secs(1), &carried);
    assert_eq!(receive(&other).0, ConsentryStatus::Refused);
    assert!(last_error().starts_with("notification/fork: "));
    let mut seq = 9;
    let dgfip = cstr(s.dgfip);
    assert_eq!(
        unsafe { consentry_inbox_last_seq(inbox, dgfip.as_ptr(), &mut seq) },
        ConsentryStatus::Ok
    );
    assert_eq!(seq, 1);
    // The stream's state, saved and given back to a new inbox after a restart: the redelivery
    // is still recognised. Bytes that are not one state are refused, the inbox unchanged.
    let (st, saved) = with_buf(|o| unsafe { consentry_inbox_take_changed(inbox, o) });
    assert_eq!(st, ConsentryStatus::Ok);
    assert_eq!(saved.len(), 24 + 32);
    assert_eq!(
        (&saved[..16], &saved[16..24]),
        (&s.dgfip.as_bytes()[..], &1u64.to_be_bytes()[..])
    );
    assert_eq!(
        with_buf(|o| unsafe { consentry_inbox_take_changed(inbox, o) }),
        (ConsentryStatus::Ok, Vec::new())
    );
    let mut resumed = null_mut();
    assert_eq!(
        unsafe { consentry_inbox_new(cnaf.as_ptr(), &mut resumed) },
        ConsentryStatus::Ok
    );
    assert_eq!(
        unsafe { consentry_inbox_resume(resumed, saved.as_ptr(), saved.len() - 1) },
        ConsentryStatus::Storage
    );
    let error = last_error();
    assert!(
        error.starts_with("ledger_corrupt: ")
            && error.contains("inbox stream state: 31 bytes of digests, not 32 (1 kept)")
    );
    assert_eq!(
        unsafe { consentry_inbox_last_seq(resumed, dgfip.as_ptr(), &mut seq) },
        ConsentryStatus::Ok
    );
    assert_eq!(seq, 0);
    assert_eq!(
        unsafe { consentry_inbox_resume(resumed, saved.as_ptr(), saved.len()) },
        ConsentryStatus::Ok
    );
    let (st, out) = with_buf(|o| unsafe {
        consentry_inbox_receive_statement(
            resumed,
            v_cnaf,
            &directory,
            &ceilings,
            &l_cnaf,
            to_cnaf.as_ptr(),
            to_cnaf.len(),
            s.now.secs(),
            o,
        )
    });
    assert_eq!(st, ConsentryStatus::Ok, "{}", last_error());
    assert_eq!(
        json_of(&out),
        serde_json::json!({"outcome": "already_applied"})
    );
    // The outbox: acknowledged up to 1 for CNAF, its counter kept.
    let mut removed = 9;
    assert_eq!(
        unsafe {
            consentry_ledger_outbox_acknowledge(
                &l_dgfip,
                dgfip.as_ptr(),
                cnaf.as_ptr(),
                1,
                &mut removed,
            )
        },
        ConsentryStatus::Ok
    );
    assert_eq!(removed, 1);
    assert_eq!(
        unsafe {
            consentry_ledger_outbox_last_seq(&l_dgfip, dgfip.as_ptr(), cnaf.as_ptr(), &mut seq)
        },
        ConsentryStatus::Ok
    );
    assert_eq!(seq, 1);
    // A verifier without receipts and no emitter key cannot sign notifications.
    let bare = verifier(s.dgfip, null_mut());
    let (st, out) = with_buf(|o| unsafe {
        consentry_verifier_apply_statement_notifying(
            bare,
            &directory,
            &ceilings,
            &l_dgfip,
            pause.as_ptr(),
            pause.len(),
            grant.as_ptr(),
            grant.len(),
            s.now.secs(),
            null(),
            o,
        )
    });
    assert_eq!((st, out), (ConsentryStatus::InvalidInput, Vec::new()));
    unsafe {
        consentry_inbox_free(inbox);
        consentry_inbox_free(resumed);
        consentry_verifier_free(v_dgfip);
        consentry_verifier_free(v_cnaf);
        consentry_verifier_free(bare);
    }
    free_key(k_dgfip);
    free_key(k_cnaf);
}

/// A compromise reported in a directory update: the outbox queues one notice per provider and
/// consumer, and a recipient's inbox applies the update to its history.
#[test]
fn compromise_notices_through_the_abi() {
    let s = Scenario::canteen();
    let operator = key_for("operator");
    let genesis =
        DirectorySnapshot::genesis(s.directory.clone(), s.now.minus_secs(10)).sign(&operator);
    let history = DirectoryHistory::load(&genesis, &operator.verifying_key()).unwrap();
    let update = history
        .next_update(s.now)
        .report_compromise(s.key(s.mairie).key_id(), s.now)
        .sign(&operator);
    let load = || {
        let mut h = null_mut();
        let anchor = operator.verifying_key();
        // SAFETY: inputs valid for their lengths, a valid out-pointer.
        let st = unsafe {
            consentry_directory_history_load(
                genesis.as_ptr(),
                genesis.len(),
                anchor.as_bytes().as_ptr(),
                32,
                &mut h,
            )
        };
        assert_eq!(st, ConsentryStatus::Ok);
        h
    };
    let (emitter_history, cnaf_history) = (load(), load());
    let ledger = ConsentryLedger(handles::LedgerKind::Memory(
        consentry::ledger::InMemoryLedger::new(),
    ));
    let k_dgfip = key_handle("dgfip");
    let dgfip = cstr(s.dgfip);
    // SAFETY (every call below): live handles, inputs valid for their lengths.
    unsafe {
        assert_eq!(
            consentry_directory_history_apply(
                emitter_history,
                update.as_ptr(),
                update.len(),
                null_mut()
            ),
            ConsentryStatus::Ok
        );
    }
    let (st, queued) = with_buf(|o| unsafe {
        consentry_ledger_outbox_enqueue_update(
            &ledger,
            emitter_history,
            update.as_ptr(),
            update.len(),
            dgfip.as_ptr(),
            k_dgfip,
            s.now.secs(),
            o,
        )
    });
    assert_eq!(st, ConsentryStatus::Ok, "{}", last_error());
    let queued = json_of(&queued);
    let mut recipients: Vec<String> = queued
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["recipient"].as_str().unwrap().to_owned())
        .collect();
    recipients.sort();
    let mut want: Vec<String> = [s.cnaf, s.mairie, s.other_consumer]
        .iter()
        .map(ToString::to_string)
        .collect();
    want.sort();
    assert_eq!(recipients, want, "providers and consumers but the emitter");
    let to_cnaf = queued
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["recipient"] == s.cnaf.to_string())
        .map(|n| from_hex(n["bytes"].as_str().unwrap(), "bytes").unwrap())
        .unwrap();
    let mut inbox = null_mut();
    let cnaf = cstr(s.cnaf);
    assert_eq!(
        unsafe { consentry_inbox_new(cnaf.as_ptr(), &mut inbox) },
        ConsentryStatus::Ok
    );
    let (st, out) = with_buf(|o| unsafe {
        consentry_inbox_receive_update(inbox, cnaf_history, to_cnaf.as_ptr(), to_cnaf.len(), o)
    });
    assert_eq!(st, ConsentryStatus::Ok, "{}", last_error());
    assert_eq!(
        json_of(&out),
        serde_json::json!({"outcome": "directory_updated", "version": 1})
    );
    let mut version = 0;
    assert_eq!(
        unsafe { consentry_directory_history_version(cnaf_history, &mut version) },
        ConsentryStatus::Ok
    );
    assert_eq!(version, 1);
    // Not a directory update at all.
    let (st, _) = with_buf(|o| unsafe {
        consentry_ledger_outbox_enqueue_update(
            &ledger,
            emitter_history,
            GARBAGE.as_ptr(),
            GARBAGE.len(),
            dgfip.as_ptr(),
            k_dgfip,
            s.now.secs(),
            o,
        )
    });
    assert_eq!(st, ConsentryStatus::InvalidInput);
    assert!(
        last_error().starts_with("update: cbor/wrong_type: "),
        "{}",
        last_error()
    );
    unsafe {
        consentry_inbox_free(inbox);
        consentry_directory_history_free(emitter_history);
        consentry_directory_history_free(cnaf_history);
    }
    free_key(k_dgfip);
}
