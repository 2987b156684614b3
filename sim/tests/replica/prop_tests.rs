//! Random event sequences against a 3-node cluster: the safety properties
//! must hold after every step, whatever the order of faults.

use proptest::prelude::*;
use std::time::Duration;
use steadfast::durability::Durability;
use steadfast_sim::harness::{strategy, Cluster, ClusterSpec, Faults, Property, Step};

fn event() -> impl Strategy<Value = Step> {
    prop_oneof![
        10 => strategy::faults(1..=3, 400),
        4 => strategy::propose(),
        1 => strategy::transfer(1..=3),
    ]
}

fn run(durability: Durability, seed: u64, events: &[Step]) -> Cluster {
    let mut spec = ClusterSpec::new(3);
    spec.durability = durability;
    spec.seed = seed;
    spec.faults = Faults::hostile();
    let mut cluster = Cluster::new(&spec);
    cluster.run_for(Duration::from_millis(500));
    for event in events {
        cluster.inject(event);
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
