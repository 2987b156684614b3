//! `steadfast-driver`: the few concurrent pieces a server needs around the sans-io core.
//!
//! The core ([`steadfast`]) never touches a thread. A server that embeds it has
//! several: client handlers that block until their write is committed (or
//! until a follower has applied a session token's position), and one
//! *driver* thread that feeds the replica its inputs and performs its
//! outputs. This crate is the hand-off between them:
//!
//! - [`PositionWatch`]: the driver publishes how far the log is committed and
//!   applied; any number of threads block until an [`Lsn`](steadfast::Lsn) is
//!   reached, a timeout passes, or the watch is closed.
//! - [`Tickets`]: a proposer registers a [`RequestId`] and gets a [`Ticket`];
//!   the driver completes it exactly once with an [`Outcome`]; closing fails
//!   every outstanding ticket.
//! - [`Driver`]: owns the [`Replica`](steadfast::Replica) behind one lock,
//!   serialises inputs from many threads, hands proposers a [`Ticket`], and
//!   pumps the outputs to the host in order while completing tickets and
//!   publishing progress itself.
//!
//! All are std-only and checked with loom:
//! see `src/loom_models.rs` and `scripts/loom.sh`.
//!
//! ```
//! use std::{sync::Arc, thread};
//! use steadfast_driver::{Mark, Outcome, PositionWatch, RequestId, Tickets};
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
//! # The driver
//!
//! [`Driver`] composes the pieces around one [`Replica`](steadfast::Replica):
//!
//! ```text
//! struct Driver {
//!     core: shim::Mutex<Core>,   // the replica, its queued outputs, open proposals
//!     work: shim::Condvar,       // "outputs are queued", for the pumping thread
//!     pumping: shim::Mutex<()>,  // one pump at a time, so outputs stay in order
//!     watch: PositionWatch,      // committed / applied, for readers
//!     tickets: Tickets,          // one per open proposal
//! }
//! // client thread:  driver.propose(now, id, command)?.wait()
//! //                   = tickets.register(id); lock core; replica.propose(..)
//! // any thread:     driver.handle_message / handle_timeout / handle_persisted
//! // driver thread:  driver.wait_for_outputs(); driver.pump(|output| perform(output))
//! //                   commit point        -> watch.publish_committed(p)   (before the batch)
//! //                   Apply performed     -> watch.publish_applied(last)  (after the sink)
//! //                   Reply performed     -> tickets.complete(id, outcome)
//! //                   LeadershipLost      -> ticket stays open, in doubt, until its lsn
//! //                                          is applied here: Committed if its entry,
//! //                                          Failed(Truncated{..}) if another entry
//! //                   InstallSnapshot     -> in-doubt tickets at or below it: Committed,
//! //                                          Failed(Truncated) or Failed(Superseded)
//! //                   shutdown()          -> tickets.close(ShutDown), watch.close(ShutDown)
//! ```
//!
//! A step-down is not a shutdown: the driver closes nothing when the node
//! loses leadership (see [`Driver`] for what waiters see).
//!
//! Two rules make that composition safe; the loom models
//! `driver_proposals_commit_exactly_once` and `driver_shutdown_races_a_proposal`
//! check them on the real `Driver` and `Replica` (and
//! `driver_snapshot_settles_a_ticket_in_doubt` that a snapshot install wakes
//! a client in doubt and a reader of the applied mark):
//!
//! 1. **Register before proposing.** A ticket registered after the proposal
//!    reached the core could be completed before it exists; the completion
//!    would then report [`CompleteError::NotOutstanding`] and the client
//!    would wait for nothing.
//! 2. **Lock order.** pump lock, then replica lock, then the locks inside
//!    [`PositionWatch`] and [`Tickets`]. The reverse cannot happen because no
//!    method of theirs calls out (no callbacks) while holding its own lock.
//!    Their internal locks are leaves: `Tickets` takes its registry lock and
//!    then, after releasing it, one ticket's lock.
//!
//! Every primitive comes from the private `shim` module, so the driver's
//! locks are loom-checked along with everything here.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod driver;
mod shim;
mod tickets;
mod watch;

#[cfg(test)]
mod driver_fixtures;
#[cfg(all(test, loom))]
mod driver_loom_models;
#[cfg(all(test, loom))]
mod loom_models;

pub use driver::{Driver, ProposeRefused};
pub use tickets::{CompleteError, Failure, Outcome, RegisterError, RequestId, Ticket, Tickets};
pub use watch::{Mark, PositionWatch, PublishError, WaitError};

use std::fmt;
use steadfast::Epoch;

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
