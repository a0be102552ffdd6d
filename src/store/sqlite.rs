//! A durable ledger and transfer log in one SQLite file, for one gateway node.
//!
//! [`SqliteStore`] implements [`Ledger`] and [`LogStore`] with the same semantics as
//! [`InMemoryLedger`](crate::ledger::InMemoryLedger), and survives restarts and crashes: the
//! file is in WAL mode with `synchronous=FULL`, so a commit that returned is on disk.
//!
//! # Schema (version 2)
//!
//! | table | key | value |
//! |---|---|---|
//! | `meta` | `'schema_version'` | the schema version |
//! | `bases` | [`BasisKey::to_bytes`] | [`BasisState::to_bytes`], sealed |
//! | `statements` | digest of an applied statement | (presence) |
//! | `first_seen` | digest of a basis's signed bytes | first sighting (8 bytes, big-endian), sealed |
//! | `requests` | [`ReplayKey::to_bytes`] | `forget_after` (indexed, for pruning) |
//! | `log` | entry index | entry bytes, leaf hash, subject or `NULL` (indexed) |
//! | `head` | `0` | the latest signed tree head |
//! | `outbox` (version 2) | queue order | a notification not yet acknowledged: emitter, recipient, number, signed bytes |
//! | `outbox_seq` (version 2) | (emitter, recipient) | the last number given in the stream |
//!
//! *Sealed* values carry an 8-byte check bound to their table and key: a value damaged, edited
//! or copied to another key is refused as [`LedgerError::Corrupt`] when read, never used. Log
//! entries are checked against their leaf hash, and the whole log against the latest signed
//! head, when the store opens.
//!
//! # Group commit
//!
//! Writes (`record_use`, `record_statement`, `record_existence`, `record_decision` with a log
//! entry) are queued; a first sighting recorded by `observe` rides on the next commit, the
//! decision's own (see [`SqliteStore`]'s `observe`). The caller that finds no
//! commit running becomes the leader: it takes the whole queue and runs one transaction in
//! which each request is applied in queue order inside its own `SAVEPOINT`, then commits once
//! and hands every caller its own result; the other callers wait. See [`SqliteStore`] for why
//! this is exactly as safe as one transaction per call.

#![allow(clippy::doc_markdown, reason = "SQLite is a product's name, not code")]

use super::{LogCache, OpenError, SCHEMA_VERSION, check_leaf, seal, unseal};
use crate::Digest;
use crate::deletion::{Deletion, DeletionError};
use crate::directory::PartyId;
use crate::ids::{BasisId, BasisKey, ReplayKey};
use crate::keys::SigningKey;
use crate::ledger::{
    BasisState, CommitError, DecisionRecord, DeletionRecord, Ledger, LedgerError, LifecycleRefusal,
    Observation, Snapshot, StatementRecord, Status, UsageWindow, UseRecord, UseRefusal,
};
use crate::log::{
    ConsistencyProof, DeletionIndex, InclusionProof, LogEntry, LogError, LogStore, ProofError,
    leaf_hash,
};
use crate::notify::outbox::number;
use crate::notify::{Notices, Notifier, NotifyingLedger, Outbox, Queued};
use crate::time::Timestamp;
use rusqlite::{Connection, ErrorCode, OpenFlags, OptionalExtension, params};
use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{
    Condvar, Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard,
};
use std::time::Duration;

/// How long a connection waits for a lock held by another connection before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

const BASES: &str = "bases";
const FIRST_SEEN: &str = "first_seen";

/// The tables of schema version 1 (see the module documentation).
const SCHEMA_V1: &str = "
CREATE TABLE bases (key BLOB PRIMARY KEY NOT NULL, value BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE statements (digest BLOB PRIMARY KEY NOT NULL) WITHOUT ROWID;
CREATE TABLE first_seen (digest BLOB PRIMARY KEY NOT NULL, value BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE requests (key BLOB PRIMARY KEY NOT NULL, forget_after INTEGER NOT NULL)
    WITHOUT ROWID;
CREATE INDEX requests_by_expiry ON requests (forget_after);
CREATE TABLE log (
    idx INTEGER PRIMARY KEY NOT NULL,
    entry BLOB NOT NULL,
    leaf BLOB NOT NULL,
    subject BLOB
);
CREATE INDEX log_by_subject ON log (subject, idx);
CREATE TABLE head (id INTEGER PRIMARY KEY NOT NULL CHECK (id = 0), bytes BLOB NOT NULL);
";

/// The tables version 2 adds: the notification outbox (see [`Outbox`]). `outbox` holds the
/// notifications not yet acknowledged, in queue order (`id`, never reused); `outbox_seq` the
/// last number given in each (emitter, recipient) stream, kept when its notifications are
/// acknowledged so that no number is given twice.
const OUTBOX_V2: &str = "
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    emitter BLOB NOT NULL,
    recipient BLOB NOT NULL,
    seq INTEGER NOT NULL,
    bytes BLOB NOT NULL,
    UNIQUE (emitter, recipient, seq)
);
CREATE TABLE outbox_seq (
    emitter BLOB NOT NULL,
    recipient BLOB NOT NULL,
    last INTEGER NOT NULL,
    PRIMARY KEY (emitter, recipient)
) WITHOUT ROWID;
";

/// Migrations, as (version migrated from, SQL that brings it to the next version). A new store
/// is created at version 1, then migrated.
const MIGRATIONS: &[(u32, &str)] = &[(1, OUTBOX_V2)];

/// A durable [`Ledger`] and [`LogStore`] in one SQLite file, for one gateway node.
///
/// One process opens a file read-write at a time (several processes writing the same file
/// would each keep their own view of the log). It is `Send + Sync`: share it between request
/// threads behind an `Arc` or a reference.
///
/// Every SQLite failure is reported as [`LedgerError::Unavailable`] (SQLite's own corruption
/// codes, and stored values of the wrong type, as [`LedgerError::Corrupt`]); the verifier turns
/// either into a *deny* with `ledger_unavailable`. On any error nothing is recorded: the
/// transaction rolls back, and the log's in-memory tree only advances once a commit succeeded.
///
/// # Group commit, and why it is as safe as one transaction per call
///
/// With `synchronous=FULL` every commit waits for the disk. Concurrent writes are therefore
/// queued, and the caller that finds no commit running (the *leader*) takes every queued
/// request and runs one transaction: each request is applied in queue order inside its own
/// `SAVEPOINT`, released if the request succeeds and rolled back if it is refused, then the
/// transaction commits once and each caller receives its own result.
///
/// - *Isolation*: the requests of a batch run one after the other on one connection, and each
///   reads the state left by those before it (a savepoint sees the writes of the transaction
///   it is nested in). The outcome is that of running the requests one at a time in queue
///   order, which is a valid serial order of concurrent calls. Two uses of a one-time grant in
///   one batch: the second finds the first's count and is refused.
/// - *Atomicity per request*: a refused request's writes are undone by its savepoint, so it
///   leaves no trace; the requests after it do not see it.
/// - *Durability*: no caller is answered before `COMMIT` returned, and with `synchronous=FULL`
///   a returned commit is on disk. If anything fails in SQLite during the batch, or the commit
///   itself fails, the whole transaction is rolled back and **every** caller of the batch gets
///   the storage error: a request that would have succeeded on its own is reported failed
///   (its decision becomes a deny), never the reverse. A commit that failed after reaching
///   the disk is the same ambiguity as with one transaction per call, on the safe side; the
///   next batch finds its log rows and brings the in-memory tree up to date.
/// - *Visibility*: readers (`observe`, the log readers) see a batch only once committed (first
///   sightings excepted: see `observe`).
pub struct SqliteStore {
    path: PathBuf,
    /// The connection that writes, used by the commit leader (and to persist a signed head).
    writer: Mutex<Connection>,
    /// The connection that reads (`observe`, log entries, indices): WAL readers do not wait
    /// for the writer.
    reader: Mutex<Connection>,
    /// The log's Merkle tree and latest signed head, advanced only after a commit.
    log: RwLock<LogCache>,
    queue: Mutex<Queue>,
    /// Signalled when a batch's results are posted.
    posted: Condvar,
    /// Held while notifications are numbered and queued: every write of a stream's counter
    /// goes through it, so the numbers read before the commit are still the last ones at it.
    numbering: Mutex<()>,
}

impl fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .field("log_size", &read(&self.log).size())
            .finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens the store in the SQLite file at `path`, creating it (and its schema) if needed.
    ///
    /// The file is put in WAL mode with `synchronous=FULL` and a busy timeout. The schema is
    /// created, or checked and migrated, in one transaction: a store written by a newer library
    /// is refused ([`OpenError::SchemaTooNew`]). Then the log is checked: every stored entry
    /// against its stored leaf hash and the indices for gaps ([`OpenError::Log`] with a
    /// [`LedgerError::Corrupt`]), then the tree against the latest signed head
    /// ([`LogError::InconsistentWithSignedHead`]): an edited or truncated log is refused here.
    ///
    /// ```
    /// use consentry::log::LogStore;
    /// use consentry::store::sqlite::SqliteStore;
    ///
    /// let path = std::env::temp_dir().join(format!("consentry-open-{}.db", std::process::id()));
    /// # let _ = std::fs::remove_file(&path);
    /// let store = SqliteStore::open(&path)?;
    /// assert_eq!(store.log_size(), Ok(0));
    /// drop(store);
    /// // Opened again, it finds the same (empty) log.
    /// assert_eq!(SqliteStore::open(&path)?.log_size(), Ok(0));
    /// # for end in ["", "-wal", "-shm"] {
    /// #     let _ = std::fs::remove_file(format!("{}{end}", path.display()));
    /// # }
    /// # Ok::<(), consentry::store::OpenError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`OpenError::Ledger`] if the file cannot be opened or created, does not keep WAL mode, or
    /// holds state that fails a check ([`LedgerError::Unavailable`] for SQLite failures,
    /// [`LedgerError::Corrupt`] for corruption); [`OpenError::SchemaTooNew`] if a newer version of
    /// this library wrote it; [`OpenError::Log`] if the stored log fails a check.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, OpenError> {
        let path = path.as_ref().to_path_buf();
        let mut writer = connect(&path, OpenFlags::default())?;
        let mode: String = writer
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .map_err(db)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(LedgerError::Unavailable(format!(
                "SQLite kept the journal mode {mode:?} instead of WAL"
            ))
            .into());
        }
        writer
            .pragma_update(None, "synchronous", "FULL")
            .map_err(db)?;
        prepare_schema(&mut writer)?;
        let reader = connect(&path, OpenFlags::default())?;
        reader.pragma_update(None, "query_only", true).map_err(db)?;
        Self::finish_open(path, writer, reader)
    }

    /// Opens an existing store read-only (`SQLITE_OPEN_READ_ONLY`): for an auditor's process
    /// serving the log's proofs beside the gateway, or a copy being inspected. It reads and
    /// checks everything [`SqliteStore::open`] does, and every write fails as the ledger being
    /// unavailable, so a verifier on it denies every request with `ledger_unavailable` and
    /// records nothing. The tree is the log as it was when opened.
    ///
    /// # Errors
    ///
    /// [`OpenError::Ledger`] if the file cannot be opened, holds no store, holds an older schema
    /// (it is not migrated read-only) or state that fails a check; [`OpenError::SchemaTooNew`] if a
    /// newer version of this library wrote it; [`OpenError::Log`] if the stored log fails a check.
    pub fn open_read_only(path: impl AsRef<Path>) -> Result<Self, OpenError> {
        let path = path.as_ref().to_path_buf();
        let writer = connect(&path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        check_schema(&writer)?;
        let reader = connect(&path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        Self::finish_open(path, writer, reader)
    }

    /// Loads and checks the log, then assembles the store.
    fn finish_open(
        path: PathBuf,
        writer: Connection,
        reader: Connection,
    ) -> Result<Self, OpenError> {
        let mut log = LogCache::new();
        load_rows(&writer, &mut log, 0)?;
        let head: Option<Vec<u8>> = writer
            .query_row("SELECT bytes FROM head WHERE id = 0", [], |r| r.get(0))
            .optional()
            .map_err(db)?;
        if let Some(head) = head {
            log.load_head(head)?;
        }
        Ok(SqliteStore {
            path,
            writer: Mutex::new(writer),
            reader: Mutex::new(reader),
            log: RwLock::new(log),
            queue: Mutex::new(Queue::default()),
            posted: Condvar::new(),
            numbering: Mutex::new(()),
        })
    }

    /// The file this store was opened from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The lifecycle state of a basis ([`Status::Active`] for one never stated about).
    ///
    /// # Errors
    ///
    /// [`LedgerError::Unavailable`] if SQLite failed, [`LedgerError::Corrupt`] if the stored state
    /// does not decode.
    pub fn status(&self, basis: &BasisKey) -> Result<Status, LedgerError> {
        let conn = lock(&self.reader);
        Ok(read_basis(&conn, basis)
            .map_err(Failure::into_ledger)?
            .status())
    }

    /// When these exact basis bytes were first seen, if ever.
    ///
    /// # Errors
    ///
    /// [`LedgerError::Unavailable`] if SQLite failed, [`LedgerError::Corrupt`] if the stored value
    /// does not decode.
    pub fn first_seen(&self, basis_digest: &Digest) -> Result<Option<Timestamp>, LedgerError> {
        if let Some((t, _)) = lock(&self.queue).sightings.get(basis_digest) {
            return Ok(Some(*t));
        }
        let conn = lock(&self.reader);
        read_first_seen(&conn, basis_digest).map_err(Failure::into_ledger)
    }

    /// Number of request ids currently remembered (those not yet pruned: a use prunes the ids
    /// whose `forget_after` is before its time, as the in-memory ledger does).
    ///
    /// # Errors
    ///
    /// [`LedgerError::Unavailable`] if SQLite failed, [`LedgerError::Corrupt`] if the count is
    /// negative.
    pub fn remembered_requests(&self) -> Result<u64, LedgerError> {
        let conn = lock(&self.reader);
        let n: i64 = conn
            .query_row("SELECT COUNT(*) FROM requests", [], |r| r.get(0))
            .map_err(db)?;
        u64::try_from(n).map_err(|_| LedgerError::Corrupt("a negative count".into()))
    }

    /// Writes a consistent copy of the whole store to a new file at `to` (`VACUUM INTO`),
    /// while the store keeps serving: the copy is one snapshot, so it passes
    /// [`SqliteStore::open`]'s checks. Refused if `to` exists.
    ///
    /// # Errors
    ///
    /// [`LedgerError::Unavailable`] if `to` is not UTF-8, already exists, or the copy fails.
    pub fn backup(&self, to: impl AsRef<Path>) -> Result<(), LedgerError> {
        let to = to.as_ref();
        let target = to.to_str().ok_or_else(|| {
            LedgerError::Unavailable(format!("the backup path {} is not UTF-8", to.display()))
        })?;
        // A connection of its own, so that neither the writer nor the reader waits for it.
        let conn = connect(&self.path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        conn.execute("VACUUM INTO ?1", [target]).map_err(db)?;
        Ok(())
    }

    /// Caps the database at `pages` pages (`PRAGMA max_page_count` on the writing connection;
    /// it cannot go below the current size) and returns the cap in force. Writes that would
    /// grow the file beyond it fail as on a full disk ([`LedgerError::Unavailable`]): for a
    /// size quota, and for fault drills. `u32::MAX` lifts the cap. Not kept across reopening.
    ///
    /// # Errors
    ///
    /// [`LedgerError::Unavailable`] if SQLite failed, [`LedgerError::Corrupt`] if it reports a
    /// negative cap.
    pub fn set_max_pages(&self, pages: u32) -> Result<u64, LedgerError> {
        let conn = lock(&self.writer);
        conn.pragma_update_and_check(None, "max_page_count", pages, |r| r.get::<_, i64>(0))
            .map_err(db)
            .and_then(|n| {
                u64::try_from(n).map_err(|_| LedgerError::Corrupt("a negative page count".into()))
            })
    }

    /// Commits the first sightings recorded so far, and waits for it.
    fn flush(&self) -> Result<(), LedgerError> {
        match self.submit(Job::Flush) {
            Ok(_) => Ok(()),
            Err(Fail::Storage(e)) => Err(e),
            Err(_) => Err(mismatch()),
        }
    }

    /// Submits a write to the group commit and waits for its result.
    fn submit(&self, job: Job) -> Outcome {
        let mut q = lock(&self.queue);
        let ticket = q.next_ticket;
        q.next_ticket = q.next_ticket.wrapping_add(1);
        q.pending.push((ticket, job));
        loop {
            if let Some(outcome) = q.done.remove(&ticket) {
                return outcome;
            }
            if q.leading {
                q = self.posted.wait(q).unwrap_or_else(PoisonError::into_inner);
                continue;
            }
            // No commit running: lead one with everything queued (our own request included,
            // unless an earlier leader already answered it, found above).
            q.leading = true;
            let batch = std::mem::take(&mut q.pending);
            let sightings: Vec<(Digest, Timestamp)> =
                q.sightings.iter().map(|(d, (t, _))| (*d, *t)).collect();
            drop(q);
            let mut guard = Leading {
                store: self,
                tickets: batch.iter().map(|(t, _)| *t).collect(),
                finished: false,
            };
            let (results, committed) = self.run_batch(batch, &sightings);
            guard.finished = true;
            q = lock(&self.queue);
            q.leading = false;
            if committed {
                for (digest, _) in &sightings {
                    q.sightings.remove(digest);
                }
            }
            q.done.extend(results);
            self.posted.notify_all();
        }
    }

    /// Runs one batch in one transaction (see [`SqliteStore`]), then advances the tree.
    /// Returns each job's outcome and whether the transaction committed.
    fn run_batch(
        &self,
        batch: Vec<(u64, Job)>,
        sightings: &[(Digest, Timestamp)],
    ) -> (Vec<(u64, Outcome)>, bool) {
        let conn = lock(&self.writer);
        let tickets: Vec<u64> = batch.iter().map(|(t, _)| *t).collect();
        match self.transact(&conn, batch, sightings) {
            Ok((outcomes, base, leaves)) => {
                let mut log = write(&self.log);
                for (i, leaf) in (base..).zip(leaves) {
                    // Cannot fail: only the leader appends. If it did, the tree would lag the
                    // table, and the next batch loads the rows it lacks.
                    if log.push(i, leaf).is_err() {
                        break;
                    }
                }
                (outcomes, true)
            }
            Err(failure) => {
                settle(&conn);
                let error = failure.into_ledger();
                let outcomes = tickets
                    .into_iter()
                    .map(|t| (t, Err(Fail::Storage(error.clone()))))
                    .collect();
                (outcomes, false)
            }
        }
    }

    /// The batch's transaction: every job in its savepoint, one commit. Returns each job's
    /// outcome, the index of the first entry appended and the leaf hashes appended.
    #[allow(clippy::type_complexity)]
    fn transact(
        &self,
        conn: &Connection,
        batch: Vec<(u64, Job)>,
        sightings: &[(Digest, Timestamp)],
    ) -> Result<(Vec<(u64, Outcome)>, u64, Vec<Digest>), Failure> {
        settle(conn);
        conn.prepare_cached("BEGIN IMMEDIATE")?.execute([])?;
        let base = self.catch_up(conn)?;
        // First sightings recorded by `observe` since the last commit (see there), first,
        // so that the jobs see them.
        for (digest, at) in sightings {
            let key = digest.as_bytes();
            conn.prepare_cached(
                "INSERT INTO first_seen (digest, value) VALUES (?1, ?2) \
                 ON CONFLICT (digest) DO NOTHING",
            )?
            .execute(params![
                &key[..],
                seal(FIRST_SEEN, key, &at.0.to_be_bytes())
            ])?;
        }
        let mut leaves = Vec::new();
        let mut outcomes = Vec::with_capacity(batch.len());
        for (ticket, job) in batch {
            if let Job::Use { at, .. } = &job {
                // Pruning is not undone by a refusal, as in the in-memory ledger.
                conn.prepare_cached("DELETE FROM requests WHERE forget_after < ?1")?
                    .execute([order_key(*at)])?;
            }
            conn.prepare_cached("SAVEPOINT job")?.execute([])?;
            let mark = leaves.len();
            match apply(conn, job, base, &mut leaves) {
                Ok(done) => {
                    conn.prepare_cached("RELEASE job")?.execute([])?;
                    outcomes.push((ticket, Ok(done)));
                }
                Err(Failure::Check(error)) => {
                    undo(conn, mark, &mut leaves)?;
                    outcomes.push((ticket, Err(Fail::Storage(error))));
                }
                Err(Failure::Refused(fail)) => {
                    undo(conn, mark, &mut leaves)?;
                    outcomes.push((ticket, Err(fail)));
                }
                Err(sql) => return Err(sql),
            }
        }
        conn.prepare_cached("COMMIT")?.execute([])?;
        Ok((outcomes, base, leaves))
    }

    /// The number of log rows, loading into the tree any committed rows it lacks (a commit
    /// reported failed that reached the disk). Fewer rows than the tree: the log shrank
    /// underneath the store, which is refused.
    fn catch_up(&self, conn: &Connection) -> Result<u64, Failure> {
        let rows: i64 = conn
            .prepare_cached("SELECT COALESCE(MAX(idx) + 1, 0) FROM log")?
            .query_row([], |r| r.get(0))?;
        let rows = u64::try_from(rows).map_err(|_| corrupt("a negative log index"))?;
        let size = read(&self.log).size();
        if rows < size {
            return Err(corrupt(&format!(
                "the log table has {rows} entries but {size} were committed: it was truncated"
            ))
            .into());
        }
        if rows > size {
            load_rows(conn, &mut write(&self.log), size).map_err(|e| match e {
                OpenError::Ledger(e) => Failure::Check(e),
                other => Failure::Check(LedgerError::Corrupt(other.to_string())),
            })?;
        }
        Ok(rows)
    }
}

/// Rolls back to the job's savepoint and forgets its appended leaves.
fn undo(conn: &Connection, mark: usize, leaves: &mut Vec<Digest>) -> Result<(), Failure> {
    leaves.truncate(mark);
    conn.prepare_cached("ROLLBACK TO job")?.execute([])?;
    conn.prepare_cached("RELEASE job")?.execute([])?;
    Ok(())
}

/// Ends any transaction left open by a failure, so that the connection can begin the next.
fn settle(conn: &Connection) {
    if !conn.is_autocommit() {
        // If even this fails, the next BEGIN fails and reports why.
        let _ = conn.execute_batch("ROLLBACK");
    }
}

/// Resets the leader flag and answers the batch's callers if the leader unwinds, so that they
/// are not left waiting for ever.
struct Leading<'s> {
    store: &'s SqliteStore,
    tickets: Vec<u64>,
    finished: bool,
}

impl Drop for Leading<'_> {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        let mut q = lock(&self.store.queue);
        q.leading = false;
        for &t in &self.tickets {
            q.done.entry(t).or_insert_with(|| {
                Err(Fail::Storage(LedgerError::Unavailable(
                    "the commit was interrupted".into(),
                )))
            });
        }
        self.store.posted.notify_all();
    }
}

#[derive(Default)]
struct Queue {
    pending: Vec<(u64, Job)>,
    done: HashMap<u64, Outcome>,
    next_ticket: u64,
    leading: bool,
    /// First sightings recorded by `observe` and not yet committed, with the id of their
    /// basis: each batch writes them all, and they are removed once it committed.
    sightings: HashMap<Digest, (Timestamp, BasisId)>,
}

/// A log entry checked and hashed by its caller, before it queues.
struct Append {
    bytes: Vec<u8>,
    leaf: Digest,
    subject: Option<PartyId>,
}

/// Decodes an entry the verifier made (so it decodes; checking keeps a caller's bad bytes out
/// of the log), as the in-memory ledger does.
fn prepare(entry: &[u8]) -> Result<Append, LedgerError> {
    let entry = LogEntry::from_bytes(entry)
        .map_err(|e| LedgerError::Corrupt(format!("log entry refused: {e}")))?;
    let bytes = entry.to_bytes();
    Ok(Append {
        leaf: leaf_hash(&bytes),
        subject: entry.subject(),
        bytes,
    })
}

/// A write waiting for the group commit.
enum Job {
    Use {
        basis: BasisKey,
        request: ReplayKey,
        forget_after: Timestamp,
        window: Option<UsageWindow>,
        at: Timestamp,
        entry: Option<Result<Append, LedgerError>>,
    },
    Statement {
        record: StatementRecord<'static>,
        entry: Option<Result<Append, LedgerError>>,
        /// Notifications to queue with it (numbered and signed by the caller).
        outbox: Vec<Queued>,
    },
    /// Notifications to queue.
    Enqueue(Vec<Queued>),
    /// Removes a stream's notifications up to a number.
    Acknowledge {
        emitter: PartyId,
        recipient: PartyId,
        up_to: u64,
    },
    /// Nothing but the batch's first sightings.
    Flush,
    /// Moves a first sighting back; gives the one kept.
    Existence { digest: Digest, at: Timestamp },
    /// A denial's log entry.
    Append(Result<Append, LedgerError>),
    /// A deletion statement, checked against the log about its subject, then appended.
    Deletion {
        deletion: Box<Deletion>,
        entry: Result<Append, LedgerError>,
    },
}

enum Done {
    Unit,
    Count(usize),
    Status(Status),
    Time(Timestamp),
}

enum Fail {
    Use(Vec<UseRefusal>),
    Deletion(DeletionError),
    Lifecycle(LifecycleRefusal),
    Storage(LedgerError),
}

type Outcome = Result<Done, Fail>;

/// Why a step failed inside a transaction.
enum Failure {
    /// SQLite failed: the whole transaction is abandoned.
    Sql(rusqlite::Error),
    /// A stored value failed its check, or the caller's entry was refused: the job is undone
    /// and reported, the batch goes on.
    Check(LedgerError),
    /// The ledger's rules refused the job: it is undone, the batch goes on.
    Refused(Fail),
}

impl From<rusqlite::Error> for Failure {
    fn from(e: rusqlite::Error) -> Self {
        match e {
            // A stored value of the wrong type is damaged data, not a failed transaction.
            rusqlite::Error::FromSqlConversionFailure(..)
            | rusqlite::Error::InvalidColumnType(..)
            | rusqlite::Error::IntegralValueOutOfRange(..) => Failure::Check(db(e)),
            e => Failure::Sql(e),
        }
    }
}

impl From<LedgerError> for Failure {
    fn from(e: LedgerError) -> Self {
        Failure::Check(e)
    }
}

impl Failure {
    fn into_ledger(self) -> LedgerError {
        match self {
            Failure::Sql(e) => db(e),
            Failure::Check(e) | Failure::Refused(Fail::Storage(e)) => e,
            Failure::Refused(_) => LedgerError::Unavailable("a read was refused".into()),
        }
    }
}

/// Applies one job inside its savepoint, with the commit-point rules of [`BasisState`].
fn apply(
    conn: &Connection,
    job: Job,
    base: u64,
    leaves: &mut Vec<Digest>,
) -> Result<Done, Failure> {
    match job {
        Job::Use {
            basis,
            request,
            forget_after,
            window,
            at: _,
            entry,
        } => {
            let replayed = exists(
                conn,
                "SELECT 1 FROM requests WHERE key = ?1",
                &request.to_bytes(),
            )?;
            let next = read_basis(conn, &basis)?
                .check_use(replayed, window)
                .map_err(|r| Failure::Refused(Fail::Use(r)))?;
            if let Some(entry) = entry {
                append(conn, base, leaves, &entry?)?;
            }
            conn.prepare_cached("INSERT INTO requests (key, forget_after) VALUES (?1, ?2)")?
                .execute(params![&request.to_bytes()[..], order_key(forget_after)])?;
            write_basis(conn, &basis, &next)?;
            Ok(Done::Unit)
        }
        Job::Statement {
            record,
            entry,
            outbox,
        } => {
            let applied = exists(
                conn,
                "SELECT 1 FROM statements WHERE digest = ?1",
                record.statement.as_bytes(),
            )?;
            let next = read_basis(conn, &record.basis)?
                .apply(&record, applied)
                .map_err(|r| Failure::Refused(Fail::Lifecycle(r)))?;
            if let Some(entry) = entry {
                append(conn, base, leaves, &entry?)?;
            }
            write_basis(conn, &record.basis, &next)?;
            conn.prepare_cached("INSERT INTO statements (digest) VALUES (?1)")?
                .execute([&record.statement.as_bytes()[..]])?;
            queue_notifications(conn, &outbox)?;
            Ok(Done::Status(next.status()))
        }
        Job::Enqueue(outbox) => {
            queue_notifications(conn, &outbox)?;
            Ok(Done::Unit)
        }
        Job::Acknowledge {
            emitter,
            recipient,
            up_to,
        } => {
            let up_to = i64::try_from(up_to).unwrap_or(i64::MAX);
            let removed = conn
                .prepare_cached(
                    "DELETE FROM outbox WHERE emitter = ?1 AND recipient = ?2 AND seq <= ?3",
                )?
                .execute(params![
                    &emitter.as_bytes()[..],
                    &recipient.as_bytes()[..],
                    up_to
                ])?;
            Ok(Done::Count(removed))
        }
        Job::Flush => Ok(Done::Unit),
        Job::Existence { digest, at } => {
            let first = read_first_seen(conn, &digest)?.map_or(at, |kept| kept.min(at));
            write_first_seen(conn, &digest, first)?;
            Ok(Done::Time(first))
        }
        Job::Append(entry) => {
            append(conn, base, leaves, &entry?)?;
            Ok(Done::Unit)
        }
        Job::Deletion { deletion, entry } => {
            let entry = entry?;
            // The receipts and deletions about the subject, in log order: a deletion names
            // the receipt's subject, so its receipt and any earlier deletion of it are there.
            let mut index = DeletionIndex::new();
            let mut rows =
                conn.prepare_cached("SELECT idx, entry FROM log WHERE subject = ?1 ORDER BY idx")?;
            let mut rows = rows.query([&deletion.subject.as_bytes()[..]])?;
            while let Some(row) = rows.next()? {
                let i = u64::try_from(row.get::<_, i64>(0)?)
                    .map_err(|_| corrupt("a log index is negative"))?;
                let bytes: Vec<u8> = row.get(1)?;
                let logged = LogEntry::from_bytes(&bytes)
                    .map_err(|e| corrupt(&format!("log entry {i} does not decode: {e}")))?;
                let _ = index.observe(i, &logged, None);
            }
            index
                .check(&deletion)
                .map_err(|e| Failure::Refused(Fail::Deletion(e)))?;
            append(conn, base, leaves, &entry)?;
            Ok(Done::Unit)
        }
    }
}

fn append(
    conn: &Connection,
    base: u64,
    leaves: &mut Vec<Digest>,
    a: &Append,
) -> Result<(), Failure> {
    let index = base
        .checked_add(leaves.len() as u64)
        .and_then(|i| i64::try_from(i).ok())
        .ok_or_else(|| LedgerError::Unavailable("the log is full".into()))?;
    conn.prepare_cached("INSERT INTO log (idx, entry, leaf, subject) VALUES (?1, ?2, ?3, ?4)")?
        .execute(params![
            index,
            &a.bytes,
            &a.leaf.as_bytes()[..],
            a.subject.map(|s| s.as_bytes().to_vec()),
        ])?;
    leaves.push(a.leaf);
    Ok(())
}

/// Queues numbered notifications, each the next of its stream: a counter that moved since they
/// were numbered fails the job (nothing is queued, nor the statement applied).
fn queue_notifications(conn: &Connection, outbox: &[Queued]) -> Result<(), Failure> {
    for q in outbox {
        let (emitter, recipient) = (&q.emitter.as_bytes()[..], &q.recipient.as_bytes()[..]);
        let seq = i64::try_from(q.seq)
            .map_err(|_| LedgerError::Unavailable("a notification stream is full".into()))?;
        let last = read_last_seq(conn, &q.emitter, &q.recipient)?;
        if last.checked_add(1) != Some(q.seq) {
            return Err(LedgerError::Unavailable(format!(
                "a notification stream moved while numbering (last {last}, numbered {})",
                q.seq
            ))
            .into());
        }
        conn.prepare_cached(
            "INSERT INTO outbox_seq (emitter, recipient, last) VALUES (?1, ?2, ?3) \
             ON CONFLICT (emitter, recipient) DO UPDATE SET last = excluded.last",
        )?
        .execute(params![emitter, recipient, seq])?;
        conn.prepare_cached(
            "INSERT INTO outbox (emitter, recipient, seq, bytes) VALUES (?1, ?2, ?3, ?4)",
        )?
        .execute(params![emitter, recipient, seq, &q.bytes])?;
    }
    Ok(())
}

fn read_last_seq(
    conn: &Connection,
    emitter: &PartyId,
    recipient: &PartyId,
) -> Result<u64, Failure> {
    let last: Option<i64> = conn
        .prepare_cached("SELECT last FROM outbox_seq WHERE emitter = ?1 AND recipient = ?2")?
        .query_row(
            params![&emitter.as_bytes()[..], &recipient.as_bytes()[..]],
            |r| r.get(0),
        )
        .optional()?;
    last.map_or(Ok(0), |n| {
        u64::try_from(n)
            .map_err(|_| corrupt(&format!("a negative notification counter ({n})")).into())
    })
}

fn party(bytes: &[u8]) -> Result<PartyId, LedgerError> {
    <[u8; 16]>::try_from(bytes)
        .map(PartyId::from_bytes)
        .map_err(|_| corrupt("a party id in the outbox that is not 16 bytes"))
}

fn exists(conn: &Connection, sql: &str, key: &[u8]) -> Result<bool, Failure> {
    Ok(conn
        .prepare_cached(sql)?
        .query_row([key], |_| Ok(()))
        .optional()?
        .is_some())
}

fn read_basis(conn: &Connection, basis: &BasisKey) -> Result<BasisState, Failure> {
    let key = basis.to_bytes();
    let row: Option<Vec<u8>> = conn
        .prepare_cached("SELECT value FROM bases WHERE key = ?1")?
        .query_row([&key[..]], |r| r.get(0))
        .optional()?;
    match row {
        None => Ok(BasisState::default()),
        Some(sealed) => Ok(BasisState::from_bytes(unseal(BASES, &key, &sealed)?)?),
    }
}

fn write_basis(conn: &Connection, basis: &BasisKey, state: &BasisState) -> Result<(), Failure> {
    let key = basis.to_bytes();
    conn.prepare_cached("INSERT OR REPLACE INTO bases (key, value) VALUES (?1, ?2)")?
        .execute(params![&key[..], seal(BASES, &key, &state.to_bytes())])?;
    Ok(())
}

fn read_first_seen(conn: &Connection, digest: &Digest) -> Result<Option<Timestamp>, Failure> {
    let key = digest.as_bytes();
    let row: Option<Vec<u8>> = conn
        .prepare_cached("SELECT value FROM first_seen WHERE digest = ?1")?
        .query_row([&key[..]], |r| r.get(0))
        .optional()?;
    let Some(sealed) = row else {
        return Ok(None);
    };
    let value: [u8; 8] = unseal(FIRST_SEEN, key, &sealed)?
        .try_into()
        .map_err(|_| corrupt("a first sighting that is not 8 bytes"))?;
    Ok(Some(Timestamp(u64::from_be_bytes(value))))
}

fn write_first_seen(conn: &Connection, digest: &Digest, at: Timestamp) -> Result<(), Failure> {
    let key = digest.as_bytes();
    conn.prepare_cached("INSERT OR REPLACE INTO first_seen (digest, value) VALUES (?1, ?2)")?
        .execute(params![
            &key[..],
            seal(FIRST_SEEN, key, &at.0.to_be_bytes())
        ])?;
    Ok(())
}

/// A time as an SQLite integer that sorts as the time does (the sign bit flipped).
fn order_key(t: Timestamp) -> i64 {
    i64::from_be_bytes((t.0 ^ (1 << 63)).to_be_bytes())
}

fn corrupt(what: &str) -> LedgerError {
    LedgerError::Corrupt(what.to_string())
}

/// An SQLite failure as a ledger error: corruption codes and values of the wrong type are
/// [`LedgerError::Corrupt`], everything else (a lock not obtained, a full disk, a read-only
/// file, an I/O error) [`LedgerError::Unavailable`].
#[allow(
    clippy::needless_pass_by_value,
    reason = "a `map_err` adapter: it takes the error as `map_err` hands it over"
)]
fn db(e: rusqlite::Error) -> LedgerError {
    match &e {
        rusqlite::Error::SqliteFailure(f, _)
            if matches!(f.code, ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase) =>
        {
            LedgerError::Corrupt(format!("SQLite: {e}"))
        }
        rusqlite::Error::FromSqlConversionFailure(..)
        | rusqlite::Error::InvalidColumnType(..)
        | rusqlite::Error::IntegralValueOutOfRange(..) => {
            LedgerError::Corrupt(format!("a stored value has the wrong type: {e}"))
        }
        _ => LedgerError::Unavailable(format!("SQLite: {e}")),
    }
}

fn connect(path: &Path, flags: OpenFlags) -> Result<Connection, LedgerError> {
    let conn = Connection::open_with_flags(path, flags).map_err(db)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(db)?;
    Ok(conn)
}

/// Creates the schema, or checks its version and migrates it, in one transaction.
fn prepare_schema(conn: &mut Connection) -> Result<(), OpenError> {
    let tx = conn
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .map_err(db)?;
    tx.execute_batch(
        "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY NOT NULL, value INTEGER NOT NULL)",
    )
    .map_err(db)?;
    match schema_version(&tx)? {
        Some(found) if found > SCHEMA_VERSION => {
            return Err(OpenError::SchemaTooNew {
                found,
                supported: SCHEMA_VERSION,
            });
        }
        found => {
            let mut version = if let Some(version) = found {
                version
            } else {
                tx.execute_batch(SCHEMA_V1).map_err(db)?;
                set_version(&tx, 1)?;
                1
            };
            while version < SCHEMA_VERSION {
                let (_, sql) = MIGRATIONS
                    .iter()
                    .find(|(from, _)| *from == version)
                    .ok_or_else(|| {
                        corrupt(&format!(
                            "schema version {version} is not one this library knows"
                        ))
                    })?;
                tx.execute_batch(sql).map_err(db)?;
                version += 1;
                set_version(&tx, version)?;
            }
        }
    }
    tx.commit().map_err(db)?;
    Ok(())
}

/// Checks the version of a store opened read-only (nothing can be created nor migrated).
fn check_schema(conn: &Connection) -> Result<(), OpenError> {
    match schema_version(conn)? {
        Some(SCHEMA_VERSION) => Ok(()),
        Some(found) if found > SCHEMA_VERSION => Err(OpenError::SchemaTooNew {
            found,
            supported: SCHEMA_VERSION,
        }),
        Some(found) => Err(LedgerError::Unavailable(format!(
            "the store's schema is version {found}: open it read-write once to migrate it"
        ))
        .into()),
        None => Err(LedgerError::Unavailable("the file holds no store".into()).into()),
    }
}

fn schema_version(conn: &Connection) -> Result<Option<u32>, OpenError> {
    let has_meta: bool = conn
        .query_row(
            "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta')",
            [],
            |r| r.get(0),
        )
        .map_err(db)?;
    if !has_meta {
        return Ok(None);
    }
    let found: Option<i64> = conn
        .query_row(
            "SELECT value FROM meta WHERE key = 'schema_version'",
            [],
            |r| r.get(0),
        )
        .optional()
        .map_err(db)?;
    found
        .map(|v| u32::try_from(v).map_err(|_| corrupt(&format!("schema version {v}")).into()))
        .transpose()
}

fn set_version(conn: &Connection, version: u32) -> Result<(), OpenError> {
    conn.execute(
        "INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?1)",
        [version],
    )
    .map_err(db)?;
    Ok(())
}

/// Loads the log rows from index `from` on into the tree, checking each against its stored
/// leaf hash and the indices for gaps.
fn load_rows(conn: &Connection, log: &mut LogCache, from: u64) -> Result<(), OpenError> {
    let from = i64::try_from(from).map_err(|_| corrupt("a log index beyond SQLite's integers"))?;
    let mut stmt = conn
        .prepare("SELECT idx, entry, leaf FROM log WHERE idx >= ?1 ORDER BY idx")
        .map_err(db)?;
    let mut rows = stmt.query([from]).map_err(db)?;
    while let Some(row) = rows.next().map_err(db)? {
        let index: i64 = row.get(0).map_err(db)?;
        let index = u64::try_from(index).map_err(|_| corrupt(&format!("log index {index}")))?;
        let entry: Vec<u8> = row.get(1).map_err(db)?;
        let leaf: Vec<u8> = row.get(2).map_err(db)?;
        log.load_row(index, &entry, &leaf)?;
    }
    Ok(())
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every update under these locks is complete or not made (a connection, a queue updated
    // by single assignments), so a lock poisoned by a panic is safe to reuse.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn read(l: &RwLock<LogCache>) -> RwLockReadGuard<'_, LogCache> {
    l.read().unwrap_or_else(PoisonError::into_inner)
}

fn write(l: &RwLock<LogCache>) -> RwLockWriteGuard<'_, LogCache> {
    l.write().unwrap_or_else(PoisonError::into_inner)
}

/// A result of a kind the job cannot give (never happens): reported as a failed write.
fn mismatch() -> LedgerError {
    LedgerError::Unavailable("the commit gave an unexpected result".into())
}

impl Ledger for SqliteStore {
    /// Reads on the reading connection (possibly a commit behind, as the contract allows).
    ///
    /// A first sighting not yet recorded is kept in memory at once (later observations find
    /// it there) and written by the next commit, which for a decision is its own: the use of
    /// an allow, or the denial's log entry — or, when a denial logs nothing,
    /// [`Ledger::record_decision`] commits it. So every decision and statement is returned
    /// only once its sighting is on disk, without a commit of its own for the sighting. An
    /// observation without a verified request (a statement, which may be refused without
    /// another ledger call) waits for that commit here.
    fn observe(&self, o: &Observation) -> Result<Snapshot, LedgerError> {
        // Sightings not yet committed first: one leaves this map only once committed, so one
        // absent here is either on disk or never recorded.
        let unflushed = lock(&self.queue)
            .sightings
            .get(&o.basis_digest)
            .map(|(t, _)| *t);
        let (state, replayed, seen) = {
            let conn = lock(&self.reader);
            let state = read_basis(&conn, &o.basis).map_err(Failure::into_ledger)?;
            let replayed = match o.request {
                Some(r) => exists(
                    &conn,
                    "SELECT 1 FROM requests WHERE key = ?1",
                    &r.to_bytes(),
                )
                .map_err(Failure::into_ledger)?,
                None => false,
            };
            let seen = match unflushed {
                Some(_) => None,
                None => read_first_seen(&conn, &o.basis_digest).map_err(Failure::into_ledger)?,
            };
            (state, replayed, seen)
        };
        let first_seen = match (unflushed, seen) {
            (_, Some(t)) => t,
            (pending, None) => {
                let first = match pending {
                    Some(t) => t,
                    None => {
                        lock(&self.queue)
                            .sightings
                            .entry(o.basis_digest)
                            .or_insert((o.at, o.basis.id()))
                            .0
                    }
                };
                if o.request.is_none() {
                    self.flush()?;
                }
                first
            }
        };
        Ok(Snapshot {
            status: state.status(),
            uses: o.window_start.map_or(0, |w| state.uses(w)),
            replayed,
            first_seen,
        })
    }

    fn record_use(&self, r: &UseRecord<'_>) -> Result<(), CommitError<Vec<UseRefusal>>> {
        match self.submit(Job::Use {
            basis: r.basis,
            request: r.request,
            forget_after: r.forget_after,
            window: r.window,
            at: r.at,
            entry: r.log_entry.map(prepare),
        }) {
            Ok(Done::Unit) => Ok(()),
            Err(Fail::Use(refusals)) => Err(CommitError::Refused(refusals)),
            Err(Fail::Storage(e)) => Err(CommitError::Storage(e)),
            _ => Err(CommitError::Storage(mismatch())),
        }
    }

    fn record_statement(
        &self,
        r: &StatementRecord<'_>,
    ) -> Result<Status, CommitError<LifecycleRefusal>> {
        match self.submit(Job::Statement {
            record: StatementRecord {
                log_entry: None,
                ..*r
            },
            entry: r.log_entry.map(prepare),
            outbox: Vec::new(),
        }) {
            Ok(Done::Status(status)) => Ok(status),
            Err(Fail::Lifecycle(refusal)) => Err(CommitError::Refused(refusal)),
            Err(Fail::Storage(e)) => Err(CommitError::Storage(e)),
            _ => Err(CommitError::Storage(mismatch())),
        }
    }

    /// First sightings are keyed by the digest alone: signed bytes determine their basis, so
    /// the key adds nothing to find them.
    fn record_existence(
        &self,
        _basis: BasisKey,
        basis_digest: Digest,
        at: Timestamp,
    ) -> Result<Timestamp, LedgerError> {
        match self.submit(Job::Existence {
            digest: basis_digest,
            at,
        }) {
            Ok(Done::Time(t)) => Ok(t),
            Err(Fail::Storage(e)) => Err(e),
            _ => Err(mismatch()),
        }
    }

    /// Appends a denial's log entry, durably, before returning. The decision record itself is
    /// not stored: the transfer log is this store's audit trail (an allow's receipt was
    /// appended with its use). Without an entry (receipts off, or an allow) nothing is written
    /// but the basis's first sighting, if the decision's own commit did not already write it.
    fn record_decision(
        &self,
        record: DecisionRecord,
        log_entry: Option<&[u8]>,
    ) -> Result<(), LedgerError> {
        let Some(entry) = log_entry else {
            // A denial that logs nothing: its basis's first sighting, if not yet committed,
            // is committed now (see `observe`).
            let unflushed = record.basis().is_some_and(|id| {
                lock(&self.queue)
                    .sightings
                    .values()
                    .any(|(_, basis)| *basis == id)
            });
            return if unflushed { self.flush() } else { Ok(()) };
        };
        match self.submit(Job::Append(prepare(entry))) {
            Ok(Done::Unit) => Ok(()),
            Err(Fail::Storage(e)) => Err(e),
            _ => Err(mismatch()),
        }
    }

    /// Checks the deletion against the entries about its subject and appends it, in one
    /// transaction of the group commit.
    fn record_deletion(&self, record: &DeletionRecord<'_>) -> Result<(), DeletionError> {
        self.submit_deletion(record)
    }
}

impl SqliteStore {
    fn submit_deletion(&self, record: &DeletionRecord<'_>) -> Result<(), DeletionError> {
        let entry = crate::log::deletion_record_entry(record)?;
        match self.submit(Job::Deletion {
            deletion: Box::new(record.deletion.clone()),
            entry: prepare(&entry.to_bytes()),
        }) {
            Ok(Done::Unit) => Ok(()),
            Err(Fail::Deletion(refusal)) => Err(refusal),
            Err(Fail::Storage(e)) => Err(DeletionError::Storage(e)),
            _ => Err(DeletionError::Storage(mismatch())),
        }
    }
}

/// The store's outbox, in its file: counters and queue survive reopening. One process writes a
/// file, so numbering under a lock of the store and checking each counter again in the commit
/// is enough.
impl Outbox for SqliteStore {
    fn enqueue(
        &self,
        notifier: &Notifier<'_>,
        notices: &Notices,
    ) -> Result<Vec<Queued>, LedgerError> {
        let _numbering = lock(&self.numbering);
        let queued = self.number(notifier, notices)?;
        match self.submit(Job::Enqueue(queued.clone())) {
            Ok(Done::Unit) => Ok(queued),
            Err(Fail::Storage(e)) => Err(e),
            _ => Err(mismatch()),
        }
    }

    fn pending(&self, limit: usize) -> Result<Vec<Queued>, LedgerError> {
        let conn = lock(&self.reader);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut stmt = conn
            .prepare_cached(
                "SELECT emitter, recipient, seq, bytes FROM outbox ORDER BY id LIMIT ?1",
            )
            .map_err(db)?;
        let rows = stmt
            .query_map([limit], |r| {
                Ok((
                    r.get::<_, Vec<u8>>(0)?,
                    r.get::<_, Vec<u8>>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, Vec<u8>>(3)?,
                ))
            })
            .map_err(db)?;
        let mut out = Vec::new();
        for row in rows {
            let (emitter, recipient, seq, bytes) = row.map_err(db)?;
            out.push(Queued {
                emitter: party(&emitter)?,
                recipient: party(&recipient)?,
                seq: u64::try_from(seq).map_err(|_| corrupt("a negative notification number"))?,
                bytes,
            });
        }
        Ok(out)
    }

    fn acknowledge(
        &self,
        emitter: PartyId,
        recipient: PartyId,
        up_to: u64,
    ) -> Result<usize, LedgerError> {
        match self.submit(Job::Acknowledge {
            emitter,
            recipient,
            up_to,
        }) {
            Ok(Done::Count(n)) => Ok(n),
            Err(Fail::Storage(e)) => Err(e),
            _ => Err(mismatch()),
        }
    }

    fn last_seq(&self, emitter: PartyId, recipient: PartyId) -> Result<u64, LedgerError> {
        let conn = lock(&self.reader);
        read_last_seq(&conn, &emitter, &recipient).map_err(Failure::into_ledger)
    }
}

impl NotifyingLedger for SqliteStore {
    fn record_statement_notifying(
        &self,
        r: &StatementRecord<'_>,
        notifier: &Notifier<'_>,
        notices: &Notices,
    ) -> Result<(Status, Vec<Queued>), CommitError<LifecycleRefusal>> {
        let _numbering = lock(&self.numbering);
        let queued = self.number(notifier, notices)?;
        match self.submit(Job::Statement {
            record: StatementRecord {
                log_entry: None,
                ..*r
            },
            entry: r.log_entry.map(prepare),
            outbox: queued.clone(),
        }) {
            Ok(Done::Status(status)) => Ok((status, queued)),
            Err(Fail::Lifecycle(refusal)) => Err(CommitError::Refused(refusal)),
            Err(Fail::Storage(e)) => Err(CommitError::Storage(e)),
            _ => Err(CommitError::Storage(mismatch())),
        }
    }
}

impl SqliteStore {
    /// Numbers and signs `notices` after the counters committed (the caller holds `numbering`).
    fn number(
        &self,
        notifier: &Notifier<'_>,
        notices: &Notices,
    ) -> Result<Vec<Queued>, LedgerError> {
        let conn = lock(&self.reader);
        number(notifier, notices, |emitter, recipient| {
            read_last_seq(&conn, &emitter, &recipient).map_err(Failure::into_ledger)
        })
    }
}

impl LogStore for SqliteStore {
    fn log_size(&self) -> Result<u64, LogError> {
        Ok(read(&self.log).size())
    }

    /// Reads the entry and checks it against its stored leaf hash and against the tree.
    fn log_entry(&self, index: u64) -> Result<Vec<u8>, LogError> {
        let size = self.log_size()?;
        if index >= size {
            return Err(LogError::Proof(ProofError::IndexOutOfRange { index, size }));
        }
        let row: Option<(Vec<u8>, Vec<u8>)> = {
            let conn = lock(&self.reader);
            let key = i64::try_from(index).map_err(|_| LogError::IndexTooLarge(index))?;
            conn.prepare_cached("SELECT entry, leaf FROM log WHERE idx = ?1")
                .and_then(|mut s| {
                    s.query_row([key], |r| Ok((r.get(0)?, r.get(1)?)))
                        .optional()
                })
                .map_err(db)?
        };
        let (entry, leaf) =
            row.ok_or_else(|| corrupt(&format!("log entry {index} is missing from the table")))?;
        check_leaf(index, &entry, &leaf)?;
        read(&self.log).check_entry(index, &entry)?;
        Ok(entry)
    }

    fn log_root_at(&self, size: u64) -> Result<Digest, LogError> {
        read(&self.log).root_at(size)
    }

    fn inclusion_proof(&self, index: u64, tree_size: u64) -> Result<InclusionProof, LogError> {
        read(&self.log).inclusion_proof(index, tree_size)
    }

    fn consistency_proof(
        &self,
        old_size: u64,
        new_size: u64,
    ) -> Result<ConsistencyProof, LogError> {
        read(&self.log).consistency_proof(old_size, new_size)
    }

    fn indices_about(&self, subject: &PartyId, tree_size: u64) -> Result<Vec<u64>, LogError> {
        // Only committed entries the tree holds, as its proofs do.
        let limit = tree_size.min(self.log_size()?);
        let limit = i64::try_from(limit).map_err(|_| LogError::IndexTooLarge(limit))?;
        let conn = lock(&self.reader);
        let mut stmt = conn
            .prepare_cached("SELECT idx FROM log WHERE subject = ?1 AND idx < ?2 ORDER BY idx")
            .map_err(db)?;
        let rows = stmt
            .query_map(params![&subject.as_bytes()[..], limit], |r| {
                r.get::<_, i64>(0)
            })
            .map_err(db)?;
        rows.map(|i| {
            let i = i.map_err(db)?;
            u64::try_from(i).map_err(|_| corrupt(&format!("log index {i}")).into())
        })
        .collect()
    }

    /// Signs the head of the committed log (no commit runs meanwhile), after checking it is
    /// consistent with the latest head kept, and persists it before keeping it.
    fn sign_head(
        &self,
        key: &SigningKey,
        operator: PartyId,
        at: Timestamp,
    ) -> Result<Vec<u8>, LogError> {
        let conn = lock(&self.writer);
        let bytes = read(&self.log).sign_head(key, operator, at)?;
        settle(&conn);
        conn.prepare_cached(
            "INSERT INTO head (id, bytes) VALUES (0, ?1) \
             ON CONFLICT (id) DO UPDATE SET bytes = excluded.bytes",
        )
        .and_then(|mut s| s.execute([&bytes]))
        .map_err(db)?;
        write(&self.log).keep_head(bytes.clone())?;
        Ok(bytes)
    }

    fn latest_head(&self) -> Result<Option<Vec<u8>>, LogError> {
        Ok(read(&self.log).latest_head())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A leader that unwinds during its commit answers each caller of its batch still
    /// unanswered with a storage error, keeps the answers already posted, and gives up the
    /// lead, so that no caller waits for ever; a leader that finished leaves the queue alone.
    #[test]
    fn an_unwinding_leader_answers_its_batch_and_gives_up_the_lead() {
        let dir = std::env::temp_dir().join(format!("consentry-leading-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a directory");
        let store = SqliteStore::open(dir.join("ledger.db")).expect("a store");
        {
            let mut q = lock(&store.queue);
            q.leading = true;
            q.done.insert(7, Ok(Done::Unit));
        }
        let unwound = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _guard = Leading {
                store: &store,
                tickets: vec![7, 8],
                finished: false,
            };
            panic!("the commit failed half-way");
        }));
        assert!(unwound.is_err());
        {
            let mut q = lock(&store.queue);
            assert!(!q.leading);
            assert!(matches!(q.done.remove(&7), Some(Ok(Done::Unit))));
            assert!(matches!(
                q.done.remove(&8),
                Some(Err(Fail::Storage(LedgerError::Unavailable(m)))) if m == "the commit was interrupted"
            ));
            q.leading = true;
        }
        drop(Leading {
            store: &store,
            tickets: vec![9],
            finished: true,
        });
        let q = lock(&store.queue);
        assert!(q.leading && q.done.is_empty());
        drop(q);
        drop(store);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
