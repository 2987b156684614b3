//! `steadfast-faults`: run the reference server under faults and check
//! what its clients saw.
//!
//! ```text
//! steadfast-faults --profile ci|long|short [--durability async|semisync:K|quorum|all]
//!     [--election-quorum majority|flexible] [--nodes 3|5] [--seed N]
//!     [--lease-max-drift-ms MS] [--skew] [--out DIR] [--expect-anomaly]
//! ```
//!
//! A human summary goes to stderr; the last line on stdout is one JSON
//! object with the figures. Exit status 0: passed; 1: a promised guarantee
//! was broken, or (with `--expect-anomaly`) the expected anomaly was not
//! found; 2: the run could not be carried out.

#![forbid(unsafe_code)]

use clap::{Parser, Subcommand};
use std::process::ExitCode;
use steadfast_faults::run::run;
use steadfast_faults::settings::Settings;
use steadfast_server::config::RunArgs;

/// Fault testing of the steadfast reference server.
#[derive(Parser)]
#[command(
    name = "steadfast-faults",
    version,
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Cmd>,
    #[command(flatten)]
    settings: Settings,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run one server node, exactly as `steadfast-server run` does (the
    /// harness starts its nodes this way).
    #[command(hide = true)]
    Serve(Box<RunArgs>),
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => {
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            let text = e.to_string();
            let line = text.lines().next().unwrap_or_default();
            return fail(line.strip_prefix("error: ").unwrap_or(line));
        }
    };
    match cli.command {
        Some(Cmd::Serve(args)) => serve(&args),
        None => harness(&cli.settings),
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Runtime::new().map_err(|e| format!("cannot start the runtime: {e}"))
}

/// A server node. It dies with the harness (parent-death signal), so no
/// node outlives a harness that was killed.
fn serve(args: &RunArgs) -> ExitCode {
    if let Err(e) = nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL) {
        eprintln!("steadfast-faults serve: cannot set the parent-death signal: {e}");
    }
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .init();
    let config = match args.resolve() {
        Ok(config) => config,
        Err(e) => return fail(&e.to_string()),
    };
    let result = runtime().and_then(|runtime| {
        runtime
            .block_on(steadfast_server::run::run(config))
            .map_err(|e| e.to_string())
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => fail(&message),
    }
}

fn harness(settings: &Settings) -> ExitCode {
    let checked = match settings.check() {
        Ok(checked) => checked,
        Err(e) => return fail(&e.to_string()),
    };
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(e) => return fail(&format!("cannot find this binary to start nodes: {e}")),
    };
    let runtime = match runtime() {
        Ok(runtime) => runtime,
        Err(e) => return fail(&e),
    };
    match runtime.block_on(run(&checked, &exe)) {
        Ok(finished) => {
            eprint!("{}", finished.summary);
            match serde_json::to_string(&finished.figures) {
                Ok(line) => println!("{line}"),
                Err(e) => return fail(&format!("cannot encode the figures: {e}")),
            }
            if finished.passed {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(e) => fail(&e.to_string()),
    }
}

fn fail(message: &str) -> ExitCode {
    eprintln!("steadfast-faults: {message}");
    ExitCode::from(2)
}
