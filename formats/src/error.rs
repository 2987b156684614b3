//! The decoding error every format's `decode` returns.

use super::codec::BodyError;
use super::frame::{self, Frame, FrameError, RecordKind};
use thiserror::Error;

/// Why bytes are not a record of the expected format.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum DecodeError {
    /// The envelope is damaged (magic, version, length, checksum, truncation).
    #[error("bad record envelope: {0}")]
    Frame(#[from] FrameError),
    /// A valid record of another log format.
    #[error("record is a {found:?} record, expected a {expected:?} record")]
    WrongKind {
        /// The kind the caller decodes.
        expected: RecordKind,
        /// The kind the envelope says.
        found: RecordKind,
    },
    /// The envelope is sound but the body is not a valid record.
    #[error("bad {kind:?} record body: {error}")]
    Body {
        /// The record's kind.
        kind: RecordKind,
        /// What was wrong.
        error: BodyError,
    },
}

/// Decodes exactly one framed record of `kind`, returning the frame.
pub(crate) fn open(bytes: &[u8], kind: RecordKind) -> Result<Frame, DecodeError> {
    let frame = frame::decode(bytes)?;
    if frame.kind != kind {
        return Err(DecodeError::WrongKind {
            expected: kind,
            found: frame.kind,
        });
    }
    Ok(frame)
}

/// Wraps a body error with the record kind.
pub(crate) fn body(kind: RecordKind) -> impl Fn(BodyError) -> DecodeError {
    move |error| DecodeError::Body { kind, error }
}
