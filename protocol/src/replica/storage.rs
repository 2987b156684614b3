//! What the host's storage tells a replica: the durable state it is rebuilt
//! from after a crash, and how far the log has become durable since.

use super::log::Log;
use super::role_state::RoleState;
use super::{Durable, Replica};
use crate::config::{Config, ConfigError};
use crate::rng::SplitMix64;
use crate::types::{Instant, Lsn, Position};
use std::collections::VecDeque;

impl Replica {
    /// [`restart`](Replica::restart) (and [`new`](Replica::new), with
    /// nothing durable): the log restarts after the snapshot's position,
    /// the membership is recovered from the log (else the snapshot, else
    /// the config), and the replica follows (or learns) with no leader.
    pub(super) fn rebuild(
        config: Config,
        durable: Durable,
        now: Instant,
    ) -> Result<Replica, ConfigError> {
        config.validate()?;
        let base = durable
            .snapshot
            .as_ref()
            .map_or(Position::ZERO, |s| s.position);
        let base_membership = durable
            .snapshot
            .as_ref()
            .map_or_else(|| config.membership(), |s| s.membership.clone());
        let log = Log::from_parts(base, durable.log);
        let applied = durable.applied.max(base.lsn).min(log.last().lsn);
        let rng = SplitMix64::new(config.seed ^ config.id.0.wrapping_mul(0x9E37_79B9_7F4A_7C15));
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
            #[cfg(feature = "planted-bugs")]
            planted_bug: None,
            config,
        };
        replica.recompute_membership();
        replica.state = RoleState::following(replica.is_voter());
        replica.outputs.clear();
        replica.reset_election_deadline();
        Ok(replica)
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
            RoleState::Follower | RoleState::Learner => self.acknowledge(),
            RoleState::PreCandidate(_) | RoleState::Candidate(_) => {}
        }
    }
}
