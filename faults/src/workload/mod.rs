//! The workloads: concurrent clients that record every operation.
//!
//! - [`register`]: per-key registers; writes of unique values, reads in
//!   the run's leader read mode (`linearizable`, or `lease` in lease mode).
//! - [`set`]: a grow-only set kept as keys under `set/`: adds, and reads of
//!   the whole set with a prefix read.
//! - [`session`]: sessions that write and then read from random nodes with
//!   `consistency=session`, carrying the session token.
//!
//! Every operation goes through an [`Actor`], which ends it as
//! [`classify`](crate::classify) says and takes a new client id after an
//! `Unknown` ending (at most one open operation per client id).

mod client;
mod recorder;
pub mod register;
pub mod session;
pub mod set;

pub use client::{mode_name, Call, Client, ClientError, Endpoints, Reply, SET_PREFIX};
pub use recorder::{Invocation, Recorder};

use crate::classify::Ending;
use crate::history::{ClientId, Op, Operation, Outcome, SessionId};
use rand::rngs::StdRng;
use rand::Rng;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// What every client of a run shares.
#[derive(Clone, Debug)]
pub struct Shared {
    /// The HTTP client.
    pub client: Client,
    /// The history.
    pub recorder: Arc<Recorder>,
    /// Set when the workloads must stop.
    pub stop: Arc<AtomicBool>,
    /// The next register value (unique over the run, so unique per key).
    pub next_value: Arc<AtomicU64>,
    /// The next set element (unique over the run).
    pub next_element: Arc<AtomicU64>,
    /// Pause between one client's operations.
    pub think: Duration,
}

impl Shared {
    /// Whether the workloads must stop.
    pub fn stopping(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    /// A value never written before.
    pub fn fresh_value(&self) -> u64 {
        self.next_value.fetch_add(1, Ordering::Relaxed)
    }

    /// An element never added before.
    pub fn fresh_element(&self) -> u64 {
        self.next_element.fetch_add(1, Ordering::Relaxed)
    }

    /// A random member, if any.
    pub fn random_node(&self, rng: &mut StdRng) -> Option<u64> {
        let nodes = self.client.endpoints().nodes();
        if nodes.is_empty() {
            return None;
        }
        nodes.get(rng.random_range(0..nodes.len())).copied()
    }

    /// Wait `think`, slightly jittered.
    pub async fn think(&self, rng: &mut StdRng) {
        let base = self.think.as_millis() as u64;
        let jitter = rng.random_range(0..=base / 2);
        tokio::time::sleep(Duration::from_millis(base / 2 + jitter)).await;
    }
}

/// One client process: invokes one operation at a time and records it.
#[derive(Debug)]
pub struct Actor {
    shared: Shared,
    client: ClientId,
    session: Option<SessionId>,
}

impl Actor {
    /// A new client (in `session`, if any).
    pub fn new(shared: Shared, session: Option<SessionId>) -> Actor {
        let client = shared.recorder.new_client();
        Actor {
            shared,
            client,
            session,
        }
    }

    /// What it shares with the other clients.
    pub fn shared(&self) -> &Shared {
        &self.shared
    }

    /// Invoke `op` as `call` on `node` with `token`; record and return how
    /// it ended, and the token the answer carried.
    pub async fn perform(
        &mut self,
        node: u64,
        op: Op,
        call: &Call,
        token: Option<&str>,
    ) -> (Operation, Option<String>) {
        let invocation = self.shared.recorder.invoke(self.client, self.session, op);
        let reply = self.shared.client.call(node, call, token).await;
        let outcome = match reply.result {
            Ok(value) => Outcome::Ok(value),
            Err(Ending::Fail(reason)) => Outcome::Fail { reason },
            Err(Ending::Unknown(reason)) => Outcome::Unknown { reason },
        };
        let unknown = matches!(outcome, Outcome::Unknown { .. });
        let operation = self.shared.recorder.end(invocation, reply.node, outcome);
        if unknown {
            // The operation may still be in flight: never invoke again
            // under this id.
            self.client = self.shared.recorder.new_client();
        }
        (operation, reply.token)
    }
}
