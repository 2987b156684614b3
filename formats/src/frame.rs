//! The record envelope shared by all four log formats, and streaming
//! decoding of a log segment.
//!
//! ```text
//! offset  size  field
//! 0       4     magic  b"SFLR"
//! 4       1     format version (of the payload format named by `kind`)
//! 5       1     record kind     (which log format the body belongs to)
//! 6       4     body length     (u32, little-endian)
//! 10      4     CRC32C          (u32, little-endian) over bytes 4..10 and the body
//! 14      n     body
//! ```
//!
//! The checksum covers the version, kind and length as well as the body, so
//! a flipped bit anywhere in a record is detected: in the magic as
//! [`FrameError::BadMagic`], elsewhere as an unknown kind or version, a
//! length over the limit, a truncated body or a checksum mismatch.

use thiserror::Error;

/// The four bytes every record starts with.
pub const MAGIC: [u8; 4] = *b"SFLR";

/// Bytes in the envelope before the body.
pub const HEADER_LEN: usize = 14;

/// The largest body accepted by default (16 MiB).
pub const DEFAULT_MAX_BODY_LEN: u32 = 16 * 1024 * 1024;

/// Which log format a record's body belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum RecordKind {
    /// A statement with its fixed nondeterministic values.
    Statement,
    /// Page images of the reference store (WAL shipping).
    Physical,
    /// A row-level change event (CDC).
    Logical,
    /// A change-table row written by a trigger.
    Trigger,
}

impl RecordKind {
    /// The byte that stands for this kind in the envelope.
    pub fn code(self) -> u8 {
        match self {
            RecordKind::Statement => 1,
            RecordKind::Physical => 2,
            RecordKind::Logical => 3,
            RecordKind::Trigger => 4,
        }
    }

    /// The kind a byte stands for, if any.
    pub fn from_code(code: u8) -> Option<RecordKind> {
        match code {
            1 => Some(RecordKind::Statement),
            2 => Some(RecordKind::Physical),
            3 => Some(RecordKind::Logical),
            4 => Some(RecordKind::Trigger),
            _ => None,
        }
    }

    /// The payload format versions a decoder of this build understands.
    pub fn supported_versions(self) -> std::ops::RangeInclusive<u8> {
        match self {
            RecordKind::Logical => 1..=2,
            RecordKind::Statement | RecordKind::Physical | RecordKind::Trigger => 1..=1,
        }
    }
}

/// One decoded record: its kind, payload format version and body.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Frame {
    /// Which log format the body belongs to.
    pub kind: RecordKind,
    /// The version of that format the body is written in.
    pub version: u8,
    /// The payload.
    pub body: Vec<u8>,
}

/// Limits applied while decoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameConfig {
    /// Bodies longer than this are refused before they are buffered.
    pub max_body_len: u32,
}

impl Default for FrameConfig {
    fn default() -> Self {
        FrameConfig {
            max_body_len: DEFAULT_MAX_BODY_LEN,
        }
    }
}

/// Why bytes are not a valid record.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum FrameError {
    /// The first four bytes are not [`MAGIC`].
    #[error("bad magic {found:02x?}: expected {MAGIC:02x?} (b\"SFLR\") at the start of a record")]
    BadMagic {
        /// The bytes found instead.
        found: [u8; 4],
    },
    /// The kind byte names no known log format.
    #[error("unknown record kind {code}: expected 1 (statement), 2 (physical), 3 (logical) or 4 (trigger)")]
    UnknownKind {
        /// The kind byte found.
        code: u8,
    },
    /// The format version is not one this build can read.
    #[error("unknown {kind:?} format version {version}: this build reads versions {min}..={max}")]
    UnknownVersion {
        /// The record kind.
        kind: RecordKind,
        /// The version found.
        version: u8,
        /// Oldest version understood.
        min: u8,
        /// Newest version understood.
        max: u8,
    },
    /// The declared body length is above the configured limit.
    #[error("body length {length} is over the limit of {limit} bytes")]
    LengthOverLimit {
        /// The declared length.
        length: u32,
        /// The configured limit.
        limit: u32,
    },
    /// The stored checksum does not match the record's bytes.
    #[error("checksum mismatch: record says {stored:#010x}, bytes hash to {computed:#010x}")]
    ChecksumMismatch {
        /// The CRC32C stored in the header.
        stored: u32,
        /// The CRC32C of the bytes actually present.
        computed: u32,
    },
    /// The input ended inside the header.
    #[error("truncated header: {available} of {HEADER_LEN} header bytes present")]
    TruncatedHeader {
        /// Header bytes present.
        available: usize,
    },
    /// The input ended inside the body.
    #[error("truncated body: header declares {declared} body bytes, {available} present")]
    TruncatedBody {
        /// The declared body length.
        declared: u32,
        /// Body bytes present.
        available: usize,
    },
    /// Bytes follow a record that was expected to be alone.
    #[error("{count} trailing byte(s) after the record: expected exactly one record")]
    TrailingBytes {
        /// Bytes after the record.
        count: usize,
    },
}

/// The result of trying to decode one record from the front of a buffer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decoded {
    /// A whole, valid record, and how many input bytes it used.
    Record {
        /// The record.
        frame: Frame,
        /// Bytes consumed from the front of the input.
        consumed: usize,
    },
    /// The input is a valid prefix of a record; at least `needed` bytes in
    /// total are required before it can be decoded.
    NeedMore {
        /// Total input length required to make progress.
        needed: usize,
    },
}

fn checksum(header_fields: &[u8], body: &[u8]) -> u32 {
    crc32c::crc32c_append(crc32c::crc32c(header_fields), body)
}

impl Frame {
    /// A frame of `kind` in payload format `version`.
    pub fn new(kind: RecordKind, version: u8, body: Vec<u8>) -> Frame {
        Frame {
            kind,
            version,
            body,
        }
    }

    /// The record's bytes: header then body.
    ///
    /// Bodies longer than `u32::MAX` bytes cannot be framed; their length
    /// field is clamped, and any decoder then refuses the record.
    pub fn encode(&self) -> Vec<u8> {
        let length = u32::try_from(self.body.len()).unwrap_or(u32::MAX);
        let mut fields = [0u8; 6];
        fields[0] = self.version;
        fields[1] = self.kind.code();
        fields[2..].copy_from_slice(&length.to_le_bytes());
        let crc = checksum(&fields, &self.body);
        let mut out = Vec::with_capacity(HEADER_LEN + self.body.len());
        out.extend_from_slice(&MAGIC);
        out.extend_from_slice(&fields);
        out.extend_from_slice(&crc.to_le_bytes());
        out.extend_from_slice(&self.body);
        out
    }
}

/// Decodes the record at the front of `input`, or says how many bytes are
/// still needed. Never panics and never buffers a body over the limit.
pub fn decode_frame(input: &[u8], config: &FrameConfig) -> Result<Decoded, FrameError> {
    let Some((header, rest)) = input.split_first_chunk::<HEADER_LEN>() else {
        if let Some(found) = input.first_chunk::<4>() {
            if *found != MAGIC {
                return Err(FrameError::BadMagic { found: *found });
            }
        }
        return Ok(Decoded::NeedMore { needed: HEADER_LEN });
    };
    let [m0, m1, m2, m3, version, kind_code, l0, l1, l2, l3, c0, c1, c2, c3] = *header;
    let found = [m0, m1, m2, m3];
    if found != MAGIC {
        return Err(FrameError::BadMagic { found });
    }
    let kind =
        RecordKind::from_code(kind_code).ok_or(FrameError::UnknownKind { code: kind_code })?;
    let supported = kind.supported_versions();
    if !supported.contains(&version) {
        return Err(FrameError::UnknownVersion {
            kind,
            version,
            min: *supported.start(),
            max: *supported.end(),
        });
    }
    let length = u32::from_le_bytes([l0, l1, l2, l3]);
    if length > config.max_body_len {
        return Err(FrameError::LengthOverLimit {
            length,
            limit: config.max_body_len,
        });
    }
    let body_len = usize::try_from(length).unwrap_or(usize::MAX);
    let Some(body) = rest.get(..body_len) else {
        return Ok(Decoded::NeedMore {
            needed: HEADER_LEN.saturating_add(body_len),
        });
    };
    let stored = u32::from_le_bytes([c0, c1, c2, c3]);
    let computed = checksum(&[version, kind_code, l0, l1, l2, l3], body);
    if stored != computed {
        return Err(FrameError::ChecksumMismatch { stored, computed });
    }
    Ok(Decoded::Record {
        frame: Frame::new(kind, version, body.to_vec()),
        consumed: HEADER_LEN + body_len,
    })
}

/// Decodes `input` as exactly one record, with the default limits.
/// A short input is an error ([`FrameError::TruncatedHeader`] or
/// [`FrameError::TruncatedBody`]), and so are bytes after the record.
pub fn decode(input: &[u8]) -> Result<Frame, FrameError> {
    decode_with(input, &FrameConfig::default())
}

/// [`decode`] with explicit limits.
pub fn decode_with(input: &[u8], config: &FrameConfig) -> Result<Frame, FrameError> {
    match decode_frame(input, config)? {
        Decoded::Record { frame, consumed } => {
            let count = input.len().saturating_sub(consumed);
            if count > 0 {
                return Err(FrameError::TrailingBytes { count });
            }
            Ok(frame)
        }
        Decoded::NeedMore { .. } => Err(truncation(input)),
    }
}

/// The error for an input that ended before its record did.
fn truncation(input: &[u8]) -> FrameError {
    match input.get(6..10) {
        Some([a, b, c, d]) if input.len() >= HEADER_LEN => FrameError::TruncatedBody {
            declared: u32::from_le_bytes([*a, *b, *c, *d]),
            available: input.len() - HEADER_LEN,
        },
        _ => FrameError::TruncatedHeader {
            available: input.len(),
        },
    }
}

/// How a log segment ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SegmentEnd {
    /// Every byte belonged to a valid record.
    Clean,
    /// The segment ends with a partial record starting at `offset`
    /// (a torn write, or a segment still being written).
    Truncated {
        /// Offset of the partial record.
        offset: usize,
        /// What was missing.
        error: FrameError,
    },
    /// The record starting at `offset` is corrupt; nothing after it was read.
    Corrupt {
        /// Offset of the first bad record: the first byte that cannot be trusted.
        offset: usize,
        /// Why it was refused.
        error: FrameError,
    },
}

/// The records of a log segment, and how the segment ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Segment {
    /// The valid records, in order, with the offset each started at.
    pub records: Vec<(usize, Frame)>,
    /// Whether the bytes after the last valid record are clean, torn or corrupt.
    pub end: SegmentEnd,
}

impl Segment {
    /// Length of the valid prefix: where a recovering reader would truncate.
    pub fn valid_len(&self, total_len: usize) -> usize {
        match &self.end {
            SegmentEnd::Clean => total_len,
            SegmentEnd::Truncated { offset, .. } | SegmentEnd::Corrupt { offset, .. } => *offset,
        }
    }
}

/// Decodes a stream of back-to-back records. Stops at the first bad or
/// partial record and reports where it starts; a damaged tail is never
/// silently dropped.
pub fn decode_segment(bytes: &[u8], config: &FrameConfig) -> Segment {
    let mut records = Vec::new();
    let mut offset = 0usize;
    while let Some(rest) = bytes.get(offset..).filter(|rest| !rest.is_empty()) {
        match decode_frame(rest, config) {
            Ok(Decoded::Record { frame, consumed }) => {
                records.push((offset, frame));
                offset = offset.saturating_add(consumed);
            }
            Ok(Decoded::NeedMore { .. }) => {
                return Segment {
                    records,
                    end: SegmentEnd::Truncated {
                        offset,
                        error: truncation(rest),
                    },
                };
            }
            Err(error) => {
                return Segment {
                    records,
                    end: SegmentEnd::Corrupt { offset, error },
                };
            }
        }
    }
    Segment {
        records,
        end: SegmentEnd::Clean,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn kind() -> impl Strategy<Value = RecordKind> {
        prop_oneof![
            Just(RecordKind::Statement),
            Just(RecordKind::Physical),
            Just(RecordKind::Logical),
            Just(RecordKind::Trigger),
        ]
    }

    fn frame() -> impl Strategy<Value = Frame> {
        (kind(), proptest::collection::vec(any::<u8>(), 0..64))
            .prop_map(|(kind, body)| Frame::new(kind, *kind.supported_versions().end(), body))
    }

    proptest! {
        #[test]
        fn frames_round_trip(f in frame()) {
            prop_assert_eq!(decode(&f.encode()), Ok(f));
        }

        #[test]
        fn every_flipped_bit_is_detected(f in frame(), bit in any::<prop::sample::Index>()) {
            let mut bytes = f.encode();
            let at = bit.index(bytes.len() * 8);
            bytes[at / 8] ^= 1 << (at % 8);
            prop_assert!(decode(&bytes).is_err(), "flip of bit {} went unnoticed", at);
        }

        #[test]
        fn every_truncation_is_reported(f in frame(), cut in any::<prop::sample::Index>()) {
            let bytes = f.encode();
            let len = cut.index(bytes.len());
            let err = decode(&bytes[..len]).unwrap_err();
            prop_assert!(matches!(err, FrameError::TruncatedHeader { .. } | FrameError::TruncatedBody { .. }), "{err}");
            let partial = decode_frame(&bytes[..len], &FrameConfig::default());
            prop_assert!(matches!(partial, Ok(Decoded::NeedMore { .. })), "{:?}", partial);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..128)) {
            let _ = decode(&bytes);
            let seg = decode_segment(&bytes, &FrameConfig::default());
            prop_assert!(seg.valid_len(bytes.len()) <= bytes.len());
        }

        #[test]
        fn a_segment_reports_the_first_corrupt_record(frames in proptest::collection::vec(frame(), 1..6), pick in any::<prop::sample::Index>(), bit in 0usize..8) {
            let encoded: Vec<Vec<u8>> = frames.iter().map(Frame::encode).collect();
            let victim = pick.index(frames.len());
            let mut stream = Vec::new();
            let mut victim_offset = 0;
            for (i, e) in encoded.iter().enumerate() {
                if i == victim { victim_offset = stream.len(); }
                stream.extend_from_slice(e);
            }
            // Flip a bit in the victim's checksum-covered body or header fields.
            stream[victim_offset + 4 + bit % 6] ^= 1 << bit;
            let seg = decode_segment(&stream, &FrameConfig::default());
            prop_assert_eq!(seg.records.len(), victim);
            prop_assert_eq!(seg.valid_len(stream.len()), victim_offset);
            prop_assert!(!matches!(seg.end, SegmentEnd::Clean));
        }
    }

    #[test]
    fn a_clean_segment_decodes_every_record() {
        let a = Frame::new(RecordKind::Statement, 1, b"one".to_vec());
        let b = Frame::new(RecordKind::Trigger, 1, Vec::new());
        let mut stream = a.encode();
        stream.extend(b.encode());
        let seg = decode_segment(&stream, &FrameConfig::default());
        assert_eq!(seg.end, SegmentEnd::Clean);
        assert_eq!(seg.records, vec![(0, a), (HEADER_LEN + 3, b)]);
    }

    #[test]
    fn a_torn_tail_is_reported_as_truncated() {
        let a = Frame::new(RecordKind::Physical, 1, vec![7; 10]);
        let mut stream = a.encode();
        stream.extend_from_slice(&a.encode()[..HEADER_LEN + 4]);
        let seg = decode_segment(&stream, &FrameConfig::default());
        assert_eq!(seg.records.len(), 1);
        assert_eq!(
            seg.end,
            SegmentEnd::Truncated {
                offset: HEADER_LEN + 10,
                error: FrameError::TruncatedBody {
                    declared: 10,
                    available: 4
                }
            }
        );
    }

    #[test]
    fn oversized_lengths_are_refused_before_the_body_arrives() {
        let big = Frame::new(RecordKind::Logical, 2, vec![0; 100]).encode();
        let config = FrameConfig { max_body_len: 99 };
        assert_eq!(
            decode_frame(&big[..HEADER_LEN], &config),
            Err(FrameError::LengthOverLimit {
                length: 100,
                limit: 99
            })
        );
    }

    #[test]
    fn errors_say_what_was_expected() {
        let mut bytes = Frame::new(RecordKind::Statement, 1, vec![]).encode();
        bytes[4] = 9;
        let err = decode(&bytes).unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown Statement format version 9: this build reads versions 1..=1"
        );
        assert!(matches!(
            decode(b"XXXXYYYYYYYYYYYY"),
            Err(FrameError::BadMagic { .. })
        ));
    }
}
