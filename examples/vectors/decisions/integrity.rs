//! State integrity: time rules and first sightings.

use consentry::statement::Action;
use consentry::terms::DataRange;
use consentry::testing::Scenario;

use super::super::cases::{Step, case};
use super::super::common::{DAY, NOW, ROTATION, START, build};
use super::{Bases, Cases, Uses};

/// A basis from the future, a habilitation range too long, first sightings after a compromise or a
/// mandate's end, statement order and freshness.
pub fn integrity(s: &mut Scenario, cases: &mut Cases, b: &Bases, u: &Uses) {
    let Bases { grant, hab, .. } = b;
    let Uses { .. } = u;
    let future = build(
        s,
        s.grant()
            .issued_at(NOW.plus_secs(30 * DAY))
            .valid(NOW, NOW.plus_secs(365 * DAY)),
    );
    cases.push((
        case(
            s.dgfip,
            "deny-basis-from-future",
            "a grant dated 30 days ahead, beyond the 120 s clock-skew tolerance: the key and representation rules judge its issue time, so a future date is refused",
            s.sign_request(&s.request(&future)),
            future
        ),
        vec!["basis_from_future"],
    ));
    let mut wide = s.request(hab);
    wide = wide
        .to_builder()
        .data_range(
            DataRange::new(START, START.plus_secs(2 * 365 * DAY))
                .unwrap_or_else(|_| panic!("a valid range")),
        )
        .build()
        .expect("valid request");
    cases.push((
        case(
            s.dgfip,
            "deny-habilitation-data-range-too-long",
            "under the habilitation, two years of data asked for: longer than DGFiP's 366-day ceiling for the purpose",
            s.sign_request(&wide),
            hab.clone()
        ),
        vec!["data_range_too_long"],
    ));
    let backdated = build(
        s,
        s.grant()
            .issued_at(NOW.minus_secs(10 * DAY))
            .valid(NOW.minus_secs(10 * DAY), NOW.plus_secs(300 * DAY)),
    );
    let mut c = case(
        s.dgfip,
        "deny-first-seen-after-compromise",
        "a grant dated before the parent's key was reported compromised, but first seen by this ledger after the report: it may have been backdated with the stolen key",
        s.sign_request(&s.request(&backdated)),
        backdated,
    );
    c.directory = "canteen-parent-compromised";
    cases.push((c, vec!["first_seen_after_compromise"]));
    let before_end = build(
        s,
        s.grant()
            .expressed_by(s.franceconnect)
            .issued_at(ROTATION.minus_secs(30 * DAY))
            .valid(ROTATION.minus_secs(30 * DAY), NOW.plus_secs(200 * DAY)),
    );
    let mut c = case(
        s.dgfip,
        "deny-first-seen-after-representation-ended",
        "a grant FranceConnect dated within its mandate (ended 2025-06-01), first seen after the mandate ended: it may have been backdated by a former representative",
        s.sign_request(&s.request(&before_end)),
        before_end,
    );
    c.directory = "canteen-mandate-ended";
    cases.push((c, vec!["first_seen_after_representation_ended"]));
    let early_resume = s.statement(grant, Action::Resume, s.franceconnect);
    s.now = NOW.plus_secs(30);
    let pause = s.statement(grant, Action::Pause, s.parent);
    s.now = NOW.plus_secs(60);
    let after = s.sign_request(&s.request(grant));
    s.now = NOW;
    let mut c = case(
        s.dgfip,
        "deny-paused-resume-predates-pause",
        "FranceConnect signed a resume at 2025-09-01T00:00:00, the parent paused 30 s later; the resume, applied after the pause, is refused (statement/resume_predates_pause)",
        after,
        grant.clone(),
    );
    c.history.push(Step::Statement {
        statement: pause,
        basis: grant.clone(),
        now: NOW.plus_secs(30),
    });
    c.history.push(Step::Statement {
        statement: early_resume,
        basis: grant.clone(),
        now: NOW.plus_secs(60),
    });
    c.now = NOW.plus_secs(60);
    cases.push((c, vec!["paused"]));
    let stale_revoke = s.statement(grant, Action::Revoke, s.parent);
    let mut c = case(
        s.dgfip,
        "allow-stale-revocation-refused",
        "a revocation signed at 2025-09-01T00:00:00 and presented 301 s later, past the freshness window, is refused (statement/statement_too_old); the grant stays in force",
        {
            s.now = NOW.plus_secs(301);
            let r = s.sign_request(&s.request(grant));
            s.now = NOW;
            r
        },
        grant.clone(),
    );
    c.history.push(Step::Statement {
        statement: stale_revoke,
        basis: grant.clone(),
        now: NOW.plus_secs(301),
    });
    c.now = NOW.plus_secs(301);
    cases.push((c, vec![]));
}
