//! Lifecycle statements: pause, resume and revoke a legal basis.
//!
//! A statement names the basis by id and by the SHA-256 of its exact signed bytes, and is
//! signed by the subject or someone entitled to act for them (for a habilitation: its
//! authority). Revocation is final; a resume never undoes a revocation.

use crate::cbor::{DecodeError, Decoder, Encoder};
use crate::cose::ObjectKind;
use crate::digest::Digest;
use crate::directory::PartyId;
use crate::ids::BasisId;
use crate::labels::statement;
use crate::signed::SignedPayload;
use crate::time::Timestamp;
use crate::wire::{self, FORMAT_VERSION};
use serde::{Deserialize, Serialize};

/// What a statement does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Action {
    /// Suspends the basis until resumed.
    Pause,
    /// Lifts a pause.
    Resume,
    /// Ends the basis for good.
    Revoke,
}

impl Action {
    fn code(self) -> u64 {
        match self {
            Action::Pause => 0,
            Action::Resume => 1,
            Action::Revoke => 2,
        }
    }
}

/// A lifecycle statement's claims.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Statement {
    /// The basis it applies to.
    pub basis: BasisId,
    /// SHA-256 of the basis's exact signed bytes.
    pub basis_digest: Digest,
    /// What it does.
    pub action: Action,
    /// Who signs it.
    pub issued_by: PartyId,
    /// When.
    pub issued_at: Timestamp,
}

impl Serialize for Digest {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for Digest {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        crate::hex::decode(&text)
            .and_then(|b| Digest::from_slice(&b))
            .ok_or_else(|| serde::de::Error::custom("a digest is 64 hexadecimal digits"))
    }
}

impl SignedPayload for Statement {
    const KIND: ObjectKind = ObjectKind::Statement;

    fn encode(&self, e: &mut Encoder) {
        e.map(6);
        e.uint(statement::VERSION).uint(FORMAT_VERSION);
        e.uint(statement::BASIS).bytes(self.basis.0.as_bytes());
        e.uint(statement::BASIS_HASH).bytes(&self.basis_digest.0);
        e.uint(statement::ACTION).uint(self.action.code());
        e.uint(statement::ISSUED_BY)
            .bytes(self.issued_by.as_bytes());
        e.uint(statement::ISSUED_AT).uint(self.issued_at.0);
    }

    fn decode(d: &mut Decoder<'_>) -> Result<Self, DecodeError> {
        let mut m = d.map_reader("statement")?;
        m.version(statement::VERSION, FORMAT_VERSION)?;
        let basis = BasisId(m.required(statement::BASIS, "basis", wire::uuid)?);
        let basis_digest = m.required(statement::BASIS_HASH, "basis hash", wire::digest)?;
        let action = m.required(statement::ACTION, "action", |d| match d.uint()? {
            0 => Ok(Action::Pause),
            1 => Ok(Action::Resume),
            2 => Ok(Action::Revoke),
            _ => Err(DecodeError::InvalidValue {
                field: "action",
                reason: "unknown action code",
            }),
        })?;
        let issued_by = m.required(statement::ISSUED_BY, "issued by", wire::party_id)?;
        let issued_at = m.required(statement::ISSUED_AT, "issued at", wire::timestamp)?;
        m.finish()?;
        Ok(Statement {
            basis,
            basis_digest,
            action,
            issued_by,
            issued_at,
        })
    }

    fn signer(&self) -> PartyId {
        self.issued_by
    }

    fn issued_at(&self) -> Timestamp {
        self.issued_at
    }
}
