//! Real `steadfast-server` processes on loopback, and an HTTP client for
//! them.

#![allow(dead_code)]

use serde_json::Value;
use std::collections::BTreeMap;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A free loopback port (bound and released: a small race with other
/// processes, acceptable in tests).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("no free port: {e}"))
}

/// One node's addresses and process.
pub struct Proc {
    pub id: u64,
    pub peer: u16,
    pub http: u16,
    pub dir: tempfile::TempDir,
    pub child: Option<Child>,
    pub extra: Vec<String>,
}

/// A cluster of node processes.
pub struct ProcCluster {
    pub nodes: BTreeMap<u64, Proc>,
    pub voters: Vec<u64>,
    pub flags: Vec<String>,
    pub http: reqwest::Client,
}

impl ProcCluster {
    /// `n` voters, each started with `flags`.
    pub fn start(n: u64, flags: &[&str]) -> ProcCluster {
        let mut cluster = ProcCluster {
            nodes: BTreeMap::new(),
            voters: (1..=n).collect(),
            flags: flags.iter().map(|s| s.to_string()).collect(),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(5))
                .build()
                .unwrap(),
        };
        for id in 1..=n {
            cluster.add(id);
        }
        for id in 1..=n {
            cluster.spawn(id);
        }
        cluster
    }

    /// Reserve ports and a data directory for node `id`.
    pub fn add(&mut self, id: u64) {
        self.nodes.insert(
            id,
            Proc {
                id,
                peer: free_port(),
                http: free_port(),
                dir: tempfile::tempdir().unwrap(),
                child: None,
                extra: Vec::new(),
            },
        );
    }

    fn member(&self, id: u64) -> String {
        let node = &self.nodes[&id];
        format!("{id}=127.0.0.1:{},127.0.0.1:{}", node.peer, node.http)
    }

    /// Start (or restart) node `id`'s process from its data directory.
    pub fn spawn(&mut self, id: u64) {
        let mut command = Command::new(env!("CARGO_BIN_EXE_steadfast-server"));
        command
            .arg("run")
            .args(["--id", &id.to_string()])
            .args([
                "--data-dir",
                &self.nodes[&id].dir.path().display().to_string(),
            ])
            .args(&self.flags)
            .args(&self.nodes[&id].extra)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let mut members: Vec<u64> = self.voters.clone();
        if !members.contains(&id) {
            members.push(id);
        }
        for member in members {
            command.args(["--member", &self.member(member)]);
        }
        let child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start node {id}: {e}"));
        self.nodes.get_mut(&id).unwrap().child = Some(child);
    }

    /// `kill -9` node `id`.
    pub fn kill(&mut self, id: u64) {
        if let Some(mut child) = self.nodes.get_mut(&id).and_then(|n| n.child.take()) {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn url(&self, id: u64, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.nodes[&id].http)
    }

    /// Node `id`'s status, if it answers.
    pub async fn status(&self, id: u64) -> Option<Value> {
        let response = self.http.get(self.url(id, "/status")).send().await.ok()?;
        response.json().await.ok()
    }

    /// Wait for a leader among the running nodes (other than `not`).
    pub async fn leader(&self, not: Option<u64>) -> u64 {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            for (&id, node) in &self.nodes {
                if node.child.is_none() || Some(id) == not {
                    continue;
                }
                if let Some(status) = self.status(id).await {
                    if status["role"] == "leader" {
                        return id;
                    }
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("no leader within 30 s");
    }

    /// PUT `key` through node `via` (redirects followed); the answer's
    /// position and session token.
    pub async fn put(&self, via: u64, key: &str, value: &str) -> Result<(Value, String), String> {
        let response = self
            .http
            .put(self.url(via, &format!("/kv/{key}")))
            .json(&serde_json::json!({ "value": value }))
            .send()
            .await
            .map_err(|e| e.to_string())?;
        answer(response, "position").await
    }

    /// GET `key` from node `via` with `consistency` and a session token.
    pub async fn get(
        &self,
        via: u64,
        key: &str,
        consistency: &str,
        token: &str,
    ) -> Result<(Value, String), String> {
        let mut request = self
            .http
            .get(self.url(via, &format!("/kv/{key}?consistency={consistency}")));
        if !token.is_empty() {
            request = request.header("x-session-token", token);
        }
        let response = request.send().await.map_err(|e| e.to_string())?;
        answer(response, "value").await
    }

    /// Retry `get` until it succeeds (a node catching up, an election).
    pub async fn get_eventually(
        &self,
        via: u64,
        key: &str,
        consistency: &str,
        token: &str,
    ) -> Value {
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut last = String::new();
        while Instant::now() < deadline {
            match self.get(via, key, consistency, token).await {
                Ok((value, _)) => return value,
                Err(e) => last = e,
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("GET {key} from node {via} never succeeded: {last}");
    }

    /// POST to node `via`, retried until it succeeds; the JSON answer.
    pub async fn post_eventually(&self, via: u64, path: &str, body: Option<Value>) -> Value {
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut last = String::new();
        while Instant::now() < deadline {
            let mut request = self.http.post(self.url(via, path));
            if let Some(body) = &body {
                request = request.json(body);
            }
            match request.send().await {
                Ok(response) if response.status().is_success() => {
                    return response.json().await.unwrap_or(Value::Null)
                }
                Ok(response) => {
                    last = format!("{}: {:?}", response.status(), response.text().await)
                }
                Err(e) => last = e.to_string(),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("POST {path} on node {via} never succeeded: {last}");
    }
}

impl Drop for ProcCluster {
    fn drop(&mut self) {
        let ids: Vec<u64> = self.nodes.keys().copied().collect();
        for id in ids {
            self.kill(id);
        }
    }
}

fn header(response: &reqwest::Response, name: &str) -> String {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// A successful answer's `field` and session token, or the error status
/// and body.
async fn answer(response: reqwest::Response, field: &str) -> Result<(Value, String), String> {
    let token = header(&response, "x-session-token");
    let status = response.status();
    let body: Value = response.json().await.map_err(|e| e.to_string())?;
    if !status.is_success() {
        return Err(format!("{status}: {body}"));
    }
    Ok((body[field].clone(), token))
}
