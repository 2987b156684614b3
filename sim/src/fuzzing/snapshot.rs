//! The `snapshot` target: snapshot chunks ([`Message::InstallSnapshot`] and
//! its answer) between a real leader [`Replica`] and a real follower, whose
//! hosts serve, stage, assemble and install the bytes.
//!
//! # Setup (the first 10 input bytes)
//!
//! Three voters. Node 3, leader of an old epoch `e` (1..=3), replicated the
//! first `n` entries of a log of `m` (1..=16) to node 2 with real
//! [`Message::Append`]s and told it that `c <= n` are committed. Node 1
//! holds the whole log, has applied it and restarts from a durable snapshot
//! at lsn `p` (`n < p <= m`; its bytes derive from the input). Node 1 times
//! out and node 2 elects it in epoch `e + 1`: node 2's next entry is
//! compacted away on node 1, so catching it up needs the snapshot. Node 3 is
//! scripted: it never answers, and it may act as a new leader sending
//! chunks of its own. Byte layout: `e, m, p, n, c, k` (the first `k % (m+1)`
//! entries have epoch `e - 1`), max chunk bytes (`1 + b % 64`), snapshot size
//! (`u16` little endian, `% 600`), bytes seed, then the steps.
//!
//! # Steps (an opcode byte in the `OP_*` range, then its arguments)
//!
//! Deliver a message to node 2 (`OP_DELIVER i`) or to node 1 (`OP_REPLY i`),
//! drop one (`OP_DROP i`), replay one node 2 received before (`OP_REPLAY i`);
//! node 1's host answers a pending
//! [`Output::ReadSnapshotChunk`](steadfast::Output::ReadSnapshotChunk) honestly
//! (`OP_ANSWER i`) or wrongly (`OP_FORGED_ANSWER how delta raw:u64`: wrong
//! peer, snapshot, offset or length, or a corrupted byte); node 1's
//! heartbeat (`OP_TICK`); node 1 snapshots what it applied (`OP_TAKE
//! size:u16 seed`); a snapshot of another history appears (`OP_FOREIGN lsn
//! size:u16 seed`); node 3 sends the next chunk of a true snapshot
//! (`OP_SCRIPTED which how len`: at the offset node 2 last asked it for, or
//! 0; in the current, next or an older epoch; optionally with a corrupted
//! byte); any chunk at all from a member, node 2 itself or an outsider
//! (`OP_ARBITRARY ...`); a forged answer to node 1 (`OP_RESPONSE how
//! raw:u64`); node 2 crashes and restarts from what its host made durable
//! (`OP_RESTART`); time passes (`OP_ADVANCE ms:u16`); everything in flight is
//! delivered and answered honestly (`OP_SETTLE rounds`).
//!
//! # Properties (a panic names the violated one)
//!
//! 1. Nothing panics. Node 2 answers every message `Ok` or with exactly the
//!    typed [`InputError`](steadfast::InputError) a restatement of the
//!    rules predicts (in particular `MalformedSnapshot` exactly for chunks
//!    of a snapshot whose position is of a later epoch than the message or
//!    whose membership has no voters or a voter that is also a learner,
//!    running past the size or `u64::MAX`, with `done` not exactly on the
//!    last chunk, or empty before the end), and a refused message leaves it
//!    unchanged.
//! 2. Its host assembles
//!    [`Output::ReceiveSnapshotChunk`](steadfast::Output::ReceiveSnapshotChunk)s
//!    consecutively from offset 0 within a transfer, and an
//!    [`Output::InstallSnapshot`](steadfast::Output::InstallSnapshot) always
//!    finds exactly `size` staged bytes with the meta's CRC32C, at a
//!    position newer than node 2's commit point.
//! 3. What node 2 does with a well-formed chunk is exactly what the chunk
//!    protocol says, given what its host holds: a stale chunk is fenced
//!    (answer 0, no change); a snapshot it already covers is answered
//!    complete; a chunk at any offset but the number of bytes the host holds
//!    of that snapshot (0 after a restart or a bad checksum) is answered
//!    with that number; the chunk at it is staged and answered with the new
//!    count, or, when it ends the snapshot, installed (answer `size`, the
//!    install listing as `replaced` exactly the unapplied entries at or
//!    below its position that survive truncating what its history cannot
//!    hold) if the bytes match the meta and dropped (answer 0) if not. After an install
//!    `snapshot()` is the meta and commit and applied are at least its lsn.
//! 4. An honest transfer (true bytes, in order from 0, nothing else
//!    delivered in between) of a snapshot newer than the commit point ends
//!    installed.
//! 5. Node 1's [`Replica::handle_snapshot_chunk`] accepts exactly the chunk
//!    its transfer expects (peer, snapshot, offset and exact length, read
//!    from [`Replica::follower_status`]) and sends exactly it; anything else
//!    is the typed [`SnapshotError`](steadfast::SnapshotError) with no
//!    effect. Its chunk requests match its transfers, and answers (even
//!    forged ones) are accepted.
//! 6. After every step, both replicas' own invariants hold
//!    ([`Replica::check_invariants`]).
//!
//! Both hosts are the reference host, [`MemStorage`], with opaque snapshot
//! bytes (the fuzzer makes them up): every output's storage side goes
//! through it, and a breach of the host contract it detects fails the run
//! (property 2 for staging and installing). Node 2's host keeps a durable
//! log equal to the replica's, so a restart rebuilds the same log and
//! snapshot. Node 1's host serves only its latest snapshot's chunks, as the
//! contract allows; the fuzzer's forged answers may use any it took.
//!
//! This file reads the program and runs it; `follower` holds node 2's host
//! and the chunk rules (properties 1 to 4), `leader` node 1's host
//! (property 5), `inject` what the fuzzer forges.

mod follower;
mod inject;
mod leader;
#[cfg(test)]
mod tests;

use crate::host::{MemStorage, Persistence, SnapshotBytes};
use arbitrary::{Arbitrary, Unstructured};
use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;
use steadfast::config::Config;
use steadfast::entry::{Entry, EntryKind, HardState};
use steadfast::membership::Membership;
use steadfast::replica::{Durable, Replica, Role};
use steadfast::rng::SplitMix64;
use steadfast::snapshot::SnapshotMeta;
use steadfast::types::{Epoch, Instant, Lsn, NodeId, Position};
use steadfast::wire::Message;

const LEADER: NodeId = NodeId(1);
const FOLLOWER: NodeId = NodeId(2);
const SCRIPTED: NodeId = NodeId(3);
const OUTSIDER: NodeId = NodeId(9);
const MAX_STEPS: usize = 512;
const MAX_QUEUE: usize = 64;

// Opcodes: a step's opcode is any byte from its constant up to the next one.
/// Deliver the message at `i` (modulo their number) in flight to node 2.
pub const OP_DELIVER: u8 = 0;
/// Deliver the message at `i` in flight to node 1.
pub const OP_REPLY: u8 = 60;
/// Node 1's host answers the pending chunk request at `i` honestly.
pub const OP_ANSWER: u8 = 90;
/// Deliver and answer everything honestly, `1 + r % 16` rounds.
pub const OP_SETTLE: u8 = 120;
/// Node 1's timer fires (its heartbeat, or an election after it stepped down).
pub const OP_TICK: u8 = 135;
/// Lose a message in flight (to node 2 if `i` is even, else to node 1).
pub const OP_DROP: u8 = 145;
/// Deliver again a message node 2 received before.
pub const OP_REPLAY: u8 = 152;
/// Node 2 crashes and restarts from what its host made durable.
pub const OP_RESTART: u8 = 160;
/// Node 1's host snapshots everything node 1 applied (`size: u16, seed`).
pub const OP_TAKE: u8 = 168;
/// A snapshot of another history appears (`lsn, size: u16, seed`).
pub const OP_FOREIGN: u8 = 174;
/// Node 3 sends the next chunk of a true snapshot (`which, how, len`).
pub const OP_SCRIPTED: u8 = 180;
/// Node 1's host answers a chunk request wrongly (`how, delta, raw: u64`).
pub const OP_FORGED_ANSWER: u8 = 200;
/// Any chunk at all (the fields of `Chunk`, 42 bytes).
pub const OP_ARBITRARY: u8 = 215;
/// A forged `InstallSnapshotResponse` to node 1 (`how, raw: u64`).
pub const OP_RESPONSE: u8 = 240;
/// Time passes (`ms: u16`, modulo 1000).
pub const OP_ADVANCE: u8 = 248;

/// Runs the program in `bytes`, panicking on the first violated property.
pub fn check_snapshot(bytes: &[u8]) {
    run_snapshot(bytes);
}

/// What a program achieved, for tests that check a seed input is meaningful.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Steps run.
    pub steps: usize,
    /// Snapshots node 2 installed.
    pub installs: usize,
    /// Chunks node 2 staged.
    pub chunks: usize,
    /// Messages node 2 refused with an input error.
    pub refused: usize,
    /// Host answers node 1 accepted and sent / refused.
    pub answers: (usize, usize),
}

/// [`check_snapshot`], returning what the program achieved.
pub fn run_snapshot(bytes: &[u8]) -> Outcome {
    let mut u = Unstructured::new(bytes);
    let Ok(setup) = Setup::read(&mut u) else {
        return Outcome::default();
    };
    let mut sim = Sim::new(&setup);
    while sim.outcome.steps < MAX_STEPS && !u.is_empty() {
        let Ok(step) = Step::read(&mut u) else { break };
        sim.trace.push_back(step.clone());
        if sim.trace.len() > 24 {
            sim.trace.pop_front();
        }
        sim.run(step);
        sim.check_invariants();
        sim.outcome.steps += 1;
    }
    sim.outcome
}

/// The starting point (see the module docs).
#[derive(Clone, Debug)]
struct Setup {
    epoch: u64,
    len: u64,
    at: u64,
    follower_len: u64,
    commit: u64,
    older: u64,
    max_chunk: usize,
    size: u16,
    seed: u8,
}

impl Setup {
    fn read(u: &mut Unstructured<'_>) -> arbitrary::Result<Setup> {
        let mut b = [0u8; 7];
        u.fill_buffer(&mut b)?;
        let len = 1 + u64::from(b[1] % 16);
        let at = 1 + u64::from(b[2]) % len;
        let follower_len = u64::from(b[3]) % at;
        Ok(Setup {
            epoch: 1 + u64::from(b[0] % 3),
            len,
            at,
            follower_len,
            commit: u64::from(b[4]) % (follower_len + 1),
            older: u64::from(b[5]) % (len + 1),
            max_chunk: 1 + usize::from(b[6] % 64),
            size: u16::arbitrary(u)?,
            seed: u8::arbitrary(u)?,
        })
    }
}

/// One step of the program (see the `OP_*` constants).
#[derive(Clone, Debug)]
enum Step {
    Deliver(u8),
    Reply(u8),
    Answer(u8),
    Settle(u8),
    Tick,
    Drop(u8),
    Replay(u8),
    Restart,
    Take(u16, u8),
    Foreign(u8, u16, u8),
    Scripted { which: u8, how: u8, len: u8 },
    ForgedAnswer { how: u8, delta: u8, raw: u64 },
    Arbitrary(Box<Chunk>),
    Response { how: u8, raw: u64 },
    Advance(u16),
}

/// Raw fields of an arbitrary chunk (see [`Sim::arbitrary_chunk`]).
#[derive(Clone, Debug, Arbitrary)]
struct Chunk {
    from: u8,
    epoch: u8,
    pick: u8,
    membership: u8,
    position: (u64, u64),
    size: u64,
    checksum: u32,
    offset: u64,
    done: u8,
    len: u8,
}

impl Step {
    fn read(u: &mut Unstructured<'_>) -> arbitrary::Result<Step> {
        let op = u8::arbitrary(u)?;
        Ok(match op {
            OP_DELIVER..OP_REPLY => Step::Deliver(u.arbitrary()?),
            OP_REPLY..OP_ANSWER => Step::Reply(u.arbitrary()?),
            OP_ANSWER..OP_SETTLE => Step::Answer(u.arbitrary()?),
            OP_SETTLE..OP_TICK => Step::Settle(u.arbitrary()?),
            OP_TICK..OP_DROP => Step::Tick,
            OP_DROP..OP_REPLAY => Step::Drop(u.arbitrary()?),
            OP_REPLAY..OP_RESTART => Step::Replay(u.arbitrary()?),
            OP_RESTART..OP_TAKE => Step::Restart,
            OP_TAKE..OP_FOREIGN => Step::Take(u.arbitrary()?, u.arbitrary()?),
            OP_FOREIGN..OP_SCRIPTED => {
                Step::Foreign(u.arbitrary()?, u.arbitrary()?, u.arbitrary()?)
            }
            OP_SCRIPTED..OP_FORGED_ANSWER => Step::Scripted {
                which: u.arbitrary()?,
                how: u.arbitrary()?,
                len: u.arbitrary()?,
            },
            OP_FORGED_ANSWER..OP_ARBITRARY => Step::ForgedAnswer {
                how: u.arbitrary()?,
                delta: u.arbitrary()?,
                raw: u.arbitrary()?,
            },
            OP_ARBITRARY..OP_RESPONSE => Step::Arbitrary(Box::new(u.arbitrary()?)),
            OP_RESPONSE..OP_ADVANCE => Step::Response {
                how: u.arbitrary()?,
                raw: u.arbitrary()?,
            },
            _ => Step::Advance(u.arbitrary()?),
        })
    }
}

/// A snapshot and its true bytes.
#[derive(Clone, Debug)]
struct Truth {
    meta: SnapshotMeta,
    bytes: Vec<u8>,
}

fn three_voters() -> Membership {
    Membership::new((1..=3).map(NodeId), [])
}

fn truth(position: Position, size: u16, seed: u8) -> Truth {
    let mut rng = SplitMix64::new(u64::from(seed) << 16 | u64::from(size));
    let bytes: Vec<u8> = (0..size % 600)
        .map(|_| rng.next_u64().to_le_bytes()[0])
        .collect();
    let meta = SnapshotMeta {
        position,
        membership: three_voters(),
        size: bytes.len() as u64,
        checksum: crc32c::crc32c(&bytes),
    };
    Truth { meta, bytes }
}

/// The two replicas, their hosts, the network and what the checks remember.
struct Sim {
    setup: Setup,
    now: Instant,
    len: u64,
    max_chunk: usize,
    config: Config,
    leader: Replica,
    /// Node 1's host.
    leader_host: MemStorage,
    /// Every snapshot node 1's host took, with its bytes.
    taken: Vec<Truth>,
    /// Node 1's host: chunk requests not yet answered.
    requests: Vec<(NodeId, Position, u64, usize)>,
    follower: Replica,
    /// Node 2's host.
    follower_host: MemStorage,
    /// The snapshot whose bytes are staged, as far as the sender knows.
    staged: Option<SnapshotMeta>,
    /// Snapshots of other histories node 3 may send.
    foreign: Vec<Truth>,
    /// Where node 2 last asked node 3 to go on, per snapshot position.
    cursor: BTreeMap<Position, u64>,
    to_follower: VecDeque<(NodeId, Message)>,
    to_leader: VecDeque<Message>,
    received: VecDeque<(NodeId, Message)>,
    /// An honest transfer in progress: its snapshot and the next offset.
    clean: Option<(SnapshotMeta, u64)>,
    commit_before: Lsn,
    trace: VecDeque<Step>,
    outcome: Outcome,
}

impl Sim {
    /// Builds the setup with real messages and elects node 1.
    fn new(setup: &Setup) -> Sim {
        let config = |id: u64| {
            let mut c = Config::new(NodeId(id), (1..=3).map(NodeId))
                .with_snapshot_retain_entries(0)
                .with_max_snapshot_chunk_bytes(setup.max_chunk);
            c.pre_vote = false;
            c.check_quorum = false;
            c
        };
        let log: Vec<Entry> = (1..=setup.len)
            .map(|lsn| Entry {
                epoch: Epoch(
                    if lsn <= setup.older {
                        setup.epoch - 1
                    } else {
                        setup.epoch
                    }
                    .max(1),
                ),
                lsn: Lsn(lsn),
                kind: EntryKind::Command(lsn.to_le_bytes().to_vec().into()),
            })
            .collect();
        let at = &log[(setup.at - 1) as usize];
        let snapshot = truth(at.position(), setup.size, setup.seed);
        let hard_state = HardState {
            epoch: Epoch(setup.epoch),
            voted_for: None,
        };
        let durable = Durable {
            hard_state,
            log: log.clone(),
            applied: Lsn(setup.len),
            snapshot: Some(snapshot.meta.clone()),
        };
        let host =
            || MemStorage::new(Persistence::Immediate).with_snapshot_bytes(SnapshotBytes::Opaque);
        let leader_host = host().with_durable(durable.clone(), snapshot.bytes.clone());
        let leader = Replica::restart(config(1), durable, Instant(0)).expect("valid config");
        let follower = Replica::new(config(2), Instant(0)).expect("valid config");
        let mut sim = Sim {
            setup: setup.clone(),
            now: Instant(0),
            len: setup.len,
            max_chunk: setup.max_chunk,
            config: config(2),
            leader,
            leader_host,
            taken: vec![snapshot],
            requests: Vec::new(),
            follower,
            follower_host: host(),
            staged: None,
            foreign: Vec::new(),
            cursor: BTreeMap::new(),
            to_follower: VecDeque::new(),
            to_leader: VecDeque::new(),
            received: VecDeque::new(),
            clean: None,
            commit_before: Lsn(0),
            trace: VecDeque::new(),
            outcome: Outcome::default(),
        };
        let entries = log[..setup.follower_len as usize].to_vec();
        let append = Message::Append {
            epoch: Epoch(setup.epoch),
            prev: Position::ZERO,
            entries,
            commit: Lsn(setup.commit),
            round: 0,
        };
        sim.deliver(SCRIPTED, append);
        sim.run(Step::Tick);
        sim.settle(1);
        if sim.leader.role() != Role::Leader {
            sim.fail("setup: node 2 did not elect node 1");
        }
        sim
    }

    /// Panics with `what`, the setup and the last steps.
    fn fail(&self, what: &str) -> ! {
        let trace: Vec<String> = self.trace.iter().map(|s| format!("{s:?}")).collect();
        panic!(
            "{what}\n  setup: {:?}\n  last steps (oldest first):\n    {}",
            self.setup,
            trace.join("\n    ")
        );
    }

    /// Runs one step.
    fn run(&mut self, step: Step) {
        match step {
            Step::Deliver(i) => {
                let i = usize::from(i);
                if let Some((from, message)) =
                    self.to_follower.remove(i % self.to_follower.len().max(1))
                {
                    self.deliver(from, message);
                }
            }
            Step::Reply(i) => {
                let i = usize::from(i) % self.to_leader.len().max(1);
                if let Some(message) = self.to_leader.remove(i) {
                    self.reply(message);
                }
            }
            Step::Answer(i) => {
                if !self.requests.is_empty() {
                    let request = self.requests.remove(usize::from(i) % self.requests.len());
                    self.answer_honestly(request);
                }
            }
            Step::Settle(rounds) => self.settle(1 + rounds % 16),
            Step::Tick => {
                if let Some(deadline) = self.leader.poll_timeout() {
                    self.now = self.now.max(deadline);
                    self.leader.handle_timeout(self.now);
                    self.drain_leader();
                }
            }
            Step::Drop(i) => {
                let (to_follower, i) = (i % 2 == 0, usize::from(i / 2));
                if to_follower {
                    self.to_follower.remove(i % self.to_follower.len().max(1));
                } else {
                    self.to_leader.remove(i % self.to_leader.len().max(1));
                }
            }
            Step::Replay(i) => {
                let i = usize::from(i) % self.received.len().max(1);
                if let Some((from, message)) = self.received.get(i).cloned() {
                    self.deliver(from, message);
                }
            }
            Step::Restart => self.restart(),
            Step::Take(size, seed) => self.take(size, seed),
            Step::Foreign(lsn, size, seed) => self.foreign(lsn, size, seed),
            Step::Scripted { which, how, len } => self.scripted(which, how, len),
            Step::ForgedAnswer { how, delta, raw } => self.forged_answer(how, delta, raw),
            Step::Arbitrary(chunk) => self.arbitrary_chunk(&chunk),
            Step::Response { how, raw } => self.forged_response(how, raw),
            Step::Advance(ms) => self.now = self.now + Duration::from_millis(u64::from(ms % 1000)),
        }
    }

    /// Both replicas' own invariants (`Replica::check_invariants`), after
    /// every step.
    fn check_invariants(&self) {
        for (node, replica) in [("node 1", &self.leader), ("node 2", &self.follower)] {
            if let Err(violation) = replica.check_invariants() {
                self.fail(&format!("{node}: {violation}"));
            }
        }
    }

    /// Deliver everything in flight and answer every request honestly; a
    /// round in which nothing happens lets node 1's heartbeat fire.
    fn settle(&mut self, rounds: u8) {
        for _ in 0..rounds {
            let idle = self.to_follower.is_empty() && self.to_leader.is_empty();
            while let Some((from, message)) = self.to_follower.pop_front() {
                self.deliver(from, message);
            }
            while let Some(message) = self.to_leader.pop_front() {
                self.reply(message);
            }
            let requests = std::mem::take(&mut self.requests);
            if idle && requests.is_empty() {
                self.run(Step::Tick);
            }
            for request in requests {
                self.answer_honestly(request);
            }
        }
    }
}
