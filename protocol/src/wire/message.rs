//! The messages replicas exchange.

use crate::entry::Entry;
use crate::snapshot::SnapshotMeta;
use crate::types::{Epoch, Lsn, NodeId, Position};
use serde::{Deserialize, Serialize};

/// A message from one replica to another. Every message carries the
/// sender's epoch: a receiver rejects messages from an older epoch (fencing)
/// and steps down when it sees a newer one.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum Message {
    /// Leader → follower: entries after `prev`, or a heartbeat when empty.
    Append {
        /// The leader's epoch.
        epoch: Epoch,
        /// The entry just before `entries` in the leader's log: the follower
        /// accepts only if its own log holds exactly this position.
        prev: Position,
        /// Consecutive entries following `prev`.
        entries: Vec<Entry>,
        /// The leader's commit point.
        commit: Lsn,
        /// The leader's current heartbeat round in this epoch. Followers echo
        /// the highest round they have seen from their leader in every
        /// `AppendResponse`; a leader uses the echoes to confirm that it
        /// still leads (read-index reads) and to extend its read lease.
        round: u64,
    },
    /// Follower → leader: the outcome of an `Append`.
    AppendResponse {
        /// The responder's epoch.
        epoch: Epoch,
        /// What happened.
        result: AppendResult,
        /// The highest heartbeat round the responder has seen from its
        /// leader in `epoch` (0 when none, e.g. in a fencing answer).
        round: u64,
    },
    /// Candidate → voter: a (pre-)vote request.
    RequestVote {
        /// The epoch the candidate asks to lead (for a pre-vote: the epoch it
        /// would ask for; the voter does not adopt it).
        epoch: Epoch,
        /// The candidate's last log position, for the up-to-date check.
        last: Position,
        /// A pre-vote: "would you vote for me?" without changing any state.
        pre_vote: bool,
        /// Sent on a leader's request (leadership transfer): voters do not
        /// ignore it for having heard from a live leader recently.
        transfer: bool,
    },
    /// Voter → candidate.
    VoteResponse {
        /// For a granted pre-vote, the epoch asked for; otherwise the voter's epoch.
        epoch: Epoch,
        /// Whether this answers a pre-vote.
        pre_vote: bool,
        /// Whether the vote was granted.
        granted: bool,
    },
    /// Leader → a caught-up follower: start an election now (leadership transfer).
    TimeoutNow {
        /// The leader's epoch.
        epoch: Epoch,
    },
    /// Leader → a follower whose next needed entry was compacted away: one
    /// chunk of the leader's snapshot. Chunks go one at a time, each after
    /// the answer to the previous one; the follower checks the CRC32C in
    /// `snapshot` over all the bytes before it installs them.
    InstallSnapshot {
        /// The leader's epoch.
        epoch: Epoch,
        /// Which snapshot (position, membership, size, checksum). Boxed:
        /// snapshot chunks are rare, and every message is as large as its
        /// largest kind.
        snapshot: Box<SnapshotMeta>,
        /// Where `data` starts in the snapshot's bytes.
        offset: u64,
        /// The bytes at `offset` (at most `Config::max_snapshot_chunk_bytes`).
        data: Vec<u8>,
        /// This chunk ends the snapshot (`offset + data.len() == size`).
        done: bool,
    },
    /// Follower → leader: how much of a snapshot it holds. The leader sends
    /// the chunk at `next_offset` next (0: start over). Once the snapshot is
    /// installed, the follower answers with an `AppendResponse` instead.
    InstallSnapshotResponse {
        /// The responder's epoch.
        epoch: Epoch,
        /// The snapshot's position.
        snapshot: Position,
        /// The offset of the first byte the follower still needs.
        next_offset: u64,
    },
}

/// The outcome of an `Append`, as reported by the follower.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum AppendResult {
    /// The follower's log matches the leader's through `matched`, and it is
    /// durable there; it has applied through `applied`.
    Accepted {
        /// Highest lsn known to match the leader and be persisted.
        matched: Lsn,
        /// Highest lsn applied to the follower's state machine.
        applied: Lsn,
    },
    /// The follower's log does not hold `rejected_prev`'s position.
    Rejected {
        /// The `prev.lsn` of the append that was rejected.
        rejected_prev: Lsn,
        /// Where the leader should look for the divergence point: the
        /// follower's last entry at or below `rejected_prev` whose epoch is at
        /// most the rejected prev's epoch (or its last entry when shorter).
        hint: Position,
    },
}

impl Message {
    /// The epoch the message carries.
    pub fn epoch(&self) -> Epoch {
        match self {
            Message::Append { epoch, .. }
            | Message::AppendResponse { epoch, .. }
            | Message::RequestVote { epoch, .. }
            | Message::VoteResponse { epoch, .. }
            | Message::TimeoutNow { epoch }
            | Message::InstallSnapshot { epoch, .. }
            | Message::InstallSnapshotResponse { epoch, .. } => *epoch,
        }
    }

    /// A short name for traces.
    pub fn kind(&self) -> &'static str {
        match self {
            Message::Append { entries, .. } if entries.is_empty() => "Heartbeat",
            Message::Append { .. } => "Append",
            Message::AppendResponse { .. } => "AppendResponse",
            Message::RequestVote { pre_vote: true, .. } => "PreVote",
            Message::RequestVote { .. } => "RequestVote",
            Message::VoteResponse { pre_vote: true, .. } => "PreVoteResponse",
            Message::VoteResponse { .. } => "VoteResponse",
            Message::TimeoutNow { .. } => "TimeoutNow",
            Message::InstallSnapshot { .. } => "InstallSnapshot",
            Message::InstallSnapshotResponse { .. } => "InstallSnapshotResponse",
        }
    }
}

/// A message with its addressing, as a host would put it on the network.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Envelope {
    /// Sender.
    pub from: NodeId,
    /// Receiver.
    pub to: NodeId,
    /// The message.
    pub message: Message,
}
