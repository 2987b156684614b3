//! Membership changes: one server at a time, as log entries that take
//! effect when appended; quorum sizes from the membership in force.

use super::progress::Progress;
use super::role_state::RoleState;
use super::{Output, Replica, Role};
use crate::entry::{Entry, EntryKind, RequestId};
use crate::membership::{Membership, MembershipChange, MembershipError};
use crate::planted::planted;
use crate::quorum::QuorumSizes;
use crate::types::{NodeId, Position};
use crate::wire::Message;

impl Replica {
    /// [`propose_membership`](Replica::propose_membership) after the time
    /// was advanced.
    pub(super) fn append_membership_change(
        &mut self,
        request: RequestId,
        change: MembershipChange,
    ) -> Result<Position, MembershipError> {
        let Some(leader) = self.leading() else {
            return Err(MembershipError::NotLeader {
                leader: self.leader,
            });
        };
        if leader.transfer.is_some() {
            return Err(MembershipError::TransferInProgress);
        }
        let planted = planted!(self, MembershipChangeBeforeOwnEpochCommit);
        if !planted && self.log.epoch_at(self.commit) != Some(self.hard.epoch) {
            return Err(MembershipError::LeaderNotReady);
        }
        if self.membership_lsn > self.commit {
            return Err(MembershipError::ChangeInProgress {
                pending: self.membership_lsn,
            });
        }
        let next = self.membership.apply(change)?;
        if let MembershipChange::PromoteLearner(learner) = change {
            let matched = leader.matched(learner);
            let last = self.log.last().lsn;
            let slack = u64::try_from(self.config.max_entries_per_message).unwrap_or(u64::MAX);
            if matched.0.saturating_add(slack) < last.0 {
                return Err(MembershipError::NotCaughtUp {
                    learner,
                    matched,
                    last,
                });
            }
        }
        let position = self.append_own(EntryKind::Membership(Box::new(next)));
        self.record_pending(position.lsn, request);
        self.recompute_membership();
        self.replicate_to_peers(false);
        // A smaller voter set may commit at once.
        self.advance_commit();
        Ok(position)
    }

    /// Set the membership from the latest membership entry in the log (or
    /// the base's), and adapt role and progress if it changed.
    pub(super) fn recompute_membership(&mut self) {
        let latest = self
            .log
            .entries()
            .iter()
            .rev()
            .find_map(|e| e.membership().map(|m| (m.clone(), e.lsn)));
        let (membership, lsn) =
            latest.unwrap_or_else(|| (self.base_membership.clone(), self.log.base().lsn));
        self.membership_lsn = lsn;
        if membership == self.membership {
            return;
        }
        self.membership = membership;
        self.outputs.push_back(Output::MembershipChanged {
            membership: self.membership.clone(),
        });
        let peers = self.peers();
        let last = self.log.last().lsn;
        if let RoleState::Leader(leader) = &mut self.state {
            leader.progress.retain(|id, _| peers.contains(id));
            leader.outgoing.retain(|id, _| peers.contains(id));
            for peer in peers {
                leader
                    .progress
                    .entry(peer)
                    .or_insert_with(|| Progress::new(last));
            }
        } else {
            self.adapt_role();
        }
    }

    /// Whether this replica may stand for election: it votes in the
    /// membership in force, or that membership comes from an uncommitted
    /// change that removed it from the voters of the one before.
    ///
    /// The second case keeps a cluster live. The membership in force is the
    /// latest in the log, committed or not, so the replica holding a
    /// pending removal of itself can be the only one with the whole log
    /// (typically the leader that removed itself and lost its leadership
    /// before the removal committed). The others then cannot win its vote,
    /// and if it could not campaign either, no leader would ever be elected
    /// (the liveness phase found this). It stands without counting its own
    /// vote, tallying the voters of its membership as any candidate does;
    /// if elected it commits the removal and hands over, as a leader that
    /// removed itself does. Election safety is unaffected: it rests on one
    /// vote per epoch per node and on the quorums of the memberships a
    /// candidate can hold intersecting, not on who the candidate is.
    pub(super) fn may_campaign(&self) -> bool {
        self.is_voter() || self.removal_pending()
    }

    /// The membership in force is an uncommitted change that removed this
    /// replica from the voters of the membership before it.
    fn removal_pending(&self) -> bool {
        self.superseded_membership()
            .is_some_and(|before| before.is_voter(self.config.id))
    }

    /// While the membership in force is uncommitted, the membership it
    /// replaced: a replica that has not appended the change may still be
    /// elected by a quorum of it, so whatever must exclude a rival leader
    /// (confirming a read, check-quorum) must meet that membership's
    /// quorums too. `None` once the change is committed.
    pub(super) fn superseded_membership(&self) -> Option<&Membership> {
        if self.membership_lsn <= self.commit {
            return None;
        }
        Some(
            self.log
                .entries()
                .iter()
                .rev()
                .filter(|e| e.lsn < self.membership_lsn)
                .find_map(Entry::membership)
                .unwrap_or(&self.base_membership),
        )
    }

    /// The check-quorum size (voters that must have answered to exclude a
    /// rival leader) of `membership`.
    pub(super) fn check_quorum_of(&self, membership: &Membership) -> usize {
        QuorumSizes::new(
            membership.voters.len(),
            self.config.durability,
            self.config.election_quorum,
        )
        .check
    }

    /// Fit a replica that does not lead to what it may do: follow (and
    /// campaign) when it may campaign, else learn; a (pre-)candidate that
    /// may no longer campaign follows.
    pub(super) fn adapt_role(&mut self) {
        let may_campaign = self.may_campaign();
        match &self.state {
            RoleState::Leader(_) => {}
            RoleState::Follower | RoleState::Learner => {
                let state = RoleState::following(may_campaign);
                if state != self.state {
                    self.state = state;
                    self.reset_election_deadline();
                    self.announce_role();
                }
            }
            RoleState::PreCandidate(_) | RoleState::Candidate(_) => {
                if !may_campaign {
                    self.become_follower(self.hard.epoch, self.leader);
                }
            }
        }
    }

    /// A leader that removed itself steps down once the removal commits,
    /// handing over with `TimeoutNow` to a voter that holds its whole log
    /// (the target of a transfer in progress, else the lowest id among
    /// them), so the cluster need not wait out an
    /// election timeout. With none caught up, the voters elect a leader
    /// as after any failure.
    pub(super) fn step_down_if_removed(&mut self) {
        let Some(leader) = self.leading() else {
            return;
        };
        if self.is_voter() || self.membership_lsn > self.commit {
            return;
        }
        let last = self.log.last().lsn;
        let caught_up = |id: &NodeId| {
            self.membership.is_voter(*id)
                && leader.progress.get(id).is_some_and(|p| p.matched() >= last)
        };
        // A transfer in progress names the successor; else the lowest id.
        let successor = leader
            .transfer
            .map(|transfer| transfer.target)
            .filter(caught_up)
            .or_else(|| leader.progress.keys().copied().find(caught_up));
        if let Some(successor) = successor {
            self.revoke_lease();
            let epoch = self.hard.epoch;
            self.send(successor, Message::TimeoutNow { epoch });
        }
        self.become_follower(self.hard.epoch, None);
    }

    /// A removed leader's hand-over: `TimeoutNow` in the current epoch from
    /// the leader this follower follows, though it is no longer a member.
    pub(super) fn is_handover_from_removed_leader(&self, from: NodeId, message: &Message) -> bool {
        matches!(message, Message::TimeoutNow { epoch } if *epoch == self.hard.epoch)
            && self.role() == Role::Follower
            && self.leader == Some(from)
    }

    /// Whether `message` is heard whatever this replica's membership says
    /// of its sender: a leader's replication traffic (an append or a
    /// snapshot chunk) of this replica's epoch or a later one, and a
    /// (pre-)vote request.
    ///
    /// A member's membership can leave out a correct peer for reasons only
    /// that peer can correct: an uncommitted change that removed it (which
    /// its appends, as leader, truncate), or a log that has not yet reached
    /// its addition (which its log, as the most up-to-date candidate,
    /// holds). At most one leader exists per epoch, so the sender of a
    /// current append is the leader; and a vote request is answered by the
    /// vote and log rules alone, as from a member (the candidate counts
    /// only the voters of its own membership). Refusing left clusters
    /// leaderless or members stranded for good (the liveness phase found
    /// both). A removed node that keeps campaigning cannot depose a live
    /// leader while check-quorum's leader stickiness holds, and cannot win
    /// without the committed removal in its log. Older epochs are fenced as
    /// usual, after this check.
    pub(super) fn heard_from_anyone(&self, message: &Message) -> bool {
        match message {
            Message::Append { epoch, .. } | Message::InstallSnapshot { epoch, .. } => {
                *epoch >= self.hard.epoch
            }
            Message::RequestVote { .. } => true,
            _ => false,
        }
    }

    /// The quorum sizes of the membership in force.
    pub(super) fn quorums(&self) -> QuorumSizes {
        QuorumSizes::new(
            self.membership.voters.len(),
            self.config.durability,
            self.config.election_quorum,
        )
    }
}
