//! The `snapshot` target's own tests: crafted programs reach installs, and
//! the checks notice wrong core behaviour.

use super::follower::malformed;
use super::*;
use std::panic::{catch_unwind, AssertUnwindSafe};
use steadfast::replica::Output;
use steadfast::snapshot::SnapshotMeta;
use steadfast::wire::Message;

/// Old epoch 2, eight entries (three of epoch 1), node 1's snapshot at
/// lsn 6 (100 bytes), node 2 holds two entries and committed one,
/// 16-byte chunks.
const SETUP: [u8; 10] = [1, 7, 5, 2, 1, 3, 15, 100, 0, 7];

fn program(steps: &[u8]) -> Vec<u8> {
    [&SETUP[..], steps].concat()
}

fn setup() -> Sim {
    Sim::new(&Setup::read(&mut Unstructured::new(&SETUP)).unwrap())
}

fn panics(f: impl FnOnce()) -> String {
    let payload = catch_unwind(AssertUnwindSafe(f)).expect_err("the check must fail");
    payload
        .downcast_ref::<String>()
        .cloned()
        .unwrap_or_default()
}

#[test]
fn an_honest_transfer_from_the_real_leader_installs() {
    let outcome = run_snapshot(&program(&[OP_SETTLE, 15]));
    assert_eq!(outcome.installs, 1, "{outcome:?}");
    // 100 bytes in 16-byte chunks, each staged and sent once.
    assert_eq!(outcome.chunks, 7, "{outcome:?}");
    assert_eq!(outcome.answers, (7, 0), "{outcome:?}");
}

#[test]
fn restarts_corruption_and_foreign_chunks_still_end_installed() {
    let exchange = [OP_DELIVER, 0, OP_REPLY, 0];
    // The probes and the first chunk, which node 2 then forgets in a restart.
    let first_chunk = [
        &exchange[..],
        &exchange,
        &[OP_ANSWER, 0],
        &exchange,
        &[OP_RESTART],
    ];
    // Node 1's host corrupts a byte; node 3, leader of the next epoch,
    // resends 41 bytes; a chunk in node 1's name sets `done` on 5 bytes.
    let corrupt = [OP_FORGED_ANSWER, 4, 3, 5, 0, 0, 0, 0, 0, 0, 0];
    let resend = [OP_SCRIPTED, 0, 1, 40];
    let malformed = [&[OP_ARBITRARY][..], &[0; 40], &[1, 5]].concat();
    let steps = [
        &first_chunk.concat()[..],
        &corrupt,
        &resend,
        &malformed,
        &[OP_SETTLE, 15],
    ];
    let outcome = run_snapshot(&program(&steps.concat()));
    assert!(outcome.installs >= 1, "{outcome:?}");
    assert!(outcome.refused >= 1, "{outcome:?}");
    // One chunk before the restart, node 3's 41 bytes, then node 1 (elected
    // again after node 3's epoch deposed it) resumes at 41: four more.
    assert!(outcome.chunks >= 6, "{outcome:?}");
}

#[test]
fn a_core_that_never_installs_an_honest_transfer_is_noticed() {
    let mut sim = setup();
    let before = sim.touch();
    let truth = sim.taken[0].clone();
    let chunk = Message::InstallSnapshot {
        epoch: before.epoch(),
        snapshot: Box::new(truth.meta.clone()),
        offset: 0,
        data: truth.bytes.clone(),
        done: true,
    };
    let message = panics(|| sim.track_honest(&before, &chunk, 0, false));
    assert!(message.contains("property 4"), "{message}");
    // The same chunk installed is fine.
    let mut sim = setup();
    sim.track_honest(&before, &chunk, 0, true);
    assert_eq!(sim.clean, None);
}

#[test]
fn a_host_told_to_install_bytes_that_do_not_match_is_noticed() {
    let mut sim = setup();
    let mut meta = sim.taken[0].meta.clone();
    sim.perform(Output::ReceiveSnapshotChunk {
        snapshot: meta.position,
        offset: 0,
        data: sim.taken[0].bytes.clone(),
    });
    meta.checksum ^= 1;
    let message = panics(|| {
        sim.perform(Output::InstallSnapshot {
            snapshot: Box::new(meta),
            replaced: Vec::new(),
        });
    });
    assert!(message.contains("property 2"), "{message}");
}

#[test]
fn a_wrong_answer_to_a_chunk_is_noticed() {
    let mut sim = setup();
    let before = sim.touch();
    let meta = sim.taken[0].meta.clone();
    let data = sim.taken[0].bytes[..16].to_vec();
    // A core that staged the first chunk but reported no progress.
    let outputs = [
        Output::ReceiveSnapshotChunk {
            snapshot: meta.position,
            offset: 0,
            data: data.clone(),
        },
        Output::Send {
            to: LEADER,
            message: Message::InstallSnapshotResponse {
                epoch: before.epoch(),
                snapshot: meta.position,
                next_offset: 0,
            },
        },
    ];
    let epoch = before.epoch();
    let message = panics(|| {
        sim.check_answer(&before, LEADER, epoch, &meta, 0, &data, false, &outputs);
    });
    assert!(message.contains("property 3"), "{message}");
}

#[test]
fn the_chunk_rules_restated() {
    let meta = SnapshotMeta {
        size: 10,
        membership: steadfast::Membership::new([NodeId(1), NodeId(2)], [NodeId(3)]),
        ..SnapshotMeta::default()
    };
    let e = Epoch(1);
    assert!(!malformed(e, &meta, 0, &[0; 4], false));
    assert!(!malformed(e, &meta, 6, &[0; 4], true));
    assert!(!malformed(e, &meta, 10, &[], true));
    assert!(malformed(e, &meta, 6, &[0; 4], false), "done missing");
    assert!(malformed(e, &meta, 0, &[0; 4], true), "done too early");
    assert!(malformed(e, &meta, 8, &[0; 4], true), "past the size");
    assert!(malformed(e, &meta, 4, &[], false), "empty before the end");
    assert!(malformed(e, &meta, u64::MAX, &[0], true), "past u64::MAX");
    let later = SnapshotMeta {
        position: Position::new(Epoch(2), Lsn(3)),
        ..meta.clone()
    };
    assert!(malformed(e, &later, 0, &[0; 10], true), "a later epoch");
    assert!(!malformed(Epoch(2), &later, 0, &[0; 10], true));
    let no_voters = SnapshotMeta {
        membership: steadfast::Membership::new([], [NodeId(3)]),
        ..meta.clone()
    };
    assert!(malformed(e, &no_voters, 0, &[0; 10], true), "no voters");
    let both = SnapshotMeta {
        membership: steadfast::Membership::new([NodeId(1), NodeId(3)], [NodeId(3)]),
        ..meta.clone()
    };
    assert!(malformed(e, &both, 0, &[0; 10], true), "voter and learner");
}
