//! The data directory: round trips, crashes that tear the tail, damage that
//! must be refused, segments, compaction, snapshots, the lock, and a
//! replica restarted from what was recovered.

use super::*;
use proptest::prelude::*;
use std::io::Write;
use steadfast::{Bytes, Config, EntryKind, Epoch, Instant, NodeId, Output, Replica, RequestId};

fn entry(epoch: u64, lsn: u64) -> Entry {
    Entry {
        epoch: Epoch(epoch),
        lsn: Lsn(lsn),
        kind: EntryKind::Command(Bytes::from(format!("command {lsn}"))),
    }
}

fn entries(epoch: u64, lsns: std::ops::RangeInclusive<u64>) -> Vec<Entry> {
    lsns.map(|lsn| entry(epoch, lsn)).collect()
}

fn small_segments() -> StorageOptions {
    StorageOptions { segment_bytes: 256 }
}

fn reopen(dir: &Path, options: StorageOptions) -> (Storage, Recovered) {
    Storage::open(dir, options).unwrap_or_else(|e| panic!("reopen failed: {e}"))
}

fn only_segment(dir: &Path) -> PathBuf {
    let mut segments: Vec<_> = std::fs::read_dir(dir.join("wal"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(segments.len(), 1, "{segments:?}");
    segments.remove(0)
}

#[test]
fn appended_entries_and_the_hard_state_survive_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    {
        let (mut storage, recovered) = reopen(dir.path(), StorageOptions::default());
        assert!(recovered.durable.log.is_empty());
        assert_eq!(recovered.durable.hard_state, HardState::default());
        storage
            .save_hard_state(HardState {
                epoch: Epoch(3),
                voted_for: Some(NodeId(2)),
            })
            .unwrap();
        storage.append(&entries(3, 1..=5)).unwrap();
        storage.append(&entries(3, 6..=7)).unwrap();
        assert!(storage.sync().unwrap(), "there was something to sync");
        assert!(!storage.sync().unwrap(), "and then nothing");
    }
    let (storage, recovered) = reopen(dir.path(), StorageOptions::default());
    assert_eq!(recovered.durable.log, entries(3, 1..=7));
    assert_eq!(recovered.durable.hard_state.epoch, Epoch(3));
    assert_eq!(recovered.durable.hard_state.voted_for, Some(NodeId(2)));
    assert_eq!(recovered.durable.applied, Lsn(0));
    assert!(recovered.torn_tail.is_none());
    assert_eq!(storage.last_lsn(), Some(Lsn(7)));
}

#[test]
fn appends_must_continue_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let (mut storage, _) = reopen(dir.path(), StorageOptions::default());
    storage.append(&entries(1, 1..=3)).unwrap();
    let err = storage.append(&entries(1, 5..=5)).unwrap_err();
    assert!(
        matches!(
            err,
            StorageError::NotConsecutive {
                last: Lsn(3),
                found: Lsn(5)
            }
        ),
        "{err}"
    );
}

#[test]
fn a_second_process_cannot_open_a_directory_in_use() {
    let dir = tempfile::tempdir().unwrap();
    let (storage, _) = reopen(dir.path(), StorageOptions::default());
    let err = Storage::open(dir.path(), StorageOptions::default()).unwrap_err();
    assert!(matches!(err, StorageError::Locked(_)), "{err}");
    assert!(err.to_string().contains("in use by another process"));
    drop(storage);
    reopen(dir.path(), StorageOptions::default());
}

/// A crash can stop a write at any byte: every prefix of the last record
/// (and a tail of zeros) is cut away on open, the entries before it are
/// kept, and the log takes appends again where it was cut.
#[test]
fn a_torn_tail_at_every_byte_is_cut_and_the_rest_kept() {
    let dir = tempfile::tempdir().unwrap();
    let (full_len, last_start) = {
        let (mut storage, _) = reopen(dir.path(), StorageOptions::default());
        storage.append(&entries(1, 1..=3)).unwrap();
        storage.sync().unwrap();
        let before = std::fs::metadata(only_segment(dir.path())).unwrap().len();
        storage.append(&entries(1, 4..=4)).unwrap();
        storage.sync().unwrap();
        (
            std::fs::metadata(only_segment(dir.path())).unwrap().len(),
            before,
        )
    };
    let path = only_segment(dir.path());
    let intact = std::fs::read(&path).unwrap();
    for cut in last_start..full_len {
        std::fs::write(&path, &intact[..cut as usize]).unwrap();
        let (mut storage, recovered) = reopen(dir.path(), StorageOptions::default());
        assert_eq!(recovered.durable.log, entries(1, 1..=3), "cut at {cut}");
        let expected_torn = (cut > last_start).then(|| TornTail {
            path: path.clone(),
            cut_at: last_start,
            bytes: cut - last_start,
        });
        assert_eq!(recovered.torn_tail, expected_torn, "cut at {cut}");
        assert_eq!(std::fs::metadata(&path).unwrap().len(), last_start);
        storage.append(&entries(1, 4..=4)).unwrap();
        storage.sync().unwrap();
        drop(storage);
        assert_eq!(
            reopen(dir.path(), StorageOptions::default()).1.durable.log,
            entries(1, 1..=4)
        );
    }
    // A file system may extend a crashed file with zeros.
    let mut zeros = intact.clone();
    zeros.extend_from_slice(&[0; 4096]);
    std::fs::write(&path, &zeros).unwrap();
    let (_, recovered) = reopen(dir.path(), StorageOptions::default());
    assert_eq!(recovered.durable.log, entries(1, 1..=4));
    assert_eq!(recovered.torn_tail.map(|t| t.bytes), Some(4096));
}

/// Damage with intact records after it is not a torn write: opening
/// refuses, naming the file and the offset, and changes nothing.
#[test]
fn damage_before_the_tail_is_refused_with_file_and_offset() {
    let dir = tempfile::tempdir().unwrap();
    {
        let (mut storage, _) = reopen(dir.path(), StorageOptions::default());
        storage.append(&entries(1, 1..=4)).unwrap();
        storage.sync().unwrap();
    }
    let path = only_segment(dir.path());
    let mut bytes = std::fs::read(&path).unwrap();
    let second_record_body = segment::HEADER + (bytes.len() - segment::HEADER) / 4 + 10;
    bytes[second_record_body] ^= 0x40;
    std::fs::write(&path, &bytes).unwrap();
    let err = Storage::open(dir.path(), StorageOptions::default()).unwrap_err();
    let StorageError::Corrupt {
        path: at,
        offset,
        what,
    } = &err
    else {
        panic!("expected corruption, got {err}");
    };
    assert_eq!(at, &path);
    assert!(*offset > segment::HEADER as u64 && (*offset as usize) < second_record_body);
    assert!(what.contains("checksum mismatch"), "{what}");
    assert_eq!(
        std::fs::read(&path).unwrap(),
        bytes,
        "a refused directory is left as it was"
    );
    // A damaged header is refused too.
    bytes[1] ^= 1;
    std::fs::write(&path, &bytes).unwrap();
    let err = Storage::open(dir.path(), StorageOptions::default()).unwrap_err();
    assert!(err.to_string().contains("bad magic"), "{err}");
}

#[test]
fn a_damaged_hard_state_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    {
        let (mut storage, _) = reopen(dir.path(), StorageOptions::default());
        storage
            .save_hard_state(HardState {
                epoch: Epoch(7),
                voted_for: None,
            })
            .unwrap();
    }
    let path = dir.path().join(hard_state::FILE);
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[5] ^= 1;
    std::fs::write(&path, &bytes).unwrap();
    let err = Storage::open(dir.path(), StorageOptions::default()).unwrap_err();
    assert!(err.to_string().contains("checksum mismatch"), "{err}");
}

#[test]
fn segments_roll_over_and_truncation_crosses_them() {
    let dir = tempfile::tempdir().unwrap();
    {
        let (mut storage, _) = reopen(dir.path(), small_segments());
        for lsn in 1..=40 {
            storage.append(&entries(1, lsn..=lsn)).unwrap();
        }
        storage.sync().unwrap();
    }
    let segments = std::fs::read_dir(dir.path().join("wal")).unwrap().count();
    assert!(segments >= 4, "only {segments} segments");
    let (mut storage, recovered) = reopen(dir.path(), small_segments());
    assert_eq!(recovered.durable.log, entries(1, 1..=40));
    // Truncate into an early segment, then write a different suffix.
    storage.truncate_after(Lsn(9)).unwrap();
    storage.append(&entries(2, 10..=12)).unwrap();
    storage.sync().unwrap();
    drop(storage);
    let (_, recovered) = reopen(dir.path(), small_segments());
    let mut expected = entries(1, 1..=9);
    expected.extend(entries(2, 10..=12));
    assert_eq!(recovered.durable.log, expected);
}

#[test]
fn compaction_removes_whole_segments_at_or_below_the_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let (mut storage, _) = reopen(dir.path(), small_segments());
    for lsn in 1..=40 {
        storage.append(&entries(1, lsn..=lsn)).unwrap();
    }
    storage.sync().unwrap();
    let membership = Membership::new([NodeId(1)], []);
    storage
        .save_snapshot(Position::new(Epoch(1), Lsn(25)), membership, b"state at 25")
        .unwrap();
    storage.compact_through(Lsn(25)).unwrap();
    let first = storage.first_lsn().unwrap();
    assert!(
        first > Lsn(1) && first <= Lsn(26),
        "first retained lsn {first}"
    );
    drop(storage);
    let (_, recovered) = reopen(dir.path(), small_segments());
    assert_eq!(recovered.durable.log, entries(1, first.0..=40));
    assert_eq!(recovered.durable.applied, Lsn(25));
    assert_eq!(
        recovered.snapshot_data.as_deref(),
        Some(b"state at 25".as_slice())
    );
}

#[test]
fn snapshots_are_served_in_chunks_staged_and_installed() {
    let leader_dir = tempfile::tempdir().unwrap();
    let follower_dir = tempfile::tempdir().unwrap();
    let (mut leader, _) = reopen(leader_dir.path(), StorageOptions::default());
    let (mut follower, _) = reopen(follower_dir.path(), StorageOptions::default());
    let data: Vec<u8> = (0..10_000u32).flat_map(|i| i.to_le_bytes()).collect();
    let at = Position::new(Epoch(2), Lsn(100));
    let membership = Membership::new([NodeId(1), NodeId(2), NodeId(3)], []);
    let meta = leader.save_snapshot(at, membership, &data).unwrap();
    assert_eq!(meta.size, data.len() as u64);
    follower.append(&entries(1, 1..=5)).unwrap();
    follower.sync().unwrap();
    let mut offset = 0;
    while let Some(chunk) = leader.read_snapshot_chunk(at, offset, 4096).unwrap() {
        if chunk.is_empty() {
            break;
        }
        assert!(follower.stage_snapshot_chunk(at, offset, &chunk).unwrap());
        offset += chunk.len() as u64;
    }
    assert_eq!(offset, data.len() as u64);
    // A chunk that does not follow on is ignored.
    assert!(!follower.stage_snapshot_chunk(at, 1, b"x").unwrap());
    // The log ends before the snapshot: it goes entirely.
    assert_eq!(
        follower
            .install_snapshot(&meta, |b| Ok(b.to_vec()))
            .unwrap(),
        data
    );
    assert_eq!(follower.last_lsn(), None);
    follower.append(&entries(2, 101..=102)).unwrap();
    follower.sync().unwrap();
    drop(follower);
    let (follower, recovered) = reopen(follower_dir.path(), StorageOptions::default());
    assert_eq!(recovered.durable.snapshot.as_ref(), Some(&meta));
    assert_eq!(recovered.snapshot_data, Some(data));
    assert_eq!(recovered.durable.log, entries(2, 101..=102));
    assert_eq!(recovered.durable.applied, Lsn(100));
    // The leader no longer serves a snapshot it replaced.
    assert_eq!(
        follower
            .read_snapshot_chunk(Position::new(Epoch(9), Lsn(9)), 0, 10)
            .unwrap(),
        None
    );
}

#[test]
fn an_install_whose_bytes_do_not_match_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (mut storage, _) = reopen(dir.path(), StorageOptions::default());
    let at = Position::new(Epoch(1), Lsn(3));
    let meta = SnapshotMeta {
        position: at,
        membership: Membership::new([NodeId(1)], []),
        size: 5,
        checksum: crc32c::crc32c(b"hello"),
    };
    storage.stage_snapshot_chunk(at, 0, b"hellO").unwrap();
    let err = storage
        .install_snapshot(&meta, |b| Ok(b.to_vec()))
        .unwrap_err();
    assert!(
        matches!(err, StorageError::BadStagedSnapshot { .. }),
        "{err}"
    );
    assert!(storage.snapshot().is_none());
}

/// A single-voter replica run over the storage: its outputs performed as
/// the module documentation says, then the directory reopened and the
/// replica restarted from what was recovered, with its log and epoch.
#[test]
fn a_replica_restarts_from_what_the_storage_recovered() {
    let dir = tempfile::tempdir().unwrap();
    let config = || Config::new(NodeId(1), [NodeId(1)]);
    let now = Instant(0);
    {
        let (mut storage, recovered) = reopen(dir.path(), StorageOptions::default());
        let mut replica = Replica::restart(config(), recovered.durable, now).unwrap();
        replica.campaign(now).unwrap();
        for i in 0..10u64 {
            replica
                .propose(now, RequestId(i), Bytes::from(format!("put k{i}")))
                .unwrap();
        }
        let mut applied = 0;
        loop {
            let mut persisted = None;
            while let Some(output) = replica.poll_output() {
                match output {
                    Output::PersistHardState(hs) => storage.save_hard_state(hs).unwrap(),
                    Output::Truncated { after, .. } => storage.truncate_after(after).unwrap(),
                    Output::Append { entries } => {
                        storage.append(&entries).unwrap();
                        persisted = entries.last().map(Entry::position);
                    }
                    Output::Apply { entries } => applied += entries.len(),
                    _ => {}
                }
            }
            match persisted {
                Some(through) => {
                    storage.sync().unwrap();
                    replica.handle_persisted(now, through);
                }
                None => break,
            }
        }
        assert_eq!(applied, 11, "the no-op and ten commands");
    }
    let (_, recovered) = reopen(dir.path(), StorageOptions::default());
    assert_eq!(recovered.durable.log.len(), 11);
    let replica = Replica::restart(config(), recovered.durable, now).unwrap();
    assert_eq!(replica.last().lsn, Lsn(11));
    assert_eq!(replica.epoch(), Epoch(1));
}

/// One step of the log model test.
#[derive(Clone, Debug)]
enum Step {
    Append(u8),
    TruncateBack(u8),
    Sync,
    Compact(u8),
    Reopen,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (1u8..6).prop_map(Step::Append),
        1 => (0u8..8).prop_map(Step::TruncateBack),
        2 => Just(Step::Sync),
        1 => (0u8..10).prop_map(Step::Compact),
        1 => Just(Step::Reopen),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    /// Any sequence of appends, truncations, syncs, compactions and clean
    /// reopens leaves exactly the model's entries (compaction may keep a
    /// prefix; what it keeps is the model's too).
    #[test]
    fn the_log_matches_a_model(steps in proptest::collection::vec(step(), 1..40)) {
        let dir = tempfile::tempdir().unwrap();
        let (mut storage, _) = reopen(dir.path(), small_segments());
        let mut model: Vec<Entry> = Vec::new();
        let mut epoch = 1;
        for step in steps {
            match step {
                Step::Append(n) => {
                    let next = model.last().map_or(1, |e| e.lsn.0 + 1);
                    let batch = entries(epoch, next..=next + u64::from(n) - 1);
                    storage.append(&batch).unwrap();
                    model.extend(batch);
                }
                Step::TruncateBack(n) => {
                    let Some(last) = model.last().map(|e| e.lsn.0) else { continue };
                    let first = model[0].lsn.0;
                    let after = last.saturating_sub(u64::from(n)).max(first);
                    storage.truncate_after(Lsn(after)).unwrap();
                    model.retain(|e| e.lsn.0 <= after);
                    epoch += 1;
                }
                Step::Sync => { storage.sync().unwrap(); }
                Step::Compact(n) => {
                    let Some(last) = model.last().map(|e| e.lsn.0) else { continue };
                    storage.compact_through(Lsn(last.saturating_sub(u64::from(n)))).unwrap();
                    let first = storage.first_lsn().map_or(0, |l| l.0);
                    model.retain(|e| e.lsn.0 >= first);
                }
                Step::Reopen => {
                    storage.sync().unwrap();
                    drop(storage);
                    let (reopened, recovered) = reopen(dir.path(), small_segments());
                    prop_assert_eq!(&recovered.durable.log, &model);
                    storage = reopened;
                }
            }
            prop_assert_eq!(storage.last_lsn(), model.last().map(|e| e.lsn));
        }
        storage.sync().unwrap();
        drop(storage);
        let (_, recovered) = reopen(dir.path(), small_segments());
        prop_assert_eq!(recovered.durable.log, model);
    }
}

#[test]
fn leftover_staging_and_temporary_files_are_removed_on_open() {
    let dir = tempfile::tempdir().unwrap();
    drop(reopen(dir.path(), StorageOptions::default()));
    let snapshots = dir.path().join("snapshots");
    for name in ["incoming.part", "x.snap.tmp"] {
        std::fs::File::create(snapshots.join(name))
            .unwrap()
            .write_all(b"junk")
            .unwrap();
    }
    drop(reopen(dir.path(), StorageOptions::default()));
    assert_eq!(std::fs::read_dir(&snapshots).unwrap().count(), 0);
}

/// A segment created just before a crash holds only its header: the log
/// opens without it mattering, and an append at another lsn (after a
/// snapshot install, say) replaces it.
#[test]
fn an_empty_last_segment_is_reused_or_replaced() {
    let dir = tempfile::tempdir().unwrap();
    {
        let (mut storage, _) = reopen(dir.path(), StorageOptions::default());
        storage.append(&entries(1, 1..=2)).unwrap();
        storage.sync().unwrap();
    }
    let wal = dir.path().join("wal");
    std::fs::write(
        wal.join(segment::file_name(Lsn(3))),
        segment::header(Lsn(3)),
    )
    .unwrap();
    let (mut storage, recovered) = reopen(dir.path(), StorageOptions::default());
    assert_eq!(recovered.durable.log, entries(1, 1..=2));
    storage.append(&entries(1, 3..=3)).unwrap();
    storage.sync().unwrap();
    drop(storage);
    assert_eq!(std::fs::read_dir(&wal).unwrap().count(), 2);
    let (_, recovered) = reopen(dir.path(), StorageOptions::default());
    assert_eq!(recovered.durable.log, entries(1, 1..=3));
}

/// A snapshot whose bytes the state machine cannot read is not installed:
/// the log and the older snapshot stay as they were.
#[test]
fn a_snapshot_the_state_machine_refuses_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (mut storage, _) = reopen(dir.path(), StorageOptions::default());
    storage.append(&entries(1, 1..=3)).unwrap();
    storage.sync().unwrap();
    let at = Position::new(Epoch(2), Lsn(10));
    let meta = SnapshotMeta {
        position: at,
        membership: Membership::new([NodeId(1)], []),
        size: 5,
        checksum: crc32c::crc32c(b"hello"),
    };
    storage.stage_snapshot_chunk(at, 0, b"hello").unwrap();
    let err = storage
        .install_snapshot(&meta, |_| Err::<(), _>("not a state of ours".to_owned()))
        .unwrap_err();
    assert!(err.to_string().contains("not a state of ours"), "{err}");
    assert!(storage.snapshot().is_none());
    assert_eq!(storage.last_lsn(), Some(Lsn(3)));
    drop(storage);
    let (_, recovered) = reopen(dir.path(), StorageOptions::default());
    assert_eq!(recovered.durable.log, entries(1, 1..=3));
    assert!(recovered.durable.snapshot.is_none());
}
