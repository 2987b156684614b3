//! Trace validation after a run: every node recorded its calls into its
//! replica (`--trace-dir`); each recording is replayed through a fresh
//! replica, which must reproduce every output, and the run's recorded
//! steps, merged in causal order, are checked against the verified model
//! by the proofs' conformance checker.
//!
//! Under a policy that does not wait for a majority (`async`, a small
//! `semisync`) the model's theorems do not hold, and the check finds the
//! anomaly on the recorded run too (e.g. `LeaderCompleteness`: a new leader
//! lacks an entry the old one committed): that is reported as
//! `theorem-fails` and fails only a run whose policy promises them.
//!
//! The conformance check goes as far as the model does: it stops, saying
//! where and why, at a step the model has no transition for (a membership
//! change, a snapshot sent by a leader) or one that follows steps a killed
//! process never flushed. The steps before it are checked.

use serde::Serialize;
use std::path::Path;
use steadfast_proofs::conformance::{check_trace_dir_within, Rejection, Verdict};
use steadfast_server::trace::{replay, trace_files};

/// What trace validation found.
#[derive(Clone, Debug, Default, Serialize)]
pub struct TraceFigures {
    /// Trace files (node incarnations) recorded.
    pub files: usize,
    /// Inputs replayed identically, over every file.
    pub steps_replayed: usize,
    /// Outputs compared, over every file.
    pub outputs_compared: usize,
    /// Replays that did not reproduce their recording (each a sentence).
    pub divergences: Vec<String>,
    /// The conformance verdict: `conforms`, `rejected` (a step the model
    /// does not allow), `theorem-fails` (allowed steps, but a theorem fails:
    /// the anomaly a policy without a majority allows), `diverged`,
    /// `stopped` (beyond the model's reach, see the module docs) or
    /// `error`.
    pub conformance: String,
    /// Whether the run's policy promises the model's theorems.
    pub theorems_promised: bool,
    /// Steps of the merged run.
    pub conformance_steps: usize,
    /// Voters' steps the model explained.
    pub conformance_checked: usize,
    /// The conformance checker's report.
    pub conformance_report: String,
}

impl TraceFigures {
    /// Whether anything was found wrong (stopping beyond the model's
    /// reach is not).
    pub fn failed(&self) -> bool {
        !self.divergences.is_empty()
            || matches!(self.conformance.as_str(), "rejected" | "diverged")
            || (self.theorems_promised && self.conformance == "theorem-fails")
    }
}

/// Replay and check the traces in `dir`, recorded under a policy that
/// promises the model's theorems or not; the conformance check covers the
/// first `conformance_steps` steps of the run.
pub fn validate(dir: &Path, theorems_promised: bool, conformance_steps: usize) -> TraceFigures {
    let mut figures = TraceFigures {
        theorems_promised,
        ..TraceFigures::default()
    };
    let files = match trace_files(dir) {
        Ok(files) => files,
        Err(e) => {
            figures.conformance = "error".into();
            figures.conformance_report = e.to_string();
            return figures;
        }
    };
    figures.files = files.len();
    for file in &files {
        match replay(file) {
            Ok(report) => {
                figures.steps_replayed += report.steps;
                figures.outputs_compared += report.outputs;
            }
            Err(e) => figures.divergences.push(e.to_string()),
        }
    }
    match check_trace_dir_within(dir, conformance_steps) {
        Ok(report) => {
            figures.conformance = match &report.verdict {
                Verdict::Conforms => "conforms",
                Verdict::Rejected(finding)
                    if matches!(finding.rejection, Rejection::Theorem(_)) =>
                {
                    "theorem-fails"
                }
                Verdict::Rejected(_) => "rejected",
                Verdict::Diverged(_) => "diverged",
                Verdict::Incomplete { .. } => "stopped",
            }
            .into();
            figures.conformance_steps = report.steps;
            figures.conformance_checked = report.checked;
            figures.conformance_report = report.to_string();
        }
        Err(e) => {
            figures.conformance = "error".into();
            figures.conformance_report = e.to_string();
        }
    }
    figures
}
