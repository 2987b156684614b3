//! Membership changes: one server at a time, through the log; the
//! single-server-change safety fix and the bug it prevents.

use crate::tests::{commit_all, elect, no_violations, SECOND};
use proptest::prelude::*;
use std::time::Duration;
use steadfast::membership::{MembershipChange, MembershipError};
use steadfast::planted::PlantedBug;
use steadfast::replica::Role;
use steadfast::types::NodeId;
use steadfast::Config;
use steadfast_sim::harness::{strategy, Cluster, ClusterSpec, Faults, Property, Step};

fn n(id: u64) -> NodeId {
    NodeId(id)
}

fn joiner(spec: &ClusterSpec, id: NodeId) -> Config {
    let mut config = spec.config(id);
    config.learners.insert(id);
    config
}

/// Retry a change until the leader accepts it (it may still be committing
/// its no-op or an earlier change).
fn change(cluster: &mut Cluster, change: MembershipChange) {
    let done = cluster.run_until(5 * SECOND, |c| {
        let Some(leader) = c.leader() else {
            return false;
        };
        let mut probe = c.clone();
        probe.propose_membership(leader, change).is_ok()
    });
    assert!(done, "{change:?} never accepted:\n{}", cluster.trace());
    let (_, at) = cluster.propose_membership_to_leader(change).unwrap();
    let committed = cluster.run_until(5 * SECOND, |c| {
        c.leader()
            .and_then(|l| c.replica(l))
            .is_some_and(|r| r.commit() >= at.lsn)
    });
    assert!(
        committed,
        "{change:?} never committed:\n{}",
        cluster.trace()
    );
}

/// Every current member (of the leader's membership) applied everything.
fn commit_members(cluster: &mut Cluster) {
    let done = cluster.run_until(5 * SECOND, |c| {
        let Some(leader) = c.leader().and_then(|l| c.replica(l)) else {
            return false;
        };
        let last = leader.last().lsn;
        leader.commit() == last
            && leader
                .membership()
                .members()
                .all(|id| c.replica(id).is_none_or(|r| r.applied() == last))
    });
    assert!(done, "members did not converge:\n{}", cluster.trace());
}

#[test]
fn add_promote_and_remove_the_leader() {
    let spec = ClusterSpec::new(3);
    let mut cluster = Cluster::new(&spec);
    let leader = elect(&mut cluster);
    cluster.propose_to_leader(b"a").unwrap();
    commit_all(&mut cluster);
    cluster.add_node(joiner(&spec, n(4)));
    change(&mut cluster, MembershipChange::AddLearner(n(4)));
    assert_eq!(cluster.replica(n(4)).unwrap().role(), Role::Learner);
    change(&mut cluster, MembershipChange::PromoteLearner(n(4)));
    commit_all(&mut cluster);
    assert_eq!(cluster.replica(n(4)).unwrap().role(), Role::Follower);
    for id in cluster.ids() {
        let voters = &cluster.replica(id).unwrap().membership().voters;
        assert_eq!(voters.len(), 4, "{id}");
    }
    let status = cluster.replica(leader).unwrap().follower_status();
    assert!(status[&n(4)].voter);

    // The leader removes itself: it steps down once the removal commits,
    // and the remaining three elect a leader among themselves.
    cluster
        .propose_membership(leader, MembershipChange::Remove(leader))
        .unwrap();
    let moved_on = cluster.run_until(5 * SECOND, |c| c.leader().is_some_and(|l| l != leader));
    assert!(moved_on, "{}", cluster.trace());
    assert_eq!(cluster.replica(leader).unwrap().role(), Role::Learner);
    cluster.propose_to_leader(b"b").unwrap();
    commit_members(&mut cluster);
    let new_leader = cluster.leader().unwrap();
    assert!(!cluster
        .replica(new_leader)
        .unwrap()
        .membership()
        .contains(leader));
    // The removed node no longer campaigns, even when isolated.
    cluster.isolate(leader);
    cluster.run_for(2 * SECOND);
    assert_eq!(cluster.replica(leader).unwrap().role(), Role::Learner);
    cluster.heal();
    no_violations(&cluster);

    // Restart recovers the membership from the log.
    let restarted = cluster.ids()[1];
    let before = cluster.replica(restarted).unwrap().membership().clone();
    cluster.crash(restarted);
    cluster.restart(restarted);
    assert_eq!(cluster.replica(restarted).unwrap().membership(), &before);
}

#[test]
fn changes_wait_for_the_leaders_own_epoch_and_come_one_at_a_time() {
    let spec = ClusterSpec::new(3);
    let mut cluster = Cluster::new(&spec);
    // Right after winning, the no-op of the new epoch is not committed.
    let elected = cluster.run_until(5 * SECOND, |c| c.leader().is_some());
    assert!(elected);
    let leader = cluster.leader().unwrap();
    assert_eq!(
        cluster.propose_membership(leader, MembershipChange::AddLearner(n(4))),
        Err(MembershipError::LeaderNotReady)
    );
    commit_all(&mut cluster);
    // Cut the leader off: its first change cannot commit, so the second waits.
    cluster.isolate(leader);
    let (_, first) = cluster
        .propose_membership(leader, MembershipChange::AddLearner(n(4)))
        .unwrap();
    assert_eq!(
        cluster.propose_membership(leader, MembershipChange::AddLearner(n(5))),
        Err(MembershipError::ChangeInProgress { pending: first.lsn })
    );
    let follower = cluster.ids().into_iter().find(|&i| i != leader).unwrap();
    assert!(matches!(
        cluster.propose_membership(follower, MembershipChange::AddLearner(n(5))),
        Err(MembershipError::NotLeader { .. })
    ));
    no_violations(&cluster);
}

#[test]
fn a_learner_is_promoted_only_once_caught_up() {
    let spec = ClusterSpec::new(3);
    let mut cluster = Cluster::new(&spec);
    elect(&mut cluster);
    for i in 0..100u8 {
        cluster.propose_to_leader(&[i]).unwrap();
    }
    commit_all(&mut cluster);
    cluster.add_node(joiner(&spec, n(4)));
    cluster.isolate(n(4));
    change(&mut cluster, MembershipChange::AddLearner(n(4)));
    assert!(matches!(
        cluster.propose_membership_to_leader(MembershipChange::PromoteLearner(n(4))),
        Err(MembershipError::NotCaughtUp { .. })
    ));
    cluster.heal();
    change(&mut cluster, MembershipChange::PromoteLearner(n(4)));
    no_violations(&cluster);
}

/// Ongaro's single-server-change bug, by hand. Voters 1–4, learner 5.
/// 1 leads epoch e1 and appends "promote 5" (reaching only 5). 2, 3 and 4
/// elect a leader L of a later epoch; L's no-op reaches only one partner P.
/// With the bug, L proposes "remove 1" at once: voters {2,3,4} take effect,
/// so L and P commit it and an acknowledged write W. Then 1, with the
/// uncommitted five-voter membership, wins votes from itself, 5 and the
/// third voter (whose log is behind but not newer than 1's) and leads
/// without W. With the fix, L refuses the change until its no-op commits,
/// which needs three of {1,2,3,4}, so W is never acknowledged.
fn membership_bug_schedule(planted: bool) -> (Cluster, Result<(), MembershipError>) {
    let mut spec = ClusterSpec::new(4);
    spec.pre_vote = false;
    spec.check_quorum = false;
    let configs: Vec<Config> = (1..=4).map(|i| spec.config(n(i))).collect();
    let mut cluster = Cluster::from_configs(configs, Faults::none(), spec.seed);
    if planted {
        cluster.plant_bug(Some(PlantedBug::MembershipChangeBeforeOwnEpochCommit));
    }
    let first = elect(&mut cluster);
    if first != n(1) {
        commit_all(&mut cluster);
        assert!(cluster.transfer_leadership(n(1)));
        assert!(cluster.run_until(SECOND, |c| c.leader() == Some(n(1))));
    }
    cluster.propose(n(1), b"x").unwrap();
    commit_all(&mut cluster);
    let five = joiner(&spec, n(5));
    cluster.add_node(five);
    change(&mut cluster, MembershipChange::AddLearner(n(5)));
    commit_all(&mut cluster);

    // 1 appends "promote 5", which reaches only 5.
    let others = [n(2), n(3), n(4)];
    cluster.partition(&[n(1), n(5)], &others);
    cluster
        .propose_membership(n(1), MembershipChange::PromoteLearner(n(5)))
        .unwrap();
    cluster.run_for(Duration::from_millis(20));
    assert_eq!(cluster.replica(n(5)).unwrap().membership().voters.len(), 5);

    // 2, 3, 4 elect L; its first messages reach only its partner P.
    let elected = cluster.run_until(5 * SECOND, |c| {
        c.leader().is_some_and(|l| others.contains(&l))
    });
    assert!(elected, "{}", cluster.trace());
    let l = cluster.leader().unwrap();
    let rest: Vec<NodeId> = others.iter().copied().filter(|&x| x != l).collect();
    let (partner, third) = (rest[0], rest[1]);
    cluster.partition(&[third], &[l, partner]);
    let removal = cluster
        .propose_membership(l, MembershipChange::Remove(n(1)))
        .map(|_| ());
    let _ = cluster.propose(l, b"W");
    cluster.run_for(Duration::from_millis(200));

    // 1, 5 and the third voter meet; L and P are cut off.
    cluster.heal();
    cluster.partition(&[l, partner], &[n(1), n(5), third]);
    let l_epoch = cluster.replica(l).unwrap().epoch();
    cluster.run_until(5 * SECOND, |c| {
        c.leader()
            .and_then(|x| c.replica(x))
            .is_some_and(|r| r.epoch() > l_epoch && !others.contains(&r.id()))
    });
    (cluster, removal)
}

#[test]
fn the_planted_membership_bug_loses_an_acknowledged_write() {
    let (cluster, removal) = membership_bug_schedule(true);
    assert_eq!(removal, Ok(()), "the bug lets the change through");
    assert!(
        cluster
            .history()
            .first(Property::NoLostAckedWrites)
            .is_some(),
        "the checks must catch the lost write:\n{}",
        cluster.trace()
    );
}

#[test]
fn the_fixed_core_survives_the_same_schedule() {
    let (cluster, removal) = membership_bug_schedule(false);
    assert_eq!(removal, Err(MembershipError::LeaderNotReady));
    no_violations(&cluster);
}

fn event() -> impl Strategy<Value = Step> {
    let node = 1u64..=5;
    let change = |c: fn(NodeId) -> MembershipChange| move |i| Step::Reconfigure(c(n(i)));
    prop_oneof![
        10 => strategy::faults(node.clone(), 400),
        4 => strategy::propose(),
        1 => node.clone().prop_map(|i| Step::Snapshot(n(i))),
        1 => (4u64..=5).prop_map(change(MembershipChange::AddLearner)),
        1 => node.clone().prop_map(change(MembershipChange::PromoteLearner)),
        1 => node.prop_map(change(MembershipChange::Remove)),
    ]
}

fn run(seed: u64, events: &[Step]) -> Cluster {
    let mut spec = ClusterSpec::new(3);
    spec.seed = seed;
    spec.faults = Faults::hostile();
    let tune = |c: Config| {
        c.with_snapshot_retain_entries(3)
            .with_max_snapshot_chunk_bytes(32)
    };
    let configs = (1..=3).map(|i| tune(spec.config(n(i)))).collect();
    let mut cluster = Cluster::from_configs(configs, spec.faults, seed);
    for id in 4..=5 {
        cluster.add_node(tune(joiner(&spec, n(id))));
    }
    cluster.run_for(Duration::from_millis(500));
    for event in events {
        cluster.inject(event);
    }
    cluster
}

/// A leader that removes itself hands over with `TimeoutNow` when the
/// removal commits: a caught-up voter campaigns at once instead of waiting
/// out an election timeout after the last heartbeat.
#[test]
fn a_leader_that_removes_itself_hands_over_at_once() {
    let spec = ClusterSpec::new(3);
    let mut cluster = Cluster::new(&spec);
    let leader = elect(&mut cluster);
    cluster.propose_to_leader(b"a").unwrap();
    commit_all(&mut cluster);
    cluster
        .propose_membership(leader, MembershipChange::Remove(leader))
        .unwrap();
    // Until the removal commits it still leads, but takes no new writes: it
    // could not learn their fate once it is no longer a member.
    assert!(cluster.propose(leader, b"late").is_err());
    let stepped_down = cluster.run_until(SECOND, |c| {
        c.replica(leader).is_some_and(|r| r.role() != Role::Leader)
    });
    assert!(stepped_down, "{}", cluster.trace());
    let since = cluster.now();
    let successor = cluster.run_until(SECOND, |c| c.leader().is_some_and(|l| l != leader));
    assert!(successor, "{}", cluster.trace());
    let took = cluster.now().0 - since.0;
    let timeout_min = spec.config(n(1)).election_timeout_min.as_millis() as u64;
    assert!(
        took < timeout_min / 2,
        "a successor took {took} ms (election timeout {timeout_min} ms)\n{}",
        cluster.trace()
    );
    cluster.propose_to_leader(b"b").unwrap();
    commit_members(&mut cluster);
    no_violations(&cluster);
}

/// The case the property test below once shrank to (kept as a pinned test
/// since a change of the step strategy would change what its saved seed
/// generates): installing a snapshot reported entries it covers as
/// truncated, which the checks took for truncating committed entries.
#[test]
fn snapshot_install_after_a_crash_keeps_every_safety_property() {
    let ms = |m| Step::Run(Duration::from_millis(m));
    let propose = |b| Step::Propose(vec![b]);
    let events = [
        propose(0),
        Step::Crash(n(3)),
        propose(0),
        propose(0),
        ms(358),
        ms(346),
        ms(330),
        propose(12),
        ms(313),
        ms(225),
        ms(146),
        ms(34),
        propose(116),
        Step::Crash(n(2)),
        Step::Restart(n(3)),
        Step::Snapshot(n(1)),
        ms(257),
        ms(321),
    ];
    let cluster = run(3_876_720_540_943_628_331, &events);
    assert!(
        cluster.history().violations.is_empty(),
        "{:?}\n{}",
        cluster.history().violations,
        cluster.trace()
    );
}

/// 48 cases, or `PROPTEST_CASES` for a deeper run (an explicit case count
/// would otherwise ignore the variable).
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(48)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn membership_changes_under_crashes_keep_every_safety_property(
        seed in any::<u64>(),
        events in proptest::collection::vec(event(), 1..60),
    ) {
        let cluster = run(seed, &events);
        prop_assert!(
            cluster.history().violations.is_empty(),
            "{:?}\n{}", cluster.history().violations, cluster.trace()
        );
    }
}
