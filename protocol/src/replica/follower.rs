//! Following: the log-matching check, divergence and truncation, persisting
//! before acknowledging, and applying what the leader committed.

use super::role_state::RoleState;
use super::{InputError, Output, ProposalOutcome, Replica, Role};
use crate::entry::{Entry, HardState};
use crate::types::{Epoch, Lsn, NodeId, Position};
use crate::wire::{AppendResult, Message};

/// Reject appends no correct leader would send: entries must follow `prev`
/// consecutively, with epochs that never decrease, never precede `prev`'s,
/// and never exceed the leader's own epoch.
pub(super) fn validate_append(
    epoch: Epoch,
    prev: Position,
    entries: &[Entry],
) -> Result<(), InputError> {
    if prev.epoch > epoch {
        return Err(InputError::MalformedAppend(
            "prev epoch is newer than the leader's epoch",
        ));
    }
    let mut expected = prev;
    for entry in entries {
        if entry.lsn != expected.lsn.next() || expected.lsn.0 == u64::MAX {
            return Err(InputError::MalformedAppend(
                "entries are not consecutive after prev",
            ));
        }
        if entry.epoch < expected.epoch || entry.epoch > epoch {
            return Err(InputError::MalformedAppend(
                "entry epochs must be non-decreasing and at most the leader's epoch",
            ));
        }
        if entry.membership().is_some_and(|m| !well_formed(m)) {
            return Err(InputError::MalformedAppend(
                "a membership entry has no voters or a voter that is also a learner",
            ));
        }
        expected = entry.position();
    }
    Ok(())
}

/// A membership with a voter, and no node both voter and learner (what a
/// restart accepts: see [`RestartError`](super::RestartError)).
pub(super) fn well_formed(membership: &crate::membership::Membership) -> bool {
    !membership.voters.is_empty()
        && membership
            .voters
            .intersection(&membership.learners)
            .next()
            .is_none()
}

impl Replica {
    /// Step down to follower (or learner) in `epoch`, which is at least the
    /// current one; persists the new epoch (with no vote) if it is newer.
    /// A leader's pending proposals and reads fail with its leadership.
    pub(super) fn become_follower(&mut self, epoch: Epoch, leader: Option<NodeId>) {
        if epoch > self.hard.epoch {
            self.hard = HardState {
                epoch,
                voted_for: None,
            };
            self.persist_hard_state();
            self.verified = Lsn(0);
        }
        let following = RoleState::following(self.may_campaign());
        let previous = std::mem::replace(&mut self.state, following);
        self.leader = leader;
        self.leader_round = 0;
        if let RoleState::Leader(reign) = previous {
            for (_, request) in reign.pending {
                self.outputs.push_back(Output::Reply {
                    request,
                    outcome: ProposalOutcome::LeadershipLost { leader },
                });
            }
            self.fail_reads(reign.reads, leader);
        }
        self.reset_election_deadline();
        self.announce_role();
    }

    /// An `Append` in this replica's current epoch.
    pub(super) fn handle_append(
        &mut self,
        from: NodeId,
        prev: Position,
        entries: Vec<Entry>,
        leader_commit: Lsn,
        round: u64,
    ) -> Result<(), InputError> {
        self.accept_leader(from)?;
        self.leader_round = self.leader_round.max(round);
        let base = self.log.base();
        let (prev, entries) = if prev.lsn < base.lsn {
            // Everything through the base is committed here and covered by
            // a snapshot: skip it, and agree from the base on, unless the
            // leader's entry at the base contradicts it.
            if entries
                .iter()
                .any(|e| e.lsn == base.lsn && e.epoch != base.epoch)
            {
                self.reject_append(from, prev);
                return Ok(());
            }
            let entries: Vec<Entry> = entries.into_iter().filter(|e| e.lsn > base.lsn).collect();
            (base, entries)
        } else {
            (prev, entries)
        };

        if !self.log.contains(prev) {
            self.reject_append(from, prev);
            return Ok(());
        }

        let through = entries.last().map_or(prev.lsn, |e| e.lsn);
        // Entries this log already holds are skipped; at the first it does
        // not, a conflicting suffix is truncated, and from there on every
        // entry is new (they are consecutive). The message's own vector
        // carries them to storage, without a copy.
        let mut entries = entries;
        let held = entries
            .iter()
            .take_while(|e| self.log.epoch_at(e.lsn) == Some(e.epoch))
            .count();
        entries.drain(..held);
        if let Some(first) = entries.first() {
            if self.log.epoch_at(first.lsn).is_some() {
                self.truncate_after(first.lsn.prev());
            }
            if first.lsn != self.log.last().lsn.next() {
                entries.clear();
            }
        }
        let mut membership_changed = false;
        for entry in &entries {
            membership_changed |= entry.membership().is_some();
            self.log.push(entry.clone());
        }
        let awaiting_persistence = !entries.is_empty();
        if awaiting_persistence {
            self.outputs.push_back(Output::Append { entries });
        }
        if membership_changed {
            self.recompute_membership();
        }
        self.verified = self.verified.max(through);
        let commit = leader_commit.min(self.verified);
        if commit > self.commit {
            self.commit = commit;
            self.apply_committed();
            // A pending removal of this replica may just have committed.
            self.adapt_role();
        }
        // New entries are acknowledged once the host reports them durable
        // (`handle_persisted`); anything else (a heartbeat, a duplicate) is
        // answered at once, so the leader learns how far this log matches.
        if !awaiting_persistence {
            self.acknowledge();
        }
        Ok(())
    }

    fn reject_append(&mut self, from: NodeId, prev: Position) {
        let hint = self.log.last_at_or_below(prev.lsn, prev.epoch);
        self.send(
            from,
            Message::AppendResponse {
                epoch: self.hard.epoch,
                result: AppendResult::Rejected {
                    rejected_prev: prev.lsn,
                    hint,
                },
                round: self.leader_round,
            },
        );
    }

    /// A message only a leader sends (an append or a snapshot chunk) came
    /// from `from` in this replica's epoch: follow it.
    pub(super) fn accept_leader(&mut self, from: NodeId) -> Result<(), InputError> {
        match self.role() {
            Role::Leader => {
                return Err(InputError::ConflictingLeader {
                    from,
                    epoch: self.hard.epoch,
                })
            }
            Role::PreCandidate | Role::Candidate => {
                self.become_follower(self.hard.epoch, Some(from))
            }
            Role::Follower | Role::Learner => {
                if self.leader != Some(from) {
                    self.leader = Some(from);
                    self.leader_round = 0;
                    self.announce_role();
                }
            }
        }
        self.last_leader_contact = Some(self.now);
        self.reset_election_deadline();
        Ok(())
    }

    /// Remove everything after `after`, reporting it. Entries at or below the
    /// commit point can only be removed when the durability policy does not
    /// survive failover and a new leader lacks them: that loss is reported as
    /// [`Output::RolledBack`] for the entries already applied.
    pub(super) fn truncate_after(&mut self, after: Lsn) {
        let discarded = self.log.truncate_after(after);
        if discarded.is_empty() {
            return;
        }
        let membership_discarded = self.membership_lsn > after;
        self.persisted = self.persisted.min(after);
        self.verified = self.verified.min(after);
        if after < self.applied {
            let rolled_back: Vec<Entry> = discarded
                .iter()
                .filter(|e| e.lsn <= self.applied)
                .cloned()
                .collect();
            self.applied = after;
            self.outputs.push_back(Output::RolledBack {
                entries: rolled_back,
            });
        }
        self.commit = self.commit.min(after);
        self.outputs
            .push_back(Output::Truncated { after, discarded });
        if membership_discarded {
            self.recompute_membership();
        }
        self.adapt_role();
    }

    /// Tell the leader how far this replica's log matches its own and is durable.
    pub(super) fn acknowledge(&mut self) {
        self.acknowledged();
        let Some(leader) = self.leader else {
            return;
        };
        self.send(
            leader,
            Message::AppendResponse {
                epoch: self.hard.epoch,
                result: AppendResult::Accepted {
                    matched: self.persisted.min(self.verified),
                    applied: self.applied,
                },
                round: self.leader_round,
            },
        );
    }

    /// Answer a message from an older epoch so its sender learns it was
    /// superseded; stale responses are dropped.
    pub(super) fn fence(&mut self, from: NodeId, message: &Message) {
        let reply = match message {
            Message::Append { prev, .. } => Message::AppendResponse {
                epoch: self.hard.epoch,
                result: AppendResult::Rejected {
                    rejected_prev: prev.lsn,
                    hint: Position::ZERO,
                },
                round: 0,
            },
            Message::RequestVote { .. } => Message::VoteResponse {
                epoch: self.hard.epoch,
                pre_vote: false,
                granted: false,
            },
            Message::TimeoutNow { .. } => Message::AppendResponse {
                epoch: self.hard.epoch,
                result: AppendResult::Rejected {
                    rejected_prev: Lsn(0),
                    hint: Position::ZERO,
                },
                round: 0,
            },
            Message::InstallSnapshot { snapshot, .. } => Message::InstallSnapshotResponse {
                epoch: self.hard.epoch,
                snapshot: snapshot.position,
                next_offset: 0,
            },
            Message::AppendResponse { .. }
            | Message::VoteResponse { .. }
            | Message::InstallSnapshotResponse { .. } => return,
        };
        self.send(from, reply);
    }
}
