//! [`Driver`]: one [`Replica`] behind a lock, fed by many threads, with its
//! proposals' outcomes delivered to [`Ticket`]s and its progress published
//! to a [`PositionWatch`].

use super::shim::{self, Condvar, Deadline, Mutex};
use super::{CloseReason, Failure, Outcome, PositionWatch, RegisterError, Ticket, Tickets};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::Duration;
use steadfast::entry::RequestId;
use steadfast::replica::{InputError, Output, ProposalOutcome, ProposeError, Replica};
use steadfast::snapshot::SnapshotError;
use steadfast::types::{Instant, Lsn, NodeId, Position};
use steadfast::wire::Message;

/// Why [`Driver::propose`] returned no ticket. Either way nothing was
/// appended and no registration is left behind.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProposeRefused {
    /// The ticket could not be registered: the request id is already in
    /// flight, or the driver was shut down.
    #[error(transparent)]
    Register(#[from] RegisterError),
    /// The core refused the proposal (not the leader, or a leadership
    /// transfer is in progress); retry elsewhere.
    #[error(transparent)]
    Core(#[from] ProposeError),
}

/// A host's handle on one [`Replica`]: any thread may call the inputs
/// ([`propose`](Self::propose), [`handle_message`](Self::handle_message),
/// [`handle_timeout`](Self::handle_timeout),
/// [`handle_persisted`](Self::handle_persisted),
/// [`handle_snapshot_chunk`](Self::handle_snapshot_chunk)); they are serialised by one
/// lock, in the order they take it. One thread at a time
/// [`pump`](Self::pump)s the outputs to the host, in the order the core
/// produced them. Share it with an `Arc`.
///
/// # What the driver does with outputs
///
/// [`pump`](Self::pump) hands *every* output to the host's sink, in order,
/// and around some of them does its own part:
///
/// - Before the batch: publishes the core's commit point to
///   [`watch`](Self::watch) as [`Mark::Committed`](super::Mark::Committed).
/// - After the sink performed an [`Output::Apply`]: publishes its last entry
///   as [`Mark::Applied`](super::Mark::Applied) (only then is it visible in
///   the host's state), and settles every ticket in doubt (see below) at an
///   applied lsn: committed if its entry is the one applied there,
///   [`Failure::Truncated`] if another entry was.
/// - After an [`Output::Reply`]: completes the request's ticket
///   ([`ProposalOutcome::Committed`] → [`Outcome::Committed`];
///   `NotLeader` or `TransferInProgress` → [`Failure::NotLeader`]), except
///   for `LeadershipLost`, which puts the ticket *in doubt*.
/// - After an [`Output::InstallSnapshot`]: publishes the snapshot's position
///   as applied, and settles every ticket in doubt at or below it: committed
///   when the snapshot certainly holds its entry (the snapshot's epoch, or
///   below such a replaced entry), [`Failure::Truncated`] when it certainly
///   does not (a newer epoch than the snapshot's), else
///   [`Failure::Superseded`] (only the snapshot's state can tell).
///
/// An [`Output::Truncated`] settles nothing: an entry discarded here may
/// still be on other replicas and commit under a later leader. Only a
/// different entry committed at its lsn makes the failure definite.
///
/// A ticket therefore completes only after every earlier output was
/// performed: a client told `Committed` can read its write at once.
///
/// # Step-down is not shutdown
///
/// When the node loses leadership, the core answers its unfinished
/// proposals with `LeadershipLost`: their entries may still commit under the
/// next leader or be truncated. The driver keeps those tickets open and
/// resolves them *definitively* when this node learns which: committed when
/// the entry (same epoch and lsn) is applied here, [`Failure::Truncated`]
/// when another entry is applied at its lsn ([`Failure::Superseded`] when a
/// snapshot covers the lsn and cannot say, the one case where this node
/// cannot tell). Until then a waiter waits; use
/// [`Ticket::wait_timeout`] to bound it (the write then stays in doubt).
/// The watch stays open too: committed and applied lsns keep their meaning
/// across epochs. Only [`shutdown`](Self::shutdown) closes both: open
/// tickets fail with [`Failure::Abandoned`]`(`[`CloseReason::ShutDown`]`)`
/// (outcome unknown) and unsatisfied waits end with
/// [`WaitError::Closed`](super::WaitError::Closed).
///
/// # Lock order
///
/// `pump lock → replica lock → (Tickets | PositionWatch internal locks)`.
/// Inputs take only the replica lock. [`pump`](Self::pump) takes the pump
/// lock, then the replica lock just long enough to take the queued outputs,
/// and calls the sink holding only the pump lock: the sink may call the
/// inputs (say, `handle_persisted` once an append is durable) but must not
/// call `pump` (it would wait for itself). Tickets and the watch
/// never call out while holding their own locks, so they are leaves.
///
/// # Weak spots, on purpose
///
/// Under a durability policy that does not survive failover, a committed
/// write can be rolled back ([`Output::RolledBack`]). Its ticket already
/// said `Committed` and cannot change, and the watch never goes backwards:
/// it keeps its high-water mark, refusing the lower publications, until the
/// log passes it again. That is the documented lost-write anomaly of those
/// policies, not something the driver can repair.
#[derive(Debug)]
pub struct Driver {
    core: Mutex<Core>,
    /// Signalled when outputs are queued or the driver shuts down.
    work: Condvar,
    /// Serialises [`Driver::pump`], so outputs are performed in order.
    pumping: Mutex<()>,
    watch: PositionWatch,
    tickets: Tickets,
}

/// Everything behind the replica lock.
#[derive(Debug)]
struct Core {
    replica: Replica,
    /// Outputs taken from the replica and not yet pumped.
    queued: VecDeque<Output>,
    /// Proposals this driver appended whose tickets are open, by position.
    proposals: BTreeMap<Position, RequestId>,
    /// The same proposals, by request id.
    positions: BTreeMap<RequestId, Position>,
    /// The proposals in doubt, by lsn (two may share one, from two epochs).
    doubtful: BTreeSet<(Lsn, Position)>,
    shut_down: bool,
}

/// What the driver does after the sink performed one output.
#[derive(Debug, Default)]
struct FollowUp {
    complete: Vec<(RequestId, Outcome)>,
    applied: Option<Position>,
}

impl Driver {
    /// A driver owning `replica`. The watch starts at the replica's commit
    /// and applied points (non-zero after a restart).
    pub fn new(replica: Replica) -> Driver {
        let watch = position_of(&replica, replica.commit())
            .zip(position_of(&replica, replica.applied()))
            .and_then(|(committed, applied)| PositionWatch::starting_at(committed, applied).ok())
            .unwrap_or_default();
        Driver {
            core: Mutex::new(Core {
                replica,
                queued: VecDeque::new(),
                proposals: BTreeMap::new(),
                positions: BTreeMap::new(),
                doubtful: BTreeSet::new(),
                shut_down: false,
            }),
            work: Condvar::new(),
            pumping: Mutex::new(()),
            watch,
            tickets: Tickets::new(),
        }
    }

    /// Proposes a client write and returns the ticket its outcome will be
    /// delivered to. The ticket is registered before the core sees the
    /// proposal; if the core refuses it, the registration is withdrawn and
    /// the refusal returned.
    pub fn propose(
        &self,
        now: Instant,
        request: RequestId,
        command: Vec<u8>,
    ) -> Result<Ticket, ProposeRefused> {
        let ticket = self.tickets.register(request)?;
        let mut core = shim::lock(&self.core);
        if core.shut_down {
            // Shut down since the registration: the ticket was failed then.
            return Err(RegisterError::Closed(CloseReason::ShutDown).into());
        }
        match core.replica.propose(now, request, command) {
            Ok(position) => {
                core.proposals.insert(position, request);
                core.positions.insert(request, position);
                self.collect(&mut core);
                Ok(ticket)
            }
            Err(refused) => {
                drop(core);
                // Withdraw the registration; the ticket is dropped unseen.
                let _ = self
                    .tickets
                    .complete(request, Outcome::Failed(Failure::NotLeader));
                Err(refused.into())
            }
        }
    }

    /// Passes a peer's message to the core ([`Replica::handle_message`]).
    pub fn handle_message(
        &self,
        now: Instant,
        from: NodeId,
        message: Message,
    ) -> Result<(), InputError> {
        let mut core = shim::lock(&self.core);
        let result = core.replica.handle_message(now, from, message);
        self.collect(&mut core);
        result
    }

    /// Tells the core a deadline passed ([`Replica::handle_timeout`]).
    pub fn handle_timeout(&self, now: Instant) {
        let mut core = shim::lock(&self.core);
        core.replica.handle_timeout(now);
        self.collect(&mut core);
    }

    /// Tells the core the host's log is durable through `through`
    /// ([`Replica::handle_persisted`]).
    pub fn handle_persisted(&self, now: Instant, through: Position) {
        let mut core = shim::lock(&self.core);
        core.replica.handle_persisted(now, through);
        self.collect(&mut core);
    }

    /// Hands the core the snapshot bytes an [`Output::ReadSnapshotChunk`]
    /// asked for ([`Replica::handle_snapshot_chunk`]).
    pub fn handle_snapshot_chunk(
        &self,
        now: Instant,
        to: NodeId,
        snapshot: Position,
        offset: u64,
        data: Vec<u8>,
    ) -> Result<(), SnapshotError> {
        let mut core = shim::lock(&self.core);
        let result = core
            .replica
            .handle_snapshot_chunk(now, to, snapshot, offset, data);
        self.collect(&mut core);
        result
    }

    /// When [`handle_timeout`](Self::handle_timeout) must next be called
    /// ([`Replica::poll_timeout`]).
    pub fn poll_timeout(&self) -> Option<Instant> {
        shim::lock(&self.core).replica.poll_timeout()
    }

    /// Runs `read` on the replica, under its lock (for observers such as
    /// [`Replica::role`]; inputs go through the driver).
    pub fn with_replica<R>(&self, read: impl FnOnce(&Replica) -> R) -> R {
        read(&shim::lock(&self.core).replica)
    }

    /// The committed and applied positions, for threads that wait on them.
    /// Only the driver publishes to it.
    pub fn watch(&self) -> &PositionWatch {
        &self.watch
    }

    /// How many tickets are open (proposals in flight or in doubt).
    pub fn outstanding(&self) -> usize {
        self.tickets.outstanding()
    }

    /// Blocks until there are outputs to [`pump`](Self::pump) (`true`) or
    /// the driver is shut down with none left (`false`).
    pub fn wait_for_outputs(&self) -> bool {
        loop {
            if let Some(ready) = self.wait_for_outputs_until(Deadline::Never) {
                return ready;
            }
        }
    }

    /// Like [`wait_for_outputs`](Self::wait_for_outputs), but gives up after
    /// `timeout` (`false`); a driver thread passes the time left until
    /// [`poll_timeout`](Self::poll_timeout).
    pub fn wait_for_outputs_timeout(&self, timeout: Duration) -> bool {
        self.wait_for_outputs_until(Deadline::after(timeout))
            .unwrap_or(false)
    }

    /// `None` only when the deadline passed.
    fn wait_for_outputs_until(&self, deadline: Deadline) -> Option<bool> {
        let mut core = shim::lock(&self.core);
        loop {
            if !core.queued.is_empty() {
                return Some(true);
            }
            if core.shut_down {
                return Some(false);
            }
            let (next, expired) = shim::wait_until(&self.work, core, deadline);
            core = next;
            if expired {
                return None;
            }
        }
    }

    /// Performs every queued output: hands each to `sink`, in order, doing
    /// the driver's part around it (see the type docs). Returns how many
    /// outputs were handed over. Outputs queued by inputs the sink makes
    /// (for example `handle_persisted`) are left for the next call.
    pub fn pump(&self, mut sink: impl FnMut(Output)) -> usize {
        let _pumping = shim::lock(&self.pumping);
        let batch = {
            let mut core = shim::lock(&self.core);
            let outputs = std::mem::take(&mut core.queued);
            // Refused only after a rollback (see the type docs).
            if let Some(committed) = position_of(&core.replica, core.replica.commit()) {
                let _ = self.watch.publish_committed(committed);
            }
            outputs
                .into_iter()
                .map(|output| {
                    let follow_up = core.follow_up(&output);
                    (output, follow_up)
                })
                .collect::<Vec<_>>()
        };
        let performed = batch.len();
        for (output, follow_up) in batch {
            sink(output);
            if let Some(applied) = follow_up.applied {
                let _ = self.watch.publish_applied(applied);
            }
            for (request, outcome) in follow_up.complete {
                // Refused only after shutdown, which failed the ticket already.
                let _ = self.tickets.complete(request, outcome);
            }
        }
        performed
    }

    /// Shuts the driver down: every open ticket fails with
    /// [`Failure::Abandoned`]`(`[`CloseReason::ShutDown`]`)`, later
    /// proposals are refused, watch waiters are woken, and
    /// [`wait_for_outputs`](Self::wait_for_outputs) returns `false` once the
    /// queue is empty. Outputs already queued can still be pumped.
    pub fn shutdown(&self) {
        let mut core = shim::lock(&self.core);
        core.shut_down = true;
        core.proposals.clear();
        core.positions.clear();
        core.doubtful.clear();
        self.tickets.close(CloseReason::ShutDown);
        self.watch.close(CloseReason::ShutDown);
        self.work.notify_all();
    }

    /// Moves the replica's new outputs to the queue and wakes the pumper.
    fn collect(&self, core: &mut Core) {
        let before = core.queued.len();
        while let Some(output) = core.replica.poll_output() {
            core.queued.push_back(output);
        }
        if core.queued.len() > before {
            self.work.notify_all();
        }
    }
}

impl Core {
    /// Decides, under the replica lock, what the driver does once `output`
    /// has been performed, and updates its record of open proposals.
    fn follow_up(&mut self, output: &Output) -> FollowUp {
        let mut follow_up = FollowUp::default();
        match output {
            Output::Reply { request, outcome } => {
                let outcome = match outcome {
                    ProposalOutcome::Committed(at) => Outcome::Committed(*at),
                    ProposalOutcome::NotLeader { .. } | ProposalOutcome::TransferInProgress => {
                        Outcome::Failed(Failure::NotLeader)
                    }
                    ProposalOutcome::LeadershipLost { .. } => {
                        if let Some(&at) = self.positions.get(request) {
                            self.doubt(at);
                        }
                        return follow_up;
                    }
                };
                if let Some(&at) = self.positions.get(request) {
                    self.forget(at);
                }
                follow_up.complete.push((*request, outcome));
            }
            Output::Apply { entries } => {
                follow_up.applied = entries.last().map(|entry| entry.position());
                let (Some(first), Some(last)) = (entries.first(), entries.last()) else {
                    return follow_up;
                };
                // Applied entries are consecutive: the one at `lsn` is found
                // by offset.
                let applied_at = |lsn: Lsn| {
                    usize::try_from(lsn.0 - first.lsn.0)
                        .ok()
                        .and_then(|i| entries.get(i))
                        .map(|e| e.position())
                };
                for at in self.doubtful_in(first.lsn, last.lsn) {
                    let outcome = if applied_at(at.lsn) == Some(at) {
                        Outcome::Committed(at)
                    } else {
                        Outcome::Failed(Failure::Truncated { position: at })
                    };
                    if let Some(request) = self.forget(at) {
                        follow_up.complete.push((request, outcome));
                    }
                }
            }
            Output::Truncated { discarded, .. } => {
                // Not definite: the entry may commit under a later leader.
                for entry in discarded {
                    self.doubt(entry.position());
                }
            }
            Output::InstallSnapshot { snapshot, replaced } => {
                let top = snapshot.position;
                follow_up.applied = Some(top);
                // Replaced entries at or below one of the snapshot's epoch
                // are in it (log matching).
                let certain_through = replaced
                    .iter()
                    .filter(|p| p.epoch == top.epoch)
                    .map(|p| p.lsn)
                    .max()
                    .unwrap_or(Lsn(0));
                for at in self.doubtful_in(Lsn(0), top.lsn) {
                    let outcome = if at.epoch == top.epoch
                        || (at.lsn <= certain_through && replaced.contains(&at))
                    {
                        Outcome::Committed(at)
                    } else if at.epoch > top.epoch {
                        Outcome::Failed(Failure::Truncated { position: at })
                    } else {
                        Outcome::Failed(Failure::Superseded { position: at })
                    };
                    if let Some(request) = self.forget(at) {
                        follow_up.complete.push((request, outcome));
                    }
                }
            }
            // Nothing for the driver to do: the sink performs these alone.
            Output::PersistHardState(_)
            | Output::RolledBack { .. }
            | Output::Append { .. }
            | Output::Send { .. }
            | Output::RoleChanged { .. }
            | Output::ReadReady { .. }
            | Output::ReadFailed { .. }
            | Output::Compacted { .. }
            | Output::ReadSnapshotChunk { .. }
            | Output::ReceiveSnapshotChunk { .. }
            | Output::MembershipChanged { .. } => {}
        }
        follow_up
    }

    /// Marks the proposal at `at`, if this driver tracks one, in doubt.
    fn doubt(&mut self, at: Position) {
        if self.proposals.contains_key(&at) {
            self.doubtful.insert((at.lsn, at));
        }
    }

    /// The proposals in doubt at lsns `from..=to`.
    fn doubtful_in(&self, from: Lsn, to: Lsn) -> Vec<Position> {
        self.doubtful
            .range((from, Position::ZERO)..)
            .take_while(|(lsn, _)| *lsn <= to)
            .map(|(_, at)| *at)
            .collect()
    }

    /// Stops tracking the proposal at `at`, returning its request id.
    fn forget(&mut self, at: Position) -> Option<RequestId> {
        self.doubtful.remove(&(at.lsn, at));
        let request = self.proposals.remove(&at)?;
        self.positions.remove(&request);
        Some(request)
    }
}

/// The position of the entry at `lsn` in `replica`'s log (zero for lsn 0),
/// or `None` if it is not retained.
fn position_of(replica: &Replica, lsn: Lsn) -> Option<Position> {
    if lsn == Lsn(0) {
        return Some(Position::ZERO);
    }
    let base = replica.log_start();
    if base.lsn == lsn {
        return Some(base);
    }
    replica.entry(lsn).map(|entry| entry.position())
}

#[cfg(all(test, not(loom)))]
#[path = "driver_tests.rs"]
mod tests;
