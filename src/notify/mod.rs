//! Notifications: telling the other parties of a basis, or of the federation, about a change
//! without waiting for their next request.
//!
//! When a provider applies a pause, resume or revoke statement, the basis's consumer and every
//! other provider of its scope must learn it; when a key is reported compromised in a directory
//! update, every provider and consumer of the directory must. The party that applied the change
//! (the *emitter*) signs one [`Notification`] per recipient, carrying the exact signed bytes of
//! what it applied — a statement and the basis it names, or a directory update — so that the
//! recipient can apply it to its own ledger (or directory history) with the same checks as if it
//! had received it directly.
//!
//! Each (emitter, recipient) pair has its own stream numbered from 1 ([`Notification::seq`]):
//! the recipient applies a stream in order, ignores an exact redelivery and refuses a second,
//! different notification under a number it already applied (a fork).
//!
//! - the emitting side: [`Notifier`] (who signs, with which key), [`Notices`] (what to tell whom,
//!   from [`Notices::for_statement`] or [`Notices::for_directory_update`]), and an [`Outbox`]
//!   that numbers, signs and keeps them until the service has delivered them
//!   ([`InMemoryOutbox`]; the ledgers that also keep an outbox apply a statement and queue its
//!   notifications in one transaction: [`NotifyingLedger`], and
//!   [`Verifier::apply_statement_notifying`](crate::Verifier::apply_statement_notifying));
//! - the receiving side: [`Inbox`], which checks a notification (signature and key rule, signer =
//!   emitter, recipient = this party, order) and applies what it carries, refusing with a
//!   [`NotificationError`] (codes `notification/…`).
//!
//! The core does no delivery: the service drains the outbox ([`Outbox::pending`], then
//! [`Outbox::acknowledge`]) and sends the bytes however it likes.

mod inbox;
pub(crate) mod outbox;

pub use inbox::{Inbox, NotificationError, Received, StreamState};
pub use outbox::{InMemoryOutbox, NotifyingLedger, Outbox, OutboxState, Queued};

use crate::cbor::{DecodeError, Decoder, Encoder};
use crate::cose::ObjectKind;
use crate::directory::{Change, DirectoryUpdate};
use crate::directory::{Directory, PartyId, Role};
use crate::keys::SigningKey;
use crate::labels::notification;
use crate::signed::SignedPayload;
use crate::terms::Scope;
use crate::time::Timestamp;
use crate::wire::{self, FORMAT_VERSION};
use serde::{Deserialize, Serialize};

/// What a notification carries: the exact signed bytes of the change the emitter applied.
///
/// Its JSON form (inside [`Notification`]'s) gives the bytes as lower-case hexadecimal:
/// `{"statement": {"statement": "d284…", "basis": "d284…"}}` or `{"directory_update": "d284…"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
pub enum Carried {
    /// A lifecycle statement (pause, resume, revoke) and the grant or habilitation it names,
    /// both as signed: a provider that never saw the basis can still check and apply it.
    Statement {
        /// The statement's signed bytes.
        #[serde(with = "hex_bytes")]
        statement: Vec<u8>,
        /// The basis's signed bytes.
        #[serde(with = "hex_bytes")]
        basis: Vec<u8>,
    },
    /// A directory update (one that reports a key compromise), as the operator signed it.
    DirectoryUpdate(#[serde(with = "hex_bytes")] Vec<u8>),
}

/// Bytes as lower-case hexadecimal in the JSON form.
mod hex_bytes {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&crate::hex::encode(bytes))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        crate::hex::decode(&text)
            .ok_or_else(|| serde::de::Error::custom("signed bytes are given as hexadecimal"))
    }
}

impl Carried {
    /// The kind of the object carried: [`ObjectKind::Statement`] or
    /// [`ObjectKind::DirectoryUpdate`].
    #[must_use]
    pub fn kind(&self) -> ObjectKind {
        match self {
            Carried::Statement { .. } => ObjectKind::Statement,
            Carried::DirectoryUpdate(_) => ObjectKind::DirectoryUpdate,
        }
    }
}

/// A notification's claims (content type 65010, `docs/format.md` §14).
///
/// ```
/// use consentry::notify::{Carried, Notification};
/// use consentry::{PartyId, SignedPayload, Timestamp};
///
/// let n = Notification {
///     emitter: PartyId::from_bytes([1; 16]),
///     recipient: PartyId::from_bytes([2; 16]),
///     seq: 1,
///     issued_at: Timestamp::from_secs(1_750_000_000),
///     carried: Carried::DirectoryUpdate(vec![0xd2]),
/// };
/// let bytes = n.to_payload_bytes();
/// assert_eq!(Notification::from_payload_bytes(&bytes), Ok(n));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "NotificationFields")]
pub struct Notification {
    /// The party that applied the change, and signs.
    pub emitter: PartyId,
    /// The party it is for.
    pub recipient: PartyId,
    /// Its number in the (emitter, recipient) stream, from 1.
    pub seq: u64,
    /// When the emitter signed it.
    pub issued_at: Timestamp,
    /// What it reports.
    pub carried: Carried,
}

/// The code of the JSON reader's refusal of a notification that breaks a rule beyond its shape.
pub(crate) const JSON_INVALID: &str = "notification/invalid";

/// The JSON form's fields, before the rules of [`Notification::check`].
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NotificationFields {
    emitter: PartyId,
    recipient: PartyId,
    seq: u64,
    issued_at: Timestamp,
    carried: Carried,
}

impl TryFrom<NotificationFields> for Notification {
    type Error = String;

    fn try_from(f: NotificationFields) -> Result<Self, String> {
        let n = Notification {
            emitter: f.emitter,
            recipient: f.recipient,
            seq: f.seq,
            issued_at: f.issued_at,
            carried: f.carried,
        };
        n.check()
            .map(|()| n)
            .map_err(|reason| format!("[{JSON_INVALID}] {reason}"))
    }
}

impl Notification {
    /// The rules beyond the shape: numbered from 1, not to its emitter.
    fn check(&self) -> Result<(), &'static str> {
        if self.seq == 0 {
            return Err("a notification stream is numbered from 1");
        }
        if self.emitter == self.recipient {
            return Err("a party does not notify itself");
        }
        Ok(())
    }
}

impl SignedPayload for Notification {
    const KIND: ObjectKind = ObjectKind::Notification;

    fn encode(&self, e: &mut Encoder) {
        let entries = match self.carried {
            Carried::Statement { .. } => 7,
            Carried::DirectoryUpdate(_) => 6,
        };
        e.map(entries);
        e.uint(notification::VERSION).uint(FORMAT_VERSION);
        e.uint(notification::EMITTER).bytes(self.emitter.as_bytes());
        e.uint(notification::RECIPIENT)
            .bytes(self.recipient.as_bytes());
        e.uint(notification::SEQ).uint(self.seq);
        e.uint(notification::ISSUED_AT).uint(self.issued_at.0);
        match &self.carried {
            Carried::Statement { statement, basis } => {
                e.uint(notification::STATEMENT).bytes(statement);
                e.uint(notification::BASIS).bytes(basis);
            }
            Carried::DirectoryUpdate(update) => {
                e.uint(notification::DIRECTORY_UPDATE).bytes(update);
            }
        }
    }

    fn decode(d: &mut Decoder<'_>) -> Result<Self, DecodeError> {
        let mut m = d.map_reader("notification")?;
        m.version(notification::VERSION, FORMAT_VERSION)?;
        let emitter = m.required(notification::EMITTER, "emitter", wire::party_id)?;
        let recipient = m.required(notification::RECIPIENT, "recipient", wire::party_id)?;
        let seq = m.required(notification::SEQ, "seq", Decoder::uint)?;
        let issued_at = m.required(notification::ISSUED_AT, "issued at", wire::timestamp)?;
        let signed = |d: &mut Decoder<'_>| d.bytes().map(<[u8]>::to_vec);
        let statement = m.optional(notification::STATEMENT, signed)?;
        let basis = m.optional(notification::BASIS, signed)?;
        let update = m.optional(notification::DIRECTORY_UPDATE, signed)?;
        m.finish()?;
        let carried = match (statement, basis, update) {
            (Some(statement), Some(basis), None) => Carried::Statement { statement, basis },
            (None, None, Some(update)) => Carried::DirectoryUpdate(update),
            _ => {
                return Err(DecodeError::InvalidValue {
                    field: "carried",
                    reason: "a statement with its basis, or a directory update, and nothing else",
                });
            }
        };
        let n = Notification {
            emitter,
            recipient,
            seq,
            issued_at,
            carried,
        };
        n.check().map_err(|reason| DecodeError::InvalidValue {
            field: if seq == 0 { "seq" } else { "recipient" },
            reason,
        })?;
        Ok(n)
    }

    fn signer(&self) -> PartyId {
        self.emitter
    }

    fn issued_at(&self) -> Timestamp {
        self.issued_at
    }
}

/// The emitting party and its signing key: what numbers and signs notifications in an
/// [`Outbox`]. Its key's public half must be in the directory under `emitter`, as for any
/// object it signs.
#[derive(Clone, Copy)]
pub struct Notifier<'k> {
    /// The party that applied the change.
    pub emitter: PartyId,
    /// Its signing key.
    pub key: &'k SigningKey,
}

impl std::fmt::Debug for Notifier<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Notifier")
            .field("emitter", &self.emitter)
            .field("key", &self.key.key_id())
            .finish()
    }
}

impl Notifier<'_> {
    /// Signs the notification numbered `seq` for `recipient`.
    #[must_use]
    pub fn sign(
        &self,
        recipient: PartyId,
        seq: u64,
        issued_at: Timestamp,
        carried: &Carried,
    ) -> Vec<u8> {
        Notification {
            emitter: self.emitter,
            recipient,
            seq,
            issued_at,
            carried: carried.clone(),
        }
        .sign(self.key)
    }
}

/// What to tell whom: one change, the parties that must learn it (sorted, without repetition,
/// never the emitter) and the issue time of the notifications.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notices {
    /// What is reported.
    pub carried: Carried,
    /// Who must learn it, in the order notifications are queued.
    pub recipients: Vec<PartyId>,
    /// The notifications' issue time.
    pub issued_at: Timestamp,
}

impl Notices {
    /// The notices of a statement applied by `emitter` about a basis whose consumer and scope
    /// are given: the consumer and every provider of the scope, but the emitter, in party-id
    /// order.
    #[must_use]
    pub fn for_statement(
        emitter: PartyId,
        consumer: PartyId,
        scope: &Scope,
        statement: &[u8],
        basis: &[u8],
        issued_at: Timestamp,
    ) -> Self {
        Notices {
            carried: Carried::Statement {
                statement: statement.to_vec(),
                basis: basis.to_vec(),
            },
            recipients: statement_recipients(emitter, consumer, scope),
            issued_at,
        }
    }

    /// The notices of a directory update applied by `emitter`, given the directory as the
    /// update left it: if the update reports a key compromise, every party holding the
    /// provider or consumer role at `issued_at` but the emitter, in party-id order (any of them
    /// may hold objects signed with the key, or a grant resting on them); otherwise nobody (the
    /// other changes take effect no earlier than the update and need no warning).
    #[must_use]
    pub fn for_directory_update(
        emitter: PartyId,
        directory: &Directory,
        update: &DirectoryUpdate,
        signed: &[u8],
        issued_at: Timestamp,
    ) -> Self {
        let compromise = update
            .changes()
            .iter()
            .any(|c| matches!(c, Change::ReportCompromise { .. }));
        let recipients = if compromise {
            compromise_recipients(emitter, directory, issued_at)
        } else {
            Vec::new()
        };
        Notices {
            carried: Carried::DirectoryUpdate(signed.to_vec()),
            recipients,
            issued_at,
        }
    }
}

/// The parties to notify of a statement about a basis: its consumer and every provider of its
/// scope, but the emitter, in party-id order, without repetition.
#[must_use]
pub fn statement_recipients(emitter: PartyId, consumer: PartyId, scope: &Scope) -> Vec<PartyId> {
    let mut out: Vec<PartyId> = scope
        .entries()
        .iter()
        .map(|e| e.provider)
        .chain(std::iter::once(consumer))
        .filter(|p| *p != emitter)
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// The parties to notify of a key compromise: every party of `directory` holding the provider
/// or consumer role at `at`, but the emitter, in party-id order.
#[must_use]
pub fn compromise_recipients(
    emitter: PartyId,
    directory: &Directory,
    at: Timestamp,
) -> Vec<PartyId> {
    let trust: &dyn crate::directory::Trust = directory;
    let mut out: Vec<PartyId> = directory
        .parties()
        .iter()
        .map(|p| p.id)
        .filter(|id| *id != emitter)
        .filter(|id| {
            trust.has_role(*id, Role::Provider, at) || trust.has_role(*id, Role::Consumer, at)
        })
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}
