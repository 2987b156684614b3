//! Test support: random workloads for the reference store, a leader that
//! runs them, and proptest strategies for record parts.

use super::store::{Execution, FixedValues, RowImage, SeededNondeterminism, Store, Table, Value};
use proptest::prelude::*;
use std::collections::BTreeMap;

/// Tables every workload starts with.
pub(crate) const SETUP: [&str; 2] = [
    "CREATE TABLE users (id, name, score)",
    "CREATE TABLE events (id, at, note)",
];

fn statement() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => (0u8..20).prop_map(|n| format!("INSERT INTO users (name, score) VALUES ('u{n}', rand())")),
        2 => (1i64..10).prop_map(|k| format!("INSERT INTO users (id, name, score) VALUES ({k}, 'k''{k}', {k} - 3)")),
        2 => Just("INSERT INTO events (id, at, note) VALUES (next_id(), now(), 'tick')".to_owned()),
        3 => (1i64..10).prop_map(|k| format!("UPDATE users SET score = score + rand(), name = NULL WHERE id = {k}")),
        2 => (1i64..10).prop_map(|k| format!("UPDATE events SET at = now() - at, note = 'seen' WHERE id = {k}")),
        2 => (1i64..10).prop_map(|k| format!("DELETE FROM users WHERE id = {k}")),
        1 => (1i64..10).prop_map(|k| format!("DELETE FROM events WHERE id = {k}")),
        1 => (0u8..3).prop_map(|c| format!("ALTER TABLE users ADD COLUMN extra{c}")),
        2 => (1i64..10, 0u8..3).prop_map(|(k, c)| format!("UPDATE users SET extra{c} = now() + next_id() WHERE id = {k}")),
    ]
}

/// A random statement sequence over the [`SETUP`] tables. Some statements
/// fail (duplicate keys, missing columns); the leader skips those.
pub(crate) fn workload() -> impl Strategy<Value = Vec<String>> {
    proptest::collection::vec(statement(), 1..40)
}

/// Runs [`SETUP`] and `workload` on a fresh leader whose clock and seeds
/// come from `seed`; returns the leader and its successful executions.
pub(crate) fn run_leader(workload: &[String], seed: u64) -> (Store, Vec<Execution>) {
    let mut store = Store::new();
    let mut provider = SeededNondeterminism::new(seed, 1_700_000_000_000, 7);
    let executions = SETUP
        .iter()
        .copied()
        .chain(workload.iter().map(String::as_str))
        .filter_map(|text| store.execute(text, &mut provider).ok())
        .collect();
    (store, executions)
}

/// A table's columns and rows by key.
pub(crate) type Contents = BTreeMap<String, (Vec<String>, BTreeMap<i64, Vec<Value>>)>;

/// The part of a store replication must reproduce: every table's columns and rows.
pub(crate) fn contents(store: &Store) -> Contents {
    store
        .tables()
        .iter()
        .map(|(name, table): (&String, &Table)| {
            (
                name.clone(),
                (table.columns().to_vec(), table.rows().clone()),
            )
        })
        .collect()
}

/// Any column value.
pub(crate) fn value() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<i64>().prop_map(Value::Int),
        ".{0,12}".prop_map(Value::Text),
    ]
}

/// Any row image.
pub(crate) fn row_image() -> impl Strategy<Value = RowImage> {
    proptest::collection::vec(("[a-z_]{0,6}", value()), 0..5).prop_map(RowImage)
}

/// Any set of fixed values.
pub(crate) fn fixed_values() -> impl Strategy<Value = FixedValues> {
    (
        any::<i64>(),
        any::<Option<u64>>(),
        proptest::collection::vec(any::<i64>(), 0..4),
    )
        .prop_map(|(timestamp, rand_seed, generated_ids)| FixedValues {
            timestamp,
            rand_seed,
            generated_ids,
        })
}

/// Flips bit `bit` (taken modulo the length) of `bytes`.
pub(crate) fn flip(bytes: &mut [u8], bit: usize) {
    let len = bytes.len();
    if let Some(byte) = bytes.get_mut((bit / 8) % len.max(1)) {
        *byte ^= 1 << (bit % 8);
    }
}

/// Every format's decoder, for totality checks.
pub(crate) fn decode_with_every_format(bytes: &[u8]) -> [bool; 4] {
    [
        super::statement::decode(bytes).is_ok(),
        super::physical::decode(bytes).is_ok(),
        super::logical::decode(bytes).is_ok(),
        super::trigger::decode(bytes).is_ok(),
    ]
}
