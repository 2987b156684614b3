//! Physical replication (WAL shipping): the bytes of every page a
//! transaction changed, stamped with the store's storage-format version.
//!
//! A follower applies the pages as they are, so it must lay its pages out
//! exactly like the leader: [`apply`] refuses a record of another storage
//! format version with [`PhysicalApplyError::StorageFormatMismatch`]
//! instead of misreading it. With the same version, the follower's pages
//! are byte-identical to the leader's.
//!
//! Body (format version 1): `u32 storage format version | u64 lsn |
//! u32 page count | u32 write count | (u32 page number | page bytes)*`.

use crate::codec::{put_bytes, put_count, put_u32, put_u64, BodyError, Reader};
use crate::error::{body, open, DecodeError};
use crate::frame::{Frame, RecordKind};
use crate::store::{Execution, Store, StoreError, PAGE_SIZE};
use steadfast::types::Lsn;
use thiserror::Error;

/// The format version written.
pub const VERSION: u8 = 1;

/// The new bytes of one page.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct PageWrite {
    /// The page number.
    pub page: u32,
    /// The page's bytes; exactly [`PAGE_SIZE`] of them.
    pub bytes: Vec<u8>,
}

/// The page changes of one committed transaction.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct WalRecord {
    /// The page layout the bytes are in.
    pub storage_format_version: u32,
    /// The commit position of the transaction.
    pub lsn: Lsn,
    /// How many pages the store has after the transaction.
    pub page_count: u32,
    /// The pages that changed, ascending.
    pub writes: Vec<PageWrite>,
}

impl WalRecord {
    /// The record for an execution that just committed on `leader`.
    pub fn from_execution(leader: &Store, execution: &Execution) -> WalRecord {
        let pages = leader.pages();
        WalRecord {
            storage_format_version: leader.config().storage_format_version,
            lsn: execution.lsn,
            page_count: u32::try_from(pages.len()).unwrap_or(u32::MAX),
            writes: execution
                .dirty_pages
                .iter()
                .filter_map(|&page| {
                    let bytes = pages.get(usize::try_from(page).ok()?)?.clone();
                    Some(PageWrite { page, bytes })
                })
                .collect(),
        }
    }
}

/// The framed bytes of `record`.
pub fn encode(record: &WalRecord) -> Vec<u8> {
    let mut out = Vec::new();
    put_u32(&mut out, record.storage_format_version);
    put_u64(&mut out, record.lsn.0);
    put_u32(&mut out, record.page_count);
    put_count(&mut out, record.writes.len());
    for write in &record.writes {
        put_u32(&mut out, write.page);
        put_bytes(&mut out, &write.bytes);
    }
    Frame::new(RecordKind::Physical, VERSION, out).encode()
}

/// Decodes one framed physical record. Total; pages of the wrong size are
/// refused.
pub fn decode(bytes: &[u8]) -> Result<WalRecord, DecodeError> {
    let frame = open(bytes, RecordKind::Physical)?;
    let mut r = Reader::new(&frame.body);
    let decoded = (|| {
        let storage_format_version = r.u32("storage format version")?;
        let lsn = Lsn(r.u64("lsn")?);
        let page_count = r.u32("page count")?;
        let count = r.count("page writes", 8)?;
        let mut writes = Vec::new();
        for _ in 0..count {
            let page = r.u32("page number")?;
            let bytes = r.bytes("page bytes")?;
            if bytes.len() != PAGE_SIZE {
                return Err(BodyError::Invalid {
                    what: "page bytes",
                    reason: "a page write must carry exactly PAGE_SIZE (256) bytes",
                });
            }
            writes.push(PageWrite {
                page,
                bytes: bytes.to_vec(),
            });
        }
        r.finish()?;
        Ok(WalRecord {
            storage_format_version,
            lsn,
            page_count,
            writes,
        })
    })();
    decoded.map_err(body(RecordKind::Physical))
}

/// Why a follower refused a physical record.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum PhysicalApplyError {
    /// The stream's pages are laid out by another storage-format version.
    #[error(
        "WAL stream is storage format version {stream}, this follower stores version {follower}: \
         physical replication needs the same storage format on both sides (use logical replication across versions)"
    )]
    StorageFormatMismatch {
        /// The version of the stream.
        stream: u32,
        /// The follower's version.
        follower: u32,
    },
    /// The record is not the next one in the log.
    #[error("WAL record at lsn {found} is out of order: expected lsn {expected}")]
    OutOfOrder {
        /// The lsn the follower needs next.
        expected: Lsn,
        /// The lsn of the record.
        found: Lsn,
    },
    /// A page write outside the store, or a new page that is never written.
    #[error("page {page} is {problem} (the store has {page_count} page(s) after this record)")]
    BadPage {
        /// The page number.
        page: u32,
        /// What is wrong with it.
        problem: &'static str,
        /// The page count after the record.
        page_count: u32,
    },
    /// The resulting pages are not a valid store.
    #[error("applying the pages would corrupt the store: {0}")]
    Store(StoreError),
}

/// Applies one record to `follower`. On error the follower is unchanged.
pub fn apply(follower: &mut Store, record: &WalRecord) -> Result<(), PhysicalApplyError> {
    let own = follower.config().storage_format_version;
    if record.storage_format_version != own {
        return Err(PhysicalApplyError::StorageFormatMismatch {
            stream: record.storage_format_version,
            follower: own,
        });
    }
    let expected = follower.lsn().next();
    if record.lsn != expected {
        return Err(PhysicalApplyError::OutOfOrder {
            expected,
            found: record.lsn,
        });
    }
    let page_count = record.page_count;
    let bad = |page, problem| PhysicalApplyError::BadPage {
        page,
        problem,
        page_count,
    };
    let old_count = u32::try_from(follower.pages().len()).unwrap_or(u32::MAX);
    if let Some(write) = record.writes.iter().find(|w| w.page >= page_count) {
        return Err(bad(write.page, "written past the end of the store"));
    }
    // Every page the store grows by must be written here, so nothing is
    // allocated that the record does not carry.
    for page in old_count..page_count {
        if !record.writes.iter().any(|w| w.page == page) {
            return Err(bad(page, "new but never written"));
        }
    }
    let mut pages = follower.pages().to_vec();
    pages.truncate(usize::try_from(page_count).unwrap_or(usize::MAX));
    for write in &record.writes {
        let index = usize::try_from(write.page).unwrap_or(usize::MAX);
        if index >= pages.len() {
            pages.resize(index + 1, Vec::new());
        }
        if let Some(slot) = pages.get_mut(index) {
            slot.clone_from(&write.bytes);
        }
    }
    follower
        .load_pages(pages)
        .map_err(PhysicalApplyError::Store)
}
