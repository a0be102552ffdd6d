//! Replays every case of the public test vectors (`tests/vectors/index.json`) through the
//! library, rebuilding each verifier's state from the index alone, and checks that the
//! generator still writes exactly the committed files.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use consentry::ceiling::{Ceilings, PurposeCeiling};
use consentry::cose::{Envelope, ObjectKind};
use consentry::decision::{Basis, Reason, Verifier};
use consentry::derivation::Derivation;
use consentry::directory::{Directory, DirectoryHistory, PartyId};
use consentry::ledger::InMemoryLedger;
use consentry::{SigningKey, Timestamp};
use serde_json::Value;

#[path = "../examples/vectors/main.rs"]
#[allow(dead_code)]
mod generator;

use consentry::crypto::{self, CryptoProvider};
use generator::{check_object_with, decision_json, hex};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors")
}

fn index() -> Value {
    let text = fs::read_to_string(root().join("index.json")).expect("tests/vectors/index.json");
    serde_json::from_str(&text).expect("index.json is JSON")
}

fn read(file: &Value) -> Vec<u8> {
    let path = root().join(file.as_str().expect("a file name"));
    fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn unhex(text: &str) -> Vec<u8> {
    assert!(text.len() % 2 == 0, "odd hex length");
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex"))
        .collect()
}

fn time(v: &Value) -> Timestamp {
    Timestamp::from_secs(v.as_u64().expect("a timestamp"))
}

fn directories(index: &Value) -> BTreeMap<String, Directory> {
    let mut out = BTreeMap::new();
    for (name, d) in index["directories"].as_object().expect("directories") {
        let cbor = unhex(d["cbor"].as_str().expect("cbor hex"));
        assert_eq!(read(&d["file"]), cbor, "{name}: file and hex differ");
        let dir = Directory::from_cbor(&cbor).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(dir.to_cbor(), cbor, "{name}: CBOR does not round-trip");
        let from_json = Directory::from_json(&d["json"].to_string())
            .unwrap_or_else(|e| panic!("{name} JSON: {e}"));
        assert_eq!(
            from_json.to_cbor(),
            cbor,
            "{name}: JSON and CBOR forms differ"
        );
        out.insert(name.clone(), dir);
    }
    out
}

fn ceilings(index: &Value) -> Ceilings {
    let mut c = Ceilings::new();
    for v in index["derivations"].as_array().expect("derivations") {
        c.define(serde_json::from_value::<Derivation>(v.clone()).expect("a derivation"))
            .expect("defined once");
    }
    for v in index["ceilings"].as_array().expect("ceilings") {
        c.publish(serde_json::from_value::<PurposeCeiling>(v.clone()).expect("a ceiling"));
    }
    c
}

#[test]
fn parties_and_keys_match_their_seeds() {
    let index = index();
    let parties = index["parties"].as_array().expect("parties");
    assert_eq!(parties.len(), 8);
    let dirs = directories(&index);
    let all = parties
        .iter()
        .chain(index["extra_keys"].as_array().expect("extra keys"));
    for p in all {
        let seed: [u8; 32] = unhex(p["seed"].as_str().expect("seed"))
            .try_into()
            .expect("32-byte seed");
        let key = SigningKey::from_seed(&seed);
        assert_eq!(
            key.verifying_key().to_hex(),
            p["public_key"],
            "{}",
            p["name"]
        );
        assert_eq!(key.key_id().to_hex(), p["kid"], "{}", p["name"]);
    }
    for p in parties {
        let id: PartyId = serde_json::from_value(p["id"].clone()).expect("party id");
        let party = dirs["canteen"].party(&id).expect("party in the directory");
        assert_eq!(party.name, p["display_name"]);
        assert_eq!(party.keys[0].public.to_hex(), p["public_key"]);
    }
}

/// Every object vector, through every crypto provider of the build.
#[test]
fn object_vectors() {
    for provider in crypto::providers() {
        object_vectors_with(provider);
    }
}

fn object_vectors_with(provider: &CryptoProvider) {
    let index = index();
    let dirs = directories(&index);
    let (mut valid, mut invalid) = (0, 0);
    let mut codes = std::collections::BTreeSet::new();
    for case in index["objects"].as_array().expect("objects") {
        let name = format!(
            "{}: {}",
            provider.name,
            case["name"].as_str().expect("name")
        );
        let kind: ObjectKind = serde_json::from_value(case["kind"].clone()).expect("kind");
        let dir = &dirs[case["directory"].as_str().expect("directory")];
        let bytes = read(&case["file"]);
        let expected = &case["expected"];
        match (
            expected["outcome"].as_str(),
            check_object_with(provider, kind, &bytes, dir),
        ) {
            (Some("valid"), Ok(v)) => {
                valid += 1;
                assert_eq!(v.claims, expected["claims"], "{name}: claims");
                assert_eq!(v.digest.to_hex(), expected["digest"], "{name}: digest");
                assert_eq!(
                    Value::Bool(v.round_trips),
                    expected["payload_round_trips"],
                    "{name}"
                );
                assert!(
                    v.round_trips,
                    "{name}: payload does not re-encode identically"
                );
                let kid = Envelope::parse(&bytes).expect("envelope").kid().to_hex();
                assert_eq!(kid, expected["kid"], "{name}: kid");
            }
            (Some("invalid"), Err((layer, code))) => {
                invalid += 1;
                assert_eq!(code, expected["error"], "{name}: error code");
                assert_eq!(layer, expected["layer"], "{name}: layer");
                codes.insert(code);
            }
            (outcome, got) => panic!(
                "{name}: expected {outcome:?}, got {:?}",
                got.map(|v| v.claims)
            ),
        }
    }
    assert_eq!(valid, index["counts"]["objects_valid"], "valid count");
    assert_eq!(invalid, index["counts"]["objects_invalid"], "invalid count");
    assert!(
        valid >= 16 && invalid >= 60,
        "{valid} valid, {invalid} invalid"
    );
    for code in [
        "envelope/wrong_tag",
        "envelope/wrong_arity",
        "envelope/unsupported_algorithm",
        "envelope/missing_alg",
        "envelope/missing_content_type",
        "envelope/missing_kid",
        "envelope/unexpected_parameter",
        "envelope/unprotected_not_empty",
        "envelope/unknown_content_type",
        "envelope/wrong_kind",
        "envelope/detached_payload",
        "envelope/signature_length",
        "cbor/truncated",
        "cbor/non_shortest",
        "cbor/indefinite",
        "cbor/duplicate_key",
        "cbor/unsorted_keys",
        "cbor/unknown_key",
        "cbor/missing_key",
        "cbor/wrong_type",
        "cbor/invalid_utf8",
        "cbor/trailing_bytes",
        "cbor/too_large",
        "cbor/too_long",
        "cbor/out_of_range",
        "value/invalid",
        "value/chain_too_long",
        "value/chain_repeats_party",
        "payload/unsupported_version",
        "signature/invalid",
        "signature/unknown_key",
        "signature/not_signers_key",
        "signature/key_not_yet_valid",
        "signature/key_expired",
        "signature/key_compromised",
    ] {
        assert!(codes.contains(code), "no object vector for {code}");
    }
}

/// Every decision vector, with a verifier on every crypto provider of the build.
#[test]
fn decision_vectors() {
    for provider in crypto::providers() {
        decision_vectors_with(provider);
    }
}

fn decision_vectors_with(crypto: &CryptoProvider) {
    let index = index();
    let dirs = directories(&index);
    let ceilings = ceilings(&index);
    let (mut allow, mut deny) = (0, 0);
    let mut reasons = std::collections::BTreeSet::new();
    for case in index["decisions"].as_array().expect("decisions") {
        let name = format!("{}: {}", crypto.name, case["name"].as_str().expect("name"));
        let dir = &dirs[case["directory"].as_str().expect("directory")];
        let provider: PartyId = serde_json::from_value(case["provider"].clone()).expect("id");
        let ledger = InMemoryLedger::new();
        let verifier = Verifier::new(provider, dir, &ceilings, &ledger).with_provider(crypto);
        for (i, step) in case["history"]
            .as_array()
            .expect("history")
            .iter()
            .enumerate()
        {
            let basis = read(&step["basis"]);
            let now = time(&step["now"]);
            let got = match step["step"].as_str() {
                Some("decide") => {
                    let d = verifier.decide(&read(&step["request"]), Basis::Signed(&basis), now);
                    decision_json(&d)
                }
                Some("statement") => {
                    match verifier.apply_statement(
                        &read(&step["statement"]),
                        Basis::Signed(&basis),
                        now,
                    ) {
                        Ok(status) => serde_json::json!({"outcome": "applied", "status": status}),
                        Err(r) => {
                            serde_json::json!({"outcome": "refused", "error": format!("statement/{}", r.code())})
                        }
                    }
                }
                other => panic!("{name}: unknown step {other:?}"),
            };
            assert_eq!(got, step["expected"], "{name}: step {}", i + 1);
        }
        let d = verifier.decide(
            &read(&case["request"]),
            Basis::Signed(&read(&case["basis"])),
            time(&case["now"]),
        );
        assert_eq!(decision_json(&d), case["expected"], "{name}");
        if d.is_allow() {
            allow += 1;
        } else {
            deny += 1;
            reasons.extend(d.codes());
        }
    }
    assert_eq!(allow, index["counts"]["decisions_allow"], "allow count");
    assert_eq!(deny, index["counts"]["decisions_deny"], "deny count");
    assert!(
        allow + deny >= 40 && allow >= 10,
        "{allow} allow, {deny} deny"
    );
    // Every reason code but `ledger_unavailable`, which needs a failing store and is pinned by
    // the integrity tests instead; no vector gives a code the library does not have.
    let every: Vec<&str> = Reason::all_codes()
        .filter(|c| *c != "ledger_unavailable")
        .collect();
    for code in &every {
        assert!(
            reasons.contains(code),
            "no decision vector denies with {code}"
        );
    }
    assert_eq!(reasons.len(), every.len(), "{reasons:?}");
}

fn files_under(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d).expect("readable directory") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path.strip_prefix(dir).expect("under dir").to_path_buf();
                out.insert(rel, fs::read(&path).expect("readable file"));
            }
        }
    }
    out
}

#[test]
fn generator_writes_the_committed_vectors() {
    let out = std::env::temp_dir().join(format!("consentry-vectors-{}", std::process::id()));
    let _ = fs::remove_dir_all(&out);
    generator::generate(&out).expect("generate");
    let generated = files_under(&out);
    let _ = fs::remove_dir_all(&out);
    let mut committed = files_under(&root());
    committed.retain(|p, _| p != Path::new("README.md"));
    let names = |m: &BTreeMap<PathBuf, Vec<u8>>| m.keys().cloned().collect::<Vec<_>>();
    assert_eq!(names(&generated), names(&committed), "file lists differ");
    for (path, bytes) in &generated {
        assert!(
            committed[path] == *bytes,
            "{} differs from the generator's output ({} vs {} bytes, {}…): rerun `cargo run --example vectors -- tests/vectors`",
            path.display(),
            committed[path].len(),
            bytes.len(),
            hex(&bytes[..bytes.len().min(8)]),
        );
    }
}

#[test]
fn format_md_shows_the_annotated_grant() {
    let annotated = fs::read_to_string(root().join("grant-by-parent.annotated.txt"))
        .expect("the annotated grant");
    let grant = fs::read(root().join("objects/grant-by-parent.cbor")).expect("the grant");
    assert_eq!(annotated, generator::annotate(&grant));
    let spec = fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/format.md"))
        .expect("docs/format.md");
    assert!(
        spec.contains(&format!("```text\n{annotated}```")),
        "docs/format.md section 11 does not show tests/vectors/grant-by-parent.annotated.txt"
    );
    assert!(spec.contains(&format!("grant-by-parent.cbor`, {}\nbytes", grant.len())));
}

mod log {
    //! Replays the `"log"` section: entries, tree heads, inclusion and consistency proofs, the
    //! monitor and access histories, through the library's verification functions.

    use super::{directories, index, read, unhex};
    use crate::generator::log::outcome;
    use consentry::Digest;
    use consentry::directory::PartyId;
    use consentry::log::{
        AccessHistory, ConsistencyProof, HeadMonitor, HistoryItem, InclusionProof, LogEntry,
        LogError, SignedTreeHead, TransferLog, compare_heads, leaf_hash, verify_history,
        verify_inclusion,
    };
    use consentry::testing::key_for;
    use serde_json::Value;
    use std::collections::BTreeMap;

    fn key(v: &Value) -> consentry::VerifyingKey {
        key_for(v.as_str().expect("key name")).verifying_key()
    }

    /// The log a head case is verified as (the operator's party id).
    fn log_id(case: &Value) -> PartyId {
        serde_json::from_value(case["log"].clone()).expect("the case names its log")
    }

    fn path(v: &Value) -> Vec<Digest> {
        v["path"]
            .as_array()
            .expect("path")
            .iter()
            .map(|h| Digest::from_slice(&unhex(h.as_str().expect("hex"))).expect("32 bytes"))
            .collect()
    }

    fn inclusion(v: &Value) -> InclusionProof {
        InclusionProof {
            leaf_index: v["leaf_index"].as_u64().expect("index"),
            tree_size: v["tree_size"].as_u64().expect("size"),
            path: path(v),
        }
    }

    fn consistency(v: &Value) -> Option<ConsistencyProof> {
        (!v.is_null()).then(|| ConsistencyProof {
            old_size: v["old_size"].as_u64().expect("old size"),
            new_size: v["new_size"].as_u64().expect("new size"),
            path: path(v),
        })
    }

    fn got(result: &Result<(), LogError>) -> Value {
        outcome(result.as_ref().map(|_| ()))
    }

    /// Counts outcomes: valid, and invalid by code.
    #[derive(Default)]
    struct Tally {
        valid: usize,
        invalid: BTreeMap<String, usize>,
    }

    impl Tally {
        fn add(&mut self, expected: &Value) {
            match expected["error"].as_str() {
                Some(code) => *self.invalid.entry(code.to_owned()).or_default() += 1,
                None => self.valid += 1,
            }
        }
        fn invalid(&self) -> usize {
            self.invalid.values().sum()
        }
    }

    struct Log {
        section: Value,
        heads: BTreeMap<String, SignedTreeHead>,
    }

    fn load() -> Log {
        let index = index();
        let section = index["log"].clone();
        assert!(section.is_object(), "index.json has no log section");
        let mut heads = BTreeMap::new();
        for h in section["heads"].as_array().expect("heads") {
            if h["expected"]["outcome"] == "valid" {
                let head = SignedTreeHead::verify(&read(&h["file"]), log_id(h), &key(&h["key"]))
                    .unwrap_or_else(|e| panic!("{}: {e}", h["name"]));
                heads.insert(h["name"].as_str().expect("name").to_owned(), head);
            }
        }
        Log { section, heads }
    }

    #[test]
    fn log_entries() {
        let index = index();
        let log = &index["log"];
        let dirs = directories(&index);
        let dir = &dirs[log["directory"].as_str().expect("directory")];
        let mut rebuilt = Vec::new();
        for (i, e) in log["entries"]
            .as_array()
            .expect("entries")
            .iter()
            .enumerate()
        {
            let name = &e["name"];
            let bytes = read(&e["file"]);
            assert_eq!(e["index"], i, "{name}");
            let entry = LogEntry::from_bytes(&bytes).unwrap_or_else(|err| panic!("{name}: {err}"));
            assert_eq!(entry.to_bytes(), bytes, "{name}: re-encoding");
            assert_eq!(entry.kind().to_string(), e["kind"], "{name}");
            assert_eq!(entry.kind().code(), e["kind_code"], "{name}");
            assert_eq!(leaf_hash(&bytes).to_hex(), e["leaf_hash"], "{name}");
            assert_eq!(entry.leaf_hash().to_hex(), e["leaf_hash"], "{name}");
            assert_eq!(
                serde_json::to_value(entry.subject()).expect("json"),
                e["subject"]
            );
            assert_eq!(entry.time().secs(), e["time"], "{name}");
            match (entry.signed_bytes(), e["object"].as_object()) {
                (Some(signed), Some(object)) => {
                    assert_eq!(signed, read(&object["file"]), "{name}: object file");
                    assert_eq!(Digest::of(signed).to_hex(), object["digest"], "{name}");
                }
                (None, None) => {}
                _ => panic!("{name}: object"),
            }
            // Every signed object logged verifies against the directory.
            match &entry {
                LogEntry::Receipt(r) => {
                    let v = r.verify(dir).unwrap_or_else(|err| panic!("{name}: {err}"));
                    assert_eq!(
                        serde_json::to_value(v.claims()).expect("json"),
                        e["receipt"]
                    );
                }
                LogEntry::GrantIssued(g) => {
                    let _verified = g.verify(dir).unwrap_or_else(|err| panic!("{name}: {err}"));
                }
                LogEntry::Statement(logged) => {
                    let v = logged
                        .statement()
                        .verify(dir)
                        .unwrap_or_else(|err| panic!("{name}: {err}"));
                    assert_eq!(
                        serde_json::to_value(v.claims()).expect("json"),
                        e["statement"]
                    );
                }
                LogEntry::Denial(d) => {
                    assert_eq!(
                        d.reasons(),
                        e["denial"]["reasons"]
                            .as_array()
                            .expect("reasons")
                            .as_slice()
                    );
                }
                LogEntry::Deletion(d) => {
                    let v = d.verify(dir).unwrap_or_else(|err| panic!("{name}: {err}"));
                    assert_eq!(
                        serde_json::to_value(v.claims()).expect("json"),
                        e["deletion"]
                    );
                    // It is about a receipt logged before it, and counts.
                    let mut before = consentry::log::DeletionIndex::new();
                    for (i, b) in (0u64..).zip(rebuilt.iter()) {
                        let b: &Vec<u8> = b;
                        let logged = LogEntry::from_bytes(b).expect("entry");
                        before.observe(i, &logged, Some(dir)).expect("counted");
                    }
                    before
                        .check(v.claims())
                        .expect("a deletion of a logged receipt");
                }
                _ => panic!("{name}: unknown entry kind"),
            }
            rebuilt.push(bytes);
        }
        assert_eq!(rebuilt.len(), log["counts"]["entries"]);
        assert!(rebuilt.len() >= 10, "{} entries", rebuilt.len());
        let kinds: std::collections::BTreeSet<_> = rebuilt
            .iter()
            .map(|b| LogEntry::from_bytes(b).expect("entry").kind())
            .collect();
        assert_eq!(kinds.len(), 5, "every entry kind is logged");
        let rebuilt = TransferLog::from_entries(rebuilt).expect("the log rebuilds");
        assert_eq!(rebuilt.root().to_hex(), log["root"]);
    }

    #[test]
    fn log_malformed_entries() {
        let log = load();
        let mut tally = Tally::default();
        for case in log.section["malformed_entries"].as_array().expect("cases") {
            let result = LogEntry::from_bytes(&read(&case["file"])).map(|_| ());
            assert_eq!(got(&result), case["expected"], "{}", case["name"]);
            assert!(result.is_err(), "{}", case["name"]);
            tally.add(&case["expected"]);
        }
        assert_eq!(tally.invalid(), log.section["counts"]["malformed_entries"]);
        assert!(tally.invalid() >= 10);
        for code in [
            "log/malformed_entry",
            "log/malformed_object",
            "log/invalid_denial",
        ] {
            assert!(
                tally.invalid.contains_key(code),
                "no malformed entry refused with {code}"
            );
        }
    }

    #[test]
    fn log_heads() {
        let log = load();
        let mut tally = Tally::default();
        for case in log.section["heads"].as_array().expect("heads") {
            let name = &case["name"];
            let result =
                SignedTreeHead::verify(&read(&case["file"]), log_id(case), &key(&case["key"]));
            match (&result, case["expected"]["outcome"].as_str()) {
                (Ok(h), Some("valid")) => {
                    let e = &case["expected"];
                    assert_eq!(h.tree_size(), e["tree_size"], "{name}");
                    assert_eq!(h.root_hash().to_hex(), e["root_hash"], "{name}");
                    assert_eq!(h.timestamp().secs(), e["timestamp"], "{name}");
                    assert_eq!(h.kid().to_hex(), e["kid"], "{name}");
                    assert_eq!(serde_json::to_value(h.log_id()).expect("json"), e["log_id"]);
                }
                (Err(_), Some("invalid")) => {
                    assert_eq!(got(&result.map(|_| ())), case["expected"], "{name}");
                }
                (r, o) => panic!("{name}: expected {o:?}, got {r:?}"),
            }
            tally.add(&case["expected"]);
        }
        let counts = &log.section["counts"];
        assert_eq!(tally.valid, counts["heads_valid"]);
        assert_eq!(tally.invalid(), counts["heads_invalid"]);
        assert!(tally.valid >= 5 && tally.invalid() >= 5);
        for code in ["log/wrong_key", "log/bad_signature", "log/malformed_head"] {
            assert!(
                tally.invalid.contains_key(code),
                "no head refused with {code}"
            );
        }
    }

    #[test]
    fn log_inclusion_proofs() {
        let log = load();
        let mut tally = Tally::default();
        for case in log.section["inclusion"].as_array().expect("inclusion") {
            let name = &case["name"];
            let head = &log.heads[case["head"].as_str().expect("head")];
            let entry = read(&case["entry_file"]);
            let proof = inclusion(&case["proof"]);
            let result = head.verify_inclusion(&entry, &proof);
            assert_eq!(got(&result), case["expected"], "{name}");
            // The tree-free functions agree when the proof is for the head's size.
            if proof.tree_size == head.tree_size() {
                let direct = verify_inclusion(
                    &leaf_hash(&entry),
                    proof.leaf_index,
                    proof.tree_size,
                    &proof.path,
                    &head.root_hash(),
                );
                assert_eq!(direct, proof.verify(&leaf_hash(&entry), &head.root_hash()));
                assert_eq!(direct.map_err(LogError::Proof), result, "{name}");
            }
            tally.add(&case["expected"]);
        }
        let counts = &log.section["counts"];
        assert_eq!(tally.valid, counts["inclusion_valid"]);
        assert_eq!(tally.invalid(), counts["inclusion_invalid"]);
        // Every entry is proved against the latest head.
        let entries = log.section["entries"].as_array().expect("entries").len();
        assert!(tally.valid >= entries && tally.invalid() >= 8);
        for code in [
            "log/root_mismatch",
            "log/proof_length",
            "log/inclusion_proof_mismatch",
            "log/index_out_of_range",
        ] {
            assert!(
                tally.invalid.contains_key(code),
                "no inclusion refused with {code}"
            );
        }
    }

    #[test]
    fn log_consistency_and_monitor() {
        let log = load();
        let head = |v: &Value| log.heads[v.as_str().expect("head name")].clone();
        let mut tally = Tally::default();
        for case in log.section["consistency"].as_array().expect("consistency") {
            let proof = consistency(&case["proof"]);
            let result = compare_heads(
                &head(&case["first"]),
                &head(&case["second"]),
                proof.as_ref(),
            );
            assert_eq!(got(&result), case["expected"], "{}", case["name"]);
            tally.add(&case["expected"]);
        }
        let counts = &log.section["counts"];
        assert_eq!(tally.valid, counts["consistency_valid"]);
        assert_eq!(tally.invalid(), counts["consistency_invalid"]);
        assert!(tally.valid >= 5 && tally.invalid() >= 5);
        let mut steps = Tally::default();
        for case in log.section["monitors"].as_array().expect("monitors") {
            let mut monitor = HeadMonitor::new();
            for (i, step) in case["steps"].as_array().expect("steps").iter().enumerate() {
                let proof = consistency(&step["proof"]);
                let result = monitor.observe(head(&step["head"]), proof.as_ref());
                assert_eq!(
                    got(&result),
                    step["expected"],
                    "{} step {}",
                    case["name"],
                    i + 1
                );
                let latest = monitor.latest().map(|l| l.as_bytes().to_vec());
                assert_eq!(latest, Some(head(&step["latest"]).as_bytes().to_vec()));
                steps.add(&step["expected"]);
            }
        }
        for code in [
            "log/fork",
            "log/rollback",
            "log/consistency_proof_required",
            "log/wrong_log",
        ] {
            assert!(
                tally.invalid.contains_key(code) || steps.invalid.contains_key(code),
                "no consistency or monitor case refused with {code}"
            );
        }
        assert!(steps.invalid.contains_key("log/rollback"));
        assert!(steps.invalid.contains_key("log/fork"));
    }

    #[test]
    fn log_histories() {
        let log = load();
        let (mut clean, mut failing) = (0, 0);
        for case in log.section["histories"].as_array().expect("histories") {
            let name = &case["name"];
            let history = AccessHistory {
                subject: serde_json::from_value(case["subject"].clone()).expect("subject"),
                items: case["items"]
                    .as_array()
                    .expect("items")
                    .iter()
                    .map(|i| HistoryItem {
                        entry: read(&i["entry_file"]),
                        proof: inclusion(&i["proof"]),
                    })
                    .collect(),
            };
            let head = read(&serde_json::json!(format!(
                "log/heads/{}.cbor",
                case["head"].as_str().expect("head")
            )));
            let expected = &case["expected"];
            match verify_history(&history, &head, log_id(case), &key(&case["key"])) {
                Ok(report) => {
                    let verified: Vec<u64> = report.verified.iter().map(|c| c.index).collect();
                    assert_eq!(serde_json::json!(verified), expected["verified"], "{name}");
                    let failures: Vec<Value> = report
                        .failures
                        .iter()
                        .map(|f| {
                            let mut j = outcome(Err(&f.error));
                            j["position"] = serde_json::json!(f.position);
                            j["index"] = serde_json::json!(f.index);
                            j.as_object_mut().map(|o| o.remove("outcome"));
                            j
                        })
                        .collect();
                    if report.is_clean() {
                        assert_eq!(expected["outcome"], "valid", "{name}");
                        assert!(
                            report
                                .verified
                                .iter()
                                .all(|c| c.entry.subject() == Some(history.subject))
                        );
                        clean += 1;
                    } else {
                        assert_eq!(serde_json::json!(failures), expected["failures"], "{name}");
                        failing += 1;
                    }
                }
                Err(e) => {
                    assert_eq!(outcome(Err(&e)), *expected, "{name}");
                    assert!(e.code().starts_with("log/"));
                    failing += 1;
                }
            }
        }
        assert_eq!(clean + failing, log.section["counts"]["histories"]);
        assert!(
            clean >= 2 && failing >= 4,
            "{clean} clean, {failing} failing"
        );
    }
}

/// The signed directory and its updates, replayed in order against one history: each is
/// applied or refused with its code, the version after it is the index's, and the last state is
/// `final.cbor`. The operator's key comes from its seed in the index, not from the generator.
#[test]
fn registry_vectors() {
    let index = index();
    let r = &index["registry"];
    let operator = SigningKey::from_seed(
        unhex(r["operator"]["seed"].as_str().expect("seed"))
            .as_slice()
            .try_into()
            .expect("32 bytes"),
    );
    assert_eq!(
        operator.verifying_key().to_hex(),
        r["operator"]["public_key"].as_str().expect("public key")
    );
    let genesis = read(&r["genesis"]["file"]);
    let mut history = DirectoryHistory::load(&genesis, &operator.verifying_key())
        .unwrap_or_else(|e| panic!("genesis: {e}"));
    let canteen = &index["directories"][r["genesis"]["directory"].as_str().expect("a name")];
    assert_eq!(
        history.current().to_cbor(),
        unhex(canteen["cbor"].as_str().expect("cbor"))
    );
    let steps = r["updates"].as_array().expect("updates");
    let (mut applied, mut refused) = (0, 0);
    for step in steps {
        let name = step["name"].as_str().expect("name");
        let expected = &step["expected"];
        let got = history.apply(&read(&step["file"])).map(|_| ());
        match expected["outcome"].as_str() {
            Some("applied") => {
                assert_eq!(got, Ok(()), "{name}");
                applied += 1;
            }
            Some("refused") => {
                let err = got.expect_err(name);
                assert_eq!(Some(err.code()), expected["code"].as_str(), "{name}: {err}");
                refused += 1;
            }
            other => panic!("{name}: unknown outcome {other:?}"),
        }
        assert_eq!(
            Some(history.version()),
            expected["version"].as_u64(),
            "{name}"
        );
    }
    assert_eq!((applied, refused), (4, 22), "the index's steps");
    assert_eq!(
        history.current().to_cbor(),
        read(&r["final"]["file"]),
        "the final directory"
    );
    assert_eq!(Some(history.version()), r["final"]["version"].as_u64());
}

/// The JSON vectors (`json/`): the library reads every valid document of a form it reads and
/// writes it back unchanged, and refuses every invalid one, and every one only its rules
/// refuse, with the code the index states. (That the generator still writes exactly these
/// files, so that every form the library emits equals its committed vector, is
/// `generator_writes_the_committed_vectors`; that the schemas accept and refuse the same
/// documents is `.ci/schemas.sh`.)
#[test]
fn json_vectors_read_as_the_index_says() {
    let text = fs::read_to_string(root().join("json/index.json")).expect("json/index.json");
    let index: Value = serde_json::from_str(&text).expect("JSON");
    let forms = index["forms"].as_array().expect("forms");
    let (mut valid, mut refused) = (0, 0);
    for form in forms {
        let name = form["form"].as_str().expect("a form");
        let reads = generator::read_json(name, "null").is_some();
        assert_eq!(form["read_by_library"], reads, "{name}");
        let doc = |file: &Value| String::from_utf8(read(file)).expect("UTF-8");
        for file in form["valid"].as_array().expect("valid") {
            let text = doc(file);
            if let Some(got) = generator::read_json(name, &text) {
                let want: Value = serde_json::from_str(&text).expect("JSON");
                assert_eq!(got.as_ref(), Ok(&want), "{file}");
                valid += 1;
            }
        }
        for case in form["invalid"]
            .as_array()
            .expect("invalid")
            .iter()
            .chain(form["refused"].as_array().expect("refused"))
        {
            let got = generator::read_json(name, &doc(&case["file"]));
            match (got, case["code"].as_str()) {
                (Some(got), Some(code)) => {
                    assert_eq!(got.err().as_deref(), Some(code), "{}", case["file"]);
                    refused += 1;
                }
                (None, None) => {}
                (got, code) => panic!("{}: read {got:?}, code {code:?}", case["file"]),
            }
        }
    }
    // Counts, so that the test cannot pass on an empty index.
    assert!(forms.len() >= 20, "{} forms", forms.len());
    assert!(
        valid >= 30 && refused >= 100,
        "{valid} read, {refused} refused"
    );
}

/// The notifications from DGFiP to CNAF, replayed in order against one inbox of CNAF on an
/// empty ledger: each applied (with the basis's status after it), ignored as a redelivery, or
/// refused with its code and detail, the stream's last number after each as the index says.
#[test]
fn notification_vectors() {
    use consentry::notify::{Inbox, Received};
    let index = index();
    let n = &index["notifications"];
    let dirs = directories(&index);
    let directory = &dirs[n["directory"].as_str().expect("a directory name")];
    let ceilings = ceilings(&index);
    let party = |v: &Value| {
        PartyId::from_bytes(
            unhex(v.as_str().expect("a party id"))
                .try_into()
                .expect("16 bytes"),
        )
    };
    let (emitter, recipient) = (party(&n["emitter"]), party(&n["recipient"]));
    let at = time(&n["at"]);
    let ledger = InMemoryLedger::new();
    let verifier = Verifier::new(recipient, directory, &ceilings, &ledger);
    let mut inbox = Inbox::new(recipient);
    let mut outcomes = Vec::new();
    for step in n["steps"].as_array().expect("steps") {
        let name = step["name"].as_str().expect("name");
        let expected = &step["expected"];
        let got = inbox.receive_statement(&read(&step["file"]), &verifier, at);
        let outcome = expected["outcome"].as_str().expect("an outcome");
        match (outcome, got) {
            ("applied", Ok(Received::Applied(status))) => {
                let name_of = match status {
                    consentry::ledger::Status::Active => "active",
                    consentry::ledger::Status::Paused { .. } => "paused",
                    _ => "other",
                };
                assert_eq!(Some(name_of), expected["status"].as_str(), "{name}");
            }
            ("already_applied", Ok(Received::AlreadyApplied)) => {}
            ("refused", Err(e)) => {
                assert_eq!(Some(e.code()), expected["code"].as_str(), "{name}: {e}");
                assert_eq!(Some(e.detail_code()), expected["detail"].as_str(), "{name}");
            }
            (want, got) => panic!("{name}: expected {want}, got {got:?}"),
        }
        assert_eq!(
            Some(inbox.last_seq(emitter)),
            expected["last_seq"].as_u64(),
            "{name}"
        );
        outcomes.push(outcome.to_owned());
    }
    assert_eq!(outcomes.len(), 8, "the index's steps");
    // The saved stream state: its layout rebuilt here from the applied steps' bytes, then read
    // back, and a resumed inbox still recognises the last notification.
    let state = read(&n["stream_state"]["file"]);
    let steps = n["steps"].as_array().expect("steps");
    let applied: Vec<Vec<u8>> = steps
        .iter()
        .filter(|st| st["expected"]["outcome"] == "applied")
        .map(|st| read(&st["file"]))
        .collect();
    let mut expected = emitter.as_bytes().to_vec();
    expected.extend((applied.len() as u64).to_be_bytes());
    for bytes in &applied {
        expected.extend(consentry::Digest::of(bytes).as_bytes());
    }
    assert_eq!(state, expected, "the stream state's layout");
    let saved = consentry::notify::StreamState::from_bytes(&state).expect("a stream state");
    assert_eq!(inbox.stream(emitter), Some(saved.clone()));
    let mut resumed = Inbox::new(recipient);
    resumed.resume(saved);
    let last = read(&steps.last().expect("a step")["file"]);
    assert_eq!(
        resumed.receive_statement(&last, &verifier, at),
        Ok(Received::AlreadyApplied)
    );
}
