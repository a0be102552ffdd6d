//! Consent records after ISO/IEC TS 27560, expressed in W3C DPV (JSON-LD).
//!
//! [`grant_record`] describes a verified [`Grant`], the lifecycle statements applied to it
//! (pause, resume, revoke) and the transfers made under it (the providers' [`Receipt`]s), judged
//! at a time the caller passes in, as a `dpv:ConsentRecord` following the DPV guide "Consent
//! Records and Receipts as per ISO/IEC TS 27560:2023 using DPV" (profile
//! `dpv-27560:record`). [`habilitation_record`] describes a [`Habilitation`] the same way, as a
//! `dpv:DataProcessingRecord` whose legal basis is the habilitation's legal reference instead of
//! consent. `docs/records.md` maps every fact onto its 27560 field and DPV term, and says what
//! has no counterpart.
//!
//! Only verified objects go in: a record cannot describe a grant, a statement or a receipt
//! whose signature was not checked. The export is pure (no clock, no I/O) and refuses, with a
//! [`RecordError`], a statement or a receipt about another basis, one dated after the time
//! the record is judged at, a statement the ledger could not have applied in the order given,
//! a receipt for a transfer the basis does not cover, and a receipt given twice.
//!
//! The documents name their context by [`CONTEXT_IRI`]; the context itself is [`CONTEXT`]
//! (`docs/records.context.jsonld`), to be served from a local copy: DPV publishes none, and
//! the IRI is not meant to be fetched.
//!
//! ```
//! use consentry::record::{self, RecordStatus};
//! use consentry::signed::Verified;
//! use consentry::statement::Action;
//! use consentry::testing::Scenario;
//! use consentry::Grant;
//!
//! let s = Scenario::canteen();
//! let bytes = s.sign_grant(&s.grant().build(&s.ceilings).unwrap());
//! let grant = Verified::<Grant>::parse_and_verify(&bytes, &s.directory).unwrap();
//! let pause = s.statement(&bytes, Action::Pause, s.parent);
//! s.apply(&pause, &bytes).unwrap();
//! let pause = Verified::parse_and_verify(&pause, &s.directory).unwrap();
//!
//! let record = record::grant_record(&grant, &[pause], &[], s.now).unwrap();
//! assert!(matches!(record.status(), RecordStatus::Paused { .. }));
//! let json = record.json();
//! assert_eq!(json["@type"], "dpv:ConsentRecord");
//! assert_eq!(json["dpv:hasConsentStatus"][1]["consentry:action"], "pause");
//! ```

use crate::derivation::DerivationTerm;
use crate::directory::PartyId;
use crate::grant::{Grant, derivation_of};
use crate::habilitation::Habilitation;
use crate::ids::{BasisId, BasisKind};
use crate::ledger::{BasisState, LifecycleRefusal, StatementRecord, Status};
use crate::log::Receipt;
use crate::signed::Verified;
use crate::statement::{Action, Statement};
use crate::terms::{AccessView, DataRange, Scope};
use crate::time::Timestamp;
use crate::vocab::{Category, Purpose};
use crate::{Digest, ids::BasisKey};
use serde::Serialize;
use serde_json::{Map, Value, json};
use std::collections::BTreeSet;
use thiserror::Error;

/// The IRI the records name as their `@context`. It is not meant to be fetched: serve
/// [`CONTEXT`] for it from a local copy.
pub const CONTEXT_IRI: &str = "urn:consentry:context:record-v1";

/// The JSON-LD context document of the records (`docs/records.context.jsonld`): the prefixes
/// `dpv`, `dpv-27560`, `dct`, `rdf`, `xsd` and `consentry`, the value types of the properties
/// the records use, and every `consentry:` term.
pub const CONTEXT: &str = include_str!("../docs/records.context.jsonld");

/// The namespace of consentry's own terms, for the facts DPV has no term for.
pub const VOCAB: &str = "urn:consentry:vocab:";

/// The DPV profile of ISO/IEC TS 27560 a consent record conforms to (`dct:conformsTo`).
pub const CONSENT_RECORD_PROFILE: &str = "https://w3id.org/dpv/schema/dpv-27560#record";

/// A basis's lifecycle as a record states it, judged at the record's time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "status")]
#[non_exhaustive]
pub enum RecordStatus {
    /// In force: issued, within its validity window, neither paused nor revoked.
    Active,
    /// Its validity window has not begun.
    NotYetValid,
    /// Paused by a statement issued at `since`.
    Paused {
        /// Issue time of the pause that took effect.
        since: Timestamp,
    },
    /// Revoked by a statement issued at `at` (final).
    Revoked {
        /// Issue time of the revocation.
        at: Timestamp,
    },
    /// Its validity window ended at `at`.
    Expired {
        /// The basis's `expires_at`.
        at: Timestamp,
    },
}

impl RecordStatus {
    /// The status's code, as the record's `consentry:status` carries it: `active`,
    /// `not_yet_valid`, `paused`, `revoked` or `expired`.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            RecordStatus::Active => "active",
            RecordStatus::NotYetValid => "not_yet_valid",
            RecordStatus::Paused { .. } => "paused",
            RecordStatus::Revoked { .. } => "revoked",
            RecordStatus::Expired { .. } => "expired",
        }
    }
}

/// Why a record could not be made. `index` is the position of the offending statement or
/// receipt in the slice given.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum RecordError {
    /// The record is judged before the basis was issued.
    #[error("the record is judged before the basis was issued ({issued_at})")]
    BeforeIssue {
        /// The basis's issue time.
        issued_at: Timestamp,
    },
    /// A statement names another basis, or other bytes of this one.
    #[error("statement {index} is about another basis")]
    StatementAboutAnotherBasis {
        /// Its position.
        index: usize,
    },
    /// A statement was issued after the time the record is judged at.
    #[error("statement {index} was issued after the record's time")]
    StatementAfterTime {
        /// Its position.
        index: usize,
    },
    /// The ledger would have refused the statement after those before it (a statement after a
    /// revocation, one given twice, a resume issued before the pause in force): it cannot have
    /// been applied in this order.
    #[error("statement {index} cannot have been applied after the ones before it: {refusal}")]
    StatementNotApplicable {
        /// Its position.
        index: usize,
        /// What the ledger would have said.
        refusal: LifecycleRefusal,
    },
    /// A receipt names another basis, another kind of basis, or other bytes.
    #[error("receipt {index} is about another basis")]
    ReceiptAboutAnotherBasis {
        /// Its position.
        index: usize,
    },
    /// A receipt states a transfer the basis does not cover: another subject (grants), another
    /// consumer, a provider or category outside the scope, data outside the grant's range,
    /// onward transfer the grant does not allow, or another signer of the consent.
    #[error("receipt {index} states a transfer the basis does not cover")]
    ReceiptOutsideBasis {
        /// Its position.
        index: usize,
    },
    /// A receipt was issued after the time the record is judged at.
    #[error("receipt {index} was issued after the record's time")]
    ReceiptAfterTime {
        /// Its position.
        index: usize,
    },
    /// The same receipt (by id) was given twice.
    #[error("receipt {index} was given before")]
    DuplicateReceipt {
        /// Its position.
        index: usize,
    },
}

impl RecordError {
    /// A stable code naming the refusal (`record/…`).
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            RecordError::BeforeIssue { .. } => "record/before_issue",
            RecordError::StatementAboutAnotherBasis { .. } => {
                "record/statement_about_another_basis"
            }
            RecordError::StatementAfterTime { .. } => "record/statement_after_time",
            RecordError::StatementNotApplicable { .. } => "record/statement_not_applicable",
            RecordError::ReceiptAboutAnotherBasis { .. } => "record/receipt_about_another_basis",
            RecordError::ReceiptOutsideBasis { .. } => "record/receipt_outside_basis",
            RecordError::ReceiptAfterTime { .. } => "record/receipt_after_time",
            RecordError::DuplicateReceipt { .. } => "record/duplicate_receipt",
        }
    }
}

/// A record: its JSON-LD document and the status it states.
#[derive(Clone, Debug, PartialEq)]
pub struct Record {
    document: Value,
    status: RecordStatus,
}

impl Record {
    /// The JSON-LD document (compacted, with [`CONTEXT_IRI`] as its context).
    #[must_use]
    pub fn json(&self) -> &Value {
        &self.document
    }

    /// The JSON-LD document, owned.
    #[must_use]
    pub fn into_json(self) -> Value {
        self.document
    }

    /// The status the record states.
    #[must_use]
    pub fn status(&self) -> RecordStatus {
        self.status
    }
}

/// The consent record of `grant` at `at`, with the `statements` applied to it (in the order
/// they were applied) and the `receipts` of the transfers made under it (in the order given,
/// log order for instance).
///
/// The statements are checked against the ledger's own rules
/// ([`BasisState::apply`]), each taking effect at its issue time; their signers'
/// entitlement is not judged again (the verifier did, when it applied them).
///
/// # Errors
///
/// [`RecordError::BeforeIssue`] if `at` is before the grant's issue time;
/// [`RecordError::StatementAboutAnotherBasis`], [`RecordError::StatementAfterTime`] or
/// [`RecordError::StatementNotApplicable`] for the first statement that is about another basis,
/// was issued after `at`, or could not have been applied; then
/// [`RecordError::ReceiptAboutAnotherBasis`], [`RecordError::ReceiptOutsideBasis`],
/// [`RecordError::ReceiptAfterTime`] or [`RecordError::DuplicateReceipt`] for the first receipt
/// that is about another basis, states a transfer the grant does not cover, was issued after
/// `at`, or was given before.
pub fn grant_record(
    grant: &Verified<Grant>,
    statements: &[Verified<Statement>],
    receipts: &[Verified<Receipt>],
    at: Timestamp,
) -> Result<Record, RecordError> {
    let g = grant.claims();
    let basis = Basis {
        key: grant.ledger_key(),
        id: g.id(),
        digest: grant.digest(),
        issued_at: g.issued_at(),
        not_before: g.not_before(),
        expires_at: g.expires_at(),
    };
    let (events, lifecycle) = basis.lifecycle(statements, at)?;
    for (index, r) in receipts.iter().enumerate() {
        basis.check_receipt(index, r, receipts, at)?;
        if !grant_covers(g, r.claims()) {
            return Err(RecordError::ReceiptOutsideBasis { index });
        }
    }
    let status = basis.status(lifecycle, at);

    let mut doc = head(
        "dpv:ConsentRecord",
        g.id(),
        grant.digest(),
        g.consumer(),
        &basis,
    );
    doc.insert("dct:conformsTo".into(), json!("dpv-27560:record"));
    doc.insert("dpv:hasDataSubject".into(), json!(party(g.subject())));
    doc.insert(
        "dpv:hasLegalBasis".into(),
        json!("dpv:ExplicitlyExpressedConsent"),
    );
    doc.insert(
        "consentry:onwardTransfer".into(),
        json!(g.onward_transfer()),
    );
    let frequency = match g.access().view() {
        AccessView::Periodic {
            max_uses,
            period_secs,
        } => json!({
            "@type": "dpv:Frequency",
            "consentry:maxUses": max_uses,
            "consentry:period": duration(period_secs),
        }),
        // A one-time pattern, and any the library may add later, read as a single use.
        _ => json!("dpv:SingularFrequency"),
    };
    let processes = processes(
        g.scope(),
        g.purpose(),
        g.derivations(),
        g.consumer(),
        g.retention_secs(),
    )
    .into_iter()
    .map(|mut p| {
        p.insert("dpv:hasFrequency".into(), frequency.clone());
        p.insert("consentry:dataRange".into(), range(g.data_range()));
        Value::Object(p)
    })
    .collect();
    doc.insert("dpv:hasProcess".into(), Value::Array(processes));

    let mut given = event(
        &["dpv:ConsentGiven"],
        "issue",
        g.issued_at(),
        Some(g.expressed_by()),
    );
    given.insert(
        "dpv:hasDuration".into(),
        json!({
            "@type": "dpv:UntilTimeDuration",
            "rdf:value": date_time(g.expires_at()),
        }),
    );
    let mut history = vec![Value::Object(given)];
    for e in &events {
        let types: &[&str] = match e.action {
            Action::Pause => &[
                "dpv:ConsentStatusInvalidForProcessing",
                "consentry:ConsentPaused",
            ],
            Action::Resume => &["dpv:RenewedConsentGiven"],
            // Withdrawn by the subject themself, revoked by anyone else (a representative).
            _ if e.by == g.subject() => &["dpv:ConsentWithdrawn"],
            _ => &["dpv:ConsentRevoked"],
        };
        history.push(statement_event(types, e));
    }
    if let Some(expiry) = expiry_event(&["dpv:ConsentExpired"], &basis, &events, at) {
        history.push(expiry);
    }
    doc.insert("dpv:hasConsentStatus".into(), Value::Array(history));
    Ok(finish(doc, status, receipts, at))
}

/// The record of `habilitation` at `at`: as [`grant_record`], for a statutory basis. It is a
/// `dpv:DataProcessingRecord` (ISO/IEC TS 27560 covers consent only) whose legal basis is the
/// habilitation's legal reference, with no data subject (a habilitation covers any), and its
/// lifecycle as DPV activity statuses.
///
/// # Errors
///
/// As [`grant_record`]; a receipt is outside the habilitation when its consumer is not the
/// habilitation's or its provider and categories are not in its scope.
pub fn habilitation_record(
    habilitation: &Verified<Habilitation>,
    statements: &[Verified<Statement>],
    receipts: &[Verified<Receipt>],
    at: Timestamp,
) -> Result<Record, RecordError> {
    let h = habilitation.claims();
    let basis = Basis {
        key: habilitation.ledger_key(),
        id: h.id(),
        digest: habilitation.digest(),
        issued_at: h.issued_at(),
        not_before: h.not_before(),
        expires_at: h.expires_at(),
    };
    let (events, lifecycle) = basis.lifecycle(statements, at)?;
    for (index, r) in receipts.iter().enumerate() {
        basis.check_receipt(index, r, receipts, at)?;
        let c = r.claims();
        if c.consumer() != h.consumer()
            || !scope_covers(h.scope(), c)
            || c.purpose() != h.purpose()
            || c.legal_reference() != Some(h.legal_reference())
            || !c.derivations().is_empty()
        {
            return Err(RecordError::ReceiptOutsideBasis { index });
        }
    }
    let status = basis.status(lifecycle, at);

    let mut doc = head(
        "dpv:DataProcessingRecord",
        h.id(),
        habilitation.digest(),
        h.consumer(),
        &basis,
    );
    doc.insert(
        "dpv:hasLegalBasis".into(),
        json!({
            "@type": "dpv:LegalBasis",
            "dct:description": h.legal_reference(),
        }),
    );
    let processes = processes(
        h.scope(),
        h.purpose(),
        &[],
        h.consumer(),
        h.retention_secs(),
    )
    .into_iter()
    .map(Value::Object)
    .collect();
    doc.insert("dpv:hasProcess".into(), Value::Array(processes));

    let mut history = vec![Value::Object(event(
        &["dpv:ActivityOngoing"],
        "issue",
        h.issued_at(),
        Some(h.authority()),
    ))];
    for e in &events {
        let types: &[&str] = match e.action {
            Action::Pause => &["dpv:ActivityHalted"],
            Action::Resume => &["dpv:ActivityOngoing"],
            _ => &["dpv:ActivityCompleted"],
        };
        history.push(statement_event(types, e));
    }
    if let Some(expiry) = expiry_event(&["dpv:ActivityCompleted"], &basis, &events, at) {
        history.push(expiry);
    }
    doc.insert("dpv:hasActivityStatus".into(), Value::Array(history));
    Ok(finish(doc, status, receipts, at))
}

/// What the lifecycle and receipt checks need of a basis.
struct Basis {
    key: BasisKey,
    id: BasisId,
    digest: Digest,
    issued_at: Timestamp,
    not_before: Timestamp,
    expires_at: Timestamp,
}

/// A statement applied, as the record tells it.
struct Event {
    action: Action,
    by: PartyId,
    issued_at: Timestamp,
    digest: Digest,
}

impl Basis {
    /// Replays `statements` through the ledger's rules, in order.
    fn lifecycle(
        &self,
        statements: &[Verified<Statement>],
        at: Timestamp,
    ) -> Result<(Vec<Event>, Status), RecordError> {
        if at < self.issued_at {
            return Err(RecordError::BeforeIssue {
                issued_at: self.issued_at,
            });
        }
        let mut state = BasisState::default();
        let mut seen = BTreeSet::new();
        let mut out = Vec::with_capacity(statements.len());
        for (index, verified) in statements.iter().enumerate() {
            let s = verified.claims();
            if s.basis != self.id || s.basis_digest != self.digest {
                return Err(RecordError::StatementAboutAnotherBasis { index });
            }
            if s.issued_at > at {
                return Err(RecordError::StatementAfterTime { index });
            }
            let digest = verified.digest();
            let record = StatementRecord {
                basis: self.key,
                action: s.action,
                statement: digest,
                issued_at: s.issued_at,
                at: s.issued_at,
                log_entry: None,
            };
            state = state
                .apply(&record, !seen.insert(digest.0))
                .map_err(|refusal| RecordError::StatementNotApplicable { index, refusal })?;
            out.push(Event {
                action: s.action,
                by: s.issued_by,
                issued_at: s.issued_at,
                digest,
            });
        }
        Ok((out, state.status()))
    }

    /// The status after the statements, at `at`: a revocation is final; then the validity
    /// window ends everything; then a pause; then the window's start.
    fn status(&self, lifecycle: Status, at: Timestamp) -> RecordStatus {
        match lifecycle {
            Status::Revoked { at } => RecordStatus::Revoked { at },
            _ if at >= self.expires_at => RecordStatus::Expired {
                at: self.expires_at,
            },
            Status::Paused { since } => RecordStatus::Paused { since },
            _ if at < self.not_before => RecordStatus::NotYetValid,
            _ => RecordStatus::Active,
        }
    }

    /// The checks every receipt passes whatever the basis's kind.
    fn check_receipt(
        &self,
        index: usize,
        receipt: &Verified<Receipt>,
        all: &[Verified<Receipt>],
        at: Timestamp,
    ) -> Result<(), RecordError> {
        let r = receipt.claims();
        if r.basis() != self.id
            || r.basis_kind() != self.key.kind()
            || r.basis_digest() != self.digest
        {
            return Err(RecordError::ReceiptAboutAnotherBasis { index });
        }
        if r.issued_at() > at {
            return Err(RecordError::ReceiptAfterTime { index });
        }
        if all[..index].iter().any(|o| o.claims().id() == r.id()) {
            return Err(RecordError::DuplicateReceipt { index });
        }
        Ok(())
    }
}

/// Whether a receipt states a transfer the grant covers, with the grant's own terms.
fn grant_covers(g: &Grant, r: &Receipt) -> bool {
    let signer = match r.representative() {
        Some((by, _)) => by,
        None => r.subject(),
    };
    r.basis_kind() == BasisKind::Grant
        && r.subject() == g.subject()
        && r.consumer() == g.consumer()
        && signer == g.expressed_by()
        && scope_covers(g.scope(), r)
        && g.data_range().contains(&r.data_range())
        && (g.onward_transfer() || !r.onward_transfer())
        && r.purpose() == g.purpose()
        && r.legal_reference().is_none()
        // Each category delivered in exactly the form the grant allows: derived where the
        // grant derives it, with its parameters; raw otherwise.
        && r
            .categories()
            .iter()
            .all(|c| derivation_of(r.derivations(), c) == g.derivation(c))
}

fn scope_covers(scope: &Scope, r: &Receipt) -> bool {
    let covered = scope.categories_at(&r.provider());
    !r.categories().is_empty() && r.categories().iter().all(|c| covered.contains(c))
}

/// The fields both kinds of record open with.
fn head(
    kind: &str,
    id: BasisId,
    digest: Digest,
    consumer: PartyId,
    basis: &Basis,
) -> Map<String, Value> {
    let mut doc = Map::new();
    doc.insert("@context".into(), json!(CONTEXT_IRI));
    doc.insert("@id".into(), json!(format!("urn:uuid:{id}")));
    doc.insert("@type".into(), json!(kind));
    doc.insert("dct:identifier".into(), json!(id.to_string()));
    doc.insert("consentry:digest".into(), json!(digest.to_hex()));
    doc.insert("dpv:hasDataController".into(), json!(party(consumer)));
    doc.insert(
        "consentry:notBefore".into(),
        json!(basis.not_before.to_string()),
    );
    doc.insert(
        "consentry:expiresAt".into(),
        json!(basis.expires_at.to_string()),
    );
    doc
}

/// The status, the time it is judged at, and the uses close every record.
fn finish(
    mut doc: Map<String, Value>,
    status: RecordStatus,
    receipts: &[Verified<Receipt>],
    at: Timestamp,
) -> Record {
    doc.insert("consentry:status".into(), json!(status.code()));
    doc.insert("consentry:statusAt".into(), json!(at.to_string()));
    doc.insert(
        "consentry:use".into(),
        Value::Array(receipts.iter().map(use_of).collect()),
    );
    Record {
        document: Value::Object(doc),
        status,
    }
}

/// One `dpv:Process` per provider of the scope: its categories, from that provider, to the
/// consumer, for the purpose, kept for the retention.
fn purpose_node(purpose: &Purpose) -> Value {
    let mut node = json!({
        "@type": "dpv:Purpose",
        "dct:identifier": purpose.code(),
    });
    if let Some(text) = purpose.text() {
        node["dct:description"] = json!(text);
    }
    node
}

fn processes(
    scope: &Scope,
    purpose: &Purpose,
    derivations: &[DerivationTerm],
    consumer: PartyId,
    retention_secs: u64,
) -> Vec<Map<String, Value>> {
    let purpose_node = purpose_node(purpose);
    scope
        .entries()
        .iter()
        .map(|entry| {
            let mut p = Map::new();
            p.insert("@type".into(), json!("dpv:Process"));
            p.insert("dpv:hasPurpose".into(), purpose_node.clone());
            p.insert(
                "dpv:hasPersonalData".into(),
                personal_data(&entry.categories, derivations),
            );
            p.insert("dpv:hasDataSource".into(), json!(party(entry.provider)));
            p.insert("dpv:hasRecipient".into(), json!(party(consumer)));
            p.insert(
                "dpv:hasStorageCondition".into(),
                json!({
                    "@type": "dpv:StorageDuration",
                    "dpv:hasDuration": {
                        "@type": "dpv:TemporalDuration",
                        "rdf:value": {"@value": duration(retention_secs), "@type": "xsd:duration"},
                    },
                }),
            );
            p
        })
        .collect()
}

/// One transfer under the basis, from its receipt.
fn use_of(receipt: &Verified<Receipt>) -> Value {
    let r = receipt.claims();
    let mut u = Map::new();
    u.insert("@id".into(), json!(format!("urn:uuid:{}", r.id())));
    u.insert("@type".into(), json!("dpv:Transfer"));
    u.insert("dct:identifier".into(), json!(r.id().to_string()));
    u.insert("consentry:digest".into(), json!(receipt.digest().to_hex()));
    u.insert(
        "consentry:request".into(),
        json!(format!("urn:uuid:{}", r.request())),
    );
    u.insert("dct:date".into(), json!(r.issued_at().to_string()));
    u.insert("dpv:hasDataSubject".into(), json!(party(r.subject())));
    u.insert("dpv:hasDataSource".into(), json!(party(r.provider())));
    u.insert("dpv:hasRecipient".into(), json!(party(r.consumer())));
    u.insert(
        "dpv:hasPersonalData".into(),
        personal_data(r.categories(), r.derivations()),
    );
    u.insert("dpv:hasPurpose".into(), purpose_node(r.purpose()));
    u.insert("consentry:dataRange".into(), range(r.data_range()));
    u.insert(
        "dpv:hasStorageCondition".into(),
        json!({
            "@type": "dpv:StorageDuration",
            "dpv:hasDuration": {
                "@type": "dpv:UntilTimeDuration",
                "rdf:value": date_time(r.retain_until()),
            },
        }),
    );
    u.insert(
        "consentry:onwardTransfer".into(),
        json!(r.onward_transfer()),
    );
    if let Some((by, kind)) = r.representative() {
        u.insert("consentry:expressedBy".into(), json!(party(by)));
        u.insert(
            "consentry:representation".into(),
            serde_json::to_value(kind).unwrap_or(Value::Null),
        );
    }
    Value::Object(u)
}

/// A lifecycle event: its DPV status types, consentry's action code, when and by whom.
fn event(types: &[&str], action: &str, at: Timestamp, by: Option<PartyId>) -> Map<String, Value> {
    let mut e = Map::new();
    e.insert("@type".into(), types_value(types));
    e.insert("consentry:action".into(), json!(action));
    e.insert("dpv:isIndicatedAtTime".into(), json!(at.to_string()));
    if let Some(by) = by {
        e.insert("dpv:isIndicatedBy".into(), json!(party(by)));
    }
    e
}

fn statement_event(types: &[&str], e: &Event) -> Value {
    let action = match e.action {
        Action::Pause => "pause",
        Action::Resume => "resume",
        _ => "revoke",
    };
    let mut node = event(types, action, e.issued_at, Some(e.by));
    node.insert("consentry:digest".into(), json!(e.digest.to_hex()));
    Value::Object(node)
}

/// The expiry, once `at` reached the end of the window, unless a revocation ended the basis
/// before.
fn expiry_event(types: &[&str], basis: &Basis, events: &[Event], at: Timestamp) -> Option<Value> {
    let revoked_before = events
        .iter()
        .any(|e| e.action == Action::Revoke && e.issued_at < basis.expires_at);
    (at >= basis.expires_at && !revoked_before)
        .then(|| Value::Object(event(types, "expire", basis.expires_at, None)))
}

fn types_value(types: &[&str]) -> Value {
    match types {
        [one] => json!(one),
        many => json!(many),
    }
}

fn party(id: PartyId) -> String {
    format!("urn:uuid:{id}")
}

/// One node per category: `dpv:PersonalData`, or `dpv:DerivedPersonalData` with
/// `consentry:derivation` and `consentry:parameters` when `derivations` (sorted by category)
/// releases it only derived.
fn personal_data(categories: &[Category], derivations: &[DerivationTerm]) -> Value {
    Value::Array(
        categories
            .iter()
            .map(|c| match derivation_of(derivations, c) {
                None => json!({"@type": "dpv:PersonalData", "dct:identifier": c.as_str()}),
                Some(t) => json!({
                    "@type": "dpv:DerivedPersonalData",
                    "dct:identifier": c.as_str(),
                    "consentry:derivation": t.derivation().as_str(),
                    "consentry:parameters": t.parameters(),
                }),
            })
            .collect(),
    )
}

fn range(r: DataRange) -> Value {
    json!({
        "consentry:from": r.from().to_string(),
        "consentry:until": r.until().to_string(),
    })
}

/// An `xsd:dateTime` literal, for `rdf:value` (whose type the context cannot fix).
fn date_time(t: Timestamp) -> Value {
    json!({"@value": t.to_string(), "@type": "xsd:dateTime"})
}

/// An `xsd:duration` in seconds.
fn duration(secs: u64) -> String {
    format!("PT{secs}S")
}
