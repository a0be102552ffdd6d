//! Ed25519 keys, key ids and the one opaque signature error.

use crate::Digest;
use crate::crypto::{self, CryptoProvider, Ed25519Signer};
use std::fmt;
use thiserror::Error;

/// Signature verification failed. Deliberately carries no detail.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
#[error("invalid signature")]
pub struct SignatureError;

/// A private key could not be loaded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The bytes are not an Ed25519 PKCS#8 v1 or v2 document with a consistent public key.
    #[error("not a valid Ed25519 PKCS#8 private key")]
    InvalidPkcs8,
    /// The random source failed while generating a key.
    #[error("the random source failed")]
    Randomness,
    /// The crypto provider refused a 32-byte seed as an Ed25519 private key (the crate's
    /// providers accept every seed; a service's own provider may not).
    #[error("the crypto provider refused the Ed25519 seed")]
    InvalidSeed,
}

impl KeyError {
    /// A stable code naming the refusal, for matching, logs and bindings.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            KeyError::InvalidPkcs8 => "key/invalid_pkcs8",
            KeyError::Randomness => "key/randomness",
            KeyError::InvalidSeed => "key/invalid_seed",
        }
    }
}

/// A key id: the first 16 bytes of SHA-256 over the ASCII string `consentry-kid-v1`, a zero
/// byte, and the 32-byte Ed25519 public key.
///
/// The id is derived, never chosen, so a directory can check that a kid names the key it claims
/// to, and two keys never share an id in practice (a collision would need 2^64 work and is
/// refused by the directory anyway).
///
/// ```
/// use consentry::{KeyId, SigningKey};
/// let key = SigningKey::from_seed(&[7; 32]);
/// assert_eq!(KeyId::of(&key.verifying_key()), key.key_id());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId(pub(crate) [u8; 16]);

impl KeyId {
    /// Domain-separation prefix of the derivation.
    pub const DERIVATION_PREFIX: &'static [u8] = b"consentry-kid-v1\0";

    /// The key id of a public key.
    #[must_use]
    pub fn of(key: &VerifyingKey) -> KeyId {
        let d = Digest::of_parts(&[Self::DERIVATION_PREFIX, &key.0]);
        let mut id = [0u8; 16];
        id.copy_from_slice(&d.0[..16]);
        KeyId(id)
    }

    /// A key id from its 16 bytes (as carried in a COSE `kid` header).
    #[must_use]
    pub const fn from_bytes(bytes: [u8; 16]) -> Self {
        KeyId(bytes)
    }

    /// The key id's bytes.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    /// Lower-case hexadecimal form.
    #[must_use]
    pub fn to_hex(&self) -> String {
        crate::hex::encode(&self.0)
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({})", self.to_hex())
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// An Ed25519 public key.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct VerifyingKey(pub(crate) [u8; 32]);

impl VerifyingKey {
    /// A public key from its 32 bytes (RFC 8032 encoding). Any 32 bytes are accepted here; a
    /// key that is not a valid point fails every verification.
    #[must_use]
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        VerifyingKey(bytes)
    }

    /// The key's 32 bytes.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Verifies an Ed25519 signature of `message` with the default provider,
    /// [`RING`](crate::crypto::RING) (RFC 8032: the signature's `S` must be canonical).
    ///
    /// # Errors
    ///
    /// [`SignatureError`] if `signature` is not a valid signature of `message` by this key.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> Result<(), SignatureError> {
        self.verify_with(&crypto::RING, message, signature)
    }

    /// Verifies an Ed25519 signature of `message` with `provider`. The key is decoded for this
    /// one call; a [`PartyKey`](crate::PartyKey) keeps its decoded form instead.
    ///
    /// # Errors
    ///
    /// [`SignatureError`] if `signature` is not a valid signature of `message` by this key.
    pub fn verify_with(
        &self,
        provider: &CryptoProvider,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), SignatureError> {
        provider.ed25519.verify(&self.0, message, signature)
    }

    /// This key's id.
    #[must_use]
    pub fn key_id(&self) -> KeyId {
        KeyId::of(self)
    }

    /// Lower-case hexadecimal form.
    #[must_use]
    pub fn to_hex(&self) -> String {
        crate::hex::encode(&self.0)
    }
}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VerifyingKey({})", self.to_hex())
    }
}

/// An Ed25519 private key, held by the crypto provider that loaded it (the default,
/// [`RING`](crate::crypto::RING), unless made by a `_with` constructor); every signature it
/// makes goes through that provider. Its `Debug` form shows only the public key and key id.
///
/// ```
/// use consentry::SigningKey;
/// let key = SigningKey::from_seed(&[1; 32]);
/// let sig = consentry::danger::sign_raw(&key, b"hello");
/// assert!(key.verifying_key().verify(b"hello", &sig).is_ok());
/// assert!(!format!("{key:?}").contains("0101"));
/// ```
pub struct SigningKey {
    pair: Box<dyn Ed25519Signer>,
    provider: &'static str,
    public: VerifyingKey,
    /// The key id of `public`, derived once: every signature writes it in the envelope.
    kid: KeyId,
}

impl SigningKey {
    /// Loads a key from a PKCS#8 (v1 or v2) document, as produced by [`SigningKey::generate`].
    ///
    /// # Errors
    ///
    /// [`KeyError::InvalidPkcs8`] if `pkcs8` is not an Ed25519 PKCS#8 v1 or v2 document with a
    /// consistent public key.
    pub fn from_pkcs8(pkcs8: &[u8]) -> Result<Self, KeyError> {
        Self::from_pkcs8_with(&crypto::RING, pkcs8)
    }

    /// Loads a key from a PKCS#8 (v1 or v2) document into `provider`, which then makes its
    /// signatures.
    ///
    /// # Errors
    ///
    /// As [`SigningKey::from_pkcs8`].
    pub fn from_pkcs8_with(
        provider: &'static CryptoProvider,
        pkcs8: &[u8],
    ) -> Result<Self, KeyError> {
        provider
            .ed25519
            .signer_from_pkcs8(pkcs8)
            .map(|pair| Self::from_pair(provider, pair))
    }

    /// Derives a key from a 32-byte seed (RFC 8032 private key). Meant for tests and published
    /// vectors, where keys must be reproducible; services generate keys instead.
    #[must_use]
    pub fn from_seed(seed: &[u8; 32]) -> Self {
        // A 32-byte seed is always a valid Ed25519 private key; ring only rejects other lengths.
        match Self::from_seed_with(&crypto::RING, seed) {
            Ok(key) => key,
            Err(_) => unreachable!("ring accepts every 32-byte Ed25519 seed"),
        }
    }

    /// Derives a key from a 32-byte seed into `provider`, which then makes its signatures.
    ///
    /// ```
    /// use consentry::{crypto, SigningKey};
    /// for provider in crypto::providers() {
    ///     let key = SigningKey::from_seed_with(provider, &[7; 32]).unwrap();
    ///     // Ed25519 is deterministic: every provider derives the same key and signature.
    ///     assert_eq!(key.verifying_key(), SigningKey::from_seed(&[7; 32]).verifying_key());
    /// }
    /// ```
    ///
    /// # Errors
    ///
    /// [`KeyError::InvalidSeed`] if the provider refuses the seed (the crate's never do).
    pub fn from_seed_with(
        provider: &'static CryptoProvider,
        seed: &[u8; 32],
    ) -> Result<Self, KeyError> {
        provider
            .ed25519
            .signer_from_seed(seed)
            .map(|pair| Self::from_pair(provider, pair))
    }

    /// Generates a new key from 32 bytes of the caller's random source (for instance
    /// [`SystemRandom`](crate::rand::SystemRandom)), returning its PKCS#8 v2 document (RFC 5958,
    /// the layout `ring` writes) for storage; load it with [`SigningKey::from_pkcs8`].
    ///
    /// # Errors
    ///
    /// [`KeyError::Randomness`] if `rng` fails.
    pub fn generate(rng: &dyn crate::rand::RandomSource) -> Result<Vec<u8>, KeyError> {
        let seed = crate::rand::bytes::<32>(rng).map_err(|_| KeyError::Randomness)?;
        let public = Self::from_seed(&seed).verifying_key();
        // OneAsymmetricKey v2 (RFC 5958): version 1, algorithm id-Ed25519 (1.3.101.112), the
        // seed as a CurvePrivateKey, and the public key as [1] IMPLICIT BIT STRING.
        let mut doc = Vec::with_capacity(83);
        doc.extend_from_slice(&[0x30, 0x51, 0x02, 0x01, 0x01, 0x30, 0x05, 0x06, 0x03, 0x2b]);
        doc.extend_from_slice(&[0x65, 0x70, 0x04, 0x22, 0x04, 0x20]);
        doc.extend_from_slice(&seed);
        doc.extend_from_slice(&[0x81, 0x21, 0x00]);
        doc.extend_from_slice(&public.0);
        Ok(doc)
    }

    fn from_pair(provider: &CryptoProvider, pair: Box<dyn Ed25519Signer>) -> Self {
        let public = VerifyingKey(pair.public_key());
        SigningKey {
            pair,
            provider: provider.name,
            public,
            kid: public.key_id(),
        }
    }

    /// Signs `message`.
    pub(crate) fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.pair.sign(message)
    }

    /// The name of the crypto provider that holds the key and makes its signatures.
    #[must_use]
    pub fn provider(&self) -> &'static str {
        self.provider
    }

    /// The public half.
    #[must_use]
    pub fn verifying_key(&self) -> VerifyingKey {
        self.public
    }

    /// The key id of the public half.
    #[must_use]
    pub fn key_id(&self) -> KeyId {
        self.kid
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.key_id())
            .field("public", &self.public)
            .field("provider", &self.provider)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkcs8_round_trip_and_refusal() {
        let rng = ring::rand::SystemRandom::new();
        let doc = SigningKey::generate(&rng).unwrap();
        let key = SigningKey::from_pkcs8(&doc).unwrap();
        let sig = key.sign(b"m");
        assert_eq!(key.verifying_key().verify(b"m", &sig), Ok(()));
        assert_eq!(key.verifying_key().verify(b"n", &sig), Err(SignatureError));
        assert_eq!(
            SigningKey::from_pkcs8(&doc[1..]).err(),
            Some(KeyError::InvalidPkcs8)
        );
    }

    #[test]
    fn rfc8032_test_1_public_key_from_seed() {
        let seed =
            crate::hex::decode("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
                .unwrap();
        let key = SigningKey::from_seed(&seed.try_into().unwrap());
        assert_eq!(
            key.verifying_key().to_hex(),
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
        );
        // Debug shows the public key and the key id, never the seed.
        let debug = format!("{key:?}");
        assert!(!debug.contains("9d61b19d"), "{debug}");
        let public = key.verifying_key();
        assert_eq!(
            debug,
            format!(
                "SigningKey {{ kid: KeyId({}), public: {public:?}, provider: \"ring\", .. }}",
                key.key_id()
            )
        );
        assert_eq!(
            format!("{public:?}"),
            format!("VerifyingKey({})", public.to_hex())
        );
    }

    #[test]
    fn a_key_id_prints_as_lower_case_hex() {
        let kid = KeyId([0xab; 16]);
        assert_eq!(kid.to_string(), "ab".repeat(16));
        assert_eq!(format!("{kid:?}"), format!("KeyId({})", "ab".repeat(16)));
    }
}
