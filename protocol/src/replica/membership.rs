//! Membership changes: one server at a time, as log entries that take
//! effect when appended; quorum sizes from the membership in force.

use super::progress::Progress;
use super::{Output, Replica, Role};
use crate::entry::{EntryKind, RequestId};
use crate::membership::{MembershipChange, MembershipError};
use crate::planted::planted;
use crate::types::{Instant, Lsn, NodeId, Position};
use crate::wire::Message;

impl Replica {
    /// Propose a single-server membership change (leader only). The change
    /// is appended as an [`EntryKind::Membership`] entry and takes effect at
    /// once on every replica that appends it; an [`Output::Reply`] for
    /// `request` follows when it commits, as for a write.
    ///
    /// Refused while an earlier change is uncommitted (one change at a
    /// time), before this leader has committed an entry of its own epoch
    /// (otherwise the change could conflict with an uncommitted change of
    /// an earlier leader and lose committed entries), during a leadership
    /// transfer, and for a promotion of a learner that is not caught up
    /// (its log matches through less than the leader's last lsn minus
    /// [`Config::max_entries_per_message`](crate::Config::max_entries_per_message)).
    pub fn propose_membership(
        &mut self,
        now: Instant,
        request: RequestId,
        change: MembershipChange,
    ) -> Result<Position, MembershipError> {
        self.advance_time(now);
        if self.role != Role::Leader {
            return Err(MembershipError::NotLeader {
                leader: self.leader,
            });
        }
        if self.transfer.is_some() {
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
            let matched = self.progress.get(&learner).map_or(Lsn(0), |p| p.matched);
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
        let position = self.append_own(EntryKind::Membership(next));
        self.pending.insert(position.lsn, request);
        self.recompute_membership();
        for peer in self.peers() {
            self.replicate_to(peer, false);
        }
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
        match self.role {
            Role::Leader => {
                let last = self.log.last().lsn;
                let peers = self.peers();
                self.progress.retain(|id, _| peers.contains(id));
                self.outgoing.retain(|id, _| peers.contains(id));
                for peer in peers {
                    self.progress
                        .entry(peer)
                        .or_insert_with(|| Progress::new(last));
                }
            }
            Role::Follower | Role::Learner => {
                let role = if self.is_voter() {
                    Role::Follower
                } else {
                    Role::Learner
                };
                if role != self.role {
                    self.role = role;
                    self.reset_election_deadline();
                    self.announce_role();
                }
            }
            Role::PreCandidate | Role::Candidate => {
                if !self.is_voter() {
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
        if self.role != Role::Leader || self.is_voter() || self.membership_lsn > self.commit {
            return;
        }
        let last = self.log.last().lsn;
        let caught_up = |id: &NodeId| {
            self.membership.is_voter(*id)
                && self.progress.get(id).is_some_and(|p| p.matched >= last)
        };
        // A transfer in progress names the successor; else the lowest id.
        let successor = self
            .transfer
            .map(|(target, _)| target)
            .filter(caught_up)
            .or_else(|| self.progress.keys().copied().find(caught_up));
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
            && self.role == Role::Follower
            && self.leader == Some(from)
    }

    /// Votes needed to win an election in the membership in force.
    pub(super) fn election_quorum_size(&self) -> usize {
        self.config
            .election_quorum
            .size(self.membership.voters.len(), self.config.durability)
    }

    /// Voters whose contact a leader needs within an election timeout to be
    /// sure no other leader was elected (meets every election quorum).
    pub(super) fn check_quorum_size(&self) -> usize {
        (self.membership.voters.len() + 1).saturating_sub(self.election_quorum_size())
    }

    /// Voters whose durable copy commits an entry, in the membership in force.
    pub(super) fn commit_quorum_size(&self) -> usize {
        self.config
            .durability
            .commit_quorum(self.membership.voters.len())
    }
}
