//! Identifiers of legal bases and requests.

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
        }
    )*};
}
uuid_fmt!(BasisId, RequestId);
