//! A seeded, lossy, reordering, duplicating network with partitions.

use std::collections::BTreeSet;
use std::time::Duration;
use steadfast::rng::SplitMix64;
use steadfast::types::{Instant, NodeId};
use steadfast::wire::Message;

/// Network fault settings. Probabilities are in parts per thousand.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Faults {
    /// Chance that a message is lost.
    pub drop_per_mille: u32,
    /// Chance that a message is delivered twice.
    pub duplicate_per_mille: u32,
    /// Shortest delivery delay.
    pub min_delay: Duration,
    /// Longest delivery delay (delays are uniform in between, which reorders).
    pub max_delay: Duration,
}

impl Faults {
    /// A reliable network with a fixed 1–5 ms delay.
    pub fn none() -> Faults {
        Faults {
            drop_per_mille: 0,
            duplicate_per_mille: 0,
            min_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(5),
        }
    }

    /// A hostile network: 10% loss, 5% duplication, 1–40 ms delays.
    pub fn hostile() -> Faults {
        Faults {
            drop_per_mille: 100,
            duplicate_per_mille: 50,
            min_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(40),
        }
    }
}

/// A message on its way.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct InFlight {
    /// When it arrives.
    pub deliver_at: Instant,
    /// Tie-breaker: send order.
    pub seq: u64,
    /// Sender.
    pub from: NodeId,
    /// Receiver.
    pub to: NodeId,
    /// Payload.
    pub message: Message,
}

/// The simulated network.
#[derive(Clone, Debug)]
pub struct Network {
    faults: Faults,
    rng: SplitMix64,
    in_flight: Vec<InFlight>,
    blocked: BTreeSet<(NodeId, NodeId)>,
    seq: u64,
}

impl Network {
    /// An empty network.
    pub fn new(faults: Faults, seed: u64) -> Network {
        Network {
            faults,
            rng: SplitMix64::new(seed),
            in_flight: Vec::new(),
            blocked: BTreeSet::new(),
            seq: 0,
        }
    }

    /// Change the fault settings (e.g. stop faults to check liveness).
    pub fn set_faults(&mut self, faults: Faults) {
        self.faults = faults;
    }

    fn delay(&mut self) -> Duration {
        let min = self.faults.min_delay.as_millis() as u64;
        let max = (self.faults.max_delay.as_millis() as u64).max(min);
        Duration::from_millis(min + self.rng.below(max - min + 1))
    }

    /// Hand a message to the network at time `now`.
    pub fn send(&mut self, now: Instant, from: NodeId, to: NodeId, message: Message) {
        if self.blocked.contains(&(from, to)) || self.rng.chance(self.faults.drop_per_mille) {
            return;
        }
        let copies = if self.rng.chance(self.faults.duplicate_per_mille) {
            2
        } else {
            1
        };
        for _ in 0..copies {
            let deliver_at = now + self.delay();
            self.seq += 1;
            self.in_flight.push(InFlight {
                deliver_at,
                seq: self.seq,
                from,
                to,
                message: message.clone(),
            });
        }
    }

    /// When the next message arrives.
    pub fn next_delivery(&self) -> Option<Instant> {
        self.in_flight.iter().map(|m| m.deliver_at).min()
    }

    /// Take the earliest message due at or before `now`, unless its link is
    /// blocked (then it is lost).
    pub fn take_due(&mut self, now: Instant) -> Option<InFlight> {
        loop {
            let (index, _) = self
                .in_flight
                .iter()
                .enumerate()
                .filter(|(_, m)| m.deliver_at <= now)
                .min_by_key(|(_, m)| (m.deliver_at, m.seq))?;
            let message = self.in_flight.swap_remove(index);
            if !self.blocked.contains(&(message.from, message.to)) {
                return Some(message);
            }
        }
    }

    /// Cut the links between `a` and `b`, both ways.
    pub fn cut(&mut self, a: NodeId, b: NodeId) {
        self.blocked.insert((a, b));
        self.blocked.insert((b, a));
    }

    /// Restore every link.
    pub fn heal(&mut self) {
        self.blocked.clear();
    }

    /// Drop everything addressed to `node` (it crashed).
    pub fn drop_to(&mut self, node: NodeId) {
        self.in_flight.retain(|m| m.to != node);
    }

    /// Messages currently in flight.
    pub fn in_flight(&self) -> &[InFlight] {
        &self.in_flight
    }
}
