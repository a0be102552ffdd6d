//! Stage 3, the basis's state: its window, its lifecycle, the provider's ceilings.

use consentry::grant::Grant;
use consentry::ids::BasisId;
use consentry::statement::Action;
use consentry::terms::AccessPattern;
use consentry::testing::{self, Scenario};
use consentry::vocab::Purpose;

use super::super::cases::{Step, case};
use super::super::common::{DAY, NOW, build, build_unchecked, year};
use super::{Bases, Cases, Uses};

/// Not yet valid, expired, paused, revoked, beyond the ceiling.
pub fn state(s: &mut Scenario, cases: &mut Cases, b: &Bases, u: &Uses) {
    let Bases {
        grant, req, hab, ..
    } = b;
    let Uses {
        paused_grant,
        pause,
        ..
    } = u;
    let later = build(
        s,
        s.grant()
            .valid(NOW.plus_secs(7 * DAY), NOW.plus_secs(300 * DAY)),
    );
    cases.push((
        case(
            s.dgfip,
            "deny-not-yet-valid",
            "a grant valid from 2025-09-08, asked on 2025-09-01",
            s.sign_request(&s.request(&later)),
            later,
        ),
        vec!["not_yet_valid"],
    ));
    s.now = NOW.plus_secs(366 * DAY);
    let late_req = s.sign_request(&s.request(grant));
    s.now = NOW;
    let mut c = case(
        s.dgfip,
        "deny-expired",
        "the grant asked 366 days after it was issued (valid 365 days)",
        late_req,
        grant.clone(),
    );
    c.now = NOW.plus_secs(366 * DAY);
    cases.push((c, vec!["expired"]));
    let mut c = case(
        s.dgfip,
        "deny-paused",
        "the parent paused the grant",
        s.sign_request(&s.request(paused_grant)),
        paused_grant.clone(),
    );
    c.history.push(Step::Statement {
        statement: pause.clone(),
        basis: paused_grant.clone(),
        now: NOW,
    });
    cases.push((c, vec!["paused"]));
    let fc_pause = s.statement(grant, Action::Pause, s.franceconnect);
    let mut c = case(
        s.dgfip,
        "deny-paused-by-consent-manager",
        "FranceConnect paused the parent's grant under its mandate",
        req.clone(),
        grant.clone(),
    );
    c.history.push(Step::Statement {
        statement: fc_pause,
        basis: grant.clone(),
        now: NOW,
    });
    cases.push((c, vec!["paused"]));
    let revoke = s.statement(grant, Action::Revoke, s.parent);
    s.now = NOW.plus_secs(10);
    let late_resume = s.statement(grant, Action::Resume, s.parent);
    let after_revoke = s.sign_request(&s.request(grant));
    s.now = NOW;
    let mut c = case(
        s.dgfip,
        "deny-revoked-resume-refused",
        "the parent revoked the grant; a later resume is refused (revocation is final)",
        after_revoke,
        grant.clone(),
    );
    c.history.push(Step::Statement {
        statement: revoke.clone(),
        basis: grant.clone(),
        now: NOW,
    });
    c.history.push(Step::Statement {
        statement: late_resume,
        basis: grant.clone(),
        now: NOW.plus_secs(10),
    });
    c.now = NOW.plus_secs(10);
    cases.push((c, vec!["revoked"]));
    let hab_revoke = s.statement(hab, Action::Revoke, s.authority);
    let mut c = case(
        s.dgfip,
        "deny-habilitation-revoked",
        "the ministry revoked its habilitation",
        s.sign_request(&s.request(hab)),
        hab.clone(),
    );
    c.history.push(Step::Statement {
        statement: hab_revoke,
        basis: hab.clone(),
        now: NOW,
    });
    cases.push((c, vec!["revoked"]));
    let weekly = build_unchecked(
        s,
        s.grant()
            .access(AccessPattern::periodic(1, 7 * DAY).unwrap_or_else(|_| unreachable!())),
    );
    cases.push((
        case(
            s.dgfip,
            "deny-beyond-ceiling-frequency",
            "a weekly grant: more frequent than DGFiP's ceiling (2 per 30 days)",
            s.sign_request(&s.request(&weekly)),
            weekly,
        ),
        vec!["beyond_ceiling"],
    ));
    let unopened = build_unchecked(
        s,
        Grant::builder(
            BasisId(s.next_uuid()),
            s.parent,
            s.mairie,
            Purpose::new("sport:tarification_piscine").unwrap_or_else(|_| unreachable!()),
        )
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
            "deny-beyond-ceiling-purpose-not-opened",
            "a grant for a purpose DGFiP published no ceiling for",
            s.sign_request(&s.request(&unopened)),
            unopened,
        ),
        vec!["beyond_ceiling"],
    ));
}
