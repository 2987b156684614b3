//! Safety properties evaluated while a simulated cluster runs.

use std::collections::BTreeMap;
use std::fmt;
use steadfast::entry::{Entry, RequestId};
use steadfast::replica::Replica;
use steadfast::types::{Epoch, Instant, Lsn, NodeId, Position};

/// A safety property, named as in the design document.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Property {
    /// At most one leader per epoch.
    ElectionSafety,
    /// Same `(epoch, lsn)` in two logs implies identical prefixes.
    LogMatching,
    /// Every acknowledged write is in every later leader's log.
    NoLostAckedWrites,
    /// No two replicas apply different entries at one lsn.
    StateMachineSafety,
    /// Truncation never removes a committed entry.
    CommittedNeverTruncated,
    /// A session's read shows every write the session had acknowledged.
    ReadYourWrites,
    /// A session's read shows everything its previous read showed.
    MonotonicReads,
    /// A read shows a gapless prefix of one log, in log order.
    ConsistentPrefix,
    /// A linearizable (leader) read shows every write acknowledged anywhere
    /// before the read was asked for; and no replica still holds a read
    /// lease (by its own clock) when another is elected.
    Linearizable,
    /// The core asked its host only for what the contract allows (see
    /// [`HostError`](crate::host::HostError)).
    HostContract,
    /// Every replica's own invariants hold after every input
    /// ([`Replica::check_invariants`](steadfast::Replica::check_invariants)).
    ReplicaInvariants,
}

/// A property found violated, with when and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// Which property.
    pub property: Property,
    /// Simulated time.
    pub at: Instant,
    /// What was seen.
    pub detail: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:?} violated at {}: {}",
            self.property, self.at, self.detail
        )
    }
}

/// What the checker remembers across steps.
#[derive(Clone, Debug, Default)]
pub struct History {
    /// The leader elected in each epoch.
    pub leaders: BTreeMap<Epoch, NodeId>,
    /// The entry applied at each lsn (first applier wins).
    pub applied: BTreeMap<Lsn, Entry>,
    /// Acknowledged writes and where they were committed.
    pub acked: BTreeMap<RequestId, Position>,
    /// Every violation seen, in order.
    pub violations: Vec<Violation>,
    /// How many served reads were checked.
    pub reads_checked: usize,
}

impl History {
    pub(crate) fn violate(&mut self, property: Property, at: Instant, detail: String) {
        self.violations.push(Violation {
            property,
            at,
            detail,
        });
    }

    /// `node` became leader of `epoch` with `replica`'s log.
    pub fn on_leader(&mut self, at: Instant, node: NodeId, epoch: Epoch, replica: &Replica) {
        if let Some(&other) = self.leaders.get(&epoch) {
            if other != node {
                self.violate(
                    Property::ElectionSafety,
                    at,
                    format!("{other} and {node} both lead epoch {epoch}"),
                );
            }
        } else {
            self.leaders.insert(epoch, node);
        }
        let missing: Vec<String> = self
            .acked
            .iter()
            .filter(|(_, p)| p.epoch < epoch && !log_contains(replica, **p))
            .map(|(r, p)| format!("request {} at {p}", r.0))
            .collect();
        if !missing.is_empty() {
            self.violate(
                Property::NoLostAckedWrites,
                at,
                format!(
                    "new leader {node} of {epoch} lacks acknowledged {}",
                    missing.join(", ")
                ),
            );
        }
    }

    /// `node` applied `entries`.
    pub fn on_apply(&mut self, at: Instant, node: NodeId, entries: &[Entry]) {
        for entry in entries {
            match self.applied.get(&entry.lsn) {
                Some(first) if first != entry => {
                    let detail = format!(
                        "{node} applied {} at lsn {}, another replica applied {}",
                        entry.position(),
                        entry.lsn,
                        first.position()
                    );
                    self.violate(Property::StateMachineSafety, at, detail);
                }
                Some(_) => {}
                None => {
                    self.applied.insert(entry.lsn, entry.clone());
                }
            }
        }
    }

    /// `node` truncated `discarded`.
    pub fn on_truncate(&mut self, at: Instant, node: NodeId, discarded: &[Entry]) {
        for entry in discarded {
            if self.applied.get(&entry.lsn) == Some(entry) {
                self.violate(
                    Property::CommittedNeverTruncated,
                    at,
                    format!("{node} truncated committed entry {}", entry.position()),
                );
            }
        }
    }

    /// The write `request` was acknowledged at `position`.
    pub fn on_ack(&mut self, request: RequestId, position: Position) {
        self.acked.insert(request, position);
    }

    /// Compare every pair of logs.
    pub fn check_log_matching<'a>(
        &mut self,
        at: Instant,
        replicas: impl Iterator<Item = &'a Replica> + Clone,
    ) {
        let all: Vec<&Replica> = replicas.collect();
        for (i, a) in all.iter().enumerate() {
            for b in all.iter().skip(i + 1) {
                if let Some(detail) = log_mismatch(a, b) {
                    self.violate(Property::LogMatching, at, detail);
                }
            }
        }
    }

    /// The first violation of `property`, if any.
    pub fn first(&self, property: Property) -> Option<&Violation> {
        self.violations.iter().find(|v| v.property == property)
    }
}

/// True when `replica`'s log holds `position`. Entries inside a snapshot
/// (below the log start) count as held: they were committed and applied
/// there, and `StateMachineSafety` checks what snapshots contain.
fn log_contains(replica: &Replica, position: Position) -> bool {
    let start = replica.log_start();
    if position.lsn < start.lsn {
        return true;
    }
    if position.lsn == start.lsn {
        return start == position;
    }
    replica.entry(position.lsn).map(Entry::position) == Some(position)
}

/// Where the logs of two replicas break the log-matching property (the
/// same `(epoch, lsn)` in both, but different entries at or before it), if
/// they do. Compared over the entries both retain, so compacted logs are
/// fine. Shared by the harness, the fuzz targets and the stateright models.
pub fn log_mismatch(a: &Replica, b: &Replica) -> Option<String> {
    let low = a.log_start().lsn.max(b.log_start().lsn).0 + 1;
    let high = a.last().lsn.min(b.last().lsn).0;
    let same_epoch = |l: u64| match (a.entry(Lsn(l)), b.entry(Lsn(l))) {
        (Some(x), Some(y)) => x.epoch == y.epoch,
        _ => false,
    };
    // Highest lsn at which both hold an entry of the same epoch.
    let top = (low..=high).rev().find(|&l| same_epoch(l))?;
    let first_diff = (low..=top).find(|&l| a.entry(Lsn(l)) != b.entry(Lsn(l)))?;
    Some(format!(
        "{} and {} share {} but differ at lsn {}",
        a.id(),
        b.id(),
        a.entry(Lsn(top)).map(Entry::position).unwrap_or_default(),
        first_diff
    ))
}

#[cfg(test)]
mod tests {
    use super::log_mismatch;
    use crate::builders::log_of_epochs;
    use steadfast::config::Config;
    use steadfast::entry::{EntryKind, HardState};
    use steadfast::replica::{Durable, Replica};
    use steadfast::types::{Epoch, Instant, NodeId};

    /// A replica holding one entry per epoch in `epochs`, from lsn 1, with
    /// the hard state of its last epoch (as a correct host would).
    fn replica(id: u64, epochs: &[u64]) -> Replica {
        let config = Config::new(NodeId(id), [1, 2, 3].map(NodeId));
        let durable = Durable {
            hard_state: HardState {
                epoch: Epoch(epochs.iter().copied().max().unwrap_or(0)),
                voted_for: None,
            },
            log: log_of_epochs(epochs),
            ..Durable::default()
        };
        Replica::restart(config, durable, Instant(0)).expect("valid test replica")
    }

    #[test]
    fn log_matching_compares_prefixes_up_to_the_last_shared_position() {
        assert_eq!(
            log_mismatch(&replica(1, &[1, 1, 2]), &replica(2, &[1, 1, 3])),
            None
        );
        assert_eq!(
            log_mismatch(&replica(1, &[1, 1]), &replica(2, &[1, 1, 2])),
            None
        );
        let honest = replica(2, &[1, 2]);
        let mut forged = Durable {
            hard_state: honest.hard_state(),
            log: honest.entries().to_vec(),
            ..Durable::default()
        };
        forged.log[0].kind = EntryKind::Noop;
        let forged = Replica::restart(
            Config::new(NodeId(1), [1, 2, 3].map(NodeId)),
            forged,
            Instant(0),
        )
        .expect("valid test replica");
        let found = log_mismatch(&forged, &honest).expect("the forged prefix is found");
        assert!(found.contains("differ at lsn 1"), "{found}");
    }
}
