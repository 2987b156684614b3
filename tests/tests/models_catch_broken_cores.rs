//! The model checker has teeth: run against a core with a planted bug, a
//! model that holds for the real core must report a violation.

use steadfast::planted::PlantedBug;
use steadfast::{Durability, ElectionQuorum};
use steadfast_models::actor::ClientOp;
use steadfast_models::model::ReplicationModel;
use steadfast_models::suite::{run, Check, Expect, Found};

fn check(bug: Option<PlantedBug>) -> Check {
    let mut model = ReplicationModel::new(3, Durability::Quorum, ElectionQuorum::Majority);
    model.max_crashes = 0;
    model.lossy = false;
    model.clients = vec![vec![ClientOp::Put(1)]];
    model.planted_bug = bug;
    Check {
        family: "broken-core",
        model,
        max_depth: 0,
        expect: vec![("NoLostAckedWrites", Expect::Holds)],
        examples: vec!["a write is acknowledged"],
    }
}

fn found(bug: Option<PlantedBug>, property: &str) -> Found {
    run(&check(bug))
        .into_iter()
        .find(|v| v.property == property)
        .expect("the property was checked")
        .found
}

#[test]
fn votes_without_the_up_to_date_check_lose_an_acknowledged_write() {
    assert_eq!(found(None, "NoLostAckedWrites"), Found::Holds);
    let verdicts = run(&check(Some(PlantedBug::VoteWithoutUpToDateCheck)));
    let lost = verdicts
        .iter()
        .find(|v| v.property == "NoLostAckedWrites")
        .unwrap();
    assert_eq!(lost.found, Found::Violated);
    let trace = lost.trace.as_ref().expect("a counterexample trace");
    assert!(
        trace
            .iter()
            .any(|step| step.contains("client acknowledged")),
        "the trace shows the acknowledged write: {trace:#?}"
    );
}
