//! `steadfast-server run`: one node, wired together: the transport, the
//! node thread, the HTTP API; stopped cleanly by Ctrl-C or SIGTERM.

use crate::config::ServerConfig;
use crate::http::{router, Metrics};
use crate::node::{Node, NodeError, PeerNetwork};
use crate::transport::{Transport, TransportConfig, TransportError};
use std::net::SocketAddr;
use std::sync::Arc;
use steadfast::wire::Envelope;
use steadfast::NodeId;
use tokio::sync::mpsc;

/// The TCP transport is how a node reaches its peers.
impl PeerNetwork for Transport {
    fn send(&self, envelope: Envelope) -> bool {
        Transport::send(self, envelope)
    }

    fn add_peer(&self, node: NodeId, addr: SocketAddr) {
        Transport::add_peer(self, node, addr);
    }

    fn remove_peer(&self, node: NodeId) {
        Transport::remove_peer(self, node);
    }
}

/// Why a node could not run.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The peer transport did not start.
    #[error("peer transport: {0}")]
    Transport(#[from] TransportError),
    /// The node did not start.
    #[error("{0}")]
    Node(#[from] NodeError),
    /// The HTTP address could not be bound.
    #[error("cannot listen for clients on {addr}: {source}")]
    Http {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The node stopped on its own (its storage failed).
    #[error("the node stopped: {0}")]
    Stopped(String),
    /// The metrics registry refused a definition.
    #[error("metrics: {0}")]
    Metrics(#[from] prometheus::Error),
}

/// Run the node described by `config` until Ctrl-C or SIGTERM.
pub async fn run(config: ServerConfig) -> Result<(), RunError> {
    let node_config = config.node;
    let me = node_config.id;
    let peers = node_config
        .members
        .iter()
        .filter(|(&id, _)| id != me)
        .map(|(&id, addrs)| (id, addrs.peer))
        .collect();
    let http = tokio::net::TcpListener::bind(config.listen_http)
        .await
        .map_err(|source| RunError::Http {
            addr: config.listen_http,
            source,
        })?;
    let (inbound_tx, inbound) = mpsc::channel(16 * 1024);
    let transport_config =
        TransportConfig::new(node_config.cluster_id, me, config.listen_peer, peers);
    let transport = Transport::start(transport_config, inbound_tx).await?;
    let mut node = Node::start(node_config, Arc::new(transport.clone()), inbound)?;
    let api = router(node.client(), Metrics::new()?);
    tracing::info!(
        "node {me}: peers on {}, clients on {}",
        transport.local_addr(),
        config.listen_http
    );
    let failure = node.failure();
    let (failed_tx, mut failed_rx) = tokio::sync::oneshot::channel();
    let stop = async move {
        tokio::select! {
            () = stop_signal() => {}
            reason = failure => {
                let _ = failed_tx.send(reason);
            }
        }
    };
    let served = axum::serve(http, api).with_graceful_shutdown(stop).await;
    if let Err(e) = served {
        tracing::error!("node {me}: the HTTP server failed: {e}");
    }
    tracing::info!("node {me}: stopping");
    // The node thread blocks on storage; stop it off the runtime's threads.
    let _ = tokio::task::spawn_blocking(move || node.stop()).await;
    transport.shutdown().await;
    match failed_rx.try_recv() {
        // The process exits too, so that a supervisor restarts it.
        Ok(reason) => Err(RunError::Stopped(reason)),
        Err(_) => Ok(()),
    }
}

/// Ctrl-C or SIGTERM.
async fn stop_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}
