//! Chains of representation: a consent manager under a mandate from a parent, for the parent's
//! child. Each rule of a chain (`docs/model.md`, "Chains of representation") has its test here;
//! every expected reason is written out from the rule, never read back from the verifier.

use super::common::signed;
use consentry::decision::{Basis, ChainLink, Decision, LinkFault, Reason};
use consentry::directory::{PartyId, RepresentationKind, Role};
use consentry::grant::{Grant, GrantError};
use consentry::ledger::{InMemoryLedger, Status};
use consentry::log::Receipt;
use consentry::signed::{SignedPayload, Unverified};
use consentry::statement::Action;
use consentry::testing::{Scenario, ScenarioBuilder, canteen_purpose, kit_ceiling, party_for, rfr};
use consentry::{Timestamp, Verifier};

const DAY: u64 = 86_400;

fn decide(s: &Scenario, grant: &[u8]) -> Decision {
    s.decide(&s.sign_request(&s.request(grant)), grant)
}

/// The canteen's cast plus a guardian of the parent who gave FranceConnect a mandate, the
/// guardianship held from the epoch until `guardianship_ends`.
fn with_guardian(guardianship_ends: Option<Timestamp>) -> Scenario {
    Scenario::canteen_builder()
        .party("guardian", &[Role::Subject])
        .representation("franceconnect", "guardian", RepresentationKind::Mandate)
        .representation_during(
            "guardian",
            "parent",
            RepresentationKind::Guardian,
            Scenario::EPOCH,
            guardianship_ends,
        )
        .build()
        .expect("a valid cast")
}

/// The link as the directory backs it.
fn link(representative: PartyId, represented: PartyId, kind: RepresentationKind) -> ChainLink {
    ChainLink {
        representative,
        represented,
        kind,
    }
}

#[test]
fn a_two_link_chain_is_allowed_and_the_authorization_and_receipt_show_it() {
    let s = Scenario::canteen();
    let grant = signed(&s, s.grant_for(s.child).chain([s.franceconnect, s.parent]));
    let d = decide(&s, &grant);
    let a = d.allowed().expect("allowed");
    let consent = a.consent().expect("a grant's consent");
    assert_eq!(consent.expressed_by, s.franceconnect);
    assert_eq!(consent.subject, s.child);
    let chain = vec![
        link(s.franceconnect, s.parent, RepresentationKind::Mandate),
        link(s.parent, s.child, RepresentationKind::Parent),
    ];
    assert_eq!(consent.chain, chain);
    assert_eq!(consent.representation(), Some(RepresentationKind::Mandate));
    // The receipt carries it, and reads it back.
    let bytes = Receipt::for_authorization(a, s.next_uuid(), s.now).sign(s.key(s.dgfip));
    let receipt = Unverified::<Receipt>::parse(&bytes).expect("a receipt");
    assert_eq!(receipt.claims().chain(), &chain[..]);
    assert_eq!(
        receipt.claims().representative(),
        Some((s.franceconnect, RepresentationKind::Mandate))
    );
}

#[test]
fn a_three_link_chain_through_a_guardian_is_allowed() {
    let s = with_guardian(None);
    let guardian = s.party("guardian");
    let grant = signed(
        &s,
        s.grant_for(s.child)
            .chain([s.franceconnect, guardian, s.parent]),
    );
    let d = decide(&s, &grant);
    let chain: Vec<_> = d
        .allowed()
        .and_then(|a| a.consent())
        .map(|c| c.chain.iter().map(|l| l.kind).collect())
        .unwrap_or_default();
    assert_eq!(
        chain,
        [
            RepresentationKind::Mandate,
            RepresentationKind::Guardian,
            RepresentationKind::Parent
        ],
        "{:?}",
        d.codes()
    );
}

/// The grant is refused in every form that makes one: the builder, the JSON form and the
/// decoder, each with its own code.
#[test]
fn a_chain_is_refused_in_every_form() {
    let s = with_guardian(None);
    let (fc, guardian) = (s.franceconnect, s.party("guardian"));
    let four = [fc, guardian, s.other_consumer, s.parent];
    let cases: [(&[PartyId], GrantError, &str); 3] = [
        (
            &four,
            GrantError::ChainTooLong { links: 4 },
            "value/chain_too_long",
        ),
        (
            &[fc, s.parent, fc],
            GrantError::ChainRepeatsParty(fc),
            "value/chain_repeats_party",
        ),
        (
            &[fc, s.child],
            GrantError::ChainRepeatsParty(s.child),
            "value/chain_repeats_party",
        ),
    ];
    let good = s
        .grant_for(s.child)
        .chain([fc, s.parent])
        .build(&s.ceilings)
        .expect("a valid chain");
    for (chain, error, decode_code) in cases {
        let built = s
            .grant_for(s.child)
            .chain(chain.iter().copied())
            .build(&s.ceilings);
        assert_eq!(built, Err(error.clone()), "{chain:?}");
        let code = match &error {
            GrantError::ChainTooLong { .. } => "grant/chain_too_long",
            _ => "grant/chain_repeats_party",
        };
        assert_eq!(error.code(), code);
        // The JSON form is checked like the builder's output.
        let mut json = serde_json::to_value(&good).expect("a grant's JSON");
        json["chain"] = serde_json::to_value(chain).expect("ids");
        let from_json = serde_json::from_value::<Grant>(json).expect_err("refused");
        assert!(
            from_json.to_string().contains(&error.to_string()),
            "{from_json}"
        );
        // The decoder: the good payload with key 3 replaced.
        let mut payload = good.to_payload_bytes();
        let at = payload
            .windows(2)
            .position(|w| w == [0x03, 0x82])
            .expect("key 3, a chain of two");
        let end = at + 2 + 2 * 17;
        let mut key3 = vec![0x03, 0x80 + u8::try_from(chain.len()).expect("small")];
        for party in chain {
            key3.push(0x50);
            key3.extend_from_slice(party.as_bytes());
        }
        payload.splice(at..end, key3);
        let decoded = Grant::from_payload_bytes(&payload).expect_err("refused");
        assert_eq!(decoded.code(), decode_code, "{decoded}");
    }
}

#[test]
fn the_broken_middle_link_is_named() {
    let mut s = with_guardian(Some(Scenario::CLOCK.minus_secs(DAY)));
    let guardian = s.party("guardian");
    s.now = Scenario::CLOCK;
    let grant = signed(
        &s,
        s.grant_for(s.child)
            .chain([s.franceconnect, guardian, s.parent]),
    );
    assert_eq!(
        decide(&s, &grant).reasons(),
        [Reason::RepresentationNotValid {
            link: 1,
            representative: guardian,
            represented: s.parent,
            fault: LinkFault::NotHeld,
        }]
    );
}

#[test]
fn every_broken_link_is_named_in_chain_order() {
    let s = Scenario::canteen();
    // For the parent, through the child: FranceConnect holds no mandate from the child, and
    // the child does not represent the parent.
    let grant = signed(&s, s.grant().chain([s.franceconnect, s.child]));
    assert_eq!(
        decide(&s, &grant).reasons(),
        [
            Reason::RepresentationNotValid {
                link: 0,
                representative: s.franceconnect,
                represented: s.child,
                fault: LinkFault::NotHeld,
            },
            Reason::RepresentationNotValid {
                link: 1,
                representative: s.child,
                represented: s.parent,
                fault: LinkFault::NotHeld,
            },
        ]
    );
}

/// A cast where the parent gave a mandate to a first platform, which holds a guardian record
/// for a second platform holding the parent's mandate; and the child's parent also holds a
/// mandate from the other platform.
fn relay() -> ScenarioBuilder {
    Scenario::canteen_builder()
        .party("platform", &[Role::ConsentManager])
        .representation("platform", "franceconnect", RepresentationKind::Guardian)
}

#[test]
fn a_mandate_past_the_first_link_is_refused() {
    let s = relay().build().expect("a valid cast");
    let platform = s.party("platform");
    // platform → FranceConnect (a guardian record: held), FranceConnect → parent (a mandate,
    // as the second link: a consent manager's mandate re-delegated).
    let grant = signed(&s, s.grant().chain([platform, s.franceconnect]));
    assert_eq!(
        decide(&s, &grant).reasons(),
        [Reason::RepresentationNotValid {
            link: 1,
            representative: s.franceconnect,
            represented: s.parent,
            fault: LinkFault::MandateNotFirst,
        }]
    );
    // The same pair as the first link is the ordinary mandate.
    let direct = signed(&s, s.grant().expressed_by(s.franceconnect));
    assert!(decide(&s, &direct).is_allow());
}

#[test]
fn past_the_first_link_a_legal_record_counts_beside_a_mandate() {
    // The parent also gave FranceConnect a mandate... and FranceConnect is, oddly, also
    // recorded as the parent's guardian: past the first link only the guardian record counts.
    let s = relay()
        .representation("franceconnect", "parent", RepresentationKind::Guardian)
        .build()
        .expect("a valid cast");
    let platform = s.party("platform");
    let grant = signed(&s, s.grant().chain([platform, s.franceconnect]));
    let d = decide(&s, &grant);
    let kinds: Vec<_> = d
        .allowed()
        .and_then(|a| a.consent())
        .map(|c| c.chain.iter().map(|l| l.kind).collect())
        .unwrap_or_default();
    assert_eq!(
        kinds,
        [RepresentationKind::Guardian, RepresentationKind::Guardian],
        "{:?}",
        d.codes()
    );
}

#[test]
fn the_signer_of_a_chain_under_mandate_needs_the_consent_manager_role() {
    // Villeurbanne holds the parent's mandate but is not a consent manager.
    let s = Scenario::canteen_builder()
        .representation("other", "parent", RepresentationKind::Mandate)
        .build()
        .expect("a valid cast");
    let grant = signed(&s, s.grant_for(s.child).chain([s.other_consumer, s.parent]));
    assert_eq!(
        decide(&s, &grant).reasons(),
        [Reason::SignerNotEntitled {
            object: consentry::decision::Subject::Basis,
            signer: s.other_consumer,
            required: Role::ConsentManager,
        }]
    );
}

/// Each link is judged at the grant's issue time and, through the first sighting, at a time
/// its signer does not choose: a grant first seen after the middle link ended is refused, and
/// the reason names that link.
#[test]
fn a_link_ended_before_the_first_sighting_is_named() {
    let end = Scenario::CLOCK.plus_secs(35 * DAY); // a day after it, the grant's second monthly period has begun
    let mut s = with_guardian(Some(end));
    let guardian = s.party("guardian");
    let chain = [s.franceconnect, guardian, s.parent];
    let dated_within = signed(&s, s.grant_for(s.child).chain(chain));
    let seen_within = signed(&s, s.grant_for(s.child).chain(chain));
    let first = decide(&s, &seen_within);
    assert!(first.is_allow(), "{:?}", first.codes());
    s.now = end.plus_secs(DAY);
    assert_eq!(
        decide(&s, &dated_within).reasons(),
        [Reason::FirstSeenAfterRepresentationEnded {
            link: 1,
            representative: guardian,
            represented: s.parent,
            first_seen: s.now,
            ended_at: end,
        }]
    );
    // The grant this verifier saw before the end keeps counting, as for one link.
    assert!(decide(&s, &seen_within).is_allow());
}

/// FranceConnect under the parent's mandate until `mandate_ends`, the parent representing the
/// child until `parent_ends`, two providers and two consumers.
fn family(mandate_ends: Option<Timestamp>, parent_ends: Option<Timestamp>) -> Scenario {
    Scenario::builder()
        .party("child", &[Role::Subject])
        .party("parent", &[Role::Subject])
        .party("franceconnect", &[Role::ConsentManager])
        .party("dgfip", &[Role::Provider])
        .party("cnaf", &[Role::Provider])
        .party("mairie", &[Role::Consumer])
        .party("other", &[Role::Consumer])
        .representation_during(
            "franceconnect",
            "parent",
            RepresentationKind::Mandate,
            Scenario::EPOCH,
            mandate_ends,
        )
        .representation_during(
            "parent",
            "child",
            RepresentationKind::Parent,
            Scenario::EPOCH,
            parent_ends,
        )
        .ceiling(kit_ceiling(party_for("dgfip"), canteen_purpose(), [rfr()]))
        .ceiling(kit_ceiling(party_for("cnaf"), canteen_purpose(), [rfr()]))
        .verifier("dgfip")
        .build()
        .expect("a valid cast")
}

#[test]
fn a_party_of_the_chain_may_pause_while_its_links_hold() {
    let mut s = family(Some(Scenario::CLOCK.plus_secs(DAY)), None);
    let grant = signed(&s, s.grant_for(s.child).chain([s.franceconnect, s.parent]));
    let pause = s.statement(&grant, Action::Pause, s.franceconnect);
    assert_eq!(s.apply(&pause, &grant), Ok(Status::Paused { since: s.now }));
    // Once the mandate has ended, FranceConnect can no longer resume (nor pause) it.
    s.now = s.now.plus_secs(2 * DAY);
    let resume = s.statement(&grant, Action::Resume, s.franceconnect);
    assert_eq!(
        s.apply(&resume, &grant).map_err(|r| r.code()),
        Err("signer_not_entitled")
    );
    // A party outside the chain never could.
    let stranger = s.statement(&grant, Action::Resume, s.other_consumer);
    assert_eq!(
        s.apply(&stranger, &grant).map_err(|r| r.code()),
        Err("signer_not_entitled")
    );
}

/// A verifier of another provider first sees a grant after a link ended: refused there, while
/// the provider that saw it before keeps allowing it (sightings are kept per provider).
#[test]
fn sightings_of_a_chain_grant_are_per_provider() {
    let end = Scenario::CLOCK.plus_secs(35 * DAY); // a day after it, the grant's second monthly period has begun
    let mut s = family(None, Some(end));
    let grant = signed(
        &s,
        s.grant_for(s.child)
            .cover(s.cnaf, [rfr()])
            .chain([s.franceconnect, s.parent]),
    );
    let first = decide(&s, &grant);
    assert!(first.is_allow(), "{:?}", first.codes());
    s.now = end.plus_secs(DAY);
    assert!(decide(&s, &grant).is_allow());
    let cnaf_ledger = InMemoryLedger::new();
    let cnaf = Verifier::new(s.cnaf, &s.directory, &s.ceilings, &cnaf_ledger);
    let request = s
        .request(&grant)
        .to_builder()
        .provider(s.cnaf)
        .build()
        .expect("a request");
    let d = cnaf.decide(&s.sign_request(&request), Basis::Signed(&grant), s.now);
    assert_eq!(
        d.reasons(),
        [Reason::FirstSeenAfterRepresentationEnded {
            link: 1,
            representative: s.parent,
            represented: s.child,
            first_seen: s.now,
            ended_at: end,
        }]
    );
}
