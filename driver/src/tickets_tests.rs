use super::*;
use std::sync::Arc;
use std::thread;
use steadfast::{Epoch, Lsn};

fn committed(lsn: u64) -> Outcome {
    Outcome::Committed(Position::new(Epoch(1), Lsn(lsn)))
}

#[test]
fn the_driver_completes_a_ticket_another_thread_waits_on() {
    let tickets = Arc::new(Tickets::new());
    let ticket = tickets.register(RequestId(1)).unwrap();
    let waiter = thread::spawn(move || ticket.wait());
    tickets.complete(RequestId(1), committed(4)).unwrap();
    assert_eq!(waiter.join().unwrap(), committed(4));
    assert_eq!(tickets.outstanding(), 0);
}

#[test]
fn a_ticket_completes_exactly_once() {
    let tickets = Tickets::new();
    let ticket = tickets.register(RequestId(7)).unwrap();
    tickets.complete(RequestId(7), committed(1)).unwrap();
    assert_eq!(
        tickets.complete(RequestId(7), Outcome::Failed(Failure::NotLeader)),
        Err(CompleteError::NotOutstanding(RequestId(7)))
    );
    assert_eq!(ticket.wait(), committed(1), "the first outcome stays");
    assert_eq!(ticket.outcome(), Some(committed(1)));
}

#[test]
fn unknown_and_duplicate_ids_are_refused() {
    let tickets = Tickets::new();
    assert_eq!(
        tickets.complete(RequestId(3), committed(1)),
        Err(CompleteError::NotOutstanding(RequestId(3)))
    );
    let _first = tickets.register(RequestId(3)).unwrap();
    assert!(matches!(
        tickets.register(RequestId(3)),
        Err(RegisterError::Duplicate(RequestId(3)))
    ));
    // Once completed, the id may be reused.
    tickets.complete(RequestId(3), committed(1)).unwrap();
    assert!(tickets.register(RequestId(3)).is_ok());
}

#[test]
fn close_fails_every_outstanding_ticket_and_refuses_more() {
    let tickets = Arc::new(Tickets::new());
    let done = tickets.register(RequestId(0)).unwrap();
    tickets.complete(RequestId(0), committed(1)).unwrap();
    let waiters: Vec<_> = (1..=3)
        .map(|id| {
            let ticket = tickets.register(RequestId(id)).unwrap();
            thread::spawn(move || ticket.wait())
        })
        .collect();
    let reason = CloseReason::SteppedDown { epoch: Epoch(2) };
    assert_eq!(tickets.close(reason), 3);
    for waiter in waiters {
        let outcome = waiter.join().unwrap();
        assert_eq!(outcome, Outcome::Failed(Failure::Abandoned(reason)));
        let Outcome::Failed(failure) = outcome else {
            unreachable!()
        };
        assert!(
            failure.may_still_commit(),
            "a step-down leaves the outcome unknown"
        );
    }
    assert_eq!(
        done.wait(),
        committed(1),
        "completed tickets keep their outcome"
    );
    assert_eq!(
        tickets.register(RequestId(9)).unwrap_err(),
        RegisterError::Closed(reason)
    );
    assert_eq!(
        tickets.complete(RequestId(1), committed(2)),
        Err(CompleteError::Closed {
            id: RequestId(1),
            reason
        })
    );
    assert_eq!(tickets.close(CloseReason::ShutDown), 0);
    assert_eq!(tickets.closed(), Some(reason));
}

#[test]
fn a_wait_can_time_out_and_the_ticket_stays_valid() {
    let tickets = Tickets::new();
    let ticket = tickets.register(RequestId(5)).unwrap();
    assert_eq!(ticket.wait_timeout(Duration::from_millis(20)), None);
    let truncated = Outcome::Failed(Failure::Truncated {
        position: Position::new(Epoch(1), Lsn(8)),
    });
    tickets.complete(RequestId(5), truncated).unwrap();
    assert_eq!(
        ticket.wait_timeout(Duration::from_millis(20)),
        Some(truncated)
    );
    assert_eq!(ticket.id(), RequestId(5));
}

#[test]
fn completing_a_dropped_ticket_is_fine() {
    let tickets = Tickets::new();
    drop(tickets.register(RequestId(1)).unwrap());
    assert_eq!(tickets.complete(RequestId(1), committed(1)), Ok(()));
}

#[test]
fn only_abandoned_and_superseded_failures_may_still_commit() {
    assert!(!Failure::NotLeader.may_still_commit());
    assert!(!Failure::Truncated {
        position: Position::ZERO
    }
    .may_still_commit());
    assert!(Failure::Abandoned(CloseReason::ShutDown).may_still_commit());
    assert!(Failure::Superseded {
        position: Position::ZERO
    }
    .may_still_commit());
}
