//! # steadfast-proofs
//!
//! Machine-checked proofs of steadfast's core invariants.
//!
//! The protocol is described abstractly, in first-order logic over
//! uninterpreted sorts (nodes, epochs, lsns, quorums), in the style of Ivy
//! and mypyvy: [`signature`] fixes the sorts, orders and quorum axioms,
//! [`state`] the state relations, [`protocol`] the initial condition and the
//! transitions, and [`invariants`] the inductive invariants. [`induction`]
//! asks Z3 to prove `Init ⇒ Inv` and `Inv ∧ Step ⇒ Inv′` for every step.
//! The written proofs are in `proofs/*.md`; the tests in `proofs/tests/` are
//! the machine checks they cite.
//!
//! ```
//! use steadfast_proofs::induction::{check_inductive, Variant};
//! use steadfast_proofs::invariants::ELECTION_SAFETY;
//! use steadfast_proofs::signature::QuorumSystem;
//!
//! let report = check_inductive(&Variant::of(QuorumSystem::Majority), ELECTION_SAFETY);
//! assert!(report.is_inductive(), "{report}");
//! ```
//!
//! [`conformance`] ties the model to the code: it replays seeded simulation
//! runs of the real `steadfast::Replica` and checks that every concrete step
//! is a bounded sequence of the model's transitions (see `proofs/model.md`,
//! "Conformance", for what that does and does not establish).
#![warn(missing_docs)]

pub mod conformance;
pub mod induction;
pub mod invariants;
pub mod logic;
pub mod protocol;
pub mod quorum;
pub mod signature;
pub mod state;
