//! Column values of the reference store.

use crate::codec::{put_i64, put_str, put_u8, BodyError, Reader};
use std::fmt;

/// A column value: the store is untyped, like SQLite without affinity.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum Value {
    /// The absence of a value.
    Null,
    /// A signed 64-bit integer.
    Int(i64),
    /// A UTF-8 string.
    Text(String),
}

impl Value {
    /// Appends the value's binary form: a tag (0 null, 1 int, 2 text) and its payload.
    pub fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Value::Null => put_u8(out, 0),
            Value::Int(v) => {
                put_u8(out, 1);
                put_i64(out, *v);
            }
            Value::Text(s) => {
                put_u8(out, 2);
                put_str(out, s);
            }
        }
    }

    /// Reads a value written by [`Value::encode`].
    pub fn decode(r: &mut Reader<'_>) -> Result<Value, BodyError> {
        match r.u8("value tag")? {
            0 => Ok(Value::Null),
            1 => Ok(Value::Int(r.i64("integer value")?)),
            2 => Ok(Value::Text(r.string("text value")?)),
            tag => Err(BodyError::InvalidTag {
                what: "value",
                tag,
                expected: "0 (null), 1 (int) or 2 (text)",
            }),
        }
    }

    /// The value as a JSON value, for change-data-capture exports.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Null => serde_json::Value::Null,
            Value::Int(v) => serde_json::Value::from(*v),
            Value::Text(s) => serde_json::Value::from(s.as_str()),
        }
    }
}

/// Formats the value as a literal of the statement language:
/// `NULL`, `42`, `-7`, `'it''s'`.
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("NULL"),
            Value::Int(v) => write!(f, "{v}"),
            Value::Text(s) => write!(f, "'{}'", s.replace('\'', "''")),
        }
    }
}
