//! Valid objects: grants, the habilitation, requests and statements.

use consentry::Timestamp;
use consentry::cose::{self, ObjectKind};
use consentry::danger;
use consentry::grant::Grant;
use consentry::ids::BasisId;
use consentry::signed::SignedPayload;
use consentry::statement::Action;
use consentry::terms::{AccessPattern, DataRange};
use consentry::testing::{self, Scenario, key_for};
use consentry::vocab::Purpose;

use super::super::cases::Gen;
use super::super::common::{
    DAY, alg, build, ct, grant_for, kid, payload_of, protected, signed_with, year,
};
use super::Objects;

/// Builds the objects, in the order that fixes their ids and times.
pub fn fixtures(s: &Scenario) -> Objects {
    let pk = key_for("parent");
    let grant = build(s, s.grant());
    let fc_grant = build(s, s.grant().expressed_by(s.franceconnect));
    let child_grant = build(s, grant_for(s, s.child).expressed_by(s.parent));
    let one_time = build(s, s.grant().access(AccessPattern::one_time()));
    let onward = {
        let b = Grant::builder(
            BasisId(s.next_uuid()),
            s.parent,
            s.mairie,
            Purpose::new("education:tarification_cantine").unwrap_or_else(|_| unreachable!()),
        )
        .cover(s.dgfip, [testing::household(), testing::rfr()])
        .cover(s.cnaf, [testing::quotient_familial()])
        .issued_at(s.now)
        .valid(s.now, s.now.plus_secs(90 * DAY))
        .access(AccessPattern::periodic(2, 30 * DAY).unwrap_or_else(|_| unreachable!()))
        .data_range(year(2024))
        .retention_secs(30 * DAY)
        .allow_onward_transfer();
        build(s, b)
    };
    let hab = s.habilitation().sign(s.key(s.authority));
    let request = s.sign_request(&s.request(&grant));
    let hab_request = s.sign_request(&s.request(&hab));
    let pause = s.statement(&grant, Action::Pause, s.parent);
    let resume = s.statement(&grant, Action::Resume, s.parent);
    let revoke = s.statement(&grant, Action::Revoke, s.parent);
    let fc_pause = s.statement(&grant, Action::Pause, s.franceconnect);
    let hab_revoke = s.statement(&hab, Action::Revoke, s.authority);
    let grant_payload = payload_of(&grant);
    let reordered = signed_with(
        &pk,
        &protected(&[kid(&pk), ct(65_001), alg(-8)]),
        &grant_payload,
    );
    let rotated_grant = {
        let gr = s
            .grant()
            .build(&s.ceilings)
            .unwrap_or_else(|e| panic!("{e}"));
        gr.sign(&key_for("parent-2"))
    };
    let other_request = {
        let mut r = s.request(&grant);
        r = r
            .to_builder()
            .categories(vec![testing::household(), testing::rfr()])
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
    let statement_payload = payload_of(&pause);
    let request_payload = payload_of(&request);
    let hab_payload = payload_of(&hab);
    let mk = key_for("mairie");
    let prot = cose::protected_header(ObjectKind::Grant, &pk.key_id());
    let sig = danger::sign_raw(&pk, &cose::sig_structure(&prot, &grant_payload)).to_vec();
    Objects {
        pk,
        mk,
        grant,
        fc_grant,
        child_grant,
        one_time,
        onward,
        hab,
        request,
        hab_request,
        pause,
        resume,
        revoke,
        fc_pause,
        hab_revoke,
        reordered,
        rotated_grant,
        other_request,
        grant_payload,
        statement_payload,
        request_payload,
        hab_payload,
        prot,
        sig,
    }
}

/// Valid grants: by the subject, a consent manager, a legal representative; one-time, onward
/// transfer; a reordered header; a rotated key.
pub fn grants(g: &mut Gen, o: &Objects) {
    use ObjectKind::Grant as G;
    let Objects {
        grant,
        fc_grant,
        child_grant,
        one_time,
        onward,
        reordered,
        rotated_grant,
        ..
    } = o;
    g.valid(
        "grant-by-parent",
        "the parent's canteen grant to the city hall: reference tax income at DGFiP, monthly, tax year 2025, kept one year",
        G,
        grant.clone(),
    );
    g.valid(
        "grant-by-franceconnect",
        "the same grant expressed and signed by FranceConnect under the parent's mandate",
        G,
        fc_grant.clone(),
    );
    g.valid(
        "grant-for-child-by-parent",
        "a grant about the child, expressed and signed by the parent as legal representative",
        G,
        child_grant.clone(),
    );
    g.valid(
        "grant-one-time",
        "a one-time grant: access pattern [0]",
        G,
        one_time.clone(),
    );
    g.valid(
        "grant-onward-transfer-two-providers",
        "a grant without purpose text (key 7 absent), two providers in scope, two categories at DGFiP, periodic 2 per 30 days, onward transfer allowed (key 14 = true)",
        G,
        onward.clone(),
    );
    g.valid(
        "grant-header-reordered",
        "the parent's grant payload under a protected header written {4: kid, 3: content type, 1: alg}: accepted, parameter order is not checked",
        G,
        reordered.clone(),
    );
    g.valid_in(
        "grant-by-rotated-key",
        "a grant signed with the parent's second key, valid from 2025-06-01",
        G,
        "canteen-rotated",
        rotated_grant.clone(),
    );
}

/// The valid habilitation and requests.
pub fn habilitation_and_requests(g: &mut Gen, o: &Objects) {
    use ObjectKind::{Habilitation as H, Request as R};
    let Objects {
        hab,
        request,
        hab_request,
        other_request,
        ..
    } = o;
    g.valid(
        "habilitation",
        "the ministry's habilitation for the city hall: family quotient at CNAF and reference tax income at DGFiP",
        H,
        hab.clone(),
    );
    g.valid(
        "request-under-grant",
        "the city hall's request to DGFiP under grant-by-parent",
        R,
        request.clone(),
    );
    g.valid(
        "request-under-habilitation",
        "the city hall's request to DGFiP under the habilitation",
        R,
        hab_request.clone(),
    );
    g.valid(
        "request-two-categories",
        "a request for two categories (sorted) and half of tax year 2025",
        R,
        other_request.clone(),
    );
}

/// Valid statements: pause, resume, revoke, by the subject, a consent manager, the authority.
pub fn statements(g: &mut Gen, o: &Objects) {
    use ObjectKind::Statement as S;
    let Objects {
        pause,
        resume,
        revoke,
        fc_pause,
        hab_revoke,
        ..
    } = o;
    g.valid(
        "statement-pause",
        "the parent pauses grant-by-parent",
        S,
        pause.clone(),
    );
    g.valid(
        "statement-resume",
        "the parent resumes grant-by-parent",
        S,
        resume.clone(),
    );
    g.valid(
        "statement-revoke",
        "the parent revokes grant-by-parent",
        S,
        revoke.clone(),
    );
    g.valid(
        "statement-pause-by-franceconnect",
        "FranceConnect pauses grant-by-parent (entitlement is a decision rule, not an object rule)",
        S,
        fc_pause.clone(),
    );
    g.valid(
        "statement-revoke-habilitation",
        "the ministry revokes its habilitation",
        S,
        hab_revoke.clone(),
    );
}
