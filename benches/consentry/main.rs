//! The library's benchmarks. Every group also measures two references in the same run, so that
//! results are read as ratios on a shared machine:
//!
//! - `ref_verify`: one raw `ring` Ed25519 verification of the grant's exact `Sig_structure`
//!   (a message of the same size, and the same signature, see `fixture::RawReference`);
//! - `ref_sign`: one raw `ring` Ed25519 signature of that message with the grant signer's key.
//!
//! Run with `cargo bench --bench consentry`, then `python3 benches/report.py` for the ratio
//! table. See `docs/performance.md`.

mod fixture;

use consentry::decision::Basis;
use consentry::grant::Grant;
use consentry::log::{MerkleTree, leaf_hash, verify_inclusion};
use consentry::signed::{SignedPayload, Verified};
use consentry::statement::{Action, Statement};
use consentry::{Digest, SigningKey};
use criterion::{BatchSize, BenchmarkGroup, Criterion, criterion_group, criterion_main};
use fixture::{Fixture, RawReference};
use std::hint::black_box;
use std::time::Duration;

/// Adds the two references to a group.
fn add_references(r: &RawReference, g: &mut BenchmarkGroup<'_, criterion::measurement::WallTime>) {
    g.bench_function("ref_verify", |b| b.iter(|| black_box(r).verify()));
    g.bench_function("ref_sign", |b| b.iter(|| black_box(r).sign()));
}

fn configure<'a>(
    c: &'a mut Criterion,
    name: &str,
) -> BenchmarkGroup<'a, criterion::measurement::WallTime> {
    let mut g = c.benchmark_group(name);
    g.warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(30);
    g
}

/// Issue, decode + verify, grant check.
fn grant(c: &mut Criterion) {
    let f = Fixture::new();
    let reference = RawReference::of(&f);
    let mut g = configure(c, "grant");
    add_references(&reference, &mut g);
    let key: &SigningKey = f.s.key(f.s.parent);
    // Issue: build the grant (with its ceiling check) and sign it.
    g.bench_function("issue", |b| {
        b.iter(|| {
            let grant = fixture::grant(black_box(&f.s));
            grant.sign(key)
        })
    });
    // Sign only (the grant already built).
    g.bench_function("sign_only", |b| b.iter(|| black_box(&f.grant).sign(key)));
    g.bench_function("parse_and_verify", |b| {
        b.iter(|| {
            Verified::<Grant>::parse_and_verify(black_box(&f.grant_bytes), &f.s.directory).is_ok()
        })
    });
    g.bench_function("check", |b| b.iter(|| black_box(&f).check().is_ok()));
    // The same with the aws-lc-rs provider, and its raw verification of the same message.
    #[cfg(feature = "aws-lc-rs")]
    {
        let aws = &consentry::crypto::AWS_LC_RS;
        g.bench_function("ref_verify_aws_lc_rs", |b| {
            b.iter(|| black_box(&reference).verify_with(aws))
        });
        g.bench_function("check_aws_lc_rs", |b| {
            b.iter(|| black_box(&f).check_with(aws).is_ok())
        });
    }
    // The rules alone, on an already-verified grant.
    let verified = f.check().expect("allowed");
    g.bench_function("rules_only", |b| {
        b.iter(|| {
            fixture::check_rules(&f.s, &f.s.ledger, black_box(&verified), &f.request, f.s.now)
                .is_ok()
        })
    });
    g.finish();
}

/// Full decisions: a fresh grant (two signature checks) and a cached one (one).
fn decision(c: &mut Criterion) {
    let f = Fixture::new();
    let reference = RawReference::of(&f);
    let cached = f.s.verifier().verify_grant(&f.grant_bytes).expect("valid");
    let mut g = configure(c, "decision");
    add_references(&reference, &mut g);
    // Every iteration uses a freshly signed request (signing is in the untimed setup). The
    // ledger remembers each request id for the 300 s freshness window, which the fixed clock
    // never leaves, and keeps each decision record: both grow by one entry per iteration
    // (a few tens of thousands in a run), drained here every 4096 decisions.
    let counter = std::cell::Cell::new(0u32);
    let setup = || {
        let n = counter.get().wrapping_add(1);
        counter.set(n);
        if n % 4096 == 0 {
            drop(f.s.ledger.take_decisions());
        }
        f.s.sign_request(&f.fresh_request())
    };
    // The raw verification of each fresh request's exact Sig_structure, with the same untimed
    // setup (a signature) before each batch, so that it runs under the same cache conditions as
    // the decisions below: the floor of a decision's request check.
    let mairie = *f.s.key(f.s.mairie).verifying_key().as_bytes();
    g.bench_function("ref_verify_request", |b| {
        b.iter_batched(
            || {
                let req = setup();
                let env = consentry::cose::Envelope::parse(&req).expect("a request");
                let message = consentry::cose::sig_structure(env.protected(), env.payload());
                let signature = req[req.len() - 64..].to_vec();
                (message, signature)
            },
            |(message, signature)| {
                ring::signature::UnparsedPublicKey::new(&ring::signature::ED25519, &mairie)
                    .verify(&message, &signature)
                    .is_ok()
            },
            BatchSize::SmallInput,
        )
    });
    g.bench_function("fresh_grant", |b| {
        b.iter_batched(
            setup,
            |req| {
                let d =
                    f.s.verifier()
                        .decide(&req, Basis::Signed(&f.grant_bytes), f.s.now);
                debug_assert!(d.is_allow());
                d
            },
            BatchSize::SmallInput,
        )
    });
    g.bench_function("cached_grant", |b| {
        b.iter_batched(
            setup,
            |req| {
                let d = f.s.verifier().decide(&req, Basis::Grant(&cached), f.s.now);
                debug_assert!(d.is_allow());
                d
            },
            BatchSize::SmallInput,
        )
    });
    assert!(f.decide_signed(&f.s.sign_request(&f.fresh_request())));
    g.finish();
}

/// Throughput: a queue of 64 fresh requests with the grant's bytes, decided by
/// `Verifier::decide_batch` on one thread and on two. Read per decision (the time divided by
/// 64) against `ref_verify`; decisions per second per core are 64 / (time × threads).
fn batch(c: &mut Criterion) {
    const QUEUE: usize = 64;
    let f = Fixture::new();
    let reference = RawReference::of(&f);
    let mut g = configure(c, "batch");
    add_references(&reference, &mut g);
    let counter = std::cell::Cell::new(0u32);
    let setup = || {
        let n = counter.get().wrapping_add(1);
        counter.set(n);
        if n % 64 == 0 {
            drop(f.s.ledger.take_decisions());
        }
        (0..QUEUE)
            .map(|_| f.s.sign_request(&f.fresh_request()))
            .collect::<Vec<_>>()
    };
    for threads in [1, 2] {
        let n = std::num::NonZeroUsize::new(threads).expect("not zero");
        g.bench_function(format!("queue_of_64_on_{threads}_threads"), |b| {
            b.iter_batched(
                setup,
                |requests| {
                    let queue: Vec<(&[u8], Basis<'_>)> = requests
                        .iter()
                        .map(|r| (&r[..], Basis::Signed(&f.grant_bytes)))
                        .collect();
                    let decisions = f.s.verifier().decide_batch(&queue, f.s.now, n);
                    debug_assert!(decisions.iter().all(consentry::Decision::is_allow));
                    decisions
                },
                BatchSize::LargeInput,
            )
        });
    }
    g.finish();
}

/// Lifecycle statements: a pause by the subject, applied with a cached grant (one signature
/// check: the statement's).
fn statement(c: &mut Criterion) {
    let f = Fixture::new();
    let reference = RawReference::of(&f);
    let mut g = configure(c, "statement");
    add_references(&reference, &mut g);
    let s = &f.s;
    let parent_key = s.key(s.parent);
    // A statement is applied once per basis, so each iteration pauses a new grant (built,
    // signed and verified in the untimed setup); the ledger grows by one basis per iteration.
    let setup = || {
        let grant = fixture::grant(s);
        let bytes = grant.sign(parent_key);
        let cached = s.verifier().verify_grant(&bytes).expect("valid");
        let st = Statement {
            basis: grant.id(),
            basis_digest: Digest::of(&bytes),
            action: Action::Pause,
            issued_by: s.parent,
            issued_at: s.now,
        }
        .sign(parent_key);
        (cached, st)
    };
    g.bench_function("apply_cached_grant", |b| {
        b.iter_batched(
            setup,
            |(cached, st)| {
                s.verifier()
                    .apply_statement(&st, Basis::Grant(&cached), s.now)
                    .is_ok()
            },
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

/// A deterministic log entry (a 128-byte record, about the size of a serialized decision).
fn entry(i: u64) -> [u8; 128] {
    let mut e = [0u8; 128];
    e[..8].copy_from_slice(&i.to_be_bytes());
    e
}

/// A cheap deterministic index sequence (xorshift).
fn next(x: &mut u64) -> u64 {
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    *x
}

/// The Merkle log at 10^3 .. 10^6 entries.
fn log(c: &mut Criterion) {
    let reference = RawReference::of(&Fixture::new());
    let mut g = configure(c, "log");
    add_references(&reference, &mut g);
    let mut tree = MerkleTree::new();
    for n in [1_000u64, 10_000, 100_000, 1_000_000] {
        while tree.len() < n {
            tree.append(&entry(tree.len()));
        }
        let root = tree.root_at(n).expect("n leaves");
        // Append, amortized (the rows' Vec growth included): the tree keeps growing from n
        // by the iterations criterion runs (about 10^6 per size), and each entry appended is
        // `entry(index)`, so the proofs below, at tree size exactly n, stay valid. Appending
        // costs one leaf hash plus on average one node hash, whatever the size.
        g.bench_function(format!("append/{n}"), |b| {
            b.iter(|| {
                let i = tree.len();
                tree.append(&entry(i))
            })
        });
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        g.bench_function(format!("inclusion_proof/{n}"), |b| {
            b.iter(|| {
                let i = next(&mut x) % n;
                tree.inclusion_proof(i, n).expect("in range")
            })
        });
        let proofs: Vec<_> = (0..1024)
            .map(|_| {
                let i = next(&mut x) % n;
                (
                    leaf_hash(&entry(i)),
                    tree.inclusion_proof(i, n).expect("ok"),
                )
            })
            .collect();
        assert!(proofs.iter().all(|(leaf, p)| p.verify(leaf, &root).is_ok()));
        let mut k = 0usize;
        g.bench_function(format!("verify_inclusion/{n}"), |b| {
            b.iter(|| {
                k = (k + 1) % proofs.len();
                let (leaf, p) = &proofs[k];
                verify_inclusion(leaf, p.leaf_index, p.tree_size, &p.path, &root).is_ok()
            })
        });
    }
    g.finish();
}

criterion_group!(benches, grant, decision, batch, statement, log);
criterion_main!(benches);
