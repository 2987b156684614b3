//! Unit tests of the executable transition relation on hand-built states.

use std::collections::BTreeSet;

use steadfast::{Epoch, Lsn, NodeId};

use super::sent::{Reading, Sent};
use super::state::{AbstractState, Quorums};
use super::transition::{allowed, Transition};

const N1: NodeId = NodeId(1);
const N2: NodeId = NodeId(2);
const N3: NodeId = NodeId(3);

fn majority_of_three() -> Quorums {
    Quorums {
        voters: BTreeSet::from([N1, N2, N3]),
        election: 2,
        commit: 2,
    }
}

/// Take `t` strictly, recording what it lets nodes send.
fn take(s: &AbstractState, sent: &mut Sent, t: Transition) -> AbstractState {
    if let Transition::Vote {
        voter,
        candidate,
        epoch,
    } = t
    {
        if voter == candidate {
            sent.record_campaign(s, candidate, epoch);
        }
    }
    let post = t
        .apply(s, &majority_of_three(), sent, Reading::Strict)
        .unwrap_or_else(|g| panic!("{t}: {g}"));
    if let Some(n) = t.touches() {
        sent.record(&post, n);
    }
    post
}

/// n1 wins epoch 1 with n2's vote and appends its no-op at lsn 1.
fn n1_leads_epoch_one(sent: &mut Sent) -> AbstractState {
    let mut s = AbstractState::init([N1, N2, N3]);
    for t in [
        Transition::AdvanceEpoch {
            node: N1,
            epoch: Epoch(1),
        },
        Transition::Vote {
            voter: N1,
            candidate: N1,
            epoch: Epoch(1),
        },
        Transition::Vote {
            voter: N2,
            candidate: N1,
            epoch: Epoch(1),
        },
        Transition::BecomeLeader { candidate: N1 },
        Transition::Append {
            leader: N1,
            lsn: Lsn(1),
        },
    ] {
        s = take(&s, sent, t);
    }
    s
}

fn replicate_noop_to(follower: NodeId) -> Transition {
    Transition::Replicate {
        leader: N1,
        follower,
        lsn: Lsn(1),
        entry_epoch: Epoch(1),
        epoch: Epoch(1),
    }
}

#[test]
fn allowed_names_the_single_step_between_two_states() {
    let mut sent = Sent::default();
    let s = n1_leads_epoch_one(&mut sent);
    let post = take(&s, &mut sent, replicate_noop_to(N2));
    assert_eq!(
        allowed(&s, &post, &majority_of_three(), &sent),
        Some((replicate_noop_to(N2), Reading::Strict))
    );
    assert_eq!(
        allowed(&s, &s, &majority_of_three(), &sent),
        Some((Transition::Stutter, Reading::Strict))
    );
}

#[test]
fn two_steps_at_once_are_not_one_transition() {
    let mut sent = Sent::default();
    let s = n1_leads_epoch_one(&mut sent);
    let once = take(&s, &mut sent, replicate_noop_to(N2));
    let twice = take(&once, &mut sent, replicate_noop_to(N3));
    assert_eq!(allowed(&s, &twice, &majority_of_three(), &sent), None);
}

#[test]
fn a_vote_for_a_less_up_to_date_candidate_is_rejected() {
    let mut sent = Sent::default();
    let s = n1_leads_epoch_one(&mut sent);
    let s = take(&s, &mut sent, replicate_noop_to(N2));
    // n3 (empty log) campaigns in epoch 2; n2 holds n1's no-op.
    let s = take(
        &s,
        &mut sent,
        Transition::AdvanceEpoch {
            node: N3,
            epoch: Epoch(2),
        },
    );
    let vote = Transition::Vote {
        voter: N2,
        candidate: N3,
        epoch: Epoch(2),
    };
    for reading in [Reading::Strict, Reading::AsSent] {
        let failure = vote
            .apply(&s, &majority_of_three(), &sent, reading)
            .expect_err("n3 lacks the entry n2 holds");
        let expected = match reading {
            Reading::Strict => "CandidateUpToDate",
            Reading::AsSent => "candidate campaigned in e",
        };
        assert_eq!(failure.0, expected);
    }
}

#[test]
fn a_delayed_append_from_a_deposed_leader_is_only_allowed_as_sent() {
    let mut sent = Sent::default();
    let s = n1_leads_epoch_one(&mut sent);
    let deposed = take(&s, &mut sent, Transition::CrashRestart { node: N1 });
    let t = replicate_noop_to(N3);
    let q = majority_of_three();
    assert_eq!(
        t.apply(&deposed, &q, &sent, Reading::Strict)
            .expect_err("n1 no longer leads")
            .0,
        "leading(l)"
    );
    assert!(t.apply(&deposed, &q, &sent, Reading::AsSent).is_ok());
}

#[test]
fn a_commit_needs_a_quorum_in_the_leaders_epoch() {
    let mut sent = Sent::default();
    let s = n1_leads_epoch_one(&mut sent);
    let commit = Transition::Commit {
        leader: N1,
        lsn: Lsn(1),
    };
    let q = majority_of_three();
    assert!(commit.apply(&s, &q, &sent, Reading::Strict).is_err());
    let s = take(&s, &mut sent, replicate_noop_to(N2));
    let post = take(&s, &mut sent, commit);
    assert!(post.committed.contains(&(Lsn(1), Epoch(1), Epoch(1))));
    assert!(post.held.contains(&(N2, Lsn(1), Epoch(1), Epoch(1))));
    assert!(!post.held.contains(&(N3, Lsn(1), Epoch(1), Epoch(1))));
}
