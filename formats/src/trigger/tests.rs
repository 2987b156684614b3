//! Trigger-based replication: round trips, equivalence, filters and
//! transforms, and damaged shipments.

use super::*;
use crate::store::{SeededNondeterminism, Store, Value};
use crate::testing::{contents, flip, row_image, run_leader, workload};
use proptest::prelude::*;

fn change_row() -> impl Strategy<Value = ChangeRow> {
    let op = prop_oneof![
        Just(ChangeOp::Insert),
        Just(ChangeOp::Update),
        Just(ChangeOp::Delete)
    ];
    (
        any::<u64>(),
        any::<u64>(),
        "[a-z]{0,8}",
        op,
        any::<i64>(),
        row_image(),
    )
        .prop_map(|(seq, txid, table, op, key, row)| ChangeRow {
            seq,
            txid,
            table,
            op,
            key,
            row,
        })
}

fn copy_everything() -> Triggers {
    let mut triggers = Triggers::new();
    triggers.register("users", copy_row());
    triggers.register("events", copy_row());
    triggers
}

proptest! {
    #[test]
    fn change_rows_round_trip(row in change_row()) {
        prop_assert_eq!(decode(&encode(&row)), Ok(row));
    }

    #[test]
    fn change_rows_detect_flipped_bits(row in change_row(), bit in any::<usize>()) {
        let mut bytes = encode(&row);
        flip(&mut bytes, bit);
        prop_assert!(decode(&bytes).is_err());
    }

    #[test]
    fn trigger_replication_reaches_the_leaders_rows(w in workload(), seed in any::<u64>()) {
        let (leader, executions) = run_leader(&w, seed);
        let triggers = copy_everything();
        let mut changes = ChangeTable::new();
        let mut shipper = Shipper::new();
        let mut store = Store::new();
        let mut follower = TriggerFollower::new();
        for execution in &executions {
            if execution.schema_change.is_some() {
                // DDL is not captured by triggers: the operator runs it on the follower.
                store.replay(&execution.statement, &execution.fixed).expect("ddl");
            }
            triggers.fire(execution, &mut changes);
            let shipment = shipper.ship(&changes);
            follower.apply_shipment(&mut store, &shipment).expect("applies");
            changes.purge_through(shipper.shipped_through());
        }
        prop_assert_eq!(contents(&store), contents(&leader));
        prop_assert!(changes.rows().is_empty());
    }
}

#[test]
fn filters_replicate_a_subset_and_rename_a_column() {
    let mut leader = Store::new();
    let mut clock = SeededNondeterminism::new(3, 0, 1);
    let mut follower_store = Store::new();
    follower_store
        .execute("CREATE TABLE people (id, full_name)", &mut clock)
        .expect("ddl");
    let triggers = copy_everything();
    let mut changes = ChangeTable::new();
    let mut follower = TriggerFollower::new()
        .with_rule(
            "users",
            TableRule::replicate()
                .into_table("people")
                .only_columns(&["name"])
                .rename_column("name", "full_name"),
        )
        .with_rule("events", TableRule::skip());
    for text in [
        "CREATE TABLE users (id, name, score)",
        "CREATE TABLE events (id, at, note)",
        "INSERT INTO users (name, score) VALUES ('ann', 10)",
        "INSERT INTO users (name, score) VALUES ('bob', 20)",
        "INSERT INTO events (at, note) VALUES (now(), 'login')",
        "UPDATE users SET name = 'anne', score = 11 WHERE id = 1",
        "DELETE FROM users WHERE id = 2",
    ] {
        let execution = leader.execute(text, &mut clock).expect("runs");
        triggers.fire(&execution, &mut changes);
    }
    assert_eq!(changes.rows().len(), 5, "four user changes, one event");
    let shipment = Shipper::new().ship(&changes);
    follower
        .apply_shipment(&mut follower_store, &shipment)
        .expect("applies");
    let people = follower_store.table("people").expect("people");
    assert_eq!(people.rows().len(), 1);
    assert_eq!(
        people.rows()[&1],
        vec![Value::Int(1), Value::Text("anne".into())]
    );
    assert!(follower_store.table("events").is_none());
    assert_eq!(follower.applied_through(), 5);
}

#[test]
fn user_defined_triggers_choose_what_to_record() {
    let mut leader = Store::new();
    let mut clock = SeededNondeterminism::new(3, 0, 1);
    let mut triggers = Triggers::new();
    // Record deletes only, keeping just the name: an audit trail.
    triggers.register(
        "users",
        Box::new(|change, writer| {
            if change.op == ChangeOp::Delete {
                let name = change.before.as_ref().and_then(|b| b.get("name")).cloned();
                let row = RowImage(vec![("name".into(), name.unwrap_or(Value::Null))]);
                writer.write("deleted_users", ChangeOp::Insert, change.key, row);
            }
        }),
    );
    let mut changes = ChangeTable::new();
    for text in [
        "CREATE TABLE users (id, name)",
        "INSERT INTO users (name) VALUES ('ann')",
        "DELETE FROM users WHERE id = 1",
    ] {
        let execution = leader.execute(text, &mut clock).expect("runs");
        triggers.fire(&execution, &mut changes);
    }
    assert_eq!(
        changes.rows(),
        &[ChangeRow {
            seq: 1,
            txid: 3,
            table: "deleted_users".into(),
            op: ChangeOp::Insert,
            key: 1,
            row: RowImage(vec![("name".into(), Value::Text("ann".into()))]),
        }]
    );
}

#[test]
fn a_damaged_shipment_applies_its_good_prefix_and_reports_the_rest() {
    let (_, executions) = run_leader(
        &[
            "INSERT INTO users (name) VALUES ('a')".to_owned(),
            "INSERT INTO users (name) VALUES ('b')".to_owned(),
        ],
        1,
    );
    let triggers = copy_everything();
    let mut changes = ChangeTable::new();
    for execution in &executions {
        triggers.fire(execution, &mut changes);
    }
    let mut shipment = Shipper::new().ship(&changes);
    let second = encode(&changes.rows()[0]).len();
    let last = shipment.len() - 1;
    shipment[last] ^= 0x01;
    let mut store = Store::new();
    let mut p = SeededNondeterminism::new(0, 0, 1);
    store
        .execute("CREATE TABLE users (id, name, score)", &mut p)
        .expect("ddl");
    let mut follower = TriggerFollower::new();
    let err = follower.apply_shipment(&mut store, &shipment).unwrap_err();
    assert!(
        matches!(err, TriggerApplyError::Decode { offset, .. } if offset == second),
        "{err}"
    );
    assert_eq!(follower.applied_through(), 1);
    assert_eq!(store.table("users").map(|t| t.rows().len()), Some(1));
    // Re-sending the applied row is refused, not applied twice.
    assert_eq!(
        follower.apply(&mut store, &changes.rows()[0]),
        Err(TriggerApplyError::Gap {
            expected: 2,
            found: 1
        })
    );
}
