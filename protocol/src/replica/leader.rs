//! Leading: accepting proposals, shipping entries with flow control,
//! tracking follower progress, and the commit rule of the durability policy.

use super::progress::{Progress, ReplicationState};
use super::{InputError, Output, ProposalOutcome, ProposeError, Replica, Role};
use crate::entry::{Entry, EntryKind, RequestId};
use crate::planted::planted;
use crate::types::{Instant, Lsn, NodeId, Position};
use crate::wire::{AppendResult, Message};

impl Replica {
    /// Propose a client write. On the leader, the command is appended and
    /// replicated, and its position returned; an [`Output::Reply`] with
    /// [`ProposalOutcome::Committed`] follows once the durability policy is
    /// met (or `LeadershipLost` if leadership is lost first). Elsewhere the
    /// proposal is refused with a leader hint, and so it is on a leader that
    /// has removed itself (it only finishes handing over).
    pub fn propose(
        &mut self,
        now: Instant,
        request: RequestId,
        command: Vec<u8>,
    ) -> Result<Position, ProposeError> {
        self.advance_time(now);
        if self.role != Role::Leader {
            return Err(ProposeError::NotLeader {
                leader: self.leader,
            });
        }
        if self.transfer.is_some() {
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
        self.pending.insert(position.lsn, request);
        for peer in self.peers() {
            self.replicate_to(peer, false);
        }
        Ok(position)
    }

    /// Hand leadership to `target`, a voting follower: stop accepting
    /// proposals, bring it up to date, then tell it to campaign at once.
    /// The transfer is abandoned after an election timeout.
    pub fn transfer_leadership(&mut self, now: Instant, target: NodeId) -> Result<(), InputError> {
        self.advance_time(now);
        if self.role != Role::Leader {
            return Err(InputError::NotLeader);
        }
        if target == self.config.id || !self.membership.is_voter(target) {
            return Err(InputError::BadTransferTarget(target));
        }
        self.transfer = Some((target, self.now + self.config.election_timeout_max));
        self.maybe_send_timeout_now();
        self.replicate_to(target, false);
        Ok(())
    }

    /// Win an election: announce, append a no-op of the new epoch (old entries
    /// commit only behind an entry of the leader's own epoch), replicate.
    pub(super) fn become_leader(&mut self) {
        self.role = Role::Leader;
        self.leader = Some(self.config.id);
        self.votes.clear();
        self.transfer = None;
        let last = self.log.last().lsn;
        self.progress = self
            .peers()
            .into_iter()
            .map(|peer| (peer, Progress::new(last)))
            .collect();
        self.heartbeat_deadline = self.now + self.config.heartbeat_interval;
        self.check_quorum_deadline = self.now + self.config.election_timeout_min;
        self.announce_role();
        let noop = self.append_own(EntryKind::Noop);
        self.reset_leader_reads(noop.lsn);
        for peer in self.peers() {
            self.replicate_to(peer, true);
        }
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
        self.outputs.push_back(Output::Append {
            entries: vec![entry],
        });
        position
    }

    /// Send `peer` what it is missing, within the flow-control window. With
    /// `heartbeat`, send an (empty) append even when there is nothing new.
    pub(super) fn replicate_to(&mut self, peer: NodeId, heartbeat: bool) {
        let Some(pr) = self.progress.get(&peer).copied() else {
            return;
        };
        let last = self.log.last().lsn;
        let (max_count, max_bytes) = match pr.state {
            // Snapshot transfers run on their own (`snapshot.rs`).
            ReplicationState::Snapshot => return,
            ReplicationState::Probe if pr.probe_outstanding && !heartbeat => return,
            ReplicationState::Probe => (
                self.config.max_entries_per_message,
                self.config.max_bytes_in_flight,
            ),
            ReplicationState::Replicate => {
                let in_flight = usize::try_from(pr.in_flight()).unwrap_or(usize::MAX);
                let bytes = self.log.bytes_between(pr.matched, pr.next.prev());
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
        let prev_lsn = pr.next.prev();
        if prev_lsn < self.log.base().lsn {
            // The entries this follower needs next were compacted away.
            self.start_snapshot(peer);
            return;
        }
        let Some(prev_epoch) = self.log.epoch_at(prev_lsn) else {
            return;
        };
        let entries = if max_count == 0 || pr.next > last {
            Vec::new()
        } else {
            self.log.slice(pr.next, max_count, max_bytes)
        };
        if entries.is_empty() && !heartbeat {
            return;
        }
        if let Some(pr) = self.progress.get_mut(&peer) {
            match pr.state {
                ReplicationState::Probe => pr.probe_outstanding = true,
                ReplicationState::Replicate => {
                    if let Some(end) = entries.last() {
                        pr.next = end.lsn.next();
                    }
                }
                ReplicationState::Snapshot => {}
            }
        }
        let message = Message::Append {
            epoch: self.hard.epoch,
            prev: Position::new(prev_epoch, prev_lsn),
            entries,
            commit: self.commit,
            round: self.reads.round(),
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
        if self.role != Role::Leader {
            return;
        }
        // Any answer in this epoch confirms this leader up to its round.
        self.on_round_echo(from, round);
        let last = self.log.last();
        let Some(pr) = self.progress.get_mut(&from) else {
            return;
        };
        pr.recently_active = true;
        match result {
            AppendResult::Accepted { matched, applied } => {
                let matched = matched.min(last.lsn);
                pr.applied = pr.applied.max(applied.min(matched));
                if pr.state == ReplicationState::Snapshot {
                    // An answer to an append sent before the transfer
                    // began: the snapshot decides where this follower goes.
                    return;
                }
                pr.probe_outstanding = false;
                if pr.state == ReplicationState::Probe {
                    pr.state = ReplicationState::Replicate;
                    pr.next = pr.next.max(matched.next());
                }
                if matched > pr.matched {
                    pr.matched = matched;
                    pr.next = pr.next.max(matched.next());
                    self.advance_commit();
                }
                self.maybe_send_timeout_now();
            }
            AppendResult::Rejected {
                rejected_prev,
                hint,
            } => {
                let stale = match pr.state {
                    ReplicationState::Replicate => rejected_prev <= pr.matched,
                    ReplicationState::Probe => rejected_prev != pr.next.prev(),
                    ReplicationState::Snapshot => true,
                };
                if stale {
                    return;
                }
                let base = self.log.base();
                if base.lsn > Lsn(0) && rejected_prev <= base.lsn && hint != base {
                    // The follower lacks even our oldest retained entry.
                    pr.next = base.lsn.max(pr.matched.next());
                    pr.state = ReplicationState::Probe;
                    pr.probe_outstanding = false;
                    self.replicate_to(from, false);
                    return;
                }
                // Skip every entry that cannot match: the follower's last
                // position at or below the rejected prev tells us its epoch;
                // our log's last entry at or below that with no newer epoch
                // is the next candidate for agreement.
                let agree = self.log.last_at_or_below(hint.lsn, hint.epoch);
                pr.next = agree.lsn.max(pr.matched).next();
                pr.state = ReplicationState::Probe;
                pr.probe_outstanding = false;
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
    fn policy_commit_point(&self) -> Lsn {
        let quorum = self.commit_quorum_size();
        let me = self.config.id;
        let mut followers: Vec<Lsn> = self
            .membership
            .voters
            .iter()
            .filter(|&&v| v != me)
            .map(|v| self.progress.get(v).map_or(Lsn(0), |p| p.matched))
            .collect();
        followers.sort_unstable_by(|a, b| b.cmp(a));
        let needed_followers = if self.is_voter() {
            quorum.saturating_sub(1)
        } else {
            quorum
        };
        if needed_followers == 0 {
            return self.persisted;
        }
        followers
            .get(needed_followers - 1)
            .map_or(Lsn(0), |lsn| (*lsn).min(self.persisted))
    }

    /// Advance the commit point if the policy allows, but only to an entry of
    /// this leader's epoch (earlier entries commit behind it).
    pub(super) fn advance_commit(&mut self) {
        if self.role != Role::Leader {
            return;
        }
        let candidate = self.policy_commit_point();
        let own_epoch = self.log.epoch_at(candidate) == Some(self.hard.epoch);
        let counts_old_epochs = planted!(self, CommitOldEpochEntries);
        if candidate <= self.commit || !(own_epoch || counts_old_epochs) {
            return;
        }
        self.commit = candidate;
        self.apply_committed();
        let epoch = self.hard.epoch;
        let done: Vec<Lsn> = self.pending.range(..=candidate).map(|(l, _)| *l).collect();
        for lsn in done {
            if let Some(request) = self.pending.remove(&lsn) {
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
        for pr in self.progress.values_mut() {
            match pr.state {
                ReplicationState::Probe => pr.probe_outstanding = false,
                ReplicationState::Replicate if pr.matched < last => {
                    pr.next = pr.matched.next();
                }
                ReplicationState::Replicate | ReplicationState::Snapshot => {}
            }
        }
        self.snapshot_heartbeat();
        for peer in self.peers() {
            self.replicate_to(peer, true);
        }
        self.heartbeat_deadline = self.now + self.config.heartbeat_interval;
    }

    /// Check-quorum: step down unless enough voters were heard from since the
    /// last round that no other leader can have been elected meanwhile.
    pub(super) fn check_quorum(&mut self) {
        let me = self.config.id;
        let active = self
            .membership
            .voters
            .iter()
            .filter(|&&v| v == me || self.progress.get(&v).is_some_and(|p| p.recently_active))
            .count();
        for pr in self.progress.values_mut() {
            pr.recently_active = false;
        }
        if active < self.check_quorum_size() {
            self.become_follower(self.hard.epoch, None);
        } else {
            self.check_quorum_deadline = self.now + self.config.election_timeout_min;
        }
    }

    /// Leadership transfer: once the target holds our whole log, tell it to campaign.
    fn maybe_send_timeout_now(&mut self) {
        let Some((target, _)) = self.transfer else {
            return;
        };
        let last = self.log.last().lsn;
        if self
            .progress
            .get(&target)
            .is_some_and(|p| p.matched >= last)
        {
            self.revoke_lease();
            self.send(
                target,
                Message::TimeoutNow {
                    epoch: self.hard.epoch,
                },
            );
        }
    }
}
