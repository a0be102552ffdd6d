//! Decisions per second on each ledger store, with concurrent requesters: `THREADS` threads
//! each decide fresh grants (every request on its own newly signed one-time grant, signed
//! before timing; the verifier signs and logs receipts), on the in-memory ledger and on the
//! SQLite store (WAL, `synchronous=FULL`, group commit) in the same run.
//!
//! Paired as in `benches/paired.rs`: each round runs one batch on every configuration, in an
//! order that rotates from round to round, and the ratios are taken per round; medians over
//! rounds are reported, so that load drifting on a shared machine cancels out.
//!
//! The durable log append's share of a decision is read from the same rounds: the SQLite store
//! with and without receipts differ by the receipt's signature and its durable append, the
//! in-memory ledger with and without receipts by the signature and an in-memory append; the
//! difference of the two differences is the durable append.
//!
//! Run with `cargo bench --features sqlite --bench stores` (`CONSENTRY_STORE_ROUNDS`, default
//! 31; the files go to `CONSENTRY_BENCH_DIR`, default the temporary directory: its disk's
//! flush latency bounds the SQLite rows). A store for several nodes adds a row with
//! [`Config`]: any `&dyn Ledger` fits.

// The grant the store tests use, signed the same way.
#[allow(dead_code)]
#[path = "../tests/support/store.rs"]
mod support;

use consentry::decision::{Basis, Receipts, Verifier};
use consentry::ledger::{InMemoryLedger, Ledger};
use consentry::store::sqlite::SqliteStore;
use consentry::terms::AccessPattern;
use consentry::testing::Scenario;
use std::path::PathBuf;
use std::sync::Barrier;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;
use uuid::Uuid;

/// Concurrent requester threads.
const THREADS: usize = 8;
/// Decisions per thread per batch.
const PER_THREAD: usize = 48;

/// One ledger to measure.
struct Config<'a> {
    name: &'static str,
    ledger: &'a dyn Ledger,
    receipts: bool,
}

/// Inputs of one batch: per thread, (request, grant) pairs, all signed, every grant new.
type Work = Vec<Vec<(Vec<u8>, Vec<u8>)>>;

/// A unique grant id per process run and call, so that a store reused across runs (it is not,
/// but a second bench row might share one) never sees a grant again.
fn next_id() -> Uuid {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    Uuid::from_u64_pair(
        u64::from(std::process::id()),
        NEXT.fetch_add(1, Ordering::Relaxed),
    )
}

/// Signs the inputs of one batch, in parallel (untimed).
fn prepare(s: &Scenario) -> Work {
    let grants: Vec<Vec<u8>> = (0..THREADS * PER_THREAD)
        .map(|_| support::grant_with(s, next_id(), AccessPattern::one_time()))
        .collect();
    grants
        .chunks(PER_THREAD)
        .map(|chunk| {
            chunk
                .iter()
                .map(|g| {
                    let mut r = s.request(g);
                    r = r
                        .to_builder()
                        .id(consentry::ids::RequestId(next_id()))
                        .build()
                        .expect("valid request");
                    (s.sign_request(&r), g.clone())
                })
                .collect()
        })
        .collect()
}

/// Runs one batch on `config` with `THREADS` threads started together; returns decisions/s.
fn run(s: &Scenario, config: &Config<'_>, work: &Work) -> f64 {
    let ids = AtomicU64::new(0);
    let ids = move || Uuid::from_u64_pair(1, ids.fetch_add(1, Ordering::Relaxed));
    let key = s.key(s.dgfip);
    let (provider, directory, ceilings, now) =
        (s.verifier_provider, &s.directory, &s.ceilings, s.now);
    let barrier = Barrier::new(THREADS + 1);
    let start = std::thread::scope(|scope| {
        for inputs in work {
            let (barrier, ids) = (&barrier, &ids);
            scope.spawn(move || {
                let mut v = Verifier::new(provider, directory, ceilings, config.ledger);
                if config.receipts {
                    v = v.with_receipts(Receipts { key, ids });
                }
                barrier.wait();
                for (request, grant) in inputs {
                    let d = v.decide(request, Basis::Signed(grant), now);
                    assert!(d.is_allow(), "{}: {:?}", config.name, d.codes());
                }
            });
        }
        barrier.wait();
        // Timed from here until the scope has joined every thread.
        Instant::now()
    });
    let seconds = start.elapsed().as_secs_f64();
    (THREADS * PER_THREAD) as f64 / seconds
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// A fresh database file in the temporary directory, removed with its WAL when dropped.
struct TempDb(PathBuf);

impl Drop for TempDb {
    fn drop(&mut self) {
        for end in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{end}", self.0.display()));
        }
    }
}

fn temp_db(name: &str) -> TempDb {
    let dir =
        std::env::var_os("CONSENTRY_BENCH_DIR").map_or_else(std::env::temp_dir, PathBuf::from);
    let db = TempDb(dir.join(format!("consentry-bench-{name}-{}.db", std::process::id())));
    drop(TempDb(db.0.clone()));
    db
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else to parse.
    let rounds: usize = std::env::var("CONSENTRY_STORE_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(31);
    let s = Scenario::canteen();
    let (db, db_plain) = (temp_db("receipts"), temp_db("plain"));
    let memory = InMemoryLedger::new();
    let memory_plain = InMemoryLedger::new();
    let sqlite = SqliteStore::open(&db.0).expect("open");
    let sqlite_plain = SqliteStore::open(&db_plain.0).expect("open");
    let configs = [
        Config {
            name: "in-memory",
            ledger: &memory,
            receipts: true,
        },
        Config {
            name: "SQLite",
            ledger: &sqlite,
            receipts: true,
        },
        Config {
            name: "in-memory, no receipts",
            ledger: &memory_plain,
            receipts: false,
        },
        Config {
            name: "SQLite, no receipts",
            ledger: &sqlite_plain,
            receipts: false,
        },
    ];
    let mut rates: Vec<Vec<f64>> = vec![Vec::new(); configs.len()];
    for round in 0..=rounds {
        let mut results = vec![0.0; configs.len()];
        for k in 0..configs.len() {
            // Rotate the order, so that no configuration always runs first or after another.
            let i = (k + round) % configs.len();
            let work = prepare(&s);
            results[i] = run(&s, &configs[i], &work);
        }
        if round > 0 {
            // Round 0 warms up.
            for (r, x) in rates.iter_mut().zip(results) {
                r.push(x);
            }
        }
    }
    let reference = &rates[0];
    println!(
        "\n{THREADS} threads, fresh one-time grants, {rounds} rounds of {} decisions per \
         configuration, medians\n",
        THREADS * PER_THREAD
    );
    println!(
        "| store | decisions/s | µs per decision | ÷ in-memory (per-round ratio) |\n|---|---|---|---|"
    );
    for (config, r) in configs.iter().zip(&rates) {
        let ratio = median(r.iter().zip(reference).map(|(x, m)| x / m).collect());
        let rate = median(r.clone());
        println!(
            "| {} | {:.0} | {:.1} | {:.3} |",
            config.name,
            rate,
            1e6 / rate,
            ratio
        );
    }
    // Receipts on ÷ off, per round: the signature and the append, in memory and durable.
    let on_off = |on: usize, off: usize| {
        median(
            rates[on]
                .iter()
                .zip(&rates[off])
                .map(|(a, b)| a / b)
                .collect(),
        )
    };
    println!(
        "
receipts on ÷ off (decisions/s): in-memory {:.3} (signature, in-memory append), \
         SQLite {:.3} (signature, durable append)",
        on_off(0, 2),
        on_off(1, 3)
    );
    // (SQLite on − off) − (memory on − off), in median time per decision: the durable append
    // net of the signature, over an SQLite decision.
    let t = |k: usize| 1.0 / median(rates[k].clone());
    println!(
        "durable log append, net of the signature: {:+.1}% of an SQLite decision",
        100.0 * ((t(1) - t(3)) - (t(0) - t(2))) / t(1)
    );
}
