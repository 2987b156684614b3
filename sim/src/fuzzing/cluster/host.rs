//! One simulated server of the `cluster` target: durable storage (hard
//! state, log, snapshot), the storage writes not yet made durable, and the
//! state machine, with the checks a careful host makes on what the core
//! asks it to store.

use crate::harness::{decode_state, encode_state, read_chunk};
use steadfast::config::Config;
use steadfast::entry::{Entry, HardState};
use steadfast::replica::{Durable, Replica};
use steadfast::snapshot::SnapshotMeta;
use steadfast::types::{Lsn, Position};

/// A storage write the host has been asked for and not yet made durable.
/// Writes become durable in the order they were asked for.
#[derive(Clone, Debug)]
pub(super) enum StorageOp {
    Truncate {
        after: Lsn,
        discarded: Vec<Entry>,
    },
    Append(Vec<Entry>),
    /// Delete the entries through this position (a snapshot covers them).
    Compact(Position),
}

/// A durable snapshot: its description, its bytes, and the state machine
/// they hold (every applied entry through its position).
#[derive(Clone, Debug)]
pub(super) struct StoredSnapshot {
    pub(super) meta: SnapshotMeta,
    pub(super) bytes: Vec<u8>,
    pub(super) state: Vec<Entry>,
}

/// One simulated server.
#[derive(Clone, Debug)]
pub(super) struct Host {
    pub(super) config: Config,
    /// `None` while crashed.
    pub(super) replica: Option<Replica>,
    /// Durable: the last persisted hard state.
    pub(super) hard: HardState,
    /// Durable: log entries in lsn order, consecutive; entries at or below
    /// the snapshot's position may remain (the core skips them on restart).
    pub(super) log: Vec<Entry>,
    /// Durable: the latest snapshot taken or installed.
    pub(super) snapshot: Option<StoredSnapshot>,
    /// Storage writes asked for and not yet durable (lost by a crash).
    pub(super) queue: Vec<StorageOp>,
    /// Volatile: the state machine, every applied entry from lsn 1.
    pub(super) applied: Vec<Entry>,
    /// Volatile: the incoming snapshot's bytes received so far.
    pub(super) staging: Vec<u8>,
}

impl Host {
    pub(super) fn new(config: Config, replica: Replica, hard: HardState) -> Host {
        Host {
            config,
            replica: Some(replica),
            hard,
            log: Vec::new(),
            snapshot: None,
            queue: Vec::new(),
            applied: Vec::new(),
            staging: Vec::new(),
        }
    }

    /// The position of the durable snapshot (zero without one).
    pub(super) fn snapshot_position(&self) -> Position {
        self.snapshot
            .as_ref()
            .map_or(Position::ZERO, |s| s.meta.position)
    }

    /// Whether the entry at `position` is durable here, in the log or in the
    /// snapshot's state.
    pub(super) fn holds(&self, position: Position) -> bool {
        let in_log = self
            .log
            .binary_search_by_key(&position.lsn, |e| e.lsn)
            .is_ok_and(|i| self.log[i].position() == position);
        let in_snapshot = self.snapshot.as_ref().is_some_and(|s| {
            usize::try_from(position.lsn.0)
                .ok()
                .and_then(|lsn| lsn.checked_sub(1))
                .and_then(|index| s.state.get(index))
                .is_some_and(|e| e.position() == position)
        });
        in_log || in_snapshot
    }

    /// What the host hands the core to restart from.
    pub(super) fn durable(&self) -> Durable {
        Durable {
            hard_state: self.hard,
            log: self.log.clone(),
            applied: self.snapshot_position().lsn,
            snapshot: self.snapshot.as_ref().map(|s| s.meta.clone()),
        }
    }

    /// The crash: volatile state and unflushed writes are gone; on restart
    /// the state machine is the durable snapshot's.
    pub(super) fn crash(&mut self) {
        self.replica = None;
        self.queue.clear();
        self.staging.clear();
        self.applied = self
            .snapshot
            .as_ref()
            .map(|s| s.state.clone())
            .unwrap_or_default();
    }

    /// Make the first `count` pending writes durable. Returns what was wrong
    /// with them, if anything.
    pub(super) fn flush(&mut self, count: usize) -> Result<(), String> {
        let count = count.min(self.queue.len());
        let mut problem = Ok(());
        for op in self.queue.drain(..count).collect::<Vec<_>>() {
            let result = match op {
                StorageOp::Truncate { after, discarded } => self.truncate(after, &discarded),
                StorageOp::Append(entries) => self.append(entries),
                StorageOp::Compact(through) => {
                    self.log.retain(|e| e.lsn > through.lsn);
                    Ok(())
                }
            };
            problem = problem.and(result);
        }
        problem
    }

    fn truncate(&mut self, after: Lsn, discarded: &[Entry]) -> Result<(), String> {
        let keep = self.log.partition_point(|e| e.lsn <= after);
        let removed = self.log.split_off(keep);
        if removed != discarded {
            return Err(format!(
                "truncation after {after} reported {} entries but removes {} from storage",
                discarded.len(),
                removed.len()
            ));
        }
        Ok(())
    }

    fn append(&mut self, entries: Vec<Entry>) -> Result<(), String> {
        let first = entries.first().map(|e| e.lsn);
        // After the last durable entry; on an empty log, anywhere through
        // just after the snapshot (entries it covers are skipped on restart).
        let fits = match self.log.last() {
            Some(last) => first == Some(last.lsn.next()),
            None => first.is_some_and(|f| f.0 >= 1 && f <= self.snapshot_position().lsn.next()),
        };
        if !fits {
            return Err(format!(
                "append starting at {first:?} does not continue the stored log (last {:?}, snapshot {})",
                self.log.last().map(Entry::position),
                self.snapshot_position()
            ));
        }
        self.log.extend(entries);
        Ok(())
    }

    /// Snapshot the state machine: durable first, then reported to the core
    /// (which may compact). Returns whether the core took it.
    pub(super) fn take_snapshot(&mut self, now: steadfast::types::Instant) -> bool {
        let Some(position) = self.applied.last().map(Entry::position) else {
            return false;
        };
        let Some(replica) = self.replica.as_mut() else {
            return false;
        };
        let bytes = encode_state(&self.applied);
        let size = bytes.len() as u64;
        let checksum = crc32c::crc32c(&bytes);
        if replica
            .snapshot_taken(now, position, size, checksum)
            .is_err()
        {
            return false;
        }
        self.snapshot = replica.snapshot().cloned().map(|meta| StoredSnapshot {
            meta,
            bytes,
            state: self.applied.clone(),
        });
        true
    }

    /// The bytes of the durable snapshot at `snapshot` from `offset`, at most
    /// `max_len` of them; `None` if the host no longer holds that snapshot.
    pub(super) fn read_chunk(
        &self,
        snapshot: Position,
        offset: u64,
        max_len: usize,
    ) -> Option<Vec<u8>> {
        let stored = self
            .snapshot
            .as_ref()
            .filter(|s| s.meta.position == snapshot)?;
        Some(read_chunk(&stored.bytes, offset, max_len))
    }

    /// Stage a received chunk: offset 0 starts over, later chunks must
    /// follow on directly.
    pub(super) fn stage_chunk(&mut self, offset: u64, data: Vec<u8>) -> Result<(), String> {
        if offset == 0 {
            self.staging.clear();
        }
        if usize::try_from(offset).ok() != Some(self.staging.len()) {
            return Err(format!(
                "snapshot chunk at offset {offset} does not follow the {} staged bytes",
                self.staging.len()
            ));
        }
        self.staging.extend(data);
        Ok(())
    }

    /// Install the staged snapshot, durably and after every earlier write.
    /// Returns the state machine it holds, or what was wrong with it (the
    /// bytes, or a stored entry the install would delete unreported: every
    /// unapplied one at or below the position must be in `replaced`).
    pub(super) fn install(
        &mut self,
        meta: SnapshotMeta,
        replaced: &[Position],
    ) -> Result<Vec<Entry>, String> {
        self.flush(usize::MAX)?;
        let applied = Lsn(self.applied.len() as u64);
        let deleted: Vec<Position> = self
            .log
            .iter()
            .filter(|e| e.lsn > applied && e.lsn <= meta.position.lsn)
            .map(Entry::position)
            .collect();
        if deleted != replaced {
            return Err(format!(
                "installing {} deletes unapplied entries {deleted:?} but reports {replaced:?} replaced",
                meta.position,
            ));
        }
        let bytes = std::mem::take(&mut self.staging);
        if bytes.len() as u64 != meta.size || crc32c::crc32c(&bytes) != meta.checksum {
            return Err(format!(
                "told to install {} staged bytes (crc {:#x}) as a snapshot of {} bytes (crc {:#x})",
                bytes.len(),
                crc32c::crc32c(&bytes),
                meta.size,
                meta.checksum
            ));
        }
        let state = decode_state(&bytes);
        let position = meta.position;
        if u64::try_from(state.len()).ok() != Some(position.lsn.0)
            || state.last().map_or(Position::ZERO, Entry::position) != position
        {
            return Err(format!(
                "the snapshot at {position} holds {} entries ending at {:?}",
                state.len(),
                state.last().map(Entry::position)
            ));
        }
        if state
            .iter()
            .enumerate()
            .any(|(i, e)| e.lsn.0 != i as u64 + 1)
        {
            return Err(format!("the snapshot at {position} has a gap"));
        }
        self.log.retain(|e| e.lsn > position.lsn);
        self.applied = state.clone();
        self.snapshot = Some(StoredSnapshot {
            meta,
            bytes,
            state: state.clone(),
        });
        Ok(state)
    }
}
