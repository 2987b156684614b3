//! A torn WAL tail: the last segment of a killed node's log ends in a
//! write that was under way when the power went, cut at a random byte.
//!
//! A power loss keeps what was synced and may keep any prefix of what was
//! being written. The server acknowledges nothing before its write is
//! synced, so the torn write holds nothing acknowledged: here it is the
//! segment's final record written again as the next one (a record header
//! and body that look real) and cut strictly inside, so the restarted node
//! must find the incomplete record, cut it and report it. Nothing durable
//! is removed: a fault that removed synced bytes would model a disk that
//! lies about `fsync`, which no replication protocol survives in general
//! (the conformance check of the recorded traces rejects such a run:
//! "restarted through lsn N, but told its log was durable through N+1").
//!
//! The segment layout is the server's (`storage/segment.rs`,
//! `storage/record.rs`): a 20-byte header, then records of a 4-byte
//! little-endian body length, a 4-byte CRC32C and the body.

use rand::Rng;
use std::path::{Path, PathBuf};

/// Bytes of a segment header.
const SEGMENT_HEADER: u64 = 20;
/// Bytes before a record's body.
const RECORD_HEADER: u64 = 8;

/// What was torn.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct TornCut {
    /// The segment file.
    pub segment: PathBuf,
    /// Where its final whole record started.
    pub record_start: u64,
    /// Where it ended: the file's length before the torn write, everything
    /// durable.
    pub record_end: u64,
    /// The file's length after the torn write: strictly inside the record
    /// that was being written, which starts at `record_end`.
    pub cut_at: u64,
}

/// Why the tail could not be torn.
#[derive(Debug, thiserror::Error)]
pub enum TornError {
    /// The WAL could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> TornError {
    let path = path.to_owned();
    move |source| TornError::Io { path, source }
}

/// Where the final whole record of `segment` (the file's bytes) starts and
/// ends, if it has one.
pub fn final_record(segment: &[u8]) -> Option<(u64, u64)> {
    let len = segment.len() as u64;
    let mut at = SEGMENT_HEADER;
    let mut last = None;
    while at + RECORD_HEADER <= len {
        let start = usize::try_from(at).ok()?;
        let bytes: [u8; 4] = segment.get(start..start + 4)?.try_into().ok()?;
        let body = u64::from(u32::from_le_bytes(bytes));
        let end = at + RECORD_HEADER + body;
        if body == 0 || end > len {
            break;
        }
        last = Some((at, end));
        at = end;
    }
    last
}

/// Append to the last segment in `data_dir/wal` a torn copy of its final
/// record, cut at a byte chosen by `rng`. `None` if there is no record to
/// copy (an empty log, or a final record of a single byte).
pub fn tear(data_dir: &Path, rng: &mut impl Rng) -> Result<Option<TornCut>, TornError> {
    let wal = data_dir.join("wal");
    let mut segments: Vec<PathBuf> = std::fs::read_dir(&wal)
        .map_err(io(&wal))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "wal"))
        .collect();
    segments.sort();
    let Some(segment) = segments.pop() else {
        return Ok(None);
    };
    let bytes = std::fs::read(&segment).map_err(io(&segment))?;
    let Some((record_start, record_end)) = final_record(&bytes) else {
        return Ok(None);
    };
    let record_len = record_end - record_start;
    // Strictly inside: at least one byte of the new record written, at
    // least one missing.
    if record_len < 2 {
        return Ok(None);
    }
    let written = rng.random_range(1..record_len);
    let (Ok(from), Ok(to)) = (
        usize::try_from(record_start),
        usize::try_from(record_start + written),
    ) else {
        return Ok(None);
    };
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&segment)
        .map_err(io(&segment))?;
    std::io::Write::write_all(&mut file, &bytes[from..to]).map_err(io(&segment))?;
    file.sync_all().map_err(io(&segment))?;
    let cut_at = record_end + written;
    Ok(Some(TornCut {
        segment,
        record_start,
        record_end,
        cut_at,
    }))
}

/// Whether the node's log file says it cut a torn tail (the server logs
/// it when it opens its data directory).
pub fn reported(log: &Path) -> bool {
    std::fs::read_to_string(log).is_ok_and(|text| text.contains("cut a torn log tail"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    fn record(body: &[u8], out: &mut Vec<u8>) {
        out.extend_from_slice(&(body.len() as u32).to_le_bytes());
        out.extend_from_slice(&[0xAB; 4]);
        out.extend_from_slice(body);
    }

    fn segment(bodies: &[&[u8]]) -> Vec<u8> {
        let mut out = vec![0; SEGMENT_HEADER as usize];
        for body in bodies {
            record(body, &mut out);
        }
        out
    }

    #[test]
    fn the_final_record_is_found_by_walking_the_lengths() {
        let bytes = segment(&[b"first", b"second!"]);
        assert_eq!(final_record(&bytes), Some((33, 48)));
        assert_eq!(final_record(&segment(&[])), None);
        // A tail already torn: the last whole record is the one before.
        let mut torn = segment(&[b"first", b"second!"]);
        torn.truncate(40);
        assert_eq!(final_record(&torn), Some((20, 33)));
    }

    #[test]
    fn the_torn_write_follows_the_final_record_and_stops_inside_it() {
        let dir = tempfile::tempdir().unwrap();
        let wal = dir.path().join("wal");
        std::fs::create_dir_all(&wal).unwrap();
        std::fs::write(wal.join("00000000000000000001.wal"), segment(&[b"old"])).unwrap();
        let last = wal.join("00000000000000000002.wal");
        let durable = segment(&[b"one", b"the last entry"]);
        for seed in 0..20 {
            std::fs::write(&last, &durable).unwrap();
            let cut = tear(dir.path(), &mut StdRng::seed_from_u64(seed))
                .unwrap()
                .unwrap();
            assert_eq!(cut.segment, last);
            assert_eq!((cut.record_start, cut.record_end), (31, 53));
            assert!(cut.record_end < cut.cut_at && cut.cut_at < cut.record_end + 22);
            let after = std::fs::read(&last).unwrap();
            assert_eq!(after.len() as u64, cut.cut_at);
            // Everything durable is still there, then a prefix of a record.
            assert_eq!(&after[..durable.len()], &durable[..]);
            assert_eq!(&after[durable.len()..], &durable[31..31 + after.len() - 53]);
            // The last whole record is still the durable one.
            assert_eq!(final_record(&after), Some((31, 53)));
        }
        // The older segment is untouched.
        assert_eq!(
            std::fs::read(wal.join("00000000000000000001.wal")).unwrap(),
            segment(&[b"old"])
        );
    }

    #[test]
    fn an_empty_log_has_nothing_to_tear() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("wal")).unwrap();
        assert_eq!(
            tear(dir.path(), &mut StdRng::seed_from_u64(1)).unwrap(),
            None
        );
    }
}
