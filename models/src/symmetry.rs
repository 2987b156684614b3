//! Symmetry reduction over server ids.
//!
//! When no client names a server, two states that differ only by a
//! renaming of the servers behave alike, so the checker need explore one
//! of them. That holds even where servers have different timer budgets
//! (some campaign, some never do): a server keeps its budget with its
//! state ([`Ghost::budget`](crate::ghost::Ghost::budget)), so what it may
//! do next depends on its state alone, never on its id, and servers of
//! different budgets never have equal summaries.
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
    /// True when renaming servers maps behaviours to behaviours: no client
    /// operation names a server, and all servers start as voters (no
    /// learners, no membership change). (Configurations are alike but for the id,
    /// [`ReplicationModel::config`] gives every server the same jitter, and
    /// a server's timer budget is part of its state.)
    pub fn is_symmetric(&self) -> bool {
        !self.has_follower_reads() && self.learners == 0 && !self.reconfigures()
    }
}

/// The representative of `state`'s class of renamed states (see the
/// module documentation), in [`canonical`](crate::canonical) form: `state`
/// itself when its servers are already in order, or when it holds
/// snapshots.
///
/// Servers are put in the order of an id-free summary of their state.
/// Servers whose summaries tie could go in either order; the representative
/// is then the candidate with the smallest digest, so that every state of a
/// class yields the same one (ties are rare, and cost one renaming per
/// order of the tied servers).
pub fn representative(state: &State) -> State {
    let Some(summaries) = summaries(state) else {
        return crate::canonical::canonical(state);
    };
    let candidate = |ranks: &[usize]| {
        let mut candidate = renamed(state, &summaries, ranks).unwrap_or_else(|| state.clone());
        crate::canonical::canonicalize(&mut candidate);
        candidate
    };
    match &orders_of_ties(&summaries)[..] {
        // Nothing ties: one candidate, no digest to compare.
        [ranks] => candidate(ranks),
        orders => orders
            .iter()
            .map(|ranks| candidate(ranks))
            .min_by_key(crate::digest::digest)
            .unwrap_or_else(|| crate::canonical::canonical(state)),
    }
}

/// The id-free summary of every server (`None` for a state that cannot be
/// renamed: it holds snapshot bytes).
fn summaries(state: &State) -> Option<Vec<u64>> {
    if !renamable(state) {
        return None;
    }
    Some(
        state
            .actor_states
            .iter()
            .enumerate()
            .map_while(|(i, s)| match &**s {
                NodeState::Server(server) => Some(summary(server, state, i)),
                NodeState::Client(_) => None,
            })
            .collect(),
    )
}

/// Every way to order servers whose summaries tie: for each, a rank per
/// server that breaks the ties (one all-zero entry when nothing ties).
fn orders_of_ties(summaries: &[u64]) -> Vec<Vec<usize>> {
    let mut orders = vec![vec![0; summaries.len()]];
    let mut done = vec![false; summaries.len()];
    for i in 0..summaries.len() {
        if done[i] {
            continue;
        }
        let tied: Vec<usize> = (i..summaries.len())
            .filter(|&j| summaries[j] == summaries[i])
            .collect();
        for &j in &tied {
            done[j] = true;
        }
        if tied.len() < 2 {
            continue;
        }
        let tied = &tied;
        orders = orders
            .into_iter()
            .flat_map(|ranks| {
                permutations(tied.len()).into_iter().map(move |perm| {
                    let mut ranks = ranks.clone();
                    for (k, &server) in tied.iter().enumerate() {
                        ranks[server] = perm[k];
                    }
                    ranks
                })
            })
            .collect();
    }
    orders
}

/// Every permutation of `0..n`.
fn permutations(n: usize) -> Vec<Vec<usize>> {
    if n == 0 {
        return vec![Vec::new()];
    }
    permutations(n - 1)
        .into_iter()
        .flat_map(|smaller| {
            (0..n).map(move |at| {
                let mut perm = smaller.clone();
                perm.insert(at, n - 1);
                perm
            })
        })
        .collect()
}

/// `state` with its servers renamed into the order of `summaries`, ties
/// broken by `ranks` (`None`: already in that order).
fn renamed(state: &State, summaries: &[u64], ranks: &[usize]) -> Option<State> {
    let servers = summaries.len();
    // Servers sort by summary and rank, clients after them in order.
    let keys: Vec<(u8, u64, usize)> = (0..state.actor_states.len())
        .map(|i| match (summaries.get(i), ranks.get(i)) {
            (Some(&summary), Some(&rank)) => (0, summary, rank),
            _ => (1, i as u64, 0),
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
    fn ties_are_broken_every_way() {
        assert_eq!(permutations(3).len(), 6);
        let distinct: std::collections::HashSet<_> = permutations(3).into_iter().collect();
        assert_eq!(distinct.len(), 6);
        assert_eq!(orders_of_ties(&[1, 2, 3]), vec![vec![0, 0, 0]]);
        let orders = orders_of_ties(&[7, 5, 7]);
        assert_eq!(orders.len(), 2, "{orders:?}");
        for ranks in &orders {
            assert_ne!(ranks[0], ranks[2], "tied servers get different ranks");
            assert_eq!(ranks[1], 0, "an untied server keeps rank 0");
        }
        assert_eq!(orders_of_ties(&[4, 4, 4]).len(), 6);
        assert_eq!(orders_of_ties(&[4, 4, 9, 9]).len(), 4);
    }

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
