//! The vocabulary of replication: who ([`NodeId`]), which generation of
//! leadership ([`Epoch`]), where in the log ([`Lsn`], [`Position`]), and the
//! injected notion of time ([`Instant`]).

use serde::{Deserialize, Serialize};
use std::fmt;
use std::time::Duration;

/// Identifies one replica in a cluster. Chosen by the host; stable across restarts.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct NodeId(pub u64);

/// The failover generation (Raft term, PostgreSQL timeline, Kafka leader epoch).
///
/// At most one leader is ever elected per epoch, and a replica persists an
/// epoch before it acts in it. Every log entry is stamped with the epoch of
/// the leader that created it.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Epoch(pub u64);

/// Log sequence number: the 1-based index of an entry in the replicated log.
/// `Lsn(0)` is the empty prefix, before the first entry.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Lsn(pub u64);

/// A point in the log: the entry at `lsn`, written in `epoch`.
///
/// Positions are ordered first by epoch, then by lsn, which is exactly the
/// "more up to date" order used to elect the most complete replica:
/// a log whose last entry has a higher epoch wins, and among equal epochs
/// the longer log wins.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Position {
    /// Epoch of the leader that wrote the entry.
    pub epoch: Epoch,
    /// Index of the entry in the log.
    pub lsn: Lsn,
}

/// A point in time as seen by the host, in milliseconds since an arbitrary,
/// host-chosen origin. The core never reads a clock: every input that cares
/// about time is handed an `Instant`, and it must never go backwards.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Instant(pub u64);

impl Epoch {
    /// The epoch after this one (saturating; an epoch never wraps).
    pub fn next(self) -> Epoch {
        Epoch(self.0.saturating_add(1))
    }
}

impl Lsn {
    /// The lsn after this one (saturating).
    pub fn next(self) -> Lsn {
        Lsn(self.0.saturating_add(1))
    }
    /// The lsn before this one, or `Lsn(0)`.
    pub fn prev(self) -> Lsn {
        Lsn(self.0.saturating_sub(1))
    }
}

impl Position {
    /// The position before the first entry: every log starts here.
    pub const ZERO: Position = Position {
        epoch: Epoch(0),
        lsn: Lsn(0),
    };

    /// A position from its parts.
    pub fn new(epoch: Epoch, lsn: Lsn) -> Position {
        Position { epoch, lsn }
    }
}

impl Instant {
    /// The time elapsed from `earlier` to `self` (zero if `earlier` is later).
    pub fn since(self, earlier: Instant) -> Duration {
        Duration::from_millis(self.0.saturating_sub(earlier.0))
    }
}

impl std::ops::Add<Duration> for Instant {
    type Output = Instant;
    /// `self + d`, saturating at the end of time.
    fn add(self, d: Duration) -> Instant {
        let ms = u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        Instant(self.0.saturating_add(ms))
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "n{}", self.0)
    }
}
impl fmt::Display for Epoch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "e{}", self.0)
    }
}
impl fmt::Display for Lsn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}
impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "({}, {})", self.epoch, self.lsn)
    }
}
impl fmt::Display for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "t={}ms", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_order_by_epoch_then_lsn() {
        let old_long = Position::new(Epoch(1), Lsn(10));
        let new_short = Position::new(Epoch(2), Lsn(3));
        let new_longer = Position::new(Epoch(2), Lsn(4));
        assert!(new_short > old_long, "a higher epoch is more up to date");
        assert!(new_longer > new_short, "same epoch: the longer log wins");
        assert!(Position::ZERO < old_long);
    }

    #[test]
    fn instants_saturate_instead_of_wrapping() {
        let end = Instant(u64::MAX - 1);
        assert_eq!(end + Duration::from_millis(5), Instant(u64::MAX));
        assert_eq!(Instant(3).since(Instant(10)), Duration::ZERO);
        assert_eq!(Instant(10).since(Instant(3)), Duration::from_millis(7));
    }
}
