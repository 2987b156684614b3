//! Logical (row-based) replication, also known as change data capture:
//! per-row inserts, updates and deletes with primary key and before/after
//! images, between transaction `Begin` and `Commit` events that carry the
//! log position, with each table's schema carried in-band when it changes.
//!
//! Format versions: version 1 had no schema events and no schema version on
//! row events; version 2 adds both. This build writes version 2 and reads
//! both, so a follower upgraded first keeps reading an older leader's
//! stream during a rolling upgrade (see [`encode_v1`]). Row images carry
//! column names, so a follower whose schema has more columns than the
//! stream fills them with NULL.
//!
//! For outside consumers, [`to_json_lines`] exports committed row events as
//! JSON lines with a Debezium-like envelope.

mod apply;
mod codec;
mod json;

pub use apply::{LogicalApplyError, LogicalFollower};
pub use codec::{decode, encode, encode_v1, LogicalEncodeError, VERSION, VERSION_1};
pub use json::{to_json, to_json_lines};

use crate::store::{ChangeOp, Execution, RowImage, SchemaChange};
use steadfast::types::Lsn;

/// One event of the logical log.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum LogicalEvent {
    /// A transaction starts.
    Begin {
        /// The transaction id.
        txid: u64,
        /// The transaction's commit position in the leader's log.
        lsn: Lsn,
    },
    /// A table was created or its schema changed (format version 2).
    Schema(SchemaChange),
    /// A row was inserted.
    Insert {
        /// The table.
        table: String,
        /// The table's schema version (absent in version 1 streams).
        schema_version: Option<u32>,
        /// The primary key.
        key: i64,
        /// The new row.
        after: RowImage,
    },
    /// A row was updated.
    Update {
        /// The table.
        table: String,
        /// The table's schema version (absent in version 1 streams).
        schema_version: Option<u32>,
        /// The primary key.
        key: i64,
        /// The row before.
        before: RowImage,
        /// The row after.
        after: RowImage,
    },
    /// A row was deleted.
    Delete {
        /// The table.
        table: String,
        /// The table's schema version (absent in version 1 streams).
        schema_version: Option<u32>,
        /// The primary key.
        key: i64,
        /// The row before.
        before: RowImage,
    },
    /// A transaction commits.
    Commit {
        /// The transaction id.
        txid: u64,
        /// The commit position.
        lsn: Lsn,
        /// The leader's commit timestamp, in milliseconds.
        ts_ms: i64,
    },
}

/// The events of one execution on the leader: `Begin`, the schema change
/// if any, one event per changed row, `Commit`.
pub fn events_for(execution: &Execution) -> Vec<LogicalEvent> {
    let txid = execution.lsn.0;
    let mut events = vec![LogicalEvent::Begin {
        txid,
        lsn: execution.lsn,
    }];
    if let Some(schema) = &execution.schema_change {
        events.push(LogicalEvent::Schema(schema.clone()));
    }
    for change in &execution.changes {
        let table = change.table.clone();
        let schema_version = Some(change.schema_version);
        let key = change.key;
        let before = change.before.clone().unwrap_or_default();
        let after = change.after.clone().unwrap_or_default();
        events.push(match change.op {
            ChangeOp::Insert => LogicalEvent::Insert {
                table,
                schema_version,
                key,
                after,
            },
            ChangeOp::Update => LogicalEvent::Update {
                table,
                schema_version,
                key,
                before,
                after,
            },
            ChangeOp::Delete => LogicalEvent::Delete {
                table,
                schema_version,
                key,
                before,
            },
        });
    }
    events.push(LogicalEvent::Commit {
        txid,
        lsn: execution.lsn,
        ts_ms: execution.fixed.timestamp,
    });
    events
}

#[cfg(test)]
mod tests;
