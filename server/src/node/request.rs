//! What clients ask of a node, and what it answers.

use super::Status;
use crate::kv::{Command, NodeAddrs};
use steadfast::{MembershipChange, NodeId, Position, SessionToken};
use tokio::sync::oneshot;

/// How a read is served.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReadMode {
    /// On the leader after confirming leadership with a heartbeat round
    /// (read-index); with lease reads on, the lease stands in for the round.
    Linearizable,
    /// On the leader from its lease, with no round trip (the node must be
    /// started with a lease drift bound).
    Lease,
    /// On any node, once it has applied what the session token names (read
    /// your writes, monotonic reads, consistent prefix).
    Session,
    /// On any node, as it stands: no guarantee.
    Stale,
}

/// A committed write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WriteOk {
    /// Where the write is in the log.
    pub position: Position,
    /// The session token, advanced past the write.
    pub token: SessionToken,
}

/// What a read reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReadTarget {
    /// One key.
    Key(String),
    /// Every key that starts with this prefix.
    Prefix(String),
}

impl From<String> for ReadTarget {
    fn from(key: String) -> ReadTarget {
        ReadTarget::Key(key)
    }
}

/// A read's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadOk {
    /// The value, if the key is set (a key read; `None` for a prefix read).
    pub value: Option<Vec<u8>>,
    /// A prefix read: every key under the prefix and its value, in key
    /// order (empty for a key read).
    pub entries: Vec<(String, Vec<u8>)>,
    /// The log position the read observed.
    pub position: Position,
    /// The session token, advanced past the read.
    pub token: SessionToken,
}

/// Why a request was not served.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    /// Only the leader serves this; here is who it is, if known.
    #[error("not the leader (leader: {leader:?})")]
    NotLeader {
        /// The leader, if known.
        leader: Option<NodeId>,
        /// Its addresses, if known.
        addrs: Option<NodeAddrs>,
    },
    /// The write was appended but leadership was lost before it committed:
    /// it may or may not take effect. Retry with the same client id and
    /// sequence number to make sure, exactly once.
    #[error("leadership was lost before the write committed; its outcome is unknown")]
    InDoubt,
    /// The node cannot serve this now (no quorum confirmed a read, a
    /// session read waited too long, a transfer is in progress); retry.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// The request cannot be served here, ever (a bad token, lease reads
    /// off, a refused membership change).
    #[error("{0}")]
    Rejected(String),
    /// The node is stopping.
    #[error("the node is shutting down")]
    ShuttingDown,
}

/// A request to the node thread, with the channel its answer goes to.
#[derive(Debug)]
pub enum Request {
    /// Replicate a write.
    Write {
        /// The command.
        command: Command,
        /// The client's session token.
        token: SessionToken,
        /// Where the answer goes.
        reply: oneshot::Sender<Result<WriteOk, RequestError>>,
    },
    /// Read a key, or every key under a prefix.
    Read {
        /// What is read.
        key: ReadTarget,
        /// How.
        mode: ReadMode,
        /// The client's session token.
        token: SessionToken,
        /// Where the answer goes.
        reply: oneshot::Sender<Result<ReadOk, RequestError>>,
    },
    /// Report the node's status.
    Status {
        /// Where the answer goes.
        reply: oneshot::Sender<Result<Status, RequestError>>,
    },
    /// Hand leadership to another voter.
    Transfer {
        /// The voter.
        to: NodeId,
        /// Where the answer goes.
        reply: oneshot::Sender<Result<(), RequestError>>,
    },
    /// Change the membership (leader only); a new node's addresses are
    /// registered through the log first.
    Membership {
        /// The change.
        change: MembershipChange,
        /// The addresses of a node being added.
        addrs: Option<NodeAddrs>,
        /// Where the answer goes (when the change commits).
        reply: oneshot::Sender<Result<Position, RequestError>>,
    },
}
