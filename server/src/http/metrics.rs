//! `GET /metrics`: the node's status and request counts, in Prometheus
//! text format (the `prometheus` crate renders it).

use crate::node::Status;
use prometheus::{Encoder, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry, TextEncoder};

/// The node's metrics registry.
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    gauges: IntGaugeVec,
    is_leader: IntGauge,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Metrics {
    /// A fresh registry for one node.
    pub fn new() -> Result<Metrics, prometheus::Error> {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new(
                "steadfast_requests_total",
                "Client requests by operation and outcome",
            ),
            &["op", "outcome"],
        )?;
        let gauges = IntGaugeVec::new(
            Opts::new(
                "steadfast_log_position",
                "Epoch, commit, applied, last and snapshot lsn",
            ),
            &["what"],
        )?;
        let is_leader = IntGauge::new("steadfast_is_leader", "1 on the leader, 0 elsewhere")?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(gauges.clone()))?;
        registry.register(Box::new(is_leader.clone()))?;
        Ok(Metrics {
            registry,
            requests,
            gauges,
            is_leader,
        })
    }

    /// Count one request.
    pub fn count(&self, op: &str, outcome: &str) {
        self.requests.with_label_values(&[op, outcome]).inc();
    }

    /// The text exposition, with the gauges taken from `status`.
    pub fn render(&self, status: &Status) -> String {
        let as_i64 = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        for (what, value) in [
            ("epoch", status.epoch),
            ("commit", status.commit),
            ("applied", status.applied),
            ("last", status.last),
            ("snapshot", status.snapshot),
        ] {
            self.gauges.with_label_values(&[what]).set(as_i64(value));
        }
        self.is_leader.set(i64::from(status.role == "leader"));
        let mut out = Vec::new();
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut out);
        String::from_utf8(out).unwrap_or_default()
    }
}
