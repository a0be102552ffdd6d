//! Ledger scale: real memory and lookup time of `InMemoryLedger` holding 10^6 and 10^7 grants.
//!
//! Not a criterion benchmark: it fills one ledger and prints its own figures, read from
//! `/proc/self/status` (`VmRSS`, `VmHWM`) before and after. Each grant enters the ledger the way
//! a real one does: observed once (`Ledger::observe`, which records its first sighting), then one
//! allowed use (`Ledger::record_use`) with a periodic quota; the clock moves one second per use
//! and request ids are forgotten 420 s after issue (the freshness window plus the skew
//! tolerance), so the replay set stays at its steady-state size (about 420 ids) while the
//! per-basis state grows.
//!
//! Run with `cargo bench --bench ledger_scale` (all sizes) or
//! `cargo bench --bench ledger_scale -- 1000000` (chosen sizes). Sizes run in increasing order
//! in one process; each gets a new ledger after the previous one is dropped, so `VmHWM` (the
//! process's peak) is reported together with the growth of `VmRSS`.

use consentry::directory::PartyId;
use consentry::ids::{BasisId, BasisKey, BasisKind, ReplayKey, RequestId};
use consentry::ledger::{InMemoryLedger, Ledger, Observation, Status, UsageWindow, UseRecord};
use consentry::{Digest, Timestamp};
use ring::signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey};
use std::hint::black_box;
use std::time::Instant;

/// `VmRSS` and `VmHWM` in KiB.
fn memory() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn spread(i: u64) -> [u8; 16] {
    let mut b = [0u8; 16];
    b[..8].copy_from_slice(&i.wrapping_mul(0x9e37_79b9_7f4a_7c15).to_be_bytes());
    b[8..].copy_from_slice(&i.to_be_bytes());
    b
}

/// Grant `i`, of subject `i`.
fn basis(i: u64) -> BasisKey {
    consentry::danger::basis_key(
        BasisKind::Grant,
        PartyId::from_bytes(spread(!i)),
        BasisId::from_bytes(spread(i)),
    )
}

/// The signed bytes' digest of grant `i`.
fn digest(i: u64) -> Digest {
    Digest::of(&i.to_be_bytes())
}

fn request(i: u64) -> ReplayKey {
    let mut b = [0xffu8; 16];
    b[8..].copy_from_slice(&i.to_be_bytes());
    consentry::danger::replay_key(PartyId::from_bytes([1; 16]), RequestId::from_bytes(b))
}

fn observation(i: u64, at: u64) -> Observation {
    Observation {
        basis: basis(i),
        basis_digest: digest(i),
        request: Some(request(at)),
        window_start: Some(Timestamp::from_secs(START)),
        at: Timestamp::from_secs(at),
    }
}

const START: u64 = 1_756_684_800;
const PERIOD: u64 = 30 * 86_400;

fn use_record(i: u64, at: u64) -> UseRecord<'static> {
    UseRecord {
        basis: basis(i),
        request: request(at),
        forget_after: Timestamp::from_secs(at + 420),
        window: Some(UsageWindow {
            start: Timestamp::from_secs(START),
            end: Timestamp::from_secs(START + PERIOD),
            max_uses: 1_000,
        }),
        at: Timestamp::from_secs(at),
        log_entry: None,
    }
}

/// Mean nanoseconds per call of `f` over `n` calls.
fn time_per(n: u64, mut f: impl FnMut(u64)) -> f64 {
    let start = Instant::now();
    for i in 0..n {
        f(i);
    }
    start.elapsed().as_nanos() as f64 / n as f64
}

fn xorshift(x: &mut u64) -> u64 {
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    *x
}

/// One raw ring Ed25519 verification of a 243-byte message (the grant's `Sig_structure`
/// length), the reference of the other benchmarks.
fn ref_verify_ns() -> f64 {
    let pair = Ed25519KeyPair::from_seed_unchecked(&[42; 32]).expect("a 32-byte seed");
    let message = vec![7u8; 243];
    let sig = pair.sign(&message);
    let public = pair.public_key().as_ref().to_vec();
    let key = UnparsedPublicKey::new(&ED25519, &public);
    time_per(20_000, |_| {
        black_box(key.verify(black_box(&message), sig.as_ref()).is_ok());
    })
}

fn main() {
    let sizes: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let sizes = if sizes.is_empty() {
        vec![1_000_000, 10_000_000]
    } else {
        sizes
    };
    let reference = ref_verify_ns();
    println!("ledger_scale: InMemoryLedger, one allowed use per grant");
    println!("reference: one raw ring Ed25519 verify = {reference:.0} ns");
    println!();
    println!(
        "| grants | fill s | RSS before MiB | RSS after MiB | RSS growth MiB | bytes/grant | VmHWM MiB | observe ns | record_use ns | observe / ref verify |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for n in sizes {
        let (rss0, _) = memory();
        let ledger = InMemoryLedger::new();
        let start = Instant::now();
        for i in 0..n {
            let at = START + i;
            if ledger.observe(&observation(i, at)).is_err()
                || ledger.record_use(&use_record(i, at)).is_err()
            {
                panic!("use {i} refused");
            }
        }
        let fill = start.elapsed().as_secs_f64();
        let (rss1, hwm) = memory();
        assert!(ledger.remembered_requests() <= 422);
        let lookups = 1_000_000;
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let now = START + n;
        let observe_ns = time_per(lookups, |k| {
            let o = observation(xorshift(&mut x) % n, now + k);
            let _ = black_box(ledger.observe(&o).map(|s| s.status == Status::Active));
        });
        // A second use of an existing grant, as a decision's commit point does.
        let record_ns = time_per(lookups, |k| {
            let i = xorshift(&mut x) % n;
            black_box(ledger.record_use(&use_record(i, now + k)).is_ok());
        });
        let growth = rss1.saturating_sub(rss0);
        println!(
            "| {n} | {fill:.1} | {:.0} | {:.0} | {:.0} | {:.0} | {:.0} | {observe_ns:.0} | {record_ns:.0} | {:.3} |",
            rss0 as f64 / 1024.0,
            rss1 as f64 / 1024.0,
            growth as f64 / 1024.0,
            growth as f64 * 1024.0 / n as f64,
            hwm as f64 / 1024.0,
            observe_ns / reference,
        );
        drop(ledger);
    }
}
