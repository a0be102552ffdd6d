//! Strict deterministic CBOR (RFC 8949 §4.2.1), the codec under every signed object.
//!
//! The [`Encoder`] writes core deterministic encoding through `cbor4ii::core`: shortest-form
//! integers and lengths, definite lengths only, no floating-point values. Payload maps use small
//! unsigned integer keys written in ascending order, which is the bytewise order of their
//! encodings.
//!
//! The [`Decoder`] accepts exactly that encoding and nothing else. It refuses, each with its own
//! [`DecodeError`] variant: a non-shortest integer or length, an indefinite length, a duplicate or
//! out-of-order map key, an unknown or missing key, a wrong type, an unexpected tag, invalid
//! UTF-8, trailing bytes, nesting deeper than [`Limits::max_depth`], an input larger than
//! [`Limits::max_size`] and a collection longer than [`Limits::max_items`]. No allocation is ever
//! sized by a length field: a length is checked against the bytes that remain before anything is
//! read, and typed decoders borrow byte and text strings from the input.

mod decode;
mod encode;
mod error;
mod value;

pub use decode::{Decoder, MapReader};
pub use encode::Encoder;
pub use error::{DecodeError, Major};
pub use value::Value;

/// Bounds on what the decoder accepts, so that hostile input costs little.
///
/// The defaults are the limits of the wire format (see `docs/format.md`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest input accepted, in bytes.
    pub max_size: usize,
    /// Deepest nesting of arrays, maps and tags.
    pub max_depth: usize,
    /// Most items in one array or entries in one map.
    pub max_items: usize,
}

impl Limits {
    /// Limits for one signed object (grant, request, statement, receipt, tree head…): 64 KiB,
    /// depth 8, 256 items per collection.
    pub const OBJECT: Limits = Limits {
        max_size: 64 * 1024,
        max_depth: 8,
        max_items: 256,
    };

    /// Limits for a party directory: 16 MiB, depth 8, 65 536 items per collection.
    pub const DIRECTORY: Limits = Limits {
        max_size: 16 * 1024 * 1024,
        max_depth: 8,
        max_items: 65_536,
    };
}

impl Default for Limits {
    fn default() -> Self {
        Limits::OBJECT
    }
}

#[cfg(test)]
mod tests;
