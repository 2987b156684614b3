//! The seed corpus: small, meaningful inputs for every fuzz target, built
//! with the encoders (and, for the stateful targets, program writers), so
//! each seed exercises what its name says.

use steadfast::membership::MembershipChange;
use steadfast::wire::{AppendResult, Envelope, Message};
use steadfast::{Entry, EntryKind, Epoch, Lsn, NodeId, Position};
use steadfast_formats::store::{ChangeOp, RowImage, SeededNondeterminism, Store, Value};
use steadfast_formats::{logical, physical, statement, trigger};
use steadfast_sim::fuzzing::cluster::{Outcome, Program};
use steadfast_sim::fuzzing::restart::run_restart;
use steadfast_sim::fuzzing::snapshot as snap;

/// Encoded inputs, one per file.
pub(crate) type Inputs = Vec<Vec<u8>>;
/// Named inputs of one target.
pub(crate) type Seeds = Vec<(String, Vec<u8>)>;

pub(crate) fn envelopes() -> Vec<Envelope> {
    let entries = vec![
        Entry {
            epoch: Epoch(2),
            lsn: Lsn(4),
            kind: EntryKind::Noop,
        },
        Entry {
            epoch: Epoch(2),
            lsn: Lsn(5),
            kind: EntryKind::Command(b"x = 1".to_vec().into()),
        },
    ];
    let messages = vec![
        Message::Append {
            epoch: Epoch(2),
            prev: Position::new(Epoch(1), Lsn(3)),
            entries,
            commit: Lsn(3),
            round: 1,
        },
        Message::Append {
            epoch: Epoch(7),
            prev: Position::new(Epoch(7), Lsn(40)),
            entries: Vec::new(),
            commit: Lsn(40),
            round: 9,
        },
        Message::AppendResponse {
            epoch: Epoch(2),
            result: AppendResult::Accepted {
                matched: Lsn(5),
                applied: Lsn(3),
            },
            round: 1,
        },
        Message::AppendResponse {
            epoch: Epoch(3),
            result: AppendResult::Rejected {
                rejected_prev: Lsn(9),
                hint: Position::new(Epoch(1), Lsn(6)),
            },
            round: 0,
        },
        Message::RequestVote {
            epoch: Epoch(4),
            last: Position::new(Epoch(3), Lsn(12)),
            pre_vote: true,
            transfer: false,
        },
        Message::RequestVote {
            epoch: Epoch(4),
            last: Position::new(Epoch(3), Lsn(12)),
            pre_vote: false,
            transfer: true,
        },
        Message::VoteResponse {
            epoch: Epoch(4),
            pre_vote: false,
            granted: true,
        },
        Message::TimeoutNow { epoch: Epoch(9) },
    ];
    messages
        .into_iter()
        .enumerate()
        .map(|(i, message)| Envelope {
            from: NodeId(1 + i as u64 % 3),
            to: NodeId(3 - i as u64 % 3),
            message,
        })
        .collect()
}

/// Statement, physical and logical records of a small workload.
pub(crate) fn workload_records() -> (Inputs, Inputs, Inputs) {
    let mut store = Store::new();
    let mut provider = SeededNondeterminism::new(7, 1_700_000_000_000, 1_000);
    let (mut statements, mut wal, mut logical_events) = (Vec::new(), Vec::new(), Vec::new());
    for text in [
        "CREATE TABLE users (id, name, score)",
        "INSERT INTO users (name, score) VALUES ('ann', rand())",
        "INSERT INTO users (id, name, score) VALUES (7, 'it''s', 7 - 3)",
        "UPDATE users SET score = score + rand(), name = NULL WHERE id = 1",
        "ALTER TABLE users ADD COLUMN seen",
        "UPDATE users SET seen = now() WHERE id = 7",
        "DELETE FROM users WHERE id = 7",
    ] {
        let execution = store.execute(text, &mut provider).expect("workload runs");
        statements.push(statement::encode(
            &statement::StatementRecord::from_execution(&execution),
        ));
        wal.push(physical::encode(&physical::WalRecord::from_execution(
            &store, &execution,
        )));
        for event in logical::events_for(&execution) {
            logical_events.push(logical::encode(&event));
            if let Ok(v1) = logical::encode_v1(&event) {
                logical_events.push(v1);
            }
        }
    }
    (statements, wal, logical_events)
}

pub(crate) fn change_rows() -> Vec<Vec<u8>> {
    let row = RowImage(vec![
        ("id".into(), Value::Int(1)),
        ("name".into(), Value::Text("ann".into())),
        ("score".into(), Value::Null),
    ]);
    [ChangeOp::Insert, ChangeOp::Update, ChangeOp::Delete]
        .into_iter()
        .enumerate()
        .map(|(i, op)| {
            trigger::encode(&trigger::ChangeRow {
                seq: i as u64 + 1,
                txid: 10 + i as u64,
                table: "users".into(),
                op,
                key: 1,
                row: if op == ChangeOp::Delete {
                    RowImage::default()
                } else {
                    row.clone()
                },
            })
        })
        .collect()
}

/// Cluster programs: elections, writes, failover, asynchronous storage,
/// leadership transfer, the epoch limit and hostile messages.
pub(crate) fn programs() -> Vec<(&'static str, Program, bool)> {
    let elect = |p: Program| p.timeout(0).settle(32).settle(32);
    let write = |p: Program, node: u8, what: &[u8]| p.propose(node, what).settle(32).settle(32);
    vec![
        (
            "elect-and-commit",
            write(elect(Program::new()), 0, b"x=1"),
            true,
        ),
        (
            "learner-all-durability",
            write(
                elect(Program::new().with_learner().durability_all()),
                0,
                b"y=2",
            ),
            true,
        ),
        (
            "failover-after-crash",
            {
                let p = write(elect(Program::new()), 0, b"a");
                let p = p.crash(0).timeout(1).settle(32).settle(32);
                write(p, 1, b"b").restart(0).settle(32).settle(32)
            },
            true,
        ),
        (
            "async-storage-flushes",
            {
                let p = Program::new()
                    .async_storage()
                    .timeout(0)
                    .settle(32)
                    .settle(32);
                p.propose(0, b"slow")
                    .deliver(0)
                    .deliver(0)
                    .flush(1, 4)
                    .flush(2, 4)
                    .settle(32)
                    .flush(0, 4)
                    .settle(32)
                    .settle(32)
            },
            true,
        ),
        (
            "lossy-network",
            {
                let p = elect(Program::new()).propose(0, b"d");
                p.duplicate(0)
                    .drop_message(1)
                    .replay(0)
                    .advance(60)
                    .timeout(0)
                    .settle(32)
                    .settle(32)
            },
            true,
        ),
        (
            "leadership-transfer",
            write(elect(Program::new()), 0, b"t")
                .transfer(2)
                .settle(32)
                .settle(32)
                .propose(2, b"after")
                .settle(32),
            true,
        ),
        (
            "epoch-limit",
            elect(Program::new().without_pre_vote().near_epoch_limit(1))
                .timeout(1)
                .settle(32)
                .timeout(2)
                .settle(32)
                .transfer(1)
                .settle(32),
            false,
        ),
        (
            "snapshot-catch-up",
            {
                // n3 is down while n1 writes and snapshots (compacting its
                // log); on restart n3 is too far behind for the log and is
                // sent the snapshot in chunks.
                let p = write(elect(Program::new()), 0, b"one").crash(2);
                let p = write(write(write(p, 0, b"two"), 0, b"three"), 0, b"four");
                let p = write(p, 0, b"five").snapshot(0).snapshot(1);
                p.restart(2)
                    .advance(60)
                    .timeout(0)
                    .settle(32)
                    .settle(32)
                    .settle(32)
            },
            true,
        ),
        (
            "membership-changes",
            {
                // The spare n4 joins as a learner (by snapshot), is promoted,
                // and n1, the leader, removes itself.
                let p = write(write(elect(Program::new().with_spare()), 0, b"a"), 0, b"b");
                let p = p
                    .snapshot(0)
                    .reconfigure(MembershipChange::AddLearner(NodeId(4)));
                let p = p.settle(32).settle(32).settle(32);
                let p = p.reconfigure(MembershipChange::PromoteLearner(NodeId(4)));
                let p = p.settle(32).settle(32);
                let p = write(p, 0, b"c").reconfigure(MembershipChange::Remove(NodeId(1)));
                let p = p.settle(32).settle(32).advance(500).timeout(1).settle(32);
                write(p.settle(32), 1, b"d")
            },
            true,
        ),
        (
            "hostile-messages",
            {
                let p = elect(Program::new());
                // An outsider (n9) sends a vote request with a huge epoch.
                let p = p.hostile(
                    0,
                    &[1, 9, 0, 0, 0, 0, 0, 0, 0, 200],
                    &[2, 255, 255, 255, 255, 255, 255, 255, 9, 1, 1, 0, 1],
                );
                // A malformed append in n1's name to n2.
                let p = p.hostile(1, &[1, 0, 2], &[3, 0, 0, 0, 0, 0, 0, 0, 1, 1, 5, 0, 0]);
                // A stale heartbeat in n3's name to n1.
                let p = p.hostile(2, &[0, 1, 0, 0, 0, 0, 0, 0, 0, 0], &[0, 0, 0, 0]);
                write(p, 0, b"z")
            },
            true,
        ),
    ]
}

/// Each seed program does what its name says: commits a write, installs a
/// snapshot, commits membership changes, injects hostile messages.
pub(crate) fn assert_meaningful(name: &str, must_commit: bool, outcome: &Outcome) {
    if must_commit {
        assert!(
            outcome.acked >= 1,
            "seed {name} acknowledges no write: {outcome:?}"
        );
    }
    if name.starts_with("snapshot") {
        assert!(
            outcome.installs >= 1,
            "seed {name} installs no snapshot: {outcome:?}"
        );
    }
    if name.starts_with("membership") {
        assert!(
            outcome.reconfigured >= 3,
            "seed {name} commits too few membership changes: {outcome:?}"
        );
    }
    if name.starts_with("hostile") {
        assert!(
            outcome.hostile >= 1,
            "seed {name} injects nothing: {outcome:?}"
        );
    }
}

/// Snapshot-transfer programs (byte layouts in `steadfast_sim::fuzzing::snapshot`),
/// each with the installs it must reach at least.
pub(crate) fn snapshot_programs() -> Vec<(&'static str, Vec<u8>, usize)> {
    // Old epoch 2, eight entries (three of epoch 1), node 1's snapshot at
    // lsn 6 (100 bytes, seed 7), node 2 holds two entries (one committed),
    // chunks of at most 16 bytes.
    let setup = [1, 7, 5, 2, 1, 3, 15, 100, 0, 7];
    // The same with 5-byte snapshots sent a byte at a time, and with empty ones.
    let bytewise = [0, 3, 3, 1, 0, 0, 0, 5, 0, 1];
    let empty = [2, 4, 4, 0, 0, 0, 7, 0, 0, 0];
    let program = |setup: &[u8], steps: &[u8]| [setup, steps].concat();
    let settle = [snap::OP_SETTLE, 15];
    // Probes, then the first chunk, one message at a time.
    let exchange = [snap::OP_DELIVER, 0, snap::OP_REPLY, 0];
    let first_chunk = [&exchange[..], &exchange, &[snap::OP_ANSWER, 0], &exchange].concat();
    // A malformed chunk in node 1's name (`done` on the first chunk).
    let mut malformed = vec![snap::OP_ARBITRARY];
    malformed.extend([0; 40]);
    malformed.extend([1, 5]);
    vec![
        ("settle", program(&setup, &settle), 1),
        ("bytewise", program(&bytewise, &settle), 1),
        ("empty-snapshot", program(&empty, &settle), 1),
        (
            "restart-mid-transfer",
            program(
                &setup,
                &[&first_chunk[..], &[snap::OP_RESTART], &settle].concat(),
            ),
            1,
        ),
        (
            // Node 3, leader of the next epoch, resumes where node 2 is.
            "new-leader-resumes",
            program(
                &setup,
                &[&first_chunk[..], &[snap::OP_SCRIPTED, 0, 1, 15].repeat(8)].concat(),
            ),
            1,
        ),
        (
            // Node 1 snapshots lsn 8 mid-transfer; its heartbeats restart
            // the transfer with it.
            "newer-snapshot-mid-transfer",
            program(
                &setup,
                &[
                    &first_chunk[..],
                    &[snap::OP_TAKE, 60, 0, 3, snap::OP_TICK, snap::OP_TICK],
                    &settle,
                ]
                .concat(),
            ),
            1,
        ),
        (
            // A corrupted byte from node 1's host, a wrong-length answer,
            // a malformed chunk and a forged answer; then honesty.
            "hostile",
            program(
                &setup,
                &[
                    &first_chunk[..],
                    &[snap::OP_FORGED_ANSWER, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0],
                    &[snap::OP_FORGED_ANSWER, 4, 3, 5, 0, 0, 0, 0, 0, 0, 0],
                    &malformed,
                    &[snap::OP_RESPONSE, 0, 40, 0, 0, 0, 0, 0, 0, 0],
                    &settle,
                ]
                .concat(),
            ),
            1,
        ),
        (
            // A snapshot of another history at (e4, 10), sent by node 3.
            "foreign-snapshot",
            program(
                &setup,
                &[
                    &[snap::OP_FOREIGN, 19, 40, 0, 9][..],
                    &[snap::OP_SCRIPTED, 1, 1, 15].repeat(4),
                ]
                .concat(),
            ),
            1,
        ),
    ]
}

/// Seeds for the `restart` target, found by search rather than laid out by
/// hand (the input is read through `arbitrary`): deterministic pseudo-random
/// inputs, keeping the first accepted ones that hold entries and are driven
/// through several inputs, and the first refusal of each kind. Each seed is
/// named for what it reached.
pub(crate) fn restart_seeds() -> Seeds {
    let mut state = 0x5EED_u64;
    let mut next = move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) as u8
    };
    let mut seeds = Seeds::new();
    let mut refusals = std::collections::BTreeSet::new();
    let mut accepted = 0;
    for _ in 0..20_000 {
        let len = 24 + usize::from(next()) % 160;
        // Shaped states mostly (the top bit of the first byte asks for raw).
        let mut bytes: Vec<u8> = (0..len).map(|_| next()).collect();
        bytes[0] &= 0x7f;
        let outcome = run_restart(&bytes);
        if let Some(refusal) = &outcome.refusal {
            let kind = format!("{refusal:?}");
            let kind = kind.split([' ', '(', '{']).next().unwrap_or("").to_owned();
            if refusals.insert(kind.clone()) {
                seeds.push((format!("refused-{kind}"), bytes));
            }
        } else if outcome.accepted && outcome.entries >= 2 && outcome.inputs >= 3 && accepted < 8 {
            seeds.push((format!("accepted-{accepted:02}"), bytes));
            accepted += 1;
        }
    }
    assert!(accepted >= 4, "too few accepted restart seeds: {accepted}");
    assert!(
        refusals.len() >= 8,
        "too few kinds of refusal reached: {refusals:?}"
    );
    seeds
}
