//! Symmetry reduction is a classic source of checker bugs: small symmetric
//! models (`Async` and `Quorum`, a correct core and
//! one with a planted bug) must give the same verdict on every property
//! with and without it, and the reduction must actually reduce.

mod common;

use common::{small_check, small_model, visible};
use stateright::{Checker, Model as _, Path};
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use steadfast::planted::PlantedBug;
use steadfast::Durability;
use steadfast_models::model::NetworkKind;
use steadfast_models::properties::State;
use steadfast_models::runner::{run_with, LiveHandle, RunOptions, Verdict};
use steadfast_models::suite::{check_name, Check, Expect};
use steadfast_models::symmetry::representative;

/// Two interchangeable servers that each campaign once, up to two epochs,
/// one write; with `bug`, votes are granted without the up-to-date check,
/// so the write an `Async` leader acknowledged alone can be lost.
fn small(durability: Durability, network: NetworkKind, bug: Option<PlantedBug>) -> Check {
    interchangeable(2, 2, durability, network, bug)
}

/// `servers` interchangeable servers that each campaign once, up to
/// `max_epoch`, one write.
fn interchangeable(
    servers: usize,
    max_epoch: u64,
    durability: Durability,
    network: NetworkKind,
    bug: Option<PlantedBug>,
) -> Check {
    let mut model = small_model(servers, durability, network, bug);
    model.max_epoch = max_epoch;
    assert!(model.is_symmetric());
    small_check(
        "symmetry",
        model,
        vec![
            ("ElectionSafety", Expect::Holds),
            ("LogMatching", Expect::Holds),
            ("ReplicaInvariants", Expect::Holds),
            ("EpochNeverBackwards", Expect::Holds),
            ("AppliesOnlyCommitted", Expect::Holds),
        ],
    )
}

fn run(check: &Check, symmetry: bool) -> Vec<Verdict> {
    let options = RunOptions {
        symmetry,
        ..RunOptions::default()
    };
    run_with(check, &options, &LiveHandle::default())
}

/// The reduced run was reduced, the full one was not, and both give every
/// property the expected verdict.
fn same_verdicts(name: &str, full: &[Verdict], reduced: &[Verdict]) {
    assert!(reduced.iter().all(|v| v.symmetry), "{name}: reduced");
    assert!(full.iter().all(|v| !v.symmetry), "{name}: not reduced");
    for (f, r) in full.iter().zip(reduced) {
        assert_eq!(f.property, r.property);
        assert_eq!(f.found, r.found, "{name}: {}", f.property);
        assert!(f.ok, "{name}: {} as expected: {f:?}", f.property);
    }
}

/// Run `check` with and without the reduction: the same verdicts, and the
/// reduced state count below `ratio` of the full one. Returns both counts.
fn reduced_below(check: &Check, ratio: f64) -> (usize, usize) {
    let name = check_name(check);
    let full = run(check, false);
    let reduced = run(check, true);
    same_verdicts(&name, &full, &reduced);
    let (f, r) = (full[0].unique_states, reduced[0].unique_states);
    println!("{name}: {f} states unreduced, {r} reduced");
    assert!(
        (r as f64) < (f as f64) * ratio,
        "{name}: symmetry should leave under {ratio} of the states ({r} of {f})"
    );
    (f, r)
}

#[test]
fn symmetry_keeps_every_verdict_and_reduces_the_states() {
    for check in [
        small(Durability::Async, NetworkKind::Unordered, None),
        small(
            Durability::Async,
            NetworkKind::Unordered,
            Some(PlantedBug::VoteWithoutUpToDateCheck),
        ),
        small(Durability::Quorum, NetworkKind::Unordered, None),
    ] {
        // Two servers: at best half the states (a few are their own mirror).
        reduced_below(&check, 0.6);
    }
}

/// Three servers, every one a campaigner in the one epoch (so elections
/// race and votes split): six orderings of the servers, and the same
/// verdicts with a fraction of the states.
#[test]
fn symmetry_over_three_servers_keeps_every_verdict() {
    for durability in [Durability::Async, Durability::Quorum] {
        let mut check = interchangeable(3, 1, durability, NetworkKind::Unordered, None);
        // One epoch: elections race, but nothing fails over.
        check.examples = vec!["a write is acknowledged"];
        // Six orderings of three servers: well over a third go.
        reduced_below(&check, 1.0 / 3.0);
    }
}

/// Per-link FIFO networks are reduced too: the same verdicts, with the
/// planted vote bug still found, on fewer states.
#[test]
fn symmetry_over_per_link_fifo_networks_keeps_every_verdict() {
    for check in [
        small(Durability::Async, NetworkKind::Ordered, None),
        small(
            Durability::Async,
            NetworkKind::Ordered,
            Some(PlantedBug::VoteWithoutUpToDateCheck),
        ),
        small(Durability::Quorum, NetworkKind::Ordered, None),
        interchangeable(3, 1, Durability::Quorum, NetworkKind::Ordered, None),
    ] {
        let mut check = check;
        if check.model.servers == 3 {
            check.examples = vec!["a write is acknowledged"];
        }
        reduced_below(&check, 0.7);
    }
}

/// Servers with different timer budgets are renamed too: each keeps its
/// budget with its state, so only servers in equal states (budget
/// included) are interchangeable. Three servers of which two campaign
/// (up to two epochs), over unordered and per-link FIFO networks,
/// with and without the planted vote bug: the same verdicts on fewer
/// states.
#[test]
fn servers_of_different_budgets_keep_every_verdict() {
    for (network, bug) in [
        (NetworkKind::Unordered, None),
        (
            NetworkKind::Unordered,
            Some(PlantedBug::VoteWithoutUpToDateCheck),
        ),
        (NetworkKind::Ordered, None),
    ] {
        let mut check = interchangeable(3, 2, Durability::Quorum, network, bug);
        check.model.campaigners = 2;
        assert!(
            check.model.is_symmetric(),
            "budgets differ, ids do not matter"
        );
        // Only the two campaigners are interchangeable (and only while
        // their states are equal, budgets included): at best half go.
        reduced_below(&check, 0.75);
    }
}

/// The strongest form of "symmetry loses nothing": the search with the
/// reduction reaches a renaming of every visible state (actors, crashes,
/// history) the search without it reaches, and nothing else. Compared as
/// sets of representatives, on three servers of which two campaign, so a
/// renaming that let a non-campaigner inherit a campaigner's budget (one
/// keyed by id, not kept with the state) would show as new states.
#[test]
fn symmetry_reaches_a_renaming_of_every_visible_state() {
    for network in [NetworkKind::Unordered, NetworkKind::Ordered] {
        let mut check = interchangeable(3, 2, Durability::Quorum, network, None);
        check.model.campaigners = 2;
        let name = check_name(&check);
        let full = orbits(&check, false);
        let reduced = orbits(&check, true);
        println!("{name}: {} classes of visible states", full.len());
        assert!(full.len() > 100, "{name}: a model that does something");
        assert_eq!(
            full.len(),
            reduced.len(),
            "{name}: {} classes missed, {} new",
            full.difference(&reduced).count(),
            reduced.difference(&full).count()
        );
        assert_eq!(full, reduced, "{name}");
    }
}

/// The visible part of the representative of every state the search
/// reaches, with the reduction or without it.
fn orbits(check: &Check, reduced: bool) -> HashSet<u64> {
    let seen = Arc::new(Mutex::new(HashSet::new()));
    let sink = Arc::clone(&seen);
    let builder =
        check
            .model
            .clone()
            .into_model()
            .checker()
            .visitor(move |path: Path<State, _>| {
                if let Ok(mut seen) = sink.lock() {
                    seen.insert(visible(&representative(path.last_state())));
                }
            });
    let checker = if reduced {
        builder.symmetry_fn(representative).spawn_dfs()
    } else {
        builder.spawn_dfs()
    };
    checker.join();
    let seen = seen.lock().map(|s| s.clone()).unwrap_or_default();
    seen
}
