//! Read-only views of a replica's state, for hosts, operators and checkers.

use super::{Progress, Replica, Role};
use crate::config::Config;
use crate::entry::{Entry, HardState};
use crate::membership::Membership;
use crate::snapshot::SnapshotMeta;
use crate::types::{Epoch, Instant, Lsn, NodeId, Position};
use std::collections::BTreeMap;

impl Replica {
    /// The latest time this replica has been given.
    pub fn now(&self) -> Instant {
        self.now
    }
    /// This replica's id.
    pub fn id(&self) -> NodeId {
        self.config.id
    }
    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }
    /// Current role.
    pub fn role(&self) -> Role {
        self.state.role()
    }
    /// Current epoch.
    pub fn epoch(&self) -> Epoch {
        self.hard.epoch
    }
    /// The state the host must have made durable.
    pub fn hard_state(&self) -> HardState {
        self.hard
    }
    /// The leader this replica believes in.
    pub fn leader(&self) -> Option<NodeId> {
        self.leader
    }
    /// Highest committed lsn known here.
    pub fn commit(&self) -> Lsn {
        self.commit
    }
    /// Highest lsn handed to the host in an [`Output::Apply`](super::Output::Apply).
    pub fn applied(&self) -> Lsn {
        self.applied
    }
    /// Highest lsn of the log the host reported durable.
    pub fn persisted(&self) -> Lsn {
        self.persisted
    }
    /// The last position of the log.
    pub fn last(&self) -> Position {
        self.log.last()
    }
    /// The last position covered by a snapshot: retained entries start after it.
    pub fn log_start(&self) -> Position {
        self.log.base()
    }
    /// The retained log entries.
    pub fn entries(&self) -> &[Entry] {
        self.log.entries()
    }
    /// The entry at `lsn`, if retained.
    pub fn entry(&self, lsn: Lsn) -> Option<&Entry> {
        self.log.get(lsn)
    }
    /// Leader only: each follower's progress (matched, applied, lag state).
    pub fn progress(&self) -> &BTreeMap<NodeId, Progress> {
        /// What a replica that does not lead tracks: nothing.
        static NO_PROGRESS: BTreeMap<NodeId, Progress> = BTreeMap::new();
        self.leading()
            .map_or(&NO_PROGRESS, |leader| &leader.progress)
    }
    /// Leader only: the target of the leadership transfer in progress, if
    /// any (proposals and membership changes are refused meanwhile).
    pub fn pending_transfer(&self) -> Option<NodeId> {
        self.leading()
            .and_then(|leader| leader.transfer)
            .map(|transfer| transfer.target)
    }
    /// The membership in force on this replica (the latest membership entry
    /// in its log, else the snapshot's, else the configuration's).
    pub fn membership(&self) -> &Membership {
        &self.membership
    }
    /// The latest snapshot this replica knows the host holds.
    pub fn snapshot(&self) -> Option<&SnapshotMeta> {
        self.snapshot.as_ref()
    }
    /// Leader only: per-follower lag in entries behind the leader's last entry.
    pub fn follower_lag(&self) -> BTreeMap<NodeId, u64> {
        let last = self.log.last().lsn;
        self.progress()
            .iter()
            .map(|(id, p)| (*id, p.lag(last)))
            .collect()
    }
}
