//! `steadfast`: run the model-checking suite over the real replication core.

use clap::{Parser, Subcommand};
use stateright::Model;
use std::io::Write;
use std::process::ExitCode;
use steadfast_models::report::table;
use steadfast_models::suite::{check_name, checks, run, Found, Profile, Verdict};

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
        /// `ci` (bounded, minutes) or `deep` (largest bounds that fit).
        #[arg(long, default_value = "ci")]
        profile: Profile,
        /// Print one JSON array instead of the table.
        #[arg(long)]
        json: bool,
        /// Print the verdict table as Markdown (for the README).
        #[arg(long)]
        markdown: bool,
        /// Only checks whose family or name starts with one of these.
        models: Vec<String>,
    },
    /// List the checks and their parameters.
    List {
        /// Which profile's bounds to show.
        #[arg(long, default_value = "ci")]
        profile: Profile,
    },
    /// Serve stateright's Explorer web UI on one check's model.
    Explore {
        /// A check family or name, as `list` prints it.
        model: String,
        /// Where to listen.
        #[arg(long, default_value = "127.0.0.1:3000")]
        addr: String,
    },
}

fn selected(filters: &[String], name: &str, family: &str) -> bool {
    filters.is_empty()
        || filters
            .iter()
            .any(|f| family == f || name.starts_with(f.as_str()))
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
                        Found::Incomplete => "incomplete",
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
            models,
        } => {
            let todo: Vec<_> = checks(profile)
                .into_iter()
                .filter(|c| selected(&models, &check_name(c), c.family))
                .collect();
            if todo.is_empty() {
                eprintln!("no check matches {models:?}; see `steadfast list`");
                return ExitCode::FAILURE;
            }
            let mut rows = Vec::new();
            for (i, check) in todo.iter().enumerate() {
                let bound = match check.max_depth {
                    0 => "exhaustive".to_string(),
                    d => format!("depth ≤ {d}"),
                };
                eprint!(
                    "[{}/{}] {} ({bound}) ... ",
                    i + 1,
                    todo.len(),
                    check_name(check)
                );
                let _ = std::io::stderr().flush();
                let verdicts = run(check);
                let bad = verdicts.iter().filter(|v| !v.ok).count();
                eprintln!(
                    "{} states in {:.1}s{}",
                    verdicts.first().map_or(0, |v| v.unique_states),
                    verdicts.first().map_or(0.0, |v| v.seconds),
                    if bad == 0 {
                        String::new()
                    } else {
                        format!(", {bad} UNEXPECTED")
                    }
                );
                rows.extend(verdicts);
            }
            let failed = rows.iter().filter(|r| !r.ok).count();
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
                    println!(
                        "\n--- {} [{}] {}: counterexample ---",
                        r.model, r.config, r.property
                    );
                    for step in r.trace.iter().flatten() {
                        println!("  {step}");
                    }
                    if let Some(m) = &r.mermaid {
                        println!("\n```mermaid\n{m}```");
                    }
                }
                println!(
                    "\n{} results, {} as expected, {} unexpected",
                    rows.len(),
                    rows.len() - failed,
                    failed
                );
            }
            if failed == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Command::List { profile } => {
            for check in checks(profile) {
                let m = &check.model;
                println!(
                    "{:<48} servers={} clients={} crashes={} lossy={} network={:?} time_limit={}ms max_epoch={} campaigners={} depth≤{} budget={}s",
                    check_name(&check),
                    m.servers,
                    m.clients.len(),
                    m.max_crashes,
                    m.lossy,
                    m.network,
                    m.time_limit_ms,
                    m.max_epoch,
                    m.campaigners,
                    check.max_depth,
                    check.budget.as_secs()
                );
            }
            ExitCode::SUCCESS
        }
        Command::Explore { model, addr } => {
            let Some(check) = checks(Profile::Ci)
                .into_iter()
                .find(|c| selected(std::slice::from_ref(&model), &check_name(c), c.family))
            else {
                eprintln!("no check matches {model:?}; see `steadfast list`");
                return ExitCode::FAILURE;
            };
            eprintln!(
                "serving the explorer for {} on http://{addr}",
                check_name(&check)
            );
            let _ = check.model.into_model().checker().serve(addr.as_str());
            ExitCode::SUCCESS
        }
    }
}
