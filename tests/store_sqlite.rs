//! The SQLite store on real files: what survives a restart, what is refused as corrupt when the
//! store opens or a row is read, what a verifier decides while the file cannot be written, and
//! (in a child process killed at random moments) what survives a crash.
//!
//! Each test works in a fresh directory under the system's temporary directory. The number of
//! kills of the crash test is `CONSENTRY_CRASH_KILLS` (default 20).

#[path = "support/store.rs"]
mod support;

use consentry::testing::TWICE_A_MONTH;
use support::*;

use consentry::Digest;
use consentry::decision::{Basis, Decision, Reason, Receipts, StatementRefusal, Verifier};
use consentry::deletion::{Deletion, DeletionError};
use consentry::ids::{BasisId, BasisKey, RequestId};
use consentry::ledger::{Ledger, LedgerError, Status};
use consentry::log::log_deletion;
use consentry::log::{
    EntryKind, LogEntry, LogError, LogStore, SignedTreeHead, compare_heads, leaf_hash,
    verify_consistency, verify_inclusion,
};
use consentry::notify::{Carried, Notices, Notifier, Outbox};
use consentry::signed::SignedPayload;
use consentry::statement::Action;
use consentry::store::OpenError;
use consentry::store::sqlite::SqliteStore;
use consentry::terms::AccessPattern;
use consentry::testing::Scenario;
use rusqlite::Connection;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use uuid::Uuid;

// ------------------------------------------------------------------------------ helpers

/// A fresh directory for one test, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "consentry-store-sqlite-{}-{name}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        TempDir(dir)
    }

    fn db(&self) -> PathBuf {
        self.0.join("ledger.db")
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs SQL on the store's file with a connection of the test's own (the store is closed).
fn edit(path: &Path, sql: &str) {
    Connection::open(path)
        .and_then(|c| c.execute_batch(sql))
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// Reads one blob from the file.
fn blob(path: &Path, sql: &str) -> Vec<u8> {
    Connection::open(path)
        .and_then(|c| c.query_row(sql, [], |r| r.get(0)))
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

fn set_blob(path: &Path, sql: &str, value: &[u8]) {
    let n = Connection::open(path)
        .and_then(|c| c.execute(sql, [value]))
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    assert_eq!(n, 1, "{sql}");
}

fn open(path: &Path) -> SqliteStore {
    SqliteStore::open(path).unwrap_or_else(|e| panic!("open: {e}"))
}

// ------------------------------------------------------------------------------ restart

/// Everything the ledger and the log hold is found again after the store is closed and opened:
/// a revocation, a pause, a used one-time grant, a period's count, a remembered request id,
/// a first sighting, and the log with its roots, proofs and latest signed head.
#[test]
fn state_and_log_survive_a_restart() {
    let dir = TempDir::new("restart");
    let mut s = Scenario::canteen();
    let t0 = s.now;
    let (key, op) = operator();
    let twice = grant(&s, TWICE_A_MONTH);
    let once = grant(&s, AccessPattern::one_time());
    let revoked = grant(&s, AccessPattern::MONTHLY);
    let paused = grant(&s, AccessPattern::MONTHLY);
    let later = grant(&s, AccessPattern::MONTHLY);
    let replayed = s.sign_request(&s.request(&twice));
    let replayed_id =
        consentry::signed::Unverified::<consentry::request::Request>::parse(&replayed)
            .expect("a request")
            .claims()
            .id();
    let ids = receipt_ids(1);

    let (head, size, root, entries) = {
        let store = open(&dir.db());
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

    // A minute later, still within the requests' freshness window.
    s.now = t0.plus_secs(60);
    let store = open(&dir.db());
    assert_eq!(store.log_size(), Ok(size));
    assert_eq!(store.log_root_at(size), Ok(root));
    assert_eq!(store.latest_head(), Ok(Some(head.clone())));
    for (i, entry) in (0..size).zip(&entries) {
        assert_eq!(store.log_entry(i).as_ref(), Ok(entry));
        let proof = store.inclusion_proof(i, size).expect("inclusion proof");
        verify_inclusion(&leaf_hash(entry), i, size, &proof.path, &root).expect("included");
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
    assert_eq!(
        store.first_seen(&Digest::of(&twice)),
        Ok(Some(t0)),
        "the first sighting, not the time of the next decision"
    );
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

    // The head signed before the restart is consistent with the one signed after.
    let new_head = store.sign_head(&key, op, s.now).expect("new head");
    let old = SignedTreeHead::verify(&head, op, &key.verifying_key()).expect("old head");
    let new = SignedTreeHead::verify(&new_head, op, &key.verifying_key()).expect("new head");
    assert_eq!(old.tree_size(), 4);
    assert_eq!(new.tree_size(), store.log_size().expect("size"));
    let proof = store
        .consistency_proof(old.tree_size(), new.tree_size())
        .expect("consistency proof");
    compare_heads(&old, &new, Some(&proof)).expect("consistent heads");
    verify_consistency(
        old.tree_size(),
        new.tree_size(),
        &proof.path,
        &old.root_hash(),
        &new.root_hash(),
    )
    .expect("consistent");
    assert_eq!(store.latest_head(), Ok(Some(new_head)));
}

/// Request ids are remembered until their `forget_after` (issue time + 300 s + 120 s), across
/// a restart, then pruned by the next use, as in the in-memory ledger.
#[test]
fn request_ids_are_pruned_after_they_expire() {
    let dir = TempDir::new("prune");
    let mut s = Scenario::canteen();
    let ids = receipt_ids(1);
    let g = grant(&s, TWICE_A_MONTH);
    let first = request(&s, &g);
    {
        let store = open(&dir.db());
        let v = verifier(&s, &store, &ids);
        assert!(decide(&v, &s, &first, &g).is_allow());
        assert_eq!(store.remembered_requests(), Ok(1));
    }
    let store = open(&dir.db());
    assert_eq!(store.remembered_requests(), Ok(1));
    // At the last second it must be remembered, a use does not prune it.
    s.now = s.now.plus_secs(420);
    let other = grant(&s, AccessPattern::MONTHLY);
    let v = verifier(&s, &store, &ids);
    assert!(decide(&v, &s, &request(&s, &other), &other).is_allow());
    assert_eq!(store.remembered_requests(), Ok(2));
    // One second later the next use prunes it; the old request is now only too old.
    s.now = s.now.plus_secs(1);
    let third = grant(&s, AccessPattern::MONTHLY);
    let v = verifier(&s, &store, &ids);
    assert!(decide(&v, &s, &request(&s, &third), &third).is_allow());
    assert_eq!(store.remembered_requests(), Ok(2));
    assert_eq!(decide(&v, &s, &first, &g).codes(), ["request_too_old"]);
}

/// A first sighting is on disk once the decision or statement that made it returns, even when
/// nothing else is written: a denial without receipts, a statement refused.
#[test]
fn first_sightings_are_on_disk_when_the_call_returns() {
    let dir = TempDir::new("sightings");
    let mut s = Scenario::canteen();
    let (denied, stated) = (
        grant(&s, AccessPattern::MONTHLY),
        grant(&s, AccessPattern::MONTHLY),
    );
    let stale = request(&s, &denied);
    s.now = s.now.plus_secs(400);
    {
        let store = open(&dir.db());
        // No receipts: the denial logs nothing.
        let v = Verifier::new(s.verifier_provider, &s.directory, &s.ceilings, &store);
        // In the file when the call returns, read by a connection of the test's own while the
        // store is still open (closing it would commit what was pending anyway).
        let in_file = |g: &[u8]| -> i64 {
            Connection::open(dir.db())
                .and_then(|c| {
                    c.query_row(
                        "SELECT count(*) FROM first_seen WHERE digest = ?1",
                        [&Digest::of(g).as_bytes()[..]],
                        |r| r.get(0),
                    )
                })
                .expect("a count")
        };
        assert_eq!(decide(&v, &s, &stale, &denied).codes(), ["request_too_old"]);
        assert_eq!(in_file(&denied), 1);
        let by_consumer = s.statement(&stated, Action::Revoke, s.mairie);
        assert_eq!(
            v.apply_statement(&by_consumer, Basis::Signed(&stated), s.now),
            Err(StatementRefusal::NotEntitled { signer: s.mairie })
        );
        assert_eq!(in_file(&stated), 1);
        assert_eq!(store.log_size(), Ok(0));
    }
    let store = open(&dir.db());
    for g in [&denied, &stated] {
        assert_eq!(store.first_seen(&Digest::of(g)), Ok(Some(s.now)));
    }
}

/// A backup taken while the store serves is a consistent copy that opens with the same log.
#[test]
fn a_backup_opens_with_the_same_log() {
    let dir = TempDir::new("backup");
    let s = Scenario::canteen();
    let (key, op) = operator();
    let store = open(&dir.db());
    let size = some_history(&s, &store);
    let head = store.sign_head(&key, op, s.now).expect("head");
    let copy = dir.0.join("copy.db");
    store.backup(&copy).expect("backup");
    assert!(matches!(
        store.backup(&copy),
        Err(LedgerError::Unavailable(_))
    ));
    let restored = open(&copy);
    assert_eq!(restored.log_size(), Ok(size));
    assert_eq!(restored.log_root_at(size), store.log_root_at(size));
    assert_eq!(restored.latest_head(), Ok(Some(head)));
}

/// Concurrent decisions on one grant, started together on a barrier, land in the same group
/// commits: a one-time grant is allowed exactly once and a grant of two uses exactly twice,
/// the others are denied with the quota's reason, and the log holds one receipt per allow.
#[test]
fn concurrent_decisions_respect_quotas_in_group_commits() {
    const THREADS: usize = 8;
    let dir = TempDir::new("concurrent");
    let s = Scenario::canteen();
    let ids = receipt_ids(1);
    let store = open(&dir.db());
    let key = s.key(s.dgfip);
    for (round, (access, max)) in [(AccessPattern::one_time(), 1), (TWICE_A_MONTH, 2)]
        .into_iter()
        .cycle()
        .take(20)
        .enumerate()
    {
        let g = grant(&s, access);
        let requests: Vec<Vec<u8>> = (0..THREADS).map(|_| request(&s, &g)).collect();
        let size = store.log_size().expect("size");
        let barrier = std::sync::Barrier::new(THREADS);
        let (provider, directory, ceilings, now) =
            (s.verifier_provider, &s.directory, &s.ceilings, s.now);
        let decisions: Vec<Decision> = std::thread::scope(|scope| {
            let handles: Vec<_> = requests
                .iter()
                .map(|r| {
                    let (barrier, ids, store, g) = (&barrier, &ids, &store, &g);
                    scope.spawn(move || {
                        let v = Verifier::new(provider, directory, ceilings, store)
                            .with_receipts(Receipts { key, ids });
                        barrier.wait();
                        v.decide(r, Basis::Signed(g), now)
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("a decision"))
                .collect()
        });
        let allowed = decisions.iter().filter(|d| d.is_allow()).count();
        assert_eq!(allowed, max, "round {round}");
        let quota = if max == 1 {
            Reason::OneTimeUsed
        } else {
            Reason::FrequencyExhausted {
                next_allowed: s.now.plus_secs(30 * DAY),
            }
        };
        for d in decisions.iter().filter(|d| !d.is_allow()) {
            assert_eq!(d.reasons(), std::slice::from_ref(&quota), "round {round}");
        }
        let receipts = (size..store.log_size().expect("size"))
            .filter(|&i| {
                let e = LogEntry::from_bytes(&store.log_entry(i).expect("entry")).expect("entry");
                e.kind() == EntryKind::Receipt
            })
            .count();
        assert_eq!(receipts, max, "round {round}: one receipt per allow");
    }
}

// ------------------------------------------------------------------------------ corruption

/// An entry changed by hand is refused when the store opens, whether its leaf hash was left
/// as it was (the row fails its own check) or recomputed (the log no longer matches the head
/// signed over it).
#[test]
fn an_edited_log_entry_is_refused_on_open() {
    let dir = TempDir::new("edited-entry");
    let s = Scenario::canteen();
    let (key, op) = operator();
    {
        let store = open(&dir.db());
        some_history(&s, &store);
        store.sign_head(&key, op, s.now).expect("head");
    }
    let db = dir.db();
    let mut entry = blob(&db, "SELECT entry FROM log WHERE idx = 1");
    let last = entry.len() - 1;
    entry[last] ^= 1;
    set_blob(&db, "UPDATE log SET entry = ?1 WHERE idx = 1", &entry);
    match SqliteStore::open(&db) {
        Err(OpenError::Log(LogError::Storage(LedgerError::Corrupt(m)))) => {
            assert!(m.contains("log entry 1 does not match"), "{m}")
        }
        other => panic!("expected a corrupt entry, got {other:?}"),
    }
    // The leaf hash recomputed to match: the signed head catches it.
    set_blob(
        &db,
        "UPDATE log SET leaf = ?1 WHERE idx = 1",
        leaf_hash(&entry).as_bytes(),
    );
    assert!(matches!(
        SqliteStore::open(&db),
        Err(OpenError::Log(LogError::InconsistentWithSignedHead {
            size: 5,
            signed_size: 5,
            ..
        }))
    ));
}

/// A log whose last entries were deleted is refused if it is shorter than the head signed
/// over it; an entry deleted in the middle is a gap, refused with or without a head.
#[test]
fn a_truncated_log_is_refused_on_open() {
    let dir = TempDir::new("truncated");
    let s = Scenario::canteen();
    let (key, op) = operator();
    {
        let store = open(&dir.db());
        assert_eq!(some_history(&s, &store), 5);
        store.sign_head(&key, op, s.now).expect("head");
    }
    let db = dir.db();
    let copy = dir.0.join("gap.db");
    std::fs::copy(&db, &copy).expect("copy");
    edit(&db, "DELETE FROM log WHERE idx >= 3");
    match SqliteStore::open(&db) {
        Err(e @ OpenError::Log(LogError::InconsistentWithSignedHead { .. })) => {
            assert!(
                matches!(
                    e,
                    OpenError::Log(LogError::InconsistentWithSignedHead {
                        size: 3,
                        signed_size: 5,
                        ..
                    })
                ),
                "{e}"
            );
            assert!(
                e.to_string().contains("last head it signed (size 5)"),
                "{e}"
            );
        }
        other => panic!("expected a log inconsistent with its head, got {other:?}"),
    }
    edit(&copy, "DELETE FROM head; DELETE FROM log WHERE idx = 2");
    match SqliteStore::open(&copy) {
        Err(OpenError::Log(LogError::Storage(LedgerError::Corrupt(m)))) => {
            assert!(m.contains("entries are missing"), "{m}")
        }
        other => panic!("expected a gap, got {other:?}"),
    }
}

/// A basis row changed by hand, or copied to another basis's key, is refused when read: the
/// decision on it is denied with `ledger_unavailable` carrying a corrupt-ledger error, and a
/// statement about it is not applied; other bases are unaffected.
#[test]
fn an_edited_or_moved_basis_row_is_refused_when_read() {
    let dir = TempDir::new("basis-row");
    let s = Scenario::canteen();
    let ids = receipt_ids(1);
    let (edited, moved_to, untouched) = (
        grant(&s, AccessPattern::MONTHLY),
        grant(&s, TWICE_A_MONTH),
        grant(&s, TWICE_A_MONTH),
    );
    {
        let store = open(&dir.db());
        let v = verifier(&s, &store, &ids);
        for g in [&edited, &moved_to, &untouched] {
            assert!(decide(&v, &s, &request(&s, g), g).is_allow());
        }
    }
    let db = dir.db();
    let (k_edited, k_moved) = (key_of(&s, &edited), key_of(&s, &moved_to));
    let select = |k: &BasisKey| {
        let c = Connection::open(&db).expect("open");
        c.query_row(
            "SELECT value FROM bases WHERE key = ?1",
            [&k.to_bytes()[..]],
            |r| r.get::<_, Vec<u8>>(0),
        )
        .expect("a basis row")
    };
    // Edited: the use count 1 becomes 0 (a plausible state, so only the seal catches it).
    let mut value = select(&k_edited);
    assert_eq!(value[21], 1, "the count's last byte");
    value[21] = 0;
    let update = |k: &BasisKey, v: &[u8]| {
        let c = Connection::open(&db).expect("open");
        let n = c
            .execute(
                "UPDATE bases SET value = ?1 WHERE key = ?2",
                rusqlite::params![v, &k.to_bytes()[..]],
            )
            .expect("update");
        assert_eq!(n, 1);
    };
    update(&k_edited, &value);
    // Moved: another basis's (valid) row copied over this one's.
    update(&k_moved, &select(&key_of(&s, &untouched)));

    let store = open(&dir.db());
    let v = verifier(&s, &store, &ids);
    for (g, k) in [(&edited, &k_edited), (&moved_to, &k_moved)] {
        assert!(matches!(store.status(k), Err(LedgerError::Corrupt(m)) if m.contains("bases")));
        let size = store.log_size().expect("size");
        let m = only_unavailable(&decide(&v, &s, &request(&s, g), g), true);
        assert!(m.contains("a row of bases"), "{m}");
        // The denial is logged; nothing else.
        assert_eq!(store.log_size(), Ok(size + 1));
        assert!(matches!(
            v.apply_statement(
                &s.statement(g, Action::Revoke, s.parent),
                Basis::Signed(g),
                s.now
            ),
            Err(StatementRefusal::LedgerUnavailable(LedgerError::Corrupt(_)))
        ));
    }
    assert!(decide(&v, &s, &request(&s, &untouched), &untouched).is_allow());
}

/// A store written by a newer version of the library is refused, read-write or read-only.
/// A store opened read-only cannot be created nor migrated: an older schema is refused with
/// how to migrate it, a file without a store as such (a newer schema: see the next test).
#[test]
fn a_read_only_open_refuses_what_it_cannot_migrate() {
    let dir = TempDir::new("read-only-schema");
    drop(open(&dir.db()));
    edit(
        &dir.db(),
        "DROP TABLE outbox; DROP TABLE outbox_seq; \
         UPDATE meta SET value = 1 WHERE key = 'schema_version'",
    );
    match SqliteStore::open_read_only(dir.db()) {
        Err(OpenError::Ledger(LedgerError::Unavailable(m))) => {
            assert!(
                m.contains("version 1: open it read-write once to migrate it"),
                "{m}"
            );
        }
        other => panic!("expected a schema to migrate, got {other:?}"),
    }
    drop(open(&dir.db()));
    assert!(SqliteStore::open_read_only(dir.db()).is_ok(), "migrated");
    let empty = dir.0.join("empty.db");
    edit(&empty, "CREATE TABLE other (x INTEGER)");
    match SqliteStore::open_read_only(&empty) {
        Err(OpenError::Ledger(LedgerError::Unavailable(m))) => {
            assert_eq!(m, "the file holds no store");
        }
        other => panic!("expected no store, got {other:?}"),
    }
}

/// A file that is not an SQLite database (here, 8 KiB of text) is refused on open as corrupt,
/// with SQLite's own reason, not as a store that cannot be reached.
#[test]
fn a_file_that_is_not_a_database_is_refused_as_corrupt() {
    let dir = TempDir::new("not-a-database");
    std::fs::write(dir.db(), "not a database\n".repeat(512)).expect("written");
    match SqliteStore::open(dir.db()) {
        Err(OpenError::Ledger(LedgerError::Corrupt(m))) => {
            assert!(m.contains("not a database"), "{m}");
        }
        other => panic!("expected a corrupt store, got {other:?}"),
    }
}

/// A stored value of the wrong type (a basis row holding an integer where its sealed bytes
/// belong) is reported as corrupt, as SQLite's own corruption is, not as a passing failure.
#[test]
fn a_value_of_the_wrong_type_is_reported_corrupt() {
    let dir = TempDir::new("wrong-type");
    let s = Scenario::canteen();
    let ids = receipt_ids(7);
    let g = grant(&s, TWICE_A_MONTH);
    let store = open(&dir.db());
    let v = verifier(&s, &store, &ids);
    assert!(decide(&v, &s, &request(&s, &g), &g).is_allow());
    edit(&dir.db(), "UPDATE bases SET value = 42");
    let m = only_unavailable(&decide(&v, &s, &request(&s, &g), &g), true);
    assert!(m.contains("a stored value has the wrong type"), "{m}");
}

#[test]
fn a_newer_schema_is_refused() {
    let dir = TempDir::new("schema");
    drop(open(&dir.db()));
    edit(
        &dir.db(),
        "UPDATE meta SET value = 3 WHERE key = 'schema_version'",
    );
    for result in [
        SqliteStore::open(dir.db()),
        SqliteStore::open_read_only(dir.db()),
    ] {
        match result {
            Err(e @ OpenError::SchemaTooNew { .. }) => {
                assert!(matches!(
                    e,
                    OpenError::SchemaTooNew {
                        found: 3,
                        supported: 2
                    }
                ));
                assert!(e.to_string().contains("upgrade the library"), "{e}");
            }
            other => panic!("expected SchemaTooNew, got {other:?}"),
        }
    }
}

// ------------------------------------------------------------------------------ faults

/// A store opened read-only (`SQLITE_OPEN_READ_ONLY`: chmod does not stop root, which tests
/// may run as) cannot record anything: every decision is denied with `ledger_unavailable`,
/// whether it fails at the first sighting or at the commit, statements are not applied, the
/// log does not grow, and its entries and proofs are still served. Opened read-write again,
/// the one-time grants are usable, once.
#[test]
fn a_read_only_store_denies_and_records_nothing() {
    let dir = TempDir::new("read-only");
    let s = Scenario::canteen();
    let ids = receipt_ids(1);
    let (unseen, seen) = (
        grant(&s, AccessPattern::one_time()),
        grant(&s, AccessPattern::one_time()),
    );
    let size = {
        let store = open(&dir.db());
        let size = some_history(&s, &store);
        // `seen` has a first sighting, so its decision gets as far as the commit.
        store
            .record_existence(key_of(&s, &seen), Digest::of(&seen), s.now)
            .expect("sighting");
        size
    };
    {
        let store = SqliteStore::open_read_only(dir.db()).expect("read-only open");
        let v = verifier(&s, &store, &ids);
        for g in [&unseen, &seen] {
            let m = only_unavailable(&decide(&v, &s, &request(&s, g), g), false);
            assert!(m.contains("readonly"), "{m}");
            match v.apply_statement(
                &s.statement(g, Action::Pause, s.parent),
                Basis::Signed(g),
                s.now,
            ) {
                Err(StatementRefusal::LedgerUnavailable(LedgerError::Unavailable(m))) => {
                    assert!(m.contains("readonly"), "{m}");
                }
                other => panic!("expected the store's own failure, got {other:?}"),
            }
        }
        // Every other write fails with SQLite's own reason too: a first sighting from evidence,
        // a denial's log entry, a deletion, a notification queued or acknowledged, a statement
        // with notifications.
        let readonly =
            |e: &LedgerError| matches!(e, LedgerError::Unavailable(m) if m.contains("readonly"));
        assert!(
            store
                .record_existence(key_of(&s, &unseen), Digest::of(&unseen), s.now)
                .is_err_and(|e| readonly(&e))
        );
        let stale = request(&s, &unseen);
        let denied = v.decide(&stale, Basis::Signed(&unseen), s.now.plus_secs(400));
        assert_eq!(denied.codes(), ["request_too_old", "ledger_unavailable"]);
        assert!(
            denied
                .reasons()
                .iter()
                .any(|r| matches!(r, Reason::LedgerUnavailable { error } if readonly(error)))
        );
        let LogEntry::Receipt(receipt) =
            LogEntry::from_bytes(&store.log_entry(0).expect("an entry")).expect("an entry")
        else {
            panic!("the history starts with a receipt");
        };
        let deletion = Deletion::for_receipt(&receipt, s.now, s.now).sign(s.key(s.mairie));
        match log_deletion(&store, &deletion, &s.directory) {
            Err(DeletionError::Storage(e)) => assert!(readonly(&e), "{e}"),
            other => panic!("expected the store's own failure, got {other:?}"),
        }
        let notifier = Notifier {
            emitter: s.dgfip,
            key: s.key(s.dgfip),
        };
        let notices = Notices {
            carried: Carried::DirectoryUpdate(vec![0xd2]),
            recipients: vec![s.mairie],
            issued_at: s.now,
        };
        assert!(
            store
                .enqueue(&notifier, &notices)
                .is_err_and(|e| readonly(&e))
        );
        assert!(
            store
                .acknowledge(s.dgfip, s.mairie, 1)
                .is_err_and(|e| readonly(&e))
        );
        // (On `seen`, whose sighting is in the file, the statement gets as far as its commit.)
        match v.apply_statement_notifying(
            &s.statement(&seen, Action::Pause, s.parent),
            &seen,
            s.now,
            &notifier,
        ) {
            Err(StatementRefusal::LedgerUnavailable(e)) => assert!(readonly(&e), "{e}"),
            other => panic!("expected the store's own failure, got {other:?}"),
        }
        assert_eq!(store.log_size(), Ok(size));
        assert!(store.log_entry(size - 1).is_ok());
        assert!(store.inclusion_proof(0, size).is_ok());
    }
    // Nothing reached the file, not even a first sighting (kept in memory only, as it could
    // not be committed).
    let again = SqliteStore::open_read_only(dir.db()).expect("read-only open");
    assert_eq!(again.first_seen(&Digest::of(&unseen)), Ok(None));
    assert_eq!(again.log_size(), Ok(size));
    drop(again);
    let store = open(&dir.db());
    let v = verifier(&s, &store, &ids);
    for g in [&unseen, &seen] {
        assert!(decide(&v, &s, &request(&s, g), g).is_allow());
        assert_eq!(
            decide(&v, &s, &request(&s, g), g).reasons(),
            [Reason::OneTimeUsed]
        );
    }
}

/// A full database (`max_page_count` capped at the current size): once the log cannot take
/// an entry, every decision is denied with `ledger_unavailable` and nothing is recorded — no
/// receipt, no use, no denial entry — and a statement is not applied; once the cap is lifted,
/// every one-time grant of the window is usable, exactly once.
#[test]
fn a_full_database_denies_records_nothing_and_recovers() {
    let dir = TempDir::new("full");
    let s = Scenario::canteen();
    let ids = receipt_ids(1);
    let store = open(&dir.db());
    some_history(&s, &store);
    let v = verifier(&s, &store, &ids);
    let pages = store.set_max_pages(1).expect("cap");
    assert!(
        pages > 1,
        "the cap cannot go below the current size ({pages})"
    );

    // Fill the room left until a denial's entry no longer fits in the log's last page; the
    // entries of the window's decisions (receipts, same-sized denials) cannot fit either.
    let mut filled = false;
    for _ in 0..500 {
        let g = grant(&s, AccessPattern::one_time());
        let before = store.log_size().expect("size");
        let d = decide(&v, &s, &request(&s, &g), &g);
        if store.log_size() == Ok(before) {
            only_unavailable(&d, false);
            filled = true;
            break;
        }
    }
    assert!(filled, "the capped database never filled");

    let size = store.log_size().expect("size");
    let window: Vec<Vec<u8>> = (0..10)
        .map(|_| grant(&s, AccessPattern::one_time()))
        .collect();
    for g in &window {
        let m = only_unavailable(&decide(&v, &s, &request(&s, g), g), false);
        assert!(m.contains("full"), "{m}");
        assert_eq!(store.log_size(), Ok(size), "nothing appended");
    }
    let paused = &window[0];
    assert!(matches!(
        v.apply_statement(
            &s.statement(paused, Action::Pause, s.parent),
            Basis::Signed(paused),
            s.now
        ),
        Err(StatementRefusal::LedgerUnavailable(
            LedgerError::Unavailable(_)
        ))
    ));

    // The fault ends.
    store.set_max_pages(u32::MAX).expect("uncap");
    for (i, g) in window.iter().enumerate() {
        let d = decide(&v, &s, &request(&s, g), g);
        let receipt = d
            .allowed()
            .and_then(|a| a.receipt())
            .expect("allowed")
            .to_vec();
        assert_eq!(store.log_size(), Ok(size + 2 * i as u64 + 1));
        let logged = store.log_entry(size + 2 * i as u64).expect("entry");
        assert_eq!(
            LogEntry::from_bytes(&logged).expect("entry").signed_bytes(),
            Some(&receipt[..])
        );
        assert_eq!(
            decide(&v, &s, &request(&s, g), g).reasons(),
            [Reason::OneTimeUsed]
        );
    }
    // Reopened, the log is whole.
    let size = store.log_size().expect("size");
    drop(store);
    assert_eq!(open(&dir.db()).log_size(), Ok(size));
}

// ------------------------------------------------------------------------------ crash

/// The child's database path and run number (set by the parent only).
const CHILD_DB: &str = "CONSENTRY_CRASH_CHILD_DB";
const CHILD_RUN: &str = "CONSENTRY_CRASH_CHILD_RUN";
/// Threads deciding at once in the child, so that kills land in group commits.
const CHILD_THREADS: u64 = 4;

/// What the child does with the `n`-th grant of a thread.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Plan {
    /// Three requests on a one-time grant: at most one allowed.
    OneTime,
    /// Three requests on a grant of two uses a month: at most two allowed.
    Twice,
    /// A pause.
    Pause,
    /// A request on a monthly grant, then a revocation.
    UseThenRevoke,
}

fn plan(n: u64) -> Plan {
    match n % 4 {
        0 => Plan::OneTime,
        1 => Plan::Twice,
        2 => Plan::Pause,
        _ => Plan::UseThenRevoke,
    }
}

impl Plan {
    fn access(self) -> AccessPattern {
        match self {
            Plan::OneTime => AccessPattern::one_time(),
            Plan::Twice => TWICE_A_MONTH,
            Plan::Pause | Plan::UseThenRevoke => AccessPattern::MONTHLY,
        }
    }

    fn max_uses(self) -> usize {
        match self {
            Plan::OneTime | Plan::UseThenRevoke => 1,
            Plan::Twice => 2,
            Plan::Pause => 0,
        }
    }
}

/// The id of grant `n` of thread `thread` in run `run`: the parent rebuilds the grant (signing
/// is deterministic) and reads the plan back from it.
fn crash_grant(s: &Scenario, run: u64, thread: u64, n: u64) -> Vec<u8> {
    grant_with(
        s,
        Uuid::from_u64_pair((run << 8) | thread, n),
        plan(n).access(),
    )
}

/// A request with a chosen id (the scenario's own ids restart in every process).
fn request_with(s: &Scenario, grant: &[u8], id: Uuid) -> Vec<u8> {
    let mut r = s.request(grant);
    r = r
        .to_builder()
        .id(RequestId(id))
        .build()
        .expect("valid request");
    s.sign_request(&r)
}

/// The child: opens the store and, in several threads, decides and applies statements with
/// receipts on for ever, printing one line per completed operation (ending in `end`, so that a
/// line cut by the kill is not taken as acknowledged), and a signed head now and then. Only
/// runs when started by `crash_recovery_survives_kills`.
#[test]
#[ignore = "run by crash_recovery_survives_kills in a child process"]
fn crash_child() {
    let (Ok(db), Ok(run)) = (std::env::var(CHILD_DB), std::env::var(CHILD_RUN)) else {
        return;
    };
    let run: u64 = run.parse().expect("a run number");
    let store = open(Path::new(&db));
    let out = std::sync::Mutex::new(std::io::stdout());
    let say = |line: String| {
        let mut out = out.lock().unwrap_or_else(|p| p.into_inner());
        writeln!(out, "{line} end").expect("stdout");
        out.flush().expect("stdout");
    };
    // On a line of its own: the test harness has begun one ("test crash_child ... ").
    say("\nready".into());
    std::thread::scope(|scope| {
        for thread in 0..CHILD_THREADS {
            let (store, say) = (&store, &say);
            scope.spawn(move || child_thread(store, run, thread, say));
        }
    });
}

fn child_thread(store: &SqliteStore, run: u64, thread: u64, say: &(dyn Fn(String) + Sync)) {
    let s = Scenario::canteen();
    let next = AtomicU64::new(0);
    let ids =
        move || Uuid::from_u64_pair((run << 8) | thread, next.fetch_add(1, Ordering::Relaxed));
    let v = verifier(&s, store, &ids);
    let (key, op) = operator();
    let deadline = Instant::now() + Duration::from_secs(120);
    for n in 0.. {
        if Instant::now() > deadline {
            break;
        }
        let g = crash_grant(&s, run, thread, n);
        let request = |k: u64| {
            let id = Uuid::from_u64_pair((1 << 63) | (run << 8) | thread, (n << 4) | k);
            request_with(&s, &g, id)
        };
        let allow = |k: u64| {
            let d = v.decide(&request(k), Basis::Signed(&g), s.now);
            if let Some(receipt) = d.allowed().and_then(|a| a.receipt()) {
                say(format!("allow {}", hex(receipt)));
            }
        };
        match plan(n) {
            Plan::OneTime | Plan::Twice => (0..3).for_each(allow),
            Plan::Pause => {
                let pause = s.statement(&g, Action::Pause, s.parent);
                if v.apply_statement(&pause, Basis::Signed(&g), s.now).is_ok() {
                    say(format!("paused {run} {thread} {n}"));
                }
            }
            Plan::UseThenRevoke => {
                allow(0);
                let revoke = s.statement(&g, Action::Revoke, s.parent);
                if v.apply_statement(&revoke, Basis::Signed(&g), s.now).is_ok() {
                    say(format!("revoked {run} {thread} {n}"));
                }
            }
        }
        if thread == 0 && n % 6 == 5 {
            if let Ok(head) = store.sign_head(&key, op, s.now) {
                say(format!("head {}", hex(&head)));
            }
        }
    }
}

/// Kills a child that decides, applies statements and signs heads, at a random moment, again
/// and again, and checks after each kill, on the store reopened (its checks of the log and
/// the latest head included): no grant used beyond its quota (receipts counted per basis in
/// the log), every acknowledged allow's receipt in the log, every acknowledged pause and
/// revocation in force, and the log consistent with every head printed before a kill.
#[test]
fn crash_recovery_survives_kills() {
    let kills: u64 = std::env::var("CONSENTRY_CRASH_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let dir = TempDir::new("crash");
    let db = dir.db();
    drop(open(&db));
    let exe = std::env::current_exe().expect("the test binary");
    let mut seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64)
        | 1;
    eprintln!("crash test: {kills} kills, seed {seed}");
    let mut random = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };

    let s = Scenario::canteen();
    let (key, op) = operator();
    let ids = receipt_ids(1);
    let mut heads: Vec<SignedTreeHead> = Vec::new();
    let mut logged: std::collections::HashSet<Vec<u8>> = Default::default();
    let mut uses: HashMap<BasisId, usize> = HashMap::new();
    let mut scanned = 0u64;
    let (mut acknowledged, mut checks) = (0usize, 0u64);
    let started = Instant::now();

    for run in 0..kills {
        let mut child = Command::new(&exe)
            .args(["crash_child", "--exact", "--ignored", "--nocapture"])
            .args(["--test-threads", "1"])
            .env(CHILD_DB, &db)
            .env(CHILD_RUN, run.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the child");
        let stdout = child.stdout.take().expect("the child's output");
        let (tx, rx) = std::sync::mpsc::channel();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let ready = loop {
            match rx.recv_timeout(Duration::from_secs(60)) {
                Ok(line) if line == "ready end" => break true,
                Ok(_) => {}
                Err(_) => break false,
            }
        };
        if !ready {
            let _ = child.kill();
            panic!("run {run}: the child did not start");
        }
        std::thread::sleep(Duration::from_millis(10 + random() % 250));
        child.kill().expect("kill");
        child.wait().expect("wait");
        reader.join().expect("reader");

        // Acknowledged lines only (a line cut by the kill lacks its `end`).
        let lines: Vec<String> = rx
            .try_iter()
            .filter_map(|l| l.strip_suffix(" end").map(str::to_string))
            .collect();
        acknowledged += lines.len();

        let store = SqliteStore::open(&db).unwrap_or_else(|e| panic!("run {run}: reopen: {e}"));
        let size = store.log_size().expect("size");
        let root = store.log_root_at(size).expect("root");
        let entries: Vec<Vec<u8>> = (scanned..size)
            .map(|i| store.log_entry(i).expect("entry"))
            .collect();
        for (basis, receipt) in receipts_in(&entries) {
            logged.insert(receipt);
            *uses.entry(basis).or_default() += 1;
        }
        scanned = size;
        for (basis, n) in &uses {
            let (_, grant_n) = basis.0.as_u64_pair();
            let plan = plan(grant_n);
            assert!(
                *n <= plan.max_uses(),
                "run {run}: {n} receipts for a {plan:?} grant {}",
                basis.0
            );
        }

        let v = verifier(&s, &store, &ids);
        for line in &lines {
            let words: Vec<&str> = line.split(' ').collect();
            match words[..] {
                ["allow", hex] => {
                    let receipt = unhex(hex).expect("hex");
                    assert!(
                        logged.contains(&receipt),
                        "run {run}: an acknowledged receipt is not in the log"
                    );
                }
                ["head", hex] => {
                    let bytes = unhex(hex).expect("hex");
                    heads.push(
                        SignedTreeHead::verify(&bytes, op, &key.verifying_key()).expect("a head"),
                    );
                }
                [what @ ("paused" | "revoked"), r, t, n] => {
                    let (r, t, n) = (
                        r.parse().expect("run"),
                        t.parse().expect("thread"),
                        n.parse().expect("n"),
                    );
                    let g = crash_grant(&s, r, t, n);
                    let id = Uuid::from_u64_pair(u64::MAX, checks);
                    checks += 1;
                    let d = v.decide(&request_with(&s, &g, id), Basis::Signed(&g), s.now);
                    let expected = if what == "paused" {
                        Reason::Paused { since: s.now }
                    } else {
                        Reason::Revoked { at: s.now }
                    };
                    assert!(
                        d.reasons().contains(&expected),
                        "run {run}: an acknowledged {what} was lost: {:?}",
                        d.codes()
                    );
                }
                _ if line == "ready" => {}
                _ => panic!("run {run}: unexpected line {line:?}"),
            }
        }
        for head in &heads {
            assert!(
                head.tree_size() <= size,
                "run {run}: the log shrank below a head"
            );
            if head.tree_size() > 0 && head.tree_size() < size {
                let proof = store
                    .consistency_proof(head.tree_size(), size)
                    .expect("consistency proof");
                verify_consistency(
                    head.tree_size(),
                    size,
                    &proof.path,
                    &head.root_hash(),
                    &root,
                )
                .unwrap_or_else(|e| panic!("run {run}: inconsistent with a head: {e}"));
            } else if head.tree_size() == size {
                assert_eq!(head.root_hash(), root, "run {run}: same size, another root");
            }
        }
        // The parent's checks logged denials: scanned on the next round.
    }
    eprintln!(
        "crash test: {kills} kills survived in {:.1} s; {acknowledged} acknowledged operations, \
         {} receipts, {} heads, log of {scanned} entries",
        started.elapsed().as_secs_f64(),
        logged.len(),
        heads.len()
    );
    assert!(
        acknowledged > kills as usize,
        "the children acknowledged too little to test anything"
    );
}

// ------------------------------------------------------------------------------ deletions

/// A consumer's deletion statement is checked against the stored log and appended in the
/// group commit; refused ones append nothing; after a restart the deletion is still logged,
/// still counts (a second one is refused) and the reopened log rebuilds its root.
#[test]
fn deletions_are_checked_against_the_stored_log_and_survive_a_restart() {
    let dir = TempDir::new("deletions");
    let s = Scenario::canteen();
    let (index, bytes) = {
        let store = open(&dir.db());
        let index = deletions_through(&s, &store);
        (index, store.log_entry(index).expect("the deletion"))
    };
    let store = open(&dir.db());
    assert_eq!(store.log_entry(index), Ok(bytes.clone()));
    let LogEntry::Deletion(d) = LogEntry::from_bytes(&bytes).expect("an entry") else {
        panic!("a deletion entry");
    };
    let again =
        consentry::log::log_deletion(&store, d.bytes(), &s.directory).expect_err("already deleted");
    assert_eq!(again.code(), "deletion/already_deleted");
}

// ------------------------------------------------------------------------------ outbox

/// The outbox's notifications and counters are in the file: see `outbox_survives_reopen`.
#[test]
fn the_outbox_survives_a_restart() {
    let dir = TempDir::new("outbox");
    let s = Scenario::canteen();
    outbox_survives_reopen(&s, || open(&dir.db()));
}

/// A store of schema version 1 (before the outbox) is migrated on open, its state kept.
#[test]
fn a_version_1_store_is_migrated_to_the_outbox() {
    let dir = TempDir::new("migrate-outbox");
    let s = Scenario::canteen();
    let grant = notified_grant(&s);
    {
        let store = open(&dir.db());
        let v = Verifier::new(s.dgfip, &s.directory, &s.ceilings, &store);
        v.apply_statement(
            &s.statement(&grant, Action::Revoke, s.parent),
            Basis::Signed(&grant),
            s.now,
        )
        .expect("applied");
    }
    edit(
        &dir.db(),
        "DROP TABLE outbox; DROP TABLE outbox_seq; \
         UPDATE meta SET value = 1 WHERE key = 'schema_version'",
    );
    let store = open(&dir.db());
    assert_eq!(
        store.status(&key_of(&s, &grant)),
        Ok(Status::Revoked { at: s.now })
    );
    assert_eq!(store.pending(10), Ok(Vec::new()));
    drop(store);
    outbox_survives_reopen(&s, || open(&dir.db()));
}

/// A subject's indices stop below the tree size asked for: see
/// `indices_stop_below_the_tree_size`.
#[test]
fn a_subjects_indices_stop_below_the_tree_size() {
    let dir = TempDir::new("indices");
    let store = open(&dir.db());
    indices_stop_below_the_tree_size(&Scenario::canteen(), &store);
}

/// First sightings from existence evidence are in the file: see `existence_survives_reopen`.
#[test]
fn first_sightings_from_evidence_survive_a_restart() {
    let dir = TempDir::new("existence");
    let s = Scenario::canteen();
    existence_survives_reopen(&s, || open(&dir.db()));
}

/// A statement refused after its writes, inside its savepoint: see
/// `a_stream_that_cannot_number_leaves_nothing`.
#[test]
fn a_statement_refused_after_its_writes_leaves_nothing() {
    let dir = TempDir::new("full-stream");
    let s = Scenario::canteen();
    let store = open(&dir.db());
    a_stream_that_cannot_number_leaves_nothing(&s, &store, |emitter, recipient, last| {
        edit(
            &dir.db(),
            &format!(
                "INSERT INTO outbox_seq (emitter, recipient, last) VALUES (X'{}', X'{}', {last}) \
                 ON CONFLICT (emitter, recipient) DO UPDATE SET last = excluded.last",
                hex(emitter.as_bytes()),
                hex(recipient.as_bytes()),
            ),
        );
    });
}

/// Before each commit the store compares its tree with the log table. Rows it lacks (a commit
/// reported failed that reached the disk) are loaded, checked, and the next entry follows them;
/// fewer rows than the tree (a log truncated under the running store) are refused as corrupt,
/// and nothing is recorded.
#[test]
fn each_commit_catches_up_with_the_log_table_or_refuses_a_truncated_one() {
    let dir = TempDir::new("catch-up");
    let s = Scenario::canteen();
    let store = open(&dir.db());
    let size = some_history(&s, &store);
    // The first entry again at the next index, as if a commit had reached the disk unreported.
    edit(
        &dir.db(),
        &format!(
            "INSERT INTO log (idx, entry, leaf, subject) \
             SELECT {size}, entry, leaf, subject FROM log WHERE idx = 0"
        ),
    );
    assert_eq!(store.log_size(), Ok(size), "seen at the next commit");
    let ids = receipt_ids(5);
    let v = verifier(&s, &store, &ids);
    let g = grant(&s, AccessPattern::one_time());
    assert!(decide(&v, &s, &request(&s, &g), &g).is_allow());
    assert_eq!(store.log_size(), Ok(size + 2));
    assert_eq!(store.log_entry(size), store.log_entry(0));
    let root = store.log_root_at(size + 2).expect("a root");

    edit(
        &dir.db(),
        &format!("DELETE FROM log WHERE idx = {}", size + 1),
    );
    let g = grant(&s, AccessPattern::one_time());
    let m = only_unavailable(&decide(&v, &s, &request(&s, &g), &g), true);
    assert!(m.contains("truncated"), "{m}");
    assert_eq!(store.log_size(), Ok(size + 2));
    assert_eq!(store.log_root_at(size + 2), Ok(root));
}

/// Request ids across 2^63 seconds: see `request_ids_are_kept_across_the_sign_bit`. The file
/// keeps every time exactly (its integers sort as the times do), so once its time has passed
/// the request is forgotten and only too old.
#[test]
fn request_ids_are_kept_across_the_sign_bit_of_the_times() {
    let dir = TempDir::new("sign-bit");
    let store = open(&dir.db());
    assert_eq!(
        request_ids_are_kept_across_the_sign_bit(Scenario::canteen(), &store),
        ["request_too_old"]
    );
}

// ------------------------------------------------------------------------------ debug output

/// What a service's log line shows of a store: its file and the size of its log.
#[test]
fn debug_shows_the_file_and_the_log_size() {
    let dir = TempDir::new("debug");
    let store = open(&dir.db());
    let shown = format!("{store:?}");
    assert_eq!(
        shown,
        format!("SqliteStore {{ path: {:?}, log_size: 0, .. }}", dir.db())
    );
}
