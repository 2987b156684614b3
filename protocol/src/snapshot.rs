//! Snapshots of the host's state machine, as the core knows them: a
//! position, the membership in force there, and the size and checksum of
//! the bytes (which only the host holds).

use crate::membership::Membership;
use crate::types::Position;
use serde::{Deserialize, Serialize};

/// Describes one snapshot: the host's state machine after applying every
/// entry through `position`. The bytes stay with the host; the core moves
/// them between hosts in chunks ([`Output::ReadSnapshotChunk`],
/// [`Message::InstallSnapshot`]).
///
/// [`Output::ReadSnapshotChunk`]: crate::Output::ReadSnapshotChunk
/// [`Message::InstallSnapshot`]: crate::Message::InstallSnapshot
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct SnapshotMeta {
    /// The last entry the snapshot includes.
    pub position: Position,
    /// The membership in force at `position`.
    pub membership: Membership,
    /// Size of the snapshot's bytes.
    pub size: u64,
    /// CRC32C of the snapshot's bytes, checked by the receiver before it
    /// installs them.
    pub checksum: u32,
}

/// Why a snapshot input was refused without effect.
#[derive(Clone, Debug, PartialEq, Eq, Hash, thiserror::Error)]
pub enum SnapshotError {
    /// The position is not an entry of this replica's retained log.
    #[error("snapshot position {0} is not in the log")]
    UnknownPosition(Position),
    /// The snapshot would include entries not yet applied.
    #[error("snapshot at {position} is past the applied lsn {applied}")]
    NotApplied {
        /// The snapshot's position.
        position: Position,
        /// This replica's applied lsn.
        applied: crate::types::Lsn,
    },
    /// A snapshot at or after this position is already known.
    #[error("a snapshot at {known} is already known; {offered} is not newer")]
    NotNewer {
        /// The current snapshot's position.
        known: Position,
        /// The refused one.
        offered: Position,
    },
    /// A chunk that no transfer asked for (wrong peer, snapshot or offset,
    /// or this replica no longer leads).
    #[error("no snapshot transfer to {to} expects a chunk of {snapshot} at offset {offset}")]
    UnexpectedChunk {
        /// The peer named.
        to: crate::types::NodeId,
        /// The snapshot named.
        snapshot: Position,
        /// The offset named.
        offset: u64,
    },
    /// A chunk that does not fit the snapshot: empty before the end, longer
    /// than the requested length, or running past the snapshot's size.
    #[error("chunk of {len} bytes at offset {offset} does not fit a snapshot of {size} bytes (at most {max_len} per chunk)")]
    BadChunk {
        /// The offset.
        offset: u64,
        /// The chunk's length.
        len: u64,
        /// The snapshot's size.
        size: u64,
        /// The largest chunk allowed.
        max_len: u64,
    },
}
