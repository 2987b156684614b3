//! Why a benchmark could not run.

/// Why a benchmark could not run. Failed requests during the run are not
/// errors: they are counted in the report.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// A flag is out of range.
    #[error("invalid benchmark settings: {0}")]
    InvalidArgs(String),
    /// The HTTP client could not be built.
    #[error("cannot build the HTTP client: {0}")]
    Client(#[source] reqwest::Error),
    /// No endpoint gave any HTTP answer before the probe gave up.
    #[error(
        "no endpoint answered within {secs} s: {endpoints} (is the {target} cluster running?)"
    )]
    Unreachable {
        /// The endpoints tried, comma separated.
        endpoints: String,
        /// The target's name.
        target: String,
        /// How long the probe tried.
        secs: u64,
    },
    /// The latency histogram refused its bounds or a merge.
    #[error("latency histogram: {0}")]
    Histogram(String),
    /// A client task panicked or was cancelled.
    #[error("a client task failed: {0}")]
    ClientTask(String),
}
