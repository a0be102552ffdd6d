//! Tests of the COSE_Sign1 envelope: round trips for every kind, one crafted input per
//! `EnvelopeError` variant, header-order tolerance, and tamper detection.

use super::raw::assemble;
use super::{
    ALG_EDDSA, COSE_SIGN1_TAG, Envelope, EnvelopeError, ObjectKind, protected_header,
    sig_structure, sign, with_sig_structure,
};
use crate::cbor::{DecodeError, Encoder, Major};
use crate::keys::{KeyId, SigningKey};
use proptest::prelude::*;

fn key() -> SigningKey {
    SigningKey::from_seed(&[7; 32])
}

fn h(hex: &str) -> Vec<u8> {
    let compact: String = hex.split_whitespace().collect();
    crate::hex::decode(&compact).expect("test hex")
}

/// One protected-header parameter value.
enum P<'a> {
    Int(i64),
    Uint(u64),
    Bytes(&'a [u8]),
    Text(&'a str),
}

/// A protected header with the given entries, in the order given.
fn header(entries: &[(i64, P<'_>)]) -> Vec<u8> {
    let mut e = Encoder::new();
    e.map(entries.len());
    for (label, value) in entries {
        e.int(*label);
        match value {
            P::Int(v) => e.int(*v),
            P::Uint(v) => e.uint(*v),
            P::Bytes(v) => e.bytes(v),
            P::Text(v) => e.text(v),
        };
    }
    e.into_bytes()
}

/// The header this implementation writes, entry by entry (for variations on it).
fn good_entries(kid: &KeyId) -> Vec<(i64, P<'_>)> {
    vec![
        (1, P::Int(ALG_EDDSA)),
        (3, P::Uint(ObjectKind::Grant.content_type())),
        (4, P::Bytes(&kid.0)),
    ]
}

/// An envelope signed with `key()` over `protected` and `payload`.
fn signed_with(protected: &[u8], payload: &[u8]) -> Vec<u8> {
    let sig = key().sign(&sig_structure(protected, payload));
    assemble(protected, &[0xa0], payload, &sig)
}

/// A tagged (or untagged) array of already-encoded items.
fn raw_envelope(tag: Option<u64>, items: &[&[u8]]) -> Vec<u8> {
    let mut e = Encoder::new();
    if let Some(t) = tag {
        e.tag(t);
    }
    e.array(items.len());
    for item in items {
        e.raw(item);
    }
    e.into_bytes()
}

fn bstr(b: &[u8]) -> Vec<u8> {
    Encoder::new().bytes(b).as_bytes().to_vec()
}

#[test]
fn round_trip_for_every_kind() {
    let key = key();
    let names = ObjectKind::ALL.map(|kind| kind.to_string());
    assert_eq!(
        names,
        [
            "grant",
            "habilitation",
            "statement",
            "request",
            "receipt",
            "tree head",
            "directory",
            "directory update",
            "deletion",
            "notification"
        ]
    );
    for kind in ObjectKind::ALL {
        let payload = format!("payload of a {kind}").into_bytes();
        let bytes = sign(kind, &key, &payload);
        let env = Envelope::parse(&bytes).unwrap();
        assert_eq!(env.kind(), kind);
        assert_eq!(env.kid(), key.key_id());
        assert_eq!(env.payload(), &payload[..]);
        assert_eq!(env.protected(), &protected_header(kind, &key.key_id())[..]);
        assert_eq!(env.verify(&key.verifying_key()), Ok(&payload[..]));
        assert_eq!(Envelope::parse_kind(&bytes, kind), Ok(env.clone()));
        for other in ObjectKind::ALL.into_iter().filter(|k| *k != kind) {
            assert_eq!(
                Envelope::parse_kind(&bytes, other),
                Err(EnvelopeError::WrongKind {
                    expected: other,
                    found: kind
                })
            );
        }
        // Another key does not verify it.
        let stranger = SigningKey::from_seed(&[8; 32]).verifying_key();
        assert!(env.verify(&stranger).is_err());
        // Ed25519 is deterministic: the same inputs give the same bytes.
        assert_eq!(sign(kind, &key, &payload), bytes);
    }
    // The empty payload is a payload, not a detached one.
    let bytes = sign(ObjectKind::Receipt, &key, b"");
    let env = Envelope::parse(&bytes).unwrap();
    assert_eq!(env.verify(&key.verifying_key()), Ok(&b""[..]));
}

/// The `Sig_structure` written by hand (heads and all, on the stack or not) is the one the
/// general encoder writes, on both sides of every byte-string head's size.
#[test]
fn sig_structure_is_the_encoders_on_the_stack_and_off_it() {
    // Pairs on the stack (up to 1,024 bytes in all) and off it.
    let sizes = [
        0, 1, 23, 24, 255, 256, 900, 1_000, 1_100, 65_535, 65_536, 70_000,
    ];
    let pairs = sizes
        .iter()
        .flat_map(|&p| sizes.iter().map(move |&q| (p, q)));
    for (p, q) in pairs {
        let (protected, payload) = (vec![0xa1; p], vec![0x5c; q]);
        let mut e = Encoder::new();
        e.array(4)
            .text("Signature1")
            .bytes(&protected)
            .bytes(&[])
            .bytes(&payload);
        let expected = e.into_bytes();
        assert_eq!(
            sig_structure(&protected, &payload),
            expected,
            "{p} and {q} bytes"
        );
        let passed = with_sig_structure(&protected, &payload, <[u8]>::to_vec);
        assert_eq!(
            passed, expected,
            "{p} and {q} bytes, through with_sig_structure"
        );
    }
}

#[test]
fn wire_layout_is_byte_exact() {
    let key = key();
    let kid = key.key_id();
    // {1: -8, 3: 65001, 4: h'<16 bytes>'}
    let mut want = h("a3 01 27 03 19fde9 04 50");
    want.extend_from_slice(&kid.0);
    assert_eq!(protected_header(ObjectKind::Grant, &kid), want);
    // Content types of every kind: 65001..=65010.
    let cts: Vec<u64> = ObjectKind::ALL.iter().map(|k| k.content_type()).collect();
    assert_eq!(
        cts,
        [
            65_001, 65_002, 65_003, 65_004, 65_005, 65_006, 65_007, 65_008, 65_009, 65_010
        ]
    );
    // ["Signature1", h'a0', h'', h'']
    assert_eq!(
        sig_structure(&[0xa0], &[]),
        h("84 6a 5369676e617475726531 41 a0 40 40")
    );
    // 18([h'a0', {}, h'01', h'02'])
    assert_eq!(
        assemble(&[0xa0], &[0xa0], &[1], &[2]),
        h("d2 84 41a0 a0 4101 4102")
    );
    // A signed envelope: d2 84 58 19 <protected> a0 44 <payload> 58 40 <signature>.
    let bytes = sign(ObjectKind::Grant, &key, b"data");
    assert_eq!(bytes[..4], h("d2 84 58 19")[..]);
    assert_eq!(bytes[4..29], want[..]);
    assert_eq!(bytes[29..35], h("a0 44 64617461")[..]);
    assert_eq!(bytes[35..37], h("58 40")[..]);
    assert_eq!(bytes.len(), 37 + 64);
}

#[test]
fn each_envelope_error_from_a_crafted_input() {
    use EnvelopeError::*;
    let kid = key().key_id();
    let good = protected_header(ObjectKind::Grant, &kid);
    let payload = bstr(b"data");
    let sig64 = bstr(&[0x11; 64]);
    let tagged = |items: &[&[u8]]| raw_envelope(Some(COSE_SIGN1_TAG), items);
    let with_header = |entries: &[(i64, P<'_>)]| {
        let p = header(entries);
        tagged(&[&bstr(&p), &[0xa0], &payload, &sig64])
    };
    let kid15 = [0u8; 15];
    let kid17 = [0u8; 17];
    let cases: Vec<(&str, Vec<u8>, EnvelopeError)> = vec![
        (
            "tag 998",
            raw_envelope(Some(998), &[&bstr(&good), &[0xa0], &payload, &sig64]),
            WrongTag { found: Some(998) },
        ),
        (
            "untagged",
            raw_envelope(None, &[&bstr(&good), &[0xa0], &payload, &sig64]),
            WrongTag { found: None },
        ),
        (
            "tag 17 (COSE_Mac0)",
            raw_envelope(Some(17), &[&bstr(&good), &[0xa0], &payload, &sig64]),
            WrongTag { found: Some(17) },
        ),
        (
            "tag 98 (COSE_Sign)",
            raw_envelope(Some(98), &[&bstr(&good), &[0xa0], &payload, &sig64]),
            WrongTag { found: Some(98) },
        ),
        (
            "three items",
            tagged(&[&bstr(&good), &[0xa0], &payload]),
            WrongArity { found: 3 },
        ),
        (
            "five items",
            tagged(&[&bstr(&good), &[0xa0], &payload, &sig64, &sig64]),
            WrongArity { found: 5 },
        ),
        (
            "ES256",
            with_header(&[(1, P::Int(-7)), (3, P::Uint(65_001)), (4, P::Bytes(&kid.0))]),
            UnsupportedAlgorithm { found: -7 },
        ),
        (
            "no alg",
            with_header(&[(3, P::Uint(65_001)), (4, P::Bytes(&kid.0))]),
            MissingParameter("alg"),
        ),
        (
            "no content type",
            with_header(&[(1, P::Int(-8)), (4, P::Bytes(&kid.0))]),
            MissingParameter("content type"),
        ),
        (
            "no kid",
            with_header(&[(1, P::Int(-8)), (3, P::Uint(65_001))]),
            MissingParameter("kid"),
        ),
        (
            "empty protected map",
            tagged(&[&bstr(&[0xa0]), &[0xa0], &payload, &sig64]),
            MissingParameter("alg"),
        ),
        (
            "extra parameter 5 (IV)",
            with_header(&[
                (1, P::Int(-8)),
                (3, P::Uint(65_001)),
                (4, P::Bytes(&kid.0)),
                (5, P::Bytes(&[0; 12])),
            ]),
            UnexpectedParameter { label: 5 },
        ),
        (
            "extra parameter 2 (crit)",
            with_header(&[
                (1, P::Int(-8)),
                (2, P::Int(3)),
                (3, P::Uint(65_001)),
                (4, P::Bytes(&kid.0)),
            ]),
            UnexpectedParameter { label: 2 },
        ),
        (
            "private label -65537",
            with_header(&[
                (-65_537, P::Int(0)),
                (1, P::Int(-8)),
                (3, P::Uint(65_001)),
                (4, P::Bytes(&kid.0)),
            ]),
            UnexpectedParameter { label: -65_537 },
        ),
        (
            "kid in the unprotected header",
            tagged(&[
                &bstr(&good),
                Encoder::new().map(1).uint(4).bytes(&kid.0).as_bytes(),
                &payload,
                &sig64,
            ]),
            UnprotectedHeaderNotEmpty,
        ),
        (
            "content type 0",
            with_header(&[(1, P::Int(-8)), (3, P::Uint(0)), (4, P::Bytes(&kid.0))]),
            UnknownContentType { found: 0 },
        ),
        (
            "content type 65000",
            with_header(&[(1, P::Int(-8)), (3, P::Uint(65_000)), (4, P::Bytes(&kid.0))]),
            UnknownContentType { found: 65_000 },
        ),
        (
            "detached payload",
            tagged(&[&bstr(&good), &[0xa0], &[0xf6], &sig64]),
            DetachedPayload,
        ),
        (
            // Only `null` means detached: another simple value is just the wrong type.
            "payload true",
            tagged(&[&bstr(&good), &[0xa0], &[0xf5], &sig64]),
            Malformed(DecodeError::WrongType {
                offset: 30,
                expected: "byte string",
                found: Major::Simple,
            }),
        ),
        (
            "63-byte signature",
            tagged(&[&bstr(&good), &[0xa0], &payload, &bstr(&[0x11; 63])]),
            SignatureLength { found: 63 },
        ),
        (
            "65-byte signature",
            tagged(&[&bstr(&good), &[0xa0], &payload, &bstr(&[0x11; 65])]),
            SignatureLength { found: 65 },
        ),
        (
            "empty signature",
            tagged(&[&bstr(&good), &[0xa0], &payload, &[0x40]]),
            SignatureLength { found: 0 },
        ),
        (
            "15-byte kid",
            with_header(&[(1, P::Int(-8)), (3, P::Uint(65_001)), (4, P::Bytes(&kid15))]),
            Malformed(DecodeError::InvalidValue {
                field: "kid",
                reason: "wrong length",
            }),
        ),
        (
            "17-byte kid",
            with_header(&[(1, P::Int(-8)), (3, P::Uint(65_001)), (4, P::Bytes(&kid17))]),
            Malformed(DecodeError::InvalidValue {
                field: "kid",
                reason: "wrong length",
            }),
        ),
        (
            "alg twice",
            with_header(&[
                (1, P::Int(-8)),
                (1, P::Int(-8)),
                (3, P::Uint(65_001)),
                (4, P::Bytes(&kid.0)),
            ]),
            Malformed(DecodeError::DuplicateKey { offset: 3 }),
        ),
        (
            "alg as text",
            with_header(&[
                (1, P::Text("EdDSA")),
                (3, P::Uint(65_001)),
                (4, P::Bytes(&kid.0)),
            ]),
            Malformed(DecodeError::WrongType {
                offset: 2,
                expected: "integer",
                found: Major::Text,
            }),
        ),
        (
            "content type as text",
            with_header(&[
                (1, P::Int(-8)),
                (3, P::Text("application/cbor")),
                (4, P::Bytes(&kid.0)),
            ]),
            Malformed(DecodeError::WrongType {
                offset: 4,
                expected: "unsigned integer",
                found: Major::Text,
            }),
        ),
        (
            "unprotected header not a map",
            tagged(&[&bstr(&good), &[0x80], &payload, &sig64]),
            Malformed(DecodeError::WrongType {
                offset: 29,
                expected: "map",
                found: Major::Array,
            }),
        ),
        (
            "payload as text",
            tagged(&[&bstr(&good), &[0xa0], &[0x61, 0x61], &sig64]),
            Malformed(DecodeError::WrongType {
                offset: 30,
                expected: "byte string",
                found: Major::Text,
            }),
        ),
        (
            "trailing byte",
            [
                tagged(&[&bstr(&good), &[0xa0], &payload, &sig64]),
                vec![0x00],
            ]
            .concat(),
            Malformed(DecodeError::TrailingBytes {
                offset: 101,
                count: 1,
            }),
        ),
        (
            "protected header bytes with a trailing byte",
            tagged(&[
                &bstr(&[good.clone(), vec![0]].concat()),
                &[0xa0],
                &payload,
                &sig64,
            ]),
            Malformed(DecodeError::TrailingBytes {
                offset: 25,
                count: 1,
            }),
        ),
        (
            "empty protected bytes",
            tagged(&[&[0x40], &[0xa0], &payload, &sig64]),
            Malformed(DecodeError::Truncated { offset: 0 }),
        ),
        (
            "non-shortest alg",
            tagged(&[
                &bstr(&[&h("a3 01 38 07 03 19fde9 04 50")[..], &kid.0].concat()),
                &[0xa0],
                &payload,
                &sig64,
            ]),
            Malformed(DecodeError::NonShortest { offset: 2 }),
        ),
    ];
    let mut seen = std::collections::BTreeSet::new();
    for (what, bytes, expected) in cases {
        assert_eq!(Envelope::parse(&bytes), Err(expected.clone()), "{what}");
        seen.insert(variant(&expected));
    }
    // WrongKind needs parse_kind.
    let bytes = sign(ObjectKind::Statement, &key(), b"x");
    let expected = WrongKind {
        expected: ObjectKind::Grant,
        found: ObjectKind::Statement,
    };
    assert_eq!(
        Envelope::parse_kind(&bytes, ObjectKind::Grant),
        Err(expected.clone())
    );
    seen.insert(variant(&expected));
    assert_eq!(seen.len(), 11, "{seen:?}");
}

/// Name of a variant; no wildcard, so a new variant must be added to the crafted inputs.
fn variant(e: &EnvelopeError) -> &'static str {
    match e {
        EnvelopeError::Malformed(_) => "Malformed",
        EnvelopeError::WrongTag { .. } => "WrongTag",
        EnvelopeError::WrongArity { .. } => "WrongArity",
        EnvelopeError::UnsupportedAlgorithm { .. } => "UnsupportedAlgorithm",
        EnvelopeError::MissingParameter(_) => "MissingParameter",
        EnvelopeError::UnexpectedParameter { .. } => "UnexpectedParameter",
        EnvelopeError::UnprotectedHeaderNotEmpty => "UnprotectedHeaderNotEmpty",
        EnvelopeError::UnknownContentType { .. } => "UnknownContentType",
        EnvelopeError::WrongKind { .. } => "WrongKind",
        EnvelopeError::DetachedPayload => "DetachedPayload",
        EnvelopeError::SignatureLength { .. } => "SignatureLength",
    }
}

#[test]
fn protected_header_in_another_order_is_accepted_as_signed() {
    // pycose writes {1: alg, 4: kid, 3: content type} in insertion order.
    let key = key();
    let kid = key.key_id();
    let mut entries = good_entries(&kid);
    entries.swap(1, 2);
    let protected = header(&entries);
    assert_eq!(protected[..5], h("a3 01 27 04 50")[..]);
    let bytes = signed_with(&protected, b"reordered");
    let env = Envelope::parse_kind(&bytes, ObjectKind::Grant).unwrap();
    assert_eq!(env.kid(), kid);
    assert_eq!(env.protected(), &protected[..]);
    assert_eq!(env.verify(&key.verifying_key()), Ok(&b"reordered"[..]));
    // The signature covers the header bytes as received: the same signature over our own
    // order does not verify.
    let env_bytes = Envelope::parse(&bytes).unwrap();
    let sig = &bytes[bytes.len() - 64..];
    let canonical = protected_header(ObjectKind::Grant, &kid);
    let swapped = assemble(&canonical, &[0xa0], b"reordered", sig);
    let env2 = Envelope::parse(&swapped).unwrap();
    assert_eq!(env2.kid(), env_bytes.kid());
    assert!(env2.verify(&key.verifying_key()).is_err());
}

#[test]
fn bit_flips_in_payload_or_protected_header_fail() {
    let key = key();
    let payload = b"the exact payload".to_vec();
    let protected = protected_header(ObjectKind::Request, &key.key_id());
    let sig = key.sign(&sig_structure(&protected, &payload));
    for bit in 0..payload.len() * 8 {
        let mut p = payload.clone();
        p[bit / 8] ^= 1 << (bit % 8);
        let bytes = assemble(&protected, &[0xa0], &p, &sig);
        let env = Envelope::parse(&bytes).unwrap();
        assert!(
            env.verify(&key.verifying_key()).is_err(),
            "payload bit {bit}"
        );
    }
    for bit in 0..protected.len() * 8 {
        let mut p = protected.clone();
        p[bit / 8] ^= 1 << (bit % 8);
        let bytes = assemble(&p, &[0xa0], &payload, &sig);
        if let Ok(env) = Envelope::parse(&bytes) {
            assert!(
                env.verify(&key.verifying_key()).is_err(),
                "protected bit {bit}"
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn no_single_bit_flip_parses_and_verifies(
        payload in proptest::collection::vec(any::<u8>(), 0..100),
        kind in proptest::sample::select(ObjectKind::ALL.to_vec()),
        bit in any::<prop::sample::Index>(),
    ) {
        let key = key();
        let bytes = sign(kind, &key, &payload);
        let mut flipped = bytes.clone();
        let bit = bit.index(bytes.len() * 8);
        flipped[bit / 8] ^= 1 << (bit % 8);
        if let Ok(env) = Envelope::parse(&flipped) {
            let verified = env.verify(&key.verifying_key());
            prop_assert!(
                verified.is_err(),
                "bit {} flipped, still verifies (same payload: {})",
                bit,
                verified == Ok(&payload[..])
            );
        }
    }
}
