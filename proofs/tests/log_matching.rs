//! LogMatching: the same `(epoch, lsn)` in two logs implies identical
//! prefixes. See `proofs/log_matching.md`.

use steadfast_proofs::induction::{check_inductive, counterexample, Obligation, Variant};
use steadfast_proofs::invariants::{without, LOG_MATCHING};
use steadfast_proofs::protocol::{Guard, Step};
use steadfast_proofs::signature::QuorumSystem;

#[test]
fn log_matching_is_inductive_under_majority_quorums() {
    let report = check_inductive(&Variant::of(QuorumSystem::Majority), LOG_MATCHING);
    assert!(report.is_inductive(), "{report}");
}

#[test]
fn log_matching_is_inductive_under_flexible_quorums() {
    let report = check_inductive(&Variant::of(QuorumSystem::Flexible), LOG_MATCHING);
    assert!(report.is_inductive(), "{report}");
}

#[test]
fn log_matching_breaks_without_the_prev_entry_check() {
    let variant = Variant::of(QuorumSystem::Majority).without_guard(Guard::PrevEntryMatches);
    let cti = counterexample(
        &variant,
        LOG_MATCHING,
        Obligation::Consecution(Step::Replicate),
        "log_matching",
    );
    assert!(
        cti.is_some(),
        "accepting an entry without its predecessor must break log matching"
    );
}

#[test]
fn log_matching_is_not_inductive_without_one_entry_per_position() {
    let invariant = without(LOG_MATCHING, "log_is_functional");
    let cti = counterexample(
        &Variant::of(QuorumSystem::Majority),
        &invariant,
        Obligation::Consecution(Step::Replicate),
        "log_matching",
    );
    assert!(
        cti.is_some(),
        "log matching needs logs to hold one entry per position"
    );
}

#[test]
fn log_matching_is_not_inductive_without_the_leader_holding_its_own_entries() {
    let invariant = without(LOG_MATCHING, "leader_holds_own_epoch");
    let cti = counterexample(
        &Variant::of(QuorumSystem::Majority),
        &invariant,
        Obligation::Consecution(Step::Append),
        "log_matching",
    );
    assert!(
        cti.is_some(),
        "an append must not create an (epoch, lsn) another log already has"
    );
}
