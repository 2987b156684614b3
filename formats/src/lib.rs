//! The four replication-log formats, their shared framing, and the
//! reference store that produces and applies them.
//!
//! - [`frame`]: the envelope every record travels in (magic, version, kind,
//!   length, CRC32C) and streaming decoding of a log segment.
//! - [`codec`]: bounds-checked helpers the record bodies are built from.
//! - [`store`]: the reference table store the logs are produced from and
//!   applied to.
//! - [`statement`]: statement-based replication with fixed nondeterminism.
//! - [`physical`]: WAL shipping of page bytes, tied to the storage format.
//! - [`logical`]: row-based change events (CDC), with a JSON lines export.
//! - [`trigger`]: change-table rows written by user-defined triggers.
//!
//! Every format offers `encode(&record) -> Vec<u8>` (a framed record) and a
//! total `decode(&[u8]) -> Result<record, DecodeError>`.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod codec;
mod error;
pub mod frame;
pub mod logical;
pub mod physical;
pub mod statement;
pub mod store;
pub mod trigger;

pub use codec::BodyError;
pub use error::DecodeError;
pub use frame::{Frame, FrameError, RecordKind};

#[cfg(test)]
mod testing;

#[cfg(test)]
mod statement_tests;

#[cfg(test)]
mod physical_tests;

#[cfg(test)]
mod totality_tests;
