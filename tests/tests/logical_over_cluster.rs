//! A logical (row-based) replication log rides through the replicated log
//! as opaque entry payloads: a 3-node cluster commits the leader's change
//! events, and every replica applies them to its own store and ends with the
//! leader's rows — across a failover in the middle of the stream.

use std::collections::BTreeMap;
use std::time::Duration;
use steadfast::NodeId;
use steadfast_formats::logical::{self, events_for, LogicalFollower};
use steadfast_formats::store::{SeededNondeterminism, Store, Value};
use steadfast_sim::harness::{Cluster, ClusterSpec};

type Rows = BTreeMap<String, BTreeMap<i64, Vec<Value>>>;

fn rows(store: &Store) -> Rows {
    store
        .tables()
        .iter()
        .map(|(name, table)| (name.clone(), table.rows().clone()))
        .collect()
}

fn run_until_leader(cluster: &mut Cluster) -> NodeId {
    assert!(cluster.run_until(Duration::from_secs(5), |c| c.leader().is_some()));
    cluster.leader().unwrap()
}

#[test]
fn a_logical_log_replicates_through_a_three_node_cluster() {
    let statements = [
        "CREATE TABLE users (id, name, score)",
        "INSERT INTO users (name, score) VALUES ('ada', 10)",
        "INSERT INTO users (name, score) VALUES ('bob', rand())",
        "UPDATE users SET score = score + 5 WHERE id = 1",
        "INSERT INTO users (name, score) VALUES ('cy', now())",
        "DELETE FROM users WHERE id = 2",
        "UPDATE users SET name = 'ada l.' WHERE id = 1",
    ];
    let mut leader_store = Store::new();
    let mut nondeterminism = SeededNondeterminism::new(42, 1_700_000_000_000, 7);
    let mut cluster = Cluster::new(&ClusterSpec::new(3));
    let first_leader = run_until_leader(&mut cluster);
    for (i, text) in statements.iter().enumerate() {
        let execution = leader_store
            .execute(text, &mut nondeterminism)
            .unwrap_or_else(|e| panic!("{text}: {e}"));
        for event in events_for(&execution) {
            let leader = run_until_leader(&mut cluster);
            cluster
                .propose(leader, &logical::encode(&event))
                .expect("the leader accepts the event");
        }
        cluster.run_for(Duration::from_millis(100));
        if i == 3 {
            // Fail over in the middle of the stream.
            cluster.crash(first_leader);
            cluster.run_until(Duration::from_secs(5), |c| {
                c.leader().is_some_and(|l| l != first_leader)
            });
            cluster.restart(first_leader);
        }
    }
    cluster.run_for(Duration::from_secs(2));
    assert!(
        cluster.history().violations.is_empty(),
        "{:?}",
        cluster.history().violations
    );

    let expected = rows(&leader_store);
    assert!(
        expected["users"].len() == 2,
        "the workload did something: {expected:?}"
    );
    for id in cluster.ids() {
        let host = cluster.host(id).unwrap();
        let mut store = Store::new();
        let mut follower = LogicalFollower::new();
        for entry in host.storage.applied() {
            let Some(bytes) = entry.command() else {
                continue;
            };
            let event = logical::decode(bytes).expect("a committed payload decodes");
            follower
                .apply(&mut store, &event)
                .expect("the event applies");
        }
        assert_eq!(rows(&store), expected, "{id} diverged");
        assert_eq!(follower.open_transaction(), None);
    }
}
