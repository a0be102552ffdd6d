//! The transfer decision: a provider's verifier checks a request against its basis, the
//! directory, the ceilings and the ledger, and answers *allow* (with exactly what may be sent)
//! or *deny* with every rule that failed.
//!
//! Rules are evaluated in three stages:
//! 1. each object (request, basis) is well formed and of the right kind;
//! 2. each object's signature verifies and its key counts (directory key rule);
//! 3. every consent rule, each failure reported.
//!
//! Each object goes through stages 1 and 2 on its own (so a malformed request and a badly
//! signed basis are both reported); if either fails for either object, stage 3 is not
//! evaluated, because its rules would judge claims that are not authenticated. Reasons are
//! listed in the order of [`Reason`]'s variants, and for the same variant the request's first.
//!
//! When stage 3 finds nothing, the use is recorded atomically in the ledger, and only then is
//! *allow* returned.

mod authorization;
mod batch;
mod existence;
mod lifecycle;
mod reason;
mod verifier;

pub use authorization::{Authorization, ChainLink, ConsentExpression, Decision, Refusal};
pub use existence::{ExistenceEvidence, ExistenceRefusal};
pub use lifecycle::StatementRefusal;
pub use reason::{LinkFault, Reason, Subject};
pub use verifier::{Basis, Policy, Receipts, Verifier};
