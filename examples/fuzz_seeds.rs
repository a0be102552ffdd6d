//! Writes the fuzzers' seed corpora to `fuzz/seeds/<target>/`: valid objects of the canteen
//! scenario, a few near misses, genuine Merkle proofs, and the Merkle vectors of `tests/data/`.
//!
//! ```sh
//! cargo run --example fuzz_seeds
//! ```
//!
//! Deterministic: the scenario's keys, ids and clock are fixed, and Ed25519 signatures are
//! deterministic, so running it again rewrites the same files.

use std::fs;
use std::path::{Path, PathBuf};

use consentry::Limits;
use consentry::danger;

use consentry::cose::ObjectKind;
use consentry::danger::cbor::{Encoder, Value};
use consentry::fuzzing::{self, Fixture};
use consentry::grant::Grant;
use consentry::habilitation::Habilitation;
use consentry::request::Request;
use consentry::signed::{SignedPayload, Unverified};
use consentry::statement::{Action, Statement};
use consentry::testing::Scenario;

fn write(root: &Path, target: &str, name: &str, bytes: &[u8]) {
    let dir = root.join(target);
    fs::create_dir_all(&dir).expect("create the seed directory");
    fs::write(dir.join(name), bytes).expect("write a seed");
}

fn payload<T: SignedPayload>(signed: &[u8]) -> Vec<u8> {
    Unverified::<T>::parse(signed)
        .expect("a valid object")
        .claims()
        .to_payload_bytes()
}

fn base64(text: &str) -> Vec<u8> {
    let sextet = |c: u8| -> u32 {
        match c {
            b'A'..=b'Z' => u32::from(c - b'A'),
            b'a'..=b'z' => u32::from(c - b'a') + 26,
            b'0'..=b'9' => u32::from(c - b'0') + 52,
            b'+' => 62,
            _ => 63,
        }
    };
    let data = text.trim_end_matches('=').as_bytes();
    let mut out = Vec::new();
    for chunk in data.chunks(4) {
        let mut acc = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            acc |= sextet(c) << (18 - 6 * i);
        }
        out.extend_from_slice(&acc.to_be_bytes()[1..chunk.len()]);
    }
    out
}

/// A 32-byte hash from a vector, zero-padded or cut (malformed hashes are cases too).
fn hash32(v: &serde_json::Value) -> Vec<u8> {
    let mut b = base64(v.as_str().unwrap_or_default());
    b.resize(32, 0);
    b
}

fn proof(v: &serde_json::Value) -> Vec<u8> {
    v.as_array()
        .map(|a| a.iter().flat_map(hash32).collect())
        .unwrap_or_default()
}

fn vector_seeds(root: &Path, data: &Path) -> usize {
    let mut count = 0;
    for (kind, mode) in [("inclusion", 2u8), ("consistency", 3u8)] {
        let mut files = Vec::new();
        collect(&data.join(kind), &mut files);
        files.sort();
        for file in files {
            let text = fs::read_to_string(&file).expect("read a vector");
            let case: serde_json::Value = serde_json::from_str(&text).expect("a JSON vector");
            let u = |k: &str| case[k].as_u64().unwrap_or(0).to_be_bytes();
            let mut seed = vec![mode];
            if mode == 2 {
                seed.extend(u("leafIdx"));
                seed.extend(u("treeSize"));
                seed.extend(hash32(&case["leafHash"]));
                seed.extend(hash32(&case["root"]));
            } else {
                seed.extend(u("size1"));
                seed.extend(u("size2"));
                seed.extend(hash32(&case["root1"]));
                seed.extend(hash32(&case["root2"]));
            }
            seed.extend(proof(&case["proof"]));
            count += 1;
            write(
                root,
                "merkle_proofs",
                &format!("vector-{kind}-{count:03}"),
                &seed,
            );
        }
    }
    count
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, out);
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
}

fn merkle_seed(mode: u8, a: u64, b: u64, path: &[consentry::Digest]) -> Vec<u8> {
    let mut seed = vec![mode, a as u8, b as u8];
    for h in path {
        let i = fuzzing::merkle_pool_index(h).expect("a genuine hash is in the pool");
        seed.extend(i.to_be_bytes());
    }
    seed
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds");
    let _ = fs::remove_dir_all(&root);
    let f = Fixture::new();
    let s: &Scenario = &f.scenario;

    // decode_object: every kind, signed and bare, and the directory.
    let statement = s.statement(&f.grant, Action::Pause, s.parent);
    let onward = s.sign_grant(
        &s.grant()
            .expressed_by(s.franceconnect)
            .allow_onward_transfer()
            .build(&s.ceilings)
            .expect("a grant within the ceilings"),
    );
    let chain = f.chain_grant.clone();
    let objects: [(&str, &[u8]); 7] = [
        ("grant", &f.grant),
        ("grant-onward", &onward),
        ("grant-chain", &chain),
        ("habilitation", &f.habilitation),
        ("statement", &statement),
        ("request", &f.grant_request),
        ("request-habilitation", &f.habilitation_request),
    ];
    for (name, bytes) in objects {
        write(&root, "decode_object", &format!("{name}.cose"), bytes);
    }
    write(
        &root,
        "decode_object",
        "grant.payload",
        &payload::<Grant>(&f.grant),
    );
    write(
        &root,
        "decode_object",
        "grant-chain.payload",
        &payload::<Grant>(&chain),
    );
    write(
        &root,
        "decode_object",
        "habilitation.payload",
        &payload::<Habilitation>(&f.habilitation),
    );
    write(
        &root,
        "decode_object",
        "statement.payload",
        &payload::<Statement>(&statement),
    );
    write(
        &root,
        "decode_object",
        "request.payload",
        &payload::<Request>(&f.grant_request),
    );
    write(
        &root,
        "decode_object",
        "directory.cbor",
        &s.directory.to_cbor(),
    );
    let mut e = Encoder::new();
    e.tag(1).array(3).uint(1).negative(500).map(2);
    e.text("a")
        .bytes(b"xyz")
        .text("b")
        .array(2)
        .bool(true)
        .null();
    let value = e.into_bytes();
    assert!(Value::decode(&value, Limits::OBJECT).is_ok());
    write(&root, "decode_object", "value.cbor", &value);
    // A deletion statement, signed and bare, and its log entry.
    let mut d = Scenario::canteen();
    let (receipt, _) = d.transfer_and_log();
    let deletion = consentry::Deletion::for_receipt(&receipt, d.now, d.now);
    let signed = deletion.sign(d.key(d.mairie));
    write(&root, "decode_object", "deletion.cose", &signed);
    write(
        &root,
        "decode_object",
        "deletion.payload",
        &deletion.to_payload_bytes(),
    );
    let entry = consentry::log::LogEntry::deletion(signed).expect("a deletion entry");
    write(
        &root,
        "decode_object",
        "deletion-entry.cbor",
        &entry.to_bytes(),
    );

    // envelope_verify: signed with the verification key, and with others.
    let key = fuzzing::envelope_key();
    for (name, kind, bytes) in [
        ("grant", ObjectKind::Grant, payload::<Grant>(&f.grant)),
        (
            "statement",
            ObjectKind::Statement,
            payload::<Statement>(&statement),
        ),
        (
            "habilitation",
            ObjectKind::Habilitation,
            payload::<Habilitation>(&f.habilitation),
        ),
        ("empty", ObjectKind::Receipt, Vec::new()),
    ] {
        write(
            &root,
            "envelope_verify",
            &format!("{name}-by-key.cose"),
            &danger::sign(kind, &key, &bytes),
        );
    }
    write(&root, "envelope_verify", "request.cose", &f.grant_request);
    write(&root, "envelope_verify", "grant-by-parent.cose", &f.grant);

    // decide: the valid pairs, and crossed pairs.
    let chain_request = f.chain_request.clone();
    let pairs: [(&str, &[u8], &[u8]); 7] = [
        ("valid-grant", &f.grant_request, &f.grant),
        ("valid-chain", &chain_request, &chain),
        (
            "valid-habilitation",
            &f.habilitation_request,
            &f.habilitation,
        ),
        ("crossed", &f.grant_request, &f.habilitation),
        ("grant-as-request", &f.grant, &f.grant),
        ("statement-as-basis", &f.grant_request, &statement),
        (
            "other-basis",
            &s.sign_request(&s.request(&onward)),
            &f.grant,
        ),
    ];
    for (name, req, basis) in pairs {
        write(&root, "decide", name, &Fixture::decide_input(req, basis));
    }

    // merkle_proofs: genuine proofs of the fixed tree, then the external vectors.
    for (index, size) in [(0, 1), (0, 2), (2, 3), (5, 8), (12, 13), (20, 37), (36, 37)] {
        let path = fuzzing::merkle_inclusion(index, size);
        write(
            &root,
            "merkle_proofs",
            &format!("inclusion-{index}-{size}"),
            &merkle_seed(0, size, index, &path),
        );
    }
    for (old, new) in [(0, 5), (3, 3), (1, 2), (3, 7), (4, 8), (6, 37), (32, 37)] {
        let path = fuzzing::merkle_consistency(old, new);
        write(
            &root,
            "merkle_proofs",
            &format!("consistency-{old}-{new}"),
            &merkle_seed(1, old, new, &path),
        );
    }
    let _ = fuzzing::merkle_leaf(0);
    let vectors = vector_seeds(
        &root,
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/merkle"),
    );

    // structured: a few choice strings (the all-zero one is the scenario's valid grant).
    for (name, bytes) in [
        ("zeros", vec![0u8; 48]),
        ("ones", vec![1u8; 48]),
        ("ramp", (0u8..48).collect()),
        ("short", vec![0u8; 4]),
    ] {
        write(&root, "structured", name, &bytes);
    }
    // directory_updates: the registry vectors' updates as they are, and a few choice strings
    // (the all-zero one is the fixture's valid update).
    let registry = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/registry");
    let mut updates: Vec<_> = fs::read_dir(&registry)
        .unwrap_or_else(|e| panic!("{}: {e}", registry.display()))
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.as_bytes()[0].is_ascii_digit())
        })
        .collect();
    updates.sort();
    for path in &updates {
        let name = path
            .file_stem()
            .and_then(|n| n.to_str())
            .unwrap_or("update");
        write(
            &root,
            "directory_updates",
            name,
            &fs::read(path).expect("readable"),
        );
    }
    for (name, bytes) in [("zeros", vec![0u8; 8]), ("ramp", (1u8..9).collect())] {
        write(&root, "directory_updates", name, &bytes);
    }
    // notifications: a few choice strings (the all-zero one is the fixture's valid notification).
    for (name, bytes) in [
        ("zeros", vec![0u8; 8]),
        ("ramp", (1u8..9).collect()),
        ("ones", vec![0xffu8; 8]),
    ] {
        write(&root, "notifications", name, &bytes);
    }
    println!("seeds written, {vectors} from the Merkle vectors");
}
