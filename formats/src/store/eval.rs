//! Evaluating expressions against the nondeterministic sources and, in
//! `SET`, the row being updated.

use super::nondeterminism::Sources;
use super::sql::{ArithOp, Atom, Expr, Term};
use super::table::Table;
use super::value::Value;
use super::StoreError;

/// What an expression may read besides its sources.
pub(crate) struct Scope<'a> {
    /// The table's name (for `next_id()`).
    pub(crate) table_name: &'a str,
    /// The old row, inside `SET`; `None` elsewhere.
    pub(crate) row: Option<&'a [Value]>,
}

fn term(
    t: &Term,
    scope: &Scope<'_>,
    table: &mut Table,
    sources: &mut Sources<'_>,
) -> Result<Value, StoreError> {
    let value = match &t.atom {
        Atom::Literal(v) => v.clone(),
        Atom::Now => Value::Int(sources.now()),
        Atom::Rand => Value::Int(sources.rand()?),
        Atom::NextId => {
            let id = sources.next_id(scope.table_name, table.last_id)?;
            table.last_id = table.last_id.max(id);
            Value::Int(id)
        }
        Atom::Column(column) => {
            let Some(row) = scope.row else {
                return Err(StoreError::ColumnOutsideSet {
                    column: column.clone(),
                });
            };
            table
                .column_index(column)
                .and_then(|i| row.get(i))
                .cloned()
                .ok_or_else(|| StoreError::UnknownColumn {
                    table: scope.table_name.to_owned(),
                    column: column.clone(),
                })?
        }
    };
    if !t.negated {
        return Ok(value);
    }
    match value {
        Value::Int(v) => Ok(Value::Int(v.wrapping_neg())),
        Value::Null => Ok(Value::Null),
        Value::Text(_) => Err(StoreError::NotANumber { operation: "-" }),
    }
}

/// Evaluates `expr` left to right. Integer arithmetic wraps; NULL absorbs.
pub(crate) fn eval(
    expr: &Expr,
    scope: &Scope<'_>,
    table: &mut Table,
    sources: &mut Sources<'_>,
) -> Result<Value, StoreError> {
    let mut acc = term(&expr.first, scope, table, sources)?;
    for (op, t) in &expr.rest {
        let rhs = term(t, scope, table, sources)?;
        let operation = match op {
            ArithOp::Add => "+",
            ArithOp::Sub => "-",
        };
        acc = match (acc, rhs) {
            (Value::Int(a), Value::Int(b)) => Value::Int(match op {
                ArithOp::Add => a.wrapping_add(b),
                ArithOp::Sub => a.wrapping_sub(b),
            }),
            (Value::Text(_), _) | (_, Value::Text(_)) => {
                return Err(StoreError::NotANumber { operation })
            }
            _ => Value::Null,
        };
    }
    Ok(acc)
}
