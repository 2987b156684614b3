//! What the abstraction function sees of a replica rebuilt from a trace,
//! and the finite instance (voters, quorum sizes) a run's traces name.

use steadfast::{Config, Lsn, Replica, Role};

use super::state::{root_log, NodeView, Quorums};

/// The quorums of the run whose nodes were configured with `config`.
pub fn quorums_of(config: &Config) -> Quorums {
    let voters = config.voters.clone();
    Quorums {
        election: config.election_quorum_size(),
        commit: config.durability.commit_quorum(voters.len()),
        voters,
    }
}

/// The view of a running replica (as `observe` takes it from a simulated
/// one), its log completed below the log's start (compacted behind a
/// snapshot) from `before`, the node's previous view: compaction removes
/// nothing from the model's log. Refused when `before` does not hold the
/// entry the log starts after (a snapshot installed from a leader: the
/// node never held those entries in a recorded step).
pub fn view_of(replica: &Replica, before: &NodeView) -> Result<NodeView, String> {
    let base = replica.log_start();
    let mut log = root_log();
    if base.lsn > Lsn(0) {
        if before.log.get(&base.lsn) != Some(&base.epoch) {
            return Err(format!(
                "{}'s log starts after a snapshot at {base} that it did not build from entries it held (a snapshot installed from the leader, which the model does not have)",
                replica.id()
            ));
        }
        log.extend(before.log.range(..=base.lsn).map(|(l, e)| (*l, *e)));
    }
    log.extend(replica.entries().iter().map(|e| (e.lsn, e.epoch)));
    let hard = replica.hard_state();
    Ok(NodeView {
        epoch: hard.epoch,
        vote: hard.voted_for,
        leading: replica.role() == Role::Leader,
        log,
        commit: replica.commit(),
    })
}

/// The view of a node that has not started yet: the model's `Init`.
pub fn initial_view() -> NodeView {
    NodeView {
        epoch: steadfast::Epoch(0),
        vote: None,
        leading: false,
        log: root_log(),
        commit: Lsn(0),
    }
}
