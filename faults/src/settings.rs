//! What a run is asked to do: the command-line flags, checked.

use crate::schedule::{Plan, Profile};
use std::path::PathBuf;
use steadfast::{Durability, ElectionQuorum};

/// The flags of a run.
#[derive(Clone, Debug, clap::Args)]
pub struct Settings {
    /// `ci` (every kind of fault, about 90 s), `long` (many leader kills)
    /// or `short` (the targeted anomaly fault and a leader kill).
    #[arg(long, value_enum, default_value = "ci")]
    pub profile: Profile,
    /// `async`, `semisync:K`, `quorum` or `all`.
    #[arg(long, default_value = "quorum")]
    pub durability: String,
    /// `majority` or `flexible`.
    #[arg(long, default_value = "majority")]
    pub election_quorum: String,
    /// Voters (3 or 5).
    #[arg(long, default_value_t = 3)]
    pub nodes: u64,
    /// The schedule's seed (default: from the clock; printed either way).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Turn lease reads on with this clock drift bound; register reads
    /// then use `consistency=lease`.
    #[arg(long)]
    pub lease_max_drift_ms: Option<u64>,
    /// Lease mode: in the stale-lease step, run the old leader's clock slow
    /// far past the drift bound (implies lease reads, 50 ms by default).
    #[arg(long)]
    pub skew: bool,
    /// The output directory (default `faults-report/<profile>-<durability>-<seed>`).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Fail unless the anomaly the configuration allows is found: a lost
    /// acknowledged write under `async`, a non-linearizable lease read
    /// under `--skew`.
    #[arg(long)]
    pub expect_anomaly: bool,
    /// Leader kills in the `long` profile.
    #[arg(long, default_value_t = 100)]
    pub leader_kills: usize,
    /// Keep the nodes' data directories (under the output directory).
    #[arg(long)]
    pub keep_data: bool,
    /// Record no traces. By default every node records its calls into its
    /// replica, and after the run each recording is replayed and the run
    /// checked against the verified model.
    #[arg(long)]
    pub no_trace: bool,
    /// Check this many steps of the recorded run against the model (each
    /// step costs in proportion to the logs, so a `long` run's traces are
    /// checked in part; every trace is still replayed in full).
    #[arg(long, default_value_t = 30_000)]
    pub conformance_steps: usize,
}

/// Flags that do not make a run.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SettingsError(String);

/// The settings, checked.
#[derive(Clone, Debug)]
pub struct Checked {
    /// The flags.
    pub settings: Settings,
    /// The durability policy.
    pub durability: Durability,
    /// The election rule.
    pub election_quorum: ElectionQuorum,
    /// The seed.
    pub seed: u64,
    /// The lease drift bound, if lease reads are on.
    pub lease_drift_ms: Option<u64>,
    /// The output directory.
    pub out: PathBuf,
    /// Where the nodes record their traces, if they do.
    pub traces: Option<PathBuf>,
}

impl Settings {
    /// Check the flags; pick the seed and output directory.
    pub fn check(&self) -> Result<Checked, SettingsError> {
        let durability = steadfast_server::config::parse_durability(&self.durability)
            .map_err(|e| SettingsError(e.to_string()))?;
        let election_quorum = steadfast_server::config::parse_quorum(&self.election_quorum)
            .map_err(|e| SettingsError(e.to_string()))?;
        if !(3..=7).contains(&self.nodes) {
            return Err(SettingsError(format!(
                "--nodes {}: expected 3 to 7 (3 or 5 are the tested sizes)",
                self.nodes
            )));
        }
        if let Durability::SemiSync { k } = durability {
            if u64::try_from(k).unwrap_or(u64::MAX) >= self.nodes {
                return Err(SettingsError(format!(
                    "semisync:{k} needs more than {k} followers; --nodes is {}",
                    self.nodes
                )));
            }
        }
        let lease_drift_ms = match (self.lease_max_drift_ms, self.skew) {
            (Some(ms), _) => Some(ms),
            (None, true) => Some(50),
            (None, false) => None,
        };
        if lease_drift_ms.is_some_and(|ms| ms >= 300) {
            return Err(SettingsError(
                "--lease-max-drift-ms must be below the election timeout's minimum (300 ms)".into(),
            ));
        }
        let seed = self.seed.unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_secs())
        });
        let out = self.out.clone().unwrap_or_else(|| {
            PathBuf::from("faults-report").join(
                format!(
                    "{:?}-{}-{seed}",
                    self.profile,
                    self.durability.replace(':', "")
                )
                .to_lowercase(),
            )
        });
        let voters = usize::try_from(self.nodes).unwrap_or(usize::MAX);
        if self.expect_anomaly
            && durability.survives_failover(voters, election_quorum)
            && !self.skew
        {
            return Err(SettingsError(
                "--expect-anomaly needs a configuration that allows one: a durability whose commit quorum a (majority) election quorum can miss, such as async, or --skew".into(),
            ));
        }
        let traces = if !self.no_trace {
            // Absolute: the nodes run in their own working directories.
            let dir = std::path::absolute(out.join("traces"))
                .map_err(|e| SettingsError(format!("{}: {e}", out.display())))?;
            Some(dir)
        } else {
            None
        };
        Ok(Checked {
            settings: self.clone(),
            durability,
            election_quorum,
            seed,
            lease_drift_ms,
            out,
            traces,
        })
    }
}

impl Checked {
    /// The schedule's plan.
    pub fn plan(&self) -> Plan {
        Plan {
            profile: self.settings.profile,
            leader_kills: self.settings.leader_kills,
            lease_drift_ms: self.lease_drift_ms,
        }
    }

    /// Whether the configuration promises that no acknowledged write is
    /// lost, that leader reads and writes are linearizable and that
    /// sessions keep their guarantees: every election quorum intersects
    /// every commit quorum (`quorum`, `all`, a `semisync:K` whose K + 1 is a
    /// majority, or any policy with `flexible` elections, which grow the
    /// election quorum until it does). A skewed lease gives up
    /// linearizability only.
    pub fn promises_durability(&self) -> bool {
        let voters = usize::try_from(self.settings.nodes).unwrap_or(usize::MAX);
        self.durability
            .survives_failover(voters, self.election_quorum)
    }

    /// The flags every node is started with.
    pub fn node_flags(&self) -> Vec<String> {
        let mut flags = vec![
            "--durability".to_owned(),
            self.settings.durability.clone(),
            "--election-quorum".to_owned(),
            self.settings.election_quorum.clone(),
            "--heartbeat-ms".to_owned(),
            "50".to_owned(),
            "--election-timeout-ms".to_owned(),
            "300..600".to_owned(),
            // Snapshots and compaction happen during a run, and a new
            // member may be sent one.
            "--snapshot-every".to_owned(),
            "2000".to_owned(),
            "--snapshot-retain".to_owned(),
            "500".to_owned(),
        ];
        if let Some(dir) = &self.traces {
            flags.extend(["--trace-dir".to_owned(), dir.display().to_string()]);
        }
        if let Some(ms) = self.lease_drift_ms {
            flags.extend([
                "--lease-max-drift-ms".to_owned(),
                ms.to_string(),
                "--clock-control".to_owned(),
            ]);
        }
        flags
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        settings: Settings,
    }

    fn checked(args: &[&str]) -> Result<Checked, SettingsError> {
        let mut argv = vec!["steadfast-faults"];
        argv.extend_from_slice(args);
        Cli::parse_from(argv).settings.check()
    }

    #[test]
    fn what_is_promised_follows_the_durability() {
        assert!(checked(&[]).unwrap().promises_durability());
        assert!(!checked(&["--durability", "async"])
            .unwrap()
            .promises_durability());
        assert!(checked(&["--durability", "semisync:1"])
            .unwrap()
            .promises_durability());
        assert!(!checked(&["--durability", "semisync:1", "--nodes", "5"])
            .unwrap()
            .promises_durability());
        assert!(checked(&["--durability", "all"])
            .unwrap()
            .promises_durability());
        // Flexible elections grow until they meet every commit quorum: even
        // async then loses nothing to a failover, and no anomaly is expected.
        for durability in ["async", "semisync:1", "quorum"] {
            for nodes in ["3", "5"] {
                let args = ["--durability", durability, "--nodes", nodes];
                let flexible = [&args[..], &["--election-quorum", "flexible"]].concat();
                assert!(checked(&flexible).unwrap().promises_durability());
                let expecting = [&flexible[..], &["--expect-anomaly"]].concat();
                assert!(checked(&expecting).is_err());
            }
        }
        assert!(checked(&["--durability", "async", "--expect-anomaly"]).is_ok());
    }

    #[test]
    fn skew_implies_lease_reads_and_bad_flags_are_refused() {
        let skewed = checked(&["--skew", "--seed", "4"]).unwrap();
        assert_eq!(skewed.lease_drift_ms, Some(50));
        assert!(skewed.node_flags().contains(&"--clock-control".to_owned()));
        assert_eq!(skewed.seed, 4);
        assert!(checked(&["--nodes", "2"]).is_err());
        assert!(checked(&["--durability", "sometimes"]).is_err());
        assert!(checked(&["--durability", "semisync:3"]).is_err());
        assert!(checked(&["--expect-anomaly"]).is_err());
        assert!(checked(&["--lease-max-drift-ms", "400"]).is_err());
    }
}
