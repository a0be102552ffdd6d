//! SHA-256 digests, the one hash function of the format.

use std::fmt;

/// A SHA-256 digest: the hash that binds a request to the exact bytes of its grant, and the
/// node hash of the transfer log.
///
/// ```
/// use consentry::Digest;
/// let d = Digest::of(b"abc");
/// assert_eq!(d.to_hex(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest(pub(crate) [u8; 32]);

impl Digest {
    /// Length of a digest in bytes.
    pub const LEN: usize = 32;

    /// SHA-256 of `data`.
    #[must_use]
    pub fn of(data: &[u8]) -> Self {
        Self::of_parts(&[data])
    }

    /// SHA-256 of the concatenation of `parts`, without copying them together.
    #[must_use]
    pub fn of_parts(parts: &[&[u8]]) -> Self {
        Self::of_parts_with(&crate::crypto::RING, parts)
    }

    /// SHA-256 of the concatenation of `parts`, computed by `provider`.
    #[must_use]
    pub fn of_parts_with(provider: &crate::crypto::CryptoProvider, parts: &[&[u8]]) -> Self {
        Digest((provider.sha256)(parts))
    }

    /// A digest from its 32 bytes (e.g. one read back from storage).
    #[must_use]
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Digest(bytes)
    }

    /// Reads a digest from exactly 32 bytes.
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        <[u8; 32]>::try_from(bytes).ok().map(Digest)
    }

    /// The digest's bytes.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Lower-case hexadecimal form.
    #[must_use]
    pub fn to_hex(&self) -> String {
        crate::hex::encode(&self.0)
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest({})", self.to_hex())
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

#[cfg(test)]
mod tests {
    use super::Digest;

    #[test]
    fn debug_and_display_show_the_hex() {
        let d = Digest::of(b"abc");
        let hex = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        assert_eq!(d.to_string(), hex);
        assert_eq!(format!("{d:?}"), format!("Digest({hex})"));
    }
}
