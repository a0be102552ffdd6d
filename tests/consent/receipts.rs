//! Receipts signed inside the allow's commit: the log holds a receipt exactly when a use
//! counted, and every denial and applied statement beside them.

use super::common::{default_grant, receipt_ids, signed};
use consentry::Digest;
use consentry::Timestamp;
use consentry::decision::{Basis, Decision, Reason, Receipts, Verifier};
use consentry::ids::BasisKey;
use consentry::ledger::{
    CommitError, DecisionRecord, InMemoryLedger, Ledger, LedgerError, LifecycleRefusal,
    Observation, Snapshot, StatementRecord, Status, UseRecord, UseRefusal,
};
use consentry::log::{EntryKind, LogEntry, LogStore, Receipt, SignedTreeHead};
use consentry::signed::Verified;
use consentry::statement::Action;
use consentry::terms::AccessPattern;
use consentry::testing::{Scenario, key_for, party_for};

fn kinds(ledger: &impl LogStore) -> Vec<EntryKind> {
    let size = ledger.log_size().expect("size");
    (0..size)
        .map(|i| {
            let bytes = ledger.log_entry(i).expect("entry");
            LogEntry::from_bytes(&bytes).expect("decodes").kind()
        })
        .collect()
}

#[test]
fn an_allow_carries_its_signed_receipt_and_the_log_holds_it() {
    let s = Scenario::canteen();
    let grant = default_grant(&s);
    let request = s.sign_request(&s.request(&grant));
    let (key, ids) = (key_for("dgfip"), receipt_ids());
    let v = Verifier::new(s.verifier_provider, &s.directory, &s.ceilings, &s.ledger).with_receipts(
        Receipts {
            key: &key,
            ids: &ids,
        },
    );
    let decision = v.decide(&request, Basis::Signed(&grant), s.now);
    let allow = decision.allowed().expect("allowed");
    let bytes = allow.receipt().expect("a receipt");

    // The receipt verifies under the provider's key and states exactly the allow.
    let receipt = Verified::<Receipt>::parse_and_verify(bytes, &s.directory).expect("verifies");
    let r = receipt.claims();
    assert_eq!(
        (r.request(), r.basis(), r.subject(), r.categories()),
        (
            allow.request(),
            allow.basis(),
            allow.subject(),
            allow.categories()
        )
    );
    assert_eq!(r.issued_at(), s.now);

    // The log holds it, provably under a signed head.
    assert_eq!(kinds(&s.ledger), [EntryKind::Receipt]);
    let entry = s.ledger.log_entry(0).expect("entry");
    assert_eq!(
        LogEntry::from_bytes(&entry)
            .expect("decodes")
            .signed_bytes(),
        Some(bytes)
    );
    let (operator, op_key) = (party_for("log-operator"), key_for("log-operator"));
    let head = s.ledger.sign_head(&op_key, operator, s.now).expect("head");
    assert_eq!(s.ledger.latest_head(), Ok(Some(head.clone())));
    let head = SignedTreeHead::verify(&head, operator, &op_key.verifying_key()).expect("head");
    let proof = s
        .ledger
        .inclusion_proof(0, head.tree_size())
        .expect("proof");
    head.verify_inclusion(&entry, &proof).expect("included");
}

/// The in-memory ledger's log answers a subject's history as a store's does: the indices of
/// the entries about the subject, up to a tree size, and a copy of the whole log.
#[test]
fn the_in_memory_log_finds_a_subjects_entries_up_to_a_size() {
    let s = Scenario::canteen();
    let grant = default_grant(&s);
    let request = s.sign_request(&s.request(&grant));
    let (key, ids) = (key_for("dgfip"), receipt_ids());
    let v = Verifier::new(s.verifier_provider, &s.directory, &s.ceilings, &s.ledger).with_receipts(
        Receipts {
            key: &key,
            ids: &ids,
        },
    );
    assert!(v.decide(&request, Basis::Signed(&grant), s.now).is_allow());
    // The same request again: a replay, denied and logged, about the same subject.
    assert!(!v.decide(&request, Basis::Signed(&grant), s.now).is_allow());
    assert_eq!(kinds(&s.ledger), [EntryKind::Receipt, EntryKind::Denial]);
    assert_eq!(s.ledger.indices_about(&s.parent, 2), Ok(vec![0, 1]));
    assert_eq!(s.ledger.indices_about(&s.parent, 1), Ok(vec![0]));
    assert_eq!(s.ledger.indices_about(&s.parent, 0), Ok(vec![]));
    assert_eq!(s.ledger.indices_about(&s.child, 2), Ok(vec![]));
    let log = s.ledger.transfer_log();
    assert_eq!(log.len(), 2);
    assert_eq!(Ok(log.root()), s.ledger.log_root_at(2));
}

#[test]
fn without_receipts_nothing_is_logged() {
    let s = Scenario::canteen();
    let grant = default_grant(&s);
    let d = s.decide(&s.sign_request(&s.request(&grant)), &grant);
    assert_eq!(d.allowed().map(|a| a.receipt()), Some(None));
    assert_eq!(s.ledger.log_size(), Ok(0));
}

#[test]
fn denials_and_applied_statements_are_logged_refused_statements_are_not() {
    let s = Scenario::canteen();
    let grant = signed(&s, s.grant().access(AccessPattern::one_time()));
    let (key, ids) = (key_for("dgfip"), receipt_ids());
    let v = Verifier::new(s.verifier_provider, &s.directory, &s.ceilings, &s.ledger).with_receipts(
        Receipts {
            key: &key,
            ids: &ids,
        },
    );
    let decide = || {
        v.decide(
            &s.sign_request(&s.request(&grant)),
            Basis::Signed(&grant),
            s.now,
        )
    };
    assert!(decide().is_allow());
    assert_eq!(decide().reasons(), [Reason::OneTimeUsed]);
    let revoke = s.statement(&grant, Action::Revoke, s.parent);
    assert!(
        v.apply_statement(&revoke, Basis::Signed(&grant), s.now)
            .is_ok()
    );
    // Applied once; the second time it is refused (revocation is final) and not logged.
    assert!(
        v.apply_statement(&revoke, Basis::Signed(&grant), s.now)
            .is_err()
    );
    assert_eq!(
        kinds(&s.ledger),
        [EntryKind::Receipt, EntryKind::Denial, EntryKind::Statement]
    );
    let denial = LogEntry::from_bytes(&s.ledger.log_entry(1).expect("entry")).expect("decodes");
    match denial {
        LogEntry::Denial(d) => {
            assert_eq!(d.reasons(), ["one_time_used"]);
            assert_eq!(d.subject(), Some(s.parent));
        }
        other => panic!("not a denial: {other:?}"),
    }
}

/// The scenario's ledger, whose commit of a use fails in storage once.
struct FailingCommit<'a>(&'a InMemoryLedger);

impl Ledger for FailingCommit<'_> {
    fn observe(&self, o: &Observation) -> Result<Snapshot, LedgerError> {
        self.0.observe(o)
    }
    fn record_use(&self, _: &UseRecord<'_>) -> Result<(), CommitError<Vec<UseRefusal>>> {
        Err(LedgerError::Unavailable("disk full".into()).into())
    }
    fn record_statement(
        &self,
        r: &StatementRecord<'_>,
    ) -> Result<Status, CommitError<LifecycleRefusal>> {
        self.0.record_statement(r)
    }
    fn record_existence(
        &self,
        b: BasisKey,
        d: Digest,
        at: Timestamp,
    ) -> Result<Timestamp, LedgerError> {
        self.0.record_existence(b, d, at)
    }
    fn record_decision(&self, r: DecisionRecord, e: Option<&[u8]>) -> Result<(), LedgerError> {
        self.0.record_decision(r, e)
    }
}

#[test]
fn a_commit_that_fails_logs_no_receipt_and_the_use_stays_available() {
    let s = Scenario::canteen();
    let grant = signed(&s, s.grant().access(AccessPattern::one_time()));
    let (key, ids) = (key_for("dgfip"), receipt_ids());
    let receipts = Receipts {
        key: &key,
        ids: &ids,
    };
    let failing = FailingCommit(&s.ledger);
    let d = Verifier::new(s.verifier_provider, &s.directory, &s.ceilings, &failing)
        .with_receipts(receipts)
        .decide(
            &s.sign_request(&s.request(&grant)),
            Basis::Signed(&grant),
            s.now,
        );
    assert!(matches!(
        d.reasons(),
        [Reason::LedgerUnavailable {
            error: LedgerError::Unavailable(_)
        }]
    ));
    // Only the denial is logged; the one-time grant is still unused.
    assert_eq!(kinds(&s.ledger), [EntryKind::Denial]);
    let d = Verifier::new(s.verifier_provider, &s.directory, &s.ceilings, &s.ledger)
        .with_receipts(receipts)
        .decide(
            &s.sign_request(&s.request(&grant)),
            Basis::Signed(&grant),
            s.now,
        );
    assert!(matches!(d, Decision::Allow(_)));
    assert_eq!(kinds(&s.ledger), [EntryKind::Denial, EntryKind::Receipt]);
}
