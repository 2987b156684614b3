//! The write-ahead log: consecutive entries in segment files.
//!
//! Appends go to the last segment with one `write` per call and become
//! durable at the next [`Wal::sync`] (one `fdatasync` for everything
//! written since the last: group commit). A segment past the size limit is
//! synced and closed before the next one is created, so every segment but
//! the last is whole on disk, and only the last may end in a torn record.

use super::files::{ensure_dir, names_ending, remove_file, sync_dir};
use super::record::{encode_record, MAX_RECORD_BODY};
use super::segment::{self, Segment};
use super::StorageError;
use std::fs::File;
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use steadfast::{Entry, Lsn};

/// A torn tail that opening the log cut away.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TornTail {
    /// The segment it was in.
    pub path: PathBuf,
    /// The length the segment was cut to.
    pub cut_at: u64,
    /// The bytes cut.
    pub bytes: u64,
}

/// The log's segments, the last one open for appending.
#[derive(Debug)]
pub(crate) struct Wal {
    dir: PathBuf,
    segments: Vec<Segment>,
    /// The last segment's file, when there is one.
    active: Option<File>,
    /// A new segment is begun once the last reaches this size.
    segment_bytes: u64,
    /// Bytes written to the active segment since its last sync.
    unsynced: bool,
    /// Segment files created or removed since the directory's last sync.
    dir_changed: bool,
    /// Encoding buffer, reused.
    buffer: Vec<u8>,
}

impl Wal {
    /// Open the log in `dir` (created if missing): every entry, in order,
    /// and the torn tail cut from the last segment, if it had one.
    pub(crate) fn open(
        dir: &Path,
        segment_bytes: u64,
    ) -> Result<(Wal, Vec<Entry>, Option<TornTail>), StorageError> {
        ensure_dir(dir)?;
        let mut names = Vec::new();
        for name in names_ending(dir, segment::SUFFIX)? {
            match segment::first_lsn_of(&name) {
                Some(first) => names.push((first, name)),
                None => {
                    return Err(StorageError::Corrupt {
                        path: dir.join(&name),
                        offset: 0,
                        what: "a segment file name that is not an lsn".into(),
                    })
                }
            }
        }
        names.sort();
        let mut wal = Wal {
            dir: dir.to_owned(),
            segments: Vec::new(),
            active: None,
            segment_bytes,
            unsynced: false,
            dir_changed: false,
            buffer: Vec::new(),
        };
        let mut entries: Vec<Entry> = Vec::new();
        let mut torn = None;
        let count = names.len();
        for (i, (first, name)) in names.into_iter().enumerate() {
            let read = segment::read(dir, &name, first)?;
            let is_last = i + 1 == count;
            if let Some(cut_at) = read.torn_at {
                if !is_last {
                    return Err(StorageError::Corrupt {
                        path: read.segment.path,
                        offset: cut_at,
                        what: "damaged record in a segment that is not the last".into(),
                    });
                }
                let file_len = std::fs::metadata(&read.segment.path)
                    .map_err(StorageError::io("stat", &read.segment.path))?
                    .len();
                torn = Some(TornTail {
                    path: read.segment.path.clone(),
                    cut_at,
                    bytes: file_len.saturating_sub(cut_at),
                });
            }
            if let (Some(previous), Some(first_entry)) = (entries.last(), read.entries.first()) {
                if first_entry.lsn != previous.lsn.next() {
                    return Err(StorageError::Gap {
                        path: read.segment.path,
                        previous: previous.lsn,
                        found: first_entry.lsn,
                        expected: previous.lsn.next(),
                    });
                }
            } else if read.entries.is_empty() && !is_last {
                return Err(StorageError::Corrupt {
                    path: read.segment.path,
                    offset: segment::HEADER as u64,
                    what: "an empty segment that is not the last".into(),
                });
            }
            entries.extend(read.entries);
            wal.segments.push(read.segment);
        }
        if let Some(torn) = &torn {
            wal.cut_torn_tail(torn)?;
        }
        if let Some(last) = wal.segments.last() {
            wal.active = Some(segment::open_for_append(&last.path)?);
        }
        Ok((wal, entries, torn))
    }

    /// Cut the last segment to its whole records (removing it if not even
    /// its header survived), durably.
    fn cut_torn_tail(&mut self, torn: &TornTail) -> Result<(), StorageError> {
        let Some(last) = self.segments.last() else {
            return Ok(());
        };
        if last.len == 0 {
            remove_file(&last.path)?;
            self.segments.pop();
            return sync_dir(&self.dir);
        }
        let file = segment::open_for_append(&torn.path)?;
        file.set_len(torn.cut_at)
            .and_then(|()| file.sync_all())
            .map_err(StorageError::io("cut the torn tail of", &torn.path))
    }

    /// The last entry's lsn, if the log holds any.
    pub(crate) fn last(&self) -> Option<Lsn> {
        self.segments.iter().rev().find_map(Segment::last)
    }

    /// The first entry's lsn, if the log holds any.
    pub(crate) fn first(&self) -> Option<Lsn> {
        self.segments
            .iter()
            .find(|s| !s.offsets.is_empty())
            .map(|s| s.first)
    }

    /// Write `entries` after the last entry (durable at the next sync). An
    /// empty log takes any first lsn (after a snapshot install it starts
    /// past the snapshot).
    pub(crate) fn append(&mut self, entries: &[Entry]) -> Result<(), StorageError> {
        let mut next = self.last().map(Lsn::next);
        for entry in entries {
            if let Some(expected) = next {
                if entry.lsn != expected {
                    return Err(StorageError::NotConsecutive {
                        last: expected.prev(),
                        found: entry.lsn,
                    });
                }
            }
            next = Some(entry.lsn.next());
        }
        let mut rest = entries;
        while let Some(first) = rest.first() {
            if self.needs_new_segment(first.lsn)? {
                self.begin_segment(first.lsn)?;
            }
            let written = self.write_records(rest)?;
            rest = &rest[written..];
        }
        Ok(())
    }

    /// Whether the next entry, at `lsn`, needs a new segment: there is
    /// none, the last is full, or the last is empty (created just before a
    /// crash) but named for another lsn, in which case it is removed.
    fn needs_new_segment(&mut self, lsn: Lsn) -> Result<bool, StorageError> {
        let Some(last) = self.segments.last() else {
            return Ok(true);
        };
        if last.offsets.is_empty() {
            if last.first == lsn {
                return Ok(false);
            }
            remove_file(&last.path)?;
            self.segments.pop();
            self.active = None;
            self.dir_changed = true;
            return Ok(true);
        }
        Ok(last.len >= self.segment_bytes)
    }

    /// Write as many of `entries` as fit in the active segment (at least
    /// one) with one `write`; returns how many.
    fn write_records(&mut self, entries: &[Entry]) -> Result<usize, StorageError> {
        let (Some(segment), Some(file)) = (self.segments.last_mut(), self.active.as_mut()) else {
            return Ok(0);
        };
        self.buffer.clear();
        let mut offsets = Vec::new();
        let mut written = 0;
        for entry in entries {
            let at = segment.len + self.buffer.len() as u64;
            if written > 0 && at >= self.segment_bytes {
                break;
            }
            let body = postcard::to_allocvec(entry).map_err(|e| StorageError::Encode {
                what: "log entry",
                reason: e.to_string(),
            })?;
            if body.len() > MAX_RECORD_BODY {
                return Err(StorageError::Encode {
                    what: "log entry",
                    reason: format!("{} bytes is over the record limit", body.len()),
                });
            }
            encode_record(&body, &mut self.buffer);
            offsets.push(at);
            written += 1;
        }
        file.seek(SeekFrom::Start(segment.len))
            .and_then(|_| file.write_all(&self.buffer))
            .map_err(StorageError::io("append to", &segment.path))?;
        segment.len += self.buffer.len() as u64;
        segment.offsets.extend(offsets);
        self.unsynced = true;
        Ok(written)
    }

    /// Close the active segment (synced, so that only the last segment can
    /// ever be torn) and create the next, starting at `first`.
    fn begin_segment(&mut self, first: Lsn) -> Result<(), StorageError> {
        self.sync()?;
        let path = self.dir.join(segment::file_name(first));
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)
            .map_err(StorageError::io("create", &path))?;
        file.write_all(&segment::header(first))
            .map_err(StorageError::io("write the header of", &path))?;
        self.segments.push(Segment {
            path,
            first,
            offsets: Vec::new(),
            len: segment::HEADER as u64,
        });
        self.active = Some(file);
        self.unsynced = true;
        self.dir_changed = true;
        Ok(())
    }

    /// Remove every entry after `after`, durably.
    pub(crate) fn truncate_after(&mut self, after: Lsn) -> Result<(), StorageError> {
        while let Some(segment) = self.segments.last() {
            if segment.first > after {
                remove_file(&segment.path)?;
                self.segments.pop();
                self.active = None;
                self.dir_changed = true;
                continue;
            }
            let keep = usize::try_from(after.0.saturating_sub(segment.first.0).saturating_add(1))
                .unwrap_or(usize::MAX);
            if keep < segment.offsets.len() {
                let cut = segment.offsets[keep];
                let path = segment.path.clone();
                if self.active.is_none() {
                    self.active = Some(segment::open_for_append(&path)?);
                }
                if let Some(file) = &self.active {
                    file.set_len(cut)
                        .map_err(StorageError::io("truncate", &path))?;
                }
                if let Some(segment) = self.segments.last_mut() {
                    segment.offsets.truncate(keep);
                    segment.len = cut;
                }
                self.unsynced = true;
            }
            break;
        }
        if self.active.is_none() {
            if let Some(last) = self.segments.last() {
                self.active = Some(segment::open_for_append(&last.path)?);
            }
        }
        // Durable at once: later records overwrite the cut region, and a
        // snapshot install may follow, neither of which may reach the disk
        // before the cut does. (Truncations are rare.)
        self.sync()?;
        Ok(())
    }

    /// Remove the segments whose entries are all at or below `through`
    /// (never the last one, which is being appended to).
    pub(crate) fn compact_through(&mut self, through: Lsn) -> Result<(), StorageError> {
        let removable = self
            .segments
            .iter()
            .take(self.segments.len().saturating_sub(1))
            .take_while(|s| s.last().is_some_and(|last| last <= through))
            .count();
        for segment in self.segments.drain(..removable) {
            remove_file(&segment.path)?;
            self.dir_changed = true;
        }
        if removable > 0 {
            sync_dir(&self.dir)?;
            self.dir_changed = false;
        }
        Ok(())
    }

    /// Remove every segment (a snapshot install past the log's end).
    pub(crate) fn clear(&mut self) -> Result<(), StorageError> {
        self.active = None;
        for segment in self.segments.drain(..) {
            remove_file(&segment.path)?;
        }
        self.unsynced = false;
        sync_dir(&self.dir)?;
        self.dir_changed = false;
        Ok(())
    }

    /// Make everything written so far durable: one `fdatasync` of the
    /// active segment, and of the directory if segments were created or
    /// removed. Returns whether there was anything to sync.
    pub(crate) fn sync(&mut self) -> Result<bool, StorageError> {
        let synced = self.unsynced || self.dir_changed;
        if self.unsynced {
            if let (Some(file), Some(segment)) = (&self.active, self.segments.last()) {
                file.sync_data()
                    .map_err(StorageError::io("sync", &segment.path))?;
            }
            self.unsynced = false;
        }
        if self.dir_changed {
            sync_dir(&self.dir)?;
            self.dir_changed = false;
        }
        Ok(synced)
    }
}
