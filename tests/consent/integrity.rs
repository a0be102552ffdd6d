//! The state-integrity attacks: each test reproduces one attack that succeeded against the
//! ledger keyed by basis id alone, the unbounded time rules and the caller-attributed log, and
//! pins what now stops it. `docs/threat-model.md` lists them in the same order.

use super::common::{default_grant, signed};
use consentry::decision::{
    Basis, Decision, ExistenceEvidence, ExistenceRefusal, Reason, StatementRefusal, Verifier,
};
use consentry::directory::{Directory, PartyId, Representation, RepresentationKind};
use consentry::grant::{Grant, GrantBuilder};
use consentry::ids::{BasisId, RequestId};
use consentry::ledger::{
    CommitError, DecisionRecord, InMemoryLedger, Ledger, LedgerError, LifecycleRefusal,
    Observation, Snapshot, StatementRecord, Status, UseRecord, UseRefusal,
};
use consentry::log::{Denial, LogEntry, LogError, SignedTreeHead, TransferLog, compare_heads};
use consentry::signed::{SignedPayload, Unverified};
use consentry::statement::{Action, Statement};
use consentry::terms::{AccessPattern, DataRange};
use consentry::testing::{Scenario, canteen_purpose, key_for, party_for, quotient_familial, rfr};
use consentry::{Digest, Timestamp};

const DAY: u64 = 86_400;

fn decide_default(s: &Scenario, basis: &[u8]) -> Decision {
    s.decide(&s.sign_request(&s.request(basis)), basis)
}

/// The id a signed grant or habilitation names.
fn id_of(basis: &[u8]) -> BasisId {
    Unverified::<Grant>::parse(basis)
        .map(|g| g.claims().id())
        .or_else(|_| {
            Unverified::<consentry::habilitation::Habilitation>::parse(basis)
                .map(|h| h.claims().id())
        })
        .expect("a basis")
}

/// The canteen grant's terms with any id, subject and consumer.
fn grant_with(s: &Scenario, id: BasisId, subject: PartyId, consumer: PartyId) -> GrantBuilder {
    Grant::builder(id, subject, consumer, canteen_purpose())
        .cover(s.dgfip, [rfr()])
        .issued_at(s.now)
        .valid(s.now, s.now.plus_secs(365 * DAY))
        .access(AccessPattern::MONTHLY)
        .data_range(DataRange::year(2025).unwrap())
        .retention_secs(365 * DAY)
}

/// A grant by `subject` (signed by `by`) reusing `id`: someone else's basis id.
fn colliding_grant(s: &Scenario, id: BasisId, subject: PartyId, by: PartyId) -> Vec<u8> {
    signed(s, grant_with(s, id, subject, s.mairie).expressed_by(by))
}

/// A statement about `basis` by `by`, issued at `at`.
fn statement_at(s: &Scenario, basis: &[u8], action: Action, by: PartyId, at: Timestamp) -> Vec<u8> {
    Statement {
        basis: id_of(basis),
        basis_digest: Digest::of(basis),
        action,
        issued_by: by,
        issued_at: at,
    }
    .sign(s.key(by))
}

/// The scenario's directory with FranceConnect's mandate for the parent replaced by one valid
/// over `[from, until)`.
fn with_mandate(s: &mut Scenario, from: Timestamp, until: Option<Timestamp>) {
    let mut directory = Directory::new();
    for party in s.directory.parties() {
        directory.add_party(party.clone()).unwrap();
    }
    for rep in s.directory.representations() {
        let rep = if rep.representative == s.franceconnect {
            Representation {
                valid_from: from,
                valid_until: until,
                ..rep.clone()
            }
        } else {
            rep.clone()
        };
        directory.add_representation(rep).unwrap();
    }
    s.directory = directory;
}

// ------------------------------------------------------------ 1. basis-id collision

/// Another citizen signs a grant of their own with the parent's grant id and resumes it: the
/// parent's paused grant stays paused.
#[test]
fn a_colliding_id_cannot_resume_someone_elses_pause() {
    let s = Scenario::canteen();
    let victim = default_grant(&s);
    assert!(matches!(
        s.apply(&s.statement(&victim, Action::Pause, s.parent), &victim),
        Ok(Status::Paused { .. })
    ));
    let own = colliding_grant(&s, id_of(&victim), s.child, s.child);
    assert_eq!(
        s.apply(&s.statement(&own, Action::Resume, s.child), &own),
        Ok(Status::Active)
    );
    assert_eq!(decide_default(&s, &victim).codes(), ["paused"]);
}

/// A citizen reusing a habilitation's id cannot resume what its authority paused.
#[test]
fn a_colliding_id_cannot_resume_a_paused_habilitation() {
    let s = Scenario::canteen();
    let h = s.habilitation().sign(s.key(s.authority));
    s.apply(&s.statement(&h, Action::Pause, s.authority), &h)
        .unwrap();
    let own = colliding_grant(&s, id_of(&h), s.child, s.child);
    assert_eq!(
        s.apply(&s.statement(&own, Action::Resume, s.child), &own),
        Ok(Status::Active)
    );
    assert_eq!(decide_default(&s, &h).codes(), ["paused"]);
}

/// Revocation is final, so a revocation through a colliding id would end someone else's
/// grant for good; a consent manager with a mandate from one citizen cannot reach another's.
#[test]
fn a_colliding_id_cannot_revoke_someone_elses_grant() {
    let s = Scenario::canteen();
    let victim = default_grant(&s);
    let own = colliding_grant(&s, id_of(&victim), s.child, s.child);
    s.apply(&s.statement(&own, Action::Revoke, s.child), &own)
        .unwrap();
    assert!(decide_default(&s, &victim).is_allow());
    // FranceConnect holds the parent's mandate, not the child's: its grant for the parent
    // with the id of the child's grant is another basis.
    let child_grant = colliding_grant(&s, BasisId(s.next_uuid()), s.child, s.parent);
    let fc = colliding_grant(&s, id_of(&child_grant), s.parent, s.franceconnect);
    s.apply(&s.statement(&fc, Action::Revoke, s.franceconnect), &fc)
        .unwrap();
    let request = {
        let mut r = s.request(&child_grant);
        r = r
            .to_builder()
            .subject(s.child)
            .build()
            .expect("valid request");
        s.sign_request(&r)
    };
    assert!(s.decide(&request, &child_grant).is_allow());
}

/// A victim's unused one-time grant is not used up by a use of a colliding grant.
#[test]
fn a_colliding_id_cannot_use_up_someone_elses_quota() {
    let s = Scenario::canteen();
    let victim = signed(&s, s.grant().access(AccessPattern::one_time()));
    let own = signed(
        &s,
        grant_with(&s, id_of(&victim), s.child, s.mairie).access(AccessPattern::one_time()),
    );
    assert!(decide_default(&s, &own).is_allow());
    assert!(decide_default(&s, &victim).is_allow());
    assert_eq!(decide_default(&s, &victim).codes(), ["one_time_used"]);
}

// ------------------------------------------------------------ 2. future-dated bases

/// A consent manager whose mandate starts next month dates its grant next month: refused
/// today, as the honestly dated grant is.
#[test]
fn a_basis_dated_beyond_the_skew_is_refused() {
    let mut s = Scenario::canteen();
    let next_month = s.now.plus_secs(30 * DAY);
    with_mandate(&mut s, next_month, None);
    let honest = signed(&s, s.grant().expressed_by(s.franceconnect));
    assert_eq!(
        decide_default(&s, &honest).codes(),
        ["representation_not_valid"]
    );
    let dated = signed(
        &s,
        s.grant()
            .expressed_by(s.franceconnect)
            .issued_at(next_month),
    );
    assert_eq!(
        reasons_of(&decide_default(&s, &dated)),
        [Reason::BasisFromFuture {
            issued_at: next_month
        }]
    );
    // Within the skew tolerance a basis is accepted.
    let skewed = signed(&s, s.grant().issued_at(s.now.plus_secs(120)));
    assert!(decide_default(&s, &skewed).is_allow());
    let beyond = signed(&s, s.grant().issued_at(s.now.plus_secs(121)));
    assert_eq!(decide_default(&s, &beyond).codes(), ["basis_from_future"]);
}

fn reasons_of(d: &Decision) -> Vec<Reason> {
    d.reasons().to_vec()
}

// ------------------------------------------------------------ 3. statement time rules

/// A resume dated within the skew ahead no longer locks out the subject's pause a minute
/// later: statements are ordered by when they are applied.
#[test]
fn a_statement_dated_ahead_cannot_lock_out_the_subjects_pause() {
    let mut s = Scenario::canteen();
    let grant = default_grant(&s);
    let ahead = statement_at(
        &s,
        &grant,
        Action::Resume,
        s.franceconnect,
        s.now.plus_secs(110),
    );
    assert_eq!(s.apply(&ahead, &grant), Ok(Status::Active));
    s.now = s.now.plus_secs(60);
    let pause = s.statement(&grant, Action::Pause, s.parent);
    assert_eq!(s.apply(&pause, &grant), Ok(Status::Paused { since: s.now }));
    assert_eq!(decide_default(&s, &grant).codes(), ["paused"]);
}

/// A statement older than the freshness window is refused (a stolen key or a former
/// representative backdating); one from beyond the skew too.
#[test]
fn a_stale_or_future_statement_is_refused() {
    let s = Scenario::canteen();
    let grant = default_grant(&s);
    let stale_at = s.now.minus_secs(301);
    let stale = statement_at(&s, &grant, Action::Revoke, s.parent, stale_at);
    assert_eq!(
        s.apply(&stale, &grant),
        Err(StatementRefusal::TooOld {
            issued_at: stale_at
        })
    );
    let fresh_enough = statement_at(&s, &grant, Action::Pause, s.parent, s.now.minus_secs(300));
    assert!(s.apply(&fresh_enough, &grant).is_ok());
    let future_at = s.now.plus_secs(121);
    let future = statement_at(&s, &grant, Action::Resume, s.parent, future_at);
    assert_eq!(
        s.apply(&future, &grant),
        Err(StatementRefusal::FromFuture {
            issued_at: future_at
        })
    );
}

/// A representative must be entitled when the statement is applied too: one signed just
/// before the mandate ended and presented after is refused.
#[test]
fn a_statement_from_a_former_representative_is_refused() {
    let mut s = Scenario::canteen();
    let grant = default_grant(&s);
    let end = s.now.plus_secs(60);
    with_mandate(&mut s, Timestamp::from_secs(0), Some(end));
    let before_end = statement_at(
        &s,
        &grant,
        Action::Revoke,
        s.franceconnect,
        end.minus_secs(10),
    );
    s.now = end.plus_secs(10);
    assert_eq!(
        s.apply(&before_end, &grant),
        Err(StatementRefusal::NotEntitled {
            signer: s.franceconnect
        })
    );
    assert!(decide_default(&s, &grant).is_allow());
}

/// A resume a consent manager signed before the subject's pause cannot lift it.
#[test]
fn a_resume_issued_before_the_subjects_pause_cannot_lift_it() {
    let mut s = Scenario::canteen();
    let grant = default_grant(&s);
    let early = s.statement(&grant, Action::Resume, s.franceconnect);
    s.now = s.now.plus_secs(30);
    let pause_at = s.now;
    s.apply(&s.statement(&grant, Action::Pause, s.parent), &grant)
        .unwrap();
    s.now = s.now.plus_secs(30);
    assert_eq!(
        s.apply(&early, &grant),
        Err(StatementRefusal::Ledger(
            LifecycleRefusal::ResumePredatesPause {
                pause_issued_at: pause_at
            }
        ))
    );
    assert_eq!(decide_default(&s, &grant).codes(), ["paused"]);
}

// ------------------------------------------------------------ 4. habilitation range

#[test]
fn a_habilitation_request_range_is_bounded_by_the_ceiling() {
    let s = Scenario::canteen();
    let h = s.habilitation().sign(s.key(s.authority));
    let mut r = s.request(&h);
    let everything =
        DataRange::new(Timestamp::from_secs(0), Timestamp::from_secs(u64::MAX)).unwrap();
    r = r
        .to_builder()
        .data_range(everything)
        .build()
        .expect("valid request");
    let d = s.decide(&s.sign_request(&r), &h);
    assert_eq!(
        reasons_of(&d),
        [Reason::DataRangeTooLong {
            requested: everything,
            max_secs: 366 * DAY,
        }]
    );
    // At the ceiling's length it is allowed.
    let r = s
        .request(&h)
        .to_builder()
        .data_range(
            DataRange::new(
                Timestamp::from_secs(1_735_689_600),
                Timestamp::from_secs(1_735_689_600 + 366 * DAY),
            )
            .unwrap(),
        )
        .build()
        .unwrap();
    assert!(s.decide(&s.sign_request(&r), &h).is_allow());
}

// ------------------------------------------------------------ 5. replay under clock skew

/// Two verifiers share a ledger, one clock a second ahead of the other. The fast one's
/// commit must not forget an id the slow one still judges fresh.
#[test]
fn a_verifier_running_ahead_does_not_forget_ids_the_other_still_accepts() {
    let s = Scenario::canteen();
    let h = s.habilitation().sign(s.key(s.authority));
    let issued = s.now;
    let replayed = s.sign_request(&s.request(&h));
    let verifier = Verifier::new(s.dgfip, &s.directory, &s.ceilings, &s.ledger);
    let slow = issued.plus_secs(299);
    assert!(
        verifier
            .decide(&replayed, Basis::Signed(&h), slow)
            .is_allow()
    );
    // The fast verifier allows another request a second past the first one's freshness.
    let fast = issued.plus_secs(301);
    let mut other = s.request(&h);
    other = other
        .to_builder()
        .issued_at(fast)
        .build()
        .expect("valid request");
    assert!(
        verifier
            .decide(&s.sign_request(&other), Basis::Signed(&h), fast)
            .is_allow()
    );
    // The slow verifier, one second behind, sees the replay.
    let d = verifier.decide(&replayed, Basis::Signed(&h), issued.plus_secs(300));
    assert_eq!(d.codes(), ["replayed_request"]);
}

// ------------------------------------------------------------ 6. replay per consumer

/// One consumer cannot burn another's request ids.
#[test]
fn request_ids_are_remembered_per_consumer() {
    let s = Scenario::canteen();
    let to_other = signed(
        &s,
        grant_with(&s, BasisId(s.next_uuid()), s.parent, s.other_consumer),
    );
    let mairie_grant = default_grant(&s);
    let shared_id = RequestId(s.next_uuid());
    let mut burn = s.request(&to_other);
    burn = burn
        .to_builder()
        .id(shared_id)
        .build()
        .expect("valid request");
    assert!(s.decide(&s.sign_request(&burn), &to_other).is_allow());
    let mut own = s.request(&mairie_grant);
    own = own
        .to_builder()
        .id(shared_id)
        .build()
        .expect("valid request");
    assert!(s.decide(&s.sign_request(&own), &mairie_grant).is_allow());
}

// ------------------------------------------------------------ 7. quotas per provider

/// Each provider keeps its own ledger: a one-time grant covering two providers allows one
/// transfer at each, as docs/format.md states.
#[test]
fn one_time_quotas_count_per_provider() {
    let s = Scenario::canteen();
    let grant = signed(
        &s,
        s.grant()
            .cover(s.cnaf, [quotient_familial()])
            .access(AccessPattern::one_time()),
    );
    let cnaf_ledger = InMemoryLedger::new();
    let at_cnaf = Verifier::new(s.cnaf, &s.directory, &s.ceilings, &cnaf_ledger);
    let cnaf_request = || {
        let mut r = s.request(&grant);
        r = r
            .to_builder()
            .provider(s.cnaf)
            .build()
            .expect("valid request");
        r = r
            .to_builder()
            .categories(vec![quotient_familial()])
            .build()
            .expect("valid request");
        s.sign_request(&r)
    };
    assert!(decide_default(&s, &grant).is_allow());
    assert!(
        at_cnaf
            .decide(&cnaf_request(), Basis::Signed(&grant), s.now)
            .is_allow()
    );
    assert_eq!(decide_default(&s, &grant).codes(), ["one_time_used"]);
    assert_eq!(
        at_cnaf
            .decide(&cnaf_request(), Basis::Signed(&grant), s.now)
            .codes(),
        ["one_time_used"]
    );
}

// ------------------------------------------------------------ 8. first sightings

/// A thief with the parent's key signs a grant backdated before the compromise report: the
/// ledger first sees it after the report, and refuses it.
#[test]
fn a_grant_backdated_before_a_compromise_is_refused() {
    let mut s = Scenario::canteen();
    let before = s.now;
    s.advance_days(2);
    let reported = s.now;
    s.directory
        .report_compromise(&s.key(s.parent).key_id(), reported)
        .unwrap();
    let backdated = signed(
        &s,
        s.grant()
            .issued_at(before)
            .valid(before, before.plus_secs(300 * DAY)),
    );
    assert_eq!(
        reasons_of(&decide_default(&s, &backdated)),
        [Reason::FirstSeenAfterCompromise {
            first_seen: s.now,
            compromised_at: reported,
        }]
    );
}

/// A former consent manager backdates a grant into its ended mandate: refused.
#[test]
fn a_grant_backdated_into_an_ended_mandate_is_refused() {
    let mut s = Scenario::canteen();
    let during = s.now;
    let end = s.now.plus_secs(DAY);
    with_mandate(&mut s, Timestamp::from_secs(0), Some(end));
    s.now = end.plus_secs(DAY);
    let backdated = signed(
        &s,
        s.grant()
            .expressed_by(s.franceconnect)
            .issued_at(during)
            .valid(during, during.plus_secs(300 * DAY)),
    );
    assert_eq!(
        reasons_of(&decide_default(&s, &backdated)),
        [Reason::FirstSeenAfterRepresentationEnded {
            link: 0,
            representative: s.franceconnect,
            represented: s.parent,
            first_seen: s.now,
            ended_at: end,
        }]
    );
}

/// An honest grant never used before the compromise is saved by its "grant issued" entry in
/// the provider's log under a head signed before the report.
#[test]
fn a_log_proof_of_earlier_existence_saves_an_honest_grant() {
    let mut s = Scenario::canteen();
    let grant = default_grant(&s);
    let other = default_grant(&s);
    let mut log = TransferLog::new();
    let entry = LogEntry::grant_issued(grant.clone()).unwrap();
    let index = log.append(&entry);
    let head = log.sign_head(s.key(s.dgfip), s.dgfip, s.now.plus_secs(60));
    let proof = log.inclusion_proof(index, log.len()).unwrap();
    s.advance_days(2);
    s.directory
        .report_compromise(&s.key(s.parent).key_id(), s.now)
        .unwrap();
    assert_eq!(
        decide_default(&s, &grant).codes(),
        ["first_seen_after_compromise"]
    );
    let evidence = ExistenceEvidence {
        entry: &entry.to_bytes(),
        proof: &proof,
        head: &head,
    };
    let verifier = s.verifier();
    // Only a trusted log's head counts.
    assert_eq!(
        verifier.record_existence(Basis::Signed(&grant), &evidence, &[s.cnaf], s.now),
        Err(ExistenceRefusal::UntrustedLog(s.dgfip))
    );
    // The entry must be this grant's issue.
    assert_eq!(
        verifier.record_existence(Basis::Signed(&other), &evidence, &[s.dgfip], s.now),
        Err(ExistenceRefusal::OtherObject)
    );
    // A habilitation is not logged as issued.
    let h = s.habilitation().sign(s.key(s.authority));
    assert_eq!(
        verifier.record_existence(Basis::Signed(&h), &evidence, &[s.dgfip], s.now),
        Err(ExistenceRefusal::NotAGrant)
    );
    // A proof that does not lead to the head's root.
    let mut wrong = proof.clone();
    wrong.leaf_index ^= 1;
    let bad = ExistenceEvidence {
        proof: &wrong,
        ..evidence
    };
    let refused = verifier.record_existence(Basis::Signed(&grant), &bad, &[s.dgfip], s.now);
    assert!(
        matches!(refused, Err(ExistenceRefusal::Log(_))),
        "{refused:?}"
    );
    assert_eq!(refused.unwrap_err().code(), "log_proof_invalid");
    // A head dated beyond the skew tolerance.
    let future_head = log.sign_head(s.key(s.dgfip), s.dgfip, s.now.plus_secs(121));
    let future = ExistenceEvidence {
        head: &future_head,
        ..evidence
    };
    assert_eq!(
        verifier.record_existence(Basis::Signed(&grant), &future, &[s.dgfip], s.now),
        Err(ExistenceRefusal::HeadFromFuture {
            timestamp: s.now.plus_secs(121)
        })
    );
    // A head at exactly the tolerance counts (it proves nothing earlier than the sighting
    // already kept, which stays).
    let edge_head = log.sign_head(s.key(s.dgfip), s.dgfip, s.now.plus_secs(120));
    let edge = ExistenceEvidence {
        head: &edge_head,
        ..evidence
    };
    assert_eq!(
        verifier.record_existence(Basis::Signed(&grant), &edge, &[s.dgfip], s.now),
        Ok(s.now)
    );
    let first_seen = s.now.minus_secs(2 * DAY).plus_secs(60);
    assert_eq!(
        verifier.record_existence(Basis::Signed(&grant), &evidence, &[s.dgfip], s.now),
        Ok(first_seen)
    );
    assert!(decide_default(&s, &grant).is_allow());
}

// ------------------------------------------------------------ 9. log attribution

/// Junk requests naming a child leave no entry in the child's history: a denial is
/// attributed only from verified data (the authenticated request, else the verified grant,
/// else nobody).
#[test]
fn an_unauthenticated_request_is_attributed_to_nobody() {
    let s = Scenario::canteen();
    let grant = default_grant(&s);
    let mut naming_child = s.request(&grant);
    naming_child = naming_child
        .to_builder()
        .subject(s.child)
        .build()
        .expect("valid request");
    // Signed with a key nobody holds, and the mairie's signature over other bytes.
    let unknown = naming_child.sign(&key_for("stranger"));
    let mut forged = s.sign_request(&naming_child);
    let last = forged.len() - 1;
    forged[last] ^= 1;
    let mut log = TransferLog::new();
    for (request, basis, subject) in [
        (&unknown, &grant[..], Some(s.parent)),
        (&forged, &grant[..], Some(s.parent)),
        (&forged, &b"not a grant"[..], None),
    ] {
        let decision = s.decide(request, basis);
        let record = s.ledger.take_decisions().pop().unwrap();
        assert_eq!(record.subject(), subject);
        let denial = Denial::for_decision(&decision).expect("a denial");
        assert_eq!(denial.subject(), subject);
        log.append(&LogEntry::Denial(denial));
    }
    assert!(log.indices_about(&s.child).is_empty());
    // An authenticated request is attributed to its subject, a known consumer's claim.
    let authentic = s.sign_request(&naming_child);
    assert_eq!(s.decide(&authentic, &grant).codes(), ["subject_mismatch"]);
    let record = s.ledger.take_decisions().pop().unwrap();
    assert_eq!(record.subject(), Some(s.child));
}

// ------------------------------------------------------------ 10. heads bound to keys

#[test]
fn a_head_signed_by_another_key_is_not_fork_evidence() {
    let s = Scenario::canteen();
    let operator = party_for("log-operator");
    let key = key_for("log-operator");
    let mut log = TransferLog::new();
    log.append(&LogEntry::grant_issued(default_grant(&s)).unwrap());
    let genuine = SignedTreeHead::verify(
        &log.sign_head(&key, operator, s.now),
        operator,
        &key.verifying_key(),
    )
    .unwrap();
    // Someone signs a head naming the operator's log, over another tree.
    let mut other = TransferLog::new();
    other.append(&LogEntry::grant_issued(default_grant(&s)).unwrap());
    let stranger = key_for("stranger");
    let forged = other.sign_head(&stranger, operator, s.now);
    let forged = SignedTreeHead::verify(&forged, operator, &stranger.verifying_key()).unwrap();
    assert!(matches!(
        compare_heads(&genuine, &forged, None),
        Err(LogError::WrongKey { .. })
    ));
    assert!(matches!(
        compare_heads(&forged, &genuine, None),
        Err(LogError::WrongKey { .. })
    ));
    // A monitor refuses it for its key, before judging its size (not a rollback, not a fork).
    let mut monitor = consentry::log::HeadMonitor::starting_at(genuine.clone());
    assert!(matches!(
        monitor.observe(forged, None),
        Err(LogError::WrongKey { .. })
    ));
    let smaller = TransferLog::new().sign_head(&stranger, operator, s.now);
    let smaller = SignedTreeHead::verify(&smaller, operator, &stranger.verifying_key()).unwrap();
    assert!(matches!(
        monitor.observe(smaller, None),
        Err(LogError::WrongKey { .. })
    ));
    // A head the directory vouches for and one checked against a key given by hand are not
    // compared unless they share the key: the directory vouches for one of them only.
    let vouched = SignedTreeHead::verify_with_directory(
        &log.sign_head(s.key(s.dgfip), s.dgfip, s.now),
        &s.directory,
    )
    .unwrap();
    let unvouched = other.sign_head(&stranger, s.dgfip, s.now);
    let unvouched = SignedTreeHead::verify(&unvouched, s.dgfip, &stranger.verifying_key()).unwrap();
    assert!(matches!(
        compare_heads(&vouched, &unvouched, None),
        Err(LogError::WrongKey { .. })
    ));
    assert!(matches!(
        compare_heads(&unvouched, &vouched, None),
        Err(LogError::WrongKey { .. })
    ));
    // A head naming another log is refused for this one.
    let elsewhere = log.sign_head(&key, party_for("another log"), s.now);
    assert!(matches!(
        SignedTreeHead::verify(&elsewhere, operator, &key.verifying_key()),
        Err(LogError::WrongLog { .. })
    ));
}

// ------------------------------------------------------------ 11. what a receipt carries

#[test]
fn a_receipt_carries_onward_transfer_and_who_consented_for_whom() {
    let s = Scenario::canteen();
    let grant = signed(
        &s,
        s.grant()
            .expressed_by(s.franceconnect)
            .allow_onward_transfer(),
    );
    let d = decide_default(&s, &grant);
    let allow = d.allowed().expect("allowed");
    let bytes = consentry::log::Receipt::for_authorization(allow, s.next_uuid(), s.now)
        .sign(s.key(s.dgfip));
    let receipt = Unverified::<consentry::log::Receipt>::parse(&bytes).unwrap();
    assert!(receipt.claims().onward_transfer());
    assert_eq!(
        receipt.claims().representative(),
        Some((s.franceconnect, RepresentationKind::Mandate))
    );
    // The subject's own grant, without onward transfer: neither.
    let own = default_grant(&s);
    let d = decide_default(&s, &own);
    let plain =
        consentry::log::Receipt::for_authorization(d.allowed().unwrap(), s.next_uuid(), s.now);
    assert!(!plain.onward_transfer());
    assert_eq!(plain.representative(), None);
}

// ------------------------------------------------------------ the ledger fails closed

/// A ledger whose storage is down.
struct DownLedger;

fn down() -> LedgerError {
    LedgerError::Unavailable("the store is down".into())
}

impl Ledger for DownLedger {
    fn observe(&self, _: &Observation) -> Result<Snapshot, LedgerError> {
        Err(down())
    }
    fn record_use(&self, _: &UseRecord<'_>) -> Result<(), CommitError<Vec<UseRefusal>>> {
        Err(down().into())
    }
    fn record_statement(
        &self,
        _: &StatementRecord<'_>,
    ) -> Result<Status, CommitError<LifecycleRefusal>> {
        Err(down().into())
    }
    fn record_existence(
        &self,
        _: consentry::ids::BasisKey,
        _: Digest,
        _: Timestamp,
    ) -> Result<Timestamp, LedgerError> {
        Err(down())
    }
    fn record_decision(&self, _: DecisionRecord, _: Option<&[u8]>) -> Result<(), LedgerError> {
        Err(down())
    }
}

#[test]
fn a_ledger_that_fails_denies_and_applies_nothing() {
    let s = Scenario::canteen();
    let grant = default_grant(&s);
    let verifier = Verifier::new(s.dgfip, &s.directory, &s.ceilings, &DownLedger);
    let d = verifier.decide(
        &s.sign_request(&s.request(&grant)),
        Basis::Signed(&grant),
        s.now,
    );
    assert_eq!(
        reasons_of(&d),
        [Reason::LedgerUnavailable { error: down() }]
    );
    assert_eq!(
        verifier.apply_statement(
            &s.statement(&grant, Action::Revoke, s.parent),
            Basis::Signed(&grant),
            s.now
        ),
        Err(StatementRefusal::LedgerUnavailable(down()))
    );
    // Valid evidence of an earlier existence is not recorded either.
    let mut log = TransferLog::new();
    let entry = LogEntry::grant_issued(grant.clone()).unwrap();
    let index = log.append(&entry);
    let evidence = ExistenceEvidence {
        entry: &entry.to_bytes(),
        proof: &log.inclusion_proof(index, log.len()).unwrap(),
        head: &log.sign_head(s.key(s.dgfip), s.dgfip, s.now),
    };
    assert_eq!(
        verifier.record_existence(Basis::Signed(&grant), &evidence, &[s.dgfip], s.now),
        Err(ExistenceRefusal::LedgerUnavailable(down()))
    );
    // Other failed rules are still all reported.
    let mut r = s.request(&grant);
    r = r
        .to_builder()
        .purpose(consentry::vocab::Purpose::new("social:aide_logement").unwrap())
        .build()
        .expect("valid request");
    let d = verifier.decide(&s.sign_request(&r), Basis::Signed(&grant), s.now);
    assert_eq!(d.codes(), ["purpose_mismatch", "ledger_unavailable"]);
}
