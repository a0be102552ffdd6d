//! Instruction counts of the grant check and its peers under callgrind, which a shared, noisy
//! machine does not disturb. `cargo bench --manifest-path benches/peers/Cargo.toml --bench
//! instructions` re-runs this binary under `valgrind --tool=callgrind
//! --toggle-collect='*measure_*'` once per check, so only the check itself is counted.
//! `... --bench instructions -- CHECK N` runs one check N times natively. Each check runs in its
//! own process, which installs the jsonwebtoken backend the check names (`jwt_aws_lc_rs`,
//! `jwt_rust_crypto`; aws-lc-rs for the others, whose figures do not depend on it).

use consentry_peers::{JwtBackend, Peers};
use std::process::Command;

const CHECKS: &[&str] = &[
    "ref_verify",
    "ref_verify_aws_lc_rs",
    "ref_verify_aws_lc_rs_parsed",
    "consentry_check",
    "consentry_check_aws_lc_rs",
    "consentry_claims",
    "jwt_aws_lc_rs",
    "jwt_rust_crypto",
    "coset",
    "biscuit",
];

#[inline(never)]
fn measure_check(p: &Peers, check: &str) -> bool {
    match check {
        "ref_verify" => p.reference.verify(),
        "ref_verify_aws_lc_rs" => p.raw_verify_aws_lc_rs(),
        "ref_verify_aws_lc_rs_parsed" => p.raw_verify_aws_lc_rs_parsed(),
        "consentry_check" => p.consentry_check(),
        "consentry_check_aws_lc_rs" => p.consentry_check_aws_lc_rs(),
        "consentry_claims" => p.consentry_claims(),
        "jwt_aws_lc_rs" | "jwt_rust_crypto" => p.jwt_check(),
        "coset" => p.cose_check(),
        "biscuit" => p.biscuit_check(),
        other => panic!("unknown check {other}; one of {CHECKS:?}"),
    }
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    if let [check, n] = args.as_slice() {
        let backend = check
            .strip_prefix("jwt_")
            .and_then(JwtBackend::from_name)
            .unwrap_or(JwtBackend::AwsLcRs);
        let p = Peers::new(backend);
        for _ in 0..n.parse::<usize>().expect("a count") {
            assert!(measure_check(&p, check));
        }
        return;
    }
    if Command::new("valgrind").arg("--version").output().is_err() {
        println!("instructions: valgrind not found, nothing measured");
        return;
    }
    let exe = std::env::current_exe().expect("own path");
    let n = 50usize;
    let mut counts = Vec::new();
    for &check in CHECKS {
        let out = Command::new("valgrind")
            .args([
                "--tool=callgrind",
                "--callgrind-out-file=/dev/null",
                "--toggle-collect=*measure_*",
            ])
            .arg(&exe)
            .args([check.to_string(), n.to_string()])
            .output()
            .expect("valgrind runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        let collected = stderr
            .lines()
            .find_map(|l| l.split("Collected :").nth(1))
            .and_then(|v| v.trim().parse::<u64>().ok())
            .unwrap_or_else(|| panic!("no callgrind summary for {check}: {stderr}"));
        counts.push((check, collected as f64 / n as f64));
    }
    let get = |name: &str| counts.iter().find(|(c, _)| *c == name).map(|(_, v)| *v);
    let (v, mine, aws) = (
        get("ref_verify").unwrap_or(1.0),
        get("consentry_check").unwrap_or(1.0),
        get("consentry_check_aws_lc_rs").unwrap_or(1.0),
    );
    println!("instructions per check (callgrind, mean of {n})");
    println!();
    println!(
        "| check | instructions | ÷ raw ring verify | consentry_check ÷ this \
         | consentry_check_aws_lc_rs ÷ this |"
    );
    println!("|---|---|---|---|---|");
    for (check, c) in &counts {
        println!(
            "| {check} | {c:.0} | {:.3} | {:.3} | {:.3} |",
            c / v,
            mine / c,
            aws / c
        );
    }
}
