//! Trace validation after a run: every node recorded its calls into its
//! replica (`--trace-dir`); each recording is replayed through a fresh
//! replica, which must reproduce every output, and the run's recorded
//! steps, merged in causal order, are checked against the verified model
//! by the proofs' conformance checker.
//!
//! The conformance check goes as far as the model does: it stops, saying
//! where and why, at a step the model has no transition for (a membership
//! change, a snapshot sent by a leader) or one that follows steps a killed
//! process never flushed. The steps before it are checked.

use serde::Serialize;
use std::path::Path;
use steadfast_proofs::conformance::{check_trace_dir, Verdict};
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
    /// The conformance verdict: `conforms`, `rejected`, `diverged`,
    /// `stopped` (beyond the model's reach, see the module docs) or
    /// `error`.
    pub conformance: String,
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
        !self.divergences.is_empty() || matches!(self.conformance.as_str(), "rejected" | "diverged")
    }
}

/// Replay and check the traces in `dir`.
pub fn validate(dir: &Path) -> TraceFigures {
    let mut figures = TraceFigures::default();
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
    match check_trace_dir(dir) {
        Ok(report) => {
            figures.conformance = match report.verdict {
                Verdict::Conforms => "conforms",
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
