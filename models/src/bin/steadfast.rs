//! `steadfast`: run the model-checking suite over the real replication core.

use clap::{Parser, Subcommand};
use stateright::Model;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use steadfast_models::explorer::{bindable, Explorable};
use steadfast_models::overrides::Overrides;
use steadfast_models::report::table;
use steadfast_models::runner::{run_with, LiveHandle, RunOptions};
use steadfast_models::suite::{check_matches, check_name, checks, Found, Profile, Verdict};

/// The checker clones, hashes and drops millions of small states; mimalloc
/// serves those allocations markedly faster than the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// On Ctrl-C, print what was verified so far (finished checks, and how far
/// the running one got) and exit with status 130.
fn on_interrupt(live: LiveHandle, done: Arc<Mutex<Vec<Verdict>>>) {
    let handler = move || {
        if let Ok(rows) = done.lock() {
            if !rows.is_empty() {
                print!("{}", table(&rows));
            }
        }
        if let Ok(l) = live.lock() {
            if !l.name.is_empty() {
                let list = |names: Vec<&str>| {
                    if names.is_empty() {
                        "none".to_string()
                    } else {
                        names.join(", ")
                    }
                };
                println!(
                    "interrupted: {} stopped after {} unique states to depth {}; violations found so far: {}; examples reached: {}",
                    l.name,
                    l.unique_states,
                    l.max_depth,
                    list(l.violations()),
                    list(l.examples_reached()),
                );
            }
        }
        std::process::exit(130);
    };
    if let Err(e) = ctrlc::set_handler(handler) {
        eprintln!("cannot install the Ctrl-C handler: {e}");
    }
}

#[derive(Parser)]
#[command(
    name = "steadfast",
    version,
    about = "Model-check the steadfast replication core"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the model-checking suite and print the verdict table.
    Check {
        /// `ci` (minutes on two cores) or `deep` (adds five-replica rows and
        /// deeper depth bounds; hours).
        #[arg(long, default_value = "ci")]
        profile: Profile,
        /// Print one JSON array instead of the table (every row, examples
        /// and counterexamples included).
        #[arg(long, conflicts_with = "markdown")]
        json: bool,
        /// Print the verdict table as Markdown (for the README).
        #[arg(long)]
        markdown: bool,
        /// Stop each check after this many seconds; what it leaves
        /// undecided is reported as STOPPED (never as a pass) and the run
        /// exits with status 2. Without it, checks run to the end of their
        /// structural bounds and the verdicts are the same on any machine.
        #[arg(long)]
        max_seconds: Option<u64>,
        /// Checker threads (default: every core).
        #[arg(long)]
        threads: Option<usize>,
        /// Explore without symmetry reduction.
        #[arg(long)]
        no_symmetry: bool,
        /// Run the selected checks at these bounds instead of their own.
        #[command(flatten)]
        overrides: Overrides,
        /// Only checks whose family or name starts with one of these (as
        /// `list` prints them; case and braces do not matter).
        models: Vec<String>,
    },
    /// List the checks and their structural bounds.
    List {
        /// Which profile's bounds to show.
        #[arg(long, default_value = "ci")]
        profile: Profile,
        /// One JSON object per check.
        #[arg(long, conflicts_with = "markdown")]
        json: bool,
        /// A Markdown table (the README's bounds table).
        #[arg(long)]
        markdown: bool,
    },
    /// Serve stateright's Explorer web UI on one check's model, at the
    /// check's bounds, states shown compactly.
    Explore {
        /// A check family or name, as `list` prints it (the first match).
        model: String,
        /// The profile whose check (and bounds) to explore.
        #[arg(long, default_value = "ci")]
        profile: Profile,
        /// Where to listen (host:port).
        #[arg(long, default_value = "127.0.0.1:3000")]
        addr: String,
    },
}

fn selected(filters: &[String], check: &steadfast_models::suite::Check) -> bool {
    filters.is_empty() || filters.iter().any(|f| check_matches(check, f))
}

/// The verdicts as a Markdown matrix: one row per model and configuration,
/// one column per property; "holds" / "**violated**" is what the checker
/// found, and a mismatch with the stated expectation is flagged.
fn markdown(rows: &[Verdict]) -> String {
    let mut properties: Vec<&str> = Vec::new();
    let mut configs: Vec<(&str, &str)> = Vec::new();
    for r in rows.iter().filter(|r| !r.property.starts_with("sometimes")) {
        if !properties.contains(&r.property.as_str()) {
            properties.push(&r.property);
        }
        if !configs.contains(&(r.model.as_str(), r.config.as_str())) {
            configs.push((&r.model, &r.config));
        }
    }
    let mut out = format!(
        "| model | configuration | {} | states |\n",
        properties.join(" | ")
    );
    out.push_str(&format!(
        "|---|---|{}---:|\n",
        "---|".repeat(properties.len())
    ));
    for (model, config) in configs {
        let mut cells = Vec::new();
        let mut states = 0;
        for property in &properties {
            let cell = rows
                .iter()
                .find(|r| r.model == model && r.config == config && r.property == *property)
                .map_or("".to_string(), |r| {
                    states = r.unique_states;
                    let found = match r.found {
                        Found::Holds => "holds",
                        Found::Violated => "**violated**",
                        Found::Stopped => "STOPPED",
                    };
                    if r.ok {
                        found.to_string()
                    } else {
                        format!("{found} (expected {})", r.expected)
                    }
                });
            cells.push(cell);
        }
        out.push_str(&format!(
            "| {model} | {config} | {} | {states} |\n",
            cells.join(" | ")
        ));
    }
    out
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Check {
            profile,
            json,
            markdown: md,
            max_seconds,
            threads,
            no_symmetry,
            overrides,
            models,
        } => {
            let todo: Vec<_> = checks(profile)
                .into_iter()
                .filter(|c| selected(&models, c))
                .map(|c| overrides.apply(c))
                .collect();
            if todo.is_empty() {
                eprintln!("no check matches {models:?}; see `steadfast list`");
                return ExitCode::FAILURE;
            }
            let mut options = RunOptions {
                max_seconds,
                symmetry: !no_symmetry,
                progress: true,
                ..RunOptions::default()
            };
            if let Some(threads) = threads {
                options.threads = threads;
            }
            let live = LiveHandle::default();
            let done: Arc<Mutex<Vec<Verdict>>> = Arc::default();
            on_interrupt(Arc::clone(&live), Arc::clone(&done));
            let started = std::time::Instant::now();
            for (i, check) in todo.iter().enumerate() {
                let bound = match check.max_depth {
                    0 => "exhaustive".to_string(),
                    d => format!("depth ≤ {d}"),
                };
                eprintln!("[{}/{}] {} ({bound})", i + 1, todo.len(), check_name(check));
                if !overrides.is_empty() {
                    eprintln!("      at {}", check.bounds().summary());
                }
                let verdicts = run_with(check, &options, &live);
                let bad = verdicts.iter().filter(|v| !v.ok).count();
                if let Some(v) = verdicts.first() {
                    eprintln!(
                        "      {} states in {:.1}s ({:.1} CPU-s, {:.0} states per CPU-second{}){}",
                        v.unique_states,
                        v.seconds,
                        v.cpu_seconds,
                        v.unique_states as f64 / v.cpu_seconds.max(1e-9),
                        if v.symmetry { ", symmetry" } else { "" },
                        if bad == 0 {
                            String::new()
                        } else {
                            format!(", {bad} UNEXPECTED")
                        }
                    );
                }
                if let Ok(mut done) = done.lock() {
                    done.extend(verdicts);
                }
            }
            let rows = done.lock().map(|d| d.clone()).unwrap_or_default();
            eprintln!(
                "suite: {} checks in {:.1}s wall",
                todo.len(),
                started.elapsed().as_secs_f64()
            );
            let stopped = rows.iter().filter(|r| r.found == Found::Stopped).count();
            let failed = rows.iter().filter(|r| !r.ok).count() - stopped;
            if json {
                match serde_json::to_string_pretty(&rows) {
                    Ok(text) => println!("{text}"),
                    Err(e) => {
                        eprintln!("cannot encode the verdicts: {e}");
                        return ExitCode::FAILURE;
                    }
                }
            } else if md {
                print!("{}", markdown(&rows));
            } else {
                print!("{}", table(&rows));
                for r in rows.iter().filter(|r| r.trace.is_some()) {
                    let steps = r.trace.as_ref().map_or(0, |t| t.len().saturating_sub(1));
                    println!(
                        "\n--- {} [{}] {}: counterexample, {steps} steps{} ---",
                        r.model,
                        r.config,
                        r.property,
                        if r.shortest { " (a shortest one)" } else { "" }
                    );
                    for step in r.trace.iter().flatten() {
                        println!("  {step}");
                    }
                    if let Some(m) = &r.mermaid {
                        println!("\n```mermaid\n{m}```");
                    }
                }
                println!(
                    "\n{} results, {} as expected, {} unexpected, {} stopped",
                    rows.len(),
                    rows.len() - failed - stopped,
                    failed,
                    stopped
                );
            }
            if failed > 0 {
                ExitCode::FAILURE
            } else if stopped > 0 {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            }
        }
        Command::List {
            profile,
            json,
            markdown,
        } => {
            if markdown {
                let rows: Vec<_> = checks(profile).iter().map(|c| c.bounds()).collect();
                print!("{}", steadfast_models::bounds_table::bounds_markdown(&rows));
                return ExitCode::SUCCESS;
            }
            for check in checks(profile) {
                let b = check.bounds();
                if json {
                    match serde_json::to_string(&b) {
                        Ok(line) => println!("{line}"),
                        Err(e) => {
                            eprintln!("cannot encode the bounds: {e}");
                            return ExitCode::FAILURE;
                        }
                    }
                    continue;
                }
                println!("{:<52} {}", b.name, b.summary());
            }
            ExitCode::SUCCESS
        }
        Command::Explore {
            model,
            profile,
            addr,
        } => {
            let Some(check) = checks(profile)
                .into_iter()
                .find(|c| check_matches(c, &model))
            else {
                eprintln!("no check matches {model:?}; see `steadfast list`");
                return ExitCode::FAILURE;
            };
            let addr = match bindable(&addr) {
                Ok(addr) => addr,
                Err(e) => {
                    eprintln!("steadfast explore: {e}");
                    return ExitCode::from(2);
                }
            };
            eprintln!(
                "serving the explorer for {} on http://{addr}",
                check_name(&check)
            );
            let _ = Explorable::new(&check).checker().serve(addr);
            ExitCode::SUCCESS
        }
    }
}
