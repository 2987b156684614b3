//! Seeded simulation runs of the real `Replica`, each step checked by
//! [`Conformance`].

use std::collections::BTreeMap;
use std::fmt;

use steadfast::planted::PlantedBug;
use steadfast::rng::SplitMix64;
use steadfast::{Durability, ElectionQuorum, NodeId};
use steadfast_sim::harness::{Cluster, ClusterSpec, Faults};

use super::check::{Conformance, Rejection};
use super::sent::Reading;

/// One family of simulation runs.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// Number of voters.
    pub voters: u64,
    /// Commit rule.
    pub durability: Durability,
    /// Election rule.
    pub election_quorum: ElectionQuorum,
    /// Pre-vote on or off.
    pub pre_vote: bool,
    /// Network faults.
    pub faults: Faults,
    /// Concrete steps per run (cluster steps and operator actions).
    pub steps: usize,
    /// A bug planted in every replica.
    pub planted_bug: Option<PlantedBug>,
    /// Override of `Config::max_entries_per_message` (small values make a
    /// lagging follower acknowledge old entries one message at a time).
    pub max_entries_per_message: Option<usize>,
}

impl Scenario {
    /// `voters` voters under `durability` and majority elections, pre-vote
    /// on, a hostile network, 300 steps.
    pub fn hostile(voters: u64, durability: Durability) -> Scenario {
        Scenario {
            voters,
            durability,
            election_quorum: ElectionQuorum::Majority,
            pre_vote: true,
            faults: Faults::hostile(),
            steps: 300,
            planted_bug: None,
            max_entries_per_message: None,
        }
    }

    fn cluster(&self, seed: u64) -> Cluster {
        let mut spec = ClusterSpec::new(self.voters);
        spec.durability = self.durability;
        spec.election_quorum = self.election_quorum;
        spec.pre_vote = self.pre_vote;
        spec.faults = self.faults;
        spec.seed = seed;
        let configs = (1..=self.voters)
            .map(|id| {
                let mut config = spec.config(NodeId(id));
                if let Some(max) = self.max_entries_per_message {
                    config.max_entries_per_message = max;
                }
                config
            })
            .collect();
        let mut cluster = Cluster::from_configs(configs, self.faults, seed);
        cluster.plant_bug(self.planted_bug);
        cluster
    }
}

/// A concrete step the model rejected, with what is needed to replay it.
#[derive(Debug, Clone)]
pub struct Finding {
    /// The run's seed.
    pub seed: u64,
    /// Index of the concrete step in the run.
    pub step: usize,
    /// The action taken.
    pub action: String,
    /// Why the model does not allow it.
    pub rejection: Rejection,
    /// The simulation trace up to and including the step.
    pub trace: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "seed {} step {} ({}): {}",
            self.seed, self.step, self.action, self.rejection
        )?;
        let tail: Vec<&str> = self.trace.lines().rev().take(12).collect();
        for line in tail.into_iter().rev() {
            writeln!(f, "    {line}")?;
        }
        Ok(())
    }
}

/// What the replays observed.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Runs replayed.
    pub runs: usize,
    /// Concrete steps checked.
    pub steps: usize,
    /// Concrete steps with no abstract change.
    pub stutters: usize,
    /// Model transitions taken, by name and reading.
    pub transitions: BTreeMap<(String, Reading), usize>,
    /// Concrete steps the model rejected (a run stops at its first).
    pub findings: Vec<Finding>,
}

impl Report {
    /// How many transitions of any kind needed the as-sent reading.
    pub fn as_sent(&self) -> usize {
        self.transitions
            .iter()
            .filter(|((_, r), _)| *r == Reading::AsSent)
            .map(|(_, n)| n)
            .sum()
    }

    /// How many transitions named `name` were taken under `reading`.
    pub fn count(&self, name: &str, reading: Reading) -> usize {
        self.transitions
            .get(&(name.to_string(), reading))
            .copied()
            .unwrap_or(0)
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} runs, {} concrete steps, {} stutters, {} rejected",
            self.runs,
            self.steps,
            self.stutters,
            self.findings.len()
        )?;
        for ((name, reading), n) in &self.transitions {
            writeln!(f, "  {name:<13} {reading:?}: {n}")?;
        }
        for finding in &self.findings {
            write!(f, "{finding}")?;
        }
        Ok(())
    }
}

/// Replay `scenario` once per seed, checking every concrete step.
pub fn replay(scenario: &Scenario, seeds: impl IntoIterator<Item = u64>) -> Report {
    let mut report = Report::default();
    for seed in seeds {
        replay_one(scenario, seed, &mut report);
    }
    report
}

/// One run: a random mix of cluster steps (most), proposals, crashes,
/// restarts, isolations and heals, chosen by `seed`.
fn replay_one(scenario: &Scenario, seed: u64, report: &mut Report) {
    let mut cluster = scenario.cluster(seed);
    let mut rng = SplitMix64::new(seed ^ 0xC0FF_EE00);
    let mut conformance = match Conformance::new(&cluster) {
        Ok(c) => c,
        Err(rejection) => {
            report.findings.push(Finding {
                seed,
                step: 0,
                action: "init".into(),
                rejection,
                trace: cluster.trace(),
            });
            return;
        }
    };
    report.runs += 1;
    let ids = cluster.ids();
    for step in 0..scenario.steps {
        let action = act(&mut cluster, &mut rng, &ids);
        report.steps += 1;
        match conformance.check_step(&cluster) {
            Ok(explanation) if explanation.is_empty() => report.stutters += 1,
            Ok(explanation) => {
                for (t, reading) in explanation {
                    *report.transitions.entry((t.name(), reading)).or_default() += 1;
                }
            }
            Err(rejection) => {
                report.findings.push(Finding {
                    seed,
                    step,
                    action,
                    rejection,
                    trace: cluster.trace(),
                });
                return;
            }
        }
    }
}

/// Take one random concrete step; returns what it was.
fn act(cluster: &mut Cluster, rng: &mut SplitMix64, ids: &[NodeId]) -> String {
    let pick = |rng: &mut SplitMix64| ids[rng.below(ids.len() as u64) as usize];
    match rng.below(100) {
        0..=2 => {
            let node = pick(rng);
            cluster.crash(node);
            format!("crash {node}")
        }
        3..=7 => {
            let node = pick(rng);
            cluster.restart(node);
            format!("restart {node}")
        }
        8..=9 => {
            let node = pick(rng);
            cluster.isolate(node);
            format!("isolate {node}")
        }
        10..=12 => {
            cluster.heal();
            "heal".into()
        }
        13..=27 => match cluster.propose_to_leader(b"w") {
            Some((_, at)) => format!("propose at {at}"),
            None => "propose (no leader)".into(),
        },
        _ => {
            if cluster.step() {
                "step".into()
            } else {
                "step (idle)".into()
            }
        }
    }
}
