//! What senders' states were when their messages could have been sent: the
//! history the "as sent" reading of a guard consults.
//!
//! The verified model's steps are atomic: a follower's `Replicate` reads the
//! leader's state *now*. A real follower handles a message the leader sent
//! earlier; by then the leader may have stepped down, crashed, or moved on.
//! [`Sent`] keeps, per sender and epoch, the union of the states it had
//! while it could send messages of that epoch. Evaluating a guard against it
//! is **not** the verified model: it is the message-passing reading of the
//! same guard, and every step that needs it is reported as such
//! ([`Reading::AsSent`]).

use std::collections::{BTreeMap, BTreeSet};

use steadfast::{Epoch, Lsn, NodeId, Position};

use super::state::{AbstractLog, AbstractState};

/// How a transition's guards that read another node's state were evaluated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Reading {
    /// Exactly as the verified model states them: against the current state.
    Strict,
    /// Against the sender's state when the message was sent (see [`Sent`]).
    /// Weaker than the model; not covered by the proofs.
    AsSent,
}

/// Sender-side history accumulated along one run.
#[derive(Debug, Clone, Default)]
pub struct Sent {
    /// `(leader, epoch)` ↦ every entry that leader held while leading in that
    /// epoch. A leader's log only grows while it leads, so this is its log at
    /// the latest moment it led; any `Append` of that epoch carried a prefix
    /// of it.
    pub leader_logs: BTreeMap<(NodeId, Epoch), AbstractLog>,
    /// `(candidate, epoch)` ↦ the candidate's last position when it started
    /// the election of that epoch: what its vote requests carried.
    pub campaign_last: BTreeMap<(NodeId, Epoch), Position>,
    /// `(node, epoch)` ↦ every entry `(lsn, entry epoch)` the node held while
    /// in that epoch: what any acknowledgement it sent in that epoch can vouch
    /// for.
    pub held_in_epoch: BTreeMap<(NodeId, Epoch), BTreeSet<(Lsn, Epoch)>>,
}

impl Sent {
    /// Record what `n` could send in `state`.
    pub fn record(&mut self, state: &AbstractState, n: NodeId) {
        let epoch = state.epoch(n);
        let log = state.log_of(n);
        if state.leading.contains(&n) {
            let led = self.leader_logs.entry((n, epoch)).or_default();
            led.extend(log.iter().map(|(l, e)| (*l, *e)));
        }
        let held = self.held_in_epoch.entry((n, epoch)).or_default();
        held.extend(log.iter().map(|(l, e)| (*l, *e)));
    }

    /// Record that `candidate` started the election of `epoch` from `state`.
    pub fn record_campaign(&mut self, state: &AbstractState, candidate: NodeId, epoch: Epoch) {
        self.campaign_last
            .entry((candidate, epoch))
            .or_insert_with(|| state.last(candidate));
    }
}
