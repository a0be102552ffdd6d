//! The signed directory and its updates: the canteen directory signed by the federation's
//! operator, then a sequence of updates, each applied or refused for its own reason, in order.
//! A reader replays them in the index's order against one history and must reach the same
//! outcome for each, and the final directory.

use std::collections::BTreeMap;

use consentry::cose::ObjectKind;
use consentry::danger;
use consentry::danger::cbor::Encoder;
use consentry::directory::{
    DirectoryHistory, DirectorySnapshot, DirectoryUpdate, LegalPerson, Party, PartyKey,
    Representation, RepresentationKind,
};
use consentry::registry::{Siren, Siret};
use consentry::testing::{Scenario, key_for, party_for};
use consentry::{Digest, SigningKey, Timestamp};
use serde_json::{Value as Json, json};

use super::common::{NOW, hex, seed_of};

const HOUR: u64 = 3_600;

/// The company's fictitious SIREN (valid check digit), and its shop's SIRET.
pub const COMPANY_SIREN: &str = "842157398";
/// The SIRET of the company's shop: NIC 0001, check digit 2.
pub const COMPANY_SIRET: &str = "84215739800012";

/// Writes the registry's files into `files` and returns its index entry.
pub fn registry(files: &mut BTreeMap<String, Vec<u8>>, s: &Scenario) -> Json {
    let operator = key_for("operator");
    let successor = key_for("operator-2");
    let genesis_at = NOW.minus_secs(HOUR);
    let genesis = DirectorySnapshot::genesis(s.directory.clone(), genesis_at).sign(&operator);
    files.insert("registry/genesis.cbor".into(), genesis.clone());
    let mut h = DirectoryHistory::load(&genesis, &operator.verifying_key())
        .unwrap_or_else(|e| panic!("the genesis loads: {e}"));

    let mairie_old = s.key(s.mairie).key_id();
    let mairie_new = key_for("mairie-2");
    let other = s.key(s.other_consumer).key_id();
    let mut steps = Vec::new();
    let mut step = |h: &mut DirectoryHistory,
                    name: &str,
                    description: &str,
                    make: &dyn Fn(&DirectoryHistory) -> Vec<u8>,
                    want: Option<&str>| {
        let bytes = make(h);
        let got = h.apply(&bytes).map(|_| ()).map_err(|e| e.code());
        assert_eq!(got.err(), want, "registry step {name}: {description}");
        let file = format!("registry/{:02}-{name}.cbor", steps.len() + 1);
        files.insert(file.clone(), bytes);
        steps.push(json!({
            "name": name,
            "description": description,
            "file": file,
            "expected": match want {
                None => json!({"outcome": "applied", "version": h.version()}),
                Some(code) => json!({"outcome": "refused", "code": code, "version": h.version()}),
            },
            "cddl_rejects": matches!(name, "unknown-change" | "grant-envelope"),
        }));
    };

    // Version 1: the city hall rotates its key.
    let rotation = h
        .next_update(NOW)
        .rotate_key(
            s.mairie,
            mairie_old,
            PartyKey::new(mairie_new.verifying_key(), NOW),
        )
        .sign(&operator);
    step(
        &mut h,
        "rotate-mairie-key",
        "the city hall's key rotated: the new key from now, the old one ends now",
        &|_| rotation.clone(),
        None,
    );

    // Refusals of a candidate version 2; none changes the history.
    let compromise = h
        .next_update(NOW)
        .report_compromise(other, NOW.minus_secs(HOUR));
    step(
        &mut h,
        "signed-by-a-party",
        "signed by a party of the directory, not the operator",
        &|_| compromise.sign(s.key(s.dgfip)),
        Some("update/not_operator_key"),
    );
    let mut forged = compromise.sign(&operator);
    let last = forged.len() - 1;
    forged[last] ^= 1;
    step(
        &mut h,
        "bad-signature",
        "the operator's kid, a signature that does not verify",
        &|_| forged.clone(),
        Some("update/bad_signature"),
    );
    step(
        &mut h,
        "gap",
        "version 3 while the directory is at version 1",
        &|_| {
            DirectoryUpdate::new(3, Digest::of(&rotation), NOW)
                .report_compromise(other, NOW)
                .sign(&operator)
        },
        Some("update/out_of_order"),
    );
    step(
        &mut h,
        "wrong-previous",
        "version 2, but after another version 1",
        &|_| {
            DirectoryUpdate::new(2, Digest::of(b"another version 1"), NOW)
                .report_compromise(other, NOW)
                .sign(&operator)
        },
        Some("update/wrong_previous"),
    );
    step(
        &mut h,
        "time-goes-back",
        "issued before version 1",
        &|h| {
            h.next_update(NOW.minus_secs(1))
                .report_compromise(other, NOW.minus_secs(HOUR))
                .sign(&operator)
        },
        Some("update/time_goes_back"),
    );
    step(
        &mut h,
        "backdated-key",
        "a key whose window starts before the update was issued",
        &|h| {
            h.next_update(NOW)
                .add_key(
                    s.dgfip,
                    PartyKey::new(key_for("dgfip-2").verifying_key(), NOW.minus_secs(1)),
                )
                .sign(&operator)
        },
        Some("update/backdated"),
    );
    step(
        &mut h,
        "retroactive-retire",
        "a key retired before the update was issued",
        &|h| {
            h.next_update(NOW.plus_secs(HOUR))
                .retire_key(other, NOW)
                .sign(&operator)
        },
        Some("update/retroactive_end"),
    );
    step(
        &mut h,
        "compromise-ahead",
        "a compromise dated after the update that reports it",
        &|h| {
            h.next_update(NOW)
                .report_compromise(other, NOW.plus_secs(1))
                .sign(&operator)
        },
        Some("update/compromise_after_issue"),
    );
    step(
        &mut h,
        "reused-kid",
        "the city hall's retired key offered again, to another party",
        &|h| {
            h.next_update(NOW.plus_secs(HOUR))
                .add_key(
                    s.dgfip,
                    PartyKey::new(s.key(s.mairie).verifying_key(), NOW.plus_secs(HOUR)),
                )
                .sign(&operator)
        },
        Some("directory/duplicate_key"),
    );
    step(
        &mut h,
        "unknown-party",
        "a key for a party the directory does not hold",
        &|h| {
            h.next_update(NOW)
                .add_key(
                    consentry::testing::party_for("stranger"),
                    PartyKey::new(key_for("stranger").verifying_key(), NOW),
                )
                .sign(&operator)
        },
        Some("directory/unknown_party"),
    );
    step(
        &mut h,
        "retire-already-ended",
        "the city hall's rotated-out key retired again, later: a window is never lengthened",
        &|h| {
            h.next_update(NOW.plus_secs(HOUR))
                .retire_key(mairie_old, NOW.plus_secs(2 * HOUR))
                .sign(&operator)
        },
        Some("directory/already_ended"),
    );
    step(
        &mut h,
        "end-unknown-representation",
        "the end of a representation the directory does not hold",
        &|h| {
            h.next_update(NOW)
                .end_representation(s.mairie, s.child, NOW)
                .sign(&operator)
        },
        Some("directory/no_such_representation"),
    );
    step(
        &mut h,
        "unknown-change",
        "a change whose tag the format does not define",
        &|h| {
            danger::sign(
                ObjectKind::DirectoryUpdate,
                &operator,
                &unknown_change(h, NOW),
            )
        },
        Some("value/invalid"),
    );
    step(
        &mut h,
        "grant-envelope",
        "a valid update's payload in a grant's envelope",
        &|_| danger::sign(ObjectKind::Grant, &operator, &compromise.to_payload_bytes()),
        Some("envelope/wrong_kind"),
    );

    // Version 2: the other consumer's key leaked an hour ago; FranceConnect gets a mandate for
    // the child; the operator hands over to its next key.
    let mandate = Representation {
        representative: s.franceconnect,
        subject: s.child,
        kind: RepresentationKind::Mandate,
        valid_from: NOW,
        valid_until: None,
    };
    step(
        &mut h,
        "compromise-mandate-handover",
        "a compromise found after the fact, a new mandate, and the operator's next key",
        &|h| {
            h.next_update(NOW)
                .report_compromise(other, NOW.minus_secs(HOUR))
                .add_representation(mandate.clone())
                .operator_key(successor.verifying_key())
                .sign(&operator)
        },
        None,
    );
    step(
        &mut h,
        "redelivered",
        "version 1 again, the same bytes",
        &|_| rotation.clone(),
        Some("update/already_applied"),
    );
    step(
        &mut h,
        "fork",
        "a different version 1, signed by the operator's current key",
        &|h| {
            DirectoryUpdate::new(1, h.versions()[0].digest, NOW)
                .retire_key(other, NOW.plus_secs(HOUR))
                .sign(&successor)
        },
        Some("update/fork"),
    );
    let v3 = h.next_update(NOW.plus_secs(HOUR)).end_representation(
        s.franceconnect,
        s.child,
        NOW.plus_secs(2 * HOUR),
    );
    step(
        &mut h,
        "old-operator-key",
        "version 3 signed with the operator's former key",
        &|_| v3.sign(&operator),
        Some("update/not_operator_key"),
    );
    step(
        &mut h,
        "end-mandate",
        "version 3, signed with the operator's new key: the mandate ends",
        &|_| v3.sign(&successor),
        None,
    );
    step(
        &mut h,
        "operator-key-twice",
        "two operator keys in one update",
        &|h| {
            h.next_update(NOW.plus_secs(HOUR))
                .operator_key(operator.verifying_key())
                .operator_key(key_for("operator-3").verifying_key())
                .sign(&successor)
        },
        Some("update/operator_key_twice"),
    );

    // Version 4: a company, a legal person carrying its SIREN and its shop's SIRET, with the
    // parent as its manager (legal representative); then the refusals of its rules.
    let later = NOW.plus_secs(2 * HOUR);
    let company = party_for("company");
    let siren = Siren::parse(COMPANY_SIREN).unwrap_or_else(|e| panic!("{e}"));
    let company_party = || {
        Party::legal_person(
            company,
            "Boulangerie Martin SARL",
            LegalPerson::new(siren)
                .with_siret(Siret::parse(COMPANY_SIRET).unwrap_or_else(|e| panic!("{e}"))),
        )
    };
    let legal_rep = |representative, subject, kind| Representation {
        representative,
        subject,
        kind,
        valid_from: later,
        valid_until: None,
    };
    step(
        &mut h,
        "add-company",
        "a legal person (SIREN 842157398, SIRET 84215739800012, no key) and the parent as its legal representative (kind 3)",
        &|h| {
            h.next_update(later)
                .add_party(company_party())
                .add_representation(legal_rep(
                    s.parent,
                    company,
                    RepresentationKind::LegalRepresentative,
                ))
                .sign(&successor)
        },
        None,
    );
    step(
        &mut h,
        "company-key",
        "a key for the company: a legal person holds none and acts through its legal representatives",
        &|h| {
            h.next_update(later)
                .add_key(
                    company,
                    PartyKey::new(key_for("company").verifying_key(), later),
                )
                .sign(&successor)
        },
        Some("directory/legal_person_key"),
    );
    step(
        &mut h,
        "company-twice",
        "another party carrying the company's SIREN",
        &|h| {
            let mut twin = company_party();
            twin.id = party_for("company-twin");
            h.next_update(later).add_party(twin).sign(&successor)
        },
        Some("directory/duplicate_siren"),
    );
    step(
        &mut h,
        "parent-of-company",
        "a parent (kind 0) for the company: parents and guardians act for natural persons",
        &|h| {
            h.next_update(later)
                .add_representation(legal_rep(s.parent, company, RepresentationKind::Parent))
                .sign(&successor)
        },
        Some("directory/not_a_natural_person"),
    );
    step(
        &mut h,
        "legal-representative-of-a-person",
        "a legal representative (kind 3) for the child, who is not a legal person",
        &|h| {
            h.next_update(later)
                .add_representation(legal_rep(
                    s.parent,
                    s.child,
                    RepresentationKind::LegalRepresentative,
                ))
                .sign(&successor)
        },
        Some("directory/not_a_legal_person"),
    );

    let final_dir = h.current().to_cbor();
    files.insert("registry/final.cbor".into(), final_dir);
    let key = |k: &SigningKey, name: &str| json!({"name": name, "seed": hex(&seed_of(name)), "public_key": k.verifying_key().to_hex(), "kid": k.key_id().to_hex()});
    json!({
        "description": "the canteen directory signed by the federation's operator (version 0), then updates applied in order to one history: each is applied or refused with its code, and a refused one changes nothing; the directory after the last step is final.cbor",
        "operator": key(&operator, "operator"),
        "operator_successor": key(&successor, "operator-2"),
        "new_keys": [key(&mairie_new, "mairie-2")],
        "genesis": {"file": "registry/genesis.cbor", "directory": "canteen", "issued_at": genesis_at},
        "updates": steps,
        "final": {"file": "registry/final.cbor", "version": h.version()},
    })
}

/// The next update's payload with one change of tag 7, which the format does not define.
fn unknown_change(h: &DirectoryHistory, at: Timestamp) -> Vec<u8> {
    let next = h.next_update(at);
    let mut e = Encoder::new();
    e.map(5);
    e.uint(0).uint(consentry::FORMAT_VERSION);
    e.uint(1).uint(next.seq());
    e.uint(2).bytes(next.previous().as_bytes());
    e.uint(3).uint(at.secs());
    e.uint(4).array(1).array(2).uint(7).uint(0);
    e.into_bytes()
}
