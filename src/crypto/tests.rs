use super::*;
use crate::directory::{Directory, Party, PartyId, PartyKey, Role};
use crate::keys::{SigningKey, VerifyingKey};
use crate::time::Timestamp;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A provider that verifies with ring but, unlike ring, has a decoded key form, and counts how
/// often it decodes: the cache's behaviour, whatever features are built.
struct Counting {
    parses: AtomicUsize,
    refuse_seeds: bool,
}

struct CountingKey([u8; 32]);

impl ParsedPublicKey for CountingKey {
    fn verify(&self, message: &[u8], signature: &[u8]) -> Result<(), SignatureError> {
        RING.ed25519.verify(&self.0, message, signature)
    }
}

impl Ed25519 for Counting {
    fn verify(&self, public: &[u8; 32], m: &[u8], s: &[u8]) -> Result<(), SignatureError> {
        RING.ed25519.verify(public, m, s)
    }
    fn parse_public_key(&self, public: &[u8; 32]) -> Option<Box<dyn ParsedPublicKey>> {
        self.parses.fetch_add(1, Ordering::SeqCst);
        Some(Box::new(CountingKey(*public)))
    }
    fn signer_from_seed(&self, seed: &[u8; 32]) -> Result<Box<dyn Ed25519Signer>, KeyError> {
        if self.refuse_seeds {
            return Err(KeyError::InvalidSeed);
        }
        RING.ed25519.signer_from_seed(seed)
    }
    fn signer_from_pkcs8(&self, pkcs8: &[u8]) -> Result<Box<dyn Ed25519Signer>, KeyError> {
        RING.ed25519.signer_from_pkcs8(pkcs8)
    }
}

/// A counting provider of its own per test, so that tests running in parallel do not share a
/// count.
macro_rules! counting {
    ($counter:ident, $provider:ident, $name:literal) => {
        static $counter: Counting = Counting {
            parses: AtomicUsize::new(0),
            refuse_seeds: false,
        };
        static $provider: CryptoProvider = CryptoProvider {
            name: $name,
            ed25519: &$counter,
            sha256: RING.sha256,
        };
    };
}

counting!(COUNTING, COUNTING_PROVIDER, "counting");
counting!(COUNTING_DIR, COUNTING_DIR_PROVIDER, "counting-dir");
counting!(COUNTING_MISC, COUNTING_MISC_PROVIDER, "counting-misc");
static REFUSING: Counting = Counting {
    parses: AtomicUsize::new(0),
    refuse_seeds: true,
};
static REFUSING_PROVIDER: CryptoProvider = CryptoProvider {
    name: "refusing",
    ed25519: &REFUSING,
    sha256: RING.sha256,
};

fn hex(bytes: &[u8]) -> String {
    crate::hex::encode(bytes)
}

#[test]
fn every_provider_signs_alike_and_accepts_the_others_signatures() {
    for signer in providers() {
        let key = SigningKey::from_seed_with(signer, &[3; 32]).unwrap();
        assert_eq!(key.provider(), signer.name);
        // RFC 8032 derives the key and the signature from the seed alone.
        assert_eq!(
            key.verifying_key(),
            SigningKey::from_seed(&[3; 32]).verifying_key()
        );
        let sig = key.sign(b"message");
        assert_eq!(sig, SigningKey::from_seed(&[3; 32]).sign(b"message"));
        for verifier in providers() {
            let public = key.verifying_key();
            assert_eq!(public.verify_with(verifier, b"message", &sig), Ok(()));
            assert_eq!(
                public.verify_with(verifier, b"messagf", &sig),
                Err(SignatureError)
            );
            assert_eq!(
                public.verify_with(verifier, b"message", &sig[..63]),
                Err(SignatureError)
            );
        }
    }
}

#[test]
fn every_provider_loads_pkcs8_and_refuses_a_truncated_document() {
    let doc = SigningKey::generate(&::ring::rand::SystemRandom::new()).unwrap();
    let reference = SigningKey::from_pkcs8(&doc).unwrap();
    for p in providers() {
        let key = SigningKey::from_pkcs8_with(p, &doc).unwrap();
        assert_eq!(key.verifying_key(), reference.verifying_key(), "{}", p.name);
        assert_eq!(
            SigningKey::from_pkcs8_with(p, &doc[1..]).err(),
            Some(KeyError::InvalidPkcs8),
            "{}",
            p.name
        );
    }
}

#[test]
fn every_provider_hashes_sha256_as_fips_180_4() {
    // FIPS 180-4's example "abc", split in two parts.
    for p in providers() {
        assert_eq!(
            hex(&(p.sha256)(&[b"a", b"bc"])),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
            "{}",
            p.name
        );
    }
}

#[test]
fn providers_are_found_by_name_ring_first() {
    assert_eq!(providers()[0].name, "ring");
    for p in providers() {
        assert_eq!(by_name(p.name).map(|q| q.name), Some(p.name));
    }
    assert!(by_name("ring").is_some());
    assert_eq!(
        by_name("aws-lc-rs").is_some(),
        cfg!(feature = "aws-lc-rs"),
        "aws-lc-rs is there exactly when its feature is"
    );
    assert!(by_name("openssl").is_none());
    assert_eq!(format!("{:?}", RING), "CryptoProvider(ring)");
}

#[test]
fn a_provider_refusing_a_seed_is_a_typed_refusal() {
    let err = SigningKey::from_seed_with(&REFUSING_PROVIDER, &[1; 32]).err();
    assert_eq!(err, Some(KeyError::InvalidSeed));
    assert_eq!(KeyError::InvalidSeed.code(), "key/invalid_seed");
}

#[test]
fn a_directory_key_is_decoded_once_by_a_provider_that_can() {
    let key = SigningKey::from_seed(&[4; 32]);
    let record = PartyKey::new(key.verifying_key(), Timestamp(0));
    assert_eq!(record.decoded_by(), None);
    let before = COUNTING.parses.load(Ordering::SeqCst);
    let sig = key.sign(b"m");
    for _ in 0..3 {
        assert_eq!(record.verify_with(&COUNTING_PROVIDER, b"m", &sig), Ok(()));
        assert_eq!(
            record.verify_with(&COUNTING_PROVIDER, b"x", &sig),
            Err(SignatureError)
        );
    }
    assert_eq!(COUNTING.parses.load(Ordering::SeqCst) - before, 1);
    assert_eq!(record.decoded_by(), Some("counting"));
    // Another provider still verifies, with its own path, and leaves the cache as it is.
    assert_eq!(record.verify_with(&RING, b"m", &sig), Ok(()));
    assert_eq!(record.verify_with(&RING, b"x", &sig), Err(SignatureError));
    assert_eq!(record.decoded_by(), Some("counting"));
    // The cache is invisible to equality and travels with a clone.
    let fresh = PartyKey::new(key.verifying_key(), Timestamp(0));
    assert_eq!(record, fresh);
    assert_eq!(record.clone().decoded_by(), Some("counting"));
    assert!(format!("{record:?}").contains("decoded by counting"));
    assert!(format!("{fresh:?}").contains("not decoded"));
}

#[test]
fn ring_keeps_no_decoded_key() {
    let key = SigningKey::from_seed(&[4; 32]);
    let record = PartyKey::new(key.verifying_key(), Timestamp(0));
    assert_eq!(record.verify_with(&RING, b"m", &key.sign(b"m")), Ok(()));
    assert_eq!(record.decoded_by(), None);
}

#[cfg(feature = "aws-lc-rs")]
#[test]
fn aws_lc_rs_keeps_its_decoded_key() {
    let key = SigningKey::from_seed(&[4; 32]);
    let record = PartyKey::new(key.verifying_key(), Timestamp(0));
    assert_eq!(
        record.verify_with(&AWS_LC_RS, b"m", &key.sign(b"m")),
        Ok(())
    );
    assert_eq!(record.decoded_by(), Some("aws-lc-rs"));
    assert_eq!(
        record.verify_with(&AWS_LC_RS, b"n", &key.sign(b"m")),
        Err(SignatureError)
    );
}

/// A key record whose public key is replaced after it was decoded must verify with the new key
/// and never with the old one: the cache is checked against the bytes it came from.
#[test]
fn a_replaced_public_key_is_never_verified_with_its_old_decoded_form() {
    let (old, new) = (
        SigningKey::from_seed(&[5; 32]),
        SigningKey::from_seed(&[6; 32]),
    );
    let mut record = PartyKey::new(old.verifying_key(), Timestamp(0));
    assert_eq!(
        record.verify_with(&COUNTING_MISC_PROVIDER, b"m", &old.sign(b"m")),
        Ok(())
    );
    record.public = new.verifying_key();
    assert_eq!(
        record.verify_with(&COUNTING_MISC_PROVIDER, b"m", &old.sign(b"m")),
        Err(SignatureError)
    );
    assert_eq!(
        record.verify_with(&COUNTING_MISC_PROVIDER, b"m", &new.sign(b"m")),
        Ok(())
    );
}

#[test]
fn a_key_that_is_no_point_fails_with_every_provider() {
    // The y coordinate 2 has no x on edwards25519 (Wycheproof's invalid public keys use such
    // encodings): every verification with it fails, decoded or not.
    let mut bytes = [0u8; 32];
    bytes[0] = 2;
    let record = PartyKey::new(VerifyingKey::from_bytes(bytes), Timestamp(0));
    for p in providers().iter().copied().chain([&COUNTING_MISC_PROVIDER]) {
        assert_eq!(
            record.verify_with(p, b"m", &[0; 64]),
            Err(SignatureError),
            "{}",
            p.name
        );
    }
}

/// A grant verified through a directory with the counting provider decodes its signer's key
/// once, however many times it is verified, and the digest is the object's SHA-256.
#[test]
fn verifying_objects_decodes_each_directory_key_once() {
    let key = SigningKey::from_seed(&[8; 32]);
    let id = PartyId::from_bytes([1; 16]);
    let mut dir = Directory::new();
    dir.add_party(
        Party::new(id, "Mairie", Role::Consumer)
            .with_key(PartyKey::new(key.verifying_key(), Timestamp(0))),
    )
    .unwrap();
    let bytes = crate::danger::sign(crate::cose::ObjectKind::Grant, &key, b"payload");
    let env = crate::cose::Envelope::parse(&bytes).unwrap();
    let record = dir.key(&key.key_id()).unwrap().1;
    let before = COUNTING_DIR.parses.load(Ordering::SeqCst);
    for _ in 0..4 {
        assert_eq!(
            env.verify_party_key(&COUNTING_DIR_PROVIDER, record),
            Ok(&b"payload"[..])
        );
    }
    // The directory's own record was decoded (not a copy), once.
    assert_eq!(COUNTING_DIR.parses.load(Ordering::SeqCst) - before, 1);
    assert_eq!(
        dir.key(&key.key_id()).unwrap().1.decoded_by(),
        Some("counting-dir")
    );
}
