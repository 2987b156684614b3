//! Statement-based replication: the statement text plus every
//! nondeterministic value the leader fixed while executing it (its
//! timestamp, `rand()` seed and generated ids), like MySQL's binlog
//! `Query` event with its `TIMESTAMP`, `RAND` and `INTVAR` companions.
//!
//! [`apply`] replays with the fixed values and reaches the leader's state;
//! [`apply_naive`] re-evaluates `now()`, `rand()` and `next_id()` on the
//! follower, which is what statement replication without those values does,
//! and diverges.
//!
//! Body (format version 1): `u64 lsn | text | fixed values`.

use crate::codec::{put_str, put_u64, Reader};
use crate::error::{body, open, DecodeError};
use crate::frame::{Frame, RecordKind};
use crate::store::{parse, Execution, FixedValues, Nondeterminism, Statement, Store, StoreError};
use steadfast::types::Lsn;
use thiserror::Error;

/// The format version written.
pub const VERSION: u8 = 1;

/// One statement as the leader executed it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct StatementRecord {
    /// The leader's commit position for the statement.
    pub lsn: Lsn,
    /// The statement's text.
    pub text: String,
    /// The values the leader fixed.
    pub fixed: FixedValues,
}

impl StatementRecord {
    /// The record for a statement the leader just executed.
    pub fn from_execution(execution: &Execution) -> StatementRecord {
        StatementRecord {
            lsn: execution.lsn,
            text: execution.statement.to_string(),
            fixed: execution.fixed.clone(),
        }
    }
}

/// The framed bytes of `record`.
pub fn encode(record: &StatementRecord) -> Vec<u8> {
    let mut out = Vec::new();
    put_u64(&mut out, record.lsn.0);
    put_str(&mut out, &record.text);
    record.fixed.encode(&mut out);
    Frame::new(RecordKind::Statement, VERSION, out).encode()
}

/// Decodes one framed statement record. Total.
pub fn decode(bytes: &[u8]) -> Result<StatementRecord, DecodeError> {
    let frame = open(bytes, RecordKind::Statement)?;
    let mut r = Reader::new(&frame.body);
    let decoded = (|| {
        let lsn = Lsn(r.u64("lsn")?);
        let text = r.string("statement text")?;
        let fixed = FixedValues::decode(&mut r)?;
        r.finish()?;
        Ok(StatementRecord { lsn, text, fixed })
    })();
    decoded.map_err(body(RecordKind::Statement))
}

/// Why a follower could not apply a statement record.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum StatementApplyError {
    /// The record is not the next one in the log.
    #[error("statement record at lsn {found} is out of order: expected lsn {expected}")]
    OutOfOrder {
        /// The lsn the follower needs next.
        expected: Lsn,
        /// The lsn of the record.
        found: Lsn,
    },
    /// The statement failed on the follower.
    #[error("statement {text:?} failed on the follower: {error}")]
    Store {
        /// The statement.
        text: String,
        /// Why it failed.
        error: StoreError,
    },
}

fn prepare(store: &Store, record: &StatementRecord) -> Result<Statement, StatementApplyError> {
    let expected = store.lsn().next();
    if record.lsn != expected {
        return Err(StatementApplyError::OutOfOrder {
            expected,
            found: record.lsn,
        });
    }
    parse(&record.text).map_err(|e| StatementApplyError::Store {
        text: record.text.clone(),
        error: e.into(),
    })
}

/// Replays `record` with the leader's fixed values.
pub fn apply(
    store: &mut Store,
    record: &StatementRecord,
) -> Result<Execution, StatementApplyError> {
    let statement = prepare(store, record)?;
    store
        .replay(&statement, &record.fixed)
        .map_err(|error| StatementApplyError::Store {
            text: record.text.clone(),
            error,
        })
}

/// Replays `record` re-evaluating `now()`, `rand()` and `next_id()` with the
/// follower's own `provider`, ignoring the fixed values: the broken
/// statement replication this format exists to avoid. For demonstration
/// and tests.
pub fn apply_naive(
    store: &mut Store,
    record: &StatementRecord,
    provider: &mut dyn Nondeterminism,
) -> Result<Execution, StatementApplyError> {
    let statement = prepare(store, record)?;
    store
        .execute_statement(&statement, provider)
        .map_err(|error| StatementApplyError::Store {
            text: record.text.clone(),
            error,
        })
}
