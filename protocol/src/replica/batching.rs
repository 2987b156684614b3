//! Batching: work that waits for the host's next
//! [`poll_output`](Replica::poll_output), so that inputs made in between
//! share one message per peer.
//!
//! Proposals made before the host next drains outputs leave in one
//! `Append` per follower (within the per-message entry and byte limits),
//! and persistence reports leave in one acknowledgement. A host that drains
//! after every input sees exactly the messages it saw without batching.

use super::role_state::RoleState;
use super::Replica;
use crate::types::NodeId;

/// Messages owed at the next drain.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub(super) struct Due {
    /// Leader: entries were appended; ship them to every follower.
    replicate: bool,
    /// Follower: more of the log became durable; tell the leader.
    acknowledge: bool,
}

impl Replica {
    /// Leader: entries were appended; they go out at the next drain.
    pub(super) fn replicate_soon(&mut self) {
        self.due.replicate = true;
    }

    /// Follower: the log became durable further; the leader hears of it at
    /// the next drain (once, however many reports came in between).
    pub(super) fn acknowledge_soon(&mut self) {
        self.due.acknowledge = true;
    }

    /// An acknowledgement went out: none is owed any more.
    pub(super) fn acknowledged(&mut self) {
        self.due.acknowledge = false;
    }

    /// Emit what is owed, as the role now stands (a leader that stepped
    /// down ships nothing; a replica that stopped following acknowledges
    /// nothing).
    pub(super) fn flush_due(&mut self) {
        let due = std::mem::take(&mut self.due);
        if due.replicate {
            self.replicate_to_peers(false);
        }
        if due.acknowledge && matches!(self.state, RoleState::Follower | RoleState::Learner) {
            self.acknowledge();
        }
    }

    /// True when a drain owes messages.
    pub(super) fn has_due(&self) -> bool {
        self.due != Due::default()
    }

    /// Leader: [`replicate_to`](Replica::replicate_to) every peer, in
    /// membership order (voters, then learners), without collecting them.
    pub(super) fn replicate_to_peers(&mut self, heartbeat: bool) {
        let mut index = 0;
        while let Some(peer) = self.nth_peer(index) {
            self.replicate_to(peer, heartbeat);
            index += 1;
        }
    }

    /// The `index`-th peer (every member but this replica), in membership
    /// order. Memberships are small: a walk is cheaper than a buffer.
    fn nth_peer(&self, index: usize) -> Option<NodeId> {
        let me = self.config.id;
        self.membership.members().filter(|&id| id != me).nth(index)
    }
}
