//! Byte-level helpers shared by every record body: a bounds-checked
//! [`Reader`] and the matching `put_*` writers.
//!
//! All integers are little-endian. Strings and byte strings are a `u32`
//! length followed by that many bytes. Collections are a `u32` count
//! followed by the elements; the count is checked against the bytes that
//! remain before any element is read, and nothing is pre-allocated from a
//! count, so a decoder never allocates more than its input holds.

use thiserror::Error;

/// What was wrong with a record body (the bytes inside a frame).
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum BodyError {
    /// The body ended in the middle of a field.
    #[error("body truncated while reading {what}: needed {needed} more byte(s), {remaining} left")]
    Truncated {
        /// The field being read.
        what: &'static str,
        /// Bytes the field needs.
        needed: usize,
        /// Bytes that were left.
        remaining: usize,
    },
    /// A tag byte that names no known variant.
    #[error("invalid {what} tag {tag}: expected one of {expected}")]
    InvalidTag {
        /// The field whose tag was read.
        what: &'static str,
        /// The tag found.
        tag: u8,
        /// The tags that are valid here.
        expected: &'static str,
    },
    /// A string field that is not UTF-8.
    #[error("{what} is not valid UTF-8")]
    InvalidUtf8 {
        /// The field.
        what: &'static str,
    },
    /// A collection count larger than the bytes that remain could hold.
    #[error("{what} count {count} exceeds what the {remaining} remaining byte(s) can hold")]
    CountTooLarge {
        /// The collection.
        what: &'static str,
        /// The count found.
        count: u32,
        /// Bytes that were left.
        remaining: usize,
    },
    /// The body had bytes left over after the last field.
    #[error("{count} unexpected trailing byte(s) after the body: expected the body to end")]
    TrailingBytes {
        /// Number of bytes left over.
        count: usize,
    },
    /// A field that decoded but breaks a rule of the format.
    #[error("invalid {what}: {reason}")]
    Invalid {
        /// The field.
        what: &'static str,
        /// The rule that was broken.
        reason: &'static str,
    },
}

/// A cursor over a body that never reads past its end.
#[derive(Clone, Debug)]
pub struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    /// A reader over `bytes`.
    pub fn new(bytes: &'a [u8]) -> Reader<'a> {
        Reader { rest: bytes }
    }

    /// Bytes not yet read.
    pub fn remaining(&self) -> usize {
        self.rest.len()
    }

    /// Takes exactly `n` bytes, or fails without consuming anything.
    pub fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], BodyError> {
        if n > self.rest.len() {
            return Err(BodyError::Truncated {
                what,
                needed: n,
                remaining: self.rest.len(),
            });
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }

    fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], BodyError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N, what)?);
        Ok(out)
    }

    /// Reads one byte.
    pub fn u8(&mut self, what: &'static str) -> Result<u8, BodyError> {
        Ok(self.array::<1>(what)?[0])
    }

    /// Reads a little-endian `u32`.
    pub fn u32(&mut self, what: &'static str) -> Result<u32, BodyError> {
        Ok(u32::from_le_bytes(self.array(what)?))
    }

    /// Reads a little-endian `u64`.
    pub fn u64(&mut self, what: &'static str) -> Result<u64, BodyError> {
        Ok(u64::from_le_bytes(self.array(what)?))
    }

    /// Reads a little-endian `i64`.
    pub fn i64(&mut self, what: &'static str) -> Result<i64, BodyError> {
        Ok(i64::from_le_bytes(self.array(what)?))
    }

    /// Reads a `bool` encoded as 0 or 1.
    pub fn bool(&mut self, what: &'static str) -> Result<bool, BodyError> {
        match self.u8(what)? {
            0 => Ok(false),
            1 => Ok(true),
            tag => Err(BodyError::InvalidTag {
                what,
                tag,
                expected: "0 (false) or 1 (true)",
            }),
        }
    }

    /// Reads a length-prefixed byte string.
    pub fn bytes(&mut self, what: &'static str) -> Result<&'a [u8], BodyError> {
        let len = self.u32(what)?;
        let len = usize::try_from(len).unwrap_or(usize::MAX);
        self.take(len, what)
    }

    /// Reads a length-prefixed UTF-8 string.
    pub fn string(&mut self, what: &'static str) -> Result<String, BodyError> {
        let raw = self.bytes(what)?;
        std::str::from_utf8(raw)
            .map(str::to_owned)
            .map_err(|_| BodyError::InvalidUtf8 { what })
    }

    /// Reads a collection count and checks that the remaining bytes could
    /// hold that many elements of at least `min_element_len` bytes each.
    pub fn count(&mut self, what: &'static str, min_element_len: usize) -> Result<u32, BodyError> {
        let count = self.u32(what)?;
        let needed = usize::try_from(count)
            .unwrap_or(usize::MAX)
            .saturating_mul(min_element_len.max(1));
        if needed > self.rest.len() {
            return Err(BodyError::CountTooLarge {
                what,
                count,
                remaining: self.rest.len(),
            });
        }
        Ok(count)
    }

    /// Fails unless every byte has been read.
    pub fn finish(self) -> Result<(), BodyError> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(BodyError::TrailingBytes {
                count: self.rest.len(),
            })
        }
    }
}

/// Appends one byte.
pub fn put_u8(out: &mut Vec<u8>, v: u8) {
    out.push(v);
}

/// Appends a little-endian `u32`.
pub fn put_u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

/// Appends a little-endian `u64`.
pub fn put_u64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(&v.to_le_bytes());
}

/// Appends a little-endian `i64`.
pub fn put_i64(out: &mut Vec<u8>, v: i64) {
    out.extend_from_slice(&v.to_le_bytes());
}

/// Appends a `bool` as 0 or 1.
pub fn put_bool(out: &mut Vec<u8>, v: bool) {
    out.push(u8::from(v));
}

/// Appends a collection count. Counts above `u32::MAX` cannot be encoded;
/// they are clamped, and the decoder then reports the mismatch.
pub fn put_count(out: &mut Vec<u8>, n: usize) {
    put_u32(out, u32::try_from(n).unwrap_or(u32::MAX));
}

/// Appends a length-prefixed byte string.
pub fn put_bytes(out: &mut Vec<u8>, v: &[u8]) {
    put_count(out, v.len());
    out.extend_from_slice(v);
}

/// Appends a length-prefixed UTF-8 string.
pub fn put_str(out: &mut Vec<u8>, v: &str) {
    put_bytes(out, v.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reader_reports_truncation_without_consuming() {
        let mut r = Reader::new(&[1, 2, 3]);
        assert!(matches!(
            r.u32("field"),
            Err(BodyError::Truncated {
                needed: 4,
                remaining: 3,
                ..
            })
        ));
        assert_eq!(r.remaining(), 3);
        assert_eq!(r.u8("field"), Ok(1));
    }

    #[test]
    fn huge_counts_are_refused_before_any_allocation() {
        let mut bytes = Vec::new();
        put_u32(&mut bytes, u32::MAX);
        let mut r = Reader::new(&bytes);
        assert!(matches!(
            r.count("rows", 1),
            Err(BodyError::CountTooLarge { .. })
        ));
        let mut r = Reader::new(&bytes);
        assert!(matches!(r.bytes("blob"), Err(BodyError::Truncated { .. })));
    }

    #[test]
    fn strings_round_trip_and_reject_invalid_utf8() {
        let mut out = Vec::new();
        put_str(&mut out, "héllo");
        let mut r = Reader::new(&out);
        assert_eq!(r.string("s").as_deref(), Ok("héllo"));
        assert_eq!(r.finish(), Ok(()));
        let bad = [1, 0, 0, 0, 0xff];
        assert_eq!(
            Reader::new(&bad).string("s"),
            Err(BodyError::InvalidUtf8 { what: "s" })
        );
    }
}
