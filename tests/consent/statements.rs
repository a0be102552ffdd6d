//! Lifecycle statements at their edges: the clock-skew boundary, a mandate without the
//! consent-manager role, and the stable codes of every refusal.

use super::common::{default_grant, rebuild_directory};
use consentry::decision::StatementRefusal;
use consentry::directory::{Party, Role};
use consentry::ledger::{LedgerError, LifecycleRefusal, Status};
use consentry::signed::SignedPayload;
use consentry::statement::{Action, Statement};
use consentry::testing::Scenario;
use consentry::{Digest, Timestamp};

fn pause_at(s: &Scenario, grant: &[u8], at: Timestamp) -> Vec<u8> {
    let id = consentry::signed::Unverified::<consentry::grant::Grant>::parse(grant)
        .unwrap()
        .claims()
        .id();
    Statement {
        basis: id,
        basis_digest: Digest::of(grant),
        action: Action::Pause,
        issued_by: s.parent,
        issued_at: at,
    }
    .sign(s.key(s.parent))
}

#[test]
fn a_statement_at_exactly_the_skew_tolerance_is_applied_one_second_more_is_not() {
    let s = Scenario::canteen();
    let grant = default_grant(&s);
    let skew = s.verifier().policy().max_skew_secs;
    let late = pause_at(&s, &grant, s.now.plus_secs(skew + 1));
    assert_eq!(
        s.apply(&late, &grant),
        Err(StatementRefusal::FromFuture {
            issued_at: s.now.plus_secs(skew + 1)
        })
    );
    let edge = pause_at(&s, &grant, s.now.plus_secs(skew));
    assert_eq!(s.apply(&edge, &grant), Ok(Status::Paused { since: s.now }));
}

#[test]
fn a_verifier_keeps_the_policy_it_is_given() {
    let s = Scenario::canteen();
    let policy = consentry::decision::Policy {
        max_skew_secs: 7,
        max_request_age_secs: 11,
    };
    assert_eq!(s.verifier().with_policy(policy).policy(), policy);
    assert_ne!(s.verifier().policy(), policy);
}

#[test]
fn a_mandate_counts_only_for_a_consent_manager() {
    let mut s = Scenario::canteen();
    let grant = default_grant(&s);
    let fc = s.franceconnect;
    // FranceConnect keeps its mandate from the parent but loses the consent-manager role.
    rebuild_directory(&mut s, |p: Party| {
        if p.id == fc {
            Party {
                roles: vec![Role::Consumer],
                ..p
            }
        } else {
            p
        }
    });
    let pause = s.statement(&grant, Action::Pause, fc);
    assert_eq!(
        s.apply(&pause, &grant),
        Err(StatementRefusal::NotEntitled { signer: fc })
    );
}

#[test]
fn every_statement_refusal_has_its_stable_code() {
    let s = Scenario::canteen();
    let grant = default_grant(&s);
    let cases = [
        (StatementRefusal::BasisMismatch, "basis_mismatch"),
        (StatementRefusal::BasisHashMismatch, "basis_hash_mismatch"),
        (
            StatementRefusal::NotEntitled { signer: s.parent },
            "signer_not_entitled",
        ),
        (
            StatementRefusal::FromFuture { issued_at: s.now },
            "statement_from_future",
        ),
        (
            StatementRefusal::Ledger(LifecycleRefusal::AlreadyRevoked { at: s.now }),
            "already_revoked",
        ),
        (
            StatementRefusal::Ledger(LifecycleRefusal::Duplicate),
            "duplicate_statement",
        ),
        (
            StatementRefusal::Ledger(LifecycleRefusal::ResumePredatesPause {
                pause_issued_at: s.now,
            }),
            "resume_predates_pause",
        ),
        (
            StatementRefusal::TooOld { issued_at: s.now },
            "statement_too_old",
        ),
        (
            StatementRefusal::LedgerUnavailable(LedgerError::Unavailable("down".into())),
            "ledger_unavailable",
        ),
    ];
    for (refusal, code) in cases {
        assert_eq!(refusal.code(), code);
    }
    // A refused object carries its reason's code.
    let by_consumer = s.statement(&grant, Action::Revoke, s.mairie);
    let mut bad = by_consumer.clone();
    let last = bad.len() - 1;
    bad[last] ^= 1;
    let refusal = s.apply(&bad, &grant).unwrap_err();
    assert_eq!(refusal.code(), "bad_signature");
    assert_eq!(
        s.apply(&by_consumer, &grant).unwrap_err().code(),
        "signer_not_entitled"
    );
}
