//! Durability policies (when a write counts as committed and the client is
//! acknowledged) and election quorums (how many votes make a leader).
//!
//! The two are linked: an acknowledged write survives failover exactly when
//! every election quorum intersects every commit quorum, because the
//! up-to-date vote check then forces any new leader to hold the write.

use serde::{Deserialize, Serialize};

/// When an entry is committed and its client acknowledged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum Durability {
    /// As soon as the leader has persisted the entry. Fast; a failover to a
    /// follower that had not received it loses the write.
    Async,
    /// The leader and any `k` voting followers have persisted the entry
    /// (MySQL semi-synchronous replication with `k` sync replicas).
    SemiSync {
        /// Number of followers that must persist the entry besides the leader.
        k: usize,
    },
    /// A majority of the voters, leader included, has persisted the entry.
    Quorum,
    /// Every voter has persisted the entry (fully synchronous).
    All,
}

/// How many votes elect a leader.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum ElectionQuorum {
    /// A majority of voters: what real systems do.
    #[default]
    Majority,
    /// Flexible Paxos: an election quorum large enough to intersect every
    /// commit quorum of the durability policy (`|Q_elect| + |Q_commit| > n`),
    /// and never smaller than a majority (so two elections in one epoch
    /// still intersect). Weak durability then loses no acknowledged write,
    /// at the price of availability: with `Async`, every voter must vote.
    Flexible,
}

impl Durability {
    /// Number of voters (leader included) whose persistence commits an entry
    /// in a cluster of `voters` voters. Never more than `voters`.
    pub fn commit_quorum(self, voters: usize) -> usize {
        let size = match self {
            Durability::Async => 1,
            Durability::SemiSync { k } => k.saturating_add(1),
            Durability::Quorum => majority(voters),
            Durability::All => voters,
        };
        size.clamp(1, voters.max(1))
    }

    /// True when no acknowledged write can be lost by a failover in a
    /// cluster of `voters` voters electing with `election`: every election
    /// quorum intersects every commit quorum.
    pub fn survives_failover(self, voters: usize, election: ElectionQuorum) -> bool {
        self.commit_quorum(voters) + election.size(voters, self) > voters
    }
}

impl ElectionQuorum {
    /// Number of votes (the candidate's own included) that elect a leader
    /// among `voters` voters under `durability`.
    pub fn size(self, voters: usize, durability: Durability) -> usize {
        match self {
            ElectionQuorum::Majority => majority(voters),
            ElectionQuorum::Flexible => {
                let intersecting = voters + 1 - durability.commit_quorum(voters);
                intersecting.max(majority(voters))
            }
        }
    }
}

/// The smallest strict majority of `n`.
pub fn majority(n: usize) -> usize {
    n / 2 + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commit_quorum_sizes() {
        assert_eq!(Durability::Async.commit_quorum(3), 1);
        assert_eq!(Durability::SemiSync { k: 1 }.commit_quorum(5), 2);
        assert_eq!(Durability::SemiSync { k: 9 }.commit_quorum(5), 5);
        assert_eq!(Durability::Quorum.commit_quorum(5), 3);
        assert_eq!(Durability::All.commit_quorum(5), 5);
    }

    #[test]
    fn flexible_elections_intersect_every_commit_quorum() {
        for n in 1..=7 {
            for d in [
                Durability::Async,
                Durability::SemiSync { k: 1 },
                Durability::SemiSync { k: 2 },
                Durability::Quorum,
                Durability::All,
            ] {
                assert!(
                    d.survives_failover(n, ElectionQuorum::Flexible),
                    "{d:?} n={n}"
                );
                let e = ElectionQuorum::Flexible.size(n, d);
                assert!(2 * e > n, "two elections must intersect: {d:?} n={n}");
            }
        }
    }

    #[test]
    fn majority_elections_lose_writes_exactly_under_small_commit_quorums() {
        let m = ElectionQuorum::Majority;
        assert!(!Durability::Async.survives_failover(3, m));
        assert!(Durability::SemiSync { k: 1 }.survives_failover(3, m));
        assert!(!Durability::SemiSync { k: 1 }.survives_failover(5, m));
        assert!(Durability::SemiSync { k: 2 }.survives_failover(5, m));
        assert!(Durability::Quorum.survives_failover(5, m));
        assert!(Durability::All.survives_failover(5, m));
    }
}
