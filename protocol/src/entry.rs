//! Log entries and the state a replica must make durable.

use crate::membership::Membership;
use crate::types::{Epoch, Lsn, NodeId, Position};
use bytes::Bytes;
use serde::{Deserialize, Serialize};

/// A host-chosen identifier for a client proposal, echoed in its reply so the
/// host can match replies to requests.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct RequestId(pub u64);

impl std::fmt::Display for RequestId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "request {}", self.0)
    }
}

/// What an entry carries.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum EntryKind {
    /// Written by every new leader before anything else, so that it can
    /// commit an entry of its own epoch (and with it, everything before).
    Noop,
    /// An opaque command for the host's state machine. Any replication-log
    /// format (statement, physical, logical, trigger) rides here as bytes.
    /// Shared, not copied: cloning an entry (into a message, an output)
    /// only counts a reference. Encoded on the wire exactly like a
    /// `Vec<u8>` (a length, then the bytes).
    Command(#[cfg_attr(feature = "arbitrary", arbitrary(with = arbitrary_payload))] Bytes),
    /// The cluster's membership from this entry on (a single-server change
    /// proposed with [`Replica::propose_membership`](crate::Replica::propose_membership)).
    /// It takes effect on every replica as soon as the replica appends it.
    /// Boxed: membership changes are rare, and an unboxed membership
    /// would make every entry as large as two sets.
    Membership(Box<Membership>),
}

/// An arbitrary command payload: drawn as a `Vec<u8>` would be, so fuzz
/// inputs keep their meaning.
#[cfg(feature = "arbitrary")]
fn arbitrary_payload(u: &mut arbitrary::Unstructured<'_>) -> arbitrary::Result<Bytes> {
    <Vec<u8> as arbitrary::Arbitrary>::arbitrary(u).map(Bytes::from)
}

/// One record of the replicated log.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Entry {
    /// Epoch of the leader that created the entry.
    pub epoch: Epoch,
    /// Index of the entry in the log.
    pub lsn: Lsn,
    /// The payload.
    pub kind: EntryKind,
}

// Clones by hand, inlined: every replica clones each entry several times
// (into its log, into messages, into `Apply`), and the derived clones stay
// out of line because of the rare membership arm.
impl Clone for EntryKind {
    #[inline]
    fn clone(&self) -> Self {
        match self {
            EntryKind::Command(bytes) => EntryKind::Command(bytes.clone()),
            EntryKind::Noop => EntryKind::Noop,
            EntryKind::Membership(membership) => {
                EntryKind::Membership(clone_membership(membership))
            }
        }
    }
}

#[cold]
#[inline(never)]
fn clone_membership(membership: &Membership) -> Box<Membership> {
    Box::new(membership.clone())
}

impl Clone for Entry {
    #[inline]
    fn clone(&self) -> Self {
        Entry {
            epoch: self.epoch,
            lsn: self.lsn,
            kind: self.kind.clone(),
        }
    }
}

impl Entry {
    /// The entry's place in the log.
    pub fn position(&self) -> Position {
        Position::new(self.epoch, self.lsn)
    }

    /// Payload size in bytes, used for flow control.
    pub fn payload_len(&self) -> usize {
        match &self.kind {
            EntryKind::Noop => 0,
            EntryKind::Command(bytes) => bytes.len(),
            EntryKind::Membership(m) => 8 * (m.voters.len() + m.learners.len()),
        }
    }

    /// The membership this entry installs, if it is a membership change.
    pub fn membership(&self) -> Option<&Membership> {
        match &self.kind {
            EntryKind::Membership(m) => Some(m),
            _ => None,
        }
    }

    /// The command bytes, if this entry carries a command.
    pub fn command(&self) -> Option<&[u8]> {
        match &self.kind {
            EntryKind::Noop | EntryKind::Membership(_) => None,
            EntryKind::Command(bytes) => Some(bytes),
        }
    }
}

/// The state a replica must persist before it acts on it: the current epoch
/// and the vote cast in it. Losing either could elect two leaders in one epoch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct HardState {
    /// The highest epoch this replica has seen.
    pub epoch: Epoch,
    /// The candidate this replica voted for in `epoch`, if any.
    pub voted_for: Option<NodeId>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every entry is as large as its largest kind, and logs hold millions
    /// of them: the rare membership change is boxed so that an entry is a
    /// command's size (and so are the messages and outputs that move them).
    #[test]
    #[cfg(target_pointer_width = "64")]
    fn entries_messages_and_outputs_stay_small() {
        use std::mem::size_of;
        assert!(size_of::<Entry>() <= 56, "{}", size_of::<Entry>());
        assert!(
            size_of::<crate::Message>() <= 64,
            "{}",
            size_of::<crate::Message>()
        );
        assert!(
            size_of::<crate::Output>() <= 72,
            "{}",
            size_of::<crate::Output>()
        );
    }
}
