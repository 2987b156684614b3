//! An in-memory peer network for tests: envelopes go straight to the
//! nodes' inbound channels.

use super::PeerNetwork;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Mutex;
use steadfast::wire::Envelope;
use steadfast::NodeId;
use tokio::sync::mpsc;

/// Delivers envelopes to the nodes' inbound channels; a node whose inbox
/// is removed is cut off.
#[derive(Default)]
pub(crate) struct MemNetwork {
    pub(crate) inboxes: Mutex<BTreeMap<NodeId, mpsc::Sender<Envelope>>>,
}

impl PeerNetwork for MemNetwork {
    fn send(&self, envelope: Envelope) -> bool {
        let inboxes = self.inboxes.lock().unwrap_or_else(|e| e.into_inner());
        inboxes
            .get(&envelope.to)
            .is_some_and(|inbox| inbox.try_send(envelope).is_ok())
    }
    fn add_peer(&self, _: NodeId, _: SocketAddr) {}
    fn remove_peer(&self, _: NodeId) {}
}
