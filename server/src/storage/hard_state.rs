//! The hard state file: the epoch and vote, replaced atomically.
//!
//! ```text
//! offset  size  field
//! 0       4     magic b"SFHS"
//! 4       1     version (1)
//! 5       n     the HardState (postcard)
//! 5+n     4     CRC32C over everything before it
//! ```

use super::files::replace_file;
use super::record::le_u32;
use super::StorageError;
use std::path::Path;
use steadfast::HardState;

const MAGIC: &[u8; 4] = b"SFHS";
const VERSION: u8 = 1;
/// The file's name in the data directory.
pub(crate) const FILE: &str = "hard_state";

/// Write `hard_state` durably (see [`replace_file`]).
pub(crate) fn save(dir: &Path, hard_state: &HardState) -> Result<(), StorageError> {
    let mut bytes = Vec::with_capacity(32);
    bytes.extend_from_slice(MAGIC);
    bytes.push(VERSION);
    let mut bytes = postcard::to_extend(hard_state, bytes).map_err(|e| StorageError::Encode {
        what: "hard state",
        reason: e.to_string(),
    })?;
    let crc = crc32c::crc32c(&bytes);
    bytes.extend_from_slice(&crc.to_le_bytes());
    replace_file(dir, FILE, &bytes)
}

/// The hard state last saved in `dir`, or the initial one if none was.
pub(crate) fn load(dir: &Path) -> Result<HardState, StorageError> {
    let path = dir.join(FILE);
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(HardState::default()),
        Err(e) => return Err(StorageError::io("read", &path)(e)),
    };
    let corrupt = |offset: usize, what: &str| StorageError::Corrupt {
        path: path.clone(),
        offset: offset as u64,
        what: what.to_owned(),
    };
    if bytes.len() < MAGIC.len() + 1 + 4 || &bytes[..4] != MAGIC {
        return Err(corrupt(0, "not a hard state file (bad magic or too short)"));
    }
    if bytes[4] != VERSION {
        return Err(corrupt(4, &format!("unknown version {}", bytes[4])));
    }
    let body_end = bytes.len() - 4;
    let stored = le_u32(&bytes, body_end).unwrap_or(0);
    if crc32c::crc32c(&bytes[..body_end]) != stored {
        // The file is replaced by rename, so a crash cannot tear it.
        return Err(corrupt(body_end, "checksum mismatch"));
    }
    match postcard::take_from_bytes::<HardState>(&bytes[5..body_end]) {
        Ok((hard_state, [])) => Ok(hard_state),
        Ok(_) => Err(corrupt(5, "trailing bytes after the hard state")),
        Err(e) => Err(corrupt(5, &format!("undecodable hard state: {e}"))),
    }
}
