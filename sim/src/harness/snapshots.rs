//! Harness hosts that take snapshots, and operators that add nodes and
//! change the membership.

use super::Clock;
use super::{Cluster, Host};
use crate::host::{MemStorage, Persistence};
use steadfast::config::Config;
use steadfast::entry::RequestId;
use steadfast::membership::{MembershipChange, MembershipError};
use steadfast::replica::Replica;
use steadfast::types::{NodeId, Position};

impl Host {
    pub(super) fn new(replica: Replica, config: Config) -> Host {
        Host {
            replica: Some(replica),
            storage: MemStorage::new(Persistence::Immediate),
            config,
            clock: Clock::default(),
        }
    }
}

impl Cluster {
    /// `node`'s host snapshots its state machine (everything applied so
    /// far), makes it durable, and reports it to the core, which may
    /// compact its log. Returns the snapshot's position if the core took it.
    pub fn take_snapshot(&mut self, node: NodeId) -> Option<Position> {
        let now = self.local_now(node);
        let host = self.hosts.get_mut(&node)?;
        let replica = host.replica.as_mut()?;
        let wanted = host.storage.applied().last()?.position();
        match host.storage.take_snapshot(replica, now) {
            Some(position) => {
                self.log(format!("{node} took a snapshot at {position}"));
                self.drain(node);
                Some(position)
            }
            None => {
                self.log(format!("{node} refused a snapshot at {wanted}"));
                None
            }
        }
    }

    /// Start a new node with `config` (which must list it as a learner or
    /// voter, and the current members, so it accepts their messages).
    pub fn add_node(&mut self, config: Config) {
        let id = config.id;
        let now = self.now;
        let mut replica = Replica::new(config.clone(), now).expect("valid simulated config");
        replica.plant_bug(self.planted_bug);
        self.hosts.insert(id, Host::new(replica, config));
        self.log(format!("{id} started as a new node"));
    }

    /// Propose a membership change at `node`.
    pub fn propose_membership(
        &mut self,
        node: NodeId,
        change: MembershipChange,
    ) -> Result<(RequestId, Position), MembershipError> {
        let request = RequestId(self.next_request);
        let now = self.local_now(node);
        let replica = self
            .replica_mut(node)
            .ok_or(MembershipError::NotLeader { leader: None })?;
        let position = replica.propose_membership(now, request, change)?;
        self.next_request += 1;
        self.proposals.insert(request, (node, Vec::new()));
        self.log(format!("{node} accepted {change} at {position}"));
        self.drain(node);
        Ok((request, position))
    }

    /// Propose a membership change at the current leader.
    pub fn propose_membership_to_leader(
        &mut self,
        change: MembershipChange,
    ) -> Result<(RequestId, Position), MembershipError> {
        let leader = self
            .leader()
            .ok_or(MembershipError::NotLeader { leader: None })?;
        self.propose_membership(leader, change)
    }
}
