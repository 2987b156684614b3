//! Side-by-side benchmarks of the steadfast core and tikv raft-rs.
//!
//! Both libraries run the same workloads in one process: three voters in
//! memory, storage durable at once, 16-byte payloads, and the same FIFO
//! delivery in rounds (every message queued is delivered in order, then
//! every node drains its outputs once, which is where both libraries batch).
//! No clock runs: neither library ticks, so no heartbeat or election
//! interferes with the measurement.
//!
//! - [`workload`]: W1 (one proposal at a time until applied on the leader),
//!   W2 (batches of 64), each optionally compacting every 1,024 entries;
//! - [`steadfast_cluster`] and [`raft_cluster`]: the two hosts;
//! - [`wal`]: the steadfast host's durable log, records in a byte buffer;
//! - [`codec`]: W4, encode and decode of a 64-entry append;
//! - [`cpu`]: the CPU time of the calling thread;
//! - [`heap`]: glibc's `mmap` threshold, fixed so that no run inherits
//!   another's allocator state.
//!
//! The comparison binary (`compare`) adds a counting allocator; the
//! criterion benches under `benches/` time the same code paths.

pub mod codec;
pub mod cpu;
pub mod heap;
pub mod raft_cluster;
pub mod steadfast_cluster;
pub mod wal;
pub mod workload;

/// The payload every proposal carries (16 bytes).
pub const PAYLOAD: [u8; 16] = *b"steadfast-bench!";
