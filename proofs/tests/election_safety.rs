//! ElectionSafety: at most one leader per epoch. See `proofs/election_safety.md`.

use steadfast_proofs::induction::{check_inductive, counterexample, Obligation, Variant};
use steadfast_proofs::invariants::{without, ELECTION_SAFETY};
use steadfast_proofs::protocol::{Guard, Step};
use steadfast_proofs::signature::{QuorumAxiom, QuorumSystem};

#[test]
fn election_safety_is_inductive_under_majority_quorums() {
    let report = check_inductive(&Variant::of(QuorumSystem::Majority), ELECTION_SAFETY);
    assert!(report.is_inductive(), "{report}");
}

#[test]
fn election_safety_is_inductive_under_flexible_quorums() {
    let report = check_inductive(&Variant::of(QuorumSystem::Flexible), ELECTION_SAFETY);
    assert!(report.is_inductive(), "{report}");
}

#[test]
fn election_safety_breaks_when_a_voter_may_vote_twice_in_an_epoch() {
    let variant = Variant::of(QuorumSystem::Majority).without_guard(Guard::SingleVotePerEpoch);
    let cti = counterexample(
        &variant,
        ELECTION_SAFETY,
        Obligation::Consecution(Step::Vote),
        "one_vote_per_epoch",
    );
    assert!(
        cti.is_some(),
        "a second vote in one epoch must break the invariant"
    );
}

#[test]
fn election_safety_is_not_inductive_without_the_one_vote_lemma() {
    let invariant = without(ELECTION_SAFETY, "one_vote_per_epoch");
    let cti = counterexample(
        &Variant::of(QuorumSystem::Majority),
        &invariant,
        Obligation::Consecution(Step::BecomeLeader),
        "election_safety",
    );
    assert!(cti.is_some(), "election safety alone is not inductive");
}

#[test]
fn election_safety_breaks_when_election_quorums_need_not_intersect() {
    let variant =
        Variant::of(QuorumSystem::Flexible).without_axiom(QuorumAxiom::ElectionsIntersect);
    let cti = counterexample(
        &variant,
        ELECTION_SAFETY,
        Obligation::Consecution(Step::BecomeLeader),
        "election_safety",
    );
    assert!(cti.is_some(), "disjoint election quorums elect two leaders");
}
