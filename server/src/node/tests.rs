//! Three nodes in one process over an in-memory network, each with a real
//! data directory: writes, the four read modes, failover, restart.

use super::*;
use crate::kv::Command;
use mem_network::{MemNetwork, NodeNetwork};
use std::collections::BTreeSet;
use steadfast::{MembershipChange, SessionToken};

struct Cluster {
    network: Arc<MemNetwork>,
    nodes: BTreeMap<NodeId, Node>,
    dirs: BTreeMap<NodeId, tempfile::TempDir>,
    members: BTreeMap<NodeId, NodeAddrs>,
    /// Every node records its trace here when set.
    trace_dir: Option<PathBuf>,
}

fn addrs(id: u64) -> NodeAddrs {
    NodeAddrs {
        peer: format!("127.0.0.1:{}", 17000 + id).parse().unwrap(),
        http: format!("127.0.0.1:{}", 18000 + id).parse().unwrap(),
    }
}

impl Cluster {
    /// `n` nodes recording their traces in `trace_dir`.
    fn traced(n: u64, trace_dir: &std::path::Path) -> Cluster {
        let mut cluster = Cluster::new(0);
        cluster.trace_dir = Some(trace_dir.to_owned());
        cluster.members = (1..=n).map(|id| (NodeId(id), addrs(id))).collect();
        for id in 1..=n {
            cluster
                .dirs
                .insert(NodeId(id), tempfile::tempdir().unwrap());
            cluster.start(NodeId(id));
        }
        cluster
    }

    fn new(n: u64) -> Cluster {
        let members = (1..=n).map(|id| (NodeId(id), addrs(id))).collect();
        let mut cluster = Cluster {
            network: Arc::default(),
            nodes: BTreeMap::new(),
            dirs: BTreeMap::new(),
            members,
            trace_dir: None,
        };
        for id in 1..=n {
            cluster
                .dirs
                .insert(NodeId(id), tempfile::tempdir().unwrap());
            cluster.start(NodeId(id));
        }
        cluster
    }

    fn start(&mut self, id: NodeId) {
        self.start_with(id, false);
    }

    fn start_with(&mut self, id: NodeId, join: bool) {
        let mut config = NodeConfig::new(
            7,
            id,
            self.members.clone(),
            self.dirs[&id].path().to_owned(),
        );
        config.join = join;
        config.trace_dir = self.trace_dir.clone();
        config.snapshot_every = 20;
        config.snapshot_retain_entries = 5;
        let (inbox, inbound) = mpsc::channel(10_000);
        self.network.inboxes.lock().unwrap().insert(id, inbox);
        self.network.peers.lock().unwrap().remove(&id);
        let network = Arc::new(NodeNetwork {
            network: self.network.clone(),
            me: id,
        });
        let node = Node::start(config, network, inbound).unwrap();
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
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        panic!("no leader was elected");
    }

    fn client(&self, id: NodeId) -> NodeClient {
        self.nodes[&id].client()
    }
}

fn put(key: &str, value: &str, client: u64, seq: u64) -> Command {
    Command::Put {
        key: key.into(),
        value: value.into(),
        client,
        seq,
    }
}

async fn write(client: &NodeClient, command: Command) -> Result<WriteOk, RequestError> {
    client
        .ask(|reply| Request::Write {
            command,
            token: SessionToken::new(),
            reply,
        })
        .await
}

async fn read(
    client: &NodeClient,
    key: &str,
    mode: ReadMode,
    token: SessionToken,
) -> Result<ReadOk, RequestError> {
    let key = key.to_owned();
    client
        .ask(|reply| Request::Read {
            key: key.into(),
            mode,
            token,
            reply,
        })
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_commit_and_every_read_mode_sees_them() {
    let cluster = Cluster::new(3);
    let leader = cluster.leader().await;
    let client = cluster.client(leader);
    let mut last = None;
    for i in 0..30 {
        let ok = write(&client, put(&format!("k{i}"), &format!("v{i}"), 1, i + 1))
            .await
            .unwrap();
        last = Some(ok);
    }
    let token = last.unwrap().token;
    let linearizable = read(&client, "k29", ReadMode::Linearizable, SessionToken::new())
        .await
        .unwrap();
    assert_eq!(linearizable.value.as_deref(), Some(b"v29".as_slice()));
    // A follower serves the session once it has caught up with the token.
    let follower = cluster
        .nodes
        .keys()
        .copied()
        .find(|id| *id != leader)
        .unwrap();
    let session = read(&cluster.client(follower), "k29", ReadMode::Session, token)
        .await
        .unwrap();
    assert_eq!(session.value.as_deref(), Some(b"v29".as_slice()));
    assert!(session.position.lsn >= token.last_write.lsn);
    // A follower refuses leader reads, naming the leader.
    let err = read(
        &cluster.client(follower),
        "k1",
        ReadMode::Linearizable,
        SessionToken::new(),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, RequestError::NotLeader { leader: Some(l), addrs: Some(_) } if l == leader),
        "{err}"
    );
    // Lease reads are off unless configured.
    let err = read(&client, "k1", ReadMode::Lease, SessionToken::new())
        .await
        .unwrap_err();
    assert!(matches!(err, RequestError::Rejected(_)), "{err}");
    // A stale read is served anywhere.
    read(
        &cluster.client(follower),
        "k1",
        ReadMode::Stale,
        SessionToken::new(),
    )
    .await
    .unwrap();
    // Snapshots were taken every 20 entries.
    let status = client.status().await.unwrap();
    assert!(status.snapshot >= 20, "{status:?}");
    assert_eq!(status.keys, 30);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retried_write_applies_once() {
    let cluster = Cluster::new(3);
    let client = cluster.client(cluster.leader().await);
    write(&client, put("a", "first", 9, 1)).await.unwrap();
    write(&client, put("a", "second", 9, 2)).await.unwrap();
    write(&client, put("a", "first", 9, 1)).await.unwrap();
    let value = read(&client, "a", ReadMode::Linearizable, SessionToken::new())
        .await
        .unwrap();
    assert_eq!(value.value.as_deref(), Some(b"second".as_slice()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_leader_is_replaced_and_acknowledged_writes_survive_a_restart() {
    let mut cluster = Cluster::new(3);
    let first = cluster.leader().await;
    for i in 0..25 {
        write(&cluster.client(first), put(&format!("k{i}"), "v", 0, 0))
            .await
            .unwrap();
    }
    cluster.stop(first);
    let second = cluster.leader().await;
    assert_ne!(first, second);
    for i in 0..25 {
        let got = read(
            &cluster.client(second),
            &format!("k{i}"),
            ReadMode::Linearizable,
            SessionToken::new(),
        )
        .await
        .unwrap();
        assert_eq!(
            got.value.as_deref(),
            Some(b"v".as_slice()),
            "k{i} lost in the failover"
        );
    }
    let after = write(&cluster.client(second), put("after", "failover", 0, 0))
        .await
        .unwrap();
    // The old leader restarts from its data directory and catches up.
    cluster.start(first);
    let got = session_read(&cluster.client(first), "after", after.token).await;
    assert_eq!(got.value.as_deref(), Some(b"failover".as_slice()));
    assert!(
        got.position.lsn >= after.position.lsn,
        "{got:?} read before {after:?}"
    );
}

/// A session read, retried while the node has not caught up or knows no
/// leader yet (just restarted or just added).
async fn session_read(client: &NodeClient, key: &str, token: SessionToken) -> ReadOk {
    let mut last = None;
    for _ in 0..250 {
        match read(client, key, ReadMode::Session, token).await {
            Ok(answer) => return answer,
            Err(e @ (RequestError::NotLeader { .. } | RequestError::Unavailable(_))) => {
                last = Some(e)
            }
            Err(e) => panic!("session read refused: {e}"),
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("the session read was never served: {last:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_learner_joins_catches_up_from_a_snapshot_and_is_promoted() {
    let mut cluster = Cluster::new(3);
    let leader = cluster.leader().await;
    let mut token = SessionToken::new();
    for i in 0..60 {
        token = write(&cluster.client(leader), put(&format!("k{i}"), "v", 0, 0))
            .await
            .unwrap()
            .token;
    }
    let status = cluster.client(leader).status().await.unwrap();
    assert!(status.snapshot >= 40, "compacted: {status:?}");
    // Node 4 starts knowing the voters; the leader adds it as a learner.
    let new = NodeId(4);
    cluster.dirs.insert(new, tempfile::tempdir().unwrap());
    cluster.members.insert(new, addrs(4));
    cluster.start_with(new, true);
    let added = cluster
        .client(leader)
        .ask(|reply| Request::Membership {
            change: MembershipChange::AddLearner(new),
            addrs: Some(addrs(4)),
            reply,
        })
        .await;
    added.unwrap();
    let mut promoted = Err(RequestError::ShuttingDown);
    for _ in 0..200 {
        promoted = cluster
            .client(leader)
            .ask(|reply| Request::Membership {
                change: MembershipChange::PromoteLearner(new),
                addrs: None,
                reply,
            })
            .await;
        if promoted.is_ok() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    // Once node 4 has applied through its promotion, it has every write
    // and knows itself a voter.
    let token = token.after_write(promoted.unwrap());
    let got = session_read(&cluster.client(new), "k59", token).await;
    assert_eq!(got.value.as_deref(), Some(b"v".as_slice()));
    let status = cluster.client(new).status().await.unwrap();
    assert!(status.voters.contains(&4), "{status:?}");
    assert_eq!(
        status.installed_snapshots, 1,
        "caught up from a snapshot: {status:?}"
    );
    assert_eq!(got.value.as_deref(), Some(b"v".as_slice()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leadership_moves_on_request_and_a_removed_voter_leaves() {
    let mut cluster = Cluster::new(3);
    let first = cluster.leader().await;
    write(&cluster.client(first), put("a", "1", 0, 0))
        .await
        .unwrap();
    let target = cluster
        .nodes
        .keys()
        .copied()
        .find(|id| *id != first)
        .unwrap();
    cluster
        .client(first)
        .ask(|reply| Request::Transfer { to: target, reply })
        .await
        .unwrap();
    let mut now_leading = None;
    for _ in 0..250 {
        if cluster.client(target).status().await.unwrap().role == "leader" {
            now_leading = Some(target);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(now_leading, Some(target), "the transfer did not happen");
    // The third voter is removed; the two left still commit writes.
    let third = cluster
        .nodes
        .keys()
        .copied()
        .find(|id| *id != first && *id != target)
        .unwrap();
    cluster
        .client(target)
        .ask(|reply| Request::Membership {
            change: MembershipChange::Remove(third),
            addrs: None,
            reply,
        })
        .await
        .unwrap();
    cluster.stop(third);
    write(&cluster.client(target), put("b", "2", 0, 0))
        .await
        .unwrap();
    let status = cluster.client(target).status().await.unwrap();
    assert_eq!(status.voters.len(), 2, "{status:?}");
    assert!(!status.voters.contains(&third.0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adding_a_node_that_is_already_a_member_is_refused_and_changes_nothing() {
    let cluster = Cluster::new(3);
    let leader = cluster.leader().await;
    let member = cluster
        .nodes
        .keys()
        .copied()
        .find(|id| *id != leader)
        .unwrap();
    let wrong = NodeAddrs {
        peer: "127.0.0.1:1".parse().unwrap(),
        http: "127.0.0.1:2".parse().unwrap(),
    };
    let refused = cluster
        .client(leader)
        .ask(|reply| Request::Membership {
            change: MembershipChange::AddLearner(member),
            addrs: Some(wrong),
            reply,
        })
        .await;
    assert!(
        matches!(refused, Err(RequestError::Rejected(_))),
        "{refused:?}"
    );
    // Its address was not overwritten: a redirect still names the real one.
    let err = read(
        &cluster.client(member),
        "k",
        ReadMode::Linearizable,
        SessionToken::new(),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, RequestError::NotLeader { addrs: Some(a), .. } if a == addrs(leader.0)),
        "{err}"
    );
    let status = cluster.client(leader).status().await.unwrap();
    assert_eq!(status.last, status.commit);
    assert_eq!(status.voters.len(), 3);
}

/// Every node records its calls into the replica; each trace, replayed
/// through a fresh replica, gives back every recorded output: through
/// writes, a snapshot, a failover and a restart (a second trace file).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recorded_traces_replay_identically_through_failover_and_restart() {
    let traces = tempfile::tempdir().unwrap();
    let mut cluster = Cluster::traced(3, traces.path());
    let first = cluster.leader().await;
    for i in 0..15 {
        write(&cluster.client(first), put(&format!("k{i}"), "v", 0, 0))
            .await
            .unwrap();
    }
    cluster.stop(first);
    let second = cluster.leader().await;
    assert_ne!(first, second);
    let mut last = None;
    for i in 15..30 {
        last = Some(
            write(&cluster.client(second), put(&format!("k{i}"), "v", 0, 0))
                .await
                .unwrap(),
        );
    }
    cluster.start(first);
    let token = last.unwrap().token;
    let got = session_read(&cluster.client(first), "k29", token).await;
    assert_eq!(got.value.as_deref(), Some(b"v".as_slice()));
    for id in [NodeId(1), NodeId(2), NodeId(3)] {
        cluster.stop(id);
    }
    let files = crate::trace::trace_files(traces.path()).unwrap();
    assert_eq!(files.len(), 4, "one file per start: {files:?}");
    let mut restarts = 0;
    for file in &files {
        let trace = crate::trace::read_trace(file).unwrap();
        assert!(
            matches!(trace.end, crate::trace::TraceEnd::Clean { .. }),
            "{}: {}",
            file.display(),
            trace.end
        );
        if trace.header.node == first && !trace.header.durable.log.is_empty() {
            // The restart's header holds what it restarted from.
            assert!(trace.header.durable.hard_state.epoch.0 >= 1);
            restarts += 1;
        }
        let report = crate::trace::replay(file).unwrap_or_else(|e| panic!("{e}"));
        println!("{report}");
        assert!(report.steps > 0 && report.outputs > 0, "{report}");
        assert_eq!(report.node, trace.header.node);
    }
    assert_eq!(restarts, 1, "the old leader restarted once, from its log");
    let order = crate::trace::causal_order(
        &files
            .iter()
            .map(|f| crate::trace::read_trace(f).unwrap())
            .collect::<Vec<_>>(),
    );
    // Clean ends: every message handled was recorded as sent.
    assert_eq!(order.unmatched, 0, "{order:?}");
    assert!(order.matched > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_restarted_with_its_first_member_list_talks_to_voters_added_since() {
    let mut cluster = Cluster::new(3);
    let first_members = cluster.members.clone();
    let leader = cluster.leader().await;
    let new = NodeId(4);
    cluster.dirs.insert(new, tempfile::tempdir().unwrap());
    cluster.members.insert(new, addrs(4));
    cluster.start_with(new, true);
    let change = |change| {
        let client = cluster.client(leader);
        async move {
            for _ in 0..200 {
                let done = client
                    .ask(|reply| Request::Membership {
                        change,
                        addrs: Some(addrs(4)),
                        reply,
                    })
                    .await;
                if done.is_ok() {
                    return;
                }
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            panic!("{change:?} was never accepted");
        }
    };
    change(MembershipChange::AddLearner(new)).await;
    change(MembershipChange::PromoteLearner(new)).await;
    // Enough writes that every node's snapshot holds node 4's address
    // (snapshots every 20 entries): none is applied again on a restart.
    for i in 0..60 {
        write(&cluster.client(leader), put(&format!("k{i}"), "v", 0, 0))
            .await
            .unwrap();
    }
    let restarted = [NodeId(1), NodeId(2), NodeId(3)]
        .into_iter()
        .find(|&id| id != leader)
        .unwrap();
    cluster.stop(restarted);
    // Started again as an operator's unchanged configuration would: the
    // members it was first given, without node 4.
    let everyone = std::mem::replace(&mut cluster.members, first_members);
    cluster.start(restarted);
    cluster.members = everyone;
    let mut peers = BTreeSet::new();
    for _ in 0..250 {
        peers = cluster.network.peers_of(restarted);
        if peers.contains(&new) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(peers.contains(&new), "node {restarted} talks to {peers:?}");
    let status = cluster.client(restarted).status().await.unwrap();
    assert!(status.voters.contains(&4), "{status:?}");
}
