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
//! - [`transport`]: TCP between peers. One connection per pair of nodes
//!   (the smaller id dials, redialing with backoff), opened with a
//!   handshake that refuses nodes of another cluster and strangers, then
//!   carrying the core's envelopes in length-delimited frames both ways;
//!   each peer has a bounded outgoing queue, and sending never blocks.
//! - [`kv`]: the replicated state machine: keys and values, each client's
//!   last sequence number (a retried write applies once), the directory of
//!   node addresses, the membership at the applied point.
//! - [`node`]: one thread owning the replica, its storage and the state
//!   machine, performing the core's outputs in order with one sync per
//!   batch of appends (group commit), serving the four read modes.
//! - [`http`]: the client API (HTTP/JSON) and Prometheus metrics.
//! - [`config`]: the `run` flags and the optional TOML file.
//! - [`trace`]: recording every call into the replica (`--trace-dir`),
//!   replaying a recording through a fresh replica and comparing, and
//!   merging a run's recordings into one causal order.
//! - [`loadgen`]: the load generator behind `bench`: closed-loop clients
//!   against a steadfast or an etcd cluster, latencies in HDR histograms.
//!
//! The binary (`steadfast-server run`, `steadfast-server cluster`) wires
//! them together.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

#[cfg(feature = "server")]
pub mod cluster;
#[cfg(feature = "server")]
pub mod config;
pub mod fuzzing;
#[cfg(feature = "server")]
pub mod http;
pub mod kv;
#[cfg(feature = "server")]
pub mod loadgen;
#[cfg(feature = "server")]
pub mod node;
#[cfg(feature = "server")]
pub mod run;
pub mod storage;
pub mod trace;
#[cfg(feature = "server")]
pub mod transport;
