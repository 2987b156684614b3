//! Unit tests of [`Replica::check_invariants`](super::Replica::check_invariants):
//! a replica whose private state is corrupted in one way reports exactly
//! that invariant, with the offending values; replicas driven normally
//! never report anything.

use super::candidate_state::CandidateState;
use super::leader_state::Transfer;
use super::role_state::RoleState;
use super::{Output, Replica, Role, Violation};
use crate::config::Config;
use crate::entry::{Entry, EntryKind, RequestId};
use crate::types::{Epoch, Instant, Lsn, NodeId};
use std::collections::VecDeque;

const IDS: [NodeId; 3] = [NodeId(1), NodeId(2), NodeId(3)];

/// A tiny host: delivers messages in order, persists at once, fires timers.
struct Cluster {
    nodes: Vec<Replica>,
    network: VecDeque<(NodeId, NodeId, crate::wire::Message)>,
    now: Instant,
}

impl Cluster {
    fn new(seed: u64) -> Cluster {
        let nodes = IDS
            .iter()
            .map(|&id| Replica::new(Config::new(id, IDS).with_seed(seed), Instant(0)).unwrap())
            .collect();
        Cluster {
            nodes,
            network: VecDeque::new(),
            now: Instant(0),
        }
    }

    fn node(&mut self, id: NodeId) -> &mut Replica {
        &mut self.nodes[(id.0 - 1) as usize]
    }

    /// One millisecond: due timers, one message, every output; then every
    /// replica's invariants are checked.
    fn step(&mut self) {
        self.now = Instant(self.now.0 + 1);
        let now = self.now;
        for node in &mut self.nodes {
            if node.poll_timeout().is_some_and(|t| t <= now) {
                node.handle_timeout(now);
            }
        }
        if let Some((from, to, message)) = self.network.pop_front() {
            let _ = self.node(to).handle_message(now, from, message);
        }
        for node in &mut self.nodes {
            while let Some(output) = node.poll_output() {
                match output {
                    Output::Send { to, message } => {
                        self.network.push_back((node.id(), to, message))
                    }
                    Output::Append { entries } => {
                        if let Some(last) = entries.last() {
                            node.handle_persisted(now, last.position());
                        }
                    }
                    // Storage is not kept (nothing here restarts), and
                    // these scenarios take no snapshots.
                    Output::PersistHardState(_)
                    | Output::Truncated { .. }
                    | Output::RolledBack { .. }
                    | Output::Apply { .. }
                    | Output::Reply { .. }
                    | Output::RoleChanged { .. }
                    | Output::MembershipChanged { .. }
                    | Output::ReadReady { .. }
                    | Output::ReadFailed { .. }
                    | Output::Compacted { .. }
                    | Output::ReadSnapshotChunk { .. }
                    | Output::ReceiveSnapshotChunk { .. }
                    | Output::InstallSnapshot { .. } => {}
                }
            }
            assert_eq!(node.check_invariants(), Ok(()), "{:?}", node.id());
        }
    }

    fn leader(&self) -> Option<NodeId> {
        self.nodes
            .iter()
            .find(|n| n.role() == Role::Leader && n.commit() >= Lsn(1))
            .map(Replica::id)
    }

    /// Run until a leader has committed its no-op.
    fn elect(&mut self) -> NodeId {
        for _ in 0..5_000 {
            if let Some(leader) = self.leader() {
                return leader;
            }
            self.step();
        }
        panic!("no leader elected");
    }

    /// Run until `lsn` is committed on the leader.
    fn commit_through(&mut self, leader: NodeId, lsn: Lsn) {
        for _ in 0..5_000 {
            if self.node(leader).commit() >= lsn {
                return;
            }
            self.step();
        }
        panic!("{lsn:?} never committed");
    }
}

/// A leader of a three-node cluster that committed two writes.
fn leader_with_writes() -> Replica {
    let mut cluster = Cluster::new(7);
    let leader = cluster.elect();
    let now = cluster.now;
    let first = cluster
        .node(leader)
        .propose(now, RequestId(1), b"a".to_vec());
    let second = cluster
        .node(leader)
        .propose(now, RequestId(2), b"b".to_vec());
    cluster.commit_through(leader, second.unwrap().lsn.max(first.unwrap().lsn));
    cluster.node(leader).clone()
}

fn follower() -> Replica {
    Replica::new(Config::new(NodeId(1), IDS), Instant(0)).unwrap()
}

/// The check fails with `expected`, whose message names the invariant
/// and every value in `values`.
fn assert_violation(replica: &Replica, expected: Violation, name: &str, values: &[&str]) {
    let found = replica.check_invariants();
    assert_eq!(found, Err(expected));
    let message = found.unwrap_err().to_string();
    assert!(message.starts_with(&format!("{name}: ")), "{message}");
    for value in values {
        assert!(
            message.contains(value),
            "{value:?} missing from {message:?}"
        );
    }
}

#[test]
fn applied_past_commit() {
    let mut replica = leader_with_writes();
    let commit = replica.commit;
    replica.applied = Lsn(commit.0 + 2);
    assert_violation(
        &replica,
        Violation::AppliedPastCommit {
            applied: Lsn(commit.0 + 2),
            commit,
        },
        "applied-within-commit",
        &[
            &format!("applied lsn {}", commit.0 + 2),
            &format!("commit point {commit}"),
        ],
    );
}

#[test]
fn commit_and_persisted_past_the_log() {
    let mut replica = leader_with_writes();
    let last = replica.log.last().lsn;
    replica.persisted = Lsn(last.0 + 1);
    assert_violation(
        &replica,
        Violation::PersistedPastLog {
            persisted: Lsn(last.0 + 1),
            last,
        },
        "persisted-within-log",
        &[&format!("{}", last.0 + 1), &format!("{last}")],
    );
    replica.persisted = last;
    replica.commit = Lsn(last.0 + 3);
    replica.applied = replica.commit;
    assert_violation(
        &replica,
        Violation::CommitPastLog {
            commit: Lsn(last.0 + 3),
            last,
        },
        "commit-within-log",
        &[&format!("commit point {}", last.0 + 3)],
    );
}

#[test]
fn leader_with_progress_past_its_log() {
    let mut replica = leader_with_writes();
    let last = replica.log.last().lsn;
    let beyond = Lsn(last.0 + 4);
    let peer = *replica.progress().keys().next().expect("a peer");
    let pr = replica
        .leading_mut()
        .and_then(|l| l.progress.get_mut(&peer))
        .expect("a peer's progress");
    assert!(pr.maybe_update(beyond));
    let applied = pr.applied();
    assert_violation(
        &replica,
        Violation::ProgressPastLog {
            peer,
            matched: beyond,
            next: beyond.next(),
            applied,
            last,
        },
        "progress-within-log",
        &[
            &format!("{peer} has"),
            &format!("matched {beyond}"),
            &format!("ends at {last}"),
        ],
    );
}

#[test]
fn learner_holding_a_vote_tally() {
    // A learner's role state has no tally: one that holds a tally is a
    // (pre-)candidate that does not vote.
    let config = Config::new(NodeId(4), IDS).with_learners([NodeId(4)]);
    let mut learner = Replica::new(config, Instant(0)).unwrap();
    assert_eq!(learner.role(), Role::Learner);
    learner.state = RoleState::PreCandidate(CandidateState::new(NodeId(4)));
    assert_violation(
        &learner,
        Violation::RoleAgainstMembership {
            role: Role::PreCandidate,
            voter: false,
        },
        "role-membership",
        &["PreCandidate", "not a voter"],
    );
}

#[test]
fn candidate_that_did_not_vote_for_itself() {
    let mut replica = follower();
    replica.state = RoleState::Candidate(CandidateState::new(NodeId(1)));
    replica.hard.voted_for = Some(NodeId(2));
    assert_violation(
        &replica,
        Violation::NoSelfVote {
            role: Role::Candidate,
            epoch: Epoch(0),
            voted_for: Some(NodeId(2)),
        },
        "self-vote",
        &["Candidate", "e0", "Some(NodeId(2))"],
    );
}

#[test]
fn winning_tally_that_did_not_move_on() {
    let mut replica = follower();
    replica.hard.voted_for = Some(NodeId(1));
    let mut tally = CandidateState::new(NodeId(1));
    tally.record_grant(NodeId(2));
    replica.state = RoleState::Candidate(tally);
    assert_violation(
        &replica,
        Violation::BadTally {
            role: Role::Candidate,
            granted: 2,
            refused: 0,
            includes_self: true,
            all_voters: true,
            needed: 2,
        },
        "vote-tally",
        &["2 votes", "2 needed"],
    );
}

#[test]
fn losing_tally_that_did_not_move_on() {
    let mut replica = follower();
    replica.hard.voted_for = Some(NodeId(1));
    let mut tally = CandidateState::new(NodeId(1));
    tally.record_refusal(NodeId(2));
    tally.record_refusal(NodeId(3));
    replica.state = RoleState::Candidate(tally);
    assert_violation(
        &replica,
        Violation::BadTally {
            role: Role::Candidate,
            granted: 1,
            refused: 2,
            includes_self: true,
            all_voters: true,
            needed: 2,
        },
        "vote-tally",
        &["2 refusals"],
    );
}

#[test]
fn follower_naming_itself_leader() {
    let mut replica = follower();
    replica.leader = Some(NodeId(1));
    assert_violation(
        &replica,
        Violation::WrongLeaderHint {
            me: NodeId(1),
            role: Role::Follower,
            leader: Some(NodeId(1)),
        },
        "leader-hint",
        &["n1 as Follower", "Some(NodeId(1))"],
    );
}

#[test]
fn log_epoch_regression_and_epoch_past_the_hard_state() {
    let mut replica = leader_with_writes();
    let last = replica.log.last();
    replica.log.push(Entry {
        epoch: Epoch(0),
        lsn: last.lsn.next(),
        kind: EntryKind::Noop,
    });
    assert_violation(
        &replica,
        Violation::LogEpochRegression {
            lsn: last.lsn.next(),
            epoch: Epoch(0),
            previous: last.epoch,
        },
        "log-epochs-monotonic",
        &[&format!("lsn {}", last.lsn.next()), "epoch e0"],
    );

    let mut replica = leader_with_writes();
    let last = replica.log.last();
    replica.hard.epoch = Epoch(0);
    assert_violation(
        &replica,
        Violation::LogPastEpoch {
            last,
            epoch: Epoch(0),
        },
        "log-epoch-within-hard-state",
        &[&format!("{last}"), "e0"],
    );
}

#[test]
fn pending_proposal_already_committed() {
    let mut replica = leader_with_writes();
    let (commit, last, epoch) = (replica.commit, replica.log.last().lsn, replica.hard.epoch);
    if let Some(leader) = replica.leading_mut() {
        leader.pending.push_front((Lsn(1), RequestId(9)));
    }
    assert_violation(
        &replica,
        Violation::BadPendingProposal {
            lsn: Lsn(1),
            epoch: Some(epoch),
            leader_epoch: epoch,
            commit,
            last,
        },
        "pending-uncommitted",
        &[
            "lsn 1",
            &format!("commit {commit}"),
            &format!("last {last}"),
        ],
    );
}

#[test]
fn pending_proposals_out_of_order() {
    let mut replica = leader_with_writes();
    let now = replica.now;
    let third = replica.propose(now, RequestId(3), b"c".to_vec()).unwrap();
    let fourth = replica.propose(now, RequestId(4), b"d".to_vec()).unwrap();
    if let Some(leader) = replica.leading_mut() {
        leader.pending.swap(0, 1);
    }
    assert_violation(
        &replica,
        Violation::PendingOutOfOrder {
            lsn: third.lsn,
            previous: fourth.lsn,
        },
        "pending-ordered",
        &[
            &format!("lsn {}", third.lsn),
            &format!("lsn {}", fourth.lsn),
        ],
    );
}

#[test]
fn progress_for_a_stranger_and_transfer_to_self() {
    let mut replica = leader_with_writes();
    let peers: Vec<NodeId> = replica.progress().keys().copied().collect();
    if let Some(leader) = replica.leading_mut() {
        leader.progress.remove(&peers[1]);
    }
    assert_violation(
        &replica,
        Violation::ProgressPeersMismatch {
            tracked: vec![peers[0]],
            peers: peers.clone(),
        },
        "progress-peers",
        &[&format!("{:?}", peers[0]), &format!("{:?}", peers[1])],
    );

    let mut replica = leader_with_writes();
    let me = replica.id();
    if let Some(leader) = replica.leading_mut() {
        leader.transfer = Some(Transfer {
            target: me,
            deadline: Instant(u64::MAX),
            timeout_now_sent: false,
        });
    }
    assert_violation(
        &replica,
        Violation::BadTransferTarget { target: me },
        "transfer-target",
        &[&format!("{me}")],
    );
}

#[test]
fn stale_membership() {
    let mut replica = follower();
    replica.membership_lsn = Lsn(5);
    assert_violation(
        &replica,
        Violation::StaleMembership {
            found: Lsn(5),
            expected: Lsn(0),
        },
        "membership-in-force",
        &["lsn 5", "lsn 0"],
    );
}

#[test]
fn log_base_past_applied() {
    let mut replica = leader_with_writes();
    let base = replica.log.last();
    let _ = replica.log.install(base);
    replica.snapshot = Some(crate::snapshot::SnapshotMeta {
        position: base,
        ..Default::default()
    });
    replica.applied = Lsn(0);
    assert_violation(
        &replica,
        Violation::BasePastApplied {
            base,
            applied: Lsn(0),
        },
        "log-base-applied",
        &[&format!("{base}"), "applied lsn 0"],
    );
    replica.applied = base.lsn;
    replica.snapshot = None;
    assert_violation(
        &replica,
        Violation::BaseNotCoveredBySnapshot {
            base,
            snapshot: None,
        },
        "log-base-snapshot",
        &[&format!("{base}"), "None"],
    );
}

/// Elections, writes, a crash and restart of the leader, more writes: every
/// replica passes after every step (and the debug assertions inside every
/// input agree).
#[test]
fn normally_driven_replicas_always_pass() {
    for seed in 0..5 {
        let mut cluster = Cluster::new(seed);
        let leader = cluster.elect();
        for i in 0..5 {
            let now = cluster.now;
            let _ = cluster
                .node(leader)
                .propose(now, RequestId(i), vec![i as u8]);
            cluster.step();
        }
        let last = cluster.node(leader).last().lsn;
        cluster.commit_through(leader, last);
        // The leader crashes: it restarts from its own log (everything was
        // persisted at once) and hard state.
        let old = cluster.node(leader).clone();
        let durable = super::Durable {
            hard_state: old.hard_state(),
            log: old.entries().to_vec(),
            applied: old.applied(),
            snapshot: None,
        };
        let now = cluster.now;
        *cluster.node(leader) = Replica::restart(old.config().clone(), durable, now).unwrap();
        assert_eq!(cluster.node(leader).check_invariants(), Ok(()));
        cluster.network.clear();
        let next = cluster.elect();
        let now = cluster.now;
        let position = cluster
            .node(next)
            .propose(now, RequestId(99), b"z".to_vec());
        cluster.commit_through(next, position.unwrap().lsn);
        for node in &cluster.nodes {
            assert_eq!(node.check_invariants(), Ok(()));
        }
        assert_eq!(
            cluster.node(next).last().epoch,
            cluster.node(next).epoch(),
            "a new epoch's leader wrote its own entries"
        );
    }
}
