//! The [`Replica`] state machine.

mod failover;
mod follower;
mod inputs;
mod leader;
mod local_reads;
pub(crate) mod log;
mod membership;
mod output;
mod progress;
mod queries;
mod reads;
mod snapshot;

pub use inputs::{Durable, InputError, ProposeError};
pub use output::{Output, ProposalOutcome, Role};
pub use progress::{FollowerStatus, Progress, ReplicationState, SnapshotTransfer};
pub use reads::{ReadError, ReadId};

use crate::config::{Config, ConfigError};
use crate::entry::{HardState, RequestId};
use crate::membership::Membership;
use crate::rng::SplitMix64;
use crate::snapshot::SnapshotMeta;
use crate::types::{Epoch, Instant, Lsn, NodeId, Position};
use crate::wire::Message;
use log::Log;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::Duration;

/// One replica of a leader-based replicated log: a pure, deterministic state
/// machine in the style of `quinn-proto`'s `Connection`.
///
/// # The contract
///
/// **Inputs** (each takes the current time `now` explicitly):
/// - [`propose`](Self::propose): a client write (leader only).
/// - [`handle_message`](Self::handle_message): a message from a peer.
/// - [`handle_timeout`](Self::handle_timeout): the deadline from
///   [`poll_timeout`](Self::poll_timeout) has passed.
/// - [`handle_persisted`](Self::handle_persisted): the host's log storage is
///   durable through a position.
/// - [`transfer_leadership`](Self::transfer_leadership): planned failover.
/// - [`read_index`](Self::read_index): a linearizable read (leader only),
///   answered later by [`Output::ReadReady`] or [`Output::ReadFailed`]
///   (at once, with no round trip, while a read lease holds).
/// - [`propose_membership`](Self::propose_membership): a single-server
///   membership change (leader only): add a learner, promote a caught-up
///   learner, remove a member. One at a time, and only after the leader
///   committed an entry of its own epoch.
/// - [`snapshot_taken`](Self::snapshot_taken): the host has made a
///   snapshot of its state machine durable; the core may compact its log.
/// - [`handle_snapshot_chunk`](Self::handle_snapshot_chunk): leader only,
///   the bytes an [`Output::ReadSnapshotChunk`] asked for.
///
/// **Queries** change nothing and take no time:
/// [`read_local`](Self::read_local) decides whether a read carrying a
/// [`SessionToken`](crate::SessionToken) may be served from this replica's
/// applied state (any role: followers and learners above all), and
/// [`applied_position`](Self::applied_position) names the log prefix such a
/// read exposes (consistent prefix: applied entries only, in log order).
///
/// **Outputs** are pulled: after every input, call
/// [`poll_output`](Self::poll_output) until it returns `None` and perform each
/// [`Output`] *in order*; then call [`poll_timeout`](Self::poll_timeout) and
/// arrange to call `handle_timeout` when it passes.
///
/// **Durability rules** (what the host must make durable before what):
/// - [`Output::PersistHardState`] must be durable before the host performs
///   any later output (a vote must survive a crash before it is sent).
/// - [`Output::Truncated`] and [`Output::Append`] change the log; they must
///   reach storage in the order emitted, but may complete asynchronously:
///   the host reports completion with `handle_persisted(now, position)`.
///   Messages may be sent before that; the core itself withholds every
///   acknowledgement until the entries it acknowledges are reported durable,
///   and a leader counts its own copy only once it is durable.
/// - [`Output::Apply`] entries are committed; apply them in order before
///   reporting this replica's applied position to anyone.
/// - [`Output::ReadReady`] comes after the `Apply` outputs it depends on:
///   performing outputs in order is what makes the read safe to serve.
/// - A snapshot must be durable *before* the host reports it with
///   `snapshot_taken`: the core compacts on the strength of it. Only then,
///   on [`Output::Compacted`], may the host delete the log entries it names
///   (an older snapshot may be deleted once a newer one was reported).
/// - [`Output::ReceiveSnapshotChunk`] goes to a staging area (need not be
///   durable); [`Output::InstallSnapshot`] replaces the state machine with
///   the staged snapshot, deletes the log through its position and records
///   it as the durable snapshot, all durably *before any later output*
///   (the follower's acknowledgement follows it).
///
/// **Membership**: voters and learners are replica state: the latest
/// [`EntryKind::Membership`](crate::EntryKind::Membership) entry in the log
/// (committed or not) is in force from the moment it is appended, else the
/// durable snapshot's membership, else [`Config::voters`] /
/// [`Config::learners`]. Quorum sizes follow it. A learner never campaigns
/// and never votes; a removed leader steps down once its removal commits,
/// handing over to a caught-up voter with `TimeoutNow`.
/// [`Output::MembershipChanged`] reports every change. A new node's host
/// starts it with a `Config` naming the current members and the node
/// itself (usually as a learner), then proposes
/// [`MembershipChange::AddLearner`](crate::MembershipChange::AddLearner) on
/// the leader; it catches up from the log, or from the leader's snapshot
/// if the log was compacted past what it needs.
///
/// **Read rules**: linearizable reads go to the leader through
/// `read_index` (read-index: a heartbeat round acknowledged by enough voters
/// to meet every election quorum; or a lease with
/// [`Config::lease_max_drift`], which *assumes* bounded clock drift). Pending
/// reads fail with [`ReadError::LeadershipLost`] when the leader steps down,
/// and with [`ReadError::TimedOut`] after an election timeout unconfirmed.
/// Local reads honour session tokens and never expose a stale state to the
/// session that carries one; see [`crate::session`].
///
/// **Time rule**: the core never reads a clock. `now` must never go
/// backwards between calls (an earlier `now` is treated as the latest one
/// seen). Election jitter comes from [`Config::seed`], so the same inputs
/// always produce the same outputs.
///
/// **Restart**: rebuild with [`Replica::restart`] from the [`Durable`] state
/// (hard state, log, durable snapshot); the log restarts after the
/// snapshot's position, the membership is recovered from the log (else the
/// snapshot, else the config), and volatile state (role, commit point,
/// progress, a half-received snapshot) is recovered from peers.
///
/// The whole state is `Clone + Eq + Hash + Debug`, so a model checker can
/// store and compare replicas.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Replica {
    config: Config,
    hard: HardState,
    log: Log,
    role: Role,
    leader: Option<NodeId>,
    commit: Lsn,
    applied: Lsn,
    /// The durable prefix of `log`.
    persisted: Lsn,
    /// Follower: highest lsn known to match the current leader's log.
    verified: Lsn,
    now: Instant,
    election_deadline: Instant,
    heartbeat_deadline: Instant,
    check_quorum_deadline: Instant,
    last_leader_contact: Option<Instant>,
    votes: BTreeSet<NodeId>,
    progress: BTreeMap<NodeId, Progress>,
    pending: BTreeMap<Lsn, RequestId>,
    transfer: Option<(NodeId, Instant)>,
    /// The membership in force: the latest membership entry in the log, or
    /// `base_membership` when the log holds none.
    membership: Membership,
    /// The lsn of the entry that set `membership` (the log base if none).
    membership_lsn: Lsn,
    /// The membership in force at the log base (from the snapshot or config).
    base_membership: Membership,
    /// The latest snapshot the host holds (durably).
    snapshot: Option<SnapshotMeta>,
    /// Follower: the snapshot being received, if any.
    incoming: Option<snapshot::Incoming>,
    /// Leader: snapshot transfers to followers in `ReplicationState::Snapshot`.
    outgoing: BTreeMap<NodeId, snapshot::Outgoing>,
    /// Leader: heartbeat rounds, read lease and pending linearizable reads.
    reads: reads::LeaderReads,
    /// Follower: highest heartbeat round seen from the current leader.
    leader_round: u64,
    /// Lease mode: a restarted voter forgot its last leader contact, so it
    /// refuses to help elect anyone until this time.
    restart_quiet_until: Option<Instant>,
    rng: SplitMix64,
    outputs: VecDeque<Output>,
    /// A deliberately broken rule (test builds only, see [`crate::planted`]).
    #[cfg(feature = "planted-bugs")]
    planted_bug: Option<crate::planted::PlantedBug>,
}

impl Replica {
    /// A brand-new replica with an empty log, as a follower (or learner).
    pub fn new(config: Config, now: Instant) -> Result<Replica, ConfigError> {
        Replica::restart(config, Durable::default(), now)
    }

    /// Rebuild a replica from what its host made durable before a crash.
    pub fn restart(config: Config, durable: Durable, now: Instant) -> Result<Replica, ConfigError> {
        config.validate()?;
        let base = durable
            .snapshot
            .as_ref()
            .map_or(Position::ZERO, |s| s.position);
        let base_membership = durable
            .snapshot
            .as_ref()
            .map_or_else(|| config.membership(), |s| s.membership.clone());
        let log = Log::from_parts(base, durable.log);
        let applied = durable.applied.max(base.lsn).min(log.last().lsn);
        let rng = SplitMix64::new(config.seed ^ config.id.0.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let mut replica = Replica {
            role: Role::Learner,
            membership: base_membership.clone(),
            membership_lsn: base.lsn,
            base_membership,
            snapshot: durable.snapshot,
            incoming: None,
            outgoing: BTreeMap::new(),
            hard: durable.hard_state,
            persisted: log.last().lsn,
            log,
            leader: None,
            commit: applied,
            applied,
            verified: Lsn(0),
            now,
            election_deadline: now,
            heartbeat_deadline: now,
            check_quorum_deadline: now,
            last_leader_contact: None,
            votes: BTreeSet::new(),
            progress: BTreeMap::new(),
            pending: BTreeMap::new(),
            transfer: None,
            reads: reads::LeaderReads::default(),
            leader_round: 0,
            restart_quiet_until: config
                .lease_max_drift
                .map(|_| now + config.election_timeout_min),
            rng,
            outputs: VecDeque::new(),
            #[cfg(feature = "planted-bugs")]
            planted_bug: None,
            config,
        };
        replica.recompute_membership();
        replica.role = if replica.is_voter() {
            Role::Follower
        } else {
            Role::Learner
        };
        replica.outputs.clear();
        replica.reset_election_deadline();
        Ok(replica)
    }

    /// Run this replica with a deliberately broken rule, for checkers that
    /// must show they catch it (feature `planted-bugs`, never enabled by a
    /// production build). The bug is volatile: a host re-plants it after
    /// [`restart`](Self::restart).
    #[cfg(feature = "planted-bugs")]
    pub fn plant_bug(&mut self, bug: Option<crate::planted::PlantedBug>) {
        self.planted_bug = bug;
    }

    // ----- outputs -----------------------------------------------------

    /// The next thing the host must do, or `None` when there is nothing.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    /// When [`handle_timeout`](Self::handle_timeout) must next be called;
    /// `None` when nothing is time-driven (a learner waits for its leader).
    pub fn poll_timeout(&self) -> Option<Instant> {
        match self.role {
            Role::Learner => None,
            Role::Leader => {
                let mut t = self.heartbeat_deadline;
                if self.config.check_quorum {
                    t = t.min(self.check_quorum_deadline);
                }
                if let Some((_, deadline)) = self.transfer {
                    t = t.min(deadline);
                }
                Some(t)
            }
            _ => Some(self.election_deadline),
        }
    }

    // ----- inputs ------------------------------------------------------

    /// Handle a message from peer `from`.
    ///
    /// Messages from an older epoch are fenced (rejected, with this replica's
    /// epoch in the answer so a deposed leader learns it was superseded); a
    /// newer epoch makes this replica step down. Returns an error for
    /// messages no correct peer would send; the replica is then unchanged.
    pub fn handle_message(
        &mut self,
        now: Instant,
        from: NodeId,
        message: Message,
    ) -> Result<(), InputError> {
        self.advance_time(now);
        if from == self.config.id {
            return Err(InputError::FromSelf);
        }
        if !self.is_member(from) && !self.is_handover_from_removed_leader(from, &message) {
            return Err(InputError::UnknownSender(from));
        }
        if let Message::Append {
            epoch,
            prev,
            entries,
            ..
        } = &message
        {
            follower::validate_append(*epoch, *prev, entries)?;
        }
        if let Message::InstallSnapshot {
            snapshot,
            offset,
            data,
            done,
            ..
        } = &message
        {
            snapshot::validate_chunk(snapshot, *offset, data, *done)?;
        }
        match message {
            Message::RequestVote {
                epoch,
                last,
                pre_vote: true,
                ..
            } => {
                self.handle_pre_vote_request(from, epoch, last);
                return Ok(());
            }
            Message::VoteResponse {
                epoch,
                pre_vote: true,
                granted,
            } => {
                self.handle_pre_vote_response(from, epoch, granted);
                return Ok(());
            }
            _ => {}
        }
        let epoch = message.epoch();
        if epoch > self.hard.epoch {
            if let Message::RequestVote {
                transfer: false, ..
            } = message
            {
                if self.in_leader_lease() {
                    // Leader stickiness: a live leader exists; do not let a
                    // disruptive candidate depose it.
                    return Ok(());
                }
            }
            let leader = match message {
                Message::Append { .. } | Message::TimeoutNow { .. } => Some(from),
                _ => None,
            };
            self.become_follower(epoch, leader);
        } else if epoch < self.hard.epoch {
            self.fence(from, &message);
            return Ok(());
        }
        match message {
            Message::Append {
                prev,
                entries,
                commit,
                round,
                ..
            } => self.handle_append(from, prev, entries, commit, round),
            Message::AppendResponse { result, round, .. } => {
                self.handle_append_response(from, result, round);
                Ok(())
            }
            Message::RequestVote { last, .. } => {
                self.handle_vote_request(from, last);
                Ok(())
            }
            Message::VoteResponse { granted, .. } => {
                self.handle_vote_response(from, granted);
                Ok(())
            }
            Message::TimeoutNow { .. } => {
                self.handle_timeout_now(from);
                Ok(())
            }
            Message::InstallSnapshot {
                snapshot,
                offset,
                data,
                done,
                ..
            } => self.handle_install_snapshot(from, snapshot, offset, data, done),
            Message::InstallSnapshotResponse {
                snapshot,
                next_offset,
                ..
            } => {
                self.handle_install_snapshot_response(from, snapshot, next_offset);
                Ok(())
            }
        }
    }

    /// The host's log storage is durable through `through` (every earlier
    /// `Truncated`/`Append` output up to that entry has reached storage).
    /// Reports about entries that were since truncated are ignored.
    pub fn handle_persisted(&mut self, now: Instant, through: Position) {
        self.advance_time(now);
        if through.lsn <= self.persisted || !self.log.contains(through) {
            return;
        }
        self.persisted = through.lsn;
        match self.role {
            Role::Leader => self.advance_commit(),
            Role::Follower | Role::Learner => self.acknowledge(),
            Role::PreCandidate | Role::Candidate => {}
        }
    }

    // ----- shared helpers ----------------------------------------------

    fn advance_time(&mut self, now: Instant) {
        self.now = self.now.max(now);
    }

    fn is_member(&self, id: NodeId) -> bool {
        self.membership.contains(id)
    }

    fn is_voter(&self) -> bool {
        self.membership.is_voter(self.config.id)
    }

    /// Peers this replica replicates to when leading: every member but itself.
    fn peers(&self) -> Vec<NodeId> {
        let me = self.config.id;
        self.membership.members().filter(|&id| id != me).collect()
    }

    fn send(&mut self, to: NodeId, message: Message) {
        self.outputs.push_back(Output::Send { to, message });
    }

    fn persist_hard_state(&mut self) {
        self.outputs.push_back(Output::PersistHardState(self.hard));
    }

    fn announce_role(&mut self) {
        self.outputs.push_back(Output::RoleChanged {
            role: self.role,
            epoch: self.hard.epoch,
            leader: self.leader,
        });
    }

    fn reset_election_deadline(&mut self) {
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

    /// Step down to follower (or learner) in `epoch`, which is at least the
    /// current one; persists the new epoch (with no vote) if it is newer.
    fn become_follower(&mut self, epoch: Epoch, leader: Option<NodeId>) {
        let was_leader = self.role == Role::Leader;
        if epoch > self.hard.epoch {
            self.hard = HardState {
                epoch,
                voted_for: None,
            };
            self.persist_hard_state();
            self.verified = Lsn(0);
        }
        self.role = if self.is_voter() {
            Role::Follower
        } else {
            Role::Learner
        };
        self.leader = leader;
        self.votes.clear();
        self.progress.clear();
        self.outgoing.clear();
        self.transfer = None;
        self.leader_round = 0;
        if was_leader {
            for (_, request) in std::mem::take(&mut self.pending) {
                self.outputs.push_back(Output::Reply {
                    request,
                    outcome: ProposalOutcome::LeadershipLost { leader },
                });
            }
            self.fail_reads(leader);
        }
        self.reset_election_deadline();
        self.announce_role();
    }

    /// Apply every committed entry not yet applied.
    fn apply_committed(&mut self) {
        if self.commit > self.applied {
            let entries = self.log.range(self.applied, self.commit);
            if let Some(last) = entries.last() {
                self.applied = last.lsn;
                self.outputs.push_back(Output::Apply { entries });
            }
        }
    }
}
