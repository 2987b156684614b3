//! The liveness phase: after a run of faults, the faults stop, and progress
//! must follow within stated bounds of simulated time.
//!
//! A [`Scenario`] is generated from a seed: a cluster of three voters and a
//! learner on a hostile network (loss, duplication, reordering), and a
//! schedule of client writes, linearizable reads, crashes, restarts,
//! partitions, leadership transfers, snapshots (with compaction) and
//! membership changes (promotions and removals). Then the faults stop: the
//! network heals and turns reliable, and every crashed node restarts,
//! except that one node may be *lost for good* when every live replica's
//! membership keeps a majority of its voters without it. From then on:
//!
//! - within [`LEADER_WITHIN`], a leader is elected and commits a new write
//!   (a probe, retried at whichever node leads);
//! - within [`SETTLED_WITHIN`] more, every acknowledged write is applied on
//!   every live member of the leader's membership, and every linearizable
//!   read still pending is answered (served or failed), a new one at the
//!   leader included.
//!
//! Safety is checked all along, as in every simulator run. A failure is a
//! [`Stall`]: it names the seed (so [`Scenario::generate`] replays it), the
//! schedule, what did not happen, and the end of the run's trace.
//!
//! Stateright's `eventually` is not used for this: it is unsound when the
//! search revisits states, and the simulator's time bounds make the claim
//! concrete ("a leader within 10 s of model time once faults stop").

use crate::harness::{Cluster, ClusterSpec, Faults, Step};
use std::fmt;
use std::time::Duration;
use steadfast::membership::MembershipChange;
use steadfast::planted::PlantedBug;
use steadfast::rng::SplitMix64;
use steadfast::types::NodeId;

/// Once faults stop, a leader must commit a new write within this much
/// simulated time (election timeouts are 150–300 ms).
pub const LEADER_WITHIN: Duration = Duration::from_secs(10);

/// After that, every acknowledged write must be applied on every live
/// member, and every pending read answered, within this much more.
pub const SETTLED_WITHIN: Duration = Duration::from_secs(10);

/// Nodes of a generated scenario: voters 1–3 and learner 4.
const NODES: u64 = 4;

/// One thing that happens in the fault phase.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// A step of the simulator's vocabulary.
    Step(Step),
    /// A client asks the current leader for a linearizable read.
    Read,
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::Step(Step::Run(d)) => write!(f, "run {}ms", d.as_millis()),
            Action::Step(Step::Propose(c)) => write!(f, "propose {c:?}"),
            Action::Step(Step::Crash(n)) => write!(f, "crash {n}"),
            Action::Step(Step::Restart(n)) => write!(f, "restart {n}"),
            Action::Step(Step::Isolate(n)) => write!(f, "isolate {n}"),
            Action::Step(Step::Heal) => f.write_str("heal"),
            Action::Step(Step::Transfer(n)) => write!(f, "transfer to {n}"),
            Action::Step(Step::Snapshot(n)) => write!(f, "snapshot at {n}"),
            Action::Step(Step::Reconfigure(c)) => write!(f, "reconfigure {c}"),
            Action::Read => f.write_str("linearizable read at the leader"),
        }
    }
}

/// A fault phase and what the quiet phase may leave down.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// The seed it was generated from (also the cluster's seed).
    pub seed: u64,
    /// The cluster.
    pub spec: ClusterSpec,
    /// The fault phase, in order.
    pub actions: Vec<Action>,
    /// A node to lose for good when the faults stop, if the others keep a
    /// majority of every live replica's membership.
    pub lose: Option<NodeId>,
    /// A deliberately broken rule to run every replica with.
    pub bug: Option<PlantedBug>,
}

/// What a scenario that kept its promises showed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Progress {
    /// The node lost for good, if one was.
    pub lost: Option<NodeId>,
    /// Simulated time from the end of faults to the probe's commit.
    pub leader_after: Duration,
    /// Simulated time from the end of faults to everything applied and
    /// answered.
    pub settled_after: Duration,
    /// Acknowledged writes (all applied on every live member).
    pub acked: usize,
    /// Linearizable reads answered.
    pub reads: usize,
}

/// A scenario that stalled (or broke a safety property) after faults
/// stopped.
#[derive(Clone, Debug)]
pub struct Stall {
    /// The scenario.
    pub scenario: Box<Scenario>,
    /// What did not happen in time.
    pub what: String,
    /// The end of the run's trace.
    pub trace_tail: String,
}

impl fmt::Display for Stall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.scenario;
        writeln!(f, "liveness: seed {} stalled: {}", s.seed, self.what)?;
        let (with_bug, bug_flag) = s.bug.map_or((String::new(), String::new()), |b| {
            (
                format!(".with_bug(PlantedBug::{b:?})"),
                format!(" --bug {b:?}"),
            )
        });
        writeln!(
            f,
            "replay: steadfast_sim::liveness::Scenario::generate({}){with_bug}.run(), or `cargo run --release -p steadfast-sim --example liveness -- --seed {}{bug_flag} --trace`",
            s.seed, s.seed
        )?;
        writeln!(f, "fault phase ({} actions):", s.actions.len())?;
        for (i, action) in s.actions.iter().enumerate() {
            writeln!(f, "  {:>3}. {action}", i + 1)?;
        }
        if let Some(lost) = s.lose {
            writeln!(f, "then faults stop; {lost} may be lost for good")?;
        }
        writeln!(f, "end of the trace:")?;
        f.write_str(&self.trace_tail)
    }
}

impl Scenario {
    /// The scenario of `seed`: three voters and a learner on a hostile
    /// network, 10–50 actions.
    pub fn generate(seed: u64) -> Scenario {
        let mut rng = SplitMix64::new(seed ^ 0x6c69_7665_6e65_7373);
        let mut spec = ClusterSpec::new(3);
        spec.learners = 1;
        spec.seed = seed;
        spec.faults = Faults::hostile();
        let node = |rng: &mut SplitMix64| NodeId(1 + rng.below(NODES));
        let count = 10 + rng.below(41);
        let mut actions = Vec::new();
        for _ in 0..count {
            let step = match rng.below(22) {
                0..=5 => Step::Run(Duration::from_millis(1 + rng.below(1_500))),
                6..=8 => Step::Propose(vec![rng.below(256) as u8]),
                9 => Step::Crash(node(&mut rng)),
                10 | 11 => Step::Restart(node(&mut rng)),
                12 => Step::Isolate(node(&mut rng)),
                13 => Step::Heal,
                14 => Step::Transfer(node(&mut rng)),
                15 | 16 => Step::Snapshot(node(&mut rng)),
                17 | 18 => Step::Reconfigure(if rng.chance(500) {
                    MembershipChange::PromoteLearner(node(&mut rng))
                } else {
                    MembershipChange::Remove(node(&mut rng))
                }),
                _ => {
                    actions.push(Action::Read);
                    continue;
                }
            };
            actions.push(Action::Step(step));
        }
        let lose = rng.chance(400).then(|| node(&mut rng));
        Scenario {
            seed,
            spec,
            actions,
            lose,
            bug: None,
        }
    }

    /// This scenario with every replica running `bug`.
    pub fn with_bug(mut self, bug: PlantedBug) -> Scenario {
        self.bug = Some(bug);
        self
    }

    /// Run the fault phase, stop the faults, and check that progress
    /// follows within the bounds.
    pub fn run(&self) -> Result<Progress, Stall> {
        self.run_cluster().1
    }

    /// As [`run`](Self::run), also returning the cluster (for its trace).
    pub fn run_cluster(&self) -> (Cluster, Result<Progress, Stall>) {
        let mut cluster = Cluster::new(&self.spec);
        cluster.plant_bug(self.bug);
        let session = cluster.open_session();
        for action in &self.actions {
            match action {
                Action::Step(step) => cluster.inject(step),
                Action::Read => {
                    if let Some(leader) = cluster.leader() {
                        let _ = cluster.read_linearizable(leader, session);
                    }
                }
            }
        }
        let result = self.quiet_phase(&mut cluster, session);
        let result = result.and_then(|progress| match cluster.history().violations.first() {
            Some(v) => Err(format!("a safety property broke: {v}")),
            None => Ok(progress),
        });
        let result = result.map_err(|what| Stall {
            scenario: Box::new(self.clone()),
            what,
            trace_tail: tail(&cluster.trace(), 60),
        });
        (cluster, result)
    }

    fn quiet_phase(
        &self,
        cluster: &mut Cluster,
        session: crate::harness::SessionId,
    ) -> Result<Progress, String> {
        cluster.heal();
        cluster.set_faults(Faults::none());
        for node in cluster.ids() {
            cluster.restart(node);
        }
        let lost = self.lose.filter(|&node| may_lose(cluster, node));
        if let Some(node) = lost {
            cluster.crash(node);
        }
        let start = cluster.now();
        let deadline = start + LEADER_WITHIN;
        // Propose a probe at whichever node leads, again whenever the
        // leader changes, until one commits or time runs out.
        let mut probe = None;
        let led = loop {
            if probe.is_some_and(|request| cluster.is_acked(request)) {
                break true;
            }
            if cluster.now() >= deadline {
                break false;
            }
            if let Some((request, _)) = cluster.propose_to_leader(b"probe") {
                probe = Some(request);
            }
            let remaining = Duration::from_millis(deadline.0.saturating_sub(cluster.now().0));
            let leader = cluster.leader();
            cluster.run_until(remaining.min(Duration::from_millis(500)), |c| {
                probe.is_some_and(|request| c.is_acked(request)) || c.leader() != leader
            });
        };
        if !led {
            return Err(format!(
                "no leader committed a write within {}s of the faults stopping (leader now: {})",
                LEADER_WITHIN.as_secs(),
                cluster
                    .leader()
                    .map_or("none".to_string(), |l| l.to_string())
            ));
        }
        let leader_after = Duration::from_millis(cluster.now().0 - start.0);
        if let Some(leader) = cluster.leader() {
            let _ = cluster.read_linearizable(leader, session);
        }
        let settled = cluster.run_until(SETTLED_WITHIN, |c| unsettled(c).is_none());
        if !settled {
            return Err(unsettled(cluster).unwrap_or_default());
        }
        Ok(Progress {
            lost,
            leader_after,
            settled_after: Duration::from_millis(cluster.now().0 - start.0),
            acked: cluster.history().acked.len(),
            reads: cluster.answered_leader_reads(),
        })
    }
}

/// Whether `node` may be lost for good: every replica's membership, its
/// own included (its appends may still be on their way to the others),
/// keeps a majority of its voters without it.
fn may_lose(cluster: &Cluster, node: NodeId) -> bool {
    cluster
        .ids()
        .into_iter()
        .filter_map(|id| cluster.replica(id))
        .all(|replica| {
            let voters = &replica.membership().voters;
            let alive = voters.iter().filter(|v| **v != node).count();
            2 * alive > voters.len()
        })
}

/// What keeps the cluster from being settled, if anything: an
/// acknowledged write not yet applied on a live member of the leader's
/// membership, or a linearizable read not yet answered.
fn unsettled(cluster: &Cluster) -> Option<String> {
    let Some(leader) = cluster.leader() else {
        return Some("the leader was lost again".to_string());
    };
    let membership = cluster.replica(leader)?.membership().clone();
    for node in membership.voters.iter().chain(membership.learners.iter()) {
        if cluster.replica(*node).is_none() {
            continue;
        }
        if let Some(request) = cluster.acked_missing_from(*node).first() {
            return Some(format!(
                "acknowledged write {request:?} not applied on {node} within {}s",
                SETTLED_WITHIN.as_secs()
            ));
        }
    }
    if let Some(read) = cluster.pending_leader_reads().first() {
        return Some(format!(
            "linearizable read {} not answered within {}s",
            read.0,
            SETTLED_WITHIN.as_secs()
        ));
    }
    None
}

/// The last `lines` lines of `text`.
fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    let from = all.len().saturating_sub(lines);
    let mut out = all[from..].join("\n");
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seed_always_makes_the_same_scenario() {
        let a = Scenario::generate(7);
        let b = Scenario::generate(7);
        assert_eq!(a.actions, b.actions);
        assert_eq!(a.lose, b.lose);
        assert_ne!(a.actions, Scenario::generate(8).actions);
        assert!((10..=50).contains(&a.actions.len()));
    }
}
