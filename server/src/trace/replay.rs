//! Replaying a trace: a fresh [`Replica`] built from the header is fed
//! every recorded input in order, and every output, return value and
//! `poll_timeout` it produces is compared with the recorded one.
//!
//! A *step* is one input with the outputs polled after it, up to the next
//! input; step 0 is the restart itself (with any outputs polled before the
//! first input).

use super::error::TraceReadError;
use super::format::{CallResult, Input, InputRecord};
use super::reader::{read_trace, Event, Trace, TraceEnd};
use std::fmt;
use std::path::{Path, PathBuf};
use steadfast::{NodeId, Output, Position, Replica};

/// The first point where the replay disagrees with the recording.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Divergence {
    /// The trace.
    pub path: PathBuf,
    /// The node that recorded it.
    pub node: NodeId,
    /// The step (0: the restart; `k`: the `k`-th input).
    pub step: usize,
    /// The input of that step (`Debug`), `None` for step 0.
    pub input: Option<String>,
    /// What disagreed: `result`, `output #i`, `end of outputs`, `poll_timeout`.
    pub what: String,
    /// What the trace holds.
    pub expected: String,
    /// What the replica did.
    pub got: String,
}

impl fmt::Display for Divergence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: node {} step {}",
            self.path.display(),
            self.node,
            self.step
        )?;
        match &self.input {
            Some(input) => write!(f, " (input {input})")?,
            None => write!(f, " (restart)")?,
        }
        write!(
            f,
            ": {} differs\n  expected: {}\n  got:      {}",
            self.what, self.expected, self.got
        )
    }
}

/// Why a replay did not go through.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// The trace could not be read.
    #[error(transparent)]
    Read(#[from] TraceReadError),
    /// The header's configuration or durable state was refused (it was
    /// accepted when recorded, so the trace or the core changed).
    #[error("{path}: the replica refused to restart from the header: {error}")]
    Restart {
        /// The trace.
        path: PathBuf,
        /// The core's error.
        error: String,
    },
    /// The replay produced something else than the recording.
    #[error("replay diverged at {0}")]
    Diverged(Box<Divergence>),
}

/// What a successful replay covered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplayReport {
    /// The trace.
    pub path: PathBuf,
    /// The node that recorded it.
    pub node: NodeId,
    /// Inputs replayed (every one in the file).
    pub steps: usize,
    /// Outputs compared.
    pub outputs: usize,
    /// How the file ended (a torn or cut file was replayed through its
    /// last whole record).
    pub end: TraceEnd,
}

impl fmt::Display for ReplayReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: node {}: {} steps and {} outputs replayed identically; {}",
            self.path.display(),
            self.node,
            self.steps,
            self.outputs,
            self.end
        )
    }
}

/// Replay the trace file at `path`.
pub fn replay(path: &Path) -> Result<ReplayReport, ReplayError> {
    let trace = read_trace(path)?;
    replay_trace(&trace)
}

/// Replay a trace already read.
pub fn replay_trace(trace: &Trace) -> Result<ReplayReport, ReplayError> {
    let mut replayer = Replayer::new(trace)?;
    let mut outputs = 0;
    while let Some(step) = replayer.next_step() {
        outputs += step
            .map_err(|d| ReplayError::Diverged(Box::new(d)))?
            .outputs
            .len();
    }
    Ok(ReplayReport {
        path: trace.path.clone(),
        node: trace.header.node,
        steps: replayer.step,
        outputs,
        end: trace.end,
    })
}

/// One replayed step.
#[derive(Clone, Debug)]
pub struct Step<'t> {
    /// Its index (0: the restart).
    pub index: usize,
    /// Its input (`None` for step 0).
    pub input: Option<&'t InputRecord>,
    /// The outputs it produced (as recorded, and as replayed).
    pub outputs: Vec<&'t Output>,
    /// Whether its last poll drained the queue.
    pub drained: bool,
}

/// Replays one trace step by step, keeping the replica for inspection.
#[derive(Debug)]
pub struct Replayer<'t> {
    trace: &'t Trace,
    replica: Replica,
    /// The next event to replay.
    next: usize,
    /// Steps replayed so far beyond the restart.
    step: usize,
    restarted: bool,
}

impl<'t> Replayer<'t> {
    /// Build the replica exactly as the header says.
    pub fn new(trace: &'t Trace) -> Result<Replayer<'t>, ReplayError> {
        let h = &trace.header;
        let replica =
            Replica::restart(h.config.clone(), h.durable.clone(), h.now).map_err(|e| {
                ReplayError::Restart {
                    path: trace.path.clone(),
                    error: e.to_string(),
                }
            })?;
        Ok(Replayer {
            trace,
            replica,
            next: 0,
            step: 0,
            restarted: false,
        })
    }

    /// The replica as the steps so far left it.
    pub fn replica(&self) -> &Replica {
        &self.replica
    }

    /// Replay the next step (step 0, the restart, first); `None` after
    /// the last.
    pub fn next_step(&mut self) -> Option<Result<Step<'t>, Divergence>> {
        let trace: &'t Trace = self.trace;
        let (index, input) = if self.restarted {
            let Event::Input(record) = trace.events.get(self.next)? else {
                // Only polls follow a restart's: step 0 took them.
                return None;
            };
            self.next += 1;
            self.step += 1;
            (self.step, Some(record))
        } else {
            self.restarted = true;
            (0, None)
        };
        let mut step = Step {
            index,
            input,
            outputs: Vec::new(),
            drained: false,
        };
        if let Some(record) = input {
            let got = call(&mut self.replica, &record.input);
            if got != record.result {
                return Some(Err(self.diverged(&step, "result", &record.result, &got)));
            }
        }
        while let Some(Event::Polled(polled)) = trace.events.get(self.next) {
            self.next += 1;
            for expected in &polled.outputs {
                let got = self.replica.poll_output();
                if got.as_ref() != Some(expected) {
                    let what = format!("output #{}", step.outputs.len());
                    return Some(Err(self.diverged(&step, &what, &Some(expected), &got)));
                }
                step.outputs.push(expected);
            }
            if let Some(timeout) = polled.drained {
                let got = self.replica.poll_output();
                if got.is_some() {
                    return Some(Err(self.diverged(
                        &step,
                        "end of outputs",
                        &None::<Output>,
                        &got,
                    )));
                }
                let got = self.replica.poll_timeout();
                if got != timeout {
                    return Some(Err(self.diverged(&step, "poll_timeout", &timeout, &got)));
                }
                step.drained = true;
            }
        }
        Some(Ok(step))
    }

    fn diverged(
        &self,
        step: &Step<'_>,
        what: &str,
        expected: &dyn fmt::Debug,
        got: &dyn fmt::Debug,
    ) -> Divergence {
        Divergence {
            path: self.trace.path.clone(),
            node: self.trace.header.node,
            step: step.index,
            input: step.input.map(|r| format!("{:?}", r.input)),
            what: what.to_owned(),
            expected: format!("{expected:?}"),
            got: format!("{got:?}"),
        }
    }
}

/// Make the recorded call on `replica`; what it returned, as recorded.
fn call(replica: &mut Replica, input: &Input) -> CallResult {
    fn done<E: fmt::Debug>(result: Result<(), E>) -> CallResult {
        CallResult::of(&result)
    }
    fn position<E: fmt::Debug>(result: Result<Position, E>) -> CallResult {
        CallResult::of_position(&result)
    }
    match input.clone() {
        Input::Timeout { now } => {
            replica.handle_timeout(now);
            CallResult::Done
        }
        Input::Message { now, from, message } => done(replica.handle_message(now, from, message)),
        Input::Propose {
            now,
            request,
            command,
        } => position(replica.propose(now, request, command)),
        Input::Persisted { now, through } => {
            replica.handle_persisted(now, through);
            CallResult::Done
        }
        Input::TransferLeadership { now, target } => done(replica.transfer_leadership(now, target)),
        Input::ReadIndex { now, read } => done(replica.read_index(now, read)),
        Input::ProposeMembership {
            now,
            request,
            change,
        } => position(replica.propose_membership(now, request, change)),
        Input::SnapshotTaken {
            now,
            position: at,
            size,
            checksum,
        } => done(replica.snapshot_taken(now, at, size, checksum)),
        Input::SnapshotChunk {
            now,
            to,
            snapshot,
            offset,
            data,
        } => done(replica.handle_snapshot_chunk(now, to, snapshot, offset, data)),
        Input::ReadLocal { token } => CallResult::Decision(replica.read_local(token)),
    }
}
