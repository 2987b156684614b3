//! The bench host's durable log, kept as a write-ahead log holds it: one
//! record per entry appended to a byte buffer.
//!
//! A steadfast host never reads its log back while it runs (the core keeps
//! its own in-memory mirror, rebuilt from storage on restart), so what it
//! must keep durable is what a log file holds: the entries' bytes, in order.
//! A record is a tag byte (noop, command, membership), the epoch and the
//! payload's length as LEB128 varints (`integer-encoding`), then the payload (a membership as
//! JSON); the lsn is implied by the record's place. Every retained entry
//! stays readable ([`Wal::entry`], [`Wal::entries`]): a sparse index holds
//! the offset of every [`INDEX_EVERY`]th record, and a read skips at most
//! that many records from there. Truncation and compaction cut the buffer
//! at a record boundary.

use integer_encoding::VarInt;
use steadfast::{Bytes, Entry, EntryKind, Epoch, Lsn, Membership};

/// One index point per this many records.
pub const INDEX_EVERY: usize = 64;

const NOOP: u8 = 0;
const COMMAND: u8 = 1;
const MEMBERSHIP: u8 = 2;

/// The records of the entries after `base`, consecutive.
#[derive(Clone, Debug, Default)]
pub struct Wal {
    /// The last lsn compacted away (`Lsn(0)`: none).
    base: Lsn,
    /// The records, oldest first.
    bytes: Vec<u8>,
    /// `index[i]`: the offset of record `i * INDEX_EVERY`.
    index: Vec<usize>,
    /// Records held.
    len: usize,
}

impl Wal {
    /// An empty log.
    pub fn new() -> Wal {
        Wal::default()
    }

    /// Entries held (after the last compaction).
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when no entry is held.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The lsn of the last entry held (or the compaction point).
    pub fn last_lsn(&self) -> Lsn {
        Lsn(self.base.0 + self.len as u64)
    }

    /// Append `entries`, which follow the last entry held.
    pub fn append(&mut self, entries: &[Entry]) {
        for entry in entries {
            debug_assert_eq!(entry.lsn, self.last_lsn().next());
            if self.len.is_multiple_of(INDEX_EVERY) {
                self.index.push(self.bytes.len());
            }
            encode(entry, &mut self.bytes);
            self.len += 1;
        }
    }

    /// Remove every entry after `after`.
    pub fn truncate_after(&mut self, after: Lsn) {
        let keep = usize::try_from(after.0.saturating_sub(self.base.0)).unwrap_or(usize::MAX);
        if keep >= self.len {
            return;
        }
        let end = self.offset_of(keep);
        self.bytes.truncate(end);
        self.index.truncate(keep.div_ceil(INDEX_EVERY));
        self.len = keep;
    }

    /// Delete every entry through `through` (a snapshot covers them).
    pub fn compact_through(&mut self, through: Lsn) {
        let drop = usize::try_from(through.0.saturating_sub(self.base.0))
            .unwrap_or(usize::MAX)
            .min(self.len);
        if drop == 0 {
            return;
        }
        let cut = self.offset_of(drop);
        // The remaining records are re-indexed from the new first one.
        let rest = self.len - drop;
        let mut index = Vec::with_capacity(rest.div_ceil(INDEX_EVERY));
        let mut at = cut;
        for i in 0..rest {
            if i % INDEX_EVERY == 0 {
                index.push(at - cut);
            }
            at = skip(&self.bytes, at);
        }
        self.bytes.drain(..cut);
        self.index = index;
        self.len = rest;
        self.base = Lsn(self.base.0 + drop as u64);
    }

    /// The entry at `lsn`, if held.
    pub fn entry(&self, lsn: Lsn) -> Option<Entry> {
        let i = usize::try_from(lsn.0.checked_sub(self.base.0)?.checked_sub(1)?).ok()?;
        if i >= self.len {
            return None;
        }
        decode(&self.bytes, self.offset_of(i), lsn).map(|(entry, _)| entry)
    }

    /// Every entry held, oldest first.
    pub fn entries(&self) -> Vec<Entry> {
        let mut out = Vec::with_capacity(self.len);
        let mut at = 0;
        let mut lsn = self.base;
        for _ in 0..self.len {
            lsn = lsn.next();
            let Some((entry, next)) = decode(&self.bytes, at, lsn) else {
                break;
            };
            out.push(entry);
            at = next;
        }
        out
    }

    /// The offset of record `i` (`i == len`: the end of the buffer).
    fn offset_of(&self, i: usize) -> usize {
        if i >= self.len {
            return self.bytes.len();
        }
        let mut at = self.index[i / INDEX_EVERY];
        for _ in 0..i % INDEX_EVERY {
            at = skip(&self.bytes, at);
        }
        at
    }
}

fn put_varint(value: u64, out: &mut Vec<u8>) {
    let mut buf = [0u8; 10];
    let n = value.encode_var(&mut buf);
    out.extend_from_slice(&buf[..n]);
}

fn get_varint(bytes: &[u8], at: usize) -> Option<(u64, usize)> {
    let (value, n) = u64::decode_var(bytes.get(at..)?)?;
    Some((value, at + n))
}

fn encode(entry: &Entry, out: &mut Vec<u8>) {
    let (tag, payload): (u8, std::borrow::Cow<'_, [u8]>) = match &entry.kind {
        EntryKind::Noop => (NOOP, (&[][..]).into()),
        EntryKind::Command(bytes) => (COMMAND, (&bytes[..]).into()),
        EntryKind::Membership(m) => (
            MEMBERSHIP,
            serde_json::to_vec(m.as_ref())
                .unwrap_or_else(|e| panic!("a membership always encodes: {e}"))
                .into(),
        ),
    };
    out.push(tag);
    put_varint(entry.epoch.0, out);
    put_varint(payload.len() as u64, out);
    out.extend_from_slice(&payload);
}

/// The record at `at`: its header, and where its payload starts and ends.
fn header(bytes: &[u8], at: usize) -> Option<(u8, u64, usize, usize)> {
    let tag = *bytes.get(at)?;
    let (epoch, at) = get_varint(bytes, at + 1)?;
    let (len, at) = get_varint(bytes, at)?;
    let end = at.checked_add(usize::try_from(len).ok()?)?;
    Some((tag, epoch, at, end))
}

/// The offset of the record after the one at `at`.
fn skip(bytes: &[u8], at: usize) -> usize {
    header(bytes, at).map_or(bytes.len(), |(_, _, _, end)| end)
}

fn decode(bytes: &[u8], at: usize, lsn: Lsn) -> Option<(Entry, usize)> {
    let (tag, epoch, start, end) = header(bytes, at)?;
    let payload = bytes.get(start..end)?;
    let kind = match tag {
        NOOP => EntryKind::Noop,
        COMMAND => EntryKind::Command(Bytes::copy_from_slice(payload)),
        MEMBERSHIP => EntryKind::Membership(Box::new(
            serde_json::from_slice::<Membership>(payload).ok()?,
        )),
        _ => return None,
    };
    let entry = Entry {
        epoch: Epoch(epoch),
        lsn,
        kind,
    };
    Some((entry, end))
}

#[cfg(test)]
mod tests {
    use super::*;
    use steadfast::NodeId;

    fn entry(lsn: u64, epoch: u64) -> Entry {
        let kind = match lsn % 7 {
            0 => EntryKind::Noop,
            3 => EntryKind::Membership(Box::new(Membership {
                voters: [NodeId(1), NodeId(lsn)].into(),
                learners: [NodeId(9)].into(),
            })),
            _ => EntryKind::Command(vec![lsn as u8; (lsn % 200) as usize].into()),
        };
        Entry {
            epoch: Epoch(epoch),
            lsn: Lsn(lsn),
            kind,
        }
    }

    fn entries(from: u64, through: u64, epoch: u64) -> Vec<Entry> {
        (from..=through).map(|l| entry(l, epoch)).collect()
    }

    #[test]
    fn reads_back_what_was_appended_through_truncation_and_compaction() {
        let mut wal = Wal::new();
        let mut model: Vec<Entry> = Vec::new();
        let check = |wal: &Wal, model: &[Entry]| {
            assert_eq!(wal.entries(), model);
            assert_eq!(wal.len(), model.len());
            for e in model {
                assert_eq!(wal.entry(e.lsn).as_ref(), Some(e));
            }
            assert_eq!(wal.entry(wal.last_lsn().next()), None);
        };
        let all = entries(1, 300, 1);
        wal.append(&all);
        model.extend(all);
        check(&wal, &model);
        wal.truncate_after(Lsn(200));
        model.truncate(200);
        check(&wal, &model);
        let more = entries(201, 450, 300);
        wal.append(&more);
        model.extend(more);
        check(&wal, &model);
        wal.compact_through(Lsn(130));
        model.drain(..130);
        check(&wal, &model);
        assert_eq!(wal.entry(Lsn(130)), None);
        wal.truncate_after(Lsn(129));
        model.clear();
        check(&wal, &model);
        assert_eq!(wal.last_lsn(), Lsn(130));
        let again = entries(131, 140, 301);
        wal.append(&again);
        model.extend(again);
        check(&wal, &model);
        wal.compact_through(Lsn(140));
        assert!(wal.is_empty());
        assert_eq!(wal.last_lsn(), Lsn(140));
    }
}
