//! One record of a log segment, and how a segment's bytes are read back.
//!
//! ```text
//! offset  size  field
//! 0       4     body length (u32, little-endian)
//! 4       4     CRC32C over the length bytes and the body (u32, little-endian)
//! 8       n     body
//! ```
//!
//! Reading tells a *torn* tail (a write the crash cut short: the damage
//! runs to the end of the file) from *corruption* (damage with intact data
//! after it), because only the first may be cut away: a record that was
//! torn was never reported durable, while a corrupt one may have been.

/// Bytes before a record's body.
pub(crate) const RECORD_HEADER: usize = 8;

/// The largest body a record may have (64 MiB); a longer length field is
/// damage.
pub(crate) const MAX_RECORD_BODY: usize = 64 << 20;

/// Append one record holding `body` to `out`. Bodies are entries, far
/// below [`MAX_RECORD_BODY`]; a longer one is refused by the caller.
pub(crate) fn encode_record(body: &[u8], out: &mut Vec<u8>) {
    let len = u32::try_from(body.len()).unwrap_or(u32::MAX).to_le_bytes();
    let crc = crc32c::crc32c_append(crc32c::crc32c(&len), body);
    out.reserve(RECORD_HEADER + body.len());
    out.extend_from_slice(&len);
    out.extend_from_slice(&crc.to_le_bytes());
    out.extend_from_slice(body);
}

/// What lies at one offset of a segment.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Scanned<'a> {
    /// A whole record; the next one starts at `next`.
    Record {
        /// The record's body.
        body: &'a [u8],
        /// The offset just after it.
        next: usize,
    },
    /// The end of the segment, exactly.
    End,
    /// A record cut short by a crash: everything from here to the end of
    /// the file is an incomplete or unchecked write (or zeros).
    Torn,
    /// Damage with more data after it.
    Corrupt(String),
}

/// How far past a damaged record [`scan`] looks for an intact one (which
/// makes the damage corruption rather than a torn write).
const LOOK_AHEAD: usize = 4096;

/// The block size a disk writes atomically at the least: a torn write
/// leaves whole blocks of zeros where its data never arrived.
const SECTOR: usize = 512;

/// Read the record at `at` of `bytes` (a whole segment file).
///
/// Torn: the damage runs to the end of the file (an incomplete header, a
/// length past the end with no intact record after it, a checksum failure
/// in the last record), or it is a zero-filled region of the kind an
/// incomplete multi-block write leaves (a zero header, or zero sectors in
/// the damaged record). Everything else is corruption: a length over the
/// limit, or damage with an intact record after it.
pub(crate) fn scan(bytes: &[u8], at: usize) -> Scanned<'_> {
    let Some(rest) = bytes.get(at..) else {
        return Scanned::Torn;
    };
    if rest.is_empty() {
        return Scanned::End;
    }
    // A file system may leave a crashed file extended with zeros.
    if rest.iter().all(|&b| b == 0) {
        return Scanned::Torn;
    }
    let (Some(len), Some(crc)) = (le_u32(rest, 0), le_u32(rest, 4)) else {
        return Scanned::Torn;
    };
    if len == 0 && crc == 0 {
        // No record has an empty body: a block that was never written.
        return Scanned::Torn;
    }
    let len = usize::try_from(len).unwrap_or(usize::MAX);
    if len > MAX_RECORD_BODY {
        return Scanned::Corrupt(format!(
            "record length {len} is over the limit of {MAX_RECORD_BODY}"
        ));
    }
    let available = rest.len() - RECORD_HEADER;
    if len > available {
        // The length runs past the end: the write did not finish, unless
        // the length itself was damaged and intact records follow.
        return match intact_record_within(rest, 1) {
            Some(offset) => Scanned::Corrupt(format!(
                "record length {len} runs past the end of the file, but an intact record starts {offset} bytes further on"
            )),
            None => Scanned::Torn,
        };
    }
    let body = &rest[RECORD_HEADER..RECORD_HEADER + len];
    let expected = crc32c::crc32c_append(crc32c::crc32c(&rest[..4]), body);
    if expected != crc {
        let end = at + RECORD_HEADER + len;
        return if len == available || has_zero_sector(bytes, at, end) {
            Scanned::Torn
        } else {
            Scanned::Corrupt(format!(
                "checksum mismatch in a {len}-byte record (stored {crc:#010x}, computed {expected:#010x}) with {} bytes after it",
                available - len
            ))
        };
    }
    Scanned::Record {
        body,
        next: at + RECORD_HEADER + len,
    }
}

/// Whether an intact record (non-empty, within the limit, its checksum
/// right) starts at `at` of `bytes`.
fn intact_record_at(bytes: &[u8], at: usize) -> bool {
    let Some(rest) = bytes.get(at..) else {
        return false;
    };
    let (Some(len), Some(crc)) = (le_u32(rest, 0), le_u32(rest, 4)) else {
        return false;
    };
    let len = usize::try_from(len).unwrap_or(usize::MAX);
    if len == 0 || len > MAX_RECORD_BODY || len > rest.len() - RECORD_HEADER {
        return false;
    }
    let body = &rest[RECORD_HEADER..RECORD_HEADER + len];
    crc32c::crc32c_append(crc32c::crc32c(&rest[..4]), body) == crc
}

/// The first offset from `from` (within [`LOOK_AHEAD`]) where an intact
/// record starts in `bytes`.
fn intact_record_within(bytes: &[u8], from: usize) -> Option<usize> {
    (from..bytes.len().min(from + LOOK_AHEAD)).find(|&offset| intact_record_at(bytes, offset))
}

/// Whether a whole sector-aligned block of zeros lies within
/// `bytes[start..end]`.
fn has_zero_sector(bytes: &[u8], start: usize, end: usize) -> bool {
    let first = start.div_ceil(SECTOR) * SECTOR;
    (first..end)
        .step_by(SECTOR)
        .filter_map(|block| {
            bytes
                .get(block..block + SECTOR)
                .filter(|_| block + SECTOR <= end)
        })
        .any(|block| block.iter().all(|&b| b == 0))
}

/// The little-endian `u32` at `at` of `bytes`, if it is all there.
pub(crate) fn le_u32(bytes: &[u8], at: usize) -> Option<u32> {
    let chunk = bytes.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes(chunk.try_into().ok()?))
}

/// The little-endian `u64` at `at` of `bytes`, if it is all there.
pub(crate) fn le_u64(bytes: &[u8], at: usize) -> Option<u64> {
    let chunk = bytes.get(at..at.checked_add(8)?)?;
    Some(u64::from_le_bytes(chunk.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn two_records() -> Vec<u8> {
        let mut bytes = Vec::new();
        encode_record(b"first", &mut bytes);
        encode_record(b"second record", &mut bytes);
        bytes
    }

    #[test]
    fn records_read_back_in_order() {
        let bytes = two_records();
        let Scanned::Record { body, next } = scan(&bytes, 0) else {
            panic!("no first record");
        };
        assert_eq!(body, b"first");
        let Scanned::Record { body, next } = scan(&bytes, next) else {
            panic!("no second record");
        };
        assert_eq!(body, b"second record");
        assert_eq!(scan(&bytes, next), Scanned::End);
    }

    #[test]
    fn every_cut_of_the_last_record_is_torn() {
        let bytes = two_records();
        let second = RECORD_HEADER + 5;
        for cut in second + 1..bytes.len() {
            assert_eq!(scan(&bytes[..cut], second), Scanned::Torn, "cut at {cut}");
        }
    }

    #[test]
    fn a_flipped_bit_in_the_last_record_is_torn_but_before_more_data_corrupt() {
        let bytes = two_records();
        let second = RECORD_HEADER + 5;
        for at in 0..bytes.len() {
            for bit in 0..8 {
                let mut damaged = bytes.clone();
                damaged[at] ^= 1 << bit;
                let first = scan(&damaged, 0);
                if at < second {
                    // The first record has data after it: never torn
                    // unless its length now runs past the end.
                    match first {
                        Scanned::Corrupt(_) | Scanned::Torn => {}
                        Scanned::Record { .. } | Scanned::End => {
                            panic!("flip at byte {at} bit {bit} went unnoticed")
                        }
                    }
                } else {
                    assert!(matches!(first, Scanned::Record { .. }));
                    assert!(
                        !matches!(scan(&damaged, second), Scanned::Record { .. }),
                        "flip at byte {at} bit {bit} went unnoticed"
                    );
                }
            }
        }
    }

    #[test]
    fn a_zero_filled_tail_is_torn() {
        let mut bytes = two_records();
        let end = bytes.len();
        bytes.extend_from_slice(&[0; 100]);
        assert_eq!(scan(&bytes, end), Scanned::Torn);
    }

    #[test]
    fn a_damaged_length_with_records_after_it_is_corrupt_not_torn() {
        let mut bytes = two_records();
        // The first record's length now runs past the end of the file.
        bytes[3] = 0x01;
        let Scanned::Corrupt(what) = scan(&bytes, 0) else {
            panic!("cut as torn: {:?}", scan(&bytes, 0));
        };
        assert!(what.contains("intact record"), "{what}");
        // Over the limit is corruption whatever follows.
        let mut bytes = two_records();
        bytes[..4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(matches!(scan(&bytes, 0), Scanned::Corrupt(_)));
    }

    #[test]
    fn zeros_an_incomplete_write_left_are_torn_even_before_later_data() {
        // A record of two sectors whose first never reached the disk,
        // followed by one that did.
        let mut bytes = Vec::new();
        encode_record(&[7u8; 2 * SECTOR], &mut bytes);
        encode_record(b"later", &mut bytes);
        for b in &mut bytes[SECTOR..2 * SECTOR] {
            *b = 0;
        }
        assert_eq!(scan(&bytes, 0), Scanned::Torn);
        // And a zero header with data after it.
        let mut bytes = vec![0u8; 8];
        encode_record(b"later", &mut bytes);
        assert_eq!(scan(&bytes, 0), Scanned::Torn);
    }

    #[test]
    fn a_damaged_record_with_data_after_it_is_corrupt() {
        let mut bytes = two_records();
        bytes[RECORD_HEADER] ^= 0xff; // the first body
        assert!(matches!(scan(&bytes, 0), Scanned::Corrupt(_)));
    }
}
