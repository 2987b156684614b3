//! Drivers, their host and messages shared by the driver's unit tests and
//! its loom models: a three-node leader, the reference host performing its
//! outputs, and what its peers send it.

use super::Driver;
use steadfast::wire::{AppendResult, Message};
use steadfast::{
    Config, Entry, Epoch, Instant, Lsn, NodeId, Output, Position, Replica, SnapshotError,
};
use steadfast_sim::host::{encode_state, CoreInputs, MemStorage, Persistence};

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

/// A whole snapshot at `position`, in one chunk, from a leader in `epoch`
/// of the three nodes: a state machine of one entry per lsn through
/// `position`, of epoch 1 and then of `position`'s epoch.
pub(super) fn one_chunk_snapshot(epoch: u64, position: Position) -> Message {
    let epochs: Vec<u64> = (1..=position.lsn.0)
        .map(|lsn| if lsn == 1 { 1 } else { position.epoch.0 })
        .collect();
    let state = steadfast_sim::builders::log_of_epochs(&epochs);
    steadfast_sim::builders::one_chunk_snapshot(Epoch(epoch), position, &encode_state(&state))
}

/// The reference host's storage for a driver's replica (writes durable at
/// once), empty like a new replica's.
pub(super) fn storage() -> MemStorage {
    MemStorage::new(Persistence::Immediate)
}

/// The host performs the storage side of `output`, pumped from `driver`,
/// and reports back through the driver; a breach of the host contract
/// fails the test.
pub(super) fn perform(driver: &Driver, storage: &mut MemStorage, output: &Output) {
    if let Err(breach) = storage.perform(&mut Inputs(driver), NOW, output) {
        panic!("the core breached the host contract: {breach}");
    }
}

/// The positions the host's state machine holds.
pub(super) fn applied(storage: &MemStorage) -> Vec<Position> {
    storage.applied().iter().map(Entry::position).collect()
}

/// A driver, as the reference host's way back to its replica.
struct Inputs<'a>(&'a Driver);

impl CoreInputs for Inputs<'_> {
    fn handle_persisted(&mut self, now: Instant, through: Position) {
        self.0.handle_persisted(now, through);
    }

    fn handle_snapshot_chunk(
        &mut self,
        now: Instant,
        to: NodeId,
        snapshot: Position,
        offset: u64,
        data: Vec<u8>,
    ) -> Result<(), SnapshotError> {
        self.0
            .handle_snapshot_chunk(now, to, snapshot, offset, data)
    }
}
