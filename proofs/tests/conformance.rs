//! Conformance: every step of the real replica, over many seeded simulation
//! runs, is a bounded sequence of the verified model's transitions. See
//! `proofs/model.md`, "Conformance", for what this establishes and what not.

use steadfast::planted::PlantedBug;
use steadfast::{Durability, ElectionQuorum};
use steadfast_proofs::conformance::{replay, Reading, Rejection, Report, Scenario};

const SEEDS: std::ops::Range<u64> = 0..200;

fn assert_conforms(report: &Report) {
    println!("{report}");
    assert!(report.findings.is_empty(), "{report}");
    assert_eq!(report.runs, SEEDS.count());
    // The check must have seen the protocol do everything it checks.
    for name in [
        "AdvanceEpoch",
        "Vote",
        "BecomeLeader",
        "Append",
        "Replicate",
        "Commit",
        "CrashRestart",
    ] {
        assert!(
            report.count(name, Reading::Strict) > 0,
            "no strict {name} step in any run:\n{report}"
        );
    }
}

#[test]
fn every_step_conforms_under_quorum_durability_with_majority_elections() {
    let report = replay(&Scenario::hostile(5, Durability::Quorum), SEEDS);
    assert_conforms(&report);
}

#[test]
fn every_step_conforms_under_semi_sync_with_flexible_elections() {
    let mut scenario = Scenario::hostile(5, Durability::SemiSync { k: 1 });
    scenario.election_quorum = ElectionQuorum::Flexible;
    let report = replay(&scenario, SEEDS);
    assert_conforms(&report);
}

#[test]
fn every_step_conforms_in_three_voters_without_pre_vote() {
    let mut scenario = Scenario::hostile(3, Durability::Quorum);
    scenario.pre_vote = false;
    let report = replay(&scenario, SEEDS);
    assert_conforms(&report);
}

/// A vote granted without the up-to-date check must be caught, and caught
/// by the vote's `CandidateUpToDate` guard even when the candidate's state
/// is read as its vote request carried it.
#[test]
fn a_vote_without_the_up_to_date_check_is_rejected() {
    let mut scenario = Scenario::hostile(3, Durability::Quorum);
    scenario.pre_vote = false; // pre-vote's own up-to-date check would hide the bug
    scenario.planted_bug = Some(PlantedBug::VoteWithoutUpToDateCheck);
    let report = replay(&scenario, 0..20);
    let finding = report
        .findings
        .first()
        .unwrap_or_else(|| panic!("the planted bug went unnoticed:\n{report}"));
    println!("{finding}");
    match &finding.rejection {
        Rejection::Guard {
            strict, as_sent, ..
        } => {
            assert_eq!(strict.0, "CandidateUpToDate", "{finding}");
            assert_eq!(as_sent.0, "CandidateUpToDate", "{finding}");
        }
        other => panic!("expected the vote guard to reject, got {other}"),
    }
}

/// A leader that commits by counting replicas of an older epoch's entry
/// (Raft's Figure 8 bug) must be caught by `Commit`'s own-epoch guard.
#[test]
fn a_commit_of_an_old_epoch_entry_is_rejected() {
    let mut scenario = Scenario::hostile(3, Durability::Quorum);
    scenario.planted_bug = Some(PlantedBug::CommitOldEpochEntries);
    // One entry per append: a follower that catches up acknowledges the
    // old entries before the new leader's no-op, so the bug can act.
    scenario.max_entries_per_message = Some(1);
    let report = replay(&scenario, SEEDS);
    let finding = report
        .findings
        .first()
        .unwrap_or_else(|| panic!("the planted bug went unnoticed:\n{report}"));
    println!("{finding}");
    assert!(
        matches!(&finding.rejection, Rejection::Guard { strict, .. } if strict.0 == "CommitOwnEpochOnly"),
        "{finding}"
    );
}
