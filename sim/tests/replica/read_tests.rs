//! Scenario tests of reads under replication lag, driven through the
//! harness: linearizable leader reads (read-index and lease), session
//! tokens on followers, and the anomalies the checks must find when the
//! guarantees are not asked for or their assumptions are broken.

use crate::tests::{commit_all, elect, no_violations, SECOND};
use std::time::Duration;
use steadfast::durability::Durability;
use steadfast::replica::{ReadError, Role};
use steadfast::session::{ReadDecision, ReadRejection};
use steadfast::types::NodeId;
use steadfast_sim::harness::{Cluster, ClusterSpec, LeaderRead, Property, ReadMode, SessionId};

const MS: Duration = Duration::from_millis(1);

fn others(cluster: &Cluster, node: NodeId) -> Vec<NodeId> {
    cluster.ids().into_iter().filter(|&n| n != node).collect()
}

fn served(cluster: &mut Cluster, node: NodeId, session: SessionId, mode: ReadMode) -> bool {
    matches!(
        cluster.read_at(node, session, mode),
        Some(ReadDecision::Serve { .. })
    )
}

/// A leader, one follower in sync with it, and one follower cut off from
/// the leader (but not from its peer) that has missed a write of `writer`.
fn lagging_follower(writer: SessionId, cluster: &mut Cluster) -> (NodeId, NodeId, NodeId) {
    let leader = elect(cluster);
    commit_all(cluster);
    let [fresh, stale] = others(cluster, leader)[..] else {
        panic!("three nodes");
    };
    cluster.partition(&[leader], &[stale]);
    cluster.write_in_session(writer, b"x = 1").unwrap();
    assert!(
        cluster.run_until(SECOND, |c| c
            .session(writer)
            .is_some_and(|s| !s.acked_writes.is_empty())),
        "{}",
        cluster.trace()
    );
    // The next heartbeat tells the in-sync follower the commit point.
    cluster.run_for(60 * MS);
    let fresh_applied = cluster.replica(fresh).unwrap().applied();
    let stale_applied = cluster.replica(stale).unwrap().applied();
    assert!(fresh_applied > stale_applied, "{}", cluster.trace());
    (leader, fresh, stale)
}

#[test]
fn follower_reads_without_a_token_break_read_your_writes() {
    let mut cluster = Cluster::new(&ClusterSpec::new(3));
    let session = cluster.open_session();
    let (_, _, stale) = lagging_follower(session, &mut cluster);
    assert!(served(&mut cluster, stale, session, ReadMode::WithoutToken));
    let found = cluster.history().first(Property::ReadYourWrites);
    assert!(
        found.is_some(),
        "expected the anomaly:\n{}",
        cluster.trace()
    );
}

#[test]
fn follower_reads_without_a_token_break_monotonic_reads() {
    let mut cluster = Cluster::new(&ClusterSpec::new(3));
    let writer = cluster.open_session();
    let reader = cluster.open_session();
    let (_, fresh, stale) = lagging_follower(writer, &mut cluster);
    assert!(served(&mut cluster, fresh, reader, ReadMode::WithoutToken));
    assert!(served(&mut cluster, stale, reader, ReadMode::WithoutToken));
    let found = cluster.history().first(Property::MonotonicReads);
    assert!(
        found.is_some(),
        "expected the anomaly:\n{}",
        cluster.trace()
    );
    assert!(cluster.history().first(Property::ReadYourWrites).is_none());
}

#[test]
fn tokens_make_a_lagging_follower_wait_until_it_catches_up() {
    let mut cluster = Cluster::new(&ClusterSpec::new(3));
    let writer = cluster.open_session();
    let reader = cluster.open_session();
    let (_, fresh, stale) = lagging_follower(writer, &mut cluster);
    // Read your writes: the writer's token holds the lagging follower off.
    assert!(matches!(
        cluster.read_at(stale, writer, ReadMode::WithToken),
        Some(ReadDecision::Wait { .. })
    ));
    assert!(served(&mut cluster, fresh, writer, ReadMode::WithToken));
    // Monotonic reads: after seeing the write, the reader's token does too.
    assert!(served(&mut cluster, fresh, reader, ReadMode::WithToken));
    assert!(matches!(
        cluster.read_at(stale, reader, ReadMode::WithToken),
        Some(ReadDecision::Wait { .. })
    ));
    cluster.heal();
    assert!(cluster.run_until(SECOND, |c| {
        let token = c.session(reader).unwrap().token;
        matches!(
            c.replica(stale).unwrap().read_local(token),
            ReadDecision::Serve { .. }
        )
    }));
    assert!(served(&mut cluster, stale, reader, ReadMode::WithToken));
    assert!(served(&mut cluster, stale, writer, ReadMode::WithToken));
    assert_eq!(cluster.history().reads_checked, 4);
    no_violations(&cluster);
}

#[test]
fn a_token_from_an_older_epoch_is_served_after_a_lossless_failover() {
    let mut cluster = Cluster::new(&ClusterSpec::new(3));
    let session = cluster.open_session();
    let old = elect(&mut cluster);
    cluster
        .write_in_session(session, b"before failover")
        .unwrap();
    commit_all(&mut cluster);
    let written = cluster.session(session).unwrap().token.last_write;
    cluster.crash(old);
    assert!(cluster.run_until(5 * SECOND, |c| c.leader().is_some_and(|l| l != old)));
    cluster.write_in_session(session, b"after failover");
    commit_all(&mut cluster);
    for node in others(&cluster, old) {
        let Some(ReadDecision::Serve { at }) = cluster.read_at(node, session, ReadMode::WithToken)
        else {
            panic!(
                "{node} should serve the old-epoch token:\n{}",
                cluster.trace()
            );
        };
        assert!(at.epoch > written.epoch, "the read reflects the new epoch");
    }
    cluster.restart(old);
    commit_all(&mut cluster);
    assert!(served(&mut cluster, old, session, ReadMode::WithToken));
    no_violations(&cluster);
}

#[test]
fn a_token_whose_write_was_lost_in_an_async_failover_is_rejected() {
    let mut spec = ClusterSpec::new(3);
    spec.durability = Durability::Async;
    let mut cluster = Cluster::new(&spec);
    let session = cluster.open_session();
    let old = elect(&mut cluster);
    commit_all(&mut cluster);
    cluster.isolate(old);
    cluster.write_in_session(session, b"acked by the old leader alone");
    cluster.run_for(5 * MS);
    let lost = cluster.session(session).unwrap().token.last_write;
    assert!(lost.lsn.0 > 0, "async acknowledged the write alone");
    cluster.crash(old);
    cluster.heal();
    assert!(cluster.run_until(5 * SECOND, |c| c.leader().is_some_and(|l| l != old)));
    let other = cluster.open_session();
    cluster.write_in_session(other, b"the new history");
    cluster.restart(old);
    commit_all(&mut cluster);
    for node in cluster.ids() {
        let decision = cluster.read_at(node, session, ReadMode::WithToken);
        assert!(
            matches!(
                decision,
                Some(ReadDecision::Rejected(ReadRejection::HistoryLost { expected, .. }))
                    if expected == lost
            ),
            "{node}: {decision:?}\n{}",
            cluster.trace()
        );
    }
    assert!(cluster.history().first(Property::ReadYourWrites).is_none());
    // Without the token the loss goes unnoticed: the anomaly is found.
    assert!(served(&mut cluster, old, session, ReadMode::WithoutToken));
    assert!(cluster.history().first(Property::ReadYourWrites).is_some());
}

#[test]
fn read_index_reads_are_linearizable_and_wait_for_a_quorum_round() {
    let mut cluster = Cluster::new(&ClusterSpec::new(3));
    let session = cluster.open_session();
    let leader = elect(&mut cluster);
    cluster.write_in_session(session, b"x = 1").unwrap();
    commit_all(&mut cluster);
    let read = cluster.read_linearizable(leader, session).unwrap();
    assert_eq!(cluster.leader_read(read), Some(LeaderRead::Pending));
    assert!(cluster.run_until(SECOND, |c| c.leader_read(read) != Some(LeaderRead::Pending)));
    let Some(LeaderRead::Served { at }) = cluster.leader_read(read) else {
        panic!("{:?}\n{}", cluster.leader_read(read), cluster.trace());
    };
    assert_eq!(at, cluster.replica(leader).unwrap().applied_position());
    let follower = others(&cluster, leader)[0];
    assert_eq!(
        cluster.read_linearizable(follower, session),
        Err(ReadError::NotLeader {
            leader: Some(leader)
        })
    );
    no_violations(&cluster);
}

/// What happened around a deposed leader.
struct Deposed {
    cluster: Cluster,
    old: NodeId,
    /// The old leader still believed it led when its successor was elected.
    still_leading_at_election: bool,
    /// A read asked of the old leader after its successor acknowledged a write.
    outcome: LeaderRead,
}

/// Isolate the leader (its clock running at `clock_rate` per mille from
/// then on), read at it, let the majority elect a new leader and
/// acknowledge a write, then read at the old leader again.
fn read_at_a_deposed_leader(spec: &ClusterSpec, clock_rate: u64) -> Deposed {
    let mut cluster = Cluster::new(spec);
    let session = cluster.open_session();
    let old = elect(&mut cluster);
    cluster.write_in_session(session, b"x = 1").unwrap();
    commit_all(&mut cluster);
    cluster.run_for(60 * MS);
    cluster.isolate(old);
    cluster.set_clock_rate(old, clock_rate);
    // Without a lease this read needs a heartbeat round the partition
    // blocks; under a (still valid) lease it is served at once, correctly.
    let early = cluster
        .read_linearizable(old, session)
        .ok()
        .filter(|r| cluster.leader_read(*r) == Some(LeaderRead::Pending));
    assert!(
        cluster.run_until(5 * SECOND, |c| c.leader().is_some_and(|l| l != old)),
        "{}",
        cluster.trace()
    );
    let still_leading_at_election = cluster.replica(old).unwrap().role() == Role::Leader;
    let writer = cluster.open_session();
    cluster.write_in_session(writer, b"x = 2").unwrap();
    assert!(cluster.run_until(SECOND, |c| !c
        .session(writer)
        .unwrap()
        .acked_writes
        .is_empty()));
    let outcome = match cluster.read_linearizable(old, session) {
        Ok(read) => cluster.leader_read(read).unwrap(),
        Err(e) => LeaderRead::Failed(e),
    };
    cluster.run_for(2 * SECOND);
    if let Some(early) = early {
        assert!(
            matches!(cluster.leader_read(early), Some(LeaderRead::Failed(_))),
            "a read-index read at a deposed leader never completes: {:?}\n{}",
            cluster.leader_read(early),
            cluster.trace()
        );
    }
    Deposed {
        cluster,
        old,
        still_leading_at_election,
        outcome,
    }
}

#[test]
fn a_deposed_leader_cannot_complete_a_read_index_round() {
    for check_quorum in [true, false] {
        let mut spec = ClusterSpec::new(3);
        spec.check_quorum = check_quorum;
        let Deposed {
            cluster,
            old,
            still_leading_at_election,
            outcome,
        } = read_at_a_deposed_leader(&spec, 1000);
        assert!(
            !matches!(outcome, LeaderRead::Served { .. }),
            "check_quorum={check_quorum}: {outcome:?}\n{}",
            cluster.trace()
        );
        if !check_quorum {
            assert!(still_leading_at_election);
            assert_eq!(cluster.replica(old).unwrap().role(), Role::Leader);
            assert_eq!(outcome, LeaderRead::Pending, "its round cannot complete");
        }
        assert!(cluster.history().first(Property::Linearizable).is_none());
        no_violations(&cluster);
    }
}

#[test]
fn lease_reads_skip_the_round_trip_while_the_lease_lasts() {
    let mut spec = ClusterSpec::new(3);
    spec.lease_max_drift = Some(10 * MS);
    let mut cluster = Cluster::new(&spec);
    let session = cluster.open_session();
    let leader = elect(&mut cluster);
    cluster.write_in_session(session, b"x = 1").unwrap();
    commit_all(&mut cluster);
    cluster.run_for(60 * MS);
    let expiry = cluster.replica(leader).unwrap().lease_expiry().unwrap();
    assert!(expiry > cluster.local_now(leader));
    let read = cluster.read_linearizable(leader, session).unwrap();
    assert!(
        matches!(cluster.leader_read(read), Some(LeaderRead::Served { .. })),
        "served before any message moved"
    );
    no_violations(&cluster);
}

#[test]
fn a_lease_ends_before_a_successor_can_be_elected_while_drift_stays_in_bounds() {
    // The old leader's clock runs at 40% after the partition: over one
    // election timeout (150 ms) the others' clocks gain 90 ms on it, within
    // the assumed bound of 100 ms. Its lease (150 - 100 = 50 ms of its own
    // time, 125 ms real) ends before the voters' stickiness (150 ms real),
    // and its check-quorum (375 ms real) keeps it leading past the election.
    let mut spec = ClusterSpec::new(3);
    spec.lease_max_drift = Some(100 * MS);
    let deposed = read_at_a_deposed_leader(&spec, 400);
    let cluster = &deposed.cluster;
    assert!(
        deposed.still_leading_at_election,
        "the scenario must overlap the two reigns:\n{}",
        cluster.trace()
    );
    assert!(
        !matches!(deposed.outcome, LeaderRead::Served { .. }),
        "{:?}\n{}",
        deposed.outcome,
        cluster.trace()
    );
    assert!(
        cluster.history().reads_checked >= 1,
        "the first read was a lease read"
    );
    no_violations(cluster);
}

#[test]
fn a_lease_read_with_a_slow_clock_returns_stale_data() {
    // 10% speed: the others' clocks gain 135 ms per election timeout, far
    // beyond the assumed 10 ms. The old leader's lease outlives the voters'
    // stickiness, a successor is elected and acknowledges a write, and the
    // old leader serves a read without it.
    let mut spec = ClusterSpec::new(3);
    spec.lease_max_drift = Some(10 * MS);
    let deposed = read_at_a_deposed_leader(&spec, 100);
    let cluster = &deposed.cluster;
    assert!(
        matches!(deposed.outcome, LeaderRead::Served { .. }),
        "the slow clock still believes in its lease: {:?}\n{}",
        deposed.outcome,
        cluster.trace()
    );
    let stale = cluster.history().violations.iter().filter(|v| {
        v.property == Property::Linearizable && v.detail.contains("misses writes acknowledged")
    });
    assert_eq!(
        stale.count(),
        1,
        "expected one stale read:\n{}",
        cluster.trace()
    );
    let overlap = cluster
        .history()
        .violations
        .iter()
        .filter(|v| v.property == Property::Linearizable && v.detail.contains("holds a lease"));
    assert_eq!(
        overlap.count(),
        1,
        "and the overlapping reigns are reported"
    );
}

#[test]
fn a_voter_that_restarts_mid_lease_does_not_help_elect_a_successor() {
    // The leader's lease rests on one follower alone (the other is cut off
    // and campaigning). That follower crashes and restarts at once: having
    // forgotten the leader, it would vote for the campaigner while the
    // lease it confirmed just before the crash still runs.
    let mut overlapping_reigns = 0;
    for seed in 0..12 {
        let mut spec = ClusterSpec::new(3);
        spec.seed = seed;
        spec.lease_max_drift = Some(10 * MS);
        let mut cluster = Cluster::new(&spec);
        let leader = elect(&mut cluster);
        commit_all(&mut cluster);
        let [confirmer, campaigner] = others(&cluster, leader)[..] else {
            panic!("three nodes");
        };
        cluster.partition(&[leader], &[campaigner]);
        cluster.run_for(400 * MS);
        assert_eq!(
            cluster.leader(),
            Some(leader),
            "the confirmer keeps it leading"
        );
        cluster.crash(confirmer);
        cluster.restart(confirmer);
        cluster.run_until(SECOND, |c| c.leader().is_some_and(|l| l != leader));
        if cluster.replica(leader).unwrap().role() == Role::Leader {
            overlapping_reigns += 1;
        }
        no_violations(&cluster);
    }
    assert!(
        overlapping_reigns > 0,
        "the scenario must overlap two reigns"
    );
}
