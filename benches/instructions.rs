//! Instruction counts under callgrind: the same operations as the criterion benchmarks, counted
//! in machine instructions, which a shared, noisy machine does not disturb.
//!
//! `cargo bench --bench instructions` re-runs this binary under
//! `valgrind --tool=callgrind --toggle-collect='*measure_*'` once per operation, so that only
//! the instructions executed inside the `measure_*` functions (the operation itself, not its
//! setup) are counted, and prints a Markdown table of instructions per operation and their
//! ratios to one raw ring Ed25519 verification and one raw signature of a message as long as
//! the grant's `Sig_structure` (the grant's exact one: see `fixture::RawReference`). Without valgrind it says so and exits.
//!
//! `cargo bench --bench instructions -- OP N` runs one operation N times natively (what the
//! valgrind runs do).

#[path = "consentry/fixture.rs"]
mod fixture;

use consentry::decision::{Basis, Decision};
use consentry::grant::Grant;
use consentry::signed::{SignedPayload, Verified};

use consentry::statement::{Action, Statement};
use consentry::{Digest, Timestamp};
use fixture::{Fixture, RawReference};
use std::hint::black_box;
use std::process::Command;

const OPS: &[&str] = &[
    "ref_verify",
    "ref_sign",
    "issue",
    "sign_only",
    "parse_and_verify",
    "check",
    "rules_only",
    "ref_verify_request",
    "decision_fresh",
    "decision_cached",
    "statement_cached",
];

#[inline(never)]
fn measure_ref_verify(r: &RawReference) -> bool {
    r.verify()
}

#[inline(never)]
fn measure_ref_sign(r: &RawReference) -> ring::signature::Signature {
    r.sign()
}

/// A raw ring verification of a request's exact `Sig_structure` (the floor of its check).
#[inline(never)]
fn measure_ref_verify_request(public: &[u8], message: &[u8], signature: &[u8]) -> bool {
    ring::signature::UnparsedPublicKey::new(&ring::signature::ED25519, public)
        .verify(message, signature)
        .is_ok()
}

#[inline(never)]
fn measure_issue(f: &Fixture) -> Vec<u8> {
    fixture::grant(&f.s).sign(f.s.key(f.s.parent))
}

#[inline(never)]
fn measure_sign_only(f: &Fixture) -> Vec<u8> {
    f.grant.sign(f.s.key(f.s.parent))
}

#[inline(never)]
fn measure_parse_and_verify(f: &Fixture) -> bool {
    Verified::<Grant>::parse_and_verify(&f.grant_bytes, &f.s.directory).is_ok()
}

#[inline(never)]
fn measure_check(f: &Fixture) -> bool {
    f.check().is_ok()
}

#[inline(never)]
fn measure_rules_only(f: &Fixture, g: &Verified<Grant>) -> bool {
    fixture::check_rules(&f.s, &f.s.ledger, g, &f.request, f.s.now).is_ok()
}

#[inline(never)]
fn measure_decision_fresh(f: &Fixture, request: &[u8]) -> Decision {
    f.s.verifier()
        .decide(request, Basis::Signed(&f.grant_bytes), f.s.now)
}

#[inline(never)]
fn measure_decision_cached(f: &Fixture, request: &[u8], g: &Verified<Grant>) -> Decision {
    f.s.verifier().decide(request, Basis::Grant(g), f.s.now)
}

#[inline(never)]
fn measure_statement_cached(f: &Fixture, st: &[u8], g: &Verified<Grant>) -> bool {
    f.s.verifier()
        .apply_statement(st, Basis::Grant(g), f.s.now)
        .is_ok()
}

/// Runs `op` `n` times (setup outside the `measure_*` functions).
fn run(op: &str, n: usize) {
    let f = Fixture::new();
    let r = RawReference::of(&f);
    let cached = f.s.verifier().verify_grant(&f.grant_bytes).expect("valid");
    match op {
        "ref_verify" => (0..n).for_each(|_| assert!(measure_ref_verify(&r))),
        "ref_sign" => (0..n).for_each(|_| {
            let _ = black_box(measure_ref_sign(&r));
        }),
        "issue" => (0..n).for_each(|_| {
            let _ = black_box(measure_issue(&f));
        }),
        "sign_only" => (0..n).for_each(|_| {
            let _ = black_box(measure_sign_only(&f));
        }),
        "parse_and_verify" => (0..n).for_each(|_| assert!(measure_parse_and_verify(&f))),
        "check" => (0..n).for_each(|_| assert!(measure_check(&f))),
        "rules_only" => (0..n).for_each(|_| assert!(measure_rules_only(&f, &cached))),
        "ref_verify_request" => {
            let public = *f.s.key(f.s.mairie).verifying_key().as_bytes();
            for r in (0..n).map(|_| f.s.sign_request(&f.fresh_request())) {
                let env = consentry::cose::Envelope::parse(&r).expect("a request");
                let message = consentry::cose::sig_structure(env.protected(), env.payload());
                assert!(measure_ref_verify_request(
                    &public,
                    &message,
                    &r[r.len() - 64..]
                ));
            }
        }
        "decision_fresh" | "decision_cached" => {
            let requests: Vec<Vec<u8>> = (0..n)
                .map(|_| f.s.sign_request(&f.fresh_request()))
                .collect();
            for r in &requests {
                let d = if op == "decision_fresh" {
                    measure_decision_fresh(&f, r)
                } else {
                    measure_decision_cached(&f, r, &cached)
                };
                assert!(d.is_allow(), "{:?}", d.codes());
            }
        }
        "statement_cached" => {
            let key = f.s.key(f.s.parent);
            let items: Vec<_> = (0..n)
                .map(|_| {
                    let bytes = fixture::grant(&f.s).sign(key);
                    let g = f.s.verifier().verify_grant(&bytes).expect("valid");
                    let st = Statement {
                        basis: g.claims().id(),
                        basis_digest: Digest::of(&bytes),
                        action: Action::Pause,
                        issued_by: f.s.parent,
                        issued_at: Timestamp::from_secs(f.s.now.secs()),
                    }
                    .sign(key);
                    (g, st)
                })
                .collect();
            for (g, st) in &items {
                assert!(measure_statement_cached(&f, st, g));
            }
        }
        other => panic!("unknown operation {other}; one of {OPS:?}"),
    }
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    if let [op, n] = args.as_slice() {
        run(op, n.parse().expect("a count"));
        return;
    }
    let exe = std::env::current_exe().expect("own path");
    if Command::new("valgrind").arg("--version").output().is_err() {
        println!("instructions: valgrind not found, nothing measured");
        return;
    }
    let n = 50usize;
    let mut counts = Vec::new();
    for &op in OPS {
        let out = Command::new("valgrind")
            .args([
                "--tool=callgrind",
                "--callgrind-out-file=/dev/null",
                "--toggle-collect=*measure_*",
            ])
            .arg(&exe)
            .args([op.to_string(), n.to_string()])
            .output()
            .expect("valgrind runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        let collected = stderr
            .lines()
            .find_map(|l| l.split("Collected :").nth(1))
            .and_then(|v| v.trim().parse::<u64>().ok())
            .unwrap_or_else(|| panic!("no callgrind summary for {op}: {stderr}"));
        counts.push((op, collected as f64 / n as f64));
    }
    let get = |name: &str| counts.iter().find(|(o, _)| *o == name).map(|(_, c)| *c);
    let (v, s, vr) = (
        get("ref_verify").unwrap_or(1.0),
        get("ref_sign").unwrap_or(1.0),
        get("ref_verify_request").unwrap_or(1.0),
    );
    println!("instructions per operation (callgrind, mean of {n})");
    println!();
    println!(
        "| operation | instructions | ÷ raw verify | ÷ raw sign | ÷ raw verify of the request |"
    );
    println!("|---|---|---|---|---|");
    for (op, c) in &counts {
        // The decisions verify a request: their floor is the raw verification of those very
        // requests (a message shorter than the grant's).
        let request = if op.starts_with("decision") || *op == "ref_verify_request" {
            format!("{:.3}", c / vr)
        } else {
            String::new()
        };
        println!(
            "| {op} | {c:.0} | {:.3} | {:.3} | {request} |",
            c / v,
            c / s
        );
    }
}
