use super::*;
use crate::{Mark, WaitError};
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use steadfast::{Config, Entry, EntryKind, Epoch, Role};
use steadfast_sim::host::MemStorage;

use super::super::driver_fixtures::{
    applied, heartbeat, leader_of_three, one_chunk_snapshot, perform, storage, NOW,
};

fn pos(epoch: u64, lsn: u64) -> Position {
    Position::new(Epoch(epoch), Lsn(lsn))
}

/// The sink of a host whose storage is the reference host's `storage`.
fn host<'a>(driver: &'a Driver, storage: &'a mut MemStorage) -> impl FnMut(Output) + 'a {
    move |output| perform(driver, storage, &output)
}

/// A single-node driver that has elected itself and committed its no-op,
/// and its host's storage.
fn single_node_leader() -> (Driver, MemStorage) {
    let config = Config::new(NodeId(1), [NodeId(1)]);
    let driver = Driver::new(Replica::new(config, Instant(0)).unwrap());
    let mut storage = storage();
    driver.handle_timeout(NOW);
    while driver.pump(host(&driver, &mut storage)) > 0 {}
    assert_eq!(driver.with_replica(Replica::role), Role::Leader);
    assert_eq!(applied(&storage), vec![pos(1, 1)], "the leader's no-op");
    (driver, storage)
}

#[test]
fn concurrent_proposals_all_commit_at_distinct_positions() {
    let (driver, mut storage) = single_node_leader();
    let driver = Arc::new(driver);
    let done = Arc::new(AtomicBool::new(false));
    let pumper = {
        let (driver, done) = (Arc::clone(&driver), Arc::clone(&done));
        thread::spawn(move || {
            while !done.load(Ordering::SeqCst) {
                if driver.wait_for_outputs_timeout(Duration::from_millis(5)) {
                    driver.pump(host(&driver, &mut storage));
                }
            }
            applied(&storage)
        })
    };
    let clients: Vec<_> = (0..4u64)
        .map(|client| {
            let driver = Arc::clone(&driver);
            thread::spawn(move || {
                (0..25u64)
                    .map(|n| {
                        let id = RequestId(client * 100 + n);
                        let ticket = driver.propose(NOW, id, vec![1]).unwrap();
                        let Outcome::Committed(at) = ticket.wait() else {
                            panic!("{id} did not commit");
                        };
                        // The Apply was performed before the ticket completed.
                        assert!(driver.watch().current(Mark::Applied).lsn >= at.lsn);
                        at
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let positions: Vec<Position> = clients
        .into_iter()
        .flat_map(|client| client.join().unwrap())
        .collect();
    done.store(true, Ordering::SeqCst);
    let applied = pumper.join().unwrap();
    let distinct: BTreeSet<Position> = positions.iter().copied().collect();
    assert_eq!(distinct.len(), 100, "every write has its own position");
    assert!(distinct.iter().all(|p| p.epoch == Epoch(1)));
    let expected: Vec<Position> = (1..=101).map(|lsn| pos(1, lsn)).collect();
    assert_eq!(
        applied, expected,
        "the no-op and each write, once, in log order"
    );
    assert_eq!(driver.outstanding(), 0);
    assert_eq!(driver.watch().current(Mark::Committed), pos(1, 101));
}

#[test]
fn a_refused_proposal_leaves_no_registration() {
    let config = Config::new(NodeId(1), [NodeId(1)]);
    let driver = Driver::new(Replica::new(config, Instant(0)).unwrap());
    assert_eq!(
        driver
            .propose(Instant(0), RequestId(1), vec![])
            .unwrap_err(),
        ProposeRefused::Core(ProposeError::NotLeader { leader: None })
    );
    assert_eq!(driver.outstanding(), 0);
    assert!(
        !driver.wait_for_outputs_timeout(Duration::ZERO),
        "nothing to do"
    );
    // The same id is usable once the node leads.
    let (driver, _) = single_node_leader();
    assert!(driver.propose(NOW, RequestId(1), vec![]).is_ok());
}

#[test]
fn a_request_id_in_flight_is_refused() {
    let (driver, _) = single_node_leader();
    let _first = driver.propose(NOW, RequestId(5), vec![]).unwrap();
    assert_eq!(
        driver.propose(NOW, RequestId(5), vec![]).unwrap_err(),
        ProposeRefused::Register(RegisterError::Duplicate(RequestId(5)))
    );
    assert_eq!(driver.outstanding(), 1);
    assert_eq!(driver.with_replica(Replica::last), pos(1, 2), "one append");
}

#[test]
fn shutdown_abandons_open_tickets_and_wakes_everyone() {
    let driver = Arc::new(single_node_leader().0);
    let ticket = driver.propose(NOW, RequestId(1), vec![]).unwrap();
    let reader = {
        let driver = Arc::clone(&driver);
        thread::spawn(move || driver.watch().wait(Mark::Applied, Lsn(2)))
    };
    driver.shutdown();
    assert_eq!(
        ticket.wait(),
        Outcome::Failed(Failure::Abandoned(CloseReason::ShutDown))
    );
    assert!(matches!(
        reader.join().unwrap(),
        Err(WaitError::Closed {
            reason: CloseReason::ShutDown,
            ..
        })
    ));
    assert_eq!(
        driver.propose(NOW, RequestId(2), vec![]).unwrap_err(),
        ProposeRefused::Register(RegisterError::Closed(CloseReason::ShutDown))
    );
    // Queued outputs can still be pumped, then there is nothing to wait for.
    assert!(driver.pump(|_| {}) > 0);
    assert!(!driver.wait_for_outputs());
}

/// Node 1 of three, leading epoch 1 with its no-op committed (node 2 voted
/// and acknowledged), and proposals 10 and 11 appended at lsn 2 and 3; and
/// its host's storage.
fn three_node_leader_with_two_proposals() -> (Driver, MemStorage, Ticket, Ticket) {
    let driver = leader_of_three();
    let ten = driver.propose(NOW, RequestId(10), vec![10]).unwrap();
    let eleven = driver.propose(NOW, RequestId(11), vec![11]).unwrap();
    let mut storage = storage();
    while driver.pump(host(&driver, &mut storage)) > 0 {}
    assert_eq!(applied(&storage), vec![pos(1, 1)]);
    assert_eq!(driver.with_replica(Replica::last), pos(1, 3));
    (driver, storage, ten, eleven)
}

#[test]
fn after_a_step_down_tickets_wait_for_a_definite_outcome() {
    let (driver, mut storage, ten, eleven) = three_node_leader_with_two_proposals();
    // Node 2 leads epoch 2; its first heartbeat deposes node 1.
    driver
        .handle_message(NOW, NodeId(2), heartbeat(2, pos(1, 1), 1))
        .unwrap();
    while driver.pump(host(&driver, &mut storage)) > 0 {}
    assert_eq!(driver.with_replica(Replica::role), Role::Follower);
    assert_eq!((ten.outcome(), eleven.outcome()), (None, None), "in doubt");
    assert_eq!(driver.outstanding(), 2);
    assert_eq!(
        driver.watch().closed(),
        None,
        "a step-down is not a shutdown"
    );
    // Node 2 kept lsn 2 but not lsn 3, and commits through its own no-op.
    let noop = Entry {
        epoch: Epoch(2),
        lsn: Lsn(3),
        kind: EntryKind::Noop,
    };
    let append = Message::Append {
        epoch: Epoch(2),
        prev: pos(1, 2),
        entries: vec![noop],
        commit: Lsn(3),
        round: 1,
    };
    driver.handle_message(NOW, NodeId(2), append).unwrap();
    while driver.pump(host(&driver, &mut storage)) > 0 {}
    assert_eq!(
        eleven.wait(),
        Outcome::Failed(Failure::Truncated {
            position: pos(1, 3)
        })
    );
    assert_eq!(ten.wait(), Outcome::Committed(pos(1, 2)));
    assert_eq!(applied(&storage), vec![pos(1, 1), pos(1, 2), pos(2, 3)]);
    assert_eq!(driver.outstanding(), 0);
    assert_eq!(driver.watch().current(Mark::Applied), pos(2, 3));
}

#[test]
fn a_snapshot_that_replaces_in_doubt_entries_supersedes_their_tickets() {
    let (driver, mut storage, ten, eleven) = three_node_leader_with_two_proposals();
    // Node 2 leads epoch 2 and, instead of the log, sends a snapshot at
    // (e2, 5): node 1 cannot tell whether lsn 2 and 3 hold its proposals.
    driver
        .handle_message(NOW, NodeId(2), heartbeat(2, pos(1, 1), 1))
        .unwrap();
    while driver.pump(host(&driver, &mut storage)) > 0 {}
    assert_eq!((ten.outcome(), eleven.outcome()), (None, None), "in doubt");
    let chunk = one_chunk_snapshot(2, pos(2, 5));
    driver.handle_message(NOW, NodeId(2), chunk).unwrap();
    while driver.pump(host(&driver, &mut storage)) > 0 {}
    let superseded = |lsn| {
        Outcome::Failed(Failure::Superseded {
            position: pos(1, lsn),
        })
    };
    assert_eq!((ten.wait(), eleven.wait()), (superseded(2), superseded(3)));
    assert!(Failure::Superseded {
        position: pos(1, 2)
    }
    .may_still_commit());
    assert_eq!(driver.outstanding(), 0);
}

/// Discarded here is not failed: the entry may still be on another replica
/// and commit under a later leader. Node 1's two proposals are overwritten
/// by epoch 2's leader, then epoch 3's leader (which held them) commits them.
#[test]
fn a_ticket_whose_entry_is_truncated_here_can_still_commit() {
    let (driver, mut storage, ten, eleven) = three_node_leader_with_two_proposals();
    let entry = |epoch, lsn| Entry {
        epoch: Epoch(epoch),
        lsn: Lsn(lsn),
        kind: EntryKind::Command(vec![lsn as u8 + 8].into()),
    };
    // Epoch 2's leader (node 2) overwrites lsn 2 and 3.
    let overwrite = Message::Append {
        epoch: Epoch(2),
        prev: pos(1, 1),
        entries: vec![Entry {
            kind: EntryKind::Noop,
            ..entry(2, 2)
        }],
        commit: Lsn(1),
        round: 1,
    };
    driver.handle_message(NOW, NodeId(2), overwrite).unwrap();
    while driver.pump(host(&driver, &mut storage)) > 0 {}
    assert_eq!(driver.with_replica(Replica::last), pos(2, 2));
    assert_eq!((ten.outcome(), eleven.outcome()), (None, None), "in doubt");
    // Epoch 3's leader (node 3) still held them, and commits them behind
    // its own no-op.
    let restore = Message::Append {
        epoch: Epoch(3),
        prev: pos(1, 1),
        entries: vec![
            entry(1, 2),
            entry(1, 3),
            Entry {
                kind: EntryKind::Noop,
                ..entry(3, 4)
            },
        ],
        commit: Lsn(4),
        round: 1,
    };
    driver.handle_message(NOW, NodeId(3), restore).unwrap();
    while driver.pump(host(&driver, &mut storage)) > 0 {}
    assert_eq!(ten.wait(), Outcome::Committed(pos(1, 2)));
    assert_eq!(eleven.wait(), Outcome::Committed(pos(1, 3)));
    assert_eq!(driver.outstanding(), 0);
}

/// An installed snapshot moves the applied mark to its position (a waiter
/// for an lsn it covers must not hang), and settles in-doubt tickets it
/// certainly holds as committed.
#[test]
fn a_snapshot_publishes_applied_and_commits_what_it_certainly_holds() {
    let (driver, mut storage, ten, eleven) = three_node_leader_with_two_proposals();
    // Node 2 leads epoch 2 holding node 1's whole log, and sends a snapshot
    // at (1, 3): it holds both proposals.
    driver
        .handle_message(NOW, NodeId(2), heartbeat(2, pos(1, 3), 1))
        .unwrap();
    while driver.pump(host(&driver, &mut storage)) > 0 {}
    assert_eq!((ten.outcome(), eleven.outcome()), (None, None), "in doubt");
    let chunk = one_chunk_snapshot(2, pos(1, 3));
    driver.handle_message(NOW, NodeId(2), chunk).unwrap();
    while driver.pump(host(&driver, &mut storage)) > 0 {}
    assert_eq!(driver.watch().current(Mark::Applied), pos(1, 3));
    assert_eq!(ten.wait(), Outcome::Committed(pos(1, 2)));
    assert_eq!(eleven.wait(), Outcome::Committed(pos(1, 3)));
}
