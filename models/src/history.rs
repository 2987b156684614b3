//! What the models record from the messages actors exchange: the client
//! history for the linearizability tester, acknowledged writes, and which
//! replica led which epoch (only leaders send appends), and the follower
//! reads clients accepted, with what each client had seen before issuing it.

use crate::actor::{client_of, Msg};
use crate::command::Value;
use crate::model::ReplicationModel;
use stateright::actor::{Envelope, Id};
use stateright::semantics::register::{Register, RegisterOp, RegisterRet};
use stateright::semantics::{ConsistencyTester, LinearizabilityTester};
use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::ops::Deref;
use std::sync::Arc;
use steadfast::{Epoch, Message, Position};

/// The model's history.
#[derive(Clone, Debug, PartialEq, Hash)]
pub struct History {
    /// Client operations as invoked and returned.
    pub linearizability: LinearizabilityTester<Id, Register<Value>>,
    /// Acknowledged writes: request id → where they committed.
    pub acked: BTreeMap<u64, Position>,
    /// The first replica seen leading each epoch.
    pub leaders: BTreeMap<Epoch, Id>,
    /// An epoch in which two replicas sent appends (two leaders).
    pub two_leaders: Option<(Epoch, Id, Id)>,
    /// Ids handed to clients: id → the request that received it.
    pub ids: BTreeMap<u64, u64>,
    /// An id handed out to two different requests.
    pub reissued_id: Option<u64>,
    /// Follower reads as the clients accepted them, in the order accepted.
    pub follower_reads: Vec<FollowerRead>,
    /// Follower reads a server refused for good.
    pub rejected_reads: usize,
    /// Where the operator's membership changes committed, in order.
    pub reconfigured: Vec<Position>,
}

/// The history as model states hold it: shared between the states that
/// did not change it, and hashed once, when it was recorded (its [`Hash`]
/// feeds that 64-bit digest, as [`ServerState`](crate::actor::ServerState)
/// does). Every state is hashed whole, and few steps record anything.
#[derive(Clone, Debug, PartialEq)]
pub struct Recorded {
    history: Arc<History>,
    digest: u64,
}

impl From<History> for Recorded {
    fn from(history: History) -> Recorded {
        Recorded {
            digest: crate::digest::digest(&history),
            history: Arc::new(history),
        }
    }
}

impl Default for Recorded {
    fn default() -> Recorded {
        History::default().into()
    }
}

impl Deref for Recorded {
    type Target = History;
    fn deref(&self) -> &History {
        &self.history
    }
}

impl Hash for Recorded {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.digest);
    }
}

/// A follower read a client accepted, with the session facts the
/// properties judge it by. These facts come from the history (what the
/// client was acknowledged and served before), never from the client's
/// token, so the token mechanism is what is being checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FollowerRead {
    /// The reading client.
    pub client: Id,
    /// The server that served it.
    pub server: Id,
    /// The applied position the read observed.
    pub at: Position,
    /// The value it returned.
    pub value: Value,
    /// The client's last acknowledged write before this read, if any.
    pub last_write: Option<Position>,
    /// The position of the client's previous served follower read, if any.
    pub last_read: Option<Position>,
}

impl Default for History {
    fn default() -> History {
        History {
            linearizability: LinearizabilityTester::new(Register(0)),
            acked: BTreeMap::new(),
            leaders: BTreeMap::new(),
            two_leaders: None,
            ids: BTreeMap::new(),
            reissued_id: None,
            follower_reads: Vec::new(),
            rejected_reads: 0,
            reconfigured: Vec::new(),
        }
    }
}

/// Record invocations (a client's request, counted once although it is sent
/// to every server) and leadership (appends).
pub fn record_out(
    _: &ReplicationModel,
    history: &Recorded,
    env: Envelope<&Msg>,
) -> Option<Recorded> {
    history_out(history, env).map(Recorded::from)
}

/// Record returns (only the reply a client accepts reaches here: replies it
/// ignores are no-ops and are not recorded) and acknowledged writes.
pub fn record_in(
    _: &ReplicationModel,
    history: &Recorded,
    env: Envelope<&Msg>,
) -> Option<Recorded> {
    history_in(history, env).map(Recorded::from)
}

fn history_out(history: &History, env: Envelope<&Msg>) -> Option<History> {
    match env.msg {
        Msg::Put { value, .. } if env.dst == Id::from(0) => {
            let mut h = history.clone();
            let _ = h
                .linearizability
                .on_invoke(env.src, RegisterOp::Write(*value));
            Some(h)
        }
        Msg::Get { .. } if env.dst == Id::from(0) => {
            let mut h = history.clone();
            let _ = h.linearizability.on_invoke(env.src, RegisterOp::Read);
            Some(h)
        }
        Msg::Peer(message) => match &**message {
            Message::Append { epoch, .. } => match history.leaders.get(epoch) {
                Some(&leader) if leader == env.src => None,
                Some(&leader) => {
                    let mut h = history.clone();
                    h.two_leaders.get_or_insert((*epoch, leader, env.src));
                    Some(h)
                }
                None => {
                    let mut h = history.clone();
                    h.leaders.insert(*epoch, env.src);
                    Some(h)
                }
            },
            _ => None,
        },
        _ => None,
    }
}

fn history_in(history: &History, env: Envelope<&Msg>) -> Option<History> {
    match env.msg {
        Msg::PutOk { request, at } => {
            let mut h = history.clone();
            let _ = h.linearizability.on_return(env.dst, RegisterRet::WriteOk);
            h.acked.insert(*request, *at);
            Some(h)
        }
        Msg::IdOk { request, id } => {
            let mut h = history.clone();
            match h.ids.get(id) {
                Some(other) if other != request => {
                    h.reissued_id.get_or_insert(*id);
                }
                _ => {
                    h.ids.insert(*id, *request);
                }
            }
            Some(h)
        }
        Msg::ReconfigureOk { at, .. } => {
            let mut h = history.clone();
            h.reconfigured.push(*at);
            Some(h)
        }
        Msg::GetOk { value, .. } => {
            let mut h = history.clone();
            let _ = h
                .linearizability
                .on_return(env.dst, RegisterRet::ReadOk(*value));
            Some(h)
        }
        Msg::ReadAtOk { at, value, .. } => {
            let client = env.dst;
            // Clients issue one operation at a time, in request-id order, so
            // the latest acknowledged request of this client is its last write.
            let last_write = history
                .acked
                .iter()
                .rev()
                .find(|(request, _)| client_of(**request) == client)
                .map(|(_, at)| *at);
            let last_read = history
                .follower_reads
                .iter()
                .rev()
                .find(|r| r.client == client)
                .map(|r| r.at);
            let mut h = history.clone();
            h.follower_reads.push(FollowerRead {
                client,
                server: env.src,
                at: *at,
                value: *value,
                last_write,
                last_read,
            });
            Some(h)
        }
        Msg::ReadAtRejected { .. } => {
            let mut h = history.clone();
            h.rejected_reads += 1;
            Some(h)
        }
        _ => None,
    }
}
