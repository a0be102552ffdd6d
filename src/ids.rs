//! Identifiers of legal bases and requests.

use crate::directory::PartyId;
use serde::{Deserialize, Serialize};
use std::fmt;
use uuid::Uuid;

/// The id of a legal basis: a consent grant or a habilitation.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct BasisId(pub Uuid);

/// The id of a transfer request, unique per consumer and never reused.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RequestId(pub Uuid);

macro_rules! uuid_fmt {
    ($($t:ident),*) => {$(
        impl fmt::Debug for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($t), "({})"), self.0)
            }
        }
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }
        impl $t {
            /// The id with these 16 bytes.
            pub fn from_bytes(bytes: [u8; 16]) -> Self {
                $t(Uuid::from_bytes(bytes))
            }

            /// A fresh random id (a version-4 UUID) from the caller's source (see
            /// [`crate::rand`]).
            ///
            /// # Errors
            ///
            /// [`RandomError`](crate::rand::RandomError) if `rng` fails.
            pub fn generate(
                rng: &dyn crate::rand::RandomSource,
            ) -> Result<Self, crate::rand::RandomError> {
                crate::rand::uuid(rng).map($t)
            }
        }
    )*};
}
uuid_fmt!(BasisId, RequestId);

/// The kind of legal basis: a consent grant or a statutory habilitation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum BasisKind {
    /// A consent grant.
    Grant,
    /// A statutory habilitation.
    Habilitation,
}

impl BasisKind {
    /// The kind's code on the wire (receipts) and in ledger keys.
    #[must_use]
    pub fn code(self) -> u8 {
        match self {
            BasisKind::Grant => 0,
            BasisKind::Habilitation => 1,
        }
    }

    /// The kind with this code.
    #[must_use]
    pub fn from_code(code: u64) -> Option<Self> {
        match code {
            0 => Some(BasisKind::Grant),
            1 => Some(BasisKind::Habilitation),
            _ => None,
        }
    }

    /// The object kind of such a basis.
    #[must_use]
    pub fn object_kind(self) -> crate::cose::ObjectKind {
        match self {
            BasisKind::Grant => crate::cose::ObjectKind::Grant,
            BasisKind::Habilitation => crate::cose::ObjectKind::Habilitation,
        }
    }
}

/// Where a ledger keeps the state of one legal basis: its kind, the party accountable for it
/// (a grant's subject, a habilitation's authority) and its id.
///
/// A basis id is chosen by whoever signs the basis and is public (requests, receipts and log
/// entries carry it), so an id alone cannot key state: anyone could sign a basis of their own
/// with a victim's id and then pause, resume, revoke or use up *their* basis to reach the
/// victim's. Under this key a colliding id is simply another basis. Only a verified basis
/// produces a key ([`Verified::ledger_key`](crate::signed::Verified)), so a ledger, in memory
/// or in a database, cannot be handed state of a basis nobody verified.
///
/// The key does not include the basis's hash on purpose: the same terms re-encoded (another
/// order of the protected header gives other bytes and another hash) are the same basis, and
/// must share one quota.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BasisKey {
    kind: BasisKind,
    accountable: PartyId,
    id: BasisId,
}

impl BasisKey {
    pub(crate) fn new(kind: BasisKind, accountable: PartyId, id: BasisId) -> Self {
        BasisKey {
            kind,
            accountable,
            id,
        }
    }

    /// Grant or habilitation.
    #[must_use]
    pub fn kind(&self) -> BasisKind {
        self.kind
    }

    /// The grant's subject, or the habilitation's authority.
    #[must_use]
    pub fn accountable(&self) -> PartyId {
        self.accountable
    }

    /// The basis's id, as its signer chose it.
    #[must_use]
    pub fn id(&self) -> BasisId {
        self.id
    }

    /// A fixed-size encoding for storage: the kind's code, the accountable party's 16 bytes,
    /// the id's 16 bytes.
    #[must_use]
    pub fn to_bytes(&self) -> [u8; 33] {
        let mut out = [0; 33];
        out[0] = self.kind.code();
        out[1..17].copy_from_slice(self.accountable.as_bytes());
        out[17..].copy_from_slice(self.id.0.as_bytes());
        out
    }
}

impl fmt::Display for BasisKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            BasisKind::Grant => "grant",
            BasisKind::Habilitation => "habilitation",
        };
        write!(f, "{kind} {} of {}", self.id, self.accountable)
    }
}

/// Where a ledger remembers one request id: request ids are unique per consumer (the format
/// says so), so replay detection is keyed by the consumer that signed the request and the id,
/// and one consumer cannot burn another's ids. Only a verified request produces one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ReplayKey {
    consumer: PartyId,
    request: RequestId,
}

impl ReplayKey {
    pub(crate) fn new(consumer: PartyId, request: RequestId) -> Self {
        ReplayKey { consumer, request }
    }

    /// The consumer that signed the request.
    #[must_use]
    pub fn consumer(&self) -> PartyId {
        self.consumer
    }

    /// The request id.
    #[must_use]
    pub fn request(&self) -> RequestId {
        self.request
    }

    /// A fixed-size encoding for storage: the consumer's 16 bytes, then the id's 16 bytes.
    #[must_use]
    pub fn to_bytes(&self) -> [u8; 32] {
        let mut out = [0; 32];
        out[..16].copy_from_slice(self.consumer.as_bytes());
        out[16..].copy_from_slice(self.request.0.as_bytes());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The storage encoding of a basis key is its kind's code, then the accountable party, then
    /// the id, so two keys share a row only if they are the same key (the durable stores key
    /// their rows by these bytes; the in-memory ledger does not use them).
    #[test]
    fn a_basis_key_is_stored_as_kind_party_and_id() {
        let party = PartyId::from_bytes([7; 16]);
        let id = BasisId::from_bytes([9; 16]);
        let grant = BasisKey::new(BasisKind::Grant, party, id).to_bytes();
        let habilitation = BasisKey::new(BasisKind::Habilitation, party, id).to_bytes();
        assert_eq!(grant[0], BasisKind::Grant.code());
        assert_eq!(habilitation[0], BasisKind::Habilitation.code());
        assert_ne!(grant[0], habilitation[0]);
        assert_eq!(grant[1..17], [7; 16]);
        assert_eq!(grant[17..], [9; 16]);
        let other = BasisKey::new(BasisKind::Grant, PartyId::from_bytes([8; 16]), id);
        assert_ne!(other.to_bytes(), grant);
        let key = ReplayKey::new(party, RequestId::from_bytes([3; 16]));
        assert_eq!(key.to_bytes()[..16], [7; 16]);
        assert_eq!(key.to_bytes()[16..], [3; 16]);
    }
}
