//! The core is sans-io: no sockets, files, threads, clocks or global
//! randomness anywhere in `protocol/src` outside the host-side `sync` module
//! (whose whole purpose is threads, and which is loom-checked).

use std::path::Path;

const BANNED: &[&str] = &[
    "std::net",
    "std::fs",
    "std::thread",
    "Instant::now",
    "SystemTime",
    "tokio",
    "thread_rng",
    "rand::random",
    "std::process",
    "std::env",
];

fn scan(dir: &Path, hits: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).expect("readable source dir") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n == "sync") {
                continue;
            }
            scan(&path, hits);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).expect("utf-8 source");
            for (n, line) in text.lines().enumerate() {
                for banned in BANNED {
                    if line.contains(banned) && !line.trim_start().starts_with("//") {
                        hits.push(format!("{}:{}: {banned}", path.display(), n + 1));
                    }
                }
            }
        }
    }
}

#[test]
fn the_protocol_core_performs_no_io_and_reads_no_clock() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../protocol/src");
    let mut hits = Vec::new();
    scan(&src, &mut hits);
    assert!(
        hits.is_empty(),
        "banned APIs in the core:\n{}",
        hits.join("\n")
    );
}

#[test]
fn the_protocol_crate_forbids_unsafe_code() {
    let lib = Path::new(env!("CARGO_MANIFEST_DIR")).join("../protocol/src/lib.rs");
    let text = std::fs::read_to_string(lib).unwrap();
    assert!(text.contains("#![forbid(unsafe_code)]"));
}
