//! Node 1, the leader, and its host, which serves snapshot chunks
//! (property 5).

use super::{truth, Sim, FOLLOWER, LEADER, MAX_QUEUE, SCRIPTED};
use steadfast::replica::{Output, Role, SnapshotTransfer};
use steadfast::snapshot::SnapshotError;
use steadfast::types::{NodeId, Position};
use steadfast::wire::Message;

impl Sim {
    /// Node 1's transfer to node 2, as it reports it.
    pub(super) fn transfer(&self) -> Option<SnapshotTransfer> {
        self.leader
            .follower_status()
            .get(&FOLLOWER)
            .and_then(|s| s.snapshot)
    }

    /// Node 1's host performs its outputs: storage through the reference
    /// host (durable at once), messages to node 2 go on the network (node
    /// 3's are lost), and every chunk request must match the transfer it is
    /// for; it is answered later, when the program says.
    pub(super) fn drain_leader(&mut self) {
        while let Some(output) = self.leader.poll_output() {
            match output {
                Output::Send { to, message } => self.leader_sent(to, message),
                Output::ReadSnapshotChunk {
                    to,
                    snapshot,
                    offset,
                    max_len,
                } => self.chunk_requested(to, snapshot, offset, max_len),
                storage @ (Output::PersistHardState(_)
                | Output::Truncated { .. }
                | Output::RolledBack { .. }
                | Output::Append { .. }
                | Output::Apply { .. }
                | Output::Compacted { .. }
                | Output::ReceiveSnapshotChunk { .. }
                | Output::InstallSnapshot { .. }
                | Output::Reply { .. }
                | Output::RoleChanged { .. }
                | Output::ReadReady { .. }
                | Output::ReadFailed { .. }
                | Output::MembershipChanged { .. }) => {
                    if let Err(e) = self
                        .leader_host
                        .perform(&mut self.leader, self.now, &storage)
                    {
                        self.fail(&format!("host contract: node 1's host: {e}"));
                    }
                }
            }
        }
    }

    /// Property 5: a chunk request matches node 1's transfer to `to`.
    fn chunk_requested(&mut self, to: NodeId, snapshot: Position, offset: u64, max_len: usize) {
        let transfer = self
            .leader
            .follower_status()
            .get(&to)
            .and_then(|s| s.snapshot);
        let ok = transfer.is_some_and(|t| {
            t.position == snapshot
                && t.offset == offset
                && max_len as u64 == t.size.saturating_sub(offset).min(self.max_chunk as u64)
        });
        if !ok {
            self.fail(&format!(
                "property 5: node 1 asked for {max_len} bytes of {snapshot} at {offset} for {to}; its transfer is {transfer:?}"
            ));
        }
        self.requests.push((to, snapshot, offset, max_len));
        if self.requests.len() > 16 {
            self.requests.remove(0);
        }
    }

    /// A message from node 1 goes on the network.
    pub(super) fn leader_sent(&mut self, to: NodeId, message: Message) {
        match to {
            FOLLOWER => {
                self.to_follower.push_back((LEADER, message));
                if self.to_follower.len() > MAX_QUEUE {
                    self.to_follower.pop_front();
                }
            }
            SCRIPTED => {}
            _ => self.fail(&format!("node 1 sent {} to {to}", message.kind())),
        }
    }

    /// Node 2's answers (or a forgery in its name) reach node 1: well-formed
    /// messages from a member are always accepted.
    pub(super) fn reply(&mut self, message: Message) {
        let kind = message.kind();
        if let Err(e) = self.leader.handle_message(self.now, FOLLOWER, message) {
            self.fail(&format!(
                "property 5: node 1 refused a {kind} from node 2: {e}"
            ));
        }
        self.drain_leader();
        if let Some(t) = self.transfer().filter(|t| t.offset > t.size) {
            self.fail(&format!(
                "property 5: node 1's transfer is past the snapshot's end: {t:?}"
            ));
        }
    }

    /// Node 1's host snapshots everything applied and reports it (after
    /// making it durable, as the contract says).
    pub(super) fn take(&mut self, size: u16, seed: u8) {
        let Some(entry) = self.leader.entry(self.leader.applied()) else {
            return;
        };
        let t = truth(entry.position(), size, seed);
        let position = t.meta.position;
        let taken = self
            .leader_host
            .take_snapshot_as(&mut self.leader, self.now, t.bytes.clone());
        match taken {
            Ok(Some(at)) if at == position => {}
            Ok(at) => self.fail(&format!(
                "node 1's host snapshots its state machine at {at:?}, its replica applied through {position}"
            )),
            Err(e) => self.fail(&format!(
                "node 1 refused an honest snapshot at {position}: {e}"
            )),
        }
        if self.leader.snapshot() != Some(&t.meta) {
            self.fail("node 1 recorded a different snapshot than its host took");
        }
        self.taken.push(t);
        self.drain_leader();
    }

    /// Node 1's host answers a chunk request with the true bytes, if it
    /// still holds that snapshot (only its latest).
    pub(super) fn answer_honestly(
        &mut self,
        (to, snapshot, offset, max_len): (NodeId, Position, u64, usize),
    ) {
        let Some(data) = self.leader_host.read_chunk(snapshot, offset, max_len) else {
            return;
        };
        self.answer(to, snapshot, offset, data);
    }

    /// Property 5: node 1 accepts exactly the chunk its transfer to `to`
    /// expects, and sends exactly it; anything else is refused, typed,
    /// without effect.
    pub(super) fn answer(&mut self, to: NodeId, snapshot: Position, offset: u64, data: Vec<u8>) {
        self.leader.handle_persisted(self.now, Position::ZERO);
        let before = self.leader.clone();
        let transfer = before.follower_status().get(&to).and_then(|s| s.snapshot);
        let len = data.len() as u64;
        let expected = match transfer {
            Some(t)
                if before.role() == Role::Leader
                    && t.position == snapshot
                    && t.offset == offset =>
            {
                let max_len = t.size.saturating_sub(offset).min(self.max_chunk as u64);
                if len == max_len {
                    Ok(t.size)
                } else {
                    Err(SnapshotError::BadChunk {
                        offset,
                        len,
                        size: t.size,
                        max_len,
                    })
                }
            }
            _ => Err(SnapshotError::UnexpectedChunk {
                to,
                snapshot,
                offset,
            }),
        };
        let result =
            self.leader
                .handle_snapshot_chunk(self.now, to, snapshot, offset, data.clone());
        let outputs: Vec<Output> = std::iter::from_fn(|| self.leader.poll_output()).collect();
        match (result, expected) {
            (Ok(()), Ok(size)) => {
                let meta = self.taken.iter().find(|t| t.meta.position == snapshot).map(|t| t.meta.clone());
                let message = Message::InstallSnapshot {
                    epoch: before.epoch(),
                    snapshot: Box::new(meta.unwrap_or_else(|| self.fail("node 1 sends a snapshot its host never took"))),
                    offset,
                    data,
                    done: offset + len == size,
                };
                if outputs != [Output::Send { to, message: message.clone() }] {
                    self.fail(&format!("property 5: node 1 answered a chunk with {outputs:?}, not {message:?}"));
                }
                self.outcome.answers.0 += 1;
                self.leader_sent(to, message);
            }
            (Err(got), Err(want)) if got == want => {
                self.outcome.answers.1 += 1;
                if self.leader != before || !outputs.is_empty() {
                    self.fail(&format!("property 5: a refused chunk changed node 1 or had effects: {outputs:?}"));
                }
            }
            (got, want) => self.fail(&format!(
                "property 5: node 1 took {len} bytes of {snapshot} at {offset} for {to} with {got:?}; its transfer \
                 {transfer:?} says {want:?}"
            )),
        }
    }
}
