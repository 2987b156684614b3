//! LeaderCompleteness: an entry committed in epoch `e` is in the log of every
//! leader of an epoch `f ≥ e` while it leads `f` (hence NoLostAckedWrites).
//! See `proofs/leader_completeness.md`.

use steadfast_proofs::induction::{check_inductive, counterexample, Obligation, Variant};
use steadfast_proofs::invariants::{without, LEADER_COMPLETENESS};
use steadfast_proofs::protocol::{Guard, Step};
use steadfast_proofs::signature::{QuorumAxiom, QuorumSystem};

#[test]
fn leader_completeness_is_inductive_under_majority_quorums() {
    let report = check_inductive(&Variant::of(QuorumSystem::Majority), LEADER_COMPLETENESS);
    assert!(report.is_inductive(), "{report}");
}

#[test]
fn leader_completeness_is_inductive_under_flexible_quorums() {
    let report = check_inductive(&Variant::of(QuorumSystem::Flexible), LEADER_COMPLETENESS);
    assert!(report.is_inductive(), "{report}");
}

#[test]
fn leader_completeness_breaks_without_the_up_to_date_vote_check() {
    // Counterexamples are searched among universes of at most 4 elements per
    // sort: Z3 does not build this model in the unbounded universe.
    let variant = Variant::of(QuorumSystem::Majority)
        .without_guard(Guard::CandidateUpToDate)
        .within(4);
    let cti = counterexample(
        &variant,
        LEADER_COMPLETENESS,
        Obligation::Consecution(Step::Vote),
        "voters_elect_complete_candidates",
    );
    assert!(
        cti.is_some(),
        "a voter holding a committed entry must not elect a candidate without it"
    );
}

#[test]
fn leader_completeness_breaks_when_commit_quorums_need_not_meet_election_quorums() {
    let variant =
        Variant::of(QuorumSystem::Flexible).without_axiom(QuorumAxiom::ElectionMeetsCommit);
    let cti = counterexample(
        &variant,
        LEADER_COMPLETENESS,
        Obligation::Consecution(Step::BecomeLeader),
        "leader_completeness",
    );
    assert!(
        cti.is_some(),
        "an election quorum disjoint from the commit quorum elects a leader without the entry"
    );
}

#[test]
fn leader_completeness_breaks_when_a_leader_counts_replicas_of_older_epochs() {
    let variant = Variant::of(QuorumSystem::Majority).without_guard(Guard::CommitOwnEpochOnly);
    let cti = counterexample(
        &variant,
        LEADER_COMPLETENESS,
        Obligation::Consecution(Step::Commit),
        "held_has_own_epoch_entry",
    );
    assert!(
        cti.is_some(),
        "committing an older epoch's entry by counting replicas is Raft's Figure 8"
    );
}

#[test]
fn leader_completeness_is_not_inductive_without_the_voting_lemma() {
    let invariant = without(LEADER_COMPLETENESS, "voters_elect_complete_candidates");
    let cti = counterexample(
        &Variant::of(QuorumSystem::Majority).within(4),
        &invariant,
        Obligation::Consecution(Step::BecomeLeader),
        "leader_completeness",
    );
    assert!(cti.is_some(), "leader completeness alone is not inductive");
}
