//! The vector codes of refusals, and how valid objects and decisions are stated in the index.

use consentry::Digest;
use consentry::cbor::DecodeError;
use consentry::cose::{Envelope, EnvelopeError, ObjectKind};
use consentry::decision::{Decision, StatementRefusal};
use consentry::directory::{Directory, KeyRefusal};
use consentry::grant::Grant;
use consentry::habilitation::Habilitation;
use consentry::ledger::LifecycleRefusal;
use consentry::request::Request;
use consentry::signed::{ObjectError, ParseError, SignedPayload, Verified, VerifyError};
use consentry::statement::Statement;
use serde::Serialize;
use serde_json::{Value as Json, json};

/// The vector code of a strict-decoding refusal (see `docs/format.md`, "Error codes").
pub fn decode_code(e: &DecodeError) -> &'static str {
    match e {
        DecodeError::Truncated { .. } => "cbor/truncated",
        DecodeError::NonShortest { .. } => "cbor/non_shortest",
        DecodeError::Indefinite { .. } => "cbor/indefinite",
        DecodeError::Malformed { .. } => "cbor/malformed",
        DecodeError::DuplicateKey { .. } => "cbor/duplicate_key",
        DecodeError::UnsortedKeys { .. } => "cbor/unsorted_keys",
        DecodeError::UnknownKey { .. } => "cbor/unknown_key",
        DecodeError::MissingKey { .. } => "cbor/missing_key",
        DecodeError::WrongType { .. } => "cbor/wrong_type",
        DecodeError::UnexpectedTag { .. } => "cbor/unexpected_tag",
        DecodeError::Unsupported { .. } => "cbor/unsupported_simple",
        DecodeError::InvalidUtf8 { .. } => "cbor/invalid_utf8",
        DecodeError::TrailingBytes { .. } => "cbor/trailing_bytes",
        DecodeError::TooDeep { .. } => "cbor/too_deep",
        DecodeError::TooLarge { .. } => "cbor/too_large",
        DecodeError::TooLong { .. } => "cbor/too_long",
        DecodeError::OutOfRange { .. } => "cbor/out_of_range",
        DecodeError::InvalidValue { .. } => "value/invalid",
        DecodeError::UnsupportedVersion { .. } => "payload/unsupported_version",
        _ => "unclassified",
    }
}

/// The vector code of an envelope refusal.
pub fn envelope_code(e: &EnvelopeError) -> &'static str {
    match e {
        EnvelopeError::Malformed(d) => decode_code(d),
        EnvelopeError::WrongTag { .. } => "envelope/wrong_tag",
        EnvelopeError::WrongArity { .. } => "envelope/wrong_arity",
        EnvelopeError::UnsupportedAlgorithm { .. } => "envelope/unsupported_algorithm",
        EnvelopeError::MissingParameter("alg") => "envelope/missing_alg",
        EnvelopeError::MissingParameter("content type") => "envelope/missing_content_type",
        EnvelopeError::MissingParameter(_) => "envelope/missing_kid",
        EnvelopeError::UnexpectedParameter { .. } => "envelope/unexpected_parameter",
        EnvelopeError::UnprotectedHeaderNotEmpty => "envelope/unprotected_not_empty",
        EnvelopeError::UnknownContentType { .. } => "envelope/unknown_content_type",
        EnvelopeError::WrongKind { .. } => "envelope/wrong_kind",
        EnvelopeError::DetachedPayload => "envelope/detached_payload",
        EnvelopeError::SignatureLength { .. } => "envelope/signature_length",
        _ => "unclassified",
    }
}

/// The layer (`envelope`, `payload`, `signature`) and vector code of an object refusal.
pub fn object_error(e: &ObjectError) -> (&'static str, &'static str) {
    match e {
        ObjectError::Parse(ParseError::Envelope(e)) => ("envelope", envelope_code(e)),
        ObjectError::Parse(ParseError::Payload(e)) => ("payload", decode_code(e)),
        ObjectError::Verify(VerifyError::UnknownKey(_)) => ("signature", "signature/unknown_key"),
        ObjectError::Verify(VerifyError::BadSignature) => ("signature", "signature/invalid"),
        ObjectError::Verify(VerifyError::Key(k)) => (
            "signature",
            match k {
                KeyRefusal::UnknownKey { .. } => "signature/unknown_key",
                KeyRefusal::NotSignersKey { .. } => "signature/not_signers_key",
                KeyRefusal::NotYetValid { .. } => "signature/key_not_yet_valid",
                KeyRefusal::Expired { .. } => "signature/key_expired",
                KeyRefusal::Compromised { .. } => "signature/key_compromised",
                _ => "unclassified",
            },
        ),
        _ => ("unclassified", "unclassified"),
    }
}

/// The vector code of a refused lifecycle statement.
pub fn statement_code(r: &StatementRefusal) -> String {
    match r {
        StatementRefusal::Object(reason) => format!("statement/{}", reason.code()),
        StatementRefusal::BasisMismatch => "statement/basis_mismatch".into(),
        StatementRefusal::BasisHashMismatch => "statement/basis_hash_mismatch".into(),
        StatementRefusal::NotEntitled { .. } => "statement/not_entitled".into(),
        StatementRefusal::FromFuture { .. } => "statement/from_future".into(),
        StatementRefusal::Ledger(LifecycleRefusal::AlreadyRevoked { .. }) => {
            "statement/already_revoked".into()
        }
        StatementRefusal::Ledger(LifecycleRefusal::Duplicate) => "statement/duplicate".into(),
        StatementRefusal::Ledger(LifecycleRefusal::ResumePredatesPause { .. }) => {
            "statement/resume_predates_pause".into()
        }
        StatementRefusal::TooOld { .. } => "statement/too_old".into(),
        StatementRefusal::LedgerUnavailable(_) => "statement/ledger_unavailable".into(),
        _ => "unclassified".into(),
    }
}

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
    bytes: &[u8],
    dir: &Directory,
) -> Result<ValidObject, ObjectError> {
    let v = Verified::<T>::parse_and_verify(bytes, dir)?;
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
    let out = match kind {
        ObjectKind::Grant => check::<Grant>(bytes, dir),
        ObjectKind::Habilitation => check::<Habilitation>(bytes, dir),
        ObjectKind::Statement => check::<Statement>(bytes, dir),
        ObjectKind::Request => check::<Request>(bytes, dir),
        other => panic!("no payload is defined for a {other}"),
    };
    out.map_err(|e| object_error(&e))
}

/// The JSON form of a decision as the vectors state it.
pub fn decision_json(d: &Decision) -> Json {
    match d {
        Decision::Allow(a) => json!({
            "decision": "allow",
            "authorization": serde_json::to_value(a).unwrap_or(Json::Null),
        }),
        Decision::Deny { .. } => json!({"decision": "deny", "reasons": d.codes()}),
    }
}
