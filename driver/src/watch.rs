//! [`PositionWatch`]: how far the log is committed and applied, for threads
//! that must not answer a client before then.

use super::shim::{self, Condvar, Deadline, Mutex};
use super::CloseReason;
use std::fmt;
use std::time::Duration;
use steadfast::{Lsn, Position};

/// Which of the two watermarks a [`PositionWatch`] tracks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mark {
    /// The end of the committed prefix: entries up to here are durable under
    /// the durability policy and will never be truncated. Wait on this before
    /// acknowledging a write.
    Committed,
    /// The end of the applied prefix: entries up to here are visible in the
    /// local state. Wait on this before serving a read that must include a
    /// session token's write. Never ahead of [`Mark::Committed`].
    Applied,
}

impl fmt::Display for Mark {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Mark::Committed => "committed",
            Mark::Applied => "applied",
        })
    }
}

/// Why a wait on a [`PositionWatch`] ended without reaching its target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WaitError {
    /// The watch was closed before the target was reached.
    #[error("stopped waiting for {mark} lsn {target}: {reason}; {mark} was at {seen}")]
    Closed {
        /// Why the watch was closed.
        reason: CloseReason,
        /// The watermark that was awaited.
        mark: Mark,
        /// The lsn that was awaited.
        target: Lsn,
        /// The last position published for `mark`.
        seen: Position,
    },
    /// The timeout passed before the target was reached.
    #[error("timed out after {timeout:?} waiting for {mark} lsn {target}; {mark} was at {seen}")]
    TimedOut {
        /// The watermark that was awaited.
        mark: Mark,
        /// The lsn that was awaited.
        target: Lsn,
        /// The last position published for `mark`.
        seen: Position,
        /// The timeout that passed.
        timeout: Duration,
    },
}

/// Why the driver's publication was refused. The watch keeps its previous
/// state; each of these means the caller (or the core) has a bug.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PublishError {
    /// The offered position is not a forward move from the current one:
    /// its lsn is lower, its epoch is lower, or it names a different entry
    /// at the same lsn.
    #[error(
        "{mark} position must only move forward: it is at {current}, and {offered} is not \
         at or after it (expected a higher lsn with an epoch at least as high, or the same position)"
    )]
    NotForward {
        /// The watermark that was published to.
        mark: Mark,
        /// The position the watch holds.
        current: Position,
        /// The position that was refused.
        offered: Position,
    },
    /// The offered applied position is past the committed one: a node must
    /// never apply (and so expose) an entry before it is committed.
    #[error(
        "applied position {offered} is past the committed position {committed}: \
         publish the commit first (expected an applied position at or before it)"
    )]
    AppliedBeyondCommitted {
        /// The committed position the watch holds.
        committed: Position,
        /// The applied position that was refused.
        offered: Position,
    },
    /// The watch is closed.
    #[error("cannot publish to a closed watch: {reason}")]
    Closed {
        /// Why the watch was closed.
        reason: CloseReason,
    },
}

/// The driver's published progress: how far the log is committed and
/// applied. Any number of threads block until an lsn is reached.
///
/// # What "reached" means
///
/// A waiter names an [`Lsn`], not a [`Position`], and it is reached when the
/// published watermark's lsn is at least that lsn. Positions are ordered
/// `(epoch, lsn)` lexicographically, which is the right order for *electing*
/// a replica but the wrong one for waiting: after a failover, the committed
/// position `(e2, 3)` compares greater than a session token `(e1, 10)` even
/// though entry 10 is not committed yet, and treating it as reached would
/// serve a stale read. Comparing lsns is right because committed entries are
/// never truncated and no two replicas commit different entries at one lsn:
/// any committed (or applied) prefix that reaches lsn 10 contains the entry
/// committed at lsn 10. Each successful wait returns the position it saw,
/// epoch included, so a caller can tell that a failover happened.
///
/// The one case this cannot catch is a write that was acknowledged and then
/// *lost* (asynchronous or too-weak semi-synchronous failover): lsn 10 is then
/// a different entry. Nothing a waiter can do fixes that; the core reports
/// truncated entries as an output, and [`Tickets`](super::Tickets) fails them.
///
/// # Moving forward
///
/// Publishing the current position again is a no-op. A position that is not
/// a forward move (lower lsn, lower epoch, or another entry at the same lsn)
/// is refused with [`PublishError::NotForward`] rather than ignored: a commit
/// point that goes backwards is a safety bug, and swallowing it would hide it.
/// Published positions are therefore monotonic in both the `(epoch, lsn)`
/// order and lsn alone, and no waiter ever sees one go backwards.
///
/// # Closing
///
/// [`close`](Self::close) wakes every waiter; waits that have not been
/// satisfied fail with [`WaitError::Closed`], and so do all later ones whose
/// target is not already reached. A target reached before the close is still
/// reported as reached: that data *was* committed or applied. Close the watch
/// when the node shuts down, and close a leader-only watch (say, for
/// read-index waits) when the node steps down, since a deposed leader must
/// not serve reads; a watch on a follower's apply progress can outlive
/// failovers, because lsns keep their meaning across epochs (see above).
///
/// # Timeouts
///
/// [`wait_timeout`](Self::wait_timeout) reads the host's monotonic clock;
/// this is host-side code, not the sans-io core. Loom does not model time,
/// so the loom models use [`wait`](Self::wait).
#[derive(Debug)]
pub struct PositionWatch {
    state: Mutex<State>,
    changed: Condvar,
    /// Test-only: wait with a check-then-wait race (see `wait_racy`), so the
    /// loom models can show they find a lost wake-up.
    #[cfg(loom)]
    planted_lost_wakeup: bool,
}

#[derive(Debug)]
struct State {
    committed: Position,
    applied: Position,
    closed: Option<CloseReason>,
}

impl State {
    fn get(&self, mark: Mark) -> Position {
        match mark {
            Mark::Committed => self.committed,
            Mark::Applied => self.applied,
        }
    }
}

/// Whether `earlier` can be the same entry as `later` or one before it in the
/// same log: log epochs never decrease along a log, and one lsn holds one
/// entry (one epoch).
fn at_or_before(earlier: Position, later: Position) -> bool {
    earlier == later || (earlier.lsn < later.lsn && earlier.epoch <= later.epoch)
}

impl Default for PositionWatch {
    fn default() -> Self {
        Self::new()
    }
}

impl PositionWatch {
    /// A watch with nothing committed or applied ([`Position::ZERO`]).
    pub fn new() -> PositionWatch {
        PositionWatch {
            state: Mutex::new(State {
                committed: Position::ZERO,
                applied: Position::ZERO,
                closed: None,
            }),
            changed: Condvar::new(),
            #[cfg(loom)]
            planted_lost_wakeup: false,
        }
    }

    /// A watch that starts from recovered progress, for a node that restarts
    /// or takes over a role. Refuses an `applied` past `committed`.
    pub fn starting_at(
        committed: Position,
        applied: Position,
    ) -> Result<PositionWatch, PublishError> {
        if !at_or_before(applied, committed) {
            return Err(PublishError::AppliedBeyondCommitted {
                committed,
                offered: applied,
            });
        }
        let watch = PositionWatch::new();
        {
            let mut state = shim::lock(&watch.state);
            state.committed = committed;
            state.applied = applied;
        }
        Ok(watch)
    }

    /// Test-only: a watch whose waits check the condition, release the lock,
    /// and then wait, so a publication in between is missed. Exists so the
    /// loom models can prove they catch this bug.
    #[cfg(all(loom, test))]
    pub(crate) fn with_planted_lost_wakeup() -> PositionWatch {
        PositionWatch {
            planted_lost_wakeup: true,
            ..PositionWatch::new()
        }
    }

    /// Publishes that the log is committed up to `position`, waking waiters.
    pub fn publish_committed(&self, position: Position) -> Result<(), PublishError> {
        self.publish(Mark::Committed, position)
    }

    /// Publishes that the log is applied up to `position`, waking waiters.
    /// Publish the matching commit first: `position` may not be past the
    /// committed position.
    pub fn publish_applied(&self, position: Position) -> Result<(), PublishError> {
        self.publish(Mark::Applied, position)
    }

    fn publish(&self, mark: Mark, offered: Position) -> Result<(), PublishError> {
        let mut state = shim::lock(&self.state);
        if let Some(reason) = state.closed {
            return Err(PublishError::Closed { reason });
        }
        let current = state.get(mark);
        if offered == current {
            return Ok(());
        }
        if !at_or_before(current, offered) {
            return Err(PublishError::NotForward {
                mark,
                current,
                offered,
            });
        }
        match mark {
            Mark::Committed => state.committed = offered,
            Mark::Applied => {
                if !at_or_before(offered, state.committed) {
                    return Err(PublishError::AppliedBeyondCommitted {
                        committed: state.committed,
                        offered,
                    });
                }
                state.applied = offered;
            }
        }
        // Notify while holding the lock: a waiter either checked before this
        // critical section (and is now parked on the condvar) or checks after
        // it (and sees the new value). Either way it cannot miss the change.
        self.changed.notify_all();
        Ok(())
    }

    /// Closes the watch, waking every waiter. Returns `false` (and keeps the
    /// first reason) if it was already closed.
    pub fn close(&self, reason: CloseReason) -> bool {
        let mut state = shim::lock(&self.state);
        if state.closed.is_some() {
            return false;
        }
        state.closed = Some(reason);
        self.changed.notify_all();
        true
    }

    /// Why the watch was closed, if it was.
    pub fn closed(&self) -> Option<CloseReason> {
        shim::lock(&self.state).closed
    }

    /// The position last published for `mark`.
    pub fn current(&self, mark: Mark) -> Position {
        shim::lock(&self.state).get(mark)
    }

    /// Blocks until `mark` reaches `target` (see "What reached means" above)
    /// or the watch is closed, with no timeout. Returns the position seen.
    pub fn wait(&self, mark: Mark, target: Lsn) -> Result<Position, WaitError> {
        self.wait_until(mark, target, Deadline::Never, Duration::MAX)
    }

    /// Blocks until `mark` reaches `target`, the watch is closed, or
    /// `timeout` passes. Returns the position seen.
    pub fn wait_timeout(
        &self,
        mark: Mark,
        target: Lsn,
        timeout: Duration,
    ) -> Result<Position, WaitError> {
        self.wait_until(mark, target, Deadline::after(timeout), timeout)
    }

    fn wait_until(
        &self,
        mark: Mark,
        target: Lsn,
        deadline: Deadline,
        timeout: Duration,
    ) -> Result<Position, WaitError> {
        #[cfg(loom)]
        if self.planted_lost_wakeup {
            return self.wait_racy(mark, target);
        }
        let mut state = shim::lock(&self.state);
        loop {
            if let Some(done) = Self::verdict(&state, mark, target) {
                return done;
            }
            let (next, expired) = shim::wait_until(&self.changed, state, deadline);
            state = next;
            if expired {
                return Err(WaitError::TimedOut {
                    mark,
                    target,
                    seen: state.get(mark),
                    timeout,
                });
            }
        }
    }

    /// The answer to a wait in this state, or `None` to keep waiting.
    fn verdict(state: &State, mark: Mark, target: Lsn) -> Option<Result<Position, WaitError>> {
        let seen = state.get(mark);
        if seen.lsn >= target {
            return Some(Ok(seen));
        }
        state.closed.map(|reason| {
            Err(WaitError::Closed {
                reason,
                mark,
                target,
                seen,
            })
        })
    }

    /// The planted bug: checks under one lock acquisition and waits under
    /// another, so a publish (and its notification) in the gap is lost.
    #[cfg(loom)]
    fn wait_racy(&self, mark: Mark, target: Lsn) -> Result<Position, WaitError> {
        loop {
            if let Some(done) = Self::verdict(&shim::lock(&self.state), mark, target) {
                return done;
            }
            let state = shim::lock(&self.state);
            drop(shim::wait(&self.changed, state));
        }
    }
}

#[cfg(all(test, not(loom)))]
#[path = "watch_tests.rs"]
mod tests;
