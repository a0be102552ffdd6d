//! Tests of the directory: every `DirectoryError` and `KeyRefusal`, the key rule's window
//! boundaries, and the CBOR and JSON forms.

use super::{
    Directory, DirectoryError, KeyRefusal, Party, PartyId, PartyKey, Representation,
    RepresentationKind, Role,
};
use crate::cbor::{DecodeError, Limits};
use crate::keys::{KeyId, SigningKey, VerifyingKey};
use crate::time::Timestamp;

fn public(n: u8) -> VerifyingKey {
    SigningKey::from_seed(&[n; 32]).verifying_key()
}

fn pid(n: u8) -> PartyId {
    PartyId::from_bytes([n; 16])
}

fn h(hex: &str) -> Vec<u8> {
    let compact: String = hex.split_whitespace().collect();
    crate::hex::decode(&compact).expect("test hex")
}

/// A directory with one party (id 1) holding one key (seed 1) valid over [100, 200),
/// compromised at 150 if `compromised`.
fn one_key(compromised: bool) -> (Directory, KeyId) {
    let mut dir = Directory::new();
    let key = PartyKey::new(public(1), Timestamp(100)).until(Timestamp(200));
    dir.add_party(Party::new(pid(1), "Mairie", Role::Consumer).with_key(key))
        .unwrap();
    let kid = public(1).key_id();
    if compromised {
        dir.report_compromise(&kid, Timestamp(150)).unwrap();
    }
    (dir, kid)
}

/// A directory using every field: several roles, open and closed windows, a compromise, and
/// representations with and without an end.
fn full() -> Directory {
    let mut dir = Directory::new();
    dir.add_party(
        Party::new(pid(1), "Ville de Lyon", Role::Consumer)
            .with_role(Role::Provider)
            .with_key(PartyKey::new(public(1), Timestamp(1_735_689_600)))
            .with_key(PartyKey::new(public(2), Timestamp(10)).until(Timestamp(1_000_000))),
    )
    .unwrap();
    dir.add_party(
        Party::new(pid(2), "Élise Dupont", Role::Subject)
            .with_key(PartyKey::new(public(3), Timestamp(0))),
    )
    .unwrap();
    dir.add_party(Party::new(pid(3), "Wallet SA", Role::ConsentManager))
        .unwrap();
    dir.add_party(Party::new(pid(4), "Autorité", Role::Authority).with_role(Role::Subject))
        .unwrap();
    dir.report_compromise(&public(2).key_id(), Timestamp(500))
        .unwrap();
    dir.add_representation(Representation {
        representative: pid(3),
        subject: pid(2),
        kind: RepresentationKind::Mandate,
        valid_from: Timestamp(5),
        valid_until: None,
    })
    .unwrap();
    dir.add_representation(Representation {
        representative: pid(1),
        subject: pid(2),
        kind: RepresentationKind::Parent,
        valid_from: Timestamp(5),
        valid_until: Some(Timestamp(u64::MAX)),
    })
    .unwrap();
    dir
}

fn same(a: &Directory, b: &Directory) {
    assert_eq!(a.parties(), b.parties());
    assert_eq!(a.representations(), b.representations());
}

// ---------------------------------------------------------------------------------------------
// The key rule
// ---------------------------------------------------------------------------------------------

#[test]
fn key_window_boundaries() {
    let (dir, kid) = one_key(false);
    let at = |t| dir.check_key(&kid, pid(1), Timestamp(t));
    assert_eq!(
        at(99),
        Err(KeyRefusal::NotYetValid {
            kid,
            valid_from: Timestamp(100),
            issued_at: Timestamp(99)
        })
    );
    assert_eq!(at(100), Ok(&public(1))); // valid_from is inclusive
    assert_eq!(at(199), Ok(&public(1)));
    assert_eq!(
        at(200), // valid_until is exclusive
        Err(KeyRefusal::Expired {
            kid,
            valid_until: Timestamp(200),
            issued_at: Timestamp(200)
        })
    );
}

#[test]
fn compromise_boundary_and_earliest_report() {
    let (mut dir, kid) = one_key(true);
    assert_eq!(dir.check_key(&kid, pid(1), Timestamp(149)), Ok(&public(1)));
    assert_eq!(
        dir.check_key(&kid, pid(1), Timestamp(150)), // compromised_at is inclusive
        Err(KeyRefusal::Compromised {
            kid,
            compromised_at: Timestamp(150),
            issued_at: Timestamp(150)
        })
    );
    // A later report does not move the compromise time; an earlier one does.
    dir.report_compromise(&kid, Timestamp(180)).unwrap();
    assert_eq!(
        dir.key(&kid).unwrap().1.compromised_at,
        Some(Timestamp(150))
    );
    dir.report_compromise(&kid, Timestamp(120)).unwrap();
    assert_eq!(
        dir.key(&kid).unwrap().1.compromised_at,
        Some(Timestamp(120))
    );
    assert!(matches!(
        dir.check_key(&kid, pid(1), Timestamp(149)),
        Err(KeyRefusal::Compromised { .. })
    ));
    assert_eq!(dir.check_key(&kid, pid(1), Timestamp(119)), Ok(&public(1)));
}

#[test]
fn every_key_refusal() {
    let (dir, kid) = one_key(true);
    let stranger = public(9).key_id();
    let cases = [
        (
            dir.check_key(&stranger, pid(1), Timestamp(120)),
            KeyRefusal::UnknownKey { kid: stranger },
        ),
        (
            dir.check_key(&kid, pid(2), Timestamp(120)),
            KeyRefusal::NotSignersKey {
                kid,
                owner: pid(1),
                claimed: pid(2),
            },
        ),
        (
            dir.check_key(&kid, pid(1), Timestamp(0)),
            KeyRefusal::NotYetValid {
                kid,
                valid_from: Timestamp(100),
                issued_at: Timestamp(0),
            },
        ),
        (
            dir.check_key(&kid, pid(1), Timestamp(u64::MAX)),
            KeyRefusal::Expired {
                kid,
                valid_until: Timestamp(200),
                issued_at: Timestamp(u64::MAX),
            },
        ),
        (
            dir.check_key(&kid, pid(1), Timestamp(160)),
            KeyRefusal::Compromised {
                kid,
                compromised_at: Timestamp(150),
                issued_at: Timestamp(160),
            },
        ),
    ];
    let mut seen = std::collections::BTreeSet::new();
    for (got, expected) in cases {
        assert_eq!(got, Err(expected.clone()));
        seen.insert(match expected {
            KeyRefusal::UnknownKey { .. } => "UnknownKey",
            KeyRefusal::NotSignersKey { .. } => "NotSignersKey",
            KeyRefusal::NotYetValid { .. } => "NotYetValid",
            KeyRefusal::Expired { .. } => "Expired",
            KeyRefusal::Compromised { .. } => "Compromised",
        });
    }
    assert_eq!(seen.len(), 5);
    // The owner is checked before the window: a stranger's claim is refused as such.
    assert!(matches!(
        dir.check_key(&kid, pid(2), Timestamp(0)),
        Err(KeyRefusal::NotSignersKey { .. })
    ));
}

#[test]
fn representations_hold_inside_their_window() {
    let dir = full();
    assert!(dir.representation(pid(3), pid(2), Timestamp(4)).is_none());
    assert_eq!(
        dir.representation(pid(3), pid(2), Timestamp(5))
            .map(|r| r.kind),
        Some(RepresentationKind::Mandate)
    );
    assert!(dir.representation(pid(2), pid(3), Timestamp(5)).is_none());
    let r = Representation {
        representative: pid(1),
        subject: pid(2),
        kind: RepresentationKind::Mandate,
        valid_from: Timestamp(10),
        valid_until: Some(Timestamp(20)),
    };
    assert!(!r.holds_at(Timestamp(9)));
    assert!(r.holds_at(Timestamp(10)));
    assert!(r.holds_at(Timestamp(19)));
    assert!(!r.holds_at(Timestamp(20)));
}

// ---------------------------------------------------------------------------------------------
// DirectoryError
// ---------------------------------------------------------------------------------------------

#[test]
fn every_directory_error() {
    use DirectoryError::*;
    let mut seen = std::collections::BTreeSet::new();
    let mut check = |got: Result<(), DirectoryError>, expected: DirectoryError| {
        assert_eq!(got, Err(expected.clone()));
        seen.insert(match expected {
            DuplicateParty(_) => "DuplicateParty",
            DuplicateKey(_) => "DuplicateKey",
            NoRole(_) => "NoRole",
            BadName(_) => "BadName",
            TooManyKeys(_) => "TooManyKeys",
            EmptyWindow(_) => "EmptyWindow",
            UnknownParty(_) => "UnknownParty",
            KidMismatch { .. } => "KidMismatch",
            DuplicateRole(_) => "DuplicateRole",
            Malformed(_) => "Malformed",
            NoSuchKey(_) => "NoSuchKey",
            AlreadyEnded { .. } => "AlreadyEnded",
            NoSuchRepresentation { .. } => "NoSuchRepresentation",
            LegalPersonKey(_) => "LegalPersonKey",
            TooManySirets(_) => "TooManySirets",
            ForeignSiret { .. } => "ForeignSiret",
            DuplicateSiret(_) => "DuplicateSiret",
            DuplicateSiren(_) => "DuplicateSiren",
            NotALegalPerson { .. } => "NotALegalPerson",
            NotANaturalPerson { .. } => "NotANaturalPerson",
        });
    };
    let (mut dir, kid) = one_key(false);
    check(
        dir.add_party(Party::new(pid(1), "Again", Role::Provider)),
        DuplicateParty(pid(1)),
    );
    // The same key in another party, and twice in one party.
    check(
        dir.add_party(
            Party::new(pid(2), "Other", Role::Provider)
                .with_key(PartyKey::new(public(1), Timestamp(0))),
        ),
        DuplicateKey(kid),
    );
    check(
        dir.add_party(
            Party::new(pid(2), "Other", Role::Provider)
                .with_key(PartyKey::new(public(2), Timestamp(0)))
                .with_key(PartyKey::new(public(2), Timestamp(5))),
        ),
        DuplicateKey(public(2).key_id()),
    );
    let mut no_role = Party::new(pid(2), "Other", Role::Provider);
    no_role.roles.clear();
    check(dir.add_party(no_role), NoRole(pid(2)));
    check(
        dir.add_party(Party::new(pid(2), "", Role::Provider)),
        BadName(pid(2)),
    );
    check(
        dir.add_party(Party::new(pid(2), "é".repeat(129), Role::Provider)), // 258 bytes
        BadName(pid(2)),
    );
    let mut many = Party::new(pid(2), "Many", Role::Provider);
    for n in 0..=Party::MAX_KEYS as u8 {
        many = many.with_key(PartyKey::new(public(100 + n), Timestamp(0)));
    }
    check(dir.add_party(many), TooManyKeys(pid(2)));
    // valid_until == valid_from leaves no second in the window.
    check(
        dir.add_party(
            Party::new(pid(2), "Other", Role::Provider)
                .with_key(PartyKey::new(public(2), Timestamp(5)).until(Timestamp(5))),
        ),
        EmptyWindow(public(2).key_id()),
    );
    check(
        dir.add_representation(Representation {
            representative: pid(1),
            subject: pid(7),
            kind: RepresentationKind::Mandate,
            valid_from: Timestamp(0),
            valid_until: None,
        }),
        UnknownParty(pid(7)),
    );
    check(
        dir.report_compromise(&public(9).key_id(), Timestamp(0)),
        NoSuchKey(public(9).key_id()),
    );
    // The changes a directory update makes.
    check(
        dir.add_key(pid(7), PartyKey::new(public(3), Timestamp(0))),
        UnknownParty(pid(7)),
    );
    check(
        dir.add_key(pid(1), PartyKey::new(public(1), Timestamp(300))),
        DuplicateKey(kid),
    );
    // A window is shortened, never lengthened, and never emptied.
    check(
        dir.retire_key(&kid, Timestamp(250)),
        AlreadyEnded {
            end: Timestamp(200),
        },
    );
    check(dir.retire_key(&kid, Timestamp(100)), EmptyWindow(kid));
    check(
        dir.retire_key(&public(9).key_id(), Timestamp(300)),
        NoSuchKey(public(9).key_id()),
    );
    check(
        dir.end_representation(pid(1), pid(1), Timestamp(300)),
        NoSuchRepresentation {
            representative: pid(1),
            subject: pid(1),
        },
    );
    // Refused additions left nothing behind.
    assert_eq!(dir.parties().len(), 1);
    assert!(dir.key(&public(2).key_id()).is_none());
    // JSON-only and malformed-input errors.
    let json = Directory::new().to_json();
    let doc = |parties: &str| json.replace("\"parties\": []", &format!("\"parties\": {parties}"));
    check(
        Directory::from_json(&doc(&format!(
            r#"[{{"id": "{}", "name": "A", "roles": ["consumer"], "keys": [
                {{"kid": "{}", "public_key": "{}", "valid_from": 0}}]}}]"#,
            pid(1).0,
            public(2).key_id().to_hex(),
            public(1).to_hex()
        )))
        .map(drop),
        KidMismatch {
            expected: public(1).key_id(),
        },
    );
    check(
        Directory::from_json(&doc(&format!(
            r#"[{{"id": "{}", "name": "A", "roles": ["consumer", "consumer"], "keys": []}}]"#,
            pid(1).0
        )))
        .map(drop),
        DuplicateRole(pid(1)),
    );
    check(
        Directory::from_cbor(&h("a0")).map(drop),
        Malformed(
            DecodeError::MissingKey {
                object: "directory",
                key: 0,
                field: "version",
            }
            .to_string(),
        ),
    );
    // A legal person's rules.
    let siren = |t: &str| crate::registry::Siren::parse(t).unwrap();
    let siret = |t: &str| crate::registry::Siret::parse(t).unwrap();
    let company = |id: u8, s: &str| {
        Party::legal_person(pid(id), "Company", super::LegalPerson::new(siren(s)))
    };
    let mut legal = Directory::new();
    check(
        legal.add_party(company(5, "552100554").with_key(PartyKey::new(public(5), Timestamp(0)))),
        LegalPersonKey(pid(5)),
    );
    let mut foreign = company(5, "552100554");
    foreign.legal_person.as_mut().unwrap().sirets = vec![siret("73282932000074")];
    check(
        legal.add_party(foreign),
        ForeignSiret {
            party: pid(5),
            siret: siret("73282932000074"),
        },
    );
    let mut twice = company(5, "552100554");
    twice.legal_person.as_mut().unwrap().sirets =
        vec![siret("55210055400013"), siret("55210055400013")];
    check(
        legal.add_party(twice),
        DuplicateSiret(siret("55210055400013")),
    );
    let mut many = company(5, "356000000");
    // La Poste's establishments: NICs whose digits make the sum a multiple of 5 (3+5+6 = 14).
    many.legal_person.as_mut().unwrap().sirets = (0..=super::LegalPerson::MAX_SIRETS as u32)
        .map(|n| {
            let nic = (0..10)
                .map(|c| format!("{:04}{c}", n + 10))
                .find(|nic| (14 + nic.bytes().map(|b| u32::from(b - b'0')).sum::<u32>()) % 5 == 0)
                .unwrap();
            siret(&format!("356000000{nic}"))
        })
        .collect();
    check(legal.add_party(many), TooManySirets(pid(5)));
    legal.add_party(company(5, "552100554")).unwrap();
    check(
        legal.add_party(company(6, "552100554")),
        DuplicateSiren(siren("552100554")),
    );
    check(
        legal.add_key(pid(5), PartyKey::new(public(5), Timestamp(0))),
        LegalPersonKey(pid(5)),
    );
    legal
        .add_party(
            Party::new(pid(6), "Person", Role::Subject)
                .with_key(PartyKey::new(public(6), Timestamp(0))),
        )
        .unwrap();
    let rep = |representative, subject, kind| Representation {
        representative,
        subject,
        kind,
        valid_from: Timestamp(0),
        valid_until: None,
    };
    check(
        legal.add_representation(rep(pid(5), pid(6), RepresentationKind::LegalRepresentative)),
        NotALegalPerson { subject: pid(6) },
    );
    check(
        legal.add_representation(rep(pid(6), pid(5), RepresentationKind::Guardian)),
        NotANaturalPerson { subject: pid(5) },
    );
    legal
        .add_representation(rep(pid(6), pid(5), RepresentationKind::LegalRepresentative))
        .unwrap();
    assert_eq!(legal.representations().len(), 1);
    assert_eq!(seen.len(), 20, "{seen:?}");
}

#[test]
fn limits_accept_their_boundary() {
    let mut dir = Directory::new();
    let mut max = Party::new(pid(2), "n".repeat(Party::MAX_NAME), Role::Provider);
    for n in 0..Party::MAX_KEYS as u8 {
        max = max.with_key(PartyKey::new(public(100 + n), Timestamp(0)));
    }
    dir.add_party(max).unwrap();
    let back = Directory::from_cbor(&dir.to_cbor()).unwrap();
    same(&dir, &back);
    // A one-second window is not empty.
    dir.add_party(
        Party::new(pid(3), "Brief", Role::Provider)
            .with_key(PartyKey::new(public(1), Timestamp(5)).until(Timestamp(6))),
    )
    .unwrap();
}

// ---------------------------------------------------------------------------------------------
// CBOR form
// ---------------------------------------------------------------------------------------------

#[test]
fn cbor_round_trip_preserves_everything_and_bytes() {
    let dir = full();
    let bytes = dir.to_cbor();
    let back = Directory::from_cbor(&bytes).unwrap();
    same(&dir, &back);
    assert_eq!(back.to_cbor(), bytes);
    // The lookups are rebuilt, not only the lists.
    let kid = public(2).key_id();
    assert_eq!(
        back.key(&kid).unwrap().1.compromised_at,
        Some(Timestamp(500))
    );
    assert_eq!(back.check_key(&kid, pid(1), Timestamp(499)), Ok(&public(2)));
    assert!(back.representation(pid(3), pid(2), Timestamp(6)).is_some());
}

#[test]
fn cbor_form_is_byte_exact() {
    // {0: 1, 1: [{1: h'11…', 2: "M", 3: [2], 4: [{1: h'<key>', 2: 100}]}]}
    let mut dir = Directory::new();
    dir.add_party(
        Party::new(pid(0x11), "M", Role::Consumer)
            .with_key(PartyKey::new(public(1), Timestamp(100))),
    )
    .unwrap();
    let want = [
        h("a2 00 02 01 81 a4 01 50"),
        vec![0x11; 16],
        h("02 61 4d 03 81 02 04 81 a2 01 58 20"),
        public(1).0.to_vec(),
        h("02 18 64"),
    ]
    .concat();
    assert_eq!(dir.to_cbor(), want);
}

/// A minimal directory: one party with roles [subject, consumer] and no key.
fn minimal_cbor() -> Vec<u8> {
    [
        h("a2 00 02 01 81 a4 01 50"),
        vec![0x11; 16],
        h("02 61 4d 03 82 00 02 04 80"),
    ]
    .concat()
}

#[test]
fn cbor_refusals_are_strict() {
    let ok = minimal_cbor();
    let dir = Directory::from_cbor(&ok).unwrap();
    assert_eq!(dir.parties()[0].roles, [Role::Subject, Role::Consumer]);
    assert_eq!(dir.to_cbor(), ok);
    let malformed = |bytes: &[u8]| match Directory::from_cbor(bytes) {
        Err(DirectoryError::Malformed(m)) => m,
        other => panic!("expected Malformed, got {other:?}"),
    };
    let swap = |from: &str, to: &str| {
        let (from, to) = (h(from), h(to));
        let at = ok
            .windows(from.len())
            .position(|w| w == from)
            .expect("pattern");
        let mut out = ok.clone();
        out[at..at + from.len()].copy_from_slice(&to);
        out
    };
    // Roles out of order, or repeated.
    assert!(malformed(&swap("82 00 02", "82 02 00")).contains("roles must be sorted"));
    assert!(malformed(&swap("82 00 02", "82 02 02")).contains("roles must be sorted"));
    // An unknown role code.
    assert!(malformed(&swap("82 00 02", "82 00 05")).contains("unknown role code"));
    // An unknown key in the party map (5 instead of 4).
    assert_eq!(
        malformed(&swap("04 80", "05 80")),
        DecodeError::MissingKey {
            object: "party",
            key: 4,
            field: "keys"
        }
        .to_string()
    );
    // Key 5 is a legal person's map; 6 is unknown.
    let mut extra = ok.clone();
    extra[5] = 0xa5;
    extra.extend_from_slice(&h("06 00"));
    assert_eq!(
        malformed(&extra),
        DecodeError::UnknownKey {
            object: "party",
            key: 6
        }
        .to_string()
    );
    let mut not_a_map = ok.clone();
    not_a_map[5] = 0xa5;
    not_a_map.extend_from_slice(&h("05 00"));
    assert!(malformed(&not_a_map).contains("expected map"));
    // Trailing bytes.
    let trailing = [ok.clone(), vec![0x00]].concat();
    assert_eq!(
        malformed(&trailing),
        DecodeError::TrailingBytes {
            offset: ok.len(),
            count: 1
        }
        .to_string()
    );
    // Another version.
    assert!(malformed(&swap("a2 00 02", "a2 00 01")).contains("unsupported format version 1"));
    // An empty party list is a valid (empty) directory, but an empty representation list must
    // be written absent.
    assert!(Directory::from_cbor(&h("a2 00 02 01 80")).is_ok());
    assert!(malformed(&h("a3 00 02 01 80 02 80")).contains("too few items"));
    // A party id of 15 bytes.
    let mut short_id = ok.clone();
    short_id[7] = 0x4f;
    short_id.remove(8);
    assert!(malformed(&short_id).contains("party id"));
    // Indefinite-length party list.
    assert!(malformed(&swap("01 81 a4", "01 9f a4")).contains("indefinite"));
    // A checked rule after decoding: a zero-length key window.
    let mut dir = Directory::new();
    dir.add_party(
        Party::new(pid(1), "A", Role::Consumer)
            .with_key(PartyKey::new(public(1), Timestamp(5)).until(Timestamp(6))),
    )
    .unwrap();
    let bytes = dir.to_cbor();
    let at = bytes.len() - 1; // `3: 6` → `3: 5`
    let mut empty = bytes.clone();
    empty[at] = 0x05;
    assert_eq!(
        Directory::from_cbor(&empty).map(drop),
        Err(DirectoryError::EmptyWindow(public(1).key_id()))
    );
}

#[test]
fn directory_built_from_unsorted_roles_still_round_trips() {
    // Roles given out of order through the public fields are stored sorted, so the CBOR form
    // written for them is one `from_cbor` reads back.
    let mut dir = Directory::new();
    let mut party = Party::new(pid(1), "A", Role::Consumer);
    party.roles = vec![Role::Consumer, Role::Subject];
    dir.add_party(party).unwrap();
    assert_eq!(dir.parties()[0].roles, [Role::Subject, Role::Consumer]);
    let back = Directory::from_cbor(&dir.to_cbor()).unwrap();
    same(&dir, &back);
    // A repeated role is refused, as in JSON.
    let mut party = Party::new(pid(2), "B", Role::Consumer);
    party.roles = vec![Role::Consumer, Role::Consumer];
    assert_eq!(
        dir.add_party(party),
        Err(DirectoryError::DuplicateRole(pid(2)))
    );
}

// ---------------------------------------------------------------------------------------------
// JSON form
// ---------------------------------------------------------------------------------------------

#[test]
fn json_round_trip() {
    let dir = full();
    let json = dir.to_json();
    let back = Directory::from_json(&json).unwrap();
    same(&dir, &back);
    assert_eq!(back.to_json(), json);
    assert_eq!(back.to_cbor(), dir.to_cbor());
    assert!(json.contains(&format!("\"kid\": \"{}\"", public(1).key_id().to_hex())));
    assert!(json.contains("\"consent_manager\""));
    assert!(json.contains(&pid(3).0.hyphenated().to_string()));
}

#[test]
fn json_kid_is_optional_but_checked() {
    let key = public(1);
    let doc = |kid: &str| {
        format!(
            r#"{{"version": 2, "parties": [{{"id": "{}", "name": "A", "roles": ["provider"],
               "keys": [{{{kid}"public_key": "{}", "valid_from": 3}}]}}]}}"#,
            pid(1).0,
            key.to_hex()
        )
    };
    let dir = Directory::from_json(&doc("")).unwrap();
    assert_eq!(dir.key(&key.key_id()).unwrap().1.valid_from, Timestamp(3));
    let good = format!("\"kid\": \"{}\", ", key.key_id().to_hex());
    assert!(Directory::from_json(&doc(&good)).is_ok());
    let bad = format!("\"kid\": \"{}\", ", public(2).key_id().to_hex());
    assert_eq!(
        Directory::from_json(&doc(&bad)).map(drop),
        Err(DirectoryError::KidMismatch {
            expected: key.key_id()
        })
    );
}

#[test]
fn json_refusals() {
    let json = full().to_json();
    let malformed =
        |doc: &str| matches!(Directory::from_json(doc), Err(DirectoryError::Malformed(_)));
    // Unknown fields, at every level.
    assert!(malformed(&json.replacen(
        "\"version\": 2",
        "\"version\": 2, \"extra\": 0",
        1
    )));
    assert!(malformed(&json.replacen(
        "\"name\":",
        "\"nickname\": \"x\", \"name\":",
        1
    )));
    assert!(malformed(&json.replacen(
        "\"valid_from\":",
        "\"usage\": 1, \"valid_from\":",
        1
    )));
    assert!(malformed(&json.replacen(
        "\"subject\":",
        "\"note\": \"x\", \"subject\":",
        1
    )));
    // Another version.
    assert!(malformed(&json.replacen(
        "\"version\": 2",
        "\"version\": 1",
        1
    )));
    // A public key that is not 64 hex digits.
    let key = public(1).to_hex();
    assert!(malformed(&json.replacen(&key, &key[..62], 1)));
    assert!(malformed(&json.replacen(
        &key,
        &format!("zz{}", &key[2..]),
        1
    )));
    // An unknown role.
    assert!(malformed(&json.replacen("\"provider\"", "\"mayor\"", 1)));
    // Not JSON.
    assert!(malformed("{"));
    // The original still reads.
    assert!(Directory::from_json(&json).is_ok());
}

#[test]
fn an_empty_directory_round_trips() {
    let empty = Directory::new();
    let back = Directory::from_cbor(&empty.to_cbor()).unwrap();
    assert!(back.parties().is_empty());
    assert_eq!(back.to_cbor(), empty.to_cbor());
    assert!(
        Directory::from_json(&empty.to_json())
            .unwrap()
            .parties()
            .is_empty()
    );
}

#[test]
fn party_ids_print_as_hyphenated_uuids() {
    let id = PartyId::from_bytes([0xab; 16]);
    let text = "abababab-abab-abab-abab-abababababab";
    assert_eq!(id.to_string(), text);
    assert_eq!(format!("{id:?}"), format!("PartyId({text})"));
    // The JSON form is the same string.
    assert_eq!(
        serde_json::to_string(&id).expect("json"),
        format!("\"{text}\"")
    );
}

#[test]
fn json_size_limit_is_exact() {
    let max = Limits::DIRECTORY.max_size;
    let padded = |len: usize| format!("{}{{}}", " ".repeat(len - 2));
    let too_large = DirectoryError::Malformed("document too large".into());
    // At the limit the document is read (and refused for what it lacks, not for its size).
    let at_limit = Directory::from_json(&padded(max)).expect_err("no version");
    assert!(matches!(&at_limit, DirectoryError::Malformed(_)));
    assert_ne!(at_limit, too_large);
    assert_eq!(
        Directory::from_json(&padded(max + 1)).expect_err("too large"),
        too_large
    );
}
