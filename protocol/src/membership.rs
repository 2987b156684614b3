//! Cluster membership: who votes, who only learns, and how it changes.
//!
//! Membership changes travel through the log as [`EntryKind::Membership`]
//! entries, one server at a time (Raft's single-server changes): adding a
//! learner, promoting a caught-up learner to voter, or removing a member.
//! A replica uses the *latest membership entry in its log*, committed or
//! not, from the moment it appends it; any two consecutive memberships then
//! differ by one voter, so their majorities overlap.
//!
//! [`EntryKind::Membership`]: crate::EntryKind::Membership

use crate::types::{Lsn, NodeId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// The members of the cluster at one point of the log.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Membership {
    /// The voting members: they elect leaders and count for commit.
    pub voters: BTreeSet<NodeId>,
    /// Non-voting members: they receive the log but count for neither
    /// commit nor election.
    pub learners: BTreeSet<NodeId>,
}

/// One single-server membership change.
#[derive(Clone, Copy, Debug, PartialEq, PartialOrd, Ord, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum MembershipChange {
    /// Add a new node as a learner (it starts receiving the log, or a
    /// snapshot when it is too far behind).
    AddLearner(NodeId),
    /// Make a caught-up learner a voter.
    PromoteLearner(NodeId),
    /// Remove a voter or a learner. Removing the leader itself is allowed:
    /// it keeps leading (without counting itself) until the change
    /// commits, then steps down.
    Remove(NodeId),
}

/// Why a membership change was refused (nothing was appended).
#[derive(Clone, Debug, PartialEq, Eq, Hash, thiserror::Error)]
pub enum MembershipError {
    /// This replica is not the leader.
    #[error("not the leader (leader hint: {leader:?})")]
    NotLeader {
        /// The leader this replica believes in, if any.
        leader: Option<NodeId>,
    },
    /// A leadership transfer is in progress.
    #[error("leadership transfer in progress; retry on the new leader")]
    TransferInProgress,
    /// The leader has not yet committed an entry of its own epoch. Until it
    /// has, a change could conflict with an uncommitted change of an earlier
    /// leader (the known single-server-change bug).
    #[error("the leader has not committed an entry of its own epoch yet; retry shortly")]
    LeaderNotReady,
    /// An earlier change is not committed yet: one change at a time.
    #[error("the membership change at lsn {pending} is not committed yet")]
    ChangeInProgress {
        /// Where the uncommitted change is.
        pending: Lsn,
    },
    /// The node is already a member.
    #[error("{0} is already a member")]
    AlreadyMember(NodeId),
    /// Only learners can be promoted.
    #[error("{0} is not a learner")]
    NotALearner(NodeId),
    /// The node is not a member.
    #[error("{0} is not a member")]
    NotAMember(NodeId),
    /// The last voter cannot be removed.
    #[error("cannot remove {0}: it is the last voter")]
    LastVoter(NodeId),
    /// A learner is promoted only once it holds the log closely enough that
    /// it does not stall commits as a voter.
    #[error("learner {learner} is not caught up: it matches through {matched}, the leader's log ends at {last}")]
    NotCaughtUp {
        /// The learner.
        learner: NodeId,
        /// How far its log matches the leader's.
        matched: Lsn,
        /// The leader's last lsn.
        last: Lsn,
    },
}

impl Membership {
    /// A membership from its voters and learners.
    pub fn new(
        voters: impl IntoIterator<Item = NodeId>,
        learners: impl IntoIterator<Item = NodeId>,
    ) -> Membership {
        Membership {
            voters: voters.into_iter().collect(),
            learners: learners.into_iter().collect(),
        }
    }

    /// True for voters and learners.
    pub fn contains(&self, id: NodeId) -> bool {
        self.voters.contains(&id) || self.learners.contains(&id)
    }

    /// True for voters.
    pub fn is_voter(&self, id: NodeId) -> bool {
        self.voters.contains(&id)
    }

    /// Every member, voters first.
    pub fn members(&self) -> impl Iterator<Item = NodeId> + '_ {
        self.voters.iter().chain(self.learners.iter()).copied()
    }

    /// The membership after `change`, or why the change does not apply.
    pub fn apply(&self, change: MembershipChange) -> Result<Membership, MembershipError> {
        let mut next = self.clone();
        match change {
            MembershipChange::AddLearner(id) => {
                if self.contains(id) {
                    return Err(MembershipError::AlreadyMember(id));
                }
                next.learners.insert(id);
            }
            MembershipChange::PromoteLearner(id) => {
                if !next.learners.remove(&id) {
                    return Err(MembershipError::NotALearner(id));
                }
                next.voters.insert(id);
            }
            MembershipChange::Remove(id) => {
                if self.voters.contains(&id) {
                    if self.voters.len() == 1 {
                        return Err(MembershipError::LastVoter(id));
                    }
                    next.voters.remove(&id);
                } else if !next.learners.remove(&id) {
                    return Err(MembershipError::NotAMember(id));
                }
            }
        }
        Ok(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_server_changes() {
        let m = Membership::new([NodeId(1), NodeId(2)], []);
        let m = m.apply(MembershipChange::AddLearner(NodeId(3))).unwrap();
        assert!(m.learners.contains(&NodeId(3)) && !m.is_voter(NodeId(3)));
        assert_eq!(
            m.apply(MembershipChange::AddLearner(NodeId(3))),
            Err(MembershipError::AlreadyMember(NodeId(3)))
        );
        let m = m
            .apply(MembershipChange::PromoteLearner(NodeId(3)))
            .unwrap();
        assert!(m.is_voter(NodeId(3)) && m.learners.is_empty());
        assert_eq!(
            m.apply(MembershipChange::PromoteLearner(NodeId(3))),
            Err(MembershipError::NotALearner(NodeId(3)))
        );
        let m = m.apply(MembershipChange::Remove(NodeId(1))).unwrap();
        let m = m.apply(MembershipChange::Remove(NodeId(2))).unwrap();
        assert_eq!(
            m.apply(MembershipChange::Remove(NodeId(3))),
            Err(MembershipError::LastVoter(NodeId(3)))
        );
        assert_eq!(
            m.apply(MembershipChange::Remove(NodeId(9))),
            Err(MembershipError::NotAMember(NodeId(9)))
        );
    }
}
