//! Hashing a replica for model checkers: everything but the configuration.

use super::Replica;
use std::hash::{Hash, Hasher};

impl Hash for Replica {
    /// Everything but the configuration, which never changes in a
    /// replica's life: equal replicas still hash equal, and a model checker
    /// hashing millions of states does not hash the same configuration
    /// with each.
    fn hash<H: Hasher>(&self, state: &mut H) {
        let Replica {
            config: _,
            hard,
            log,
            state: role_state,
            leader,
            commit,
            applied,
            persisted,
            verified,
            leader_round,
            now,
            election_deadline,
            last_leader_contact,
            membership,
            membership_lsn,
            base_membership,
            snapshot,
            incoming,
            restart_quiet_until,
            rng,
            outputs,
            due,
            #[cfg(feature = "planted-bugs")]
            planted_bug,
        } = self;
        hard.hash(state);
        log.hash(state);
        role_state.hash(state);
        leader.hash(state);
        commit.hash(state);
        applied.hash(state);
        persisted.hash(state);
        verified.hash(state);
        leader_round.hash(state);
        now.hash(state);
        election_deadline.hash(state);
        last_leader_contact.hash(state);
        membership.hash(state);
        membership_lsn.hash(state);
        base_membership.hash(state);
        snapshot.hash(state);
        incoming.hash(state);
        restart_quiet_until.hash(state);
        rng.hash(state);
        outputs.hash(state);
        due.hash(state);
        #[cfg(feature = "planted-bugs")]
        planted_bug.hash(state);
    }
}
