//! The load generator behind `steadfast-server bench`: closed-loop clients
//! against a steadfast cluster (its HTTP API) or an etcd cluster (etcd v3's
//! HTTP/JSON gateway), for a side-by-side comparison
//! (`server/scripts/compare-etcd.sh`).
//!
//! [`run_bench`] first asks the endpoints who leads (an error only if none
//! answers anything), then runs `clients` tokio tasks until the duration is
//! over, each with one request outstanding: it picks write or read and a
//! key uniformly with its own seeded RNG, sends the request through one
//! shared keep-alive connection pool, follows a steadfast `307` to the
//! leader (and sends there from then on), and records the latency of each
//! acknowledged operation in an HDR histogram. A failed operation (non-2xx,
//! refused, timed out after 5 s) is counted, and the clients move to the
//! next endpoint when a node does not answer or answers 5xx.
//!
//! ```no_run
//! # async fn example() -> Result<(), steadfast_server::loadgen::BenchError> {
//! use steadfast_server::loadgen::{run_bench, BenchArgs, Target};
//! let mut args = BenchArgs::new(Target::Steadfast, vec!["127.0.0.1:8001".into()]);
//! args.duration_secs = 5;
//! let report = run_bench(&args).await?;
//! println!("{}", report.summary());
//! println!("{}", report.json_line());
//! # Ok(())
//! # }
//! ```

mod args;
mod client;
mod driver;
mod endpoints;
mod error;
mod probe;
mod report;
mod workload;

#[cfg(test)]
mod tests;

pub use args::{BenchArgs, Target, CONSISTENCIES};
pub use error::BenchError;
pub use report::BenchReport;

use client::{run_client, Tally};
use driver::Driver;
use endpoints::Endpoints;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinSet;
use tokio::time::Instant;
use workload::Workload;

/// How long one request may take before it counts as failed.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// How long the endpoints are given to answer anything before the run.
pub const PROBE_WINDOW: Duration = Duration::from_secs(5);

/// Run the benchmark `args` describes and report what it measured.
pub async fn run_bench(args: &BenchArgs) -> Result<BenchReport, BenchError> {
    run_bench_probing(args, PROBE_WINDOW).await
}

/// [`run_bench`], giving the endpoints `probe_window` to answer.
pub(crate) async fn run_bench_probing(
    args: &BenchArgs,
    probe_window: Duration,
) -> Result<BenchReport, BenchError> {
    args.validate()?;
    let endpoints = args.endpoint_list();
    let http = http_client(args.clients)?;
    let start = probe::find_start(&http, args.target, &endpoints, probe_window).await?;
    let driver = Arc::new(Driver::new(http, args, Endpoints::new(endpoints, start)));
    let started = Instant::now();
    let deadline = started + Duration::from_secs(args.duration_secs);
    let mut clients = JoinSet::new();
    for client in 0..args.clients {
        clients.spawn(run_client(
            driver.clone(),
            Workload::new(args, client),
            deadline,
        ));
    }
    let mut tally = Tally::new()?;
    while let Some(done) = clients.join_next().await {
        let client = done.map_err(|e| BenchError::ClientTask(e.to_string()))??;
        tally.merge(client)?;
    }
    BenchReport::new(args, &tally, started.elapsed())
}

/// One client shared by every task: a keep-alive pool of up to `clients`
/// idle connections per node, no automatic redirects (the driver follows
/// them to learn the leader).
fn http_client(clients: usize) -> Result<reqwest::Client, BenchError> {
    reqwest::Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .connect_timeout(Duration::from_secs(1))
        .pool_max_idle_per_host(clients)
        .tcp_nodelay(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(BenchError::Client)
}
