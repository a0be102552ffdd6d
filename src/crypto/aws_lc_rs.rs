//! The optional provider: `aws-lc-rs` (AWS-LC), behind the `aws-lc-rs` feature.

use super::{CryptoProvider, Ed25519, Ed25519Signer, ParsedPublicKey};
use crate::keys::{KeyError, SignatureError};
use aws_lc_rs::signature::{self, ED25519, Ed25519KeyPair, KeyPair, VerificationAlgorithm};

/// Ed25519 and SHA-256 by `aws-lc-rs` (the `aws-lc-rs` feature). A directory key is decoded
/// once, on its first verification, into aws-lc-rs's `ParsedPublicKey`, and kept in its
/// [`PartyKey`](crate::PartyKey). Built with aws-lc-rs's `fips` feature instead, the same
/// provider runs AWS-LC's FIPS 140-3 module (see `docs/crypto.md`).
pub static AWS_LC_RS: CryptoProvider = CryptoProvider {
    name: "aws-lc-rs",
    ed25519: &AwsLcEd25519,
    sha256,
};

struct AwsLcEd25519;

impl Ed25519 for AwsLcEd25519 {
    fn verify(
        &self,
        public: &[u8; 32],
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), SignatureError> {
        ED25519
            .verify_sig(public, message, signature)
            .map_err(|_| SignatureError)
    }

    fn parse_public_key(&self, public: &[u8; 32]) -> Option<Box<dyn ParsedPublicKey>> {
        signature::ParsedPublicKey::new(&ED25519, public)
            .ok()
            .map(|key| Box::new(Parsed(key)) as Box<dyn ParsedPublicKey>)
    }

    fn signer_from_seed(&self, seed: &[u8; 32]) -> Result<Box<dyn Ed25519Signer>, KeyError> {
        Ed25519KeyPair::from_seed_unchecked(seed)
            .map(|pair| Box::new(AwsLcSigner(pair)) as Box<dyn Ed25519Signer>)
            .map_err(|_| KeyError::InvalidSeed)
    }

    fn signer_from_pkcs8(&self, pkcs8: &[u8]) -> Result<Box<dyn Ed25519Signer>, KeyError> {
        Ed25519KeyPair::from_pkcs8_maybe_unchecked(pkcs8)
            .map(|pair| Box::new(AwsLcSigner(pair)) as Box<dyn Ed25519Signer>)
            .map_err(|_| KeyError::InvalidPkcs8)
    }
}

struct Parsed(signature::ParsedPublicKey);

impl ParsedPublicKey for Parsed {
    fn verify(&self, message: &[u8], signature: &[u8]) -> Result<(), SignatureError> {
        self.0
            .verify_sig(message, signature)
            .map_err(|_| SignatureError)
    }
}

struct AwsLcSigner(Ed25519KeyPair);

impl Ed25519Signer for AwsLcSigner {
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
    let mut ctx = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
    for part in parts {
        ctx.update(part);
    }
    let mut out = [0u8; 32];
    out.copy_from_slice(ctx.finish().as_ref());
    out
}
