//! The one place that chooses between `std::sync` and `loom::sync`.
//!
//! Every other file in [`crate`] imports its primitives from here,
//! never from `std::sync` directly, so that building with
//! `RUSTFLAGS="--cfg loom"` swaps *all* of them for loom's instrumented
//! versions at once (the same arrangement tokio uses). A stray
//! `std::sync::Mutex` elsewhere would be invisible to loom and would make its
//! verdicts meaningless.

// The façade re-exports a little more than the pieces themselves use
// (atomics, `Arc`), so that the tests and loom models take them from here too.
#![allow(unused_imports)]

#[cfg(loom)]
pub(crate) use loom::sync::{atomic, Arc, Condvar, Mutex, MutexGuard};

#[cfg(not(loom))]
pub(crate) use std::sync::{atomic, Arc, Condvar, Mutex, MutexGuard};

use std::sync::PoisonError;

/// Locks `mutex`, recovering the guard if a previous holder panicked.
///
/// Recovering is sound for the types in this module because none of their
/// critical sections can panic between two writes that must go together:
/// each section checks first and then mutates with plain assignments or a
/// single map operation. Poisoning would only turn one failed thread into
/// every waiter failing too.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Blocks on `condvar` until notified, re-acquiring `guard` (poison recovered
/// as in [`lock`]). Callers must re-check their condition: wake-ups may be
/// spurious.
pub(crate) fn wait<'a, T>(condvar: &Condvar, guard: MutexGuard<'a, T>) -> MutexGuard<'a, T> {
    condvar.wait(guard).unwrap_or_else(PoisonError::into_inner)
}

/// When a blocking call gives up. Read from the host's monotonic clock;
/// that is allowed here because this module is host-side code, not the
/// sans-io core.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Deadline {
    /// Wait as long as it takes (the only mode loom can model).
    Never,
    /// Give up at this instant.
    At(std::time::Instant),
}

impl Deadline {
    /// The deadline `timeout` from now; a timeout too large to represent
    /// means [`Deadline::Never`].
    pub(crate) fn after(timeout: std::time::Duration) -> Deadline {
        std::time::Instant::now()
            .checked_add(timeout)
            .map_or(Deadline::Never, Deadline::At)
    }
}

/// Blocks on `condvar` once, re-acquiring `guard`, unless `deadline` has
/// already passed. Returns the guard and whether the deadline had passed
/// (in which case no wait happened). Callers loop and re-check their
/// condition. Under loom only [`Deadline::Never`] may be used: loom does not
/// model time, and reading the real clock would make executions differ.
pub(crate) fn wait_until<'a, T>(
    condvar: &Condvar,
    guard: MutexGuard<'a, T>,
    deadline: Deadline,
) -> (MutexGuard<'a, T>, bool) {
    match deadline {
        Deadline::Never => (wait(condvar, guard), false),
        Deadline::At(at) => {
            let now = std::time::Instant::now();
            if now >= at {
                return (guard, true);
            }
            let guard = match condvar.wait_timeout(guard, at - now) {
                Ok((guard, _)) => guard,
                Err(poisoned) => poisoned.into_inner().0,
            };
            (guard, false)
        }
    }
}
