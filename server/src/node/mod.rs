//! One node of the cluster: the replica, its storage and the state
//! machine, owned by one thread that feeds the core its inputs and performs
//! its outputs in order.
//!
//! ```text
//! peers ──Envelope──▶ ┐                         ┌──▶ storage (WAL, hard state, snapshots)
//! clients ─Request──▶ ├─▶ node thread: Replica ─┼──▶ network (Send)
//! timer ─────────────▶ ┘   (one input at a time) └──▶ state machine (Apply), replies
//! ```
//!
//! The thread runs its own single-threaded tokio runtime, so `fdatasync`
//! blocks only it. After each input it takes every other input already
//! waiting, then performs the outputs: storage writes are made durable with
//! one sync for the whole batch (group commit) before the core hears
//! `handle_persisted`. A storage failure stops the node: nothing it could
//! still do would be safe.

mod clock;
mod host;
mod reads;
mod request;
mod status;

#[cfg(test)]
pub(crate) mod mem_network;
#[cfg(test)]
mod tests;

pub use clock::ClockOffset;
pub use request::{ReadMode, ReadOk, ReadTarget, Request, RequestError, WriteOk};
pub use status::{FollowerStatus, Status};

use crate::kv::NodeAddrs;
use crate::storage::{StorageError, StorageOptions};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use steadfast::wire::Envelope;
use steadfast::{Durability, ElectionQuorum, NodeId};
use tokio::sync::{mpsc, oneshot};

/// What a node is started with.
#[derive(Clone, Debug)]
pub struct NodeConfig {
    /// Refuses peers of other clusters.
    pub cluster_id: u64,
    /// This node.
    pub id: NodeId,
    /// The initial voters and their addresses (this node included, unless
    /// it is joining).
    pub members: BTreeMap<NodeId, NodeAddrs>,
    /// This node joins a running cluster as a learner: it starts knowing
    /// `members` (minus itself) as the voters and waits to be added with
    /// `POST /cluster/learners` on the leader.
    pub join: bool,
    /// The data directory.
    pub data_dir: PathBuf,
    /// When writes are acknowledged.
    pub durability: Durability,
    /// How many votes elect a leader.
    pub election_quorum: ElectionQuorum,
    /// Leader heartbeat interval.
    pub heartbeat: Duration,
    /// Election timeout range `[min, max)`.
    pub election_timeout: (Duration, Duration),
    /// Lease reads with this clock drift bound (`None`: off).
    pub lease_max_drift: Option<Duration>,
    /// Take a snapshot (and compact the log) every this many applied
    /// entries.
    pub snapshot_every: u64,
    /// Entries the log keeps behind a snapshot, for followers a little
    /// behind (those further behind are sent the snapshot).
    pub snapshot_retain_entries: u64,
    /// Log segment layout.
    pub storage: StorageOptions,
    /// How long a session read waits for this node to catch up.
    pub session_wait: Duration,
    /// Added to this node's clock (milliseconds; fault testing of leases).
    pub clock_offset: ClockOffset,
    /// Serve `POST /admin/clock-offset`, which changes `clock_offset` while
    /// the node runs (fault testing only: off by default).
    pub clock_control: bool,
    /// Record every call into the replica in a new file in this directory
    /// (see [`crate::trace`]); `None`: off.
    pub trace_dir: Option<PathBuf>,
}

impl NodeConfig {
    /// A configuration with the usual timeouts (heartbeat 50 ms, election
    /// 300–600 ms), `Quorum` durability and majority elections.
    pub fn new(
        cluster_id: u64,
        id: NodeId,
        members: BTreeMap<NodeId, NodeAddrs>,
        data_dir: PathBuf,
    ) -> NodeConfig {
        NodeConfig {
            cluster_id,
            id,
            members,
            join: false,
            data_dir,
            durability: Durability::Quorum,
            election_quorum: ElectionQuorum::Majority,
            heartbeat: Duration::from_millis(50),
            election_timeout: (Duration::from_millis(300), Duration::from_millis(600)),
            lease_max_drift: None,
            snapshot_every: 10_000,
            snapshot_retain_entries: 1024,
            storage: StorageOptions::default(),
            session_wait: Duration::from_secs(2),
            clock_offset: ClockOffset::default(),
            clock_control: false,
            trace_dir: None,
        }
    }
}

/// How a node sends to its peers (the TCP transport, or an in-memory
/// network in tests). Sending never blocks; a message may be dropped.
pub trait PeerNetwork: Send + Sync + 'static {
    /// Queue `envelope` for `envelope.to`; false if it was dropped.
    fn send(&self, envelope: Envelope) -> bool;
    /// Start talking to `node` at `addr`.
    fn add_peer(&self, node: NodeId, addr: SocketAddr);
    /// Stop talking to `node`.
    fn remove_peer(&self, node: NodeId);
}

/// Why a node could not start.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// The data directory could not be opened.
    #[error("data directory: {0}")]
    Storage(#[from] StorageError),
    /// The core refused the configuration or the recovered state.
    #[error("the replica refused to start: {0}")]
    Replica(String),
    /// The snapshot in the data directory is not a state of ours.
    #[error("snapshot: {0}")]
    Snapshot(#[from] crate::kv::RestoreError),
    /// The trace file could not be created.
    #[error("trace: {0}")]
    Trace(crate::trace::TraceWriteError),
    /// The node thread could not be started.
    #[error("cannot start the node thread: {0}")]
    Thread(std::io::Error),
}

impl From<crate::trace::StartError> for NodeError {
    fn from(e: crate::trace::StartError) -> NodeError {
        match e {
            crate::trace::StartError::Restart(e) => NodeError::Replica(e.to_string()),
            crate::trace::StartError::Trace(e) => NodeError::Trace(e),
        }
    }
}

/// A running node: send it requests, stop it.
#[derive(Debug)]
pub struct Node {
    requests: mpsc::Sender<Request>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    /// Resolves with the reason if the node thread stops on its own (a
    /// storage failure).
    failed: Option<oneshot::Receiver<String>>,
    id: NodeId,
    clock_control: Option<ClockOffset>,
}

/// A cheap handle for sending requests to a node (one per HTTP handler).
#[derive(Clone, Debug)]
pub struct NodeClient {
    requests: mpsc::Sender<Request>,
    /// The node's clock offset, when it may be changed over the API.
    clock_control: Option<ClockOffset>,
}

impl Node {
    /// Open the data directory, restart the replica from it and run the
    /// node on its own thread. `inbound` carries the peers' messages.
    pub fn start(
        config: NodeConfig,
        network: Arc<dyn PeerNetwork>,
        inbound: mpsc::Receiver<Envelope>,
    ) -> Result<Node, NodeError> {
        let id = config.id;
        let clock_control = config.clock_control.then(|| config.clock_offset.clone());
        let host = host::Host::open(config, network)?;
        let (requests, requests_rx) = mpsc::channel(4096);
        let (stop, stop_rx) = oneshot::channel();
        let (failed_tx, failed) = oneshot::channel();
        let thread = std::thread::Builder::new()
            .name(format!("node-{id}"))
            .spawn(move || {
                if let Err(failure) = host.run(inbound, requests_rx, stop_rx) {
                    let _ = failed_tx.send(failure);
                }
            })
            .map_err(NodeError::Thread)?;
        Ok(Node {
            requests,
            stop: Some(stop),
            thread: Some(thread),
            failed: Some(failed),
            id,
            clock_control,
        })
    }

    /// This node's id.
    pub fn id(&self) -> NodeId {
        self.id
    }

    /// Resolves with the reason when the node thread stops on its own (its
    /// storage failed); pending forever otherwise. Taken once.
    pub fn failure(&mut self) -> impl std::future::Future<Output = String> + Send + 'static {
        let failed = self.failed.take();
        async move {
            match failed {
                Some(failed) => match failed.await {
                    Ok(reason) => reason,
                    // Stopped on request: never a failure.
                    Err(_) => std::future::pending().await,
                },
                None => std::future::pending().await,
            }
        }
    }

    /// A handle for sending requests.
    pub fn client(&self) -> NodeClient {
        NodeClient {
            requests: self.requests.clone(),
            clock_control: self.clock_control.clone(),
        }
    }

    /// Stop the node thread and wait for it.
    pub fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.stop();
    }
}

impl NodeClient {
    /// Send `request` built around a reply channel, and wait for the answer.
    pub async fn ask<T>(
        &self,
        request: impl FnOnce(oneshot::Sender<Result<T, RequestError>>) -> Request,
    ) -> Result<T, RequestError> {
        let (reply, answer) = oneshot::channel();
        self.requests
            .send(request(reply))
            .await
            .map_err(|_| RequestError::ShuttingDown)?;
        answer.await.unwrap_or(Err(RequestError::ShuttingDown))
    }

    /// The node's status.
    pub async fn status(&self) -> Result<Status, RequestError> {
        self.ask(|reply| Request::Status { reply }).await
    }

    /// The node's clock offset, if it was started with clock control on.
    pub fn clock_control(&self) -> Option<&ClockOffset> {
        self.clock_control.as_ref()
    }
}
