use super::{DecodeError, Decoder, Encoder, Limits, Major};

/// A generic CBOR data item, decoded by the same strict rules as the typed objects.
///
/// The format itself never needs it; it serves tools that inspect unknown bytes, the tests that
/// replay the RFC 8949 Appendix A examples, and the fuzzers. Floating-point numbers and simple
/// values other than `false`, `true` and `null` are refused as [`DecodeError::Unsupported`]; map
/// keys must be unique and in the bytewise order of their encodings.
///
/// ```
/// use consentry::Limits;
/// use consentry::danger::cbor::Value;
/// let v = Value::decode(&[0x82, 0x01, 0x20], Limits::OBJECT).unwrap();
/// assert_eq!(v, Value::Array(vec![Value::Unsigned(1), Value::Negative(0)]));
/// assert_eq!(v.encode(), [0x82, 0x01, 0x20]);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    /// Major type 0.
    Unsigned(u64),
    /// Major type 1: the integer `-1 - n`.
    Negative(u64),
    /// A byte string.
    Bytes(Vec<u8>),
    /// A text string.
    Text(String),
    /// An array.
    Array(Vec<Value>),
    /// A map, entries in encoding order.
    Map(Vec<(Value, Value)>),
    /// A tagged item.
    Tag(u64, Box<Value>),
    /// `false` or `true`.
    Bool(bool),
    /// `null`.
    Null,
}

impl Value {
    /// Decodes exactly one item filling `bytes`.
    ///
    /// # Errors
    ///
    /// Any [`DecodeError`] of [`Value::read`], [`DecodeError::TooLarge`] if `bytes` exceeds
    /// `limits`, and [`DecodeError::TrailingBytes`] if anything follows the item.
    pub fn decode(bytes: &[u8], limits: Limits) -> Result<Value, DecodeError> {
        let mut d = Decoder::new(bytes, limits)?;
        let v = Value::read(&mut d)?;
        d.finish()?;
        Ok(v)
    }

    /// Reads one item from a decoder.
    ///
    /// # Errors
    ///
    /// The first encoding error in the item (as the strict decoder reports it), [`DecodeError::DuplicateKey`]
    /// or [`DecodeError::UnsortedKeys`] if a map's keys are not strictly ascending in bytewise
    /// order, and [`DecodeError::Unsupported`] for a float or a simple value other than `false`,
    /// `true` and `null`.
    pub fn read(d: &mut Decoder<'_>) -> Result<Value, DecodeError> {
        let offset = d.position();
        Ok(match d.peek_major()? {
            Major::Unsigned => Value::Unsigned(d.uint()?),
            Major::Negative => Value::Negative(d.negative()?),
            Major::Bytes => Value::Bytes(d.bytes()?.to_vec()),
            Major::Text => Value::Text(d.text()?.to_owned()),
            Major::Array => Value::Array(d.nested(|d| {
                let len = d.array()?;
                let mut items = Vec::with_capacity(len);
                for _ in 0..len {
                    items.push(Value::read(d)?);
                }
                Ok(items)
            })?),
            Major::Map => Value::Map(d.nested(|d| {
                let len = d.map()?;
                let mut entries = Vec::with_capacity(len);
                let mut previous: Option<(usize, usize)> = None;
                for _ in 0..len {
                    let key_start = d.position();
                    let key = Value::read(d)?;
                    let key_span = (key_start, d.position());
                    if let Some(prev) = previous {
                        let order = d.slice(prev).cmp(d.slice(key_span));
                        match order {
                            std::cmp::Ordering::Equal => {
                                return Err(DecodeError::DuplicateKey { offset: key_start });
                            }
                            std::cmp::Ordering::Greater => {
                                return Err(DecodeError::UnsortedKeys { offset: key_start });
                            }
                            std::cmp::Ordering::Less => {}
                        }
                    }
                    previous = Some(key_span);
                    let value = Value::read(d)?;
                    entries.push((key, value));
                }
                Ok(entries)
            })?),
            Major::Tag => {
                let tag = d.tag()?;
                Value::Tag(tag, Box::new(d.nested(Value::read)?))
            }
            Major::Simple => match d.simple()? {
                (0xf4, _) => Value::Bool(false),
                (0xf5, _) => Value::Bool(true),
                (0xf6, _) => Value::Null,
                _ => return Err(DecodeError::Unsupported { offset }),
            },
        })
    }

    /// The deterministic encoding of this value (map entries are written in the order held).
    #[must_use]
    pub fn encode(&self) -> Vec<u8> {
        let mut e = Encoder::new();
        self.write(&mut e);
        e.into_bytes()
    }

    /// Writes this value to an encoder.
    pub fn write(&self, e: &mut Encoder) {
        match self {
            Value::Unsigned(n) => {
                e.uint(*n);
            }
            Value::Negative(n) => {
                e.negative(*n);
            }
            Value::Bytes(b) => {
                e.bytes(b);
            }
            Value::Text(t) => {
                e.text(t);
            }
            Value::Array(items) => {
                e.array(items.len());
                for v in items {
                    v.write(e);
                }
            }
            Value::Map(entries) => {
                e.map(entries.len());
                for (k, v) in entries {
                    k.write(e);
                    v.write(e);
                }
            }
            Value::Tag(tag, v) => {
                e.tag(*tag);
                v.write(e);
            }
            Value::Bool(b) => {
                e.bool(*b);
            }
            Value::Null => {
                e.null();
            }
        }
    }
}
