//! Access histories: a subject's entries with their proofs, checked against a head.

use consentry::log::{AccessHistory, verify_history};
use consentry::testing::{Scenario, party_for};
use serde_json::{Value as Json, json};

use super::Tree;
use super::codes::{flip_hash, inclusion_json, outcome};
use super::collect::{LogGen, key};

/// The parent's and the child's histories, and altered ones.
pub fn histories(g: &mut LogGen<'_>, t: &Tree, s: &Scenario, tampered: &[u8]) {
    let size = t.size;
    let Tree {
        log, latest_name, ..
    } = t;
    let parent_history = log
        .access_history(s.parent, size)
        .unwrap_or_else(|e| panic!("{e}"));
    let child_history = log
        .access_history(s.child, size)
        .unwrap_or_else(|e| panic!("{e}"));
    history_case(
        g,
        "history-parent",
        "the parent's access history against the latest head: every entry about the parent",
        &parent_history,
        latest_name,
        "log-operator",
    );
    history_case(
        g,
        "history-child",
        "the child's access history against the latest head",
        &child_history,
        latest_name,
        "log-operator",
    );
    let older = log
        .access_history(s.parent, 8)
        .unwrap_or_else(|e| panic!("{e}"));
    history_case(
        g,
        "history-parent-at-8",
        "the parent's access history against head-8",
        &older,
        "head-8",
        "log-operator",
    );
    let mut h = parent_history.clone();
    h.items[1].entry = tampered.to_vec();
    history_case(
        g,
        "history-tampered-entry",
        "the parent's history with one bit of the receipt at index 4 changed",
        &h,
        latest_name,
        "log-operator",
    );
    let mut h = parent_history.clone();
    h.items[2].proof.path[0] = flip_hash(h.items[2].proof.path[0]);
    history_case(
        g,
        "history-modified-proof",
        "the parent's history with one bit of one proof hash of its third item changed",
        &h,
        latest_name,
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
        g,
        "history-with-anothers-entry",
        "the parent's history with an entry about the child inserted in order",
        &h,
        latest_name,
        "log-operator",
    );
    let mut h = parent_history.clone();
    h.items.swap(2, 3);
    history_case(
        g,
        "history-out-of-order",
        "the parent's history with two items swapped",
        &h,
        latest_name,
        "log-operator",
    );
    history_case(
        g,
        "history-against-older-head",
        "the parent's history for the latest size, checked against head-8",
        &parent_history,
        "head-8",
        "log-operator",
    );
    history_case(
        g,
        "history-head-signed-by-stranger",
        "the parent's history with a head signed by another key",
        &parent_history,
        "head-signed-by-stranger",
        "log-operator",
    );
}

/// A history case, checked with [`verify_history`]. Entries are referenced by file: the log's
/// entry file when the bytes are the logged ones, otherwise a file under `log/invalid/`.
pub fn history_case(
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
