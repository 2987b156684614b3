//! [`TracedReplica`]: the host's [`Replica`], with every call into it
//! recorded when tracing is on.
//!
//! It dereferences to `&Replica` for queries, and wraps every method that
//! takes `&mut self` (inputs and `poll_output`), so a host cannot call
//! into its replica past the recorder. With tracing off each wrapper is the
//! call plus one branch: nothing is cloned or stamped.

use super::error::TraceWriteError;
use super::format::{wall_clock_ns, CallResult, Input, InputRecord};
use super::recorder::{header, Recorder};
use std::ops::Deref;
use std::path::Path;
use steadfast::wire::Message;
use steadfast::{
    Bytes, Config, Durable, InputError, Instant, MembershipChange, MembershipError, NodeId, Output,
    Position, ProposeError, ReadDecision, ReadError, ReadId, Replica, RequestId, RestartError,
    SessionToken, SnapshotError,
};

/// Why a traced replica could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The core refused the configuration or the durable state.
    #[error("the replica refused to start: {0}")]
    Restart(#[from] RestartError),
    /// The trace file could not be created.
    #[error("cannot start recording: {0}")]
    Trace(#[from] TraceWriteError),
}

/// A [`Replica`] whose inputs and outputs are recorded (when tracing is on).
#[derive(Debug)]
pub struct TracedReplica {
    replica: Replica,
    recorder: Option<Recorder>,
    /// The first recording failure not yet reported to the host.
    failure: Option<TraceWriteError>,
}

impl Deref for TracedReplica {
    type Target = Replica;
    fn deref(&self) -> &Replica {
        &self.replica
    }
}

impl TracedReplica {
    /// `Replica::restart(config, durable, now)`, recording into a new file
    /// in `trace_dir` when one is given (`cluster_id` goes in its header).
    pub fn restart(
        config: Config,
        durable: Durable,
        now: Instant,
        cluster_id: u64,
        trace_dir: Option<&Path>,
    ) -> Result<TracedReplica, StartError> {
        let recorded = trace_dir.map(|dir| (dir, config.clone(), durable.clone()));
        let replica = Replica::restart(config, durable, now)?;
        let recorder = match recorded {
            Some((dir, config, durable)) => Some(Recorder::create(
                dir,
                &header(replica.id(), cluster_id, config, durable, now),
            )?),
            None => None,
        };
        Ok(TracedReplica {
            replica,
            recorder,
            failure: None,
        })
    }

    /// The trace file being written, if recording.
    pub fn trace_path(&self) -> Option<&Path> {
        self.recorder.as_ref().map(Recorder::path)
    }

    /// Flush what was recorded to the file. Returns a recording failure
    /// once (recording then stops; the replica goes on).
    pub fn flush_trace(&mut self) -> Option<TraceWriteError> {
        if let Some(recorder) = &mut self.recorder {
            if let Err(e) = recorder.flush() {
                self.fail(e);
            }
        }
        self.failure.take()
    }

    /// End the trace cleanly (the node is stopping). Returns a recording
    /// failure not yet reported.
    pub fn finish_trace(&mut self) -> Option<TraceWriteError> {
        if let Some(mut recorder) = self.recorder.take() {
            if let Err(e) = recorder.finish() {
                self.failure.get_or_insert(e);
            }
        }
        self.failure.take()
    }

    fn fail(&mut self, e: TraceWriteError) {
        self.recorder = None;
        self.failure.get_or_insert(e);
    }

    /// The input to record, built only while recording.
    fn when_tracing(&self, input: impl FnOnce() -> Input) -> Option<Input> {
        self.recorder.is_some().then(input)
    }

    /// Make the call; when `input` is given (recording), record it with
    /// what the call returned, stamped just before the call.
    fn record<T>(
        &mut self,
        input: Option<Input>,
        call: impl FnOnce(&mut Replica) -> T,
        result: impl FnOnce(&T) -> CallResult,
    ) -> T {
        let Some(input) = input else {
            return call(&mut self.replica);
        };
        let at_ns = wall_clock_ns();
        let value = call(&mut self.replica);
        let record = InputRecord {
            at_ns,
            input,
            result: result(&value),
        };
        if let Some(recorder) = &mut self.recorder {
            if let Err(e) = recorder.input(record) {
                self.fail(e);
            }
        }
        value
    }

    /// `Replica::handle_timeout`.
    pub fn handle_timeout(&mut self, now: Instant) {
        let input = self.when_tracing(|| Input::Timeout { now });
        self.record(input, |r| r.handle_timeout(now), |_| CallResult::Done);
    }

    /// `Replica::handle_message`.
    pub fn handle_message(
        &mut self,
        now: Instant,
        from: NodeId,
        message: Message,
    ) -> Result<(), InputError> {
        let input = self.when_tracing(|| Input::Message {
            now,
            from,
            message: message.clone(),
        });
        self.record(
            input,
            |r| r.handle_message(now, from, message),
            CallResult::of,
        )
    }

    /// `Replica::propose`.
    pub fn propose(
        &mut self,
        now: Instant,
        request: RequestId,
        command: impl Into<Bytes>,
    ) -> Result<Position, ProposeError> {
        let command: Bytes = command.into();
        let input = self.when_tracing(|| Input::Propose {
            now,
            request,
            command: command.clone(),
        });
        self.record(
            input,
            |r| r.propose(now, request, command),
            CallResult::of_position,
        )
    }

    /// `Replica::handle_persisted`.
    pub fn handle_persisted(&mut self, now: Instant, through: Position) {
        let input = self.when_tracing(|| Input::Persisted { now, through });
        self.record(
            input,
            |r| r.handle_persisted(now, through),
            |_| CallResult::Done,
        );
    }

    /// `Replica::transfer_leadership`.
    pub fn transfer_leadership(&mut self, now: Instant, target: NodeId) -> Result<(), InputError> {
        let input = self.when_tracing(|| Input::TransferLeadership { now, target });
        self.record(
            input,
            |r| r.transfer_leadership(now, target),
            CallResult::of,
        )
    }

    /// `Replica::read_index`.
    pub fn read_index(&mut self, now: Instant, read: ReadId) -> Result<(), ReadError> {
        let input = self.when_tracing(|| Input::ReadIndex { now, read });
        self.record(input, |r| r.read_index(now, read), CallResult::of)
    }

    /// `Replica::propose_membership`.
    pub fn propose_membership(
        &mut self,
        now: Instant,
        request: RequestId,
        change: MembershipChange,
    ) -> Result<Position, MembershipError> {
        let input = self.when_tracing(|| Input::ProposeMembership {
            now,
            request,
            change,
        });
        self.record(
            input,
            |r| r.propose_membership(now, request, change),
            CallResult::of_position,
        )
    }

    /// `Replica::snapshot_taken`.
    pub fn snapshot_taken(
        &mut self,
        now: Instant,
        position: Position,
        size: u64,
        checksum: u32,
    ) -> Result<(), SnapshotError> {
        let input = self.when_tracing(|| Input::SnapshotTaken {
            now,
            position,
            size,
            checksum,
        });
        self.record(
            input,
            |r| r.snapshot_taken(now, position, size, checksum),
            CallResult::of,
        )
    }

    /// `Replica::handle_snapshot_chunk`.
    pub fn handle_snapshot_chunk(
        &mut self,
        now: Instant,
        to: NodeId,
        snapshot: Position,
        offset: u64,
        data: Vec<u8>,
    ) -> Result<(), SnapshotError> {
        let input = self.when_tracing(|| Input::SnapshotChunk {
            now,
            to,
            snapshot,
            offset,
            data: data.clone(),
        });
        self.record(
            input,
            |r| r.handle_snapshot_chunk(now, to, snapshot, offset, data),
            CallResult::of,
        )
    }

    /// `Replica::read_local` (a query, recorded with its decision so that
    /// a replay checks it too).
    pub fn read_local(&mut self, token: SessionToken) -> ReadDecision {
        let input = self.when_tracing(|| Input::ReadLocal { token });
        self.record(input, |r| r.read_local(token), |d| CallResult::Decision(*d))
    }

    /// `Replica::poll_output`; a `None` also records `poll_timeout`.
    pub fn poll_output(&mut self) -> Option<Output> {
        let output = self.replica.poll_output();
        if let Some(recorder) = &mut self.recorder {
            let recorded = match &output {
                Some(output) => recorder.polled(output),
                None => recorder.drained(self.replica.poll_timeout()),
            };
            if let Err(e) = recorded {
                self.fail(e);
            }
        }
        output
    }
}
