use cbor4ii::core::enc::{self, Encode};
use cbor4ii::core::types;
use std::convert::Infallible;

/// Writes RFC 8949 §4.2.1 core deterministic CBOR through `cbor4ii::core`.
///
/// Maps are written as a header followed by their entries: callers write keys in ascending
/// order, which for the small unsigned keys of the format is the deterministic order.
///
/// ```
/// use consentry::danger::cbor::Encoder;
/// let mut e = Encoder::new();
/// e.map(2);
/// e.uint(0);
/// e.uint(1);
/// e.uint(1);
/// e.text("a");
/// assert_eq!(e.into_bytes(), [0xa2, 0x00, 0x01, 0x01, 0x61, 0x61]);
/// ```
#[derive(Default, Debug, Clone)]
pub struct Encoder {
    buf: Sink,
}

#[derive(Default, Debug, Clone)]
struct Sink(Vec<u8>);

impl enc::Write for Sink {
    type Error = Infallible;
    fn push(&mut self, input: &[u8]) -> Result<(), Infallible> {
        self.0.extend_from_slice(input);
        Ok(())
    }
}

/// Writing to a `Vec` cannot fail; this unwraps the `Infallible` error without a panic path.
fn done(result: &Result<(), enc::Error<Infallible>>) {
    // cbor4ii only reports length overflows (impossible for `usize` lengths) besides writer
    // errors; nothing to do for either.
    if let Err(enc::Error::Write(never)) = result {
        match *never {}
    }
}

impl Encoder {
    /// An empty encoder.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty encoder with room for `capacity` bytes, for callers that know the size of
    /// what they write (saves the buffer's regrowth).
    #[must_use]
    pub fn with_capacity(capacity: usize) -> Self {
        Encoder {
            buf: Sink(Vec::with_capacity(capacity)),
        }
    }

    /// Appends an unsigned integer.
    pub fn uint(&mut self, value: u64) -> &mut Self {
        done(&value.encode(&mut self.buf));
        self
    }

    /// Appends a signed integer (major type 0 or 1).
    pub fn int(&mut self, value: i64) -> &mut Self {
        done(&value.encode(&mut self.buf));
        self
    }

    /// Appends the negative integer `-1 - n`.
    pub fn negative(&mut self, n: u64) -> &mut Self {
        done(&types::Negative(n).encode(&mut self.buf));
        self
    }

    /// Appends a byte string.
    pub fn bytes(&mut self, value: &[u8]) -> &mut Self {
        done(&types::Bytes(value).encode(&mut self.buf));
        self
    }

    /// Appends a text string.
    pub fn text(&mut self, value: &str) -> &mut Self {
        done(&value.encode(&mut self.buf));
        self
    }

    /// Appends `true` or `false`.
    pub fn bool(&mut self, value: bool) -> &mut Self {
        done(&value.encode(&mut self.buf));
        self
    }

    /// Appends `null`.
    pub fn null(&mut self) -> &mut Self {
        done(&types::Null.encode(&mut self.buf));
        self
    }

    /// Appends the header of an array of `len` items.
    pub fn array(&mut self, len: usize) -> &mut Self {
        done(&types::Array::bounded(len, &mut self.buf));
        self
    }

    /// Appends the header of a map of `len` entries.
    pub fn map(&mut self, len: usize) -> &mut Self {
        done(&types::Map::bounded(len, &mut self.buf));
        self
    }

    /// Appends a tag number; the tagged item follows.
    pub fn tag(&mut self, tag: u64) -> &mut Self {
        done(&types::Tag(tag, types::Nothing).encode(&mut self.buf));
        self
    }

    /// Appends bytes that are already one or more encoded CBOR items.
    pub fn raw(&mut self, encoded: &[u8]) -> &mut Self {
        self.buf.0.extend_from_slice(encoded);
        self
    }

    /// The bytes written so far.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf.0
    }

    /// The encoding.
    #[must_use]
    pub fn into_bytes(self) -> Vec<u8> {
        self.buf.0
    }
}
