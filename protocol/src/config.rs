//! Static configuration of one replica.

use crate::durability::{Durability, ElectionQuorum};
use crate::membership::Membership;
use crate::types::NodeId;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::time::Duration;

/// Everything a [`Replica`](crate::Replica) needs to know that does not change
/// while it runs.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Config {
    /// This replica's id.
    pub id: NodeId,
    /// The initial voting members, this replica included if it votes. A
    /// running replica follows the membership entries in its log; these
    /// sets are used until the log holds one.
    pub voters: BTreeSet<NodeId>,
    /// The initial non-voting members: they receive the log but count for
    /// neither commit nor election.
    pub learners: BTreeSet<NodeId>,
    /// When a write is committed and acknowledged.
    pub durability: Durability,
    /// How many votes elect a leader.
    pub election_quorum: ElectionQuorum,
    /// How often a leader sends heartbeats (and retransmits).
    pub heartbeat_interval: Duration,
    /// Lower bound of the randomized election timeout.
    pub election_timeout_min: Duration,
    /// Upper bound (exclusive) of the randomized election timeout.
    pub election_timeout_max: Duration,
    /// Flow control: at most this many entries in flight to one follower.
    pub max_entries_in_flight: usize,
    /// Flow control: at most this many payload bytes in flight to one follower
    /// (a single entry larger than this is still sent, alone).
    pub max_bytes_in_flight: usize,
    /// At most this many entries in one `Append` message.
    pub max_entries_per_message: usize,
    /// Run a pre-vote round before bumping the epoch, so a node that was
    /// partitioned away cannot disrupt a healthy leader when it returns.
    pub pre_vote: bool,
    /// A leader that has not heard from enough voters within an election
    /// timeout steps down (and stops acknowledging); voters that heard from a
    /// live leader recently ignore vote requests.
    pub check_quorum: bool,
    /// Seed for election jitter: same seed and inputs, same outputs.
    pub seed: u64,
    /// Lease reads: `Some(max_drift)` lets a leader serve linearizable reads
    /// from local state, without a round trip, while its read lease lasts
    /// (see [`Replica::read_index`](crate::Replica::read_index)); `None`
    /// (the default) makes every leader read confirm leadership with a
    /// heartbeat round.
    ///
    /// **The assumption**: over any span of `election_timeout_min`, no
    /// replica's clock runs ahead of the leader's by more than `max_drift`,
    /// and every replica uses the same `election_timeout_min`. If a clock
    /// drifts further (or jumps), a deposed leader can serve stale reads.
    /// Requires `check_quorum` (voters' lease stickiness is what the lease
    /// relies on) and `max_drift < election_timeout_min`.
    pub lease_max_drift: Option<Duration>,
    /// Log compaction: when the host reports a snapshot at lsn `s`
    /// ([`Replica::snapshot_taken`](crate::Replica::snapshot_taken)), the
    /// core keeps the entries after `s - snapshot_retain_entries` so that
    /// followers a little behind still catch up from the log; only those
    /// further behind need the snapshot.
    pub snapshot_retain_entries: u64,
    /// Largest snapshot chunk, in bytes, that a leader asks its host for and
    /// sends in one [`Message::InstallSnapshot`](crate::Message::InstallSnapshot).
    pub max_snapshot_chunk_bytes: usize,
}

/// Why a [`Config`] was refused.
#[derive(Clone, Debug, PartialEq, Eq, Hash, thiserror::Error)]
pub enum ConfigError {
    /// The voter set is empty.
    #[error("the cluster has no voters; at least one voter is required")]
    NoVoters,
    /// This replica is neither a voter nor a learner.
    #[error("replica {0} is neither a voter nor a learner of the configuration")]
    NotAMember(NodeId),
    /// A node is listed both as voter and learner.
    #[error("node {0} is listed both as voter and as learner")]
    VoterAndLearner(NodeId),
    /// SemiSync asks for more followers than there are.
    #[error(
        "semi-sync needs {k} follower acknowledgements but only {followers} voting followers exist"
    )]
    SemiSyncTooLarge {
        /// Requested sync followers.
        k: usize,
        /// Voting followers available.
        followers: usize,
    },
    /// A timing parameter is unusable.
    #[error("invalid timing: {0}")]
    Timing(&'static str),
    /// A flow-control limit is zero.
    #[error("flow-control limits must be at least 1")]
    FlowControl,
}

impl Config {
    /// A configuration with sensible defaults for a cluster of `voters`:
    /// `Quorum` durability, `Majority` elections, 50 ms heartbeats, 150–300 ms
    /// election timeouts, pre-vote and check-quorum on.
    pub fn new(id: NodeId, voters: impl IntoIterator<Item = NodeId>) -> Config {
        Config {
            id,
            voters: voters.into_iter().collect(),
            learners: BTreeSet::new(),
            durability: Durability::Quorum,
            election_quorum: ElectionQuorum::Majority,
            heartbeat_interval: Duration::from_millis(50),
            election_timeout_min: Duration::from_millis(150),
            election_timeout_max: Duration::from_millis(300),
            max_entries_in_flight: 256,
            max_bytes_in_flight: 1 << 20,
            max_entries_per_message: 64,
            pre_vote: true,
            check_quorum: true,
            seed: 0,
            lease_max_drift: None,
            snapshot_retain_entries: 1024,
            max_snapshot_chunk_bytes: 256 << 10,
        }
    }

    /// The seed of this replica's election jitter: [`Config::seed`] mixed
    /// with the node id, so replicas configured with one seed still draw
    /// different timeouts.
    pub fn jitter_seed(&self) -> u64 {
        self.seed ^ Self::id_mix(self.id)
    }

    /// Builder: set [`Config::seed`] so that [`Config::jitter_seed`] is
    /// `jitter_seed`. Replicas built with the same value draw the same
    /// election timeouts whatever their ids, which makes them
    /// interchangeable for a model checker's symmetry reduction; a real
    /// cluster should let the ids tell them apart instead.
    pub fn with_jitter_seed(self, jitter_seed: u64) -> Config {
        let seed = jitter_seed ^ Self::id_mix(self.id);
        Config { seed, ..self }
    }

    fn id_mix(id: NodeId) -> u64 {
        id.0.wrapping_mul(0x9E37_79B9_7F4A_7C15)
    }

    /// This configuration for the node renamed `id`, drawing the same
    /// jitter: the seed is adjusted so that [`Config::jitter_seed`] stays
    /// the same (see [`crate::rename`]).
    pub(crate) fn with_renamed_id(&self, id: NodeId) -> Config {
        Config {
            id,
            seed: self.jitter_seed() ^ Self::id_mix(id),
            ..self.clone()
        }
    }

    /// Builder: enable lease reads, assuming clocks drift apart by at most
    /// `max_drift` per minimum election timeout (see [`Config::lease_max_drift`]).
    pub fn with_lease_reads(mut self, max_drift: Duration) -> Config {
        self.lease_max_drift = Some(max_drift);
        self
    }

    /// Builder: set the durability policy.
    pub fn with_durability(mut self, durability: Durability) -> Config {
        self.durability = durability;
        self
    }

    /// Builder: set the election quorum.
    pub fn with_election_quorum(mut self, quorum: ElectionQuorum) -> Config {
        self.election_quorum = quorum;
        self
    }

    /// Builder: set the jitter seed.
    pub fn with_seed(mut self, seed: u64) -> Config {
        self.seed = seed;
        self
    }

    /// Builder: set the learners.
    pub fn with_learners(mut self, learners: impl IntoIterator<Item = NodeId>) -> Config {
        self.learners = learners.into_iter().collect();
        self
    }

    /// Check the configuration for internal consistency.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.voters.is_empty() {
            return Err(ConfigError::NoVoters);
        }
        if let Some(both) = self.voters.intersection(&self.learners).next() {
            return Err(ConfigError::VoterAndLearner(*both));
        }
        if !self.voters.contains(&self.id) && !self.learners.contains(&self.id) {
            return Err(ConfigError::NotAMember(self.id));
        }
        if let Durability::SemiSync { k } = self.durability {
            let followers = self.voters.len() - 1;
            if k > followers {
                return Err(ConfigError::SemiSyncTooLarge { k, followers });
            }
        }
        if self.heartbeat_interval.is_zero() {
            return Err(ConfigError::Timing("heartbeat interval must be positive"));
        }
        if self.election_timeout_min <= self.heartbeat_interval {
            return Err(ConfigError::Timing(
                "election timeout must exceed the heartbeat interval",
            ));
        }
        if self.election_timeout_max <= self.election_timeout_min {
            return Err(ConfigError::Timing(
                "election timeout max must exceed its min",
            ));
        }
        if let Some(drift) = self.lease_max_drift {
            if !self.check_quorum {
                return Err(ConfigError::Timing(
                    "lease reads need check-quorum: voters' lease stickiness is what makes the lease safe",
                ));
            }
            if drift >= self.election_timeout_min {
                return Err(ConfigError::Timing(
                    "lease clock-drift bound must be below the minimum election timeout",
                ));
            }
        }
        if self.max_entries_in_flight == 0
            || self.max_bytes_in_flight == 0
            || self.max_entries_per_message == 0
            || self.max_snapshot_chunk_bytes == 0
        {
            return Err(ConfigError::FlowControl);
        }
        Ok(())
    }

    /// The initial membership: [`voters`](Self::voters) and
    /// [`learners`](Self::learners). A running replica uses the latest
    /// membership in its log instead ([`Replica::membership`](crate::Replica::membership)).
    pub fn membership(&self) -> Membership {
        Membership {
            voters: self.voters.clone(),
            learners: self.learners.clone(),
        }
    }

    /// Builder: compaction keeps this many entries before a snapshot.
    pub fn with_snapshot_retain_entries(mut self, entries: u64) -> Config {
        self.snapshot_retain_entries = entries;
        self
    }

    /// Builder: the largest snapshot chunk in bytes.
    pub fn with_max_snapshot_chunk_bytes(mut self, bytes: usize) -> Config {
        self.max_snapshot_chunk_bytes = bytes;
        self
    }

    /// Votes needed to win an election in the initial membership.
    pub fn election_quorum_size(&self) -> usize {
        self.election_quorum
            .size(self.voters.len(), self.durability)
    }

    /// Voters whose contact a leader needs within an election timeout to be
    /// sure no other leader can have been elected: enough to meet every
    /// election quorum (of the initial membership).
    pub fn check_quorum_size(&self) -> usize {
        self.voters.len() + 1 - self.election_quorum_size()
    }

    /// True when no acknowledged write can be lost by failover.
    pub fn survives_failover(&self) -> bool {
        self.durability
            .survives_failover(self.voters.len(), self.election_quorum)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn three() -> Config {
        Config::new(NodeId(1), [NodeId(1), NodeId(2), NodeId(3)])
    }

    #[test]
    fn defaults_validate() {
        assert_eq!(three().validate(), Ok(()));
    }

    #[test]
    fn rejects_inconsistent_configs() {
        let c = three().with_durability(Durability::SemiSync { k: 3 });
        assert_eq!(
            c.validate(),
            Err(ConfigError::SemiSyncTooLarge { k: 3, followers: 2 })
        );
        let c = three().with_learners([NodeId(2)]);
        assert_eq!(c.validate(), Err(ConfigError::VoterAndLearner(NodeId(2))));
        let c = Config::new(NodeId(9), [NodeId(1)]);
        assert_eq!(c.validate(), Err(ConfigError::NotAMember(NodeId(9))));
    }

    #[test]
    fn check_quorum_meets_every_election_quorum() {
        let c = three();
        assert_eq!(c.election_quorum_size(), 2);
        assert_eq!(c.check_quorum_size(), 2);
        let c = three()
            .with_durability(Durability::Async)
            .with_election_quorum(ElectionQuorum::Flexible);
        assert_eq!(c.election_quorum_size(), 3);
        assert_eq!(c.check_quorum_size(), 1);
    }

    #[test]
    fn lease_reads_need_check_quorum_and_a_drift_below_the_election_timeout() {
        let lease = three().with_lease_reads(Duration::from_millis(10));
        assert_eq!(lease.validate(), Ok(()));
        let mut no_check = lease.clone();
        no_check.check_quorum = false;
        assert!(matches!(no_check.validate(), Err(ConfigError::Timing(_))));
        let too_loose = three().with_lease_reads(Duration::from_millis(150));
        assert!(matches!(too_loose.validate(), Err(ConfigError::Timing(_))));
    }
}
