//! The workloads, written once against [`Cluster`] and run on both hosts.

use crate::PAYLOAD;

/// A three-voter cluster in memory with an elected leader.
pub trait Cluster {
    /// Propose one command (the 16-byte [`PAYLOAD`]) on the leader.
    fn propose(&mut self, payload: &[u8]);
    /// Deliver messages, round by round, until the leader has applied
    /// every proposal made so far.
    fn settle(&mut self);
    /// Host log compaction: every node takes a snapshot at the point all
    /// nodes have applied, and the library compacts its log behind it.
    fn compact(&mut self);
    /// Commands the leader has applied.
    fn applied_commands(&self) -> u64;
}

/// One workload's shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Workload {
    /// The name printed (`W1`, `W2`, `W1c`, `W2c`).
    pub name: &'static str,
    /// Proposals made before the cluster is settled.
    pub batch: u64,
    /// Compact every this many entries (`None`: never).
    pub compact_every: Option<u64>,
}

/// W1: one proposal at a time until committed and applied on the leader.
pub const W1: Workload = Workload {
    name: "W1",
    batch: 1,
    compact_every: None,
};
/// W2: batches of 64 proposals.
pub const W2: Workload = Workload {
    name: "W2",
    batch: 64,
    compact_every: None,
};
/// W1 with the host compacting every 1,024 entries.
pub const W1C: Workload = Workload {
    name: "W1c",
    batch: 1,
    compact_every: Some(1024),
};
/// W2 with the host compacting every 1,024 entries.
pub const W2C: Workload = Workload {
    name: "W2c",
    batch: 64,
    compact_every: Some(1024),
};

/// Every cluster workload, in the order the comparison prints them.
pub const ALL: [Workload; 4] = [W1, W2, W1C, W2C];

impl Workload {
    /// Commit and apply `n` proposals on `cluster`, in batches of
    /// `self.batch`, compacting as configured.
    pub fn run(&self, cluster: &mut impl Cluster, n: u64) {
        let mut done = 0;
        let mut since_compaction = 0;
        while done < n {
            let batch = self.batch.min(n - done);
            for _ in 0..batch {
                cluster.propose(&PAYLOAD);
            }
            cluster.settle();
            done += batch;
            since_compaction += batch;
            if let Some(every) = self.compact_every {
                if since_compaction >= every {
                    cluster.compact();
                    since_compaction = 0;
                }
            }
        }
    }
}
