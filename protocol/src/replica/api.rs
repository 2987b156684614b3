//! `Replica`'s constructors, inputs and outputs, in the contract's order
//! (see the contract on [`Replica`]). Each input advances the clock, hands
//! the work to the file of its concept (`leader.rs`, `follower.rs`,
//! `failover.rs`, ...) and checks the invariants in debug builds.
//!
//! They live in this submodule, declared first, because rustdoc lists a
//! type's inherent `impl` blocks submodule by submodule, in declaration
//! order, before those of the parent module: so `Replica`'s page starts
//! with its constructors, then its inputs and outputs, then its queries.

use super::role_state::RoleState;
use super::storage;
use super::{Durable, InputError, Output, ProposeError, ReadError, ReadId, Replica, RestartError};
use crate::config::{Config, ConfigError};
use crate::entry::RequestId;
use crate::membership::{MembershipChange, MembershipError};
use crate::snapshot::SnapshotError;
use crate::types::{Instant, NodeId, Position};
use crate::wire::Message;

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
    /// [`ProposalOutcome::Committed`](super::ProposalOutcome::Committed)
    /// follows once the durability policy is met (or `LeadershipLost` if
    /// leadership is lost first). Elsewhere the proposal is refused with a
    /// leader hint, and so it is on a leader that has removed itself (it
    /// only finishes handing over).
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
