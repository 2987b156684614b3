//! The fault schedule: a list of steps generated from a seed, the same
//! list for the same seed and plan. Nodes are named relative to the
//! cluster as it stands when a step runs (the leader, the `pick`-th
//! follower), so a schedule stays meaningful across failovers.
//!
//! Shape: each step injects one fault, holds it for `hold_ms`, then heals
//! it (restart, resume, heal the network, undo the skew) and waits for the
//! cluster to recover (a leader every node follows, logs applied) before
//! the next step, so the run is never simply unavailable.

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde::Serialize;

/// How much a run does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Profile {
    /// Every kind of fault once or twice (at least 2 leader kills, a pause,
    /// partitions, a torn tail, a transfer, a membership change): about
    /// 90 s.
    Ci,
    /// Many leader kills (100 by default) with pauses, partitions, follower
    /// kills and transfers between them.
    Long,
    /// The targeted anomaly fault and a leader kill: about 20 s (CI's
    /// expected-anomaly runs).
    Short,
}

/// A partition made with the proxies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "shape", rename_all = "snake_case")]
pub enum PartitionShape {
    /// The leader alone (connections cut) from the majority.
    LeaderMinority,
    /// A follower alone (connections cut) from the rest.
    FollowerMinority {
        /// Which follower.
        pick: u32,
    },
    /// Two sides that do not hear each other (frames dropped), and one
    /// follower (the bridge) that hears both.
    Bridge {
        /// Which follower is the bridge.
        pick: u32,
    },
    /// Frames dropped one way only, between the leader and a follower.
    OneWay {
        /// Which follower.
        pick: u32,
        /// Leader → follower dropped (else follower → leader).
        from_leader: bool,
    },
    /// A slow link: frames between the leader and a follower delayed both
    /// ways (order kept).
    Slow {
        /// Which follower.
        pick: u32,
        /// The delay in milliseconds.
        ms: u64,
    },
}

/// One fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Fault {
    /// `kill -9` the leader; restart it after the hold (with its WAL's
    /// WAL tail torn first, if `torn`: see `torn`).
    KillLeader {
        /// Tear the WAL tail before the restart.
        torn: bool,
    },
    /// `kill -9` a follower; restart it after the hold.
    KillFollower {
        /// Which follower.
        pick: u32,
        /// Tear the WAL tail before the restart.
        torn: bool,
    },
    /// `SIGSTOP` a node for longer than the election timeout, then
    /// `SIGCONT`.
    Pause {
        /// The leader (else a follower).
        leader: bool,
        /// Which follower.
        pick: u32,
    },
    /// A partition, healed after the hold.
    Partition {
        /// Its shape.
        shape: PartitionShape,
    },
    /// `POST /cluster/transfer/{follower}` on the leader.
    Transfer {
        /// Which follower.
        pick: u32,
    },
    /// A new node joins as a learner and is promoted, then a follower is
    /// removed (the voter count is back to the configured size).
    Membership {
        /// Which follower is removed.
        pick: u32,
    },
    /// Shift a node's clock by `ms` at run time, within the lease's drift
    /// bound (lease mode only), undone after the hold.
    ClockSkew {
        /// Which follower (the leader if `pick` is 0).
        pick: u32,
        /// The shift.
        ms: i64,
    },
    /// Cut the leader off from every peer, keep writing to it (`adds` set
    /// adds sent to it directly), let the others elect, kill it, heal,
    /// restart it. Under `Async` the adds it acknowledged are lost.
    IsolateLeaderAndWrite {
        /// How many adds are sent to the isolated leader.
        adds: u32,
    },
    /// Lease mode: write a register through the leader, cut it off, (with
    /// `--skew`: make its clock run slow, past the drift bound), let the
    /// others elect and overwrite the register, then read it from the old
    /// leader with `consistency=lease`. Only a skew past the bound makes
    /// that read stale.
    StaleLeaseRead,
}

/// One step: a fault and how long it is held before it is healed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Step {
    /// The fault.
    pub fault: Fault,
    /// How long it is held, in milliseconds.
    pub hold_ms: u64,
}

/// What the schedule is generated for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Plan {
    /// The profile.
    pub profile: Profile,
    /// Leader kills in the `long` profile.
    pub leader_kills: usize,
    /// Lease reads are on (with this drift bound, in milliseconds).
    pub lease_drift_ms: Option<u64>,
}

/// The steps for `plan`, from `seed`.
pub fn generate(plan: &Plan, seed: u64) -> Vec<Step> {
    let mut rng = StdRng::seed_from_u64(seed);
    match plan.profile {
        Profile::Ci => ci(plan, &mut rng),
        Profile::Long => long(plan, &mut rng),
        Profile::Short => short(plan, &mut rng),
    }
}

fn pick(rng: &mut StdRng) -> u32 {
    rng.random_range(0..64)
}

fn hold(rng: &mut StdRng, min: u64, max: u64) -> u64 {
    rng.random_range(min..=max)
}

/// A hold longer than the election timeout (300..600 ms).
fn pause_hold(rng: &mut StdRng) -> u64 {
    hold(rng, 1000, 1600)
}

fn step(fault: Fault, hold_ms: u64) -> Step {
    Step { fault, hold_ms }
}

fn ci(plan: &Plan, rng: &mut StdRng) -> Vec<Step> {
    let mut faults = vec![
        step(Fault::KillLeader { torn: false }, hold(rng, 800, 1500)),
        step(Fault::KillLeader { torn: true }, hold(rng, 800, 1500)),
        step(
            Fault::KillFollower {
                pick: pick(rng),
                torn: true,
            },
            hold(rng, 500, 1000),
        ),
        step(
            Fault::Pause {
                leader: true,
                pick: 0,
            },
            pause_hold(rng),
        ),
        step(
            Fault::Pause {
                leader: false,
                pick: pick(rng),
            },
            pause_hold(rng),
        ),
        step(
            Fault::Partition {
                shape: PartitionShape::LeaderMinority,
            },
            hold(rng, 1500, 2500),
        ),
        step(
            Fault::Partition {
                shape: PartitionShape::Bridge { pick: pick(rng) },
            },
            hold(rng, 1500, 2500),
        ),
        step(
            Fault::Partition {
                shape: PartitionShape::OneWay {
                    pick: pick(rng),
                    from_leader: rng.random_bool(0.5),
                },
            },
            hold(rng, 1500, 2500),
        ),
        step(
            Fault::Partition {
                shape: PartitionShape::Slow {
                    pick: pick(rng),
                    ms: rng.random_range(50..=400),
                },
            },
            hold(rng, 1500, 2500),
        ),
        step(Fault::Transfer { pick: pick(rng) }, 500),
        step(Fault::IsolateLeaderAndWrite { adds: 8 }, 1500),
    ];
    if let Some(drift) = plan.lease_drift_ms {
        faults.push(step(lease_skew(rng, drift), hold(rng, 1000, 2000)));
        faults.push(step(Fault::StaleLeaseRead, 0));
    }
    faults.shuffle(rng);
    // The membership change last: the conformance check of the recorded
    // traces stops there (the model has fixed voters), so every other
    // fault comes before it.
    faults.push(step(Fault::Membership { pick: pick(rng) }, 0));
    faults
}

/// A clock shift within the drift bound: at most half of it.
fn lease_skew(rng: &mut StdRng, drift_ms: u64) -> Fault {
    let half = i64::try_from(drift_ms / 2).unwrap_or(0).max(1);
    Fault::ClockSkew {
        pick: rng.random_range(0..4),
        ms: rng.random_range(-half..=half),
    }
}

fn short(plan: &Plan, rng: &mut StdRng) -> Vec<Step> {
    let targeted = if plan.lease_drift_ms.is_some() {
        step(Fault::StaleLeaseRead, 0)
    } else {
        step(Fault::IsolateLeaderAndWrite { adds: 8 }, 1500)
    };
    vec![
        targeted,
        step(Fault::KillLeader { torn: false }, hold(rng, 800, 1200)),
    ]
}

fn long(plan: &Plan, rng: &mut StdRng) -> Vec<Step> {
    let mut steps = Vec::new();
    for kill in 0..plan.leader_kills {
        steps.push(step(
            Fault::KillLeader {
                torn: rng.random_bool(0.2),
            },
            hold(rng, 600, 1200),
        ));
        if kill % 25 == 24 {
            steps.push(step(Fault::Membership { pick: pick(rng) }, 0));
        }
        if rng.random_bool(0.5) {
            let other = match rng.random_range(0..7) {
                0 => step(
                    Fault::Pause {
                        leader: rng.random_bool(0.5),
                        pick: pick(rng),
                    },
                    pause_hold(rng),
                ),
                1 => step(
                    Fault::Partition {
                        shape: PartitionShape::LeaderMinority,
                    },
                    hold(rng, 1000, 2000),
                ),
                2 => step(
                    Fault::Partition {
                        shape: PartitionShape::OneWay {
                            pick: pick(rng),
                            from_leader: rng.random_bool(0.5),
                        },
                    },
                    hold(rng, 1000, 2000),
                ),
                3 => step(
                    Fault::Partition {
                        shape: PartitionShape::Bridge { pick: pick(rng) },
                    },
                    hold(rng, 1000, 2000),
                ),
                5 => step(
                    Fault::Partition {
                        shape: PartitionShape::Slow {
                            pick: pick(rng),
                            ms: rng.random_range(50..=400),
                        },
                    },
                    hold(rng, 1000, 2000),
                ),
                4 => step(
                    Fault::KillFollower {
                        pick: pick(rng),
                        torn: rng.random_bool(0.3),
                    },
                    hold(rng, 500, 1000),
                ),
                _ => step(Fault::Transfer { pick: pick(rng) }, 300),
            };
            steps.push(other);
        }
        if let (Some(drift), 0) = (plan.lease_drift_ms, kill % 10) {
            steps.push(step(lease_skew(rng, drift), hold(rng, 1000, 2000)));
        }
    }
    steps
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(profile: Profile, lease: Option<u64>) -> Plan {
        Plan {
            profile,
            leader_kills: 100,
            lease_drift_ms: lease,
        }
    }

    fn count(steps: &[Step], what: impl Fn(&Fault) -> bool) -> usize {
        steps.iter().filter(|s| what(&s.fault)).count()
    }

    #[test]
    fn the_same_seed_gives_the_same_schedule_and_another_seed_another() {
        for profile in [Profile::Ci, Profile::Long, Profile::Short] {
            let plan = plan(profile, Some(50));
            assert_eq!(generate(&plan, 7), generate(&plan, 7), "{profile:?}");
        }
        let ci = plan(Profile::Ci, None);
        assert_ne!(generate(&ci, 7), generate(&ci, 8));
    }

    #[test]
    fn ci_has_every_kind_of_fault_it_promises() {
        let steps = generate(&plan(Profile::Ci, None), 3);
        assert!(count(&steps, |f| matches!(f, Fault::KillLeader { .. })) >= 2);
        assert!(count(&steps, |f| matches!(f, Fault::Pause { .. })) >= 1);
        assert!(count(&steps, |f| matches!(f, Fault::Partition { .. })) >= 1);
        let torn = |f: &Fault| {
            matches!(
                f,
                Fault::KillLeader { torn: true } | Fault::KillFollower { torn: true, .. }
            )
        };
        assert!(count(&steps, torn) >= 1);
        assert_eq!(count(&steps, |f| matches!(f, Fault::Transfer { .. })), 1);
        assert_eq!(count(&steps, |f| matches!(f, Fault::Membership { .. })), 1);
        // Last: the conformance check of the traces stops there.
        assert!(matches!(
            steps.last().map(|s| s.fault),
            Some(Fault::Membership { .. })
        ));
        let slow = |f: &Fault| {
            matches!(
                f,
                Fault::Partition {
                    shape: PartitionShape::Slow { ms: 50..=400, .. }
                }
            )
        };
        assert_eq!(count(&steps, slow), 1);
        assert_eq!(count(&steps, |f| matches!(f, Fault::StaleLeaseRead)), 0);
        let lease = generate(&plan(Profile::Ci, Some(50)), 3);
        assert_eq!(count(&lease, |f| matches!(f, Fault::StaleLeaseRead)), 1);
    }

    #[test]
    fn pauses_outlast_the_election_timeout_and_skews_stay_within_the_bound() {
        let steps = generate(&plan(Profile::Long, Some(40)), 11);
        for s in &steps {
            match s.fault {
                Fault::Pause { .. } => assert!(s.hold_ms > 600, "{s:?}"),
                Fault::ClockSkew { ms, .. } => assert!(ms.abs() <= 20, "{s:?}"),
                _ => {}
            }
        }
    }

    #[test]
    fn long_kills_the_leader_as_often_as_asked() {
        let steps = generate(&plan(Profile::Long, None), 5);
        assert_eq!(
            count(&steps, |f| matches!(f, Fault::KillLeader { .. })),
            100
        );
        assert!(count(&steps, |f| matches!(f, Fault::Membership { .. })) >= 1);
    }

    #[test]
    fn short_starts_with_the_targeted_fault() {
        let steps = generate(&plan(Profile::Short, None), 1);
        assert!(matches!(
            steps[0].fault,
            Fault::IsolateLeaderAndWrite { .. }
        ));
        let lease = generate(&plan(Profile::Short, Some(50)), 1);
        assert_eq!(lease[0].fault, Fault::StaleLeaseRead);
    }
}
