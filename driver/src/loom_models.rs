//! Loom models of the hand-off between client threads and the driver
//! (the models of [`Driver`] itself are in `driver_loom_models.rs`).
//!
//! Run with `scripts/loom.sh` (or
//! `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=3 cargo test --release -p steadfast --lib sync -- --nocapture`).
//! Each model prints how many executions loom explored. Threads here are
//! loom threads, and every lock comes from [`super::shim`]; loom reports a
//! lost wake-up as a deadlock (every thread blocked).

use super::shim::Arc;
use super::*;
use loom::thread;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use steadfast::{Epoch, Lsn, Position};

/// The preemption bound used when `LOOM_MAX_PREEMPTIONS` is not set.
const DEFAULT_PREEMPTIONS: usize = 3;

fn pos(epoch: u64, lsn: u64) -> Position {
    Position::new(Epoch(epoch), Lsn(lsn))
}

/// Runs `model` under loom and returns how many executions it explored and
/// whether every one passed (`Err` carries the first failure's message).
fn run(model: impl Fn() + Sync + Send + 'static) -> (usize, Result<(), String>) {
    // A plain std counter: it lives outside the model and only counts runs.
    let executions = std::sync::Arc::new(AtomicUsize::new(0));
    let counter = std::sync::Arc::clone(&executions);
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = builder.preemption_bound.or(Some(DEFAULT_PREEMPTIONS));
    let verdict = catch_unwind(AssertUnwindSafe(|| {
        builder.check(move || {
            counter.fetch_add(1, Relaxed);
            model();
        })
    }))
    .map_err(|panic| {
        panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default()
    });
    (executions.load(Relaxed), verdict)
}

/// Runs a model that must pass, and prints its explored execution count.
pub(super) fn explore(name: &str, model: impl Fn() + Sync + Send + 'static) {
    let (explored, verdict) = run(model);
    println!("loom model {name}: {explored} executions explored");
    if let Err(failure) = verdict {
        panic!("loom model {name} failed after {explored} executions: {failure}");
    }
    assert!(
        explored > 1,
        "{name} explored one execution: it checks no interleaving"
    );
}

#[test]
fn no_lost_wakeup_two_waiters_two_publishes() {
    explore("no_lost_wakeup_two_waiters_two_publishes", || {
        let watch = Arc::new(PositionWatch::new());
        let waiters: Vec<_> = [Lsn(1), Lsn(2)]
            .into_iter()
            .map(|target| {
                let watch = Arc::clone(&watch);
                thread::spawn(move || {
                    let seen = watch.wait(Mark::Committed, target).unwrap();
                    assert!(seen.lsn >= target, "woke at {seen} for lsn {target}");
                })
            })
            .collect();
        watch.publish_committed(pos(1, 1)).unwrap();
        watch.publish_committed(pos(1, 2)).unwrap();
        for waiter in waiters {
            waiter.join().unwrap();
        }
    });
}

#[test]
fn no_lost_wakeup_three_waiters_one_publish() {
    explore("no_lost_wakeup_three_waiters_one_publish", || {
        let watch = Arc::new(PositionWatch::new());
        let waiters: Vec<_> = [Mark::Committed, Mark::Committed, Mark::Applied]
            .into_iter()
            .map(|mark| {
                let watch = Arc::clone(&watch);
                thread::spawn(move || watch.wait(mark, Lsn(1)).unwrap())
            })
            .collect();
        watch.publish_committed(pos(1, 1)).unwrap();
        watch.publish_applied(pos(1, 1)).unwrap();
        for waiter in waiters {
            assert_eq!(waiter.join().unwrap(), pos(1, 1));
        }
    });
}

#[test]
fn no_waiter_sees_a_position_go_backwards() {
    explore("no_waiter_sees_a_position_go_backwards", || {
        let watch = Arc::new(PositionWatch::new());
        let waiters: Vec<_> = (0..2)
            .map(|_| {
                let watch = Arc::clone(&watch);
                thread::spawn(move || {
                    let first = watch.wait(Mark::Committed, Lsn(1)).unwrap();
                    let applied = watch.wait(Mark::Applied, Lsn(1)).unwrap();
                    let later = watch.current(Mark::Committed);
                    assert!(
                        first <= later && first.lsn <= later.lsn,
                        "{first} then {later}"
                    );
                    // Whatever a reader saw applied was already committed.
                    assert!(
                        applied.lsn <= later.lsn,
                        "applied {applied}, committed {later}"
                    );
                })
            })
            .collect();
        watch.publish_committed(pos(1, 1)).unwrap();
        watch.publish_applied(pos(1, 1)).unwrap();
        watch.publish_committed(pos(2, 2)).unwrap();
        assert!(
            watch.publish_committed(pos(1, 1)).is_err(),
            "a backwards publication is refused"
        );
        watch.publish_applied(pos(2, 2)).unwrap();
        for waiter in waiters {
            waiter.join().unwrap();
        }
    });
}

#[test]
fn close_wakes_every_waiter() {
    explore("close_wakes_every_waiter", || {
        let watch = Arc::new(PositionWatch::new());
        let waiters: Vec<_> = [Mark::Committed, Mark::Committed, Mark::Applied]
            .into_iter()
            .map(|mark| {
                let watch = Arc::clone(&watch);
                thread::spawn(move || watch.wait(mark, Lsn(5)))
            })
            .collect();
        watch.publish_committed(pos(1, 1)).unwrap();
        assert!(watch.close(CloseReason::ShutDown));
        for waiter in waiters {
            assert!(matches!(
                waiter.join().unwrap(),
                Err(WaitError::Closed {
                    reason: CloseReason::ShutDown,
                    ..
                })
            ));
        }
    });
}

#[test]
fn a_ticket_completes_exactly_once() {
    explore("a_ticket_completes_exactly_once", || {
        let tickets = Arc::new(Tickets::new());
        let ticket = tickets.register(RequestId(1)).unwrap();
        let committed = Outcome::Committed(pos(1, 1));
        let truncated = Outcome::Failed(Failure::Truncated {
            position: pos(1, 1),
        });
        let stepped_down = CloseReason::SteppedDown { epoch: Epoch(2) };
        let completers: Vec<_> = [committed, truncated]
            .into_iter()
            .map(|outcome| {
                let tickets = Arc::clone(&tickets);
                thread::spawn(move || {
                    tickets
                        .complete(RequestId(1), outcome)
                        .ok()
                        .map(|()| outcome)
                })
            })
            .collect();
        let closer = {
            let tickets = Arc::clone(&tickets);
            thread::spawn(move || tickets.close(stepped_down))
        };
        let seen = ticket.wait();
        let mut delivered: Vec<Outcome> = completers
            .into_iter()
            .filter_map(|completer| completer.join().unwrap())
            .collect();
        if closer.join().unwrap() == 1 {
            delivered.push(Outcome::Failed(Failure::Abandoned(stepped_down)));
        }
        assert_eq!(
            delivered,
            vec![seen],
            "exactly one delivery, and it is the one seen"
        );
        assert_eq!(ticket.wait(), seen, "the outcome never changes");
    });
}

/// The checker has teeth: a wait that checks, releases the lock and only
/// then blocks misses a publication in the gap, and loom finds the
/// interleaving (reported as a deadlock: the waiter sleeps forever).
#[test]
fn loom_finds_the_planted_lost_wakeup() {
    let (explored, verdict) = run(|| {
        // Leaked rather than shared through a loom `Arc`: when loom aborts
        // the deadlocked execution, dropping a loom `Arc` during the unwind
        // panics again and aborts the process. A few bytes per execution.
        let watch: &'static PositionWatch =
            Box::leak(Box::new(PositionWatch::with_planted_lost_wakeup()));
        let waiter = thread::spawn(move || watch.wait(Mark::Committed, Lsn(1)).unwrap());
        watch.publish_committed(pos(1, 1)).unwrap();
        waiter.join().unwrap();
    });
    println!(
        "loom model loom_finds_the_planted_lost_wakeup: bug found after {explored} executions"
    );
    let failure = verdict.expect_err("loom must find the planted lost wake-up");
    assert!(
        failure.contains("deadlock"),
        "unexpected failure: {failure}"
    );
}
