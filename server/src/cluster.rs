//! `steadfast-server cluster`: a local cluster to try, as separate node
//! processes on loopback, stopped together on Ctrl-C.

use std::path::PathBuf;
use std::process::{Child, Command};

/// The flags of `steadfast-server cluster`.
#[derive(Clone, Debug, clap::Args)]
pub struct ClusterArgs {
    /// How many nodes.
    #[arg(long, default_value_t = 3)]
    pub nodes: u64,
    /// Parent of the nodes' data directories (`<dir>/<id>`).
    #[arg(long, default_value = "./data")]
    pub dir: PathBuf,
    /// Node `i` takes peer port `base + i` and HTTP port `base + 100 + i`.
    #[arg(long, default_value_t = 7000)]
    pub base_port: u16,
    /// Passed on to every node (`async`, `semisync:K`, `quorum`, `all`).
    #[arg(long, default_value = "quorum")]
    pub durability: String,
}

/// Why the cluster could not start.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// Bad flags.
    #[error("{0}")]
    Usage(String),
    /// A node process could not be started.
    #[error("cannot start node {node}: {source}")]
    Spawn {
        /// The node.
        node: u64,
        /// Why.
        source: std::io::Error,
    },
}

/// The nodes' `--member` flags.
pub fn members(args: &ClusterArgs) -> Result<Vec<String>, ClusterError> {
    if args.nodes == 0 || args.nodes > 99 {
        return Err(ClusterError::Usage(
            "--nodes must be between 1 and 99".into(),
        ));
    }
    (1..=args.nodes)
        .map(|id| {
            let (peer, http) = ports(args.base_port, id)?;
            Ok(format!("{id}=127.0.0.1:{peer},127.0.0.1:{http}"))
        })
        .collect()
}

fn ports(base: u16, id: u64) -> Result<(u16, u16), ClusterError> {
    let id = u16::try_from(id).map_err(|_| ClusterError::Usage("too many nodes".into()))?;
    let peer = base.checked_add(id);
    let http = base.checked_add(100).and_then(|b| b.checked_add(id));
    peer.zip(http).ok_or_else(|| {
        ClusterError::Usage(format!("--base-port {base} leaves no room for the ports"))
    })
}

/// Start the nodes, print how to reach them, wait for Ctrl-C, stop them.
pub async fn cluster(args: ClusterArgs) -> Result<(), ClusterError> {
    let members = members(&args)?;
    let exe = std::env::current_exe().map_err(|source| ClusterError::Spawn { node: 0, source })?;
    let mut children: Vec<Child> = Vec::new();
    for id in 1..=args.nodes {
        let mut command = Command::new(&exe);
        command
            .arg("run")
            .args(["--id", &id.to_string()])
            .args([
                "--data-dir",
                &args.dir.join(id.to_string()).display().to_string(),
            ])
            .args(["--durability", &args.durability]);
        for member in &members {
            command.args(["--member", member]);
        }
        match command.spawn() {
            Ok(child) => children.push(child),
            Err(source) => {
                stop(&mut children);
                return Err(ClusterError::Spawn { node: id, source });
            }
        }
    }
    println!(
        "{} nodes running (data under {}):",
        args.nodes,
        args.dir.display()
    );
    for id in 1..=args.nodes {
        let (peer, http) = ports(args.base_port, id)?;
        println!("  node {id}: http://127.0.0.1:{http}  (peers on 127.0.0.1:{peer})");
    }
    let (_, first_http) = ports(args.base_port, 1)?;
    println!("try:");
    println!(
        "  curl -L -X PUT -d '{{\"value\":\"world\"}}' -H 'content-type: application/json' http://127.0.0.1:{first_http}/kv/hello"
    );
    println!("  curl -L http://127.0.0.1:{first_http}/kv/hello");
    println!("  curl http://127.0.0.1:{first_http}/status");
    println!("Ctrl-C stops them all.");
    let _ = tokio::signal::ctrl_c().await;
    stop(&mut children);
    Ok(())
}

fn stop(children: &mut [Child]) {
    for child in children.iter_mut() {
        terminate(child);
    }
    for child in children.iter_mut() {
        let _ = child.wait();
    }
}

/// Ask a node to stop (SIGTERM, so it shuts down cleanly).
fn terminate(child: &mut Child) {
    let stopped = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .is_ok_and(|s| s.success());
    if !stopped {
        let _ = child.kill();
    }
}
