use serde::{Deserialize, Serialize};
use std::fmt;

/// The kind of a signed object, carried as the COSE content type (header parameter 3) so that
/// bytes signed as one kind are refused as any other.
///
/// Content types are unsigned integers from the CoAP Content-Formats range reserved for
/// experimental use (65000–65535), pending registration; they are part of format version 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ObjectKind {
    /// A consent grant.
    Grant,
    /// A statutory habilitation.
    Habilitation,
    /// A lifecycle statement (pause, resume, revoke).
    Statement,
    /// A transfer request.
    Request,
    /// A transfer receipt.
    Receipt,
    /// A signed tree head of the transfer log.
    TreeHead,
    /// A party directory as its operator signed it, at one version.
    Directory,
    /// A change to the party directory, signed by its operator.
    DirectoryUpdate,
    /// A consumer's statement that it deleted the data a transfer gave it.
    Deletion,
    /// A notification of a lifecycle change or a key compromise, signed by the party that
    /// applied it, for one recipient.
    Notification,
}

impl ObjectKind {
    /// Every kind, in content-type order.
    pub const ALL: [ObjectKind; 10] = [
        ObjectKind::Grant,
        ObjectKind::Habilitation,
        ObjectKind::Statement,
        ObjectKind::Request,
        ObjectKind::Receipt,
        ObjectKind::TreeHead,
        ObjectKind::Directory,
        ObjectKind::DirectoryUpdate,
        ObjectKind::Deletion,
        ObjectKind::Notification,
    ];

    /// The COSE content type of this kind.
    #[must_use]
    pub fn content_type(self) -> u64 {
        match self {
            ObjectKind::Grant => 65_001,
            ObjectKind::Habilitation => 65_002,
            ObjectKind::Statement => 65_003,
            ObjectKind::Request => 65_004,
            ObjectKind::Receipt => 65_005,
            ObjectKind::TreeHead => 65_006,
            ObjectKind::Directory => 65_007,
            ObjectKind::DirectoryUpdate => 65_008,
            ObjectKind::Deletion => 65_009,
            ObjectKind::Notification => 65_010,
        }
    }

    /// The kind whose content type is `ct`.
    #[must_use]
    pub fn from_content_type(ct: u64) -> Option<ObjectKind> {
        Self::ALL.into_iter().find(|k| k.content_type() == ct)
    }

    /// The kind's name in the specification.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            ObjectKind::Grant => "grant",
            ObjectKind::Habilitation => "habilitation",
            ObjectKind::Statement => "statement",
            ObjectKind::Request => "request",
            ObjectKind::Receipt => "receipt",
            ObjectKind::TreeHead => "tree head",
            ObjectKind::Directory => "directory",
            ObjectKind::DirectoryUpdate => "directory update",
            ObjectKind::Deletion => "deletion",
            ObjectKind::Notification => "notification",
        }
    }
}

impl fmt::Display for ObjectKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
