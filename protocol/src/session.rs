//! Session guarantees for reads served by followers and learners.
//!
//! Replication lag means a follower's state machine trails the leader's. A
//! client that reads from followers without care can observe time running
//! backwards. A [`SessionToken`] is the small value a client carries from
//! request to request (in a cookie, a header, a connection) so that any
//! replica can tell whether it is far enough along to answer it:
//!
//! - **read your writes**: the token records the position of the session's
//!   last acknowledged write; a replica that has not applied it does not
//!   answer.
//! - **monotonic reads**: the token records the highest position the session
//!   has read; a replica behind it does not answer, so a later read never
//!   shows an older state than an earlier one.
//! - **consistent prefix**: a replica only ever exposes its *applied prefix*
//!   of the log, in log order, ending at the position it reports
//!   ([`ReadDecision::Serve`]). No write is visible without every write
//!   before it.
//!
//! # Tokens across failover
//!
//! A token names exact log positions `(epoch, lsn)`, not bare lsns. A replica
//! serves a token only when its log holds *exactly* each position the token
//! names, at or below what it has applied; by the log-matching property the
//! applied prefix then contains everything the session observed before. A
//! token from an older epoch is therefore still good after a failover as long
//! as the new leader's log kept those entries (always, under a durability
//! policy that survives failover). When an asynchronous failover truncated
//! an entry the token names, the replica holds a different entry at that lsn
//! and answers [`ReadDecision::Rejected`] with
//! [`ReadRejection::HistoryLost`]: the session's history is gone, and serving
//! anything would silently violate its guarantees. The client must start a
//! new session (and learn that its write was lost).

use crate::types::{Lsn, NodeId, Position};
use serde::{Deserialize, Serialize};

/// What a client session has observed, carried by the client between
/// requests. `Copy`, tiny, and meaningful to every replica of the cluster.
///
/// [`Position::ZERO`] in a field means "nothing yet"; the empty token
/// ([`SessionToken::default`]) demands nothing, which is exactly a read with
/// no session guarantees.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct SessionToken {
    /// Position of the session's last acknowledged write.
    pub last_write: Position,
    /// Highest position the session has read at.
    pub last_read: Position,
}

impl SessionToken {
    /// The empty token of a new session.
    pub fn new() -> SessionToken {
        SessionToken::default()
    }

    /// The token after a write of this session was acknowledged at
    /// `position` (from [`ProposalOutcome::Committed`](crate::ProposalOutcome::Committed)).
    /// A write older than the recorded one does not move the token back.
    pub fn after_write(self, position: Position) -> SessionToken {
        SessionToken {
            last_write: later(self.last_write, position),
            ..self
        }
    }

    /// The token after a read of this session was served at `position`
    /// (from [`ReadDecision::Serve`] or
    /// [`Output::ReadReady`](crate::Output::ReadReady)).
    pub fn after_read(self, position: Position) -> SessionToken {
        SessionToken {
            last_read: later(self.last_read, position),
            ..self
        }
    }

    /// The positions a replica must hold (exactly) and have applied to
    /// serve this token, `Position::ZERO` entries omitted.
    pub fn requirements(&self) -> impl Iterator<Item = Position> {
        [self.last_write, self.last_read]
            .into_iter()
            .filter(|p| p.lsn > Lsn(0))
    }

    /// The lsn a replica must have applied before it can serve this token.
    pub fn min_lsn(&self) -> Lsn {
        self.last_write.lsn.max(self.last_read.lsn)
    }

    /// True when the token demands nothing.
    pub fn is_empty(&self) -> bool {
        self.min_lsn() == Lsn(0)
    }
}

/// The later of two positions in log order (the "more up to date" order of
/// [`Position`]): a higher epoch wins, then a higher lsn.
fn later(a: Position, b: Position) -> Position {
    a.max(b)
}

/// A replica's answer to a local read with a session token
/// ([`Replica::read_local`](crate::Replica::read_local)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ReadDecision {
    /// Serve the state machine as applied through `at`: the applied prefix
    /// of the log, which contains every position the token names. Advance
    /// the token with [`SessionToken::after_read`]`(at)`.
    Serve {
        /// The last applied position: the read observes exactly the log
        /// prefix ending here.
        at: Position,
    },
    /// This replica has not applied far enough yet but follows a leader and
    /// is expected to catch up: retry here later (or elsewhere).
    Wait {
        /// How far this replica has applied.
        applied: Position,
        /// The lsn it must have applied, on its leader's branch: a replica
        /// holding an older epoch's entry at a token's lsn (a branch its
        /// leader will truncate) waits even when `needed <= applied.lsn`.
        needed: Lsn,
    },
    /// This replica is behind the token and knows no leader to catch up
    /// from (it is campaigning, or cut off): ask another replica.
    Redirect {
        /// The leader this replica believes in, if any.
        leader: Option<NodeId>,
    },
    /// The token can never be served here.
    Rejected(ReadRejection),
}

/// Why a token can never be served by a replica.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, thiserror::Error)]
pub enum ReadRejection {
    /// The replica's applied log holds a different entry at the token's lsn:
    /// a failover under a durability policy that does not survive failover
    /// truncated what this session wrote or read. The session's history is
    /// lost; serving would show a state that does not contain it.
    #[error("the session observed {expected}, but the log holds {found} at that lsn: its history was lost in a failover")]
    HistoryLost {
        /// The position the token names.
        expected: Position,
        /// The position this replica holds at the same lsn.
        found: Position,
    },
    /// The token's position lies inside this replica's snapshot, where the
    /// epoch of each entry is no longer known, so it cannot be checked.
    #[error("the session observed {expected}, which lies inside the snapshot ending at {log_start}: it can no longer be checked here")]
    Compacted {
        /// The position the token names.
        expected: Position,
        /// The last position covered by this replica's snapshot.
        log_start: Position,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::types::Epoch;

    fn pos(epoch: u64, lsn: u64) -> Position {
        Position::new(Epoch(epoch), Lsn(lsn))
    }

    #[test]
    fn tokens_only_move_forward() {
        let t = SessionToken::new()
            .after_write(pos(1, 5))
            .after_read(pos(1, 7))
            .after_write(pos(1, 3))
            .after_read(pos(1, 6));
        assert_eq!(t.last_write, pos(1, 5));
        assert_eq!(t.last_read, pos(1, 7));
        assert_eq!(t.min_lsn(), Lsn(7));
        assert_eq!(t.requirements().count(), 2);
    }

    #[test]
    fn a_newer_epoch_supersedes_a_longer_older_one() {
        let t = SessionToken::new()
            .after_read(pos(1, 9))
            .after_read(pos(2, 6));
        assert_eq!(t.last_read, pos(2, 6));
    }

    #[test]
    fn the_empty_token_demands_nothing() {
        let t = SessionToken::default();
        assert!(t.is_empty());
        assert_eq!(t.requirements().count(), 0);
    }
}
