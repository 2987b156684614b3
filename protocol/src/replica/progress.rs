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
///
/// Read-only outside the core: its fields change only through the core's
/// named transitions (`become_probe`, `become_replicate`,
/// `become_snapshot`, `maybe_update`, ...), which keep
/// `matched < next`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Progress {
    matched: Lsn,
    next: Lsn,
    applied: Lsn,
    state: ReplicationState,
    probe_outstanding: bool,
    recently_active: bool,
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

    /// Highest lsn known to match the leader's log and be durable there.
    pub fn matched(&self) -> Lsn {
        self.matched
    }

    /// Next lsn to send (everything below it has been sent at least once).
    pub fn next(&self) -> Lsn {
        self.next
    }

    /// Highest lsn the follower reported applied.
    pub fn applied(&self) -> Lsn {
        self.applied
    }

    /// Probe, replicate or snapshot.
    pub fn state(&self) -> ReplicationState {
        self.state
    }

    /// In `Probe`: an append is outstanding; wait for its answer or a
    /// heartbeat tick.
    pub fn probe_outstanding(&self) -> bool {
        self.probe_outstanding
    }

    /// Heard from since the last check-quorum round.
    pub fn recently_active(&self) -> bool {
        self.recently_active
    }

    /// Entries sent but not yet acknowledged.
    pub fn in_flight(&self) -> u64 {
        self.next.0.saturating_sub(self.matched.0).saturating_sub(1)
    }

    /// How far behind the leader's last entry the follower is.
    pub fn lag(&self, leader_last: Lsn) -> u64 {
        leader_last.0.saturating_sub(self.matched.0)
    }

    /// The follower's log matches from an unknown point on: probe from
    /// `next` (but never at or below what is known to match), one batch at
    /// a time.
    pub(super) fn become_probe(&mut self, next: Lsn) {
        self.state = ReplicationState::Probe;
        self.probe_outstanding = false;
        self.next = next.max(self.matched.next());
    }

    /// A probe was answered with a match through `matched`: pipeline from
    /// there on.
    pub(super) fn become_replicate(&mut self, matched: Lsn) {
        self.state = ReplicationState::Replicate;
        self.probe_outstanding = false;
        self.next = self.next.max(matched.next());
    }

    /// The entries the follower needs were compacted away: it is sent a
    /// snapshot instead.
    pub(super) fn become_snapshot(&mut self) {
        self.state = ReplicationState::Snapshot;
        self.probe_outstanding = false;
    }

    /// The follower's log matches through `matched`: record it if that is
    /// news. Returns whether `matched` advanced.
    pub(super) fn maybe_update(&mut self, matched: Lsn) -> bool {
        if matched <= self.matched {
            return false;
        }
        self.matched = matched;
        self.next = self.next.max(matched.next());
        true
    }

    /// The follower reported having applied through `applied` (counted only
    /// as far as its log is known to match, `matched`).
    pub(super) fn record_applied(&mut self, applied: Lsn, matched: Lsn) {
        self.applied = self.applied.max(applied.min(matched));
    }

    /// An append was sent: in `Probe`, wait for its answer; in `Replicate`,
    /// the next batch starts after `last_sent` (the last entry it carried).
    pub(super) fn append_sent(&mut self, last_sent: Option<Lsn>) {
        match self.state {
            ReplicationState::Probe => self.probe_outstanding = true,
            ReplicationState::Replicate => {
                if let Some(last) = last_sent {
                    self.next = last.next();
                }
            }
            ReplicationState::Snapshot => {}
        }
    }

    /// Heartbeat tick: a probe may be resent; a follower that has not
    /// acknowledged everything (the leader's log ends at `leader_last`) is
    /// resent everything after its match point.
    pub(super) fn heartbeat_tick(&mut self, leader_last: Lsn) {
        match self.state {
            ReplicationState::Probe => self.probe_outstanding = false,
            ReplicationState::Replicate if self.matched < leader_last => {
                self.next = self.matched.next();
            }
            ReplicationState::Replicate | ReplicationState::Snapshot => {}
        }
    }

    /// The follower answered: it is alive for check-quorum.
    pub(super) fn mark_active(&mut self) {
        self.recently_active = true;
    }

    /// A check-quorum round ended: whether the follower was heard from in
    /// it; a new round starts.
    pub(super) fn take_activity(&mut self) -> bool {
        std::mem::replace(&mut self.recently_active, false)
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
        let Some(leader) = self.leading() else {
            return BTreeMap::new();
        };
        let last = self.log.last().lsn;
        leader
            .progress
            .iter()
            .map(|(&id, p)| {
                let snapshot = leader.outgoing.get(&id).map(|o| SnapshotTransfer {
                    position: o.meta.position,
                    offset: o.offset,
                    size: o.meta.size,
                });
                let status = FollowerStatus {
                    id,
                    voter: self.membership.is_voter(id),
                    lag: p.lag(last),
                    matched: p.matched(),
                    applied: p.applied(),
                    state: p.state(),
                    snapshot,
                };
                (id, status)
            })
            .collect()
    }
}
