//! The node's clock offset: added to its clock, changeable while it runs
//! (fault testing of leases: a clock that jumps or runs slow).

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

/// Milliseconds added to a node's clock, shared between the node thread
/// (which reads it at every input) and whoever may change it.
#[derive(Clone, Debug, Default)]
pub struct ClockOffset(Arc<AtomicI64>);

impl ClockOffset {
    /// An offset of `ms` milliseconds.
    pub fn new(ms: i64) -> ClockOffset {
        ClockOffset(Arc::new(AtomicI64::new(ms)))
    }

    /// The offset now, in milliseconds.
    pub fn ms(&self) -> i64 {
        self.0.load(Ordering::Relaxed)
    }

    /// Change the offset to `ms` milliseconds. The core never sees its
    /// clock go back (it keeps the latest time it was given), so a smaller
    /// offset makes the clock stand still until real time catches up.
    pub fn set(&self, ms: i64) {
        self.0.store(ms, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::ClockOffset;

    #[test]
    fn clones_share_the_offset() {
        let offset = ClockOffset::new(-5);
        let seen_by_the_node = offset.clone();
        offset.set(250);
        assert_eq!(seen_by_the_node.ms(), 250);
    }
}
