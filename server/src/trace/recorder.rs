//! Writing a trace: one file per replica incarnation, records appended
//! through a buffer and flushed by the host once per batch of work.

use super::error::TraceWriteError;
use super::format::{wall_clock_ns, Header, InputRecord, Polled, Record, EXTENSION};
use crate::storage::record::{encode_record, MAX_RECORD_BODY};
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use steadfast::{Instant, NodeId, Output};

/// Outputs buffered into one [`Polled`] record at most (a drain of more
/// is split into several records, which replays the same).
const MAX_OUTPUTS_PER_RECORD: usize = 256;

/// Appends the records of one incarnation to its trace file.
#[derive(Debug)]
pub struct Recorder {
    path: PathBuf,
    out: BufWriter<File>,
    /// Outputs polled since the last record was written.
    polled: Vec<Output>,
    polled_at: u64,
    frame: Vec<u8>,
}

impl Recorder {
    /// Create a new trace file for `node` in `dir` (created if missing)
    /// and write `header` first. The name, `node-<id>-<started_ns>.trace`,
    /// sorts a node's incarnations by start time; an existing file is never
    /// overwritten.
    pub fn create(dir: &Path, header: &Header) -> Result<Recorder, TraceWriteError> {
        let io = |path: &Path| {
            let path = path.to_owned();
            move |source| TraceWriteError::Io { path, source }
        };
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        let file = (0u32..)
            .map(|n| {
                let suffix = if n == 0 {
                    String::new()
                } else {
                    format!("-{n}")
                };
                dir.join(format!(
                    "node-{}-{:020}{suffix}.{EXTENSION}",
                    header.node.0, header.started_ns
                ))
            })
            .take(1000)
            .find_map(
                |path| match OpenOptions::new().write(true).create_new(true).open(&path) {
                    Ok(file) => Some(Ok((path, file))),
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => None,
                    Err(e) => Some(Err(TraceWriteError::Io { path, source: e })),
                },
            )
            .unwrap_or_else(|| {
                Err(TraceWriteError::Io {
                    path: dir.to_owned(),
                    source: std::io::Error::other("no free trace file name"),
                })
            })?;
        let (path, file) = file;
        let mut recorder = Recorder {
            path,
            out: BufWriter::with_capacity(64 << 10, file),
            polled: Vec::new(),
            polled_at: 0,
            frame: Vec::new(),
        };
        recorder.write(&Record::Header(Box::new(header.clone())))?;
        recorder.flush()?;
        Ok(recorder)
    }

    /// The file being written.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Record an input call (after any outputs polled before it).
    pub fn input(&mut self, input: InputRecord) -> Result<(), TraceWriteError> {
        self.write_polled(None)?;
        self.write(&Record::Input(input))
    }

    /// Record one `poll_output` that returned `output`.
    pub fn polled(&mut self, output: &Output) -> Result<(), TraceWriteError> {
        if self.polled.is_empty() {
            self.polled_at = wall_clock_ns();
        }
        self.polled.push(output.clone());
        if self.polled.len() >= MAX_OUTPUTS_PER_RECORD {
            self.write_polled(None)?;
        }
        Ok(())
    }

    /// Record a `poll_output` that returned `None`, and the `poll_timeout`
    /// the replica had then.
    pub fn drained(&mut self, timeout: Option<Instant>) -> Result<(), TraceWriteError> {
        if self.polled.is_empty() {
            self.polled_at = wall_clock_ns();
        }
        self.write_polled(Some(timeout))
    }

    /// Write the buffered records to the file (no `fsync`: a trace is a
    /// record for checking, not durable state).
    pub fn flush(&mut self) -> Result<(), TraceWriteError> {
        self.write_polled(None)?;
        self.out.flush().map_err(|source| TraceWriteError::Io {
            path: self.path.clone(),
            source,
        })
    }

    /// End the file with the clean-shutdown record and flush it.
    pub fn finish(&mut self) -> Result<(), TraceWriteError> {
        self.write_polled(None)?;
        self.write(&Record::End {
            at_ns: wall_clock_ns(),
        })?;
        self.flush()
    }

    fn write_polled(&mut self, drained: Option<Option<Instant>>) -> Result<(), TraceWriteError> {
        if self.polled.is_empty() && drained.is_none() {
            return Ok(());
        }
        let record = Record::Polled(Polled {
            at_ns: self.polled_at,
            outputs: std::mem::take(&mut self.polled),
            drained,
        });
        self.write(&record)
    }

    fn write(&mut self, record: &Record) -> Result<(), TraceWriteError> {
        let body = postcard::to_allocvec(record).map_err(|e| TraceWriteError::Encode {
            path: self.path.clone(),
            what: e.to_string(),
        })?;
        if body.len() > MAX_RECORD_BODY {
            return Err(TraceWriteError::TooLarge {
                path: self.path.clone(),
                bytes: body.len(),
                limit: MAX_RECORD_BODY,
            });
        }
        self.frame.clear();
        encode_record(&body, &mut self.frame);
        self.out
            .write_all(&self.frame)
            .map_err(|source| TraceWriteError::Io {
                path: self.path.clone(),
                source,
            })
    }
}

/// The header of a new incarnation's trace.
pub fn header(
    node: NodeId,
    cluster_id: u64,
    config: steadfast::Config,
    durable: steadfast::Durable,
    now: Instant,
) -> Header {
    Header {
        format: super::format::FORMAT_VERSION,
        node,
        cluster_id,
        pid: std::process::id(),
        started_ns: wall_clock_ns(),
        config,
        durable,
        now,
    }
}

/// Write `trace` as a file at `path` (replacing it): its header, events,
/// and the end record if it ended cleanly. For tools that rewrite or
/// repair traces, and tests that tamper with them.
pub fn write_trace(path: &Path, trace: &super::reader::Trace) -> Result<(), TraceWriteError> {
    let mut bytes = Vec::new();
    let mut push = |record: &Record| -> Result<(), TraceWriteError> {
        let body = postcard::to_allocvec(record).map_err(|e| TraceWriteError::Encode {
            path: path.to_owned(),
            what: e.to_string(),
        })?;
        encode_record(&body, &mut bytes);
        Ok(())
    };
    push(&Record::Header(Box::new(trace.header.clone())))?;
    for event in &trace.events {
        match event {
            super::reader::Event::Input(input) => push(&Record::Input(input.clone()))?,
            super::reader::Event::Polled(polled) => push(&Record::Polled(polled.clone()))?,
        }
    }
    if let super::reader::TraceEnd::Clean { at_ns } = trace.end {
        push(&Record::End { at_ns })?;
    }
    std::fs::write(path, &bytes).map_err(|source| TraceWriteError::Io {
        path: path.to_owned(),
        source,
    })
}
