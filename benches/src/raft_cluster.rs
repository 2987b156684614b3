//! Three tikv raft-rs nodes driven the way its documentation prescribes:
//! `RawNode` over `MemStorage`, the ready / advance loop, storage durable
//! at once, and the same FIFO network as the steadfast host.

use crate::workload::Cluster;
use raft::eraftpb::{ConfState, Entry, EntryType, Message};
use raft::storage::MemStorage;
use raft::{RawNode, StateRole};
use std::collections::VecDeque;

/// One raft-rs node and its state machine.
struct Node {
    raw: RawNode<MemStorage>,
    /// The state machine: the bytes of the commands applied.
    applied_bytes: u64,
    applied_commands: u64,
    applied_index: u64,
}

/// Three voters, node 1 leading.
pub struct RaftCluster {
    nodes: Vec<Node>,
    network: VecDeque<Message>,
    /// The last index proposed on the leader.
    proposed: u64,
}

const LEADER: usize = 0;

impl RaftCluster {
    /// Three fresh nodes; node 1 campaigns and is elected, and its empty
    /// entry is applied.
    pub fn new() -> RaftCluster {
        let logger = slog::Logger::root(slog::Discard, slog::o!());
        let nodes = (1..=3u64)
            .map(|id| {
                let storage =
                    MemStorage::new_with_conf_state(ConfState::from((vec![1, 2, 3], vec![])));
                let config = raft::Config {
                    id,
                    election_tick: 10,
                    heartbeat_tick: 3,
                    // The same limits as steadfast's defaults: 1 MiB per
                    // message, 256 messages in flight; and raft-rs's own
                    // batching of appends switched on.
                    max_size_per_msg: 1 << 20,
                    max_inflight_msgs: 256,
                    batch_append: true,
                    ..raft::Config::default()
                };
                let raw = RawNode::new(&config, storage, &logger)
                    .unwrap_or_else(|e| panic!("raft-rs refused the config: {e}"));
                Node {
                    raw,
                    applied_bytes: 0,
                    applied_commands: 0,
                    applied_index: 0,
                }
            })
            .collect();
        let mut cluster = RaftCluster {
            nodes,
            network: VecDeque::new(),
            proposed: 0,
        };
        if let Err(e) = cluster.nodes[LEADER].raw.campaign() {
            panic!("node 1 could not campaign: {e}");
        }
        cluster.ready_all();
        while cluster.nodes[LEADER].raw.raft.state != StateRole::Leader {
            assert!(cluster.round(), "the election stalled");
        }
        cluster.proposed = cluster.nodes[LEADER].raw.raft.raft_log.last_index();
        cluster.settle();
        cluster
    }

    fn round(&mut self) -> bool {
        if self.network.is_empty() {
            return false;
        }
        for _ in 0..self.network.len() {
            let Some(message) = self.network.pop_front() else {
                break;
            };
            let to = usize::try_from(message.to - 1).unwrap_or(usize::MAX);
            let _ = self.nodes[to].raw.step(message);
        }
        self.ready_all();
        true
    }

    fn ready_all(&mut self) {
        for node in &mut self.nodes {
            on_ready(node, &mut self.network);
        }
    }
}

impl Default for RaftCluster {
    fn default() -> Self {
        RaftCluster::new()
    }
}

fn apply(node: &mut Node, entries: Vec<Entry>) {
    for entry in &entries {
        if entry.get_entry_type() == EntryType::EntryNormal && !entry.data.is_empty() {
            node.applied_bytes += entry.data.len() as u64;
            node.applied_commands += 1;
        }
        node.applied_index = entry.index;
    }
}

/// The ready / advance loop of raft-rs's documentation, storage durable at
/// once.
fn on_ready(node: &mut Node, network: &mut VecDeque<Message>) {
    if !node.raw.has_ready() {
        return;
    }
    let mut ready = node.raw.ready();
    network.extend(ready.take_messages());
    if !ready.snapshot().is_empty() {
        let snapshot = ready.snapshot().clone();
        if let Err(e) = node.raw.store().wl().apply_snapshot(snapshot) {
            panic!("raft-rs snapshot: {e}");
        }
    }
    let committed = ready.take_committed_entries();
    apply(node, committed);
    if !ready.entries().is_empty() {
        if let Err(e) = node.raw.store().wl().append(ready.entries()) {
            panic!("raft-rs append: {e}");
        }
    }
    if let Some(hard_state) = ready.hs() {
        node.raw.store().wl().set_hardstate(hard_state.clone());
    }
    network.extend(ready.take_persisted_messages());
    let mut light = node.raw.advance(ready);
    if let Some(commit) = light.commit_index() {
        node.raw.store().wl().mut_hard_state().set_commit(commit);
    }
    network.extend(light.take_messages());
    let committed = light.take_committed_entries();
    apply(node, committed);
    node.raw.advance_apply();
}

impl Cluster for RaftCluster {
    fn propose(&mut self, payload: &[u8]) {
        let leader = &mut self.nodes[LEADER].raw;
        if let Err(e) = leader.propose(Vec::new(), payload.to_vec()) {
            panic!("raft-rs refused a proposal: {e}");
        }
        self.proposed = leader.raft.raft_log.last_index();
    }

    fn settle(&mut self) {
        self.ready_all();
        while self.nodes[LEADER].applied_index < self.proposed {
            assert!(self.round(), "raft-rs stalled before applying");
        }
    }

    fn compact(&mut self) {
        let through = self
            .nodes
            .iter()
            .map(|n| n.applied_index)
            .min()
            .unwrap_or(0);
        for node in &mut self.nodes {
            // Entries before `through` go (it is applied everywhere; raft-rs
            // asks that the index not pass the applied one).
            if let Err(e) = node.raw.store().wl().compact(through) {
                panic!("raft-rs compact: {e}");
            }
        }
    }

    fn applied_commands(&self) -> u64 {
        self.nodes[LEADER].applied_commands
    }
}
