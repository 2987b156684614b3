//! A tiny deterministic table store that produces and applies the four
//! replication logs. It is not a database.
//!
//! Named tables of rows with an integer primary key (the first column), an
//! auto-increment id per table, fixed-size pages underneath (see [`pages`]),
//! and a small statement language (see [`sql`]) whose expressions may call
//! `now()`, `rand()` and `next_id()`. Those values come from an explicit
//! [`Nondeterminism`] provider, or from the [`FixedValues`] a leader
//! recorded, never from a global clock or generator.
//!
//! ```
//! use steadfast_formats::store::{SeededNondeterminism, Store, Value};
//!
//! let mut leader = Store::new();
//! let mut clock = SeededNondeterminism::new(7, 1_000, 10);
//! leader.execute("CREATE TABLE users (id, name, seen)", &mut clock)?;
//! let run = leader.execute("INSERT INTO users (name, seen) VALUES ('ann', now())", &mut clock)?;
//! assert_eq!(run.fixed.generated_ids, vec![1]);
//! let users = leader.table("users").expect("created above");
//! assert_eq!(users.rows()[&1], vec![Value::Int(1), Value::Text("ann".into()), Value::Int(1_020)]);
//! # Ok::<(), steadfast_formats::store::StoreError>(())
//! ```

mod eval;
mod execute;
pub mod nondeterminism;
pub mod pages;
pub mod parser;
pub mod row;
pub mod sql;
pub mod table;
pub mod value;

pub use nondeterminism::{FixedValues, Nondeterminism, SeededNondeterminism, SplitMix64};
pub use pages::{PAGE_SIZE, STORAGE_FORMAT_VERSION};
pub use parser::{parse, ParseError};
pub use row::{ChangeOp, RowChange, RowImage, SchemaChange};
pub use sql::{ArithOp, Atom, Expr, Statement, Term};
pub use table::Table;
pub use value::Value;

use crate::codec::BodyError;
use nondeterminism::{Missing, Source};
use std::collections::BTreeMap;
use steadfast::types::Lsn;
use thiserror::Error;

/// Why a statement or an applied change was refused. A refused statement
/// changes nothing.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum StoreError {
    /// The text is not a statement.
    #[error(transparent)]
    Parse(#[from] ParseError),
    /// No table has this name.
    #[error("unknown table `{table}`")]
    UnknownTable {
        /// The name used.
        table: String,
    },
    /// `CREATE TABLE` of a name already taken.
    #[error("table `{table}` already exists")]
    TableExists {
        /// The name used.
        table: String,
    },
    /// A table defined with no columns.
    #[error("table `{table}` needs at least one column (its key)")]
    EmptySchema {
        /// The table.
        table: String,
    },
    /// A column named twice.
    #[error("column `{column}` appears twice in `{table}`")]
    DuplicateColumn {
        /// The table.
        table: String,
        /// The repeated column.
        column: String,
    },
    /// A column the table does not have.
    #[error("table `{table}` has no column `{column}`")]
    UnknownColumn {
        /// The table.
        table: String,
        /// The column named.
        column: String,
    },
    /// `INSERT` with a different number of columns and values.
    #[error("INSERT names {columns} column(s) but gives {values} value(s): expected one value per column")]
    ColumnCountMismatch {
        /// Columns named.
        columns: usize,
        /// Values given.
        values: usize,
    },
    /// `WHERE` on a column other than the key.
    #[error("WHERE must name the key column `{key_column}` of `{table}`, not `{column}`")]
    NotKeyColumn {
        /// The table.
        table: String,
        /// The column named.
        column: String,
        /// The table's key column.
        key_column: String,
    },
    /// A key that is not an integer.
    #[error("key of `{table}` must be an integer, found {found}")]
    KeyNotInteger {
        /// The table.
        table: String,
        /// The value found.
        found: Value,
    },
    /// `SET` on the key column.
    #[error("cannot SET the key column `{column}` of `{table}`: delete and insert instead")]
    KeyUpdate {
        /// The table.
        table: String,
        /// The key column.
        column: String,
    },
    /// An insert of a key that is already present.
    #[error("duplicate key {key} in `{table}`")]
    DuplicateKey {
        /// The table.
        table: String,
        /// The key.
        key: i64,
    },
    /// Arithmetic on text.
    #[error("`{operation}` needs integers or NULL, found text")]
    NotANumber {
        /// The operator.
        operation: &'static str,
    },
    /// A column reference outside `SET`.
    #[error("column `{column}` can only be read on the right of SET")]
    ColumnOutsideSet {
        /// The column.
        column: String,
    },
    /// Replay needed a value the leader did not record.
    #[error("replay needs {what}, which the statement record does not carry")]
    MissingFixedValue {
        /// Which value.
        what: String,
    },
    /// A replicated schema that does not extend the local one.
    #[error("schema {proposed:?} for `{table}` does not extend the local schema {existing:?}")]
    SchemaConflict {
        /// The table.
        table: String,
        /// The local columns.
        existing: Vec<String>,
        /// The columns received.
        proposed: Vec<String>,
    },
    /// Pages whose bytes are not a store image.
    #[error("corrupt store pages: {0}")]
    CorruptPages(BodyError),
    /// Pages written by another storage-format version.
    #[error("pages are storage format version {found}, this store uses version {expected}")]
    StorageFormatMismatch {
        /// The version in the pages.
        found: u32,
        /// The store's version.
        expected: u32,
    },
}

impl From<Missing> for StoreError {
    fn from(missing: Missing) -> StoreError {
        let what = match missing {
            Missing::RandSeed => "a rand() seed".to_owned(),
            Missing::GeneratedId { index } => format!("generated id #{}", index + 1),
        };
        StoreError::MissingFixedValue { what }
    }
}

/// How a store lays out its pages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct StoreConfig {
    /// The page layout version this store reads and writes; physical
    /// replication refuses pages of any other version.
    pub storage_format_version: u32,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            storage_format_version: STORAGE_FORMAT_VERSION,
        }
    }
}

/// What one successful statement did: everything the four logs need.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Execution {
    /// The statement executed.
    pub statement: Statement,
    /// The commit position of the statement's transaction (also its txid).
    pub lsn: Lsn,
    /// The nondeterministic values the execution used.
    pub fixed: FixedValues,
    /// Rows changed, in order.
    pub changes: Vec<RowChange>,
    /// The table's new schema, for `CREATE TABLE` and `ALTER TABLE`.
    pub schema_change: Option<SchemaChange>,
    /// Pages whose bytes changed (page numbers, ascending).
    pub dirty_pages: Vec<u32>,
}

/// The reference store.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Store {
    config: StoreConfig,
    tables: BTreeMap<String, Table>,
    lsn: Lsn,
    pages: Vec<Vec<u8>>,
}

impl Default for Store {
    fn default() -> Self {
        Store::new()
    }
}

impl Store {
    /// An empty store with the current storage format.
    pub fn new() -> Store {
        Store::with_config(StoreConfig::default())
    }

    /// An empty store with `config`.
    pub fn with_config(config: StoreConfig) -> Store {
        let tables = BTreeMap::new();
        let pages = pages::to_pages(config.storage_format_version, Lsn(0), &tables);
        Store {
            config,
            tables,
            lsn: Lsn(0),
            pages,
        }
    }

    /// The store's configuration.
    pub fn config(&self) -> StoreConfig {
        self.config
    }

    /// Transactions committed so far; the position of the last one.
    pub fn lsn(&self) -> Lsn {
        self.lsn
    }

    /// All tables by name.
    pub fn tables(&self) -> &BTreeMap<String, Table> {
        &self.tables
    }

    /// One table.
    pub fn table(&self, name: &str) -> Option<&Table> {
        self.tables.get(name)
    }

    /// The store's pages, each [`PAGE_SIZE`] bytes.
    pub fn pages(&self) -> &[Vec<u8>] {
        &self.pages
    }

    /// Parses and executes `text`, drawing nondeterministic values from
    /// `provider` (a leader, or a naive replica).
    pub fn execute(
        &mut self,
        text: &str,
        provider: &mut dyn Nondeterminism,
    ) -> Result<Execution, StoreError> {
        let statement = parse(text)?;
        self.run(&statement, Source::Live(provider))
    }

    /// Executes a parsed statement with values from `provider`.
    pub fn execute_statement(
        &mut self,
        statement: &Statement,
        provider: &mut dyn Nondeterminism,
    ) -> Result<Execution, StoreError> {
        self.run(statement, Source::Live(provider))
    }

    /// Executes a statement with the values a leader recorded for it.
    pub fn replay(
        &mut self,
        statement: &Statement,
        fixed: &FixedValues,
    ) -> Result<Execution, StoreError> {
        self.run(statement, Source::Fixed(fixed))
    }

    /// Creates `table`, or extends it with new trailing columns
    /// (replicated schema changes). Not a transaction by itself: finish
    /// with [`Store::commit_applied`].
    pub fn define_table(
        &mut self,
        table: &str,
        columns: &[String],
        schema_version: u32,
    ) -> Result<(), StoreError> {
        execute::check_columns(table, columns)?;
        match self.tables.get_mut(table) {
            None => {
                self.tables.insert(
                    table.to_owned(),
                    Table::new(columns.to_vec(), schema_version),
                );
            }
            Some(existing) => {
                if !columns.starts_with(&existing.columns) {
                    return Err(StoreError::SchemaConflict {
                        table: table.to_owned(),
                        existing: existing.columns.clone(),
                        proposed: columns.to_vec(),
                    });
                }
                for column in columns.iter().skip(existing.columns.len()) {
                    existing.columns.push(column.clone());
                    for values in existing.rows.values_mut() {
                        values.push(Value::Null);
                    }
                }
                existing.schema_version = schema_version;
            }
        }
        Ok(())
    }

    /// Writes a replicated row image under `key`, inserting or replacing;
    /// columns the image lacks are NULL. Returns the row it replaced.
    pub fn put_row(
        &mut self,
        table: &str,
        key: i64,
        image: &RowImage,
    ) -> Result<Option<RowImage>, StoreError> {
        let t = self.table_mut(table)?;
        let mut values = vec![Value::Null; t.columns.len()];
        for (column, value) in &image.0 {
            let slot = t
                .column_index(column)
                .and_then(|i| values.get_mut(i))
                .ok_or_else(|| StoreError::UnknownColumn {
                    table: table.to_owned(),
                    column: column.clone(),
                })?;
            *slot = value.clone();
        }
        if let Some(slot) = values.first_mut() {
            *slot = Value::Int(key);
        }
        t.last_id = t.last_id.max(key);
        let old = t.rows.insert(key, values);
        Ok(old.map(|values| t.image_of(&values)))
    }

    /// Removes the row with `key`; returns it, if it was there.
    pub fn delete_row(&mut self, table: &str, key: i64) -> Result<Option<RowImage>, StoreError> {
        let t = self.table_mut(table)?;
        let old = t.rows.remove(&key);
        Ok(old.map(|values| t.image_of(&values)))
    }

    /// Ends a transaction applied through [`Store::define_table`],
    /// [`Store::put_row`] and [`Store::delete_row`]: advances the lsn and
    /// rewrites the pages. Returns the dirty page numbers.
    pub fn commit_applied(&mut self) -> Vec<u32> {
        self.lsn = self.lsn.next();
        self.refresh_pages()
    }

    /// Replaces the whole state with the one `pages` hold (physical
    /// replication). On error the store is unchanged.
    pub fn load_pages(&mut self, pages: Vec<Vec<u8>>) -> Result<(), StoreError> {
        let image = pages::from_pages(&pages).map_err(StoreError::CorruptPages)?;
        if image.storage_format_version != self.config.storage_format_version {
            return Err(StoreError::StorageFormatMismatch {
                found: image.storage_format_version,
                expected: self.config.storage_format_version,
            });
        }
        self.tables = image.tables;
        self.lsn = image.lsn;
        self.pages = pages;
        Ok(())
    }

    fn table_mut(&mut self, table: &str) -> Result<&mut Table, StoreError> {
        self.tables
            .get_mut(table)
            .ok_or_else(|| StoreError::UnknownTable {
                table: table.to_owned(),
            })
    }

    /// Re-serialises the state; returns the numbers of pages that changed.
    fn refresh_pages(&mut self) -> Vec<u32> {
        let fresh = pages::to_pages(self.config.storage_format_version, self.lsn, &self.tables);
        let dirty = fresh
            .iter()
            .enumerate()
            .filter(|(i, page)| self.pages.get(*i) != Some(*page))
            .map(|(i, _)| u32::try_from(i).unwrap_or(u32::MAX))
            .collect();
        self.pages = fresh;
        dirty
    }
}

#[cfg(test)]
mod tests;
