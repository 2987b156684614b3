//! The few concurrent pieces a server needs around the sans-io core.
//!
//! The core ([`crate`]) never touches a thread. A server that embeds it has
//! several: client handlers that block until their write is committed (or
//! until a follower has applied a session token's position), and one
//! *driver* thread that feeds the replica its inputs and performs its
//! outputs. This module is the hand-off between them:
//!
//! - [`PositionWatch`]: the driver publishes how far the log is committed and
//!   applied; any number of threads block until an [`Lsn`](crate::Lsn) is
//!   reached, a timeout passes, or the watch is closed.
//! - [`Tickets`]: a proposer registers a [`RequestId`] and gets a [`Ticket`];
//!   the driver completes it exactly once with an [`Outcome`]; closing fails
//!   every outstanding ticket.
//!
//! Both are std-only (feature `sync`, on by default) and checked with loom:
//! see `src/sync/loom_models.rs` and `scripts/loom.sh`.
//!
//! ```
//! use std::{sync::Arc, thread};
//! use steadfast::sync::{Mark, Outcome, PositionWatch, RequestId, Tickets};
//! use steadfast::{Epoch, Lsn, Position};
//!
//! let (watch, tickets) = (Arc::new(PositionWatch::new()), Arc::new(Tickets::new()));
//! // A client thread registers its request, (proposes it,) and waits.
//! let ticket = tickets.register(RequestId(7)).unwrap();
//! let client = {
//!     let watch = Arc::clone(&watch);
//!     thread::spawn(move || {
//!         let Outcome::Committed(at) = ticket.wait() else { panic!("not committed") };
//!         // Read-your-writes: wait until the write is applied before reading.
//!         watch.wait(Mark::Applied, at.lsn).unwrap()
//!     })
//! };
//! // The driver thread learns from the core that the write committed at (e1, 1).
//! let at = Position::new(Epoch(1), Lsn(1));
//! watch.publish_committed(at).unwrap();
//! tickets.complete(RequestId(7), Outcome::Committed(at)).unwrap();
//! watch.publish_applied(at).unwrap();
//! assert_eq!(client.join().unwrap(), at);
//! ```
//!
//! # Where the driver goes
//!
//! The `Driver` that will own the replica is not built yet; it will live in
//! this module (`driver.rs`) and compose the pieces like this:
//!
//! ```text
//! struct Driver {
//!     replica: shim::Mutex<Replica>,   // the sans-io core, behind one lock
//!     watch: PositionWatch,            // committed / applied, for readers
//!     tickets: Tickets,                // one per in-flight proposal
//! }
//! // client thread:  let t = tickets.register(id)?;  replica.lock().propose(now, id, ..);  t.wait()
//! // driver thread:  lock replica, drain poll_output(); for each output:
//! //                 commit advanced  -> watch.publish_committed(p)
//! //                 entry applied    -> watch.publish_applied(p)
//! //                 reply to id      -> tickets.complete(id, outcome)
//! //                 truncated ids    -> tickets.complete(id, Outcome::Failed(Failure::Truncated{..}))
//! //                 stepped down     -> tickets.close(CloseReason::SteppedDown{..})
//! ```
//!
//! Two rules make that composition safe, and the loom model
//! `proposing_and_publishing_do_not_deadlock` checks them with a stand-in
//! for the replica:
//!
//! 1. **Register before proposing.** A ticket registered after the proposal
//!    reached the core could be completed before it exists; the completion
//!    would then report [`CompleteError::NotOutstanding`] and the client
//!    would wait for nothing.
//! 2. **Lock order.** The replica lock may be held while calling
//!    [`PositionWatch`] or [`Tickets`]; the reverse cannot happen because no
//!    method of theirs calls out (no callbacks) while holding its own lock.
//!    Their internal locks are leaves: `Tickets` takes its registry lock and
//!    then, after releasing it, one ticket's lock.
//!
//! Every primitive comes from the private `shim` module, so the driver's replica lock will be
//! loom-checked along with everything here.

mod shim;
mod tickets;
mod watch;

#[cfg(all(test, loom))]
mod loom_models;

pub use tickets::{CompleteError, Failure, Outcome, RegisterError, RequestId, Ticket, Tickets};
pub use watch::{Mark, PositionWatch, PublishError, WaitError};

use crate::Epoch;
use std::fmt;

/// Why a [`PositionWatch`] or [`Tickets`] was closed. Closing is final: a
/// host that keeps running makes new ones (for example when the node becomes
/// leader again).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CloseReason {
    /// The node stopped being leader because it saw (or started) `epoch`.
    /// Writes it had not yet committed may still commit under the new leader,
    /// or may be truncated: their outcome is unknown here.
    SteppedDown {
        /// The newer epoch that superseded this node's leadership.
        epoch: Epoch,
    },
    /// The node is shutting down.
    ShutDown,
}

impl fmt::Display for CloseReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CloseReason::SteppedDown { epoch } => {
                write!(f, "the node stepped down (superseded by epoch {epoch})")
            }
            CloseReason::ShutDown => write!(f, "the node shut down"),
        }
    }
}
