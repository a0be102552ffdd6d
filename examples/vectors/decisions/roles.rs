//! Stage 3, who signed: the basis named, the signers' roles, representation.

use consentry::Digest;
use consentry::grant::Grant;
use consentry::habilitation::Habilitation;
use consentry::ids::BasisId;
use consentry::signed::SignedPayload;
use consentry::terms::AccessPattern;
use consentry::testing::{self, Scenario};

use super::super::cases::case;
use super::super::common::{DAY, NOW, build, grant_for, year};
use super::{Bases, Cases};

/// The basis and its hash, signers without their role, mandates and representation.
pub fn roles(s: &mut Scenario, cases: &mut Cases, b: &Bases) {
    let Bases {
        grant, fc_grant, ..
    } = b;
    let other_basis = {
        let mut r = s.request(grant);
        r = r
            .to_builder()
            .basis_id(BasisId(s.next_uuid()))
            .build()
            .expect("valid request");
        s.sign_request(&r)
    };
    cases.push((
        case(
            s.dgfip,
            "deny-basis-mismatch",
            "the request names another basis id (with the right hash)",
            other_basis,
            grant.clone(),
        ),
        vec!["basis_mismatch"],
    ));
    let bad_hash = {
        let mut r = s.request(grant);
        r = r
            .to_builder()
            .basis_digest(Digest::of(b"another grant"))
            .build()
            .expect("valid request");
        s.sign_request(&r)
    };
    cases.push((
        case(
            s.dgfip,
            "deny-basis-hash-mismatch",
            "the request's basis hash is not the SHA-256 of the grant's bytes",
            bad_hash,
            grant.clone(),
        ),
        vec!["basis_hash_mismatch"],
    ));
    let fc_consumer_grant = build(
        s,
        Grant::builder(
            BasisId(s.next_uuid()),
            s.parent,
            s.franceconnect,
            testing::canteen_purpose(),
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
            "deny-consumer-without-role",
            "a grant to FranceConnect, which is not a consumer; FranceConnect asks",
            s.sign_request(&s.request(&fc_consumer_grant)),
            fc_consumer_grant,
        ),
        vec!["signer_not_entitled"],
    ));
    let mairie_subject = build(s, grant_for(s, s.mairie));
    cases.push((
        case(
            s.dgfip,
            "deny-subject-without-role",
            "a grant whose subject (and signer) is the city hall, which is not a subject",
            s.sign_request(&s.request(&mairie_subject)),
            mairie_subject,
        ),
        vec!["signer_not_entitled"],
    ));
    let fake_hab = {
        let h = s.habilitation();
        let mut b = Habilitation::builder(h.id(), s.mairie, s.mairie, h.purpose().clone())
            .legal_reference(h.legal_reference())
            .issued_at(h.issued_at())
            .valid(h.not_before(), h.expires_at())
            .retention_secs(h.retention_secs());
        for entry in h.scope().entries() {
            b = b.cover(entry.provider, entry.categories.iter().cloned());
        }
        let h = b.build(&s.ceilings).unwrap_or_else(|e| unreachable!("{e}"));
        h.sign(s.key(s.mairie))
    };
    cases.push((
        case(
            s.dgfip,
            "deny-habilitation-not-by-authority",
            "a habilitation issued by the city hall for itself",
            s.sign_request(&s.request(&fake_hab)),
            fake_hab,
        ),
        vec!["signer_not_entitled"],
    ));
    let other_mandate = build(s, s.grant().expressed_by(s.other_consumer));
    let other_mandate_req = s.sign_request(&s.request(&other_mandate));
    let mut c = case(
        s.dgfip,
        "deny-mandate-to-non-consent-manager",
        "a grant expressed by Villeurbanne under a mandate, but Villeurbanne is not a consent manager",
        other_mandate_req.clone(),
        other_mandate.clone(),
    );
    c.directory = "canteen-extra-mandate";
    cases.push((c, vec!["signer_not_entitled"]));
    cases.push((
        case(
            s.dgfip,
            "deny-no-representation",
            "a grant for the parent expressed by Villeurbanne, which does not represent her",
            other_mandate_req,
            other_mandate,
        ),
        vec!["representation_not_valid"],
    ));
    let mut c = case(
        s.dgfip,
        "deny-mandate-ended",
        "a grant expressed by FranceConnect on 2025-09-01; its mandate ended 2025-06-01",
        s.sign_request(&s.request(fc_grant)),
        fc_grant.clone(),
    );
    c.directory = "canteen-mandate-ended";
    cases.push((c, vec!["representation_not_valid"]));
}
