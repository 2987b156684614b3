//! Local reads with session guarantees, on any replica (followers and
//! learners above all): serve only a state that contains everything the
//! client's [`SessionToken`] says its session has seen.

use super::{Replica, Role};
use crate::session::{ReadDecision, ReadRejection, SessionToken};
use crate::types::{Lsn, Position};

impl Replica {
    /// The position of the last applied entry: a local read observes exactly
    /// the log prefix ending here, in log order, and nothing beyond it
    /// (consistent prefix). Entries are applied only once committed, so the
    /// prefix never shows an entry without every entry before it.
    pub fn applied_position(&self) -> Position {
        let lsn = self.applied;
        let epoch = self.log.epoch_at(lsn).unwrap_or(self.log.base().epoch);
        Position::new(epoch, lsn)
    }

    /// May the host serve a read for a session carrying `token` from this
    /// replica's local state, as applied so far?
    ///
    /// - [`ReadDecision::Serve`]: yes, at [`applied_position`](Self::applied_position),
    ///   whose prefix contains every position the token names (read your
    ///   writes, monotonic reads). The host serves its state machine as it
    ///   stands after the outputs it has performed, and gives the client
    ///   `token.after_read(at)`.
    /// - [`ReadDecision::Wait`]: not yet; this replica has not applied far
    ///   enough (or still holds an older epoch's entry at the token's lsn,
    ///   which its leader will replace), but it follows a leader.
    /// - [`ReadDecision::Redirect`]: not here; this replica is behind and
    ///   knows no leader to catch up from.
    /// - [`ReadDecision::Rejected`]: never; the token's history was lost (see
    ///   [`crate::session`] for what a token means across failover).
    ///
    /// The empty token is always served: that is a plain follower read, with
    /// none of the session guarantees. This never changes the replica; it
    /// takes no `now` because it depends on no time.
    pub fn read_local(&self, token: SessionToken) -> ReadDecision {
        let applied = self.applied_position();
        let mut needed = Lsn(0);
        for expected in token.requirements() {
            if expected.lsn > self.applied {
                needed = needed.max(expected.lsn);
                continue;
            }
            let log_start = self.log.base();
            if expected.lsn < log_start.lsn {
                return ReadDecision::Rejected(ReadRejection::Compacted {
                    expected,
                    log_start,
                });
            }
            match self.log.epoch_at(expected.lsn) {
                Some(epoch) if epoch == expected.epoch => {}
                Some(epoch) if epoch > expected.epoch => {
                    return ReadDecision::Rejected(ReadRejection::HistoryLost {
                        expected,
                        found: Position::new(epoch, expected.lsn),
                    });
                }
                // An older epoch's entry where the session saw a newer one:
                // this replica is on a branch its leader will truncate.
                Some(_) | None => needed = needed.max(expected.lsn),
            }
        }
        if needed == Lsn(0) {
            return ReadDecision::Serve { at: applied };
        }
        let following = match self.role() {
            Role::Leader => true,
            Role::Follower | Role::Learner => self.leader.is_some(),
            Role::PreCandidate | Role::Candidate => false,
        };
        if following {
            ReadDecision::Wait { applied, needed }
        } else {
            ReadDecision::Redirect {
                leader: self.leader,
            }
        }
    }
}
