//! Readers and writers for the field types shared by the payloads.

use crate::cbor::{DecodeError, Decoder, Encoder, MapReader};
use crate::digest::Digest;
use crate::party_id::PartyId;
use crate::time::Timestamp;
use crate::vocab::{Category, Purpose};
use uuid::Uuid;

/// Version of every payload format defined so far.
pub const FORMAT_VERSION: u64 = 2;

/// Most (provider, categories) entries in a scope, and most categories per entry.
pub const MAX_SCOPE: usize = 64;

pub(crate) fn party_id(d: &mut Decoder<'_>) -> Result<PartyId, DecodeError> {
    d.fixed_bytes::<16>("party id").map(PartyId::from_bytes)
}

pub(crate) fn uuid(d: &mut Decoder<'_>) -> Result<Uuid, DecodeError> {
    d.fixed_bytes::<16>("id").map(Uuid::from_bytes)
}

pub(crate) fn timestamp(d: &mut Decoder<'_>) -> Result<Timestamp, DecodeError> {
    d.uint().map(Timestamp)
}

pub(crate) fn digest(d: &mut Decoder<'_>) -> Result<Digest, DecodeError> {
    d.fixed_bytes::<32>("hash").map(Digest)
}

/// A flag written only when true (deterministic: absent means false).
pub(crate) fn true_flag(d: &mut Decoder<'_>) -> Result<(), DecodeError> {
    if d.bool()? {
        Ok(())
    } else {
        Err(DecodeError::InvalidValue {
            field: "onward transfer",
            reason: "written only when true",
        })
    }
}

pub(crate) fn text(
    d: &mut Decoder<'_>,
    field: &'static str,
    max: usize,
) -> Result<String, DecodeError> {
    let t = d.text()?;
    if t.is_empty() || t.len() > max {
        return Err(DecodeError::InvalidValue {
            field,
            reason: "empty or too long",
        });
    }
    Ok(t.to_owned())
}

pub(crate) fn category(d: &mut Decoder<'_>) -> Result<Category, DecodeError> {
    Category::new(d.text()?).map_err(|_| DecodeError::InvalidValue {
        field: "category",
        reason: "not a valid namespace:name code",
    })
}

/// Reads a purpose: its code under `code_key`, its optional text under `text_key` (the next
/// key, so that the two are read in key order).
pub(crate) fn purpose(
    m: &mut MapReader<'_, '_>,
    code_key: u64,
    text_key: u64,
) -> Result<Purpose, DecodeError> {
    let purpose = m.required(code_key, "purpose", purpose_code)?;
    match m.optional(text_key, |d| text(d, "purpose text", Purpose::MAX_TEXT))? {
        // `text` checked the length `with_text` checks; were it to refuse anyway, the refusal
        // leaves through the reader, which is still reading the map.
        Some(t) => purpose.with_text(t).map_err(|_| {
            m.fail(DecodeError::InvalidValue {
                field: "purpose text",
                reason: "empty or too long",
            })
        }),
        None => Ok(purpose),
    }
}

/// Writes a purpose: its code under `code_key`, its text (if any) under `text_key` (the next
/// key).
pub(crate) fn write_purpose(e: &mut Encoder, purpose: &Purpose, code_key: u64, text_key: u64) {
    e.uint(code_key).text(purpose.code());
    if let Some(t) = purpose.text() {
        e.uint(text_key).text(t);
    }
}

pub(crate) fn purpose_code(d: &mut Decoder<'_>) -> Result<Purpose, DecodeError> {
    Purpose::new(d.text()?).map_err(|_| DecodeError::InvalidValue {
        field: "purpose",
        reason: "not a valid namespace:name code",
    })
}

/// A sorted list without repetition, as the format requires for sets.
pub(crate) fn sorted_set<T: Ord>(items: &[T], field: &'static str) -> Result<(), DecodeError> {
    if items.windows(2).all(|w| w[0] < w[1]) {
        Ok(())
    } else {
        Err(DecodeError::InvalidValue {
            field,
            reason: "must be sorted, without repetition",
        })
    }
}

pub(crate) fn categories(d: &mut Decoder<'_>) -> Result<Vec<Category>, DecodeError> {
    let cats = d.array_of("categories", 1, category)?;
    if cats.len() > MAX_SCOPE {
        return Err(DecodeError::InvalidValue {
            field: "categories",
            reason: "too many",
        });
    }
    sorted_set(&cats, "categories")?;
    Ok(cats)
}

pub(crate) fn write_categories(e: &mut Encoder, cats: &[Category]) {
    e.array(cats.len());
    for c in cats {
        e.text(c.as_str());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cbor::Limits;

    fn read<T>(
        bytes: &[u8],
        reader: impl FnOnce(&mut Decoder<'_>) -> Result<T, DecodeError>,
    ) -> Result<T, DecodeError> {
        let mut d = Decoder::new(bytes, Limits::OBJECT)?;
        let value = reader(&mut d)?;
        d.finish()?;
        Ok(value)
    }

    #[test]
    fn a_category_list_holds_one_to_max_scope_codes() {
        let list = |n: usize| {
            let mut e = Encoder::new();
            e.array(n);
            for i in 0..n {
                e.text(&format!("test:c{i:03}"));
            }
            e.into_bytes()
        };
        assert_eq!(
            read(&list(MAX_SCOPE), categories).map(|c| c.len()),
            Ok(MAX_SCOPE)
        );
        assert_eq!(
            read(&list(MAX_SCOPE + 1), categories),
            Err(DecodeError::InvalidValue {
                field: "categories",
                reason: "too many",
            })
        );
        assert!(matches!(
            read(&list(0), categories),
            Err(DecodeError::InvalidValue {
                reason: "too few items",
                ..
            })
        ));
    }

    #[test]
    fn a_text_field_holds_one_to_max_bytes() {
        let text_of = |s: &str| {
            let mut e = Encoder::new();
            e.text(s);
            e.into_bytes()
        };
        let field = |d: &mut Decoder<'_>| text(d, "legal reference", 3);
        assert_eq!(read(&text_of("abc"), field), Ok("abc".to_owned()));
        let refused = Err(DecodeError::InvalidValue {
            field: "legal reference",
            reason: "empty or too long",
        });
        assert_eq!(read(&text_of(""), field), refused);
        assert_eq!(read(&text_of("abcd"), field), refused);
    }
}
