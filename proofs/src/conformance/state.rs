//! The abstract state of the verified model as finite Rust values, and the
//! abstraction function from a concrete simulated cluster to the part of it
//! that the code determines.
//!
//! [`AbstractState`] has one field per symbol of `crate::state::State` (the
//! Z3 model, feature `z3`), interpreted over the finite universe of one run:
//! nodes are the cluster's voters, epochs and lsns are the concrete numbers
//! (their order is the order of `epoch_le` / `lsn_le`), and a quorum is any
//! set of voters at least as large as the configured quorum size
//! ([`Quorums`]).

use std::collections::{BTreeMap, BTreeSet};

use steadfast::{Epoch, Lsn, NodeId, Position, Role};
use steadfast_sim::harness::Cluster;

/// A log as the model sees it: `log(n, i, e)` as a map from lsn to the epoch
/// of the entry there. Always holds the root entry `(lsn 0, epoch 0)`.
pub type AbstractLog = BTreeMap<Lsn, Epoch>;

/// The finite instance of the model's quorum sorts: election and commit
/// quorums are the sets of voters of at least these sizes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quorums {
    /// The voters (the model's `Node` sort).
    pub voters: BTreeSet<NodeId>,
    /// Smallest election quorum (`ElectionQuorum` sort, `in_election_quorum`).
    pub election: usize,
    /// Smallest commit quorum (`CommitQuorum` sort, `in_commit_quorum`).
    pub commit: usize,
}

impl Quorums {
    /// The quorum sizes the cluster's replicas are configured with.
    pub fn of(cluster: &Cluster) -> Quorums {
        let config = cluster
            .ids()
            .into_iter()
            .find_map(|id| cluster.host(id).and_then(|h| h.replica.as_ref()))
            .map(|r| r.config().clone())
            .expect("a freshly built cluster has running replicas");
        let voters = config.voters.clone();
        Quorums {
            election: config.election_quorum_size(),
            commit: config.durability.commit_quorum(voters.len()),
            voters,
        }
    }
}

/// One state of the abstract model (`proofs/src/state.rs`), as finite sets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AbstractState {
    /// `current_epoch(n)`.
    pub current_epoch: BTreeMap<NodeId, Epoch>,
    /// `voted(voter, e, candidate)`: every vote ever granted (persistent history).
    pub voted: BTreeSet<(NodeId, Epoch, NodeId)>,
    /// Ghost `leader(n, e)`: `n` won the election of epoch `e`.
    pub leader: BTreeSet<(NodeId, Epoch)>,
    /// `leading(n)`: `n` acts as leader now.
    pub leading: BTreeSet<NodeId>,
    /// `log(n, i, e)`.
    pub log: BTreeMap<NodeId, AbstractLog>,
    /// Ghost `committed(i, x, e)`: the leader of `e` committed entry `(i, x)`.
    pub committed: BTreeSet<(Lsn, Epoch, Epoch)>,
    /// Ghost `held(m, i, x, e)`: `m` was in the commit quorum of that commit.
    pub held: BTreeSet<(NodeId, Lsn, Epoch, Epoch)>,
}

impl AbstractState {
    /// The model's `Init` (`Protocol::init`): every node in epoch zero with
    /// only the root entry, no votes, leaders, commits.
    pub fn init(nodes: impl IntoIterator<Item = NodeId>) -> AbstractState {
        let mut state = AbstractState::default();
        for n in nodes {
            state.current_epoch.insert(n, Epoch(0));
            state.log.insert(n, root_log());
        }
        state
    }

    /// `current_epoch(n)` (epoch zero for a node the state does not know).
    pub fn epoch(&self, n: NodeId) -> Epoch {
        self.current_epoch.get(&n).copied().unwrap_or(Epoch(0))
    }

    /// `n`'s log.
    pub fn log_of(&self, n: NodeId) -> &AbstractLog {
        static EMPTY: AbstractLog = BTreeMap::new();
        self.log.get(&n).unwrap_or(&EMPTY)
    }

    /// `log(n, i, e)`.
    pub fn holds(&self, n: NodeId, lsn: Lsn, epoch: Epoch) -> bool {
        self.log_of(n).get(&lsn) == Some(&epoch)
    }

    /// The last entry of `n`'s log (`Protocol::is_last`), as a position
    /// ordered epoch first, then lsn.
    pub fn last(&self, n: NodeId) -> Position {
        last_of(self.log_of(n))
    }

    /// The unique node that won the election of `epoch`, if exactly one did.
    pub fn leader_of(&self, epoch: Epoch) -> Option<NodeId> {
        let mut winners = self
            .leader
            .iter()
            .filter(|(_, e)| *e == epoch)
            .map(|(n, _)| *n);
        let first = winners.next()?;
        winners.next().is_none().then_some(first)
    }

    /// Does node `n` look exactly as `view` says (epoch, leading, log, and
    /// its votes in its current epoch are exactly `view.vote`)?
    pub fn agrees_with(&self, n: NodeId, view: &NodeView) -> Result<(), String> {
        let epoch = self.epoch(n);
        if epoch != view.epoch {
            return Err(format!("{n}: model epoch {epoch}, code {}", view.epoch));
        }
        if self.leading.contains(&n) != view.leading {
            return Err(format!(
                "{n}: model leading {}, code {}",
                !view.leading, view.leading
            ));
        }
        if self.log_of(n) != &view.log {
            return Err(format!(
                "{n}: model log {:?}, code {:?}",
                positions(self.log_of(n)),
                positions(&view.log)
            ));
        }
        let votes: Vec<NodeId> = self
            .voted
            .iter()
            .filter(|(m, e, _)| *m == n && *e == epoch)
            .map(|(_, _, c)| *c)
            .collect();
        if votes != view.vote.into_iter().collect::<Vec<_>>() {
            return Err(format!(
                "{n}: model votes in {epoch}: {votes:?}, code {:?}",
                view.vote
            ));
        }
        Ok(())
    }
}

/// The log holding only the root entry.
pub fn root_log() -> AbstractLog {
    BTreeMap::from([(Lsn(0), Epoch(0))])
}

/// The last position of a log.
pub fn last_of(log: &AbstractLog) -> Position {
    log.iter()
        .next_back()
        .map_or(Position::ZERO, |(l, e)| Position::new(*e, *l))
}

fn positions(log: &AbstractLog) -> Vec<String> {
    log.iter()
        .map(|(l, e)| format!("{}@{}", l.0, e.0))
        .collect()
}

/// What the code determines of one node: the model's `current_epoch`,
/// `leading`, `log` and its vote in its current epoch, plus the concrete
/// commit point (mapped to the ghost `committed` only through [`Commit`]
/// steps of a leader).
///
/// [`Commit`]: crate::protocol::Step::Commit
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeView {
    /// The persisted epoch (`HardState::epoch`).
    pub epoch: Epoch,
    /// The persisted vote in that epoch (`HardState::voted_for`).
    pub vote: Option<NodeId>,
    /// Running and in [`Role::Leader`].
    pub leading: bool,
    /// The log, with the root entry added.
    pub log: AbstractLog,
    /// The commit point (zero while crashed: it is volatile).
    pub commit: Lsn,
}

/// The abstraction of a whole cluster: one [`NodeView`] per voter. A
/// crashed node is represented by what its host made durable.
pub type Observation = BTreeMap<NodeId, NodeView>;

/// The abstraction function: every voter's view, read from its running
/// replica or, while crashed, from its host's durable state.
pub fn observe(cluster: &Cluster, quorums: &Quorums) -> Observation {
    quorums
        .voters
        .iter()
        .filter_map(|&id| {
            let host = cluster.host(id)?;
            let mut log = root_log();
            let view = match &host.replica {
                Some(r) => {
                    log.extend(r.entries().iter().map(|e| (e.lsn, e.epoch)));
                    NodeView {
                        epoch: r.hard_state().epoch,
                        vote: r.hard_state().voted_for,
                        leading: r.role() == Role::Leader,
                        log,
                        commit: r.commit(),
                    }
                }
                None => {
                    log.extend(host.storage.log().iter().map(|e| (e.lsn, e.epoch)));
                    NodeView {
                        epoch: host.storage.hard_state().epoch,
                        vote: host.storage.hard_state().voted_for,
                        leading: false,
                        log,
                        commit: Lsn(0),
                    }
                }
            };
            Some((id, view))
        })
        .collect()
}

/// The model's assumption 2 ("persistence before use"), checked on the
/// concrete cluster: every running replica's epoch, vote and log equal what
/// its host made durable. `None` when they all do.
pub fn unpersisted(cluster: &Cluster) -> Option<String> {
    cluster.ids().into_iter().find_map(|id| {
        let host = cluster.host(id)?;
        let r = host.replica.as_ref()?;
        if r.hard_state() != host.storage.hard_state() {
            return Some(format!(
                "{id}: hard state {:?} but durable {:?}",
                r.hard_state(),
                host.storage.hard_state()
            ));
        }
        if r.entries() != host.storage.log() {
            return Some(format!("{id}: in-memory log differs from the durable log"));
        }
        None
    })
}
