//! Paired wall-clock ratios of the grant check, with each of consentry's crypto providers,
//! against each peer: each round times a short batch of each of the three (consentry with
//! ring, consentry with aws-lc-rs, the peer) in an order that rotates from round to round, and
//! the median of the per-round ratios is reported (robust to the slowly changing load of a
//! shared machine). Included by one binary per jsonwebtoken backend:
//! `cargo bench --manifest-path benches/peers/Cargo.toml --bench paired_aws_lc_rs` (or
//! `paired_rust_crypto`).

use consentry_peers::{JwtBackend, Peers};
use std::time::Instant;

const ROUNDS: usize = 401;
const BATCH: usize = 4;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn time(f: &dyn Fn() -> bool) -> f64 {
    let start = Instant::now();
    for _ in 0..BATCH {
        assert!(std::hint::black_box(f()));
    }
    start.elapsed().as_nanos() as f64 / BATCH as f64
}

/// Runs the comparison with jsonwebtoken's `backend` installed.
pub fn run(backend: JwtBackend) {
    let p = Peers::new(backend);
    let ring = || p.consentry_check();
    let aws = || p.consentry_check_aws_lc_rs();
    let jwt = format!("jsonwebtoken 12 ({})", backend.name());
    let others: [(&str, &dyn Fn() -> bool); 7] = [
        ("raw ring verify", &|| p.reference.verify()),
        ("raw aws-lc-rs verify", &|| p.raw_verify_aws_lc_rs()),
        ("raw aws-lc-rs verify, key decoded once", &|| {
            p.raw_verify_aws_lc_rs_parsed()
        }),
        ("consentry claims subset (ring)", &|| p.consentry_claims()),
        (&jwt, &|| p.jwt_check()),
        ("coset 0.4 + ring", &|| p.cose_check()),
        ("biscuit-auth 6", &|| p.biscuit_check()),
    ];
    println!(
        "paired wall-clock, jsonwebtoken backend {}: {ROUNDS} rounds of {BATCH} checks each",
        backend.name()
    );
    println!();
    println!(
        "| peer | peer median ns | consentry (ring) median ns | consentry (ring) ÷ peer \
         | consentry (aws-lc-rs) median ns | consentry (aws-lc-rs) ÷ peer |"
    );
    println!("|---|---|---|---|---|---|");
    for (name, other) in others {
        let (mut t_ring, mut t_aws, mut t_other) = (Vec::new(), Vec::new(), Vec::new());
        let (mut r_ring, mut r_aws) = (Vec::new(), Vec::new());
        let fs: [&dyn Fn() -> bool; 3] = [&ring, &aws, other];
        for round in 0..=ROUNDS {
            // Six orders of the three, one per round in turn.
            let order = [
                [0, 1, 2],
                [2, 1, 0],
                [1, 2, 0],
                [0, 2, 1],
                [2, 0, 1],
                [1, 0, 2],
            ][round % 6];
            let mut t = [0.0; 3];
            for i in order {
                t[i] = time(fs[i]);
            }
            if round > 0 {
                t_ring.push(t[0]);
                t_aws.push(t[1]);
                t_other.push(t[2]);
                r_ring.push(t[0] / t[2]);
                r_aws.push(t[1] / t[2]);
            }
        }
        println!(
            "| {name} | {:.0} | {:.0} | {:.3} | {:.0} | {:.3} |",
            median(t_other),
            median(t_ring),
            median(r_ring),
            median(t_aws),
            median(r_aws),
        );
    }
}
