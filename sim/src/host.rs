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
//!
//! Durability and served snapshot chunks go back to the core through
//! [`CoreInputs`], which [`Replica`] implements; a host that reaches its
//! replica through something else (a lock, a driver) implements it there.
//!
//! Snapshot bytes are, by default, the state machine itself
//! ([`SnapshotBytes::State`]): an install checks that they hold the entries
//! up to the snapshot's position. Adversarial tests whose peers send
//! arbitrary bytes with a matching checksum use [`SnapshotBytes::Opaque`].

mod digest;
mod error;
mod rename;
mod snapshots;

pub use error::HostError;

use steadfast::{
    Durable, Entry, HardState, Instant, Lsn, NodeId, Output, Position, Replica, SnapshotError,
    SnapshotMeta,
};

/// When log writes become durable.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Persistence {
    /// Each write is durable (and reported to the core) as it is performed.
    #[default]
    Immediate,
    /// Writes wait in a queue until [`MemStorage::flush`]; a crash loses them.
    Deferred,
}

/// What a snapshot's bytes are to the host.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum SnapshotBytes {
    /// The state machine, encoded with [`encode_state`]: taking a snapshot
    /// encodes the applied entries, and an install decodes the bytes,
    /// checks that they are the entries from lsn 1 through the snapshot's
    /// position and restores the state machine from them.
    #[default]
    State,
    /// Bytes the host does not interpret: its own snapshots' bytes are the
    /// caller's ([`MemStorage::take_snapshot_as`]), and an install checks
    /// only their size and checksum against the meta (what the core checks
    /// too). The state machine then holds what was applied after the
    /// snapshot's position ([`MemStorage::applied_base`]).
    Opaque,
}

/// The inputs through which [`MemStorage`] reports back to the core it
/// hosts: durability of its writes, and the snapshot chunks it serves.
pub trait CoreInputs {
    /// [`Replica::handle_persisted`].
    fn handle_persisted(&mut self, now: Instant, through: Position);
    /// [`Replica::handle_snapshot_chunk`].
    fn handle_snapshot_chunk(
        &mut self,
        now: Instant,
        to: NodeId,
        snapshot: Position,
        offset: u64,
        data: Vec<u8>,
    ) -> Result<(), SnapshotError>;
}

impl CoreInputs for Replica {
    fn handle_persisted(&mut self, now: Instant, through: Position) {
        Replica::handle_persisted(self, now, through);
    }

    fn handle_snapshot_chunk(
        &mut self,
        now: Instant,
        to: NodeId,
        snapshot: Position,
        offset: u64,
        data: Vec<u8>,
    ) -> Result<(), SnapshotError> {
        Replica::handle_snapshot_chunk(self, now, to, snapshot, offset, data)
    }
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
/// they hold (every applied entry through its position; nothing for
/// [`SnapshotBytes::Opaque`]).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct StoredSnapshot {
    /// What the core knows of it.
    pub meta: SnapshotMeta,
    /// Its bytes, as served to followers.
    pub bytes: Vec<u8>,
    /// The state machine it holds.
    pub state: Vec<Entry>,
}

/// The reference host's storage and state machine, in memory.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct MemStorage {
    persistence: Persistence,
    snapshot_bytes: SnapshotBytes,
    /// Durable: the last persisted hard state.
    hard: HardState,
    /// Durable: log entries in lsn order, consecutive; entries at or below
    /// the snapshot's position may remain (the core skips them on restart).
    log: Vec<Entry>,
    /// Durable: the latest snapshot taken or installed.
    snapshot: Option<StoredSnapshot>,
    /// Log writes asked for and not yet durable (lost by a crash).
    queue: Vec<StorageOp>,
    /// Volatile: the state machine, every applied entry after `base`.
    applied: Vec<Entry>,
    /// Volatile: what the state machine started from: zero, or the opaque
    /// snapshot it was restored from (its entries are not known).
    base: Position,
    /// Volatile: the incoming snapshot's bytes received so far.
    staging: Vec<u8>,
    /// Volatile: the snapshot those bytes belong to.
    staging_of: Option<Position>,
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

    /// Builder: storage whose snapshots' bytes are `bytes` (see
    /// [`SnapshotBytes`]).
    pub fn with_snapshot_bytes(mut self, bytes: SnapshotBytes) -> MemStorage {
        self.snapshot_bytes = bytes;
        self
    }

    /// Builder: storage holding `durable` (whose snapshot, if any, has the
    /// bytes `snapshot_bytes`), as a host finds it when it starts a replica
    /// with [`Replica::restart`]`(config, durable, now)`: the state machine
    /// is the snapshot's, with the log entries through `durable.applied`
    /// applied on top (a host whose state machine survived, as
    /// [`Durable::applied`] allows). A later [`crash`](Self::crash) falls
    /// back to the snapshot's state as usual.
    pub fn with_durable(mut self, durable: Durable, snapshot_bytes: Vec<u8>) -> MemStorage {
        self.hard = durable.hard_state;
        self.log = durable.log;
        self.snapshot = durable.snapshot.map(|meta| StoredSnapshot {
            state: self.state_in(&snapshot_bytes),
            meta,
            bytes: snapshot_bytes,
        });
        self.crash();
        let from = self.applied_position().lsn;
        let replayed = self
            .log
            .iter()
            .filter(|e| e.lsn > from && e.lsn <= durable.applied);
        self.applied.extend(replayed.cloned());
        self
    }

    /// Perform the storage side of `output` for `replica`, at `now` (the
    /// replica's local time): persist, truncate, append, compact, apply,
    /// stage and install snapshot chunks, and serve chunks of the durable
    /// snapshot back to the core. Durability is reported to `replica` as
    /// soon as it holds. Outputs with no storage side (`Send`, `Reply`,
    /// `RoleChanged`, reads, `MembershipChanged`) are left to the caller.
    pub fn perform<C: CoreInputs + ?Sized>(
        &mut self,
        replica: &mut C,
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
                let expected = self.applied_position().lsn.next();
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
            Output::ReceiveSnapshotChunk {
                snapshot,
                offset,
                data,
            } => self.stage(*snapshot, *offset, data),
            Output::InstallSnapshot { snapshot, replaced } => {
                self.install(SnapshotMeta::clone(snapshot), replaced)?;
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

    fn write<C: CoreInputs + ?Sized>(
        &mut self,
        replica: &mut C,
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
    pub fn flush<C: CoreInputs + ?Sized>(
        &mut self,
        replica: Option<&mut C>,
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

    /// The crash: volatile state and unflushed writes are gone; the state
    /// machine is the durable snapshot's again.
    pub fn crash(&mut self) {
        self.queue.clear();
        self.staging.clear();
        self.staging_of = None;
        let (state, base) = match &self.snapshot {
            Some(s) if self.snapshot_bytes == SnapshotBytes::Opaque => {
                (Vec::new(), s.meta.position)
            }
            Some(s) => (s.state.clone(), Position::ZERO),
            None => (Vec::new(), Position::ZERO),
        };
        self.applied = state;
        self.base = base;
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

    /// The state machine: every applied entry after
    /// [`applied_base`](Self::applied_base), so from lsn 1 unless it was
    /// restored from an [`SnapshotBytes::Opaque`] snapshot.
    pub fn applied(&self) -> &[Entry] {
        &self.applied
    }

    /// What the state machine's entries follow: zero, or the position of
    /// the opaque snapshot it was restored from.
    pub fn applied_base(&self) -> Position {
        self.base
    }

    /// The position of the last entry the state machine holds (zero for
    /// none).
    pub fn applied_position(&self) -> Position {
        self.applied.last().map_or(self.base, Entry::position)
    }

    /// The bytes of an incoming snapshot staged so far.
    pub fn staged_bytes(&self) -> &[u8] {
        &self.staging
    }

    /// What snapshots' bytes are to this host.
    pub fn snapshot_bytes(&self) -> SnapshotBytes {
        self.snapshot_bytes
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

#[cfg(test)]
#[path = "host_tests.rs"]
mod tests;

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
