//! The transfer log's vectors: a log built from a canteen history, its entries, signed tree heads
//! at several sizes, inclusion and consistency proofs, the parent's access history, and the
//! refusals of the log layer. Written under `log/` and described in the `"log"` section of
//! `index.json` (see `tests/vectors/README.md` and `docs/format.md`, "The transfer log").
//!
//! One module per family: the [`story`] the log records, signed [`heads`], [`inclusion`] and
//! [`consistency`] proofs with a monitor, [`access`] histories, and [`malformed`] entries.

mod access;
mod codes;
mod collect;
mod consistency;
mod heads;
mod inclusion;
mod malformed;
mod story;

use std::collections::BTreeMap;

use consentry::cose::Envelope;
use consentry::directory::PartyId;
use consentry::log::{ConsistencyProof, Denial, LogEntry, TransferLog};
use consentry::testing::{Scenario, party_for};
use consentry::{Digest, SigningKey, Timestamp};
use serde_json::{Value as Json, json};

use super::common::{hex, seed_of};
pub use codes::outcome;
use collect::{LogGen, key};
use story::Logged;

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

/// The log the cases are about, and what they share: its operator, its entries' times, its
/// latest head's name and time, and a fork of it.
pub struct Tree {
    operator: PartyId,
    op_key: SigningKey,
    log: TransferLog,
    all: Vec<Vec<u8>>,
    size: u64,
    times: Vec<Timestamp>,
    latest_name: String,
    latest_at: Timestamp,
    fork: TransferLog,
}

impl Tree {
    fn new(log: TransferLog, times: Vec<Timestamp>) -> Self {
        let size = log.len();
        let all: Vec<Vec<u8>> = log.entries().to_vec();
        let latest_at = times[size as usize - 1].plus_secs(60);
        let mut t = Tree {
            operator: party_for("log-operator"),
            op_key: key("log-operator"),
            fork: TransferLog::new(),
            log,
            all,
            size,
            times,
            latest_name: format!("head-{size}"),
            latest_at,
        };
        t.fork = t.fork();
        t
    }

    /// The log of the first `n` entries.
    fn prefix(&self, n: u64) -> TransferLog {
        TransferLog::from_entries(self.all[..n as usize].iter().cloned())
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// The consistency proof between sizes `old` and `new`.
    fn cp(&self, old: u64, new: u64) -> ConsistencyProof {
        self.log
            .consistency_proof(old, new)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// A fork: the same first six entries, then the log without the denial at index 6, and a
    /// different last entry, so that the fork has the latest head's size.
    fn fork(&self) -> TransferLog {
        let (all, latest_at) = (&self.all, self.latest_at);
        let mut fork = self.prefix(6);
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
        assert_eq!(fork.len(), self.size);
        fork
    }
}

/// Builds the log vectors, adds their files to `files` and returns the index's `"log"` section.
pub fn log_vectors(files: &mut BTreeMap<String, Vec<u8>>) -> Json {
    let mut s = Scenario::canteen();
    let (logged, grant) = story::history(&mut s);
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
    let (log, entries, times) = entries(&mut g, &logged);
    let t = Tree::new(log, times);
    heads::valid(&mut g, &t);
    heads::invalid(&mut g, &t, &logged);
    inclusion::valid(&mut g, &t);
    let tampered = inclusion::refusals(&mut g, &t);
    consistency::pairs(&mut g, &t);
    consistency::monitors(&mut g, &t);
    access::histories(&mut g, &t, &s, &tampered);
    malformed::framing(&mut g, &logged, &s);
    malformed::contents(&mut g, &logged, &s, &grant);
    section(&g, &t, entries)
}

/// The log's entries: each written under `log/entries/`, its signed object under
/// `log/objects/`; the log, the entries' index form and their times.
fn entries(g: &mut LogGen<'_>, logged: &[Logged]) -> (TransferLog, Vec<Json>, Vec<Timestamp>) {
    let mut log = TransferLog::new();
    let mut entries = Vec::new();
    let mut times = Vec::new();
    for l in logged {
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
            LogEntry::Deletion(d) => json!({"deletion": d.claims()}),
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
    (log, entries, times)
}

/// The index's `"log"` section.
fn section(g: &LogGen<'_>, t: &Tree, entries: Vec<Json>) -> Json {
    let log = &t.log;
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
