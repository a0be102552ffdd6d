//! Byte-exact tests of the strict deterministic codec: encodings at every width boundary, one
//! refusal per `DecodeError` variant (and per width where widths differ), `MapReader` ordering,
//! and properties over random values and random bytes.

use super::{DecodeError, Decoder, Encoder, Limits, Major, Value};
use crate::reach::reaching_half;
use proptest::prelude::*;

/// Hexadecimal to bytes (spaces allowed for readability).
fn h(hex: &str) -> Vec<u8> {
    let compact: String = hex.split_whitespace().collect();
    crate::hex::decode(&compact).expect("test hex")
}

/// Concatenation of byte pieces.
fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

fn text(s: &str) -> Value {
    Value::Text(s.to_owned())
}

// ---------------------------------------------------------------------------------------------
// Encodings
// ---------------------------------------------------------------------------------------------

/// (value, its deterministic encoding). Every entry is checked both ways: `encode` gives the
/// bytes, `decode` gives the value back.
fn encoding_table() -> Vec<(Value, Vec<u8>)> {
    use Value::*;
    vec![
        // Unsigned integers: the last value of each width and the first of the next.
        (Unsigned(0), h("00")),                            // 0: immediate
        (Unsigned(23), h("17")),                           // 23: largest immediate
        (Unsigned(24), h("18 18")),                        // 24: first one-byte argument
        (Unsigned(255), h("18 ff")),                       // 255: largest one-byte argument
        (Unsigned(256), h("19 0100")),                     // 256: first two-byte argument
        (Unsigned(65_535), h("19 ffff")),                  // 65535: largest two-byte argument
        (Unsigned(65_536), h("1a 00010000")),              // 65536: first four-byte argument
        (Unsigned(u64::from(u32::MAX)), h("1a ffffffff")), // 2^32-1: largest four-byte argument
        (Unsigned(1 << 32), h("1b 0000000100000000")),     // 2^32: first eight-byte argument
        (Unsigned(u64::MAX), h("1b ffffffffffffffff")),    // 2^64-1: largest integer
        // Negative integers, `Negative(n)` being -1-n.
        (Negative(0), h("20")),                            // -1
        (Negative(23), h("37")),                           // -24: largest immediate
        (Negative(24), h("38 18")),                        // -25: first one-byte argument
        (Negative(255), h("38 ff")),                       // -256
        (Negative(256), h("39 0100")),                     // -257: first two-byte argument
        (Negative(65_535), h("39 ffff")),                  // -65536
        (Negative(65_536), h("3a 00010000")),              // -65537: first four-byte argument
        (Negative(u64::from(u32::MAX)), h("3a ffffffff")), // -2^32
        (Negative(1 << 32), h("3b 0000000100000000")),     // -2^32-1: first eight-byte argument
        (Negative(u64::MAX), h("3b ffffffffffffffff")),    // -2^64: smallest integer
        // Byte strings: the length follows the same width rules.
        (Bytes(vec![]), h("40")),                                      // h''
        (Bytes(vec![1, 2, 3, 4]), h("44 01020304")),                   // h'01020304'
        (Bytes(vec![0xaa; 23]), cat(&[&h("57"), &[0xaa; 23]])),        // 23 bytes: immediate length
        (Bytes(vec![0xaa; 24]), cat(&[&h("58 18"), &[0xaa; 24]])),     // 24 bytes: one-byte length
        (Bytes(vec![0xaa; 256]), cat(&[&h("59 0100"), &[0xaa; 256]])), // 256 bytes: two-byte
        // Text strings.
        (text(""), h("60")),              // ""
        (text("a"), h("61 61")),          // "a"
        (text("IETF"), h("64 49455446")), // "IETF"
        (text("ü"), h("62 c3bc")),        // "ü": length counts UTF-8 bytes
        (text("水"), h("63 e6b0b4")),     // "水"
        (text("𐅑"), h("64 f0908591")),    // four-byte UTF-8 sequence
        (
            text(&"x".repeat(24)),
            cat(&[&h("78 18"), "x".repeat(24).as_bytes()]),
        ), // 24 chars
        // Arrays.
        (Array(vec![]), h("80")), // []
        (
            Array(vec![Unsigned(1), Unsigned(2), Unsigned(3)]),
            h("83 010203"),
        ), // [1, 2, 3]
        (
            Array(vec![Unsigned(1), Array(vec![Unsigned(2), Unsigned(3)])]),
            h("82 01 82 0203"), // [1, [2, 3]]
        ),
        (Array(vec![Unsigned(0); 24]), cat(&[&h("98 18"), &[0; 24]])), // 24 items: one-byte length
        // Maps, keys in the bytewise order of their encodings.
        (Map(vec![]), h("a0")), // {}
        (
            Map(vec![(Unsigned(1), Unsigned(2)), (Unsigned(3), Unsigned(4))]),
            h("a2 0102 0304"), // {1: 2, 3: 4}
        ),
        (
            Map(vec![(Unsigned(10), Bool(true)), (Negative(0), Null)]),
            h("a2 0af5 20f6"), // {10: true, -1: null}: 0x0a < 0x20
        ),
        (
            Map(vec![(text("b"), Unsigned(1)), (text("aa"), Unsigned(2))]),
            h("a2 6162 01 626161 02"), // {"b": 1, "aa": 2}: shorter first
        ),
        // Tags.
        (Tag(1, Box::new(Unsigned(0))), h("c1 00")), // 1(0)
        (Tag(18, Box::new(Array(vec![]))), h("d2 80")), // 18([]): the COSE_Sign1 tag
        (Tag(23, Box::new(Bytes(vec![]))), h("d7 40")), // 23(h''): largest immediate tag
        (Tag(24, Box::new(Bytes(vec![]))), h("d8 18 40")), // 24(h''): one-byte tag
        (Tag(256, Box::new(Null)), h("d9 0100 f6")), // 256(null): two-byte tag
        (Tag(65_536, Box::new(Null)), h("da 00010000 f6")), // four-byte tag
        (Tag(1 << 32, Box::new(Null)), h("db 0000000100000000 f6")), // eight-byte tag
        (Tag(1, Box::new(Tag(2, Box::new(Null)))), h("c1 c2 f6")), // nested tags
        // Simple values.
        (Bool(false), h("f4")), // false
        (Bool(true), h("f5")),  // true
        (Null, h("f6")),        // null
    ]
}

#[test]
fn encodings_are_byte_exact_both_ways() {
    for (value, bytes) in encoding_table() {
        assert_eq!(value.encode(), bytes, "encoding of {value:?}");
        assert_eq!(
            Value::decode(&bytes, Limits::OBJECT).as_ref(),
            Ok(&value),
            "decoding of {bytes:02x?}"
        );
    }
}

#[test]
fn encoder_methods_are_byte_exact() {
    let cases: Vec<(Vec<u8>, Vec<u8>)> = vec![
        (Encoder::new().int(0).as_bytes().to_vec(), h("00")),
        (Encoder::new().int(-1).as_bytes().to_vec(), h("20")),
        (Encoder::new().int(-24).as_bytes().to_vec(), h("37")),
        (Encoder::new().int(-25).as_bytes().to_vec(), h("38 18")),
        (Encoder::new().int(-8).as_bytes().to_vec(), h("27")), // EdDSA
        (
            Encoder::new().int(i64::MAX).as_bytes().to_vec(),
            h("1b 7fffffffffffffff"),
        ),
        (
            Encoder::new().int(i64::MIN).as_bytes().to_vec(),
            h("3b 7fffffffffffffff"),
        ),
        (Encoder::new().uint(500).as_bytes().to_vec(), h("19 01f4")),
        (
            Encoder::new().negative(500).as_bytes().to_vec(),
            h("39 01f4"),
        ),
        (
            Encoder::new().array(65_536).as_bytes().to_vec(),
            h("9a 00010000"),
        ),
        (Encoder::new().map(24).as_bytes().to_vec(), h("b8 18")),
        (Encoder::new().tag(18).as_bytes().to_vec(), h("d2")),
        (
            Encoder::new()
                .raw(&[0xa0])
                .bool(true)
                .null()
                .as_bytes()
                .to_vec(),
            h("a0 f5 f6"),
        ),
    ];
    for (got, want) in cases {
        assert_eq!(got, want);
    }
}

#[test]
fn typed_reads_match_the_table() {
    let input = h("3b 7fffffffffffffff");
    let mut d = Decoder::new(&input, Limits::OBJECT).unwrap();
    assert_eq!(d.int(), Ok(i64::MIN));
    let input = h("1b 7fffffffffffffff");
    let mut d = Decoder::new(&input, Limits::OBJECT).unwrap();
    assert_eq!(d.int(), Ok(i64::MAX));
    let input = h("f5 f4");
    let mut d = Decoder::new(&input, Limits::OBJECT).unwrap();
    assert_eq!((d.bool(), d.bool()), (Ok(true), Ok(false)));
    assert_eq!(d.finish(), Ok(()));
    let input = h("d2 44 01020304");
    let mut d = Decoder::new(&input, Limits::OBJECT).unwrap();
    assert_eq!(d.expect_tag(18), Ok(()));
    assert_eq!(d.fixed_bytes::<4>("four"), Ok([1, 2, 3, 4]));
    assert_eq!(d.remaining(), 0);
}

// ---------------------------------------------------------------------------------------------
// Refusals
// ---------------------------------------------------------------------------------------------

type Reader = fn(&mut Decoder<'_>) -> Result<(), DecodeError>;

/// Generic decoding of one item, as `Value::decode` does it.
fn value(d: &mut Decoder<'_>) -> Result<(), DecodeError> {
    Value::read(d).map(drop)
}

fn int(d: &mut Decoder<'_>) -> Result<(), DecodeError> {
    d.int().map(drop)
}

fn uint(d: &mut Decoder<'_>) -> Result<(), DecodeError> {
    d.uint().map(drop)
}

fn bool(d: &mut Decoder<'_>) -> Result<(), DecodeError> {
    d.bool().map(drop)
}

fn cose_tag(d: &mut Decoder<'_>) -> Result<(), DecodeError> {
    d.expect_tag(18)
}

fn four_bytes(d: &mut Decoder<'_>) -> Result<(), DecodeError> {
    d.fixed_bytes::<4>("four").map(drop)
}

fn two_or_more(d: &mut Decoder<'_>) -> Result<(), DecodeError> {
    d.array_of("list", 2, |d| d.uint()).map(drop)
}

/// A versioned object: `{0: 1, 1: uint, ? 2: text}`.
fn object(d: &mut Decoder<'_>) -> Result<(), DecodeError> {
    let mut m = d.map_reader("object")?;
    m.version(0, 1)?;
    m.required(1, "count", |d| d.uint())?;
    m.optional(2, |d| d.text())?;
    m.finish()
}

/// A grant's chain of representation (key 3 of a grant).
fn grant_chain(d: &mut Decoder<'_>) -> Result<(), DecodeError> {
    crate::grant::read_chain(d).map(drop)
}

fn trailing(offset: usize, count: usize) -> DecodeError {
    DecodeError::TrailingBytes { offset, count }
}

/// (bytes, reader, expected refusal). Readers run under `Limits::OBJECT` and must consume the
/// whole input, like `Value::decode`.
fn refusal_table() -> Vec<(Vec<u8>, Reader, DecodeError)> {
    use DecodeError::*;
    let deep = |n: usize| cat(&[&vec![0x81; n], &[0x00]]);
    vec![
        // Truncated: the input ends inside a header or an item.
        (h(""), value, Truncated { offset: 0 }), // nothing at all
        (h("18"), value, Truncated { offset: 1 }), // one-byte argument missing
        (h("19 01"), value, Truncated { offset: 2 }), // two-byte argument cut
        (h("1a 000000"), value, Truncated { offset: 4 }), // four-byte argument cut
        (h("1b 00000000000000"), value, Truncated { offset: 8 }), // eight-byte argument cut
        (h("82 19 01"), value, Truncated { offset: 3 }), // item cut inside an array
        (h("c1"), value, Truncated { offset: 1 }), // tag without its item
        (h("f9 00"), value, Truncated { offset: 2 }), // half-float cut
        (h(""), bool, Truncated { offset: 0 }),  // typed read on nothing
        // NonShortest: each argument width, for integers, lengths and tags.
        (h("18 17"), value, NonShortest { offset: 0 }), // 23 in one byte
        (h("19 00ff"), value, NonShortest { offset: 0 }), // 255 in two bytes
        (h("1a 0000ffff"), value, NonShortest { offset: 0 }), // 65535 in four bytes
        (h("1b 00000000ffffffff"), value, NonShortest { offset: 0 }), // 2^32-1 in eight bytes
        (h("38 00"), value, NonShortest { offset: 0 }), // -1 in one byte
        (h("3b 00000000ffffffff"), value, NonShortest { offset: 0 }), // negative, eight bytes
        (h("58 00"), value, NonShortest { offset: 0 }), // byte-string length 0
        (h("79 0001 61"), value, NonShortest { offset: 0 }), // text length 1, two bytes
        (h("98 00"), value, NonShortest { offset: 0 }), // array length 0
        (h("b8 00"), value, NonShortest { offset: 0 }), // map length 0
        (h("d8 01 00"), value, NonShortest { offset: 0 }), // tag 1 in one byte
        (h("d9 00ff 00"), value, NonShortest { offset: 0 }), // tag 255 in two bytes
        (h("81 18 00"), value, NonShortest { offset: 1 }), // offset of the inner item
        // Indefinite lengths.
        (h("5f 41 00 ff"), value, Indefinite { offset: 0 }), // (_ h'00')
        (h("7f 61 61 ff"), value, Indefinite { offset: 0 }), // (_ "a")
        (h("9f ff"), value, Indefinite { offset: 0 }),       // [_ ]
        (h("bf ff"), value, Indefinite { offset: 0 }),       // {_ }
        (h("82 00 9f ff"), value, Indefinite { offset: 2 }), // nested
        // Malformed: reserved additional information, break outside an indefinite item.
        (h("1c"), value, Malformed { offset: 0 }), // info 28
        (h("1d"), value, Malformed { offset: 0 }), // info 29
        (h("1e"), value, Malformed { offset: 0 }), // info 30
        (h("3c"), value, Malformed { offset: 0 }), // info 28, negative
        (h("5d"), value, Malformed { offset: 0 }), // info 29, byte string
        (h("9e"), value, Malformed { offset: 0 }), // info 30, array
        (h("dc 00"), value, Malformed { offset: 0 }), // info 28, tag
        (h("fc"), value, Malformed { offset: 0 }), // info 28, simple
        (h("1f"), value, Malformed { offset: 0 }), // info 31 on an integer
        (h("df 00"), value, Malformed { offset: 0 }), // info 31 on a tag
        (h("ff"), value, Malformed { offset: 0 }), // lone break
        (h("81 ff"), value, Malformed { offset: 1 }), // break inside [1 item]
        // DuplicateKey and UnsortedKeys: the offset is that of the offending key.
        (h("a2 01 00 01 00"), value, DuplicateKey { offset: 3 }), // {1: 0, 1: 0}
        (h("a2 61 61 00 61 61 00"), value, DuplicateKey { offset: 4 }), // {"a": 0, "a": 0}
        (h("a2 02 00 01 00"), value, UnsortedKeys { offset: 3 }), // {2: 0, 1: 0}
        (h("a2 20 00 00 00"), value, UnsortedKeys { offset: 3 }), // {-1: 0, 0: 0}
        (
            h("a2 62 6161 00 61 62 00"),
            value,
            UnsortedKeys { offset: 5 },
        ), // {"aa", "b"}
        (h("a2 00 01 00 01"), object, DuplicateKey { offset: 3 }), // typed map: {0: 1, 0: 1}
        (
            h("a4 00 01 01 05 02 60 01 05"),
            object,
            UnsortedKeys { offset: 7 },
        ), // typed: 1 after 2
        (
            h("a4 00 01 01 05 02 60 02 60"),
            object,
            DuplicateKey { offset: 7 },
        ), // typed: 2 twice
        // UnknownKey, MissingKey, UnsupportedVersion: typed maps.
        (
            h("a3 00 01 01 05 03 00"),
            object,
            UnknownKey {
                object: "object",
                key: 3,
            },
        ), // key 3
        (
            h("a2 00 01 02 60"),
            object,
            MissingKey {
                object: "object",
                key: 1,
                field: "count",
            },
        ),
        (
            h("a0"),
            object,
            MissingKey {
                object: "object",
                key: 0,
                field: "version",
            },
        ),
        (
            h("a2 00 02 01 05"),
            object,
            UnsupportedVersion {
                object: "object",
                found: 2,
                supported: 1,
            },
        ),
        // WrongType.
        (
            h("20"),
            uint,
            WrongType {
                offset: 0,
                expected: "unsigned integer",
                found: Major::Negative,
            },
        ),
        (
            h("60"),
            int,
            WrongType {
                offset: 0,
                expected: "integer",
                found: Major::Text,
            },
        ),
        (
            h("f6"),
            bool,
            WrongType {
                offset: 0,
                expected: "boolean",
                found: Major::Simple,
            },
        ),
        (
            h("80"),
            object,
            WrongType {
                offset: 0,
                expected: "map",
                found: Major::Array,
            },
        ),
        (
            h("a1 61 61 00"), // {"a": 0}: text key
            object,
            WrongType {
                offset: 1,
                expected: "unsigned integer map key",
                found: Major::Text,
            },
        ),
        (
            h("a2 00 01 01 20"),
            object,
            WrongType {
                offset: 4,
                expected: "unsigned integer",
                found: Major::Negative,
            },
        ),
        // UnexpectedTag.
        (h("d1 80"), cose_tag, UnexpectedTag { offset: 0, tag: 17 }), // 17(...) for 18
        (
            h("d9 03e6 80"),
            cose_tag,
            UnexpectedTag {
                offset: 0,
                tag: 998,
            },
        ),
        // Unsupported: floats of every width, simple values other than false/true/null.
        (h("f9 3c00"), value, Unsupported { offset: 0 }), // 1.0 as half
        (h("fa 3f800000"), value, Unsupported { offset: 0 }), // 1.0 as single
        (h("fb 3ff0000000000000"), value, Unsupported { offset: 0 }), // 1.0 as double
        (h("f7"), value, Unsupported { offset: 0 }),      // undefined
        (h("e0"), value, Unsupported { offset: 0 }),      // simple(0)
        (h("f3"), value, Unsupported { offset: 0 }),      // simple(19)
        (h("f8 20"), value, Unsupported { offset: 0 }),   // simple(32)
        (h("f8 ff"), value, Unsupported { offset: 0 }),   // simple(255)
        (h("f8 14"), value, Unsupported { offset: 0 }),   // false in two bytes
        (h("82 00 f9 0000"), value, Unsupported { offset: 2 }), // [0, 0.0]
        // InvalidUtf8.
        (h("62 c328"), value, InvalidUtf8 { offset: 0 }), // bad continuation
        (h("61 ff"), value, InvalidUtf8 { offset: 0 }),   // 0xff never valid
        (h("63 eda080"), value, InvalidUtf8 { offset: 0 }), // UTF-16 surrogate
        (h("62 c0af"), value, InvalidUtf8 { offset: 0 }), // overlong "/"
        (h("81 61 80"), value, InvalidUtf8 { offset: 1 }), // lone continuation, nested
        // TrailingBytes.
        (h("00 00"), value, trailing(1, 1)), // two items
        (h("80 ff"), value, trailing(1, 1)), // [] then a break
        (h("a0 00 00 00"), value, trailing(1, 3)),
        // TooDeep: Limits::OBJECT allows 8 levels; the ninth array is refused.
        (
            deep(9),
            value,
            TooDeep {
                offset: 8,
                limit: 8,
            },
        ),
        (
            cat(&[&[0xc1; 9], &[0x00]]),
            value,
            TooDeep {
                offset: 9,
                limit: 8,
            },
        ), // tags nest too
        // TooLong: claimed lengths checked against limits and remaining bytes before reading.
        (
            h("5b 8000000000000000"),
            value,
            TooLong {
                offset: 0,
                len: 1 << 63,
                limit: 0,
            },
        ),
        (
            h("7b 8000000000000000 61"),
            value,
            TooLong {
                offset: 0,
                len: 1 << 63,
                limit: 1,
            },
        ),
        (
            h("42 00"),
            value,
            TooLong {
                offset: 0,
                len: 2,
                limit: 1,
            },
        ), // string past the end
        (
            h("9b ffffffffffffffff 00"),
            value,
            TooLong {
                offset: 0,
                len: u64::MAX,
                limit: 1,
            },
        ),
        (
            h("a2 01 02"),
            value,
            TooLong {
                offset: 0,
                len: 2,
                limit: 1,
            },
        ), // 2 entries, 2 bytes
        (
            cat(&[&h("99 0101"), &[0; 257]]), // 257 items > max_items
            value,
            TooLong {
                offset: 0,
                len: 257,
                limit: 256,
            },
        ),
        // OutOfRange: integers that do not fit an i64.
        (h("1b 8000000000000000"), int, OutOfRange { offset: 0 }), // 2^63
        (h("3b 8000000000000000"), int, OutOfRange { offset: 0 }), // -2^63-1
        // InvalidValue: a well-formed item breaking a rule of the field.
        (
            h("43 010203"),
            four_bytes,
            InvalidValue {
                field: "four",
                reason: "wrong length",
            },
        ),
        (
            h("81 00"),
            two_or_more,
            InvalidValue {
                field: "list",
                reason: "too few items",
            },
        ),
        // ChainTooLong: four parties in a grant's chain, refused before any is read.
        (
            cat(&[&h("84"), &[&h("50")[..], &[1; 16]].concat().repeat(4)]),
            grant_chain,
            ChainTooLong { links: 4, limit: 3 },
        ),
        // ChainRepeatsParty: the same party twice.
        (
            cat(&[&h("82"), &[&h("50")[..], &[7; 16]].concat().repeat(2)]),
            grant_chain,
            ChainRepeatsParty {
                party: crate::party_id::PartyId::from_bytes([7; 16]),
            },
        ),
    ]
}

/// Name of a variant. The match has no wildcard, so a new variant fails to compile here until
/// the refusal table covers it.
fn variant(e: &DecodeError) -> &'static str {
    match e {
        DecodeError::Truncated { .. } => "Truncated",
        DecodeError::NonShortest { .. } => "NonShortest",
        DecodeError::Indefinite { .. } => "Indefinite",
        DecodeError::Malformed { .. } => "Malformed",
        DecodeError::DuplicateKey { .. } => "DuplicateKey",
        DecodeError::UnsortedKeys { .. } => "UnsortedKeys",
        DecodeError::UnknownKey { .. } => "UnknownKey",
        DecodeError::MissingKey { .. } => "MissingKey",
        DecodeError::WrongType { .. } => "WrongType",
        DecodeError::UnexpectedTag { .. } => "UnexpectedTag",
        DecodeError::Unsupported { .. } => "Unsupported",
        DecodeError::InvalidUtf8 { .. } => "InvalidUtf8",
        DecodeError::TrailingBytes { .. } => "TrailingBytes",
        DecodeError::TooDeep { .. } => "TooDeep",
        DecodeError::TooLarge { .. } => "TooLarge",
        DecodeError::TooLong { .. } => "TooLong",
        DecodeError::OutOfRange { .. } => "OutOfRange",
        DecodeError::InvalidValue { .. } => "InvalidValue",
        DecodeError::ChainTooLong { .. } => "ChainTooLong",
        DecodeError::ChainRepeatsParty { .. } => "ChainRepeatsParty",
        DecodeError::UnsupportedVersion { .. } => "UnsupportedVersion",
    }
}

const ALL_VARIANTS: [&str; 21] = [
    "Truncated",
    "NonShortest",
    "Indefinite",
    "Malformed",
    "DuplicateKey",
    "UnsortedKeys",
    "UnknownKey",
    "MissingKey",
    "WrongType",
    "UnexpectedTag",
    "Unsupported",
    "InvalidUtf8",
    "TrailingBytes",
    "TooDeep",
    "TooLarge",
    "TooLong",
    "OutOfRange",
    "InvalidValue",
    "ChainTooLong",
    "ChainRepeatsParty",
    "UnsupportedVersion",
];

fn run(bytes: &[u8], reader: Reader, limits: Limits) -> Result<(), DecodeError> {
    let mut d = Decoder::new(bytes, limits)?;
    reader(&mut d)?;
    d.finish()
}

#[test]
fn every_refusal_is_the_expected_variant() {
    let mut seen = std::collections::BTreeSet::new();
    for (bytes, reader, expected) in refusal_table() {
        assert_eq!(
            run(&bytes, reader, Limits::OBJECT),
            Err(expected.clone()),
            "input {bytes:02x?}"
        );
        seen.insert(variant(&expected));
    }
    // TooLarge is decided before any byte is read.
    let too_large = vec![0u8; Limits::OBJECT.max_size + 1];
    let expected = DecodeError::TooLarge {
        size: Limits::OBJECT.max_size + 1,
        limit: Limits::OBJECT.max_size,
    };
    assert_eq!(
        Value::decode(&too_large, Limits::OBJECT),
        Err(expected.clone())
    );
    seen.insert(variant(&expected));
    let small = Limits {
        max_size: 4,
        ..Limits::OBJECT
    };
    assert_eq!(
        Value::decode(&h("1a 00010000"), small),
        Err(DecodeError::TooLarge { size: 5, limit: 4 })
    );
    assert_eq!(
        Value::decode(&h("19 0100"), small),
        Ok(Value::Unsigned(256))
    );
    assert_eq!(seen, ALL_VARIANTS.into_iter().collect());
}

#[test]
fn error_messages_name_the_offset() {
    let e = Value::decode(&h("81 18 00"), Limits::OBJECT).unwrap_err();
    assert_eq!(e.to_string(), "non-shortest integer or length at byte 1");
    let e = Value::decode(&h("00 00"), Limits::OBJECT).unwrap_err();
    assert_eq!(
        e.to_string(),
        "1 trailing byte(s) after the item, at byte 1"
    );
}

#[test]
fn depth_limit_is_exact() {
    let nested = |n: usize| cat(&[&vec![0x81; n], &[0x00]]);
    assert!(Value::decode(&nested(8), Limits::OBJECT).is_ok());
    assert!(matches!(
        Value::decode(&nested(9), Limits::OBJECT),
        Err(DecodeError::TooDeep { limit: 8, .. })
    ));
    let shallow = Limits {
        max_depth: 2,
        ..Limits::OBJECT
    };
    assert!(Value::decode(&h("81 81 00"), shallow).is_ok());
    assert_eq!(
        Value::decode(&h("81 81 81 00"), shallow),
        Err(DecodeError::TooDeep {
            offset: 2,
            limit: 2
        })
    );
    // A map key counts one level below its map.
    assert_eq!(
        Value::decode(&h("81 a1 81 00 00"), shallow),
        Err(DecodeError::TooDeep {
            offset: 2,
            limit: 2
        })
    );
    // Siblings do not accumulate depth.
    assert!(Value::decode(&h("82 81 00 81 00"), shallow).is_ok());
}

#[test]
fn ten_thousand_nested_arrays_fail_fast_without_recursing() {
    let mut bytes = vec![0x81; 10_000];
    bytes.push(0x00);
    let start = std::time::Instant::now();
    assert_eq!(
        Value::decode(&bytes, Limits::OBJECT),
        Err(DecodeError::TooDeep {
            offset: 8,
            limit: 8
        })
    );
    assert_eq!(
        Value::decode(&bytes, Limits::DIRECTORY),
        Err(DecodeError::TooDeep {
            offset: 8,
            limit: 8
        })
    );
    // Same for maps and tags.
    let maps: Vec<u8> = std::iter::repeat_n([0xa1, 0x00], 10_000)
        .flatten()
        .collect();
    assert!(matches!(
        Value::decode(&maps, Limits::OBJECT),
        Err(DecodeError::TooDeep { limit: 8, .. })
    ));
    let tags = vec![0xc1; 10_000];
    assert!(matches!(
        Value::decode(&tags, Limits::OBJECT),
        Err(DecodeError::TooDeep { limit: 8, .. })
    ));
    assert!(start.elapsed() < std::time::Duration::from_secs(1));
}

#[test]
fn huge_claimed_lengths_allocate_nothing() {
    // Each of these would ask for an absurd allocation if a length were trusted.
    for hex in [
        "5b ffffffffffffffff",
        "7b ffffffffffffffff",
        "9b ffffffffffffffff",
        "bb ffffffffffffffff",
        "9a ffffffff 00",
        "ba ffffffff 00 00",
    ] {
        assert!(
            matches!(
                Value::decode(&h(hex), Limits::DIRECTORY),
                Err(DecodeError::TooLong { .. })
            ),
            "{hex}"
        );
    }
}

#[test]
fn item_limit_is_exact() {
    let array = |n: u16| {
        let mut e = Encoder::new();
        e.array(usize::from(n));
        for _ in 0..n {
            e.uint(0);
        }
        e.into_bytes()
    };
    assert!(Value::decode(&array(256), Limits::OBJECT).is_ok());
    assert!(Value::decode(&array(257), Limits::OBJECT).is_err());
    assert!(Value::decode(&array(257), Limits::DIRECTORY).is_ok());
}

// ---------------------------------------------------------------------------------------------
// MapReader
// ---------------------------------------------------------------------------------------------

#[test]
fn map_reader_reads_fields_in_key_order() {
    // {0: 1, 1: 7, 3: "x"}
    let bytes = h("a3 00 01 01 07 03 61 78");
    let mut d = Decoder::new(&bytes, Limits::OBJECT).unwrap();
    let mut m = d.map_reader("thing").unwrap();
    assert_eq!(m.version(0, 1), Ok(()));
    assert_eq!(m.required(1, "count", |d| d.uint()), Ok(7));
    // Key 2 is absent: optional gives None without consuming key 3.
    assert_eq!(m.optional(2, |d| d.uint()), Ok(None));
    assert_eq!(m.optional(3, |d| d.text()), Ok(Some("x")));
    // Past the last entry every optional key is absent.
    assert_eq!(m.optional(9, |d| d.uint()), Ok(None));
    assert_eq!(m.finish(), Ok(()));
    assert_eq!(d.finish(), Ok(()));
}

#[test]
fn map_reader_refusals() {
    let bytes = h("a2 00 01 02 05"); // {0: 1, 2: 5}
    // Asking for 1 when 2 comes next: 1 is missing.
    let mut d = Decoder::new(&bytes, Limits::OBJECT).unwrap();
    let mut m = d.map_reader("thing").unwrap();
    m.version(0, 1).unwrap();
    assert_eq!(
        m.required(1, "one", |d| d.uint()),
        Err(DecodeError::MissingKey {
            object: "thing",
            key: 1,
            field: "one"
        })
    );
    // Asking for 3 when 2 comes next: 2 was never asked for, so it is unknown.
    let mut d = Decoder::new(&bytes, Limits::OBJECT).unwrap();
    let mut m = d.map_reader("thing").unwrap();
    m.version(0, 1).unwrap();
    assert_eq!(
        m.optional(3, |d| d.uint()),
        Err(DecodeError::UnknownKey {
            object: "thing",
            key: 2
        })
    );
    // Finishing with entries left: the first of them is unknown.
    let mut d = Decoder::new(&bytes, Limits::OBJECT).unwrap();
    let mut m = d.map_reader("thing").unwrap();
    m.version(0, 1).unwrap();
    assert_eq!(
        m.finish(),
        Err(DecodeError::UnknownKey {
            object: "thing",
            key: 2
        })
    );
    // Finishing after a key was peeked but not read (an optional key asked below it).
    let mut d = Decoder::new(&bytes, Limits::OBJECT).unwrap();
    let mut m = d.map_reader("thing").unwrap();
    m.version(0, 1).unwrap();
    assert_eq!(m.optional(1, |d| d.uint()), Ok(None));
    assert_eq!(
        m.finish(),
        Err(DecodeError::UnknownKey {
            object: "thing",
            key: 2
        })
    );
    // Unsorted keys are caught by the key-order check before any field's error, so they are
    // reported as such even when a required key seems absent.
    let bytes = h("a2 01 05 00 01"); // {1: 5, 0: 1}
    let mut d = Decoder::new(&bytes, Limits::OBJECT).unwrap();
    let mut m = d.map_reader("thing").unwrap();
    assert_eq!(
        m.version(0, 1),
        Err(DecodeError::UnsortedKeys { offset: 3 })
    );
    // So is a non-shortest value anywhere in the map, even after an unsupported version.
    let bytes = h("a2 00 02 01 18 01"); // {0: 2, 1: 1 written in two bytes}
    let mut d = Decoder::new(&bytes, Limits::OBJECT).unwrap();
    let mut m = d.map_reader("thing").unwrap();
    assert_eq!(m.version(0, 1), Err(DecodeError::NonShortest { offset: 4 }));
    let bytes = h("a1 00 18 01"); // {0: 1 written in two bytes}
    let mut d = Decoder::new(&bytes, Limits::OBJECT).unwrap();
    let mut m = d.map_reader("thing").unwrap();
    assert_eq!(m.version(0, 1), Err(DecodeError::NonShortest { offset: 2 }));
}

#[test]
fn map_reader_respects_and_restores_depth() {
    let limits = Limits {
        max_depth: 2,
        ..Limits::OBJECT
    };
    let read_list = |bytes: &[u8]| {
        let mut d = Decoder::new(bytes, limits)?;
        let items = d.array_of("maps", 0, |d| {
            let mut m = d.map_reader("item")?;
            let v = m.required(0, "v", |d| d.uint())?;
            m.finish()?;
            Ok(v)
        })?;
        d.finish()?;
        Ok::<_, DecodeError>(items)
    };
    // [{0: 1}, {0: 2}, {0: 3}]: each map at depth 2, siblings do not accumulate.
    assert_eq!(read_list(&h("83 a10001 a10002 a10003")), Ok(vec![1, 2, 3]));
    // A map reader one level deeper than allowed.
    let input = h("81 81 a0");
    let mut d = Decoder::new(&input, limits).unwrap();
    let r = d.array_of("outer", 0, |d| {
        d.array_of("inner", 0, |d| {
            d.map_reader("deep").and_then(|m| m.finish())
        })
    });
    assert_eq!(
        r,
        Err(DecodeError::TooDeep {
            offset: 2,
            limit: 2
        })
    );
}

// ---------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------

/// Sorts map entries by the encoding of their keys and drops repeated keys: the deterministic
/// form of a map.
fn canonical_map(entries: Vec<(Value, Value)>) -> Value {
    let mut keyed: Vec<(Vec<u8>, (Value, Value))> =
        entries.into_iter().map(|e| (e.0.encode(), e)).collect();
    keyed.sort_by(|a, b| a.0.cmp(&b.0));
    keyed.dedup_by(|a, b| a.0 == b.0);
    Value::Map(keyed.into_iter().map(|(_, e)| e).collect())
}

fn arb_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        any::<u64>().prop_map(Value::Unsigned),
        (0u64..300).prop_map(Value::Unsigned),
        any::<u64>().prop_map(Value::Negative),
        (0u64..300).prop_map(Value::Negative),
        proptest::collection::vec(any::<u8>(), 0..40).prop_map(Value::Bytes),
        ".{0,30}".prop_map(Value::Text),
        any::<bool>().prop_map(Value::Bool),
        Just(Value::Null),
    ];
    // Four levels of containers, well inside Limits::OBJECT's depth of 8.
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            proptest::collection::vec((inner.clone(), inner.clone()), 0..8).prop_map(canonical_map),
            (any::<u64>(), inner).prop_map(|(t, v)| Value::Tag(t, Box::new(v))),
        ]
    })
}

/// The same structure as read by cbor4ii's own generic decoder.
fn same_as_cbor4ii(ours: &Value, theirs: &cbor4ii::core::Value) -> bool {
    use cbor4ii::core::Value as C;
    match (ours, theirs) {
        (Value::Unsigned(n), C::Integer(i)) => i128::from(*n) == *i,
        (Value::Negative(n), C::Integer(i)) => -1 - i128::from(*n) == *i,
        (Value::Bytes(a), C::Bytes(b)) => a == b,
        (Value::Text(a), C::Text(b)) => a == b,
        (Value::Array(a), C::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same_as_cbor4ii(x, y))
        }
        (Value::Map(a), C::Map(b)) => {
            a.len() == b.len()
                && a.iter()
                    .zip(b)
                    .all(|((k, v), (kk, vv))| same_as_cbor4ii(k, kk) && same_as_cbor4ii(v, vv))
        }
        (Value::Tag(t, v), C::Tag(tt, vv)) => t == tt && same_as_cbor4ii(v, vv),
        (Value::Bool(a), C::Bool(b)) => a == b,
        (Value::Null, C::Null) => true,
        _ => false,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn encode_then_decode_is_identity(v in arb_value()) {
        let bytes = v.encode();
        prop_assert_eq!(Value::decode(&bytes, Limits::OBJECT), Ok(v));
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = Value::decode(&bytes, Limits::OBJECT);
        let _ = Value::decode(&bytes, Limits { max_size: 512, max_depth: 64, max_items: 4 });
    }

    #[test]
    fn cbor4ii_reads_our_encoding_as_the_same_structure(v in arb_value()) {
        use cbor4ii::core::dec::Decode;
        let bytes = v.encode();
        let mut reader = cbor4ii::core::utils::SliceReader::new(&bytes);
        let theirs = cbor4ii::core::Value::decode(&mut reader);
        prop_assert!(theirs.is_ok(), "cbor4ii refused {:02x?}", bytes);
        prop_assert!(same_as_cbor4ii(&v, &theirs.unwrap()));
    }
}

// ---------------------------------------------------------------------------------------------
// Properties whose assertion holds only for some inputs (those the decoder accepts) are run with
// a count of the inputs that reach it, which must be at least half of them: raw bytes alone
// almost never decode, so these properties also draw structured inputs.

/// One CBOR head, `major` and `arg`, in the given `width` (0: in the initial byte; 1, 2, 4, 8:
/// that many bytes after it), whether or not it is the shortest.
fn head(out: &mut Vec<u8>, major: u8, arg: u64, width: u8) {
    match width {
        0 => out.push(major << 5 | arg as u8),
        1 => out.extend([major << 5 | 24, arg as u8]),
        2 => {
            out.push(major << 5 | 25);
            out.extend((arg as u16).to_be_bytes());
        }
        4 => {
            out.push(major << 5 | 26);
            out.extend((arg as u32).to_be_bytes());
        }
        _ => {
            out.push(major << 5 | 27);
            out.extend(arg.to_be_bytes());
        }
    }
}

/// The shortest width of a head's argument.
fn shortest(arg: u64) -> u8 {
    match arg {
        0..24 => 0,
        24..=0xff => 1,
        0x100..=0xffff => 2,
        0x1_0000..=0xffff_ffff => 4,
        _ => 8,
    }
}

/// Encodes `v` as well-formed CBOR that breaks the deterministic rules where `choices` says: at
/// each item the next choice byte picks, one time in 16 each, a wider head than needed, an
/// indefinite length, two map entries swapped, or a map entry repeated; otherwise the item is
/// encoded as the deterministic encoding would. Many encodings are thus deterministic, many are
/// not, and the strict decoder must tell them apart.
fn encode_loosely(v: &Value, choices: &[u8], at: &mut usize, out: &mut Vec<u8>) {
    let choice = choices
        .get(*at % choices.len().max(1))
        .copied()
        .unwrap_or(0);
    *at += 1;
    // A non-shortest head is one width wider than needed (none is wider than 8 bytes).
    let width = |arg: u64| match (choice % 16, shortest(arg)) {
        (0, 0) => 1,
        (0, w) => (w * 2).min(8),
        (_, w) => w,
    };
    let indefinite = choice % 16 == 1;
    match v {
        Value::Unsigned(n) => head(out, 0, *n, width(*n)),
        Value::Negative(n) => head(out, 1, *n, width(*n)),
        Value::Bytes(_) | Value::Text(_) if indefinite => {
            let (major, b) = match v {
                Value::Text(t) => (3, t.as_bytes()),
                Value::Bytes(b) => (2, b.as_slice()),
                _ => unreachable!(),
            };
            out.push(major << 5 | 31);
            head(out, major, b.len() as u64, shortest(b.len() as u64));
            out.extend(b);
            out.push(0xff);
        }
        Value::Bytes(b) => {
            head(out, 2, b.len() as u64, width(b.len() as u64));
            out.extend(b);
        }
        Value::Text(t) => {
            head(out, 3, t.len() as u64, width(t.len() as u64));
            out.extend(t.as_bytes());
        }
        Value::Array(items) => {
            if indefinite {
                out.push(0x9f);
            } else {
                head(out, 4, items.len() as u64, width(items.len() as u64));
            }
            for item in items {
                encode_loosely(item, choices, at, out);
            }
            if indefinite {
                out.push(0xff);
            }
        }
        Value::Map(entries) => {
            let mut entries: Vec<&(Value, Value)> = entries.iter().collect();
            if choice % 16 == 2 && entries.len() >= 2 {
                entries.swap(0, 1);
            }
            if choice % 16 == 3 && !entries.is_empty() {
                entries.insert(1, entries[0]);
            }
            if indefinite {
                out.push(0xbf);
            } else {
                head(out, 5, entries.len() as u64, width(entries.len() as u64));
            }
            for (k, v) in entries {
                encode_loosely(k, choices, at, out);
                encode_loosely(v, choices, at, out);
            }
            if indefinite {
                out.push(0xff);
            }
        }
        Value::Tag(t, inner) => {
            head(out, 6, *t, width(*t));
            encode_loosely(inner, choices, at, out);
        }
        Value::Bool(b) => out.push(if *b { 0xf5 } else { 0xf4 }),
        Value::Null => out.push(0xf6),
    }
}

/// Byte strings to decode: raw bytes (one in four), and well-formed encodings of random
/// values, deterministic or not (see [`encode_loosely`]), given with the value they encode.
fn candidate_encodings() -> impl Strategy<Value = (Vec<u8>, Option<Value>)> {
    prop_oneof![
        1 => proptest::collection::vec(any::<u8>(), 0..64).prop_map(|bytes| (bytes, None)),
        3 => (arb_value(), proptest::collection::vec(any::<u8>(), 1..32)).prop_map(|(v, choices)| {
            let mut out = Vec::new();
            encode_loosely(&v, &choices, &mut 0, &mut out);
            (out, Some(v))
        }),
    ]
}

#[test]
fn loose_encodings_decode_exactly_when_deterministic() {
    // The loose encoder with every choice "deterministic" gives our encoding; with the choices
    // that break a rule, the strict decoder refuses it.
    let v = Value::Map(vec![
        (Value::Unsigned(1), Value::Array(vec![Value::Unsigned(500)])),
        (Value::Unsigned(2), text("a")),
    ]);
    let loose = |choices: &[u8]| {
        let mut out = Vec::new();
        encode_loosely(&v, choices, &mut 0, &mut out);
        out
    };
    assert_eq!(loose(&[4]), v.encode());
    for (choices, refusal) in [
        (&[0][..], "NonShortest"),
        (&[1], "Indefinite"),
        (&[2], "UnsortedKeys"),
        (&[3], "DuplicateKey"),
        (&[4, 4, 4, 0], "NonShortest"),
        (&[4, 4, 4, 4, 4, 1], "Indefinite"),
    ] {
        let err = Value::decode(&loose(choices), Limits::OBJECT).unwrap_err();
        assert_eq!(variant(&err), refusal, "{choices:?}: {err:?}");
    }
}

/// Any byte string the decoder accepts re-encodes to exactly itself. Raw bytes reach that
/// assertion only when they decode (3 in 512); so the inputs are mostly well-formed encodings of
/// known values, deterministic or not, for which the assertion is sharper: the decoder accepts
/// one exactly when it is the deterministic encoding, and then gives the value back.
#[test]
fn accepted_bytes_re_encode_to_themselves() {
    reaching_half(
        "accepted_bytes_re_encode_to_themselves",
        512,
        candidate_encodings(),
        |(bytes, original)| {
            let decoded = Value::decode(&bytes, Limits::OBJECT);
            if let Ok(v) = &decoded {
                prop_assert_eq!(v.encode(), bytes.clone());
            }
            match original {
                Some(v) => {
                    if bytes == v.encode() {
                        prop_assert_eq!(decoded, Ok(v));
                    } else {
                        prop_assert!(
                            decoded.is_err(),
                            "not deterministic, accepted: {:02x?}",
                            bytes
                        );
                    }
                    Ok(true)
                }
                None => Ok(decoded.is_ok()),
            }
        },
    );
}

/// A deterministic encoding with one byte replaced is refused or re-encodes to itself. About two
/// in three still decode (a byte inside a string or an argument): no structured input needed.
#[test]
fn mutated_encodings_either_fail_or_re_encode_to_themselves() {
    reaching_half(
        "mutated_encodings_either_fail_or_re_encode_to_themselves",
        512,
        (arb_value(), any::<prop::sample::Index>(), any::<u8>()),
        |(v, index, byte)| {
            let mut bytes = v.encode();
            let i = index.index(bytes.len());
            bytes[i] = byte;
            let Ok(decoded) = Value::decode(&bytes, Limits::OBJECT) else {
                return Ok(false);
            };
            prop_assert_eq!(decoded.encode(), bytes);
            Ok(true)
        },
    );
}

/// A required key that comes after a higher one is out of order, not missing: the map reader's
/// key-order check reports it before any field is read, even when the value skipped on the way
/// is nested.
#[test]
fn required_key_out_of_order_is_unsorted() {
    // {1: 0, 0: 1}
    let bytes = [0xa2, 0x01, 0x00, 0x00, 0x01];
    let mut d = Decoder::new(&bytes, Limits::OBJECT).unwrap();
    let mut m = d.map_reader("example").unwrap();
    assert_eq!(
        m.required(0, "version", |d| d.uint()),
        Err(DecodeError::UnsortedKeys { offset: 3 })
    );
    // {1: [h'00', {2: null}], 0: 1}
    let bytes = [0xa2, 0x01, 0x82, 0x41, 0x00, 0xa1, 0x02, 0xf6, 0x00, 0x01];
    let mut d = Decoder::new(&bytes, Limits::OBJECT).unwrap();
    let mut m = d.map_reader("example").unwrap();
    assert_eq!(
        m.required(0, "version", |d| d.uint()),
        Err(DecodeError::UnsortedKeys { offset: 8 })
    );
}

/// A required key that is really absent is missing.
#[test]
fn required_key_absent_is_missing() {
    // {1: 0, 2: 0}
    let bytes = [0xa2, 0x01, 0x00, 0x02, 0x00];
    let mut d = Decoder::new(&bytes, Limits::OBJECT).unwrap();
    let mut m = d.map_reader("example").unwrap();
    assert!(matches!(
        m.required(0, "version", |d| d.uint()),
        Err(DecodeError::MissingKey { key: 0, .. })
    ));
}

#[test]
fn size_limits_are_exact() {
    for (limits, size) in [
        (Limits::OBJECT, 64 * 1024),
        (Limits::DIRECTORY, 16 * 1024 * 1024),
    ] {
        let buf = vec![0u8; size + 1];
        assert!(Decoder::new(&buf[..size], limits).is_ok());
        assert!(matches!(
            Decoder::new(&buf, limits),
            Err(DecodeError::TooLarge { size: s, limit }) if s == size + 1 && limit == size
        ));
    }
}

#[test]
fn a_decoder_reports_its_limits() {
    let d = Decoder::new(&[0x00], Limits::DIRECTORY).unwrap();
    assert_eq!(d.limits(), Limits::DIRECTORY);
    assert_ne!(Limits::DIRECTORY, Limits::default());
}
