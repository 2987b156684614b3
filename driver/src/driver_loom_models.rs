//! Loom models of the real [`Driver`] around the real [`Replica`]: client
//! threads propose while the driver thread pumps and persists, or shuts
//! down. Run with `scripts/loom.sh` like the others; each prints how many
//! executions it explored.
//!
//! The replica is pure, so loom only sees the driver's locks and condvar and
//! those inside [`Tickets`] and [`PositionWatch`]; a deadlock or lost
//! wake-up anywhere among them fails the model.

use super::loom_models::explore;
use super::shim::Arc;
use super::*;
use loom::thread;
use steadfast::{Config, Epoch, Instant, Lsn, NodeId, Output, Position, Replica, Role};

use super::driver_fixtures::{
    heartbeat, leader_of_three, one_chunk_snapshot, perform, storage, NOW,
};
use steadfast_sim::host::MemStorage;

/// A single-node cluster that elected itself and committed its no-op at
/// (e1, 1), and its host's storage (the reference host: every write is
/// durable as soon as it is performed). Built inside the model (loom locks
/// must be).
fn single_node_leader() -> (Driver, MemStorage) {
    let config = Config::new(NodeId(1), [NodeId(1)]);
    let driver = Driver::new(Replica::new(config, Instant(0)).unwrap());
    let mut storage = storage();
    driver.handle_timeout(NOW);
    while driver.pump(|output| perform(&driver, &mut storage, &output)) > 0 {}
    assert_eq!(driver.with_replica(Replica::role), Role::Leader);
    assert_eq!(driver.with_replica(Replica::commit), Lsn(1));
    (driver, storage)
}

#[test]
fn driver_proposals_commit_exactly_once() {
    explore("driver_proposals_commit_exactly_once", || {
        let (driver, mut storage) = single_node_leader();
        let driver = Arc::new(driver);
        let clients: Vec<_> = [RequestId(1), RequestId(2)]
            .into_iter()
            .map(|id| {
                let driver = Arc::clone(&driver);
                thread::spawn(move || {
                    let ticket = driver.propose(NOW, id, vec![1]).unwrap();
                    let Outcome::Committed(at) = ticket.wait() else {
                        panic!("{id} was not committed");
                    };
                    // Completed after its Apply was performed: readable now.
                    let applied = driver.watch().current(Mark::Applied);
                    assert!(applied.lsn >= at.lsn, "{id} at {at}, applied {applied}");
                    (id, at)
                })
            })
            .collect();
        // The driver thread: wait for work, perform it (persisting appends
        // feeds `handle_persisted` back in from inside the sink).
        let mut replies = Vec::new();
        while replies.len() < 2 {
            assert!(driver.wait_for_outputs(), "not shut down");
            driver.pump(|output| {
                perform(&driver, &mut storage, &output);
                if let Output::Reply { request, outcome } = output {
                    replies.push((request, outcome));
                }
            });
        }
        let mut seen: Vec<(RequestId, Position)> =
            clients.into_iter().map(|c| c.join().unwrap()).collect();
        seen.sort();
        let mut positions: Vec<Position> = seen.iter().map(|(_, at)| *at).collect();
        positions.sort();
        let lsn = |n| Position::new(Epoch(1), Lsn(n));
        assert_eq!(positions, vec![lsn(2), lsn(3)], "distinct positions");
        // The core replied once per request, and each ticket saw that reply.
        replies.sort_by_key(|(request, _)| *request);
        let delivered: Vec<_> = seen
            .iter()
            .map(|&(id, at)| (id, steadfast::ProposalOutcome::Committed(at)))
            .collect();
        assert_eq!(replies, delivered);
        assert_eq!(driver.outstanding(), 0, "no ticket left open");
        assert_eq!(driver.watch().current(Mark::Applied), lsn(3));
    });
}

#[test]
fn driver_shutdown_races_a_proposal() {
    explore("driver_shutdown_races_a_proposal", || {
        let (driver, mut storage) = single_node_leader();
        let driver = Arc::new(driver);
        let client = {
            let driver = Arc::clone(&driver);
            thread::spawn(move || match driver.propose(NOW, RequestId(1), vec![1]) {
                Ok(ticket) => Some(ticket.wait()),
                Err(refused) => {
                    let closed = RegisterError::Closed(CloseReason::ShutDown);
                    assert_eq!(refused, ProposeRefused::Register(closed));
                    None
                }
            })
        };
        let reader = {
            let driver = Arc::clone(&driver);
            thread::spawn(move || driver.watch().wait(Mark::Applied, Lsn(2)))
        };
        driver.shutdown();
        // Whatever was queued is still performed; nothing commits any more.
        while driver.wait_for_outputs() {
            driver.pump(|output| perform(&driver, &mut storage, &output));
        }
        if let Some(outcome) = client.join().unwrap() {
            let abandoned = Failure::Abandoned(CloseReason::ShutDown);
            assert_eq!(outcome, Outcome::Failed(abandoned));
        }
        assert!(matches!(
            reader.join().unwrap(),
            Err(WaitError::Closed { .. })
        ));
        assert_eq!(driver.outstanding(), 0);
    });
}

/// Node 1 of three led epoch 1, committed its no-op with node 2's help and
/// appended proposal 10 at (e1, 2); then node 2's epoch-2 heartbeat
/// deposed it, leaving the ticket in doubt; and its host's storage. Built
/// inside the model.
fn deposed_leader_with_a_ticket_in_doubt() -> (Driver, MemStorage, Ticket) {
    let driver = leader_of_three();
    let mut storage = storage();
    let ticket = driver.propose(NOW, RequestId(10), vec![10]).unwrap();
    let deposed = heartbeat(2, Position::new(Epoch(1), Lsn(2)), 1);
    driver.handle_message(NOW, NodeId(2), deposed).unwrap();
    while driver.pump(|output| perform(&driver, &mut storage, &output)) > 0 {}
    assert_eq!(driver.with_replica(Replica::role), Role::Follower);
    (driver, storage, ticket)
}

/// A snapshot install settles a ticket in doubt and moves the applied
/// mark, while the client and a reader wait on other threads: both wake,
/// the client sees `Committed` once, the reader sees the snapshot applied.
#[test]
fn driver_snapshot_settles_a_ticket_in_doubt() {
    explore("driver_snapshot_settles_a_ticket_in_doubt", || {
        let (driver, mut storage, ticket) = deposed_leader_with_a_ticket_in_doubt();
        let driver = Arc::new(driver);
        let client = thread::spawn(move || ticket.wait());
        let reader = {
            let driver = Arc::clone(&driver);
            thread::spawn(move || driver.watch().wait(Mark::Applied, Lsn(2)))
        };
        let at = Position::new(Epoch(1), Lsn(2));
        let chunk = one_chunk_snapshot(2, at);
        driver.handle_message(NOW, NodeId(2), chunk).unwrap();
        while driver.pump(|output| perform(&driver, &mut storage, &output)) > 0 {}
        assert_eq!(storage.applied_position(), at, "the snapshot's state");
        assert_eq!(client.join().unwrap(), Outcome::Committed(at));
        assert_eq!(reader.join().unwrap().map(|p| p.lsn), Ok(Lsn(2)));
        assert_eq!(driver.outstanding(), 0);
    });
}
