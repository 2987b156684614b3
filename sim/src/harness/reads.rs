//! Simulated clients: sessions that write through the leader and read from
//! any replica, with or without a [`SessionToken`], or linearizably from the
//! leader. Every served read is checked ([`History::on_read`](super::History::on_read)).

use super::read_checks::ReadObservation;
use super::{Cluster, Property};
use std::collections::BTreeMap;
use steadfast::entry::{Entry, RequestId};
use steadfast::replica::{ReadError, ReadId};
use steadfast::session::{ReadDecision, SessionToken};
use steadfast::types::{Instant, NodeId, Position};

/// Identifies a simulated client session.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SessionId(pub u64);

/// What a simulated client session knows.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientSession {
    /// The token it carries.
    pub token: SessionToken,
    /// Its acknowledged writes, in acknowledgement order.
    pub acked_writes: Vec<Position>,
    /// Where its last served read ended.
    pub last_read: Option<Position>,
}

/// How a follower read is made.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReadMode {
    /// The client presents its session token; the replica honours it.
    WithToken,
    /// The client presents no token: a plain read of whatever the replica
    /// has applied (what the anomalies of replication lag come from).
    WithoutToken,
}

/// The fate of a linearizable leader read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LeaderRead {
    /// Waiting for its heartbeat round or the commit point.
    Pending,
    /// Served; the read showed the log prefix ending at `at`.
    Served {
        /// The last position shown.
        at: Position,
    },
    /// Refused or abandoned.
    Failed(ReadError),
    /// The node crashed before it answered (its client sees the connection
    /// drop and knows nothing of the read's fate).
    Lost,
    /// Confirmed by the leader, but the session's token does not allow it
    /// ([`Replica::read_local`](steadfast::Replica::read_local) on the leader):
    /// only possible when a failover lost what the session had seen.
    Refused(ReadDecision),
}

/// A leader read in flight, with what the client knew when it asked.
#[derive(Clone, Debug)]
struct PendingLeaderRead {
    /// The node asked.
    node: NodeId,
    session: SessionId,
    token: SessionToken,
    session_writes: Vec<Position>,
    previous_read: Option<Position>,
    acked_before: Vec<Position>,
}

/// Every simulated client of a cluster.
#[derive(Clone, Debug, Default)]
pub(super) struct Clients {
    next_session: u64,
    sessions: BTreeMap<SessionId, ClientSession>,
    writes: BTreeMap<RequestId, SessionId>,
    next_read: u64,
    pending: BTreeMap<ReadId, PendingLeaderRead>,
    results: BTreeMap<ReadId, LeaderRead>,
}

impl Clients {
    /// A write was acknowledged: advance its session's token.
    pub(super) fn on_ack(&mut self, request: RequestId, position: Position) {
        let Some(session) = self.writes.get(&request) else {
            return;
        };
        if let Some(s) = self.sessions.get_mut(session) {
            s.token = s.token.after_write(position);
            s.acked_writes.push(position);
        }
    }

    fn on_read(&mut self, session: SessionId, at: Position) {
        if let Some(s) = self.sessions.get_mut(&session) {
            s.token = s.token.after_read(at);
            s.last_read = Some(at);
        }
    }
}

fn positions(state: &[Entry]) -> Vec<Position> {
    state.iter().map(Entry::position).collect()
}

impl Cluster {
    /// Start a client session with an empty token.
    pub fn open_session(&mut self) -> SessionId {
        self.clients.next_session += 1;
        let id = SessionId(self.clients.next_session);
        self.clients.sessions.insert(id, ClientSession::default());
        id
    }

    /// A client session's state.
    pub fn session(&self, session: SessionId) -> Option<&ClientSession> {
        self.clients.sessions.get(&session)
    }

    /// Write `command` through the current leader for `session`; its token
    /// advances when the write is acknowledged.
    pub fn write_in_session(
        &mut self,
        session: SessionId,
        command: &[u8],
    ) -> Option<(RequestId, Position)> {
        // Register first: an asynchronous policy acknowledges at once.
        let next = RequestId(self.next_request);
        self.clients.writes.insert(next, session);
        let accepted = self.propose_to_leader(command);
        if accepted.is_none() {
            self.clients.writes.remove(&next);
        }
        accepted
    }

    /// A local read at `node` for `session` ([`Replica::read_local`](steadfast::Replica::read_local)).
    /// When served, the state machine of `node` is what the client sees, the
    /// read is checked, and the session's token advances. `None` when
    /// `node` is down or the session unknown.
    pub fn read_at(
        &mut self,
        node: NodeId,
        session: SessionId,
        mode: ReadMode,
    ) -> Option<ReadDecision> {
        let client = self.clients.sessions.get(&session)?.clone();
        let token = match mode {
            ReadMode::WithToken => client.token,
            ReadMode::WithoutToken => SessionToken::default(),
        };
        let decision = self.replica(node)?.read_local(token);
        let label = match mode {
            ReadMode::WithToken => "with its token",
            ReadMode::WithoutToken => "without a token",
        };
        self.log(format!("{session:?} reads at {node} {label}: {decision}"));
        if let ReadDecision::Serve { at } = decision {
            let view = positions(self.host(node)?.storage.applied());
            let observation = ReadObservation {
                node,
                session,
                linearizable: false,
                at,
                view,
                session_writes: client.acked_writes,
                previous_read: client.last_read,
                acked_before: Vec::new(),
            };
            let now = self.now;
            self.history.on_read(now, &observation);
            self.clients.on_read(session, at);
        }
        Some(decision)
    }

    /// Ask `node` for a linearizable read for `session`
    /// ([`Replica::read_index`](steadfast::Replica::read_index)). Its fate is in
    /// [`leader_read`](Self::leader_read): served at once under a lease, or
    /// once a heartbeat round confirms leadership.
    pub fn read_linearizable(
        &mut self,
        node: NodeId,
        session: SessionId,
    ) -> Result<ReadId, ReadError> {
        let client = self
            .clients
            .sessions
            .get(&session)
            .cloned()
            .unwrap_or_default();
        self.clients.next_read += 1;
        let read = ReadId(self.clients.next_read);
        let now = self.local_now(node);
        let replica = self
            .replica_mut(node)
            .ok_or(ReadError::NotLeader { leader: None })?;
        replica.read_index(now, read)?;
        self.clients.pending.insert(
            read,
            PendingLeaderRead {
                node,
                session,
                token: client.token,
                session_writes: client.acked_writes,
                previous_read: client.last_read,
                acked_before: self.history.acked.values().copied().collect(),
            },
        );
        self.clients.results.insert(read, LeaderRead::Pending);
        self.log(format!(
            "{session:?} asks {node} for linearizable read {}",
            read.0
        ));
        self.drain(node);
        Ok(read)
    }

    /// `node` crashed: the linearizable reads it had not answered are
    /// lost.
    pub(super) fn lose_reads_at(&mut self, node: NodeId) {
        let lost: Vec<ReadId> = self
            .clients
            .pending
            .iter()
            .filter(|(_, pending)| pending.node == node)
            .map(|(read, _)| *read)
            .collect();
        for read in lost {
            self.clients.pending.remove(&read);
            self.clients.results.insert(read, LeaderRead::Lost);
            self.log(format!("linearizable read {} lost with {node}", read.0));
        }
    }

    /// The fate of a linearizable read.
    pub fn leader_read(&self, read: ReadId) -> Option<LeaderRead> {
        self.clients.results.get(&read).copied()
    }

    /// Linearizable reads that were answered (served, failed or refused).
    pub fn answered_leader_reads(&self) -> usize {
        self.clients
            .results
            .values()
            .filter(|fate| !matches!(fate, LeaderRead::Pending))
            .count()
    }

    /// Linearizable reads still waiting for an answer (served or failed).
    pub fn pending_leader_reads(&self) -> Vec<ReadId> {
        self.clients
            .results
            .iter()
            .filter(|(_, fate)| matches!(fate, LeaderRead::Pending))
            .map(|(read, _)| *read)
            .collect()
    }

    /// `node` said linearizable read `read` may be served: the client sees
    /// `node`'s state machine as it stands.
    pub(super) fn on_read_ready(&mut self, node: NodeId, read: ReadId, position: Position) {
        let Some(pending) = self.clients.pending.remove(&read) else {
            return;
        };
        // The client presents its token to the leader too: linearizability
        // implies the session guarantees only when no failover loses writes.
        let decision = self.replica(node).map(|r| r.read_local(pending.token));
        if let Some(decision) = decision.filter(|d| !matches!(d, ReadDecision::Serve { .. })) {
            self.log(format!(
                "{node} refuses linearizable read {} for the token: {decision}",
                read.0
            ));
            self.clients
                .results
                .insert(read, LeaderRead::Refused(decision));
            return;
        }
        let view = self
            .host(node)
            .map(|h| positions(h.storage.applied()))
            .unwrap_or_default();
        let at = view.last().copied().unwrap_or(Position::ZERO);
        self.log(format!(
            "{node} serves linearizable read {} at {position}",
            read.0
        ));
        let observation = ReadObservation {
            node,
            session: pending.session,
            linearizable: true,
            at,
            view,
            session_writes: pending.session_writes,
            previous_read: pending.previous_read,
            acked_before: pending.acked_before,
        };
        let now: Instant = self.now;
        self.history.on_read(now, &observation);
        self.clients.on_read(pending.session, at);
        self.clients.results.insert(read, LeaderRead::Served { at });
    }

    /// `elected` just won an election: no other replica may still hold a
    /// read lease by its own clock, or it could serve stale reads.
    pub(super) fn check_leases(&mut self, elected: NodeId) {
        let overlapping: Vec<String> = self
            .hosts
            .iter()
            .filter(|(id, _)| **id != elected)
            .filter_map(|(id, h)| {
                let expiry = h.replica.as_ref()?.lease_expiry()?;
                let local = h.clock.local(self.now);
                (local < expiry)
                    .then(|| format!("{id} holds a lease until {expiry} (its clock: {local})"))
            })
            .collect();
        if !overlapping.is_empty() {
            let now = self.now;
            let detail = format!("{elected} elected while {}", overlapping.join(", "));
            self.history.violate(Property::Linearizable, now, detail);
        }
    }

    /// `node` gave up on linearizable read `read`.
    pub(super) fn on_read_failed(&mut self, node: NodeId, read: ReadId, error: ReadError) {
        self.clients.pending.remove(&read);
        self.log(format!(
            "{node} fails linearizable read {}: {error}",
            read.0
        ));
        self.clients.results.insert(read, LeaderRead::Failed(error));
    }
}
