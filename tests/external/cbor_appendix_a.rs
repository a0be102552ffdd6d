//! RFC 8949 Appendix A through the strict decoder. Every example falls in exactly one class:
//! accepted and re-encoded byte for byte, refused as unsupported (floats, undefined, other
//! simple values), or refused as not deterministic (`roundtrip: false`: indefinite lengths and
//! non-preferred floats). The file has no map with unsorted keys, so the unsorted class is
//! derived: each accepted map of two or more entries, with its first two entries swapped, must
//! be refused with `UnsortedKeys`.

use crate::{base64, hex, load_json};
use consentry::danger::cbor::Value;
use consentry::{DecodeError, Limits};
use serde_json::Value as Json;

/// A big-endian unsigned bignum's value (tags 2 and 3), for the comparisons below.
fn bignum(bytes: &[u8]) -> u128 {
    bytes
        .iter()
        .fold(0u128, |acc, b| (acc << 8) | u128::from(*b))
}

/// Whether our decoded value is the JSON `decoded` value of the example. Numbers beyond the
/// 64-bit range are compared as the JSON parser holds them, as `f64`.
fn same_as_json(v: &Value, j: &Json) -> bool {
    match (v, j) {
        (Value::Unsigned(n), Json::Number(x)) => match x.as_u64() {
            Some(m) => m == *n,
            None => x.as_f64() == Some(*n as f64),
        },
        (Value::Negative(n), Json::Number(x)) => match x.as_i64() {
            Some(i) => i128::from(i) == -1 - i128::from(*n),
            None => x.as_f64() == Some(-1.0 - *n as f64),
        },
        (Value::Tag(2, inner), Json::Number(x)) => match &**inner {
            Value::Bytes(b) => x.as_f64() == Some(bignum(b) as f64),
            _ => false,
        },
        (Value::Tag(3, inner), Json::Number(x)) => match &**inner {
            Value::Bytes(b) => x.as_f64() == Some(-1.0 - bignum(b) as f64),
            _ => false,
        },
        (Value::Text(s), Json::String(t)) => s == t,
        (Value::Bool(a), Json::Bool(b)) => a == b,
        (Value::Null, Json::Null) => true,
        (Value::Array(a), Json::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same_as_json(x, y))
        }
        (Value::Map(m), Json::Object(o)) => {
            m.len() == o.len()
                && m.iter().all(|(k, v)| match k {
                    Value::Text(k) => o.get(k).is_some_and(|jv| same_as_json(v, jv)),
                    _ => false,
                })
        }
        _ => false,
    }
}

#[derive(Debug, Default, PartialEq, Eq)]
struct Counts {
    accepted: usize,
    accepted_matching_decoded: usize,
    unsupported: usize,
    non_deterministic_indefinite: usize,
    non_deterministic_float: usize,
    unsorted_in_file: usize,
    unsorted_derived: usize,
}

#[test]
fn appendix_a() {
    let examples = load_json("cbor/appendix_a.json");
    let examples = examples.as_array().unwrap();
    let mut c = Counts::default();
    for example in examples {
        let hex_form = example["hex"].as_str().unwrap();
        let bytes = base64(example["cbor"].as_str().unwrap());
        assert_eq!(
            bytes,
            hex(hex_form),
            "base64 and hex disagree for {hex_form}"
        );
        let roundtrip = example["roundtrip"].as_bool().unwrap();
        let result = Value::decode(&bytes, Limits::OBJECT);
        match (&result, roundtrip) {
            (Ok(v), true) => {
                assert_eq!(v.encode(), bytes, "{hex_form} re-encodes differently");
                c.accepted += 1;
                if let Some(decoded) = example.get("decoded") {
                    assert!(same_as_json(v, decoded), "{hex_form}: {v:?} vs {decoded}");
                    c.accepted_matching_decoded += 1;
                }
                if let Value::Map(entries) = v
                    && entries.len() >= 2
                {
                    let mut swapped = entries.clone();
                    swapped.swap(0, 1);
                    let offset = 1 + entries[1].0.encode().len() + entries[1].1.encode().len();
                    assert_eq!(
                        Value::decode(&Value::Map(swapped).encode(), Limits::OBJECT),
                        Err(DecodeError::UnsortedKeys { offset }),
                        "{hex_form} swapped"
                    );
                    c.unsorted_derived += 1;
                }
            }
            (Ok(v), false) => panic!("{hex_form} is not deterministic but decoded as {v:?}"),
            (Err(DecodeError::Unsupported { .. }), true) => c.unsupported += 1,
            (Err(DecodeError::UnsortedKeys { .. }), _) => c.unsorted_in_file += 1,
            (Err(DecodeError::Indefinite { .. }), false) => c.non_deterministic_indefinite += 1,
            (Err(DecodeError::Unsupported { .. }), false) => c.non_deterministic_float += 1,
            (Err(e), _) => panic!("{hex_form} refused for an unexpected reason: {e}"),
        }
    }
    println!("cbor appendix A ({} examples): {c:?}", examples.len());
    assert_eq!(examples.len(), 82);
    assert_eq!(
        c,
        Counts {
            accepted: 44,
            accepted_matching_decoded: 36,
            unsupported: 21,
            non_deterministic_indefinite: 11,
            non_deterministic_float: 6,
            unsorted_in_file: 0,
            unsorted_derived: 3,
        }
    );
}
