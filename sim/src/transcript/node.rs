//! One node of a transcript: a real [`Replica`], its reference host
//! storage ([`MemStorage`]) and its own manual clock; and the options every
//! node of a transcript is configured with.

use crate::host::{MemStorage, Persistence};
use std::collections::BTreeSet;
use std::time::Duration;
use steadfast::{Config, Durability, Instant, NodeId, Replica};

use super::args::Args;

/// A node: the replica (none while crashed), its storage, its clock.
#[derive(Clone, Debug)]
pub(crate) struct Node {
    /// The configuration it was started (and restarts) with.
    pub config: Config,
    /// The running replica, `None` while crashed.
    pub replica: Option<Replica>,
    /// The reference host's storage: survives a crash.
    pub storage: MemStorage,
    /// This node's local time; only verbs move it.
    pub clock: Instant,
}

impl Node {
    /// A brand-new node with an empty log.
    pub fn start(config: Config, persistence: Persistence) -> Result<Node, String> {
        let replica = Replica::new(config.clone(), Instant(0)).map_err(|e| e.to_string())?;
        Ok(Node {
            config,
            replica: Some(replica),
            storage: MemStorage::new(persistence),
            clock: Instant(0),
        })
    }
}

/// Check the replica's own invariants after an input: a transcript that
/// drives a replica into a state its invariants forbid fails loudly.
pub(crate) fn check(replica: &Replica) {
    if let Err(violation) = replica.check_invariants() {
        panic!("{} broke an invariant: {violation}", replica.id());
    }
}

/// How `add-nodes` configures nodes (and `add-learner` the nodes it adds).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Options {
    durability: Durability,
    pre_vote: bool,
    check_quorum: bool,
    lease: Option<u64>,
    retain: Option<u64>,
    chunk: Option<usize>,
    max_entries: Option<usize>,
    in_flight: Option<usize>,
    seed: u64,
    /// When log writes become durable (`storage=immediate|deferred`).
    pub persistence: Persistence,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            durability: Durability::Quorum,
            pre_vote: true,
            check_quorum: true,
            lease: None,
            retain: None,
            chunk: None,
            max_entries: None,
            in_flight: None,
            seed: 0,
            persistence: Persistence::Immediate,
        }
    }
}

impl Options {
    /// Read the options of `add-nodes` (every one optional).
    pub fn take(args: &mut Args) -> Result<Options, String> {
        let d = Options::default();
        let durability = match args.opt::<String>("durability")? {
            None => d.durability,
            Some(text) => parse_durability(&text)?,
        };
        Ok(Options {
            durability,
            pre_vote: args.opt_or("pre-vote", d.pre_vote)?,
            check_quorum: args.opt_or("check-quorum", d.check_quorum)?,
            lease: args.opt("lease")?,
            retain: args.opt("retain")?,
            chunk: args.opt("chunk")?,
            max_entries: args.opt("max-entries")?,
            in_flight: args.opt("in-flight")?,
            seed: args.opt_or("seed", d.seed)?,
            persistence: match args.opt::<String>("storage")?.as_deref() {
                None | Some("immediate") => Persistence::Immediate,
                Some("deferred") => Persistence::Deferred,
                Some(other) => {
                    return Err(format!("unknown storage {other}: immediate or deferred"))
                }
            },
        })
    }

    /// The configuration of node `id` in a cluster of these members.
    pub fn config(
        &self,
        id: NodeId,
        voters: &BTreeSet<NodeId>,
        learners: &BTreeSet<NodeId>,
    ) -> Config {
        let mut config = Config::new(id, voters.iter().copied())
            .with_learners(learners.iter().copied())
            .with_durability(self.durability)
            .with_seed(self.seed);
        config.pre_vote = self.pre_vote;
        config.check_quorum = self.check_quorum;
        if let Some(ms) = self.lease {
            config = config.with_lease_reads(Duration::from_millis(ms));
        }
        if let Some(retain) = self.retain {
            config.snapshot_retain_entries = retain;
        }
        if let Some(chunk) = self.chunk {
            config.max_snapshot_chunk_bytes = chunk;
        }
        if let Some(max) = self.max_entries {
            config.max_entries_per_message = max;
        }
        if let Some(max) = self.in_flight {
            config.max_entries_in_flight = max;
        }
        config
    }

    /// One line naming the options that shape the story.
    pub fn describe(&self) -> String {
        let mut text = format!(
            "durability={:?} pre-vote={} check-quorum={}",
            self.durability, self.pre_vote, self.check_quorum
        );
        let extra = [
            ("lease", self.lease.map(|v| v.to_string())),
            ("retain", self.retain.map(|v| v.to_string())),
            ("chunk", self.chunk.map(|v| v.to_string())),
            ("max-entries", self.max_entries.map(|v| v.to_string())),
            ("in-flight", self.in_flight.map(|v| v.to_string())),
            (
                "storage",
                (self.persistence == Persistence::Deferred).then(|| "deferred".to_string()),
            ),
        ];
        for (name, value) in extra {
            if let Some(value) = value {
                text.push_str(&format!(" {name}={value}"));
            }
        }
        text
    }
}

/// `quorum`, `async`, `all` or `semi-sync-K`.
fn parse_durability(text: &str) -> Result<Durability, String> {
    match text {
        "quorum" => Ok(Durability::Quorum),
        "async" => Ok(Durability::Async),
        "all" => Ok(Durability::All),
        _ => text
            .strip_prefix("semi-sync-")
            .and_then(|k| k.parse().ok())
            .map(|k| Durability::SemiSync { k })
            .ok_or_else(|| format!("unknown durability {text}: quorum, async, all or semi-sync-K")),
    }
}
