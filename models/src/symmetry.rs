//! Symmetry reduction over server ids.
//!
//! In a symmetric model (every server may campaign, with the same budget,
//! and no client names a server) two states that differ only by a renaming
//! of the servers behave alike, so the checker need explore one of them.
//! [`representative`] picks it: servers sorted by a summary of their state
//! that does not mention ids, and every id renamed to match — each
//! replica's own state ([`steadfast::RenameNodes`]), its host storage
//! ([`MemStorage::renamed`](steadfast_sim::host::MemStorage::renamed)), the
//! messages in flight (sender, receiver and the memberships they carry),
//! timers, crash flags, saved storage and the history's notes on leaders
//! and follower reads. Clients keep their ids and their places.
//!
//! Soundness rests on the model really being symmetric, which
//! [`ReplicationModel::is_symmetric`] decides, and on the renaming being
//! complete; a test runs small models with and without the reduction and
//! requires identical verdicts. States holding snapshots are left as they
//! are (their bytes encode memberships under a checksum), which costs
//! reduction, never soundness.

use crate::actor::{Msg, NodeState, Saved, ServerState, Storage};
use crate::history::{History, Recorded};
use crate::model::ReplicationModel;
use crate::properties::State;
use stateright::actor::{Id, Network};
use stateright::{Rewrite, RewritePlan};
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use steadfast::{Message, NodeId, RenameNodes};

impl ReplicationModel {
    /// True when renaming servers maps behaviours to behaviours: every
    /// server may campaign with the same budget, and no client operation
    /// names a server. (Configurations are alike but for the id, and
    /// [`ReplicationModel::config`] gives every server the same jitter.)
    pub fn is_symmetric(&self) -> bool {
        self.campaigners >= self.servers && !self.has_follower_reads()
    }
}

/// The representative of `state`'s class of renamed states (see the
/// module documentation): `state` itself when its servers are already in
/// order, or when it holds snapshots; in either case in
/// [`canonical`](crate::canonical) form.
pub fn representative(state: &State) -> State {
    let mut representative = renamed_representative(state).unwrap_or_else(|| state.clone());
    crate::canonical::canonicalize(&mut representative);
    representative
}

fn renamed_representative(state: &State) -> Option<State> {
    let servers = state
        .actor_states
        .iter()
        .take_while(|s| matches!(&***s, NodeState::Server(_)))
        .count();
    if !renamable(state) {
        return None;
    }
    // Servers sort by an id-free summary, clients after them in order.
    let keys: Vec<(u8, u64)> = state
        .actor_states
        .iter()
        .enumerate()
        .map(|(i, s)| match &**s {
            NodeState::Server(server) if i < servers => (0, summary(server, state, i)),
            _ => (1, i as u64),
        })
        .collect();
    let plan = RewritePlan::<Id, _>::from_values_to_sort(&keys);
    let to = |i: usize| usize::from(plan.rewrite(&Id::from(i)));
    if (0..keys.len()).all(|i| to(i) == i) {
        // Already in order: the state is its own representative.
        return None;
    }
    let rename = |n: NodeId| {
        let i = n.0 as usize;
        if i < servers {
            NodeId(to(i) as u64)
        } else {
            n
        }
    };
    let mut next = state.clone();
    for old in 0..state.actor_states.len() {
        let new = to(old);
        next.actor_storages[new] = None;
        next.actor_states[new] = Arc::new(match &*state.actor_states[old] {
            NodeState::Server(server) => {
                let renamed = rename_server(server, &rename)?;
                // The saved storage is the server's own (see `Saved`).
                if let Some(Saved(saved)) = &state.actor_storages[old] {
                    debug_assert_eq!(**saved, *server.storage(), "saved storage is the server's");
                    next.actor_storages[new] = Some(renamed.saved());
                }
                NodeState::Server(renamed)
            }
            client @ NodeState::Client(_) => client.clone(),
        });
        next.timers_set[new] = state.timers_set[old].clone();
        next.random_choices[new] = state.random_choices[old].clone();
        next.crashed[new] = state.crashed[old];
    }
    next.network = state.network.rewrite(&plan);
    next.history = rename_history(&state.history, &|id| plan.rewrite(&id));
    Some(next)
}

/// False when some server's storage or some message in flight holds
/// snapshot bytes. (Saved storage is a server's own, see `Saved`.)
fn renamable(state: &State) -> bool {
    state.actor_states.iter().all(|s| match &**s {
        NodeState::Server(server) => !server.storage().host.holds_snapshot_bytes(),
        NodeState::Client(_) => true,
    }) && !in_flight(&state.network)
        .any(|msg| matches!(msg, Msg::Peer(m) if matches!(**m, Message::InstallSnapshot { .. })))
}

/// Every message in flight. (stateright 0.31's `Network::iter_all` never
/// ends on a per-link FIFO network: its iterator returns a link's first
/// message forever. This walks the links' queues directly.)
fn in_flight(network: &Network<Msg>) -> Box<dyn Iterator<Item = &Msg> + '_> {
    match network {
        Network::Ordered(links) => Box::new(links.values().flatten()),
        other => Box::new(other.iter_all().map(|envelope| envelope.msg)),
    }
}

/// What distinguishes server `index` without naming ids: its replica's
/// role, epoch, log positions, commit and applied points, the auditor's
/// notes, and whether it is down or has a timer armed.
fn summary(server: &ServerState, state: &State, index: usize) -> u64 {
    let replica = &server.replica();
    let mut h = crate::digest::hasher();
    replica.role().hash(&mut h);
    replica.epoch().hash(&mut h);
    replica.commit().hash(&mut h);
    replica.applied().hash(&mut h);
    replica.now().hash(&mut h);
    for entry in replica.entries() {
        entry.position().hash(&mut h);
    }
    server.storage().ghost.hash(&mut h);
    state.crashed[index].hash(&mut h);
    state.timers_set[index].hash(&mut h);
    h.finish()
}

fn rename_server(server: &ServerState, rename: &dyn Fn(NodeId) -> NodeId) -> Option<ServerState> {
    Some(ServerState::new(
        server.replica().rename_nodes(rename),
        Arc::new(rename_storage(server.storage(), rename)?),
    ))
}

fn rename_storage(storage: &Storage, rename: &dyn Fn(NodeId) -> NodeId) -> Option<Storage> {
    Some(Storage {
        host: storage.host.renamed(rename)?,
        ghost: storage.ghost.clone(),
    })
}

fn rename_history(history: &History, rename: &dyn Fn(Id) -> Id) -> Recorded {
    History {
        leaders: history
            .leaders
            .iter()
            .map(|(&epoch, &leader)| (epoch, rename(leader)))
            .collect(),
        two_leaders: history
            .two_leaders
            .map(|(epoch, a, b)| (epoch, rename(a), rename(b))),
        follower_reads: history
            .follower_reads
            .iter()
            .map(|read| crate::history::FollowerRead {
                server: rename(read.server),
                ..*read
            })
            .collect(),
        ..history.clone()
    }
    .into()
}

impl Rewrite<Id> for Msg {
    /// Protocol messages carry memberships (in entries and snapshot
    /// metadata); client messages carry no server ids.
    fn rewrite<S>(&self, plan: &RewritePlan<Id, S>) -> Self {
        match self {
            Msg::Peer(message) => Msg::Peer(Arc::new(message.rename_nodes(&|n| {
                NodeId(usize::from(plan.rewrite(&Id::from(n.0 as usize))) as u64)
            }))),
            other => other.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::NetworkKind;
    use stateright::actor::Envelope;
    use steadfast::{Instant, Replica};

    #[test]
    fn fresh_replicas_differ_only_in_their_ids() {
        let model = ReplicationModel::new(
            3,
            steadfast::Durability::Quorum,
            steadfast::ElectionQuorum::Majority,
        );
        let replica = |i: usize| Replica::new(model.config(i), Instant(0)).expect("valid config");
        let swap = |n: NodeId| match n.0 {
            0 => NodeId(2),
            2 => NodeId(0),
            _ => n,
        };
        assert_eq!(replica(0).rename_nodes(&swap), replica(2));
        assert_eq!(replica(1).rename_nodes(&swap), replica(1));
        assert_ne!(replica(0), replica(2));
    }

    #[test]
    fn every_message_in_flight_is_seen_on_every_kind_of_network() {
        let envelopes: Vec<Envelope<Msg>> = [(0, 1, 1), (0, 1, 2), (1, 0, 3), (2, 1, 4)]
            .into_iter()
            .map(|(src, dst, round)| Envelope {
                src: Id::from(src),
                dst: Id::from(dst),
                msg: Msg::Peer(Arc::new(Message::AppendResponse {
                    epoch: steadfast::Epoch(1),
                    result: steadfast::wire::AppendResult::Accepted {
                        matched: steadfast::Lsn(0),
                        applied: steadfast::Lsn(0),
                    },
                    round,
                })),
            })
            .collect();
        let sent = envelopes.len();
        for kind in [
            NetworkKind::Unordered,
            NetworkKind::Duplicating,
            NetworkKind::Ordered,
        ] {
            let network = match kind {
                NetworkKind::Ordered => Network::new_ordered(envelopes.clone()),
                NetworkKind::Duplicating => Network::new_unordered_duplicating(envelopes.clone()),
                NetworkKind::Unordered => Network::new_unordered_nonduplicating(envelopes.clone()),
            };
            assert_eq!(in_flight(&network).count(), sent, "{kind:?}");
        }
    }
}
