//! Transfer requests: a consumer asks a provider for categories under a basis.

use crate::cbor::{DecodeError, Decoder, Encoder};
use crate::cose::ObjectKind;
use crate::digest::Digest;
use crate::directory::PartyId;
use crate::ids::{BasisId, RequestId};
use crate::labels::request;
use crate::signed::SignedPayload;
use crate::terms::{DataRange, MAX_SCOPE};
use crate::time::Timestamp;
use crate::vocab::{Category, Purpose};
use crate::wire::{self, FORMAT_VERSION};
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// A transfer request's claims, signed by the consumer. Built with [`Request::builder`]; its
/// categories are a set (sorted, without repetition, 1 to [`MAX_SCOPE`]), whichever way it
/// was made (builder, JSON or signed bytes).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Request {
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

crate::json::checked_deserialize!(Request, RequestJson);

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
    type Error = RequestError;
    fn try_from(j: RequestJson) -> Result<Self, RequestError> {
        let request = Request {
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
        };
        request.check()?;
        Ok(request)
    }
}

/// Why a request could not be built.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum RequestError {
    /// A required claim was not set.
    #[error("the request's {0} is not set")]
    Missing(&'static str),
    /// No category, more than [`MAX_SCOPE`], or (JSON and signed forms) not sorted and unique.
    #[error("a request asks for 1 to 64 categories, sorted, without repetition")]
    BadCategories,
}

impl RequestError {
    /// A stable code for matching and logs.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            RequestError::Missing(_) => "request/missing_claim",
            RequestError::BadCategories => "request/bad_categories",
        }
    }
}

impl Request {
    /// Starts a request by `consumer` to `provider` for data about `subject`, under the basis
    /// `basis` whose exact signed bytes are `basis_bytes`.
    ///
    /// ```
    /// use consentry::{Category, DataRange, PartyId, Purpose, Request, RequestId, Timestamp};
    /// # let (grant_id, grant_bytes) = (consentry::BasisId::from_bytes([9; 16]), b"the grant's signed bytes");
    /// let (mairie, dgfip, child) = (PartyId::from_bytes([2; 16]), PartyId::from_bytes([3; 16]), PartyId::from_bytes([4; 16]));
    /// let request = Request::builder(RequestId::from_bytes([5; 16]), mairie, dgfip, child)
    ///     .basis(grant_id, grant_bytes)
    ///     .categories([Category::new("dgfip:rfr").unwrap(), Category::new("caf:qf").unwrap()])
    ///     .purpose(Purpose::new("education:cantine").unwrap())
    ///     .data_range(DataRange::year(2025).unwrap())
    ///     .issued_at(Timestamp::from_secs(1_000))
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(request.categories()[0].as_str(), "caf:qf"); // a set: sorted
    /// ```
    pub fn builder(
        id: RequestId,
        consumer: PartyId,
        provider: PartyId,
        subject: PartyId,
    ) -> RequestBuilder {
        RequestBuilder {
            id,
            consumer,
            provider,
            subject,
            basis: None,
            basis_digest: None,
            categories: Vec::new(),
            purpose: None,
            data_range: None,
            issued_at: None,
        }
    }

    /// A builder holding this request's claims, to change some of them.
    pub fn to_builder(&self) -> RequestBuilder {
        RequestBuilder {
            id: self.id,
            consumer: self.consumer,
            provider: self.provider,
            subject: self.subject,
            basis: Some(self.basis),
            basis_digest: Some(self.basis_digest),
            categories: self.categories.clone(),
            purpose: Some(self.purpose.clone()),
            data_range: Some(self.data_range),
            issued_at: Some(self.issued_at),
        }
    }

    /// Unique id, never reused.
    #[must_use]
    pub fn id(&self) -> RequestId {
        self.id
    }
    /// The grant or habilitation it relies on.
    #[must_use]
    pub fn basis(&self) -> BasisId {
        self.basis
    }
    /// SHA-256 of that basis's exact signed bytes.
    #[must_use]
    pub fn basis_digest(&self) -> Digest {
        self.basis_digest
    }
    /// The consumer asking (and signing).
    #[must_use]
    pub fn consumer(&self) -> PartyId {
        self.consumer
    }
    /// The provider asked.
    #[must_use]
    pub fn provider(&self) -> PartyId {
        self.provider
    }
    /// The person (or legal person) the data is about.
    #[must_use]
    pub fn subject(&self) -> PartyId {
        self.subject
    }
    /// The categories asked for: sorted, without repetition, at least one.
    #[must_use]
    pub fn categories(&self) -> &[Category] {
        &self.categories
    }
    /// The categories, owned (for the authorization of an allowed request).
    pub(crate) fn into_categories(self) -> Vec<Category> {
        self.categories
    }
    /// The purpose claimed.
    #[must_use]
    pub fn purpose(&self) -> &Purpose {
        &self.purpose
    }
    /// The period the data should cover.
    #[must_use]
    pub fn data_range(&self) -> DataRange {
        self.data_range
    }
    /// When it was signed.
    #[must_use]
    pub fn issued_at(&self) -> Timestamp {
        self.issued_at
    }

    /// The invariants every request holds, however it was made.
    fn check(&self) -> Result<(), RequestError> {
        let sorted = self.categories.windows(2).all(|w| w[0] < w[1]);
        if self.categories.is_empty() || self.categories.len() > MAX_SCOPE || !sorted {
            return Err(RequestError::BadCategories);
        }
        Ok(())
    }
}

/// Builds a [`Request`] (see [`Request::builder`]). Every claim has a setter named after it;
/// [`Request::to_builder`] starts from an existing request.
#[derive(Clone, Debug)]
#[must_use]
pub struct RequestBuilder {
    id: RequestId,
    consumer: PartyId,
    provider: PartyId,
    subject: PartyId,
    basis: Option<BasisId>,
    basis_digest: Option<Digest>,
    categories: Vec<Category>,
    purpose: Option<Purpose>,
    data_range: Option<DataRange>,
    issued_at: Option<Timestamp>,
}

impl RequestBuilder {
    /// The basis relied on: its id and its exact signed bytes (the request carries their
    /// SHA-256, binding it to those bytes).
    pub fn basis(self, id: BasisId, signed_bytes: &[u8]) -> Self {
        self.basis_id(id).basis_digest(Digest::of(signed_bytes))
    }
    /// The id of the basis relied on.
    pub fn basis_id(mut self, id: BasisId) -> Self {
        self.basis = Some(id);
        self
    }
    /// The SHA-256 of the basis's exact signed bytes.
    pub fn basis_digest(mut self, digest: Digest) -> Self {
        self.basis_digest = Some(digest);
        self
    }
    /// The request's id.
    pub fn id(mut self, id: RequestId) -> Self {
        self.id = id;
        self
    }
    /// The consumer asking (and signing).
    pub fn consumer(mut self, consumer: PartyId) -> Self {
        self.consumer = consumer;
        self
    }
    /// The provider asked.
    pub fn provider(mut self, provider: PartyId) -> Self {
        self.provider = provider;
        self
    }
    /// The person (or legal person) the data is about.
    pub fn subject(mut self, subject: PartyId) -> Self {
        self.subject = subject;
        self
    }
    /// Asks for exactly `categories` (kept as a set: sorted, without repetition).
    pub fn categories(mut self, categories: impl IntoIterator<Item = Category>) -> Self {
        self.categories = categories.into_iter().collect();
        self.categories.sort();
        self.categories.dedup();
        self
    }
    /// The purpose claimed.
    pub fn purpose(mut self, purpose: Purpose) -> Self {
        self.purpose = Some(purpose);
        self
    }
    /// The period the data should cover.
    pub fn data_range(mut self, range: DataRange) -> Self {
        self.data_range = Some(range);
        self
    }
    /// Signing time.
    pub fn issued_at(mut self, t: Timestamp) -> Self {
        self.issued_at = Some(t);
        self
    }

    /// Builds the request, refusing it if a claim is missing or it asks for no category or
    /// more than [`MAX_SCOPE`].
    ///
    /// # Errors
    ///
    /// [`RequestError::Missing`] if the basis, basis digest, purpose, data range or issue time was
    /// not set; [`RequestError::BadCategories`] if it asks for no category or more than
    /// [`MAX_SCOPE`].
    pub fn build(self) -> Result<Request, RequestError> {
        let request = Request {
            id: self.id,
            basis: self.basis.ok_or(RequestError::Missing("basis"))?,
            basis_digest: self
                .basis_digest
                .ok_or(RequestError::Missing("basis digest"))?,
            consumer: self.consumer,
            provider: self.provider,
            subject: self.subject,
            categories: self.categories,
            purpose: self.purpose.ok_or(RequestError::Missing("purpose"))?,
            data_range: self.data_range.ok_or(RequestError::Missing("data range"))?,
            issued_at: self.issued_at.ok_or(RequestError::Missing("issue time"))?,
        };
        request.check()?;
        Ok(request)
    }
}

impl SignedPayload for Request {
    const KIND: ObjectKind = ObjectKind::Request;

    fn encode(&self, e: &mut Encoder) {
        e.map(11);
        e.uint(request::VERSION).uint(FORMAT_VERSION);
        e.uint(request::ID).bytes(self.id.0.as_bytes());
        e.uint(request::BASIS).bytes(self.basis.0.as_bytes());
        e.uint(request::BASIS_HASH).bytes(&self.basis_digest.0);
        e.uint(request::CONSUMER).bytes(self.consumer.as_bytes());
        e.uint(request::PROVIDER).bytes(self.provider.as_bytes());
        e.uint(request::SUBJECT).bytes(self.subject.as_bytes());
        e.uint(request::CATEGORIES);
        wire::write_categories(e, &self.categories);
        e.uint(request::PURPOSE).text(self.purpose.code());
        e.uint(request::DATA_RANGE);
        self.data_range.write(e);
        e.uint(request::ISSUED_AT).uint(self.issued_at.0);
    }

    fn decode(d: &mut Decoder<'_>) -> Result<Self, DecodeError> {
        let mut m = d.map_reader("request")?;
        m.version(request::VERSION, FORMAT_VERSION)?;
        let req = Request {
            id: RequestId(m.required(request::ID, "id", wire::uuid)?),
            basis: BasisId(m.required(request::BASIS, "basis", wire::uuid)?),
            basis_digest: m.required(request::BASIS_HASH, "basis hash", wire::digest)?,
            consumer: m.required(request::CONSUMER, "consumer", wire::party_id)?,
            provider: m.required(request::PROVIDER, "provider", wire::party_id)?,
            subject: m.required(request::SUBJECT, "subject", wire::party_id)?,
            categories: m.required(request::CATEGORIES, "categories", wire::categories)?,
            purpose: m.required(request::PURPOSE, "purpose", wire::purpose_code)?,
            data_range: m.required(request::DATA_RANGE, "data range", DataRange::read)?,
            issued_at: m.required(request::ISSUED_AT, "issued at", wire::timestamp)?,
        };
        m.finish()?;
        req.check().map_err(|_| DecodeError::InvalidValue {
            field: "categories",
            reason: "1 to 64 codes, sorted, without repetition",
        })?;
        Ok(req)
    }

    fn signer(&self) -> PartyId {
        self.consumer
    }

    fn issued_at(&self) -> Timestamp {
        self.issued_at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A request's categories are a set whichever way it is made: the builder sorts them, and
    /// the JSON form refuses an unsorted list rather than sign something the decoder refuses.
    #[test]
    fn categories_are_a_set_in_every_form() {
        let (a, b) = (Category::new("a:x").unwrap(), Category::new("b:x").unwrap());
        let party = PartyId::from_bytes([1; 16]);
        let builder = Request::builder(RequestId::from_bytes([2; 16]), party, party, party)
            .basis(BasisId::from_bytes([3; 16]), b"grant")
            .purpose(Purpose::new("x:y").unwrap())
            .data_range(DataRange::year(2025).unwrap())
            .issued_at(Timestamp(1));
        let request = builder
            .clone()
            .categories([b.clone(), a.clone(), b.clone()])
            .build();
        assert_eq!(
            request.map(|r| r.categories().to_vec()),
            Ok(vec![a.clone(), b.clone()])
        );
        assert_eq!(builder.clone().build(), Err(RequestError::BadCategories));
        assert_eq!(
            Request::builder(RequestId::from_bytes([2; 16]), party, party, party).build(),
            Err(RequestError::Missing("basis"))
        );
        let json = serde_json::to_string(&builder.categories([a, b]).build().unwrap()).unwrap();
        let swapped = json.replace(r#"["a:x","b:x"]"#, r#"["b:x","a:x"]"#);
        assert_ne!(json, swapped);
        let error = serde_json::from_str::<Request>(&swapped).expect_err("unsorted");
        assert!(
            error.to_string().contains("sorted, without repetition"),
            "{error}"
        );
    }
}
