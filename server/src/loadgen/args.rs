//! The `bench` flags: which system to drive, where, and with what workload.

use super::BenchError;

/// Which system the load generator drives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Target {
    /// A steadfast cluster through its HTTP/JSON client API
    /// (`PUT /kv/{key}`, `GET /kv/{key}?consistency=…`).
    Steadfast,
    /// An etcd v3 cluster through its HTTP/JSON gateway (`POST /v3/kv/put`,
    /// `POST /v3/kv/range`, keys and values in base64), as served by etcd 3.4.
    Etcd,
}

impl Target {
    /// The name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Target::Steadfast => "steadfast",
            Target::Etcd => "etcd",
        }
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The read consistencies a steadfast node serves (`?consistency=`).
pub const CONSISTENCIES: [&str; 4] = ["linearizable", "lease", "session", "stale"];

/// A closed-loop benchmark: `clients` concurrent clients, each with one
/// request outstanding, for `duration_secs`.
#[derive(Clone, Debug, clap::Args)]
pub struct BenchArgs {
    /// Target: `steadfast` (our HTTP API) or `etcd` (etcd v3's HTTP/JSON
    /// gateway, /v3/kv/put and /v3/kv/range, keys/values base64)
    #[arg(long, value_enum, default_value = "steadfast")]
    pub target: Target,
    /// HTTP endpoints of the cluster's nodes (host:port), comma separated;
    /// requests go to the leader, found by following redirects (steadfast:
    /// 307 Location) or by asking each member (etcd: any member accepts
    /// writes; the leader is preferred)
    #[arg(long, value_delimiter = ',', required = true)]
    pub endpoints: Vec<String>,
    /// Concurrent clients, each with one request outstanding
    #[arg(long, default_value_t = 64)]
    pub clients: usize,
    /// Fraction of operations that are writes (0.0..=1.0)
    #[arg(long, default_value_t = 1.0)]
    pub write_fraction: f64,
    /// Number of distinct keys, chosen uniformly
    #[arg(long, default_value_t = 1000)]
    pub keys: u64,
    /// Bytes per written value
    #[arg(long, default_value_t = 256)]
    pub value_size: usize,
    /// How long to run, in seconds
    #[arg(long, default_value_t = 10)]
    pub duration_secs: u64,
    /// Read consistency for steadfast reads (linearizable, lease, session,
    /// stale); for etcd, `stale` and `session` read serializable, the others
    /// linearizable
    #[arg(long, default_value = "linearizable")]
    pub consistency: String,
    /// Seed of the clients' random choices (client i uses seed + i)
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

impl BenchArgs {
    /// The default workload against `endpoints` of `target`.
    pub fn new(target: Target, endpoints: Vec<String>) -> BenchArgs {
        BenchArgs {
            target,
            endpoints,
            clients: 64,
            write_fraction: 1.0,
            keys: 1000,
            value_size: 256,
            duration_secs: 10,
            consistency: "linearizable".into(),
            seed: 1,
        }
    }

    /// Refuse a workload that cannot run.
    pub fn validate(&self) -> Result<(), BenchError> {
        let invalid = |what: String| Err(BenchError::InvalidArgs(what));
        if self.endpoints.iter().all(|e| e.trim().is_empty()) {
            return invalid("--endpoints names no endpoint".into());
        }
        if self.clients == 0 {
            return invalid("--clients must be at least 1".into());
        }
        if !(0.0..=1.0).contains(&self.write_fraction) {
            return invalid(format!(
                "--write-fraction must be within 0.0..=1.0, not {}",
                self.write_fraction
            ));
        }
        if self.keys == 0 {
            return invalid("--keys must be at least 1".into());
        }
        if self.duration_secs == 0 {
            return invalid("--duration-secs must be at least 1".into());
        }
        if !CONSISTENCIES.contains(&self.consistency.as_str()) {
            return invalid(format!(
                "--consistency must be one of {}, not {:?}",
                CONSISTENCIES.join(", "),
                self.consistency
            ));
        }
        Ok(())
    }

    /// The endpoints as given, trimmed, without empty ones.
    pub(crate) fn endpoint_list(&self) -> Vec<String> {
        self.endpoints
            .iter()
            .map(|e| e.trim().to_owned())
            .filter(|e| !e.is_empty())
            .collect()
    }
}
