//! Logical replication: round trips in both format versions, equivalence,
//! rolling upgrades, and the JSON export.

use super::*;
use crate::store::{SchemaChange, SeededNondeterminism, Store, Value};
use crate::testing::{contents, flip, row_image, run_leader, workload};
use crate::DecodeError;
use proptest::prelude::*;

fn schema_version() -> impl Strategy<Value = Option<u32>> {
    any::<Option<u32>>()
}

fn event() -> impl Strategy<Value = LogicalEvent> {
    let table = "[a-z]{0,8}";
    prop_oneof![
        (any::<u64>(), any::<u64>()).prop_map(|(txid, lsn)| LogicalEvent::Begin {
            txid,
            lsn: Lsn(lsn)
        }),
        (any::<u64>(), any::<u64>(), any::<i64>()).prop_map(|(txid, lsn, ts_ms)| {
            LogicalEvent::Commit {
                txid,
                lsn: Lsn(lsn),
                ts_ms,
            }
        }),
        (
            table,
            any::<u32>(),
            proptest::collection::vec("[a-z]{0,5}", 0..4)
        )
            .prop_map(|(table, schema_version, columns)| LogicalEvent::Schema(
                SchemaChange {
                    table,
                    schema_version,
                    columns
                }
            )),
        (table, schema_version(), any::<i64>(), row_image()).prop_map(
            |(table, schema_version, key, after)| LogicalEvent::Insert {
                table,
                schema_version,
                key,
                after
            }
        ),
        (
            table,
            schema_version(),
            any::<i64>(),
            row_image(),
            row_image()
        )
            .prop_map(
                |(table, schema_version, key, before, after)| LogicalEvent::Update {
                    table,
                    schema_version,
                    key,
                    before,
                    after
                }
            ),
        (table, schema_version(), any::<i64>(), row_image()).prop_map(
            |(table, schema_version, key, before)| LogicalEvent::Delete {
                table,
                schema_version,
                key,
                before
            }
        ),
    ]
}

/// What a version 1 decoder sees: no schema versions.
fn as_v1(event: &LogicalEvent) -> LogicalEvent {
    let mut event = event.clone();
    match &mut event {
        LogicalEvent::Insert { schema_version, .. }
        | LogicalEvent::Update { schema_version, .. }
        | LogicalEvent::Delete { schema_version, .. } => *schema_version = None,
        _ => {}
    }
    event
}

fn stream(w: &[String], seed: u64) -> (Store, Vec<LogicalEvent>) {
    let (leader, executions) = run_leader(w, seed);
    (leader, executions.iter().flat_map(events_for).collect())
}

proptest! {
    #[test]
    fn logical_events_round_trip(e in event()) {
        prop_assert_eq!(decode(&encode(&e)), Ok(e));
    }

    #[test]
    fn version_1_events_are_read_by_the_current_decoder(e in event()) {
        match encode_v1(&e) {
            Ok(bytes) => prop_assert_eq!(decode(&bytes), Ok(as_v1(&e))),
            Err(LogicalEncodeError::SchemaInVersion1) => {
                prop_assert!(matches!(e, LogicalEvent::Schema(_)))
            }
        }
    }

    #[test]
    fn logical_events_detect_flipped_bits(e in event(), bit in any::<usize>()) {
        let mut bytes = encode(&e);
        flip(&mut bytes, bit);
        prop_assert!(decode(&bytes).is_err());
    }

    #[test]
    fn logical_replication_reaches_the_leaders_rows(w in workload(), seed in any::<u64>()) {
        let (leader, events) = stream(&w, seed);
        let mut store = Store::new();
        let mut follower = LogicalFollower::new();
        for event in &events {
            let decoded = decode(&encode(event)).expect("decodes");
            follower.apply(&mut store, &decoded).expect("applies");
        }
        prop_assert_eq!(contents(&store), contents(&leader));
        prop_assert_eq!(store.lsn(), leader.lsn());
        prop_assert_eq!(follower.open_transaction(), None);
    }

    #[test]
    fn an_upgraded_follower_reads_an_old_leaders_stream(w in workload(), seed in any::<u64>()) {
        // The old leader cannot ship schema changes: keep DDL out of its workload.
        let w: Vec<String> = w.into_iter().filter(|s| !s.contains("extra")).collect();
        let (leader, events) = stream(&w, seed);
        // The upgraded follower already has the tables, one with a newer, wider schema.
        let mut store = Store::new();
        let mut p = SeededNondeterminism::new(0, 0, 1);
        store.execute("CREATE TABLE users (id, name, score, added_later)", &mut p).expect("ddl");
        store.execute("CREATE TABLE events (id, at, note)", &mut p).expect("ddl");
        let mut follower = LogicalFollower::new();
        let mut skipped_setup = false;
        for event in &events {
            let Ok(bytes) = encode_v1(event) else { skipped_setup = true; continue };
            follower.apply(&mut store, &decode(&bytes).expect("decodes")).expect("applies");
        }
        prop_assert!(skipped_setup, "the setup's schema events are not expressible in version 1");
        let users = store.table("users").expect("users");
        let leader_users = leader.table("users").expect("users");
        prop_assert_eq!(users.rows().len(), leader_users.rows().len());
        for (key, row) in leader_users.rows() {
            let mut widened = row.clone();
            widened.push(Value::Null);
            prop_assert_eq!(users.rows().get(key), Some(&widened));
        }
        prop_assert_eq!(store.table("events").map(|t| t.rows()), leader.table("events").map(|t| t.rows()));
    }
}

#[test]
fn schema_events_are_refused_in_a_version_1_frame() {
    let schema = LogicalEvent::Schema(SchemaChange {
        table: "t".into(),
        schema_version: 1,
        columns: vec!["id".into()],
    });
    let mut bytes = encode(&schema);
    bytes[4] = VERSION_1; // the version byte
    let err = decode(&bytes).unwrap_err();
    assert!(
        matches!(err, DecodeError::Frame(_)),
        "checksum covers the version: {err}"
    );
    let body = bytes[crate::frame::HEADER_LEN..].to_vec();
    let reframed = crate::Frame::new(crate::RecordKind::Logical, VERSION_1, body).encode();
    assert_eq!(
        decode(&reframed).unwrap_err().to_string(),
        "bad Logical record body: invalid logical event tag 6: expected one of 1 (begin), 2 (commit), 3 (insert), 4 (update) or 5 (delete) in version 1"
    );
}

#[test]
fn a_follower_refuses_events_that_do_not_fit_its_state() {
    let (_, events) = stream(
        &["INSERT INTO users (id, name) VALUES (1, 'a')".to_owned()],
        1,
    );
    let mut store = Store::new();
    let mut follower = LogicalFollower::new();
    assert_eq!(
        follower.apply(&mut store, &events[1]),
        Err(LogicalApplyError::NotInTransaction { event: "Schema" })
    );
    for event in &events {
        follower.apply(&mut store, event).expect("applies");
    }
    // Replaying the insert transaction again: the row is already there.
    let insert = &events[events.len() - 3..];
    follower.apply(&mut store, &insert[0]).expect("begin");
    assert!(matches!(
        follower.apply(&mut store, &insert[1]),
        Err(LogicalApplyError::RowExists { key: 1, .. })
    ));
    let stale = LogicalEvent::Delete {
        table: "users".into(),
        schema_version: Some(1),
        key: 1,
        before: crate::store::RowImage(vec![("name".into(), Value::Text("b".into()))]),
    };
    assert!(matches!(
        follower.apply(&mut store, &stale),
        Err(LogicalApplyError::BeforeImageMismatch { key: 1, .. })
    ));
    let future = LogicalEvent::Delete {
        schema_version: Some(2),
        before: Default::default(),
        table: "users".into(),
        key: 1,
    };
    assert_eq!(
        follower.apply(&mut store, &future).unwrap_err().to_string(),
        "row event for `users` is schema version 2, the follower's table is version 1: a schema change was missed"
    );
}

#[test]
fn json_lines_export_uses_a_debezium_like_envelope() {
    let mut leader = Store::new();
    let mut clock = SeededNondeterminism::new(42, 1_700_000_000_000, 1_000);
    let mut events = Vec::new();
    for text in [
        "CREATE TABLE users (id, name, visits)",
        "INSERT INTO users (name, visits) VALUES ('ann', 1)",
        "UPDATE users SET visits = visits + 1 WHERE id = 1",
        "DELETE FROM users WHERE id = 1",
    ] {
        let execution = leader.execute(text, &mut clock).expect("runs");
        events.extend(events_for(&execution));
    }
    let lines = to_json_lines(&events);
    let expected = concat!(
        r#"{"after":{"id":1,"name":"ann","visits":1},"before":null,"op":"c","source":{"connector":"steadfast","lsn":2,"schema_version":1,"table":"users","txid":2},"ts_ms":1700000002000}"#,
        "\n",
        r#"{"after":{"id":1,"name":"ann","visits":2},"before":{"id":1,"name":"ann","visits":1},"op":"u","source":{"connector":"steadfast","lsn":3,"schema_version":1,"table":"users","txid":3},"ts_ms":1700000003000}"#,
        "\n",
        r#"{"after":null,"before":{"id":1,"name":"ann","visits":2},"op":"d","source":{"connector":"steadfast","lsn":4,"schema_version":1,"table":"users","txid":4},"ts_ms":1700000004000}"#,
        "\n",
    );
    assert_eq!(lines, expected);
    // An uncommitted tail is not exported.
    assert_eq!(to_json(&events[..events.len() - 1]).len(), 2);
}
