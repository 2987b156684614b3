//! The side-by-side comparison: every workload on steadfast and on tikv
//! raft-rs in this one process, printed as JSON lines.
//!
//! ```text
//! cargo run --release -p steadfast-bench --bin compare -- --n 200000
//! ```
//!
//! For each workload and library, one line with the entries committed and
//! applied per CPU-second of this thread and the allocations per entry
//! (counted by this binary's global allocator); then one line with the
//! ratio steadfast / raft-rs of the two figures taken in this run.
//! `--only W1` runs one workload (the scaling table runs W1 alone);
//! `--lib steadfast` (or `raft-rs`) runs one library, for a profiler.

use serde_json::json;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use steadfast_bench::codec::{
    raft_append, raft_round_trip, steadfast_append, steadfast_round_trip, W4_ENTRIES,
};
use steadfast_bench::cpu::thread_cpu_time;
use steadfast_bench::raft_cluster::RaftCluster;
use steadfast_bench::steadfast_cluster::SteadfastCluster;
use steadfast_bench::workload::{Cluster, Workload, ALL};

/// Counts every allocation (and reallocation) the process makes.
struct CountingAllocator;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

#[allow(unsafe_code)]
// SAFETY: every call is forwarded unchanged to the system allocator.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller's contract is the system allocator's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: as above.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

/// What one library did on one workload.
#[derive(Clone, Copy, Debug)]
struct Measurement {
    entries: u64,
    cpu: Duration,
    allocations: u64,
}

impl Measurement {
    fn entries_per_cpu_s(&self) -> f64 {
        self.entries as f64 / self.cpu.as_secs_f64().max(1e-9)
    }

    fn allocs_per_entry(&self) -> f64 {
        self.allocations as f64 / self.entries.max(1) as f64
    }
}

/// Measure `work`, which handles `entries` entries, on this thread.
fn measure(entries: u64, work: impl FnOnce()) -> Measurement {
    let allocations = ALLOCATIONS.load(Ordering::Relaxed);
    let start = thread_cpu_time();
    work();
    let cpu = thread_cpu_time().saturating_sub(start);
    Measurement {
        entries,
        cpu,
        allocations: ALLOCATIONS.load(Ordering::Relaxed) - allocations,
    }
}

/// Run `workload` for `n` entries on a freshly elected cluster (set-up not
/// measured); check every proposal was applied.
fn run_cluster<C: Cluster>(mut cluster: C, workload: Workload, n: u64) -> Measurement {
    let before = cluster.applied_commands();
    let m = measure(n, || workload.run(&mut cluster, n));
    assert_eq!(
        cluster.applied_commands() - before,
        n,
        "{}: not every proposal was applied",
        workload.name
    );
    // The cluster (and its log) is dropped outside the measurement.
    drop(cluster);
    m
}

/// One line per library measured, then (when both were) the ratios.
fn print(workload: &str, n: u64, ours: Option<Measurement>, theirs: Option<Measurement>) {
    for (lib, m) in [("steadfast", ours), ("raft-rs", theirs)] {
        let Some(m) = m else {
            continue;
        };
        println!(
            "{}",
            json!({
                "workload": workload,
                "lib": lib,
                "n": n,
                "entries_per_cpu_s": m.entries_per_cpu_s().round(),
                "allocs_per_entry": (m.allocs_per_entry() * 100.0).round() / 100.0,
                "cpu_s": (m.cpu.as_secs_f64() * 1e4).round() / 1e4,
            })
        );
    }
    let (Some(ours), Some(theirs)) = (ours, theirs) else {
        return;
    };
    println!(
        "{}",
        json!({
            "workload": workload,
            "n": n,
            "ratio": (ours.entries_per_cpu_s() / theirs.entries_per_cpu_s().max(1e-9) * 100.0).round() / 100.0,
            "allocs_ratio": (ours.allocs_per_entry() / theirs.allocs_per_entry().max(1e-9) * 100.0).round() / 100.0,
        })
    );
}

struct Args {
    n: u64,
    only: Option<String>,
    /// Run one library only (for profiling): `steadfast` or `raft-rs`.
    lib: Option<String>,
}

fn parse_args() -> Args {
    let mut args = Args {
        n: 200_000,
        only: None,
        lib: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--n" => {
                let value = it.next().unwrap_or_default().replace('_', "");
                args.n = value
                    .parse()
                    .unwrap_or_else(|_| usage(&format!("--n needs a count, got {value:?}")));
            }
            "--only" => args.only = it.next(),
            "--lib" => {
                let lib = it.next().unwrap_or_default();
                if lib != "steadfast" && lib != "raft-rs" {
                    usage(&format!("--lib takes steadfast or raft-rs, got {lib:?}"));
                }
                args.lib = Some(lib);
            }
            "-h" | "--help" => usage(""),
            other => usage(&format!("unknown argument {other:?}")),
        }
    }
    args
}

fn usage(problem: &str) -> ! {
    if !problem.is_empty() {
        eprintln!("compare: {problem}");
    }
    eprintln!("usage: compare [--n ENTRIES] [--only W1|W2|W1c|W2c|W4] [--lib steadfast|raft-rs]");
    std::process::exit(2);
}

fn main() {
    let args = parse_args();
    let wanted = |name: &str| args.only.as_deref().is_none_or(|only| only == name);
    let ours = args.lib.as_deref().is_none_or(|lib| lib == "steadfast");
    let theirs = args.lib.as_deref().is_none_or(|lib| lib == "raft-rs");
    // Warm-up, unmeasured: page in code and allocator arenas for both.
    let warm = args.n.clamp(1, 2_000);
    let _ = run_cluster(SteadfastCluster::new(), ALL[0], warm);
    let _ = run_cluster(RaftCluster::new(), ALL[0], warm);
    for workload in ALL {
        if !wanted(workload.name) {
            continue;
        }
        let a = ours.then(|| run_cluster(SteadfastCluster::new(), workload, args.n));
        let b = theirs.then(|| run_cluster(RaftCluster::new(), workload, args.n));
        print(workload.name, args.n, a, b);
    }
    if wanted("W4") {
        let iterations = (args.n / W4_ENTRIES).max(1);
        let entries = iterations * W4_ENTRIES;
        let envelope = steadfast_append();
        let a = ours.then(|| {
            measure(entries, || {
                for _ in 0..iterations {
                    std::hint::black_box(steadfast_round_trip(std::hint::black_box(&envelope)));
                }
            })
        });
        let message = raft_append();
        let b = theirs.then(|| {
            measure(entries, || {
                for _ in 0..iterations {
                    std::hint::black_box(raft_round_trip(std::hint::black_box(&message)));
                }
            })
        });
        print("W4", entries, a, b);
    }
}
