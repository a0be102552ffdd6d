//! The party identifier, shared by the directory and the wire readers.

use serde::{Deserialize, Serialize};
use std::fmt;
use uuid::Uuid;

/// A party's identifier: a UUID, written as 16 bytes in CBOR and as the hyphenated string in
/// JSON.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PartyId(pub Uuid);

impl PartyId {
    /// The party id with these 16 bytes.
    #[must_use]
    pub fn from_bytes(bytes: [u8; 16]) -> Self {
        PartyId(Uuid::from_bytes(bytes))
    }

    /// A fresh random party id (a version-4 UUID) from the caller's source (see
    /// [`crate::rand`]): for a federation that registers a new party.
    ///
    /// # Errors
    ///
    /// [`RandomError`](crate::rand::RandomError) if `rng` fails.
    pub fn generate(rng: &dyn crate::rand::RandomSource) -> Result<Self, crate::rand::RandomError> {
        crate::rand::uuid(rng).map(PartyId)
    }

    /// The id's 16 bytes.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8; 16] {
        self.0.as_bytes()
    }
}

impl fmt::Debug for PartyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PartyId({})", self.0)
    }
}

impl fmt::Display for PartyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}
