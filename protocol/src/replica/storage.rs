//! What the host's storage tells a replica: the durable state it is rebuilt
//! from after a crash (checked first: see [`validate`]), and how far the
//! log has become durable since.

use super::log::Log;
use super::role_state::RoleState;
use super::{Durable, MembershipSource, Replica, RestartError};
use crate::config::Config;
use crate::entry::Entry;
use crate::membership::Membership;
use crate::rng::SplitMix64;
use crate::types::{Instant, Lsn, Position};
use std::collections::VecDeque;
use std::sync::Arc;

/// Check `durable` as [`Replica::restart`] promises: everything a correct
/// host writes passes, and whatever fails is named.
///
/// With `base` the snapshot's position (zero without one): the log starts
/// at lsn 1 through `base + 1`; its lsns are contiguous and its epochs
/// non-decreasing, none past the hard state's (nor the snapshot's); it
/// agrees with the snapshot (the entry at `base.lsn`, if held, is `base`;
/// entries below are of `base.epoch` or older, entries above of it or
/// newer); every membership is well-formed; and `applied` lies in
/// `[base.lsn, last]`, `last` being the log's or snapshot's last lsn.
pub(super) fn validate(durable: &Durable) -> Result<(), RestartError> {
    let epoch = durable.hard_state.epoch;
    let snapshot = durable.snapshot.as_ref();
    let base = snapshot.map_or(Position::ZERO, |s| s.position);
    if let Some(meta) = snapshot {
        if base.epoch > epoch {
            return Err(RestartError::SnapshotPastHardState {
                snapshot: base,
                epoch,
            });
        }
        check_membership(&meta.membership, MembershipSource::Snapshot(base))?;
    }
    if let Some(first) = durable.log.first() {
        let latest = if snapshot.is_some() {
            Lsn(base.lsn.0.saturating_add(1))
        } else {
            Lsn(1)
        };
        if first.lsn.0 == 0 || first.lsn > latest {
            return Err(RestartError::BadLogStart {
                first: first.lsn,
                latest,
            });
        }
    }
    let mut previous: Option<&Entry> = None;
    for entry in &durable.log {
        if let Some(previous) = previous {
            let expected = previous.lsn.0.checked_add(1).map(Lsn);
            if expected != Some(entry.lsn) {
                return Err(RestartError::LogGap {
                    previous: previous.lsn,
                    found: entry.lsn,
                    expected: previous.lsn.next(),
                });
            }
            if entry.epoch < previous.epoch {
                return Err(RestartError::LogEpochRegression {
                    lsn: entry.lsn,
                    epoch: entry.epoch,
                    previous: previous.epoch,
                });
            }
        }
        previous = Some(entry);
        if entry.epoch > epoch {
            return Err(RestartError::LogPastHardState {
                entry: entry.position(),
                epoch,
            });
        }
        if snapshot.is_some() {
            check_against_snapshot(entry, base)?;
        }
        if let Some(membership) = entry.membership() {
            check_membership(membership, MembershipSource::Entry(entry.lsn))?;
        }
    }
    let last = durable.log.last().map_or(base.lsn, |e| e.lsn.max(base.lsn));
    if durable.applied > last {
        return Err(RestartError::AppliedPastLog {
            applied: durable.applied,
            last,
        });
    }
    if snapshot.is_some() && durable.applied < base.lsn {
        return Err(RestartError::AppliedBelowSnapshot {
            applied: durable.applied,
            snapshot: base,
        });
    }
    Ok(())
}

/// One entry of a log against the snapshot at `base`.
fn check_against_snapshot(entry: &Entry, base: Position) -> Result<(), RestartError> {
    let position = entry.position();
    if entry.lsn == base.lsn && entry.epoch != base.epoch {
        return Err(RestartError::SnapshotMismatch {
            snapshot: base,
            found: position,
        });
    }
    let before_and_newer = entry.lsn < base.lsn && entry.epoch > base.epoch;
    let after_and_older = entry.lsn > base.lsn && entry.epoch < base.epoch;
    if before_and_newer || after_and_older {
        return Err(RestartError::EpochAgainstSnapshot {
            entry: position,
            snapshot: base,
        });
    }
    Ok(())
}

/// A membership has voters, and no node is both voter and learner.
fn check_membership(membership: &Membership, origin: MembershipSource) -> Result<(), RestartError> {
    if membership.voters.is_empty() {
        return Err(RestartError::MembershipWithoutVoters { origin });
    }
    if let Some(&node) = membership.voters.intersection(&membership.learners).next() {
        return Err(RestartError::MembershipVoterAndLearner { origin, node });
    }
    Ok(())
}

impl Replica {
    /// [`restart`](Replica::restart) (and [`new`](Replica::new), with
    /// nothing durable), once `config` and `durable` are validated: the log
    /// restarts after the snapshot's position (skipping the entries it
    /// covers), the membership is recovered from the log (else the
    /// snapshot, else the config), and the replica follows (or learns)
    /// with no leader, its commit point at what the host applied.
    pub(super) fn rebuild(config: Config, durable: Durable, now: Instant) -> Replica {
        let base = durable
            .snapshot
            .as_ref()
            .map_or(Position::ZERO, |s| s.position);
        let base_membership = durable
            .snapshot
            .as_ref()
            .map_or_else(|| config.membership(), |s| s.membership.clone());
        let log = Log::from_parts(base, durable.log);
        debug_assert!(durable.applied >= base.lsn && durable.applied <= log.last().lsn);
        let applied = durable.applied.max(base.lsn).min(log.last().lsn);
        let rng = SplitMix64::new(config.jitter_seed());
        let mut replica = Replica {
            state: RoleState::Learner,
            membership: base_membership.clone(),
            membership_lsn: base.lsn,
            base_membership,
            snapshot: durable.snapshot,
            incoming: None,
            hard: durable.hard_state,
            persisted: log.last().lsn,
            log,
            leader: None,
            commit: applied,
            applied,
            verified: Lsn(0),
            leader_round: 0,
            now,
            election_deadline: now,
            last_leader_contact: None,
            restart_quiet_until: config
                .lease_max_drift
                .map(|_| now + config.election_timeout_min),
            rng,
            outputs: VecDeque::new(),
            due: Default::default(),
            #[cfg(feature = "planted-bugs")]
            planted_bug: None,
            config: Arc::new(config),
        };
        replica.recompute_membership();
        replica.state = RoleState::following(replica.may_campaign());
        replica.outputs.clear();
        replica.reset_election_deadline();
        replica
    }

    /// [`handle_persisted`](Replica::handle_persisted) after the time was
    /// advanced: a leader may commit more, a follower acknowledges.
    pub(super) fn record_persisted(&mut self, through: Position) {
        if through.lsn <= self.persisted || !self.log.contains(through) {
            return;
        }
        self.persisted = through.lsn;
        match self.state {
            RoleState::Leader(_) => self.advance_commit(),
            RoleState::Follower | RoleState::Learner => self.acknowledge_soon(),
            RoleState::PreCandidate(_) | RoleState::Candidate(_) => {}
        }
    }
}

#[cfg(test)]
#[path = "storage_tests.rs"]
mod tests;
