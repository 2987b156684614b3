//! What a run measured: counts, throughput and latency percentiles, as a
//! few human lines or one JSON line.

use super::client::{histogram, Tally};
use super::{BenchArgs, BenchError, Target};
use hdrhistogram::Histogram;
use std::time::Duration;

/// The result of one run. Latencies are of acknowledged operations only,
/// in microseconds, from sending the request (redirects included) to the
/// end of the answer.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct BenchReport {
    /// The system driven.
    pub target: Target,
    /// Concurrent clients.
    pub clients: usize,
    /// Bytes per written value.
    pub value_size: usize,
    /// Fraction of operations that were meant to be writes.
    pub write_fraction: f64,
    /// Distinct keys.
    pub keys: u64,
    /// Acknowledged operations (writes + reads).
    pub operations: u64,
    /// Acknowledged writes.
    pub writes: u64,
    /// Acknowledged reads.
    pub reads: u64,
    /// Failed operations (non-2xx after redirects, refused, timed out).
    pub errors: u64,
    /// Wall-clock length of the run, in seconds.
    pub elapsed_secs: f64,
    /// Acknowledged operations per second.
    pub throughput: f64,
    /// Acknowledged writes per second.
    pub write_throughput: f64,
    /// Median latency of all acknowledged operations.
    pub p50_us: u64,
    /// 99th percentile latency of all acknowledged operations.
    pub p99_us: u64,
    /// 99.9th percentile latency of all acknowledged operations.
    pub p999_us: u64,
    /// Slowest acknowledged operation.
    pub max_us: u64,
    /// Median write latency.
    pub write_p50_us: u64,
    /// 99th percentile write latency.
    pub write_p99_us: u64,
    /// 99.9th percentile write latency.
    pub write_p999_us: u64,
    /// The first failure seen, if any.
    pub first_error: Option<String>,
}

/// p50, p99, p99.9 of `h` (zeros when it is empty).
fn percentiles(h: &Histogram<u64>) -> (u64, u64, u64) {
    (
        h.value_at_quantile(0.5),
        h.value_at_quantile(0.99),
        h.value_at_quantile(0.999),
    )
}

impl BenchReport {
    /// The report of a run of `args` that took `elapsed` and did `tally`.
    pub(crate) fn new(
        args: &BenchArgs,
        tally: &Tally,
        elapsed: Duration,
    ) -> Result<BenchReport, BenchError> {
        let mut all = histogram()?;
        for h in [&tally.writes, &tally.reads] {
            all.add(h)
                .map_err(|e| BenchError::Histogram(e.to_string()))?;
        }
        let (p50_us, p99_us, p999_us) = percentiles(&all);
        let (write_p50_us, write_p99_us, write_p999_us) = percentiles(&tally.writes);
        let writes = tally.writes.len();
        let reads = tally.reads.len();
        let secs = elapsed.as_secs_f64();
        let per_second = |n: u64| if secs > 0.0 { n as f64 / secs } else { 0.0 };
        Ok(BenchReport {
            target: args.target,
            clients: args.clients,
            value_size: args.value_size,
            write_fraction: args.write_fraction,
            keys: args.keys,
            operations: writes + reads,
            writes,
            reads,
            errors: tally.errors,
            elapsed_secs: secs,
            throughput: per_second(writes + reads),
            write_throughput: per_second(writes),
            p50_us,
            p99_us,
            p999_us,
            max_us: all.max(),
            write_p50_us,
            write_p99_us,
            write_p999_us,
            first_error: tally.first_error.clone(),
        })
    }

    /// A few lines for people.
    pub fn summary(&self) -> String {
        let mut text = format!(
            "{} with {} clients, {}-byte values, {:.0}% writes over {} keys, {:.1} s\n\
             operations: {} ({} writes, {} reads), errors: {}\n\
             throughput: {:.0} ops/s ({:.0} writes/s)\n\
             latency (all):    p50 {} us, p99 {} us, p99.9 {} us, max {} us\n\
             latency (writes): p50 {} us, p99 {} us, p99.9 {} us",
            self.target,
            self.clients,
            self.value_size,
            self.write_fraction * 100.0,
            self.keys,
            self.elapsed_secs,
            self.operations,
            self.writes,
            self.reads,
            self.errors,
            self.throughput,
            self.write_throughput,
            self.p50_us,
            self.p99_us,
            self.p999_us,
            self.max_us,
            self.write_p50_us,
            self.write_p99_us,
            self.write_p999_us,
        );
        if let Some(error) = &self.first_error {
            text.push_str(&format!("\nfirst error: {error}"));
        }
        text
    }

    /// The report as one line of JSON (the fields above, by name).
    pub fn json_line(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|e| {
            serde_json::json!({ "error": format!("the report could not be serialized: {e}") })
                .to_string()
        })
    }
}
