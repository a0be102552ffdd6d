//! A company as the subject: data about a legal person exchanged under the same rules as data
//! about a person.
//!
//! A city hall awarding a public contract must check that the winning bidder, a small bakery
//! company, is up to date with its social contributions. The company is a legal person in the
//! directory: it carries its SIREN and the SIRET of its shop, and holds no key. Its manager, its
//! legal representative, consents for it; URSSAF, the provider, decides and releases the
//! attestation. A former manager, whose representation has ended, can no longer consent for it.
//! The tax-compliance attestation, on the other hand, rests on a statutory habilitation: DGFiP
//! releases it to the city hall without the company's consent.
//!
//! The SIREN and SIRET are fictitious (their check digits are valid). Every outcome is
//! asserted: the example fails if the library decides otherwise.
//!
//! Run with `cargo run --example company`.

use consentry::decision::{Basis, ChainLink, LinkFault, Reason, Verifier};
use consentry::directory::{
    Directory, DirectoryError, LegalPerson, Party, PartyKey, Representation, RepresentationKind,
    Role,
};
use consentry::ids::{BasisId, RequestId};
use consentry::registry::{RegistryError, Siren, Siret};
use consentry::signed::SignedPayload;
use consentry::terms::{AccessPattern, DataRange};
use consentry::testing::{Scenario, key_for, kit_ceiling, party_for};
use consentry::vocab::{Category, Purpose};
use consentry::{Digest, Grant, Habilitation, Request};
use std::error::Error;

const DAY: u64 = 86_400;

fn main() -> Result<(), Box<dyn Error>> {
    // The registry numbers are checked when read: a mistyped SIREN is refused.
    let siren = Siren::parse("842157398")?;
    let shop = Siret::parse("84215739800012")?;
    assert_eq!(shop.siren(), siren);
    assert_eq!(
        Siren::parse("842157389"),
        Err(RegistryError::BadCheckDigit),
        "two digits swapped"
    );
    println!("SIREN {siren}, shop SIRET {shop} (NIC {})", shop.nic());

    // The public-procurement purpose, and the categories about companies, in the namespaces
    // of the bodies that deliver them.
    let procurement = Purpose::new("commande_publique:attribution_marche")?
        .with_text("Vérification des obligations sociales et fiscales de l'attributaire")?;
    let vigilance = Category::new("urssaf:attestation_vigilance")?;
    let tax_compliance = Category::new("dgfip:attestation_regularite_fiscale")?;

    // The cast: the company (a legal person, no key), its manager and a former manager,
    // URSSAF and DGFiP (providers), the city hall (consumer), and the authority that issues
    // habilitations. The former manager's representation ended at the start of the clock.
    let clock = Scenario::CLOCK;
    let s = Scenario::builder()
        .legal_person(
            "company",
            "Boulangerie Martin SARL",
            LegalPerson::new(siren).with_siret(shop),
        )
        .party_named("manager", "Claire Martin", &[Role::Subject])
        .party_named("former-manager", "Paul Martin", &[Role::Subject])
        .party_named("urssaf", "URSSAF", &[Role::Provider])
        .party_named("dgfip", "DGFiP", &[Role::Provider])
        .party_named("mairie", "Mairie de Lyon", &[Role::Consumer])
        .party_named("authority", "Ministère", &[Role::Authority])
        .representation(
            "manager",
            "company",
            RepresentationKind::LegalRepresentative,
        )
        .representation_during(
            "former-manager",
            "company",
            RepresentationKind::LegalRepresentative,
            Scenario::EPOCH,
            Some(clock),
        )
        .ceiling(kit_ceiling(
            party_for("urssaf"),
            procurement.clone(),
            [vigilance.clone()],
        ))
        .ceiling(kit_ceiling(
            party_for("dgfip"),
            procurement.clone(),
            [tax_compliance.clone()],
        ))
        .verifier("urssaf")
        .build()?;
    let (company, manager, former) = (
        s.party("company"),
        s.party("manager"),
        s.party("former-manager"),
    );
    let (urssaf, dgfip, mairie) = (s.party("urssaf"), s.party("dgfip"), s.party("mairie"));
    let found = s.directory.legal_person(&siren).map(|p| p.id);
    assert_eq!(found, Some(company));
    println!("the directory lists {} as a legal person", company);

    // The directory's own rules for legal persons.
    show_refusal(
        "a key for the company itself",
        s.directory
            .clone()
            .add_key(
                company,
                PartyKey::new(key_for("company").verifying_key(), clock),
            )
            .map_err(|e| e.code()),
        "directory/legal_person_key",
    );
    show_refusal(
        "a parent for the company",
        s.directory
            .clone()
            .add_representation(Representation {
                representative: manager,
                subject: company,
                kind: RepresentationKind::Parent,
                valid_from: clock,
                valid_until: None,
            })
            .map_err(|e| e.code()),
        "directory/not_a_natural_person",
    );
    show_refusal(
        "a legal representative for a person",
        s.directory
            .clone()
            .add_representation(Representation {
                representative: former,
                subject: manager,
                kind: RepresentationKind::LegalRepresentative,
                valid_from: clock,
                valid_until: None,
            })
            .map_err(|e| e.code()),
        "directory/not_a_legal_person",
    );
    let mut twice = Directory::new();
    twice.add_party(Party::legal_person(
        party_for("company-bis"),
        "Boulangerie Martin (doublon)",
        LegalPerson::new(siren),
    ))?;
    show_refusal(
        "a second party with the same SIREN",
        twice
            .add_party(Party::legal_person(
                party_for("company-ter"),
                "Boulangerie Martin (autre doublon)",
                LegalPerson::new(siren),
            ))
            .map_err(|e: DirectoryError| e.code()),
        "directory/duplicate_siren",
    );

    // The manager consents for the company: the grant's chain is [manager], the link backed
    // by the legal representation.
    let this_year = DataRange::new(clock, clock.plus_secs(180 * DAY))?;
    let grant_by = |signer| {
        Grant::builder(BasisId(s.next_uuid()), company, mairie, procurement.clone())
            .expressed_by(signer)
            .cover(urssaf, [vigilance.clone()])
            .issued_at(clock)
            .valid(clock, clock.plus_secs(90 * DAY))
            .access(AccessPattern::one_time())
            .data_range(this_year)
            .retention_secs(180 * DAY)
            .build(&s.ceilings)
    };
    let grant = s.sign_grant(&grant_by(manager)?);
    let decision = s.decide(&s.sign_request(&s.request(&grant)), &grant);
    let allowed = decision
        .allowed()
        .ok_or("the manager's grant must be allowed")?;
    let consent = allowed.consent().ok_or("a grant's consent")?;
    assert_eq!(consent.expressed_by, manager);
    assert_eq!(consent.subject, company);
    assert_eq!(
        consent.chain,
        [ChainLink {
            representative: manager,
            represented: company,
            kind: RepresentationKind::LegalRepresentative,
        }]
    );
    println!(
        "URSSAF releases {} to the city hall: consent expressed by the company's manager, as its legal representative",
        allowed.categories()[0].as_str()
    );

    // The former manager tries the same: no representation held at the grant's issue time.
    let stale = s.sign_grant(&grant_by(former)?);
    let decision = s.decide(&s.sign_request(&s.request(&stale)), &stale);
    assert_eq!(
        decision.reasons(),
        [Reason::RepresentationNotValid {
            link: 0,
            representative: former,
            represented: company,
            fault: LinkFault::NotHeld,
        }]
    );
    println!(
        "the former manager's grant is refused: {:?}",
        decision.codes()
    );

    // A habilitation: the authority entitles the city hall to the tax-compliance attestation
    // of the bidders of its contracts; DGFiP decides without any consent of the company.
    let habilitation = Habilitation::builder(
        BasisId(s.next_uuid()),
        s.party("authority"),
        mairie,
        procurement.clone(),
    )
    .legal_reference("Code de la commande publique, art. L2141-2 et R2143-7")
    .cover(dgfip, [tax_compliance.clone()])
    .issued_at(clock)
    .valid(clock, clock.plus_secs(365 * DAY))
    .retention_secs(180 * DAY)
    .build(&s.ceilings)?;
    let habilitation = habilitation.sign(s.key(s.party("authority")));
    let request = Request::builder(RequestId(s.next_uuid()), mairie, dgfip, company)
        .basis_id(
            consentry::Unverified::<Habilitation>::parse(&habilitation)?
                .claims()
                .id(),
        )
        .basis_digest(Digest::of(&habilitation))
        .categories([tax_compliance.clone()])
        .purpose(procurement.clone())
        .data_range(this_year)
        .issued_at(clock)
        .build()?;
    let at_dgfip = Verifier::new(dgfip, &s.directory, &s.ceilings, &s.ledger);
    let decision = at_dgfip.decide(
        &s.sign_request(&request),
        Basis::Signed(&habilitation),
        clock,
    );
    let allowed = decision.allowed().ok_or("the habilitation must allow")?;
    assert_eq!(allowed.subject(), company);
    assert!(allowed.consent().is_none());
    println!(
        "DGFiP releases {} about the company under the habilitation ({})",
        allowed.categories()[0].as_str(),
        allowed.legal_reference().unwrap_or_default()
    );
    Ok(())
}

fn show_refusal(what: &str, outcome: Result<(), &'static str>, expected: &str) {
    assert_eq!(outcome, Err(expected), "{what}");
    println!("refused, {what}: {expected}");
}
