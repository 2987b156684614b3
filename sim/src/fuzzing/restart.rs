//! The `restart` target: [`Replica::restart`] from arbitrary durable state.
//!
//! The input builds a [`Config`] and a [`Durable`] state: either *shaped*
//! (a well-formed history of up to [`MAX_ENTRIES`] entries, an optional
//! snapshot inside or past it, an applied lsn between them, then up to
//! three corruptions: a dropped, renumbered, re-epoched or swapped entry,
//! a lowered hard state, a moved snapshot or applied lsn, a malformed
//! membership) or *raw* (every field arbitrary). Restart must never panic,
//! and either:
//!
//! - refuses, with a [`RestartError`] whose
//!   message is not empty; or
//! - accepts, and then the replica's invariants hold
//!   ([`Replica::check_invariants`]), nothing durable was dropped or
//!   changed (its log is exactly the durable entries after the snapshot,
//!   its applied lsn, hard state and snapshot are the durable ones, its
//!   membership the latest one durable), restarting again gives the same
//!   replica, and the invariants keep holding while it is driven: a
//!   timeout, then a few arbitrary timeouts, durability reports and
//!   arbitrary messages from members (epochs near its own).

use crate::fuzzing::set_epoch;
use arbitrary::{Arbitrary, Unstructured};
use std::time::Duration;
use steadfast::config::Config;
use steadfast::durability::Durability;
use steadfast::entry::{Entry, EntryKind, HardState};
use steadfast::membership::Membership;
use steadfast::replica::{Durable, Replica, RestartError};
use steadfast::snapshot::SnapshotMeta;
use steadfast::types::{Epoch, Instant, Lsn, NodeId, Position};
use steadfast::wire::Message;

/// Node ids run from 1 to this.
const NODES: u64 = 4;
/// At most this many entries in a durable log.
pub const MAX_ENTRIES: usize = 12;
/// At most this many inputs after the first timeout.
const MAX_INPUTS: usize = 8;

/// What one input did (for seeds that must reach something).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    /// The refusal, if restart refused.
    pub refusal: Option<RestartError>,
    /// Whether restart accepted the state.
    pub accepted: bool,
    /// Durable entries the accepted replica holds (after the snapshot).
    pub entries: usize,
    /// Inputs driven into the accepted replica.
    pub inputs: usize,
}

/// The fuzz target's check: panics when a property above is violated.
pub fn check_restart(bytes: &[u8]) {
    let _ = run_restart(bytes);
}

/// [`check_restart`], reporting what the input reached.
pub fn run_restart(bytes: &[u8]) -> Outcome {
    let mut u = Unstructured::new(bytes);
    let Ok((config, durable)) = read_setup(&mut u) else {
        return Outcome::default();
    };
    match Replica::restart(config.clone(), durable.clone(), Instant(0)) {
        Err(error) => {
            assert!(
                !error.to_string().is_empty(),
                "a refusal must say what is wrong: {error:?}"
            );
            Outcome {
                refusal: Some(error),
                ..Outcome::default()
            }
        }
        Ok(replica) => {
            check_restored(&replica, &config, &durable);
            let again = Replica::restart(config, durable, Instant(0));
            assert_eq!(again.as_ref(), Ok(&replica), "restart is deterministic");
            let entries = replica.entries().len();
            let inputs = drive(replica, &mut u);
            Outcome {
                refusal: None,
                accepted: true,
                entries,
                inputs,
            }
        }
    }
}

/// The accepted replica holds exactly what was durable.
fn check_restored(replica: &Replica, config: &Config, durable: &Durable) {
    if let Err(violation) = replica.check_invariants() {
        panic!("restart from {durable:?} broke an invariant: {violation}");
    }
    let base = durable
        .snapshot
        .as_ref()
        .map_or(Position::ZERO, |s| s.position);
    let kept: Vec<Entry> = durable
        .log
        .iter()
        .filter(|e| e.lsn > base.lsn)
        .cloned()
        .collect();
    assert_eq!(
        replica.entries(),
        &kept[..],
        "restart dropped or changed durable entries of {durable:?}"
    );
    assert_eq!(replica.applied(), durable.applied, "applied lsn");
    assert_eq!(replica.hard_state(), durable.hard_state, "hard state");
    assert_eq!(replica.snapshot(), durable.snapshot.as_ref(), "snapshot");
    let membership = kept
        .iter()
        .rev()
        .find_map(Entry::membership)
        .cloned()
        .or_else(|| durable.snapshot.as_ref().map(|s| s.membership.clone()))
        .unwrap_or_else(|| config.membership());
    assert_eq!(replica.membership(), &membership, "membership in force");
}

/// Drive the restarted replica; returns the number of inputs after the
/// first timeout.
fn drive(mut replica: Replica, u: &mut Unstructured<'_>) -> usize {
    let mut now = Instant(0);
    drain(&mut replica);
    now = next_deadline(&replica, now);
    replica.handle_timeout(now);
    checked(&replica, "the first timeout");
    drain(&mut replica);
    let count = u
        .arbitrary::<u8>()
        .map_or(0, |n| usize::from(n) % (MAX_INPUTS + 1));
    for input in 0..count {
        let Ok(op) = u.arbitrary::<u8>() else {
            return input;
        };
        match op % 4 {
            0 => {
                now = next_deadline(&replica, now);
                replica.handle_timeout(now);
            }
            1 => {
                let last = replica.last();
                replica.handle_persisted(now, last);
            }
            _ => {
                let from = NodeId(1 + u64::from(op / 4) % NODES);
                let Ok(mut message) = Message::arbitrary(u) else {
                    return input;
                };
                let epoch = replica.epoch().0.saturating_add(u64::from(op / 16 % 3));
                set_epoch(&mut message, Epoch(epoch.saturating_sub(1)));
                now = now + Duration::from_millis(u64::from(op % 7));
                let _ = replica.handle_message(now, from, message);
            }
        }
        checked(&replica, &format!("input {input} ({op})"));
        drain(&mut replica);
    }
    count
}

fn checked(replica: &Replica, after: &str) {
    if let Err(violation) = replica.check_invariants() {
        panic!("a restarted replica broke an invariant after {after}: {violation}");
    }
}

fn next_deadline(replica: &Replica, now: Instant) -> Instant {
    replica
        .poll_timeout()
        .unwrap_or(now + Duration::from_millis(50))
        .max(now)
}

fn drain(replica: &mut Replica) {
    while replica.poll_output().is_some() {}
}

// ----- building the durable state -----------------------------------------

fn read_setup(u: &mut Unstructured<'_>) -> arbitrary::Result<(Config, Durable)> {
    let flags = u8::arbitrary(u)?;
    let config = read_config(u, flags)?;
    let durable = if flags & 0x80 != 0 {
        raw_durable(u)?
    } else {
        shaped_durable(u)?
    };
    Ok((config, durable))
}

/// Voters 1..=n (n from 1 to 3), learners among the rest, this replica any
/// of the nodes (so sometimes not a member: an invalid configuration).
fn read_config(u: &mut Unstructured<'_>, flags: u8) -> arbitrary::Result<Config> {
    let shape = u8::arbitrary(u)?;
    let id = NodeId(1 + u64::from(shape) % NODES);
    let voters = 1 + u64::from(shape / 4) % 3;
    let learners = (voters + 1..=NODES)
        .filter(|l| shape & (0x10 << (l - 1)) != 0)
        .map(NodeId);
    let mut config = Config::new(id, (1..=voters).map(NodeId))
        .with_learners(learners)
        .with_seed(u64::from(u16::arbitrary(u)?));
    config.pre_vote = flags & 1 != 0;
    config.check_quorum = flags & 2 != 0;
    if flags & 4 != 0 {
        config = config.with_lease_reads(Duration::from_millis(10));
    }
    config.durability = match (flags >> 3) % 4 {
        0 => Durability::Quorum,
        1 => Durability::Async,
        2 => Durability::All,
        _ => Durability::SemiSync {
            k: usize::from(flags >> 5) % 3,
        },
    };
    Ok(config)
}

/// Voters and learners from one byte's bits (learners never voters).
fn membership(byte: u8) -> Membership {
    let voters = byte & 0x0f;
    let learners = (byte >> 4) & !voters;
    let ids = |bits: u8| (1..=NODES).filter(move |n| bits & (1 << (n - 1)) != 0);
    Membership::new(ids(voters).map(NodeId), ids(learners).map(NodeId))
}

fn shaped_durable(u: &mut Unstructured<'_>) -> arbitrary::Result<Durable> {
    let hard_epoch = u64::from(u8::arbitrary(u)? % 8);
    let len = usize::from(u8::arbitrary(u)?) % (MAX_ENTRIES + 1);
    let mut log = Vec::with_capacity(len);
    let mut epoch = hard_epoch.min(1);
    for lsn in 1..=len as u64 {
        let byte = u8::arbitrary(u)?;
        if byte % 3 == 0 {
            epoch = (epoch + 1).min(hard_epoch);
        }
        let kind = match byte / 3 % 4 {
            0 => EntryKind::Noop,
            3 => EntryKind::Membership(Box::new(membership(u8::arbitrary(u)? | 1))),
            _ => EntryKind::Command(vec![byte].into()),
        };
        log.push(Entry {
            epoch: Epoch(epoch),
            lsn: Lsn(lsn),
            kind,
        });
    }
    let shape = u8::arbitrary(u)?;
    let mut snapshot = None;
    let mut first = 1;
    if shape & 1 != 0 {
        // Inside the log, or past its end (installed from a leader).
        let at = u64::from(shape >> 1) % (len as u64 + 3);
        let epoch_at = log
            .get((at as usize).wrapping_sub(1))
            .map_or_else(|| if at == 0 { 0 } else { epoch }, |e| e.epoch.0);
        snapshot = Some(SnapshotMeta {
            position: Position::new(Epoch(epoch_at), Lsn(at)),
            membership: membership(u8::arbitrary(u)? | 1),
            size: u64::from(u8::arbitrary(u)?),
            checksum: u32::arbitrary(u)?,
        });
        // The host may have deleted what the snapshot covers, or not.
        first = 1 + u64::from(u8::arbitrary(u)?) % (at + 1);
    }
    log.retain(|e| e.lsn.0 >= first);
    let base = snapshot.as_ref().map_or(0, |s| s.position.lsn.0);
    let last = log.last().map_or(base, |e| e.lsn.0.max(base));
    let applied = base + u64::from(u8::arbitrary(u)?) % (last - base + 1);
    let mut durable = Durable {
        hard_state: HardState {
            epoch: Epoch(hard_epoch),
            voted_for: Option::<u8>::arbitrary(u)?.map(|n| NodeId(u64::from(n % 5))),
        },
        log,
        applied: Lsn(applied),
        snapshot,
    };
    for _ in 0..u8::arbitrary(u)? % 4 {
        corrupt(&mut durable, u)?;
    }
    Ok(durable)
}

/// One corruption of the kind a torn or damaged store shows.
fn corrupt(durable: &mut Durable, u: &mut Unstructured<'_>) -> arbitrary::Result<()> {
    let op = u8::arbitrary(u)?;
    let value = u8::arbitrary(u)?;
    let len = durable.log.len();
    let i = usize::from(value) % len.max(1);
    match op % 9 {
        0 if len > 0 => {
            durable.log.remove(i);
        }
        1 if len > 0 => {
            durable.log[i].lsn = match op / 9 % 4 {
                0 => Lsn(u64::MAX - u64::from(value % 2)),
                _ => Lsn(u64::from(op / 9 % 16)),
            };
        }
        2 if len > 0 => durable.log[i].epoch = Epoch(u64::from(op / 9 % 10)),
        3 if len > 1 => durable.log.swap(i, (i + 1) % len),
        4 => durable.hard_state.epoch = Epoch(u64::from(value % 8)),
        5 => durable.applied = Lsn(u64::from(value % 20)),
        6 => {
            if let Some(snapshot) = &mut durable.snapshot {
                if op & 0x10 != 0 {
                    snapshot.position.lsn = Lsn(u64::from(value % 16));
                } else {
                    snapshot.position.epoch = Epoch(u64::from(value % 8));
                }
            }
        }
        7 => {
            let malformed = Membership::new(
                [1, 2, 3]
                    .map(NodeId)
                    .into_iter()
                    .take(usize::from(value % 3)),
                [NodeId(1 + u64::from(value / 3 % 3))],
            );
            match (&mut durable.snapshot, op & 0x10 != 0) {
                (Some(snapshot), true) => snapshot.membership = malformed,
                _ if len > 0 => durable.log[i].kind = EntryKind::Membership(Box::new(malformed)),
                _ => {}
            }
        }
        _ => durable.snapshot = None,
    }
    Ok(())
}

fn raw_durable(u: &mut Unstructured<'_>) -> arbitrary::Result<Durable> {
    let count = usize::from(u8::arbitrary(u)?) % (MAX_ENTRIES + 1);
    let mut log = Vec::with_capacity(count);
    for _ in 0..count {
        log.push(Entry::arbitrary(u)?);
    }
    Ok(Durable {
        hard_state: HardState::arbitrary(u)?,
        log,
        applied: Lsn(u64::arbitrary(u)?),
        snapshot: Option::<SnapshotMeta>::arbitrary(u)?,
    })
}
