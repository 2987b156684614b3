use super::*;
use steadfast::{Bytes, Epoch, Lsn};

fn entry(lsn: u64, command: &Command) -> Entry {
    Entry {
        epoch: Epoch(1),
        lsn: Lsn(lsn),
        kind: EntryKind::Command(command.encode()),
    }
}

fn put(key: &str, value: &str, client: u64, seq: u64) -> Command {
    Command::Put {
        key: key.into(),
        value: value.as_bytes().to_vec(),
        client,
        seq,
    }
}

#[test]
fn puts_and_deletes_apply_in_order() {
    let mut kv = KvState::new();
    assert_eq!(kv.apply(&entry(1, &put("a", "1", 0, 0))), Applied::Done);
    assert_eq!(kv.apply(&entry(2, &put("a", "2", 0, 0))), Applied::Done);
    assert_eq!(kv.get("a"), Some(b"2".as_slice()));
    let delete = Command::Delete {
        key: "a".into(),
        client: 0,
        seq: 0,
    };
    assert_eq!(kv.apply(&entry(3, &delete)), Applied::Done);
    assert_eq!(kv.get("a"), None);
    assert_eq!(kv.applied(), Position::new(Epoch(1), Lsn(3)));
}

#[test]
fn a_retried_write_applies_once() {
    let mut kv = KvState::new();
    assert_eq!(kv.apply(&entry(1, &put("a", "first", 7, 1))), Applied::Done);
    assert_eq!(
        kv.apply(&entry(2, &put("a", "second", 7, 2))),
        Applied::Done
    );
    // The retry of write 1 arrives after write 2: it must not undo it.
    assert_eq!(
        kv.apply(&entry(3, &put("a", "first", 7, 1))),
        Applied::Duplicate
    );
    assert_eq!(kv.get("a"), Some(b"second".as_slice()));
    // Another client's numbering is its own.
    assert_eq!(kv.apply(&entry(4, &put("b", "x", 8, 1))), Applied::Done);
}

#[test]
fn undecodable_and_non_command_entries_are_skipped_alike() {
    let mut kv = KvState::new();
    let garbage = Entry {
        epoch: Epoch(1),
        lsn: Lsn(1),
        kind: EntryKind::Command(Bytes::from_static(&[0xff, 0xff, 0xff])),
    };
    assert_eq!(kv.apply(&garbage), Applied::Undecodable);
    let noop = Entry {
        epoch: Epoch(1),
        lsn: Lsn(2),
        kind: EntryKind::Noop,
    };
    assert_eq!(kv.apply(&noop), Applied::NotACommand);
    assert_eq!(kv.undecodable(), 1);
    assert!(kv.is_empty());
    assert_eq!(kv.applied().lsn, Lsn(2));
}

#[test]
fn a_snapshot_restores_everything_including_the_sessions() {
    let mut kv = KvState::new();
    kv.apply(&entry(1, &put("a", "1", 7, 1)));
    let addrs = NodeAddrs {
        peer: "127.0.0.1:7001".parse().unwrap(),
        http: "127.0.0.1:8001".parse().unwrap(),
    };
    kv.apply(&entry(
        2,
        &Command::Register {
            node: NodeId(4),
            addrs,
        },
    ));
    let mut restored = KvState::restore(&kv.snapshot()).unwrap();
    assert_eq!(restored, kv);
    assert_eq!(restored.addrs(NodeId(4)), Some(&addrs));
    assert_eq!(
        restored.apply(&entry(3, &put("a", "1", 7, 1))),
        Applied::Duplicate
    );
    assert!(KvState::restore(b"\xff\xff\xff\xff").is_err());
}

#[test]
fn commands_decode_only_whole() {
    let bytes = put("k", "v", 1, 1).encode();
    assert_eq!(Command::decode(&bytes), Some(put("k", "v", 1, 1)));
    let mut longer = bytes.to_vec();
    longer.push(0);
    assert_eq!(Command::decode(&longer), None);
    for cut in 0..bytes.len() {
        assert_eq!(Command::decode(&bytes[..cut]), None, "cut at {cut}");
    }
}

#[test]
fn a_prefix_scan_yields_exactly_the_keys_under_it_in_order() {
    let mut kv = KvState::new();
    for (lsn, key) in [
        (1, "set/2"),
        (2, "set"),
        (3, "set/10"),
        (4, "sets/1"),
        (5, "s"),
    ] {
        assert_eq!(kv.apply(&entry(lsn, &put(key, key, 0, 0))), Applied::Done);
    }
    let keys: Vec<&str> = kv.scan_prefix("set/").map(|(key, _)| key).collect();
    assert_eq!(keys, ["set/10", "set/2"]);
    assert_eq!(kv.scan_prefix("nothing/").count(), 0);
    assert_eq!(kv.scan_prefix("").count(), 5);
}
