//! Replays every committed fuzz input on stable `cargo test`: each file
//! under `fuzz/corpus/<target>/` and `fuzz/regressions/<target>/` goes
//! through the same `steadfast::fuzzing` check the cargo-fuzz target runs.
//!
//! The seed corpus is written by the ignored test below:
//!
//! ```sh
//! cargo test -p steadfast-tests --test fuzz_corpus -- --ignored write_seed_corpus
//! ```

use std::collections::BTreeMap;
use std::fs;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use steadfast::formats::frame::{Frame, RecordKind};
use steadfast::formats::store::{ChangeOp, RowImage, SeededNondeterminism, Store, Value};
use steadfast::formats::{logical, physical, statement, trigger};
use steadfast::fuzzing::cluster::{run_cluster, Outcome, Program};
use steadfast::fuzzing::snapshot::{self as snap, run_snapshot};
use steadfast::fuzzing::{check_for, TARGETS};
use steadfast::membership::MembershipChange;
use steadfast::wire::{self, AppendResult, Envelope, Message};
use steadfast::{Entry, EntryKind, Epoch, Lsn, NodeId, Position};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
}

/// The files in `fuzz/<kind>/<target>/`, sorted.
fn inputs(kind: &str, target: &str) -> Vec<PathBuf> {
    let dir = fuzz_dir().join(kind).join(target);
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.is_file())
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

#[test]
fn every_corpus_and_regression_input_passes_its_check() {
    let mut failures = Vec::new();
    let mut counts = BTreeMap::new();
    for (target, check) in TARGETS {
        for kind in ["corpus", "regressions"] {
            for path in inputs(kind, target) {
                let bytes = fs::read(&path).expect("readable fuzz input");
                if catch_unwind(AssertUnwindSafe(|| check(&bytes))).is_err() {
                    failures.push(path.display().to_string());
                }
                *counts.entry(*target).or_insert(0) += 1;
            }
        }
    }
    assert!(
        failures.is_empty(),
        "fuzz inputs failing their check: {failures:#?}"
    );
    for (target, _) in TARGETS {
        assert!(
            counts.get(target).copied().unwrap_or(0) >= 3,
            "target {target} has (almost) no committed seed corpus: {counts:?}"
        );
    }
}

#[test]
fn every_fuzz_target_runs_a_registered_check() {
    let dir = fuzz_dir().join("fuzz_targets");
    let mut names: Vec<String> = fs::read_dir(&dir)
        .expect("fuzz/fuzz_targets exists")
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            name.strip_suffix(".rs").map(str::to_owned)
        })
        .collect();
    names.sort();
    let mut registered: Vec<String> = TARGETS.iter().map(|(n, _)| (*n).to_owned()).collect();
    registered.sort();
    assert_eq!(names, registered);
    for name in &names {
        let source = fs::read_to_string(dir.join(format!("{name}.rs"))).unwrap();
        assert!(
            source.contains(&format!("steadfast::fuzzing::check_{name}(data)")),
            "fuzz target {name} must call check_{name}"
        );
        assert!(check_for(name).is_some());
    }
}

/// The regression input of the first bug the `cluster` target found: at the
/// last epoch a replica voted twice in one epoch. Kept as a named test so
/// the scenario stays readable next to its bytes.
#[test]
fn regression_double_vote_at_the_exhausted_epoch() {
    let bytes = fs::read(fuzz_dir().join("regressions/cluster/double-vote-at-exhausted-epoch"))
        .expect("regression input present");
    let outcome = run_cluster(&bytes);
    assert!(outcome.events >= 3, "{outcome:?}");
    // The same scenario, written as a program: n2 campaigns in the last
    // epoch and wins n1's vote, then n1's own timer fires.
    let program = Program::new()
        .without_pre_vote()
        .without_check_quorum()
        .near_epoch_limit(0)
        .timeout(1)
        .deliver(0)
        .timeout(0)
        .settle(32);
    run_cluster(&program.bytes());
}

// ----- the seed corpus ------------------------------------------------------

/// Encoded inputs, one per file.
type Inputs = Vec<Vec<u8>>;
/// Named inputs of one target.
type Seeds = Vec<(String, Vec<u8>)>;

fn envelopes() -> Vec<Envelope> {
    let entries = vec![
        Entry {
            epoch: Epoch(2),
            lsn: Lsn(4),
            kind: EntryKind::Noop,
        },
        Entry {
            epoch: Epoch(2),
            lsn: Lsn(5),
            kind: EntryKind::Command(b"x = 1".to_vec()),
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
fn workload_records() -> (Inputs, Inputs, Inputs) {
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

fn change_rows() -> Vec<Vec<u8>> {
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
fn programs() -> Vec<(&'static str, Program, bool)> {
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
fn assert_meaningful(name: &str, must_commit: bool, outcome: &Outcome) {
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

#[test]
fn seed_programs_reach_what_they_are_named_for() {
    for (name, program, must_commit) in programs() {
        assert_meaningful(name, must_commit, &run_cluster(&program.bytes()));
    }
}

/// Snapshot-transfer programs (byte layouts in `steadfast::fuzzing::snapshot`),
/// each with the installs it must reach at least.
fn snapshot_programs() -> Vec<(&'static str, Vec<u8>, usize)> {
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

/// Writes the seed corpus under `fuzz/corpus/<target>/`, replacing the
/// files it wrote before. Run by hand after changing an encoder or the
/// cluster program format, then commit the result.
#[test]
#[ignore = "writes fuzz/corpus; run by hand"]
fn write_seed_corpus() {
    let (statements, wal, logical_events) = workload_records();
    let triggers = change_rows();
    let envelopes: Vec<Vec<u8>> = envelopes()
        .iter()
        .map(|e| wire::encode(e).unwrap())
        .collect();
    let mut frames = vec![
        Frame::new(RecordKind::Statement, 1, Vec::new()).encode(),
        Frame::new(RecordKind::Logical, 2, b"body".to_vec()).encode(),
    ];
    frames.extend(statements.iter().take(2).cloned());
    frames.extend(triggers.iter().take(1).cloned());
    frames.extend(logical_events.iter().take(2).cloned());
    let mut segments = Vec::new();
    let stream: Vec<u8> = triggers.concat();
    segments.push(stream.clone());
    segments.push(stream[..stream.len() - 3].to_vec());
    let mut corrupt = stream.clone();
    corrupt[triggers[0].len() + 20] ^= 0x10;
    segments.push(corrupt);
    segments.push(
        [
            statements[0].clone(),
            logical_events[0].clone(),
            wal[0].clone(),
        ]
        .concat(),
    );

    let mut cluster = Vec::new();
    for (name, program, must_commit) in programs() {
        let bytes = program.bytes();
        assert_meaningful(name, must_commit, &run_cluster(&bytes));
        cluster.push((name.to_owned(), bytes));
    }

    let mut snapshot = Vec::new();
    for (name, bytes, installs) in snapshot_programs() {
        let outcome = run_snapshot(&bytes);
        assert!(
            outcome.installs >= installs,
            "seed {name} installs too little: {outcome:?}"
        );
        if name == "hostile" {
            assert!(
                outcome.refused >= 1 && outcome.answers.1 >= 1,
                "seed {name} injects nothing: {outcome:?}"
            );
        }
        snapshot.push((name.to_owned(), bytes));
    }

    let named = |prefix: &str, items: Inputs| -> Seeds {
        items
            .into_iter()
            .enumerate()
            .map(|(i, b)| (format!("{prefix}-{i:02}"), b))
            .collect()
    };
    let corpus: Vec<(&str, Seeds)> = vec![
        ("wire", named("envelope", envelopes)),
        ("frame", named("frame", frames)),
        ("segment", named("segment", segments)),
        ("statement", named("statement", statements)),
        ("physical", named("wal", wal.into_iter().take(4).collect())),
        ("logical", named("event", logical_events)),
        ("trigger", named("change-row", triggers)),
        ("cluster", cluster),
        ("snapshot", snapshot),
    ];
    for (target, files) in corpus {
        let dir = fuzz_dir().join("corpus").join(target);
        fs::create_dir_all(&dir).unwrap();
        for old in inputs("corpus", target) {
            fs::remove_file(old).unwrap();
        }
        let check = check_for(target).unwrap();
        for (name, bytes) in files {
            check(&bytes);
            fs::write(dir.join(format!("seed-{name}")), bytes).unwrap();
        }
    }
}
