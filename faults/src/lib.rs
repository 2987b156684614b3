//! Fault testing of `steadfast-server` the way Jepsen tests databases.
//!
//! Real server processes on loopback ([`cluster`]), each with its own data
//! directory, every peer link through a frame-aware fault-injecting
//! [`proxy`], run under a seeded [`schedule`] of faults ([`nemesis`]:
//! `kill -9`, `SIGSTOP` pauses, partitions, torn WAL tails ([`torn`]),
//! runtime clock skew, leadership transfers, membership changes) while
//! concurrent clients ([`workload`]) record every operation they invoke
//! and how it ended ([`history`], ended as [`classify`] says). After the
//! run the history is checked ([`check`]): per-key registers for
//! linearizability, a grow-only set for lost writes, and session reads for
//! read-your-writes and monotonic reads; every node's recording of its
//! calls into its replica is replayed and the run checked against the
//! verified model ([`traces`]); the [`report`] goes to the output
//! directory.
//!
//! ```no_run
//! use clap::Parser;
//! use steadfast_faults::settings::Settings;
//!
//! #[derive(Parser)]
//! struct Cli {
//!     #[command(flatten)]
//!     settings: Settings,
//! }
//!
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! let cli = Cli::parse_from(["faults", "--profile", "short", "--durability", "async"]);
//! let checked = cli.settings.check()?;
//! let exe = std::env::current_exe()?; // a binary that handles `serve`
//! let finished = steadfast_faults::run::run(&checked, &exe).await?;
//! println!("{} lost acked writes", finished.figures.lost_acked_writes);
//! # Ok(())
//! # }
//! ```

#![forbid(unsafe_code)]

pub mod check;
pub mod classify;
pub mod cluster;
pub mod history;
pub mod nemesis;
pub mod proxy;
pub mod report;
pub mod run;
pub mod schedule;
pub mod settings;
pub mod torn;
pub mod traces;
pub mod workload;
