//! One client: a closed loop with one request outstanding, recording the
//! latency of each acknowledged operation.

use super::driver::Driver;
use super::workload::{Op, Workload};
use super::BenchError;
use hdrhistogram::Histogram;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// Pause after a failed operation, so that a node that refuses at once
/// (no leader yet) is not asked in a hot loop.
const AFTER_FAILURE: Duration = Duration::from_millis(10);

/// The slowest latency recorded exactly, in microseconds (a minute); slower
/// ones are recorded as this.
const MAX_LATENCY_US: u64 = 60_000_000;

/// A fresh latency histogram (microseconds, 3 significant digits).
pub(crate) fn histogram() -> Result<Histogram<u64>, BenchError> {
    Histogram::new_with_bounds(1, MAX_LATENCY_US, 3)
        .map_err(|e| BenchError::Histogram(e.to_string()))
}

/// What one client (or, merged, all of them) did.
#[derive(Debug)]
pub(crate) struct Tally {
    /// Latencies of acknowledged writes.
    pub(crate) writes: Histogram<u64>,
    /// Latencies of acknowledged reads.
    pub(crate) reads: Histogram<u64>,
    /// Operations that failed.
    pub(crate) errors: u64,
    /// The first failure, for the report.
    pub(crate) first_error: Option<String>,
}

impl Tally {
    /// Nothing yet.
    pub(crate) fn new() -> Result<Tally, BenchError> {
        Ok(Tally {
            writes: histogram()?,
            reads: histogram()?,
            errors: 0,
            first_error: None,
        })
    }

    /// Add `other`'s counts to these.
    pub(crate) fn merge(&mut self, other: Tally) -> Result<(), BenchError> {
        let merge_error = |e: hdrhistogram::AdditionError| BenchError::Histogram(e.to_string());
        self.writes.add(&other.writes).map_err(merge_error)?;
        self.reads.add(&other.reads).map_err(merge_error)?;
        self.errors += other.errors;
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
        Ok(())
    }
}

/// Issue operations until `deadline`, one at a time.
pub(crate) async fn run_client(
    driver: Arc<Driver>,
    mut workload: Workload,
    deadline: Instant,
) -> Result<Tally, BenchError> {
    let mut tally = Tally::new()?;
    while Instant::now() < deadline {
        let op = workload.next_op();
        let started = Instant::now();
        let outcome = driver.execute(&op).await;
        let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        match outcome {
            Ok(()) => {
                let histogram = match op {
                    Op::Write { .. } => &mut tally.writes,
                    Op::Read { .. } => &mut tally.reads,
                };
                histogram.saturating_record(micros.clamp(1, MAX_LATENCY_US));
            }
            Err(failure) => {
                tally.errors += 1;
                tally.first_error.get_or_insert_with(|| failure.to_string());
                tokio::time::sleep(AFTER_FAILURE).await;
            }
        }
    }
    Ok(tally)
}
