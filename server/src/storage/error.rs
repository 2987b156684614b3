//! What can go wrong with the data directory.

use std::path::PathBuf;
use steadfast::{Lsn, Position};

/// A storage operation failed, or the data directory cannot be trusted.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The operating system refused an operation.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done ("open", "sync", …).
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// Another process holds the data directory.
    #[error("data directory {0} is in use by another process (its LOCK file is locked)")]
    Locked(PathBuf),
    /// A record that is not at the end of the log failed its checksum, or
    /// a file's header is not ours: the directory was damaged, and
    /// guessing would lose or invent data.
    #[error("corrupt {path} at byte {offset}: {what}")]
    Corrupt {
        /// The damaged file.
        path: PathBuf,
        /// Where the damage starts.
        offset: u64,
        /// What was found.
        what: String,
    },
    /// The log's records do not follow one another.
    #[error("log gap in {path}: lsn {found} follows lsn {previous} (expected {expected})")]
    Gap {
        /// The segment holding the out-of-place record.
        path: PathBuf,
        /// The lsn before it.
        previous: Lsn,
        /// The lsn found.
        found: Lsn,
        /// The lsn that should have followed.
        expected: Lsn,
    },
    /// An append did not continue the log.
    #[error("append of lsn {found} after lsn {last}: appends must continue the log")]
    NotConsecutive {
        /// The log's last lsn.
        last: Lsn,
        /// The first lsn appended.
        found: Lsn,
    },
    /// A value could not be encoded (never expected for the core's types).
    #[error("cannot encode {what}: {reason}")]
    Encode {
        /// What was being encoded.
        what: &'static str,
        /// The encoder's message.
        reason: String,
    },
    /// A snapshot operation named a snapshot the directory does not hold.
    #[error("no snapshot at {0} in the data directory")]
    NoSnapshot(Position),
    /// Staged snapshot bytes do not match the snapshot's description.
    #[error("staged snapshot at {position}: {what}")]
    BadStagedSnapshot {
        /// The snapshot being installed.
        position: Position,
        /// What did not match.
        what: String,
    },
}

impl StorageError {
    /// An [`StorageError::Io`] for `action` on `path`.
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(std::io::Error) -> StorageError {
        let path = path.into();
        move |source| StorageError::Io {
            action,
            path,
            source,
        }
    }
}
