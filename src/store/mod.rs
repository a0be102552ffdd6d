//! Durable stores for the ledger and its transfer log: `sqlite` for one gateway node,
//! `postgres` for several sharing one database. Each sits behind its cargo feature; the core
//! needs neither. See `docs/deployment.md`.
//!
//! What the stores share is here: the schema version, the checksummed encoding of ledger rows,
//! and the in-memory Merkle tree of the log with the checks made when a store is opened.

#[cfg(feature = "postgres")]
pub mod postgres;
#[cfg(feature = "sqlite")]
pub mod sqlite;

use crate::Digest;
use crate::directory::PartyId;
use crate::keys::SigningKey;
use crate::ledger::LedgerError;
use crate::log::{ConsistencyProof, InclusionProof, LogError, MerkleTree, TreeHead, leaf_hash};
use crate::signed::{SignedPayload, Unverified};
use crate::time::Timestamp;
use thiserror::Error;

/// The version of the schema this library creates and reads. A store written by a newer
/// library is refused ([`OpenError::SchemaTooNew`]); an older one is migrated on open.
pub const SCHEMA_VERSION: u32 = 2;

/// Why a store could not be opened.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum OpenError {
    /// The store was written by a newer version of this library.
    #[error(
        "the store's schema is version {found}, newer than version {supported} that this library reads: upgrade the library, do not downgrade it"
    )]
    SchemaTooNew {
        /// The version found.
        found: u32,
        /// The newest version this library reads.
        supported: u32,
    },
    /// The store could not be reached, or its stored state failed a check.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    /// The stored log failed a check (an entry that does not match its leaf hash, a gap in the
    /// indices, a tree that does not match the last signed head).
    #[error("the stored transfer log is corrupt: {0}")]
    Log(#[from] LogError),
}

impl OpenError {
    /// A stable code naming the refusal, for matching, logs and bindings.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            OpenError::SchemaTooNew { .. } => "store/schema_too_new",
            OpenError::Ledger(..) => "store/ledger",
            OpenError::Log(..) => "store/log",
        }
    }
}

/// A row value with an 8-byte check bound to its table and key: `value || tag`, where `tag` is
/// the first 8 bytes of SHA-256 over a domain label, the table, the key and the value (each
/// length-prefixed). It detects a value damaged on disk, edited by hand or copied to another
/// key; it is not a defence against someone who can write the database and knows the scheme.
pub(crate) fn seal(table: &str, key: &[u8], value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len() + 8);
    out.extend_from_slice(value);
    out.extend_from_slice(&tag(table, key, value));
    out
}

/// The value of a sealed row, or [`LedgerError::Corrupt`] if its check fails.
pub(crate) fn unseal<'v>(
    table: &str,
    key: &[u8],
    sealed: &'v [u8],
) -> Result<&'v [u8], LedgerError> {
    let split = sealed
        .len()
        .checked_sub(8)
        .ok_or_else(|| corrupt_row(table, key))?;
    let (value, check) = sealed.split_at(split);
    if check != tag(table, key, value) {
        return Err(corrupt_row(table, key));
    }
    Ok(value)
}

fn tag(table: &str, key: &[u8], value: &[u8]) -> [u8; 8] {
    let len = |b: &[u8]| (b.len() as u64).to_be_bytes();
    let digest = Digest::of_parts(&[
        b"consentry/row/v1",
        &len(table.as_bytes()),
        table.as_bytes(),
        &len(key),
        key,
        value,
    ]);
    let mut out = [0; 8];
    out.copy_from_slice(&digest.as_bytes()[..8]);
    out
}

fn corrupt_row(table: &str, key: &[u8]) -> LedgerError {
    LedgerError::Corrupt(format!(
        "a row of {table} (key {}) fails its check",
        crate::hex::encode(key)
    ))
}

/// The latest signed head a store kept: its bytes, and the size and root they state.
#[derive(Clone, Debug)]
struct KeptHead {
    size: u64,
    root: Digest,
    bytes: Vec<u8>,
}

/// The log's Merkle tree in memory (two hashes per entry), rebuilt from the stored entries when
/// a store opens and extended as entries are appended; roots and proofs come from it, so they
/// are served without reading entries. The latest signed head is kept beside it.
#[derive(Debug, Default)]
pub(crate) struct LogCache {
    tree: MerkleTree,
    head: Option<KeptHead>,
}

impl LogCache {
    /// An empty log.
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Appends the next stored row. `index` must be the next index and `stored_leaf` must be
    /// the leaf hash of `entry`: a gap, a repeat or an edited entry is reported as corrupt.
    pub(crate) fn load_row(
        &mut self,
        index: u64,
        entry: &[u8],
        stored_leaf: &[u8],
    ) -> Result<(), LogError> {
        let leaf = check_leaf(index, entry, stored_leaf)?;
        self.push(index, leaf)
    }

    /// Appends the leaf hash of entry `index`, which must be the next index.
    pub(crate) fn push(&mut self, index: u64, leaf: Digest) -> Result<(), LogError> {
        if index != self.tree.len() {
            return Err(LedgerError::Corrupt(format!(
                "log entry {index} follows entry {}: entries are missing or repeated",
                self.tree.len().wrapping_sub(1)
            ))
            .into());
        }
        self.tree.append_leaf_hash(leaf);
        Ok(())
    }

    /// Takes the stored latest signed head, checking that the tree has at least its size and
    /// the root it states at that size: a truncated or rewritten log is refused on open.
    pub(crate) fn load_head(&mut self, bytes: Vec<u8>) -> Result<(), LogError> {
        let head = *Unverified::<TreeHead>::parse(&bytes)
            .map_err(|e| LedgerError::Corrupt(format!("the stored signed head: {e}")))?
            .claims();
        let kept = KeptHead {
            size: head.tree_size,
            root: head.root_hash,
            bytes,
        };
        self.check_against(&kept)?;
        self.head = Some(kept);
        Ok(())
    }

    fn check_against(&self, head: &KeptHead) -> Result<(), LogError> {
        match self.tree.root_at(head.size) {
            Ok(root) if root == head.root => Ok(()),
            _ => Err(LogError::InconsistentWithSignedHead {
                size: self.tree.len(),
                root: self.tree.root(),
                signed_size: head.size,
            }),
        }
    }

    /// Number of entries.
    pub(crate) fn size(&self) -> u64 {
        self.tree.len()
    }

    /// The root at `size`.
    pub(crate) fn root_at(&self, size: u64) -> Result<Digest, LogError> {
        Ok(self.tree.root_at(size)?)
    }

    /// The inclusion proof of `index` at `tree_size`.
    pub(crate) fn inclusion_proof(
        &self,
        index: u64,
        tree_size: u64,
    ) -> Result<InclusionProof, LogError> {
        Ok(self.tree.inclusion_proof(index, tree_size)?)
    }

    /// The consistency proof from `old_size` to `new_size`.
    pub(crate) fn consistency_proof(
        &self,
        old_size: u64,
        new_size: u64,
    ) -> Result<ConsistencyProof, LogError> {
        Ok(self.tree.consistency_proof(old_size, new_size)?)
    }

    /// Signs the head of the tree as it is now, after checking it is consistent with the latest
    /// head kept. The store persists the bytes, then calls [`LogCache::keep_head`].
    pub(crate) fn sign_head(
        &self,
        key: &SigningKey,
        operator: PartyId,
        at: Timestamp,
    ) -> Result<Vec<u8>, LogError> {
        if let Some(kept) = &self.head {
            self.check_against(kept)?;
        }
        Ok(TreeHead {
            log_id: operator,
            tree_size: self.tree.len(),
            root_hash: self.tree.root(),
            timestamp: at,
        }
        .sign(key))
    }

    /// Keeps a head the store has just persisted (made by [`LogCache::sign_head`]).
    pub(crate) fn keep_head(&mut self, bytes: Vec<u8>) -> Result<(), LogError> {
        self.load_head(bytes)
    }

    /// The latest signed head kept.
    pub(crate) fn latest_head(&self) -> Option<Vec<u8>> {
        self.head.as_ref().map(|h| h.bytes.clone())
    }
}

/// Checks a stored entry against its stored leaf hash, giving the leaf hash.
pub(crate) fn check_leaf(index: u64, entry: &[u8], stored_leaf: &[u8]) -> Result<Digest, LogError> {
    let leaf = leaf_hash(entry);
    if leaf.as_bytes()[..] != *stored_leaf {
        return Err(LedgerError::Corrupt(format!(
            "log entry {index} does not match its stored leaf hash: it was changed"
        ))
        .into());
    }
    Ok(leaf)
}

impl LogCache {
    /// Checks entry bytes read back from a store against the leaf hash the tree holds for
    /// `index` (checked when the store opened, or appended by a commit): an entry changed on
    /// disk since is refused, even with its stored leaf hash changed to match.
    pub(crate) fn check_entry(&self, index: u64, entry: &[u8]) -> Result<(), LogError> {
        let held = usize::try_from(index)
            .ok()
            .and_then(|i| self.tree.leaf_hashes().get(i));
        match held {
            Some(leaf) if *leaf == leaf_hash(entry) => Ok(()),
            _ => Err(LedgerError::Corrupt(format!(
                "log entry {index} is not the entry the log holds: it was changed"
            ))
            .into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_rows_detect_damage_and_moves() {
        let sealed = seal("bases", b"key-1", b"value");
        assert_eq!(unseal("bases", b"key-1", &sealed), Ok(&b"value"[..]));
        // Moved to another key or table, damaged, truncated: each refused as corrupt.
        assert!(unseal("bases", b"key-2", &sealed).is_err());
        assert!(unseal("seen", b"key-1", &sealed).is_err());
        for i in 0..sealed.len() {
            let mut damaged = sealed.clone();
            damaged[i] ^= 1;
            assert!(unseal("bases", b"key-1", &damaged).is_err(), "byte {i}");
        }
        assert!(unseal("bases", b"key-1", &sealed[..7]).is_err());
        assert_eq!(
            unseal("bases", b"key-1", &sealed[..7]).unwrap_err().code(),
            "ledger_corrupt"
        );
    }

    #[test]
    fn log_cache_refuses_gaps_edits_and_truncation() {
        let key = SigningKey::from_seed(&[3; 32]);
        let operator = PartyId::from_bytes([4; 16]);
        let entries: Vec<Vec<u8>> = (0u8..5).map(|i| vec![i; 3]).collect();
        let mut cache = LogCache::new();
        for (i, e) in entries.iter().enumerate() {
            cache
                .load_row(i as u64, e, leaf_hash(e).as_bytes())
                .expect("row");
        }
        let head = cache.sign_head(&key, operator, Timestamp(9)).expect("head");
        cache.keep_head(head.clone()).expect("kept");

        // An edited entry, a gap.
        let mut edited = LogCache::new();
        assert!(matches!(
            edited.load_row(0, b"changed", leaf_hash(&entries[0]).as_bytes()),
            Err(LogError::Storage(LedgerError::Corrupt(_)))
        ));
        let mut gap = LogCache::new();
        assert!(
            gap.load_row(1, &entries[1], leaf_hash(&entries[1]).as_bytes())
                .is_err()
        );

        // A log truncated below its signed head is refused when the head is loaded.
        let mut truncated = LogCache::new();
        for (i, e) in entries.iter().take(3).enumerate() {
            truncated
                .load_row(i as u64, e, leaf_hash(e).as_bytes())
                .expect("row");
        }
        assert!(matches!(
            truncated.load_head(head.clone()),
            Err(LogError::InconsistentWithSignedHead {
                size: 3,
                signed_size: 5,
                ..
            })
        ));
        // A log rewritten with other entries (leaf hashes consistent) is refused too.
        let mut rewritten = LogCache::new();
        for i in 0..5u64 {
            let e = vec![9; 3 + i as usize];
            rewritten
                .load_row(i, &e, leaf_hash(&e).as_bytes())
                .expect("row");
        }
        assert!(rewritten.load_head(head).is_err());
    }
}
