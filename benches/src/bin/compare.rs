//! The side-by-side comparison of steadfast and tikv raft-rs, printed as
//! JSON lines (one object per line).
//!
//! ```text
//! cargo run --release -p steadfast-bench --bin compare -- --n 200000 --reps 3
//! cargo run --release -p steadfast-bench --bin compare -- --flatness --reps 5
//! ```
//!
//! Every workload runs in a fresh child process (this binary re-executed
//! with the internal `--child` flag), so that no workload inherits the heap
//! and page state another left behind. Inside the child both libraries run,
//! one after the other, so each ratio comes from one process; repetitions
//! (`--reps R`, default 3) alternate which library runs first. The parent
//! prints one line per library and repetition, one `ratio` line per
//! repetition, then one `summary` line per workload: the median ratio, its
//! minimum and maximum over the repetitions, and the median entries per
//! CPU-second and allocations per entry of each library.
//!
//! `--flatness` runs W1 on steadfast alone at 10,000 and at 1,000,000
//! entries, interleaved (each run in its own process), and reports the
//! median ratio of the per-entry CPU cost at 1M to that at 10k.
//!
//! Each child fixes glibc's `mmap` threshold first (see
//! `steadfast_bench::heap`), so that neither library's cost depends on
//! what the other freed before it; `--default-heap` leaves it dynamic.
//!
//! `--only W1` runs one workload; `--lib steadfast` (or `raft-rs`) one
//! library, for a profiler (`perf record` follows the child processes).

use serde_json::{json, Value};
use std::alloc::{GlobalAlloc, Layout, System};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use steadfast_bench::codec::{
    raft_append, raft_round_trip, steadfast_append, steadfast_round_trip, W4_ENTRIES,
};
use steadfast_bench::cpu::thread_cpu_time;
use steadfast_bench::heap::fix_mmap_threshold;
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

/// The two libraries, by the names printed.
const LIBS: [&str; 2] = ["steadfast", "raft-rs"];

/// The workloads `compare` knows, in the order it runs them.
const WORKLOADS: [&str; 5] = ["W1", "W2", "W1c", "W2c", "W4"];

/// One library's run of one workload, in the child process.
fn run_one(lib: &str, workload: &str, n: u64) -> Measurement {
    if let Some(w) = ALL.iter().find(|w| w.name == workload) {
        return match lib {
            "steadfast" => run_cluster(SteadfastCluster::new(), *w, n),
            _ => run_cluster(RaftCluster::new(), *w, n),
        };
    }
    // W4: encode and decode a 64-entry append, n entries' worth.
    let iterations = (n / W4_ENTRIES).max(1);
    let entries = iterations * W4_ENTRIES;
    if lib == "steadfast" {
        let envelope = steadfast_append();
        measure(entries, || {
            for _ in 0..iterations {
                std::hint::black_box(steadfast_round_trip(std::hint::black_box(&envelope)));
            }
        })
    } else {
        let message = raft_append();
        measure(entries, || {
            for _ in 0..iterations {
                std::hint::black_box(raft_round_trip(std::hint::black_box(&message)));
            }
        })
    }
}

/// The child: warm both libraries up on a small run of `workload`
/// (unmeasured: it pages in code and allocator arenas), then measure each
/// in `libs`' order, one line per library.
fn child(workload: &str, n: u64, libs: &[String], default_heap: bool) {
    if !default_heap && !fix_mmap_threshold() {
        eprintln!("compare: could not fix the mmap threshold; the heap is glibc's default");
    }
    let warm = n.clamp(1, 2_000);
    for lib in libs {
        let _ = run_one(lib, workload, warm);
    }
    for lib in libs {
        let m = run_one(lib, workload, n);
        println!(
            "{}",
            json!({
                "lib": lib,
                "entries": m.entries,
                "cpu_ns": u64::try_from(m.cpu.as_nanos()).unwrap_or(u64::MAX),
                "allocations": m.allocations,
            })
        );
    }
}

/// Run one child process: `workload` at `n` entries on `libs`, in order.
fn spawn(args: &Args, workload: &str, n: u64, libs: &[&str]) -> Vec<(String, Measurement)> {
    let exe = std::env::current_exe().unwrap_or_else(|e| panic!("compare: own path: {e}"));
    let mut command = Command::new(exe);
    command
        .args(["--child", workload, "--n", &n.to_string(), "--lib"])
        .arg(libs.join(","));
    if args.default_heap {
        command.arg("--default-heap");
    }
    let output = command
        .stderr(std::process::Stdio::inherit())
        .output()
        .unwrap_or_else(|e| panic!("compare: could not run a child: {e}"));
    assert!(
        output.status.success(),
        "compare: the child for {workload} failed: {}",
        output.status
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .map(|v| {
            let num = |key: &str| v[key].as_u64().unwrap_or(0);
            let m = Measurement {
                entries: num("entries"),
                cpu: Duration::from_nanos(num("cpu_ns")),
                allocations: num("allocations"),
            };
            (v["lib"].as_str().unwrap_or_default().to_string(), m)
        })
        .collect()
}

/// The median of `values` (the mean of the middle two for an even count).
fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        len if len % 2 == 1 => v[len / 2],
        len => (v[len / 2 - 1] + v[len / 2]) / 2.0,
    }
}

fn min_max(values: &[f64]) -> (f64, f64) {
    values
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &x| {
            (lo.min(x), hi.max(x))
        })
}

/// Rounded to `places` decimals, for printing.
fn round(x: f64, places: i32) -> f64 {
    let scale = 10f64.powi(places);
    (x * scale).round() / scale
}

/// What the repetitions of one workload gave.
#[derive(Default)]
struct Tally {
    /// Entries per CPU-second and allocations per entry, per library.
    rates: [Vec<f64>; 2],
    allocs: [Vec<f64>; 2],
    ratios: Vec<f64>,
    n: u64,
}

/// `--reps` repetitions of every wanted workload, each in its own child,
/// alternating which library runs first; then one summary per workload.
fn compare(args: &Args) {
    let libs: Vec<&str> = LIBS
        .into_iter()
        .filter(|lib| args.lib.as_deref().is_none_or(|only| only == *lib))
        .collect();
    let workloads: Vec<&str> = WORKLOADS
        .into_iter()
        .filter(|w| args.only.as_deref().is_none_or(|only| only == *w))
        .collect();
    let mut tallies: Vec<Tally> = workloads.iter().map(|_| Tally::default()).collect();
    for rep in 0..args.reps {
        let mut order = libs.clone();
        if rep % 2 == 1 {
            order.reverse();
        }
        for (workload, tally) in workloads.iter().zip(&mut tallies) {
            let results = spawn(args, workload, args.n, &order);
            let mut rates = [None, None];
            for (lib, m) in &results {
                let i = usize::from(lib != "steadfast");
                tally.n = m.entries;
                tally.rates[i].push(m.entries_per_cpu_s());
                tally.allocs[i].push(m.allocs_per_entry());
                rates[i] = Some(m.entries_per_cpu_s());
                println!(
                    "{}",
                    json!({
                        "workload": workload,
                        "lib": lib,
                        "n": m.entries,
                        "rep": rep,
                        "first": order[0],
                        "entries_per_cpu_s": m.entries_per_cpu_s().round(),
                        "allocs_per_entry": round(m.allocs_per_entry(), 2),
                        "cpu_s": round(m.cpu.as_secs_f64(), 4),
                    })
                );
            }
            if let [Some(ours), Some(theirs)] = rates {
                let ratio = ours / theirs.max(1e-9);
                tally.ratios.push(ratio);
                println!(
                    "{}",
                    json!({
                        "workload": workload, "n": tally.n, "rep": rep,
                        "first": order[0], "ratio": round(ratio, 2),
                    })
                );
            }
        }
    }
    for (workload, tally) in workloads.iter().zip(&tallies) {
        summarize(workload, tally);
    }
}

/// The summary line of one workload (and a readable line on stderr).
fn summarize(workload: &str, tally: &Tally) {
    let rate = |i: usize| (!tally.rates[i].is_empty()).then(|| median(&tally.rates[i]).round());
    let allocs =
        |i: usize| (!tally.allocs[i].is_empty()).then(|| round(median(&tally.allocs[i]), 2));
    let mut line = json!({
        "summary": true,
        "workload": workload,
        "n": tally.n,
        "reps": tally.rates[0].len().max(tally.rates[1].len()),
        "steadfast_entries_per_cpu_s": rate(0),
        "raft_rs_entries_per_cpu_s": rate(1),
        "steadfast_allocs_per_entry": allocs(0),
        "raft_rs_allocs_per_entry": allocs(1),
    });
    let mut readable = format!(
        "{workload:>4} n={:<8} steadfast {:>9} raft-rs {:>9}",
        tally.n,
        rate(0).map_or("-".into(), |r| format!("{:.0}k", r / 1e3)),
        rate(1).map_or("-".into(), |r| format!("{:.0}k", r / 1e3)),
    );
    if !tally.ratios.is_empty() {
        let (lo, hi) = min_max(&tally.ratios);
        let ratio = median(&tally.ratios);
        line["ratio"] = json!(round(ratio, 2));
        line["ratio_min"] = json!(round(lo, 2));
        line["ratio_max"] = json!(round(hi, 2));
        line["allocs_ratio"] = json!(round(
            median(&tally.allocs[0]) / median(&tally.allocs[1]).max(1e-9),
            2
        ));
        readable += &format!(" ratio {ratio:.2}x ({lo:.2}..{hi:.2})");
    }
    if let (Some(a), Some(b)) = (allocs(0), allocs(1)) {
        readable += &format!(" allocs/entry {a} / {b}");
    }
    println!("{line}");
    eprintln!("{readable}");
}

/// The sizes `--flatness` compares.
const FLAT_SMALL: u64 = 10_000;
const FLAT_LARGE: u64 = 1_000_000;

/// Runs at the small size per repetition (each in its own process): a
/// 10k run lasts ~10 ms, a scheduler tick or two, so one preemption by the
/// machine's other work can double it; the median of these is the
/// repetition's small cost.
const FLAT_SMALL_RUNS: usize = 5;

/// Steadfast's W1 CPU nanoseconds per entry at `n`, in a fresh child.
fn w1_cost(args: &Args, n: u64, rep: u64) -> f64 {
    let (_, m) = spawn(args, "W1", n, &["steadfast"])
        .pop()
        .unwrap_or_else(|| panic!("compare: the W1 child printed nothing"));
    let ns = m.cpu.as_secs_f64() * 1e9 / m.entries.max(1) as f64;
    println!(
        "{}",
        json!({
            "flatness": "W1", "lib": "steadfast", "n": n, "rep": rep,
            "ns_per_entry": round(ns, 1),
        })
    );
    ns
}

/// W1 on steadfast alone at 10k and at 1M entries, interleaved (every run
/// in its own child; which size goes first alternates), `--reps`
/// repetitions: per repetition, one 1M run against the median of
/// [`FLAT_SMALL_RUNS`] 10k runs; reported, the median of the per-repetition
/// ratios of per-entry CPU cost (large over small) and their range.
fn flatness(args: &Args) {
    let mut costs = [Vec::new(), Vec::new()];
    let mut ratios = Vec::new();
    for rep in 0..args.reps {
        let small_first = rep % 2 == 0;
        let large_before = if small_first {
            None
        } else {
            Some(w1_cost(args, FLAT_LARGE, rep))
        };
        let small: Vec<f64> = (0..FLAT_SMALL_RUNS)
            .map(|_| w1_cost(args, FLAT_SMALL, rep))
            .collect();
        let small = median(&small);
        let large = large_before.unwrap_or_else(|| w1_cost(args, FLAT_LARGE, rep));
        costs[0].push(small);
        costs[1].push(large);
        ratios.push(large / small.max(1e-9));
    }
    let (lo, hi) = min_max(&ratios);
    let ratio = median(&ratios);
    println!(
        "{}",
        json!({
            "summary": true, "flatness": "W1", "lib": "steadfast",
            "small_n": FLAT_SMALL, "large_n": FLAT_LARGE, "reps": args.reps,
            "small_runs_per_rep": FLAT_SMALL_RUNS,
            "small_ns_per_entry": round(median(&costs[0]), 1),
            "large_ns_per_entry": round(median(&costs[1]), 1),
            "ratio": round(ratio, 2), "ratio_min": round(lo, 2), "ratio_max": round(hi, 2),
        })
    );
    eprintln!(
        "W1 flatness: {:.0} ns/entry at 10k, {:.0} at 1M: ratio {ratio:.2} ({lo:.2}..{hi:.2})",
        median(&costs[0]),
        median(&costs[1]),
    );
}

struct Args {
    n: u64,
    reps: u64,
    only: Option<String>,
    /// Run one library only (for profiling): `steadfast` or `raft-rs`. In
    /// a child: the libraries to run, in order, comma-separated.
    lib: Option<String>,
    flatness: bool,
    /// Leave glibc's `mmap` threshold dynamic (see `steadfast_bench::heap`).
    default_heap: bool,
    /// Internal: run this workload in this process (the parent's child).
    child: Option<String>,
}

fn parse_args() -> Args {
    let mut args = Args {
        n: 200_000,
        reps: 3,
        only: None,
        lib: None,
        flatness: false,
        default_heap: false,
        child: None,
    };
    let count = |value: Option<String>, flag: &str| -> u64 {
        let value = value.unwrap_or_default().replace('_', "");
        value
            .parse()
            .unwrap_or_else(|_| usage(&format!("{flag} needs a count, got {value:?}")))
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--n" => args.n = count(it.next(), "--n"),
            "--reps" => args.reps = count(it.next(), "--reps").max(1),
            "--only" => {
                let only = it.next().unwrap_or_default();
                if !WORKLOADS.contains(&only.as_str()) {
                    usage(&format!("--only takes one of {WORKLOADS:?}, got {only:?}"));
                }
                args.only = Some(only);
            }
            "--lib" => args.lib = it.next(),
            "--flatness" => args.flatness = true,
            "--default-heap" => args.default_heap = true,
            "--child" => args.child = it.next(),
            "-h" | "--help" => usage(""),
            other => usage(&format!("unknown argument {other:?}")),
        }
    }
    if let Some(workload) = &args.child {
        if !WORKLOADS.contains(&workload.as_str()) {
            usage(&format!(
                "--child takes one of {WORKLOADS:?}, got {workload:?}"
            ));
        }
    }
    let libs_ok = |libs: &str| libs.split(',').all(|lib| LIBS.contains(&lib));
    match &args.lib {
        Some(lib) if args.child.is_some() && !libs_ok(lib) => usage("bad --lib in a child"),
        Some(lib) if args.child.is_none() && !LIBS.contains(&lib.as_str()) => {
            usage(&format!("--lib takes steadfast or raft-rs, got {lib:?}"))
        }
        _ => {}
    }
    args
}

fn usage(problem: &str) -> ! {
    if !problem.is_empty() {
        eprintln!("compare: {problem}");
    }
    eprintln!(
        "usage: compare [--n ENTRIES] [--reps R] [--only W1|W2|W1c|W2c|W4] [--lib steadfast|raft-rs] [--default-heap]\n       compare --flatness [--reps R] [--default-heap]"
    );
    std::process::exit(2);
}

fn main() {
    let args = parse_args();
    if let Some(workload) = &args.child {
        let libs: Vec<String> = args
            .lib
            .as_deref()
            .unwrap_or("steadfast,raft-rs")
            .split(',')
            .map(String::from)
            .collect();
        child(workload, args.n, &libs, args.default_heap);
    } else if args.flatness {
        flatness(&args);
    } else {
        compare(&args);
    }
}

#[cfg(test)]
mod tests {
    use super::{median, min_max};

    #[test]
    fn medians_and_ranges() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        assert!(median(&[]).is_nan());
        assert_eq!(min_max(&[2.0, 0.5, 1.5]), (0.5, 2.0));
    }
}
