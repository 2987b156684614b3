//! The cluster under test: server processes on loopback, each with its own
//! data directory and log file, every peer address a [`Proxy`].
//!
//! A node listens for peers on a private port (`--listen-peer`); every
//! other node knows it by its proxy's address (its `--member` entry, and
//! the address registered when it is added as a learner). Clients talk to
//! nodes' HTTP ports directly.
//!
//! Servers are this very binary re-executed as `steadfast-faults serve …`
//! (the server's own `run` path), so no other binary has to be found.

mod process;

pub use process::{NodeProcess, SignalError};

use crate::proxy::{Network, Proxy, ProxyError};
use crate::workload::Endpoints;
use serde_json::Value;
use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How the nodes are started.
#[derive(Clone, Debug)]
pub struct ClusterConfig {
    /// The voters at the start.
    pub nodes: u64,
    /// The binary to run as `<exe> serve …`.
    pub exe: PathBuf,
    /// Data directories go under here.
    pub data_root: PathBuf,
    /// Node logs go under here.
    pub log_root: PathBuf,
    /// Flags every node gets (durability, timeouts, lease, …).
    pub flags: Vec<String>,
}

/// Something the cluster could not do.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// No free port.
    #[error("no free loopback port: {0}")]
    Port(std::io::Error),
    /// A proxy did not start.
    #[error("{0}")]
    Proxy(#[from] ProxyError),
    /// A directory or log file could not be made.
    #[error("{what} {path}: {source}")]
    Files {
        /// What was being done.
        what: &'static str,
        /// The path.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A process did not start.
    #[error("cannot start node {node}: {source}")]
    Spawn {
        /// The node.
        node: u64,
        /// Why.
        source: std::io::Error,
    },
    /// A signal could not be sent.
    #[error("{0}")]
    Signal(#[from] SignalError),
    /// A node that is not (or no longer) in the cluster.
    #[error("node {0} is not in the cluster")]
    NoSuchNode(u64),
    /// A request to a node that did not succeed in time.
    #[error("{0}")]
    Request(String),
}

/// One node: addresses, files, and its process when it runs.
#[derive(Debug)]
struct Member {
    http: SocketAddr,
    private_peer: SocketAddr,
    proxy: Proxy,
    data_dir: PathBuf,
    log: PathBuf,
    /// It joined a running cluster (`--join`, on every start).
    joined: bool,
    process: Option<NodeProcess>,
}

/// The running cluster. Dropping it kills every process.
#[derive(Debug)]
pub struct Cluster {
    config: ClusterConfig,
    network: Network,
    members: BTreeMap<u64, Member>,
    /// Members removed from the cluster (their processes stopped).
    removed: Vec<u64>,
    endpoints: Endpoints,
    http: reqwest::Client,
}

fn free_port() -> Result<SocketAddr, ClusterError> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(ClusterError::Port)
}

fn files(what: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> ClusterError {
    let path = path.to_owned();
    move |source| ClusterError::Files { what, path, source }
}

impl Cluster {
    /// Start `config.nodes` voters.
    pub async fn start(config: ClusterConfig) -> Result<Cluster, ClusterError> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_millis(800))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| ClusterError::Request(e.to_string()))?;
        let mut cluster = Cluster {
            config,
            network: Network::new(),
            members: BTreeMap::new(),
            removed: Vec::new(),
            endpoints: Endpoints::default(),
            http,
        };
        let ids: Vec<u64> = (1..=cluster.config.nodes).collect();
        for &id in &ids {
            cluster.prepare(id).await?;
        }
        for &id in &ids {
            cluster.spawn(id)?;
        }
        Ok(cluster)
    }

    /// Ports, a proxy and directories for a new node `id`.
    async fn prepare(&mut self, id: u64) -> Result<(), ClusterError> {
        let private_peer = free_port()?;
        let http = free_port()?;
        let proxy = Proxy::start(
            SocketAddr::from(([127, 0, 0, 1], 0)),
            private_peer,
            &self.network,
        )
        .await?;
        let data_dir = self.config.data_root.join(format!("n{id}"));
        std::fs::create_dir_all(&data_dir).map_err(files("cannot create", &data_dir))?;
        std::fs::create_dir_all(&self.config.log_root)
            .map_err(files("cannot create", &self.config.log_root))?;
        let log = self.config.log_root.join(format!("n{id}.log"));
        self.members.insert(
            id,
            Member {
                http,
                private_peer,
                proxy,
                data_dir,
                log,
                joined: false,
                process: None,
            },
        );
        self.endpoints.insert(id, http);
        Ok(())
    }

    fn member(&self, id: u64) -> Result<&Member, ClusterError> {
        self.members.get(&id).ok_or(ClusterError::NoSuchNode(id))
    }

    fn member_mut(&mut self, id: u64) -> Result<&mut Member, ClusterError> {
        self.members
            .get_mut(&id)
            .ok_or(ClusterError::NoSuchNode(id))
    }

    /// `ID=PROXY,HTTP`: how the others know node `id`.
    fn member_arg(&self, id: u64) -> String {
        match self.members.get(&id) {
            Some(m) => format!("{id}={},{}", m.proxy.addr(), m.http),
            None => String::new(),
        }
    }

    /// Start node `id`'s process (from its data directory as it is). It
    /// is given the members as they are now, as an operator's
    /// configuration would list them: a node restarted with only the
    /// members it first started with does not reconnect to nodes that
    /// joined since (see the crate's README).
    pub fn spawn(&mut self, id: u64) -> Result<(), ClusterError> {
        let exe = self.config.exe.clone();
        let mut flags = self.config.flags.clone();
        for member in self.nodes() {
            flags.extend(["--member".to_owned(), self.member_arg(member)]);
        }
        let member = self.member_mut(id)?;
        if member.joined {
            flags.push("--join".to_owned());
        }
        if member.process.is_some() {
            return Ok(());
        }
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&member.log)
            .map_err(files("cannot open", &member.log))?;
        let mut command = Command::new(exe);
        command
            .arg("serve")
            .args(["--id", &id.to_string()])
            .arg("--data-dir")
            .arg(&member.data_dir)
            .args(["--listen-peer", &member.private_peer.to_string()])
            .args(["--listen-http", &member.http.to_string()])
            .args(&flags)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(log));
        let process = NodeProcess::spawn(&mut command)
            .map_err(|source| ClusterError::Spawn { node: id, source })?;
        member.process = Some(process);
        Ok(())
    }

    /// `kill -9` node `id` (nothing if it is not running).
    pub fn kill(&mut self, id: u64) -> Result<(), ClusterError> {
        if let Some(process) = self.member_mut(id)?.process.take() {
            process.kill();
        }
        Ok(())
    }

    /// `SIGSTOP` node `id`.
    pub fn pause(&mut self, id: u64) -> Result<(), ClusterError> {
        if let Some(process) = self.member_mut(id)?.process.as_mut() {
            process.pause()?;
        }
        Ok(())
    }

    /// `SIGCONT` node `id`.
    pub fn resume(&mut self, id: u64) -> Result<(), ClusterError> {
        if let Some(process) = self.member_mut(id)?.process.as_mut() {
            process.resume()?;
        }
        Ok(())
    }

    /// Resume every paused node and restart every stopped one.
    pub fn revive_all(&mut self) -> Result<(), ClusterError> {
        let ids = self.nodes();
        for id in ids {
            self.resume(id)?;
            self.spawn(id)?;
        }
        Ok(())
    }

    /// Whether node `id` runs and is not paused.
    pub fn is_up(&mut self, id: u64) -> bool {
        match self.members.get_mut(&id).and_then(|m| m.process.as_mut()) {
            Some(process) => !process.is_paused() && !process.has_exited(),
            None => false,
        }
    }

    /// The members (voters and learners), ascending.
    pub fn nodes(&self) -> Vec<u64> {
        self.members.keys().copied().collect()
    }

    /// The members that run and are not paused.
    pub fn up_nodes(&mut self) -> Vec<u64> {
        let ids = self.nodes();
        ids.into_iter().filter(|&id| self.is_up(id)).collect()
    }

    /// Nodes removed during the run.
    pub fn removed(&self) -> &[u64] {
        &self.removed
    }

    /// The network the proxies follow.
    pub fn network(&self) -> &Network {
        &self.network
    }

    /// The members' HTTP addresses, as the clients see them.
    pub fn endpoints(&self) -> &Endpoints {
        &self.endpoints
    }

    /// Node `id`'s data directory.
    pub fn data_dir(&self, id: u64) -> Result<&Path, ClusterError> {
        Ok(&self.member(id)?.data_dir)
    }

    /// Node `id`'s log file.
    pub fn log_path(&self, id: u64) -> Result<&Path, ClusterError> {
        Ok(&self.member(id)?.log)
    }

    fn url(&self, id: u64, path: &str) -> Result<String, ClusterError> {
        Ok(format!("http://{}{path}", self.member(id)?.http))
    }

    /// Node `id`'s `GET /status`, if it answers.
    pub async fn status(&self, id: u64) -> Option<Value> {
        let url = self.url(id, "/status").ok()?;
        let response = self.http.get(url).send().await.ok()?;
        if !response.status().is_success() {
            return None;
        }
        response.json().await.ok()
    }

    /// The leader of the highest epoch among the nodes that answer, if any.
    pub async fn leader(&mut self) -> Option<u64> {
        let mut best: Option<(u64, u64)> = None;
        for id in self.up_nodes() {
            if let Some(status) = self.status(id).await {
                let epoch = status["epoch"].as_u64().unwrap_or(0);
                if status["role"] == "leader" && best.is_none_or(|(e, _)| epoch > e) {
                    best = Some((epoch, id));
                }
            }
        }
        best.map(|(_, id)| id)
    }

    /// Wait up to `timeout` for a leader other than `except`.
    pub async fn wait_leader(&mut self, timeout: Duration, except: Option<u64>) -> Option<u64> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(leader) = self.leader().await {
                if Some(leader) != except {
                    return Some(leader);
                }
            }
            if Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Wait up to `timeout` until there is a leader that every node that is
    /// up follows, with its whole log applied on every node. Returns the
    /// leader.
    pub async fn wait_converged(&mut self, timeout: Duration) -> Option<u64> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(leader) = self.leader().await {
                if self.all_follow(leader).await {
                    return Some(leader);
                }
            }
            if Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn all_follow(&mut self, leader: u64) -> bool {
        let Some(status) = self.status(leader).await else {
            return false;
        };
        let last = status["last"].as_u64().unwrap_or(0);
        for id in self.up_nodes() {
            let Some(status) = self.status(id).await else {
                return false;
            };
            let applied = status["applied"].as_u64().unwrap_or(0);
            if status["leader"].as_u64() != Some(leader) || applied < last {
                return false;
            }
        }
        true
    }

    /// POST to node `id`; the JSON answer, or the error.
    pub async fn post(
        &self,
        id: u64,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, ClusterError> {
        let mut request = self.http.post(self.url(id, path)?);
        if let Some(body) = body {
            request = request.json(&body);
        }
        send(request).await
    }

    /// DELETE on node `id`; the JSON answer, or the error.
    pub async fn delete(&self, id: u64, path: &str) -> Result<Value, ClusterError> {
        send(self.http.delete(self.url(id, path)?)).await
    }

    /// Set node `id`'s clock offset.
    pub async fn set_clock_offset(&self, id: u64, ms: i64) -> Result<(), ClusterError> {
        self.post(
            id,
            "/admin/clock-offset",
            Some(serde_json::json!({ "ms": ms })),
        )
        .await
        .map(|_| ())
    }

    /// Start a new node as a learner (`--join`), add it on `leader`, wait
    /// until it has caught up, and promote it. Returns its id.
    pub async fn add_voter(&mut self, leader: u64, timeout: Duration) -> Result<u64, ClusterError> {
        let id = self
            .members
            .keys()
            .chain(&self.removed)
            .max()
            .copied()
            .unwrap_or(0)
            + 1;
        self.prepare(id).await?;
        self.member_mut(id)?.joined = true;
        self.spawn(id)?;
        let (proxy, http) = {
            let member = self.member(id)?;
            (member.proxy.addr(), member.http)
        };
        let body =
            serde_json::json!({ "id": id, "peer": proxy.to_string(), "http": http.to_string() });
        let deadline = Instant::now() + timeout;
        self.retry(deadline, leader, "/cluster/learners", Some(body))
            .await?;
        self.retry(deadline, leader, &format!("/cluster/promote/{id}"), None)
            .await?;
        Ok(id)
    }

    /// Remove voter `id` on `leader`, then stop its process.
    pub async fn remove_voter(
        &mut self,
        leader: u64,
        id: u64,
        timeout: Duration,
    ) -> Result<(), ClusterError> {
        let deadline = Instant::now() + timeout;
        let path = format!("/cluster/members/{id}");
        loop {
            match self.delete(leader, &path).await {
                Ok(_) => break,
                Err(e) if Instant::now() >= deadline => return Err(e),
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
        self.kill(id)?;
        self.endpoints.remove(id);
        self.members.remove(&id);
        self.removed.push(id);
        Ok(())
    }

    async fn retry(
        &self,
        deadline: Instant,
        id: u64,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, ClusterError> {
        loop {
            match self.post(id, path, body.clone()).await {
                Ok(answer) => return Ok(answer),
                // An earlier attempt that timed out went through.
                Err(ClusterError::Request(e)) if e.contains("already a member") => {
                    return Ok(Value::Null)
                }
                Err(e) if Instant::now() >= deadline => return Err(e),
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    }

    /// Stop every process.
    pub fn stop_all(&mut self) {
        for member in self.members.values_mut() {
            if let Some(process) = member.process.take() {
                process.kill();
            }
        }
    }

    /// Shut every node down with `SIGTERM` (so each ends its trace with a
    /// clean end record), `kill -9` for any that does not exit in time.
    pub fn shut_down_all(&mut self) {
        for member in self.members.values_mut() {
            if let Some(process) = member.process.take() {
                process.terminate(std::time::Duration::from_secs(5));
            }
        }
    }
}

async fn send(request: reqwest::RequestBuilder) -> Result<Value, ClusterError> {
    let response = request
        .send()
        .await
        .map_err(|e| ClusterError::Request(e.to_string()))?;
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    if status.is_success() {
        Ok(body)
    } else {
        Err(ClusterError::Request(format!("{status}: {body}")))
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.stop_all();
    }
}
