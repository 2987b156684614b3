//! The in-memory view of the replicated log that a replica reasons about.
//! The host keeps the durable copy; this mirror is rebuilt from it on restart.

use crate::entry::Entry;
use crate::types::{Epoch, Lsn, Position};

/// The log: a compacted prefix (summarised by the position of its last
/// entry) followed by the retained entries, consecutive from `base.lsn + 1`.
///
/// Entries are contiguous, so every lookup and range is index arithmetic:
/// nothing on the hot path (propose, acknowledge, apply) walks the log.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub(crate) struct Log {
    /// Last position covered by a snapshot (`Position::ZERO` when none).
    base: Position,
    entries: Vec<Entry>,
    /// `payload_ends[i]`: the payload bytes of `entries[..=i]` (a running
    /// total from the base), so the bytes of any range are one subtraction.
    /// A function of `entries` alone, so equal logs stay equal.
    payload_ends: Vec<u64>,
}

impl crate::rename::RenameNodes for Log {
    /// Renaming touches only membership entries, whose payload size (8
    /// bytes per member) it keeps, so the running totals carry over.
    fn rename_nodes(&self, rename: &dyn Fn(crate::types::NodeId) -> crate::types::NodeId) -> Self {
        Log {
            base: self.base,
            entries: crate::rename::RenameNodes::rename_nodes(&self.entries, rename),
            payload_ends: self.payload_ends.clone(),
        }
    }
}

impl Log {
    /// A log holding `entries`, which must be consecutive from lsn 1;
    /// entries after the first gap or epoch regression are dropped.
    #[cfg(test)]
    pub(crate) fn from_entries(entries: Vec<Entry>) -> Log {
        Log::from_parts(Position::ZERO, entries)
    }

    /// A log whose compacted prefix ends at `base`, holding the entries of
    /// `entries` after it (entries at or below `base` are skipped; the
    /// rest must follow consecutively, else the tail from the first gap or
    /// epoch regression is dropped).
    pub(crate) fn from_parts(base: Position, entries: Vec<Entry>) -> Log {
        let mut log = Log {
            base,
            entries: Vec::new(),
            payload_ends: Vec::new(),
        };
        for entry in entries {
            if entry.lsn <= base.lsn {
                continue;
            }
            let last = log.last();
            if entry.lsn != last.lsn.next() || entry.epoch < last.epoch {
                break;
            }
            log.push(entry);
        }
        log
    }

    /// Drop the retained entries through `lsn` (which must be retained),
    /// making it the new base. Returns the new base, or `None` when `lsn`
    /// is not a retained entry after the base.
    pub(crate) fn compact_through(&mut self, lsn: Lsn) -> Option<Position> {
        let index = self.index(lsn)?;
        let base = self.entries.get(index)?.position();
        let dropped_bytes = self.payload_ends.get(index).copied().unwrap_or(0);
        self.entries.drain(..=index);
        self.payload_ends.drain(..=index);
        for end in &mut self.payload_ends {
            *end -= dropped_bytes;
        }
        self.base = base;
        Some(base)
    }

    /// Replace the prefix through `base` by a snapshot: entries after
    /// `base` are kept only if the log holds `base` exactly, else the whole
    /// log is dropped. Returns the entries dropped after `base`.
    pub(crate) fn install(&mut self, base: Position) -> Vec<Entry> {
        if self.contains(base) && base.lsn >= self.base.lsn {
            if base.lsn > self.base.lsn {
                let _ = self.compact_through(base.lsn);
            }
            return Vec::new();
        }
        let dropped: Vec<Entry> = self
            .entries
            .iter()
            .filter(|e| e.lsn > base.lsn)
            .cloned()
            .collect();
        self.entries.clear();
        self.payload_ends.clear();
        self.base = base;
        dropped
    }

    /// Position of the last entry (or of the snapshot, or zero).
    pub(crate) fn last(&self) -> Position {
        self.entries.last().map_or(self.base, Entry::position)
    }

    /// The compacted prefix's last position.
    pub(crate) fn base(&self) -> Position {
        self.base
    }

    fn index(&self, lsn: Lsn) -> Option<usize> {
        let offset = lsn.0.checked_sub(self.base.lsn.0)?.checked_sub(1)?;
        usize::try_from(offset)
            .ok()
            .filter(|&i| i < self.entries.len())
    }

    /// The entry at `lsn`, if retained.
    pub(crate) fn get(&self, lsn: Lsn) -> Option<&Entry> {
        self.index(lsn).and_then(|i| self.entries.get(i))
    }

    /// The epoch of the entry at `lsn`: known for retained entries, for the
    /// snapshot's last entry, and for `Lsn(0)`.
    pub(crate) fn epoch_at(&self, lsn: Lsn) -> Option<Epoch> {
        if lsn == self.base.lsn {
            return Some(self.base.epoch);
        }
        self.get(lsn).map(|e| e.epoch)
    }

    /// True when the log holds exactly `position`.
    pub(crate) fn contains(&self, position: Position) -> bool {
        self.epoch_at(position.lsn) == Some(position.epoch)
    }

    /// Append one entry at the end. The caller guarantees consecutiveness.
    pub(crate) fn push(&mut self, entry: Entry) {
        debug_assert_eq!(entry.lsn, self.last().lsn.next());
        let len = u64::try_from(entry.payload_len()).unwrap_or(u64::MAX);
        let end = self
            .payload_ends
            .last()
            .map_or(0, |&e| e)
            .saturating_add(len);
        self.payload_ends.push(end);
        self.entries.push(entry);
    }

    /// Remove every entry after `lsn` and return them, oldest first.
    /// Entries inside the snapshot are never removed.
    pub(crate) fn truncate_after(&mut self, lsn: Lsn) -> Vec<Entry> {
        let keep = usize::try_from(lsn.0.saturating_sub(self.base.lsn.0)).unwrap_or(usize::MAX);
        if keep >= self.entries.len() {
            return Vec::new();
        }
        self.payload_ends.truncate(keep);
        self.entries.split_off(keep)
    }

    /// Up to `max_count` entries from `from` on, stopping before the byte
    /// budget is exceeded (but always at least one entry when any exists).
    pub(crate) fn slice(&self, from: Lsn, max_count: usize, max_bytes: usize) -> Vec<Entry> {
        let Some(start) = self.index(from) else {
            return Vec::new();
        };
        let before = self.end_of(start);
        let budget = before.saturating_add(u64::try_from(max_bytes).unwrap_or(u64::MAX));
        let end = start.saturating_add(max_count).min(self.entries.len());
        // The first entry goes whatever its size; after it, the last whose
        // running total stays within the budget (totals never decrease).
        let within = self
            .payload_ends
            .get(start..end)
            .map_or(0, |ends| ends.partition_point(|&e| e <= budget));
        let count = within.max(1).min(end - start);
        self.entries[start..start + count].to_vec()
    }

    /// Retained indices of the entries in `(after, through]`.
    fn span(&self, after: Lsn, through: Lsn) -> std::ops::Range<usize> {
        let retained = |lsn: Lsn| {
            usize::try_from(lsn.0.saturating_sub(self.base.lsn.0))
                .unwrap_or(usize::MAX)
                .min(self.entries.len())
        };
        let start = retained(after);
        start..retained(through).max(start)
    }

    /// Entries in `(after, through]`, oldest first (only retained ones).
    pub(crate) fn range(&self, after: Lsn, through: Lsn) -> Vec<Entry> {
        self.entries[self.span(after, through)].to_vec()
    }

    /// Payload bytes of the entries in `(after, through]` (only retained
    /// ones): a difference of two running totals.
    pub(crate) fn bytes_between(&self, after: Lsn, through: Lsn) -> usize {
        let span = self.span(after, through);
        let bytes = self
            .end_of(span.end)
            .saturating_sub(self.end_of(span.start));
        usize::try_from(bytes).unwrap_or(usize::MAX)
    }

    /// The payload bytes of the first `count` retained entries.
    fn end_of(&self, count: usize) -> u64 {
        count
            .checked_sub(1)
            .and_then(|i| self.payload_ends.get(i))
            .copied()
            .unwrap_or(0)
    }

    /// The last position at or below `lsn` whose epoch is at most `epoch`:
    /// where two logs can still agree when one holds `(epoch, lsn)` and the
    /// other does not. Falls back to the snapshot base.
    pub(crate) fn last_at_or_below(&self, lsn: Lsn, epoch: Epoch) -> Position {
        let mut l = lsn.min(self.last().lsn);
        loop {
            match self.epoch_at(l) {
                Some(e) if e <= epoch => return Position::new(e, l),
                Some(_) if l > self.base.lsn => l = l.prev(),
                _ => return self.base,
            }
        }
    }

    /// All retained entries.
    pub(crate) fn entries(&self) -> &[Entry] {
        &self.entries
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::EntryKind;

    fn log(epochs: &[u64]) -> Log {
        Log::from_entries(
            epochs
                .iter()
                .enumerate()
                .map(|(i, &e)| Entry {
                    epoch: Epoch(e),
                    lsn: Lsn(i as u64 + 1),
                    kind: EntryKind::Command(vec![i as u8; 3].into()),
                })
                .collect(),
        )
    }

    #[test]
    fn contains_and_last() {
        let l = log(&[1, 1, 2]);
        assert_eq!(l.last(), Position::new(Epoch(2), Lsn(3)));
        assert!(l.contains(Position::new(Epoch(1), Lsn(2))));
        assert!(!l.contains(Position::new(Epoch(2), Lsn(2))));
        assert!(l.contains(Position::ZERO));
        assert!(!l.contains(Position::new(Epoch(2), Lsn(4))));
    }

    #[test]
    fn truncation_returns_what_it_removed() {
        let mut l = log(&[1, 1, 2, 2]);
        let gone = l.truncate_after(Lsn(2));
        assert_eq!(gone.iter().map(|e| e.lsn.0).collect::<Vec<_>>(), [3, 4]);
        assert_eq!(l.last(), Position::new(Epoch(1), Lsn(2)));
        assert!(l.truncate_after(Lsn(7)).is_empty());
    }

    #[test]
    fn conflict_search_skips_whole_epochs() {
        let l = log(&[1, 1, 3, 3, 3]);
        // The leader says (2, 5): our entries of epoch 3 cannot match.
        assert_eq!(
            l.last_at_or_below(Lsn(5), Epoch(2)),
            Position::new(Epoch(1), Lsn(2))
        );
        assert_eq!(
            l.last_at_or_below(Lsn(9), Epoch(3)),
            Position::new(Epoch(3), Lsn(5))
        );
        assert_eq!(l.last_at_or_below(Lsn(5), Epoch(0)), Position::ZERO);
    }

    #[test]
    fn slices_respect_count_and_byte_budgets() {
        let l = log(&[1, 1, 1, 1]);
        assert_eq!(l.slice(Lsn(2), 2, 100).len(), 2);
        assert_eq!(l.slice(Lsn(1), 10, 7).len(), 2);
        assert_eq!(l.slice(Lsn(1), 10, 1).len(), 1, "always at least one");
        assert!(l.slice(Lsn(5), 10, 100).is_empty());
        assert!(l.slice(Lsn(0), 10, 100).is_empty());
    }

    #[test]
    fn compaction_and_install_move_the_base() {
        let mut l = log(&[1, 1, 2, 2]);
        assert_eq!(
            l.compact_through(Lsn(2)),
            Some(Position::new(Epoch(1), Lsn(2)))
        );
        assert_eq!(l.entries().len(), 2);
        assert!(
            l.contains(Position::new(Epoch(1), Lsn(2))),
            "the base is known"
        );
        assert_eq!(l.get(Lsn(1)), None);
        assert_eq!(l.compact_through(Lsn(2)), None, "already compacted");
        // A snapshot the log holds keeps what follows it.
        assert!(l.install(Position::new(Epoch(2), Lsn(3))).is_empty());
        assert_eq!(l.last(), Position::new(Epoch(2), Lsn(4)));
        // One it does not hold replaces everything.
        let gone = l.install(Position::new(Epoch(3), Lsn(3)));
        assert_eq!(gone.len(), 1);
        assert_eq!(l.last(), Position::new(Epoch(3), Lsn(3)));
        let rebuilt = Log::from_parts(
            Position::new(Epoch(1), Lsn(2)),
            log(&[1, 1, 1, 2]).entries().to_vec(),
        );
        assert_eq!(rebuilt.entries().len(), 2);
        assert_eq!(rebuilt.last(), Position::new(Epoch(2), Lsn(4)));
    }

    /// What the running totals replace: a walk over the whole log.
    fn bytes_by_walking(l: &Log, after: u64, through: u64) -> usize {
        l.entries()
            .iter()
            .filter(|e| e.lsn.0 > after && e.lsn.0 <= through)
            .map(Entry::payload_len)
            .sum()
    }

    #[test]
    fn byte_counts_and_ranges_agree_with_a_walk() {
        let mut l = Log::from_entries(
            (1..=9u64)
                .map(|i| Entry {
                    epoch: Epoch(1),
                    lsn: Lsn(i),
                    kind: EntryKind::Command(vec![0; i as usize].into()),
                })
                .collect(),
        );
        for step in 0..3 {
            for after in 0..11 {
                for through in 0..11 {
                    assert_eq!(
                        l.bytes_between(Lsn(after), Lsn(through)),
                        bytes_by_walking(&l, after, through),
                        "step {step}: ({after}, {through}]"
                    );
                    let range: Vec<u64> = l
                        .range(Lsn(after), Lsn(through))
                        .iter()
                        .map(|e| e.lsn.0)
                        .collect();
                    let walked: Vec<u64> = l
                        .entries()
                        .iter()
                        .map(|e| e.lsn.0)
                        .filter(|&n| n > after && n <= through)
                        .collect();
                    assert_eq!(range, walked, "step {step}: ({after}, {through}]");
                }
            }
            // Compaction and truncation keep the totals right.
            match step {
                0 => assert!(l.compact_through(Lsn(3)).is_some()),
                1 => assert_eq!(l.truncate_after(Lsn(7)).len(), 2),
                _ => {}
            }
        }
        let rebuilt = Log::from_parts(l.base(), l.entries().to_vec());
        assert_eq!(rebuilt, l, "the totals are a function of the entries");
    }

    #[test]
    fn from_entries_stops_at_a_gap() {
        let mut entries = log(&[1, 1]).entries().to_vec();
        entries.push(Entry {
            epoch: Epoch(1),
            lsn: Lsn(5),
            kind: EntryKind::Noop,
        });
        assert_eq!(Log::from_entries(entries).last().lsn, Lsn(2));
    }
}
