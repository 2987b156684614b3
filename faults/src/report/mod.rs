//! The report of one run, in its output directory:
//!
//! - `history.json`: every operation (see [`History`]);
//! - `result.json`: the [`Figures`], the schedule, every fault with its
//!   interval, and the checkers' [`Verdicts`] (with the minimal failing
//!   sub-histories);
//! - `summary.txt`: the human summary (also printed on stderr);
//! - `latency.svg`: latency over time per kind of operation, faults shaded;
//! - `nodes/n<ID>.log`: each server's log.

mod latency;

pub use latency::{draw as draw_latency, GraphError};

use crate::check::Verdicts;
use crate::history::{History, Outcome};
use crate::nemesis::FaultRecord;
use crate::schedule::{Fault, PartitionShape, Step};
use crate::traces::TraceFigures;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// The figures of a run: the last line the binary prints.
#[derive(Clone, Debug, Serialize)]
pub struct Figures {
    /// Operations recorded.
    pub operations: usize,
    /// Of which ended `Ok`.
    pub ok: usize,
    /// Of which ended `Fail`.
    pub failed: usize,
    /// Of which ended `Unknown`.
    pub unknown: usize,
    /// Faults injected (steps not skipped).
    pub faults: usize,
    /// `kill -9` of the leader.
    pub leader_kills: usize,
    /// `kill -9` of a follower.
    pub follower_kills: usize,
    /// `SIGSTOP`/`SIGCONT` pauses.
    pub pauses: usize,
    /// Partitions (every shape, and the isolations of targeted faults).
    pub partitions: usize,
    /// Slow links (frames delayed both ways between two nodes).
    pub slow_links: usize,
    /// WAL tails torn.
    pub torn_tails: usize,
    /// Of which the restarted node reported cutting.
    pub torn_tails_reported: usize,
    /// Leadership transfers asked.
    pub transfers: usize,
    /// Membership changes (a voter added and one removed).
    pub membership_changes: usize,
    /// Runtime clock shifts (within the bound).
    pub clock_skews: usize,
    /// Steps after which the cluster did not recover in time.
    pub not_recovered: usize,
    /// Acknowledged writes found lost.
    pub lost_acked_writes: usize,
    /// Of which only a lease read shows lost (a stale read under skew
    /// rather than a lost write).
    pub lost_shown_by_lease_reads: usize,
    /// Every register history is linearizable.
    pub linearizable: bool,
    /// Read-your-writes and monotonic reads held in every session.
    pub session_guarantees: bool,
    /// Wall time of the run.
    pub seconds: f64,
    /// The durability policy.
    pub durability: String,
    /// The election quorum.
    pub election_quorum: String,
    /// Voters.
    pub nodes: u64,
    /// The lease drift bound, if lease reads were on.
    pub lease_max_drift_ms: Option<u64>,
    /// Whether the stale-lease step ran the old leader's clock slow past
    /// the bound.
    pub skew: bool,
    /// The profile.
    pub profile: String,
    /// The seed of the schedule.
    pub seed: u64,
    /// Whether the configuration promises no lost acked write, a
    /// linearizable history and the session guarantees.
    pub promised: bool,
    /// Inputs replayed identically from the nodes' traces (0 without
    /// `--trace`).
    pub trace_steps_replayed: usize,
    /// Traces whose replay did not reproduce the recording.
    pub trace_divergences: usize,
    /// The conformance verdict of the recorded run (`conforms`,
    /// `rejected`, `diverged`, `stopped` past the model's reach, `error`),
    /// `off` without `--trace`.
    pub conformance: String,
    /// Recorded voter steps the verified model explained.
    pub conformance_checked: usize,
    /// `pass`, or what went wrong.
    pub verdict: String,
    /// The output directory.
    pub report: String,
}

/// Everything `result.json` holds.
#[derive(Debug, Serialize)]
pub struct RunResult<'a> {
    /// The figures.
    pub figures: &'a Figures,
    /// The schedule as generated.
    pub schedule: &'a [Step],
    /// The faults as they happened.
    pub faults: &'a [FaultRecord],
    /// What the checkers found.
    pub verdicts: &'a Verdicts,
    /// The final read of the whole set, after the cluster healed.
    pub final_set: Option<&'a [u64]>,
    /// Trace validation, if the nodes recorded traces.
    pub traces: Option<&'a TraceFigures>,
}

/// A report file that could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// A file could not be written.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// JSON could not be made.
    #[error("cannot encode {what}: {source}")]
    Json {
        /// What.
        what: &'static str,
        /// Why.
        source: serde_json::Error,
    },
    /// The graph could not be drawn.
    #[error("{0}")]
    Graph(#[from] GraphError),
}

/// Count the faults of each kind.
pub fn count_faults(faults: &[FaultRecord], figures: &mut Figures) {
    for record in faults.iter().filter(|f| f.skipped.is_none()) {
        figures.faults += 1;
        match record.fault {
            Fault::KillLeader { .. } => figures.leader_kills += 1,
            Fault::KillFollower { .. } => figures.follower_kills += 1,
            Fault::Pause { .. } => figures.pauses += 1,
            Fault::Partition {
                shape: PartitionShape::Slow { .. },
            } => figures.slow_links += 1,
            Fault::Partition { .. }
            | Fault::IsolateLeaderAndWrite { .. }
            | Fault::StaleLeaseRead => figures.partitions += 1,
            Fault::Transfer { .. } => figures.transfers += 1,
            Fault::Membership { .. } => figures.membership_changes += 1,
            Fault::ClockSkew { .. } => figures.clock_skews += 1,
        }
        if record.torn.is_some() {
            figures.torn_tails += 1;
        }
        if record.torn_reported == Some(true) {
            figures.torn_tails_reported += 1;
        }
        if !record.recovered {
            figures.not_recovered += 1;
        }
    }
}

/// Count the operations by outcome.
pub fn count_outcomes(history: &History, figures: &mut Figures) {
    figures.operations = history.operations.len();
    for op in &history.operations {
        match op.outcome {
            Outcome::Ok(_) => figures.ok += 1,
            Outcome::Fail { .. } => figures.failed += 1,
            Outcome::Unknown { .. } => figures.unknown += 1,
        }
    }
}

/// The human summary.
pub fn summary(result: &RunResult<'_>) -> String {
    let f = result.figures;
    let mut text = format!(
        "steadfast-faults: {} profile, {} nodes, durability {}, elections {}{}, seed {}\n",
        f.profile,
        f.nodes,
        f.durability,
        f.election_quorum,
        match (f.lease_max_drift_ms, f.skew) {
            (Some(ms), true) => format!(", lease reads (drift bound {ms} ms) with skew past it"),
            (Some(ms), false) => format!(", lease reads (drift bound {ms} ms)"),
            (None, _) => String::new(),
        },
        f.seed
    );
    text.push_str(&format!(
        "{} operations in {:.1} s: {} ok, {} failed, {} unknown\n",
        f.operations, f.seconds, f.ok, f.failed, f.unknown
    ));
    text.push_str(&format!(
        "{} faults: {} leader kills, {} follower kills, {} pauses, {} partitions, {} slow links, {} torn tails ({} reported by the node), {} transfers, {} membership changes, {} clock skews; {} without recovery in time\n",
        f.faults, f.leader_kills, f.follower_kills, f.pauses, f.partitions, f.slow_links, f.torn_tails,
        f.torn_tails_reported, f.transfers, f.membership_changes, f.clock_skews, f.not_recovered
    ));
    for record in result.faults {
        let state = match &record.skipped {
            Some(why) => format!("skipped: {why}"),
            None if record.recovered => "recovered".to_owned(),
            None => "NOT recovered in time".to_owned(),
        };
        text.push_str(&format!(
            "  [{:>6.1} s – {:>6.1} s] {:?}: {} ({state})\n",
            record.start, record.end, record.fault, record.detail
        ));
    }
    if let Some(set) = result.final_set {
        text.push_str(&format!("final set read: {} elements\n", set.len()));
    } else {
        text.push_str("final set read: never succeeded\n");
    }
    text.push_str(&result.verdicts.summary());
    if !text.ends_with('\n') {
        text.push('\n');
    }
    match result.traces {
        None => text.push_str("traces: not recorded\n"),
        Some(t) => {
            text.push_str(&format!(
                "traces: {} files, {} steps and {} outputs replayed identically, {} divergences\n",
                t.files,
                t.steps_replayed,
                t.outputs_compared,
                t.divergences.len()
            ));
            for divergence in &t.divergences {
                text.push_str(&format!("  {divergence}\n"));
            }
            text.push_str(&format!(
                "conformance ({}): {}\n",
                t.conformance, t.conformance_report
            ));
            if t.conformance == "theorem-fails" && !t.theorems_promised {
                text.push_str(
                    "  (this policy does not promise the model's theorems: the recorded run shows the anomaly it allows)\n",
                );
            }
        }
    }
    text.push_str(&format!(
        "guarantees promised by this configuration: {}\nverdict: {}\nreport: {}\n",
        if f.promised { "yes" } else { "no" },
        f.verdict,
        f.report
    ));
    text
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), ReportError> {
    std::fs::write(path, bytes).map_err(|source| ReportError::Write {
        path: path.to_owned(),
        source,
    })
}

/// Write `history.json`, `result.json`, `summary.txt` and `latency.svg`
/// into `dir`.
pub fn write_all(dir: &Path, history: &History, result: &RunResult<'_>) -> Result<(), ReportError> {
    std::fs::create_dir_all(dir).map_err(|source| ReportError::Write {
        path: dir.to_owned(),
        source,
    })?;
    let history_json = serde_json::to_vec_pretty(history).map_err(|source| ReportError::Json {
        what: "the history",
        source,
    })?;
    write(&dir.join("history.json"), &history_json)?;
    let result_json = serde_json::to_vec_pretty(result).map_err(|source| ReportError::Json {
        what: "the result",
        source,
    })?;
    write(&dir.join("result.json"), &result_json)?;
    write(&dir.join("summary.txt"), summary(result).as_bytes())?;
    draw_latency(&dir.join("latency.svg"), history, result.faults)?;
    Ok(())
}
