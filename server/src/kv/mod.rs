//! The replicated state machine: a key-value map, the clients' last
//! sequence numbers (so a retried write is applied exactly once), and the
//! directory of node addresses (so every node learns how to reach a member
//! that joined after it started).
//!
//! Commands travel through the log as postcard-encoded [`Command`]s. Apply
//! is deterministic and total: an entry that does not decode is counted
//! and skipped, never a panic, so every replica stays in the same state.

mod command;

pub use command::{Command, NodeAddrs};

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use steadfast::{Entry, EntryKind, Membership, NodeId, Position};

/// What applying one entry did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Applied {
    /// A command took effect.
    Done,
    /// A node's addresses were recorded.
    Registered,
    /// A retry of a write already applied (same client, sequence number at
    /// or below the last applied): no effect.
    Duplicate,
    /// Not a command of ours (a no-op, a membership change).
    NotACommand,
    /// The command's bytes did not decode; skipped on every replica alike.
    Undecodable,
}

/// The key-value state as of [`KvState::applied`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KvState {
    data: BTreeMap<String, Vec<u8>>,
    /// Per client: the highest sequence number applied.
    clients: BTreeMap<u64, u64>,
    /// Node addresses registered through the log.
    directory: BTreeMap<NodeId, NodeAddrs>,
    applied: Position,
    /// The membership in force at `applied`, once the log changed it.
    membership: Option<Membership>,
    undecodable: u64,
}

/// Snapshot bytes that are not a key-value state.
#[derive(Debug, thiserror::Error)]
#[error("snapshot bytes are not a key-value state: {0}")]
pub struct RestoreError(String);

impl KvState {
    /// The empty state.
    pub fn new() -> KvState {
        KvState::default()
    }

    /// The state a snapshot's bytes hold.
    pub fn restore(bytes: &[u8]) -> Result<KvState, RestoreError> {
        postcard::from_bytes(bytes).map_err(|e| RestoreError(e.to_string()))
    }

    /// The state as snapshot bytes.
    pub fn snapshot(&self) -> Vec<u8> {
        // Encoding maps of strings and bytes cannot fail.
        postcard::to_allocvec(self).unwrap_or_default()
    }

    /// The position of the last entry applied.
    pub fn applied(&self) -> Position {
        self.applied
    }

    /// The value at `key`.
    pub fn get(&self, key: &str) -> Option<&[u8]> {
        self.data.get(key).map(Vec::as_slice)
    }

    /// Every key that starts with `prefix` and its value, in key order.
    pub fn scan_prefix<'a>(&'a self, prefix: &'a str) -> impl Iterator<Item = (&'a str, &'a [u8])> {
        self.data
            .range::<str, _>((
                std::ops::Bound::Included(prefix),
                std::ops::Bound::Unbounded,
            ))
            .take_while(move |(key, _)| key.starts_with(prefix))
            .map(|(key, value)| (key.as_str(), value.as_slice()))
    }

    /// How many keys are set.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// Whether no key is set.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The addresses registered for `node`.
    pub fn addrs(&self, node: NodeId) -> Option<&NodeAddrs> {
        self.directory.get(&node)
    }

    /// Every registered node's addresses.
    pub fn directory(&self) -> &BTreeMap<NodeId, NodeAddrs> {
        &self.directory
    }

    /// The membership in force at [`KvState::applied`], if a membership
    /// entry was applied (before that: the cluster's initial one).
    pub fn membership(&self) -> Option<&Membership> {
        self.membership.as_ref()
    }

    /// Entries whose command did not decode, so far.
    pub fn undecodable(&self) -> u64 {
        self.undecodable
    }

    /// Apply one committed entry.
    pub fn apply(&mut self, entry: &Entry) -> Applied {
        self.applied = entry.position();
        let bytes = match &entry.kind {
            EntryKind::Command(bytes) => bytes,
            EntryKind::Membership(membership) => {
                self.membership = Some(Membership::clone(membership));
                return Applied::NotACommand;
            }
            EntryKind::Noop => return Applied::NotACommand,
        };
        let Some(command) = Command::decode(bytes) else {
            self.undecodable = self.undecodable.saturating_add(1);
            return Applied::Undecodable;
        };
        if let Some((client, seq)) = command.session() {
            let last = self.clients.entry(client).or_insert(0);
            if seq <= *last {
                return Applied::Duplicate;
            }
            *last = seq;
        }
        match command {
            Command::Put { key, value, .. } => {
                self.data.insert(key, value);
            }
            Command::Delete { key, .. } => {
                self.data.remove(&key);
            }
            Command::Register { node, addrs } => {
                self.directory.insert(node, addrs);
                return Applied::Registered;
            }
        }
        Applied::Done
    }
}

#[cfg(test)]
mod tests;
