//! Renaming the nodes a host's storage mentions, for symmetry reduction.

use super::{MemStorage, StorageOp};
use steadfast::{NodeId, RenameNodes};

impl RenameNodes for StorageOp {
    fn rename_nodes(&self, rename: &dyn Fn(NodeId) -> NodeId) -> Self {
        match self {
            StorageOp::Truncate { after, discarded } => StorageOp::Truncate {
                after: *after,
                discarded: discarded.rename_nodes(rename),
            },
            StorageOp::Append(entries) => StorageOp::Append(entries.rename_nodes(rename)),
            StorageOp::Compact(through) => StorageOp::Compact(*through),
        }
    }
}

impl MemStorage {
    /// True while it holds a snapshot or part of an incoming one, whose
    /// bytes [`renamed`](Self::renamed) cannot rewrite.
    pub fn holds_snapshot_bytes(&self) -> bool {
        self.snapshot.is_some() || !self.staging.is_empty() || self.staging_of.is_some()
    }

    /// This storage with every node id renamed (see [`RenameNodes`]): the
    /// vote, memberships in the log, queued writes and the state machine.
    /// `None` while it holds a snapshot or part of one: snapshot bytes
    /// encode memberships under a checksum the replica also keeps, so they
    /// cannot be renamed in place, and a checker must then explore the
    /// state as it is.
    pub fn renamed(&self, rename: &dyn Fn(NodeId) -> NodeId) -> Option<MemStorage> {
        if self.holds_snapshot_bytes() {
            return None;
        }
        Some(MemStorage {
            hard: self.hard.rename_nodes(rename),
            log: self.log.rename_nodes(rename),
            queue: self.queue.rename_nodes(rename),
            applied: self.applied.rename_nodes(rename),
            ..self.clone()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use steadfast::{Entry, EntryKind, Epoch, HardState, Lsn, Membership};

    #[test]
    fn renaming_rewrites_the_vote_and_memberships_and_refuses_snapshots() {
        let swap = |id: NodeId| NodeId(2 - id.0);
        let mut storage = MemStorage {
            hard: HardState {
                epoch: Epoch(3),
                voted_for: Some(NodeId(0)),
            },
            log: vec![Entry {
                epoch: Epoch(1),
                lsn: Lsn(1),
                kind: EntryKind::Membership(Box::new(Membership::new([NodeId(0), NodeId(1)], []))),
            }],
            ..MemStorage::default()
        };
        let renamed = storage.renamed(&swap).expect("no snapshot");
        assert_eq!(renamed.hard.voted_for, Some(NodeId(2)));
        assert_eq!(
            renamed.log[0].kind,
            EntryKind::Membership(Box::new(Membership::new([NodeId(2), NodeId(1)], [])))
        );
        assert_eq!(
            renamed.renamed(&swap),
            Some(storage.clone()),
            "an involution"
        );
        storage.staging = vec![1];
        assert_eq!(storage.renamed(&swap), None);
    }
}
