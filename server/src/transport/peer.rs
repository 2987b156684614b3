//! One task per peer. It owns the peer's outgoing queue and its
//! connection: the dialer (the smaller id) dials with backoff, the acceptor
//! takes the connections the listener hands it, and either runs the
//! connection until it ends, then gets another.

use super::backoff::Backoff;
use super::connection::{self, Connection, End};
use super::dial::dial;
use super::{Shared, TransportError};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use steadfast::{Envelope, NodeId};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// The transport's end of a peer's task. Dropping it stops the task.
#[derive(Debug)]
pub(crate) struct PeerHandle {
    /// Where the peer listens.
    pub addr: SocketAddr,
    /// The outgoing queue.
    pub queue: mpsc::Sender<Envelope>,
    /// Where the listener hands connections accepted from the peer.
    pub accepted: mpsc::Sender<Connection>,
    connected: Arc<AtomicBool>,
    cancel: CancellationToken,
}

impl PeerHandle {
    /// Whether the peer has a connection open now.
    pub fn is_connected(&self) -> bool {
        self.connected.load(Ordering::Relaxed)
    }
}

impl Drop for PeerHandle {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

/// The peer's task, as it runs.
struct PeerTask {
    shared: Arc<Shared>,
    peer: NodeId,
    addr: SocketAddr,
    queue: mpsc::Receiver<Envelope>,
    accepted: mpsc::Receiver<Connection>,
    connected: Arc<AtomicBool>,
    cancel: CancellationToken,
}

/// Start the task for `peer` at `addr`.
pub(crate) fn spawn(shared: &Arc<Shared>, peer: NodeId, addr: SocketAddr) -> PeerHandle {
    let (queue_tx, queue) = mpsc::channel(shared.queue_capacity);
    let (accepted_tx, accepted) = mpsc::channel(1);
    let connected = Arc::new(AtomicBool::new(false));
    let cancel = shared.shutdown.child_token();
    let task = PeerTask {
        shared: Arc::clone(shared),
        peer,
        addr,
        queue,
        accepted,
        connected: Arc::clone(&connected),
        cancel: cancel.clone(),
    };
    shared.tasks.spawn_on(task.run(), &shared.runtime);
    PeerHandle {
        addr,
        queue: queue_tx,
        accepted: accepted_tx,
        connected,
        cancel,
    }
}

impl PeerTask {
    /// Get a connection, run it until it ends, and again, until cancelled
    /// or the peer is removed.
    async fn run(mut self) {
        let dials = self.shared.local.node < self.peer;
        let mut backoff = Backoff::new(self.shared.backoff_min, self.shared.backoff_max);
        let mut first_attempt = true;
        loop {
            let connection = if dials {
                if !first_attempt {
                    let delay = backoff.next_delay();
                    let slept = self.cancel.run_until_cancelled(tokio::time::sleep(delay));
                    if slept.await.is_none() {
                        return;
                    }
                }
                first_attempt = false;
                let dialed = dial(&self.shared, self.peer, self.addr);
                match self.cancel.run_until_cancelled(dialed).await {
                    None => return,
                    Some(Ok(connection)) => {
                        backoff.reset();
                        connection
                    }
                    Some(Err(e)) => {
                        self.log_dial_failure(&e);
                        continue;
                    }
                }
            } else {
                let next = self.cancel.run_until_cancelled(self.accepted.recv());
                match next.await.flatten() {
                    Some(connection) => connection,
                    None => return,
                }
            };
            if !self.serve(connection, dials).await {
                return;
            }
        }
    }

    /// Run `connection` (and, on the accepting side, each newer one that
    /// replaces it) until it ends. Returns whether to get another.
    async fn serve(&mut self, mut connection: Connection, dials: bool) -> bool {
        let (node, peer) = (self.shared.local.node, self.peer);
        loop {
            self.connected.store(true, Ordering::Relaxed);
            tracing::info!(%node, %peer, "connected");
            let running = connection::run(&self.shared, peer, connection, &mut self.queue);
            let end = tokio::select! {
                _ = self.cancel.cancelled() => None,
                newer = self.accepted.recv(), if !dials => match newer {
                    Some(newer) => {
                        tracing::info!(%node, %peer, "a newer connection replaces the current one");
                        connection = newer;
                        continue;
                    }
                    None => None,
                },
                end = running => Some(end),
            };
            self.connected.store(false, Ordering::Relaxed);
            return match end {
                None | Some(End::QueueClosed) => false,
                Some(End::PeerClosed) => {
                    tracing::info!(%node, %peer, "connection closed by the peer");
                    true
                }
                Some(End::Failed(e)) => {
                    tracing::info!(%node, %peer, error = %e, "connection failed");
                    true
                }
            };
        }
    }

    /// Log a failed dial: a refusal or a wrong answer is a configuration
    /// problem worth a warning; a peer that is down is expected.
    fn log_dial_failure(&self, error: &TransportError) {
        let node = self.shared.local.node;
        match error {
            TransportError::Refused { .. } | TransportError::BadAnswer { .. } => {
                tracing::warn!(%node, error = %error, "handshake failed");
            }
            _ => tracing::debug!(%node, error = %error, "dial failed"),
        }
    }
}
