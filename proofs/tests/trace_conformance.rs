//! Conformance of recorded runs of the reference server: three nodes in
//! one process (real data directories, an in-memory network) record their
//! traces through writes, a failover and a restart; the conformance check
//! accepts the recording and rejects it once tampered with.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use steadfast::wire::{Envelope, Message};
use steadfast::{HardState, NodeId, Output, SessionToken};
use steadfast_proofs::conformance::{
    check_trace_dir, check_trace_dir_within, Reading, Rejection, Transition, Verdict,
};
use steadfast_server::kv::{Command, NodeAddrs};
use steadfast_server::node::{Node, NodeClient, NodeConfig, PeerNetwork, ReadMode, Request};
use steadfast_server::trace::{read_trace, trace_files, write_trace, Event};
use tokio::sync::mpsc;

/// Envelopes straight into the nodes' inboxes.
#[derive(Default)]
struct Network {
    inboxes: Mutex<BTreeMap<NodeId, mpsc::Sender<Envelope>>>,
}

impl PeerNetwork for Network {
    fn send(&self, envelope: Envelope) -> bool {
        let inboxes = self.inboxes.lock().unwrap_or_else(|e| e.into_inner());
        inboxes
            .get(&envelope.to)
            .is_some_and(|inbox| inbox.try_send(envelope).is_ok())
    }
    fn add_peer(&self, _: NodeId, _: SocketAddr) {}
    fn remove_peer(&self, _: NodeId) {}
}

/// The run's shape: writes before and after the failover, and when
/// nodes snapshot and how much log they keep behind a snapshot.
#[derive(Clone, Copy)]
struct Shape {
    before: u64,
    after: u64,
    snapshot_every: u64,
    retain: u64,
}

/// Compaction happens on every node, yet the restarted node catches up
/// from the log (it misses fewer entries than are kept).
const CATCH_UP_FROM_LOG: Shape = Shape {
    before: 30,
    after: 12,
    snapshot_every: 10,
    retain: 20,
};

struct Cluster {
    shape: Shape,
    network: Arc<Network>,
    nodes: BTreeMap<NodeId, Node>,
    data: BTreeMap<NodeId, tempfile::TempDir>,
    members: BTreeMap<NodeId, NodeAddrs>,
    traces: PathBuf,
}

impl Cluster {
    fn new(traces: &Path, shape: Shape) -> Cluster {
        let members = (1..=3u64)
            .map(|id| {
                let addrs = NodeAddrs {
                    peer: SocketAddr::from(([127, 0, 0, 1], 27000 + id as u16)),
                    http: SocketAddr::from(([127, 0, 0, 1], 28000 + id as u16)),
                };
                (NodeId(id), addrs)
            })
            .collect();
        let mut cluster = Cluster {
            shape,
            network: Arc::default(),
            nodes: BTreeMap::new(),
            data: BTreeMap::new(),
            members,
            traces: traces.to_owned(),
        };
        for id in 1..=3 {
            cluster
                .data
                .insert(NodeId(id), tempfile::tempdir().unwrap());
            cluster.start(NodeId(id));
        }
        cluster
    }

    fn start(&mut self, id: NodeId) {
        let mut config = NodeConfig::new(7, id, self.members.clone(), self.data[&id].path().into());
        config.trace_dir = Some(self.traces.clone());
        config.snapshot_every = self.shape.snapshot_every;
        config.snapshot_retain_entries = self.shape.retain;
        let (inbox, inbound) = mpsc::channel(10_000);
        self.network.inboxes.lock().unwrap().insert(id, inbox);
        let node = Node::start(config, self.network.clone(), inbound).unwrap();
        self.nodes.insert(id, node);
    }

    fn stop(&mut self, id: NodeId) {
        self.network.inboxes.lock().unwrap().remove(&id);
        if let Some(mut node) = self.nodes.remove(&id) {
            node.stop();
        }
    }

    async fn leader(&self) -> NodeId {
        for _ in 0..500 {
            for (id, node) in &self.nodes {
                if let Ok(status) = node.client().status().await {
                    if status.role == "leader" {
                        return *id;
                    }
                }
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("no leader was elected");
    }

    fn client(&self, id: NodeId) -> NodeClient {
        self.nodes[&id].client()
    }
}

async fn write(client: &NodeClient, key: String) -> SessionToken {
    let command = Command::Put {
        key,
        value: b"v".to_vec(),
        client: 0,
        seq: 0,
    };
    client
        .ask(|reply| Request::Write {
            command,
            token: SessionToken::new(),
            reply,
        })
        .await
        .unwrap()
        .token
}

/// Record a run: writes, the leader stopped, writes under the next one,
/// the old leader restarted and caught up, every node stopped cleanly.
/// Returns the first leader (the node that restarted).
async fn record_run(traces: &Path, shape: Shape) -> NodeId {
    let mut cluster = Cluster::new(traces, shape);
    let first = cluster.leader().await;
    for i in 0..shape.before {
        write(&cluster.client(first), format!("k{i}")).await;
    }
    cluster.stop(first);
    let second = cluster.leader().await;
    let mut token = SessionToken::new();
    let last = shape.before + shape.after - 1;
    for i in shape.before..=last {
        token = write(&cluster.client(second), format!("k{i}")).await;
    }
    cluster.start(first);
    let mut caught_up = false;
    for _ in 0..250 {
        let key = format!("k{last}");
        let answer = cluster
            .client(first)
            .ask(|reply| Request::Read {
                key: key.into(),
                mode: ReadMode::Session,
                token,
                reply,
            })
            .await;
        if answer.is_ok_and(|read| read.value.is_some()) {
            caught_up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(caught_up, "the restarted node never caught up");
    for id in 1..=3 {
        cluster.stop(NodeId(id));
    }
    first
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recorded_run_conforms_to_the_model() {
    let traces = tempfile::tempdir().unwrap();
    record_run(traces.path(), CATCH_UP_FROM_LOG).await;
    let report = check_trace_dir(traces.path()).unwrap();
    println!("{report}");
    assert!(matches!(report.verdict, Verdict::Conforms), "{report}");
    assert_eq!(report.traces, 4);
    assert_eq!(report.replayed, report.steps, "{report}");
    assert_eq!(report.restarts, 1);
    assert!(report.checked > 0 && report.persistence_checks > 0);
    assert_eq!(report.receives.1, 0, "every receive matched its send");
    // Asked for fewer steps, the check stops there and says so.
    let part = check_trace_dir_within(traces.path(), 40).unwrap();
    assert!(
        matches!(part.verdict, Verdict::Incomplete { global: 40, .. }),
        "{part}"
    );
    assert_eq!(part.replayed, 40);
    assert!(part.checked <= 40 && part.checked < report.checked);
    // Every node compacted its log behind a snapshot, and the views saw
    // through it.
    for path in trace_files(traces.path()).unwrap() {
        let trace = read_trace(&path).unwrap();
        let compacted = trace.events.iter().any(|e| {
            matches!(e, Event::Polled(p) if p.outputs.iter().any(|o| matches!(o, Output::Compacted { .. })))
        });
        assert!(
            compacted || trace.header.durable.snapshot.is_some(),
            "{}",
            path.display()
        );
    }
    for name in [
        "AdvanceEpoch",
        "Vote",
        "BecomeLeader",
        "Append",
        "Replicate",
        "Commit",
        "CrashRestart",
    ] {
        assert!(
            report.count(name, Reading::Strict) + report.count(name, Reading::AsSent) > 0,
            "no {name} step:\n{report}"
        );
    }
}

/// A follower's recorded vote flipped: the replay of its trace disagrees.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tampered_output_is_refused() {
    let traces = tempfile::tempdir().unwrap();
    record_run(traces.path(), CATCH_UP_FROM_LOG).await;
    let (path, step) = trace_files(traces.path())
        .unwrap()
        .into_iter()
        .find_map(|path| {
            let mut trace = read_trace(&path).unwrap();
            let mut step = 0;
            for event in &mut trace.events {
                match event {
                    Event::Input(_) => step += 1,
                    Event::Polled(polled) => {
                        for output in &mut polled.outputs {
                            if let Output::Send {
                                message:
                                    Message::VoteResponse {
                                        granted: granted @ true,
                                        pre_vote: false,
                                        ..
                                    },
                                ..
                            } = output
                            {
                                *granted = false;
                                write_trace(&path, &trace).unwrap();
                                return Some((path, step));
                            }
                        }
                    }
                }
            }
            None
        })
        .expect("some node granted a vote");
    let report = check_trace_dir(traces.path()).unwrap();
    println!("{report}");
    match &report.verdict {
        Verdict::Diverged(d) => {
            assert_eq!(d.path, path);
            assert_eq!(d.step, step);
            assert!(d.expected.contains("granted: false"), "{d}");
            assert!(d.got.contains("granted: true"), "{d}");
        }
        other => panic!("expected a divergence, got {other:?}"),
    }
}

/// The restarted node's durable vote rewritten to another candidate in
/// the same epoch (a host that lost its vote): the replay is consistent,
/// and the model refuses the second vote.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_vote_in_one_epoch_is_rejected() {
    let traces = tempfile::tempdir().unwrap();
    let restarted = record_run(traces.path(), CATCH_UP_FROM_LOG).await;
    let mut files: Vec<_> = trace_files(traces.path())
        .unwrap()
        .into_iter()
        .map(|p| read_trace(&p).unwrap())
        .filter(|t| t.header.node == restarted)
        .collect();
    files.sort_by_key(|t| t.header.started_ns);
    let mut second = files.pop().expect("two incarnations");
    let HardState { epoch, voted_for } = second.header.durable.hard_state;
    assert_eq!(
        voted_for,
        Some(restarted),
        "a stopped leader voted for itself"
    );
    let other = NodeId(restarted.0 % 3 + 1);
    second.header.durable.hard_state.voted_for = Some(other);
    write_trace(&second.path, &second).unwrap();
    let report = check_trace_dir(traces.path()).unwrap();
    println!("{report}");
    let Verdict::Rejected(finding) = &report.verdict else {
        panic!("the second vote went unnoticed:\n{report}");
    };
    assert_eq!(finding.node, restarted);
    assert_eq!(finding.step, 0, "rejected at the restart");
    match &finding.rejection {
        Rejection::Guard { transition, .. } => assert_eq!(
            *transition,
            Transition::Vote {
                voter: restarted,
                candidate: other,
                epoch
            }
        ),
        other => panic!("expected the vote's guard to fail, got {other}"),
    }
}

/// A node so far behind that the leader sends it a snapshot: the model has
/// no snapshots, and the check says where it stopped instead of passing
/// over it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_snapshot_install_stops_the_check_and_says_why() {
    let traces = tempfile::tempdir().unwrap();
    let shape = Shape {
        before: 15,
        after: 15,
        snapshot_every: 10,
        retain: 3,
    };
    let restarted = record_run(traces.path(), shape).await;
    let report = check_trace_dir(traces.path()).unwrap();
    println!("{report}");
    match &report.verdict {
        Verdict::Incomplete { global, why } => {
            assert!(why.contains("snapshot installed from the leader"), "{why}");
            assert!(why.starts_with(&restarted.to_string()), "{why}");
            assert_eq!(report.replayed, *global, "every step before it was checked");
            assert!(report.checked > 0 && report.restarts == 1);
        }
        other => panic!("expected the check to stop at the install, got {other:?}"),
    }
}
