//! Properties the fuzz targets check (`fuzz/fuzz_targets/server_*.rs`),
//! here so that `cargo test` runs them on a few inputs too.
//!
//! - [`check_server_storage`]: whatever bytes a crash, a bad disk or a
//!   hostile hand leaves in a data directory, opening it is a value or a
//!   typed error, never a panic; what opens, opens the same way twice (the
//!   torn tail was cut once, durably); and the replica restarted from it
//!   is a value or a typed error too.
//! - [`check_server_kv`]: any bytes are a command or not, a snapshot or not, and
//!   applying any entry to any state is total.
//! - [`check_server_trace`]: any bytes are a trace or a typed error; a trace
//!   that reads (whatever configuration, durable state and inputs it holds)
//!   replays to a report or a typed divergence, and merges in causal order,
//!   never a panic.

use crate::kv::{Command, KvState};

/// A fuzz target's check.
pub type Check = fn(&[u8]);

/// The server's fuzz targets and their checks, by target name (the
/// target `NAME` calls `check_NAME`).
pub const TARGETS: &[(&str, Check)] = &[
    ("server_storage", check_server_storage),
    ("server_kv", check_server_kv),
    ("server_trace", check_server_trace),
];
use crate::storage::{Storage, StorageOptions};
use std::path::PathBuf;
use steadfast::{Config, Entry, EntryKind, Epoch, Instant, Lsn, NodeId, Replica};

/// A scratch data directory for this process, emptied on every call.
fn scratch() -> Option<PathBuf> {
    let dir = std::env::temp_dir().join(format!("steadfast-fuzz-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("wal")).ok()?;
    std::fs::create_dir_all(dir.join("snapshots")).ok()?;
    Some(dir)
}

/// Split `data` into up to four files: a log segment (given a valid header
/// when the first byte is odd, so records are reached), a second segment,
/// the hard state and a snapshot. Each part is preceded by its length (one
/// byte, times 4).
pub fn check_server_storage(data: &[u8]) {
    let Some(dir) = scratch() else {
        return;
    };
    let mut rest = data;
    let mut part = || -> Vec<u8> {
        let Some((&len, tail)) = rest.split_first() else {
            return Vec::new();
        };
        let len = (usize::from(len) * 4).min(tail.len());
        let (taken, tail) = tail.split_at(len);
        rest = tail;
        taken.to_vec()
    };
    let with_header = data.first().is_some_and(|b| b % 2 == 1);
    let mut first = part();
    if with_header {
        let mut bytes = crate::storage::segment_header(Lsn(1)).to_vec();
        bytes.append(&mut first);
        first = bytes;
    }
    let second = part();
    let hard_state = part();
    let snapshot = part();
    let _ = std::fs::write(dir.join("wal").join("00000000000000000001.wal"), first);
    if !second.is_empty() {
        let _ = std::fs::write(dir.join("wal").join("00000000000000000009.wal"), second);
    }
    if !hard_state.is_empty() {
        let _ = std::fs::write(dir.join("hard_state"), hard_state);
    }
    if !snapshot.is_empty() {
        let name = "00000000000000000001-00000000000000000005.snap";
        let _ = std::fs::write(dir.join("snapshots").join(name), snapshot);
    }
    let options = StorageOptions::default();
    let Ok((storage, recovered)) = Storage::open(&dir, options) else {
        return;
    };
    drop(storage);
    match Storage::open(&dir, options) {
        Ok((_, again)) => {
            assert_eq!(
                again.durable.log, recovered.durable.log,
                "a second open read another log"
            );
            assert_eq!(again.durable.hard_state, recovered.durable.hard_state);
            assert!(
                again.torn_tail.is_none(),
                "the torn tail was not cut durably"
            );
        }
        Err(e) => panic!("opened once, then refused: {e}"),
    }
    let config = Config::new(NodeId(1), [NodeId(1), NodeId(2), NodeId(3)]);
    let _ = Replica::restart(config, recovered.durable, Instant(0));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Commands, snapshots and apply on arbitrary bytes.
pub fn check_server_kv(data: &[u8]) {
    if let Some(command) = Command::decode(data) {
        assert_eq!(
            Command::decode(&command.encode()),
            Some(command),
            "commands round-trip"
        );
    }
    let mut state = KvState::restore(data).unwrap_or_default();
    let entry = Entry {
        epoch: Epoch(1),
        lsn: Lsn(1),
        kind: EntryKind::Command(steadfast::Bytes::copy_from_slice(data)),
    };
    state.apply(&entry);
    assert_eq!(
        KvState::restore(&state.snapshot()).ok(),
        Some(state),
        "snapshots round-trip"
    );
}

/// Read `data` as a trace file, then replay and merge what reads. When the
/// first byte is odd the rest is cut into record bodies (each preceded by
/// its length, one byte) that are framed with valid checksums, so that the
/// inputs reach the record decoder and the replica rather than stopping at
/// the frame check.
pub fn check_server_trace(data: &[u8]) {
    use crate::trace::{causal_order, parse_trace, replay_trace};
    let bytes = match data.split_first() {
        Some((first, mut rest)) if first % 2 == 1 => {
            let mut framed = Vec::new();
            while let Some((&len, tail)) = rest.split_first() {
                let (body, tail) = tail.split_at(usize::from(len).min(tail.len()));
                crate::storage::record::encode_record(body, &mut framed);
                rest = tail;
            }
            framed
        }
        _ => data.to_vec(),
    };
    let path = std::path::Path::new("fuzz.trace");
    let Ok(trace) = parse_trace(path, &bytes) else {
        return;
    };
    let _ = replay_trace(&trace);
    let _ = causal_order(std::slice::from_ref(&trace));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fuzz_properties_hold_on_a_few_inputs() {
        let inputs: [&[u8]; 5] = [
            b"",
            b"\x01\x02\x00\x00\x00\x00\x00\x00\x00\x00",
            b"\x03\x10garbage garbage garbage garbage garbage garbage garbage garbage",
            &[0xff; 64],
            &[1, 3, 7, 0, 0, 0, 0xde, 0xad, 0xbe, 0xef, 1, 2],
        ];
        for input in inputs {
            check_server_storage(input);
            check_server_kv(input);
        }
    }
}
