//! The stateful fuzz target: a small cluster of real
//! [`Replica`](steadfast::Replica)s (three voters, optionally a learner)
//! driven by an arbitrary sequence of events, with the safety invariants
//! checked after every event.
//!
//! # Events
//!
//! The input is read byte by byte as a program: deliver, drop, duplicate or
//! replay a message; fire a node's timer; let time pass; propose a write;
//! flush a node's pending storage writes; crash or restart a node; ask the
//! leader to transfer leadership; have a host snapshot its state machine
//! (the core then compacts its log, keeping a tail of two entries, and
//! catches lagging replicas up by sending the snapshot in chunks of 48
//! bytes, which the hosts serve, stage and install); ask the leader for a
//! membership change (add a learner, promote a learner, remove a member);
//! inject a hostile message. Storage is
//! either synchronous (every `Append`/`Truncated` output is durable at once)
//! or asynchronous (durable only when a flush event says so, and lost by a
//! crash before that), chosen by the first bytes along with the cluster
//! shape (three voters, plus a fourth node that is either a learner from
//! the start or a spare that only a membership change brings in), the
//! durability policy (`Quorum` or `All`, both of which survive
//! failover), pre-vote, check-quorum and the starting epoch (zero, or the
//! last few epochs before `u64::MAX`, to exercise saturation).
//!
//! # Threat model
//!
//! The cluster's members are honest: they run this code, persist what it
//! asks them to persist before acting on it, and lose only unflushed
//! storage writes when they crash. What they cannot trust:
//!
//! - **The network** may drop, delay, reorder and duplicate any message, and
//!   replay any message a member ever sent. Safety must hold regardless,
//!   and every such message must be accepted (`Ok`): an honest message is
//!   never an input error, unless its sender has since been removed from
//!   the receiver's membership (then it is refused as from an unknown
//!   sender, without effect).
//! - **Outsiders**: any message claiming to come from a node that is not a
//!   member (or from the receiver itself) must be refused with
//!   [`InputError::UnknownSender`](steadfast::InputError::UnknownSender) (or
//!   [`InputError::FromSelf`](steadfast::InputError::FromSelf)) and leave
//!   the receiver exactly as it was, except what the core hears from anyone
//!   because the membership in force can leave out a correct leader or
//!   candidate: vote requests (not sent) and a leader's appends and snapshot
//!   chunks of the receiver's epoch or later (sent in an older epoch).
//! - **Malformed appends**, even from a member's id (entries not
//!   consecutive after `prev`, epochs decreasing or newer than the sender's
//!   epoch, `prev` newer than the sender's epoch), must be refused with
//!   [`InputError::MalformedAppend`](steadfast::InputError::MalformedAppend)
//!   and leave the receiver unchanged.
//! - **Stale forgeries**: any message claiming a member's id but carrying an
//!   epoch older than the receiver's must be fenced: accepted, the
//!   receiver's state unchanged, and at most a reply to the claimed sender
//!   carrying the receiver's epoch (which is then delivered like any honest
//!   message).
//!
//! Out of scope: well-formed messages forged in a member's name with the
//! receiver's current or a newer epoch. A peer that can send those is
//! Byzantine (it could vote twice or ship a second log in one epoch), and a
//! crash-fault protocol like this one cannot stay safe against it.
//!
//! # Invariants (checked after every event)
//!
//! ElectionSafety, LogMatching, StateMachineSafety, CommittedNeverTruncated
//! and NoLostAckedWrites, as [`History`](crate::harness::History) records
//! them (a snapshot's state counts as applied by the replica that installs
//! it); plus: no replica
//! ever votes for two candidates in one epoch or lowers its persisted
//! epoch; no applied entry is ever rolled back; a write or membership
//! change is acknowledged only once it is durable (in the log or a
//! snapshot) on a commit quorum of the acknowledging leader's voters; the
//! storage outputs are consistent (appends continue the stored log,
//! truncations report exactly what they remove, compaction never passes
//! the durable snapshot); snapshot chunks arrive at consecutive offsets and
//! an install is only ever asked for bytes of exactly the snapshot's size
//! and CRC32C, holding every entry through its position; a restarted
//! replica keeps its whole durable log and snapshot; each replica's own
//! invariants hold (`Replica::check_invariants`, which includes
//! `applied <= commit <= last`); its host's state machine holds exactly the
//! applied entries; and the entry at its commit point is the one every
//! replica applied there.

mod host;
mod hostile;
mod outputs;
mod program;
mod sim;

pub use program::Program;

use arbitrary::{Arbitrary, Unstructured};
use sim::Sim;
use steadfast::durability::Durability;
use steadfast::entry::Entry;
use steadfast::types::{Epoch, Lsn, Position};
use steadfast::wire::Message;

/// At most this many events are run per input.
const MAX_EVENTS: usize = 4096;
/// Messages in flight beyond this are dropped (the network is lossy anyway).
pub(super) const MAX_IN_FLIGHT: usize = 256;
/// How many recently sent messages can be replayed.
pub(super) const REPLAY_WINDOW: usize = 64;
/// Voting members.
pub(super) const VOTERS: u64 = 3;

/// Runs the event program in `bytes` against a fresh cluster, panicking on
/// the first violated invariant or mishandled hostile message.
pub fn check_cluster(bytes: &[u8]) {
    run_cluster(bytes);
}

/// What a program achieved, for tests that check a seed input is meaningful.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Events run.
    pub events: usize,
    /// Leaders elected (one per epoch that had one).
    pub leaders: usize,
    /// Writes acknowledged to clients.
    pub acked: usize,
    /// The highest commit point any replica reached.
    pub max_commit: Lsn,
    /// Hostile messages refused or fenced as required.
    pub hostile: usize,
    /// Snapshots installed from a leader's transfer.
    pub installs: usize,
    /// Membership changes acknowledged as committed.
    pub reconfigured: usize,
}

/// [`check_cluster`], returning what the program achieved.
pub fn run_cluster(bytes: &[u8]) -> Outcome {
    let mut u = Unstructured::new(bytes);
    let Ok(setup) = Setup::read(&mut u) else {
        return Outcome::default();
    };
    let mut sim = Sim::new(setup);
    let mut events = 0;
    for _ in 0..MAX_EVENTS {
        // `Unstructured` pads exhausted input with zeros; stop instead.
        if u.is_empty() {
            break;
        }
        let Ok(event) = Event::read(&mut u) else {
            break;
        };
        sim.trace.push_back(event.clone());
        if sim.trace.len() > 40 {
            sim.trace.pop_front();
        }
        sim.run(event);
        sim.check();
        events += 1;
    }
    Outcome {
        events,
        leaders: sim.history.leaders.len(),
        acked: sim.history.acked.len(),
        max_commit: sim.max_commit,
        hostile: sim.hostile,
        installs: sim.installs,
        reconfigured: sim.reconfigured,
    }
}

pub(super) const OP_DELIVER: u8 = 0;
pub(super) const OP_SNAPSHOT: u8 = 76;
pub(super) const OP_RECONFIGURE: u8 = 83;
pub(super) const OP_TIMEOUT: u8 = 90;
pub(super) const OP_FLUSH: u8 = 105;
pub(super) const OP_PROPOSE: u8 = 120;
pub(super) const OP_DROP: u8 = 132;
pub(super) const OP_DUPLICATE: u8 = 142;
pub(super) const OP_REPLAY: u8 = 149;
pub(super) const OP_ADVANCE: u8 = 155;
pub(super) const OP_CRASH: u8 = 165;
pub(super) const OP_RESTART: u8 = 172;
pub(super) const OP_TRANSFER: u8 = 182;
pub(super) const OP_SETTLE: u8 = 188;
pub(super) const OP_OUTSIDER: u8 = 203;
pub(super) const OP_MALFORMED: u8 = 218;
pub(super) const OP_STALE: u8 = 236;

/// The cluster shape and host behaviour, read from the first input bytes.
#[derive(Clone, Debug)]
pub(super) struct Setup {
    /// A fourth node is a learner from the start.
    pub(super) learner: bool,
    /// A fourth node exists outside the membership until it is added.
    pub(super) spare: bool,
    pub(super) durability: Durability,
    pub(super) pre_vote: bool,
    pub(super) check_quorum: bool,
    pub(super) sync_storage: bool,
    pub(super) seed: u64,
    pub(super) initial_epoch: Epoch,
}

impl Setup {
    /// How many hosts run: the voters, and the fourth node if any.
    pub(super) fn hosts(&self) -> u8 {
        VOTERS as u8 + u8::from(self.learner || self.spare)
    }

    pub(super) fn read(u: &mut Unstructured<'_>) -> arbitrary::Result<Setup> {
        let flags = u8::arbitrary(u)?;
        let epoch = u8::arbitrary(u)?;
        Ok(Setup {
            learner: flags & 1 != 0,
            spare: flags & 32 != 0,
            durability: if flags & 2 != 0 {
                Durability::All
            } else {
                Durability::Quorum
            },
            pre_vote: flags & 4 == 0,
            check_quorum: flags & 8 == 0,
            sync_storage: flags & 16 == 0,
            seed: u64::from(flags >> 6),
            initial_epoch: if epoch >= 0xE0 {
                Epoch(u64::MAX - u64::from(epoch & 3))
            } else {
                Epoch(0)
            },
        })
    }
}

/// One step of the program.
#[derive(Clone, Debug)]
pub(super) enum Event {
    /// Deliver the in-flight message at this index (modulo their number).
    Deliver(u16),
    /// Lose it.
    Drop(u16),
    /// Deliver it twice (a second copy joins the queue).
    Duplicate(u16),
    /// Put a copy of a recently sent message back on the network.
    Replay(u16),
    /// Advance time to the node's deadline and fire its timer.
    Timeout(u8),
    /// Let time pass without firing anything.
    Advance(u16),
    /// A client write at the node.
    Propose(u8, Vec<u8>),
    /// Make the first `count` pending storage writes of the node durable.
    Flush(u8, u8),
    /// Crash the node: it loses its volatile state and unflushed writes.
    Crash(u8),
    /// Restart a crashed node from its durable state.
    Restart(u8),
    /// Ask the current leader to hand leadership to the node.
    Transfer(u8),
    /// The node's host snapshots its state machine and reports it.
    Snapshot(u8),
    /// Ask the current leader for a membership change (kind, node).
    Reconfigure(u8, u8),
    /// Flush every node and deliver up to this many messages in order.
    Settle(u8),
    /// Any message from a non-member (or from the receiver itself).
    Outsider {
        to: u8,
        from: u64,
        as_self: bool,
        message: Message,
    },
    /// A malformed append in a member's name.
    Malformed {
        to: u8,
        from: u8,
        how: u8,
        epoch: Epoch,
        prev: Position,
        entries: Vec<Entry>,
        commit: Lsn,
    },
    /// Any message in a member's name, with an epoch older than the receiver's.
    Stale {
        to: u8,
        from: u8,
        epoch: u64,
        message: Message,
    },
}

impl Event {
    pub(super) fn read(u: &mut Unstructured<'_>) -> arbitrary::Result<Event> {
        let op = u8::arbitrary(u)?;
        Ok(match op {
            OP_DELIVER..OP_SNAPSHOT => Event::Deliver(u.arbitrary()?),
            OP_SNAPSHOT..OP_RECONFIGURE => Event::Snapshot(u.arbitrary()?),
            OP_RECONFIGURE..OP_TIMEOUT => Event::Reconfigure(u.arbitrary()?, u.arbitrary()?),
            OP_TIMEOUT..OP_FLUSH => Event::Timeout(u.arbitrary()?),
            OP_FLUSH..OP_PROPOSE => Event::Flush(u.arbitrary()?, u.arbitrary()?),
            OP_PROPOSE..OP_DROP => {
                let node = u.arbitrary()?;
                let len = usize::from(u8::arbitrary(u)? % 8);
                Event::Propose(node, u.bytes(len)?.to_vec())
            }
            OP_DROP..OP_DUPLICATE => Event::Drop(u.arbitrary()?),
            OP_DUPLICATE..OP_REPLAY => Event::Duplicate(u.arbitrary()?),
            OP_REPLAY..OP_ADVANCE => Event::Replay(u.arbitrary()?),
            OP_ADVANCE..OP_CRASH => Event::Advance(u.arbitrary()?),
            OP_CRASH..OP_RESTART => Event::Crash(u.arbitrary()?),
            OP_RESTART..OP_TRANSFER => Event::Restart(u.arbitrary()?),
            OP_TRANSFER..OP_SETTLE => Event::Transfer(u.arbitrary()?),
            OP_SETTLE..OP_OUTSIDER => Event::Settle(u.arbitrary()?),
            OP_OUTSIDER..OP_MALFORMED => {
                let (to, from, as_self) = (u.arbitrary()?, u.arbitrary()?, u.ratio(1, 8)?);
                let mut fields = bounded(u)?;
                Event::Outsider {
                    to,
                    from,
                    as_self,
                    message: fields.arbitrary()?,
                }
            }
            OP_MALFORMED..OP_STALE => {
                let (to, from, how) = (u.arbitrary()?, u.arbitrary()?, u.arbitrary()?);
                let mut fields = bounded(u)?;
                Event::Malformed {
                    to,
                    from,
                    how,
                    epoch: fields.arbitrary()?,
                    prev: fields.arbitrary()?,
                    entries: fields.arbitrary()?,
                    commit: fields.arbitrary()?,
                }
            }
            _ => {
                let (to, from, epoch) = (u.arbitrary()?, u.arbitrary()?, u.arbitrary()?);
                let mut fields = bounded(u)?;
                Event::Stale {
                    to,
                    from,
                    epoch,
                    message: fields.arbitrary()?,
                }
            }
        })
    }
}

/// The bytes a hostile message is built from: a length byte, then that many
/// bytes (fewer at the end of the input). `arbitrary` reads collection
/// lengths from the end of its input, so reading a message straight from
/// the program would swallow every step after it.
fn bounded<'a>(u: &mut Unstructured<'a>) -> arbitrary::Result<Unstructured<'a>> {
    let len = usize::from(u8::arbitrary(u)? % 96);
    let len = len.min(u.len());
    Ok(Unstructured::new(u.bytes(len)?))
}
