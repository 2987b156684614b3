//! The store's bytes: the whole store serialised deterministically and cut
//! into fixed-size pages. Physical replication ships these pages.
//!
//! Image layout (storage format version 1), before cutting into pages:
//! `u32 image length | u32 storage format version | u64 lsn | u32 table count |`
//! per table `name | u32 schema version | i64 last id | columns | rows`,
//! each row its values in column order. The last page is zero-padded.
//!
//! A change rewrites only the pages whose bytes differ, but because rows
//! are laid out back to back, an insert near the front shifts and dirties
//! every later page. That is fine for a reference store and keeps page
//! images a pure function of the logical state.

use super::table::Table;
use super::value::Value;
use crate::codec::{put_count, put_str, put_u32, put_u64, BodyError, Reader};
use std::collections::BTreeMap;
use steadfast::types::Lsn;

/// Bytes per page.
pub const PAGE_SIZE: usize = 256;

/// The page layout this build writes and reads.
pub const STORAGE_FORMAT_VERSION: u32 = 1;

/// The logical state a page image holds.
pub(crate) struct Image {
    pub(crate) storage_format_version: u32,
    pub(crate) lsn: Lsn,
    pub(crate) tables: BTreeMap<String, Table>,
}

/// Serialises the state and cuts it into pages.
pub(crate) fn to_pages(version: u32, lsn: Lsn, tables: &BTreeMap<String, Table>) -> Vec<Vec<u8>> {
    let mut body = Vec::new();
    put_u32(&mut body, version);
    put_u64(&mut body, lsn.0);
    put_count(&mut body, tables.len());
    for (name, table) in tables {
        put_str(&mut body, name);
        put_u32(&mut body, table.schema_version);
        put_u64(&mut body, u64::from_le_bytes(table.last_id.to_le_bytes()));
        put_count(&mut body, table.columns.len());
        for column in &table.columns {
            put_str(&mut body, column);
        }
        put_count(&mut body, table.rows.len());
        for values in table.rows.values() {
            for value in values {
                value.encode(&mut body);
            }
        }
    }
    let mut image = Vec::with_capacity(body.len() + 4);
    put_count(&mut image, body.len());
    image.extend_from_slice(&body);
    image
        .chunks(PAGE_SIZE)
        .map(|chunk| {
            let mut page = chunk.to_vec();
            page.resize(PAGE_SIZE, 0);
            page
        })
        .collect()
}

/// Reads the state back from pages. Total: corrupt pages are an error.
pub(crate) fn from_pages(pages: &[Vec<u8>]) -> Result<Image, BodyError> {
    if pages.iter().any(|p| p.len() != PAGE_SIZE) {
        return Err(BodyError::Invalid {
            what: "page",
            reason: "every page must be exactly PAGE_SIZE bytes",
        });
    }
    let bytes = pages.concat();
    let mut outer = Reader::new(&bytes);
    let body = outer.bytes("store image")?;
    if outer.remaining() >= PAGE_SIZE {
        return Err(BodyError::Invalid {
            what: "page count",
            reason: "pages continue past the end of the store image",
        });
    }
    let mut r = Reader::new(body);
    let storage_format_version = r.u32("storage format version")?;
    let lsn = Lsn(r.u64("lsn")?);
    let table_count = r.count("tables", 25)?;
    let mut tables = BTreeMap::new();
    for _ in 0..table_count {
        let name = r.string("table name")?;
        let schema_version = r.u32("schema version")?;
        let last_id = i64::from_le_bytes(r.u64("last id")?.to_le_bytes());
        let column_count = r.count("columns", 4)?;
        let mut columns = Vec::new();
        for _ in 0..column_count {
            columns.push(r.string("column name")?);
        }
        if columns.is_empty() {
            return Err(BodyError::Invalid {
                what: "table",
                reason: "a table needs at least its key column",
            });
        }
        let row_count = r.count("rows", columns.len())?;
        let mut rows = BTreeMap::new();
        for _ in 0..row_count {
            let mut values = Vec::new();
            for _ in 0..columns.len() {
                values.push(Value::decode(&mut r)?);
            }
            let Some(Value::Int(key)) = values.first() else {
                return Err(BodyError::Invalid {
                    what: "row",
                    reason: "the key column must hold an integer",
                });
            };
            let key = *key;
            if rows.insert(key, values).is_some() {
                return Err(BodyError::Invalid {
                    what: "row",
                    reason: "two rows share a primary key",
                });
            }
        }
        let table = Table {
            columns,
            schema_version,
            last_id,
            rows,
        };
        if tables.insert(name, table).is_some() {
            return Err(BodyError::Invalid {
                what: "table",
                reason: "two tables share a name",
            });
        }
    }
    r.finish()?;
    Ok(Image {
        storage_format_version,
        lsn,
        tables,
    })
}
