//! Conformance of recorded runs of the reference server: every step a
//! voter took, as its trace recorded it, explained by the verified model's
//! transitions, exactly as [`replay`](fn@super::replay) does for simulated
//! runs.
//!
//! # How
//!
//! The traces of one run (every node, every incarnation: see
//! `steadfast_server::trace`) are merged into one causal order
//! ([`causal_order`]: each node's steps in order, a message handled after
//! the step that sent it, wall-clock stamps otherwise). Each trace is
//! replayed through a fresh `Replica` built from its header, step by step
//! in that order; every replayed output must be the recorded one (else
//! [`Verdict::Diverged`]). After each step of a voter, its view (epoch,
//! vote, role, log, commit, as [`observe`](super::observe) takes them from
//! a simulated replica) replaces its previous one and
//! [`Conformance::check_observation`] explains the change. A restart is a
//! step too: the view of the replica rebuilt from the durable state in
//! the new incarnation's header.
//!
//! # What is checked, and what is not
//!
//! - Every step of every voter, in the merged order, model transitions and
//!   the three theorems, as for simulated runs. Learners' traces (a node
//!   not among the configured voters) are replayed but not observed: the
//!   model has no learners.
//! - Persistence before use, for the hard state: after every step whose
//!   outputs were drained, the replica's hard state is the last one it
//!   asked to persist (or restarted from). The log is observed as the
//!   replica holds it, durable or not yet (a leader ships entries before
//!   they are durable; the core withholds acknowledgements until they
//!   are).
//! - After an incarnation whose trace ends without the end record (killed),
//!   the restarted log may lack entries the old incarnation held but had
//!   not been told were durable: they are dropped from the abstract state
//!   ([`Conformance::forget_unpersisted`], counted in
//!   [`TraceReport::forgotten_entries`]); losing an entry reported durable
//!   is a rejection.
//! - Checking stops ([`Verdict::Incomplete`], never a silent skip) at a
//!   step beyond the checker's reach: the voters change, or a node restarts
//!   configured with other voters than the run began with (membership
//!   changes are not modelled), a snapshot is installed from a leader (the
//!   node's log then starts at entries it never held), or a step is
//!   rejected when it handles a message no recorded step sent while some
//!   trace ends unclean (the sender's steps after its last record are
//!   missing) or is the restart after such an end.
//! - Not checked: what the host did with the outputs (that the write-ahead
//!   log holds what `Append` asked for is the storage tests' business,
//!   except for what the next incarnation's header shows), and steps a
//!   killed process took after its last flushed record.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use steadfast::{Durable, HardState, Lsn, NodeId, Output};
use steadfast_server::trace::{
    causal_order, read_trace, trace_files, Divergence, GlobalStep, Input, Received, ReplayError,
    Replayer, Trace, TraceEnd, TraceReadError,
};

use super::check::{Conformance, Rejection};
use super::sent::Reading;
use super::state::Observation;
use super::trace_views::{initial_view, quorums_of, view_of};

/// Why a run's traces could not be checked at all.
#[derive(Debug)]
pub enum TraceCheckError {
    /// No trace was given.
    NoTraces,
    /// A trace could not be read.
    Read(TraceReadError),
    /// A header's replica could not be rebuilt.
    Restart(String),
    /// The traces do not describe one run (different policies).
    Mismatch(String),
    /// The run does not start in the model's initial state.
    NotFromInit(String),
}

impl fmt::Display for TraceCheckError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TraceCheckError::NoTraces => write!(f, "no traces to check"),
            TraceCheckError::Read(e) => write!(f, "{e}"),
            TraceCheckError::Restart(e) => write!(f, "{e}"),
            TraceCheckError::Mismatch(e) => write!(f, "the traces are not of one run: {e}"),
            TraceCheckError::NotFromInit(e) => write!(f, "the run does not start in Init: {e}"),
        }
    }
}

impl std::error::Error for TraceCheckError {}

impl From<TraceReadError> for TraceCheckError {
    fn from(e: TraceReadError) -> TraceCheckError {
        TraceCheckError::Read(e)
    }
}

/// A recorded step the model rejected.
#[derive(Debug, Clone)]
pub struct TraceFinding {
    /// Its node.
    pub node: NodeId,
    /// Its trace.
    pub path: PathBuf,
    /// Its index in the trace (0: the restart).
    pub step: usize,
    /// Its index in the merged order.
    pub global: usize,
    /// Its input (`Debug`), `None` for a restart.
    pub input: Option<String>,
    /// Why the model does not allow it.
    pub rejection: Rejection,
}

impl fmt::Display for TraceFinding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} step {} ({}, global step {}): {}",
            self.node,
            self.step,
            self.input.as_deref().unwrap_or("restart"),
            self.global,
            self.rejection
        )?;
        write!(f, " [{}]", self.path.display())
    }
}

/// The outcome of checking a run.
#[derive(Debug, Clone)]
pub enum Verdict {
    /// Every step was replayed identically and explained.
    Conforms,
    /// A step is not a model step (or used state before it was durable).
    Rejected(Box<TraceFinding>),
    /// A replay did not reproduce its recording.
    Diverged(Box<Divergence>),
    /// Checking stopped at a step beyond the checker's reach (see the
    /// module docs); the steps before it were checked.
    Incomplete {
        /// Index of the step in the merged order.
        global: usize,
        /// What stopped it.
        why: String,
    },
}

/// What checking a run covered.
#[derive(Debug, Clone)]
pub struct TraceReport {
    /// Trace files (incarnations) read.
    pub traces: usize,
    /// Steps in the merged order (every trace's, restarts included).
    pub steps: usize,
    /// Steps replayed before the verdict.
    pub replayed: usize,
    /// Voters' steps explained by the model (stutters included).
    pub checked: usize,
    /// Of those, steps with no abstract change.
    pub stutters: usize,
    /// Restarts (incarnations after a node's first) checked.
    pub restarts: usize,
    /// Hard states compared with the last one persisted.
    pub persistence_checks: usize,
    /// Entries dropped from restarted logs (never reported durable, lost
    /// with a killed process).
    pub forgotten_entries: usize,
    /// Model transitions taken, by name and reading.
    pub transitions: BTreeMap<(String, Reading), usize>,
    /// Receives matched to their send / not matched / matched but ordered
    /// by stamp (see `CausalOrder`).
    pub receives: (usize, usize, usize),
    /// Traces that do not end cleanly, with how they end.
    pub unclean: Vec<(PathBuf, TraceEnd)>,
    /// Traces replayed but not observed (learners).
    pub not_observed: Vec<PathBuf>,
    /// The outcome.
    pub verdict: Verdict,
}

impl TraceReport {
    /// How many transitions named `name` were taken under `reading`.
    pub fn count(&self, name: &str, reading: Reading) -> usize {
        self.transitions
            .get(&(name.to_string(), reading))
            .copied()
            .unwrap_or(0)
    }
}

impl fmt::Display for TraceReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} traces, {} steps ({} replayed), {} voter steps checked ({} stutters), {} restarts, {} hard-state checks, {} unsynced entries forgotten",
            self.traces,
            self.steps,
            self.replayed,
            self.checked,
            self.stutters,
            self.restarts,
            self.persistence_checks,
            self.forgotten_entries
        )?;
        let (matched, unmatched, relaxed) = self.receives;
        writeln!(
            f,
            "  receives: {matched} matched to their send, {unmatched} not ({relaxed} relaxed)"
        )?;
        for ((name, reading), n) in &self.transitions {
            writeln!(f, "  {name:<13} {reading:?}: {n}")?;
        }
        for (path, end) in &self.unclean {
            writeln!(f, "  unclean: {}: {end}", path.display())?;
        }
        for path in &self.not_observed {
            writeln!(
                f,
                "  replayed, not observed (not a voter): {}",
                path.display()
            )?;
        }
        match &self.verdict {
            Verdict::Conforms => write!(f, "verdict: every step conforms"),
            Verdict::Rejected(finding) => write!(f, "verdict: REJECTED at {finding}"),
            Verdict::Diverged(d) => write!(f, "verdict: replay DIVERGED at {d}"),
            Verdict::Incomplete { global, why } => {
                write!(
                    f,
                    "verdict: checked up to global step {global}, then stopped: {why}"
                )
            }
        }
    }
}

/// Check the traces in `dir` (every `*.trace` directly in it).
pub fn check_trace_dir(dir: &Path) -> Result<TraceReport, TraceCheckError> {
    check_trace_files(&trace_files(dir)?)
}

/// Check the first `max_steps` steps (in the merged order) of the run
/// recorded in `dir`; a longer run ends [`Verdict::Incomplete`] there. Each
/// step costs in proportion to the logs, so long runs are checked in part.
pub fn check_trace_dir_within(
    dir: &Path,
    max_steps: usize,
) -> Result<TraceReport, TraceCheckError> {
    let traces = trace_files(dir)?
        .iter()
        .map(|p| read_trace(p))
        .collect::<Result<Vec<_>, _>>()?;
    check_traces_within(&traces, Some(max_steps))
}

/// Check the run recorded in these trace files.
pub fn check_trace_files(paths: &[PathBuf]) -> Result<TraceReport, TraceCheckError> {
    let traces = paths
        .iter()
        .map(|p| read_trace(p))
        .collect::<Result<Vec<_>, _>>()?;
    check_traces(&traces)
}

/// Check the run recorded in `traces`.
pub fn check_traces(traces: &[Trace]) -> Result<TraceReport, TraceCheckError> {
    check_traces_within(traces, None)
}

/// Check the run recorded in `traces`, its first `max_steps` steps if given.
pub fn check_traces_within(
    traces: &[Trace],
    max_steps: Option<usize>,
) -> Result<TraceReport, TraceCheckError> {
    let first = traces.first().ok_or(TraceCheckError::NoTraces)?;
    let quorums = quorums_of(&first.header.config);
    for t in traces {
        // A node restarted after a membership change names the voters of
        // its day: that is one run still, and the check stops at that
        // restart (see `Run::take`). Another policy is another run.
        let c = &t.header.config;
        if c.durability != first.header.config.durability
            || c.election_quorum != first.header.config.election_quorum
        {
            return Err(TraceCheckError::Mismatch(format!(
                "{} names voters {:?} ({:?}, {:?}); {} names {:?} ({:?}, {:?})",
                first.path.display(),
                quorums.voters,
                first.header.config.durability,
                first.header.config.election_quorum,
                t.path.display(),
                c.voters,
                c.durability,
                c.election_quorum
            )));
        }
    }
    let init: Observation = quorums
        .voters
        .iter()
        .map(|&n| (n, initial_view()))
        .collect();
    let mut conformance = Conformance::from_observation(quorums.clone(), init)
        .map_err(|e| TraceCheckError::NotFromInit(e.to_string()))?;
    let order = causal_order(traces);
    let mut report = TraceReport {
        traces: traces.len(),
        steps: order.steps.len(),
        replayed: 0,
        checked: 0,
        stutters: 0,
        restarts: 0,
        persistence_checks: 0,
        forgotten_entries: 0,
        transitions: BTreeMap::new(),
        receives: (order.matched, order.unmatched, order.relaxed),
        unclean: traces
            .iter()
            .filter(|t| t.end.is_unclean())
            .map(|t| (t.path.clone(), t.end))
            .collect(),
        not_observed: traces
            .iter()
            .filter(|t| !quorums.voters.contains(&t.header.node))
            .map(|t| t.path.clone())
            .collect(),
        verdict: Verdict::Conforms,
    };
    let mut run = Run {
        traces,
        replayers: traces.iter().map(|_| None).collect(),
        durable_hard: traces.iter().map(|t| t.header.durable.hard_state).collect(),
        reported: traces.iter().map(|_| Lsn(0)).collect(),
        previous: BTreeMap::new(),
        any_unclean: !report.unclean.is_empty(),
    };
    for (global, step) in order.steps.iter().enumerate() {
        if max_steps.is_some_and(|max| global >= max) {
            report.verdict = Verdict::Incomplete {
                global,
                why: format!(
                    "the first {global} of {} steps were checked, as many as asked for",
                    order.steps.len()
                ),
            };
            break;
        }
        match run.take(global, step, &mut conformance, &mut report)? {
            Ok(()) => report.replayed += 1,
            Err(verdict) => {
                report.verdict = verdict;
                break;
            }
        }
    }
    Ok(report)
}

/// The state of a check in progress.
struct Run<'t> {
    traces: &'t [Trace],
    replayers: Vec<Option<Replayer<'t>>>,
    /// Per trace: the hard state last asked to persist.
    durable_hard: Vec<HardState>,
    /// Per trace: the log reported durable through here.
    reported: Vec<Lsn>,
    /// Per node: its latest trace so far.
    previous: BTreeMap<NodeId, usize>,
    any_unclean: bool,
}

impl<'t> Run<'t> {
    /// Replay and check one step; `Ok(Err(verdict))` ends the check.
    fn take(
        &mut self,
        global: usize,
        at: &GlobalStep,
        conformance: &mut Conformance,
        report: &mut TraceReport,
    ) -> Result<Result<(), Verdict>, TraceCheckError> {
        let t = at.at.trace;
        let trace = &self.traces[t];
        let node = at.node;
        let voter = conformance.quorums().voters.contains(&node);
        let mut after_unclean = None;
        if at.at.step == 0 {
            if voter && trace.header.config.voters != conformance.quorums().voters {
                return Ok(Err(Verdict::Incomplete {
                    global,
                    why: format!(
                        "{node} restarted with voters {:?} (membership changes are not modelled)",
                        trace.header.config.voters
                    ),
                }));
            }
            let previous = self.previous.insert(node, t);
            match previous {
                None if voter && trace.header.durable != Durable::default() => {
                    return Err(TraceCheckError::NotFromInit(format!(
                        "{}: the first recorded start of {node} is not from an empty data directory",
                        trace.path.display()
                    )));
                }
                None => {}
                Some(p) => {
                    report.restarts += usize::from(voter);
                    if self.traces[p].end.is_unclean() {
                        after_unclean = Some(p);
                    }
                }
            }
            let replayer = Replayer::new(trace).map_err(|e| match e {
                ReplayError::Restart { .. } | ReplayError::Read(_) | ReplayError::Diverged(_) => {
                    TraceCheckError::Restart(e.to_string())
                }
            })?;
            self.replayers[t] = Some(replayer);
        }
        let Some(replayer) = self.replayers[t].as_mut() else {
            return Err(TraceCheckError::Restart(format!(
                "{}: a step before its restart",
                trace.path.display()
            )));
        };
        let step = match replayer.next_step() {
            Some(Ok(step)) => step,
            Some(Err(divergence)) => return Ok(Err(Verdict::Diverged(Box::new(divergence)))),
            None => {
                return Err(TraceCheckError::Restart(format!(
                    "{}: the merged order has more steps than the trace",
                    trace.path.display()
                )))
            }
        };
        if let Some(record) = step.input {
            if let Input::Persisted { through, .. } = record.input {
                self.reported[t] = self.reported[t].max(through.lsn);
            }
        }
        for output in &step.outputs {
            match output {
                Output::PersistHardState(hard) => self.durable_hard[t] = *hard,
                Output::Truncated { after, .. } => {
                    self.reported[t] = self.reported[t].min(*after);
                }
                _ => {}
            }
        }
        if !voter {
            return Ok(Ok(()));
        }
        let replica = replayer.replica();
        let finding = |rejection| {
            Verdict::Rejected(Box::new(TraceFinding {
                node,
                path: trace.path.clone(),
                step: step.index,
                global,
                input: step.input.map(|r| format!("{:?}", r.input)),
                rejection,
            }))
        };
        if step.drained {
            report.persistence_checks += 1;
            if replica.hard_state() != self.durable_hard[t] {
                return Ok(Err(finding(Rejection::Unpersisted(format!(
                    "{node}: hard state {:?}, but the last persisted was {:?}",
                    replica.hard_state(),
                    self.durable_hard[t]
                )))));
            }
        }
        if replica.membership().voters != conformance.quorums().voters {
            return Ok(Err(Verdict::Incomplete {
                global,
                why: format!(
                    "{node}'s voters became {:?} (membership changes are not modelled)",
                    replica.membership().voters
                ),
            }));
        }
        let Some(before) = conformance.observation().get(&node).cloned() else {
            return Ok(Ok(()));
        };
        if let Some(p) = after_unclean {
            // The killed incarnation may have held entries its host never
            // made durable: the restart lacks them.
            let restarted = replica.last().lsn;
            let lost = before.log.range(restarted.next()..).count();
            let prefix = replica
                .entries()
                .iter()
                .all(|e| before.log.get(&e.lsn) == Some(&e.epoch));
            if lost > 0 && prefix {
                if restarted < self.reported[p] {
                    return Ok(Err(finding(Rejection::Unpersisted(format!(
                        "{node} restarted through lsn {restarted}, but its previous incarnation was told its log was durable through lsn {}",
                        self.reported[p]
                    )))));
                }
                conformance.forget_unpersisted(node, restarted);
                report.forgotten_entries += lost;
            }
        }
        let before = conformance
            .observation()
            .get(&node)
            .cloned()
            .unwrap_or(before);
        let view = match view_of(replica, &before) {
            Ok(view) => view,
            Err(why) => return Ok(Err(Verdict::Incomplete { global, why })),
        };
        let mut observed = conformance.observation().clone();
        observed.insert(node, view);
        match conformance.check_observation(observed) {
            Ok(explanation) => {
                report.checked += 1;
                if explanation.is_empty() {
                    report.stutters += 1;
                }
                for (t, reading) in explanation {
                    *report.transitions.entry((t.name(), reading)).or_default() += 1;
                }
                Ok(Ok(()))
            }
            Err(rejection) => {
                let gap = self.any_unclean && at.received == Received::Unmatched;
                if gap || after_unclean.is_some() {
                    Ok(Err(Verdict::Incomplete {
                        global,
                        why: format!(
                            "{node}'s step {} is not explained ({rejection}), but it follows steps missing from a trace that ends unclean",
                            step.index
                        ),
                    }))
                } else {
                    Ok(Err(finding(rejection)))
                }
            }
        }
    }
}
