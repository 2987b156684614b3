//! One segment file of the write-ahead log.
//!
//! A segment is named after the lsn of its first entry
//! (`00000000000000000042.wal`) and starts with a header:
//!
//! ```text
//! offset  size  field
//! 0       4     magic b"SFWL"
//! 4       4     version (1, little-endian)
//! 8       8     lsn of the first entry (little-endian)
//! 16      4     CRC32C over bytes 0..16
//! 20            records (see `record.rs`), one entry each, consecutive lsns
//! ```

use super::record::{le_u32, le_u64, scan, Scanned};
use super::StorageError;
use std::fs::File;
use std::path::{Path, PathBuf};
use steadfast::{Entry, Lsn};

const MAGIC: &[u8; 4] = b"SFWL";
const VERSION: u32 = 1;
/// Bytes of a segment's header.
pub(crate) const HEADER: usize = 20;
/// Segment files end in this.
pub(crate) const SUFFIX: &str = ".wal";

/// The file name of the segment whose first entry is `first`.
pub(crate) fn file_name(first: Lsn) -> String {
    format!("{:020}{SUFFIX}", first.0)
}

/// The first lsn a segment file name stands for.
pub(crate) fn first_lsn_of(name: &str) -> Option<Lsn> {
    let digits = name.strip_suffix(SUFFIX)?;
    (digits.len() == 20 && digits.bytes().all(|b| b.is_ascii_digit()))
        .then(|| digits.parse().ok().map(Lsn))
        .flatten()
}

/// A new segment's header.
pub(crate) fn header(first: Lsn) -> [u8; HEADER] {
    let mut header = [0; HEADER];
    header[..4].copy_from_slice(MAGIC);
    header[4..8].copy_from_slice(&VERSION.to_le_bytes());
    header[8..16].copy_from_slice(&first.0.to_le_bytes());
    let crc = crc32c::crc32c(&header[..16]);
    header[16..].copy_from_slice(&crc.to_le_bytes());
    header
}

/// A segment of the log as held in memory: where its records start.
#[derive(Debug)]
pub(crate) struct Segment {
    /// Its file.
    pub(crate) path: PathBuf,
    /// The lsn of its first entry.
    pub(crate) first: Lsn,
    /// The byte offset of each record, in lsn order from `first`.
    pub(crate) offsets: Vec<u64>,
    /// The file's length in bytes (the end of its last whole record).
    pub(crate) len: u64,
}

impl Segment {
    /// The lsn of its last entry, if it holds any.
    pub(crate) fn last(&self) -> Option<Lsn> {
        let count = u64::try_from(self.offsets.len()).ok()?;
        count
            .checked_sub(1)
            .map(|n| Lsn(self.first.0.saturating_add(n)))
    }
}

/// How a segment file read back.
#[derive(Debug)]
pub(crate) struct ReadSegment {
    /// The segment (its records up to any torn tail).
    pub(crate) segment: Segment,
    /// Its entries.
    pub(crate) entries: Vec<Entry>,
    /// Where a torn tail starts, if the file has one (its length otherwise).
    pub(crate) torn_at: Option<u64>,
}

/// Read the segment file `dir/name`, named for `first`. A damaged header
/// or record is corruption, except at the very end of the file, which a
/// crash may have cut short (reported in `torn_at`; only the caller knows
/// whether this is the log's last segment, where that is allowed).
pub(crate) fn read(dir: &Path, name: &str, first: Lsn) -> Result<ReadSegment, StorageError> {
    let path = dir.join(name);
    let bytes = std::fs::read(&path).map_err(StorageError::io("read", &path))?;
    let corrupt = |offset: usize, what: String| StorageError::Corrupt {
        path: path.clone(),
        offset: offset as u64,
        what,
    };
    let mut segment = Segment {
        path: path.clone(),
        first,
        offsets: Vec::new(),
        len: HEADER as u64,
    };
    if bytes.len() < HEADER || bytes.iter().all(|&b| b == 0) {
        // Created, but its header never became durable.
        segment.len = 0;
        return Ok(ReadSegment {
            segment,
            entries: Vec::new(),
            torn_at: Some(0),
        });
    }
    if &bytes[..4] != MAGIC {
        return Err(corrupt(0, "not a log segment (bad magic)".into()));
    }
    if le_u32(&bytes, 16) != Some(crc32c::crc32c(&bytes[..16])) {
        return Err(corrupt(0, "segment header checksum mismatch".into()));
    }
    if le_u32(&bytes, 4) != Some(VERSION) {
        return Err(corrupt(
            4,
            format!("unknown segment version {:?}", le_u32(&bytes, 4)),
        ));
    }
    if le_u64(&bytes, 8) != Some(first.0) {
        return Err(corrupt(
            8,
            format!(
                "header says first lsn {:?}, the name {first}",
                le_u64(&bytes, 8)
            ),
        ));
    }
    let mut entries = Vec::new();
    let mut at = HEADER;
    let torn_at = loop {
        match scan(&bytes, at) {
            Scanned::End => break None,
            Scanned::Torn => break Some(at as u64),
            Scanned::Corrupt(what) => return Err(corrupt(at, what)),
            Scanned::Record { body, next } => {
                let entry: Entry = match postcard::from_bytes(body) {
                    Ok(entry) => entry,
                    Err(e) => return Err(corrupt(at, format!("undecodable entry: {e}"))),
                };
                let expected = Lsn(first.0.saturating_add(entries.len() as u64));
                if entry.lsn != expected {
                    return Err(StorageError::Gap {
                        path: path.clone(),
                        previous: expected.prev(),
                        found: entry.lsn,
                        expected,
                    });
                }
                segment.offsets.push(at as u64);
                entries.push(entry);
                at = next;
            }
        }
    };
    segment.len = at as u64;
    Ok(ReadSegment {
        segment,
        entries,
        torn_at,
    })
}

/// Open a segment file for appending.
pub(crate) fn open_for_append(path: &Path) -> Result<File, StorageError> {
    std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(StorageError::io("open for appending", path))
}
