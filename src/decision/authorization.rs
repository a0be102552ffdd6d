use super::Reason;
use crate::cose::ObjectKind;
use crate::derivation::DerivationTerm;
use crate::digest::Digest;
use crate::directory::{PartyId, RepresentationKind};
use crate::ids::{BasisId, RequestId};
use crate::terms::DataRange;
use crate::time::Timestamp;
use crate::vocab::{Category, Purpose};
use serde::Serialize;
use serde::ser::{SerializeStruct, Serializer};

/// One link of a chain of representation, as the directory backed it: `representative` acted
/// for `represented` on the footing `kind`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct ChainLink {
    /// Who acted.
    pub representative: PartyId,
    /// For whom: the next party of the chain, or the subject for the last link.
    pub represented: PartyId,
    /// On what footing (the representation that held at the grant's issue time).
    pub kind: RepresentationKind,
}

/// Who expressed a consent, and on what footing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ConsentExpression {
    /// The party that signed the grant: the subject, or the head of the chain.
    pub expressed_by: PartyId,
    /// For whom.
    pub subject: PartyId,
    /// The chain of representation, signer first, each link with the kind of the
    /// representation that backed it; empty when the subject consented themself.
    pub chain: Vec<ChainLink>,
}

impl ConsentExpression {
    /// The footing of the signer's own link (`None` when the subject consented themself).
    #[must_use]
    pub fn representation(&self) -> Option<RepresentationKind> {
        self.chain.first().map(|l| l.kind)
    }
}

/// What an *allow* lets the provider send, and on what basis. Only the verifier creates one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Authorization {
    pub(super) request: RequestId,
    pub(super) request_digest: Digest,
    pub(super) basis: BasisId,
    pub(super) basis_kind: ObjectKind,
    pub(super) basis_digest: Digest,
    pub(super) subject: PartyId,
    pub(super) consumer: PartyId,
    pub(super) provider: PartyId,
    pub(super) categories: Vec<Category>,
    pub(super) data_range: DataRange,
    pub(super) retain_until: Timestamp,
    pub(super) consent: Option<ConsentExpression>,
    pub(super) legal_reference: Option<String>,
    pub(super) purpose: Purpose,
    pub(super) derivations: Vec<DerivationTerm>,
    pub(super) onward_transfer: bool,
    pub(super) decided_at: Timestamp,
    #[serde(skip)]
    pub(super) receipt: Option<Vec<u8>>,
}

impl Authorization {
    /// The request allowed.
    #[must_use]
    pub fn request(&self) -> RequestId {
        self.request
    }
    /// SHA-256 of the request's exact bytes.
    #[must_use]
    pub fn request_digest(&self) -> Digest {
        self.request_digest
    }
    /// The basis relied on.
    #[must_use]
    pub fn basis(&self) -> BasisId {
        self.basis
    }
    /// Grant or habilitation.
    #[must_use]
    pub fn basis_kind(&self) -> ObjectKind {
        self.basis_kind
    }
    /// SHA-256 of the basis's exact bytes.
    #[must_use]
    pub fn basis_digest(&self) -> Digest {
        self.basis_digest
    }
    /// The person the data is about.
    #[must_use]
    pub fn subject(&self) -> PartyId {
        self.subject
    }
    /// Who receives it.
    #[must_use]
    pub fn consumer(&self) -> PartyId {
        self.consumer
    }
    /// Who sends it.
    #[must_use]
    pub fn provider(&self) -> PartyId {
        self.provider
    }
    /// Exactly the categories that may be sent: raw, unless
    /// [`derivations`](Authorization::derivations) names the category, which is then sent
    /// only in that derived form.
    #[must_use]
    pub fn categories(&self) -> &[Category] {
        &self.categories
    }
    /// Exactly which derived values may be sent: for each category of
    /// [`categories`](Authorization::categories) the basis derives, the derivation and its
    /// parameters, fixed by the grant (sorted by category; empty when everything is raw). The
    /// provider computes the value with the vocabulary's
    /// [`Derivation::apply`](crate::derivation::Derivation::apply).
    #[must_use]
    pub fn derivations(&self) -> &[DerivationTerm] {
        &self.derivations
    }
    /// The derivation `category` may be sent in, or `None` if it may be sent raw (or is not
    /// authorized at all: see [`categories`](Authorization::categories)).
    #[must_use]
    pub fn derivation(&self, category: &Category) -> Option<&DerivationTerm> {
        crate::grant::derivation_of(&self.derivations, category)
    }
    /// The basis's purpose.
    #[must_use]
    pub fn purpose(&self) -> &Purpose {
        &self.purpose
    }
    /// Exactly the period the data sent may cover.
    #[must_use]
    pub fn data_range(&self) -> DataRange {
        self.data_range
    }
    /// When the consumer must have deleted the data.
    #[must_use]
    pub fn retain_until(&self) -> Timestamp {
        self.retain_until
    }
    /// Who expressed consent for whom (grants only).
    #[must_use]
    pub fn consent(&self) -> Option<&ConsentExpression> {
        self.consent.as_ref()
    }
    /// The legal text (habilitations only).
    #[must_use]
    pub fn legal_reference(&self) -> Option<&str> {
        self.legal_reference.as_deref()
    }
    /// Whether the consumer may pass the data on.
    #[must_use]
    pub fn onward_transfer(&self) -> bool {
        self.onward_transfer
    }
    /// When the decision was made.
    #[must_use]
    pub fn decided_at(&self) -> Timestamp {
        self.decided_at
    }
    /// The signed receipt of this transfer, logged in the same ledger transaction that counted
    /// the use: present when the verifier signs receipts
    /// ([`Verifier::with_receipts`](super::Verifier::with_receipts)). Hand it to the consumer
    /// with the data.
    #[must_use]
    pub fn receipt(&self) -> Option<&[u8]> {
        self.receipt.as_deref()
    }
}

impl Serialize for Reason {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Reason", 2)?;
        st.serialize_field("code", self.code())?;
        st.serialize_field("message", &self.to_string())?;
        st.end()
    }
}

/// What a *deny* says: every failed rule, and what the log's denial entry needs
/// ([`Denial::for_decision`](crate::log::Denial::for_decision)). Only the verifier creates one;
/// every party and id in it comes from verified objects.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Refusal {
    pub(super) reasons: Vec<Reason>,
    pub(super) request_digest: Digest,
    pub(super) request: Option<RequestId>,
    pub(super) basis: Option<BasisId>,
    pub(super) subject: Option<PartyId>,
    pub(super) decided_at: Timestamp,
}

impl Refusal {
    /// Every failed rule, in [`Reason`] order; never empty.
    #[must_use]
    pub fn reasons(&self) -> &[Reason] {
        &self.reasons
    }
    /// SHA-256 of the request bytes received.
    #[must_use]
    pub fn request_digest(&self) -> Digest {
        self.request_digest
    }
    /// The request id, if the request verified.
    #[must_use]
    pub fn request(&self) -> Option<RequestId> {
        self.request
    }
    /// The basis id, if the basis verified.
    #[must_use]
    pub fn basis(&self) -> Option<BasisId> {
        self.basis
    }
    /// The person the request concerned, from verified data only: the verified request's
    /// subject, else the verified grant's; `None` when neither verified.
    #[must_use]
    pub fn subject(&self) -> Option<PartyId> {
        self.subject
    }
    /// When the decision was made.
    #[must_use]
    pub fn decided_at(&self) -> Timestamp {
        self.decided_at
    }
}

/// The outcome of a transfer decision.
// Returned once per decision and usually matched at once: boxing the authorization would add
// an allocation to every allow for no gain.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "decision")]
#[must_use]
pub enum Decision {
    /// The transfer may happen, exactly as described.
    Allow(Authorization),
    /// The transfer must not happen: every failed rule, and the facts a denial entry logs.
    Deny(Refusal),
}

impl Decision {
    /// The authorization, if allowed.
    #[must_use]
    pub fn allowed(&self) -> Option<&Authorization> {
        match self {
            Decision::Allow(a) => Some(a),
            Decision::Deny(_) => None,
        }
    }

    /// The refusal, if denied.
    #[must_use]
    pub fn refusal(&self) -> Option<&Refusal> {
        match self {
            Decision::Allow(_) => None,
            Decision::Deny(r) => Some(r),
        }
    }

    /// The reasons, empty if allowed.
    #[must_use]
    pub fn reasons(&self) -> &[Reason] {
        self.refusal().map_or(&[], Refusal::reasons)
    }

    /// The reason codes, empty if allowed.
    pub fn codes(&self) -> Vec<&'static str> {
        self.reasons().iter().map(Reason::code).collect()
    }

    /// Whether allowed.
    #[must_use]
    pub fn is_allow(&self) -> bool {
        matches!(self, Decision::Allow(_))
    }
}
