//! [`Replica::restart`] refuses durable state no correct host could have
//! written, naming what is wrong, and accepts everything a correct host
//! (the reference `MemStorage` above all) may hand it.

use super::super::{Durable, MembershipSource, Replica, RestartError};
use crate::config::Config;
use crate::entry::{Entry, EntryKind, HardState};
use crate::membership::Membership;
use crate::snapshot::SnapshotMeta;
use crate::types::{Epoch, Instant, Lsn, NodeId, Position};

fn config() -> Config {
    Config::new(NodeId(1), [1, 2, 3].map(NodeId))
}

fn entry(epoch: u64, lsn: u64) -> Entry {
    Entry {
        epoch: Epoch(epoch),
        lsn: Lsn(lsn),
        kind: EntryKind::Command(vec![lsn as u8].into()),
    }
}

/// `(epoch, lsn)` pairs as command entries.
fn log(entries: &[(u64, u64)]) -> Vec<Entry> {
    entries.iter().map(|&(e, l)| entry(e, l)).collect()
}

fn hard(epoch: u64) -> HardState {
    HardState {
        epoch: Epoch(epoch),
        voted_for: None,
    }
}

fn snapshot(epoch: u64, lsn: u64) -> SnapshotMeta {
    SnapshotMeta {
        position: Position::new(Epoch(epoch), Lsn(lsn)),
        membership: config().membership(),
        size: 3,
        checksum: 7,
    }
}

fn durable(epoch: u64, entries: &[(u64, u64)], applied: u64) -> Durable {
    Durable {
        hard_state: hard(epoch),
        log: log(entries),
        applied: Lsn(applied),
        snapshot: None,
    }
}

/// The refusal and its message, or a panic naming what was accepted.
fn refusal(durable: Durable) -> (RestartError, String) {
    match Replica::restart(config(), durable.clone(), Instant(0)) {
        Ok(replica) => panic!(
            "restart accepted {durable:?} as a replica with log {:?}",
            replica.entries()
        ),
        Err(error) => {
            let message = error.to_string();
            (error, message)
        }
    }
}

/// Asserts that `durable` is refused with `expected`; returns its message.
fn refused_with(durable: Durable, expected: RestartError) -> String {
    let (error, message) = refusal(durable);
    assert_eq!(error, expected, "{message}");
    message
}

fn pos(epoch: u64, lsn: u64) -> Position {
    Position::new(Epoch(epoch), Lsn(lsn))
}

fn accepted(durable: Durable) -> Replica {
    let replica = Replica::restart(config(), durable, Instant(0)).expect("accepted");
    assert_eq!(replica.check_invariants(), Ok(()));
    replica
}

fn assert_mentions(message: &str, words: &[&str]) {
    for word in words {
        assert!(
            message.contains(word),
            "{message:?} does not mention {word:?}"
        );
    }
}

#[test]
fn a_gap_in_the_log_is_refused() {
    // lsn 2 is missing, yet the host reported lsn 4 applied.
    let message = refused_with(
        durable(1, &[(1, 1), (1, 3), (1, 4)], 4),
        RestartError::LogGap {
            previous: Lsn(1),
            found: Lsn(3),
            expected: Lsn(2),
        },
    );
    assert_mentions(&message, &["after lsn 1", "lsn 3", "expected lsn 2"]);
    // A duplicate is a gap too.
    let message = refused_with(
        durable(1, &[(1, 1), (1, 1)], 0),
        RestartError::LogGap {
            previous: Lsn(1),
            found: Lsn(1),
            expected: Lsn(2),
        },
    );
    assert_mentions(&message, &["after lsn 1", "lsn 1", "expected lsn 2"]);
}

#[test]
fn a_log_not_starting_where_it_must_is_refused() {
    // Without a snapshot the log starts at lsn 1.
    let message = refused_with(
        durable(1, &[(1, 2), (1, 3)], 0),
        RestartError::BadLogStart {
            first: Lsn(2),
            latest: Lsn(1),
        },
    );
    assert_mentions(&message, &["starts at lsn 2", "1"]);
    let message = refused_with(
        durable(1, &[(1, 0), (1, 1)], 0),
        RestartError::BadLogStart {
            first: Lsn(0),
            latest: Lsn(1),
        },
    );
    assert_mentions(&message, &["starts at lsn 0"]);
    // With one, at most just after it.
    let mut state = durable(2, &[(2, 5), (2, 6)], 3);
    state.snapshot = Some(snapshot(1, 3));
    let message = refused_with(
        state,
        RestartError::BadLogStart {
            first: Lsn(5),
            latest: Lsn(4),
        },
    );
    assert_mentions(&message, &["starts at lsn 5", "4"]);
}

#[test]
fn decreasing_epochs_are_refused() {
    let message = refused_with(
        durable(3, &[(1, 1), (3, 2), (2, 3)], 0),
        RestartError::LogEpochRegression {
            lsn: Lsn(3),
            epoch: Epoch(2),
            previous: Epoch(3),
        },
    );
    assert_mentions(&message, &["lsn 3", "e2", "e3"]);
}

#[test]
fn entries_newer_than_the_hard_state_are_refused() {
    let message = refused_with(
        durable(1, &[(1, 1), (2, 2)], 0),
        RestartError::LogPastHardState {
            entry: pos(2, 2),
            epoch: Epoch(1),
        },
    );
    assert_mentions(&message, &["(e2, 2)", "e1"]);
}

#[test]
fn a_snapshot_newer_than_the_hard_state_is_refused() {
    let mut state = durable(1, &[], 2);
    state.snapshot = Some(snapshot(2, 2));
    let message = refused_with(
        state,
        RestartError::SnapshotPastHardState {
            snapshot: pos(2, 2),
            epoch: Epoch(1),
        },
    );
    assert_mentions(&message, &["(e2, 2)", "e1"]);
}

#[test]
fn applied_past_the_log_is_refused() {
    let message = refused_with(
        durable(1, &[(1, 1), (1, 2)], 5),
        RestartError::AppliedPastLog {
            applied: Lsn(5),
            last: Lsn(2),
        },
    );
    assert_mentions(&message, &["applied", "5", "2"]);
}

#[test]
fn applied_below_the_snapshot_is_refused() {
    let mut state = durable(1, &[(1, 4), (1, 5)], 1);
    state.snapshot = Some(snapshot(1, 3));
    let message = refused_with(
        state,
        RestartError::AppliedBelowSnapshot {
            applied: Lsn(1),
            snapshot: pos(1, 3),
        },
    );
    assert_mentions(&message, &["applied", "1", "(e1, 3)"]);
}

#[test]
fn a_log_disagreeing_with_the_snapshot_is_refused() {
    // The entry at the snapshot's lsn is of another epoch.
    let mut state = durable(2, &[(1, 1), (1, 2), (1, 3), (2, 4)], 3);
    state.snapshot = Some(snapshot(2, 3));
    let message = refused_with(
        state,
        RestartError::SnapshotMismatch {
            snapshot: pos(2, 3),
            found: pos(1, 3),
        },
    );
    assert_mentions(&message, &["(e1, 3)", "(e2, 3)"]);
    // The entry after the snapshot is older than it.
    let mut state = durable(2, &[(1, 4)], 3);
    state.snapshot = Some(snapshot(2, 3));
    let message = refused_with(
        state,
        RestartError::EpochAgainstSnapshot {
            entry: pos(1, 4),
            snapshot: pos(2, 3),
        },
    );
    assert_mentions(&message, &["(e1, 4)", "(e2, 3)"]);
    // An entry the snapshot covers is newer than it.
    let mut state = durable(3, &[(1, 1), (3, 2)], 3);
    state.snapshot = Some(snapshot(2, 3));
    let message = refused_with(
        state,
        RestartError::EpochAgainstSnapshot {
            entry: pos(3, 2),
            snapshot: pos(2, 3),
        },
    );
    assert_mentions(&message, &["(e3, 2)", "(e2, 3)"]);
}

fn membership_entry(epoch: u64, lsn: u64, membership: Membership) -> Entry {
    Entry {
        epoch: Epoch(epoch),
        lsn: Lsn(lsn),
        kind: EntryKind::Membership(Box::new(membership)),
    }
}

#[test]
fn malformed_memberships_are_refused() {
    let mut state = durable(1, &[(1, 1)], 0);
    state
        .log
        .push(membership_entry(1, 2, Membership::new([], [NodeId(1)])));
    let message = refused_with(
        state,
        RestartError::MembershipWithoutVoters {
            origin: MembershipSource::Entry(Lsn(2)),
        },
    );
    assert_mentions(&message, &["lsn 2", "no voters"]);

    let mut state = durable(1, &[(1, 1)], 0);
    state.log.push(membership_entry(
        1,
        2,
        Membership::new([NodeId(1), NodeId(2)], [NodeId(2)]),
    ));
    let message = refused_with(
        state,
        RestartError::MembershipVoterAndLearner {
            origin: MembershipSource::Entry(Lsn(2)),
            node: NodeId(2),
        },
    );
    assert_mentions(&message, &["lsn 2", "n2", "voter and as learner"]);

    let mut state = durable(1, &[], 2);
    let mut meta = snapshot(1, 2);
    meta.membership = Membership::new([], []);
    state.snapshot = Some(meta);
    let message = refused_with(
        state,
        RestartError::MembershipWithoutVoters {
            origin: MembershipSource::Snapshot(pos(1, 2)),
        },
    );
    assert_mentions(&message, &["snapshot at (e1, 2)", "no voters"]);
}

#[test]
fn an_invalid_configuration_is_refused() {
    let mut config = config();
    config.voters.clear();
    let error = Replica::restart(config, Durable::default(), Instant(0)).unwrap_err();
    assert_eq!(error, RestartError::Config(crate::ConfigError::NoVoters));
    assert_mentions(&error.to_string(), &["no voters"]);
}

#[test]
fn entries_the_snapshot_covers_are_accepted_when_consistent() {
    // MemStorage keeps covered entries until compaction.
    let mut state = durable(2, &[(1, 1), (1, 2), (2, 3), (2, 4), (2, 5)], 3);
    state.snapshot = Some(snapshot(2, 3));
    let replica = accepted(state);
    assert_eq!(replica.log.base(), Position::new(Epoch(2), Lsn(3)));
    assert_eq!(replica.last(), Position::new(Epoch(2), Lsn(5)));
    assert_eq!(replica.applied(), Lsn(3));
    // A log that starts anywhere up to just after the snapshot, or that
    // ends before it (the snapshot was installed and the log deleted).
    let mut state = durable(2, &[(2, 4)], 3);
    state.snapshot = Some(snapshot(2, 3));
    assert_eq!(accepted(state).last(), Position::new(Epoch(2), Lsn(4)));
    let mut state = durable(2, &[(1, 2)], 5);
    state.snapshot = Some(snapshot(2, 5));
    assert_eq!(accepted(state).last(), Position::new(Epoch(2), Lsn(5)));
}

#[test]
fn consistent_state_is_restored_whole() {
    let replica = accepted(durable(3, &[(1, 1), (1, 2), (3, 3)], 2));
    assert_eq!(replica.entries().len(), 3);
    assert_eq!(replica.applied(), Lsn(2));
    assert_eq!(replica.commit(), Lsn(2));
    let mut state = durable(3, &[(1, 1)], 0);
    state.log.push(membership_entry(
        2,
        2,
        Membership::new([NodeId(1), NodeId(2)], [NodeId(3)]),
    ));
    let replica = accepted(state);
    assert_eq!(
        replica.membership(),
        &Membership::new([NodeId(1), NodeId(2)], [NodeId(3)])
    );
}
