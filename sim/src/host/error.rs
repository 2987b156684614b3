//! [`HostError`]: what the reference host refuses to do for the core.

use steadfast::{HardState, Lsn, Position, SnapshotError};
use thiserror::Error;

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
    /// A snapshot chunk that does not follow the staged bytes (of the same
    /// snapshot, at the offset where they end).
    #[error("a chunk of the snapshot at {snapshot} at offset {offset} does not follow the {staged} staged bytes of {staged_of:?}")]
    StagingGap {
        /// The chunk's snapshot.
        snapshot: Position,
        /// The chunk's offset.
        offset: u64,
        /// The snapshot whose bytes are staged, if any.
        staged_of: Option<Position>,
        /// Bytes staged so far.
        staged: usize,
    },
    /// Staged bytes that are not the snapshot the core installs.
    #[error("told to install the snapshot at {position} ({size} bytes, crc {crc:#x}) over {staged} staged bytes of {staged_of:?} (crc {staged_crc:#x})")]
    SnapshotMismatch {
        /// The snapshot installed.
        position: Position,
        /// The snapshot whose bytes are staged, if any.
        staged_of: Option<Position>,
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
