//! # steadfast-sim
//!
//! Everything that drives the [`steadfast`] core without a real disk or
//! network, for tests, the simulator, the models and the fuzz targets:
//!
//! - [`harness`]: the reference host and the deterministic in-memory
//!   cluster: real [`steadfast::Replica`]s, a seeded faulty network, hosts
//!   that perform every output as the contract says, crash-restart from
//!   durable state, and the safety checks evaluated after every step.
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
pub mod transcript;
