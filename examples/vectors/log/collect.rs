//! The collector of log cases: [`LogGen`] checks each case and keeps its files and entry.

use std::collections::BTreeMap;

use consentry::SigningKey;
use consentry::log::{
    ConsistencyProof, HeadMonitor, InclusionProof, LogEntry, LogError, SignedTreeHead,
    compare_heads,
};
use consentry::testing::{key_for, party_for};
use serde_json::{Value as Json, json};

use super::codes::{consistency_json, inclusion_json, outcome};

/// A signed head of the vectors.
pub struct Head {
    pub bytes: Vec<u8>,
    pub key: &'static str,
}

pub struct LogGen<'a> {
    pub files: &'a mut BTreeMap<String, Vec<u8>>,
    pub heads: BTreeMap<String, Head>,
    pub head_cases: Vec<Json>,
    pub inclusion: Vec<Json>,
    pub consistency: Vec<Json>,
    pub monitors: Vec<Json>,
    pub histories: Vec<Json>,
    pub malformed: Vec<Json>,
    pub entry_files: Vec<String>,
}

pub fn key(name: &str) -> SigningKey {
    key_for(name)
}

/// Verifies a head as a head of the log of `key_name`'s operator, with that operator's key.
pub fn verify_head(bytes: &[u8], key_name: &str) -> Result<SignedTreeHead, LogError> {
    SignedTreeHead::verify(bytes, party_for(key_name), &key(key_name).verifying_key())
}

impl LogGen<'_> {
    pub fn file(&mut self, path: String, bytes: Vec<u8>) -> String {
        assert!(
            self.files.insert(path.clone(), bytes).is_none(),
            "{path} written twice"
        );
        path
    }

    pub fn head_ok(&self, name: &str) -> SignedTreeHead {
        let h = &self.heads[name];
        verify_head(&h.bytes, h.key).unwrap_or_else(|e| panic!("{name}: {e}"))
    }

    /// A head case: the head's bytes verified with `key_name`'s public key.
    pub fn head(
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
                assert_eq!(e.code(), want, "{name}");
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
    pub fn inclusion(
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
    pub fn consistency(
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
    pub fn monitor(
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
    pub fn malformed(
        &mut self,
        name: &str,
        description: &str,
        bytes: Vec<u8>,
        want: &str,
        cddl: bool,
    ) {
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

pub fn check(name: &str, got: Option<&LogError>, want: Option<&str>) {
    match (got, want) {
        (None, None) => {}
        (Some(e), Some(want)) => assert_eq!(e.code(), want, "{name}: {e}"),
        (got, want) => panic!("{name}: expected {want:?}, got {got:?}"),
    }
}
