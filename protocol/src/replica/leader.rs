//! Leading: accepting proposals, shipping entries with flow control,
//! tracking follower progress, and the commit rule of the durability policy.

use super::leader_state::{LeaderState, Transfer};
use super::progress::ReplicationState;
use super::role_state::RoleState;
use super::{InputError, Output, ProposalOutcome, ProposeError, Replica};
use crate::entry::{Entry, EntryKind, RequestId};
use crate::membership::Membership;
use crate::planted::planted;
use crate::quorum;
use crate::types::{Lsn, NodeId, Position};
use crate::wire::{AppendResult, Message};

impl Replica {
    /// [`propose`](Replica::propose) after the time was advanced.
    pub(super) fn leader_propose(
        &mut self,
        request: RequestId,
        command: bytes::Bytes,
    ) -> Result<Position, ProposeError> {
        let Some(leader) = self.leading() else {
            return Err(ProposeError::NotLeader {
                leader: self.leader,
            });
        };
        if leader.transfer.is_some() {
            return Err(ProposeError::TransferInProgress);
        }
        if !self.is_voter() {
            // This leader removed itself: it leads only until the removal
            // commits, then hands over. A write appended now could commit
            // after that, and this node, no longer a member, would never
            // learn its fate.
            return Err(ProposeError::NotLeader { leader: None });
        }
        let position = self.append_own(EntryKind::Command(command));
        self.record_pending(position.lsn, request);
        // Shipped at the host's next drain, with every proposal before it.
        self.replicate_soon();
        Ok(position)
    }

    /// [`transfer_leadership`](Replica::transfer_leadership) after the time
    /// was advanced.
    ///
    /// A transfer to the leader itself cancels the pending one (as in
    /// etcd); asking again for the pending transfer changes nothing (its
    /// deadline is not re-armed, so repeating the request cannot keep
    /// writes refused for ever); a transfer to another voter replaces it.
    /// A target that is behind is sent what it lacks at once, from its
    /// match point: the last append to it may have been lost, and waiting
    /// for the next heartbeat would cost a heartbeat interval.
    pub(super) fn start_transfer(&mut self, target: NodeId) -> Result<(), InputError> {
        let deadline = self.now + self.config.election_timeout_max;
        let me = self.config.id;
        let target_votes = self.membership.is_voter(target);
        let hint = self.leader;
        let last = self.log.last().lsn;
        let Some(leader) = self.leading_mut() else {
            return Err(InputError::NotLeader { leader: hint });
        };
        if target == me {
            leader.transfer = None;
            return Ok(());
        }
        if !target_votes {
            return Err(InputError::BadTransferTarget(target));
        }
        if leader.transfer.is_some_and(|t| t.target == target) {
            return Ok(());
        }
        leader.transfer = Some(Transfer {
            target,
            deadline,
            timeout_now_sent: false,
        });
        if let Some(pr) = leader.progress.get_mut(&target) {
            if pr.matched() < last {
                // Retransmit from the match point now (a lost append would
                // otherwise wait for the next heartbeat tick).
                pr.heartbeat_tick(last);
            }
        }
        self.maybe_send_timeout_now();
        self.replicate_to(target, false);
        Ok(())
    }

    /// [`cancel_transfer`](Replica::cancel_transfer) after the time was
    /// advanced: drop the pending transfer, if any, and return its target.
    pub(super) fn stop_transfer(&mut self) -> Result<Option<NodeId>, InputError> {
        let hint = self.leader;
        let Some(leader) = self.leading_mut() else {
            return Err(InputError::NotLeader { leader: hint });
        };
        Ok(leader.transfer.take().map(|t| t.target))
    }

    /// A proposal for `request` was appended at `lsn` (after every pending
    /// one: the leader's log only grows): reply once it commits.
    pub(super) fn record_pending(&mut self, lsn: Lsn, request: RequestId) {
        if let Some(leader) = self.leading_mut() {
            leader.pending.push_back((lsn, request));
        }
    }

    /// Win an election: announce, append a no-op of the new epoch (old entries
    /// commit only behind an entry of the leader's own epoch), replicate.
    pub(super) fn become_leader(&mut self) {
        let last = self.log.last().lsn;
        self.state = RoleState::Leader(Box::new(LeaderState::new(
            self.peers(),
            last,
            self.now + self.config.heartbeat_interval,
            self.now + self.config.election_timeout_min,
        )));
        self.leader = Some(self.config.id);
        self.announce_role();
        let noop = self.append_own(EntryKind::Noop);
        self.reset_leader_reads(noop.lsn);
        self.replicate_to_peers(true);
        self.advance_commit();
    }

    pub(super) fn append_own(&mut self, kind: EntryKind) -> Position {
        let entry = Entry {
            epoch: self.hard.epoch,
            lsn: self.log.last().lsn.next(),
            kind,
        };
        let position = entry.position();
        self.log.push(entry.clone());
        // Consecutive appends not yet drained go to storage as one write.
        if let Some(Output::Append { entries }) = self.outputs.back_mut() {
            if entries.last().is_some_and(|e| e.lsn.next() == entry.lsn) {
                entries.push(entry);
                return position;
            }
        }
        self.outputs.push_back(Output::Append {
            entries: vec![entry],
        });
        position
    }

    /// Send `peer` what it is missing, within the flow-control window. With
    /// `heartbeat`, send an (empty) append even when there is nothing new.
    pub(super) fn replicate_to(&mut self, peer: NodeId, heartbeat: bool) {
        let Some(leader) = self.leading() else {
            return;
        };
        let Some(pr) = leader.progress.get(&peer).copied() else {
            return;
        };
        let round = leader.reads.round();
        let last = self.log.last().lsn;
        let (max_count, max_bytes) = match pr.state() {
            // Snapshot transfers run on their own (`snapshot.rs`).
            ReplicationState::Snapshot => return,
            ReplicationState::Probe if pr.probe_outstanding() && !heartbeat => return,
            ReplicationState::Probe => (
                self.config.max_entries_per_message,
                self.config.max_bytes_in_flight,
            ),
            ReplicationState::Replicate => {
                let in_flight = usize::try_from(pr.in_flight()).unwrap_or(usize::MAX);
                let bytes = self.log.bytes_between(pr.matched(), pr.next().prev());
                let count = self
                    .config
                    .max_entries_in_flight
                    .saturating_sub(in_flight)
                    .min(self.config.max_entries_per_message);
                let bytes = self.config.max_bytes_in_flight.saturating_sub(bytes);
                if (count == 0 || bytes == 0) && !heartbeat {
                    return;
                }
                (count, bytes.max(1))
            }
        };
        let prev_lsn = pr.next().prev();
        if prev_lsn < self.log.base().lsn {
            // The entries this follower needs next were compacted away.
            self.start_snapshot(peer);
            return;
        }
        let Some(prev_epoch) = self.log.epoch_at(prev_lsn) else {
            return;
        };
        let entries = if max_count == 0 || pr.next() > last {
            Vec::new()
        } else {
            self.log.slice(pr.next(), max_count, max_bytes)
        };
        if entries.is_empty() && !heartbeat {
            return;
        }
        let last_sent = entries.last().map(|e| e.lsn);
        if let Some(pr) = self
            .leading_mut()
            .and_then(|leader| leader.progress.get_mut(&peer))
        {
            pr.append_sent(last_sent);
        }
        let message = Message::Append {
            epoch: self.hard.epoch,
            prev: Position::new(prev_epoch, prev_lsn),
            entries,
            commit: self.commit,
            round,
        };
        self.send(peer, message);
    }

    /// A follower answered an append.
    pub(super) fn handle_append_response(
        &mut self,
        from: NodeId,
        result: AppendResult,
        round: u64,
    ) {
        if self.leading().is_none() {
            return;
        }
        // Any answer in this epoch confirms this leader up to its round.
        self.on_round_echo(from, round);
        let last = self.log.last();
        let base = self.log.base();
        let RoleState::Leader(leader) = &mut self.state else {
            return;
        };
        let Some(pr) = leader.progress.get_mut(&from) else {
            return;
        };
        pr.mark_active();
        match result {
            AppendResult::Accepted { matched, applied } => {
                let matched = matched.min(last.lsn);
                pr.record_applied(applied, matched);
                if pr.state() == ReplicationState::Snapshot {
                    // An answer to an append sent before the transfer
                    // began: the snapshot decides where this follower goes.
                    return;
                }
                if pr.state() == ReplicationState::Probe {
                    pr.become_replicate(matched);
                }
                if pr.maybe_update(matched) {
                    self.advance_commit();
                }
                self.maybe_send_timeout_now();
            }
            AppendResult::Rejected {
                rejected_prev,
                hint,
            } => {
                let stale = match pr.state() {
                    ReplicationState::Replicate => rejected_prev <= pr.matched(),
                    ReplicationState::Probe => rejected_prev != pr.next().prev(),
                    ReplicationState::Snapshot => true,
                };
                if stale {
                    return;
                }
                if base.lsn > Lsn(0) && rejected_prev <= base.lsn && hint != base {
                    // The follower lacks even our oldest retained entry.
                    pr.become_probe(base.lsn);
                    self.replicate_to(from, false);
                    return;
                }
                // Skip every entry that cannot match: the follower's last
                // position at or below the rejected prev tells us its epoch;
                // our log's last entry at or below that with no newer epoch
                // is the next candidate for agreement.
                let agree = self.log.last_at_or_below(hint.lsn, hint.epoch);
                pr.become_probe(agree.lsn.next());
            }
        }
        self.replicate_to(from, false);
    }

    /// The highest lsn the durability policy lets this leader commit: the
    /// leader's own durable prefix and the best `q - 1` voting followers.
    ///
    /// A leader that removed itself from the voters (its removal not yet
    /// committed) still requires its own durable copy but counts `q` voting
    /// followers instead.
    fn policy_commit_point(&self, leader: &LeaderState) -> Lsn {
        let me = self.config.id;
        let followers = self
            .membership
            .voters
            .iter()
            .filter(move |&&v| v != me)
            .map(|&v| leader.matched(v));
        quorum::commit_point(
            self.quorums().commit,
            self.persisted,
            self.is_voter(),
            followers,
        )
    }

    /// Advance the commit point if the policy allows, but only to an entry of
    /// this leader's epoch (earlier entries commit behind it).
    pub(super) fn advance_commit(&mut self) {
        let Some(leader) = self.leading() else {
            return;
        };
        let candidate = self.policy_commit_point(leader);
        let own_epoch = self.log.epoch_at(candidate) == Some(self.hard.epoch);
        let counts_old_epochs = planted!(self, CommitOldEpochEntries);
        if candidate <= self.commit || !(own_epoch || counts_old_epochs) {
            return;
        }
        self.commit = candidate;
        self.apply_committed();
        let epoch = self.hard.epoch;
        if let RoleState::Leader(leader) = &mut self.state {
            while let Some(&(lsn, request)) = leader.pending.front() {
                if lsn > candidate {
                    break;
                }
                leader.pending.pop_front();
                self.outputs.push_back(Output::Reply {
                    request,
                    outcome: ProposalOutcome::Committed(Position::new(epoch, lsn)),
                });
            }
        }
        self.serve_reads();
        self.step_down_if_removed();
    }

    /// Heartbeat tick: retransmit to followers that made no progress since
    /// the last tick, and send every follower at least an empty append.
    pub(super) fn heartbeat(&mut self) {
        self.expire_reads();
        self.start_read_round();
        let last = self.log.last().lsn;
        if let Some(leader) = self.leading_mut() {
            for pr in leader.progress.values_mut() {
                pr.heartbeat_tick(last);
            }
        }
        self.snapshot_heartbeat();
        self.replicate_to_peers(true);
        let next = self.now + self.config.heartbeat_interval;
        if let Some(leader) = self.leading_mut() {
            leader.heartbeat_deadline = next;
        }
    }

    /// Check-quorum: step down unless enough voters were heard from since the
    /// last round that no other leader can have been elected meanwhile.
    pub(super) fn check_quorum(&mut self) {
        let me = self.config.id;
        let next = self.now + self.config.election_timeout_min;
        let RoleState::Leader(leader) = &self.state else {
            return;
        };
        // Enough voters of `membership` were active to meet its every
        // election quorum.
        let holds_in = |membership: &Membership| {
            let active = membership
                .voters
                .iter()
                .filter(|&&v| {
                    v == me || leader.progress.get(&v).is_some_and(|p| p.recently_active())
                })
                .count();
            quorum::leadership_holds(active, self.check_quorum_of(membership))
        };
        // While a membership change is uncommitted, the membership it
        // replaced could still elect a rival: both must hold.
        let holds = holds_in(&self.membership) && self.superseded_membership().is_none_or(holds_in);
        let RoleState::Leader(leader) = &mut self.state else {
            return;
        };
        for pr in leader.progress.values_mut() {
            pr.take_activity();
        }
        if holds {
            leader.check_quorum_deadline = next;
        } else {
            self.become_follower(self.hard.epoch, None);
        }
    }

    /// Leadership transfer: once the target holds our whole log, tell it to
    /// campaign, once per transfer. (Sent on every later acknowledgement, a
    /// second copy would reach the target after its election had begun and
    /// be fenced as stale.) Should that one copy be lost, the transfer is
    /// abandoned at its deadline.
    pub(super) fn maybe_send_timeout_now(&mut self) {
        let last = self.log.last().lsn;
        let Some(leader) = self.leading_mut() else {
            return;
        };
        let Some(transfer) = leader.transfer.as_mut() else {
            return;
        };
        if !transfer.timeout_now_sent
            && leader
                .progress
                .get(&transfer.target)
                .is_some_and(|p| p.matched() >= last)
        {
            transfer.timeout_now_sent = true;
            let transfer = *transfer;
            self.revoke_lease();
            self.send(
                transfer.target,
                Message::TimeoutNow {
                    epoch: self.hard.epoch,
                },
            );
        }
    }
}
