//! Unit tests of the reference host, [`MemStorage`]: what it makes durable
//! and when, what it reports to the core, and every breach of the host
//! contract it detects.

use super::*;
use steadfast::{Config, EntryKind, Epoch, Membership, RequestId};

const NOW: Instant = Instant(1_000);

fn pos(epoch: u64, lsn: u64) -> Position {
    Position::new(Epoch(epoch), Lsn(lsn))
}

fn entry(epoch: u64, lsn: u64) -> Entry {
    Entry {
        epoch: Epoch(epoch),
        lsn: Lsn(lsn),
        kind: EntryKind::Command(vec![epoch as u8, lsn as u8].into()),
    }
}

/// Entries `from..=to` of `epoch`.
fn entries(epoch: u64, from: u64, to: u64) -> Vec<Entry> {
    (from..=to).map(|lsn| entry(epoch, lsn)).collect()
}

fn append(entries: Vec<Entry>) -> Output {
    Output::Append { entries }
}

fn apply(entries: Vec<Entry>) -> Output {
    Output::Apply { entries }
}

/// A core that records what its host reports, and answers served chunks
/// with `answer`.
#[derive(Debug, Default)]
struct Recorder {
    persisted: Vec<Position>,
    chunks: Vec<(NodeId, Position, u64, Vec<u8>)>,
    answer: Option<SnapshotError>,
}

impl CoreInputs for Recorder {
    fn handle_persisted(&mut self, _now: Instant, through: Position) {
        self.persisted.push(through);
    }

    fn handle_snapshot_chunk(
        &mut self,
        _now: Instant,
        to: NodeId,
        snapshot: Position,
        offset: u64,
        data: Vec<u8>,
    ) -> Result<(), SnapshotError> {
        self.chunks.push((to, snapshot, offset, data));
        self.answer.clone().map_or(Ok(()), Err)
    }
}

/// Performs `outputs` in order, stopping at the first host error.
fn perform_all(
    storage: &mut MemStorage,
    core: &mut Recorder,
    outputs: impl IntoIterator<Item = Output>,
) -> Result<(), HostError> {
    outputs
        .into_iter()
        .try_for_each(|output| storage.perform(core, NOW, &output))
}

/// The snapshot meta of `bytes` at `position`.
fn meta(position: Position, bytes: &[u8]) -> SnapshotMeta {
    SnapshotMeta {
        position,
        membership: Membership::new([NodeId(1), NodeId(2), NodeId(3)], []),
        size: bytes.len() as u64,
        checksum: crc32c::crc32c(bytes),
    }
}

/// `bytes` staged as the snapshot at `position`, in chunks of 4.
fn chunks(position: Position, bytes: &[u8]) -> Vec<Output> {
    let mut chunks: Vec<Output> = bytes
        .chunks(4)
        .enumerate()
        .map(|(i, data)| Output::ReceiveSnapshotChunk {
            snapshot: position,
            offset: 4 * i as u64,
            data: data.to_vec(),
        })
        .collect();
    if chunks.is_empty() {
        chunks.push(Output::ReceiveSnapshotChunk {
            snapshot: position,
            offset: 0,
            data: Vec::new(),
        });
    }
    chunks
}

/// Performs every output of `replica` through `storage` until none is left.
fn drain(storage: &mut MemStorage, replica: &mut Replica) {
    while let Some(output) = replica.poll_output() {
        storage.perform(replica, NOW, &output).unwrap();
    }
}

/// A single-node leader whose host applied its no-op and two commands.
fn single_node_with_three_entries() -> (MemStorage, Replica) {
    let config = Config::new(NodeId(1), [NodeId(1)]).with_snapshot_retain_entries(0);
    let mut replica = Replica::new(config, Instant(0)).unwrap();
    let mut storage = MemStorage::new(Persistence::Immediate);
    replica.handle_timeout(NOW);
    drain(&mut storage, &mut replica);
    for request in 1..=2 {
        replica.propose(NOW, RequestId(request), vec![7]).unwrap();
        drain(&mut storage, &mut replica);
    }
    assert_eq!(replica.applied(), Lsn(3));
    (storage, replica)
}

#[test]
fn immediate_writes_are_durable_and_reported_at_once() {
    let mut storage = MemStorage::new(Persistence::Immediate);
    let mut core = Recorder::default();
    storage
        .perform(&mut core, NOW, &append(entries(1, 1, 2)))
        .unwrap();
    assert_eq!(storage.log(), entries(1, 1, 2));
    assert_eq!(core.persisted, [pos(1, 2)]);
    let truncate = Output::Truncated {
        after: Lsn(1),
        discarded: entries(1, 2, 2),
    };
    storage.perform(&mut core, NOW, &truncate).unwrap();
    assert_eq!(storage.log(), entries(1, 1, 1));
    assert_eq!(core.persisted, [pos(1, 2), pos(1, 1)]);
    assert!(storage.pending_writes().is_empty());
}

#[test]
fn deferred_writes_wait_for_a_flush_and_are_reported_in_order() {
    let mut storage = MemStorage::new(Persistence::Deferred);
    let mut core = Recorder::default();
    perform_all(
        &mut storage,
        &mut core,
        [append(entries(1, 1, 2)), append(entries(1, 3, 3))],
    )
    .unwrap();
    assert!(storage.log().is_empty(), "nothing durable before a flush");
    assert_eq!(storage.pending_writes().len(), 2);
    assert!(core.persisted.is_empty(), "nothing reported");
    storage.flush(Some(&mut core), NOW, 1).unwrap();
    assert_eq!(storage.log(), entries(1, 1, 2));
    assert_eq!(core.persisted, [pos(1, 2)]);
    storage.flush(Some(&mut core), NOW, usize::MAX).unwrap();
    assert_eq!(storage.log(), entries(1, 1, 3));
    assert_eq!(core.persisted, [pos(1, 2), pos(1, 3)]);
    storage.flush(Some(&mut core), NOW, usize::MAX).unwrap();
    assert_eq!(core.persisted.len(), 2, "an empty flush reports nothing");
}

#[test]
fn a_crash_loses_unflushed_writes_and_the_state_machine() {
    let mut storage = MemStorage::new(Persistence::Deferred);
    let mut core = Recorder::default();
    let hard = HardState {
        epoch: Epoch(2),
        voted_for: Some(NodeId(1)),
    };
    perform_all(
        &mut storage,
        &mut core,
        [Output::PersistHardState(hard), append(entries(1, 1, 2))],
    )
    .unwrap();
    storage.flush(Some(&mut core), NOW, usize::MAX).unwrap();
    perform_all(
        &mut storage,
        &mut core,
        [append(entries(2, 3, 3)), apply(entries(1, 1, 2))],
    )
    .unwrap();
    assert_eq!(storage.applied(), entries(1, 1, 2));
    storage.crash();
    assert!(storage.pending_writes().is_empty());
    assert!(
        storage.applied().is_empty(),
        "the state machine is volatile"
    );
    assert_eq!(
        storage.durable(),
        Durable {
            hard_state: hard,
            log: entries(1, 1, 2),
            applied: Lsn(0),
            snapshot: None,
        }
    );
}

#[test]
fn a_lowered_epoch_is_detected() {
    let mut storage = MemStorage::new(Persistence::Immediate).with_hard_state(HardState {
        epoch: Epoch(3),
        voted_for: None,
    });
    let lower = HardState {
        epoch: Epoch(2),
        voted_for: None,
    };
    let result = storage.perform(
        &mut Recorder::default(),
        NOW,
        &Output::PersistHardState(lower),
    );
    assert!(
        matches!(result, Err(HostError::EpochLowered { .. })),
        "{result:?}"
    );
    assert_eq!(storage.hard_state().epoch, Epoch(3));
}

#[test]
fn a_truncation_that_misreports_what_it_removes_is_detected() {
    let mut storage = MemStorage::new(Persistence::Immediate);
    let mut core = Recorder::default();
    storage
        .perform(&mut core, NOW, &append(entries(1, 1, 3)))
        .unwrap();
    let truncate = Output::Truncated {
        after: Lsn(1),
        discarded: entries(1, 2, 2),
    };
    assert_eq!(
        storage.perform(&mut core, NOW, &truncate),
        Err(HostError::TruncationMismatch {
            after: Lsn(1),
            reported: 1,
            removed: 2,
        })
    );
}

#[test]
fn an_append_that_does_not_continue_the_log_is_detected() {
    let mut storage = MemStorage::new(Persistence::Immediate);
    let mut core = Recorder::default();
    assert_eq!(
        storage.perform(&mut core, NOW, &append(entries(1, 2, 2))),
        Err(HostError::AppendGap {
            first: Some(pos(1, 2)),
            last: None,
            snapshot: Position::ZERO,
        }),
        "an empty log starts at lsn 1"
    );
    let mut storage = MemStorage::new(Persistence::Deferred);
    perform_all(
        &mut storage,
        &mut core,
        [append(entries(1, 1, 2)), append(entries(1, 4, 4))],
    )
    .unwrap();
    assert_eq!(
        storage.flush(Some(&mut core), NOW, usize::MAX),
        Err(HostError::AppendGap {
            first: Some(pos(1, 4)),
            last: Some(pos(1, 2)),
            snapshot: Position::ZERO,
        }),
        "a deferred write is checked when it becomes durable"
    );
}

#[test]
fn applies_must_continue_the_state_machine() {
    let mut storage = MemStorage::new(Persistence::Immediate);
    let mut core = Recorder::default();
    storage
        .perform(&mut core, NOW, &apply(entries(1, 1, 1)))
        .unwrap();
    assert_eq!(
        storage.perform(&mut core, NOW, &apply(entries(1, 3, 3))),
        Err(HostError::ApplyGap {
            first: Some(pos(1, 3)),
            expected: Lsn(2),
        })
    );
    // A rollback undoes applied entries; the state machine goes on from there.
    let rolled_back = Output::RolledBack {
        entries: entries(1, 1, 1),
    };
    storage.perform(&mut core, NOW, &rolled_back).unwrap();
    assert!(storage.applied().is_empty());
    storage
        .perform(&mut core, NOW, &apply(entries(2, 1, 1)))
        .unwrap();
    assert_eq!(storage.applied_position(), pos(2, 1));
}

#[test]
fn a_snapshot_taken_compacts_the_log_and_is_served_by_chunks() {
    let (mut storage, mut replica) = single_node_with_three_entries();
    let applied = storage.applied().to_vec();
    assert_eq!(storage.take_snapshot(&mut replica, NOW), Some(pos(1, 3)));
    drain(&mut storage, &mut replica);
    let stored = storage.snapshot().unwrap().clone();
    assert_eq!(stored.meta, *replica.snapshot().unwrap());
    assert_eq!(stored.bytes, encode_state(&applied));
    assert_eq!(stored.state, applied);
    assert!(storage.log().is_empty(), "compacted through the snapshot");
    assert!(storage.holds(pos(1, 2)), "in the snapshot's state");
    // Taking it again is refused by the core: nothing new was applied.
    assert_eq!(
        storage.take_snapshot_as(&mut replica, NOW, stored.bytes.clone()),
        Err(SnapshotError::NotNewer {
            known: pos(1, 3),
            offered: pos(1, 3),
        })
    );
    // Chunks of the durable snapshot are served to the core at once.
    let mut core = Recorder::default();
    let read = |snapshot, offset| Output::ReadSnapshotChunk {
        to: NodeId(2),
        snapshot,
        offset,
        max_len: 5,
    };
    storage
        .perform(&mut core, NOW, &read(pos(1, 3), 3))
        .unwrap();
    assert_eq!(
        core.chunks,
        [(NodeId(2), pos(1, 3), 3, stored.bytes[3..8].to_vec())]
    );
    storage
        .perform(&mut core, NOW, &read(pos(1, 2), 0))
        .unwrap();
    assert_eq!(core.chunks.len(), 1, "a snapshot it no longer holds");
    // A chunk the core refuses as unexpected is fine (the transfer moved
    // on); any other refusal of its own bytes is a breach.
    core.answer = Some(SnapshotError::UnexpectedChunk {
        to: NodeId(2),
        snapshot: pos(1, 3),
        offset: 0,
    });
    storage
        .perform(&mut core, NOW, &read(pos(1, 3), 0))
        .unwrap();
    core.answer = Some(SnapshotError::UnknownPosition(pos(1, 3)));
    assert!(matches!(
        storage.perform(&mut core, NOW, &read(pos(1, 3), 0)),
        Err(HostError::ChunkRefused(_))
    ));
}

#[test]
fn a_staged_snapshot_installs_and_survives_a_crash() {
    let (mut leader, mut replica) = single_node_with_three_entries();
    leader.take_snapshot(&mut replica, NOW).unwrap();
    let stored = leader.snapshot().unwrap().clone();
    // A follower holding an unapplied entry the snapshot replaces.
    let mut follower = MemStorage::new(Persistence::Immediate);
    let mut core = Recorder::default();
    follower
        .perform(&mut core, NOW, &append(entries(1, 1, 1)))
        .unwrap();
    perform_all(&mut follower, &mut core, chunks(pos(1, 3), &stored.bytes)).unwrap();
    assert_eq!(follower.staged_bytes(), stored.bytes);
    let install = Output::InstallSnapshot {
        snapshot: Box::new(stored.meta.clone()),
        replaced: vec![pos(1, 1)],
    };
    follower.perform(&mut core, NOW, &install).unwrap();
    assert_eq!(follower.applied(), stored.state);
    assert!(follower.log().is_empty());
    assert_eq!(follower.snapshot(), Some(&stored));
    assert!(follower.staged_bytes().is_empty());
    assert_eq!(core.persisted.last(), Some(&pos(1, 3)), "durable at once");
    follower.crash();
    assert_eq!(
        follower.applied(),
        stored.state,
        "restored from the snapshot"
    );
    assert_eq!(follower.durable().applied, Lsn(3));
    assert_eq!(follower.durable().snapshot, Some(stored.meta));
}

#[test]
fn chunks_must_continue_the_same_snapshot() {
    let mut storage = MemStorage::new(Persistence::Immediate);
    let mut core = Recorder::default();
    let chunk = |snapshot, offset| Output::ReceiveSnapshotChunk {
        snapshot,
        offset,
        data: vec![1, 2],
    };
    assert_eq!(
        storage.perform(&mut core, NOW, &chunk(pos(1, 3), 2)),
        Err(HostError::StagingGap {
            snapshot: pos(1, 3),
            offset: 2,
            staged_of: None,
            staged: 0,
        })
    );
    storage
        .perform(&mut core, NOW, &chunk(pos(1, 3), 0))
        .unwrap();
    assert_eq!(
        storage.perform(&mut core, NOW, &chunk(pos(1, 4), 2)),
        Err(HostError::StagingGap {
            snapshot: pos(1, 4),
            offset: 2,
            staged_of: Some(pos(1, 3)),
            staged: 2,
        }),
        "another snapshot's bytes"
    );
    storage
        .perform(&mut core, NOW, &chunk(pos(1, 4), 0))
        .unwrap();
    storage
        .perform(&mut core, NOW, &chunk(pos(1, 4), 2))
        .unwrap();
    assert_eq!(storage.staged_bytes(), [1, 2, 1, 2]);
}

#[test]
fn an_install_of_anything_but_the_staged_snapshot_is_detected() {
    let state = entries(1, 1, 2);
    let bytes = encode_state(&state);
    let staged = |bytes: &[u8], at| {
        let mut storage = MemStorage::new(Persistence::Immediate);
        perform_all(&mut storage, &mut Recorder::default(), chunks(at, bytes)).unwrap();
        storage
    };
    let install = |meta| Output::InstallSnapshot {
        snapshot: Box::new(meta),
        replaced: Vec::new(),
    };
    let mut core = Recorder::default();
    // Bytes that do not match the meta, or of another snapshot.
    let mut wrong = meta(pos(1, 2), &bytes);
    wrong.checksum ^= 1;
    let result = staged(&bytes, pos(1, 2)).perform(&mut core, NOW, &install(wrong));
    assert!(
        matches!(result, Err(HostError::SnapshotMismatch { .. })),
        "{result:?}"
    );
    let result =
        staged(&bytes, pos(1, 1)).perform(&mut core, NOW, &install(meta(pos(1, 2), &bytes)));
    assert!(
        matches!(result, Err(HostError::SnapshotMismatch { .. })),
        "{result:?}"
    );
    // Bytes that are not the state machine through the position.
    let result =
        staged(&bytes, pos(1, 3)).perform(&mut core, NOW, &install(meta(pos(1, 3), &bytes)));
    assert_eq!(
        result,
        Err(HostError::SnapshotContents {
            position: pos(1, 3)
        })
    );
    // Unapplied entries deleted without being reported replaced.
    let mut storage = staged(&bytes, pos(1, 2));
    storage
        .perform(&mut core, NOW, &append(entries(1, 1, 1)))
        .unwrap();
    assert_eq!(
        storage.perform(&mut core, NOW, &install(meta(pos(1, 2), &bytes))),
        Err(HostError::UnreportedReplace {
            position: pos(1, 2),
            deleted: vec![pos(1, 1)],
            replaced: Vec::new(),
        })
    );
    // The staged bytes themselves install.
    let mut storage = staged(&bytes, pos(1, 2));
    storage
        .perform(&mut core, NOW, &install(meta(pos(1, 2), &bytes)))
        .unwrap();
    assert_eq!(storage.applied(), state);
}

#[test]
fn opaque_snapshots_install_any_bytes_and_the_state_machine_goes_on_after_them() {
    let bytes = b"whatever a peer sends".to_vec();
    let mut storage =
        MemStorage::new(Persistence::Immediate).with_snapshot_bytes(SnapshotBytes::Opaque);
    let mut core = Recorder::default();
    perform_all(&mut storage, &mut core, chunks(pos(2, 5), &bytes)).unwrap();
    let install = Output::InstallSnapshot {
        snapshot: Box::new(meta(pos(2, 5), &bytes)),
        replaced: Vec::new(),
    };
    storage.perform(&mut core, NOW, &install).unwrap();
    assert!(storage.applied().is_empty());
    assert_eq!(storage.applied_base(), pos(2, 5));
    assert_eq!(storage.applied_position(), pos(2, 5));
    assert_eq!(
        storage.read_chunk(pos(2, 5), 0, 8),
        Some(bytes[..8].to_vec())
    );
    storage
        .perform(&mut core, NOW, &apply(entries(2, 6, 6)))
        .unwrap();
    assert_eq!(
        storage.perform(&mut core, NOW, &apply(entries(2, 8, 8))),
        Err(HostError::ApplyGap {
            first: Some(pos(2, 8)),
            expected: Lsn(7),
        })
    );
    storage.crash();
    assert!(storage.applied().is_empty());
    assert_eq!(storage.applied_position(), pos(2, 5));
}

#[test]
fn durable_state_restores_with_a_state_machine_through_its_applied_lsn() {
    let hard = HardState {
        epoch: Epoch(2),
        voted_for: None,
    };
    let log = entries(1, 1, 4);
    let durable = |snapshot| Durable {
        hard_state: hard,
        log: log.clone(),
        applied: Lsn(3),
        snapshot: Some(snapshot),
    };
    // Opaque bytes: the state machine goes on after the snapshot.
    let bytes = vec![9; 10];
    let storage = MemStorage::new(Persistence::Immediate)
        .with_snapshot_bytes(SnapshotBytes::Opaque)
        .with_durable(durable(meta(pos(1, 2), &bytes)), bytes.clone());
    assert_eq!(storage.applied_base(), pos(1, 2));
    assert_eq!(storage.applied(), entries(1, 3, 3));
    assert_eq!(storage.read_chunk(pos(1, 2), 8, 5), Some(vec![9, 9]));
    assert_eq!(
        storage.durable(),
        Durable {
            applied: Lsn(2),
            ..durable(meta(pos(1, 2), &bytes))
        }
    );
    // State bytes: the state machine is the snapshot's and the log's.
    let bytes = encode_state(&log[..2]);
    let storage = MemStorage::new(Persistence::Immediate)
        .with_durable(durable(meta(pos(1, 2), &bytes)), bytes);
    assert_eq!(storage.applied_base(), Position::ZERO);
    assert_eq!(storage.applied(), entries(1, 1, 3));
    assert_eq!(storage.hard_state(), hard);
    assert_eq!(storage.log(), log);
}

#[test]
fn opaque_snapshots_are_taken_with_the_callers_bytes() {
    let (storage, mut replica) = single_node_with_three_entries();
    let mut storage = storage.with_snapshot_bytes(SnapshotBytes::Opaque);
    let bytes = b"the state machine's own format".to_vec();
    assert_eq!(
        storage.take_snapshot_as(&mut replica, NOW, bytes.clone()),
        Ok(Some(pos(1, 3)))
    );
    let stored = storage.snapshot().unwrap();
    assert_eq!(
        (stored.bytes.clone(), stored.state.len()),
        (bytes.clone(), 0)
    );
    assert_eq!(stored.meta.checksum, crc32c::crc32c(&bytes));
    // Nothing applied: nothing to snapshot.
    let mut empty = MemStorage::new(Persistence::Immediate);
    assert_eq!(empty.take_snapshot_as(&mut replica, NOW, bytes), Ok(None));
}

/// A snapshot is taken only once the log it was applied from is durable:
/// otherwise a crash could leave a durable log that disagrees with the
/// durable snapshot (entries a truncation had replaced), which a restart
/// refuses.
#[test]
fn a_snapshot_waits_for_queued_log_writes() {
    let config = Config::new(NodeId(1), [NodeId(1)]).with_snapshot_retain_entries(0);
    let mut replica = Replica::new(config, Instant(0)).unwrap();
    let mut storage = MemStorage::new(Persistence::Deferred);
    replica.handle_timeout(NOW);
    drain(&mut storage, &mut replica);
    storage.flush(Some(&mut replica), NOW, usize::MAX).unwrap();
    drain(&mut storage, &mut replica);
    replica.propose(NOW, RequestId(1), vec![7]).unwrap();
    drain(&mut storage, &mut replica);
    assert!(!storage.pending_writes().is_empty());
    assert_eq!(replica.applied(), Lsn(1), "the leader's no-op");
    assert_eq!(storage.take_snapshot(&mut replica, NOW), None);
    assert!(replica.snapshot().is_none());
    storage.flush(Some(&mut replica), NOW, usize::MAX).unwrap();
    drain(&mut storage, &mut replica);
    assert_eq!(storage.take_snapshot(&mut replica, NOW), Some(pos(1, 2)));
}
