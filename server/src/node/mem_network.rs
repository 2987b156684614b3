//! An in-memory peer network for tests: envelopes go straight to the
//! nodes' inbound channels.

use super::PeerNetwork;
use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::Mutex;
use steadfast::wire::Envelope;
use steadfast::NodeId;
use tokio::sync::mpsc;

/// Delivers envelopes to the nodes' inbound channels; a node whose inbox
/// is removed is cut off. Records which peers each node talks to.
#[derive(Default)]
pub(crate) struct MemNetwork {
    pub(crate) inboxes: Mutex<BTreeMap<NodeId, mpsc::Sender<Envelope>>>,
    /// Per node, the peers it asked to talk to and not dropped since.
    pub(crate) peers: Mutex<BTreeMap<NodeId, BTreeSet<NodeId>>>,
}

impl MemNetwork {
    /// The peers `node` talks to now.
    pub(crate) fn peers_of(&self, node: NodeId) -> BTreeSet<NodeId> {
        let peers = self.peers.lock().unwrap_or_else(|e| e.into_inner());
        peers.get(&node).cloned().unwrap_or_default()
    }
}

/// One node's view of a [`MemNetwork`].
pub(crate) struct NodeNetwork {
    pub(crate) network: Arc<MemNetwork>,
    pub(crate) me: NodeId,
}

impl PeerNetwork for NodeNetwork {
    fn send(&self, envelope: Envelope) -> bool {
        let inboxes = self
            .network
            .inboxes
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        inboxes
            .get(&envelope.to)
            .is_some_and(|inbox| inbox.try_send(envelope).is_ok())
    }
    fn add_peer(&self, node: NodeId, _: SocketAddr) {
        let mut peers = self.network.peers.lock().unwrap_or_else(|e| e.into_inner());
        peers.entry(self.me).or_default().insert(node);
    }
    fn remove_peer(&self, node: NodeId) {
        let mut peers = self.network.peers.lock().unwrap_or_else(|e| e.into_inner());
        peers.entry(self.me).or_default().remove(&node);
    }
}
