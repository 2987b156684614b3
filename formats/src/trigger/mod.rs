//! Trigger-based replication: user-defined triggers (closures registered
//! per table) write rows into a change table — sequence number,
//! transaction id, table, operation, row data — in the transaction that
//! made the change; a [`Shipper`] reads the change table and a
//! [`TriggerFollower`] applies it, with per-table filters and transforms
//! ([`TableRule`]).
//!
//! This is how Slony, Bucardo or Databus replicate: flexible (replicate a
//! subset, rename, transform) at the price of doing the work in the
//! application's transactions. As there, schema changes are not captured
//! by triggers; the operator runs DDL on the follower.
//!
//! Body of a change-row record (format version 1):
//! `u64 seq | u64 txid | table | u8 op (1 insert, 2 update, 3 delete) | i64 key | row`.

mod change_table;
mod follower;

pub use change_table::{copy_row, ChangeTable, ChangeWriter, Shipper, Trigger, Triggers};
pub use follower::{TableRule, TriggerApplyError, TriggerFollower};

use crate::codec::{put_i64, put_str, put_u64, put_u8, BodyError, Reader};
use crate::error::{body, open, DecodeError};
use crate::frame::{Frame, RecordKind};
use crate::store::{ChangeOp, RowImage};

/// The format version written.
pub const VERSION: u8 = 1;

/// One row of the change table.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct ChangeRow {
    /// Position in the change table: 1, 2, 3, … without gaps.
    pub seq: u64,
    /// The transaction that made the change.
    pub txid: u64,
    /// The table changed.
    pub table: String,
    /// Insert, update or delete.
    pub op: ChangeOp,
    /// The row's primary key.
    pub key: i64,
    /// The row data the trigger chose to record.
    pub row: RowImage,
}

/// The framed bytes of `row`.
pub fn encode(row: &ChangeRow) -> Vec<u8> {
    let mut out = Vec::new();
    put_u64(&mut out, row.seq);
    put_u64(&mut out, row.txid);
    put_str(&mut out, &row.table);
    put_u8(
        &mut out,
        match row.op {
            ChangeOp::Insert => 1,
            ChangeOp::Update => 2,
            ChangeOp::Delete => 3,
        },
    );
    put_i64(&mut out, row.key);
    row.row.encode(&mut out);
    Frame::new(RecordKind::Trigger, VERSION, out).encode()
}

/// Decodes one framed change row. Total.
pub fn decode(bytes: &[u8]) -> Result<ChangeRow, DecodeError> {
    from_frame(&open(bytes, RecordKind::Trigger)?)
}

/// Decodes the change row in an already-checked frame (from a segment).
pub fn from_frame(frame: &Frame) -> Result<ChangeRow, DecodeError> {
    if frame.kind != RecordKind::Trigger {
        return Err(DecodeError::WrongKind {
            expected: RecordKind::Trigger,
            found: frame.kind,
        });
    }
    let mut r = Reader::new(&frame.body);
    let decoded = (|| {
        let seq = r.u64("seq")?;
        let txid = r.u64("txid")?;
        let table = r.string("table name")?;
        let op = match r.u8("operation")? {
            1 => ChangeOp::Insert,
            2 => ChangeOp::Update,
            3 => ChangeOp::Delete,
            tag => {
                return Err(BodyError::InvalidTag {
                    what: "operation",
                    tag,
                    expected: "1 (insert), 2 (update) or 3 (delete)",
                })
            }
        };
        let key = r.i64("key")?;
        let row = RowImage::decode(&mut r)?;
        r.finish()?;
        Ok(ChangeRow {
            seq,
            txid,
            table,
            op,
            key,
            row,
        })
    })();
    decoded.map_err(body(RecordKind::Trigger))
}

#[cfg(test)]
mod tests;
