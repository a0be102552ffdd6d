//! Transfer requests: a consumer asks a provider for categories under a basis.

use crate::cbor::{DecodeError, Decoder, Encoder};
use crate::cose::ObjectKind;
use crate::digest::Digest;
use crate::directory::PartyId;
use crate::ids::{BasisId, RequestId};
use crate::signed::SignedPayload;
use crate::terms::DataRange;
use crate::time::Timestamp;
use crate::vocab::{Category, Purpose};
use crate::wire::{self, FORMAT_VERSION};
use serde::{Deserialize, Serialize};

/// A transfer request's claims, signed by the consumer.
///
/// `categories` is a set: keep it sorted and without repetition (the JSON form and the decoder
/// refuse anything else, and a request signed with unsorted categories is refused as
/// malformed).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, try_from = "RequestJson")]
pub struct Request {
    /// Unique id, never reused.
    pub id: RequestId,
    /// The grant or habilitation it relies on.
    pub basis: BasisId,
    /// SHA-256 of that basis's exact signed bytes.
    pub basis_digest: Digest,
    /// The consumer asking (and signing).
    pub consumer: PartyId,
    /// The provider asked.
    pub provider: PartyId,
    /// The person the data is about.
    pub subject: PartyId,
    /// The categories asked for: sorted, without repetition, at least one.
    pub categories: Vec<Category>,
    /// The purpose claimed.
    pub purpose: Purpose,
    /// The period the data should cover.
    pub data_range: DataRange,
    /// When it was signed.
    pub issued_at: Timestamp,
}

/// The unchecked JSON shape of a [`Request`].
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RequestJson {
    id: RequestId,
    basis: BasisId,
    basis_digest: Digest,
    consumer: PartyId,
    provider: PartyId,
    subject: PartyId,
    categories: Vec<Category>,
    purpose: Purpose,
    data_range: DataRange,
    issued_at: Timestamp,
}

impl TryFrom<RequestJson> for Request {
    type Error = &'static str;
    fn try_from(j: RequestJson) -> Result<Self, &'static str> {
        let sorted = j.categories.windows(2).all(|w| w[0] < w[1]);
        if j.categories.is_empty() || j.categories.len() > crate::terms::MAX_SCOPE || !sorted {
            return Err("categories must be 1 to 64 codes, sorted, without repetition");
        }
        Ok(Request {
            id: j.id,
            basis: j.basis,
            basis_digest: j.basis_digest,
            consumer: j.consumer,
            provider: j.provider,
            subject: j.subject,
            categories: j.categories,
            purpose: j.purpose,
            data_range: j.data_range,
            issued_at: j.issued_at,
        })
    }
}

impl SignedPayload for Request {
    const KIND: ObjectKind = ObjectKind::Request;

    fn encode(&self, e: &mut Encoder) {
        e.map(11);
        e.uint(0).uint(FORMAT_VERSION);
        e.uint(1).bytes(self.id.0.as_bytes());
        e.uint(2).bytes(self.basis.0.as_bytes());
        e.uint(3).bytes(&self.basis_digest.0);
        e.uint(4).bytes(self.consumer.as_bytes());
        e.uint(5).bytes(self.provider.as_bytes());
        e.uint(6).bytes(self.subject.as_bytes());
        e.uint(7);
        wire::write_categories(e, &self.categories);
        e.uint(8).text(self.purpose.code());
        e.uint(9);
        self.data_range.write(e);
        e.uint(10).uint(self.issued_at.0);
    }

    fn decode(d: &mut Decoder<'_>) -> Result<Self, DecodeError> {
        let mut m = d.map_reader("request")?;
        m.version(FORMAT_VERSION)?;
        let req = Request {
            id: RequestId(m.required(1, "id", wire::uuid)?),
            basis: BasisId(m.required(2, "basis", wire::uuid)?),
            basis_digest: m.required(3, "basis hash", wire::digest)?,
            consumer: m.required(4, "consumer", wire::party_id)?,
            provider: m.required(5, "provider", wire::party_id)?,
            subject: m.required(6, "subject", wire::party_id)?,
            categories: m.required(7, "categories", wire::categories)?,
            purpose: m.required(8, "purpose", wire::purpose_code)?,
            data_range: m.required(9, "data range", DataRange::read)?,
            issued_at: m.required(10, "issued at", wire::timestamp)?,
        };
        m.finish()?;
        Ok(req)
    }

    fn signer(&self) -> PartyId {
        self.consumer
    }

    fn issued_at(&self) -> Timestamp {
        self.issued_at
    }
}
