//! Reads in their four modes: read-index and lease reads on the leader,
//! session reads (which may wait for this node to catch up) and stale reads
//! anywhere.

use super::host::Host;
use super::request::{ReadMode, ReadOk, ReadTarget, RequestError};
use std::collections::HashMap;
use steadfast::{Instant, Position, ReadDecision, ReadError, ReadId, SessionToken};
use tokio::sync::oneshot;

type Reply = oneshot::Sender<Result<ReadOk, RequestError>>;

/// A read waiting for the core or for this node to catch up.
struct Waiting {
    key: ReadTarget,
    token: SessionToken,
    reply: Reply,
    /// Session reads give up here.
    deadline: Instant,
}

/// Reads not yet answered.
#[derive(Default)]
pub(super) struct PendingReads {
    /// Leader reads, by the id given to the core.
    confirming: HashMap<ReadId, Waiting>,
    /// Session reads waiting for this node to apply far enough.
    catching_up: Vec<Waiting>,
    /// Local reads (session and stale) asked since the outputs were last
    /// performed: the core may already count entries as applied whose
    /// `Apply` the host has not performed yet, so these are looked at only
    /// once it has.
    arrived: Vec<(Waiting, ReadMode)>,
}

impl PendingReads {
    /// Session reads past their deadline give up.
    pub(super) fn expire(&mut self, now: Instant) {
        let (expired, waiting): (Vec<_>, Vec<_>) = std::mem::take(&mut self.catching_up)
            .into_iter()
            .partition(|w| w.deadline <= now);
        self.catching_up = waiting;
        for read in expired {
            let _ = read.reply.send(Err(RequestError::Unavailable(
                "this node did not catch up with the session in time; retry or read elsewhere"
                    .into(),
            )));
        }
    }

    /// The node is stopping.
    pub(super) fn fail_all(&mut self) {
        for (_, read) in self.confirming.drain() {
            let _ = read.reply.send(Err(RequestError::ShuttingDown));
        }
        let arrived = self.arrived.drain(..).map(|(read, _)| read);
        for read in self.catching_up.drain(..).chain(arrived) {
            let _ = read.reply.send(Err(RequestError::ShuttingDown));
        }
    }
}

impl Host {
    /// Start or serve a read.
    pub(super) fn read(
        &mut self,
        now: Instant,
        key: ReadTarget,
        mode: ReadMode,
        token: SessionToken,
        reply: Reply,
    ) {
        match mode {
            ReadMode::Stale | ReadMode::Session => {
                let deadline = now + self.config.session_wait;
                self.reads.arrived.push((
                    Waiting {
                        key,
                        token,
                        reply,
                        deadline,
                    },
                    mode,
                ));
            }
            ReadMode::Lease if self.config.lease_max_drift.is_none() => {
                let _ = reply.send(Err(RequestError::Rejected(
                    "lease reads are off on this node (start it with a lease drift bound)".into(),
                )));
            }
            ReadMode::Lease | ReadMode::Linearizable => {
                let read = self.read_id();
                match self.replica.read_index(now, read) {
                    Ok(()) => {
                        let deadline = now + self.config.session_wait;
                        self.reads.confirming.insert(
                            read,
                            Waiting {
                                key,
                                token,
                                reply,
                                deadline,
                            },
                        );
                    }
                    Err(error) => {
                        let _ = reply.send(Err(self.read_error(error)));
                    }
                }
            }
        }
    }

    /// Serve the local reads that arrived, now that every output the core
    /// had queued has been performed (the state machine matches the core's
    /// applied point).
    pub(super) fn serve_arrived_reads(&mut self) {
        for (waiting, mode) in std::mem::take(&mut self.reads.arrived) {
            if mode == ReadMode::Stale {
                let position = self.replica.applied_position();
                let _ = waiting
                    .reply
                    .send(Ok(self.serve(&waiting.key, position, waiting.token)));
            } else if let Some(waiting) = self.try_session(waiting) {
                self.reads.catching_up.push(waiting);
            }
        }
    }

    /// Serve a session read if this node has applied what its token names;
    /// hand it back if it must wait.
    fn try_session(&mut self, waiting: Waiting) -> Option<Waiting> {
        match self.replica.read_local(waiting.token) {
            ReadDecision::Serve { at } => {
                let answer = self.serve(&waiting.key, at, waiting.token);
                let _ = waiting.reply.send(Ok(answer));
                None
            }
            ReadDecision::Wait { .. } => Some(waiting),
            ReadDecision::Redirect { .. } => {
                let leader = self.replica.leader();
                let _ = waiting.reply.send(Err(self.not_leader(leader)));
                None
            }
            ReadDecision::Rejected(rejection) => {
                let _ = waiting
                    .reply
                    .send(Err(RequestError::Rejected(rejection.to_string())));
                None
            }
        }
    }

    /// Entries were applied: serve the session reads that can be now.
    pub(super) fn serve_session_waits(&mut self) {
        for waiting in std::mem::take(&mut self.reads.catching_up) {
            if let Some(waiting) = self.try_session(waiting) {
                self.reads.catching_up.push(waiting);
            }
        }
    }

    /// The core confirmed a leader read: every output before this one has
    /// been performed, so the state machine may be read as it stands.
    pub(super) fn read_ready(&mut self, read: ReadId, _at_least: Position) {
        if let Some(waiting) = self.reads.confirming.remove(&read) {
            // What the state machine holds now (the core's applied point
            // may already be ahead, by outputs not yet performed).
            let position = self.kv.applied();
            let _ = waiting
                .reply
                .send(Ok(self.serve(&waiting.key, position, waiting.token)));
        }
    }

    /// The core could not confirm a leader read.
    pub(super) fn read_failed(&mut self, read: ReadId, error: ReadError) {
        if let Some(waiting) = self.reads.confirming.remove(&read) {
            let _ = waiting.reply.send(Err(self.read_error(error)));
        }
    }

    fn read_error(&self, error: ReadError) -> RequestError {
        match error {
            ReadError::NotLeader { leader } | ReadError::LeadershipLost { leader } => {
                self.not_leader(leader)
            }
            other => RequestError::Unavailable(other.to_string()),
        }
    }

    /// The value at `key` (or the entries under a prefix) as applied
    /// through `position`.
    fn serve(&self, key: &ReadTarget, position: Position, token: SessionToken) -> ReadOk {
        let (value, entries) = match key {
            ReadTarget::Key(key) => (self.kv.get(key).map(<[u8]>::to_vec), Vec::new()),
            ReadTarget::Prefix(prefix) => (
                None,
                self.kv
                    .scan_prefix(prefix)
                    .map(|(key, value)| (key.to_owned(), value.to_vec()))
                    .collect(),
            ),
        };
        ReadOk {
            value,
            entries,
            position,
            token: token.after_read(position),
        }
    }
}
