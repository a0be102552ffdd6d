//! Runs the transparency-dev/merkle proof verification vectors (`tests/data/merkle/`) through the
//! tree-free verifiers and checks each file's `wantErr` outcome.

use std::fs;
use std::path::{Path, PathBuf};

use consentry::Digest;
use consentry::log::{verify_consistency, verify_inclusion};
use serde_json::Value;

/// Decodes standard base64 (RFC 4648 §4, with `=` padding). Panics on malformed input, which
/// would mean a corrupted vector file.
fn base64(text: &str) -> Vec<u8> {
    fn sextet(c: u8) -> u32 {
        match c {
            b'A'..=b'Z' => u32::from(c - b'A'),
            b'a'..=b'z' => u32::from(c - b'a') + 26,
            b'0'..=b'9' => u32::from(c - b'0') + 52,
            b'+' => 62,
            b'/' => 63,
            _ => panic!("not a base64 character: {:?}", char::from(c)),
        }
    }
    let data = text.trim_end_matches('=').as_bytes();
    assert!(data.len() % 4 != 1, "truncated base64: {text:?}");
    let mut out = Vec::with_capacity(data.len() * 3 / 4);
    for chunk in data.chunks(4) {
        let mut acc = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            acc |= sextet(c) << (18 - 6 * i);
        }
        let bytes = acc.to_be_bytes();
        out.extend_from_slice(&bytes[1..chunk.len()]);
    }
    out
}

/// A hash from a vector. The vectors also hold malformed hashes (empty or 9 bytes), which no
/// `Digest` can carry: with this API they are refused when the `Digest` is made, before any
/// verification. Such a hash is zero-padded or cut to 32 bytes so the verifiers still see the
/// case, and flagged so the case counts as refused.
struct Hash {
    digest: Digest,
    well_formed: bool,
}

fn hash(value: &Value) -> Hash {
    let bytes = base64(value.as_str().expect("a hash is a base64 string"));
    let mut digest = [0u8; 32];
    let n = bytes.len().min(32);
    digest[..n].copy_from_slice(&bytes[..n]);
    Hash {
        digest: Digest::from_bytes(digest),
        well_formed: bytes.len() == 32,
    }
}

fn proof(value: &Value) -> Vec<Hash> {
    match value {
        Value::Null => Vec::new(),
        Value::Array(items) => items.iter().map(hash).collect(),
        other => panic!("proof is neither null nor an array: {other}"),
    }
}

fn uint(case: &Value, field: &str) -> u64 {
    case[field]
        .as_u64()
        .unwrap_or_else(|| panic!("{field} is not an unsigned integer"))
}

fn json_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("readable vector directory") {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            json_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
}

#[derive(Default)]
struct Tally {
    files: usize,
    want_ok: usize,
    want_err: usize,
    /// Refused only because a hash is malformed; the verifier accepted the stand-in.
    refused_by_type_only: usize,
}

/// Runs every file under `kind/`; `check` returns whether all hashes were well formed and
/// whether the verifier accepted the case. A case succeeds only if both hold.
fn run(kind: &str, check: impl Fn(&Value) -> (bool, bool)) -> Tally {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/merkle")
        .join(kind);
    let mut files = Vec::new();
    json_files(&dir, &mut files);
    files.sort();
    let mut tally = Tally::default();
    let mut failures = Vec::new();
    for path in &files {
        let text = fs::read_to_string(path).expect("readable vector file");
        let case: Value = serde_json::from_str(&text).expect("vector file is JSON");
        let want_err = case["wantErr"].as_bool().expect("wantErr is a boolean");
        let (well_formed, verified) = check(&case);
        let ok = well_formed && verified;
        let name = path.strip_prefix(&dir).unwrap_or(path).display();
        tally.files += 1;
        if want_err {
            tally.want_err += 1;
        } else {
            tally.want_ok += 1;
        }
        if verified && !well_formed {
            tally.refused_by_type_only += 1;
            println!("{kind}/{name}: refused only because a hash is not 32 bytes");
        }
        if ok == want_err {
            failures.push(format!(
                "{kind}/{name} ({}): wantErr {want_err}, verification {}",
                case["desc"],
                if ok { "succeeded" } else { "failed" }
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} vectors disagree:\n{}",
        failures.len(),
        failures.join("\n")
    );
    println!(
        "{kind}: {} vector files, {} must verify, {} must be refused ({} of them only by the \
         Digest type)",
        tally.files, tally.want_ok, tally.want_err, tally.refused_by_type_only
    );
    assert!(tally.files > 0, "no {kind} vectors found");
    assert!(tally.want_ok > 0 && tally.want_err > 0);
    tally
}

fn inclusion_case(case: &Value) -> (bool, bool) {
    let leaf = hash(&case["leafHash"]);
    let root = hash(&case["root"]);
    let path = proof(&case["proof"]);
    let well_formed = leaf.well_formed && root.well_formed && path.iter().all(|h| h.well_formed);
    let path: Vec<Digest> = path.iter().map(|h| h.digest).collect();
    let result = verify_inclusion(
        &leaf.digest,
        uint(case, "leafIdx"),
        uint(case, "treeSize"),
        &path,
        &root.digest,
    );
    (well_formed, result.is_ok())
}

fn consistency_case(case: &Value) -> (bool, bool) {
    let root1 = hash(&case["root1"]);
    let root2 = hash(&case["root2"]);
    let path = proof(&case["proof"]);
    let well_formed = root1.well_formed && root2.well_formed && path.iter().all(|h| h.well_formed);
    let path: Vec<Digest> = path.iter().map(|h| h.digest).collect();
    let result = verify_consistency(
        uint(case, "size1"),
        uint(case, "size2"),
        &path,
        &root1.digest,
        &root2.digest,
    );
    (well_formed, result.is_ok())
}

#[test]
fn base64_decoder() {
    assert_eq!(base64(""), b"");
    assert_eq!(base64("Zg=="), b"f");
    assert_eq!(base64("Zm8="), b"fo");
    assert_eq!(base64("Zm9v"), b"foo");
    assert_eq!(base64("Zm9vYmFy"), b"foobar");
    assert_eq!(base64("+/8="), [0xfb, 0xff]);
}

#[test]
fn inclusion_vectors() {
    let tally = run("inclusion", inclusion_case);
    assert!(tally.files >= 80);
    // Only "empty root and leaf": two empty hashes, equal once padded.
    assert_eq!(tally.refused_by_type_only, 1);
}

#[test]
fn consistency_vectors() {
    let tally = run("consistency", consistency_case);
    assert!(tally.files >= 80);
    assert_eq!(tally.refused_by_type_only, 0);
}
