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
    ReadId, ReadRejection, Replica, RequestId, SessionToken,
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
    /// A server hosting a replica with this configuration; timers past
    /// `time_limit` never fire (this bounds the model).
    Server {
        /// The replica's configuration.
        config: Config,
        /// Last deadline a timer may fire at.
        time_limit: Instant,
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
        let state = ServerState { replica, storage };
        if state.replica.poll_timeout().is_some() {
            o.set_timer(Tick, model_timeout());
        }
        state
    }
}

impl ServerState {
    /// Perform every pending output as a host would: its storage side
    /// through the reference host, then the actor's own part (messages,
    /// client replies, the auditor's notes). A breach of the host contract
    /// is a core bug the models do not explore past: it panics, naming it.
    fn perform(&mut self, commit_before: Lsn, o: &mut Out<Node>) {
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
        if self.replica.poll_timeout().is_some() {
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
                ..
            } => NodeState::Server(Node::start_server(config, *planted_bug, storage, o)),
            Node::Client { ops, servers } => NodeState::Client(ClientState {
                next: 1,
                awaiting: issue(id, ops, 0, *servers, SessionToken::default(), o),
                token: SessionToken::default(),
            }),
        }
    }

    fn on_msg(&self, id: Id, state: &mut Cow<NodeState>, src: Id, msg: Msg, o: &mut Out<Self>) {
        match (self, &**state) {
            (Node::Server { .. }, NodeState::Server(server)) => {
                let command = match msg {
                    Msg::Peer(message) => {
                        let mut next = server.clone();
                        let commit_before = next.replica.commit();
                        let now = next.now();
                        let from = NodeId(usize::from(src) as u64);
                        if next.replica.handle_message(now, from, message).is_err() {
                            return;
                        }
                        next.perform(commit_before, o);
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
                let commit_before = next.replica.commit();
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
                next.perform(commit_before, o);
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
        let (Node::Server { time_limit, .. }, NodeState::Server(server)) = (self, &**state) else {
            return;
        };
        let Some(deadline) = server.replica.poll_timeout().filter(|d| d <= time_limit) else {
            // Past the model's time bound: the timer stays armed and firing
            // it changes nothing (stateright then treats it as a no-op).
            o.set_timer(Tick, model_timeout());
            return;
        };
        let mut next = server.clone();
        let commit_before = next.replica.commit();
        next.replica.handle_timeout(deadline);
        next.perform(commit_before, o);
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
