//! The canonical form of a model state: the state without what cannot
//! change any behaviour, so that the checker stores one state where a
//! naive search would store several that behave alike.
//!
//! - **The duplicating network's last delivery.** stateright's duplicating
//!   network remembers the last message it delivered, so that a delivery
//!   that changes no actor still makes a new state. Nothing in the model
//!   reads it: which messages can be delivered is the set of messages sent.
//! - **Dead responses.** A response (to an append, a vote or a snapshot
//!   chunk) addressed to a server whose epoch is already past the
//!   response's is dropped by the core on arrival, unread and unanswered
//!   (`Replica::fence`), and a server's epoch never goes back (its hard
//!   state is durable, and `EpochNeverBackwards` is checked on every step).
//!   Such a message can never change anything, and on an unordered network
//!   (duplicating or not) it holds nothing back, so states that differ only
//!   in holding it behave alike. (Pre-vote responses are left alone: the
//!   core reads them before it compares epochs. Per-link FIFO networks keep
//!   theirs: there a dead response still holds back the messages queued
//!   behind it until it is consumed.) Debug builds deliver every
//!   response this drops to a copy of its receiver and panic unless the
//!   delivery changes nothing.
//!
//! Properties never read the messages in flight, and the checker goes on
//! from the state itself (stateright's `symmetry_fn` only decides which
//! states count as visited), so a search deduplicated by this form reaches
//! the same actor states and histories. `models/tests/no_op_deliveries.rs`
//! compares verdicts with and without it.

use crate::actor::{Msg, NodeState};
use crate::model::NetworkKind;
use crate::properties::State;
use stateright::actor::{Id, Network};
use steadfast::{Epoch, Message, NodeId};

/// `state` in canonical form (see the module documentation).
pub fn canonical(state: &State) -> State {
    let mut canonical = state.clone();
    canonicalize(&mut canonical);
    canonical
}

/// Put `state` in canonical form in place.
pub fn canonicalize(state: &mut State) {
    let actors = &state.actor_states;
    let dead = |src: Id, dst: Id, msg: &Msg| {
        let receiver = actors.get(usize::from(dst)).map(|s| &**s);
        let dead = match receiver {
            Some(NodeState::Server(server)) => is_dead(msg, server.replica().epoch()),
            _ => false,
        };
        if cfg!(debug_assertions) && dead {
            assert_no_op(receiver, src, msg);
        }
        dead
    };
    match &mut state.network {
        Network::UnorderedDuplicating(sent, last) => {
            *last = None;
            sent.retain(|e| !dead(e.src, e.dst, &e.msg));
        }
        Network::UnorderedNonDuplicating(in_flight) => {
            in_flight.retain(|e, _| !dead(e.src, e.dst, &e.msg));
        }
        // Left as it is: on a per-link FIFO link a dead response still
        // holds back the messages queued behind it until it is consumed, so
        // a state without it can take steps the state with it cannot (and
        // deduplicating the two would lose those steps).
        Network::Ordered(_) => {}
    }
}

/// True when [`canonicalize`] can change a state on `network`: per-link FIFO
/// networks are left as they are, so a search over one need not pay for the
/// canonical form.
pub fn applies_to(network: NetworkKind) -> bool {
    network != NetworkKind::Ordered
}

/// True for a response a receiver now at `receiver_epoch` will drop
/// unread whenever it arrives.
fn is_dead(msg: &Msg, receiver_epoch: Epoch) -> bool {
    let Msg::Peer(message) = msg else {
        return false;
    };
    let response = match **message {
        Message::AppendResponse { .. } | Message::InstallSnapshotResponse { .. } => true,
        Message::VoteResponse { pre_vote, .. } => !pre_vote,
        Message::Append { .. }
        | Message::RequestVote { .. }
        | Message::TimeoutNow { .. }
        | Message::InstallSnapshot { .. } => false,
    };
    response && message.epoch() < receiver_epoch
}

/// Debug builds: deliver `msg` to a copy of its receiver's replica, which
/// must neither change nor output anything.
fn assert_no_op(receiver: Option<&NodeState>, src: Id, msg: &Msg) {
    let (Msg::Peer(message), Some(NodeState::Server(server))) = (msg, receiver) else {
        return;
    };
    let mut replica = server.replica().clone();
    let now = replica.now();
    let from = NodeId(usize::from(src) as u64);
    let _ = replica.handle_message(now, from, (**message).clone());
    assert!(
        replica == *server.replica() && replica.poll_output().is_none(),
        "a response dropped as dead changed its receiver: {message} to {}",
        server.replica().id()
    );
}
