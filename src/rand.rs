//! Fresh identifiers and keys for services, from a random source the caller supplies.
//!
//! The core draws no randomness of its own: a service passes its source to each minting helper
//! — [`BasisId::generate`](crate::BasisId::generate),
//! [`RequestId::generate`](crate::RequestId::generate),
//! [`PartyId::generate`](crate::PartyId::generate), [`uuid()`] (receipt ids) and
//! [`SigningKey::generate`](crate::SigningKey::generate) — usually the operating system's,
//! [`SystemRandom`] (re-exported from `ring`, like [`SecureRandom`], so that a service needs no
//! dependency of its own on `ring` or `uuid` to call the API: the crate re-exports `uuid` too).
//! A source that fails makes the helper fail with [`RandomError`] (code `random/failed`), never
//! with a weak value.
//!
//! ```
//! use consentry::rand::{self, SystemRandom};
//! use consentry::{BasisId, PartyId, RequestId, SigningKey};
//!
//! let rng = SystemRandom::new();
//! let grant_id = BasisId::generate(&rng)?;
//! let request_id = RequestId::generate(&rng)?;
//! let party = PartyId::generate(&rng)?;
//! let receipt_id: consentry::uuid::Uuid = rand::uuid(&rng)?;
//! assert_eq!(grant_id.0.get_version_num(), 4);
//! assert_ne!(request_id.0, receipt_id);
//! // A new key: its PKCS#8 document is the secret to store; load it with `from_pkcs8`.
//! let document = SigningKey::generate(&rng)?;
//! let key = SigningKey::from_pkcs8(&document)?;
//! # let _ = (party, key);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use thiserror::Error;

pub use ring::rand::{SecureRandom, SystemRandom};

/// The random source failed: nothing was minted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
#[error("the random source failed")]
pub struct RandomError;

impl RandomError {
    /// A stable code naming the refusal, for matching, logs and bindings.
    #[must_use]
    pub fn code(&self) -> &'static str {
        "random/failed"
    }
}

/// A source of cryptographically secure random bytes, supplied by the caller.
///
/// Implemented for [`SystemRandom`] (the operating system's source); a service with another
/// source (a hardware module, a seeded generator in its own tests) implements it. A source that
/// cannot deliver must return [`RandomError`], never fewer or predictable bytes.
pub trait RandomSource {
    /// Fills `dest` with random bytes.
    ///
    /// # Errors
    ///
    /// [`RandomError`] if the source cannot deliver them.
    fn fill(&self, dest: &mut [u8]) -> Result<(), RandomError>;
}

impl RandomSource for SystemRandom {
    fn fill(&self, dest: &mut [u8]) -> Result<(), RandomError> {
        SecureRandom::fill(self, dest).map_err(|_| RandomError)
    }
}

impl<T: RandomSource + ?Sized> RandomSource for &T {
    fn fill(&self, dest: &mut [u8]) -> Result<(), RandomError> {
        (**self).fill(dest)
    }
}

/// `N` random bytes from `rng`.
pub(crate) fn bytes<const N: usize>(rng: &dyn RandomSource) -> Result<[u8; N], RandomError> {
    let mut out = [0u8; N];
    rng.fill(&mut out)?;
    Ok(out)
}

/// A random (version 4) UUID: a receipt's id, or any id a service mints.
///
/// # Errors
///
/// [`RandomError`] if `rng` fails.
pub fn uuid(rng: &dyn RandomSource) -> Result<::uuid::Uuid, RandomError> {
    Ok(::uuid::Builder::from_random_bytes(bytes::<16>(rng)?).into_uuid())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::{BasisId, KeyError, PartyId, RequestId, SigningKey};
    use std::cell::Cell;

    /// A source that fails on every call.
    pub(crate) struct Failing;
    impl RandomSource for Failing {
        fn fill(&self, _: &mut [u8]) -> Result<(), RandomError> {
            Err(RandomError)
        }
    }

    /// A predictable source: each call fills with the next byte value.
    struct Counter(Cell<u8>);
    impl RandomSource for Counter {
        fn fill(&self, dest: &mut [u8]) -> Result<(), RandomError> {
            let b = self.0.get().wrapping_add(1);
            self.0.set(b);
            dest.fill(b);
            Ok(())
        }
    }

    #[test]
    fn a_failing_source_mints_nothing() {
        assert_eq!(uuid(&Failing), Err(RandomError));
        assert_eq!(BasisId::generate(&Failing), Err(RandomError));
        assert_eq!(RequestId::generate(&Failing), Err(RandomError));
        assert_eq!(PartyId::generate(&Failing), Err(RandomError));
        assert_eq!(SigningKey::generate(&Failing), Err(KeyError::Randomness));
        assert_eq!(RandomError.code(), "random/failed");
    }

    #[test]
    fn ids_are_version_4_uuids_of_the_sources_bytes() {
        let rng = Counter(Cell::new(0));
        let id = BasisId::generate(&rng).expect("id");
        // RFC 9562 §5.4: version 4 in the high nibble of byte 6, variant 10 in byte 8; every
        // other bit is the source's.
        let mut want = [1u8; 16];
        want[6] = 0x40 | (1 & 0x0f);
        want[8] = 0x80 | (1 & 0x3f);
        assert_eq!(id.0.as_bytes(), &want);
        assert_eq!(RequestId::generate(&rng).expect("id").0.as_bytes()[0], 2);
        assert_eq!(PartyId::generate(&rng).expect("id").as_bytes()[0], 3);
        assert_eq!(uuid(&rng).expect("id").get_version_num(), 4);
    }

    #[test]
    fn the_system_source_mints_distinct_ids_and_keys() {
        let rng = SystemRandom::new();
        let (a, b) = (uuid(&rng).expect("id"), uuid(&rng).expect("id"));
        assert_ne!(a, b);
        let doc = SigningKey::generate(&rng).expect("key");
        let other = SigningKey::generate(&rng).expect("key");
        assert_ne!(doc, other);
        assert!(SigningKey::from_pkcs8(&doc).is_ok());
    }

    #[test]
    fn a_generated_key_is_the_key_of_the_sources_seed() {
        let rng = Counter(Cell::new(6));
        let doc = SigningKey::generate(&rng).expect("key");
        let key = SigningKey::from_pkcs8(&doc).expect("a PKCS#8 document ring reads");
        assert_eq!(
            key.verifying_key(),
            SigningKey::from_seed(&[7; 32]).verifying_key()
        );
        // The same layout as ring's own PKCS#8 v2 documents: only the seed and the public key
        // differ.
        let theirs =
            ring::signature::Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).expect("ring");
        let theirs = theirs.as_ref();
        assert_eq!(doc.len(), theirs.len());
        assert_eq!(doc[..16], theirs[..16]);
        assert_eq!(doc[48..51], theirs[48..51]);
        assert_eq!(doc[51..], *key.verifying_key().as_bytes());
    }
}
