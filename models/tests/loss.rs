//! Message loss adds nothing a safety check can see in an unordered
//! network: a lost message and one that is never delivered leave the same
//! actor states and history (properties never look at the messages in
//! flight, and a drop records nothing), so every property gets the same
//! verdict with and without loss, and the lossy model only has more states
//! (the same ones, with dropped messages missing from the network). The
//! suite's checks therefore explore loss as non-delivery; this test keeps
//! that claim checked on small models.

mod common;

use common::{small_check, small_model};
use steadfast::planted::PlantedBug;
use steadfast::Durability;
use steadfast_models::model::NetworkKind;
use steadfast_models::runner::{run, Verdict};
use steadfast_models::suite::{check_name, Check, Expect};

fn small(durability: Durability, lossy: bool, bug: Option<PlantedBug>) -> Check {
    let mut model = small_model(2, durability, NetworkKind::Unordered, bug);
    model.lossy = lossy;
    small_check(
        "loss",
        model,
        vec![
            ("ElectionSafety", Expect::Holds),
            ("LogMatching", Expect::Holds),
            ("ReplicaInvariants", Expect::Holds),
        ],
    )
}

#[test]
fn loss_in_an_unordered_network_changes_no_verdict() {
    for (durability, bug) in [
        (Durability::Quorum, None),
        (Durability::Async, None),
        (
            Durability::Async,
            Some(PlantedBug::VoteWithoutUpToDateCheck),
        ),
    ] {
        let reliable: Vec<Verdict> = run(&small(durability, false, bug));
        let lossy: Vec<Verdict> = run(&small(durability, true, bug));
        let name = check_name(&small(durability, true, bug));
        for (r, l) in reliable.iter().zip(&lossy) {
            assert_eq!(r.property, l.property);
            assert_eq!(r.found, l.found, "{name}: {}", r.property);
            if bug.is_none() || r.property == "NoLostAckedWrites" {
                assert!(r.ok, "{name}: {} as expected: {r:?}", r.property);
            }
        }
        assert!(
            lossy[0].unique_states > reliable[0].unique_states,
            "{name}: loss only adds states with fewer messages in flight"
        );
    }
}
