//! What can go wrong with the transport.

use super::handshake::Refusal;
use std::net::SocketAddr;
use std::time::Duration;
use steadfast::NodeId;

/// The transport could not start, or a connection to a peer failed.
///
/// [`Transport::start`](super::Transport::start) returns the configuration
/// and bind errors; the others end one connection attempt of a background
/// task, which logs them and tries again later.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// `queue_capacity` is zero: no message could ever be queued.
    #[error("queue_capacity is 0: each peer's queue must hold at least one message")]
    ZeroQueueCapacity,
    /// The backoff bounds cannot make a doubling sequence.
    #[error(
        "backoff from {min:?} to {max:?}: the minimum must be positive and at most the maximum"
    )]
    Backoff {
        /// The configured `backoff_min`.
        min: Duration,
        /// The configured `backoff_max`.
        max: Duration,
    },
    /// The node is listed among its own peers.
    #[error("node {0} is listed among its own peers")]
    SelfAsPeer(NodeId),
    /// The listening socket could not be bound.
    #[error("bind {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// A connection to a peer failed or was closed.
    #[error("{action} node {peer} at {addr}: {source}")]
    Io {
        /// What was being done ("connect to", "send a hello to", …).
        action: &'static str,
        /// The peer.
        peer: NodeId,
        /// The peer's address.
        addr: SocketAddr,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// A peer did not answer in time.
    #[error("{action} node {peer} at {addr}: no answer within {after:?}")]
    Timeout {
        /// What was being done.
        action: &'static str,
        /// The peer.
        peer: NodeId,
        /// The peer's address.
        addr: SocketAddr,
        /// How long this node waited.
        after: Duration,
    },
    /// The peer closed the connection before answering the hello.
    #[error("node {peer} at {addr} closed the connection before answering the hello")]
    Closed {
        /// The peer.
        peer: NodeId,
        /// The peer's address.
        addr: SocketAddr,
    },
    /// The peer refused this node's hello.
    #[error("node {peer} at {addr} refused the handshake: {reason}")]
    Refused {
        /// The peer.
        peer: NodeId,
        /// The peer's address.
        addr: SocketAddr,
        /// The reason it gave.
        reason: Refusal,
    },
    /// The peer's answer to the hello is not a valid accept or refusal, or
    /// is an accept from the wrong node or cluster.
    #[error("node {peer} at {addr} answered the handshake wrongly: {reason}")]
    BadAnswer {
        /// The peer dialed.
        peer: NodeId,
        /// The peer's address.
        addr: SocketAddr,
        /// What was wrong with the answer.
        reason: Refusal,
    },
}
