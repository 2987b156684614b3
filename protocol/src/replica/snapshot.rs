//! Snapshots and log compaction: the host reports a durable snapshot, the
//! core compacts its log behind it; a follower whose next entry was
//! compacted away receives the snapshot in chunks the leader pulls from its
//! host, checks its CRC32C, installs it and continues from its position.

use super::{InputError, Output, Replica};
use crate::entry::Entry;
use crate::membership::Membership;
use crate::snapshot::{SnapshotError, SnapshotMeta};
use crate::types::{Epoch, Lsn, NodeId, Position};
use crate::wire::Message;

/// Follower: a snapshot being received.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(super) struct Incoming {
    meta: SnapshotMeta,
    /// Bytes received so far, consecutive from 0.
    next_offset: u64,
    /// CRC32C of those bytes.
    crc: u32,
}

impl Incoming {
    /// Bytes received so far, and the snapshot's size.
    pub(super) fn progress(&self) -> (u64, u64) {
        (self.next_offset, self.meta.size)
    }
}

impl crate::rename::RenameNodes for Incoming {
    fn rename_nodes(&self, rename: &dyn Fn(NodeId) -> NodeId) -> Self {
        Incoming {
            meta: self.meta.rename_nodes(rename),
            ..self.clone()
        }
    }
}

/// Leader: a snapshot being sent to one follower.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(super) struct Outgoing {
    pub(super) meta: SnapshotMeta,
    /// Bytes the follower confirmed; the next chunk starts here.
    pub(super) offset: u64,
    /// A chunk was requested from the host (and sent) and not yet answered.
    outstanding: bool,
    /// The follower confirmed progress since the last heartbeat.
    progressed: bool,
}

impl crate::rename::RenameNodes for Outgoing {
    fn rename_nodes(&self, rename: &dyn Fn(NodeId) -> NodeId) -> Self {
        Outgoing {
            meta: self.meta.rename_nodes(rename),
            ..self.clone()
        }
    }
}

/// Reject chunks no correct leader (of `epoch`) would send.
pub(super) fn validate_chunk(
    epoch: Epoch,
    meta: &SnapshotMeta,
    offset: u64,
    data: &[u8],
    done: bool,
) -> Result<(), InputError> {
    // A leader of `epoch` holds no entry of a later epoch, so neither does
    // its snapshot; installing one would leave a log newer than the hard
    // state (and a replica that thinks itself more up to date than anyone).
    if meta.position.epoch > epoch {
        return Err(InputError::MalformedSnapshot(
            "the snapshot's position is of an epoch past the sender's",
        ));
    }
    if !super::follower::well_formed(&meta.membership) {
        return Err(InputError::MalformedSnapshot(
            "the snapshot's membership has no voters or a voter that is also a learner",
        ));
    }
    let len = u64::try_from(data.len()).unwrap_or(u64::MAX);
    let Some(end) = offset.checked_add(len) else {
        return Err(InputError::MalformedSnapshot("chunk runs past u64::MAX"));
    };
    if end > meta.size {
        return Err(InputError::MalformedSnapshot(
            "chunk runs past the snapshot's size",
        ));
    }
    if done != (end == meta.size) {
        return Err(InputError::MalformedSnapshot(
            "`done` must be set exactly on the chunk that ends the snapshot",
        ));
    }
    if !done && data.is_empty() {
        return Err(InputError::MalformedSnapshot("empty chunk before the end"));
    }
    Ok(())
}

/// The length of the chunk at `offset` of `meta`'s bytes, in chunks of at
/// most `max_chunk` bytes.
fn chunk_len(max_chunk: usize, meta: &SnapshotMeta, offset: u64) -> u64 {
    let max = u64::try_from(max_chunk).unwrap_or(u64::MAX);
    meta.size.saturating_sub(offset).min(max)
}

impl Replica {
    /// [`snapshot_taken`](Replica::snapshot_taken) after the time was
    /// advanced.
    pub(super) fn record_snapshot(
        &mut self,
        position: Position,
        size: u64,
        checksum: u32,
    ) -> Result<(), SnapshotError> {
        if !self.log.contains(position) {
            return Err(SnapshotError::UnknownPosition(position));
        }
        if position.lsn > self.applied {
            return Err(SnapshotError::NotApplied {
                position,
                applied: self.applied,
            });
        }
        if let Some(known) = &self.snapshot {
            if known.position.lsn >= position.lsn {
                return Err(SnapshotError::NotNewer {
                    known: known.position,
                    offered: position,
                });
            }
        }
        self.snapshot = Some(SnapshotMeta {
            position,
            membership: self.membership_at(position.lsn),
            size,
            checksum,
        });
        let through = Lsn(position
            .lsn
            .0
            .saturating_sub(self.config.snapshot_retain_entries));
        if through > self.log.base().lsn {
            let membership = self.membership_at(through);
            if let Some(base) = self.log.compact_through(through) {
                self.base_membership = membership;
                self.outputs.push_back(Output::Compacted { through: base });
            }
        }
        Ok(())
    }

    /// [`handle_snapshot_chunk`](Replica::handle_snapshot_chunk) after the
    /// time was advanced.
    pub(super) fn send_snapshot_chunk(
        &mut self,
        to: NodeId,
        snapshot: Position,
        offset: u64,
        data: Vec<u8>,
    ) -> Result<(), SnapshotError> {
        let unexpected = SnapshotError::UnexpectedChunk {
            to,
            snapshot,
            offset,
        };
        let Some(out) = self.leading().and_then(|leader| leader.outgoing.get(&to)) else {
            return Err(unexpected);
        };
        if out.meta.position != snapshot || out.offset != offset {
            return Err(unexpected);
        }
        let meta = out.meta.clone();
        let max_len = chunk_len(self.config.max_snapshot_chunk_bytes, &meta, offset);
        let len = u64::try_from(data.len()).unwrap_or(u64::MAX);
        if len != max_len {
            return Err(SnapshotError::BadChunk {
                offset,
                len,
                size: meta.size,
                max_len,
            });
        }
        let done = offset + len == meta.size;
        let message = Message::InstallSnapshot {
            epoch: self.hard.epoch,
            snapshot: Box::new(meta),
            offset,
            data,
            done,
        };
        self.send(to, message);
        Ok(())
    }

    /// The membership in force at `lsn` (which must be at or after the base).
    fn membership_at(&self, lsn: Lsn) -> Membership {
        self.log
            .entries()
            .iter()
            .rev()
            .filter(|e| e.lsn <= lsn)
            .find_map(|e| e.membership().cloned())
            .unwrap_or_else(|| self.base_membership.clone())
    }

    /// Leader: `peer` needs entries the log no longer holds; send it the
    /// newest snapshot instead (from the start).
    pub(super) fn start_snapshot(&mut self, peer: NodeId) {
        let Some(meta) = self.snapshot.clone() else {
            return;
        };
        let Some(leader) = self.leading_mut() else {
            return;
        };
        let Some(pr) = leader.progress.get_mut(&peer) else {
            return;
        };
        pr.become_snapshot();
        leader.outgoing.insert(
            peer,
            Outgoing {
                meta,
                offset: 0,
                outstanding: false,
                progressed: true,
            },
        );
        self.request_chunk(peer);
    }

    fn request_chunk(&mut self, peer: NodeId) {
        let max_chunk = self.config.max_snapshot_chunk_bytes;
        let Some(out) = self
            .leading_mut()
            .and_then(|leader| leader.outgoing.get_mut(&peer))
        else {
            return;
        };
        let (snapshot, offset) = (out.meta.position, out.offset);
        let max_len =
            usize::try_from(chunk_len(max_chunk, &out.meta, offset)).unwrap_or(usize::MAX);
        out.outstanding = true;
        self.outputs.push_back(Output::ReadSnapshotChunk {
            to: peer,
            snapshot,
            offset,
            max_len,
        });
    }

    /// Leader heartbeat: a transfer that made no progress since the last
    /// tick asks for its chunk again (a chunk or its answer was lost, or
    /// the host dropped the request); one whose snapshot was replaced by a
    /// newer one starts over with the newer one.
    pub(super) fn snapshot_heartbeat(&mut self) {
        let Some(leader) = self.leading() else {
            return;
        };
        let peers: Vec<NodeId> = leader.outgoing.keys().copied().collect();
        for peer in peers {
            let newest = self.snapshot.as_ref().map(|s| s.position);
            let Some(out) = self
                .leading_mut()
                .and_then(|leader| leader.outgoing.get_mut(&peer))
            else {
                continue;
            };
            if newest != Some(out.meta.position) {
                self.start_snapshot(peer);
                continue;
            }
            let stalled = !out.progressed;
            out.progressed = false;
            if stalled {
                self.request_chunk(peer);
            }
        }
    }

    /// Leader: a follower reports how much of a snapshot it holds.
    pub(super) fn handle_install_snapshot_response(
        &mut self,
        from: NodeId,
        snapshot: Position,
        next_offset: u64,
    ) {
        let Some(leader) = self.leading_mut() else {
            return;
        };
        let Some(pr) = leader.progress.get_mut(&from) else {
            return;
        };
        pr.mark_active();
        let Some(out) = leader.outgoing.get_mut(&from) else {
            return;
        };
        if out.meta.position != snapshot {
            return;
        }
        if next_offset >= out.meta.size {
            // Installed (or already covered): find the match point from the
            // snapshot's position on, as after any other probe.
            leader.outgoing.remove(&from);
            if let Some(pr) = leader.progress.get_mut(&from) {
                pr.become_probe(snapshot.lsn.next());
            }
            self.replicate_to(from, false);
            return;
        }
        if out.outstanding && next_offset == out.offset {
            // A duplicate answer, or a gap report for the chunk in flight.
            return;
        }
        out.offset = next_offset;
        out.progressed = true;
        self.request_chunk(from);
    }

    /// Follower: one chunk of the leader's snapshot, in this replica's epoch.
    pub(super) fn handle_install_snapshot(
        &mut self,
        from: NodeId,
        meta: SnapshotMeta,
        offset: u64,
        data: Vec<u8>,
        done: bool,
    ) -> Result<(), InputError> {
        self.accept_leader(from)?;
        let position = meta.position;
        if self.commit >= position.lsn || self.log.base().lsn >= position.lsn {
            // This replica already holds (and committed) everything the
            // snapshot covers.
            self.answer_snapshot(from, position, meta.size);
            return Ok(());
        }
        let expected = match &self.incoming {
            Some(incoming) if incoming.meta == meta => incoming.next_offset,
            _ => 0,
        };
        if offset != expected {
            // A duplicate, a gap, or a new leader restarting a transfer this
            // replica can resume: say where to go on.
            self.answer_snapshot(from, position, expected);
            return Ok(());
        }
        if offset == 0 {
            self.incoming = Some(Incoming {
                meta: meta.clone(),
                next_offset: 0,
                crc: 0,
            });
        }
        let Some(incoming) = self.incoming.as_mut() else {
            return Ok(());
        };
        incoming.crc = crc32c::crc32c_append(incoming.crc, &data);
        let len = u64::try_from(data.len()).unwrap_or(u64::MAX);
        incoming.next_offset = incoming.next_offset.saturating_add(len);
        let next_offset = incoming.next_offset;
        let crc = incoming.crc;
        self.outputs.push_back(Output::ReceiveSnapshotChunk {
            snapshot: position,
            offset,
            data,
        });
        if !done {
            self.answer_snapshot(from, position, next_offset);
            return Ok(());
        }
        self.incoming = None;
        if crc != meta.checksum {
            // Corrupted on the way: start over.
            self.answer_snapshot(from, position, 0);
            return Ok(());
        }
        let size = meta.size;
        self.install_snapshot(meta);
        self.answer_snapshot(from, position, size);
        Ok(())
    }

    fn answer_snapshot(&mut self, to: NodeId, snapshot: Position, next_offset: u64) {
        let message = Message::InstallSnapshotResponse {
            epoch: self.hard.epoch,
            snapshot,
            next_offset,
        };
        self.send(to, message);
    }

    /// Replace the log prefix through the snapshot's position by the
    /// snapshot. Entries this replica held that the snapshot's history
    /// cannot contain are truncated and reported; the others at or below
    /// the position are reported replaced; entries after the position that
    /// match are kept.
    fn install_snapshot(&mut self, meta: SnapshotMeta) {
        let position = meta.position;
        if !self.log.contains(position) {
            // Epochs never decrease along a log, so the snapshot's history
            // holds only epochs up to its own at lsns up to its own. An entry
            // past either bound cannot be in it: those entries (a suffix of
            // this log) are lost, and reported as truncated (and rolled back
            // if applied, which only a policy that loses writes on failover
            // allows). The entries before them are replaced by the snapshot:
            // each is either in the snapshot's history (certainly so if of
            // the snapshot's own epoch, whose unique leader wrote both, or
            // before such an entry, by log matching; and if committed, under
            // a policy that survives failover) or was never committed.
            let within = self.log.last_at_or_below(position.lsn, position.epoch);
            self.truncate_after(within.lsn);
        }
        let replaced: Vec<Position> = self
            .log
            .entries()
            .iter()
            .filter(|e| e.lsn > self.applied && e.lsn <= position.lsn)
            .map(Entry::position)
            .collect();
        let _ = self.log.install(position);
        self.base_membership = meta.membership.clone();
        self.commit = self.commit.max(position.lsn);
        self.applied = self.applied.max(position.lsn);
        self.persisted = self.persisted.max(position.lsn);
        self.verified = self.verified.max(position.lsn);
        self.snapshot = Some(meta.clone());
        self.outputs.push_back(Output::InstallSnapshot {
            snapshot: Box::new(meta),
            replaced,
        });
        self.recompute_membership();
        // The commit point moved: a pending removal may have committed.
        self.adapt_role();
        self.apply_committed();
    }
}
