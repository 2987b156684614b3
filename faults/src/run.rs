//! One run, start to end: start the cluster, run the workloads, run the
//! schedule, heal, read everything, check, report.

use crate::check::{self, Verdicts};
use crate::cluster::{Cluster, ClusterConfig, ClusterError};
use crate::history::{Op, ReadMode};
use crate::nemesis::{FaultRecord, Nemesis};
use crate::report::{self, Figures, ReportError, RunResult};
use crate::schedule::{self, Step};
use crate::settings::Checked;
use crate::traces::{self, TraceFigures};
use crate::workload::{register, session, set, Client, ClientError, Recorder, Shared};
use rand::rngs::StdRng;
use rand::SeedableRng;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Register clients, registers, set adders, sessions, session keys.
const REGISTER_CLIENTS: u64 = 4;
const REGISTERS: usize = 3;
const SET_ADDERS: u64 = 2;
const SESSIONS: u64 = 2;
const SESSION_KEYS: usize = 2;
/// Each client's pause between operations.
const THINK: Duration = Duration::from_millis(40);
/// Each request's timeout.
const REQUEST_TIMEOUT: Duration = Duration::from_millis(1000);
/// Load before the first fault and after the last heal.
const QUIET: Duration = Duration::from_secs(2);

/// Why a run could not be carried out (as opposed to finding anomalies).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The cluster failed.
    #[error("cluster: {0}")]
    Cluster(#[from] ClusterError),
    /// The cluster never elected a first leader.
    #[error("no leader was elected within {0:?} of the start")]
    NoFirstLeader(Duration),
    /// The HTTP client could not be built.
    #[error("{0}")]
    Client(#[from] ClientError),
    /// The report could not be written.
    #[error("report: {0}")]
    Report(#[from] ReportError),
    /// A directory could not be made.
    #[error("{path}: {source}")]
    Files {
        /// The path.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The checkers panicked.
    #[error("the checkers failed: {0}")]
    Check(String),
}

/// What a run came to.
#[derive(Debug)]
pub struct Finished {
    /// The figures.
    pub figures: Figures,
    /// The human summary.
    pub summary: String,
    /// Whether the run passed (nothing promised was broken; with
    /// `--expect-anomaly`, the expected anomaly was found).
    pub passed: bool,
}

/// Carry out the run described by `checked`, running servers as
/// `<exe> serve …`.
pub async fn run(checked: &Checked, exe: &Path) -> Result<Finished, RunError> {
    let started = Instant::now();
    let settings = &checked.settings;
    let out = &checked.out;
    std::fs::create_dir_all(out).map_err(|source| RunError::Files {
        path: out.clone(),
        source,
    })?;
    let schedule = schedule::generate(&checked.plan(), checked.seed);
    eprintln!(
        "steadfast-faults: seed {}, {} steps, report in {}",
        checked.seed,
        schedule.len(),
        out.display()
    );
    for (index, step) in schedule.iter().enumerate() {
        eprintln!("  step {index}: {:?}, hold {} ms", step.fault, step.hold_ms);
    }
    if let Some(dir) = &checked.traces {
        // Traces of an earlier run in the same directory would be merged
        // into this one's.
        let _ = std::fs::remove_dir_all(dir);
        std::fs::create_dir_all(dir).map_err(|source| RunError::Files {
            path: dir.clone(),
            source,
        })?;
    }
    let temp = tempfile::tempdir().map_err(|source| RunError::Files {
        path: std::env::temp_dir(),
        source,
    })?;
    let data_root = if settings.keep_data {
        out.join("data")
    } else {
        temp.path().to_owned()
    };
    let mut cluster = Cluster::start(ClusterConfig {
        nodes: settings.nodes,
        exe: exe.to_owned(),
        data_root,
        log_root: out.join("nodes"),
        flags: checked.node_flags(),
    })
    .await?;
    let first = Duration::from_secs(30);
    if cluster.wait_leader(first, None).await.is_none() {
        return Err(RunError::NoFirstLeader(first));
    }
    let recorder = Arc::new(Recorder::new());
    let shared = Shared {
        client: Client::new(cluster.endpoints().clone(), REQUEST_TIMEOUT)?,
        recorder: Arc::clone(&recorder),
        stop: Arc::new(AtomicBool::new(false)),
        next_value: Arc::new(AtomicU64::new(1)),
        next_element: Arc::new(AtomicU64::new(1)),
        think: THINK,
    };
    let workloads = start_workloads(&shared, checked);
    tokio::time::sleep(QUIET).await;
    let faults = run_schedule(&mut cluster, &shared, checked, &schedule).await;
    cluster.network().heal();
    cluster.revive_all()?;
    cluster.wait_converged(Duration::from_secs(30)).await;
    tokio::time::sleep(QUIET).await;
    shared.stop.store(true, Ordering::Relaxed);
    for task in workloads {
        let _ = task.await;
    }
    let final_set = set::final_read(&shared, 50).await;
    cluster.shut_down_all();
    drop(cluster);
    let history = recorder.history();
    let checked_history = history.clone();
    let verdicts = tokio::task::spawn_blocking(move || check::check(&checked_history))
        .await
        .map_err(|e| RunError::Check(e.to_string()))?;
    let promised = checked.promises_durability();
    let conformance_steps = checked.settings.conformance_steps;
    let trace_figures = match checked.traces.clone() {
        None => None,
        Some(dir) => Some(
            tokio::task::spawn_blocking(move || {
                traces::validate(&dir, promised, conformance_steps)
            })
            .await
            .map_err(|e| RunError::Check(e.to_string()))?,
        ),
    };
    let mut figures = figures(checked, &verdicts, started.elapsed());
    if let Some(t) = &trace_figures {
        figures.trace_steps_replayed = t.steps_replayed;
        figures.trace_divergences = t.divergences.len();
        figures.conformance = t.conformance.clone();
        figures.conformance_checked = t.conformance_checked;
    }
    figures.lost_shown_by_lease_reads = verdicts
        .lost_acked_writes
        .iter()
        .filter(|lost| {
            matches!(
                lost.read.op,
                Op::Read {
                    mode: ReadMode::Lease,
                    ..
                } | Op::ReadSet {
                    mode: ReadMode::Lease
                }
            )
        })
        .count();
    report::count_outcomes(&history, &mut figures);
    report::count_faults(&faults, &mut figures);
    let passed = judge(checked, &mut figures, trace_figures.as_ref());
    let result = RunResult {
        figures: &figures,
        schedule: &schedule,
        faults: &faults,
        verdicts: &verdicts,
        final_set: final_set.as_deref(),
        traces: trace_figures.as_ref(),
    };
    report::write_all(out, &history, &result)?;
    let summary = report::summary(&result);
    Ok(Finished {
        figures,
        summary,
        passed,
    })
}

fn start_workloads(shared: &Shared, checked: &Checked) -> Vec<tokio::task::JoinHandle<()>> {
    let mode = if checked.lease_drift_ms.is_some() {
        ReadMode::Lease
    } else {
        ReadMode::Linearizable
    };
    let seed = checked.seed;
    let mut tasks = Vec::new();
    for i in 0..REGISTER_CLIENTS {
        tasks.push(tokio::spawn(register::run(
            shared.clone(),
            REGISTERS,
            mode,
            seed ^ (100 + i),
        )));
    }
    for i in 0..SET_ADDERS {
        tasks.push(tokio::spawn(set::run_adder(
            shared.clone(),
            seed ^ (200 + i),
        )));
    }
    tasks.push(tokio::spawn(set::run_reader(
        shared.clone(),
        mode,
        seed ^ 300,
    )));
    for i in 0..SESSIONS {
        tasks.push(tokio::spawn(session::run(
            shared.clone(),
            i + 1,
            SESSION_KEYS,
            seed ^ (400 + i),
        )));
    }
    tasks
}

async fn run_schedule(
    cluster: &mut Cluster,
    shared: &Shared,
    checked: &Checked,
    schedule: &[Step],
) -> Vec<FaultRecord> {
    let rng = StdRng::seed_from_u64(checked.seed ^ 0x7041_5445);
    let mut nemesis = Nemesis::new(cluster, shared.clone(), rng, checked.settings.skew);
    let mut records = Vec::new();
    for (index, step) in schedule.iter().enumerate() {
        let record = nemesis.run(index, step).await;
        eprintln!(
            "  [{:>6.1} s] step {index} {:?}: {}{}{}",
            record.end,
            record.fault,
            record.detail,
            record
                .skipped
                .as_ref()
                .map(|why| format!(" (skipped: {why})"))
                .unwrap_or_default(),
            if record.recovered {
                ""
            } else {
                " (not recovered in time)"
            }
        );
        records.push(record);
    }
    records
}

fn figures(checked: &Checked, verdicts: &Verdicts, elapsed: Duration) -> Figures {
    let settings = &checked.settings;
    Figures {
        operations: 0,
        ok: 0,
        failed: 0,
        unknown: 0,
        faults: 0,
        leader_kills: 0,
        follower_kills: 0,
        pauses: 0,
        partitions: 0,
        slow_links: 0,
        torn_tails: 0,
        torn_tails_reported: 0,
        transfers: 0,
        membership_changes: 0,
        clock_skews: 0,
        not_recovered: 0,
        lost_acked_writes: verdicts.lost_acked_writes.len(),
        lost_shown_by_lease_reads: 0,
        linearizable: verdicts.linearizable,
        session_guarantees: verdicts.session_guarantees,
        seconds: (elapsed.as_secs_f64() * 10.0).round() / 10.0,
        durability: settings.durability.clone(),
        election_quorum: settings.election_quorum.clone(),
        nodes: settings.nodes,
        lease_max_drift_ms: checked.lease_drift_ms,
        skew: settings.skew,
        profile: format!("{:?}", settings.profile).to_lowercase(),
        seed: checked.seed,
        promised: checked.promises_durability(),
        trace_steps_replayed: 0,
        trace_divergences: 0,
        conformance: "off".to_owned(),
        conformance_checked: 0,
        verdict: String::new(),
        report: checked.out.display().to_string(),
    }
}

/// Decide the verdict: broken promises fail the run; with
/// `--expect-anomaly`, so does the expected anomaly not being found.
fn judge(checked: &Checked, figures: &mut Figures, traces: Option<&TraceFigures>) -> bool {
    let mut problems = Vec::new();
    if let Some(t) = traces.filter(|t| t.failed()) {
        problems.push(format!(
            "trace validation: {} replays diverged, conformance {}",
            t.divergences.len(),
            t.conformance
        ));
    }
    if figures.promised {
        // Past the drift bound a lease read may be stale: a write it does
        // not show is not lost for that.
        let lost = if figures.skew {
            figures.lost_acked_writes - figures.lost_shown_by_lease_reads
        } else {
            figures.lost_acked_writes
        };
        if lost > 0 {
            problems.push(format!("{lost} acknowledged writes lost"));
        }
        if !figures.linearizable && !figures.skew {
            problems.push("a non-linearizable history".to_owned());
        }
        if !figures.session_guarantees {
            problems.push("a session guarantee broken".to_owned());
        }
    }
    if checked.settings.expect_anomaly {
        if !figures.promised && figures.lost_acked_writes == 0 {
            problems.push(format!(
                "expected a lost acknowledged write under {}, found none",
                figures.durability
            ));
        }
        if figures.skew && figures.linearizable {
            problems.push(
                "expected a stale lease read under skew, the history is linearizable".to_owned(),
            );
        }
    }
    if figures.torn_tails_reported < figures.torn_tails {
        problems.push(format!(
            "{} torn tails cut, only {} reported by the restarted node",
            figures.torn_tails, figures.torn_tails_reported
        ));
    }
    figures.verdict = if problems.is_empty() {
        "pass".to_owned()
    } else {
        format!("FAIL: {}", problems.join("; "))
    };
    problems.is_empty()
}
