//! Decisions per second on the PostgreSQL store, with concurrent requesters, as a ratio to the
//! in-memory ledger measured in the same run: `THREADS` threads each decide fresh grants
//! (every request on its own newly signed one-time grant, signed before timing; the verifier
//! signs and logs receipts), on
//!
//! - the in-memory ledger (one process),
//! - one node: a `PgStore` of `THREADS` connections in this process,
//! - four nodes: four processes (this binary re-run as children), each a `PgStore` with
//!   `THREADS` threads, all on the same schema, started together; the rate is every child's
//!   decisions over the time from the common start to the last child's end.
//!
//! The database server runs on the same machine. Paired rounds: each round runs one batch of
//! every configuration, in an order that rotates, and the ratios are taken per round; medians
//! over rounds are reported, so that load drifting on a shared machine cancels out.
//!
//! Run with `CONSENTRY_PG=… cargo bench --features postgres --bench stores_pg`
//! (`CONSENTRY_PG_BENCH_ROUNDS`, default 7).

// The grant the store tests use, signed the same way.
#[allow(dead_code)]
#[path = "../tests/support/store.rs"]
mod support;

use consentry::decision::{Basis, Receipts, Verifier};
use consentry::ledger::{InMemoryLedger, Ledger};
use consentry::store::postgres::{PgOptions, PgStore};
use consentry::terms::AccessPattern;
use consentry::testing::Scenario;
use std::process::{Command, Stdio};
use std::sync::Barrier;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use uuid::Uuid;

/// Concurrent requester threads per process.
const THREADS: usize = 8;
/// Decisions per thread per batch.
const PER_THREAD: usize = 64;
/// Processes of the multi-node configuration.
const NODES: usize = 4;

/// Inputs of one batch: per thread, (request, grant) pairs, all signed, every grant new.
type Work = Vec<Vec<(Vec<u8>, Vec<u8>)>>;

/// A grant id unique per process and call.
fn next_id() -> Uuid {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    Uuid::from_u64_pair(
        (u64::from(std::process::id()) << 32) | u64::from(nanos),
        NEXT.fetch_add(1, Ordering::Relaxed),
    )
}

/// Signs the inputs of one batch (untimed).
fn prepare(s: &Scenario) -> Work {
    (0..THREADS)
        .map(|_| {
            (0..PER_THREAD)
                .map(|_| {
                    let grant = support::grant_with(s, next_id(), AccessPattern::one_time());
                    let mut request = s.request(&grant);
                    request = request
                        .to_builder()
                        .id(consentry::ids::RequestId(next_id()))
                        .build()
                        .expect("valid request");
                    (s.sign_request(&request), grant)
                })
                .collect()
        })
        .collect()
}

/// Decides a batch with `THREADS` threads; returns the seconds it took. Every decision must be
/// an allow.
fn run<L: Ledger>(s: &Scenario, ledger: &L, work: &Work) -> f64 {
    let key = s.key(s.dgfip);
    let ids = || next_id();
    let verifier = Verifier::new(s.verifier_provider, &s.directory, &s.ceilings, ledger)
        .with_receipts(Receipts { key, ids: &ids });
    let now = s.now;
    let barrier = Barrier::new(THREADS + 1);
    std::thread::scope(|scope| {
        let handles: Vec<_> = work
            .iter()
            .map(|pairs| {
                let (verifier, barrier) = (&verifier, &barrier);
                scope.spawn(move || {
                    barrier.wait();
                    for (request, grant) in pairs {
                        let d = verifier.decide(request, Basis::Signed(grant), now);
                        assert!(d.is_allow(), "a fresh grant denied: {:?}", d.codes());
                    }
                })
            })
            .collect();
        barrier.wait();
        let start = Instant::now();
        for h in handles {
            h.join().expect("a requester thread");
        }
        start.elapsed().as_secs_f64()
    })
}

fn epoch_micros() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros())
}

/// A child node: prepares its batch and connects, waits for the common start, decides, prints
/// `DONE <decisions> <end in µs since the epoch>`.
fn child(params: &str) {
    let var = |name: &str| std::env::var(name).unwrap_or_else(|_| panic!("{name} unset"));
    let start_at: u128 = var("CONSENTRY_PG_BENCH_START").parse().expect("start");
    let options = PgOptions {
        schema: Some(var("CONSENTRY_PG_BENCH_SCHEMA")),
        ..PgOptions::default()
    };
    let s = Scenario::canteen();
    let work = prepare(&s);
    let store = PgStore::connect_with(params, THREADS, &options).expect("connect");
    let now = epoch_micros();
    assert!(now < start_at, "the child was not ready in time");
    std::thread::sleep(Duration::from_micros((start_at - now) as u64));
    run(&s, &store, &work);
    println!("DONE {} {}", THREADS * PER_THREAD, epoch_micros());
}

/// Runs `NODES` child processes started together; returns decisions per second.
fn nodes(params: &str, schema: &str) -> f64 {
    let exe = std::env::current_exe().expect("the bench binary");
    let start_at = epoch_micros() + 2_500_000;
    let children: Vec<_> = (0..NODES)
        .map(|_| {
            Command::new(&exe)
                .env("CONSENTRY_PG_BENCH_CHILD", params)
                .env("CONSENTRY_PG_BENCH_SCHEMA", schema)
                .env("CONSENTRY_PG_BENCH_START", start_at.to_string())
                .stdout(Stdio::piped())
                .spawn()
                .expect("a child node")
        })
        .collect();
    let (mut total, mut end) = (0u128, 0u128);
    for child in children {
        let out = child.wait_with_output().expect("child output");
        assert!(out.status.success(), "a child node failed");
        let text = String::from_utf8_lossy(&out.stdout);
        let line = text
            .lines()
            .find_map(|l| l.strip_prefix("DONE "))
            .expect("a DONE line");
        let mut parts = line
            .split(' ')
            .map(|p| p.parse::<u128>().expect("a number"));
        total += parts.next().expect("decisions");
        end = end.max(parts.next().expect("end"));
    }
    total as f64 / ((end - start_at) as f64 / 1e6)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    if let Ok(params) = std::env::var("CONSENTRY_PG_BENCH_CHILD") {
        return child(&params);
    }
    // `cargo bench` passes `--bench`; a test run of the benches only checks that it starts.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let Ok(params) = std::env::var("CONSENTRY_PG") else {
        eprintln!(
            "CONSENTRY_PG is not set: start PostgreSQL (e.g. `bash .ci/postgres.sh` sets one \
             up) and set CONSENTRY_PG=\"host=localhost user=consentry password=consentry \
             dbname=consentry\""
        );
        std::process::exit(2);
    };
    let rounds: usize = std::env::var("CONSENTRY_PG_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(7);
    let schema = format!("bench_{}", std::process::id());
    let options = PgOptions {
        schema: Some(schema.clone()),
        ..PgOptions::default()
    };
    let store = PgStore::connect_with(&params, THREADS, &options).expect("connect");
    let s = Scenario::canteen();
    let n = (THREADS * PER_THREAD) as f64;
    let (mut mem, mut one, mut four) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds {
        let memory = InMemoryLedger::new();
        let mut results = [0.0; 3];
        for k in 0..3 {
            let which = (k + round) % 3;
            results[which] = match which {
                0 => n / run(&s, &memory, &prepare(&s)),
                1 => n / run(&s, &store, &prepare(&s)),
                _ => nodes(&params, &schema),
            };
        }
        eprintln!(
            "round {round}: in-memory {:.0}/s, 1 node {:.0}/s, {NODES} nodes {:.0}/s",
            results[0], results[1], results[2]
        );
        mem.push(results[0]);
        one.push(results[1]);
        four.push(results[2]);
    }
    let ratio = |v: &[f64]| median(v.iter().zip(&mem).map(|(x, m)| x / m).collect());
    println!(
        "fresh-grant decisions/s, {THREADS} requester threads per process, median of {rounds} paired rounds"
    );
    println!("| ledger | decisions/s | ratio to in-memory |");
    println!("| --- | ---: | ---: |");
    println!("| in-memory (1 process) | {:.0} | 1 |", median(mem.clone()));
    println!(
        "| PostgreSQL, 1 node | {:.0} | {:.2} |",
        median(one.clone()),
        ratio(&one)
    );
    println!(
        "| PostgreSQL, {NODES} nodes (processes) | {:.0} | {:.2} |",
        median(four.clone()),
        ratio(&four)
    );
    drop(store);
    if let Ok(mut c) = postgres::Client::connect(&params, postgres::NoTls) {
        let _ = c.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"));
    }
}
