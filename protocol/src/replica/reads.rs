//! Linearizable reads on the leader: read-index (confirm leadership with a
//! heartbeat round) and, optionally, a clock-based read lease.
//!
//! # Read-index
//!
//! A read registered at time `T` records the leader's commit point and the
//! number of a fresh heartbeat round started *after* `T`. Every `Append`
//! carries the leader's current round; followers echo the highest round they
//! have seen from their leader in every `AppendResponse`. The read is
//! confirmed once enough voters to meet every election quorum
//! ([`Config::check_quorum_size`](crate::Config::check_quorum_size), the
//! leader included) have echoed a round at least the read's, in the leader's
//! epoch. Had a newer leader been elected before `T`, its election quorum
//! would intersect that set, and the voter in both would have been in the
//! newer epoch when the round arrived (epochs never go back), so it would
//! have fenced the heartbeat instead of answering in this epoch. Hence no
//! newer leader had committed anything before `T`, and the commit point
//! recorded at `T` covers every write acknowledged before the read began.
//!
//! A new leader does not know which of its predecessors' entries are
//! committed until it commits an entry of its own epoch (its no-op), so
//! reads are served at no lower than that no-op, and only once it is
//! committed and applied.
//!
//! # Lease
//!
//! With [`Config::lease_max_drift`](crate::Config::lease_max_drift) set, a
//! quorum-confirmed round that started at leader time `s` gives a lease until
//! `s + election_timeout_min - max_drift`: every voter that confirmed the
//! round heard from the leader at or after `s` and, being in the leader
//! lease, ignores vote requests (and refuses pre-votes) until its own clock
//! has advanced `election_timeout_min` past that contact. While the lease
//! lasts, no other leader can be elected, and reads are served at once.
//!
//! Why the existing stickiness (`in_leader_lease`) suffices, and where it did
//! not: a voter in the lease drops `RequestVote` of a newer epoch before
//! adopting the epoch, and refuses pre-votes; its own election timer is
//! reset on the same contact, so it cannot campaign itself. Two gaps needed
//! closing: (1) a *leadership transfer* deliberately bypasses stickiness, so
//! a leader that sent `TimeoutNow` gives up its lease for the rest of its
//! reign; (2) a voter that *restarts* forgets its last leader contact, so in
//! lease mode a restarted voter treats itself as in a lease for
//! `election_timeout_min` after the restart.

use super::role_state::RoleState;
use super::{Output, Replica};
use crate::membership::Membership;
use crate::quorum;
use crate::types::{Instant, Lsn, NodeId, Position};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, VecDeque};

/// Identifies one linearizable read: chosen by the host, unique among the
/// reads it has pending on one replica.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct ReadId(pub u64);

/// Why a linearizable read was refused or abandoned.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, thiserror::Error)]
pub enum ReadError {
    /// This replica is not the leader; linearizable reads go to the leader.
    #[error("not the leader (leader hint: {leader:?})")]
    NotLeader {
        /// The leader this replica believes in, if any.
        leader: Option<NodeId>,
    },
    /// A read with this id is already pending here.
    #[error("read {0:?} is already pending")]
    DuplicateRead(ReadId),
    /// The replica stopped leading before it could confirm the read.
    #[error("leadership lost before the read was confirmed (new leader: {leader:?})")]
    LeadershipLost {
        /// The new leader, if known.
        leader: Option<NodeId>,
    },
    /// No quorum confirmed leadership within an election timeout; retry.
    #[error("leadership could not be confirmed within an election timeout")]
    TimedOut,
}

/// At most this many unconfirmed heartbeat rounds keep their start time;
/// older ones can still confirm reads, but no longer extend the lease.
const MAX_TRACKED_ROUNDS: usize = 1024;

/// A read waiting for its heartbeat round and the commit point.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) struct PendingRead {
    /// The commit point when the read was registered.
    pub(super) index: Lsn,
    /// The heartbeat round that must be confirmed.
    pub(super) round: u64,
    /// When it was registered.
    pub(super) since: Instant,
}

/// The leader's read bookkeeping, reset at every election win.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub(super) struct LeaderReads {
    /// The current heartbeat round (carried by every `Append`).
    pub(super) round: u64,
    /// Start times of rounds not yet confirmed by a quorum.
    pub(super) round_starts: VecDeque<(u64, Instant)>,
    /// Highest round each voting follower has echoed in this epoch.
    pub(super) echoed: BTreeMap<NodeId, u64>,
    /// Highest round confirmed by a quorum.
    pub(super) confirmed: u64,
    /// Reads may be served locally before this time (lease mode).
    pub(super) lease_until: Option<Instant>,
    /// A leadership transfer started: no more lease reads in this reign.
    pub(super) lease_revoked: bool,
    /// Lsn of this leader's no-op, the first entry of its epoch.
    pub(super) epoch_start: Lsn,
    /// Reads waiting for their round or the commit point.
    pub(super) pending: BTreeMap<ReadId, PendingRead>,
}

impl LeaderReads {
    /// The current round, as carried by every `Append`.
    pub(super) fn round(&self) -> u64 {
        self.round
    }
}

impl Replica {
    /// [`read_index`](Replica::read_index) after the time was advanced.
    pub(super) fn register_read(&mut self, read: ReadId) -> Result<(), ReadError> {
        let Some(leader) = self.leading() else {
            return Err(ReadError::NotLeader {
                leader: self.leader,
            });
        };
        if leader.reads.pending.contains_key(&read) {
            return Err(ReadError::DuplicateRead(read));
        }
        if self.lease_holds() && self.own_epoch_committed() {
            let position = self.position_at(self.commit);
            self.outputs.push_back(Output::ReadReady { read, position });
            return Ok(());
        }
        let round = self.start_read_round();
        let pending = PendingRead {
            index: self.commit,
            round,
            since: self.now,
        };
        if let Some(leader) = self.leading_mut() {
            leader.reads.pending.insert(read, pending);
        }
        self.replicate_to_peers(true);
        self.confirm_rounds();
        Ok(())
    }

    /// Leader in lease mode: until when reads are served without a round
    /// trip (`None` when there is no lease, e.g. not leading, lease reads
    /// off, or a leadership transfer started).
    pub fn lease_expiry(&self) -> Option<Instant> {
        let leader = self.leading()?;
        if self.config.lease_max_drift.is_none()
            || leader.reads.lease_revoked
            || leader.transfer.is_some()
        {
            return None;
        }
        leader.reads.lease_until
    }

    /// Leader: reads waiting for confirmation or for the commit point.
    pub fn pending_reads(&self) -> usize {
        self.leading()
            .map_or(0, |leader| leader.reads.pending.len())
    }

    fn lease_holds(&self) -> bool {
        self.lease_expiry().is_some_and(|until| self.now < until)
    }

    fn own_epoch_committed(&self) -> bool {
        self.leading().is_some_and(|leader| {
            leader.reads.epoch_start > Lsn(0) && self.commit >= leader.reads.epoch_start
        })
    }

    fn position_at(&self, lsn: Lsn) -> Position {
        Position::new(self.log.epoch_at(lsn).unwrap_or_default(), lsn)
    }

    /// A freshly elected leader: new read bookkeeping; the first round starts
    /// with the election's first heartbeats. `epoch_start` is its no-op.
    pub(super) fn reset_leader_reads(&mut self, epoch_start: Lsn) {
        if let Some(leader) = self.leading_mut() {
            leader.reads = LeaderReads {
                epoch_start,
                ..LeaderReads::default()
            };
        }
        self.start_read_round();
    }

    /// Start a new heartbeat round; every `Append` sent from now on carries
    /// it. Returns the new round (0 off the leader).
    pub(super) fn start_read_round(&mut self) -> u64 {
        let now = self.now;
        let Some(leader) = self.leading_mut() else {
            return 0;
        };
        let reads = &mut leader.reads;
        reads.round = reads.round.saturating_add(1);
        if reads.round_starts.len() >= MAX_TRACKED_ROUNDS {
            reads.round_starts.pop_front();
        }
        reads.round_starts.push_back((reads.round, now));
        reads.round
    }

    /// A voter answered in this epoch, having seen rounds up to `round`.
    pub(super) fn on_round_echo(&mut self, from: NodeId, round: u64) {
        let from_voter = self.membership.is_voter(from);
        let Some(leader) = self.leading_mut() else {
            return;
        };
        if !from_voter {
            return;
        }
        // A follower cannot have seen a round not yet started.
        let round = round.min(leader.reads.round);
        let echoed = leader.reads.echoed.entry(from).or_default();
        *echoed = (*echoed).max(round);
        self.confirm_rounds();
    }

    /// Advance the quorum-confirmed round (and the lease), then serve what
    /// became servable.
    fn confirm_rounds(&mut self) {
        let me = self.config.id;
        let lease = self
            .config
            .lease_max_drift
            .map(|drift| self.config.election_timeout_min.saturating_sub(drift));
        let RoleState::Leader(leader) = &self.state else {
            return;
        };
        let reads = &leader.reads;
        // The round a check quorum of `membership` has echoed.
        let confirmed_in = |membership: &Membership| {
            let echoed = membership
                .voters
                .iter()
                .filter(move |&&v| v != me)
                .map(|v| reads.echoed.get(v).copied().unwrap_or(0));
            let own_round = membership.is_voter(me).then_some(reads.round);
            quorum::confirmed_round(own_round, echoed, self.check_quorum_of(membership))
        };
        // While a membership change is uncommitted, a rival could still be
        // elected by the membership it replaced: both must confirm.
        let quorum_round = match self.superseded_membership() {
            Some(before) => confirmed_in(&self.membership).min(confirmed_in(before)),
            None => confirmed_in(&self.membership),
        };
        let Some(quorum_round) = quorum_round else {
            return;
        };
        let RoleState::Leader(leader) = &mut self.state else {
            return;
        };
        let reads = &mut leader.reads;
        if quorum_round > reads.confirmed {
            reads.confirmed = quorum_round;
            let mut started = None;
            while let Some(&(round, at)) = reads.round_starts.front() {
                if round > quorum_round {
                    break;
                }
                started = Some(at);
                reads.round_starts.pop_front();
            }
            if let (Some(length), Some(start)) = (lease, started) {
                let until = start + length;
                reads.lease_until = Some(reads.lease_until.map_or(until, |u| u.max(until)));
            }
        }
        self.serve_reads();
    }

    /// Answer every pending read whose round is confirmed, once this leader
    /// has committed its own no-op and applied through the read's index.
    pub(super) fn serve_reads(&mut self) {
        if !self.own_epoch_committed() {
            return;
        }
        let applied = self.applied;
        let RoleState::Leader(leader) = &mut self.state else {
            return;
        };
        let reads = &mut leader.reads;
        let confirmed = reads.confirmed;
        let floor = reads.epoch_start;
        let ready: Vec<(ReadId, Lsn)> = reads
            .pending
            .iter()
            .filter(|(_, p)| p.round <= confirmed && p.index.max(floor) <= applied)
            .map(|(id, p)| (*id, p.index.max(floor)))
            .collect();
        for (read, lsn) in ready {
            reads.pending.remove(&read);
            let position = Position::new(self.log.epoch_at(lsn).unwrap_or_default(), lsn);
            self.outputs.push_back(Output::ReadReady { read, position });
        }
    }

    /// Heartbeat tick: give up on reads older than an election timeout.
    pub(super) fn expire_reads(&mut self) {
        let limit = self.config.election_timeout_max;
        let now = self.now;
        let RoleState::Leader(leader) = &mut self.state else {
            return;
        };
        let expired: Vec<ReadId> = leader
            .reads
            .pending
            .iter()
            .filter(|(_, p)| now.since(p.since) >= limit)
            .map(|(id, _)| *id)
            .collect();
        for read in expired {
            leader.reads.pending.remove(&read);
            self.outputs.push_back(Output::ReadFailed {
                read,
                error: ReadError::TimedOut,
            });
        }
    }

    /// Stepping down: every read still pending in the ended reign fails.
    pub(super) fn fail_reads(&mut self, reads: LeaderReads, leader: Option<NodeId>) {
        for read in reads.pending.into_keys() {
            self.outputs.push_back(Output::ReadFailed {
                read,
                error: ReadError::LeadershipLost { leader },
            });
        }
    }

    /// A `TimeoutNow` went out: its target campaigns past every voter's
    /// stickiness, so the lease no longer protects this reign.
    pub(super) fn revoke_lease(&mut self) {
        if let Some(leader) = self.leading_mut() {
            leader.reads.lease_revoked = true;
            leader.reads.lease_until = None;
        }
    }
}
