//! Published test suites replayed through the crate's public API. The data files live in
//! `tests/data/`, each folder with the licence of its source (see `tests/data/README.md`).

#[path = "external/cbor_appendix_a.rs"]
mod cbor_appendix_a;
#[path = "external/cose_examples.rs"]
mod cose_examples;
#[path = "external/wycheproof.rs"]
mod wycheproof;

use std::path::PathBuf;

/// Path of a file under `tests/data/`.
pub fn data_path(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("data")
        .join(relative)
}

/// Reads and parses a JSON file under `tests/data/`.
pub fn load_json(relative: &str) -> serde_json::Value {
    let path = data_path(relative);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("bad JSON in {}: {e}", path.display()))
}

/// Decodes hexadecimal (either case).
pub fn hex(text: &str) -> Vec<u8> {
    assert!(text.len() % 2 == 0, "odd-length hex: {text}");
    let nibble = |c: u8| match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        b'A'..=b'F' => c - b'A' + 10,
        _ => panic!("not a hex digit: {}", c as char),
    };
    text.as_bytes()
        .chunks_exact(2)
        .map(|pair| nibble(pair[0]) << 4 | nibble(pair[1]))
        .collect()
}

/// Decodes standard base64 with padding.
pub fn base64(text: &str) -> Vec<u8> {
    let sextet = |c: u8| -> u32 {
        match c {
            b'A'..=b'Z' => u32::from(c - b'A'),
            b'a'..=b'z' => u32::from(c - b'a') + 26,
            b'0'..=b'9' => u32::from(c - b'0') + 52,
            b'+' => 62,
            b'/' => 63,
            _ => panic!("not a base64 digit: {}", c as char),
        }
    };
    let bytes = text.as_bytes();
    assert!(bytes.len() % 4 == 0, "unpadded base64: {text}");
    let mut out = Vec::with_capacity(bytes.len() / 4 * 3);
    for quad in bytes.chunks_exact(4) {
        let pad = quad.iter().rev().take_while(|&&c| c == b'=').count();
        let n = quad[..4 - pad]
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, &c)| acc | sextet(c) << (18 - 6 * i));
        let [_, a, b, c] = n.to_be_bytes();
        out.extend_from_slice(&[a, b, c][..3 - pad]);
    }
    out
}

#[test]
fn helpers_decode_known_strings() {
    assert_eq!(hex("00aBff"), [0x00, 0xab, 0xff]);
    assert_eq!(base64(""), b"");
    assert_eq!(base64("Zg=="), b"f");
    assert_eq!(base64("Zm8="), b"fo");
    assert_eq!(base64("Zm9v"), b"foo");
    assert_eq!(base64("+/+/"), [0xfb, 0xff, 0xbf]);
}
