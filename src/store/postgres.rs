//! The ledger and its transfer log in PostgreSQL, shared by several gateway nodes of one data
//! provider (feature `postgres`). See `docs/deployment.md`, section "Several nodes:
//! PostgreSQL".
//!
//! # Design
//!
//! - **The commit point** ([`Ledger::record_use`]) is one transaction at `READ COMMITTED`:
//!   its first statement upserts the request id (`INSERT … ON CONFLICT DO UPDATE … WHERE` the
//!   id has expired) and the basis row (`INSERT … ON CONFLICT DO UPDATE SET state = state
//!   RETURNING state`). Both take the row lock and both act on the *latest committed* row
//!   version, waiting for any transaction that holds it: so the state returned is the one no
//!   other transaction can change before this one ends, and an id inserted by a concurrent
//!   transaction is seen as soon as that transaction commits (the unique index waits for it).
//!   The rule ([`BasisState::check_use`]) runs in Rust on that state; the second statement
//!   writes the new state and queues the receipt's log entry; `COMMIT` makes both durable, or
//!   nothing is. Two decisions on one basis are thus serialized by the basis row lock, two
//!   uses of one request id by its primary key, whatever their bases. Lifecycle statements
//!   take the same basis lock, and a statement's digest is inserted the same way.
//! - **The transfer log** is sequenced in two steps so that nodes do not serialize on one
//!   log row: an allow's transaction inserts its entry into `log_pending` (a `bigserial`
//!   queue); [`PgStore::integrate`] (run under a transaction-scoped advisory lock by
//!   [`LogStore::sign_head`], by every log read, and by the service when it likes) moves the
//!   queued rows, in sequence order, into `log` with contiguous indices and their leaf hashes,
//!   in one transaction. Each node keeps the Merkle tree in memory, extended from the rows it
//!   has not seen yet, each checked against its leaf hash, and checks it against the latest
//!   signed head kept in `log_head`.
//! - **Failures** close: every driver error is [`LedgerError::Unavailable`] (the verifier
//!   denies with `ledger_unavailable`), stored state that fails a check is
//!   [`LedgerError::Corrupt`]. A connection that failed is dropped and a new one is made on
//!   next use, so service resumes by itself when the database is back.

#![allow(
    clippy::doc_markdown,
    reason = "PostgreSQL is a product's name, not code"
)]

use super::{LogCache, OpenError, SCHEMA_VERSION, check_leaf, seal, unseal};
use crate::deletion::DeletionError;
use crate::digest::Digest;
use crate::directory::PartyId;
use crate::ids::BasisKey;
use crate::keys::SigningKey;
use crate::ledger::{
    BasisState, CommitError, DecisionRecord, DeletionRecord, Ledger, LedgerError, LifecycleRefusal,
    Observation, Snapshot, StatementRecord, Status, UseRecord, UseRefusal,
};
use crate::log::{
    ConsistencyProof, DeletionIndex, InclusionProof, LogEntry, LogError, LogStore, ProofError,
};
use crate::notify::{Notices, Notifier, NotifyingLedger, Outbox, Queued};
use crate::time::Timestamp;
use postgres::{Client, Config, NoTls, Statement};
use std::collections::BTreeMap;
use std::fmt::{self, Write as _};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

/// Table name bound into the check of each basis row ([`seal`]).
const BASES: &str = "bases";

/// Options of a [`PgStore`] beyond the connection string.
#[derive(Clone, Debug)]
pub struct PgOptions {
    /// The schema holding the store's tables, created if missing (lower-case letters, digits
    /// and `_`, at most 63 characters). `None`: the first schema of the connection's
    /// `search_path` (normally `public`).
    pub schema: Option<String>,
    /// How long a statement waits for a row lock or the log's advisory lock before it fails
    /// (and the decision is denied with `ledger_unavailable`): bounds the wait behind a node
    /// that stalls in the middle of a transaction. Default 5 seconds.
    pub lock_timeout: Duration,
}

impl Default for PgOptions {
    fn default() -> Self {
        PgOptions {
            schema: None,
            lock_timeout: Duration::from_secs(5),
        }
    }
}

/// The schema, created inside the migration transaction. Every table is keyed by what the
/// ledger contract names: basis keys and replay keys whole, digests whole.
const CREATE_SCHEMA: &str = "
CREATE TABLE bases (
    key bytea PRIMARY KEY,
    state bytea NOT NULL
);
CREATE TABLE seen (
    key bytea PRIMARY KEY,
    forget_after bigint NOT NULL
);
CREATE INDEX seen_forget_after ON seen (forget_after);
CREATE TABLE statements (
    digest bytea PRIMARY KEY
);
CREATE TABLE first_seen (
    digest bytea PRIMARY KEY,
    at bigint NOT NULL
);
CREATE TABLE decisions (
    id bigserial PRIMARY KEY,
    at bigint NOT NULL,
    allowed boolean NOT NULL,
    record text NOT NULL
);
CREATE TABLE log_pending (
    seq bigserial PRIMARY KEY,
    entry bytea NOT NULL
);
CREATE TABLE log (
    idx bigint PRIMARY KEY,
    entry bytea NOT NULL,
    leaf bytea NOT NULL
);
CREATE TABLE log_head (
    one boolean PRIMARY KEY CHECK (one),
    size bigint NOT NULL,
    head bytea NOT NULL
);
";

/// The tables schema version 2 adds: the notification outbox (see [`Outbox`]). `outbox` holds
/// the notifications not yet acknowledged in queue order (`id`); `outbox_seq` the last number
/// given in each (emitter, recipient) stream, whose row lock serializes the nodes numbering in
/// one stream.
const OUTBOX_V2: &str = "
CREATE TABLE outbox (
    id bigserial PRIMARY KEY,
    emitter bytea NOT NULL,
    recipient bytea NOT NULL,
    seq bigint NOT NULL,
    bytes bytea NOT NULL,
    UNIQUE (emitter, recipient, seq)
);
CREATE TABLE outbox_seq (
    emitter bytea NOT NULL,
    recipient bytea NOT NULL,
    last bigint NOT NULL,
    PRIMARY KEY (emitter, recipient)
);
";

/// Locks a stream's counter row (made at 0 if missing) and returns its last number.
const LOCK_SEQ: &str = "
INSERT INTO outbox_seq (emitter, recipient, last) VALUES ($1, $2, 0)
ON CONFLICT (emitter, recipient) DO UPDATE SET last = outbox_seq.last
RETURNING last";

/// Sets a stream's last number and queues its notification.
const QUEUE: &str = "
WITH c AS (
    UPDATE outbox_seq SET last = $3 WHERE emitter = $1 AND recipient = $2
)
INSERT INTO outbox (emitter, recipient, seq, bytes) VALUES ($1, $2, $3, $4)";

/// The one read of a decision: records the first sighting if there is none (and returns it),
/// else returns the one kept; the basis state; whether the request id is remembered.
const OBSERVE: &str = "
WITH f AS (
    INSERT INTO first_seen (digest, at) VALUES ($1, $2)
    ON CONFLICT (digest) DO NOTHING
    RETURNING at
)
SELECT (SELECT at FROM f),
       (SELECT at FROM first_seen WHERE digest = $1),
       (SELECT state FROM bases WHERE key = $3),
       EXISTS (SELECT 1 FROM seen WHERE key = $4)";

/// Locks and reads what an allow's commit depends on: the request id, inserted or renewed if
/// it has expired (no row returned when it is remembered: a replay), and the basis row,
/// inserted with the default state or locked as it is, its latest committed state returned.
const LOCK_USE: &str = "
WITH s AS (
    INSERT INTO seen (key, forget_after) VALUES ($1, $2)
    ON CONFLICT (key) DO UPDATE SET forget_after = EXCLUDED.forget_after
        WHERE seen.forget_after < $3
    RETURNING 1
), b AS (
    INSERT INTO bases (key, state) VALUES ($4, $5)
    ON CONFLICT (key) DO UPDATE SET state = bases.state
    RETURNING state
)
SELECT (SELECT state FROM b), NOT EXISTS (SELECT 1 FROM s)";

/// Writes an allowed use: the new basis state, the receipt's entry queued for the log, and
/// request ids expired before the decision's time pruned (through the index, at most 1000,
/// skipping rows another transaction is pruning).
const WRITE_USE: &str = "
WITH b AS (
    UPDATE bases SET state = $2 WHERE key = $1
), p AS (
    INSERT INTO log_pending (entry) SELECT $3::bytea WHERE $3::bytea IS NOT NULL
), d AS (
    DELETE FROM seen WHERE key = ANY (ARRAY (
        SELECT key FROM seen WHERE forget_after < $4 AND key <> $5
        LIMIT 1000 FOR UPDATE SKIP LOCKED
    ))
)
SELECT 1";

/// Locks and reads what a statement depends on: its digest, inserted (no row returned when it
/// was already applied), and the basis row as in [`LOCK_USE`].
const LOCK_STATEMENT: &str = "
WITH s AS (
    INSERT INTO statements (digest) VALUES ($1)
    ON CONFLICT (digest) DO NOTHING
    RETURNING 1
), b AS (
    INSERT INTO bases (key, state) VALUES ($2, $3)
    ON CONFLICT (key) DO UPDATE SET state = bases.state
    RETURNING state
)
SELECT (SELECT state FROM b), NOT EXISTS (SELECT 1 FROM s)";

/// Writes an applied statement: the new basis state and the statement's queued log entry.
const WRITE_STATEMENT: &str = "
WITH b AS (
    UPDATE bases SET state = $2 WHERE key = $1
), p AS (
    INSERT INTO log_pending (entry) SELECT $3::bytea WHERE $3::bytea IS NOT NULL
)
SELECT 1";

/// Keeps a decision and queues its log entry, in one statement (one implicit transaction).
const DECISION: &str = "
WITH p AS (
    INSERT INTO log_pending (entry) SELECT $1::bytea WHERE $1::bytea IS NOT NULL
)
INSERT INTO decisions (at, allowed, record) VALUES ($2, $3, $4)";

/// The first sighting moved back to `at` if that is earlier.
const EXISTENCE: &str = "
INSERT INTO first_seen (digest, at) VALUES ($1, $2)
ON CONFLICT (digest) DO UPDATE SET at = LEAST(first_seen.at, EXCLUDED.at)
RETURNING at";

/// Moves every queued entry visible now into the log, in sequence order, after the last
/// index, with its RFC 9162 leaf hash. Run under the log's advisory lock.
const INTEGRATE: &str = "
WITH moved AS (
    DELETE FROM log_pending RETURNING seq, entry
), n AS (
    SELECT COALESCE(MAX(idx) + 1, 0) AS next FROM log
)
INSERT INTO log (idx, entry, leaf)
SELECT n.next + ROW_NUMBER() OVER (ORDER BY moved.seq) - 1,
       moved.entry,
       sha256('\\x00'::bytea || moved.entry)
FROM moved, n";

/// The log rows from an index on, in order.
const LOG_ROWS: &str = "SELECT idx, entry, leaf FROM log WHERE idx >= $1 ORDER BY idx";

/// One connection and its prepared statements.
struct Conn {
    client: Client,
    observe: Statement,
    lock_use: Statement,
    write_use: Statement,
    lock_statement: Statement,
    write_statement: Statement,
    decision: Statement,
    existence: Statement,
    integrate: Statement,
    log_rows: Statement,
}

impl Conn {
    fn open(config: &Config, session: &str) -> Result<Conn, postgres::Error> {
        let mut client = config.connect(NoTls)?;
        client.batch_execute(session)?;
        Conn::prepare(client)
    }

    fn prepare(mut client: Client) -> Result<Conn, postgres::Error> {
        Ok(Conn {
            observe: client.prepare(OBSERVE)?,
            lock_use: client.prepare(LOCK_USE)?,
            write_use: client.prepare(WRITE_USE)?,
            lock_statement: client.prepare(LOCK_STATEMENT)?,
            write_statement: client.prepare(WRITE_STATEMENT)?,
            decision: client.prepare(DECISION)?,
            existence: client.prepare(EXISTENCE)?,
            integrate: client.prepare(INTEGRATE)?,
            log_rows: client.prepare(LOG_ROWS)?,
            client,
        })
    }
}

/// Why an operation on a connection stopped.
enum Fail<R> {
    /// The driver failed: the connection is dropped.
    Db(postgres::Error),
    /// Stored state failed a check, or an argument was refused.
    Ledger(LedgerError),
    /// The stored log failed a check.
    Log(LogError),
    /// The ledger's rules refused the commit (the transaction was rolled back).
    Refused(R),
}

impl<R> From<LogError> for Fail<R> {
    fn from(e: LogError) -> Self {
        match e {
            LogError::Storage(e) => Fail::Ledger(e),
            other => Fail::Log(other),
        }
    }
}

impl<R> From<postgres::Error> for Fail<R> {
    fn from(e: postgres::Error) -> Self {
        Fail::Db(e)
    }
}

impl<R> From<LedgerError> for Fail<R> {
    fn from(e: LedgerError) -> Self {
        Fail::Ledger(e)
    }
}

/// A driver error as the ledger reports it, with the server's message and SQLSTATE if any.
fn unavailable(e: &postgres::Error) -> LedgerError {
    let message = if let Some(db) = e.as_db_error() {
        format!(
            "PostgreSQL: {}: {} (SQLSTATE {})",
            db.severity(),
            db.message(),
            db.code().code()
        )
    } else {
        let mut m = format!("PostgreSQL: {e}");
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            // Writing to a `String` cannot fail.
            let _ = write!(m, ": {s}");
            source = s.source();
        }
        m
    };
    LedgerError::Unavailable(message)
}

/// The pool: idle connections and how many are handed out, bounded by `max`.
struct Pool {
    idle: Vec<Conn>,
    out: usize,
}

/// What a node knows of the shared log: the tree of the integrated entries it has read, the
/// subject index of those entries, and the latest signed head.
struct LogView {
    cache: LogCache,
    by_subject: BTreeMap<PartyId, Vec<u64>>,
}

impl LogView {
    fn new() -> Self {
        LogView {
            cache: LogCache::new(),
            by_subject: BTreeMap::new(),
        }
    }

    /// Appends rows read from `log` (from the last known index on, to check it is unchanged).
    fn load(&mut self, rows: &[postgres::Row]) -> Result<(), LogError> {
        let size = self.cache.size();
        if size > 0 {
            let first: Option<i64> = rows
                .first()
                .map(|r| r.try_get(0))
                .transpose()
                .map_err(|e| unavailable(&e))?;
            if first != i64::try_from(size - 1).ok() {
                return Err(LedgerError::Corrupt(format!(
                    "log entry {} is missing: the log was truncated or rewritten",
                    size - 1
                ))
                .into());
            }
        }
        for row in rows {
            let index = read_index(row.try_get(0).map_err(|e| unavailable(&e))?)?;
            let entry: Vec<u8> = row.try_get(1).map_err(|e| unavailable(&e))?;
            let leaf: Vec<u8> = row.try_get(2).map_err(|e| unavailable(&e))?;
            if index < size {
                // The last entry already loaded: it must still be there, unchanged.
                check_leaf(index, &entry, &leaf)?;
                self.cache.check_entry(index, &entry)?;
                continue;
            }
            self.cache.load_row(index, &entry, &leaf)?;
            let subject = LogEntry::from_bytes(&entry)
                .map_err(|e| LedgerError::Corrupt(format!("log entry {index}: {e}")))?
                .subject();
            if let Some(subject) = subject {
                self.by_subject.entry(subject).or_default().push(index);
            }
        }
        Ok(())
    }
}

fn read_index(v: i64) -> Result<u64, LedgerError> {
    u64::try_from(v).map_err(|_| LedgerError::Corrupt(format!("a negative log index {v}")))
}

/// A time as stored: seconds since the epoch in a `bigint`; times past its range (year 292
/// billion) are kept as its largest value.
fn sql_time(t: Timestamp) -> i64 {
    i64::try_from(t.0).unwrap_or(i64::MAX)
}

fn read_time(v: i64) -> Result<Timestamp, LedgerError> {
    u64::try_from(v)
        .map(Timestamp)
        .map_err(|_| LedgerError::Corrupt(format!("a negative stored time {v}")))
}

/// Reads a sealed basis row.
fn read_state(key: &[u8], sealed: &[u8]) -> Result<BasisState, LedgerError> {
    BasisState::from_bytes(unseal(BASES, key, sealed)?)
}

fn sealed_state(key: &[u8], state: &BasisState) -> Vec<u8> {
    seal(BASES, key, &state.to_bytes())
}

/// Checks a log entry handed in by the verifier before it is queued: bytes that do not decode
/// are kept out of the log.
fn checked_entry(entry: Option<&[u8]>) -> Result<Option<&[u8]>, LedgerError> {
    if let Some(bytes) = entry {
        LogEntry::from_bytes(bytes)
            .map_err(|e| LedgerError::Corrupt(format!("log entry refused: {e}")))?;
    }
    Ok(entry)
}

/// The ledger and transfer log of a data provider in one PostgreSQL database, shared by its
/// gateway nodes: each node opens its own `PgStore` on the same database (and schema); one
/// `PgStore` is shared by the threads of a node.
///
/// Opening creates or migrates the schema (under an advisory lock, so nodes may start
/// together), refuses a schema written by a newer library ([`OpenError::SchemaTooNew`]), and
/// reads the whole transfer log, checking each entry against its leaf hash, the indices for
/// gaps, and the tree against the latest signed head.
///
/// Round trips to the server per call: [`Ledger::observe`] 3 (`BEGIN` with
/// `synchronous_commit` off, the read, `COMMIT`; 4 when a concurrent node records the same
/// first sighting at that instant), [`Ledger::record_use`] 4 (`BEGIN`, the locking read, the
/// write, `COMMIT`), [`Ledger::record_statement`] 4, [`Ledger::record_decision`] 1,
/// [`Ledger::record_existence`] 1: an allow costs 8 round trips and waits for two flushes of
/// the write-ahead log (the use, the decision kept), the sighting riding on them.
///
/// ```no_run
/// use consentry::store::postgres::PgStore;
/// let store = PgStore::connect("host=localhost user=consentry dbname=consentry", 8)?;
/// # Ok::<(), consentry::store::OpenError>(())
/// ```
pub struct PgStore {
    config: Config,
    /// Run on each new connection: `search_path`, `lock_timeout`.
    session: String,
    /// The key of the log's advisory lock (per schema).
    log_lock: i64,
    max: usize,
    pool: Mutex<Pool>,
    available: Condvar,
    log: Mutex<LogView>,
}

impl fmt::Debug for PgStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgStore")
            .field("session", &self.session)
            .field("connections", &self.max)
            .finish_non_exhaustive()
    }
}

/// The advisory lock serializing schema creation and migration, database-wide.
const SCHEMA_LOCK: i64 = 0x636f_6e73_656e_7401;

impl PgStore {
    /// Opens the store at `params`, a libpq-style connection string (`host=… port=… user=…
    /// password=… dbname=…`; TLS is not supported: use a local socket or a trusted network),
    /// with at most `connections` connections (at least 1), in the default schema.
    ///
    /// # Errors
    ///
    /// As [`PgStore::connect_with`].
    pub fn connect(params: &str, connections: usize) -> Result<Self, OpenError> {
        Self::connect_with(params, connections, &PgOptions::default())
    }

    /// Opens the store with [`PgOptions`] (a schema of its own, a lock timeout).
    ///
    /// # Errors
    ///
    /// [`OpenError::Ledger`] if the connection string or the schema name is invalid, the server
    /// cannot be reached, or the stored state fails a check; [`OpenError::SchemaTooNew`] if a newer
    /// version of this library wrote the schema; [`OpenError::Log`] if the stored log fails a
    /// check.
    pub fn connect_with(
        params: &str,
        connections: usize,
        options: &PgOptions,
    ) -> Result<Self, OpenError> {
        let mut config: Config = params.parse().map_err(|e| {
            LedgerError::Unavailable(format!("the PostgreSQL connection string: {e}"))
        })?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(5));
        }
        let mut session = String::new();
        let mut create = String::new();
        if let Some(schema) = &options.schema {
            let valid = !schema.is_empty()
                && schema.len() <= 63
                && !schema.starts_with(|c: char| c.is_ascii_digit())
                && schema
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
            if !valid {
                return Err(LedgerError::Unavailable(format!(
                    "schema name {schema:?}: use lower-case letters, digits and _ (at most 63)"
                ))
                .into());
            }
            create = format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\";");
            let _ = write!(session, "SET search_path TO \"{schema}\";");
        }
        let _ = write!(
            session,
            "SET lock_timeout = {};",
            options.lock_timeout.as_millis().clamp(1, i32::MAX as u128)
        );
        let lock_key = Digest::of_parts(&[
            b"consentry/log-lock/",
            options.schema.as_deref().unwrap_or("").as_bytes(),
        ]);
        let mut key = [0u8; 8];
        key.copy_from_slice(&lock_key.as_bytes()[..8]);
        let store = PgStore {
            config,
            session,
            log_lock: i64::from_be_bytes(key),
            max: connections.max(1),
            pool: Mutex::new(Pool {
                idle: Vec::new(),
                out: 0,
            }),
            available: Condvar::new(),
            log: Mutex::new(LogView::new()),
        };
        store.migrate(&create)?;
        store
            .run(|conn| store.refresh(conn, &mut store.log_view()))
            .map_err(|f| match f {
                Fail::Log(e) => OpenError::Log(e),
                // Only the log is read on connect: stored state that fails a check is its.
                Fail::Ledger(e @ LedgerError::Corrupt(_)) => OpenError::Log(LogError::Storage(e)),
                other => OpenError::Ledger(ledger_error(other)),
            })?;
        Ok(store)
    }

    /// Creates the schema, or checks its version, in one transaction under an advisory lock.
    fn migrate(&self, create_schema: &str) -> Result<(), OpenError> {
        let db = |e: postgres::Error| OpenError::Ledger(unavailable(&e));
        let mut client = self.config.connect(NoTls).map_err(db)?;
        let mut tx = client.transaction().map_err(db)?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&SCHEMA_LOCK])
            .map_err(db)?;
        tx.batch_execute(create_schema).map_err(db)?;
        tx.batch_execute(&self.session).map_err(db)?;
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS meta (name text PRIMARY KEY, value bigint NOT NULL)",
        )
        .map_err(db)?;
        let found: Option<i64> = tx
            .query_opt("SELECT value FROM meta WHERE name = 'schema_version'", &[])
            .map_err(db)?
            .map(|row| row.try_get(0))
            .transpose()
            .map_err(db)?;
        match found {
            None => {
                tx.batch_execute(CREATE_SCHEMA).map_err(db)?;
                tx.batch_execute(OUTBOX_V2).map_err(db)?;
                tx.execute(
                    "INSERT INTO meta (name, value) VALUES ('schema_version', $1)",
                    &[&i64::from(SCHEMA_VERSION)],
                )
                .map_err(db)?;
            }
            Some(1) => {
                tx.batch_execute(OUTBOX_V2).map_err(db)?;
                tx.execute(
                    "UPDATE meta SET value = 2 WHERE name = 'schema_version'",
                    &[],
                )
                .map_err(db)?;
            }
            Some(v) if v > i64::from(SCHEMA_VERSION) => {
                return Err(OpenError::SchemaTooNew {
                    found: u32::try_from(v).unwrap_or(u32::MAX),
                    supported: SCHEMA_VERSION,
                });
            }
            Some(v) if v < 1 => {
                return Err(LedgerError::Corrupt(format!("schema version {v}")).into());
            }
            // The current version.
            Some(_) => {}
        }
        tx.commit().map_err(db)?;
        Ok(())
    }

    fn log_view(&self) -> MutexGuard<'_, LogView> {
        // The view is changed only by appending checked rows; a panic in between leaves a
        // tree that is still a prefix of the log.
        self.log.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn pool(&self) -> MutexGuard<'_, Pool> {
        self.pool.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A connection: an idle one, or a new one if fewer than `max` are out, else waits.
    fn get(&self) -> Result<Conn, LedgerError> {
        let mut pool = self.pool();
        loop {
            if let Some(conn) = pool.idle.pop() {
                pool.out += 1;
                return Ok(conn);
            }
            if pool.out < self.max {
                pool.out += 1;
                drop(pool);
                return Conn::open(&self.config, &self.session).map_err(|e| {
                    self.release();
                    unavailable(&e)
                });
            }
            pool = self
                .available
                .wait(pool)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// Gives a connection back, or drops it if the operation failed in the driver (it may be
    /// broken or in the middle of a failed transaction): the next call makes a new one.
    fn put<T, R>(&self, conn: Conn, outcome: &Result<T, Fail<R>>) {
        let healthy = !matches!(outcome, Err(Fail::Db(_))) && !conn.client.is_closed();
        let mut pool = self.pool();
        pool.out -= 1;
        if healthy {
            pool.idle.push(conn);
        }
        drop(pool);
        self.available.notify_one();
    }

    fn release(&self) {
        self.pool().out -= 1;
        self.available.notify_one();
    }

    /// Runs `f` on a pooled connection.
    fn run<T, R>(&self, f: impl FnOnce(&mut Conn) -> Result<T, Fail<R>>) -> Result<T, Fail<R>> {
        let mut conn = self.get()?;
        let outcome = f(&mut conn);
        self.put(conn, &outcome);
        outcome
    }

    /// Moves the entries queued by committed decisions and statements into the log, giving
    /// them their indices, in one transaction under the log's advisory lock; returns how many
    /// were moved. Log reads and [`LogStore::sign_head`] do it first; a service may also call
    /// it on a timer so that receipts get their index soon after their allow.
    ///
    /// # Errors
    ///
    /// [`LedgerError::Unavailable`] if the database failed (the entries then stay queued).
    pub fn integrate(&self) -> Result<u64, LedgerError> {
        self.run(|conn| -> Result<u64, Fail<()>> {
            let mut tx = conn.client.transaction()?;
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&self.log_lock])?;
            let moved = tx.execute(&conn.integrate, &[])?;
            tx.commit()?;
            Ok(moved)
        })
        .map_err(ledger_error)
    }

    /// Within a transaction: takes the log's advisory lock, integrates the queue, then reads
    /// the log rows this node has not seen and the latest signed head into `view`, checking
    /// them (each row against its leaf hash and the indices, the tree against the head).
    fn sync(
        &self,
        tx: &mut postgres::Transaction<'_>,
        integrate: &Statement,
        log_rows: &Statement,
        view: &mut LogView,
    ) -> Result<(), Fail<()>> {
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&self.log_lock])?;
        tx.execute(integrate, &[])?;
        let from = view.cache.size().saturating_sub(1);
        let rows = tx.query(log_rows, &[&i64::try_from(from).unwrap_or(i64::MAX)])?;
        view.load(&rows)?;
        let head: Option<Vec<u8>> = tx
            .query_opt("SELECT head FROM log_head", &[])?
            .map(|row| row.try_get(0))
            .transpose()?;
        if let Some(head) = head {
            if view.cache.latest_head().as_ref() != Some(&head) {
                view.cache.load_head(head)?;
            }
        }
        Ok(())
    }

    /// Brings `view` up to date in one transaction.
    fn refresh(&self, conn: &mut Conn, view: &mut LogView) -> Result<(), Fail<()>> {
        let mut tx = conn.client.transaction()?;
        self.sync(&mut tx, &conn.integrate, &conn.log_rows, view)?;
        tx.commit()?;
        Ok(())
    }

    /// Runs `f` on the log view after bringing it up to date.
    fn with_log<T>(&self, f: impl FnOnce(&LogView) -> Result<T, LogError>) -> Result<T, LogError> {
        let mut view = self.log_view();
        self.run(|conn| self.refresh(conn, &mut view))
            .map_err(log_error)?;
        f(&view)
    }

    /// The lifecycle status of a basis ([`Status::Active`] if the store never saw it).
    ///
    /// # Errors
    ///
    /// [`LedgerError::Unavailable`] if the database failed, [`LedgerError::Corrupt`] if the stored
    /// state does not decode.
    pub fn status(&self, basis: &BasisKey) -> Result<Status, LedgerError> {
        let key = basis.to_bytes();
        self.run(|conn| -> Result<Status, Fail<()>> {
            let row = conn
                .client
                .query_opt("SELECT state FROM bases WHERE key = $1", &[&&key[..]])?;
            let state = match row {
                Some(row) => read_state(&key, &row.try_get::<_, Vec<u8>>(0)?)?,
                None => BasisState::default(),
            };
            Ok(state.status())
        })
        .map_err(ledger_error)
    }

    /// When the basis bytes with this digest were first seen, if ever.
    ///
    /// # Errors
    ///
    /// [`LedgerError::Unavailable`] if the database failed, [`LedgerError::Corrupt`] if the stored
    /// time is negative.
    pub fn first_seen(&self, basis_digest: &Digest) -> Result<Option<Timestamp>, LedgerError> {
        self.run(|conn| -> Result<Option<Timestamp>, Fail<()>> {
            let row = conn.client.query_opt(
                "SELECT at FROM first_seen WHERE digest = $1",
                &[&&basis_digest.as_bytes()[..]],
            )?;
            Ok(match row {
                Some(row) => Some(read_time(row.try_get(0)?)?),
                None => None,
            })
        })
        .map_err(ledger_error)
    }

    /// Number of decisions kept for the audit trail.
    ///
    /// # Errors
    ///
    /// [`LedgerError::Unavailable`] if the database failed.
    pub fn decision_count(&self) -> Result<u64, LedgerError> {
        self.run(|conn| -> Result<u64, Fail<()>> {
            let n: i64 = conn
                .client
                .query_one("SELECT count(*) FROM decisions", &[])?
                .try_get(0)?;
            Ok(u64::try_from(n).unwrap_or(0))
        })
        .map_err(ledger_error)
    }

    /// Number of request ids currently remembered.
    ///
    /// # Errors
    ///
    /// [`LedgerError::Unavailable`] if the database failed.
    pub fn remembered_requests(&self) -> Result<u64, LedgerError> {
        self.run(|conn| -> Result<u64, Fail<()>> {
            let n: i64 = conn
                .client
                .query_one("SELECT count(*) FROM seen", &[])?
                .try_get(0)?;
            Ok(u64::try_from(n).unwrap_or(0))
        })
        .map_err(ledger_error)
    }

    /// Deletes the request ids whose `forget_after` is before `now`, through the index on
    /// `forget_after`; returns how many. Every allow already prunes up to 1000 of them.
    ///
    /// # Errors
    ///
    /// [`LedgerError::Unavailable`] if the database failed.
    pub fn prune(&self, now: Timestamp) -> Result<u64, LedgerError> {
        self.run(|conn| -> Result<u64, Fail<()>> {
            Ok(conn.client.execute(
                "DELETE FROM seen WHERE forget_after < $1",
                &[&sql_time(now)],
            )?)
        })
        .map_err(ledger_error)
    }
}

fn ledger_error(f: Fail<()>) -> LedgerError {
    match f {
        Fail::Db(e) => unavailable(&e),
        Fail::Ledger(e) => e,
        Fail::Log(e) => LedgerError::Corrupt(e.to_string()),
        // Only commits are refused, and they do not come here.
        Fail::Refused(()) => LedgerError::Unavailable("refused".into()),
    }
}

fn log_error(f: Fail<()>) -> LogError {
    match f {
        Fail::Log(e) => e,
        other => LogError::Storage(ledger_error(other)),
    }
}

fn deletion_error(f: Fail<DeletionError>) -> DeletionError {
    match f {
        Fail::Refused(e) => e,
        Fail::Db(e) => DeletionError::Storage(unavailable(&e)),
        Fail::Ledger(e) => DeletionError::Storage(e),
        Fail::Log(e) => DeletionError::Storage(LedgerError::Corrupt(e.to_string())),
    }
}

fn commit_error<R>(f: Fail<R>) -> CommitError<R> {
    match f {
        Fail::Db(e) => CommitError::Storage(unavailable(&e)),
        Fail::Ledger(e) => CommitError::Storage(e),
        Fail::Log(e) => CommitError::Storage(LedgerError::Corrupt(e.to_string())),
        Fail::Refused(r) => CommitError::Refused(r),
    }
}

/// Numbers, signs and queues `notices` inside the transaction `tx`: each stream's counter row
/// is locked first, so concurrent nodes number one stream one after the other.
fn queue_notifications<R>(
    tx: &mut postgres::Transaction<'_>,
    notifier: &Notifier<'_>,
    notices: &Notices,
) -> Result<Vec<Queued>, Fail<R>> {
    let emitter = notifier.emitter;
    let mut queued = Vec::with_capacity(notices.recipients.len());
    for &recipient in &notices.recipients {
        let (e, r) = (&emitter.as_bytes()[..], &recipient.as_bytes()[..]);
        let last: i64 = tx.query_one(LOCK_SEQ, &[&e, &r])?.try_get(0)?;
        if last < 0 {
            return Err(
                LedgerError::Corrupt(format!("a negative notification counter ({last})")).into(),
            );
        }
        // As every outbox: a stream whose next number the column cannot hold is full.
        let next = last
            .checked_add(1)
            .ok_or_else(|| LedgerError::Unavailable("a notification stream is full".into()))?;
        let seq = next.unsigned_abs();
        let bytes = notifier.sign(recipient, seq, notices.issued_at, &notices.carried);
        tx.execute(QUEUE, &[&e, &r, &next, &bytes])?;
        queued.push(Queued {
            emitter,
            recipient,
            seq,
            bytes,
        });
    }
    Ok(queued)
}

fn party(bytes: &[u8]) -> Result<PartyId, LedgerError> {
    <[u8; 16]>::try_from(bytes)
        .map(PartyId::from_bytes)
        .map_err(|_| LedgerError::Corrupt("a party id in the outbox that is not 16 bytes".into()))
}

/// The store's outbox, in the database: counters and queue survive restarts and are shared by
/// the nodes.
impl Outbox for PgStore {
    fn enqueue(
        &self,
        notifier: &Notifier<'_>,
        notices: &Notices,
    ) -> Result<Vec<Queued>, LedgerError> {
        self.run(|conn| -> Result<Vec<Queued>, Fail<()>> {
            let mut tx = conn.client.transaction()?;
            let queued = queue_notifications(&mut tx, notifier, notices)?;
            tx.commit()?;
            Ok(queued)
        })
        .map_err(ledger_error)
    }

    fn pending(&self, limit: usize) -> Result<Vec<Queued>, LedgerError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.run(|conn| -> Result<Vec<Queued>, Fail<()>> {
            let rows = conn.client.query(
                "SELECT emitter, recipient, seq, bytes FROM outbox ORDER BY id LIMIT $1",
                &[&limit],
            )?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                let seq: i64 = row.try_get(2)?;
                out.push(Queued {
                    emitter: party(row.try_get(0)?)?,
                    recipient: party(row.try_get(1)?)?,
                    seq: u64::try_from(seq).map_err(|_| {
                        LedgerError::Corrupt("a negative notification number".into())
                    })?,
                    bytes: row.try_get(3)?,
                });
            }
            Ok(out)
        })
        .map_err(ledger_error)
    }

    fn acknowledge(
        &self,
        emitter: PartyId,
        recipient: PartyId,
        up_to: u64,
    ) -> Result<usize, LedgerError> {
        let up_to = i64::try_from(up_to).unwrap_or(i64::MAX);
        self.run(|conn| -> Result<usize, Fail<()>> {
            let n = conn.client.execute(
                "DELETE FROM outbox WHERE emitter = $1 AND recipient = $2 AND seq <= $3",
                &[&&emitter.as_bytes()[..], &&recipient.as_bytes()[..], &up_to],
            )?;
            Ok(usize::try_from(n).unwrap_or(usize::MAX))
        })
        .map_err(ledger_error)
    }

    fn last_seq(&self, emitter: PartyId, recipient: PartyId) -> Result<u64, LedgerError> {
        self.run(|conn| -> Result<u64, Fail<()>> {
            let row = conn.client.query_opt(
                "SELECT last FROM outbox_seq WHERE emitter = $1 AND recipient = $2",
                &[&&emitter.as_bytes()[..], &&recipient.as_bytes()[..]],
            )?;
            let last: i64 = match row {
                Some(row) => row.try_get(0)?,
                None => 0,
            };
            Ok(u64::try_from(last)
                .map_err(|_| LedgerError::Corrupt("a negative notification number".into()))?)
        })
        .map_err(ledger_error)
    }
}

impl NotifyingLedger for PgStore {
    fn record_statement_notifying(
        &self,
        r: &StatementRecord<'_>,
        notifier: &Notifier<'_>,
        notices: &Notices,
    ) -> Result<(Status, Vec<Queued>), CommitError<LifecycleRefusal>> {
        self.apply_statement(r, Some((notifier, notices)))
    }
}

impl PgStore {
    /// Applies a lifecycle statement in one transaction under the basis's row lock, with its
    /// log entry and, when `notify` is given, the notifications it queues.
    fn apply_statement(
        &self,
        r: &StatementRecord<'_>,
        notify: Option<(&Notifier<'_>, &Notices)>,
    ) -> Result<(Status, Vec<Queued>), CommitError<LifecycleRefusal>> {
        let entry = checked_entry(r.log_entry)?;
        let basis = r.basis.to_bytes();
        let fresh = sealed_state(&basis, &BasisState::default());
        self.run(
            |conn| -> Result<(Status, Vec<Queued>), Fail<LifecycleRefusal>> {
                let mut tx = conn.client.transaction()?;
                let row = tx.query_one(
                    &conn.lock_statement,
                    &[&&r.statement.as_bytes()[..], &&basis[..], &fresh],
                )?;
                let sealed: Vec<u8> = row.try_get(0)?;
                let already_applied: bool = row.try_get(1)?;
                let state = read_state(&basis, &sealed)?;
                let next = match state.apply(r, already_applied) {
                    Ok(next) => next,
                    Err(refusal) => {
                        tx.rollback()?;
                        return Err(Fail::Refused(refusal));
                    }
                };
                tx.execute(
                    &conn.write_statement,
                    &[&&basis[..], &sealed_state(&basis, &next), &entry],
                )?;
                let queued = match notify {
                    Some((notifier, notices)) => queue_notifications(&mut tx, notifier, notices)?,
                    None => Vec::new(),
                };
                tx.commit()?;
                Ok((next.status(), queued))
            },
        )
        .map_err(commit_error)
    }
}

impl Ledger for PgStore {
    fn observe(&self, o: &Observation) -> Result<Snapshot, LedgerError> {
        let basis = o.basis.to_bytes();
        let request = o.request.map(|r| r.to_bytes());
        self.run(|conn| -> Result<Snapshot, Fail<()>> {
            let digest = &o.basis_digest.as_bytes()[..];
            // The first sighting does not wait for its own flush: the decision's next commit
            // (the use, or the decision kept, both synchronous) comes later in the write-ahead
            // log and flushes it too, so a decision acted on never depends on a sighting that
            // could be lost; one lost with a decision that failed only makes a later sighting
            // the first, the stricter way for the rule on compromised keys. On any error the
            // connection is dropped, and the server rolls the transaction back.
            conn.client
                .batch_execute("BEGIN; SET LOCAL synchronous_commit TO off")?;
            let row = conn.client.query_one(
                &conn.observe,
                &[
                    &digest,
                    &sql_time(o.at),
                    &&basis[..],
                    &request.as_ref().map(|r| &r[..]),
                ],
            )?;
            let inserted: Option<i64> = row.try_get(0)?;
            let kept: Option<i64> = row.try_get(1)?;
            let state: Option<Vec<u8>> = row.try_get(2)?;
            let replayed: bool = row.try_get(3)?;
            let first_seen = match inserted.or(kept) {
                Some(at) => at,
                // Another node recorded it after this statement's snapshot was taken.
                None => conn
                    .client
                    .query_one("SELECT at FROM first_seen WHERE digest = $1", &[&digest])?
                    .try_get(0)?,
            };
            conn.client.batch_execute("COMMIT")?;
            let state = match state {
                Some(sealed) => read_state(&basis, &sealed)?,
                None => BasisState::default(),
            };
            Ok(Snapshot {
                status: state.status(),
                uses: o.window_start.map_or(0, |w| state.uses(w)),
                replayed,
                first_seen: read_time(first_seen)?,
            })
        })
        .map_err(ledger_error)
    }

    fn record_use(&self, r: &UseRecord<'_>) -> Result<(), CommitError<Vec<UseRefusal>>> {
        let entry = checked_entry(r.log_entry)?;
        let basis = r.basis.to_bytes();
        let request = r.request.to_bytes();
        let fresh = sealed_state(&basis, &BasisState::default());
        self.run(|conn| -> Result<(), Fail<Vec<UseRefusal>>> {
            let mut tx = conn.client.transaction()?;
            let row = tx.query_one(
                &conn.lock_use,
                &[
                    &&request[..],
                    &sql_time(r.forget_after),
                    &sql_time(r.at),
                    &&basis[..],
                    &fresh,
                ],
            )?;
            let sealed: Vec<u8> = row.try_get(0)?;
            let replayed: bool = row.try_get(1)?;
            let state = read_state(&basis, &sealed)?;
            let next = match state.check_use(replayed, r.window) {
                Ok(next) => next,
                Err(refusals) => {
                    tx.rollback()?;
                    return Err(Fail::Refused(refusals));
                }
            };
            tx.execute(
                &conn.write_use,
                &[
                    &&basis[..],
                    &sealed_state(&basis, &next),
                    &entry,
                    &sql_time(r.at),
                    &&request[..],
                ],
            )?;
            tx.commit()?;
            Ok(())
        })
        .map_err(commit_error)
    }

    fn record_statement(
        &self,
        r: &StatementRecord<'_>,
    ) -> Result<Status, CommitError<LifecycleRefusal>> {
        self.apply_statement(r, None).map(|(status, _)| status)
    }

    fn record_existence(
        &self,
        // First sightings are keyed by the digest of the signed bytes alone.
        _basis: BasisKey,
        basis_digest: Digest,
        at: Timestamp,
    ) -> Result<Timestamp, LedgerError> {
        self.run(|conn| -> Result<Timestamp, Fail<()>> {
            let at: i64 = conn
                .client
                .query_one(
                    &conn.existence,
                    &[&&basis_digest.as_bytes()[..], &sql_time(at)],
                )?
                .try_get(0)?;
            Ok(read_time(at)?)
        })
        .map_err(ledger_error)
    }

    fn record_decision(
        &self,
        record: DecisionRecord,
        log_entry: Option<&[u8]>,
    ) -> Result<(), LedgerError> {
        let entry = checked_entry(log_entry)?;
        let json = serde_json::to_string(&record)
            .map_err(|e| LedgerError::Unavailable(format!("encoding the decision: {e}")))?;
        self.run(|conn| -> Result<(), Fail<()>> {
            conn.client.execute(
                &conn.decision,
                &[&entry, &sql_time(record.at), &record.allowed, &json],
            )?;
            Ok(())
        })
        .map_err(ledger_error)
    }

    /// Under the log's advisory lock (so deletions are checked one at a time, across nodes):
    /// integrates the queued entries, reads the entries about the deletion's subject, checks
    /// the deletion against them, and queues and integrates its entry, in one transaction.
    /// Receipts still queued by another node's uncommitted transaction are not yet logged.
    fn record_deletion(&self, record: &DeletionRecord<'_>) -> Result<(), DeletionError> {
        let entry = crate::log::deletion_record_entry(record)?.to_bytes();
        let subject = record.deletion.subject;
        let mut view = self.log_view();
        self.run(|conn| -> Result<(), Fail<DeletionError>> {
            let mut tx = conn.client.transaction()?;
            self.sync(&mut tx, &conn.integrate, &conn.log_rows, &mut view)
                .map_err(|f| match f {
                    Fail::Db(e) => Fail::Db(e),
                    Fail::Ledger(e) => Fail::Ledger(e),
                    Fail::Log(e) => Fail::Log(e),
                    Fail::Refused(()) => Fail::Ledger(LedgerError::Unavailable("refused".into())),
                })?;
            let about: Vec<i64> = view
                .by_subject
                .get(&subject)
                .map_or(&[][..], Vec::as_slice)
                .iter()
                .map(|&i| i64::try_from(i).unwrap_or(i64::MAX))
                .collect();
            let rows = tx.query(
                "SELECT idx, entry FROM log WHERE idx = ANY($1) ORDER BY idx",
                &[&about],
            )?;
            let mut index = DeletionIndex::new();
            for row in rows {
                let i = read_index(row.try_get(0)?)?;
                let bytes: Vec<u8> = row.try_get(1)?;
                let logged = LogEntry::from_bytes(&bytes)
                    .map_err(|e| LedgerError::Corrupt(format!("log entry {i}: {e}")))?;
                let _ = index.observe(i, &logged, None);
            }
            if let Err(refusal) = index.check(record.deletion) {
                tx.rollback()?;
                return Err(Fail::Refused(refusal));
            }
            tx.execute("INSERT INTO log_pending (entry) VALUES ($1)", &[&entry])?;
            tx.execute(&conn.integrate, &[])?;
            tx.commit()?;
            Ok(())
        })
        .map_err(deletion_error)
    }
}

impl LogStore for PgStore {
    fn log_size(&self) -> Result<u64, LogError> {
        self.with_log(|v| Ok(v.cache.size()))
    }

    fn log_entry(&self, index: u64) -> Result<Vec<u8>, LogError> {
        let mut view = self.log_view();
        self.run(|conn| -> Result<Vec<u8>, Fail<()>> {
            self.refresh(conn, &mut view)?;
            let size = view.cache.size();
            if index >= size {
                return Err(Fail::Log(LogError::Proof(ProofError::IndexOutOfRange {
                    index,
                    size,
                })));
            }
            let row = conn
                .client
                .query_opt(
                    "SELECT entry, leaf FROM log WHERE idx = $1",
                    &[&i64::try_from(index).unwrap_or(i64::MAX)],
                )?
                .ok_or_else(|| LedgerError::Corrupt(format!("log entry {index} is missing")))?;
            let entry: Vec<u8> = row.try_get(0)?;
            let leaf: Vec<u8> = row.try_get(1)?;
            check_leaf(index, &entry, &leaf)?;
            view.cache.check_entry(index, &entry)?;
            Ok(entry)
        })
        .map_err(log_error)
    }

    fn log_root_at(&self, size: u64) -> Result<Digest, LogError> {
        self.with_log(|v| v.cache.root_at(size))
    }

    fn inclusion_proof(&self, index: u64, tree_size: u64) -> Result<InclusionProof, LogError> {
        self.with_log(|v| v.cache.inclusion_proof(index, tree_size))
    }

    fn consistency_proof(
        &self,
        old_size: u64,
        new_size: u64,
    ) -> Result<ConsistencyProof, LogError> {
        self.with_log(|v| v.cache.consistency_proof(old_size, new_size))
    }

    fn indices_about(&self, subject: &PartyId, tree_size: u64) -> Result<Vec<u64>, LogError> {
        self.with_log(|v| {
            let all = v.by_subject.get(subject).map_or(&[][..], Vec::as_slice);
            Ok(all[..all.partition_point(|&i| i < tree_size)].to_vec())
        })
    }

    fn sign_head(
        &self,
        key: &SigningKey,
        operator: PartyId,
        at: Timestamp,
    ) -> Result<Vec<u8>, LogError> {
        let mut view = self.log_view();
        let signed = self
            .run(|conn| -> Result<Vec<u8>, Fail<()>> {
                // Integrate, refresh, sign and store the head under the log's lock, so that no
                // other node integrates or signs in between.
                let mut tx = conn.client.transaction()?;
                self.sync(&mut tx, &conn.integrate, &conn.log_rows, &mut view)?;
                let head = view.cache.sign_head(key, operator, at)?;
                tx.execute(
                    "INSERT INTO log_head (one, size, head) VALUES (true, $1, $2)
                     ON CONFLICT (one) DO UPDATE SET size = EXCLUDED.size, head = EXCLUDED.head",
                    &[&i64::try_from(view.cache.size()).unwrap_or(i64::MAX), &head],
                )?;
                tx.commit()?;
                Ok(head)
            })
            .map_err(log_error)?;
        view.cache.keep_head(signed.clone())?;
        Ok(signed)
    }

    fn latest_head(&self) -> Result<Option<Vec<u8>>, LogError> {
        self.with_log(|v| Ok(v.cache.latest_head()))
    }
}
