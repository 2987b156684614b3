//! What a replica holds only while it asks for (pre-)votes: the tally.

use crate::types::NodeId;
use std::collections::BTreeSet;

/// A pre-candidate's or candidate's role state: who granted its
/// (pre-)vote request in the election it runs.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(super) struct CandidateState {
    /// Voters that granted, the candidate itself included.
    pub(super) votes: BTreeSet<NodeId>,
}

impl CandidateState {
    /// A new election, in which `me` votes for itself.
    pub(super) fn new(me: NodeId) -> CandidateState {
        CandidateState {
            votes: BTreeSet::from([me]),
        }
    }

    /// `voter` granted; returns how many have.
    pub(super) fn record_grant(&mut self, voter: NodeId) -> usize {
        self.votes.insert(voter);
        self.votes.len()
    }
}
