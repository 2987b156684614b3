//! # steadfast-proofs
//!
//! Machine-checked proofs of steadfast's core invariants, in two parts: the
//! Z3 proofs (behind the `z3` feature, off by default) and the conformance
//! check (always built).
//!
//! ## The Z3 proofs (feature `z3`)
//!
//! The protocol is described abstractly, in first-order logic over
//! uninterpreted sorts (nodes, epochs, lsns, quorums), in the style of Ivy
//! and mypyvy: `signature` fixes the sorts, orders and quorum axioms,
//! `state` the state relations, [`protocol`] the initial condition and the
//! transitions, and `invariants` the inductive invariants. `induction`
//! asks Z3 to prove `Init ⇒ Inv` and `Inv ∧ Step ⇒ Inv′` for every step
//! (`logic` is the thin first-order layer over the `z3` crate).
//! The written proofs are in `proofs/*.md`; the tests
//! `proofs/tests/{election_safety,leader_completeness,log_matching}.rs` are
//! the machine checks they cite.
//!
//! These modules (and `protocol::Protocol`, the transition formulas) link
//! against the system Z3 library, so they are built only with the `z3`
//! feature; `libz3-dev` (Debian/Ubuntu) must be installed:
//!
//! ```text
//! sudo apt-get install libz3-dev
//! cargo test -p steadfast-proofs --features z3
//! ```
//!
//! Without the feature, cargo skips those three test targets (they declare
//! `required-features = ["z3"]`) and this example is ignored:
//!
#![cfg_attr(feature = "z3", doc = "```")]
#![cfg_attr(not(feature = "z3"), doc = "```ignore")]
//! use steadfast_proofs::induction::{check_inductive, Variant};
//! use steadfast_proofs::invariants::ELECTION_SAFETY;
//! use steadfast_proofs::signature::QuorumSystem;
//!
//! let report = check_inductive(&Variant::of(QuorumSystem::Majority), ELECTION_SAFETY);
//! assert!(report.is_inductive(), "{report}");
//! ```
//!
//! ## Conformance (always built)
//!
//! [`conformance`] ties the model to the code: it replays seeded simulation
//! runs of the real `steadfast::Replica` and checks that every concrete step
//! is a bounded sequence of the model's transitions (see `proofs/model.md`,
//! "Conformance", for what that does and does not establish). It, the
//! transition names of [`protocol`] ([`protocol::Step`],
//! [`protocol::Guard`]) and the quorum enumeration of [`quorum`] need no
//! Z3: `cargo test --workspace` (and `cargo test -p steadfast-proofs`) build
//! and run them with the Rust toolchain alone.
#![warn(missing_docs)]

pub mod conformance;
#[cfg(feature = "z3")]
pub mod induction;
#[cfg(feature = "z3")]
pub mod invariants;
#[cfg(feature = "z3")]
pub mod logic;
pub mod protocol;
pub mod quorum;
#[cfg(feature = "z3")]
pub mod signature;
#[cfg(feature = "z3")]
pub mod state;
