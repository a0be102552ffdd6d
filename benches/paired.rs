//! Paired wall-clock ratios: each round times a batch of an operation and, right after, a
//! batch of its raw reference, and the ratio is taken per round; the median over rounds is
//! reported. Load that changes slowly on a shared machine affects both halves of a round alike
//! and cancels out, which separate criterion benchmarks cannot do. Batches are short (a few
//! hundred microseconds) so that few are cut by the scheduler on a loaded machine (a longer
//! batch is more often preempted, which inflates longer operations); the median discards those
//! that are.
//!
//! Run with `cargo bench --bench paired`; with `--features aws-lc-rs`, the grant check with the
//! aws-lc-rs provider is measured too, against raw aws-lc-rs and raw ring verifications.

#[path = "consentry/fixture.rs"]
mod fixture;

use consentry::decision::Basis;
use consentry::signed::SignedPayload;
use fixture::{Fixture, RawReference};
use std::hint::black_box;
use std::time::Instant;

const ROUNDS: usize = 1001;
const BATCH: usize = 4;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Per round: `prepare` makes `BATCH` inputs (untimed), then `BATCH` runs of `op` and `BATCH`
/// runs of `reference` on them are timed, in alternating order from round to round (so that
/// neither always runs on the caches the other or `prepare` left). Returns (median ns of op,
/// median ns of reference, median of the per-round ratios).
fn paired<T>(
    mut prepare: impl FnMut() -> Vec<T>,
    mut op: impl FnMut(&T),
    mut reference: impl FnMut(&T),
) -> (f64, f64, f64) {
    let (mut ops, mut refs, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    let time = |inputs: &[T], f: &mut dyn FnMut(&T)| {
        let start = Instant::now();
        for input in inputs {
            f(input);
        }
        start.elapsed().as_nanos() as f64 / inputs.len() as f64
    };
    for round in 0..=ROUNDS {
        let inputs = prepare();
        let (t_op, t_ref) = if round % 2 == 0 {
            let t_op = time(&inputs, &mut op);
            (t_op, time(&inputs, &mut reference))
        } else {
            let t_ref = time(&inputs, &mut reference);
            (time(&inputs, &mut op), t_ref)
        };
        if round > 0 {
            // Round 0 warms up.
            ops.push(t_op);
            refs.push(t_ref);
            ratios.push(t_op / t_ref);
        }
    }
    (median(ops), median(refs), median(ratios))
}

fn main() {
    let f = Fixture::new();
    let r = RawReference::of(&f);
    let cached = f.s.verifier().verify_grant(&f.grant_bytes).expect("valid");
    let key = f.s.key(f.s.parent);
    let none = || vec![(); BATCH];
    // Fresh signed requests, with each one's exact Sig_structure and signature for its raw
    // verification (the reference of the decisions: the same message, key and signature as the
    // request check inside the decision).
    let mairie = *f.s.key(f.s.mairie).verifying_key().as_bytes();
    let requests = || {
        drop(f.s.ledger.take_decisions());
        (0..BATCH)
            .map(|_| {
                let req = f.s.sign_request(&f.fresh_request());
                let env = consentry::cose::Envelope::parse(&req).expect("a request");
                let message = consentry::cose::sig_structure(env.protected(), env.payload());
                let signature = req[req.len() - 64..].to_vec();
                (req, message, signature)
            })
            .collect::<Vec<_>>()
    };
    let verify_request = |(_, message, signature): &(Vec<u8>, Vec<u8>, Vec<u8>)| {
        let ok = ring::signature::UnparsedPublicKey::new(&ring::signature::ED25519, &mairie)
            .verify(black_box(message), black_box(signature))
            .is_ok();
        assert!(ok);
    };
    let verify = |_: &()| {
        black_box(black_box(&r).verify());
    };
    let sign = |_: &()| {
        black_box(black_box(&r).sign());
    };
    let mut rows = vec![
        (
            "grant check",
            "raw verify",
            1.05,
            paired(none, |_| assert!(black_box(&f).check().is_ok()), verify),
        ),
        (
            "issue (build + sign)",
            "raw sign",
            1.05,
            paired(
                none,
                |_| drop(black_box(fixture::grant(&f.s).sign(key))),
                sign,
            ),
        ),
        (
            "decision, fresh grant",
            "raw verify of the request",
            2.05,
            paired(
                requests,
                |(req, _, _)| {
                    let d =
                        f.s.verifier()
                            .decide(req, Basis::Signed(&f.grant_bytes), f.s.now);
                    assert!(d.is_allow());
                },
                verify_request,
            ),
        ),
        (
            "decision, cached grant",
            "raw verify of the request",
            1.04,
            paired(
                requests,
                |(req, _, _)| {
                    let d = f.s.verifier().decide(req, Basis::Grant(&cached), f.s.now);
                    assert!(d.is_allow());
                },
                verify_request,
            ),
        ),
    ];
    // What the decisions cannot do without, measured the same way: the raw verifications and
    // the SHA-256 digests that bind the state to the exact bytes (the request's for receipts and
    // records; the grant's for the ledger key). A decision's own work is its ratio minus its
    // floor's.
    rows.push((
        "floor of the fresh decision: raw verify of the grant and of the request, SHA-256 of both",
        "raw verify of the request",
        f64::NAN,
        paired(
            requests,
            |input| {
                assert!(black_box(&r).verify());
                verify_request(input);
                black_box(consentry::Digest::of(black_box(&f.grant_bytes)));
                black_box(consentry::Digest::of(black_box(&input.0)));
            },
            verify_request,
        ),
    ));
    rows.push((
        "floor of the cached decision: raw verify of the request, its SHA-256",
        "raw verify of the request",
        f64::NAN,
        paired(
            requests,
            |input| {
                verify_request(input);
                black_box(consentry::Digest::of(black_box(&input.0)));
            },
            verify_request,
        ),
    ));
    #[cfg(feature = "aws-lc-rs")]
    {
        let aws = &consentry::crypto::AWS_LC_RS;
        assert!(f.check_with(aws).is_ok());
        let verify_aws = |_: &()| {
            black_box(black_box(&r).verify_with(aws));
        };
        rows.push((
            "grant check, aws-lc-rs provider",
            "raw aws-lc-rs verify",
            f64::NAN,
            paired(
                none,
                |_| assert!(black_box(&f).check_with(aws).is_ok()),
                verify_aws,
            ),
        ));
        rows.push((
            "grant check, aws-lc-rs provider",
            "raw verify",
            f64::NAN,
            paired(
                none,
                |_| assert!(black_box(&f).check_with(aws).is_ok()),
                verify,
            ),
        ));
        rows.push((
            "raw aws-lc-rs verify",
            "raw verify",
            f64::NAN,
            paired(none, verify_aws, verify),
        ));
    }
    println!(
        "paired wall-clock ratios: {ROUNDS} rounds of {BATCH} operations then {BATCH} references"
    );
    println!();
    println!("| operation | median ns | reference | median ref ns | median ratio | target | met |");
    println!("|---|---|---|---|---|---|---|");
    for (name, reference, target, (op, rf, ratio)) in rows {
        let target: f64 = target;
        // A row without a target (NaN) is shown for its ratio only.
        let (target, met) = if target.is_nan() {
            ("—".to_owned(), "—")
        } else {
            (
                format!("≤ {target}"),
                if ratio <= target { "yes" } else { "no" },
            )
        };
        println!("| {name} | {op:.0} | {reference} | {rf:.0} | {ratio:.3} | {target} | {met} |");
    }
}
