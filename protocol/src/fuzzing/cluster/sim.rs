//! The simulated hosts and network the `cluster` target drives, and the
//! checks it makes after every event.

use super::{Event, Setup, MAX_IN_FLIGHT, REPLAY_WINDOW, VOTERS};
use crate::config::Config;
use crate::entry::{Entry, HardState, RequestId};
use crate::harness::History;
use crate::replica::{Durable, InputError, Output, ProposalOutcome, Replica, Role};
use crate::types::{Epoch, Instant, Lsn, NodeId, Position};
use crate::wire::{self, Envelope, Message};
use std::collections::{BTreeMap, VecDeque};

/// A storage write the host has been asked for and not yet made durable.
#[derive(Clone, Debug)]
enum StorageOp {
    Truncate { after: Lsn, discarded: Vec<Entry> },
    Append(Vec<Entry>),
}

/// One simulated server.
#[derive(Clone, Debug)]
struct Host {
    config: Config,
    replica: Option<Replica>,
    hard: HardState,
    log: Vec<Entry>,
    queue: Vec<StorageOp>,
    applied: Vec<Entry>,
}

/// The cluster under test: hosts, network, clock and what the checks remember.
pub(super) struct Sim {
    setup: Setup,
    hosts: Vec<Host>,
    now: Instant,
    in_flight: Vec<(NodeId, NodeId, Message)>,
    sent: VecDeque<(NodeId, NodeId, Message)>,
    pub(super) history: History,
    votes: BTreeMap<(NodeId, Epoch), NodeId>,
    proposals: BTreeMap<RequestId, Position>,
    next_request: u64,
    pub(super) trace: VecDeque<Event>,
    pub(super) max_commit: Lsn,
    pub(super) hostile: usize,
}

fn node_id(index: usize) -> NodeId {
    NodeId(index as u64 + 1)
}

impl Sim {
    pub(super) fn new(setup: Setup) -> Sim {
        let members = VOTERS + u64::from(setup.learner);
        let hard = HardState {
            epoch: setup.initial_epoch,
            voted_for: None,
        };
        let hosts = (1..=members)
            .map(|id| {
                let mut config = Config::new(NodeId(id), (1..=VOTERS).map(NodeId))
                    .with_learners((VOTERS + 1..=members).map(NodeId))
                    .with_durability(setup.durability)
                    .with_seed(setup.seed);
                config.pre_vote = setup.pre_vote;
                config.check_quorum = setup.check_quorum;
                let durable = Durable {
                    hard_state: hard,
                    ..Durable::default()
                };
                let replica = Replica::restart(config.clone(), durable, Instant(0))
                    .expect("the fuzzed configuration is valid");
                Host {
                    config,
                    replica: Some(replica),
                    hard,
                    log: Vec::new(),
                    queue: Vec::new(),
                    applied: Vec::new(),
                }
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
            next_request: 1,
            trace: VecDeque::new(),
            max_commit: Lsn(0),
            hostile: 0,
        }
    }

    fn index(&self, node: u8) -> usize {
        usize::from(node) % self.hosts.len()
    }

    fn is_member(&self, id: NodeId) -> bool {
        (1..=self.hosts.len() as u64).contains(&id.0)
    }

    /// A member other than `index`, chosen by `pick`.
    fn other(&self, index: usize, pick: u8) -> usize {
        let n = self.hosts.len();
        (index + 1 + usize::from(pick) % (n - 1)) % n
    }

    fn fail(&self, what: &str) -> ! {
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
                if !self.in_flight.is_empty() {
                    let i = usize::from(i) % self.in_flight.len();
                    let (from, to, message) = self.in_flight.remove(i);
                    self.deliver(from, to, message);
                }
            }
            Event::Drop(i) => {
                if !self.in_flight.is_empty() {
                    let i = usize::from(i) % self.in_flight.len();
                    self.in_flight.remove(i);
                }
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
                let host = &mut self.hosts[i];
                host.replica = None;
                host.queue.clear();
                host.applied.clear();
            }
            Event::Restart(node) => {
                let i = self.index(node);
                self.restart(i);
            }
            Event::Transfer(node) => {
                let target = node_id(self.index(node));
                let now = self.now;
                let leader = (0..self.hosts.len())
                    .filter(|&i| {
                        self.hosts[i]
                            .replica
                            .as_ref()
                            .is_some_and(|r| r.role() == Role::Leader)
                    })
                    .max_by_key(|&i| self.hosts[i].replica.as_ref().map(Replica::epoch));
                if let Some(i) = leader {
                    if let Some(replica) = self.hosts[i].replica.as_mut() {
                        let _ = replica.transfer_leadership(now, target);
                    }
                    self.drain(i);
                }
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
                let message = malformed_append(how, epoch, prev, entries, commit);
                self.expect_refusal(to, from, message, |e| {
                    matches!(e, InputError::MalformedAppend(_))
                });
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

    fn enqueue(&mut self, message: (NodeId, NodeId, Message)) {
        if self.in_flight.len() < MAX_IN_FLIGHT {
            self.in_flight.push(message);
        }
    }

    /// Deliver an honest message: it must be accepted.
    fn deliver(&mut self, from: NodeId, to: NodeId, message: Message) {
        let i = (to.0 - 1) as usize;
        let now = self.now;
        let Some(replica) = self.hosts[i].replica.as_mut() else {
            return;
        };
        let kind = message.kind();
        if let Err(error) = replica.handle_message(now, from, message) {
            self.fail(&format!(
                "{to} refused an honest {kind} from {from}: {error}"
            ));
        }
        self.drain(i);
    }

    fn restart(&mut self, i: usize) {
        let now = self.now;
        let host = &mut self.hosts[i];
        if host.replica.is_some() {
            return;
        }
        let durable = Durable {
            hard_state: host.hard,
            log: host.log.clone(),
            applied: Lsn(0),
            snapshot: None,
        };
        let replica = Replica::restart(host.config.clone(), durable, now)
            .expect("a durable state the core produced restarts");
        if replica.entries() != host.log.as_slice() {
            let stored = host.log.len();
            self.fail(&format!(
                "{} lost durable entries on restart: stored {stored}, recovered {}",
                node_id(i),
                replica.entries().len()
            ));
        }
        self.hosts[i].replica = Some(replica);
    }

    /// Make the first `count` pending storage writes of host `i` durable and
    /// report the durable end of the log to its replica.
    fn flush(&mut self, i: usize, count: usize) {
        let now = self.now;
        let host = &mut self.hosts[i];
        let count = count.min(host.queue.len());
        if count == 0 {
            return;
        }
        let mut problem = None;
        for op in host.queue.drain(..count) {
            match op {
                StorageOp::Truncate { after, discarded } => {
                    let keep = usize::try_from(after.0).unwrap_or(usize::MAX);
                    let removed = host.log.split_off(keep.min(host.log.len()));
                    if removed != discarded {
                        problem = Some(format!(
                            "truncation after {after} reported {} entries but removes {} from storage",
                            discarded.len(),
                            removed.len()
                        ));
                    }
                }
                StorageOp::Append(entries) => {
                    let expected = Lsn(host.log.len() as u64).next();
                    if entries.first().map(|e| e.lsn) != Some(expected) {
                        problem = Some(format!(
                            "append starting at {:?} does not continue the stored log (next lsn {expected})",
                            entries.first().map(Entry::position)
                        ));
                    }
                    host.log.extend(entries);
                }
            }
        }
        if let Some(problem) = problem {
            self.fail(&format!("{}: {problem}", node_id(i)));
        }
        let host = &mut self.hosts[i];
        if let (Some(last), Some(replica)) = (host.log.last(), host.replica.as_mut()) {
            replica.handle_persisted(now, last.position());
        }
    }

    /// Perform every output of host `i`, in order, as a host would.
    fn drain(&mut self, i: usize) {
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

    fn perform(&mut self, i: usize, output: Output) {
        let id = node_id(i);
        let now = self.now;
        match output {
            Output::PersistHardState(hard) => {
                let old = self.hosts[i].hard;
                if hard.epoch < old.epoch {
                    self.fail(&format!(
                        "{id} lowered its persisted epoch: {old:?} -> {hard:?}"
                    ));
                }
                if let Some(vote) = hard.voted_for {
                    match self.votes.get(&(id, hard.epoch)) {
                        Some(&earlier) if earlier != vote => self.fail(&format!(
                            "{id} voted for {earlier} and then for {vote} in epoch {}",
                            hard.epoch
                        )),
                        _ => {
                            self.votes.insert((id, hard.epoch), vote);
                        }
                    }
                }
                self.hosts[i].hard = hard;
            }
            Output::Truncated { after, discarded } => {
                if discarded.first().map(|e| e.lsn) != Some(after.next()) {
                    self.fail(&format!(
                        "{id}: truncation after {after} reports {discarded:?}"
                    ));
                }
                self.history.on_truncate(now, id, &discarded);
                self.store(i, StorageOp::Truncate { after, discarded });
            }
            Output::Append { entries } => {
                if entries.is_empty() {
                    self.fail(&format!("{id} asked to append no entries"));
                }
                self.store(i, StorageOp::Append(entries));
            }
            Output::RolledBack { entries } => self.fail(&format!(
                "{id} rolled back applied entries {:?} under {:?}, which survives failover",
                entries.iter().map(Entry::position).collect::<Vec<_>>(),
                self.setup.durability
            )),
            Output::Send { to, message } => {
                if to == id || !self.is_member(to) {
                    self.fail(&format!("{id} sent {} to {to}", message.kind()));
                }
                let envelope = Envelope {
                    from: id,
                    to,
                    message,
                };
                let bytes = wire::encode(&envelope).expect("every message encodes");
                match wire::decode(&bytes) {
                    Ok(decoded) if decoded == envelope => {}
                    other => self.fail(&format!("wire round trip of {envelope:?} gave {other:?}")),
                }
                let sent = (envelope.from, envelope.to, envelope.message);
                if self.sent.len() >= REPLAY_WINDOW {
                    self.sent.pop_front();
                }
                self.sent.push_back(sent.clone());
                self.enqueue(sent);
            }
            Output::Apply { entries } => {
                let next = Lsn(self.hosts[i].applied.len() as u64).next();
                if entries.first().map(|e| e.lsn) != Some(next) {
                    self.fail(&format!(
                        "{id} applies from {:?}, expected lsn {next}",
                        entries.first().map(Entry::position)
                    ));
                }
                self.history.on_apply(now, id, &entries);
                self.hosts[i].applied.extend(entries);
            }
            Output::Reply { request, outcome } => {
                if let ProposalOutcome::Committed(position) = outcome {
                    if self.proposals.get(&request) != Some(&position) {
                        self.fail(&format!(
                            "request {} acknowledged at {position}, proposed at {:?}",
                            request.0,
                            self.proposals.get(&request)
                        ));
                    }
                    let durable_on = (0..VOTERS as usize)
                        .filter(|&v| {
                            let index = usize::try_from(position.lsn.0).unwrap_or(usize::MAX);
                            index
                                .checked_sub(1)
                                .and_then(|index| self.hosts[v].log.get(index))
                                .is_some_and(|e| e.position() == position)
                        })
                        .count();
                    let quorum = self.setup.durability.commit_quorum(VOTERS as usize);
                    if durable_on < quorum {
                        self.fail(&format!(
                            "request {} acknowledged at {position} while durable on {durable_on} voters (commit quorum {quorum})",
                            request.0
                        ));
                    }
                    self.history.on_ack(request, position);
                }
            }
            Output::RoleChanged {
                role: Role::Leader,
                epoch,
                ..
            } => {
                if let Some(replica) = self.hosts[i].replica.clone() {
                    self.history.on_leader(now, id, epoch, &replica);
                }
            }
            Output::RoleChanged { .. }
            | Output::ReadReady { .. }
            | Output::ReadFailed { .. }
            | Output::MembershipChanged { .. } => {}
            Output::Compacted { .. }
            | Output::ReadSnapshotChunk { .. }
            | Output::ReceiveSnapshotChunk { .. }
            | Output::InstallSnapshot { .. } => self.fail(&format!(
                "{id} asked for snapshot work in a cluster that never snapshots: {output:?}"
            )),
        }
    }

    fn store(&mut self, i: usize, op: StorageOp) {
        self.hosts[i].queue.push(op);
        if self.setup.sync_storage {
            self.flush(i, usize::MAX);
        }
    }

    /// Bring replica `i`'s clock to `now` without any other effect, so a
    /// refused input can be compared against an exact copy.
    fn touch(&mut self, i: usize) -> Option<Replica> {
        let now = self.now;
        let replica = self.hosts[i].replica.as_mut()?;
        replica.handle_persisted(now, Position::ZERO);
        Some(replica.clone())
    }

    fn outsider(&mut self, i: usize, from: u64, as_self: bool, message: Message) {
        let members = self.hosts.len() as u64;
        let from = if as_self {
            node_id(i)
        } else if (1..=members).contains(&from) {
            NodeId(from + members)
        } else {
            NodeId(from)
        };
        self.expect_refusal(i, from, message, |e| {
            if as_self {
                *e == InputError::FromSelf
            } else {
                *e == InputError::UnknownSender(from)
            }
        });
    }

    fn expect_refusal(
        &mut self,
        i: usize,
        from: NodeId,
        message: Message,
        expected: impl Fn(&InputError) -> bool,
    ) {
        let Some(before) = self.touch(i) else {
            return;
        };
        let now = self.now;
        let kind = message.kind();
        let replica = self.hosts[i].replica.as_mut().expect("touched");
        let result = replica.handle_message(now, from, message);
        match result {
            Err(error) if expected(&error) => {}
            other => self.fail(&format!(
                "{} answered a hostile {kind} from {from} with {other:?}",
                node_id(i)
            )),
        }
        if self.hosts[i].replica.as_ref() != Some(&before) {
            self.fail(&format!(
                "{} changed state on a refused {kind} from {from}",
                node_id(i)
            ));
        }
        self.hostile += 1;
    }

    fn stale(&mut self, i: usize, from: NodeId, epoch: u64, mut message: Message) {
        let Some(before) = self.touch(i) else {
            return;
        };
        let current = before.epoch();
        if current.0 == 0 {
            return;
        }
        set_epoch(&mut message, Epoch(epoch % current.0));
        let now = self.now;
        let kind = message.kind();
        let replica = self.hosts[i].replica.as_mut().expect("touched");
        let result = replica.handle_message(now, from, message);
        let outputs: Vec<Output> = std::iter::from_fn(|| replica.poll_output()).collect();
        let unchanged = *replica == before;
        // A stale append or snapshot chunk may also be malformed; refusing
        // it (state unchanged, checked below) is then right.
        if let Err(error) = result.or_else(|e| match e {
            InputError::MalformedAppend(_) | InputError::MalformedSnapshot(_) => Ok(()),
            other => Err(other),
        }) {
            self.fail(&format!(
                "{} refused a stale {kind} from {from}: {error}",
                node_id(i)
            ));
        }
        if !unchanged {
            self.fail(&format!(
                "{} changed state on a stale {kind} from {from}",
                node_id(i)
            ));
        }
        self.hostile += 1;
        for output in outputs {
            match &output {
                Output::Send { to, message } if *to == from && message.epoch() == current => {}
                other => self.fail(&format!(
                    "{} answered a stale {kind} from {from} with {other:?}",
                    node_id(i)
                )),
            }
            self.perform(i, output);
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
            let (applied, commit, last) = (replica.applied(), replica.commit(), replica.last());
            max_commit = max_commit.max(commit);
            if !(applied <= commit && commit <= last.lsn && replica.persisted() <= last.lsn) {
                self.fail(&format!(
                    "{id}: applied {applied}, commit {commit}, persisted {}, last {last}",
                    replica.persisted()
                ));
            }
            if replica.hard_state() != host.hard {
                self.fail(&format!(
                    "{id} acts on hard state {:?} but persisted {:?}",
                    replica.hard_state(),
                    host.hard
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

/// An append that breaks one rule of [`InputError::MalformedAppend`],
/// chosen by `how`; the other fields are the fuzzer's.
fn malformed_append(
    how: u8,
    mut epoch: Epoch,
    mut prev: Position,
    mut entries: Vec<Entry>,
    commit: Lsn,
) -> Message {
    let template = entries.first().cloned().unwrap_or(Entry {
        epoch,
        lsn: Lsn(0),
        kind: crate::entry::EntryKind::Noop,
    });
    epoch.0 = epoch.0.min(u64::MAX - 1);
    match how % 4 {
        // `prev` is newer than the sender's epoch.
        0 => prev.epoch = epoch.next(),
        // The first entry does not follow `prev`.
        1 => {
            prev.epoch = prev.epoch.min(epoch);
            let first = Entry {
                lsn: Lsn(prev.lsn.0.wrapping_add(2)),
                ..template
            };
            entries.insert(0, first);
        }
        // An entry newer than the sender's epoch.
        2 => {
            prev.epoch = prev.epoch.min(epoch);
            let first = Entry {
                epoch: epoch.next(),
                lsn: prev.lsn.next(),
                ..template
            };
            entries.insert(0, first);
        }
        // An entry older than `prev`.
        _ => {
            prev.epoch = Epoch(prev.epoch.0.clamp(1, epoch.0.max(1)));
            epoch = epoch.max(prev.epoch);
            let first = Entry {
                epoch: Epoch(prev.epoch.0 - 1),
                lsn: prev.lsn.next(),
                ..template
            };
            entries.insert(0, first);
        }
    }
    Message::Append {
        epoch,
        prev,
        entries,
        commit,
        round: 0,
    }
}

fn set_epoch(message: &mut Message, to: Epoch) {
    match message {
        Message::Append { epoch, .. }
        | Message::AppendResponse { epoch, .. }
        | Message::RequestVote { epoch, .. }
        | Message::VoteResponse { epoch, .. }
        | Message::TimeoutNow { epoch }
        | Message::InstallSnapshot { epoch, .. }
        | Message::InstallSnapshotResponse { epoch, .. } => *epoch = to,
    }
}
