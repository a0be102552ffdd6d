//! The one error type of the log layer.

use crate::Digest;
use crate::cbor::DecodeError;
use crate::directory::PartyId;
use crate::keys::KeyId;
use crate::signed::{ParseError, VerifyError};
use crate::time::Timestamp;
use thiserror::Error;

use super::kind::EntryKind;
use super::proof::ProofError;

/// Why a log entry, a tree head, a proof or a history was refused.
///
/// Every variant says what was checked and what was found, so that a refusal can be shown to
/// the person who asked without further lookup.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum LogError {
    /// A Merkle proof could not be produced or did not verify.
    #[error("Merkle proof refused: {0}")]
    Proof(#[from] ProofError),
    /// The bytes of a log entry are not a well-formed entry.
    #[error("the log entry is malformed: {0}")]
    MalformedEntry(DecodeError),
    /// The signed object carried by a log entry is not a well-formed object of the kind the
    /// entry announces.
    #[error("the {kind} carried by the log entry is malformed: {error}")]
    MalformedObject {
        /// The entry's kind.
        kind: EntryKind,
        /// What is wrong with the object.
        error: ParseError,
    },
    /// A lifecycle statement was presented with a grant it is not about.
    #[error(
        "the statement is about basis hash {statement}, not about the basis presented ({basis})"
    )]
    StatementNotAboutBasis {
        /// The basis hash the statement names.
        statement: Digest,
        /// The hash of the basis presented.
        basis: Digest,
    },
    /// A denial names more reason codes than allowed, or a reason code is not a code.
    #[error("invalid denial: {0}")]
    InvalidDenial(&'static str),
    /// The tree head is not a well-formed signed tree head.
    #[error("the tree head is malformed: {0}")]
    MalformedHead(ParseError),
    /// The tree head is signed with another key than the operator's.
    #[error("the tree head is signed with key {found}, not with the operator's key {expected}")]
    WrongKey {
        /// The operator's key id.
        expected: KeyId,
        /// The key id the head's envelope names.
        found: KeyId,
    },
    /// The tree head's signature does not verify. No detail, by design.
    #[error("the tree head's signature does not verify")]
    BadSignature,
    /// The tree head's signature was checked against a directory and refused.
    #[error("the tree head's signature was refused: {0}")]
    HeadKey(VerifyError),
    /// Two heads name different logs.
    #[error("the tree head is from log {found}, not from log {expected}")]
    WrongLog {
        /// The log already followed.
        expected: PartyId,
        /// The log the new head names.
        found: PartyId,
    },
    /// A head is smaller than a head already seen from the same log: the log shrank.
    #[error(
        "rollback: the log already showed a head of {seen_size} entries, it now shows {offered_size}"
    )]
    Rollback {
        /// Size of the largest head seen.
        seen_size: u64,
        /// Size of the head offered.
        offered_size: u64,
    },
    /// Two signed heads of the same log cannot both be true: same size with different roots,
    /// or a larger tree whose consistency with the smaller one does not verify. Both heads are
    /// signed by the operator, so together they are evidence to show to anyone.
    #[error(
        "fork: the head of {old_size} entries (root {old_root}) is not a prefix of the head of \
         {new_size} entries (root {new_root})"
    )]
    Fork {
        /// Size of the older head.
        old_size: u64,
        /// Root of the older head.
        old_root: Digest,
        /// Size of the newer head.
        new_size: u64,
        /// Root of the newer head.
        new_root: Digest,
    },
    /// A head of a larger tree was offered without the consistency proof that links it to the
    /// head already seen.
    #[error("a consistency proof from size {old_size} to size {new_size} is required")]
    ConsistencyProofRequired {
        /// Size of the head already seen.
        old_size: u64,
        /// Size of the head offered.
        new_size: u64,
    },
    /// An inclusion proof is for another leaf or another tree size than the one being checked.
    #[error(
        "the inclusion proof is for entry {found_index} of a tree of {found_size} entries, but \
         entry {expected_index} of a tree of {expected_size} entries is being checked"
    )]
    InclusionProofMismatch {
        /// Index of the entry being checked.
        expected_index: u64,
        /// Size of the tree being checked (the signed head's).
        expected_size: u64,
        /// Index the proof is for.
        found_index: u64,
        /// Tree size the proof is for.
        found_size: u64,
    },
    /// A consistency proof is for other tree sizes than the two heads being compared.
    #[error(
        "the consistency proof is from size {found_old} to {found_new}, but heads of sizes \
         {expected_old} and {expected_new} are being compared"
    )]
    ConsistencyProofMismatch {
        /// Size of the older head.
        expected_old: u64,
        /// Size of the newer head.
        expected_new: u64,
        /// Old size the proof is for.
        found_old: u64,
        /// New size the proof is for.
        found_new: u64,
    },
    /// A head of a larger tree carries an earlier time than a head already seen.
    #[error(
        "the head of the larger tree is dated {offered}, before the head already seen ({seen})"
    )]
    TimeRegression {
        /// Time of the head already seen.
        seen: Timestamp,
        /// Time of the head offered.
        offered: Timestamp,
    },
    /// An entry in a subject's history does not concern that subject.
    #[error("entry {index} does not concern subject {subject}")]
    NotAboutSubject {
        /// The entry's index in the log.
        index: u64,
        /// The subject whose history it was listed in.
        subject: PartyId,
    },
    /// The same log index is listed twice in a history, or indices are not ascending.
    #[error("entry {index} is listed out of order or twice in the history")]
    HistoryOrder {
        /// The index listed again or out of order.
        index: u64,
    },
    /// A log index does not fit this platform's memory addressing.
    #[error("log index {0} is beyond what this platform can address")]
    IndexTooLarge(u64),
    /// The store keeping the log failed, or found its stored state corrupt.
    #[error(transparent)]
    Storage(#[from] crate::ledger::LedgerError),
    /// A store was asked to sign a head that is not consistent with the last head it signed:
    /// its stored log was changed, truncated or replaced.
    #[error(
        "the log now has {size} entries with root {root}, which is not consistent with the last head it signed (size {signed_size})"
    )]
    InconsistentWithSignedHead {
        /// The size now.
        size: u64,
        /// The root now.
        root: Digest,
        /// The size of the last signed head.
        signed_size: u64,
    },
}

impl LogError {
    /// A stable code naming the refusal (`log/…`), as the vectors and `docs/format.md` name
    /// it; [`LogError::cause`] gives the code of the refusal it wraps, if any.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            LogError::Proof(p) => p.code(),
            LogError::MalformedEntry(_) => "log/malformed_entry",
            LogError::MalformedObject { .. } => "log/malformed_object",
            LogError::StatementNotAboutBasis { .. } => "log/statement_not_about_basis",
            LogError::InvalidDenial(_) => "log/invalid_denial",
            LogError::MalformedHead(_) => "log/malformed_head",
            LogError::WrongKey { .. } => "log/wrong_key",
            LogError::BadSignature => "log/bad_signature",
            LogError::HeadKey(_) => "log/head_key",
            LogError::WrongLog { .. } => "log/wrong_log",
            LogError::Rollback { .. } => "log/rollback",
            LogError::Fork { .. } => "log/fork",
            LogError::ConsistencyProofRequired { .. } => "log/consistency_proof_required",
            LogError::InclusionProofMismatch { .. } => "log/inclusion_proof_mismatch",
            LogError::ConsistencyProofMismatch { .. } => "log/consistency_proof_mismatch",
            LogError::TimeRegression { .. } => "log/time_regression",
            LogError::NotAboutSubject { .. } => "log/not_about_subject",
            LogError::HistoryOrder { .. } => "log/history_order",
            LogError::IndexTooLarge(_) => "log/index_too_large",
            LogError::InconsistentWithSignedHead { .. } => "log/inconsistent_with_signed_head",
            LogError::Storage(_) => "log/storage",
        }
    }

    /// The code of the decoding or signature refusal this refusal wraps, if it wraps one.
    #[must_use]
    pub fn cause(&self) -> Option<&'static str> {
        match self {
            LogError::MalformedEntry(d) => Some(d.code()),
            LogError::MalformedObject { error, .. } | LogError::MalformedHead(error) => {
                Some(error.code())
            }
            LogError::HeadKey(v) => Some(v.code()),
            LogError::Storage(e) => Some(e.code()),
            _ => None,
        }
    }
}
