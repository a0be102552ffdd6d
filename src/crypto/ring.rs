//! The default provider: `ring`.

use super::{CryptoProvider, Ed25519, Ed25519Signer};
use crate::keys::{KeyError, SignatureError};
use ring::signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey};

/// The default provider, always built: Ed25519 and SHA-256 by `ring`.
///
/// ring has no decoded Ed25519 public key type: it decodes the key's point on every
/// verification, so [`Ed25519::parse_public_key`] gives `None` and a directory key is kept as
/// its 32 bytes.
pub static RING: CryptoProvider = CryptoProvider {
    name: "ring",
    ed25519: &RingEd25519,
    sha256,
};

struct RingEd25519;

impl Ed25519 for RingEd25519 {
    fn verify(
        &self,
        public: &[u8; 32],
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), SignatureError> {
        UnparsedPublicKey::new(&ED25519, public)
            .verify(message, signature)
            .map_err(|_| SignatureError)
    }

    fn signer_from_seed(&self, seed: &[u8; 32]) -> Result<Box<dyn Ed25519Signer>, KeyError> {
        Ed25519KeyPair::from_seed_unchecked(seed)
            .map(|pair| Box::new(RingSigner(pair)) as Box<dyn Ed25519Signer>)
            .map_err(|_| KeyError::InvalidSeed)
    }

    fn signer_from_pkcs8(&self, pkcs8: &[u8]) -> Result<Box<dyn Ed25519Signer>, KeyError> {
        Ed25519KeyPair::from_pkcs8_maybe_unchecked(pkcs8)
            .map(|pair| Box::new(RingSigner(pair)) as Box<dyn Ed25519Signer>)
            .map_err(|_| KeyError::InvalidPkcs8)
    }
}

struct RingSigner(Ed25519KeyPair);

impl Ed25519Signer for RingSigner {
    fn public_key(&self) -> [u8; 32] {
        let mut out = [0u8; 32];
        out.copy_from_slice(self.0.public_key().as_ref());
        out
    }

    fn sign(&self, message: &[u8]) -> [u8; 64] {
        let mut out = [0u8; 64];
        out.copy_from_slice(self.0.sign(message).as_ref());
        out
    }
}

fn sha256(parts: &[&[u8]]) -> [u8; 32] {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    for part in parts {
        ctx.update(part);
    }
    let mut out = [0u8; 32];
    out.copy_from_slice(ctx.finish().as_ref());
    out
}
