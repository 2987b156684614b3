//! What a replica holds only while it asks for (pre-)votes: the tally.

use crate::types::NodeId;
use std::collections::BTreeSet;

/// A pre-candidate's or candidate's role state: who granted and who
/// refused its (pre-)vote request in the election it runs. Only voters of
/// the candidate's own membership are recorded: whether a vote counts is
/// the candidate's decision, not the voter's.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(super) struct CandidateState {
    /// Voters that granted, the candidate itself included when it votes.
    pub(super) votes: BTreeSet<NodeId>,
    /// Voters that refused.
    pub(super) refused: BTreeSet<NodeId>,
}

impl CandidateState {
    /// A new election, in which `me` votes for itself.
    #[cfg(test)]
    pub(super) fn new(me: NodeId) -> CandidateState {
        CandidateState::standing(me, true)
    }

    /// A new election run by `me`, whose own vote counts only if it is a
    /// voter of its membership (a voter whose removal is still
    /// uncommitted stands without counting itself).
    pub(super) fn standing(me: NodeId, voter: bool) -> CandidateState {
        CandidateState {
            votes: if voter {
                BTreeSet::from([me])
            } else {
                BTreeSet::new()
            },
            refused: BTreeSet::new(),
        }
    }

    /// `voter` granted; returns how many have.
    pub(super) fn record_grant(&mut self, voter: NodeId) -> usize {
        self.refused.remove(&voter);
        self.votes.insert(voter);
        self.votes.len()
    }

    /// `voter` refused; returns how many have. A refusal after a grant from
    /// the same voter (a duplicate or reordered answer) keeps the grant: a
    /// vote, once granted, is the voter's for the whole epoch.
    pub(super) fn record_refusal(&mut self, voter: NodeId) -> usize {
        if !self.votes.contains(&voter) {
            self.refused.insert(voter);
        }
        self.refused.len()
    }
}
