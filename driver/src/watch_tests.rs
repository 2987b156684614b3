use super::*;
use std::sync::Arc;
use std::thread;
use steadfast::Epoch;

fn pos(epoch: u64, lsn: u64) -> Position {
    Position::new(Epoch(epoch), Lsn(lsn))
}

const SHORT: Duration = Duration::from_millis(20);

#[test]
fn a_reached_target_returns_at_once_with_the_position_seen() {
    let watch = PositionWatch::new();
    watch.publish_committed(pos(1, 5)).unwrap();
    assert_eq!(watch.wait(Mark::Committed, Lsn(3)), Ok(pos(1, 5)));
    assert_eq!(watch.wait(Mark::Committed, Lsn(5)), Ok(pos(1, 5)));
    assert_eq!(watch.wait(Mark::Applied, Lsn(0)), Ok(Position::ZERO));
}

#[test]
fn blocked_waiters_wake_when_their_lsn_is_published() {
    let watch = Arc::new(PositionWatch::new());
    let waiters: Vec<_> = (1..=3)
        .map(|lsn| {
            let watch = Arc::clone(&watch);
            thread::spawn(move || watch.wait(Mark::Applied, Lsn(lsn)))
        })
        .collect();
    for lsn in 1..=3 {
        watch.publish_committed(pos(1, lsn)).unwrap();
        watch.publish_applied(pos(1, lsn)).unwrap();
    }
    for (target, waiter) in (1..=3).zip(waiters) {
        let seen = waiter.join().unwrap().unwrap();
        assert!(seen.lsn >= Lsn(target), "woke at {seen} for lsn {target}");
    }
}

#[test]
fn an_unreached_target_times_out_and_reports_what_it_saw() {
    let watch = PositionWatch::new();
    watch.publish_committed(pos(1, 2)).unwrap();
    let err = watch.wait_timeout(Mark::Committed, Lsn(3), SHORT);
    assert_eq!(
        err,
        Err(WaitError::TimedOut {
            mark: Mark::Committed,
            target: Lsn(3),
            seen: pos(1, 2),
            timeout: SHORT
        })
    );
}

#[test]
fn after_failover_a_higher_epoch_does_not_count_as_reaching_a_higher_lsn() {
    // A session token (e1, 10); the follower has applied (e2, 3) after a
    // failover. Lexicographically (e2, 3) > (e1, 10), but entry 10 is not
    // applied: the wait must not return.
    let watch = PositionWatch::new();
    watch.publish_committed(pos(1, 2)).unwrap();
    watch.publish_applied(pos(1, 2)).unwrap();
    watch.publish_committed(pos(2, 3)).unwrap();
    watch.publish_applied(pos(2, 3)).unwrap();
    assert!(pos(2, 3) > pos(1, 10));
    assert!(matches!(
        watch.wait_timeout(Mark::Applied, Lsn(10), SHORT),
        Err(WaitError::TimedOut { seen, .. }) if seen == pos(2, 3)
    ));
    watch.publish_committed(pos(2, 10)).unwrap();
    watch.publish_applied(pos(2, 10)).unwrap();
    assert_eq!(watch.wait(Mark::Applied, Lsn(10)), Ok(pos(2, 10)));
}

#[test]
fn close_wakes_every_waiter_with_a_typed_error() {
    let watch = Arc::new(PositionWatch::new());
    let waiters: Vec<_> = (0..3)
        .map(|_| {
            let watch = Arc::clone(&watch);
            thread::spawn(move || watch.wait(Mark::Committed, Lsn(7)))
        })
        .collect();
    let reason = CloseReason::SteppedDown { epoch: Epoch(4) };
    assert!(watch.close(reason));
    for waiter in waiters {
        assert_eq!(
            waiter.join().unwrap(),
            Err(WaitError::Closed {
                reason,
                mark: Mark::Committed,
                target: Lsn(7),
                seen: Position::ZERO
            })
        );
    }
}

#[test]
fn a_target_reached_before_close_is_still_reported_as_reached() {
    let watch = PositionWatch::new();
    watch.publish_committed(pos(1, 4)).unwrap();
    watch.close(CloseReason::ShutDown);
    assert_eq!(watch.wait(Mark::Committed, Lsn(4)), Ok(pos(1, 4)));
    assert!(matches!(
        watch.wait(Mark::Committed, Lsn(5)),
        Err(WaitError::Closed {
            reason: CloseReason::ShutDown,
            ..
        })
    ));
}

#[test]
fn closing_twice_keeps_the_first_reason_and_refuses_publication() {
    let watch = PositionWatch::new();
    assert!(watch.close(CloseReason::ShutDown));
    assert!(!watch.close(CloseReason::SteppedDown { epoch: Epoch(9) }));
    assert_eq!(watch.closed(), Some(CloseReason::ShutDown));
    assert_eq!(
        watch.publish_committed(pos(1, 1)),
        Err(PublishError::Closed {
            reason: CloseReason::ShutDown
        })
    );
}

#[test]
fn positions_only_move_forward() {
    let watch = PositionWatch::new();
    watch.publish_committed(pos(2, 5)).unwrap();
    // Republishing the same position is a no-op.
    assert_eq!(watch.publish_committed(pos(2, 5)), Ok(()));
    for offered in [pos(2, 4), pos(1, 6), pos(3, 5), pos(1, 5)] {
        assert_eq!(
            watch.publish_committed(offered),
            Err(PublishError::NotForward {
                mark: Mark::Committed,
                current: pos(2, 5),
                offered
            }),
            "{offered} must be refused"
        );
    }
    assert_eq!(watch.current(Mark::Committed), pos(2, 5));
    assert_eq!(watch.publish_committed(pos(3, 6)), Ok(()));
}

#[test]
fn nothing_is_applied_before_it_is_committed() {
    let watch = PositionWatch::new();
    watch.publish_committed(pos(1, 3)).unwrap();
    assert_eq!(watch.publish_applied(pos(1, 2)), Ok(()));
    // Both are forward moves from (e1, 2), but past the commit point.
    for offered in [pos(1, 4), pos(2, 3)] {
        assert_eq!(
            watch.publish_applied(offered),
            Err(PublishError::AppliedBeyondCommitted {
                committed: pos(1, 3),
                offered
            })
        );
    }
    assert_eq!(watch.current(Mark::Applied), pos(1, 2));
}

#[test]
fn starting_at_recovered_progress_is_validated() {
    let watch = PositionWatch::starting_at(pos(3, 9), pos(2, 7)).unwrap();
    assert_eq!(watch.current(Mark::Committed), pos(3, 9));
    assert_eq!(watch.current(Mark::Applied), pos(2, 7));
    assert!(matches!(
        PositionWatch::starting_at(pos(1, 2), pos(1, 3)),
        Err(PublishError::AppliedBeyondCommitted { .. })
    ));
}

#[test]
fn errors_say_what_was_wrong_and_what_was_expected() {
    let err = PublishError::NotForward {
        mark: Mark::Committed,
        current: pos(2, 5),
        offered: pos(2, 4),
    };
    let text = err.to_string();
    assert!(text.contains("(e2, 5)") && text.contains("(e2, 4)") && text.contains("expected"));
}
