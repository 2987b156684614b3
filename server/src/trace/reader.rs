//! Reading a trace file back: its header, its events, and how it ended.
//!
//! A process killed with `kill -9` leaves a file cut anywhere: the reader
//! stops at a torn last record and says so ([`TraceEnd::Torn`]); damage
//! with intact records after it is refused ([`TraceReadError::Corrupt`]),
//! with the same rules as the write-ahead log.

use super::error::TraceReadError;
use super::format::{Header, InputRecord, Polled, Record, FORMAT_VERSION};
use crate::storage::record::{scan, Scanned};
use std::fmt;
use std::path::{Path, PathBuf};

/// One recorded call after the header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// An input call.
    Input(InputRecord),
    /// Outputs pulled.
    Polled(Polled),
}

/// How a trace file ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TraceEnd {
    /// With the end record: the node stopped cleanly, nothing is missing.
    Clean {
        /// When it stopped (nanoseconds since the Unix epoch).
        at_ns: u64,
    },
    /// At a record boundary without the end record: the process stopped
    /// without shutting down (killed after a flush); calls made after the
    /// last flush are missing.
    Cut,
    /// Inside a record: a write the process did not finish. The bytes from
    /// `offset` on are ignored; calls from there on are missing.
    Torn {
        /// Where the torn record starts.
        offset: u64,
        /// How many bytes were ignored.
        bytes: u64,
    },
}

impl TraceEnd {
    /// True unless the node stopped cleanly.
    pub fn is_unclean(&self) -> bool {
        !matches!(self, TraceEnd::Clean { .. })
    }
}

impl fmt::Display for TraceEnd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TraceEnd::Clean { .. } => write!(f, "clean end"),
            TraceEnd::Cut => write!(
                f,
                "no end record (the process stopped without shutting down)"
            ),
            TraceEnd::Torn { offset, bytes } => {
                write!(
                    f,
                    "torn last record at byte {offset} ({bytes} bytes ignored)"
                )
            }
        }
    }
}

/// A whole trace file, read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trace {
    /// Where it was read from.
    pub path: PathBuf,
    /// How the replica was built.
    pub header: Header,
    /// Every call after that, in order.
    pub events: Vec<Event>,
    /// How the file ends.
    pub end: TraceEnd,
}

/// Read the trace file at `path` (whole, into memory).
pub fn read_trace(path: &Path) -> Result<Trace, TraceReadError> {
    let bytes = std::fs::read(path).map_err(|source| TraceReadError::Io {
        path: path.to_owned(),
        source,
    })?;
    parse_trace(path, &bytes)
}

/// Parse the bytes of a trace file (`path` names it in errors).
pub fn parse_trace(path: &Path, bytes: &[u8]) -> Result<Trace, TraceReadError> {
    let mut at = 0;
    let mut header = None;
    let mut events = Vec::new();
    let mut clean = None;
    let end = loop {
        let offset = at as u64;
        let body = match scan(bytes, at) {
            Scanned::Record { body, next } => {
                at = next;
                body
            }
            Scanned::End => match clean {
                Some(at_ns) => break TraceEnd::Clean { at_ns },
                None => break TraceEnd::Cut,
            },
            Scanned::Torn => {
                break TraceEnd::Torn {
                    offset,
                    bytes: (bytes.len() as u64).saturating_sub(offset),
                }
            }
            Scanned::Corrupt(what) => {
                return Err(TraceReadError::Corrupt {
                    path: path.to_owned(),
                    offset,
                    what,
                })
            }
        };
        let unexpected = |what| TraceReadError::Unexpected {
            path: path.to_owned(),
            offset,
            what,
        };
        if clean.is_some() {
            return Err(unexpected("record after the end record"));
        }
        let record: Record = match postcard::from_bytes(body) {
            Ok(record) => record,
            // A header of another format version may not decode as ours:
            // say which version it is when that much can be read.
            Err(e) if header.is_none() => {
                return Err(version_of(body).map_or_else(
                    || TraceReadError::Decode {
                        path: path.to_owned(),
                        offset,
                        what: e.to_string(),
                    },
                    |found| TraceReadError::Version {
                        path: path.to_owned(),
                        found,
                        expected: FORMAT_VERSION,
                    },
                ))
            }
            Err(e) => {
                return Err(TraceReadError::Decode {
                    path: path.to_owned(),
                    offset,
                    what: e.to_string(),
                })
            }
        };
        match (record, header.is_some()) {
            (Record::Header(h), false) => {
                if h.format != FORMAT_VERSION {
                    return Err(TraceReadError::Version {
                        path: path.to_owned(),
                        found: h.format,
                        expected: FORMAT_VERSION,
                    });
                }
                header = Some(*h);
            }
            (_, false) => {
                return Err(TraceReadError::NotAHeader {
                    path: path.to_owned(),
                })
            }
            (Record::Header(_), true) => return Err(unexpected("second header")),
            (Record::Input(input), true) => events.push(Event::Input(input)),
            (Record::Polled(polled), true) => events.push(Event::Polled(polled)),
            (Record::End { at_ns }, true) => clean = Some(at_ns),
        }
    };
    let header = header.ok_or_else(|| TraceReadError::NoHeader {
        path: path.to_owned(),
    })?;
    Ok(Trace {
        path: path.to_owned(),
        header,
        events,
        end,
    })
}

/// The format version a header body starts with (postcard: the enum's
/// variant index, then the `format` field, both varints), if it is a
/// header.
fn version_of(body: &[u8]) -> Option<u32> {
    let (variant, rest) = postcard::take_from_bytes::<u32>(body).ok()?;
    if variant != 0 {
        return None;
    }
    postcard::take_from_bytes::<u32>(rest)
        .ok()
        .map(|(format, _)| format)
}

/// The trace files (`*.trace`) directly in `dir`, sorted by name (a node's
/// incarnations in the order they started).
pub fn trace_files(dir: &Path) -> Result<Vec<PathBuf>, TraceReadError> {
    let io = |source| TraceReadError::Io {
        path: dir.to_owned(),
        source,
    };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        if path.extension().and_then(|e| e.to_str()) == Some(super::format::EXTENSION) {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}
