//! TCP between peers: each pair of nodes shares one connection, opened with
//! a handshake and then carrying the core's envelopes both ways.
//!
//! - **One connection per pair.** The node with the smaller id dials the
//!   larger; the larger accepts. The dialer reconnects whenever the
//!   connection drops, with exponential backoff (`backoff_min` doubling up to
//!   `backoff_max`, back to the minimum after a successful handshake); the
//!   acceptor waits for the next connection, and a newer connection from a
//!   peer replaces the older one.
//! - **Handshake** (see `handshake.rs`). Before any envelope the dialer
//!   sends a hello (magic, version, cluster id, its id, the id it dialed);
//!   the acceptor checks the cluster, that the hello is addressed to it,
//!   that the dialer is one of its peers and has the smaller id, and
//!   answers with an accept or with a refusal naming the reason, after
//!   which it closes. Refusals are counted
//!   ([`TransportStats::refused_handshakes`]) and logged. The dialer checks
//!   the accept in turn.
//! - **Framing.** Every frame is length-delimited
//!   ([`LengthDelimitedCodec`](tokio_util::codec::LengthDelimitedCodec));
//!   after the handshake each frame is one envelope in the core's codec
//!   ([`steadfast::wire::encode`]), at most
//!   [`MAX_ENVELOPE_BYTES`](steadfast::wire::MAX_ENVELOPE_BYTES). A frame
//!   that does not decode, or an envelope not from the connection's peer or
//!   not to this node, is dropped and counted ([`TransportStats::invalid`]);
//!   the connection stays up.
//! - **Bounded queues.** Each peer has an outgoing queue of
//!   `queue_capacity` envelopes. [`Transport::send`] never blocks: it drops
//!   the envelope (and counts it) when the queue is full. While a peer is
//!   disconnected its envelopes wait in the queue and go out once it is
//!   back; envelopes taken from the queue when a connection breaks are lost.
//!   The protocol tolerates loss.
//! - **Inbound** envelopes are handed over with `try_send`: a socket reader
//!   never waits for a slow consumer. An envelope the inbound channel has no
//!   room for is dropped and counted ([`TransportStats::inbound_dropped`]),
//!   so size the channel for bursts.
//!
//! ```no_run
//! use std::collections::BTreeMap;
//! use steadfast::{Envelope, Epoch, Message, NodeId};
//! use steadfast_server::transport::{Transport, TransportConfig};
//!
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! let peers = BTreeMap::from([(NodeId(2), "10.0.0.2:7000".parse()?)]);
//! let config = TransportConfig::new(42, NodeId(1), "10.0.0.1:7000".parse()?, peers);
//! let (inbound, mut received) = tokio::sync::mpsc::channel(4096);
//! let transport = Transport::start(config, inbound).await?;
//! let message = Message::TimeoutNow { epoch: Epoch(3) };
//! transport.send(Envelope { from: NodeId(1), to: NodeId(2), message });
//! if let Some(envelope) = received.recv().await {
//!     println!("{} sent {}", envelope.from, envelope.message.kind());
//! }
//! transport.shutdown().await;
//! # Ok(())
//! # }
//! ```

mod backoff;
mod connection;
mod dial;
mod error;
mod handshake;
mod listener;
mod peer;
mod stats;

#[cfg(test)]
mod tests;

pub use error::TransportError;
pub use handshake::Refusal;
pub use stats::TransportStats;

use handshake::Local;
use peer::PeerHandle;
use stats::Counters;
use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;
use steadfast::{Envelope, NodeId};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// How long a connection attempt, and each side of a handshake, may take.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);

/// Where a node listens, who its peers are, and how it treats them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransportConfig {
    /// The cluster: a hello from a node of another cluster is refused.
    pub cluster_id: u64,
    /// This node.
    pub node: NodeId,
    /// The address to listen on (port 0: any free port; see
    /// [`Transport::local_addr`]).
    pub listen: SocketAddr,
    /// The other nodes, with their listening addresses (not this node).
    pub peers: BTreeMap<NodeId, SocketAddr>,
    /// How many envelopes each peer's outgoing queue holds.
    pub queue_capacity: usize,
    /// The first wait before redialing a peer.
    pub backoff_min: Duration,
    /// The longest wait before redialing a peer.
    pub backoff_max: Duration,
}

impl TransportConfig {
    /// A configuration with a queue of 1024 envelopes per peer and a
    /// redial backoff from 50 ms to 2 s.
    pub fn new(
        cluster_id: u64,
        node: NodeId,
        listen: SocketAddr,
        peers: BTreeMap<NodeId, SocketAddr>,
    ) -> Self {
        TransportConfig {
            cluster_id,
            node,
            listen,
            peers,
            queue_capacity: 1024,
            backoff_min: Duration::from_millis(50),
            backoff_max: Duration::from_secs(2),
        }
    }

    /// Refuse settings the transport cannot work with.
    fn validate(&self) -> Result<(), TransportError> {
        if self.queue_capacity == 0 {
            return Err(TransportError::ZeroQueueCapacity);
        }
        if self.backoff_min.is_zero() || self.backoff_min > self.backoff_max {
            return Err(TransportError::Backoff {
                min: self.backoff_min,
                max: self.backoff_max,
            });
        }
        if self.peers.contains_key(&self.node) {
            return Err(TransportError::SelfAsPeer(self.node));
        }
        Ok(())
    }
}

/// A node's connections to its peers. Cheap to clone: clones share the
/// same connections. Dropping the last clone stops everything, as
/// [`Transport::shutdown`] does, without waiting.
#[derive(Clone, Debug)]
pub struct Transport {
    owner: Arc<Owner>,
}

/// Held only by [`Transport`] handles (never by its tasks), so that
/// dropping the last handle stops the tasks.
#[derive(Debug)]
struct Owner {
    shared: Arc<Shared>,
}

impl Drop for Owner {
    fn drop(&mut self) {
        self.shared.shutdown.cancel();
    }
}

/// What the transport's tasks share.
#[derive(Debug)]
pub(crate) struct Shared {
    pub local: Local,
    pub local_addr: SocketAddr,
    pub queue_capacity: usize,
    pub backoff_min: Duration,
    pub backoff_max: Duration,
    pub inbound: mpsc::Sender<Envelope>,
    pub counters: Counters,
    peers: Mutex<BTreeMap<NodeId, PeerHandle>>,
    /// Cancelled by shutdown; every task stops on it.
    pub shutdown: CancellationToken,
    /// Every task, so that shutdown can wait for them.
    pub tasks: TaskTracker,
    /// The runtime `start` ran on: every task runs there, whichever thread
    /// calls `send` or `add_peer` (a node's own thread, say).
    pub runtime: tokio::runtime::Handle,
}

impl Transport {
    /// Bind `config.listen`, accept peers' connections, dial the peers with
    /// larger ids, and hand every envelope received to `inbound` (with
    /// `try_send`: see the module's documentation). Must be called within a
    /// tokio runtime.
    pub async fn start(
        config: TransportConfig,
        inbound: mpsc::Sender<Envelope>,
    ) -> Result<Transport, TransportError> {
        config.validate()?;
        let bind_error = |source| TransportError::Bind {
            addr: config.listen,
            source,
        };
        let listener = TcpListener::bind(config.listen).await.map_err(bind_error)?;
        let local_addr = listener.local_addr().map_err(bind_error)?;
        let shared = Arc::new(Shared {
            local: Local {
                cluster_id: config.cluster_id,
                node: config.node,
            },
            local_addr,
            queue_capacity: config.queue_capacity,
            backoff_min: config.backoff_min,
            backoff_max: config.backoff_max,
            inbound,
            counters: Counters::default(),
            peers: Mutex::new(BTreeMap::new()),
            shutdown: CancellationToken::new(),
            tasks: TaskTracker::new(),
            runtime: tokio::runtime::Handle::current(),
        });
        for (&node, &addr) in &config.peers {
            shared.add_peer(node, addr);
        }
        shared.tasks.spawn_on(
            listener::run(Arc::clone(&shared), listener),
            &shared.runtime,
        );
        tracing::info!(node = %config.node, %local_addr, peers = config.peers.len(), "transport started");
        Ok(Transport {
            owner: Arc::new(Owner { shared }),
        })
    }

    /// Queue `envelope` for `envelope.to`. Never blocks. Returns false, and
    /// counts a drop, when the envelope is not from this node, its
    /// addressee is not a peer, the peer's queue is full, or the transport
    /// is shut down.
    pub fn send(&self, envelope: Envelope) -> bool {
        let shared = &self.owner.shared;
        let queued = envelope.from == shared.local.node
            && shared
                .peers()
                .get(&envelope.to)
                .is_some_and(|peer| peer.queue.try_send(envelope).is_ok());
        if !queued {
            Counters::bump(&shared.counters.dropped);
        }
        queued
    }

    /// The address the transport listens on (with the port chosen when
    /// `listen` had port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.owner.shared.local_addr
    }

    /// Start talking to `node` at `addr`: dial it if its id is larger,
    /// accept its connections otherwise. A peer already known at `addr` is
    /// left as it is; one known at another address is restarted there (its
    /// queue is dropped). Ignored for this node itself and after shutdown.
    pub fn add_peer(&self, node: NodeId, addr: SocketAddr) {
        self.owner.shared.add_peer(node, addr);
    }

    /// Stop talking to `node`: close its connection and drop its queue.
    pub fn remove_peer(&self, node: NodeId) {
        let removed = self.owner.shared.peers().remove(&node);
        if removed.is_some() {
            tracing::info!(node = %self.owner.shared.local.node, peer = %node, "peer removed");
        }
    }

    /// The counters so far, and the peers connected now.
    pub fn stats(&self) -> TransportStats {
        let shared = &self.owner.shared;
        let connected: BTreeSet<NodeId> = shared
            .peers()
            .iter()
            .filter(|(_, peer)| peer.is_connected())
            .map(|(&node, _)| node)
            .collect();
        shared.counters.snapshot(connected)
    }

    /// Stop accepting, close every connection, and wait for every task to
    /// end. Envelopes still queued are dropped; later sends return false.
    pub async fn shutdown(&self) {
        let shared = &self.owner.shared;
        shared.shutdown.cancel();
        std::mem::take(&mut *shared.peers());
        shared.tasks.close();
        shared.tasks.wait().await;
        tracing::info!(node = %shared.local.node, "transport shut down");
    }
}

impl Shared {
    /// The peers, even if a thread panicked holding them (the map stays
    /// consistent: every change to it is a single insert or remove).
    fn peers(&self) -> MutexGuard<'_, BTreeMap<NodeId, PeerHandle>> {
        self.peers.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// See [`Transport::add_peer`].
    fn add_peer(self: &Arc<Self>, node: NodeId, addr: SocketAddr) {
        if node == self.local.node {
            tracing::warn!(%node, "not adding a node as its own peer");
            return;
        }
        if self.shutdown.is_cancelled() {
            tracing::debug!(node = %self.local.node, peer = %node, "not adding a peer after shutdown");
            return;
        }
        let mut peers = self.peers();
        if peers.get(&node).is_some_and(|peer| peer.addr == addr) {
            return;
        }
        tracing::info!(node = %self.local.node, peer = %node, %addr, "peer added");
        peers.insert(node, peer::spawn(self, node, addr));
    }

    /// Whether `node` is a peer.
    pub fn is_peer(&self, node: NodeId) -> bool {
        self.peers().contains_key(&node)
    }

    /// Where to hand a connection accepted from `node`, if it is a peer.
    pub fn handover(&self, node: NodeId) -> Option<mpsc::Sender<connection::Connection>> {
        self.peers().get(&node).map(|peer| peer.accepted.clone())
    }
}
