//! # steadfast
//!
//! A sans-io core for leader-based replication: leaders, followers,
//! synchronous / semi-synchronous / asynchronous acknowledgement, failover
//! with fencing, and the replication-log formats, as pure state machines.
//! The core never touches a socket, a file, a thread or a clock: time and a
//! seed come in, messages and effects come out.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod formats;
pub mod types;

pub use types::{Epoch, Instant, Lsn, NodeId, Position};
