//! One table of the reference store.

use super::row::RowImage;
use super::value::Value;
use std::collections::BTreeMap;

/// A table: a schema (key column first), its version, the last id issued
/// by `next_id()`, and rows by primary key.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Table {
    pub(crate) columns: Vec<String>,
    pub(crate) schema_version: u32,
    pub(crate) last_id: i64,
    pub(crate) rows: BTreeMap<i64, Vec<Value>>,
}

impl Table {
    pub(crate) fn new(columns: Vec<String>, schema_version: u32) -> Table {
        Table {
            columns,
            schema_version,
            last_id: 0,
            rows: BTreeMap::new(),
        }
    }

    /// Column names, key first.
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    /// The primary-key column.
    pub fn key_column(&self) -> &str {
        self.columns.first().map_or("", String::as_str)
    }

    /// The schema version: 1 at creation, +1 per added column.
    pub fn schema_version(&self) -> u32 {
        self.schema_version
    }

    /// The highest id issued or inserted so far.
    pub fn last_id(&self) -> i64 {
        self.last_id
    }

    /// Rows by primary key; each row has one value per column, key first.
    pub fn rows(&self) -> &BTreeMap<i64, Vec<Value>> {
        &self.rows
    }

    /// Position of `column` in the schema.
    pub fn column_index(&self, column: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == column)
    }

    /// The row with `key` as a named image.
    pub fn image(&self, key: i64) -> Option<RowImage> {
        self.rows.get(&key).map(|values| self.image_of(values))
    }

    pub(crate) fn image_of(&self, values: &[Value]) -> RowImage {
        RowImage(
            self.columns
                .iter()
                .cloned()
                .zip(values.iter().cloned())
                .collect(),
        )
    }
}
