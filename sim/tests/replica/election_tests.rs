//! Elections across a membership change: a (pre-)vote is granted on the
//! vote and log rules alone, whatever the voter believes its own role or
//! the candidate's to be; whether it counts is the candidate's business.

use crate::tests::{commit_all, elect, no_violations, SECOND};
use steadfast::membership::MembershipChange;
use steadfast::replica::Role;
use steadfast::types::NodeId;
use steadfast_sim::harness::{Cluster, ClusterSpec};

/// Voters {1, 2} and learner 3, a leader elected and everything
/// replicated; returns the cluster, the leader and the other voter.
fn two_voters_and_a_learner(pre_vote: bool) -> (Cluster, NodeId, NodeId) {
    let mut spec = ClusterSpec::new(2);
    spec.learners = 1;
    spec.pre_vote = pre_vote;
    let mut cluster = Cluster::new(&spec);
    let leader = elect(&mut cluster);
    cluster.propose_to_leader(b"a").unwrap();
    commit_all(&mut cluster);
    let other = if leader == NodeId(1) {
        NodeId(2)
    } else {
        NodeId(1)
    };
    (cluster, leader, other)
}

/// The leader promotes 3 while `missing` is cut off; the promotion commits
/// on the two others; then the leader is lost for good and the network
/// heals. Returns the promotion's lsn.
fn promote_without(cluster: &mut Cluster, leader: NodeId, missing: NodeId) -> u64 {
    cluster.isolate(missing);
    let (_, at) = cluster
        .propose_membership(leader, MembershipChange::PromoteLearner(NodeId(3)))
        .unwrap();
    let committed = cluster.run_until(SECOND, |c| {
        c.replica(leader).is_some_and(|r| r.commit() >= at.lsn)
    });
    assert!(committed, "promotion never committed:\n{}", cluster.trace());
    cluster.crash(leader);
    cluster.heal();
    at.lsn.0
}

/// The promotion commits on the leader and the other voter; learner 3
/// never gets it. The other voter has every committed entry and needs 3's
/// vote, which 3, still a learner in its own eyes, used to refuse: no
/// leader was ever elected again.
#[test]
fn a_learner_that_missed_its_promotion_votes() {
    for pre_vote in [true, false] {
        let (mut cluster, leader, other) = two_voters_and_a_learner(pre_vote);
        let promotion = promote_without(&mut cluster, leader, NodeId(3));
        let elected = cluster.run_until(10 * SECOND, |c| c.leader() == Some(other));
        assert!(elected, "pre-vote={pre_vote}:\n{}", cluster.trace());
        cluster.propose_to_leader(b"b").unwrap();
        commit_all(&mut cluster);
        let three = cluster.replica(NodeId(3)).unwrap();
        assert_eq!(three.role(), Role::Follower, "3 learns it was promoted");
        assert!(three.commit().0 > promotion);
        no_violations(&cluster);
    }
}

/// The mirror case: the promotion commits on the leader and 3; the other
/// voter never gets it and refused 3's request because its membership
/// still called 3 a learner.
#[test]
fn a_voter_votes_for_a_candidate_it_thinks_is_a_learner() {
    for pre_vote in [true, false] {
        let (mut cluster, leader, other) = two_voters_and_a_learner(pre_vote);
        promote_without(&mut cluster, leader, other);
        let elected = cluster.run_until(10 * SECOND, |c| c.leader() == Some(NodeId(3)));
        assert!(elected, "pre-vote={pre_vote}:\n{}", cluster.trace());
        cluster.propose_to_leader(b"b").unwrap();
        commit_all(&mut cluster);
        no_violations(&cluster);
    }
}
