//! The snapshot side of [`MemStorage`]: staging and installing incoming
//! snapshots, taking its own, and serving their chunks.

use super::{
    decode_state, encode_state, read_chunk, HostError, MemStorage, SnapshotBytes, StoredSnapshot,
};
use steadfast::{Entry, Instant, Position, Replica, SnapshotError, SnapshotMeta};

impl MemStorage {
    /// Stage a chunk of the incoming snapshot at `snapshot`: offset 0
    /// starts it afresh, later chunks must follow on directly.
    pub(super) fn stage(
        &mut self,
        snapshot: Position,
        offset: u64,
        data: &[u8],
    ) -> Result<(), HostError> {
        if offset == 0 {
            self.staging.clear();
            self.staging_of = Some(snapshot);
        }
        if self.staging_of != Some(snapshot)
            || usize::try_from(offset).ok() != Some(self.staging.len())
        {
            return Err(HostError::StagingGap {
                snapshot,
                offset,
                staged_of: self.staging_of,
                staged: self.staging.len(),
            });
        }
        self.staging.extend_from_slice(data);
        Ok(())
    }

    /// Install the staged snapshot, durably and after every earlier write:
    /// the state machine becomes the snapshot's, and the log keeps only the
    /// entries after its position.
    pub(super) fn install(
        &mut self,
        meta: SnapshotMeta,
        replaced: &[Position],
    ) -> Result<(), HostError> {
        self.flush(None::<&mut Replica>, Instant(0), usize::MAX)?;
        let staged_of = self.staging_of.take();
        let bytes = std::mem::take(&mut self.staging);
        let crc = crc32c::crc32c(&bytes);
        if staged_of != Some(meta.position)
            || bytes.len() as u64 != meta.size
            || crc != meta.checksum
        {
            return Err(HostError::SnapshotMismatch {
                position: meta.position,
                staged_of,
                staged: bytes.len(),
                staged_crc: crc,
                size: meta.size,
                crc: meta.checksum,
            });
        }
        let applied = self.applied_position().lsn;
        let deleted: Vec<Position> = self
            .log
            .iter()
            .filter(|e| e.lsn > applied && e.lsn <= meta.position.lsn)
            .map(Entry::position)
            .collect();
        if deleted != replaced {
            return Err(HostError::UnreportedReplace {
                position: meta.position,
                deleted,
                replaced: replaced.to_vec(),
            });
        }
        let position = meta.position;
        let state = self.state_in(&bytes);
        let consecutive = state
            .iter()
            .enumerate()
            .all(|(i, e)| e.lsn.0 == i as u64 + 1);
        let ends_there = state.last().map_or(Position::ZERO, Entry::position) == position;
        if self.snapshot_bytes == SnapshotBytes::State && !(consecutive && ends_there) {
            return Err(HostError::SnapshotContents { position });
        }
        self.log.retain(|e| e.lsn > position.lsn);
        self.applied = state.clone();
        self.base = match self.snapshot_bytes {
            SnapshotBytes::State => Position::ZERO,
            SnapshotBytes::Opaque => position,
        };
        self.snapshot = Some(StoredSnapshot { meta, bytes, state });
        Ok(())
    }

    /// The state machine a snapshot's bytes hold, as far as this host
    /// knows (nothing for opaque bytes).
    pub(super) fn state_in(&self, bytes: &[u8]) -> Vec<Entry> {
        match self.snapshot_bytes {
            SnapshotBytes::State => decode_state(bytes),
            SnapshotBytes::Opaque => Vec::new(),
        }
    }

    /// Snapshot the state machine (everything applied so far): durable
    /// first, then reported to the core, which may compact its log. Returns
    /// the snapshot's position if the core took it.
    pub fn take_snapshot(&mut self, replica: &mut Replica, now: Instant) -> Option<Position> {
        let bytes = encode_state(&self.applied);
        self.take_snapshot_as(replica, now, bytes).ok().flatten()
    }

    /// [`take_snapshot`](Self::take_snapshot) with the caller's `bytes` as
    /// the snapshot's (what a state machine serialises itself to; with
    /// [`SnapshotBytes::State`] they must be [`encode_state`] of
    /// [`applied`](Self::applied), or installs elsewhere fail). The
    /// snapshot is at [`applied_position`](Self::applied_position).
    /// Returns `Ok(None)` if nothing was applied or log writes are still
    /// queued (the log a snapshot was applied from must be durable before
    /// the snapshot, or a crash could leave a durable log that disagrees
    /// with it, which a restart refuses: [`flush`](Self::flush) first), and
    /// the core's refusal if it refuses.
    pub fn take_snapshot_as(
        &mut self,
        replica: &mut Replica,
        now: Instant,
        bytes: Vec<u8>,
    ) -> Result<Option<Position>, SnapshotError> {
        let position = self.applied_position();
        if position == Position::ZERO || !self.queue.is_empty() {
            return Ok(None);
        }
        let size = bytes.len() as u64;
        let checksum = crc32c::crc32c(&bytes);
        replica.snapshot_taken(now, position, size, checksum)?;
        let state = self.state_in(&bytes);
        self.snapshot =
            replica
                .snapshot()
                .cloned()
                .map(|meta| StoredSnapshot { meta, bytes, state });
        Ok(Some(position))
    }

    /// The bytes of the durable snapshot at `snapshot` from `offset`, at most
    /// `max_len` of them; `None` if the host no longer holds that snapshot.
    pub fn read_chunk(&self, snapshot: Position, offset: u64, max_len: usize) -> Option<Vec<u8>> {
        let stored = self
            .snapshot
            .as_ref()
            .filter(|s| s.meta.position == snapshot)?;
        Some(read_chunk(&stored.bytes, offset, max_len))
    }
}
