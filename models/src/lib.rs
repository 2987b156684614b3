//! # steadfast-models
//!
//! Stateright models that drive the real [`steadfast`] core, and the
//! `steadfast` command-line tool that runs them as a suite with stated
//! expectations.
//!
//! The server actor ([`actor::Node::Server`]) is a host of a real
//! [`steadfast::Replica`]: it performs the replica's outputs in order
//! (persist, truncate, append, send, apply, reply) and rebuilds it from
//! durable state after a crash. The protocol itself is never re-implemented
//! here.
#![warn(missing_docs)]

pub mod actor;
pub mod bounds_table;
pub mod canonical;
pub mod command;
pub mod digest;
pub mod display;
pub mod explorer;
pub mod ghost;
pub mod history;
pub mod model;
pub mod overrides;
pub mod properties;
pub mod report;
pub mod runner;
pub mod server;
pub mod suite;
pub mod symmetry;
pub mod timers;
pub mod violation;
