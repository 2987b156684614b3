//! Random event sequences against a 3-node cluster: the safety properties
//! must hold after every step, whatever the order of faults.

use crate::durability::Durability;
use crate::harness::{Cluster, ClusterSpec, Faults, Property};
use crate::types::NodeId;
use proptest::prelude::*;
use std::time::Duration;

#[derive(Clone, Debug)]
enum Event {
    Run(u64),
    Propose(u8),
    Crash(u64),
    Restart(u64),
    Isolate(u64),
    Heal,
    Transfer(u64),
}

fn event() -> impl Strategy<Value = Event> {
    prop_oneof![
        4 => (1u64..400).prop_map(Event::Run),
        4 => any::<u8>().prop_map(Event::Propose),
        1 => (1u64..=3).prop_map(Event::Crash),
        2 => (1u64..=3).prop_map(Event::Restart),
        1 => (1u64..=3).prop_map(Event::Isolate),
        2 => Just(Event::Heal),
        1 => (1u64..=3).prop_map(Event::Transfer),
    ]
}

fn run(durability: Durability, seed: u64, events: &[Event]) -> Cluster {
    let mut spec = ClusterSpec::new(3);
    spec.durability = durability;
    spec.seed = seed;
    spec.faults = Faults::hostile();
    let mut cluster = Cluster::new(&spec);
    cluster.run_for(Duration::from_millis(500));
    for event in events {
        match *event {
            Event::Run(ms) => cluster.run_for(Duration::from_millis(ms)),
            Event::Propose(b) => {
                let _ = cluster.propose_to_leader(&[b]);
            }
            Event::Crash(n) => cluster.crash(NodeId(n)),
            Event::Restart(n) => cluster.restart(NodeId(n)),
            Event::Isolate(n) => cluster.isolate(NodeId(n)),
            Event::Heal => cluster.heal(),
            Event::Transfer(n) => {
                let _ = cluster.transfer_leadership(NodeId(n));
            }
        }
    }
    cluster
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn quorum_clusters_keep_every_safety_property(
        seed in any::<u64>(),
        events in proptest::collection::vec(event(), 1..60),
    ) {
        let cluster = run(Durability::Quorum, seed, &events);
        prop_assert!(
            cluster.history().violations.is_empty(),
            "{:?}\n{}", cluster.history().violations, cluster.trace()
        );
    }

    #[test]
    fn async_clusters_keep_election_safety_and_log_matching(
        seed in any::<u64>(),
        events in proptest::collection::vec(event(), 1..60),
    ) {
        let cluster = run(Durability::Async, seed, &events);
        for property in [Property::ElectionSafety, Property::LogMatching] {
            prop_assert!(
                cluster.history().first(property).is_none(),
                "{:?}\n{}", cluster.history().violations, cluster.trace()
            );
        }
    }
}
