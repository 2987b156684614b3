//! The structural bound on a server's timer: how often it may fire.

use steadfast::{Epoch, Role};

/// How many times a server may fire its timer: a structural bound that
/// keeps the model finite without reference to time.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct TimerBudget {
    /// Firings while not leading (each starts a pre-vote or an election),
    /// over the server's whole life.
    pub elections: u8,
    /// Firings while leading, per reign (each is a heartbeat round).
    pub heartbeats: u8,
}

/// How many times a server's timer has fired.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct TimersFired {
    /// Firings while not leading.
    pub elections: u8,
    /// Firings while leading in `reign`.
    pub heartbeats: u8,
    /// The epoch the heartbeat count belongs to.
    pub reign: Epoch,
}

impl TimersFired {
    /// True when a timer firing now, in `role` and `epoch`, is within `budget`.
    pub(crate) fn allowed(&self, budget: TimerBudget, role: Role, epoch: Epoch) -> bool {
        if role == Role::Leader {
            let fired = if self.reign == epoch {
                self.heartbeats
            } else {
                0
            };
            fired < budget.heartbeats
        } else {
            self.elections < budget.elections
        }
    }

    /// Count one firing in `role` and `epoch`.
    pub(crate) fn record(&mut self, role: Role, epoch: Epoch) {
        if role == Role::Leader {
            if self.reign != epoch {
                self.reign = epoch;
                self.heartbeats = 0;
            }
            self.heartbeats = self.heartbeats.saturating_add(1);
        } else {
            self.elections = self.elections.saturating_add(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_timer_budget_counts_elections_for_life_and_heartbeats_per_reign() {
        let budget = TimerBudget {
            elections: 2,
            heartbeats: 1,
        };
        let mut fired = TimersFired::default();
        for _ in 0..2 {
            assert!(fired.allowed(budget, Role::Follower, Epoch(0)));
            fired.record(Role::Follower, Epoch(0));
        }
        assert!(!fired.allowed(budget, Role::Candidate, Epoch(1)));
        let none = TimerBudget {
            heartbeats: 0,
            ..budget
        };
        assert!(!fired.allowed(none, Role::Leader, Epoch(1)));
        assert!(fired.allowed(budget, Role::Leader, Epoch(1)));
        fired.record(Role::Leader, Epoch(1));
        assert!(!fired.allowed(budget, Role::Leader, Epoch(1)));
        assert!(
            fired.allowed(budget, Role::Leader, Epoch(3)),
            "a new reign has its own heartbeats"
        );
    }
}
