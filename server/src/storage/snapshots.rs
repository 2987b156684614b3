//! Snapshot files: the state machine at a position, served to followers in
//! chunks, and an incoming snapshot staged chunk by chunk until installed.
//!
//! A snapshot file (`snapshots/<epoch>-<lsn>.snap`, written atomically):
//!
//! ```text
//! offset  size  field
//! 0       4     magic b"SFSN"
//! 4       1     version (1)
//! 5       4     n: length of the description (u32, little-endian)
//! 9       n     the SnapshotMeta (postcard)
//! 9+n     4     CRC32C over bytes 0..9+n
//! 13+n    size  the snapshot's bytes, whose CRC32C is the description's checksum
//! ```

use super::files::{ensure_dir, names_ending, remove_file, replace_file, sync_dir};
use super::record::le_u32;
use super::StorageError;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use steadfast::{Membership, Position, SnapshotMeta};

const MAGIC: &[u8; 4] = b"SFSN";
const VERSION: u8 = 1;
const SUFFIX: &str = ".snap";
/// The incoming snapshot's staging file.
const STAGING: &str = "incoming.part";

/// A snapshot read back: its description and its bytes.
pub(crate) type Loaded = (SnapshotMeta, Vec<u8>);

/// The snapshot directory: at most one snapshot (the newest) is kept.
#[derive(Debug)]
pub(crate) struct Snapshots {
    dir: PathBuf,
    /// The newest snapshot and where its bytes start in its file.
    current: Option<(SnapshotMeta, u64)>,
    /// The snapshot being received and the bytes staged so far.
    staging: Option<(Position, u64)>,
}

fn file_name(position: Position) -> String {
    format!("{:020}-{:020}{SUFFIX}", position.epoch.0, position.lsn.0)
}

impl Snapshots {
    /// Open `dir` (created if missing): the newest snapshot, checked, and
    /// its bytes. Leftover temporary and staging files are removed, and so
    /// are snapshots older than the newest.
    pub(crate) fn open(dir: &Path) -> Result<(Snapshots, Option<Loaded>), StorageError> {
        ensure_dir(dir)?;
        for leftover in names_ending(dir, ".tmp")?
            .into_iter()
            .chain(names_ending(dir, STAGING)?)
        {
            remove_file(&dir.join(leftover))?;
        }
        let mut names = names_ending(dir, SUFFIX)?;
        let newest = names.pop();
        for older in names {
            remove_file(&dir.join(older))?;
        }
        let mut snapshots = Snapshots {
            dir: dir.to_owned(),
            current: None,
            staging: None,
        };
        let Some(name) = newest else {
            return Ok((snapshots, None));
        };
        let path = dir.join(&name);
        let bytes = std::fs::read(&path).map_err(StorageError::io("read", &path))?;
        let (meta, data_start) = parse_header(&path, &bytes)?;
        if file_name(meta.position) != name {
            return Err(corrupt(
                &path,
                9,
                format!("the file describes a snapshot at {}", meta.position),
            ));
        }
        let data = bytes.get(data_start..).unwrap_or_default();
        if data.len() as u64 != meta.size || crc32c::crc32c(data) != meta.checksum {
            return Err(corrupt(
                &path,
                data_start as u64,
                format!(
                    "{} bytes with checksum {:#010x}, the description says {} bytes with {:#010x}",
                    data.len(),
                    crc32c::crc32c(data),
                    meta.size,
                    meta.checksum
                ),
            ));
        }
        let data = data.to_vec();
        snapshots.current = Some((meta.clone(), data_start as u64));
        Ok((snapshots, Some((meta, data))))
    }

    /// The newest snapshot's description.
    pub(crate) fn current(&self) -> Option<&SnapshotMeta> {
        self.current.as_ref().map(|(meta, _)| meta)
    }

    /// Save `data`, the state machine at `position` with `membership` in
    /// force, as the newest snapshot (durably), replacing the older one.
    pub(crate) fn save(
        &mut self,
        position: Position,
        membership: Membership,
        data: &[u8],
    ) -> Result<SnapshotMeta, StorageError> {
        let meta = SnapshotMeta {
            position,
            membership,
            size: data.len() as u64,
            checksum: crc32c::crc32c(data),
        };
        let mut bytes = header(&meta)?;
        let data_start = bytes.len() as u64;
        bytes.extend_from_slice(data);
        replace_file(&self.dir, &file_name(position), &bytes)?;
        self.replace_current(meta.clone(), data_start)?;
        Ok(meta)
    }

    fn replace_current(&mut self, meta: SnapshotMeta, data_start: u64) -> Result<(), StorageError> {
        if let Some((old, _)) = self.current.take() {
            if old.position != meta.position {
                remove_file(&self.dir.join(file_name(old.position)))?;
                sync_dir(&self.dir)?;
            }
        }
        self.current = Some((meta, data_start));
        Ok(())
    }

    /// Up to `max_len` bytes at `offset` of the snapshot at `position`, or
    /// `None` if that is no longer the snapshot kept.
    pub(crate) fn read_chunk(
        &self,
        position: Position,
        offset: u64,
        max_len: usize,
    ) -> Result<Option<Vec<u8>>, StorageError> {
        let Some((meta, data_start)) = &self.current else {
            return Ok(None);
        };
        if meta.position != position {
            return Ok(None);
        }
        let path = self.dir.join(file_name(position));
        let remaining = meta.size.saturating_sub(offset);
        let len = usize::try_from(remaining)
            .unwrap_or(usize::MAX)
            .min(max_len);
        let mut chunk = vec![0; len];
        let mut file = File::open(&path).map_err(StorageError::io("open", &path))?;
        file.seek(SeekFrom::Start(data_start + offset))
            .and_then(|_| file.read_exact(&mut chunk))
            .map_err(StorageError::io("read a chunk of", &path))?;
        Ok(Some(chunk))
    }

    /// Stage `data` at `offset` of the incoming snapshot at `position`.
    /// Offset 0 starts over; other chunks must follow on directly (a chunk
    /// that does not is ignored: the leader resends from where it stands).
    /// Returns whether the chunk was staged.
    pub(crate) fn stage_chunk(
        &mut self,
        position: Position,
        offset: u64,
        data: &[u8],
    ) -> Result<bool, StorageError> {
        let path = self.dir.join(STAGING);
        let mut file = if offset == 0 {
            self.staging = Some((position, 0));
            OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .open(&path)
                .map_err(StorageError::io("create", &path))?
        } else {
            if self.staging != Some((position, offset)) {
                return Ok(false);
            }
            OpenOptions::new()
                .append(true)
                .open(&path)
                .map_err(StorageError::io("open", &path))?
        };
        file.write_all(data)
            .map_err(StorageError::io("write", &path))?;
        self.staging = Some((position, offset + data.len() as u64));
        Ok(true)
    }

    /// Make the staged snapshot described by `meta` the newest snapshot,
    /// durably, after checking its size and checksum and that `decode`
    /// accepts its bytes (nothing changes when any check fails); returns
    /// what `decode` made of them.
    pub(crate) fn install_staged<T>(
        &mut self,
        meta: &SnapshotMeta,
        decode: impl FnOnce(&[u8]) -> Result<T, String>,
    ) -> Result<T, StorageError> {
        let path = self.dir.join(STAGING);
        let bad = |what: String| StorageError::BadStagedSnapshot {
            position: meta.position,
            what,
        };
        if self.staging.map(|(p, _)| p) != Some(meta.position) {
            return Err(bad("no chunks of it were staged".into()));
        }
        let data = std::fs::read(&path).map_err(StorageError::io("read", &path))?;
        if data.len() as u64 != meta.size || crc32c::crc32c(&data) != meta.checksum {
            return Err(bad(format!(
                "{} bytes staged with checksum {:#010x}, expected {} with {:#010x}",
                data.len(),
                crc32c::crc32c(&data),
                meta.size,
                meta.checksum
            )));
        }
        let decoded = decode(&data).map_err(bad)?;
        let mut bytes = header(meta)?;
        let data_start = bytes.len() as u64;
        bytes.extend_from_slice(&data);
        replace_file(&self.dir, &file_name(meta.position), &bytes)?;
        remove_file(&path)?;
        self.staging = None;
        self.replace_current(meta.clone(), data_start)?;
        Ok(decoded)
    }
}

/// A snapshot file's header and description for `meta`.
fn header(meta: &SnapshotMeta) -> Result<Vec<u8>, StorageError> {
    let described = postcard::to_allocvec(meta).map_err(|e| StorageError::Encode {
        what: "snapshot description",
        reason: e.to_string(),
    })?;
    let mut bytes = Vec::with_capacity(13 + described.len());
    bytes.extend_from_slice(MAGIC);
    bytes.push(VERSION);
    bytes.extend_from_slice(
        &u32::try_from(described.len())
            .unwrap_or(u32::MAX)
            .to_le_bytes(),
    );
    bytes.extend_from_slice(&described);
    let crc = crc32c::crc32c(&bytes);
    bytes.extend_from_slice(&crc.to_le_bytes());
    Ok(bytes)
}

/// The description in a snapshot file, and where its bytes start.
fn parse_header(path: &Path, bytes: &[u8]) -> Result<(SnapshotMeta, usize), StorageError> {
    if bytes.get(..4) != Some(MAGIC.as_slice()) {
        return Err(corrupt(path, 0, "not a snapshot file (bad magic)".into()));
    }
    if bytes.get(4) != Some(&VERSION) {
        return Err(corrupt(
            path,
            4,
            format!("unknown snapshot version {:?}", bytes.get(4)),
        ));
    }
    let len = le_u32(bytes, 5).map_or(usize::MAX, |n| usize::try_from(n).unwrap_or(usize::MAX));
    let end = 9usize.saturating_add(len);
    let stored = le_u32(bytes, end);
    let Some(described) = bytes.get(..end) else {
        return Err(corrupt(
            path,
            5,
            "description runs past the end of the file".into(),
        ));
    };
    if stored != Some(crc32c::crc32c(described)) {
        return Err(corrupt(
            path,
            end as u64,
            "description checksum mismatch".into(),
        ));
    }
    match postcard::from_bytes::<SnapshotMeta>(&described[9..]) {
        Ok(meta) => Ok((meta, end + 4)),
        Err(e) => Err(corrupt(path, 9, format!("undecodable description: {e}"))),
    }
}

fn corrupt(path: &Path, offset: u64, what: String) -> StorageError {
    StorageError::Corrupt {
        path: path.to_owned(),
        offset,
        what,
    }
}
