//! A cheap hash of a host's storage for model checkers that also hash the
//! replica it serves.

use super::MemStorage;
use std::hash::{Hash, Hasher};
use steadfast::{Entry, Position};

impl MemStorage {
    /// Feed `state` everything this storage holds except the contents of
    /// its log and its state machine, of which only the length and the last
    /// position go in.
    ///
    /// A host stores exactly what its replica asks it to (the host
    /// contract, which [`MemStorage::perform`] enforces), so once a step's
    /// outputs are performed those contents are entries of the replica's
    /// own log. A model state that hashes the replica as well can use this
    /// instead of [`Hash`] and not hash every entry twice: two states it
    /// confuses would need equal replicas and equal storage summaries but
    /// different stored entries at the same positions. Everything else —
    /// the hard state, snapshot, writes not yet durable, the state
    /// machine's base and incoming snapshot bytes — is hashed in full.
    pub fn hash_summary<H: Hasher>(&self, state: &mut H) {
        let MemStorage {
            persistence,
            snapshot_bytes,
            hard,
            log,
            snapshot,
            queue,
            applied,
            base,
            staging,
            staging_of,
        } = self;
        persistence.hash(state);
        snapshot_bytes.hash(state);
        hard.hash(state);
        summarize(log, state);
        snapshot.hash(state);
        queue.hash(state);
        summarize(applied, state);
        base.hash(state);
        staging.hash(state);
        staging_of.hash(state);
    }
}

fn summarize<H: Hasher>(entries: &[Entry], state: &mut H) {
    entries.len().hash(state);
    entries
        .last()
        .map_or(Position::ZERO, Entry::position)
        .hash(state);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::DefaultHasher;
    use steadfast::{EntryKind, Epoch, Lsn};

    fn summary(storage: &MemStorage) -> u64 {
        let mut h = DefaultHasher::new();
        storage.hash_summary(&mut h);
        h.finish()
    }

    fn entry(epoch: u64, lsn: u64) -> Entry {
        Entry {
            epoch: Epoch(epoch),
            lsn: Lsn(lsn),
            kind: EntryKind::Noop,
        }
    }

    #[test]
    fn the_summary_sees_lengths_last_positions_and_the_hard_state() {
        let mut a = MemStorage::default();
        let empty = summary(&a);
        a.log.push(entry(1, 1));
        let one = summary(&a);
        assert_ne!(empty, one, "the log's length counts");
        a.log[0] = entry(2, 1);
        assert_ne!(one, summary(&a), "the last position counts");
        let before = summary(&a);
        a.hard.epoch = Epoch(3);
        assert_ne!(before, summary(&a), "the hard state counts");
        let before = summary(&a);
        a.applied.push(entry(2, 1));
        assert_ne!(before, summary(&a), "the state machine's length counts");
    }
}
