//! A replication model: servers running the real replica, register clients,
//! a faulty network, crashes, and named bounds that keep it finite.

use crate::actor::{ClientOp, Node, NodeState, TimerBudget};
use crate::history::{record_in, record_out, Recorded};
use crate::properties::{self as p, Model, State};
use stateright::actor::{ActorModel, LossyNetwork, Network};
use stateright::Expectation;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use steadfast::planted::PlantedBug;
use steadfast::{Config, Durability, ElectionQuorum, Epoch, NodeId};

/// How the model's network misbehaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NetworkKind {
    /// Per-link FIFO: messages between two replicas arrive in order (as
    /// over one TCP connection); different links still interleave freely.
    Ordered,
    /// Messages are reordered arbitrarily, each delivered at most once.
    Unordered,
    /// Messages are reordered and may be delivered any number of times.
    Duplicating,
}

/// Every parameter of a replication model.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ReplicationModel {
    /// Number of replicas (voters, then learners).
    pub servers: usize,
    /// How many of the last servers start as learners (0: all vote).
    pub learners: usize,
    /// Commit rule.
    pub durability: Durability,
    /// Election rule.
    pub election: ElectionQuorum,
    /// Each client's operations, in order.
    pub clients: Vec<Vec<ClientOp>>,
    /// At most this many servers down at once (each may restart).
    pub max_crashes: usize,
    /// Messages may be lost.
    pub lossy: bool,
    /// Reordering / duplication.
    pub network: NetworkKind,
    /// States with a replica past this epoch are not explored.
    pub max_epoch: u64,
    /// Only the first `campaigners` servers may start elections (and so
    /// lead); the others only follow. With every server a campaigner the
    /// servers are interchangeable, which symmetry reduction exploits.
    pub campaigners: usize,
    /// How many times each campaigner's timer may fire while it is not
    /// leading (each firing starts a pre-vote or an election). Counted over
    /// the server's whole life, crashes included.
    pub elections: u8,
    /// How many times a leader's timer may fire in one reign (each firing
    /// is a heartbeat round: retransmission, commit propagation, and the
    /// check-quorum test).
    pub heartbeats: u8,
    /// The replica's cap on entries per append (small caps let a leader
    /// replicate part of its log, which the Figure 8 scenario needs).
    pub max_entries_per_message: usize,
    /// Pre-vote on/off.
    pub pre_vote: bool,
    /// Check-quorum on/off.
    pub check_quorum: bool,
    /// A deliberately planted core bug (for showing the checker catches it).
    pub planted_bug: Option<PlantedBug>,
    /// Explore no delivery that changes nothing (on by default). A peer
    /// message whose delivery leaves the server's replica and storage as
    /// they were and sends nothing (a response from an older epoch, a
    /// redelivered acknowledgement) then stays in the network, as
    /// stateright leaves a message an actor ignores, instead of making a
    /// state that differs from the current one only by the message's
    /// absence. On unordered networks that state adds nothing a property
    /// can see: properties never read the messages in flight, and every
    /// continuation of it is a continuation of the current state in which
    /// the message is never delivered, which the unordered network allows.
    /// (Per-link FIFO networks always consume the message, stateright's
    /// rule for them, so the next one on the link can arrive.)
    /// `models/tests/no_op_deliveries.rs` compares verdicts with it off.
    pub skip_no_op_deliveries: bool,
    /// Raised to cut a search short (`--max-seconds`): from then on no new
    /// state is within the model's boundary, so the search drains. Not a
    /// bound: a run it stopped reports `STOPPED`, never a verdict.
    pub stop: StopFlag,
}

/// A flag a runner raises to stop a search. It takes no part in comparing
/// or hashing models (every flag is equal to every other).
#[derive(Clone, Default)]
pub struct StopFlag(Arc<AtomicBool>);

impl StopFlag {
    /// Stop the search.
    pub fn raise(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    /// True once raised.
    pub fn is_raised(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

impl std::fmt::Debug for StopFlag {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "StopFlag({})", self.is_raised())
    }
}

impl PartialEq for StopFlag {
    fn eq(&self, _: &StopFlag) -> bool {
        true
    }
}

impl Eq for StopFlag {}

impl std::hash::Hash for StopFlag {
    fn hash<H: std::hash::Hasher>(&self, _: &mut H) {}
}

impl ReplicationModel {
    /// A model of `servers` replicas with one client that writes `writes`
    /// values then reads once, one crash, a lossy unordered network.
    pub fn new(servers: usize, durability: Durability, election: ElectionQuorum) -> Self {
        ReplicationModel {
            servers,
            learners: 0,
            durability,
            election,
            clients: vec![vec![ClientOp::Put(1), ClientOp::Get]],
            max_crashes: 1,
            lossy: true,
            network: NetworkKind::Unordered,
            max_epoch: 2,
            campaigners: 2,
            elections: 1,
            heartbeats: 0,
            max_entries_per_message: 64,
            pre_vote: false,
            check_quorum: false,
            planted_bug: None,
            skip_no_op_deliveries: true,
            stop: StopFlag::default(),
        }
    }

    /// A short description of the configuration for reports.
    pub fn describe(&self) -> String {
        let durability = match self.durability {
            Durability::Async => "Async".to_string(),
            Durability::SemiSync { k } => format!("SemiSync{{{k}}}"),
            Durability::Quorum => "Quorum".to_string(),
            Durability::All => "All".to_string(),
        };
        let mut s = format!("n={} {} {:?}", self.servers, durability, self.election);
        if self.learners > 0 {
            s = format!(
                "n={}+{}L {} {:?}",
                self.servers - self.learners,
                self.learners,
                durability,
                self.election
            );
        }
        let session = self.clients.iter().flatten().find_map(|op| match op {
            ClientOp::FollowerGet { token, .. } => Some(*token),
            _ => None,
        });
        match session {
            Some(true) => s.push_str(" token"),
            Some(false) => s.push_str(" no-token"),
            None => {}
        }
        if let Some(bug) = self.planted_bug {
            s.push_str(&format!(" bug={bug:?}"));
        }
        s
    }

    /// True when the configuration promises no acknowledged write is lost.
    pub fn survives_failover(&self) -> bool {
        self.durability
            .survives_failover(self.servers, self.election)
            && self.planted_bug.is_none()
    }

    /// The replica configuration of server `index`.
    pub fn config(&self, index: usize) -> Config {
        let voting = self.servers - self.learners.min(self.servers);
        let voters = (0..voting).map(|i| NodeId(i as u64));
        let learners = (voting..self.servers).map(|i| NodeId(i as u64));
        let mut config = Config::new(NodeId(index as u64), voters)
            .with_learners(learners)
            .with_durability(self.durability)
            .with_election_quorum(self.election)
            // The same timeouts on every server, so servers differ only
            // in their ids (symmetry reduction relies on it).
            .with_jitter_seed(0);
        config.heartbeat_interval = Duration::from_millis(10);
        // No jitter (a one-millisecond range draws nothing): timers fire
        // in any order anyway, bounded by their budgets, and a replica
        // that resets its election timer on a redelivered message then
        // stays in the same state, which keeps duplicating networks finite.
        config.election_timeout_min = Duration::from_millis(25);
        config.election_timeout_max = Duration::from_millis(26);
        config.max_entries_per_message = self.max_entries_per_message;
        config.pre_vote = self.pre_vote;
        config.check_quorum = self.check_quorum;
        config
    }

    /// Build the stateright model with every safety property (GLOSSARY.md, "Properties")
    /// (all as `Always`, so a violation is reported) plus the `Sometimes`
    /// properties that show the model is not vacuous.
    pub fn into_model(self) -> Model {
        let servers = self.servers;
        let server_actors: Vec<Node> = (0..servers)
            .map(|i| Node::Server {
                config: self.config(i),
                planted_bug: self.planted_bug,
                skip_no_op_deliveries: self.skip_no_op_deliveries,
                timers: TimerBudget {
                    elections: if i < self.campaigners {
                        self.elections
                    } else {
                        0
                    },
                    heartbeats: self.heartbeats,
                },
            })
            .collect();
        let client_actors: Vec<Node> = self
            .clients
            .iter()
            .map(|ops| Node::Client {
                ops: ops.clone(),
                servers,
            })
            .collect();
        let network = match self.network {
            NetworkKind::Ordered => Network::new_ordered([]),
            NetworkKind::Unordered => Network::new_unordered_nonduplicating([]),
            NetworkKind::Duplicating => Network::new_unordered_duplicating([]),
        };
        let lossy = if self.lossy {
            LossyNetwork::Yes
        } else {
            LossyNetwork::No
        };
        let max_crashes = self.max_crashes;
        let follower_reads = self.has_follower_reads();
        let reconfigures = self.reconfigures();
        let model = ActorModel::new(self, Recorded::default())
            .actors(server_actors)
            .actors(client_actors)
            .init_network(network)
            .lossy_network(lossy)
            .max_crashes(max_crashes)
            .record_msg_out(record_out)
            .record_msg_in(record_in)
            .within_boundary(within_boundary)
            .property(Expectation::Always, "ElectionSafety", p::election_safety)
            .property(Expectation::Always, "LogMatching", p::log_matching)
            .property(
                Expectation::Always,
                "ReplicaInvariants",
                p::replica_invariants,
            )
            .property(
                Expectation::Always,
                "EpochNeverBackwards",
                p::epoch_never_backwards,
            )
            .property(
                Expectation::Always,
                "CommitNeverBackwards",
                p::commit_never_backwards,
            )
            .property(
                Expectation::Always,
                "AppliesOnlyCommitted",
                p::applies_only_committed,
            )
            .property(
                Expectation::Always,
                "NoLostAckedWrites",
                p::no_lost_acked_writes,
            )
            .property(
                Expectation::Always,
                "NoSplitBrainAck",
                p::no_split_brain_ack,
            )
            .property(
                Expectation::Always,
                "StateMachineSafety",
                p::state_machine_safety,
            )
            .property(
                Expectation::Always,
                "CommittedNeverTruncated",
                p::committed_never_truncated,
            )
            .property(Expectation::Always, "Linearizable", p::linearizable)
            .property(Expectation::Always, "UniqueIds", p::unique_ids)
            .property(
                Expectation::Sometimes,
                "a write is acknowledged",
                p::write_acknowledged,
            )
            .property(
                Expectation::Sometimes,
                "a failover happens",
                p::failover_happens,
            )
            .property(
                Expectation::Sometimes,
                "a failover after an acknowledged write",
                p::failover_after_ack,
            );
        let model = if reconfigures {
            model
                .property(
                    Expectation::Sometimes,
                    "a membership change commits",
                    p::membership_changed,
                )
                .property(
                    Expectation::Sometimes,
                    "every change commits after a write",
                    p::all_changes_after_writes,
                )
        } else {
            model
        };
        if !follower_reads {
            return model;
        }
        model
            .property(Expectation::Always, "ReadYourWrites", p::read_your_writes)
            .property(Expectation::Always, "MonotonicReads", p::monotonic_reads)
            .property(
                Expectation::Always,
                "ConsistentPrefix",
                p::consistent_prefix,
            )
            .property(
                Expectation::Sometimes,
                "a follower read is served",
                p::follower_read_served,
            )
            .property(
                Expectation::Sometimes,
                "a follower read after a failover",
                p::read_across_failover,
            )
    }

    /// True when an operator changes the membership.
    pub fn reconfigures(&self) -> bool {
        self.clients
            .iter()
            .flatten()
            .any(|op| matches!(op, ClientOp::Reconfigure(_)))
    }

    /// True when some client reads from followers; only such models carry
    /// the session properties (`ReadYourWrites`, `MonotonicReads`,
    /// `ConsistentPrefix`), so the others keep their property list.
    pub fn has_follower_reads(&self) -> bool {
        self.clients
            .iter()
            .flatten()
            .any(|op| matches!(op, ClientOp::FollowerGet { .. }))
    }
}

/// Keep the model finite: no replica past `max_epoch`; and nothing new once
/// the run is stopped. Clients never crash
/// (a restarted client would re-issue a request the history still has in
/// flight; client crashes are not what these models are about).
fn within_boundary(cfg: &ReplicationModel, state: &State) -> bool {
    !cfg.stop.is_raised()
        && state
            .actor_states
            .iter()
            .zip(state.crashed.iter())
            .all(|(s, crashed)| match &**s {
                NodeState::Server(server) => server.replica().epoch() <= Epoch(cfg.max_epoch),
                NodeState::Client(_) => !crashed,
            })
}
