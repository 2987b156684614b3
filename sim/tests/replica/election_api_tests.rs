//! The inputs and queries added for elections and transfers:
//! `Replica::campaign`, `cancel_transfer`, `pending_transfer`, and the
//! leader hint on `InputError::NotLeader`.

use crate::election_unit_tests::{config, leader};
use crate::tests::drain;
use steadfast::entry::RequestId;
use steadfast::replica::{InputError, Output, Replica, Role};
use steadfast::types::{Epoch, Instant, Lsn, NodeId, Position};
use steadfast::wire::Message;
use steadfast::Config;

#[test]
fn campaign_starts_an_election_now() {
    for pre_vote in [true, false] {
        let mut r = Replica::new(config(1, pre_vote), Instant(0)).unwrap();
        let deadline = r.poll_timeout().unwrap();
        r.campaign(Instant(1)).unwrap();
        assert!(Instant(1) < deadline);
        let expected = if pre_vote {
            Role::PreCandidate
        } else {
            Role::Candidate
        };
        assert_eq!(r.role(), expected);
        let out = drain(&mut r);
        let requests = out
            .iter()
            .filter(|o| {
                matches!(
                    o,
                    Output::Send {
                        message: Message::RequestVote { .. },
                        ..
                    }
                )
            })
            .count();
        assert_eq!(requests, 2, "{out:?}");
    }
}

#[test]
fn leaders_and_learners_do_not_campaign() {
    let mut r = leader();
    assert_eq!(
        r.campaign(Instant(1001)),
        Err(InputError::CannotCampaign(Role::Leader))
    );
    let cfg = Config::new(NodeId(4), [NodeId(1), NodeId(2), NodeId(3)]).with_learners([NodeId(4)]);
    let mut learner = Replica::new(cfg, Instant(0)).unwrap();
    assert_eq!(
        learner.campaign(Instant(1)),
        Err(InputError::CannotCampaign(Role::Learner))
    );
    assert_eq!(learner.poll_output(), None);
}

#[test]
fn a_pending_transfer_can_be_queried_and_cancelled() {
    let mut r = leader();
    assert_eq!(r.pending_transfer(), None);
    assert_eq!(r.cancel_transfer(Instant(1000)), Ok(None));
    r.transfer_leadership(Instant(1000), NodeId(3)).unwrap();
    assert_eq!(r.pending_transfer(), Some(NodeId(3)));
    assert!(r
        .propose(Instant(1001), RequestId(1), b"x".to_vec())
        .is_err());
    assert_eq!(r.cancel_transfer(Instant(1002)), Ok(Some(NodeId(3))));
    assert_eq!(r.pending_transfer(), None);
    assert!(r
        .propose(Instant(1003), RequestId(2), b"y".to_vec())
        .is_ok());
    // A transfer to the leader itself cancels too.
    r.transfer_leadership(Instant(1004), NodeId(2)).unwrap();
    r.transfer_leadership(Instant(1005), NodeId(1)).unwrap();
    assert_eq!(r.pending_transfer(), None);
}

#[test]
fn not_leader_errors_carry_the_leader_hint() {
    let mut r = Replica::new(config(2, false), Instant(0)).unwrap();
    assert_eq!(
        r.transfer_leadership(Instant(1), NodeId(3)),
        Err(InputError::NotLeader { leader: None })
    );
    let heartbeat = Message::Append {
        epoch: Epoch(1),
        prev: Position::ZERO,
        entries: vec![],
        commit: Lsn(0),
        round: 1,
    };
    r.handle_message(Instant(2), NodeId(1), heartbeat).unwrap();
    let hint = Err(InputError::NotLeader {
        leader: Some(NodeId(1)),
    });
    assert_eq!(r.transfer_leadership(Instant(3), NodeId(3)), hint);
    assert_eq!(r.cancel_transfer(Instant(3)), hint.map(|()| None));
}
