//! One test per denial reason, each triggering exactly that reason; allow contents; lifecycle
//! statements.

use super::common::{default_grant, rebuild_directory, signed};
use consentry::ceiling::CeilingExcess;
use consentry::cose::ObjectKind;
use consentry::danger::UncheckedGrant;
use consentry::decision::{
    Basis, ChainLink, ConsentExpression, Decision, LinkFault, Reason, StatementRefusal, Subject,
};
use consentry::directory::{KeyRefusal, Party, PartyKey, RepresentationKind, Role};
use consentry::grant::{Grant, GrantError};
use consentry::habilitation::Habilitation;
use consentry::ids::{BasisId, RequestId};
use consentry::ledger::{LifecycleRefusal, Status};
use consentry::signed::SignedPayload;
use consentry::statement::{Action, Statement};
use consentry::terms::{AccessPattern, DataRange};
use consentry::testing::{
    Scenario, canteen_purpose, household, key_for, party_for, quotient_familial, rfr,
};
use consentry::vocab::Purpose;
use consentry::{Digest, Timestamp};

const DAY: u64 = 86_400;

/// A periodic pattern within the canteen ceiling that allows two uses a month, so that one
/// extra use does not also exhaust the quota.
use consentry::testing::TWICE_A_MONTH as TWICE_MONTHLY;

fn reasons(d: &Decision) -> &[Reason] {
    d.reasons()
}

/// Decides on the scenario's default request for `basis`, signed by the consumer.
fn decide_default(s: &Scenario, basis: &[u8]) -> Decision {
    s.decide(&s.sign_request(&s.request(basis)), basis)
}

// ---------------------------------------------------------------- stage 1: form and kind

#[test]
fn malformed_request() {
    let s = Scenario::canteen();
    let grant = default_grant(&s);
    let d = s.decide(b"not a request", &grant);
    assert_eq!(d.codes(), ["malformed"]);
    assert!(matches!(
        reasons(&d)[0],
        Reason::Malformed {
            object: Subject::Request,
            ..
        }
    ));
}

#[test]
fn malformed_basis() {
    let s = Scenario::canteen();
    let grant = default_grant(&s);
    let req = s.sign_request(&s.request(&grant));
    let d = s.decide(&req, &[0xa0]);
    assert_eq!(d.codes(), ["malformed"]);
    assert!(matches!(
        reasons(&d)[0],
        Reason::Malformed {
            object: Subject::Basis,
            ..
        }
    ));
}

#[test]
fn malformed_truncated_basis() {
    let s = Scenario::canteen();
    let grant = default_grant(&s);
    let req = s.sign_request(&s.request(&grant));
    let d = s.decide(&req, &grant[..grant.len() - 1]);
    assert_eq!(d.codes(), ["malformed"]);
}

#[test]
fn wrong_kind_request_presented_as_basis() {
    let s = Scenario::canteen();
    let grant = default_grant(&s);
    let req = s.sign_request(&s.request(&grant));
    let d = s.decide(&req, &req);
    assert_eq!(d.codes(), ["wrong_kind"]);
    assert_eq!(
        reasons(&d),
        [Reason::WrongKind {
            object: Subject::Basis,
            found: ObjectKind::Request
        }]
    );
}

#[test]
fn wrong_kind_grant_presented_as_request() {
    let s = Scenario::canteen();
    let grant = default_grant(&s);
    let d = s.decide(&grant, &grant);
    assert_eq!(
        reasons(&d),
        [Reason::WrongKind {
            object: Subject::Request,
            found: ObjectKind::Grant
        }]
    );
}

// ---------------------------------------------------------------- stage 2: signatures and keys

#[test]
fn unknown_key() {
    let s = Scenario::canteen();
    let grant = default_grant(&s);
    let stranger = key_for("stranger");
    let req = s.request(&grant).sign(&stranger);
    let d = s.decide(&req, &grant);
    assert_eq!(
        reasons(&d),
        [Reason::UnknownKey {
            object: Subject::Request,
            kid: stranger.key_id()
        }]
    );
}

#[test]
fn bad_signature() {
    let s = Scenario::canteen();
    let grant = default_grant(&s);
    let mut req = s.sign_request(&s.request(&grant));
    // The signature is the last 64 bytes of the envelope.
    let last = req.len() - 1;
    req[last] ^= 0x01;
    let d = s.decide(&req, &grant);
    assert_eq!(
        reasons(&d),
        [Reason::BadSignature {
            object: Subject::Request
        }]
    );
}

/// A denial's messages are what a person reads: each names the object and the facts.
#[test]
fn messages_name_the_object_and_the_facts() {
    let s = Scenario::canteen();
    let mut grant = default_grant(&s);
    let last = grant.len() - 10;
    grant[last] ^= 0x80;
    let mut req = s.sign_request(&s.request(&grant));
    let last = req.len() - 1;
    req[last] ^= 0x01;
    let messages: Vec<String> = s
        .decide(&req, &grant)
        .reasons()
        .iter()
        .map(Reason::to_string)
        .collect();
    assert_eq!(
        messages,
        [
            "the request's signature is invalid",
            "the grant or habilitation's signature is invalid"
        ]
    );
    let d = s.decide(&s.sign_request(&s.request(&grant)), b"\x01");
    assert!(
        d.reasons()[0]
            .to_string()
            .starts_with("the grant or habilitation is malformed: "),
        "{}",
        d.reasons()[0]
    );
}

#[test]
fn bad_signature_on_basis() {
    let s = Scenario::canteen();
    let mut grant = default_grant(&s);
    // The request hashes the tampered bytes, so only the signature is wrong.
    let last = grant.len() - 10;
    grant[last] ^= 0x80;
    let req = s.sign_request(&s.request(&grant));
    let d = s.decide(&req, &grant);
    assert_eq!(
        reasons(&d),
        [Reason::BadSignature {
            object: Subject::Basis
        }]
    );
}

#[test]
fn key_not_valid_not_the_signers_key() {
    let s = Scenario::canteen();
    let grant = default_grant(&s);
    let req = s.request(&grant).sign(s.key(s.other_consumer));
    let d = s.decide(&req, &grant);
    assert_eq!(
        reasons(&d),
        [Reason::KeyNotValid {
            object: Subject::Request,
            refusal: KeyRefusal::NotSignersKey {
                kid: s.key(s.other_consumer).key_id(),
                owner: s.other_consumer,
                claimed: s.mairie,
            }
        }]
    );
}

#[test]
fn key_not_valid_not_yet_valid() {
    let s = Scenario::canteen();
    let grant = default_grant(&s);
    let mut r = s.request(&grant);
    // Before the cast's keys were valid (2025-01-01). Stage 3 (the request is also far too
    // old) is not reached.
    r = r
        .to_builder()
        .issued_at(Timestamp::from_secs(1_735_689_600 - 1))
        .build()
        .expect("valid request");
    let d = s.decide(&s.sign_request(&r), &grant);
    assert_eq!(
        reasons(&d),
        [Reason::KeyNotValid {
            object: Subject::Request,
            refusal: KeyRefusal::NotYetValid {
                kid: s.key(s.mairie).key_id(),
                valid_from: Timestamp::from_secs(1_735_689_600),
                issued_at: r.issued_at(),
            }
        }]
    );
}

#[test]
fn key_not_valid_expired() {
    let mut s = Scenario::canteen();
    let mairie = s.mairie;
    let end = s.now.minus_secs(DAY);
    rebuild_directory(&mut s, |p: Party| {
        if p.id == mairie {
            let keys = p.keys.iter().map(|k| k.clone().until(end)).collect();
            Party { keys, ..p }
        } else {
            p
        }
    });
    let grant = default_grant(&s);
    let r = s.request(&grant);
    let d = s.decide(&s.sign_request(&r), &grant);
    assert_eq!(
        reasons(&d),
        [Reason::KeyNotValid {
            object: Subject::Request,
            refusal: KeyRefusal::Expired {
                kid: s.key(mairie).key_id(),
                valid_until: end,
                issued_at: s.now,
            }
        }]
    );
}

#[test]
fn key_not_valid_compromised() {
    let mut s = Scenario::canteen();
    let grant = default_grant(&s);
    let kid = s.key(s.mairie).key_id();
    let at = s.now.minus_secs(60);
    s.directory.report_compromise(&kid, at).unwrap();
    let d = decide_default(&s, &grant);
    assert_eq!(
        reasons(&d),
        [Reason::KeyNotValid {
            object: Subject::Request,
            refusal: KeyRefusal::Compromised {
                kid,
                compromised_at: at,
                issued_at: s.now,
            }
        }]
    );
}

/// A grant the ledger saw before its key was reported compromised stays valid (the compromise
/// does not reach back); see `integrity.rs` for one first seen after the report.
#[test]
fn compromise_after_the_grant_was_seen_leaves_it_valid() {
    let mut s = Scenario::canteen();
    let grant = default_grant(&s);
    let seen = decide_default(&s, &grant);
    assert!(seen.is_allow());
    s.advance_days(31);
    let kid = s.key(s.parent).key_id();
    s.directory.report_compromise(&kid, s.now).unwrap();
    assert!(decide_default(&s, &grant).is_allow());
    // A grant signed after the report does not count.
    let later = default_grant(&s);
    let d = decide_default(&s, &later);
    assert_eq!(
        reasons(&d),
        [Reason::KeyNotValid {
            object: Subject::Basis,
            refusal: KeyRefusal::Compromised {
                kid,
                compromised_at: s.now,
                issued_at: s.now,
            }
        }]
    );
}

// ---------------------------------------------------------------- stage 3: consent rules

#[test]
fn basis_mismatch() {
    let s = Scenario::canteen();
    let grant = default_grant(&s);
    let mut r = s.request(&grant);
    // The request hashes the presented bytes but names another basis id.
    let presented = r.basis();
    r = r
        .to_builder()
        .basis_id(BasisId(uuid::Uuid::from_bytes([0x42; 16])))
        .build()
        .expect("valid request");
    let d = s.decide(&s.sign_request(&r), &grant);
    assert_eq!(
        reasons(&d),
        [Reason::BasisMismatch {
            requested: r.basis(),
            presented,
        }]
    );
}

#[test]
fn basis_hash_mismatch() {
    let s = Scenario::canteen();
    let grant = default_grant(&s);
    let mut r = s.request(&grant);
    r = r
        .to_builder()
        .basis_digest(Digest::of(b"some other bytes"))
        .build()
        .expect("valid request");
    let d = s.decide(&s.sign_request(&r), &grant);
    assert_eq!(reasons(&d), [Reason::BasisHashMismatch]);
}

#[test]
fn basis_mismatch_with_another_grant_also_mismatches_the_hash() {
    // Presenting another grant than the one the request names changes both the id and the
    // bytes, so both rules fail (they cannot be separated in this situation).
    let s = Scenario::canteen();
    let named = default_grant(&s);
    let presented = default_grant(&s);
    let d = s.decide(&s.sign_request(&s.request(&named)), &presented);
    assert_eq!(d.codes(), ["basis_mismatch", "basis_hash_mismatch"]);
}

#[test]
fn signer_not_entitled_request_by_a_non_consumer() {
    let s = Scenario::canteen();
    // A grant naming FranceConnect (no Consumer role) as consumer, so only the request's
    // signer fails.
    let b = Grant::builder(
        BasisId(s.next_uuid()),
        s.parent,
        s.franceconnect,
        canteen_purpose(),
    )
    .cover(s.dgfip, [rfr()])
    .issued_at(s.now)
    .valid(s.now, s.now.plus_secs(365 * DAY))
    .access(AccessPattern::MONTHLY)
    .data_range(DataRange::year(2025).unwrap())
    .retention_secs(365 * DAY);
    let grant = signed(&s, b);
    let d = decide_default(&s, &grant);
    assert_eq!(
        reasons(&d),
        [Reason::SignerNotEntitled {
            object: Subject::Request,
            signer: s.franceconnect,
            required: Role::Consumer,
        }]
    );
}

#[test]
fn signer_not_entitled_grant_by_a_subject_without_the_subject_role() {
    let s = Scenario::canteen();
    // The other city hall "consents" about itself: it is no Subject.
    let b = Grant::builder(
        BasisId(s.next_uuid()),
        s.other_consumer,
        s.mairie,
        canteen_purpose(),
    )
    .cover(s.dgfip, [rfr()])
    .issued_at(s.now)
    .valid(s.now, s.now.plus_secs(365 * DAY))
    .access(AccessPattern::MONTHLY)
    .data_range(DataRange::year(2025).unwrap())
    .retention_secs(365 * DAY);
    let grant = signed(&s, b);
    let d = decide_default(&s, &grant);
    assert_eq!(
        reasons(&d),
        [Reason::SignerNotEntitled {
            object: Subject::Basis,
            signer: s.other_consumer,
            required: Role::Subject,
        }]
    );
}

#[test]
fn signer_not_entitled_habilitation_by_a_non_authority() {
    let s = Scenario::canteen();
    let h = Habilitation::builder(
        BasisId(s.next_uuid()),
        s.franceconnect,
        s.mairie,
        canteen_purpose(),
    )
    .legal_reference("CRPA art. L114-8")
    .cover(s.dgfip, [rfr()])
    .issued_at(s.now)
    .valid(s.now, s.now.plus_secs(365 * DAY))
    .retention_secs(365 * DAY)
    .build(&s.ceilings)
    .unwrap();
    let bytes = h.sign(s.key(s.franceconnect));
    let d = decide_default(&s, &bytes);
    assert_eq!(
        reasons(&d),
        [Reason::SignerNotEntitled {
            object: Subject::Basis,
            signer: s.franceconnect,
            required: Role::Authority,
        }]
    );
}

#[test]
fn signer_not_entitled_mandate_holder_without_consent_manager_role() {
    let mut s = Scenario::canteen();
    // FranceConnect keeps its mandate but loses its ConsentManager role.
    let fc = s.franceconnect;
    rebuild_directory(&mut s, |p: Party| {
        if p.id == fc {
            Party {
                roles: vec![Role::Provider],
                ..p
            }
        } else {
            p
        }
    });
    let grant = signed(&s, s.grant().expressed_by(fc));
    let d = decide_default(&s, &grant);
    assert_eq!(
        reasons(&d),
        [Reason::SignerNotEntitled {
            object: Subject::Basis,
            signer: fc,
            required: Role::ConsentManager,
        }]
    );
}

#[test]
fn representation_not_valid_without_representation() {
    let s = Scenario::canteen();
    // FranceConnect has a mandate from the parent, not from the child.
    let b = Grant::builder(BasisId(s.next_uuid()), s.child, s.mairie, canteen_purpose())
        .expressed_by(s.franceconnect)
        .cover(s.dgfip, [rfr()])
        .issued_at(s.now)
        .valid(s.now, s.now.plus_secs(365 * DAY))
        .access(AccessPattern::MONTHLY)
        .data_range(DataRange::year(2025).unwrap())
        .retention_secs(365 * DAY);
    let grant = signed(&s, b);
    let d = decide_default(&s, &grant);
    assert_eq!(
        reasons(&d),
        [Reason::RepresentationNotValid {
            link: 0,
            representative: s.franceconnect,
            represented: s.child,
            fault: LinkFault::NotHeld,
        }]
    );
}

#[test]
fn representation_not_valid_when_it_ended_before_issue() {
    let mut s = Scenario::canteen();
    let (parent, child) = (s.parent, s.child);
    let mut directory = consentry::directory::Directory::new();
    for p in s.directory.parties() {
        directory.add_party(p.clone()).unwrap();
    }
    for rep in s.directory.representations() {
        let mut rep = rep.clone();
        if rep.representative == parent && rep.subject == child {
            rep.valid_until = Some(s.now.minus_secs(DAY));
        }
        directory.add_representation(rep).unwrap();
    }
    s.directory = directory;
    let b = Grant::builder(BasisId(s.next_uuid()), child, s.mairie, canteen_purpose())
        .expressed_by(parent)
        .cover(s.dgfip, [rfr()])
        .issued_at(s.now)
        .valid(s.now, s.now.plus_secs(365 * DAY))
        .access(AccessPattern::MONTHLY)
        .data_range(DataRange::year(2025).unwrap())
        .retention_secs(365 * DAY);
    let grant = signed(&s, b);
    let d = decide_default(&s, &grant);
    assert_eq!(
        reasons(&d),
        [Reason::RepresentationNotValid {
            link: 0,
            representative: parent,
            represented: child,
            fault: LinkFault::NotHeld,
        }]
    );
}

#[test]
fn consumer_mismatch() {
    let s = Scenario::canteen();
    let grant = default_grant(&s);
    let mut r = s.request(&grant);
    r = r
        .to_builder()
        .consumer(s.other_consumer)
        .build()
        .expect("valid request");
    let d = s.decide(&s.sign_request(&r), &grant);
    assert_eq!(
        reasons(&d),
        [Reason::ConsumerMismatch {
            requested: s.other_consumer,
            granted: s.mairie,
        }]
    );
}

#[test]
fn subject_mismatch() {
    let s = Scenario::canteen();
    let grant = default_grant(&s);
    let mut r = s.request(&grant);
    r = r
        .to_builder()
        .subject(s.child)
        .build()
        .expect("valid request");
    let d = s.decide(&s.sign_request(&r), &grant);
    assert_eq!(
        reasons(&d),
        [Reason::SubjectMismatch {
            requested: s.child,
            granted: s.parent,
        }]
    );
}

#[test]
fn wrong_provider() {
    let s = Scenario::canteen();
    // The grant covers both providers, so addressing CNAF to DGFiP's verifier fails only the
    // provider rule.
    let grant = signed(&s, s.grant().cover(s.cnaf, [quotient_familial()]));
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
    let d = s.decide(&s.sign_request(&r), &grant);
    assert_eq!(reasons(&d), [Reason::WrongProvider { addressed: s.cnaf }]);
}

#[test]
fn provider_not_covered() {
    let mut s = Scenario::canteen();
    let grant = default_grant(&s);
    // The grant covers nothing at CNAF: the request the grant calls for at DGFiP, sent to CNAF.
    let r = s
        .request(&grant)
        .to_builder()
        .provider(s.cnaf)
        .categories(vec![quotient_familial()])
        .build()
        .expect("valid request");
    s.verifier_provider = s.cnaf;
    let d = s.decide(&s.sign_request(&r), &grant);
    assert_eq!(
        reasons(&d),
        [Reason::ProviderNotCovered { provider: s.cnaf }]
    );
}

#[test]
fn categories_not_covered() {
    let s = Scenario::canteen();
    let grant = default_grant(&s);
    let mut r = s.request(&grant);
    r = r
        .to_builder()
        .categories(vec![household(), rfr()])
        .build()
        .expect("valid request");
    let d = s.decide(&s.sign_request(&r), &grant);
    assert_eq!(
        reasons(&d),
        [Reason::CategoriesNotCovered {
            categories: vec![household()]
        }]
    );
}

#[test]
fn purpose_mismatch() {
    let s = Scenario::canteen();
    let grant = default_grant(&s);
    let mut r = s.request(&grant);
    r = r
        .to_builder()
        .purpose(Purpose::new("social:aide_logement").unwrap())
        .build()
        .expect("valid request");
    let d = s.decide(&s.sign_request(&r), &grant);
    assert_eq!(
        reasons(&d),
        [Reason::PurposeMismatch {
            requested: Purpose::new("social:aide_logement").unwrap(),
            granted: canteen_purpose(),
        }]
    );
}

#[test]
fn purpose_text_does_not_matter() {
    let s = Scenario::canteen();
    let grant = default_grant(&s);
    let mut r = s.request(&grant);
    r = r
        .to_builder()
        .purpose(Purpose::new("education:tarification_cantine").unwrap())
        .build()
        .expect("valid request");
    assert!(s.decide(&s.sign_request(&r), &grant).is_allow());
}

#[test]
fn data_range_outside() {
    let s = Scenario::canteen();
    let grant = default_grant(&s);
    let mut r = s.request(&grant);
    r = r
        .to_builder()
        .data_range(
            DataRange::new(
                Timestamp::from_date(2024, 12, 1).unwrap(),
                Timestamp::from_date(2025, 2, 1).unwrap(),
            )
            .unwrap(),
        )
        .build()
        .expect("valid request");
    let d = s.decide(&s.sign_request(&r), &grant);
    assert_eq!(
        reasons(&d),
        [Reason::DataRangeOutside {
            requested: r.data_range(),
            granted: DataRange::year(2025).unwrap(),
        }]
    );
}

#[test]
fn not_yet_valid() {
    let s = Scenario::canteen();
    let from = s.now.plus_secs(DAY);
    let grant = signed(&s, s.grant().valid(from, from.plus_secs(300 * DAY)));
    let d = decide_default(&s, &grant);
    assert_eq!(reasons(&d), [Reason::NotYetValid { not_before: from }]);
}

#[test]
fn expired() {
    let mut s = Scenario::canteen();
    let grant = default_grant(&s);
    let end = s.now.plus_secs(365 * DAY);
    s.advance_days(365);
    let d = decide_default(&s, &grant);
    assert_eq!(reasons(&d), [Reason::Expired { expires_at: end }]);
}

#[test]
fn expiry_is_exclusive() {
    let mut s = Scenario::canteen();
    let grant = default_grant(&s);
    s.now = s.now.plus_secs(365 * DAY - 1);
    assert!(decide_default(&s, &grant).is_allow());
}

#[test]
fn paused() {
    let s = Scenario::canteen();
    let grant = default_grant(&s);
    let st = s.statement(&grant, Action::Pause, s.parent);
    assert_eq!(s.apply(&st, &grant), Ok(Status::Paused { since: s.now }));
    let d = decide_default(&s, &grant);
    assert_eq!(reasons(&d), [Reason::Paused { since: s.now }]);
}

#[test]
fn revoked() {
    let s = Scenario::canteen();
    let grant = default_grant(&s);
    let st = s.statement(&grant, Action::Revoke, s.parent);
    assert_eq!(s.apply(&st, &grant), Ok(Status::Revoked { at: s.now }));
    let d = decide_default(&s, &grant);
    assert_eq!(reasons(&d), [Reason::Revoked { at: s.now }]);
}

#[test]
fn beyond_ceiling_categories() {
    let s = Scenario::canteen();
    // The family quotient is not in DGFiP's canteen ceiling.
    let grant = s
        .grant()
        .cover(s.dgfip, [quotient_familial()])
        .build_without_ceiling_check()
        .unwrap();
    let grant = s.sign_grant(&grant);
    let mut r = s.request(&grant);
    r = r
        .to_builder()
        .categories(vec![rfr()])
        .build()
        .expect("valid request");
    let d = s.decide(&s.sign_request(&r), &grant);
    assert_eq!(
        reasons(&d),
        [Reason::BeyondCeiling {
            excesses: vec![CeilingExcess::Categories {
                provider: s.dgfip,
                categories: vec![quotient_familial()],
            }]
        }]
    );
}

#[test]
fn beyond_ceiling_every_dimension() {
    let s = Scenario::canteen();
    let grant = s
        .grant()
        .valid(s.now, s.now.plus_secs(400 * DAY))
        .access(AccessPattern::periodic(3, 30 * DAY).unwrap())
        .retention_secs(500 * DAY)
        .data_range(
            DataRange::new(
                Timestamp::from_date(2024, 1, 1).unwrap(),
                Timestamp::from_date(2026, 1, 1).unwrap(),
            )
            .unwrap(),
        )
        .build_without_ceiling_check()
        .unwrap();
    let grant = s.sign_grant(&grant);
    let d = decide_default(&s, &grant);
    assert_eq!(
        reasons(&d),
        [Reason::BeyondCeiling {
            excesses: vec![
                CeilingExcess::Validity {
                    provider: s.dgfip,
                    max_secs: 366 * DAY
                },
                CeilingExcess::Frequency { provider: s.dgfip },
                CeilingExcess::Retention {
                    provider: s.dgfip,
                    max_secs: 400 * DAY
                },
                CeilingExcess::DataRange {
                    provider: s.dgfip,
                    max_secs: 366 * DAY
                },
            ]
        }]
    );
}

/// A ceiling is a maximum: terms exactly at it are within, one second more is beyond; and the
/// grant builder refuses what the verifier would refuse.
#[test]
fn ceilings_are_inclusive_and_the_builder_enforces_them() {
    let s = Scenario::canteen();
    let at_ceiling = |extra: u64| {
        s.grant()
            .valid(s.now, s.now.plus_secs(366 * DAY + extra))
            .retention_secs(400 * DAY + extra)
    };
    let grant = at_ceiling(0).build(&s.ceilings).expect("at the ceiling");
    assert!(decide_default(&s, &s.sign_grant(&grant)).is_allow());

    let excesses = vec![
        CeilingExcess::Validity {
            provider: s.dgfip,
            max_secs: 366 * DAY,
        },
        CeilingExcess::Retention {
            provider: s.dgfip,
            max_secs: 400 * DAY,
        },
    ];
    assert_eq!(
        at_ceiling(1).build(&s.ceilings),
        Err(GrantError::BeyondCeiling(excesses.clone()))
    );
    let beyond = at_ceiling(1).build_without_ceiling_check().expect("grant");
    assert_eq!(
        reasons(&decide_default(&s, &s.sign_grant(&beyond))),
        [Reason::BeyondCeiling { excesses }]
    );
}

#[test]
fn beyond_ceiling_only_counts_this_providers_ceiling() {
    let s = Scenario::canteen();
    // Beyond CNAF's ceiling (the reference tax income is not CNAF's), within DGFiP's: DGFiP's
    // verifier judges its own ceiling only.
    let grant = s
        .grant()
        .cover(s.cnaf, [rfr()])
        .build_without_ceiling_check()
        .unwrap();
    let grant = s.sign_grant(&grant);
    assert!(decide_default(&s, &grant).is_allow());
}

#[test]
fn request_from_future() {
    let s = Scenario::canteen();
    let grant = default_grant(&s);
    let mut r = s.request(&grant);
    r = r
        .to_builder()
        .issued_at(s.now.plus_secs(121))
        .build()
        .expect("valid request");
    let d = s.decide(&s.sign_request(&r), &grant);
    assert_eq!(
        reasons(&d),
        [Reason::RequestFromFuture {
            issued_at: r.issued_at()
        }]
    );
    // Within the skew tolerance it is fine.
    let mut r = s.request(&grant);
    r = r
        .to_builder()
        .issued_at(s.now.plus_secs(120))
        .build()
        .expect("valid request");
    assert!(s.decide(&s.sign_request(&r), &grant).is_allow());
}

#[test]
fn request_too_old() {
    let s = Scenario::canteen();
    let grant = default_grant(&s);
    let mut r = s.request(&grant);
    r = r
        .to_builder()
        .issued_at(s.now.minus_secs(301))
        .build()
        .expect("valid request");
    let d = s.decide(&s.sign_request(&r), &grant);
    assert_eq!(
        reasons(&d),
        [Reason::RequestTooOld {
            issued_at: r.issued_at()
        }]
    );
    let mut r = s.request(&grant);
    r = r
        .to_builder()
        .issued_at(s.now.minus_secs(300))
        .build()
        .expect("valid request");
    assert!(s.decide(&s.sign_request(&r), &grant).is_allow());
}

#[test]
fn replayed_request() {
    let s = Scenario::canteen();
    let grant = signed(&s, s.grant().access(TWICE_MONTHLY));
    let r = s.request(&grant);
    let req = s.sign_request(&r);
    assert!(s.decide(&req, &grant).is_allow());
    let d = s.decide(&req, &grant);
    assert_eq!(reasons(&d), [Reason::ReplayedRequest { id: r.id() }]);
}

#[test]
fn replayed_id_on_another_basis() {
    let s = Scenario::canteen();
    let first = default_grant(&s);
    let second = default_grant(&s);
    let r = s.request(&first);
    assert!(s.decide(&s.sign_request(&r), &first).is_allow());
    let mut again = s.request(&second);
    again = again
        .to_builder()
        .id(r.id())
        .build()
        .expect("valid request");
    let d = s.decide(&s.sign_request(&again), &second);
    assert_eq!(reasons(&d), [Reason::ReplayedRequest { id: r.id() }]);
}

#[test]
fn one_time_used() {
    let s = Scenario::canteen();
    let grant = signed(&s, s.grant().access(AccessPattern::one_time()));
    assert!(decide_default(&s, &grant).is_allow());
    let d = decide_default(&s, &grant);
    assert_eq!(reasons(&d), [Reason::OneTimeUsed]);
}

#[test]
fn one_time_used_even_in_a_later_month() {
    let mut s = Scenario::canteen();
    let grant = signed(&s, s.grant().access(AccessPattern::one_time()));
    assert!(decide_default(&s, &grant).is_allow());
    s.advance_days(100);
    assert_eq!(decide_default(&s, &grant).codes(), ["one_time_used"]);
}

#[test]
fn frequency_exhausted() {
    let mut s = Scenario::canteen();
    let start = s.now;
    let grant = default_grant(&s);
    assert!(decide_default(&s, &grant).is_allow());
    s.advance_days(29);
    let d = decide_default(&s, &grant);
    assert_eq!(
        reasons(&d),
        [Reason::FrequencyExhausted {
            next_allowed: start.plus_secs(30 * DAY)
        }]
    );
    s.now = start.plus_secs(30 * DAY);
    assert!(decide_default(&s, &grant).is_allow());
    s.advance_days(35);
    assert!(decide_default(&s, &grant).is_allow());
    let d = decide_default(&s, &grant);
    assert_eq!(
        reasons(&d),
        [Reason::FrequencyExhausted {
            next_allowed: start.plus_secs(90 * DAY)
        }]
    );
}

// ---------------------------------------------------------------- several failures

#[test]
fn several_failures_listed_in_stable_order() {
    let mut s = Scenario::canteen();
    let grant = default_grant(&s);
    let st = s.statement(&grant, Action::Pause, s.parent);
    s.apply(&st, &grant).unwrap();
    let mut r = s.request(&grant);
    r = r
        .to_builder()
        .consumer(s.other_consumer)
        .build()
        .expect("valid request");
    r = r
        .to_builder()
        .subject(s.child)
        .build()
        .expect("valid request");
    r = r
        .to_builder()
        .categories(vec![household(), rfr()])
        .build()
        .expect("valid request");
    r = r
        .to_builder()
        .purpose(Purpose::new("social:aide_logement").unwrap())
        .build()
        .expect("valid request");
    r = r
        .to_builder()
        .data_range(DataRange::year(2024).unwrap())
        .build()
        .expect("valid request");
    r = r
        .to_builder()
        .issued_at(s.now.minus_secs(1000))
        .build()
        .expect("valid request");
    let req = s.sign_request(&r);
    s.advance_days(1);
    let d = s.decide(&req, &grant);
    assert_eq!(
        d.codes(),
        [
            "consumer_mismatch",
            "subject_mismatch",
            "categories_not_covered",
            "purpose_mismatch",
            "data_range_outside",
            "paused",
            "request_too_old",
        ]
    );
    // The same inputs on the same state give the same list.
    assert_eq!(s.decide(&req, &grant), d);
}

#[test]
fn several_stage_one_and_two_failures_request_first() {
    let s = Scenario::canteen();
    let mut grant = default_grant(&s);
    let last = grant.len() - 1;
    grant[last] ^= 1;
    let d = s.decide(b"junk", &grant);
    assert_eq!(d.codes(), ["malformed", "bad_signature"]);
    // Malformed before a signature failure, even when the basis is the malformed one.
    let mut req = s.sign_request(&s.request(&grant));
    let last = req.len() - 1;
    req[last] ^= 1;
    let d = s.decide(&req, b"junk");
    assert_eq!(
        reasons(&d)[1],
        Reason::BadSignature {
            object: Subject::Request
        }
    );
    assert_eq!(d.codes(), ["malformed", "bad_signature"]);
    assert!(matches!(
        reasons(&d)[0],
        Reason::Malformed {
            object: Subject::Basis,
            ..
        }
    ));
}

#[test]
fn quota_reported_with_other_failures() {
    let s = Scenario::canteen();
    let grant = default_grant(&s);
    assert!(decide_default(&s, &grant).is_allow());
    let mut r = s.request(&grant);
    r = r
        .to_builder()
        .consumer(s.other_consumer)
        .build()
        .expect("valid request");
    let d = s.decide(&s.sign_request(&r), &grant);
    assert_eq!(d.codes(), ["consumer_mismatch", "frequency_exhausted"]);
}

// ---------------------------------------------------------------- allow

#[test]
fn allow_returns_exactly_what_was_asked() {
    let s = Scenario::canteen();
    let grant = signed(&s, s.grant().cover(s.dgfip, [household()]));
    let mut r = s.request(&grant);
    r = r
        .to_builder()
        .categories(vec![rfr()])
        .build()
        .expect("valid request");
    r = r
        .to_builder()
        .data_range(
            DataRange::new(
                Timestamp::from_date(2025, 3, 1).unwrap(),
                Timestamp::from_date(2025, 4, 1).unwrap(),
            )
            .unwrap(),
        )
        .build()
        .expect("valid request");
    let d = s.decide(&s.sign_request(&r), &grant);
    let a = d.allowed().expect("allowed");
    assert_eq!(a.categories(), [rfr()]);
    assert_eq!(a.data_range(), r.data_range());
    assert_eq!(a.retain_until(), s.now.plus_secs(365 * DAY));
    assert_eq!(a.request(), r.id());
    assert_eq!(a.basis(), r.basis());
    assert_eq!(a.basis_kind(), ObjectKind::Grant);
    assert_eq!(a.basis_digest(), Digest::of(&grant));
    assert_eq!(a.subject(), s.parent);
    assert_eq!(a.consumer(), s.mairie);
    assert_eq!(a.provider(), s.dgfip);
    assert_eq!(a.decided_at(), s.now);
    assert_eq!(a.legal_reference(), None);
    assert!(!a.onward_transfer());
    assert_eq!(
        a.consent(),
        Some(&ConsentExpression {
            expressed_by: s.parent,
            subject: s.parent,
            chain: Vec::new(),
        })
    );
}

#[test]
fn allow_carries_the_grants_onward_transfer_permission() {
    let s = Scenario::canteen();
    let grant = signed(&s, s.grant().allow_onward_transfer());
    let d = decide_default(&s, &grant);
    assert!(d.allowed().expect("allowed").onward_transfer());
}

#[test]
fn allow_consent_by_franceconnect_mandate() {
    let s = Scenario::canteen();
    let grant = signed(&s, s.grant().expressed_by(s.franceconnect));
    let d = decide_default(&s, &grant);
    assert_eq!(
        d.allowed().and_then(|a| a.consent()),
        Some(&ConsentExpression {
            expressed_by: s.franceconnect,
            subject: s.parent,
            chain: vec![ChainLink {
                representative: s.franceconnect,
                represented: s.parent,
                kind: RepresentationKind::Mandate,
            }],
        })
    );
}

#[test]
fn allow_consent_by_parent_for_child() {
    let s = Scenario::canteen();
    let b = Grant::builder(BasisId(s.next_uuid()), s.child, s.mairie, canteen_purpose())
        .expressed_by(s.parent)
        .cover(s.dgfip, [rfr()])
        .issued_at(s.now)
        .valid(s.now, s.now.plus_secs(365 * DAY))
        .access(AccessPattern::MONTHLY)
        .data_range(DataRange::year(2025).unwrap())
        .retention_secs(200 * DAY);
    let grant = signed(&s, b);
    let d = decide_default(&s, &grant);
    let a = d.allowed().expect("allowed");
    assert_eq!(a.subject(), s.child);
    assert_eq!(a.retain_until(), s.now.plus_secs(200 * DAY));
    assert_eq!(
        a.consent(),
        Some(&ConsentExpression {
            expressed_by: s.parent,
            subject: s.child,
            chain: vec![ChainLink {
                representative: s.parent,
                represented: s.child,
                kind: RepresentationKind::Parent,
            }],
        })
    );
}

#[test]
fn allow_under_habilitation_has_legal_reference() {
    let s = Scenario::canteen();
    let h = s.habilitation();
    let bytes = h.sign(s.key(s.authority));
    let d = decide_default(&s, &bytes);
    let a = d.allowed().expect("allowed");
    assert_eq!(
        a.legal_reference(),
        Some("CRPA art. L114-8 ; décret n° 2025-0000")
    );
    assert_eq!(a.basis_kind(), ObjectKind::Habilitation);
    assert_eq!(a.consent(), None);
    assert_eq!(a.categories(), [rfr()]);
    assert_eq!(a.retain_until(), s.now.plus_secs(365 * DAY));
    // No quota under a habilitation.
    for _ in 0..5 {
        assert!(decide_default(&s, &bytes).is_allow());
    }
}

#[test]
fn allow_with_a_cached_grant() {
    let mut s = Scenario::canteen();
    let grant = default_grant(&s);
    let cached = s.verifier().verify_grant(&grant).unwrap();
    let req = s.sign_request(&s.request(&grant));
    assert!(
        s.verifier()
            .decide(&req, Basis::Grant(&cached), s.now)
            .is_allow()
    );
    // A key compromise reported since the grant was signed at an earlier time does not
    // matter; one dated at or before its issue does.
    let kid = s.key(s.parent).key_id();
    s.directory.report_compromise(&kid, s.now).unwrap();
    s.advance_days(31);
    let req = s.sign_request(&s.request(&grant));
    assert_eq!(
        s.verifier()
            .decide(&req, Basis::Grant(&cached), s.now)
            .codes(),
        ["key_not_valid"]
    );
}

/// A cached habilitation goes through the directory's key rule again at every decision: a
/// compromise dated at or before its issue time refuses it, from the cache too.
#[test]
fn allow_with_a_cached_habilitation_until_its_key_is_reported_compromised() {
    let mut s = Scenario::canteen();
    let bytes = s.habilitation().sign(s.key(s.authority));
    let cached = s.verifier().verify_habilitation(&bytes).unwrap();
    let decide = |s: &Scenario| {
        let req = s.sign_request(&s.request(&bytes));
        s.verifier()
            .decide(&req, Basis::Habilitation(&cached), s.now)
    };
    assert!(decide(&s).is_allow());
    let kid = s.key(s.authority).key_id();
    s.directory.report_compromise(&kid, s.now).unwrap();
    s.advance_days(1);
    assert_eq!(
        decide(&s).reasons(),
        [Reason::KeyNotValid {
            object: Subject::Basis,
            refusal: KeyRefusal::Compromised {
                kid,
                compromised_at: s.now.minus_secs(DAY),
                issued_at: s.now.minus_secs(DAY),
            },
        }]
    );
}

// ---------------------------------------------------------------- lifecycle

#[test]
fn pause_resume_revoke() {
    let mut s = Scenario::canteen();
    let grant = signed(&s, s.grant().access(TWICE_MONTHLY));
    let paused_at = s.now;
    let pause = s.statement(&grant, Action::Pause, s.parent);
    assert_eq!(
        s.apply(&pause, &grant),
        Ok(Status::Paused { since: paused_at })
    );
    assert_eq!(
        decide_default(&s, &grant).codes(),
        ["paused"],
        "paused grants are refused"
    );
    s.advance_days(1);
    // FranceConnect, holding the parent's mandate, resumes.
    let resume = s.statement(&grant, Action::Resume, s.franceconnect);
    assert_eq!(s.apply(&resume, &grant), Ok(Status::Active));
    assert!(decide_default(&s, &grant).is_allow());
    s.advance_days(1);
    let revoke = s.statement(&grant, Action::Revoke, s.parent);
    assert_eq!(s.apply(&revoke, &grant), Ok(Status::Revoked { at: s.now }));
    assert_eq!(
        reasons(&decide_default(&s, &grant)),
        [Reason::Revoked { at: s.now }]
    );
    s.advance_days(1);
    let resume = s.statement(&grant, Action::Resume, s.parent);
    assert_eq!(
        s.apply(&resume, &grant),
        Err(StatementRefusal::Ledger(LifecycleRefusal::AlreadyRevoked {
            at: s.now.minus_secs(DAY)
        }))
    );
    assert_eq!(decide_default(&s, &grant).codes(), ["revoked"]);
}

#[test]
fn pause_twice_keeps_the_first_time() {
    let mut s = Scenario::canteen();
    let grant = default_grant(&s);
    let first = s.now;
    s.apply(&s.statement(&grant, Action::Pause, s.parent), &grant)
        .unwrap();
    s.advance_days(1);
    assert_eq!(
        s.apply(&s.statement(&grant, Action::Pause, s.parent), &grant),
        Ok(Status::Paused { since: first })
    );
}

#[test]
fn parent_may_revoke_for_child() {
    let s = Scenario::canteen();
    let b = Grant::builder(BasisId(s.next_uuid()), s.child, s.mairie, canteen_purpose())
        .expressed_by(s.parent)
        .cover(s.dgfip, [rfr()])
        .issued_at(s.now)
        .valid(s.now, s.now.plus_secs(365 * DAY))
        .access(AccessPattern::MONTHLY)
        .data_range(DataRange::year(2025).unwrap())
        .retention_secs(365 * DAY);
    let grant = signed(&s, b);
    assert_eq!(
        s.apply(&s.statement(&grant, Action::Revoke, s.parent), &grant),
        Ok(Status::Revoked { at: s.now })
    );
}

#[test]
fn statement_by_the_consumer_refused() {
    let s = Scenario::canteen();
    let grant = default_grant(&s);
    let st = s.statement(&grant, Action::Revoke, s.mairie);
    assert_eq!(
        s.apply(&st, &grant),
        Err(StatementRefusal::NotEntitled { signer: s.mairie })
    );
    assert!(decide_default(&s, &grant).is_allow());
}

#[test]
fn habilitation_statements_by_its_authority_only() {
    let s = Scenario::canteen();
    let h = s.habilitation().sign(s.key(s.authority));
    assert_eq!(
        s.apply(&s.statement(&h, Action::Pause, s.parent), &h),
        Err(StatementRefusal::NotEntitled { signer: s.parent })
    );
    assert_eq!(
        s.apply(&s.statement(&h, Action::Pause, s.authority), &h),
        Ok(Status::Paused { since: s.now })
    );
    assert_eq!(decide_default(&s, &h).codes(), ["paused"]);
}

#[test]
fn duplicate_statement_refused() {
    let mut s = Scenario::canteen();
    let grant = default_grant(&s);
    let pause = s.statement(&grant, Action::Pause, s.parent);
    s.apply(&pause, &grant).unwrap();
    s.now = s.now.plus_secs(60);
    assert_eq!(
        s.apply(&pause, &grant),
        Err(StatementRefusal::Ledger(LifecycleRefusal::Duplicate))
    );
}

/// Statements take effect in the order they are applied; only a resume issued before the
/// pause in force is refused, so that no statement issued before a pause can undo it.
#[test]
fn resume_issued_before_the_pause_refused() {
    let mut s = Scenario::canteen();
    let grant = default_grant(&s);
    let early_resume = s.statement(&grant, Action::Resume, s.parent);
    s.now = s.now.plus_secs(60);
    let pause = s.statement(&grant, Action::Pause, s.parent);
    assert_eq!(s.apply(&pause, &grant), Ok(Status::Paused { since: s.now }));
    assert_eq!(
        s.apply(&early_resume, &grant),
        Err(StatementRefusal::Ledger(
            LifecycleRefusal::ResumePredatesPause {
                pause_issued_at: s.now
            }
        ))
    );
    assert_eq!(decide_default(&s, &grant).codes(), ["paused"]);
    // A pause issued before a resume already applied still applies: it arrives later.
    s.now = s.now.plus_secs(60);
    let resume = s.statement(&grant, Action::Resume, s.parent);
    s.now = s.now.minus_secs(30);
    let old_pause = s.statement(&grant, Action::Pause, s.parent);
    s.now = s.now.plus_secs(30);
    assert_eq!(s.apply(&resume, &grant), Ok(Status::Active));
    assert!(matches!(
        s.apply(&old_pause, &grant),
        Ok(Status::Paused { .. })
    ));
}

#[test]
fn statement_with_wrong_hash_refused() {
    let s = Scenario::canteen();
    let grant = default_grant(&s);
    let claims = consentry::signed::Unverified::<Grant>::parse(&grant)
        .unwrap()
        .claims()
        .id();
    let st = Statement {
        basis: claims,
        basis_digest: Digest::of(b"other bytes"),
        action: Action::Revoke,
        issued_by: s.parent,
        issued_at: s.now,
    }
    .sign(s.key(s.parent));
    assert_eq!(
        s.apply(&st, &grant),
        Err(StatementRefusal::BasisHashMismatch)
    );
    // About another grant altogether.
    let other = default_grant(&s);
    let st = s.statement(&other, Action::Revoke, s.parent);
    assert_eq!(s.apply(&st, &grant), Err(StatementRefusal::BasisMismatch));
    assert!(decide_default(&s, &grant).is_allow());
}

#[test]
fn statement_from_the_future_refused() {
    let s = Scenario::canteen();
    let grant = default_grant(&s);
    let id = consentry::signed::Unverified::<Grant>::parse(&grant)
        .unwrap()
        .claims()
        .id();
    let at = s.now.plus_secs(121);
    let st = Statement {
        basis: id,
        basis_digest: Digest::of(&grant),
        action: Action::Revoke,
        issued_by: s.parent,
        issued_at: at,
    }
    .sign(s.key(s.parent));
    assert_eq!(
        s.apply(&st, &grant),
        Err(StatementRefusal::FromFuture { issued_at: at })
    );
}

#[test]
fn party_for_and_request_ids_are_distinct() {
    // The kit hands out fresh ids.
    let s = Scenario::canteen();
    assert_ne!(party_for("parent"), party_for("child"));
    let a = RequestId(s.next_uuid());
    let b = RequestId(s.next_uuid());
    assert_ne!(a, b);
    let _ = PartyKey::new(key_for("x").verifying_key(), Timestamp::from_secs(0));
}

#[test]
fn an_earlier_clock_across_a_period_boundary_does_not_reset_the_quota() {
    // Two decisions may reach the ledger with their clocks slightly out of order (several
    // workers, a request decided just before a period boundary committing after one decided
    // just after it). Neither period may then exceed its quota.
    let mut s = Scenario::canteen();
    let start = s.now;
    let grant = default_grant(&s);
    assert!(decide_default(&s, &grant).is_allow()); // period 1
    s.now = start.plus_secs(30 * DAY);
    assert!(decide_default(&s, &grant).is_allow()); // period 2
    s.now = start.plus_secs(30 * DAY - 1);
    assert!(
        !decide_default(&s, &grant).is_allow(),
        "period 1 used twice"
    );
    s.now = start.plus_secs(30 * DAY + 1);
    assert!(
        !decide_default(&s, &grant).is_allow(),
        "period 2 used twice"
    );
}
