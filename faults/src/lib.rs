//! Fault testing of `steadfast-server` the way Jepsen tests databases.
//!
//! Real server processes on loopback, each with its own data directory,
//! run under a seeded schedule of faults while concurrent clients record
//! every operation they invoke and how it ended ([`history`]). After the run
//! the history is checked ([`check`]): per-key registers for
//! linearizability, a grow-only set for lost writes, and session reads for
//! read-your-writes and monotonic reads.

#![forbid(unsafe_code)]

pub mod check;
pub mod history;
