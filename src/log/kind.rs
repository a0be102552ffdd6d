//! The kinds of log entries and their codes on the wire.

use std::fmt;

/// The kind of a log entry, its first item on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum EntryKind {
    /// A provider's signed transfer receipt (code 0).
    Receipt,
    /// A signed consent grant, logged when issued (code 1).
    GrantIssued,
    /// A signed lifecycle statement: pause, resume or revoke (code 2).
    Statement,
    /// A denied transfer, unsigned: the tree head signs over it (code 3).
    Denial,
    /// A consumer's signed deletion statement about a logged receipt (code 4).
    Deletion,
}

impl EntryKind {
    /// The kind's code on the wire.
    #[must_use]
    pub fn code(self) -> u64 {
        match self {
            EntryKind::Receipt => 0,
            EntryKind::GrantIssued => 1,
            EntryKind::Statement => 2,
            EntryKind::Denial => 3,
            EntryKind::Deletion => 4,
        }
    }

    /// The kind whose code is `code`.
    #[must_use]
    pub fn from_code(code: u64) -> Option<Self> {
        match code {
            0 => Some(EntryKind::Receipt),
            1 => Some(EntryKind::GrantIssued),
            2 => Some(EntryKind::Statement),
            3 => Some(EntryKind::Denial),
            4 => Some(EntryKind::Deletion),
            _ => None,
        }
    }
}

impl fmt::Display for EntryKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            EntryKind::Receipt => "receipt",
            EntryKind::GrantIssued => "grant",
            EntryKind::Statement => "statement",
            EntryKind::Denial => "denial",
            EntryKind::Deletion => "deletion",
        })
    }
}
