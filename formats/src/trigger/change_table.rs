//! Triggers, the change table they write, and the shipper that reads it.

use super::ChangeRow;
use crate::store::{ChangeOp, Execution, RowChange, RowImage};
use std::collections::BTreeMap;
use std::fmt;

/// The change table: rows in sequence order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct ChangeTable {
    rows: Vec<ChangeRow>,
    last_seq: u64,
}

impl ChangeTable {
    /// An empty change table.
    pub fn new() -> ChangeTable {
        ChangeTable::default()
    }

    /// The rows still held, oldest first.
    pub fn rows(&self) -> &[ChangeRow] {
        &self.rows
    }

    /// The rows after sequence number `seq`.
    pub fn after(&self, seq: u64) -> impl Iterator<Item = &ChangeRow> {
        self.rows.iter().filter(move |row| row.seq > seq)
    }

    /// Drops rows up to and including `seq` (once every follower has them).
    pub fn purge_through(&mut self, seq: u64) {
        self.rows.retain(|row| row.seq > seq);
    }
}

/// What a trigger uses to write into the change table; stamps each row
/// with the next sequence number and the firing transaction's id.
pub struct ChangeWriter<'a> {
    table: &'a mut ChangeTable,
    txid: u64,
}

impl ChangeWriter<'_> {
    /// The id of the transaction the trigger fires in.
    pub fn txid(&self) -> u64 {
        self.txid
    }

    /// Appends a change row; returns its sequence number.
    pub fn write(&mut self, table: &str, op: ChangeOp, key: i64, row: RowImage) -> u64 {
        self.table.last_seq = self.table.last_seq.saturating_add(1);
        let seq = self.table.last_seq;
        self.table.rows.push(ChangeRow {
            seq,
            txid: self.txid,
            table: table.to_owned(),
            op,
            key,
            row,
        });
        seq
    }
}

/// A user-defined trigger: called once per changed row of its table.
pub type Trigger = Box<dyn Fn(&RowChange, &mut ChangeWriter<'_>) + Send + Sync>;

/// The stock trigger: records the row after an insert or update, and the
/// row before a delete.
pub fn copy_row() -> Trigger {
    Box::new(|change, writer| {
        let row = match change.op {
            ChangeOp::Delete => change.before.clone(),
            ChangeOp::Insert | ChangeOp::Update => change.after.clone(),
        };
        writer.write(
            &change.table,
            change.op,
            change.key,
            row.unwrap_or_default(),
        );
    })
}

/// Triggers by table.
#[derive(Default)]
pub struct Triggers {
    by_table: BTreeMap<String, Vec<Trigger>>,
}

impl fmt::Debug for Triggers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.by_table.iter().map(|(t, v)| (t, v.len())))
            .finish()
    }
}

impl Triggers {
    /// No triggers.
    pub fn new() -> Triggers {
        Triggers::default()
    }

    /// Registers `trigger` on `table`; triggers fire in registration order.
    pub fn register(&mut self, table: &str, trigger: Trigger) {
        self.by_table
            .entry(table.to_owned())
            .or_default()
            .push(trigger);
    }

    /// Fires the triggers of every row `execution` changed, writing into
    /// `changes` under the execution's transaction id.
    pub fn fire(&self, execution: &Execution, changes: &mut ChangeTable) {
        let mut writer = ChangeWriter {
            table: changes,
            txid: execution.lsn.0,
        };
        for change in &execution.changes {
            for trigger in self.by_table.get(&change.table).into_iter().flatten() {
                trigger(change, &mut writer);
            }
        }
    }
}

/// Reads the change table from where it last stopped.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Shipper {
    shipped_through: u64,
}

impl Shipper {
    /// A shipper that has shipped nothing.
    pub fn new() -> Shipper {
        Shipper::default()
    }

    /// The last sequence number shipped.
    pub fn shipped_through(&self) -> u64 {
        self.shipped_through
    }

    /// The rows not shipped yet, framed back to back (a log segment).
    pub fn ship(&mut self, changes: &ChangeTable) -> Vec<u8> {
        let mut segment = Vec::new();
        for row in changes.after(self.shipped_through) {
            segment.extend(super::encode(row));
            self.shipped_through = row.seq;
        }
        segment
    }
}
