//! Harness hosts that take, store, serve and install snapshots, and
//! operators that add nodes and change the membership.

use super::Clock;
use super::{Cluster, Host};
use steadfast::config::Config;
use steadfast::entry::{Entry, RequestId};
use steadfast::membership::{MembershipChange, MembershipError};
use steadfast::replica::{Durable, Output, Replica};
use steadfast::types::{NodeId, Position};

impl Host {
    pub(super) fn new(replica: Replica, config: Config) -> Host {
        Host {
            replica: Some(replica),
            durable: Durable::default(),
            state: Vec::new(),
            snapshot_bytes: Vec::new(),
            staging: Vec::new(),
            config,
            clock: Clock::default(),
        }
    }
}

/// The state machine a harness snapshot holds: the applied entries.
pub(crate) fn encode_state(state: &[Entry]) -> Vec<u8> {
    postcard::to_allocvec(state).unwrap_or_default()
}

/// The state machine in a snapshot's bytes (empty for none or garbage).
pub(crate) fn decode_state(bytes: &[u8]) -> Vec<Entry> {
    if bytes.is_empty() {
        return Vec::new();
    }
    postcard::from_bytes(bytes).unwrap_or_default()
}

/// What a host answers to [`Output::ReadSnapshotChunk`]: up to `max_len`
/// of the snapshot's `bytes` from `offset` (fewer at the end).
pub(crate) fn read_chunk(bytes: &[u8], offset: u64, max_len: usize) -> Vec<u8> {
    let start = usize::try_from(offset).map_or(bytes.len(), |o| o.min(bytes.len()));
    let end = start.saturating_add(max_len).min(bytes.len());
    bytes[start..end].to_vec()
}

impl Cluster {
    /// `node`'s host snapshots its state machine (everything applied so
    /// far), makes it durable, and reports it to the core, which may
    /// compact its log. Returns the snapshot's position if the core took it.
    pub fn take_snapshot(&mut self, node: NodeId) -> Option<Position> {
        let now = self.local_now(node);
        let host = self.hosts.get_mut(&node)?;
        let position = host.state.last()?.position();
        let bytes = encode_state(&host.state);
        let checksum = crc32c::crc32c(&bytes);
        let size = bytes.len() as u64;
        let replica = host.replica.as_mut()?;
        // Durable first, then reported.
        let previous = std::mem::replace(&mut host.snapshot_bytes, bytes);
        match replica.snapshot_taken(now, position, size, checksum) {
            Ok(()) => {
                host.durable.snapshot = replica.snapshot().cloned();
                self.log(format!("{node} took a snapshot at {position}"));
                self.drain(node);
                Some(position)
            }
            Err(e) => {
                host.snapshot_bytes = previous;
                self.log(format!("{node} refused a snapshot at {position}: {e}"));
                None
            }
        }
    }

    /// Start a new node with `config` (which must list it as a learner or
    /// voter, and the current members, so it accepts their messages).
    pub fn add_node(&mut self, config: Config) {
        let id = config.id;
        let now = self.now;
        let mut replica = Replica::new(config.clone(), now).expect("valid simulated config");
        replica.plant_bug(self.planted_bug);
        self.hosts.insert(id, Host::new(replica, config));
        self.log(format!("{id} started as a new node"));
    }

    /// Propose a membership change at `node`.
    pub fn propose_membership(
        &mut self,
        node: NodeId,
        change: MembershipChange,
    ) -> Result<(RequestId, Position), MembershipError> {
        let request = RequestId(self.next_request);
        let now = self.local_now(node);
        let replica = self
            .replica_mut(node)
            .ok_or(MembershipError::NotLeader { leader: None })?;
        let position = replica.propose_membership(now, request, change)?;
        self.next_request += 1;
        self.proposals.insert(request, (node, Vec::new()));
        self.log(format!("{node} accepted {change:?} at {position}"));
        self.drain(node);
        Ok((request, position))
    }

    /// Propose a membership change at the current leader.
    pub fn propose_membership_to_leader(
        &mut self,
        change: MembershipChange,
    ) -> Result<(RequestId, Position), MembershipError> {
        let leader = self
            .leader()
            .ok_or(MembershipError::NotLeader { leader: None })?;
        self.propose_membership(leader, change)
    }

    /// The host side of the snapshot outputs.
    pub(super) fn perform_snapshot_output(&mut self, id: NodeId, output: Output) {
        let now = self.now;
        let local = self.local_now(id);
        let Some(host) = self.hosts.get_mut(&id) else {
            return;
        };
        match output {
            Output::Compacted { through } => {
                host.durable.log.retain(|e| e.lsn > through.lsn);
                self.log(format!("{id} compacted its log through {through}"));
            }
            Output::ReadSnapshotChunk {
                to,
                snapshot,
                offset,
                max_len,
            } => {
                let held = host.durable.snapshot.as_ref().map(|s| s.position);
                if held != Some(snapshot) {
                    return;
                }
                let chunk = read_chunk(&host.snapshot_bytes, offset, max_len);
                let Some(replica) = host.replica.as_mut() else {
                    return;
                };
                if let Err(e) = replica.handle_snapshot_chunk(local, to, snapshot, offset, chunk) {
                    self.log(format!("{id} refused its own snapshot chunk: {e}"));
                }
            }
            Output::ReceiveSnapshotChunk {
                snapshot,
                offset,
                data,
            } => {
                let offset = usize::try_from(offset).unwrap_or(usize::MAX);
                if offset == 0 {
                    host.staging.clear();
                }
                host.staging.truncate(offset);
                host.staging.extend(data);
                let len = host.staging.len();
                self.log(format!(
                    "{id} holds {len} bytes of the snapshot at {snapshot}"
                ));
            }
            Output::InstallSnapshot { snapshot, .. } => {
                let bytes = std::mem::take(&mut host.staging);
                let state = decode_state(&bytes);
                host.state = state.clone();
                host.snapshot_bytes = bytes;
                host.durable.log.retain(|e| e.lsn > snapshot.position.lsn);
                let position = snapshot.position;
                host.durable.snapshot = Some(snapshot);
                self.history.on_apply(now, id, &state);
                self.log(format!("{id} installed the snapshot at {position}"));
            }
            other => self.log(format!("{id}: unexpected output {other:?}")),
        }
    }
}
