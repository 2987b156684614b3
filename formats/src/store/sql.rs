//! The statement language of the reference store: its syntax tree and the
//! canonical text each tree prints as.
//!
//! ```text
//! statement := CREATE TABLE name '(' column (',' column)* ')'      -- first column is the key
//!            | ALTER TABLE name ADD COLUMN column
//!            | INSERT INTO name '(' column (',' column)* ')' VALUES '(' expr (',' expr)* ')'
//!            | UPDATE name SET column '=' expr (',' column '=' expr)* WHERE column '=' expr
//!            | DELETE FROM name WHERE column '=' expr
//! expr      := term (('+' | '-') term)*
//! term      := '-'* atom
//! atom      := integer | 'text' | NULL | column | now() | rand() | next_id()
//! ```
//!
//! Keywords are case-insensitive; names are case-sensitive and may not be
//! keywords. An omitted key column in `INSERT` takes `next_id()`. Column
//! references are only meaningful on the right of `SET`, where they read
//! the row being updated.

use super::value::Value;
use std::fmt;

/// One statement of the store's language.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum Statement {
    /// Creates a table; the first column is its integer primary key.
    CreateTable {
        /// Table name.
        table: String,
        /// Column names, key first.
        columns: Vec<String>,
    },
    /// Adds a nullable column at the end of a table's schema.
    AddColumn {
        /// Table name.
        table: String,
        /// The new column.
        column: String,
    },
    /// Inserts one row.
    Insert {
        /// Table name.
        table: String,
        /// The columns given values, in the order of `values`.
        columns: Vec<String>,
        /// One expression per column.
        values: Vec<Expr>,
    },
    /// Updates the row with the given primary key, if there is one.
    Update {
        /// Table name.
        table: String,
        /// `column = expr` pairs, evaluated left to right against the old row.
        assignments: Vec<(String, Expr)>,
        /// The column named in `WHERE` (must be the key column).
        key_column: String,
        /// The key value.
        key: Expr,
    },
    /// Deletes the row with the given primary key, if there is one.
    Delete {
        /// Table name.
        table: String,
        /// The column named in `WHERE` (must be the key column).
        key_column: String,
        /// The key value.
        key: Expr,
    },
}

impl Statement {
    /// The table the statement acts on.
    pub fn table(&self) -> &str {
        match self {
            Statement::CreateTable { table, .. }
            | Statement::AddColumn { table, .. }
            | Statement::Insert { table, .. }
            | Statement::Update { table, .. }
            | Statement::Delete { table, .. } => table,
        }
    }
}

/// A sum of terms, kept flat so that evaluating or dropping a long
/// expression never recurses.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Expr {
    /// The first term.
    pub first: Term,
    /// Further terms with the operator before each.
    pub rest: Vec<(ArithOp, Term)>,
}

impl Expr {
    /// An expression of a single atom.
    pub fn atom(atom: Atom) -> Expr {
        Expr {
            first: Term {
                negated: false,
                atom,
            },
            rest: Vec::new(),
        }
    }

    /// An expression of a single literal.
    pub fn literal(value: Value) -> Expr {
        Expr::atom(Atom::Literal(value))
    }
}

/// `+` or `-` between terms.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum ArithOp {
    /// Wrapping integer addition.
    Add,
    /// Wrapping integer subtraction.
    Sub,
}

/// An atom, possibly negated.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Term {
    /// Whether the atom's value is negated (wrapping).
    pub negated: bool,
    /// The atom.
    pub atom: Atom,
}

/// The smallest parts of an expression.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum Atom {
    /// A constant.
    Literal(Value),
    /// The value of a column of the row being updated.
    Column(String),
    /// `now()`: the statement's timestamp in milliseconds.
    Now,
    /// `rand()`: the next number of the statement's seeded random sequence.
    Rand,
    /// `next_id()`: the table's next auto-increment id.
    NextId,
}

fn comma_separated<T>(
    f: &mut fmt::Formatter<'_>,
    items: &[T],
    mut each: impl FnMut(&mut fmt::Formatter<'_>, &T) -> fmt::Result,
) -> fmt::Result {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        each(f, item)?;
    }
    Ok(())
}

impl fmt::Display for Statement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Statement::CreateTable { table, columns } => {
                write!(f, "CREATE TABLE {table} (")?;
                comma_separated(f, columns, |f, c| f.write_str(c))?;
                f.write_str(")")
            }
            Statement::AddColumn { table, column } => {
                write!(f, "ALTER TABLE {table} ADD COLUMN {column}")
            }
            Statement::Insert {
                table,
                columns,
                values,
            } => {
                write!(f, "INSERT INTO {table} (")?;
                comma_separated(f, columns, |f, c| f.write_str(c))?;
                f.write_str(") VALUES (")?;
                comma_separated(f, values, |f, v| write!(f, "{v}"))?;
                f.write_str(")")
            }
            Statement::Update {
                table,
                assignments,
                key_column,
                key,
            } => {
                write!(f, "UPDATE {table} SET ")?;
                comma_separated(f, assignments, |f, (c, e)| write!(f, "{c} = {e}"))?;
                write!(f, " WHERE {key_column} = {key}")
            }
            Statement::Delete {
                table,
                key_column,
                key,
            } => write!(f, "DELETE FROM {table} WHERE {key_column} = {key}"),
        }
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.first)?;
        for (op, term) in &self.rest {
            let op = match op {
                ArithOp::Add => '+',
                ArithOp::Sub => '-',
            };
            write!(f, " {op} {term}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Term {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.negated {
            f.write_str("-")?;
        }
        match &self.atom {
            Atom::Literal(v) => write!(f, "{v}"),
            Atom::Column(c) => f.write_str(c),
            Atom::Now => f.write_str("now()"),
            Atom::Rand => f.write_str("rand()"),
            Atom::NextId => f.write_str("next_id()"),
        }
    }
}
