//! Criterion timings with jsonwebtoken's aws_lc_rs backend (see `peers.rs`).

#[path = "peers.rs"]
mod peers;

fn main() {
    let mut c = criterion::Criterion::default().configure_from_args();
    peers::peers(&mut c, consentry_peers::JwtBackend::AwsLcRs);
    c.final_summary();
}
