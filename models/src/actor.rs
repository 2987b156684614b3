//! Stateright actors wrapping the real [`steadfast::Replica`] (servers) and
//! register clients. The server actor is a host: its storage is the
//! reference host, [`MemStorage`](steadfast_sim::host::MemStorage), which persists and applies exactly what
//! the replica's outputs say, in order; the actor sends the messages and
//! answers the clients, and rebuilds the replica from its durable state
//! after a crash. No protocol logic lives here.

use crate::command::{holds_request, Command, Value};
use crate::ghost::Marks;
pub use crate::ghost::{AppliedEpochs, Ghost, StepViolation};
use crate::server::serve_local_read;
pub use crate::server::{Saved, ServerState, Storage};
pub use crate::timers::{TimerBudget, TimersFired};
use stateright::actor::{Actor, Command as ActorCommand, Id, Out};
use std::borrow::Cow;
use std::hash::Hash;
use std::sync::Arc;
use steadfast::membership::MembershipChange;
use steadfast::planted::PlantedBug;
use steadfast::{
    Config, Instant, Message, NodeId, Position, ReadId, ReadRejection, Replica, RequestId,
    SessionToken,
};

/// Messages in the model: replica-to-replica protocol messages, and the
/// client protocol of a replicated register. `Debug` prints the one-line
/// `Display` form (stateright's diagrams and the Explorer use `Debug`).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Msg {
    /// A protocol message between replicas (shared: states copy the
    /// network's messages far more often than a step reads one).
    Peer(Arc<Message>),
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
    /// Operator → every server: change the membership (served by the
    /// leader, through the log).
    Reconfigure {
        /// Request id.
        request: u64,
        /// The single-server change.
        change: MembershipChange,
    },
    /// Server → operator: the change committed at `at`.
    ReconfigureOk {
        /// Request id.
        request: u64,
        /// Where it committed.
        at: Position,
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
    /// Change the membership (an operator's request, sent to every server).
    Reconfigure(MembershipChange),
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
    /// fires at most as often as `timers` allows (this bounds the model;
    /// the server keeps the budget with its state, see `Ghost::budget`).
    Server {
        /// The replica's configuration.
        config: Config,
        /// How often its timer may fire.
        timers: TimerBudget,
        /// A deliberately broken rule the checks must catch (`None` for the
        /// real core).
        planted_bug: Option<PlantedBug>,
        /// Leave a message whose delivery changes nothing in the network
        /// instead of consuming it (see
        /// [`ReplicationModel::skip_no_op_deliveries`](crate::model::ReplicationModel::skip_no_op_deliveries)).
        skip_no_op_deliveries: bool,
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
        ClientOp::Reconfigure(change) => Msg::Reconfigure { request, change },
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
        storage: &Option<Saved>,
        o: &mut Out<Self>,
    ) -> ServerState {
        // What was saved, less what a crash loses: the state machine
        // restarts empty and the replica re-applies the log.
        // A server starting for the first time takes its timer budget from
        // the model; a restart keeps the one it had (see `Ghost::budget`).
        let mut storage = storage.as_ref().map_or_else(
            || {
                let mut fresh = Storage::default();
                fresh.ghost.budget = timers;
                fresh
            },
            |saved| (*saved.0).clone(),
        );
        storage.host.crash();
        let mut replica = match Replica::restart(config.clone(), storage.host.durable(), Instant(0))
        {
            Ok(replica) => replica,
            Err(e) => panic!("model configuration is invalid: {e}"),
        };
        replica.plant_bug(planted_bug);
        let ghost = &mut storage.ghost;
        if replica.epoch() < ghost.highest_epoch {
            ghost
                .epoch_breach
                .get_or_insert(StepViolation::EpochBackwards {
                    from: ghost.highest_epoch,
                    to: replica.epoch(),
                });
        }
        let state = ServerState::new(replica, Arc::new(storage));
        state.arm_timer(o);
        state.storage_save(o);
        state
    }
}

impl Actor for Node {
    type Msg = Msg;
    type State = NodeState;
    type Timer = Tick;
    type Random = ();
    type Storage = Saved;

    fn name(&self) -> String {
        match self {
            Node::Server { config, .. } => format!("{}", config.id),
            Node::Client { .. } => "client".to_string(),
        }
    }

    fn on_start(&self, id: Id, storage: &Option<Saved>, o: &mut Out<Self>) -> NodeState {
        match self {
            Node::Server {
                config,
                planted_bug,
                timers,
                ..
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
            (
                Node::Server {
                    skip_no_op_deliveries,
                    ..
                },
                NodeState::Server(server),
            ) => {
                let command = match msg {
                    Msg::Peer(message) => {
                        let mut next = server.clone();
                        let before = Marks::of(&next.replica);
                        let now = next.now();
                        let from = NodeId(usize::from(src) as u64);
                        let message = Arc::unwrap_or_clone(message);
                        if next.replica.handle_message(now, from, message).is_err() {
                            return;
                        }
                        let mut step = Out::new();
                        next.perform(before, &mut step);
                        if *skip_no_op_deliveries
                            && next == *server
                            && step.iter().all(is_timer_command)
                        {
                            // A message that changes nothing (a response
                            // from an older epoch, a duplicate) is a no-op
                            // delivery: stateright then leaves it in the
                            // network instead of making a state that
                            // differs from this one only by its absence.
                            return;
                        }
                        o.append(&mut step);
                        next.storage_save(o);
                        *state = Cow::Owned(NodeState::Server(next.sealed()));
                        return;
                    }
                    Msg::ReadAt { request, token } => {
                        serve_local_read(server, src, request, token, o);
                        return;
                    }
                    Msg::Put { request, value } => Command::Put { request, value },
                    Msg::Get { request } => Command::Get { request },
                    Msg::NextId { request } => Command::Allocate { request },
                    Msg::Reconfigure { request, change } => {
                        if let Some(next) = reconfigure(server, request, change, o) {
                            *state = Cow::Owned(NodeState::Server(next));
                        }
                        return;
                    }
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
                next.perform(before, o);
                next.storage_save(o);
                *state = Cow::Owned(NodeState::Server(next.sealed()));
            }
            (Node::Client { ops, servers }, NodeState::Client(client)) => {
                let (request, token) = match msg {
                    Msg::PutOk { request, at } => (request, client.token.after_write(at)),
                    Msg::ReadAtOk { request, at, .. } => (request, client.token.after_read(at)),
                    Msg::GetOk { request, .. }
                    | Msg::IdOk { request, .. }
                    | Msg::ReconfigureOk { request, .. }
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
        let NodeState::Server(server) = &**state else {
            return;
        };
        let (role, epoch) = (server.replica.role(), server.replica.epoch());
        let Some(deadline) = server
            .replica
            .poll_timeout()
            .filter(|_| server.timer_allowed())
        else {
            // Out of budget (the timer is not armed then; kept for safety).
            o.cancel_timer(Tick);
            return;
        };
        let mut next = server.clone();
        let before = Marks::of(&next.replica);
        Arc::make_mut(&mut next.storage)
            .ghost
            .fired
            .record(role, epoch);
        next.replica.handle_timeout(deadline);
        next.perform(before, o);
        next.storage_save(o);
        *state = Cow::Owned(NodeState::Server(next.sealed()));
    }
}

/// True for the timer commands a step's host side always ends with: when a
/// server's state is unchanged, re-arming its timer repeats the decision its
/// last step already made, so such a step is a no-op.
fn is_timer_command(command: &ActorCommand<Msg, Tick, (), Saved>) -> bool {
    matches!(
        command,
        ActorCommand::SetTimer(..) | ActorCommand::CancelTimer(..)
    )
}

/// The leader proposes an operator's membership change. The replica
/// refuses a change already made (a promoted learner, a removed node) or
/// one while another is pending, and then, as on other servers, the
/// request stays in the network.
fn reconfigure(
    server: &ServerState,
    request: u64,
    change: MembershipChange,
    o: &mut Out<Node>,
) -> Option<ServerState> {
    if server.replica.role() != steadfast::Role::Leader {
        return None;
    }
    let mut next = server.clone();
    let before = Marks::of(&next.replica);
    let now = next.now();
    if next
        .replica
        .propose_membership(now, RequestId(request), change)
        .is_err()
    {
        return None;
    }
    next.perform(before, o);
    next.storage_save(o);
    Some(next.sealed())
}
