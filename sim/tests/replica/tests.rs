//! Scenario and unit tests of the replica, driven through the harness.

use std::time::Duration;
use steadfast::durability::{Durability, ElectionQuorum};
use steadfast::entry::{Entry, EntryKind};
use steadfast::replica::{InputError, Output, ProposeError, Replica, Role};
use steadfast::types::{Epoch, Instant, Lsn, NodeId, Position};
use steadfast::wire::{AppendResult, Message};
use steadfast::Config;
use steadfast_sim::harness::{Cluster, ClusterSpec, Faults, Property};

pub(super) const SECOND: Duration = Duration::from_secs(1);

pub(super) fn elect(cluster: &mut Cluster) -> NodeId {
    assert!(
        cluster.run_until(5 * SECOND, |c| c.leader().is_some()),
        "no leader elected:\n{}",
        cluster.trace()
    );
    cluster.leader().unwrap()
}

pub(super) fn commit_all(cluster: &mut Cluster) {
    let ids = cluster.ids();
    let done = cluster.run_until(5 * SECOND, |c| {
        let Some(leader) = c.leader().and_then(|l| c.replica(l)) else {
            return false;
        };
        let last = leader.last().lsn;
        leader.commit() == last
            && ids
                .iter()
                .all(|&id| c.replica(id).is_none_or(|r| r.applied() == last))
    });
    assert!(done, "cluster did not converge:\n{}", cluster.trace());
}

pub(super) fn no_violations(cluster: &Cluster) {
    assert!(
        cluster.history().violations.is_empty(),
        "violations: {:?}\n{}",
        cluster.history().violations,
        cluster.trace()
    );
}

#[test]
fn three_nodes_elect_a_leader_and_replicate_under_every_policy() {
    for durability in [
        Durability::Async,
        Durability::SemiSync { k: 1 },
        Durability::Quorum,
        Durability::All,
    ] {
        let mut spec = ClusterSpec::new(3);
        spec.durability = durability;
        let mut cluster = Cluster::new(&spec);
        elect(&mut cluster);
        let mut requests = Vec::new();
        for i in 0..5u8 {
            requests.push(cluster.propose_to_leader(&[i]).expect("leader accepts").0);
        }
        commit_all(&mut cluster);
        for r in requests {
            assert!(
                cluster.is_acked(r),
                "{durability:?}: request {r:?} not acked"
            );
        }
        let states: Vec<_> = cluster
            .ids()
            .iter()
            .map(|&id| cluster.host(id).unwrap().storage.applied().to_vec())
            .collect();
        assert!(states.windows(2).all(|w| w[0] == w[1]), "{durability:?}");
        assert_eq!(states[0].len(), 6, "one no-op and five writes");
        no_violations(&cluster);
    }
}

/// Commit writes while two followers are cut off, then crash the leader and
/// let the followers elect one of themselves.
fn failover_after_isolated_writes(durability: Durability, election: ElectionQuorum) -> Cluster {
    let mut spec = ClusterSpec::new(3);
    spec.durability = durability;
    spec.election_quorum = election;
    let mut cluster = Cluster::new(&spec);
    let leader = elect(&mut cluster);
    cluster.propose(leader, b"before partition").unwrap();
    commit_all(&mut cluster);
    let others: Vec<NodeId> = cluster.ids().into_iter().filter(|&n| n != leader).collect();
    cluster.partition(&[leader], &others);
    let _ = cluster.propose(leader, b"write during partition");
    cluster.run_for(Duration::from_millis(20));
    cluster.crash(leader);
    cluster.heal();
    let new_leader = cluster.run_until(5 * SECOND, |c| c.leader().is_some_and(|l| l != leader));
    if new_leader {
        cluster.restart(leader);
        cluster.run_for(2 * SECOND);
    }
    cluster
}

#[test]
fn async_failover_loses_an_acknowledged_write() {
    let cluster = failover_after_isolated_writes(Durability::Async, ElectionQuorum::Majority);
    let lost = cluster.history().first(Property::NoLostAckedWrites);
    assert!(
        lost.is_some(),
        "expected a lost write:\n{}",
        cluster.trace()
    );
    let rolled_back = cluster.history().first(Property::CommittedNeverTruncated);
    assert!(
        rolled_back.is_some(),
        "the old leader must report truncating its acked write:\n{}",
        cluster.trace()
    );
}

#[test]
fn quorum_and_all_failover_lose_nothing() {
    for durability in [
        Durability::Quorum,
        Durability::All,
        Durability::SemiSync { k: 1 },
    ] {
        let cluster = failover_after_isolated_writes(durability, ElectionQuorum::Majority);
        no_violations(&cluster);
        assert!(!cluster.history().acked.is_empty(), "{durability:?}");
        assert!(cluster.leader().is_some(), "{durability:?}: a new leader");
        for id in cluster.ids() {
            assert!(
                cluster.acked_missing_from(id).is_empty(),
                "{durability:?}: {id} misses acked writes:\n{}",
                cluster.trace()
            );
        }
    }
}

#[test]
fn flexible_elections_make_async_failover_lossless_but_unavailable() {
    let cluster = failover_after_isolated_writes(Durability::Async, ElectionQuorum::Flexible);
    no_violations(&cluster);
}

#[test]
fn partitioned_old_leader_truncates_and_reports_its_unreplicated_tail() {
    let mut cluster = Cluster::new(&ClusterSpec::new(3));
    let old = elect(&mut cluster);
    commit_all(&mut cluster);
    cluster.isolate(old);
    let (request, position) = cluster.propose(old, b"never replicated").unwrap();
    cluster.run_until(5 * SECOND, |c| c.leader().is_some_and(|l| l != old));
    let new = cluster.leader().unwrap();
    assert_ne!(new, old);
    cluster.propose(new, b"new epoch write").unwrap();
    cluster.heal();
    commit_all(&mut cluster);
    assert!(
        !cluster.is_acked(request),
        "the isolated write was never acknowledged"
    );
    let truncation = cluster
        .events()
        .iter()
        .find(|e| e.what.starts_with(&format!("{old} truncated")))
        .unwrap_or_else(|| panic!("no truncation reported:\n{}", cluster.trace()));
    assert!(
        truncation
            .what
            .contains(&steadfast::describe::Short(position).to_string()),
        "{}",
        truncation.what
    );
    no_violations(&cluster);
}

#[test]
fn a_far_behind_follower_catches_up_in_few_round_trips() {
    let mut spec = ClusterSpec::new(3);
    spec.seed = 5;
    let mut cluster = Cluster::new(&spec);
    let laggard = elect(&mut cluster);
    commit_all(&mut cluster);
    cluster.isolate(laggard);
    // A divergent tail the deposed leader holds, which must be truncated.
    for i in 0..25u8 {
        cluster.propose(laggard, &[0xff, i]).unwrap();
    }
    cluster.run_until(5 * SECOND, |c| c.leader().is_some_and(|l| l != laggard));
    // Several epochs of writes the laggard misses.
    for round in 0..4u8 {
        for i in 0..30u8 {
            if cluster.propose_to_leader(&[round, i]).is_none() {
                break;
            }
        }
        cluster.run_for(Duration::from_millis(200));
        let leader = cluster.leader().unwrap();
        let next = cluster
            .ids()
            .into_iter()
            .find(|&n| n != leader && n != laggard)
            .unwrap();
        assert!(cluster.transfer_leadership(next));
        cluster.run_until(2 * SECOND, |c| c.leader() == Some(next));
    }
    cluster.heal();
    let before = cluster.rejections_from(laggard);
    commit_all(&mut cluster);
    let round_trips = cluster.rejections_from(laggard) - before;
    eprintln!("laggard caught up with {round_trips} rejections");
    let laggard_replica = cluster.replica(laggard).unwrap();
    let leader_last = cluster.replica(cluster.leader().unwrap()).unwrap().last();
    assert_eq!(laggard_replica.last(), leader_last);
    assert!(leader_last.lsn.0 > 100, "the laggard missed many entries");
    // One rejection per epoch boundary at most, not one per missing entry.
    assert!(
        round_trips <= 6,
        "{round_trips} round trips to find the divergence"
    );
    let discarded = cluster
        .events()
        .iter()
        .any(|e| e.what.starts_with(&format!("{laggard} truncated")));
    assert!(discarded, "the divergent tail was truncated and reported");
    no_violations(&cluster);
}

#[test]
fn pre_vote_keeps_a_rejoining_node_from_disrupting_the_leader() {
    let mut cluster = Cluster::new(&ClusterSpec::new(3));
    let leader = elect(&mut cluster);
    commit_all(&mut cluster);
    let epoch = cluster.replica(leader).unwrap().epoch();
    let loner = cluster.ids().into_iter().find(|&n| n != leader).unwrap();
    cluster.isolate(loner);
    cluster.run_for(3 * SECOND);
    assert_eq!(
        cluster.replica(loner).unwrap().epoch(),
        epoch,
        "an isolated node must not bump its epoch without a pre-vote quorum"
    );
    cluster.heal();
    cluster.run_for(SECOND);
    assert_eq!(cluster.leader(), Some(leader));
    assert_eq!(cluster.replica(leader).unwrap().epoch(), epoch);
    no_violations(&cluster);
}

#[test]
fn without_pre_vote_a_rejoining_node_does_disrupt() {
    let mut spec = ClusterSpec::new(3);
    spec.pre_vote = false;
    spec.check_quorum = false;
    let mut cluster = Cluster::new(&spec);
    let leader = elect(&mut cluster);
    commit_all(&mut cluster);
    let epoch = cluster.replica(leader).unwrap().epoch();
    let loner = cluster.ids().into_iter().find(|&n| n != leader).unwrap();
    cluster.isolate(loner);
    cluster.run_for(3 * SECOND);
    assert!(cluster.replica(loner).unwrap().epoch() > epoch);
    cluster.heal();
    cluster.run_for(SECOND);
    let after = cluster.replica(cluster.leader().unwrap()).unwrap().epoch();
    assert!(after > epoch, "the rejoin forced a new election");
    no_violations(&cluster);
}

#[test]
fn leadership_transfer_hands_over_to_a_caught_up_follower() {
    let mut cluster = Cluster::new(&ClusterSpec::new(3));
    let leader = elect(&mut cluster);
    cluster.propose(leader, b"before transfer").unwrap();
    let target = cluster.ids().into_iter().find(|&n| n != leader).unwrap();
    assert!(cluster.transfer_leadership(target));
    assert_eq!(
        cluster.propose(leader, b"during"),
        Err(ProposeError::TransferInProgress)
    );
    assert!(
        cluster.run_until(SECOND, |c| c.leader() == Some(target)),
        "{}",
        cluster.trace()
    );
    commit_all(&mut cluster);
    no_violations(&cluster);
}

#[test]
fn a_leader_that_loses_its_quorum_steps_down() {
    let mut cluster = Cluster::new(&ClusterSpec::new(3));
    let leader = elect(&mut cluster);
    cluster.isolate(leader);
    cluster.run_for(SECOND);
    assert_ne!(cluster.replica(leader).unwrap().role(), Role::Leader);
}

#[test]
fn crash_restart_resumes_from_durable_state() {
    let mut cluster = Cluster::new(&ClusterSpec::new(3));
    let leader = elect(&mut cluster);
    for i in 0..3u8 {
        cluster.propose(leader, &[i]).unwrap();
    }
    commit_all(&mut cluster);
    for id in cluster.ids() {
        cluster.crash(id);
    }
    for id in cluster.ids() {
        cluster.restart(id);
    }
    elect(&mut cluster);
    commit_all(&mut cluster);
    for id in cluster.ids() {
        let state = cluster.host(id).unwrap().storage.applied();
        let writes = state.iter().filter(|e| e.command().is_some()).count();
        assert_eq!(writes, 3, "{id} lost or duplicated writes");
    }
    no_violations(&cluster);
}

#[test]
fn hostile_network_keeps_every_safety_property() {
    for seed in 0..20 {
        let mut spec = ClusterSpec::new(5);
        spec.seed = seed;
        spec.faults = Faults::hostile();
        let mut cluster = Cluster::new(&spec);
        for i in 0..40u8 {
            cluster.run_for(Duration::from_millis(50));
            let _ = cluster.propose_to_leader(&[i]);
            if i % 13 == 5 {
                if let Some(l) = cluster.leader() {
                    cluster.crash(l);
                    cluster.run_for(Duration::from_millis(300));
                    cluster.restart(l);
                }
            }
        }
        cluster.set_faults(Faults::none());
        cluster.run_for(3 * SECOND);
        no_violations(&cluster);
        let leader = cluster.leader().expect("a leader once faults stop");
        cluster.propose(leader, b"final").unwrap();
        commit_all(&mut cluster);
        for id in cluster.ids() {
            assert!(
                cluster.acked_missing_from(id).is_empty(),
                "seed {seed}: {id}"
            );
        }
    }
}

// ----- unit tests on a lone replica -------------------------------------

pub(super) fn lone(id: u64) -> Replica {
    Replica::new(
        Config::new(NodeId(id), [NodeId(1), NodeId(2), NodeId(3)]),
        Instant(0),
    )
    .unwrap()
}

pub(super) fn drain(r: &mut Replica) -> Vec<Output> {
    std::iter::from_fn(|| r.poll_output()).collect()
}

/// The lsns acknowledged as matched among `out`'s messages.
fn acks(out: &[Output]) -> Vec<Lsn> {
    out.iter()
        .filter_map(|o| {
            if let Output::Send {
                message:
                    Message::AppendResponse {
                        result: AppendResult::Accepted { matched, .. },
                        ..
                    },
                ..
            } = o
            {
                Some(*matched)
            } else {
                None
            }
        })
        .collect()
}

pub(super) fn entry(epoch: u64, lsn: u64) -> Entry {
    Entry {
        epoch: Epoch(epoch),
        lsn: Lsn(lsn),
        kind: EntryKind::Command(vec![lsn as u8].into()),
    }
}

#[test]
fn hostile_inputs_are_rejected_without_effect() {
    let mut r = lone(2);
    let before = r.clone();
    assert_eq!(
        r.handle_message(
            Instant(1),
            NodeId(9),
            Message::TimeoutNow { epoch: Epoch(5) }
        ),
        Err(InputError::UnknownSender(NodeId(9)))
    );
    assert_eq!(
        r.handle_message(
            Instant(1),
            NodeId(2),
            Message::TimeoutNow { epoch: Epoch(5) }
        ),
        Err(InputError::FromSelf)
    );
    let gap = Message::Append {
        epoch: Epoch(1),
        prev: Position::ZERO,
        entries: vec![entry(1, 2)],
        commit: Lsn(0),
        round: 0,
    };
    assert!(matches!(
        r.handle_message(Instant(1), NodeId(1), gap),
        Err(InputError::MalformedAppend(_))
    ));
    let future = Message::Append {
        epoch: Epoch(1),
        prev: Position::ZERO,
        entries: vec![entry(7, 1)],
        commit: Lsn(0),
        round: 0,
    };
    assert!(r.handle_message(Instant(1), NodeId(1), future).is_err());
    let overflow = Message::Append {
        epoch: Epoch(u64::MAX),
        prev: Position::new(Epoch(1), Lsn(u64::MAX)),
        entries: vec![entry(1, 0)],
        commit: Lsn(u64::MAX),
        round: 0,
    };
    assert!(r.handle_message(Instant(1), NodeId(1), overflow).is_err());
    assert_eq!(r.epoch(), before.epoch());
    assert_eq!(r.last(), before.last());
    assert!(drain(&mut r).is_empty());
}

#[test]
fn followers_acknowledge_only_what_is_persisted() {
    let mut r = lone(2);
    let append = Message::Append {
        epoch: Epoch(1),
        prev: Position::ZERO,
        entries: vec![entry(1, 1), entry(1, 2)],
        commit: Lsn(0),
        round: 0,
    };
    r.handle_message(Instant(1), NodeId(1), append).unwrap();
    let out = drain(&mut r);
    let acked = acks(&out);
    assert!(
        acked.is_empty(),
        "nothing is durable yet, so nothing is acknowledged"
    );
    r.handle_persisted(Instant(2), Position::new(Epoch(1), Lsn(2)));
    assert_eq!(acks(&drain(&mut r)), [Lsn(2)]);
}

#[test]
fn same_seed_same_run() {
    let run = || {
        let mut spec = ClusterSpec::new(5);
        spec.faults = Faults::hostile();
        spec.seed = 99;
        let mut c = Cluster::new(&spec);
        for i in 0..20u8 {
            c.run_for(Duration::from_millis(40));
            let _ = c.propose_to_leader(&[i]);
        }
        c.trace()
    };
    assert_eq!(run(), run());
}
