//! The transcript's network: one queue of undelivered messages per
//! recipient, and the links a partition cuts. Nothing is delivered until a
//! verb says so.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use steadfast::{Envelope, NodeId};

/// Per-recipient queues and cut links.
#[derive(Clone, Debug, Default)]
pub(crate) struct Network {
    queues: BTreeMap<NodeId, VecDeque<Envelope>>,
    /// Directed links that drop every message (both directions are cut).
    cut: BTreeSet<(NodeId, NodeId)>,
}

impl Network {
    /// Queue a message for its recipient.
    pub fn push(&mut self, envelope: Envelope) {
        self.queues
            .entry(envelope.to)
            .or_default()
            .push_back(envelope);
    }

    /// Take the messages queued for `to` whose kind is `kind` (all when
    /// `None`), oldest first; the others stay queued.
    pub fn take(&mut self, to: NodeId, kind: Option<&str>) -> Vec<Envelope> {
        let Some(queue) = self.queues.get_mut(&to) else {
            return Vec::new();
        };
        let (taken, kept): (Vec<Envelope>, Vec<Envelope>) = queue
            .drain(..)
            .partition(|e| kind.is_none_or(|k| kind_of(e) == k));
        queue.extend(kept);
        taken
    }

    /// Recipients with queued messages.
    pub fn recipients(&self) -> Vec<NodeId> {
        self.queues
            .iter()
            .filter(|(_, q)| !q.is_empty())
            .map(|(id, _)| *id)
            .collect()
    }

    /// Drop everything queued for `to` (it crashed); returns how many.
    pub fn clear(&mut self, to: NodeId) -> usize {
        self.queues.remove(&to).map_or(0, |q| q.len())
    }

    /// Cut every link between `side` and `rest`.
    pub fn partition(&mut self, side: &[NodeId], rest: &[NodeId]) {
        for &a in side {
            for &b in rest {
                self.cut.insert((a, b));
                self.cut.insert((b, a));
            }
        }
    }

    /// Restore every link.
    pub fn heal(&mut self) {
        self.cut.clear();
    }

    /// Whether messages from `from` to `to` are dropped.
    pub fn blocked(&self, from: NodeId, to: NodeId) -> bool {
        self.cut.contains(&(from, to))
    }
}

/// The message's kind as its description starts: `Append`, `VoteResponse`, ...
pub(crate) fn kind_of(envelope: &Envelope) -> String {
    let text = envelope.message.to_string();
    text.split(' ').next().unwrap_or_default().to_string()
}
