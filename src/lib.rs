//! consentry: consent-centric personal-data exchange between public bodies.
//!
//! A subject consents that a consumer may obtain some categories of their data from a provider,
//! for one purpose, for a while, at most so often. consentry signs that consent as a
//! [`grant::Grant`], lets the provider's [`decision::Verifier`] decide on every transfer
//! [`request::Request`] — [`decision::Decision::Allow`] with exactly what may be sent, or
//! [`decision::Decision::Deny`] with every rule that failed — and keeps the state those
//! decisions need behind the [`ledger::Ledger`] trait. Transfers may also rest on a statutory
//! [`habilitation::Habilitation`].
//!
//! The crate is pure: no I/O, no clock (time is passed in), no global state, no `unsafe`. Its C
//! ABI is the separate crate `consentry-ffi` (`ffi/` in the repository), built on this public API.
//!
//! # Architecture
//!
//! Data flows one way, and the modules follow it:
//!
//! | step | module |
//! |---|---|
//! | untrusted bytes → strict deterministic CBOR | [`cbor`] |
//! | → `COSE_Sign1` envelope, signature over the bytes as received | [`cose`], [`Digest`], [`SigningKey`] |
//! | → typed objects, parse → verify → use | [`signed`], [`grant`], [`habilitation`], [`statement`], [`request`] |
//! | parties, keys, representation; categories, purposes; ceilings | [`directory`], [`vocab`], [`terms`], [`ceiling`] |
//! | → the decision | [`decision`] |
//! | → the state it keeps | [`ledger`] |
//! | → the tamper-evident transfer log | [`log`] |
//! | the auditor's kit | [`testing`] |
//!
//! # Example
//!
//! ```
//! use consentry::decision::Decision;
//! use consentry::testing::Scenario;
//!
//! let s = Scenario::canteen();
//! let grant = s.sign_grant(&s.grant().build(&s.ceilings).unwrap());
//! let request = s.sign_request(&s.request(&grant));
//! match s.decide(&request, &grant) {
//!     Decision::Allow(auth) => assert_eq!(auth.categories()[0].as_str(), "dgfip:revenu_fiscal_reference"),
//!     Decision::Deny { reasons } => panic!("denied: {reasons:?}"),
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

pub mod cbor;
pub mod ceiling;
pub mod cose;
pub mod decision;
mod digest;
pub mod directory;
#[doc(hidden)]
pub mod fuzzing;
pub mod grant;
pub mod habilitation;
mod hex;
pub mod ids;
mod keys;
pub mod ledger;
pub mod log;
mod party_id;
pub mod request;
pub mod signed;
pub mod statement;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub mod store;
pub mod terms;
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
    Directory, Party, PartyId, PartyKey, Representation, RepresentationKind, Role,
};
pub use vocab::{Category, Purpose};
// The signed objects and how they are read: parse, then verify, then use.
pub use grant::{Grant, GrantBuilder, GrantError};
pub use habilitation::Habilitation;
pub use ids::{BasisId, RequestId};
pub use request::{Request, RequestBuilder, RequestError};
pub use signed::{ParseError, SignedPayload, Unverified, Verified, VerifyError};
pub use statement::{Action, Statement};
pub use terms::{AccessPattern, AccessView, DataRange, Scope, TermsError};
// The decision and the state it keeps.
pub use decision::{Authorization, Basis, Decision, Policy, Reason, Receipts, Verifier};
pub use ledger::{InMemoryLedger, Ledger, LedgerError};
// The transfer log.
pub use log::{LogEntry, LogError, LogStore, Receipt, SignedTreeHead, TransferLog};
// Keys, digests and time.
pub use digest::Digest;
pub use keys::{KeyError, KeyId, SignatureError, SigningKey, VerifyingKey};
pub use time::Timestamp;
pub use wire::FORMAT_VERSION;
