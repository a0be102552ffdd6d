//! The transfer log's vectors: a log built from a canteen history, its entries, signed tree heads
//! at several sizes, inclusion and consistency proofs, the parent's access history, and the
//! refusals of the log layer. Written under `log/` and described in the `"log"` section of
//! `index.json` (see `tests/vectors/README.md` and `docs/format.md`, "The transfer log").

use std::collections::BTreeMap;

use consentry::cbor::Encoder;
use consentry::cose::{self, Envelope, ObjectKind};
use consentry::log::{
    AccessHistory, ConsistencyProof, Denial, EntryKind, HeadMonitor, InclusionProof, LogEntry,
    LogError, ProofError, Receipt, SignedTreeHead, TransferLog, TreeHead, compare_heads,
    verify_history,
};
use consentry::signed::{ObjectError, ParseError, SignedPayload};
use consentry::statement::Action;
use consentry::testing::{Scenario, key_for, party_for};
use consentry::{Digest, SigningKey};
use serde_json::{Value as Json, json};

use super::{
    build, decode_code, enc, envelope_code, grant_for, hex, object_error, payload_of, seed_of,
    with, without,
};

/// The keys of the log vectors: the operator's, another log's, and a key nobody trusts.
pub const KEYS: [(&str, &str); 3] = [
    (
        "log-operator",
        "the log operator; the log id is its party id",
    ),
    (
        "other-log",
        "the operator of another log; the log id is its party id",
    ),
    ("stranger", "a key no log and no directory holds"),
];

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

fn parse_code(e: &ParseError) -> &'static str {
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

fn inclusion_json(p: &InclusionProof) -> Json {
    json!({"leaf_index": p.leaf_index, "tree_size": p.tree_size, "path": hashes(&p.path)})
}

fn consistency_json(p: &ConsistencyProof) -> Json {
    json!({"old_size": p.old_size, "new_size": p.new_size, "path": hashes(&p.path)})
}

fn flip(bytes: &[u8], at: usize) -> Vec<u8> {
    let mut out = bytes.to_vec();
    out[at] ^= 0x01;
    out
}

fn flip_hash(h: Digest) -> Digest {
    let mut b = *h.as_bytes();
    b[31] ^= 0x01;
    Digest::from_bytes(b)
}

/// One entry as logged, with what the index says about it.
struct Logged {
    entry: LogEntry,
    name: String,
    description: &'static str,
}

/// A signed head of the vectors.
struct Head {
    bytes: Vec<u8>,
    key: &'static str,
}

struct LogGen<'a> {
    files: &'a mut BTreeMap<String, Vec<u8>>,
    heads: BTreeMap<String, Head>,
    head_cases: Vec<Json>,
    inclusion: Vec<Json>,
    consistency: Vec<Json>,
    monitors: Vec<Json>,
    histories: Vec<Json>,
    malformed: Vec<Json>,
    entry_files: Vec<String>,
}

fn key(name: &str) -> SigningKey {
    key_for(name)
}

/// Verifies a head as a head of the log of `key_name`'s operator, with that operator's key.
fn verify_head(bytes: &[u8], key_name: &str) -> Result<SignedTreeHead, LogError> {
    SignedTreeHead::verify(bytes, party_for(key_name), &key(key_name).verifying_key())
}

impl LogGen<'_> {
    fn file(&mut self, path: String, bytes: Vec<u8>) -> String {
        assert!(
            self.files.insert(path.clone(), bytes).is_none(),
            "{path} written twice"
        );
        path
    }

    fn head_ok(&self, name: &str) -> SignedTreeHead {
        let h = &self.heads[name];
        verify_head(&h.bytes, h.key).unwrap_or_else(|e| panic!("{name}: {e}"))
    }

    /// A head case: the head's bytes verified with `key_name`'s public key.
    fn head(
        &mut self,
        name: &str,
        description: &str,
        key_name: &'static str,
        bytes: Vec<u8>,
        want: Option<&str>,
        cddl: bool,
    ) {
        let file = self.file(format!("log/heads/{name}.cbor"), bytes.clone());
        let expected = match (verify_head(&bytes, key_name), want) {
            (Ok(h), None) => {
                self.heads.insert(
                    name.to_owned(),
                    Head {
                        bytes,
                        key: key_name,
                    },
                );
                json!({
                    "outcome": "valid",
                    "log_id": h.log_id(),
                    "tree_size": h.tree_size(),
                    "root_hash": h.root_hash().to_hex(),
                    "timestamp": h.timestamp(),
                    "kid": h.kid().to_hex(),
                })
            }
            (Err(e), Some(want)) => {
                assert_eq!(log_code(&e), want, "{name}");
                outcome(Err(&e))
            }
            (got, want) => panic!("{name}: expected {want:?}, got {:?}", got.map(|_| ())),
        };
        let mut case = json!({
            "name": name,
            "description": description,
            "file": file,
            "key": key_name,
            "log": party_for(key_name),
            "expected": expected,
        });
        if want.is_some() {
            case["cddl_rejects"] = Json::Bool(cddl);
        }
        self.head_cases.push(case);
    }

    /// An inclusion case: `entry` (bytes in `entry_file`) checked against head `head` with
    /// `proof`, through [`SignedTreeHead::verify_inclusion`].
    fn inclusion(
        &mut self,
        name: &str,
        description: &str,
        entry_file: &str,
        head: &str,
        proof: &InclusionProof,
        want: Option<&str>,
    ) {
        let signed = self.head_ok(head);
        let got = signed.verify_inclusion(&self.files[entry_file], proof);
        check(name, got.as_ref().err(), want);
        self.inclusion.push(json!({
            "name": name,
            "description": description,
            "entry_file": entry_file,
            "head": head,
            "proof": inclusion_json(proof),
            "expected": outcome(got.as_ref().map(|_| ())),
        }));
    }

    /// A consistency case: two heads compared with [`compare_heads`].
    fn consistency(
        &mut self,
        name: &str,
        description: &str,
        (first, second): (&str, &str),
        proof: Option<&ConsistencyProof>,
        want: Option<&str>,
    ) {
        let got = compare_heads(&self.head_ok(first), &self.head_ok(second), proof);
        check(name, got.as_ref().err(), want);
        self.consistency.push(json!({
            "name": name,
            "description": description,
            "first": first,
            "second": second,
            "proof": proof.map(consistency_json),
            "expected": outcome(got.as_ref().map(|_| ())),
        }));
    }

    /// A monitor case: heads observed in order by one [`HeadMonitor`].
    fn monitor(
        &mut self,
        name: &str,
        description: &str,
        steps: &[(&str, Option<&ConsistencyProof>, Option<&str>)],
    ) {
        let mut monitor = HeadMonitor::new();
        let mut out = Vec::new();
        for (i, (head, proof, want)) in steps.iter().enumerate() {
            let got = monitor.observe(self.head_ok(head), *proof);
            check(&format!("{name} step {}", i + 1), got.as_ref().err(), *want);
            let latest = monitor.latest().map(|l| {
                self.heads
                    .iter()
                    .find(|(_, h)| h.bytes == l.as_bytes())
                    .map(|(n, _)| n.clone())
                    .unwrap_or_default()
            });
            out.push(json!({
                "head": head,
                "proof": proof.map(consistency_json),
                "expected": outcome(got.as_ref().map(|_| ())),
                "latest": latest,
            }));
        }
        self.monitors.push(json!({
            "name": name,
            "description": description,
            "steps": out,
        }));
    }

    /// A malformed entry case: `bytes` decoded with [`LogEntry::from_bytes`].
    fn malformed(&mut self, name: &str, description: &str, bytes: Vec<u8>, want: &str, cddl: bool) {
        let got = LogEntry::from_bytes(&bytes).map(|_| ());
        check(name, got.as_ref().err(), Some(want));
        let file = self.file(format!("log/invalid/{name}.cbor"), bytes);
        self.malformed.push(json!({
            "name": name,
            "description": description,
            "file": file,
            "expected": outcome(got.as_ref().map(|_| ())),
            "cddl_rejects": cddl,
        }));
    }
}

fn check(name: &str, got: Option<&LogError>, want: Option<&str>) {
    match (got, want) {
        (None, None) => {}
        (Some(e), Some(want)) => assert_eq!(log_code(e), want, "{name}: {e}"),
        (got, want) => panic!("{name}: expected {want:?}, got {got:?}"),
    }
}

/// Signs a receipt for an *allow*, as the provider (DGFiP) does.
fn receipt(s: &Scenario, request: &[u8], basis: &[u8]) -> Vec<u8> {
    let decision = s.decide(request, basis);
    let allow = decision
        .allowed()
        .unwrap_or_else(|| panic!("expected allow, got {:?}", decision.codes()));
    Receipt::for_authorization(allow, s.next_uuid(), s.now).sign(s.key(s.dgfip))
}

/// Denies a request and returns the denial the log keeps, made from the verifier's record (so
/// attributed to a subject only on verified grounds).
fn denial(s: &Scenario, request: &[u8], basis: &[u8]) -> Denial {
    let decision = s.decide(request, basis);
    assert!(!decision.is_allow(), "expected a denial");
    let record = s
        .ledger
        .take_decisions()
        .pop()
        .unwrap_or_else(|| panic!("the verifier keeps every decision"));
    Denial::from_record(&record)
        .unwrap_or_else(|| panic!("a denial"))
        .unwrap_or_else(|e| panic!("{e}"))
}

fn minutes(s: &mut Scenario, n: u64) {
    s.now = s.now.plus_secs(n * 60);
}

/// The canteen history the log records, in order.
fn history(s: &mut Scenario) -> (Vec<Logged>, Vec<u8>) {
    let mut out = Vec::new();
    let mut log = |entry: LogEntry, description: &'static str| {
        let name = format!("{:02}-{}", out.len(), entry.kind());
        out.push(Logged {
            entry,
            name,
            description,
        });
    };
    let ok = |r: Result<LogEntry, LogError>| r.unwrap_or_else(|e| panic!("{e}"));
    let grant = build(s, s.grant());
    log(
        ok(LogEntry::grant_issued(grant.clone())),
        "the parent's canteen grant to the city hall, as issued",
    );
    minutes(s, 10);
    let request = s.sign_request(&s.request(&grant));
    log(
        ok(LogEntry::receipt(receipt(s, &request, &grant))),
        "DGFiP sends the parent's reference tax income to the city hall under the grant",
    );
    minutes(s, 10);
    let child_grant = build(s, grant_for(s, s.child).expressed_by(s.parent));
    log(
        ok(LogEntry::grant_issued(child_grant.clone())),
        "the parent's grant for the child, as issued",
    );
    minutes(s, 10);
    let request = s.sign_request(&s.request(&child_grant));
    log(
        ok(LogEntry::receipt(receipt(s, &request, &child_grant))),
        "DGFiP sends the child's reference tax income under the child's grant",
    );
    minutes(s, 10);
    let habilitation = s.habilitation().sign(s.key(s.authority));
    let request = s.sign_request(&s.request(&habilitation));
    log(
        ok(LogEntry::receipt(receipt(s, &request, &habilitation))),
        "DGFiP sends the parent's reference tax income under the authority's habilitation",
    );
    s.advance_days(3);
    let pause = s.statement(&grant, Action::Pause, s.parent);
    s.apply(&pause, &grant).unwrap_or_else(|e| panic!("{e:?}"));
    log(
        ok(LogEntry::statement_about_grant(pause, &grant)),
        "the parent pauses the grant",
    );
    s.advance_days(31);
    let request = s.sign_request(&s.request(&grant));
    log(
        LogEntry::Denial(denial(s, &request, &grant)),
        "a request under the paused grant is denied",
    );
    minutes(s, 10);
    log(
        LogEntry::Denial(denial(s, b"not a request", &grant)),
        "bytes that are not a request are denied; the subject is unknown",
    );
    s.advance_days(1);
    let resume = s.statement(&grant, Action::Resume, s.parent);
    s.apply(&resume, &grant).unwrap_or_else(|e| panic!("{e:?}"));
    log(
        ok(LogEntry::statement_about_grant(resume, &grant)),
        "the parent resumes the grant",
    );
    minutes(s, 10);
    let request = s.sign_request(&s.request(&grant));
    log(
        ok(LogEntry::receipt(receipt(s, &request, &grant))),
        "a month later, DGFiP sends the parent's reference tax income again",
    );
    minutes(s, 10);
    let request = s.sign_request(&s.request(&child_grant));
    log(
        ok(LogEntry::receipt(receipt(s, &request, &child_grant))),
        "a month later, DGFiP sends the child's reference tax income again",
    );
    s.advance_days(30);
    let revoke = s.statement(&grant, Action::Revoke, s.parent);
    s.apply(&revoke, &grant).unwrap_or_else(|e| panic!("{e:?}"));
    log(
        ok(LogEntry::statement_about_grant(revoke, &grant)),
        "the parent revokes the grant",
    );
    minutes(s, 10);
    let request = s.sign_request(&s.request(&grant));
    log(
        LogEntry::Denial(denial(s, &request, &grant)),
        "a request under the revoked grant is denied",
    );
    (out, grant)
}

/// Builds the log vectors, adds their files to `files` and returns the index's `"log"` section.
pub fn log_vectors(files: &mut BTreeMap<String, Vec<u8>>) -> Json {
    let mut s = Scenario::canteen();
    let operator = party_for("log-operator");
    let op_key = key("log-operator");
    let (logged, grant) = history(&mut s);
    let mut g = LogGen {
        files,
        heads: BTreeMap::new(),
        head_cases: Vec::new(),
        inclusion: Vec::new(),
        consistency: Vec::new(),
        monitors: Vec::new(),
        histories: Vec::new(),
        malformed: Vec::new(),
        entry_files: Vec::new(),
    };

    // The entries, and the log.
    let mut log = TransferLog::new();
    let mut entries = Vec::new();
    let mut times = Vec::new();
    for l in &logged {
        let bytes = l.entry.to_bytes();
        let index = log.append(&l.entry);
        times.push(l.entry.time());
        let file = g.file(format!("log/entries/{}.cbor", l.name), bytes.clone());
        g.entry_files.push(file.clone());
        let object = l.entry.signed_bytes().map(|b| {
            let kind = Envelope::parse(b)
                .map(|e| e.kind())
                .unwrap_or_else(|e| panic!("{e}"));
            let f = g.file(format!("log/objects/{}.cbor", l.name), b.to_vec());
            json!({"file": f, "kind": kind, "digest": Digest::of(b).to_hex()})
        });
        let content = match &l.entry {
            LogEntry::Receipt(r) => json!({"receipt": r.claims()}),
            LogEntry::Statement(e) => json!({"statement": e.statement().claims()}),
            LogEntry::Denial(d) => json!({"denial": {
                "request_digest": d.request_digest().to_hex(),
                "request": d.request(),
                "basis": d.basis(),
                "subject": d.subject(),
                "reasons": d.reasons(),
                "at": d.at(),
            }}),
            _ => json!({}),
        };
        let mut e = json!({
            "index": index,
            "name": l.name,
            "description": l.description,
            "kind": l.entry.kind().to_string(),
            "kind_code": l.entry.kind().code(),
            "file": file,
            "leaf_hash": l.entry.leaf_hash().to_hex(),
            "subject": l.entry.subject(),
            "time": l.entry.time(),
            "object": object,
        });
        if let (Some(e), Some(c)) = (e.as_object_mut(), content.as_object()) {
            e.extend(c.clone());
        }
        entries.push(e);
    }
    let size = log.len();
    let all: Vec<Vec<u8>> = log.entries().to_vec();
    let prefix = |n: u64| {
        TransferLog::from_entries(all[..n as usize].iter().cloned())
            .unwrap_or_else(|e| panic!("{e}"))
    };

    // Valid heads at several sizes, each dated a minute after its last entry.
    let sizes = [0, 1, 5, 8, size];
    for &n in &sizes {
        let at = if n == 0 {
            times[0]
        } else {
            times[n as usize - 1].plus_secs(60)
        };
        let bytes = prefix(n).sign_head(&op_key, operator, at);
        let description = match n {
            0 => "the empty log's head: the root is SHA-256 of nothing",
            1 => "the head after the first entry: the root is the entry's leaf hash",
            n if n == size => "the latest head: every entry",
            _ => "a head of a prefix of the log",
        };
        g.head(
            &format!("head-{n}"),
            description,
            "log-operator",
            bytes,
            None,
            false,
        );
    }
    let latest_name = format!("head-{size}");
    let latest_at = times[size as usize - 1].plus_secs(60);

    // A fork: the same first six entries, then the log without the denial at index 6, and a
    // different last entry, so that the fork has the latest head's size.
    let mut fork = prefix(6);
    for bytes in &all[7..] {
        let entry = LogEntry::from_bytes(bytes).unwrap_or_else(|e| panic!("{e}"));
        fork.append(&entry);
    }
    let hidden = Denial::new(
        Digest::of(b"another request"),
        None,
        None,
        ["malformed"],
        latest_at.minus_secs(60),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    fork.append(&LogEntry::Denial(hidden));
    assert_eq!(fork.len(), size);
    g.head(
        &format!("fork-{size}"),
        "signed by the operator over another log of the same size: the paused-grant denial (index 6) is left out and another entry appended",
        "log-operator",
        fork.sign_head(&op_key, operator, latest_at),
        None,
        false,
    );
    g.head(
        &format!("backdated-{size}"),
        "the latest tree, signed with a timestamp before head-8's",
        "log-operator",
        log.sign_head(&op_key, operator, times[0]),
        None,
        false,
    );
    let other = party_for("other-log");
    g.head(
        "other-log-head-1",
        "the head of another log (another operator, another log id), verified with that operator's key",
        "other-log",
        prefix(1).sign_head(&key("other-log"), other, times[0].plus_secs(60)),
        None,
        false,
    );

    // Invalid heads.
    let latest_bytes = g.heads[&latest_name].bytes.clone();
    let head_claims = log.tree_head(operator, latest_at);
    g.head(
        "head-signed-by-stranger",
        "the latest head's claims signed with another key than the operator's",
        "log-operator",
        head_claims.sign(&key("stranger")),
        Some("log/wrong_key"),
        false,
    );
    let payload = payload_of(&latest_bytes);
    let signature = &latest_bytes[latest_bytes.len() - 64..];
    let protected = Envelope::parse(&latest_bytes)
        .map(|e| e.protected().to_vec())
        .unwrap_or_else(|e| panic!("{e}"));
    let modified_root = with(
        &payload,
        3,
        enc(|e| {
            e.bytes(flip_hash(log.root()).as_bytes());
        }),
    );
    g.head(
        "head-modified-root",
        "the latest head with one bit of its root changed, signature kept",
        "log-operator",
        cose::assemble(&protected, &[0xa0], &modified_root, signature),
        Some("log/bad_signature"),
        false,
    );
    let modified_size = with(
        &payload,
        2,
        enc(|e| {
            e.uint(size + 1);
        }),
    );
    g.head(
        "head-modified-size",
        "the latest head with its tree size changed, signature kept",
        "log-operator",
        cose::assemble(&protected, &[0xa0], &modified_size, signature),
        Some("log/bad_signature"),
        false,
    );
    let n = latest_bytes.len();
    g.head(
        "head-bad-signature",
        "the latest head with one bit of its signature changed",
        "log-operator",
        flip(&latest_bytes, n - 1),
        Some("log/bad_signature"),
        false,
    );
    g.head(
        "head-empty-wrong-root",
        "a head of size 0 whose root is not SHA-256 of nothing, signed by the operator",
        "log-operator",
        TreeHead {
            log_id: operator,
            tree_size: 0,
            root_hash: log.root(),
            timestamp: times[0],
        }
        .sign(&op_key),
        Some("log/malformed_head"),
        false,
    );
    g.head(
        "head-missing-timestamp",
        "the latest head without its timestamp (key 4), signed by the operator",
        "log-operator",
        cose::sign(ObjectKind::TreeHead, &op_key, &without(&payload, 4)),
        Some("log/malformed_head"),
        true,
    );
    g.head(
        "head-short-root",
        "the latest head with a root of 31 bytes, signed by the operator",
        "log-operator",
        cose::sign(
            ObjectKind::TreeHead,
            &op_key,
            &with(
                &payload,
                3,
                enc(|e| {
                    e.bytes(&log.root().as_bytes()[..31]);
                }),
            ),
        ),
        Some("log/malformed_head"),
        true,
    );
    g.head(
        "head-version-1",
        "the latest head with version 1 (the previous format), signed by the operator",
        "log-operator",
        cose::sign(
            ObjectKind::TreeHead,
            &op_key,
            &with(
                &payload,
                0,
                enc(|e| {
                    e.uint(1);
                }),
            ),
        ),
        Some("log/malformed_head"),
        true,
    );
    let receipt_bytes = logged[1]
        .entry
        .signed_bytes()
        .unwrap_or_else(|| unreachable!())
        .to_vec();
    g.head(
        "head-is-a-receipt",
        "a receipt presented as a tree head",
        "log-operator",
        receipt_bytes.clone(),
        Some("log/malformed_head"),
        false,
    );

    // Inclusion of every entry against the latest head.
    let proofs: Vec<InclusionProof> = (0..size)
        .map(|i| {
            log.inclusion_proof(i, size)
                .unwrap_or_else(|e| panic!("{e}"))
        })
        .collect();
    for (i, proof) in proofs.iter().enumerate() {
        let file = g.entry_files[i].clone();
        g.inclusion(
            &format!("inclusion-{i:02}"),
            "entry included at its index under the latest head",
            &file,
            &latest_name,
            proof,
            None,
        );
    }
    // And of the first entries against an older head.
    for i in 0..5 {
        let file = g.entry_files[i].clone();
        let proof = log
            .inclusion_proof(i as u64, 8)
            .unwrap_or_else(|e| panic!("{e}"));
        g.inclusion(
            &format!("inclusion-{i:02}-at-8"),
            "entry included at its index under head-8",
            &file,
            "head-8",
            &proof,
            None,
        );
    }
    // Refusals.
    let target = 4;
    let entry_file = g.entry_files[target].clone();
    let entry = g.files[&entry_file].clone();
    let tampered = flip(&entry, entry.len() - 1);
    assert!(LogEntry::from_bytes(&tampered).is_ok(), "still decodes");
    let tampered_file = g.file(
        "log/invalid/tampered-entry.cbor".to_owned(),
        tampered.clone(),
    );
    let proof = proofs[target].clone();
    g.inclusion(
        "tampered-entry",
        "entry 4 with one bit of its receipt's signature changed (it still decodes), with entry 4's proof",
        &tampered_file,
        &latest_name,
        &proof,
        Some("log/root_mismatch"),
    );
    for (at, what) in [(0, "first"), (proof.path.len() - 1, "last")] {
        let mut p = proof.clone();
        p.path[at] = flip_hash(p.path[at]);
        g.inclusion(
            &format!("modified-proof-hash-{what}"),
            "entry 4's proof with one bit of one hash changed",
            &entry_file,
            &latest_name,
            &p,
            Some("log/root_mismatch"),
        );
    }
    let mut p = proof.clone();
    p.leaf_index = 5;
    g.inclusion(
        "wrong-index",
        "entry 4 with its proof, claimed at index 5 (a proof of the same length)",
        &entry_file,
        &latest_name,
        &p,
        Some("log/root_mismatch"),
    );
    let mut p = proof.clone();
    p.leaf_index = 12;
    g.inclusion(
        "wrong-index-other-shape",
        "entry 4 with its proof, claimed at index 12 (whose proof has another length)",
        &entry_file,
        &latest_name,
        &p,
        Some("log/proof_length"),
    );
    let mut p = proof.clone();
    p.leaf_index = size;
    g.inclusion(
        "index-out-of-range",
        "entry 4's proof claimed at index 13, beyond the tree",
        &entry_file,
        &latest_name,
        &p,
        Some("log/index_out_of_range"),
    );
    g.inclusion(
        "wrong-tree-size",
        "entry 4's proof for the latest size, checked against head-8",
        &entry_file,
        "head-8",
        &proof,
        Some("log/inclusion_proof_mismatch"),
    );
    let mut p = proof.clone();
    p.tree_size = 12;
    g.inclusion(
        "wrong-tree-size-claimed",
        "entry 4's proof claiming a tree of 12 entries, checked against the latest head",
        &entry_file,
        &latest_name,
        &p,
        Some("log/inclusion_proof_mismatch"),
    );
    let mut p = proof.clone();
    p.path.pop();
    g.inclusion(
        "truncated-proof",
        "entry 4's proof without its last hash",
        &entry_file,
        &latest_name,
        &p,
        Some("log/proof_length"),
    );
    let mut p = proof.clone();
    p.path.push(log.root());
    g.inclusion(
        "extended-proof",
        "entry 4's proof with one hash too many",
        &entry_file,
        &latest_name,
        &p,
        Some("log/proof_length"),
    );
    let mut p = proof.clone();
    p.path = vec![log.root(); 65];
    g.inclusion(
        "proof-too-long",
        "a proof of 65 hashes, longer than any tree of u64 size needs",
        &entry_file,
        &latest_name,
        &p,
        Some("log/proof_too_long"),
    );
    let fork_entry = fork.entry(size - 1).unwrap_or_default().to_vec();
    let fork_file = g.file("log/invalid/fork-entry.cbor".to_owned(), fork_entry);
    let p = fork
        .inclusion_proof(size - 1, size)
        .unwrap_or_else(|e| panic!("{e}"));
    g.inclusion(
        "entry-of-the-fork",
        "the fork's last entry with its proof in the fork, checked against the latest head",
        &fork_file,
        &latest_name,
        &p,
        Some("log/root_mismatch"),
    );

    // Consistency between heads.
    let cp = |old: u64, new: u64| {
        log.consistency_proof(old, new)
            .unwrap_or_else(|e| panic!("{e}"))
    };
    let pairs = [(1, 5), (5, 8), (8, size), (1, size), (5, size), (1, 8)];
    for (old, new) in pairs {
        g.consistency(
            &format!("consistency-{old}-{new}"),
            "the older head is a prefix of the newer one",
            (&format!("head-{old}"), &format!("head-{new}")),
            Some(&cp(old, new)),
            None,
        );
    }
    g.consistency(
        &format!("consistency-{size}-8-reversed"),
        "the heads may be given in either order",
        (&latest_name, "head-8"),
        Some(&cp(8, size)),
        None,
    );
    g.consistency(
        &format!("consistency-0-{size}"),
        "the empty log is a prefix of every log: no proof needed",
        ("head-0", &latest_name),
        None,
        None,
    );
    g.consistency(
        "consistency-same-head",
        "a head is consistent with itself: no proof needed",
        (&latest_name, &latest_name),
        None,
        None,
    );
    g.consistency(
        "fork-same-size",
        "two heads of the same size with different roots, both signed by the operator",
        (&latest_name, &format!("fork-{size}")),
        None,
        Some("log/fork"),
    );
    let fork_proof = fork
        .consistency_proof(8, size)
        .unwrap_or_else(|e| panic!("{e}"));
    g.consistency(
        "fork-larger",
        "head-8 and the fork's head, with the fork's consistency proof from 8: the fork does not extend head-8",
        ("head-8", &format!("fork-{size}")),
        Some(&fork_proof),
        Some("log/fork"),
    );
    g.consistency(
        "fork-extends-common-prefix",
        "head-5 and the fork's head: the fork shares the first six entries, so it extends head-5",
        ("head-5", &format!("fork-{size}")),
        Some(
            &fork
                .consistency_proof(5, size)
                .unwrap_or_else(|e| panic!("{e}")),
        ),
        None,
    );
    let mut p = cp(5, size);
    p.path[0] = flip_hash(p.path[0]);
    g.consistency(
        "modified-consistency-hash",
        "the proof from 5 with one bit of one hash changed: it does not link the roots",
        ("head-5", &latest_name),
        Some(&p),
        Some("log/fork"),
    );
    let mut p = cp(5, size);
    p.path.pop();
    g.consistency(
        "truncated-consistency-proof",
        "the proof from 5 without its last hash",
        ("head-5", &latest_name),
        Some(&p),
        Some("log/proof_length"),
    );
    g.consistency(
        "consistency-proof-missing",
        "heads of different sizes compared without a proof",
        ("head-5", &latest_name),
        None,
        Some("log/consistency_proof_required"),
    );
    g.consistency(
        "consistency-proof-for-other-sizes",
        "head-5 and the latest head with the proof from 1",
        ("head-5", &latest_name),
        Some(&cp(1, size)),
        Some("log/consistency_proof_mismatch"),
    );
    g.consistency(
        "time-regression",
        "head-8 and a head of the larger tree dated before it",
        ("head-8", &format!("backdated-{size}")),
        Some(&cp(8, size)),
        Some("log/time_regression"),
    );
    g.consistency(
        "wrong-log",
        "head-1 and another log's head of size 1",
        ("head-1", "other-log-head-1"),
        None,
        Some("log/wrong_log"),
    );

    // A monitor following the log, and the forks and rollbacks it catches.
    let (p01, p15, p58, p8n) = (cp(0, 1), cp(1, 5), cp(5, 8), cp(8, size));
    let latest = latest_name.as_str();
    g.monitor(
        "monitor-follows-the-log",
        "every head in order, each with its consistency proof from the previous one",
        &[
            ("head-0", None, None),
            ("head-1", Some(&p01), None),
            ("head-5", Some(&p15), None),
            ("head-8", Some(&p58), None),
            (latest, Some(&p8n), None),
            (latest, None, None),
        ],
    );
    g.monitor(
        "monitor-rollback",
        "after head-8, head-5 is offered again: the log shrank",
        &[
            ("head-5", None, None),
            ("head-8", Some(&p58), None),
            ("head-5", None, Some("log/rollback")),
        ],
    );
    let fork_name = format!("fork-{size}");
    g.monitor(
        "monitor-fork-same-size",
        "after the latest head, the fork's head of the same size",
        &[(latest, None, None), (&fork_name, None, Some("log/fork"))],
    );
    g.monitor(
        "monitor-fork-larger",
        "after head-8, the fork's head with the fork's proof from 8; the monitor keeps head-8 and then accepts the true latest head",
        &[
            ("head-8", None, None),
            (&fork_name, Some(&fork_proof), Some("log/fork")),
            (latest, Some(&p8n), None),
        ],
    );
    g.monitor(
        "monitor-missing-proof",
        "a larger head without a consistency proof",
        &[
            ("head-5", None, None),
            ("head-8", None, Some("log/consistency_proof_required")),
        ],
    );
    g.monitor(
        "monitor-other-log",
        "a head of another log offered to the monitor of this one",
        &[
            ("head-1", None, None),
            ("other-log-head-1", None, Some("log/wrong_log")),
        ],
    );

    // The parent's access history.
    let parent_history = log
        .access_history(s.parent, size)
        .unwrap_or_else(|e| panic!("{e}"));
    let child_history = log
        .access_history(s.child, size)
        .unwrap_or_else(|e| panic!("{e}"));
    history_case(
        &mut g,
        "history-parent",
        "the parent's access history against the latest head: every entry about the parent",
        &parent_history,
        &latest_name,
        "log-operator",
    );
    history_case(
        &mut g,
        "history-child",
        "the child's access history against the latest head",
        &child_history,
        &latest_name,
        "log-operator",
    );
    let older = log
        .access_history(s.parent, 8)
        .unwrap_or_else(|e| panic!("{e}"));
    history_case(
        &mut g,
        "history-parent-at-8",
        "the parent's access history against head-8",
        &older,
        "head-8",
        "log-operator",
    );
    let mut h = parent_history.clone();
    h.items[1].entry = tampered.clone();
    history_case(
        &mut g,
        "history-tampered-entry",
        "the parent's history with one bit of the receipt at index 4 changed",
        &h,
        &latest_name,
        "log-operator",
    );
    let mut h = parent_history.clone();
    h.items[2].proof.path[0] = flip_hash(h.items[2].proof.path[0]);
    history_case(
        &mut g,
        "history-modified-proof",
        "the parent's history with one bit of one proof hash of its third item changed",
        &h,
        &latest_name,
        "log-operator",
    );
    let mut h = parent_history.clone();
    let child_item = child_history.items[0].clone();
    let at = h
        .items
        .iter()
        .position(|i| i.index() > child_item.index())
        .unwrap_or(h.items.len());
    h.items.insert(at, child_item);
    history_case(
        &mut g,
        "history-with-anothers-entry",
        "the parent's history with an entry about the child inserted in order",
        &h,
        &latest_name,
        "log-operator",
    );
    let mut h = parent_history.clone();
    h.items.swap(2, 3);
    history_case(
        &mut g,
        "history-out-of-order",
        "the parent's history with two items swapped",
        &h,
        &latest_name,
        "log-operator",
    );
    history_case(
        &mut g,
        "history-against-older-head",
        "the parent's history for the latest size, checked against head-8",
        &parent_history,
        "head-8",
        "log-operator",
    );
    history_case(
        &mut g,
        "history-head-signed-by-stranger",
        "the parent's history with a head signed by another key",
        &parent_history,
        "head-signed-by-stranger",
        "log-operator",
    );

    // Malformed entries.
    malformed_entries(&mut g, &s, &logged, &grant, &receipt_bytes);

    // The index section.
    let (heads_valid, heads_invalid) = split(&g.head_cases);
    let (inc_valid, inc_invalid) = split(&g.inclusion);
    let (con_valid, con_invalid) = split(&g.consistency);
    let mut by_error: BTreeMap<String, u64> = BTreeMap::new();
    let mut count = |expected: &Json| {
        if let Some(code) = expected["error"].as_str() {
            *by_error.entry(code.to_owned()).or_default() += 1;
        }
    };
    for case in g
        .head_cases
        .iter()
        .chain(&g.inclusion)
        .chain(&g.consistency)
        .chain(&g.malformed)
    {
        count(&case["expected"]);
    }
    for m in &g.monitors {
        for step in m["steps"].as_array().into_iter().flatten() {
            count(&step["expected"]);
        }
    }
    for h in &g.histories {
        count(&h["expected"]);
        for f in h["expected"]["failures"].as_array().into_iter().flatten() {
            count(f);
        }
    }
    let keys: Vec<Json> = KEYS
        .iter()
        .map(|(name, note)| {
            let k = key(name);
            json!({
                "name": name,
                "note": note,
                "log_id": party_for(name),
                "seed": hex(&seed_of(name)),
                "public_key": k.verifying_key().to_hex(),
                "kid": k.key_id().to_hex(),
            })
        })
        .collect();
    json!({
        "description": "a transfer log built from a canteen history; entries and signed objects are verified against the canteen directory, heads with the operator's key",
        "directory": "canteen",
        "operator": "log-operator",
        "keys": keys,
        "counts": {
            "entries": entries.len(),
            "heads_valid": heads_valid,
            "heads_invalid": heads_invalid,
            "inclusion_valid": inc_valid,
            "inclusion_invalid": inc_invalid,
            "consistency_valid": con_valid,
            "consistency_invalid": con_invalid,
            "monitors": g.monitors.len(),
            "histories": g.histories.len(),
            "malformed_entries": g.malformed.len(),
            "by_error": by_error,
        },
        "entries": entries,
        "root": log.root().to_hex(),
        "heads": g.head_cases,
        "inclusion": g.inclusion,
        "consistency": g.consistency,
        "monitors": g.monitors,
        "histories": g.histories,
        "malformed_entries": g.malformed,
    })
}

fn split(cases: &[Json]) -> (usize, usize) {
    let valid = cases
        .iter()
        .filter(|c| c["expected"]["outcome"] == "valid")
        .count();
    (valid, cases.len() - valid)
}

/// A history case, checked with [`verify_history`]. Entries are referenced by file: the log's
/// entry file when the bytes are the logged ones, otherwise a file under `log/invalid/`.
fn history_case(
    g: &mut LogGen<'_>,
    name: &str,
    description: &str,
    history: &AccessHistory,
    head: &str,
    key_name: &str,
) {
    let head_bytes = g
        .files
        .get(&format!("log/heads/{head}.cbor"))
        .cloned()
        .unwrap_or_else(|| panic!("no head {head}"));
    let mut items = Vec::new();
    for (position, item) in history.items.iter().enumerate() {
        let file = g
            .files
            .iter()
            .find(|(f, b)| f.starts_with("log/") && **b == item.entry)
            .map(|(f, _)| f.clone())
            .unwrap_or_else(|| {
                let f = format!("log/invalid/{name}-{position}.cbor");
                g.files
                    .entry(f.clone())
                    .or_insert_with(|| item.entry.clone());
                f
            });
        items.push(json!({"entry_file": file, "proof": inclusion_json(&item.proof)}));
    }
    let expected = match verify_history(
        history,
        &head_bytes,
        party_for(key_name),
        &key(key_name).verifying_key(),
    ) {
        Ok(report) => {
            let verified: Vec<u64> = report.verified.iter().map(|c| c.index).collect();
            let failures: Vec<Json> = report
                .failures
                .iter()
                .map(|f| {
                    let mut j = outcome(Err(&f.error));
                    j["position"] = json!(f.position);
                    j["index"] = json!(f.index);
                    j.as_object_mut().map(|o| o.remove("outcome"));
                    j
                })
                .collect();
            if failures.is_empty() {
                json!({"outcome": "valid", "verified": verified})
            } else {
                json!({"outcome": "invalid", "verified": verified, "failures": failures})
            }
        }
        Err(e) => outcome(Err(&e)),
    };
    g.histories.push(json!({
        "name": name,
        "description": description,
        "subject": history.subject,
        "head": head,
        "key": key_name,
        "log": party_for(key_name),
        "items": items,
        "expected": expected,
    }));
}

fn entry_of(items: impl FnOnce(&mut Encoder)) -> Vec<u8> {
    enc(items)
}

fn malformed_entries(
    g: &mut LogGen<'_>,
    s: &Scenario,
    logged: &[Logged],
    grant: &[u8],
    receipt_bytes: &[u8],
) {
    let denial_bytes = logged
        .iter()
        .map(|l| l.entry.to_bytes())
        .find(|b| b[1] == 0x03)
        .unwrap_or_else(|| unreachable!());
    let statement = logged
        .iter()
        .find(|l| l.entry.kind() == EntryKind::Statement)
        .and_then(|l| l.entry.signed_bytes())
        .unwrap_or_else(|| unreachable!())
        .to_vec();
    let receipt_entry = logged[1].entry.to_bytes();
    g.malformed(
        "unknown-kind",
        "an entry of kind 4, which no version-2 entry has",
        entry_of(|e| {
            e.array(2).uint(4).bytes(receipt_bytes);
        }),
        "log/malformed_entry",
        true,
    );
    g.malformed(
        "kind-as-text",
        "an entry whose kind is the text \"receipt\"",
        entry_of(|e| {
            e.array(2).text("receipt").bytes(receipt_bytes);
        }),
        "log/malformed_entry",
        true,
    );
    g.malformed(
        "not-an-array",
        "a receipt's COSE bytes alone, not wrapped in an entry",
        receipt_bytes.to_vec(),
        "log/malformed_entry",
        false,
    );
    let mut oversize = vec![0x82, 0x00, 0x5a, 0x00, 0x01, 0x00, 0x01];
    oversize.extend_from_slice(receipt_bytes);
    g.malformed(
        "oversize-length",
        "a receipt entry whose byte string announces 65 537 bytes, more than the input holds",
        oversize,
        "log/malformed_entry",
        true,
    );
    let mut huge = vec![0x82, 0x00, 0x5a];
    let len = consentry::log::MAX_ENTRY_SIZE as u32;
    huge.extend_from_slice(&len.to_be_bytes());
    huge.resize(huge.len() + len as usize, 0);
    g.malformed(
        "too-large",
        "an entry of more than MAX_ENTRY_SIZE (66 560) bytes, refused before reading",
        huge,
        "log/malformed_entry",
        true,
    );
    g.malformed(
        "receipt-entry-extra-item",
        "a receipt entry with a third item",
        entry_of(|e| {
            e.array(3).uint(0).bytes(receipt_bytes).bytes(&[0; 16]);
        }),
        "log/malformed_entry",
        true,
    );
    g.malformed(
        "statement-entry-four-items",
        "a statement entry with four items",
        entry_of(|e| {
            e.array(4)
                .uint(2)
                .bytes(&statement)
                .bytes(s.parent.as_bytes())
                .bytes(s.parent.as_bytes());
        }),
        "log/malformed_entry",
        true,
    );
    g.malformed(
        "statement-subject-short",
        "a statement entry whose subject is 15 bytes",
        entry_of(|e| {
            e.array(3)
                .uint(2)
                .bytes(&statement)
                .bytes(&s.parent.as_bytes()[..15]);
        }),
        "log/malformed_entry",
        true,
    );
    let mut trailing = receipt_entry.clone();
    trailing.push(0x00);
    g.malformed(
        "trailing-byte",
        "a valid receipt entry followed by one byte",
        trailing,
        "log/malformed_entry",
        false,
    );
    let mut long_kind = vec![0x82, 0x18, 0x00];
    long_kind.extend_from_slice(&receipt_entry[2..]);
    g.malformed(
        "kind-not-shortest",
        "a receipt entry whose kind 0 is written on two bytes",
        long_kind,
        "log/malformed_entry",
        false,
    );
    g.malformed(
        "grant-logged-as-receipt",
        "a grant's bytes in an entry of kind 0 (receipt)",
        entry_of(|e| {
            e.array(2).uint(0).bytes(grant);
        }),
        "log/malformed_object",
        true,
    );
    let bad_receipt = cose::sign(
        ObjectKind::Receipt,
        s.key(s.dgfip),
        &with(
            &payload_of(receipt_bytes),
            5,
            enc(|e| {
                e.uint(2);
            }),
        ),
    );
    g.malformed(
        "receipt-bad-basis-kind",
        "a receipt entry whose receipt (validly signed) has basis kind 2",
        entry_of(|e| {
            e.array(2).uint(0).bytes(&bad_receipt);
        }),
        "log/malformed_object",
        true,
    );
    // A denial whose reason is not a reason code.
    let denial_payload = &denial_bytes[2..];
    let bad_reason = with(
        denial_payload,
        5,
        enc(|e| {
            e.array(1).text("Paused");
        }),
    );
    g.malformed(
        "denial-bad-reason-code",
        "a denial whose reason code has an upper-case letter",
        entry_of(|e| {
            e.array(2).uint(3).raw(&bad_reason);
        }),
        "log/invalid_denial",
        false,
    );
    let no_reason = with(
        denial_payload,
        5,
        enc(|e| {
            e.array(0);
        }),
    );
    g.malformed(
        "denial-no-reason",
        "a denial without reason codes",
        entry_of(|e| {
            e.array(2).uint(3).raw(&no_reason);
        }),
        "log/malformed_entry",
        true,
    );
    let extra_key = with(
        denial_payload,
        7,
        enc(|e| {
            e.uint(0);
        }),
    );
    g.malformed(
        "denial-unknown-key",
        "a denial with a key 7",
        entry_of(|e| {
            e.array(2).uint(3).raw(&extra_key);
        }),
        "log/malformed_entry",
        true,
    );
    g.malformed(
        "denial-missing-time",
        "a denial without its time (key 6)",
        entry_of(|e| {
            e.array(2).uint(3).raw(&without(denial_payload, 6));
        }),
        "log/malformed_entry",
        true,
    );
}
