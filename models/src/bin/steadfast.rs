//! `steadfast`: run the model-checking suite over the real replication core.

use clap::{Parser, Subcommand};
use steadfast_models::suite::{model_names, Profile};

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
        /// Only these models (default: all).
        models: Vec<String>,
    },
    /// List the models and their parameters.
    List,
}

fn main() {
    let cli = Cli::parse();
    match cli.command {
        Command::Check { .. } => {
            if model_names().is_empty() {
                println!("no models yet");
            }
        }
        Command::List => {
            for name in model_names() {
                println!("{name}");
            }
        }
    }
}
