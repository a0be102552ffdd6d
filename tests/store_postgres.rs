//! The PostgreSQL store on a real server: what survives a reconnect, what is refused as
//! corrupt, several processes deciding on the same grants at once (exactly the allows the
//! quotas permit), a node killed at random moments, and faults of the database (stopped, a
//! connection terminated mid-transaction, a lock timeout) on a throw-away cluster of the test's
//! own.
//!
//! The connection string is `CONSENTRY_PG` (required: the tests fail without it; see
//! `.ci/postgres.sh`). Each test works in a schema of its own, dropped at the end. Rounds of
//! the many-nodes test: `CONSENTRY_PG_ROUNDS` (default 5); kills of the crash test:
//! `CONSENTRY_CRASH_KILLS` (default 20).

#[path = "support/store.rs"]
mod support;

use consentry::testing::TWICE_A_MONTH;
use support::*;

use consentry::Digest;
use consentry::decision::{Basis, Decision, Reason};
use consentry::grant::Grant;
use consentry::habilitation::Habilitation;
use consentry::ids::{BasisId, BasisKey};
use consentry::ledger::{LedgerError, Status};
use consentry::log::{
    EntryKind, LogEntry, LogError, LogStore, SignedTreeHead, compare_heads, leaf_hash,
    verify_inclusion,
};
use consentry::request::Request;
use consentry::signed::{SignedPayload, Unverified};
use consentry::statement::Action;
use consentry::store::OpenError;
use consentry::store::postgres::{PgOptions, PgStore};
use consentry::terms::AccessPattern;
use consentry::testing::Scenario;
use postgres::{Client, NoTls};
use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

// ------------------------------------------------------------------------------ helpers

/// The connection string of the shared test database; the test fails without it.
fn pg() -> String {
    std::env::var("CONSENTRY_PG").unwrap_or_else(|_| {
        panic!(
            "CONSENTRY_PG is not set: these tests need a PostgreSQL server. Run `bash \
             .ci/postgres.sh` (as root: installs PostgreSQL 15 if needed, starts it, creates \
             the role and database, runs these tests), or start a server yourself and set \
             CONSENTRY_PG=\"host=localhost user=consentry password=consentry dbname=consentry\""
        )
    })
}

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A schema of the test's own on the database at `params`, dropped when dropped.
struct Schema {
    params: String,
    name: String,
}

impl Schema {
    fn new(tag: &str) -> Self {
        Self::on(&pg(), tag)
    }

    fn on(params: &str, tag: &str) -> Self {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let name = format!("t_{tag}_{}_{nanos}", std::process::id());
        let schema = Schema {
            params: params.to_string(),
            name,
        };
        schema.sql(&format!("DROP SCHEMA IF EXISTS {} CASCADE", schema.name));
        schema
    }

    fn options(&self) -> PgOptions {
        PgOptions {
            schema: Some(self.name.clone()),
            ..PgOptions::default()
        }
    }

    fn open(&self) -> PgStore {
        PgStore::connect_with(&self.params, 4, &self.options())
            .unwrap_or_else(|e| panic!("connect: {e}"))
    }

    fn try_open(&self) -> Result<PgStore, OpenError> {
        PgStore::connect_with(&self.params, 4, &self.options())
    }

    /// A connection of the test's own, in the schema.
    fn admin(&self) -> Client {
        let mut c = Client::connect(&self.params, NoTls).unwrap_or_else(|e| panic!("admin: {e}"));
        c.batch_execute(&format!("SET search_path TO {}", self.name))
            .unwrap_or_else(|e| panic!("search_path: {e}"));
        c
    }

    fn sql(&self, sql: &str) {
        let mut c = Client::connect(&self.params, NoTls).unwrap_or_else(|e| panic!("admin: {e}"));
        c.batch_execute(&format!("SET search_path TO {}; {sql}", self.name))
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    fn bytes(&self, sql: &str) -> Vec<u8> {
        self.admin()
            .query_one(sql, &[])
            .and_then(|r| r.try_get(0))
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    fn set_bytes(&self, sql: &str, value: &[u8]) {
        let n = self
            .admin()
            .execute(sql, &[&value])
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        assert_eq!(n, 1, "{sql}");
    }

    /// Every log entry, in order, read directly.
    fn entries(&self) -> Vec<Vec<u8>> {
        self.admin()
            .query("SELECT entry FROM log ORDER BY idx", &[])
            .unwrap_or_else(|e| panic!("log: {e}"))
            .iter()
            .map(|r| r.get(0))
            .collect()
    }
}

impl Drop for Schema {
    fn drop(&mut self) {
        if let Ok(mut c) = Client::connect(&self.params, NoTls) {
            let _ = c.batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name));
        }
    }
}

fn basis_id(bytes: &[u8]) -> BasisId {
    match Unverified::<Grant>::parse(bytes) {
        Ok(g) => g.claims().id(),
        Err(_) => Unverified::<Habilitation>::parse(bytes)
            .expect("a grant or a habilitation")
            .claims()
            .id(),
    }
}

// ------------------------------------------------------------------------------ restart

/// Everything the ledger and the log hold is found again by a store connected afresh (and by
/// a second node connected meanwhile): a revocation, a pause, a used one-time grant, a
/// period's count, a remembered request id, a first sighting, and the log with its roots,
/// proofs and latest signed head, consistent with the next head.
#[test]
fn state_and_log_survive_a_reconnect() {
    let schema = Schema::new("restart");
    let mut s = Scenario::canteen();
    let t0 = s.now;
    let (key, op) = operator();
    let twice = grant(&s, TWICE_A_MONTH);
    let once = grant(&s, AccessPattern::one_time());
    let revoked = grant(&s, AccessPattern::MONTHLY);
    let paused = grant(&s, AccessPattern::MONTHLY);
    let later = grant(&s, AccessPattern::MONTHLY);
    let replayed = request(&s, &twice);
    let replayed_id = Unverified::<Request>::parse(&replayed)
        .expect("a request")
        .claims()
        .id();
    let ids = receipt_ids(2);

    let (head, size, root, entries) = {
        let store = schema.open();
        let v = verifier(&s, &store, &ids);
        assert!(decide(&v, &s, &replayed, &twice).is_allow());
        assert!(decide(&v, &s, &request(&s, &once), &once).is_allow());
        assert_eq!(
            v.apply_statement(
                &s.statement(&revoked, Action::Revoke, s.parent),
                Basis::Signed(&revoked),
                s.now
            ),
            Ok(Status::Revoked { at: t0 })
        );
        assert_eq!(
            v.apply_statement(
                &s.statement(&paused, Action::Pause, s.parent),
                Basis::Signed(&paused),
                s.now
            ),
            Ok(Status::Paused { since: t0 })
        );
        let head = store.sign_head(&key, op, t0).expect("head");
        assert!(decide(&v, &s, &request(&s, &later), &later).is_allow());
        let size = store.log_size().expect("size");
        assert_eq!(size, 5, "three receipts and two statements");
        let entries: Vec<Vec<u8>> = (0..size)
            .map(|i| store.log_entry(i).expect("entry"))
            .collect();
        (head, size, store.log_root_at(size).expect("root"), entries)
    };

    s.now = t0.plus_secs(60);
    let store = schema.open();
    let other_node = schema.open();
    for store in [&store, &other_node] {
        assert_eq!(store.log_size(), Ok(size));
        assert_eq!(store.log_root_at(size), Ok(root));
        assert_eq!(store.latest_head(), Ok(Some(head.clone())));
        for (i, entry) in (0..size).zip(&entries) {
            assert_eq!(store.log_entry(i).as_ref(), Ok(entry));
            let proof = store.inclusion_proof(i, size).expect("inclusion proof");
            verify_inclusion(&leaf_hash(entry), i, size, &proof.path, &root).expect("included");
        }
    }
    let kinds: Vec<EntryKind> = entries
        .iter()
        .map(|e| LogEntry::from_bytes(e).expect("an entry").kind())
        .collect();
    assert_eq!(
        kinds,
        [
            EntryKind::Receipt,
            EntryKind::Receipt,
            EntryKind::Statement,
            EntryKind::Statement,
            EntryKind::Receipt
        ]
    );
    assert_eq!(store.first_seen(&Digest::of(&twice)), Ok(Some(t0)));
    assert_eq!(
        store.status(&key_of(&s, &revoked)),
        Ok(Status::Revoked { at: t0 })
    );
    assert_eq!(
        store.status(&key_of(&s, &paused)),
        Ok(Status::Paused { since: t0 })
    );
    assert_eq!(store.remembered_requests(), Ok(3));

    let v = verifier(&s, &store, &ids);
    assert_eq!(
        decide(&v, &s, &replayed, &twice).reasons(),
        [Reason::ReplayedRequest { id: replayed_id }]
    );
    assert_eq!(
        decide(&v, &s, &request(&s, &once), &once).reasons(),
        [Reason::OneTimeUsed]
    );
    assert_eq!(
        decide(&v, &s, &request(&s, &revoked), &revoked).reasons(),
        [Reason::Revoked { at: t0 }]
    );
    assert_eq!(
        decide(&v, &s, &request(&s, &paused), &paused).reasons(),
        [Reason::Paused { since: t0 }]
    );
    // The period's count survived: one use left, then none.
    assert!(decide(&v, &s, &request(&s, &twice), &twice).is_allow());
    assert_eq!(
        decide(&v, &s, &request(&s, &twice), &twice).reasons(),
        [Reason::FrequencyExhausted {
            next_allowed: t0.plus_secs(30 * DAY)
        }]
    );

    // The head signed before is consistent with the one the other node signs now, and the
    // first node sees that head.
    let new_head = other_node.sign_head(&key, op, s.now).expect("new head");
    let old = SignedTreeHead::verify(&head, op, &key.verifying_key()).expect("old head");
    let new = SignedTreeHead::verify(&new_head, op, &key.verifying_key()).expect("new head");
    assert_eq!(old.tree_size(), 4);
    assert_eq!(new.tree_size(), store.log_size().expect("size"));
    let proof = store
        .consistency_proof(old.tree_size(), new.tree_size())
        .expect("consistency proof");
    compare_heads(&old, &new, Some(&proof)).expect("consistent heads");
    assert_eq!(store.latest_head(), Ok(Some(new_head)));
}

/// Request ids are remembered until their `forget_after` (issue time + 300 s + 120 s), across
/// a reconnect, then pruned by the next use, as in the in-memory ledger.
#[test]
fn request_ids_are_pruned_after_they_expire() {
    let schema = Schema::new("prune");
    let mut s = Scenario::canteen();
    let ids = receipt_ids(3);
    let g = grant(&s, TWICE_A_MONTH);
    let first = request(&s, &g);
    {
        let store = schema.open();
        let v = verifier(&s, &store, &ids);
        assert!(decide(&v, &s, &first, &g).is_allow());
        assert_eq!(store.remembered_requests(), Ok(1));
    }
    let store = schema.open();
    assert_eq!(store.remembered_requests(), Ok(1));
    s.now = s.now.plus_secs(420);
    let other = grant(&s, AccessPattern::MONTHLY);
    let v = verifier(&s, &store, &ids);
    assert!(decide(&v, &s, &request(&s, &other), &other).is_allow());
    assert_eq!(store.remembered_requests(), Ok(2));
    s.now = s.now.plus_secs(1);
    let v = verifier(&s, &store, &ids);
    let third = grant(&s, AccessPattern::MONTHLY);
    assert!(decide(&v, &s, &request(&s, &third), &third).is_allow());
    assert_eq!(store.remembered_requests(), Ok(2));
    assert_eq!(decide(&v, &s, &first, &g).codes(), ["request_too_old"]);
    // The explicit prune removes the rest once expired.
    assert_eq!(store.prune(s.now.plus_secs(10_000)), Ok(2));
    assert_eq!(store.remembered_requests(), Ok(0));
}

// ------------------------------------------------------------------------------ corruption

/// An entry changed by hand is refused when a store connects, and by a node already running
/// when it next reads the log, whether its leaf hash was left as it was or recomputed.
#[test]
fn an_edited_log_entry_is_refused() {
    let schema = Schema::new("edited_entry");
    let s = Scenario::canteen();
    let (key, op) = operator();
    let running = schema.open();
    assert_eq!(some_history(&s, &running), 5);
    running.sign_head(&key, op, s.now).expect("head");

    let mut entry = schema.bytes("SELECT entry FROM log WHERE idx = 4");
    let original = entry.clone();
    let last = entry.len() - 1;
    entry[last] ^= 1;
    schema.set_bytes("UPDATE log SET entry = $1 WHERE idx = 4", &entry);
    match schema.try_open() {
        Err(OpenError::Log(LogError::Storage(LedgerError::Corrupt(m)))) => {
            assert!(m.contains("log entry 4 does not match"), "{m}")
        }
        other => panic!("expected a corrupt entry, got {other:?}"),
    }
    // The running node reads the last entry it knows again on each refresh.
    assert!(matches!(
        running.log_size(),
        Err(LogError::Storage(LedgerError::Corrupt(_)))
    ));
    match running.log_entry(4) {
        Err(LogError::Storage(LedgerError::Corrupt(_))) => {}
        other => panic!("expected a corrupt entry, got {other:?}"),
    }
    // The leaf hash recomputed to match: the signed head catches it on connect, the tree in
    // memory in the running node.
    schema.set_bytes(
        "UPDATE log SET leaf = $1 WHERE idx = 4",
        leaf_hash(&entry).as_bytes(),
    );
    assert!(matches!(
        schema.try_open(),
        Err(OpenError::Log(LogError::InconsistentWithSignedHead {
            size: 5,
            signed_size: 5,
            ..
        }))
    ));
    assert!(matches!(
        running.log_size(),
        Err(LogError::Storage(LedgerError::Corrupt(_)))
    ));
    // Put back, everything reads again.
    schema.set_bytes("UPDATE log SET entry = $1 WHERE idx = 4", &original);
    schema.set_bytes(
        "UPDATE log SET leaf = $1 WHERE idx = 4",
        leaf_hash(&original).as_bytes(),
    );
    assert_eq!(running.log_size(), Ok(5));
    assert_eq!(schema.open().log_size(), Ok(5));
}

/// Deleted log rows: a gap is refused on connect; the last rows deleted are refused on
/// connect when a signed head covers them, and by a running node on its next read.
#[test]
fn a_deleted_log_row_is_refused() {
    let schema = Schema::new("deleted_row");
    let s = Scenario::canteen();
    let (key, op) = operator();
    let running = schema.open();
    assert_eq!(some_history(&s, &running), 5);
    running.sign_head(&key, op, s.now).expect("head");
    let mut admin = schema.admin();

    let mut tx = admin.transaction().expect("begin");
    tx.execute("DELETE FROM log WHERE idx = 2", &[])
        .expect("delete");
    tx.commit().expect("commit");
    match schema.try_open() {
        Err(OpenError::Log(LogError::Storage(LedgerError::Corrupt(m)))) => {
            assert!(m.contains("log entry 3 follows entry 1"), "{m}")
        }
        other => panic!("expected a gap, got {other:?}"),
    }
    // The tail deleted instead.
    schema.sql("DELETE FROM log WHERE idx >= 2");
    match schema.try_open() {
        Err(OpenError::Log(LogError::InconsistentWithSignedHead {
            size: 2,
            signed_size: 5,
            ..
        })) => {}
        other => panic!("expected a truncated log, got {other:?}"),
    }
    match running.log_size() {
        Err(LogError::Storage(LedgerError::Corrupt(m))) => {
            assert!(m.contains("log entry 4 is missing"), "{m}")
        }
        other => panic!("expected a truncated log, got {other:?}"),
    }
    assert!(running.sign_head(&key, op, s.now).is_err());
}

/// A basis row edited by hand, or copied under another basis's key, is refused when read:
/// the decision on it is a denial `ledger_unavailable` with a corrupt store, a commit on it
/// fails `ledger_corrupt`, and nothing is recorded.
#[test]
fn an_edited_basis_row_is_refused() {
    let schema = Schema::new("edited_basis");
    let s = Scenario::canteen();
    let store = schema.open();
    let ids = receipt_ids(4);
    let v = verifier(&s, &store, &ids);
    let (a, b) = (
        grant(&s, AccessPattern::MONTHLY),
        grant(&s, AccessPattern::MONTHLY),
    );
    assert!(decide(&v, &s, &request(&s, &a), &a).is_allow());
    assert!(decide(&v, &s, &request(&s, &b), &b).is_allow());
    let (ka, kb) = (key_of(&s, &a).to_bytes(), key_of(&s, &b).to_bytes());
    let mut admin = schema.admin();
    let state: Vec<u8> = admin
        .query_one("SELECT state FROM bases WHERE key = $1", &[&&ka[..]])
        .expect("row")
        .get(0);
    let mut edited = state.clone();
    edited[18 + 3] ^= 1; // the use count
    admin
        .execute(
            "UPDATE bases SET state = $1 WHERE key = $2",
            &[&edited, &&ka[..]],
        )
        .expect("edit");
    // Copied to another key: its check binds it to its own key.
    admin
        .execute(
            "UPDATE bases SET state = $1 WHERE key = $2",
            &[&state, &&kb[..]],
        )
        .expect("copy");
    let size = store.log_size().expect("size");
    for g in [&a, &b] {
        let d = decide(&v, &s, &request(&s, g), g);
        let m = only_unavailable(&d, true);
        assert!(m.contains("bases"), "{m}");
        assert_eq!(d.codes(), ["ledger_unavailable"]);
    }
    assert_eq!(
        store.status(&key_of(&s, &a)).map_err(|e| e.code()),
        Err("ledger_corrupt")
    );
    // A statement on it fails too, and nothing was logged but the two denials.
    assert!(
        v.apply_statement(
            &s.statement(&a, Action::Pause, s.parent),
            Basis::Signed(&a),
            s.now
        )
        .is_err()
    );
    assert_eq!(store.log_size(), Ok(size + 2));
}

/// A schema written by a newer library is refused on connect.
#[test]
fn a_newer_schema_is_refused() {
    let schema = Schema::new("newer");
    drop(schema.open());
    schema.sql("UPDATE meta SET value = value + 1 WHERE name = 'schema_version'");
    match schema.try_open() {
        Err(OpenError::SchemaTooNew { found, supported }) => {
            assert_eq!(found, supported + 1);
        }
        other => panic!("expected SchemaTooNew, got {other:?}"),
    }
}

// ------------------------------------------------------------------------------ many nodes

/// One decision of a child node: its kind, the signed request, the basis.
type Work<'a> = (&'static str, Vec<u8>, &'a [u8]);

/// What one child node does in the many-nodes test, run by the parent as
/// `current_exe() --exact child_node --ignored`.
#[test]
#[ignore = "run by many_nodes_decide_exactly as a child process"]
fn child_node() {
    let Ok(params) = std::env::var("CONSENTRY_PG_CHILD") else {
        return;
    };
    let var = |name: &str| std::env::var(name).unwrap_or_else(|_| panic!("{name} unset"));
    let threads: usize = var("CONSENTRY_PG_THREADS").parse().expect("threads");
    let tag: u64 = var("CONSENTRY_PG_TAG").parse().expect("tag");
    let start_at: u128 = var("CONSENTRY_PG_START_AT").parse().expect("start");
    let one_time = unhex(&var("CONSENTRY_PG_ONE_TIME")).expect("hex");
    let periodic = unhex(&var("CONSENTRY_PG_PERIODIC")).expect("hex");
    let habilitation = unhex(&var("CONSENTRY_PG_HABILITATION")).expect("hex");
    let shared_request = unhex(&var("CONSENTRY_PG_REQUEST")).expect("hex");
    let options = PgOptions {
        schema: Some(var("CONSENTRY_PG_SCHEMA")),
        ..PgOptions::default()
    };
    let store = PgStore::connect_with(&params, threads, &options).expect("connect");
    let s = Scenario::canteen();
    let ids = receipt_ids(tag);
    let v = verifier(&s, &store, &ids);
    // Requests made before the start, so that the threads race on the ledger only.
    let work: Vec<[Work<'_>; 3]> = (0..threads)
        .map(|_| {
            [
                ("one_time", request(&s, &one_time), &one_time[..]),
                ("periodic", request(&s, &periodic), &periodic[..]),
                ("same_request", shared_request.clone(), &habilitation[..]),
            ]
        })
        .collect();
    let now_ms = || {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis())
    };
    while now_ms() < start_at {
        std::thread::sleep(Duration::from_millis(1));
    }
    let barrier = Barrier::new(threads);
    let out = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for w in &work {
            let (v, now, barrier, out) = (&v, s.now, &barrier, &out);
            scope.spawn(move || {
                barrier.wait();
                for (kind, req, basis) in w {
                    let d = v.decide(req, Basis::Signed(basis), now);
                    out.lock()
                        .expect("lock")
                        .push(format!("RESULT {kind} {}", d.codes().join(",")));
                }
            });
        }
    });
    for line in out.into_inner().expect("lock") {
        println!("{line}");
    }
}

/// Several processes, each with several threads, decide at the same moment on the same
/// one-time grant, the same grant of two uses a period, and the same request id (on a
/// habilitation, which has no quota): exactly 1, 2 and 1 allows, counted from what the
/// children printed and from the receipts in the log, every round.
#[test]
fn many_nodes_decide_exactly() {
    const NODES: usize = 4;
    const THREADS: usize = 8;
    let params = pg();
    let schema = Schema::new("nodes");
    let store = schema.open();
    let rounds = env_or("CONSENTRY_PG_ROUNDS", 5);
    let s = Scenario::canteen();
    let exe = std::env::current_exe().expect("the test binary");
    let started = Instant::now();
    for round in 0..rounds {
        let one_time = grant(&s, AccessPattern::one_time());
        let periodic = grant(&s, TWICE_A_MONTH);
        // A new id each round (the scenario counts them); the schema is new.
        let habilitation = s.habilitation().sign(s.key(s.authority));
        let shared = request(&s, &habilitation);
        let size_before = store.log_size().expect("size");
        let start_at = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("time")
            .as_millis()
            + 1500;
        let children: Vec<_> = (0..NODES)
            .map(|node| {
                Command::new(&exe)
                    .args(["--exact", "child_node", "--ignored", "--nocapture"])
                    .args(["--test-threads", "1"])
                    .env("CONSENTRY_PG_CHILD", &params)
                    .env("CONSENTRY_PG_SCHEMA", &schema.name)
                    .env("CONSENTRY_PG_THREADS", THREADS.to_string())
                    .env("CONSENTRY_PG_TAG", (1000 * round + node as u64).to_string())
                    .env("CONSENTRY_PG_START_AT", start_at.to_string())
                    .env("CONSENTRY_PG_ONE_TIME", hex(&one_time))
                    .env("CONSENTRY_PG_PERIODIC", hex(&periodic))
                    .env("CONSENTRY_PG_HABILITATION", hex(&habilitation))
                    .env("CONSENTRY_PG_REQUEST", hex(&shared))
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .expect("a child node")
            })
            .collect();
        let mut allows: HashMap<String, usize> = HashMap::new();
        let mut results = 0;
        for child in children {
            let out = child.wait_with_output().expect("child output");
            let stdout = String::from_utf8_lossy(&out.stdout);
            assert!(
                out.status.success(),
                "child failed: {stdout}\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
            // The harness may print on the line where the child's first result starts.
            for line in stdout
                .lines()
                .filter_map(|l| l.find("RESULT ").map(|i| &l[i + "RESULT ".len()..]))
            {
                let (kind, codes) = line.split_once(' ').unwrap_or((line, ""));
                results += 1;
                if codes.is_empty() {
                    *allows.entry(kind.to_string()).or_default() += 1;
                } else {
                    // Each denial for the reason the ledger gives, never a storage failure.
                    let want = match kind {
                        "one_time" => "one_time_used",
                        "periodic" => "frequency_exhausted",
                        _ => "replayed_request",
                    };
                    assert_eq!(codes, want, "round {round}, {kind}");
                }
            }
        }
        assert_eq!(results, 3 * NODES * THREADS, "round {round}");
        let printed = |k: &str| allows.get(k).copied().unwrap_or(0);
        assert_eq!(
            (
                printed("one_time"),
                printed("periodic"),
                printed("same_request")
            ),
            (1, 2, 1),
            "round {round}: allows printed"
        );
        // The same counts from the receipts in the log.
        let size = store.log_size().expect("size");
        assert_eq!(size - size_before, (3 * NODES * THREADS) as u64);
        let entries: Vec<Vec<u8>> = (size_before..size)
            .map(|i| store.log_entry(i).expect("entry"))
            .collect();
        let receipts = receipts_in(&entries);
        let count = |bytes: &[u8]| {
            let id = basis_id(bytes);
            receipts.iter().filter(|(b, _)| *b == id).count()
        };
        assert_eq!(
            (count(&one_time), count(&periodic), count(&habilitation)),
            (1, 2, 1),
            "round {round}: receipts in the log"
        );
        assert_eq!(receipts.len(), 4);
    }
    eprintln!(
        "many nodes: {rounds} rounds of {NODES} processes x {THREADS} threads x 3 decisions \
         exact in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

// ------------------------------------------------------------------------------ crash

/// The grants of the crash test: four one-time, four of two uses a period, one per line.
fn crash_grants(s: &Scenario) -> Vec<(Vec<u8>, u32)> {
    (0..8)
        .map(|i| {
            if i % 2 == 0 {
                (grant(s, AccessPattern::one_time()), 1)
            } else {
                (grant(s, TWICE_A_MONTH), 2)
            }
        })
        .collect()
}

/// What the crash test's child does until it is killed: decisions on the grants, pauses and
/// revocations, each acknowledged on stdout when it returned, and a signed head every few
/// operations.
#[test]
#[ignore = "run by a_node_killed_at_random_loses_nothing_acknowledged as a child process"]
fn child_crash() {
    let Ok(params) = std::env::var("CONSENTRY_PG_CRASH") else {
        return;
    };
    let var = |name: &str| std::env::var(name).unwrap_or_else(|_| panic!("{name} unset"));
    let grants: Vec<Vec<u8>> = var("CONSENTRY_PG_GRANTS")
        .split(',')
        .map(|h| unhex(h).expect("hex"))
        .collect();
    let tag: u64 = var("CONSENTRY_PG_TAG").parse().expect("tag");
    let options = PgOptions {
        schema: Some(var("CONSENTRY_PG_SCHEMA")),
        ..PgOptions::default()
    };
    let store = PgStore::connect_with(&params, 2, &options).expect("connect");
    let s = Scenario::canteen();
    let ids = receipt_ids(tag);
    let v = verifier(&s, &store, &ids);
    let (key, op) = operator();
    let mut x = tag.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    // Off the line where the harness announces the test.
    writeln!(out).expect("stdout");
    for n in 0u64.. {
        let g = &grants[(next() % grants.len() as u64) as usize];
        let roll = next() % 100;
        if roll < 87 {
            if let Decision::Allow(a) = decide(&v, &s, &request(&s, g), g) {
                let receipt = a.receipt().expect("a receipt");
                writeln!(out, "ALLOW {}", hex(receipt)).expect("stdout");
            }
        } else {
            let action = if roll < 97 {
                Action::Pause
            } else {
                Action::Revoke
            };
            let statement = s.statement(g, action, s.parent);
            if v.apply_statement(&statement, Basis::Signed(g), s.now)
                .is_ok()
            {
                let word = if action == Action::Pause {
                    "PAUSED"
                } else {
                    "REVOKED"
                };
                writeln!(out, "{word} {}", hex(&key_of(&s, g).to_bytes())).expect("stdout");
            }
        }
        if n % 5 == 4 {
            let head = store.sign_head(&key, op, s.now).expect("head");
            writeln!(out, "HEAD {}", hex(&head)).expect("stdout");
        }
        out.flush().expect("flush");
    }
}

/// A node killed (SIGKILL) at random moments while deciding and applying statements with
/// receipts on: after each kill a new store connects (checking the whole log) and finds no
/// one-time grant allowed twice, no quota exceeded, every acknowledged pause or revocation
/// in force, every acknowledged allow's receipt in the log, and the log consistent with every
/// head the child printed.
#[test]
fn a_node_killed_at_random_loses_nothing_acknowledged() {
    let params = pg();
    let schema = Schema::new("crash");
    let kills = env_or("CONSENTRY_CRASH_KILLS", 20);
    let s = Scenario::canteen();
    let mut quota: HashMap<BasisId, u32> = HashMap::new();
    let mut keys: HashMap<String, BasisKey> = HashMap::new();
    let exe = std::env::current_exe().expect("the test binary");
    let (op_key, op) = operator();
    let mut acked_receipts: Vec<Vec<u8>> = Vec::new();
    let mut paused: HashSet<String> = HashSet::new();
    let mut revoked: HashSet<String> = HashSet::new();
    let mut heads: Vec<Vec<u8>> = Vec::new();
    let mut seed = random_u128() as u64 | 1;
    let started = Instant::now();
    drop(schema.open());
    for kill in 0..kills {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        // Fresh grants for each run, so that allows go on; the earlier ones stay checked.
        let grants = crash_grants(&s);
        for (g, q) in &grants {
            quota.insert(basis_id(g), *q);
            keys.insert(hex(&key_of(&s, g).to_bytes()), key_of(&s, g));
        }
        let list: Vec<String> = grants.iter().map(|(g, _)| hex(g)).collect();
        let mut child = Command::new(&exe)
            .args(["--exact", "child_crash", "--ignored", "--nocapture"])
            .args(["--test-threads", "1"])
            .env("CONSENTRY_PG_CRASH", &params)
            .env("CONSENTRY_PG_SCHEMA", &schema.name)
            .env("CONSENTRY_PG_GRANTS", list.join(","))
            .env(
                "CONSENTRY_PG_TAG",
                (seed % 1_000_000_007 + kill).to_string(),
            )
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("a child node");
        let stdout = child.stdout.take().expect("stdout");
        let lines = Arc::new(Mutex::new(Vec::<String>::new()));
        let reader = {
            let lines = Arc::clone(&lines);
            std::thread::spawn(move || {
                for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                    lines.lock().expect("lock").push(line);
                }
            })
        };
        // Killed 50 to 550 ms after it started (the connect takes part of it).
        std::thread::sleep(Duration::from_millis(50 + seed % 500));
        child.kill().expect("kill");
        child.wait().expect("wait");
        reader.join().expect("reader");
        for line in lines.lock().expect("lock").iter() {
            match line.split_once(' ') {
                Some(("ALLOW", r)) => acked_receipts.push(unhex(r).expect("hex")),
                Some(("PAUSED", k)) => {
                    paused.insert(k.to_string());
                }
                Some(("REVOKED", k)) => {
                    revoked.insert(k.to_string());
                }
                Some(("HEAD", h)) => heads.push(unhex(h).expect("hex")),
                _ => {}
            }
        }

        // A new node connects: the whole log is checked as it loads.
        let store = schema
            .try_open()
            .unwrap_or_else(|e| panic!("kill {kill}: connect after the kill: {e}"));
        let size = store.log_size().expect("size");
        let entries = schema.entries();
        assert_eq!(entries.len() as u64, size);
        let receipts = receipts_in(&entries);
        let mut per_basis: HashMap<BasisId, u32> = HashMap::new();
        for (b, _) in &receipts {
            *per_basis.entry(*b).or_default() += 1;
        }
        for (b, n) in &per_basis {
            assert!(
                *n <= quota[b],
                "kill {kill}: {n} receipts for a grant of quota {}",
                quota[b]
            );
        }
        let logged: HashSet<&Vec<u8>> = receipts.iter().map(|(_, r)| r).collect();
        for r in &acked_receipts {
            assert!(
                logged.contains(r),
                "kill {kill}: an acknowledged allow's receipt is not in the log"
            );
        }
        for k in &paused {
            assert_ne!(store.status(&keys[k]), Ok(Status::Active), "kill {kill}");
        }
        for k in &revoked {
            assert!(
                matches!(store.status(&keys[k]), Ok(Status::Revoked { .. })),
                "kill {kill}"
            );
        }
        for h in &heads {
            let head = SignedTreeHead::verify(h, op, &op_key.verifying_key()).expect("a head");
            assert_eq!(
                store.log_root_at(head.tree_size()),
                Ok(head.root_hash()),
                "kill {kill}: the log is not consistent with a head printed before"
            );
        }
    }
    eprintln!(
        "crash: {kills} kills, {} acknowledged allows, {} pauses, {} revocations, {} heads \
         checked in {:.1} s",
        acked_receipts.len(),
        paused.len(),
        revoked.len(),
        heads.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(!heads.is_empty() && !acked_receipts.is_empty());
}

// ------------------------------------------------------------------------------ faults

/// A throw-away PostgreSQL cluster of the test's own (initdb into a temporary directory, run
/// as the `postgres` user when the test runs as root), stopped and removed when dropped.
struct Cluster {
    dir: std::path::PathBuf,
    bin: std::path::PathBuf,
    port: u16,
    as_postgres: bool,
}

impl Cluster {
    fn bin_dir() -> std::path::PathBuf {
        if let Ok(dir) = std::env::var("CONSENTRY_PG_BIN") {
            return dir.into();
        }
        if let Ok(out) = Command::new("pg_config").arg("--bindir").output() {
            let dir = std::path::PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
            if dir.join("initdb").exists() {
                return dir;
            }
        }
        // Debian's layout: the newest installed version.
        let mut versions: Vec<_> = std::fs::read_dir("/usr/lib/postgresql")
            .map(|d| {
                d.filter_map(Result::ok)
                    .map(|e| e.path().join("bin"))
                    .collect()
            })
            .unwrap_or_default();
        versions.retain(|p: &std::path::PathBuf| p.join("initdb").exists());
        versions.sort();
        versions
            .pop()
            .expect("initdb not found: install PostgreSQL or set CONSENTRY_PG_BIN")
    }

    fn run(&self, program: &str, args: &[&str]) -> std::process::Output {
        let path = self.bin.join(program);
        let mut cmd = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(path);
            c
        } else {
            Command::new(path)
        };
        let out = cmd.args(args).output().expect("a PostgreSQL tool");
        assert!(
            out.status.success(),
            "{program} {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    fn new() -> Self {
        let dir = std::env::temp_dir().join(format!("consentry-pg-faults-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        let as_postgres = Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
        if as_postgres {
            let ok = Command::new("chown")
                .args(["postgres:postgres"])
                .arg(&dir)
                .status()
                .is_ok_and(|s| s.success());
            assert!(ok, "chown the cluster's directory to postgres");
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let cluster = Cluster {
            bin: Self::bin_dir(),
            dir,
            port,
            as_postgres,
        };
        let data = cluster.data();
        cluster.run(
            "initdb",
            &["-D", &data, "-A", "trust", "-U", "postgres", "--no-sync"],
        );
        cluster.start();
        cluster
    }

    fn data(&self) -> String {
        self.dir.join("data").display().to_string()
    }

    fn start(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1",
            self.port,
            self.dir.display()
        );
        let log = self.dir.join("log").display().to_string();
        self.run(
            "pg_ctl",
            &[
                "-D",
                &self.data(),
                "-o",
                &options,
                "-l",
                &log,
                "-w",
                "start",
            ],
        );
    }

    fn stop_immediately(&self) {
        self.run(
            "pg_ctl",
            &["-D", &self.data(), "-m", "immediate", "-w", "stop"],
        );
    }

    fn params(&self) -> String {
        format!(
            "host=127.0.0.1 port={} user=postgres dbname=postgres",
            self.port
        )
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let path = self.bin.join("pg_ctl");
        let data = self.data();
        let mut cmd = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(path);
            c
        } else {
            Command::new(path)
        };
        let _ = cmd
            .args(["-D", &data, "-m", "immediate", "-w", "stop"])
            .output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Faults of the database, on a cluster of the test's own: while it is stopped every decision
/// is a denial `ledger_unavailable` and nothing is recorded, and service resumes when it is
/// back; a connection terminated in the middle of a commit denies and records nothing; a row
/// lock held past the lock timeout denies with the server's reason and records nothing.
#[test]
fn database_faults_deny_record_nothing_and_recover() {
    let cluster = Cluster::new();
    let params = cluster.params();
    let schema = Schema::on(&params, "faults");
    let mut options = schema.options();
    options.lock_timeout = Duration::from_millis(300);
    let store = PgStore::connect_with(&params, 4, &options).expect("connect");
    let s = Scenario::canteen();
    let ids = receipt_ids(5);
    let v = verifier(&s, &store, &ids);
    let warm = grant(&s, AccessPattern::one_time());
    assert!(decide(&v, &s, &request(&s, &warm), &warm).is_allow());
    let size = store.log_size().expect("size");

    // 1. The database stopped.
    cluster.stop_immediately();
    let window: Vec<Vec<u8>> = (0..10)
        .map(|_| grant(&s, AccessPattern::one_time()))
        .collect();
    let requests: Vec<Vec<u8>> = window.iter().map(|g| request(&s, g)).collect();
    for (g, r) in window.iter().zip(&requests) {
        let d = decide(&v, &s, r, g);
        only_unavailable(&d, false);
    }
    assert!(matches!(
        store.log_size(),
        Err(LogError::Storage(LedgerError::Unavailable(_)))
    ));
    cluster.start();
    // Service resumes; nothing of the window was recorded: each of its requests is allowed
    // now, once.
    assert_eq!(store.log_size(), Ok(size));
    assert_eq!(
        store.decision_count(),
        Ok(1),
        "the warm-up's allow and nothing else"
    );
    for (g, r) in window.iter().zip(&requests) {
        assert_eq!(store.first_seen(&Digest::of(g)), Ok(None));
        assert!(decide(&v, &s, r, g).is_allow());
    }
    let size = store.log_size().expect("size");

    // 2. A connection terminated mid-transaction: the commit waits on a basis row locked by
    // another connection, which terminates the store's connections.
    let periodic = grant(&s, TWICE_A_MONTH);
    assert!(decide(&v, &s, &request(&s, &periodic), &periodic).is_allow());
    let size = size + 1;
    let key = key_of(&s, &periodic).to_bytes();
    let held_request = request(&s, &periodic);
    let mut admin = schema.admin();
    let mut lock = schema.admin();
    let mut options_long = options.clone();
    options_long.lock_timeout = Duration::from_secs(30);
    let patient = PgStore::connect_with(&params, 2, &options_long).expect("connect");
    {
        let mut tx = lock.transaction().expect("begin");
        tx.execute(
            "SELECT 1 FROM bases WHERE key = $1 FOR UPDATE",
            &[&&key[..]],
        )
        .expect("lock");
        let pv = verifier(&s, &patient, &ids);
        std::thread::scope(|scope| {
            let now = s.now;
            let (pv, held_request, periodic) = (&pv, &held_request, &periodic);
            let waiting =
                scope.spawn(move || pv.decide(held_request, Basis::Signed(periodic), now));
            // Wait until the commit is blocked on the lock, then terminate it.
            let deadline = Instant::now() + Duration::from_secs(10);
            loop {
                let n: i64 = admin
                    .query_one(
                        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'
                         AND datname = current_database()",
                        &[],
                    )
                    .expect("activity")
                    .get(0);
                if n > 0 {
                    break;
                }
                assert!(Instant::now() < deadline, "the commit never waited");
                std::thread::sleep(Duration::from_millis(10));
            }
            admin
                .execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                     WHERE wait_event_type = 'Lock' AND datname = current_database()",
                    &[],
                )
                .expect("terminate");
            let d = waiting.join().expect("decision");
            let m = only_unavailable(&d, false);
            assert!(m.contains("terminat") || m.contains("closed"), "{m}");
        });
        tx.rollback().expect("rollback");
    }
    // Nothing of the use recorded: the same request is allowed now; the log holds the
    // denial (logged on a new connection) and the receipt.
    let pv = verifier(&s, &patient, &ids);
    assert!(decide(&pv, &s, &held_request, &periodic).is_allow());
    assert_eq!(patient.log_size(), Ok(size + 2));

    // 3. A lock held past the lock timeout (300 ms): denied with the server's reason.
    let third = grant(&s, TWICE_A_MONTH);
    assert!(decide(&v, &s, &request(&s, &third), &third).is_allow());
    let key = key_of(&s, &third).to_bytes();
    let held = request(&s, &third);
    let size = store.log_size().expect("size");
    {
        let mut tx = lock.transaction().expect("begin");
        tx.execute(
            "SELECT 1 FROM bases WHERE key = $1 FOR UPDATE",
            &[&&key[..]],
        )
        .expect("lock");
        let d = decide(&v, &s, &held, &third);
        let m = only_unavailable(&d, false);
        assert!(m.contains("55P03"), "lock_not_available: {m}");
        tx.rollback().expect("rollback");
    }
    assert!(decide(&v, &s, &held, &third).is_allow());
    assert_eq!(
        store.log_size(),
        Ok(size + 2),
        "the denial, then the receipt"
    );
}

// ------------------------------------------------------------------------------ deletions

/// A consumer's deletion statement is checked against the shared log under its advisory lock
/// and appended; refused ones append nothing; a second node sees the deletion and refuses
/// another.
#[test]
fn deletions_are_checked_against_the_shared_log() {
    let schema = Schema::new("deletions");
    let s = Scenario::canteen();
    let store = schema.open();
    let index = deletions_through(&s, &store);
    let other = schema.open();
    let bytes = other.log_entry(index).expect("the deletion");
    let LogEntry::Deletion(d) = LogEntry::from_bytes(&bytes).expect("an entry") else {
        panic!("a deletion entry");
    };
    let again =
        consentry::log::log_deletion(&other, d.bytes(), &s.directory).expect_err("already deleted");
    assert_eq!(again.code(), "deletion/already_deleted");
}

// ------------------------------------------------------------------------------ outbox

/// The outbox's notifications and counters are in the database: see `outbox_survives_reopen`.
#[test]
fn the_outbox_survives_a_reconnect() {
    let schema = Schema::new("outbox");
    let s = Scenario::canteen();
    outbox_survives_reopen(&s, || schema.open());
}

/// A subject's indices stop below the tree size asked for: see
/// `indices_stop_below_the_tree_size`.
#[test]
fn a_subjects_indices_stop_below_the_tree_size() {
    let schema = Schema::new("indices");
    let store = schema.open();
    indices_stop_below_the_tree_size(&Scenario::canteen(), &store);
}

/// First sightings from existence evidence are in the database: see
/// `existence_survives_reopen`.
#[test]
fn first_sightings_from_evidence_survive_a_reconnect() {
    let schema = Schema::new("existence");
    let s = Scenario::canteen();
    existence_survives_reopen(&s, || schema.open());
}

/// A statement refused after its writes, inside its savepoint: see
/// `a_stream_that_cannot_number_leaves_nothing`.
#[test]
fn a_statement_refused_after_its_writes_leaves_nothing() {
    let schema = Schema::new("full_stream");
    let s = Scenario::canteen();
    let store = schema.open();
    a_stream_that_cannot_number_leaves_nothing(&s, &store, |emitter, recipient, last| {
        schema.sql(&format!(
            "INSERT INTO outbox_seq (emitter, recipient, last) VALUES ('\\x{}', '\\x{}', {last}) \
             ON CONFLICT (emitter, recipient) DO UPDATE SET last = excluded.last",
            hex(emitter.as_bytes()),
            hex(recipient.as_bytes()),
        ));
    });
}

/// A database of schema version 1 (before the outbox) is migrated on connect.
#[test]
fn a_version_1_database_is_migrated_to_the_outbox() {
    let schema = Schema::new("migrate_outbox");
    drop(schema.open());
    schema.sql(
        "DROP TABLE outbox; DROP TABLE outbox_seq; \
         UPDATE meta SET value = 1 WHERE name = 'schema_version'",
    );
    let s = Scenario::canteen();
    outbox_survives_reopen(&s, || schema.open());
}

/// Request ids across 2^63 seconds: see `request_ids_are_kept_across_the_sign_bit`. The
/// database keeps times past 2^63 - 1 seconds as that largest `bigint`, so a request id
/// remembered past it is never pruned: remembered longer, never shorter.
#[test]
fn request_ids_are_kept_across_the_sign_bit_of_the_times() {
    let schema = Schema::new("sign_bit");
    let store = schema.open();
    assert_eq!(
        request_ids_are_kept_across_the_sign_bit(Scenario::canteen(), &store),
        ["request_too_old", "replayed_request"]
    );
}

// ------------------------------------------------------------------------------ debug output

/// What a service's log line shows of a store: the statements each connection starts with
/// (its schema) and the pool's size, and never the connection string's password.
#[test]
fn debug_shows_the_schema_and_the_pool_not_the_password() {
    let schema = Schema::new("debug");
    let store = schema.open();
    let shown = format!("{store:?}");
    assert!(shown.starts_with("PgStore { session: "), "{shown}");
    assert!(shown.contains(&schema.name), "{shown}");
    assert!(shown.ends_with("connections: 4, .. }"), "{shown}");
    let password = pg()
        .split_whitespace()
        .find_map(|kv| kv.strip_prefix("password="))
        .map(str::to_owned);
    if let Some(password) = password {
        assert!(!shown.contains(&password), "{shown}");
    }
}
