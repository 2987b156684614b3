//! Physical replication: round trips, byte-identical pages, and refusal
//! across storage formats.

use super::physical::{self, apply, PageWrite, PhysicalApplyError, WalRecord};
use super::store::{Store, StoreConfig, PAGE_SIZE};
use super::testing::{flip, run_leader, workload};
use proptest::prelude::*;
use steadfast::types::Lsn;

fn record() -> impl Strategy<Value = WalRecord> {
    let write = (
        any::<u32>(),
        proptest::collection::vec(any::<u8>(), PAGE_SIZE),
    )
        .prop_map(|(page, bytes)| PageWrite { page, bytes });
    (
        any::<u32>(),
        any::<u64>(),
        any::<u32>(),
        proptest::collection::vec(write, 0..3),
    )
        .prop_map(|(v, lsn, page_count, writes)| WalRecord {
            storage_format_version: v,
            lsn: Lsn(lsn),
            page_count,
            writes,
        })
}

fn records_of(w: &[String], seed: u64) -> (Store, Vec<WalRecord>) {
    let mut shadow = Store::new();
    let (leader, executions) = run_leader(w, seed);
    // Rebuild the leader step by step so each record sees the pages of its own commit.
    let mut records = Vec::new();
    for execution in &executions {
        shadow
            .replay(&execution.statement, &execution.fixed)
            .expect("replays");
        records.push(WalRecord::from_execution(&shadow, execution));
    }
    (leader, records)
}

proptest! {
    #[test]
    fn wal_records_round_trip(r in record()) {
        prop_assert_eq!(physical::decode(&physical::encode(&r)), Ok(r));
    }

    #[test]
    fn wal_records_detect_flipped_bits(r in record(), bit in any::<usize>()) {
        let mut bytes = physical::encode(&r);
        flip(&mut bytes, bit);
        prop_assert!(physical::decode(&bytes).is_err());
    }

    #[test]
    fn wal_shipping_gives_byte_identical_pages(w in workload(), seed in any::<u64>()) {
        let (leader, records) = records_of(&w, seed);
        let mut follower = Store::new();
        for record in &records {
            let decoded = physical::decode(&physical::encode(record)).expect("decodes");
            apply(&mut follower, &decoded).expect("applies");
        }
        prop_assert_eq!(follower.pages(), leader.pages());
        prop_assert_eq!(&follower, &leader);
    }
}

#[test]
fn a_follower_on_another_storage_format_refuses_the_stream() {
    let (_, records) = records_of(&[], 1);
    let mut follower = Store::with_config(StoreConfig {
        storage_format_version: 2,
    });
    let before = follower.clone();
    let err = apply(&mut follower, &records[0]).unwrap_err();
    assert_eq!(
        err,
        PhysicalApplyError::StorageFormatMismatch {
            stream: 1,
            follower: 2
        }
    );
    assert!(err.to_string().contains("storage format version 1"));
    assert_eq!(follower, before);
}

#[test]
fn page_writes_that_leave_holes_are_refused() {
    let mut follower = Store::new();
    let record = WalRecord {
        storage_format_version: 1,
        lsn: Lsn(1),
        page_count: u32::MAX,
        writes: vec![],
    };
    assert!(matches!(
        apply(&mut follower, &record),
        Err(PhysicalApplyError::BadPage { page: 1, .. })
    ));
    let skipping = WalRecord {
        lsn: Lsn(2),
        ..record.clone()
    };
    assert!(matches!(
        apply(&mut follower, &skipping),
        Err(PhysicalApplyError::OutOfOrder { .. })
    ));
}

#[test]
fn garbage_pages_with_a_valid_frame_are_refused_not_loaded() {
    let mut follower = Store::new();
    let record = WalRecord {
        storage_format_version: 1,
        lsn: Lsn(1),
        page_count: 1,
        writes: vec![PageWrite {
            page: 0,
            bytes: vec![0xff; PAGE_SIZE],
        }],
    };
    let before = follower.clone();
    assert!(matches!(
        apply(&mut follower, &record),
        Err(PhysicalApplyError::Store(_))
    ));
    assert_eq!(follower, before);
}
