//! The reference server as real processes on loopback: every read mode,
//! `kill -9` of the leader, a restart from the data directory, and a
//! learner that catches up from a snapshot and is promoted.

mod support;

use serde_json::json;
use support::ProcCluster;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_and_every_read_mode_work() {
    let cluster = ProcCluster::start(3, &["--lease-max-drift-ms", "50"]);
    let leader = cluster.leader(None).await;
    let follower = (1..=3).find(|&id| id != leader).unwrap();
    // A write sent to a follower is redirected to the leader.
    let (position, token) = cluster.put(follower, "greeting", "hello").await.unwrap();
    assert!(position["lsn"].as_u64().unwrap() >= 1, "{position}");
    assert!(!token.is_empty());
    for mode in ["linearizable", "lease"] {
        let value = cluster.get_eventually(leader, "greeting", mode, "").await;
        assert_eq!(value, json!("hello"), "{mode} read");
    }
    // Redirected from a follower too.
    let (value, _) = cluster
        .get(follower, "greeting", "linearizable", "")
        .await
        .unwrap();
    assert_eq!(value, json!("hello"));
    // A session read on a follower waits until it has the session's write.
    let (value, read_token) = cluster
        .get(follower, "greeting", "session", &token)
        .await
        .unwrap();
    assert_eq!(value, json!("hello"));
    // The token comes back advanced: its read is at or past the write.
    let lsn = |part: &str| -> u64 { part.split('.').nth(1).unwrap().parse().unwrap() };
    let (written, _) = token.split_once('-').unwrap();
    let (kept, read) = read_token.split_once('-').unwrap();
    assert_eq!(kept, written, "{read_token} after {token}");
    assert!(lsn(read) >= lsn(written), "{read_token} after {token}");
    let value = cluster
        .get_eventually(follower, "greeting", "stale", "")
        .await;
    assert!(value == json!("hello") || value.is_null());
    // A missing key reads as null; a bad token is a 400.
    let (value, _) = cluster
        .get(leader, "nothing", "linearizable", "")
        .await
        .unwrap();
    assert!(value.is_null());
    let err = cluster
        .get(leader, "greeting", "session", "garbage")
        .await
        .unwrap_err();
    assert!(err.starts_with("400"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_leader_is_replaced_and_every_acknowledged_write_survives() {
    let mut cluster = ProcCluster::start(3, &[]);
    let leader = cluster.leader(None).await;
    let mut token = String::new();
    for i in 0..20 {
        token = cluster
            .put(leader, &format!("k{i}"), &format!("v{i}"))
            .await
            .unwrap()
            .1;
    }
    cluster.kill(leader);
    let new_leader = cluster.leader(Some(leader)).await;
    for i in 0..20 {
        let value = cluster
            .get_eventually(new_leader, &format!("k{i}"), "linearizable", "")
            .await;
        assert_eq!(
            value,
            json!(format!("v{i}")),
            "acknowledged write k{i} lost"
        );
    }
    let (_, after) = cluster.put(new_leader, "after", "failover").await.unwrap();
    // The killed node restarts from its data directory and rejoins.
    cluster.spawn(leader);
    let value = cluster
        .get_eventually(leader, "after", "session", &after)
        .await;
    assert_eq!(value, json!("failover"));
    let value = cluster
        .get_eventually(leader, "k19", "session", &token)
        .await;
    assert_eq!(value, json!("v19"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_learner_catches_up_from_a_snapshot_and_is_promoted() {
    let mut cluster = ProcCluster::start(3, &["--snapshot-every", "20", "--snapshot-retain", "5"]);
    let leader = cluster.leader(None).await;
    let mut token = String::new();
    for i in 0..60 {
        token = cluster.put(leader, &format!("k{i}"), "v").await.unwrap().1;
    }
    let status = cluster.status(leader).await.unwrap();
    assert!(status["snapshot"].as_u64().unwrap() >= 40, "{status}");
    // Node 4 joins as a learner and is added on the leader.
    cluster.add(4);
    cluster.nodes.get_mut(&4).unwrap().extra = vec!["--join".into()];
    cluster.spawn(4);
    let (peer, http) = (cluster.nodes[&4].peer, cluster.nodes[&4].http);
    let body = json!({ "id": 4, "peer": format!("127.0.0.1:{peer}"), "http": format!("127.0.0.1:{http}") });
    cluster
        .post_eventually(leader, "/cluster/learners", Some(body))
        .await;
    let promoted = cluster
        .post_eventually(leader, "/cluster/promote/4", None)
        .await;
    let at = &promoted["position"];
    let promotion = format!("{}.{}-0.0", at["epoch"], at["lsn"]);
    // Once it has applied its promotion it has every write, and votes.
    assert_eq!(
        cluster
            .get_eventually(4, "k59", "session", &promotion)
            .await,
        json!("v")
    );
    assert_eq!(
        cluster.get_eventually(4, "k0", "session", &token).await,
        json!("v")
    );
    let status = cluster.status(4).await.unwrap();
    assert!(
        status["installed_snapshots"].as_u64().unwrap() >= 1,
        "{status}"
    );
    assert!(
        status["voters"].as_array().unwrap().contains(&json!(4)),
        "{status}"
    );
}

/// A prefix read returns every key under the prefix; the clock-offset
/// endpoint answers only on a node started with clock control.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prefix_reads_and_clock_control_work() {
    let cluster = ProcCluster::start(1, &["--clock-control"]);
    let leader = cluster.leader(None).await;
    // A key holding `/` travels as one percent-encoded path segment.
    for element in ["3", "17", "5"] {
        cluster
            .put(leader, &format!("set%2F{element}"), element)
            .await
            .unwrap();
    }
    cluster.put(leader, "settled", "no").await.unwrap();
    let answer: serde_json::Value = cluster
        .http
        .get(cluster.url(leader, "/kv?prefix=set/&consistency=linearizable"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        answer["entries"],
        json!({ "set/17": "17", "set/3": "3", "set/5": "5" }),
        "{answer}"
    );
    assert!(answer["position"]["lsn"].as_u64().unwrap() >= 4, "{answer}");
    let changed = cluster
        .post_eventually(leader, "/admin/clock-offset", Some(json!({ "ms": -250 })))
        .await;
    assert_eq!(changed["clock_offset_ms"], json!(-250), "{changed}");
    // The node still serves after its clock went back.
    cluster.put(leader, "after", "skew").await.unwrap();

    let plain = ProcCluster::start(1, &[]);
    let node = plain.leader(None).await;
    let refused = plain
        .http
        .post(plain.url(node, "/admin/clock-offset"))
        .json(&json!({ "ms": 5 }))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), reqwest::StatusCode::FORBIDDEN);
}

/// Bad flags and settings are one line on stderr and a failing exit, never
/// a panic or a usage screen.
#[test]
fn bad_flags_are_one_line_errors() {
    let cases: [&[&str]; 5] = [
        &["run", "--bogus"],
        &["run", "--id", "1", "--listen-http", "nope"],
        &["run", "--id", "1", "--member", "1=x"],
        &["run", "--id", "0", "--data-dir", "d"],
        &[
            "run",
            "--id",
            "1",
            "--member",
            "1=127.0.0.1:1,127.0.0.1:2",
            "--data-dir",
            "d",
            "--durability",
            "sometimes",
        ],
    ];
    for args in cases {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_steadfast-server"))
            .args(args)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{args:?} succeeded");
        assert_eq!(stderr.trim_end().lines().count(), 1, "{args:?}: {stderr}");
        assert!(
            stderr.starts_with("steadfast-server: "),
            "{args:?}: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}
