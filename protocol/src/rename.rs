//! Renaming nodes: the same value with its node ids permuted.
//!
//! Replicas are interchangeable up to their ids: a cluster state and the
//! same state with ids `0` and `2` swapped behave alike. A model checker
//! exploits this (symmetry reduction) by storing one representative per
//! class of renamed states, which needs every state renamed consistently:
//! the replica's own id, its vote, its leader hint, its peers' progress,
//! memberships in its log and snapshots, and messages in flight.
//! [`RenameNodes`] gives that for every type of the core that holds node
//! ids, [`Replica`](crate::Replica) included.

use crate::config::Config;
use crate::entry::{Entry, EntryKind, HardState};
use crate::membership::Membership;
use crate::replica::{Output, ProposalOutcome, ReadError};
use crate::snapshot::SnapshotMeta;
use crate::types::NodeId;
use crate::wire::Message;
use std::collections::{BTreeSet, VecDeque};

/// A value whose node ids can be renamed.
pub trait RenameNodes {
    /// This value with every node id `n` replaced by `rename(n)`. `rename`
    /// should be a permutation of the cluster's ids (anything else merges
    /// nodes); sets and maps keyed by node id are rebuilt in the new order.
    fn rename_nodes(&self, rename: &dyn Fn(NodeId) -> NodeId) -> Self;
}

impl RenameNodes for NodeId {
    fn rename_nodes(&self, rename: &dyn Fn(NodeId) -> NodeId) -> Self {
        rename(*self)
    }
}

impl<T: RenameNodes> RenameNodes for Option<T> {
    fn rename_nodes(&self, rename: &dyn Fn(NodeId) -> NodeId) -> Self {
        self.as_ref().map(|value| value.rename_nodes(rename))
    }
}

impl<T: RenameNodes> RenameNodes for Vec<T> {
    fn rename_nodes(&self, rename: &dyn Fn(NodeId) -> NodeId) -> Self {
        self.iter()
            .map(|value| value.rename_nodes(rename))
            .collect()
    }
}

impl<T: RenameNodes> RenameNodes for VecDeque<T> {
    fn rename_nodes(&self, rename: &dyn Fn(NodeId) -> NodeId) -> Self {
        self.iter()
            .map(|value| value.rename_nodes(rename))
            .collect()
    }
}

impl RenameNodes for BTreeSet<NodeId> {
    fn rename_nodes(&self, rename: &dyn Fn(NodeId) -> NodeId) -> Self {
        self.iter().map(|&id| rename(id)).collect()
    }
}

impl RenameNodes for Membership {
    fn rename_nodes(&self, rename: &dyn Fn(NodeId) -> NodeId) -> Self {
        Membership {
            voters: self.voters.rename_nodes(rename),
            learners: self.learners.rename_nodes(rename),
        }
    }
}

impl RenameNodes for Config {
    /// The seed changes with the id so that the renamed replica draws the
    /// same election jitter ([`Config::jitter_seed`] is kept).
    fn rename_nodes(&self, rename: &dyn Fn(NodeId) -> NodeId) -> Self {
        Config {
            voters: self.voters.rename_nodes(rename),
            learners: self.learners.rename_nodes(rename),
            ..self.with_renamed_id(rename(self.id))
        }
    }
}

impl RenameNodes for Entry {
    fn rename_nodes(&self, rename: &dyn Fn(NodeId) -> NodeId) -> Self {
        match &self.kind {
            EntryKind::Membership(membership) => Entry {
                kind: EntryKind::Membership(Box::new(membership.rename_nodes(rename))),
                ..*self
            },
            EntryKind::Noop | EntryKind::Command(_) => self.clone(),
        }
    }
}

impl RenameNodes for HardState {
    fn rename_nodes(&self, rename: &dyn Fn(NodeId) -> NodeId) -> Self {
        HardState {
            epoch: self.epoch,
            voted_for: self.voted_for.rename_nodes(rename),
        }
    }
}

impl RenameNodes for SnapshotMeta {
    fn rename_nodes(&self, rename: &dyn Fn(NodeId) -> NodeId) -> Self {
        SnapshotMeta {
            membership: self.membership.rename_nodes(rename),
            ..self.clone()
        }
    }
}

impl RenameNodes for Message {
    fn rename_nodes(&self, rename: &dyn Fn(NodeId) -> NodeId) -> Self {
        match self {
            Message::Append {
                epoch,
                prev,
                entries,
                commit,
                round,
            } => Message::Append {
                epoch: *epoch,
                prev: *prev,
                entries: entries.rename_nodes(rename),
                commit: *commit,
                round: *round,
            },
            Message::InstallSnapshot {
                epoch,
                snapshot,
                offset,
                data,
                done,
            } => Message::InstallSnapshot {
                epoch: *epoch,
                snapshot: Box::new(snapshot.rename_nodes(rename)),
                offset: *offset,
                data: data.clone(),
                done: *done,
            },
            Message::AppendResponse { .. }
            | Message::RequestVote { .. }
            | Message::VoteResponse { .. }
            | Message::TimeoutNow { .. }
            | Message::InstallSnapshotResponse { .. } => self.clone(),
        }
    }
}

impl RenameNodes for ProposalOutcome {
    fn rename_nodes(&self, rename: &dyn Fn(NodeId) -> NodeId) -> Self {
        match self {
            ProposalOutcome::NotLeader { leader } => ProposalOutcome::NotLeader {
                leader: leader.rename_nodes(rename),
            },
            ProposalOutcome::LeadershipLost { leader } => ProposalOutcome::LeadershipLost {
                leader: leader.rename_nodes(rename),
            },
            ProposalOutcome::Committed(_) | ProposalOutcome::TransferInProgress => self.clone(),
        }
    }
}

impl RenameNodes for ReadError {
    fn rename_nodes(&self, rename: &dyn Fn(NodeId) -> NodeId) -> Self {
        match self {
            ReadError::NotLeader { leader } => ReadError::NotLeader {
                leader: leader.rename_nodes(rename),
            },
            ReadError::LeadershipLost { leader } => ReadError::LeadershipLost {
                leader: leader.rename_nodes(rename),
            },
            ReadError::DuplicateRead(_) | ReadError::TimedOut => *self,
        }
    }
}

impl RenameNodes for Output {
    fn rename_nodes(&self, rename: &dyn Fn(NodeId) -> NodeId) -> Self {
        match self {
            Output::PersistHardState(hard) => Output::PersistHardState(hard.rename_nodes(rename)),
            Output::Truncated { after, discarded } => Output::Truncated {
                after: *after,
                discarded: discarded.rename_nodes(rename),
            },
            Output::RolledBack { entries } => Output::RolledBack {
                entries: entries.rename_nodes(rename),
            },
            Output::Append { entries } => Output::Append {
                entries: entries.rename_nodes(rename),
            },
            Output::Send { to, message } => Output::Send {
                to: rename(*to),
                message: message.rename_nodes(rename),
            },
            Output::Apply { entries } => Output::Apply {
                entries: entries.rename_nodes(rename),
            },
            Output::Reply { request, outcome } => Output::Reply {
                request: *request,
                outcome: outcome.rename_nodes(rename),
            },
            Output::RoleChanged {
                role,
                epoch,
                leader,
            } => Output::RoleChanged {
                role: *role,
                epoch: *epoch,
                leader: leader.rename_nodes(rename),
            },
            Output::ReadFailed { read, error } => Output::ReadFailed {
                read: *read,
                error: error.rename_nodes(rename),
            },
            Output::ReadSnapshotChunk {
                to,
                snapshot,
                offset,
                max_len,
            } => Output::ReadSnapshotChunk {
                to: rename(*to),
                snapshot: *snapshot,
                offset: *offset,
                max_len: *max_len,
            },
            Output::InstallSnapshot { snapshot, replaced } => Output::InstallSnapshot {
                snapshot: Box::new(snapshot.rename_nodes(rename)),
                replaced: replaced.clone(),
            },
            Output::MembershipChanged { membership } => Output::MembershipChanged {
                membership: membership.rename_nodes(rename),
            },
            Output::ReadReady { .. }
            | Output::Compacted { .. }
            | Output::ReceiveSnapshotChunk { .. } => self.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{Epoch, Instant, Lsn, Position};
    use crate::Replica;

    fn swap(id: NodeId) -> NodeId {
        match id.0 {
            0 => NodeId(1),
            1 => NodeId(0),
            _ => id,
        }
    }

    #[test]
    fn a_renamed_config_keeps_its_jitter_and_the_builder_sets_it() {
        let config = Config::new(NodeId(0), [NodeId(0), NodeId(1), NodeId(2)]).with_seed(7);
        let renamed = config.rename_nodes(&swap);
        assert_eq!(renamed.id, NodeId(1));
        assert_eq!(renamed.jitter_seed(), config.jitter_seed());
        let a = Config::new(NodeId(0), [NodeId(0), NodeId(1)]).with_jitter_seed(5);
        let b = Config::new(NodeId(1), [NodeId(0), NodeId(1)]).with_jitter_seed(5);
        assert_eq!(a.jitter_seed(), b.jitter_seed());
        assert_eq!(a.rename_nodes(&swap), b);
    }

    #[test]
    fn messages_rename_the_memberships_they_carry() {
        let append = Message::Append {
            epoch: Epoch(2),
            prev: Position::ZERO,
            entries: vec![Entry {
                epoch: Epoch(2),
                lsn: Lsn(1),
                kind: EntryKind::Membership(Box::new(Membership::new([NodeId(0)], [NodeId(2)]))),
            }],
            commit: Lsn(0),
            round: 1,
        };
        let Message::Append { entries, .. } = append.rename_nodes(&swap) else {
            panic!("still an append");
        };
        assert_eq!(
            entries[0].kind,
            EntryKind::Membership(Box::new(Membership::new([NodeId(1)], [NodeId(2)])))
        );
    }

    #[test]
    fn renaming_a_candidate_twice_is_the_identity_and_renames_its_vote() {
        let mut config = Config::new(NodeId(0), [NodeId(0), NodeId(1), NodeId(2)]);
        config.pre_vote = false;
        let mut replica = Replica::new(config, Instant(0)).expect("valid config");
        replica.campaign(Instant(1)).expect("a voter may campaign");
        while replica.poll_output().is_some() {}
        let renamed = replica.rename_nodes(&swap);
        assert_eq!(renamed.config().id, NodeId(1));
        assert_eq!(renamed.hard_state().voted_for, Some(NodeId(1)));
        assert_eq!(renamed.rename_nodes(&swap), replica);
    }
}
