//! Every entry of a log up to a signed head, read in order and checked to be exactly the
//! head's: what the auditor's queries (overdue retention, usage statistics) rest on, since an
//! absence or a count cannot be shown by inclusion proofs.

use super::entry::LogEntry;
use super::error::LogError;
use super::head::SignedTreeHead;
use super::merkle::MerkleTree;
use crate::Digest;

/// Why entries are not the head's.
pub(crate) enum ReplayFault {
    /// Not as many entries as the head covers.
    Count { given: u64, head: u64 },
    /// An entry does not decode.
    Entry { index: u64, error: LogError },
    /// The entries' root is not the head's.
    Root { computed: Digest },
}

/// Decodes `entries` in order, handing each to `visit` with its index, and checks that they are
/// exactly the entries `head` commits to: as many as its tree size (checked first), every one
/// decoding, and their root its root hash (checked last). Returns their tree.
pub(crate) fn replay<E: AsRef<[u8]>>(
    entries: &[E],
    head: &SignedTreeHead,
    mut visit: impl FnMut(u64, &LogEntry),
) -> Result<MerkleTree, ReplayFault> {
    let given = entries.len() as u64;
    if given != head.tree_size() {
        return Err(ReplayFault::Count {
            given,
            head: head.tree_size(),
        });
    }
    let mut tree = MerkleTree::new();
    for bytes in entries {
        let index = tree.append(bytes.as_ref());
        let entry = LogEntry::from_bytes(bytes.as_ref())
            .map_err(|error| ReplayFault::Entry { index, error })?;
        visit(index, &entry);
    }
    let computed = tree.root();
    if computed == head.root_hash() {
        Ok(tree)
    } else {
        Err(ReplayFault::Root { computed })
    }
}
