//! Executing one statement as one transaction: evaluate against a working
//! copy of the table, then commit it, or change nothing.

use super::eval::{eval, Scope};
use super::nondeterminism::{Source, Sources};
use super::row::{ChangeOp, RowChange, SchemaChange};
use super::sql::{Expr, Statement};
use super::table::Table;
use super::value::Value;
use super::{Execution, Store, StoreError};

/// Checks a column list: non-empty, no repeats.
pub(crate) fn check_columns(table: &str, columns: &[String]) -> Result<(), StoreError> {
    if columns.is_empty() {
        return Err(StoreError::EmptySchema {
            table: table.to_owned(),
        });
    }
    for (i, column) in columns.iter().enumerate() {
        if columns.iter().skip(i + 1).any(|c| c == column) {
            return Err(StoreError::DuplicateColumn {
                table: table.to_owned(),
                column: column.clone(),
            });
        }
    }
    Ok(())
}

fn int_key(table: &str, value: Value) -> Result<i64, StoreError> {
    match value {
        Value::Int(key) => Ok(key),
        found => Err(StoreError::KeyNotInteger {
            table: table.to_owned(),
            found,
        }),
    }
}

fn key_of(
    table_name: &str,
    table: &mut Table,
    key_column: &str,
    key: &Expr,
    sources: &mut Sources<'_>,
) -> Result<i64, StoreError> {
    if key_column != table.key_column() {
        return Err(StoreError::NotKeyColumn {
            table: table_name.to_owned(),
            column: key_column.to_owned(),
            key_column: table.key_column().to_owned(),
        });
    }
    let scope = Scope {
        table_name,
        row: None,
    };
    let value = eval(key, &scope, table, sources)?;
    int_key(table_name, value)
}

impl Store {
    /// Executes `statement` as one transaction.
    pub(crate) fn run(
        &mut self,
        statement: &Statement,
        source: Source<'_>,
    ) -> Result<Execution, StoreError> {
        let mut sources = Sources::new(source);
        let name = statement.table();
        let mut table = match statement {
            Statement::CreateTable { table, columns } => {
                if self.tables.contains_key(table) {
                    return Err(StoreError::TableExists {
                        table: table.clone(),
                    });
                }
                check_columns(table, columns)?;
                Table::new(columns.clone(), 1)
            }
            _ => self
                .tables
                .get(name)
                .cloned()
                .ok_or_else(|| StoreError::UnknownTable {
                    table: name.to_owned(),
                })?,
        };
        let mut changes = Vec::new();
        let mut schema_change = None;
        match statement {
            Statement::CreateTable { .. } => {
                schema_change = Some(SchemaChange {
                    table: name.to_owned(),
                    schema_version: table.schema_version,
                    columns: table.columns.clone(),
                });
            }
            Statement::AddColumn { column, .. } => {
                let mut columns = table.columns.clone();
                columns.push(column.clone());
                check_columns(name, &columns)?;
                table.columns = columns;
                for values in table.rows.values_mut() {
                    values.push(Value::Null);
                }
                table.schema_version = table.schema_version.wrapping_add(1);
                schema_change = Some(SchemaChange {
                    table: name.to_owned(),
                    schema_version: table.schema_version,
                    columns: table.columns.clone(),
                });
            }
            Statement::Insert {
                columns, values, ..
            } => {
                if columns.len() != values.len() {
                    return Err(StoreError::ColumnCountMismatch {
                        columns: columns.len(),
                        values: values.len(),
                    });
                }
                let mut row = vec![Value::Null; table.columns.len()];
                let mut key = None;
                for (i, (column, expr)) in columns.iter().zip(values).enumerate() {
                    if columns.iter().take(i).any(|c| c == column) {
                        return Err(StoreError::DuplicateColumn {
                            table: name.to_owned(),
                            column: column.clone(),
                        });
                    }
                    let index =
                        table
                            .column_index(column)
                            .ok_or_else(|| StoreError::UnknownColumn {
                                table: name.to_owned(),
                                column: column.clone(),
                            })?;
                    let scope = Scope {
                        table_name: name,
                        row: None,
                    };
                    let value = eval(expr, &scope, &mut table, &mut sources)?;
                    if index == 0 {
                        key = Some(int_key(name, value.clone())?);
                    }
                    if let Some(slot) = row.get_mut(index) {
                        *slot = value;
                    }
                }
                let key = match key {
                    Some(key) => key,
                    None => {
                        let id = sources.next_id(name, table.last_id)?;
                        if let Some(slot) = row.first_mut() {
                            *slot = Value::Int(id);
                        }
                        id
                    }
                };
                if table.rows.contains_key(&key) {
                    return Err(StoreError::DuplicateKey {
                        table: name.to_owned(),
                        key,
                    });
                }
                table.last_id = table.last_id.max(key);
                let after = table.image_of(&row);
                table.rows.insert(key, row);
                changes.push(RowChange {
                    table: name.to_owned(),
                    schema_version: table.schema_version,
                    key,
                    op: ChangeOp::Insert,
                    before: None,
                    after: Some(after),
                });
            }
            Statement::Update {
                assignments,
                key_column,
                key,
                ..
            } => {
                let key = key_of(name, &mut table, key_column, key, &mut sources)?;
                let mut targets = Vec::new();
                for (column, _) in assignments {
                    let index =
                        table
                            .column_index(column)
                            .ok_or_else(|| StoreError::UnknownColumn {
                                table: name.to_owned(),
                                column: column.clone(),
                            })?;
                    if index == 0 {
                        return Err(StoreError::KeyUpdate {
                            table: name.to_owned(),
                            column: column.clone(),
                        });
                    }
                    targets.push(index);
                }
                if let Some(old) = table.rows.get(&key).cloned() {
                    let mut new = old.clone();
                    for (index, (_, expr)) in targets.into_iter().zip(assignments) {
                        let scope = Scope {
                            table_name: name,
                            row: Some(&old),
                        };
                        let value = eval(expr, &scope, &mut table, &mut sources)?;
                        if let Some(slot) = new.get_mut(index) {
                            *slot = value;
                        }
                    }
                    let before = table.image_of(&old);
                    let after = table.image_of(&new);
                    table.rows.insert(key, new);
                    changes.push(RowChange {
                        table: name.to_owned(),
                        schema_version: table.schema_version,
                        key,
                        op: ChangeOp::Update,
                        before: Some(before),
                        after: Some(after),
                    });
                }
            }
            Statement::Delete {
                key_column, key, ..
            } => {
                let key = key_of(name, &mut table, key_column, key, &mut sources)?;
                if let Some(old) = table.rows.remove(&key) {
                    changes.push(RowChange {
                        table: name.to_owned(),
                        schema_version: table.schema_version,
                        key,
                        op: ChangeOp::Delete,
                        before: Some(table.image_of(&old)),
                        after: None,
                    });
                }
            }
        }
        self.tables.insert(name.to_owned(), table);
        self.lsn = self.lsn.next();
        let dirty_pages = self.refresh_pages();
        Ok(Execution {
            statement: statement.clone(),
            lsn: self.lsn,
            fixed: sources.recorded,
            changes,
            schema_change,
            dirty_pages,
        })
    }
}
