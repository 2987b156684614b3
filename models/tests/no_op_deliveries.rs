//! Two reductions of what the checker stores, each a classic place for a
//! checker bug, so each is compared against the search without it on small
//! models (a correct core and one with a planted bug): every property must
//! get the same verdict, and the reduction must actually reduce.
//!
//! - **No-op deliveries** ([`ReplicationModel::skip_no_op_deliveries`]): a
//!   message whose delivery changes nothing stays in the network instead of
//!   making a state that differs from the current one only by its absence.
//! - **The canonical form** ([`steadfast_models::canonical`]): states that
//!   differ only in responses their receivers will drop unread, or in which
//!   message a duplicating network delivered last, are one state.
//!
//! Beyond verdicts, the reductions must reach exactly the states a property
//! can see (every actor's state and the history) that the plain search
//! reaches; that test fails on a canonical form that drops dead responses
//! from per-link FIFO links.

mod common;

use common::{small_check, small_model, visible};
use stateright::{Checker, Model as _, Path};
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use steadfast::planted::PlantedBug;
use steadfast::Durability;
use steadfast_models::actor::ClientOp;
use steadfast_models::canonical::canonical;
use steadfast_models::model::NetworkKind;
use steadfast_models::properties::State;
use steadfast_models::runner::{run_with, LiveHandle, RunOptions, Verdict};
use steadfast_models::suite::{check_name, Check, Expect};

/// Two servers that each campaign once, up to two epochs, two writes (with
/// a crash when `crash`); with `bug`, votes are granted without the
/// up-to-date check, so a write an `Async` leader acknowledged alone can be
/// lost.
fn small(
    durability: Durability,
    network: NetworkKind,
    crash: bool,
    bug: Option<PlantedBug>,
) -> Check {
    let mut model = small_model(2, durability, network, bug);
    model.max_crashes = usize::from(crash);
    model.clients = vec![vec![ClientOp::Put(1), ClientOp::Put(2)]];
    small_check(
        "reduction",
        model,
        vec![
            ("ElectionSafety", Expect::Holds),
            ("LogMatching", Expect::Holds),
            ("ReplicaInvariants", Expect::Holds),
            ("EpochNeverBackwards", Expect::Holds),
            ("CommitNeverBackwards", Expect::Holds),
            ("AppliesOnlyCommitted", Expect::Holds),
        ],
    )
}

/// Run without symmetry (so only the reduction under test differs).
fn run(check: &Check, canonical: bool) -> Vec<Verdict> {
    let options = RunOptions {
        symmetry: false,
        canonical,
        ..RunOptions::default()
    };
    run_with(check, &options, &LiveHandle::default())
}

/// Same verdicts on every property, each as expected (with a planted bug,
/// only the lost write is stated: the bug breaks other properties too);
/// returns the state counts (full, reduced).
fn compare(check: &Check, full: &[Verdict], reduced: &[Verdict]) -> (usize, usize) {
    let name = check_name(check);
    assert_eq!(full.len(), reduced.len(), "{name}");
    for (f, r) in full.iter().zip(reduced) {
        assert_eq!(f.property, r.property);
        assert_eq!(f.found, r.found, "{name}: {}", f.property);
        if check.model.planted_bug.is_none() || f.property == "NoLostAckedWrites" {
            assert!(f.ok, "{name}: {} as expected: {f:?}", f.property);
        }
    }
    let counts = (full[0].unique_states, reduced[0].unique_states);
    println!(
        "{name}: {} states without the reduction, {} with",
        counts.0, counts.1
    );
    counts
}

#[test]
fn skipping_no_op_deliveries_keeps_every_verdict() {
    for check in [
        small(Durability::Quorum, NetworkKind::Unordered, false, None),
        small(Durability::Async, NetworkKind::Unordered, false, None),
        small(
            Durability::Async,
            NetworkKind::Unordered,
            false,
            Some(PlantedBug::VoteWithoutUpToDateCheck),
        ),
        small(Durability::Quorum, NetworkKind::Unordered, true, None),
        small(Durability::Quorum, NetworkKind::Ordered, false, None),
        small(
            Durability::Async,
            NetworkKind::Ordered,
            false,
            Some(PlantedBug::VoteWithoutUpToDateCheck),
        ),
    ] {
        let name = check_name(&check);
        let mut full = check.clone();
        full.model.skip_no_op_deliveries = false;
        // Without the canonical form, which merges most of the same states.
        let (f, r) = compare(&check, &run(&full, false), &run(&check, false));
        if check.model.network == NetworkKind::Ordered {
            // stateright consumes every delivery on a per-link FIFO
            // network, no-op or not: nothing changes.
            assert_eq!(f, r, "{name}");
        } else {
            assert!(r < f, "{name}: {r} states of {f}");
        }
    }
}

#[test]
fn the_canonical_form_keeps_every_verdict() {
    for network in [
        NetworkKind::Unordered,
        NetworkKind::Ordered,
        NetworkKind::Duplicating,
    ] {
        for (durability, bug) in [
            (Durability::Quorum, None),
            (
                Durability::Async,
                Some(PlantedBug::VoteWithoutUpToDateCheck),
            ),
        ] {
            let mut check = small(durability, network, false, bug);
            if network == NetworkKind::Duplicating {
                // One write: a duplicating network keeps every message sent.
                check.model.clients = vec![vec![ClientOp::Put(1)]];
            }
            let name = check_name(&check);
            let (f, r) = compare(&check, &run(&check, false), &run(&check, true));
            if network == NetworkKind::Ordered {
                // Per-link FIFO links keep their dead responses (one still
                // holds back what is queued behind it): nothing changes.
                assert_eq!(r, f, "{name}");
            } else {
                assert!(r < f, "{name}: {r} states of {f}");
            }
        }
    }
}

/// Every visible state the search reaches, with both reductions or with
/// neither (stateright's plain depth-first search over the same model).
fn reachable(check: &Check, reduced: bool) -> HashSet<u64> {
    let mut model = check.model.clone();
    model.skip_no_op_deliveries = reduced;
    let seen = Arc::new(Mutex::new(HashSet::new()));
    let sink = Arc::clone(&seen);
    let builder = model
        .into_model()
        .checker()
        .visitor(move |path: Path<State, _>| {
            if let Ok(mut seen) = sink.lock() {
                seen.insert(visible(path.last_state()));
            }
        });
    let checker = if reduced {
        builder.symmetry_fn(canonical).spawn_dfs()
    } else {
        builder.spawn_dfs()
    };
    checker.join();
    let seen = seen.lock().map(|s| s.clone()).unwrap_or_default();
    seen
}

/// The strongest form of "the reductions lose nothing": the very same
/// replica states, storage, auditor's notes and client histories are
/// reached with them as without them, on every kind of network, with a
/// crash and with a planted bug. (A canonical form that dropped dead
/// responses from per-link FIFO links failed this: a dead response there
/// holds back what is queued behind it.)
#[test]
fn the_reductions_reach_the_same_visible_states() {
    for (network, crash, bug) in [
        (NetworkKind::Unordered, false, None),
        (NetworkKind::Unordered, true, None),
        (
            NetworkKind::Unordered,
            false,
            Some(PlantedBug::VoteWithoutUpToDateCheck),
        ),
        (NetworkKind::Ordered, false, None),
        (NetworkKind::Ordered, true, None),
        (NetworkKind::Duplicating, false, None),
    ] {
        let mut check = small(Durability::Quorum, network, crash, bug);
        if network == NetworkKind::Duplicating {
            check.model.clients = vec![vec![ClientOp::Put(1)]];
        }
        compare_reachable(&check);
    }
    // Three servers on per-link FIFO links, two campaigning (so a response
    // can go dead behind a newer epoch while more is queued on its link).
    let mut check = small(Durability::Quorum, NetworkKind::Ordered, false, None);
    check.model.servers = 3;
    check.model.clients = vec![vec![ClientOp::Put(1)]];
    compare_reachable(&check);
}

/// The same visible states with both reductions as with neither.
fn compare_reachable(check: &Check) {
    let name = check_name(check);
    let full = reachable(check, false);
    let reduced = reachable(check, true);
    println!("{name}: {} visible states", full.len());
    assert!(full.len() > 100, "{name}: a model that does something");
    assert_eq!(
        full.len(),
        reduced.len(),
        "{name}: {} visible states missed, {} new",
        full.difference(&reduced).count(),
        reduced.difference(&full).count()
    );
    assert_eq!(full, reduced, "{name}");
}
