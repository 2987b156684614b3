//! # steadfast-models
//!
//! Stateright models that drive the real [`steadfast`] core, a deterministic
//! cluster simulator, and the `steadfast` command-line tool that runs them.
#![warn(missing_docs)]

pub mod suite;
