//! Row images and the row-level changes a statement makes: what the logical
//! log ships and what triggers see.

use super::value::Value;
use crate::codec::{put_count, put_str, BodyError, Reader};

/// A row as named column values, in the table's column order (key first).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct RowImage(pub Vec<(String, Value)>);

impl RowImage {
    /// The value of `column`, if the image has it.
    pub fn get(&self, column: &str) -> Option<&Value> {
        self.0.iter().find(|(c, _)| c == column).map(|(_, v)| v)
    }

    /// Appends the binary form: a count, then name and value pairs.
    pub fn encode(&self, out: &mut Vec<u8>) {
        put_count(out, self.0.len());
        for (column, value) in &self.0 {
            put_str(out, column);
            value.encode(out);
        }
    }

    /// Reads the form written by [`RowImage::encode`].
    pub fn decode(r: &mut Reader<'_>) -> Result<RowImage, BodyError> {
        // Each column takes at least a 4-byte name length and a 1-byte value tag.
        let count = r.count("row image columns", 5)?;
        let mut columns = Vec::new();
        for _ in 0..count {
            let name = r.string("column name")?;
            columns.push((name, Value::decode(r)?));
        }
        Ok(RowImage(columns))
    }

    /// The image as a JSON object keyed by column name.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::Value::Object(
            self.0
                .iter()
                .map(|(c, v)| (c.clone(), v.to_json()))
                .collect(),
        )
    }
}

/// The kind of a row change.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum ChangeOp {
    /// A new row.
    Insert,
    /// A changed row.
    Update,
    /// A removed row.
    Delete,
}

/// One row changed by a statement, with its images before and after.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RowChange {
    /// The table.
    pub table: String,
    /// The table's schema version when the change was made.
    pub schema_version: u32,
    /// The row's primary key.
    pub key: i64,
    /// Insert, update or delete.
    pub op: ChangeOp,
    /// The row before (update, delete).
    pub before: Option<RowImage>,
    /// The row after (insert, update).
    pub after: Option<RowImage>,
}

/// A table's schema as a statement left it: created, or a column added.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct SchemaChange {
    /// The table.
    pub table: String,
    /// The new schema version (1 when created, +1 per change).
    pub schema_version: u32,
    /// The columns, key first.
    pub columns: Vec<String>,
}
