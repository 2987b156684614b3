//! The reference host: [`MemStorage`], in-memory storage that performs the
//! storage side of every [`Output`] exactly as the contract on
//! [`Replica`] says, and checks what the core asks of it as a careful host
//! would.
//!
//! Every checker that drives replicas (the simulator, both fuzz targets,
//! the models, the transcript tests) performs outputs through this one type,
//! so they all exercise the host behaviour a server would have. The caller
//! keeps what is not storage: the network (`Send`), its clients (`Reply`,
//! reads) and its observers; [`MemStorage::perform`] tells it nothing more
//! than whether the storage side went right.
//!
//! Writes of the log (`Truncated`, `Append`, `Compacted`) queue up in the
//! order asked and become durable on [`flush`](MemStorage::flush), which
//! reports durability to the core with `handle_persisted`. A host with
//! [`Persistence::Immediate`] flushes after every write; one with
//! [`Persistence::Deferred`] lets its driver choose when, and a
//! [`crash`](MemStorage::crash) loses what was not yet flushed.
//! `PersistHardState` and `InstallSnapshot` are durable before the next
//! output, as the contract requires.

use steadfast::{
    Durable, Entry, HardState, Instant, Lsn, Output, Position, Replica, SnapshotError, SnapshotMeta,
};
use thiserror::Error;

/// When log writes become durable.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Persistence {
    /// Each write is durable (and reported to the core) as it is performed.
    #[default]
    Immediate,
    /// Writes wait in a queue until [`MemStorage::flush`]; a crash loses them.
    Deferred,
}

/// A log write asked for and not yet durable. Writes become durable in the
/// order they were asked for.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum StorageOp {
    /// Delete the entries after `after`, which must be `discarded`.
    Truncate {
        /// The last entry kept.
        after: Lsn,
        /// What the core says it discards.
        discarded: Vec<Entry>,
    },
    /// Append entries after the last stored one.
    Append(Vec<Entry>),
    /// Delete the entries through this position (a snapshot covers them).
    Compact(Position),
}

/// A durable snapshot: its description, its bytes, and the state machine
/// they hold (every applied entry through its position).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct StoredSnapshot {
    /// What the core knows of it.
    pub meta: SnapshotMeta,
    /// Its bytes, as served to followers.
    pub bytes: Vec<u8>,
    /// The state machine it holds.
    pub state: Vec<Entry>,
}

/// Something the core asked of its host that a correct core never asks.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum HostError {
    /// A `PersistHardState` lowered the epoch.
    #[error("the persisted epoch went down from {from:?} to {to:?}")]
    EpochLowered {
        /// The durable hard state.
        from: HardState,
        /// The one asked for.
        to: HardState,
    },
    /// A truncation's `discarded` list differs from what it removes.
    #[error(
        "truncation after {after} reported {reported} entries but removes {removed} from storage"
    )]
    TruncationMismatch {
        /// The last entry kept.
        after: Lsn,
        /// Entries the output listed.
        reported: usize,
        /// Entries storage held after `after`.
        removed: usize,
    },
    /// An append that does not continue the stored log.
    #[error("append starting at {first:?} does not continue the stored log (last {last:?}, snapshot {snapshot})")]
    AppendGap {
        /// The first entry to append, if any.
        first: Option<Position>,
        /// The last stored entry.
        last: Option<Position>,
        /// The durable snapshot's position.
        snapshot: Position,
    },
    /// A compaction past the durable snapshot.
    #[error("may delete entries through {through}, past the snapshot at {snapshot}")]
    CompactPastSnapshot {
        /// What the core allows deleting.
        through: Position,
        /// The durable snapshot's position.
        snapshot: Position,
    },
    /// Entries applied out of order.
    #[error("applies from {first:?}, expected lsn {expected}")]
    ApplyGap {
        /// The first entry of the batch.
        first: Option<Position>,
        /// The next lsn the state machine expects.
        expected: Lsn,
    },
    /// A snapshot chunk that does not follow the staged bytes.
    #[error("snapshot chunk at offset {offset} does not follow the {staged} staged bytes")]
    StagingGap {
        /// The chunk's offset.
        offset: u64,
        /// Bytes staged so far.
        staged: usize,
    },
    /// Staged bytes that are not the snapshot the core installs.
    #[error("told to install {staged} staged bytes (crc {staged_crc:#x}) as a snapshot of {size} bytes (crc {crc:#x})")]
    SnapshotMismatch {
        /// Bytes staged.
        staged: usize,
        /// Their checksum.
        staged_crc: u32,
        /// The snapshot's size.
        size: u64,
        /// The snapshot's checksum.
        crc: u32,
    },
    /// A snapshot whose state does not end at its position.
    #[error("the snapshot at {position} does not hold entries 1..={lsn} ending there", lsn = position.lsn)]
    SnapshotContents {
        /// The snapshot's position.
        position: Position,
    },
    /// An install that would delete unapplied entries it does not report.
    #[error("installing {position} deletes unapplied entries {deleted:?} but reports {replaced:?} replaced")]
    UnreportedReplace {
        /// The snapshot's position.
        position: Position,
        /// What storage would delete.
        deleted: Vec<Position>,
        /// What the output reported.
        replaced: Vec<Position>,
    },
    /// The core refused a chunk of its own durable snapshot.
    #[error("the core refused its own host's snapshot chunk: {0}")]
    ChunkRefused(SnapshotError),
}

/// The reference host's storage and state machine, in memory.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct MemStorage {
    persistence: Persistence,
    /// Durable: the last persisted hard state.
    hard: HardState,
    /// Durable: log entries in lsn order, consecutive; entries at or below
    /// the snapshot's position may remain (the core skips them on restart).
    log: Vec<Entry>,
    /// Durable: the latest snapshot taken or installed.
    snapshot: Option<StoredSnapshot>,
    /// Log writes asked for and not yet durable (lost by a crash).
    queue: Vec<StorageOp>,
    /// Volatile: the state machine, every applied entry from lsn 1.
    applied: Vec<Entry>,
    /// Volatile: the incoming snapshot's bytes received so far.
    staging: Vec<u8>,
}

impl MemStorage {
    /// Empty storage that makes log writes durable as `persistence` says.
    pub fn new(persistence: Persistence) -> MemStorage {
        MemStorage {
            persistence,
            ..MemStorage::default()
        }
    }

    /// Builder: storage whose durable hard state is `hard` (a replica
    /// restarted from it starts in that epoch).
    pub fn with_hard_state(mut self, hard: HardState) -> MemStorage {
        self.hard = hard;
        self
    }

    /// Perform the storage side of `output` for `replica`, at `now` (the
    /// replica's local time): persist, truncate, append, compact, apply,
    /// stage and install snapshot chunks, and serve chunks of the durable
    /// snapshot back to the core. Durability is reported to `replica` as
    /// soon as it holds. Outputs with no storage side (`Send`, `Reply`,
    /// `RoleChanged`, reads, `MembershipChanged`) are left to the caller.
    pub fn perform(
        &mut self,
        replica: &mut Replica,
        now: Instant,
        output: &Output,
    ) -> Result<(), HostError> {
        match output {
            Output::PersistHardState(hard) => {
                if hard.epoch < self.hard.epoch {
                    return Err(HostError::EpochLowered {
                        from: self.hard,
                        to: *hard,
                    });
                }
                self.hard = *hard;
                Ok(())
            }
            Output::Truncated { after, discarded } => self.write(
                replica,
                now,
                StorageOp::Truncate {
                    after: *after,
                    discarded: discarded.clone(),
                },
            ),
            Output::Append { entries } => {
                self.write(replica, now, StorageOp::Append(entries.clone()))
            }
            Output::Compacted { through } => {
                let snapshot = self.snapshot_position();
                if through.lsn > snapshot.lsn {
                    return Err(HostError::CompactPastSnapshot {
                        through: *through,
                        snapshot,
                    });
                }
                self.write(replica, now, StorageOp::Compact(*through))
            }
            Output::Apply { entries } => {
                let expected = Lsn(self.applied.len() as u64).next();
                if entries.first().map(|e| e.lsn) != Some(expected) {
                    return Err(HostError::ApplyGap {
                        first: entries.first().map(Entry::position),
                        expected,
                    });
                }
                self.applied.extend(entries.iter().cloned());
                Ok(())
            }
            Output::RolledBack { entries } => {
                let first = entries.first().map_or(Lsn(0), |e| e.lsn);
                self.applied.retain(|e| e.lsn < first);
                Ok(())
            }
            Output::ReadSnapshotChunk {
                to,
                snapshot,
                offset,
                max_len,
            } => {
                // Serve the chunk at once if this host still holds that
                // snapshot (otherwise the core asks again later).
                let Some(data) = self.read_chunk(*snapshot, *offset, *max_len) else {
                    return Ok(());
                };
                match replica.handle_snapshot_chunk(now, *to, *snapshot, *offset, data) {
                    // Earlier outputs of the same batch may have moved the
                    // transfer on or ended this leadership.
                    Ok(()) | Err(SnapshotError::UnexpectedChunk { .. }) => Ok(()),
                    Err(error) => Err(HostError::ChunkRefused(error)),
                }
            }
            Output::ReceiveSnapshotChunk { offset, data, .. } => {
                if *offset == 0 {
                    self.staging.clear();
                }
                if usize::try_from(*offset).ok() != Some(self.staging.len()) {
                    return Err(HostError::StagingGap {
                        offset: *offset,
                        staged: self.staging.len(),
                    });
                }
                self.staging.extend_from_slice(data);
                Ok(())
            }
            Output::InstallSnapshot { snapshot, replaced } => {
                self.install(snapshot.clone(), replaced)?;
                let durable = self.log.last().map_or(snapshot.position, Entry::position);
                replica.handle_persisted(now, durable);
                Ok(())
            }
            Output::Send { .. }
            | Output::Reply { .. }
            | Output::RoleChanged { .. }
            | Output::ReadReady { .. }
            | Output::ReadFailed { .. }
            | Output::MembershipChanged { .. } => Ok(()),
        }
    }

    fn write(
        &mut self,
        replica: &mut Replica,
        now: Instant,
        op: StorageOp,
    ) -> Result<(), HostError> {
        self.queue.push(op);
        match self.persistence {
            Persistence::Immediate => self.flush(Some(replica), now, usize::MAX),
            Persistence::Deferred => Ok(()),
        }
    }

    /// Make the first `count` queued log writes durable, in order, and
    /// report the stored log's end to `replica` (if running).
    pub fn flush(
        &mut self,
        replica: Option<&mut Replica>,
        now: Instant,
        count: usize,
    ) -> Result<(), HostError> {
        let count = count.min(self.queue.len());
        if count == 0 {
            return Ok(());
        }
        let mut result = Ok(());
        for op in self.queue.drain(..count).collect::<Vec<_>>() {
            let done = match op {
                StorageOp::Truncate { after, discarded } => self.truncate(after, &discarded),
                StorageOp::Append(entries) => self.append(entries),
                StorageOp::Compact(through) => {
                    self.log.retain(|e| e.lsn > through.lsn);
                    Ok(())
                }
            };
            result = result.and(done);
        }
        if let (Some(last), Some(replica)) = (self.log.last(), replica) {
            replica.handle_persisted(now, last.position());
        }
        result
    }

    fn truncate(&mut self, after: Lsn, discarded: &[Entry]) -> Result<(), HostError> {
        let keep = self.log.partition_point(|e| e.lsn <= after);
        let removed = self.log.split_off(keep);
        if removed != discarded {
            return Err(HostError::TruncationMismatch {
                after,
                reported: discarded.len(),
                removed: removed.len(),
            });
        }
        Ok(())
    }

    fn append(&mut self, entries: Vec<Entry>) -> Result<(), HostError> {
        let first = entries.first().map(|e| e.lsn);
        // After the last durable entry; on an empty log, anywhere through
        // just after the snapshot (entries it covers are skipped on restart).
        let fits = match self.log.last() {
            Some(last) => first == Some(last.lsn.next()),
            None => first.is_some_and(|f| f.0 >= 1 && f <= self.snapshot_position().lsn.next()),
        };
        if !fits {
            return Err(HostError::AppendGap {
                first: entries.first().map(Entry::position),
                last: self.log.last().map(Entry::position),
                snapshot: self.snapshot_position(),
            });
        }
        self.log.extend(entries);
        Ok(())
    }

    /// Install the staged snapshot, durably and after every earlier write.
    /// Returns the state machine it holds.
    fn install(&mut self, meta: SnapshotMeta, replaced: &[Position]) -> Result<(), HostError> {
        self.flush(None, Instant(0), usize::MAX)?;
        let applied = Lsn(self.applied.len() as u64);
        let deleted: Vec<Position> = self
            .log
            .iter()
            .filter(|e| e.lsn > applied && e.lsn <= meta.position.lsn)
            .map(Entry::position)
            .collect();
        if deleted != replaced {
            return Err(HostError::UnreportedReplace {
                position: meta.position,
                deleted,
                replaced: replaced.to_vec(),
            });
        }
        let bytes = std::mem::take(&mut self.staging);
        let crc = crc32c::crc32c(&bytes);
        if bytes.len() as u64 != meta.size || crc != meta.checksum {
            return Err(HostError::SnapshotMismatch {
                staged: bytes.len(),
                staged_crc: crc,
                size: meta.size,
                crc: meta.checksum,
            });
        }
        let state = decode_state(&bytes);
        let position = meta.position;
        let consecutive = state
            .iter()
            .enumerate()
            .all(|(i, e)| e.lsn.0 == i as u64 + 1);
        if !consecutive || state.last().map_or(Position::ZERO, Entry::position) != position {
            return Err(HostError::SnapshotContents { position });
        }
        self.log.retain(|e| e.lsn > position.lsn);
        self.applied = state.clone();
        self.snapshot = Some(StoredSnapshot { meta, bytes, state });
        Ok(())
    }

    /// Snapshot the state machine (everything applied so far): durable
    /// first, then reported to the core, which may compact its log. Returns
    /// the snapshot's position if the core took it.
    pub fn take_snapshot(&mut self, replica: &mut Replica, now: Instant) -> Option<Position> {
        let position = self.applied.last()?.position();
        let bytes = encode_state(&self.applied);
        let size = bytes.len() as u64;
        let checksum = crc32c::crc32c(&bytes);
        replica.snapshot_taken(now, position, size, checksum).ok()?;
        self.snapshot = replica.snapshot().cloned().map(|meta| StoredSnapshot {
            meta,
            bytes,
            state: self.applied.clone(),
        });
        Some(position)
    }

    /// The crash: volatile state and unflushed writes are gone; the state
    /// machine is the durable snapshot's again.
    pub fn crash(&mut self) {
        self.queue.clear();
        self.staging.clear();
        self.applied = self
            .snapshot
            .as_ref()
            .map(|s| s.state.clone())
            .unwrap_or_default();
    }

    /// What the host hands [`Replica::restart`] after a crash.
    pub fn durable(&self) -> Durable {
        Durable {
            hard_state: self.hard,
            log: self.log.clone(),
            applied: self.snapshot_position().lsn,
            snapshot: self.snapshot.as_ref().map(|s| s.meta.clone()),
        }
    }

    /// The bytes of the durable snapshot at `snapshot` from `offset`, at most
    /// `max_len` of them; `None` if the host no longer holds that snapshot.
    pub fn read_chunk(&self, snapshot: Position, offset: u64, max_len: usize) -> Option<Vec<u8>> {
        let stored = self
            .snapshot
            .as_ref()
            .filter(|s| s.meta.position == snapshot)?;
        Some(read_chunk(&stored.bytes, offset, max_len))
    }

    /// How log writes become durable.
    pub fn persistence(&self) -> Persistence {
        self.persistence
    }

    /// The durable hard state.
    pub fn hard_state(&self) -> HardState {
        self.hard
    }

    /// The durable log (entries the snapshot covers may remain).
    pub fn log(&self) -> &[Entry] {
        &self.log
    }

    /// The durable snapshot, if any.
    pub fn snapshot(&self) -> Option<&StoredSnapshot> {
        self.snapshot.as_ref()
    }

    /// The position of the durable snapshot (zero without one).
    pub fn snapshot_position(&self) -> Position {
        self.snapshot
            .as_ref()
            .map_or(Position::ZERO, |s| s.meta.position)
    }

    /// Log writes asked for and not yet durable.
    pub fn pending_writes(&self) -> &[StorageOp] {
        &self.queue
    }

    /// The state machine: every applied entry, from lsn 1.
    pub fn applied(&self) -> &[Entry] {
        &self.applied
    }

    /// Bytes of an incoming snapshot staged so far.
    pub fn staged(&self) -> usize {
        self.staging.len()
    }

    /// Whether the entry at `position` is durable here, in the log or in the
    /// snapshot's state.
    pub fn holds(&self, position: Position) -> bool {
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
}

/// The state machine a reference-host snapshot holds: the applied entries.
pub fn encode_state(state: &[Entry]) -> Vec<u8> {
    postcard::to_allocvec(state).unwrap_or_default()
}

/// The state machine in a snapshot's bytes (empty for none or garbage).
pub fn decode_state(bytes: &[u8]) -> Vec<Entry> {
    if bytes.is_empty() {
        return Vec::new();
    }
    postcard::from_bytes(bytes).unwrap_or_default()
}

/// What a host answers to [`Output::ReadSnapshotChunk`]: up to `max_len`
/// of the snapshot's `bytes` from `offset` (fewer at the end).
pub fn read_chunk(bytes: &[u8], offset: u64, max_len: usize) -> Vec<u8> {
    let start = usize::try_from(offset).map_or(bytes.len(), |o| o.min(bytes.len()));
    let end = start.saturating_add(max_len).min(bytes.len());
    bytes[start..end].to_vec()
}
