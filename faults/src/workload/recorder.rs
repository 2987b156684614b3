//! The history as it is being made: operations are numbered and stamped
//! when invoked and added when they end, all against one monotonic clock.

use crate::history::{ClientId, History, Op, Operation, Outcome, SessionId};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Records every operation of a run.
#[derive(Debug)]
pub struct Recorder {
    start: Instant,
    /// The next operation id, and the operations that ended.
    state: Mutex<(u64, Vec<Operation>)>,
    next_client: AtomicU64,
}

/// An operation invoked and not yet ended.
#[derive(Debug)]
pub struct Invocation {
    id: u64,
    client: ClientId,
    session: Option<SessionId>,
    op: Op,
    invoked: Duration,
}

impl Recorder {
    /// A recorder whose clock starts now.
    pub fn new() -> Recorder {
        Recorder {
            start: Instant::now(),
            state: Mutex::new((0, Vec::new())),
            next_client: AtomicU64::new(1),
        }
    }

    /// Time since the start of the run.
    pub fn elapsed(&self) -> Duration {
        self.start.elapsed()
    }

    /// A client id never used before.
    pub fn new_client(&self) -> ClientId {
        self.next_client.fetch_add(1, Ordering::Relaxed)
    }

    /// `client` invokes `op` now.
    pub fn invoke(&self, client: ClientId, session: Option<SessionId>, op: Op) -> Invocation {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        // Numbered and stamped under one lock: ids follow invocation order.
        let id = state.0;
        state.0 += 1;
        Invocation {
            id,
            client,
            session,
            op,
            invoked: self.elapsed(),
        }
    }

    /// The invocation ended at `node` with `outcome`.
    pub fn end(&self, invocation: Invocation, node: u64, outcome: Outcome) -> Operation {
        let ended = self.elapsed();
        let operation = Operation {
            id: invocation.id,
            client: invocation.client,
            session: invocation.session,
            node,
            op: invocation.op,
            invoked: invocation.invoked,
            ended,
            outcome,
        };
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.1.push(operation.clone());
        operation
    }

    /// Every operation that ended, in order of invocation.
    pub fn history(&self) -> History {
        let state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let mut operations = state.1.clone();
        operations.sort_by_key(|op| op.id);
        History { operations }
    }

    /// How many operations ended so far.
    pub fn len(&self) -> usize {
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .1
            .len()
    }

    /// Whether none ended yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Default for Recorder {
    fn default() -> Self {
        Recorder::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::ReadMode;

    #[test]
    fn operations_are_numbered_in_invocation_order_whatever_order_they_end_in() {
        let recorder = Recorder::new();
        let client = recorder.new_client();
        let other = recorder.new_client();
        assert_ne!(client, other);
        let first = recorder.invoke(client, None, Op::Add { element: 1 });
        let second = recorder.invoke(
            other,
            Some(7),
            Op::ReadSet {
                mode: ReadMode::Linearizable,
            },
        );
        let fail = Outcome::Fail {
            reason: "refused".into(),
        };
        recorder.end(second, 2, fail.clone());
        recorder.end(first, 1, fail);
        let history = recorder.history();
        let ids: Vec<u64> = history.operations.iter().map(|op| op.id).collect();
        assert_eq!(ids, [0, 1]);
        assert_eq!(history.operations[1].session, Some(7));
        assert!(history.operations.iter().all(|op| op.ended >= op.invoked));
    }
}
