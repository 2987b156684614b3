//! Drivers and messages shared by the driver's unit tests and its loom
//! models: a three-node leader, and what its peers send it.

use super::Driver;
use steadfast::wire::{AppendResult, Message};
use steadfast::{Config, Epoch, Instant, Lsn, NodeId, Position, Replica};

/// The time every fixture input carries.
pub(super) const NOW: Instant = Instant(1_000);

/// Node 1 of three, leader of epoch 1: node 2 voted for it and holds (and
/// acknowledged) its no-op at (e1, 1). Its outputs are still queued.
pub(super) fn leader_of_three() -> Driver {
    let ids = [NodeId(1), NodeId(2), NodeId(3)];
    let driver = Driver::new(Replica::new(Config::new(NodeId(1), ids), Instant(0)).unwrap());
    let vote = |pre_vote| Message::VoteResponse {
        epoch: Epoch(1),
        pre_vote,
        granted: true,
    };
    driver.handle_timeout(NOW);
    driver.handle_message(NOW, NodeId(2), vote(true)).unwrap();
    driver.handle_message(NOW, NodeId(2), vote(false)).unwrap();
    let ack = Message::AppendResponse {
        epoch: Epoch(1),
        round: 0,
        result: AppendResult::Accepted {
            matched: Lsn(1),
            applied: Lsn(0),
        },
    };
    driver.handle_message(NOW, NodeId(2), ack).unwrap();
    driver
}

/// A heartbeat (an empty append) of a leader in `epoch`.
pub(super) fn heartbeat(epoch: u64, prev: Position, commit: u64) -> Message {
    Message::Append {
        epoch: Epoch(epoch),
        prev,
        entries: vec![],
        commit: Lsn(commit),
        round: 1,
    }
}

/// A whole snapshot at `position` holding `state`, in one chunk, from a
/// leader in `epoch` of the three nodes.
pub(super) fn one_chunk_snapshot(epoch: u64, position: Position, state: &[u8]) -> Message {
    steadfast_sim::builders::one_chunk_snapshot(Epoch(epoch), position, state)
}
