//! Issuing signed objects from their JSON form, and reading one back.

use super::handles::{ConsentryCeilings, ConsentrySigningKey};
use super::{
    ConsentryBuf, ConsentryStatus, Failure, FfiResult, bytes, from_json, guard, handle, out_buf,
    text, to_json,
};
use consentry::Digest;
use consentry::ceiling::CeilingExcess;
use consentry::cose::{Envelope, ObjectKind};
use consentry::grant::Grant;
use consentry::habilitation::Habilitation;
use consentry::request::Request;
use consentry::signed::{SignedPayload, Unverified};
use consentry::statement::Statement;

fn within(excesses: &[CeilingExcess], what: &str) -> FfiResult<()> {
    if excesses.is_empty() {
        return Ok(());
    }
    let detail = serde_json::to_string(excesses).unwrap_or_default();
    Err(Failure::new(
        ConsentryStatus::BeyondCeiling,
        format!("the {what} goes beyond the purpose ceilings: {detail}"),
    ))
}

/// Signs `payload` and checks that the result reads back strictly, so that nothing is handed
/// out that a verifier would refuse as malformed (unsorted categories, over-long texts…).
fn sign_checked<T: SignedPayload>(payload: &T, key: &ConsentrySigningKey) -> FfiResult<Vec<u8>> {
    let signed = payload.sign(&key.0);
    let _checked = Unverified::<T>::parse(&signed).map_err(|e| {
        Failure::invalid(format!(
            "the {} would not be well formed: {e}",
            T::KIND.name()
        ))
    })?;
    Ok(signed)
}

/// The shared body of the four issue functions.
///
/// # Safety
/// `json`, `key` and `out` as documented on the issue functions.
unsafe fn issue<T: SignedPayload>(
    json: *const u8,
    len: usize,
    key: *const ConsentrySigningKey,
    out: *mut ConsentryBuf,
    build: impl FnOnce(&str) -> FfiResult<T>,
) -> ConsentryStatus {
    guard(|| {
        // SAFETY: the caller's guarantees on `out`, `key` and `json`.
        let out = unsafe { out_buf(out, "out") }?;
        // SAFETY: as above.
        let key = unsafe { handle(key, "key") }?;
        // SAFETY: as above.
        let json = unsafe { text(json, len, "json") }?;
        let payload = build(json)?;
        out.set(ConsentryBuf::from_vec(sign_checked(&payload, key)?));
        Ok(ConsentryStatus::Ok)
    })
}

/// Issues a consent grant: reads its JSON form (`id`, `subject`, optional `chain`, `consumer`,
/// `scope`, `purpose`, `issued_at`, `not_before`, `expires_at`, `access`, `data_range`,
/// `retention_secs`, optional `onward_transfer`), refuses it with `BEYOND_CEILING` if it goes
/// beyond `ceilings` and with `INVALID_INPUT` if its chain of representation is longer than 3
/// links or names a party twice or the subject, and writes the COSE_Sign1 bytes signed with
/// `key` into `*out`. The key should be the one the chain's first party (the subject, without a
/// chain) holds in the directory, or verifiers will refuse the grant.
///
/// # Safety
/// `json` is `NULL` (with `len` 0) or valid for reads of `len` bytes; `key` and `ceilings` are
/// `NULL` or live handles; `out` is `NULL` or valid for writing a [`ConsentryBuf`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn consentry_issue_grant(
    json: *const u8,
    len: usize,
    key: *const ConsentrySigningKey,
    ceilings: *const ConsentryCeilings,
    out: *mut ConsentryBuf,
) -> ConsentryStatus {
    let build = |json: &str| {
        // SAFETY: the caller's guarantee on `ceilings`.
        let ceilings = &unsafe { handle(ceilings, "ceilings") }?.0;
        let grant: Grant = from_json(json, "grant")?;
        within(&ceilings.excesses(&grant.ceiling_terms()), "grant")?;
        Ok(grant)
    };
    // SAFETY: the caller's guarantees on `json`, `key` and `out`, passed on unchanged.
    unsafe { issue(json, len, key, out, build) }
}

/// Issues a habilitation: reads its JSON form (`id`, `authority`, `consumer`, `scope`,
/// `purpose`, `legal_reference`, `issued_at`, `not_before`, `expires_at`, `retention_secs`),
/// refuses it with `BEYOND_CEILING` if it goes beyond `ceilings`, and writes the COSE_Sign1
/// bytes signed with `key` (the authority's) into `*out`.
///
/// # Safety
/// As [`consentry_issue_grant`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn consentry_issue_habilitation(
    json: *const u8,
    len: usize,
    key: *const ConsentrySigningKey,
    ceilings: *const ConsentryCeilings,
    out: *mut ConsentryBuf,
) -> ConsentryStatus {
    let build = |json: &str| {
        // SAFETY: the caller's guarantee on `ceilings`.
        let ceilings = &unsafe { handle(ceilings, "ceilings") }?.0;
        let h: Habilitation = from_json(json, "habilitation")?;
        within(&ceilings.excesses(&h.ceiling_terms()), "habilitation")?;
        Ok(h)
    };
    // SAFETY: the caller's guarantees on `json`, `key` and `out`, passed on unchanged.
    unsafe { issue(json, len, key, out, build) }
}

/// Issues a lifecycle statement: reads its JSON form (`basis`, `basis_digest` — 64 hex digits,
/// see `consentry_digest_hex` —, `action`: `"pause"`, `"resume"` or `"revoke"`, `issued_by`,
/// `issued_at`) and writes the COSE_Sign1 bytes signed with `key` into `*out`.
///
/// # Safety
/// `json` is `NULL` (with `len` 0) or valid for reads of `len` bytes; `key` is `NULL` or a live
/// handle; `out` is `NULL` or valid for writing a [`ConsentryBuf`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn consentry_issue_statement(
    json: *const u8,
    len: usize,
    key: *const ConsentrySigningKey,
    out: *mut ConsentryBuf,
) -> ConsentryStatus {
    // SAFETY: the caller's guarantees, passed on unchanged.
    unsafe {
        issue(json, len, key, out, |json| {
            from_json::<Statement>(json, "statement")
        })
    }
}

/// Issues a transfer request: reads its JSON form (`id`, `basis`, `basis_digest`, `consumer`,
/// `provider`, `subject`, `categories` — sorted, without repetition —, `purpose`, `data_range`,
/// `issued_at`) and writes the COSE_Sign1 bytes signed with `key` (the consumer's) into `*out`.
///
/// # Safety
/// As [`consentry_issue_statement`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn consentry_issue_request(
    json: *const u8,
    len: usize,
    key: *const ConsentrySigningKey,
    out: *mut ConsentryBuf,
) -> ConsentryStatus {
    // SAFETY: the caller's guarantees, passed on unchanged.
    unsafe {
        issue(json, len, key, out, |json| {
            from_json::<Request>(json, "request")
        })
    }
}

/// Reads a signed object **without verifying it** and writes into `*out` a JSON object
/// `{"kind", "content_type", "kid", "digest", "claims"}`: its kind, key id, the SHA-256 of its
/// exact bytes (what requests and statements name as `basis_digest`) and its claims (for a
/// grant, habilitation, statement, request, deletion statement or notification; `null` for
/// other kinds). Nothing in it is authenticated: to act on an object, pass it
/// to `consentry_decide` or `consentry_apply_statement`.
///
/// # Safety
/// `object` is `NULL` (with `len` 0) or valid for reads of `len` bytes; `out` is `NULL` or valid
/// for writing a [`ConsentryBuf`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn consentry_object_inspect(
    object: *const u8,
    len: usize,
    out: *mut ConsentryBuf,
) -> ConsentryStatus {
    guard(|| {
        fn claims<T: SignedPayload + serde::Serialize>(b: &[u8]) -> FfiResult<serde_json::Value> {
            let u = Unverified::<T>::parse(b).map_err(|e| Failure::invalid(e.to_string()))?;
            serde_json::to_value(u.claims())
                .map_err(|e| Failure::new(ConsentryStatus::Internal, e.to_string()))
        }
        // SAFETY: the caller's guarantees on `out` and `object`.
        let out = unsafe { out_buf(out, "out") }?;
        // SAFETY: as above.
        let object = unsafe { bytes(object, len, "object") }?;
        let env = Envelope::parse(object).map_err(|e| Failure::invalid(e.to_string()))?;
        let claims = match env.kind() {
            ObjectKind::Grant => claims::<Grant>(object)?,
            ObjectKind::Habilitation => claims::<Habilitation>(object)?,
            ObjectKind::Statement => claims::<Statement>(object)?,
            ObjectKind::Request => claims::<Request>(object)?,
            ObjectKind::Deletion => claims::<consentry::deletion::Deletion>(object)?,
            ObjectKind::Notification => claims::<consentry::notify::Notification>(object)?,
            _ => serde_json::Value::Null,
        };
        let doc = serde_json::json!({
            "kind": env.kind(),
            "content_type": env.kind().content_type(),
            "kid": env.kid().to_hex(),
            "digest": Digest::of(object).to_hex(),
            "claims": claims,
        });
        out.set(ConsentryBuf::from_vec(to_json(&doc)?));
        Ok(ConsentryStatus::Ok)
    })
}
