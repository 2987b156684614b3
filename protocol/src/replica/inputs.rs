//! What a host hands a replica besides messages and time: its durable state
//! after a crash, and the errors with which inputs are refused.

use super::Role;
use crate::config::ConfigError;
use crate::entry::{Entry, HardState};
use crate::snapshot::SnapshotMeta;
use crate::types::{Epoch, Lsn, NodeId, Position};

/// Why a proposal was refused outright (nothing was appended).
#[derive(Clone, Debug, PartialEq, Eq, Hash, thiserror::Error)]
pub enum ProposeError {
    /// This replica is not the leader.
    #[error("not the leader (leader hint: {leader:?})")]
    NotLeader {
        /// The leader this replica believes in, if any.
        leader: Option<NodeId>,
    },
    /// A leadership transfer is in progress.
    #[error("leadership transfer in progress; retry on the new leader")]
    TransferInProgress,
}

/// Why an input was rejected without effect. Apart from late messages of a
/// removed member (see [`InputError::UnknownSender`]), none of these can be
/// caused by a correct peer; all of them can be caused by a faulty or
/// hostile one, and the replica survives every one of them unchanged.
#[derive(Clone, Debug, PartialEq, Eq, Hash, thiserror::Error)]
pub enum InputError {
    /// The sender is not a member of the membership in force here: a
    /// stranger, or a correct node removed since it sent the message (hosts
    /// may drop such messages silently). Vote requests, and a leader's
    /// appends and snapshot chunks of this replica's epoch or a later one,
    /// are heard from anyone: the membership in force can leave out a
    /// correct candidate or leader (an uncommitted change, a log behind its
    /// addition), so hosts must deliver those whoever sent them.
    #[error("message from {0}, which is not a member of the cluster")]
    UnknownSender(NodeId),
    /// The sender claims to be this replica.
    #[error("message claims to come from this replica itself")]
    FromSelf,
    /// An append whose entries are not consecutive after `prev`, or whose
    /// epochs decrease or exceed the sender's epoch.
    #[error("malformed append: {0}")]
    MalformedAppend(&'static str),
    /// A second leader in this replica's own epoch: impossible in a correct
    /// cluster (at most one leader per epoch).
    #[error("append from {from} in epoch {epoch}, in which this replica is the leader")]
    ConflictingLeader {
        /// The sender.
        from: NodeId,
        /// The shared epoch.
        epoch: Epoch,
    },
    /// A leadership transfer to a node that cannot take it.
    #[error("cannot transfer leadership to {0}: not a voting follower")]
    BadTransferTarget(NodeId),
    /// The operation needs the leader role.
    #[error("only the leader can do this (leader hint: {leader:?})")]
    NotLeader {
        /// The leader this replica believes in, if any.
        leader: Option<NodeId>,
    },
    /// [`Replica::campaign`](super::Replica::campaign) on a replica that
    /// cannot campaign: a leader, or a learner.
    #[error("a {0:?} does not campaign")]
    CannotCampaign(Role),
    /// A snapshot chunk that does not fit its snapshot (past its size,
    /// `done` on the wrong chunk, or empty before the end).
    #[error("malformed snapshot chunk: {0}")]
    MalformedSnapshot(&'static str),
}

/// What a host passes to rebuild a replica after a crash: exactly what it
/// had made durable. Serializable, so that a host can record what it
/// restarted from.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Durable {
    /// The last persisted [`HardState`].
    pub hard_state: HardState,
    /// The persisted log: contiguous lsns with non-decreasing epochs, none
    /// past `hard_state`'s epoch. Without a snapshot it starts at lsn 1;
    /// with one it starts anywhere from lsn 1 to just after the snapshot's
    /// position, and the entries at or below that position (which a host
    /// may keep until it performs [`Output::Compacted`](super::Output::Compacted))
    /// must agree with it: the entry at its lsn has its epoch, entries
    /// before it are of its epoch or older, entries after it of its epoch
    /// or newer. Covered entries are skipped; the rest follow the snapshot.
    pub log: Vec<Entry>,
    /// How far the host's durable state machine had applied (0 if it keeps
    /// none and re-applies from the start; at least the snapshot's position
    /// when there is one, since the host restores its state from it; never
    /// past the last entry of the log or snapshot).
    pub applied: Lsn,
    /// The host's latest durable snapshot, if any: the last one it reported
    /// with [`Replica::snapshot_taken`](super::Replica::snapshot_taken) or installed from an
    /// [`Output::InstallSnapshot`](super::Output::InstallSnapshot).
    pub snapshot: Option<SnapshotMeta>,
}

/// Where a membership that [`Replica::restart`](super::Replica::restart)
/// was given comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MembershipSource {
    /// The durable snapshot's membership (the snapshot at this position).
    Snapshot(Position),
    /// A membership entry of the durable log, at this lsn.
    Entry(Lsn),
}

impl std::fmt::Display for MembershipSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MembershipSource::Snapshot(position) => write!(f, "the snapshot at {position}"),
            MembershipSource::Entry(lsn) => write!(f, "the log entry at lsn {lsn}"),
        }
    }
}

/// Why [`Replica::restart`](super::Replica::restart) refused to rebuild a
/// replica: an invalid configuration, or [`Durable`] state that no correct
/// host could have written (a torn or corrupted log, a lost hard state, a
/// snapshot from another history). Restarting from it anyway could drop
/// entries the host reported durable or applied, or diverge silently, so
/// the host must repair or replace its storage instead.
#[derive(Clone, Debug, PartialEq, Eq, Hash, thiserror::Error)]
pub enum RestartError {
    /// The configuration is invalid.
    #[error("invalid configuration: {0}")]
    Config(#[from] ConfigError),
    /// The log's first entry is not where a log can start.
    #[error("the durable log starts at lsn {first}; expected it to start at lsn 1 through {latest} (1 without a snapshot, at most just after the snapshot)")]
    BadLogStart {
        /// The first entry's lsn.
        first: Lsn,
        /// The latest lsn the log may start at.
        latest: Lsn,
    },
    /// Two consecutive entries of the log do not have consecutive lsns
    /// (a gap, a duplicate or a step back).
    #[error("the durable log is not contiguous: the entry after lsn {previous} has lsn {found}; expected lsn {expected}")]
    LogGap {
        /// The lsn before the gap.
        previous: Lsn,
        /// The lsn found after it.
        found: Lsn,
        /// The lsn expected there.
        expected: Lsn,
    },
    /// An entry is of an older epoch than the entry before it.
    #[error("epochs go back in the durable log: the entry at lsn {lsn} has epoch {epoch}, older than the {previous} before it; expected non-decreasing epochs")]
    LogEpochRegression {
        /// Where the epoch goes back.
        lsn: Lsn,
        /// Its epoch.
        epoch: Epoch,
        /// The epoch before it.
        previous: Epoch,
    },
    /// An entry is of an epoch past the hard state's: the hard state is
    /// made durable before any entry of its epoch, so it was lost or the
    /// entry is corrupt.
    #[error("the durable log holds {entry}, of an epoch past the hard state's {epoch}; expected every entry's epoch to be at most {epoch}")]
    LogPastHardState {
        /// The first such entry.
        entry: Position,
        /// The hard state's epoch.
        epoch: Epoch,
    },
    /// The snapshot is of an epoch past the hard state's.
    #[error("the durable snapshot at {snapshot} is of an epoch past the hard state's {epoch}; expected its epoch to be at most {epoch}")]
    SnapshotPastHardState {
        /// The snapshot's position.
        snapshot: Position,
        /// The hard state's epoch.
        epoch: Epoch,
    },
    /// The log holds an entry at the snapshot's lsn, of another epoch.
    #[error("the durable log holds {found} at the lsn of the snapshot at {snapshot}; expected the snapshot's epoch there")]
    SnapshotMismatch {
        /// The snapshot's position.
        snapshot: Position,
        /// The log's entry at that lsn.
        found: Position,
    },
    /// An entry cannot be in the same history as the snapshot: one before
    /// it of a newer epoch, or one after it of an older epoch.
    #[error("the durable log entry {entry} cannot share a history with the snapshot at {snapshot}; expected entries before the snapshot to be of its epoch or older, and entries after it of its epoch or newer")]
    EpochAgainstSnapshot {
        /// The entry.
        entry: Position,
        /// The snapshot's position.
        snapshot: Position,
    },
    /// The applied lsn is past the last entry of the log (or snapshot).
    #[error("the host reports lsn {applied} applied, past the last durable entry (lsn {last}); expected applied at most {last}")]
    AppliedPastLog {
        /// The applied lsn reported.
        applied: Lsn,
        /// The last lsn of the log or snapshot.
        last: Lsn,
    },
    /// The applied lsn is below the snapshot, from which the host restores
    /// its state machine.
    #[error("the host reports lsn {applied} applied, below its snapshot at {snapshot}; expected at least the snapshot's lsn")]
    AppliedBelowSnapshot {
        /// The applied lsn reported.
        applied: Lsn,
        /// The snapshot's position.
        snapshot: Position,
    },
    /// A membership (of the snapshot or of a log entry) has no voters.
    #[error("the membership of {origin} has no voters; expected at least one")]
    MembershipWithoutVoters {
        /// Where the membership is.
        origin: MembershipSource,
    },
    /// A membership lists a node both as voter and as learner.
    #[error("the membership of {origin} lists {node} both as voter and as learner; expected each member once")]
    MembershipVoterAndLearner {
        /// Where the membership is.
        origin: MembershipSource,
        /// The node listed twice.
        node: NodeId,
    },
}
