use super::{DecodeError, Limits, Major};

/// The argument of an item's header.
enum Arg {
    Value(u64),
    Indefinite,
}

/// A strict decoder over borrowed bytes: every read checks the rules of the deterministic
/// encoding, and byte and text strings are borrowed from the input, never copied.
#[derive(Debug)]
pub struct Decoder<'a> {
    buf: &'a [u8],
    pos: usize,
    depth: usize,
    limits: Limits,
    /// Map readers alive (nested ones count too).
    readers: usize,
    /// The structural error of a map whose reader an error left without passing through it,
    /// for the enclosing reader to report (see [`MapReader`]).
    deferred: Option<DecodeError>,
}

impl<'a> Decoder<'a> {
    /// A decoder over `buf`, refused at once if `buf` is larger than `limits.max_size`.
    ///
    /// # Errors
    ///
    /// [`DecodeError::TooLarge`] if `buf` is longer than `limits.max_size`.
    pub fn new(buf: &'a [u8], limits: Limits) -> Result<Self, DecodeError> {
        if buf.len() > limits.max_size {
            return Err(DecodeError::TooLarge {
                size: buf.len(),
                limit: limits.max_size,
            });
        }
        Ok(Decoder {
            buf,
            pos: 0,
            depth: 0,
            limits,
            readers: 0,
            deferred: None,
        })
    }

    /// Offset of the next byte to read.
    #[must_use]
    pub fn position(&self) -> usize {
        self.pos
    }

    /// The limits in force.
    #[must_use]
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Bytes not yet read.
    #[must_use]
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// Succeeds only if every byte has been read.
    ///
    /// # Errors
    ///
    /// [`DecodeError::TrailingBytes`] if some input is left unread.
    pub fn finish(&self) -> Result<(), DecodeError> {
        if self.pos == self.buf.len() {
            Ok(())
        } else {
            Err(DecodeError::TrailingBytes {
                offset: self.pos,
                count: self.remaining(),
            })
        }
    }

    /// The major type of the next item, without consuming it.
    ///
    /// # Errors
    ///
    /// [`DecodeError::Truncated`] at the end of the input.
    pub fn peek_major(&self) -> Result<Major, DecodeError> {
        self.buf
            .get(self.pos)
            .map(|b| Major::from_initial(*b))
            .ok_or(DecodeError::Truncated { offset: self.pos })
    }

    /// The next `n` bytes; [`DecodeError::Truncated`] (at the end of the input) if fewer remain.
    #[inline]
    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        match self.buf.get(self.pos..).and_then(|rest| rest.get(..n)) {
            Some(out) => {
                self.pos += n;
                Ok(out)
            }
            None => Err(DecodeError::Truncated {
                offset: self.buf.len(),
            }),
        }
    }

    /// The next `N` bytes, as [`Decoder::take`].
    #[inline]
    fn take_array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        match self.buf.get(self.pos..).and_then(<[u8]>::first_chunk::<N>) {
            Some(out) => {
                self.pos += N;
                Ok(*out)
            }
            None => Err(DecodeError::Truncated {
                offset: self.buf.len(),
            }),
        }
    }

    /// Reads an item header whose initial byte, at `start`, is `initial`, checking shortest
    /// form. Returns its argument.
    #[inline]
    fn header_after(&mut self, start: usize, initial: u8) -> Result<Arg, DecodeError> {
        self.pos = start + 1;
        let info = initial & 0x1f;
        let (value, shortest) = match info {
            0..=23 => return Ok(Arg::Value(u64::from(info))),
            24 => {
                let value = u64::from(self.take_array::<1>()?[0]);
                (value, value >= 24)
            }
            25 => {
                let value = u64::from(u16::from_be_bytes(self.take_array()?));
                (value, value > 0xff)
            }
            26 => {
                let value = u64::from(u32::from_be_bytes(self.take_array()?));
                (value, value > 0xffff)
            }
            27 => {
                let value = u64::from_be_bytes(self.take_array()?);
                (value, value > 0xffff_ffff)
            }
            31 if matches!(initial >> 5, 2..=5) => return Ok(Arg::Indefinite),
            _ => return Err(DecodeError::Malformed { offset: start }),
        };
        // Floats (major 7, info 25-27) have no shortest-form rule of this kind; they are
        // refused by the typed readers anyway.
        if !shortest && initial >> 5 != 7 {
            return Err(DecodeError::NonShortest { offset: start });
        }
        Ok(Arg::Value(value))
    }

    /// Reads an item header, checking shortest form. Returns (initial byte, argument).
    fn header(&mut self) -> Result<(u8, Arg), DecodeError> {
        let start = self.pos;
        let initial = *self
            .buf
            .get(start)
            .ok_or(DecodeError::Truncated { offset: start })?;
        Ok((initial, self.header_after(start, initial)?))
    }

    /// Reads a header of the given major type and returns its definite argument.
    #[inline]
    fn expect(&mut self, major: u8, expected: &'static str) -> Result<u64, DecodeError> {
        let start = self.pos;
        let initial = *self
            .buf
            .get(start)
            .ok_or(DecodeError::Truncated { offset: start })?;
        if initial >> 5 != major {
            return Err(DecodeError::WrongType {
                offset: start,
                expected,
                found: Major::from_initial(initial),
            });
        }
        match self.header_after(start, initial)? {
            Arg::Value(v) => Ok(v),
            Arg::Indefinite => Err(DecodeError::Indefinite { offset: start }),
        }
    }

    /// Reads an unsigned integer.
    ///
    /// # Errors
    ///
    /// [`DecodeError::WrongType`] if the next item is not an unsigned integer;
    /// [`DecodeError::Truncated`], [`DecodeError::NonShortest`] or [`DecodeError::Malformed`] if
    /// its header is cut short, not in shortest form or reserved.
    pub fn uint(&mut self) -> Result<u64, DecodeError> {
        self.expect(0, "unsigned integer")
    }

    /// Reads a negative integer's raw argument `n` (the value is `-1 - n`).
    ///
    /// # Errors
    ///
    /// [`DecodeError::WrongType`] if the next item is not a negative integer; header errors as for
    /// [`Decoder::uint`].
    pub fn negative(&mut self) -> Result<u64, DecodeError> {
        self.expect(1, "negative integer")
    }

    /// The input bytes in `start..end` (both within what has been read).
    pub(crate) fn slice(&self, (start, end): (usize, usize)) -> &'a [u8] {
        self.buf.get(start..end).unwrap_or_default()
    }

    /// Reads a signed integer that fits an `i64`.
    ///
    /// # Errors
    ///
    /// [`DecodeError::WrongType`] if the next item is not an integer, [`DecodeError::OutOfRange`]
    /// if it does not fit an `i64`; header errors as for [`Decoder::uint`].
    pub fn int(&mut self) -> Result<i64, DecodeError> {
        let start = self.pos;
        match self.peek_major()? {
            Major::Unsigned => {
                i64::try_from(self.uint()?).map_err(|_| DecodeError::OutOfRange { offset: start })
            }
            Major::Negative => {
                let n = self.negative()?;
                i64::try_from(n)
                    .map(|n| -1 - n)
                    .map_err(|_| DecodeError::OutOfRange { offset: start })
            }
            found => Err(DecodeError::WrongType {
                offset: start,
                expected: "integer",
                found,
            }),
        }
    }

    /// Checks a claimed length against the configured maximum and the bytes that remain
    /// (`min_item` is the smallest encoding of one element).
    fn check_len(
        &self,
        offset: usize,
        len: u64,
        max: usize,
        min_item: u64,
    ) -> Result<usize, DecodeError> {
        let available = self.remaining() as u64 / min_item;
        let limit = (max as u64).min(available);
        if len > limit {
            return Err(DecodeError::TooLong { offset, len, limit });
        }
        // `len <= limit <= max`, a `usize`: the conversion does not fail.
        usize::try_from(len).map_err(|_| DecodeError::TooLong { offset, len, limit })
    }

    /// Reads a byte string, borrowed from the input.
    ///
    /// # Errors
    ///
    /// [`DecodeError::WrongType`] if the next item is not a byte string,
    /// [`DecodeError::Indefinite`] if its length is indefinite, [`DecodeError::TooLong`] if it is
    /// longer than `max_size` or the remaining input, [`DecodeError::Truncated`] if the input ends;
    /// header errors as for [`Decoder::uint`].
    pub fn bytes(&mut self) -> Result<&'a [u8], DecodeError> {
        let start = self.pos;
        let len = self.expect(2, "byte string")?;
        let len = self.check_len(start, len, self.limits.max_size, 1)?;
        self.take(len)
    }

    /// Reads a byte string of exactly `N` bytes.
    ///
    /// # Errors
    ///
    /// As [`Decoder::bytes`], and [`DecodeError::InvalidValue`] (for `field`) if the string is not
    /// exactly `N` bytes long.
    pub fn fixed_bytes<const N: usize>(
        &mut self,
        field: &'static str,
    ) -> Result<[u8; N], DecodeError> {
        <[u8; N]>::try_from(self.bytes()?).map_err(|_| DecodeError::InvalidValue {
            field,
            reason: "wrong length",
        })
    }

    /// Reads a text string, borrowed from the input, checking UTF-8.
    ///
    /// # Errors
    ///
    /// As [`Decoder::bytes`] for a text string, and [`DecodeError::InvalidUtf8`] if it is not valid
    /// UTF-8.
    pub fn text(&mut self) -> Result<&'a str, DecodeError> {
        let start = self.pos;
        let len = self.expect(3, "text string")?;
        let len = self.check_len(start, len, self.limits.max_size, 1)?;
        std::str::from_utf8(self.take(len)?).map_err(|_| DecodeError::InvalidUtf8 { offset: start })
    }

    /// Reads `true` or `false`.
    ///
    /// # Errors
    ///
    /// [`DecodeError::WrongType`] if the next item is not `true` or `false`,
    /// [`DecodeError::Truncated`] at the end of the input.
    pub fn bool(&mut self) -> Result<bool, DecodeError> {
        let start = self.pos;
        match self.buf.get(start) {
            Some(0xf4) => {
                self.pos += 1;
                Ok(false)
            }
            Some(0xf5) => {
                self.pos += 1;
                Ok(true)
            }
            Some(b) => Err(DecodeError::WrongType {
                offset: start,
                expected: "boolean",
                found: Major::from_initial(*b),
            }),
            None => Err(DecodeError::Truncated { offset: start }),
        }
    }

    /// Reads an array header; returns its length, already checked against the limits and the
    /// remaining input.
    ///
    /// # Errors
    ///
    /// [`DecodeError::WrongType`] if the next item is not an array, [`DecodeError::Indefinite`] if
    /// its length is indefinite, [`DecodeError::TooLong`] if it has more items than `max_items` or
    /// than the remaining input could hold; header errors as for [`Decoder::uint`].
    pub fn array(&mut self) -> Result<usize, DecodeError> {
        let start = self.pos;
        let len = self.expect(4, "array")?;
        self.check_len(start, len, self.limits.max_items, 1)
    }

    /// Reads a map header; returns its number of entries, checked like [`Decoder::array`].
    ///
    /// # Errors
    ///
    /// As [`Decoder::array`], for a map (each entry needs at least two bytes).
    pub fn map(&mut self) -> Result<usize, DecodeError> {
        let start = self.pos;
        let len = self.expect(5, "map")?;
        self.check_len(start, len, self.limits.max_items, 2)
    }

    /// Reads a tag number; the tagged item follows.
    ///
    /// # Errors
    ///
    /// [`DecodeError::WrongType`] if the next item is not a tag; header errors as for
    /// [`Decoder::uint`].
    pub fn tag(&mut self) -> Result<u64, DecodeError> {
        self.expect(6, "tag")
    }

    /// Reads the tag `tag` and fails with [`DecodeError::UnexpectedTag`] on any other.
    ///
    /// # Errors
    ///
    /// [`DecodeError::UnexpectedTag`] if the tag is another one; errors of [`Decoder::tag`].
    pub fn expect_tag(&mut self, tag: u64) -> Result<(), DecodeError> {
        let start = self.pos;
        match self.tag()? {
            t if t == tag => Ok(()),
            t => Err(DecodeError::UnexpectedTag {
                offset: start,
                tag: t,
            }),
        }
    }

    /// Reads a simple value or float header (major type 7); returns (initial byte, argument).
    pub(crate) fn simple(&mut self) -> Result<(u8, u64), DecodeError> {
        let start = self.pos;
        let found = self.peek_major()?;
        if found != Major::Simple {
            return Err(DecodeError::WrongType {
                offset: start,
                expected: "simple value",
                found,
            });
        }
        match self.header()? {
            (initial, Arg::Value(v)) => Ok((initial, v)),
            (_, Arg::Indefinite) => Err(DecodeError::Malformed { offset: start }),
        }
    }

    /// Runs `f` one nesting level deeper, failing with [`DecodeError::TooDeep`] past the limit.
    ///
    /// # Errors
    ///
    /// [`DecodeError::TooDeep`] if the depth limit is already reached; otherwise whatever `f`
    /// returns.
    pub fn nested<T>(
        &mut self,
        f: impl FnOnce(&mut Self) -> Result<T, DecodeError>,
    ) -> Result<T, DecodeError> {
        if self.depth >= self.limits.max_depth {
            return Err(DecodeError::TooDeep {
                offset: self.pos,
                limit: self.limits.max_depth,
            });
        }
        self.depth += 1;
        let out = f(self);
        self.depth -= 1;
        out
    }

    /// Reads an array of `T`, at least `min` long, one level deeper.
    ///
    /// # Errors
    ///
    /// Errors of [`Decoder::nested`] and [`Decoder::array`], [`DecodeError::InvalidValue`] (for
    /// `field`) if the array has fewer than `min` items, and the first error of `item`.
    pub fn array_of<T>(
        &mut self,
        field: &'static str,
        min: usize,
        mut item: impl FnMut(&mut Self) -> Result<T, DecodeError>,
    ) -> Result<Vec<T>, DecodeError> {
        self.nested(|d| {
            let len = d.array()?;
            if len < min {
                return Err(DecodeError::InvalidValue {
                    field,
                    reason: "too few items",
                });
            }
            // `len` was checked against the remaining input, so this allocation is bounded by
            // the input's own size.
            let mut out = Vec::with_capacity(len);
            for _ in 0..len {
                out.push(item(d)?);
            }
            Ok(out)
        })
    }

    /// Skips one well-formed item, checking the encoding rules (shortest forms, definite
    /// lengths, UTF-8, depth) but not its meaning: a float or simple value is skipped, and left
    /// for a typed reader to refuse as the wrong type. Never allocates.
    ///
    /// # Errors
    ///
    /// The first encoding error in the item: those of the typed readers
    /// ([`DecodeError::Truncated`], [`DecodeError::NonShortest`], [`DecodeError::Indefinite`],
    /// [`DecodeError::TooLong`], [`DecodeError::InvalidUtf8`], [`DecodeError::Malformed`]) and
    /// [`DecodeError::TooDeep`].
    pub fn skip(&mut self) -> Result<(), DecodeError> {
        match self.peek_major()? {
            Major::Unsigned => self.uint().map(drop),
            Major::Negative => self.negative().map(drop),
            Major::Bytes => self.bytes().map(drop),
            Major::Text => self.text().map(drop),
            Major::Array => self.nested(|d| {
                for _ in 0..d.array()? {
                    d.skip()?;
                }
                Ok(())
            }),
            Major::Map => self.nested(|d| {
                for _ in 0..d.map()? {
                    d.skip()?;
                    d.skip()?;
                }
                Ok(())
            }),
            Major::Tag => {
                self.tag()?;
                self.nested(Self::skip)
            }
            Major::Simple => self.simple().map(drop),
        }
    }

    /// Checks that the next `entries` map entries have unsigned integer keys in strictly
    /// ascending order and well-formed values (see [`Decoder::skip`]), then moves back: the
    /// structural scan of a map, whose first error a [`MapReader`] reports before any error of
    /// its fields.
    fn check_key_order(&mut self, entries: usize) -> Result<(), DecodeError> {
        let start = self.pos;
        let mut last = None;
        for _ in 0..entries {
            let offset = self.pos;
            let key = match self.peek_major()? {
                Major::Unsigned => self.uint()?,
                found => {
                    return Err(DecodeError::WrongType {
                        offset,
                        expected: "unsigned integer map key",
                        found,
                    });
                }
            };
            match last {
                Some(l) if key == l => return Err(DecodeError::DuplicateKey { offset }),
                Some(l) if key < l => return Err(DecodeError::UnsortedKeys { offset }),
                _ => last = Some(key),
            }
            self.skip()?;
        }
        self.pos = start;
        Ok(())
    }

    /// Starts reading a payload map with unsigned integer keys (see [`MapReader`]).
    ///
    /// The map's structure is not scanned here: the reader reports a structural error of the
    /// map (a key that is not an unsigned integer, keys out of order, an encoding error in any
    /// entry) when it is about to refuse the map, before the error it was about to report.
    ///
    /// # Errors
    ///
    /// [`DecodeError::TooDeep`] at the depth limit; errors of [`Decoder::map`].
    pub fn map_reader<'d>(
        &'d mut self,
        object: &'static str,
    ) -> Result<MapReader<'d, 'a>, DecodeError> {
        if self.depth >= self.limits.max_depth {
            return Err(DecodeError::TooDeep {
                offset: self.pos,
                limit: self.limits.max_depth,
            });
        }
        let remaining = self.map()?;
        self.depth += 1;
        // An error left pending by a reader of an earlier map was dropped by whoever caught it.
        self.deferred = None;
        let (start, depth) = (self.pos, self.depth);
        #[cfg(test)]
        let checked = if reference::eager() {
            // The former order, as the tests' reference: the whole map is scanned first.
            self.check_key_order(remaining)?;
            true
        } else {
            false
        };
        #[cfg(not(test))]
        let checked = false;
        self.readers += 1;
        Ok(MapReader {
            dec: self,
            object,
            remaining,
            pending: None,
            last: None,
            start,
            entries: remaining,
            depth,
            checked,
        })
    }
}

/// Reads a map whose keys are unsigned integers in strictly ascending order, field by field.
///
/// Callers ask for keys in ascending order with [`MapReader::required`] and
/// [`MapReader::optional`], then call [`MapReader::finish`]. A key found below the one asked for
/// was not asked for at all, so it is unknown; a key above it means the asked key is absent.
///
/// **Which error is reported.** A map is refused for the first *structural* fault of the whole
/// map, if it has one: a key that is not an unsigned integer, a duplicate or out-of-order key, or
/// an encoding error anywhere in an entry (what [`Decoder::skip`] finds), in the order of the
/// bytes; only a map without one is refused for a field (a missing or unknown key, a value of
/// the wrong type or meaning). The reader does not scan the map first to do so: it reads
/// optimistically (every typed read is at least as strict as the scan, and keys are
/// order-checked as they are read, so a map read to its end has no structural fault), and scans
/// it from its start only when it is about to refuse it. Hence the rule for callers: **an error
/// found while a reader is alive must leave through the reader**, as the error of a field's
/// reading function or through [`MapReader::fail`]. An error that leaves a nested reader any
/// other way is caught when the reader is dropped, and reported by the enclosing reader; the
/// outermost reader has no such recourse (debug builds assert it never happens).
#[derive(Debug)]
pub struct MapReader<'d, 'a> {
    dec: &'d mut Decoder<'a>,
    object: &'static str,
    remaining: usize,
    pending: Option<u64>,
    last: Option<u64>,
    /// Where the map's first entry starts.
    start: usize,
    /// How many entries the map has.
    entries: usize,
    /// The depth of the map's entries.
    depth: usize,
    /// Whether nothing is owed any more: the structural scan has run, or the map was read to
    /// its end (which proves the scan would pass).
    checked: bool,
}

impl<'a> MapReader<'_, 'a> {
    /// The next key, read and order-checked if not read yet.
    fn peek_key(&mut self) -> Result<Option<u64>, DecodeError> {
        if self.pending.is_none() && self.remaining > 0 {
            let offset = self.dec.position();
            let key = match self.dec.buf.get(offset) {
                // The keys of the format are below 24: one byte, the shortest form.
                Some(&initial) if initial < 24 => {
                    self.dec.pos = offset + 1;
                    u64::from(initial)
                }
                _ => self.other_key(offset)?,
            };
            match self.last {
                Some(last) if key == last => return Err(DecodeError::DuplicateKey { offset }),
                Some(last) if key < last => return Err(DecodeError::UnsortedKeys { offset }),
                _ => {}
            }
            self.remaining -= 1;
            self.last = Some(key);
            self.pending = Some(key);
        }
        Ok(self.pending)
    }

    /// Reads a key that is not an unsigned integer below 24 (see [`MapReader::peek_key`]).
    fn other_key(&mut self, offset: usize) -> Result<u64, DecodeError> {
        match self.dec.peek_major()? {
            Major::Unsigned => self.dec.uint(),
            found => Err(DecodeError::WrongType {
                offset,
                expected: "unsigned integer map key",
                found,
            }),
        }
    }

    /// Runs the map's structural scan from its start, at its depth: the decoder is left where
    /// the scan failed (as the former up-front scan left it), or where it was if it passed.
    fn scan(&mut self) -> Result<(), DecodeError> {
        let (pos, depth) = (self.dec.pos, self.dec.depth);
        self.dec.pos = self.start;
        self.dec.depth = self.depth;
        let found = self.dec.check_key_order(self.entries);
        if found.is_ok() {
            self.dec.pos = pos;
            self.dec.depth = depth;
        }
        found
    }

    /// The error to report instead of `error`: the map's first structural fault if it has one
    /// (the scan runs once), else the structural fault of a nested map that an error left
    /// without passing through its reader, else `error`.
    #[cold]
    #[inline(never)]
    fn refuse(&mut self, error: DecodeError) -> DecodeError {
        if self.checked {
            return error;
        }
        self.checked = true;
        let nested = self.dec.deferred.take();
        #[cfg(test)]
        reference::count_scan();
        match self.scan() {
            Err(structural) => {
                #[cfg(test)]
                reference::count_structural(structural != error);
                structural
            }
            Ok(()) => nested.unwrap_or(error),
        }
    }

    /// Refuses the map with `error`, found by the caller while reading it (a relation between
    /// fields, say): returns the error to report, which is the map's first structural fault if
    /// it has one (see [`MapReader`]).
    #[must_use]
    pub fn fail(&mut self, error: DecodeError) -> DecodeError {
        self.refuse(error)
    }

    /// Reads the value of `key` with `f`, or `None` if the map has no such key.
    ///
    /// # Errors
    ///
    /// [`DecodeError::UnknownKey`] if the map holds a key below `key` that was not read; errors in
    /// reading the next key (see [`Decoder::map_reader`]); the error of `f`; before any of them,
    /// the map's first structural fault (see [`MapReader`]).
    pub fn optional<T>(
        &mut self,
        key: u64,
        f: impl FnOnce(&mut Decoder<'a>) -> Result<T, DecodeError>,
    ) -> Result<Option<T>, DecodeError> {
        match self.peek_key() {
            Ok(Some(k)) if k == key => {
                self.pending = None;
                match f(self.dec) {
                    Ok(value) => Ok(Some(value)),
                    Err(e) => Err(self.refuse(e)),
                }
            }
            Ok(Some(k)) if k < key => Err(self.refuse(DecodeError::UnknownKey {
                object: self.object,
                key: k,
            })),
            Ok(_) => Ok(None),
            Err(e) => Err(self.refuse(e)),
        }
    }

    /// Reads the value of `key` with `f`; fails with [`DecodeError::MissingKey`] if absent.
    ///
    /// # Errors
    ///
    /// As [`MapReader::optional`], and [`DecodeError::MissingKey`] if `key` is absent.
    pub fn required<T>(
        &mut self,
        key: u64,
        field: &'static str,
        f: impl FnOnce(&mut Decoder<'a>) -> Result<T, DecodeError>,
    ) -> Result<T, DecodeError> {
        match self.optional(key, f)? {
            Some(value) => Ok(value),
            None => Err(self.refuse(DecodeError::MissingKey {
                object: self.object,
                key,
                field,
            })),
        }
    }

    /// Checks the format version under `key` (key 0 in every map of the format:
    /// [`crate::labels::VERSION`]).
    ///
    /// # Errors
    ///
    /// As [`MapReader::required`] for `key`, and [`DecodeError::UnsupportedVersion`] if the
    /// version is not `supported`.
    pub fn version(&mut self, key: u64, supported: u64) -> Result<(), DecodeError> {
        let found = self.required(key, "version", Decoder::uint)?;
        if found == supported {
            Ok(())
        } else {
            Err(self.refuse(DecodeError::UnsupportedVersion {
                object: self.object,
                found,
                supported,
            }))
        }
    }

    /// Fails with [`DecodeError::UnknownKey`] if any entry was not read.
    ///
    /// # Errors
    ///
    /// [`DecodeError::UnknownKey`] if an entry was left unread; errors in reading that key (see
    /// [`Decoder::map_reader`]); before any of them, the map's first structural fault (see
    /// [`MapReader`]).
    pub fn finish(mut self) -> Result<(), DecodeError> {
        match self.peek_key() {
            Ok(None) => {
                // Every entry was read, its key order-checked and its value read by a reader at
                // least as strict as the scan: the scan would pass.
                self.checked = true;
                self.dec.depth -= 1;
                Ok(())
            }
            Ok(Some(key)) => Err(self.refuse(DecodeError::UnknownKey {
                object: self.object,
                key,
            })),
            Err(e) => Err(self.refuse(e)),
        }
    }
}

impl Drop for MapReader<'_, '_> {
    /// A reader dropped with its scan still owed was left by an error that did not pass through
    /// it: the scan runs now, and a structural fault is left for the enclosing reader to report
    /// before that error (as the former up-front scan would have).
    fn drop(&mut self) {
        self.dec.readers -= 1;
        if self.checked {
            return;
        }
        self.checked = true;
        let (pos, depth) = (self.dec.pos, self.dec.depth);
        let found = self.scan();
        self.dec.pos = pos;
        self.dec.depth = depth;
        self.dec.deferred = found.err();
        debug_assert!(
            self.dec.deferred.is_none() || self.dec.readers > 0 || std::thread::panicking(),
            "an error left the outermost map reader of a {} without passing through it, \
             hiding the map's structural fault {:?}",
            self.object,
            self.dec.deferred,
        );
    }
}

/// The former order (the whole map scanned when its reader is made), kept for the tests as the
/// reference the lazy reader must agree with.
#[cfg(test)]
pub(crate) mod reference {
    use std::cell::Cell;

    thread_local! {
        static EAGER: Cell<bool> = const { Cell::new(false) };
        static SCANS: Cell<[usize; 3]> = const { Cell::new([0; 3]) };
    }

    pub(crate) fn eager() -> bool {
        EAGER.with(Cell::get)
    }

    /// Runs `f` with map readers that scan their map when made, as the decoder used to.
    pub(crate) fn with_eager_scan<T>(f: impl FnOnce() -> T) -> T {
        EAGER.with(|e| e.set(true));
        let out = f();
        EAGER.with(|e| e.set(false));
        out
    }

    fn count(i: usize) {
        SCANS.with(|s| {
            let mut counts = s.get();
            counts[i] += 1;
            s.set(counts);
        });
    }

    pub(super) fn count_scan() {
        count(0);
    }

    pub(super) fn count_structural(instead_of_another: bool) {
        count(1);
        if instead_of_another {
            count(2);
        }
    }

    /// On this thread: the scans run by refusing readers, those that found a structural fault,
    /// and those whose fault replaced another error the reader was about to report.
    pub(crate) fn scans() -> [usize; 3] {
        SCANS.with(Cell::get)
    }
}

#[cfg(test)]
mod usage {
    use super::*;

    #[test]
    fn a_non_shortest_integer_is_refused_where_it_starts() {
        let mut d = Decoder::new(&[0x18, 0x05], Limits::OBJECT).unwrap();
        assert!(matches!(
            d.uint(),
            Err(DecodeError::NonShortest { offset: 0 })
        ));
    }

    #[test]
    fn a_map_reader_reads_keys_in_order_and_tells_absent_ones() {
        let bytes = [0xa2, 0x00, 0x01, 0x02, 0x61, 0x78]; // {0: 1, 2: "x"}
        let mut d = Decoder::new(&bytes, Limits::OBJECT).unwrap();
        let mut m = d.map_reader("example").unwrap();
        assert_eq!(m.required(0, "version", |d| d.uint()).unwrap(), 1);
        assert_eq!(m.optional(1, |d| d.uint()).unwrap(), None);
        assert_eq!(m.required(2, "name", |d| d.text()).unwrap(), "x");
        m.finish().unwrap();
    }
}

/// The lazy structural scan against the former eager order ([`reference::with_eager_scan`]):
/// the same error for every input, on the crate's own payloads mutated.
#[cfg(test)]
mod lazy_scan {
    use super::reference::{scans, with_eager_scan};
    use super::*;
    use crate::cbor::Value;
    use crate::cose::Envelope;
    use crate::directory::RepresentationKind;
    use crate::directory::{Directory, DirectoryUpdate, Party, PartyKey, Representation};
    use crate::grant::Grant;
    use crate::habilitation::Habilitation;
    use crate::log::{Denial, LogEntry, Receipt, TreeHead};
    use crate::request::Request;
    use crate::signed::SignedPayload;
    use crate::statement::{Action, Statement};
    use crate::testing::{Scenario, key_for};
    use crate::{Digest, Timestamp, labels};
    use proptest::prelude::*;
    use std::cell::Cell;

    /// A decoding function of the crate, its outcome printed (its error, or that it accepted).
    type Decode = fn(&[u8]) -> String;

    fn outcome<T, E: std::fmt::Debug>(r: Result<T, E>) -> String {
        match r {
            Ok(_) => "accepted".to_owned(),
            Err(e) => format!("{e:?}"),
        }
    }

    fn signed<T: SignedPayload>(bytes: &[u8]) -> String {
        outcome(T::from_payload_bytes(bytes))
    }

    /// Valid payloads of every kind whose decoder reads maps, with their decoder: flat maps
    /// (request, statement, tree head), maps holding arrays (grant, habilitation, receipt), a
    /// map inside an array (a log entry's denial), and maps inside arrays inside maps (a
    /// directory, a directory update), where a party's roles are checked while its reader is
    /// alive.
    fn templates() -> Vec<(&'static str, Vec<u8>, Decode)> {
        let mut s = Scenario::canteen();
        let payload = |bytes: &[u8]| Envelope::parse(bytes).expect("signed").payload().to_vec();
        let grant = s.sign_grant(&s.grant().build(&s.ceilings).expect("grant"));
        let chain = s
            .grant_for(s.child)
            .chain([s.franceconnect, s.parent])
            .build(&s.ceilings)
            .expect("chain grant");
        let statement = s.statement(&grant, Action::Pause, s.parent);
        let request = s.request(&grant).to_payload_bytes();
        let habilitation = s.habilitation().to_payload_bytes();
        let directory = s.directory.to_cbor();
        let at = s.now.plus_secs(60);
        let party: Party = s.directory.parties()[0].clone();
        let update = DirectoryUpdate::new(1, Digest::of(b"previous"), at)
            .add_party(party)
            .add_key(
                s.mairie,
                PartyKey::new(key_for("mairie-2").verifying_key(), at),
            )
            .add_representation(Representation {
                representative: s.franceconnect,
                subject: s.child,
                kind: RepresentationKind::Mandate,
                valid_from: at,
                valid_until: Some(at.plus_secs(60)),
            })
            .to_payload_bytes();
        let denial = LogEntry::Denial(
            Denial::new(
                Digest::of(b"request"),
                None,
                None,
                ["malformed"],
                Timestamp(7),
            )
            .expect("denial"),
        )
        .to_bytes();
        let (receipt, _) = s.transfer_and_log();
        let receipt = payload(receipt.bytes());
        let head = payload(&s.sign_head());
        vec![
            ("grant", payload(&grant), signed::<Grant>),
            ("chain grant", chain.to_payload_bytes(), signed::<Grant>),
            ("habilitation", habilitation, signed::<Habilitation>),
            ("statement", payload(&statement), signed::<Statement>),
            ("request", request, signed::<Request>),
            ("receipt", receipt, signed::<Receipt>),
            ("tree head", head, signed::<TreeHead>),
            ("denial", denial, |b| outcome(LogEntry::from_bytes(b))),
            ("directory", directory, |b| outcome(Directory::from_cbor(b))),
            ("directory update", update, |b| {
                outcome(DirectoryUpdate::from_payload_bytes(b))
            }),
        ]
    }

    thread_local! {
        static TEMPLATES: Vec<(&'static str, Vec<u8>, Decode)> = templates();
    }

    /// The `n`-th map of `v` in pre-order (wrapping), if it has any.
    fn nth_map<'v>(v: &'v mut Value, n: &mut usize) -> Option<&'v mut Vec<(Value, Value)>> {
        match v {
            Value::Map(entries) => {
                if *n == 0 {
                    return Some(entries);
                }
                *n -= 1;
                entries.iter_mut().find_map(|(_, v)| nth_map(v, n))
            }
            Value::Array(items) => items.iter_mut().find_map(|v| nth_map(v, n)),
            Value::Tag(_, v) => nth_map(v, n),
            _ => None,
        }
    }

    fn count_maps(v: &Value) -> usize {
        match v {
            Value::Map(entries) => 1 + entries.iter().map(|(_, v)| count_maps(v)).sum::<usize>(),
            Value::Array(items) => items.iter().map(count_maps).sum(),
            Value::Tag(_, v) => count_maps(v),
            _ => 0,
        }
    }

    /// One edit of a map somewhere in `v` (entries swapped, repeated, dropped, a key changed
    /// or of another type, a value changed), as `(how, a, b)` say.
    fn edit_value(v: &mut Value, (how, a, b): (u8, u64, u64)) {
        let maps = count_maps(v);
        let mut n = usize::try_from(a).unwrap_or(0) % maps.max(1);
        let Some(entries) = nth_map(v, &mut n) else {
            return;
        };
        if entries.is_empty() {
            entries.push((Value::Unsigned(b % 4), Value::Unsigned(0)));
            return;
        }
        let len = entries.len();
        let i = usize::try_from(b).unwrap_or(0) % len;
        let j = usize::try_from(b >> 16).unwrap_or(0) % len;
        match how % 6 {
            0 => entries.swap(i, j),
            1 => entries.insert(j, entries[i].clone()),
            2 => {
                entries.remove(i);
            }
            3 => entries[i].0 = Value::Unsigned((b >> 32) % 20),
            4 => {
                entries[i].0 = [Value::Text("a".into()), Value::Negative(0), Value::Null]
                    [usize::try_from(b >> 32).unwrap_or(0) % 3]
                    .clone();
            }
            _ => crate::fuzzing::change_one(&mut entries[i].1, b.rotate_left(7)),
        }
    }

    /// One edit of the bytes: a bit flipped, a byte set, inserted or deleted.
    fn edit_bytes(bytes: &mut Vec<u8>, (how, a, b): (u8, u64, u64)) {
        if bytes.is_empty() {
            return;
        }
        let at = usize::try_from(a).unwrap_or(0) % bytes.len();
        let byte = b.to_le_bytes()[0];
        match how % 4 {
            0 => bytes[at] ^= 1 << (byte % 8),
            1 => bytes[at] = byte,
            2 => bytes.insert(at, byte),
            _ => {
                bytes.remove(at);
            }
        }
    }

    type Edit = (u8, u64, u64);

    fn mutated(template: &[u8], values: &[Edit], raw: &[Edit]) -> Vec<u8> {
        let mut bytes = match Value::decode(template, Limits::DIRECTORY) {
            Ok(mut v) => {
                for e in values {
                    edit_value(&mut v, *e);
                }
                v.encode()
            }
            Err(e) => unreachable!("a template is valid CBOR: {e}"),
        };
        for e in raw {
            edit_bytes(&mut bytes, *e);
        }
        bytes
    }

    /// Every template decodes, and the same under the reference.
    #[test]
    fn the_templates_decode() {
        TEMPLATES.with(|t| {
            for (name, bytes, decode) in t {
                assert_eq!(decode(bytes), "accepted", "{name}");
                assert_eq!(with_eager_scan(|| decode(bytes)), "accepted", "{name}");
            }
        });
    }

    /// The lazy reader refuses every mutated payload with exactly the error of the former
    /// order (the whole map scanned first), and accepts exactly what it accepted. The share of
    /// cases where the lazy reader's scan found the fault it reported (so that the property
    /// tested the order, not only the fields) is printed and must be substantial.
    #[test]
    fn the_lazy_scan_reports_the_error_of_the_eager_one() {
        const CASES: u32 = 3000;
        let counts = Cell::new([0u32; 4]);
        let edits = || prop::collection::vec((any::<u8>(), any::<u64>(), any::<u64>()), 0..3);
        let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
            cases: CASES,
            failure_persistence: None,
            ..ProptestConfig::default()
        });
        runner
            .run(&(0usize..10, edits(), edits()), |(which, values, raw)| {
                TEMPLATES.with(|t| {
                    let (name, template, decode) = &t[which % t.len()];
                    let bytes = mutated(template, &values, &raw);
                    let before = scans();
                    let lazy = decode(&bytes);
                    let after = scans();
                    let eager = with_eager_scan(|| decode(&bytes));
                    let mut c = counts.get();
                    c[0] += 1;
                    c[1] += u32::from(lazy != "accepted");
                    c[2] += u32::from(after[1] > before[1]);
                    c[3] += u32::from(after[2] > before[2]);
                    counts.set(c);
                    prop_assert_eq!(&lazy, &eager, "{} mutated: {:02x?}", name, bytes);
                    Ok(())
                })
            })
            .unwrap();
        let [total, refused, structural, reordered] = counts.get();
        let share = |n: u32| f64::from(n) * 100.0 / f64::from(total);
        eprintln!(
            "lazy scan: {total} cases, {refused} refused ({:.1} %); the reader's scan found a \
             structural fault in {structural} ({:.1} %), which replaced another error it was \
             about to report in {reordered} ({:.1} %)",
            share(refused),
            share(structural),
            share(reordered),
        );
        assert!(structural * 5 >= total, "too few structural faults reached");
        assert!(
            reordered * 10 >= total,
            "too few faults reported out of reading order"
        );
        assert!(
            (refused - structural) * 20 >= total,
            "too few field errors reached"
        );
    }

    /// A party's roles out of order are refused while its reader is alive, by the directory's
    /// own code rather than through the reader: a fault of the party map's structure further
    /// on (keys out of order) must still be what is reported, as when the map was scanned
    /// first. The rule restated: a map's structural fault comes before any error of its fields.
    #[test]
    fn a_nested_map_left_by_another_error_still_reports_its_structure_first() {
        let s = Scenario::canteen();
        let directory = |unsorted_roles: bool, unsorted_keys: bool| {
            let Ok(Value::Map(mut top)) = Value::decode(&s.directory.to_cbor(), Limits::DIRECTORY)
            else {
                unreachable!("a directory is a map")
            };
            let Value::Array(parties) = &mut top[1].1 else {
                unreachable!("key 1: the parties")
            };
            let Value::Map(party) = &mut parties[0] else {
                unreachable!("a party is a map")
            };
            assert_eq!(party.len(), 4, "a party without a legal person");
            assert_eq!(party[2].0, Value::Unsigned(labels::party::ROLES));
            assert_eq!(party[3].0, Value::Unsigned(labels::party::KEYS));
            if unsorted_roles {
                party[2].1 = Value::Array(vec![Value::Unsigned(1), Value::Unsigned(0)]);
            }
            if unsorted_keys {
                // A legal person (whose value is never read) before the keys.
                let legal_person = Value::Unsigned(labels::party::LEGAL_PERSON);
                party.insert(3, (legal_person, Value::Null));
            }
            let bytes = Value::Map(top).encode();
            let error = format!("{:?}", Directory::from_cbor(&bytes).err());
            let reference = with_eager_scan(|| format!("{:?}", Directory::from_cbor(&bytes).err()));
            assert_eq!(error, reference);
            error
        };
        let both = directory(true, true);
        assert!(both.contains("out of order"), "{both}");
        assert!(directory(false, true).contains("out of order"));
        assert!(directory(true, false).contains("roles must be sorted"));
        assert_eq!(directory(false, false), "None");
    }

    /// The outermost reader cannot report a fault its drop finds: debug builds assert that no
    /// error leaves it any other way than through it.
    #[cfg(debug_assertions)]
    #[test]
    #[should_panic(expected = "without passing through it")]
    fn an_error_leaving_the_outermost_reader_around_it_is_a_bug() {
        let bytes = [0xa2, 0x00, 0x02, 0x00, 0x02]; // {0: 2, 0: 2}
        let read = |d: &mut Decoder<'_>| -> Result<(), DecodeError> {
            let mut m = d.map_reader("object")?;
            let version = m.required(0, "version", Decoder::uint)?;
            if version != 1 {
                return Err(DecodeError::InvalidValue {
                    field: "version",
                    reason: "not 1",
                });
            }
            m.finish()
        };
        let mut d = Decoder::new(&bytes, Limits::OBJECT).unwrap();
        let _ = read(&mut d);
    }
}
