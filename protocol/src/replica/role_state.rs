//! The replica's role and the state that exists only in that role.

use super::candidate_state::CandidateState;
use super::leader_state::LeaderState;
use super::{Replica, Role};

/// The current role, holding what exists only in it: a follower or learner
/// holds nothing of its own, a (pre-)candidate its vote tally, a leader
/// its [`LeaderState`]. What outlives a role change (the commit point, the
/// match point verified with the current epoch's leader, the last round
/// seen from it, a half-received snapshot) stays on [`Replica`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(super) enum RoleState {
    /// Follows a leader (or waits for one).
    Follower,
    /// A non-voting member.
    Learner,
    /// Asking for pre-votes.
    PreCandidate(CandidateState),
    /// Asking for votes in its own new epoch.
    Candidate(CandidateState),
    /// Leading (boxed: by far the largest variant).
    Leader(Box<LeaderState>),
}

impl RoleState {
    /// The public name of the role.
    pub(super) fn role(&self) -> Role {
        match self {
            RoleState::Follower => Role::Follower,
            RoleState::Learner => Role::Learner,
            RoleState::PreCandidate(_) => Role::PreCandidate,
            RoleState::Candidate(_) => Role::Candidate,
            RoleState::Leader(_) => Role::Leader,
        }
    }

    /// A follower if `voter`, else a learner.
    pub(super) fn following(voter: bool) -> RoleState {
        if voter {
            RoleState::Follower
        } else {
            RoleState::Learner
        }
    }
}

impl Replica {
    /// The leader's state, when leading.
    pub(super) fn leading(&self) -> Option<&LeaderState> {
        match &self.state {
            RoleState::Leader(leader) => Some(leader),
            _ => None,
        }
    }

    /// The leader's state, when leading.
    pub(super) fn leading_mut(&mut self) -> Option<&mut LeaderState> {
        match &mut self.state {
            RoleState::Leader(leader) => Some(leader),
            _ => None,
        }
    }
}
