//! A follower applying the logical log to its store.

use super::LogicalEvent;
use crate::store::{RowImage, Store, StoreError};
use thiserror::Error;

/// Why a follower refused a logical event. Every check compares the
/// stream with the follower's own state, so a gap or a divergence stops
/// replication instead of being papered over.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum LogicalApplyError {
    /// A row or schema event, or a commit, outside a transaction.
    #[error("{event} event outside a transaction: expected Begin first")]
    NotInTransaction {
        /// The event kind.
        event: &'static str,
    },
    /// `Begin` while a transaction is open.
    #[error("Begin of txid {begun} while txid {open} is still open: expected its Commit")]
    AlreadyInTransaction {
        /// The open transaction.
        open: u64,
        /// The transaction that began.
        begun: u64,
    },
    /// `Commit` of another transaction than the open one.
    #[error("Commit of txid {commit} while txid {open} is open")]
    CommitMismatch {
        /// The open transaction.
        open: u64,
        /// The transaction committed.
        commit: u64,
    },
    /// A row event written against another schema version than the follower's.
    #[error("row event for `{table}` is schema version {stream}, the follower's table is version {follower}: a schema change was missed")]
    SchemaVersionMismatch {
        /// The table.
        table: String,
        /// The stream's schema version.
        stream: u32,
        /// The follower's schema version.
        follower: u32,
    },
    /// The follower's row differs from the event's before image.
    #[error(
        "row {key} of `{table}` differs from the event's before image: the follower has diverged"
    )]
    BeforeImageMismatch {
        /// The table.
        table: String,
        /// The key.
        key: i64,
    },
    /// An insert of a row the follower already has.
    #[error("insert of row {key} into `{table}`, which the follower already has")]
    RowExists {
        /// The table.
        table: String,
        /// The key.
        key: i64,
    },
    /// The store refused the change.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A follower's position in the logical log: whether a transaction is open.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct LogicalFollower {
    open: Option<u64>,
}

fn matches(current: Option<&RowImage>, before: &RowImage) -> bool {
    current.is_some_and(|row| before.0.iter().all(|(c, v)| row.get(c) == Some(v)))
}

impl LogicalFollower {
    /// A follower between transactions.
    pub fn new() -> LogicalFollower {
        LogicalFollower::default()
    }

    /// The transaction being applied, if any.
    pub fn open_transaction(&self) -> Option<u64> {
        self.open
    }

    fn check_schema(
        store: &Store,
        table: &str,
        schema_version: Option<u32>,
    ) -> Result<(), LogicalApplyError> {
        let follower = store
            .table(table)
            .ok_or_else(|| StoreError::UnknownTable {
                table: table.to_owned(),
            })?
            .schema_version();
        match schema_version {
            Some(stream) if stream != follower => Err(LogicalApplyError::SchemaVersionMismatch {
                table: table.to_owned(),
                stream,
                follower,
            }),
            _ => Ok(()),
        }
    }

    fn check_before(
        store: &Store,
        table: &str,
        key: i64,
        before: &RowImage,
    ) -> Result<(), LogicalApplyError> {
        let current = store.table(table).and_then(|t| t.image(key));
        if matches(current.as_ref(), before) {
            Ok(())
        } else {
            Err(LogicalApplyError::BeforeImageMismatch {
                table: table.to_owned(),
                key,
            })
        }
    }

    /// Applies one event to `store`. The store commits at each `Commit`.
    pub fn apply(
        &mut self,
        store: &mut Store,
        event: &LogicalEvent,
    ) -> Result<(), LogicalApplyError> {
        let open = |name| {
            self.open
                .ok_or(LogicalApplyError::NotInTransaction { event: name })
        };
        match event {
            LogicalEvent::Begin { txid, .. } => {
                if let Some(open) = self.open {
                    return Err(LogicalApplyError::AlreadyInTransaction { open, begun: *txid });
                }
                self.open = Some(*txid);
            }
            LogicalEvent::Commit { txid, .. } => {
                let open = open("Commit")?;
                if open != *txid {
                    return Err(LogicalApplyError::CommitMismatch {
                        open,
                        commit: *txid,
                    });
                }
                store.commit_applied();
                self.open = None;
            }
            LogicalEvent::Schema(schema) => {
                open("Schema")?;
                store.define_table(&schema.table, &schema.columns, schema.schema_version)?;
            }
            LogicalEvent::Insert {
                table,
                schema_version,
                key,
                after,
            } => {
                open("Insert")?;
                Self::check_schema(store, table, *schema_version)?;
                if store.table(table).and_then(|t| t.rows().get(key)).is_some() {
                    return Err(LogicalApplyError::RowExists {
                        table: table.clone(),
                        key: *key,
                    });
                }
                store.put_row(table, *key, after)?;
            }
            LogicalEvent::Update {
                table,
                schema_version,
                key,
                before,
                after,
            } => {
                open("Update")?;
                Self::check_schema(store, table, *schema_version)?;
                Self::check_before(store, table, *key, before)?;
                store.put_row(table, *key, after)?;
            }
            LogicalEvent::Delete {
                table,
                schema_version,
                key,
                before,
            } => {
                open("Delete")?;
                Self::check_schema(store, table, *schema_version)?;
                Self::check_before(store, table, *key, before)?;
                store.delete_row(table, *key)?;
            }
        }
        Ok(())
    }
}
