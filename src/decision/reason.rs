use crate::ceiling::CeilingExcess;
use crate::cose::ObjectKind;
use crate::directory::{KeyRefusal, PartyId, Role};
use crate::ids::{BasisId, RequestId};
use crate::keys::KeyId;
use crate::signed::ParseError;
use crate::terms::DataRange;
use crate::time::Timestamp;
use crate::vocab::{Category, Purpose};
use std::fmt;

/// Which of the two objects of a decision a reason is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[repr(u8)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Subject {
    /// The transfer request.
    Request,
    /// The grant or habilitation it relies on.
    Basis,
    /// A lifecycle statement.
    Statement,
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Subject::Request => "request",
            Subject::Basis => "grant or habilitation",
            Subject::Statement => "statement",
        })
    }
}

/// Why one link of a grant's chain of representation is not backed by the directory.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum LinkFault {
    /// No representation of the link's pair held at the grant's issue time.
    NotHeld,
    /// Beyond the first link, only a mandate held: a consent manager cannot re-delegate, and a
    /// mandate does not chain through another representation.
    MandateNotFirst,
}

impl LinkFault {
    /// A stable `snake_case` code for the fault (the reason's own code is
    /// `representation_not_valid`).
    #[must_use]
    pub fn code(self) -> &'static str {
        match self {
            LinkFault::NotHeld => "not_held",
            LinkFault::MandateNotFirst => "mandate_not_first",
        }
    }
}

/// One rule a transfer failed. A denial lists every failed rule, in the order of this enum's
/// variants, and for the same variant the request before the basis (see `docs/model.md` for
/// each rule and why it exists).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Reason {
    /// The object's bytes are not a well-formed object (envelope or payload).
    Malformed {
        /// Which object.
        object: Subject,
        /// What is wrong.
        error: ParseError,
    },
    /// The object is of another kind than expected (a grant presented as a request…).
    WrongKind {
        /// Which object.
        object: Subject,
        /// The kind found.
        found: ObjectKind,
    },
    /// No party holds the key that signed the object.
    UnknownKey {
        /// Which object.
        object: Subject,
        /// The key id.
        kid: KeyId,
    },
    /// The object's signature does not verify.
    BadSignature {
        /// Which object.
        object: Subject,
    },
    /// The key may not sign for the claimed signer at the object's issue time (not the
    /// signer's key, outside its validity window, or compromised).
    KeyNotValid {
        /// Which object.
        object: Subject,
        /// The key rule that failed.
        refusal: KeyRefusal,
    },
    /// The request names another basis than the one presented.
    BasisMismatch {
        /// The basis the request names.
        requested: BasisId,
        /// The basis presented.
        presented: BasisId,
    },
    /// The request's hash of the basis does not match the basis's exact bytes.
    BasisHashMismatch,
    /// The signer lacks the role its object requires.
    SignerNotEntitled {
        /// Which object.
        object: Subject,
        /// The signer.
        signer: PartyId,
        /// The role required.
        required: Role,
    },
    /// A link of the grant's chain of representation is not backed by a representation that
    /// held at the grant's issue time (for a one-link chain: the signer did not represent the
    /// subject then). One reason per failing link, in chain order.
    RepresentationNotValid {
        /// The link's place in the chain: 0 is the signer's own link.
        link: u8,
        /// Who acts in that link.
        representative: PartyId,
        /// For whom (the next party of the chain, or the subject for the last link).
        represented: PartyId,
        /// What is wrong with the link.
        fault: LinkFault,
    },
    /// The basis's signing key was reported compromised before the ledger first saw the basis,
    /// and no proof shows it existed earlier: it may have been backdated with the stolen key.
    FirstSeenAfterCompromise {
        /// When the ledger first saw the basis.
        first_seen: Timestamp,
        /// When its key was reported compromised.
        compromised_at: Timestamp,
    },
    /// A representation the grant was expressed under (one link of its chain) ended before the
    /// ledger first saw the grant, and no proof shows it existed earlier: it may have been
    /// backdated by a former representative. One reason per such link, in chain order.
    FirstSeenAfterRepresentationEnded {
        /// The link's place in the chain: 0 is the signer's own link.
        link: u8,
        /// Who acts in that link.
        representative: PartyId,
        /// For whom.
        represented: PartyId,
        /// When the ledger first saw the grant.
        first_seen: Timestamp,
        /// When the representation ended.
        ended_at: Timestamp,
    },
    /// The request comes from another consumer than the basis names.
    ConsumerMismatch {
        /// The consumer asking.
        requested: PartyId,
        /// The consumer the basis names.
        granted: PartyId,
    },
    /// The request is about another subject than the grant's.
    SubjectMismatch {
        /// The subject asked about.
        requested: PartyId,
        /// The grant's subject.
        granted: PartyId,
    },
    /// The request is addressed to another provider than this verifier's.
    WrongProvider {
        /// The provider the request names.
        addressed: PartyId,
    },
    /// The basis covers nothing at the provider asked.
    ProviderNotCovered {
        /// The provider.
        provider: PartyId,
    },
    /// Categories asked for that the basis does not cover at this provider.
    CategoriesNotCovered {
        /// The categories not covered.
        categories: Vec<Category>,
    },
    /// Categories asked for that this provider's ceiling for the purpose releases only in
    /// derived form, and that the basis does not derive: the raw value may not be sent.
    RawWhereDerivedOnly {
        /// The categories.
        categories: Vec<Category>,
    },
    /// The request's purpose is not the basis's.
    PurposeMismatch {
        /// The purpose claimed.
        requested: Purpose,
        /// The basis's purpose.
        granted: Purpose,
    },
    /// The data range asked for is not inside the grant's.
    DataRangeOutside {
        /// The range asked for.
        requested: DataRange,
        /// The range granted.
        granted: DataRange,
    },
    /// Under a habilitation, the data range asked for is longer than the provider's ceiling for
    /// the purpose allows.
    DataRangeTooLong {
        /// The range asked for.
        requested: DataRange,
        /// The longest range the ceiling allows, in seconds.
        max_secs: u64,
    },
    /// The basis is not valid yet.
    NotYetValid {
        /// When it becomes valid.
        not_before: Timestamp,
    },
    /// The basis has expired.
    Expired {
        /// When it expired.
        expires_at: Timestamp,
    },
    /// The basis is paused.
    Paused {
        /// Since when.
        since: Timestamp,
    },
    /// The basis is revoked.
    Revoked {
        /// Since when.
        at: Timestamp,
    },
    /// The basis goes beyond this provider's purpose ceiling.
    BeyondCeiling {
        /// Every excess.
        excesses: Vec<CeilingExcess>,
    },
    /// The basis claims an issue time further in the future than the clock-skew tolerance.
    BasisFromFuture {
        /// Its issue time.
        issued_at: Timestamp,
    },
    /// The request claims an issue time further in the future than the clock-skew tolerance.
    RequestFromFuture {
        /// Its issue time.
        issued_at: Timestamp,
    },
    /// The request is older than the freshness window.
    RequestTooOld {
        /// Its issue time.
        issued_at: Timestamp,
    },
    /// The request id was already used.
    ReplayedRequest {
        /// The id.
        id: RequestId,
    },
    /// The one-time grant was already used.
    OneTimeUsed,
    /// The period's quota is used up.
    FrequencyExhausted {
        /// When the next period starts.
        next_allowed: Timestamp,
    },
    /// The ledger could not be read or written: the decision fails closed.
    LedgerUnavailable {
        /// What failed.
        error: crate::ledger::LedgerError,
    },
}

impl Reason {
    /// Every reason code a decision may give, in the order of a denial's reasons.
    ///
    /// ```
    /// use consentry::decision::Reason;
    /// let codes: Vec<&str> = Reason::all_codes().collect();
    /// assert_eq!(codes.first(), Some(&"malformed"));
    /// assert!(codes.contains(&"one_time_used"));
    /// ```
    pub fn all_codes() -> impl Iterator<Item = &'static str> {
        Reason::one_of_each().into_iter().map(|r| r.code())
    }

    /// One reason of each variant, in variant order (the unit tests tie this list to an
    /// exhaustive match, so a new variant cannot be left out).
    #[allow(
        clippy::too_many_lines,
        reason = "one sample per variant, in `Reason` order"
    )]
    fn one_of_each() -> Vec<Reason> {
        use crate::ledger::LedgerError;
        let (t, o) = (Timestamp(0), Subject::Request);
        let party = PartyId::from_bytes([0; 16]);
        let range = DataRange::new(t, t.plus_secs(1)).unwrap_or_else(|_| unreachable!());
        let purpose = Purpose::new("x:y").unwrap_or_else(|_| unreachable!());
        vec![
            Reason::Malformed {
                object: o,
                error: ParseError::Payload(crate::cbor::DecodeError::TrailingBytes {
                    offset: 0,
                    count: 1,
                }),
            },
            Reason::WrongKind {
                object: o,
                found: ObjectKind::Grant,
            },
            Reason::UnknownKey {
                object: o,
                kid: KeyId([0; 16]),
            },
            Reason::BadSignature { object: o },
            Reason::KeyNotValid {
                object: o,
                refusal: KeyRefusal::UnknownKey {
                    kid: KeyId([0; 16]),
                },
            },
            Reason::BasisMismatch {
                requested: BasisId::from_bytes([0; 16]),
                presented: BasisId::from_bytes([1; 16]),
            },
            Reason::BasisHashMismatch,
            Reason::SignerNotEntitled {
                object: o,
                signer: party,
                required: Role::Consumer,
            },
            Reason::RepresentationNotValid {
                link: 0,
                representative: party,
                represented: party,
                fault: LinkFault::NotHeld,
            },
            Reason::FirstSeenAfterCompromise {
                first_seen: t,
                compromised_at: t,
            },
            Reason::FirstSeenAfterRepresentationEnded {
                link: 0,
                representative: party,
                represented: party,
                first_seen: t,
                ended_at: t,
            },
            Reason::ConsumerMismatch {
                requested: party,
                granted: party,
            },
            Reason::SubjectMismatch {
                requested: party,
                granted: party,
            },
            Reason::WrongProvider { addressed: party },
            Reason::ProviderNotCovered { provider: party },
            Reason::CategoriesNotCovered {
                categories: Vec::new(),
            },
            Reason::RawWhereDerivedOnly {
                categories: Vec::new(),
            },
            Reason::PurposeMismatch {
                requested: purpose.clone(),
                granted: purpose,
            },
            Reason::DataRangeOutside {
                requested: range,
                granted: range,
            },
            Reason::DataRangeTooLong {
                requested: range,
                max_secs: 0,
            },
            Reason::NotYetValid { not_before: t },
            Reason::Expired { expires_at: t },
            Reason::Paused { since: t },
            Reason::Revoked { at: t },
            Reason::BeyondCeiling {
                excesses: Vec::new(),
            },
            Reason::BasisFromFuture { issued_at: t },
            Reason::RequestFromFuture { issued_at: t },
            Reason::RequestTooOld { issued_at: t },
            Reason::ReplayedRequest {
                id: RequestId::from_bytes([0; 16]),
            },
            Reason::OneTimeUsed,
            Reason::FrequencyExhausted { next_allowed: t },
            Reason::LedgerUnavailable {
                error: LedgerError::Unavailable(String::new()),
            },
        ]
    }

    /// The position of this reason's variant in the enum: the order of a denial's reasons.
    pub(crate) fn rank(&self) -> u8 {
        match self {
            Reason::Malformed { .. } => 0,
            Reason::WrongKind { .. } => 1,
            Reason::UnknownKey { .. } => 2,
            Reason::BadSignature { .. } => 3,
            Reason::KeyNotValid { .. } => 4,
            Reason::BasisMismatch { .. } => 5,
            Reason::BasisHashMismatch => 6,
            Reason::SignerNotEntitled { .. } => 7,
            Reason::RepresentationNotValid { .. } => 8,
            Reason::FirstSeenAfterCompromise { .. } => 9,
            Reason::FirstSeenAfterRepresentationEnded { .. } => 10,
            Reason::ConsumerMismatch { .. } => 11,
            Reason::SubjectMismatch { .. } => 12,
            Reason::WrongProvider { .. } => 13,
            Reason::ProviderNotCovered { .. } => 14,
            Reason::CategoriesNotCovered { .. } => 15,
            Reason::RawWhereDerivedOnly { .. } => 16,
            Reason::PurposeMismatch { .. } => 17,
            Reason::DataRangeOutside { .. } => 18,
            Reason::DataRangeTooLong { .. } => 19,
            Reason::NotYetValid { .. } => 20,
            Reason::Expired { .. } => 21,
            Reason::Paused { .. } => 22,
            Reason::Revoked { .. } => 23,
            Reason::BeyondCeiling { .. } => 24,
            Reason::BasisFromFuture { .. } => 25,
            Reason::RequestFromFuture { .. } => 26,
            Reason::RequestTooOld { .. } => 27,
            Reason::ReplayedRequest { .. } => 28,
            Reason::OneTimeUsed => 29,
            Reason::FrequencyExhausted { .. } => 30,
            Reason::LedgerUnavailable { .. } => 31,
        }
    }

    /// The sort key of a denial's reasons: variant order, then the request before the basis
    /// (before a statement) for reasons of the same variant.
    pub(crate) fn order_key(&self) -> (u8, u8) {
        let object = match self {
            Reason::Malformed { object, .. }
            | Reason::WrongKind { object, .. }
            | Reason::UnknownKey { object, .. }
            | Reason::BadSignature { object }
            | Reason::KeyNotValid { object, .. }
            | Reason::SignerNotEntitled { object, .. } => *object as u8,
            _ => 0,
        };
        (self.rank(), object)
    }

    /// A stable `snake_case` code for logs, JSON and bindings.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            Reason::Malformed { .. } => "malformed",
            Reason::WrongKind { .. } => "wrong_kind",
            Reason::UnknownKey { .. } => "unknown_key",
            Reason::BadSignature { .. } => "bad_signature",
            Reason::KeyNotValid { .. } => "key_not_valid",
            Reason::BasisMismatch { .. } => "basis_mismatch",
            Reason::BasisHashMismatch => "basis_hash_mismatch",
            Reason::SignerNotEntitled { .. } => "signer_not_entitled",
            Reason::RepresentationNotValid { .. } => "representation_not_valid",
            Reason::FirstSeenAfterCompromise { .. } => "first_seen_after_compromise",
            Reason::FirstSeenAfterRepresentationEnded { .. } => {
                "first_seen_after_representation_ended"
            }
            Reason::ConsumerMismatch { .. } => "consumer_mismatch",
            Reason::SubjectMismatch { .. } => "subject_mismatch",
            Reason::WrongProvider { .. } => "wrong_provider",
            Reason::ProviderNotCovered { .. } => "provider_not_covered",
            Reason::CategoriesNotCovered { .. } => "categories_not_covered",
            Reason::RawWhereDerivedOnly { .. } => "raw_where_derived_only",
            Reason::PurposeMismatch { .. } => "purpose_mismatch",
            Reason::DataRangeOutside { .. } => "data_range_outside",
            Reason::DataRangeTooLong { .. } => "data_range_too_long",
            Reason::NotYetValid { .. } => "not_yet_valid",
            Reason::Expired { .. } => "expired",
            Reason::Paused { .. } => "paused",
            Reason::Revoked { .. } => "revoked",
            Reason::BeyondCeiling { .. } => "beyond_ceiling",
            Reason::BasisFromFuture { .. } => "basis_from_future",
            Reason::RequestFromFuture { .. } => "request_from_future",
            Reason::RequestTooOld { .. } => "request_too_old",
            Reason::ReplayedRequest { .. } => "replayed_request",
            Reason::OneTimeUsed => "one_time_used",
            Reason::FrequencyExhausted { .. } => "frequency_exhausted",
            Reason::LedgerUnavailable { .. } => "ledger_unavailable",
        }
    }
}

impl fmt::Display for Reason {
    #[allow(
        clippy::too_many_lines,
        reason = "one flat arm per reason, in `Reason` order"
    )]
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::Malformed { object, error } => write!(f, "the {object} is malformed: {error}"),
            Reason::WrongKind { object, found } => {
                write!(f, "a {found} was presented where the {object} was expected")
            }
            Reason::UnknownKey { object, kid } => {
                write!(f, "the {object} is signed with unknown key {kid}")
            }
            Reason::BadSignature { object } => write!(f, "the {object}'s signature is invalid"),
            Reason::KeyNotValid { object, refusal } => {
                write!(f, "the {object}'s signing key does not count: {refusal}")
            }
            Reason::BasisMismatch {
                requested,
                presented,
            } => write!(
                f,
                "the request relies on basis {requested}, but basis {presented} was presented"
            ),
            Reason::BasisHashMismatch => {
                f.write_str("the request's hash does not match the basis's exact bytes")
            }
            Reason::SignerNotEntitled {
                object,
                signer,
                required,
            } => write!(
                f,
                "the {object} is signed by {signer}, who does not have the {required:?} role"
            ),
            Reason::RepresentationNotValid {
                link,
                representative,
                represented,
                fault: LinkFault::NotHeld,
            } => write!(
                f,
                "{representative} did not represent {represented} when the consent was given \
                 (link {link} of the chain, 0 being the signer's)"
            ),
            Reason::RepresentationNotValid {
                link,
                representative,
                represented,
                fault: LinkFault::MandateNotFirst,
            } => write!(
                f,
                "{representative} held only a mandate for {represented}, and a mandate may only \
                 be the first link of a chain (link {link} of the chain, 0 being the signer's)"
            ),
            Reason::FirstSeenAfterCompromise {
                first_seen,
                compromised_at,
            } => write!(
                f,
                "the basis was first seen at {first_seen}, after its signing key was reported \
                 compromised at {compromised_at}, with no proof that it existed earlier"
            ),
            Reason::FirstSeenAfterRepresentationEnded {
                link,
                representative,
                represented,
                first_seen,
                ended_at,
            } => write!(
                f,
                "the grant was first seen at {first_seen}, after the representation of \
                 {represented} by {representative} it was expressed under (link {link} of the \
                 chain, 0 being the signer's) ended at {ended_at}, with no proof that it existed \
                 earlier"
            ),
            Reason::ConsumerMismatch { requested, granted } => write!(
                f,
                "the request comes from {requested}, but the basis empowers {granted}"
            ),
            Reason::SubjectMismatch { requested, granted } => write!(
                f,
                "the request is about {requested}, but the grant is about {granted}"
            ),
            Reason::WrongProvider { addressed } => {
                write!(
                    f,
                    "the request is addressed to another provider ({addressed})"
                )
            }
            Reason::ProviderNotCovered { provider } => {
                write!(f, "the basis covers nothing at provider {provider}")
            }
            Reason::CategoriesNotCovered { categories } => {
                write!(f, "categories not covered: ")?;
                let names: Vec<&str> = categories.iter().map(Category::as_str).collect();
                f.write_str(&names.join(", "))
            }
            Reason::RawWhereDerivedOnly { categories } => {
                write!(
                    f,
                    "the provider releases these categories for this purpose only in derived \
                     form, and the basis allows no derivation of them: "
                )?;
                let names: Vec<&str> = categories.iter().map(Category::as_str).collect();
                f.write_str(&names.join(", "))
            }
            Reason::PurposeMismatch { requested, granted } => write!(
                f,
                "the request's purpose {requested} is not the basis's purpose {granted}"
            ),
            Reason::DataRangeOutside { requested, granted } => write!(
                f,
                "the data range {}..{} is not inside the granted {}..{}",
                requested.from(),
                requested.until(),
                granted.from(),
                granted.until()
            ),
            Reason::DataRangeTooLong {
                requested,
                max_secs,
            } => write!(
                f,
                "the data range {}..{} is longer than the {max_secs} seconds the purpose \
                 ceiling allows",
                requested.from(),
                requested.until()
            ),
            Reason::NotYetValid { not_before } => {
                write!(f, "the basis is valid only from {not_before}")
            }
            Reason::Expired { expires_at } => write!(f, "the basis expired at {expires_at}"),
            Reason::Paused { since } => write!(f, "the basis is paused since {since}"),
            Reason::Revoked { at } => write!(f, "the basis was revoked at {at}"),
            Reason::BeyondCeiling { excesses } => {
                write!(f, "the basis goes beyond the purpose ceiling: {excesses:?}")
            }
            Reason::BasisFromFuture { issued_at } => {
                write!(f, "the basis claims a future issue time ({issued_at})")
            }
            Reason::RequestFromFuture { issued_at } => {
                write!(f, "the request claims a future issue time ({issued_at})")
            }
            Reason::RequestTooOld { issued_at } => {
                write!(f, "the request, issued at {issued_at}, is too old")
            }
            Reason::ReplayedRequest { id } => write!(f, "request id {id} was already used"),
            Reason::OneTimeUsed => f.write_str("the one-time grant was already used"),
            Reason::FrequencyExhausted { next_allowed } => write!(
                f,
                "the period's quota is used up; the next transfer is allowed from {next_allowed}"
            ),
            Reason::LedgerUnavailable { error } => {
                write!(f, "the decision could not be made safely: {error}")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One sample per variant, in order (`rank` and `code` are exhaustive matches, so a new
    /// variant is a compile error there, and its rank then has no sample here until one is
    /// added); codes are distinct, `snake_case`, and within a denial entry's code limit; messages
    /// are not empty.
    #[test]
    fn every_reason_has_a_distinct_code() {
        let all = Reason::one_of_each();
        let ranks: Vec<usize> = all.iter().map(|r| usize::from(r.rank())).collect();
        assert_eq!(ranks, (0..all.len()).collect::<Vec<_>>());
        let codes: Vec<&str> = Reason::all_codes().collect();
        let distinct: std::collections::BTreeSet<&str> = codes.iter().copied().collect();
        assert_eq!(distinct.len(), all.len(), "{codes:?}");
        // A denial entry holds each code once: every kind of reason fits in one.
        assert!(all.len() <= crate::log::MAX_DENIAL_REASONS);
        for (r, code) in all.iter().zip(&codes) {
            assert!(
                !code.is_empty()
                    && code.len() <= crate::log::MAX_REASON_CODE_LEN
                    && code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{code}"
            );
            assert!(!r.to_string().is_empty());
        }
    }

    #[test]
    fn messages_name_the_object() {
        let message = |object| Reason::BadSignature { object }.to_string();
        assert_eq!(
            message(Subject::Request),
            "the request's signature is invalid"
        );
        assert_eq!(
            message(Subject::Basis),
            "the grant or habilitation's signature is invalid"
        );
        assert_eq!(
            message(Subject::Statement),
            "the statement's signature is invalid"
        );
    }

    /// The order does not depend on the order the rules were checked in: for the same rule, the
    /// request comes before the basis, and the basis before a statement.
    #[test]
    fn same_rule_orders_request_then_basis_then_statement() {
        let mut reasons = [
            Reason::BadSignature {
                object: Subject::Statement,
            },
            Reason::BadSignature {
                object: Subject::Basis,
            },
            Reason::OneTimeUsed,
            Reason::BadSignature {
                object: Subject::Request,
            },
        ];
        reasons.sort_by_key(Reason::order_key);
        let objects: Vec<_> = reasons
            .iter()
            .map(|r| match r {
                Reason::BadSignature { object } => Some(*object),
                _ => None,
            })
            .collect();
        assert_eq!(
            objects,
            [
                Some(Subject::Request),
                Some(Subject::Basis),
                Some(Subject::Statement),
                None
            ]
        );
    }
}
