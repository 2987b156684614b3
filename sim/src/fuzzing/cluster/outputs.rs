//! How the `cluster` target's hosts perform the core's outputs, checking
//! each one as they go.

use super::host::StorageOp;
use super::sim::{node_id, Sim};
use super::REPLAY_WINDOW;
use steadfast::entry::Entry;
use steadfast::replica::{Output, ProposalOutcome, Role};
use steadfast::snapshot::SnapshotError;
use steadfast::types::NodeId;
use steadfast::wire::{self, Envelope, Message};

impl Sim {
    pub(super) fn perform(&mut self, i: usize, output: Output) {
        let id = node_id(i);
        let now = self.now;
        match output {
            Output::PersistHardState(hard) => {
                let old = self.hosts[i].hard;
                if hard.epoch < old.epoch {
                    self.fail(&format!(
                        "{id} lowered its persisted epoch: {old:?} -> {hard:?}"
                    ));
                }
                if let Some(vote) = hard.voted_for {
                    match self.votes.get(&(id, hard.epoch)) {
                        Some(&earlier) if earlier != vote => self.fail(&format!(
                            "{id} voted for {earlier} and then for {vote} in epoch {}",
                            hard.epoch
                        )),
                        _ => {
                            self.votes.insert((id, hard.epoch), vote);
                        }
                    }
                }
                self.hosts[i].hard = hard;
            }
            Output::Truncated { after, discarded } => {
                if discarded.first().map(|e| e.lsn) != Some(after.next()) {
                    self.fail(&format!(
                        "{id}: truncation after {after} reports {discarded:?}"
                    ));
                }
                self.history.on_truncate(now, id, &discarded);
                self.store(i, StorageOp::Truncate { after, discarded });
            }
            Output::Append { entries } => {
                if entries.is_empty() {
                    self.fail(&format!("{id} asked to append no entries"));
                }
                self.store(i, StorageOp::Append(entries));
            }
            Output::Compacted { through } => {
                let snapshot = self.hosts[i].snapshot_position();
                if through.lsn > snapshot.lsn {
                    self.fail(&format!(
                        "{id} may delete entries through {through}, past its snapshot at {snapshot}"
                    ));
                }
                self.store(i, StorageOp::Compact(through));
            }
            Output::RolledBack { entries } => self.fail(&format!(
                "{id} rolled back applied entries {:?} under {:?}, which survives failover",
                entries.iter().map(Entry::position).collect::<Vec<_>>(),
                self.setup.durability
            )),
            Output::Send { to, message } => self.send(id, to, message),
            Output::Apply { entries } => {
                let next = steadfast::types::Lsn(self.hosts[i].applied.len() as u64).next();
                if entries.first().map(|e| e.lsn) != Some(next) {
                    self.fail(&format!(
                        "{id} applies from {:?}, expected lsn {next}",
                        entries.first().map(Entry::position)
                    ));
                }
                self.history.on_apply(now, id, &entries);
                self.hosts[i].applied.extend(entries);
            }
            Output::Reply { request, outcome } => self.reply(i, request, outcome),
            Output::RoleChanged {
                role: Role::Leader,
                epoch,
                ..
            } => {
                if let Some(replica) = self.hosts[i].replica.clone() {
                    self.history.on_leader(now, id, epoch, &replica);
                }
            }
            Output::RoleChanged { .. }
            | Output::ReadReady { .. }
            | Output::ReadFailed { .. }
            | Output::MembershipChanged { .. } => {}
            Output::ReadSnapshotChunk {
                to,
                snapshot,
                offset,
                max_len,
            } => {
                // The host serves the chunk at once if it still holds that
                // snapshot (otherwise the core asks again later).
                let Some(data) = self.hosts[i].read_chunk(snapshot, offset, max_len) else {
                    return;
                };
                let Some(replica) = self.hosts[i].replica.as_mut() else {
                    return;
                };
                match replica.handle_snapshot_chunk(now, to, snapshot, offset, data) {
                    // Earlier outputs of the same batch may have moved the
                    // transfer on or ended this leadership.
                    Ok(()) | Err(SnapshotError::UnexpectedChunk { .. }) => {}
                    Err(error) => self.fail(&format!(
                        "{id} refused its own host's snapshot chunk: {error}"
                    )),
                }
            }
            Output::ReceiveSnapshotChunk { offset, data, .. } => {
                if let Err(problem) = self.hosts[i].stage_chunk(offset, data) {
                    self.fail(&format!("{id}: {problem}"));
                }
            }
            Output::InstallSnapshot { snapshot, replaced } => {
                let position = snapshot.position;
                match self.hosts[i].install(snapshot, &replaced) {
                    Ok(state) => {
                        self.history.on_apply(now, id, &state);
                        self.installs += 1;
                    }
                    Err(problem) => self.fail(&format!("{id}: {problem}")),
                }
                let host = &mut self.hosts[i];
                let durable = host.log.last().map_or(position, Entry::position);
                if let Some(replica) = host.replica.as_mut() {
                    replica.handle_persisted(now, durable);
                }
            }
        }
    }

    /// Queue a storage write; with synchronous storage it is durable at once.
    fn store(&mut self, i: usize, op: StorageOp) {
        self.hosts[i].queue.push(op);
        if self.setup.sync_storage {
            self.flush(i, usize::MAX);
        }
    }

    /// Put a message on the network after checking it is addressed to
    /// another host and survives the wire codec unchanged.
    fn send(&mut self, from: NodeId, to: NodeId, message: Message) {
        if to == from || !self.is_host(to) {
            self.fail(&format!("{from} sent {} to {to}", message.kind()));
        }
        let envelope = Envelope { from, to, message };
        let bytes = wire::encode(&envelope).expect("every message encodes");
        match wire::decode(&bytes) {
            Ok(decoded) if decoded == envelope => {}
            other => self.fail(&format!("wire round trip of {envelope:?} gave {other:?}")),
        }
        let sent = (envelope.from, envelope.to, envelope.message);
        if self.sent.len() >= REPLAY_WINDOW {
            self.sent.pop_front();
        }
        self.sent.push_back(sent.clone());
        self.enqueue(sent);
    }

    /// An acknowledgement: for the position proposed, and only once durable
    /// on a commit quorum of the acknowledging leader's voters.
    fn reply(&mut self, i: usize, request: steadfast::entry::RequestId, outcome: ProposalOutcome) {
        let ProposalOutcome::Committed(position) = outcome else {
            return;
        };
        if self.proposals.get(&request) != Some(&position) {
            self.fail(&format!(
                "request {} acknowledged at {position}, proposed at {:?}",
                request.0,
                self.proposals.get(&request)
            ));
        }
        let voters: Vec<NodeId> = self.hosts[i]
            .replica
            .as_ref()
            .map(|r| r.membership().voters.iter().copied().collect())
            .unwrap_or_default();
        let durable_on = voters
            .iter()
            .filter(|v| {
                usize::try_from(v.0 - 1)
                    .ok()
                    .and_then(|index| self.hosts.get(index))
                    .is_some_and(|h| h.holds(position))
            })
            .count();
        let quorum = self.setup.durability.commit_quorum(voters.len());
        if durable_on < quorum {
            self.fail(&format!(
                "request {} acknowledged at {position} while durable on {durable_on} of the voters {voters:?} (commit quorum {quorum})",
                request.0
            ));
        }
        if self.reconfigurations.contains_key(&request) {
            self.reconfigured += 1;
        }
        self.history.on_ack(request, position);
    }
}
