//! `steadfast-server`: the reference replicated key-value server that
//! embeds the [`steadfast`] core.
//!
//! It shows what a host must do around the sans-io core, on a real disk:
//!
//! - [`storage`]: the durable state the core is restarted from. The log
//!   lives in segment files of CRC32C-framed records, made durable with
//!   `fdatasync` and reported to the core only after that (one sync for
//!   everything appended since the last: group commit); the hard state is
//!   replaced atomically (write, sync, rename, sync the directory);
//!   snapshots are files, served to followers in chunks; the data
//!   directory is locked so that two processes cannot share it. On open,
//!   a torn tail is cut and anything else corrupt is refused with the file
//!   and offset that failed.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod config;
pub mod http;
pub mod kv;
pub mod node;
pub mod storage;
