//! Applying shipped change rows, with per-table filters and transforms.

use super::ChangeRow;
use crate::frame::{decode_segment, FrameConfig, SegmentEnd};
use crate::store::{ChangeOp, RowImage, Store, StoreError};
use crate::DecodeError;
use std::collections::BTreeMap;
use thiserror::Error;

/// What a follower does with one source table's changes.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TableRule {
    skip: bool,
    target: Option<String>,
    only_columns: Option<Vec<String>>,
    renames: Vec<(String, String)>,
}

impl TableRule {
    /// Replicate every column into the table of the same name.
    pub fn replicate() -> TableRule {
        TableRule {
            skip: false,
            target: None,
            only_columns: None,
            renames: Vec::new(),
        }
    }

    /// Do not replicate this table.
    pub fn skip() -> TableRule {
        TableRule {
            skip: true,
            ..TableRule::replicate()
        }
    }

    /// Write into `table` on the follower instead.
    pub fn into_table(mut self, table: &str) -> TableRule {
        self.target = Some(table.to_owned());
        self
    }

    /// Replicate only these source columns (the key is always kept).
    pub fn only_columns(mut self, columns: &[&str]) -> TableRule {
        self.only_columns = Some(columns.iter().map(|c| (*c).to_owned()).collect());
        self
    }

    /// Store source column `from` as `to` on the follower.
    pub fn rename_column(mut self, from: &str, to: &str) -> TableRule {
        self.renames.push((from.to_owned(), to.to_owned()));
        self
    }

    fn transform(&self, row: &RowImage) -> RowImage {
        let keep = |(i, (column, _)): &(usize, &(String, _))| {
            *i == 0
                || self
                    .only_columns
                    .as_ref()
                    .is_none_or(|only| only.contains(column))
        };
        RowImage(
            row.0
                .iter()
                .enumerate()
                .filter(keep)
                .map(|(_, (column, value))| {
                    let name = self
                        .renames
                        .iter()
                        .find(|(from, _)| from == column)
                        .map_or(column, |(_, to)| to);
                    (name.clone(), value.clone())
                })
                .collect(),
        )
    }
}

/// Why a follower refused shipped changes.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum TriggerApplyError {
    /// A change row other than the next in sequence.
    #[error("change row {found} out of sequence: expected {expected}")]
    Gap {
        /// The next sequence number the follower needs.
        expected: u64,
        /// The one received.
        found: u64,
    },
    /// A change row that does not decode.
    #[error("undecodable change row at byte {offset} of the shipment: {error}")]
    Decode {
        /// Where in the shipment it starts.
        offset: usize,
        /// Why it does not decode.
        error: DecodeError,
    },
    /// The store refused the change (unknown table or column on the follower).
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A follower's progress through the change table, and its rules.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct TriggerFollower {
    rules: BTreeMap<String, TableRule>,
    applied_through: u64,
    open_txid: Option<u64>,
}

impl TriggerFollower {
    /// A follower that replicates every table as is.
    pub fn new() -> TriggerFollower {
        TriggerFollower::default()
    }

    /// Sets the rule for source table `table`.
    pub fn with_rule(mut self, table: &str, rule: TableRule) -> TriggerFollower {
        self.rules.insert(table.to_owned(), rule);
        self
    }

    /// The last sequence number applied.
    pub fn applied_through(&self) -> u64 {
        self.applied_through
    }

    /// Applies one change row; commits the previous transaction on the
    /// store when a new one starts.
    pub fn apply(&mut self, store: &mut Store, row: &ChangeRow) -> Result<(), TriggerApplyError> {
        let expected = self.applied_through.saturating_add(1);
        if row.seq != expected {
            return Err(TriggerApplyError::Gap {
                expected,
                found: row.seq,
            });
        }
        if self.open_txid.is_some_and(|open| open != row.txid) {
            store.commit_applied();
        }
        self.open_txid = Some(row.txid);
        let replicate = TableRule::replicate();
        let rule = self.rules.get(&row.table).unwrap_or(&replicate);
        if !rule.skip {
            let target = rule.target.as_deref().unwrap_or(&row.table);
            match row.op {
                ChangeOp::Insert | ChangeOp::Update => {
                    store.put_row(target, row.key, &rule.transform(&row.row))?;
                }
                ChangeOp::Delete => {
                    store.delete_row(target, row.key)?;
                }
            }
        }
        self.applied_through = row.seq;
        Ok(())
    }

    /// Decodes and applies a shipment from [`super::Shipper::ship`], then
    /// commits. Stops at the first bad record and reports it.
    pub fn apply_shipment(
        &mut self,
        store: &mut Store,
        shipment: &[u8],
    ) -> Result<(), TriggerApplyError> {
        let segment = decode_segment(shipment, &FrameConfig::default());
        for (offset, frame) in &segment.records {
            let row = super::from_frame(frame).map_err(|error| TriggerApplyError::Decode {
                offset: *offset,
                error,
            })?;
            self.apply(store, &row)?;
        }
        self.flush(store);
        match segment.end {
            SegmentEnd::Clean => Ok(()),
            SegmentEnd::Truncated { offset, error } | SegmentEnd::Corrupt { offset, error } => {
                Err(TriggerApplyError::Decode {
                    offset,
                    error: error.into(),
                })
            }
        }
    }

    /// Commits the transaction in progress, if any.
    pub fn flush(&mut self, store: &mut Store) {
        if self.open_txid.take().is_some() {
            store.commit_applied();
        }
    }
}
