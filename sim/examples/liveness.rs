//! The liveness phase over many seeds (see `steadfast_sim::liveness`).
//!
//! ```sh
//! cargo run --release -p steadfast-sim --example liveness -- --seeds 10000
//! cargo run --release -p steadfast-sim --example liveness -- --seed 42 --trace
//! cargo run --release -p steadfast-sim --example liveness -- --seeds 2000 --bug VoteOnlyAmongOwnVoters
//! ```
//!
//! Prints one summary line, and every stalled seed with its replayable
//! scenario; exits 1 if a seed stalled (without `--bug`), or if none did
//! (with `--bug`: the planted bug must be caught).

use clap::Parser;
use std::process::ExitCode;
use std::time::Duration;
use steadfast::planted::PlantedBug;
use steadfast_sim::liveness::Scenario;

#[derive(Parser)]
struct Args {
    /// How many seeds, from `--from`.
    #[arg(long, default_value_t = 1000)]
    seeds: u64,
    /// The first seed.
    #[arg(long, default_value_t = 0)]
    from: u64,
    /// Run this one seed only.
    #[arg(long)]
    seed: Option<u64>,
    /// With `--seed`: print the whole trace of the run.
    #[arg(long)]
    trace: bool,
    /// Run every replica with this planted bug (e.g. VoteOnlyAmongOwnVoters).
    #[arg(long)]
    bug: Option<String>,
    /// Print at most this many stalled seeds in full.
    #[arg(long, default_value_t = 3)]
    show: usize,
}

fn bug(name: &str) -> Option<PlantedBug> {
    [
        PlantedBug::VoteWithoutUpToDateCheck,
        PlantedBug::CommitOldEpochEntries,
        PlantedBug::MembershipChangeBeforeOwnEpochCommit,
        PlantedBug::VoteOnlyAmongOwnVoters,
    ]
    .into_iter()
    .find(|b| format!("{b:?}").eq_ignore_ascii_case(name))
}

fn main() -> ExitCode {
    let args = Args::parse();
    let planted = match args.bug.as_deref().map(|name| (name, bug(name))) {
        Some((name, None)) => {
            eprintln!("liveness: no planted bug named {name:?}");
            return ExitCode::from(2);
        }
        Some((_, bug)) => bug,
        None => None,
    };
    let seeds: Vec<u64> = match args.seed {
        Some(seed) => vec![seed],
        None => (args.from..args.from + args.seeds).collect(),
    };
    let (mut stalled, mut lost, mut acked, mut reads) = (Vec::new(), 0, 0, 0);
    let mut slowest = Duration::ZERO;
    for &seed in &seeds {
        let mut scenario = Scenario::generate(seed);
        if let Some(bug) = planted {
            scenario = scenario.with_bug(bug);
        }
        let (cluster, result) = scenario.run_cluster();
        if args.trace {
            println!("{}", cluster.trace());
        }
        match result {
            Ok(progress) => {
                lost += usize::from(progress.lost.is_some());
                acked += progress.acked;
                reads += progress.reads;
                slowest = slowest.max(progress.leader_after);
            }
            Err(stall) => {
                if stalled.len() < args.show {
                    println!("{stall}");
                }
                stalled.push(seed);
            }
        }
    }
    println!(
        "liveness: {} seeds{}, {} stalled{}; {} with a node lost for good; {acked} acknowledged writes and {reads} linearizable reads settled; slowest leader after faults stopped: {} ms",
        seeds.len(),
        planted.map_or(String::new(), |b| format!(" with {b:?}")),
        stalled.len(),
        if stalled.is_empty() {
            String::new()
        } else {
            format!(
                " (seeds {})",
                stalled
                    .iter()
                    .take(20)
                    .map(u64::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        },
        lost,
        slowest.as_millis()
    );
    match (planted, stalled.is_empty()) {
        (None, true) | (Some(_), false) => ExitCode::SUCCESS,
        _ => ExitCode::FAILURE,
    }
}
