//! Binary form of logical events.
//!
//! Body: a tag byte, then the event's fields.
//! 1 `Begin`: `u64 txid | u64 lsn`;
//! 2 `Commit`: `u64 txid | u64 lsn | i64 ts_ms`;
//! 3 `Insert`: `table | [schema version] | i64 key | after`;
//! 4 `Update`: `table | [schema version] | i64 key | before | after`;
//! 5 `Delete`: `table | [schema version] | i64 key | before`;
//! 6 `Schema` (version 2 only): `table | u32 schema version | columns`.
//! In version 2, `[schema version]` is a presence byte and a `u32`; in
//! version 1 it is absent.

use super::LogicalEvent;
use crate::codec::{
    put_bool, put_count, put_i64, put_str, put_u32, put_u64, put_u8, BodyError, Reader,
};
use crate::error::{body, open, DecodeError};
use crate::frame::{Frame, RecordKind};
use crate::store::{RowImage, SchemaChange};
use steadfast::types::Lsn;
use thiserror::Error;

/// The format version written by [`encode`].
pub const VERSION: u8 = 2;

/// The first format version, without schema events.
pub const VERSION_1: u8 = 1;

/// Why an event cannot be written in an older format version.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum LogicalEncodeError {
    /// Schema events did not exist in version 1.
    #[error("schema change events cannot be written in logical format version 1: expected a row or transaction event")]
    SchemaInVersion1,
}

fn put_schema_version(out: &mut Vec<u8>, version: u8, schema_version: Option<u32>) {
    if version >= 2 {
        put_bool(out, schema_version.is_some());
        put_u32(out, schema_version.unwrap_or(0));
    }
}

fn encode_as(event: &LogicalEvent, version: u8) -> Result<Vec<u8>, LogicalEncodeError> {
    let mut out = Vec::new();
    match event {
        LogicalEvent::Begin { txid, lsn } => {
            put_u8(&mut out, 1);
            put_u64(&mut out, *txid);
            put_u64(&mut out, lsn.0);
        }
        LogicalEvent::Commit { txid, lsn, ts_ms } => {
            put_u8(&mut out, 2);
            put_u64(&mut out, *txid);
            put_u64(&mut out, lsn.0);
            put_i64(&mut out, *ts_ms);
        }
        LogicalEvent::Insert {
            table,
            schema_version,
            key,
            after,
        } => {
            put_u8(&mut out, 3);
            put_str(&mut out, table);
            put_schema_version(&mut out, version, *schema_version);
            put_i64(&mut out, *key);
            after.encode(&mut out);
        }
        LogicalEvent::Update {
            table,
            schema_version,
            key,
            before,
            after,
        } => {
            put_u8(&mut out, 4);
            put_str(&mut out, table);
            put_schema_version(&mut out, version, *schema_version);
            put_i64(&mut out, *key);
            before.encode(&mut out);
            after.encode(&mut out);
        }
        LogicalEvent::Delete {
            table,
            schema_version,
            key,
            before,
        } => {
            put_u8(&mut out, 5);
            put_str(&mut out, table);
            put_schema_version(&mut out, version, *schema_version);
            put_i64(&mut out, *key);
            before.encode(&mut out);
        }
        LogicalEvent::Schema(schema) => {
            if version < 2 {
                return Err(LogicalEncodeError::SchemaInVersion1);
            }
            put_u8(&mut out, 6);
            put_str(&mut out, &schema.table);
            put_u32(&mut out, schema.schema_version);
            put_count(&mut out, schema.columns.len());
            for column in &schema.columns {
                put_str(&mut out, column);
            }
        }
    }
    Ok(Frame::new(RecordKind::Logical, version, out).encode())
}

/// The framed bytes of `event` in the current format version.
pub fn encode(event: &LogicalEvent) -> Vec<u8> {
    encode_as(event, VERSION).unwrap_or_default()
}

/// The framed bytes of `event` in format version 1, as a leader that has
/// not been upgraded yet writes them: schema versions are dropped, and
/// schema events cannot be written.
pub fn encode_v1(event: &LogicalEvent) -> Result<Vec<u8>, LogicalEncodeError> {
    encode_as(event, VERSION_1)
}

fn schema_version(r: &mut Reader<'_>, version: u8) -> Result<Option<u32>, BodyError> {
    if version < 2 {
        return Ok(None);
    }
    let present = r.bool("schema version presence")?;
    let value = r.u32("schema version")?;
    Ok(present.then_some(value))
}

fn decode_body(r: &mut Reader<'_>, version: u8) -> Result<LogicalEvent, BodyError> {
    let tag = r.u8("event tag")?;
    let event = match tag {
        1 => LogicalEvent::Begin {
            txid: r.u64("txid")?,
            lsn: Lsn(r.u64("lsn")?),
        },
        2 => LogicalEvent::Commit {
            txid: r.u64("txid")?,
            lsn: Lsn(r.u64("lsn")?),
            ts_ms: r.i64("commit timestamp")?,
        },
        3 => LogicalEvent::Insert {
            table: r.string("table name")?,
            schema_version: schema_version(r, version)?,
            key: r.i64("key")?,
            after: RowImage::decode(r)?,
        },
        4 => LogicalEvent::Update {
            table: r.string("table name")?,
            schema_version: schema_version(r, version)?,
            key: r.i64("key")?,
            before: RowImage::decode(r)?,
            after: RowImage::decode(r)?,
        },
        5 => LogicalEvent::Delete {
            table: r.string("table name")?,
            schema_version: schema_version(r, version)?,
            key: r.i64("key")?,
            before: RowImage::decode(r)?,
        },
        6 if version >= 2 => {
            let table = r.string("table name")?;
            let schema_version = r.u32("schema version")?;
            let count = r.count("schema columns", 4)?;
            let mut columns = Vec::new();
            for _ in 0..count {
                columns.push(r.string("column name")?);
            }
            LogicalEvent::Schema(SchemaChange {
                table,
                schema_version,
                columns,
            })
        }
        tag => {
            return Err(BodyError::InvalidTag {
                what: "logical event",
                tag,
                expected: if version >= 2 {
                    "1 (begin), 2 (commit), 3 (insert), 4 (update), 5 (delete) or 6 (schema)"
                } else {
                    "1 (begin), 2 (commit), 3 (insert), 4 (update) or 5 (delete) in version 1"
                },
            })
        }
    };
    Ok(event)
}

/// Decodes one framed logical event of either format version. Total.
pub fn decode(bytes: &[u8]) -> Result<LogicalEvent, DecodeError> {
    let frame = open(bytes, RecordKind::Logical)?;
    let mut r = Reader::new(&frame.body);
    decode_body(&mut r, frame.version)
        .and_then(|event| r.finish().map(|()| event))
        .map_err(body(RecordKind::Logical))
}
