//! A writer for the programs the `cluster` target reads, used to build
//! meaningful seed inputs.

use super::{
    OP_ADVANCE, OP_CRASH, OP_DELIVER, OP_DROP, OP_DUPLICATE, OP_FLUSH, OP_MALFORMED, OP_OUTSIDER,
    OP_PROPOSE, OP_RECONFIGURE, OP_REPLAY, OP_RESTART, OP_SETTLE, OP_SNAPSHOT, OP_STALE,
    OP_TIMEOUT, OP_TRANSFER,
};
use steadfast::membership::MembershipChange;

/// Writes the programs [`check_cluster`](super::check_cluster) reads, for
/// seed inputs: a setup, then honest steps (hostile steps are best left to
/// the fuzzer's mutations).
#[derive(Clone, Debug)]
pub struct Program {
    flags: u8,
    epoch: u8,
    steps: Vec<u8>,
}

impl Default for Program {
    fn default() -> Self {
        Program::new()
    }
}

impl Program {
    /// Three voters, `Quorum`, pre-vote and check-quorum on, synchronous
    /// storage, epochs from zero.
    pub fn new() -> Program {
        Program {
            flags: 0,
            epoch: 0,
            steps: Vec::new(),
        }
    }
    /// Add a learner (node 4).
    pub fn with_learner(mut self) -> Program {
        self.flags |= 1;
        self
    }
    /// Add a spare node (node 4) that is not a member until a membership
    /// change adds it.
    pub fn with_spare(mut self) -> Program {
        self.flags |= 32;
        self
    }
    /// Use `Durability::All`.
    pub fn durability_all(mut self) -> Program {
        self.flags |= 2;
        self
    }
    /// Turn pre-vote off.
    pub fn without_pre_vote(mut self) -> Program {
        self.flags |= 4;
        self
    }
    /// Turn check-quorum off.
    pub fn without_check_quorum(mut self) -> Program {
        self.flags |= 8;
        self
    }
    /// Storage writes become durable only on flush steps.
    pub fn async_storage(mut self) -> Program {
        self.flags |= 16;
        self
    }
    /// Start `below` (0..=3) epochs before `u64::MAX`.
    pub fn near_epoch_limit(mut self, below: u8) -> Program {
        self.epoch = 0xE0 | (below & 3);
        self
    }
    fn op(mut self, op: u8, args: &[u8]) -> Program {
        self.steps.push(op);
        self.steps.extend_from_slice(args);
        self
    }
    /// Deliver the in-flight message at `index`.
    pub fn deliver(self, index: u16) -> Program {
        self.op(OP_DELIVER, &index.to_le_bytes())
    }
    /// Fire `node`'s timer (nodes are 0-based here).
    pub fn timeout(self, node: u8) -> Program {
        self.op(OP_TIMEOUT, &[node])
    }
    /// Flush up to `count` (1..=4) pending storage writes of `node`.
    pub fn flush(self, node: u8, count: u8) -> Program {
        self.op(OP_FLUSH, &[node, count.saturating_sub(1)])
    }
    /// Propose `payload` (at most 7 bytes) at `node`.
    pub fn propose(self, node: u8, payload: &[u8]) -> Program {
        let payload = &payload[..payload.len().min(7)];
        let mut args = vec![node, payload.len() as u8];
        args.extend_from_slice(payload);
        self.op(OP_PROPOSE, &args)
    }
    /// Lose the in-flight message at `index`.
    pub fn drop_message(self, index: u16) -> Program {
        self.op(OP_DROP, &index.to_le_bytes())
    }
    /// Duplicate the in-flight message at `index`.
    pub fn duplicate(self, index: u16) -> Program {
        self.op(OP_DUPLICATE, &index.to_le_bytes())
    }
    /// Replay a recently sent message.
    pub fn replay(self, index: u16) -> Program {
        self.op(OP_REPLAY, &index.to_le_bytes())
    }
    /// Let `ms` (below 1000) milliseconds pass.
    pub fn advance(self, ms: u16) -> Program {
        self.op(OP_ADVANCE, &ms.to_le_bytes())
    }
    /// Crash `node`.
    pub fn crash(self, node: u8) -> Program {
        self.op(OP_CRASH, &[node])
    }
    /// Restart `node`.
    pub fn restart(self, node: u8) -> Program {
        self.op(OP_RESTART, &[node])
    }
    /// Ask the leader to transfer leadership to `node`.
    pub fn transfer(self, node: u8) -> Program {
        self.op(OP_TRANSFER, &[node])
    }
    /// `node`'s host snapshots its state machine.
    pub fn snapshot(self, node: u8) -> Program {
        self.op(OP_SNAPSHOT, &[node])
    }
    /// Ask the leader for `change` (nodes 1 to 4; others wrap around).
    pub fn reconfigure(self, change: MembershipChange) -> Program {
        let (kind, id) = match change {
            MembershipChange::AddLearner(id) => (0, id),
            MembershipChange::PromoteLearner(id) => (1, id),
            MembershipChange::Remove(id) => (2, id),
        };
        let index = u8::try_from(id.0.saturating_sub(1)).unwrap_or(u8::MAX);
        self.op(OP_RECONFIGURE, &[kind, index])
    }
    /// Flush everything and deliver up to `rounds` (1..=32) messages in order.
    pub fn settle(self, rounds: u8) -> Program {
        self.op(OP_SETTLE, &[rounds.saturating_sub(1)])
    }
    /// A hostile step of each kind (`outsider`, `malformed`, `stale`):
    /// `header` holds its receiver, claimed sender and one more field
    /// (self-claim ratio / malformation / stale epoch: 1, 1 and 8 bytes),
    /// and the message is built from `message` as arbitrary data.
    pub fn hostile(self, kind: u8, header: &[u8], message: &[u8]) -> Program {
        let op = [OP_OUTSIDER, OP_MALFORMED, OP_STALE][usize::from(kind % 3)];
        let message = &message[..message.len().min(95)];
        let mut args = header.to_vec();
        args.push(message.len() as u8);
        args.extend_from_slice(message);
        self.op(op, &args)
    }
    /// The input bytes.
    pub fn bytes(&self) -> Vec<u8> {
        let mut out = vec![self.flags, self.epoch];
        out.extend_from_slice(&self.steps);
        out
    }
}
