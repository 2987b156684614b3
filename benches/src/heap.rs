//! The allocator's state, made independent of what ran before.
//!
//! glibc's `malloc` serves a large block (a growing log's vector) with its
//! own `mmap` at first, but freeing such a block raises the threshold to
//! its size (up to 32 MiB): blocks that size are then carved from the
//! heap, where growing one copies it instead of `mremap`-ing it. So a
//! workload's cost depends on what was freed before it, and whichever
//! library runs second in a process pays for the first one's teardown
//! (measured: steadfast's W2 at 100k, 1.40M entries per CPU-second first,
//! 1.12M second; raft-rs about the same either way). Fixing the threshold
//! at glibc's initial 128 KiB switches that adjustment off, for both
//! libraries alike.

/// glibc's initial `mmap` threshold.
pub const MMAP_THRESHOLD: i32 = 128 * 1024;

/// Fix glibc's `mmap` threshold at [`MMAP_THRESHOLD`] (switching off its
/// dynamic adjustment). Returns false where that is not possible (another
/// C library), where nothing is changed.
#[allow(unsafe_code)]
pub fn fix_mmap_threshold() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: `mallopt` only sets an allocator parameter; it is called
        // before the measurements, on the only thread.
        unsafe { libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1 }
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        false
    }
}
