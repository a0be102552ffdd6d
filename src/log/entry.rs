//! Log entries: what one Merkle leaf of the transfer log holds.

use crate::Digest;
use crate::cbor::{DecodeError, Decoder, Encoder, Limits};
use crate::cose::Envelope;
use crate::decision::{Decision, Reason};
use crate::deletion::Deletion;
use crate::directory::{PartyId, Trust};
use crate::grant::Grant;
use crate::habilitation::Habilitation;
use crate::ids::{BasisId, RequestId};
use crate::labels::denial;
use crate::signed::{ObjectError, ParseError, SignedPayload, Verified};
use crate::statement::Statement;
use crate::time::Timestamp;
use crate::wire::{self, FORMAT_VERSION};

use super::error::LogError;
use super::hash::leaf_hash;
use super::kind::EntryKind;
use super::receipt::Receipt;

/// Largest encoded entry accepted: one signed object at its own size limit, plus room for the
/// entry's framing.
pub const MAX_ENTRY_SIZE: usize = Limits::OBJECT.max_size + 1024;

/// Most reason codes in a denial.
pub const MAX_DENIAL_REASONS: usize = 64;

/// Longest reason code, in bytes.
pub const MAX_REASON_CODE_LEN: usize = 64;

const ENTRY_LIMITS: Limits = Limits {
    max_size: MAX_ENTRY_SIZE,
    max_depth: 4,
    max_items: 64,
};

/// A signed object as logged: its exact COSE bytes and its strictly decoded claims.
///
/// The claims are **not** authenticated by being in the log: the log only proves the bytes were
/// logged. Call [`LoggedObject::verify`] with a directory to check the signature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoggedObject<T> {
    bytes: Vec<u8>,
    claims: T,
}

impl<T: SignedPayload> LoggedObject<T> {
    /// Parses the envelope (of kind `T::KIND`) and decodes the payload strictly; the signature
    /// is not checked.
    ///
    /// # Errors
    ///
    /// As [`Unverified::parse`](crate::signed::Unverified::parse): [`ParseError::Envelope`] if the
    /// envelope is malformed or of another kind, [`ParseError::Payload`] if the payload does not
    /// decode strictly as `T`.
    pub fn parse(bytes: Vec<u8>) -> Result<Self, ParseError> {
        let envelope = Envelope::parse_kind(&bytes, T::KIND)?;
        let claims = T::from_payload_bytes(envelope.payload())?;
        Ok(LoggedObject { bytes, claims })
    }

    /// Bytes just signed over `claims`, or verified as encoding them: no need to decode again.
    pub(crate) fn from_parts(bytes: Vec<u8>, claims: T) -> Self {
        LoggedObject { bytes, claims }
    }

    /// The exact signed bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The claims, not authenticated.
    pub fn claims(&self) -> &T {
        &self.claims
    }

    /// SHA-256 of the exact signed bytes.
    pub fn digest(&self) -> Digest {
        Digest::of(&self.bytes)
    }

    /// Checks the signature and the key rule against `trust` (a [`Directory`](crate::Directory)
    /// or another registry).
    ///
    /// # Errors
    ///
    /// As [`Verified::parse_and_verify`]: [`ObjectError::Parse`] or [`ObjectError::Verify`].
    pub fn verify(&self, trust: &dyn Trust) -> Result<Verified<T>, ObjectError> {
        Verified::parse_and_verify(&self.bytes, trust)
    }
}

/// A transfer that was denied, as the log keeps it. It is not signed by itself: the signed tree
/// head covers it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Denial {
    request_digest: Digest,
    request: Option<RequestId>,
    basis: Option<BasisId>,
    subject: Option<PartyId>,
    reasons: Vec<String>,
    at: Timestamp,
}

fn check_reason(code: &str) -> Result<(), LogError> {
    let valid = !code.is_empty()
        && code.len() <= MAX_REASON_CODE_LEN
        && code
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if valid {
        Ok(())
    } else {
        Err(LogError::InvalidDenial(
            "a reason code is 1 to 64 characters from a-z, 0-9 and _",
        ))
    }
}

impl Denial {
    /// A denial of the request whose exact bytes hash to `request_digest`, attributed to no
    /// subject. The reasons are the decision's reason codes, in order (at least one, at most
    /// [`MAX_DENIAL_REASONS`], each 1 to [`MAX_REASON_CODE_LEN`] characters from `a-z`, `0-9`
    /// and `_`).
    ///
    /// Only [`Denial::for_decision`] attributes a denial to a subject, from what the verifier
    /// authenticated: a caller cannot put a denial into someone's access history on the word of
    /// an unauthenticated request.
    ///
    /// # Errors
    ///
    /// [`LogError::InvalidDenial`] if there is no reason, more than [`MAX_DENIAL_REASONS`], or a
    /// reason that is not such a code.
    pub fn new<S: Into<String>>(
        request_digest: Digest,
        request: Option<RequestId>,
        basis: Option<BasisId>,
        reasons: impl IntoIterator<Item = S>,
        at: Timestamp,
    ) -> Result<Self, LogError> {
        Denial::attributed(request_digest, request, basis, None, reasons, at)
    }

    pub(crate) fn attributed<S: Into<String>>(
        request_digest: Digest,
        request: Option<RequestId>,
        basis: Option<BasisId>,
        subject: Option<PartyId>,
        reasons: impl IntoIterator<Item = S>,
        at: Timestamp,
    ) -> Result<Self, LogError> {
        let mut codes = Vec::new();
        for reason in reasons {
            if codes.len() == MAX_DENIAL_REASONS {
                return Err(LogError::InvalidDenial("more than 64 reason codes"));
            }
            let reason = reason.into();
            check_reason(&reason)?;
            codes.push(reason);
        }
        if codes.is_empty() {
            return Err(LogError::InvalidDenial("a denial has at least one reason"));
        }
        Ok(Denial {
            request_digest,
            request,
            basis,
            subject,
            reasons: codes,
            at,
        })
    }

    /// The log's entry for a decision, as [`Receipt::for_authorization`] is for an *allow*:
    /// `None` for an *allow*; for a *deny*, its request hash and ids, attributed to the subject
    /// the verifier took from verified objects (the authenticated request's subject, else the
    /// verified grant's), with the refusal's distinct reason codes in the decision's order.
    ///
    /// ```
    /// use consentry::log::Denial;
    /// use consentry::testing::Scenario;
    ///
    /// let s = Scenario::canteen();
    /// let grant = s.sign_grant(&s.grant().build(&s.ceilings).unwrap());
    /// let decision = s.decide(b"not a request", &grant);
    /// let denial = Denial::for_decision(&decision).expect("a deny");
    /// assert_eq!(denial.reasons(), ["malformed"]);
    /// // Attributed to the verified grant's subject, not to anything the request claims.
    /// assert_eq!(denial.subject(), Some(s.parent));
    /// ```
    #[must_use]
    pub fn for_decision(decision: &Decision) -> Option<Self> {
        let refusal = decision.refusal()?;
        let mut codes: Vec<String> = Vec::with_capacity(refusal.reasons().len());
        for code in refusal.reasons().iter().map(Reason::code) {
            if !codes.iter().any(|c| c == code) {
                codes.push(code.to_owned());
            }
        }
        // A refusal holds at least one reason; its distinct codes are valid log codes and no more
        // than there are kinds of reason, which is at most `MAX_DENIAL_REASONS` (both checked by
        // the unit tests of `Reason`).
        Some(Denial {
            request_digest: refusal.request_digest(),
            request: refusal.request(),
            basis: refusal.basis(),
            subject: refusal.subject(),
            reasons: codes,
            at: refusal.decided_at(),
        })
    }

    /// SHA-256 of the request bytes received.
    #[must_use]
    pub fn request_digest(&self) -> Digest {
        self.request_digest
    }
    /// The request id, if the request could be read.
    #[must_use]
    pub fn request(&self) -> Option<RequestId> {
        self.request
    }
    /// The basis id, if it could be read.
    #[must_use]
    pub fn basis(&self) -> Option<BasisId> {
        self.basis
    }
    /// The person the data is about, if known.
    #[must_use]
    pub fn subject(&self) -> Option<PartyId> {
        self.subject
    }
    /// The reason codes, in the decision's order.
    #[must_use]
    pub fn reasons(&self) -> &[String] {
        &self.reasons
    }
    /// When the decision was made.
    #[must_use]
    pub fn at(&self) -> Timestamp {
        self.at
    }

    fn encode(&self, e: &mut Encoder) {
        let n = 4
            + usize::from(self.request.is_some())
            + usize::from(self.basis.is_some())
            + usize::from(self.subject.is_some());
        e.map(n);
        e.uint(denial::VERSION).uint(FORMAT_VERSION);
        e.uint(denial::REQUEST_HASH).bytes(&self.request_digest.0);
        if let Some(request) = self.request {
            e.uint(denial::REQUEST).bytes(request.0.as_bytes());
        }
        if let Some(basis) = self.basis {
            e.uint(denial::BASIS).bytes(basis.0.as_bytes());
        }
        if let Some(subject) = self.subject {
            e.uint(denial::SUBJECT).bytes(subject.as_bytes());
        }
        e.uint(denial::REASONS).array(self.reasons.len());
        for reason in &self.reasons {
            e.text(reason);
        }
        e.uint(denial::AT).uint(self.at.0);
    }

    fn decode(d: &mut Decoder<'_>) -> Result<Self, LogError> {
        let mut m = d.map_reader("denial").map_err(LogError::MalformedEntry)?;
        let fields = (|| {
            m.version(denial::VERSION, FORMAT_VERSION)?;
            let digest = m.required(denial::REQUEST_HASH, "request hash", wire::digest)?;
            let request = m.optional(denial::REQUEST, wire::uuid)?.map(RequestId);
            let basis = m.optional(denial::BASIS, wire::uuid)?.map(BasisId);
            let subject = m.optional(denial::SUBJECT, wire::party_id)?;
            let reasons = m.required(denial::REASONS, "reasons", |d| {
                d.array_of("reasons", 1, |d| d.text().map(str::to_owned))
            })?;
            let at = m.required(denial::AT, "at", wire::timestamp)?;
            Ok((digest, request, basis, subject, reasons, at))
        })()
        .map_err(LogError::MalformedEntry)?;
        m.finish().map_err(LogError::MalformedEntry)?;
        let (digest, request, basis, subject, reasons, at) = fields;
        Denial::attributed(digest, request, basis, subject, reasons, at)
    }
}

/// One entry of the transfer log: what a Merkle leaf holds.
///
/// Wire form: deterministic CBOR, an array whose first item is the kind's code:
/// - `[0, receipt]`: a provider's transfer receipt, its exact COSE bytes;
/// - `[1, grant]`: a consent grant when issued, its exact COSE bytes;
/// - `[2, statement]` or `[2, statement, subject]`: a lifecycle statement's exact COSE bytes,
///   with the subject of the basis it is about when there is one (a statement about a grant;
///   a habilitation has no single subject);
/// - `[3, denial]`: a denial, a map with keys `0` version (2), `1` request hash, `2` request id
///   (optional), `3` basis id (optional), `4` subject (optional), `5` reason codes, `6` time
///   ([`crate::labels::denial`]);
/// - `[4, deletion]`: a consumer's deletion statement, its exact COSE bytes; it concerns the
///   subject it names.
///
/// The leaf hash is [`leaf_hash`] of these bytes. Decoding is strict: an entry re-encodes to the
/// bytes it was decoded from, and the signed objects it carries decode strictly as their kind.
///
/// ```
/// use consentry::log::{Denial, LogEntry};
/// use consentry::{Digest, Timestamp};
///
/// let denial = Denial::new(Digest::of(b"request"), None, None, ["malformed"], Timestamp::from_secs(7))?;
/// let entry = LogEntry::Denial(denial);
/// let bytes = entry.to_bytes();
/// assert_eq!(LogEntry::from_bytes(&bytes)?, entry);
/// assert_eq!(entry.subject(), None);
/// # Ok::<(), consentry::log::LogError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LogEntry {
    /// A signed transfer receipt.
    Receipt(LoggedObject<Receipt>),
    /// A signed consent grant, logged as issued.
    GrantIssued(LoggedObject<Grant>),
    /// A signed lifecycle statement (its action says pause, resume or revoke).
    Statement(StatementEntry),
    /// A denied transfer.
    Denial(Denial),
    /// A consumer's deletion statement about a logged receipt.
    Deletion(LoggedObject<Deletion>),
}

/// A lifecycle statement as logged, with the subject of the basis it is about. Made only by
/// [`LogEntry::statement_about_grant`] (the subject taken from the grant the statement names by
/// hash), [`LogEntry::statement_about_habilitation`] (no subject) or by decoding an entry (where
/// the subject is the log keeper's claim, checkable against the grant).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatementEntry {
    statement: LoggedObject<Statement>,
    subject: Option<PartyId>,
}

impl StatementEntry {
    /// The statement.
    #[must_use]
    pub fn statement(&self) -> &LoggedObject<Statement> {
        &self.statement
    }

    /// The subject of the basis the statement is about, if the basis has one.
    #[must_use]
    pub fn subject(&self) -> Option<PartyId> {
        self.subject
    }
}

fn object<T: SignedPayload>(kind: EntryKind, bytes: Vec<u8>) -> Result<LoggedObject<T>, LogError> {
    LoggedObject::parse(bytes).map_err(|error| LogError::MalformedObject { kind, error })
}

impl LogEntry {
    /// A receipt entry from the receipt's signed bytes (parsed strictly; signature not checked).
    ///
    /// # Errors
    ///
    /// [`LogError::MalformedObject`] if `bytes` is not a well-formed receipt.
    pub fn receipt(bytes: Vec<u8>) -> Result<Self, LogError> {
        object(EntryKind::Receipt, bytes).map(LogEntry::Receipt)
    }

    /// A "grant issued" entry from the grant's signed bytes (parsed strictly; signature not
    /// checked).
    ///
    /// # Errors
    ///
    /// [`LogError::MalformedObject`] if `bytes` is not a well-formed grant.
    pub fn grant_issued(bytes: Vec<u8>) -> Result<Self, LogError> {
        object(EntryKind::GrantIssued, bytes).map(LogEntry::GrantIssued)
    }

    /// A statement entry about a grant: the subject is taken from the grant, after checking
    /// that the statement names the grant's exact bytes.
    ///
    /// # Errors
    ///
    /// [`LogError::MalformedObject`] if `statement` or `grant` is not a well-formed object of its
    /// kind, [`LogError::StatementNotAboutBasis`] if the statement names other bytes than `grant`.
    pub fn statement_about_grant(statement: Vec<u8>, grant: &[u8]) -> Result<Self, LogError> {
        let statement = object::<Statement>(EntryKind::Statement, statement)?;
        let grant = LoggedObject::<Grant>::parse(grant.to_vec()).map_err(|error| {
            LogError::MalformedObject {
                kind: EntryKind::GrantIssued,
                error,
            }
        })?;
        if statement.claims().basis_digest != grant.digest() {
            return Err(LogError::StatementNotAboutBasis {
                statement: statement.claims().basis_digest,
                basis: grant.digest(),
            });
        }
        Ok(LogEntry::Statement(StatementEntry {
            statement,
            subject: Some(grant.claims().subject()),
        }))
    }

    /// A statement entry about a habilitation, which has no single subject: attributed to
    /// nobody, after checking that the statement names the habilitation's exact bytes.
    ///
    /// # Errors
    ///
    /// [`LogError::MalformedObject`] if `statement` or `habilitation` is not a well-formed object
    /// of its kind, [`LogError::StatementNotAboutBasis`] if the statement names other bytes than
    /// `habilitation`.
    pub fn statement_about_habilitation(
        statement: Vec<u8>,
        habilitation: &[u8],
    ) -> Result<Self, LogError> {
        let statement = object::<Statement>(EntryKind::Statement, statement)?;
        let digest = Digest::of(habilitation);
        LoggedObject::<Habilitation>::parse(habilitation.to_vec()).map_err(|error| {
            LogError::MalformedObject {
                kind: EntryKind::Statement,
                error,
            }
        })?;
        if statement.claims().basis_digest != digest {
            return Err(LogError::StatementNotAboutBasis {
                statement: statement.claims().basis_digest,
                basis: digest,
            });
        }
        Ok(LogEntry::Statement(StatementEntry {
            statement,
            subject: None,
        }))
    }

    /// A deletion entry from the deletion statement's signed bytes (parsed strictly; signature
    /// not checked, nor that its receipt is logged: a log writer checks both, see
    /// [`TransferLog::append_deletion`](super::TransferLog::append_deletion)).
    ///
    /// # Errors
    ///
    /// [`LogError::MalformedObject`] if `bytes` is not a well-formed deletion statement.
    pub fn deletion(bytes: Vec<u8>) -> Result<Self, LogError> {
        object(EntryKind::Deletion, bytes).map(LogEntry::Deletion)
    }

    /// The entry of a statement the verifier has just verified and applied to the basis whose
    /// subject (for a grant) is `subject`.
    pub(crate) fn verified_statement(
        statement: LoggedObject<Statement>,
        subject: Option<PartyId>,
    ) -> Self {
        LogEntry::Statement(StatementEntry { statement, subject })
    }

    /// A statement entry as decoded: the subject is what the entry's bytes say.
    pub(crate) fn statement(
        statement: Vec<u8>,
        subject: Option<PartyId>,
    ) -> Result<Self, LogError> {
        object(EntryKind::Statement, statement)
            .map(|statement| LogEntry::Statement(StatementEntry { statement, subject }))
    }

    /// The entry's kind.
    #[must_use]
    pub fn kind(&self) -> EntryKind {
        match self {
            LogEntry::Receipt(_) => EntryKind::Receipt,
            LogEntry::GrantIssued(_) => EntryKind::GrantIssued,
            LogEntry::Statement(_) => EntryKind::Statement,
            LogEntry::Denial(_) => EntryKind::Denial,
            LogEntry::Deletion(_) => EntryKind::Deletion,
        }
    }

    /// The person the entry concerns, if it concerns one: the receipt's or grant's subject, the
    /// subject recorded with a statement, the denial's subject if known, the subject a deletion
    /// statement names.
    #[must_use]
    pub fn subject(&self) -> Option<PartyId> {
        match self {
            LogEntry::Receipt(r) => Some(r.claims().subject()),
            LogEntry::GrantIssued(g) => Some(g.claims().subject()),
            LogEntry::Statement(e) => e.subject,
            LogEntry::Denial(d) => d.subject(),
            LogEntry::Deletion(d) => Some(d.claims().subject),
        }
    }

    /// The time the entry states: the signed object's issue time, or the denial's time.
    #[must_use]
    pub fn time(&self) -> Timestamp {
        match self {
            LogEntry::Receipt(r) => r.claims().issued_at(),
            LogEntry::GrantIssued(g) => g.claims().issued_at(),
            LogEntry::Statement(e) => e.statement.claims().issued_at,
            LogEntry::Denial(d) => d.at(),
            LogEntry::Deletion(d) => d.claims().issued_at,
        }
    }

    /// The signed object's bytes, if the entry carries one.
    #[must_use]
    pub fn signed_bytes(&self) -> Option<&[u8]> {
        match self {
            LogEntry::Receipt(r) => Some(r.bytes()),
            LogEntry::GrantIssued(g) => Some(g.bytes()),
            LogEntry::Statement(e) => Some(e.statement.bytes()),
            LogEntry::Deletion(d) => Some(d.bytes()),
            LogEntry::Denial(_) => None,
        }
    }

    /// The entry's deterministic encoding, the bytes its leaf hashes.
    #[must_use]
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut e = Encoder::new();
        match self {
            LogEntry::Receipt(r) => {
                e.array(2).uint(EntryKind::Receipt.code()).bytes(r.bytes());
            }
            LogEntry::GrantIssued(g) => {
                e.array(2)
                    .uint(EntryKind::GrantIssued.code())
                    .bytes(g.bytes());
            }
            LogEntry::Statement(StatementEntry { statement, subject }) => {
                e.array(if subject.is_some() { 3 } else { 2 })
                    .uint(EntryKind::Statement.code())
                    .bytes(statement.bytes());
                if let Some(subject) = subject {
                    e.bytes(subject.as_bytes());
                }
            }
            LogEntry::Denial(d) => {
                e.array(2).uint(EntryKind::Denial.code());
                d.encode(&mut e);
            }
            LogEntry::Deletion(d) => {
                e.array(2).uint(EntryKind::Deletion.code()).bytes(d.bytes());
            }
        }
        e.into_bytes()
    }

    /// Decodes an entry strictly (at most [`MAX_ENTRY_SIZE`] bytes, one item, no trailing bytes,
    /// signed objects well formed as their kind).
    ///
    /// # Errors
    ///
    /// [`LogError::MalformedEntry`] if the bytes are not a strict entry (too large, an unknown
    /// kind, a wrong number of items, trailing bytes), [`LogError::MalformedObject`] if the signed
    /// object it carries is not well formed as its kind, [`LogError::InvalidDenial`] if a denial's
    /// reasons are not valid codes (see [`Denial::new`]).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, LogError> {
        let mut d = Decoder::new(bytes, ENTRY_LIMITS).map_err(LogError::MalformedEntry)?;
        let (kind, arity) = (|| {
            let arity = d.array()?;
            let kind = EntryKind::from_code(d.uint()?).ok_or(DecodeError::InvalidValue {
                field: "entry kind",
                reason: "unknown entry kind",
            })?;
            let expected = match kind {
                EntryKind::Statement => arity == 2 || arity == 3,
                _ => arity == 2,
            };
            if !expected {
                return Err(DecodeError::InvalidValue {
                    field: "entry",
                    reason: "wrong number of items for its kind",
                });
            }
            Ok((kind, arity))
        })()
        .map_err(LogError::MalformedEntry)?;
        let entry = if kind == EntryKind::Denial {
            LogEntry::Denial(Denial::decode(&mut d)?)
        } else {
            let object_bytes = d.bytes().map_err(LogError::MalformedEntry)?.to_vec();
            match kind {
                EntryKind::Receipt => LogEntry::receipt(object_bytes)?,
                EntryKind::GrantIssued => LogEntry::grant_issued(object_bytes)?,
                EntryKind::Deletion => LogEntry::deletion(object_bytes)?,
                _ => {
                    let subject = if arity == 3 {
                        Some(wire::party_id(&mut d).map_err(LogError::MalformedEntry)?)
                    } else {
                        None
                    };
                    LogEntry::statement(object_bytes, subject)?
                }
            }
        };
        d.finish().map_err(LogError::MalformedEntry)?;
        Ok(entry)
    }

    /// The entry's leaf hash: [`leaf_hash`] of [`LogEntry::to_bytes`].
    #[must_use]
    pub fn leaf_hash(&self) -> Digest {
        leaf_hash(&self.to_bytes())
    }
}
