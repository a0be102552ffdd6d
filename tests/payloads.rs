//! Property tests of the signed payload types: every wire type round-trips through its strict
//! codec, every accepted byte string re-encodes to itself, and no single bit flip of a signed
//! object yields an accepted object.

#[path = "support/reach.rs"]
mod reach;

use consentry::Timestamp;
use consentry::cose::ObjectKind;
use consentry::danger::cbor::Value;
use consentry::danger::{UncheckedGrant, UncheckedHabilitation};
use consentry::directory::PartyId;
use consentry::fuzzing;
use consentry::grant::Grant;
use consentry::habilitation::Habilitation;
use consentry::ids::{BasisId, RequestId};
use consentry::request::Request;
use consentry::signed::{SignedPayload, Unverified, Verified};
use consentry::statement::{Action, Statement};
use consentry::terms::{AccessPattern, DataRange, Scope};
use consentry::testing::Scenario;
use consentry::vocab::{Category, Purpose};
use consentry::{DecodeError, Limits};
use proptest::prelude::*;
use reach::{reaching_half, reaching_half_each};

fn party() -> impl Strategy<Value = PartyId> {
    any::<[u8; 16]>().prop_map(PartyId::from_bytes)
}

fn code() -> impl Strategy<Value = String> {
    ("[a-z][a-z0-9_-]{0,31}", "[a-z0-9_.-]{1,64}").prop_map(|(ns, n)| format!("{ns}:{n}"))
}

fn category() -> impl Strategy<Value = Category> {
    code().prop_map(|c| Category::new(c).unwrap())
}

fn purpose() -> impl Strategy<Value = Purpose> {
    (code(), proptest::option::of(".{0,40}")).prop_map(|(c, t)| {
        let p = Purpose::new(c).unwrap();
        match t {
            Some(t) if !t.is_empty() => p.with_text(t).unwrap(),
            _ => p,
        }
    })
}

fn scope() -> impl Strategy<Value = Scope> {
    proptest::collection::vec((party(), proptest::collection::vec(category(), 1..4)), 1..4)
        .prop_map(|entries| {
            let mut s = Scope::new();
            for (p, cats) in entries {
                s.add(p, cats);
            }
            s
        })
}

fn range() -> impl Strategy<Value = DataRange> {
    (0u64..1 << 40, 1u64..1 << 30).prop_map(|(a, len)| {
        DataRange::new(Timestamp::from_secs(a), Timestamp::from_secs(a + len)).unwrap()
    })
}

fn access() -> impl Strategy<Value = AccessPattern> {
    prop_oneof![
        Just(AccessPattern::one_time()),
        (1u32..100, 1u64..1 << 32).prop_map(|(max_uses, period_secs)| AccessPattern::periodic(
            max_uses,
            period_secs
        )
        .unwrap()),
    ]
}

prop_compose! {
    fn grant()(id in any::<[u8; 16]>(), subject in party(),
               chain in proptest::collection::vec(party(), 0..=3), consumer in party(),
               scope in scope(), purpose in purpose(), issued in any::<u64>(),
               nb in 0u64..1 << 40, len in 1u64..1 << 30, access in access(), range in range(),
               retention in any::<u64>(), onward in any::<bool>()) -> Grant {
        let mut b = Grant::builder(BasisId::from_bytes(id), subject, consumer, purpose)
            .chain(chain)
            .issued_at(Timestamp::from_secs(issued))
            .valid(Timestamp::from_secs(nb), Timestamp::from_secs(nb + len))
            .access(access)
            .data_range(range)
            .retention_secs(retention);
        for e in scope.entries() {
            b = b.cover(e.provider, e.categories.clone());
        }
        if onward {
            b = b.allow_onward_transfer();
        }
        b.build_without_ceiling_check().unwrap()
    }
}

prop_compose! {
    fn habilitation()(id in any::<[u8; 16]>(), authority in party(), consumer in party(),
                      scope in scope(), purpose in purpose(), legal in "[ -~]{1,80}",
                      issued in any::<u64>(), nb in 0u64..1 << 40, len in 1u64..1 << 30,
                      retention in any::<u64>()) -> Habilitation {
        let mut b = Habilitation::builder(BasisId::from_bytes(id), authority, consumer, purpose)
            .legal_reference(legal)
            .issued_at(Timestamp::from_secs(issued))
            .valid(Timestamp::from_secs(nb), Timestamp::from_secs(nb + len))
            .retention_secs(retention);
        for entry in scope.entries() {
            b = b.cover(entry.provider, entry.categories.iter().cloned());
        }
        b.build_without_ceiling_check().unwrap()
    }
}

prop_compose! {
    fn request()(id in any::<[u8; 16]>(), basis in any::<[u8; 16]>(), digest in any::<[u8; 32]>(),
                 consumer in party(), provider in party(), subject in party(),
                 cats in proptest::collection::btree_set(category(), 1..5),
                 purpose in purpose(), range in range(), issued in any::<u64>()) -> Request {
        Request::builder(RequestId::from_bytes(id), consumer, provider, subject)
            .basis_id(BasisId::from_bytes(basis))
            .basis_digest(consentry::Digest::from_bytes(digest))
            .categories(cats)
            // The request carries the purpose code only.
            .purpose(Purpose::new(purpose.code()).unwrap())
            .data_range(range)
            .issued_at(Timestamp::from_secs(issued))
            .build()
            .unwrap()
    }
}

prop_compose! {
    fn statement()(basis in any::<[u8; 16]>(), digest in any::<[u8; 32]>(), action in 0u8..3,
                   by in party(), at in any::<u64>()) -> Statement {
        Statement {
            basis: BasisId::from_bytes(basis),
            basis_digest: consentry::Digest::from_bytes(digest),
            action: [Action::Pause, Action::Resume, Action::Revoke][usize::from(action)],
            issued_by: by,
            issued_at: Timestamp::from_secs(at),
        }
    }
}

/// encode → decode is the identity, and the decoded value re-encodes to the same bytes.
fn round_trip<T: SignedPayload + PartialEq + std::fmt::Debug>(value: &T) {
    let bytes = value.to_payload_bytes();
    let back = T::from_payload_bytes(&bytes).expect("our own encoding decodes");
    assert_eq!(&back, value);
    assert_eq!(back.to_payload_bytes(), bytes);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn grants_round_trip(g in grant()) { round_trip(&g); }

    #[test]
    fn habilitations_round_trip(h in habilitation()) { round_trip(&h); }

    #[test]
    fn requests_round_trip(r in request()) { round_trip(&r); }

    #[test]
    fn statements_round_trip(s in statement()) { round_trip(&s); }

}

// ---------------------------------------------------------------------------------------------
// Properties whose assertion holds only for some inputs run with a count of the inputs that
// reach it, which must be at least half: random bytes are refused at the first byte, and random
// bit flips mostly break a payload, so these properties also draw payloads of every kind with
// one field changed.

/// A valid payload of any of the four kinds.
fn any_payload() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        grant().prop_map(|g| g.to_payload_bytes()),
        habilitation().prop_map(|h| h.to_payload_bytes()),
        request().prop_map(|r| r.to_payload_bytes()),
        statement().prop_map(|s| s.to_payload_bytes()),
    ]
}

/// A valid payload of any kind with one field changed (see `consentry::fuzzing::change_one`), dropped, or an
/// unknown key added; re-encoded deterministically, so that the payload decoder sees well-formed
/// deterministic CBOR and has to judge the fields themselves.
fn field_mutated_payload() -> impl Strategy<Value = Vec<u8>> {
    (any_payload(), any::<u64>(), 0u8..32).prop_map(|(payload, choice, what)| {
        let Ok(Value::Map(mut entries)) = Value::decode(&payload, Limits::OBJECT) else {
            unreachable!("a payload is a map")
        };
        let i = (choice >> 40) as usize % entries.len();
        match what {
            0 => {
                entries.remove(i);
            }
            1 => entries.push((Value::Unsigned(16 + choice % 8), Value::Unsigned(0))),
            _ => fuzzing::change_one(&mut entries[i].1, choice),
        }
        Value::Map(entries).encode()
    })
}

/// Whether a payload decoder got past the input's first byte: it accepted it, or refused it
/// further on (an error at a later offset, or about a field).
fn past_first_byte<T>(result: &Result<T, DecodeError>) -> bool {
    use DecodeError::*;
    match result {
        Ok(_) => true,
        Err(
            Truncated { offset }
            | NonShortest { offset }
            | Indefinite { offset }
            | Malformed { offset }
            | DuplicateKey { offset }
            | UnsortedKeys { offset }
            | WrongType { offset, .. }
            | UnexpectedTag { offset, .. }
            | Unsupported { offset }
            | InvalidUtf8 { offset }
            | TrailingBytes { offset, .. }
            | TooDeep { offset, .. }
            | TooLong { offset, .. }
            | OutOfRange { offset },
        ) => *offset > 1,
        Err(TooLarge { .. }) => false,
        Err(_) => true,
    }
}

/// Any byte string a payload decoder accepts re-encodes to exactly itself: a grant's payload
/// with one to three bits flipped (one input in six; about a third of those decode), or a
/// payload of any kind with one field changed, each tried with every payload decoder.
#[test]
fn accepted_payload_bytes_re_encode_to_themselves() {
    let flipped = (
        grant(),
        proptest::collection::vec((any::<prop::sample::Index>(), 0u8..8), 1..4),
    )
        .prop_map(|(g, flips)| {
            let mut bytes = g.to_payload_bytes();
            for (i, bit) in flips {
                let i = i.index(bytes.len());
                bytes[i] ^= 1 << bit;
            }
            bytes
        });
    reaching_half(
        "accepted_payload_bytes_re_encode_to_themselves",
        512,
        prop_oneof![1 => flipped, 5 => field_mutated_payload()],
        |bytes| {
            let mut accepted = false;
            if let Ok(p) = Grant::from_payload_bytes(&bytes) {
                prop_assert_eq!(p.to_payload_bytes(), bytes.clone());
                accepted = true;
            }
            if let Ok(p) = Habilitation::from_payload_bytes(&bytes) {
                prop_assert_eq!(p.to_payload_bytes(), bytes.clone());
                accepted = true;
            }
            if let Ok(p) = Request::from_payload_bytes(&bytes) {
                prop_assert_eq!(p.to_payload_bytes(), bytes.clone());
                accepted = true;
            }
            if let Ok(p) = Statement::from_payload_bytes(&bytes) {
                prop_assert_eq!(p.to_payload_bytes(), bytes.clone());
                accepted = true;
            }
            Ok(accepted)
        },
    );
}

/// Arbitrary bytes never panic any payload decoder: raw bytes (one input in four, almost all
/// refused at the first byte), payloads with one field changed, and those signed (for the
/// signed-object parser). An input reaches the property when a decoder gets past its first byte.
#[test]
fn arbitrary_bytes_never_panic() {
    let key = consentry::SigningKey::from_seed(&[7; 32]);
    reaching_half(
        "arbitrary_bytes_never_panic",
        256,
        prop_oneof![
            1 => proptest::collection::vec(any::<u8>(), 0..512).prop_map(|b| (b, false)),
            3 => (field_mutated_payload(), any::<bool>()),
        ],
        |(bytes, signed)| {
            let signed = signed.then(|| consentry::danger::sign(ObjectKind::Grant, &key, &bytes));
            let outcomes = [
                past_first_byte(&Grant::from_payload_bytes(&bytes)),
                past_first_byte(&Habilitation::from_payload_bytes(&bytes)),
                past_first_byte(&Request::from_payload_bytes(&bytes)),
                past_first_byte(&Statement::from_payload_bytes(&bytes)),
            ];
            let _ = Unverified::<Grant>::parse(signed.as_deref().unwrap_or(&bytes));
            Ok(outcomes.into_iter().any(|b| b))
        },
    );
}

/// Flipping any single bit of a signed grant never yields an accepted object equal to the
/// original: every one of the grant's bits is covered.
#[test]
fn every_single_bit_flip_of_a_signed_grant_is_refused() {
    let s = Scenario::canteen();
    let grant = s.grant().build(&s.ceilings).unwrap();
    let bytes = s.sign_grant(&grant);
    let original = Verified::<Grant>::parse_and_verify(&bytes, &s.directory).unwrap();
    let mut refused = 0;
    for i in 0..bytes.len() * 8 {
        let mut b = bytes.clone();
        b[i / 8] ^= 1 << (i % 8);
        match Verified::<Grant>::parse_and_verify(&b, &s.directory) {
            Err(_) => refused += 1,
            Ok(v) => panic!(
                "bit {i} flipped and still accepted: {:?}",
                v.claims() == original.claims()
            ),
        }
    }
    assert_eq!(refused, bytes.len() * 8);
}

/// Payload encodings are strict: a non-shortest integer for the version is refused even if
/// everything else is right.
#[test]
fn non_deterministic_payload_is_refused() {
    let s = Scenario::canteen();
    let grant = s.grant().build(&s.ceilings).unwrap();
    let bytes = grant.to_payload_bytes();
    // bytes[0] is the map header, then key 0 (0x00) and version 2 (0x02): write 2 as 0x18 0x02.
    assert_eq!(&bytes[1..3], &[0x00, 0x02]);
    let mut bad = Vec::from(&bytes[..2]);
    bad.extend_from_slice(&[0x18, 0x02]);
    bad.extend_from_slice(&bytes[3..]);
    assert!(matches!(
        Grant::from_payload_bytes(&bad),
        Err(DecodeError::NonShortest { offset: 2 })
    ));
    // And the payload digest changes with the bytes: the hash binding is over exact bytes.
    assert_ne!(consentry::Digest::of(&bad), consentry::Digest::of(&bytes));
}

/// Every model type's JSON form round-trips, and JSON input is checked like CBOR input.
#[test]
fn json_forms_round_trip_and_are_validated() {
    let s = Scenario::canteen();
    let grant = s.grant().build(&s.ceilings).unwrap();
    let json = serde_json::to_string(&grant).unwrap();
    assert_eq!(serde_json::from_str::<Grant>(&json).unwrap(), grant);
    let hab = s.habilitation();
    let json = serde_json::to_string(&hab).unwrap();
    assert_eq!(serde_json::from_str::<Habilitation>(&json).unwrap(), hab);
    let grant_bytes = s.sign_grant(&grant);
    let req = s.request(&grant_bytes);
    let json = serde_json::to_string(&req).unwrap();
    assert_eq!(serde_json::from_str::<Request>(&json).unwrap(), req);
    let st = Statement {
        basis: grant.id(),
        basis_digest: consentry::Digest::of(&grant_bytes),
        action: Action::Revoke,
        issued_by: s.parent,
        issued_at: s.now,
    };
    let json = serde_json::to_string(&st).unwrap();
    assert_eq!(serde_json::from_str::<Statement>(&json).unwrap(), st);

    // Refusals: an empty validity window, unsorted categories, an unknown field, a bad code.
    let mut v: serde_json::Value = serde_json::to_value(&grant).unwrap();
    v["expires_at"] = v["not_before"].clone();
    assert!(serde_json::from_value::<Grant>(v).is_err());
    let mut v = serde_json::to_value(&req).unwrap();
    v["categories"] = serde_json::json!(["z:b", "a:b"]);
    assert!(serde_json::from_value::<Request>(v).is_err());
    let mut v = serde_json::to_value(&st).unwrap();
    v["extra"] = serde_json::json!(1);
    assert!(serde_json::from_value::<Statement>(v).is_err());
    let mut v = serde_json::to_value(&hab).unwrap();
    v["legal_reference"] = serde_json::json!("");
    assert!(serde_json::from_value::<Habilitation>(v).is_err());
    let mut v = serde_json::to_value(&grant).unwrap();
    v["access"] = serde_json::json!({"periodic": {"max_uses": 0, "period_secs": 10}});
    assert!(serde_json::from_value::<Grant>(v).is_err());
}

/// Whatever a constructor or builder accepts, the decoders accept back, as the same value: the
/// library never signs an object every verifier refuses. The inputs include the values each
/// constructor must refuse (zero uses, an empty period, an empty or inverted range, no
/// category, repeated categories); each refusal is the typed error that names it.
#[test]
fn whatever_the_builders_accept_parses_back() {
    let edge_u32 = prop_oneof![1 => Just(0u32), 6 => 1u32..5, 1 => Just(u32::MAX)];
    let edge_u64 = prop_oneof![1 => Just(0u64), 6 => 1u64..1 << 32, 1 => Just(u64::MAX)];
    let inputs = (
        (
            edge_u32,
            edge_u64,
            any::<u64>(),
            prop_oneof![1 => Just(0u64), 6 => 1u64..1 << 32],
        ),
        prop_oneof![1 => Just(Vec::new()), 7 => proptest::collection::vec(category(), 1..4)],
        (party(), party(), party(), purpose(), any::<u64>()),
        prop_oneof![1 => Just(0usize), 6 => 1usize..=512, 1 => Just(513usize)],
    );
    let s = Scenario::canteen();
    reaching_half_each(
        "whatever_the_builders_accept_parses_back",
        512,
        inputs,
        ["grant built", "request built", "habilitation built"],
        |((uses, period, from, span), cats, (a, b, c, purpose, at), legal_len)| {
            let access = AccessPattern::periodic(uses, period);
            match (uses, period) {
                (0, _) => prop_assert_eq!(access, Err(consentry::TermsError::NoUses)),
                (_, 0) => prop_assert_eq!(access, Err(consentry::TermsError::EmptyPeriod)),
                _ => prop_assert!(access.is_ok()),
            }
            let until = Timestamp::from_secs(from.saturating_add(span));
            let range = DataRange::new(Timestamp::from_secs(from), until);
            if until <= Timestamp::from_secs(from) {
                prop_assert_eq!(range, Err(consentry::TermsError::EmptyRange));
            }
            let mut grant_built = false;
            if let (Ok(access), Ok(range)) = (access, range) {
                let grant = Grant::builder(BasisId::from_bytes([1; 16]), a, b, purpose.clone())
                    .cover(c, cats.clone())
                    .issued_at(Timestamp::from_secs(at))
                    .valid(
                        Timestamp::from_secs(at),
                        Timestamp::from_secs(at).plus_secs(1),
                    )
                    .access(access)
                    .data_range(range)
                    .retention_secs(span)
                    .build_without_ceiling_check();
                match grant {
                    Ok(grant) => {
                        let signed = grant.sign(s.key(s.parent));
                        let back = Unverified::<Grant>::parse(&signed);
                        prop_assert_eq!(back.map(|g| g.claims().clone()).ok(), Some(grant));
                        grant_built = true;
                    }
                    Err(e) => {
                        prop_assert!(cats.is_empty() || at == u64::MAX, "refused: {e}");
                    }
                }
            }
            let request = Request::builder(RequestId::from_bytes([2; 16]), a, b, c)
                .basis(BasisId::from_bytes([3; 16]), b"basis")
                .categories(cats.clone())
                .purpose(Purpose::new(purpose.code()).unwrap())
                .data_range(range.unwrap_or(DataRange::year(2025).unwrap()))
                .issued_at(Timestamp::from_secs(at))
                .build();
            let request_built = match request {
                Ok(request) => {
                    let signed = request.sign(s.key(s.mairie));
                    let back = Unverified::<Request>::parse(&signed);
                    prop_assert_eq!(back.map(|r| r.claims().clone()).ok(), Some(request));
                    true
                }
                Err(e) => {
                    prop_assert_eq!(e, consentry::RequestError::BadCategories);
                    prop_assert!(cats.is_empty());
                    false
                }
            };
            let start = Timestamp::from_secs(at);
            let habilitation = Habilitation::builder(BasisId::from_bytes([4; 16]), a, b, purpose)
                .legal_reference("L".repeat(legal_len))
                .cover(c, cats.clone())
                .issued_at(start)
                .valid(start, start.plus_secs(span))
                .retention_secs(span)
                .build_without_ceiling_check();
            let expected = if start.plus_secs(span) <= start {
                Some(consentry::HabilitationError::EmptyWindow)
            } else if cats.is_empty() {
                Some(consentry::HabilitationError::BadScope)
            } else if legal_len == 0 || legal_len > 512 {
                Some(consentry::HabilitationError::BadLegalReference)
            } else {
                None
            };
            let habilitation_built = match (habilitation, expected) {
                (Ok(h), None) => {
                    let signed = h.sign(s.key(s.authority));
                    let back = Unverified::<Habilitation>::parse(&signed);
                    prop_assert_eq!(back.map(|h| h.claims().clone()).ok(), Some(h));
                    true
                }
                (Err(e), Some(expected)) => {
                    prop_assert_eq!(e, expected);
                    false
                }
                (built, expected) => {
                    prop_assert!(false, "built {:?}, expected {:?}", built, expected);
                    false
                }
            };
            Ok([grant_built, request_built, habilitation_built])
        },
    );
}

/// Chains of representation drawn at and around the refused values (0 to 4 parties from a
/// pool of three others and the subject, repeats possible): the builder accepts exactly the
/// chains of at most 3 distinct parties without the subject, and what it accepts reads back as
/// the same grant; what it refuses, the decoder refuses too, with the matching code.
#[test]
fn chains_the_builder_accepts_parse_back() {
    let s = Scenario::canteen();
    let pool = [s.franceconnect, s.parent, s.other_consumer, s.child];
    let base = s
        .grant_for(s.child)
        .chain([s.franceconnect, s.parent])
        .build(&s.ceilings)
        .unwrap();
    let payload = base.to_payload_bytes();
    let Ok(Value::Map(entries)) = Value::decode(&payload, Limits::OBJECT) else {
        unreachable!("a payload is a map")
    };
    proptest!(|(picks in proptest::collection::vec(0usize..4, 0..=4))| {
        let chain: Vec<PartyId> = picks.iter().map(|&i| pool[i]).collect();
        let built = s.grant_for(s.child).chain(chain.clone()).build(&s.ceilings);
        let distinct = chain.iter().enumerate().all(|(i, p)| !chain[..i].contains(p));
        let well_formed = chain.len() <= 3 && distinct && !chain.contains(&s.child);
        prop_assert_eq!(built.is_ok(), well_formed, "{:?}", built);
        match built {
            Ok(grant) => {
                let signed = s.sign_grant(&grant);
                let back = Unverified::<Grant>::parse(&signed).map(|g| g.claims().clone());
                prop_assert_eq!(back.ok(), Some(grant));
            }
            Err(e) => {
                // The same chain written raw over a valid payload.
                let mut entries = entries.clone();
                for (key, value) in &mut entries {
                    if *key == Value::Unsigned(3) {
                        *value = Value::Array(
                            chain.iter().map(|p| Value::Bytes(p.as_bytes().to_vec())).collect(),
                        );
                    }
                }
                let decoded = Grant::from_payload_bytes(&Value::Map(entries).encode());
                let want = if chain.len() > 3 {
                    "value/chain_too_long"
                } else {
                    "value/chain_repeats_party"
                };
                prop_assert_eq!(decoded.map(drop).map_err(|d| d.code()), Err(want), "{}", e);
                let want_built = if chain.len() > 3 {
                    "grant/chain_too_long"
                } else {
                    "grant/chain_repeats_party"
                };
                prop_assert_eq!(e.code(), want_built);
            }
        }
    });
}
