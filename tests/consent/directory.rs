//! The signed, versioned directory: a first version and updates signed by the federation's
//! operator, applied in order, each refused for its own reason when it would break a rule; the
//! operator's key rotated by an update; past states kept, so that a decision and a later check
//! use the directory that held at the time in question.

use super::common::default_grant;
use consentry::cose::ObjectKind;
use consentry::danger::{self, cbor::Encoder};
use consentry::decision::{Decision, Reason, Subject, Verifier};
use consentry::directory::{
    Change, ChangeFault, DirectoryError, DirectoryHistory, DirectorySnapshot, DirectoryUpdate,
    KeyRefusal, Party, PartyKey, Representation, RepresentationKind, Role, UpdateError,
};
use consentry::testing::{Scenario, party_for};
use consentry::{Basis, Digest, SigningKey, Timestamp};

const HOUR: u64 = 3_600;

fn operator() -> SigningKey {
    SigningKey::from_seed(&[0x0b; 32])
}

/// The canteen's directory, signed by the operator an hour before the clock.
fn history(s: &Scenario) -> DirectoryHistory {
    let genesis = DirectorySnapshot::genesis(s.directory.clone(), s.now.minus_secs(HOUR));
    DirectoryHistory::load(&genesis.sign(&operator()), &operator().verifying_key())
        .expect("the operator's directory loads")
}

fn new_key(seed: u8, from: Timestamp) -> (SigningKey, PartyKey) {
    let key = SigningKey::from_seed(&[seed; 32]);
    let record = PartyKey::new(key.verifying_key(), from);
    (key, record)
}

fn change_fault(result: Result<impl std::fmt::Debug, UpdateError>) -> (usize, ChangeFault) {
    match result {
        Err(UpdateError::Change { index, fault }) => (index, fault),
        other => panic!("expected a refused change, got {other:?}"),
    }
}

fn decide(s: &Scenario, history: &DirectoryHistory, request: &[u8], grant: &[u8]) -> Decision {
    let trust = history.at(s.now).expect("the history reaches now");
    Verifier::new(s.verifier_provider, &*trust, &s.ceilings, &s.ledger).decide(
        request,
        Basis::Signed(grant),
        s.now,
    )
}

#[test]
fn a_signed_directory_loads_only_with_the_operators_key() {
    let s = Scenario::canteen();
    let genesis = DirectorySnapshot::genesis(s.directory.clone(), s.now);
    let signed = genesis.sign(&operator());
    let anchor = operator().verifying_key();
    let loaded = DirectoryHistory::load(&signed, &anchor).expect("loads");
    assert_eq!(loaded.current().to_cbor(), s.directory.to_cbor());
    assert_eq!(loaded.version(), 0);

    // Signed by anyone else: refused for the key, before any content is trusted.
    let forged = genesis.sign(&SigningKey::from_seed(&[0x0c; 32]));
    let err = DirectoryHistory::load(&forged, &anchor).unwrap_err();
    assert!(matches!(err, UpdateError::NotOperatorKey { .. }), "{err:?}");
    assert_eq!(err.code(), "update/not_operator_key");

    // The operator's kid over another directory: the signature does not verify.
    let mut tampered = signed.clone();
    let last = tampered.len() - 70;
    tampered[last] ^= 1;
    let err = DirectoryHistory::load(&tampered, &anchor).unwrap_err();
    assert_eq!(err, UpdateError::BadSignature);
    assert_eq!(err.code(), "update/bad_signature");

    // An update's envelope is not a directory, even with the operator's signature.
    let cross = danger::sign(
        ObjectKind::DirectoryUpdate,
        &operator(),
        &genesis.to_payload_bytes(),
    );
    let err = DirectoryHistory::load(&cross, &anchor).unwrap_err();
    assert_eq!(err.code(), "envelope/wrong_kind");
}

#[test]
fn a_signed_directory_whose_content_breaks_the_rules_is_refused() {
    let s = Scenario::canteen();
    let anchor = operator().verifying_key();
    let load = |payload: &[u8]| {
        DirectoryHistory::load(
            &danger::sign(ObjectKind::Directory, &operator(), payload),
            &anchor,
        )
        .unwrap_err()
    };
    // A version other than 0 must say which update it stands after.
    let mut payload = DirectorySnapshot::genesis(s.directory.clone(), s.now).to_payload_bytes();
    assert_eq!(payload[3..5], [0x01, 0x00], "key 1 (seq), value 0");
    payload[4] = 0x01;
    let err = load(&payload);
    assert_eq!(err.code(), "value/invalid", "{err}");

    // The operator's signature does not make bytes a directory.
    let mut e = Encoder::new();
    e.map(4);
    e.uint(0).uint(2).uint(1).uint(0).uint(3).uint(s.now.secs());
    e.uint(4).bytes(&[0xa0]);
    let err = load(&e.into_bytes());
    assert!(matches!(err, UpdateError::Directory(_)), "{err:?}");
    assert_eq!(err.code(), "directory/malformed");
}

#[test]
fn updates_apply_in_order_and_a_redelivery_is_recognised() {
    let s = Scenario::canteen();
    let mut h = history(&s);
    let first = h
        .next_update(s.now)
        .retire_key(s.key(s.other_consumer).key_id(), s.now.plus_secs(HOUR))
        .sign(&operator());
    let second_payload = DirectoryUpdate::new(2, Digest::of(&first), s.now)
        .report_compromise(s.key(s.mairie).key_id(), s.now);
    let second = second_payload.sign(&operator());

    // The second before the first: a gap.
    let err = h.apply(&second).unwrap_err();
    assert_eq!(
        err,
        UpdateError::OutOfOrder {
            expected: 1,
            found: 2
        }
    );
    assert_eq!(err.code(), "update/out_of_order");
    assert_eq!(h.version(), 0);

    h.apply(&first).expect("the first applies");
    // The same bytes again: nothing to do, and said so.
    let err = h.apply(&first).unwrap_err();
    assert_eq!(err, UpdateError::AlreadyApplied { seq: 1 });
    assert_eq!(err.code(), "update/already_applied");
    h.apply(&second).expect("then the second");
    assert_eq!(h.version(), 2);
    assert_eq!(h.versions().len(), 3);
}

#[test]
fn an_update_must_follow_the_current_version() {
    let s = Scenario::canteen();
    let mut h = history(&s);
    let stray = DirectoryUpdate::new(1, Digest::of(b"another directory"), s.now)
        .report_compromise(s.key(s.mairie).key_id(), s.now)
        .sign(&operator());
    let err = h.apply(&stray).unwrap_err();
    assert_eq!(err, UpdateError::WrongPrevious { seq: 0 });
    assert_eq!(err.code(), "update/wrong_previous");

    let early = h
        .next_update(s.now.minus_secs(2 * HOUR))
        .report_compromise(s.key(s.mairie).key_id(), s.now.minus_secs(2 * HOUR))
        .sign(&operator());
    let err = h.apply(&early).unwrap_err();
    assert!(matches!(err, UpdateError::TimeGoesBack { .. }), "{err:?}");
    assert_eq!(err.code(), "update/time_goes_back");
    assert_eq!(h.version(), 0);
}

#[test]
fn two_different_updates_with_one_number_are_a_fork() {
    let s = Scenario::canteen();
    let mut h = history(&s);
    let one = h
        .next_update(s.now)
        .retire_key(s.key(s.mairie).key_id(), s.now.plus_secs(HOUR));
    let other = h
        .next_update(s.now)
        .retire_key(s.key(s.mairie).key_id(), s.now.plus_secs(2 * HOUR));
    h.apply(&one.sign(&operator())).expect("applies");
    let err = h.apply(&other.sign(&operator())).unwrap_err();
    assert_eq!(err, UpdateError::Fork { seq: 1 });
    assert_eq!(err.code(), "update/fork");
}

#[test]
fn only_the_operator_signs_updates() {
    let s = Scenario::canteen();
    let mut h = history(&s);
    let update = h
        .next_update(s.now)
        .report_compromise(s.key(s.mairie).key_id(), s.now);
    // A party of the directory is not the operator.
    let err = h.apply(&update.sign(s.key(s.mairie))).unwrap_err();
    assert!(matches!(err, UpdateError::NotOperatorKey { .. }), "{err:?}");
    // The operator's kid, another signature.
    let mut forged = update.sign(&operator());
    let at = forged.len() - 1;
    forged[at] ^= 1;
    assert_eq!(h.apply(&forged).unwrap_err(), UpdateError::BadSignature);
    assert_eq!(h.version(), 0);
}

#[test]
fn a_key_or_representation_may_not_be_backdated() {
    let s = Scenario::canteen();
    let mut h = history(&s);
    let (_, backdated) = new_key(0x21, s.now.minus_secs(1));
    let err = change_fault(
        h.apply(
            &h.next_update(s.now)
                .add_key(s.mairie, backdated.clone())
                .sign(&operator()),
        ),
    );
    assert_eq!(
        err,
        (
            0,
            ChangeFault::Backdated {
                starts: s.now.minus_secs(1),
                issued_at: s.now
            }
        )
    );
    assert_eq!(err.1.code(), "update/backdated");

    // The same through a new party.
    let newcomer =
        Party::new(party_for("newcomer"), "Nouvelle mairie", Role::Consumer).with_key(backdated);
    let (index, fault) =
        change_fault(h.apply(&h.next_update(s.now).add_party(newcomer).sign(&operator())));
    assert_eq!((index, fault.code()), (0, "update/backdated"));

    // And a representation.
    let rep = Representation {
        representative: s.franceconnect,
        subject: s.child,
        kind: RepresentationKind::Mandate,
        valid_from: s.now.minus_secs(HOUR),
        valid_until: None,
    };
    let (_, fault) = change_fault(
        h.apply(
            &h.next_update(s.now)
                .add_representation(rep)
                .sign(&operator()),
        ),
    );
    assert_eq!(fault.code(), "update/backdated");
    assert_eq!(h.version(), 0);
}

#[test]
fn a_kid_is_never_reused_and_parties_must_be_known() {
    let s = Scenario::canteen();
    let mut h = history(&s);
    // The mairie's current key, offered again for another party.
    let reused = PartyKey::new(s.key(s.mairie).verifying_key(), s.now);
    let (_, fault) = change_fault(
        h.apply(
            &h.next_update(s.now)
                .add_key(s.dgfip, reused)
                .sign(&operator()),
        ),
    );
    assert!(
        matches!(
            fault,
            ChangeFault::Directory(DirectoryError::DuplicateKey(_))
        ),
        "{fault:?}"
    );
    assert_eq!(fault.code(), "directory/duplicate_key");

    let (_, key) = new_key(0x22, s.now);
    let stranger = party_for("stranger");
    let (_, fault) = change_fault(
        h.apply(
            &h.next_update(s.now)
                .add_key(stranger, key)
                .sign(&operator()),
        ),
    );
    assert_eq!(
        fault,
        ChangeFault::Directory(DirectoryError::UnknownParty(stranger))
    );

    let (_, fault) = change_fault(
        h.apply(
            &h.next_update(s.now)
                .end_representation(s.mairie, s.child, s.now)
                .sign(&operator()),
        ),
    );
    assert_eq!(fault.code(), "directory/no_such_representation");
    assert_eq!(h.version(), 0);
}

#[test]
fn an_update_applies_all_of_its_changes_or_none() {
    let s = Scenario::canteen();
    let mut h = history(&s);
    let (_, fresh) = new_key(0x23, s.now);
    let fresh_kid = fresh.kid();
    let err = h
        .apply(
            &h.next_update(s.now)
                .add_key(s.mairie, fresh)
                .retire_key(s.key(s.mairie).key_id(), s.now.minus_secs(1))
                .sign(&operator()),
        )
        .unwrap_err();
    assert_eq!(err.code(), "update/retroactive_end");
    assert!(matches!(err, UpdateError::Change { index: 1, .. }));
    assert!(
        h.current().key(&fresh_kid).is_none(),
        "the first change was not kept"
    );
    assert_eq!(h.version(), 0);
}

#[test]
fn a_compromise_may_be_dated_back_but_not_ahead() {
    let s = Scenario::canteen();
    let mut h = history(&s);
    let kid = s.key(s.mairie).key_id();
    let (_, fault) = change_fault(
        h.apply(
            &h.next_update(s.now)
                .report_compromise(kid, s.now.plus_secs(1))
                .sign(&operator()),
        ),
    );
    assert_eq!(fault.code(), "update/compromise_after_issue");
    h.apply(
        &h.next_update(s.now)
            .report_compromise(kid, s.now.minus_secs(HOUR))
            .sign(&operator()),
    )
    .expect("a compromise found after the fact");
    let err = h
        .current()
        .check_key(&kid, s.mairie, s.now.minus_secs(HOUR))
        .unwrap_err();
    assert!(matches!(err, KeyRefusal::Compromised { .. }));
}

#[test]
fn the_operator_hands_over_to_a_new_key_with_the_old_one() {
    let s = Scenario::canteen();
    let mut h = history(&s);
    let successor = SigningKey::from_seed(&[0x0d; 32]);
    h.apply(
        &h.next_update(s.now)
            .operator_key(successor.verifying_key())
            .sign(&operator()),
    )
    .expect("the old key hands over");
    assert_eq!(h.operator(), &successor.verifying_key());

    let next = h
        .next_update(s.now)
        .report_compromise(s.key(s.mairie).key_id(), s.now);
    let err = h.apply(&next.sign(&operator())).unwrap_err();
    assert!(
        matches!(err, UpdateError::NotOperatorKey { .. }),
        "the old key signs no more: {err:?}"
    );
    h.apply(&next.sign(&successor)).expect("the new key signs");

    // Two successors in one update are ambiguous.
    let (index, fault) = change_fault(
        h.apply(
            &h.next_update(s.now)
                .operator_key(operator().verifying_key())
                .change(Change::OperatorKey(successor.verifying_key()))
                .sign(&successor),
        ),
    );
    assert_eq!((index, fault), (1, ChangeFault::OperatorKeyTwice));
}

/// Key rotation and a compromised consumer key, decided against the directory of the time.
#[test]
fn decisions_and_later_checks_use_the_directory_of_their_time() {
    let mut s = Scenario::canteen();
    let mut h = history(&s);
    let grant = default_grant(&s);
    let before = s.sign_request(&s.request(&grant));
    assert!(decide(&s, &h, &before, &grant).is_allow());

    // The mairie's key leaked an hour ago; the operator reports it now.
    let leaked = s.key(s.mairie).key_id();
    let reported_at = s.now;
    h.apply(
        &h.next_update(reported_at)
            .report_compromise(leaked, reported_at.minus_secs(HOUR))
            .sign(&operator()),
    )
    .unwrap();
    s.advance_days(1);
    let after = s.sign_request(&s.request(&grant));
    let decision = decide(&s, &h, &after, &grant);
    let reasons = decision.refusal().expect("denied").reasons();
    assert!(
        reasons.iter().any(|r| matches!(
            r,
            Reason::KeyNotValid {
                object: Subject::Request,
                refusal: KeyRefusal::Compromised { .. }
            }
        )),
        "{reasons:?}"
    );

    // An auditor checking, later, an entry decided before the report uses that day's directory:
    // the key was not known to be compromised, and the request it signed counted.
    let then = h.at(reported_at.minus_secs(1)).unwrap();
    assert!(
        then.check_key(&leaked, s.mairie, reported_at.minus_secs(2 * HOUR))
            .is_ok()
    );
    assert!(
        h.current()
            .check_key(&leaked, s.mairie, reported_at.minus_secs(HOUR / 2))
            .is_err()
    );

    // Before the directory's first version, the history has no answer.
    let err = h.at(reported_at.minus_secs(2 * HOUR)).unwrap_err();
    assert_eq!(err.code(), "update/before_history");
}

#[test]
fn a_checkpoint_continues_the_history() {
    let s = Scenario::canteen();
    let mut h = history(&s);
    h.apply(
        &h.next_update(s.now)
            .retire_key(s.key(s.other_consumer).key_id(), s.now.plus_secs(HOUR))
            .sign(&operator()),
    )
    .unwrap();
    let checkpoint = h.checkpoint(s.now).sign(&operator());
    let mut resumed = DirectoryHistory::load(&checkpoint, &operator().verifying_key()).unwrap();
    assert_eq!(resumed.version(), 1);
    assert_eq!(resumed.current().to_cbor(), h.current().to_cbor());

    let next = h
        .next_update(s.now.plus_secs(1))
        .report_compromise(s.key(s.mairie).key_id(), s.now)
        .sign(&operator());
    h.apply(&next).unwrap();
    resumed
        .apply(&next)
        .expect("the next update follows the checkpoint");
    assert_eq!(resumed.current().to_cbor(), h.current().to_cbor());
}

/// The JSON of an update, as an operator's tooling writes it: every kind of change once.
fn update_json(s: &Scenario, seq: u64, previous: &Digest, newcomer: &SigningKey) -> String {
    let at = s.now.secs();
    serde_json::json!({
        "seq": seq,
        "previous": previous.to_hex(),
        "issued_at": at,
        "changes": [
            {"add_party": {
                "id": party_for("school").0.to_string(),
                "name": "École Jules Ferry",
                "roles": ["provider", "consumer"],
                "keys": [{"public_key": newcomer.verifying_key().to_hex(), "valid_from": at}],
            }},
            {"add_key": {
                "party": s.mairie.0.to_string(),
                "key": {"public_key": SigningKey::from_seed(&[0x31; 32]).verifying_key().to_hex(),
                        "valid_from": at, "valid_until": at + 365 * 24 * HOUR},
            }},
            {"retire_key": {"kid": s.key(s.mairie).key_id().to_hex(), "at": at + HOUR}},
            {"report_compromise": {"kid": s.key(s.other_consumer).key_id().to_hex(), "at": at - HOUR}},
            {"add_representation": {
                "representative": s.franceconnect.0.to_string(),
                "subject": s.child.0.to_string(),
                "kind": "mandate",
                "valid_from": at,
            }},
            {"end_representation": {
                "representative": s.franceconnect.0.to_string(),
                "subject": s.child.0.to_string(),
                "at": at + 2 * HOUR,
            }},
            {"operator_key": SigningKey::from_seed(&[0x0c; 32]).verifying_key().to_hex()},
        ],
    })
    .to_string()
}

#[test]
fn an_update_prepared_as_json_is_signed_and_applied_like_any_other() {
    let s = Scenario::canteen();
    let mut h = history(&s);
    let newcomer = SigningKey::from_seed(&[0x30; 32]);
    let text = update_json(&s, 1, &h.versions()[0].digest, &newcomer);
    let update: DirectoryUpdate = consentry::json::from_json(&text).expect("the JSON form");

    // The same update as the builder makes it, change for change (roles sorted by code).
    let at = s.now;
    let built = h
        .next_update(at)
        .add_party(
            Party::new(party_for("school"), "École Jules Ferry", Role::Provider)
                .with_role(Role::Consumer)
                .with_key(PartyKey::new(newcomer.verifying_key(), at)),
        )
        .add_key(
            s.mairie,
            PartyKey::new(SigningKey::from_seed(&[0x31; 32]).verifying_key(), at)
                .until(at.plus_secs(365 * 24 * HOUR)),
        )
        .retire_key(s.key(s.mairie).key_id(), at.plus_secs(HOUR))
        .report_compromise(s.key(s.other_consumer).key_id(), at.minus_secs(HOUR))
        .add_representation(Representation {
            representative: s.franceconnect,
            subject: s.child,
            kind: RepresentationKind::Mandate,
            valid_from: at,
            valid_until: None,
        })
        .end_representation(s.franceconnect, s.child, at.plus_secs(2 * HOUR))
        .operator_key(SigningKey::from_seed(&[0x0c; 32]).verifying_key());
    assert_eq!(update, built);
    assert_eq!(update.changes().len(), 7);

    // Signed, its CBOR reads back to the same update, and it applies.
    let signed = update.sign(&operator());
    let envelope = consentry::cose::Envelope::parse(&signed).expect("an envelope");
    assert_eq!(envelope.kind(), ObjectKind::DirectoryUpdate);
    let parsed = DirectoryUpdate::from_payload_bytes(envelope.payload()).expect("the payload");
    assert_eq!(parsed, update);
    assert_eq!(h.apply(&signed).expect("applied"), &update);
    assert!(h.current().key(&newcomer.key_id()).is_some());
    assert_eq!(
        h.operator(),
        &SigningKey::from_seed(&[0x0c; 32]).verifying_key()
    );

    // And its JSON form reads back to it.
    let written = consentry::json::to_json(&update);
    assert_eq!(
        consentry::json::from_json::<DirectoryUpdate>(&written).expect("reads back"),
        update
    );
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&written).unwrap()["changes"][2],
        serde_json::json!({"retire_key": {"kid": s.key(s.mairie).key_id().to_hex(), "at": at.secs() + HOUR}})
    );
}

#[test]
fn a_json_update_meets_the_rules_of_applying_when_applied() {
    // The reader refuses shapes, not the rules of applying: a backdated key is read, and
    // refused when the signed update is applied, as its CBOR twin is.
    let s = Scenario::canteen();
    let mut h = history(&s);
    let at = s.now.secs();
    let text = serde_json::json!({
        "seq": 1,
        "previous": h.versions()[0].digest.to_hex(),
        "issued_at": at,
        "changes": [{"add_key": {"party": s.dgfip.0.to_string(), "key": {
            "public_key": SigningKey::from_seed(&[0x32; 32]).verifying_key().to_hex(),
            "valid_from": at - 1,
        }}}],
    })
    .to_string();
    let update: DirectoryUpdate = consentry::json::from_json(&text).expect("read");
    let (index, fault) = change_fault(h.apply(&update.sign(&operator())));
    assert_eq!((index, fault.code()), (0, "update/backdated"));
    assert_eq!(h.version(), 0);
}

#[test]
fn the_json_reader_of_an_update_refuses_shapes_and_the_directorys_values() {
    let s = Scenario::canteen();
    let h = history(&s);
    let newcomer = SigningKey::from_seed(&[0x30; 32]);
    let base: serde_json::Value =
        serde_json::from_str(&update_json(&s, 1, &h.versions()[0].digest, &newcomer)).unwrap();
    let with = |path: &str, v: serde_json::Value| {
        let mut doc = base.clone();
        let (parent, last) = path.rsplit_once('/').unwrap_or_else(|| panic!("{path}"));
        match doc.pointer_mut(parent).unwrap_or_else(|| panic!("{path}")) {
            serde_json::Value::Object(m) => {
                m.insert(last.to_owned(), v);
            }
            serde_json::Value::Array(a) => a[last.parse::<usize>().unwrap()] = v,
            other => panic!("{path}: {other}"),
        }
        doc.to_string()
    };
    let party = base["changes"][0]["add_party"].clone();
    let many: Vec<serde_json::Value> = (0..=DirectoryUpdate::MAX_CHANGES)
        .map(|_| base["changes"][2].clone())
        .collect();
    let mut legal = party.clone();
    legal["keys"] = serde_json::json!([]);
    legal["legal_person"] = serde_json::json!({"siren": "842157398",
        "sirets": ["84215739800012", "84215739800012"]});
    let cases: Vec<(&str, String, &str)> = vec![
        ("seq 0", with("/seq", 0.into()), "json/shape"),
        (
            "no change",
            with("/changes", serde_json::json!([])),
            "json/shape",
        ),
        (
            "too many changes",
            with("/changes", many.into()),
            "json/shape",
        ),
        (
            "unknown change",
            with("/changes/0", serde_json::json!({"add_role": {}})),
            "json/shape",
        ),
        (
            "two changes in one",
            with(
                "/changes/0",
                serde_json::json!({"operator_key": base["changes"][6]["operator_key"], "retire_key": base["changes"][2]["retire_key"]}),
            ),
            "json/shape",
        ),
        (
            "kid not hex",
            with("/changes/2/retire_key/kid", "xyz".into()),
            "json/shape",
        ),
        (
            "operator key short",
            with("/changes/6/operator_key", "abcd".into()),
            "json/shape",
        ),
        (
            "unknown field",
            with("/changes/5/end_representation/why", "moved".into()),
            "json/shape",
        ),
        (
            "previous short",
            with("/previous", "ab".into()),
            "json/shape",
        ),
        ("extra member", with("/signature", "x".into()), "json/shape"),
        (
            "kid of another key",
            with(
                "/changes/0/add_party/keys/0/kid",
                s.key(s.mairie).key_id().to_hex().into(),
            ),
            "directory/kid_mismatch",
        ),
        (
            "role twice",
            with(
                "/changes/0/add_party/roles",
                serde_json::json!(["consumer", "consumer"]),
            ),
            "directory/duplicate_role",
        ),
        (
            "SIREN check digit",
            with(
                "/changes/0/add_party",
                serde_json::json!({"id": party["id"], "name": "SARL", "roles": ["subject"], "keys": [], "legal_person": {"siren": "842157399"}}),
            ),
            "registry/bad_check_digit",
        ),
        (
            "SIRET twice",
            with("/changes/0/add_party", legal),
            "directory/duplicate_siret",
        ),
    ];
    for (what, text, code) in cases {
        let e = consentry::json::from_json::<DirectoryUpdate>(&text)
            .expect_err(what)
            .code();
        assert_eq!(e, code, "{what}");
    }
}

#[test]
fn a_signed_directory_has_a_json_form_that_reads_back() {
    let s = Scenario::canteen();
    let mut h = history(&s);
    h.apply(
        &h.next_update(s.now)
            .retire_key(s.key(s.other_consumer).key_id(), s.now.plus_secs(HOUR))
            .sign(&operator()),
    )
    .unwrap();
    let genesis = DirectorySnapshot::genesis(s.directory.clone(), s.now.minus_secs(HOUR));
    let checkpoint = h.checkpoint(s.now);
    for snapshot in [&genesis, &checkpoint] {
        let json: serde_json::Value =
            serde_json::from_str(&consentry::json::to_json(snapshot)).unwrap();
        assert_eq!(json["seq"], snapshot.seq());
        assert_eq!(
            json["head"],
            snapshot
                .head()
                .map_or(serde_json::Value::Null, |d| d.to_hex().into())
        );
        assert_eq!(json["issued_at"], snapshot.issued_at().secs());
        let dir: serde_json::Value = serde_json::from_str(&snapshot.directory().to_json()).unwrap();
        assert_eq!(json["directory"], dir);
        let back: DirectorySnapshot =
            consentry::json::from_json(&json.to_string()).expect("reads back");
        assert_eq!(back.to_payload_bytes(), snapshot.to_payload_bytes());
    }

    // A checkpoint prepared as JSON, signed, continues the history.
    let text = consentry::json::to_json(&checkpoint);
    let read: DirectorySnapshot = consentry::json::from_json(&text).unwrap();
    let resumed = DirectoryHistory::load(&read.sign(&operator()), &operator().verifying_key())
        .expect("loads");
    assert_eq!(resumed.version(), 1);
    assert_eq!(resumed.current().to_cbor(), h.current().to_cbor());

    // A version other than 0 without a head, and a directory breaking its rules, are refused.
    let mut doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    doc["head"] = serde_json::Value::Null;
    let e = consentry::json::from_json::<DirectorySnapshot>(&doc.to_string()).unwrap_err();
    assert_eq!(e.code(), "json/shape");
    let mut doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    doc["directory"]["parties"][1]["id"] = doc["directory"]["parties"][0]["id"].clone();
    let e = consentry::json::from_json::<DirectorySnapshot>(&doc.to_string()).unwrap_err();
    assert_eq!(e.code(), "directory/duplicate_party");
}

#[test]
fn hostile_json_for_the_directorys_forms_is_refused_without_panic() {
    let s = Scenario::canteen();
    let h = history(&s);
    let text = update_json(
        &s,
        1,
        &h.versions()[0].digest,
        &SigningKey::from_seed(&[0x30; 32]),
    );
    let snapshot = consentry::json::to_json(&h.checkpoint(s.now));
    // Every document cut short is not JSON.
    for end in (0..text.len()).filter(|&i| text.is_char_boundary(i)) {
        let e = consentry::json::from_json::<DirectoryUpdate>(&text[..end]).unwrap_err();
        assert_eq!(e.code(), "json/syntax", "{}", &text[..end]);
    }
    for end in (0..snapshot.len()).filter(|&i| snapshot.is_char_boundary(i)) {
        let e = consentry::json::from_json::<DirectorySnapshot>(&snapshot[..end]).unwrap_err();
        assert_eq!(e.code(), "json/syntax", "{}", &snapshot[..end]);
    }
    // Nesting beyond serde_json's limit, where a change or a directory is expected.
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let update = format!(
        r#"{{"seq": 1, "previous": "{}", "issued_at": 1, "changes": [{{"add_party": {deep}}}]}}"#,
        "00".repeat(32)
    );
    let e = consentry::json::from_json::<DirectoryUpdate>(&update).unwrap_err();
    assert!(matches!(e.code(), "json/syntax" | "json/shape"), "{e}");
    let snapshot = format!(r#"{{"seq": 0, "issued_at": 1, "directory": {deep}}}"#);
    let e = consentry::json::from_json::<DirectorySnapshot>(&snapshot).unwrap_err();
    assert!(matches!(e.code(), "json/syntax" | "json/shape"), "{e}");
    // A document over the bound is refused before it is parsed.
    let big = format!("{text}{}", " ".repeat(consentry::json::MAX_JSON));
    let e = consentry::json::from_json::<DirectoryUpdate>(&big).unwrap_err();
    assert_eq!(e.code(), "json/too_large");
}
