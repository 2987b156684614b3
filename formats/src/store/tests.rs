//! Behaviour of the reference store.

use super::*;

fn leader() -> (Store, SeededNondeterminism) {
    let mut store = Store::new();
    let mut provider = SeededNondeterminism::new(1, 1_000, 10);
    store
        .execute("CREATE TABLE users (id, name, score)", &mut provider)
        .expect("create");
    (store, provider)
}

fn row(store: &Store, key: i64) -> Option<Vec<Value>> {
    store.table("users")?.rows().get(&key).cloned()
}

#[test]
fn an_omitted_key_takes_the_next_id_and_explicit_keys_advance_it() {
    let (mut store, mut p) = leader();
    store
        .execute("INSERT INTO users (id, name) VALUES (5, 'a')", &mut p)
        .unwrap();
    let run = store
        .execute("INSERT INTO users (name) VALUES ('b')", &mut p)
        .unwrap();
    assert_eq!(run.fixed.generated_ids, vec![6]);
    assert_eq!(
        row(&store, 6),
        Some(vec![Value::Int(6), Value::Text("b".into()), Value::Null])
    );
}

#[test]
fn update_reads_the_old_row_and_records_both_images() {
    let (mut store, mut p) = leader();
    store
        .execute("INSERT INTO users (id, score) VALUES (1, 10)", &mut p)
        .unwrap();
    let run = store
        .execute(
            "UPDATE users SET score = score + 1 - -2 WHERE id = 1",
            &mut p,
        )
        .unwrap();
    assert_eq!(row(&store, 1).unwrap()[2], Value::Int(13));
    let change = &run.changes[0];
    assert_eq!(change.op, ChangeOp::Update);
    assert_eq!(
        change.before.as_ref().and_then(|b| b.get("score")),
        Some(&Value::Int(10))
    );
    assert_eq!(
        change.after.as_ref().and_then(|a| a.get("score")),
        Some(&Value::Int(13))
    );
}

#[test]
fn a_refused_statement_changes_nothing() {
    let (mut store, mut p) = leader();
    store
        .execute("INSERT INTO users (id) VALUES (1)", &mut p)
        .unwrap();
    let before = store.clone();
    for (text, expected) in [
        (
            "INSERT INTO users (id, name) VALUES (next_id(), 'x' + 1)",
            "`+` needs integers or NULL, found text",
        ),
        (
            "INSERT INTO users (id) VALUES (1)",
            "duplicate key 1 in `users`",
        ),
        (
            "UPDATE users SET id = 2 WHERE id = 1",
            "cannot SET the key column `id` of `users`: delete and insert instead",
        ),
        (
            "DELETE FROM users WHERE name = 1",
            "WHERE must name the key column `id` of `users`, not `name`",
        ),
        (
            "INSERT INTO users (name) VALUES (score)",
            "column `score` can only be read on the right of SET",
        ),
        ("DELETE FROM nobody WHERE id = 1", "unknown table `nobody`"),
        (
            "ALTER TABLE users ADD COLUMN name",
            "column `name` appears twice in `users`",
        ),
    ] {
        let err = store.execute(text, &mut p).unwrap_err();
        assert_eq!(err.to_string(), expected, "{text}");
        assert_eq!(store, before, "{text} left a trace");
    }
}

#[test]
fn replay_with_fixed_values_reproduces_the_leader() {
    let (mut leader, mut p) = leader();
    let mut follower = leader.clone();
    for text in [
        "INSERT INTO users (name, score) VALUES ('a', rand())",
        "UPDATE users SET score = now() + rand() - rand() WHERE id = 1",
        "ALTER TABLE users ADD COLUMN seen",
        "INSERT INTO users (id, seen) VALUES (next_id() + 10, now())",
    ] {
        let run = leader.execute(text, &mut p).unwrap();
        let replayed = follower.replay(&run.statement, &run.fixed).unwrap();
        assert_eq!(replayed, run);
    }
    assert_eq!(follower, leader);
}

#[test]
fn replay_without_a_recorded_value_is_refused() {
    let (mut store, _) = leader();
    let statement = parse("INSERT INTO users (name, score) VALUES ('a', rand())").unwrap();
    let fixed = FixedValues::default();
    assert_eq!(
        store.replay(&statement, &fixed).unwrap_err().to_string(),
        "replay needs a rand() seed, which the statement record does not carry"
    );
}

#[test]
fn pages_hold_the_whole_state() {
    let (mut store, mut p) = leader();
    for i in 0..40 {
        store
            .execute(
                &format!("INSERT INTO users (name, score) VALUES ('user number {i}', rand())"),
                &mut p,
            )
            .unwrap();
    }
    assert!(store.pages().len() > 4);
    assert!(store.pages().iter().all(|page| page.len() == PAGE_SIZE));
    let mut copy = Store::new();
    copy.load_pages(store.pages().to_vec()).unwrap();
    assert_eq!(copy, store);
}

#[test]
fn pages_of_another_storage_format_are_refused() {
    let (store, _) = leader();
    let mut other = Store::with_config(StoreConfig {
        storage_format_version: 2,
    });
    let untouched = other.clone();
    assert_eq!(
        other.load_pages(store.pages().to_vec()),
        Err(StoreError::StorageFormatMismatch {
            found: 1,
            expected: 2
        })
    );
    assert_eq!(other, untouched);
}

#[test]
fn a_small_update_dirties_few_pages() {
    let (mut store, mut p) = leader();
    for _ in 0..40 {
        store
            .execute("INSERT INTO users (name, score) VALUES ('x', 0)", &mut p)
            .unwrap();
    }
    let run = store
        .execute("UPDATE users SET score = 1 WHERE id = 40", &mut p)
        .unwrap();
    // The header page (lsn) and the page holding row 40.
    assert!(run.dirty_pages.len() <= 2, "{:?}", run.dirty_pages);
    assert!(run.dirty_pages.contains(&0));
}
