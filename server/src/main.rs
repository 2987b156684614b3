//! `steadfast-server`: run a node, or a local cluster to try.
//!
//! ```text
//! steadfast-server run --id 1 --member 1=127.0.0.1:7001,127.0.0.1:7101 \
//!     --member 2=… --member 3=… --data-dir data/1 [--durability quorum] [--config node.toml]
//! steadfast-server cluster --nodes 3 --dir ./data
//! steadfast-server bench --target steadfast --endpoints 127.0.0.1:7101,127.0.0.1:7102
//! steadfast-server trace replay traces/node-1-*.trace   # or a directory of them
//! ```

#![forbid(unsafe_code)]

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use steadfast_server::cluster::{cluster, ClusterArgs};
use steadfast_server::config::RunArgs;
use steadfast_server::loadgen::{run_bench, BenchArgs};
use steadfast_server::trace;

/// The steadfast reference server: a replicated key-value store.
#[derive(Parser)]
#[command(name = "steadfast-server", version)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run one node.
    Run(Box<RunArgs>),
    /// Run a local cluster of node processes on loopback until Ctrl-C.
    Cluster(ClusterArgs),
    /// Drive a cluster (steadfast or etcd) with concurrent clients; prints
    /// a summary on stderr and one JSON line on stdout.
    Bench(BenchArgs),
    /// Work with the traces `run --trace-dir` records.
    #[command(subcommand)]
    Trace(TraceCmd),
}

#[derive(Subcommand)]
enum TraceCmd {
    /// Replay each trace through a fresh replica and compare every output
    /// with the recorded one; stops at the first divergence (exit 1).
    Replay {
        /// Trace files, or directories of them (`*.trace`).
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
    },
}

/// Replay every trace named (directories: every `*.trace` in them).
fn replay_traces(paths: &[PathBuf]) -> Result<(), String> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            files.extend(trace::trace_files(path).map_err(|e| e.to_string())?);
        } else {
            files.push(path.clone());
        }
    }
    if files.is_empty() {
        return Err("no trace files".into());
    }
    let (mut steps, mut outputs) = (0, 0);
    for file in &files {
        let report = trace::replay(file).map_err(|e| e.to_string())?;
        println!("{report}");
        steps += report.steps;
        outputs += report.outputs;
    }
    println!(
        "{} traces, {steps} steps and {outputs} outputs replayed identically",
        files.len()
    );
    Ok(())
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => {
            // --help and --version.
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        // One line: clap's message without its usage block.
        Err(e) => return fail(first_line(&e.to_string())),
    };
    if let Cmd::Trace(TraceCmd::Replay { files }) = &cli.command {
        // No runtime and no logging: a replay is a pure computation.
        return match replay_traces(files) {
            Ok(()) => ExitCode::SUCCESS,
            Err(message) => fail(message),
        };
    }
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => return fail(format!("cannot start the runtime: {e}")),
    };
    let result = match cli.command {
        Cmd::Run(args) => match args.resolve() {
            Ok(config) => runtime
                .block_on(steadfast_server::run::run(config))
                .map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        },
        Cmd::Cluster(args) => runtime.block_on(cluster(args)).map_err(|e| e.to_string()),
        Cmd::Bench(args) => runtime
            .block_on(run_bench(&args))
            .map(|report| {
                eprintln!("{}", report.summary());
                println!("{}", report.json_line());
            })
            .map_err(|e| e.to_string()),
        Cmd::Trace(_) => Ok(()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => fail(message),
    }
}

/// The first line of `text`, without clap's `error: ` prefix.
fn first_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or_default();
    line.strip_prefix("error: ").unwrap_or(line).to_owned()
}

fn fail(message: String) -> ExitCode {
    eprintln!("steadfast-server: {message}");
    ExitCode::FAILURE
}
