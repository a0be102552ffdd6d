//! The auditor's kit beyond the canteen: a cast built by name, rotated keys, representation
//! windows and ceilings given to the builder, its refusals, and an audit of the log written
//! with the log helpers.

use consentry::ceiling::{CeilingExcess, Ceilings, PurposeCeiling};
use consentry::decision::StatementRefusal;
use consentry::directory::{DirectoryError, RepresentationKind, Role};
use consentry::grant::{Grant, GrantBuilder, GrantError};
use consentry::ids::BasisId;
use consentry::ledger::Status;
use consentry::log::{EntryKind, HistoryReport, LogError};
use consentry::signed::SignedPayload;
use consentry::statement::Action;
use consentry::terms::{AccessPattern, DataRange};
use consentry::testing::{
    LOG_OPERATOR, Scenario, ScenarioBuilder, ScenarioError, canteen_purpose, key_for, kit_ceiling,
    party_for,
};
use consentry::vocab::{Category, Purpose};
use consentry::{PartyId, Timestamp};

const DAY: u64 = 86_400;

fn category(code: &str) -> Category {
    Category::new(code).expect("a category code")
}

fn credit() -> Purpose {
    Purpose::new("finance:instruction_credit").expect("a purpose code")
}

fn tax_return() -> Category {
    category("dgfip:liasse_fiscale")
}

fn contributions() -> Category {
    category("urssaf:attestation_vigilance")
}

/// A business-data exchange: a company, two providers (the tax office and the social
/// contributions office), a bank asking for both, and a platform with the company's mandate.
fn business() -> ScenarioBuilder {
    Scenario::builder()
        .party_named("company", "Boulangerie Dupont SARL", &[Role::Subject])
        .party("tax", &[Role::Provider])
        .party("urssaf", &[Role::Provider])
        .party("bank", &[Role::Consumer])
        .party("platform", &[Role::ConsentManager])
        .representation("platform", "company", RepresentationKind::Mandate)
        .ceiling(kit_ceiling(party_for("tax"), credit(), [tax_return()]))
        .ceiling(kit_ceiling(
            party_for("urssaf"),
            credit(),
            [contributions()],
        ))
}

/// The company's grant to the bank, at both providers, issued now, for 90 days.
fn credit_grant(s: &Scenario) -> GrantBuilder {
    Grant::builder(
        BasisId(s.next_uuid()),
        s.party("company"),
        s.party("bank"),
        credit(),
    )
    .cover(s.party("tax"), [tax_return()])
    .cover(s.party("urssaf"), [contributions()])
    .issued_at(s.now)
    .valid(s.now, s.now.plus_secs(90 * DAY))
    .access(AccessPattern::MONTHLY)
    .data_range(DataRange::year(2024).expect("a year"))
    .retention_secs(30 * DAY)
}

fn signed(s: &Scenario, builder: GrantBuilder) -> Vec<u8> {
    s.sign_grant(&builder.build(&s.ceilings).expect("within the ceilings"))
}

/// The codes of a decision on a fresh request for `grant`.
fn codes(s: &Scenario, grant: &[u8]) -> Vec<&'static str> {
    let request = s.sign_request(&s.request(grant));
    s.decide(&request, grant).codes()
}

#[test]
fn the_builder_casts_a_business_data_exchange() {
    let builder = business();
    let at_tax = builder.clone().build().expect("a valid cast");
    let at_urssaf = builder.verifier("urssaf").build().expect("a valid cast");

    // Ids and keys come from the names; the first provider decides unless told otherwise.
    let (company, tax) = (at_tax.party("company"), at_tax.party("tax"));
    assert_eq!(company, party_for("company"));
    assert_eq!(at_tax.verifier_provider, tax);
    assert_eq!(at_urssaf.verifier_provider, party_for("urssaf"));
    assert_eq!(at_tax.now, Scenario::CLOCK);
    let party = at_tax.directory.party(&company).expect("in the directory");
    assert_eq!(party.name, "Boulangerie Dupont SARL");
    assert_eq!(party.roles, [Role::Subject]);
    assert_eq!(party.keys.len(), 1);
    assert_eq!(party.keys[0].kid(), key_for("company").key_id());
    assert_eq!(party.keys[0].valid_from, Scenario::EPOCH);
    assert_eq!(at_tax.directory.parties().len(), 5);
    assert_eq!(
        at_tax
            .directory
            .representation(party_for("platform"), company, at_tax.now)
            .map(|r| r.kind),
        Some(RepresentationKind::Mandate)
    );
    assert!(at_tax.directory.party(&at_tax.parent).is_none());

    // The platform's grant under mandate is allowed at each provider, each releasing its own
    // share of the scope.
    for (s, share) in [(&at_tax, tax_return()), (&at_urssaf, contributions())] {
        let grant = signed(s, credit_grant(s).expressed_by(party_for("platform")));
        let request = s.sign_request(&s.request(&grant));
        let decision = s.decide(&request, &grant);
        let allow = decision.allowed().expect("allowed");
        assert_eq!(allow.provider(), s.verifier_provider);
        assert_eq!(allow.subject(), company);
        assert_eq!(allow.categories(), [share]);
    }
}

#[test]
fn the_canteen_builder_takes_more_parties() {
    let s = Scenario::canteen_builder()
        .party("bank", &[Role::Consumer])
        .build()
        .expect("a valid cast");
    assert_eq!(s.directory.parties().len(), 9);
    assert_eq!(s.verifier_provider, s.dgfip);
    let grant = signed(&s, s.grant());
    // The bank is no party to the city hall's grant; the city hall is.
    let stranger = s.request(&grant).to_builder().consumer(s.party("bank"));
    let stranger = s.sign_request(&stranger.build().expect("a request"));
    assert_eq!(s.decide(&stranger, &grant).codes(), ["consumer_mismatch"]);
    assert_eq!(codes(&s, &grant), Vec::<&str>::new());
}

#[test]
fn a_rotated_key_is_honoured_at_the_right_times() {
    let rotation = Timestamp::from_secs(1_748_736_000); // 2025-06-01
    let mut s = business()
        .rotate_key("company", "company-2", rotation)
        .clock(rotation.minus_secs(10 * DAY))
        .build()
        .expect("a valid cast");
    let company = s.party("company");
    let keys = &s.directory.party(&company).expect("in the directory").keys;
    assert_eq!(
        keys.iter()
            .map(|k| (k.kid(), k.valid_from, k.valid_until))
            .collect::<Vec<_>>(),
        [
            (key_for("company").key_id(), Scenario::EPOCH, Some(rotation)),
            (key_for("company-2").key_id(), rotation, None),
        ]
    );

    // Before the rotation the kit signs with the first key, which counts; the second does not
    // yet.
    assert_eq!(s.key(company).key_id(), key_for("company").key_id());
    let before = signed(&s, credit_grant(&s));
    assert_eq!(codes(&s, &before), Vec::<&str>::new());
    let early = credit_grant(&s)
        .build(&s.ceilings)
        .expect("within the ceilings");
    assert_eq!(
        codes(&s, &early.sign(&key_for("company-2"))),
        ["key_not_valid"]
    );
    let unused = signed(&s, credit_grant(&s));

    // After it, the kit signs with the second key; the first signs nothing new, but a grant it
    // signed before the rotation still counts.
    s.advance_days(20);
    assert_eq!(s.key(company).key_id(), key_for("company-2").key_id());
    let after = signed(&s, credit_grant(&s));
    assert_eq!(codes(&s, &after), Vec::<&str>::new());
    let stale = credit_grant(&s)
        .build(&s.ceilings)
        .expect("within the ceilings");
    assert_eq!(
        codes(&s, &stale.sign(&key_for("company"))),
        ["key_not_valid"]
    );
    assert_eq!(codes(&s, &unused), Vec::<&str>::new());
}

#[test]
fn a_representation_window_is_honoured() {
    let (from, until) = (
        Scenario::CLOCK.minus_secs(30 * DAY),
        Scenario::CLOCK.plus_secs(30 * DAY),
    );
    let mut s = Scenario::builder()
        .party("company", &[Role::Subject])
        .party("tax", &[Role::Provider])
        .party("bank", &[Role::Consumer])
        .party("accountant", &[Role::ConsentManager])
        .representation_during(
            "accountant",
            "company",
            RepresentationKind::Mandate,
            from,
            Some(until),
        )
        .ceiling(kit_ceiling(party_for("tax"), credit(), [tax_return()]))
        .build()
        .expect("a valid cast");
    let by_accountant = |s: &Scenario| {
        let grant = Grant::builder(
            BasisId(s.next_uuid()),
            s.party("company"),
            s.party("bank"),
            credit(),
        )
        .expressed_by(s.party("accountant"))
        .cover(s.party("tax"), [tax_return()])
        .issued_at(s.now)
        .valid(s.now, s.now.plus_secs(90 * DAY))
        .access(AccessPattern::MONTHLY)
        .data_range(DataRange::year(2024).expect("a year"))
        .retention_secs(30 * DAY);
        signed(s, grant)
    };
    for (at, expected) in [
        (from.minus_secs(1), vec!["representation_not_valid"]),
        (from, vec![]),
        (until.minus_secs(1), vec![]),
        (until, vec!["representation_not_valid"]),
    ] {
        s.now = at;
        let grant = by_accountant(&s);
        assert_eq!(codes(&s, &grant), expected, "a grant issued at {at}");
    }
    // A grant signed while the mandate held, first seen once it has ended, is refused too.
    s.now = until.minus_secs(60);
    let late = by_accountant(&s);
    s.now = until.plus_secs(60);
    assert_eq!(codes(&s, &late), ["first_seen_after_representation_ended"]);
}

#[test]
fn a_ceiling_added_through_the_builder_refuses_a_grant_beyond_it() {
    let tax = party_for("tax");
    let strict = PurposeCeiling {
        max_retention_secs: 20 * DAY,
        ..kit_ceiling(tax, credit(), [tax_return()])
    };
    let s = Scenario::builder()
        .party("company", &[Role::Subject])
        .party("tax", &[Role::Provider])
        .party("urssaf", &[Role::Provider])
        .party("bank", &[Role::Consumer])
        .ceiling(strict)
        .build()
        .expect("a valid cast");
    // 30 days of retention, at the tax office only: beyond its 20 days.
    let only_tax = |s: &Scenario, retention: u64| {
        Grant::builder(
            BasisId(s.next_uuid()),
            s.party("company"),
            s.party("bank"),
            credit(),
        )
        .cover(tax, [tax_return()])
        .issued_at(s.now)
        .valid(s.now, s.now.plus_secs(90 * DAY))
        .access(AccessPattern::MONTHLY)
        .data_range(DataRange::year(2024).expect("a year"))
        .retention_secs(retention)
    };
    assert_eq!(
        only_tax(&s, 30 * DAY).build(&s.ceilings),
        Err(GrantError::BeyondCeiling(vec![CeilingExcess::Retention {
            provider: tax,
            max_secs: 20 * DAY,
        }]))
    );
    assert!(only_tax(&s, 20 * DAY).build(&s.ceilings).is_ok());
    // The social contributions office published no ceiling: the purpose is not open there.
    assert_eq!(
        credit_grant(&s).retention_secs(20 * DAY).build(&s.ceilings),
        Err(GrantError::BeyondCeiling(vec![CeilingExcess::NoCeiling {
            provider: party_for("urssaf"),
        }]))
    );
    // A grant built against laxer ceilings is refused by the scenario's verifier.
    let mut lax = Ceilings::new();
    lax.publish(kit_ceiling(tax, credit(), [tax_return()]));
    let beyond = s.sign_grant(
        &only_tax(&s, 30 * DAY)
            .build(&lax)
            .expect("within the lax ceiling"),
    );
    assert_eq!(codes(&s, &beyond), ["beyond_ceiling"]);
}

#[test]
fn every_builder_refusal_is_its_typed_error() {
    let one = |name: &str| Scenario::builder().party(name, &[Role::Provider]);
    let a = party_for("a");
    let unknown = DirectoryError::UnknownParty(party_for("ghost"));
    let mut too_many = one("a");
    for n in 0..64 {
        too_many = too_many.extra_key("a", &format!("a-{n}"), Scenario::EPOCH);
    }
    let cases: Vec<(ScenarioBuilder, ScenarioError, &str)> = vec![
        (
            one("a").party("a", &[Role::Consumer]),
            DirectoryError::DuplicateParty(a).into(),
            "directory/duplicate_party",
        ),
        (
            one("a").party("b", &[]),
            DirectoryError::NoRole(party_for("b")).into(),
            "directory/no_role",
        ),
        (
            one("a").party("b", &[Role::Consumer, Role::Consumer]),
            DirectoryError::DuplicateRole(party_for("b")).into(),
            "directory/duplicate_role",
        ),
        (
            one("a").party_named("b", "", &[Role::Consumer]),
            DirectoryError::BadName(party_for("b")).into(),
            "directory/bad_name",
        ),
        (
            too_many,
            DirectoryError::TooManyKeys(a).into(),
            "directory/too_many_keys",
        ),
        (
            one("a")
                .party("b", &[Role::Consumer])
                .extra_key("b", "a", Scenario::EPOCH),
            DirectoryError::DuplicateKey(key_for("a").key_id()).into(),
            "directory/duplicate_key",
        ),
        (
            one("a").rotate_key("a", "a-2", Scenario::EPOCH),
            DirectoryError::EmptyWindow(key_for("a").key_id()).into(),
            "directory/empty_window",
        ),
        (
            one("a").extra_key("ghost", "ghost-2", Scenario::EPOCH),
            unknown.clone().into(),
            "directory/unknown_party",
        ),
        (
            one("a").rotate_key("ghost", "ghost-2", Scenario::CLOCK),
            unknown.clone().into(),
            "directory/unknown_party",
        ),
        (
            one("a").representation("a", "ghost", RepresentationKind::Mandate),
            unknown.clone().into(),
            "directory/unknown_party",
        ),
        (
            one("a").ceiling(kit_ceiling(party_for("ghost"), credit(), [tax_return()])),
            unknown.clone().into(),
            "directory/unknown_party",
        ),
        (
            one("a").verifier("ghost"),
            unknown.clone().into(),
            "directory/unknown_party",
        ),
        (
            one("a").party("b", &[Role::Consumer]).verifier("b"),
            ScenarioError::NotAProvider(party_for("b")),
            "kit/not_a_provider",
        ),
        (
            Scenario::builder().party("b", &[Role::Consumer]),
            ScenarioError::NoProvider,
            "kit/no_provider",
        ),
        (
            Scenario::builder(),
            ScenarioError::NoProvider,
            "kit/no_provider",
        ),
        // The first mistake is reported: the key given to nobody, before the party added twice.
        (
            one("a")
                .party("a", &[Role::Provider])
                .extra_key("ghost", "g", Scenario::EPOCH),
            unknown.into(),
            "directory/unknown_party",
        ),
    ];
    for (builder, expected, code) in cases {
        let error = builder.build().err().expect("refused");
        assert_eq!(error, expected);
        assert_eq!(error.code(), code);
    }
    // And a cast without any of those mistakes builds.
    assert!(
        one("a")
            .party("b", &[Role::Consumer, Role::Subject])
            .build()
            .is_ok()
    );
}

/// The indices of the entries a report proved, and their kinds.
fn proved(report: &HistoryReport) -> Vec<(u64, EntryKind)> {
    assert!(report.is_clean(), "{:?}", report.failures);
    report
        .verified
        .iter()
        .map(|e| (e.index, e.entry.kind()))
        .collect()
}

#[test]
fn an_audit_of_the_log_is_as_short_as_a_decision() -> Result<(), LogError> {
    let mut s = Scenario::canteen();
    let grant = signed(&s, s.grant());
    // Given the parent's grant, logged as issued, and the city hall's requests decided and
    // logged: one about the child, denied and attributed to the child…
    assert_eq!(s.log_grant(&grant)?, 0);
    let about_child = s.request(&grant).to_builder().subject(s.child);
    let about_child = s.sign_request(&about_child.build().expect("a request"));
    assert_eq!(
        s.decide_and_log(&about_child, &grant).codes(),
        ["subject_mismatch"]
    );
    // …then an allow, and a denial by frequency…
    let request = s.sign_request(&s.request(&grant));
    assert!(s.decide_and_log(&request, &grant).is_allow());
    let again = s.sign_request(&s.request(&grant));
    assert_eq!(
        s.decide_and_log(&again, &grant).codes(),
        ["frequency_exhausted"]
    );
    let early = s.sign_head();
    // …the parent's pause, applied and logged, and a pause by the other city hall, refused and
    // not logged…
    let pause = s.statement(&grant, Action::Pause, s.parent);
    assert_eq!(
        s.apply_and_log(&pause, &grant),
        Ok(Status::Paused { since: s.now })
    );
    let meddling = s.statement(&grant, Action::Revoke, s.other_consumer);
    assert!(matches!(
        s.apply_and_log(&meddling, &grant),
        Err(StatementRefusal::NotEntitled { .. })
    ));
    // …and a request next month, denied as paused.
    s.advance_days(31);
    let paused = s.sign_request(&s.request(&grant));
    assert_eq!(s.decide_and_log(&paused, &grant).codes(), ["paused"]);
    assert_eq!(s.log.len(), 6);

    // When the operator signs a head, the parent's history is proved against it: exactly
    // their five entries, in order.
    let head = s.sign_head();
    let parent = s.proven_history(s.parent, &head)?;
    assert_eq!(
        proved(&parent),
        [
            (0, EntryKind::GrantIssued),
            (2, EntryKind::Receipt),
            (3, EntryKind::Denial),
            (4, EntryKind::Statement),
            (5, EntryKind::Denial),
        ]
    );
    // The receipt is the provider's, and states the allowed transfer.
    let receipt = &parent.verified[1].entry;
    let consentry::log::LogEntry::Receipt(receipt) = receipt else {
        panic!("a receipt: {receipt:?}")
    };
    let receipt = receipt.verify(&s.directory).expect("signed by DGFiP");
    assert_eq!(
        (receipt.claims().provider(), receipt.claims().consumer()),
        (s.dgfip, s.mairie)
    );
    // The child's history holds the one entry about them, and none of the parent's.
    assert_eq!(
        proved(&s.proven_history(s.child, &head)?),
        [(1, EntryKind::Denial)]
    );
    assert!(proved(&s.proven_history(s.cnaf, &head)?).is_empty());
    // The earlier head proves only what the log held then.
    assert_eq!(
        proved(&s.proven_history(s.parent, &early)?),
        [
            (0, EntryKind::GrantIssued),
            (2, EntryKind::Receipt),
            (3, EntryKind::Denial)
        ]
    );
    // A head not signed by the operator's key proves nothing.
    let forged = s.log.sign_head(&key_for("stranger"), s.log_operator, s.now);
    assert!(matches!(
        s.proven_history(s.parent, &forged),
        Err(LogError::WrongKey { .. })
    ));
    assert_eq!(s.log_operator, party_for(LOG_OPERATOR));
    Ok(())
}

#[test]
fn a_statement_is_logged_only_about_its_basis() -> Result<(), LogError> {
    let mut s = Scenario::canteen();
    let grant = signed(&s, s.grant());
    let other = signed(&s, s.grant());
    let pause = s.statement(&grant, Action::Pause, s.parent);
    assert!(matches!(
        s.log_statement(&pause, &other),
        Err(LogError::StatementNotAboutBasis { .. })
    ));
    assert!(s.log.is_empty());
    // A statement about a habilitation is in nobody's history.
    let habilitation = s.habilitation().sign(s.key(s.authority));
    let suspend = s.statement(&habilitation, Action::Pause, s.authority);
    assert_eq!(s.log_statement(&suspend, &habilitation)?, 0);
    assert_eq!(s.log_statement(&pause, &grant)?, 1);
    let head = s.sign_head();
    assert_eq!(
        proved(&s.proven_history(s.parent, &head)?),
        [(1, EntryKind::Statement)]
    );
    Ok(())
}

#[test]
#[should_panic(expected = "no party named bank in the cast")]
fn a_name_not_in_the_cast_is_a_mistake_in_the_test() {
    let _ = Scenario::canteen().party("bank");
}

// The kit's ids are the names' ids, whoever holds them.
#[test]
fn the_canteen_fields_name_the_canteen_ids() {
    let s = Scenario::canteen();
    let named: [(PartyId, &str); 8] = [
        (s.parent, "parent"),
        (s.child, "child"),
        (s.dgfip, "dgfip"),
        (s.cnaf, "cnaf"),
        (s.mairie, "mairie"),
        (s.other_consumer, "other"),
        (s.franceconnect, "franceconnect"),
        (s.authority, "authority"),
    ];
    for (id, name) in named {
        assert_eq!((id, s.party(name)), (party_for(name), party_for(name)));
    }
    assert_eq!(s.now, Scenario::CLOCK);
    assert_eq!(
        s.ceilings.get(&s.dgfip, canteen_purpose().code()),
        Some(&kit_ceiling(
            s.dgfip,
            canteen_purpose(),
            [consentry::testing::rfr(), consentry::testing::household()]
        ))
    );
}

/// "FranceConnect, by a parent, for a minor": FranceConnect holds the parent's mandate, the
/// parent represents the child until the child comes of age. The grant FranceConnect signs
/// names the chain [FranceConnect, parent]; the child's proven history shows it; once the
/// parent's representation has ended, a provider that first sees the grant is refused, with
/// the reason naming the parent's link.
#[test]
fn a_consent_manager_acting_for_a_parent_for_a_child() -> Result<(), LogError> {
    let coming_of_age = Scenario::CLOCK.plus_secs(45 * DAY);
    let canteen = canteen_purpose();
    let rfr = consentry::testing::rfr();
    let qf = consentry::testing::quotient_familial();
    let mut s = Scenario::builder()
        .party_named("franceconnect", "FranceConnect", &[Role::ConsentManager])
        .party_named("parent", "Camille Martin", &[Role::Subject])
        .party_named("child", "Léa Martin", &[Role::Subject])
        .party("dgfip", &[Role::Provider])
        .party("cnaf", &[Role::Provider])
        .party("mairie", &[Role::Consumer])
        .representation("franceconnect", "parent", RepresentationKind::Mandate)
        .representation_during(
            "parent",
            "child",
            RepresentationKind::Parent,
            Scenario::EPOCH,
            Some(coming_of_age),
        )
        .ceiling(kit_ceiling(
            party_for("dgfip"),
            canteen.clone(),
            [rfr.clone()],
        ))
        .ceiling(kit_ceiling(party_for("cnaf"), canteen, [qf.clone()]))
        .verifier("dgfip")
        .build()
        .expect("a valid cast");
    let (fc, parent, child) = (
        s.party("franceconnect"),
        s.party("parent"),
        s.party("child"),
    );
    let grant = signed(
        &s,
        s.grant_for(child).cover(s.cnaf, [qf]).chain([fc, parent]),
    );
    s.log_grant(&grant)?;

    // The city hall asks DGFiP: allowed, the authorization names the chain.
    let request = s.sign_request(&s.request(&grant));
    let allow = s.decide_and_log(&request, &grant);
    let chain = [
        (fc, parent, RepresentationKind::Mandate),
        (parent, child, RepresentationKind::Parent),
    ];
    let links = |c: &[consentry::decision::ChainLink]| -> Vec<_> {
        c.iter()
            .map(|l| (l.representative, l.represented, l.kind))
            .collect()
    };
    let consent = allow.allowed().and_then(|a| a.consent()).expect("allowed");
    assert_eq!((consent.expressed_by, consent.subject), (fc, child));
    assert_eq!(links(&consent.chain), chain);

    // The child's history, proved against a signed head, shows the grant and the receipt, and
    // the receipt, signed by DGFiP, names the chain.
    let head = s.sign_head();
    let history = s.proven_history(child, &head)?;
    assert_eq!(
        proved(&history),
        [(0, EntryKind::GrantIssued), (1, EntryKind::Receipt)]
    );
    let consentry::log::LogEntry::Receipt(receipt) = &history.verified[1].entry else {
        panic!("a receipt")
    };
    let receipt = receipt.verify(&s.directory).expect("signed by DGFiP");
    assert_eq!(links(receipt.claims().chain()), chain);
    assert!(proved(&s.proven_history(parent, &head)?).is_empty());

    // The child comes of age: the parent's representation ends. The family allowance fund
    // (its own ledger) first sees the grant after that: refused, naming the parent's link.
    s.now = coming_of_age.plus_secs(DAY);
    s.ledger = consentry::InMemoryLedger::new();
    s.verifier_provider = s.cnaf;
    let request = s.sign_request(&s.request(&grant));
    let deny = s.decide_and_log(&request, &grant);
    assert_eq!(
        deny.reasons(),
        [consentry::Reason::FirstSeenAfterRepresentationEnded {
            link: 1,
            representative: parent,
            represented: child,
            first_seen: s.now,
            ended_at: coming_of_age,
        }]
    );
    let head = s.sign_head();
    assert_eq!(
        proved(&s.proven_history(child, &head)?),
        [
            (0, EntryKind::GrantIssued),
            (1, EntryKind::Receipt),
            (2, EntryKind::Denial)
        ]
    );
    // A grant FranceConnect signs for the child now is refused outright: the parent's link no
    // longer holds at its issue time.
    let late = signed(
        &s,
        s.grant_for(child)
            .cover(s.cnaf, [consentry::testing::quotient_familial()])
            .chain([fc, parent]),
    );
    assert_eq!(codes(&s, &late), ["representation_not_valid"]);
    Ok(())
}
