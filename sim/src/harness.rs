//! A deterministic in-memory cluster: real [`Replica`]s on reference hosts
//! ([`MemStorage`], persisting at once), a seeded faulty [`Network`],
//! crash-restart from durable state, and the safety [`checks`] evaluated
//! after every step, each replica's own invariants
//! ([`Replica::check_invariants`]) among them.
//!
//! Scenario tests, property tests and the proofs' conformance check drive
//! the core through this harness; the fuzz targets, the models and the
//! transcripts use the same reference host, so all of them exercise the
//! host behaviour a server would have.

pub mod checks;
pub mod clock;
pub mod network;
mod read_checks;
mod reads;
mod snapshots;
mod steps;

pub use checks::{log_mismatch, History, Property, Violation};
pub use clock::Clock;
pub use network::{Faults, Network};
pub use read_checks::ReadObservation;
pub use reads::{ClientSession, LeaderRead, ReadMode, SessionId};
pub use steps::strategy;
pub use steps::Step;

use crate::host::MemStorage;
use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;
use steadfast::config::Config;
use steadfast::durability::{Durability, ElectionQuorum};
use steadfast::entry::{Entry, RequestId};
use steadfast::planted::PlantedBug;
use steadfast::replica::{Output, ProposalOutcome, ProposeError, Replica, Role};
use steadfast::types::{Instant, NodeId, Position};

/// One simulated server: its replica (absent while crashed) and the
/// reference host's storage and state machine.
#[derive(Clone, Debug)]
pub struct Host {
    /// The running replica, `None` while crashed.
    pub replica: Option<Replica>,
    /// What it made durable, and its state machine.
    pub storage: MemStorage,
    config: Config,
    clock: Clock,
}

impl Host {
    /// When this host's replica next needs a timer, in real time.
    fn next_timer(&self) -> Option<Instant> {
        let local = self.replica.as_ref().and_then(Replica::poll_timeout)?;
        Some(self.clock.real(local))
    }
}

/// Something that happened, for a replayable trace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// Simulated time.
    pub at: Instant,
    /// What happened.
    pub what: String,
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{:>6}ms] {}", self.at.0, self.what)
    }
}

/// Shape of a simulated cluster.
#[derive(Clone, Debug)]
pub struct ClusterSpec {
    /// Voters, with ids 1..=voters.
    pub voters: u64,
    /// Learners, with ids after the voters.
    pub learners: u64,
    /// Commit rule.
    pub durability: Durability,
    /// Election rule.
    pub election_quorum: ElectionQuorum,
    /// Seed for jitter and network.
    pub seed: u64,
    /// Network faults.
    pub faults: Faults,
    /// Pre-vote on/off.
    pub pre_vote: bool,
    /// Check-quorum on/off.
    pub check_quorum: bool,
    /// Lease reads with this clock-drift bound (`None`: read-index only).
    pub lease_max_drift: Option<Duration>,
}

impl ClusterSpec {
    /// `voters` voters, `Quorum` durability, majority elections, a reliable network.
    pub fn new(voters: u64) -> ClusterSpec {
        ClusterSpec {
            voters,
            learners: 0,
            durability: Durability::Quorum,
            election_quorum: ElectionQuorum::Majority,
            seed: 1,
            faults: Faults::none(),
            pre_vote: true,
            check_quorum: true,
            lease_max_drift: None,
        }
    }

    /// The replica configuration of node `id`.
    pub fn config(&self, id: NodeId) -> Config {
        let voters = (1..=self.voters).map(NodeId);
        let learners = (self.voters + 1..=self.voters + self.learners).map(NodeId);
        let mut config = Config::new(id, voters)
            .with_learners(learners)
            .with_durability(self.durability)
            .with_election_quorum(self.election_quorum)
            .with_seed(self.seed);
        config.pre_vote = self.pre_vote;
        config.check_quorum = self.check_quorum;
        config.lease_max_drift = self.lease_max_drift;
        config
    }
}

/// A simulated cluster.
#[derive(Clone, Debug)]
pub struct Cluster {
    hosts: BTreeMap<NodeId, Host>,
    network: Network,
    now: Instant,
    next_request: u64,
    proposals: BTreeMap<RequestId, (NodeId, Vec<u8>)>,
    history: History,
    events: Vec<Event>,
    rejections: BTreeMap<NodeId, usize>,
    clients: reads::Clients,
    planted_bug: Option<PlantedBug>,
}

impl Cluster {
    /// Build and start a cluster.
    pub fn new(spec: &ClusterSpec) -> Cluster {
        let ids = (1..=spec.voters + spec.learners).map(NodeId);
        let configs: Vec<Config> = ids.map(|id| spec.config(id)).collect();
        Cluster::from_configs(configs, spec.faults, spec.seed)
    }

    /// Build a cluster from explicit replica configurations.
    pub fn from_configs(configs: Vec<Config>, faults: Faults, seed: u64) -> Cluster {
        let now = Instant(0);
        let hosts = configs
            .into_iter()
            .map(|config| {
                let replica = Replica::new(config.clone(), now).expect("valid simulated config");
                let host = Host::new(replica, config.clone());
                (config.id, host)
            })
            .collect();
        Cluster {
            hosts,
            network: Network::new(faults, seed.wrapping_mul(31).wrapping_add(7)),
            now,
            next_request: 1,
            proposals: BTreeMap::new(),
            history: History::default(),
            events: Vec::new(),
            rejections: BTreeMap::new(),
            clients: reads::Clients::default(),
            planted_bug: None,
        }
    }

    /// Run every replica, now and after every restart or start of a new
    /// node, with a deliberately broken rule (see [`steadfast::planted`]),
    /// so a test can show that the checks catch it.
    pub fn plant_bug(&mut self, bug: Option<PlantedBug>) {
        self.planted_bug = bug;
        for host in self.hosts.values_mut() {
            if let Some(replica) = host.replica.as_mut() {
                replica.plant_bug(bug);
            }
        }
    }

    fn log(&mut self, what: String) {
        self.events.push(Event { at: self.now, what });
    }

    // ----- running -------------------------------------------------------

    /// Current simulated time.
    pub fn now(&self) -> Instant {
        self.now
    }

    /// Process the next event (a due timer or a message delivery).
    /// Returns false when nothing is left to happen.
    pub fn step(&mut self) -> bool {
        let next_timer = self.hosts.values().filter_map(Host::next_timer).min();
        let next_message = self.network.next_delivery();
        let Some(at) = [next_timer, next_message].into_iter().flatten().min() else {
            return false;
        };
        self.now = self.now.max(at);
        if next_message.is_some_and(|m| m <= self.now) {
            if let Some(m) = self.network.take_due(self.now) {
                self.deliver(m.from, m.to, m.message);
            }
        } else {
            let due: Vec<NodeId> = self
                .hosts
                .iter()
                .filter(|(_, h)| h.next_timer().is_some_and(|t| t <= self.now))
                .map(|(id, _)| *id)
                .collect();
            for id in due {
                let now = self.local_now(id);
                if let Some(replica) = self.replica_mut(id) {
                    replica.handle_timeout(now);
                }
                self.drain(id);
            }
        }
        self.check_logs();
        true
    }

    /// Run for `duration` of simulated time.
    pub fn run_for(&mut self, duration: Duration) {
        let end = self.now + duration;
        while self.peek_next().is_some_and(|t| t <= end) {
            self.step();
        }
        self.now = self.now.max(end);
    }

    /// Run until `done` holds or `limit` of simulated time passes; true if it held.
    pub fn run_until(&mut self, limit: Duration, mut done: impl FnMut(&Cluster) -> bool) -> bool {
        let end = self.now + limit;
        while !done(self) {
            if self.peek_next().is_none_or(|t| t > end) {
                self.now = self.now.max(end);
                return done(self);
            }
            self.step();
        }
        true
    }

    fn peek_next(&self) -> Option<Instant> {
        let next_timer = self.hosts.values().filter_map(Host::next_timer).min();
        [next_timer, self.network.next_delivery()]
            .into_iter()
            .flatten()
            .min()
    }

    fn deliver(&mut self, from: NodeId, to: NodeId, message: steadfast::wire::Message) {
        let now = self.local_now(to);
        let kind = message.kind();
        if let steadfast::wire::Message::AppendResponse {
            result: steadfast::wire::AppendResult::Rejected { .. },
            ..
        } = message
        {
            *self.rejections.entry(from).or_default() += 1;
        }
        let Some(replica) = self.replica_mut(to) else {
            return;
        };
        if let Err(e) = replica.handle_message(now, from, message) {
            self.log(format!("{to} rejected {kind} from {from}: {e}"));
        }
        self.drain(to);
    }

    /// Perform every output of `id` as a host would.
    fn drain(&mut self, id: NodeId) {
        let now = self.now;
        let local = self.local_now(id);
        loop {
            let Some(host) = self.hosts.get_mut(&id) else {
                return;
            };
            let Some(replica) = host.replica.as_mut() else {
                return;
            };
            let Some(output) = replica.poll_output() else {
                // The input and every output it led to are done: the
                // replica's own invariants must hold.
                if let Err(violation) = replica.check_invariants() {
                    let detail = format!("{id}: {violation}");
                    self.history
                        .violate(Property::ReplicaInvariants, now, detail);
                }
                return;
            };
            if let Err(error) = host.storage.perform(replica, local, &output) {
                let detail = format!("{id}: {error}");
                self.history.violate(Property::HostContract, now, detail);
            }
            match output {
                Output::Truncated { after, discarded } => {
                    let list: Vec<String> = discarded.iter().map(Entry::to_string).collect();
                    self.history.on_truncate(now, id, &discarded);
                    self.log(format!("{id} truncated after {after}: {}", list.join(", ")));
                }
                Output::RolledBack { entries } => {
                    let list: Vec<String> = entries.iter().map(Entry::to_string).collect();
                    self.log(format!("{id} rolled back applied {}", list.join(", ")))
                }
                Output::Send { to, message } => self.network.send(now, id, to, message),
                Output::Apply { entries } => self.history.on_apply(now, id, &entries),
                Output::Reply { request, outcome } => {
                    if let ProposalOutcome::Committed(position) = outcome {
                        self.history.on_ack(request, position);
                        self.clients.on_ack(request, position);
                        self.log(format!(
                            "{id} acknowledged request {} at {position}",
                            request.0
                        ));
                    }
                }
                Output::RoleChanged {
                    role,
                    epoch,
                    leader,
                } => {
                    let known = leader.map_or_else(|| "none".to_string(), |l| l.to_string());
                    self.log(format!("{id} is {role} in {epoch} (leader {known})"));
                    if role == Role::Leader {
                        if let Some(r) = self.hosts.get(&id).and_then(|h| h.replica.as_ref()) {
                            let r = r.clone();
                            self.history.on_leader(now, id, epoch, &r);
                        }
                        self.check_leases(id);
                    }
                }
                Output::ReadReady { read, position } => self.on_read_ready(id, read, position),
                Output::ReadFailed { read, error } => self.on_read_failed(id, read, error),
                Output::MembershipChanged { membership } => {
                    self.log(format!("{id} uses membership {membership}"))
                }
                Output::Compacted { through } => {
                    self.log(format!("{id} compacted its log through {through}"))
                }
                Output::ReceiveSnapshotChunk { snapshot, .. } => {
                    let len = self
                        .hosts
                        .get(&id)
                        .map_or(0, |h| h.storage.staged_bytes().len());
                    self.log(format!(
                        "{id} holds {len} bytes of the snapshot at {snapshot}"
                    ));
                }
                Output::InstallSnapshot { snapshot, .. } => {
                    let state = self
                        .hosts
                        .get(&id)
                        .map(|h| h.storage.applied().to_vec())
                        .unwrap_or_default();
                    self.history.on_apply(now, id, &state);
                    self.log(format!(
                        "{id} installed the snapshot at {}",
                        snapshot.position
                    ));
                }
                Output::PersistHardState(_)
                | Output::Append { .. }
                | Output::ReadSnapshotChunk { .. } => {}
            }
        }
    }

    fn check_logs(&mut self) {
        let now = self.now;
        let replicas: Vec<Replica> = self
            .hosts
            .values()
            .filter_map(|h| h.replica.clone())
            .collect();
        self.history.check_log_matching(now, replicas.iter());
    }

    // ----- client and operator actions -------------------------------------

    /// Propose `command` at `node`.
    pub fn propose(
        &mut self,
        node: NodeId,
        command: &[u8],
    ) -> Result<(RequestId, Position), ProposeError> {
        let request = RequestId(self.next_request);
        let now = self.local_now(node);
        let replica = self
            .replica_mut(node)
            .ok_or(ProposeError::NotLeader { leader: None })?;
        let position = replica.propose(now, request, command.to_vec())?;
        self.next_request += 1;
        self.proposals.insert(request, (node, command.to_vec()));
        self.log(format!(
            "{node} accepted request {} at {position}",
            request.0
        ));
        self.drain(node);
        Ok((request, position))
    }

    /// Propose at whichever node currently leads (highest epoch).
    pub fn propose_to_leader(&mut self, command: &[u8]) -> Option<(RequestId, Position)> {
        let leader = self.leader()?;
        self.propose(leader, command).ok()
    }

    /// Ask the leader to hand over to `target`.
    pub fn transfer_leadership(&mut self, target: NodeId) -> bool {
        let Some(leader) = self.leader() else {
            return false;
        };
        let now = self.local_now(leader);
        let ok = self
            .replica_mut(leader)
            .is_some_and(|r| r.transfer_leadership(now, target).is_ok());
        self.drain(leader);
        ok
    }

    /// Crash `node`: it loses everything not durable.
    pub fn crash(&mut self, node: NodeId) {
        if let Some(host) = self.hosts.get_mut(&node) {
            host.replica = None;
            host.storage.crash();
        }
        self.network.drop_to(node);
        self.log(format!("{node} crashed"));
        self.lose_reads_at(node);
    }

    /// Restart `node` from its durable state.
    pub fn restart(&mut self, node: NodeId) {
        let now = self.local_now(node);
        if let Some(host) = self.hosts.get_mut(&node) {
            if host.replica.is_none() {
                let durable = host.storage.durable();
                host.replica = Replica::restart(host.config.clone(), durable, now).ok();
                if let Some(replica) = host.replica.as_mut() {
                    replica.plant_bug(self.planted_bug);
                }
            }
        }
        self.log(format!("{node} restarted"));
    }

    /// Cut every link between the two groups.
    pub fn partition(&mut self, a: &[NodeId], b: &[NodeId]) {
        for &x in a {
            for &y in b {
                self.network.cut(x, y);
            }
        }
        self.log(format!("partition {a:?} | {b:?}"));
    }

    /// Isolate `node` from everyone.
    pub fn isolate(&mut self, node: NodeId) {
        let others: Vec<NodeId> = self.hosts.keys().copied().filter(|&n| n != node).collect();
        self.partition(&[node], &others);
    }

    /// Restore every link.
    pub fn heal(&mut self) {
        self.network.heal();
        self.log("network healed".to_string());
    }

    /// From now on, `node`'s clock runs at `rate_per_mille / 1000` of real
    /// time (1000: accurate; below: slow). Models broken clock assumptions.
    pub fn set_clock_rate(&mut self, node: NodeId, rate_per_mille: u64) {
        let now = self.now;
        if let Some(host) = self.hosts.get_mut(&node) {
            host.clock.set_rate(now, rate_per_mille);
        }
        self.log(format!("{node}'s clock runs at {rate_per_mille}/1000"));
    }

    /// `node`'s local time now (real time, unless its clock was skewed).
    pub fn local_now(&self, node: NodeId) -> Instant {
        self.hosts
            .get(&node)
            .map_or(self.now, |h| h.clock.local(self.now))
    }

    /// Change network faults.
    pub fn set_faults(&mut self, faults: Faults) {
        self.network.set_faults(faults);
    }

    // ----- observation -------------------------------------------------

    /// Node ids.
    pub fn ids(&self) -> Vec<NodeId> {
        self.hosts.keys().copied().collect()
    }

    /// The running replica of `node`.
    pub fn replica(&self, node: NodeId) -> Option<&Replica> {
        self.hosts.get(&node).and_then(|h| h.replica.as_ref())
    }

    fn replica_mut(&mut self, node: NodeId) -> Option<&mut Replica> {
        self.hosts.get_mut(&node).and_then(|h| h.replica.as_mut())
    }

    /// The host of `node`.
    pub fn host(&self, node: NodeId) -> Option<&Host> {
        self.hosts.get(&node)
    }

    /// The live leader with the highest epoch, if any.
    pub fn leader(&self) -> Option<NodeId> {
        self.hosts
            .values()
            .filter_map(|h| h.replica.as_ref())
            .filter(|r| r.role() == Role::Leader)
            .max_by_key(|r| r.epoch())
            .map(Replica::id)
    }

    /// What the checks have seen.
    pub fn history(&self) -> &History {
        &self.history
    }

    /// The trace so far.
    pub fn events(&self) -> &[Event] {
        &self.events
    }

    /// The trace as text, one event per line.
    pub fn trace(&self) -> String {
        self.events.iter().map(|e| format!("{e}\n")).collect()
    }

    /// How many append rejections (log-matching failures) `node` has
    /// delivered to a leader: each is one round trip of divergence search.
    pub fn rejections_from(&self, node: NodeId) -> usize {
        self.rejections.get(&node).copied().unwrap_or(0)
    }

    /// Whether `request` was acknowledged.
    pub fn is_acked(&self, request: RequestId) -> bool {
        self.history.acked.contains_key(&request)
    }

    /// Acknowledged writes missing from `node`'s state machine.
    pub fn acked_missing_from(&self, node: NodeId) -> Vec<RequestId> {
        let Some(host) = self.hosts.get(&node) else {
            return Vec::new();
        };
        self.history
            .acked
            .iter()
            .filter(|(_, p)| !host.storage.applied().iter().any(|e| e.position() == **p))
            .map(|(r, _)| *r)
            .collect()
    }
}
