//! Small helpers every part of the replica uses: time, membership lookups,
//! emitting outputs, the election timer and applying committed entries.

use super::{Output, Replica};
use crate::types::{Instant, NodeId};
use crate::wire::Message;
use std::time::Duration;

impl Replica {
    /// Time never goes back: an earlier `now` counts as the latest seen.
    pub(super) fn advance_time(&mut self, now: Instant) {
        self.now = self.now.max(now);
    }

    /// A voter or learner of the membership in force.
    pub(super) fn is_member(&self, id: NodeId) -> bool {
        self.membership.contains(id)
    }

    /// This replica votes in the membership in force.
    pub(super) fn is_voter(&self) -> bool {
        self.membership.is_voter(self.config.id)
    }

    /// Peers this replica replicates to when leading: every member but itself.
    pub(super) fn peers(&self) -> Vec<NodeId> {
        let me = self.config.id;
        self.membership.members().filter(|&id| id != me).collect()
    }

    pub(super) fn send(&mut self, to: NodeId, message: Message) {
        self.outputs.push_back(Output::Send { to, message });
    }

    pub(super) fn persist_hard_state(&mut self) {
        self.outputs.push_back(Output::PersistHardState(self.hard));
    }

    pub(super) fn announce_role(&mut self) {
        self.outputs.push_back(Output::RoleChanged {
            role: self.role(),
            epoch: self.hard.epoch,
            leader: self.leader,
        });
    }

    /// Re-arm the election timer, with jitter from the seeded generator.
    pub(super) fn reset_election_deadline(&mut self) {
        let min = self.config.election_timeout_min;
        let span = self
            .config
            .election_timeout_max
            .saturating_sub(min)
            .as_millis()
            .max(1);
        let span = u64::try_from(span).unwrap_or(u64::MAX);
        let jitter = Duration::from_millis(self.rng.below(span));
        self.election_deadline = self.now + min + jitter;
    }

    /// Apply every committed entry not yet applied.
    pub(super) fn apply_committed(&mut self) {
        if self.commit > self.applied {
            let entries = self.log.range(self.applied, self.commit);
            if let Some(last) = entries.last() {
                self.applied = last.lsn;
                self.outputs.push_back(Output::Apply { entries });
            }
        }
    }

    /// In debug builds, panic with the broken invariant and the input that
    /// broke it; release builds skip the check (checkers call
    /// [`check_invariants`](Replica::check_invariants) themselves).
    pub(super) fn debug_check_invariants(&self, input: &str) {
        if cfg!(debug_assertions) {
            // At a (re)start too: `restart` refuses durable state that
            // would break an invariant.
            if let Err(violation) = self.check_invariants() {
                panic!(
                    "replica {} broke an invariant in {input}: {violation}",
                    self.config.id
                );
            }
        }
    }
}
