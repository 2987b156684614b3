//! Trace validation: record every call a node makes into its [`Replica`],
//! replay it through a fresh one, and compare.
//!
//! **Recording** (`run --trace-dir DIR`, or `trace_dir` in the TOML file):
//! the node's replica is a [`TracedReplica`], which writes one file per
//! incarnation, `DIR/node-<id>-<start ns>.trace`: a [`Header`] with the
//! core's [`Config`](steadfast::Config) (seed included), the
//! [`Durable`](steadfast::Durable) state it restarted from and the `now`
//! it restarted at; then, in call order, every input with its arguments
//! (`now` included) and what it returned ([`InputRecord`]), and every
//! output the host pulled, in full ([`Polled`], with `poll_timeout` after
//! each drain). Each record carries a wall-clock stamp (nanoseconds since
//! the Unix epoch: one clock for every node on the machine). Records are
//! postcard, framed with a length and a CRC32C like the write-ahead log,
//! buffered, and flushed once per batch of work (no `fsync`). A clean stop
//! writes an end record; a `kill -9` leaves the file cut or torn, and the
//! reader says which ([`TraceEnd`]). With tracing off, each call costs one
//! branch: nothing is cloned, stamped or written.
//!
//! **Replaying** ([`replay`], `steadfast-server trace replay FILE…`):
//! [`Replayer`] rebuilds the replica from the header and feeds it every
//! recorded input; every return value, output and `poll_timeout` must be
//! the recorded one, and the first that is not is reported as a
//! [`Divergence`] (step, input, expected, got). The core reads no clock and
//! draws no randomness of its own (time is in each input, jitter comes from
//! the configured seed), so a replay is exact.
//!
//! **Ordering a run** ([`causal_order`]): the traces of every node of a run
//! merged into one order consistent with causality, for checks across
//! nodes (the conformance check of `steadfast-proofs` uses it).
//!
//! This module needs no network stack: it builds without the `server`
//! feature, for checkers that only read traces.
//!
//! [`Replica`]: steadfast::Replica

mod error;
mod format;
mod merge;
mod reader;
mod recorder;
mod replay;
mod traced;

#[cfg(test)]
mod tests;

pub use error::{TraceReadError, TraceWriteError};
pub use format::{
    wall_clock_ns, CallResult, Header, Input, InputRecord, Polled, Record, EXTENSION,
    FORMAT_VERSION,
};
pub use merge::{causal_order, CausalOrder, GlobalStep, Received, StepRef};
pub use reader::{parse_trace, read_trace, trace_files, Event, Trace, TraceEnd};
pub use recorder::{header, write_trace, Recorder};
pub use replay::{replay, replay_trace, Divergence, ReplayError, ReplayReport, Replayer, Step};
pub use traced::{StartError, TracedReplica};
