//! Hash tables for keys the operator sets: the directory's parties, keys and representations,
//! and the providers' ceilings.
//!
//! `std`'s default hasher (`SipHash`-1-3 with a random key) protects a table whose keys an
//! attacker chooses from being filled with colliding keys. These tables are filled only from
//! the operator's signed directory and the ceilings a verifier is configured with; requesters
//! only look keys up, and a lookup cannot lengthen the probe sequences of a table whose content
//! it does not choose. Their keys are also uniform already (key ids are SHA-256 prefixes, party
//! ids random UUIDs). So a folded-multiply hash replaces `SipHash` there: a directory lookup on
//! the decision path went from about 290 instructions to about 70, and a decision makes
//! several. Tables keyed by what requesters or signers choose (the ledger's bases and request
//! ids) keep the keyed default.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A `HashMap` with [`TableHasher`].
pub(crate) type Table<K, V> = HashMap<K, V, BuildHasherDefault<TableHasher>>;

/// The multiplier: 2^64 divided by the golden ratio, odd (as in Fibonacci hashing).
const K: u64 = 0x9e37_79b9_7f4a_7c15;
/// The finishing multiplier (the first of `SplitMix64`).
const FINISH: u64 = 0xbf58_476d_1ce4_e5b9;

/// Folds each 8-byte word into the state: xor, then a folded multiply (see [`fold`]); every bit
/// of a key must reach both the low bits of the hash (the table's index) and the high ones (its
/// tags).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct TableHasher(u64);

impl TableHasher {
    fn add(&mut self, word: u64) {
        self.0 = fold(self.0 ^ word, K);
    }
}

/// The 128-bit product of `x` and `k`, its two halves xored.
fn fold(x: u64, k: u64) -> u64 {
    let p = u128::from(x) * u128::from(k);
    let [hi, lo] = [p >> 64, p & u128::from(u64::MAX)].map(|h| u64::try_from(h).unwrap_or(0));
    hi ^ lo
}

impl Hasher for TableHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut words = bytes.chunks_exact(8);
        for w in &mut words {
            let mut b = [0; 8];
            b.copy_from_slice(w);
            self.add(u64::from_le_bytes(b));
        }
        let rest = words.remainder();
        if !rest.is_empty() {
            let mut b = [0; 8];
            b[..rest.len()].copy_from_slice(rest);
            // The length keeps "a" and "a\0" apart.
            b[7] ^= 0x80 | u8::try_from(rest.len()).unwrap_or(0);
            self.add(u64::from_le_bytes(b));
        }
    }

    fn write_u8(&mut self, n: u8) {
        self.add(u64::from(n));
    }

    fn write_u64(&mut self, n: u64) {
        self.add(n);
    }

    fn write_usize(&mut self, n: usize) {
        self.add(u64::try_from(n).unwrap_or(u64::MAX));
    }

    /// A last fold by another odd constant: one fold carries a word's high bits into the low
    /// bits of the state (the table's index) only partly.
    fn finish(&self) -> u64 {
        fold(self.0, FINISH)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::{BuildHasher, Hash};

    fn hash<T: Hash>(v: &T) -> u64 {
        BuildHasherDefault::<TableHasher>::default().hash_one(v)
    }

    #[test]
    fn keys_that_differ_hash_apart() {
        // Every prefix length, and a trailing zero byte, give distinct hashes.
        let bytes = [
            0u8, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17,
        ];
        let mut seen: Vec<u64> = (0..=bytes.len()).map(|n| hash(&&bytes[..n])).collect();
        seen.push(hash(&"a"));
        seen.push(hash(&"a\0"));
        let n = seen.len();
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen.len(), n);
    }

    #[test]
    fn sequential_ids_spread_over_low_and_high_bits() {
        // 4,096 ids differing in one byte: the table's index (low 12 bits) and its tags (high 7
        // bits) must both spread them.
        let ids: Vec<[u8; 16]> = (0..4096u32)
            .map(|i| {
                let mut id = [0; 16];
                id[12..].copy_from_slice(&i.to_be_bytes());
                id
            })
            .collect();
        let mut low: Vec<u64> = ids.iter().map(|id| hash(id) & 0xfff).collect();
        low.sort_unstable();
        low.dedup();
        assert!(
            low.len() > 2500,
            "{} distinct low indices of 4096",
            low.len()
        );
        let mut high: Vec<u64> = ids.iter().map(|id| hash(id) >> 57).collect();
        high.sort_unstable();
        high.dedup();
        assert_eq!(high.len(), 128);
    }
}
