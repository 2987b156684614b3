//! [`RenameNodes`] for the replica and the state it holds per role.

use super::candidate_state::CandidateState;
use super::leader_state::{LeaderState, Transfer};
use super::reads::LeaderReads;
use super::role_state::RoleState;
use super::Replica;
use crate::rename::RenameNodes;
use crate::types::NodeId;
use std::sync::Arc;

impl RenameNodes for Replica {
    /// The replica as it would be had every node carried the renamed id
    /// from the start: its own id, its configuration, vote, leader hint,
    /// memberships, snapshots, role state and queued outputs.
    fn rename_nodes(&self, rename: &dyn Fn(NodeId) -> NodeId) -> Self {
        Replica {
            config: Arc::new(self.config.rename_nodes(rename)),
            hard: self.hard.rename_nodes(rename),
            log: self.log.rename_nodes(rename),
            state: self.state.rename_nodes(rename),
            leader: self.leader.rename_nodes(rename),
            membership: self.membership.rename_nodes(rename),
            base_membership: self.base_membership.rename_nodes(rename),
            snapshot: self.snapshot.rename_nodes(rename),
            incoming: self.incoming.rename_nodes(rename),
            outputs: self.outputs.rename_nodes(rename),
            ..self.clone()
        }
    }
}

impl RenameNodes for RoleState {
    fn rename_nodes(&self, rename: &dyn Fn(NodeId) -> NodeId) -> Self {
        match self {
            RoleState::Follower | RoleState::Learner => self.clone(),
            RoleState::PreCandidate(tally) => RoleState::PreCandidate(tally.rename_nodes(rename)),
            RoleState::Candidate(tally) => RoleState::Candidate(tally.rename_nodes(rename)),
            RoleState::Leader(leader) => RoleState::Leader(Box::new(leader.rename_nodes(rename))),
        }
    }
}

impl RenameNodes for CandidateState {
    fn rename_nodes(&self, rename: &dyn Fn(NodeId) -> NodeId) -> Self {
        CandidateState {
            votes: self.votes.rename_nodes(rename),
            refused: self.refused.rename_nodes(rename),
        }
    }
}

impl RenameNodes for LeaderState {
    fn rename_nodes(&self, rename: &dyn Fn(NodeId) -> NodeId) -> Self {
        LeaderState {
            progress: self
                .progress
                .iter()
                .map(|(&peer, progress)| (rename(peer), *progress))
                .collect(),
            transfer: self.transfer.map(|transfer| Transfer {
                target: rename(transfer.target),
                ..transfer
            }),
            outgoing: self
                .outgoing
                .iter()
                .map(|(&peer, outgoing)| (rename(peer), outgoing.rename_nodes(rename)))
                .collect(),
            reads: self.reads.rename_nodes(rename),
            ..self.clone()
        }
    }
}

impl RenameNodes for LeaderReads {
    fn rename_nodes(&self, rename: &dyn Fn(NodeId) -> NodeId) -> Self {
        LeaderReads {
            echoed: self
                .echoed
                .iter()
                .map(|(&peer, &round)| (rename(peer), round))
                .collect(),
            ..self.clone()
        }
    }
}
