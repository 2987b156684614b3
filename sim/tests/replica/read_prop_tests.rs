//! Random event sequences with client sessions: with tokens, follower reads
//! keep read-your-writes, monotonic reads and consistent prefix, and leader
//! reads stay linearizable, under loss, duplication, reordering, crashes,
//! partitions and failover.

use proptest::prelude::*;
use std::time::Duration;
use steadfast::durability::Durability;
use steadfast::replica::Role;
use steadfast::types::NodeId;
use steadfast_sim::harness::{
    strategy, Cluster, ClusterSpec, Faults, Property, ReadMode, SessionId, Step,
};

/// A step of a read test: a harness [`Step`], or a session's write or read.
#[derive(Clone, Debug)]
enum Event {
    Step(Step),
    Write(u64),
    FollowerRead(u64, u64),
    LeaderRead(u64),
    Failover,
}

fn event() -> impl Strategy<Value = Event> {
    prop_oneof![
        10 => strategy::faults(1..=3, 300).prop_map(Event::Step),
        1 => strategy::transfer(1..=3).prop_map(Event::Step),
        3 => (1u64..=3).prop_map(Event::Write),
        4 => ((1u64..=3), (1u64..=3)).prop_map(|(n, s)| Event::FollowerRead(n, s)),
        3 => (1u64..=4).prop_map(Event::LeaderRead),
        1 => Just(Event::Failover),
    ]
}

fn run(spec: ClusterSpec, events: &[Event]) -> Cluster {
    let mut cluster = Cluster::new(&spec);
    let sessions: Vec<SessionId> = (0..3).map(|_| cluster.open_session()).collect();
    let session = |s: u64| sessions[usize::try_from(s - 1).unwrap_or(0) % sessions.len()];
    cluster.run_for(Duration::from_millis(500));
    for (i, event) in events.iter().enumerate() {
        match *event {
            Event::Write(s) => {
                let _ = cluster.write_in_session(session(s), &[i as u8]);
            }
            Event::FollowerRead(n, s) => {
                let _ = cluster.read_at(NodeId(n), session(s), ReadMode::WithToken);
            }
            // At any node: a deposed leader that has not noticed yet must
            // not serve it.
            // At every node that believes it leads: a deposed leader that
            // has not noticed yet must not serve it.
            Event::LeaderRead(s) => {
                for node in cluster.ids() {
                    if cluster
                        .replica(node)
                        .is_some_and(|r| r.role() == Role::Leader)
                    {
                        // Session 4 is a new session each time: its empty
                        // token leaves linearizability alone to keep it fresh.
                        let reader = if s > 3 {
                            cluster.open_session()
                        } else {
                            session(s)
                        };
                        let _ = cluster.read_linearizable(node, reader);
                    }
                }
            }
            // Cut the leader off and let the others elect a successor: the
            // deposed leader keeps its role until it notices (never, without
            // check-quorum, until the partition heals).
            Event::Failover => {
                if let Some(old) = cluster.leader() {
                    cluster.isolate(old);
                    cluster.run_until(Duration::from_secs(2), |c| {
                        c.leader().is_some_and(|l| l != old)
                    });
                }
            }
            Event::Step(ref step) => cluster.inject(step),
        }
    }
    cluster.heal();
    cluster.run_for(Duration::from_secs(1));
    for s in 1..=3 {
        for n in cluster.ids() {
            let _ = cluster.read_at(n, session(s), ReadMode::WithToken);
        }
    }
    cluster
}

/// Leader reads: read-index without check-quorum (a deposed leader keeps
/// believing it leads: the widest window for a stale read), read-index with
/// it, or lease reads (which need it).
#[derive(Clone, Copy, Debug)]
enum LeaderReads {
    ReadIndexWithoutCheckQuorum,
    ReadIndex,
    Lease,
}

fn leader_reads() -> impl Strategy<Value = LeaderReads> {
    prop_oneof![
        Just(LeaderReads::ReadIndexWithoutCheckQuorum),
        Just(LeaderReads::ReadIndex),
        Just(LeaderReads::Lease),
    ]
}

fn spec(durability: Durability, seed: u64, reads: LeaderReads) -> ClusterSpec {
    let mut spec = ClusterSpec::new(3);
    spec.durability = durability;
    spec.seed = seed;
    spec.faults = Faults::hostile();
    match reads {
        LeaderReads::ReadIndexWithoutCheckQuorum => spec.check_quorum = false,
        LeaderReads::ReadIndex => {}
        LeaderReads::Lease => spec.lease_max_drift = Some(Duration::from_millis(10)),
    }
    spec
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn quorum_clusters_keep_every_read_guarantee(
        seed in any::<u64>(),
        reads in leader_reads(),
        events in proptest::collection::vec(event(), 1..60),
    ) {
        let cluster = run(spec(Durability::Quorum, seed, reads), &events);
        prop_assert!(
            cluster.history().violations.is_empty(),
            "{:?}\n{}", cluster.history().violations, cluster.trace()
        );
    }

    #[test]
    fn async_failover_keeps_monotonic_reads_and_consistent_prefix_with_tokens(
        seed in any::<u64>(),
        events in proptest::collection::vec(event(), 1..60),
    ) {
        let cluster = run(spec(Durability::Async, seed, LeaderReads::ReadIndex), &events);
        for property in [Property::MonotonicReads, Property::ConsistentPrefix] {
            prop_assert!(
                cluster.history().first(property).is_none(),
                "{:?}\n{}", cluster.history().violations, cluster.trace()
            );
        }
    }
}
