//! Small models shared by the tests that compare a search with and without
//! something (loss, symmetry, the reductions).

use std::hash::{Hash, Hasher};
use steadfast::planted::PlantedBug;
use steadfast::{Durability, ElectionQuorum};
use steadfast_models::actor::ClientOp;
use steadfast_models::model::{NetworkKind, ReplicationModel};
use steadfast_models::properties::State;
use steadfast_models::suite::{Check, Expect};

/// `servers` interchangeable servers that each campaign once, up to two
/// epochs, no crash, no loss, one write; with `bug`, the planted bug.
pub fn small_model(
    servers: usize,
    durability: Durability,
    network: NetworkKind,
    bug: Option<PlantedBug>,
) -> ReplicationModel {
    let mut model = ReplicationModel::new(servers, durability, ElectionQuorum::Majority);
    model.campaigners = servers;
    model.max_crashes = 0;
    model.lossy = false;
    model.network = network;
    model.clients = vec![vec![ClientOp::Put(1)]];
    model.planted_bug = bug;
    model
}

/// The check of `model` in `family`: `expect`, then `NoLostAckedWrites`
/// (violated exactly when a bug is planted: every planted bug in these
/// tests loses an acknowledged write), explored exhaustively, with the
/// write and failover examples.
pub fn small_check(
    family: &'static str,
    model: ReplicationModel,
    mut expect: Vec<(&'static str, Expect)>,
) -> Check {
    let lost = if model.planted_bug.is_some() {
        Expect::Violated
    } else {
        Expect::Holds
    };
    expect.push(("NoLostAckedWrites", lost));
    Check {
        family,
        expect,
        model,
        max_depth: 0,
        examples: vec!["a write is acknowledged", "a failover happens"],
    }
}

/// What a property can see of a state: every actor's state, which are down,
/// and the history (not the messages in flight).
#[allow(dead_code)] // Not every test binary compares reachable states.
pub fn visible(state: &State) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    state.actor_states.hash(&mut h);
    state.crashed.hash(&mut h);
    state.history.hash(&mut h);
    h.finish()
}
