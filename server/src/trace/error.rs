//! The trace module's errors: writing, reading and replaying.

use std::path::PathBuf;

/// Recording failed (the node goes on without its trace).
#[derive(Debug, thiserror::Error)]
pub enum TraceWriteError {
    /// The trace file could not be created or written.
    #[error("trace file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What failed.
        source: std::io::Error,
    },
    /// A record could not be encoded.
    #[error("trace file {path}: cannot encode a record: {what}")]
    Encode {
        /// The file.
        path: PathBuf,
        /// Why.
        what: String,
    },
    /// One record is larger than a frame may be.
    #[error("trace file {path}: a record of {bytes} bytes is over the {limit}-byte frame limit")]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// The record's size.
        bytes: usize,
        /// The largest body a frame holds.
        limit: usize,
    },
}

/// A trace file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum TraceReadError {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What failed.
        source: std::io::Error,
    },
    /// The file holds no complete record at all (a process killed before
    /// its first flush, or not a trace).
    #[error("{path}: no header record (empty, or torn before the first record)")]
    NoHeader {
        /// The file.
        path: PathBuf,
    },
    /// The first record is not a header.
    #[error("{path}: the first record is not a header")]
    NotAHeader {
        /// The file.
        path: PathBuf,
    },
    /// Written by another version of the format.
    #[error("{path}: trace format {found}, this build reads format {expected}")]
    Version {
        /// The file.
        path: PathBuf,
        /// The file's version.
        found: u32,
        /// The version read here.
        expected: u32,
    },
    /// Damage with intact data after it (not a torn tail).
    #[error("{path}: corrupt record at byte {offset}: {what}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// Where the damaged record starts.
        offset: u64,
        /// What was wrong.
        what: String,
    },
    /// A record whose checksum holds but whose body does not decode.
    #[error("{path}: record at byte {offset} does not decode: {what}")]
    Decode {
        /// The file.
        path: PathBuf,
        /// Where the record starts.
        offset: u64,
        /// The decoder's complaint.
        what: String,
    },
    /// A record where none may be (a second header, anything after the
    /// end record).
    #[error("{path}: unexpected {what} at byte {offset}")]
    Unexpected {
        /// The file.
        path: PathBuf,
        /// Where the record starts.
        offset: u64,
        /// Which record.
        what: &'static str,
    },
}
