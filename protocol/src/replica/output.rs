//! What a replica asks its host to do.

use super::reads::{ReadError, ReadId};
use crate::entry::{Entry, HardState, RequestId};
use crate::membership::Membership;
use crate::snapshot::SnapshotMeta;
use crate::types::{Epoch, Lsn, NodeId, Position};
use crate::wire::Message;
use serde::{Deserialize, Serialize};

/// The role a replica currently plays.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Role {
    /// Follows a leader (or waits for one).
    Follower,
    /// Asking for pre-votes: would the cluster elect me?
    PreCandidate,
    /// Asking for votes in a new epoch.
    Candidate,
    /// Accepts writes and replicates them.
    Leader,
    /// Receives the log but neither campaigns nor counts for commit or
    /// election (it answers a vote request like any member, since it may
    /// have missed its own promotion; only a candidate that counts it as
    /// a voter asks).
    Learner,
}

/// How a proposal ended, as far as this replica can tell.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ProposalOutcome {
    /// Committed under the durability policy at this position: the client
    /// may be acknowledged.
    Committed(Position),
    /// This replica is not the leader; try `leader` if known.
    NotLeader {
        /// The leader this replica believes in, if any.
        leader: Option<NodeId>,
    },
    /// A leadership transfer is in progress; retry on the new leader.
    TransferInProgress,
    /// The replica lost leadership after appending the entry: it may still
    /// commit under the next leader, or be truncated (reported as
    /// [`Output::Truncated`]). The client must not be told it succeeded.
    LeadershipLost {
        /// The new leader, if known.
        leader: Option<NodeId>,
    },
}

/// One thing the host must do. Perform outputs in the order they are polled.
/// Serializable, so that a host can record what its replica asked of it
/// and check a replay against it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Output {
    /// Make this hard state durable (fsync) *before performing any later
    /// output*: a vote or epoch that is forgotten after a crash can elect two
    /// leaders in one epoch.
    PersistHardState(HardState),
    /// Remove every log entry after `after` from durable storage. The removed
    /// entries are listed so nothing disappears silently. Storage writes
    /// (`Truncated`, `Append`) must be applied in order; they may complete
    /// asynchronously, reported with [`Replica::handle_persisted`](crate::Replica::handle_persisted).
    Truncated {
        /// The last entry kept.
        after: Lsn,
        /// The entries removed, oldest first.
        discarded: Vec<Entry>,
    },
    /// Entries this replica had already applied were discarded because a
    /// failover under a durability policy that does not survive failover
    /// lost them. The host must undo their effect (e.g. restore a snapshot
    /// and re-apply); clients acknowledged for them lost their writes.
    RolledBack {
        /// The applied entries that were lost, oldest first.
        entries: Vec<Entry>,
    },
    /// Append these entries to durable storage, after any earlier `Truncated`.
    Append {
        /// Consecutive entries.
        entries: Vec<Entry>,
    },
    /// Send a message. Every durability requirement for it is already met by
    /// earlier outputs: the core emits acknowledgements only after the host
    /// reported the entries persisted.
    Send {
        /// Receiver.
        to: NodeId,
        /// The message.
        message: Message,
    },
    /// These entries are committed: apply them to the state machine, in order.
    Apply {
        /// Consecutive committed entries.
        entries: Vec<Entry>,
    },
    /// Answer a client proposal.
    Reply {
        /// The host's request id from [`Replica::propose`](crate::Replica::propose).
        request: RequestId,
        /// The outcome.
        outcome: ProposalOutcome,
    },
    /// The replica's role, epoch or known leader changed.
    RoleChanged {
        /// The new role.
        role: Role,
        /// The current epoch.
        epoch: Epoch,
        /// The leader, if known.
        leader: Option<NodeId>,
    },
    /// A linearizable read from [`Replica::read_index`](crate::Replica::read_index)
    /// may be served: the host has applied (in the outputs before this one)
    /// at least through `position`, and every write acknowledged before the
    /// read was asked for is at or below it. Serve the state machine as it
    /// stands now.
    ReadReady {
        /// The host's id from `read_index`.
        read: ReadId,
        /// The position the read is served at (at least).
        position: Position,
    },
    /// A linearizable read could not be confirmed and must not be served.
    ReadFailed {
        /// The host's id from `read_index`.
        read: ReadId,
        /// Why.
        error: ReadError,
    },
    /// Log compaction: the snapshot the host reported with
    /// [`Replica::snapshot_taken`](crate::Replica::snapshot_taken) covers
    /// every entry through `through`, so the host may delete them from
    /// durable storage (and any older snapshot). Entries after `through`
    /// must be kept.
    Compacted {
        /// The last entry the host may delete.
        through: Position,
    },
    /// Leader: read up to `max_len` bytes at `offset` of the snapshot at
    /// `snapshot` and hand them back with
    /// [`Replica::handle_snapshot_chunk`](crate::Replica::handle_snapshot_chunk)
    /// (a shorter chunk only at the end). If the host no longer has that
    /// snapshot it may ignore the request; the core asks again, for its
    /// newest snapshot, on a later heartbeat.
    ReadSnapshotChunk {
        /// The follower the chunk is for.
        to: NodeId,
        /// The snapshot's position.
        snapshot: Position,
        /// Where to read.
        offset: u64,
        /// The most bytes to read.
        max_len: usize,
    },
    /// Follower: store `data` at `offset` of the incoming snapshot at
    /// `snapshot`, in a staging area apart from the state machine. Offset 0
    /// starts a new incoming snapshot (discard any staged bytes); later
    /// chunks follow on directly. Staging need not be durable.
    ReceiveSnapshotChunk {
        /// The snapshot's position.
        snapshot: Position,
        /// Where the bytes go.
        offset: u64,
        /// The bytes.
        data: Vec<u8>,
    },
    /// Follower: the staged snapshot is complete and its checksum verified.
    /// Replace the state machine with it, delete every log entry at or
    /// below `snapshot.position` and record `snapshot` as the durable
    /// snapshot, all durably *before performing any later output*. Entries
    /// after the position are kept (an earlier `Truncated` removed any that
    /// conflicted, with every entry the snapshot's history cannot hold).
    InstallSnapshot {
        /// The installed snapshot. Boxed: installs are rare, and every
        /// output is as large as its largest kind.
        snapshot: Box<SnapshotMeta>,
        /// The positions of the entries at or below the snapshot's position
        /// this replica held but had not applied, which the install deletes
        /// without reporting them `Truncated` (those the snapshot's history
        /// cannot hold are reported `Truncated` first). Each is in the
        /// snapshot or was never committed: certainly in it if of the
        /// snapshot's epoch, or at or below such an entry of this list (log
        /// matching); otherwise only the snapshot's state can tell (a table
        /// of applied request ids, say). A host settling a write left in
        /// doubt ([`ProposalOutcome::LeadershipLost`]) uses this;
        /// `steadfast_driver::Driver` does. Nothing leaves the log
        /// unreported. (Under a policy that loses writes on failover, an
        /// entry already applied here may be missing from the snapshot too:
        /// the snapshot's state is then the truth.)
        replaced: Vec<Position>,
    },
    /// The membership this replica uses changed: a membership entry was
    /// appended, truncated away or installed with a snapshot. Informational
    /// (e.g. to open connections to new members).
    MembershipChanged {
        /// The membership now in force here.
        membership: Membership,
    },
}
