//! Parse → verify → use: the typestate every signed object goes through.
//!
//! Bytes become an [`Unverified`] object once the envelope and payload decode strictly; an
//! [`Unverified`] becomes a [`Verified`] one only through [`Unverified::verify`], which checks
//! the signature over the bytes as received and the directory's key rule. Only a [`Verified`]
//! object can be acted on.

use crate::cbor::{DecodeError, Decoder, Encoder, Limits};
use crate::cose::{self, Envelope, EnvelopeError, ObjectKind};
use crate::crypto::{self, CryptoProvider};
use crate::digest::Digest;
use crate::directory::{KeyRefusal, PartyId, Trust};
use crate::keys::{KeyId, SigningKey};
use crate::time::Timestamp;
use thiserror::Error;

/// A payload type of the wire format: one object kind, a strict CBOR codec, and the two claims
/// the key rule needs (who signed, when).
///
/// Sealed: only the crate's own object types implement it, so every object a caller can sign
/// goes through the codec and checks the format specifies.
pub trait SignedPayload: Sized + sealed::Sealed {
    /// The object kind, hence the COSE content type.
    const KIND: ObjectKind;
    /// Writes the payload's deterministic encoding.
    #[doc(hidden)]
    fn encode(&self, e: &mut Encoder);
    /// Reads exactly one payload item.
    #[doc(hidden)]
    fn decode(d: &mut Decoder<'_>) -> Result<Self, DecodeError>;
    /// The party the payload names as its signer.
    fn signer(&self) -> PartyId;
    /// The payload's issue time.
    fn issued_at(&self) -> Timestamp;

    /// The payload's deterministic encoding.
    fn to_payload_bytes(&self) -> Vec<u8> {
        // Room for every payload of the canonical examples, so that encoding rarely regrows.
        let mut e = Encoder::with_capacity(512);
        self.encode(&mut e);
        e.into_bytes()
    }

    /// Decodes payload bytes strictly (one item, no trailing bytes, object limits).
    ///
    /// # Errors
    ///
    /// The errors of [`SignedPayload::decode`], [`DecodeError::TooLarge`] beyond the object limits,
    /// and [`DecodeError::TrailingBytes`] if anything follows the payload.
    fn from_payload_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut d = Decoder::new(bytes, Limits::OBJECT)?;
        let out = Self::decode(&mut d)?;
        d.finish()?;
        Ok(out)
    }

    /// Signs the payload with `key`, giving the tagged `COSE_Sign1` bytes.
    fn sign(&self, key: &SigningKey) -> Vec<u8> {
        cose::sign(Self::KIND, key, &self.to_payload_bytes())
    }
}

mod sealed {
    /// Implemented by the crate's object types only.
    pub trait Sealed {}
    impl Sealed for crate::grant::Grant {}
    impl Sealed for crate::habilitation::Habilitation {}
    impl Sealed for crate::request::Request {}
    impl Sealed for crate::statement::Statement {}
    impl Sealed for crate::log::Receipt {}
    impl Sealed for crate::log::TreeHead {}
    impl Sealed for crate::deletion::Deletion {}
    impl Sealed for crate::notify::Notification {}
}

/// Why bytes are not a well-formed object of the expected kind.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ParseError {
    /// The envelope is malformed or of another kind.
    #[error(transparent)]
    Envelope(#[from] EnvelopeError),
    /// The payload is not a valid object of its kind.
    #[error("malformed payload: {0}")]
    Payload(#[from] DecodeError),
}

/// Why a well-formed object was not accepted as signed by its claimed signer.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// No party holds the key the envelope names.
    #[error("unknown key {0}")]
    UnknownKey(KeyId),
    /// The signature does not verify over the received bytes. No detail, by design.
    #[error("invalid signature")]
    BadSignature,
    /// The signature verifies, but the key may not sign for the claimed signer at the object's
    /// issue time.
    #[error(transparent)]
    Key(KeyRefusal),
}

/// Either refusal.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ObjectError {
    /// Not well formed.
    #[error(transparent)]
    Parse(#[from] ParseError),
    /// Not validly signed.
    #[error(transparent)]
    Verify(#[from] VerifyError),
}

impl ParseError {
    /// The code of the envelope or payload refusal.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            ParseError::Envelope(e) => e.code(),
            ParseError::Payload(e) => e.code(),
        }
    }
}

impl VerifyError {
    /// A stable code naming the refusal (`signature/…`).
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            VerifyError::UnknownKey(_) => "signature/unknown_key",
            VerifyError::BadSignature => "signature/invalid",
            VerifyError::Key(k) => k.code(),
        }
    }
}

impl ObjectError {
    /// A stable code naming the refusal (`envelope/…`, `cbor/…`, `value/…`, `payload/…` or
    /// `signature/…`), as the vectors and `docs/format.md` name it.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            ObjectError::Parse(e) => e.code(),
            ObjectError::Verify(e) => e.code(),
        }
    }

    /// The layer that refused: `envelope`, `payload` or `signature`.
    #[must_use]
    pub fn layer(&self) -> &'static str {
        match self {
            ObjectError::Parse(ParseError::Envelope(_)) => "envelope",
            ObjectError::Parse(ParseError::Payload(_)) => "payload",
            ObjectError::Verify(_) => "signature",
        }
    }
}

/// A strictly parsed object whose signature has not been checked: its claims are not to be
/// trusted, only reported.
#[derive(Clone, Debug)]
#[must_use]
pub struct Unverified<'a, T> {
    bytes: &'a [u8],
    envelope: Envelope<'a>,
    payload: T,
}

impl<'a, T: SignedPayload> Unverified<'a, T> {
    /// Parses the envelope (which must declare `T::KIND`) and decodes the payload strictly.
    ///
    /// # Errors
    ///
    /// [`ParseError::Envelope`] if the envelope is malformed or declares another kind (see
    /// [`Envelope::parse_kind`]), [`ParseError::Payload`] if the payload does not decode strictly
    /// as `T`.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, ParseError> {
        Self::from_envelope(bytes, Envelope::parse(bytes)?)
    }

    /// As [`Unverified::parse`], with the envelope of `bytes` already parsed (by a caller that
    /// needed its kind first).
    pub(crate) fn from_envelope(
        bytes: &'a [u8],
        envelope: Envelope<'a>,
    ) -> Result<Self, ParseError> {
        if envelope.kind() != T::KIND {
            return Err(ParseError::Envelope(EnvelopeError::WrongKind {
                expected: T::KIND,
                found: envelope.kind(),
            }));
        }
        let payload = T::from_payload_bytes(envelope.payload())?;
        Ok(Unverified {
            bytes,
            envelope,
            payload,
        })
    }

    /// The claims, unauthenticated.
    pub fn claims(&self) -> &T {
        &self.payload
    }

    /// The key id the envelope names.
    pub fn kid(&self) -> KeyId {
        self.envelope.kid()
    }

    /// Checks the signature over the received bytes, then the directory's key rule against the
    /// now-authenticated signer and issue time, with the default crypto provider
    /// ([`RING`](crate::crypto::RING)).
    ///
    /// # Errors
    ///
    /// [`VerifyError::UnknownKey`] if no party in `trust` holds the envelope's key,
    /// [`VerifyError::BadSignature`] if the signature does not verify with it, [`VerifyError::Key`]
    /// if the key may not sign for the payload's signer at its issue time (see
    /// [`Trust::check_key`](crate::directory::Trust#method.check_key)).
    pub fn verify(self, trust: &dyn Trust) -> Result<Verified<T>, VerifyError> {
        self.verify_with(&crypto::RING, trust)
    }

    /// As [`Unverified::verify`], with `provider` checking the signature (through the
    /// directory key as it decoded it, see [`PartyKey`](crate::PartyKey)) and computing the
    /// object's digest. Every provider gives the same result for the same input.
    ///
    /// ```
    /// use consentry::{crypto, Grant, Unverified};
    /// use consentry::testing::Scenario;
    /// let s = Scenario::canteen();
    /// let bytes = s.sign_grant(&s.grant().build(&s.ceilings).unwrap());
    /// for provider in crypto::providers() {
    ///     let grant = Unverified::<Grant>::parse(&bytes).unwrap().verify_with(provider, &s.directory);
    ///     assert_eq!(grant.unwrap().digest(), consentry::Digest::of(&bytes));
    /// }
    /// ```
    ///
    /// # Errors
    ///
    /// As [`Unverified::verify`].
    pub fn verify_with(
        self,
        provider: &CryptoProvider,
        trust: &dyn Trust,
    ) -> Result<Verified<T>, VerifyError> {
        let kid = self.envelope.kid();
        let (owner, key) = trust.find_key(&kid).ok_or(VerifyError::UnknownKey(kid))?;
        self.envelope
            .verify_party_key(provider, key)
            .map_err(|_| VerifyError::BadSignature)?;
        // The signature rule on the key found above (what `Trust::check_key` does after its
        // own lookup).
        crate::directory::key_rule(
            &kid,
            owner,
            key,
            self.payload.signer(),
            self.payload.issued_at(),
        )
        .map_err(VerifyError::Key)?;
        Ok(Verified {
            digest: Digest::of_parts_with(provider, &[self.bytes]),
            kid,
            size: self.bytes.len(),
            payload: self.payload,
        })
    }
}

/// An object whose signature and signer have been checked against a directory. It can only be
/// obtained from [`Unverified::verify`] (or [`Verified::parse_and_verify`]).
#[derive(Clone, Debug, PartialEq, Eq)]
#[must_use]
pub struct Verified<T> {
    payload: T,
    digest: Digest,
    kid: KeyId,
    size: usize,
}

impl<T: SignedPayload> Verified<T> {
    /// Parses and verifies in one step.
    ///
    /// # Errors
    ///
    /// [`ObjectError::Parse`] with the error of [`Unverified::parse`], [`ObjectError::Verify`] with
    /// that of [`Unverified::verify`].
    pub fn parse_and_verify(bytes: &[u8], trust: &dyn Trust) -> Result<Self, ObjectError> {
        Self::parse_and_verify_with(&crypto::RING, bytes, trust)
    }

    /// As [`Verified::parse_and_verify`], with `provider` (see [`Unverified::verify_with`]).
    ///
    /// # Errors
    ///
    /// As [`Verified::parse_and_verify`].
    pub fn parse_and_verify_with(
        provider: &CryptoProvider,
        bytes: &[u8],
        trust: &dyn Trust,
    ) -> Result<Self, ObjectError> {
        Ok(Unverified::<T>::parse(bytes)?.verify_with(provider, trust)?)
    }

    /// The authenticated claims.
    pub fn claims(&self) -> &T {
        &self.payload
    }

    /// The authenticated claims, owned (for a caller done with the rest).
    pub(crate) fn into_claims(self) -> T {
        self.payload
    }

    /// SHA-256 of the exact signed bytes, the object's binding hash.
    pub fn digest(&self) -> Digest {
        self.digest
    }

    /// The key that signed it.
    pub fn kid(&self) -> KeyId {
        self.kid
    }

    /// Size of the signed bytes.
    pub fn encoded_len(&self) -> usize {
        self.size
    }
}

impl Verified<crate::grant::Grant> {
    /// Where a ledger keeps this grant's state: (grant, its subject, its id). See
    /// [`BasisKey`](crate::ids::BasisKey) for why the id alone is not enough.
    #[must_use]
    pub fn ledger_key(&self) -> crate::ids::BasisKey {
        let g = &self.payload;
        crate::ids::BasisKey::new(crate::ids::BasisKind::Grant, g.subject(), g.id())
    }
}

impl Verified<crate::habilitation::Habilitation> {
    /// Where a ledger keeps this habilitation's state: (habilitation, its authority, its id).
    #[must_use]
    pub fn ledger_key(&self) -> crate::ids::BasisKey {
        let h = &self.payload;
        crate::ids::BasisKey::new(crate::ids::BasisKind::Habilitation, h.authority(), h.id())
    }
}

impl Verified<crate::request::Request> {
    /// Where a ledger remembers this request's id: (its consumer, its id).
    #[must_use]
    pub fn replay_key(&self) -> crate::ids::ReplayKey {
        crate::ids::ReplayKey::new(self.payload.consumer(), self.payload.id())
    }
}
