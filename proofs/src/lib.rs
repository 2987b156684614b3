//! # steadfast-proofs
//!
//! Machine-checked proofs of steadfast's core invariants, and the
//! conformance check that ties them to the real code.
#![warn(missing_docs)]

pub mod quorum;
