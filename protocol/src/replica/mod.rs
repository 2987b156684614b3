//! The [`Replica`] state machine: the struct and its contract. Its
//! constructors, inputs and outputs are in `api.rs`, in the contract's
//! order; its queries in `queries.rs`, `local_reads.rs`, `progress.rs`,
//! `reads.rs` and `invariants.rs`. What the inputs do lives in one file
//! per concept (`leader.rs`, `follower.rs`, `failover.rs`, ...).

mod api;
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

use crate::config::Config;
use crate::entry::HardState;
use crate::membership::Membership;
use crate::rng::SplitMix64;
use crate::snapshot::SnapshotMeta;
use crate::types::{Instant, Lsn, NodeId};
use log::Log;
use role_state::RoleState;
use std::collections::VecDeque;
use std::sync::Arc;

/// One replica of a leader-based replicated log: a pure, deterministic state
/// machine in the style of `quinn-proto`'s `Connection`.
///
/// # The contract
///
/// The methods are grouped, and listed below, in the order a host uses
/// them: constructors, inputs, outputs, then queries.
///
/// **Constructors**: [`new`](Self::new) builds a brand-new replica,
/// [`restart`](Self::restart) one from what its host made durable (see
/// **Restart** below). Both validate what they are given and refuse it
/// with a typed error rather than build a replica that breaks an
/// invariant.
///
/// **Inputs** (each takes the current time `now` explicitly, except
/// `plant_bug`; they appear in this order below):
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
