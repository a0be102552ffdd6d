//! The vector codes of refusals, and how valid objects and decisions are stated in the index.

use consentry::Digest;
use consentry::cose::{Envelope, ObjectKind};
use consentry::crypto::{self, CryptoProvider};
use consentry::decision::Decision;
use consentry::directory::Directory;
use consentry::grant::Grant;
use consentry::habilitation::Habilitation;
use consentry::request::Request;
use consentry::signed::{ObjectError, SignedPayload, Verified};
use consentry::statement::Statement;
use serde::Serialize;
use serde_json::{Value as Json, json};

/// What a valid object decodes to.
pub struct ValidObject {
    /// The payload's JSON form.
    pub claims: Json,
    /// SHA-256 of the exact signed bytes.
    pub digest: Digest,
    /// Whether re-encoding the decoded payload gives the signed payload bytes back.
    pub round_trips: bool,
}

fn check<T: SignedPayload + Serialize>(
    provider: &CryptoProvider,
    bytes: &[u8],
    dir: &Directory,
) -> Result<ValidObject, ObjectError> {
    let v = Verified::<T>::parse_and_verify_with(provider, bytes, dir)?;
    let payload = Envelope::parse(bytes)
        .map(|e| e.payload().to_vec())
        .unwrap_or_default();
    Ok(ValidObject {
        claims: serde_json::to_value(v.claims()).unwrap_or(Json::Null),
        digest: v.digest(),
        round_trips: v.claims().to_payload_bytes() == payload,
    })
}

/// Parses and verifies `bytes` as an object of `kind` against `dir`.
pub fn check_object(
    kind: ObjectKind,
    bytes: &[u8],
    dir: &Directory,
) -> Result<ValidObject, (&'static str, &'static str)> {
    check_object_with(&crypto::RING, kind, bytes, dir)
}

/// As [`check_object`], verifying with `provider`.
pub fn check_object_with(
    provider: &CryptoProvider,
    kind: ObjectKind,
    bytes: &[u8],
    dir: &Directory,
) -> Result<ValidObject, (&'static str, &'static str)> {
    let out = match kind {
        ObjectKind::Grant => check::<Grant>(provider, bytes, dir),
        ObjectKind::Habilitation => check::<Habilitation>(provider, bytes, dir),
        ObjectKind::Statement => check::<Statement>(provider, bytes, dir),
        ObjectKind::Request => check::<Request>(provider, bytes, dir),
        other => panic!("no payload is defined for a {other}"),
    };
    out.map_err(|e| (e.layer(), e.code()))
}

/// The JSON form of a decision as the vectors state it.
pub fn decision_json(d: &Decision) -> Json {
    match d {
        Decision::Allow(a) => json!({
            "decision": "allow",
            "authorization": serde_json::to_value(a).unwrap_or(Json::Null),
        }),
        Decision::Deny(_) => json!({"decision": "deny", "reasons": d.codes()}),
    }
}
