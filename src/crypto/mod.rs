//! Crypto providers: which implementation verifies and makes the format's Ed25519 signatures
//! and computes the SHA-256 binding hash of a verified object.
//!
//! A [`CryptoProvider`] is a plain value, in the spirit of rustls's: a name and `'static`
//! algorithm objects. The caller picks one at run time and passes it explicitly
//! ([`Verifier::with_provider`](crate::Verifier::with_provider),
//! [`Unverified::verify_with`](crate::Unverified::verify_with),
//! [`SigningKey::from_seed_with`](crate::SigningKey::from_seed_with), ...). There is no
//! process-wide default to install: the core keeps no global state, so every entry point that
//! does not take a provider uses [`RING`], the default, which is always built.
//!
//! | provider | cargo feature | Ed25519 | public key decoded |
//! |---|---|---|---|
//! | [`RING`] | always | `ring` 0.17 | on every verification (ring has no parsed Ed25519 public key type) |
//! | `AWS_LC_RS` | `aws-lc-rs` | `aws-lc-rs` (AWS-LC) | once per directory entry ([`PartyKey`](crate::PartyKey) keeps it) |
//!
//! Both providers accept exactly the same signatures (RFC 8032 with a canonical `S`, as the
//! Wycheproof, COSE and vector suites check for each), so the choice changes speed and
//! certification, never a decision. `docs/crypto.md` tells how to build aws-lc-rs's FIPS 140-3
//! module.
//!
//! ```
//! use consentry::crypto::{self, CryptoProvider};
//! use consentry::SigningKey;
//!
//! // Chosen at run time, for instance from a configuration file.
//! let provider: &CryptoProvider = crypto::by_name("ring").expect("always built");
//! let key = SigningKey::from_seed_with(provider, &[7; 32]).unwrap();
//! let signature = consentry::danger::sign_raw(&key, b"hello");
//! // Every provider built in accepts it.
//! for p in crypto::providers() {
//!     assert!(key.verifying_key().verify_with(p, b"hello", &signature).is_ok());
//! }
//! ```

#[cfg(feature = "aws-lc-rs")]
mod aws_lc_rs;
mod ring;

#[cfg(feature = "aws-lc-rs")]
pub use self::aws_lc_rs::AWS_LC_RS;
pub use self::ring::RING;

use crate::keys::{KeyError, SignatureError};
use std::fmt;
use std::sync::{Arc, OnceLock};

/// A set of algorithm implementations, chosen at run time and passed explicitly.
///
/// The crate's providers are [`RING`] and, with the `aws-lc-rs` feature, `AWS_LC_RS`. A
/// service may build its own from its own [`Ed25519`] implementation (an HSM's verifier, for
/// instance); it then answers for that implementation's correctness, which the crate cannot
/// check. Its `name` identifies it: [`PartyKey`](crate::PartyKey) keeps the key a provider
/// decoded under that name, so two providers must not share one.
#[derive(Clone, Copy)]
pub struct CryptoProvider {
    /// A short name, unique among the providers a process uses (`"ring"`, `"aws-lc-rs"`).
    pub name: &'static str,
    /// Ed25519 verification and signing.
    pub ed25519: &'static dyn Ed25519,
    /// SHA-256 of the concatenation of the parts: the binding hash of a verified object
    /// ([`Verified::digest`](crate::Verified::digest)).
    pub sha256: fn(parts: &[&[u8]]) -> [u8; 32],
}

impl fmt::Debug for CryptoProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CryptoProvider({})", self.name)
    }
}

/// Ed25519 (RFC 8032) as a provider implements it.
///
/// Verification must accept exactly the signatures RFC 8032 defines as valid with the extra
/// rule that `S` is canonical (below the group order), and refuse every other: the format
/// depends on all verifiers agreeing.
pub trait Ed25519: Send + Sync {
    /// Verifies `signature` of `message` by the public key `public` (its 32-byte encoding).
    ///
    /// # Errors
    ///
    /// [`SignatureError`] if the signature is not valid (including a public key that is not a
    /// point, or a signature that is not 64 bytes).
    fn verify(
        &self,
        public: &[u8; 32],
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), SignatureError>;

    /// The public key in the provider's decoded form, to verify with many times. `None` if the
    /// provider has no such form (then [`Ed25519::verify`] decodes the key on every call) or
    /// refuses these bytes as a key (then every verification with them fails anyway).
    fn parse_public_key(&self, public: &[u8; 32]) -> Option<Box<dyn ParsedPublicKey>> {
        let _ = public;
        None
    }

    /// A signing key from its 32-byte seed (the RFC 8032 private key).
    ///
    /// # Errors
    ///
    /// [`KeyError::InvalidSeed`] if the provider refuses the seed.
    fn signer_from_seed(&self, seed: &[u8; 32]) -> Result<Box<dyn Ed25519Signer>, KeyError>;

    /// A signing key from a PKCS#8 (v1 or v2) document.
    ///
    /// # Errors
    ///
    /// [`KeyError::InvalidPkcs8`] if the document is not an Ed25519 PKCS#8 key with a
    /// consistent public key.
    fn signer_from_pkcs8(&self, pkcs8: &[u8]) -> Result<Box<dyn Ed25519Signer>, KeyError>;
}

/// A public key decoded once by its provider, verifying many signatures.
pub trait ParsedPublicKey: Send + Sync {
    /// Verifies `signature` of `message` by this key.
    ///
    /// # Errors
    ///
    /// [`SignatureError`] if the signature is not valid.
    fn verify(&self, message: &[u8], signature: &[u8]) -> Result<(), SignatureError>;
}

/// An Ed25519 private key held by its provider.
pub trait Ed25519Signer: Send + Sync {
    /// The 32-byte public key.
    fn public_key(&self) -> [u8; 32];
    /// The signature of `message` (Ed25519 is deterministic: the same for every provider).
    fn sign(&self, message: &[u8]) -> [u8; 64];
}

/// Every provider this build holds, the default ([`RING`]) first: the ones to name in a
/// configuration, and the ones the test suites run through.
#[must_use]
pub fn providers() -> &'static [&'static CryptoProvider] {
    #[cfg(feature = "aws-lc-rs")]
    const ALL: &[&CryptoProvider] = &[&RING, &AWS_LC_RS];
    #[cfg(not(feature = "aws-lc-rs"))]
    const ALL: &[&CryptoProvider] = &[&RING];
    ALL
}

/// The provider of this build named `name` (`"ring"`, or `"aws-lc-rs"` with that feature).
#[must_use]
pub fn by_name(name: &str) -> Option<&'static CryptoProvider> {
    providers().iter().copied().find(|p| p.name == name)
}

/// The decoded form of one directory key, kept beside it by the first provider that can decode
/// it. Part of [`PartyKey`](crate::PartyKey); invisible to its equality, and cloned with it.
#[derive(Default)]
pub(crate) struct KeyCache(OnceLock<Decoded>);

#[derive(Clone)]
struct Decoded {
    provider: &'static str,
    /// The bytes it was decoded from: a key record whose public key was changed since does
    /// not use it.
    public: [u8; 32],
    key: Arc<dyn ParsedPublicKey>,
}

impl KeyCache {
    /// Verifies with `public`, through its decoded form when `provider` has one: decoded on the
    /// first call, reused on the next ones.
    pub(crate) fn verify(
        &self,
        provider: &CryptoProvider,
        public: &[u8; 32],
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), SignatureError> {
        if let Some(d) = self.0.get() {
            if d.provider == provider.name && d.public == *public {
                return d.key.verify(message, signature);
            }
            return provider.ed25519.verify(public, message, signature);
        }
        match provider.ed25519.parse_public_key(public) {
            Some(key) => {
                let key: Arc<dyn ParsedPublicKey> = Arc::from(key);
                let result = key.verify(message, signature);
                // Another thread may have filled it meanwhile: either form verifies alike.
                let _ = self.0.set(Decoded {
                    provider: provider.name,
                    public: *public,
                    key,
                });
                result
            }
            None => provider.ed25519.verify(public, message, signature),
        }
    }

    /// The provider whose decoded key is kept, if any.
    pub(crate) fn provider(&self) -> Option<&'static str> {
        self.0.get().map(|d| d.provider)
    }
}

impl Clone for KeyCache {
    fn clone(&self) -> Self {
        let cache = KeyCache::default();
        if let Some(d) = self.0.get() {
            let _ = cache.0.set(d.clone());
        }
        cache
    }
}

/// A cache: two key records are equal whatever they have decoded.
impl PartialEq for KeyCache {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for KeyCache {}

impl fmt::Debug for KeyCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.provider() {
            Some(name) => write!(f, "decoded by {name}"),
            None => f.write_str("not decoded"),
        }
    }
}

#[cfg(test)]
mod tests;
