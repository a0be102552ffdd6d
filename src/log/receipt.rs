//! Transfer receipts: what a provider signs when it sends data under an *allow*.

use crate::Digest;
use crate::cbor::{DecodeError, Decoder, Encoder};
use crate::cose::ObjectKind;
use crate::decision::{Authorization, ChainLink};
use crate::derivation::{self, DerivationTerm};
use crate::directory::{PartyId, RepresentationKind};
use crate::grant::chain_length;
use crate::habilitation::MAX_LEGAL_REFERENCE;
use crate::ids::{BasisId, BasisKind, RequestId};
use crate::labels::receipt;
use crate::signed::SignedPayload;
use crate::terms::DataRange;
use crate::time::Timestamp;
use crate::vocab::{Category, Purpose};
use crate::wire::{self, FORMAT_VERSION};
use serde::Serialize;
use uuid::Uuid;

/// A transfer receipt's claims, signed by the provider: exactly what was sent, to whom, about
/// whom, on what basis, and until when the consumer may keep it.
///
/// A receipt can only be made from an [`Authorization`] (the verifier's *allow*), with
/// [`Receipt::for_authorization`], or decoded from signed bytes.
///
/// Wire form: a map with keys `0` version (2), `1` receipt id, `2` request id, `3` request hash,
/// `4` basis id, `5` basis kind (0 grant, 1 habilitation), `6` basis hash, `7` subject,
/// `8` consumer, `9` provider, `10` categories (sorted, without repetition, at least one),
/// `11` data range `[from, until]`, `12` retention deadline, `13` issue time, `14` onward
/// transfer allowed (present, as `true`, only when it is), and for a grant expressed by a
/// representative `15` the chain of representation: `[1*3 [representative, kind]]`, signer
/// first, each link with the kind of the representation that backed it (0 parent, 1 guardian,
/// 2 mandate); only for a grant. Then `16` the basis's purpose code; `17` the habilitation's
/// legal reference (text, present exactly when the basis is a habilitation: a grant's legal
/// basis is the subject's consent, which the basis id and hash already name); and `18` the
/// derivations applied, `[+ [category, derivation, [+ parameter]]]` sorted by category, each
/// category among key 10's, present only when a category was sent in derived form.
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
    onward_transfer: bool,
    chain: Vec<ChainLink>,
    purpose: Purpose,
    legal_reference: Option<String>,
    derivations: Vec<DerivationTerm>,
}

impl Receipt {
    /// The receipt of the transfer an *allow* permits, issued by its provider at `at`.
    ///
    /// Everything is copied from the authorization: the receipt states exactly what the
    /// verifier allowed, no more.
    #[must_use]
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
            onward_transfer: authorization.onward_transfer(),
            chain: authorization
                .consent()
                .map(|c| c.chain.clone())
                .unwrap_or_default(),
            basis_digest: authorization.basis_digest(),
            subject: authorization.subject(),
            consumer: authorization.consumer(),
            provider: authorization.provider(),
            categories: authorization.categories().to_vec(),
            data_range: authorization.data_range(),
            retain_until: authorization.retain_until(),
            issued_at: at,
            // The code only: the purpose's text is for people, and the basis carries it.
            purpose: Purpose::new(authorization.purpose().code())
                .unwrap_or_else(|_| authorization.purpose().clone()),
            legal_reference: authorization.legal_reference().map(str::to_owned),
            derivations: authorization.derivations().to_vec(),
        }
    }

    /// The receipt's own id.
    #[must_use]
    pub fn id(&self) -> Uuid {
        self.id
    }
    /// The request the transfer answered.
    #[must_use]
    pub fn request(&self) -> RequestId {
        self.request
    }
    /// SHA-256 of the request's exact signed bytes.
    #[must_use]
    pub fn request_digest(&self) -> Digest {
        self.request_digest
    }
    /// The legal basis relied on.
    #[must_use]
    pub fn basis(&self) -> BasisId {
        self.basis
    }
    /// Grant or habilitation.
    #[must_use]
    pub fn basis_kind(&self) -> BasisKind {
        self.basis_kind
    }
    /// SHA-256 of the basis's exact signed bytes.
    #[must_use]
    pub fn basis_digest(&self) -> Digest {
        self.basis_digest
    }
    /// The person the data is about.
    #[must_use]
    pub fn subject(&self) -> PartyId {
        self.subject
    }
    /// Who received the data.
    #[must_use]
    pub fn consumer(&self) -> PartyId {
        self.consumer
    }
    /// Who sent it (and signs the receipt).
    #[must_use]
    pub fn provider(&self) -> PartyId {
        self.provider
    }
    /// The categories delivered.
    #[must_use]
    pub fn categories(&self) -> &[Category] {
        &self.categories
    }
    /// The period the data delivered covers.
    #[must_use]
    pub fn data_range(&self) -> DataRange {
        self.data_range
    }
    /// When the consumer must have deleted the data.
    #[must_use]
    pub fn retain_until(&self) -> Timestamp {
        self.retain_until
    }
    /// When the receipt was issued.
    #[must_use]
    pub fn issued_at(&self) -> Timestamp {
        self.issued_at
    }
    /// Whether the consumer may pass the data on (the grant's term; never for a habilitation).
    #[must_use]
    pub fn onward_transfer(&self) -> bool {
        self.onward_transfer
    }
    /// Who expressed the consent for the subject, and on what footing, when it was not the
    /// subject themself (grants only): the head of the [chain](Receipt::chain).
    #[must_use]
    pub fn representative(&self) -> Option<(PartyId, RepresentationKind)> {
        self.chain.first().map(|l| (l.representative, l.kind))
    }
    /// The chain of representation the consent was expressed through, signer first, each link
    /// with the kind of representation that backed it; empty when the subject consented
    /// themself, and for a habilitation.
    #[must_use]
    pub fn chain(&self) -> &[ChainLink] {
        &self.chain
    }
    /// The purpose the data was sent for (its code).
    #[must_use]
    pub fn purpose(&self) -> &Purpose {
        &self.purpose
    }
    /// The legal text the habilitation relied on rests on; `None` for a grant, whose legal
    /// basis is the subject's consent.
    #[must_use]
    pub fn legal_reference(&self) -> Option<&str> {
        self.legal_reference.as_deref()
    }
    /// The derivations applied: each category of [`categories`](Receipt::categories) sent in
    /// derived form, with its derivation and parameters (sorted by category; empty when every
    /// category was sent raw).
    #[must_use]
    pub fn derivations(&self) -> &[DerivationTerm] {
        &self.derivations
    }
}

impl SignedPayload for Receipt {
    const KIND: ObjectKind = ObjectKind::Receipt;

    fn encode(&self, e: &mut Encoder) {
        e.map(
            15 + usize::from(self.onward_transfer)
                + usize::from(!self.chain.is_empty())
                + usize::from(self.legal_reference.is_some())
                + usize::from(!self.derivations.is_empty()),
        );
        e.uint(receipt::VERSION).uint(FORMAT_VERSION);
        e.uint(receipt::ID).bytes(self.id.as_bytes());
        e.uint(receipt::REQUEST).bytes(self.request.0.as_bytes());
        e.uint(receipt::REQUEST_HASH).bytes(&self.request_digest.0);
        e.uint(receipt::BASIS).bytes(self.basis.0.as_bytes());
        e.uint(receipt::BASIS_KIND)
            .uint(u64::from(self.basis_kind.code()));
        e.uint(receipt::BASIS_HASH).bytes(&self.basis_digest.0);
        e.uint(receipt::SUBJECT).bytes(self.subject.as_bytes());
        e.uint(receipt::CONSUMER).bytes(self.consumer.as_bytes());
        e.uint(receipt::PROVIDER).bytes(self.provider.as_bytes());
        e.uint(receipt::CATEGORIES);
        wire::write_categories(e, &self.categories);
        e.uint(receipt::DATA_RANGE);
        self.data_range.write(e);
        e.uint(receipt::RETAIN_UNTIL).uint(self.retain_until.0);
        e.uint(receipt::ISSUED_AT).uint(self.issued_at.0);
        if self.onward_transfer {
            e.uint(receipt::ONWARD_TRANSFER).bool(true);
        }
        if !self.chain.is_empty() {
            e.uint(receipt::CHAIN).array(self.chain.len());
            for link in &self.chain {
                e.array(2)
                    .bytes(link.representative.as_bytes())
                    .uint(link.kind.code());
            }
        }
        e.uint(receipt::PURPOSE).text(self.purpose.code());
        if let Some(reference) = &self.legal_reference {
            e.uint(receipt::LEGAL_REFERENCE).text(reference);
        }
        if !self.derivations.is_empty() {
            e.uint(receipt::DERIVATIONS);
            derivation::write_terms(e, &self.derivations);
        }
    }

    fn decode(d: &mut Decoder<'_>) -> Result<Self, DecodeError> {
        let mut m = d.map_reader("receipt")?;
        m.version(receipt::VERSION, FORMAT_VERSION)?;
        let mut receipt = Receipt {
            id: m.required(receipt::ID, "id", wire::uuid)?,
            request: RequestId(m.required(receipt::REQUEST, "request", wire::uuid)?),
            request_digest: m.required(receipt::REQUEST_HASH, "request hash", wire::digest)?,
            basis: BasisId(m.required(receipt::BASIS, "basis", wire::uuid)?),
            basis_kind: m.required(receipt::BASIS_KIND, "basis kind", |d: &mut Decoder<'_>| {
                BasisKind::from_code(d.uint()?).ok_or(DecodeError::InvalidValue {
                    field: "basis kind",
                    reason: "must be 0 (grant) or 1 (habilitation)",
                })
            })?,
            basis_digest: m.required(receipt::BASIS_HASH, "basis hash", wire::digest)?,
            subject: m.required(receipt::SUBJECT, "subject", wire::party_id)?,
            consumer: m.required(receipt::CONSUMER, "consumer", wire::party_id)?,
            provider: m.required(receipt::PROVIDER, "provider", wire::party_id)?,
            categories: m.required(receipt::CATEGORIES, "categories", wire::categories)?,
            data_range: m.required(receipt::DATA_RANGE, "data range", DataRange::read)?,
            retain_until: m.required(receipt::RETAIN_UNTIL, "retain until", wire::timestamp)?,
            issued_at: m.required(receipt::ISSUED_AT, "issued at", wire::timestamp)?,
            onward_transfer: m
                .optional(receipt::ONWARD_TRANSFER, wire::true_flag)?
                .is_some(),
            chain: Vec::new(),
            purpose: Purpose::new("x:x").unwrap_or_else(|_| unreachable!()),
            legal_reference: None,
            derivations: Vec::new(),
        };
        let chain = m.optional(receipt::CHAIN, read_chain)?;
        receipt.purpose = m.required(receipt::PURPOSE, "purpose", wire::purpose_code)?;
        receipt.legal_reference = m.optional(receipt::LEGAL_REFERENCE, |d| {
            wire::text(d, "legal reference", MAX_LEGAL_REFERENCE)
        })?;
        receipt.derivations = m
            .optional(receipt::DERIVATIONS, |d| {
                derivation::read_terms(d, crate::terms::MAX_SCOPE)
            })?
            .unwrap_or_default();
        m.finish()?;
        if let Some(links) = chain {
            if receipt.basis_kind != BasisKind::Grant {
                return Err(DecodeError::InvalidValue {
                    field: "chain",
                    reason: "only a grant is expressed through a chain",
                });
            }
            receipt.chain = chain_links(&links, receipt.subject)?;
        }
        if receipt.onward_transfer && receipt.basis_kind != BasisKind::Grant {
            return Err(DecodeError::InvalidValue {
                field: "onward transfer",
                reason: "only a grant allows onward transfer",
            });
        }
        if receipt.legal_reference.is_some() != (receipt.basis_kind == BasisKind::Habilitation) {
            return Err(DecodeError::InvalidValue {
                field: "legal reference",
                reason: "present exactly when the basis is a habilitation",
            });
        }
        if !receipt.derivations.is_empty() && receipt.basis_kind != BasisKind::Grant {
            return Err(DecodeError::InvalidValue {
                field: "derivations",
                reason: "only a grant allows derivations",
            });
        }
        if receipt
            .derivations
            .iter()
            .any(|t| receipt.categories.binary_search(t.category()).is_err())
        {
            return Err(DecodeError::InvalidValue {
                field: "derivations",
                reason: "each must apply to a category delivered",
            });
        }
        Ok(receipt)
    }

    fn signer(&self) -> PartyId {
        self.provider
    }

    fn issued_at(&self) -> Timestamp {
        self.issued_at
    }
}

/// Reads a receipt's chain (key 15): `[1*3 [representative, kind]]`, the length judged before
/// any link is read.
fn read_chain(d: &mut Decoder<'_>) -> Result<Vec<(PartyId, RepresentationKind)>, DecodeError> {
    d.nested(|d| {
        let links = chain_length(d)?;
        let mut out = Vec::with_capacity(links);
        for _ in 0..links {
            out.push(d.nested(|d| {
                if d.array()? != 2 {
                    return Err(DecodeError::InvalidValue {
                        field: "chain link",
                        reason: "must be [representative, kind]",
                    });
                }
                let party = wire::party_id(d)?;
                let kind =
                    RepresentationKind::from_code(d.uint()?).ok_or(DecodeError::InvalidValue {
                        field: "representation kind",
                        reason: "must be 0 (parent), 1 (guardian) or 2 (mandate)",
                    })?;
                Ok((party, kind))
            })?);
        }
        Ok(out)
    })
}

/// The links of a receipt's chain, each representing the next party or, last, the subject:
/// no party twice nor the subject, and a mandate only as the first link (a verifier allows
/// nothing else).
fn chain_links(
    links: &[(PartyId, RepresentationKind)],
    subject: PartyId,
) -> Result<Vec<ChainLink>, DecodeError> {
    let mut out: Vec<ChainLink> = Vec::with_capacity(links.len());
    for (i, &(representative, kind)) in links.iter().enumerate() {
        if representative == subject || out.iter().any(|l| l.representative == representative) {
            return Err(DecodeError::ChainRepeatsParty {
                party: representative,
            });
        }
        if i > 0 && !kind.is_legal() {
            return Err(DecodeError::InvalidValue {
                field: "chain",
                reason: "a mandate may only be the first link",
            });
        }
        let represented = links.get(i + 1).map_or(subject, |&(next, _)| next);
        out.push(ChainLink {
            representative,
            represented,
            kind,
        });
    }
    Ok(out)
}
