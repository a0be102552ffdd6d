//! Denials for several reasons at once, in rule order.

use consentry::Digest;
use consentry::grant::Grant;
use consentry::ids::BasisId;
use consentry::signed::SignedPayload;
use consentry::statement::Action;
use consentry::terms::AccessPattern;
use consentry::testing::{self, Scenario};
use consentry::vocab::Purpose;

use super::super::cases::{Step, case};
use super::super::common::{DAY, NOW, build, build_unchecked, grant_for, year};
use super::{Bases, Cases};

/// Every failed rule reported, in the order of the rules.
pub fn many(s: &mut Scenario, cases: &mut Cases, b: &Bases) {
    let Bases { grant, .. } = b;
    let everything = {
        let mut r = s.request(grant);
        r = r
            .to_builder()
            .basis_id(BasisId(s.next_uuid()))
            .build()
            .expect("valid request");
        r = r
            .to_builder()
            .basis_digest(Digest::of(b"another grant"))
            .build()
            .expect("valid request");
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
            .provider(s.cnaf)
            .build()
            .expect("valid request");
        r = r
            .to_builder()
            .categories(vec![testing::quotient_familial()])
            .build()
            .expect("valid request");
        r = r
            .to_builder()
            .purpose(
                Purpose::new("education:transport_scolaire").unwrap_or_else(|_| unreachable!()),
            )
            .build()
            .expect("valid request");
        r = r
            .to_builder()
            .data_range(year(2024))
            .build()
            .expect("valid request");
        r = r
            .to_builder()
            .issued_at(NOW.plus_secs(3600))
            .build()
            .expect("valid request");
        s.sign_request(&r)
    };
    cases.push((
        case(
            s.dgfip,
            "deny-many-reasons",
            "a validly signed request wrong in every claim: every failed rule, in rule order",
            everything,
            grant.clone(),
        ),
        vec![
            "basis_mismatch",
            "basis_hash_mismatch",
            "consumer_mismatch",
            "subject_mismatch",
            "wrong_provider",
            "provider_not_covered",
            "purpose_mismatch",
            "data_range_outside",
            "request_from_future",
        ],
    ));
    let expired_weekly = build_unchecked(
        s,
        s.grant()
            .cover(s.dgfip, [testing::household()])
            .access(AccessPattern::periodic(1, 7 * DAY).unwrap_or_else(|_| unreachable!())),
    );
    let ew_revoke = s.statement(&expired_weekly, Action::Revoke, s.parent);
    s.now = NOW.plus_secs(400 * DAY);
    let ew_req = {
        let mut r = s.request(&expired_weekly);
        r = r
            .to_builder()
            .issued_at(NOW.plus_secs(400 * DAY).minus_secs(600))
            .build()
            .expect("valid request");
        s.sign_request(&r)
    };
    s.now = NOW;
    let mut c = case(
        s.dgfip,
        "deny-expired-revoked-beyond-ceiling-too-old",
        "a weekly grant, revoked, asked after it expired with a stale request",
        ew_req,
        expired_weekly.clone(),
    );
    c.history.push(Step::Statement {
        statement: ew_revoke,
        basis: expired_weekly,
        now: NOW,
    });
    c.now = NOW.plus_secs(400 * DAY);
    cases.push((
        c,
        vec!["expired", "revoked", "beyond_ceiling", "request_too_old"],
    ));
    let msg = build(s, grant_for(s, s.mairie));
    let entitled_and_mismatch = {
        let mut r = s.request(&msg);
        r = r
            .to_builder()
            .consumer(s.franceconnect)
            .build()
            .expect("valid request");
        r.sign(s.key(s.franceconnect))
    };
    cases.push((
        case(
            s.dgfip,
            "deny-two-signers-not-entitled",
            "a grant signed by the city hall as its own subject, asked by FranceConnect: both signers lack their role, and the consumers differ",
            entitled_and_mismatch,
            msg
        ),
        vec![
            "signer_not_entitled",
            "signer_not_entitled",
            "consumer_mismatch",
        ],
    ));

    let unrepresented = build(
        s,
        Grant::builder(
            BasisId(s.next_uuid()),
            s.parent,
            s.franceconnect,
            testing::canteen_purpose(),
        )
        .expressed_by(s.other_consumer)
        .cover(s.dgfip, [testing::rfr()])
        .issued_at(NOW)
        .valid(NOW, NOW.plus_secs(365 * DAY))
        .access(AccessPattern::MONTHLY)
        .data_range(year(2025))
        .retention_secs(365 * DAY),
    );
    cases.push((
        case(
            s.dgfip,
            "deny-request-signer-then-representation",
            "a grant to FranceConnect expressed by Villeurbanne, which does not represent the parent; FranceConnect, not a consumer, asks: reasons follow the order of their variants, signer_not_entitled before representation_not_valid",
            s.sign_request(&s.request(&unrepresented)),
            unrepresented
        ),
        vec!["signer_not_entitled", "representation_not_valid"],
    ));
}
