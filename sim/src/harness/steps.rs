//! Things that happen to a running [`Cluster`] from outside: time passing,
//! client writes, process and network faults, operator actions. Property
//! tests generate sequences of them; [`Cluster::inject`] applies one.

use super::Cluster;
use std::time::Duration;
use steadfast::membership::MembershipChange;
use steadfast::types::NodeId;

/// One thing that happens to a running cluster. Steps aimed at a node that
/// is not running, or needing a leader when there is none, do nothing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// Let this much simulated time pass.
    Run(Duration),
    /// A client proposes this command at the leader.
    Propose(Vec<u8>),
    /// The node's process crashes.
    Crash(NodeId),
    /// The node restarts from its durable state.
    Restart(NodeId),
    /// The node is cut off from every other node.
    Isolate(NodeId),
    /// Every partition heals.
    Heal,
    /// An operator asks the leader to hand leadership to the node.
    Transfer(NodeId),
    /// The node's host snapshots its state machine.
    Snapshot(NodeId),
    /// An operator asks the leader for a membership change.
    Reconfigure(MembershipChange),
}

impl Cluster {
    /// Apply `step`. Refusals (no leader, a node not running, a change the
    /// leader rejects) are part of what is being tested and leave the
    /// cluster as it was.
    pub fn inject(&mut self, step: &Step) {
        match step {
            Step::Run(duration) => self.run_for(*duration),
            Step::Propose(command) => {
                let _ = self.propose_to_leader(command);
            }
            Step::Crash(node) => self.crash(*node),
            Step::Restart(node) => self.restart(*node),
            Step::Isolate(node) => self.isolate(*node),
            Step::Heal => self.heal(),
            Step::Transfer(node) => {
                let _ = self.transfer_leadership(*node);
            }
            Step::Snapshot(node) => {
                let _ = self.take_snapshot(*node);
            }
            Step::Reconfigure(change) => {
                let _ = self.propose_membership_to_leader(*change);
            }
        }
    }
}

/// Proptest strategies for [`Step`]s, shared by the property tests.
pub mod strategy {
    use super::Step;
    use proptest::prelude::*;
    use std::ops::RangeInclusive;
    use std::time::Duration;
    use steadfast::types::NodeId;

    /// Time passing (up to `max_ms`), crashes, restarts, partitions and
    /// heals of the nodes in `nodes`, in the proportions every property
    /// test uses (weight 10 in all).
    pub fn faults(nodes: RangeInclusive<u64>, max_ms: u64) -> impl Strategy<Value = Step> {
        prop_oneof![
            4 => (1..max_ms).prop_map(|ms| Step::Run(Duration::from_millis(ms))),
            1 => nodes.clone().prop_map(|n| Step::Crash(NodeId(n))),
            2 => nodes.clone().prop_map(|n| Step::Restart(NodeId(n))),
            1 => nodes.prop_map(|n| Step::Isolate(NodeId(n))),
            2 => Just(Step::Heal),
        ]
    }

    /// A one-byte client write.
    pub fn propose() -> impl Strategy<Value = Step> {
        any::<u8>().prop_map(|b| Step::Propose(vec![b]))
    }

    /// A leadership transfer to one of `nodes`.
    pub fn transfer(nodes: RangeInclusive<u64>) -> impl Strategy<Value = Step> {
        nodes.prop_map(|n| Step::Transfer(NodeId(n)))
    }
}
