//! Unit tests of leader reads and local reads on a lone replica, driven by
//! hand-made messages: the ones that need exact times or Rust assertions
//! (lease bounds, round echoes out of order, restarts in lease mode). The
//! read stories (read-index, reads lost with leadership, timeouts, follower
//! reads with and without a token) are transcripts in `sim/testdata/`.

use crate::tests::{drain, entry, lone};
use std::time::Duration;
use steadfast::replica::{Output, ReadId, Replica, Role};
use steadfast::session::{ReadDecision, ReadRejection, SessionToken};
use steadfast::types::{Epoch, Instant, Lsn, NodeId, Position};
use steadfast::wire::{AppendResult, Message};
use steadfast::{Config, Durable};

fn config(id: u64) -> Config {
    Config::new(NodeId(id), [NodeId(1), NodeId(2), NodeId(3)])
}

fn lease_config(id: u64) -> Config {
    config(id).with_lease_reads(Duration::from_millis(10))
}

fn pos(epoch: u64, lsn: u64) -> Position {
    Position::new(Epoch(epoch), Lsn(lsn))
}

/// Node 1 elected leader of epoch 1 at t=1000 with node 2's votes, its no-op
/// at (1, 1) durable but not yet committed.
fn leader(config: Config) -> Replica {
    let mut r = Replica::new(config, Instant(0)).unwrap();
    let t = Instant(1000);
    r.handle_timeout(t);
    let pre_vote = Message::VoteResponse {
        epoch: Epoch(1),
        pre_vote: true,
        granted: true,
    };
    r.handle_message(t, NodeId(2), pre_vote).unwrap();
    let vote = Message::VoteResponse {
        epoch: Epoch(1),
        pre_vote: false,
        granted: true,
    };
    r.handle_message(t, NodeId(2), vote).unwrap();
    assert_eq!(r.role(), Role::Leader);
    r.handle_persisted(t, pos(1, 1));
    drain(&mut r);
    r
}

fn echo(matched: u64, round: u64) -> Message {
    Message::AppendResponse {
        epoch: Epoch(1),
        result: AppendResult::Accepted {
            matched: Lsn(matched),
            applied: Lsn(0),
        },
        round,
    }
}

fn rounds_sent(out: &[Output]) -> Vec<u64> {
    out.iter()
        .filter_map(|o| {
            if let Output::Send {
                message: Message::Append { round, .. },
                ..
            } = o
            {
                Some(*round)
            } else {
                None
            }
        })
        .collect()
}

fn ready(out: &[Output]) -> Vec<(ReadId, Position)> {
    out.iter()
        .filter_map(|o| {
            if let Output::ReadReady { read, position } = o {
                Some((*read, *position))
            } else {
                None
            }
        })
        .collect()
}

#[test]
fn followers_echo_the_highest_round_of_their_current_leader() {
    let mut r = lone(2);
    let append = |epoch: u64, round: u64| Message::Append {
        epoch: Epoch(epoch),
        prev: Position::ZERO,
        entries: Vec::new(),
        commit: Lsn(0),
        round,
    };
    let echoed = |out: Vec<Output>| -> Vec<u64> {
        out.into_iter()
            .filter_map(|o| {
                if let Output::Send {
                    message: Message::AppendResponse { round, .. },
                    ..
                } = o
                {
                    Some(round)
                } else {
                    None
                }
            })
            .collect()
    };
    r.handle_message(Instant(1), NodeId(1), append(1, 5))
        .unwrap();
    assert_eq!(echoed(drain(&mut r)), vec![5]);
    r.handle_message(Instant(2), NodeId(1), append(1, 3))
        .unwrap();
    assert_eq!(echoed(drain(&mut r)), vec![5], "a reordered older round");
    r.handle_message(Instant(3), NodeId(3), append(2, 1))
        .unwrap();
    assert_eq!(echoed(drain(&mut r)), vec![1], "a new leader's rounds");
}

#[test]
fn a_confirmed_round_gives_a_lease_that_ends_before_any_voter_would_vote() {
    let mut r = leader(lease_config(1));
    r.handle_message(Instant(1000), NodeId(2), echo(1, 1))
        .unwrap();
    drain(&mut r);
    assert_eq!(
        r.lease_expiry(),
        Some(Instant(1140)),
        "round 1 started at 1000: 1000 + 150 - 10"
    );
    r.read_index(Instant(1100), ReadId(1)).unwrap();
    let out = drain(&mut r);
    assert_eq!(ready(&out), vec![(ReadId(1), pos(1, 1))]);
    assert!(
        rounds_sent(&out).is_empty(),
        "no round trip under the lease"
    );
    r.read_index(Instant(1140), ReadId(2)).unwrap();
    let out = drain(&mut r);
    assert!(ready(&out).is_empty(), "the lease has run out");
    assert!(!rounds_sent(&out).is_empty(), "falls back to read-index");

    // The voter side: a follower that heard round 1 at 1000 ignores a
    // candidate until 1150 > 1140.
    let mut voter = Replica::new(lease_config(2), Instant(0)).unwrap();
    let heartbeat = Message::Append {
        epoch: Epoch(1),
        prev: Position::ZERO,
        entries: Vec::new(),
        commit: Lsn(0),
        round: 1,
    };
    voter
        .handle_message(Instant(1000), NodeId(1), heartbeat)
        .unwrap();
    drain(&mut voter);
    let ask = Message::RequestVote {
        epoch: Epoch(2),
        last: pos(1, 9),
        pre_vote: false,
        transfer: false,
    };
    voter
        .handle_message(Instant(1149), NodeId(3), ask.clone())
        .unwrap();
    assert!(drain(&mut voter).is_empty(), "ignored inside the lease");
    assert_eq!(voter.epoch(), Epoch(1));
    voter.handle_message(Instant(1150), NodeId(3), ask).unwrap();
    assert_eq!(voter.hard_state().voted_for, Some(NodeId(3)));
}

#[test]
fn a_leadership_transfer_revokes_the_lease() {
    let mut r = leader(lease_config(1));
    r.handle_message(Instant(1000), NodeId(2), echo(1, 1))
        .unwrap();
    drain(&mut r);
    assert!(r.lease_expiry().is_some());
    r.transfer_leadership(Instant(1001), NodeId(2)).unwrap();
    let out = drain(&mut r);
    assert!(out.iter().any(|o| matches!(
        o,
        Output::Send {
            message: Message::TimeoutNow { .. },
            ..
        }
    )));
    assert_eq!(r.lease_expiry(), None);
    r.read_index(Instant(1002), ReadId(1)).unwrap();
    assert!(
        ready(&drain(&mut r)).is_empty(),
        "no lease read after TimeoutNow"
    );
}

#[test]
fn a_restarted_voter_in_lease_mode_refuses_votes_for_an_election_timeout() {
    let ask = Message::RequestVote {
        epoch: Epoch(1),
        last: Position::ZERO,
        pre_vote: false,
        transfer: false,
    };
    let restarted = |config: Config| {
        let mut r = Replica::restart(config, Durable::default(), Instant(1000)).unwrap();
        r.handle_message(Instant(1100), NodeId(3), ask.clone())
            .unwrap();
        r.hard_state().voted_for
    };
    assert_eq!(restarted(config(2)), Some(NodeId(3)));
    assert_eq!(restarted(lease_config(2)), None);
    let mut r = Replica::restart(lease_config(2), Durable::default(), Instant(1000)).unwrap();
    r.handle_message(Instant(1150), NodeId(3), ask.clone())
        .unwrap();
    assert_eq!(r.hard_state().voted_for, Some(NodeId(3)));
}

#[test]
fn a_token_whose_entry_was_replaced_is_rejected_and_an_older_branch_waits() {
    let mut r = lone(2);
    let append = Message::Append {
        epoch: Epoch(2),
        prev: Position::ZERO,
        entries: vec![entry(1, 1), entry(2, 2)],
        commit: Lsn(2),
        round: 1,
    };
    r.handle_message(Instant(1), NodeId(1), append).unwrap();
    r.handle_persisted(Instant(1), pos(2, 2));
    drain(&mut r);
    let lost = SessionToken::new().after_write(pos(1, 2));
    assert_eq!(
        r.read_local(lost),
        ReadDecision::Rejected(ReadRejection::HistoryLost {
            expected: pos(1, 2),
            found: pos(2, 2)
        })
    );
    let ahead_of_this_branch = SessionToken::new().after_read(pos(3, 2));
    assert!(matches!(
        r.read_local(ahead_of_this_branch),
        ReadDecision::Wait { .. }
    ));
}
