//! Node 2, the follower: its host (which stages, assembles and installs
//! snapshot bytes and keeps the durable state a restart needs) and the
//! chunk rules it is checked against (properties 1 to 4).

use super::{Sim, FOLLOWER, LEADER, MAX_QUEUE, SCRIPTED};
use crate::fuzzing::heard_from_strangers;
use crate::host::HostError;
use steadfast::entry::Entry;
use steadfast::replica::{InputError, Output, Replica, Role};
use steadfast::snapshot::SnapshotMeta;
use steadfast::types::{Epoch, NodeId, Position};
use steadfast::wire::Message;

/// The chunk rules, restated: past the size (or `u64::MAX`), `done` not
/// exactly on the chunk that ends the snapshot, or empty before the end.
pub(super) fn malformed(
    epoch: Epoch,
    meta: &SnapshotMeta,
    offset: u64,
    data: &[u8],
    done: bool,
) -> bool {
    let end = u128::from(offset) + data.len() as u128;
    let size = u128::from(meta.size);
    let members = &meta.membership;
    let bad_membership =
        members.voters.is_empty() || members.voters.iter().any(|v| members.learners.contains(v));
    meta.position.epoch > epoch
        || bad_membership
        || end > size
        || done != (end == size)
        || (data.is_empty() && !done)
}

/// The error node 2 must answer `message` from `from` with, if any.
pub(super) fn expected_error(
    before: &Replica,
    from: NodeId,
    message: &Message,
) -> Option<InputError> {
    if from == FOLLOWER {
        return Some(InputError::FromSelf);
    }
    if !before.membership().contains(from) && !heard_from_strangers(message, before.epoch()) {
        return Some(InputError::UnknownSender(from));
    }
    let ours = message.epoch() == before.epoch() && before.role() == Role::Leader;
    match message {
        Message::InstallSnapshot {
            epoch,
            snapshot,
            offset,
            data,
            done,
        } if malformed(*epoch, snapshot, *offset, data, *done) => {
            Some(InputError::MalformedSnapshot("malformed"))
        }
        Message::InstallSnapshot { .. } | Message::Append { .. } if ours => {
            Some(InputError::ConflictingLeader {
                from,
                epoch: before.epoch(),
            })
        }
        _ => None,
    }
}

impl Sim {
    /// Node 2's state with time advanced to now and nothing else changed, so
    /// that it can be compared with its state after a refused input.
    pub(super) fn touch(&mut self) -> Replica {
        self.follower.handle_persisted(self.now, Position::ZERO);
        self.follower.clone()
    }

    /// Node 2 receives `message` from `from`; its answer, its host's outputs
    /// and its state afterwards are checked (properties 1 to 4).
    pub(super) fn deliver(&mut self, from: NodeId, message: Message) {
        let before = self.touch();
        self.received.push_back((from, message.clone()));
        if self.received.len() > MAX_QUEUE {
            self.received.pop_front();
        }
        let expected = expected_error(&before, from, &message);
        let result = self
            .follower
            .handle_message(self.now, from, message.clone());
        let outputs: Vec<Output> = std::iter::from_fn(|| self.follower.poll_output()).collect();
        let kind = message.kind();
        match (&result, &expected) {
            (Ok(()), None) => {}
            (Err(InputError::MalformedSnapshot(_)), Some(InputError::MalformedSnapshot(_))) => {}
            (Err(got), Some(want)) if got == want => {}
            _ => self.fail(&format!(
                "property 1: node 2 answered {kind} from {from} with {result:?}; the rules say {expected:?}: {message:?}"
            )),
        }
        if result.is_err() {
            self.outcome.refused += 1;
            if self.follower != before || !outputs.is_empty() {
                self.fail(&format!(
                    "property 1: a refused {kind} changed node 2 or had effects: {outputs:?}"
                ));
            }
            return;
        }
        self.commit_before = before.commit();
        let mut installed = None;
        if let Message::InstallSnapshot {
            epoch,
            snapshot,
            offset,
            data,
            done,
        } = &message
        {
            let held = self.held(snapshot);
            self.check_answer(
                &before, from, *epoch, snapshot, *offset, data, *done, &outputs,
            );
            let installs = outputs
                .iter()
                .any(|o| matches!(o, Output::InstallSnapshot { .. }));
            self.track_honest(&before, &message, held, installs);
            installed = installs.then(|| snapshot.clone());
        } else {
            self.clean = None;
        }
        self.perform_all(outputs);
        if let Some(meta) = installed {
            let f = &self.follower;
            if f.snapshot() != Some(&meta)
                || f.commit() < meta.position.lsn
                || f.applied() < meta.position.lsn
            {
                self.fail(&format!(
                    "property 3: after installing {} node 2 has snapshot {:?}, commit {}, applied {}",
                    meta.position,
                    f.snapshot().map(|s| s.position),
                    f.commit(),
                    f.applied()
                ));
            }
        }
        self.check_follower();
    }

    /// Property 4: follows an honest transfer (true bytes in order from 0,
    /// duplicates of its earlier chunks allowed, nothing else delivered in
    /// between) of a snapshot newer than the commit point, which must end
    /// installed. `held` is what the host held of it before this chunk.
    pub(super) fn track_honest(
        &mut self,
        before: &Replica,
        chunk: &Message,
        held: u64,
        installs: bool,
    ) {
        let Message::InstallSnapshot {
            epoch,
            snapshot,
            offset,
            data,
            done,
        } = chunk
        else {
            return;
        };
        let honest = *epoch >= before.epoch() && self.is_true(snapshot, *offset, data);
        let fresh = honest
            && *offset == 0
            && held == 0
            && before.commit().max(before.log_start().lsn) < snapshot.position.lsn;
        let end = *offset + data.len() as u64;
        let (clean, advanced) = match self.clean.take() {
            Some((meta, next)) if honest && meta == **snapshot && *offset < next => {
                (Some((meta, next)), false)
            }
            Some((meta, next)) if honest && meta == **snapshot && *offset == next => {
                (Some((meta, end)), true)
            }
            _ if fresh => (Some((SnapshotMeta::clone(snapshot), end)), true),
            _ => (None, false),
        };
        self.clean = clean;
        if advanced && *done {
            self.clean = None;
            if !installs {
                self.fail(&format!(
                    "property 4: an honest transfer of {} ended without an install",
                    snapshot.position
                ));
            }
        }
    }

    /// Bytes the host holds of the snapshot `meta` (0 for any other).
    pub(super) fn held(&self, meta: &SnapshotMeta) -> u64 {
        match &self.staged {
            Some(staged) if staged == meta => self.follower_host.staged_bytes().len() as u64,
            _ => 0,
        }
    }

    /// Whether `data` at `offset` are true bytes of the snapshot `meta`.
    pub(super) fn is_true(&self, meta: &SnapshotMeta, offset: u64, data: &[u8]) -> bool {
        let Some(t) = self
            .taken
            .iter()
            .chain(&self.foreign)
            .find(|t| t.meta == *meta)
        else {
            return false;
        };
        let start = usize::try_from(offset).unwrap_or(usize::MAX);
        t.bytes.get(start..start.saturating_add(data.len())) == Some(data)
    }

    /// Property 3: node 2's snapshot outputs for a well-formed chunk are the
    /// ones the chunk protocol prescribes, given what its host holds.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn check_answer(
        &mut self,
        before: &Replica,
        from: NodeId,
        epoch: Epoch,
        meta: &SnapshotMeta,
        offset: u64,
        data: &[u8],
        done: bool,
        outputs: &[Output],
    ) {
        let position = meta.position;
        let held = self.held(meta);
        let mut expected = Vec::new();
        let next_offset = if epoch < before.epoch() {
            if self.follower != *before {
                self.fail("property 3: a stale chunk changed node 2");
            }
            0
        } else if before.commit().max(before.log_start().lsn) >= position.lsn {
            meta.size
        } else if offset != held {
            held
        } else {
            expected.push(Output::ReceiveSnapshotChunk {
                snapshot: position,
                offset,
                data: data.to_vec(),
            });
            let mut staged = if offset == 0 {
                Vec::new()
            } else {
                self.follower_host.staged_bytes().to_vec()
            };
            staged.extend_from_slice(data);
            self.staged = Some(meta.clone());
            if !done {
                staged.len() as u64
            } else if crc32c::crc32c(&staged) == meta.checksum {
                self.staged = None;
                expected.push(Output::InstallSnapshot {
                    snapshot: Box::new(meta.clone()),
                    replaced: replaced_by(before, position),
                });
                meta.size
            } else {
                self.staged = None;
                0
            }
        };
        let message = Message::InstallSnapshotResponse {
            epoch: before.epoch().max(epoch),
            snapshot: position,
            next_offset,
        };
        expected.push(Output::Send { to: from, message });
        let actual: Vec<&Output> = outputs
            .iter()
            .filter(|o| {
                matches!(
                    o,
                    Output::Send { .. }
                        | Output::ReceiveSnapshotChunk { .. }
                        | Output::InstallSnapshot { .. }
                )
            })
            .collect();
        if actual != expected.iter().collect::<Vec<_>>() {
            self.fail(&format!(
                "property 3: a chunk of {position} at {offset} ({} bytes, done {done}; host holds {held}) \
                 gave {actual:?}, expected {expected:?}",
                data.len()
            ));
        }
    }

    /// Performs a call's outputs, then those its host's reports of
    /// durability produce (acknowledgements), until nothing is new.
    pub(super) fn perform_all(&mut self, outputs: Vec<Output>) {
        for output in outputs {
            self.perform(output);
        }
        while let Some(output) = self.follower.poll_output() {
            self.perform(output);
        }
    }

    /// Node 2's host performs one output: its storage side through the
    /// reference host (synchronously and durably), its messages on the
    /// network; staging and installing are checked (property 2).
    pub(super) fn perform(&mut self, output: Output) {
        if let Err(e) = self
            .follower_host
            .perform(&mut self.follower, self.now, &output)
        {
            let property = match e {
                HostError::StagingGap { .. } | HostError::SnapshotMismatch { .. } => "property 2",
                _ => "host contract",
            };
            self.fail(&format!("{property}: node 2's host: {e}"));
        }
        match output {
            Output::ReceiveSnapshotChunk { .. } => self.outcome.chunks += 1,
            Output::InstallSnapshot { snapshot, .. } => {
                let position = snapshot.position;
                if position.lsn <= self.commit_before {
                    self.fail(&format!(
                        "property 2: installed {position}, not newer than commit {}",
                        self.commit_before
                    ));
                }
                self.outcome.installs += 1;
            }
            Output::Send { to, message } => match (to, message) {
                (LEADER, message) => {
                    self.to_leader.push_back(message);
                    if self.to_leader.len() > MAX_QUEUE {
                        self.to_leader.pop_front();
                    }
                }
                (
                    SCRIPTED,
                    Message::InstallSnapshotResponse {
                        snapshot,
                        next_offset,
                        ..
                    },
                ) => {
                    self.cursor.insert(snapshot, next_offset);
                }
                (SCRIPTED, _) => {}
                (to, message) => self.fail(&format!("node 2 sent {} to {to}", message.kind())),
            },
            Output::PersistHardState(_)
            | Output::Truncated { .. }
            | Output::RolledBack { .. }
            | Output::Append { .. }
            | Output::Apply { .. }
            | Output::Reply { .. }
            | Output::RoleChanged { .. }
            | Output::ReadReady { .. }
            | Output::ReadFailed { .. }
            | Output::Compacted { .. }
            | Output::ReadSnapshotChunk { .. }
            | Output::MembershipChanged { .. } => {}
        }
    }

    /// Node 2's host keeps exactly the replica's log, and the replica's log
    /// starts at its snapshot; applied <= commit <= last.
    pub(super) fn check_follower(&self) {
        let f = &self.follower;
        let base = f.log_start();
        let stored: Vec<&Entry> = self
            .follower_host
            .log()
            .iter()
            .filter(|e| e.lsn > base.lsn)
            .collect();
        if stored != f.entries().iter().collect::<Vec<_>>()
            || base != f.snapshot().map_or(Position::ZERO, |s| s.position)
            || f.applied() > f.commit()
            || f.commit() > f.last().lsn
        {
            self.fail(&format!(
                "node 2: log from {base} {:?} (snapshot {:?}, applied {}, commit {}), host stores {stored:?}",
                f.entries(),
                f.snapshot().map(|s| s.position),
                f.applied(),
                f.commit()
            ));
        }
    }

    /// Node 2 crashes (losing its staging area and its state machine) and
    /// restarts from the durable state its host kept.
    pub(super) fn restart(&mut self) {
        self.follower_host.crash();
        let durable = self.follower_host.durable();
        self.follower = match Replica::restart(self.config.clone(), durable, self.now) {
            Ok(replica) => replica,
            Err(e) => self.fail(&format!("node 2 cannot restart: {e}")),
        };
        self.staged = None;
        self.clean = None;
        if self.follower.snapshot() != self.follower_host.snapshot().map(|s| &s.meta) {
            self.fail("node 2 restarted without its durable snapshot");
        }
        self.check_follower();
    }
}

/// The entries an install of a snapshot at `position` must report replaced
/// (an independent restatement of the rule): the unapplied entries at or
/// below the position that survive the truncation of whatever the
/// snapshot's history cannot hold (entries past the position, or of a
/// newer epoch, when the log does not contain the position).
fn replaced_by(before: &Replica, position: Position) -> Vec<Position> {
    let contains = before.log_start() == position
        || before.entry(position.lsn).map(Entry::position) == Some(position);
    let kept_through = if contains {
        position.lsn
    } else {
        before
            .entries()
            .iter()
            .rev()
            .find(|e| e.lsn <= position.lsn && e.epoch <= position.epoch)
            .map_or(before.log_start().lsn, |e| e.lsn)
    };
    before
        .entries()
        .iter()
        .filter(|e| e.lsn > before.applied() && e.lsn <= position.lsn && e.lsn <= kept_through)
        .map(Entry::position)
        .collect()
}
