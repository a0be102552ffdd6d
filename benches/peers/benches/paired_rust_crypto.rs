//! Paired ratios with jsonwebtoken's RustCrypto backend (see `paired.rs`).

#[path = "paired.rs"]
mod paired;

fn main() {
    paired::run(consentry_peers::JwtBackend::RustCrypto);
}
