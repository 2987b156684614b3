//! A minimal in-memory host for three steadfast replicas: storage is a
//! write-ahead log in memory ([`Wal`]), durable at once, the network one
//! FIFO queue.

use crate::wal::Wal;
use crate::workload::Cluster;
use std::collections::VecDeque;
use steadfast::{
    Bytes, Config, Entry, HardState, Instant, Message, NodeId, Output, Position, Replica,
    RequestId, Role,
};

/// One replica and what its host keeps for it.
#[derive(Debug)]
struct Node {
    replica: Replica,
    /// The durable log (entries after the host's last compaction), as a
    /// log file holds it: the core keeps its own copy in memory.
    log: Wal,
    hard_state: HardState,
    /// The state machine: here, the bytes of the commands applied.
    applied_bytes: u64,
    applied_commands: u64,
    applied: Position,
}

/// Three voters, node 1 leading.
#[derive(Debug)]
pub struct SteadfastCluster {
    nodes: Vec<Node>,
    /// Messages in flight, delivered in the order they were sent.
    network: VecDeque<(NodeId, NodeId, Message)>,
    now: Instant,
    next_request: u64,
    /// The last lsn proposed on the leader.
    proposed: Position,
}

const LEADER: usize = 0;

impl SteadfastCluster {
    /// Three fresh replicas; node 1 campaigns and is elected, and its no-op
    /// is applied.
    pub fn new() -> SteadfastCluster {
        let ids = [NodeId(1), NodeId(2), NodeId(3)];
        let now = Instant(0);
        let nodes = ids
            .iter()
            .map(|&id| Node {
                replica: Replica::new(Config::new(id, ids), now)
                    .unwrap_or_else(|e| panic!("bench config refused: {e}")),
                log: Wal::new(),
                hard_state: HardState::default(),
                applied_bytes: 0,
                applied_commands: 0,
                applied: Position::ZERO,
            })
            .collect();
        let mut cluster = SteadfastCluster {
            nodes,
            network: VecDeque::new(),
            now,
            next_request: 0,
            proposed: Position::ZERO,
        };
        if let Err(e) = cluster.nodes[LEADER].replica.campaign(now) {
            panic!("node 1 could not campaign: {e}");
        }
        cluster.drain_all();
        while cluster.nodes[LEADER].replica.role() != Role::Leader {
            assert!(cluster.round(), "the election stalled");
        }
        cluster.proposed = cluster.nodes[LEADER].replica.last();
        cluster.settle();
        cluster
    }

    /// Deliver every queued message in order, then let every node drain.
    /// Returns false when nothing was in flight.
    fn round(&mut self) -> bool {
        if self.network.is_empty() {
            return false;
        }
        for _ in 0..self.network.len() {
            let Some((from, to, message)) = self.network.pop_front() else {
                break;
            };
            let node = &mut self.nodes[index_of(to)];
            // Refusals (stale or conflicting messages) are the protocol's
            // business; the benchmark's FIFO network produces none.
            let _ = node.replica.handle_message(self.now, from, message);
        }
        self.drain_all();
        true
    }

    fn drain_all(&mut self) {
        for i in 0..self.nodes.len() {
            drain(&mut self.nodes[i], &mut self.network, self.now);
        }
    }
}

impl Default for SteadfastCluster {
    fn default() -> Self {
        SteadfastCluster::new()
    }
}

fn index_of(id: NodeId) -> usize {
    usize::try_from(id.0 - 1).unwrap_or(usize::MAX)
}

/// Perform every output of `node`, reporting storage durable at once.
fn drain(node: &mut Node, network: &mut VecDeque<(NodeId, NodeId, Message)>, now: Instant) {
    let me = node.replica.id();
    loop {
        let mut persisted = None;
        while let Some(output) = node.replica.poll_output() {
            match output {
                Output::PersistHardState(hard_state) => node.hard_state = hard_state,
                Output::Truncated { after, .. } => node.log.truncate_after(after),
                Output::Append { entries } => {
                    persisted = entries.last().map(Entry::position);
                    node.log.append(&entries);
                }
                Output::Send { to, message } => network.push_back((me, to, message)),
                Output::Apply { entries } => {
                    for entry in &entries {
                        if let Some(command) = entry.command() {
                            node.applied_bytes += command.len() as u64;
                            node.applied_commands += 1;
                        }
                        node.applied = entry.position();
                    }
                }
                Output::Compacted { through } => {
                    node.log.compact_through(through.lsn);
                }
                Output::RolledBack { .. }
                | Output::Reply { .. }
                | Output::RoleChanged { .. }
                | Output::ReadReady { .. }
                | Output::ReadFailed { .. }
                | Output::ReadSnapshotChunk { .. }
                | Output::ReceiveSnapshotChunk { .. }
                | Output::InstallSnapshot { .. }
                | Output::MembershipChanged { .. } => {}
            }
        }
        match persisted {
            Some(position) => node.replica.handle_persisted(now, position),
            None => break,
        }
    }
}

impl Cluster for SteadfastCluster {
    fn propose(&mut self, payload: &[u8]) {
        self.next_request += 1;
        let leader = &mut self.nodes[LEADER].replica;
        match leader.propose(
            self.now,
            RequestId(self.next_request),
            Bytes::copy_from_slice(payload),
        ) {
            Ok(position) => self.proposed = position,
            Err(e) => panic!("the leader refused a proposal: {e}"),
        }
    }

    fn settle(&mut self) {
        self.drain_all();
        while self.nodes[LEADER].applied.lsn < self.proposed.lsn {
            assert!(self.round(), "the cluster stalled before applying");
        }
    }

    fn compact(&mut self) {
        let through = self.nodes.iter().map(|n| n.applied).min_by_key(|p| p.lsn);
        let Some(through) = through else {
            return;
        };
        for node in &mut self.nodes {
            // A snapshot of the state machine at `through` (the host's
            // snapshot bytes are not needed: no follower falls behind).
            let _ = node
                .replica
                .snapshot_taken(self.now, through, node.applied_bytes, 0);
            drain(node, &mut self.network, self.now);
        }
    }

    fn applied_commands(&self) -> u64 {
        self.nodes[LEADER].applied_commands
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::{W2, W2C};

    /// Each host's log holds what its replica's log holds, entry for entry.
    #[test]
    fn host_logs_match_the_replicas() {
        for workload in [W2, W2C] {
            let mut cluster = SteadfastCluster::new();
            workload.run(&mut cluster, 3_000);
            assert_eq!(cluster.applied_commands(), 3_000);
            for node in &cluster.nodes {
                assert_eq!(node.log.entries(), node.replica.entries());
                assert_eq!(node.log.last_lsn(), node.replica.last().lsn);
            }
        }
    }
}
