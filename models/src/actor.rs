//! Stateright actors wrapping the real [`steadfast::Replica`] (servers) and
//! register clients. The server actor is a host: its storage is the
//! reference host, [`MemStorage`], which persists and applies exactly what
//! the replica's outputs say, in order; the actor sends the messages and
//! answers the clients, and rebuilds the replica from its durable state
//! after a crash. No protocol logic lives here.

use crate::command::{holds_request, id_allocated, register_at, Command, Value};
use stateright::actor::{model_timeout, Actor, Id, Out};
use std::borrow::Cow;
use std::collections::BTreeMap;
use steadfast::planted::PlantedBug;
use steadfast::{
    Config, Epoch, Instant, Lsn, Message, NodeId, Output, Position, ProposalOutcome, ReadDecision,
    ReadId, ReadRejection, Replica, RequestId, Role, SessionToken,
};
use steadfast_sim::host::MemStorage;

/// Messages in the model: replica-to-replica protocol messages, and the
/// client protocol of a replicated register.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Msg {
    /// A protocol message between replicas.
    Peer(Message),
    /// Client → every server: write `value` (served by whichever is leader).
    Put {
        /// Request id.
        request: u64,
        /// Value.
        value: Value,
    },
    /// Client → every server: read (ordered through the log).
    Get {
        /// Request id.
        request: u64,
    },
    /// Client → every server: allocate the next id.
    NextId {
        /// Request id.
        request: u64,
    },
    /// Server → client: the allocated id.
    IdOk {
        /// Request id.
        request: u64,
        /// The id.
        id: u64,
    },
    /// Server → client: the write is committed at `at` under the policy.
    PutOk {
        /// Request id.
        request: u64,
        /// Where it committed.
        at: Position,
    },
    /// Server → client: the read's value.
    GetOk {
        /// Request id.
        request: u64,
        /// The value read.
        value: Value,
    },
    /// Client → one server: read from your local state (a follower read),
    /// provided it contains everything `token` names.
    ReadAt {
        /// Request id.
        request: u64,
        /// The client's session token (the empty token for a read without
        /// session guarantees).
        token: SessionToken,
    },
    /// Server → client: a local read served from the state applied through
    /// `at` (the token then advances to `at`).
    ReadAtOk {
        /// Request id.
        request: u64,
        /// The applied position the read observed.
        at: Position,
        /// The register's value through `at`.
        value: Value,
    },
    /// Server → client: the token can never be served by this server.
    ReadAtRejected {
        /// Request id.
        request: u64,
        /// Why.
        reason: RejectReason,
    },
}

/// Why a server refused a follower read for good (the ordered mirror of
/// [`ReadRejection`], which carries positions the message does not need).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RejectReason {
    /// The session's history was truncated by a failover.
    HistoryLost,
    /// The token's position lies inside the server's snapshot.
    Compacted,
}

impl From<ReadRejection> for RejectReason {
    fn from(rejection: ReadRejection) -> RejectReason {
        match rejection {
            ReadRejection::HistoryLost { .. } => RejectReason::HistoryLost,
            ReadRejection::Compacted { .. } => RejectReason::Compacted,
        }
    }
}

/// The one timer a server has: "call `handle_timeout` at the replica's deadline".
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Tick;

/// Facts about a server's past that the properties need and that survive
/// crashes (an auditor's notebook, not protocol state).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Ghost {
    /// Every entry this server ever applied, by lsn.
    pub ever_applied: BTreeMap<Lsn, Epoch>,
    /// An entry this server had committed or applied and then truncated.
    pub truncated_committed: Option<Position>,
    /// An lsn at which this server applied two different entries.
    pub applied_conflict: Option<Lsn>,
    /// The first step that moved the epoch backwards.
    pub epoch_breach: Option<StepViolation>,
    /// The first step that moved the commit or applied point backwards.
    pub commit_breach: Option<StepViolation>,
    /// The first entry applied past the commit point.
    pub apply_breach: Option<StepViolation>,
    /// The highest epoch this server ever had (the epoch is durable, so a
    /// restart must not forget it).
    pub highest_epoch: Epoch,
    /// How often its timer has fired, against the model's budget.
    pub fired: TimersFired,
}

/// A step that broke one of the step properties.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StepViolation {
    /// The epoch went from `from` down to `to` (across a restart included).
    EpochBackwards {
        /// Before the step.
        from: Epoch,
        /// After it.
        to: Epoch,
    },
    /// The commit point went from `from` down to `to` while running.
    CommitBackwards {
        /// Before the step.
        from: Lsn,
        /// After it.
        to: Lsn,
    },
    /// The applied point went from `from` down to `to` while running.
    AppliedBackwards {
        /// Before the step.
        from: Lsn,
        /// After it.
        to: Lsn,
    },
    /// The entry at `lsn` was applied while the commit point was `commit`.
    AppliedUncommitted {
        /// The applied entry.
        lsn: Lsn,
        /// The commit point after the step.
        commit: Lsn,
    },
}

impl std::fmt::Display for StepViolation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StepViolation::EpochBackwards { from, to } => {
                write!(f, "the epoch went back from {from} to {to}")
            }
            StepViolation::CommitBackwards { from, to } => {
                write!(f, "the commit point went back from lsn {from} to {to}")
            }
            StepViolation::AppliedBackwards { from, to } => {
                write!(f, "the applied point went back from lsn {from} to {to}")
            }
            StepViolation::AppliedUncommitted { lsn, commit } => {
                write!(f, "lsn {lsn} was applied with the commit point at {commit}")
            }
        }
    }
}

/// How many times a server may fire its timer: a structural bound that
/// keeps the model finite without reference to time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TimerBudget {
    /// Firings while not leading (each starts a pre-vote or an election),
    /// over the server's whole life.
    pub elections: u8,
    /// Firings while leading, per reign (each is a heartbeat round).
    pub heartbeats: u8,
}

/// How many times a server's timer has fired.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct TimersFired {
    /// Firings while not leading.
    pub elections: u8,
    /// Firings while leading in `reign`.
    pub heartbeats: u8,
    /// The epoch the heartbeat count belongs to.
    pub reign: Epoch,
}

impl TimersFired {
    /// True when a timer firing now, in `role` and `epoch`, is within `budget`.
    fn allowed(&self, budget: TimerBudget, role: Role, epoch: Epoch) -> bool {
        if role == Role::Leader {
            let fired = if self.reign == epoch {
                self.heartbeats
            } else {
                0
            };
            fired < budget.heartbeats
        } else {
            self.elections < budget.elections
        }
    }

    /// Count one firing in `role` and `epoch`.
    fn record(&mut self, role: Role, epoch: Epoch) {
        if role == Role::Leader {
            if self.reign != epoch {
                self.reign = epoch;
                self.heartbeats = 0;
            }
            self.heartbeats = self.heartbeats.saturating_add(1);
        } else {
            self.elections = self.elections.saturating_add(1);
        }
    }
}

/// The watermarks the step properties compare across one step.
#[derive(Clone, Copy, Debug)]
struct Marks {
    epoch: Epoch,
    commit: Lsn,
    applied: Lsn,
}

impl Marks {
    fn of(replica: &Replica) -> Marks {
        Marks {
            epoch: replica.epoch(),
            commit: replica.commit(),
            applied: replica.applied(),
        }
    }
}

/// A server's host-side storage, and what it keeps across a crash.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Storage {
    /// The reference host: durable hard state and log (writes are durable
    /// at once), and the state machine. What the actor saves as stateright
    /// storage holds only its durable part (see [`Storage::durable`]).
    pub host: MemStorage,
    /// The auditor's notes.
    pub ghost: Ghost,
}

impl Storage {
    /// What survives a crash: the host's durable state and the notes.
    pub fn durable(&self) -> Storage {
        let mut saved = self.clone();
        saved.host.crash();
        saved
    }
}

/// A server's state: its replica and its host-side storage.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ServerState {
    /// The real replica.
    pub replica: Replica,
    /// The host's storage and the auditor's notes.
    pub storage: Storage,
}

/// A client's state.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ClientState {
    /// Index of the next operation to issue.
    pub next: usize,
    /// The request waiting for its reply.
    pub awaiting: Option<u64>,
    /// The session token, advanced after each acknowledged write and served
    /// follower read. It stays empty for a client without session reads
    /// (see [`uses_session`]), so models without follower reads keep the
    /// state space they had.
    pub token: SessionToken,
}

/// Actor states.
// Servers dominate every model state; boxing them would add an allocation
// per cloned state for no gain, so the size difference is deliberate.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum NodeState {
    /// A server.
    Server(ServerState),
    /// A client.
    Client(ClientState),
}

/// An operation a client performs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ClientOp {
    /// Write a value.
    Put(Value),
    /// Read.
    Get,
    /// Allocate an id.
    NextId,
    /// Read from one server's local state, whatever its role (a follower
    /// read), carrying the session token when `token` is true and the empty
    /// token otherwise.
    FollowerGet {
        /// Index of the server to read from.
        server: usize,
        /// Whether the read carries the client's session token.
        token: bool,
    },
}

/// True when a client with these operations keeps a session token (it has a
/// follower read that carries one).
pub fn uses_session(ops: &[ClientOp]) -> bool {
    ops.iter()
        .any(|op| matches!(op, ClientOp::FollowerGet { token: true, .. }))
}

/// The actors of a replication model.
#[derive(Clone, Debug)]
pub enum Node {
    /// A server hosting a replica with this configuration, whose timer
    /// fires at most as often as `timers` allows (this bounds the model).
    Server {
        /// The replica's configuration.
        config: Config,
        /// How often its timer may fire.
        timers: TimerBudget,
        /// A deliberately broken rule the checks must catch (`None` for the
        /// real core).
        planted_bug: Option<PlantedBug>,
    },
    /// A client issuing `ops` one at a time to all `servers`.
    Client {
        /// Operations in order.
        ops: Vec<ClientOp>,
        /// Number of servers (ids `0..servers`).
        servers: usize,
    },
}

/// The request id a client uses for its `index`-th operation.
pub fn request_id(client: Id, index: usize) -> u64 {
    (usize::from(client) as u64) << 32 | index as u64
}

/// The client that issued `request`.
pub fn client_of(request: u64) -> Id {
    Id::from((request >> 32) as usize)
}

fn issue(
    client: Id,
    ops: &[ClientOp],
    index: usize,
    servers: usize,
    session: SessionToken,
    o: &mut Out<Node>,
) -> Option<u64> {
    let op = ops.get(index)?;
    let request = request_id(client, index);
    let msg = match *op {
        ClientOp::Put(value) => Msg::Put { request, value },
        ClientOp::Get => Msg::Get { request },
        ClientOp::NextId => Msg::NextId { request },
        ClientOp::FollowerGet { server, token } => {
            let token = if token {
                session
            } else {
                SessionToken::default()
            };
            o.send(Id::from(server), Msg::ReadAt { request, token });
            return Some(request);
        }
    };
    for server in 0..servers {
        o.send(Id::from(server), msg.clone());
    }
    Some(request)
}

impl Node {
    fn start_server(
        config: &Config,
        planted_bug: Option<PlantedBug>,
        timers: TimerBudget,
        storage: &Option<Storage>,
        o: &mut Out<Self>,
    ) -> ServerState {
        // Saved durable-only: the state machine restarts empty and the
        // replica re-applies the log.
        let storage = storage.clone().unwrap_or_default();
        let durable = storage.host.durable();
        let mut replica = match Replica::restart(config.clone(), durable, Instant(0)) {
            Ok(replica) => replica,
            Err(e) => panic!("model configuration is invalid: {e}"),
        };
        replica.plant_bug(planted_bug);
        let mut state = ServerState { replica, storage };
        let ghost = &mut state.storage.ghost;
        if state.replica.epoch() < ghost.highest_epoch {
            ghost
                .epoch_breach
                .get_or_insert(StepViolation::EpochBackwards {
                    from: ghost.highest_epoch,
                    to: state.replica.epoch(),
                });
        }
        state.arm_timer(timers, o);
        state
    }
}

impl ServerState {
    /// Perform every pending output as a host would: its storage side
    /// through the reference host, then the actor's own part (messages,
    /// client replies, the auditor's notes). A breach of the host contract
    /// is a core bug the models do not explore past: it panics, naming it.
    fn perform(&mut self, before: Marks, timers: TimerBudget, o: &mut Out<Node>) {
        let commit_before = before.commit;
        while let Some(output) = self.replica.poll_output() {
            let now = self.now();
            if let Err(breach) = self.storage.host.perform(&mut self.replica, now, &output) {
                panic!(
                    "{} breached the host contract: {breach}",
                    self.replica.config().id
                );
            }
            match output {
                Output::Truncated { discarded, .. } => {
                    for entry in &discarded {
                        let applied = self.storage.ghost.ever_applied.get(&entry.lsn);
                        if entry.lsn <= commit_before || applied == Some(&entry.epoch) {
                            self.storage.ghost.truncated_committed = Some(entry.position());
                        }
                    }
                }
                Output::Send { to, message } => {
                    o.send(Id::from(to.0 as usize), Msg::Peer(message));
                }
                Output::Apply { entries } => {
                    for entry in entries {
                        let ghost = &mut self.storage.ghost;
                        if entry.lsn > self.replica.commit() {
                            ghost
                                .apply_breach
                                .get_or_insert(StepViolation::AppliedUncommitted {
                                    lsn: entry.lsn,
                                    commit: self.replica.commit(),
                                });
                        }
                        match ghost.ever_applied.insert(entry.lsn, entry.epoch) {
                            Some(before) if before != entry.epoch => {
                                ghost.applied_conflict = Some(entry.lsn);
                            }
                            _ => {}
                        }
                    }
                }
                Output::Reply { request, outcome } => self.reply(request, outcome, o),
                Output::ReadReady { read, position } => {
                    let value = register_at(self.replica.entries(), position.lsn);
                    o.send(
                        client_of(read.0),
                        Msg::GetOk {
                            request: read.0,
                            value,
                        },
                    );
                }
                // Storage only (performed above), or nothing to do. The
                // models never take snapshots or change membership.
                Output::PersistHardState(_)
                | Output::RolledBack { .. }
                | Output::Append { .. }
                | Output::RoleChanged { .. }
                | Output::ReadFailed { .. }
                | Output::Compacted { .. }
                | Output::ReadSnapshotChunk { .. }
                | Output::ReceiveSnapshotChunk { .. }
                | Output::InstallSnapshot { .. }
                | Output::MembershipChanged { .. } => {}
            }
        }
        self.check_step(before);
        self.arm_timer(timers, o);
    }

    /// Record the first step that moved a watermark backwards.
    fn check_step(&mut self, before: Marks) {
        let after = Marks::of(&self.replica);
        let ghost = &mut self.storage.ghost;
        ghost.highest_epoch = ghost.highest_epoch.max(after.epoch);
        if after.epoch < before.epoch {
            ghost
                .epoch_breach
                .get_or_insert(StepViolation::EpochBackwards {
                    from: before.epoch,
                    to: after.epoch,
                });
        }
        if after.commit < before.commit {
            ghost
                .commit_breach
                .get_or_insert(StepViolation::CommitBackwards {
                    from: before.commit,
                    to: after.commit,
                });
        } else if after.applied < before.applied {
            ghost
                .commit_breach
                .get_or_insert(StepViolation::AppliedBackwards {
                    from: before.applied,
                    to: after.applied,
                });
        }
    }

    /// Arm the timer while the replica has a deadline and the budget allows
    /// one more firing in its current role; otherwise leave it unarmed, so
    /// the checker does not explore a firing that changes nothing.
    fn arm_timer(&self, timers: TimerBudget, o: &mut Out<Node>) {
        let fired = &self.storage.ghost.fired;
        if self.replica.poll_timeout().is_some()
            && fired.allowed(timers, self.replica.role(), self.replica.epoch())
        {
            o.set_timer(Tick, model_timeout());
        } else {
            o.cancel_timer(Tick);
        }
    }

    fn reply(&self, request: RequestId, outcome: ProposalOutcome, o: &mut Out<Node>) {
        let ProposalOutcome::Committed(at) = outcome else {
            return;
        };
        let Some(command) = self.replica.entry(at.lsn).and_then(Command::of) else {
            return;
        };
        let client = client_of(request.0);
        let msg = match command {
            Command::Put { .. } => Msg::PutOk {
                request: request.0,
                at,
            },
            Command::Get { .. } => Msg::GetOk {
                request: request.0,
                value: register_at(self.replica.entries(), at.lsn),
            },
            Command::Allocate { .. } => {
                let Some(id) = id_allocated(self.replica.entries(), request.0) else {
                    return;
                };
                Msg::IdOk {
                    request: request.0,
                    id,
                }
            }
        };
        o.send(client, msg);
    }

    fn now(&self) -> Instant {
        self.replica.now()
    }
}

impl Actor for Node {
    type Msg = Msg;
    type State = NodeState;
    type Timer = Tick;
    type Random = ();
    type Storage = Storage;

    fn name(&self) -> String {
        match self {
            Node::Server { config, .. } => format!("{}", config.id),
            Node::Client { .. } => "client".to_string(),
        }
    }

    fn on_start(&self, id: Id, storage: &Option<Storage>, o: &mut Out<Self>) -> NodeState {
        match self {
            Node::Server {
                config,
                planted_bug,
                timers,
            } => NodeState::Server(Node::start_server(
                config,
                *planted_bug,
                *timers,
                storage,
                o,
            )),
            Node::Client { ops, servers } => NodeState::Client(ClientState {
                next: 1,
                awaiting: issue(id, ops, 0, *servers, SessionToken::default(), o),
                token: SessionToken::default(),
            }),
        }
    }

    fn on_msg(&self, id: Id, state: &mut Cow<NodeState>, src: Id, msg: Msg, o: &mut Out<Self>) {
        match (self, &**state) {
            (Node::Server { timers, .. }, NodeState::Server(server)) => {
                let command = match msg {
                    Msg::Peer(message) => {
                        let mut next = server.clone();
                        let before = Marks::of(&next.replica);
                        let now = next.now();
                        let from = NodeId(usize::from(src) as u64);
                        if next.replica.handle_message(now, from, message).is_err() {
                            return;
                        }
                        next.perform(before, *timers, o);
                        next.storage_save(o);
                        *state = Cow::Owned(NodeState::Server(next));
                        return;
                    }
                    Msg::ReadAt { request, token } => {
                        serve_local_read(server, src, request, token, o);
                        return;
                    }
                    Msg::Put { request, value } => Command::Put { request, value },
                    Msg::Get { request } => Command::Get { request },
                    Msg::NextId { request } => Command::Allocate { request },
                    _ => return,
                };
                if server.replica.role() != steadfast::Role::Leader
                    || holds_request(&server.replica, command.request())
                {
                    // Not ours to serve (yet): the message stays in the network.
                    return;
                }
                let mut next = server.clone();
                let before = Marks::of(&next.replica);
                let now = next.now();
                let accepted = match command {
                    // Writes and allocations go through the log.
                    Command::Put { .. } | Command::Allocate { .. } => next
                        .replica
                        .propose(now, RequestId(command.request()), command.encode())
                        .is_ok(),
                    // Reads are linearizable leader reads (read-index).
                    Command::Get { request } => {
                        next.replica.read_index(now, ReadId(request)).is_ok()
                    }
                };
                if !accepted {
                    return;
                }
                next.perform(before, *timers, o);
                next.storage_save(o);
                *state = Cow::Owned(NodeState::Server(next));
            }
            (Node::Client { ops, servers }, NodeState::Client(client)) => {
                let (request, token) = match msg {
                    Msg::PutOk { request, at } => (request, client.token.after_write(at)),
                    Msg::ReadAtOk { request, at, .. } => (request, client.token.after_read(at)),
                    Msg::GetOk { request, .. }
                    | Msg::IdOk { request, .. }
                    | Msg::ReadAtRejected { request, .. } => (request, client.token),
                    _ => return,
                };
                if client.awaiting != Some(request) {
                    return;
                }
                let token = if uses_session(ops) {
                    token
                } else {
                    client.token
                };
                let awaiting = issue(id, ops, client.next, *servers, token, o);
                *state = Cow::Owned(NodeState::Client(ClientState {
                    next: client.next + 1,
                    awaiting,
                    token,
                }));
            }
            _ => {}
        }
    }

    fn on_timeout(&self, _id: Id, state: &mut Cow<NodeState>, _timer: &Tick, o: &mut Out<Self>) {
        let (Node::Server { timers, .. }, NodeState::Server(server)) = (self, &**state) else {
            return;
        };
        let (role, epoch) = (server.replica.role(), server.replica.epoch());
        let Some(deadline) = server
            .replica
            .poll_timeout()
            .filter(|_| server.storage.ghost.fired.allowed(*timers, role, epoch))
        else {
            // Out of budget (the timer is not armed then; kept for safety).
            o.cancel_timer(Tick);
            return;
        };
        let mut next = server.clone();
        let before = Marks::of(&next.replica);
        next.storage.ghost.fired.record(role, epoch);
        next.replica.handle_timeout(deadline);
        next.perform(before, *timers, o);
        next.storage_save(o);
        *state = Cow::Owned(NodeState::Server(next));
    }
}

/// Answer a follower read as a host would, from the replica's decision:
/// serve the register as applied (the log prefix through the applied
/// position), refuse for good, or do nothing (`Wait`, `Redirect`), which
/// leaves the request in the network until the replica can serve it.
fn serve_local_read(
    server: &ServerState,
    client: Id,
    request: u64,
    token: SessionToken,
    o: &mut Out<Node>,
) {
    match server.replica.read_local(token) {
        ReadDecision::Serve { at } => {
            let value = register_at(server.replica.entries(), at.lsn);
            o.send(client, Msg::ReadAtOk { request, at, value });
        }
        ReadDecision::Rejected(rejection) => o.send(
            client,
            Msg::ReadAtRejected {
                request,
                reason: rejection.into(),
            },
        ),
        ReadDecision::Wait { .. } | ReadDecision::Redirect { .. } => {}
    }
}

impl ServerState {
    fn storage_save(&self, o: &mut Out<Node>) {
        o.save(self.storage.durable());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use steadfast::{Config, Replica};

    fn server() -> ServerState {
        let config = Config::new(NodeId(0), [NodeId(0), NodeId(1), NodeId(2)]);
        let replica = Replica::new(config, Instant(0)).expect("a valid configuration");
        ServerState {
            replica,
            storage: Storage::default(),
        }
    }

    #[test]
    fn a_step_that_moves_a_watermark_back_is_noted_once() {
        let mut s = server();
        s.check_step(Marks::of(&s.replica));
        assert_eq!(s.storage.ghost, Ghost::default(), "nothing moved");
        let ahead = Marks {
            epoch: Epoch(0),
            commit: Lsn(3),
            applied: Lsn(0),
        };
        s.check_step(ahead);
        assert_eq!(
            s.storage.ghost.commit_breach,
            Some(StepViolation::CommitBackwards {
                from: Lsn(3),
                to: Lsn(0)
            })
        );
        let newer = Marks {
            epoch: Epoch(2),
            commit: Lsn(5),
            ..ahead
        };
        s.check_step(newer);
        assert_eq!(
            s.storage.ghost.commit_breach,
            Some(StepViolation::CommitBackwards {
                from: Lsn(3),
                to: Lsn(0)
            }),
            "the first breach is kept"
        );
        assert_eq!(
            s.storage.ghost.epoch_breach,
            Some(StepViolation::EpochBackwards {
                from: Epoch(2),
                to: Epoch(0)
            }),
            "an epoch breach is noted even after a commit breach"
        );
        assert_eq!(
            StepViolation::EpochBackwards {
                from: Epoch(2),
                to: Epoch(1)
            }
            .to_string(),
            "the epoch went back from e2 to e1"
        );
    }

    #[test]
    fn the_timer_budget_counts_elections_for_life_and_heartbeats_per_reign() {
        let budget = TimerBudget {
            elections: 2,
            heartbeats: 1,
        };
        let mut fired = TimersFired::default();
        for _ in 0..2 {
            assert!(fired.allowed(budget, Role::Follower, Epoch(0)));
            fired.record(Role::Follower, Epoch(0));
        }
        assert!(!fired.allowed(budget, Role::Candidate, Epoch(1)));
        let none = TimerBudget {
            heartbeats: 0,
            ..budget
        };
        assert!(!fired.allowed(none, Role::Leader, Epoch(1)));
        assert!(fired.allowed(budget, Role::Leader, Epoch(1)));
        fired.record(Role::Leader, Epoch(1));
        assert!(!fired.allowed(budget, Role::Leader, Epoch(1)));
        assert!(
            fired.allowed(budget, Role::Leader, Epoch(3)),
            "a new reign has its own heartbeats"
        );
    }
}
