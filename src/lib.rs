//! consentry: consent-centric personal-data exchange between public bodies.
//!
//! A subject consents that a consumer may obtain some categories of their data from a provider,
//! for one purpose, for a while, at most so often. consentry signs that consent as a [`Grant`],
//! lets the provider's [`Verifier`] decide on every transfer [`Request`] —
//! [`Decision::Allow`] with exactly what may be sent, or [`Decision::Deny`] with every rule
//! that failed — and keeps the state those decisions need behind the [`Ledger`] trait, with a
//! tamper-evident [`TransferLog`] a citizen or an auditor can check. Transfers may also rest
//! on a statutory [`Habilitation`].
//!
//! The crate is pure: no I/O, no clock (time is passed in), no global state, no `unsafe`. Its C
//! ABI is the separate crate `consentry-ffi` (`ffi/` in the repository), built on this public API.
//!
//! # The main job, in the order a service meets it
//!
//! | step | types |
//! |---|---|
//! | who is who: parties, their keys and roles, who acts for whom | [`Trust`] (the lookups a verifier makes), [`Directory`] (its in-memory registry), [`Party`], [`PartyId`], [`PartyKey`], [`Role`], [`Representation`], [`RepresentationKind`] |
//! | what may be asked, and the most a provider allows per purpose | [`Category`], [`Purpose`], [`PurposeCeiling`], [`Ceilings`] |
//! | keys and time | [`SigningKey`], [`VerifyingKey`], [`KeyId`], [`Timestamp`], [`Digest`]; fresh ids and keys from the caller's random source: [`rand`] ([`BasisId::generate`], [`SigningKey::generate`], …); the crypto provider that checks and makes signatures, [`crypto::CryptoProvider`] (`ring` by default, `aws-lc-rs` behind its feature) |
//! | the consent, built then signed | [`Grant::builder`] → [`GrantBuilder`] → [`Grant`], with [`Scope`], [`AccessPattern`], [`DataRange`]; or a statutory [`Habilitation::builder`] → [`HabilitationBuilder`] → [`Habilitation`] |
//! | the consumer's ask | [`Request::builder`] → [`RequestBuilder`] → [`Request`] |
//! | pausing, resuming, revoking | [`Statement`], [`Action`] |
//! | reading signed bytes: parse, verify, use | [`Unverified`] → [`Verified`], refused with [`ParseError`] or [`VerifyError`] (codes: `code()`) |
//! | the decision | [`Verifier`] with its [`Policy`] and [`Receipts`], given a [`Basis`]; gives a [`Decision`]: an [`Authorization`], or a [`Refusal`] with its [`Reason`]s |
//! | the state it keeps | [`Ledger`], [`InMemoryLedger`] (durable stores in `store`, behind the `sqlite` and `postgres` features) |
//! | telling the others of a pause, resume, revocation or key compromise | [`notify`]: [`Verifier::apply_statement_notifying`] queues signed [`notify::Notification`]s in the ledger's [`notify::Outbox`] with the statement; the recipient's [`notify::Inbox`] checks and applies them |
//! | the transfer log | [`LogEntry`], [`Receipt`], [`TransferLog`], [`LogStore`], [`SignedTreeHead`]; refusals [`LogError`] |
//! | consent records (ISO/IEC TS 27560 in W3C DPV, JSON-LD) | [`record::grant_record`], [`record::habilitation_record`] → [`record::Record`]; refusals [`record::RecordError`] |
//!
//! Every refusal is a typed error with a stable `code()`. The modules hold the rest: [`cose`]
//! (the envelope, read side), [`decision`], [`ledger`], [`log`] (proofs, heads, histories),
//! [`directory`], [`crypto`], [`vocab`], [`ids`], [`json`] (the JSON forms, read with a typed
//! refusal), [`labels`] (every map key of the wire format, named once), [`record`] (consent
//! records for ISO/IEC TS 27560), [`registry`] (the SIREN and SIRET of legal persons).
//! Escape hatches that can sign what a verifier refuses are in [`danger`]; the auditor's kit
//! (`consentry::testing`: a cast with fixed keys and clock) is behind the `testing` feature.
//!
//! # Example
//!
//! A service sets these up itself (see `examples/service.rs`); the auditor's kit gives a ready
//! cast:
//!
//! ```
//! use consentry::Decision;
//! use consentry::testing::Scenario;
//!
//! let s = Scenario::canteen();
//! let grant = s.sign_grant(&s.grant().build(&s.ceilings).unwrap());
//! let request = s.sign_request(&s.request(&grant));
//! match s.decide(&request, &grant) {
//!     Decision::Allow(auth) => assert_eq!(auth.categories()[0].as_str(), "dgfip:revenu_fiscal_reference"),
//!     Decision::Deny(refusal) => panic!("denied: {:?}", refusal.reasons()),
//! }
//! ```
// No unsafe code. The C ABI, which cannot do without raw pointers, is another crate
// (consentry-ffi), which allows it only where the ABI needs it.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
// Pedantic lints on the library's own code; its unit tests, like the tests, benches and examples,
// keep the default set.
#![cfg_attr(not(test), warn(clippy::pedantic))]
#![allow(
    clippy::similar_names,
    reason = "`kid` beside `kind`, `head` beside `held`: the format's and the domain's own names"
)]

mod cbor;
pub mod ceiling;
pub mod cose;
pub mod crypto;
pub mod danger;
pub mod decision;
pub mod deletion;
pub mod derivation;
mod digest;
pub mod directory;
#[cfg(any(test, feature = "testing"))]
#[doc(hidden)]
pub mod fuzzing;
pub mod grant;
pub mod habilitation;
mod hex;
pub mod ids;
pub mod json;
mod keys;
pub mod labels;
pub mod ledger;
pub mod log;
pub mod notify;
mod party_id;
pub mod rand;
pub mod record;
pub mod registry;
pub mod request;
pub mod signed;
pub mod statement;
pub mod stats;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub mod store;
mod table;
pub mod terms;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
mod time;
pub mod vocab;
mod wire;

#[cfg(test)]
#[path = "../tests/support/reach.rs"]
mod reach;

// The main job's types, at the root: a service needs no module path to find them.

// Parties, vocabulary and the rules published about them.
pub use ceiling::{CeilingExcess, Ceilings, PurposeCeiling};
pub use directory::{
    Directory, Party, PartyId, PartyKey, Representation, RepresentationKind, Role, Trust,
};
pub use vocab::{Category, Purpose};
// The signed objects and how they are read: parse, then verify, then use.
pub use deletion::{Deletion, DeletionError};
pub use grant::{Grant, GrantBuilder, GrantError};
pub use habilitation::{Habilitation, HabilitationBuilder, HabilitationError};
pub use ids::{BasisId, RequestId};
pub use request::{Request, RequestBuilder, RequestError};
pub use signed::{ParseError, SignedPayload, Unverified, Verified, VerifyError};
pub use statement::{Action, Statement};
pub use terms::{AccessPattern, AccessView, DataRange, Scope, TermsError};
// The decision and the state it keeps.
pub use decision::{Authorization, Basis, Decision, Policy, Reason, Receipts, Refusal, Verifier};
pub use ledger::{InMemoryLedger, Ledger, LedgerError};
// The transfer log.
pub use log::{LogEntry, LogError, LogStore, Receipt, SignedTreeHead, TransferLog};
// Keys, digests and time.
pub use cbor::{DecodeError, Limits, Major};
pub use digest::Digest;
pub use keys::{KeyError, KeyId, SignatureError, SigningKey, VerifyingKey};
pub use time::Timestamp;
pub use wire::FORMAT_VERSION;
// The UUID crate whose `Uuid` every id wraps, so that a service needs no dependency of its own
// on it to build or read ids (`consentry::uuid::Uuid`).
pub use uuid;

/// Every refusal type's `code()` names each of its variants apart, under its layer's prefix:
/// a binding or a log that matches on codes can tell every refusal from every other.
#[cfg(test)]
mod refusal_codes {
    use crate::ceiling::CeilingExcess;
    use crate::directory::{DirectoryError, PartyId};
    use crate::ledger::{LifecycleRefusal, UseRefusal};
    use crate::record::RecordError;
    use crate::registry::RegistryError;
    use crate::vocab::CodeError;
    use crate::{
        Digest, GrantError, HabilitationError, KeyError, KeyId, RequestError, TermsError, Timestamp,
    };
    use std::collections::HashSet;

    fn distinct(prefix: &str, codes: &[&str]) {
        let unique: HashSet<_> = codes.iter().collect();
        assert_eq!(unique.len(), codes.len(), "{codes:?}");
        for code in codes {
            assert!(
                code.starts_with(prefix) && code.len() > prefix.len(),
                "{code}"
            );
        }
    }

    #[test]
    fn each_refusal_type_names_its_variants_apart() {
        let (p, k, t) = (
            PartyId::from_bytes([1; 16]),
            KeyId::from_bytes([2; 16]),
            Timestamp(3),
        );
        distinct(
            "grant/",
            &[
                GrantError::Missing("x").code(),
                GrantError::BadScope.code(),
                GrantError::EmptyWindow.code(),
                GrantError::BeyondCeiling(Vec::new()).code(),
            ],
        );
        distinct(
            "habilitation/",
            &[
                HabilitationError::Missing("x").code(),
                HabilitationError::BadScope.code(),
                HabilitationError::EmptyWindow.code(),
                HabilitationError::BadLegalReference.code(),
                HabilitationError::BeyondCeiling(Vec::new()).code(),
            ],
        );
        distinct(
            "terms/",
            &[
                TermsError::EmptyRange.code(),
                TermsError::YearOutOfRange.code(),
                TermsError::NoUses.code(),
                TermsError::EmptyPeriod.code(),
                TermsError::BadScope.code(),
            ],
        );
        distinct(
            "request/",
            &[
                RequestError::Missing("x").code(),
                RequestError::BadCategories.code(),
            ],
        );
        distinct(
            "code/",
            &[
                CodeError::NoNamespace.code(),
                CodeError::BadNamespace.code(),
                CodeError::BadName.code(),
                CodeError::TextTooLong.code(),
                CodeError::EmptyText.code(),
            ],
        );
        distinct(
            "record/",
            &[
                RecordError::BeforeIssue { issued_at: t }.code(),
                RecordError::StatementAboutAnotherBasis { index: 0 }.code(),
                RecordError::StatementAfterTime { index: 0 }.code(),
                RecordError::StatementNotApplicable {
                    index: 0,
                    refusal: LifecycleRefusal::Duplicate,
                }
                .code(),
                RecordError::ReceiptAboutAnotherBasis { index: 0 }.code(),
                RecordError::ReceiptOutsideBasis { index: 0 }.code(),
                RecordError::ReceiptAfterTime { index: 0 }.code(),
                RecordError::DuplicateReceipt { index: 0 }.code(),
            ],
        );
        distinct(
            "key/",
            &[
                KeyError::InvalidPkcs8.code(),
                KeyError::Randomness.code(),
                KeyError::InvalidSeed.code(),
            ],
        );
        distinct("random/", &[crate::rand::RandomError.code()]);
        let siret = || crate::registry::Siret::parse("73282932000074").unwrap();
        distinct(
            "registry/",
            &[
                RegistryError::WrongLength {
                    number: "SIREN",
                    expected: 9,
                    found: 0,
                }
                .code(),
                RegistryError::NotDigits.code(),
                RegistryError::BadCheckDigit.code(),
                RegistryError::SirenCheckDigit.code(),
            ],
        );
        {
            use crate::cose::ObjectKind;
            use crate::notify::NotificationError as N;
            distinct(
                "notification/",
                &[
                    N::Malformed(crate::signed::ParseError::Payload(
                        crate::DecodeError::TrailingBytes {
                            offset: 0,
                            count: 1,
                        },
                    ))
                    .code(),
                    N::Forged(crate::VerifyError::BadSignature).code(),
                    N::Misaddressed { recipient: p }.code(),
                    N::WrongCarried {
                        expected: ObjectKind::Statement,
                        found: ObjectKind::DirectoryUpdate,
                    }
                    .code(),
                    N::EmitterNotConcerned { emitter: p }.code(),
                    N::OutOfOrder {
                        expected: 1,
                        found: 2,
                    }
                    .code(),
                    N::Fork { seq: 1 }.code(),
                    N::Stale { seq: 1 }.code(),
                    N::Unavailable(crate::LedgerError::Unavailable(String::new())).code(),
                ],
            );
        }
        distinct(
            "directory/",
            &[
                DirectoryError::DuplicateParty(p).code(),
                DirectoryError::DuplicateKey(k).code(),
                DirectoryError::NoRole(p).code(),
                DirectoryError::BadName(p).code(),
                DirectoryError::TooManyKeys(p).code(),
                DirectoryError::EmptyWindow(k).code(),
                DirectoryError::UnknownParty(p).code(),
                DirectoryError::KidMismatch { expected: k }.code(),
                DirectoryError::DuplicateRole(p).code(),
                DirectoryError::Malformed(String::new()).code(),
                DirectoryError::NoSuchKey(k).code(),
                DirectoryError::AlreadyEnded { end: t }.code(),
                DirectoryError::NoSuchRepresentation {
                    representative: p,
                    subject: p,
                }
                .code(),
                DirectoryError::LegalPersonKey(p).code(),
                DirectoryError::TooManySirets(p).code(),
                DirectoryError::ForeignSiret {
                    party: p,
                    siret: siret(),
                }
                .code(),
                DirectoryError::DuplicateSiret(siret()).code(),
                DirectoryError::DuplicateSiren(siret().siren()).code(),
                DirectoryError::NotALegalPerson { subject: p }.code(),
                DirectoryError::NotANaturalPerson { subject: p }.code(),
            ],
        );
        distinct(
            "ceiling/",
            &[
                CeilingExcess::NoCeiling { provider: p }.code(),
                CeilingExcess::Categories {
                    provider: p,
                    categories: Vec::new(),
                }
                .code(),
                CeilingExcess::Validity {
                    provider: p,
                    max_secs: 1,
                }
                .code(),
                CeilingExcess::Frequency { provider: p }.code(),
                CeilingExcess::Retention {
                    provider: p,
                    max_secs: 1,
                }
                .code(),
                CeilingExcess::DataRange {
                    provider: p,
                    max_secs: 1,
                }
                .code(),
            ],
        );
        {
            use crate::deletion::DeletionError;
            use crate::log::{LogError, OverdueError};
            let d = Digest::of(b"d");
            distinct(
                "deletion/",
                &[
                    DeletionError::Object(crate::signed::ObjectError::Verify(
                        crate::VerifyError::BadSignature,
                    ))
                    .code(),
                    DeletionError::WrongSigner {
                        consumer: p,
                        signer: p,
                    }
                    .code(),
                    DeletionError::UnknownReceipt {
                        receipt: uuid::Uuid::nil(),
                        receipt_digest: d,
                    }
                    .code(),
                    DeletionError::ReceiptHashMismatch {
                        named: d,
                        logged: d,
                    }
                    .code(),
                    DeletionError::ReceiptMismatch { field: "x" }.code(),
                    DeletionError::BeforeReceipt {
                        deleted_at: t,
                        received_at: t,
                    }
                    .code(),
                    DeletionError::AlreadyDeleted { index: 0 }.code(),
                    DeletionError::Storage(crate::LedgerError::Unavailable(String::new())).code(),
                ],
            );
            distinct(
                "overdue/",
                &[
                    OverdueError::Head(LogError::BadSignature).code(),
                    OverdueError::AfterHead { at: t, head: t }.code(),
                    OverdueError::EntryCount {
                        head_size: 0,
                        entries: 0,
                    }
                    .code(),
                    OverdueError::Entry {
                        index: 0,
                        error: LogError::BadSignature,
                    }
                    .code(),
                    OverdueError::RootMismatch.code(),
                    OverdueError::Item {
                        position: 0,
                        error: LogError::BadSignature,
                    }
                    .code(),
                    OverdueError::ResultMismatch {
                        expected: Vec::new(),
                        listed: Vec::new(),
                    }
                    .code(),
                ],
            );
        }
        distinct(
            "",
            &[
                UseRefusal::Replayed.code(),
                UseRefusal::Paused { since: t }.code(),
                UseRefusal::Revoked { at: t }.code(),
                UseRefusal::QuotaExhausted.code(),
                LifecycleRefusal::AlreadyRevoked { at: t }.code(),
                LifecycleRefusal::Duplicate.code(),
                LifecycleRefusal::ResumePredatesPause { pause_issued_at: t }.code(),
            ],
        );
    }
}
