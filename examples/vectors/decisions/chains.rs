//! Chains of representation: FranceConnect under a mandate, for the child through the parent;
//! a three-link chain through the parent's guardian; a chain too long to be read; a company's
//! grant by its legal representative.

use consentry::Digest;
use consentry::cose::ObjectKind;
use consentry::danger;
use consentry::ids::RequestId;
use consentry::request::Request;
use consentry::testing::{Scenario, party_for};

use super::super::cases::case;
use super::super::common::{DAY, NOW, ROTATION, build, enc, grant_for, payload_of, with, year};
use super::Cases;

/// A two-link chain allowed, a broken middle link, a link ended before use, four links.
pub fn chains(s: &mut Scenario, cases: &mut Cases) {
    let chain = build(s, grant_for(s, s.child).chain([s.franceconnect, s.parent]));
    cases.push((
        case(
            s.dgfip,
            "allow-grant-by-chain",
            "a grant about the child expressed by FranceConnect under the parent's mandate, through the parent, the child's parent: the chain [FranceConnect, parent], two links",
            s.sign_request(&s.request(&chain)),
            chain.clone(),
        ),
        vec![],
    ));
    let guardian = party_for("guardian");
    let three = build(
        s,
        grant_for(s, s.child).chain([s.franceconnect, guardian, s.parent]),
    );
    let mut c = case(
        s.dgfip,
        "deny-chain-broken-middle-link",
        "the chain [FranceConnect, guardian, parent] for the child, issued now: FranceConnect holds the guardian's mandate and the parent represents the child, but the guardianship of the parent (the middle link) ended on 2025-06-01",
        s.sign_request(&s.request(&three)),
        three,
    );
    c.directory = "canteen-guardian";
    cases.push((c, vec!["representation_not_valid"]));
    let before_end = build(
        s,
        grant_for(s, s.child)
            .chain([s.franceconnect, guardian, s.parent])
            .issued_at(ROTATION.minus_secs(30 * DAY))
            .valid(ROTATION.minus_secs(30 * DAY), NOW.plus_secs(200 * DAY)),
    );
    let mut c = case(
        s.dgfip,
        "deny-chain-link-ended-before-use",
        "the same three-link chain dated while the guardianship held, first seen after it ended (2025-06-01): the middle link's representation ended before the grant was first seen",
        s.sign_request(&s.request(&before_end)),
        before_end,
    );
    c.directory = "canteen-guardian";
    cases.push((c, vec!["first_seen_after_representation_ended"]));
    // Four parties: no builder makes it; written over the two-link grant's payload.
    let four = enc(|e| {
        e.array(4);
        for party in [s.franceconnect, guardian, s.other_consumer, s.parent] {
            e.bytes(party.as_bytes());
        }
    });
    let long = danger::sign(
        ObjectKind::Grant,
        s.key(s.franceconnect),
        &with(&payload_of(&chain), 3, four),
    );
    let template = s.request(&chain);
    let request = Request::builder(RequestId(s.next_uuid()), s.mairie, s.dgfip, s.child)
        .basis_id(template.basis())
        .basis_digest(Digest::of(&long))
        .categories(template.categories().to_vec())
        .purpose(template.purpose().clone())
        .data_range(year(2025))
        .issued_at(NOW)
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    cases.push((
        case(
            s.dgfip,
            "deny-chain-too-long",
            "a grant whose chain names four parties (at most three links): the grant is refused when decoded (value/chain_too_long), before any link is looked up",
            s.sign_request(&request),
            long,
        ),
        vec!["malformed"],
    ));
    // A company (a legal person, no key) whose legal representative is the parent.
    let company = party_for("company");
    let by_manager = build(s, grant_for(s, company).expressed_by(s.parent));
    let mut c = case(
        s.dgfip,
        "allow-grant-for-company-by-legal-representative",
        "a grant about a company (a legal person) expressed by its legal representative, the parent: the chain [parent], backed by a representation of kind 3",
        s.sign_request(&s.request(&by_manager)),
        by_manager,
    );
    c.directory = "canteen-company";
    cases.push((c, vec![]));
    let by_stranger = build(s, grant_for(s, company).expressed_by(s.franceconnect));
    let mut c = case(
        s.dgfip,
        "deny-grant-for-company-by-non-representative",
        "a grant about the company expressed by FranceConnect, which holds no mandate from it and does not represent it",
        s.sign_request(&s.request(&by_stranger)),
        by_stranger,
    );
    c.directory = "canteen-company";
    cases.push((c, vec!["representation_not_valid"]));
}
