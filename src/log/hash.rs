//! RFC 9162 hashing: leaf and interior node hashes, and the empty tree's root.

use crate::Digest;

/// Domain-separation prefix of a leaf hash (RFC 9162 §2.1.1).
const LEAF_PREFIX: u8 = 0x00;
/// Domain-separation prefix of an interior node hash (RFC 9162 §2.1.1).
const NODE_PREFIX: u8 = 0x01;

/// The hash of a log entry as a leaf: `SHA-256(0x00 || entry)` (RFC 9162 §2.1.1).
#[must_use]
pub fn leaf_hash(entry: &[u8]) -> Digest {
    Digest::of_parts(&[&[LEAF_PREFIX], entry])
}

/// The hash of an interior node: `SHA-256(0x01 || left || right)` (RFC 9162 §2.1.1).
#[must_use]
pub fn node_hash(left: &Digest, right: &Digest) -> Digest {
    Digest::of_parts(&[&[NODE_PREFIX], &left.0, &right.0])
}

/// The root of the empty tree: `SHA-256("")` (RFC 9162 §2.1.1).
#[must_use]
pub fn empty_root() -> Digest {
    Digest::of(&[])
}
