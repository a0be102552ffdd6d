//! Escape hatches that can produce objects a verifier refuses, or signatures over bytes the
//! library did not build. Test suites, vector generators and fuzzers need them; a service
//! never does. Each use is a `danger::` path a reviewer can grep for.
//!
//! ```
//! use consentry::danger::{self, UncheckedGrant};
//! # use consentry::{AccessPattern, BasisId, Category, Ceilings, DataRange, Grant, PartyId, Purpose, SigningKey, Timestamp};
//! # let (parent, mairie, dgfip) = (PartyId::from_bytes([1; 16]), PartyId::from_bytes([2; 16]), PartyId::from_bytes([3; 16]));
//! // A grant no provider published a ceiling for: `build` refuses it, the hatch does not.
//! let builder = Grant::builder(BasisId::from_bytes([9; 16]), parent, mairie, Purpose::new("x:y").unwrap())
//!     .cover(dgfip, [Category::new("dgfip:rfr").unwrap()])
//!     .issued_at(Timestamp::from_secs(1000))
//!     .valid(Timestamp::from_secs(1000), Timestamp::from_secs(2000))
//!     .access(AccessPattern::one_time())
//!     .data_range(DataRange::year(2025).unwrap())
//!     .retention_secs(60);
//! assert!(builder.clone().build(&Ceilings::default()).is_err());
//! let grant = builder.build_without_ceiling_check().unwrap();
//! // Raw signatures and envelopes over arbitrary bytes.
//! let key = SigningKey::from_seed(&[7; 32]);
//! let signature = danger::sign_raw(&key, b"anything");
//! assert!(key.verifying_key().verify(b"anything", &signature).is_ok());
//! # let _ = grant;
//! ```

use crate::directory::PartyId;
use crate::grant::{Grant, GrantBuilder, GrantError};
use crate::habilitation::{Habilitation, HabilitationBuilder, HabilitationError};
use crate::ids::{BasisId, BasisKey, BasisKind, ReplayKey, RequestId};
use crate::keys::SigningKey;

pub use crate::cose::raw::{assemble, sign};

/// The CBOR writer and value model, for crafting payloads the strict decoders must refuse.
pub mod cbor {
    pub use crate::cbor::{Encoder, Value};
}

/// Builds a grant without judging it against the purpose ceilings (its own invariants are
/// still checked): for suites that need a grant beyond its ceiling, which verifiers refuse.
pub trait UncheckedGrant {
    /// Builds the grant, skipping the ceiling check only.
    ///
    /// # Errors
    /// As [`GrantBuilder::build`], except [`GrantError::BeyondCeiling`].
    fn build_without_ceiling_check(self) -> Result<Grant, GrantError>;
}

impl UncheckedGrant for GrantBuilder {
    fn build_without_ceiling_check(self) -> Result<Grant, GrantError> {
        self.build_unchecked()
    }
}

/// Builds a habilitation without judging it against the purpose ceilings (its own invariants
/// are still checked): for suites that need a habilitation beyond its ceiling.
pub trait UncheckedHabilitation {
    /// Builds the habilitation, skipping the ceiling check only.
    ///
    /// # Errors
    /// As [`HabilitationBuilder::build`], except [`HabilitationError::BeyondCeiling`].
    fn build_without_ceiling_check(self) -> Result<Habilitation, HabilitationError>;
}

impl UncheckedHabilitation for HabilitationBuilder {
    fn build_without_ceiling_check(self) -> Result<Habilitation, HabilitationError> {
        self.build_unchecked()
    }
}

/// A ledger key for a basis no verified object vouches for. The verifier makes these only from
/// verified bases; a benchmark or the tests of a caller's own [`Ledger`](crate::Ledger)
/// implementation need them without signing anything.
#[must_use]
pub fn basis_key(kind: BasisKind, accountable: PartyId, id: BasisId) -> BasisKey {
    BasisKey::new(kind, accountable, id)
}

/// A replay key for a request no verified object vouches for (see [`basis_key`]).
#[must_use]
pub fn replay_key(consumer: PartyId, request: RequestId) -> ReplayKey {
    ReplayKey::new(consumer, request)
}

/// An Ed25519 signature of `message` (RFC 8032) with `key`, over bytes the library did not
/// build: a signed object is made with [`crate::SignedPayload::sign`] instead, which signs
/// the COSE structure of a payload it encoded itself.
#[must_use]
pub fn sign_raw(key: &SigningKey, message: &[u8]) -> [u8; 64] {
    key.sign(message)
}
