//! The simulated cluster the `cluster` target drives: hosts, network and
//! clock, the events that move them, and the checks made after every event.

use super::host::Host;
use super::{Event, Setup, MAX_IN_FLIGHT, VOTERS};
use crate::harness::History;
use crate::host::Persistence;
use std::collections::{BTreeMap, VecDeque};
use steadfast::config::Config;
use steadfast::entry::{HardState, RequestId};
use steadfast::membership::MembershipChange;
use steadfast::replica::{Durable, Output, Replica, Role};
use steadfast::types::{Epoch, Instant, Lsn, NodeId, Position};
use steadfast::wire::Message;

/// The cluster under test: hosts, network, clock and what the checks remember.
pub(super) struct Sim {
    pub(super) setup: Setup,
    pub(super) hosts: Vec<Host>,
    pub(super) now: Instant,
    pub(super) in_flight: Vec<(NodeId, NodeId, Message)>,
    pub(super) sent: VecDeque<(NodeId, NodeId, Message)>,
    pub(super) history: History,
    /// The vote each replica persisted in each epoch.
    pub(super) votes: BTreeMap<(NodeId, Epoch), NodeId>,
    /// Every accepted proposal (writes and membership changes) and where.
    pub(super) proposals: BTreeMap<RequestId, Position>,
    /// The membership-change requests among them.
    pub(super) reconfigurations: BTreeMap<RequestId, MembershipChange>,
    next_request: u64,
    pub(super) trace: VecDeque<Event>,
    pub(super) max_commit: Lsn,
    pub(super) hostile: usize,
    /// Snapshots installed from a leader's transfer.
    pub(super) installs: usize,
    /// Membership changes acknowledged as committed.
    pub(super) reconfigured: usize,
}

/// The id of the host at `index`.
pub(super) fn node_id(index: usize) -> NodeId {
    NodeId(index as u64 + 1)
}

/// Small retained tails and chunks, so that lagging replicas need
/// snapshots and transfers take several chunks.
const RETAIN_ENTRIES: u64 = 2;
const CHUNK_BYTES: usize = 48;

impl Sim {
    pub(super) fn new(setup: Setup) -> Sim {
        let hosts = u64::from(setup.hosts());
        let hard = HardState {
            epoch: setup.initial_epoch,
            voted_for: None,
        };
        let hosts = (1..=hosts)
            .map(|id| {
                // The learner is in everyone's configuration; the spare node
                // only in its own (as a learner, so it never campaigns)
                // until a membership change adds it.
                let learners = (VOTERS + 1..=hosts)
                    .filter(|&l| setup.learner || l == id)
                    .map(NodeId);
                let mut config = Config::new(NodeId(id), (1..=VOTERS).map(NodeId))
                    .with_learners(learners)
                    .with_durability(setup.durability)
                    .with_seed(setup.seed);
                config.pre_vote = setup.pre_vote;
                config.check_quorum = setup.check_quorum;
                config.snapshot_retain_entries = RETAIN_ENTRIES;
                config.max_snapshot_chunk_bytes = CHUNK_BYTES;
                let durable = Durable {
                    hard_state: hard,
                    ..Durable::default()
                };
                let replica = Replica::restart(config.clone(), durable, Instant(0))
                    .expect("the fuzzed configuration is valid");
                let persistence = if setup.sync_storage {
                    Persistence::Immediate
                } else {
                    Persistence::Deferred
                };
                Host::new(config, replica, hard, persistence)
            })
            .collect();
        Sim {
            setup,
            hosts,
            now: Instant(0),
            in_flight: Vec::new(),
            sent: VecDeque::new(),
            history: History::default(),
            votes: BTreeMap::new(),
            proposals: BTreeMap::new(),
            reconfigurations: BTreeMap::new(),
            next_request: 1,
            trace: VecDeque::new(),
            max_commit: Lsn(0),
            hostile: 0,
            installs: 0,
            reconfigured: 0,
        }
    }

    pub(super) fn index(&self, node: u8) -> usize {
        usize::from(node) % self.hosts.len()
    }

    /// Whether `id` names one of the simulated hosts.
    pub(super) fn is_host(&self, id: NodeId) -> bool {
        (1..=self.hosts.len() as u64).contains(&id.0)
    }

    /// A host other than `index`, chosen by `pick`.
    pub(super) fn other(&self, index: usize, pick: u8) -> usize {
        let n = self.hosts.len();
        (index + 1 + usize::from(pick) % (n - 1)) % n
    }

    /// The running leader of the newest epoch, if any.
    fn leader(&self) -> Option<usize> {
        (0..self.hosts.len())
            .filter(|&i| {
                self.hosts[i]
                    .replica
                    .as_ref()
                    .is_some_and(|r| r.role() == Role::Leader)
            })
            .max_by_key(|&i| self.hosts[i].replica.as_ref().map(Replica::epoch))
    }

    pub(super) fn fail(&self, what: &str) -> ! {
        panic!(
            "{what}\n  setup: {:?}\n  last events (oldest first):\n    {}",
            self.setup,
            self.trace
                .iter()
                .map(|e| format!("{e:?}"))
                .collect::<Vec<_>>()
                .join("\n    ")
        );
    }

    pub(super) fn run(&mut self, event: Event) {
        match event {
            Event::Deliver(i) => {
                if let Some((from, to, message)) = self.take_in_flight(i) {
                    self.deliver(from, to, message);
                }
            }
            Event::Drop(i) => {
                self.take_in_flight(i);
            }
            Event::Duplicate(i) => {
                if !self.in_flight.is_empty() {
                    let i = usize::from(i) % self.in_flight.len();
                    let copy = self.in_flight[i].clone();
                    self.enqueue(copy);
                }
            }
            Event::Replay(i) => {
                if !self.sent.is_empty() {
                    let i = usize::from(i) % self.sent.len();
                    let copy = self.sent[i].clone();
                    self.enqueue(copy);
                }
            }
            Event::Timeout(node) => {
                let i = self.index(node);
                let now = self.now;
                if let Some(replica) = self.hosts[i].replica.as_mut() {
                    if let Some(deadline) = replica.poll_timeout() {
                        let now = now.max(deadline);
                        replica.handle_timeout(now);
                        self.now = now;
                    }
                }
                self.drain(i);
            }
            Event::Advance(ms) => self.now = Instant(self.now.0 + u64::from(ms % 1000)),
            Event::Propose(node, payload) => {
                let i = self.index(node);
                let request = RequestId(self.next_request);
                let now = self.now;
                if let Some(replica) = self.hosts[i].replica.as_mut() {
                    if let Ok(position) = replica.propose(now, request, payload) {
                        self.next_request += 1;
                        self.proposals.insert(request, position);
                    }
                }
                self.drain(i);
            }
            Event::Flush(node, count) => {
                let i = self.index(node);
                self.flush(i, usize::from(count % 4) + 1);
                self.drain(i);
            }
            Event::Crash(node) => {
                let i = self.index(node);
                self.hosts[i].crash();
            }
            Event::Restart(node) => {
                let i = self.index(node);
                self.restart(i);
            }
            Event::Transfer(node) => {
                let target = node_id(self.index(node));
                let now = self.now;
                if let Some(i) = self.leader() {
                    if let Some(replica) = self.hosts[i].replica.as_mut() {
                        let _ = replica.transfer_leadership(now, target);
                    }
                    self.drain(i);
                }
            }
            Event::Snapshot(node) => {
                let i = self.index(node);
                let now = self.now;
                // The log goes durable first (the host's rule for a
                // snapshot the durable log must agree with).
                self.flush(i, usize::MAX);
                self.hosts[i].take_snapshot(now);
                self.drain(i);
            }
            Event::Reconfigure(kind, node) => {
                let node = node_id(self.index(node));
                let change = match kind % 3 {
                    0 => MembershipChange::AddLearner(node),
                    1 => MembershipChange::PromoteLearner(node),
                    _ => MembershipChange::Remove(node),
                };
                self.reconfigure(change);
            }
            Event::Settle(rounds) => {
                for _ in 0..usize::from(rounds % 32) + 1 {
                    for i in 0..self.hosts.len() {
                        self.flush(i, usize::MAX);
                        self.drain(i);
                    }
                    if self.in_flight.is_empty() {
                        break;
                    }
                    let (from, to, message) = self.in_flight.remove(0);
                    self.deliver(from, to, message);
                }
            }
            Event::Outsider {
                to,
                from,
                as_self,
                message,
            } => {
                let i = self.index(to);
                self.outsider(i, from, as_self, message);
            }
            Event::Malformed {
                to,
                from,
                how,
                epoch,
                prev,
                entries,
                commit,
            } => {
                let to = self.index(to);
                let from = node_id(self.other(to, from));
                self.malformed(to, from, how, (epoch, prev), entries, commit);
            }
            Event::Stale {
                to,
                from,
                epoch,
                message,
            } => {
                let to = self.index(to);
                let from = node_id(self.other(to, from));
                self.stale(to, from, epoch, message);
            }
        }
    }

    fn take_in_flight(&mut self, i: u16) -> Option<(NodeId, NodeId, Message)> {
        if self.in_flight.is_empty() {
            return None;
        }
        let i = usize::from(i) % self.in_flight.len();
        Some(self.in_flight.remove(i))
    }

    pub(super) fn enqueue(&mut self, message: (NodeId, NodeId, Message)) {
        if self.in_flight.len() < MAX_IN_FLIGHT {
            self.in_flight.push(message);
        }
    }

    /// Propose a membership change at the leader.
    fn reconfigure(&mut self, change: MembershipChange) {
        let Some(i) = self.leader() else {
            return;
        };
        let request = RequestId(self.next_request);
        let now = self.now;
        if let Some(replica) = self.hosts[i].replica.as_mut() {
            if let Ok(position) = replica.propose_membership(now, request, change) {
                self.next_request += 1;
                self.proposals.insert(request, position);
                self.reconfigurations.insert(request, change);
            }
        }
        self.drain(i);
    }

    /// Deliver an honest message: it must be accepted, unless its sender
    /// is no longer one of the receiver's members (then it is refused as
    /// from an unknown sender, without effect).
    fn deliver(&mut self, from: NodeId, to: NodeId, message: Message) {
        let i = (to.0 - 1) as usize;
        let now = self.now;
        let Some(replica) = self.hosts[i].replica.as_mut() else {
            return;
        };
        let kind = message.kind();
        let stranger = !replica.membership().contains(from);
        match replica.handle_message(now, from, message) {
            Ok(()) => {}
            Err(steadfast::replica::InputError::UnknownSender(sender))
                if stranger && sender == from => {}
            Err(error) => self.fail(&format!(
                "{to} refused an honest {kind} from {from}: {error}"
            )),
        }
        self.drain(i);
    }

    fn restart(&mut self, i: usize) {
        let now = self.now;
        let host = &mut self.hosts[i];
        if host.replica.is_some() {
            return;
        }
        let durable = host.storage.durable();
        let replica = Replica::restart(host.config.clone(), durable.clone(), now)
            .expect("a durable state the core produced restarts");
        let base = host.storage.snapshot_position().lsn;
        let stored: Vec<_> = durable
            .log
            .iter()
            .filter(|e| e.lsn > base)
            .cloned()
            .collect();
        if replica.entries() != stored.as_slice() || replica.snapshot() != durable.snapshot.as_ref()
        {
            self.fail(&format!(
                "{} lost durable state on restart: stored {} entries after the snapshot at {base}, recovered {} after {}",
                node_id(i),
                stored.len(),
                replica.entries().len(),
                replica.log_start()
            ));
        }
        self.hosts[i].replica = Some(replica);
    }

    /// Make the first `count` pending storage writes of host `i` durable and
    /// report the durable end of the log to its replica.
    pub(super) fn flush(&mut self, i: usize, count: usize) {
        let now = self.now;
        let host = &mut self.hosts[i];
        if let Err(problem) = host.storage.flush(host.replica.as_mut(), now, count) {
            self.fail(&format!("{}: {problem}", node_id(i)));
        }
    }

    /// Perform every output of host `i`, in order, as a host would.
    pub(super) fn drain(&mut self, i: usize) {
        loop {
            let Some(replica) = self.hosts[i].replica.as_mut() else {
                return;
            };
            let outputs: Vec<Output> = std::iter::from_fn(|| replica.poll_output()).collect();
            if outputs.is_empty() {
                return;
            }
            for output in outputs {
                self.perform(i, output);
            }
        }
    }

    /// Every invariant, after every event.
    pub(super) fn check(&mut self) {
        let running: Vec<&Replica> = self
            .hosts
            .iter()
            .filter_map(|h| h.replica.as_ref())
            .collect();
        self.history
            .check_log_matching(self.now, running.into_iter());
        if let Some(violation) = self.history.violations.first() {
            self.fail(&violation.to_string());
        }
        let mut max_commit = self.max_commit;
        for (i, host) in self.hosts.iter().enumerate() {
            let Some(replica) = host.replica.as_ref() else {
                continue;
            };
            let id = node_id(i);
            if let Err(violation) = replica.check_invariants() {
                self.fail(&format!("{id}: {violation}"));
            }
            let (applied, commit, last) = (replica.applied(), replica.commit(), replica.last());
            max_commit = max_commit.max(commit);
            if !(applied <= commit && commit <= last.lsn && replica.persisted() <= last.lsn) {
                self.fail(&format!(
                    "{id}: applied {applied}, commit {commit}, persisted {}, last {last}",
                    replica.persisted()
                ));
            }
            let state_machine = host.storage.applied().len();
            if u64::try_from(state_machine).ok() != Some(applied.0) {
                self.fail(&format!(
                    "{id}: the core has applied through {applied}, the host's state machine holds {state_machine} entries",
                ));
            }
            if replica.hard_state() != host.storage.hard_state() {
                self.fail(&format!(
                    "{id} acts on hard state {:?} but persisted {:?}",
                    replica.hard_state(),
                    host.storage.hard_state()
                ));
            }
            if let (Some(entry), Some(first)) =
                (replica.entry(commit), self.history.applied.get(&commit))
            {
                if entry != first {
                    self.fail(&format!(
                        "{id} committed {} at lsn {commit}, but {} was applied there",
                        entry.position(),
                        first.position()
                    ));
                }
            }
        }
        self.max_commit = max_commit;
    }
}
