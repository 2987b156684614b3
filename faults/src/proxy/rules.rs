//! What the proxies do to the frames between each *directed* pair of nodes.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// What happens to a frame from one node to another.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    /// It is forwarded at once.
    Pass,
    /// It is silently thrown away (the connection stays up).
    Drop,
    /// It is forwarded after this long (order kept).
    Delay {
        /// The delay in milliseconds.
        ms: u64,
    },
    /// The connection between the two nodes is closed, and new ones are
    /// closed as soon as their handshake says who they join. A connection
    /// carries both directions, so cutting one direction cuts the pair.
    Cut,
}

/// The action for every directed pair that is not [`Action::Pass`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rules {
    actions: BTreeMap<(u64, u64), Action>,
}

impl Rules {
    /// The action for frames from `from` to `to`.
    pub fn action(&self, from: u64, to: u64) -> Action {
        self.actions
            .get(&(from, to))
            .copied()
            .unwrap_or(Action::Pass)
    }

    /// Whether the connection between `a` and `b` must be closed.
    pub fn is_cut(&self, a: u64, b: u64) -> bool {
        self.action(a, b) == Action::Cut || self.action(b, a) == Action::Cut
    }

    /// Set the action for frames from `from` to `to`.
    pub fn set(&mut self, from: u64, to: u64, action: Action) {
        if action == Action::Pass {
            self.actions.remove(&(from, to));
        } else {
            self.actions.insert((from, to), action);
        }
    }

    /// Set `action` both ways between every node of `side` and every node
    /// of `other`.
    pub fn between(&mut self, side: &BTreeSet<u64>, other: &BTreeSet<u64>, action: Action) {
        for &a in side {
            for &b in other {
                if a != b {
                    self.set(a, b, action);
                    self.set(b, a, action);
                }
            }
        }
    }

    /// Whether every pair passes.
    pub fn is_healed(&self) -> bool {
        self.actions.is_empty()
    }

    /// The pairs that do not pass, for reports.
    pub fn describe(&self) -> Vec<String> {
        self.actions
            .iter()
            .map(|((from, to), action)| format!("{from}->{to}: {action:?}"))
            .collect()
    }
}

/// The rules every proxy of a cluster follows; changes reach live
/// connections at once.
#[derive(Clone, Debug)]
pub struct Network {
    rules: watch::Sender<Rules>,
    dropped: Arc<AtomicU64>,
}

impl Default for Network {
    fn default() -> Self {
        Network::new()
    }
}

impl Network {
    /// Every pair passes.
    pub fn new() -> Network {
        Network {
            rules: watch::Sender::new(Rules::default()),
            dropped: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Change the rules.
    pub fn update(&self, change: impl FnOnce(&mut Rules)) {
        self.rules.send_modify(change);
    }

    /// Every pair passes again.
    pub fn heal(&self) {
        self.rules.send_replace(Rules::default());
    }

    /// The rules now.
    pub fn rules(&self) -> Rules {
        self.rules.borrow().clone()
    }

    /// Frames dropped so far, by every proxy of the network.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// The counter of dropped frames (for the proxies).
    pub(crate) fn drop_counter(&self) -> Arc<AtomicU64> {
        Arc::clone(&self.dropped)
    }

    /// Follow the rules (for the proxies).
    pub(crate) fn watch(&self) -> watch::Receiver<Rules> {
        self.rules.subscribe()
    }
}

/// The delay of a frame under `action` (`None` when it is not forwarded).
pub(crate) fn delay_of(action: Action) -> Option<Duration> {
    match action {
        Action::Pass => Some(Duration::ZERO),
        Action::Delay { ms } => Some(Duration::from_millis(ms)),
        Action::Drop | Action::Cut => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_are_per_direction_and_cuts_close_the_pair() {
        let mut rules = Rules::default();
        rules.set(1, 2, Action::Drop);
        assert_eq!(rules.action(1, 2), Action::Drop);
        assert_eq!(rules.action(2, 1), Action::Pass);
        assert!(!rules.is_cut(1, 2));
        rules.set(3, 1, Action::Cut);
        assert!(rules.is_cut(1, 3) && rules.is_cut(3, 1));
        rules.set(1, 2, Action::Pass);
        rules.set(3, 1, Action::Pass);
        assert!(rules.is_healed());
    }

    #[test]
    fn between_sets_both_directions_of_every_cross_pair() {
        let mut rules = Rules::default();
        let minority = BTreeSet::from([1]);
        let majority = BTreeSet::from([2, 3]);
        rules.between(&minority, &majority, Action::Cut);
        for (a, b) in [(1, 2), (2, 1), (1, 3), (3, 1)] {
            assert_eq!(rules.action(a, b), Action::Cut, "{a}->{b}");
        }
        assert_eq!(rules.action(2, 3), Action::Pass);
    }
}
