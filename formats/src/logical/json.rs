//! Export of the logical log as JSON lines with a Debezium-like envelope:
//!
//! ```text
//! {"after":{..},"before":null,"op":"c","source":{..},"ts_ms":..}
//! ```
//!
//! `op` is `c` (insert), `u` (update) or `d` (delete); `source` names the
//! connector, table, transaction id, log position (`lsn`) and schema
//! version; `ts_ms` is the transaction's commit timestamp. Row events are
//! exported when their `Commit` is seen, so an uncommitted tail is never
//! exported. Schema events are not exported (consumers see the columns in
//! the images).

use super::LogicalEvent;
use crate::store::RowImage;
use serde_json::{json, Value as Json};

fn image(row: Option<&RowImage>) -> Json {
    row.map_or(Json::Null, RowImage::to_json)
}

/// The envelopes of the committed row events in `events`, in log order.
pub fn to_json(events: &[LogicalEvent]) -> Vec<Json> {
    let mut out = Vec::new();
    let mut pending: Vec<&LogicalEvent> = Vec::new();
    for event in events {
        match event {
            LogicalEvent::Begin { .. } => pending.clear(),
            LogicalEvent::Schema(_) => {}
            LogicalEvent::Insert { .. }
            | LogicalEvent::Update { .. }
            | LogicalEvent::Delete { .. } => pending.push(event),
            LogicalEvent::Commit { txid, lsn, ts_ms } => {
                for row in pending.drain(..) {
                    let (op, table, schema_version, before, after) = match row {
                        LogicalEvent::Insert {
                            table,
                            schema_version,
                            after,
                            ..
                        } => ("c", table, schema_version, None, Some(after)),
                        LogicalEvent::Update {
                            table,
                            schema_version,
                            before,
                            after,
                            ..
                        } => ("u", table, schema_version, Some(before), Some(after)),
                        LogicalEvent::Delete {
                            table,
                            schema_version,
                            before,
                            ..
                        } => ("d", table, schema_version, Some(before), None),
                        _ => continue,
                    };
                    out.push(json!({
                        "before": image(before),
                        "after": image(after),
                        "op": op,
                        "source": {
                            "connector": "steadfast",
                            "table": table,
                            "txid": txid,
                            "lsn": lsn.0,
                            "schema_version": schema_version,
                        },
                        "ts_ms": ts_ms,
                    }));
                }
            }
        }
    }
    out
}

/// [`to_json`] as newline-terminated JSON lines.
pub fn to_json_lines(events: &[LogicalEvent]) -> String {
    to_json(events)
        .iter()
        .map(|envelope| format!("{envelope}\n"))
        .collect()
}
