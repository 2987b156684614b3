//! Conformance: the real `Replica`, driven by the deterministic simulation
//! harness, takes only steps of the verified model.
//!
//! - [`state`]: the model's state as finite sets ([`AbstractState`]) and the
//!   abstraction function from a concrete cluster ([`observe`]);
//! - [`transition`]: the model's transitions as executable guards and
//!   effects, cited against `proofs/src/protocol.rs`, and [`allowed`];
//! - [`sent`]: the senders' history behind the weaker "as sent" reading of
//!   the guards that read another node's state;
//! - [`check`]: explaining one concrete step as a bounded sequence of model
//!   transitions ([`Conformance::check_step`]);
//! - [`theorems`]: the three theorems evaluated on every abstract state
//!   reached;
//! - [`replay`](fn@replay): many seeded simulation runs, every step checked;
//! - [`traces`]: recorded runs of the reference server (its `--trace-dir`
//!   traces), every voter's step checked; [`trace_views`] is their
//!   abstraction function.
//!
//! What this does and does not establish is stated in `proofs/model.md`
//! ("Conformance").

pub mod check;
pub mod replay;
pub mod sent;
pub mod state;
pub mod theorems;
pub mod trace_views;
pub mod traces;
pub mod transition;

pub use check::{Conformance, Explanation, Rejection};
pub use replay::{replay, Finding, Report, Scenario};
pub use sent::{Reading, Sent};
pub use state::{observe, AbstractState, NodeView, Observation, Quorums};
pub use traces::{
    check_trace_dir, check_trace_dir_within, check_trace_files, check_traces, check_traces_within,
    TraceCheckError, TraceFinding, TraceReport, Verdict,
};
pub use transition::{allowed, GuardFailure, Transition};

#[cfg(test)]
mod tests;
