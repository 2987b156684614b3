//! The safety properties (GLOSSARY.md, "Properties"), evaluated on model states.
//! Each is a plain function so the suite, the explorer and the tests share it.

use crate::actor::{Node, NodeState, ServerState};
use crate::command::register_at;
use crate::history::{FollowerRead, Recorded};
use crate::model::ReplicationModel;
use stateright::actor::{ActorModel, ActorModelState, Id};
use steadfast::{Entry, Epoch, Lsn, Position, Role};
use steadfast_sim::harness::log_mismatch;

/// The model type.
pub type Model = ActorModel<Node, ReplicationModel, Recorded>;
/// The model's state type.
pub type State = ActorModelState<Node, Recorded>;

/// Servers that are running (not crashed).
pub fn live_servers(state: &State) -> impl Iterator<Item = &ServerState> {
    state
        .actor_states
        .iter()
        .zip(state.crashed.iter())
        .filter(|(_, crashed)| !**crashed)
        .filter_map(|(s, _)| match &**s {
            NodeState::Server(server) => Some(server),
            NodeState::Client(_) => None,
        })
}

/// Every server, crashed or not (a crashed server's ghost notes still count).
pub fn all_servers(state: &State) -> impl Iterator<Item = &ServerState> {
    state.actor_states.iter().filter_map(|s| match &**s {
        NodeState::Server(server) => Some(server),
        NodeState::Client(_) => None,
    })
}

/// ElectionSafety: at most one leader per epoch, ever (from the appends
/// sent) and at any moment (from the live roles).
pub fn election_safety(_: &Model, state: &State) -> bool {
    if state.history.two_leaders.is_some() {
        return false;
    }
    let leaders: Vec<_> = live_servers(state)
        .filter(|s| s.replica().role() == Role::Leader)
        .map(|s| s.replica().epoch())
        .collect();
    let mut sorted = leaders.clone();
    sorted.sort();
    sorted.dedup();
    sorted.len() == leaders.len()
}

/// ReplicaInvariants: every running replica's own invariants hold
/// ([`Replica::check_invariants`](steadfast::Replica::check_invariants)),
/// evaluated on every state the checker reaches, so after every step.
pub fn replica_invariants(_: &Model, state: &State) -> bool {
    live_servers(state).all(|s| s.replica().check_invariants().is_ok())
}

/// EpochNeverBackwards (a step property): no server's epoch ever
/// decreases, restarts included (the epoch is durable). The actor compares
/// each step's before and after and notes the first breach in the server's
/// ghost.
pub fn epoch_never_backwards(_: &Model, state: &State) -> bool {
    all_servers(state).all(|s| s.storage().ghost.epoch_breach.is_none())
}

/// CommitNeverBackwards (a step property): while a server runs, neither its
/// commit point nor its applied point ever decreases. A configuration that
/// truncates committed entries (`Async` failover) breaks it, and then must.
pub fn commit_never_backwards(_: &Model, state: &State) -> bool {
    all_servers(state).all(|s| s.storage().ghost.commit_breach.is_none())
}

/// AppliesOnlyCommitted (a step property): no server hands its state
/// machine an entry past its commit point.
pub fn applies_only_committed(_: &Model, state: &State) -> bool {
    all_servers(state).all(|s| s.storage().ghost.apply_breach.is_none())
}

/// LogMatching: the same `(epoch, lsn)` in two logs implies identical prefixes.
pub fn log_matching(_: &Model, state: &State) -> bool {
    let replicas: Vec<_> = live_servers(state).map(|s| s.replica()).collect();
    replicas.iter().enumerate().all(|(i, a)| {
        replicas
            .iter()
            .skip(i + 1)
            .all(|b| log_mismatch(a, b).is_none())
    })
}

/// NoLostAckedWrites: every acknowledged write is in the log of every leader
/// of a later epoch.
pub fn no_lost_acked_writes(_: &Model, state: &State) -> bool {
    live_servers(state)
        .filter(|s| s.replica().role() == Role::Leader)
        .all(|leader| {
            state.history.acked.values().all(|at| {
                at.epoch >= leader.replica().epoch()
                    || leader.replica().entry(at.lsn).map(Entry::position) == Some(*at)
            })
        })
}

/// NoSplitBrainAck: while two replicas both act as leader (a superseded
/// one that has not yet learned of its successor, and the successor), the
/// superseded one has acknowledged no write the successor lacks.
pub fn no_split_brain_ack(_: &Model, state: &State) -> bool {
    let leaders: Vec<&ServerState> = live_servers(state)
        .filter(|s| s.replica().role() == Role::Leader)
        .collect();
    leaders.iter().all(|old| {
        leaders
            .iter()
            .filter(|new| new.replica().epoch() > old.replica().epoch())
            .all(|new| {
                state
                    .history
                    .acked
                    .values()
                    .filter(|at| at.epoch == old.replica().epoch())
                    .all(|at| new.replica().entry(at.lsn).map(Entry::position) == Some(*at))
            })
    })
}

/// StateMachineSafety: no replica applies two different entries at one lsn,
/// and no two replicas apply different entries at one lsn.
pub fn state_machine_safety(_: &Model, state: &State) -> bool {
    let servers: Vec<&ServerState> = all_servers(state).collect();
    if servers
        .iter()
        .any(|s| s.storage().ghost.applied_conflict.is_some())
    {
        return false;
    }
    servers.iter().enumerate().all(|(i, a)| {
        servers.iter().skip(i + 1).all(|b| {
            a.storage().ghost.ever_applied.iter().all(|(lsn, epoch)| {
                b.storage()
                    .ghost
                    .ever_applied
                    .get(lsn)
                    .is_none_or(|other| other == epoch)
            })
        })
    })
}

/// CommittedNeverTruncated: no replica ever truncated an entry it had
/// committed or applied.
pub fn committed_never_truncated(_: &Model, state: &State) -> bool {
    all_servers(state).all(|s| s.storage().ghost.truncated_committed.is_none())
}

/// Linearizable: the clients' history of reads and writes is linearizable.
pub fn linearizable(_: &Model, state: &State) -> bool {
    state.history.linearizability.serialized_history().is_some()
}

/// UniqueIds: no id is handed to two different requests.
pub fn unique_ids(_: &Model, state: &State) -> bool {
    state.history.reissued_id.is_none()
}

/// Sometimes: an id is handed out.
pub fn id_allocated(_: &Model, state: &State) -> bool {
    !state.history.ids.is_empty()
}

/// Sometimes: a write is acknowledged (the model does something).
pub fn write_acknowledged(_: &Model, state: &State) -> bool {
    !state.history.acked.is_empty() || !state.history.ids.is_empty()
}

/// Sometimes: a leader of a later epoch exists after a write was
/// acknowledged (so the bounds cover the scenario that can lose it).
pub fn failover_after_ack(_: &Model, state: &State) -> bool {
    let Some(acked_epoch) = state.history.acked.values().map(|p| p.epoch).max() else {
        return false;
    };
    live_servers(state)
        .any(|s| s.replica().role() == Role::Leader && s.replica().epoch() > acked_epoch)
}

/// Sometimes: an operator's membership change commits.
pub fn membership_changed(_: &Model, state: &State) -> bool {
    !state.history.reconfigured.is_empty()
}

/// Sometimes: every operator membership change committed, each after a
/// write was acknowledged (the changes ran during writes).
pub fn all_changes_after_writes(model: &Model, state: &State) -> bool {
    let changes = model
        .cfg
        .clients
        .iter()
        .flatten()
        .filter(|op| matches!(op, crate::actor::ClientOp::Reconfigure(_)))
        .count();
    changes > 0 && state.history.reconfigured.len() == changes && !state.history.acked.is_empty()
}

/// Sometimes: a second epoch gets a leader (a failover happens).
pub fn failover_happens(_: &Model, state: &State) -> bool {
    state.history.leaders.len() >= 2
}

fn server(state: &State, id: Id) -> Option<&ServerState> {
    match &**state.actor_states.get(usize::from(id))? {
        NodeState::Server(server) => Some(server),
        NodeState::Client(_) => None,
    }
}

/// The epoch of the entry server `id` applied at `lsn`, if it applied one.
fn applied_at(state: &State, id: Id, lsn: Lsn) -> Option<Epoch> {
    server(state, id)?.storage().ghost.ever_applied.get(lsn)
}

/// True when `read` observed `seen`: it was served at or after `seen.lsn`,
/// and the serving replica applied exactly `seen` at that lsn (the same
/// history, not another branch that reused the lsn).
fn observes(state: &State, read: &FollowerRead, seen: Position) -> bool {
    seen.lsn == Lsn(0)
        || (read.at.lsn >= seen.lsn && applied_at(state, read.server, seen.lsn) == Some(seen.epoch))
}

/// ReadYourWrites: every follower read observes the reading client's last
/// write acknowledged before it.
pub fn read_your_writes(_: &Model, state: &State) -> bool {
    state
        .history
        .follower_reads
        .iter()
        .all(|r| read_sees_own_write(state, r))
}

/// ReadYourWrites for one read.
pub fn read_sees_own_write(state: &State, read: &FollowerRead) -> bool {
    read.last_write.is_none_or(|w| observes(state, read, w))
}

/// MonotonicReads: every follower read observes the position the client's
/// previous follower read was served at (whichever replicas served them), so
/// a client's reads never go back.
pub fn monotonic_reads(_: &Model, state: &State) -> bool {
    state
        .history
        .follower_reads
        .iter()
        .all(|r| read_not_behind_previous(state, r))
}

/// MonotonicReads for one read.
pub fn read_not_behind_previous(state: &State, read: &FollowerRead) -> bool {
    read.last_read.is_none_or(|p| observes(state, read, p))
}

/// ConsistentPrefix: every follower read shows a prefix of the committed log
/// in log order. The position it was served at was applied there (so
/// committed), every replica that applied that lsn applied the same entry,
/// and the value equals the register of the log prefix through that position
/// in every replica's log that holds it; a read at lsn 0 shows the initial
/// value.
pub fn consistent_prefix(_: &Model, state: &State) -> bool {
    state
        .history
        .follower_reads
        .iter()
        .all(|r| read_shows_committed_prefix(state, r))
}

/// ConsistentPrefix for one read.
pub fn read_shows_committed_prefix(state: &State, r: &FollowerRead) -> bool {
    if r.at.lsn == Lsn(0) {
        return r.value == 0;
    }
    if applied_at(state, r.server, r.at.lsn) != Some(r.at.epoch) {
        return false;
    }
    all_servers(state).all(|s| {
        let applied_here = s.storage().ghost.ever_applied.get(r.at.lsn);
        let agrees = applied_here.is_none_or(|e| e == r.at.epoch);
        let holds = s.replica().entry(r.at.lsn).map(Entry::position) == Some(r.at);
        agrees && (!holds || register_at(s.replica().entries(), r.at.lsn) == r.value)
    })
}

/// Sometimes: a replica that never led served a follower read showing at
/// least one applied entry.
pub fn follower_read_served(_: &Model, state: &State) -> bool {
    let h = &state.history;
    h.follower_reads
        .iter()
        .any(|r| r.at.lsn > Lsn(0) && !h.leaders.values().any(|l| *l == r.server))
}

/// Sometimes: a follower read observes a state of a later epoch than the
/// client's acknowledged write (the session crossed a failover).
pub fn read_across_failover(_: &Model, state: &State) -> bool {
    state
        .history
        .follower_reads
        .iter()
        .any(|r| r.last_write.is_some_and(|w| r.at.epoch > w.epoch))
}
