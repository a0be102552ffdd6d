//! Criterion timings of the grant check and its peers (see the library's documentation),
//! included by one binary per jsonwebtoken backend:
//! `cargo bench --manifest-path benches/peers/Cargo.toml --bench peers_aws_lc_rs` (or
//! `peers_rust_crypto`).

use consentry_peers::{JwtBackend, Peers};
use criterion::Criterion;
use std::hint::black_box;
use std::time::Duration;

/// Times every check with jsonwebtoken's `backend` installed.
pub fn peers(c: &mut Criterion, backend: JwtBackend) {
    let p = Peers::new(backend);
    println!("encoded sizes (bytes), same claims:");
    for (name, size) in p.sizes() {
        println!("  {name}: {size}");
    }
    let [(_, grant), _, (_, jwt), (_, biscuit)] = p.sizes();
    println!("  consentry grant / JWT = {:.3}", grant as f64 / jwt as f64);
    println!(
        "  consentry grant / biscuit = {:.3}",
        grant as f64 / biscuit as f64
    );
    let sizes: serde_json::Map<String, serde_json::Value> = p
        .sizes()
        .iter()
        .map(|(n, s)| (n.to_string(), (*s).into()))
        .collect();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".into()))
        .join("criterion");
    if std::fs::create_dir_all(&dir).is_ok() {
        let _ = std::fs::write(
            dir.join("sizes.json"),
            serde_json::Value::Object(sizes).to_string(),
        );
    }

    let mut g = c.benchmark_group(format!("peers_{}", backend.name()));
    g.warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .sample_size(30);
    g.bench_function("ref_verify", |b| {
        b.iter(|| black_box(&p.reference).verify())
    });
    g.bench_function("ref_verify_aws_lc_rs", |b| {
        b.iter(|| black_box(&p).raw_verify_aws_lc_rs())
    });
    g.bench_function("ref_verify_aws_lc_rs_parsed", |b| {
        b.iter(|| black_box(&p).raw_verify_aws_lc_rs_parsed())
    });
    g.bench_function("consentry_check", |b| {
        b.iter(|| black_box(&p).consentry_check())
    });
    g.bench_function("consentry_check_aws_lc_rs", |b| {
        b.iter(|| black_box(&p).consentry_check_aws_lc_rs())
    });
    g.bench_function("consentry_claims", |b| {
        b.iter(|| black_box(&p).consentry_claims())
    });
    g.bench_function("jwt", |b| b.iter(|| black_box(&p).jwt_check()));
    g.bench_function("coset", |b| b.iter(|| black_box(&p).cose_check()));
    g.bench_function("biscuit", |b| b.iter(|| black_box(&p).biscuit_check()));
    g.finish();
}
