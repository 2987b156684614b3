//! Failover: failure detection on injected time, pre-vote, votes with the
//! up-to-date check, check-quorum, and leadership transfer.
//!
//! # Who votes, and whose votes count
//!
//! A replica grants a (pre-)vote on the vote rule (one vote per epoch,
//! persisted before the answer) and the log rule (the candidate's last
//! position is at least its own) alone: it does not ask whether its own
//! membership calls itself or the candidate a voter. Whether a vote
//! *counts* is decided by the candidate, which asks, and tallies, exactly
//! the voters of its own membership (etcd raft does the same, see the
//! comments on `MsgVote` for learners in its `raft.go`).
//! The asker must still be a member of the voter's membership: a message
//! from a stranger is refused before any rule applies
//! ([`InputError::UnknownSender`]). So a voter that missed both the
//! addition and the promotion of a node still refuses that node. A
//! leader's appends and snapshot chunks of the current epoch or a later one
//! are heard from anyone, though: a member whose uncommitted membership
//! leaves the leader out can only be corrected by that leader. The liveness
//! phase (`steadfast_sim::liveness`, thousands of seeds with promotions,
//! removals, crashes and partitions) found that case, and a second one: a
//! voter whose own removal is still uncommitted may stand for election
//! (without counting itself) when it alone holds the whole log; see
//! `may_campaign`. It has found no stall from the remaining refusal.
//!
//! The voter's view must not decide, because a membership change commits
//! on a majority of the *new* configuration and a member can miss it. With
//! voters {1, 2} and learner 3, leader 1 promotes 3 and the promotion
//! commits on {1, 2}; if 3 missed it and 1 is lost for good, 2 holds every
//! committed entry and needs 3's vote, but 3 still believes it is a
//! learner. Had 3 refused, no leader could ever be elected although two of
//! three voters are up. In the mirror case (the promotion commits on
//! {1, 3}), 2 would refuse 3 because its membership still calls 3 a
//! learner.
//!
//! Safety does not rest on the voter's view either: election safety needs
//! only that each node grants at most one vote per epoch (true whatever its
//! role, since the vote is in its hard state) and that any two election
//! quorums of the configurations a candidate can hold intersect (true for
//! single-server changes, which is all the leader proposes). A learner that
//! grants a vote stays a learner: voting changes its hard state, never its
//! role.
//!
//! # Losing an election
//!
//! A (pre-)candidate also tallies refusals from its voters: once so many
//! refused that the rest cannot make up an election quorum, or a refusal
//! carries a newer epoch, it returns to follower at once (a lingering
//! pre-candidate would otherwise refuse valid vote requests until its timer
//! fired). A pre-vote is granted for an epoch later than the voter's, and,
//! as in etcd, for the voter's current epoch when it has not voted in it
//! (or voted for the asker) and knows no leader of it.

use super::candidate_state::CandidateState;
use super::role_state::RoleState;
use super::{InputError, Replica, Role};
use crate::entry::HardState;
use crate::planted::planted;
use crate::quorum;
use crate::types::{Epoch, NodeId, Position};
use crate::wire::Message;

impl Replica {
    /// [`handle_timeout`](Replica::handle_timeout) after the time was
    /// advanced.
    pub(super) fn on_timeout(&mut self) {
        match &self.state {
            RoleState::Learner => {}
            RoleState::Leader(leader) => {
                if self.now >= leader.heartbeat_deadline {
                    self.heartbeat();
                }
                let check_due = self
                    .leading()
                    .is_some_and(|leader| self.now >= leader.check_quorum_deadline);
                if self.config.check_quorum && check_due {
                    self.check_quorum();
                }
                let now = self.now;
                if let Some(leader) = self.leading_mut() {
                    if leader.transfer.is_some_and(|t| now >= t.deadline) {
                        leader.transfer = None;
                    }
                }
            }
            RoleState::Follower | RoleState::PreCandidate(_) | RoleState::Candidate(_) => {
                if self.now >= self.election_deadline {
                    self.start_campaign();
                }
            }
        }
    }

    /// [`campaign`](Replica::campaign) after the time was advanced: what
    /// the election timer does when it fires, now.
    pub(super) fn campaign_now(&mut self) -> Result<(), InputError> {
        match self.role() {
            role @ (Role::Leader | Role::Learner) => Err(InputError::CannotCampaign(role)),
            Role::Follower | Role::PreCandidate | Role::Candidate => {
                self.start_campaign();
                Ok(())
            }
        }
    }

    /// Start a pre-vote round, or an election when pre-vote is off.
    fn start_campaign(&mut self) {
        if self.config.pre_vote {
            self.pre_campaign();
        } else {
            self.start_election(false);
        }
    }

    /// True while this replica believes a live leader exists (itself or one it
    /// heard from within the minimum election timeout): with check-quorum on,
    /// such a replica refuses to help depose it.
    ///
    /// In lease mode a voter that restarted within the last minimum election
    /// timeout also counts as in a lease: it may have confirmed a leader's
    /// heartbeat round just before the crash, and that leader may be serving
    /// lease reads on the strength of it.
    pub(super) fn in_leader_lease(&self) -> bool {
        if !self.config.check_quorum {
            return false;
        }
        if self.leading().is_some() {
            return true;
        }
        if self.restart_quiet_until.is_some_and(|t| self.now < t) {
            return true;
        }
        self.leader.is_some()
            && self
                .last_leader_contact
                .is_some_and(|t| self.now.since(t) < self.config.election_timeout_min)
    }

    fn request_votes(&mut self, epoch: Epoch, pre_vote: bool, transfer: bool) {
        let last = self.log.last();
        let me = self.config.id;
        let voters: Vec<NodeId> = self
            .membership
            .voters
            .iter()
            .copied()
            .filter(|&v| v != me)
            .collect();
        for voter in voters {
            self.send(
                voter,
                Message::RequestVote {
                    epoch,
                    last,
                    pre_vote,
                    transfer,
                },
            );
        }
    }

    /// Ask whether an election in the next epoch could succeed, without
    /// changing the epoch (so a returning, partitioned node disrupts no one).
    fn pre_campaign(&mut self) {
        let voter = self.is_voter();
        self.state = RoleState::PreCandidate(CandidateState::standing(self.config.id, voter));
        self.leader = None;
        self.reset_election_deadline();
        self.announce_role();
        if quorum::election_won(usize::from(voter), self.quorums().election) {
            self.start_election(false);
            return;
        }
        self.request_votes(self.hard.epoch.next(), true, false);
    }

    /// Start an election in the next epoch: vote for ourselves, persist that,
    /// ask every voter.
    pub(super) fn start_election(&mut self, transfer: bool) {
        let epoch = self.hard.epoch.next();
        if epoch == self.hard.epoch {
            // The epoch space is exhausted (`Epoch::next` saturates at
            // u64::MAX): an election would reuse the current epoch, in which
            // this replica may already have voted for someone else, and two
            // leaders could be elected in it. Refuse to campaign; stay a
            // follower (the cluster can still follow a leader of this epoch).
            if self.role() == Role::Follower {
                self.reset_election_deadline();
            } else {
                self.become_follower(self.hard.epoch, self.leader);
            }
            return;
        }
        self.hard = HardState {
            epoch,
            voted_for: Some(self.config.id),
        };
        self.persist_hard_state();
        let voter = self.is_voter();
        self.state = RoleState::Candidate(CandidateState::standing(self.config.id, voter));
        self.leader = None;
        self.verified = crate::types::Lsn(0);
        self.reset_election_deadline();
        self.announce_role();
        if quorum::election_won(usize::from(voter), self.quorums().election) {
            self.become_leader();
            return;
        }
        self.request_votes(epoch, false, transfer);
    }

    fn up_to_date(&self, candidate_last: Position) -> bool {
        candidate_last >= self.log.last()
    }

    /// Whether this replica may vote for `from` in its current epoch: it
    /// has not voted in it, or voted for `from`.
    fn can_vote_for(&self, from: NodeId) -> bool {
        self.hard.voted_for.is_none_or(|v| v == from)
    }

    /// A pre-vote request for `epoch`: would this replica vote for `from`
    /// there? Yes for a later epoch than its own, and for its own epoch when
    /// it could still vote for `from` and knows no leader of it; in both
    /// cases only for an up-to-date candidate and outside a leader lease.
    /// Nothing is recorded. Learners answer too (see the module docs).
    pub(super) fn handle_pre_vote_request(&mut self, from: NodeId, epoch: Epoch, last: Position) {
        let epoch_open = epoch > self.hard.epoch
            || (epoch == self.hard.epoch && self.can_vote_for(from) && self.leader.is_none());
        let granted = epoch_open
            && self.up_to_date(last)
            && !self.in_leader_lease()
            && self.old_vote_rule_allows(from);
        self.send(
            from,
            Message::VoteResponse {
                epoch: if granted { epoch } else { self.hard.epoch },
                pre_vote: true,
                granted,
            },
        );
    }

    pub(super) fn handle_pre_vote_response(&mut self, from: NodeId, epoch: Epoch, granted: bool) {
        let from_voter = self.membership.is_voter(from);
        let election = self.quorums().election;
        let voters = self.membership.voters.len();
        let next_epoch = self.hard.epoch.next();
        let RoleState::PreCandidate(tally) = &mut self.state else {
            return;
        };
        if granted && epoch == next_epoch {
            let granted = if from_voter {
                tally.record_grant(from)
            } else {
                tally.votes.len()
            };
            if quorum::election_won(granted, election) {
                self.start_election(false);
            }
        } else if !granted && epoch > self.hard.epoch {
            self.become_follower(epoch, None);
        } else if !granted && from_voter && epoch == self.hard.epoch {
            // A refusal carries the voter's own epoch. One from an older
            // epoch is stale (an earlier round, or a voter that has not
            // caught up): like every older-epoch message it changes
            // nothing, as in etcd, which drops lower-term responses.
            let refused = tally.record_refusal(from);
            if quorum::election_lost(refused, voters, election) {
                self.become_follower(self.hard.epoch, None);
            }
        }
    }

    /// A vote request in our current epoch (after any epoch bump): grant at
    /// most one vote per epoch, persisted before the reply, and only to a
    /// candidate at least as up to date as this replica, whatever either's
    /// role in this replica's membership (see the module docs). A candidate
    /// or leader has voted for itself and refuses; a pre-candidate that
    /// grants gives up its pre-vote round and follows.
    pub(super) fn handle_vote_request(&mut self, from: NodeId, last: Position) {
        let granted = self.can_vote_for(from)
            && self.vote_check_passes(last)
            && self.old_vote_rule_allows(from);
        if granted {
            if self.hard.voted_for != Some(from) {
                self.hard.voted_for = Some(from);
                self.persist_hard_state();
            }
            if self.role() == Role::PreCandidate {
                self.become_follower(self.hard.epoch, None);
            } else {
                self.reset_election_deadline();
            }
        }
        self.send(
            from,
            Message::VoteResponse {
                epoch: self.hard.epoch,
                pre_vote: false,
                granted,
            },
        );
    }

    fn vote_check_passes(&self, last: Position) -> bool {
        planted!(self, VoteWithoutUpToDateCheck) || self.up_to_date(last)
    }

    /// Always true, except under the planted old vote rule
    /// ([`VoteOnlyAmongOwnVoters`](crate::planted)): then only while this
    /// replica's membership lists both itself and `candidate` as voters.
    fn old_vote_rule_allows(&self, candidate: NodeId) -> bool {
        !planted!(self, VoteOnlyAmongOwnVoters)
            || (self.membership.is_voter(self.config.id) && self.membership.is_voter(candidate))
    }

    pub(super) fn handle_vote_response(&mut self, from: NodeId, granted: bool) {
        let from_voter = self.membership.is_voter(from);
        let election = self.quorums().election;
        let voters = self.membership.voters.len();
        let RoleState::Candidate(tally) = &mut self.state else {
            return;
        };
        if !granted {
            if from_voter && quorum::election_lost(tally.record_refusal(from), voters, election) {
                // Lost: follow (keeping this epoch's vote for itself) and
                // try again when the timer fires.
                self.become_follower(self.hard.epoch, None);
            }
            return;
        }
        let granted = if from_voter {
            tally.record_grant(from)
        } else {
            tally.votes.len()
        };
        if quorum::election_won(granted, election) {
            self.become_leader();
        }
    }

    /// The leader asked us to take over: campaign at once, skipping pre-vote.
    pub(super) fn handle_timeout_now(&mut self, from: NodeId) {
        if self.role() == Role::Follower && self.leader == Some(from) {
            self.start_election(true);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::entry::HardState;
    use crate::replica::{Durable, Output, Replica, Role};
    use crate::types::{Epoch, Instant, NodeId, Position};
    use crate::wire::Message;
    use crate::Config;

    /// Found by the `cluster` fuzz target: at the last epoch, `campaign`
    /// reused the current epoch and voted a second time in it. A replica
    /// that had voted for n2 in epoch u64::MAX then voted for itself in the
    /// same epoch, and two leaders could be elected there.
    #[test]
    fn no_second_vote_when_the_epoch_space_is_exhausted() {
        let last = Epoch(u64::MAX);
        let ids = [NodeId(1), NodeId(2), NodeId(3)];
        let mut config = Config::new(NodeId(1), ids);
        config.pre_vote = false;
        let durable = Durable {
            hard_state: HardState {
                epoch: last,
                voted_for: None,
            },
            ..Durable::default()
        };
        let mut replica = Replica::restart(config, durable, Instant(0)).unwrap();
        let vote = Message::RequestVote {
            epoch: last,
            last: Position::ZERO,
            pre_vote: false,
            transfer: false,
        };
        replica.handle_message(Instant(1), NodeId(2), vote).unwrap();
        assert_eq!(replica.hard_state().voted_for, Some(NodeId(2)));
        while replica.poll_output().is_some() {}

        // The election timer fires: a new election is impossible.
        let deadline = replica.poll_timeout().unwrap();
        replica.handle_timeout(deadline);
        assert_eq!(replica.role(), Role::Follower);
        assert_eq!(replica.epoch(), last);
        assert_eq!(replica.hard_state().voted_for, Some(NodeId(2)));
        while let Some(output) = replica.poll_output() {
            assert!(
                !matches!(output, Output::PersistHardState(_) | Output::Send { .. }),
                "no vote and no vote request in an exhausted epoch: {output:?}"
            );
        }
        assert!(
            replica.poll_timeout().unwrap() > deadline,
            "the timer was re-armed"
        );
    }
}
