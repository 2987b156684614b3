//! Why a handshake is refused, and how a reason travels in a refusal
//! frame: a code and two details.

use super::MAGIC;
use steadfast::NodeId;

/// Why a handshake frame was refused: sent to the dialer in a refusal
/// frame, counted and logged by the acceptor; a dialer refuses a bad answer
/// for the same reasons.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The frame does not start with the handshake's magic bytes: whoever
    /// connected does not speak this protocol.
    #[error("not a steadfast peer handshake: magic bytes {found:02x?}, expected {MAGIC:02x?}")]
    Magic {
        /// The first four bytes found.
        found: [u8; 4],
    },
    /// The frame is of another handshake version.
    #[error("handshake version {found}, this node speaks version {expected}")]
    Version {
        /// The version found.
        found: u8,
        /// The version this node speaks.
        expected: u8,
    },
    /// The frame is not as long as its kind requires.
    #[error("handshake frame of {found} bytes, expected {expected}")]
    Length {
        /// The frame's length.
        found: usize,
        /// The length its kind requires (the header's, when too short to have a kind).
        expected: usize,
    },
    /// The frame is longer than any handshake frame.
    #[error("handshake frame longer than the limit of {limit} bytes")]
    TooLong {
        /// The longest handshake frame read.
        limit: usize,
    },
    /// The frame is of an unknown kind, or not of the kind expected here
    /// (a hello where an answer was due, or the other way round).
    #[error("handshake frame of unexpected kind {found}")]
    Kind {
        /// The kind byte found.
        found: u8,
    },
    /// A refusal frame with a reason this build does not know, or details
    /// out of range for its reason.
    #[error("refusal with unknown reason code {code} or details out of range")]
    Reason {
        /// The reason code found.
        code: u8,
    },
    /// The sender belongs to another cluster.
    #[error("cluster id {found}, expected {expected}")]
    Cluster {
        /// The sender's cluster id.
        found: u64,
        /// This node's cluster id.
        expected: u64,
    },
    /// The frame is addressed to another node.
    #[error("addressed to node {found}, but this is node {expected}")]
    WrongNode {
        /// The node addressed.
        found: NodeId,
        /// This node.
        expected: NodeId,
    },
    /// The dialer is not one of the acceptor's peers.
    #[error("node {0} is not a peer of this node")]
    UnknownPeer(NodeId),
    /// A node dialed a node with a smaller id; the smaller always dials,
    /// so that each pair has one connection.
    #[error("node {from} dialed node {to}, but the node with the smaller id dials")]
    Direction {
        /// The dialer.
        from: NodeId,
        /// The acceptor.
        to: NodeId,
    },
    /// The accept came from another node than the one dialed.
    #[error("answered by node {found}, but node {expected} was dialed")]
    WrongPeer {
        /// The node that answered.
        found: NodeId,
        /// The node dialed.
        expected: NodeId,
    },
}

impl Refusal {
    /// The reason's code and details on the wire.
    pub(super) fn to_wire(self) -> (u8, u64, u64) {
        match self {
            Refusal::Magic { found } => (1, u64::from(u32::from_be_bytes(found)), 0),
            Refusal::Version { found, expected } => (2, found.into(), expected.into()),
            Refusal::Length { found, expected } => (3, found as u64, expected as u64),
            Refusal::TooLong { limit } => (4, limit as u64, 0),
            Refusal::Kind { found } => (5, found.into(), 0),
            Refusal::Reason { code } => (6, code.into(), 0),
            Refusal::Cluster { found, expected } => (7, found, expected),
            Refusal::WrongNode { found, expected } => (8, found.0, expected.0),
            Refusal::UnknownPeer(node) => (9, node.0, 0),
            Refusal::Direction { from, to } => (10, from.0, to.0),
            Refusal::WrongPeer { found, expected } => (11, found.0, expected.0),
        }
    }

    /// The reason a refusal frame names, or `Reason` when it names none
    /// this build knows.
    pub(super) fn from_wire(code: u8, a: u64, b: u64) -> Result<Refusal, Refusal> {
        let bad = Refusal::Reason { code };
        let byte = |v: u64| u8::try_from(v).map_err(|_| bad);
        let size = |v: u64| usize::try_from(v).map_err(|_| bad);
        // A reason with one detail has zero for the other: one encoding each.
        let one_detail = matches!(code, 1 | 4 | 5 | 6 | 9);
        if one_detail && b != 0 {
            return Err(bad);
        }
        Ok(match code {
            1 => Refusal::Magic {
                found: u32::try_from(a).map_err(|_| bad)?.to_be_bytes(),
            },
            2 => Refusal::Version {
                found: byte(a)?,
                expected: byte(b)?,
            },
            3 => Refusal::Length {
                found: size(a)?,
                expected: size(b)?,
            },
            4 => Refusal::TooLong { limit: size(a)? },
            5 => Refusal::Kind { found: byte(a)? },
            6 => Refusal::Reason { code: byte(a)? },
            7 => Refusal::Cluster {
                found: a,
                expected: b,
            },
            8 => Refusal::WrongNode {
                found: NodeId(a),
                expected: NodeId(b),
            },
            9 => Refusal::UnknownPeer(NodeId(a)),
            10 => Refusal::Direction {
                from: NodeId(a),
                to: NodeId(b),
            },
            11 => Refusal::WrongPeer {
                found: NodeId(a),
                expected: NodeId(b),
            },
            _ => return Err(bad),
        })
    }
}
