//! Small builders of protocol values for tests: logs of given epochs and
//! whole snapshots in one chunk.

use steadfast::{
    Entry, EntryKind, Epoch, Lsn, Membership, Message, NodeId, Position, SnapshotMeta,
};

/// A log holding one entry per epoch in `epochs`, from lsn 1.
pub fn log_of_epochs(epochs: &[u64]) -> Vec<Entry> {
    epochs
        .iter()
        .enumerate()
        .map(|(i, &e)| Entry {
            epoch: Epoch(e),
            lsn: Lsn(i as u64 + 1),
            kind: EntryKind::Command(vec![e as u8, i as u8].into()),
        })
        .collect()
}

/// A whole snapshot at `position` holding `state`, sent in one chunk by a
/// leader in `epoch` of nodes 1 to 3.
pub fn one_chunk_snapshot(epoch: Epoch, position: Position, state: &[u8]) -> Message {
    Message::InstallSnapshot {
        epoch,
        snapshot: Box::new(SnapshotMeta {
            position,
            membership: Membership::new([NodeId(1), NodeId(2), NodeId(3)], []),
            size: state.len() as u64,
            checksum: crc32c::crc32c(state),
        }),
        offset: 0,
        data: state.to_vec(),
        done: true,
    }
}
