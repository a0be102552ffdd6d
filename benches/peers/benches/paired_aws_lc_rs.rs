//! Paired ratios with jsonwebtoken's aws-lc-rs backend (see `paired.rs`).

#[path = "paired.rs"]
mod paired;

fn main() {
    paired::run(consentry_peers::JwtBackend::AwsLcRs);
}
