//! A server's state in the models: the real replica, its host storage
//! and the auditor's notes, and the host's side of every step.

use crate::actor::{client_of, Msg, Node, Tick};
use crate::command::{id_allocated, register_at, Command};
use crate::ghost::{Ghost, Marks, StepViolation};
use stateright::actor::{model_timeout, Id, Out};
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use steadfast::{Instant, Output, ProposalOutcome, ReadDecision, Replica, RequestId, SessionToken};
use steadfast_sim::host::MemStorage;

/// A server's host-side storage and the auditor's notes.
///
/// It is shared (`Arc`) between the server's state and what the actor
/// saves as stateright storage ([`Saved`]), and copied only when a step
/// changes it. Its [`Hash`] takes the host's log and state machine by
/// summary ([`MemStorage::hash_summary`]): the server's state hashes the
/// replica, whose log holds those same entries.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Storage {
    /// The reference host: durable hard state and log (writes are durable
    /// at once), and the state machine.
    pub host: MemStorage,
    /// The auditor's notes.
    pub ghost: Ghost,
}

impl Hash for Storage {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.host.hash_summary(state);
        self.ghost.hash(state);
    }
}

/// What a server saves as stateright storage, read back when it restarts
/// after a crash: its whole storage, of which the restart keeps what is
/// durable.
///
/// The actor saves after every step that changes its state, and when it
/// starts, so the saved value is always the very storage (the same `Arc`)
/// of the server's current state, or of its last state before a crash,
/// which stateright keeps while the server is down. Whatever distinguishes
/// it is therefore already hashed with the server's state, and `Saved`
/// hashes nothing: hashing it again would only cost time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Saved(pub Arc<Storage>);

impl Hash for Saved {
    fn hash<H: Hasher>(&self, _state: &mut H) {}
}

/// A server's state: its replica and its host-side storage.
///
/// Every state the checker reaches is hashed whole, and a step changes one
/// server at most, so a server hashes its replica and storage once, when
/// the step that made them ends ([`ServerState::new`]), and its [`Hash`]
/// then feeds that 64-bit digest alone. States are already told apart by
/// 64-bit fingerprints; the digest adds a collision chance of the same
/// order and makes hashing a state cost proportional to what changed.
/// The fields are private to the crate, whose steps end with
/// `sealed` (a new digest); debug builds recompute
/// it on every hash, so a step that forgot fails its tests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerState {
    pub(crate) replica: Replica,
    pub(crate) storage: Arc<Storage>,
    digest: u64,
}

impl Hash for ServerState {
    fn hash<H: Hasher>(&self, state: &mut H) {
        debug_assert_eq!(
            self.digest,
            digest(&self.replica, &self.storage),
            "a server state changed without a new digest"
        );
        state.write_u64(self.digest);
    }
}

/// The digest of a server's replica and storage.
fn digest(replica: &Replica, storage: &Storage) -> u64 {
    crate::digest::digest(&(replica, storage))
}

impl ServerState {
    /// A server state, hashed once (see the type's documentation).
    pub fn new(replica: Replica, storage: Arc<Storage>) -> ServerState {
        let digest = digest(&replica, &storage);
        ServerState {
            replica,
            storage,
            digest,
        }
    }

    /// The real replica.
    pub fn replica(&self) -> &Replica {
        &self.replica
    }

    /// The host's storage and the auditor's notes.
    pub fn storage(&self) -> &Storage {
        &self.storage
    }

    /// What the actor saves for a restart (see [`Saved`]).
    pub fn saved(&self) -> Saved {
        Saved(Arc::clone(&self.storage))
    }

    /// This state after a step changed its replica or storage.
    pub(crate) fn sealed(mut self) -> ServerState {
        self.digest = digest(&self.replica, &self.storage);
        self
    }
}

impl ServerState {
    /// Perform every pending output as a host would: its storage side
    /// through the reference host, then the actor's own part (messages,
    /// client replies, the auditor's notes). A breach of the host contract
    /// is a core bug the models do not explore past: it panics, naming it.
    pub(crate) fn perform(&mut self, before: Marks, o: &mut Out<Node>) {
        let commit_before = before.commit;
        let storage = Arc::make_mut(&mut self.storage);
        while let Some(output) = self.replica.poll_output() {
            let now = self.replica.now();
            if let Err(breach) = storage.host.perform(&mut self.replica, now, &output) {
                panic!(
                    "{} breached the host contract: {breach}",
                    self.replica.config().id
                );
            }
            match output {
                Output::Truncated { discarded, .. } => {
                    for entry in &discarded {
                        let applied = storage.ghost.ever_applied.get(entry.lsn);
                        if entry.lsn <= commit_before || applied == Some(entry.epoch) {
                            storage.ghost.truncated_committed = Some(entry.position());
                        }
                    }
                }
                Output::Send { to, message } => {
                    o.send(Id::from(to.0 as usize), Msg::Peer(Arc::new(message)));
                }
                Output::Apply { entries } => {
                    for entry in entries {
                        let ghost = &mut storage.ghost;
                        if entry.lsn > self.replica.commit() {
                            ghost
                                .apply_breach
                                .get_or_insert(StepViolation::AppliedUncommitted {
                                    lsn: entry.lsn,
                                    commit: self.replica.commit(),
                                });
                        }
                        match ghost.ever_applied.insert(entry.lsn, entry.epoch) {
                            Some(before) if before != entry.epoch => {
                                ghost.applied_conflict = Some(entry.lsn);
                            }
                            _ => {}
                        }
                    }
                }
                Output::Reply { request, outcome } => reply(&self.replica, request, outcome, o),
                Output::ReadReady { read, position } => {
                    let value = register_at(self.replica.entries(), position.lsn);
                    o.send(
                        client_of(read.0),
                        Msg::GetOk {
                            request: read.0,
                            value,
                        },
                    );
                }
                // Storage only (performed above), or nothing to do. The
                // models never take snapshots; a membership change needs
                // nothing of the host here (its entry is in the log).
                Output::PersistHardState(_)
                | Output::RolledBack { .. }
                | Output::Append { .. }
                | Output::RoleChanged { .. }
                | Output::ReadFailed { .. }
                | Output::Compacted { .. }
                | Output::ReadSnapshotChunk { .. }
                | Output::ReceiveSnapshotChunk { .. }
                | Output::InstallSnapshot { .. }
                | Output::MembershipChanged { .. } => {}
            }
        }
        self.check_step(before);
        self.arm_timer(o);
    }

    /// True when the server's budget allows its timer one more firing in
    /// its current role and epoch.
    pub(crate) fn timer_allowed(&self) -> bool {
        let ghost = &self.storage.ghost;
        ghost
            .fired
            .allowed(ghost.budget, self.replica.role(), self.replica.epoch())
    }

    /// Record the first step that moved a watermark backwards.
    pub(crate) fn check_step(&mut self, before: Marks) {
        let after = Marks::of(&self.replica);
        let ghost = &mut Arc::make_mut(&mut self.storage).ghost;
        ghost.highest_epoch = ghost.highest_epoch.max(after.epoch);
        if after.epoch < before.epoch {
            ghost
                .epoch_breach
                .get_or_insert(StepViolation::EpochBackwards {
                    from: before.epoch,
                    to: after.epoch,
                });
        }
        if after.commit < before.commit {
            ghost
                .commit_breach
                .get_or_insert(StepViolation::CommitBackwards {
                    from: before.commit,
                    to: after.commit,
                });
        } else if after.applied < before.applied {
            ghost
                .commit_breach
                .get_or_insert(StepViolation::AppliedBackwards {
                    from: before.applied,
                    to: after.applied,
                });
        }
    }

    /// Arm the timer while the replica has a deadline and the budget allows
    /// one more firing in its current role; otherwise leave it unarmed, so
    /// the checker does not explore a firing that changes nothing.
    pub(crate) fn arm_timer(&self, o: &mut Out<Node>) {
        if self.replica.poll_timeout().is_some() && self.timer_allowed() {
            o.set_timer(Tick, model_timeout());
        } else {
            o.cancel_timer(Tick);
        }
    }

    pub(crate) fn now(&self) -> Instant {
        self.replica.now()
    }
}

/// Answer the client whose write, read or allocation committed at `outcome`.
fn reply(replica: &Replica, request: RequestId, outcome: ProposalOutcome, o: &mut Out<Node>) {
    let ProposalOutcome::Committed(at) = outcome else {
        return;
    };
    let client = client_of(request.0);
    if replica.entry(at.lsn).and_then(|e| e.membership()).is_some() {
        o.send(
            client,
            Msg::ReconfigureOk {
                request: request.0,
                at,
            },
        );
        return;
    }
    let Some(command) = replica.entry(at.lsn).and_then(Command::of) else {
        return;
    };
    let msg = match command {
        Command::Put { .. } => Msg::PutOk {
            request: request.0,
            at,
        },
        Command::Get { .. } => Msg::GetOk {
            request: request.0,
            value: register_at(replica.entries(), at.lsn),
        },
        Command::Allocate { .. } => {
            let Some(id) = id_allocated(replica.entries(), request.0) else {
                return;
            };
            Msg::IdOk {
                request: request.0,
                id,
            }
        }
    };
    o.send(client, msg);
}

/// Answer a follower read as a host would, from the replica's decision:
/// serve the register as applied (the log prefix through the applied
/// position), refuse for good, or do nothing (`Wait`, `Redirect`), which
/// leaves the request in the network until the replica can serve it.
pub(crate) fn serve_local_read(
    server: &ServerState,
    client: Id,
    request: u64,
    token: SessionToken,
    o: &mut Out<Node>,
) {
    match server.replica.read_local(token) {
        ReadDecision::Serve { at } => {
            let value = register_at(server.replica.entries(), at.lsn);
            o.send(client, Msg::ReadAtOk { request, at, value });
        }
        ReadDecision::Rejected(rejection) => o.send(
            client,
            Msg::ReadAtRejected {
                request,
                reason: rejection.into(),
            },
        ),
        ReadDecision::Wait { .. } | ReadDecision::Redirect { .. } => {}
    }
}

impl ServerState {
    /// Save the storage for a restart after a crash (see [`Saved`]).
    pub(crate) fn storage_save(&self, o: &mut Out<Node>) {
        o.save(self.saved());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use steadfast::{Config, Epoch, Lsn, NodeId, Replica};

    fn server() -> ServerState {
        let config = Config::new(NodeId(0), [NodeId(0), NodeId(1), NodeId(2)]);
        let replica = Replica::new(config, Instant(0)).expect("a valid configuration");
        ServerState::new(replica, Arc::default())
    }

    #[test]
    fn a_step_that_moves_a_watermark_back_is_noted_once() {
        let mut s = server();
        s.check_step(Marks::of(&s.replica));
        assert_eq!(s.storage().ghost, Ghost::default(), "nothing moved");
        let ahead = Marks {
            epoch: Epoch(0),
            commit: Lsn(3),
            applied: Lsn(0),
        };
        s.check_step(ahead);
        assert_eq!(
            s.storage().ghost.commit_breach,
            Some(StepViolation::CommitBackwards {
                from: Lsn(3),
                to: Lsn(0)
            })
        );
        let newer = Marks {
            epoch: Epoch(2),
            commit: Lsn(5),
            ..ahead
        };
        s.check_step(newer);
        assert_eq!(
            s.storage().ghost.commit_breach,
            Some(StepViolation::CommitBackwards {
                from: Lsn(3),
                to: Lsn(0)
            }),
            "the first breach is kept"
        );
        assert_eq!(
            s.storage().ghost.epoch_breach,
            Some(StepViolation::EpochBackwards {
                from: Epoch(2),
                to: Epoch(0)
            }),
            "an epoch breach is noted even after a commit breach"
        );
        assert_eq!(
            StepViolation::EpochBackwards {
                from: Epoch(2),
                to: Epoch(1)
            }
            .to_string(),
            "the epoch went back from e2 to e1"
        );
    }
}
