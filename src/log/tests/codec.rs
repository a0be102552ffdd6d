//! Encode/decode identity and strict refusals of receipts, tree heads and entries.

use super::{
    operator, pool, sample_entries, scenario, with_added, with_extra, with_value, without,
};
use crate::Digest;
use crate::cbor::{DecodeError, Encoder, Value};
use crate::cose::{self, Envelope, ObjectKind};
use crate::directory::{KeyRefusal, PartyId, RepresentationKind};
use crate::log::{
    Denial, EntryKind, LogEntry, LogError, MAX_DENIAL_REASONS, Receipt, SignedTreeHead, TreeHead,
    empty_root,
};
use crate::signed::{ObjectError, SignedPayload, Unverified, Verified, VerifyError};
use crate::time::Timestamp;
use crate::vocab::Category;

fn receipt_payload() -> Vec<u8> {
    let p = pool();
    Envelope::parse(&p.receipts[0])
        .expect("envelope")
        .payload()
        .to_vec()
}

#[test]
fn receipt_round_trips_and_verifies() {
    let s = scenario();
    let p = pool();
    for bytes in p.receipts.iter().chain([&p.child_receipt]) {
        let verified = Verified::<Receipt>::parse_and_verify(bytes, &s.directory).expect("valid");
        let receipt = verified.claims();
        assert_eq!(receipt.provider(), s.dgfip);
        assert_eq!(receipt.consumer(), s.mairie);
        let payload = receipt.to_payload_bytes();
        assert_eq!(Receipt::from_payload_bytes(&payload).as_ref(), Ok(receipt));
        assert_eq!(payload, Envelope::parse(bytes).expect("envelope").payload());
    }
    let first = Unverified::<Receipt>::parse(&p.receipts[0]).expect("parse");
    assert_eq!(first.claims().subject(), s.parent);
    assert_eq!(first.claims().basis_kind(), crate::log::BasisKind::Grant);
    let second = Unverified::<Receipt>::parse(&p.receipts[1]).expect("parse");
    assert_eq!(
        second.claims().basis_kind(),
        crate::log::BasisKind::Habilitation
    );
    assert_eq!(
        second.claims().basis_kind().object_kind(),
        ObjectKind::Habilitation
    );
}

#[test]
fn receipt_matches_its_authorization() {
    let s = scenario();
    let grant = s.sign_grant(&s.grant().build(&s.ceilings).expect("grant"));
    let request = s.sign_request(&s.request(&grant));
    let decision = s.decide(&request, &grant);
    let allow = decision.allowed().expect("allowed");
    let id = s.next_uuid();
    let receipt = Receipt::for_authorization(allow, id, s.now.plus_secs(3));
    assert_eq!(receipt.id(), id);
    assert_eq!(receipt.request(), allow.request());
    assert_eq!(receipt.request_digest(), Digest::of(&request));
    assert_eq!(receipt.basis(), allow.basis());
    assert_eq!(receipt.basis_digest(), Digest::of(&grant));
    assert_eq!(receipt.categories(), allow.categories());
    assert_eq!(receipt.data_range(), allow.data_range());
    assert_eq!(receipt.retain_until(), allow.retain_until());
    assert_eq!(receipt.issued_at(), s.now.plus_secs(3));
}

#[test]
fn receipt_signed_by_another_party_is_refused() {
    let s = scenario();
    let claims = Unverified::<Receipt>::parse(&pool().receipts[0]).expect("parse");
    let forged = claims.claims().sign(s.key(s.mairie));
    let err = Verified::<Receipt>::parse_and_verify(&forged, &s.directory).expect_err("forged");
    assert!(matches!(
        err,
        ObjectError::Verify(VerifyError::Key(KeyRefusal::NotSignersKey { .. }))
    ));
}

#[test]
fn receipt_decoding_is_strict() {
    let payload = receipt_payload();
    let decode = |bytes: &[u8]| Receipt::from_payload_bytes(bytes).expect_err("refused");
    assert!(matches!(
        decode(&with_value(&payload, 0, Value::Unsigned(1))),
        DecodeError::UnsupportedVersion { found: 1, .. }
    ));
    assert!(matches!(
        decode(&without(&payload, 7)),
        DecodeError::MissingKey { key: 7, .. }
    ));
    assert!(matches!(
        decode(&with_extra(&payload, 19)),
        DecodeError::UnknownKey { key: 19, .. }
    ));
    // The onward-transfer flag is written only when true.
    assert!(matches!(
        decode(&with_added(&payload, 14, Value::Bool(false))),
        DecodeError::InvalidValue {
            field: "onward transfer",
            ..
        }
    ));
    // The chain of representation (15): `[1*3 [representative, kind]]`, signer first.
    let subject = Receipt::from_payload_bytes(&payload)
        .expect("the receipt")
        .subject();
    let link = |party: u8, kind: u64| {
        Value::Array(vec![Value::Bytes(vec![party; 16]), Value::Unsigned(kind)])
    };
    let chain = |links: Vec<Value>| with_added(&payload, 15, Value::Array(links));
    let two = chain(vec![link(7, 2), link(8, 0)]);
    let read = Receipt::from_payload_bytes(&two).expect("a chain of two links");
    let parties: Vec<_> = read
        .chain()
        .iter()
        .map(|l| (l.representative, l.represented, l.kind))
        .collect();
    let (p7, p8) = (PartyId::from_bytes([7; 16]), PartyId::from_bytes([8; 16]));
    assert_eq!(
        parties,
        [
            (p7, p8, RepresentationKind::Mandate),
            (p8, subject, RepresentationKind::Parent)
        ]
    );
    assert!(matches!(
        decode(&chain(vec![])),
        DecodeError::InvalidValue { field: "chain", .. }
    ));
    assert!(matches!(
        decode(&chain((1..=4).map(|p| link(p, 0)).collect())),
        DecodeError::ChainTooLong { links: 4, limit: 3 }
    ));
    assert!(matches!(
        decode(&chain(vec![link(7, 0), link(7, 0)])),
        DecodeError::ChainRepeatsParty { party } if party == p7
    ));
    let subject_link = Value::Array(vec![
        Value::Bytes(subject.as_bytes().to_vec()),
        Value::Unsigned(0),
    ]);
    assert!(matches!(
        decode(&chain(vec![subject_link])),
        DecodeError::ChainRepeatsParty { party } if party == subject
    ));
    // Kind 3, a legal person's legal representative, reads; 4 is unknown.
    let legal = Receipt::from_payload_bytes(&chain(vec![link(7, 3)])).expect("kind 3");
    assert_eq!(
        legal.chain()[0].kind,
        RepresentationKind::LegalRepresentative
    );
    assert!(matches!(
        decode(&chain(vec![link(7, 4)])),
        DecodeError::InvalidValue {
            field: "representation kind",
            ..
        }
    ));
    // A mandate only as the first link.
    assert!(matches!(
        decode(&chain(vec![link(7, 0), link(8, 2)])),
        DecodeError::InvalidValue { field: "chain", .. }
    ));
    assert!(matches!(
        decode(&chain(vec![Value::Array(vec![Value::Bytes(vec![7; 16])])])),
        DecodeError::InvalidValue {
            field: "chain link",
            ..
        }
    ));
    // The representation kind of the former key 16 is gone: key 16 is now the purpose code.
    assert!(Receipt::from_payload_bytes(&with_value(&payload, 16, Value::Unsigned(1))).is_err());
    assert!(matches!(
        decode(&without(&payload, 16)),
        DecodeError::MissingKey { key: 16, .. }
    ));
    // No chain in a receipt of a habilitation.
    assert!(matches!(
        decode(&with_value(&two, 5, Value::Unsigned(1))),
        DecodeError::InvalidValue { field: "chain", .. }
    ));
    assert!(matches!(
        decode(&with_value(
            &with_added(&payload, 14, Value::Bool(true)),
            5,
            Value::Unsigned(1)
        )),
        DecodeError::InvalidValue {
            field: "onward transfer",
            ..
        }
    ));
    assert!(matches!(
        decode(&with_value(&payload, 5, Value::Unsigned(2))),
        DecodeError::InvalidValue {
            field: "basis kind",
            ..
        }
    ));
    let cats =
        |names: &[&str]| Value::Array(names.iter().map(|n| Value::Text((*n).to_owned())).collect());
    assert!(matches!(
        decode(&with_value(&payload, 10, cats(&["b:b", "a:a"]))),
        DecodeError::InvalidValue {
            field: "categories",
            ..
        }
    ));
    assert!(matches!(
        decode(&with_value(&payload, 10, cats(&["a:a", "a:a"]))),
        DecodeError::InvalidValue {
            field: "categories",
            ..
        }
    ));
    assert!(matches!(
        decode(&with_value(&payload, 10, cats(&[]))),
        DecodeError::InvalidValue {
            field: "categories",
            ..
        }
    ));
    assert!(matches!(
        decode(&with_value(&payload, 1, Value::Bytes(vec![0; 15]))),
        DecodeError::InvalidValue { field: "id", .. }
    ));
    let mut trailing = payload.clone();
    trailing.push(0);
    assert!(matches!(
        decode(&trailing),
        DecodeError::TrailingBytes { .. }
    ));
    // Every category still parses as a code.
    let receipt = Receipt::from_payload_bytes(&payload).expect("valid");
    assert!(
        receipt
            .categories()
            .iter()
            .all(|c| Category::new(c.as_str()).is_ok())
    );
}

#[test]
fn receipt_is_not_another_kind() {
    let p = pool();
    assert!(Unverified::<Receipt>::parse(&p.grant).is_err());
    assert!(Unverified::<TreeHead>::parse(&p.receipts[0]).is_err());
}

fn head() -> TreeHead {
    TreeHead {
        log_id: operator().1,
        tree_size: 5,
        root_hash: Digest::of(b"root"),
        timestamp: Timestamp(1_756_684_800),
    }
}

#[test]
fn tree_head_round_trips() {
    let h = head();
    let bytes = h.to_payload_bytes();
    assert_eq!(TreeHead::from_payload_bytes(&bytes), Ok(h));
    let empty = TreeHead {
        tree_size: 0,
        root_hash: empty_root(),
        ..h
    };
    assert_eq!(
        TreeHead::from_payload_bytes(&empty.to_payload_bytes()),
        Ok(empty)
    );
}

#[test]
fn tree_head_decoding_is_strict() {
    let payload = head().to_payload_bytes();
    let decode = |bytes: &[u8]| TreeHead::from_payload_bytes(bytes).expect_err("refused");
    assert!(matches!(
        decode(&with_value(&payload, 0, Value::Unsigned(0))),
        DecodeError::UnsupportedVersion { .. }
    ));
    assert!(matches!(
        decode(&without(&payload, 3)),
        DecodeError::MissingKey { key: 3, .. }
    ));
    assert!(matches!(
        decode(&with_extra(&payload, 5)),
        DecodeError::UnknownKey { key: 5, .. }
    ));
    assert!(matches!(
        decode(&with_value(&payload, 3, Value::Bytes(vec![0; 31]))),
        DecodeError::InvalidValue { .. }
    ));
    // An empty tree has one possible root.
    assert!(matches!(
        decode(&with_value(&payload, 2, Value::Unsigned(0))),
        DecodeError::InvalidValue {
            field: "root hash",
            ..
        }
    ));
    // Non-shortest size.
    let mut e = Encoder::new();
    e.map(5)
        .uint(0)
        .uint(1)
        .uint(1)
        .bytes(operator().1.as_bytes());
    e.uint(2).raw(&[0x18, 0x05]);
    e.uint(3).bytes(&Digest::of(b"root").0).uint(4).uint(9);
    assert!(matches!(
        decode(e.as_bytes()),
        DecodeError::NonShortest { .. }
    ));
}

#[test]
fn signed_head_verifies_with_the_operator_key_only() {
    let (key, operator) = operator();
    let h = head();
    let bytes = h.sign(&key);
    let signed = SignedTreeHead::verify(&bytes, operator, &key.verifying_key()).expect("valid");
    assert_eq!(signed.head(), &h);
    assert_eq!(signed.log_id(), operator);
    assert_eq!(signed.as_bytes(), bytes.as_slice());
    assert_eq!(signed.kid(), key.key_id());

    let other = crate::testing::key_for("not the operator");
    assert!(matches!(
        SignedTreeHead::verify(&bytes, operator, &other.verifying_key()),
        Err(LogError::WrongKey { .. })
    ));
    // A head signed by another key but naming the operator's kid: the signature fails.
    let forged = {
        let protected = cose::protected_header(ObjectKind::TreeHead, &key.key_id());
        let payload = h.to_payload_bytes();
        let signature = other.sign(&cose::sig_structure(&protected, &payload));
        crate::cose::raw::assemble(&protected, &[0xa0], &payload, &signature)
    };
    assert_eq!(
        SignedTreeHead::verify(&forged, operator, &key.verifying_key()),
        Err(LogError::BadSignature)
    );
    // A receipt is not a head.
    assert!(matches!(
        SignedTreeHead::verify(&pool().receipts[0], operator, &key.verifying_key()),
        Err(LogError::MalformedHead(_))
    ));
}

#[test]
fn signed_head_verifies_with_a_directory() {
    let s = scenario();
    let (key, _) = operator();
    let bytes = head().sign(&key);
    let signed = SignedTreeHead::verify_with_directory(&bytes, &s.directory).expect("valid");
    assert_eq!(signed.head(), &head());
    // The operator's key does not sign for another log id.
    let other_log = TreeHead {
        log_id: s.dgfip,
        ..head()
    };
    assert!(matches!(
        SignedTreeHead::verify_with_directory(&other_log.sign(&key), &s.directory),
        Err(LogError::HeadKey(VerifyError::Key(
            KeyRefusal::NotSignersKey { .. }
        )))
    ));
    // Dated before the operator's key was valid.
    let early = TreeHead {
        timestamp: Timestamp(1),
        ..head()
    };
    assert!(matches!(
        SignedTreeHead::verify_with_directory(&early.sign(&key), &s.directory),
        Err(LogError::HeadKey(VerifyError::Key(
            KeyRefusal::NotYetValid { .. }
        )))
    ));
    // Unknown key.
    let stranger = crate::testing::key_for("stranger");
    assert!(matches!(
        SignedTreeHead::verify_with_directory(&head().sign(&stranger), &s.directory),
        Err(LogError::HeadKey(VerifyError::UnknownKey(_)))
    ));
}

#[test]
fn every_entry_kind_round_trips() {
    let s = scenario();
    let entries = sample_entries();
    let kinds: Vec<EntryKind> = entries.iter().map(LogEntry::kind).collect();
    assert_eq!(
        kinds,
        [
            EntryKind::GrantIssued,
            EntryKind::Receipt,
            EntryKind::Statement,
            EntryKind::Denial,
            EntryKind::GrantIssued,
            EntryKind::Receipt
        ]
    );
    let subjects: Vec<_> = entries.iter().map(LogEntry::subject).collect();
    let (parent, child) = (Some(s.parent), Some(s.child));
    assert_eq!(subjects, [parent, parent, parent, parent, child, child]);
    for entry in &entries {
        let bytes = entry.to_bytes();
        let decoded = LogEntry::from_bytes(&bytes).expect("decodes");
        assert_eq!(&decoded, entry);
        assert_eq!(decoded.to_bytes(), bytes);
        assert_eq!(entry.leaf_hash(), crate::log::leaf_hash(&bytes));
        assert_eq!(
            EntryKind::from_code(entry.kind().code()),
            Some(entry.kind())
        );
    }
    // Signed objects in entries verify against the directory.
    for entry in &entries {
        match entry {
            LogEntry::Receipt(r) => assert!(r.verify(&s.directory).is_ok()),
            LogEntry::GrantIssued(g) => assert!(g.verify(&s.directory).is_ok()),
            LogEntry::Statement(e) => {
                let statement = e.statement();
                assert!(statement.verify(&s.directory).is_ok());
            }
            _ => assert!(entry.signed_bytes().is_none()),
        }
    }
    // A statement about a habilitation has no subject.
    let statement =
        LogEntry::statement(pool().pause.clone(), None).expect("statement without subject");
    assert_eq!(statement.subject(), None);
    assert_eq!(LogEntry::from_bytes(&statement.to_bytes()), Ok(statement));
}

#[test]
fn entries_are_strict() {
    let p = pool();
    let bad = |bytes: &[u8]| LogEntry::from_bytes(bytes).expect_err("refused");
    let entry = |kind: u64, items: &[Value]| {
        let mut all = vec![Value::Unsigned(kind)];
        all.extend_from_slice(items);
        Value::Array(all).encode()
    };
    // A receipt entry carrying a grant, and the other way round.
    assert!(matches!(
        bad(&entry(0, &[Value::Bytes(p.grant.clone())])),
        LogError::MalformedObject {
            kind: EntryKind::Receipt,
            ..
        }
    ));
    assert!(matches!(
        bad(&entry(1, &[Value::Bytes(p.receipts[0].clone())])),
        LogError::MalformedObject {
            kind: EntryKind::GrantIssued,
            ..
        }
    ));
    assert!(matches!(
        bad(&entry(2, &[Value::Bytes(p.grant.clone())])),
        LogError::MalformedObject {
            kind: EntryKind::Statement,
            ..
        }
    ));
    assert!(matches!(
        bad(&entry(4, &[Value::Bytes(p.grant.clone())])),
        LogError::MalformedObject {
            kind: EntryKind::Deletion,
            ..
        }
    ));
    // Unknown kind, wrong arity, trailing bytes, not an array.
    assert!(matches!(
        bad(&entry(5, &[Value::Bytes(p.grant.clone())])),
        LogError::MalformedEntry(DecodeError::InvalidValue {
            field: "entry kind",
            ..
        })
    ));
    assert!(matches!(
        bad(&entry(
            0,
            &[Value::Bytes(p.receipts[0].clone()), Value::Unsigned(1)]
        )),
        LogError::MalformedEntry(DecodeError::InvalidValue { field: "entry", .. })
    ));
    assert!(matches!(bad(&entry(1, &[])), LogError::MalformedEntry(_)));
    let mut trailing = LogEntry::receipt(p.receipts[0].clone())
        .expect("entry")
        .to_bytes();
    trailing.push(0xa0);
    assert!(matches!(
        bad(&trailing),
        LogError::MalformedEntry(DecodeError::TrailingBytes { .. })
    ));
    assert!(matches!(bad(&[0xa0]), LogError::MalformedEntry(_)));
    assert!(matches!(bad(&[]), LogError::MalformedEntry(_)));
    // A statement's subject must be a party id.
    assert!(matches!(
        bad(&entry(
            2,
            &[Value::Bytes(p.pause.clone()), Value::Bytes(vec![1; 3])]
        )),
        LogError::MalformedEntry(_)
    ));
    // A huge claimed length is refused before anything is allocated.
    assert!(matches!(
        bad(&[
            0x82, 0x00, 0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff
        ]),
        LogError::MalformedEntry(DecodeError::TooLong { .. })
    ));
    let too_big = vec![0u8; crate::log::MAX_ENTRY_SIZE + 1];
    assert!(matches!(
        bad(&too_big),
        LogError::MalformedEntry(DecodeError::TooLarge { .. })
    ));
}

#[test]
fn statement_must_be_about_the_grant_given() {
    let p = pool();
    let err = LogEntry::statement_about_grant(p.pause.clone(), &p.child_grant)
        .expect_err("another grant");
    assert!(matches!(err, LogError::StatementNotAboutBasis { .. }));
    let err =
        LogEntry::statement_about_grant(p.pause.clone(), &p.receipts[0]).expect_err("not a grant");
    assert!(matches!(err, LogError::MalformedObject { .. }));
}

#[test]
fn denials_are_checked() {
    let d = |reasons: Vec<String>| Denial::new(Digest::of(b"r"), None, None, reasons, Timestamp(1));
    assert!(matches!(d(vec![]), Err(LogError::InvalidDenial(_))));
    assert!(matches!(
        d(vec!["Not A Code".into()]),
        Err(LogError::InvalidDenial(_))
    ));
    assert!(matches!(
        d(vec!["x".repeat(65)]),
        Err(LogError::InvalidDenial(_))
    ));
    assert!(d(vec!["x".repeat(64)]).is_ok());
    assert!(matches!(
        d(vec!["expired".into(); MAX_DENIAL_REASONS + 1]),
        Err(LogError::InvalidDenial(_))
    ));
    let ok = d(vec!["expired".into(); MAX_DENIAL_REASONS]).expect("valid");
    let bytes = LogEntry::Denial(ok).to_bytes();
    assert!(LogEntry::from_bytes(&bytes).is_ok());

    // On the wire: bad code, missing reasons, unknown key, bad version.
    let full = Denial::attributed(
        Digest::of(b"r"),
        Some(crate::ids::RequestId::from_bytes([1; 16])),
        Some(crate::ids::BasisId::from_bytes([2; 16])),
        Some(crate::directory::PartyId::from_bytes([3; 16])),
        ["expired"],
        Timestamp(9),
    )
    .expect("valid");
    let entry = LogEntry::Denial(full);
    assert_eq!(LogEntry::from_bytes(&entry.to_bytes()).as_ref(), Ok(&entry));
    let Value::Array(items) =
        Value::decode(&entry.to_bytes(), crate::cbor::Limits::OBJECT).expect("value")
    else {
        panic!("not an array")
    };
    let map = items[1].encode();
    let rewrap = |map: Vec<u8>| {
        let mut e = Encoder::new();
        e.array(2).uint(3).raw(&map);
        LogEntry::from_bytes(e.as_bytes())
    };
    assert_eq!(rewrap(map.clone()).as_ref(), Ok(&entry));
    let bad_code = with_value(&map, 5, Value::Array(vec![Value::Text("BAD".into())]));
    assert!(matches!(rewrap(bad_code), Err(LogError::InvalidDenial(_))));
    assert!(matches!(
        rewrap(without(&map, 5)),
        Err(LogError::MalformedEntry(DecodeError::MissingKey {
            key: 5,
            ..
        }))
    ));
    assert!(matches!(
        rewrap(with_extra(&map, 7)),
        Err(LogError::MalformedEntry(DecodeError::UnknownKey {
            key: 7,
            ..
        }))
    ));
    assert!(matches!(
        rewrap(with_value(&map, 0, Value::Unsigned(1))),
        Err(LogError::MalformedEntry(
            DecodeError::UnsupportedVersion { .. }
        ))
    ));
    assert!(matches!(
        rewrap(with_value(&map, 5, Value::Array(vec![]))),
        Err(LogError::MalformedEntry(DecodeError::InvalidValue { .. }))
    ));
}

#[test]
fn denial_for_a_decision() {
    let s = scenario();
    let grant = s.sign_grant(&s.grant().build(&s.ceilings).expect("grant"));
    let request = s.sign_request(&s.request(&grant));
    let allow = s.decide(&request, &grant);
    assert!(allow.is_allow());
    assert!(Denial::for_decision(&allow).is_none());
    let again = s.sign_request(&s.request(&grant));
    let deny = s.decide(&again, &grant);
    let denial = Denial::for_decision(&deny).expect("a denial");
    assert_eq!(denial.reasons(), ["frequency_exhausted"]);
    assert_eq!(denial.request_digest(), Digest::of(&again));
    assert_eq!(denial.subject(), Some(s.parent));
    assert_eq!(denial.at(), s.now);
    // The same facts as the ledger's record of the decision.
    let record = s.ledger.take_decisions().pop().expect("kept");
    assert_eq!(denial.request(), record.request());
    assert!(denial.request().is_some());
    assert_eq!(denial.basis(), record.basis());
    assert_eq!(denial.subject(), record.subject());
    assert_eq!(denial.reasons(), record.reasons());
    // And it is a valid entry: it encodes and decodes back.
    let entry = LogEntry::Denial(denial);
    assert_eq!(
        LogEntry::from_bytes(&entry.to_bytes()).expect("valid"),
        entry
    );
}

#[test]
fn a_denial_keeps_each_code_once() {
    let s = scenario();
    // The request and the basis are both malformed: two reasons with one code.
    let deny = s.decide(b"not a request", b"not a grant");
    assert_eq!(deny.codes(), ["malformed", "malformed"]);
    let denial = Denial::for_decision(&deny).expect("a denial");
    assert_eq!(denial.reasons(), ["malformed"]);
    assert_eq!(denial.subject(), None, "nothing verified names a subject");
}

/// Keys 16 (purpose), 17 (legal reference: exactly for a habilitation) and 18 (derivations
/// applied: a grant's, to categories delivered), each refused when out of place.
#[test]
fn receipt_purpose_legal_reference_and_derivations_are_strict() {
    let payload = receipt_payload();
    let decode = |bytes: &[u8]| Receipt::from_payload_bytes(bytes).expect_err("refused");
    let read = Receipt::from_payload_bytes(&payload).expect("the receipt");
    assert_eq!(read.purpose(), &crate::testing::canteen_purpose());
    assert_eq!(read.legal_reference(), None);
    assert!(read.derivations().is_empty());
    let field = |e: DecodeError| match e {
        DecodeError::InvalidValue { field, .. } => field,
        other => panic!("not an invalid value: {other:?}"),
    };
    let text = |t: &str| Value::Text(t.to_owned());
    // A grant's receipt names no legal reference; a habilitation's always does.
    assert_eq!(
        field(decode(&with_added(&payload, 17, text("CRPA L114-8")))),
        "legal reference"
    );
    let of_habilitation = with_value(&payload, 5, Value::Unsigned(1));
    assert_eq!(field(decode(&of_habilitation)), "legal reference");
    let habilitation = with_added(&of_habilitation, 17, text("CRPA L114-8"));
    let h = Receipt::from_payload_bytes(&habilitation).expect("a habilitation's receipt");
    assert_eq!(h.legal_reference(), Some("CRPA L114-8"));
    assert_eq!(
        field(decode(&with_value(&habilitation, 17, text("")))),
        "legal reference"
    );
    // Derivations applied: `[+ [category, derivation, [+ uint]]]`, to categories delivered.
    let delivered = read.categories()[0].as_str().to_owned();
    let term = |category: &str, params: &[u64]| {
        Value::Array(vec![
            text(category),
            text("dgfip:tranche_rfr"),
            Value::Array(params.iter().map(|p| Value::Unsigned(*p)).collect()),
        ])
    };
    let derived = |terms: Vec<Value>| with_added(&payload, 18, Value::Array(terms));
    let ok = Receipt::from_payload_bytes(&derived(vec![term(&delivered, &[10, 20])]))
        .expect("a derivation applied to a category delivered");
    assert_eq!(ok.derivations()[0].parameters(), [10, 20]);
    assert_eq!(field(decode(&derived(vec![]))), "derivations");
    assert_eq!(
        field(decode(&derived(vec![term("cnaf:quotient_familial", &[1])]))),
        "derivations"
    );
    assert_eq!(
        field(decode(&derived(vec![term(&delivered, &[20, 10])]))),
        "derivation parameters"
    );
    assert_eq!(
        field(decode(&derived(vec![term(&delivered, &[])]))),
        "derivation parameters"
    );
    assert_eq!(
        field(decode(&derived(vec![term(
            &delivered,
            &(0..17).collect::<Vec<_>>()
        )]))),
        "derivation parameters"
    );
    assert_eq!(
        field(decode(&derived(vec![
            term(&delivered, &[1]),
            term(&delivered, &[2])
        ]))),
        "derivations"
    );
    assert_eq!(
        field(decode(&with_added(
            &habilitation,
            18,
            Value::Array(vec![term(&delivered, &[1])])
        ))),
        "derivations"
    );
}
