//! Statement-based replication: round trips, faithful replay, and the
//! divergence of naive replay.

use super::statement::{self, apply, apply_naive, StatementRecord};
use super::store::{SeededNondeterminism, Store};
use super::testing::{contents, fixed_values, flip, run_leader, workload, SETUP};
use super::DecodeError;
use proptest::prelude::*;
use steadfast::types::Lsn;

fn record() -> impl Strategy<Value = StatementRecord> {
    (any::<u64>(), ".{0,40}", fixed_values()).prop_map(|(lsn, text, fixed)| StatementRecord {
        lsn: Lsn(lsn),
        text,
        fixed,
    })
}

/// Replays every execution's record, through bytes, on a fresh follower.
fn follow(executions: &[super::store::Execution]) -> Store {
    let mut follower = Store::new();
    for execution in executions {
        let bytes = statement::encode(&StatementRecord::from_execution(execution));
        let record = statement::decode(&bytes).expect("decodes");
        apply(&mut follower, &record).expect("replays");
    }
    follower
}

/// Replays naively with the follower's own clock and seeds; `None` if a
/// statement failed on the follower.
fn follow_naively(executions: &[super::store::Execution], seed: u64) -> Option<Store> {
    let mut follower = Store::new();
    let mut own = SeededNondeterminism::new(seed, 1_800_000_000_000, 3);
    for execution in executions {
        let record = StatementRecord::from_execution(execution);
        apply_naive(&mut follower, &record, &mut own).ok()?;
    }
    Some(follower)
}

proptest! {
    #[test]
    fn statement_records_round_trip(r in record()) {
        prop_assert_eq!(statement::decode(&statement::encode(&r)), Ok(r));
    }

    #[test]
    fn statement_records_detect_flipped_bits(r in record(), bit in any::<usize>()) {
        let mut bytes = statement::encode(&r);
        flip(&mut bytes, bit);
        prop_assert!(statement::decode(&bytes).is_err());
    }

    #[test]
    fn statement_replay_reaches_the_leaders_state(w in workload(), seed in any::<u64>()) {
        let (leader, executions) = run_leader(&w, seed);
        let follower = follow(&executions);
        // Same statements, same fixed values: the same store, down to the pages.
        prop_assert_eq!(&follower, &leader);
    }

    #[test]
    fn naive_statement_replay_diverges(w in workload(), seed in any::<u64>()) {
        let mut w = w;
        w.push("INSERT INTO users (name, score) VALUES ('probe', rand())".to_owned());
        let (leader, executions) = run_leader(&w, seed);
        let naive = follow_naively(&executions, seed ^ 0x5eed);
        let diverged = naive.is_none_or(|naive| contents(&naive) != contents(&leader));
        prop_assert!(diverged, "naive replay matched the leader for {:?}", w);
    }
}

#[test]
fn naive_replay_of_now_and_rand_gives_different_rows() {
    let w = vec!["INSERT INTO events (id, at, note) VALUES (next_id(), now(), 'x' )".to_owned()];
    let (leader, executions) = run_leader(&w, 1);
    let faithful = follow(&executions);
    let naive = follow_naively(&executions, 2).expect("applies");
    assert_eq!(contents(&faithful), contents(&leader));
    let at = |store: &Store| store.table("events").map(|t| t.rows()[&1][1].clone());
    assert_ne!(at(&naive), at(&leader), "now() was re-read on the follower");
}

#[test]
fn truncated_statement_records_are_reported() {
    let (_, executions) = run_leader(&[], 1);
    let bytes = statement::encode(&StatementRecord::from_execution(&executions[0]));
    for len in 0..bytes.len() {
        assert!(matches!(
            statement::decode(&bytes[..len]),
            Err(DecodeError::Frame(_))
        ));
    }
}

#[test]
fn out_of_order_records_are_refused() {
    let (_, executions) = run_leader(&[], 1);
    let mut follower = Store::new();
    let second = StatementRecord::from_execution(&executions[1]);
    assert_eq!(
        apply(&mut follower, &second).unwrap_err().to_string(),
        "statement record at lsn 2 is out of order: expected lsn 1"
    );
    assert_eq!(SETUP.len(), executions.len());
}
