//! What the transport has done so far: counters, read without stopping it.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};
use steadfast::NodeId;

/// A snapshot of the transport's counters (each counts envelopes, except
/// `refused_handshakes`), and the peers connected right now.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TransportStats {
    /// Envelopes written to a peer's connection (and flushed).
    pub sent: u64,
    /// Envelopes [`Transport::send`](super::Transport::send) did not queue
    /// (unknown peer, full queue, wrong sender, transport shut down), or
    /// that could not be encoded within
    /// [`MAX_ENVELOPE_BYTES`](steadfast::wire::MAX_ENVELOPE_BYTES).
    pub dropped: u64,
    /// Envelopes received and handed to the inbound channel.
    pub received: u64,
    /// Envelopes received and valid, but dropped because the inbound
    /// channel was full or closed.
    pub inbound_dropped: u64,
    /// Frames received and dropped as invalid: not a decodable envelope,
    /// or an envelope not from the connection's peer or not to this node.
    pub invalid: u64,
    /// Hellos this node refused as the acceptor.
    pub refused_handshakes: u64,
    /// The peers with a connection open now (handshake done).
    pub connected: BTreeSet<NodeId>,
}

/// The live counters behind [`TransportStats`].
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub sent: AtomicU64,
    pub dropped: AtomicU64,
    pub received: AtomicU64,
    pub inbound_dropped: AtomicU64,
    pub invalid: AtomicU64,
    pub refused_handshakes: AtomicU64,
}

impl Counters {
    /// Add `n` to `counter`.
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    /// Add one to `counter`.
    pub fn bump(counter: &AtomicU64) {
        Counters::add(counter, 1);
    }

    /// The counters now, with `connected`.
    pub fn snapshot(&self, connected: BTreeSet<NodeId>) -> TransportStats {
        let read = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        TransportStats {
            sent: read(&self.sent),
            dropped: read(&self.dropped),
            received: read(&self.received),
            inbound_dropped: read(&self.inbound_dropped),
            invalid: read(&self.invalid),
            refused_handshakes: read(&self.refused_handshakes),
            connected,
        }
    }
}
