use thiserror::Error;

/// The CBOR major type of a data item, for error messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Major {
    /// Major type 0.
    Unsigned,
    /// Major type 1.
    Negative,
    /// Major type 2.
    Bytes,
    /// Major type 3.
    Text,
    /// Major type 4.
    Array,
    /// Major type 5.
    Map,
    /// Major type 6.
    Tag,
    /// Major type 7.
    Simple,
}

impl Major {
    pub(crate) fn from_initial(byte: u8) -> Major {
        match byte >> 5 {
            0 => Major::Unsigned,
            1 => Major::Negative,
            2 => Major::Bytes,
            3 => Major::Text,
            4 => Major::Array,
            5 => Major::Map,
            6 => Major::Tag,
            _ => Major::Simple,
        }
    }
}

impl std::fmt::Display for Major {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Major::Unsigned => "unsigned integer",
            Major::Negative => "negative integer",
            Major::Bytes => "byte string",
            Major::Text => "text string",
            Major::Array => "array",
            Major::Map => "map",
            Major::Tag => "tag",
            Major::Simple => "simple value or float",
        })
    }
}

/// Why bytes were refused by the strict decoder. Offsets count bytes from the start of the
/// decoded item.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The input ends in the middle of a data item.
    #[error("input truncated at byte {offset}")]
    Truncated {
        /// Where more bytes were needed.
        offset: usize,
    },
    /// An integer or length is not written in its shortest form.
    #[error("non-shortest integer or length at byte {offset}")]
    NonShortest {
        /// Offset of the item.
        offset: usize,
    },
    /// An indefinite-length string, array or map.
    #[error("indefinite length at byte {offset}")]
    Indefinite {
        /// Offset of the item.
        offset: usize,
    },
    /// A reserved additional-information value (28–30) or a lone "break" byte.
    #[error("malformed item (reserved header value) at byte {offset}")]
    Malformed {
        /// Offset of the item.
        offset: usize,
    },
    /// A map key repeats the key before it.
    #[error("duplicate map key at byte {offset}")]
    DuplicateKey {
        /// Offset of the repeated key.
        offset: usize,
    },
    /// Map keys are not in the bytewise order of their encodings.
    #[error("map keys out of order at byte {offset}")]
    UnsortedKeys {
        /// Offset of the out-of-order key.
        offset: usize,
    },
    /// A map key the format does not define for this object.
    #[error("unknown key {key} in {object}")]
    UnknownKey {
        /// The object being decoded.
        object: &'static str,
        /// The key found.
        key: u64,
    },
    /// A required map key is absent.
    #[error("missing required key {key} ({field}) in {object}")]
    MissingKey {
        /// The object being decoded.
        object: &'static str,
        /// The key expected.
        key: u64,
        /// The field's name in the specification.
        field: &'static str,
    },
    /// A data item of another type than the format requires.
    #[error("expected {expected} at byte {offset}, found {found}")]
    WrongType {
        /// Offset of the item.
        offset: usize,
        /// What the format requires there.
        expected: &'static str,
        /// What was found.
        found: Major,
    },
    /// A tag where none is allowed, or another tag than the one required.
    #[error("unexpected tag {tag} at byte {offset}")]
    UnexpectedTag {
        /// Offset of the tag.
        offset: usize,
        /// The tag number found.
        tag: u64,
    },
    /// A floating-point number or a simple value the format does not use.
    #[error("floating-point or unsupported simple value at byte {offset}")]
    Unsupported {
        /// Offset of the item.
        offset: usize,
    },
    /// A text string that is not valid UTF-8.
    #[error("invalid UTF-8 in text string at byte {offset}")]
    InvalidUtf8 {
        /// Offset of the string.
        offset: usize,
    },
    /// Bytes remain after the single top-level item.
    #[error("{count} trailing byte(s) after the item, at byte {offset}")]
    TrailingBytes {
        /// Offset of the first extra byte.
        offset: usize,
        /// How many bytes remain.
        count: usize,
    },
    /// Nesting deeper than the limit.
    #[error("nesting deeper than {limit} at byte {offset}")]
    TooDeep {
        /// Offset of the item that went too deep.
        offset: usize,
        /// The limit in force.
        limit: usize,
    },
    /// The input is larger than the limit for its kind.
    #[error("input of {size} bytes exceeds the {limit}-byte limit")]
    TooLarge {
        /// Size of the input.
        size: usize,
        /// The limit in force.
        limit: usize,
    },
    /// A collection or string claims more items than allowed or than the input can hold.
    #[error("length {len} at byte {offset} exceeds the limit of {limit}")]
    TooLong {
        /// Offset of the item.
        offset: usize,
        /// The length claimed.
        len: u64,
        /// The limit in force (the configured maximum, or the bytes that remain).
        limit: u64,
    },
    /// An integer outside the range the field allows.
    #[error("integer out of range at byte {offset}")]
    OutOfRange {
        /// Offset of the item.
        offset: usize,
    },
    /// A well-formed value that breaks a rule of the format (a UUID of the wrong length, an
    /// empty list, a malformed code…).
    #[error("invalid {field}: {reason}")]
    InvalidValue {
        /// The field's name in the specification.
        field: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A grant's chain of representation has more links than the format allows
    /// ([`Grant::MAX_LINKS`](crate::grant::Grant::MAX_LINKS)).
    #[error("the chain of representation has {links} links (at most {limit})")]
    ChainTooLong {
        /// How many links the chain claims.
        links: usize,
        /// The most the format allows.
        limit: usize,
    },
    /// A party appears twice in a grant's chain of representation, or the chain names the
    /// grant's subject.
    #[error("party {party} appears twice in the chain of representation (or is its subject)")]
    ChainRepeatsParty {
        /// The party named twice.
        party: crate::party_id::PartyId,
    },
    /// A format version this implementation does not read.
    #[error(
        "unsupported format version {found} in {object} (this implementation reads version {supported})"
    )]
    UnsupportedVersion {
        /// The object being decoded.
        object: &'static str,
        /// The version found.
        found: u64,
        /// The version supported.
        supported: u64,
    },
}

impl DecodeError {
    /// A stable code naming the refusal (`cbor/…` for the encoding rules, `value/…` and
    /// `payload/unsupported_version` for a payload's own), as the vectors and
    /// `docs/format.md` name it.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            DecodeError::Truncated { .. } => "cbor/truncated",
            DecodeError::NonShortest { .. } => "cbor/non_shortest",
            DecodeError::Indefinite { .. } => "cbor/indefinite",
            DecodeError::Malformed { .. } => "cbor/malformed",
            DecodeError::DuplicateKey { .. } => "cbor/duplicate_key",
            DecodeError::UnsortedKeys { .. } => "cbor/unsorted_keys",
            DecodeError::UnknownKey { .. } => "cbor/unknown_key",
            DecodeError::MissingKey { .. } => "cbor/missing_key",
            DecodeError::WrongType { .. } => "cbor/wrong_type",
            DecodeError::UnexpectedTag { .. } => "cbor/unexpected_tag",
            DecodeError::Unsupported { .. } => "cbor/unsupported_simple",
            DecodeError::InvalidUtf8 { .. } => "cbor/invalid_utf8",
            DecodeError::TrailingBytes { .. } => "cbor/trailing_bytes",
            DecodeError::TooDeep { .. } => "cbor/too_deep",
            DecodeError::TooLarge { .. } => "cbor/too_large",
            DecodeError::TooLong { .. } => "cbor/too_long",
            DecodeError::OutOfRange { .. } => "cbor/out_of_range",
            DecodeError::InvalidValue { .. } => "value/invalid",
            DecodeError::ChainTooLong { .. } => "value/chain_too_long",
            DecodeError::ChainRepeatsParty { .. } => "value/chain_repeats_party",
            DecodeError::UnsupportedVersion { .. } => "payload/unsupported_version",
        }
    }
}
