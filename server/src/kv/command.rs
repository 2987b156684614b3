//! The commands clients' writes become, as they travel through the log.

use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use steadfast::{Bytes, NodeId};

/// How to reach a node: its peer (TCP) and client (HTTP) addresses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeAddrs {
    /// Where peers connect.
    pub peer: SocketAddr,
    /// Where clients connect.
    pub http: SocketAddr,
}

/// One write of the replicated state machine.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Command {
    /// Set `key` to `value`. `client` and `seq` make a retry idempotent:
    /// a client numbers its writes 1, 2, 3, … and reuses a number only to
    /// retry that write.
    Put {
        /// The key.
        key: String,
        /// The value.
        value: Vec<u8>,
        /// The writing client (0: no exactly-once bookkeeping).
        client: u64,
        /// The client's sequence number for this write.
        seq: u64,
    },
    /// Remove `key`.
    Delete {
        /// The key.
        key: String,
        /// The writing client (0: no exactly-once bookkeeping).
        client: u64,
        /// The client's sequence number for this write.
        seq: u64,
    },
    /// Record `node`'s addresses, so that every replica can reach it
    /// (written before a node is added to the membership).
    Register {
        /// The node.
        node: NodeId,
        /// Its addresses.
        addrs: NodeAddrs,
    },
}

impl Command {
    /// The command as log payload.
    pub fn encode(&self) -> Bytes {
        // Encoding strings, bytes and integers cannot fail.
        Bytes::from(postcard::to_allocvec(self).unwrap_or_default())
    }

    /// The command a log payload holds, if it is one.
    pub fn decode(bytes: &[u8]) -> Option<Command> {
        match postcard::take_from_bytes(bytes) {
            Ok((command, [])) => Some(command),
            _ => None,
        }
    }

    /// The exactly-once session of a client write: `(client, seq)`, when
    /// the client asked for one (client id not 0).
    pub fn session(&self) -> Option<(u64, u64)> {
        match self {
            Command::Put { client, seq, .. } | Command::Delete { client, seq, .. }
                if *client != 0 =>
            {
                Some((*client, *seq))
            }
            _ => None,
        }
    }
}
