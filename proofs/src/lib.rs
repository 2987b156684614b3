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
//! The abstract model is not yet tied to the `steadfast` code: nothing here
//! shows that the real replica refines these transitions.
#![warn(missing_docs)]

pub mod induction;
pub mod invariants;
pub mod logic;
pub mod protocol;
pub mod quorum;
pub mod signature;
pub mod state;
