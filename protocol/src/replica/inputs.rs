//! What a host hands a replica besides messages and time: its durable state
//! after a crash, and the errors with which inputs are refused.

use super::Role;
use crate::entry::{Entry, HardState};
use crate::snapshot::SnapshotMeta;
use crate::types::{Epoch, Lsn, NodeId};

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
    /// may drop such messages silently).
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
/// had made durable.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Durable {
    /// The last persisted [`HardState`].
    pub hard_state: HardState,
    /// The persisted log, consecutive from lsn 1, or from just after
    /// `snapshot`'s position when there is one (entries at or below it may
    /// be present and are skipped).
    pub log: Vec<Entry>,
    /// How far the host's durable state machine had applied (0 if it keeps
    /// none and re-applies from the start; at least the snapshot's position
    /// when there is one, since the host restores its state from it).
    pub applied: Lsn,
    /// The host's latest durable snapshot, if any: the last one it reported
    /// with [`Replica::snapshot_taken`](super::Replica::snapshot_taken) or installed from an
    /// [`Output::InstallSnapshot`](super::Output::InstallSnapshot).
    pub snapshot: Option<SnapshotMeta>,
}
