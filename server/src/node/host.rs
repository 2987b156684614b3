//! The node thread: inputs in, outputs performed, in the core's order.

use super::request::{Request, RequestError, WriteOk};
use super::{NodeConfig, NodeError, PeerNetwork, Status};
use crate::kv::{Applied, Command, KvState, NodeAddrs};
use crate::storage::{Storage, StorageError};
use crate::trace::TracedReplica;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use steadfast::wire::Envelope;
use steadfast::{
    Config, Entry, Instant, Lsn, Membership, NodeId, Output, Position, ProposalOutcome,
    ProposeError, ReadId, RequestId, SessionToken,
};
use tokio::sync::{mpsc, oneshot};

/// A write waiting for its commit.
pub(super) struct PendingWrite {
    pub(super) reply: oneshot::Sender<Result<WriteOk, RequestError>>,
    pub(super) token: SessionToken,
}

/// Everything the node thread owns.
pub(super) struct Host {
    pub(super) config: NodeConfig,
    /// The replica, behind the recorder of `--trace-dir`.
    pub(super) replica: TracedReplica,
    pub(super) storage: Storage,
    pub(super) kv: KvState,
    pub(super) network: Arc<dyn PeerNetwork>,
    started: std::time::Instant,
    next_request: u64,
    pub(super) next_read: u64,
    writes: HashMap<RequestId, PendingWrite>,
    changes: HashMap<RequestId, oneshot::Sender<Result<Position, RequestError>>>,
    pub(super) reads: super::reads::PendingReads,
    applied_since_snapshot: u64,
    /// Snapshots installed from a leader since the node started.
    installed_snapshots: u64,
    /// The peers the network was told to talk to.
    peers: BTreeSet<NodeId>,
}

impl Host {
    /// Open the data directory and restart the replica from it.
    pub(super) fn open(
        config: NodeConfig,
        network: Arc<dyn PeerNetwork>,
    ) -> Result<Host, NodeError> {
        let (storage, recovered) = Storage::open(&config.data_dir, config.storage)?;
        if let Some(torn) = &recovered.torn_tail {
            tracing::warn!(
                "cut a torn log tail of {} bytes from {} at byte {}",
                torn.bytes,
                torn.path.display(),
                torn.cut_at
            );
        }
        let kv = match &recovered.snapshot_data {
            Some(bytes) => KvState::restore(bytes)?,
            None => KvState::new(),
        };
        let me = config.id;
        let voters = config
            .members
            .keys()
            .copied()
            .filter(|&n| !(config.join && n == me));
        let mut core = Config::new(config.id, voters)
            .with_durability(config.durability)
            .with_election_quorum(config.election_quorum)
            .with_seed(config.id.0 ^ config.cluster_id)
            .with_snapshot_retain_entries(config.snapshot_retain_entries);
        core.heartbeat_interval = config.heartbeat;
        core.election_timeout_min = config.election_timeout.0;
        core.election_timeout_max = config.election_timeout.1;
        if config.join {
            core = core.with_learners([me]);
        }
        if let Some(drift) = config.lease_max_drift {
            core.check_quorum = true;
            core = core.with_lease_reads(drift);
        }
        let started = std::time::Instant::now();
        let now = clock(started, config.clock_offset.ms());
        let replica = TracedReplica::restart(
            core,
            recovered.durable,
            now,
            config.cluster_id,
            config.trace_dir.as_deref(),
        )?;
        if let Some(path) = replica.trace_path() {
            tracing::info!(
                "node {me}: recording its replica's calls in {}",
                path.display()
            );
        }
        let mut host = Host {
            config,
            replica,
            storage,
            kv,
            network,
            started,
            next_request: 0,
            next_read: 0,
            writes: HashMap::new(),
            changes: HashMap::new(),
            reads: Default::default(),
            applied_since_snapshot: 0,
            installed_snapshots: 0,
            peers: BTreeSet::new(),
        };
        for (&node, addrs) in &host.config.members {
            if node != host.config.id {
                host.network.add_peer(node, addrs.peer);
                host.peers.insert(node);
            }
        }
        // The membership in force may have moved on since the configured
        // member list was written (a voter added, one removed), and the
        // addresses registered since may be in the restored snapshot, whose
        // entries are not applied again: talk to the members in force now.
        host.connect_members();
        Ok(host)
    }

    /// The core's clock: milliseconds since the node started, plus the
    /// configured offset.
    pub(super) fn now(&self) -> Instant {
        clock(self.started, self.config.clock_offset.ms())
    }

    /// Run until told to stop (or storage fails).
    pub(super) fn run(
        mut self,
        mut inbound: mpsc::Receiver<Envelope>,
        mut requests: mpsc::Receiver<Request>,
        mut stop: oneshot::Receiver<()>,
    ) -> Result<(), String> {
        let runtime = match tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
        {
            Ok(runtime) => runtime,
            Err(e) => return Err(format!("cannot build the node's runtime: {e}")),
        };
        runtime.block_on(async move {
            let mut failure = Ok(());
            loop {
                let deadline = self.deadline();
                tokio::select! {
                    _ = &mut stop => break,
                    Some(envelope) = inbound.recv() => self.on_envelope(envelope),
                    Some(request) = requests.recv() => self.on_request(request),
                    () = tokio::time::sleep_until(deadline) => {
                        let now = self.now();
                        self.replica.handle_timeout(now);
                    }
                }
                // Group commit: take what else is waiting, peers' messages
                // and clients' requests alike, before syncing.
                for _ in 0..2048 {
                    let envelope = inbound.try_recv().ok();
                    let request = requests.try_recv().ok();
                    if envelope.is_none() && request.is_none() {
                        break;
                    }
                    if let Some(envelope) = envelope {
                        self.on_envelope(envelope);
                    }
                    if let Some(request) = request {
                        self.on_request(request);
                    }
                }
                if let Err(e) = self.perform_outputs() {
                    tracing::error!("node {}: storage failed, stopping: {e}", self.config.id);
                    failure = Err(format!("storage failed: {e}"));
                    break;
                }
                // Only now does the state machine match the core's applied
                // point: serve the local reads that may be.
                self.serve_session_waits();
                self.serve_arrived_reads();
                self.reads.expire(self.now());
                if let Some(e) = self.replica.flush_trace() {
                    tracing::warn!("node {}: trace recording stopped: {e}", self.config.id);
                }
            }
            if let Some(e) = self.replica.finish_trace() {
                tracing::warn!("node {}: trace recording stopped: {e}", self.config.id);
            }
            self.fail_everything();
            failure
        })
    }

    /// When the core next needs `handle_timeout`, as a tokio instant.
    fn deadline(&self) -> tokio::time::Instant {
        let now = self.now();
        let wait = self
            .replica
            .poll_timeout()
            .map_or(std::time::Duration::from_secs(1), |at| at.since(now))
            .min(self.config.session_wait);
        tokio::time::Instant::now() + wait
    }

    fn on_envelope(&mut self, envelope: Envelope) {
        if envelope.to != self.config.id {
            return;
        }
        let now = self.now();
        if let Err(e) = self
            .replica
            .handle_message(now, envelope.from, envelope.message)
        {
            tracing::debug!(
                "node {}: refused a message from {}: {e}",
                self.config.id,
                envelope.from
            );
        }
    }

    fn on_request(&mut self, request: Request) {
        let now = self.now();
        match request {
            Request::Write {
                command,
                token,
                reply,
            } => {
                self.next_request += 1;
                let id = RequestId(self.next_request);
                match self.replica.propose(now, id, command.encode()) {
                    Ok(_) => {
                        self.writes.insert(id, PendingWrite { reply, token });
                    }
                    Err(ProposeError::NotLeader { leader }) => {
                        let _ = reply.send(Err(self.not_leader(leader)));
                    }
                    Err(e) => {
                        let _ = reply.send(Err(RequestError::Unavailable(e.to_string())));
                    }
                }
            }
            Request::Read {
                key,
                mode,
                token,
                reply,
            } => self.read(now, key, mode, token, reply),
            Request::Status { reply } => {
                let _ = reply.send(Ok(self.status()));
            }
            Request::Transfer { to, reply } => {
                let result = self
                    .replica
                    .transfer_leadership(now, to)
                    .map_err(|e| RequestError::Rejected(e.to_string()));
                let _ = reply.send(result);
            }
            Request::Membership {
                change,
                addrs,
                reply,
            } => {
                self.change_membership(now, change, addrs, reply);
            }
        }
    }

    /// Register a new node's addresses through the log (so every replica
    /// learns them), then propose the change.
    fn change_membership(
        &mut self,
        now: Instant,
        change: steadfast::MembershipChange,
        addrs: Option<NodeAddrs>,
        reply: oneshot::Sender<Result<Position, RequestError>>,
    ) {
        let adding = match (addrs, change) {
            (Some(addrs), steadfast::MembershipChange::AddLearner(node)) => Some((node, addrs)),
            _ => None,
        };
        if let Some((node, addrs)) = adding {
            if node == self.config.id || self.replica.membership().contains(node) {
                let _ = reply.send(Err(RequestError::Rejected(format!(
                    "node {node} is already a member"
                ))));
                return;
            }
            // The addresses go through the log first, so every replica
            // knows them when the membership names the node.
            self.next_request += 1;
            let register = Command::Register { node, addrs };
            if let Err(ProposeError::NotLeader { leader }) =
                self.replica
                    .propose(now, RequestId(self.next_request), register.encode())
            {
                let _ = reply.send(Err(self.not_leader(leader)));
                return;
            }
        }
        self.next_request += 1;
        let id = RequestId(self.next_request);
        match self.replica.propose_membership(now, id, change) {
            Ok(_) => {
                if let Some((node, addrs)) = adding {
                    self.network.add_peer(node, addrs.peer);
                    self.peers.insert(node);
                }
                self.changes.insert(id, reply);
            }
            Err(e) => {
                let _ = reply.send(Err(RequestError::Rejected(e.to_string())));
            }
        }
    }

    /// A not-leader answer naming the leader and its addresses.
    pub(super) fn not_leader(&self, leader: Option<NodeId>) -> RequestError {
        let addrs = leader.and_then(|node| self.addrs(node));
        RequestError::NotLeader { leader, addrs }
    }

    /// Where `node` can be reached: from the log's directory, else the
    /// initial configuration.
    pub(super) fn addrs(&self, node: NodeId) -> Option<NodeAddrs> {
        self.kv
            .addrs(node)
            .or_else(|| self.config.members.get(&node))
            .copied()
    }

    /// Perform every output, syncing storage once per batch of appends and
    /// reporting it durable, until the core has nothing more to say.
    fn perform_outputs(&mut self) -> Result<(), StorageError> {
        loop {
            let mut persisted = None;
            while let Some(output) = self.replica.poll_output() {
                if let Output::Truncated { after, .. } = &output {
                    // What was appended past the cut is gone: report only
                    // what a later append brings.
                    if persisted.is_some_and(|p: Position| p.lsn > *after) {
                        persisted = None;
                    }
                }
                if let Some(position) = self.perform(output)? {
                    persisted = Some(position);
                }
            }
            let Some(through) = persisted else {
                break;
            };
            // A trace that holds the steps behind every write the log
            // makes durable, even if the process is killed right after:
            // the recorded run then explains a restart's log.
            if let Some(e) = self.replica.flush_trace() {
                tracing::warn!("node {}: trace recording stopped: {e}", self.config.id);
            }
            self.storage.sync()?;
            let now = self.now();
            self.replica.handle_persisted(now, through);
        }
        self.maybe_snapshot()?;
        Ok(())
    }

    /// Perform one output; returns the position of entries appended.
    fn perform(&mut self, output: Output) -> Result<Option<Position>, StorageError> {
        let now = self.now();
        match output {
            Output::PersistHardState(hard_state) => self.storage.save_hard_state(hard_state)?,
            Output::Truncated { after, discarded } => {
                if !discarded.is_empty() {
                    tracing::info!(
                        "node {}: truncated {} entries after lsn {after}",
                        self.config.id,
                        discarded.len()
                    );
                }
                self.storage.truncate_after(after)?;
            }
            Output::RolledBack { entries } => {
                tracing::warn!(
                    "node {}: {} applied entries were lost in a failover; rebuilding the state",
                    self.config.id,
                    entries.len()
                );
                if let Some(first) = entries.first() {
                    self.rebuild_state(first.lsn.prev())?;
                }
            }
            Output::Append { entries } => {
                self.storage.append(&entries)?;
                return Ok(entries.last().map(Entry::position));
            }
            Output::Send { to, message } => {
                let from = self.config.id;
                self.network.send(Envelope { from, to, message });
            }
            Output::Apply { entries } => {
                let mut registered = false;
                for entry in &entries {
                    registered |= matches!(self.kv.apply(entry), Applied::Registered);
                }
                self.applied_since_snapshot += entries.len() as u64;
                if registered {
                    // A member's address may have arrived after the
                    // membership that names it.
                    self.connect_members();
                }
            }
            Output::Reply { request, outcome } => self.complete(request, outcome),
            Output::RoleChanged {
                role,
                epoch,
                leader,
            } => {
                tracing::info!(
                    "node {}: {role:?} in epoch {epoch}, leader {leader:?}",
                    self.config.id
                );
            }
            Output::ReadReady { read, position } => self.read_ready(read, position),
            Output::ReadFailed { read, error } => self.read_failed(read, error),
            Output::Compacted { through } => self.storage.compact_through(through.lsn)?,
            Output::ReadSnapshotChunk {
                to,
                snapshot,
                offset,
                max_len,
            } => {
                if let Some(data) = self
                    .storage
                    .read_snapshot_chunk(snapshot, offset, max_len)?
                {
                    let _ = self
                        .replica
                        .handle_snapshot_chunk(now, to, snapshot, offset, data);
                }
            }
            Output::ReceiveSnapshotChunk {
                snapshot,
                offset,
                data,
            } => {
                self.storage.stage_snapshot_chunk(snapshot, offset, &data)?;
            }
            Output::InstallSnapshot { snapshot, .. } => {
                // Decoded before anything on disk changes: bytes that are
                // not a state of ours stop the node with its directory as
                // it was.
                let decode = |bytes: &[u8]| KvState::restore(bytes).map_err(|e| e.to_string());
                self.kv = self.storage.install_snapshot(&snapshot, decode)?;
                self.applied_since_snapshot = 0;
                self.installed_snapshots += 1;
            }
            Output::MembershipChanged { .. } => self.connect_members(),
        }
        Ok(None)
    }

    /// Answer a write (or membership change) whose outcome is known.
    fn complete(&mut self, request: RequestId, outcome: ProposalOutcome) {
        let result = match outcome {
            ProposalOutcome::Committed(position) => Ok(position),
            ProposalOutcome::NotLeader { leader } => Err(self.not_leader(leader)),
            ProposalOutcome::TransferInProgress => Err(RequestError::Unavailable(
                "a leadership transfer is in progress".into(),
            )),
            ProposalOutcome::LeadershipLost { .. } => Err(RequestError::InDoubt),
        };
        if let Some(write) = self.writes.remove(&request) {
            let answer = result.map(|position| WriteOk {
                position,
                token: write.token.after_write(position),
            });
            let _ = write.reply.send(answer);
        } else if let Some(reply) = self.changes.remove(&request) {
            let _ = reply.send(result);
        }
    }

    /// Talk to every member of the membership in force (and stop talking
    /// to nodes that left it), at the addresses known for them.
    fn connect_members(&mut self) {
        let membership = self.replica.membership();
        let members: BTreeSet<NodeId> = membership
            .voters
            .iter()
            .chain(&membership.learners)
            .copied()
            .filter(|&node| node != self.config.id)
            .collect();
        for &node in &members {
            if let Some(addrs) = self.addrs(node) {
                self.network.add_peer(node, addrs.peer);
                self.peers.insert(node);
            }
        }
        for gone in self.peers.difference(&members).copied().collect::<Vec<_>>() {
            self.network.remove_peer(gone);
            self.peers.remove(&gone);
        }
    }

    /// Snapshot the state machine and let the core compact its log, every
    /// `snapshot_every` applied entries.
    fn maybe_snapshot(&mut self) -> Result<(), StorageError> {
        if self.applied_since_snapshot < self.config.snapshot_every {
            return Ok(());
        }
        let position = self.kv.applied();
        if self
            .storage
            .snapshot()
            .is_some_and(|s| s.position.lsn >= position.lsn)
            || position.lsn.0 == 0
        {
            return Ok(());
        }
        let membership = self
            .kv
            .membership()
            .cloned()
            .unwrap_or_else(|| self.initial_membership());
        let meta = self
            .storage
            .save_snapshot(position, membership, &self.kv.snapshot())?;
        self.applied_since_snapshot = 0;
        let now = self.now();
        if let Err(e) = self
            .replica
            .snapshot_taken(now, meta.position, meta.size, meta.checksum)
        {
            tracing::warn!(
                "node {}: the core refused snapshot at {position}: {e}",
                self.config.id
            );
        }
        // Perform the compaction it answers with.
        while let Some(output) = self.replica.poll_output() {
            self.perform(output)?;
        }
        Ok(())
    }

    fn initial_membership(&self) -> Membership {
        Membership::new(self.config.members.keys().copied(), [])
    }

    /// After a failover lost applied entries from `through + 1` on: the
    /// state from the snapshot, then the log re-applied through `through`
    /// (the `Apply` outputs that follow bring it forward again). A snapshot
    /// that already holds lost entries cannot be taken apart: the state is
    /// then rebuilt from the log alone when it reaches back to the start,
    /// and otherwise kept, with an error logged.
    fn rebuild_state(&mut self, through: Lsn) -> Result<(), StorageError> {
        let mut kv = KvState::new();
        if let Some(meta) = self.storage.snapshot().cloned() {
            let from_log = self.replica.log_start().lsn.0 == 0;
            if meta.position.lsn > through && !from_log {
                tracing::error!(
                    "node {}: the snapshot at {} holds entries the failover lost; the state keeps them",
                    self.config.id,
                    meta.position
                );
                return Ok(());
            }
            if meta.position.lsn <= through {
                let size = usize::try_from(meta.size).unwrap_or(usize::MAX);
                if let Some(data) = self.storage.read_snapshot_chunk(meta.position, 0, size)? {
                    kv = KvState::restore(&data).map_err(|e| StorageError::BadStagedSnapshot {
                        position: meta.position,
                        what: e.to_string(),
                    })?;
                }
            }
        }
        for entry in self.replica.entries() {
            if entry.lsn > kv.applied().lsn && entry.lsn <= through {
                kv.apply(entry);
            }
        }
        self.kv = kv;
        Ok(())
    }

    /// The node's status.
    pub(super) fn status(&self) -> Status {
        let membership = self.replica.membership();
        Status {
            node: self.config.id.0,
            pid: std::process::id(),
            role: format!("{:?}", self.replica.role()).to_lowercase(),
            epoch: self.replica.epoch().0,
            leader: self.replica.leader().map(|n| n.0),
            commit: self.replica.commit().0,
            applied: self.replica.applied().0,
            last: self.replica.last().lsn.0,
            snapshot: self.storage.snapshot().map_or(0, |s| s.position.lsn.0),
            installed_snapshots: self.installed_snapshots,
            keys: self.kv.len(),
            voters: membership.voters.iter().map(|n| n.0).collect(),
            learners: membership.learners.iter().map(|n| n.0).collect(),
            followers: self
                .replica
                .follower_lag()
                .into_iter()
                .map(|(node, lag)| (node.0, super::FollowerStatus { lag }))
                .collect(),
        }
    }

    /// The node is stopping: every waiting client hears so.
    fn fail_everything(&mut self) {
        for (_, write) in self.writes.drain() {
            let _ = write.reply.send(Err(RequestError::ShuttingDown));
        }
        for (_, reply) in self.changes.drain() {
            let _ = reply.send(Err(RequestError::ShuttingDown));
        }
        self.reads.fail_all();
    }

    /// A fresh read id.
    pub(super) fn read_id(&mut self) -> ReadId {
        self.next_read += 1;
        ReadId(self.next_read)
    }
}

/// Milliseconds since `started`, shifted by `offset_ms`.
fn clock(started: std::time::Instant, offset_ms: i64) -> Instant {
    let elapsed = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
    Instant(u64::try_from(elapsed.saturating_add(offset_ms)).unwrap_or(0))
}
