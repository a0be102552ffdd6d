//! The directories the cases are judged against: the canteen cast, and variants with a rotated
//! key, a compromised key, an ended mandate, an extra mandate, a guardian in a chain, a company
//! represented by the parent.

use std::collections::BTreeMap;

use consentry::directory::{
    Directory, LegalPerson, Party, PartyKey, Representation, RepresentationKind, Role,
};
use consentry::registry::{Siren, Siret};
use consentry::testing::{Scenario, key_for, party_for};

use super::common::{DAY, NOW, ROTATION, START, rebuild};
use super::registry::{COMPANY_SIREN, COMPANY_SIRET};

/// Each directory by name, with its description.
pub fn directories(s: &Scenario) -> BTreeMap<&'static str, (Directory, &'static str)> {
    let base = s.directory.clone();
    let mut dirs = BTreeMap::new();
    dirs.insert(
        "canteen",
        (
            base.clone(),
            "the canteen cast: every key valid from 2025-01-01; FranceConnect holds the parent's mandate; the parent is the child's legal representative",
        ),
    );
    let parent = s.parent;
    dirs.insert(
        "canteen-rotated",
        (
            rebuild(&base, |parties, _| {
                for p in parties.iter_mut().filter(|p| p.id == parent) {
                    p.keys[0].valid_until = Some(ROTATION);
                    p.keys
                        .push(PartyKey::new(key_for("parent-2").verifying_key(), ROTATION));
                }
            }),
            "canteen, with the parent's first key valid until 2025-06-01 and a second key (seed name parent-2) valid from then",
        ),
    );
    let mut compromised = base.clone();
    compromised
        .report_compromise(&key_for("mairie").key_id(), NOW.minus_secs(DAY))
        .unwrap_or_else(|e| panic!("{e}"));
    dirs.insert(
        "canteen-compromised",
        (
            compromised,
            "canteen, with the city hall's key reported compromised at 2025-08-31",
        ),
    );
    let mut parent_compromised = base.clone();
    parent_compromised
        .report_compromise(&key_for("parent").key_id(), NOW.minus_secs(DAY))
        .unwrap_or_else(|e| panic!("{e}"));
    dirs.insert(
        "canteen-parent-compromised",
        (
            parent_compromised,
            "canteen, with the parent's key reported compromised at 2025-08-31",
        ),
    );
    let fc = s.franceconnect;
    dirs.insert(
        "canteen-mandate-ended",
        (
            rebuild(&base, |_, reps| {
                for r in reps.iter_mut().filter(|r| r.representative == fc) {
                    r.valid_until = Some(ROTATION);
                }
            }),
            "canteen, with FranceConnect's mandate for the parent ended on 2025-06-01",
        ),
    );
    let (other, parent_id) = (s.other_consumer, s.parent);
    dirs.insert(
        "canteen-extra-mandate",
        (
            rebuild(&base, |_, reps| {
                reps.push(Representation {
                    representative: other,
                    subject: parent_id,
                    kind: RepresentationKind::Mandate,
                    valid_from: START,
                    valid_until: None,
                });
            }),
            "canteen, with a mandate from the parent to Mairie de Villeurbanne, which is not a consent manager",
        ),
    );
    let guardian = party_for("guardian");
    dirs.insert(
        "canteen-guardian",
        (
            rebuild(&base, |parties, reps| {
                parties.push(
                    Party::new(guardian, "Tuteur de Camille Martin", Role::Subject)
                        .with_key(PartyKey::new(key_for("guardian").verifying_key(), START)),
                );
                reps.push(Representation {
                    representative: fc,
                    subject: guardian,
                    kind: RepresentationKind::Mandate,
                    valid_from: START,
                    valid_until: None,
                });
                reps.push(Representation {
                    representative: guardian,
                    subject: parent_id,
                    kind: RepresentationKind::Guardian,
                    valid_from: START,
                    valid_until: Some(ROTATION),
                });
            }),
            "canteen, with a guardian of the parent (seed name guardian, a subject) who gave FranceConnect a mandate; the guardianship of the parent ended on 2025-06-01",
        ),
    );
    let company = party_for("company");
    dirs.insert(
        "canteen-company",
        (
            rebuild(&base, |parties, reps| {
                let siren = Siren::parse(COMPANY_SIREN).unwrap_or_else(|e| panic!("{e}"));
                let siret = Siret::parse(COMPANY_SIRET).unwrap_or_else(|e| panic!("{e}"));
                parties.push(Party::legal_person(
                    company,
                    "Boulangerie Martin SARL",
                    LegalPerson::new(siren).with_siret(siret),
                ));
                reps.push(Representation {
                    representative: parent_id,
                    subject: company,
                    kind: RepresentationKind::LegalRepresentative,
                    valid_from: START,
                    valid_until: None,
                });
            }),
            "canteen, with a company (seed name company; SIREN 842157398, SIRET 84215739800012), a legal person with no key, whose legal representative is the parent",
        ),
    );
    dirs
}
