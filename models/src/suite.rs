//! The model-checking suite: named checks, each a model with bounds and the
//! *expected* outcome of each property, and a runner that compares what the
//! checker found with what was expected.

use crate::actor::ClientOp;
use crate::model::{NetworkKind, ReplicationModel};
pub use crate::runner::{run, Found, Verdict};
use steadfast::membership::MembershipChange;
use steadfast::planted::PlantedBug;
use steadfast::{Durability, ElectionQuorum, NodeId};

/// How hard the suite works: `Ci` fits the whole suite in minutes on two
/// cores; `Deep` adds five-replica `matrix` rows and deeper depth bounds,
/// for a long nightly run.
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

/// One model of the suite.
#[derive(Clone, Debug)]
pub struct Check {
    /// The model family (e.g. `matrix`, `ids`, `crash`).
    pub family: &'static str,
    /// The model.
    pub model: ReplicationModel,
    /// Explore paths of at most this many steps (0: no depth bound; the
    /// model's structural bounds make it finite and the search exhaustive).
    pub max_depth: usize,
    /// The stated expectation for each property checked.
    pub expect: Vec<(&'static str, Expect)>,
    /// Example properties (`Sometimes`) that must be found, so an empty
    /// model cannot pass.
    pub examples: Vec<&'static str>,
}

const SAFETY: [&str; 5] = [
    "CommitNeverBackwards",
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
    let mut e = core_expectations();
    e.push(("LogMatching", Expect::Holds));
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

/// The rows whose verdicts say whether a failover can lose acknowledged
/// writes: `Async` and `Quorum` under majority elections, `SemiSync{1}`
/// (a majority of three, not of five), and the flexible election quorum
/// that claims `Async` is safe.
fn headline_row(durability: Durability, election: ElectionQuorum) -> bool {
    matches!(
        (durability, election),
        (
            Durability::Async | Durability::SemiSync { k: 1 } | Durability::Quorum,
            ElectionQuorum::Majority
        ) | (Durability::Async, ElectionQuorum::Flexible)
    )
}

/// The properties every check states, whatever its configuration: the
/// core's own invariants, the step properties, and one leader per epoch.
fn core_expectations() -> Vec<(&'static str, Expect)> {
    vec![
        ("ElectionSafety", Expect::Holds),
        ("ReplicaInvariants", Expect::Holds),
        ("EpochNeverBackwards", Expect::Holds),
        ("AppliesOnlyCommitted", Expect::Holds),
    ]
}

/// The checks of a profile. Every bound is structural (servers,
/// campaigners, elections per server, heartbeats per reign, epochs, client
/// operations, crashes, loss, duplication and, for a few checks, depth), so
/// a check's verdict is the same on any machine.
pub fn checks(profile: Profile) -> Vec<Check> {
    let mut out = matrix_checks(profile);
    out.extend(client_checks(profile));
    out.extend(fault_checks(profile));
    out.extend(follower_read_checks(profile));
    out.extend(broken_core_checks(profile));
    out.extend(figure8_checks(profile));
    out.extend(membership_checks(profile));
    out
}

/// Membership changes during writes, on the real core: a learner promoted
/// after a write (it must catch up and count from then on), and a voter
/// removed, possibly the leader itself (which then hands over), under
/// `Quorum`. Every safety property must hold.
fn membership_checks(profile: Profile) -> Vec<Check> {
    let depth = depths(profile).membership_crash;
    let base = |learners: usize, change: MembershipChange| {
        let mut m = ReplicationModel::new(3, Durability::Quorum, ElectionQuorum::Majority);
        m.learners = learners;
        m.campaigners = 3;
        m.max_crashes = 0;
        m.lossy = false;
        m.clients = vec![vec![ClientOp::Put(1), ClientOp::Reconfigure(change)]];
        m
    };
    let promote = base(1, MembershipChange::PromoteLearner(NodeId(2)));
    // The same promotion with one crash-restart, breadth-first to a depth.
    // and a linearizable read after the change, with check-quorum on (a
    // leader whose change is uncommitted confirms reads with both
    // memberships).
    let mut crash = base(1, MembershipChange::PromoteLearner(NodeId(2)));
    crash.max_crashes = 1;
    crash.check_quorum = true;
    crash.heartbeats = 1;
    crash.clients[0].push(ClientOp::Get);
    // Only server 0 campaigns, so it leads when the operator removes it:
    // it must commit its removal and hand over (`TimeoutNow`, which needs
    // no timer budget) to a voter holding its whole log.
    let mut remove = base(0, MembershipChange::Remove(NodeId(0)));
    remove.campaigners = 1;
    [
        (promote, "membership", 0),
        (remove, "membership", 0),
        (crash, "membership-crash", depth),
    ]
    .into_iter()
    .map(|(model, family, max_depth)| {
        let mut expect = core_expectations();
        expect.extend([
            ("LogMatching", Expect::Holds),
            ("CommitNeverBackwards", Expect::Holds),
            ("NoLostAckedWrites", Expect::Holds),
            ("StateMachineSafety", Expect::Holds),
            ("CommittedNeverTruncated", Expect::Holds),
        ]);
        if model
            .clients
            .iter()
            .flatten()
            .any(|op| *op == ClientOp::Get)
        {
            expect.push(("Linearizable", Expect::Holds));
        }
        Check {
            family,
            expect,
            model,
            max_depth,
            examples: vec![
                "a write is acknowledged",
                "a membership change commits",
                "every change commits after a write",
                "a failover happens",
            ],
        }
    })
    .collect()
}

/// The verdict matrix: every durability policy under both election rules.
fn matrix_checks(profile: Profile) -> Vec<Check> {
    let sizes: &[usize] = match profile {
        Profile::Ci => &[3],
        Profile::Deep => &[3, 5],
    };
    let mut out = Vec::new();
    for &n in sizes {
        for election in [ElectionQuorum::Majority, ElectionQuorum::Flexible] {
            for durability in durabilities(n) {
                if n > 3 && !headline_row(durability, election) {
                    // Five servers: the rows the failover verdicts rest on.
                    continue;
                }
                let mut model = ReplicationModel::new(n, durability, election);
                // Every one of three servers campaigns; of five, two do.
                // Either way servers in equal states (timer budgets
                // included) are interchangeable, and the search is reduced
                // by symmetry.
                model.campaigners = if n > 3 { 2 } else { n };
                model.max_crashes = 0;
                model.lossy = false;
                model.clients = vec![vec![ClientOp::Put(1)]];
                let expect = register_expectations(&model);
                out.push(Check {
                    family: "matrix",
                    model,
                    max_depth: 0,
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
    out
}

/// Client-facing guarantees: linearizable reads and writes (a write, then a
/// read-index read), and id allocation, where a lagging promoted leader
/// reissues an id (the GitHub 2012 incident) under `Async` and a quorum
/// cannot.
fn client_checks(profile: Profile) -> Vec<Check> {
    let depth = depths(profile).clients;
    let mut out = Vec::new();
    for durability in [Durability::Async, Durability::Quorum] {
        let mut model = ReplicationModel::new(3, durability, ElectionQuorum::Majority);
        model.max_crashes = 0;
        model.lossy = false;
        model.clients = vec![vec![ClientOp::Put(1), ClientOp::Get]];
        out.push(Check {
            family: "linearizable",
            expect: register_expectations(&model),
            model,
            max_depth: depth,
            examples: vec![
                "a write is acknowledged",
                "a failover after an acknowledged write",
            ],
        });
    }
    for durability in [Durability::Async, Durability::Quorum] {
        let mut model = ReplicationModel::new(3, durability, ElectionQuorum::Majority);
        model.max_crashes = 0;
        model.lossy = false;
        model.clients = vec![vec![ClientOp::NextId], vec![ClientOp::NextId]];
        let reissue = if model.survives_failover() {
            Expect::Holds
        } else {
            Expect::Violated
        };
        let mut expect = core_expectations();
        expect.push(("UniqueIds", reissue));
        out.push(Check {
            family: "ids",
            model,
            max_depth: depth,
            expect,
            examples: vec!["a write is acknowledged", "a failover happens"],
        });
    }
    out
}

/// Crash-restart from durable state (three epochs), and a network that
/// redelivers.
fn fault_checks(profile: Profile) -> Vec<Check> {
    let depths = depths(profile);
    let mut crash = ReplicationModel::new(3, Durability::Quorum, ElectionQuorum::Majority);
    crash.lossy = false;
    crash.max_crashes = 1;
    crash.clients = vec![vec![ClientOp::Put(1)]];
    crash.max_epoch = 3;
    let mut dup = ReplicationModel::new(3, Durability::Quorum, ElectionQuorum::Majority);
    dup.max_crashes = 0;
    dup.lossy = false;
    dup.network = NetworkKind::Duplicating;
    dup.clients = vec![vec![ClientOp::Put(1)]];
    [
        (crash, "crash", depths.crash),
        (dup, "duplicating", depths.duplicating),
    ]
    .into_iter()
    .map(|(model, family, max_depth)| Check {
        family,
        expect: register_expectations(&model),
        model,
        max_depth,
        examples: vec!["a write is acknowledged", "a failover happens"],
    })
    .collect()
}

/// Path-depth bounds of the families whose structural bounds alone leave
/// too many states to exhaust: every state within the depth is visited
/// (breadth-first).
struct Depths {
    clients: usize,
    crash: usize,
    duplicating: usize,
    membership_crash: usize,
}

fn depths(profile: Profile) -> Depths {
    match profile {
        Profile::Ci => Depths {
            clients: 14,
            crash: 13,
            duplicating: 11,
            membership_crash: 17,
        },
        Profile::Deep => Depths {
            clients: 18,
            crash: 16,
            duplicating: 14,
            membership_crash: 18,
        },
    }
}

/// A deliberately broken core the checker must catch: votes without the
/// up-to-date check lose an acknowledged write.
fn broken_core_checks(_profile: Profile) -> Vec<Check> {
    let mut vote = ReplicationModel::new(3, Durability::Quorum, ElectionQuorum::Majority);
    vote.max_crashes = 0;
    vote.lossy = false;
    vote.clients = vec![vec![ClientOp::Put(1)]];
    vote.planted_bug = Some(PlantedBug::VoteWithoutUpToDateCheck);
    let mut expect = core_expectations();
    expect.push(("NoLostAckedWrites", Expect::Violated));
    vec![Check {
        family: "broken-core",
        expect,
        model: vote,
        max_depth: 0,
        examples: vec!["a write is acknowledged"],
    }]
}

/// Raft's Figure 8, at the bounds it needs: three replicas, two of which
/// campaign twice each (so four epochs, leaders alternating), one entry per
/// append (a new leader can then replicate an older epoch's entry before
/// its own no-op), and per-link FIFO delivery (one connection per pair of
/// replicas, as over TCP; links still interleave freely). No client: the
/// leaders' no-ops are the entries at stake. With the own-epoch commit rule
/// removed (`PlantedBug::CommitOldEpochEntries`) the e3 leader counts its
/// e1 no-op committed once a majority holds it, and the e4 leader, elected
/// without it, overwrites it: two replicas apply different entries at one
/// lsn. The real core at the same bounds keeps every property. Both are
/// explored exhaustively.
fn figure8_checks(_profile: Profile) -> Vec<Check> {
    let model = |bug: Option<PlantedBug>| {
        let mut m = ReplicationModel::new(3, Durability::Quorum, ElectionQuorum::Majority);
        m.campaigners = 2;
        m.elections = 2;
        m.max_epoch = 4;
        m.max_entries_per_message = 1;
        m.network = NetworkKind::Ordered;
        m.max_crashes = 0;
        m.lossy = false;
        m.clients = vec![];
        m.planted_bug = bug;
        m
    };
    let verdicts = |broken: bool| {
        let found = if broken {
            Expect::Violated
        } else {
            Expect::Holds
        };
        let mut expect = core_expectations();
        expect.extend([
            ("LogMatching", Expect::Holds),
            ("StateMachineSafety", found),
            ("CommittedNeverTruncated", found),
            ("CommitNeverBackwards", found),
        ]);
        expect
    };
    [false, true]
        .into_iter()
        .map(|broken| Check {
            family: "figure8",
            model: model(broken.then_some(PlantedBug::CommitOldEpochEntries)),
            max_depth: 0,
            expect: verdicts(broken),
            examples: vec!["a failover happens"],
        })
        .collect()
}

/// Follower reads under replication lag: one client writes, then reads at
/// follower n1 and then at n2 (which may lag n1), under a reordering network
/// with two campaigners and room for one failover. With its session token
/// every read observes the client's write and its earlier read; without one,
/// the checker must find both anomalies. Consistent prefix holds either way.
///
/// Explored exhaustively; the clients' reads name servers, so these models
/// are not reduced by symmetry.
pub fn follower_read_checks(profile: Profile) -> Vec<Check> {
    [true, false]
        .into_iter()
        .map(|token| {
            let mut model = follower_read_model(token);
            if profile == Profile::Deep {
                // Two failovers.
                model.max_epoch = 3;
                model.elections = 2;
            }
            let session = if token {
                Expect::Holds
            } else {
                Expect::Violated
            };
            Check {
                family: "follower-reads",
                model,
                max_depth: 0,
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
/// network, two campaigners with one election each, at most one failover
/// (`max_epoch` 2), no heartbeat rounds; one client writes `1`,
/// then reads at n1, then at n2, with or without its session token.
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
    model.clients = vec![vec![
        ClientOp::Put(1),
        ClientOp::FollowerGet { server: 1, token },
        ClientOp::FollowerGet { server: 2, token },
    ]];
    model
}

/// A check's structural bounds, as `steadfast list --json` prints them.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Bounds {
    /// The check's name.
    pub name: String,
    /// Its family.
    pub family: &'static str,
    /// Replicas (voters, then learners).
    pub servers: usize,
    /// Of which start as learners.
    pub learners: usize,
    /// Replicas that may start elections.
    pub campaigners: usize,
    /// Election timeouts each campaigner may fire.
    pub elections_per_replica: u8,
    /// Heartbeat rounds per reign.
    pub heartbeats_per_reign: u8,
    /// Highest epoch explored.
    pub max_epoch: u64,
    /// Client writes (puts and id allocations).
    pub writes: usize,
    /// Client reads (read-index and follower reads).
    pub reads: usize,
    /// Operator membership changes.
    pub membership_changes: usize,
    /// Servers down at once (each may restart).
    pub crashes: usize,
    /// Messages may be lost.
    pub loss: bool,
    /// Messages may be delivered more than once.
    pub duplication: bool,
    /// Messages between two servers may overtake each other.
    pub reordering: bool,
    /// Entries per append.
    pub max_entries_per_message: usize,
    /// Depth bound (`None`: exhaustive).
    pub depth: Option<usize>,
    /// Reduced by renaming servers.
    pub symmetry: bool,
    /// The planted bug, if any.
    pub planted_bug: Option<String>,
}

impl Check {
    /// The check's structural bounds.
    pub fn bounds(&self) -> Bounds {
        let m = &self.model;
        let ops = || m.clients.iter().flatten();
        Bounds {
            name: check_name(self),
            family: self.family,
            servers: m.servers,
            learners: m.learners,
            campaigners: m.campaigners,
            elections_per_replica: m.elections,
            heartbeats_per_reign: m.heartbeats,
            max_epoch: m.max_epoch,
            writes: ops()
                .filter(|op| matches!(op, ClientOp::Put(_) | ClientOp::NextId))
                .count(),
            reads: ops()
                .filter(|op| matches!(op, ClientOp::Get | ClientOp::FollowerGet { .. }))
                .count(),
            membership_changes: ops()
                .filter(|op| matches!(op, ClientOp::Reconfigure(_)))
                .count(),
            crashes: m.max_crashes,
            loss: m.lossy,
            duplication: m.network == NetworkKind::Duplicating,
            reordering: m.network != NetworkKind::Ordered,
            max_entries_per_message: m.max_entries_per_message,
            depth: (self.max_depth > 0).then_some(self.max_depth),
            symmetry: self.max_depth == 0 && m.is_symmetric(),
            planted_bug: m.planted_bug.map(|b| format!("{b:?}")),
        }
    }
}

/// The name a check is selected by on the command line.
pub fn check_name(check: &Check) -> String {
    format!(
        "{}/{}",
        check.family,
        check.model.describe().replace(' ', "-")
    )
}

/// A name as the CLI matches it: lower case, without braces
/// (`matrix/n=3-SemiSync{1}-Majority` → `matrix/n=3-semisync1-majority`).
fn folded(name: &str) -> String {
    name.chars()
        .filter(|c| !matches!(c, '{' | '}'))
        .flat_map(char::to_lowercase)
        .collect()
}

/// True when `filter` names `check`: its family, or a prefix of its name,
/// in any case, with or without braces.
pub fn check_matches(check: &Check, filter: &str) -> bool {
    let filter = folded(filter);
    folded(check.family) == filter || folded(&check_name(check)).starts_with(&filter)
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

#[cfg(test)]
mod tests {
    use super::*;
    use stateright::Model as _;

    #[test]
    fn names_match_in_any_case_with_or_without_braces() {
        let all = checks(Profile::Ci);
        let semi = all
            .iter()
            .find(|c| check_name(c) == "matrix/n=3-SemiSync{1}-Majority")
            .expect("the check exists");
        for filter in [
            "matrix",
            "MATRIX",
            "matrix/n=3-SemiSync{1}-Majority",
            "matrix/n=3-semisync1-majority",
            "Matrix/N=3-SEMISYNC1",
        ] {
            assert!(check_matches(semi, filter), "{filter}");
        }
        assert!(!check_matches(semi, "matrix/n=3-semisync2"));
        assert!(!check_matches(semi, "atrix"));
    }

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
    /// unit test: a single campaigner (no failover), explored exhaustively.
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
        check.examples.retain(|e| !e.contains("failover"));
        check
    }

    fn found(rows: &[Verdict], property: &str) -> Found {
        rows.iter()
            .find(|r| r.property == property)
            .unwrap_or_else(|| panic!("no verdict for {property}"))
            .found
    }

    /// The membership family at its CI bounds: a learner promoted after a
    /// write, and the leader removing itself and handing over, keep every
    /// safety property and reach every example (the change commits after
    /// the write; a new leader is elected).
    #[test]
    fn membership_changes_keep_every_property_and_reach_their_examples() {
        let checks: Vec<Check> = checks(Profile::Ci)
            .into_iter()
            .filter(|c| c.family == "membership")
            .collect();
        assert_eq!(checks.len(), 2);
        for check in checks {
            let rows = run(&check);
            assert!(rows.iter().all(|r| r.ok), "{rows:#?}");
            assert_eq!(
                found(&rows, "sometimes: every change commits after a write"),
                Found::Holds
            );
            assert_eq!(found(&rows, "sometimes: a failover happens"), Found::Holds);
        }
    }

    #[test]
    fn follower_reads_with_a_session_token_keep_every_session_guarantee() {
        let check = small_follower_read_check(true);
        let rows = run(&check);
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
