//! Allowed requests: each basis and signer, repeated and periodic use, lifecycle, edges of the
//! time rules, key rotation.

use consentry::Timestamp;
use consentry::signed::SignedPayload;
use consentry::statement::Action;
use consentry::terms::{AccessPattern, DataRange};
use consentry::testing::{self, Scenario, key_for};

use super::super::cases::{Step, case};
use super::super::common::{DAY, NOW, build, grant_for};
use super::{Bases, Cases, Uses};

/// Allowed under each kind of basis: the subject's grant, a mandate, a legal representative, a
/// habilitation.
pub fn bases(s: &mut Scenario, cases: &mut Cases) -> Bases {
    let grant = build(s, s.grant());
    let req = s.sign_request(&s.request(&grant));
    cases.push((
        case(
            s.dgfip,
            "allow-grant-by-subject",
            "the parent's own grant; the city hall asks DGFiP for the reference tax income",
            req.clone(),
            grant.clone(),
        ),
        vec![],
    ));
    let fc_grant = build(s, s.grant().expressed_by(s.franceconnect));
    cases.push((
        case(
            s.dgfip,
            "allow-grant-by-mandate",
            "the grant expressed by FranceConnect under the parent's mandate",
            s.sign_request(&s.request(&fc_grant)),
            fc_grant.clone(),
        ),
        vec![],
    ));
    let child_grant = build(s, grant_for(s, s.child).expressed_by(s.parent));
    cases.push((
        case(
            s.dgfip,
            "allow-grant-by-legal-representative",
            "a grant about the child expressed by the parent, her legal representative",
            s.sign_request(&s.request(&child_grant)),
            child_grant.clone(),
        ),
        vec![],
    ));
    let hab = s.habilitation().sign(s.key(s.authority));
    cases.push((
        case(
            s.dgfip,
            "allow-habilitation",
            "the ministry's habilitation; the city hall asks DGFiP",
            s.sign_request(&s.request(&hab)),
            hab.clone(),
        ),
        vec![],
    ));
    s.verifier_provider = s.cnaf;
    let hab_cnaf_req = s.sign_request(&s.request(&hab));
    s.verifier_provider = s.dgfip;
    let mut c = case(
        s.dgfip,
        "allow-habilitation-at-cnaf",
        "the habilitation; the city hall asks CNAF for the family quotient, decided by CNAF",
        hab_cnaf_req,
        hab.clone(),
    );
    c.provider = s.cnaf;
    cases.push((c, vec![]));
    let hab_child = {
        let mut r = s.request(&hab);
        r = r
            .to_builder()
            .subject(s.child)
            .build()
            .expect("valid request");
        s.sign_request(&r)
    };
    cases.push((
        case(
            s.dgfip,
            "allow-habilitation-any-subject",
            "a habilitation names no subject: a request about the child is allowed",
            hab_child,
            hab.clone(),
        ),
        vec![],
    ));
    Bases {
        grant,
        req,
        fc_grant,
        hab,
    }
}

/// Allowed repeated uses: one-time and periodic grants, the next period, a resumed grant.
pub fn uses(s: &mut Scenario, cases: &mut Cases) -> Uses {
    let one_time = build(s, s.grant().access(AccessPattern::one_time()));
    let one_time_req = s.sign_request(&s.request(&one_time));
    cases.push((
        case(
            s.dgfip,
            "allow-one-time-first-use",
            "a one-time grant, first use",
            one_time_req.clone(),
            one_time.clone(),
        ),
        vec![],
    ));
    let twice = build(
        s,
        s.grant()
            .access(AccessPattern::periodic(2, 30 * DAY).unwrap_or_else(|_| unreachable!())),
    );
    let twice_first = s.sign_request(&s.request(&twice));
    let twice_second = s.sign_request(&s.request(&twice));
    let mut c = case(
        s.dgfip,
        "allow-periodic-second-use",
        "a grant of 2 uses per 30 days, second use in the same period",
        twice_second,
        twice.clone(),
    );
    c.history.push(Step::Decide {
        request: twice_first.clone(),
        basis: twice.clone(),
        now: NOW,
    });
    cases.push((c, vec![]));
    let monthly = build(s, s.grant());
    let monthly_first = s.sign_request(&s.request(&monthly));
    let monthly_again = s.sign_request(&s.request(&monthly));
    s.now = NOW.plus_secs(30 * DAY);
    let monthly_next = s.sign_request(&s.request(&monthly));
    s.now = NOW;
    let mut c = case(
        s.dgfip,
        "allow-next-period",
        "a monthly grant used on 2025-09-01, used again 30 days later (a new period)",
        monthly_next,
        monthly.clone(),
    );
    c.history.push(Step::Decide {
        request: monthly_first.clone(),
        basis: monthly.clone(),
        now: NOW,
    });
    c.now = NOW.plus_secs(30 * DAY);
    cases.push((c, vec![]));
    let paused_grant = build(s, s.grant());
    let pause = s.statement(&paused_grant, Action::Pause, s.parent);
    s.now = NOW.plus_secs(60);
    let resume = s.statement(&paused_grant, Action::Resume, s.parent);
    let after_resume = s.sign_request(&s.request(&paused_grant));
    s.now = NOW;
    let mut c = case(
        s.dgfip,
        "allow-after-resume",
        "paused by the parent, resumed a minute later, then asked",
        after_resume,
        paused_grant.clone(),
    );
    c.history.push(Step::Statement {
        statement: pause.clone(),
        basis: paused_grant.clone(),
        now: NOW,
    });
    c.history.push(Step::Statement {
        statement: resume,
        basis: paused_grant.clone(),
        now: NOW.plus_secs(60),
    });
    c.now = NOW.plus_secs(60);
    cases.push((c, vec![]));
    Uses {
        one_time,
        one_time_req,
        twice,
        twice_first,
        monthly,
        monthly_first,
        monthly_again,
        paused_grant,
        pause,
    }
}

/// Allowed at the edges: a narrower request, the skew and age limits, key rotation, a refused
/// revocation.
pub fn edges(s: &mut Scenario, cases: &mut Cases, b: &Bases) {
    let Bases { grant, req, .. } = b;
    let wide = build(
        s,
        s.grant()
            .cover(s.dgfip, [testing::household()])
            .allow_onward_transfer(),
    );
    let subset = {
        let mut r = s.request(&wide);
        r = r
            .to_builder()
            .categories(vec![testing::household()])
            .build()
            .expect("valid request");
        r = r
            .to_builder()
            .data_range(
                DataRange::new(
                    Timestamp::from_secs(1_735_689_600),
                    Timestamp::from_secs(1_751_328_000),
                )
                .unwrap_or_else(|_| unreachable!()),
            )
            .build()
            .expect("valid request");
        s.sign_request(&r)
    };
    cases.push((
        case(
            s.dgfip,
            "allow-subset-and-narrower-range",
            "a grant for two categories with onward transfer; the request asks one, for the first half of 2025",
            subset,
            wide
        ),
        vec![],
    ));
    let edge_future = {
        let mut r = s.request(grant);
        r = r
            .to_builder()
            .issued_at(NOW.plus_secs(120))
            .build()
            .expect("valid request");
        s.sign_request(&r)
    };
    cases.push((
        case(
            s.dgfip,
            "allow-request-at-skew-limit",
            "a request issued 120 s in the future (the skew tolerance)",
            edge_future,
            grant.clone(),
        ),
        vec![],
    ));
    let edge_old = {
        let mut r = s.request(grant);
        r = r
            .to_builder()
            .issued_at(NOW.minus_secs(300))
            .build()
            .expect("valid request");
        s.sign_request(&r)
    };
    cases.push((
        case(
            s.dgfip,
            "allow-request-at-age-limit",
            "a request issued 300 s before now (the freshness limit)",
            edge_old,
            grant.clone(),
        ),
        vec![],
    ));
    let march = Timestamp::from_secs(1_740_787_200); // 2025-03-01
    s.now = march;
    let old_key_grant = build(s, s.grant());
    s.now = NOW;
    let mut c = case(
        s.dgfip,
        "allow-grant-signed-before-rotation",
        "a grant signed 2025-03-01 with the parent's first key, still honoured after the key's window closed",
        s.sign_request(&s.request(&old_key_grant)),
        old_key_grant,
    );
    c.directory = "canteen-rotated";
    cases.push((c, vec![]));
    let new_key_grant = s
        .grant()
        .build(&s.ceilings)
        .unwrap_or_else(|e| panic!("{e}"))
        .sign(&key_for("parent-2"));
    let mut c = case(
        s.dgfip,
        "allow-grant-signed-with-new-key",
        "a grant signed with the parent's second key",
        s.sign_request(&s.request(&new_key_grant)),
        new_key_grant,
    );
    c.directory = "canteen-rotated";
    cases.push((c, vec![]));
    let refused_revoke = s.statement(grant, Action::Revoke, s.mairie);
    let mut c = case(
        s.dgfip,
        "allow-after-unentitled-revoke",
        "the city hall tries to revoke the parent's grant (refused: not entitled), then asks",
        req.clone(),
        grant.clone(),
    );
    c.history.push(Step::Statement {
        statement: refused_revoke,
        basis: grant.clone(),
        now: NOW,
    });
    cases.push((c, vec![]));
}
