//! Transfer receipts: what a provider signs when it sends data under an *allow*.

use crate::Digest;
use crate::cbor::{DecodeError, Decoder, Encoder};
use crate::cose::ObjectKind;
use crate::decision::Authorization;
use crate::directory::PartyId;
use crate::ids::{BasisId, RequestId};
use crate::signed::SignedPayload;
use crate::terms::DataRange;
use crate::time::Timestamp;
use crate::vocab::Category;
use crate::wire::{self, FORMAT_VERSION};
use serde::Serialize;
use uuid::Uuid;

/// The kind of legal basis a transfer relied on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BasisKind {
    /// A consent grant.
    Grant,
    /// A statutory habilitation.
    Habilitation,
}

impl BasisKind {
    fn code(self) -> u64 {
        match self {
            BasisKind::Grant => 0,
            BasisKind::Habilitation => 1,
        }
    }

    fn from_code(code: u64) -> Option<Self> {
        match code {
            0 => Some(BasisKind::Grant),
            1 => Some(BasisKind::Habilitation),
            _ => None,
        }
    }

    /// The object kind of such a basis.
    pub fn object_kind(self) -> ObjectKind {
        match self {
            BasisKind::Grant => ObjectKind::Grant,
            BasisKind::Habilitation => ObjectKind::Habilitation,
        }
    }
}

/// A transfer receipt's claims, signed by the provider: exactly what was sent, to whom, about
/// whom, on what basis, and until when the consumer may keep it.
///
/// A receipt can only be made from an [`Authorization`] (the verifier's *allow*), with
/// [`Receipt::for_authorization`], or decoded from signed bytes.
///
/// Wire form: a map with keys `0` version (1), `1` receipt id, `2` request id, `3` request hash,
/// `4` basis id, `5` basis kind (0 grant, 1 habilitation), `6` basis hash, `7` subject,
/// `8` consumer, `9` provider, `10` categories (sorted, without repetition, at least one),
/// `11` data range `[from, until]`, `12` retention deadline, `13` issue time.
///
/// ```
/// use consentry::log::Receipt;
/// use consentry::signed::{SignedPayload, Verified};
/// use consentry::testing::Scenario;
///
/// let s = Scenario::canteen();
/// let grant = s.sign_grant(&s.grant().build(&s.ceilings).unwrap());
/// let request = s.sign_request(&s.request(&grant));
/// let decision = s.decide(&request, &grant);
/// let allow = decision.allowed().expect("allowed");
///
/// let receipt = Receipt::for_authorization(allow, s.next_uuid(), s.now);
/// let bytes = receipt.sign(s.key(s.dgfip));
/// let verified = Verified::<Receipt>::parse_and_verify(&bytes, &s.directory).unwrap();
/// assert_eq!(verified.claims().subject(), s.parent);
/// assert_eq!(verified.claims().categories(), allow.categories());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Receipt {
    id: Uuid,
    request: RequestId,
    request_digest: Digest,
    basis: BasisId,
    basis_kind: BasisKind,
    basis_digest: Digest,
    subject: PartyId,
    consumer: PartyId,
    provider: PartyId,
    categories: Vec<Category>,
    data_range: DataRange,
    retain_until: Timestamp,
    issued_at: Timestamp,
}

impl Receipt {
    /// The receipt of the transfer an *allow* permits, issued by its provider at `at`.
    ///
    /// Everything is copied from the authorization: the receipt states exactly what the
    /// verifier allowed, no more.
    pub fn for_authorization(authorization: &Authorization, id: Uuid, at: Timestamp) -> Receipt {
        Receipt {
            id,
            request: authorization.request(),
            request_digest: authorization.request_digest(),
            basis: authorization.basis(),
            // The verifier only authorizes on a grant or a habilitation.
            basis_kind: match authorization.basis_kind() {
                ObjectKind::Habilitation => BasisKind::Habilitation,
                _ => BasisKind::Grant,
            },
            basis_digest: authorization.basis_digest(),
            subject: authorization.subject(),
            consumer: authorization.consumer(),
            provider: authorization.provider(),
            categories: authorization.categories().to_vec(),
            data_range: authorization.data_range(),
            retain_until: authorization.retain_until(),
            issued_at: at,
        }
    }

    /// The receipt's own id.
    pub fn id(&self) -> Uuid {
        self.id
    }
    /// The request the transfer answered.
    pub fn request(&self) -> RequestId {
        self.request
    }
    /// SHA-256 of the request's exact signed bytes.
    pub fn request_digest(&self) -> Digest {
        self.request_digest
    }
    /// The legal basis relied on.
    pub fn basis(&self) -> BasisId {
        self.basis
    }
    /// Grant or habilitation.
    pub fn basis_kind(&self) -> BasisKind {
        self.basis_kind
    }
    /// SHA-256 of the basis's exact signed bytes.
    pub fn basis_digest(&self) -> Digest {
        self.basis_digest
    }
    /// The person the data is about.
    pub fn subject(&self) -> PartyId {
        self.subject
    }
    /// Who received the data.
    pub fn consumer(&self) -> PartyId {
        self.consumer
    }
    /// Who sent it (and signs the receipt).
    pub fn provider(&self) -> PartyId {
        self.provider
    }
    /// The categories delivered.
    pub fn categories(&self) -> &[Category] {
        &self.categories
    }
    /// The period the data delivered covers.
    pub fn data_range(&self) -> DataRange {
        self.data_range
    }
    /// When the consumer must have deleted the data.
    pub fn retain_until(&self) -> Timestamp {
        self.retain_until
    }
    /// When the receipt was issued.
    pub fn issued_at(&self) -> Timestamp {
        self.issued_at
    }
}

impl SignedPayload for Receipt {
    const KIND: ObjectKind = ObjectKind::Receipt;

    fn encode(&self, e: &mut Encoder) {
        e.map(14);
        e.uint(0).uint(FORMAT_VERSION);
        e.uint(1).bytes(self.id.as_bytes());
        e.uint(2).bytes(self.request.0.as_bytes());
        e.uint(3).bytes(&self.request_digest.0);
        e.uint(4).bytes(self.basis.0.as_bytes());
        e.uint(5).uint(self.basis_kind.code());
        e.uint(6).bytes(&self.basis_digest.0);
        e.uint(7).bytes(self.subject.as_bytes());
        e.uint(8).bytes(self.consumer.as_bytes());
        e.uint(9).bytes(self.provider.as_bytes());
        e.uint(10);
        wire::write_categories(e, &self.categories);
        e.uint(11);
        self.data_range.write(e);
        e.uint(12).uint(self.retain_until.0);
        e.uint(13).uint(self.issued_at.0);
    }

    fn decode(d: &mut Decoder<'_>) -> Result<Self, DecodeError> {
        let mut m = d.map_reader("receipt")?;
        m.version(FORMAT_VERSION)?;
        let receipt = Receipt {
            id: m.required(1, "id", wire::uuid)?,
            request: RequestId(m.required(2, "request", wire::uuid)?),
            request_digest: m.required(3, "request hash", wire::digest)?,
            basis: BasisId(m.required(4, "basis", wire::uuid)?),
            basis_kind: m.required(5, "basis kind", |d| {
                BasisKind::from_code(d.uint()?).ok_or(DecodeError::InvalidValue {
                    field: "basis kind",
                    reason: "must be 0 (grant) or 1 (habilitation)",
                })
            })?,
            basis_digest: m.required(6, "basis hash", wire::digest)?,
            subject: m.required(7, "subject", wire::party_id)?,
            consumer: m.required(8, "consumer", wire::party_id)?,
            provider: m.required(9, "provider", wire::party_id)?,
            categories: m.required(10, "categories", wire::categories)?,
            data_range: m.required(11, "data range", DataRange::read)?,
            retain_until: m.required(12, "retain until", wire::timestamp)?,
            issued_at: m.required(13, "issued at", wire::timestamp)?,
        };
        m.finish()?;
        Ok(receipt)
    }

    fn signer(&self) -> PartyId {
        self.provider
    }

    fn issued_at(&self) -> Timestamp {
        self.issued_at
    }
}
