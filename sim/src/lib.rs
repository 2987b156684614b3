//! # steadfast-sim
//!
//! Everything that drives the [`steadfast`] core without a real disk or
//! network, for tests, the simulator, the models and the fuzz targets:
//!
//! - [`host`]: the reference host, [`host::MemStorage`]: it performs the
//!   storage side of every output as the contract says and refuses, with a
//!   typed error, what a correct core never asks. Everything below performs
//!   outputs through it.
//! - [`harness`]: the deterministic simulator: real
//!   [`steadfast::Replica`]s on reference hosts, a seeded faulty network,
//!   crash-restart from durable state, and the safety checks (the
//!   replicas' own invariants among them) evaluated after every step.
//! - [`builders`]: small builders of protocol values for tests.
//! - [`fuzzing`]: the property checks behind every cargo-fuzz target (each
//!   decoder, the cluster and the snapshot transfer), shared with the
//!   corpus replay test so `cargo test` runs every committed input.
//! - [`transcript`]: the runner behind the etcd-style transcript tests
//!   (`sim/testdata/*.txt`): real replicas stepped by hand, every message
//!   and output printed.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod builders;
pub mod fuzzing;
pub mod harness;
pub mod host;
pub mod liveness;
pub mod transcript;
