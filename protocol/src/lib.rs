//! # steadfast
//!
//! A sans-io core for leader-based replication: leaders, followers,
//! synchronous / semi-synchronous / asynchronous acknowledgement, failover
//! with fencing, and the replication-log formats, as pure state machines.
//! The core never touches a socket, a file, a thread or a clock: time and a
//! seed come in, messages and effects come out.
//!
//! The heart is [`Replica`]; its documentation states the contract a host
//! follows. A three-node cluster committing one write, with the host's
//! network and disk played by a loop:
//!
//! ```
//! use steadfast::{Config, Instant, NodeId, Output, ProposalOutcome, Replica, RequestId};
//! use std::collections::VecDeque;
//!
//! let ids = [NodeId(1), NodeId(2), NodeId(3)];
//! let mut nodes: Vec<Replica> = ids
//!     .iter()
//!     .map(|&id| Replica::new(Config::new(id, ids).with_seed(7), Instant(0)).unwrap())
//!     .collect();
//! let mut network = VecDeque::new();
//! let mut committed = None;
//! let mut now = Instant(0);
//! for step in 0..2_000 {
//!     // Fire due timers, once a millisecond of simulated time.
//!     now = Instant(step);
//!     for node in nodes.iter_mut() {
//!         if node.poll_timeout().is_some_and(|t| t <= now) {
//!             node.handle_timeout(now);
//!         }
//!     }
//!     // Deliver one message.
//!     if let Some((from, to, msg)) = network.pop_front() {
//!         let node: &mut Replica = &mut nodes[(to as usize) - 1];
//!         node.handle_message(now, NodeId(from), msg).unwrap();
//!     }
//!     // The leader takes one write.
//!     if let Some(leader) = nodes.iter_mut().find(|n| n.role() == steadfast::Role::Leader) {
//!         if committed.is_none() && leader.commit().0 >= 1 {
//!             let _ = leader.propose(now, RequestId(1), b"x = 1".to_vec());
//!             committed = Some(false);
//!         }
//!     }
//!     // Perform every output: "persist" instantly, send, record replies.
//!     for node in nodes.iter_mut() {
//!         while let Some(out) = node.poll_output() {
//!             match out {
//!                 Output::Send { to, message } => network.push_back((node.id().0, to.0, message)),
//!                 Output::Append { entries } => {
//!                     let last = entries.last().unwrap().position();
//!                     node.handle_persisted(now, last);
//!                 }
//!                 Output::Reply { outcome, .. } => {
//!                     if let ProposalOutcome::Committed(_) = outcome {
//!                         committed = Some(true)
//!                     }
//!                 }
//!                 // A real host stores the hard state and the log, applies
//!                 // entries to its state machine and serves snapshots. List
//!                 // every output (no `_ =>`): a new kind of output is then a
//!                 // compile error wherever outputs are performed.
//!                 Output::PersistHardState(_)
//!                 | Output::Truncated { .. }
//!                 | Output::RolledBack { .. }
//!                 | Output::Apply { .. }
//!                 | Output::RoleChanged { .. }
//!                 | Output::MembershipChanged { .. }
//!                 | Output::ReadReady { .. }
//!                 | Output::ReadFailed { .. }
//!                 | Output::Compacted { .. }
//!                 | Output::ReadSnapshotChunk { .. }
//!                 | Output::ReceiveSnapshotChunk { .. }
//!                 | Output::InstallSnapshot { .. } => {}
//!             }
//!         }
//!     }
//! }
//! assert_eq!(committed, Some(true), "the write was committed by a quorum");
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod config;
pub mod describe;
pub mod durability;
pub mod entry;
pub mod membership;
#[cfg(feature = "planted-bugs")]
pub mod planted;
#[cfg(not(feature = "planted-bugs"))]
mod planted;
pub mod quorum;
pub mod rename;
pub mod replica;
pub mod rng;
pub mod session;
pub mod snapshot;
pub mod types;
pub mod wire;

/// The shared byte buffer command payloads travel in (re-exported so hosts
/// need not depend on `bytes` themselves).
pub use bytes::Bytes;
pub use config::{Config, ConfigError};
pub use durability::{Durability, ElectionQuorum};
pub use entry::{Entry, EntryKind, HardState, RequestId};
pub use membership::{Membership, MembershipChange, MembershipError};
pub use rename::RenameNodes;
pub use replica::{
    Durable, InputError, MembershipSource, Output, ProposalOutcome, ProposeError, ReadError,
    ReadId, Replica, RestartError, Role, Violation,
};
pub use session::{ReadDecision, ReadRejection, SessionToken};
pub use snapshot::{SnapshotError, SnapshotMeta};
pub use types::{Epoch, Instant, Lsn, NodeId, Position};
pub use wire::{Envelope, Message};
