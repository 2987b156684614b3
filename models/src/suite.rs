//! The model-checking suite: named checks, each a model with bounds and the
//! *expected* outcome of each property, and a runner that compares what the
//! checker found with what was expected.

use crate::actor::ClientOp;
use crate::model::{NetworkKind, ReplicationModel};
use crate::properties::Model;
use stateright::{Checker, Model as _, Path};
use std::time::{Duration, Instant};
use steadfast::planted::PlantedBug;
use steadfast::{Durability, ElectionQuorum};

/// How hard the suite works: `Ci` fits the whole suite in minutes on two
/// cores; `Deep` uses the largest bounds that fit the machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Profile {
    /// Bounded configurations for continuous integration.
    Ci,
    /// Larger bounds, for a nightly or a pre-release run.
    Deep,
}

impl std::str::FromStr for Profile {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "ci" => Ok(Profile::Ci),
            "deep" => Ok(Profile::Deep),
            other => Err(format!(
                "unknown profile {other:?}: expected \"ci\" or \"deep\""
            )),
        }
    }
}

/// What a property is expected to do in a model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Expect {
    /// No reachable state (within the bounds) violates it.
    Holds,
    /// The checker must find a violation.
    Violated,
}

/// What the checker found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Found {
    /// Explored every state within the bounds, no violation.
    Holds,
    /// A violation was found.
    Violated,
    /// Stopped (time budget) before exhausting the bounds, with no violation.
    Incomplete,
}

/// One model of the suite.
#[derive(Clone, Debug)]
pub struct Check {
    /// The model family (e.g. `matrix`, `ids`, `crash`).
    pub family: &'static str,
    /// The model.
    pub model: ReplicationModel,
    /// Explore paths of at most this many steps.
    pub max_depth: usize,
    /// Give up (result `incomplete`) after this long.
    pub budget: Duration,
    /// The stated expectation for each property checked.
    pub expect: Vec<(&'static str, Expect)>,
    /// Example properties (`Sometimes`) that must be found, so an empty
    /// model cannot pass.
    pub examples: Vec<&'static str>,
}

/// One row of the verdict table.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Verdict {
    /// Model family.
    pub model: String,
    /// Configuration.
    pub config: String,
    /// Property.
    pub property: String,
    /// Expected outcome.
    pub expected: String,
    /// Found outcome.
    pub found: Found,
    /// Unique states explored.
    pub unique_states: usize,
    /// Depth reached.
    pub max_depth: usize,
    /// Wall-clock seconds for the whole model.
    pub seconds: f64,
    /// The counterexample (or example), as numbered steps.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace: Option<Vec<String>>,
    /// The same trace as a Mermaid sequence diagram.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mermaid: Option<String>,
    /// Whether `found` matches `expected`.
    pub ok: bool,
}

const SAFETY: [&str; 4] = [
    "NoLostAckedWrites",
    "NoSplitBrainAck",
    "StateMachineSafety",
    "CommittedNeverTruncated",
];

/// Expectations for a register model: election safety and log matching
/// always hold; the acknowledged-write properties hold exactly when the
/// configuration survives failover.
/// Linearizability is stated only for models whose clients also read.
fn register_expectations(model: &ReplicationModel) -> Vec<(&'static str, Expect)> {
    let weak = if model.survives_failover() {
        Expect::Holds
    } else {
        Expect::Violated
    };
    let mut e = vec![
        ("ElectionSafety", Expect::Holds),
        ("LogMatching", Expect::Holds),
        ("ReplicaInvariants", Expect::Holds),
    ];
    e.extend(SAFETY.iter().map(|p| (*p, weak)));
    if model
        .clients
        .iter()
        .flatten()
        .any(|op| *op == ClientOp::Get)
    {
        e.push(("Linearizable", weak));
    }
    e
}

fn durabilities(servers: usize) -> Vec<Durability> {
    let mut d = vec![Durability::Async, Durability::SemiSync { k: 1 }];
    if servers > 2 {
        d.push(Durability::SemiSync { k: 2 });
    }
    d.extend([Durability::Quorum, Durability::All]);
    d
}

/// The checks of a profile.
pub fn checks(profile: Profile) -> Vec<Check> {
    // Depth 0 means unbounded: the model's own bounds (time limit, epochs,
    // client operations) make it finite and the search is exhaustive.
    let (depth3, depth5, depth_clients, depth_faults, depth_duplicating, budget) = match profile {
        Profile::Ci => (0, 14, 14, 13, 11, Duration::from_secs(120)),
        Profile::Deep => (0, 0, 18, 16, 14, Duration::from_secs(3600)),
    };
    let mut out = Vec::new();
    // The verdict matrix: every durability policy under both election rules.
    let sizes: &[usize] = match profile {
        Profile::Ci => &[3],
        Profile::Deep => &[3, 5],
    };
    for &n in sizes {
        for election in [ElectionQuorum::Majority, ElectionQuorum::Flexible] {
            for durability in durabilities(n) {
                let mut model = ReplicationModel::new(n, durability, election);
                model.max_crashes = 0;
                model.lossy = false;
                model.clients = vec![vec![ClientOp::Put(1)]];
                let expect = register_expectations(&model);
                out.push(Check {
                    family: "matrix",
                    model,
                    max_depth: if n == 3 { depth3 } else { depth5 },
                    budget,
                    expect,
                    examples: vec![
                        "a write is acknowledged",
                        "a failover happens",
                        "a failover after an acknowledged write",
                    ],
                });
            }
        }
    }
    // Linearizable reads and writes: a write, then a read-index read.
    for durability in [Durability::Async, Durability::Quorum] {
        let mut model = ReplicationModel::new(3, durability, ElectionQuorum::Majority);
        model.max_crashes = 0;
        model.lossy = false;
        model.clients = vec![vec![ClientOp::Put(1), ClientOp::Get]];
        out.push(Check {
            family: "linearizable",
            expect: register_expectations(&model),
            model,
            max_depth: depth_clients,
            budget,
            examples: vec![
                "a write is acknowledged",
                "a failover after an acknowledged write",
            ],
        });
    }
    // Id allocation: a lagging promoted leader reissues an id (the GitHub
    // 2012 incident) under Async; a quorum cannot.
    for durability in [Durability::Async, Durability::Quorum] {
        let mut model = ReplicationModel::new(3, durability, ElectionQuorum::Majority);
        model.max_crashes = 0;
        model.lossy = false;
        model.clients = vec![vec![ClientOp::NextId], vec![ClientOp::NextId]];
        let expect = if model.survives_failover() {
            Expect::Holds
        } else {
            Expect::Violated
        };
        out.push(Check {
            family: "ids",
            model,
            max_depth: depth_clients,
            budget,
            expect: vec![
                ("ElectionSafety", Expect::Holds),
                ("ReplicaInvariants", Expect::Holds),
                ("UniqueIds", expect),
            ],
            examples: vec!["a write is acknowledged", "a failover happens"],
        });
    }
    // Crash-restart from durable state, and a duplicating network.
    let mut crash = ReplicationModel::new(3, Durability::Quorum, ElectionQuorum::Majority);
    crash.lossy = false;
    crash.max_crashes = 1;
    crash.clients = vec![vec![ClientOp::Put(1)]];
    crash.max_epoch = 3;
    out.push(Check {
        family: "crash",
        expect: register_expectations(&crash),
        model: crash,
        max_depth: depth_faults,
        budget,
        examples: vec!["a write is acknowledged", "a failover happens"],
    });
    let mut dup = ReplicationModel::new(3, Durability::Quorum, ElectionQuorum::Majority);
    dup.max_crashes = 0;
    dup.lossy = false;
    dup.network = NetworkKind::Duplicating;
    dup.clients = vec![vec![ClientOp::Put(1)]];
    out.push(Check {
        family: "duplicating",
        expect: register_expectations(&dup),
        model: dup,
        max_depth: depth_duplicating,
        budget,
        examples: vec!["a write is acknowledged", "a failover happens"],
    });
    out.extend(follower_read_checks(profile));
    // A deliberately broken core must be caught.
    let mut bug = ReplicationModel::new(3, Durability::Quorum, ElectionQuorum::Majority);
    bug.max_crashes = 0;
    bug.lossy = false;
    bug.clients = vec![vec![ClientOp::Put(1)]];
    bug.planted_bug = Some(PlantedBug::VoteWithoutUpToDateCheck);
    out.push(Check {
        family: "broken-core",
        expect: vec![
            ("ElectionSafety", Expect::Holds),
            ("ReplicaInvariants", Expect::Holds),
            ("NoLostAckedWrites", Expect::Violated),
        ],
        model: bug,
        max_depth: depth3,
        budget,
        examples: vec!["a write is acknowledged"],
    });
    out
}

/// Follower reads under replication lag: one client writes, then reads at
/// follower n1 and then at n2 (which may lag n1), under a reordering network
/// with two campaigners and room for one failover. With its session token
/// every read observes the client's write and its earlier read; without one,
/// the checker must find both anomalies. Consistent prefix holds either way.
///
/// The CI bounds are exhaustive: the deepest state lies above the depth
/// bound, so the whole bounded state space is explored in seconds.
pub fn follower_read_checks(profile: Profile) -> Vec<Check> {
    [true, false]
        .into_iter()
        .map(|token| {
            let mut model = follower_read_model(token);
            let max_depth = match profile {
                Profile::Ci => 40,
                Profile::Deep => {
                    // Two failovers, and a later election deadline.
                    model.max_epoch = 3;
                    model.time_limit_ms = 35;
                    26
                }
            };
            let session = if token {
                Expect::Holds
            } else {
                Expect::Violated
            };
            Check {
                family: "follower-reads",
                model,
                max_depth,
                budget: Duration::from_secs(90),
                expect: vec![
                    ("ReadYourWrites", session),
                    ("MonotonicReads", session),
                    ("ConsistentPrefix", Expect::Holds),
                    ("StateMachineSafety", Expect::Holds),
                    ("ReplicaInvariants", Expect::Holds),
                ],
                examples: vec![
                    "a write is acknowledged",
                    "a follower read is served",
                    "a failover happens",
                    "a follower read after a failover",
                ],
            }
        })
        .collect()
}

/// The follower-read model: n=3, quorum, no crashes or loss, a reordering
/// network, two campaigners, at most one failover (`max_epoch` 2) and timers
/// up to 30 ms; one client writes `1`, then reads at n1, then at n2, with or
/// without its session token.
///
/// The network must not be [`NetworkKind::Ordered`]: a read a replica cannot
/// serve yet (`Wait`, `Redirect`) is left in the network, which stateright
/// only does for unordered networks.
pub fn follower_read_model(token: bool) -> ReplicationModel {
    let mut model = ReplicationModel::new(3, Durability::Quorum, ElectionQuorum::Majority);
    model.max_crashes = 0;
    model.lossy = false;
    model.network = NetworkKind::Unordered;
    model.campaigners = 2;
    model.max_epoch = 2;
    model.time_limit_ms = 30;
    model.clients = vec![vec![
        ClientOp::Put(1),
        ClientOp::FollowerGet { server: 1, token },
        ClientOp::FollowerGet { server: 2, token },
    ]];
    model
}

/// The name a check is selected by on the command line.
pub fn check_name(check: &Check) -> String {
    format!(
        "{}/{}",
        check.family,
        check.model.describe().replace(' ', "-")
    )
}

/// The distinct model families, in order.
pub fn model_names() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = Vec::new();
    for check in checks(Profile::Ci) {
        if !names.contains(&check.family) {
            names.push(check.family);
        }
    }
    names
}

/// Run one check and compare each property with its expectation.
///
/// Unbounded checks (`max_depth == 0`): the model is finite and
/// depth-first search (cheap in memory) visits every state. Depth-bounded
/// checks: breadth-first search, so every state within the depth is visited
/// (a depth-bounded DFS could prune a state first reached by a long path),
/// and counterexamples are short.
pub fn run(check: &Check) -> Vec<Verdict> {
    let started = Instant::now();
    let model: Model = check.model.clone().into_model();
    let builder = model.checker().threads(2).timeout(check.budget);
    if check.max_depth > 0 {
        let checker = builder.target_max_depth(check.max_depth).spawn_bfs().join();
        verdicts(check, &checker, started)
    } else {
        let checker = builder.spawn_dfs().join();
        verdicts(check, &checker, started)
    }
}

fn verdicts(check: &Check, checker: &impl Checker<Model>, started: Instant) -> Vec<Verdict> {
    let seconds = started.elapsed().as_secs_f64();
    let complete = started.elapsed() < check.budget;
    let unique = checker.unique_state_count();
    let depth = checker.max_depth();
    let config = check.model.describe();
    let model = checker.model();
    let mut rows = Vec::new();
    for (property, expect) in &check.expect {
        let path = checker.discovery(property);
        let found = match (&path, complete) {
            (Some(_), _) => Found::Violated,
            (None, true) => Found::Holds,
            (None, false) => Found::Incomplete,
        };
        let ok = matches!(
            (expect, found),
            (Expect::Holds, Found::Holds) | (Expect::Violated, Found::Violated)
        );
        let (trace, mermaid) = match path {
            Some(path) => {
                let t = crate::report::Trace::new(model, path);
                (Some(t.steps()), Some(t.mermaid()))
            }
            None => (None, None),
        };
        rows.push(Verdict {
            model: check.family.to_string(),
            config: config.clone(),
            property: property.to_string(),
            expected: format!("{expect:?}").to_lowercase(),
            found,
            unique_states: unique,
            max_depth: depth,
            seconds,
            trace,
            mermaid,
            ok,
        });
    }
    for example in &check.examples {
        let path: Option<Path<_, _>> = checker.discovery(example);
        let found = if path.is_some() {
            Found::Holds
        } else {
            Found::Violated
        };
        rows.push(Verdict {
            model: check.family.to_string(),
            config: config.clone(),
            property: format!("sometimes: {example}"),
            expected: "holds".to_string(),
            found,
            unique_states: unique,
            max_depth: depth,
            seconds,
            trace: None,
            mermaid: None,
            ok: path.is_some(),
        });
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_parse_and_reject_unknown_names() {
        assert_eq!("ci".parse::<Profile>(), Ok(Profile::Ci));
        assert_eq!("deep".parse::<Profile>(), Ok(Profile::Deep));
        assert!("fast".parse::<Profile>().unwrap_err().contains("fast"));
    }

    #[test]
    fn the_matrix_states_an_expectation_for_every_safety_property() {
        let checks = checks(Profile::Ci);
        let matrix: Vec<_> = checks.iter().filter(|c| c.family == "matrix").collect();
        assert_eq!(matrix.len(), 10, "5 policies x 2 election rules for n=3");
        for check in matrix {
            for property in SAFETY {
                assert!(check.expect.iter().any(|(p, _)| *p == property));
            }
            let weak = check.expect.iter().any(|(_, e)| *e == Expect::Violated);
            assert_eq!(
                weak,
                !check.model.survives_failover(),
                "{}",
                check_name(check)
            );
        }
    }

    /// The follower-read check for `token`, with bounds small enough for a
    /// unit test: a single campaigner (no failover), explored exhaustively
    /// (its deepest state lies above the depth bound), with timers up to
    /// 40 ms so the leader sends several heartbeats.
    fn small_follower_read_check(token: bool) -> Check {
        let mut check = follower_read_checks(Profile::Ci)
            .into_iter()
            .find(|c| {
                c.model
                    .describe()
                    .ends_with(if token { " token" } else { " no-token" })
            })
            .expect("a follower-read check per token setting");
        check.model.campaigners = 1;
        check.model.time_limit_ms = 40;
        check.max_depth = 30;
        check.examples.retain(|e| !e.contains("failover"));
        check
    }

    fn found(rows: &[Verdict], property: &str) -> Found {
        rows.iter()
            .find(|r| r.property == property)
            .unwrap_or_else(|| panic!("no verdict for {property}"))
            .found
    }

    #[test]
    fn follower_reads_with_a_session_token_keep_every_session_guarantee() {
        let check = small_follower_read_check(true);
        let rows = run(&check);
        assert!(rows[0].max_depth < check.max_depth, "explored exhaustively");
        for property in ["ReadYourWrites", "MonotonicReads", "ConsistentPrefix"] {
            assert_eq!(found(&rows, property), Found::Holds, "{property}");
        }
        assert_eq!(
            found(&rows, "sometimes: a follower read is served"),
            Found::Holds,
            "the model must actually serve a follower read"
        );
        assert!(rows.iter().all(|r| r.ok), "{rows:#?}");
    }

    #[test]
    fn follower_reads_without_a_token_break_read_your_writes_and_monotonic_reads() {
        let rows = run(&small_follower_read_check(false));
        assert_eq!(found(&rows, "ReadYourWrites"), Found::Violated);
        assert_eq!(found(&rows, "MonotonicReads"), Found::Violated);
        assert_eq!(found(&rows, "ConsistentPrefix"), Found::Holds);
        let trace = rows
            .iter()
            .find(|r| r.property == "MonotonicReads")
            .and_then(|r| r.trace.clone())
            .expect("a counterexample trace");
        assert!(
            trace.iter().any(|step| step.contains("ReadAt (no token)")),
            "the trace shows the follower reads: {trace:#?}"
        );
        assert!(rows.iter().all(|r| r.ok), "{rows:#?}");
    }

    #[test]
    fn only_models_with_follower_reads_carry_the_session_properties() {
        for check in checks(Profile::Ci) {
            let names: Vec<&str> = check
                .model
                .clone()
                .into_model()
                .properties()
                .into_iter()
                .map(|p| p.name)
                .collect();
            let session = names.contains(&"ReadYourWrites");
            assert_eq!(
                session,
                check.family == "follower-reads",
                "{}",
                check_name(&check)
            );
        }
    }

    #[test]
    fn follower_read_checks_state_both_verdicts_and_have_distinct_names() {
        let checks = follower_read_checks(Profile::Ci);
        let names: Vec<String> = checks.iter().map(check_name).collect();
        assert_eq!(
            names,
            [
                "follower-reads/n=3-Quorum-Majority-token",
                "follower-reads/n=3-Quorum-Majority-no-token"
            ]
        );
        let expected = |check: &Check, property| {
            check
                .expect
                .iter()
                .find(|(p, _)| *p == property)
                .map(|(_, e)| *e)
        };
        assert_eq!(expected(&checks[0], "ReadYourWrites"), Some(Expect::Holds));
        assert_eq!(
            expected(&checks[1], "ReadYourWrites"),
            Some(Expect::Violated)
        );
        assert_eq!(
            expected(&checks[1], "MonotonicReads"),
            Some(Expect::Violated)
        );
        assert_eq!(
            expected(&checks[1], "ConsistentPrefix"),
            Some(Expect::Holds)
        );
    }
}
