//! What a leader knows about each follower's copy of the log.

use super::Replica;
use crate::types::{Lsn, NodeId, Position};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How the leader is currently shipping entries to a follower.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ReplicationState {
    /// The leader does not know where the follower's log matches its own;
    /// it sends one batch at a time and waits for the answer.
    Probe,
    /// The logs match through `matched`; batches are pipelined within the
    /// flow-control window.
    Replicate,
    /// The entries the follower needs next were compacted away: the leader
    /// is sending it a snapshot, chunk by chunk.
    Snapshot,
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

/// What a host may want to know about one follower of a leader: how far
/// behind it is and how it is being caught up
/// ([`Replica::follower_status`](crate::Replica::follower_status)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FollowerStatus {
    /// The follower.
    pub id: NodeId,
    /// A voter (else a learner).
    pub voter: bool,
    /// Entries behind the leader's last entry (by matched lsn).
    pub lag: u64,
    /// Highest lsn known to match the leader's log.
    pub matched: Lsn,
    /// Highest lsn it reported applied.
    pub applied: Lsn,
    /// Probe, replicate or snapshot.
    pub state: ReplicationState,
    /// While in [`ReplicationState::Snapshot`]: the snapshot being sent and
    /// how many of its bytes the follower has confirmed, out of how many.
    pub snapshot: Option<SnapshotTransfer>,
}

/// Progress of one snapshot transfer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SnapshotTransfer {
    /// The snapshot's position.
    pub position: Position,
    /// Bytes the follower confirmed.
    pub offset: u64,
    /// The snapshot's size.
    pub size: u64,
}

impl Replica {
    /// Leader only: how each follower is doing: lag in entries, matched
    /// and applied lsns, voter or learner, and whether it is being probed,
    /// replicated to, or sent a snapshot (with the transfer's progress).
    pub fn follower_status(&self) -> BTreeMap<NodeId, FollowerStatus> {
        let last = self.log.last().lsn;
        self.progress
            .iter()
            .map(|(&id, p)| {
                let snapshot = self.outgoing.get(&id).map(|o| SnapshotTransfer {
                    position: o.meta.position,
                    offset: o.offset,
                    size: o.meta.size,
                });
                let status = FollowerStatus {
                    id,
                    voter: self.membership.is_voter(id),
                    lag: p.lag(last),
                    matched: p.matched,
                    applied: p.applied,
                    state: p.state,
                    snapshot,
                };
                (id, status)
            })
            .collect()
    }
}
