//! Legal persons as subjects (`docs/model.md`, "Legal persons"): a company carrying its SIREN,
//! consenting through its legal representatives by the chain mechanism, under a habilitation
//! like any subject; each refusal of the directory for legal persons; the registry numbers'
//! check digits, with a generator of valid numbers written from the rule, not from the code.

use super::common::signed;
use consentry::decision::{Basis, ChainLink, LinkFault, Reason, Subject, Verifier};
use consentry::directory::{
    Change, ChangeFault, Directory, DirectoryError, DirectoryHistory, DirectorySnapshot,
    KeyRefusal, LegalPerson, Party, PartyKey, Representation, RepresentationKind, Role,
    UpdateError,
};
use consentry::ids::RequestId;
use consentry::ledger::Status;
use consentry::log::Receipt;
use consentry::registry::{RegistryError, Siren, Siret};
use consentry::signed::{SignedPayload, Unverified};
use consentry::statement::Action;
use consentry::testing::{Scenario, ScenarioBuilder, canteen_purpose, key_for, party_for, rfr};
use consentry::{Digest, Request, SigningKey};
use proptest::prelude::*;

const DAY: u64 = 86_400;

/// A fictitious SIREN with a valid check digit (Luhn sum of 8+4+2+1+5+7+3+9+8, every second
/// digit from the right doubled: 8+8+2+2+5+14→5+3+18→9+8 = 50).
const SIREN: &str = "842157398";
/// Its first establishment: NIC 0001, check digit 2.
const SIRET: &str = "84215739800012";

fn siren() -> Siren {
    Siren::parse(SIREN).expect("a valid SIREN")
}

fn siret() -> Siret {
    Siret::parse(SIRET).expect("a valid SIRET")
}

/// The canteen's cast plus a company (a legal person) whose manager is its legal
/// representative, and a former manager whose representation ended at the clock.
fn cast() -> ScenarioBuilder {
    Scenario::canteen_builder()
        .legal_person(
            "company",
            "Boulangerie Martin SARL",
            LegalPerson::new(siren()).with_siret(siret()),
        )
        .party("manager", &[Role::Subject])
        .party("former", &[Role::Subject])
        .party("clerk", &[Role::Subject])
        .representation(
            "manager",
            "company",
            RepresentationKind::LegalRepresentative,
        )
        .representation_during(
            "former",
            "company",
            RepresentationKind::LegalRepresentative,
            Scenario::EPOCH,
            Some(Scenario::CLOCK),
        )
}

fn scenario() -> Scenario {
    cast().build().expect("a valid cast")
}

fn decide(s: &Scenario, grant: &[u8]) -> consentry::Decision {
    s.decide(&s.sign_request(&s.request(grant)), grant)
}

fn link(representative: &str, represented: &str, kind: RepresentationKind) -> ChainLink {
    ChainLink {
        representative: party_for(representative),
        represented: party_for(represented),
        kind,
    }
}

// ---------------------------------------------------------------------------------------------
// Consent through the chain.

#[test]
fn a_company_grant_by_its_legal_representative_is_allowed_and_the_receipt_shows_kind_3() {
    let s = scenario();
    let company = s.party("company");
    let grant = signed(&s, s.grant_for(company).expressed_by(s.party("manager")));
    let d = decide(&s, &grant);
    let a = d.allowed().expect("allowed");
    let consent = a.consent().expect("a grant's consent");
    let chain = vec![link(
        "manager",
        "company",
        RepresentationKind::LegalRepresentative,
    )];
    assert_eq!(consent.chain, chain);
    assert_eq!(consent.subject, company);
    assert_eq!(
        consent.representation(),
        Some(RepresentationKind::LegalRepresentative)
    );
    let bytes = Receipt::for_authorization(a, s.next_uuid(), s.now).sign(s.key(s.dgfip));
    let receipt = Unverified::<Receipt>::parse(&bytes).expect("a receipt");
    assert_eq!(receipt.claims().chain(), &chain[..]);
    // On the wire, the link is `[manager, 3]`: 0x82, the 16-byte id, then the kind 3.
    let mut wire = vec![0x82, 0x50];
    wire.extend_from_slice(party_for("manager").as_bytes());
    wire.push(0x03);
    assert!(
        bytes.windows(wire.len()).any(|w| w == wire),
        "the receipt's chain link is written with kind 3"
    );
}

#[test]
fn a_consent_manager_mandated_by_the_representative_may_head_the_chain() {
    let s = cast()
        .representation("franceconnect", "manager", RepresentationKind::Mandate)
        .build()
        .expect("a valid cast");
    let company = s.party("company");
    let grant = signed(
        &s,
        s.grant_for(company)
            .chain([s.franceconnect, s.party("manager")]),
    );
    let d = decide(&s, &grant);
    let consent = d.allowed().expect("allowed").consent().expect("a consent");
    assert_eq!(
        consent.chain,
        [
            link("franceconnect", "manager", RepresentationKind::Mandate),
            link(
                "manager",
                "company",
                RepresentationKind::LegalRepresentative
            ),
        ]
    );
}

#[test]
fn a_company_mandate_to_a_consent_manager_is_a_first_link() {
    // A mandate may be given by a legal person (through its representative, outside the
    // library): the consent manager then acts for the company directly.
    let s = cast()
        .representation("franceconnect", "company", RepresentationKind::Mandate)
        .build()
        .expect("a mandate for a legal person is accepted");
    let company = s.party("company");
    let grant = signed(&s, s.grant_for(company).expressed_by(s.franceconnect));
    assert!(decide(&s, &grant).is_allow());
}

#[test]
fn a_grant_by_someone_who_does_not_represent_the_company_is_refused() {
    let s = scenario();
    let company = s.party("company");
    let clerk = s.party("clerk");
    let grant = signed(&s, s.grant_for(company).expressed_by(clerk));
    assert_eq!(
        decide(&s, &grant).reasons(),
        [Reason::RepresentationNotValid {
            link: 0,
            representative: clerk,
            represented: company,
            fault: LinkFault::NotHeld,
        }]
    );
}

#[test]
fn a_grant_by_a_former_representative_is_refused() {
    let s = scenario();
    let company = s.party("company");
    let former = s.party("former");
    // Issued at the clock, when the representation had just ended.
    let grant = signed(&s, s.grant_for(company).expressed_by(former));
    assert_eq!(
        decide(&s, &grant).reasons(),
        [Reason::RepresentationNotValid {
            link: 0,
            representative: former,
            represented: company,
            fault: LinkFault::NotHeld,
        }]
    );
}

#[test]
fn a_grant_in_the_company_s_own_name_fails_the_key_rule() {
    // No chain: the signer is the company, which holds no key; whatever key signs, it is not
    // the company's.
    let s = scenario();
    let company = s.party("company");
    let manager = s.party("manager");
    let grant = s
        .grant_for(company)
        .build(&s.ceilings)
        .expect("within the ceilings");
    assert_eq!(grant.expressed_by(), company);
    let bytes = grant.sign(s.key(manager));
    assert_eq!(
        decide(&s, &bytes).reasons(),
        [Reason::KeyNotValid {
            object: Subject::Basis,
            refusal: KeyRefusal::NotSignersKey {
                kid: key_for("manager").key_id(),
                owner: manager,
                claimed: company,
            },
        }]
    );
}

#[test]
fn a_legal_representative_may_stand_past_the_first_link() {
    // A holding company chairs the company; the holding's manager signs. The holding, a legal
    // person, is a middle link: legal links may follow one another.
    let s = cast()
        .legal_person(
            "holding",
            "Martin Participations SAS",
            LegalPerson::new(Siren::parse("912345675").expect("valid")),
        )
        .representation(
            "holding",
            "company",
            RepresentationKind::LegalRepresentative,
        )
        .representation(
            "manager",
            "holding",
            RepresentationKind::LegalRepresentative,
        )
        .build()
        .expect("a valid cast");
    let company = s.party("company");
    let grant = signed(
        &s,
        s.grant_for(company)
            .chain([s.party("manager"), s.party("holding")]),
    );
    let d = decide(&s, &grant);
    assert_eq!(
        d.allowed()
            .expect("allowed")
            .consent()
            .expect("a consent")
            .chain,
        [
            link(
                "manager",
                "holding",
                RepresentationKind::LegalRepresentative
            ),
            link(
                "holding",
                "company",
                RepresentationKind::LegalRepresentative
            ),
        ]
    );
}

#[test]
fn the_representative_revokes_for_the_company_and_a_stranger_may_not() {
    let s = scenario();
    let company = s.party("company");
    let grant = signed(&s, s.grant_for(company).expressed_by(s.party("manager")));
    let by_clerk = s.statement(&grant, Action::Revoke, s.party("clerk"));
    assert_eq!(
        s.apply(&by_clerk, &grant).map_err(|e| e.code()),
        Err("signer_not_entitled")
    );
    let by_manager = s.statement(&grant, Action::Revoke, s.party("manager"));
    assert!(matches!(
        s.apply(&by_manager, &grant),
        Ok(Status::Revoked { .. })
    ));
    assert_eq!(decide(&s, &grant).codes(), ["revoked"]);
}

#[test]
fn a_habilitation_covers_data_about_a_company_with_no_consent() {
    let s = scenario();
    let company = s.party("company");
    let habilitation = s.habilitation_builder().build(&s.ceilings).expect("within");
    let bytes = habilitation.sign(s.key(s.authority));
    let request = Request::builder(RequestId(s.next_uuid()), s.mairie, s.dgfip, company)
        .basis_id(habilitation.id())
        .basis_digest(Digest::of(&bytes))
        .categories([rfr()])
        .purpose(canteen_purpose())
        .data_range(consentry::DataRange::year(2025).expect("a year"))
        .issued_at(s.now)
        .build()
        .expect("a request");
    let d = Verifier::new(s.dgfip, &s.directory, &s.ceilings, &s.ledger).decide(
        &s.sign_request(&request),
        Basis::Signed(&bytes),
        s.now,
    );
    let a = d.allowed().expect("allowed");
    assert_eq!(a.subject(), company);
    assert!(a.consent().is_none());
}

// ---------------------------------------------------------------------------------------------
// The directory's rules for legal persons, each refusal with its code.

fn company_party() -> Party {
    Party::legal_person(
        party_for("company"),
        "Boulangerie Martin SARL",
        LegalPerson::new(siren()),
    )
}

fn code<T: std::fmt::Debug>(r: Result<T, DirectoryError>) -> &'static str {
    r.expect_err("refused").code()
}

#[test]
fn a_legal_person_with_a_key_is_refused_when_listed_and_when_given_one() {
    let key = PartyKey::new(key_for("company").verifying_key(), Scenario::EPOCH);
    let mut dir = Directory::new();
    assert_eq!(
        code(dir.add_party(company_party().with_key(key.clone()))),
        "directory/legal_person_key"
    );
    dir.add_party(company_party()).expect("without a key");
    assert_eq!(
        dir.add_key(party_for("company"), key),
        Err(DirectoryError::LegalPersonKey(party_for("company")))
    );
    assert!(
        dir.party(&party_for("company"))
            .expect("listed")
            .keys
            .is_empty()
    );
}

#[test]
fn two_parties_with_one_siren_are_refused() {
    let mut dir = Directory::new();
    dir.add_party(company_party()).expect("first");
    let twin = Party::legal_person(party_for("twin"), "Twin", LegalPerson::new(siren()));
    assert_eq!(
        dir.add_party(twin),
        Err(DirectoryError::DuplicateSiren(siren()))
    );
    assert_eq!(
        dir.legal_person(&siren()).map(|p| p.id),
        Some(party_for("company"))
    );
}

#[test]
fn sirets_must_be_the_siren_s_at_most_64_and_none_twice() {
    let other = Siret::parse("73282932000074").expect("valid");
    let mut dir = Directory::new();
    let mut foreign = company_party();
    foreign.legal_person = Some(LegalPerson {
        siren: siren(),
        sirets: vec![siret(), other],
    });
    assert_eq!(
        dir.add_party(foreign),
        Err(DirectoryError::ForeignSiret {
            party: party_for("company"),
            siret: other,
        })
    );
    let mut twice = company_party();
    twice.legal_person = Some(LegalPerson {
        siren: siren(),
        sirets: vec![siret(), siret()],
    });
    assert_eq!(
        dir.add_party(twice),
        Err(DirectoryError::DuplicateSiret(siret()))
    );
    // 65 establishments of the SIREN, each with its Luhn check digit.
    let sirets: Vec<Siret> = (1..=65)
        .map(|n| Siret::parse(&with_luhn_digit(&format!("{SIREN}{n:04}"))).expect("valid"))
        .collect();
    let mut many = company_party();
    many.legal_person = Some(LegalPerson {
        siren: siren(),
        sirets: sirets[..64].to_vec(),
    });
    dir.add_party(many).expect("64 is the limit");
    let mut too_many = company_party();
    too_many.id = party_for("too-many");
    let siren2 = Siren::parse("912345675").expect("valid");
    too_many.legal_person = Some(LegalPerson {
        siren: siren2,
        sirets: (1..=65)
            .map(|n| Siret::parse(&with_luhn_digit(&format!("{siren2}{n:04}"))).expect("valid"))
            .collect(),
    });
    assert_eq!(
        dir.add_party(too_many),
        Err(DirectoryError::TooManySirets(party_for("too-many")))
    );
}

#[test]
fn a_representation_s_kind_must_suit_its_subject() {
    let s = scenario();
    let rep = |representative: &str, subject: &str, kind| Representation {
        representative: party_for(representative),
        subject: party_for(subject),
        kind,
        valid_from: Scenario::EPOCH,
        valid_until: None,
    };
    let mut dir = s.directory.clone();
    for kind in [RepresentationKind::Parent, RepresentationKind::Guardian] {
        assert_eq!(
            dir.add_representation(rep("manager", "company", kind)),
            Err(DirectoryError::NotANaturalPerson {
                subject: party_for("company")
            }),
            "{kind:?}"
        );
    }
    assert_eq!(
        dir.add_representation(rep(
            "manager",
            "child",
            RepresentationKind::LegalRepresentative
        )),
        Err(DirectoryError::NotALegalPerson {
            subject: party_for("child")
        })
    );
    assert_eq!(
        code(dir.add_representation(rep(
            "manager",
            "parent",
            RepresentationKind::LegalRepresentative
        ))),
        "directory/not_a_legal_person"
    );
    // And the kit's builder reports the directory's refusal.
    let Err(e) = cast()
        .representation("parent", "company", RepresentationKind::Parent)
        .build()
    else {
        panic!("a parent of a legal person is refused");
    };
    assert_eq!(e.code(), "directory/not_a_natural_person");
}

#[test]
fn updates_add_legal_persons_and_representatives_under_the_same_rules() {
    let s = Scenario::canteen();
    let operator = SigningKey::from_seed(&[0x0c; 32]);
    let genesis = DirectorySnapshot::genesis(s.directory.clone(), s.now).sign(&operator);
    let mut history = DirectoryHistory::load(&genesis, &operator.verifying_key()).expect("loads");
    let at = s.now.plus_secs(DAY);
    let manager = PartyKey::new(key_for("manager").verifying_key(), at);
    let add = history
        .next_update(at)
        .add_party(company_party())
        .add_party(
            Party::new(party_for("manager"), "Claire Martin", Role::Subject).with_key(manager),
        )
        .add_representation(Representation {
            representative: party_for("manager"),
            subject: party_for("company"),
            kind: RepresentationKind::LegalRepresentative,
            valid_from: at,
            valid_until: None,
        })
        .sign(&operator);
    history.apply(&add).expect("a valid update");
    let company = history
        .current()
        .party(&party_for("company"))
        .expect("added");
    assert_eq!(
        company.legal_person.as_ref().map(|l| l.siren),
        Some(siren())
    );
    // A key for the company, and a parent for it, are refused with the directory's codes.
    let later = at.plus_secs(DAY);
    let key = history
        .next_update(later)
        .add_key(
            party_for("company"),
            PartyKey::new(key_for("company").verifying_key(), later),
        )
        .sign(&operator);
    match history.apply(&key) {
        Err(UpdateError::Change { index: 0, fault }) => {
            assert_eq!(
                fault,
                ChangeFault::Directory(DirectoryError::LegalPersonKey(party_for("company")))
            );
            assert_eq!(fault.code(), "directory/legal_person_key");
        }
        other => panic!("expected a refused change, got {other:?}"),
    }
    let parent = history
        .next_update(later)
        .change(Change::AddRepresentation(Representation {
            representative: party_for("manager"),
            subject: party_for("company"),
            kind: RepresentationKind::Parent,
            valid_from: later,
            valid_until: None,
        }))
        .sign(&operator);
    assert!(matches!(
        history.apply(&parent),
        Err(UpdateError::Change {
            index: 0,
            fault: ChangeFault::Directory(DirectoryError::NotANaturalPerson { .. })
        })
    ));
    // The signed directory at the new version carries the legal person, and reads back.
    let checkpoint = history.checkpoint(later).sign(&operator);
    let reloaded = DirectoryHistory::load(&checkpoint, &operator.verifying_key()).expect("loads");
    assert_eq!(
        reloaded.current().legal_person(&siren()).map(|p| p.id),
        Some(party_for("company"))
    );
}

// ---------------------------------------------------------------------------------------------
// The directory's forms.

fn directory_with_company() -> Directory {
    scenario().directory
}

#[test]
fn cbor_and_json_forms_carry_the_legal_person_and_read_back() {
    let dir = directory_with_company();
    let cbor = dir.to_cbor();
    let back = Directory::from_cbor(&cbor).expect("reads back");
    assert_eq!(back.to_cbor(), cbor);
    let company = back.party(&party_for("company")).expect("listed");
    assert_eq!(
        company.legal_person,
        Some(LegalPerson {
            siren: siren(),
            sirets: vec![siret()],
        })
    );
    // The party map ends with key 5: {1: "842157398", 2: ["84215739800012"]}.
    let mut map = vec![0x05, 0xa2, 0x01, 0x69];
    map.extend_from_slice(SIREN.as_bytes());
    map.extend_from_slice(&[0x02, 0x81, 0x6e]);
    map.extend_from_slice(SIRET.as_bytes());
    assert!(
        cbor.windows(map.len()).any(|w| w == map),
        "key 5 as written"
    );
    let json = dir.to_json();
    assert!(json.contains("\"legal_person\""));
    assert!(json.contains("\"legal_representative\""));
    let from_json = Directory::from_json(&json).expect("reads back");
    assert_eq!(from_json.to_cbor(), cbor);
}

/// The directory's JSON form with the company's SIREN (or SIRETs) replaced.
fn json_with(siren_text: &str, sirets: &str) -> String {
    let json = directory_with_company().to_json();
    let doc: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    let mut doc = doc;
    for p in doc["parties"].as_array_mut().expect("parties") {
        if p.get("legal_person").is_some() {
            p["legal_person"] = serde_json::json!({
                "siren": siren_text,
                "sirets": serde_json::from_str::<serde_json::Value>(sirets).expect("array"),
            });
        }
    }
    doc.to_string()
}

#[test]
fn json_refuses_a_bad_number_with_the_registry_code() {
    for (siren_text, sirets, expected) in [
        ("842157399", "[]", "registry/bad_check_digit"),
        ("84215739", "[]", "registry/wrong_length"),
        ("84215739a", "[]", "registry/not_digits"),
        (SIREN, "[\"84215739800013\"]", "registry/bad_check_digit"),
        (SIREN, "[\"84215739900011\"]", "registry/siren_check_digit"),
    ] {
        let e = Directory::from_json(&json_with(siren_text, sirets)).expect_err("refused");
        assert_eq!(e.code(), "directory/malformed");
        assert!(
            e.to_string().contains(expected),
            "{e} should name {expected}"
        );
    }
    // A SIRET of another SIREN is the directory's typed refusal.
    let e = Directory::from_json(&json_with(SIREN, "[\"73282932000074\"]")).expect_err("refused");
    assert_eq!(e.code(), "directory/foreign_siret");
}

#[test]
fn cbor_refuses_unsorted_or_repeated_sirets_and_bad_numbers() {
    let dir = directory_with_company();
    let cbor = dir.to_cbor();
    // The SIREN's last digit changed: the check digit no longer holds.
    let mut bad = cbor.clone();
    let at = bad
        .windows(9)
        .position(|w| w == SIREN.as_bytes())
        .expect("the SIREN is in the bytes");
    bad[at + 8] = b'9';
    let e = Directory::from_cbor(&bad).expect_err("refused");
    assert_eq!(e.code(), "directory/malformed");
    assert!(e.to_string().contains("SIREN"), "{e}");
    // Two SIRETs, out of order.
    let second = Siret::parse("84215739800020").expect("valid");
    let mut d2 = Directory::new();
    d2.add_party(Party::legal_person(
        party_for("company"),
        "Boulangerie Martin SARL",
        LegalPerson::new(siren())
            .with_siret(siret())
            .with_siret(second),
    ))
    .expect("valid");
    let sorted = d2.to_cbor();
    let (a, b) = (SIRET.as_bytes(), second.as_str().as_bytes());
    let i = sorted.windows(14).position(|w| w == a).expect("first");
    let j = sorted.windows(14).position(|w| w == b).expect("second");
    let mut swapped = sorted.clone();
    swapped[i..i + 14].copy_from_slice(b);
    swapped[j..j + 14].copy_from_slice(a);
    let e = Directory::from_cbor(&swapped).expect_err("refused");
    assert!(e.to_string().contains("sorted"), "{e}");
    let mut repeated = sorted.clone();
    repeated[j..j + 14].copy_from_slice(a);
    let e = Directory::from_cbor(&repeated).expect_err("refused");
    assert!(e.to_string().contains("sorted"), "{e}");
}

// ---------------------------------------------------------------------------------------------
// The registry numbers, from the rule.

/// The rule restated: from the right, every second digit doubled, 9 subtracted from a double
/// over 9; the number is valid when the sum is a multiple of 10.
fn luhn_sum(digits: &str) -> u32 {
    digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            match (i % 2, d * 2) {
                (1, twice) if twice > 9 => twice - 9,
                (1, twice) => twice,
                _ => d,
            }
        })
        .sum()
}

/// `body` followed by the one digit that makes its Luhn sum a multiple of 10.
fn with_luhn_digit(body: &str) -> String {
    (0..10)
        .map(|c| format!("{body}{c}"))
        .find(|n| luhn_sum(n) % 10 == 0)
        .expect("one check digit in ten fits")
}

#[test]
fn the_generator_agrees_with_published_numbers() {
    // INSEE's examples: 732 829 320 (its seventh establishment 00074) and 200 034 528.
    assert_eq!(with_luhn_digit("73282932"), "732829320");
    assert_eq!(with_luhn_digit("7328293200007"), "73282932000074");
    assert_eq!(with_luhn_digit("20003452"), "200034528");
    assert_eq!(with_luhn_digit("84215739"), SIREN);
    assert_eq!(with_luhn_digit(&format!("{SIREN}0001")), SIRET);
}

#[test]
fn la_poste_sirets_follow_the_sum_of_digits() {
    // The head office passes Luhn; the other establishments pass the sum of digits (a multiple
    // of 5), which another SIREN may not use.
    assert!(Siret::parse("35600000000048").is_ok());
    assert!(Siret::parse("35600000009075").is_ok());
    assert_ne!(luhn_sum("35600000009075") % 10, 0);
    assert_eq!(
        Siret::parse("35600000009076"),
        Err(RegistryError::BadCheckDigit)
    );
    assert_eq!(
        Siret::parse("73282932000004"),
        Err(RegistryError::BadCheckDigit)
    );
}

proptest! {
    #[test]
    fn generated_sirens_and_sirets_are_accepted(body in "[0-9]{8}", nic in "[0-9]{4}") {
        let siren = with_luhn_digit(&body);
        let parsed = Siren::parse(&siren).expect("valid by the rule");
        prop_assert_eq!(parsed.as_str(), siren.as_str());
        let siret = with_luhn_digit(&format!("{siren}{nic}"));
        let parsed = Siret::parse(&siret).expect("valid by the rule");
        prop_assert_eq!(parsed.siren().to_string(), siren);
        prop_assert_eq!(parsed.nic(), &siret[9..]);
    }

    #[test]
    fn any_single_digit_change_of_a_valid_siren_is_refused(
        body in "[0-9]{8}",
        at in 0usize..9,
        by in 1u8..10,
    ) {
        let siren = with_luhn_digit(&body);
        let mut changed = siren.clone().into_bytes();
        changed[at] = b'0' + (changed[at] - b'0' + by) % 10;
        let changed = String::from_utf8(changed).expect("digits");
        prop_assert_ne!(&changed, &siren);
        prop_assert_eq!(Siren::parse(&changed), Err(RegistryError::BadCheckDigit));
    }

    #[test]
    fn a_la_poste_siret_is_valid_exactly_when_luhn_or_the_digit_sum_says_so(nic in "[0-9]{5}") {
        let siret = format!("356000000{nic}");
        let digit_sum: u32 = siret.bytes().map(|b| u32::from(b - b'0')).sum();
        let expected = luhn_sum(&siret) % 10 == 0 || digit_sum % 5 == 0;
        prop_assert_eq!(Siret::parse(&siret).is_ok(), expected);
    }

    #[test]
    fn outside_la_poste_a_siret_is_valid_exactly_when_both_luhn_sums_hold(n in "[0-9]{14}") {
        prop_assume!(!n.starts_with("356000000"));
        let expected = luhn_sum(&n[..9]) % 10 == 0 && luhn_sum(&n) % 10 == 0;
        prop_assert_eq!(Siret::parse(&n).is_ok(), expected);
    }

    #[test]
    fn any_text_is_refused_or_accepted_without_panicking(text in "\\PC{0,20}") {
        let _ = Siren::parse(&text);
        let _ = Siret::parse(&text);
    }
}

#[test]
fn the_company_subject_is_judged_at_the_grant_s_issue_time() {
    // Representation ended at the clock: a grant issued the day before, by the former
    // manager, is backed; first seen now, after the end, it is refused by the first-sighting
    // rule.
    let s = scenario();
    let company = s.party("company");
    let former = s.party("former");
    let day_before = s.now.minus_secs(DAY);
    let grant = signed(
        &s,
        s.grant_for(company)
            .expressed_by(former)
            .issued_at(day_before),
    );
    assert_eq!(
        decide(&s, &grant).reasons(),
        [Reason::FirstSeenAfterRepresentationEnded {
            link: 0,
            representative: former,
            represented: company,
            first_seen: s.now,
            ended_at: Scenario::CLOCK,
        }]
    );
}
