//! What a replica holds only while it leads: per-follower progress, the
//! proposals awaiting commit, a leadership transfer, snapshot transfers,
//! read bookkeeping and the leader's own timers. Created at an election
//! win, dropped when the leader steps down.

use super::progress::Progress;
use super::reads::LeaderReads;
use super::snapshot::Outgoing;
use crate::entry::RequestId;
use crate::types::{Instant, Lsn, NodeId};
use std::collections::{BTreeMap, VecDeque};

/// A planned hand-over of leadership in progress.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) struct Transfer {
    /// The voting follower that is to take over.
    pub(super) target: NodeId,
    /// The transfer is abandoned at this time.
    pub(super) deadline: Instant,
    /// `TimeoutNow` went to the target (it is sent once).
    pub(super) timeout_now_sent: bool,
}

/// The leader's role state.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(super) struct LeaderState {
    /// Every other member's progress (voters and learners).
    pub(super) progress: BTreeMap<NodeId, Progress>,
    /// Client proposals appended in this reign and not yet committed, by
    /// increasing lsn (a leader only appends, so they arrive in order and
    /// commit from the front).
    pub(super) pending: VecDeque<(Lsn, RequestId)>,
    /// A leadership transfer in progress.
    pub(super) transfer: Option<Transfer>,
    /// Snapshot transfers to followers in `ReplicationState::Snapshot`.
    pub(super) outgoing: BTreeMap<NodeId, Outgoing>,
    /// Heartbeat rounds, the read lease and pending linearizable reads.
    pub(super) reads: LeaderReads,
    /// When the next heartbeat is due.
    pub(super) heartbeat_deadline: Instant,
    /// When the next check-quorum round ends.
    pub(super) check_quorum_deadline: Instant,
}

impl LeaderState {
    /// A fresh reign at `now`: every peer in `peers` is probed from just
    /// after the leader's last lsn `last`; the first heartbeat is due at
    /// `heartbeat_deadline`, the first check-quorum round ends at
    /// `check_quorum_deadline`.
    pub(super) fn new(
        peers: impl IntoIterator<Item = NodeId>,
        last: Lsn,
        heartbeat_deadline: Instant,
        check_quorum_deadline: Instant,
    ) -> LeaderState {
        LeaderState {
            progress: peers
                .into_iter()
                .map(|peer| (peer, Progress::new(last)))
                .collect(),
            pending: VecDeque::new(),
            transfer: None,
            outgoing: BTreeMap::new(),
            reads: LeaderReads::default(),
            heartbeat_deadline,
            check_quorum_deadline,
        }
    }

    /// The progress of `peer`'s copy, if it is a peer.
    pub(super) fn matched(&self, peer: NodeId) -> Lsn {
        self.progress.get(&peer).map_or(Lsn(0), Progress::matched)
    }
}
