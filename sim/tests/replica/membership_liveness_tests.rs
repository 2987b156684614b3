//! Membership changes that must not cost availability, found by the
//! liveness phase (`steadfast_sim::liveness`): a member hears the leader
//! although an uncommitted change in its own log left the leader out, and
//! a voter whose removal is still uncommitted may stand for election when
//! it alone holds the whole log. Each test fails on the code before the fix.

use crate::tests::{drain, entry, no_violations, SECOND};
use steadfast::entry::{Entry, EntryKind, HardState};
use steadfast::membership::{Membership, MembershipChange};
use steadfast::replica::{Replica, Role};
use steadfast::types::{Epoch, Instant, Lsn, NodeId, Position};
use steadfast::wire::Message;
use steadfast::{Config, Durable};
use steadfast_sim::harness::{Cluster, ClusterSpec};

fn membership_entry(epoch: u64, lsn: u64, voters: &[u64]) -> Entry {
    Entry {
        epoch: Epoch(epoch),
        lsn: Lsn(lsn),
        kind: EntryKind::Membership(Box::new(Membership::new(
            voters.iter().copied().map(NodeId),
            [],
        ))),
    }
}

/// Node 1 of {1, 2, 3}, restarted in epoch 1 with a log whose last entry,
/// uncommitted, removes node 3.
fn holding_an_uncommitted_removal_of_3() -> Replica {
    let durable = Durable {
        hard_state: HardState {
            epoch: Epoch(1),
            voted_for: None,
        },
        log: vec![entry(1, 1), membership_entry(1, 2, &[1, 2])],
        ..Durable::default()
    };
    let config = Config::new(NodeId(1), [NodeId(1), NodeId(2), NodeId(3)]);
    Replica::restart(config, durable, Instant(0)).unwrap()
}

/// Node 3, leader of epoch 2 (elected by 2, whose log never held the
/// removal), replaces the uncommitted removal: node 1 must take its append,
/// though its own membership says 3 is not a member.
#[test]
fn a_member_hears_a_leader_its_uncommitted_membership_left_out() {
    let mut one = holding_an_uncommitted_removal_of_3();
    assert!(!one.membership().contains(NodeId(3)));
    let append = Message::Append {
        epoch: Epoch(2),
        prev: Position::new(Epoch(1), Lsn(1)),
        entries: vec![Entry {
            epoch: Epoch(2),
            lsn: Lsn(2),
            kind: EntryKind::Noop,
        }],
        commit: Lsn(0),
        round: 1,
    };
    one.handle_message(Instant(10), NodeId(3), append)
        .expect("the leader's append is heard");
    drain(&mut one);
    assert_eq!(one.epoch(), Epoch(2));
    assert_eq!(one.leader(), Some(NodeId(3)));
    assert!(
        one.membership().is_voter(NodeId(3)),
        "the removal was truncated"
    );
    assert_eq!(one.last(), Position::new(Epoch(2), Lsn(2)));
    one.check_invariants().unwrap();
}

/// Fencing still applies: an append of an older epoch from a node outside
/// the membership is refused as before.
#[test]
fn an_old_epochs_append_from_a_non_member_is_still_refused() {
    let mut one = holding_an_uncommitted_removal_of_3();
    one.handle_message(
        Instant(10),
        NodeId(2),
        Message::RequestVote {
            epoch: Epoch(3),
            last: Position::new(Epoch(1), Lsn(2)),
            pre_vote: false,
            transfer: false,
        },
    )
    .unwrap();
    drain(&mut one);
    let stale = Message::Append {
        epoch: Epoch(2),
        prev: Position::new(Epoch(1), Lsn(1)),
        entries: vec![],
        commit: Lsn(0),
        round: 1,
    };
    assert!(one.handle_message(Instant(20), NodeId(3), stale).is_err());
    assert!(!one.membership().contains(NodeId(3)));
}

/// Voters {1, 2}: leader 1 removes itself while 2 is cut off, and loses its
/// leadership (check-quorum) before the removal commits. 1 alone holds the
/// whole log and 2 needs its vote, which the log rule refuses; 1 was not
/// allowed to campaign, being no voter of its own (uncommitted) membership,
/// so no leader was ever elected. Now 1 stands without counting itself,
/// wins 2's vote, commits its removal and hands over to 2.
#[test]
fn a_voter_whose_removal_is_uncommitted_may_stand_and_hand_over() {
    for pre_vote in [true, false] {
        let mut spec = ClusterSpec::new(2);
        spec.pre_vote = pre_vote;
        let mut cluster = Cluster::new(&spec);
        assert!(cluster.run_until(5 * SECOND, |c| c.leader().is_some()));
        let leader = cluster.leader().unwrap();
        let other = if leader == NodeId(1) {
            NodeId(2)
        } else {
            NodeId(1)
        };
        cluster.propose_to_leader(b"a").unwrap();
        assert!(cluster.run_until(SECOND, |c| c
            .replica(other)
            .is_some_and(|r| r.commit() >= Lsn(2))));
        cluster.isolate(other);
        cluster
            .propose_membership(leader, MembershipChange::Remove(leader))
            .expect("a leader may remove itself");
        assert!(
            cluster.run_until(5 * SECOND, |c| c
                .replica(leader)
                .is_some_and(|r| r.role() != Role::Leader)),
            "check-quorum deposes the cut-off leader:\n{}",
            cluster.trace()
        );
        cluster.heal();
        let handed_over = cluster.run_until(10 * SECOND, |c| {
            c.leader() == Some(other)
                && c.replica(other)
                    .is_some_and(|r| r.membership().voters.len() == 1)
        });
        assert!(handed_over, "pre_vote={pre_vote}:\n{}", cluster.trace());
        let (_, at) = cluster.propose_to_leader(b"b").unwrap();
        assert!(cluster.run_until(SECOND, |c| c
            .replica(other)
            .is_some_and(|r| r.commit() >= at.lsn)));
        let removed = cluster.replica(leader).unwrap();
        assert_eq!(removed.role(), Role::Learner, "the removal committed");
        assert!(!removed.membership().contains(leader));
        no_violations(&cluster);
    }
}

/// A vote request is answered by the vote and log rules alone, even from a
/// node this replica's (uncommitted) membership leaves out: two members
/// whose logs diverged on a membership change otherwise refused each other
/// for good (the liveness phase found it).
#[test]
fn a_vote_request_from_outside_the_membership_is_answered_by_the_rules() {
    let mut one = holding_an_uncommitted_removal_of_3();
    let request = Message::RequestVote {
        epoch: Epoch(2),
        last: Position::new(Epoch(2), Lsn(3)),
        pre_vote: false,
        transfer: false,
    };
    one.handle_message(Instant(10), NodeId(3), request)
        .expect("heard");
    let out = drain(&mut one);
    assert!(
        out.iter().any(|o| matches!(
            o,
            steadfast::replica::Output::Send {
                to: NodeId(3),
                message: Message::VoteResponse { granted: true, .. },
            }
        )),
        "{out:?}"
    );
    assert_eq!(one.hard_state().voted_for, Some(NodeId(3)));
    one.check_invariants().unwrap();
}

/// Voters {1, 2, 3}: leader 1 removes 3 and is cut off before the removal
/// commits. Its membership in force, {1, 2}, has a check quorum of one (any
/// election quorum of {1, 2} includes 1), but 2 and 3 can still elect a
/// leader under {1, 2, 3}. So 1 must neither confirm a linearizable read on
/// its own nor keep leading past check-quorum: while a change is
/// uncommitted, both memberships must confirm (a stale read the liveness
/// phase found).
#[test]
fn an_uncommitted_change_does_not_shrink_the_quorum_that_confirms_leadership() {
    let mut cluster = Cluster::new(&ClusterSpec::new(3));
    assert!(cluster.run_until(5 * SECOND, |c| c.leader().is_some()));
    let old = cluster.leader().unwrap();
    let others: Vec<NodeId> = cluster.ids().into_iter().filter(|&n| n != old).collect();
    cluster.propose_to_leader(b"a").unwrap();
    crate::tests::commit_all(&mut cluster);
    cluster.isolate(old);
    cluster
        .propose_membership(old, MembershipChange::Remove(others[1]))
        .expect("the change is appended");
    assert_eq!(cluster.replica(old).unwrap().membership().voters.len(), 2);
    let session = cluster.open_session();
    let read = cluster.read_linearizable(old, session).expect("asked");
    assert!(
        cluster.run_until(5 * SECOND, |c| c.leader().is_some_and(|l| l != old)),
        "{}",
        cluster.trace()
    );
    let writer = cluster.open_session();
    cluster.write_in_session(writer, b"b").unwrap();
    assert!(cluster.run_until(SECOND, |c| !c
        .session(writer)
        .unwrap()
        .acked_writes
        .is_empty()));
    cluster.run_for(2 * SECOND);
    assert!(
        !matches!(
            cluster.leader_read(read),
            Some(steadfast_sim::harness::LeaderRead::Served { .. })
        ),
        "the cut-off leader served a read alone:\n{}",
        cluster.trace()
    );
    assert_ne!(
        cluster.replica(old).unwrap().role(),
        Role::Leader,
        "check-quorum deposes it:\n{}",
        cluster.trace()
    );
    no_violations(&cluster);
}
