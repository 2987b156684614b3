//! The load generator against the real HTTP API of three nodes in one
//! process (over an in-memory peer network), against a fake etcd gateway,
//! and its report.

use super::client::Tally;
use super::driver::Driver;
use super::endpoints::Endpoints;
use super::workload::{key_name, Op, Workload};
use super::*;
use crate::http::{router, Metrics};
use crate::kv::NodeAddrs;
use crate::node::mem_network::{MemNetwork, NodeNetwork};
use crate::node::{Node, NodeConfig};
use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Mutex;
use steadfast::NodeId;
use tokio::net::TcpListener;
use tokio::sync::mpsc;

/// Three nodes, each serving the client API on its own loopback port.
struct HttpCluster {
    nodes: Vec<Node>,
    http: Vec<SocketAddr>,
    _dirs: Vec<tempfile::TempDir>,
}

impl HttpCluster {
    async fn start() -> HttpCluster {
        let mut listeners = Vec::new();
        for _ in 0..3 {
            listeners.push(TcpListener::bind("127.0.0.1:0").await.unwrap());
        }
        let http: Vec<SocketAddr> = listeners.iter().map(|l| l.local_addr().unwrap()).collect();
        let members: BTreeMap<NodeId, NodeAddrs> = (0..3)
            .map(|i| {
                let addrs = NodeAddrs {
                    peer: format!("127.0.0.1:{}", 19_000 + i).parse().unwrap(),
                    http: http[i],
                };
                (NodeId(i as u64 + 1), addrs)
            })
            .collect();
        let network = Arc::new(MemNetwork::default());
        let mut nodes = Vec::new();
        let mut dirs = Vec::new();
        for (i, listener) in listeners.into_iter().enumerate() {
            let id = NodeId(i as u64 + 1);
            let dir = tempfile::tempdir().unwrap();
            let config = NodeConfig::new(7, id, members.clone(), dir.path().to_owned());
            let (inbox, inbound) = mpsc::channel(10_000);
            network.inboxes.lock().unwrap().insert(id, inbox);
            let peers = Arc::new(NodeNetwork {
                network: network.clone(),
                me: id,
            });
            let node = Node::start(config, peers, inbound).unwrap();
            let app = router(node.client(), Metrics::new().unwrap());
            tokio::spawn(async move { axum::serve(listener, app).await });
            nodes.push(node);
            dirs.push(dir);
        }
        HttpCluster {
            nodes,
            http,
            _dirs: dirs,
        }
    }

    /// The index of the leader, once elected.
    async fn leader(&self) -> usize {
        for _ in 0..500 {
            for (i, node) in self.nodes.iter().enumerate() {
                if let Ok(status) = node.client().status().await {
                    if status.role == "leader" {
                        return i;
                    }
                }
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("no leader was elected");
    }

    /// The endpoints with a follower first (so that clients are redirected).
    fn endpoints_follower_first(&self, leader: usize) -> Vec<String> {
        let mut order: Vec<usize> = (0..3).filter(|i| *i != leader).collect();
        order.push(leader);
        order.iter().map(|i| self.http[*i].to_string()).collect()
    }
}

fn small_workload(target: Target, endpoints: Vec<String>) -> BenchArgs {
    BenchArgs {
        clients: 4,
        keys: 20,
        value_size: 64,
        duration_secs: 2,
        ..BenchArgs::new(target, endpoints)
    }
}

fn assert_ordered(report: &BenchReport) {
    assert!(report.p50_us > 0, "{report:?}");
    assert!(report.p50_us <= report.p99_us, "{report:?}");
    assert!(report.p99_us <= report.p999_us, "{report:?}");
    assert!(report.p999_us <= report.max_us, "{report:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_to_three_nodes_are_counted_and_land() {
    let cluster = HttpCluster::start().await;
    let leader = cluster.leader().await;
    let args = small_workload(Target::Steadfast, cluster.endpoints_follower_first(leader));
    let report = run_bench(&args).await.unwrap();

    assert!(report.operations > 0, "{report:?}");
    assert_eq!(report.errors, 0, "{report:?}");
    assert_eq!(report.writes, report.operations);
    assert_eq!(report.reads, 0);
    assert_ordered(&report);
    assert!(report.write_p50_us <= report.write_p99_us);
    assert!(report.write_p99_us <= report.write_p999_us);
    assert!(report.throughput > 0.0 && report.write_throughput == report.throughput);

    // Every acknowledged write is an entry at or below the commit point.
    let http = reqwest::Client::new();
    let base = format!("http://{}", cluster.http[leader]);
    let status = get_json(&http, format!("{base}/status")).await;
    assert!(
        status["commit"].as_u64().unwrap() >= report.writes,
        "{status}"
    );
    // And the values read back through the API are ones the clients wrote.
    let mut present = 0;
    for n in 0..args.keys {
        let url = format!("{base}/kv/{}?consistency=linearizable", key_name(n));
        let answer = get_json(&http, url).await;
        if let Some(value) = answer["value"].as_str() {
            present += 1;
            assert_eq!(value.len(), args.value_size, "{answer}");
            assert!(value.bytes().all(|b| b.is_ascii_alphanumeric()), "{answer}");
        }
    }
    assert!(present > 0, "no key written by the benchmark is readable");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mixed_reads_and_writes_are_counted_apart() {
    let cluster = HttpCluster::start().await;
    let leader = cluster.leader().await;
    let args = BenchArgs {
        write_fraction: 0.5,
        duration_secs: 1,
        ..small_workload(Target::Steadfast, cluster.endpoints_follower_first(leader))
    };
    let report = run_bench(&args).await.unwrap();
    assert_eq!(report.errors, 0, "{report:?}");
    assert!(report.writes > 0 && report.reads > 0, "{report:?}");
    assert_eq!(report.operations, report.writes + report.reads);
    assert_ordered(&report);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follower_redirects_the_clients_to_the_leader() {
    let cluster = HttpCluster::start().await;
    let leader = cluster.leader().await;
    let endpoints = cluster.endpoints_follower_first(leader);
    let args = small_workload(Target::Steadfast, endpoints.clone());
    let driver = Driver::new(http_client(1).unwrap(), &args, Endpoints::new(endpoints, 0));
    let op = Op::Write {
        key: key_name(1),
        value: "v".into(),
    };
    driver.execute(&op).await.unwrap();
    assert_eq!(driver.current_endpoint(), cluster.http[leader].to_string());
}

#[tokio::test]
async fn an_endpoint_that_answers_nothing_is_an_error() {
    let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = closed.local_addr().unwrap();
    drop(closed);
    let args = BenchArgs::new(Target::Steadfast, vec![addr.to_string()]);
    let error = run_bench_probing(&args, Duration::from_millis(300))
        .await
        .unwrap_err();
    assert!(matches!(error, BenchError::Unreachable { .. }), "{error}");
}

#[tokio::test]
async fn settings_out_of_range_are_refused() {
    let mut args = BenchArgs::new(Target::Steadfast, vec!["127.0.0.1:1".into()]);
    args.write_fraction = 1.5;
    let error = run_bench(&args).await.unwrap_err();
    assert!(matches!(error, BenchError::InvalidArgs(_)), "{error}");
    args.write_fraction = 1.0;
    args.consistency = "strong".into();
    let error = run_bench(&args).await.unwrap_err();
    assert!(error.to_string().contains("linearizable"), "{error}");
}

/// What the fake etcd gateway was sent: keys and values, decoded.
type Puts = Arc<Mutex<Vec<(String, String)>>>;

async fn fake_put(State(puts): State<Puts>, Json(body): Json<Value>) -> Json<Value> {
    let decode = |field: &str| {
        String::from_utf8(BASE64.decode(body[field].as_str().unwrap()).unwrap()).unwrap()
    };
    puts.lock().unwrap().push((decode("key"), decode("value")));
    Json(json!({ "header": { "revision": "2" } }))
}

async fn fake_status() -> Json<Value> {
    Json(json!({ "header": { "member_id": "42" }, "leader": "42" }))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn etcd_writes_are_base64_json_posted_to_the_v3_gateway() {
    let puts = Puts::default();
    let app = Router::new()
        .route("/v3/kv/put", post(fake_put))
        .route("/v3/kv/range", post(|| async { Json(json!({})) }))
        .route("/v3/maintenance/status", post(fake_status))
        .with_state(puts.clone());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });

    let args = BenchArgs {
        duration_secs: 1,
        ..small_workload(Target::Etcd, vec![addr.to_string()])
    };
    let report = run_bench(&args).await.unwrap();
    assert_eq!(report.errors, 0, "{report:?}");
    assert!(report.writes > 0);
    let puts = puts.lock().unwrap();
    assert_eq!(puts.len() as u64, report.writes);
    for (key, value) in puts.iter() {
        assert!(key.starts_with("key"), "{key}");
        assert_eq!(value.len(), args.value_size);
    }
}

#[test]
fn a_seed_fixes_each_clients_operations() {
    let args = BenchArgs {
        write_fraction: 0.5,
        ..BenchArgs::new(Target::Steadfast, vec!["x:1".into()])
    };
    let ops = |client| {
        let mut workload = Workload::new(&args, client);
        (0..50).map(|_| workload.next_op()).collect::<Vec<_>>()
    };
    assert_eq!(ops(0), ops(0));
    assert_ne!(ops(0), ops(1));
    let all = ops(3);
    assert!(all.iter().any(|op| matches!(op, Op::Read { .. })));
    assert!(all.iter().any(
        |op| matches!(op, Op::Write { key, value } if key_name(0).len() == key.len() && value.len() == 256)
    ));
}

#[test]
fn the_json_line_names_every_figure() {
    let args = BenchArgs {
        clients: 8,
        value_size: 100,
        ..BenchArgs::new(Target::Etcd, vec!["127.0.0.1:2379".into()])
    };
    let mut tally = Tally::new().unwrap();
    for us in [100, 200, 300, 400] {
        tally.writes.record(us).unwrap();
    }
    tally.reads.record(50).unwrap();
    tally.errors = 2;
    tally.first_error = Some("127.0.0.1:2379 answered 503 Service Unavailable".into());
    let report = BenchReport::new(&args, &tally, Duration::from_secs(2)).unwrap();

    let line = report.json_line();
    assert!(!line.contains('\n'));
    let json: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(json["target"], "etcd");
    assert_eq!(json["clients"], 8);
    assert_eq!(json["value_size"], 100);
    assert_eq!(json["operations"], 5);
    assert_eq!(json["writes"], 4);
    assert_eq!(json["reads"], 1);
    assert_eq!(json["errors"], 2);
    assert_eq!(json["elapsed_secs"], 2.0);
    assert_eq!(json["throughput"], 2.5);
    assert_eq!(json["write_throughput"], 2.0);
    let us = |field: &str| json[field].as_u64().unwrap();
    assert!(us("p50_us") >= 199 && us("p50_us") <= 201, "{line}");
    assert!(
        us("write_p50_us") >= 199 && us("write_p50_us") <= 201,
        "{line}"
    );
    assert!(
        us("write_p99_us") >= 399 && us("write_p99_us") <= 401,
        "{line}"
    );
    assert!(us("p50_us") <= us("p99_us") && us("p99_us") <= us("p999_us"));
    assert!(us("max_us") >= 399);
    assert!(json["first_error"].as_str().unwrap().contains("503"));
    assert!(
        report.summary().contains("(2 writes/s)"),
        "{}",
        report.summary()
    );
}

/// The JSON answer of a GET.
async fn get_json(http: &reqwest::Client, url: String) -> Value {
    http.get(url).send().await.unwrap().json().await.unwrap()
}
