//! What must always hold inside one replica, whatever its inputs:
//! [`Replica::check_invariants`] and the [`Violation`]s it reports.
//!
//! Every public input ends with the check in debug builds (panicking with
//! the violation and the input's name); simulators, fuzzers and models call
//! it explicitly in release builds.

use super::progress::ReplicationState;
use super::role_state::RoleState;
use super::{Replica, Role};
use crate::quorum;
use crate::types::{Epoch, Lsn, NodeId, Position};

/// A broken invariant of one replica: its name (the message's first word)
/// and the values that break it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, thiserror::Error)]
pub enum Violation {
    /// Only committed entries are applied.
    #[error("applied-within-commit: applied lsn {applied} is past the commit point {commit}")]
    AppliedPastCommit {
        /// The applied lsn.
        applied: Lsn,
        /// The commit point.
        commit: Lsn,
    },
    /// The commit point names an entry of the log.
    #[error("commit-within-log: commit point {commit} is past the last log lsn {last}")]
    CommitPastLog {
        /// The commit point.
        commit: Lsn,
        /// The log's last lsn.
        last: Lsn,
    },
    /// Only entries of the log are durable.
    #[error("persisted-within-log: persisted lsn {persisted} is past the last log lsn {last}")]
    PersistedPastLog {
        /// The durable prefix.
        persisted: Lsn,
        /// The log's last lsn.
        last: Lsn,
    },
    /// The prefix known to match the leader's log is in the log.
    #[error("verified-within-log: verified lsn {verified} is past the last log lsn {last}")]
    VerifiedPastLog {
        /// The lsn known to match the leader's log.
        verified: Lsn,
        /// The log's last lsn.
        last: Lsn,
    },
    /// The log is compacted only behind applied (hence committed) entries,
    /// and a snapshot installed or restarted from is applied: the commit
    /// point never falls below what durable state proves committed.
    #[error("log-base-applied: the log base {base} (covered by a snapshot) is past the applied lsn {applied}")]
    BasePastApplied {
        /// The log base: the last position the snapshot covers.
        base: Position,
        /// The applied lsn.
        applied: Lsn,
    },
    /// A compacted log is backed by a snapshot at or after its base.
    #[error("log-base-snapshot: the log base {base} is not covered by the latest snapshot ({snapshot:?})")]
    BaseNotCoveredBySnapshot {
        /// The log base.
        base: Position,
        /// The latest snapshot's position, if any.
        snapshot: Option<Position>,
    },
    /// Log lsns are consecutive after the base.
    #[error("log-contiguous: the entry after lsn {previous} has lsn {found}")]
    LogGap {
        /// The lsn before the gap.
        previous: Lsn,
        /// The lsn found after it.
        found: Lsn,
    },
    /// Epochs never decrease along the log.
    #[error("log-epochs-monotonic: the entry at lsn {lsn} has epoch {epoch}, older than the {previous} before it")]
    LogEpochRegression {
        /// Where the epoch goes back.
        lsn: Lsn,
        /// Its epoch.
        epoch: Epoch,
        /// The epoch before it.
        previous: Epoch,
    },
    /// No entry is newer than the epoch this replica has persisted.
    #[error("log-epoch-within-hard-state: the last entry {last} is of an epoch past the hard state's {epoch}")]
    LogPastEpoch {
        /// The log's last position.
        last: Position,
        /// The hard state's epoch.
        epoch: Epoch,
    },
    /// A candidate or leader has voted for itself in its epoch (its one
    /// vote there).
    #[error("self-vote: a {role:?} in epoch {epoch} voted for {voted_for:?}, not for itself")]
    NoSelfVote {
        /// The role.
        role: Role,
        /// The epoch.
        epoch: Epoch,
        /// The vote recorded in the hard state.
        voted_for: Option<NodeId>,
    },
    /// A leader names itself as leader, a (pre-)candidate knows no leader,
    /// and no one else names itself.
    #[error("leader-hint: {me} as {role:?} believes the leader is {leader:?}")]
    WrongLeaderHint {
        /// This replica.
        me: NodeId,
        /// Its role.
        role: Role,
        /// The leader it believes in.
        leader: Option<NodeId>,
    },
    /// A learner is exactly a replica that may not campaign: neither a
    /// voter nor one whose removal from the voters is uncommitted (see
    /// `may_campaign`); a leader that removed itself leads, unvoting, until
    /// its removal commits.
    #[error("role-membership: a {role:?} is {} voter of the membership in force", if *.voter { "a" } else { "not a" })]
    RoleAgainstMembership {
        /// The role.
        role: Role,
        /// Whether this replica votes in the membership in force.
        voter: bool,
    },
    /// The membership in force is the latest membership entry in the log,
    /// else the one at the log base.
    #[error("membership-in-force: the membership in force was set at lsn {found}, but the log says lsn {expected}")]
    StaleMembership {
        /// The lsn recorded for the membership in force.
        found: Lsn,
        /// The lsn of the latest membership entry (the base if none).
        expected: Lsn,
    },
    /// A (pre-)candidate's tally holds itself exactly when it votes, and only voters, its
    /// refusals only other voters, and it is short of both winning and
    /// losing (a decided election moves on at once).
    #[error("vote-tally: a {role:?} holds {granted} votes and {refused} refusals (itself included: {includes_self}, all voters: {all_voters}) with {needed} needed to win")]
    BadTally {
        /// The role.
        role: Role,
        /// Votes in the tally.
        granted: usize,
        /// Refusals in the tally.
        refused: usize,
        /// Whether the tally holds the candidate itself exactly when it
        /// votes.
        includes_self: bool,
        /// Whether every vote and refusal in it comes from a voter (and no
        /// voter both granted and refused).
        all_voters: bool,
        /// Votes needed to win.
        needed: usize,
    },
    /// A leader tracks progress for exactly its peers (every other member).
    #[error("progress-peers: the leader tracks {tracked:?}, but its peers are {peers:?}")]
    ProgressPeersMismatch {
        /// The peers with progress.
        tracked: Vec<NodeId>,
        /// Every member but the leader.
        peers: Vec<NodeId>,
    },
    /// A follower's match point is below its next lsn, which is at most
    /// one past the leader's last entry; what it reported applied is in
    /// the leader's log. (Applied may pass matched: a follower being sent
    /// a snapshot reports what it applied, but its match point waits for
    /// the transfer to end.)
    #[error("progress-within-log: {peer} has matched {matched}, next {next}, applied {applied}, but the leader's log ends at {last} (need matched < next <= last + 1, applied <= last)")]
    ProgressPastLog {
        /// The follower.
        peer: NodeId,
        /// Its match point.
        matched: Lsn,
        /// The next lsn to send it.
        next: Lsn,
        /// What it reported applied.
        applied: Lsn,
        /// The leader's last lsn.
        last: Lsn,
    },
    /// Only a probed follower has a probe outstanding.
    #[error("probe-flag: {peer} has a probe outstanding in state {state:?}")]
    ProbeFlagOutsideProbe {
        /// The follower.
        peer: NodeId,
        /// Its replication state.
        state: ReplicationState,
    },
    /// A follower is in `Snapshot` state exactly while a snapshot transfer
    /// to it runs, and the transfer's offset is within the snapshot.
    #[error("snapshot-transfer: {peer} in state {state:?} has transfer offset {offset:?} of a snapshot of {size:?} bytes")]
    BadSnapshotTransfer {
        /// The follower.
        peer: NodeId,
        /// Its replication state (`None`: no progress at all).
        state: Option<ReplicationState>,
        /// The transfer's confirmed offset, if a transfer runs.
        offset: Option<u64>,
        /// The snapshot's size, if a transfer runs.
        size: Option<u64>,
    },
    /// A proposal awaiting commit is an uncommitted entry of the leader's
    /// own epoch.
    #[error("pending-uncommitted: a pending proposal at lsn {lsn} (epoch {epoch:?}) is not an entry of epoch {leader_epoch} in (commit {commit}, last {last}]")]
    BadPendingProposal {
        /// Its lsn.
        lsn: Lsn,
        /// The epoch of the log entry there, if any.
        epoch: Option<Epoch>,
        /// The leader's epoch.
        leader_epoch: Epoch,
        /// The commit point.
        commit: Lsn,
        /// The log's last lsn.
        last: Lsn,
    },
    /// A leader's pending proposals are listed by increasing lsn (replies
    /// are sent from the front as the commit point passes them).
    #[error("pending-ordered: a pending proposal at lsn {lsn} follows one at lsn {previous}")]
    PendingOutOfOrder {
        /// Its lsn.
        lsn: Lsn,
        /// The lsn of the proposal listed before it.
        previous: Lsn,
    },
    /// A leadership transfer targets a voting peer.
    #[error(
        "transfer-target: leadership is being transferred to {target}, which is not a voting peer"
    )]
    BadTransferTarget {
        /// The target.
        target: NodeId,
    },
    /// No heartbeat round is confirmed, echoed or awaited before it started.
    #[error(
        "read-rounds: round {round} is current, but round {found} is confirmed, echoed or awaited"
    )]
    FutureReadRound {
        /// The leader's current round.
        round: u64,
        /// The round past it.
        found: u64,
    },
    /// A snapshot being received stays within its size.
    #[error("incoming-snapshot: {received} bytes received of a snapshot of {size}")]
    IncomingPastSize {
        /// Bytes received.
        received: u64,
        /// The snapshot's size.
        size: u64,
    },
}

impl Replica {
    /// Check what must always hold inside this replica (see [`Violation`]
    /// for the list); the first broken invariant is returned. Debug builds
    /// check after every input; checkers call this in release builds.
    pub fn check_invariants(&self) -> Result<(), Violation> {
        self.check_host_promises()?;
        self.check_core_invariants()
    }

    /// What a correct host's durable state guarantees (the hard state was
    /// made durable before the entries of its epoch), which
    /// [`restart`](Replica::restart) checks before it accepts durable
    /// state: epochs in the log are within the hard state's.
    fn check_host_promises(&self) -> Result<(), Violation> {
        let last = self.log.last();
        if last.epoch > self.hard.epoch {
            return Err(Violation::LogPastEpoch {
                last,
                epoch: self.hard.epoch,
            });
        }
        Ok(())
    }

    /// Everything the core establishes itself.
    fn check_core_invariants(&self) -> Result<(), Violation> {
        self.check_log()?;
        self.check_marks()?;
        self.check_role()?;
        self.check_membership()?;
        match &self.state {
            RoleState::Leader(_) => self.check_leader(),
            RoleState::PreCandidate(tally) | RoleState::Candidate(tally) => {
                let role = self.role();
                let granted = tally.votes.len();
                let refused = tally.refused.len();
                let needed = self.quorums().election;
                let voters = self.membership.voters.len();
                let includes_self = tally.votes.contains(&self.config.id) == self.is_voter();
                let all_voters = tally
                    .votes
                    .iter()
                    .chain(&tally.refused)
                    .all(|&v| self.membership.is_voter(v))
                    && tally.votes.is_disjoint(&tally.refused);
                if !includes_self
                    || !all_voters
                    || quorum::election_won(granted, needed)
                    || quorum::election_lost(refused, voters, needed)
                {
                    return Err(Violation::BadTally {
                        role,
                        granted,
                        refused,
                        includes_self,
                        all_voters,
                        needed,
                    });
                }
                Ok(())
            }
            RoleState::Follower | RoleState::Learner => Ok(()),
        }
    }

    fn check_log(&self) -> Result<(), Violation> {
        let mut previous = self.log.base();
        for entry in self.log.entries() {
            if entry.lsn != previous.lsn.next() {
                return Err(Violation::LogGap {
                    previous: previous.lsn,
                    found: entry.lsn,
                });
            }
            if entry.epoch < previous.epoch {
                return Err(Violation::LogEpochRegression {
                    lsn: entry.lsn,
                    epoch: entry.epoch,
                    previous: previous.epoch,
                });
            }
            previous = entry.position();
        }
        let base = self.log.base();
        let snapshot = self.snapshot.as_ref().map(|s| s.position);
        if base != Position::ZERO && snapshot.is_none_or(|s| s.lsn < base.lsn) {
            return Err(Violation::BaseNotCoveredBySnapshot { base, snapshot });
        }
        if let Some(incoming) = &self.incoming {
            let (received, size) = incoming.progress();
            if received > size {
                return Err(Violation::IncomingPastSize { received, size });
            }
        }
        Ok(())
    }

    /// The commit, applied, persisted and verified marks against the log.
    fn check_marks(&self) -> Result<(), Violation> {
        let last = self.log.last().lsn;
        let base = self.log.base();
        if self.applied > self.commit {
            return Err(Violation::AppliedPastCommit {
                applied: self.applied,
                commit: self.commit,
            });
        }
        if self.commit > last {
            return Err(Violation::CommitPastLog {
                commit: self.commit,
                last,
            });
        }
        if self.persisted > last {
            return Err(Violation::PersistedPastLog {
                persisted: self.persisted,
                last,
            });
        }
        if self.verified > last {
            return Err(Violation::VerifiedPastLog {
                verified: self.verified,
                last,
            });
        }
        if base.lsn > self.applied {
            return Err(Violation::BasePastApplied {
                base,
                applied: self.applied,
            });
        }
        Ok(())
    }

    /// Role, vote and leader hint agree with each other and the membership.
    fn check_role(&self) -> Result<(), Violation> {
        let me = self.config.id;
        let role = self.role();
        let voter = self.is_voter();
        let may_campaign = self.may_campaign();
        let role_fits = match role {
            Role::Leader => true,
            Role::Learner => !may_campaign,
            Role::Follower | Role::PreCandidate | Role::Candidate => may_campaign,
        };
        if !role_fits {
            return Err(Violation::RoleAgainstMembership { role, voter });
        }
        let hint_fits = match role {
            Role::Leader => self.leader == Some(me),
            Role::PreCandidate | Role::Candidate => self.leader.is_none(),
            Role::Follower | Role::Learner => self.leader != Some(me),
        };
        if !hint_fits {
            return Err(Violation::WrongLeaderHint {
                me,
                role,
                leader: self.leader,
            });
        }
        if matches!(role, Role::Candidate | Role::Leader) && self.hard.voted_for != Some(me) {
            return Err(Violation::NoSelfVote {
                role,
                epoch: self.hard.epoch,
                voted_for: self.hard.voted_for,
            });
        }
        Ok(())
    }

    fn check_membership(&self) -> Result<(), Violation> {
        let latest = self
            .log
            .entries()
            .iter()
            .rev()
            .find_map(|e| e.membership().map(|m| (m, e.lsn)));
        let fits = match latest {
            Some((membership, lsn)) => self.membership == *membership && self.membership_lsn == lsn,
            None => {
                self.membership == self.base_membership
                    && self.membership_lsn <= self.log.base().lsn
            }
        };
        if !fits {
            let expected = latest.map_or(self.log.base().lsn, |(_, lsn)| lsn);
            return Err(Violation::StaleMembership {
                found: self.membership_lsn,
                expected,
            });
        }
        Ok(())
    }

    fn check_leader(&self) -> Result<(), Violation> {
        let Some(leader) = self.leading() else {
            return Ok(());
        };
        let last = self.log.last().lsn;
        let mut peers = self.peers();
        peers.sort_unstable();
        if !leader.progress.keys().eq(peers.iter()) {
            return Err(Violation::ProgressPeersMismatch {
                tracked: leader.progress.keys().copied().collect(),
                peers,
            });
        }
        for (&peer, pr) in &leader.progress {
            let (matched, next, applied) = (pr.matched(), pr.next(), pr.applied());
            if !(matched < next && next <= last.next() && applied <= last) {
                return Err(Violation::ProgressPastLog {
                    peer,
                    matched,
                    next,
                    applied,
                    last,
                });
            }
            if pr.probe_outstanding() && pr.state() != ReplicationState::Probe {
                return Err(Violation::ProbeFlagOutsideProbe {
                    peer,
                    state: pr.state(),
                });
            }
            let transfer = leader.outgoing.get(&peer);
            let in_snapshot = pr.state() == ReplicationState::Snapshot;
            let fits = match transfer {
                Some(out) => in_snapshot && out.offset <= out.meta.size,
                None => !in_snapshot,
            };
            if !fits {
                return Err(Violation::BadSnapshotTransfer {
                    peer,
                    state: Some(pr.state()),
                    offset: transfer.map(|out| out.offset),
                    size: transfer.map(|out| out.meta.size),
                });
            }
        }
        if let Some((&peer, out)) = leader
            .outgoing
            .iter()
            .find(|(peer, _)| !leader.progress.contains_key(peer))
        {
            return Err(Violation::BadSnapshotTransfer {
                peer,
                state: None,
                offset: Some(out.offset),
                size: Some(out.meta.size),
            });
        }
        let mut previous = None;
        for &(lsn, _) in &leader.pending {
            if let Some(previous) = previous.filter(|&p| lsn <= p) {
                return Err(Violation::PendingOutOfOrder { lsn, previous });
            }
            previous = Some(lsn);
            let epoch = self.log.epoch_at(lsn);
            if lsn <= self.commit || lsn > last || epoch != Some(self.hard.epoch) {
                return Err(Violation::BadPendingProposal {
                    lsn,
                    epoch,
                    leader_epoch: self.hard.epoch,
                    commit: self.commit,
                    last,
                });
            }
        }
        if let Some(transfer) = leader.transfer {
            let target = transfer.target;
            if target == self.config.id || !self.membership.is_voter(target) {
                return Err(Violation::BadTransferTarget { target });
            }
        }
        let round = leader.reads.round;
        let latest = leader
            .reads
            .echoed
            .values()
            .copied()
            .chain(leader.reads.pending.values().map(|p| p.round))
            .chain([leader.reads.confirmed])
            .max()
            .unwrap_or(0);
        if latest > round {
            return Err(Violation::FutureReadRound {
                round,
                found: latest,
            });
        }
        Ok(())
    }
}
