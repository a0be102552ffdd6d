//! Raw COSE_Sign1 assembly and signing over payload bytes the library did not encode: reached
//! from outside the crate only through [`crate::danger`].

use super::{COSE_SIGN1_TAG, ObjectKind, protected_header, with_sig_structure};
use crate::cbor::Encoder;
use crate::keys::SigningKey;

/// Assembles a tagged `COSE_Sign1` from its parts (the unprotected header is written as given,
/// already encoded).
#[must_use]
pub fn assemble(protected: &[u8], unprotected: &[u8], payload: &[u8], signature: &[u8]) -> Vec<u8> {
    // Tag, array header and three byte-string headers: at most 29 bytes.
    let mut e = Encoder::with_capacity(
        protected.len() + unprotected.len() + payload.len() + signature.len() + 29,
    );
    e.tag(COSE_SIGN1_TAG)
        .array(4)
        .bytes(protected)
        .raw(unprotected)
        .bytes(payload)
        .bytes(signature);
    e.into_bytes()
}

/// Signs `payload` as an object of `kind`, returning the tagged `COSE_Sign1` bytes.
///
/// ```
/// use consentry::SigningKey;
/// use consentry::cose::{Envelope, ObjectKind};
/// use consentry::danger;
/// let key = SigningKey::from_seed(&[3; 32]);
/// let bytes = danger::sign(ObjectKind::Grant, &key, b"payload");
/// let env = Envelope::parse_kind(&bytes, ObjectKind::Grant).unwrap();
/// assert_eq!(env.verify(&key.verifying_key()), Ok(&b"payload"[..]));
/// assert!(Envelope::parse_kind(&bytes, ObjectKind::Request).is_err());
/// ```
#[must_use]
pub fn sign(kind: ObjectKind, key: &SigningKey, payload: &[u8]) -> Vec<u8> {
    let protected = protected_header(kind, &key.key_id());
    let signature = with_sig_structure(&protected, payload, |message| key.sign(message));
    assemble(&protected, &[0xa0], payload, &signature)
}
