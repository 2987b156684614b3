//! The [`Replica`] state machine: the struct, its contract, and every
//! public input in the contract's order. What the inputs do lives in one
//! file per concept (`leader.rs`, `follower.rs`, `failover.rs`, ...).

mod batching;
mod candidate_state;
mod failover;
mod follower;
mod hashing;
mod inputs;
mod invariants;
#[cfg(test)]
mod invariants_tests;
mod leader;
mod leader_state;
mod local_reads;
pub(crate) mod log;
mod membership;
mod messages;
mod output;
mod progress;
mod queries;
mod reads;
mod rename;
mod role_state;
mod shared;
mod snapshot;
mod storage;

pub use inputs::{Durable, InputError, MembershipSource, ProposeError, RestartError};
pub use invariants::Violation;
pub use output::{Output, ProposalOutcome, Role};
pub use progress::{FollowerStatus, Progress, ReplicationState, SnapshotTransfer};
pub use reads::{ReadError, ReadId};

use crate::config::{Config, ConfigError};
use crate::entry::{HardState, RequestId};
use crate::membership::{Membership, MembershipChange, MembershipError};
use crate::rng::SplitMix64;
use crate::snapshot::{SnapshotError, SnapshotMeta};
use crate::types::{Instant, Lsn, NodeId, Position};
use crate::wire::Message;
use log::Log;
use role_state::RoleState;
use std::collections::VecDeque;
use std::sync::Arc;

/// One replica of a leader-based replicated log: a pure, deterministic state
/// machine in the style of `quinn-proto`'s `Connection`.
///
/// # The contract
///
/// **Inputs** (each takes the current time `now` explicitly, except
/// `plant_bug`; they appear in this order below):
/// - [`new`](Self::new) / [`restart`](Self::restart): build a replica,
///   brand-new or from what its host made durable.
/// - [`handle_message`](Self::handle_message): a message from a peer.
/// - [`handle_timeout`](Self::handle_timeout): the deadline from
///   [`poll_timeout`](Self::poll_timeout) has passed.
/// - [`campaign`](Self::campaign): start an election now, as if the
///   election timer had fired (no need to move time to the deadline).
/// - [`propose`](Self::propose): a client write (leader only).
/// - [`handle_persisted`](Self::handle_persisted): the host's log storage is
///   durable through a position.
/// - [`transfer_leadership`](Self::transfer_leadership): planned failover;
///   [`cancel_transfer`](Self::cancel_transfer) calls it off.
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
/// - `plant_bug` (feature `planted-bugs` only): run with a deliberately
///   broken rule, for checkers that must show they catch it.
///
/// After every input the replica's invariants hold
/// ([`check_invariants`](Self::check_invariants)); debug builds assert it.
///
/// **Queries** change nothing and take no time:
/// [`read_local`](Self::read_local) decides whether a read carrying a
/// [`SessionToken`](crate::SessionToken) may be served from this replica's
/// applied state (any role: followers and learners above all), and
/// [`applied_position`](Self::applied_position) names the log prefix such a
/// read exposes (consistent prefix: applied entries only, in log order).
/// Others report the replica's state ([`role`](Self::role),
/// [`commit`](Self::commit), [`follower_status`](Self::follower_status),
/// [`lease_expiry`](Self::lease_expiry), ...), and
/// [`check_invariants`](Self::check_invariants) states what must always
/// hold inside one replica.
///
/// **Outputs** are pulled: after every input, call
/// [`poll_output`](Self::poll_output) until it returns `None` and perform each
/// [`Output`] *in order*; then call [`poll_timeout`](Self::poll_timeout) and
/// arrange to call `handle_timeout` when it passes. The outputs: storage
/// ([`Output::PersistHardState`], [`Output::Truncated`],
/// [`Output::Append`], [`Output::Compacted`]), the network
/// ([`Output::Send`]), the state machine ([`Output::Apply`],
/// [`Output::RolledBack`]), clients ([`Output::Reply`],
/// [`Output::ReadReady`], [`Output::ReadFailed`]), snapshots
/// ([`Output::ReadSnapshotChunk`], [`Output::ReceiveSnapshotChunk`],
/// [`Output::InstallSnapshot`]) and news ([`Output::RoleChanged`],
/// [`Output::MembershipChanged`]).
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
///   `snapshot_taken`: the core compacts on the strength of it. So must
///   every log write emitted before it (the log it was applied from, whose
///   durable copy a restart checks against the snapshot). Only then,
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
/// [`Config::learners`]. Quorum sizes follow it. A learner never campaigns;
/// a candidate asks, and counts the votes of, the voters of *its own*
/// membership, and every member answers on the vote and log rules alone,
/// whatever its own membership says about its role or the candidate's
/// (one member can miss a change that committed without it, and its
/// refusal could leave the cluster unable to elect anyone; see
/// `failover.rs`). A removed leader steps down once its removal commits,
/// handing over to a caught-up voter with `TimeoutNow`.
/// [`Output::MembershipChanged`] reports every change. A new node's host
/// starts it with a `Config` naming the current members and the node
/// itself (usually as a learner), then proposes
/// [`MembershipChange::AddLearner`] on
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
/// (hard state, log, applied lsn, durable snapshot); the log restarts after
/// the snapshot's position, the membership is recovered from the log (else
/// the snapshot, else the config), the commit point starts at what the host
/// applied, and volatile state (role, progress, a half-received snapshot)
/// is recovered from peers. A torn or corrupted store must never turn into
/// silent divergence, so restart first validates everything it is given
/// and refuses with a [`RestartError`] naming the problem: the log's lsns
/// are contiguous, starting at lsn 1 (or anywhere up to just after the
/// snapshot); its epochs never decrease and none is past the hard state's
/// epoch (nor is the snapshot's); entries the snapshot covers, which a host
/// may keep until [`Output::Compacted`], agree with it (the entry at its
/// lsn has its epoch, older lsns no newer epochs, later lsns no older
/// ones); the applied lsn is at least the snapshot's and at most the last
/// lsn held; every membership (snapshot's, log entries') has a voter and
/// no node both voter and learner. A host gets there by following the
/// durability rules above, and by making its log durable through a
/// snapshot's position before it reports the snapshot. After a successful
/// restart every invariant holds, those about the durable state included.
///
/// The whole state is `Clone + Eq + Hash + Debug`, so a model checker can
/// store and compare replicas. The configuration, fixed for a replica's
/// life, is shared between clones, and hashing leaves it out (see the
/// `Hash` impl).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Replica {
    config: Arc<Config>,
    hard: HardState,
    log: Log,
    /// The role, with the state that exists only in it.
    state: RoleState,
    leader: Option<NodeId>,
    commit: Lsn,
    applied: Lsn,
    /// The durable prefix of `log`.
    persisted: Lsn,
    /// Highest lsn known to match the current epoch's leader's log (0
    /// after an epoch change; kept through a pre-candidacy in the same
    /// epoch, whose leader it still describes).
    verified: Lsn,
    /// Highest heartbeat round seen from the current leader (reset when
    /// following a new one).
    leader_round: u64,
    now: Instant,
    election_deadline: Instant,
    last_leader_contact: Option<Instant>,
    /// The membership in force: the latest membership entry in the log, or
    /// `base_membership` when the log holds none.
    membership: Membership,
    /// The lsn of the entry that set `membership` (the log base if none).
    membership_lsn: Lsn,
    /// The membership in force at the log base (from the snapshot or config).
    base_membership: Membership,
    /// The latest snapshot the host holds (durably).
    snapshot: Option<SnapshotMeta>,
    /// The snapshot being received from a leader, if any (kept across a
    /// pre-candidacy or candidacy, so a transfer can resume).
    incoming: Option<snapshot::Incoming>,
    /// Lease mode: a restarted voter forgot its last leader contact, so it
    /// refuses to help elect anyone until this time.
    restart_quiet_until: Option<Instant>,
    rng: SplitMix64,
    outputs: VecDeque<Output>,
    /// Messages owed at the next drain of `outputs` (see `batching`).
    due: batching::Due,
    /// A deliberately broken rule (test builds only, see [`crate::planted`]).
    #[cfg(feature = "planted-bugs")]
    planted_bug: Option<crate::planted::PlantedBug>,
}

impl Replica {
    // ----- constructors ------------------------------------------------

    /// A brand-new replica with an empty log, as a follower (or learner).
    /// Only the configuration can be wrong (nothing durable is read), so
    /// this refuses with a [`ConfigError`]; see
    /// [`restart`](Self::restart) for a replica with durable state.
    pub fn new(config: Config, now: Instant) -> Result<Replica, ConfigError> {
        config.validate()?;
        let replica = Replica::rebuild(config, Durable::default(), now);
        replica.debug_check_invariants("new");
        Ok(replica)
    }

    /// Rebuild a replica from what its host made durable before a crash.
    ///
    /// Everything is checked first (see **Restart** above): an invalid
    /// configuration ([`RestartError::Config`]) or durable state no correct
    /// host could have written (a gap or a step back in the log, epochs
    /// going back or past the hard state's, a log that disagrees with the
    /// snapshot, an applied lsn outside `[snapshot, last]`, a malformed
    /// membership) is refused with the [`RestartError`] that names it,
    /// never silently repaired.
    pub fn restart(
        config: Config,
        durable: Durable,
        now: Instant,
    ) -> Result<Replica, RestartError> {
        config.validate()?;
        storage::validate(&durable)?;
        let replica = Replica::rebuild(config, durable, now);
        replica.debug_check_invariants("restart");
        Ok(replica)
    }

    // ----- inputs --------------------------------------------------------

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
        let result = self.step_message(from, message);
        self.debug_check_invariants("handle_message");
        result
    }

    /// Time has reached (at least) the deadline from
    /// [`poll_timeout`](Self::poll_timeout): a follower that has not heard
    /// from a leader starts an election; a leader sends heartbeats, runs its
    /// check-quorum round and abandons a stalled leadership transfer.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.advance_time(now);
        self.on_timeout();
        self.debug_check_invariants("handle_timeout");
    }

    /// Start an election now, exactly as when the election timer fires: a
    /// pre-vote round (with [`Config::pre_vote`]) or an election in the
    /// next epoch, subject to the same rules (a voter in a leader lease
    /// still refuses). For hosts and tests that want an election without
    /// moving time to a deadline. Refused with
    /// [`InputError::CannotCampaign`] on a leader or a learner.
    pub fn campaign(&mut self, now: Instant) -> Result<(), InputError> {
        self.advance_time(now);
        let result = self.campaign_now();
        self.debug_check_invariants("campaign");
        result
    }

    /// Propose a client write. On the leader, the command is appended and
    /// replicated, and its position returned; an [`Output::Reply`] with
    /// [`ProposalOutcome::Committed`] follows once the durability policy is
    /// met (or `LeadershipLost` if leadership is lost first). Elsewhere the
    /// proposal is refused with a leader hint, and so it is on a leader that
    /// has removed itself (it only finishes handing over).
    pub fn propose(
        &mut self,
        now: Instant,
        request: RequestId,
        command: impl Into<bytes::Bytes>,
    ) -> Result<Position, ProposeError> {
        self.advance_time(now);
        let result = self.leader_propose(request, command.into());
        self.debug_check_invariants("propose");
        result
    }

    /// The host's log storage is durable through `through` (every earlier
    /// `Truncated`/`Append` output up to that entry has reached storage).
    /// Reports about entries that were since truncated are ignored.
    pub fn handle_persisted(&mut self, now: Instant, through: Position) {
        self.advance_time(now);
        self.record_persisted(through);
        self.debug_check_invariants("handle_persisted");
    }

    /// Hand leadership to `target`, a voting follower: stop accepting
    /// proposals, bring it up to date (at once, from its match point, if
    /// it is behind), then tell it, once, to campaign at once
    /// (`TimeoutNow`). The transfer is abandoned after an election
    /// timeout. Asking again for the pending transfer changes nothing (the
    /// deadline is not re-armed); asking for another target replaces it;
    /// a transfer to the leader itself cancels the pending one, like
    /// [`cancel_transfer`](Self::cancel_transfer). Refused with the leader
    /// hint on a replica that does not lead.
    pub fn transfer_leadership(&mut self, now: Instant, target: NodeId) -> Result<(), InputError> {
        self.advance_time(now);
        let result = self.start_transfer(target);
        self.debug_check_invariants("transfer_leadership");
        result
    }

    /// Call off the pending leadership transfer, if any, and return its
    /// target: proposals and membership changes are accepted again at
    /// once. A `TimeoutNow` already sent cannot be recalled: its target may
    /// still campaign (and, holding the whole log, may win). Refused with
    /// the leader hint on a replica that does not lead.
    pub fn cancel_transfer(&mut self, now: Instant) -> Result<Option<NodeId>, InputError> {
        self.advance_time(now);
        let result = self.stop_transfer();
        self.debug_check_invariants("cancel_transfer");
        result
    }

    /// Ask for a linearizable read (leader only). The read is answered by an
    /// [`Output::ReadReady`] carrying the position it may be served at: once
    /// the host has performed every output before it, its state machine
    /// reflects every write acknowledged before this call, and serving the
    /// state as applied then (or later) is linearizable. If leadership is
    /// lost first, or cannot be confirmed within an election timeout, an
    /// [`Output::ReadFailed`] follows instead.
    ///
    /// With a read lease in force ([`Config::lease_max_drift`]),
    /// the answer is emitted at once with no round trip; otherwise a
    /// heartbeat round is started to confirm leadership (read-index).
    ///
    /// Linearizability covers acknowledged writes that survive failover:
    /// under a durability policy that loses writes in a failover, a new
    /// leader's reads cannot show the lost writes either.
    pub fn read_index(&mut self, now: Instant, read: ReadId) -> Result<(), ReadError> {
        self.advance_time(now);
        let result = self.register_read(read);
        self.debug_check_invariants("read_index");
        result
    }

    /// Propose a single-server membership change (leader only). The change
    /// is appended as an [`EntryKind::Membership`](crate::EntryKind::Membership)
    /// entry and takes effect at once on every replica that appends it; an
    /// [`Output::Reply`] for `request` follows when it commits, as for a
    /// write.
    ///
    /// Refused while an earlier change is uncommitted (one change at a
    /// time), before this leader has committed an entry of its own epoch
    /// (otherwise the change could conflict with an uncommitted change of
    /// an earlier leader and lose committed entries), during a leadership
    /// transfer, and for a promotion of a learner that is not caught up
    /// (its log matches through less than the leader's last lsn minus
    /// [`Config::max_entries_per_message`]).
    pub fn propose_membership(
        &mut self,
        now: Instant,
        request: RequestId,
        change: MembershipChange,
    ) -> Result<Position, MembershipError> {
        self.advance_time(now);
        let result = self.append_membership_change(request, change);
        self.debug_check_invariants("propose_membership");
        result
    }

    /// The host has made durable a snapshot of its state machine after
    /// applying every entry through `position` (`size` bytes with CRC32C
    /// `checksum`). The core records it, so that followers too far behind
    /// can be sent it, and compacts its log: it keeps the last
    /// [`Config::snapshot_retain_entries`] entries before `position` and
    /// emits [`Output::Compacted`] naming what the host may delete.
    ///
    /// The snapshot must be durable *before* this call: once the core has
    /// compacted, it relies on the snapshot to restart and to catch
    /// followers up. Refused (without effect) for a position not in the
    /// log, not yet applied, or not newer than the current snapshot.
    pub fn snapshot_taken(
        &mut self,
        now: Instant,
        position: Position,
        size: u64,
        checksum: u32,
    ) -> Result<(), SnapshotError> {
        self.advance_time(now);
        let result = self.record_snapshot(position, size, checksum);
        self.debug_check_invariants("snapshot_taken");
        result
    }

    /// Leader: the host's answer to an [`Output::ReadSnapshotChunk`]: the
    /// bytes of the snapshot at `snapshot` from `offset`, exactly the
    /// requested `max_len` of them. The core sends them to `to`.
    /// A chunk nobody asked for any more (the transfer moved on, the
    /// leader stepped down, a newer snapshot replaced it) is refused
    /// without effect.
    pub fn handle_snapshot_chunk(
        &mut self,
        now: Instant,
        to: NodeId,
        snapshot: Position,
        offset: u64,
        data: Vec<u8>,
    ) -> Result<(), SnapshotError> {
        self.advance_time(now);
        let result = self.send_snapshot_chunk(to, snapshot, offset, data);
        self.debug_check_invariants("handle_snapshot_chunk");
        result
    }

    /// Run this replica with a deliberately broken rule, for checkers that
    /// must show they catch it (feature `planted-bugs`, never enabled by a
    /// production build). The bug is volatile: a host re-plants it after
    /// [`restart`](Self::restart).
    #[cfg(feature = "planted-bugs")]
    pub fn plant_bug(&mut self, bug: Option<crate::planted::PlantedBug>) {
        self.planted_bug = bug;
        self.debug_check_invariants("plant_bug");
    }

    // ----- outputs -------------------------------------------------------

    /// The next thing the host must do, or `None` when there is nothing.
    ///
    /// Proposals and persistence reports made since the last drain are
    /// batched: the first call after them emits one `Append` per follower
    /// (or one acknowledgement to the leader) covering them all.
    pub fn poll_output(&mut self) -> Option<Output> {
        if self.has_due() {
            self.flush_due();
        }
        self.outputs.pop_front()
    }

    /// When [`handle_timeout`](Self::handle_timeout) must next be called;
    /// `None` when nothing is time-driven (a learner waits for its leader).
    pub fn poll_timeout(&self) -> Option<Instant> {
        match &self.state {
            RoleState::Learner => None,
            RoleState::Leader(leader) => {
                let mut t = leader.heartbeat_deadline;
                if self.config.check_quorum {
                    t = t.min(leader.check_quorum_deadline);
                }
                if let Some(transfer) = leader.transfer {
                    t = t.min(transfer.deadline);
                }
                Some(t)
            }
            RoleState::Follower | RoleState::PreCandidate(_) | RoleState::Candidate(_) => {
                Some(self.election_deadline)
            }
        }
    }
}
