//! What a leader knows about each follower's copy of the log.

use crate::types::Lsn;
use serde::{Deserialize, Serialize};

/// How the leader is currently shipping entries to a follower.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ReplicationState {
    /// The leader does not know where the follower's log matches its own;
    /// it sends one batch at a time and waits for the answer.
    Probe,
    /// The logs match through `matched`; batches are pipelined within the
    /// flow-control window.
    Replicate,
}

/// The leader's view of one follower, kept apart from its own commit point.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Progress {
    /// Highest lsn known to match the leader's log and be durable there.
    pub matched: Lsn,
    /// Next lsn to send (everything below it has been sent at least once).
    pub next: Lsn,
    /// Highest lsn the follower reported applied.
    pub applied: Lsn,
    /// Probe or replicate.
    pub state: ReplicationState,
    /// In `Probe`: an append is outstanding; wait for its answer or a heartbeat tick.
    pub probe_outstanding: bool,
    /// Heard from since the last check-quorum round.
    pub recently_active: bool,
}

impl Progress {
    /// A fresh progress for a follower of a leader whose log ends at `last`.
    pub fn new(last: Lsn) -> Progress {
        Progress {
            matched: Lsn(0),
            next: last.next(),
            applied: Lsn(0),
            state: ReplicationState::Probe,
            probe_outstanding: false,
            recently_active: false,
        }
    }

    /// Entries sent but not yet acknowledged.
    pub fn in_flight(&self) -> u64 {
        self.next.0.saturating_sub(self.matched.0).saturating_sub(1)
    }

    /// How far behind the leader's last entry the follower is.
    pub fn lag(&self, leader_last: Lsn) -> u64 {
        leader_last.0.saturating_sub(self.matched.0)
    }
}
