//! Batching: proposals and persistence reports made before the host drains
//! outputs leave in one message per peer.

use super::tests::{drain, entry, lone};
use steadfast::entry::RequestId;
use steadfast::replica::{Output, Role};
use steadfast::types::{Epoch, Instant, Lsn, NodeId, Position};
use steadfast::wire::{AppendResult, Message};
use steadfast::Replica;

/// Node 1 of three, elected in epoch 1 with node 2's vote, both followers
/// replicating (they acknowledged the no-op).
fn leader_replicating() -> Replica {
    let mut r = lone(1);
    r.campaign(Instant(1)).unwrap();
    drain(&mut r);
    for pre_vote in [true, false] {
        let vote = Message::VoteResponse {
            epoch: Epoch(1),
            pre_vote,
            granted: true,
        };
        r.handle_message(Instant(1), NodeId(2), vote).unwrap();
        drain(&mut r);
    }
    assert_eq!(r.role(), Role::Leader);
    r.handle_persisted(Instant(1), Position::new(Epoch(1), Lsn(1)));
    for follower in [2, 3] {
        let ack = Message::AppendResponse {
            epoch: Epoch(1),
            result: AppendResult::Accepted {
                matched: Lsn(1),
                applied: Lsn(0),
            },
            round: 1,
        };
        r.handle_message(Instant(1), NodeId(follower), ack).unwrap();
    }
    drain(&mut r);
    r
}

/// The lsns of each `Append` sent to `to`, one vector per message.
fn appends_to(out: &[Output], to: u64) -> Vec<Vec<u64>> {
    out.iter()
        .filter_map(|o| match o {
            Output::Send {
                to: peer,
                message: Message::Append { entries, .. },
            } if *peer == NodeId(to) => Some(entries.iter().map(|e| e.lsn.0).collect()),
            _ => None,
        })
        .collect()
}

/// The lsns of each storage `Append`.
fn storage_writes(out: &[Output]) -> Vec<Vec<u64>> {
    out.iter()
        .filter_map(|o| match o {
            Output::Append { entries } => Some(entries.iter().map(|e| e.lsn.0).collect()),
            _ => None,
        })
        .collect()
}

#[test]
fn proposals_before_a_drain_leave_in_one_append_per_follower() {
    let mut r = leader_replicating();
    for request in 1..=3 {
        r.propose(Instant(2), RequestId(request), vec![request as u8])
            .unwrap();
    }
    let out = drain(&mut r);
    assert_eq!(storage_writes(&out), [vec![2, 3, 4]], "one storage write");
    assert_eq!(appends_to(&out, 2), [vec![2, 3, 4]]);
    assert_eq!(appends_to(&out, 3), [vec![2, 3, 4]]);
}

#[test]
fn a_host_draining_after_each_proposal_sees_one_append_each() {
    let mut r = leader_replicating();
    let mut sent = Vec::new();
    for request in 1..=2 {
        r.propose(Instant(2), RequestId(request), vec![request as u8])
            .unwrap();
        sent.extend(appends_to(&drain(&mut r), 2));
    }
    assert_eq!(sent, [vec![2], vec![3]]);
}

#[test]
fn a_leader_that_steps_down_before_the_drain_ships_nothing() {
    let mut r = leader_replicating();
    r.propose(Instant(2), RequestId(1), vec![1]).unwrap();
    let newer = Message::AppendResponse {
        epoch: Epoch(2),
        result: AppendResult::Rejected {
            rejected_prev: Lsn(0),
            hint: Position::ZERO,
        },
        round: 0,
    };
    r.handle_message(Instant(3), NodeId(3), newer).unwrap();
    let out = drain(&mut r);
    assert_eq!(r.role(), Role::Follower);
    assert!(appends_to(&out, 2).is_empty() && appends_to(&out, 3).is_empty());
}

#[test]
fn persistence_reports_before_a_drain_leave_in_one_acknowledgement() {
    let mut r = lone(2);
    for lsn in 1..=2 {
        let append = Message::Append {
            epoch: Epoch(1),
            prev: Position::new(Epoch(if lsn == 1 { 0 } else { 1 }), Lsn(lsn - 1)),
            entries: vec![entry(1, lsn)],
            commit: Lsn(0),
            round: 1,
        };
        r.handle_message(Instant(1), NodeId(1), append).unwrap();
    }
    r.handle_persisted(Instant(2), Position::new(Epoch(1), Lsn(1)));
    r.handle_persisted(Instant(2), Position::new(Epoch(1), Lsn(2)));
    let acks: Vec<Lsn> = drain(&mut r)
        .iter()
        .filter_map(|o| match o {
            Output::Send {
                to,
                message:
                    Message::AppendResponse {
                        result: AppendResult::Accepted { matched, .. },
                        ..
                    },
            } if *to == NodeId(1) => Some(*matched),
            _ => None,
        })
        .collect();
    assert_eq!(acks, [Lsn(2)], "one acknowledgement, of the latest");
}
