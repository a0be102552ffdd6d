//! Paired wall-clock ratios of the grant check against each peer: each round times a short
//! batch of consentry's check and, in alternating order, a batch of the peer's, and the median
//! of the per-round ratios is reported (robust to the slowly changing load of a shared
//! machine). `cargo bench --manifest-path benches/peers/Cargo.toml --bench paired`.

use consentry_peers::Peers;
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

fn main() {
    let p = Peers::new();
    let mine = || p.consentry_check();
    let others: [(&str, &dyn Fn() -> bool); 5] = [
        ("raw verify", &|| p.reference.verify()),
        ("consentry claims subset", &|| p.consentry_claims()),
        ("jsonwebtoken", &|| p.jwt_check()),
        ("coset + ring", &|| p.cose_check()),
        ("biscuit-auth", &|| p.biscuit_check()),
    ];
    println!("paired wall-clock: {ROUNDS} rounds of {BATCH} checks each");
    println!();
    println!("| peer | median ns | consentry check median ns | consentry ÷ peer |");
    println!("|---|---|---|---|");
    for (name, other) in others {
        let (mut a, mut b, mut r) = (Vec::new(), Vec::new(), Vec::new());
        for round in 0..=ROUNDS {
            let (t_mine, t_other) = if round % 2 == 0 {
                let m = time(&mine);
                (m, time(other))
            } else {
                let o = time(other);
                (time(&mine), o)
            };
            if round > 0 {
                a.push(t_mine);
                b.push(t_other);
                r.push(t_mine / t_other);
            }
        }
        println!(
            "| {name} | {:.0} | {:.0} | {:.3} |",
            median(b),
            median(a),
            median(r)
        );
    }
}
