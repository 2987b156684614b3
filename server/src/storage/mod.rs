//! The server's durable state, in one data directory:
//!
//! ```text
//! <dir>/LOCK                      held (flock) while a process has the directory open
//! <dir>/hard_state                epoch and vote, replaced atomically
//! <dir>/wal/<first lsn>.wal       the log, in segments (see `segment.rs`, `record.rs`)
//! <dir>/snapshots/<e>-<lsn>.snap  the newest snapshot (see `snapshots.rs`)
//! ```
//!
//! [`Storage::open`] returns the [`Durable`] state that
//! [`Replica::restart`](steadfast::Replica::restart) validates and
//! rebuilds a replica from. The host performs the core's storage outputs
//! with the methods here, in the order polled:
//!
//! | output | call |
//! |---|---|
//! | `PersistHardState` | [`Storage::save_hard_state`] (durable on return) |
//! | `Truncated` | [`Storage::truncate_after`] |
//! | `Append` | [`Storage::append`], then [`Storage::sync`] once for the batch, then `handle_persisted` |
//! | `Compacted` | [`Storage::compact_through`] |
//! | `ReadSnapshotChunk` | [`Storage::read_snapshot_chunk`] |
//! | `ReceiveSnapshotChunk` | [`Storage::stage_snapshot_chunk`] |
//! | `InstallSnapshot` | [`Storage::install_snapshot`] (durable on return) |
//!
//! and saves its own snapshots with [`Storage::save_snapshot`] before
//! reporting them with `snapshot_taken`.

mod error;
mod files;
mod hard_state;
pub(crate) mod record;
mod segment;
mod snapshots;
mod wal;

#[cfg(test)]
mod tests;

pub use error::StorageError;
pub use wal::TornTail;

/// The header a log segment whose first entry is `first` starts with
/// (for tests and fuzzing that build segment files).
pub fn segment_header(first: Lsn) -> [u8; segment::HEADER] {
    segment::header(first)
}

use snapshots::Snapshots;
use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use steadfast::{Durable, Entry, HardState, Lsn, Membership, Position, SnapshotMeta};
use wal::Wal;

/// How the log is laid out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StorageOptions {
    /// A new segment file is begun once the current one reaches this many
    /// bytes.
    pub segment_bytes: u64,
}

impl Default for StorageOptions {
    fn default() -> Self {
        StorageOptions {
            segment_bytes: 64 << 20,
        }
    }
}

/// What opening the data directory found.
#[derive(Debug)]
pub struct Recovered {
    /// The state to restart the replica from. `applied` is the snapshot's
    /// lsn (0 without one): the server keeps its state machine in memory,
    /// restores it from the snapshot's bytes and re-applies from there.
    pub durable: Durable,
    /// The snapshot's bytes, when there is a snapshot.
    pub snapshot_data: Option<Vec<u8>>,
    /// The torn tail cut from the log, if the last run crashed mid-write.
    pub torn_tail: Option<TornTail>,
}

/// The data directory, open and locked.
#[derive(Debug)]
pub struct Storage {
    dir: PathBuf,
    /// Holds the directory's lock until dropped.
    _lock: File,
    hard_state: HardState,
    wal: Wal,
    snapshots: Snapshots,
}

impl Storage {
    /// Open (creating it if needed) and lock the data directory `dir`, cut
    /// a torn log tail, and read everything back. Refuses a directory
    /// another process holds, and one with damage other than a torn tail.
    pub fn open(dir: &Path, options: StorageOptions) -> Result<(Storage, Recovered), StorageError> {
        files::ensure_dir(dir)?;
        let lock = lock(dir)?;
        let hard_state = hard_state::load(dir)?;
        let (snapshots, snapshot) = Snapshots::open(&dir.join("snapshots"))?;
        let (wal, log, torn_tail) = Wal::open(&dir.join("wal"), options.segment_bytes)?;
        let (snapshot, snapshot_data) = match snapshot {
            Some((meta, data)) => (Some(meta), Some(data)),
            None => (None, None),
        };
        let applied = snapshot.as_ref().map_or(Lsn(0), |s| s.position.lsn);
        let storage = Storage {
            dir: dir.to_owned(),
            _lock: lock,
            hard_state,
            wal,
            snapshots,
        };
        let durable = Durable {
            hard_state,
            log,
            applied,
            snapshot,
        };
        Ok((
            storage,
            Recovered {
                durable,
                snapshot_data,
                torn_tail,
            },
        ))
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The hard state last saved.
    pub fn hard_state(&self) -> HardState {
        self.hard_state
    }

    /// The lsn of the log's last entry, if it holds any.
    pub fn last_lsn(&self) -> Option<Lsn> {
        self.wal.last()
    }

    /// The lsn of the log's first retained entry, if it holds any.
    pub fn first_lsn(&self) -> Option<Lsn> {
        self.wal.first()
    }

    /// The newest snapshot's description.
    pub fn snapshot(&self) -> Option<&SnapshotMeta> {
        self.snapshots.current()
    }

    /// Save the hard state; durable when this returns.
    pub fn save_hard_state(&mut self, hard_state: HardState) -> Result<(), StorageError> {
        hard_state::save(&self.dir, &hard_state)?;
        self.hard_state = hard_state;
        Ok(())
    }

    /// Write entries after the log's last one. They are durable only after
    /// the next [`Storage::sync`].
    pub fn append(&mut self, entries: &[Entry]) -> Result<(), StorageError> {
        self.wal.append(entries)
    }

    /// Remove every entry after `after`, durably (before anything written
    /// later can reach the disk).
    pub fn truncate_after(&mut self, after: Lsn) -> Result<(), StorageError> {
        self.wal.truncate_after(after)
    }

    /// Make every append and truncation so far durable, with one
    /// `fdatasync` (group commit). Returns whether there was anything to
    /// sync.
    pub fn sync(&mut self) -> Result<bool, StorageError> {
        self.wal.sync()
    }

    /// Delete log segments whose entries are all at or below `through`
    /// (a snapshot covers them). Entries after it are always kept.
    pub fn compact_through(&mut self, through: Lsn) -> Result<(), StorageError> {
        self.wal.compact_through(through)
    }

    /// Save `data`, the state machine at `position` with `membership` in
    /// force, as the newest snapshot, durably; returns its description
    /// (size and checksum included) for `snapshot_taken`.
    pub fn save_snapshot(
        &mut self,
        position: Position,
        membership: Membership,
        data: &[u8],
    ) -> Result<SnapshotMeta, StorageError> {
        self.snapshots.save(position, membership, data)
    }

    /// Up to `max_len` bytes at `offset` of the snapshot at `position`, or
    /// `None` if this directory no longer keeps that snapshot.
    pub fn read_snapshot_chunk(
        &self,
        position: Position,
        offset: u64,
        max_len: usize,
    ) -> Result<Option<Vec<u8>>, StorageError> {
        self.snapshots.read_chunk(position, offset, max_len)
    }

    /// Stage a chunk of an incoming snapshot. Returns whether it was
    /// staged (a chunk out of order is ignored).
    pub fn stage_snapshot_chunk(
        &mut self,
        position: Position,
        offset: u64,
        data: &[u8],
    ) -> Result<bool, StorageError> {
        self.snapshots.stage_chunk(position, offset, data)
    }

    /// Install the staged snapshot `meta`, durably, once its size and
    /// checksum match and `decode` (the state machine's) accepts its bytes;
    /// when any check fails nothing changes. It becomes the newest
    /// snapshot, and the log keeps only what follows it (the whole log
    /// goes when the snapshot reaches past its end; otherwise segments
    /// wholly at or below it go, and entries of a straddling segment stay,
    /// agreeing with the snapshot as `Durable` allows). Returns what
    /// `decode` made of the bytes.
    pub fn install_snapshot<T>(
        &mut self,
        meta: &SnapshotMeta,
        decode: impl FnOnce(&[u8]) -> Result<T, String>,
    ) -> Result<T, StorageError> {
        // Earlier log writes reach the disk before the snapshot does.
        self.wal.sync()?;
        let decoded = self.snapshots.install_staged(meta, decode)?;
        let through = meta.position.lsn;
        if self.wal.last().is_none_or(|last| last <= through) {
            self.wal.clear()?;
        } else {
            self.wal.compact_through(through)?;
        }
        Ok(decoded)
    }
}

/// Take the directory's lock, or say who has it.
fn lock(dir: &Path) -> Result<File, StorageError> {
    let path = dir.join("LOCK");
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(StorageError::io("open", &path))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(TryLockError::WouldBlock) => Err(StorageError::Locked(dir.to_owned())),
        Err(TryLockError::Error(e)) => Err(StorageError::io("lock", &path)(e)),
    }
}
