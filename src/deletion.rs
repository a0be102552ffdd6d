//! Deletion statements: a consumer's signed word that it deleted the data a transfer gave it.
//!
//! A deletion statement names the transfer by its receipt (the receipt's id and the SHA-256 of
//! its exact signed bytes) and the request it answered, repeats the receipt's subject and
//! consumer, and says when the data was deleted. It is signed by the consumer, logged as an
//! entry of kind 4 ([`LogEntry::Deletion`](crate::log::LogEntry::Deletion)) and shown in the
//! subject's access history next to the receipt. A log writer accepts it only if it is about a
//! receipt already logged, with every check of [`DeletionError`]; see `docs/log.md`.
//!
//! ```
//! use consentry::deletion::Deletion;
//! use consentry::signed::{SignedPayload, Verified};
//! use consentry::testing::Scenario;
//!
//! let mut s = Scenario::canteen();
//! let (receipt, _) = s.transfer_and_log();
//! let deletion = Deletion::for_receipt(&receipt, s.now, s.now);
//! let bytes = deletion.sign(s.key(s.mairie));
//! let verified = Verified::<Deletion>::parse_and_verify(&bytes, &s.directory).unwrap();
//! assert_eq!(verified.claims().consumer, s.mairie);
//! ```

use crate::cbor::{DecodeError, Decoder, Encoder};
use crate::cose::ObjectKind;
use crate::digest::Digest;
use crate::directory::PartyId;
use crate::ids::RequestId;
use crate::labels::deletion;
use crate::ledger::LedgerError;
use crate::log::{LoggedObject, Receipt};
use crate::signed::{ObjectError, SignedPayload};
use crate::time::Timestamp;
use crate::wire::{self, FORMAT_VERSION};
use serde::{Deserialize, Serialize};
use thiserror::Error;
use uuid::Uuid;

/// A deletion statement's claims, signed by the consumer that received the data.
///
/// Wire form: a map with keys `0` version (2), `1` receipt id, `2` receipt hash (SHA-256 of the
/// receipt's exact signed bytes), `3` request id, `4` subject, `5` consumer (the signer),
/// `6` deleted at, `7` issued at; `deleted at` is not after `issued at`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Deletion {
    /// The id of the receipt of the transfer whose data was deleted.
    pub receipt: Uuid,
    /// SHA-256 of that receipt's exact signed bytes.
    pub receipt_digest: Digest,
    /// The request the transfer answered (the receipt's).
    pub request: RequestId,
    /// The person the data is about (the receipt's subject).
    pub subject: PartyId,
    /// Who received the data, deleted it and signs (the receipt's consumer).
    pub consumer: PartyId,
    /// When the data was deleted; not after `issued_at`.
    pub deleted_at: Timestamp,
    /// When the statement was signed.
    pub issued_at: Timestamp,
}

impl Deletion {
    /// The deletion statement of the data `receipt` records, deleted at `deleted_at` and
    /// stated at `issued_at`: every name is copied from the receipt.
    #[must_use]
    pub fn for_receipt(
        receipt: &LoggedObject<Receipt>,
        deleted_at: Timestamp,
        issued_at: Timestamp,
    ) -> Deletion {
        let r = receipt.claims();
        Deletion {
            receipt: r.id(),
            receipt_digest: receipt.digest(),
            request: r.request(),
            subject: r.subject(),
            consumer: r.consumer(),
            deleted_at,
            issued_at,
        }
    }

    /// Checks this statement against the receipt it is presented with, whose exact bytes hash
    /// to `receipt_digest`: the rules of a deletion that do not need the rest of the log.
    ///
    /// # Errors
    ///
    /// In this order: [`DeletionError::ReceiptHashMismatch`] if the statement names other
    /// bytes, [`DeletionError::WrongSigner`] if it is not signed by the receipt's consumer,
    /// [`DeletionError::ReceiptMismatch`] if its receipt id, request or subject is not the
    /// receipt's, [`DeletionError::BeforeReceipt`] if the data was deleted before the receipt
    /// was issued.
    pub fn check_receipt(
        &self,
        receipt: &Receipt,
        receipt_digest: Digest,
    ) -> Result<(), DeletionError> {
        if self.receipt_digest != receipt_digest {
            return Err(DeletionError::ReceiptHashMismatch {
                named: self.receipt_digest,
                logged: receipt_digest,
            });
        }
        if self.consumer != receipt.consumer() {
            return Err(DeletionError::WrongSigner {
                consumer: receipt.consumer(),
                signer: self.consumer,
            });
        }
        let mismatch = if self.receipt != receipt.id() {
            Some("receipt id")
        } else if self.request != receipt.request() {
            Some("request")
        } else if self.subject != receipt.subject() {
            Some("subject")
        } else {
            None
        };
        if let Some(field) = mismatch {
            return Err(DeletionError::ReceiptMismatch { field });
        }
        if self.deleted_at < receipt.issued_at() {
            return Err(DeletionError::BeforeReceipt {
                deleted_at: self.deleted_at,
                received_at: receipt.issued_at(),
            });
        }
        Ok(())
    }
}

impl SignedPayload for Deletion {
    const KIND: ObjectKind = ObjectKind::Deletion;

    fn encode(&self, e: &mut Encoder) {
        e.map(8);
        e.uint(deletion::VERSION).uint(FORMAT_VERSION);
        e.uint(deletion::RECEIPT).bytes(self.receipt.as_bytes());
        e.uint(deletion::RECEIPT_HASH).bytes(&self.receipt_digest.0);
        e.uint(deletion::REQUEST).bytes(self.request.0.as_bytes());
        e.uint(deletion::SUBJECT).bytes(self.subject.as_bytes());
        e.uint(deletion::CONSUMER).bytes(self.consumer.as_bytes());
        e.uint(deletion::DELETED_AT).uint(self.deleted_at.0);
        e.uint(deletion::ISSUED_AT).uint(self.issued_at.0);
    }

    fn decode(d: &mut Decoder<'_>) -> Result<Self, DecodeError> {
        let mut m = d.map_reader("deletion")?;
        m.version(deletion::VERSION, FORMAT_VERSION)?;
        let out = Deletion {
            receipt: m.required(deletion::RECEIPT, "receipt", wire::uuid)?,
            receipt_digest: m.required(deletion::RECEIPT_HASH, "receipt hash", wire::digest)?,
            request: RequestId(m.required(deletion::REQUEST, "request", wire::uuid)?),
            subject: m.required(deletion::SUBJECT, "subject", wire::party_id)?,
            consumer: m.required(deletion::CONSUMER, "consumer", wire::party_id)?,
            deleted_at: m.required(deletion::DELETED_AT, "deleted at", wire::timestamp)?,
            issued_at: m.required(deletion::ISSUED_AT, "issued at", wire::timestamp)?,
        };
        m.finish()?;
        if out.deleted_at > out.issued_at {
            return Err(DecodeError::InvalidValue {
                field: "deleted at",
                reason: "a deletion is stated after it happened: deleted at is not after issued at",
            });
        }
        Ok(out)
    }

    fn signer(&self) -> PartyId {
        self.consumer
    }

    fn issued_at(&self) -> Timestamp {
        self.issued_at
    }
}

/// Why a deletion statement was refused by a log writer (or not counted by an auditor
/// replaying the log).
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum DeletionError {
    /// The statement is malformed, or its signature or signer's key was refused.
    #[error("the deletion statement was refused: {0}")]
    Object(ObjectError),
    /// The statement is signed by (and names as consumer) another party than the consumer the
    /// receipt names: only the party that received the data can state that it deleted it.
    #[error("the deletion is signed by {signer}, but the data was received by {consumer}")]
    WrongSigner {
        /// The receipt's consumer.
        consumer: PartyId,
        /// The statement's signer.
        signer: PartyId,
    },
    /// No receipt in the log has the id or the hash the statement names: the transfer never
    /// happened, as far as the log shows.
    #[error("no logged receipt has id {receipt} or hash {receipt_digest}")]
    UnknownReceipt {
        /// The receipt id named.
        receipt: Uuid,
        /// The receipt hash named.
        receipt_digest: Digest,
    },
    /// The statement names a receipt by an id the log holds, with a hash that is not the hash
    /// of the receipt's logged bytes.
    #[error("the deletion names receipt hash {named}, the logged receipt's is {logged}")]
    ReceiptHashMismatch {
        /// The hash the statement names.
        named: Digest,
        /// The hash of the receipt logged under that id.
        logged: Digest,
    },
    /// The statement's receipt id, request or subject is not the receipt's.
    #[error("the deletion's {field} is not the receipt's")]
    ReceiptMismatch {
        /// The field that differs.
        field: &'static str,
    },
    /// The data is said to have been deleted before the receipt of its transfer was issued.
    #[error("the deletion is dated {deleted_at}, before the data was received ({received_at})")]
    BeforeReceipt {
        /// The deletion time stated.
        deleted_at: Timestamp,
        /// The receipt's issue time.
        received_at: Timestamp,
    },
    /// A deletion of the same receipt is already logged: the first one stands, a second is
    /// refused (even the same bytes again).
    #[error("a deletion of this receipt is already logged, at entry {index}")]
    AlreadyDeleted {
        /// The index of the deletion already logged.
        index: u64,
    },
    /// The store keeping the log failed; nothing was appended.
    #[error(transparent)]
    Storage(#[from] LedgerError),
}

impl DeletionError {
    /// A stable code naming the refusal (`deletion/…`).
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            DeletionError::Object(_) => "deletion/invalid_object",
            DeletionError::WrongSigner { .. } => "deletion/wrong_signer",
            DeletionError::UnknownReceipt { .. } => "deletion/unknown_receipt",
            DeletionError::ReceiptHashMismatch { .. } => "deletion/receipt_hash_mismatch",
            DeletionError::ReceiptMismatch { .. } => "deletion/receipt_mismatch",
            DeletionError::BeforeReceipt { .. } => "deletion/before_receipt",
            DeletionError::AlreadyDeleted { .. } => "deletion/already_deleted",
            DeletionError::Storage(_) => "deletion/storage",
        }
    }

    /// The code of the decoding, signature or storage refusal this refusal wraps, if any.
    #[must_use]
    pub fn cause(&self) -> Option<&'static str> {
        match self {
            DeletionError::Object(e) => Some(e.code()),
            DeletionError::Storage(e) => Some(e.code()),
            _ => None,
        }
    }
}
