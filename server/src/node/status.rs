//! What `GET /status` reports.

use serde::Serialize;
use std::collections::BTreeMap;

/// One node's view of itself (and, on the leader, of its followers).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Status {
    /// The node id.
    pub node: u64,
    /// The operating-system process id.
    pub pid: u32,
    /// `leader`, `follower`, `candidate`, `precandidate` or `learner`.
    pub role: String,
    /// The current epoch.
    pub epoch: u64,
    /// The leader this node knows of.
    pub leader: Option<u64>,
    /// The commit point (lsn).
    pub commit: u64,
    /// The applied point (lsn).
    pub applied: u64,
    /// The last lsn in the log.
    pub last: u64,
    /// The newest snapshot's lsn (0: none).
    pub snapshot: u64,
    /// Snapshots installed from a leader since the node started.
    pub installed_snapshots: u64,
    /// Keys in the state machine.
    pub keys: usize,
    /// Voters and learners in force.
    pub voters: Vec<u64>,
    /// Learners in force.
    pub learners: Vec<u64>,
    /// Leader only: each follower's lag behind the leader's last entry.
    pub followers: BTreeMap<u64, FollowerStatus>,
}

/// A follower as its leader sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FollowerStatus {
    /// Entries behind the leader's last entry.
    pub lag: u64,
}
