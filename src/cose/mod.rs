//! The `COSE_Sign1` envelope (RFC 9052 §4.2) around every signed object.
//!
//! Wire form: tag 18 around `[protected, unprotected, payload, signature]` where
//! - `protected` is a byte string holding the map `{1: -8, 3: content type, 4: kid}` (EdDSA,
//!   the object kind, the signer's [`KeyId`]); the three parameters are required and no other
//!   is allowed. Their order inside the map is not checked (COSE libraries write them in
//!   insertion order), but each must be present exactly once and shortest-form encoded: the
//!   signature covers these bytes exactly as received, so any other order is simply another
//!   signed message, not a malleation of ours;
//! - `unprotected` is the empty map;
//! - `payload` is attached (a byte string, never `null`);
//! - `signature` is the 64-byte Ed25519 signature over the `Sig_structure`
//!   `["Signature1", protected, h'', payload]` (empty external AAD).
//!
//! [`sign`] produces the envelope; [`Envelope::parse`] and [`Envelope::verify`] take one apart.

#![allow(
    clippy::doc_markdown,
    reason = "EdDSA is an algorithm's name, not code"
)]

mod kind;
pub(crate) mod raw;

pub use kind::ObjectKind;
pub(crate) use raw::sign;

use crate::cbor::{DecodeError, Decoder, Encoder, Limits, Major};
use crate::crypto::CryptoProvider;
use crate::directory::PartyKey;
use crate::keys::{KeyId, SignatureError, VerifyingKey};
use thiserror::Error;

/// CBOR tag of a `COSE_Sign1` message.
pub const COSE_SIGN1_TAG: u64 = 18;
/// COSE algorithm identifier of EdDSA.
pub const ALG_EDDSA: i64 = -8;

const LABEL_ALG: i64 = 1;
const LABEL_CONTENT_TYPE: i64 = 3;
const LABEL_KID: i64 = 4;

/// Why bytes are not a well-formed envelope of the expected kind.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum EnvelopeError {
    /// The bytes are not strict CBOR of the envelope's shape.
    #[error("malformed envelope: {0}")]
    Malformed(#[from] DecodeError),
    /// The top-level item is not tagged 18 (`COSE_Sign1`).
    #[error("not a COSE_Sign1 message: expected tag 18, found {found:?}")]
    WrongTag {
        /// The tag found, if any.
        found: Option<u64>,
    },
    /// The `COSE_Sign1` array does not have exactly four items.
    #[error("a COSE_Sign1 array has 4 items, found {found}")]
    WrongArity {
        /// The number of items found.
        found: usize,
    },
    /// The algorithm is not EdDSA (-8).
    #[error("unsupported algorithm {found} (only EdDSA, -8, is accepted)")]
    UnsupportedAlgorithm {
        /// The algorithm identifier found.
        found: i64,
    },
    /// The protected header lacks a required parameter.
    #[error("protected header lacks the {0} parameter")]
    MissingParameter(&'static str),
    /// The protected header holds a parameter other than alg, content type and kid.
    #[error("protected header parameter {label} is not allowed")]
    UnexpectedParameter {
        /// The label found.
        label: i64,
    },
    /// The unprotected header is not empty.
    #[error("the unprotected header must be empty")]
    UnprotectedHeaderNotEmpty,
    /// The content type names no object kind of this format.
    #[error("unknown content type {found}")]
    UnknownContentType {
        /// The content type found.
        found: u64,
    },
    /// The content type names another object kind than the one expected.
    #[error("expected a {expected}, found a {found}")]
    WrongKind {
        /// The kind expected by the caller.
        expected: ObjectKind,
        /// The kind the envelope declares.
        found: ObjectKind,
    },
    /// The payload is `null` (detached), which this format does not use.
    #[error("detached payloads are not accepted")]
    DetachedPayload,
    /// The signature is not 64 bytes.
    #[error("an Ed25519 signature is 64 bytes, found {found}")]
    SignatureLength {
        /// The length found.
        found: usize,
    },
}

impl EnvelopeError {
    /// A stable code naming the refusal (`envelope/…`, or the `cbor/…` code of a CBOR
    /// refusal), as the vectors and `docs/format.md` name it.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            EnvelopeError::Malformed(d) => d.code(),
            EnvelopeError::WrongTag { .. } => "envelope/wrong_tag",
            EnvelopeError::WrongArity { .. } => "envelope/wrong_arity",
            EnvelopeError::UnsupportedAlgorithm { .. } => "envelope/unsupported_algorithm",
            EnvelopeError::MissingParameter("alg") => "envelope/missing_alg",
            EnvelopeError::MissingParameter("content type") => "envelope/missing_content_type",
            EnvelopeError::MissingParameter(_) => "envelope/missing_kid",
            EnvelopeError::UnexpectedParameter { .. } => "envelope/unexpected_parameter",
            EnvelopeError::UnprotectedHeaderNotEmpty => "envelope/unprotected_not_empty",
            EnvelopeError::UnknownContentType { .. } => "envelope/unknown_content_type",
            EnvelopeError::WrongKind { .. } => "envelope/wrong_kind",
            EnvelopeError::DetachedPayload => "envelope/detached_payload",
            EnvelopeError::SignatureLength { .. } => "envelope/signature_length",
        }
    }
}

/// A parsed envelope whose signature has not been checked yet. It borrows the received bytes,
/// so the signature is later checked over them exactly as received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Envelope<'a> {
    protected: &'a [u8],
    kind: ObjectKind,
    kid: KeyId,
    payload: &'a [u8],
    signature: &'a [u8],
}

impl<'a> Envelope<'a> {
    /// Parses an envelope of any kind.
    ///
    /// # Errors
    ///
    /// [`EnvelopeError::WrongTag`], [`EnvelopeError::WrongArity`],
    /// [`EnvelopeError::UnprotectedHeaderNotEmpty`], [`EnvelopeError::DetachedPayload`] or
    /// [`EnvelopeError::SignatureLength`] if the bytes are not a tagged four-item `COSE_Sign1`
    /// with an empty unprotected header, an attached payload and a 64-byte signature;
    /// [`EnvelopeError::UnexpectedParameter`], [`EnvelopeError::UnsupportedAlgorithm`],
    /// [`EnvelopeError::MissingParameter`] or [`EnvelopeError::UnknownContentType`] for a
    /// protected header other than `{1: -8, 3: content type, 4: kid}`;
    /// [`EnvelopeError::Malformed`] if the bytes or the protected header are not strict CBOR.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, EnvelopeError> {
        Self::parse_within(bytes, Limits::OBJECT)
    }

    /// [`Envelope::parse`] under other size limits: a signed directory may be larger than an
    /// object.
    pub(crate) fn parse_within(bytes: &'a [u8], limits: Limits) -> Result<Self, EnvelopeError> {
        let mut d = Decoder::new(bytes, limits)?;
        let tag_offset = d.position();
        match d.peek_major()? {
            Major::Tag => match d.tag()? {
                COSE_SIGN1_TAG => {}
                other => return Err(EnvelopeError::WrongTag { found: Some(other) }),
            },
            _ => return Err(EnvelopeError::WrongTag { found: None }),
        }
        debug_assert!(tag_offset == 0);
        let arity = d.array()?;
        if arity != 4 {
            return Err(EnvelopeError::WrongArity { found: arity });
        }
        let protected = d.bytes()?;
        let (kind, kid) = parse_protected(protected)?;
        if d.map()? != 0 {
            return Err(EnvelopeError::UnprotectedHeaderNotEmpty);
        }
        if bytes.get(d.position()) == Some(&0xf6) {
            return Err(EnvelopeError::DetachedPayload);
        }
        let payload = d.bytes()?;
        let signature = d.bytes()?;
        if signature.len() != 64 {
            return Err(EnvelopeError::SignatureLength {
                found: signature.len(),
            });
        }
        d.finish()?;
        Ok(Envelope {
            protected,
            kind,
            kid,
            payload,
            signature,
        })
    }

    /// Parses an envelope and checks that it declares the `expected` kind.
    ///
    /// # Errors
    ///
    /// As [`Envelope::parse`], and [`EnvelopeError::WrongKind`] if the envelope holds another kind
    /// of object.
    pub fn parse_kind(bytes: &'a [u8], expected: ObjectKind) -> Result<Self, EnvelopeError> {
        Self::parse_kind_within(bytes, expected, Limits::OBJECT)
    }

    /// [`Envelope::parse_kind`] under other size limits.
    pub(crate) fn parse_kind_within(
        bytes: &'a [u8],
        expected: ObjectKind,
        limits: Limits,
    ) -> Result<Self, EnvelopeError> {
        let env = Self::parse_within(bytes, limits)?;
        if env.kind != expected {
            return Err(EnvelopeError::WrongKind {
                expected,
                found: env.kind,
            });
        }
        Ok(env)
    }

    /// The kind named by the content type.
    #[must_use]
    pub fn kind(&self) -> ObjectKind {
        self.kind
    }

    /// The key id of the signing key.
    #[must_use]
    pub fn kid(&self) -> KeyId {
        self.kid
    }

    /// The payload bytes, not yet authenticated.
    #[must_use]
    pub fn payload(&self) -> &'a [u8] {
        self.payload
    }

    /// The protected header bytes as received.
    #[must_use]
    pub fn protected(&self) -> &'a [u8] {
        self.protected
    }

    /// Checks the signature with `key` over the bytes as received, with the default crypto
    /// provider ([`RING`](crate::crypto::RING)); returns the payload.
    ///
    /// # Errors
    ///
    /// [`SignatureError`] if the signature is not `key`'s over the protected header and payload.
    pub fn verify(&self, key: &VerifyingKey) -> Result<&'a [u8], SignatureError> {
        self.verify_with(&crate::crypto::RING, key)
    }

    /// As [`Envelope::verify`], with `provider`.
    ///
    /// # Errors
    ///
    /// [`SignatureError`] if the signature is not `key`'s over the protected header and payload.
    pub fn verify_with(
        &self,
        provider: &CryptoProvider,
        key: &VerifyingKey,
    ) -> Result<&'a [u8], SignatureError> {
        with_sig_structure(self.protected, self.payload, |message| {
            key.verify_with(provider, message, self.signature)
        })?;
        Ok(self.payload)
    }

    /// As [`Envelope::verify_with`], with a directory's key record, which keeps the key as
    /// `provider` decoded it ([`PartyKey::verify_with`]).
    ///
    /// # Errors
    ///
    /// [`SignatureError`] if the signature is not `key`'s over the protected header and payload.
    pub fn verify_party_key(
        &self,
        provider: &CryptoProvider,
        key: &PartyKey,
    ) -> Result<&'a [u8], SignatureError> {
        with_sig_structure(self.protected, self.payload, |message| {
            key.verify_with(provider, message, self.signature)
        })?;
        Ok(self.payload)
    }
}

/// Reads the protected header map: exactly alg (-8), content type and kid.
fn parse_protected(bytes: &[u8]) -> Result<(ObjectKind, KeyId), EnvelopeError> {
    let mut d = Decoder::new(bytes, Limits::OBJECT)?;
    let entries = d.map()?;
    let (mut alg, mut content_type, mut kid) = (None, None, None);
    for _ in 0..entries {
        let offset = d.position();
        let label = d.int()?;
        let duplicate = match label {
            LABEL_ALG => alg.replace(d.int()?).is_some(),
            LABEL_CONTENT_TYPE => content_type.replace(d.uint()?).is_some(),
            LABEL_KID => kid.replace(d.fixed_bytes::<16>("kid")?).is_some(),
            other => return Err(EnvelopeError::UnexpectedParameter { label: other }),
        };
        if duplicate {
            return Err(DecodeError::DuplicateKey { offset }.into());
        }
    }
    d.finish()?;
    match alg {
        Some(ALG_EDDSA) => {}
        Some(found) => return Err(EnvelopeError::UnsupportedAlgorithm { found }),
        None => return Err(EnvelopeError::MissingParameter("alg")),
    }
    let content_type = content_type.ok_or(EnvelopeError::MissingParameter("content type"))?;
    let kind =
        ObjectKind::from_content_type(content_type).ok_or(EnvelopeError::UnknownContentType {
            found: content_type,
        })?;
    let kid = kid.ok_or(EnvelopeError::MissingParameter("kid"))?;
    Ok((kind, KeyId(kid)))
}

/// The protected header this implementation writes: `{1: -8, 3: content type, 4: kid}` in
/// deterministic order.
#[must_use]
pub fn protected_header(kind: ObjectKind, kid: &KeyId) -> Vec<u8> {
    // a3 01 27 03 19xxxx 04 50 <16 bytes>: 26 bytes.
    let mut e = Encoder::with_capacity(26);
    e.map(3)
        .int(LABEL_ALG)
        .int(ALG_EDDSA)
        .int(LABEL_CONTENT_TYPE)
        .uint(kind.content_type())
        .int(LABEL_KID)
        .bytes(&kid.0);
    e.into_bytes()
}

/// The COSE `Sig_structure` for `COSE_Sign1` with empty external AAD:
/// `["Signature1", protected, h'', payload]`.
#[must_use]
pub fn sig_structure(protected: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut message = vec![0; sig_structure_len(protected, payload)];
    write_sig_structure(&mut message, protected, payload);
    message
}

/// Calls `f` with the `Sig_structure` of `protected` and `payload`, built on the stack when it
/// fits (every request and grant of a usual size), so that verifying allocates nothing.
pub(crate) fn with_sig_structure<R>(
    protected: &[u8],
    payload: &[u8],
    f: impl FnOnce(&[u8]) -> R,
) -> R {
    const ON_STACK: usize = 1024;
    let len = sig_structure_len(protected, payload);
    if len <= ON_STACK {
        let mut message = [0; ON_STACK];
        write_sig_structure(&mut message[..len], protected, payload);
        f(&message[..len])
    } else {
        f(&sig_structure(protected, payload))
    }
}

/// The array head and "Signature1" with its text-string head.
const SIGNATURE1: &[u8] = b"\x84\x6aSignature1";

/// The shortest head of a byte string of `len` bytes (RFC 8949 §3): its bytes, and how many.
fn bstr_head(len: usize) -> ([u8; 9], usize) {
    let len = len as u64;
    let bytes = len.to_be_bytes();
    // Additional information: the length itself below 24, else the width of the length.
    let (info, width) = match len {
        0..24 => (bytes[7], 0),
        24..0x100 => (24, 1),
        0x100..0x1_0000 => (25, 2),
        0x1_0000..0x1_0000_0000 => (26, 4),
        _ => (27, 8),
    };
    let mut head = [0; 9];
    head[0] = 0x40 | info;
    head[1..=width].copy_from_slice(&bytes[8 - width..]);
    (head, 1 + width)
}

fn sig_structure_len(protected: &[u8], payload: &[u8]) -> usize {
    // "Signature1", the two byte strings and the empty AAD (one byte).
    SIGNATURE1.len()
        + bstr_head(protected.len()).1
        + protected.len()
        + 1
        + bstr_head(payload.len()).1
        + payload.len()
}

/// Writes the `Sig_structure` into `out`, exactly [`sig_structure_len`] bytes long.
fn write_sig_structure(out: &mut [u8], protected: &[u8], payload: &[u8]) {
    let mut at = 0;
    let mut put = |bytes: &[u8]| {
        out[at..at + bytes.len()].copy_from_slice(bytes);
        at += bytes.len();
    };
    put(SIGNATURE1);
    for field in [protected, &[], payload] {
        let (head, n) = bstr_head(field.len());
        put(&head[..n]);
        put(field);
    }
    debug_assert_eq!(at, out.len());
}

#[cfg(test)]
mod tests;
