//! The vector codes of the log layer's refusals, and the JSON forms of outcomes and proofs.

use consentry::Digest;
use consentry::log::{ConsistencyProof, InclusionProof, LogError, ProofError};
use consentry::signed::{ObjectError, ParseError};
use serde_json::{Value as Json, json};

use super::super::codes::{decode_code, envelope_code, object_error};

/// The vector code of a refusal of the log layer (see `docs/format.md`, "The transfer log").
pub fn log_code(e: &LogError) -> &'static str {
    match e {
        LogError::Proof(p) => proof_code(p),
        LogError::MalformedEntry(_) => "log/malformed_entry",
        LogError::MalformedObject { .. } => "log/malformed_object",
        LogError::StatementNotAboutBasis { .. } => "log/statement_not_about_basis",
        LogError::InvalidDenial(_) => "log/invalid_denial",
        LogError::MalformedHead(_) => "log/malformed_head",
        LogError::WrongKey { .. } => "log/wrong_key",
        LogError::BadSignature => "log/bad_signature",
        LogError::HeadKey(_) => "log/head_key",
        LogError::WrongLog { .. } => "log/wrong_log",
        LogError::Rollback { .. } => "log/rollback",
        LogError::Fork { .. } => "log/fork",
        LogError::ConsistencyProofRequired { .. } => "log/consistency_proof_required",
        LogError::InclusionProofMismatch { .. } => "log/inclusion_proof_mismatch",
        LogError::ConsistencyProofMismatch { .. } => "log/consistency_proof_mismatch",
        LogError::TimeRegression { .. } => "log/time_regression",
        LogError::NotAboutSubject { .. } => "log/not_about_subject",
        LogError::HistoryOrder { .. } => "log/history_order",
        LogError::IndexTooLarge(_) => "log/index_too_large",
        _ => "unclassified",
    }
}

/// The vector code of a Merkle proof refusal.
pub fn proof_code(e: &ProofError) -> &'static str {
    match e {
        ProofError::RootMismatch => "log/root_mismatch",
        ProofError::WrongProofLength { .. } => "log/proof_length",
        ProofError::ProofTooLong { .. } => "log/proof_too_long",
        ProofError::IndexOutOfRange { .. } => "log/index_out_of_range",
        ProofError::SizeOutOfRange { .. } => "log/size_out_of_range",
        ProofError::InvalidSizes { .. } => "log/invalid_sizes",
        ProofError::EmptyProofRequired { .. } => "log/empty_proof_required",
        _ => "unclassified",
    }
}

pub fn parse_code(e: &ParseError) -> &'static str {
    match e {
        ParseError::Envelope(e) => envelope_code(e),
        ParseError::Payload(e) => decode_code(e),
        _ => "unclassified",
    }
}

/// The code of the underlying decoding or signature refusal, for the refusals that wrap one.
pub fn log_cause(e: &LogError) -> Option<&'static str> {
    match e {
        LogError::MalformedEntry(d) => Some(decode_code(d)),
        LogError::MalformedObject { error, .. } | LogError::MalformedHead(error) => {
            Some(parse_code(error))
        }
        LogError::HeadKey(v) => Some(object_error(&ObjectError::Verify(v.clone())).1),
        _ => None,
    }
}

/// The expected outcome of a check, as the vectors state it.
pub fn outcome(result: Result<(), &LogError>) -> Json {
    match result {
        Ok(()) => json!({"outcome": "valid"}),
        Err(e) => match log_cause(e) {
            Some(cause) => json!({"outcome": "invalid", "error": log_code(e), "cause": cause}),
            None => json!({"outcome": "invalid", "error": log_code(e)}),
        },
    }
}

/// The JSON form of a list of hashes.
pub fn hashes(path: &[Digest]) -> Json {
    Json::Array(path.iter().map(|h| Json::String(h.to_hex())).collect())
}

pub fn inclusion_json(p: &InclusionProof) -> Json {
    json!({"leaf_index": p.leaf_index, "tree_size": p.tree_size, "path": hashes(&p.path)})
}

pub fn consistency_json(p: &ConsistencyProof) -> Json {
    json!({"old_size": p.old_size, "new_size": p.new_size, "path": hashes(&p.path)})
}

pub fn flip(bytes: &[u8], at: usize) -> Vec<u8> {
    let mut out = bytes.to_vec();
    out[at] ^= 0x01;
    out
}

pub fn flip_hash(h: Digest) -> Digest {
    let mut b = h.0;
    b[31] ^= 0x01;
    Digest(b)
}
