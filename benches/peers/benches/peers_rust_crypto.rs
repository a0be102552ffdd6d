//! Criterion timings with jsonwebtoken's rust_crypto backend (see `peers.rs`).

#[path = "peers.rs"]
mod peers;

fn main() {
    let mut c = criterion::Criterion::default().configure_from_args();
    peers::peers(&mut c, consentry_peers::JwtBackend::RustCrypto);
    c.final_summary();
}
