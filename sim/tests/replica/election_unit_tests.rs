//! Unit tests of elections and leadership transfer on a lone replica,
//! driven by hand-made messages: (pre-)candidates that lose return to
//! follower at once, pre-votes in the voter's own epoch, a transfer asked
//! for twice, to the leader itself, to a follower whose append was lost,
//! and `TimeoutNow` sent once. Only inputs that existed before these
//! behaviours changed are used here (see `election_api_tests.rs` for the
//! new ones), so each test also runs, and fails, on the old code.

use crate::tests::{drain, entry};
use steadfast::entry::{HardState, RequestId};
use steadfast::replica::{Output, Replica, Role};
use steadfast::types::{Epoch, Instant, Lsn, NodeId, Position};
use steadfast::wire::{AppendResult, Message};
use steadfast::{Config, Durable};

pub(super) fn config(id: u64, pre_vote: bool) -> Config {
    let mut config = Config::new(NodeId(id), [NodeId(1), NodeId(2), NodeId(3)]);
    config.pre_vote = pre_vote;
    config
}

/// Node 1 restarted in epoch `epoch` without a vote, its log holding
/// entries of epoch 1 through lsn 2.
pub(super) fn restarted(pre_vote: bool, epoch: u64, voted_for: Option<u64>) -> Replica {
    let durable = Durable {
        hard_state: HardState {
            epoch: Epoch(epoch),
            voted_for: voted_for.map(NodeId),
        },
        log: vec![entry(1, 1), entry(1, 2)],
        ..Durable::default()
    };
    Replica::restart(config(1, pre_vote), durable, Instant(0)).unwrap()
}

pub(super) fn vote_response(epoch: u64, pre_vote: bool, granted: bool) -> Message {
    Message::VoteResponse {
        epoch: Epoch(epoch),
        pre_vote,
        granted,
    }
}

pub(super) fn vote_request(epoch: u64, last: Position, pre_vote: bool) -> Message {
    Message::RequestVote {
        epoch: Epoch(epoch),
        last,
        pre_vote,
        transfer: false,
    }
}

/// The `granted` flags of the vote responses among `out`.
pub(super) fn answers(out: &[Output]) -> Vec<bool> {
    out.iter()
        .filter_map(|o| match o {
            Output::Send {
                message: Message::VoteResponse { granted, .. },
                ..
            } => Some(*granted),
            _ => None,
        })
        .collect()
}

/// Node 1 leading epoch 1 (pre-vote off) at t=1000, its no-op durable and
/// committed through node 2, node 3 silent.
pub(super) fn leader() -> Replica {
    let mut r = Replica::new(config(1, false), Instant(0)).unwrap();
    let t = Instant(1000);
    r.handle_timeout(t);
    r.handle_message(t, NodeId(2), vote_response(1, false, true))
        .unwrap();
    assert_eq!(r.role(), Role::Leader);
    r.handle_persisted(t, Position::new(Epoch(1), Lsn(1)));
    r.handle_message(t, NodeId(2), accepted(1)).unwrap();
    assert_eq!(r.commit(), Lsn(1));
    drain(&mut r);
    r
}

pub(super) fn accepted(matched: u64) -> Message {
    Message::AppendResponse {
        epoch: Epoch(1),
        result: AppendResult::Accepted {
            matched: Lsn(matched),
            applied: Lsn(0),
        },
        round: 0,
    }
}

pub(super) fn sends_to(out: &[Output], to: u64) -> Vec<&Message> {
    out.iter()
        .filter_map(|o| match o {
            Output::Send { to: t, message } if *t == NodeId(to) => Some(message),
            _ => None,
        })
        .collect()
}

#[test]
fn a_candidate_refused_by_a_majority_follows_at_once() {
    let mut r = Replica::new(config(1, false), Instant(0)).unwrap();
    r.handle_timeout(Instant(1000));
    assert_eq!(r.role(), Role::Candidate);
    r.handle_message(Instant(1001), NodeId(2), vote_response(1, false, false))
        .unwrap();
    assert_eq!(
        r.role(),
        Role::Candidate,
        "one refusal of three decides nothing"
    );
    r.handle_message(Instant(1002), NodeId(3), vote_response(1, false, false))
        .unwrap();
    assert_eq!(r.role(), Role::Follower);
    assert_eq!(r.epoch(), Epoch(1));
    assert_eq!(r.hard_state().voted_for, Some(NodeId(1)), "its vote stands");
}

#[test]
fn a_pre_candidate_refused_by_a_majority_follows_at_once() {
    let mut r = restarted(true, 3, None);
    r.handle_timeout(Instant(1000));
    assert_eq!(r.role(), Role::PreCandidate);
    for voter in [2, 3] {
        r.handle_message(Instant(1001), NodeId(voter), vote_response(3, true, false))
            .unwrap();
    }
    assert_eq!(r.role(), Role::Follower);
    assert_eq!(r.epoch(), Epoch(3));
}

#[test]
fn stale_pre_vote_refusals_change_nothing() {
    // Refusals carry the voter's own epoch; ones from an older epoch (an
    // earlier round, or a voter behind) are stale and do not count (the
    // `cluster` fuzz target's stale-message property found them counted).
    let mut r = restarted(true, 3, None);
    r.handle_timeout(Instant(1000));
    assert_eq!(r.role(), Role::PreCandidate);
    drain(&mut r);
    let before = r.clone();
    for voter in [2, 3] {
        r.handle_message(Instant(1000), NodeId(voter), vote_response(2, true, false))
            .unwrap();
    }
    assert_eq!(r, before, "stale refusals changed the pre-candidate");
}

#[test]
fn a_pre_candidate_grants_a_valid_vote_and_follows() {
    let mut r = restarted(true, 3, None);
    r.handle_timeout(Instant(1000));
    assert_eq!(r.role(), Role::PreCandidate);
    drain(&mut r);
    // Node 2 campaigns in epoch 3 (it saw epoch 2 end) with the same log.
    let last = Position::new(Epoch(1), Lsn(2));
    r.handle_message(Instant(1001), NodeId(2), vote_request(3, last, false))
        .unwrap();
    assert_eq!(answers(&drain(&mut r)), [true]);
    assert_eq!(r.hard_state().voted_for, Some(NodeId(2)));
    assert_eq!(r.role(), Role::Follower);
}

#[test]
fn a_pre_vote_for_the_voters_own_epoch_is_granted_when_open() {
    let last = Position::new(Epoch(1), Lsn(2));
    // Epoch 3, no vote, no leader known: granted, nothing recorded.
    let mut r = restarted(true, 3, None);
    r.handle_message(Instant(10), NodeId(2), vote_request(3, last, true))
        .unwrap();
    assert_eq!(answers(&drain(&mut r)), [true]);
    assert_eq!(r.hard_state().voted_for, None);
    // Voted for another in epoch 3: refused; voted for the asker: granted.
    let mut r = restarted(true, 3, Some(3));
    r.handle_message(Instant(10), NodeId(2), vote_request(3, last, true))
        .unwrap();
    assert_eq!(answers(&drain(&mut r)), [false]);
    let mut r = restarted(true, 3, Some(2));
    r.handle_message(Instant(10), NodeId(2), vote_request(3, last, true))
        .unwrap();
    assert_eq!(answers(&drain(&mut r)), [true]);
    // A leader of epoch 3 is known: refused (check-quorum off, so this is
    // not the leader lease speaking).
    let mut cfg = config(1, true);
    cfg.check_quorum = false;
    let mut r = Replica::new(cfg, Instant(0)).unwrap();
    let heartbeat = Message::Append {
        epoch: Epoch(3),
        prev: Position::ZERO,
        entries: vec![],
        commit: Lsn(0),
        round: 1,
    };
    r.handle_message(Instant(10), NodeId(3), heartbeat).unwrap();
    assert_eq!(r.leader(), Some(NodeId(3)));
    drain(&mut r);
    r.handle_message(
        Instant(11),
        NodeId(2),
        vote_request(3, Position::ZERO, true),
    )
    .unwrap();
    assert_eq!(answers(&drain(&mut r)), [false]);
}

#[test]
fn asking_again_for_the_pending_transfer_does_not_re_arm_it() {
    let mut r = leader();
    let timeout = r.config().election_timeout_max;
    r.transfer_leadership(Instant(1000), NodeId(3)).unwrap();
    // Asked again later: the first deadline stands.
    r.transfer_leadership(Instant(1100), NodeId(3)).unwrap();
    r.handle_timeout(Instant(1000) + timeout);
    drain(&mut r);
    assert!(r
        .propose(Instant(1000) + timeout, RequestId(1), b"x".to_vec())
        .is_ok());
}

#[test]
fn a_transfer_to_the_leader_itself_cancels_the_pending_one() {
    let mut r = leader();
    r.transfer_leadership(Instant(1000), NodeId(3)).unwrap();
    assert!(r
        .propose(Instant(1001), RequestId(1), b"x".to_vec())
        .is_err());
    r.transfer_leadership(Instant(1002), NodeId(1)).unwrap();
    assert!(r
        .propose(Instant(1003), RequestId(2), b"y".to_vec())
        .is_ok());
}

#[test]
fn a_transfer_to_a_follower_whose_append_was_lost_resends_it_at_once() {
    let mut r = leader();
    r.propose(Instant(1001), RequestId(1), b"x".to_vec())
        .unwrap();
    let lost = drain(&mut r);
    assert_eq!(sends_to(&lost, 2).len(), 1, "the append to 2 (lost)");
    r.transfer_leadership(Instant(1002), NodeId(2)).unwrap();
    let out = drain(&mut r);
    let resent = sends_to(&out, 2);
    assert!(
        matches!(resent.as_slice(), [Message::Append { entries, .. }] if entries.len() == 1),
        "{out:?}"
    );
}

#[test]
fn timeout_now_is_sent_once_per_transfer() {
    let mut r = leader();
    r.transfer_leadership(Instant(1001), NodeId(2)).unwrap();
    let mut timeout_nows = 0;
    for t in 1002..1005 {
        r.handle_message(Instant(t), NodeId(2), accepted(1))
            .unwrap();
        let out = drain(&mut r);
        timeout_nows += sends_to(&out, 2)
            .iter()
            .filter(|m| matches!(m, Message::TimeoutNow { .. }))
            .count();
    }
    assert_eq!(timeout_nows, 1);
}
