//! The auditor's notes: what the properties need to know of a server's
//! past, kept beside its storage so that they survive its crashes.

use crate::timers::{TimerBudget, TimersFired};
use steadfast::{Epoch, Lsn, Position, Replica};

/// Facts about a server's past that the properties need and that survive
/// crashes (an auditor's notebook, not protocol state).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Ghost {
    /// Every entry this server ever applied, by lsn.
    pub ever_applied: AppliedEpochs,
    /// An entry this server had committed or applied and then truncated.
    pub truncated_committed: Option<Position>,
    /// An lsn at which this server applied two different entries.
    pub applied_conflict: Option<Lsn>,
    /// The first step that moved the epoch backwards.
    pub epoch_breach: Option<StepViolation>,
    /// The first step that moved the commit or applied point backwards.
    pub commit_breach: Option<StepViolation>,
    /// The first entry applied past the commit point.
    pub apply_breach: Option<StepViolation>,
    /// The highest epoch this server ever had (the epoch is durable, so a
    /// restart must not forget it).
    pub highest_epoch: Epoch,
    /// How often its timer has fired, against `budget`.
    pub fired: TimersFired,
    /// How often the model lets this server's timer fire. It is set when
    /// the server first starts and never changes; it lives here, with the
    /// server's state rather than with its id, so that two servers in equal
    /// states behave alike whatever their ids (symmetry reduction renames
    /// servers of different budgets too, see [`crate::symmetry`]).
    pub budget: TimerBudget,
}

/// A step that broke one of the step properties.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StepViolation {
    /// The epoch went from `from` down to `to` (across a restart included).
    EpochBackwards {
        /// Before the step.
        from: Epoch,
        /// After it.
        to: Epoch,
    },
    /// The commit point went from `from` down to `to` while running.
    CommitBackwards {
        /// Before the step.
        from: Lsn,
        /// After it.
        to: Lsn,
    },
    /// The applied point went from `from` down to `to` while running.
    AppliedBackwards {
        /// Before the step.
        from: Lsn,
        /// After it.
        to: Lsn,
    },
    /// The entry at `lsn` was applied while the commit point was `commit`.
    AppliedUncommitted {
        /// The applied entry.
        lsn: Lsn,
        /// The commit point after the step.
        commit: Lsn,
    },
}

impl std::fmt::Display for StepViolation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StepViolation::EpochBackwards { from, to } => {
                write!(f, "the epoch went back from {from} to {to}")
            }
            StepViolation::CommitBackwards { from, to } => {
                write!(f, "the commit point went back from lsn {from} to {to}")
            }
            StepViolation::AppliedBackwards { from, to } => {
                write!(f, "the applied point went back from lsn {from} to {to}")
            }
            StepViolation::AppliedUncommitted { lsn, commit } => {
                write!(f, "lsn {lsn} was applied with the commit point at {commit}")
            }
        }
    }
}

/// The epoch of the entry a server applied at each lsn, over its whole
/// life (one slot per lsn, in a single allocation: the models clone and
/// hash it with every step that changes the server).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct AppliedEpochs(Vec<Option<Epoch>>);

impl AppliedEpochs {
    /// The epoch of the entry applied at `lsn`, if one was.
    pub fn get(&self, lsn: Lsn) -> Option<Epoch> {
        let index = usize::try_from(lsn.0).ok()?.checked_sub(1)?;
        self.0.get(index).copied().flatten()
    }

    /// Note that the entry `(epoch, lsn)` was applied; the epoch noted
    /// before at `lsn`, if any. Lsn 0 holds no entry and is not noted.
    pub fn insert(&mut self, lsn: Lsn, epoch: Epoch) -> Option<Epoch> {
        let index = usize::try_from(lsn.0).ok()?.checked_sub(1)?;
        if self.0.len() <= index {
            self.0.resize(index + 1, None);
        }
        self.0[index].replace(epoch)
    }

    /// Every `(lsn, epoch)` noted, in lsn order.
    pub fn iter(&self) -> impl Iterator<Item = (Lsn, Epoch)> + '_ {
        self.0
            .iter()
            .enumerate()
            .filter_map(|(i, epoch)| Some((Lsn(i as u64 + 1), (*epoch)?)))
    }
}

/// The watermarks the step properties compare across one step.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Marks {
    pub(crate) epoch: Epoch,
    pub(crate) commit: Lsn,
    pub(crate) applied: Lsn,
}

impl Marks {
    pub(crate) fn of(replica: &Replica) -> Marks {
        Marks {
            epoch: replica.epoch(),
            commit: replica.commit(),
            applied: replica.applied(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn applied_epochs_note_by_lsn_and_report_what_they_replace() {
        let mut applied = AppliedEpochs::default();
        assert_eq!(applied.insert(Lsn(2), Epoch(1)), None);
        assert_eq!(applied.get(Lsn(1)), None);
        assert_eq!(applied.get(Lsn(2)), Some(Epoch(1)));
        assert_eq!(applied.insert(Lsn(2), Epoch(3)), Some(Epoch(1)));
        assert_eq!(
            applied.insert(Lsn(0), Epoch(3)),
            None,
            "lsn 0 holds no entry"
        );
        assert_eq!(applied.get(Lsn(0)), None);
        assert_eq!(applied.iter().collect::<Vec<_>>(), vec![(Lsn(2), Epoch(3))]);
    }
}
