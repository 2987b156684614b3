//! How the `cluster` target's hosts perform the core's outputs, checking
//! each one as they go.

use super::sim::{node_id, Sim};
use super::REPLAY_WINDOW;
use steadfast::entry::Entry;
use steadfast::replica::{Output, ProposalOutcome, Role};
use steadfast::types::NodeId;
use steadfast::wire::{self, Envelope, Message};

impl Sim {
    pub(super) fn perform(&mut self, i: usize, output: Output) {
        let id = node_id(i);
        let now = self.now;
        let host = &mut self.hosts[i];
        let Some(replica) = host.replica.as_mut() else {
            return;
        };
        let stored = host.storage.perform(replica, now, &output);
        if let Err(problem) = &stored {
            self.fail(&format!("{id}: {problem}"));
        }
        match output {
            Output::PersistHardState(hard) => {
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
            }
            Output::Truncated { after, discarded } => {
                if discarded.first().map(|e| e.lsn) != Some(after.next()) {
                    self.fail(&format!(
                        "{id}: truncation after {after} reports {discarded:?}"
                    ));
                }
                self.history.on_truncate(now, id, &discarded);
            }
            Output::Append { entries } => {
                if entries.is_empty() {
                    self.fail(&format!("{id} asked to append no entries"));
                }
            }
            Output::RolledBack { entries } => self.fail(&format!(
                "{id} rolled back applied entries {:?} under {:?}, which survives failover",
                entries.iter().map(Entry::position).collect::<Vec<_>>(),
                self.setup.durability
            )),
            Output::Send { to, message } => self.send(id, to, message),
            Output::Apply { entries } => self.history.on_apply(now, id, &entries),
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
            Output::InstallSnapshot { .. } => {
                if stored.is_ok() {
                    let state = self.hosts[i].storage.applied().to_vec();
                    self.history.on_apply(now, id, &state);
                    self.installs += 1;
                }
            }
            Output::RoleChanged { .. }
            | Output::ReadReady { .. }
            | Output::ReadFailed { .. }
            | Output::MembershipChanged { .. }
            | Output::Compacted { .. }
            | Output::ReadSnapshotChunk { .. }
            | Output::ReceiveSnapshotChunk { .. } => {}
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
            other => self.fail(&format!("wire round trip of {envelope} gave {other:?}")),
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
                    .is_some_and(|h| h.storage.holds(position))
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
