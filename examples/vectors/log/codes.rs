//! The vector codes of the log layer's refusals, and the JSON forms of outcomes and proofs.

use consentry::Digest;
use consentry::log::{ConsistencyProof, InclusionProof, LogError};
use serde_json::{Value as Json, json};

/// The expected outcome of a check, as the vectors state it.
pub fn outcome(result: Result<(), &LogError>) -> Json {
    match result {
        Ok(()) => json!({"outcome": "valid"}),
        Err(e) => match e.cause() {
            Some(cause) => json!({"outcome": "invalid", "error": e.code(), "cause": cause}),
            None => json!({"outcome": "invalid", "error": e.code()}),
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
    let mut b = *h.as_bytes();
    b[31] ^= 0x01;
    Digest::from_bytes(b)
}
