//! The model checker has teeth: run against a core with a planted bug, a
//! model that holds for the real core must report a violation.

use stateright::{Checker, HasDiscoveries, Model, Path};
use steadfast::planted::PlantedBug;
use steadfast::{Durability, ElectionQuorum};
use steadfast_models::actor::ClientOp;
use steadfast_models::model::ReplicationModel;
use steadfast_models::report::Trace;
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
        trace.iter().any(|step| step.contains("write acknowledged")),
        "the trace shows the acknowledged write: {trace:#?}"
    );
    assert!(
        lost.shortest,
        "the depth-first trace is replaced by a shortest"
    );
    let last = trace.last().expect("a last line");
    assert!(
        last.starts_with("⇒ violated: NoLostAckedWrites (the write acknowledged at e1/"),
        "the trace ends by naming the breach: {last}"
    );
}

/// A counterexample is cut at the first state that violates its property,
/// however far the path it came from went on.
#[test]
fn a_counterexample_stops_at_the_first_violation_and_names_it() {
    let model = check(Some(PlantedBug::VoteWithoutUpToDateCheck))
        .model
        .into_model();
    let checker = check(Some(PlantedBug::VoteWithoutUpToDateCheck))
        .model
        .into_model()
        .checker()
        .finish_when(HasDiscoveries::AllOf(["NoLostAckedWrites"].into()))
        .spawn_bfs()
        .join();
    let path = checker
        .discovery("NoLostAckedWrites")
        .expect("the planted bug is found");
    let shortest = path.clone().into_actions().len();
    let init = path.clone().into_states()[0].clone();
    let mut actions = path.clone().into_actions();
    let mut last = path.last_state().clone();
    for _ in 0..3 {
        let mut next = Vec::new();
        model.actions(&last, &mut next);
        let (action, state) = next
            .into_iter()
            .find_map(|a| model.next_state(&last, a.clone()).map(|s| (a, s)))
            .expect("the run can go on");
        actions.push(action);
        last = state;
    }
    let longer = Path::from_actions(&model, init, actions.iter()).expect("a path of the model");
    let trace = Trace::new(&model, longer, "NoLostAckedWrites");
    assert_eq!(trace.len(), shortest);
    let steps = trace.steps();
    assert_eq!(steps.len(), shortest + 1, "{steps:#?}");
    let verdict = steps.last().expect("a last line");
    assert!(
        verdict.starts_with("⇒ violated: NoLostAckedWrites ("),
        "{verdict}"
    );
    let mermaid = trace.mermaid();
    assert!(
        mermaid.trim_end().ends_with(&format!(
            "Note over n0,n2: ⇒ violated: NoLostAckedWrites {}",
            &verdict["⇒ violated: NoLostAckedWrites ".len()..]
        )),
        "{mermaid}"
    );
    assert!(!mermaid.contains("Note right of"), "{mermaid}");
}
