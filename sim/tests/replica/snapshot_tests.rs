//! Learners, snapshots and log compaction, driven through the harness and
//! directly.

use crate::tests::{commit_all, elect, no_violations, SECOND};
use std::time::Duration;
use steadfast::entry::Entry;
use steadfast::membership::{Membership, MembershipChange};
use steadfast::replica::{
    Durable, FollowerStatus, InputError, Output, Replica, ReplicationState, Role,
};
use steadfast::snapshot::SnapshotMeta;
use steadfast::types::{Epoch, Instant, Lsn, NodeId, Position};
use steadfast::wire::Message;
use steadfast::Config;
use steadfast_sim::harness::{Cluster, ClusterSpec, Faults};

const NEW: NodeId = NodeId(4);

/// Three voters whose configs compact aggressively and send small chunks,
/// plus the config a fourth node joins with (a learner).
fn spec_with_small_snapshots(seed: u64, faults: Faults) -> (Vec<Config>, Config) {
    let mut spec = ClusterSpec::new(3);
    spec.seed = seed;
    spec.faults = faults;
    let tune = |c: Config| {
        c.with_snapshot_retain_entries(2)
            .with_max_snapshot_chunk_bytes(16)
    };
    let voters = (1..=3).map(|i| tune(spec.config(NodeId(i)))).collect();
    let mut joiner = tune(spec.config(NEW));
    joiner.learners.insert(NEW);
    (voters, joiner)
}

fn status_of(cluster: &Cluster, node: NodeId) -> Option<FollowerStatus> {
    let leader = cluster.replica(cluster.leader()?)?;
    leader.follower_status().get(&node).copied()
}

fn same_state_everywhere(cluster: &Cluster) {
    let states: Vec<_> = cluster
        .ids()
        .iter()
        .map(|&id| (id, cluster.host(id).unwrap().storage.applied().to_vec()))
        .collect();
    for w in states.windows(2) {
        assert_eq!(
            w[0].1,
            w[1].1,
            "{} and {} differ:\n{}",
            w[0].0,
            w[1].0,
            cluster.trace()
        );
    }
}

#[test]
fn a_learner_joins_during_writes_and_ends_with_the_same_committed_state() {
    let (voters, joiner) = spec_with_small_snapshots(3, Faults::none());
    let mut cluster = Cluster::from_configs(voters, Faults::none(), 3);
    elect(&mut cluster);
    for i in 0..5u8 {
        cluster.propose_to_leader(&[i]).unwrap();
    }
    commit_all(&mut cluster);
    cluster.add_node(joiner);
    cluster
        .propose_membership_to_leader(MembershipChange::AddLearner(NEW))
        .unwrap();
    for i in 5..25u8 {
        cluster.propose_to_leader(&[i]).unwrap();
        cluster.run_for(Duration::from_millis(3));
    }
    commit_all(&mut cluster);
    same_state_everywhere(&cluster);
    let learner = cluster.replica(NEW).unwrap();
    assert_eq!(learner.role(), Role::Learner);
    assert!(learner.membership().learners.contains(&NEW));
    let status = status_of(&cluster, NEW).unwrap();
    assert!(!status.voter);
    assert_eq!(status.lag, 0);
    assert_eq!(status.state, ReplicationState::Replicate);
    no_violations(&cluster);
}

/// A learner never campaigns; asked for a (pre-)vote it answers on the
/// vote and log rules alone, like any member (it may have missed its own
/// promotion), and granting a vote leaves it a learner.
#[test]
fn a_learner_never_campaigns_but_answers_vote_requests() {
    let ids = [NodeId(1), NodeId(2), NodeId(3)];
    let config = Config::new(NEW, ids).with_learners([NEW]);
    let mut learner = Replica::new(config, Instant(0)).unwrap();
    assert_eq!(learner.role(), Role::Learner);
    assert_eq!(learner.poll_timeout(), None, "no election timer");
    learner.handle_timeout(Instant(10_000));
    assert_eq!(learner.poll_output(), None, "a timeout does nothing");
    for pre_vote in [true, false] {
        let request = Message::RequestVote {
            epoch: Epoch(5),
            last: Position::new(Epoch(4), Lsn(9)),
            pre_vote,
            transfer: false,
        };
        learner
            .handle_message(Instant(10_001), NodeId(1), request)
            .unwrap();
        let granted: Vec<bool> = std::iter::from_fn(|| learner.poll_output())
            .filter_map(|o| {
                if let Output::Send {
                    message: Message::VoteResponse { granted, .. },
                    ..
                } = o
                {
                    Some(granted)
                } else {
                    None
                }
            })
            .collect();
        assert_eq!(granted, [true], "pre-vote {pre_vote}");
        let vote = (!pre_vote).then_some(NodeId(1));
        assert_eq!(learner.hard_state().voted_for, vote);
        assert_eq!(learner.role(), Role::Learner);
    }

    // In a cluster: with every voter down, the learner stays a learner.
    let mut spec = ClusterSpec::new(3);
    spec.learners = 1;
    let mut cluster = Cluster::new(&spec);
    elect(&mut cluster);
    cluster.propose_to_leader(b"x").unwrap();
    commit_all(&mut cluster);
    for id in 1..=3 {
        cluster.crash(NodeId(id));
    }
    cluster.run_for(3 * SECOND);
    assert_eq!(cluster.replica(NEW).unwrap().role(), Role::Learner);
    assert_eq!(cluster.replica(NEW).unwrap().epoch(), Epoch(1));
    no_violations(&cluster);
}

/// Write enough that a snapshot lets the leader compact, then add a node.
fn compacted_cluster_with_a_joiner(seed: u64, faults: Faults) -> Cluster {
    let (voters, joiner) = spec_with_small_snapshots(seed, Faults::none());
    let mut cluster = Cluster::from_configs(voters, Faults::none(), seed);
    let leader = elect(&mut cluster);
    for i in 0..30u8 {
        cluster.propose(leader, &[i; 5]).unwrap();
    }
    commit_all(&mut cluster);
    for id in cluster.ids() {
        assert!(cluster.take_snapshot(id).is_some(), "{id} snapshots");
    }
    let start = cluster.replica(leader).unwrap().log_start();
    assert!(start.lsn > Lsn(20), "the leader compacted: {start}");
    assert!(
        cluster.host(leader).unwrap().storage.log().len() <= 3,
        "the host deleted the compacted entries"
    );
    cluster.set_faults(faults);
    cluster.add_node(joiner);
    cluster
        .propose_membership_to_leader(MembershipChange::AddLearner(NEW))
        .unwrap();
    cluster
}

#[test]
fn a_learner_catches_up_from_a_snapshot_after_the_leader_compacted() {
    let mut cluster = compacted_cluster_with_a_joiner(5, Faults::none());
    let in_snapshot = cluster.run_until(SECOND, |c| {
        status_of(c, NEW).is_some_and(|s| s.state == ReplicationState::Snapshot)
    });
    assert!(
        in_snapshot,
        "the leader sends a snapshot:\n{}",
        cluster.trace()
    );
    let transfer = status_of(&cluster, NEW).unwrap().snapshot.unwrap();
    assert!(transfer.size > 16, "several chunks");
    cluster.propose_to_leader(b"after").unwrap();
    commit_all(&mut cluster);
    let installed = cluster
        .host(NEW)
        .unwrap()
        .storage
        .snapshot()
        .map(|s| s.meta.clone());
    let installed = installed.expect("installed");
    assert_eq!(installed.position.lsn, transfer.position.lsn);
    assert_eq!(
        cluster.replica(NEW).unwrap().log_start(),
        installed.position
    );
    same_state_everywhere(&cluster);
    cluster.run_for(Duration::from_millis(200));
    assert_eq!(
        status_of(&cluster, NEW).unwrap().state,
        ReplicationState::Replicate,
        "{}",
        cluster.trace()
    );
    no_violations(&cluster);

    // It restarts from its snapshot and what followed.
    cluster.crash(NEW);
    cluster.restart(NEW);
    let restarted = cluster.replica(NEW).unwrap();
    assert_eq!(restarted.log_start(), installed.position);
    assert_eq!(restarted.applied(), installed.position.lsn);
    assert!(restarted.membership().learners.contains(&NEW));
    commit_all(&mut cluster);
    same_state_everywhere(&cluster);
    no_violations(&cluster);
}

#[test]
fn chunk_loss_and_a_leader_change_during_a_transfer_still_install_the_right_snapshot() {
    for seed in 1..=6 {
        let lossy = Faults {
            drop_per_mille: 200,
            duplicate_per_mille: 100,
            ..Faults::hostile()
        };
        let mut cluster = compacted_cluster_with_a_joiner(seed, lossy);
        let old = cluster.leader().unwrap();
        let midway = cluster.run_until(SECOND, |c| {
            status_of(c, NEW)
                .and_then(|s| s.snapshot)
                .is_some_and(|t| t.offset > 0 && t.offset < t.size)
        });
        assert!(
            midway,
            "seed {seed}: transfer under way:\n{}",
            cluster.trace()
        );
        cluster.crash(old);
        cluster.run_until(5 * SECOND, |c| c.leader().is_some_and(|l| l != old));
        cluster.restart(old);
        cluster.set_faults(Faults::none());
        let _ = cluster.propose_to_leader(b"after the change");
        commit_all(&mut cluster);
        let installed = cluster
            .host(NEW)
            .unwrap()
            .storage
            .snapshot()
            .map(|s| s.meta.clone());
        assert!(installed.is_some(), "seed {seed}:\n{}", cluster.trace());
        same_state_everywhere(&cluster);
        no_violations(&cluster);
    }
}

fn follower_in_epoch(epoch: Epoch) -> Replica {
    let ids = [NodeId(1), NodeId(2), NodeId(3)];
    let durable = Durable {
        hard_state: steadfast::entry::HardState {
            epoch,
            voted_for: None,
        },
        ..Durable::default()
    };
    Replica::restart(Config::new(NodeId(2), ids), durable, Instant(0)).unwrap()
}

fn chunk(epoch: Epoch, bytes: &[u8], checksum: u32) -> Message {
    Message::InstallSnapshot {
        epoch,
        snapshot: Box::new(SnapshotMeta {
            position: Position::new(Epoch(1), Lsn(7)),
            membership: Membership::new([NodeId(1), NodeId(2), NodeId(3)], []),
            size: bytes.len() as u64,
            checksum,
        }),
        offset: 0,
        data: bytes.to_vec(),
        done: true,
    }
}

#[test]
fn a_chunk_from_an_old_epoch_is_rejected() {
    let mut follower = follower_in_epoch(Epoch(3));
    let before = follower.clone();
    let stale = chunk(Epoch(2), b"state", crc32c::crc32c(b"state"));
    follower
        .handle_message(Instant(1), NodeId(1), stale)
        .unwrap();
    let outputs: Vec<Output> = std::iter::from_fn(|| follower.poll_output()).collect();
    assert_eq!(
        outputs,
        [Output::Send {
            to: NodeId(1),
            message: Message::InstallSnapshotResponse {
                epoch: Epoch(3),
                snapshot: Position::new(Epoch(1), Lsn(7)),
                next_offset: 0,
            }
        }],
        "fenced: only the current epoch goes back"
    );
    assert_eq!(follower.last(), before.last());
    assert_eq!(follower.snapshot(), None);
}

#[test]
fn a_snapshot_of_an_epoch_later_than_its_leader_is_malformed() {
    // A leader of epoch 2 holds no entry of epoch 5, so neither can its
    // snapshot: installing one would leave a log newer than the hard state
    // (found by the `snapshot` fuzz target through the invariant
    // log-epoch-within-hard-state).
    let mut follower = follower_in_epoch(Epoch(2));
    let before = follower.clone();
    let forged = steadfast_sim::builders::one_chunk_snapshot(
        Epoch(2),
        Position::new(Epoch(5), Lsn(7)),
        b"state",
    );
    let refused = follower.handle_message(Instant(0), NodeId(1), forged);
    assert!(
        matches!(refused, Err(InputError::MalformedSnapshot(_))),
        "{refused:?}"
    );
    assert_eq!(follower, before, "a refused message changes nothing");
}

#[test]
fn a_snapshot_is_installed_only_with_its_checksum() {
    let mut follower = follower_in_epoch(Epoch(3));
    let corrupt = chunk(Epoch(3), b"state", 1234);
    follower
        .handle_message(Instant(1), NodeId(1), corrupt)
        .unwrap();
    let outputs: Vec<Output> = std::iter::from_fn(|| follower.poll_output()).collect();
    assert!(!outputs
        .iter()
        .any(|o| matches!(o, Output::InstallSnapshot { .. })));
    assert!(outputs.iter().any(|o| matches!(
        o,
        Output::Send {
            message: Message::InstallSnapshotResponse { next_offset: 0, .. },
            ..
        }
    )));
    assert_eq!(follower.commit(), Lsn(0));

    let good = chunk(Epoch(3), b"state", crc32c::crc32c(b"state"));
    follower
        .handle_message(Instant(2), NodeId(1), good)
        .unwrap();
    let outputs: Vec<Output> = std::iter::from_fn(|| follower.poll_output()).collect();
    assert!(outputs
        .iter()
        .any(|o| matches!(o, Output::InstallSnapshot { .. })));
    assert_eq!(follower.log_start(), Position::new(Epoch(1), Lsn(7)));
    assert_eq!((follower.commit(), follower.applied()), (Lsn(7), Lsn(7)));

    // A malformed chunk is a typed error and changes nothing.
    follower.handle_persisted(Instant(3), Position::ZERO);
    let before = follower.clone();
    let mut bad = chunk(Epoch(3), b"state", 0);
    if let Message::InstallSnapshot { done, .. } = &mut bad {
        *done = false;
    }
    assert!(follower.handle_message(Instant(3), NodeId(1), bad).is_err());
    assert_eq!(follower, before);
}

/// A follower in `epoch` (following n1) whose log holds one entry per
/// epoch in `epochs`, none of them known committed.
fn follower_with_log(epoch: Epoch, epochs: &[u64]) -> Replica {
    let ids = [NodeId(1), NodeId(2), NodeId(3)];
    let durable = Durable {
        hard_state: steadfast::entry::HardState {
            epoch,
            voted_for: None,
        },
        log: steadfast_sim::builders::log_of_epochs(epochs),
        ..Durable::default()
    };
    Replica::restart(Config::new(NodeId(2), ids), durable, Instant(0)).unwrap()
}

/// Install a one-chunk snapshot at `position` from n1 in `epoch`; the outputs.
fn install_at(follower: &mut Replica, epoch: Epoch, position: Position) -> Vec<Output> {
    let message = steadfast_sim::builders::one_chunk_snapshot(epoch, position, b"state");
    follower
        .handle_message(Instant(1), NodeId(1), message)
        .unwrap();
    std::iter::from_fn(|| follower.poll_output()).collect()
}

/// The positions each `InstallSnapshot` reports replaced.
fn replacements(outputs: &[Output]) -> Vec<Vec<Position>> {
    outputs
        .iter()
        .filter_map(|o| {
            if let Output::InstallSnapshot { replaced, .. } = o {
                Some(replaced.clone())
            } else {
                None
            }
        })
        .collect()
}

fn truncations(outputs: &[Output]) -> Vec<(Lsn, Vec<Position>)> {
    outputs
        .iter()
        .filter_map(|o| {
            if let Output::Truncated { after, discarded } = o {
                Some((*after, discarded.iter().map(Entry::position).collect()))
            } else {
                None
            }
        })
        .collect()
}

/// Found by the `cluster` fuzz target (`fuzz/regressions/cluster/
/// snapshot-replaces-committed-older-epoch-entry`): n3 crashed holding
/// (e1, 1), which n1 and n2 committed; after a failover to e2 and a
/// snapshot at (e2, 4), n3 restarted (commit 0) and installed it, reporting
/// (e1, 1) as truncated although the snapshot holds it. An older epoch's
/// entry below the snapshot may be in its history: reported replaced, not
/// truncated.
#[test]
fn older_epoch_entries_below_the_snapshot_are_replaced_not_reported_lost() {
    let mut follower = follower_with_log(Epoch(2), &[1]);
    let outputs = install_at(&mut follower, Epoch(2), Position::new(Epoch(2), Lsn(4)));
    assert_eq!(truncations(&outputs), []);
    let e1 = |l| Position::new(Epoch(1), Lsn(l));
    assert_eq!(replacements(&outputs), [vec![e1(1)]]);
    assert_eq!(follower.log_start(), Position::new(Epoch(2), Lsn(4)));
    assert_eq!(follower.entries(), []);
}

/// Entries the snapshot's history cannot hold are reported lost: a newer
/// epoch than the snapshot's at or below its lsn, and everything after a
/// position this log does not contain. The rest are reported replaced.
#[test]
fn entries_the_snapshot_cannot_hold_are_reported_truncated() {
    // (e3, 2) at or below (e2, 4): epochs never decrease along a log.
    let mut follower = follower_with_log(Epoch(4), &[1, 3, 3, 3, 3]);
    let outputs = install_at(&mut follower, Epoch(4), Position::new(Epoch(2), Lsn(4)));
    let lost = (2..=5).map(|l| Position::new(Epoch(3), Lsn(l))).collect();
    assert_eq!(truncations(&outputs), [(Lsn(1), lost)]);
    let e1 = |l| Position::new(Epoch(1), Lsn(l));
    assert_eq!(replacements(&outputs), [vec![e1(1)]]);
    // Past the snapshot, in a log without its position.
    let mut follower = follower_with_log(Epoch(4), &[1, 1, 1, 1, 1, 1]);
    let outputs = install_at(&mut follower, Epoch(4), Position::new(Epoch(2), Lsn(4)));
    let lost = (5..=6).map(|l| Position::new(Epoch(1), Lsn(l))).collect();
    assert_eq!(truncations(&outputs), [(Lsn(4), lost)]);
    assert_eq!(
        replacements(&outputs),
        [(1..=4).map(e1).collect::<Vec<_>>()]
    );
    assert_eq!(follower.last(), Position::new(Epoch(2), Lsn(4)));
}

#[test]
fn snapshots_must_be_applied_known_and_newer() {
    let mut cluster = Cluster::new(&ClusterSpec::new(1));
    let leader = elect(&mut cluster);
    cluster.propose(leader, b"a").unwrap();
    commit_all(&mut cluster);
    let replica = cluster.replica(leader).unwrap();
    let mut replica = replica.clone();
    let now = replica.now();
    let last = replica.last();
    let ahead = Position::new(last.epoch, last.lsn.next());
    assert!(replica.snapshot_taken(now, ahead, 1, 0).is_err());
    assert!(replica
        .snapshot_taken(now, Position::new(Epoch(9), last.lsn), 1, 0)
        .is_err());
    assert!(replica.snapshot_taken(now, last, 1, 0).is_ok());
    assert!(
        replica.snapshot_taken(now, last, 1, 0).is_err(),
        "not newer"
    );
    assert!(
        replica
            .handle_snapshot_chunk(now, NodeId(2), last, 0, vec![1])
            .is_err(),
        "nobody asked for that chunk"
    );
}

/// A follower refuses, without effect, what would leave durable state that
/// a restart refuses: a snapshot of an epoch past its sender's, a snapshot
/// or append carrying a malformed membership. (The first was found by the
/// `restart` fuzz target: the installed snapshot made the log newer than
/// the hard state.)
#[test]
fn snapshots_and_appends_a_restart_would_refuse_are_refused() {
    let mut follower = follower_in_epoch(Epoch(3));
    let before = follower.clone();
    let malformed = |message: &Message| {
        let mut follower = follower.clone();
        let result = follower.handle_message(Instant(1), NodeId(1), message.clone());
        assert!(
            matches!(
                result,
                Err(steadfast::InputError::MalformedSnapshot(_)
                    | steadfast::InputError::MalformedAppend(_))
            ),
            "{message:?} gave {result:?}"
        );
        assert_eq!(
            follower.snapshot(),
            before.snapshot(),
            "no snapshot installed"
        );
        assert_eq!(follower.entries(), before.entries(), "nothing appended");
        assert_eq!(follower.membership(), before.membership());
    };
    let mut future = chunk(Epoch(3), b"state", crc32c::crc32c(b"state"));
    if let Message::InstallSnapshot { snapshot, .. } = &mut future {
        snapshot.position = Position::new(Epoch(9), Lsn(7));
    }
    malformed(&future);
    let mut voterless = chunk(Epoch(3), b"state", crc32c::crc32c(b"state"));
    if let Message::InstallSnapshot { snapshot, .. } = &mut voterless {
        snapshot.membership = Membership::new([], [NodeId(2)]);
    }
    malformed(&voterless);
    let both = Membership::new([NodeId(1), NodeId(2)], [NodeId(2)]);
    malformed(&Message::Append {
        epoch: Epoch(3),
        prev: Position::ZERO,
        entries: vec![Entry {
            epoch: Epoch(3),
            lsn: Lsn(1),
            kind: steadfast::EntryKind::Membership(Box::new(both)),
        }],
        commit: Lsn(0),
        round: 0,
    });
    // The honest chunk is accepted.
    let honest = chunk(Epoch(3), b"state", crc32c::crc32c(b"state"));
    follower
        .handle_message(Instant(1), NodeId(1), honest)
        .unwrap();
    assert_eq!(
        follower.snapshot().map(|s| s.position),
        Some(Position::new(Epoch(1), Lsn(7)))
    );
}
