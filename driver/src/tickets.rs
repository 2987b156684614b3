//! [`Tickets`]: one [`Ticket`] per in-flight proposal, completed exactly once
//! by the driver.

use super::shim::{self, Arc, Condvar, Deadline, Mutex};
use super::CloseReason;
use std::collections::BTreeMap;
use std::time::Duration;
use steadfast::Position;

/// The host-chosen id of a proposal (the same type [`Replica::propose`]
/// takes). It must be unique among outstanding tickets and may be reused once
/// its ticket is completed.
///
/// [`Replica::propose`]: steadfast::Replica::propose
pub use steadfast::entry::RequestId;

/// How a proposal ended, as delivered to its [`Ticket`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// The write is committed at this position: it is durable under the
    /// durability policy and may be acknowledged. The position doubles as the
    /// client's session token.
    Committed(Position),
    /// The write was not committed here; see [`Failure`] for whether it might
    /// still be.
    Failed(Failure),
}

/// Why a proposal did not commit. Some failures are definite (the write is in
/// no log and never will be); [`Failure::Abandoned`] is not.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Failure {
    /// The core refused the proposal before appending it (this node is not
    /// the leader, or was fenced). Definite: the write is in no log.
    NotLeader,
    /// The entry was appended at `position`, and after a failover another
    /// entry was committed at its lsn (applied here, or implied by an
    /// installed snapshot of a lower epoch). Definite: it will never commit.
    /// (Being discarded from this node's log alone is not definite: another
    /// replica may hold the entry and commit it under a later leader.)
    Truncated {
        /// Where the entry was before it was truncated.
        position: Position,
    },
    /// The entry was appended at `position`, left in doubt by a step-down,
    /// and then this node installed a snapshot covering `position` before
    /// learning its fate. *Decided but not known here*: if it committed it
    /// is in the snapshot, otherwise it never will commit; the host can
    /// tell by looking for the request in the snapshot's state.
    Superseded {
        /// Where the entry was before the snapshot replaced it.
        position: Position,
    },
    /// The node stopped tracking the proposal (the ticket registry was
    /// closed) before it committed. *Unknown* outcome: the entry may already
    /// be on other replicas and may still commit under a new leader, so the
    /// client must not assume either way.
    Abandoned(CloseReason),
}

impl Failure {
    /// Whether the write may be committed, now or later
    /// ([`Failure::Abandoned`], [`Failure::Superseded`]): the client must
    /// not assume it failed. `false` means it definitely never will be.
    pub fn may_still_commit(&self) -> bool {
        matches!(self, Failure::Abandoned(_) | Failure::Superseded { .. })
    }
}

/// Why [`Tickets::register`] refused a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RegisterError {
    /// A ticket for this id is already outstanding.
    #[error("{0} already has an outstanding ticket (expected an id not in flight)")]
    Duplicate(RequestId),
    /// The registry is closed; propose elsewhere.
    #[error("cannot register a ticket: {0}")]
    Closed(CloseReason),
}

/// Why [`Tickets::complete`] refused to complete a ticket. Either way the
/// ticket (if any) already has, or will get, exactly one outcome.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CompleteError {
    /// No ticket for this id is outstanding: it was never registered, or it
    /// was already completed.
    #[error("{0} has no outstanding ticket (never registered, or already completed)")]
    NotOutstanding(RequestId),
    /// The registry was closed, which already failed every outstanding ticket.
    #[error("cannot complete {id}: {reason}, and its ticket was already failed")]
    Closed {
        /// The id the caller tried to complete.
        id: RequestId,
        /// Why the registry was closed.
        reason: CloseReason,
    },
}

/// The registry of in-flight proposals. A proposer [`register`](Self::register)s
/// its request id *before* handing the proposal to the core and waits on the
/// returned [`Ticket`]; the driver [`complete`](Self::complete)s the id once
/// the core reports the outcome.
///
/// Exactly once: completing removes the id from the registry under its lock,
/// and only the caller that removed it delivers the outcome, so a second
/// completion (or a completion racing [`close`](Self::close)) gets an error
/// instead of overwriting the outcome. Closing fails every outstanding
/// ticket with [`Failure::Abandoned`] and refuses later registrations, so no
/// ticket waits forever.
///
/// A ticket dropped by an impatient client stays registered until the driver
/// completes it (or the registry is closed): memory is bounded by the
/// proposals in flight.
#[derive(Debug, Default)]
pub struct Tickets {
    registry: Mutex<Registry>,
}

#[derive(Debug, Default)]
struct Registry {
    /// A `BTreeMap`, not a `HashMap`: closing visits tickets in a fixed
    /// order, so loom sees the same program in every execution.
    outstanding: BTreeMap<RequestId, Arc<Slot>>,
    closed: Option<CloseReason>,
}

/// Where one ticket's outcome is delivered.
#[derive(Debug, Default)]
struct Slot {
    outcome: Mutex<Option<Outcome>>,
    done: Condvar,
}

impl Slot {
    /// Delivers `outcome`. Only the thread that removed this slot from the
    /// registry calls this, so it runs at most once per slot.
    fn deliver(&self, outcome: Outcome) {
        let mut slot = shim::lock(&self.outcome);
        debug_assert!(slot.is_none(), "a ticket was completed twice");
        slot.get_or_insert(outcome);
        self.done.notify_all();
    }
}

impl Tickets {
    /// An empty, open registry.
    pub fn new() -> Tickets {
        Tickets::default()
    }

    /// Registers `id` and returns the ticket its outcome will be delivered to.
    /// Call this before proposing to the core, so the driver cannot complete
    /// the id before it is registered.
    pub fn register(&self, id: RequestId) -> Result<Ticket, RegisterError> {
        let mut registry = shim::lock(&self.registry);
        if let Some(reason) = registry.closed {
            return Err(RegisterError::Closed(reason));
        }
        if registry.outstanding.contains_key(&id) {
            return Err(RegisterError::Duplicate(id));
        }
        let slot = Arc::new(Slot::default());
        registry.outstanding.insert(id, Arc::clone(&slot));
        Ok(Ticket { id, slot })
    }

    /// Delivers `outcome` to the ticket registered for `id`, exactly once.
    pub fn complete(&self, id: RequestId, outcome: Outcome) -> Result<(), CompleteError> {
        let slot = {
            let mut registry = shim::lock(&self.registry);
            if let Some(reason) = registry.closed {
                return Err(CompleteError::Closed { id, reason });
            }
            registry
                .outstanding
                .remove(&id)
                .ok_or(CompleteError::NotOutstanding(id))?
        };
        // The registry lock is released: the slot lock is always taken alone.
        slot.deliver(outcome);
        Ok(())
    }

    /// Closes the registry: every outstanding ticket fails with
    /// [`Failure::Abandoned`]`(reason)`, and later registrations and
    /// completions are refused. Returns how many tickets were failed (zero,
    /// keeping the first reason, if it was already closed).
    pub fn close(&self, reason: CloseReason) -> usize {
        let abandoned = {
            let mut registry = shim::lock(&self.registry);
            if registry.closed.is_some() {
                return 0;
            }
            registry.closed = Some(reason);
            std::mem::take(&mut registry.outstanding)
        };
        let failed = abandoned.len();
        for slot in abandoned.into_values() {
            slot.deliver(Outcome::Failed(Failure::Abandoned(reason)));
        }
        failed
    }

    /// Why the registry was closed, if it was.
    pub fn closed(&self) -> Option<CloseReason> {
        shim::lock(&self.registry).closed
    }

    /// How many tickets are registered and not yet completed.
    pub fn outstanding(&self) -> usize {
        shim::lock(&self.registry).outstanding.len()
    }
}

/// A claim on one proposal's [`Outcome`], returned by [`Tickets::register`].
/// The outcome arrives exactly once and then stays: waiting again returns it
/// again.
#[derive(Debug)]
pub struct Ticket {
    id: RequestId,
    slot: Arc<Slot>,
}

impl Ticket {
    /// The request this ticket is for.
    pub fn id(&self) -> RequestId {
        self.id
    }

    /// The outcome, if it has been delivered.
    pub fn outcome(&self) -> Option<Outcome> {
        *shim::lock(&self.slot.outcome)
    }

    /// Blocks until the outcome is delivered. Always returns: the driver
    /// completes every ticket, and closing the registry fails the rest.
    pub fn wait(&self) -> Outcome {
        loop {
            if let Some(outcome) = self.wait_until(Deadline::Never) {
                return outcome;
            }
        }
    }

    /// Blocks until the outcome is delivered or `timeout` passes (`None`).
    /// The ticket stays valid after a timeout.
    pub fn wait_timeout(&self, timeout: Duration) -> Option<Outcome> {
        self.wait_until(Deadline::after(timeout))
    }

    fn wait_until(&self, deadline: Deadline) -> Option<Outcome> {
        let mut slot = shim::lock(&self.slot.outcome);
        loop {
            if let Some(outcome) = *slot {
                return Some(outcome);
            }
            let (next, expired) = shim::wait_until(&self.slot.done, slot, deadline);
            slot = next;
            if expired {
                return None;
            }
        }
    }
}

#[cfg(all(test, not(loom)))]
#[path = "tickets_tests.rs"]
mod tests;
