//! `steadfast-server run`'s settings: flags, and an optional TOML file
//! they override. Anything wrong is one line saying what and where.

use crate::kv::NodeAddrs;
use crate::node::{ClockOffset, NodeConfig};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;
use steadfast::{Durability, ElectionQuorum, NodeId};

/// The flags of `steadfast-server run`.
#[derive(Clone, Debug, Default, clap::Args)]
pub struct RunArgs {
    /// A TOML file with these settings (flags override it).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// This node's id (not 0).
    #[arg(long)]
    pub id: Option<u64>,
    /// An initial voter: `ID=PEER_ADDR,HTTP_ADDR`. Repeat for each, this
    /// node included.
    #[arg(long = "member", value_name = "ID=PEER,HTTP")]
    pub members: Vec<String>,
    /// The data directory.
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Peers of another cluster id are refused (default 1).
    #[arg(long)]
    pub cluster_id: Option<u64>,
    /// `async`, `semisync:K`, `quorum` (default) or `all`.
    #[arg(long)]
    pub durability: Option<String>,
    /// `majority` (default) or `flexible`.
    #[arg(long)]
    pub election_quorum: Option<String>,
    /// Leader heartbeat interval in milliseconds (default 50).
    #[arg(long)]
    pub heartbeat_ms: Option<u64>,
    /// Election timeout range in milliseconds, `MIN..MAX` (default 300..600).
    #[arg(long)]
    pub election_timeout_ms: Option<String>,
    /// Turn lease reads on with this clock drift bound in milliseconds.
    #[arg(long)]
    pub lease_max_drift_ms: Option<u64>,
    /// Snapshot and compact every this many applied entries (default 10000).
    #[arg(long)]
    pub snapshot_every: Option<u64>,
    /// Entries kept behind a snapshot for followers a little behind
    /// (default 1024); those further behind are sent the snapshot.
    #[arg(long)]
    pub snapshot_retain: Option<u64>,
    /// Join a running cluster as a learner (then add it on the leader with
    /// `POST /cluster/learners`).
    #[arg(long)]
    pub join: bool,
    /// Shift this node's clock by this many milliseconds (fault testing).
    #[arg(long, allow_hyphen_values = true)]
    pub clock_offset_ms: Option<i64>,
    /// Serve `POST /admin/clock-offset {"ms": N}`, which shifts this node's
    /// clock while it runs (fault testing only).
    #[arg(long)]
    pub clock_control: bool,
    /// Where peers connect (default: this node's member entry).
    #[arg(long)]
    pub listen_peer: Option<SocketAddr>,
    /// Where clients connect (default: this node's member entry).
    #[arg(long)]
    pub listen_http: Option<SocketAddr>,
    /// Record every call into the replica (inputs with their time, outputs
    /// in full) in a new file per start in this directory, for
    /// `steadfast-server trace replay` and the conformance check.
    #[arg(long, value_name = "DIR")]
    pub trace_dir: Option<PathBuf>,
}

/// The same settings in a TOML file; `[[member]]` tables list the voters.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    id: Option<u64>,
    cluster_id: Option<u64>,
    data_dir: Option<PathBuf>,
    durability: Option<String>,
    election_quorum: Option<String>,
    heartbeat_ms: Option<u64>,
    election_timeout_ms: Option<[u64; 2]>,
    lease_max_drift_ms: Option<u64>,
    snapshot_every: Option<u64>,
    snapshot_retain: Option<u64>,
    join: Option<bool>,
    clock_offset_ms: Option<i64>,
    clock_control: Option<bool>,
    listen_peer: Option<SocketAddr>,
    listen_http: Option<SocketAddr>,
    trace_dir: Option<PathBuf>,
    #[serde(default)]
    member: Vec<FileMember>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileMember {
    id: u64,
    peer: SocketAddr,
    http: SocketAddr,
}

/// Everything `run` needs.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// The node.
    pub node: NodeConfig,
    /// Where peers connect.
    pub listen_peer: SocketAddr,
    /// Where clients connect.
    pub listen_http: SocketAddr,
}

/// A setting that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(String);

fn bad(message: impl Into<String>) -> ConfigError {
    ConfigError(message.into())
}

impl RunArgs {
    /// Merge the flags over the file (if any) and check the result.
    pub fn resolve(&self) -> Result<ServerConfig, ConfigError> {
        let file = match &self.config {
            None => FileConfig::default(),
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| bad(format!("cannot read {}: {e}", path.display())))?;
                toml::from_str(&text).map_err(|e| {
                    let first = e
                        .message()
                        .lines()
                        .next()
                        .unwrap_or("invalid TOML")
                        .to_owned();
                    bad(format!("{}: {first}", path.display()))
                })?
            }
        };
        let id = self.id.or(file.id).ok_or_else(|| bad("--id is required"))?;
        if id == 0 {
            return Err(bad("--id must not be 0"));
        }
        let mut members = BTreeMap::new();
        for member in &file.member {
            members.insert(
                NodeId(member.id),
                NodeAddrs {
                    peer: member.peer,
                    http: member.http,
                },
            );
        }
        for text in &self.members {
            let (node, addrs) = parse_member(text)?;
            members.insert(node, addrs);
        }
        let me = NodeId(id);
        let join = self.join || file.join.unwrap_or(false);
        let own = members.get(&me).copied();
        let listen_peer = self
            .listen_peer
            .or(file.listen_peer)
            .or(own.map(|a| a.peer))
            .ok_or_else(|| {
                bad(format!(
                    "no peer address for node {id}: list it with --member or give --listen-peer"
                ))
            })?;
        let listen_http = self
            .listen_http
            .or(file.listen_http)
            .or(own.map(|a| a.http))
            .ok_or_else(|| {
                bad(format!(
                    "no HTTP address for node {id}: list it with --member or give --listen-http"
                ))
            })?;
        members.entry(me).or_insert(NodeAddrs {
            peer: listen_peer,
            http: listen_http,
        });
        let data_dir = self
            .data_dir
            .clone()
            .or(file.data_dir)
            .ok_or_else(|| bad("--data-dir is required"))?;
        let mut node = NodeConfig::new(
            self.cluster_id.or(file.cluster_id).unwrap_or(1),
            me,
            members,
            data_dir,
        );
        node.join = join;
        if let Some(text) = self.durability.as_ref().or(file.durability.as_ref()) {
            node.durability = parse_durability(text)?;
        }
        if let Some(text) = self
            .election_quorum
            .as_ref()
            .or(file.election_quorum.as_ref())
        {
            node.election_quorum = parse_quorum(text)?;
        }
        if let Some(ms) = self.heartbeat_ms.or(file.heartbeat_ms) {
            node.heartbeat = Duration::from_millis(ms);
        }
        let timeout = match (&self.election_timeout_ms, file.election_timeout_ms) {
            (Some(text), _) => Some(parse_range(text)?),
            (None, Some([min, max])) => Some((min, max)),
            (None, None) => None,
        };
        if let Some((min, max)) = timeout {
            if min == 0 || min >= max {
                return Err(bad(format!(
                    "election timeout {min}..{max}: need 0 < MIN < MAX"
                )));
            }
            node.election_timeout = (Duration::from_millis(min), Duration::from_millis(max));
        }
        if node.heartbeat >= node.election_timeout.0 {
            return Err(bad(
                "the heartbeat interval must be shorter than the election timeout",
            ));
        }
        node.lease_max_drift = self
            .lease_max_drift_ms
            .or(file.lease_max_drift_ms)
            .map(Duration::from_millis);
        if let Some(every) = self.snapshot_every.or(file.snapshot_every) {
            node.snapshot_every = every.max(1);
        }
        if let Some(retain) = self.snapshot_retain.or(file.snapshot_retain) {
            node.snapshot_retain_entries = retain;
        }
        node.clock_offset =
            ClockOffset::new(self.clock_offset_ms.or(file.clock_offset_ms).unwrap_or(0));
        node.clock_control = self.clock_control || file.clock_control.unwrap_or(false);
        node.trace_dir = self.trace_dir.clone().or(file.trace_dir);
        Ok(ServerConfig {
            node,
            listen_peer,
            listen_http,
        })
    }
}

/// `ID=PEER,HTTP`.
pub fn parse_member(text: &str) -> Result<(NodeId, NodeAddrs), ConfigError> {
    let usage = || {
        bad(format!("--member {text:?}: expected ID=PEER_ADDR,HTTP_ADDR, e.g. 1=127.0.0.1:7001,127.0.0.1:8001"))
    };
    let (id, addrs) = text.split_once('=').ok_or_else(usage)?;
    let (peer, http) = addrs.split_once(',').ok_or_else(usage)?;
    let id: u64 = id.trim().parse().map_err(|_| usage())?;
    if id == 0 {
        return Err(usage());
    }
    let peer = peer.trim().parse().map_err(|_| usage())?;
    let http = http.trim().parse().map_err(|_| usage())?;
    Ok((NodeId(id), NodeAddrs { peer, http }))
}

/// `async`, `semisync:K`, `quorum` or `all`.
pub fn parse_durability(text: &str) -> Result<Durability, ConfigError> {
    match text.trim().to_ascii_lowercase().as_str() {
        "async" => Ok(Durability::Async),
        "quorum" => Ok(Durability::Quorum),
        "all" => Ok(Durability::All),
        other => other
            .strip_prefix("semisync:")
            .and_then(|k| k.parse().ok())
            .filter(|&k| k > 0)
            .map(|k| Durability::SemiSync { k })
            .ok_or_else(|| {
                bad(format!(
                    "durability {text:?}: expected async, semisync:K (K > 0), quorum or all"
                ))
            }),
    }
}

/// `majority` or `flexible`.
pub fn parse_quorum(text: &str) -> Result<ElectionQuorum, ConfigError> {
    match text.trim().to_ascii_lowercase().as_str() {
        "majority" => Ok(ElectionQuorum::Majority),
        "flexible" => Ok(ElectionQuorum::Flexible),
        _ => Err(bad(format!(
            "election quorum {text:?}: expected majority or flexible"
        ))),
    }
}

fn parse_range(text: &str) -> Result<(u64, u64), ConfigError> {
    let usage = || {
        bad(format!(
            "election timeout {text:?}: expected MIN..MAX in milliseconds"
        ))
    };
    let (min, max) = text.split_once("..").ok_or_else(usage)?;
    Ok((
        min.trim().parse().map_err(|_| usage())?,
        max.trim().parse().map_err(|_| usage())?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(members: &[&str]) -> RunArgs {
        RunArgs {
            id: Some(1),
            members: members.iter().map(|s| s.to_string()).collect(),
            data_dir: Some("d".into()),
            ..RunArgs::default()
        }
    }

    #[test]
    fn flags_resolve_to_a_node() {
        let mut run = args(&[
            "1=127.0.0.1:7001,127.0.0.1:8001",
            "2=127.0.0.1:7002,127.0.0.1:8002",
        ]);
        run.durability = Some("semisync:1".into());
        run.election_timeout_ms = Some("200..400".into());
        let config = run.resolve().unwrap();
        assert_eq!(config.node.members.len(), 2);
        assert_eq!(config.listen_http, "127.0.0.1:8001".parse().unwrap());
        assert_eq!(config.node.durability, Durability::SemiSync { k: 1 });
        assert_eq!(config.node.election_timeout.1, Duration::from_millis(400));
    }

    #[test]
    fn a_file_is_read_and_flags_override_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("node.toml");
        std::fs::write(
            &path,
            "id = 2\ndata_dir = \"x\"\ndurability = \"async\"\n[[member]]\nid = 2\npeer = \"127.0.0.1:7002\"\nhttp = \"127.0.0.1:8002\"\n",
        )
        .unwrap();
        let run = RunArgs {
            config: Some(path.clone()),
            durability: Some("all".into()),
            ..RunArgs::default()
        };
        let config = run.resolve().unwrap();
        assert_eq!(config.node.id, NodeId(2));
        assert_eq!(config.node.durability, Durability::All);
        std::fs::write(&path, "id = 2\nsurprise = 1\n").unwrap();
        let err = run.resolve().unwrap_err().to_string();
        assert!(err.contains("surprise") && !err.contains('\n'), "{err}");
    }

    #[test]
    fn the_trace_directory_comes_from_the_file_or_the_flag() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("node.toml");
        std::fs::write(
            &path,
            "id = 2\ndata_dir = \"x\"\ntrace_dir = \"traces\"\n[[member]]\nid = 2\npeer = \"127.0.0.1:7002\"\nhttp = \"127.0.0.1:8002\"\n",
        )
        .unwrap();
        let mut run = RunArgs {
            config: Some(path),
            ..RunArgs::default()
        };
        let config = run.resolve().unwrap();
        assert_eq!(config.node.trace_dir, Some(PathBuf::from("traces")));
        run.trace_dir = Some(PathBuf::from("elsewhere"));
        let config = run.resolve().unwrap();
        assert_eq!(config.node.trace_dir, Some(PathBuf::from("elsewhere")));
        run.trace_dir = None;
        run.config = None;
        run.id = Some(1);
        run.data_dir = Some(PathBuf::from("x"));
        run.members = vec!["1=127.0.0.1:7001,127.0.0.1:8001".into()];
        assert_eq!(run.resolve().unwrap().node.trace_dir, None);
    }

    #[test]
    fn bad_settings_are_one_line_errors() {
        let cases: Vec<(RunArgs, &str)> = vec![
            (RunArgs::default(), "--id is required"),
            (
                args(&["1=127.0.0.1:7001"]),
                "expected ID=PEER_ADDR,HTTP_ADDR",
            ),
            (args(&["x=1,2"]), "expected ID=PEER_ADDR,HTTP_ADDR"),
            (args(&[]), "no peer address for node 1"),
            (
                RunArgs {
                    durability: Some("sometimes".into()),
                    ..args(&["1=127.0.0.1:7001,127.0.0.1:8001"])
                },
                "expected async",
            ),
            (
                RunArgs {
                    election_timeout_ms: Some("600..300".into()),
                    ..args(&["1=127.0.0.1:7001,127.0.0.1:8001"])
                },
                "need 0 < MIN < MAX",
            ),
        ];
        for (run, expected) in cases {
            let err = run.resolve().unwrap_err().to_string();
            assert!(
                err.contains(expected) && !err.contains('\n'),
                "{err:?} lacks {expected:?}"
            );
        }
    }
}
